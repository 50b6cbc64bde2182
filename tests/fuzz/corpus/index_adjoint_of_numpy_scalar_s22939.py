"""Fuzz regression case (seed 22939).

It showed:

    internal crash [grad]: TypeError at runtime/indexing.py:index_adjoint: '_' object does not support item assignment
    TypeError: 'float' object does not support item assignment
        at runtime/indexing.py:index_adjoint: z[idx] = g

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    acc = np.tanh(x)
    x = acc
    q = x[...]
    tmp = (x, q, x)
    e1, e2, e3 = tmp
    t2 = e1
    return t2


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (), ())],
 'wrt': 0,
 'seed': 22939,
 'gen_seed': 22939000,
 'global_change': None}
FUZZ_ARGS = [np.array(0.7390077332270086)]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at runtime/indexing.py:index_adjoint: '_' object does not support item assignment"
