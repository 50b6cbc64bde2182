"""Fuzz regression case (seed 920077).

It showed:

    internal crash [grad]: TypeError at runtime/core.py:zeros_like: SlogdetResult.__new__() missing N required positional argument: '_'
    TypeError: SlogdetResult.__new__() missing 1 required positional argument: 'logabsdet'
        at runtime/core.py:zeros_like: return type(x)(zeros_like(v) for v in x)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, z):
    t1 = z
    a = np.eye(len(x))
    tmp = np.linalg.slogdet(a)
    b = t1[0]
    for tmp in b:
        pass
    out = tmp
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 3), (3, 5)), ('z', 'array', (1, 3), (1, 5))],
 'wrt': (0, 1),
 'seed': 920077,
 'gen_seed': 920077000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.3059005834252406, 0.5699811864713091, -0.3606659334514398], [0.7879497388792933, 0.7914905822375247, -0.9108820495983179]]), np.array([[0.5387811624297882, -0.9646146252874965, 0.3270778052059845]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: TypeError at runtime/core.py:zeros_like: SlogdetResult.__new__() missing N required positional argument: '_'"
