"""Tangent (forward-mode) rules, in the same tables as the adjoint rules.

Most tangent rules need no code of their own; a rule's ``jvp`` kind says
how the compiler derives the tangent of ``ans = f(x, y, ...)`` from the
rule it already has:

* ``"elementwise"``: the adjoint contributions ``d[x] = e(g)`` are linear
  and diagonal in ``g``, so the tangent is the sum over active operands of
  ``e(g := x_tan)`` (``np.tanh``: ``x_tan * (1 - ans * ans)``).
* ``"linear"``: ``f`` is linear in its differentiable arguments jointly, so
  the tangent is ``f`` applied to their tangents (zeros for inactive ones),
  the other arguments unchanged (``np.sum(x_tan, axis=0)``, ``x_tan[i]``,
  ``x_tan.T``, ``np.concatenate([a_tan, b_tan])``).
* ``"multilinear"``: ``f`` is linear in each differentiable argument
  separately (``a @ b``, ``np.einsum``), so the tangent is the sum over
  active operands of ``f`` with that operand replaced by its tangent.
* ``"template"``: an explicit template registered with ``defjvp``, written
  like an adjoint template but with ``t`` for the operand's tangent:
  ``d[a] = -ans @ t @ ans`` for ``np.linalg.inv``.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, k

t = None   # the operand's tangent, in jvp templates (never evaluated)

LINEAR_KEYS = [
    np.sum, np.mean, np.cumsum, np.trace, np.transpose, np.swapaxes, np.moveaxis, np.reshape, np.ravel,
    np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.concatenate, np.hstack,
    np.vstack, np.stack, np.broadcast_to, np.tile, np.repeat, np.flip, np.fliplr, np.flipud, np.roll, np.diag,
    np.triu, np.tril, "subscript", "attr.T", "attr.mT", "attr.real", "copy", np.copy, np.array, np.asarray,
    np.ascontiguousarray, np.asanyarray, builtins.sum, builtins.float, math.fsum, np.positive,
    _rt.unbroadcast, _rt.grad_out, _rt.accumulate, _rt.sum_adjoint, _rt.expand_adjoint, _rt.mean_adjoint,
    _rt.index_adjoint, _rt.reshape_adjoint, _rt.transpose_adjoint, _rt.mT, _rt.elem, _rt.zero_slot,
    _rt.broadcast_as, _rt.reduce_sum_like, _rt.extremum_adjoint,
]
LINEAR_METHODS = ["sum", "mean", "reshape", "ravel", "flatten", "squeeze", "transpose", "swapaxes", "copy",
                  "cumsum", "trace", "astype"]
MULTILINEAR_KEYS = ["MatMult", np.matmul, np.dot, np.einsum, np.outer, np.inner, np.tensordot,
                    _rt.matmul_adjoint_a, _rt.matmul_adjoint_b, _rt.dot_adjoint_a, _rt.dot_adjoint_b]
MULTILINEAR_METHODS = ["dot"]
ELEMENTWISE_KEYS = ["Add", "Sub", "Mult", "Div", "Pow", "USub", "Mod", np.where, np.clip, np.sinc,
                    builtins.abs, builtins.pow, _rt.log_or_zero]
ELEMENTWISE_METHODS = ["clip"]


def register(T):
    """Give every rule of ``T`` its tangent: a kind, or a template."""
    for key in T.keys():
        r = T.lookup(key)
        if r.nondiff or r.jvp is not None:
            continue
        if (isinstance(key, np.ufunc) and key.signature is None) or key in ELEMENTWISE_KEYS or \
                getattr(key, "__module__", None) == "math":
            T.set_jvp(key, "elementwise")
    for key in LINEAR_KEYS:
        T.set_jvp(key, "linear")
    for key in MULTILINEAR_KEYS:
        T.set_jvp(key, "multilinear")
    for name in LINEAR_METHODS:
        T.set_jvp(name, "linear", method=True)
    for name in MULTILINEAR_METHODS:
        T.set_jvp(name, "multilinear", method=True)
    for name in ELEMENTWISE_METHODS:
        T.set_jvp(name, "elementwise", method=True)
    defjvp = T.defjvp

    @defjvp(np.max, np.amax, np.min, np.amin)
    def extremum_jvp(ans, a, axis=None, keepdims=False):
        d[a] = _rt.reduction_jvp(_rt.extremum_adjoint, t, ans, a, axis, keepdims)

    @defjvp(np.prod)
    def prod_jvp(ans, a, axis=None, dtype=None, keepdims=False):
        d[a] = _rt.reduction_jvp(_rt.prod_adjoint, t, ans, a, axis, keepdims)

    @defjvp(np.var)
    def var_jvp(ans, a, axis=None, dtype=None, ddof=0, keepdims=False):
        d[a] = _rt.var_jvp(t, a, axis, ddof, keepdims)

    @defjvp(np.std)
    def std_jvp(ans, a, axis=None, dtype=None, ddof=0, keepdims=False):
        d[a] = _rt.std_jvp(t, ans, a, axis, ddof, keepdims)

    @defjvp(np.linalg.norm)
    def norm_jvp(ans, x, ord=None, axis=None, keepdims=False):
        d[x] = _rt.norm_jvp(t, ans, x, ord, axis, keepdims)

    @defjvp(np.linalg.inv)
    def inv_jvp(ans, a):
        d[a] = -(ans @ t @ ans)

    @defjvp(np.linalg.solve)
    def solve_jvp(ans, a, b):
        d[a] = -_rt.solve_like(a, _rt.solve_rhs_tangent(t, ans, b), ans)
        d[b] = np.linalg.solve(a, t)

    @defjvp(np.linalg.det)
    def det_jvp(ans, a):
        d[a] = ans * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)

    @defjvp(np.linalg.slogdet)
    def slogdet_jvp(ans, a):
        d[a] = _rt.slogdet_jvp(t, ans, a)

    @defjvp(builtins.max, builtins.min)
    def builtin_extremum_jvp(ans, *args):
        d[args[k]] = _rt.builtin_extremum_jvp(t, ans, args, k)

    for nm, tmpl in (("max", extremum_jvp), ("min", extremum_jvp)):
        T.defmethod_jvp(nm)(_method_extremum_jvp)
    T.defmethod_jvp("prod")(_method_prod_jvp)
    T.defmethod_jvp("var")(_method_var_jvp)
    T.defmethod_jvp("std")(_method_std_jvp)


def _method_extremum_jvp(ans, self, axis=None, out=None, keepdims=False):
    d[self] = _rt.reduction_jvp(_rt.extremum_adjoint, t, ans, self, axis, keepdims)


def _method_prod_jvp(ans, self, axis=None, dtype=None, out=None, keepdims=False):
    d[self] = _rt.reduction_jvp(_rt.prod_adjoint, t, ans, self, axis, keepdims)


def _method_var_jvp(ans, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.var_jvp(t, self, axis, ddof, keepdims)


def _method_std_jvp(ans, self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    d[self] = _rt.std_jvp(t, ans, self, axis, ddof, keepdims)
