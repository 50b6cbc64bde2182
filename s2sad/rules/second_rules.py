"""Rules of the runtime helpers that the adjoints of reductions, selection
and array manipulation call (``np.split``, ``np.take_along_axis``,
``np.select``, the NaN-ignoring reductions, ``np.linspace``,
``np.arange``, ...), so that a generated gradient through them can be
differentiated again (``hvp``, ``grad(grad(f))``).  Registered on the
NumPy table by ``s2sad/rules/__init__.py``, as ``array_rules`` is.

Each helper linear in its adjoint argument gets its transpose as adjoint
and the tangent ``"linear"``; the arguments that enter only through a
piecewise-constant mask or permutation (indices, conditions, where the
NaNs are, which entry is the largest) get no contribution, as in the rules
of ``extremum_adjoint`` and ``sorted_adjoint``.
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, k

_RULES = []      # (keys, options, template) in definition order


def rule(*keys, **options):
    def deco(fn):
        _RULES.append((keys, options, fn))
        return fn
    return deco


def register(T):
    for keys, options, fn in _RULES:
        T.defrule(*keys, **options)(fn)


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
