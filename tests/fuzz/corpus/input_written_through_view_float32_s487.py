"""Fuzz regression case (seed 487).

It showed:

    wrong gradient [float32]
    float32 inputs: directional derivative 0.8403286, finite differences (float64) 0.5722909

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(y):
    i = 0
    c = y
    v = c[:]
    z = v[...]
    v[i] = 0.5
    return np.sum(z)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('y', 'array', (4,), (5,))],
 'wrt': 0,
 'seed': 487,
 'gen_seed': 487000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.42605058796940015, -0.8857577187043895, -0.5272370728354425, -0.5399254830896059])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [float32]'
