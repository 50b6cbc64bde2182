"""Functions for tests/test_second_order_rules.py: each reaches the adjoint
helper of one rule (named in its comment) with a nonlinear function around
it, so that its Hessian-vector product is not zero.  The first argument is
a matrix (the tests pick shapes and directions); more arguments are
options."""

import numpy as np

IDX = np.array([[0, 2, 2], [1, 0, 1], [2, 2, 0], [1, 1, 1]])


def take_along_axis(x):                      # take_along_axis_adjoint
    rows = np.take_along_axis(x ** 2, IDX[:x.shape[0]] % x.shape[1], axis=1)
    flat = np.take_along_axis(np.sin(x), np.array([5, 0, 0]) % x.size, None)
    return np.sum(rows ** 2) + np.sum(flat ** 3)


def select(x):                               # select_adjoint
    return np.sum(np.select([x > 0.5, x < -0.5], [x ** 3, np.sin(x)], default=x ** 2) * x)


def nan_reductions(x):                       # nansum/nanmean/nanextremum_adjoint (x holds NaNs)
    return (np.sum(np.nansum(x, axis=0) ** 2) + np.nanmean(x) ** 3
            + np.sum(np.nanmax(x, axis=1, keepdims=True) ** 3) + np.nanmin(x) ** 2
            + np.sum(np.nanmean(x, axis=1) ** 2))


def split(x):                                # split_adjoint: unpacked, and kept in a list
    a, b = np.split(x ** 2, [1], axis=1)
    parts = np.array_split(np.sin(x), 2)
    return np.sum(a ** 3) + np.sum(b * np.sin(a)) + np.sum(parts[0] ** 2) * np.sum(parts[1] ** 3)


def linspace(x):                             # linspace_adjoint
    return (np.sum(np.linspace(x[0] ** 2, np.sin(x[1]), 5, axis=1) ** 3)
            + np.sum(np.linspace(x[0, 0], x[1, 1] ** 2, 4, endpoint=False) ** 2))


def arange(a, s):                            # arange_adjoint (numbers)
    return np.sum(np.arange(a, a + 4.0, s) ** 3)
