"""Rules for more of ``scipy.stats`` (those autograd has): ``t`` (logpdf,
pdf, cdf, logcdf), ``gamma``, ``beta`` and ``chi2`` (logpdf, pdf, cdf),
``poisson`` (logpmf, pmf, cdf, in ``mu``), ``dirichlet`` (logpdf, pdf) and
``multivariate_normal.pdf`` and ``.entropy``; loaded with the other
``scipy.stats`` rules, once the user's program imports ``scipy.stats``.

Like ``norm``'s, the rules are keyed by the bound methods of the
distribution objects.  Continuous ones are differentiated in ``x``, their
shape parameters (``logpdf`` and ``pdf``: ``df``, ``a``, ``b``), ``loc``
and ``scale`` with ``z = (x - loc) / scale``; a cdf in its shape parameter
(an incomplete gamma or beta function in its order) is refused by name,
as autograd leaves it out, and so are poisson's ``k`` and ``loc``
(integers).  The templates use functions with rules (``scipy.special``,
the distributions' own ``pdf``/``logpdf``), so second derivatives go
through them."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, t

_sp = None      # scipy.special and scipy.stats, bound by register (the templates name them)
_st = None


def register(T):
    """Called by ``stats_rules.register`` (``late_rules("scipy.stats", ...)``)."""
    global _sp, _st
    import scipy.special as _sp
    import scipy.stats as _st

    def defrule(method, name, jvp="elementwise"):
        return T.defrule(method, broadcasting=True, jvp=jvp, name=f"scipy.stats.{name}")

    # ------------------------------------------------------------------ t
    @defrule(_st.t.logpdf, "t.logpdf")
    def t_logpdf(g, x, df, loc=0.0, scale=1.0):
        # log of Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) (1 + z^2/df)^(-(df+1)/2)
        z = (x - loc) / scale
        dz = -(df + 1.0) * z / (df + z * z)
        d[x] = g * dz / scale
        d[loc] = -g * dz / scale
        d[scale] = g * df * (z * z - 1.0) / (scale * (df + z * z))
        d[df] = g * 0.5 * ((df + 1.0) * z * z / (df * (df + z * z)) - np.log1p(z * z / df) - 1.0 / df
                           - _sp.psi(0.5 * df) + _sp.psi(0.5 * (df + 1.0)))

    @defrule(_st.t.pdf, "t.pdf")
    def t_pdf(g, ans, x, df, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = -(df + 1.0) * z / (df + z * z)
        d[x] = g * ans * dz / scale
        d[loc] = -g * ans * dz / scale
        d[scale] = g * ans * df * (z * z - 1.0) / (scale * (df + z * z))
        d[df] = g * ans * 0.5 * ((df + 1.0) * z * z / (df * (df + z * z)) - np.log1p(z * z / df) - 1.0 / df
                                 - _sp.psi(0.5 * df) + _sp.psi(0.5 * (df + 1.0)))

    @defrule(_st.t.cdf, "t.cdf")
    def t_cdf(g, x, df, loc=0.0, scale=1.0):
        p = _st.t.pdf(x, df, loc, scale)
        d[x] = g * p
        d[loc] = -g * p
        d[scale] = -g * p * (x - loc) / scale
        d[df] = _rt.not_differentiated("scipy.stats.t.cdf in its degrees of freedom df", df)

    @defrule(_st.t.logcdf, "t.logcdf")
    def t_logcdf(g, ans, x, df, loc=0.0, scale=1.0):
        r = np.exp(_st.t.logpdf(x, df, loc, scale) - ans)
        d[x] = g * r
        d[loc] = -g * r
        d[scale] = -g * r * (x - loc) / scale
        d[df] = _rt.not_differentiated("scipy.stats.t.logcdf in its degrees of freedom df", df)

    # -------------------------------------------------------------- gamma
    @defrule(_st.gamma.logpdf, "gamma.logpdf")
    def gamma_logpdf(g, x, a, loc=0.0, scale=1.0):
        # (a - 1) log z - z - gammaln(a) - log scale
        z = (x - loc) / scale
        dz = (a - 1.0) / z - 1.0
        d[x] = g * dz / scale
        d[loc] = -g * dz / scale
        d[scale] = -g * (a - z) / scale
        d[a] = g * (np.log(z) - _sp.psi(a))

    @defrule(_st.gamma.pdf, "gamma.pdf")
    def gamma_pdf(g, ans, x, a, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = (a - 1.0) / z - 1.0
        d[x] = g * ans * dz / scale
        d[loc] = -g * ans * dz / scale
        d[scale] = -g * ans * (a - z) / scale
        d[a] = g * ans * (np.log(z) - _sp.psi(a))

    @defrule(_st.gamma.cdf, "gamma.cdf")
    def gamma_cdf(g, x, a, loc=0.0, scale=1.0):
        p = _st.gamma.pdf(x, a, loc, scale)
        d[x] = g * p
        d[loc] = -g * p
        d[scale] = -g * p * (x - loc) / scale
        d[a] = _rt.not_differentiated("scipy.stats.gamma.cdf in its shape a", a)

    # --------------------------------------------------------------- beta
    @defrule(_st.beta.logpdf, "beta.logpdf")
    def beta_logpdf(g, x, a, b, loc=0.0, scale=1.0):
        # (a - 1) log z + (b - 1) log(1 - z) - betaln(a, b) - log scale
        z = (x - loc) / scale
        dz = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
        d[x] = g * dz / scale
        d[loc] = -g * dz / scale
        d[scale] = -g * (1.0 + z * dz) / scale
        d[a] = g * (np.log(z) - _sp.psi(a) + _sp.psi(a + b))
        d[b] = g * (np.log1p(-z) - _sp.psi(b) + _sp.psi(a + b))

    @defrule(_st.beta.pdf, "beta.pdf")
    def beta_pdf(g, ans, x, a, b, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = (a - 1.0) / z - (b - 1.0) / (1.0 - z)
        d[x] = g * ans * dz / scale
        d[loc] = -g * ans * dz / scale
        d[scale] = -g * ans * (1.0 + z * dz) / scale
        d[a] = g * ans * (np.log(z) - _sp.psi(a) + _sp.psi(a + b))
        d[b] = g * ans * (np.log1p(-z) - _sp.psi(b) + _sp.psi(a + b))

    @defrule(_st.beta.cdf, "beta.cdf")
    def beta_cdf(g, x, a, b, loc=0.0, scale=1.0):
        p = _st.beta.pdf(x, a, b, loc, scale)
        d[x] = g * p
        d[loc] = -g * p
        d[scale] = -g * p * (x - loc) / scale
        d[a] = _rt.not_differentiated("scipy.stats.beta.cdf in its shape a", a)
        d[b] = _rt.not_differentiated("scipy.stats.beta.cdf in its shape b", b)

    # --------------------------------------------------------------- chi2
    @defrule(_st.chi2.logpdf, "chi2.logpdf")
    def chi2_logpdf(g, x, df, loc=0.0, scale=1.0):
        # (df/2 - 1) log z - z/2 - (df/2) log 2 - gammaln(df/2) - log scale
        z = (x - loc) / scale
        dz = (0.5 * df - 1.0) / z - 0.5
        d[x] = g * dz / scale
        d[loc] = -g * dz / scale
        d[scale] = -g * (1.0 + z * dz) / scale
        d[df] = g * 0.5 * (np.log(0.5 * z) - _sp.psi(0.5 * df))

    @defrule(_st.chi2.pdf, "chi2.pdf")
    def chi2_pdf(g, ans, x, df, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = (0.5 * df - 1.0) / z - 0.5
        d[x] = g * ans * dz / scale
        d[loc] = -g * ans * dz / scale
        d[scale] = -g * ans * (1.0 + z * dz) / scale
        d[df] = g * ans * 0.5 * (np.log(0.5 * z) - _sp.psi(0.5 * df))

    @defrule(_st.chi2.cdf, "chi2.cdf")
    def chi2_cdf(g, x, df, loc=0.0, scale=1.0):
        p = _st.chi2.pdf(x, df, loc, scale)
        d[x] = g * p
        d[loc] = -g * p
        d[scale] = -g * p * (x - loc) / scale
        d[df] = _rt.not_differentiated("scipy.stats.chi2.cdf in its degrees of freedom df", df)

    # ------------------------------------------------------------ poisson
    @defrule(_st.poisson.logpmf, "poisson.logpmf")
    def poisson_logpmf(g, k, mu, loc=0):
        # k log mu - mu - gammaln(k + 1) at the counts k - loc (-inf elsewhere: derivative 0)
        n = k - loc
        d[mu] = g * np.where((n % 1 == 0) & (n >= 0), n / mu - 1.0, 0.0)
        d[k] = _rt.not_differentiated("scipy.stats.poisson.logpmf in its count k", k)
        d[loc] = _rt.not_differentiated("scipy.stats.poisson.logpmf in loc", loc)

    @defrule(_st.poisson.pmf, "poisson.pmf")
    def poisson_pmf(g, ans, k, mu, loc=0):
        n = k - loc
        d[mu] = g * ans * np.where((n % 1 == 0) & (n >= 0), n / mu - 1.0, 0.0)
        d[k] = _rt.not_differentiated("scipy.stats.poisson.pmf in its count k", k)
        d[loc] = _rt.not_differentiated("scipy.stats.poisson.pmf in loc", loc)

    @defrule(_st.poisson.cdf, "poisson.cdf")
    def poisson_cdf(g, k, mu, loc=0):
        # d/dmu of the sum of pmf(j) over j <= k telescopes to -pmf(floor(k))
        d[mu] = -g * _st.poisson.pmf(np.floor(k), mu, loc)
        d[k] = _rt.not_differentiated("scipy.stats.poisson.cdf in its count k", k)
        d[loc] = _rt.not_differentiated("scipy.stats.poisson.cdf in loc", loc)

    # ---------------------------------------------------------- dirichlet
    # x holds the k components along its first axis (one sample, or one
    # per column: SciPy's layout); alpha the k concentrations.  In x as
    # independent entries (autograd's convention): the density on the
    # simplex does not see a move off it.
    def dirichlet_logpdf_jvp(ans, x, alpha):
        a = _rt.dirichlet_alpha(x, alpha)
        d[x] = np.sum((a - 1.0) / x * t, axis=0)
        d[alpha] = np.sum((_sp.psi(np.sum(alpha)) - _sp.psi(a) + np.log(x)) * np.reshape(t, np.shape(a)), axis=0)

    @T.defrule(_st.dirichlet.logpdf, name="scipy.stats.dirichlet.logpdf", jvp=dirichlet_logpdf_jvp)
    def dirichlet_logpdf(g, x, alpha):
        a = _rt.dirichlet_alpha(x, alpha)       # (first: alpha[:, None] for samples in columns; refuses k - 1)
        d[x] = g * (a - 1.0) / x
        d[alpha] = np.sum(np.reshape(g * (_sp.psi(np.sum(alpha)) - _sp.psi(a) + np.log(x)), (np.shape(alpha)[0], -1)),
                          axis=1)

    def dirichlet_pdf_jvp(ans, x, alpha):
        a = _rt.dirichlet_alpha(x, alpha)
        d[x] = ans * np.sum((a - 1.0) / x * t, axis=0)
        d[alpha] = ans * np.sum((_sp.psi(np.sum(alpha)) - _sp.psi(a) + np.log(x)) * np.reshape(t, np.shape(a)),
                                axis=0)

    @T.defrule(_st.dirichlet.pdf, name="scipy.stats.dirichlet.pdf", jvp=dirichlet_pdf_jvp)
    def dirichlet_pdf(g, ans, x, alpha):
        a = _rt.dirichlet_alpha(x, alpha)
        d[x] = g * ans * (a - 1.0) / x
        d[alpha] = np.sum(np.reshape(g * ans * (_sp.psi(np.sum(alpha)) - _sp.psi(a) + np.log(x)),
                                     (np.shape(alpha)[0], -1)), axis=1)

    # ------------------------------------------------ multivariate_normal
    mvn = _st.multivariate_normal

    def mvn_pdf_jvp(ans, x, mean=None, cov=1, allow_singular=False):
        r = _rt.mvn_centered(x, mean, cov)
        c = _rt.from_lower(cov)
        s = np.linalg.solve(c, r.T).T
        d[x] = -ans * np.sum(s * t, axis=-1)
        d[mean] = ans * np.sum(s * t, axis=-1)
        d[cov] = 0.5 * ans * (np.sum((s @ _rt.from_lower(t)) * s, axis=-1)
                              - np.trace(np.linalg.solve(c, _rt.from_lower(t))))

    @T.defrule(mvn.pdf, name="scipy.stats.multivariate_normal.pdf", jvp=mvn_pdf_jvp)
    def mvn_pdf(g, ans, x, mean=None, cov=1, allow_singular=False):
        # the pdf times logpdf's gradient (see multivariate_normal.logpdf)
        r = _rt.mvn_centered(x, mean, cov)
        c = _rt.from_lower(cov)
        s = np.linalg.solve(c, r.T).T
        ga = g * ans
        gs = _rt.expand_adjoint(ga, s, -1, False) * s
        gc = 0.5 * (np.atleast_2d(gs).T @ np.atleast_2d(s) - np.sum(ga) * np.linalg.inv(c))
        d[x] = _rt.unbroadcast(-gs, x)
        d[mean] = _rt.unbroadcast(gs, mean)
        d[cov] = _rt.to_lower(gc)

    def mvn_entropy_jvp(ans, mean=None, cov=1):
        c = _rt.mvn_cov(cov)
        d[cov] = 0.5 * np.trace(np.linalg.solve(c, _rt.from_lower(t)))

    @T.defrule(mvn.entropy, name="scipy.stats.multivariate_normal.entropy", jvp=mvn_entropy_jvp)
    def mvn_entropy(g, ans, mean=None, cov=1):
        # (k log(2 pi e) + logdet(c)) / 2: not a function of the mean
        c = _rt.mvn_cov(cov)                    # (first: it refuses a cov that is not a matrix)
        d[cov] = _rt.to_lower(0.5 * g * np.linalg.inv(c))
