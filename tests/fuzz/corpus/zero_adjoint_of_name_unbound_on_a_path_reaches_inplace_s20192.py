"""Fuzz regression case (seed 20192).

It showed:

    internal crash [grad]: TypeError at generated code: operand '_' does not support ufuncs (__array_ufunc__=None)
    TypeError: operand '_Zero' does not support ufuncs (__array_ufunc__=None)
        at generated code: a_adj = a_adj + _rt.unbroadcast(_inplace1_adj / a, a)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    r = 2.0
    a = y
    if not r:
        q = a
    t1 = y
    a /= a
    for p in t1:
        q = x
    return q.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2,), (3,)), ('y', 'array', (2,), (3,))],
 'wrt': (0, 1),
 'seed': 20192,
 'gen_seed': 20192000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.7213722144901775, -0.8682181250968399]), np.array([-0.6976921950038616, -0.9404704704306299])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at generated code: operand '_' does not support ufuncs (__array_ufunc__=None)"
