"""Rules for NumPy's array manipulation functions (diff, rot90, pad, split,
sort, ...), a few products (kron, cross, vdot), ``np.average``,
``np.cumprod``, ``np.ptp`` and the symmetric decompositions
(``linalg.cholesky``, ``linalg.eigh``, ``linalg.eigvalsh``), in the
template language of :mod:`s2sad.rules.numpy_rules` (registered on the
same table by :func:`register`), with the rules of their runtime helpers
for second order."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import Deferred, d, k, t

_DEFERRED = Deferred()      # registered on the NumPy table by register(T)
rule, method, jvp_only, register = _DEFERRED.rule, _DEFERRED.method, _DEFERRED.jvp_only, _DEFERRED.register


# ------------------------------------------------------------ manipulation


@rule(np.diff, jvp="linear")
def diff(g, a, n=1, axis=-1, prepend=None, append=None):
    d[a] = _rt.diff_adjoint(g, a, n, axis, prepend, append, 0)
    d[prepend] = _rt.diff_adjoint(g, a, n, axis, prepend, append, 1)
    d[append] = _rt.diff_adjoint(g, a, n, axis, prepend, append, 2)


@rule(np.rot90, jvp="linear")
def rot90(g, m, k=1, axes=(0, 1)):
    d[m] = np.rot90(g, -k, axes)


@rule(np.rollaxis, jvp="linear")
def rollaxis(g, a, axis, start=0):
    d[a] = _rt.rollaxis_adjoint(g, a, axis, start)


@rule(np.column_stack, jvp="linear")
def column_stack(g, tup):
    d[tup[k]] = _rt.column_stack_piece(g, tup, k)


if hasattr(np, "row_stack"):                # removed in NumPy 2.x
    @rule(np.row_stack, jvp="linear")
    def row_stack(g, tup, dtype=None, casting="same_kind"):
        d[tup[k]] = _rt.vstack_piece(g, tup, k)


@rule(np.dstack, jvp="linear")
def dstack(g, tup):
    d[tup[k]] = _rt.dstack_piece(g, tup, k)


@rule(np.append, jvp="linear")
def append(g, arr, values, axis=None):
    d[arr] = _rt.append_piece(g, arr, values, axis, 0)
    d[values] = _rt.append_piece(g, arr, values, axis, 1)


@rule(np.split, np.array_split, jvp="linear", returns="container")
def split(g, ary, indices_or_sections, axis=0):
    d[ary] = _rt.split_adjoint(g, ary, indices_or_sections, axis)


@rule(np.hsplit, jvp="linear", returns="container")
def hsplit(g, ary, indices_or_sections):
    d[ary] = _rt.split_adjoint(g, ary, indices_or_sections, "h")


@rule(np.vsplit, jvp="linear", returns="container")
def vsplit(g, ary, indices_or_sections):
    d[ary] = _rt.split_adjoint(g, ary, indices_or_sections, "v")


@rule(np.dsplit, jvp="linear", returns="container")
def dsplit(g, ary, indices_or_sections):
    d[ary] = _rt.split_adjoint(g, ary, indices_or_sections, "d")


@rule(np.diagonal, jvp="linear")
def diagonal(g, a, offset=0, axis1=0, axis2=1):
    d[a] = _rt.diagonal_adjoint(g, a, offset, axis1, axis2)


@method("diagonal", jvp="linear")
def m_diagonal(g, self, offset=0, axis1=0, axis2=1):
    d[self] = _rt.diagonal_adjoint(g, self, offset, axis1, axis2)


def pad_jvp(ans, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    d[array] = _rt.pad_jvp(t, array, pad_width, mode, constant_values, reflect_type, 0)
    d[constant_values] = _rt.pad_jvp(t, array, pad_width, mode, constant_values, reflect_type, 1)


@rule(np.pad, jvp=pad_jvp)
def pad(g, array, pad_width, mode="constant", constant_values=0, reflect_type="even"):
    d[array] = _rt.pad_adjoint(g, array, pad_width, mode, constant_values, reflect_type, 0)
    d[constant_values] = _rt.pad_adjoint(g, array, pad_width, mode, constant_values, reflect_type, 1)


# ---------------------------------------------------------------- products


@rule(np.kron, jvp="multilinear")
def kron(g, a, b):
    d[a] = _rt.kron_adjoint(g, a, b, 0)
    d[b] = _rt.kron_adjoint(g, a, b, 1)


@rule(np.cross, broadcasting=True, jvp="multilinear")
def cross(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    d[a] = _rt.cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 0)
    d[b] = _rt.cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 1)


@rule(np.convolve, jvp="multilinear")
def convolve(g, a, v, mode="full"):
    d[a] = _rt.convolve_adjoint(g, a, v, mode, 0)
    d[v] = _rt.convolve_adjoint(g, a, v, mode, 1)


@rule(np.vdot, jvp="multilinear")
def vdot(g, a, b):
    # real operands: vdot(a, b) = sum(ravel(a) * ravel(b))
    d[a] = g * np.reshape(b, np.shape(a))
    d[b] = g * np.reshape(a, np.shape(b))


# -------------------------------------------------------------- reductions


def average_jvp(ans, a, axis=None, weights=None, returned=False, keepdims=False):
    d[a] = _rt.average_jvp(t, ans, a, axis, weights, keepdims, 0)
    d[weights] = _rt.average_jvp(t, ans, a, axis, weights, keepdims, 1)


@rule(np.average, jvp=average_jvp)
def average(g, ans, a, axis=None, weights=None, returned=False, keepdims=False):
    d[a] = _rt.average_adjoint(g, ans, a, axis, weights, keepdims, 0)
    d[weights] = _rt.average_adjoint(g, ans, a, axis, weights, keepdims, 1)


def cumprod_jvp(ans, a, axis=None, dtype=None, out=None):
    d[a] = _rt.cumprod_jvp(t, ans, a, axis)


@rule(np.cumprod, jvp=cumprod_jvp)
def cumprod(g, ans, a, axis=None, dtype=None, out=None):
    d[a] = _rt.cumprod_adjoint(g, ans, a, axis)


def m_cumprod_jvp(ans, self, axis=None, dtype=None, out=None):
    d[self] = _rt.cumprod_jvp(t, ans, self, axis)


@method("cumprod", jvp=m_cumprod_jvp)
def m_cumprod(g, ans, self, axis=None, dtype=None, out=None):
    d[self] = _rt.cumprod_adjoint(g, ans, self, axis)


def ptp_jvp(ans, a, axis=None, out=None, keepdims=False):
    hi = np.max(a, axis=axis, keepdims=keepdims)
    lo = np.min(a, axis=axis, keepdims=keepdims)
    d[a] = (_rt.reduction_jvp(_rt.extremum_adjoint, t, hi, a, axis, keepdims)
            - _rt.reduction_jvp(_rt.extremum_adjoint, t, lo, a, axis, keepdims))


@rule(np.ptp, jvp=ptp_jvp)
def ptp(g, a, axis=None, out=None, keepdims=False):
    # max - min: ties of either split its share evenly
    hi = np.max(a, axis=axis, keepdims=keepdims)
    lo = np.min(a, axis=axis, keepdims=keepdims)
    d[a] = _rt.extremum_adjoint(g, hi, a, axis, keepdims) - _rt.extremum_adjoint(g, lo, a, axis, keepdims)


def sort_jvp(ans, a, axis=-1, kind=None, order=None, stable=None):
    d[a] = _rt.sorted_jvp(t, ans, a, axis)


@rule(np.sort, jvp=sort_jvp)
def sort(g, ans, a, axis=-1, kind=None, order=None, stable=None):
    d[a] = _rt.sorted_adjoint(g, ans, a, axis)


def partition_jvp(ans, a, kth, axis=-1, kind="introselect", order=None):
    d[a] = _rt.sorted_jvp(t, ans, a, axis)


@rule(np.partition, jvp=partition_jvp)
def partition(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    d[a] = _rt.sorted_adjoint(g, ans, a, axis)


# ---------------------------------------------------------- decompositions


def cholesky_jvp(ans, a, upper=False):
    d[a] = _rt.cholesky_jvp(t, ans, a, upper)


@rule(np.linalg.cholesky, jvp=cholesky_jvp)
def cholesky(g, ans, a, upper=False):
    d[a] = _rt.cholesky_adjoint(g, ans, a, upper)


def eigh_jvp(ans, a, UPLO="L"):
    d[a] = _rt.eigh_jvp(t, ans, a, UPLO)


@rule(np.linalg.eigh, jvp=eigh_jvp, returns="container")
def eigh(g, ans, a, UPLO="L"):
    d[a] = _rt.eigh_adjoint(g, ans, a, UPLO)


def eigvalsh_jvp(ans, a, UPLO="L"):
    d[a] = _rt.eigvalsh_jvp(t, a, UPLO)


@rule(np.linalg.eigvalsh, jvp=eigvalsh_jvp)
def eigvalsh(g, a, UPLO="L"):
    d[a] = _rt.eigvalsh_adjoint(g, a, UPLO)


def svd_jvp(ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = _rt.svd_jvp(t, ans, a, full_matrices, compute_uv, hermitian)


@rule(np.linalg.svd, jvp=svd_jvp, returns="container")
def svd(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    d[a] = _rt.svd_adjoint(g, ans, a, full_matrices, compute_uv, hermitian)


def qr_jvp(ans, a, mode="reduced"):
    d[a] = _rt.qr_jvp(t, ans, a, mode)


@rule(np.linalg.qr, jvp=qr_jvp, returns="container")
def qr(g, ans, a, mode="reduced"):
    d[a] = _rt.qr_adjoint(g, ans, a, mode)


def lstsq_jvp(ans, a, b, rcond=None):
    d[a] = _rt.lstsq_jvp(t, ans, a, b, rcond, 0)
    d[b] = _rt.lstsq_jvp(t, ans, a, b, rcond, 1)


@rule(np.linalg.lstsq, jvp=lstsq_jvp, returns="container")
def lstsq(g, ans, a, b, rcond=None):
    d[a] = _rt.lstsq_adjoint(g, ans, a, b, rcond, 0)
    d[b] = _rt.lstsq_adjoint(g, ans, a, b, rcond, 1)


def pinv_jvp(ans, a):
    d[a] = _rt.pinv_jvp(t, ans, a)


@rule(np.linalg.pinv, jvp=pinv_jvp)
def pinv(g, ans, a):
    d[a] = _rt.pinv_adjoint(g, ans, a)


def matrix_power_jvp(ans, a, n):
    d[a] = _rt.matrix_power_jvp(t, ans, a, n)


@rule(np.linalg.matrix_power, jvp=matrix_power_jvp)
def matrix_power(g, ans, a, n):
    d[a] = _rt.matrix_power_adjoint(g, ans, a, n)


# ------------------------------------------- the helpers above, second order


@rule(_rt.diff_adjoint, jvp="linear")
def rt_diff_adjoint(g, c, a, n=1, axis=-1, prepend=None, append=None, part=0):
    d[c] = _rt.diff_transpose(g, c, a, n, axis, prepend, append, part)


@rule(_rt.diff_transpose, jvp="linear")
def rt_diff_transpose(g, c, v, a, n=1, axis=-1, prepend=None, append=None, part=0):
    d[c] = _rt.diff_adjoint(g, a, n, axis, prepend, append, part)


@rule(_rt.rollaxis_adjoint, jvp="linear")
def rt_rollaxis_adjoint(g, c, a, axis, start=0):
    d[c] = _rt.rollaxis_transpose(g, a, axis, start)


@rule(_rt.rollaxis_transpose, jvp="linear")
def rt_rollaxis_transpose(g, c, a, axis, start=0):
    d[c] = _rt.rollaxis_adjoint(g, a, axis, start)


@rule(_rt.column_stack_piece, jvp="linear")
def rt_column_stack_piece(g, v, tup, kk):
    d[v] = _rt.piece_adjoint(g, v, _rt.column_stack_piece, tup, kk)


@rule(_rt.dstack_piece, jvp="linear")
def rt_dstack_piece(g, v, tup, kk):
    d[v] = _rt.piece_adjoint(g, v, _rt.dstack_piece, tup, kk)


@rule(_rt.append_piece, jvp="linear")
def rt_append_piece(g, v, arr, values, axis, kk):
    d[v] = _rt.piece_adjoint(g, v, _rt.append_piece, arr, values, axis, kk)


@rule(_rt.diagonal_adjoint, jvp="linear")
def rt_diagonal_adjoint(g, c, a, offset=0, axis1=0, axis2=1):
    d[c] = np.diagonal(g, offset, axis1, axis2)


@rule(_rt.pad_adjoint, jvp="linear")
def rt_pad_adjoint(g, c, array, pad_width, mode="constant", constant_values=0, reflect_type="even", part=0):
    d[c] = _rt.pad_jvp(g, array, pad_width, mode, constant_values, reflect_type, part)


@rule(_rt.pad_jvp, jvp="linear")
def rt_pad_jvp(g, c, array, pad_width, mode="constant", constant_values=0, reflect_type="even", part=0):
    d[c] = _rt.pad_adjoint(g, array, pad_width, mode, constant_values, reflect_type, part)


@rule(_rt.sorted_adjoint, jvp="linear")
def rt_sorted_adjoint(g, c, srt, a, axis=-1):
    # the permutation is piecewise constant in the sorted values and a
    d[c] = _rt.sorted_jvp(g, srt, a, axis)


@rule(_rt.sorted_jvp, jvp="linear")
def rt_sorted_jvp(g, c, srt, a, axis=-1):
    d[c] = _rt.sorted_adjoint(g, srt, a, axis)


@jvp_only(_rt.kron_adjoint)
def rt_kron_adjoint_jvp(ans, c, a, b, kk):
    d[c] = _rt.kron_adjoint(t, a, b, kk)
    d[a] = _rt.pair_adjoint_dop(_rt.kron_adjoint, c, a, b, 0, t, kk)
    d[b] = _rt.pair_adjoint_dop(_rt.kron_adjoint, c, a, b, 1, t, kk)


@jvp_only(_rt.cross_adjoint)
def rt_cross_adjoint_jvp(ans, c, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, kk=0):
    d[c] = _rt.cross_adjoint(t, a, b, axisa, axisb, axisc, axis, kk)
    d[a] = _rt.pair_adjoint_dop(_rt.cross_adjoint, c, a, b, 0, t, axisa, axisb, axisc, axis, kk)
    d[b] = _rt.pair_adjoint_dop(_rt.cross_adjoint, c, a, b, 1, t, axisa, axisb, axisc, axis, kk)


def rt_logsumexp_weights_jvp(ans, lse, a, axis=None, b=None, keepdims=False):
    d[a] = ans * t
    d[lse] = -ans * _rt.expand_adjoint(t, ans, axis, keepdims)
    d[b] = _rt.logsumexp_weights(lse, a, axis, None, keepdims) * t


@rule(_rt.logsumexp_weights, broadcasting=True, jvp=rt_logsumexp_weights_jvp)
def rt_logsumexp_weights(g, ans, lse, a, axis=None, b=None, keepdims=False):
    # w = b exp(a - lse): dw = w (da - dlse) + exp(a - lse) db
    d[a] = g * ans
    d[lse] = -_rt.reduce_sum_like(g * ans, lse, axis, keepdims)
    d[b] = g * _rt.logsumexp_weights(lse, a, axis, None, keepdims)


# ------------------------------------------- nan_to_num, real_if_close, astype


@rule(np.nan_to_num, broadcasting=True, jvp="elementwise")
def nan_to_num(g, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # the identity at the finite entries; the replacement values where they go
    d[x] = g * np.isfinite(x)
    d[nan] = g * np.isnan(x)
    d[posinf] = g * np.isposinf(x)
    d[neginf] = g * np.isneginf(x)


@rule(np.real_if_close, jvp="linear")
def real_if_close(g, a, tol=100):
    d[a] = g                # (real arrays: the identity; complex ones are refused, not in the complex table)


if hasattr(np, "astype"):           # NumPy >= 2.1: the function form of x.astype(dtype)
    def astype_jvp(ans, x, dtype, copy=True, device=None):
        d[x] = _rt.float_only(np.asarray(t).astype(np.result_type(ans, np.float16)), ans)

    @rule(np.astype, jvp=astype_jvp)
    def astype(g, ans, x, dtype, copy=True, device=None):
        d[x] = _rt.astype_adjoint(_rt.float_only(g, ans), x)      # (to integers: constant)


@rule(np.fft.fftshift, jvp="linear")
def fftshift(g, x, axes=None):
    d[x] = np.fft.ifftshift(g, axes)


@rule(np.fft.ifftshift, jvp="linear")
def ifftshift(g, x, axes=None):
    d[x] = np.fft.fftshift(g, axes)


def gradient_jvp(ans, f, *varargs, axis=None, edge_order=1):
    d[f] = _rt.gradient_tangent(t, varargs, axis, edge_order)
    d[varargs[k]] = _rt.not_differentiated("np.gradient in its spacing", varargs[k])


@rule(np.gradient, jvp=gradient_jvp, returns="container")
def gradient(g, f, *varargs, axis=None, edge_order=1):
    # linear in f (one array per axis, or one array for one axis); the spacing is not differentiated
    d[f] = _rt.gradient_adjoint(g, f, varargs, axis, edge_order)
    d[varargs[k]] = _rt.not_differentiated("np.gradient in its spacing", varargs[k])


@jvp_only(_rt.gradient_adjoint)
def rt_gradient_adjoint_jvp(ans, c, f, varargs, axis=None, edge_order=1):
    d[c] = _rt.gradient_adjoint(t, f, varargs, axis, edge_order)


@jvp_only(_rt.gradient_tangent)
def rt_gradient_tangent_jvp(ans, v, varargs, axis=None, edge_order=1):
    d[v] = _rt.gradient_tangent(t, varargs, axis, edge_order)


@jvp_only(_rt.signal_convolve_adjoint)
def rt_signal_convolve_adjoint_jvp(ans, c, other, shape, mode="full"):
    # bilinear in the adjoint and the other operand
    d[c] = _rt.signal_convolve_adjoint(t, other, shape, mode)
    d[other] = _rt.signal_convolve_adjoint(c, t, shape, mode)
