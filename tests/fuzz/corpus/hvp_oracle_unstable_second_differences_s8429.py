"""Fuzz regression case (seed 8429): a fault of the oracle, not of s2sad.

It showed:

    wrong gradient [hvp]
    w.H.v along v: hvp gives -5.031220292e+13, second differences of f -2665029.709

s2sad's H.v equals JAX's (jvp of grad) to every printed digit; f is so
steep (gradient ~1e7) that second differences of f are unstable, and the
oracle took them as stable because it judged their spread against the
value under test.  It now judges them by their own scale and calls the
check inconclusive.

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, s):
    y2 = x[0]
    s = x
    s += 2
    z = 0.5
    for i in range(len(y2)):
        for c, w in zip(s, y2):
            z = np.sin(c * z) @ c
    fn1 = lambda u: z
    r = fn1(s)
    v = r
    return v


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 4), (3, 6)), ('s', 'float', (), ())],
 'wrt': 0,
 'seed': 8429,
 'gen_seed': 8429000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.6276195623024239, 0.6570280492836821, 0.4879689231217317, 0.48763735685288456], [0.9679372876010974, -0.7606834044875208, -0.708091422310759, 0.6622092506194395]]), 0.4047201177425855]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [hvp]'
