"""Fuzz regression case (seed 78609).

It showed:

    internal crash [hvp]: TypeError at runtime/indexing.py:index_adjoint: float() argument must be a string or a real number, not '_'
    TypeError: float() argument must be a string or a real number, not '_Zero'
        at runtime/indexing.py:index_adjoint: z[idx] = g

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper1(a, b, c=0.5):
    return a[2]

def f(x):
    t1 = helper1(x * x, 1.0)
    if 0.0:
        y2[0.5] = 0.5
    for i in s2sad.checkpointed(range(2)):
        pass
    c = 1
    y2 = (t1, 0.5)
    c /= y2[1]
    acc = c
    w = acc
    return w


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (5,))],
 'wrt': 0,
 'seed': 78609,
 'gen_seed': 78609000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.26151202615200264, -0.946092382411841, -0.49836225079830376])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [hvp]: TypeError at runtime/indexing.py:index_adjoint: float() argument must be a string or a real number, not '_'"
