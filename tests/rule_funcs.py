"""Functions under test for tests/test_rules.py and
tests/test_rules_hypothesis.py: one NumPy rule each.

Convention: the differentiable inputs come first, then ``w``, a fixed random
weight shaped like the result of the rule under test (the tests find that
shape by calling the function with a probe for ``w``), then static options
(axis, keepdims, ...).  Every function reduces to a scalar with
``np.sum(result * w)``, so no entry of the rule's adjoint can cancel out by
symmetry.
"""

import numpy as np

# ---------------------------------------------------------------- elementwise


def exp(x, w):
    return np.sum(np.exp(x) * w)


def exp2(x, w):
    return np.sum(np.exp2(x) * w)


def log(x, w):
    return np.sum(np.log(x) * w)


def log2(x, w):
    return np.sum(np.log2(x) * w)


def log10(x, w):
    return np.sum(np.log10(x) * w)


def log1p(x, w):
    return np.sum(np.log1p(x) * w)


def expm1(x, w):
    return np.sum(np.expm1(x) * w)


def sqrt(x, w):
    return np.sum(np.sqrt(x) * w)


def cbrt(x, w):
    return np.sum(np.cbrt(x) * w)


def deg2rad(x, w):
    return np.sum(np.deg2rad(x) * w)


def radians(x, w):
    return np.sum(np.radians(x) * w)


def rad2deg(x, w):
    return np.sum(np.rad2deg(x) * w)


def degrees(x, w):
    return np.sum(np.degrees(x) * w)


def square(x, w):
    return np.sum(np.square(x) * w)


def reciprocal(x, w):
    return np.sum(np.reciprocal(x) * w)


def sin(x, w):
    return np.sum(np.sin(x) * w)


def cos(x, w):
    return np.sum(np.cos(x) * w)


def tan(x, w):
    return np.sum(np.tan(x) * w)


def arcsin(x, w):
    return np.sum(np.arcsin(x) * w)


def arccos(x, w):
    return np.sum(np.arccos(x) * w)


def arctan(x, w):
    return np.sum(np.arctan(x) * w)


def sinh(x, w):
    return np.sum(np.sinh(x) * w)


def cosh(x, w):
    return np.sum(np.cosh(x) * w)


def tanh(x, w):
    return np.sum(np.tanh(x) * w)


def arcsinh(x, w):
    return np.sum(np.arcsinh(x) * w)


def arccosh(x, w):
    return np.sum(np.arccosh(x) * w)


def arctanh(x, w):
    return np.sum(np.arctanh(x) * w)


def abs_(x, w):
    return np.sum(np.abs(x) * w)


def absolute(x, w):
    return np.sum(np.absolute(x) * w)


def fabs(x, w):
    return np.sum(np.fabs(x) * w)


def builtin_abs(x, w):
    return np.sum(abs(x) * w)


def negative(x, w):
    return np.sum(np.negative(x) * w)


def positive(x, w):
    return np.sum(np.positive(x) * w)


def usub(x, w):
    return np.sum(-x * w)


def sinc(x, w):
    return np.sum(np.sinc(x) * w)


# ------------------------------------------------------------ binary, broadcast


def op_add(x, y, w):
    return np.sum((x + y) * w)


def op_sub(x, y, w):
    return np.sum((x - y) * w)


def op_mul(x, y, w):
    return np.sum((x * y) * w)


def op_div(x, y, w):
    return np.sum((x / y) * w)


def op_pow(x, y, w):
    return np.sum((x ** y) * w)


def np_add(x, y, w):
    return np.sum(np.add(x, y) * w)


def np_subtract(x, y, w):
    return np.sum(np.subtract(x, y) * w)


def np_multiply(x, y, w):
    return np.sum(np.multiply(x, y) * w)


def np_divide(x, y, w):
    return np.sum(np.divide(x, y) * w)


def np_true_divide(x, y, w):
    return np.sum(np.true_divide(x, y) * w)


def np_power(x, y, w):
    return np.sum(np.power(x, y) * w)


def arctan2(y, x, w):
    return np.sum(np.arctan2(y, x) * w)


def maximum(x, y, w):
    return np.sum(np.maximum(x, y) * w)


def minimum(x, y, w):
    return np.sum(np.minimum(x, y) * w)


def fmax(x, y, w):
    return np.sum(np.fmax(x, y) * w)


def fmin(x, y, w):
    return np.sum(np.fmin(x, y) * w)


def logaddexp(x, y, w):
    return np.sum(np.logaddexp(x, y) * w)


def logaddexp2(x, y, w):
    return np.sum(np.logaddexp2(x, y) * w)


def hypot(x, y, w):
    return np.sum(np.hypot(x, y) * w)


def float_power(x, y, w):
    return np.sum(np.float_power(x, y) * w)


def op_mod(x, y, w):
    return np.sum((x % y) * w)


def np_mod(x, y, w):
    return np.sum(np.mod(x, y) * w)


def np_remainder(x, y, w):
    return np.sum(np.remainder(x, y) * w)


def np_fmod(x, y, w):
    return np.sum(np.fmod(x, y) * w)


# operators with constants


def pow_const2(x, w):
    return np.sum(x ** 2 * w)


def pow_const3(x, w):
    return np.sum(x ** 3 * w)


def pow_const_half(x, w):
    return np.sum(x ** 0.5 * w)


def pow_const_neg(x, w):
    return np.sum(x ** -1.5 * w)


def const_pow(x, w):
    return np.sum(2.0 ** x * w)


def const_div(x, w):
    return np.sum(1.0 / x * w)


def div_const(x, w):
    return np.sum(x / 4.0 * w)


def const_sub(x, w):
    return np.sum((3.0 - x) * w)


def add_int(x, w):
    return np.sum((x + 1) * w)


def mul_const(x, w):
    return np.sum(2.5 * x * w)


def op_matmul(x, y, w):
    return np.sum((x @ y) * w)


def chain(x, y, w):
    z = np.tanh(x * y + 1.0) / (1.0 + y * y)
    return np.sum(np.exp(-z * z) * w)


# where / clip


def where(c, x, y, w):
    return np.sum(np.where(c, x, y) * w)


def where_cmp(x, y, w):
    return np.sum(np.where(x > y, x * x, 2.0 * y) * w)


def clip_const(x, w):
    return np.sum(np.clip(x, -0.5, 0.7) * w)


def clip_arrays(x, lo, hi, w):
    return np.sum(np.clip(x, lo, hi) * w)


def clip_lower_only(x, w):
    return np.sum(np.clip(x, 0.1, None) * w)


def clip_method(x, w):
    return np.sum(x.clip(-0.5, 0.7) * w)


# ------------------------------------------------------------------ reductions


def sum_(x, w, axis, keepdims):
    return np.sum(np.sum(x, axis=axis, keepdims=keepdims) * w)


def mean(x, w, axis, keepdims):
    return np.sum(np.mean(x, axis=axis, keepdims=keepdims) * w)


def max_(x, w, axis, keepdims):
    return np.sum(np.max(x, axis=axis, keepdims=keepdims) * w)


def min_(x, w, axis, keepdims):
    return np.sum(np.min(x, axis=axis, keepdims=keepdims) * w)


def amax(x, w, axis, keepdims):
    return np.sum(np.amax(x, axis=axis, keepdims=keepdims) * w)


def amin(x, w, axis, keepdims):
    return np.sum(np.amin(x, axis=axis, keepdims=keepdims) * w)


def prod(x, w, axis, keepdims):
    return np.sum(np.prod(x, axis=axis, keepdims=keepdims) * w)


def var(x, w, axis, keepdims):
    return np.sum(np.var(x, axis=axis, keepdims=keepdims) * w)


def std(x, w, axis, keepdims):
    return np.sum(np.std(x, axis=axis, keepdims=keepdims) * w)


def var_ddof(x, w, axis, keepdims):
    return np.sum(np.var(x, axis=axis, ddof=1, keepdims=keepdims) * w)


def std_ddof(x, w, axis, keepdims):
    return np.sum(np.std(x, axis=axis, ddof=1, keepdims=keepdims) * w)


def m_sum(x, w, axis, keepdims):
    return np.sum(x.sum(axis=axis, keepdims=keepdims) * w)


def m_mean(x, w, axis, keepdims):
    return np.sum(x.mean(axis=axis, keepdims=keepdims) * w)


def m_max(x, w, axis, keepdims):
    return np.sum(x.max(axis=axis, keepdims=keepdims) * w)


def m_min(x, w, axis, keepdims):
    return np.sum(x.min(axis=axis, keepdims=keepdims) * w)


def m_prod(x, w, axis, keepdims):
    return np.sum(x.prod(axis=axis, keepdims=keepdims) * w)


def m_var(x, w, axis, keepdims):
    return np.sum(x.var(axis=axis, keepdims=keepdims) * w)


def m_std(x, w, axis, keepdims):
    return np.sum(x.std(axis=axis, keepdims=keepdims) * w)


def m_var_ddof(x, w, axis, keepdims):
    return np.sum(x.var(axis=axis, ddof=1, keepdims=keepdims) * w)


def sum_plain(x, w):
    return np.sum(x) * w


def m_sum_plain(x, w):
    return x.sum() * w


def m_mean_plain(x, w):
    return x.mean() * w


def m_sum_axis0(x, w):
    return np.sum(x.sum(axis=0) * w)


def m_sum_positional(x, w):
    return np.sum(x.sum(0) * w)


def sum_positional(x, w):
    return np.sum(np.sum(x, 0) * w)


def cumsum(x, w, axis):
    return np.sum(np.cumsum(x, axis=axis) * w)


def m_cumsum(x, w, axis):
    return np.sum(x.cumsum(axis=axis) * w)


# ---------------------------------------------------------------- linear algebra


def matmul(x, y, w):
    return np.sum(np.matmul(x, y) * w)


def dot(x, y, w):
    return np.sum(np.dot(x, y) * w)


def m_dot(x, y, w):
    return np.sum(x.dot(y) * w)


def einsum1(x, w, spec):
    return np.sum(np.einsum(spec, x) * w)


def einsum2(x, y, w, spec):
    return np.sum(np.einsum(spec, x, y) * w)


def einsum3(x, y, z, w, spec):
    return np.sum(np.einsum(spec, x, y, z) * w)


def einsum_sublists(x, y, w):
    # the interleaved form: operand, sublist, ..., output sublist
    return np.sum(np.einsum(x, [0, 1], y, [1, 2], [0, 2]) * w)


def einsum_sublists_implicit(x, y, w):
    return np.sum(np.einsum(x, [..., 1], y, [1, 2]) * w)


def einsum_sublists_diagonal(x, w):
    return np.sum(np.einsum(x, [0, 0], [0]) * w)


def einsum_sublists_in_a_name(x, y, w):
    s = [0, 1]
    return np.sum(np.einsum(x, s, y, [1, 2]) * w)


def outer(x, y, w):
    return np.sum(np.outer(x, y) * w)


def inner(x, y, w):
    return np.sum(np.inner(x, y) * w)


def tensordot(x, y, w, axes):
    return np.sum(np.tensordot(x, y, axes=axes) * w)


def tensordot_default(x, y, w):
    return np.sum(np.tensordot(x, y) * w)


def trace(x, w):
    return np.sum(np.trace(x) * w)


def trace_opts(x, w, offset, axis1, axis2):
    return np.sum(np.trace(x, offset=offset, axis1=axis1, axis2=axis2) * w)


def m_trace(x, w):
    return np.sum(x.trace() * w)


def transpose(x, w):
    return np.sum(np.transpose(x) * w)


def transpose_axes(x, w, axes):
    return np.sum(np.transpose(x, axes) * w)


def attr_T(x, w):
    return np.sum(x.T * w)


def m_transpose(x, w):
    return np.sum(x.transpose() * w)


def m_transpose_args(x, w):
    return np.sum(x.transpose(1, 2, 0) * w)


def m_transpose_tuple(x, w):
    return np.sum(x.transpose((2, 0, 1)) * w)


def swapaxes(x, w, a1, a2):
    return np.sum(np.swapaxes(x, a1, a2) * w)


def m_swapaxes(x, w):
    return np.sum(x.swapaxes(0, -1) * w)


def moveaxis(x, w, src, dst):
    return np.sum(np.moveaxis(x, src, dst) * w)


def inv(a, w):
    return np.sum(np.linalg.inv(a) * w)


def solve(a, b, w):
    return np.sum(np.linalg.solve(a, b) * w)


def det(a, w):
    return np.sum(np.linalg.det(a) * w)


def det_direct(a):
    return np.linalg.det(a)


def slogdet(a, w):
    sign, logdet = np.linalg.slogdet(a)
    return np.sum(logdet * w)


def slogdet_direct(a):
    sign, logdet = np.linalg.slogdet(a)
    return logdet


def slogdet_both(a, w):
    sign, logdet = np.linalg.slogdet(a)
    return np.sum(sign * np.exp(logdet) * w)


def norm(x, w):
    return np.sum(np.linalg.norm(x) * w)


def norm_opts(x, w, ord, axis, keepdims):
    return np.sum(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims) * w)


# ------------------------------------------------------------------- shape


def reshape(x, w, shape):
    return np.sum(np.reshape(x, shape) * w)


def m_reshape_args(x, w):
    return np.sum(x.reshape(3, -1) * w)


def m_reshape_tuple(x, w, shape):
    return np.sum(x.reshape(shape) * w)


def ravel(x, w):
    return np.sum(np.ravel(x) * w)


def m_ravel(x, w):
    return np.sum(x.ravel() * w)


def m_flatten(x, w):
    return np.sum(x.flatten() * w)


def squeeze(x, w):
    return np.sum(np.squeeze(x) * w)


def squeeze_axis(x, w, axis):
    return np.sum(np.squeeze(x, axis=axis) * w)


def m_squeeze(x, w):
    return np.sum(x.squeeze() * w)


def expand_dims(x, w, axis):
    return np.sum(np.expand_dims(x, axis) * w)


def concatenate2(x, y, w, axis):
    return np.sum(np.concatenate([x, y], axis=axis) * w)


def concatenate3(x, y, z, w):
    return np.sum(np.concatenate((x, y, z)) * w)


def concatenate_repeat(x, y, w):
    return np.sum(np.concatenate([x, y, x], axis=0) * w)


def stack(x, y, w, axis):
    return np.sum(np.stack([x, y], axis=axis) * w)


def stack_default(x, y, z, w):
    return np.sum(np.stack((x, y, z)) * w)


def hstack(x, y, w):
    return np.sum(np.hstack([x, y]) * w)


def vstack(x, y, w):
    return np.sum(np.vstack([x, y]) * w)


def broadcast_to(x, w, shape):
    return np.sum(np.broadcast_to(x, shape) * w)


def tile(x, w, reps):
    return np.sum(np.tile(x, reps) * w)


def repeat(x, w, repeats, axis):
    return np.sum(np.repeat(x, repeats, axis=axis) * w)


def flip(x, w, axis):
    return np.sum(np.flip(x, axis) * w)


def fliplr(x, w):
    return np.sum(np.fliplr(x) * w)


def flipud(x, w):
    return np.sum(np.flipud(x) * w)


def roll(x, w, shift, axis):
    return np.sum(np.roll(x, shift, axis=axis) * w)


def atleast_1d(x, w):
    return np.sum(np.atleast_1d(x) * w)


def atleast_2d(x, w):
    return np.sum(np.atleast_2d(x) * w)


def atleast_3d(x, w):
    return np.sum(np.atleast_3d(x) * w)


def diag(x, w, k):
    return np.sum(np.diag(x, k) * w)


def triu(x, w, k):
    return np.sum(np.triu(x, k) * w)


def tril(x, w, k):
    return np.sum(np.tril(x, k) * w)


# ----------------------------------------------------------------- subscripts


def sub_int(x, w):
    return np.sum(x[1] * w)


def sub_neg_int(x, w):
    return np.sum(x[-1] * w)


def sub_slice(x, w):
    return np.sum(x[1:] * w)


def sub_slice_neg(x, w):
    return np.sum(x[-3:-1] * w)


def sub_step(x, w):
    return np.sum(x[::2] * w)


def sub_reverse(x, w):
    return np.sum(x[::-1] * w)


def sub_tuple(x, w):
    return x[1, 2] * w


def sub_tuple_neg(x, w):
    return x[-1, -2] * w


def sub_row(x, w):
    return np.sum(x[1, :] * w)


def sub_col(x, w):
    return np.sum(x[:, -1] * w)


def sub_ellipsis(x, w):
    return np.sum(x[..., 0] * w)


def sub_newaxis(x, w):
    return np.sum(x[None, :, 1:] * w)


def sub_int_array(x, w, idx):
    return np.sum(x[idx] * w)


def sub_int_list(x, w):
    return np.sum(x[[0, 2, 0, 0]] * w)


def sub_int_array_2d(x, w, rows, cols):
    return np.sum(x[rows, cols] * w)


def sub_int_array_slice(x, w, idx):
    return np.sum(x[idx, 1:] * w)


def sub_mask(x, w, mask):
    return np.sum(x[mask] * w)


def sub_mask_computed(x):
    return np.sum(x[x > 0.0] ** 2)


def sub_twice(x, w):
    y = x[1:]
    return np.sum(y[::-1] * w) + x[0] * y[0]


# ------------------------------------------------------- attributes, methods


def attrs(x, w):
    n = x.shape[0]
    return np.sum(x * w) * n / x.size + x.ndim


def m_copy(x, w):
    return np.sum(x.copy() * w)


def np_copy(x, w):
    return np.sum(np.copy(x) * w)


def np_array(x, w):
    return np.sum(np.array(x) * w)


def np_asarray(x, w):
    return np.sum(np.asarray(x) * w)


def m_astype(x, w):
    return np.sum(x.astype(np.float64) * w)


def m_astype_float(x, w):
    return np.sum(x.astype(float) * w)


# -------------------------------------------------------- non-differentiable


def nd_zeros_like(x, w):
    return np.sum((np.zeros_like(x) + x * x) * w)


def nd_ones_like(x, w):
    return np.sum(np.ones_like(x) * x * w)


def nd_full_like(x, w):
    return np.sum(np.full_like(x, 2.0) * np.sin(x) * w)


def nd_arange(x, w):
    return np.sum(x * np.arange(x.shape[-1]) * w)


def nd_argmax(x, w):
    i = np.argmax(x)
    j = np.argmin(x)
    return x[i] * w + x[j] * x[j]


def nd_m_argmax(x, w):
    i = x.argmax()
    return x[i] * w


def nd_floor(x, w):
    return np.sum((np.floor(x) + np.ceil(x) * x) * w)


def nd_round(x, w):
    return np.sum((np.round(x) * x + np.around(x, 1)) * w)


def nd_sign(x, w):
    return np.sum(np.sign(x) * x * w)


def nd_compare(x, y, w):
    m = x > y
    return np.sum((m * x + (x <= y) * y * y) * w)


def nd_np_compare(x, y, w):
    m = np.greater(x, y)
    return np.sum(np.where(m, x, y) * w) + np.sum(np.less(x, y) * x)


def nd_isfinite(x, w):
    return np.sum(np.where(np.isfinite(x), x, 0.0) * w)


def nd_shape_fns(x, w):
    return np.sum(x * w) * np.size(x) + np.ndim(x) + np.shape(x)[0]


def nd_trunc_rint(x, w):
    return np.sum((np.trunc(x) + np.rint(x) + x) * w)


def nd_floordiv(x, w):
    return np.sum((x // 0.7 + np.floor_divide(x, 0.3) + x) * w)


# ------------------------------------------------------------------- extras


def where_indices(x, w):
    idx = np.where(x > 0.0)[0]
    return np.sum(x[idx] * w)


def reshape_F(x, w):
    return np.sum(np.reshape(x, (3, 2), order="F") * w)


def m_reshape_F(x, w):
    return np.sum(x.reshape((3, 2), order="F") * w)


def m_ravel_F(x, w):
    return np.sum(x.ravel(order="F") * w)


def attr_mT(x, w):
    return np.sum(x.mT * w)


def attr_real(x, w):
    return np.sum(x.real * w)


def concatenate_const(x, w):
    return np.sum(np.concatenate([x, np.ones(2)]) * w)


def stack_scalar(x, y, w):
    return np.sum(np.stack([x, y, 1.0]) * w)


# list literals as operands of rules whose parameter is an array
# (see test_rules.py::test_list_literal_operand: a compiler bug)


def array_of_list(x, y):
    return np.sum(np.array([x, y]) ** 2)


def sum_of_list(x, y):
    return np.sum([x, y * 2.0])


def var_std_of_scalars(x, y):
    return np.std(x * y) + np.var(x * 2.0) + np.var(y, ddof=0) + x * y


# ------------------------------------------- array manipulation (issue #16)


def diff(x, w, n, axis):
    return np.sum(np.diff(x, n=n, axis=axis) * w)


def diff_pre_app(x, p, q, w, axis):
    return np.sum(np.diff(x, axis=axis, prepend=p, append=q) * w)


def rot90(x, w, k, axes):
    return np.sum(np.rot90(x, k, axes) * w)


def rot90_default(x, w):
    return np.sum(np.rot90(x) * w)


def rollaxis(x, w, axis, start):
    return np.sum(np.rollaxis(x, axis, start) * w)


def column_stack(x, y, w):
    return np.sum(np.column_stack([x, y]) * w)


def dstack(x, y, w):
    return np.sum(np.dstack((x, y)) * w)


def append(x, y, w, axis):
    return np.sum(np.append(x, y, axis=axis) * w)


def split_unpack(x, w, axis):
    a, b, c = np.split(x, 3, axis=axis)
    return np.sum(a * w) + np.sum(np.sin(c) * w) - np.sum(b * c * w)


def array_split_index(x, w, sections):
    parts = np.array_split(x, sections)
    return np.sum(parts[1] * w) + np.sum(parts[0] ** 2)


def hvd_split(x, w):
    a, b = np.hsplit(x, 2)
    c, e = np.vsplit(x, [1])
    f, h = np.dsplit(x, [1])
    return np.sum(a * b * w) + np.sum(c ** 2) + np.sum(np.sin(e)) + np.sum(f * h ** 2)


def split_loop(x):
    s = 0.0
    for p in np.split(x, 2):
        s = s + np.sum(p ** 2)
    return s


def diagonal(x, w, offset, axis1, axis2):
    return np.sum(np.diagonal(x, offset, axis1, axis2) * w)


def m_diagonal(x, w):
    return np.sum(x.diagonal(1) * w)


def pad(x, w, width, mode):
    return np.sum(np.pad(x, width, mode=mode) * w)


def pad_constant(x, c, w, width):
    return np.sum(np.pad(x, width, constant_values=c) * w)


def kron(x, y, w):
    return np.sum(np.kron(x, y) * w)


def cross(x, y, w):
    return np.sum(np.cross(x, y) * w)


def cross_axis(x, y, w, axis):
    return np.sum(np.cross(x, y, axis=axis) * w)


def vdot(x, y, w):
    return np.vdot(x, y) * w


def average(x, w, axis):
    return np.sum(np.average(x, axis=axis) * w)


def average_weighted(x, v, w, axis, keepdims):
    return np.sum(np.average(x, axis=axis, weights=v, keepdims=keepdims) * w)


def cumprod(x, w, axis):
    return np.sum(np.cumprod(x, axis=axis) * w)


def m_cumprod(x, w, axis):
    return np.sum(x.cumprod(axis) * w)


def sort(x, w, axis):
    return np.sum(np.sort(x, axis=axis) * w)


def partition(x, w, kth, axis):
    return np.sum(np.partition(x, kth, axis=axis) * w)


def ptp(x, w, axis, keepdims):
    return np.sum(np.ptp(x, axis=axis, keepdims=keepdims) * w)


def cholesky(a, w):
    s = a @ np.swapaxes(a, -1, -2) + np.eye(a.shape[-1])    # a positive definite input
    return np.sum(np.linalg.cholesky(np.tril(s) + 0.3 * np.triu(a, 1)) * w)


def cholesky_upper(a, w):
    s = a @ np.swapaxes(a, -1, -2) + np.eye(a.shape[-1])
    return np.sum(np.linalg.cholesky(s, upper=True) * w)


def eigh(a, w):
    vals, vecs = np.linalg.eigh(a)
    # sign-invariant in the eigenvectors (each is defined up to its sign)
    return np.sum((vecs ** 2 + vals[..., None, :]) * w)


def eigh_upper_vectors(a, w):
    vals, vecs = np.linalg.eigh(a, UPLO="U")
    return np.sum((vecs * vecs[..., :1, :]) * w)


def eigh_values(a, w):
    return np.sum(np.linalg.eigh(a)[0] * w)


def eigvalsh(a, w):
    return np.sum(np.linalg.eigvalsh(a) * w)


# ---------------------------------------------------------- scipy.special

try:
    import scipy.special as sp
except ImportError:  # pragma: no cover
    sp = None


def sp_expit(x, w):
    return np.sum(sp.expit(x) * w)


def sp_logit(x, w):
    return np.sum(sp.logit(x) * w)


def sp_erf(x, w):
    return np.sum(sp.erf(x) * w)


def sp_erfc(x, w):
    return np.sum(sp.erfc(x) * w)


def sp_erfinv(x, w):
    return np.sum(sp.erfinv(x) * w)


def sp_gammaln(x, w):
    return np.sum(sp.gammaln(x) * w)


def sp_digamma(x, w):
    return np.sum(sp.digamma(x) * w) + np.sum(sp.psi(x) ** 2)


def sp_polygamma(x, w):
    return np.sum(sp.polygamma(1, x) * w)


def sp_logsumexp(x, w, axis, keepdims):
    return np.sum(sp.logsumexp(x, axis=axis, keepdims=keepdims) * w)


def sp_logsumexp_b(x, b, w, axis):
    return np.sum(sp.logsumexp(x, axis=axis, b=b) * w)


def sp_softmax(x, w, axis):
    return np.sum(sp.softmax(x, axis=axis) * w)


def sp_log_softmax(x, w, axis):
    return np.sum(sp.log_softmax(x, axis=axis) * w)


def sp_xlogy(x, y, w):
    return np.sum(sp.xlogy(x, y) * w)


def split_kept_whole(x):
    parts = np.split(x, 3, axis=1)
    a, b, c = parts
    return np.sum(a * b) + np.sum(parts[0] ** 2) + np.sum(np.sin(c) * parts[2])


def slogdet_kept_whole(A):
    r = np.linalg.slogdet(A)
    return r[1] + r[1] * r[0]


def eigh_kept_whole(A):
    r = np.linalg.eigh(A + A.T)
    return np.sum(r[0] ** 2) + np.sum(r[0]) + np.sum(r[1][:, 0] ** 4)


def full(x, w, shape):
    return np.sum(np.full(shape, x) * w)


def full_like(x, w, like):
    return np.sum(np.full_like(like, x * 2.0) * w)


def m_fill(x, w, shape):
    y = np.zeros(shape)
    y.fill(x)
    return np.sum(y * w)


def linspace(a, b, w, num, endpoint, axis):
    return np.sum(np.linspace(a, b, num, endpoint=endpoint, axis=axis) * w)


def linspace_start(a, w):
    return np.sum(np.linspace(a, 3.0, 5) * w)


def arange_start_step(a, s, w):
    return np.sum(np.arange(a, a + 4.0, s) * w)


def arange_stop_only(a, w):
    return np.sum(np.arange(4.0) * w) * a


def heaviside(x, h, w):
    return np.sum(np.heaviside(np.round(x), h) * w)


# ------------------------------------------------------- decompositions (2)


def svd_values(a, w):
    return np.sum(np.linalg.svd(a, compute_uv=False) * w)


def svd_reduced(a, w1, w2, w3):
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum((u * u[0]) * w1) + np.sum(s * w2) + np.sum((vt * vt[:, :1]) * w3)


def svd_full_leading(a):
    u, s, vt = np.linalg.svd(a)
    k = min(a.shape)
    return np.sum(u[:, :k] ** 3) + np.sum(s ** 2) + np.sum(vt[:k, :] ** 3)


def svd_full_extra_columns(a):
    u, s, vt = np.linalg.svd(a)
    return np.sum(u[:, -1] ** 3)


def qr_both(a, w1, w2):
    q, r = np.linalg.qr(a)
    return np.sum(q * w1) + np.sum(r * w2)


def qr_r(a, w):
    return np.sum(np.linalg.qr(a, mode="r") * w)


def pinv(a, w):
    return np.sum(np.linalg.pinv(a) * w)


def matrix_power(a, w, n):
    return np.sum(np.linalg.matrix_power(a, n) * w)


def lstsq_x(a, b, w):
    return np.sum(np.linalg.lstsq(a, b, rcond=None)[0] * w)


def lstsq_all(a, b, w):
    x, res, rank, s = np.linalg.lstsq(a, b, rcond=None)
    return np.sum(x * w) + 0.7 * np.sum(res) + np.sum(s ** 2)


# ---------------------------------------------------------------- selection


def take_along_axis(x, w, idx, axis):
    return np.sum(np.take_along_axis(x, idx, axis) * w)


def take_along_axis_sorted(x, w):
    return np.sum(np.take_along_axis(x, np.argsort(x, axis=1), axis=1) * w)


def select3(x, y, w):
    return np.sum(np.select([x > 0.5, x < -0.5], [x ** 2, np.sin(y)], default=x * y) * w)


def select_scalar_default(x, w):
    return np.sum(np.select([x > 0], [x], default=2.0) * w)


def nansum(x, w, axis, keepdims):
    return np.sum(np.nansum(x, axis=axis, keepdims=keepdims) * w)


def nanmean(x, w, axis, keepdims):
    return np.sum(np.nanmean(x, axis=axis, keepdims=keepdims) * w)


def nanmax(x, w, axis, keepdims):
    return np.sum(np.nanmax(x, axis=axis, keepdims=keepdims) * w)


def nanmin(x, w, axis, keepdims):
    return np.sum(np.nanmin(x, axis=axis, keepdims=keepdims) * w)


def sp_erfcx(x, w):
    return np.sum(sp.erfcx(x) * w)


def sp_gamma(x, w):
    return np.sum(sp.gamma(x) * w)


def sp_rgamma(x, w):
    return np.sum(sp.rgamma(x) * w)


def sp_entr(x, w):
    return np.sum(sp.entr(x) * w)


def sp_i0(x, w):
    return np.sum(sp.i0(x) * w)


def sp_i1(x, w):
    return np.sum(sp.i1(x) * w)


def sp_j0(x, w):
    return np.sum(sp.j0(x) * w)


def sp_j1(x, w):
    return np.sum(sp.j1(x) * w)


def sp_y0(x, w):
    return np.sum(sp.y0(x) * w)


def sp_y1(x, w):
    return np.sum(sp.y1(x) * w)


def sp_iv(x, w):
    return np.sum(sp.iv(1.5, x) * w)


def sp_jv(x, w):
    return np.sum(sp.jv(np.array([0.5, 2.0, 3.0])[:np.shape(x)[-1]] if np.ndim(x) else 2.5, x) * w)


def sp_yv(x, w):
    return np.sum(sp.yv(2.5, x) * w)


def sp_kv(x, w):
    return np.sum(sp.kv(0.7, x) * w)


def sp_jv_in_order(v, x):
    return np.sum(sp.jv(v * x, x))


def sp_ndtr(x, w):
    return np.sum(sp.ndtr(x) * w)


def sp_log_ndtr(x, w):
    return np.sum(sp.log_ndtr(x) * w)


def sp_ndtri(x, w):
    return np.sum(sp.ndtri(x) * w)


def sp_beta(x, y, w):
    return np.sum(sp.beta(x, y) * w)


def sp_betaln(x, y, w):
    return np.sum(sp.betaln(x, y) * w)


def sp_xlog1py(x, y, w):
    return np.sum(sp.xlog1py(x, y) * w)


def int_full(x):
    return np.sum(np.full(4, x, dtype=int) * 1.5)


def int_full_like(x):
    return np.sum(np.full_like(np.arange(3), x) * 1.5)


def int_linspace(x):
    return np.sum(np.linspace(0.0, x, 4, dtype=int) * 1.5)


def int_astype(x):
    return np.sum((x * np.ones(3)).astype(int) * 2.0)


def lstsq_both(a, b):
    return np.sum(np.linalg.lstsq(a * 1.0, b * 2.0, rcond=None)[0] ** 2)


def sp_rgamma_sum(x):
    return np.sum(sp.rgamma(x) * np.array([1.0, 2.0, 3.0]))


# ------------------------------------------------------------ scipy.stats

try:
    from scipy import stats
except ImportError:  # pragma: no cover
    stats = None


def st_norm(x, loc, scale, w):
    return np.sum((stats.norm.logpdf(x, loc, scale) + stats.norm.pdf(x, loc=loc, scale=scale)
                   + stats.norm.cdf(x, loc, scale) + stats.norm.sf(x, loc, scale)
                   + stats.norm.logcdf(x, loc, scale) + stats.norm.logsf(x, loc, scale)) * w)


def st_norm_standard(x, w):
    return np.sum((stats.norm.logpdf(x) + stats.norm.cdf(x) + stats.norm.logcdf(x) + stats.norm.pdf(x)) * w)


def st_mvn(x, mean, cov, w):
    # cov: SciPy reads its lower triangle only
    return np.sum(stats.multivariate_normal.logpdf(x, mean, cov) * w)


def st_mvn_no_mean(x, cov, w):
    return np.sum(stats.multivariate_normal.logpdf(x, cov=cov) * w)


# ------------------------------------------------------ convolve, interp


def convolve(a, v, w, mode):
    return np.sum(np.convolve(a, v, mode) * w)


def interp(x, xp, fp, w):
    return np.sum(np.interp(x, xp, fp) * w)


def interp_left_right(x, fp, left, right, w):
    return np.sum(np.interp(x, np.array([-0.5, 0.0, 0.7, 1.0]), fp, left=left, right=right) * w)
