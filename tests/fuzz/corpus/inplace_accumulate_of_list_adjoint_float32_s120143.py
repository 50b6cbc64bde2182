"""Fuzz regression case (seed 120143).

It showed:

    internal crash [float32]: TypeError at runtime/indexing.py:index_accumulate_inplace: Field elements must be N- or N-tuples, got '_'
    TypeError: Field elements must be 2- or 3-tuples, got 'np.float32(0.25)'
        at runtime/indexing.py:index_accumulate_inplace: if g is not ZERO and np.can_cast(np.result_type(g), a.dtype, "same_kind"):

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, y):
    y = x
    tmp = y
    h = tmp
    y[1] = sum(y[h > 0.0])
    z = y
    return np.mean(z)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4,), (5,)), ('y', 'array', (), ())],
 'wrt': ('x', 'y'),
 'seed': 120143,
 'gen_seed': 120143000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.30533132664606866, -0.802630351953044, 0.5499450783383639, -0.3411256111335398]), np.array(0.5688921020542584)]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [float32]: TypeError at runtime/indexing.py:index_accumulate_inplace: Field elements must be N- or N-tuples, got '_'"
