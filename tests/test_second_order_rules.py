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


MATRIX = ["take_along_axis", "select", "nan_reductions", "split", "linspace"]


@pytest.mark.parametrize("shape", [(2, 3), (4, 3)])
@pytest.mark.parametrize("name", MATRIX)
def test_hvp_matches_differences_of_the_gradient(name, shape):
    f = getattr(F, name)
    x, v = _direction(f, shape, len(name) + shape[0])
    hv = s2sad.hvp(f)(x.copy(), v)
    fd = _fd_hvp(f, x, v)
    assert hv.shape == x.shape
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-7 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("name", MATRIX)
def test_grad_of_grad_equals_hvp(name, tmp_path):
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
    hv = s2sad.grad(ns["gv"])(x.copy(), v)
    np.testing.assert_allclose(hv, s2sad.hvp(f)(x.copy(), v), rtol=1e-9, atol=1e-10)


def test_hvp_of_numbers_through_arange():
    h = s2sad.hvp(F.arange, wrt=(0, 1))(0.3, 0.7, (1.0, 0.5))
    g = s2sad.grad(F.arange, wrt=(0, 1))
    eps = 1e-6
    plus, minus = g(0.3 + eps, 0.7 + 0.5 * eps), g(0.3 - eps, 0.7 - 0.5 * eps)
    np.testing.assert_allclose(h, [(p - m) / (2 * eps) for p, m in zip(plus, minus)], rtol=1e-6)
