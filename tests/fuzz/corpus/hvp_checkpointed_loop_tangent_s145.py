"""Fuzz regression case (seed 145).

It showed:

    internal crash [hvp]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value
    UnboundLocalError: cannot access local variable '_f_jvp1_t1_tan' where it is not associated with a value
        at generated code: _f_jvp1_t1, _f_jvp1_t1_tan = _loop1.forward((_f_jvp1_t1, _f_jvp1_t1_tan))

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    q = y.reshape(y.shape[1], y.shape[0])
    for i in s2sad.checkpointed(range(4)):
        t1 = q
    for tmp in x:
        t1 = q
    return np.sum(t1)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3, 2), (4, 3)), ('y', 'array', (1, 3), (1, 4))],
 'wrt': 1,
 'seed': 145,
 'gen_seed': 145000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.5101505740241818, 0.4544702796790714], [-0.8684782045309254, -0.5058409387209981], [0.7100619651244966, -0.8051485913283323]]), np.array([[0.9417420272232886, -0.800565148190888, -0.5599872446952683]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [hvp]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value"
