"""Fuzz regression case (seed 295).

It showed:

    wrong dtype/shape [struct]
    gradient of `x` is float, not an ndarray

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x):
    x = 0.5
    return 0.5


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2,), (3,))],
 'wrt': 0,
 'seed': 295,
 'gen_seed': 295000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.2853311253321904, -0.9051113512782996])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong dtype/shape [struct]'
