"""Rules for ``scipy.stats.norm`` (``logpdf``, ``pdf``, ``cdf``,
``logcdf``, ``sf``, ``logsf``) and ``scipy.stats.multivariate_normal.logpdf``,
loaded only once the user's program imports ``scipy.stats`` (s2sad never
imports SciPy itself).

``norm.logpdf`` and the others are bound methods of the ``norm`` object:
the rules are keyed by them (bound methods of one object compare equal, so
``from scipy.stats import norm; norm.logpdf(x)`` finds its rule).  The
templates use NumPy functions only (and ``scipy.special.log_ndtr``, which
has its rule), so second derivatives through them work too.  In ``x``,
``loc`` and ``scale``, with ``z = (x - loc) / scale``."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, t

_INV_SQRT_2PI = 0.3989422804014327


def register(T):
    """Registered through ``late_rules("scipy.stats", register)``."""
    from scipy.stats import multivariate_normal, norm

    def defrule(method, name):
        return T.defrule(method, broadcasting=True, jvp="elementwise", name=f"scipy.stats.{name}")

    @defrule(norm.logpdf, "norm.logpdf")
    def norm_logpdf(g, x, loc=0.0, scale=1.0):
        # -z^2/2 - log(scale) - log(2 pi)/2
        z = (x - loc) / scale
        d[x] = -g * z / scale
        d[loc] = g * z / scale
        d[scale] = g * (z * z - 1.0) / scale

    @defrule(norm.pdf, "norm.pdf")
    def norm_pdf(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        d[x] = -g * ans * z / scale
        d[loc] = g * ans * z / scale
        d[scale] = g * ans * (z * z - 1.0) / scale

    @defrule(norm.cdf, "norm.cdf")
    def norm_cdf(g, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        p = _INV_SQRT_2PI * np.exp(-0.5 * z * z) / scale
        d[x] = g * p
        d[loc] = -g * p
        d[scale] = -g * p * z

    @defrule(norm.sf, "norm.sf")
    def norm_sf(g, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        p = _INV_SQRT_2PI * np.exp(-0.5 * z * z) / scale
        d[x] = -g * p
        d[loc] = g * p
        d[scale] = g * p * z

    @defrule(norm.logcdf, "norm.logcdf")
    def norm_logcdf(g, ans, x, loc=0.0, scale=1.0):
        # the density over the probability, exp(-z^2/2 - logcdf): no 0/0 in the tail
        z = (x - loc) / scale
        r = _INV_SQRT_2PI * np.exp(-0.5 * z * z - ans) / scale
        d[x] = g * r
        d[loc] = -g * r
        d[scale] = -g * r * z

    @defrule(norm.logsf, "norm.logsf")
    def norm_logsf(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        r = _INV_SQRT_2PI * np.exp(-0.5 * z * z - ans) / scale
        d[x] = -g * r
        d[loc] = g * r
        d[scale] = g * r * z

    def mvn_logpdf_jvp(ans, x, mean=None, cov=1, allow_singular=False):
        r = _rt.mvn_centered(x, mean, cov)          # (first: it refuses a cov that is not a matrix)
        c = _rt.from_lower(cov)
        s = np.linalg.solve(c, r.T).T
        d[x] = -np.sum(s * t, axis=-1)
        d[mean] = np.sum(s * t, axis=-1)
        # (the symmetric matrix the lower triangle of t makes: a tangent
        # template's temporaries cannot read t)
        d[cov] = 0.5 * (np.sum((s @ _rt.from_lower(t)) * s, axis=-1) - np.trace(np.linalg.solve(c, _rt.from_lower(t))))

    @T.defrule(multivariate_normal.logpdf, name="scipy.stats.multivariate_normal.logpdf", jvp=mvn_logpdf_jvp)
    def mvn_logpdf(g, x, mean=None, cov=1, allow_singular=False):
        # -(k log 2 pi + logdet(c) + r^T c^-1 r) / 2 with r = x - mean, one
        # sample per row of x; SciPy reads the lower triangle of cov only:
        # c is the symmetric matrix it makes, and the gradient lies on it
        r = _rt.mvn_centered(x, mean, cov)          # (first: it refuses a cov that is not a matrix)
        c = _rt.from_lower(cov)
        s = np.linalg.solve(c, r.T).T
        gs = _rt.expand_adjoint(g, s, -1, False) * s
        gc = 0.5 * (np.atleast_2d(gs).T @ np.atleast_2d(s) - np.sum(g) * np.linalg.inv(c))
        d[x] = _rt.unbroadcast(-gs, x)
        d[mean] = _rt.unbroadcast(gs, mean)
        d[cov] = _rt.to_lower(gc)

    from s2sad.rules import stats_dist_rules
    stats_dist_rules.register(T)     # t, gamma, beta, chi2, poisson, dirichlet, multivariate_normal.pdf / entropy
