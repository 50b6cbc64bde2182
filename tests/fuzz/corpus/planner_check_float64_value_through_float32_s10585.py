"""Fuzz regression case (seed 10585).

It showed:

    internal crash [float32]: AssertionError at s2sad/api.py:_first_call: s2sad planner: the planned variant disagreed with the generic code (output N: max differen
    AssertionError: s2sad planner: the planned variant disagreed with the generic code (output 0: max difference 2.9802322387695312e-08)
        at s2sad/api.py:_first_call: raise AssertionError(f"s2sad planner: {reason}/n{pl.source}")

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(y):
    c = np.tanh(y.T)
    acc = c
    t1 = 0.5
    out = np.sum(t1) + np.mean(acc)
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('y', 'array', (4, 2), (6, 3))],
 'wrt': 0,
 'seed': 10585,
 'gen_seed': 10585000,
 'global_change': None}
FUZZ_ARGS = [np.array([[-0.7731865996428231, -0.9769416403610796], [-0.37981683343570805, -0.7849582062943503], [-0.41444628976195425, -0.9174479475977355], [-0.8379000871423212, 0.46755635816722463]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [float32]: AssertionError at s2sad/api.py:_first_call: s2sad planner: the planned variant disagreed with the generic code (output N: max differen'
