#!/usr/bin/env python
"""DP-SGD on scikit-learn's bundled digits: per-example gradients clipped,
summed and noised, with no Python loop over the examples.

    python examples/dp_sgd_digits.py            # about 3 s
    python examples/dp_sgd_digits.py --quick    # about 1 s, no plot
    python examples/dp_sgd_digits.py --no-plot
    python examples/dp_sgd_digits.py --out DIR  # the plot in DIR instead of ./out/

(Run times measured on a shared 2-core machine.)

The model is an MLP 64-32-10 (tanh), written below for ONE example.  Each
step of differentially private SGD (Abadi et al. 2016) takes a batch of 64
images and

1. computes every example's gradient norm and the sum of the gradients
   each clipped to norm ``C`` -- ``s2sad.clipped_grad``, which runs the
   generated gradient batched over the examples (``s2sad.vmap``) and keeps
   the dense layers' per-example gradients factored, so the 64 weight
   gradients are never formed;
2. adds Gaussian noise of standard deviation ``sigma * C`` to the sum and
   divides by the batch size.

The same steps without clipping and noise (plain SGD, ``s2sad.grad`` of the
batch's mean loss) run beside it.  The plot, ``out/vmap_dp_sgd_digits.png``
(not with ``--quick``, unless ``--out DIR`` is given;
``examples/make_figures.py`` writes the copy in ``docs/img/``), shows the
distribution of the per-example gradient norms at the start and at the end
of DP-SGD, with the clipping bound, and the test accuracy of both runs.
(This shows the mechanics; it does not account the privacy budget.)

The digits come from scikit-learn and the plot needs matplotlib
(``pip install ".[examples]"``); without scikit-learn the example runs on a
synthetic digits-like data set, without matplotlib it skips the plot.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import s2sad
from example_support import digits, pyplot_or_note, save_figure  # noqa: E402 (examples/ is on the path)

FIGURE = "vmap_dp_sgd_digits.png"      # written into --out (docs/img/ by examples/make_figures.py)
BATCH, CLIP, SIGMA, LR = 64, 1.0, 1.0, 0.5


def example_loss(W1, b1, W2, b2, x, y):
    """Cross-entropy of ONE image ``x`` (64 pixels) with label ``y``."""
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) + m - z[y]


def batch_loss(W1, b1, W2, b2, X, y):
    """The mean of example_loss over a batch (for plain SGD and for testing)."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    return np.mean(lse - z[np.arange(z.shape[0]), y])


def accuracy(params, X, y):
    W1, b1, W2, b2 = params
    return float(np.mean(np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1) == y))


def train(Xtr, ytr, Xte, yte, steps, private, seed=0):
    r = np.random.default_rng(seed)
    params = [r.normal(size=(64, 32)) / 8.0, np.zeros(32), r.normal(size=(32, 10)) / np.sqrt(32), np.zeros(10)]
    axes = (None, None, None, None, 0, 0)
    clipped = s2sad.clipped_grad(example_loss, wrt=(0, 1, 2, 3), in_axes=axes, max_norm=CLIP)
    plain = s2sad.grad(batch_loss, wrt=(0, 1, 2, 3))
    norms_first = norms_last = None
    curve = []
    for step in range(steps + 1):
        idx = r.choice(len(ytr), size=BATCH, replace=False)
        X, y = Xtr[idx], ytr[idx]
        if private:
            grads, norms = clipped(*params, X, y)
            grads = [(g + r.normal(scale=SIGMA * CLIP, size=g.shape)) / BATCH for g in grads]
            norms_first = norms if norms_first is None else norms_first
            norms_last = norms
        else:
            grads = plain(*params, X, y)
        if step % 25 == 0:
            curve.append((step, accuracy(params, Xte, yte)))
        if step % 100 == 0:
            print(f"  [{'DP-SGD' if private else 'SGD'}] step {step}: test accuracy {curve[-1][1]:.3f}", flush=True)
        if step < steps:
            params = [p - LR * g for p, g in zip(params, grads)]
    return params, curve, norms_first, norms_last


def check_against_per_example_calls(Xtr, ytr):
    """The clipped sum equals the one computed from per-example gradients
    taken one call at a time (the definition)."""
    r = np.random.default_rng(1)
    params = [r.normal(size=(64, 32)) / 8.0, np.zeros(32), r.normal(size=(32, 10)) / np.sqrt(32), np.zeros(10)]
    X, y = Xtr[:16], ytr[:16]
    g1 = s2sad.grad(example_loss, wrt=(0, 1, 2, 3))
    per = [g1(*params, X[i], y[i]) for i in range(16)]
    norms = np.array([np.sqrt(sum(np.sum(g ** 2) for g in gs)) for gs in per])
    want = [sum(min(1.0, CLIP / norms[i]) * per[i][k] for i in range(16)) for k in range(4)]
    got, got_norms = s2sad.clipped_grad(example_loss, wrt=(0, 1, 2, 3), in_axes=(None,) * 4 + (0, 0),
                                        max_norm=CLIP)(*params, X, y)
    err = max(float(np.max(np.abs(a - b))) for a, b in zip(got, want))
    print(f"clipped sum against per-example calls: max difference {err:.1e}; "
          f"norms {np.max(np.abs(got_norms - norms)):.1e}")
    assert err < 1e-10


def plot(norms_first, norms_last, curves, out_dir, title):
    plt = pyplot_or_note()
    if plt is None:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    bins = np.linspace(0, max(norms_first.max(), norms_last.max()) * 1.05, 30)
    a.hist(norms_first, bins=bins, alpha=0.6, label="first step")
    a.hist(norms_last, bins=bins, alpha=0.6, label="last step")
    a.axvline(CLIP, color="k", linestyle="--", label=f"clipping bound C = {CLIP:g}")
    a.set_xlabel("per-example gradient norm")
    a.set_ylabel(f"examples (of a batch of {BATCH})")
    a.set_title("per-example gradient norms (s2sad.clipped_grad)")
    a.legend()
    for name, curve in curves.items():
        s, acc = zip(*curve)
        b.plot(s, acc, label=name)
    b.set_xlabel("step")
    b.set_ylabel("test accuracy")
    b.set_title(f"batch {BATCH}, lr {LR:g}, noise sigma {SIGMA:g}")
    b.grid(True, alpha=0.3)
    b.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(plt, fig, out_dir, FIGURE, dpi=80)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="100 steps instead of 1,000")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"folder for the plot {FIGURE} (default ./out/; with --quick, no plot unless given)")
    a = p.parse_args(argv)
    X, y, name = digits()
    X = X / 16.0
    perm = np.random.default_rng(0).permutation(len(y))
    X, y = X[perm], y[perm].astype(np.int64)
    Xtr, ytr, Xte, yte = X[:1500], y[:1500], X[1500:], y[1500:]
    print(f"{name}: {len(ytr)} training and {len(yte)} test images", flush=True)
    check_against_per_example_calls(Xtr, ytr)
    steps = 100 if a.quick else 1000
    t0 = time.perf_counter()
    _, dp_curve, first, last = train(Xtr, ytr, Xte, yte, steps, private=True)
    t1 = time.perf_counter()
    _, sgd_curve, _, _ = train(Xtr, ytr, Xte, yte, steps, private=False)
    print(f"DP-SGD: {steps} steps in {t1 - t0:.1f} s, final test accuracy {dp_curve[-1][1]:.3f}; "
          f"SGD: {sgd_curve[-1][1]:.3f}")
    print(f"per-example gradient norms: median {np.median(first):.2f} at the first step, "
          f"{np.median(last):.2f} at the last; clipped: {np.mean(first > CLIP):.0%} then {np.mean(last > CLIP):.0%}")
    out_dir = a.out if a.out is not None else (None if a.quick else "out")
    if not a.no_plot and out_dir is not None:
        plot(first, last, {"DP-SGD (clipped, noised)": dp_curve, "SGD": sgd_curve}, out_dir,
             f"{name}: DP-SGD with per-example clipping, MLP 64-32-10")
    return 0


if __name__ == "__main__":
    sys.exit(main())
