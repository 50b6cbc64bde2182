"""Fuzz regression case (seed 8535).

It showed:

    wrong gradient [grad]
    d/dy along a random direction: s2sad -0.2368694629, finite differences -0.1184347314

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(y):
    tmp = y
    w = tmp[None]
    for i in range(1):
        w = 0.8 * w
    tmp *= 0.5
    w[0.5 > 0.3] = 0.5
    t3 = tmp
    return np.mean(t3)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('y', 'array', (3, 1), (5, 1))],
 'wrt': 0,
 'seed': 8535,
 'gen_seed': 8535000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.7148408524623802], [0.5440037352500809], [0.6301799533678337]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
