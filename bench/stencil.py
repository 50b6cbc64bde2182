"""Element-loop stencil (issue 15): the explicit heat equation written as a
loop over elements, ``u[j] = u[j] + k*(u[j+1] - 2*u[j] + u[j-1])``.  s2sad's
gradient as it runs by default (the generic code specialised to the
argument types after the first call, s2sad/plan/specialise.py), the generic
code itself (``plan=False``), and the generic code without in-place adjoint
accumulation (each element read built an array the size of ``u``), against
the primal and a hand-written NumPy adjoint of the same element loop, side
by side in one process (medians of interleaved repeats; read the ratios).

    python bench/stencil.py [--quick] [--n 128] [--steps 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import s2sad
import s2sad.api as api


def heat(u0, k, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        for j in range(1, n - 1):
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    return np.sum(u * u)


def heat_hand(u0, k, steps):
    """The adjoint written by hand: the forward loop keeps each overwritten
    element, the reverse loop walks back through them."""
    u = u0.copy()
    n = u.shape[0]
    saved = np.empty((steps, n))
    for t in range(steps):
        for j in range(1, n - 1):
            saved[t, j] = u[j]
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    ub = 2.0 * u
    for t in range(steps - 1, -1, -1):
        for j in range(n - 2, 0, -1):
            g = ub[j]
            ub[j] = g * (1.0 - 2.0 * k)
            ub[j + 1] += g * k
            ub[j - 1] += g * k
            u[j] = saved[t, j]
    return ub


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--steps", type=int, default=200)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    u0, k = rng.standard_normal(a.n), 0.1
    default = s2sad.grad(heat)
    generic = s2sad.grad(heat, plan=False)
    saved = api.inplace_adjoints
    api.inplace_adjoints = lambda fdef, ns: fdef       # the same gradient, copying
    try:
        copying = s2sad.grad(heat, plan=False)
        copying(u0, k, a.steps)
    finally:
        api.inplace_adjoints = saved
    want = heat_hand(u0, k, a.steps)
    for name, f in (("default", default), ("generic", generic), ("copying", copying)):
        err = np.max(np.abs(f(u0, k, a.steps) - want)) / np.max(np.abs(want))
        assert err < 1e-12, f"{name} disagrees with the hand-written adjoint ({err:.1e})"
    default(u0, k, a.steps)                              # (the first call specialises)
    assert default.plan_info and default.plan_info.get("specialised"), default.plan_reason
    methods = [("primal", heat), ("hand-written adjoint", heat_hand),
               ("s2sad grad (default: specialised)", default), ("s2sad grad (generic code)", generic),
               ("s2sad grad (generic, copying)", copying)]
    rounds = 5 if a.quick else 15
    times = {m: [] for m, _ in methods}
    for r in range(rounds):
        for m, f in methods[r % len(methods):] + methods[:r % len(methods)]:
            t = time.perf_counter()
            f(u0, k, a.steps)
            times[m].append(time.perf_counter() - t)
    base = statistics.median(times["primal"])
    print(f"heat equation, element loop, n={a.n}, {a.steps} steps, {rounds} rounds (median)")
    print(f"| method | time | / primal |\n| --- | ---: | ---: |")
    for m, _ in methods:
        t = statistics.median(times[m])
        print(f"| {m} | {t * 1e3:.1f} ms | {t / base:.1f}x |")


if __name__ == "__main__":
    main()
