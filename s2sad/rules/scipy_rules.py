"""Rules for ``scipy.special``, loaded only once the user's program imports
it (s2sad never imports SciPy itself): logsumexp, softmax, log_softmax, expit, logit, erf,
erfc, erfinv, gammaln, psi/digamma, polygamma and xlogy.

The adjoints use NumPy and SciPy functions that have rules themselves
(and ``logsumexp_weights``, which has its own), so second derivatives
through them work too."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, t

_sp = None      # scipy.special, bound by register (the templates name it)


def register(T):
    """Registered through ``late_rules("scipy.special", register)``: run on
    the first lookup that misses once the user imported scipy.special."""
    global _sp
    import scipy.special as _sp
    defrule = T.defrule

    def logsumexp_jvp(ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        d[a] = np.sum(t * _rt.logsumexp_weights(ans, a, axis, b, keepdims), axis=axis, keepdims=keepdims)
        d[b] = np.sum(t * _rt.logsumexp_weights(ans, a, axis, None, keepdims), axis=axis, keepdims=keepdims)

    @defrule(_sp.logsumexp, broadcasting=True, jvp=logsumexp_jvp)
    def logsumexp(g, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        w = _rt.logsumexp_weights(ans, a, axis, b, keepdims)
        d[a] = _rt.expand_adjoint(g, w, axis, keepdims) * w
        d[b] = _rt.expand_adjoint(g, w, axis, keepdims) * _rt.logsumexp_weights(ans, a, axis, None, keepdims)

    def softmax_jvp(ans, x, axis=None):
        d[x] = ans * (t - np.sum(t * ans, axis=axis, keepdims=True))

    @defrule(_sp.softmax, jvp=softmax_jvp)
    def softmax(g, ans, x, axis=None):
        d[x] = ans * (g - np.sum(g * ans, axis=axis, keepdims=True))

    def log_softmax_jvp(ans, x, axis=None):
        d[x] = t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)

    @defrule(_sp.log_softmax, jvp=log_softmax_jvp)
    def log_softmax(g, ans, x, axis=None):
        d[x] = g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)

    @defrule(_sp.expit)
    def expit(g, ans, x):
        d[x] = g * ans * (1.0 - ans)

    @defrule(_sp.logit)
    def logit(g, x):
        d[x] = g / (x * (1.0 - x))

    @defrule(_sp.erf)
    def erf(g, x):
        d[x] = g * 1.1283791670955126 * np.exp(-x * x)        # 2 / sqrt(pi)

    @defrule(_sp.erfc)
    def erfc(g, x):
        d[x] = -g * 1.1283791670955126 * np.exp(-x * x)

    @defrule(_sp.erfinv)
    def erfinv(g, ans, x):
        d[x] = g * 0.886226925452758 * np.exp(ans * ans)       # sqrt(pi) / 2

    @defrule(_sp.gammaln)
    def gammaln(g, x):
        d[x] = g * _sp.psi(x)

    @defrule(_sp.psi, _sp.digamma)
    def psi(g, x):
        d[x] = g * _sp.polygamma(1, x)

    @defrule(_sp.polygamma, jvp="elementwise")
    def polygamma(g, n, x):
        d[x] = g * _sp.polygamma(n + 1, x)

    @defrule(_sp.xlogy, broadcasting=True)
    def xlogy(g, x, y):
        # x log y, 0 at x == 0 (also at y == 0): d/dy is x / y, 0 where x == 0
        d[x] = g * np.log(y)
        d[y] = g * x / np.where(x == 0, 1.0, y)
