"""Fuzz regression case (seed 411).

It showed:

    wrong value [value]
    value_and_grad gives 0.36450000000000005, f gives 0.5

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x, y):
    a = x.clip(0.5, 0.5)
    for r in a:
        a = 0.9 * a
        y2 = r
    return y2.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (6,)), ('y', 'array', (4,), (6,))],
 'wrt': 1,
 'seed': 411,
 'gen_seed': 411000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.7352447486639944, -0.5015851164805698, 0.9763801187976096, -0.32749820304956145]), np.array([0.8590424886893759, -0.5862295765479161, 0.22774985065580539, -0.7462773123933952])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong value [value]'
