"""Rules for Python operators, NumPy functions and array methods.

Each rule is one short template next to its siblings (see
:mod:`s2sad.rules.core` for the template language), and declares its
tangent beside it: ``jvp="linear"`` / ``"multilinear"`` / ``"elementwise"``
or an explicit tangent template (NumPy ufuncs are elementwise unless they
say otherwise).  Adding a function is one block here.  ``broadcasting=True``
rules are summed back to their operands' shapes by the compiler.
Matrix rules are matrix operations: the adjoint of ``a @ b`` is two matrix
products, never a loop over elements.
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import RuleTable, d, k, t

T = RuleTable()
defrule, defmethod = T.defrule, T.defmethod

# ---------------------------------------------------------------- operators


@defrule("Add", np.add, broadcasting=True, jvp="elementwise")
def add(g, x, y):
    d[x] = g
    d[y] = g


@defrule("Sub", np.subtract, broadcasting=True, jvp="elementwise")
def sub(g, x, y):
    d[x] = g
    d[y] = -g


@defrule("Mult", np.multiply, broadcasting=True, jvp="elementwise")
def mul(g, x, y):
    d[x] = g * y
    d[y] = g * x


@defrule("Div", np.divide, np.true_divide, broadcasting=True, jvp="elementwise")
def div(g, ans, x, y):
    d[x] = g / y
    d[y] = -g * ans / y


@defrule("Pow", np.power, np.float_power, broadcasting=True, jvp="elementwise")
def power(g, ans, x, y):
    d[x] = g * y * x ** (y - 1)
    d[y] = g * ans * _rt.log_or_zero(x)


@defrule("Mod", np.mod, np.remainder, broadcasting=True, jvp="elementwise")
def mod(g, x, y):
    # x % y = x - floor(x / y) * y, and floor is piecewise constant
    d[x] = g
    d[y] = -g * (x // y)


@defrule(np.fmod, broadcasting=True)
def fmod(g, x, y):
    # fmod(x, y) = x - trunc(x / y) * y
    d[x] = g
    d[y] = -g * np.trunc(x / y)


@defrule("USub", np.negative, jvp="elementwise")
def neg(g, x):
    d[x] = -g


@defrule(np.positive, jvp="linear")
def pos(g, x):
    d[x] = g


@defrule("MatMult", np.matmul, jvp="multilinear")
def matmul(g, x, y):
    d[x] = _rt.matmul_adjoint_a(g, x, y)
    d[y] = _rt.matmul_adjoint_b(g, x, y)


@defrule(np.dot, jvp="multilinear")
def dot(g, a, b):
    d[a] = _rt.dot_adjoint_a(g, a, b)
    d[b] = _rt.dot_adjoint_b(g, a, b)


@defrule(np.float64, np.float32, np.float16, jvp="linear")
def float_cast(g, x):
    # a NumPy scalar made from a value: the identity, in the value's dtype
    d[x] = _rt.astype_adjoint(g, x)


@defrule("copy", np.copy, np.array, np.asarray, np.ascontiguousarray, np.asanyarray, jvp="linear")
def identity(g, a, dtype=None):
    d[a] = g


# ----------------------------------------------------------- elementwise


@defrule(np.exp, broadcasting=False)
def exp(g, ans, x):
    d[x] = g * ans


@defrule(np.exp2)
def exp2(g, ans, x):
    d[x] = g * ans * 0.6931471805599453


@defrule(np.expm1)
def expm1(g, ans, x):
    d[x] = g * (ans + 1.0)


@defrule(np.log)
def log(g, x):
    d[x] = g / x


@defrule(np.log2)
def log2(g, x):
    d[x] = g / (x * 0.6931471805599453)


@defrule(np.log10)
def log10(g, x):
    d[x] = g / (x * 2.302585092994046)


@defrule(np.log1p)
def log1p(g, x):
    d[x] = g / (1.0 + x)


@defrule(np.sqrt)
def sqrt(g, ans, x):
    d[x] = g * 0.5 / ans


@defrule(np.cbrt)
def cbrt(g, ans, x):
    d[x] = g / (3.0 * ans * ans)


@defrule(np.deg2rad, np.radians)
def deg2rad(g, x):
    d[x] = g * 0.017453292519943295        # pi / 180


@defrule(np.rad2deg, np.degrees)
def rad2deg(g, x):
    d[x] = g * 57.29577951308232           # 180 / pi


@defrule(np.square)
def square(g, x):
    d[x] = g * 2.0 * x


@defrule(np.reciprocal)
def reciprocal(g, ans, x):
    d[x] = -g * ans * ans


@defrule(np.sin)
def sin(g, x):
    d[x] = g * np.cos(x)


@defrule(np.cos)
def cos(g, x):
    d[x] = -g * np.sin(x)


@defrule(np.tan)
def tan(g, ans, x):
    d[x] = g * (1.0 + ans * ans)


@defrule(np.arcsin)
def arcsin(g, x):
    d[x] = g / np.sqrt(1.0 - x * x)


@defrule(np.arccos)
def arccos(g, x):
    d[x] = -g / np.sqrt(1.0 - x * x)


@defrule(np.arctan)
def arctan(g, x):
    d[x] = g / (1.0 + x * x)


@defrule(np.arctan2, broadcasting=True)
def arctan2(g, y, x):
    d[y] = g * x / (x * x + y * y)
    d[x] = -g * y / (x * x + y * y)


@defrule(np.sinh)
def sinh(g, x):
    d[x] = g * np.cosh(x)


@defrule(np.cosh)
def cosh(g, x):
    d[x] = g * np.sinh(x)


@defrule(np.tanh)
def tanh(g, ans, x):
    d[x] = g * (1.0 - ans * ans)


@defrule(np.arcsinh)
def arcsinh(g, x):
    d[x] = g / np.sqrt(x * x + 1.0)


@defrule(np.arccosh)
def arccosh(g, x):
    d[x] = g / np.sqrt(x * x - 1.0)


@defrule(np.arctanh)
def arctanh(g, x):
    d[x] = g / (1.0 - x * x)


@defrule(np.abs, np.absolute, np.fabs)
def absolute(g, x):
    d[x] = g * np.sign(x)


@defrule(np.maximum, np.fmax, broadcasting=True)
def maximum(g, x, y):
    d[x] = g * _rt.tie_weight(x, y)
    d[y] = g * _rt.tie_weight(y, x)


@defrule(np.minimum, np.fmin, broadcasting=True)
def minimum(g, x, y):
    d[x] = g * _rt.tie_weight(y, x)
    d[y] = g * _rt.tie_weight(x, y)


@defrule(np.where, broadcasting=True, jvp="elementwise")
def where(g, condition, x=None, y=None):
    # x and y default to None for np.where(condition) (indices: no adjoint)
    d[x] = np.where(condition, g, 0.0)
    d[y] = np.where(condition, 0.0, g)


@defrule(np.clip, broadcasting=True, jvp="elementwise")
def clip(g, a, a_min=None, a_max=None):
    d[a] = g * _rt.clip_mask(a, a_min, a_max)
    d[a_min] = g * _rt.below_mask(a, a_min)
    d[a_max] = g * _rt.above_mask(a, a_max)


@defrule(np.logaddexp, broadcasting=True)
def logaddexp(g, ans, x, y):
    d[x] = g * np.exp(x - ans)
    d[y] = g * np.exp(y - ans)


@defrule(np.logaddexp2, broadcasting=True)
def logaddexp2(g, ans, x, y):
    d[x] = g * np.exp2(x - ans)
    d[y] = g * np.exp2(y - ans)


@defrule(np.hypot, broadcasting=True)
def hypot(g, ans, x, y):
    d[x] = g * x / ans
    d[y] = g * y / ans


@defrule(np.sinc, jvp="elementwise")
def sinc(g, x):
    d[x] = g * _rt.sinc_derivative(x)


# -------------------------------------------------------------- reductions


@defrule(np.sum, jvp="linear")
def sum_(g, a, axis=None, dtype=None, keepdims=False):
    d[a] = _rt.sum_adjoint(g, a, axis, keepdims)


@defrule(np.mean, jvp="linear")
def mean(g, a, axis=None, dtype=None, keepdims=False):
    d[a] = _rt.mean_adjoint(g, a, axis, keepdims)


def extremum_jvp(ans, a, axis=None, keepdims=False):
    d[a] = _rt.reduction_jvp(_rt.extremum_adjoint, t, ans, a, axis, keepdims)


@defrule(np.max, np.amax, jvp=extremum_jvp)
def max_(g, ans, a, axis=None, keepdims=False):
    d[a] = _rt.extremum_adjoint(g, ans, a, axis, keepdims)


@defrule(np.min, np.amin, jvp=extremum_jvp)
def min_(g, ans, a, axis=None, keepdims=False):
    d[a] = _rt.extremum_adjoint(g, ans, a, axis, keepdims)


def prod_jvp(ans, a, axis=None, dtype=None, keepdims=False):
    d[a] = _rt.reduction_jvp(_rt.prod_adjoint, t, ans, a, axis, keepdims)


@defrule(np.prod, jvp=prod_jvp)
def prod(g, ans, a, axis=None, dtype=None, keepdims=False):
    d[a] = _rt.prod_adjoint(g, ans, a, axis, keepdims)


def var_jvp(ans, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = _rt.var_jvp(t, a, axis, ddof, keepdims)


@defrule(np.var, jvp=var_jvp)
def var(g, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = _rt.var_adjoint(g, a, axis, ddof, keepdims)


def std_jvp(ans, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = _rt.std_jvp(t, ans, a, axis, ddof, keepdims)


@defrule(np.std, jvp=std_jvp)
def std(g, ans, a, axis=None, dtype=None, ddof=0, keepdims=False):
    d[a] = _rt.std_adjoint(g, ans, a, axis, ddof, keepdims)


@defrule(np.cumsum, jvp="linear")
def cumsum(g, a, axis=None):
    d[a] = _rt.cumsum_adjoint(g, a, axis)


# ---------------------------------------------------------- linear algebra


@defrule(np.einsum, jvp="multilinear")
def einsum(g, subscripts, *operands):
    d[operands[k]] = _rt.einsum_adjoint(g, subscripts, operands, k)
    # an active `subscripts` is an operand of the interleaved form whose
    # sublists are not literals (literal ones are rewritten to a string):
    # einsum_adjoint refuses it by name
    d[subscripts] = _rt.einsum_adjoint(g, subscripts, operands, -1)


@defrule(np.outer, jvp="multilinear")
def outer(g, a, b):
    d[a] = (g @ np.ravel(b)).reshape(np.shape(a))
    d[b] = (np.ravel(a) @ g).reshape(np.shape(b))


@defrule(np.inner, jvp="multilinear")
def inner(g, a, b):
    d[a] = _rt.inner_adjoint(g, a, b, 0)
    d[b] = _rt.inner_adjoint(g, a, b, 1)


@defrule(np.tensordot, jvp="multilinear")
def tensordot(g, a, b, axes=2):
    d[a] = _rt.tensordot_adjoint(g, a, b, axes, 0)
    d[b] = _rt.tensordot_adjoint(g, a, b, axes, 1)


@defrule(np.trace, jvp="linear")
def trace(g, a, offset=0, axis1=0, axis2=1):
    d[a] = _rt.trace_adjoint(g, a, offset, axis1, axis2)


@defrule(np.transpose, jvp="linear")
def transpose(g, a, axes=None):
    d[a] = _rt.transpose_adjoint(g, axes)


@defrule(np.swapaxes, jvp="linear")
def swapaxes(g, a, axis1, axis2):
    d[a] = np.swapaxes(g, axis1, axis2)


@defrule(np.moveaxis, jvp="linear")
def moveaxis(g, a, source, destination):
    d[a] = np.moveaxis(g, destination, source)


def inv_jvp(ans, a):
    d[a] = -(ans @ t @ ans)


@defrule(np.linalg.inv, jvp=inv_jvp)
def inv(g, ans, a):
    d[a] = -_rt.mT(ans) @ g @ _rt.mT(ans)


def solve_jvp(ans, a, b):
    d[a] = -_rt.solve_like(a, _rt.solve_rhs_tangent(t, ans, b), ans)
    d[b] = np.linalg.solve(a, t)


@defrule(np.linalg.solve, jvp=solve_jvp)
def solve(g, ans, a, b):
    gb = _rt.solve_adjoint_b(g, a, ans)
    d[a] = _rt.solve_adjoint_a(gb, ans, a)
    d[b] = _rt.unbroadcast(gb, b)


def det_jvp(ans, a):
    d[a] = ans * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


@defrule(np.linalg.det, jvp=det_jvp)
def det(g, ans, a):
    d[a] = _rt.det_adjoint(g, ans, a)


def slogdet_jvp(ans, a):
    d[a] = _rt.slogdet_jvp(t, ans, a)


@defrule(np.linalg.slogdet, jvp=slogdet_jvp, returns="container")
def slogdet(g, ans, a):
    d[a] = _rt.slogdet_adjoint(g[1], a)


def norm_jvp(ans, x, ord=None, axis=None, keepdims=False):
    d[x] = _rt.norm_jvp(t, ans, x, ord, axis, keepdims)


@defrule(np.linalg.norm, jvp=norm_jvp)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    d[x] = _rt.norm_adjoint(g, ans, x, ord, axis, keepdims)


# ------------------------------------------------------------------ shape


@defrule(np.reshape, jvp="linear")
def reshape(g, a, shape=None, order="C", newshape=None, copy=None):
    d[a] = _rt.reshape_adjoint(g, a, order)


@defrule(np.ravel, np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d, jvp="linear")
def reshape_like(g, a, axis=None):
    d[a] = _rt.reshape_adjoint(g, a)


@defrule(np.concatenate, jvp="linear")
def concatenate(g, arrays, axis=0):
    d[arrays[k]] = _rt.concatenate_piece(g, arrays, axis, k)


@defrule(np.hstack, jvp="linear")
def hstack(g, tup):
    d[tup[k]] = _rt.hstack_piece(g, tup, k)


@defrule(np.vstack, jvp="linear")
def vstack(g, tup):
    d[tup[k]] = _rt.vstack_piece(g, tup, k)


@defrule(np.stack, jvp="linear")
def stack(g, arrays, axis=0):
    d[arrays[k]] = np.take(g, k, axis=axis)


@defrule(np.broadcast_to, jvp="linear")
def broadcast_to(g, array, shape):
    d[array] = _rt.unbroadcast(g, array)


@defrule(np.heaviside, broadcasting=True)
def heaviside(g, x1, x2):
    d[x2] = g * (x1 == 0)       # the value where x1 is 0; a step elsewhere


def linspace_jvp(ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    d[start] = _rt.linspace_tangent(t, ans, num, endpoint, dtype, axis, 0)
    d[stop] = _rt.linspace_tangent(t, ans, num, endpoint, dtype, axis, 1)


@defrule(np.linspace, jvp=linspace_jvp)
def linspace(g, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    d[start] = _rt.linspace_adjoint(g, start, stop, num, endpoint, retstep, dtype, axis, 0)
    d[stop] = _rt.linspace_adjoint(g, start, stop, num, endpoint, retstep, dtype, axis, 1)


def arange_jvp(ans, start, stop=None, step=None, dtype=None):
    d[start] = _rt.arange_tangent(t, ans, start, stop, step, dtype, 0)
    d[step] = _rt.arange_tangent(t, ans, start, stop, step, dtype, 2)


@defrule(np.arange, jvp=arange_jvp)
def arange(g, start, stop=None, step=None, dtype=None):
    d[start] = _rt.arange_adjoint(g, start, stop, step, dtype, 0)
    d[step] = _rt.arange_adjoint(g, start, stop, step, dtype, 2)


def full_jvp(ans, shape, fill_value, dtype=None, order="C"):
    d[fill_value] = _rt.float_only(_rt.broadcast_as(t, ans), ans)


@defrule(np.full, broadcasting=True, jvp=full_jvp)
def full(g, ans, shape, fill_value, dtype=None, order="C"):
    d[fill_value] = _rt.float_only(g, ans)       # (an integer result: constant)


def full_like_jvp(ans, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = _rt.float_only(_rt.broadcast_as(t, ans), ans)


@defrule(np.full_like, broadcasting=True, jvp=full_like_jvp)
def full_like(g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    d[fill_value] = _rt.float_only(g, ans)


@defrule(np.tile, jvp="linear")
def tile(g, A, reps):
    d[A] = _rt.tile_adjoint(g, A, reps)


@defrule(np.repeat, jvp="linear")
def repeat(g, a, repeats, axis=None):
    d[a] = _rt.repeat_adjoint(g, a, repeats, axis)


@defrule(np.flip, jvp="linear")
def flip(g, m, axis=None):
    d[m] = np.flip(g, axis)


@defrule(np.fliplr, jvp="linear")
def fliplr(g, m):
    d[m] = np.fliplr(g)


@defrule(np.flipud, jvp="linear")
def flipud(g, m):
    d[m] = np.flipud(g)


@defrule(np.take, jvp="linear")
def take(g, a, indices, axis=None, out=None, mode="raise"):
    d[a] = _rt.take_adjoint(g, a, indices, axis, mode)


@defrule(np.roll, jvp="linear")
def roll(g, a, shift, axis=None):
    d[a] = _rt.roll_adjoint(g, shift, axis)


@defrule(np.diag, jvp="linear")
def diag(g, v, k=0):
    d[v] = _rt.diag_adjoint(g, v, k)


@defrule(np.triu, jvp="linear")
def triu(g, m, k=0):
    d[m] = np.triu(g, k)


@defrule(np.tril, jvp="linear")
def tril(g, m, k=0):
    d[m] = np.tril(g, k)


@defrule("subscript", jvp="linear")
def getitem(g, x, index):
    d[x] = _rt.index_adjoint(g, x, index)


@defrule("attr.T", jvp="linear")
def attr_T(g, x):
    d[x] = _rt.transpose_adjoint(g, None)


@defrule("attr.mT", jvp="linear")
def attr_mT(g, x):
    d[x] = _rt.mT(g)


@defrule("attr.real", jvp="linear")
def attr_real(g, x):
    d[x] = g


# ------------------------------------------------------------ array methods


@defmethod("sum", jvp="linear")
def m_sum(g, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _rt.sum_adjoint(g, self, axis, keepdims)


@defmethod("mean", jvp="linear")
def m_mean(g, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _rt.mean_adjoint(g, self, axis, keepdims)


def m_extremum_jvp(ans, self, axis=None, out=None, keepdims=False):
    d[self] = _rt.reduction_jvp(_rt.extremum_adjoint, t, ans, self, axis, keepdims)


@defmethod("max", "min", jvp=m_extremum_jvp)
def m_extremum(g, ans, self, axis=None, out=None, keepdims=False):
    d[self] = _rt.extremum_adjoint(g, ans, self, axis, keepdims)


def m_prod_jvp(ans, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _rt.reduction_jvp(_rt.prod_adjoint, t, ans, self, axis, keepdims)


@defmethod("prod", jvp=m_prod_jvp)
def m_prod(g, ans, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _rt.prod_adjoint(g, ans, self, axis, keepdims)


def m_var_jvp(ans, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.var_jvp(t, self, axis, ddof, keepdims)


@defmethod("var", jvp=m_var_jvp)
def m_var(g, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.var_adjoint(g, self, axis, ddof, keepdims)


def m_std_jvp(ans, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.std_jvp(t, ans, self, axis, ddof, keepdims)


@defmethod("std", jvp=m_std_jvp)
def m_std(g, ans, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.std_adjoint(g, ans, self, axis, ddof, keepdims)


@defmethod("reshape", "ravel", "flatten", "squeeze", jvp="linear")
def m_reshape(g, self, *shape, order="C", axis=None):
    d[self] = _rt.reshape_adjoint(g, self, order)


@defmethod("transpose", jvp="linear")
def m_transpose(g, self, *axes):
    d[self] = _rt.transpose_adjoint(g, axes)


@defmethod("swapaxes", jvp="linear")
def m_swapaxes(g, self, axis1, axis2):
    d[self] = np.swapaxes(g, axis1, axis2)


@defmethod("dot", jvp="multilinear")
def m_dot(g, self, b):
    d[self] = _rt.dot_adjoint_a(g, self, b)
    d[b] = _rt.dot_adjoint_b(g, self, b)


@defmethod("copy", jvp="linear")
def m_copy(g, self, order="C"):
    d[self] = g


def m_astype_jvp(ans, self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[self] = _rt.float_only(np.asarray(t).astype(np.result_type(ans, np.float16)), ans)


@defmethod("astype", jvp=m_astype_jvp)
def m_astype(g, ans, self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    d[self] = _rt.astype_adjoint(_rt.float_only(g, ans), self)      # (to integers: constant)


@defmethod("clip", jvp="elementwise")
def m_clip(g, self, min=None, max=None):
    d[self] = _rt.unbroadcast(g * _rt.clip_mask(self, min, max), self)


@defmethod("cumsum", jvp="linear")
def m_cumsum(g, self, axis=None):
    d[self] = _rt.cumsum_adjoint(g, self, axis)


@defmethod("trace", jvp="linear")
def m_trace(g, self, offset=0, axis1=0, axis2=1):
    d[self] = _rt.trace_adjoint(g, self, offset, axis1, axis2)


# ------------------------------------------------------- non-differentiable

T.nondiff(
    np.zeros_like, np.ones_like, np.empty_like, np.zeros, np.ones,
    np.empty, np.eye, np.identity, np.argmax, np.argmin, np.argsort,
    np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.sign, np.shape, np.ndim,
    np.size, np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.greater, np.less, np.equal, np.not_equal,
    np.greater_equal, np.less_equal, np.logical_and, np.logical_or, np.logical_not,
    np.logical_xor, np.all, np.any, np.nonzero, np.count_nonzero, np.searchsorted,
    np.floor_divide, np.result_type, np.broadcast_shapes,
    np.tri, np.diag_indices, np.triu_indices, np.tril_indices, np.indices,
    len, range, int, bool, isinstance, print, type, np.int64, np.int32,
    np.dtype, np.finfo, np.iinfo, np.random.default_rng,
    "Compare", "BoolOp", "Not", "FloorDiv", "Invert", "BitAnd", "BitOr", "BitXor",
    "LShift", "RShift",
    "attr.shape", "attr.ndim", "attr.size", "attr.dtype",
)
T.nondiff_method("argmax", "argmin", "argsort", "nonzero", "all", "any", "tolist",
                 "__len__", "append", "keys", "values", "items")


# ----------------------------------------------------- math module, builtins
# (defined in math_rules; registered here so they land in the same table)

from s2sad.rules import math_rules as _math_rules  # noqa: E402

_math_rules.register(T)
