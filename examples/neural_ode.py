"""Training a small neural ODE through a checkpointed RK4 loop.

The model is the ODE ``dy/dt = tanh(W y + b)`` with ``y`` in R^8, integrated
from ``t = 0`` to ``T = 1`` by the classical fourth-order Runge-Kutta method
with 10,000 steps.  Gradient descent on ``W`` and ``b`` (72 numbers) fits the
final state ``y(T)`` to a target (the final state of the same ODE with other,
hidden, parameters).

The loop is written

    for t in s2sad.checkpointed(range(n), snapshots=20):
        y = rk4_step(y, W, b, h)

so the gradient holds at most 20 loop states (20 vectors of 8 numbers)
instead of a tape of every intermediate of all 10,000 steps, and evaluates
the RK4 step 47,976 times instead of 10,000 (the fewest any schedule with 20
states can do; ``df.stats`` reports it).  The gradient is the exact gradient
of the discrete RK4 map, bit for bit the tape's.

    python examples/neural_ode.py            # about 35 s, writes out/loops_neural_ode.png
    python examples/neural_ode.py --quick    # 500 steps, 3 iterations, no plot: about 1 s
    python examples/neural_ode.py --dropout 0.9   # a fresh mask on the vector field at every step
    python examples/neural_ode.py --out DIR  # the plot in DIR instead of ./out/

The plot needs matplotlib (``pip install ".[examples]"``); without it the
example runs the same and skips the plot with a note.  (Run times measured
on a shared 2-core machine.)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import s2sad
from s2sad_runtime.checkpoint import optimal_forward_steps
from example_support import pyplot_or_note  # noqa: E402 (examples/ is on the path)

DIM = 8
T_END = 1.0
FIGURE = "loops_neural_ode.png"     # written into --out (docs/img/ by examples/make_figures.py)


def vector_field(y, W, b):
    return np.tanh(W @ y + b)


def rk4_step(y, W, b, h):
    k1 = vector_field(y, W, b)
    k2 = vector_field(y + 0.5 * h * k1, W, b)
    k3 = vector_field(y + 0.5 * h * k2, W, b)
    k4 = vector_field(y + h * k3, W, b)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def rk4_step_masked(y, W, b, h, mask):
    """The same step with the vector field multiplied by a (dropout) mask."""
    k1 = mask * vector_field(y, W, b)
    k2 = mask * vector_field(y + 0.5 * h * k1, W, b)
    k3 = mask * vector_field(y + 0.5 * h * k2, W, b)
    k4 = mask * vector_field(y + h * k3, W, b)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


# --- the loss, with a checkpointed loop and with the default tape ----------

def final_state_loss(W, b, y0, target, n, snapshots):
    y = y0
    h = T_END / n
    for t in s2sad.checkpointed(range(n), snapshots=snapshots):
        y = rk4_step(y, W, b, h)
    d = y - target
    return 0.5 * np.sum(d * d)


def final_state_loss_tape(W, b, y0, target, n, snapshots):
    y = y0
    h = T_END / n
    for t in range(n):
        y = rk4_step(y, W, b, h)
    d = y - target
    return 0.5 * np.sum(d * d)


def dropout_loss(W, b, y0, target, n, snapshots, rng, keep):
    """Random numbers in the body: a mask drawn from ``rng`` at every step.
    The checkpointing driver saves ``rng``'s state with each snapshot, so a
    recomputed step draws the same mask as the first sweep did."""
    y = y0
    h = T_END / n
    for t in s2sad.checkpointed(range(n), snapshots=snapshots):
        mask = (rng.random(y.shape[0]) < keep) * (1.0 / keep)
        y = rk4_step_masked(y, W, b, h, mask)
    d = y - target
    return 0.5 * np.sum(d * d)


def dropout_loss_tape(W, b, y0, target, n, snapshots, rng, keep):
    y = y0
    h = T_END / n
    for t in range(n):
        mask = (rng.random(y.shape[0]) < keep) * (1.0 / keep)
        y = rk4_step_masked(y, W, b, h, mask)
    d = y - target
    return 0.5 * np.sum(d * d)


def problem(seed=0):
    """Initial state, target (from hidden parameters) and starting parameters."""
    r = np.random.default_rng(seed)
    y0 = r.normal(size=DIM)
    W_true = r.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    b_true = r.normal(size=DIM)
    target = y0.copy()
    h = T_END / 2000
    for _ in range(2000):
        target = rk4_step(target, W_true, b_true, h)
    W = 0.1 * r.normal(size=(DIM, DIM)) / np.sqrt(DIM)
    b = np.zeros(DIM)
    return W, b, y0, target


def relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 steps, 3 iterations, no plot")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--dropout", type=float, default=None, metavar="KEEP",
                    help="train with a dropout mask on the vector field (keep probability)")
    ap.add_argument("--out", default=None, metavar="DIR",
                    help=f"folder for the plot {FIGURE} (default ./out/; none in --quick mode unless given)")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    n = args.steps or (500 if args.quick else 10_000)
    iters = args.iters or (3 if args.quick else 25)
    s = args.snapshots

    W, b, y0, target = problem()
    print(f"neural ODE dy/dt = tanh(W y + b), y in R^{DIM}, RK4, {n} steps, snapshots={s}", flush=True)

    # 1. the checkpointed gradient is the tape's gradient (same arithmetic)
    d_ck = s2sad.value_and_grad(final_state_loss, wrt=(0, 1))
    d_tape = s2sad.value_and_grad(final_state_loss_tape, wrt=(0, 1))
    t0 = time.perf_counter()
    v_ck, g_ck = d_ck(W, b, y0, target, n, s)
    t_ck = time.perf_counter() - t0
    t0 = time.perf_counter()
    v_tape, g_tape = d_tape(W, b, y0, target, n, s)
    t_tape = time.perf_counter() - t0
    err = max(relative_error(a, c) for a, c in zip(g_ck, g_tape))
    print(f"loss {v_ck:.6f}; checkpointed vs tape gradient: max relative difference {err:.1e}; "
          f"time {t_ck:.2f} s vs {t_tape:.2f} s", flush=True)
    stats = dict(d_ck.stats)
    opt = optimal_forward_steps(n, s)
    print(f"stats: forward_steps={stats['forward_steps']} (optimal for l={n}, s={s}: {opt}), "
          f"peak_snapshots={stats['peak_snapshots']}, peak_bytes={stats['peak_bytes']}", flush=True)

    # 2. the same with random numbers in the body
    keep = args.dropout if args.dropout is not None else 0.9
    dd_ck = s2sad.grad(dropout_loss, wrt=(0, 1))
    dd_tape = s2sad.grad(dropout_loss_tape, wrt=(0, 1))
    gd_ck = dd_ck(W, b, y0, target, n, s, np.random.default_rng(1), keep)
    gd_tape = dd_tape(W, b, y0, target, n, s, np.random.default_rng(1), keep)
    err_dropout = max(relative_error(a, c) for a, c in zip(gd_ck, gd_tape))
    print(f"with a dropout mask (keep={keep}) drawn in the body: checkpointed vs tape "
          f"max relative difference {err_dropout:.1e}", flush=True)

    # 3. training
    if args.dropout is not None:
        step_grad = s2sad.value_and_grad(dropout_loss, wrt=(0, 1))
    else:
        step_grad = d_ck
    rng = np.random.default_rng(2)
    losses = []
    t0 = time.perf_counter()
    for it in range(iters):
        if args.dropout is not None:
            loss, (gW, gb) = step_grad(W, b, y0, target, n, s, rng, args.dropout)
        else:
            loss, (gW, gb) = step_grad(W, b, y0, target, n, s)
        losses.append(float(loss))
        if it % 5 == 0 or it == iters - 1:
            print(f"iter {it:3d}  loss {loss:.3e}  |grad| {np.sqrt(np.sum(gW ** 2) + np.sum(gb ** 2)):.2e}  "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
        W = W - args.lr * gW
        b = b - args.lr * gb
    final = float(final_state_loss(W, b, y0, target, n, s))
    st = step_grad.stats
    print(f"final loss {final:.3e} (from {losses[0]:.3e}); last .stats: {st['forward_steps']} "
          f"forward steps, {st['peak_snapshots']} snapshots, {st['peak_bytes']} bytes", flush=True)

    out_dir = args.out if args.out is not None else (None if args.quick else "out")
    plt = None if args.no_plot or out_dir is None else pyplot_or_note()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        ax.semilogy(range(len(losses)), losses, "o-", ms=3)
        ax.set_xlabel("gradient-descent iteration")
        ax.set_ylabel("0.5 |y(T) - target|^2")
        ax.set_title(f"neural ODE, RK4 {n} steps, checkpointed (s={s})")
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, FIGURE)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print("saved", os.path.normpath(path), flush=True)
    return {"losses": losses, "final_loss": final, "stats": stats, "optimal_forward_steps": opt,
            "steps": n, "snapshots": s, "tape_rel_err": err, "dropout_tape_rel_err": err_dropout,
            "gradient": g_ck, "tape_gradient": g_tape}


if __name__ == "__main__":
    main()
