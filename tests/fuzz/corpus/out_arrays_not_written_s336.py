"""Fuzz regression case (seed 336).

It showed:

    wrong gradient [out]
    df(..., out=arrays): part 1: max difference nan (scale 0)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x, y, z):
    t2 = x
    return np.sum(t2)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (5,)), ('y', 'array', (3,), (5,)), ('z', 'array', (3, 1), (5, 1))],
 'wrt': (0, 1, 2),
 'seed': 336,
 'gen_seed': 336000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.9498988474845653, -0.41679866658421433, -0.5362938569110378]), np.array([0.43030905684030984, 0.44276252145012196, -0.7330754351406144]), np.array([[-0.6832982532755978], [0.975964724322435], [0.4779504762178543]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [out]'
