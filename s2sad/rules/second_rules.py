"""Rules of the runtime helpers that the adjoints of reductions, selection
and array manipulation call (``np.split``, ``np.take_along_axis``,
``np.select``, the NaN-ignoring reductions, ``np.linspace``,
``np.arange``, ``np.prod``, ``np.cumprod``, ``np.linalg.norm``,
``np.average``, ``np.sinc``, ``math.gamma``/``lgamma``/``prod``), so that a
generated gradient through them can be differentiated again (``hvp``,
``grad(grad(f))``).  Registered on the NumPy table by
``s2sad/rules/__init__.py``, as ``array_rules`` is.

A helper linear in its adjoint argument gets its transpose as adjoint
and the tangent ``"linear"``; the arguments that enter only through a
piecewise-constant mask or permutation (indices, conditions, where the
NaNs are, which entry is the largest) get no contribution, as in the rules
of ``extremum_adjoint`` and ``sorted_adjoint``.  The others get a tangent
template, and an adjoint where the second derivative is a symmetric map
(a Hessian applied to a direction: one helper serves both).  The helpers
these rules call (``prod_adjoint_dx``, ...) have none: third order.
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import Deferred, d, k, t

_DEFERRED = Deferred()      # registered on the NumPy table by register(T)
rule, jvp_only, adjoint_of, register = _DEFERRED.rule, _DEFERRED.jvp_only, _DEFERRED.adjoint_of, _DEFERRED.register


# ---------------------------------------------------------------- selection


@rule(_rt.take_along_axis_adjoint, jvp="linear")
def rt_take_along_axis_adjoint(g, c, arr, indices, axis):
    d[c] = _rt.unbroadcast(np.take_along_axis(g, indices, axis), c)


@rule(_rt.select_adjoint, jvp="linear")
def rt_select_adjoint(g, c, condlist, kk):
    d[c] = _rt.unbroadcast(_rt.select_adjoint(g, condlist, kk), c)


@rule(_rt.nansum_adjoint, jvp="linear")
def rt_nansum_adjoint(g, c, x, axis=None, keepdims=False):
    d[c] = _rt.reduce_sum_like(g * _rt.nan_mask(x), c, axis, keepdims)


@rule(_rt.nanmean_adjoint, jvp="linear")
def rt_nanmean_adjoint(g, c, x, axis=None, keepdims=False):
    m = _rt.nan_mask(x)
    d[c] = _rt.reduce_sum_like(g * m / np.sum(m, axis=axis, keepdims=True), c, axis, keepdims)


@rule(_rt.nanextremum_adjoint, jvp="linear")
def rt_nanextremum_adjoint(g, c, mx, x, axis=None, keepdims=False, fill=-np.inf):
    w = _rt.extremum_weights(mx, np.where(np.isnan(x), fill, x), axis, keepdims)
    d[c] = _rt.reduce_sum_like(g * w, c, axis, keepdims)


# ------------------------------------------------------------- manipulation


@rule(_rt.split_adjoint, jvp="linear")
def rt_split_adjoint(g, c, ary, indices_or_sections, axis=0):
    # c holds one adjoint per piece: a tuple display, or a list in a variable
    d[c[k]] = _rt.split_piece(g, c, ary, indices_or_sections, axis, k)


@rule(_rt.linspace_adjoint, jvp="linear")
def rt_linspace_adjoint(g, c, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, part=0):
    # c is shaped like the samples, g like the endpoint
    d[c] = _rt.linspace_tangent(g, c, num, endpoint, dtype, axis, part)


@rule(_rt.linspace_tangent, jvp="linear")
def rt_linspace_tangent(g, c, samples, num=50, endpoint=True, dtype=None, axis=0, part=0):
    # (c, the endpoint's tangent, gives the shape the adjoint sums back to)
    d[c] = _rt.linspace_adjoint(g, c, c, num, endpoint, False, dtype, axis, part)


@rule(_rt.arange_adjoint, jvp="linear")
def rt_arange_adjoint(g, c, start, stop=None, step=None, dtype=None, part=0):
    d[c] = _rt.arange_tangent(g, c, start, stop, step, dtype, part)


@rule(_rt.arange_tangent, jvp="linear")
def rt_arange_tangent(g, c, samples, start, stop=None, step=None, dtype=None, part=0):
    d[c] = _rt.arange_adjoint(g, start, stop, step, dtype, part)


# -------------------------------------------------------------- reductions
# prod, cumprod and linalg.norm: the adjoint is c times the gradient of each
# lane's reduction; its derivative in x is c times that reduction's Hessian,
# a symmetric map, so one helper gives both the tangent and the adjoint in x.
# The result (ans) moves with x: its derivative is counted in x's.


def rt_prod_adjoint_jvp(ans, c, p, x, axis=None, keepdims=False):
    d[c] = _rt.prod_adjoint(t, p, x, axis, keepdims)
    d[x] = _rt.prod_adjoint_dx(c, x, axis, keepdims, t)


@rule(_rt.prod_adjoint, jvp=rt_prod_adjoint_jvp)
def rt_prod_adjoint(g, c, p, x, axis=None, keepdims=False):
    d[c] = _rt.reduce_sum_like(g * _rt.prod_adjoint(1.0, p, x, axis, keepdims), c, axis, keepdims)
    d[x] = _rt.prod_adjoint_dx(c, x, axis, keepdims, g)


def rt_cumprod_adjoint_jvp(ans, c, p, a, axis=None):
    d[c] = _rt.cumprod_adjoint(t, p, a, axis)
    d[a] = _rt.cumprod_adjoint_da(c, a, axis, t)


@rule(_rt.cumprod_adjoint, jvp=rt_cumprod_adjoint_jvp)
def rt_cumprod_adjoint(g, c, p, a, axis=None):
    # the adjoint is the transpose of the tangent map
    d[c] = _rt.cumprod_jvp(g, p, a, axis)
    d[a] = _rt.cumprod_adjoint_da(c, a, axis, g)


def rt_norm_adjoint_jvp(ans, c, nrm, x, ord=None, axis=None, keepdims=False):
    d[c] = _rt.norm_adjoint(t, nrm, x, ord, axis, keepdims)
    d[x] = _rt.norm_adjoint_dx(c, nrm, x, ord, axis, keepdims, t)


@rule(_rt.norm_adjoint, jvp=rt_norm_adjoint_jvp)
def rt_norm_adjoint(g, c, nrm, x, ord=None, axis=None, keepdims=False):
    d[c] = _rt.reduce_sum_like(g * _rt.norm_adjoint(1.0, nrm, x, ord, axis, keepdims), c, axis, keepdims)
    d[x] = _rt.norm_adjoint_dx(c, nrm, x, ord, axis, keepdims, g)


@jvp_only(_rt.average_adjoint)
def rt_average_adjoint_jvp(ans, c, avg, a, axis=None, weights=None, keepdims=False, kk=0):
    d[c] = _rt.average_adjoint(t, avg, a, axis, weights, keepdims, kk)
    d[a] = _rt.average_adjoint_d(c, avg, a, axis, weights, keepdims, kk, 0, t)
    d[weights] = _rt.average_adjoint_d(c, avg, a, axis, weights, keepdims, kk, 1, t)
    d[avg] = _rt.average_adjoint_d(c, avg, a, axis, weights, keepdims, kk, 2, t)


# ------------------------------------------------------ scalar derivatives


@rule(_rt.sinc_derivative, jvp="elementwise")
def rt_sinc_derivative(g, x):
    d[x] = g * _rt.sinc_second_derivative(x)


@rule(_rt.digamma, jvp="elementwise")
def rt_digamma(g, x):
    d[x] = g * _rt.polygamma(1, x)


@rule(_rt.polygamma, jvp="elementwise")
def rt_polygamma(g, n, x):
    d[x] = g * _rt.polygamma(n + 1, x)


@rule(_rt.prod_except, jvp="elementwise")
def rt_prod_except(g, seq, kk, start=1):
    # math.prod's adjoint: start times the product of all elements but kk
    d[seq[k]] = g * _rt.prod_except2(seq, kk, k, start)
    d[start] = g * _rt.prod_except(seq, kk, 1)


# ---------------------------------------------------------- decompositions
# Tangents only (the helpers are not linear in the matrix).  They are
# linear in the adjoint argument c (for eigh, svd, qr and lstsq a container:
# a tuple display, whose tangent is the display of its elements' tangents,
# or a list in a variable).  The factorisation moves with the matrix: its
# derivative is counted in a's.


@jvp_only(_rt.cholesky_adjoint)
def rt_cholesky_adjoint_jvp(ans, c, fac, a, upper=False):
    d[c] = _rt.cholesky_adjoint(t, fac, a, upper)
    d[a] = _rt.cholesky_adjoint_da(c, fac, a, upper, t)


@jvp_only(_rt.eigh_adjoint)
def rt_eigh_adjoint_jvp(ans, c, fac, a, UPLO="L"):
    d[c] = _rt.eigh_adjoint(t, fac, a, UPLO)
    d[a] = _rt.eigh_adjoint_da(c, fac, a, UPLO, t)


@jvp_only(_rt.eigvalsh_adjoint)
def rt_eigvalsh_adjoint_jvp(ans, c, a, UPLO="L"):
    d[c] = _rt.eigvalsh_adjoint(t, a, UPLO)
    d[a] = _rt.eigvalsh_adjoint_da(c, a, UPLO, t)


@jvp_only(_rt.svd_adjoint)
def rt_svd_adjoint_jvp(ans, c, fac, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[c] = _rt.svd_adjoint(t, fac, a, full_matrices, compute_uv, hermitian)
    d[a] = _rt.svd_adjoint_da(c, fac, a, full_matrices, compute_uv, hermitian, t)


@jvp_only(_rt.qr_adjoint)
def rt_qr_adjoint_jvp(ans, c, fac, a, mode="reduced"):
    d[c] = _rt.qr_adjoint(t, fac, a, mode)
    d[a] = _rt.qr_adjoint_da(c, fac, a, mode, t)


@jvp_only(_rt.pinv_adjoint)
def rt_pinv_adjoint_jvp(ans, c, p, a):
    d[c] = _rt.pinv_adjoint(t, p, a)
    d[a] = _rt.pinv_adjoint_da(c, p, a, t)


@jvp_only(_rt.matrix_power_adjoint)
def rt_matrix_power_adjoint_jvp(ans, c, pw, a, n):
    d[c] = _rt.matrix_power_adjoint(t, pw, a, n)
    d[a] = _rt.matrix_power_adjoint_da(c, pw, a, n, t)


@jvp_only(_rt.lstsq_adjoint)
def rt_lstsq_adjoint_jvp(ans, c, sol, a, b, rcond=None, part=0):
    d[c] = _rt.lstsq_adjoint(t, sol, a, b, rcond, part)
    d[a] = _rt.lstsq_adjoint_d(c, sol, a, b, rcond, part, 0, t)
    d[b] = _rt.lstsq_adjoint_d(c, sol, a, b, rcond, part, 1, t)


# --------------------------------------------------------------- convolve


def rt_convolve_adjoint_jvp(ans, c, a, v, mode="full", kk=0):
    d[c] = _rt.convolve_adjoint(t, a, v, mode, kk)
    d[a] = _rt.pair_adjoint_dop(_rt.convolve_adjoint, c, a, v, 0, t, mode, kk)
    d[v] = _rt.pair_adjoint_dop(_rt.convolve_adjoint, c, a, v, 1, t, mode, kk)


@rule(_rt.convolve_adjoint, jvp=rt_convolve_adjoint_jvp)
def rt_convolve_adjoint(g, c, a, v, mode="full", kk=0):
    # bilinear in c and the operand that is not the kk-th
    d[c] = _rt.convolve_adjoint_rev(g, c, a, v, mode, kk, 0)
    d[a] = _rt.convolve_adjoint_rev(g, c, a, v, mode, kk, 1)
    d[v] = _rt.convolve_adjoint_rev(g, c, a, v, mode, kk, 2)


@jvp_only(_rt.interp_adjoint)
def rt_interp_adjoint_jvp(ans, c, x, xp, fp, left=None, right=None, period=None, part=0):
    d[c] = _rt.interp_adjoint(t, x, xp, fp, left, right, period, part)
    d[x] = _rt.interp_adjoint_d(c, x, xp, fp, left, right, period, part, 0, t)
    d[xp] = _rt.interp_adjoint_d(c, x, xp, fp, left, right, period, part, 1, t)
    d[fp] = _rt.interp_adjoint_d(c, x, xp, fp, left, right, period, part, 2, t)


# ---------------------------------------------------- products, reverse mode
# The adjoints of bilinear products (their tangents are in runtime_rules.py
# and array_rules.py): bilinear in the adjoint and the other operand.


@adjoint_of(_rt.inner_adjoint)
def rt_inner_adjoint(g, c, a, b, kk=0):
    d[c] = _rt.pair_adjoint_rev(_rt.inner_adjoint, np.inner, g, c, a, b, 0, kk)
    d[a] = _rt.pair_adjoint_rev(_rt.inner_adjoint, np.inner, g, c, a, b, 1, kk)
    d[b] = _rt.pair_adjoint_rev(_rt.inner_adjoint, np.inner, g, c, a, b, 2, kk)


@adjoint_of(_rt.tensordot_adjoint)
def rt_tensordot_adjoint(g, c, a, b, axes, kk):
    d[c] = _rt.pair_adjoint_rev(_rt.tensordot_adjoint, np.tensordot, g, c, a, b, 0, axes, kk)
    d[a] = _rt.pair_adjoint_rev(_rt.tensordot_adjoint, np.tensordot, g, c, a, b, 1, axes, kk)
    d[b] = _rt.pair_adjoint_rev(_rt.tensordot_adjoint, np.tensordot, g, c, a, b, 2, axes, kk)


@adjoint_of(_rt.kron_adjoint)
def rt_kron_adjoint(g, c, a, b, kk):
    d[c] = _rt.pair_adjoint_rev(_rt.kron_adjoint, np.kron, g, c, a, b, 0, kk)
    d[a] = _rt.pair_adjoint_rev(_rt.kron_adjoint, np.kron, g, c, a, b, 1, kk)
    d[b] = _rt.pair_adjoint_rev(_rt.kron_adjoint, np.kron, g, c, a, b, 2, kk)


@adjoint_of(_rt.cross_adjoint)
def rt_cross_adjoint(g, c, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, kk=0):
    d[c] = _rt.pair_adjoint_rev(_rt.cross_adjoint, np.cross, g, c, a, b, 0, axisa, axisb, axisc, axis, kk)
    d[a] = _rt.pair_adjoint_rev(_rt.cross_adjoint, np.cross, g, c, a, b, 1, axisa, axisb, axisc, axis, kk)
    d[b] = _rt.pair_adjoint_rev(_rt.cross_adjoint, np.cross, g, c, a, b, 2, axisa, axisb, axisc, axis, kk)


@adjoint_of(_rt.einsum_adjoint)
def rt_einsum_adjoint(g, c, subscripts, operands, kk):
    d[c] = _rt.einsum_adjoint_rev(g, c, subscripts, operands, kk, None)
    d[operands[k]] = _rt.einsum_adjoint_rev(g, c, subscripts, operands, kk, k)


# var and std (tangents in runtime_rules.py): the adjoint is c times the
# gradient of each lane's variance / standard deviation; in x, c times its
# Hessian, symmetric (the centring map for the variance)


@adjoint_of(_rt.var_adjoint)
def rt_var_adjoint(g, c, x, axis=None, ddof=0, keepdims=False):
    d[c] = _rt.reduce_sum_like(g * _rt.var_adjoint(1.0, x, axis, ddof, True), c, axis, keepdims)
    d[x] = _rt.var_adjoint(1.0, _rt.expand_adjoint(c, x, axis, keepdims) * g, axis, ddof, True)


def rt_std_adjoint_jvp(ans, c, s, x, axis=None, ddof=0, keepdims=False):
    d[c] = _rt.std_adjoint(t, s, x, axis, ddof, keepdims)
    d[x] = _rt.std_adjoint_hess(c, s, x, axis, ddof, keepdims, t)


@rule(_rt.std_adjoint, jvp=rt_std_adjoint_jvp)
def rt_std_adjoint(g, c, s, x, axis=None, ddof=0, keepdims=False):
    # (the standard deviation s moves with x: its derivative is counted in x's)
    d[c] = _rt.reduce_sum_like(g * _rt.std_adjoint(1.0, s, x, axis, ddof, keepdims), c, axis, keepdims)
    d[x] = _rt.std_adjoint_hess(c, s, x, axis, ddof, keepdims, g)
