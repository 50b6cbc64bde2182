#!/usr/bin/env python
"""An MLP on the digits trained in float16 with float32 adjoints, beside the
float64 run and an all-float16 one (precision policies, docs/arrays.md).

    python examples/fp16_mlp.py            # about 20 s
    python examples/fp16_mlp.py --quick    # about 5 s, no plot
    python examples/fp16_mlp.py --out DIR  # the plot in DIR instead of ./out/

(Run times measured on a shared 2-core machine.)

The model is an MLP 64-32-10 (tanh, softmax cross-entropy), written once
in plain NumPy.  Three runs of minibatch SGD start from the same weights
and see the same batches:

* **float64**: ``s2sad.value_and_grad(loss)``, no policy;
* **float16 / float32**: ``precision=s2sad.Precision(primal=np.float16,
  adjoint=np.float32)`` -- the forward sweep in float16, the reverse sweep
  and the gradients in float32, the weights kept in float32 -- with
  ``s2sad.LossScaler`` (2**16, x2 every 2,000 good steps, x0.5 on inf/NaN);
* **all float16**: ``Precision(np.float16, np.float16)``, weights in
  float16, with its own loss scaler.

At step 200 one batch is corrupted (a pixel of 1e6, beyond float16's
65504): its gradients are NaN in both float16 runs, the scalers skip that
step and halve their scale, and training goes on.  Every 100 steps the
example prints the training loss of each run (evaluated in float64) and
the relative error, against float64, of each policy's gradient at the
float64 run's weights.  The plot ``out/arrays_fp16_mlp.png`` (not with
``--quick`` unless ``--out DIR`` is given; ``examples/make_figures.py``
writes the copy in ``docs/img/``) shows the loss of the three runs against
the step, and the gradient errors.

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

FIGURE = "arrays_fp16_mlp.png"      # written into --out (docs/img/ by examples/make_figures.py)
BATCH, LR, HIDDEN, INJECT = 128, 0.5, 32, 200


def loss(W1, b1, W2, b2, x, y):
    """Mean softmax cross-entropy of an MLP on a batch (y one-hot)."""
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(y * (z - lse), axis=1))


def rel_err(g, ref):
    num = sum(float(np.sum((np.asarray(a, np.float64) - b) ** 2)) for a, b in zip(g, ref))
    return float(np.sqrt(num / sum(float(np.sum(b ** 2)) for b in ref)))


RUNS = {   # name -> (policy, dtype of the weights the optimiser keeps)
    "float64": (None, np.float64),
    "float16 / float32 adjoints": (s2sad.Precision(primal=np.float16, adjoint=np.float32), np.float32),
    "all float16": (s2sad.Precision(primal=np.float16, adjoint=np.float16), np.float16),
}


def train(X, Y, steps, seed=0):
    r = np.random.default_rng(seed)
    init = [r.normal(size=(64, HIDDEN)) / 8.0, np.zeros(HIDDEN),
            r.normal(size=(HIDDEN, 10)) / np.sqrt(HIDDEN), np.zeros(10)]
    batches = [r.choice(len(X), size=BATCH, replace=False) for _ in range(steps)]
    exact = s2sad.grad(loss, wrt=(0, 1, 2, 3))
    state = {}
    for name, (policy, dt) in RUNS.items():
        state[name] = dict(vg=s2sad.value_and_grad(loss, wrt=(0, 1, 2, 3), precision=policy),
                           g=s2sad.grad(loss, wrt=(0, 1, 2, 3), precision=policy),
                           params=[p.astype(dt) for p in init], scaler=s2sad.LossScaler() if policy else None,
                           losses=[], errors=[])
    for step in range(steps + 1):
        if step % 25 == 0 or step == steps:
            ref = exact(*state["float64"]["params"], X, Y)
            for name, s in state.items():
                s["losses"].append((step, float(loss(*[p.astype(np.float64) for p in s["params"]], X, Y))))
                if s["scaler"] is not None:
                    s["errors"].append((step, rel_err(s["g"](*state["float64"]["params"], X, Y), ref)))
            if step % 100 == 0 or step == steps:
                print(f"step {step:4d}: loss " + ", ".join(f"{n} {s['losses'][-1][1]:.4f}" for n, s in state.items())
                      + "; gradient error " + ", ".join(f"{n} {s['errors'][-1][1]:.1e}" for n, s in state.items()
                                                         if s["errors"]), flush=True)
        if step == steps:
            break
        x, y = X[batches[step]], Y[batches[step]]
        if step == INJECT:
            x = x.copy()
            x[0, 10] = 1e6          # an overflow in float16 (max 65504)
        for name, s in state.items():
            if s["scaler"] is None:
                _, grads = s["vg"](*s["params"], x, y)
            else:
                before = s["scaler"].scale
                _, grads = s["scaler"](s["vg"], *s["params"], x, y)
                if grads is None:
                    print(f"step {step:4d}: {name}: step skipped (inf/NaN in the gradients), "
                          f"loss scale {before:g} -> {s['scaler'].scale:g}", flush=True)
                    continue
            s["params"] = [p - np.asarray(LR, p.dtype) * g.astype(p.dtype) for p, g in zip(s["params"], grads)]
    return state


def plot(state, out_dir, title):
    plt = pyplot_or_note()
    if plt is None:
        return None
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(16, 4.4))
    styles = {"float64": dict(color="k", lw=2.5, alpha=0.5), "float16 / float32 adjoints": dict(color="C0"),
              "all float16": dict(color="C3", ls="--")}
    base = np.array([v for _, v in state["float64"]["losses"]])
    for name, s in state.items():
        steps, values = zip(*s["losses"])
        a.semilogy(steps, values, label=name, **styles[name])
        if name != "float64":
            b.plot(steps, (np.array(values) - base) / base, label=name, **styles[name])
        if s["errors"]:
            steps, errs = zip(*s["errors"])
            c.semilogy(steps, errs, label=name, **styles[name])
    for ax in (a, b):
        ax.axvline(INJECT, color="grey", lw=0.8, ls=":")
    a.set_ylabel("training loss (evaluated in float64)")
    a.set_title(f"MLP 64-{HIDDEN}-10, batch {BATCH}, lr {LR:g} (dotted: injected overflow)")
    b.set_ylabel("loss relative to the float64 run's, minus 1")
    b.set_title("the loss against the float64 run")
    c.set_ylabel("relative error of the gradient")
    c.set_title("full-batch gradient at the float64 weights, against float64")
    for ax in (a, b, c):
        ax.set_xlabel("SGD step")
        ax.legend()
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(plt, fig, out_dir, FIGURE, dpi=80)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="250 steps instead of 1,500")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"folder for the plot {FIGURE} (default ./out/; with --quick, no plot unless given)")
    a = p.parse_args(argv)
    X, t, name = digits()
    X, Y = X / 16.0, np.eye(10)[np.asarray(t, dtype=np.int64)]
    print(f"{name}: {len(t)} images", flush=True)
    steps = 250 if a.quick else 1500
    t0 = time.perf_counter()
    state = train(X, Y, steps)
    print(f"{steps} steps of three runs in {time.perf_counter() - t0:.1f} s")
    for n, s in state.items():
        if s["scaler"] is not None:
            sc = s["scaler"]
            print(f"{n}: {sc.skipped} skipped step(s) of {sc.steps}, loss scale now {sc.scale:g}; "
                  f"median gradient error {np.median([e for _, e in s['errors']]):.1e}")
    out_dir = a.out if a.out is not None else (None if a.quick else "out")
    if not a.no_plot and out_dir is not None:
        plot(state, out_dir, f"{name}: float16 primal with float32 adjoints (s2sad.Precision)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
