"""Fuzz regression case (seed 72632).

It showed:

    wrong gradient [grad]
    d/dx along a random direction: s2sad 0.4920145045, finite differences 0.4917339704

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper1(a, b, c=0.3):
    return a

def f(x):
    t1 = 2.0 * np.eye(len(x)) + np.outer(np.min(x), np.min(x * x.T, axis=1))
    q = np.linalg.slogdet(t1)
    c = np.tanh(q[1])
    t1 = helper1(b=c, a=x)
    return np.sum(t1) + c


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4, 1), (5, 1))],
 'wrt': 0,
 'seed': 72632,
 'gen_seed': 72632000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.42304873894686007], [-0.41255288497047654], [0.9611370099545191], [0.9609657308533819]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
