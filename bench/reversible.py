#!/usr/bin/env python
"""Reversed run (s2sad.reversible) vs the tape, SGD with momentum.

    python bench/reversible.py            # 10k parameters, T=1000
    python bench/reversible.py --quick    # 1k parameters, T=200

Least squares ``0.5 mean((X w - y)^2)`` with ``w`` of ``P`` parameters, X of
shape (32, P) (then 128 and 512 rows: a costlier gradient per step), ``T``
steps of SGD with momentum (lr 0.05, gamma 0.9).  The hypergradient w.r.t.
(w0, lr, gamma) of the one function ``sgd`` is taken with s2sad under two loop
strategies: ``loops=s2sad.Reversible()`` (what ``for t in
s2sad.reversible(range(T))`` asks for one loop: run backwards exactly, with
an information buffer) and the default tape (planned as by default, and its
generic code with ``plan=False``).  Reported: median wall time of a
gradient call (compiled beforehand; the strategies called in turn, so that
the machine's drift hits them alike), tracemalloc peak, and for the reversal
``stats['info_bits']`` and ``stats['peak_bytes']``, in bytes per parameter per
step; the tape stores w and v each step: 16 bytes per parameter per step.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numpy as np

import s2sad


def sgd(w0, lr, gamma, X, y, T):
    w = w0
    v = 0.0 * w0
    for t in range(T):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gamma * v - (1.0 - gamma) * g
        w = w + lr * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def peak_bytes(d, args):
    tracemalloc.start()
    d(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if d.planned_source:      # a planned variant keeps its buffers (the tape's rows) between calls
        peak += d.plan_info["workspace_bytes"]
    return peak


def interleaved(fns, args, reps):
    """Median wall time of each gradient function, called in turn (one of
    each per round, so that the machine's drift hits them alike)."""
    for d in fns:
        d(*args)                               # compile, plan
    ts = [[] for _ in fns]
    for _ in range(reps):
        for d, t in zip(fns, ts):
            t0 = time.perf_counter()
            d(*args)
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in ts]


def least_squares(P, T, batch, seed=0):
    r = np.random.default_rng(seed)
    X = r.normal(size=(batch, P)) / np.sqrt(P)
    y = r.normal(size=batch)
    w0 = 0.01 * r.normal(size=P)
    return (w0, 0.05, 0.9, X, y, T)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args(argv)
    P, T = (1000, 200) if a.quick else (10_000, 1000)
    args = least_squares(P, T, 32)
    drev = s2sad.grad(sgd, wrt=(0, 1, 2), loops=s2sad.Reversible())
    dtape = s2sad.grad(sgd, wrt=(0, 1, 2))
    dgen = s2sad.grad(sgd, wrt=(0, 1, 2), plan=False)
    g1, g2 = drev(*args), dtape(*args)
    rel = max(np.max(np.abs(a_ - b_)) / np.max(np.abs(b_)) for a_, b_ in zip(g1, g2))
    t_rev, t_tape, t_gen = interleaved((drev, dtape, dgen), args, a.reps)
    m_rev, m_tape, m_gen = (peak_bytes(d, args) for d in (drev, dtape, dgen))
    st = drev.stats
    steps = P * T
    print(f"SGD with momentum, least squares, P={P} parameters, X 32 x P, T={T} steps, "
          f"gamma 0.9; max relative difference of the gradients {rel:.1e}, "
          f"reversal exact {st['loops'][0]['exact']}\n")
    print("| strategy | time (s) | ratio | tracemalloc peak (MiB) | bytes / parameter / step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| tape (the default strategy) | {t_tape:.3f} | 1.00 | {m_tape / 2**20:.1f} | "
          f"{m_tape / steps:.2f} (trajectory: 16) |")
    print(f"| tape, generic code (`plan=False`) | {t_gen:.3f} | {t_gen / t_tape:.2f} | {m_gen / 2**20:.1f} | "
          f"{m_gen / steps:.2f} |")
    print(f"| reversed (`s2sad.Reversible()`) | {t_rev:.3f} | {t_rev / t_tape:.2f} | {m_rev / 2**20:.1f} | "
          f"{st['info_bits'] / 8 / steps:.4f} info buffer, {st['peak_bytes'] / steps:.4f} peak_bytes |")
    print(f"\ninformation buffer {st['info_bits'] / steps:.3f} bits per parameter per step "
          f"(log2(1/0.9) = {np.log2(1 / 0.9):.3f}); peak_bytes {st['peak_bytes'] / 2**20:.2f} MiB")
    # the reversal's extra work per step is one more gradient plus the
    # fixed-point arithmetic (about thirty passes over the parameters): its
    # share shrinks as the gradient gets costlier
    print("\nThe same loop with a costlier gradient (rows of X = examples per step):\n")
    print("| rows of X | tape (s) | reversible (s) | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for batch in (32, 128, 512):
        args = least_squares(P, T, batch)
        t_rev, t_tape = interleaved((drev, dtape), args, a.reps)
        print(f"| {batch} | {t_tape:.3f} | {t_rev:.3f} | {t_rev / t_tape:.2f} |")
    mlp_hypergradient(a.reps)
    return 0


def mlp_hypergradient(reps):
    """The same comparison on examples/hypergradients.py (64-50-50-10 MLP on
    600 digits, T=100, per-layer lr and momentum schedules): a costlier
    gradient per step than least squares."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
    try:
        import hypergradients as H
        Xtr, Ytr, Xva, Yva, _ = H.load_digits_split(600, 500)
    except ImportError as e:
        print(f"\n(MLP hypergradient skipped: {e})")
        return
    params = H.init_params((64, 50, 50, 10))
    lr, lg = H.init_schedules(100)
    args = (*params, lr, lg, Xtr, Ytr, Xva, Yva)
    drev = s2sad.grad(H.train, wrt=(6, 7), loops=H.REVERSED)
    dtape = s2sad.grad(H.train, wrt=(6, 7))
    dgen = s2sad.grad(H.train, wrt=(6, 7), plan=False)
    t_rev, t_tape, t_gen = interleaved((drev, dtape, dgen), args, reps)
    m_rev, m_tape, m_gen = (peak_bytes(d, args) for d in (drev, dtape, dgen))
    print("\nMLP 64-50-50-10 hypergradient (examples/hypergradients.py), T=100:\n")
    print("| strategy | time (s) | ratio | tracemalloc peak (MiB) |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| tape (the default strategy) | {t_tape:.3f} | 1.00 | {m_tape / 2**20:.1f} |")
    print(f"| tape, generic code (`plan=False`) | {t_gen:.3f} | {t_gen / t_tape:.2f} | {m_gen / 2**20:.1f} |")
    print(f"| reversed (`s2sad.Reversible()`) | {t_rev:.3f} | {t_rev / t_tape:.2f} | {m_rev / 2**20:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
