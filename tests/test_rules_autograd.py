"""The rules that close s2sad's gaps against autograd's rule list (see
tests/test_autograd_coverage.py): each against central differences over a
couple of shapes, forward mode against reverse mode, and ``hvp`` against
differences of the gradient; the arguments autograd does not
differentiate are refused by name."""

import numpy as np
import pytest

import s2sad
from helpers import check_grads

import autograd_funcs as F

pytest.importorskip("scipy.stats")
pytest.importorskip("scipy.linalg")


def check(f, args, wrt, rtol=1e-5, atol=1e-7, hvp=True):
    """check_grads, and hvp in a random direction against the central
    difference of the gradient along it."""
    check_grads(f, args, wrt=wrt, rtol=rtol, atol=atol)
    if not hvp:
        return
    ws = list(wrt) if isinstance(wrt, tuple) else [wrt]
    rng = np.random.default_rng(11)
    vs = [rng.standard_normal(np.shape(args[w])) if np.shape(args[w]) else float(rng.standard_normal()) for w in ws]
    single = not isinstance(wrt, tuple)
    hv = s2sad.hvp(f, wrt=wrt)(*args, vs[0] if single else tuple(vs))
    hv = [hv] if single else list(hv)

    def grad_at(step):
        a = list(args)
        for w, v in zip(ws, vs):
            a[w] = args[w] + step * np.asarray(v)
        g = s2sad.grad(f, wrt=wrt)(*a)
        return [g] if single else list(g)
    eps = 1e-5
    for h, p, m in zip(hv, grad_at(eps), grad_at(-eps)):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-4, atol=1e-6, err_msg=f"hvp of {f.__name__}")


def _rng(*key):
    import zlib
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


SHAPES = [(), (3,), (2, 3)]


def _draw(rng, shape, lo, hi):
    return float(rng.uniform(lo, hi)) if shape == () else rng.uniform(lo, hi, shape)


# ------------------------------------------------------------ scipy.stats

@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_stats_t(shape):
    rng = _rng("t", shape)
    x, w = _draw(rng, shape, -2, 2), _draw(rng, shape, -1, 1)
    df, loc, scale = _draw(rng, shape, 2, 5), 0.3, _draw(rng, shape[-1:], 0.5, 2)
    check(F.st_t, (x, df, loc, scale, w), wrt=(0, 1, 2, 3))
    check(F.st_t_cdf, (x, df, loc, scale, w), wrt=(0, 2, 3))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_stats_gamma_beta_chi2(shape):
    rng = _rng("gbc", shape)
    w = _draw(rng, shape, -1, 1)
    x, a, loc, scale = _draw(rng, shape, 1.0, 3.0), _draw(rng, shape, 1.5, 4), 0.2, _draw(rng, shape[-1:], 0.5, 2)
    check(F.st_gamma, (x, a, loc, scale, w), wrt=(0, 1, 2, 3))
    check(F.st_gamma_cdf, (x, a, loc, scale, w), wrt=(0, 2, 3))
    check(F.st_chi2, (x, 2 * a, loc, scale, w), wrt=(0, 1, 2, 3))
    check(F.st_chi2_cdf, (x, 2 * a, loc, scale, w), wrt=(0, 2, 3))
    u, b = _draw(rng, shape, 0.2, 0.8), _draw(rng, shape, 1.5, 4)
    check(F.st_beta, (u, a, b, w), wrt=(0, 1, 2))
    check(F.st_beta_cdf, (u, a, b, w), wrt=0)
    check(F.st_beta_loc_scale, (u, a, b, 0.1, 1.5, w), wrt=(0, 1, 2, 3, 4))
    check(F.st_beta_cdf_loc_scale, (u, a, b, 0.1, 1.5, w), wrt=(0, 3, 4))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_stats_poisson(shape):
    rng = _rng("poisson", shape)
    k = rng.integers(0, 6, shape).astype(float) if shape else 3.0
    mu, w = _draw(rng, shape, 1, 4), _draw(rng, shape, -1, 1)
    check(F.st_poisson, (k, mu, w), wrt=1)


@pytest.mark.parametrize("n", [None, 4])
def test_stats_dirichlet(n):
    rng = _rng("dirichlet", n)
    x = rng.dirichlet([2.0, 3.0, 4.0], n).T if n else rng.dirichlet([2.0, 3.0, 4.0])
    w = rng.standard_normal(n) if n else 0.7
    check(F.st_dirichlet, (x, rng.uniform(1.5, 3, 3), w), wrt=(0, 1))


@pytest.mark.parametrize("n", [None, 4])
def test_stats_multivariate_normal_pdf_entropy(n):
    rng = _rng("mvn-pdf", n)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + 3.0 * np.eye(3) + np.triu(rng.uniform(0, 1, (3, 3)), 1)   # upper part unread
    x = rng.standard_normal((n, 3) if n else 3)
    w = rng.standard_normal(n) if n else 1.3
    check(F.st_mvn_pdf, (x, rng.standard_normal(3), cov, w), wrt=(0, 1, 2))
    check(F.st_mvn_entropy, (cov,), wrt=0)
    g = s2sad.grad(F.st_mvn_entropy_mean, wrt=(0, 1))(np.zeros(3), cov)
    np.testing.assert_array_equal(g[0], 0.0)


@pytest.mark.parametrize("fn,args,wrt,what", [
    (F.st_t_cdf, (0.5, 3.0, 0.0, 1.0, 1.0), 1, "t.(log)?cdf in its degrees of freedom"),
    (F.st_gamma_cdf, (0.5, 3.0, 0.0, 1.0, 1.0), 1, "gamma.cdf in its shape a"),
    (F.st_beta_cdf, (0.5, 3.0, 2.0, 1.0), 2, "beta.cdf in its shape b"),
    (F.st_chi2_cdf, (0.5, 3.0, 0.0, 1.0, 1.0), 1, "chi2.cdf in its degrees of freedom"),
    (F.st_poisson, (2.0, 3.0, 1.0), 0, r"poisson\.\w+ in its count k"),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_stats_parameters_autograd_leaves_out_are_refused(fn, args, wrt, what):
    with pytest.raises(s2sad.errors.NoRuleError, match=what) as e:
        s2sad.grad(fn, wrt=wrt)(*args)
    assert e.value.filename == F.__file__


def test_stats_dirichlet_without_the_last_component_is_refused():
    with pytest.raises(s2sad.errors.NoRuleError, match="all k components"):
        s2sad.grad(F.st_dirichlet)(np.array([0.2, 0.3]), np.array([2.0, 3.0, 4.0]), 1.0)


# ---------------------------------------------------------- scipy.special

@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_special(shape):
    rng = _rng("special", shape)
    w = _draw(rng, shape, -1, 1)
    check(F.sp_erfcinv, (_draw(rng, shape, 0.2, 1.8), w), wrt=0)
    a, x = _draw(rng, shape, 0.5, 3), _draw(rng, shape, 0.5, 3)
    check(F.sp_gammainc, (a, x, w), wrt=1)
    check(F.sp_betainc, (a, _draw(rng, shape, 0.5, 3), _draw(rng, shape, 0.1, 0.9), w), wrt=2)
    z = _draw(rng, shape, -3, 3)
    check(F.sp_ive, (np.where(np.abs(z) < 0.2, 0.5, z) if shape else 1.3, w), wrt=0)
    check(F.sp_yn, (x + 0.5, w), wrt=0)
    check(F.sp_multigammaln, (a + 1.5, w), wrt=0)
    np.testing.assert_array_equal(s2sad.grad(F.sp_gammasgn)(x, w), np.sign(x) * w)


@pytest.mark.parametrize("fn,args,wrt,what", [
    (F.sp_gammainc_in_a, (1.5, 2.0), 0, "gammainc in its parameter a"),
    (F.sp_betainc_in_b, (1.5, 2.0, 0.3), 1, "betainc in its parameter b"),
    (F.sp_ive_in_order, (1.5, 2.0), 0, "ive in its order v"),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_special_parameters_autograd_leaves_out_are_refused(fn, args, wrt, what):
    with pytest.raises(s2sad.errors.NoRuleError, match=what) as e:
        s2sad.grad(fn, wrt=wrt)(*args)
    assert e.value.filename == F.__file__


# ----------------------------------------------------------- scipy.linalg

@pytest.mark.parametrize("bshape", [(3,), (3, 2)], ids=str)
@pytest.mark.parametrize("trans,lower,unit", [(0, False, False), ("T", True, False), (1, False, True)], ids=str)
def test_solve_triangular(bshape, trans, lower, unit):
    """In b and in the triangle of a that SciPy reads (the other entries are
    random: their gradient is zero)."""
    rng = _rng("solve_triangular", bshape, trans, lower, unit)
    a = rng.standard_normal((3, 3)) + 4.0 * np.eye(3)
    b, w = rng.standard_normal(bshape), rng.standard_normal(bshape)
    check(F.la_solve_triangular, (a, b, w, trans, lower, unit), wrt=(0, 1))


def test_sqrtm_and_solve_sylvester():
    rng = _rng("sqrtm")
    m = rng.standard_normal((3, 3))
    a = m @ m.T + np.eye(3) + 0.3 * rng.standard_normal((3, 3))       # not symmetric, eigenvalues > 0
    check(F.la_sqrtm, (a, rng.standard_normal((3, 3))), wrt=0)
    b = rng.standard_normal((2, 2)) + 3.0 * np.eye(2)
    check(F.la_solve_sylvester, (a, b, rng.standard_normal((3, 2)), rng.standard_normal((3, 2))), wrt=(0, 1, 2))


# ------------------------------------------------------------------ numpy

@pytest.mark.parametrize("shape", [(4,), (2, 3)], ids=str)
def test_nan_to_num_real_if_close_astype(shape):
    rng = _rng("numpy", shape)
    x, w = rng.uniform(0.5, 2, shape), rng.standard_normal(shape)
    check(F.np_nan_to_num, (x, w), wrt=0)
    check(F.np_real_if_close, (x, w), wrt=0)
    if hasattr(np, "astype"):
        g = s2sad.grad(F.np_astype)(x, w)
        np.testing.assert_allclose(g, w.astype(np.float32), rtol=1e-6)
    # at non-finite entries: zero in x, one in the replacement values
    z = np.array([np.nan, -np.inf, 2.0])
    gx, gv = s2sad.grad(F.np_nan_to_num_values, wrt=(0, 1))(z, 0.5, np.ones(3))
    np.testing.assert_array_equal(gx, [0.0, 0.0, 1.0])
    assert gv == 3.0


@pytest.mark.parametrize("shape", [(4, 5), (3, 4)], ids=str)
def test_fft_shifts_and_real_nd_transforms(shape):
    """fftshift / ifftshift (real and complex mode), rfft2, rfftn, irfft2,
    irfftn (complex mode: reverse and forward, no second order yet)."""
    rng = _rng("fft", shape)
    x, w = rng.standard_normal(shape), rng.standard_normal(shape)
    check(F.fft_shifts, (x, w), wrt=(0, 1))
    check(F.fft_real_nd, (x, w), wrt=0, hvp=False)


def test_gradient(n=6):
    """np.gradient: one axis or several (a tuple of arrays), uniform or
    coordinate spacing, edge orders 1 and 2; the spacing is refused."""
    rng = _rng("gradient", n)
    check(F.np_gradient_1d, (rng.standard_normal(n), rng.standard_normal(n)), wrt=0)
    x = rng.standard_normal((n, 5))
    check(F.np_gradient_nd, (x, rng.standard_normal(x.shape)), wrt=0)
    with pytest.raises(s2sad.errors.NoRuleError, match="np.gradient in its spacing"):
        s2sad.grad(F.np_gradient_in_spacing, wrt=1)(rng.standard_normal(n), 0.5)


@pytest.mark.parametrize("lu,bshape", [((1, 1), (5,)), ((2, 1), (5, 2)), ((0, 2), (5,))], ids=str)
def test_solve_banded(lu, bshape):
    """In the band storage (its unread corners get zero) and in b."""
    rng = _rng("solve_banded", lu, bshape)
    ab = rng.standard_normal((lu[0] + lu[1] + 1, 5))
    ab[lu[1]] += 4.0                                    # the diagonal: well conditioned
    check(F.la_solve_banded, (ab, rng.standard_normal(bshape), rng.standard_normal(bshape), lu), wrt=(0, 1))



@pytest.mark.parametrize("sa,sv,mode,method", [((6,), (3,), "full", "auto"), ((6,), (3,), "same", "direct"),
                                               ((3,), (6,), "valid", "auto"), ((4, 5), (2, 3), "same", "fft"),
                                               ((4, 5), (2, 3), "valid", "direct")], ids=str)
def test_scipy_signal_convolve(sa, sv, mode, method):
    import scipy.signal
    rng = _rng("convolve", sa, sv, mode)
    a, v = rng.standard_normal(sa), rng.standard_normal(sv)
    w = rng.standard_normal(scipy.signal.convolve(a, v, mode).shape)
    check(F.sig_convolve, (a, v, w, mode, method), wrt=(0, 1))
