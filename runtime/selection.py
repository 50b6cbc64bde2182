"""Adjoints of selection: ``np.take_along_axis``, ``np.select`` and the
NaN-ignoring reductions (``np.nansum``, ``nanmean``, ``nanmax``,
``nanmin``)."""

from __future__ import annotations

import numpy as np

from .core import float_dtype, unbroadcast
from .reductions import extremum_adjoint, sum_adjoint


def _along_axis_index(shape, indices, axis):
    """The fancy index that ``np.take_along_axis(a, indices, axis)`` reads
    ``a`` (of ``shape``) with."""
    nd = len(shape)
    idx = []
    for ax in range(nd):
        if ax == axis:
            idx.append(indices)
        else:
            s = [1] * nd
            s[ax] = shape[ax]
            idx.append(np.arange(shape[ax]).reshape(s))
    return tuple(idx)


def take_along_axis_adjoint(g, arr, indices, axis):
    """Adjoint of ``np.take_along_axis(arr, indices, axis)``: ``g`` added
    back at the positions read (repeated indices accumulate)."""
    arr = np.asarray(arr)
    z = np.zeros(arr.shape, dtype=float_dtype(arr, g))
    if axis is None:
        np.add.at(z.reshape(-1), indices, g)
        return z
    axis = axis % arr.ndim
    np.add.at(z, _along_axis_index(arr.shape, indices, axis), np.broadcast_to(g, np.shape(g)))
    return z


def _chosen(condlist, k):
    """Where ``np.select`` takes choice ``k`` (``len(condlist)``: the
    default): the first condition that holds."""
    taken = np.zeros(np.broadcast_shapes(*[np.shape(c) for c in condlist]), dtype=bool)
    for c in condlist[:k]:
        taken = taken | np.asarray(c, dtype=bool)
    if k == len(condlist):
        return ~taken
    return np.asarray(condlist[k], dtype=bool) & ~taken


def select_adjoint(g, condlist, k):
    """Adjoint of ``np.select(condlist, choicelist, default)`` for choice
    ``k`` (``len(condlist)`` for the default): ``g`` where it was chosen."""
    return np.where(_chosen(list(condlist), k), g, 0.0)


def nan_mask(x):
    """1 where ``x`` is a number, 0 where it is NaN."""
    return (~np.isnan(x)).astype(float_dtype(x))


def nansum_adjoint(g, x, axis=None, keepdims=False):
    return sum_adjoint(g, x, axis, keepdims) * nan_mask(x)


def nanmean_adjoint(g, x, axis=None, keepdims=False):
    m = nan_mask(x)
    return sum_adjoint(g, x, axis, keepdims) * m / np.sum(m, axis=axis, keepdims=True)


def nanextremum_adjoint(g, ans, x, axis=None, keepdims=False, fill=-np.inf):
    """Adjoint of ``nanmax`` (``fill`` -inf) or ``nanmin`` (+inf): the
    extremum's among the numbers."""
    return extremum_adjoint(g, ans, np.where(np.isnan(x), fill, x), axis, keepdims)


# ------------------------------------------------------------------ interp


def _interp_parts(x, xp, period):
    """Where each point of ``x`` lies among the knots ``xp``: the segment
    ``i`` (knots ``i``, ``i + 1``), ``lam`` (its position in it), and the
    masks of the points inside, below and above."""
    if period is not None:
        from .core import at_function
        from .errors import NoRuleError
        raise at_function(NoRuleError, "np.interp(..., period=...) is not differentiated",
                          hint="reduce x into one period yourself (np.mod), then interpolate")
    xp = np.asarray(xp)
    n = xp.shape[0]
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(n - 2, 0))
    below, above = x < xp[0], x > xp[-1]
    inside = ~(below | above)
    if n < 2:                      # one knot: fp[0] there (and outside unless left/right say otherwise)
        return i, 0.0 * x, 1.0, inside.astype(float), below, above
    dx = xp[i + 1] - xp[i]
    dx = np.where(dx == 0, 1.0, dx)
    return i, (x - xp[i]) / dx, dx, inside.astype(float), below, above


def _scatter(v, i, n, like):
    out = np.zeros(n, dtype=np.result_type(like, v, float))
    np.add.at(out, i, v)
    return out


def interp_adjoint(g, x, xp, fp, left=None, right=None, period=None, part=0):
    """Adjoint of ``np.interp(x, xp, fp, left, right)`` in ``x`` (``part``
    0), ``xp`` (1), ``fp`` (2), ``left`` (3) or ``right`` (4): inside,
    ``y = fp[i] + lam (fp[i+1] - fp[i])``; outside, ``left``/``right``, or
    the end values of ``fp`` when they are None."""
    i, lam, dx, inside, below, above = _interp_parts(x, xp, period)
    fp = np.asarray(fp)
    n = fp.shape[0]
    g = np.broadcast_to(g, np.shape(x)) * 1.0
    slope = (fp[np.minimum(i + 1, n - 1)] - fp[i]) / dx
    if part == 0:
        return unbroadcast(g * slope * inside, x)
    if part == 1:
        return _scatter(-g * (1.0 - lam) * slope * inside, i, n, xp) + \
            _scatter(-g * lam * slope * inside, np.minimum(i + 1, n - 1), n, xp)
    if part == 2:
        out = _scatter(g * (1.0 - lam) * inside, i, n, fp) + _scatter(g * lam * inside, np.minimum(i + 1, n - 1), n, fp)
        if left is None:
            out[0] += np.sum(g * below)
        if right is None:
            out[-1] += np.sum(g * above)
        return out
    side = below if part == 3 else above
    return unbroadcast(g * side, left if part == 3 else right)


def interp_jvp(t, x, xp, fp, left=None, right=None, period=None, part=0):
    """Tangent of ``np.interp`` in one of its operands (``part`` as in
    ``interp_adjoint``)."""
    i, lam, dx, inside, below, above = _interp_parts(x, xp, period)
    fp = np.asarray(fp)
    n = fp.shape[0]
    j = np.minimum(i + 1, n - 1)
    if part == 0:
        return t * (fp[j] - fp[i]) / dx * inside
    if part == 1:
        slope = (fp[j] - fp[i]) / dx
        return -((1.0 - lam) * t[i] + lam * t[j]) * slope * inside
    if part == 2:
        return ((1.0 - lam) * t[i] + lam * t[j]) * inside + (t[0] * below if left is None else 0.0) \
            + (t[-1] * above if right is None else 0.0)
    return t * (below if part == 3 else above) + 0.0 * x


def interp_adjoint_d(c, x, xp, fp, left=None, right=None, period=None, part=0, j=0, t=None):
    """Tangent of ``interp_adjoint(c, x, xp, fp, ..., part)`` in ``x``
    (``j`` 0), ``xp`` (1) or ``fp`` (2), along ``t``: through ``lam`` and
    the segment's slope (the segment itself is piecewise constant)."""
    i, lam, dx, inside, below, above = _interp_parts(x, xp, period)
    fp = np.asarray(fp)
    n = fp.shape[0]
    k = np.minimum(i + 1, n - 1)
    c = np.broadcast_to(c, np.shape(x)) * 1.0
    slope = (fp[k] - fp[i]) / dx
    tx = t if j == 0 else 0.0
    txp = (t[k] - t[i]) if j == 1 else 0.0 * lam
    dlam = (tx - (t[i] if j == 1 else 0.0)) / dx - lam * txp / dx
    dslope = ((t[k] - t[i]) / dx if j == 2 else 0.0) - slope * txp / dx
    if part == 0:
        return unbroadcast(c * dslope * inside, x)
    if part == 1:
        return _scatter(-c * inside * ((1.0 - lam) * dslope - dlam * slope), i, n, xp) + \
            _scatter(-c * inside * (lam * dslope + dlam * slope), k, n, xp)
    if part == 2:
        return _scatter(-c * dlam * inside, i, n, fp) + _scatter(c * dlam * inside, k, n, fp)
    return 0.0 * unbroadcast(c, left if part == 3 else right)

