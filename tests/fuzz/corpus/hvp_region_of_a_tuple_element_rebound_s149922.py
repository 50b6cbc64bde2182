"""Fuzz regression case (seed 149922).

It showed:

    internal crash [hvp]: TypeError at runtime/views.py:region_of: Field elements must be N- or N-tuples, got '_'
    TypeError: Field elements must be 2- or 3-tuples, got 'np.float64(0.0)'
        at runtime/views.py:region_of: out = np.zeros(np.shape(view), dtype=np.result_type(g))

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    b = (x[2], y)
    e1, e2 = b
    e2 /= 0.5
    if 0.5:
        t1 = np.eye(len(e1))
        t1 = np.linalg.slogdet(t1)
        e2, e3 = t1
    v = np.tanh(e1)
    return np.sum(v)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4, 3), (5, 4)), ('y', 'array', (3, 4), (4, 5))],
 'wrt': 1,
 'seed': 149922,
 'gen_seed': 149922000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.2545452836167429, 0.4971616241797947, 0.5325007523121907], [-0.8846427975316242, -0.6516308125878721, -0.9493484707710893], [0.807560607585692, -0.5029084070452523, 0.3539363682226479], [-0.9279906801173556, 0.2042752332150123, 0.7584064720962727]]), np.array([[0.29664398387066876, 0.7712616314110781, -0.46117719728839585, -0.8743473065459921], [0.8252398613859222, 0.33917914725691434, -0.24343421641599905, 0.3339965282645194], [0.7178469719527014, 0.36271398859799153, 0.6395312849447664, -0.8344303676083769]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [hvp]: TypeError at runtime/views.py:region_of: Field elements must be N- or N-tuples, got '_'"
