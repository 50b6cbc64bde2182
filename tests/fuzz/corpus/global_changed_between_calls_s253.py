"""Fuzz regression case (seed 253).

It showed:

    wrong value [global]
    after G_SCALE = 0.9: value 0.5, f gives 0.9

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import s2sad
G_SCALE = 0.5

def f(x):
    return G_SCALE


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (1, 3), (1, 5))],
 'wrt': 0,
 'seed': 253,
 'gen_seed': 253000,
 'global_change': ('G_SCALE', 0.9)}
FUZZ_ARGS = [np.array([[0.4493071654433421, 0.855013043656659, 0.5584502915259697]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong value [global]'
