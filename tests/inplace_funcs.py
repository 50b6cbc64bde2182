"""Programs whose adjoints accumulate element reads (tests/test_inplace_adjoint.py)."""

import numpy as np


def heat(u0, k):
    u = u0.copy()
    n = u.shape[0]
    for t in range(20):
        for j in range(1, n - 1):
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    return np.sum(u * u)


def rows(a):
    # rows of a matrix written from other rows: the slot read is a view
    b = a.copy()
    for i in range(1, b.shape[0]):
        b[i] = np.tanh(b[i - 1]) * 0.5 + b[i]
    return np.sum(b ** 2)


def row_kept(a):
    # a row read before the loop stays live across the writes
    b = a * 1.0
    r = b[0]
    for i in range(b.shape[0]):
        b[i] = b[i] * 2.0
    return np.sum(b) + np.sum(r * r)


def alias_of_adjoint(x):
    # y is x: the adjoint passes through a shared name
    y = x
    z = x * 1.0
    for i in range(3):
        z[i] = z[i] * y[i] + x[2 - i]
    return np.sum(z * y)


def masked(x):
    z = x * 1.0
    for i in range(2):
        z[z > 0.0] = z[z > 0.0] * 0.5
        s = z[i]
        z[i + 1] = s * z[i + 1]
    return np.sum(z ** 3)


def mixed_precision(x, w):
    acc = np.zeros(3, dtype=np.float64)
    for i in range(3):
        acc[i] = x[i] * w[i] + acc[i - 1]
    return np.sum(acc * acc)


def held_by_list_adjoint(x):
    # u's adjoint is a list holding z's adjoint array itself; x's adjoint is
    # that array too, and the read x[0] then adds into it (fuzz seed 170889)
    u = [x, x]
    acc = 0.5
    acc += x[0]
    z = u[1] + x
    return acc + np.mean(np.sin(z))
