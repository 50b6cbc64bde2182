"""Helpers for second derivatives: the transposes and the tangents of the
adjoint helpers that generated gradients call, where they are not another
helper already.  ``s2sad/rules/runtime_rules.py`` uses them in the rules
that let a generated gradient be differentiated again (``hvp``,
``grad(grad(f))``, hypergradients)."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, _shape
from .linalg import _expand2, _solve_vector, einsum_adjoint, mT, solve_adjoint_b
from .reductions import _expand, std_adjoint, sum_adjoint


def piece_adjoint(c, g, piece, *args):
    """The transpose of ``piece(g, *args)`` (a piece of a concatenation cut
    out of its adjoint ``g``) in ``g``: zeros shaped like ``g`` with ``c``
    where the piece lies."""
    out = np.zeros_like(g, dtype=np.result_type(g, c))
    view = piece(out, *args)       # basic slices and reshapes of a fresh array: a view
    if not np.may_share_memory(view, out):   # pragma: no cover - guarded for safety
        raise AssertionError("s2sad: a concatenation piece is not a view")
    view[...] = c
    return out


def reduce_sum_like_adjoint(c, g, v, axis, keepdims):
    """The transpose of ``reduce_sum_like(g, v, axis, keepdims)`` in ``g``:
    ``c`` broadcast back over the summed axes."""
    if _shape(g) == _shape(v):
        return c
    return sum_adjoint(c, g, axis, keepdims)


def std_adjoint_ds(t, g, s, x, axis=None, ddof=0, keepdims=False):
    """Tangent of ``std_adjoint(g, s, x, ...)`` in the standard deviation
    ``s`` (its tangent ``t``): ``-std_adjoint(g, s, x) * t / s`` (zero
    where ``s`` is 0, as the adjoint is there)."""
    if isinstance(x, _PY_SCALARS):
        return 0.0 * t
    a = _expand(s, x, axis, keepdims)
    ta = _expand(t, x, axis, keepdims)
    return -std_adjoint(g, s, x, axis, ddof, keepdims) * ta / np.where(a == 0, 1.0, a)


def det_adjoint_da(g, d, a, t):
    """Tangent of ``det_adjoint(g, d, a) = g d inv(a).T`` in ``a`` (its
    tangent ``t``): ``-g d (inv(a) t inv(a)).T``."""
    ia = np.linalg.inv(a)
    return -_expand2(g * d) * mT(ia @ t @ ia)


def solve_adjoint_b_da(t, a, x, sol):
    """Tangent of ``x = solve_adjoint_b(g, a, sol) = solve(a.T, g)`` in
    ``a`` (its tangent ``t``): ``-solve(a.T, t.T @ x)``; ``sol`` (the
    primal solution) only tells whether vectors were solved for."""
    if _solve_vector(a, sol):
        return -solve_adjoint_b((mT(t) @ x[..., None])[..., 0], a, sol)
    return -solve_adjoint_b(mT(t) @ x, a, sol)


def einsum_adjoint_dop(g, subscripts, operands, k, j, t):
    """Tangent of ``einsum_adjoint(g, subscripts, operands, k)`` in operand
    ``j`` (its tangent ``t``): the adjoint is linear in every operand but
    the ``k``-th (which gives only its shape)."""
    if j == k:
        return np.zeros_like(operands[k], dtype=np.result_type(g, operands[k]))
    ops = list(operands)
    ops[j] = t
    return einsum_adjoint(g, subscripts, ops, k)


def pair_adjoint_dop(adjoint, c, a, b, j, t, *args):
    """Tangent of ``adjoint(c, a, b, *args, k)`` (the adjoint of a product
    of ``a`` and ``b`` for operand ``k = args[-1]``) in operand ``j`` (its
    tangent ``t``): linear in the other operand, independent of the
    ``k``-th but for its shape."""
    k = args[-1]
    ops = [a, b]
    if j == k:
        return np.zeros_like(ops[k], dtype=np.result_type(c, ops[k]))
    ops[j] = t
    return adjoint(c, *ops, *args)
