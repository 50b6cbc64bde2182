"""Checkpointed loops in generated code (issue 4): same gradients as the
tape, the optimal number of body evaluations, random numbers replayed."""

import numpy as np
import pytest

import ckpt_funcs as C
import s2sad
from helpers import check_grads
from s2sad_runtime.checkpoint import optimal_forward_steps


def _ode_args(seed=0):
    r = np.random.default_rng(seed)
    return r.normal(size=(4, 4)) * 0.5, r.normal(size=4) * 0.1, r.normal(size=4)


@pytest.mark.parametrize("n,s", [(14, 4), (8, 2), (1, 1), (0, 3), (30, 1), (100, 5), (7, 20)])
def test_checkpointed_equals_tape_and_hits_the_optimum(n, s):
    W, b, y0 = _ode_args()
    d = s2sad.grad(C.ode, wrt=(0, 1, 2))
    g = d(W, b, y0, n, s)
    gt = s2sad.grad(C.ode_plain, wrt=(0, 1, 2))(W, b, y0, n, s)
    for a, c in zip(g, gt):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=0)
    if n:
        assert d.stats["forward_steps"] == optimal_forward_steps(n, s)
        assert d.stats["peak_snapshots"] <= s


def test_spot_counts_from_the_issue():
    W, b, y0 = _ode_args()
    d = s2sad.grad(C.ode)
    for (n, s), want in {(14, 4): 36, (8, 2): 22, (1000, 10): 4636}.items():
        d(W, b, y0, n, s)
        assert d.stats["forward_steps"] == want


def test_finite_differences():
    W, b, y0 = _ode_args(1)
    check_grads(C.ode, (W, b, y0, 12, 3), wrt=(0, 1, 2))


def test_random_numbers_in_the_body_replay_identically():
    r = np.random.default_rng(2)
    X, y, w0 = r.normal(size=(10, 3)), r.normal(size=10), r.normal(size=3)
    g = s2sad.grad(C.sgd_with_dropout, wrt=(0, 3))(w0, X, y, 0.1, np.random.default_rng(7), 20, 3)
    gt = s2sad.grad(C.sgd_with_dropout_tape, wrt=(0, 3))(w0, X, y, 0.1, np.random.default_rng(7), 20, 3)
    for a, c in zip(g, gt):
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_global_numpy_random_state_is_replayed():
    x = np.ones(3)
    np.random.seed(3)
    g = s2sad.grad(C.global_noise)(x, 10)
    np.random.seed(3)
    noise = [np.random.normal(size=3) for _ in range(10)]
    want = np.prod([1.0 + 0.01 * z for z in noise], axis=0)
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_check_detects_a_body_that_is_not_deterministic():
    with pytest.raises(s2sad.S2SadError, match="not deterministic"):
        s2sad.grad(C.python_random)(np.ones(2), 6)


def test_branches_and_inner_loops_in_a_checkpointed_body():
    r = np.random.default_rng(4)
    check_grads(C.loop_with_branch_and_inner_loop, (r.normal(size=3), r.normal(size=(3, 3)) * 0.5, 7), wrt=(0, 1))


def test_checkpointed_over_array_rows():
    r = np.random.default_rng(5)
    check_grads(C.over_rows, (r.normal(size=(6, 3)), r.normal(size=3)), wrt=(0, 1))


def test_loops_default_strategy():
    r = np.random.default_rng(6)
    x, W = r.normal(size=3), r.normal(size=(3, 3)) * 0.5
    d = s2sad.grad(C.unannotated, wrt=(0, 1), loops=s2sad.Checkpoint(snapshots=3))
    g = d(x, W, 20)
    gt = s2sad.grad(C.unannotated, wrt=(0, 1))(x, W, 20)
    for a, c in zip(g, gt):
        np.testing.assert_allclose(a, c, rtol=1e-12)
    assert d.stats["forward_steps"] == optimal_forward_steps(20, 3)
    assert "Checkpointed" in d.source


def test_runs_as_plain_python():
    W, b, y0 = _ode_args()
    assert C.ode(W, b, y0, 5, 2) == C.ode_plain(W, b, y0, 5, 2)


def test_break_in_a_checkpointed_loop_is_a_clear_error():
    import importlib.util, pathlib, tempfile
    src = ("import numpy as np\nimport s2sad\n\ndef f(x):\n    for t in s2sad.checkpointed(range(5), snapshots=2):\n"
           "        x = x * 2.0\n        if np.sum(x) > 10:\n            break\n    return np.sum(x)\n")
    d = pathlib.Path(tempfile.mkdtemp()) / "ck_break.py"
    d.write_text(src)
    spec = importlib.util.spec_from_file_location("ck_break", d)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="break") as e:
        s2sad.grad(m.f)(np.ones(2))
    assert "ck_break.py:5" in str(e.value)


def test_checkpointed_while_newton():
    import math
    g = s2sad.grad(C.newton_while)(2.0, 1.0, 1e-14)
    assert g == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-10)


@pytest.mark.parametrize("s", [1, 2, 3, 5, 20])
def test_checkpointed_while_equals_tape_with_the_online_schedule(s):
    from s2sad_runtime.checkpoint import online_schedule, simulate
    r = np.random.default_rng(8)
    y0, W = r.normal(size=3), r.normal(size=(3, 3)) * 0.5
    d = s2sad.grad(C.damped_while, wrt=(0, 1))
    g = d(y0, W, s)
    gt = s2sad.grad(C.damped_while_tape, wrt=(0, 1))(y0, W, s)
    for a, c in zip(g, gt):
        np.testing.assert_allclose(a, c, rtol=1e-12)
    l = d.stats["loops"][0]["steps"]
    assert l in (100, 101)
    # the online schedule's count, plus the last step evaluated again taped
    assert d.stats["forward_steps"] == simulate(online_schedule(l, s), l).forward_steps + 1
    assert d.stats["peak_snapshots"] <= s


def test_loops_default_applies_to_while_loops():
    r = np.random.default_rng(9)
    y0, W = r.normal(size=3), r.normal(size=(3, 3)) * 0.5
    d = s2sad.grad(C.damped_while_tape, wrt=(0, 1), loops=s2sad.Checkpoint(snapshots=4))
    g = d(y0, W, 4)
    gt = s2sad.grad(C.damped_while_tape, wrt=(0, 1))(y0, W, 4)
    for a, c in zip(g, gt):
        np.testing.assert_allclose(a, c, rtol=1e-12)
    assert d.stats["peak_snapshots"] <= 4 and "CheckpointedWhile" in d.source


def test_hvp_through_a_checkpointed_loop_stays_checkpointed():
    r = np.random.default_rng(10)
    W, y0, v = r.normal(size=(3, 3)) * 0.5, r.normal(size=3), r.normal(size=3)
    h = s2sad.hvp(C.ode_small, wrt=1)
    hv = h(W, y0, 12, v)
    g = s2sad.grad(C.ode_small, wrt=1)
    fd = (g(W, y0 + 1e-5 * v, 12) - g(W, y0 - 1e-5 * v, 12)) / 2e-5
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)
    inner = h.state["rof"].grad
    assert "_rt.Checkpointed" in inner.source          # reverse over forward, checkpointed
    assert inner.stats["forward_steps"] == optimal_forward_steps(12, 3)
    # the same Hessian-vector product as forward over reverse on the taped loop
    hv_tape = s2sad.hvp(C.ode_small_tape, wrt=1)(W, y0, 12, v)
    np.testing.assert_allclose(hv, hv_tape, rtol=1e-10)
