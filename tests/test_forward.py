"""Forward mode (issue 6): jvp against the reverse mode on the whole
corpus, control flow included, and against finite differences; hvp and
hessian against finite differences of the gradient."""

from __future__ import annotations

import numpy as np
import pytest

import corpus_straight as CS
import s2sad
from helpers import numeric_grad

CASES = [pytest.param(c, id=c.id) for m in ("corpus_straight", "corpus_control") for c in CS.cases(m)
         if not c.xfail and not c.id.startswith("long_")]


def _tangent(x, rng):
    if isinstance(x, float):
        return float(rng.normal())
    return rng.normal(size=np.shape(x))


def _dot(a, b):
    if isinstance(a, dict):
        return sum(_dot(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return sum(_dot(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


@pytest.mark.parametrize("c", CASES)
def test_jvp_equals_reverse_mode(c):
    """<grad f, v> computed by reverse mode equals J v by forward mode."""
    args = c.make_args()
    rng = np.random.default_rng(11)
    for w in c.wrt:
        if not isinstance(args[w], (float, np.ndarray)) or (hasattr(args[w], "dtype") and args[w].dtype.kind != "f"):
            continue
        v = _tangent(args[w], rng)
        value, jv = s2sad.jvp(c.fn, wrt=w)(*args, v)
        g = s2sad.grad(c.fn, wrt=w)(*args)
        want = _dot(g, v)
        assert np.isclose(float(np.sum(jv)), want, rtol=1e-10, atol=1e-10 * max(1.0, abs(want))), (w, jv, want)
        np.testing.assert_allclose(value, c.fn(*c.make_args()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("c", CASES[::7])
def test_jvp_matches_finite_differences(c):
    args = c.make_args()
    rng = np.random.default_rng(12)
    w = c.wrt[0]
    if not isinstance(args[w], (float, np.ndarray)):
        pytest.skip("not an array or float argument")
    v = _tangent(args[w], rng)
    eps = 1e-6

    def shifted(s):
        a = list(c.make_args())
        a[w] = a[w] + s * v
        return c.fn(*a)
    fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
    jv = s2sad.jvp(c.fn, wrt=w)(*args, v)[1]
    np.testing.assert_allclose(jv, fd, rtol=1e-6, atol=1e-7)


def test_jvp_source_is_readable_and_tuple_wrt():
    import models_funcs as M
    r = np.random.default_rng(0)
    W, b, y0 = r.normal(size=(3, 3)) * 0.5, r.normal(size=3) * 0.1, r.normal(size=3)
    vW, vb = r.normal(size=(3, 3)), r.normal(size=3)
    j = s2sad.jvp(M.rk4_neural_ode, wrt=(0, 1))
    value, jv = j(W, b, y0, (vW, vb))
    gW, gb = s2sad.grad(M.rk4_neural_ode, wrt=(0, 1))(W, b, y0)
    assert jv == pytest.approx(np.sum(gW * vW) + np.sum(gb * vb), rel=1e-10)
    assert "_tan = " in j.source and "for step in range(20):" in j.source


def _hessian_fd(f, args, w, eps=1e-5):
    g = s2sad.grad(f, wrt=w)
    x = np.asarray(args[w], dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        a1, a2 = list(args), list(args)
        a1[w], a2[w] = x + e, x - e
        cols.append(np.ravel((g(*a1) - g(*a2)) / (2 * eps)))
    return np.stack(cols, axis=1).reshape(x.shape + x.shape)


def test_hvp_on_models_with_loops():
    import models_funcs as M
    r = np.random.default_rng(1)
    H, n_in, batch, T = 2, 2, 2, 3
    args = (r.normal(size=(n_in, 4 * H)) * 0.5, r.normal(size=(H, 4 * H)) * 0.5, r.normal(size=4 * H) * 0.1,
            r.normal(size=(T, batch, n_in)), r.normal(size=(batch, H)))
    Hd = s2sad.hessian(M.lstm_loss, wrt=2)(*args)
    np.testing.assert_allclose(Hd, _hessian_fd(M.lstm_loss, args, 2), rtol=1e-6, atol=1e-8)
    v = r.normal(size=args[0].shape)
    hv = s2sad.hvp(M.lstm_loss, wrt=0)(*args, v)
    Hfull = _hessian_fd(M.lstm_loss, args, 0).reshape(args[0].size, args[0].size)
    np.testing.assert_allclose(hv.ravel(), Hfull @ v.ravel(), rtol=1e-6, atol=1e-8)


def test_hvp_softmax_cross_entropy_and_sgd_loop():
    import models_funcs as M
    r = np.random.default_rng(2)
    W, X = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    labels = np.array([0, 3, 1, 1, 2])
    Hd = s2sad.hessian(M.softmax_xent_written_out)(W, X, labels)
    np.testing.assert_allclose(Hd, _hessian_fd(M.softmax_xent_written_out, (W, X, labels), 0), rtol=1e-6, atol=1e-8)
    X, y, Xv, yv = r.normal(size=(8, 3)), r.normal(size=8), r.normal(size=(6, 3)), r.normal(size=6)
    args = (0.05, r.normal(size=3), X, y, Xv, yv)
    Hd = s2sad.hessian(M.sgd_momentum_train, wrt=1)(*args)
    np.testing.assert_allclose(Hd, _hessian_fd(M.sgd_momentum_train, args, 1), rtol=1e-6, atol=1e-8)


def test_scalar_hvp_through_a_while_loop():
    import sys
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    import kepler
    h = s2sad.hvp(kepler.eccentric_anomaly, wrt=0)(1.2, 0.3, 1.0)
    g = s2sad.grad(kepler.eccentric_anomaly)
    fd = (g(1.2 + 1e-6, 0.3) - g(1.2 - 1e-6, 0.3)) / 2e-6
    assert h == pytest.approx(fd, rel=1e-6)


def test_reverse_over_forward():
    import models_funcs as M
    r = np.random.default_rng(3)
    W, b, y0 = r.normal(size=(3, 3)) * 0.5, r.normal(size=3) * 0.1, r.normal(size=3)
    v = r.normal(size=3)
    j = s2sad.jvp(M.rk4_neural_ode, wrt=2)

    def directional(y0):
        return j(W, b, y0, v)[1]
    got = s2sad.grad(directional)(y0)
    want = s2sad.hvp(M.rk4_neural_ode, wrt=2)(W, b, y0, v)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_hvp_equals_dense_hessian_times_v_on_models_with_loops():
    import models_funcs as M
    r = np.random.default_rng(7)
    W, X = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    labels = np.array([0, 3, 1, 1, 2])
    v = r.normal(size=W.shape)
    H = s2sad.hessian(M.softmax_xent_written_out)(W, X, labels).reshape(W.size, W.size)
    hv = s2sad.hvp(M.softmax_xent_written_out)(W, X, labels, v)
    np.testing.assert_allclose(hv.ravel(), H @ v.ravel(), rtol=0, atol=1e-8)
    Hfd = _hessian_fd(M.softmax_xent_written_out, (W, X, labels), 0).reshape(W.size, W.size)
    np.testing.assert_allclose(H, Hfd, rtol=0, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12)


def _select_from_lists(x):
    conds = [x < 0.5, x > 0.7]
    choices = [x ** 2, np.sin(x)]
    return np.sum(np.select(conds, choices, 0.0) * x)


def _reductions_of_list_displays(x):
    return np.prod([x, x ** 2]) + np.max([x, x ** 2 + 0.1]) + np.linalg.norm([x[0], x[1] ** 2])


@pytest.mark.parametrize("f", [_select_from_lists, _reductions_of_list_displays])
def test_jvp_of_template_rules_over_lists(f):
    """A tangent template whose list parameter is held in a variable
    (``np.select(conds, choices)``: one term per element) or written as a
    display where one array is expected (``np.prod([x, y])``: the elements'
    tangents stacked) gave a zero tangent."""
    rng = np.random.default_rng(4)
    x, v = rng.uniform(0.1, 1.0, 5), rng.normal(size=5)
    _, tan = s2sad.jvp(f)(x, v)
    np.testing.assert_allclose(tan, s2sad.grad(f)(x) @ v, rtol=1e-12)
