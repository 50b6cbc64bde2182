"""Fuzz regression case (seed 100119).

It showed:

    internal crash [shape]: AttributeError at runtime/views.py:container_scatter: '_' object has no attribute '_'
    AttributeError: 'NoneType' object has no attribute 'dtype'
        at runtime/views.py:container_scatter: total = np.zeros(np.shape(root), dtype=root.dtype if root.dtype.kind in "fc" else float)

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    w = x[1]
    z = 'w'
    acc = {'w': 0.5, 'b': 0.5, 's': x}
    a = y if z else np.transpose(np.transpose(x))
    for t1, t2 in zip(w, x):
        if t1 > 0.0:
            a[:] = acc['w']
    for u, p in zip(a, x):
        pass
    return np.mean(p)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2, 1), (3, 1)), ('y', 'array', (1, 3), (1, 5))],
 'wrt': 0,
 'seed': 100119,
 'gen_seed': 100119000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.6105868459433657], [-0.7154102654349088]]), np.array([[0.28009076650528275, 0.8176667919080824, -0.762576484559176]])]
FUZZ_ALT_ARGS = [np.array([[-0.848562522437496], [0.9936038442962201], [-0.5200720655698194]]), np.array([[0.48939218348272884, -0.20585685956440294, 0.27779481250607213, 0.7846341577226517, 0.2627975266935648]])]
FUZZ_EXPECT = "internal crash [shape]: AttributeError at runtime/views.py:container_scatter: '_' object has no attribute '_'"
