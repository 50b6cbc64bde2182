"""The checkpointed-loop examples (examples/neural_ode.py, lotka_volterra.py,
leapfrog_pendulum.py) in quick mode, and checkpointed-versus-tape gradients
on an ODE and on an unrolled training loop, with and without random numbers
drawn in the loop body."""

import pathlib
import sys

import numpy as np
import pytest

import s2sad
from helpers import numeric_grad
from s2sad_runtime.checkpoint import optimal_forward_steps

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))

import leapfrog_pendulum  # noqa: E402
import lotka_volterra  # noqa: E402
import neural_ode  # noqa: E402


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def assert_same(got, want, rtol=1e-12):
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0)


# --- the examples, quick mode ------------------------------------------------

def test_neural_ode_example_quick():
    r = neural_ode.main(["--quick"])
    assert r["steps"] == 500 and r["snapshots"] == 20
    assert r["tape_rel_err"] <= 1e-12
    assert r["dropout_tape_rel_err"] <= 1e-12
    assert r["stats"]["forward_steps"] == optimal_forward_steps(500, 20) == r["optimal_forward_steps"]
    assert r["stats"]["peak_snapshots"] == 20
    assert r["stats"]["peak_bytes"] == 20 * neural_ode.DIM * 8
    assert len(r["losses"]) == 3
    assert r["final_loss"] < 0.5 * r["losses"][0]


def test_lotka_volterra_example_quick_fit_decreases_the_loss():
    r = lotka_volterra.main(["--quick"])
    assert r["tape_rel_err"] <= 1e-12
    assert r["stats"]["forward_steps"] == optimal_forward_steps(r["steps"], r["snapshots"])
    losses = r["losses"]
    assert len(losses) == 10
    assert r["final_loss"] < 0.2 * losses[0]
    # the fit moved every parameter towards the truth
    guess, true = np.array(lotka_volterra.GUESS), np.array(lotka_volterra.TRUE)
    assert np.all(np.abs(np.log(r["fitted"] / true)) < np.abs(np.log(guess / true)))


def test_leapfrog_example_quick_matches_differences_and_tape():
    r = leapfrog_pendulum.main(["--quick"])
    assert r["tape_rel_err"] <= 1e-12
    np.testing.assert_allclose(r["J"], r["J_tape"], rtol=1e-12, atol=0)
    assert r["fd_rel_err"] < 1e-6
    assert abs(r["det"] - 1.0) < 1e-9        # symplectic: the discrete flow preserves area
    assert r["stats"]["forward_steps"] == optimal_forward_steps(1000, 10)


# --- the ODE: checkpointed == tape, cost == optimum ------------------------

def _ode_problem():
    W, b, y0, target = neural_ode.problem(seed=3)
    r = np.random.default_rng(4)
    return W + 0.3 * r.normal(size=W.shape), b + 0.1 * r.normal(size=b.shape), y0, target


@pytest.mark.parametrize("n,s", [(1, 1), (2, 1), (40, 1), (40, 2), (100, 3), (257, 5), (300, 20), (64, 64)])
def test_ode_checkpointed_equals_tape_and_forward_steps_are_optimal(n, s):
    W, b, y0, target = _ode_problem()
    d = s2sad.grad(neural_ode.final_state_loss, wrt=(0, 1, 2))
    g = d(W, b, y0, target, n, s)
    gt = s2sad.grad(neural_ode.final_state_loss_tape, wrt=(0, 1, 2))(W, b, y0, target, n, s)
    assert_same(g, gt)
    assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
    assert d.stats["peak_snapshots"] <= s


@pytest.mark.parametrize("n,s", [(60, 3), (200, 7)])
def test_ode_with_dropout_masks_checkpointed_equals_tape(n, s):
    W, b, y0, target = _ode_problem()
    d = s2sad.grad(neural_ode.dropout_loss, wrt=(0, 1))
    g = d(W, b, y0, target, n, s, np.random.default_rng(11), 0.7)
    gt = s2sad.grad(neural_ode.dropout_loss_tape, wrt=(0, 1))(W, b, y0, target, n, s,
                                                               np.random.default_rng(11), 0.7)
    assert_same(g, gt)
    assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
    # the masks did something: a different seed gives a different gradient
    g2 = d(W, b, y0, target, n, s, np.random.default_rng(12), 0.7)
    assert rel(g2[1], g[1]) > 1e-3


def test_ode_with_dropout_masks_finite_differences():
    W, b, y0, target = _ode_problem()
    n, s = 30, 3

    def f(bb):
        return neural_ode.dropout_loss(W, bb, y0, target, n, s, np.random.default_rng(5), 0.7)

    g = s2sad.grad(neural_ode.dropout_loss, wrt=1)(W, b, y0, target, n, s, np.random.default_rng(5), 0.7)
    np.testing.assert_allclose(g, numeric_grad(lambda bb: f(bb), (b,), 0), rtol=1e-6, atol=1e-9)


def test_loops_option_with_check_replays_the_generator():
    """loops=Checkpoint(check=True) on the unannotated loop: every recomputed
    step is compared with the first sweep; the generator's state is restored
    with each snapshot, so the check passes and the gradient is the tape's."""
    W, b, y0, target = _ode_problem()
    n, s = 50, 4
    d = s2sad.grad(neural_ode.dropout_loss_tape, wrt=(0, 1), loops=s2sad.Checkpoint(snapshots=s, check=True))
    g = d(W, b, y0, target, n, s, np.random.default_rng(8), 0.8)
    gt = s2sad.grad(neural_ode.dropout_loss_tape, wrt=(0, 1))(W, b, y0, target, n, s,
                                                               np.random.default_rng(8), 0.8)
    assert_same(g, gt)
    assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
    assert "Checkpointed" in d.source


# --- an unrolled training loop (hypergradients), with and without dropout ---

def train(w0, lr, X, y, Xv, yv, n, s):
    """n steps of gradient descent with momentum on a least-squares model;
    the validation loss of the result."""
    w = w0
    v = 0.0 * w0
    for t in s2sad.checkpointed(range(n), snapshots=s):
        r = X @ w - y
        v = 0.9 * v - lr * (X.T @ r) / X.shape[0]
        w = w + v
    e = Xv @ w - yv
    return 0.5 * np.mean(e * e)


def train_tape(w0, lr, X, y, Xv, yv, n, s):
    w = w0
    v = 0.0 * w0
    for t in range(n):
        r = X @ w - y
        v = 0.9 * v - lr * (X.T @ r) / X.shape[0]
        w = w + v
    e = Xv @ w - yv
    return 0.5 * np.mean(e * e)


def train_dropout(w0, lr, X, y, Xv, yv, n, s, rng):
    """The same with a dropout mask on the weights and a random minibatch,
    both drawn from rng in the body."""
    w = w0
    v = 0.0 * w0
    loss_sum = 0.0
    for t in s2sad.checkpointed(range(n), snapshots=s):
        mask = (rng.random(w.shape[0]) < 0.75) / 0.75
        idx = rng.integers(0, X.shape[0], size=8)
        Xb = X[idx]
        r = Xb @ (w * mask) - y[idx]
        v = 0.9 * v - lr * (Xb.T @ r) * mask / 8
        w = w + v
        loss_sum = loss_sum + 0.5 * np.mean(r * r)
    e = Xv @ w - yv
    return 0.5 * np.mean(e * e) + 1e-3 * loss_sum


def train_dropout_tape(w0, lr, X, y, Xv, yv, n, s, rng):
    w = w0
    v = 0.0 * w0
    loss_sum = 0.0
    for t in range(n):
        mask = (rng.random(w.shape[0]) < 0.75) / 0.75
        idx = rng.integers(0, X.shape[0], size=8)
        Xb = X[idx]
        r = Xb @ (w * mask) - y[idx]
        v = 0.9 * v - lr * (Xb.T @ r) * mask / 8
        w = w + v
        loss_sum = loss_sum + 0.5 * np.mean(r * r)
    e = Xv @ w - yv
    return 0.5 * np.mean(e * e) + 1e-3 * loss_sum


def _regression(seed=0):
    r = np.random.default_rng(seed)
    X, Xv = r.normal(size=(40, 6)), r.normal(size=(20, 6))
    wt = r.normal(size=6)
    return r.normal(size=6), 0.05, X, X @ wt + 0.1 * r.normal(size=40), Xv, Xv @ wt


@pytest.mark.parametrize("n,s", [(50, 2), (120, 6)])
def test_training_loop_checkpointed_equals_tape(n, s):
    w0, lr, X, y, Xv, yv = _regression()
    d = s2sad.grad(train, wrt=(0, 1))
    g = d(w0, lr, X, y, Xv, yv, n, s)
    gt = s2sad.grad(train_tape, wrt=(0, 1))(w0, lr, X, y, Xv, yv, n, s)
    assert_same(g, gt)
    assert isinstance(g[1], float)
    assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
    assert abs(numeric_grad(train, (w0, lr, X, y, Xv, yv, n, s), 1) - g[1]) < 1e-6 * max(1.0, abs(g[1]))


@pytest.mark.parametrize("n,s", [(50, 2), (120, 6)])
def test_training_loop_with_dropout_checkpointed_equals_tape(n, s):
    w0, lr, X, y, Xv, yv = _regression(1)
    d = s2sad.grad(train_dropout, wrt=(0, 1))
    g = d(w0, lr, X, y, Xv, yv, n, s, np.random.default_rng(21))
    gt = s2sad.grad(train_dropout_tape, wrt=(0, 1))(w0, lr, X, y, Xv, yv, n, s, np.random.default_rng(21))
    assert_same(g, gt)
    assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
    # differences with the same seed for every evaluation
    fd = numeric_grad(lambda ww: train_dropout(ww, lr, X, y, Xv, yv, n, s, np.random.default_rng(21)), (w0,), 0)
    np.testing.assert_allclose(g[0], fd, rtol=1e-6, atol=1e-9)
