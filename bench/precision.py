"""Float32 gradients through masks: a ReLU MLP against a tanh one (issue #18).

    python bench/precision.py            # print the table
    python bench/precision.py --write    # and write it into docs/arrays.md

The adjoints of ``np.maximum``, ``np.clip`` and ``np.max`` multiply the
incoming adjoint by a mask.  Built as ``(x > y) + 0.5 * (x == y)`` the mask
was float64 whatever ``x`` was, so a float32 ReLU MLP did its largest
adjoint product (``W1``'s, ``x.T @ (g * mask)``) in float64.  The masks are
now made in their operands' dtype.  This script times, in one process and
interleaved, the float32 gradient of a 784-512-10 MLP (batch 128) with
tanh, ReLU (``np.maximum``) and hard tanh (``np.clip``) hidden units, and
the ReLU one once more with the old float64 mask put back in the runtime
(``old float64 mask``; the planner did not lower that mask, so it also
allocated), and reports each against tanh.  It also checks that every
adjoint of the ReLU and clip gradients is float32.

A second table times the tanh MLP's gradient under precision policies
(``s2sad.Precision``), from float32 weights and data, against float32
without one; ``NumPy's float16 matmul`` is the float16 policy with the
primal's products left to NumPy's own float16 matmul (generic code, no
BLAS) instead of ``_rt.half_matmul``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

import s2sad
import s2sad_runtime
from s2sad.plan import lowering

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "arrays.md")
BEGIN, END = "<!-- precision-bench:begin (written by bench/precision.py) -->", "<!-- precision-bench:end -->"


def tanh_mlp(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2 + b2 - y) ** 2)


def relu_mlp(W1, b1, W2, b2, x, y):
    h = np.maximum(x @ W1 + b1, 0.0)
    return np.mean((h @ W2 + b2 - y) ** 2)


def clip_mlp(W1, b1, W2, b2, x, y):
    h = np.clip(x @ W1 + b1, -1.0, 1.0)
    return np.mean((h @ W2 + b2 - y) ** 2)


def _old_tie_weight(x, y):
    """The mask as it was built before issue #18: float64 for any x."""
    if isinstance(x, (float, int)) and isinstance(y, (float, int)):
        return 1.0 if x > y else (0.5 if x == y else 0.0)
    return (x > y) + 0.5 * (x == y)


def inputs(n_in=784, n_hidden=512, n_out=10, batch=128, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)
    b1 = 0.1 * rng.standard_normal(n_hidden)
    W2 = rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)
    b2 = np.zeros(n_out)
    x = rng.standard_normal((batch, n_in))
    y = rng.standard_normal((batch, n_out))
    return [a.astype(dtype) for a in (W1, b1, W2, b2, x, y)]


def adjoint_dtypes(df, *args):
    """The dtype of every adjoint (``*_adj``) the generated gradient holds
    when it returns (read from its frame, so nothing in it is changed)."""
    code = df.compiled(args).__code__
    seen = {}

    def prof(frame, event, arg):
        if event == "return" and frame.f_code is code:
            seen.update({k: v.dtype for k, v in frame.f_locals.items() if k.endswith("_adj") and hasattr(v, "dtype")})
    old = sys.getprofile()
    sys.setprofile(prof)
    try:
        df(*args)
    finally:
        sys.setprofile(old)
    return seen


def measure(reps=30, rounds=5):
    args = inputs()
    wrt = (0, 1, 2, 3)
    fns = {"tanh": tanh_mlp, "ReLU (np.maximum)": relu_mlp, "hard tanh (np.clip)": clip_mlp}
    dfs = {k: s2sad.grad(f, wrt=wrt) for k, f in fns.items()}
    for k in ("ReLU (np.maximum)", "hard tanh (np.clip)"):
        g = dfs[k]
        dts = adjoint_dtypes(s2sad.grad(fns[k], wrt=wrt, plan=False), *args)
        assert set(dts.values()) == {np.dtype(np.float32)}, (k, dts)
        assert all(a.dtype == np.float32 for a in g(*args))
    dfs["ReLU, old float64 mask"] = s2sad.grad(relu_mlp, wrt=wrt)
    new_tw = s2sad_runtime.tie_weight
    low = lowering.HELPERS.pop(new_tw)
    try:            # the old state: the float64 mask, which the planner did not lower
        s2sad_runtime.tie_weight = _old_tie_weight
        old = dfs["ReLU, old float64 mask"]
        old(*args)          # (planned on the first call: buffers of the probed dtypes)
        assert old.plan_info["allocating"] and old(*args)[0].dtype == np.float32
    finally:
        s2sad_runtime.tie_weight = new_tw
        lowering.HELPERS[new_tw] = low
    times = {k: [] for k in dfs}
    for _ in range(rounds):         # interleaved: the machine's load falls on every row alike
        for k, df in dfs.items():
            if k == "ReLU, old float64 mask":
                s2sad_runtime.tie_weight = _old_tie_weight
            try:
                df(*args)
                df(*args)       # (planned on the first call, warm after the second)
                t0 = time.perf_counter()
                for _ in range(reps):
                    df(*args)
                times[k].append((time.perf_counter() - t0) / reps)
            finally:
                s2sad_runtime.tie_weight = new_tw
    return {k: float(np.median(v)) for k, v in times.items()}


def _time(df, args, reps):
    df(*args)
    df(*args)
    t0 = time.perf_counter()
    for _ in range(reps):
        df(*args)
    return (time.perf_counter() - t0) / reps


def measure_policies(reps=10, rounds=3):
    args = inputs()
    wrt = (0, 1, 2, 3)
    rows = {"float32, no policy": dict(), "float64, no policy": dict(),
            "Precision(float16, float32)": dict(precision=s2sad.Precision(np.float16, np.float32)),
            "Precision(float16, float16)": dict(precision=s2sad.Precision(np.float16, np.float16))}
    if importlib.util.find_spec("ml_dtypes") is not None:
        rows["Precision(bfloat16, float32)"] = dict(precision=s2sad.Precision("bfloat16", np.float32))
    dfs = {k: s2sad.grad(tanh_mlp, wrt=wrt, **kw) for k, kw in rows.items()}
    slow = "Precision(float16, float32), NumPy's float16 matmul"
    dfs[slow] = s2sad.grad(tanh_mlp, wrt=wrt, precision=s2sad.Precision(np.float16, np.float32), plan=False)
    a64 = [a.astype(np.float64) for a in args]
    times = {k: [] for k in dfs}
    half = s2sad_runtime.half_matmul
    for _ in range(rounds):
        for k, df in dfs.items():
            if k == slow:
                s2sad_runtime.half_matmul = np.matmul
            try:
                times[k].append(_time(df, a64 if k.startswith("float64") else args, 2 if k == slow else reps))
            finally:
                s2sad_runtime.half_matmul = half
    return {k: float(np.median(v)) for k, v in times.items()}


def table(times, base_key="tanh", head="hidden units", against="against tanh"):
    base = times[base_key]
    lines = [f"| {head} | gradient (ms) | {against} |", "| --- | ---: | ---: |"]
    for k, t in times.items():
        lines.append(f"| {k} | {t * 1e3:.2f} | {t / base:.2f}x |")
    return "\n".join(lines)


def write(text):
    with open(DOC) as fh:
        doc = fh.read()
    i, j = doc.index(BEGIN), doc.index(END)
    with open(DOC, "w") as fh:
        fh.write(doc[:i + len(BEGIN)] + "\n" + text + "\n" + doc[j:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the table into docs/arrays.md")
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    times = measure(a.reps)
    text = table(times)
    pol = measure_policies()
    text += "\n\n" + table(pol, "float32, no policy", "tanh MLP 784-512-10, batch 128", "against float32")
    print(text)
    if a.write:
        write(text)


if __name__ == "__main__":
    main()
