"""Fuzz regression case (seed 22611).

It showed:

    internal crash [hvp]: IndexError at runtime/indexing.py:_last_writes: only integers, slices (`_`), ellipsis (`_`), numpy.newaxis (`_`) and integer or boolean ar
    IndexError: only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices
        at runtime/indexing.py:_last_writes: pos = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[idx]

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    t2 = 1
    t3 = {'w': t2, 'b': t2}
    t3['b'] = np.sin(x)
    for i in s2sad.checkpointed(range(2)):
        pass
    b = t3['w']
    return b


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,))],
 'wrt': 0,
 'seed': 22611,
 'gen_seed': 22611000,
 'global_change': None}
FUZZ_ARGS = [np.array([-0.22818597621222683, 0.6861039459702158, -0.9216901381981091])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [hvp]: IndexError at runtime/indexing.py:_last_writes: only integers, slices (`_`), ellipsis (`_`), numpy.newaxis (`_`) and integer or boolean ar'
