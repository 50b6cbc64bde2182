"""Fuzz regression case (seed 900090).

It showed:

    wrong gradient [grad]
    d/dx along a random direction: s2sad -0.4758266732, finite differences 0.4279674668

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    e1, e2 = (x, x)
    t3 = e2
    e3, e3 = t3
    b = np.sum(e3)
    return b


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 1), (3, 1))],
 'wrt': 0,
 'seed': 900090,
 'gen_seed': 900090000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.3846090950000064], [0.7189642759578236]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
