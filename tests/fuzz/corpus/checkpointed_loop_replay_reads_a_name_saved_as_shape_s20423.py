"""Fuzz regression case (seed 20423).

It showed:

    internal crash [grad]: TypeError at generated code: '_' object is not subscriptable
    TypeError: 'Like' object is not subscriptable
        at generated code: tmp = t1[:]

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    r = x
    t1 = r.reshape(1, r.shape[0])
    for i in s2sad.checkpointed(range(4)):
        tmp = t1[:]
    t1 = x
    w = t1 - r
    acc = w
    return np.mean(acc)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4, 1), (5, 1))],
 'wrt': 0,
 'seed': 20423,
 'gen_seed': 20423000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.8847894754472465], [0.5343815250848967], [-0.5542757160056461], [-0.2771943940459332]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at generated code: '_' object is not subscriptable"
