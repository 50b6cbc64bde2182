"""Batched forms of the helpers that generated gradients call, for
``vmap(grad(f))``: each computes, lane by lane, what the helper computes
for one example, without a loop over the lanes.  ``*b`` arguments say
which operands are batched (the compiler knows).  A helper with no form
here runs lane by lane through :func:`~.batching.b_loop`."""

from __future__ import annotations

import numpy as np

from .batching import _lane_count, _lane_ints, _lift, b_axis, b_broadcast, b_loop, b_matmul, factored, lane
from .core import _PY_SCALARS, ZERO, Like, _same_sequence, _shape, check_scalar_output, grad_out, unbroadcast
from .indexing import _is_mask, index_adjoint, is_basic_index
from .reductions import _norm_axis, extremum_adjoint, sum_adjoint
from .namespaces import dtype_kind


def _n(*pairs):
    return next(_lane_count(v) for v, b in pairs if b and _lane_count(v) is not None)


def _lane_shape(x, xb):
    return _shape(x)[1:] if xb else _shape(x)


def _scalar_lanes(x, xb):
    """Is one example of ``x`` a number (a Python scalar or a 0-d value)?"""
    return isinstance(x, _PY_SCALARS) or not _lane_shape(x, xb)


def _sum_to(g, xs):
    """Batched ``g`` summed, lane by lane, to the shape ``xs`` of one
    example (NumPy's broadcasting rules, in reverse)."""
    gs = _shape(g)[1:]
    if gs == xs:
        return g
    lead = len(gs) - len(xs)
    if lead > 0:
        g = g.sum(axis=tuple(range(1, lead + 1)))
        gs = gs[lead:]
    if len(gs) == len(xs):
        axes = tuple(i + 1 for i, (a, b) in enumerate(zip(gs, xs)) if b == 1 and a != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
            gs = _shape(g)[1:]
    if gs != xs:
        g = np.broadcast_to(_lift(g, len(xs)), _shape(g)[:1] + xs) * 1
    return g


def b_unbroadcast(g, x, gb, xb):
    """``unbroadcast(g, x)`` of each example."""
    if g is ZERO:
        return g
    if not gb:
        return b_broadcast(unbroadcast(g, lane(x, 0) if xb else x), _n((x, xb)))
    if _scalar_lanes(x, xb):
        return g.reshape(_shape(g)[:1] + (-1,)).sum(axis=1) if np.ndim(g) > 1 else g
    return _sum_to(g, _lane_shape(x, xb))


def b_sum_adjoint(g, x, axis, keepdims, gb, xb):
    """``sum_adjoint(g, x, axis, keepdims)`` of each example."""
    if not gb:
        return b_broadcast(sum_adjoint(g, lane(x, 0) if xb else x, axis, keepdims), _n((x, xb)))
    if _scalar_lanes(x, xb) and not _lane_shape(x, xb):
        return g
    xs = _lane_shape(x, xb)
    n = _shape(g)[0]
    if not keepdims:
        shape = [n] + list(xs)
        for a in _norm_axis(axis, len(xs)):
            shape[a + 1] = 1
        g = g.reshape(shape)
    return np.broadcast_to(g, (n,) + xs) * 1 if _shape(g)[1:] != xs else g


def b_mean_adjoint(g, x, axis, keepdims, gb, xb):
    xs = _lane_shape(x, xb)
    cnt = 1
    for a in _norm_axis(axis, len(xs)):
        cnt *= xs[a]
    return b_sum_adjoint(g, x, axis, keepdims, gb, xb) / cnt


def b_extremum_adjoint(g, ans, x, axis, keepdims, gb, ansb, xb):
    """``extremum_adjoint(g, ans, x, axis, keepdims)`` of each example:
    with all three batched, the same reduction over the shifted axes."""
    if gb and ansb and xb and not isinstance(x, _PY_SCALARS) and np.ndim(x) > 1 \
            and not isinstance(g, _PY_SCALARS) and g is not ZERO:
        return extremum_adjoint(g, ans, x, b_axis(axis, x), keepdims)
    return b_loop(extremum_adjoint, (gb, ansb, xb, False, False), _n((g, gb), (ans, ansb), (x, xb)),
                  g, ans, x, axis, keepdims)


def _mT(a, nd):
    return np.swapaxes(a, -1, -2) if nd >= 2 else a


def _mul(x, y, xb, yb):
    if xb and not yb:
        return _lift(x, np.ndim(y)) * y
    if yb and not xb:
        return x * _lift(y, np.ndim(x))
    if xb and yb:
        r = max(np.ndim(x), np.ndim(y)) - 1
        return _lift(x, r) * _lift(y, r)
    return x * y


def b_matmul_adjoint_a(g, a, b, gb, ab, bb):
    """``matmul_adjoint_a(g, a, b)`` (the adjoint of ``a`` in ``a @ b``) of
    each example."""
    na, nb = np.ndim(a) - ab, np.ndim(b) - bb
    if nb == 1:
        if na == 1:
            return _mul(g, b, gb, bb)
        return b_unbroadcast(_mul(g[..., None], b, gb, bb), a, gb or bb, ab)
    if na == 1:
        # one example's vector times a stack of matrices: g holds a row per matrix
        out = b_matmul(g[..., None, :], _mT(b, nb), gb, bb)[..., 0, :]
    else:
        out = b_matmul(g, _mT(b, nb), gb, bb)
    return b_unbroadcast(out, a, gb or bb, ab)


def b_matmul_adjoint_b(g, a, b, gb, ab, bb):
    """``matmul_adjoint_b(g, a, b)`` of each example."""
    na, nb = np.ndim(a) - ab, np.ndim(b) - bb
    if na == 1:
        if nb == 1:
            return _mul(g, a, gb, ab)
        ac = a[..., :, None]
        return b_unbroadcast(_mul(ac, g[..., None, :], ab, gb), b, gb or ab, bb)
    if nb == 1:
        out = b_matmul(_mT(a, na), g[..., None], ab, gb)[..., 0]
        return b_unbroadcast(out, b, gb or ab, bb)
    return b_unbroadcast(b_matmul(_mT(a, na), g, ab, gb), b, gb or ab, bb)


def b_grad_out(g, x, gb, xb, n):
    """``grad_out(g, x)`` of each example: the per-example gradient, in
    ``x``'s dtype and one example's shape (``n`` lanes)."""
    if isinstance(x, (list, tuple)):
        gs = g if g is not ZERO else [ZERO] * len(x)
        items = [b_grad_out(gi, xi, gb, xb, n) for gi, xi in zip(gs, x)]
        return _same_sequence(x, items)
    if isinstance(g, (list, tuple)) and not isinstance(x, (list, tuple)):
        # the adjoint of an array unpacked into its rows: the rows, stacked in each example
        rows = [e if gb else b_broadcast(e, n) for e in g]
        like = next((np.asarray(e) for e in rows if e is not ZERO), None)
        if like is None:
            g = ZERO
        else:
            g = np.stack([np.zeros_like(like) if e is ZERO else np.asarray(e) for e in rows], axis=1)
        gb = True
    if g is ZERO or not gb:
        return b_broadcast(grad_out(g, lane(x, 0) if xb else x), n)
    if factored(g):          # kept factored (s2sad.per_example_norms)
        return g
    if isinstance(x, _PY_SCALARS) or (xb and np.ndim(x) == 1 and not isinstance(x, Like)):
        g = np.asarray(g)
        if np.ndim(g) > 1:
            g = g.reshape(_shape(g)[:1] + (-1,)).sum(axis=1)
        return g.astype(float) if dtype_kind(g.dtype) not in "fc" else g
    xd = getattr(x, "dtype", None)
    gd = getattr(g, "dtype", None)
    if xd is not None and dtype_kind(xd) in "fc" and gd != xd:
        g = g.astype(xd)
    xs = _lane_shape(x, xb)
    if _shape(g)[1:] != xs:
        g = _sum_to(g, xs)
    return g


def b_check_scalar_output(y, loc, yb):
    """``check_scalar_output`` of each example."""
    if not yb:
        return check_scalar_output(y, loc)
    check_scalar_output(lane(y, 0), loc)
    return y


def b_index_adjoint(g, x, idx, gb, xb, ib):
    """``index_adjoint(g, x, idx)`` of each example."""
    n = _n((x, xb), (idx, ib), (g, gb)) if (xb and not isinstance(x, (list, tuple, dict))) or ib else \
        _n((g, gb), (x, xb), (idx, ib))
    if isinstance(g, (list, tuple)) and gb and not isinstance(x, (list, tuple, dict)):
        # the adjoint of the items of x[idx] read one by one: the items, stacked in each example
        g = np.stack([np.asarray(e) for e in g], axis=1) if len(g) else np.zeros((n, 0))
    if ib and gb and g is not ZERO and _lane_ints(idx, n) and not isinstance(x, (list, tuple, dict)) \
            and np.ndim(x) - xb >= 1:
        # one integer per lane: a scatter of one row per lane
        xs = _lane_shape(x, xb)
        proto = x.proto if isinstance(x, Like) else x
        dt = x.dtype if dtype_kind(getattr(x, "dtype", np.dtype(int))) in "fc" else np.dtype(float)
        z = np.zeros_like(proto, shape=(n,) + xs, dtype=dt)
        z[np.arange(n), idx] = g
        return z
    t = idx if type(idx) is tuple else (idx,)
    if ib or isinstance(x, (list, tuple, dict)) or not (is_basic_index(t) or _is_mask(idx)) and len(t) > 1 \
            or isinstance(x, np.generic):
        return b_loop(index_adjoint, (gb, xb, ib), n, g, x, idx)
    xs = _lane_shape(x, xb)
    proto = x.proto if isinstance(x, Like) else x
    dt = x.dtype if dtype_kind(getattr(x, "dtype", np.dtype(int))) in "fc" else np.dtype(float)
    z = np.zeros_like(proto, shape=(n,) + xs, dtype=dt)
    if g is ZERO:
        return z
    bidx = (slice(None),) + t
    if gb:
        g = _lift(g, np.ndim(z[bidx]) - 1)
    if is_basic_index(t) or _is_mask(idx):
        z[bidx] = g
    else:
        np.add.at(z, bidx, g)
    return z


def b_index_accumulate(a, g, x, idx, ab, gb, xb, ib):
    """``index_accumulate(a, g, x, idx)`` of each example."""
    z = b_index_adjoint(g, x, idx, gb, xb, ib)
    return z if a is ZERO else a + z
