"""Fuzz regression case (seed 23040): a fault of the oracle, not of s2sad.

It showed:

    wrong gradient [shape]
    d/dx along a random direction: s2sad 0.4529332585, finite differences 0.4532014753

s2sad's gradient equals JAX's exactly; two entries of the `np.min` are
4.5e-5 apart, so every finite-difference step crossed the kink, and the
Richardson estimates agreed with each other while off by the kink.  The
oracle now compares one-sided slopes and calls such an estimate
inconclusive.

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad

def f(x):
    r = x[None]
    r = 0.5 * r
    w = np.min((2.0 + np.cos(r)) ** (-1.5), axis=1)
    v = r.T
    u = [w, np.mean(v, axis=1)]
    q = np.concatenate(u)
    return np.sum(q ** 2)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (3,), (4,))],
 'wrt': 0,
 'seed': 23040,
 'gen_seed': 23040000,
 'global_change': None}
FUZZ_ARGS = [np.array([0.5198315898221868, -0.25045430391836776, -0.9470253354601084])]
FUZZ_ALT_ARGS = [np.array([-0.8007779227470149, 0.3624771346929927, -0.5770096390697426, 0.3624322968817357])]
FUZZ_EXPECT = 'wrong gradient [shape]'
