"""Adjoints of reductions: sum, mean, max/min, prod, var, std,
``linalg.norm`` and cumsum, with the helpers their second derivatives use
(``reduce_sum_like``, ``count``, ``extremum_weights``)."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, _astype, _broadcast_like, _shape, _sum, float_dtype


def _norm_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else 0 for a in axis)


def _expand(g, x, axis, keepdims):
    """Reshape the adjoint of a reduction so it broadcasts against ``x``."""
    if isinstance(x, _PY_SCALARS):
        return g
    if keepdims or axis is None and not _shape(g):
        return g
    if isinstance(g, _PY_SCALARS):
        # a Python scalar broadcasts as it is (np.reshape would make it a
        # host NumPy array whatever x's array type)
        return g
    shape = list(_shape(x))
    for a in _norm_axis(axis, len(shape)):
        shape[a] = 1
    return g.reshape(shape) if hasattr(g, "reshape") else np.reshape(g, shape)


def expand_adjoint(g, x, axis=None, keepdims=False):
    return _expand(g, x, axis, keepdims)


def sum_adjoint(g, x, axis=None, keepdims=False):
    if isinstance(x, _PY_SCALARS):
        return g
    g = _expand(g, x, axis, keepdims)
    return _broadcast_like(g, x) if _shape(g) != _shape(x) else g


def reduce_sum_like(g, v, axis, keepdims):
    """Sum ``g`` over ``axis`` so it takes the shape of ``v``."""
    if isinstance(v, _PY_SCALARS) and isinstance(g, _PY_SCALARS):
        return g
    if _shape(g) == _shape(v):
        return g
    return np.sum(g, axis=axis, keepdims=keepdims).reshape(_shape(v))


def _count(x, axis):
    shape = _shape(x)
    n = 1
    for a in _norm_axis(axis, len(shape)):
        n *= shape[a]
    return n


def count(x, axis):
    return _count(x, axis)


def mean_adjoint(g, x, axis=None, keepdims=False):
    return sum_adjoint(g, x, axis, keepdims) / _count(x, axis)


def extremum_adjoint(g, ans, x, axis=None, keepdims=False):
    """Adjoint of max/min: split evenly among the tied maximisers."""
    if isinstance(x, _PY_SCALARS):
        return g
    a = _expand(ans, x, axis, keepdims)
    # the mask and the tie count in the float dtype of x and g (a bool or
    # integer array would promote a float32 adjoint to float64)
    mask = _astype(x == a, float_dtype(x, g))
    g = _expand(g, x, axis, keepdims)
    return g * (mask / _sum(mask, axis, True))


def extremum_weights(ans, x, axis=None, keepdims=False):
    a = _expand(ans, x, axis, keepdims)
    mask = _astype(x == a, float_dtype(x))
    return mask / _sum(mask, axis, True)


def prod_adjoint(g, ans, x, axis=None, keepdims=False):
    """Adjoint of prod, exact also when entries are zero."""
    if isinstance(x, _PY_SCALARS):
        return g
    g = _expand(g, x, axis, keepdims)
    if axis is None:
        flat = np.reshape(x, -1)
        return np.reshape(g * _prod_others(flat, 0), _shape(x))
    axes = _norm_axis(axis, len(_shape(x)))
    if len(axes) == 1:
        return g * _prod_others(x, axes[0])
    # several axes: move them to the end, flatten them into one, and take
    # the products of the others along it (no division: zeros are fine)
    nd = len(_shape(x))
    rest = [i for i in range(nd) if i not in axes]
    perm = rest + list(axes)
    xt = np.transpose(x, perm)
    lead = _shape(xt)[:len(rest)]
    others = _prod_others(xt.reshape(lead + (-1,)), len(rest)).reshape(_shape(xt))
    return g * np.transpose(others, [perm.index(i) for i in range(nd)])


def _prod_others(x, axis):
    """Product of all entries but one along ``axis`` (no division)."""
    left = np.cumprod(x, axis=axis)
    right = np.flip(np.cumprod(np.flip(x, axis=axis), axis=axis), axis=axis)
    n = _shape(x)[axis]
    ones_shape = list(_shape(x))
    ones_shape[axis] = 1
    one = np.ones_like(x, shape=tuple(ones_shape)) if n else x
    left = np.concatenate([one, np.take(left, range(n - 1), axis=axis)], axis=axis)
    right = np.concatenate([np.take(right, range(1, n), axis=axis), one], axis=axis)
    return left * right


def var_adjoint(g, x, axis=None, ddof=0, keepdims=False):
    g = _expand(g, x, axis, keepdims)
    n = _count(x, axis)
    mu = np.mean(x, axis=axis, keepdims=True)      # (x may be a Python float)
    return g * 2.0 * (x - mu) / (n - ddof)


def std_adjoint(g, ans, x, axis=None, ddof=0, keepdims=False):
    # d std = d var / (2 std).  Where std is 0 (a single element, or all
    # elements equal) the subgradient 0 is taken instead of 0/0.
    a = _expand(ans, x, axis, keepdims)
    zero = a == 0
    gv = _expand(g, x, axis, keepdims) / (2.0 * np.where(zero, 1.0, a))
    return var_adjoint(np.where(zero, 0.0 * gv, gv), x, axis, ddof, True)


def _safe_div(num, den):
    """``num / den`` with 0 where ``den == 0`` (the subgradient 0 of a norm
    at the zero vector, instead of 0/0)."""
    zero = den == 0
    return np.where(zero, 0.0 * num, num / np.where(zero, 1.0, den))


def _norm_axes(nd, ord, axis):
    """``(matrix, axes)`` of ``linalg.norm(x, ord, axis)`` for an ``nd``-D
    ``x``: whether it is a matrix norm, and its axes (an int for a vector
    norm along one axis, None for the whole array)."""
    if axis is None:
        matrix = ord is not None and nd == 2
        return matrix, ((0, 1) if matrix else None)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    matrix = len(axes) == 2
    axes = tuple(q % nd for q in axes)
    return matrix, (axes if matrix else axes[0])


def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``linalg.norm``.

    Vector norms (``x`` 1-D, an int ``axis``, or ``ord=None`` with
    ``axis=None``): any ``ord`` (2, 1, inf, -inf, 0, other p).  Matrix norms
    (``x`` 2-D with ``ord`` given, or a 2-tuple ``axis``): 'fro', 'nuc', 1,
    -1, inf, -inf, 2, -2.  At a zero norm the subgradient 0 is returned;
    ties of max/min-type norms share the adjoint evenly."""
    nd = len(_shape(x))
    matrix, axes = _norm_axes(nd, ord, axis)
    ge = _expand(g, x, axes, keepdims)
    a = _expand(ans, x, axes, keepdims)
    if not matrix:
        return ge * _vector_norm_grad(x, a, ord, axes)
    r, c = axes
    if ord in (None, "fro"):
        return ge * _safe_div(x, a)
    if ord in (1, -1, np.inf, -np.inf):
        # max/min over columns (1) or rows (inf) of the absolute sums
        over = r if ord in (1, -1) else c
        other = c if ord in (1, -1) else r
        sums = np.abs(x).sum(axis=over, keepdims=True)
        mask = sums == a
        mask = mask / mask.sum(axis=other, keepdims=True)
        return ge * np.sign(x) * mask
    if ord in ("nuc", 2, -2):
        xm = np.moveaxis(x, (r, c), (-2, -1))
        u, _, vh = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            d = u @ vh
        else:
            i = 0 if ord == 2 else -1
            d = u[..., :, i][..., :, None] * vh[..., i, :][..., None, :]
        return ge * np.moveaxis(d, (-2, -1), (r, c))
    raise NotImplementedError(f"the adjoint of linalg.norm with ord={ord!r}, axis={axis!r} is not implemented")


def _vector_norm_grad(x, a, ord, axis):
    """d norm / d x of a vector norm (``a`` = the norm, expanded)."""
    if ord is None or ord == 2:
        return _safe_div(x, a)
    if ord == 1:
        return np.sign(x)
    if ord in (np.inf, -np.inf):
        mask = np.abs(x) == a
        return np.sign(x) * mask / mask.sum(axis=axis, keepdims=True)
    if ord == 0:
        return 0.0 * x
    p = float(ord)
    ax = np.abs(x)
    # sign(x) |x|^(p-1) / norm^(p-1), 0 where x == 0
    return np.sign(x) * _safe_div(np.where(ax == 0, 1.0, ax) ** (p - 1.0) * (ax != 0), a ** (p - 1.0))


def cumsum_adjoint(g, a, axis=None):
    if axis is None:
        r = np.flip(np.cumsum(np.flip(g.reshape(-1))))
        return r.reshape(_shape(a))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)
