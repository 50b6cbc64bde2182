"""Fuzz regression case (seed 22910).

It showed:

    internal crash [hvp]: TypeError at generated code: unsupported operand type(s) for +: '_' and '_'
    TypeError: unsupported operand type(s) for +: 'dict' and 'dict'
        at generated code: _f_jvp1_r_tan_adj = _f_jvp1_r_tan_adj + _rt.index_adjoint(_t5_adj, _f_jvp1_r_tan, 'b')

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x, s):
    b = s
    p = s
    r = {'w': b, 'b': s, 's': s * x}
    r['b'] = p
    w = r['b']
    for i in s2sad.checkpointed(range(3)):
        pass
    h = w - r['w']
    out = h
    return out


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (), ()), ('s', 'float', (), ())],
 'wrt': ('x', 's'),
 'seed': 22910,
 'gen_seed': 22910000,
 'global_change': None}
FUZZ_ARGS = [np.array(-0.8087426380676748), -0.6978601306795965]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = "internal crash [hvp]: TypeError at generated code: unsupported operand type(s) for +: '_' and '_'"
