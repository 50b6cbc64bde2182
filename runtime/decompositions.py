"""Adjoints and tangents of matrix decompositions: ``linalg.cholesky``
(Murray 2016) and ``linalg.eigh`` / ``linalg.eigvalsh`` (Giles 2008).

NumPy reads one triangle of the input only (the lower one by default), so
the gradient lives on that triangle: an off-diagonal entry there moves two
entries of the symmetric matrix the function sees."""

from __future__ import annotations

import numpy as np

from .core import ZERO, at_function, float_dtype
from .linalg import mT


def _sym(s):
    return 0.5 * (s + mT(s))


def _to_triangle(gs, lower):
    """The gradient in the entries NumPy reads, from the gradient ``gs`` in
    the symmetric matrix: twice ``gs`` off the diagonal, once on it."""
    tri = np.tril(gs, -1) if lower else np.triu(gs, 1)
    return 2.0 * tri + _diag_part(gs)


def _diag_part(m):
    n = m.shape[-1]
    return m * np.eye(n, dtype=m.dtype) if m.ndim else m


def _from_triangle(t, lower):
    """The symmetric matrix a perturbation ``t`` of the full input makes
    (only the read triangle counts)."""
    tri = np.tril(t, -1) if lower else np.triu(t, 1)
    return tri + mT(tri) + _diag_part(t)


def to_lower(gs):
    """``_to_triangle(gs, lower=True)``: a gradient in a symmetric matrix
    as the gradient in the lower triangle a function reads."""
    return _to_triangle(gs, True)


def from_lower(t):
    """``_from_triangle(t, lower=True)``: the symmetric matrix the lower
    triangle of ``t`` makes."""
    return _from_triangle(t, True)


def mvn_cov(cov):
    """The symmetric matrix the lower triangle of ``cov`` makes (what
    ``scipy.stats.multivariate_normal.entropy`` reads), refusing a ``cov``
    that is not a matrix, whose derivative the rules do not take."""
    if np.ndim(cov) != 2:
        from .errors import NoRuleError
        raise at_function(NoRuleError, "multivariate_normal is differentiated with a full covariance "
                          "matrix only", hint="pass cov as a matrix (np.diag(v) for a diagonal one)")
    return from_lower(cov)


def _phi(x):
    """The lower triangle with its diagonal halved."""
    return np.tril(x, -1) + 0.5 * _diag_part(x)


def _is_zero(g):
    return g is None or g is ZERO


# ---------------------------------------------------------------- cholesky


def cholesky_adjoint(g, ans, a, upper=False):
    """Adjoint of ``L = cholesky(a)`` (``upper``: ``U = L.T``):
    ``S = L^-T phi(L^T g) L^-1``, symmetrised, on the lower (upper)
    triangle."""
    L = mT(ans) if upper else ans
    gl = mT(g) if upper else g
    li = np.linalg.inv(L)
    s = mT(li) @ _phi(mT(L) @ gl) @ li
    return _to_triangle(_sym(s), not upper)


def cholesky_jvp(t, ans, a, upper=False):
    """Tangent of ``cholesky(a)``: ``L phi(L^-1 dA L^-T)``."""
    L = mT(ans) if upper else ans
    li = np.linalg.inv(L)
    dl = L @ _phi(li @ _from_triangle(t, not upper) @ mT(li))
    return mT(dl) if upper else dl


# -------------------------------------------------------------------- eigh


def _gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it and where
    two eigenvalues are equal (see docs/rules.md: repeated eigenvalues)."""
    diff = w[..., None, :] - w[..., :, None]
    return np.where(diff == 0, 0.0, 1.0 / np.where(diff == 0, 1.0, diff))


def eigh_adjoint(g, ans, a, UPLO="L"):
    """Adjoint of ``w, v = eigh(a)`` from the adjoints ``g = (gw, gv)``:
    ``S = v (diag(gw) + F * (v^T gv)) v^T``, symmetrised, on the triangle
    NumPy reads."""
    w, v = ans
    gw, gv = g
    inner = 0.0
    if not _is_zero(gw):
        inner = gw[..., :, None] * np.eye(w.shape[-1], dtype=w.dtype)
    if not _is_zero(gv):
        inner = inner + _gaps(w) * (mT(v) @ gv)
    if isinstance(inner, float):
        return np.zeros_like(a, dtype=float_dtype(a))
    s = v @ inner @ mT(v)
    return _to_triangle(_sym(s), UPLO.upper() == "L")


def eigh_jvp(t, ans, a, UPLO="L"):
    """Tangent of ``eigh(a)``: ``dw = diag(v^T dA v)``,
    ``dv = v (F * (v^T dA v))``."""
    w, v = ans
    m = mT(v) @ _from_triangle(t, UPLO.upper() == "L") @ v
    dw = np.diagonal(m, axis1=-2, axis2=-1)
    return dw * 1, v @ (_gaps(w) * m)


def eigvalsh_adjoint(g, a, UPLO="L"):
    """Adjoint of ``eigvalsh(a)``: ``v diag(g) v^T`` on the read triangle."""
    w, v = np.linalg.eigh(a, UPLO)
    s = (v * g[..., None, :]) @ mT(v)
    return _to_triangle(_sym(s), UPLO.upper() == "L")


def eigvalsh_jvp(t, a, UPLO="L"):
    """Tangent of ``eigvalsh(a)``: ``diag(v^T dA v)``."""
    w, v = np.linalg.eigh(a, UPLO)
    m = mT(v) @ _from_triangle(t, UPLO.upper() == "L") @ v
    return np.diagonal(m, axis1=-2, axis2=-1) * 1


# --------------------------------------------------------------------- svd


def _scale_cols(x, s):
    return x * s[..., None, :]


def _scale_rows(s, x):
    return s[..., :, None] * x


def _svd_reduced(g, ans, a, full_matrices):
    """The reduced factors and their adjoints (a full factorisation of a
    non-square matrix has columns that are not unique: refused when they
    are differentiated)."""
    u, s, vt = ans
    gu, gs, gvt = g
    m, n = a.shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        extra = (not _is_zero(gu) and np.any(gu[..., :, k:])) or (not _is_zero(gvt) and np.any(gvt[..., k:, :]))
        if extra:
            from .errors import NoRuleError
            raise at_function(NoRuleError, "the gradient through the extra singular vectors of "
                              "np.linalg.svd(a) with full_matrices=True is not defined for a non-square matrix "
                              "(they are not unique)",
                              hint="pass full_matrices=False, or use the first min(m, n) columns only")
        u, vt = u[..., :, :k], vt[..., :k, :]
        gu = gu if _is_zero(gu) else gu[..., :, :k]
        gvt = gvt if _is_zero(gvt) else gvt[..., :k, :]
    return u, s, vt, gu, gs, gvt


def svd_adjoint(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Adjoint of ``np.linalg.svd(a)`` (Townsend 2016), with ``F[i, j] =
    1 / (s_j^2 - s_i^2)`` (0 where two singular values are equal):
    ``U [(F o (U^T gU - gU^T U)) S + S (F o (V^T gV - gV^T V)) + diag(gs)] V^T
    + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)``."""
    if not compute_uv:
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        return _scale_cols(u, g) @ vt
    u, s, vt, gu, gs, gvt = _svd_reduced(g, ans, a, full_matrices)
    v = mT(vt)
    inner = 0.0
    if not _is_zero(gs):
        inner = gs[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)
    f = _gaps(s * s)
    out = 0.0
    if not _is_zero(gu):
        ug = mT(u) @ gu
        inner = inner + _scale_cols(f * (ug - mT(ug)), s)
        out = out + _scale_cols(gu - u @ ug, 1.0 / s) @ vt
    if not _is_zero(gvt):
        gv = mT(gvt)
        vg = vt @ gv
        inner = inner + _scale_rows(s, f * (vg - mT(vg)))
        out = out + _scale_cols(u, 1.0 / s) @ mT(gv - v @ vg)
    if isinstance(inner, float) and isinstance(out, float):
        return np.zeros_like(a, dtype=float_dtype(a))
    return (u @ inner @ vt if not isinstance(inner, float) else 0.0) + out


def svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """Tangent of ``np.linalg.svd(a)``: with ``P = U^T dA V``,
    ``ds = diag(P)``, ``dU = U (F o (P S + S P^T)) + (I - U U^T) dA V S^-1``,
    ``dV = V (F o (S P + P^T S)) + (I - V V^T) dA^T U S^-1``."""
    if not compute_uv:
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        return np.diagonal(mT(u) @ t @ mT(vt), axis1=-2, axis2=-1) * 1
    u, s, vt = ans
    m, n = a.shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        # the extra singular vectors are not unique: their tangents are NaN
        du, ds, dvt = svd_jvp(t, (u[..., :, :k], s, vt[..., :k, :]), a, False)
        nan_u = np.full(u.shape[:-1] + (u.shape[-1] - du.shape[-1],), np.nan)
        nan_v = np.full(vt.shape[:-2] + (vt.shape[-2] - dvt.shape[-2], vt.shape[-1]), np.nan)
        return np.concatenate([du, nan_u], axis=-1), ds, np.concatenate([dvt, nan_v], axis=-2)
    v = mT(vt)
    p = mT(u) @ t @ v
    f = _gaps(s * s)
    ds = np.diagonal(p, axis1=-2, axis2=-1) * 1
    du = u @ (f * (_scale_cols(p, s) + _scale_rows(s, mT(p)))) + _scale_cols(t @ v - u @ p, 1.0 / s)
    dv = v @ (f * (_scale_rows(s, p) + _scale_cols(mT(p), s))) + _scale_cols(mT(t) @ u - v @ mT(p), 1.0 / s)
    return du, ds, mT(dv)


# ---------------------------------------------------------------------- qr


def _copyltu(m):
    """The symmetric matrix of ``m``'s lower triangle."""
    low = np.tril(m, -1)
    return low + mT(low) + _diag_part(m)


def _qr_check(a, mode):
    m, n = a.shape[-2:]
    if m < n or mode not in ("reduced", "r"):
        from .errors import NoRuleError
        raise at_function(NoRuleError, f"np.linalg.qr is differentiated for a tall or square matrix and "
                          f"mode='reduced' or 'r' (here {m}x{n}, mode={mode!r})",
                          hint="differentiate the QR of the transpose, or use mode='reduced'")


def qr_adjoint(g, ans, a, mode="reduced"):
    """Adjoint of ``q, r = np.linalg.qr(a)`` (``m >= n``): with
    ``M = R gR^T - gQ^T Q``, ``gA = (gQ + Q copyltu(M)) R^-T``."""
    _qr_check(a, mode)
    if mode == "r":
        q, r = np.linalg.qr(a)
        gq, gr = ZERO, g
    else:
        (q, r), (gq, gr) = ans, g
    mm = 0.0
    if not _is_zero(gr):
        mm = r @ mT(gr)
    if not _is_zero(gq):
        mm = mm - mT(gq) @ q
    b = q @ _copyltu(mm) if not isinstance(mm, float) else 0.0
    if not _is_zero(gq):
        b = b + gq
    if isinstance(b, float):
        return np.zeros_like(a, dtype=float_dtype(a))
    return mT(np.linalg.solve(r, mT(b)))


def qr_jvp(t, ans, a, mode="reduced"):
    """Tangent of ``np.linalg.qr(a)``: with ``C = Q^T dA R^-1`` and its
    skew part ``X = tril(C, -1) - tril(C, -1)^T`` (``Q^T dQ``),
    ``dR = (C - X) R`` and ``dQ = dA R^-1 - Q (C - X)``."""
    _qr_check(a, mode)
    q, r = np.linalg.qr(a) if mode == "r" else ans
    ri = np.linalg.inv(r)
    c = mT(q) @ t @ ri
    low = np.tril(c, -1)
    x = low - mT(low)
    dr = (c - x) @ r
    dq = t @ ri - q @ (c - x)
    return dr if mode == "r" else (dq, dr)


# ----------------------------------------------------- pinv, matrix_power


def pinv_adjoint(g, ans, a):
    """Adjoint of ``P = pinv(a)`` (at constant rank, Golub & Pereyra 1973):
    ``-P^T g P^T + (I - a P) g^T P P^T + P^T P g^T (I - P a)``."""
    p = ans
    pt = mT(p)
    gt = mT(g)
    return -pt @ g @ pt + (gt - a @ (p @ gt)) @ (p @ pt) + (pt @ p) @ (gt - (gt @ p) @ a)


def pinv_jvp(t, ans, a):
    """Tangent of ``pinv(a)``: ``-P dA P + P P^T dA^T (I - a P) +
    (I - P a) dA^T P^T P``."""
    p = ans
    pt = mT(p)
    tt = mT(t)
    return -p @ t @ p + (p @ pt) @ (tt - (tt @ a) @ p) + (tt - p @ (a @ tt)) @ (pt @ p)


def _powers(a, n):
    out = [np.broadcast_to(np.eye(a.shape[-1], dtype=float_dtype(a)), a.shape)]
    for _ in range(n - 1):
        out.append(out[-1] @ a)
    return out


def matrix_power_adjoint(g, ans, a, n):
    """Adjoint of ``matrix_power(a, n)``: ``sum_k (a^T)^k g (a^T)^(n-1-k)``
    (``n < 0``: through ``inv(a)``)."""
    n = int(n)
    if n == 0:
        return np.zeros_like(a, dtype=float_dtype(a))
    b = a if n > 0 else np.linalg.inv(a)
    pw = _powers(b, abs(n))
    gb = sum(mT(pw[k]) @ g @ mT(pw[abs(n) - 1 - k]) for k in range(abs(n)))
    if n > 0:
        return gb
    return -mT(b) @ gb @ mT(b)


def matrix_power_jvp(t, ans, a, n):
    """Tangent of ``matrix_power(a, n)``: ``sum_k a^k dA a^(n-1-k)``."""
    n = int(n)
    if n == 0:
        return np.zeros_like(ans, dtype=float_dtype(ans))
    b = a if n > 0 else np.linalg.inv(a)
    db = t if n > 0 else -b @ t @ b
    pw = _powers(b, abs(n))
    return sum(pw[k] @ db @ pw[abs(n) - 1 - k] for k in range(abs(n)))


# ------------------------------------------------------------------- lstsq


def _outer_last(g, b):
    """``g b^T`` for a vector or matrix right-hand side ``b``."""
    return np.multiply.outer(g, b) if np.ndim(b) == 1 else g @ mT(b)


def _lstsq_pinv(a, rcond):
    return np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)


def lstsq_adjoint(g, ans, a, b, rcond=None, part=0):
    """Adjoint of ``x, res, rank, s = np.linalg.lstsq(a, b)`` for ``a``
    (``part`` 0) or ``b`` (1), at constant rank: ``x = pinv(a) b``; the
    residuals ``|b - a x|^2`` move only through ``a`` and ``b`` (``x``
    minimises them): ``-2 r x^T`` and ``2 r``; ``s`` as ``svd``'s."""
    x, res, rank, s = ans
    gx, gres, _, gs = g
    p = _lstsq_pinv(a, rcond)
    out = 0.0
    if not _is_zero(gx):
        out = out + (pinv_adjoint(_outer_last(gx, b), p, a) if part == 0 else mT(p) @ gx)
    if not _is_zero(gres) and np.size(res):
        r = (b - a @ x) * gres
        out = out + (-2.0 * _outer_last(r, x) if part == 0 else 2.0 * r)
    if not _is_zero(gs) and part == 0:
        out = out + svd_adjoint(gs, None, a, False, False)
    if isinstance(out, float):
        return np.zeros_like(a if part == 0 else b, dtype=float_dtype(a, b))
    return out


def lstsq_jvp(t, ans, a, b, rcond=None, part=0):
    """Tangent of ``np.linalg.lstsq(a, b)`` in ``a`` (``part`` 0) or ``b``
    (1): ``dx = dP b`` (``pinv``'s tangent) or ``P db``, the residuals'
    ``-2 r . (dA x)`` or ``2 r . db``, ``s`` as ``svd``'s."""
    x, res, rank, s = ans
    p = _lstsq_pinv(a, rcond)
    r = b - a @ x
    if part == 0:
        dx = pinv_jvp(t, p, a) @ b
        dres = -2.0 * np.sum(r * (t @ x), axis=0)
        ds = svd_jvp(t, None, a, False, False)
    else:
        dx = p @ t
        dres = 2.0 * np.sum(r * t, axis=0)
        ds = np.zeros_like(s)
    return dx, (dres if np.size(res) else np.zeros_like(res)) * 1.0, 0, ds


# --------------------------------------------------------------------- eig


def _eig_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal; refused where two
    eigenvalues are equal (the eigenvectors, and the eigenvalues as a list,
    are not differentiable there)."""
    diff = w[..., None, :] - w[..., :, None]
    n = w.shape[-1]
    off = ~np.eye(n, dtype=bool)
    scale = np.maximum(1.0, np.max(np.abs(w), axis=-1, initial=0.0))[..., None, None]
    if np.any((np.abs(diff) <= 1e-12 * scale) & off):
        from .errors import NoRuleError
        raise at_function(NoRuleError, "np.linalg.eig is differentiated where the eigenvalues are distinct "
                          "(two are equal here)",
                          hint="for a symmetric matrix use np.linalg.eigh, whose gradient is defined for "
                               "functions of the eigenspaces")
    return np.where(off, 1.0 / np.where(off, diff, 1.0), 0.0)


def _eig_gauge(v):
    """Where each eigenvector has its largest component (NumPy makes it
    real), and that component."""
    p = np.argmax(np.abs(v), axis=-2)[..., None, :]
    return p, np.take_along_axis(v, p, axis=-2)


def eig_jvp(t, ans, a):
    """Tangent of ``w, v = np.linalg.eig(a)``: with ``C = v^-1 t v``,
    ``dw = diag(C)``; ``du = v (F o C)`` with the part along each
    eigenvector that changes its length removed (unit norm), then the
    phase that keeps its largest component real (NumPy's choice)."""
    w, v = ans
    f = _eig_gaps(w)
    c = np.linalg.solve(v, t @ v)
    dw = np.diagonal(c, axis1=-2, axis2=-1) * 1
    du = v @ (f * c)
    du = du - v * np.real(np.sum(np.conj(v) * du, axis=-2, keepdims=True))
    p, vp = _eig_gauge(v)
    dv = du - 1j * v * np.imag(np.take_along_axis(du, p, axis=-2) / vp)
    return dw, (dv if np.iscomplexobj(v) else np.real(dv))


def eig_adjoint(g, ans, a):
    """Cotangent of ``w, v = np.linalg.eig(a)`` (JAX's convention, see
    ``complex.py``), the transpose of ``eig_jvp``: ``v^-T (diag(gw) + F o
    M^T) v^T`` with ``M = gu^T v - diag(Re(diag(gu^T v))) v^H v``, where
    ``gu`` is ``gv`` plus the cotangent of the phase fix."""
    w, v = ans
    gw, gv = g
    f = _eig_gaps(w)
    inner = 0.0
    if not _is_zero(gw):
        inner = gw[..., :, None] * np.eye(w.shape[-1])
    if not _is_zero(gv):
        p, vp = _eig_gauge(v)
        h = np.sum(gv * v, axis=-2, keepdims=True)                       # diag(gv^T v)
        gu = gv + 0.0j
        np.put_along_axis(gu, p, np.take_along_axis(gu, p, axis=-2) - 1j * np.imag(h) / vp, axis=-2)
        hu = np.real(np.sum(gu * v, axis=-2, keepdims=True))
        mt = mT(v) @ gu - (mT(v) @ np.conj(v)) * hu                       # M^T
        inner = inner + f * mt
    if isinstance(inner, float):
        return np.zeros_like(a, dtype=np.result_type(a, float))
    return np.linalg.solve(mT(v), inner @ mT(v))


def eigvals_adjoint(g, a):
    """Cotangent of ``np.linalg.eigvals(a)``: ``v^-T diag(g) v^T``."""
    w, v = np.linalg.eig(a)
    _eig_gaps(w)
    return np.linalg.solve(mT(v), (g[..., :, None] * mT(v)))


def eigvals_jvp(t, a):
    """Tangent of ``np.linalg.eigvals(a)``: ``diag(v^-1 t v)``."""
    w, v = np.linalg.eig(a)
    _eig_gaps(w)
    return np.diagonal(np.linalg.solve(v, t @ v), axis1=-2, axis2=-1) * 1
