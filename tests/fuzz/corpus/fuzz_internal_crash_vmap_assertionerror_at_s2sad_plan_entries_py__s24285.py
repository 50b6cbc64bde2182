"""Fuzz regression case (seed 24285).

It showed:

    internal crash [vmap]: AssertionError at s2sad/plan/entries.py:plan_entry: s2sad planner: the planned variant disagreed with the generic code (it raised ValueError: 
    AssertionError: s2sad planner: the planned variant disagreed with the generic code (it raised ValueError: output parameter for reduction operation add has the wrong number of dimensions: Found 1 but expected 0)
        at s2sad/plan/entries.py:plan_entry: raise AssertionError(f"s2sad planner: {reason}/n{pl.source}")

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def helper1(a, b, c=0.5):
    r = a > 0.2
    return a

def f(x, y, z):
    if np.sin(x[1]) <= 0.5:
        t1 = {'w': y.T / np.sin(y) @ x, 'b': np.sinh(x) + x}
        b, q = helper1(y, z)
    h = np.copy(y)
    if 0.5:
        pass
    else:
        t1 = h.reshape(1)
        t1[0] = y
        q = y + h
    return np.sum(h) + np.sum(z)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (2,), (3,)), ('y', 'array', (2, 1), (3, 1)), ('z', 'array', (2,), (3,))],
 'wrt': 0,
 'seed': 24285,
 'gen_seed': 24285000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.25255714381134997, -0.2773910385924323]), np.array([[0.6556667259219494], [0.7074708618888346]]), np.array([-0.21726028382895937, 0.39134489268046135])]
FUZZ_ALT_ARGS = None
FUZZ_EXPECT = 'internal crash [vmap]: AssertionError at s2sad/plan/entries.py:plan_entry: s2sad planner: the planned variant disagreed with the generic code (it raised ValueError: '
