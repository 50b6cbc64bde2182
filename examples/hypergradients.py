#!/usr/bin/env python
"""Hypergradients through a reversed training run (Maclaurin et al. 2015).

    python examples/hypergradients.py            # 64-50-50-10 MLP, T=100, 25 meta-steps: about 2.5 min
    python examples/hypergradients.py --quick    # tiny sizes, 2 meta-steps, no plot: about 3 s
    python examples/hypergradients.py --no-plot
    python examples/hypergradients.py --out DIR  # the plot in DIR instead of ./out/

(Run times measured on a shared 2-core machine.)

A small MLP (tanh, 64-50-50-10, 6,360 parameters) is trained on scikit-learn's bundled digits
for ``T = 100`` full-batch steps of SGD with momentum.  Every layer ``l``
(its W and b) has its own learning rate ``lr[t, l]`` and momentum
``gamma[t, l]`` at every step ``t``: a schedule of ``T x 3`` of each.  They are
kept positive / in (0, 1) by the parameterization

    lr = exp(log_lr),   gamma = 1 / (1 + exp(-logit_gamma)).

The meta-objective is the validation loss after the T steps.  Its gradient
with respect to ``log_lr`` and ``logit_gamma`` goes through the whole
training run; the loop strategy ``s2sad.Reversible()`` makes s2sad run the
training loop *backwards* in the reverse sweep (in fixed point, with an
information buffer for the bits lost multiplying by gamma) instead of storing
the trajectory.  (Writing the loop as ``for t in s2sad.reversible(range(T)):``
asks the same for that one loop.)  The schedules are then improved by meta-gradient descent (Adam
on the two log-parameter arrays).

The inner gradient (backpropagation through the MLP) is written by hand in
NumPy inside the loop body as temporaries; s2sad differentiates it once more
(second order) in the reverse sweep.

The same function differentiated with the default strategy stores the
trajectory (s2sad's ordinary tape).  The script compares the two
hypergradients and the memory: ``df.stats['peak_bytes']`` of the reversal
against the tracemalloc peak of the tape version and the trajectory's size.

Plot: ``out/reversible_hypergradients.png`` (learned schedules and the
meta-learning curve; ``examples/make_figures.py`` writes the copy in
``docs/img/``).  The digits come from scikit-learn and the plot needs
matplotlib (``pip install ".[examples]"``).  Without scikit-learn the example
says so and trains on a synthetic digits-like data set (printed 0-9 glyphs,
shifted, with noise; see ``synthetic_digits``) instead; without matplotlib it
skips the plot with a note.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np

import s2sad
from example_support import pyplot_or_note, save_figure, synthetic_digits  # noqa: E402 (examples/ is on the path)

FIGURE = "reversible_hypergradients.png"     # written into --out (docs/img/ by examples/make_figures.py)


# --------------------------------------------------------------- the models
# Three layers: h1 = tanh(X W1 + b1), h2 = tanh(h1 W2 + b2), z = h2 W3 + b3,
# softmax cross-entropy against one-hot Y.  Schedules: lrs[t, l], gs[t, l].

def val_loss(W1, b1, W2, b2, W3, b3, X, Y):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1, keepdims=True)) + m
    return np.sum((lse - z) * Y) / X.shape[0]


def train(W1, b1, W2, b2, W3, b3, log_lrs, logit_gs, Xtr, Ytr, Xva, Yva):
    lrs = np.exp(log_lrs)
    gs = 1.0 / (1.0 + np.exp(-logit_gs))
    VW1 = 0.0 * W1
    Vb1 = 0.0 * b1
    VW2 = 0.0 * W2
    Vb2 = 0.0 * b2
    VW3 = 0.0 * W3
    Vb3 = 0.0 * b3
    n = Xtr.shape[0]
    for t in range(lrs.shape[0]):
        # the training-loss gradient, by hand (temporaries, recomputed)
        h1 = np.tanh(Xtr @ W1 + b1)
        h2 = np.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        dz = (e / np.sum(e, axis=1, keepdims=True) - Ytr) / n
        gW3 = h2.T @ dz
        gb3 = np.sum(dz, axis=0)
        d2 = (dz @ W3.T) * (1.0 - h2 * h2)
        gW2 = h1.T @ d2
        gb2 = np.sum(d2, axis=0)
        d1 = (d2 @ W2.T) * (1.0 - h1 * h1)
        gW1 = Xtr.T @ d1
        gb1 = np.sum(d1, axis=0)
        # momentum: v = gamma * v - (1 - gamma) * g (all velocities first:
        # their gradients read the weights before this step's update).
        VW1 = gs[t, 0] * VW1 - (1.0 - gs[t, 0]) * gW1
        Vb1 = gs[t, 0] * Vb1 - (1.0 - gs[t, 0]) * gb1
        VW2 = gs[t, 1] * VW2 - (1.0 - gs[t, 1]) * gW2
        Vb2 = gs[t, 1] * Vb2 - (1.0 - gs[t, 1]) * gb2
        VW3 = gs[t, 2] * VW3 - (1.0 - gs[t, 2]) * gW3
        Vb3 = gs[t, 2] * Vb3 - (1.0 - gs[t, 2]) * gb3
        # weights: w = w + lr * v
        W1 = W1 + lrs[t, 0] * VW1
        b1 = b1 + lrs[t, 0] * Vb1
        W2 = W2 + lrs[t, 1] * VW2
        b2 = b2 + lrs[t, 1] * Vb2
        W3 = W3 + lrs[t, 2] * VW3
        b3 = b3 + lrs[t, 2] * Vb3
    return val_loss(W1, b1, W2, b2, W3, b3, Xva, Yva)


# ---------------------------------------------------------------- the setup

def digits(fallback=True):
    """scikit-learn's digits (X, y); without scikit-learn, synthetic_digits()
    after a note (``fallback=False``: the ImportError)."""
    try:
        import sklearn  # noqa: F401  (first: a blocked sklearn must block an imported sklearn.datasets)
        from sklearn.datasets import load_digits
    except ImportError:
        if not fallback:
            raise
        print("scikit-learn not installed: training on a synthetic digits-like data set instead "
              "(pip install scikit-learn, or \".[examples]\", for the real digits)", flush=True)
        return synthetic_digits()
    return load_digits(return_X_y=True)


def load_digits_split(n_train, n_val, seed=0, fallback=False):
    """Standardized digits, one-hot labels; (Xtr, Ytr, Xva, Yva, yva).
    Without scikit-learn: ImportError, or with ``fallback`` the synthetic
    digits."""
    X, y = digits(fallback)
    r = np.random.default_rng(seed)
    idx = r.permutation(len(y))
    X = X[idx] / 16.0
    y = y[idx]
    X = (X - X[:n_train].mean(0)) / (X[:n_train].std(0) + 0.1)
    Y = np.eye(10)[y]
    tr, va = slice(0, n_train), slice(n_train, n_train + n_val)
    return X[tr], Y[tr], X[va], Y[va], y[va]


def init_params(sizes, seed=0):
    r = np.random.default_rng(seed)
    ps = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        ps += [r.normal(size=(a, b)) / np.sqrt(a), np.zeros(b)]
    return ps


def init_schedules(T, lr=0.3, gamma=0.9):
    return np.full((T, 3), np.log(lr)), np.full((T, 3), np.log(gamma / (1 - gamma)))


REVERSED = s2sad.Reversible()     # the loop strategy: run the training loop backwards


def hypergrad(loops, params, log_lrs, logit_gs, data):
    """(validation loss, d/d log_lrs, d/d logit_gs, the grad object) of
    ``train`` with the loop strategy ``loops`` (None: the tape)."""
    d = _DF.get(loops)
    if d is None:                  # one transform per strategy: compiled once
        d = _DF[loops] = s2sad.value_and_grad(train, wrt=(6, 7), loops=loops)
    val, (glr, gg) = d(*params, log_lrs, logit_gs, *data)
    return float(val), glr, gg, d


_DF = {}


def accuracy(params, log_lrs, logit_gs, data, yva):
    """Train with the schedules (plain Python) and score on validation."""
    W1, b1, W2, b2, W3, b3 = params
    Xtr, Ytr, Xva, Yva = data
    lrs, gs = np.exp(log_lrs), 1 / (1 + np.exp(-logit_gs))
    ws = [W1, b1, W2, b2, W3, b3]
    vs = [0 * w for w in ws]
    n = Xtr.shape[0]
    for t in range(lrs.shape[0]):
        W1, b1, W2, b2, W3, b3 = ws
        h1 = np.tanh(Xtr @ W1 + b1)
        h2 = np.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        e = np.exp(z - z.max(1, keepdims=True))
        dz = (e / e.sum(1, keepdims=True) - Ytr) / n
        d2 = (dz @ W3.T) * (1 - h2 ** 2)
        d1 = (d2 @ W2.T) * (1 - h1 ** 2)
        gsl = [Xtr.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ dz, dz.sum(0)]
        for k in range(6):
            l = k // 2
            vs[k] = gs[t, l] * vs[k] - (1 - gs[t, l]) * gsl[k]
        for k in range(6):
            ws[k] = ws[k] + lrs[t, k // 2] * vs[k]
    W1, b1, W2, b2, W3, b3 = ws
    z = np.tanh(np.tanh(Xva @ W1 + b1) @ W2 + b2) @ W3 + b3
    return float(np.mean(z.argmax(1) == yva))


def tape_peak(params, log_lrs, logit_gs, data):
    """tracemalloc peak (bytes) of one tape-version hypergradient, plus the
    workspace of its planned variant."""
    d = s2sad.grad(train, wrt=(6, 7))
    d(*params, log_lrs, logit_gs, *data)           # compile outside the measurement
    tracemalloc.start()
    d(*params, log_lrs, logit_gs, *data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the planned variant keeps the trajectory in its workspace, made before
    # the measured call: count it
    return peak + ((d.plan_info or {}).get("workspace_bytes", 0) if d.planned_source else 0)


def _print_now(line):
    print(line, flush=True)


def meta_train(params, log_lrs, logit_gs, data, steps, meta_lr=0.05, log=_print_now):
    """Adam on (log_lrs, logit_gs) against the validation loss after T steps;
    ``log`` gets a progress line per meta-step."""
    x = [log_lrs.copy(), logit_gs.copy()]
    m = [np.zeros_like(a) for a in x]
    s = [np.zeros_like(a) for a in x]
    b1, b2, eps = 0.9, 0.999, 1e-8
    curve, df = [], None
    for k in range(steps):
        t0 = time.perf_counter()
        val, glr, gg, df = hypergrad(REVERSED, params, x[0], x[1], data)
        curve.append(val)
        for i, g in enumerate((glr, gg)):
            m[i] = b1 * m[i] + (1 - b1) * g
            s[i] = b2 * s[i] + (1 - b2) * g * g
            mh, sh = m[i] / (1 - b1 ** (k + 1)), s[i] / (1 - b2 ** (k + 1))
            x[i] = x[i] - meta_lr * mh / (np.sqrt(sh) + eps)
        st = df.stats
        log(f"meta-step {k:3d}  val loss {val:.4f}  |dL/dlog_lr| {np.abs(glr).max():.2e}  "
            f"|dL/dlogit_g| {np.abs(gg).max():.2e}  info {st['info_bits'] / 8 / 1024:.1f} KiB  "
            f"exact {st['loops'][0]['exact']}  {time.perf_counter() - t0:.2f} s")
    val = hypergrad(REVERSED, params, x[0], x[1], data)[0]
    curve.append(val)
    log(f"final       val loss {val:.4f}")
    return x[0], x[1], curve, df


def plot(out_dir, log_lrs0, logit_gs0, log_lrs, logit_gs, curve):
    plt = pyplot_or_note()
    if plt is None:
        return None
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    T = log_lrs.shape[0]
    names = ["layer 1", "layer 2", "layer 3"]
    for l in range(3):
        ax[0].plot(np.exp(log_lrs[:, l]), label=names[l])
        ax[1].plot(1 / (1 + np.exp(-logit_gs[:, l])), label=names[l])
    ax[0].plot(np.exp(log_lrs0[:, 0]), "k--", lw=1, label="initial")
    ax[1].plot(1 / (1 + np.exp(-logit_gs0[:, 0])), "k--", lw=1, label="initial")
    ax[0].set(title="learned learning-rate schedule", xlabel="training step t", ylabel="lr[t]")
    ax[1].set(title="learned momentum schedule", xlabel="training step t", ylabel="gamma[t]")
    ax[2].plot(curve, "o-", ms=3)
    ax[2].set(title=f"meta-learning curve (T={T})", xlabel="meta-step",
              ylabel="validation loss after T steps")
    for a in ax[:2]:
        a.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(plt, fig, out_dir, FIGURE, dpi=110)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 meta-steps, no plot unless --out is given")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--meta-steps", type=int, default=None)
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"folder for the plot {FIGURE} (default ./out/; none in --quick mode unless given)")
    a = p.parse_args(argv)
    if a.quick:
        sizes, T, n_tr, n_va, steps = (64, 8, 8, 10), 10, 100, 100, 2
    else:
        sizes, T, n_tr, n_va, steps = (64, 50, 50, 10), 100, 600, 500, 25
    if a.meta_steps is not None:
        steps = a.meta_steps
    Xtr, Ytr, Xva, Yva, yva = load_digits_split(n_tr, n_va, fallback=True)
    data = (Xtr, Ytr, Xva, Yva)
    params = init_params(sizes)
    nparam = sum(w.size for w in params)
    print(f"MLP {'-'.join(map(str, sizes))} ({nparam} parameters), T={T} full-batch steps "
          f"on {n_tr} digits, validation on {n_va}")
    log_lrs0, logit_gs0 = init_schedules(T)

    # the reversed run against the tape: same hypergradient, memory
    t0 = time.perf_counter()
    val, glr, gg, df = hypergrad(REVERSED, params, log_lrs0, logit_gs0, data)
    t_rev = time.perf_counter() - t0
    t0 = time.perf_counter()
    valt, glrt, ggt, _ = hypergrad(None, params, log_lrs0, logit_gs0, data)
    t_tape = time.perf_counter() - t0
    rel = max(np.abs(glr - glrt).max() / np.abs(glrt).max(), np.abs(gg - ggt).max() / np.abs(ggt).max())
    st = df.stats
    traj = T * 2 * nparam * 8
    print(f"hypergradient, reversed vs tape: max relative difference {rel:.1e} "
          f"(first call incl. compile: {t_rev:.2f} s vs {t_tape:.2f} s)")
    print(f"  reversal exact: {st['loops'][0]['exact']}, forward steps {st['forward_steps']}")
    print(f"  information buffer {st['info_bits'] / 8 / 1024:.1f} KiB "
          f"({st['info_bits'] / (T * nparam):.2f} bits per parameter per step), "
          f"peak_bytes {st['peak_bytes'] / 1024:.1f} KiB")
    peak_tape = tape_peak(params, log_lrs0, logit_gs0, data)
    print(f"  tape: trajectory of w and v {traj / 1024:.1f} KiB; tracemalloc peak of the "
          f"tape version {peak_tape / 1024:.1f} KiB  -> reversal uses "
          f"{st['peak_bytes'] / traj:.3f}x the trajectory")
    acc0 = accuracy(params, log_lrs0, logit_gs0, data, yva)

    lr, lg, curve, df = meta_train(params, log_lrs0, logit_gs0, data, steps)
    acc1 = accuracy(params, lr, lg, data, yva)
    print(f"validation loss {curve[0]:.4f} -> {curve[-1]:.4f}, accuracy {acc0:.3f} -> {acc1:.3f}")
    out_dir = a.out if a.out is not None else (None if a.quick else "out")
    if out_dir is not None and not a.no_plot:
        plot(out_dir, log_lrs0, logit_gs0, lr, lg, curve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
