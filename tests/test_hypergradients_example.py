"""examples/hypergradients.py: learning-rate / momentum schedules by
hypergradients through a reversed (s2sad.reversible) training run."""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
import hypergradients as H  # noqa: E402


def _small(T=100):
    Xtr, Ytr, Xva, Yva, yva = H.load_digits_split(80, 80)
    params = H.init_params((64, 6, 6, 10), seed=1)
    r = np.random.default_rng(3)
    log_lrs = np.log(0.1 + 0.2 * r.random((T, 3)))
    # momentum 0.9 (= 9/10 exactly as a rational): a gamma that is not a
    # fraction with denominator <= 65536 is rounded to one in the reversed
    # run, which then differs from the float one by ~1e-9 (docs/reversible.md)
    logit_gs = np.full((T, 3), np.log(9.0))
    return params, log_lrs, logit_gs, (Xtr, Ytr, Xva, Yva), yva


def test_quick_mode_runs(capsys):
    assert H.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "meta-step   1" in out and "exact True" in out


def test_hypergradients_equal_the_tape():
    params, log_lrs, logit_gs, data, _ = _small(100)
    val, glr, gg, d = H.hypergrad(H.REVERSED, params, log_lrs, logit_gs, data)
    valt, glrt, ggt, _ = H.hypergrad(None, params, log_lrs, logit_gs, data)
    assert val == pytest.approx(valt, rel=1e-9)     # fixed point (2**-48) vs float training
    for a, b in ((glr, glrt), (gg, ggt)):
        assert np.max(np.abs(a - b)) <= 1e-10 * np.max(np.abs(b))
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.max(np.abs(b)))
    st = d.stats
    assert st["loops"][0]["exact"]
    nparam = sum(w.size for w in params)
    assert st["peak_bytes"] < 100 * 2 * 8 * nparam / 4      # well below the trajectory


def test_meta_loss_decreases():
    params, log_lrs, logit_gs, data, _ = _small(30)
    lr, lg, curve, _ = H.meta_train(params, log_lrs, logit_gs, data, 4, meta_lr=0.1, log=lambda s: None)
    assert curve[-1] < curve[0]
    assert all(b <= a + 1e-12 for a, b in zip(curve, curve[1:]))
