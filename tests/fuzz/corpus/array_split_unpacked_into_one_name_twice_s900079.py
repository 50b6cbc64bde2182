"""Fuzz regression case (seed 900079).

It showed:

    internal crash [grad]: ValueError at runtime/manipulation.py:<listcomp>: operands could not be broadcast together with remapped shapes [original->remapped]: (shape
    ValueError: operands could not be broadcast together with remapped shapes [original->remapped]: (0,2)  and requested shape (1,2)
        at runtime/manipulation.py:<listcomp>: out = [p if _shape(p) == _shape(q) else np.broadcast_to(p, _shape(q)) * 1 for p, q in zip(out, parts)]

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(y):
    y2 = y
    t2 = np.array_split(y2[np.newaxis], 2)
    e1, e1 = t2
    u = np.sum(e1)
    return u


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('y', 'array', (2,), (3,))],
 'wrt': 'y',
 'seed': 900079,
 'gen_seed': 900079000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.5642133392292923, 0.3709408701540371])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [grad]: ValueError at runtime/manipulation.py:<listcomp>: operands could not be broadcast together with remapped shapes [original->remapped]: (shape'
