"""Fuzz regression case (seed 24671).

It showed:

    wrong value [value]
    value_and_grad gives 2.9168742631710693, f gives 1.4584371315855347

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    w = x
    y2 = abs(w)
    a = y2.reshape(-1, 1)
    y2 *= 0.5
    p = a
    b = p
    return b.sum()


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3, 2), (4, 3))],
 'wrt': 0,
 'seed': 24671,
 'gen_seed': 24671000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.8315298094086339, 0.5144530884455573], [-0.2937530260294371, -0.6987575152886316], [0.342544234649129, 0.23583658934968046]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong value [value]'
