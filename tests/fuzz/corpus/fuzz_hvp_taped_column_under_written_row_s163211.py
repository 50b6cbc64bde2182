"""Fuzz regression case (seed 163211).

It showed:

    wrong gradient [hvp]
    w.H.v along the difference from the gradient differences: hvp gives 0.424506984, second differences of f -0.2721885503

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    t1 = x
    for t2 in t1:
        t1 = t1 + np.transpose(t1) @ t1[:, 1]
    for i in range(4):
        t1 *= x
        t2[i] = t1[0, 3]
    out = np.sum(t2)
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 4), (3, 5))],
 'wrt': 'x',
 'seed': 163211,
 'gen_seed': 163211000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.621391298186482, 0.4744155487469575, 0.7209587021577077, -0.7175376463187741], [-0.5843702560506869, -0.6836502707216271, 0.351628950455446, 0.4209468885152912]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [hvp]'
