"""Fuzz regression case (seed 22).

It showed:

    internal crash [jvp]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value
    UnboundLocalError: cannot access local variable '_whole1' where it is not associated with a value
        at generated code: _new4 = _rt.view_sync(_whole1, a)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    r = x if 0.5 else y - y
    c = r
    tmp = c

    def inner1(u, scale=1.0):
        return r.reshape(1, -1)
    a = inner1(tmp)
    w = inner1(1)
    a[-1] = w
    return np.sum(w)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (5,)), ('y', 'array', (4,), (5,))],
 'wrt': (0, 1),
 'seed': 22,
 'gen_seed': 22000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.7006625477728774, 0.31880988464209586, -0.41357103795937644, -0.8219553985892363]), np.array([0.9172679596972326, -0.465910053458759, -0.8876677822569132, -0.5534991657681634])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [jvp]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value"
