"""Functions under test for the rules that close the gaps against
autograd's rule list (tests/test_rules_autograd.py)."""

import numpy as np

try:
    import scipy.linalg as sla
    import scipy.signal as ssig
    import scipy.special as sp
    from scipy import stats
except ImportError:  # pragma: no cover
    sla = sp = stats = ssig = None


# ------------------------------------------------------------ scipy.stats

def st_t(x, df, loc, scale, w):
    return np.sum((stats.t.logpdf(x, df, loc, scale) + stats.t.pdf(x, df, loc=loc, scale=scale)) * w)


def st_t_cdf(x, df, loc, scale, w):
    return np.sum((stats.t.cdf(x, df, loc, scale) + stats.t.logcdf(x, df, loc, scale)) * w)


def st_gamma(x, a, loc, scale, w):
    return np.sum((stats.gamma.logpdf(x, a, loc, scale) + stats.gamma.pdf(x, a, loc, scale)) * w)


def st_gamma_cdf(x, a, loc, scale, w):
    return np.sum(stats.gamma.cdf(x, a, loc, scale) * w)


def st_beta(x, a, b, w):
    return np.sum((stats.beta.logpdf(x, a, b) + stats.beta.pdf(x, a, b)) * w)


def st_beta_loc_scale(x, a, b, loc, scale, w):
    return np.sum((stats.beta.logpdf(x, a, b, loc, scale) + stats.beta.pdf(x, a, b, loc=loc, scale=scale)) * w)


def st_beta_cdf_loc_scale(x, a, b, loc, scale, w):
    return np.sum(stats.beta.cdf(x, a, b, loc, scale) * w)


def st_beta_cdf(x, a, b, w):
    return np.sum(stats.beta.cdf(x, a, b) * w)


def st_chi2(x, df, loc, scale, w):
    return np.sum((stats.chi2.logpdf(x, df, loc, scale) + stats.chi2.pdf(x, df, loc, scale)) * w)


def st_chi2_cdf(x, df, loc, scale, w):
    return np.sum(stats.chi2.cdf(x, df, loc, scale) * w)


def st_poisson(k, mu, w):
    return np.sum((stats.poisson.logpmf(k, mu) + stats.poisson.pmf(k, mu) + stats.poisson.cdf(k, mu)) * w)


def st_dirichlet(x, alpha, w):
    # (x normalised: finite differences would leave the simplex SciPy checks)
    u = x / np.sum(x, axis=0)
    return np.sum((stats.dirichlet.logpdf(u, alpha) + stats.dirichlet.pdf(u, alpha)) * w)


def st_mvn_pdf(x, mean, cov, w):
    return np.sum(stats.multivariate_normal.pdf(x, mean, cov) * w)


def st_mvn_entropy(cov):
    return stats.multivariate_normal.entropy(cov=cov) ** 2


def st_mvn_entropy_mean(mean, cov):
    return stats.multivariate_normal.entropy(mean, cov)


# ---------------------------------------------------------- scipy.special

def sp_erfcinv(x, w):
    return np.sum(sp.erfcinv(x) * w)


def sp_gammainc(a, x, w):
    return np.sum((sp.gammainc(a, x) + 2.0 * sp.gammaincc(a, x)) * w)


def sp_betainc(a, b, x, w):
    return np.sum(sp.betainc(a, b, x) * w)


def sp_ive(x, w):
    return np.sum((sp.ive(1, x) + sp.ive(0, x)) * w)


def sp_yn(x, w):
    return np.sum((sp.yn(0, x) + sp.yn(2, x)) * w)


def sp_multigammaln(a, w):
    return np.sum(sp.multigammaln(a, 3) * w) + sp.multigammaln(np.sum(a ** 2), d=2)


def sp_gammasgn(x, w):
    return np.sum(sp.gammasgn(x) * x * w)


def sp_gammainc_in_a(a, x):
    return np.sum(sp.gammainc(a, x))


def sp_betainc_in_b(a, b, x):
    return np.sum(sp.betainc(a, b, x))


def sp_ive_in_order(v, x):
    return np.sum(sp.ive(v, x))


# ----------------------------------------------------------- scipy.linalg

def la_solve_triangular(a, b, w, trans, lower, unit):
    return np.sum(sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit) * w)


def la_sqrtm(a, w):
    return np.sum(sla.sqrtm(a) * w)


def la_solve_sylvester(a, b, q, w):
    return np.sum(sla.solve_sylvester(a, b, q) * w)


# ------------------------------------------------------------------ numpy

def np_nan_to_num(x, w):
    return np.sum(np.nan_to_num(np.log(x), neginf=-3.0) * w)


def np_nan_to_num_values(x, v, w):
    return np.sum(np.nan_to_num(x, nan=v, neginf=2.0 * v) * w)


def np_real_if_close(x, w):
    return np.sum(np.real_if_close(x * x) * w)


def np_astype(x, w):
    return np.sum(np.astype(x, np.float32) * w) + np.sum(np.astype(x, np.int64) * w)


def fft_shifts(x, w):
    return np.sum(np.fft.fftshift(x) * w) + np.sum(np.fft.ifftshift(x, axes=0) * w ** 2)


def fft_real_nd(x, w):
    spec = np.fft.rfft2(x) * (1.0 + 0.5j)
    back = np.fft.irfftn(np.fft.rfftn(x, norm="ortho") * (0.3 - 0.2j), norm="ortho")
    return (np.sum(np.abs(spec) ** 2 * w[..., : spec.shape[-1]]) + np.sum(back ** 3)
            + np.sum(np.fft.irfft2(np.fft.fftshift(spec)) ** 2) + np.sum(np.fft.rfftn(x, axes=(0,)).real ** 3))


def np_gradient_1d(x, w):
    return np.sum(np.gradient(x) * w) + np.sum(np.gradient(x, 0.5, edge_order=2) ** 2)


def np_gradient_nd(x, w):
    gx, gy = np.gradient(x)
    coords = np.array([0.0, 0.4, 1.0, 1.9, 2.5])[: x.shape[1]]
    return (np.sum(gx * w) + np.sum(gy ** 3) + np.sum(np.gradient(x, coords, axis=1, edge_order=2) * w)
            + np.sum(np.gradient(x, 2.0, 0.5)[1] ** 2))


def np_gradient_in_spacing(x, h):
    return np.sum(np.gradient(x, h))


def la_solve_banded(ab, b, w, lu):
    return np.sum(sla.solve_banded(lu, ab, b) * w)


def sig_convolve(a, v, w, mode, method):
    return np.sum(ssig.convolve(a, v, mode, method) * w)
