"""Fuzz regression case (seed 194).

It showed:

    wrong gradient [grad]
    d/dx along a random direction: s2sad -1.236710103, finite differences 1.236710103

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x):
    r = x * (-2.0) ** 2
    for t1 in r:
        pass
    return t1.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (5,))],
 'wrt': 0,
 'seed': 194,
 'gen_seed': 194000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.2735564920308604, 0.9858124109708888, 0.9598719132934912])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
