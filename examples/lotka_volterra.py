"""Fitting the four Lotka-Volterra parameters to noisy observations, with
the gradient taken through a checkpointed RK4 loop.

    dx/dt = alpha x - beta x y        (prey)
    dy/dt = delta x y - gamma y       (predators)

A trajectory with known parameters is simulated by RK4 (step 0.01, 2,000
steps); every 50th state, plus Gaussian noise, is an observation.  The loss
is the squared error at the observation times, accumulated *inside* the
checkpointed loop (an ``if`` in the body), and Adam (written in NumPy, six
lines) minimises it over the logarithms of (alpha, beta, gamma, delta), which
keeps them positive.

    python examples/lotka_volterra.py           # about 25 s, writes out/loops_lotka_volterra.png
    python examples/lotka_volterra.py --quick   # 500 steps, 10 iterations, no plot: about 1 s
    python examples/lotka_volterra.py --out DIR # the plot in DIR instead of ./out/

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

TRUE = (1.0, 0.1, 1.5, 0.075)     # alpha, beta, gamma, delta
GUESS = (0.8, 0.12, 1.2, 0.09)
X0, Y0 = 10.0, 5.0
H = 0.01
FIGURE = "loops_lotka_volterra.png"     # written into --out (docs/img/ by examples/make_figures.py)


def rhs(z, r, c):
    """dz/dt for z = (x, y): z * (r + c * (y, x)), with r = (alpha, -gamma)
    and c = (-beta, delta)."""
    return z * (r + c * z[::-1])


def rk4_step(z, h, r, c):
    k1 = rhs(z, r, c)
    k2 = rhs(z + 0.5 * h * k1, r, c)
    k3 = rhs(z + 0.5 * h * k2, r, c)
    k4 = rhs(z + h * k3, r, c)
    return z + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def coefficients(params):
    """(alpha, beta, gamma, delta) -> r = (alpha, -gamma), c = (-beta, delta)."""
    return np.array([1.0, -1.0]) * params[0::2], np.array([-1.0, 1.0]) * params[1::2]


def misfit(log_params, obs, n, every, snapshots):
    """Sum of squared errors at steps every, 2*every, ..., against obs[k] = (x, y)."""
    r, c = coefficients(np.exp(log_params))
    z = np.array([X0, Y0])
    err = 0.0
    for t in s2sad.checkpointed(range(n), snapshots=snapshots):
        z = rk4_step(z, H, r, c)
        if (t + 1) % every == 0:
            d = z - obs[(t + 1) // every - 1]
            err = err + np.sum(d * d)
    return err


def misfit_tape(log_params, obs, n, every, snapshots):
    """The same loss, its loop on the default tape."""
    r, c = coefficients(np.exp(log_params))
    z = np.array([X0, Y0])
    err = 0.0
    for t in range(n):
        z = rk4_step(z, H, r, c)
        if (t + 1) % every == 0:
            d = z - obs[(t + 1) // every - 1]
            err = err + np.sum(d * d)
    return err


def simulate(params, n):
    """The whole trajectory, states 0..n as an (n + 1, 2) array (plain NumPy,
    for the data and the plots)."""
    r, c = coefficients(np.asarray(params, dtype=float))
    z = np.array([X0, Y0])
    out = [z]
    for _ in range(n):
        z = rk4_step(z, H, r, c)
        out.append(z)
    return np.array(out)


def observations(n, every, noise=0.5, seed=0):
    traj = simulate(TRUE, n)
    idx = np.arange(every, n + 1, every)
    rng = np.random.default_rng(seed)
    return idx, traj[idx] + noise * rng.normal(size=(len(idx), 2))


def adam(grad_fn, p, iters, lr, log_every=10, b1=0.9, b2=0.999, eps=1e-8):
    m, v = np.zeros_like(p), np.zeros_like(p)
    losses = []
    t0 = time.perf_counter()
    for it in range(iters):
        loss, g = grad_fn(p)
        losses.append(float(loss))
        if it % log_every == 0 or it == iters - 1:
            print(f"iter {it:4d}  loss {loss:10.4f}  params {np.array2string(np.exp(p), precision=4)}  "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** (it + 1))) / (np.sqrt(v / (1 - b2 ** (it + 1))) + eps)
    return p, losses


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 steps, 10 iterations, no plot")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--every", type=int, default=None, help="steps between observations")
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--out", default=None, metavar="DIR",
                    help=f"folder for the plot {FIGURE} (default ./out/; none in --quick mode unless given)")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    n = args.steps or (500 if args.quick else 2000)
    every = args.every or (25 if args.quick else 50)
    iters = args.iters or (10 if args.quick else 120)
    s = args.snapshots

    idx, obs = observations(n, every)
    print(f"Lotka-Volterra: RK4, {n} steps of {H}, {len(idx)} noisy observations, snapshots={s}", flush=True)
    print(f"true parameters     {TRUE}\ninitial guess       {GUESS}", flush=True)

    p0 = np.log(np.array(GUESS))
    d = s2sad.value_and_grad(misfit)
    d_tape = s2sad.value_and_grad(misfit_tape)
    v0, g0 = d(p0, obs, n, every, s)
    stats = dict(d.stats)
    vt, gt = d_tape(p0, obs, n, every, s)
    rel = float(np.max(np.abs(g0 - gt)) / np.max(np.abs(gt)))
    opt = optimal_forward_steps(n, s)
    print(f"gradient at the guess: {g0}\n  tape: {gt}  (max relative difference {rel:.1e})", flush=True)
    print(f"stats: forward_steps={stats['forward_steps']} (optimal for l={n}, s={s}: {opt}), "
          f"peak_snapshots={stats['peak_snapshots']}, peak_bytes={stats['peak_bytes']}", flush=True)

    p, losses = adam(lambda q: d(q, obs, n, every, s), p0, iters, args.lr,
                     log_every=max(1, iters // 12))
    final = float(misfit(p, obs, n, every, s))
    fitted = np.exp(p)
    print(f"fitted parameters   {tuple(round(float(v), 4) for v in fitted)}\nloss {losses[0]:.3f} -> {final:.3f} "
          f"(noise floor about {2 * len(idx) * 0.25:.0f}: 2 x {len(idx)} observations x sigma^2)", flush=True)

    out_dir = args.out if args.out is not None else (None if args.quick else "out")
    plt = None if args.no_plot or out_dir is None else pyplot_or_note()
    if plt is not None:
        tt = H * np.arange(n + 1)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]})
        (xs0, ys0), (xs1, ys1) = simulate(GUESS, n).T, simulate(fitted, n).T
        a1.plot(tt, xs0, color="C0", ls=":", lw=1, label="prey, initial guess")
        a1.plot(tt, ys0, color="C3", ls=":", lw=1, label="predators, initial guess")
        a1.plot(tt, xs1, color="C0", lw=1.5, label="prey, fitted")
        a1.plot(tt, ys1, color="C3", lw=1.5, label="predators, fitted")
        a1.plot(H * idx, obs[:, 0], "o", color="C0", ms=3)
        a1.plot(H * idx, obs[:, 1], "s", color="C3", ms=3)
        a1.set_xlabel("time")
        a1.set_title("observations (dots) and trajectories")
        a1.set_ylim(0, 1.3 * float(np.max(obs)))
        a1.legend(fontsize=7, ncol=4, loc="upper center")
        a2.semilogy(losses)
        a2.set_xlabel("Adam iteration")
        a2.set_ylabel("squared error")
        a2.set_title(f"loss (checkpointed, s={s})")
        a2.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, FIGURE)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print("saved", os.path.normpath(path), flush=True)
    return {"losses": losses, "final_loss": final, "fitted": fitted, "stats": stats,
            "optimal_forward_steps": opt, "steps": n, "snapshots": s, "tape_rel_err": rel,
            "gradient": g0, "tape_gradient": gt}


if __name__ == "__main__":
    main()
