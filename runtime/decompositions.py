"""Adjoints and tangents of matrix decompositions: ``linalg.cholesky``
(Murray 2016) and ``linalg.eigh`` / ``linalg.eigvalsh`` (Giles 2008).

NumPy reads one triangle of the input only (the lower one by default), so
the gradient lives on that triangle: an off-diagonal entry there moves two
entries of the symmetric matrix the function sees."""

from __future__ import annotations

import numpy as np

from .core import ZERO
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
        return np.zeros_like(a, dtype=np.result_type(a, float))
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
