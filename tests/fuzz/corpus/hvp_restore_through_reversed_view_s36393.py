"""Fuzz regression case (seed 36393).

It showed:

    wrong gradient [hvp]
    w.H.v along the difference from the gradient differences: hvp gives 0.01289923613, second differences of f -0.06872056371

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    t1 = np.var(x[::-1])
    for i, q in enumerate(x):
        q[0] = 0.5
    return t1


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4, 3), (6, 4))],
 'wrt': 0,
 'seed': 36393,
 'gen_seed': 36393000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.8151500947542738, -0.9183443303674157, 0.5349118650681242], [-0.21953382743812908, -0.7666401242834155, -0.7937446765157452], [0.7235323421811757, 0.7804383855119192, 0.3126715058091458], [-0.38678222169829246, 0.4979288027589892, 0.8999617616723752]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [hvp]'
