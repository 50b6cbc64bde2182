"""Tangents of the adjoints of the matrix decompositions (cholesky, eigh,
eigvalsh, svd, qr, pinv, matrix_power, lstsq), for second derivatives:
``hvp`` differentiates a generated gradient that calls
``decompositions.*_adjoint`` in forward mode.

Each ``*_adjoint_da(g, ans, a, ..., t)`` is the derivative of the adjoint
helper in the input ``a`` along ``t``, the factorisation ``ans`` moving
with ``a`` (its tangent comes from the decomposition's own ``*_jvp``): the
rules in ``s2sad/rules/second_rules.py`` count the whole derivative in
``a`` and none in ``ans``.  The derivative in the adjoint argument ``g``
is the helper itself (it is linear in ``g``).  Every formula is the
product rule through the adjoint's own expression, so the limitations are
the adjoints': distinct eigenvalues and singular values (equal pairs are
dropped), constant rank for ``pinv`` and ``lstsq``."""

from __future__ import annotations

import numpy as np

from .core import ZERO
from .decompositions import (
    _copyltu, _gaps, _is_zero, _lstsq_pinv, _outer_last, _phi, _qr_check, _scale_cols, _scale_rows,
    _svd_reduced, _sym, _to_triangle, cholesky_jvp, eigh_jvp, pinv_adjoint, pinv_jvp, qr_jvp, svd_jvp,
)
from .linalg import mT


def _dgaps(f, dw):
    """Tangent of ``_gaps(w)`` (``F[i, j] = 1 / (w[j] - w[i])``):
    ``-F^2 (dw[j] - dw[i])`` (0 where ``F`` is)."""
    return -f * f * (dw[..., None, :] - dw[..., :, None])


def _zeros(a):
    return np.zeros_like(a, dtype=np.result_type(a, float))


# ---------------------------------------------------------------- cholesky


def cholesky_adjoint_da(g, ans, a, upper=False, t=None):
    """Tangent of ``cholesky_adjoint(g, L, a) = tri(sym(L^-T phi(L^T g)
    L^-1))`` with ``dL = cholesky_jvp(t)`` and ``d(L^-1) = -L^-1 dL
    L^-1``."""
    L = mT(ans) if upper else ans
    gl = mT(g) if upper else g
    dl = cholesky_jvp(t, ans, a, upper)
    dl = mT(dl) if upper else dl
    li = np.linalg.inv(L)
    dli = -li @ dl @ li
    inner = _phi(mT(L) @ gl)
    ds = mT(dli) @ inner @ li + mT(li) @ _phi(mT(dl) @ gl) @ li + mT(li) @ inner @ dli
    return _to_triangle(_sym(ds), not upper)


# -------------------------------------------------------------------- eigh


def eigh_adjoint_da(g, ans, a, UPLO="L", t=None):
    """Tangent of ``eigh_adjoint((gw, gv), (w, v), a) = tri(sym(v (diag(gw)
    + F o (v^T gv)) v^T))`` along ``dw, dv = eigh_jvp(t)``."""
    w, v = ans
    gw, gv = g
    dw, dv = eigh_jvp(t, ans, a, UPLO)
    inner = 0.0
    dinner = 0.0
    if not _is_zero(gw):
        inner = gw[..., :, None] * np.eye(w.shape[-1], dtype=w.dtype)
    if not _is_zero(gv):
        f = _gaps(w)
        vg = mT(v) @ gv
        inner = inner + f * vg
        dinner = _dgaps(f, dw) * vg + f * (mT(dv) @ gv)
    if isinstance(inner, float):
        return _zeros(a)
    ds = dv @ inner @ mT(v) + v @ inner @ mT(dv)
    if not isinstance(dinner, float):
        ds = ds + v @ dinner @ mT(v)
    return _to_triangle(_sym(ds), UPLO.upper() == "L")


def eigvalsh_adjoint_da(g, a, UPLO="L", t=None):
    """Tangent of ``eigvalsh_adjoint(g, a) = tri(sym(v diag(g) v^T))``
    along ``dv`` of ``eigh_jvp(t)``."""
    w, v = np.linalg.eigh(a, UPLO)
    _, dv = eigh_jvp(t, (w, v), a, UPLO)
    vg = v * g[..., None, :]
    ds = (dv * g[..., None, :]) @ mT(v) + vg @ mT(dv)
    return _to_triangle(_sym(ds), UPLO.upper() == "L")


# --------------------------------------------------------------------- svd


def svd_adjoint_da(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False, t=None):
    """Tangent of ``svd_adjoint`` (Townsend's formula, see
    ``decompositions.svd_adjoint``) along ``du, ds, dvt = svd_jvp(t)`` of
    the reduced factors, term by term."""
    if not compute_uv:
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        du, _, dvt = svd_jvp(t, (u, s, vt), a, False)
        return _scale_cols(du, g) @ vt + _scale_cols(u, g) @ dvt
    u, s, vt, gu, gs, gvt = _svd_reduced(g, ans, a, full_matrices)
    du, ds, dvt = svd_jvp(t, (u, s, vt), a, False)
    v, dv = mT(vt), mT(dvt)
    f = _gaps(s * s)
    df = _dgaps(f, 2.0 * s * ds)
    inner = dinner = out = dout = 0.0
    if not _is_zero(gs):
        inner = gs[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)
    if not _is_zero(gu):
        ug = mT(u) @ gu
        dug = mT(du) @ gu
        sk, dsk = ug - mT(ug), dug - mT(dug)
        inner = inner + _scale_cols(f * sk, s)
        dinner = dinner + _scale_cols(df * sk + f * dsk, s) + _scale_cols(f * sk, ds)
        rest = gu - u @ ug
        drest = -du @ ug - u @ dug
        out = out + _scale_cols(rest, 1.0 / s) @ vt
        dout = dout + _scale_cols(drest, 1.0 / s) @ vt + _scale_cols(rest, -ds / (s * s)) @ vt \
            + _scale_cols(rest, 1.0 / s) @ dvt
    if not _is_zero(gvt):
        gv = mT(gvt)
        vg = vt @ gv
        dvg = dvt @ gv
        sk, dsk = vg - mT(vg), dvg - mT(dvg)
        inner = inner + _scale_rows(s, f * sk)
        dinner = dinner + _scale_rows(s, df * sk + f * dsk) + _scale_rows(ds, f * sk)
        rest = gv - v @ vg
        drest = -dv @ vg - v @ dvg
        out = out + _scale_cols(u, 1.0 / s) @ mT(rest)
        dout = dout + _scale_cols(du, 1.0 / s) @ mT(rest) + _scale_cols(u, -ds / (s * s)) @ mT(rest) \
            + _scale_cols(u, 1.0 / s) @ mT(drest)
    if isinstance(inner, float) and isinstance(out, float):
        return _zeros(a)
    if not isinstance(inner, float):
        dout = dout + du @ inner @ vt + u @ inner @ dvt
        if not isinstance(dinner, float):
            dout = dout + u @ dinner @ vt
    return dout


# ---------------------------------------------------------------------- qr


def qr_adjoint_da(g, ans, a, mode="reduced", t=None):
    """Tangent of ``qr_adjoint((gq, gr), (q, r), a) = b r^-T`` with ``b = gq
    + q copyltu(r gr^T - gq^T q)``, along ``dq, dr = qr_jvp(t)``:
    ``(db - out dr^T) r^-T``."""
    _qr_check(a, mode)
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = ZERO, g
    else:
        (q, r), (gq, gr) = ans, g
    dq, dr = qr_jvp(t, (q, r), a, "reduced")
    mm = dmm = 0.0
    if not _is_zero(gr):
        mm, dmm = r @ mT(gr), dr @ mT(gr)
    if not _is_zero(gq):
        mm, dmm = mm - mT(gq) @ q, dmm - mT(gq) @ dq
    if isinstance(mm, float):
        return _zeros(a)
    b, db = q @ _copyltu(mm), dq @ _copyltu(mm) + q @ _copyltu(dmm)
    if not _is_zero(gq):
        b = b + gq
    out = mT(np.linalg.solve(r, mT(b)))
    return mT(np.linalg.solve(r, mT(db - out @ mT(dr))))


# --------------------------------------------------- pinv, matrix_power


def _pinv_adjoint_tangent(g, p, dp, a, da):
    """Tangent of ``pinv_adjoint(g, p, a) = -p^T g p^T + (g^T - a p g^T) p
    p^T + p^T p (g^T - g^T p a)`` in ``p`` and ``a`` (tangents ``dp``,
    ``da``)."""
    pt, dpt, gt = mT(p), mT(dp), mT(g)
    left = gt - a @ (p @ gt)
    right = gt - (gt @ p) @ a
    return (-(dpt @ g @ pt + pt @ g @ dpt)
            - (da @ (p @ gt) + a @ (dp @ gt)) @ (p @ pt) + left @ (dp @ pt + p @ dpt)
            + (dpt @ p + pt @ dp) @ right - (pt @ p) @ ((gt @ dp) @ a + (gt @ p) @ da))


def pinv_adjoint_da(g, ans, a, t=None):
    """Tangent of ``pinv_adjoint(g, P, a)`` along ``dP = pinv_jvp(t)``
    (constant rank)."""
    return _pinv_adjoint_tangent(g, ans, pinv_jvp(t, ans, a), a, t)


def _powers_jvp(b, db, n):
    """``b^k`` and their tangents for ``k = 0 .. n-1``."""
    pw = [np.broadcast_to(np.eye(b.shape[-1], dtype=np.result_type(b, float)), b.shape)]
    dpw = [np.zeros(b.shape, dtype=np.result_type(b, db, float))]
    for _ in range(n - 1):
        dpw.append(dpw[-1] @ b + pw[-1] @ db)
        pw.append(pw[-1] @ b)
    return pw, dpw


def matrix_power_adjoint_da(g, ans, a, n, t=None):
    """Tangent of ``matrix_power_adjoint(g, ans, a, n) = sum_k (b^T)^k g
    (b^T)^(n-1-k)`` (``b = a``, or ``inv(a)`` for ``n < 0``, then
    ``-b^T gb b^T``)."""
    n = int(n)
    if n == 0:
        return _zeros(a)
    m = abs(n)
    b = a if n > 0 else np.linalg.inv(a)
    db = t if n > 0 else -b @ t @ b
    pw, dpw = _powers_jvp(b, db, m)
    dgb = sum(mT(dpw[k]) @ g @ mT(pw[m - 1 - k]) + mT(pw[k]) @ g @ mT(dpw[m - 1 - k]) for k in range(m))
    if n > 0:
        return dgb
    gb = sum(mT(pw[k]) @ g @ mT(pw[m - 1 - k]) for k in range(m))
    return -(mT(db) @ gb @ mT(b) + mT(b) @ dgb @ mT(b) + mT(b) @ gb @ mT(db))


# ------------------------------------------------------------------- lstsq


def lstsq_adjoint_d(g, ans, a, b, rcond=None, part=0, j=0, t=None):
    """Tangent of ``lstsq_adjoint(g, (x, res, rank, s), a, b, rcond, part)``
    in ``a`` (``j`` 0) or ``b`` (1), along ``t``, the solution moving with
    them (``dx = dP b`` or ``P db``; constant rank)."""
    x, res, rank, s = ans
    gx, gres, _, gs = g
    p = _lstsq_pinv(a, rcond)
    da = t if j == 0 else 0.0 * a
    db = t if j == 1 else 0.0 * b
    dp = pinv_jvp(da, p, a) if j == 0 else 0.0 * p
    dx = dp @ b + p @ db
    out = 0.0
    if not _is_zero(gx):
        if part == 0:
            # (pinv_adjoint is linear in its first argument, g x^T)
            out = out + _pinv_adjoint_tangent(_outer_last(gx, b), p, dp, a, da) + \
                pinv_adjoint(_outer_last(gx, db), p, a)
        else:
            out = out + mT(dp) @ gx
    if not _is_zero(gres) and np.size(res):
        r = b - a @ x
        dr = db - da @ x - a @ dx
        if part == 0:
            out = out - 2.0 * (_outer_last(dr * gres, x) + _outer_last(r * gres, dx))
        else:
            out = out + 2.0 * dr * gres
    if not _is_zero(gs) and part == 0 and j == 0:
        out = out + svd_adjoint_da(gs, None, a, False, False, False, t)
    if isinstance(out, float):
        return np.zeros_like(a if part == 0 else b, dtype=np.result_type(a, b, float))
    return out
