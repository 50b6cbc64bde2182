"""Fuzz regression case (seed 95968).

It showed:

    wrong gradient [jvp]
    J.t = 0.9843343575, finite differences 0, <grad, t> = 0

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    w, q = next(zip(y, y))
    acc = y
    p = acc
    h = np.transpose(p) - w
    for i in range(1):
        tmp = h if acc[2] else 1
        p *= x
    return tmp.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,)), ('y', 'array', (3,), (4,))],
 'wrt': 0,
 'seed': 95968,
 'gen_seed': 95968000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.4005206548806759, 0.31217795110909724, -0.8690643952978034]), np.array([-0.31444995331026915, 0.7912858898734219, 0.87915437350034])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [jvp]'
