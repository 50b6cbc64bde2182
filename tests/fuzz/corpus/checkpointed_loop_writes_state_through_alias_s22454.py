"""Fuzz regression case (seed 22454).

It showed:

    wrong gradient [grad]
    d/dx along a random direction: s2sad 0.7867888484, finite differences 0.6945623229

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    for i in s2sad.checkpointed(range(4)):
        a = x
        a[[0, 1]] = np.sin(a)
    acc = x
    return np.sum(acc)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 1), (3, 1))],
 'wrt': 0,
 'seed': 22454,
 'gen_seed': 22454000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.5026371988783996], [0.7216716885704837]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
