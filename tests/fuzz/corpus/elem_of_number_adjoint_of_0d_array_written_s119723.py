"""Fuzz regression case (seed 119723).

It showed:

    internal crash [grad]: TypeError at runtime/core.py:elem: '_' object is not subscriptable
    TypeError: 'float' object is not subscriptable
        at runtime/core.py:elem: v = g[i] if g is not ZERO else ZERO

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    t1 = x
    c = t1
    t2 = (t1, c, t1)
    e1, e2, e3 = t2
    e2 += 1
    if e3:
        pass
    tmp = e2
    return tmp


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (), ())],
 'wrt': 0,
 'seed': 119723,
 'gen_seed': 119723000,
 'global_change': None}
FUZZ_ARGS = [np.array(-0.77140822319043)]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at runtime/core.py:elem: '_' object is not subscriptable"
