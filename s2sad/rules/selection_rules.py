"""Rules for selection: ``np.take_along_axis``, ``np.select``, the
NaN-ignoring reductions and ``np.interp``.  Registered into the NumPy table by
``s2sad/rules/__init__.py``, as ``array_rules`` is."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import Deferred, d, k, t

_DEFERRED = Deferred()
rule = _DEFERRED.rule


def register(T):
    _DEFERRED.register(T)
    T.nondiff(_rt.nan_mask)
    T.defrule(_rt.float_only, jvp="linear")(rt_float_only)


def rt_float_only(g, c, result):
    d[c] = _rt.float_only(g, result)


@rule(np.take_along_axis, jvp="linear")
def take_along_axis(g, arr, indices, axis):
    d[arr] = _rt.take_along_axis_adjoint(g, arr, indices, axis)


def select_jvp(ans, condlist, choicelist, default=0):
    d[choicelist[k]] = np.broadcast_to(_rt.select_adjoint(t, condlist, k), ans.shape)
    d[default] = np.broadcast_to(_rt.select_adjoint(t, condlist, len(condlist)), ans.shape)


@rule(np.select, broadcasting=True, jvp=select_jvp)
def select(g, condlist, choicelist, default=0):
    d[choicelist[k]] = _rt.select_adjoint(g, condlist, k)
    d[default] = _rt.select_adjoint(g, condlist, len(condlist))


def nansum_jvp(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = np.sum(t * _rt.nan_mask(a), axis=axis, keepdims=keepdims)


@rule(np.nansum, jvp=nansum_jvp)
def nansum(g, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = _rt.nansum_adjoint(g, a, axis, keepdims)


def nanmean_jvp(ans, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = np.sum(t * _rt.nan_mask(a), axis=axis, keepdims=keepdims) / \
        np.sum(_rt.nan_mask(a), axis=axis, keepdims=keepdims)


@rule(np.nanmean, jvp=nanmean_jvp)
def nanmean(g, a, axis=None, dtype=None, out=None, keepdims=False):
    d[a] = _rt.nanmean_adjoint(g, a, axis, keepdims)


def nanmax_jvp(ans, a, axis=None, out=None, keepdims=False):
    d[a] = np.sum(t * _rt.nanextremum_adjoint(1.0, ans, a, axis, keepdims, -np.inf), axis=axis, keepdims=keepdims)


@rule(np.nanmax, jvp=nanmax_jvp)
def nanmax(g, ans, a, axis=None, out=None, keepdims=False):
    d[a] = _rt.nanextremum_adjoint(g, ans, a, axis, keepdims, -np.inf)


def nanmin_jvp(ans, a, axis=None, out=None, keepdims=False):
    d[a] = np.sum(t * _rt.nanextremum_adjoint(1.0, ans, a, axis, keepdims, np.inf), axis=axis, keepdims=keepdims)


@rule(np.nanmin, jvp=nanmin_jvp)
def nanmin(g, ans, a, axis=None, out=None, keepdims=False):
    d[a] = _rt.nanextremum_adjoint(g, ans, a, axis, keepdims, np.inf)


def interp_jvp(ans, x, xp, fp, left=None, right=None, period=None):
    d[x] = _rt.interp_jvp(t, x, xp, fp, left, right, period, 0)
    d[xp] = _rt.interp_jvp(t, x, xp, fp, left, right, period, 1)
    d[fp] = _rt.interp_jvp(t, x, xp, fp, left, right, period, 2)
    d[left] = _rt.interp_jvp(t, x, xp, fp, left, right, period, 3)
    d[right] = _rt.interp_jvp(t, x, xp, fp, left, right, period, 4)


@rule(np.interp, jvp=interp_jvp)
def interp(g, x, xp, fp, left=None, right=None, period=None):
    # piecewise linear: in x the slope of its segment, in the knots and
    # values through the position in it (``period`` refused by name)
    d[x] = _rt.interp_adjoint(g, x, xp, fp, left, right, period, 0)
    d[xp] = _rt.interp_adjoint(g, x, xp, fp, left, right, period, 1)
    d[fp] = _rt.interp_adjoint(g, x, xp, fp, left, right, period, 2)
    d[left] = _rt.interp_adjoint(g, x, xp, fp, left, right, period, 3)
    d[right] = _rt.interp_adjoint(g, x, xp, fp, left, right, period, 4)
