"""Fuzz regression case (seed 12990).

It showed:

    internal crash [grad]: TypeError at generated code: '_' object is not subscriptable
    TypeError: '_Zero' object is not subscriptable
        at generated code: _inplace1_adj = _rt.unbroadcast(u_adj[...], _inplace1)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    z = x
    u = x.copy()
    if 0.5:
        pass
    else:
        q = u.reshape(1, 1)
    u *= 2.0
    for q in z:
        pass
    return q


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,))],
 'wrt': 0,
 'seed': 12990,
 'gen_seed': 12990000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.8738040763394921, 0.20916535302741768, 0.6918060775206164])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at generated code: '_' object is not subscriptable"
