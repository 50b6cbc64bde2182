"""Fuzz regression case (seed 34056).

It showed:

    wrong gradient [grad]
    d/dy along a random direction: s2sad 24.25061881, finite differences 8.083539604

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y, z):
    parts1 = []
    for i in range(x.shape[0]):
        parts1.append(z)
        parts1.append(y)
    u = sum(parts1)
    out = np.sum(u)
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,)),
            ('y', 'array', (3, 1), (4, 1)),
            ('z', 'array', (3, 4), (4, 6))],
 'wrt': 1,
 'seed': 34056,
 'gen_seed': 34056000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.23044973873302502, -0.44565436329107594, 0.247163532556021]), np.array([[0.9754356615633843], [0.5581130075027656], [-0.3593055785565854]]), np.array([[-0.6579259392427503, -0.4433433660792888, 0.7079578932578829, -0.738558194033827], [0.9335144078852908, -0.8008631570360853, 0.8697029311522666, -0.9756108922648108], [0.40310566829540373, 0.2729576426861365, 0.2520191656761722, -0.536579047060503]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'wrong gradient [grad]'
