"""Fuzz regression case (seed 274).

It showed:

    wrong dtype/shape [float32]
    float32 inputs: gradient of float `s` is ndarray, not a float

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x, s):
    h = x
    w = h
    v = w
    s = v[1]
    y2 = 1
    a = y2
    return a


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (6,)), ('s', 'float', (), ())],
 'wrt': (0, 1),
 'seed': 274,
 'gen_seed': 274000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.48793382719460016, -0.6976933117934854, 0.5303003599984624, 0.4672419873971976]), -0.7290024695922452]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong dtype/shape [float32]'
