"""Fuzz regression case (seed 30848).

It showed:

    internal crash [hvp]: ValueError at runtime/indexing.py:index_adjoint: setting an array element with a sequence.
    ValueError: setting an array element with a sequence.
        at runtime/indexing.py:index_adjoint: z[idx] = g

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, z):
    for i in s2sad.checkpointed(range(3)):
        u = x
    t1 = abs(u)
    for i, t2 in enumerate(u):
        pass
    u = np.sqrt(t1)
    p = t2 - z.reshape(-1) if 0.5 else 0.5[0]
    return np.sum(p)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2,), (3,)), ('z', 'array', (1, 3), (1, 5))],
 'wrt': (0, 1),
 'seed': 30848,
 'gen_seed': 30848000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.4373499356614736, 0.42399479023127085]), np.array([[-0.7314604628542158, -0.9044732709621699, 0.8923889544931463]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [hvp]: ValueError at runtime/indexing.py:index_adjoint: setting an array element with a sequence.'
