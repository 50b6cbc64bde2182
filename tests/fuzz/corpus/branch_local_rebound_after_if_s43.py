"""Fuzz regression case (seed 43).

It showed:

    internal crash [shape]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value
    UnboundLocalError: cannot access local variable 'tmp' where it is not associated with a value
        at generated code: _tmp_saved2 = tmp

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np

def f(x, y):
    u = y
    if x[0] < 0.5:
        z = u
        tmp = z
    tmp = x
    out = np.sum(tmp)
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,)), ('y', 'array', (2, 1), (3, 1))],
 'wrt': 0,
 'seed': 43,
 'gen_seed': 43000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.3398548322979947, 0.9650810924153002, -0.9805738088315907]), np.array([[0.7328016402348094], [-0.28744831315541686]])]
FUZZ_ALT_ARGS = [np.array([0.6943533186276244, 0.7278870410490581, -0.9667009255058667, -0.3765522314927912]), np.array([[-0.6785481477509765], [-0.4827844535447108], [0.6764242618070067]])]
FUZZ_EXPECT = "internal crash [shape]: UnboundLocalError at generated code: cannot access local variable '_' where it is not associated with a value"
