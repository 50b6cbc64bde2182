"""Rules for ``scipy.special``, loaded only once the user's program imports
it (s2sad never imports SciPy itself): logsumexp, softmax, log_softmax, expit, logit, erf,
erfc, erfinv, erfcx, gammaln, gamma, rgamma, psi/digamma, polygamma, beta, betaln, xlogy,
xlog1py, entr, the Bessel functions i0, i1, j0, j1, y0, y1, iv, jv, yv, kv (in z), and the normal
distribution's ndtr, log_ndtr and ndtri; erfcinv, gammainc, gammaincc and betainc (in x),
ive, yn (in z / x), multigammaln (in a); gammasgn is piecewise constant.

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

    @defrule(_sp.erfcx)
    def erfcx(g, ans, x):
        d[x] = g * (2.0 * x * ans - 1.1283791670955126)       # erfcx = exp(x^2) erfc(x)

    @defrule(_sp.gamma)
    def gamma(g, ans, x):
        d[x] = g * ans * _sp.psi(x)

    @defrule(_sp.rgamma)
    def rgamma(g, ans, x):
        # at a pole -n of gamma, rgamma is 0 and its derivative (-1)^n n!
        d[x] = g * np.where(ans == 0, np.cos(np.pi * x) * _sp.gamma(1.0 - x), -ans * _sp.psi(x))

    @defrule(_sp.beta, broadcasting=True)
    def beta(g, ans, a, b):
        d[a] = g * ans * (_sp.psi(a) - _sp.psi(a + b))
        d[b] = g * ans * (_sp.psi(b) - _sp.psi(a + b))

    @defrule(_sp.betaln, broadcasting=True)
    def betaln(g, a, b):
        d[a] = g * (_sp.psi(a) - _sp.psi(a + b))
        d[b] = g * (_sp.psi(b) - _sp.psi(a + b))

    @defrule(_sp.xlog1py, broadcasting=True)
    def xlog1py(g, x, y):
        # x log(1 + y), 0 at x == 0: d/dy is x / (1 + y), 0 where x == 0
        d[x] = g * np.log1p(y)
        d[y] = g * x / np.where(x == 0, 1.0, 1.0 + y)

    @defrule(_sp.entr)
    def entr(g, x):
        d[x] = -g * (np.log(x) + 1.0)         # -x log x for x > 0

    @defrule(_sp.i0)
    def i0(g, x):
        d[x] = g * _sp.i1(x)

    @defrule(_sp.i1)
    def i1(g, x):
        d[x] = g * 0.5 * (_sp.i0(x) + _sp.iv(2, x))

    @defrule(_sp.j0)
    def j0(g, x):
        d[x] = -g * _sp.j1(x)

    @defrule(_sp.j1)
    def j1(g, x):
        d[x] = g * 0.5 * (_sp.j0(x) - _sp.jv(2, x))

    @defrule(_sp.y0)
    def y0(g, x):
        d[x] = -g * _sp.y1(x)

    @defrule(_sp.y1)
    def y1(g, x):
        d[x] = g * 0.5 * (_sp.y0(x) - _sp.yv(2, x))

    # the Bessel functions of real order v, in z (the order is not
    # differentiated: refused when it is)
    @defrule(_sp.iv, broadcasting=True)
    def iv(g, v, z):
        d[z] = g * 0.5 * (_sp.iv(v - 1.0, z) + _sp.iv(v + 1.0, z))
        d[v] = _rt.not_differentiated("scipy.special.iv in its order v", v)

    @defrule(_sp.jv, broadcasting=True)
    def jv(g, v, z):
        d[z] = g * 0.5 * (_sp.jv(v - 1.0, z) - _sp.jv(v + 1.0, z))
        d[v] = _rt.not_differentiated("scipy.special.jv in its order v", v)

    @defrule(_sp.yv, broadcasting=True)
    def yv(g, v, z):
        d[z] = g * 0.5 * (_sp.yv(v - 1.0, z) - _sp.yv(v + 1.0, z))
        d[v] = _rt.not_differentiated("scipy.special.yv in its order v", v)

    @defrule(_sp.kv, broadcasting=True)
    def kv(g, v, z):
        d[z] = -g * 0.5 * (_sp.kv(v - 1.0, z) + _sp.kv(v + 1.0, z))
        d[v] = _rt.not_differentiated("scipy.special.kv in its order v", v)

    @defrule(_sp.erfcinv)
    def erfcinv(g, ans, x):
        d[x] = -g * 0.886226925452758 * np.exp(ans * ans)      # sqrt(pi) / 2

    # the regularised incomplete gamma and beta functions in x (autograd's
    # choice too: in their parameters they are refused by name)
    @defrule(_sp.gammainc, broadcasting=True)
    def gammainc(g, a, x):
        d[x] = g * np.exp((a - 1.0) * np.log(x) - x - _sp.gammaln(a))
        d[a] = _rt.not_differentiated("scipy.special.gammainc in its parameter a", a)

    @defrule(_sp.gammaincc, broadcasting=True)
    def gammaincc(g, a, x):
        d[x] = -g * np.exp((a - 1.0) * np.log(x) - x - _sp.gammaln(a))
        d[a] = _rt.not_differentiated("scipy.special.gammaincc in its parameter a", a)

    @defrule(_sp.betainc, broadcasting=True)
    def betainc(g, a, b, x):
        d[x] = g * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - _sp.betaln(a, b))
        d[a] = _rt.not_differentiated("scipy.special.betainc in its parameter a", a)
        d[b] = _rt.not_differentiated("scipy.special.betainc in its parameter b", b)

    @defrule(_sp.ive, broadcasting=True)
    def ive(g, ans, v, z):
        # iv(v, z) exp(-|z|)
        d[z] = g * (0.5 * (_sp.ive(v - 1.0, z) + _sp.ive(v + 1.0, z)) - np.sign(z) * ans)
        d[v] = _rt.not_differentiated("scipy.special.ive in its order v", v)

    @defrule(_sp.yn, broadcasting=True)
    def yn(g, n, x):
        d[x] = g * 0.5 * (_sp.yn(n - 1, x) - _sp.yn(n + 1, x))
        d[n] = _rt.not_differentiated("scipy.special.yn in its (integer) order n", n)

    def multigammaln_jvp(ans, a, d_):
        d[a] = t * np.sum(_sp.psi(np.expand_dims(a, -1) - 0.5 * np.arange(d_)), axis=-1)

    # the sum of gammaln(a - j/2), j < d (the dimension d: an integer);
    # the parameter is d_ here, d being the template's adjoint
    @defrule(_sp.multigammaln, jvp=multigammaln_jvp)
    def multigammaln(g, a, d_):
        d[a] = g * np.sum(_sp.psi(np.expand_dims(a, -1) - 0.5 * np.arange(d_)), axis=-1)

    @defrule(_sp.ndtr)
    def ndtr(g, x):
        d[x] = g * 0.3989422804014327 * np.exp(-0.5 * x * x)    # 1 / sqrt(2 pi)

    @defrule(_sp.log_ndtr)
    def log_ndtr(g, ans, x):
        d[x] = g * 0.3989422804014327 * np.exp(-0.5 * x * x - ans)

    @defrule(_sp.ndtri)
    def ndtri(g, ans, x):
        d[x] = g * 2.5066282746310002 * np.exp(0.5 * ans * ans)      # sqrt(2 pi)

    T.nondiff(_sp.gammasgn)       # piecewise constant: the sign of gamma
