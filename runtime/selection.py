"""Adjoints of selection: ``np.take_along_axis``, ``np.select`` and the
NaN-ignoring reductions (``np.nansum``, ``nanmean``, ``nanmax``,
``nanmin``)."""

from __future__ import annotations

import numpy as np

from .core import float_dtype
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
