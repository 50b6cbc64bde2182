"""Second derivatives through the adjoint helpers that got their own rules
for issue #16 (the rest of the introspection is tests/test_second_order.py):
``hvp`` against central differences of the gradient (itself checked
against finite differences of the function in test_rules), over shapes,
and ``grad`` of ``<grad f(x), v>`` against ``hvp`` where the helper is
linear in its adjoint (its rule has an adjoint of its own)."""

import textwrap

import numpy as np
import pytest

import s2sad
import second_funcs as F


def _direction(f, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, shape)
    if f is F.nan_reductions:
        x[0, 1] = np.nan           # the NaNs are data: no derivative there
        x[-1, -1] = np.nan
    return x, rng.standard_normal(shape)


def _fd_hvp(f, x, v, eps=1e-5):
    g = s2sad.grad(f)
    return (g(x + eps * v) - g(x - eps * v)) / (2 * eps)


MATRIX = ["take_along_axis", "select", "nan_reductions", "split", "linspace", "prod", "prod_zeros", "prod_axes",
          "cumprod", "cumprod_zeros", "norms", "average", "sinc", "convolve", "interp"]
TANGENT_ONLY = ["average", "interp"]        # their adjoint helpers have tangents only: grad(grad) is refused by name

# the decompositions (tangents only), at shapes each takes: square, tall,
# wide, stacked
DECOMPOSITIONS = {
    "cholesky": [(3, 3), (2, 3, 3)], "eigh": [(3, 3), (4, 4), (2, 3, 3)], "eigvalsh": [(3, 3), (4, 4)],
    "svd": [(3, 3), (5, 3), (3, 5), (2, 4, 3)], "svd_full": [(4, 4), (5, 3), (3, 5)], "qr": [(3, 3), (5, 3)],
    "pinv": [(3, 3), (5, 3), (3, 5)], "matrix_power": [(3, 3), (4, 4)], "lstsq": [(5, 3), (6, 2), (3, 3)],
}


@pytest.mark.parametrize("shape", [(2, 3), (4, 3)])
@pytest.mark.parametrize("name", MATRIX)
def test_hvp_matches_differences_of_the_gradient(name, shape):
    f = getattr(F, name)
    x, v = _direction(f, shape, len(name) + shape[0])
    hv = s2sad.hvp(f)(x.copy(), v)
    fd = _fd_hvp(f, x, v)
    assert hv.shape == x.shape
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-7 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("name,shape", [(n, s) for n, shapes in DECOMPOSITIONS.items() for s in shapes])
def test_hvp_of_decompositions(name, shape):
    f = getattr(F, name)
    x, v = _direction(f, shape, len(name) + shape[0])
    hv = s2sad.hvp(f)(x.copy(), v)
    fd = _fd_hvp(f, x, v)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("name", MATRIX + ["eigh", "svd"])
def test_grad_of_grad_equals_hvp(name, tmp_path):
    """The gradient of <grad f(x), v> is H v; where the helper has a
    tangent only, the refusal names the user's line."""
    f = getattr(F, name)
    x, v = _direction(f, (3, 3), 11)
    src = tmp_path / f"gg_{name}.py"
    src.write_text(textwrap.dedent("""
        import numpy as np

        def gv(x, v):
            return np.sum(g(x) * v)
    """))
    ns = {"g": s2sad.grad(f)}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    if name in TANGENT_ONLY or name in DECOMPOSITIONS:
        with pytest.raises(s2sad.NoRuleError, match="tangent rule but no adjoint rule") as e:
            s2sad.grad(ns["gv"])(x.copy(), v)
        assert e.value.filename == F.__file__
        return
    hv = s2sad.grad(ns["gv"])(x.copy(), v)
    np.testing.assert_allclose(hv, s2sad.hvp(f)(x.copy(), v), rtol=1e-9, atol=1e-10)


def test_hvp_of_numbers_through_arange():
    h = s2sad.hvp(F.arange, wrt=(0, 1))(0.3, 0.7, (1.0, 0.5))
    g = s2sad.grad(F.arange, wrt=(0, 1))
    eps = 1e-6
    plus, minus = g(0.3 + eps, 0.7 + 0.5 * eps), g(0.3 - eps, 0.7 - 0.5 * eps)
    np.testing.assert_allclose(h, [(p - m) / (2 * eps) for p, m in zip(plus, minus)], rtol=1e-6)


def test_hvp_of_math_gamma_lgamma_and_prod():
    """Python numbers: digamma's derivative is polygamma(1, x), and
    polygamma's is polygamma(n + 1, x); math.prod's adjoint differentiates
    its list held in a variable, element by element."""
    a, b, va, vb = 0.7, -0.4, 1.0, 0.3
    h = s2sad.hvp(F.math_gamma_prod, wrt=(0, 1))(a, b, (va, vb))
    g = s2sad.grad(F.math_gamma_prod, wrt=(0, 1))
    eps = 1e-6
    plus, minus = g(a + eps * va, b + eps * vb), g(a - eps * va, b - eps * vb)
    np.testing.assert_allclose(h, [(p - m) / (2 * eps) for p, m in zip(plus, minus)], rtol=1e-7)


def test_polygamma_against_scipy():
    """Relative to the function's scale: for negative x that is the size of
    the terms between two poles, against which an even order's value can
    be small."""
    sp = pytest.importorskip("scipy.special")
    import s2sad_runtime as rt
    xs = np.concatenate([np.random.default_rng(0).uniform(-60, 60, 200), [0.5, 1e-3, -0.4, 3.3, 1e4, -70.3]])
    for n in (1, 2, 3, 6):
        got = np.array([rt.polygamma(n, x) for x in xs])
        want = sp.polygamma(n, xs)
        near_pole = np.abs(xs - np.round(xs))
        scale = np.abs(want) + np.where(xs < 0, sp.factorial(n) / np.maximum(near_pole, 1e-3) ** (n + 1), 0.0)
        np.testing.assert_array_less(np.abs(got - want), 1e-13 * scale, err_msg=f"polygamma({n}, x)")
    assert rt.polygamma(1, 1.0) == pytest.approx(np.pi ** 2 / 6, rel=1e-15)
    with pytest.raises(ValueError):
        rt.polygamma(2, -3.0)
