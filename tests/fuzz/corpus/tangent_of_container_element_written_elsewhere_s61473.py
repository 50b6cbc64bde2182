"""Fuzz regression case (seed 61473).

It showed:

    internal crash [jvp]: TypeError at generated code: '_' object is not subscriptable
    TypeError: '_Zero' object is not subscriptable
        at generated code: _helper22_w_tan = _t2_tan[0]

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper2(a, b, c=0.5):
    w = a[0]
    return w

def f(x, y):
    t1 = y
    t2 = 0.5
    p = np.sum(x[np.newaxis], axis=0)
    v = (t1, p)
    acc = t1

    def inner1(u, scale=1.0):
        p[1] = 0.5
        return x
    c = inner1(acc)
    h = helper2(v[1], t2)
    return h


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (6,)), ('y', 'array', (3, 1), (4, 1))],
 'wrt': 1,
 'seed': 61473,
 'gen_seed': 61473000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.4502224896328053, 0.39050212402855594, -0.6919098835695623, -0.7916507181641479]), np.array([[0.6478326116968433], [-0.590925995825089], [-0.9448748177303676]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [jvp]: TypeError at generated code: '_' object is not subscriptable"
