"""W4-style benchmark: a 100,000-iteration scalar ``while`` loop with a branch,
differentiated with respect to ``a``.  Reports the cost per iteration of the
primal, a hand-written Python adjoint, s2sad's gradient and (if installed)
autograd, side by side in one process (medians of interleaved repeats).

    python bench/scalar_while.py [n]
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import numpy as np

import s2sad

N = 100_000


def recurrence(a, n):
    x = 0.5
    i = 0
    while i < n:
        if x > 0:
            x = x * np.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


def hand_adjoint(a, n):
    """The adjoint a person would write: store x and the branch per step."""
    xs = []
    x = 0.5
    i = 0
    while i < n:
        xs.append(x)
        if x > 0:
            x = x * math.sin(x) + a
        else:
            x = x * x - a
        i += 1
    xb, ab = 1.0, 0.0
    for x in reversed(xs):
        if x > 0:
            ab += xb
            xb = xb * (math.sin(x) + x * math.cos(x))
        else:
            ab -= xb
            xb = xb * 2 * x
    return ab


def main(n=N):
    a = 0.3
    ds = s2sad.grad(recurrence)
    g = ds(a, n)
    want = hand_adjoint(a, n)
    assert abs(g - want) <= 1e-9 * max(1.0, abs(want)), (g, want)
    cands = {"primal": lambda: recurrence(a, n), "hand adjoint": lambda: hand_adjoint(a, n),
             "s2sad grad": lambda: ds(a, n)}
    try:
        import autograd
        import autograd.numpy as anp

        def rec_ag(a, n):
            x = 0.5
            i = 0
            while i < n:
                if x > 0:
                    x = x * anp.sin(x) + a
                else:
                    x = x * x - a
                i = i + 1
            return x
        dag = autograd.grad(rec_ag)
        assert abs(dag(a, 1000) - ds(a, 1000)) < 1e-9
        cands["autograd"] = lambda: dag(a, n)
    except ImportError:
        pass
    times = {k: [] for k in cands}
    for _ in range(5):
        for k, f in cands.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    base = statistics.median(times["hand adjoint"])
    print(f"scalar while loop, {n} iterations (x*sin(x)+a / x*x-a with np.sin on Python floats)")
    print("| method | median s | us / iteration | vs hand adjoint |")
    print("|---|---|---|---|")
    for k, ts in times.items():
        m = statistics.median(ts)
        print(f"| {k} | {m:.4f} | {1e6 * m / n:.2f} | {m / base:.2f}x |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
