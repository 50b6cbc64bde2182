"""Fuzz regression case (seed 23527).

It showed:

    wrong gradient [hvp]
    w.H.v along the difference from the gradient differences: hvp gives 0.6148974627, second differences of f -0.581765632

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y, z):
    z = y.reshape(-1, 1)
    z /= x
    for i, y2 in enumerate(z):
        z = 0.8 * z
        y2[-1] = 0.2
    tmp = z
    return np.sum(tmp)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (), ()), ('y', 'array', (4,), (5,)), ('z', 'array', (), ())],
 'wrt': (0, 1, 2),
 'seed': 23527,
 'gen_seed': 23527000,
 'global_change': None}
FUZZ_ARGS = [np.array(0.8268959483109017), np.array([-0.9050148039494645, -0.2708413762480449, -0.889225972312117, -0.3426791031067916]), np.array(-0.9575191324544441)]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [hvp]'
