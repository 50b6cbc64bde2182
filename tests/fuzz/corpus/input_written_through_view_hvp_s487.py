"""Fuzz regression case (seed 487).

It showed:

    wrong gradient [hvp]
    w.H.v along v: hvp gives 0, second differences of f 2

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(y):
    i = 0
    c = y
    tmp = c[None]
    y2 = tmp.copy()
    v = c[:]
    z = v[...]
    v[i] = np.dot(np.transpose(tmp).sum(axis=1), y2[0])
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
FUZZ_EXPECT = 'wrong gradient [hvp]'
