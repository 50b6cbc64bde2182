"""LiSSA (s2sad.lissa): exact error of the deterministic recursion, its
damped fixed point, variance falling with samples and batch size, pytrees,
and divergence raising instead of returning."""

from __future__ import annotations

import numpy as np
import pytest

import lissa_funcs as L
import s2sad
from s2sad.optimize.lissa import estimate_scale, lissa, tree_norm


def _ridge(n=200, d=6, seed=0, lam=0.05):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, d)) * np.logspace(0, -1, d)
    y = r.normal(size=n)
    w = r.normal(size=d)
    return w, X, y, lam


@pytest.fixture(scope="module")
def ridge():
    w, X, y, lam = _ridge()
    H = s2sad.hessian(L.ridge_loss)(w, X, y, lam)
    h = s2sad.hvp(L.ridge_loss)
    return w, X, y, lam, H, (lambda u: h(w, X, y, lam, u))


def test_hessian_of_ridge_is_the_closed_form(ridge):
    w, X, y, lam, H, _ = ridge
    np.testing.assert_allclose(H, X.T @ X / X.shape[0] + lam * np.eye(X.shape[1]), rtol=1e-12, atol=1e-14)


def _formula(H, v, depth, scale, damping):
    n = H.shape[0]
    x = np.linalg.solve(H + damping * scale * np.eye(n), v)
    A = (1.0 - damping) * np.eye(n) - H / scale
    return x, np.linalg.norm(np.linalg.matrix_power(A, depth + 1) @ x) / np.linalg.norm(x)


@pytest.mark.parametrize("damping", [0.0, 0.05, 0.3])
@pytest.mark.parametrize("depth", [0, 1, 7, 40, 150])
def test_deterministic_error_equals_the_formula(ridge, depth, damping):
    """samples=1 with the exact Hessian: the relative error is exactly
    ||A^(depth+1) (H + d s I)^-1 v|| / ||(H + d s I)^-1 v||, A = (1-d) I - H/s."""
    w, X, y, lam, H, hvp = ridge
    v = np.random.default_rng(depth).normal(size=H.shape[0])
    scale = 1.2 * np.linalg.eigvalsh(H)[-1]
    est = lissa(hvp, v, depth=depth, scale=scale, damping=damping)
    x, want = _formula(H, v, depth, scale, damping)
    err = np.linalg.norm(est - x) / np.linalg.norm(x)
    assert abs(err - want) <= 1e-10, (err, want)


@pytest.mark.parametrize("damping", [0.0, 0.2])
def test_fixed_point_is_the_damped_inverse(ridge, damping):
    w, X, y, lam, H, hvp = ridge
    v = np.random.default_rng(5).normal(size=H.shape[0])
    scale = 1.5 * np.linalg.eigvalsh(H)[-1]
    est = lissa(hvp, v, depth=1500, scale=scale, damping=damping)
    want = np.linalg.solve(H + damping * scale * np.eye(H.shape[0]), v)
    np.testing.assert_allclose(est, want, rtol=1e-9)


def _dense_tuple_hessian(hvp, shapes):
    sizes = [int(np.prod(s)) for s in shapes]
    cols = []
    for i in range(sum(sizes)):
        e = np.zeros(sum(sizes))
        e[i] = 1.0
        parts, k = [], 0
        for s, m in zip(shapes, sizes):
            parts.append(e[k:k + m].reshape(s) if s else float(e[k]))
            k += m
        cols.append(np.concatenate([np.ravel(p) for p in hvp(tuple(parts))]))
    return np.stack(cols, axis=1)


def test_tuple_parameters_follow_the_formula():
    """Parameters as a tuple (W, b): lissa works leaf by leaf and the
    deterministic error formula holds for the stacked Hessian."""
    w, X, y, lam = _ridge(seed=1)
    b = 0.3
    h = s2sad.hvp(L.ridge_loss_wb, wrt=(0, 1))

    def hvp(u):
        return h(w, b, X, y, lam, u)
    H = _dense_tuple_hessian(hvp, [w.shape, ()])
    v = (np.random.default_rng(2).normal(size=w.shape), 0.7)
    scale, depth, damping = 1.3 * np.linalg.eigvalsh(H)[-1], 25, 0.1
    est = lissa(hvp, v, depth=depth, scale=scale, damping=damping)
    assert isinstance(est, tuple) and est[0].shape == w.shape and np.ndim(est[1]) == 0
    vflat = np.concatenate([v[0], [v[1]]])
    x, want = _formula(H, vflat, depth, scale, damping)
    err = np.linalg.norm(np.concatenate([est[0], [est[1]]]) - x) / np.linalg.norm(x)
    assert abs(err - want) <= 1e-10


def test_lists_and_dicts_of_arrays():
    r = np.random.default_rng(3)
    M = r.normal(size=(5, 5))
    H = M @ M.T / 5 + 0.5 * np.eye(5)

    def hvp(u):      # u = {"a": (2,), "rest": [(3,)]}
        flat = H @ np.concatenate([u["a"], u["rest"][0]])
        return {"a": flat[:2], "rest": [flat[2:]]}
    v = {"a": r.normal(size=2), "rest": [r.normal(size=3)]}
    est = lissa(hvp, v, depth=2000, scale=1.2 * np.linalg.eigvalsh(H)[-1])
    want = np.linalg.solve(H, np.concatenate([v["a"], v["rest"][0]]))
    assert isinstance(est["rest"], list)
    np.testing.assert_allclose(np.concatenate([est["a"], est["rest"][0]]), want, rtol=1e-9)


def test_stochastic_error_falls_with_samples_and_batch_size():
    """Mini-batch Hessians (rows drawn with replacement): the error of the
    estimate against its mean, the deterministic recursion at the same depth,
    falls like 1/sqrt(samples) and 1/sqrt(batch).  Averaged over seeds; each
    4x (8x) step must cut it by at least 30% (expected: 50% (65%))."""
    r = np.random.default_rng(0)
    n, d, lam, depth = 2000, 6, 0.2, 60
    X = r.normal(size=(n, d)) * np.logspace(0, -0.5, d)
    y = r.normal(size=n)
    w = np.zeros(d)
    h = s2sad.hvp(L.ridge_loss)
    # a scale above every sampled Hessian: a batch's X^T X / b + lam I has
    # eigenvalues at most max_i ||x_i||^2 + lam
    scale = 1.05 * (np.max(np.sum(X * X, axis=1)) + lam)
    v = r.normal(size=d)
    mean = lissa(lambda u: h(w, X, y, lam, u), v, depth=depth, scale=scale)

    def err(batch, samples):
        def hvp(u, rng):
            idx = rng.integers(0, n, batch)
            return h(w, X[idx], y[idx], lam, u)
        es = [np.linalg.norm(lissa(hvp, v, depth=depth, scale=scale, samples=samples, rng=seed) - mean)
              for seed in range(5)]
        return np.mean(es) / np.linalg.norm(mean)
    by_samples = [err(8, s) for s in (1, 4, 16)]
    by_batch = [by_samples[0]] + [err(b, 1) for b in (64, 512)]
    for errs in (by_samples, by_batch):
        assert errs[1] < 0.7 * errs[0] and errs[2] < 0.7 * errs[1], (by_samples, by_batch)
    # the same seed gives the same estimate
    def hvp8(u, rng):
        idx = rng.integers(0, n, 8)
        return h(w, X[idx], y[idx], lam, u)
    np.testing.assert_array_equal(lissa(hvp8, v, depth=10, scale=scale, rng=7),
                                  lissa(hvp8, v, depth=10, scale=scale, rng=7))


@pytest.mark.parametrize("ratio,depth", [(4.0, 100), (2.3, 30), (50.0, 5)])
def test_divergence_raises(ridge, ratio, depth):
    """scale below the largest eigenvalue (lam_max / ratio; the series
    diverges once ratio > 2) raises, naming the values, and returns nothing."""
    w, X, y, lam, H, hvp = ridge
    lmax = np.linalg.eigvalsh(H)[-1]
    v = np.ones(H.shape[0])
    with pytest.raises(s2sad.S2SadError) as e:
        lissa(hvp, v, depth=depth, scale=lmax / ratio)
    msg = str(e.value)
    assert "diverged" in msg and "scale must exceed the largest eigenvalue" in msg
    assert f"scale = {lmax / ratio:.6g}" in msg and "estimate_scale" in msg


def test_divergence_without_checks_still_never_returns_inf(ridge):
    w, X, y, lam, H, hvp = ridge
    lmax = np.linalg.eigvalsh(H)[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(s2sad.S2SadError, match="not finite"):
            lissa(hvp, np.ones(H.shape[0]), depth=3000, scale=lmax / 10, check=False)


def test_negative_eigenvalues_need_damping():
    r = np.random.default_rng(4)
    Q = np.linalg.qr(r.normal(size=(4, 4)))[0]
    H = Q @ np.diag([-0.2, 0.1, 0.5, 1.0]) @ Q.T
    v = r.normal(size=4)
    with pytest.raises(s2sad.S2SadError, match="below -damping"):
        lissa(lambda u: H @ u, v, depth=200, scale=1.5)
    d = 0.3         # d * s = 0.45 > 0.2
    est = lissa(lambda u: H @ u, v, depth=600, scale=1.5, damping=d)
    np.testing.assert_allclose(est, np.linalg.solve(H + d * 1.5 * np.eye(4), v), rtol=1e-9)


def test_estimate_scale(ridge):
    w, X, y, lam, H, hvp = ridge
    lmax = np.linalg.eigvalsh(H)[-1]
    s = estimate_scale(hvp, np.ones(H.shape[0]), iters=60)
    assert 1.5 * lmax * 0.99 <= s <= 1.5 * lmax * (1 + 1e-12)
    assert s2sad.lissa.estimate_scale is estimate_scale and s2sad.estimate_scale is estimate_scale
    assert s2sad.lissa is lissa


def test_arguments_are_checked(ridge):
    w, X, y, lam, H, hvp = ridge
    v = np.ones(H.shape[0])
    for kw in ({"depth": -1, "scale": 1.0}, {"depth": 2.5, "scale": 1.0}, {"depth": 3, "scale": 0.0},
               {"depth": 3, "scale": float("nan")}, {"depth": 3, "scale": 1.0, "damping": 1.0},
               {"depth": 3, "scale": 1.0, "samples": 0}):
        with pytest.raises(s2sad.ArgumentError):
            lissa(hvp, v, **kw)
    with pytest.raises(s2sad.ArgumentError, match="structure mismatch"):
        lissa(lambda u: (u, u), v, depth=2, scale=1.0)
    z = lissa(hvp, np.zeros(3), depth=5, scale=1.0)
    assert np.array_equal(z, np.zeros(3))
    assert tree_norm((np.ones(4), 3.0, [np.ones(2)])) == pytest.approx(np.sqrt(15.0))
