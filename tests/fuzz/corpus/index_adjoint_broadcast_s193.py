"""Fuzz regression case (seed 193).

It showed:

    internal crash [grad]: ValueError at runtime/indexing.py:index_adjoint: could not broadcast input array from shape (shape) into shape (shape)
    ValueError: could not broadcast input array from shape (2,) into shape (1,1)
        at runtime/indexing.py:index_adjoint: z[idx] = g

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x, z):
    for i in range(1):
        a = z.clip(0.0, 1.0)
        p = a[::2]
    r = {'w': x, 'b': x}
    a = r['w']
    parts1 = []
    parts1.append(p)
    t1 = sum(parts1)
    return np.sum(t1)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 1), (3, 1)), ('z', 'array', (4,), (6,))],
 'wrt': (0, 1),
 'seed': 193,
 'gen_seed': 193000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.7400799376877376], [0.7410547093760653]]), np.array([-0.706916367343112, -0.9834128368154635, 0.9472724033385207, 0.3142926770137692])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [grad]: ValueError at runtime/indexing.py:index_adjoint: could not broadcast input array from shape (shape) into shape (shape)'
