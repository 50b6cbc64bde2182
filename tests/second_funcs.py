"""Functions for tests/test_second_order_rules.py: each reaches the adjoint
helper of one rule (named in its comment) with a nonlinear function around
it, so that its Hessian-vector product is not zero.  The first argument is
a matrix (the tests pick shapes and directions); more arguments are
options."""

import math

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


def prod(x):                                 # prod_adjoint (one axis, all, keepdims, the method)
    return (np.sum(np.prod(x ** 2 + 0.5, axis=0) ** 2) + np.prod(np.sin(x)) ** 2
            + np.sum(np.prod(x, axis=1, keepdims=True) * x) + x.prod() * np.sum(x))


def prod_zeros(x):                           # prod_adjoint: exact with zeros (one and two per lane)
    y = x * (np.arange(x.size).reshape(x.shape) % 3 != 1)
    return np.sum(np.prod(y + x ** 2 * 0.0, axis=0) ** 2) + np.prod(y) * np.sum(x) + np.sum(np.prod(y, axis=1) * x[:, 0])


def prod_axes(x):                            # prod_adjoint over several axes
    z = np.stack([x, x ** 2 + 1, np.sin(x)])
    return np.sum(np.prod(z, axis=(0, 2)) ** 2) + np.sum(np.prod(z, axis=(1, 2), keepdims=True) * z)


def cumprod(x):                              # cumprod_adjoint (an axis, flattened, the method)
    return (np.sum(np.cumprod(x ** 2 + 0.3, axis=1) ** 2) + np.sum(np.cumprod(np.sin(x)) * x.ravel())
            + np.sum(x.cumprod(axis=0) ** 3))


def cumprod_zeros(x):                        # cumprod_adjoint: exact with zeros
    y = x * (np.arange(x.size).reshape(x.shape) % 4 != 1)
    return np.sum(np.cumprod(y, axis=1) ** 2 * x) + np.sum(np.cumprod(y, axis=0) * np.sin(x))


def norms(x):                                # norm_adjoint: vector and matrix norms
    return (np.linalg.norm(x) ** 3 + np.sum(np.linalg.norm(x, axis=0) ** 2 * x[0])
            + np.sum(np.linalg.norm(np.sin(x), ord=3, axis=1)) + np.linalg.norm(x, "nuc") ** 2
            + np.linalg.norm(x ** 2, 2) ** 2 + np.linalg.norm(x, -2) * np.sum(x) + np.linalg.norm(x, 1) ** 2
            + np.linalg.norm(x, "fro") * np.linalg.norm(x[0], 1.5)
            + np.linalg.norm(x, axis=1, keepdims=True).sum() ** 2 + np.linalg.norm(x[0], np.inf) * np.sum(x ** 2))


def average(x):                              # average_adjoint (tangent only)
    w = x[0] ** 2 + 0.5
    return (np.average(x ** 2) ** 2 + np.sum(np.average(x, axis=1, weights=x[0] ** 2 + 1.0) ** 3)
            + np.sum(np.average(np.sin(x), axis=1, weights=w) ** 2)
            + np.sum(np.average(x, axis=0, keepdims=True) ** 2 * x)
            + np.average(x * x, weights=np.exp(x)) ** 2)


def sinc(x):                                 # sinc_derivative (and near 0)
    return np.sum(np.sinc(x) ** 2) + np.sum(np.sinc(x * 0.01) * x)


def math_gamma_prod(a, b):                   # digamma, polygamma, prod_except (Python numbers)
    xs = [a, b * b, math.sin(a)]
    return (math.lgamma(a * a + 0.5) * math.gamma(b + 2.0) + math.lgamma(-2.5 + 0.1 * a)
            + math.prod([a, b, a * b]) ** 2 + math.prod(xs) ** 2 + math.prod(xs, start=b) * a)


def convolve(x):                             # convolve_adjoint (modes, the longer operand first or second)
    a, v = x.ravel()[:5], x.ravel()[5:]
    return (np.sum(np.convolve(a, v) ** 2) + np.sum(np.convolve(np.sin(a), v ** 2, "same") ** 3)
            + np.sum(np.convolve(v, a * a, mode="valid") ** 2) + np.sum(np.convolve(v, a, "same") * a[:3].sum()))


def interp(x):                               # interp_adjoint: in x, the knots and the values
    xp = np.cumsum(np.abs(x[0]) + 0.2) - 1.0
    fp = np.sin(x[-1]) * 2.0
    return (np.sum(np.interp(x.ravel() * 1.5, xp, fp) ** 3)
            + np.sum(np.interp(x[0], xp, fp ** 2, left=-1.0, right=fp[0] * 2.0) * x[-1]))


# ------------------------------------------------ decompositions (tangents only)


def cholesky(x):                             # cholesky_adjoint (lower, upper; batched)
    s = x @ np.swapaxes(x, -1, -2) + np.eye(x.shape[-1])
    return np.sum(np.linalg.cholesky(s) ** 3) + np.sum(np.linalg.cholesky(s + 0.2 * np.tril(x), upper=True) ** 3)


def eigh(x):                                 # eigh_adjoint: unpacked, kept whole, UPLO="U"
    w, v = np.linalg.eigh(x + np.swapaxes(x, -1, -2))
    r = np.linalg.eigh(x @ np.swapaxes(x, -1, -2), UPLO="U")
    return np.sum(w ** 3) + np.sum(v ** 4) + np.sum(r[0] ** 2) + np.sum(r[1][..., 0] ** 4)


def eigvalsh(x):                             # eigvalsh_adjoint, and eigh's values alone
    return np.sum(np.linalg.eigh(x)[0] ** 3) + np.sum(np.linalg.eigvalsh(x * x, UPLO="U") ** 3)


def svd(x):                                  # svd_adjoint: reduced factors, values alone
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return np.sum(u ** 4) + np.sum(s ** 3) + np.sum(vt ** 4) + np.sum(np.linalg.svd(x ** 2, compute_uv=False) ** 3)


def svd_full(x):                             # svd_adjoint: the leading columns of full factors
    u, s, vt = np.linalg.svd(x)
    k = min(x.shape[-2:])
    return np.sum(u[..., :k] ** 4) + np.sum(vt[..., :k, :] ** 4) + np.sum(s ** 3)


def qr(x):                                   # qr_adjoint: reduced, mode="r"
    q, r = np.linalg.qr(x)
    return np.sum(q ** 4) + np.sum(r ** 3) + np.sum(np.linalg.qr(x ** 2, mode="r") ** 3)


def pinv(x):                                 # pinv_adjoint
    return np.sum(np.linalg.pinv(x) ** 3)


def matrix_power(x):                         # matrix_power_adjoint: n > 0, n < 0
    return (np.sum(np.linalg.matrix_power(x, 3) ** 2)
            + np.sum(np.linalg.matrix_power(x + 2 * np.eye(x.shape[-1]), -2) ** 2))


def lstsq(x):                                # lstsq_adjoint: solution, residuals, singular values; b a vector, a matrix
    b = x[:, 0] ** 2 + 1.0
    y, res, rank, s = np.linalg.lstsq(x, b, rcond=None)
    z = np.linalg.lstsq(x, np.sin(x[:, :2]), rcond=None)
    return np.sum(y ** 3) + 0.7 * np.sum(res ** 2) + np.sum(s ** 3) + np.sum(z[0] ** 3) + np.sum(z[1] ** 2)
