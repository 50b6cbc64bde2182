"""Scalar loops (issues 3 and 8): per-iteration cost of s2sad's gradient
against the primal, a hand-written Python adjoint, autograd and PyTorch
eager (where installed), side by side in one process (medians of
interleaved repeats; this machine is noisy, read the ratios).

    python bench/scalar_while.py [--quick]

W-while: a 100,000-iteration ``while`` loop with a branch (``math.sin``).
W-rec:   the issue-8 recurrence, 10,000 iterations,
         ``x = x*sin(x) + a if x > 0 else x*x - a``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import s2sad


def while_loop(a, n):
    x = 0.5
    i = 0
    while i < n:
        if x > 0:
            x = x * math.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


def recurrence(a, n):
    x = 0.5
    for i in range(n):
        x = x * math.sin(x) + a if x > 0 else x * x - a
    return x


def hand_adjoint(a, n):
    """The adjoint a person writes: store x per step, recompute the branch."""
    xs = []
    x = 0.5
    for i in range(n):
        xs.append(x)
        x = x * math.sin(x) + a if x > 0 else x * x - a
    xb, ab = 1.0, 0.0
    for x in reversed(xs):
        if x > 0:
            ab += xb
            xb = xb * (math.sin(x) + x * math.cos(x))
        else:
            ab -= xb
            xb = xb * 2.0 * x
    return ab


def _autograd(n):
    import autograd
    import autograd.numpy as anp

    def rec(a):
        x = 0.5
        for i in range(n):
            x = x * anp.sin(x) + a if x > 0 else x * x - a
        return x
    return autograd.grad(rec)


def _torch(n):
    import torch

    def g(a):
        at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        x = torch.tensor(0.5, dtype=torch.float64)
        for i in range(n):
            x = x * torch.sin(x) + at if x > 0 else x * x - at
        x.backward()
        return at.grad.item()
    return g


def bench(title, n, cands, reps):
    times = {k: [] for k in cands}
    for _ in range(reps):
        for k, f in cands.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    base = statistics.median(times["hand adjoint"])
    print(f"\n{title}, {n} iterations")
    print("| method | median s | us / iteration | vs hand adjoint |")
    print("|---|---|---|---|")
    for k, ts in times.items():
        m = statistics.median(ts)
        print(f"| {k} | {m:.4f} | {1e6 * m / n:.2f} | {m / base:.2f}x |")


def main(quick=False):
    a = 0.3
    reps = 3 if quick else 7
    # W-while
    n = 20_000 if quick else 100_000
    dw = s2sad.grad(while_loop)
    want = hand_adjoint(a, n)
    assert abs(dw(a, n) - want) <= 1e-9 * max(1.0, abs(want))
    assert type(dw(a, n)) is float
    bench("W-while: while loop with a branch (math.sin)", n,
          {"primal": lambda: while_loop(a, n), "hand adjoint": lambda: hand_adjoint(a, n),
           "s2sad grad": lambda: dw(a, n)}, reps)
    # W-rec
    n = 10_000
    dr = s2sad.grad(recurrence)
    want = hand_adjoint(a, n)
    assert abs(dr(a, n) - want) <= 1e-9 * max(1.0, abs(want))
    cands = {"primal": lambda: recurrence(a, n), "hand adjoint": lambda: hand_adjoint(a, n),
             "s2sad grad": lambda: dr(a, n)}
    for name, make in (("autograd", _autograd), ("pytorch eager", _torch)):
        try:
            g = make(n)
            assert abs(g(a) - want) <= 1e-8 * max(1.0, abs(want))
            cands[name] = (lambda g=g: g(a))
        except ImportError:
            pass
    bench("W-rec: x = x*sin(x) + a if x > 0 else x*x - a (math.sin), d/da", n, cands, reps)


if __name__ == "__main__":
    main("--quick" in sys.argv)
