"""Fuzz regression case (seed 21801).

It showed:

    internal crash [grad]: AssertionError at s2sad/api.py:_first_call: s2sad planner: the planned variant disagreed with the generic code (output N: max differen
    AssertionError: s2sad planner: the planned variant disagreed with the generic code (output 0: max difference 0.36049517850703916)
        at s2sad/api.py:_first_call: raise AssertionError(f"s2sad planner: {reason}/n{pl.source}")

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper1(a, b, c=0.5):
    y2 = -a.T
    return y2

def helper2(a, b, c=0.3):
    tmp = a
    return (tmp, c)

def f(x, y):
    b = x
    t1 = helper1(y, b)
    z = t1.ravel()
    i = 0
    z[i] = 0.1
    tmp, t2 = helper2(x, 0.5, c=np.sum(t1))
    return t2


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (4, 1), (6, 1)), ('y', 'array', (4, 2), (6, 3))],
 'wrt': (0, 1),
 'seed': 21801,
 'gen_seed': 21801000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.74792400310035], [0.4593917496198312], [0.35901782221345546], [0.9723376109689383]]), np.array([[0.26049517850703935, 0.5318961204944177], [0.9750439916968745, -0.31357180083156266], [0.5637771756558214, 0.9517636549498243], [-0.5043943475241834, 0.381167365311631]])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [grad]: AssertionError at s2sad/api.py:_first_call: s2sad planner: the planned variant disagreed with the generic code (output N: max differen'
