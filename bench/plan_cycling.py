#!/usr/bin/env python
"""Planning when signatures vary: steady per-call cost over the generic code.

    python bench/plan_cycling.py            # about 1 minute on 2 cores
    python bench/plan_cycling.py --quick    # about 15 seconds

A planned gradient specialises its code and its workspace to one signature
(argument shapes, dtypes, integer values).  Two patterns vary it on every
call:

* **batches**: a small MLP (64-128-10 tanh, softmax cross-entropy) whose
  batch size cycles through 6 values (32, 48, 64, 80, 96, 112);
* **integer argument**: a loss whose integer argument (how many rows to use)
  is new on every call.

For each, the steady per-call time (after a warm-up round) of

* ``generic``: ``s2sad.grad(f, plan=False)``, the code nothing is planned for;
* ``planned``: ``s2sad.grad(f)`` with the default policy (s2sad.api:
  MAX_PLANS, PLAN_BYTES; a later signature planned on its second call);
* ``old policy``: the policy before issue #20 (4 plans kept, every new
  signature planned on its first call), for comparison,

is reported as a ratio to ``generic`` in the same round (median of rounds,
one thread).  The acceptance of issue #20: ``planned`` within 2x of
``generic`` on both patterns.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threads import pin_threads  # noqa: E402

pin_threads(1)

import numpy as np  # noqa: E402

import s2sad  # noqa: E402
import s2sad.api as api  # noqa: E402


def mlp(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    return np.mean(lse - z[np.arange(z.shape[0]), y])


def first_rows(W, X, n):
    h = np.tanh(X[:n] @ W)
    return np.sum(h * h)


class OldPolicy:
    """The policy before issue #20, patched in for comparison."""

    def __enter__(self):
        self.saved = api.MAX_PLANS
        api.MAX_PLANS = 4
        return self

    def __exit__(self, *exc):
        api.MAX_PLANS = self.saved


def old_policy_grad(f, wrt):
    df = s2sad.grad(f, wrt=wrt)
    real_call = df.__class__.__call__

    def call(*args):
        df._seen.update({api._plan_key(args): True})    # every signature counts as met before
        with OldPolicy():
            res = real_call(df, *args)
        for k in [k for k, e in df._plans.items() if e is False]:
            del df._plans[k]                            # a dropped plan is made again when met again
        return res
    return call


def cases(quick):
    rng = np.random.default_rng(0)
    W1, b1 = rng.normal(size=(64, 128)) * 0.1, np.zeros(128)
    W2, b2 = rng.normal(size=(128, 10)) * 0.1, np.zeros(10)
    batches = []
    for n in (32, 48, 64, 80, 96, 112):
        batches.append((W1, b1, W2, b2, rng.normal(size=(n, 64)), rng.integers(0, 10, n)))
    yield "batches (6 sizes, cycling)", mlp, (0, 1, 2, 3), batches
    W, X = rng.normal(size=(64, 64)) * 0.1, rng.normal(size=(400, 64))
    counts = [(W, X, int(n)) for n in rng.permutation(np.arange(100, 400))[: (60 if quick else 240)]]
    yield "integer argument (new every call)", first_rows, 0, counts


def per_call(fn, calls):
    t = time.perf_counter()
    for args in calls:
        fn(*args)
    return (time.perf_counter() - t) / len(calls)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    rounds = 3 if args.quick else 7
    print("| pattern | generic | planned | old policy |")
    print("|---|---|---|---|")
    for label, f, wrt, calls in cases(args.quick):
        ratios = {"planned": [], "old policy": []}
        for r in range(rounds):
            # fresh gradient functions each round: the integer case must
            # meet new signatures, as a real program would
            generic = s2sad.grad(f, wrt=wrt, plan=False)
            planned = s2sad.grad(f, wrt=wrt)
            old = old_policy_grad(f, wrt)
            fns = {"generic": generic, "planned": planned, "old policy": old}
            for fn in fns.values():           # warm-up: compile, and (batches) plan every size
                per_call(fn, calls[:6] * 2)
            reps = max(1, 60 // len(calls))
            t = {k: per_call(fn, calls * reps) for k, fn in fns.items()}
            for k in ratios:
                ratios[k].append(t[k] / t["generic"])
            print(f"  round {r + 1}/{rounds}: {label}: generic {t['generic'] * 1e6:.0f} us/call", file=sys.stderr)
        med = {k: statistics.median(v) for k, v in ratios.items()}
        print(f"| {label} | 1.00 | {med['planned']:.2f} | {med['old policy']:.2f} |")


if __name__ == "__main__":
    main()
