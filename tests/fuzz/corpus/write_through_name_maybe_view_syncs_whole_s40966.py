"""Fuzz regression case (seed 40966).

It showed:

    wrong gradient [grad]
    d/dx along a random direction: s2sad 0.3009970666, finite differences 0.5179396837

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    w = (x, x[::-1])
    e1, e2 = w
    v = e1[0]
    e2[:, 0] += e2[:, 2]
    tmp = v
    out = np.sum(tmp)
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3, 4), (4, 6))],
 'wrt': 0,
 'seed': 40966,
 'gen_seed': 40966000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.3770476960299706, 0.771790437254279, 0.24811499256497083, 0.9082306880555195], [0.5060054089087287, 0.3126552756101803, -0.9828890464849878, 0.2434485410893406], [0.5598858667163484, -0.7834185910109348, -0.3558826574992721, 0.25350806224549366]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
