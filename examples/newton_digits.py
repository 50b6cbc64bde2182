#!/usr/bin/env python
"""LiSSA-Newton against SGD and momentum on scikit-learn's bundled digits.

    python examples/newton_digits.py            # about 20 s
    python examples/newton_digits.py --quick    # about 4 s, no plot
    python examples/newton_digits.py --no-plot
    python examples/newton_digits.py --out DIR  # the plot in DIR instead of ./out/

(Run times measured on a shared 2-core machine.)

Two models, both written in plain NumPy below and differentiated by s2sad:

* multinomial logistic regression, 64 -> 10 (convex),
* an MLP 64-32-10 with tanh (non-convex: LiSSA runs damped).

Each is trained from the same start with :func:`s2sad.optimize.minimize`:
SGD and heavy-ball momentum on mini-batches of 32, and LiSSA-Newton whose
every Hessian-vector product (forward over reverse, ``s2sad.hvp``) sees a
fresh small batch (logistic regression: full-batch gradient, 100 HVPs on 8
examples per step; MLP: gradient on 128, 5 HVPs on 16, damping 0.4; see
``CONFIGS``).  The training loss (for the convex model: minus its minimum,
found by L-BFGS) is plotted against per-example gradient work in epochs (a
gradient on ``b`` examples counts ``b``, an HVP ``2 b``), against gradient
*calls* (an HVP counts two), and against wall time, in
``out/forward_newton_digits.png`` (not with ``--quick``, unless ``--out DIR``
is given; ``examples/make_figures.py`` writes the copy in ``docs/img/``).

What it shows (docs/forward.md discusses it): on the convex model
LiSSA-Newton, fed noise-free full gradients, converges steadily and ends
lowest, while SGD and momentum stall at their noise floor; on the MLP the
negative curvature forces so much damping that LiSSA-Newton is far behind.

The digits come from scikit-learn and the plot needs matplotlib
(``pip install ".[examples]"``).  Without scikit-learn the example says so
and runs on a synthetic digits-like data set (printed 0-9 glyphs, shifted,
with noise; see ``synthetic_digits``): the same comparison, other numbers.
Without matplotlib it skips the plot with a note.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import s2sad
from s2sad import optimize as optim
from example_support import digits, pyplot_or_note, save_figure  # noqa: E402 (examples/ is on the path)

FIGURE = "forward_newton_digits.png"     # written into --out (docs/img/ by examples/make_figures.py)
LAM = 1e-4          # L2 penalty on the weights


# ----------------------------------------------------------------- models

def softmax_xent(z, y):
    """Mean cross-entropy of integer labels y for logits z (stable)."""
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    return np.mean(lse - z[np.arange(z.shape[0]), y])


def logreg_loss(W, b, X, y, lam):
    """Multinomial logistic regression 64 -> 10."""
    return softmax_xent(X @ W + b, y) + 0.5 * lam * np.sum(W * W)


def mlp_loss(W1, b1, W2, b2, X, y, lam):
    """MLP 64-32-10 with tanh."""
    h = np.tanh(X @ W1 + b1)
    return softmax_xent(h @ W2 + b2, y) + 0.5 * lam * (np.sum(W1 * W1) + np.sum(W2 * W2))


def accuracy(model, params, X, y):
    if model == "logreg":
        W, b = params
        z = X @ W + b
    else:
        W1, b1, W2, b2 = params
        z = np.tanh(X @ W1 + b1) @ W2 + b2
    return float(np.mean(np.argmax(z, axis=1) == y))


# ----------------------------------------------------------------- setup

def load_digits_split(seed=0, data=None):
    """(Xtr, ytr, Xte, yte) of ``data`` = (X, y), default digits()."""
    X, y = (data or digits())[:2]
    X = X / 16.0
    y = y.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(y))
    X, y = X[perm], y[perm]
    n_train = 1500
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def init_params(model, seed=0):
    r = np.random.default_rng(seed)
    if model == "logreg":
        return (np.zeros((64, 10)), np.zeros(10))
    return (r.normal(size=(64, 32)) / np.sqrt(64), np.zeros(32),
            r.normal(size=(32, 10)) / np.sqrt(32), np.zeros(10))


# epochs of per-example gradient work per model (full run, --quick)
EPOCHS = {"logreg": (300, 10), "mlp": (100, 5)}

# method -> keyword arguments of s2sad.optimize.minimize, per model.  The
# learning rates of SGD and momentum are the best of a small grid at 60
# epochs; LiSSA's settings the best of a few tried (see docs/forward.md).
CONFIGS = {
    "logreg": {
        "SGD": dict(method="sgd", lr=1.0, batch_size=32),
        "momentum": dict(method="momentum", lr=0.2, beta=0.9, batch_size=32),
        # convex: full-batch gradient, deep chains of cheap 8-example HVPs
        "LiSSA-Newton": dict(method="lissa", lr=1.0, batch_size=None, hvp_batch_size=8, depth=100,
                             damping=0.001, scale_iters=10),
    },
    "mlp": {
        "SGD": dict(method="sgd", lr=1.0, batch_size=32),
        "momentum": dict(method="momentum", lr=0.2, beta=0.9, batch_size=32),
        # non-convex: at the start the Hessian has eigenvalues down to -0.5
        # (-1.2 on 16-example batches), so the damping must be large; the
        # scale is re-estimated every 5 steps and doubled if a chain diverges
        "LiSSA-Newton": dict(method="lissa", lr=1.0, batch_size=128, hvp_batch_size=16, depth=5,
                             damping=0.4, scale_iters=10, rescale_every=5, on_divergence="rescale"),
    },
}
LOSSES = {"logreg": logreg_loss, "mlp": mlp_loss}
TITLES = {"logreg": "multinomial logistic regression 64→10", "mlp": "MLP 64-32-10 (tanh)"}


def sampler(X, y, b):
    def draw(rng):
        idx = rng.choice(X.shape[0], size=b, replace=False)
        return X[idx], y[idx], LAM
    return draw


def run(model, epochs, Xtr, ytr, Xte, yte, verbose=True):
    n = Xtr.shape[0]
    out = {}
    for name, cfg in CONFIGS[model].items():
        cfg = dict(cfg)
        b = cfg.pop("batch_size")
        hb = cfg.pop("hvp_batch_size", None)
        if hb is not None:
            cfg["hvp_batch"] = sampler(Xtr, ytr, hb)
        budget = epochs * n
        per_step = (b or n) + (2 * hb * cfg["depth"] if hb else 0)
        record_every = max(1, int(budget // per_step // 80))
        if verbose:
            print(f"[{model}] {name}: {cfg['method']}, gradient batch {b or 'all'}"
                  + (f", hvp batch {hb}, depth {cfg['depth']}, damping {cfg['damping']}" if hb else "")
                  + f", lr {cfg['lr']}", flush=True)
        res = optim.minimize(LOSSES[model], init_params(model), (Xtr, ytr, LAM),
                             batch=sampler(Xtr, ytr, b) if b else None, budget=budget, budget_unit="examples",
                             record_every=record_every, seed=1,
                             callback=_progress(model, name, 20 * record_every) if verbose else None, **cfg)
        acc = accuracy(model, res.params, Xte, yte)
        if verbose:
            extra = ""
            if res.scale:
                extra = f", last scale {res.scale:.3g}, {res.retries} step(s) redone with a doubled scale"
            print(f"[{model}] {name}: final training loss {res.final_loss:.5f}, test accuracy {acc:.3f}, "
                  f"{res.step[-1]} steps, {res.grad_evals[-1]} gradient evaluations (an hvp counts 2), "
                  f"{res.examples[-1] / n:.1f} epochs of per-example work, {res.time[-1]:.2f} s{extra}",
                  flush=True)
        out[name] = (res, acc)
    return out


def reference_minimum(model, Xtr, ytr):
    """The minimum of the (convex) training loss by L-BFGS with s2sad's
    gradient, to plot suboptimality; None without SciPy."""
    try:
        from scipy.optimize import minimize as sp_minimize
    except ImportError:
        return None
    p0 = init_params(model)
    shapes = [p.shape for p in p0]
    vg = s2sad.value_and_grad(LOSSES[model], wrt=tuple(range(len(p0))))

    def unflat(x):
        out, k = [], 0
        for s in shapes:
            m = int(np.prod(s))
            out.append(x[k:k + m].reshape(s))
            k += m
        return out

    def f(x):
        v, g = vg(*unflat(x), Xtr, ytr, LAM)
        return float(v), np.concatenate([a.ravel() for a in g])
    r = sp_minimize(f, np.concatenate([p.ravel() for p in p0]), jac=True, method="L-BFGS-B",
                    options=dict(maxiter=5000, gtol=1e-9, ftol=1e-13))
    return float(r.fun)


def _progress(model, name, every):
    def cb(step, params, value):
        if step % every == 0 and step:
            print(f"    [{model}] {name} step {step}: loss {value:.4f}", flush=True)
    return cb


def plot(results, n, out_dir, fstar, title="digits, 1,500 training images"):
    plt = pyplot_or_note()
    if plt is None:
        return None
    colors = {"SGD": "tab:blue", "momentum": "tab:orange", "LiSSA-Newton": "tab:green"}
    fig, axes = plt.subplots(len(results), 3, figsize=(16, 4.4 * len(results)), squeeze=False)
    for row, (model, res) in zip(axes, results.items()):
        f0 = fstar.get(model)
        for name, (r, acc) in res.items():
            y = np.array(r.loss) - f0 if f0 is not None else np.array(r.loss)
            kw = dict(color=colors[name], label=f"{name} (test accuracy {acc:.3f})")
            row[0].plot(np.array(r.examples) / n, y, **kw)
            row[1].plot(r.grad_evals, y, **kw)
            row[2].plot(r.time, y, **kw)
        ylabel = "training loss − minimum (L-BFGS)" if f0 is not None else "training loss"
        for ax, xl in zip(row, ("per-example gradient work (epochs; an HVP counts 2)",
                                "gradient evaluations (calls; an HVP counts 2)", "wall time (s)")):
            ax.set_yscale("log")
            ax.set_xlabel(xl)
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
        for ax in row:
            ax.set_title(TITLES[model], fontsize=10)
        row[0].legend()
    fig.suptitle(f"{title}: LiSSA-Newton (s2sad.hvp + s2sad.lissa) vs SGD and momentum "
                 "(batches of 32)")
    fig.tight_layout()
    return save_figure(plt, fig, out_dir, FIGURE, dpi=80)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a few epochs instead of hundreds")
    p.add_argument("--epochs", type=float, default=None)
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"folder for the plot {FIGURE} (default ./out/; with --quick, no plot unless given)")
    a = p.parse_args(argv)
    data = digits()
    Xtr, ytr, Xte, yte = load_digits_split(data=data)
    name = data[2]
    print(f"{name}: {Xtr.shape[0]} training and {Xte.shape[0]} test images of 64 pixels", flush=True)
    results, fstar = {}, {}
    for model in ("logreg", "mlp"):
        epochs = a.epochs or EPOCHS[model][1 if a.quick else 0]
        print(f"== {TITLES[model]}: {epochs:g} epochs of per-example gradient work per method", flush=True)
        if model == "logreg" and not a.quick:
            fstar[model] = reference_minimum(model, Xtr, ytr)
            if fstar[model] is not None:
                print(f"[{model}] minimum of the training loss (L-BFGS): {fstar[model]:.6f}")
        results[model] = run(model, epochs, Xtr, ytr, Xte, yte)
    out_dir = a.out if a.out is not None else (None if a.quick else "out")
    if not a.no_plot and out_dir is not None:
        plot(results, Xtr.shape[0], out_dir, fstar, title=f"{name}, {Xtr.shape[0]:,} training images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
