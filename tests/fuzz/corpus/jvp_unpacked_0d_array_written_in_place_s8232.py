"""Fuzz regression case (seed 8232).

It showed:

    internal crash [jvp]: TypeError at generated code: '_' object does not support item assignment
    TypeError: 'numpy.float64' object does not support item assignment
        at generated code: p_tan[...] = _inplace1_tan

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper1(a, b, c=1.0):
    return (a, b)

def f(x):
    q = (2.0, x[1, 2])
    e1, e2 = q
    t1, p = helper1(b=np.where(e1, q[1], x[1, 1]), a=x)
    e3, e4 = x
    p -= 1.0
    b = e3
    tmp = p
    return tmp * tmp


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 3), (3, 4))],
 'wrt': 0,
 'seed': 8232,
 'gen_seed': 8232000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.38330689352299363, 0.7612308008182811, -0.24698237878098733], [0.5580796395605414, 0.36104836455701417, -0.6376482347426087]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [jvp]: TypeError at generated code: '_' object does not support item assignment"
