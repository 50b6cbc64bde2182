"""Fuzz regression case (seed 477).

It showed:

    wrong dtype/shape [shape]
    at new input shapes: gradient of `y` has shape (4,), input ()

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

def f(x, y, s):
    if s * -1.2 >= 0.0:
        pass
    else:
        y = x
    return 0.5


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,)), ('y', 'array', (), ()), ('s', 'float', (), ())],
 'wrt': ('x', 'y'),
 'seed': 477,
 'gen_seed': 477000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.41020119004967903, 0.507328870525966, 0.7571806506700776]), np.array(-0.8345690724880614), -0.3552153274954273]
FUZZ_ALT_ARGS = [np.array([-0.5639285980653557, -0.5945615382979719, 0.43078573983006346, 0.91894835725216]), np.array(0.7955123471446439), 0.6485164741667884]
FUZZ_EXPECT = 'wrong dtype/shape [shape]'
