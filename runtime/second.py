"""Helpers for second derivatives: the transposes and the tangents of the
adjoint helpers that generated gradients call, where they are not another
helper already.  ``s2sad/rules/runtime_rules.py`` uses them in the rules
that let a generated gradient be differentiated again (``hvp``,
``grad(grad(f))``, hypergradients)."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, _shape, unbroadcast
from .decompositions import svd_jvp
from .linalg import _expand2, _solve_vector, einsum_adjoint, mT, solve_adjoint_b
from .manipulation import _average_weights, _expand_as, cumprod_jvp
from .reductions import _count, _expand, _norm_axes, _norm_axis, _safe_div, _vector_norm_grad, sum_adjoint


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


def std_adjoint_hess(g, s, x, axis=None, ddof=0, keepdims=False, t=None):
    """``g`` times the Hessian of each lane's standard deviation applied to
    ``t``: ``(P t / (n - ddof) - q <q, t>) / s`` with ``q = (x - mean) /
    ((n - ddof) s)`` the gradient and ``P`` the centring; 0 where ``s`` is
    (as the adjoint is there).  Symmetric: the adjoint of ``std_adjoint``
    in ``x``, the standard deviation moving with it."""
    if isinstance(x, _PY_SCALARS):
        return 0.0 * t
    a = _expand(s, x, axis, keepdims)
    zero = a == 0
    safe = np.where(zero, 1.0, a)
    n = _count(x, axis) - ddof
    gt = _expand(g, x, axis, keepdims) * _like(t, x)
    q = (x - np.mean(x, axis=axis, keepdims=True)) / (n * safe)
    r = (gt - np.mean(gt, axis=axis, keepdims=True)) / n - q * np.sum(q * gt, axis=axis, keepdims=True)
    return np.where(zero, 0.0 * r, r / safe)


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


def pair_adjoint_rev(adjoint, primal, g, c, a, b, j, *args):
    """Reverse mode over ``adjoint(c, a, b, *args)``, the adjoint of a
    bilinear ``primal(a, b, *args[:-1])`` for operand ``k = args[-1]``:
    bilinear in ``c`` and the other operand, so its adjoint in ``c`` (``j``
    0) is the primal with operand ``k`` replaced by ``g``, in the other
    operand (``j`` 1 for ``a``, 2 for ``b``) the other adjoint with operand
    ``k`` replaced by ``g`` (the second derivative of ``<c, primal>`` is
    symmetric), and in operand ``k`` zero (it gives only its shape)."""
    k = args[-1]
    ops = [a, b]
    if j - 1 == k:
        return np.zeros_like(ops[k], dtype=np.result_type(g, ops[k], float))
    ops[k] = g
    if j == 0:
        return primal(*ops, *args[:-1])
    return adjoint(c, *ops, *args[:-1], j - 1)


def einsum_adjoint_rev(g, c, subscripts, operands, k, j=None):
    """``pair_adjoint_rev`` for ``einsum_adjoint(c, subscripts, operands,
    k)``: in ``c`` (``j`` None) the einsum with operand ``k`` replaced by
    ``g``, in operand ``j`` its adjoint with that replacement."""
    if j == k:
        return np.zeros_like(operands[k], dtype=np.result_type(g, operands[k], float))
    ops = list(operands)
    ops[k] = g
    if j is None:
        return np.einsum(subscripts, *ops)
    return einsum_adjoint(c, subscripts, ops, j)


def _like(t, x):
    """A tangent ``t`` as an array shaped like ``x``."""
    return t if _shape(t) == _shape(x) and not isinstance(t, _PY_SCALARS) else np.broadcast_to(t, _shape(x))


# ------------------------------------------------------------------ prod


def _prod_others_jvp(x, t, axis):
    """Tangent of the products of all entries but one along ``axis`` (in
    ``x``, along ``t``): ``left * right`` of the exclusive cumulative
    products from either end, each differentiated by ``cumprod_jvp``
    (no division: exact with zeros)."""
    n = _shape(x)[axis]
    one_shape = list(_shape(x))
    one_shape[axis] = 1
    dt = np.result_type(x, t, float)
    if n == 0:
        return np.zeros(_shape(x), dtype=dt)
    one, zero = np.ones(one_shape, dtype=dt), np.zeros(one_shape, dtype=dt)
    cl = np.cumprod(x, axis=axis)
    dcl = cumprod_jvp(t, cl, x, axis)
    xf, tf = np.flip(x, axis), np.flip(t, axis)
    cr = np.cumprod(xf, axis=axis)
    dcr = np.flip(cumprod_jvp(tf, cr, xf, axis), axis)
    cr = np.flip(cr, axis)
    head, tail = range(n - 1), range(1, n)
    left = np.concatenate([one, np.take(cl, head, axis=axis)], axis=axis)
    dleft = np.concatenate([zero, np.take(dcl, head, axis=axis)], axis=axis)
    right = np.concatenate([np.take(cr, tail, axis=axis), one], axis=axis)
    dright = np.concatenate([np.take(dcr, tail, axis=axis), zero], axis=axis)
    return dleft * right + left * dright


def prod_adjoint_dx(g, x, axis=None, keepdims=False, t=None):
    """Tangent of ``prod_adjoint(g, ans, x, axis, keepdims)`` in ``x``
    (along ``t``): ``g`` times the Hessian of each lane's product applied
    to ``t``.  That map is symmetric, so it is also the transpose the
    adjoint of ``prod_adjoint`` in ``x`` needs.  Exact with zeros."""
    if isinstance(x, _PY_SCALARS):
        return 0.0 * t
    t = _like(t, x)
    g = _expand(g, x, axis, keepdims)
    if axis is None:
        return (g * _prod_others_jvp(x.reshape(-1), np.reshape(t, -1), 0)).reshape(_shape(x))
    nd = len(_shape(x))
    axes = _norm_axis(axis, nd)
    if len(axes) == 1:
        return g * _prod_others_jvp(x, t, axes[0])
    rest = [i for i in range(nd) if i not in axes]
    perm = rest + list(axes)
    xt, tt = np.transpose(x, perm), np.transpose(t, perm)
    lead = _shape(xt)[:len(rest)]
    others = _prod_others_jvp(xt.reshape(lead + (-1,)), tt.reshape(lead + (-1,)), len(rest)).reshape(_shape(xt))
    return g * np.transpose(others, [perm.index(i) for i in range(nd)])


# --------------------------------------------------------------- cumprod


def cumprod_adjoint_da(g, a, axis=None, t=None):
    """Tangent of ``cumprod_adjoint(g, cumprod(a), a, axis)`` in ``a``
    (along ``t``; the result ``cumprod(a)`` moves with ``a``): ``sum_i g_i
    H_i t`` with ``H_i`` the Hessian of the ``i``-th cumulative product,
    a symmetric map (so also the adjoint in ``a``).

    With ``L_j = prod_{l<j} a_l`` and ``S_j = sum_{i>=j} g_i
    prod_{j<l<=i} a_l`` (``S_j = g_j + a_{j+1} S_{j+1}``) the adjoint is
    ``L_j S_j``; both recurrences are differentiated along the axis, one
    step at a time: no division, exact with zeros."""
    if isinstance(a, _PY_SCALARS):
        return 0.0 * t
    a = np.asarray(a)
    x = np.reshape(a, -1) if axis is None else a
    ax = 0 if axis is None else axis % x.ndim
    xm = np.moveaxis(x, ax, 0)
    gm = np.moveaxis(np.reshape(g, _shape(x)), ax, 0)
    tm = np.moveaxis(np.reshape(_like(t, a), _shape(x)), ax, 0)
    n = _shape(xm)[0]
    dt = np.result_type(x, g, t, float)
    if n == 0:
        return np.zeros(_shape(a), dtype=dt)
    lefts, L, dL = [], np.ones(_shape(xm)[1:], dtype=dt), np.zeros(_shape(xm)[1:], dtype=dt)
    for j in range(n):
        lefts.append((L, dL))
        L, dL = L * xm[j], dL * xm[j] + L * tm[j]
    out = [None] * n
    S, dS = gm[n - 1] * 1.0, np.zeros(_shape(xm)[1:], dtype=dt)
    out[n - 1] = lefts[n - 1][1] * S + lefts[n - 1][0] * dS
    for j in range(n - 2, -1, -1):
        S, dS = gm[j] + xm[j + 1] * S, tm[j + 1] * S + xm[j + 1] * dS
        out[j] = lefts[j][1] * S + lefts[j][0] * dS
    r = np.moveaxis(np.stack(out), 0, ax)
    return np.reshape(r, _shape(a))


# --------------------------------------------------------------- average


def average_adjoint_d(g, ans, a, axis=None, weights=None, keepdims=False, k=0, j=0, t=None):
    """Tangent of ``average_adjoint(g, ans, a, axis, weights, keepdims,
    k)`` in ``a`` (``j`` 0), ``weights`` (1) or the average ``ans`` (2),
    along ``t``.  With ``s = sum(w)``: the adjoint in ``a`` is ``g w / s``
    (it moves with the weights only), the adjoint in the weights ``g (a -
    ans) / s``."""
    shaped = a if k == 0 else weights
    if weights is None or (k == 0 and j != 1):
        return np.zeros(_shape(shaped), dtype=np.result_type(shaped, g, float))
    w = _average_weights(a, axis, weights)
    full = np.broadcast_shapes(_shape(w), _shape(a))
    sw = np.sum(np.broadcast_to(w, full), axis=axis, keepdims=True)
    ge = _expand_as(g, a, axis, keepdims)
    if j == 1:
        tw = _average_weights(a, axis, t)
        dsw = np.sum(np.broadcast_to(tw, full), axis=axis, keepdims=True)
    if k == 0:
        return unbroadcast(ge * (tw / sw - w * dsw / (sw * sw)) + 0.0 * a, a)
    if j == 0:
        r = ge * t / sw
    elif j == 2:
        r = -ge * _expand_as(t, a, axis, keepdims) / sw
    else:
        r = -ge * (a - _expand_as(ans, a, axis, keepdims)) * dsw / (sw * sw)
    return np.reshape(unbroadcast(r + 0.0 * w, w), _shape(weights))


# ----------------------------------------------------------------- norm


def _two_norm_hess(x, a, t, axis):
    """Tangent of ``x / |x|`` (``a`` = the norm, expanded; 0 at a zero
    norm): ``(t - x <x, t> / a^2) / a``."""
    return _safe_div(t - x * _safe_div(np.sum(x * t, axis=axis, keepdims=True), a * a), a)


def _vector_norm_hess(x, a, ord, axis, t):
    if ord is None or ord == 2:
        return _two_norm_hess(x, a, t, axis)
    if ord in (1, np.inf, -np.inf, 0):
        return 0.0 * (x * t)           # piecewise linear (or constant): no curvature
    p = float(ord)
    ax = np.abs(x)
    nz = ax != 0
    axs = np.where(nz, ax, 1.0)
    da = np.sum(_vector_norm_grad(x, a, ord, axis) * t, axis=axis, keepdims=True)
    term = np.where(nz, axs ** (p - 2.0) * t, 0.0) - np.sign(x) * np.where(nz, axs ** (p - 1.0), 0.0) * _safe_div(da, a)
    return (p - 1.0) * _safe_div(term, a ** (p - 1.0))


def norm_adjoint_dx(g, ans, x, ord=None, axis=None, keepdims=False, t=None):
    """Tangent of ``norm_adjoint(g, ans, x, ord, axis, keepdims)`` in ``x``
    (along ``t``; the norm ``ans`` moves with ``x``): ``g`` times the
    Hessian of each norm applied to ``t``, a symmetric map (so also the
    adjoint in ``x``).  Piecewise linear norms (1, inf, the matrix 1- and
    inf-norms) have none; the nuclear and spectral norms differentiate
    their singular vectors (``svd_jvp``: distinct singular values)."""
    if isinstance(x, _PY_SCALARS):
        return 0.0 * t
    t = _like(t, x)
    nd = len(_shape(x))
    matrix, axes = _norm_axes(nd, ord, axis)
    ge = _expand(g, x, axes, keepdims)
    a = _expand(ans, x, axes, keepdims)
    if not matrix:
        return ge * _vector_norm_hess(x, a, ord, axes, t)
    r, c = axes
    if ord in (None, "fro"):
        return ge * _two_norm_hess(x, a, t, axes)
    if ord in (1, -1, np.inf, -np.inf):
        return 0.0 * (ge * x * t)
    xm, tm = np.moveaxis(x, (r, c), (-2, -1)), np.moveaxis(t, (r, c), (-2, -1))
    u, s, vh = np.linalg.svd(xm, full_matrices=False)
    du, _, dvh = svd_jvp(tm, (u, s, vh), xm, False)
    if ord == "nuc":
        dm = du @ vh + u @ dvh
    else:
        i = 0 if ord == 2 else -1
        dm = du[..., :, i][..., :, None] * vh[..., i, :][..., None, :] \
            + u[..., :, i][..., :, None] * dvh[..., i, :][..., None, :]
    return ge * np.moveaxis(dm, (-2, -1), (r, c))


# ------------------------------------------------------------------ sinc


def sinc_second_derivative(x):
    """``d^2/dx^2 sinc(x)``: ``pi^2 f''(pi x)`` with ``f(y) = sin(y) / y``,
    ``f''(y) = ((2 - y^2) sin y - 2 y cos y) / y^3``, and its Taylor series
    ``-1/3 + y^2/10 - y^4/168 + y^6/6480`` where ``|y| < 0.1`` (the closed
    form cancels there)."""
    y = np.pi * np.asarray(x, dtype=float) if isinstance(x, _PY_SCALARS) else np.pi * x
    small = np.abs(y) < 0.1
    ys = np.where(small, 1.0, y)
    closed = ((2.0 - ys * ys) * np.sin(ys) - 2.0 * ys * np.cos(ys)) / (ys * ys * ys)
    y2 = y * y
    taylor = -1.0 / 3.0 + y2 * (0.1 + y2 * (-1.0 / 168.0 + y2 / 6480.0))
    return np.pi ** 2 * np.where(small, taylor, closed)
