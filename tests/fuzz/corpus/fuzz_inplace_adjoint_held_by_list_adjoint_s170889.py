"""Fuzz regression case (seed 170889).

It showed:

    wrong gradient [repeat]
    the second call differs from the first: part 1: max difference 1 (scale 0.931)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    u = [x, x]
    acc = 0.5
    acc += x[0]
    y2 = acc
    z = u[1] + x
    return y2 + np.mean(np.sin(z))


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (5,))],
 'wrt': 'x',
 'seed': 170889,
 'gen_seed': 170889000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.8546988430491476, 0.6070042419903356, -0.37433854592373933, -0.38272744905123873])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [repeat]'
