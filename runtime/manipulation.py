"""Adjoints and tangents of NumPy's array manipulation functions that have
no simpler expression in a rule template: diff, rollaxis, column_stack,
dstack, append, split (and its variants), diagonal, pad, kron, cross,
average, cumprod, and sort/partition (a permutation found from the result)."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, ZERO, _shape, float_dtype, unbroadcast
from .errors import NoRuleError
from .namespaces import dtype_kind


def _ax(axis, nd):
    return axis % nd if nd else 0


def _zeros_for(x, g):
    """Zeros shaped like ``x`` in the array type of ``g`` (a float dtype)."""
    dt = np.result_type(g, getattr(x, "dtype", float))
    if dtype_kind(dt) not in "fc":
        dt = np.dtype(float)
    if hasattr(g, "shape"):
        return np.zeros_like(g, shape=_shape(x), dtype=dt)
    return np.zeros(_shape(x), dtype=dt)


# ------------------------------------------------------------------- diff


def _diff_operand(v, a, axis):
    """``prepend``/``append`` of np.diff as NumPy uses it: a scalar becomes
    a slab of thickness 1 along ``axis``."""
    if np.ndim(v) == 0:
        shape = list(_shape(a))
        shape[_ax(axis, len(shape))] = 1
        return np.broadcast_to(v, tuple(shape))
    return v


def diff_adjoint(g, a, n=1, axis=-1, prepend=None, append=None, part=0):
    """Adjoint of ``np.diff(a, n, axis, prepend, append)`` for ``a``
    (``part`` 0), ``prepend`` (1) or ``append`` (2).  One difference
    ``y[i] = x[i+1] - x[i]`` has the adjoint ``x[j] = g[j-1] - g[j]``
    (zero outside), applied ``n`` times."""
    nd = np.ndim(a)
    ax = _ax(axis, nd)
    for _ in range(n):
        edge = [slice(None)] * nd
        edge[ax] = slice(0, 1)
        z = np.zeros_like(g[tuple(edge)]) if _shape(g)[ax] else np.zeros_like(g, shape=_shape(g)[:ax] + (1,) + _shape(g)[ax + 1:])
        g = -np.diff(np.concatenate([z, g, z], axis=ax), axis=ax)
    pre = 0 if prepend is None else _shape(_diff_operand(prepend, a, axis))[ax]
    start, stop = ((pre, pre + _shape(a)[ax]), (0, pre), (pre + _shape(a)[ax], None))[part]
    sl = [slice(None)] * nd
    sl[ax] = slice(start, stop)
    piece = g[tuple(sl)]
    if part == 0:
        return piece
    return unbroadcast(piece, prepend if part == 1 else append)


def diff_transpose(c, g, a, n=1, axis=-1, prepend=None, append=None, part=0):
    """The transpose of :func:`diff_adjoint` in ``g``: ``c`` put in place of
    operand ``part`` (zeros for the others), differenced ``n`` times."""
    ops = [_diff_operand(prepend, a, axis) if prepend is not None else None, a,
           _diff_operand(append, a, axis) if append is not None else None]
    pos = (1, 0, 2)[part]
    pieces = []
    for i, v in enumerate(ops):
        if v is None:
            continue
        if i == pos:
            pieces.append(np.broadcast_to(c, _shape(v)) if _shape(c) != _shape(v) else c)
        else:
            pieces.append(np.zeros_like(c, shape=_shape(v), dtype=float_dtype(c)))
    return np.diff(np.concatenate(pieces, axis=axis) if len(pieces) > 1 else pieces[0], n, axis=axis)


# -------------------------------------------------------------- rollaxis


def _rollaxis_dest(nd, axis, start):
    axis = axis % nd
    start = start + nd if start < 0 else start
    return start - 1 if axis < start else start


def rollaxis_adjoint(g, a, axis, start=0):
    """Adjoint of ``np.rollaxis(a, axis, start)``: the axis moved back."""
    nd = np.ndim(a)
    return np.moveaxis(g, _rollaxis_dest(nd, axis, start), axis % nd)


def rollaxis_transpose(c, a, axis, start=0):
    """The transpose of :func:`rollaxis_adjoint` in ``g``: rollaxis again."""
    nd = np.ndim(a)
    return np.moveaxis(c, axis % nd, _rollaxis_dest(nd, axis, start))


# ---------------------------------------------------------- joining pieces


def _cut(g, sizes, ax, k):
    start = sum(sizes[:k])
    sl = (slice(None),) * ax + (slice(start, start + sizes[k]),)
    return g[sl]


def column_stack_piece(g, tup, k):
    """Part of the adjoint of ``np.column_stack(tup)`` for ``tup[k]``
    (1-D arrays are columns)."""
    sizes = [1 if np.ndim(p) < 2 else _shape(p)[1] for p in tup]
    return _cut(g, sizes, 1, k).reshape(_shape(tup[k]))


def dstack_piece(g, tup, k):
    """Part of the adjoint of ``np.dstack(tup)`` for ``tup[k]``."""
    sizes = [_shape(np.atleast_3d(p))[2] if np.ndim(p) >= 3 else 1 for p in tup]
    return _cut(g, sizes, 2, k).reshape(_shape(tup[k]))


def append_piece(g, arr, values, axis, k):
    """Part of the adjoint of ``np.append(arr, values, axis)`` for ``arr``
    (``k`` 0) or ``values`` (1)."""
    parts = [arr, values]
    if axis is None:
        sizes = [int(np.size(p)) for p in parts]
        return _cut(g, sizes, 0, k).reshape(_shape(parts[k]))
    ax = _ax(axis, np.ndim(g))
    sizes = [_shape(p)[ax] for p in parts]
    return _cut(g, sizes, ax, k)


def _split_axis(ary, axis):
    if axis == "h":
        return 1 if np.ndim(ary) > 1 else 0
    if axis == "v":
        return 0
    if axis == "d":
        return 2
    return axis


def split_adjoint(g, ary, indices_or_sections, axis=0):
    """Adjoint of ``np.split``/``np.array_split`` (``axis`` an int) and of
    ``np.hsplit``/``vsplit``/``dsplit`` (``axis`` "h", "v", "d"): the
    pieces' adjoints concatenated back (zeros for pieces nothing used).

    ``g`` holds one adjoint per piece (the rule says np.split returns a
    container, so the compiler accumulates its adjoint piece by piece);
    several such lists joined end to end are also summed piece by piece."""
    ax = _split_axis(ary, axis)
    parts = np.array_split(np.zeros_like(ary, dtype=float_dtype(ary)), indices_or_sections, axis=ax)
    n = len(parts)
    if not isinstance(g, (list, tuple)) or len(g) % n or not g:
        from .errors import S2SadError
        raise S2SadError(f"the adjoint of np.split (array_split, hsplit, vsplit, dsplit) into {n} pieces got "
                         f"{type(g).__name__} of length {len(g) if isinstance(g, (list, tuple)) else '-'}",
                         hint="unpack the pieces (a, b = np.split(x, 2)) or index the list")
    out = list(parts)
    for i, gi in enumerate(g):
        if gi is ZERO or gi is None:
            continue
        p = out[i % n]
        out[i % n] = p + gi
    out = [p if _shape(p) == _shape(q) else np.broadcast_to(p, _shape(q)) * 1 for p, q in zip(out, parts)]
    return np.concatenate(out, axis=ax)


def split_piece(g, c, ary, indices_or_sections, axis, k):
    """The transpose of ``split_adjoint(c, ary, ...)`` for the adjoint of
    piece ``k`` (``c[k]``): that piece of ``g`` (``k`` counts on past the
    pieces when several lists were joined, as in ``split_adjoint``)."""
    parts = np.array_split(g, indices_or_sections, axis=_split_axis(ary, axis))
    p = parts[k % len(parts)]
    ck = c[k]
    return p if ck is ZERO or ck is None else unbroadcast(p, ck)


# --------------------------------------------------------------- diagonal


def diagonal_adjoint(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` written on
    that diagonal of zeros shaped like ``a`` (the diagonal is the last axis
    of ``g``)."""
    out = _zeros_for(a, g)
    # np.diagonal returns a read-only view: write through a moved one
    idx = np.arange(_shape(g)[-1])
    nd = np.ndim(a)
    a1, a2 = axis1 % nd, axis2 % nd
    r = idx + max(-offset, 0)
    c = idx + max(offset, 0)
    moved = np.moveaxis(out, (a1, a2), (-2, -1))
    moved[..., r, c] = g
    return out


# -------------------------------------------------------------------- pad

_PAD_COPY_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad_refuse(mode, reflect_type):
    what = f"mode={mode!r}" if mode not in _PAD_COPY_MODES else f"mode={mode!r} with reflect_type={reflect_type!r}"
    raise NoRuleError(f"np.pad is differentiated with mode 'constant', 'edge', 'reflect', 'symmetric' or 'wrap' "
                      f"(reflect_type 'even'), not {what}",
                      hint="pad with one of those modes, or register a rule with @s2sad.adjoint(np.pad)")


def pad_adjoint(g, array, pad_width, mode="constant", constant_values=0, reflect_type="even", part=0):
    """Adjoint of ``np.pad`` for ``array`` (``part`` 0) or a scalar
    ``constant_values`` (1).  Mode 'constant': the interior slice (and the
    sum of the rest for the constant); modes that copy elements ('edge',
    'reflect', 'symmetric', 'wrap'): each element's copies summed back."""
    nd = np.ndim(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (nd, 2)) if nd else np.zeros((0, 2), int)
    inner = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, _shape(array)))
    if mode == "constant":
        if part == 0:
            return g[inner]
        if np.ndim(constant_values) != 0:
            raise NoRuleError("np.pad with constant_values per axis or per side is differentiated only in "
                              "the padded array, not in the constants",
                              hint="pass one scalar as constant_values, or stop its gradient")
        return unbroadcast(np.sum(g) - np.sum(g[inner]), constant_values)
    if mode not in _PAD_COPY_MODES or (mode in ("reflect", "symmetric") and reflect_type != "even"):
        _pad_refuse(mode, reflect_type)
    if part == 1:
        return 0.0 * constant_values
    size = int(np.prod(_shape(array)))
    src = np.pad(np.arange(size).reshape(_shape(array)), widths, mode=mode)
    out = _zeros_for(array, g)
    np.add.at(out.reshape(-1), src.reshape(-1), g.reshape(-1))
    return out


def pad_jvp(t, array, pad_width, mode="constant", constant_values=0, reflect_type="even", part=0):
    """Tangent of ``np.pad`` in ``array`` (``part`` 0, its tangent ``t``) or
    in ``constant_values`` (1)."""
    if mode == "constant":
        if part == 0:
            return np.pad(t, pad_width, mode="constant")
        return np.pad(np.zeros_like(array, dtype=np.result_type(array, t)), pad_width, mode="constant",
                      constant_values=t)
    if mode not in _PAD_COPY_MODES or (mode in ("reflect", "symmetric") and reflect_type != "even"):
        _pad_refuse(mode, reflect_type)
    if part == 1:
        return np.zeros_like(np.pad(array, pad_width, mode=mode), dtype=np.result_type(array, t))
    return np.pad(t, pad_width, mode=mode)


# ------------------------------------------------------------------- kron


def _kron_operands(a, b):
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + _shape(a)
    sb = (1,) * (nd - np.ndim(b)) + _shape(b)
    return nd, sa, sb


def kron_adjoint(g, a, b, k):
    """Adjoint of ``np.kron(a, b)`` for ``a`` (``k`` 0) or ``b`` (1): the
    result, reshaped to interleaved axes ``(a0, b0, a1, b1, ...)``,
    contracted with the other operand."""
    nd, sa, sb = _kron_operands(a, b)
    inter = [n for pair in zip(sa, sb) for n in pair]
    gi = np.reshape(g, inter)
    letters = "abcdefghijklmnopqrstuvwxyz"
    la, lb = letters[:nd], letters[nd:2 * nd]
    gsub = "".join(x + y for x, y in zip(la, lb))
    if k == 0:
        r = np.einsum(f"{gsub},{lb}->{la}", gi, np.reshape(b, sb))
        return np.reshape(r, _shape(a)) if not isinstance(a, _PY_SCALARS) else float(r)
    r = np.einsum(f"{gsub},{la}->{lb}", gi, np.reshape(a, sa))
    return np.reshape(r, _shape(b)) if not isinstance(b, _PY_SCALARS) else float(r)


# ------------------------------------------------------------------ cross


def cross_adjoint(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, k=0):
    """Adjoint of ``np.cross`` of 3-vectors for ``a`` (``k`` 0) or ``b``
    (1): ``<g, a x b> = <a, b x g> = <b, g x a>`` (summed back to the
    operand's shape by the caller)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if _shape(a)[axisa] != 3 or _shape(b)[axisb] != 3:
        raise NoRuleError("np.cross is differentiated for 3-element vectors only",
                          hint="write the 2-D cross product out: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]")
    gv = np.moveaxis(g, axisc, -1)
    av = np.moveaxis(a, axisa, -1)
    bv = np.moveaxis(b, axisb, -1)
    # (the operand may have fewer axes than the result: count from the end)
    if k == 0:
        return np.moveaxis(np.cross(bv, gv), -1, axisa % np.ndim(a) - np.ndim(a))
    return np.moveaxis(np.cross(gv, av), -1, axisb % np.ndim(b) - np.ndim(b))


# ---------------------------------------------------------------- average


def _average_weights(a, axis, weights):
    """The weights broadcast against ``a`` (1-D weights lie along ``axis``)."""
    if weights is None:
        return None
    if np.ndim(weights) == 1 and np.ndim(a) > 1 and axis is not None:
        shape = [1] * np.ndim(a)
        shape[_ax(axis, np.ndim(a))] = _shape(weights)[0]
        return np.reshape(weights, shape)
    return weights


def _expand_as(v, a, axis, keepdims):
    if keepdims or axis is None or np.ndim(v) == np.ndim(a):
        return v
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return np.expand_dims(v, tuple(_ax(x, np.ndim(a)) for x in axes))


def _average_returned(ans):
    if isinstance(ans, tuple):
        raise NoRuleError("np.average(..., returned=True) is not differentiated",
                          hint="compute the sum of the weights separately: np.sum(weights)")


def average_adjoint(g, ans, a, axis=None, weights=None, keepdims=False, k=0):
    """Adjoint of ``np.average(a, axis, weights, keepdims=...)`` for ``a``
    (``k`` 0) or ``weights`` (1): ``avg = sum(w a) / sum(w)``."""
    _average_returned(ans)
    if weights is None:
        if k == 1:
            return None
        g = _expand_as(g, a, axis, keepdims)
        n = np.size(a) if axis is None else int(np.prod([_shape(a)[_ax(x, np.ndim(a))] for x in
                                                          ((axis,) if isinstance(axis, int) else axis)]))
        return unbroadcast(g / n + 0.0 * a, a)
    w = _average_weights(a, axis, weights)
    ge = _expand_as(g, a, axis, keepdims)
    sw = np.sum(np.broadcast_to(w, np.broadcast_shapes(_shape(w), _shape(a))), axis=axis, keepdims=True)
    if k == 0:
        return unbroadcast(ge * w / sw + 0.0 * a, a)
    r = ge * (a - _expand_as(ans, a, axis, keepdims)) / sw
    r = unbroadcast(r + 0.0 * w, w)
    return np.reshape(r, _shape(weights))


def average_jvp(t, ans, a, axis=None, weights=None, keepdims=False, k=0):
    """Tangent of ``np.average`` in ``a`` (``k`` 0) or ``weights`` (1)."""
    _average_returned(ans)
    if weights is None:
        return np.average(t, axis=axis, keepdims=keepdims)
    w = _average_weights(a, axis, weights)
    full = np.broadcast_shapes(_shape(w), _shape(a))
    sw = np.sum(np.broadcast_to(w, full), axis=axis, keepdims=True)
    if k == 0:
        num = np.sum(np.broadcast_to(w * t, full), axis=axis, keepdims=True)
    else:
        tw = _average_weights(a, axis, t)
        dev = a - _expand_as(ans, a, axis, keepdims)
        num = np.sum(np.broadcast_to(tw * dev, full), axis=axis, keepdims=True)
    r = num / sw
    if keepdims:
        return r
    return np.reshape(r, _shape(ans))


# ---------------------------------------------------------------- cumprod


def _cumprod_parts(a, axis):
    """``(x, ax, before, excl_first_zero_cumprod)`` along one axis: ``before``
    is true at positions before each lane's first zero; the last array is
    the cumulative product with that first zero replaced by one."""
    x = np.reshape(a, -1) if axis is None else a
    ax = 0 if axis is None else _ax(axis, np.ndim(x))
    zero = x == 0
    seen = np.cumsum(zero, axis=ax)
    before = seen == 0
    first = zero & (seen == 1)
    y = np.where(first, 1.0, x).astype(np.result_type(x, 1.0) if dtype_kind(x.dtype) not in "fc" else x.dtype)
    return x, ax, before, first, np.cumprod(y, axis=ax)


def cumprod_adjoint(g, ans, a, axis=None):
    """Adjoint of ``np.cumprod(a, axis)``, exact with zeros:
    ``dx_j = sum_{i>=j} g_i prod_{l<=i, l!=j} x_l``.  Before a lane's
    first zero this is ``revcumsum(g ans)_j / x_j``; at the first zero it
    is ``revcumsum(g p)_j`` with ``p`` the cumulative product that skips
    that zero; after it, zero."""
    if isinstance(a, _PY_SCALARS):
        return g
    x, ax, before, first, p = _cumprod_parts(a, axis)
    ans = np.reshape(ans, _shape(x))
    gx = np.reshape(g, _shape(x))
    rev = lambda v: np.flip(np.cumsum(np.flip(v, ax), axis=ax), ax)   # noqa: E731
    r = np.where(before, rev(gx * ans) / np.where(before, x, 1.0), 0.0) + np.where(first, rev(gx * p), 0.0)
    return np.reshape(r, _shape(a)).astype(np.result_type(a, g), copy=False)


def cumprod_jvp(t, ans, a, axis=None):
    """Tangent of ``np.cumprod(a, axis)``: ``ans cumsum(t / x)`` before a
    lane's first zero, ``t_z p`` from it on (``z`` the first zero, ``p``
    the cumulative product that skips it)."""
    if isinstance(a, _PY_SCALARS):
        return t
    x, ax, before, first, p = _cumprod_parts(a, axis)
    ans = np.reshape(ans, _shape(x))
    tx = np.reshape(t, _shape(x))
    tz = np.sum(np.where(first, tx, 0.0), axis=ax, keepdims=True)
    r = np.where(before, ans * np.cumsum(tx / np.where(before, x, 1.0), axis=ax), tz * p)
    return np.reshape(r, _shape(ans)).astype(np.result_type(a, t), copy=False)


# ----------------------------------------------------------- sort, partition


def _sorted_perm(ans, a, axis):
    """Indices ``p`` along ``axis`` with ``take_along_axis(a, p) == ans``
    for a result ``ans`` that is a rearrangement of ``a`` along ``axis``
    (np.sort, np.partition): the stable sort orders of both matched
    (tied values: the first in ``a`` goes to the first in ``ans``)."""
    sa = np.argsort(a, axis=axis, kind="stable")
    sb = np.argsort(ans, axis=axis, kind="stable")
    perm = np.empty_like(sa)
    np.put_along_axis(perm, sb, sa, axis=axis)
    return perm


def sorted_jvp(t, ans, a, axis=-1):
    """Tangent of ``np.sort(a, axis)`` / ``np.partition(a, kth, axis)``
    (``ans`` its result): ``t`` rearranged like ``a``."""
    if axis is None:
        t, a = np.reshape(t, -1), np.reshape(a, -1)
        axis = 0
    return np.take_along_axis(t, _sorted_perm(ans, a, axis), axis=axis)


def sorted_adjoint(g, ans, a, axis=-1):
    """Adjoint of ``np.sort`` / ``np.partition``: ``g`` scattered back
    through the permutation."""
    shape = _shape(a)
    if axis is None:
        g, a = np.reshape(g, -1), np.reshape(a, -1)
        axis = 0
    out = _zeros_for(a, g)
    np.put_along_axis(out, _sorted_perm(ans, a, axis), g, axis=axis)
    return np.reshape(out, shape)


# ---------------------------------------------------------------- logsumexp


def logsumexp_weights(lse, a, axis=None, b=None, keepdims=False):
    """``b * exp(a - lse)`` with ``lse`` (the result of
    ``scipy.special.logsumexp(a, axis, b, keepdims)``) expanded to
    broadcast against ``a``: the weights of its derivative in ``a``
    (``b=None``: the softmax)."""
    if isinstance(lse, tuple):
        raise NoRuleError("scipy.special.logsumexp(..., return_sign=True) is not differentiated",
                          hint="use weights b >= 0 and return_sign=False")
    full = a if b is None else np.broadcast_to(a, np.broadcast_shapes(_shape(a), _shape(b)))
    e = np.exp(a - _expand_as(lse, full, axis, keepdims))
    return e if b is None else b * e


# --------------------------------------------------------------------------
# ranges of values: np.linspace and np.arange are differentiable in their
# endpoints and step (the values), not in their lengths


def _integer_dtype(dtype):
    return dtype is not None and dtype_kind(np.dtype(dtype)) in "biu"


def linspace_adjoint(g, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, part=0):
    """Adjoint of ``np.linspace(start, stop, num, ...)`` for ``start``
    (``part`` 0) or ``stop`` (1): sample ``i`` is ``start + t_i (stop -
    start)`` with ``t_i = i / (num - 1)`` (``i / num`` without the
    endpoint), the last one ``stop`` itself with it."""
    x = start if part == 0 else stop
    if retstep:
        from .core import at_function
        raise at_function(NoRuleError, "np.linspace(..., retstep=True) is not differentiated",
                          hint="compute the step as (stop - start) / (num - 1) yourself")
    if _integer_dtype(dtype):
        return unbroadcast(np.zeros(np.shape(x)), x)
    n = int(num)
    div = n - 1 if endpoint else n
    t = np.arange(n) / div if div > 0 else np.zeros(n)
    g = np.moveaxis(np.asarray(g), axis, 0)
    t = t.reshape((n,) + (1,) * (g.ndim - 1))
    return unbroadcast(np.sum(g * (t if part == 1 else 1.0 - t), axis=0), x)


def linspace_tangent(t, ans, num=50, endpoint=True, dtype=None, axis=0, part=0):
    """Tangent of ``np.linspace`` in ``start`` (``part`` 0) or ``stop``
    (1): the endpoint's tangent ``t`` times ``1 - t_i`` (``t_i``) along the
    samples' axis."""
    if _integer_dtype(dtype):
        return np.zeros(np.shape(ans))
    n = int(num)
    div = n - 1 if endpoint else n
    w = np.arange(n) / div if div > 0 else np.zeros(n)
    w = 1.0 - w if part == 0 else w
    nd = np.ndim(ans)
    ax = axis % nd
    rest = tuple(np.shape(ans)[:ax]) + tuple(np.shape(ans)[ax + 1:])
    tt = np.expand_dims(np.broadcast_to(t, rest), ax)
    shape = [1] * nd
    shape[ax] = n
    return w.reshape(shape) * tt


def arange_adjoint(g, start, stop=None, step=None, dtype=None, part=0):
    """Adjoint of ``np.arange(start, stop, step)`` for ``start`` (``part``
    0) or ``step`` (2): element ``i`` is ``start + i * step``; with one
    argument it is the stop (element ``i`` is ``i``), and the stop only
    sets the length."""
    x = (start, stop, step)[part]
    if stop is None or part == 1 or _integer_dtype(dtype) or np.ndim(g) != 1:
        return 0.0 * x
    g = np.asarray(g)
    return np.sum(g) if part == 0 else np.sum(g * np.arange(g.shape[0]))


def arange_tangent(t, ans, start, stop=None, step=None, dtype=None, part=0):
    """Tangent of ``np.arange(start, stop, step)`` in ``start`` (``part``
    0) or ``step`` (2): ``t`` in every element, or ``i t`` in element
    ``i``; with one argument (the stop), or an integer result, zero."""
    n = _shape(ans)[0] if len(_shape(ans)) == 1 else 0
    if stop is None or part == 1 or _integer_dtype(dtype) or np.ndim(ans) != 1:
        return np.zeros(_shape(ans))
    w = np.ones(n) if part == 0 else np.arange(n, dtype=float)
    return w * t


def _gradient_axes(f, axis):
    nd = np.ndim(f)
    if axis is None:
        return list(range(nd))
    return [a % nd for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)]


def gradient_tangent(v, varargs, axis=None, edge_order=1):
    """``np.gradient(v, *varargs, axis=, edge_order=)``: the tangent of
    ``np.gradient`` (linear in its array; the spacing stays as it is)."""
    return np.gradient(v, *varargs, axis=axis, edge_order=edge_order)


def gradient_adjoint(g, f, varargs, axis=None, edge_order=1):
    """The adjoint of ``np.gradient(f, *varargs, axis=, edge_order=)`` in
    ``f``: one array of adjoints per axis (a list, or the array itself for
    one axis; several such lists joined end to end are summed piece by
    piece).  Along each axis the difference operator is banded (an output
    reads at most two entries either side), so its coefficients are read
    off by applying ``np.gradient`` to five comb vectors, and its transpose
    applied in five shifted products: O(n), any spacing or edge order."""
    axes = _gradient_axes(f, axis)
    n_ax = len(axes)
    if isinstance(g, (list, tuple)):
        if not g or len(g) % n_ax:
            from .errors import S2SadError
            raise S2SadError(f"the adjoint of np.gradient over {n_ax} axes got a list of length {len(g)}")
        parts = [None] * n_ax
        for i, gi in enumerate(g):
            if gi is ZERO or gi is None:
                continue
            parts[i % n_ax] = gi if parts[i % n_ax] is None else parts[i % n_ax] + gi
    else:
        parts = [g] if n_ax == 1 else None
        if parts is None:
            from .errors import S2SadError
            raise S2SadError(f"the adjoint of np.gradient over {n_ax} axes got one array")
    out = np.zeros(np.shape(f), dtype=float_dtype(f))
    spacing = list(varargs)
    if len(spacing) == 1 and n_ax > 1:
        spacing = spacing * n_ax
    for i, (a, gi) in enumerate(zip(axes, parts)):
        if gi is None or gi is ZERO:
            continue
        n = np.shape(f)[a]
        combs = np.zeros((5, n))
        for r in range(5):
            combs[r, r::5] = 1.0
        h = (spacing[i],) if spacing else ()
        y = np.gradient(combs, *h, axis=1, edge_order=edge_order)      # y[r, i] = sum over j = r mod 5 of D[i, j]
        gm = np.moveaxis(np.asarray(gi), a, 0)
        acc = np.zeros(gm.shape, dtype=np.result_type(gm, float))
        j = np.arange(n)
        for o in range(-2, 3):
            lo, hi = max(0, -o), min(n, n - o)                  # j with 0 <= j + o < n
            if lo >= hi:
                continue
            c = y[j[lo:hi] % 5, j[lo:hi] + o]                   # D[j + o, j]
            acc[lo:hi] += c.reshape((-1,) + (1,) * (gm.ndim - 1)) * gm[lo + o:hi + o]
        out = out + np.moveaxis(acc, 0, a)
    return out
