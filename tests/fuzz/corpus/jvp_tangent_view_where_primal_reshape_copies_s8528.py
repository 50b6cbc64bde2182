"""Fuzz regression case (seed 8528).

It showed:

    wrong gradient [jvp]
    J.t = 1.598147446, finite differences 0.7990737228, <grad, t> = 0.7990737228

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    x = np.transpose(x)
    a = x.reshape(-1)
    for i, w in enumerate(a):
        x += x
    return w


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 4), (3, 5))],
 'wrt': 'x',
 'seed': 8528,
 'gen_seed': 8528000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.6361542668679628, -0.3671653734697058, 0.8801306305105685, 0.6942015036728459], [-0.6203257034089448, 0.20113745395241614, 0.5652040244882868, -0.9927928564773492]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [jvp]'
