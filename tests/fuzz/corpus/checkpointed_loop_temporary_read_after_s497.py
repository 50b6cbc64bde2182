"""Fuzz regression case (seed 497).

It showed:

    internal crash [grad]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value
    UnboundLocalError: cannot access local variable 'a' where it is not associated with a value
        at generated code: a, = _loop1.forward((a,))

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    for i in s2sad.checkpointed(range(4)):
        a = x
    return np.sum(a)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (5,))],
 'wrt': 0,
 'seed': 497,
 'gen_seed': 497000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.8599784110394724, 0.8235673731060433, 0.22378181437490208, -0.7170194843459274])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [grad]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value"
