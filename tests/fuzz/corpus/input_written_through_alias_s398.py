"""Fuzz regression case (seed 398).

It showed:

    wrong gradient [shape]
    d/dx along a random direction: s2sad -0.8510196085, finite differences -1.478788086

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x):
    a = x
    a[1] = 0.5
    t2 = x.reshape(-1)
    return t2.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 4), (3, 5))],
 'wrt': 0,
 'seed': 398,
 'gen_seed': 398000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.6744290798828101, -0.7937243348542902, 0.8843210900440621, 0.9649966227455107], [-0.8341005126086174, 0.38946656429257076, 0.8592213158282249, 0.2172996947974924]])]
FUZZ_ALT_ARGS = [np.array([[-0.8639188802638444, 0.7804122497774877, 0.8975363147430402, -0.3641610592550433, 0.9050223459098019], [-0.8631614738515527, 0.9128428612275468, 0.9051126170671642, -0.7598368189779285, -0.2662443980192539], [0.5384324206106055, 0.6573309650513239, -0.4753062263733802, 0.4454308946251194, -0.45840601681345916]])]
FUZZ_EXPECT = 'wrong gradient [shape]'
