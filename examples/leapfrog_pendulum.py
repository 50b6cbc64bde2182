"""Sensitivity of a pendulum to its initial state, through a checkpointed
leapfrog loop.

The pendulum ``q'' = -omega^2 sin q`` (``p = q'``) is integrated by the
leapfrog (Stormer-Verlet, kick-drift-kick) method, a symplectic integrator:
its one-step map preserves phase-space area, so the Jacobian of the whole
discrete flow ``(q0, p0) -> (q_n, p_n)`` has determinant exactly 1 (up to
rounding) however long the run.  The two rows of that Jacobian are the
gradients of ``q_n`` and ``p_n`` with respect to ``(q0, p0)``; s2sad computes
them through a loop checkpointed with 10 snapshots, and the example compares
them with central finite differences and with the gradient of the same loop
on the default tape.

    python examples/leapfrog_pendulum.py             # 5,000 steps: about 1 s
    python examples/leapfrog_pendulum.py --quick     # 1,000 steps: about 1 s

(Run times measured on a shared 2-core machine.)  No plot, no extras needed.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import s2sad
from s2sad_runtime.checkpoint import optimal_forward_steps

OMEGA2 = 4.0      # g / L
H = 0.01          # time step


def kick(p, q, dt):
    return p - dt * OMEGA2 * math.sin(q)


def final_state(q0, p0, wq, wp, n, snapshots):
    """wq * q_n + wp * p_n after n leapfrog steps (wq, wp pick the row of
    the Jacobian)."""
    q = q0
    p = p0
    for t in s2sad.checkpointed(range(n), snapshots=snapshots):
        p_half = kick(p, q, 0.5 * H)
        q = q + H * p_half
        p = kick(p_half, q, 0.5 * H)
    return wq * q + wp * p


def final_state_tape(q0, p0, wq, wp, n, snapshots):
    q = q0
    p = p0
    for t in range(n):
        p_half = kick(p, q, 0.5 * H)
        q = q + H * p_half
        p = kick(p_half, q, 0.5 * H)
    return wq * q + wp * p


def energy(q, p):
    return 0.5 * p * p - OMEGA2 * math.cos(q)


def jacobian(fn, q0, p0, n, s, grad=True, eps=1e-6):
    """Rows d q_n / d(q0, p0) and d p_n / d(q0, p0), by s2sad or by central
    differences."""
    rows = []
    for wq, wp in ((1.0, 0.0), (0.0, 1.0)):
        if grad:
            rows.append(s2sad.grad(fn, wrt=(0, 1))(q0, p0, wq, wp, n, s))
        else:
            rows.append(((fn(q0 + eps, p0, wq, wp, n, s) - fn(q0 - eps, p0, wq, wp, n, s)) / (2 * eps),
                         (fn(q0, p0 + eps, wq, wp, n, s) - fn(q0, p0 - eps, wq, wp, n, s)) / (2 * eps)))
    return np.array(rows, dtype=float)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 steps")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--snapshots", type=int, default=10)
    ap.add_argument("--q0", type=float, default=2.0, help="initial angle (rad)")
    ap.add_argument("--p0", type=float, default=0.0, help="initial angular velocity")
    args = ap.parse_args(argv)
    n = args.steps or (1000 if args.quick else 5000)
    s = args.snapshots
    q0, p0 = args.q0, args.p0

    qn = final_state(q0, p0, 1.0, 0.0, n, s)
    pn = final_state(q0, p0, 0.0, 1.0, n, s)
    print(f"pendulum q'' = -{OMEGA2} sin q, leapfrog, {n} steps of {H} (t = {n * H:g}), snapshots={s}")
    print(f"(q0, p0) = ({q0}, {p0})  ->  (q_n, p_n) = ({qn:.12f}, {pn:.12f})")
    print(f"energy {energy(q0, p0):.12f} -> {energy(qn, pn):.12f}")

    d = s2sad.grad(final_state, wrt=(0, 1))
    d(q0, p0, 1.0, 0.0, n, s)
    stats = dict(d.stats)
    opt = optimal_forward_steps(n, s)
    print(f"stats: forward_steps={stats['forward_steps']} (optimal for l={n}, s={s}: {opt}), "
          f"peak_snapshots={stats['peak_snapshots']}, peak_bytes={stats['peak_bytes']}")

    J = jacobian(final_state, q0, p0, n, s)
    J_tape = jacobian(final_state_tape, q0, p0, n, s)
    J_fd = jacobian(final_state, q0, p0, n, s, grad=False)
    np.set_printoptions(precision=12, suppress=False)
    print("d(q_n, p_n)/d(q0, p0):")
    print("  checkpointed\n", J)
    print("  tape\n", J_tape)
    print("  central differences (eps = 1e-6)\n", J_fd)
    err_tape = float(np.max(np.abs(J - J_tape)) / np.max(np.abs(J_tape)))
    err_fd = float(np.max(np.abs(J - J_fd)) / np.max(np.abs(J)))
    det = float(np.linalg.det(J))
    print(f"max |checkpointed - tape| / max|J| = {err_tape:.1e}")
    print(f"max |checkpointed - differences| / max|J| = {err_fd:.1e}")
    print(f"det J = {det:.15f}  (1 for a symplectic map)")
    return {"J": J, "J_tape": J_tape, "J_fd": J_fd, "det": det, "tape_rel_err": err_tape,
            "fd_rel_err": err_fd, "stats": stats, "optimal_forward_steps": opt, "steps": n, "snapshots": s}


if __name__ == "__main__":
    main()
