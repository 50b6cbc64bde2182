"""Reversible loops in generated code (issue 5, first part): the loop is run
backwards exactly (fixed point + information buffer) instead of stored."""

import math

import numpy as np
import pytest

import rev_funcs as R
import s2sad
from helpers import check_grads


def _data(seed=0, n=20, d=5):
    r = np.random.default_rng(seed)
    return r.normal(size=(n, d)), r.normal(size=n), r.normal(size=d)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_hypergradients_equal_the_tape(gamma):
    X, y, w0 = _data()
    d = s2sad.grad(R.train_rev, wrt=(0, 1, 2))
    g = d(w0, 0.3, gamma, X, y, 100)
    gt = s2sad.grad(R.train_tape, wrt=(0, 1, 2))(w0, 0.3, gamma, X, y, 100)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    st = d.stats
    assert st["loops"][0]["exact"]          # reversal landed bit for bit on the initial state
    bits_per = st["info_bits"] / (100 * 5)
    assert bits_per == pytest.approx(math.log2(1 / gamma), rel=0.02)
    assert ".Reversible(" in d.source


def test_schedules_of_learning_rates_and_momentum():
    X, y, w0 = _data(1)
    r = np.random.default_rng(2)
    lrs, gammas = 0.1 + 0.2 * r.random(50), 0.5 + 0.45 * r.random(50)
    g = s2sad.grad(R.train_schedule_rev, wrt=(0, 1, 2))(w0, lrs, gammas, X, y)
    gt = s2sad.grad(R.train_schedule_tape, wrt=(0, 1, 2))(w0, lrs, gammas, X, y)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_finite_differences():
    X, y, w0 = _data(3)
    check_grads(R.train_rev, (w0, 0.3, 0.9, X, y, 30), wrt=(0, 1, 2), tangents=False)


def test_leapfrog_reverses_without_an_information_buffer():
    q0, p0 = np.array([0.3, 1.0]), np.array([0.1, -0.2])
    d = s2sad.grad(R.leapfrog_rev, wrt=(0, 1))
    g = d(q0, p0, 0.05, 200)
    gt = s2sad.grad(R.leapfrog_tape, wrt=(0, 1))(q0, p0, 0.05, 200)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert d.stats["info_bits"] == 0 and d.stats["loops"][0]["exact"]


def test_memory_is_far_below_the_tape():
    X, y, w0 = _data(4, n=50, d=200)
    d = s2sad.grad(R.train_rev, wrt=(0, 1))
    d(w0, 0.1, 0.9, X, y, 300)
    tape_bytes = 300 * 2 * 8 * w0.size        # the trajectory of w and v
    assert d.stats["peak_bytes"] <= tape_bytes / 100


def test_a_body_that_is_not_invertible_names_the_line_and_the_form():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(R.not_invertible)(np.ones(2), 3)
    msg = str(e.value)
    assert "rev_funcs.py:" in msg and "x = x + x * x" in msg and "x = c * x + e" in msg


def test_a_value_recomputed_after_its_inputs_changed_is_rejected():
    # g = sin(x) is read by the update of y after x has changed: undoing y
    # would recompute g from the new x
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="cannot invert"):
        s2sad.grad(R.temp_read_after_update)(np.ones(2), np.ones(2), 3)


def test_runs_as_plain_python():
    X, y, w0 = _data()
    assert R.train_rev(w0, 0.3, 0.9, X, y, 10) == R.train_tape(w0, 0.3, 0.9, X, y, 10)


def test_reversible_as_the_default_loop_strategy():
    X, y, w0 = _data(5)
    d = s2sad.grad(R.train_tape, wrt=(0, 1), loops=s2sad.Reversible())
    g = d(w0, 0.3, 0.9, X, y, 40)
    gt = s2sad.grad(R.train_tape, wrt=(0, 1))(w0, 0.3, 0.9, X, y, 40)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert d.stats["loops"][0]["exact"]


def test_residual_mode_reconstructs_exactly_and_stores_little():
    r = np.random.default_rng(6)
    y0 = r.normal(size=16).astype(np.float32)
    W = (r.normal(size=(16, 16)) * 0.3).astype(np.float32)
    h = np.float32(0.01)
    d = s2sad.grad(R.heun_residual, wrt=(0, 1))
    g = d(y0, W, h, 1000)
    gt = s2sad.grad(R.heun_tape, wrt=(0, 1))(y0, W, h, 1000)
    for a, b in zip(g, gt):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)       # the same float trajectory, rebuilt bit for bit
    lp = d.stats["loops"][0]
    assert lp["exact"]
    per_step = lp["residual_bytes"] / 1000
    assert per_step < 0.5 * (2 * 16 * 4)          # less than half of storing (y, z) each step


def test_residual_mode_on_sgd_with_momentum():
    X, y, w0 = _data(7)
    g = s2sad.grad(R.momentum_residual, wrt=(0, 1, 2))(w0, 0.3, 0.9, X, y, 100)
    gt = s2sad.grad(R.train_tape, wrt=(0, 1, 2))(w0, 0.3, 0.9, X, y, 100)
    for a, b in zip(g, gt):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("K", [1, 7, 25, 1000])
def test_checkpoint_every_reanchors_and_gives_the_same_gradients(K):
    X, y, w0 = _data(8)
    d = s2sad.grad(R.train_rev_anchored, wrt=(0, 1, 2))
    g = d(w0, 0.3, 0.9, X, y, 100, K)
    gt = s2sad.grad(R.train_tape, wrt=(0, 1, 2))(w0, 0.3, 0.9, X, y, 100)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert d.stats["loops"][0]["exact"]


def test_several_carried_names_in_any_alphabetical_order():
    # was rejected when a velocity's name sorted after the weight it updates
    a, b = np.array([0.3, -0.2]), np.array([0.5, 0.1])
    g = s2sad.grad(R.two_params, wrt=(0, 1))(a, b, 20)
    gt = s2sad.grad(R.two_params_tape, wrt=(0, 1))(a, b, 20)
    for x, y in zip(g, gt):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_momentum_that_is_no_simple_fraction():
    X, y, w0 = _data(9)
    r = np.random.default_rng(10)
    lrs, gammas = 0.1 + 0.2 * r.random(50), 1.0 / (1.0 + np.exp(-r.normal(size=50)))
    g = s2sad.grad(R.train_schedule_rev, wrt=(0, 1, 2))(w0, lrs, gammas, X, y)
    gt = s2sad.grad(R.train_schedule_tape, wrt=(0, 1, 2))(w0, lrs, gammas, X, y)
    for a, b in zip(g, gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_gradient_the_inverse_recomputes_is_handed_to_the_adjoint():
    """The inverse step computes the SGD gradient from the restored weights;
    the one-step adjoint takes it instead of computing it a third time."""
    d = s2sad.grad(R.train_rev, wrt=(0, 1, 2))
    src = d.source
    adjoint = src[src.index("def _loop3_adjoint"):src.index("def _loop3_exact")]
    inverse = src[src.index("def _loop3_inverse"):src.index("_loop3 = _rv.Reversible")]
    code = [ln for ln in adjoint.splitlines() if not ln.strip().startswith("#")]
    assert not any("X @ w" in ln for ln in code) and "(computed by the inverse step)" in adjoint
    assert any("= X @ w" in ln for ln in inverse.splitlines())
    handed = adjoint[adjoint.index("(") + 1:adjoint.index(")")].split(", ")[3:]
    assert "g" in handed and inverse.rstrip().endswith("(" + ", ".join(handed) + "))")
    # and the gradients are still the tape's
    X, y, w0 = _data(7)
    gt = s2sad.grad(R.train_tape, wrt=(0, 1, 2))(w0, 0.2, 0.9, X, y, 40)
    for a, b in zip(d(w0, 0.2, 0.9, X, y, 40), gt):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
