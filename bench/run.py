#!/usr/bin/env python
"""Benchmark s2sad against hand-written adjoints, autograd, JAX and PyTorch.

    python bench/run.py            # full run (about 6 minutes on 2 cores)
    python bench/run.py --quick    # fewer repetitions (about 2 minutes)

Runs every workload of ``bench/workloads.py`` with every method that is
installed, in one process:

* the NumPy primal (the function itself: the cost of one evaluation),
* the hand-written adjoint of ``bench/hand_adjoints.py`` (the baseline),
* ``s2sad.grad`` of the unchanged NumPy function: as it runs by default (the
  planned variant made after the first call), with ``out=`` arrays, and the
  generic code (``plan=False``),
* autograd, JAX without and with ``jax.jit``, PyTorch eager.

Before timing, every gradient is compared with the hand-written one (and the
hand-written one with a central finite difference of the primal); a method
that raises or disagrees is reported as failing and not timed.

Timing: each round calls every method once in turn (the order rotates from
round to round), a "call" being as many back-to-back calls as fill
``--sample`` seconds; the ratio to the hand-written adjoint is taken within
each round and the median over rounds is reported.  So the numbers are ratios
measured side by side, which survive a shared, noisy machine much better than
absolute times.  Garbage collection is off inside a sample (as in
``timeit``).  All libraries run on ``--threads`` threads (default 1: on a
small shared machine, multithreaded BLAS in a loop of small products stalls
unpredictably).

Writes the results table into ``docs/performance.md`` (between the
``results`` markers; the prose around it is kept) and a bar chart of the
ratios to ``docs/img/performance.png``.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer, shorter repetitions (~2 minutes)")
    p.add_argument("--threads", type=int, default=1, help="threads for BLAS, PyTorch and XLA (default 1)")
    p.add_argument("--only", default=None,
                   help="comma-separated workload ids to run (W1,W1-f32,W2,W3,W4,W5,W6)")
    p.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    p.add_argument("--doc", default=os.path.join(ROOT, "docs", "performance.md"))
    p.add_argument("--plot", default=os.path.join(ROOT, "docs", "img", "performance.png"))
    return p.parse_args()


ARGS = _parse() if __name__ == "__main__" else None

# Thread settings must be in the environment before NumPy / PyTorch / JAX load.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threads import pin_threads  # noqa: E402

_THREADS = pin_threads(ARGS.threads if ARGS else 1)

import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import hand_adjoints as HA  # noqa: E402
import workloads as WL  # noqa: E402

import s2sad  # noqa: E402

if WL.torch is not None:
    WL.torch.set_num_threads(int(_THREADS))
    try:
        WL.torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

# --------------------------------------------------------------------------
# workloads and methods
# --------------------------------------------------------------------------

WORKLOADS = [
    # id, workload key, dtype, title
    ("W1", "mlp", np.float64, "MLP 784-512-512-10, batch 128, tanh, softmax cross-entropy (float64)"),
    ("W1-f32", "mlp", np.float32, "the same MLP in float32"),
    ("W2", "node", np.float64, "neural ODE, d=64, 1,000 RK4 steps (Python for loop)"),
    ("W3", "lstm", np.float64, "LSTM, T=100, batch 32, hidden 128, input 64"),
    ("W4", "scalar", np.float64, "scalar while loop with a branch, 10,000 iterations (math.sin)"),
    ("W5", "tiny", np.float64, "tiny function (sin, *, sum of 10 elements): per-call overhead"),
]

PRIMAL, HAND, S2SAD, S2SAD_OUT, S2SAD_GENERIC, AUTOGRAD, JAX, JAXJIT, TORCH = (
    "NumPy primal", "hand-written", "s2sad", "s2sad out=", "s2sad generic", "autograd", "JAX (no jit)",
    "JAX jit", "PyTorch eager")
METHODS = [PRIMAL, HAND, S2SAD, S2SAD_OUT, S2SAD_GENERIC, AUTOGRAD, JAX, JAXJIT, TORCH]
PLOTTED = [S2SAD, S2SAD_GENERIC, AUTOGRAD, JAX, JAXJIT, TORCH]
NUMPY_BASED = {PRIMAL, HAND, S2SAD, S2SAD_OUT, S2SAD_GENERIC, AUTOGRAD}   # memory visible to tracemalloc

NOTES = {
    (JAXJIT, "node"): "lax.fori_loop",
    (JAXJIT, "lstm"): "lax.scan",
    (JAXJIT, "scalar"): "fori_loop + lax.cond",
    (AUTOGRAD, "scalar"): "anp.sin for math.sin",
    (JAX, "scalar"): "jnp.sin for math.sin",
    (TORCH, "scalar"): "0-d tensors",
}


class Method:
    """One way of computing the gradient of one workload.

    ``call()`` runs it once and waits for the result; ``result()`` gives the
    gradient as a tuple of NumPy arrays for the cross-check."""

    def __init__(self, label, call, to_numpy=None, checked=True):
        self.label = label
        self.call = call
        self.to_numpy = to_numpy or _np_tuple
        self.checked = checked
        self.first_call = None      # seconds, the very first call (codegen / compile included)
        self.error = None           # why it is not timed
        self.times = []             # seconds per call, one per round it ran in
        self.rounds = []            # indices of those rounds
        self.single = False         # only the first call was timed (too slow to repeat)
        self.peak = None            # bytes, tracemalloc


def _np_tuple(g):
    if not isinstance(g, (tuple, list)):
        g = (g,)
    return tuple(np.asarray(x) for x in g)


def _torch_tuple(g):
    return tuple(x.detach().cpu().numpy() for x in g)


def build_methods(key, dtype):
    """The methods available for workload ``key`` (inputs made here)."""
    args = WL.make_inputs(key, dtype)
    k = WL.WRT[key]
    wrt = tuple(range(k)) if k > 1 else 0
    ms = []
    prim = WL.NUMPY[key]
    ms.append(Method(PRIMAL, lambda: prim(*args), checked=False))
    hand = HA.HAND[key]
    ms.append(Method(HAND, lambda: hand(*args)))
    # s2sad: the GradFunction is made here; its first call generates the code
    ds = s2sad.grad(prim, wrt=wrt)
    ms.append(Method(S2SAD, lambda: ds(*args)))
    ms[-1].grad_function = ds

    def codegen():
        """Seconds to generate and compile the gradient for these argument
        kinds (a fresh GradFunction; median of 3)."""
        ts = []
        for _ in range(3):
            fresh = s2sad.grad(prim, wrt=wrt)
            t0 = time.perf_counter()
            fresh.compiled(args)
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)
    ms[-1].codegen = codegen if hasattr(ds, "compiled") else None
    # the planned gradient written into preallocated arrays, and the generic code
    outs = []

    def into():
        if not outs:
            outs.extend(np.empty_like(g) for g in _np_tuple(ds(*args)))
        return ds(*args, out=tuple(outs) if k > 1 else outs[0])
    ms.append(Method(S2SAD_OUT, into))
    ms[-1].grad_function = ds
    dg = s2sad.grad(prim, wrt=wrt, plan=False)
    ms.append(Method(S2SAD_GENERIC, lambda: dg(*args)))
    if WL.autograd is not None:
        dag = WL.autograd_grad(key)
        ms.append(Method(AUTOGRAD, lambda: dag(*args)))
    if WL.jax is not None:
        jargs = WL.jax_inputs(key, args)
        for label, jit in ((JAX, False), (JAXJIT, True)):
            jg = WL.jax_grad(key, jit)
            ms.append(Method(label, (lambda jg=jg: WL.jax.block_until_ready(jg(*jargs)))))
    if WL.torch is not None:
        targs = WL.torch_inputs(key, args)
        tg = WL.torch_grad(key)
        ms.append(Method(TORCH, lambda: tg(*targs), to_numpy=_torch_tuple))
    return args, ms


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

def rel_error(got, want):
    """Largest |got - want| over each gradient, relative to max |want|."""
    if len(got) != len(want):
        return math.inf
    err = 0.0
    for g, w in zip(got, want):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        if g.shape != w.shape:
            return math.inf
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        err = max(err, float(np.max(np.abs(g - w))) / scale if w.size else 0.0)
    return err


def check_hand_fd(key, args, hand_grad):
    """Directional central difference of the primal vs <hand gradient, v>."""
    k = WL.WRT[key]
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()) for a in args[:k]]
    eps = 1e-6

    def at(s):
        moved = [a + s * v for a, v in zip(args[:k], vs)]
        return float(WL.NUMPY[key](*moved, *args[k:]))
    fd = (at(eps) - at(-eps)) / (2 * eps)
    an = sum(float(np.sum(np.asarray(g) * v)) for g, v in zip(hand_grad, vs))
    return abs(fd - an) / max(abs(an), 1e-12)


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------

def _timed(fn, number):
    gcold = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        if gcold:
            gc.enable()


def measure(methods, rounds, sample_s, budget_s):
    """Interleaved timing.  A method whose first call took longer than
    ``budget_s`` is not repeated (its first call is its one sample); a slow
    one takes part in only as many rounds as fit in ``budget_s``."""
    live = [m for m in methods if m.error is None]
    number, max_rounds = {}, {}
    for m in live:
        if m.first_call is not None and m.first_call > budget_s:
            m.single = True
            m.times, m.rounds = [m.first_call], [None]
            continue
        t = _timed(m.call, 1)                      # warm call, also calibrates
        number[m.label] = max(1, int(sample_s / max(t, 1e-7)))
        max_rounds[m.label] = max(1, min(rounds, int(budget_s / max(t * number[m.label], 1e-9))))
    timed = [m for m in live if not m.single]
    for r in range(rounds):
        shift = r % len(timed)
        for m in timed[shift:] + timed[:shift]:
            if r < max_rounds[m.label]:
                gc.collect()
                m.times.append(_timed(m.call, number[m.label]))
                m.rounds.append(r)


def ratio(m, base):
    """Median over shared rounds of m's time / base's time."""
    if not m.times or not base.times:
        return None
    bt = dict(zip(base.rounds, base.times))
    rs = [t / bt[r] for t, r in zip(m.times, m.rounds) if r in bt]
    if not rs:
        rs = [t / statistics.median(base.times) for t in m.times]
    return statistics.median(rs)


def peak_memory(m):
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        out = m.call()
        peak = tracemalloc.get_traced_memory()[1] - before
        del out
    finally:
        tracemalloc.stop()
    return peak


# --------------------------------------------------------------------------
# one workload
# --------------------------------------------------------------------------

def run_workload(wid, key, dtype, title, opts):
    t_start = time.perf_counter()
    print(f"\n== {wid}: {title}", flush=True)
    args, methods = build_methods(key, dtype)
    by = {m.label: m for m in methods}
    tol = 1e-8 if dtype == np.float64 else 2e-3
    # first calls: s2sad generates code, JAX traces / compiles, ... and
    # every gradient is checked against the hand-written one
    want = None
    for m in methods:
        try:
            t0 = time.perf_counter()
            out = m.call()
            m.first_call = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            m.error = f"fails: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
            print(f"   {m.label:14s} {m.error}", flush=True)
            continue
        if m.label == HAND:
            want = m.to_numpy(out)
            if dtype == np.float64:
                e = check_hand_fd(key, args, want)
                print(f"   hand-written vs central difference: rel. error {e:.1e}")
                assert e < 1e-5, f"hand-written adjoint of {key} disagrees with finite differences ({e})"
        elif m.checked and want is not None:
            err = rel_error(m.to_numpy(out), want)
            if not err <= tol:
                m.error = f"fails: wrong gradient (rel. error {err:.1e})"
                print(f"   {m.label:14s} {m.error}", flush=True)
            else:
                print(f"   {m.label:14s} gradient agrees (rel. error {err:.1e}); first call {m.first_call:.3f} s",
                      flush=True)
        del out
    if opts.memory.get(key):
        for m in methods:
            if m.label in NUMPY_BASED and m.error is None and not (
                    m.first_call is not None and m.first_call > opts.budget):
                m.peak = peak_memory(m)
                info = getattr(getattr(m, "grad_function", None), "plan_info", None)
                if info:     # the planned variant's buffers live between calls: count them
                    m.peak += info["workspace_bytes"]
    measure(methods, opts.rounds, opts.sample, opts.budget)
    base, prim = by[HAND], by[PRIMAL]
    code = code_stats(by[S2SAD]) if by[S2SAD].error is None else None
    rows = []
    for m in methods:
        r = None if m.error else ratio(m, base)
        rp = None if m.error else ratio(m, prim)
        steady = statistics.median(m.times) if m.times else None
        oneoff = None
        if m.label in (S2SAD, JAX, JAXJIT) and m.first_call is not None and steady is not None and not m.single:
            oneoff = max(m.first_call - steady, 0.0)
            if m.label == JAX and oneoff < steady:
                oneoff = None      # eager JAX: no compile step worth naming, only noise
        if m.label == S2SAD and m.error is None and getattr(m, "codegen", None) is not None:
            oneoff = m.codegen()   # measured directly: a single first call is too noisy
        note = NOTES.get((m.label, key), "")
        if m.single:
            note = (note + "; " if note else "") + "one call (too slow to repeat)"
        rows.append(dict(workload=wid, key=key, title=title, method=m.label, vs_hand=r, vs_primal=rp,
                         oneoff=oneoff, peak=m.peak, error=m.error, note=note, seconds=steady,
                         samples=len(m.times), code=code if m.label == S2SAD else None))
        shown = "—" if r is None else f"{r:8.2f}x"
        print(f"   {m.label:14s} vs hand {shown:>10s}  ({len(m.times)} samples)"
              + (f"  peak {m.peak / 2**20:.1f} MiB" if m.peak else "")
              + (f"  one-off {oneoff:.3f} s" if oneoff is not None else "")
              + (f"  {m.error}" if m.error else ""), flush=True)
    print(f"   ({time.perf_counter() - t_start:.0f} s)")
    return rows


def code_stats(m):
    """Count what the generated code (the version specialised for these
    arguments, as it ran) does per loop iteration and outside loops."""
    import re
    src = m.grad_function.source
    inner = {"push": 0, "helpers": 0, "unbroadcast": 0, "index_adjoint": 0}
    outer = dict(inner)
    for line in src.splitlines():
        body = line.lstrip()
        if not body or body.startswith("#"):
            continue
        d = inner if len(line) - len(body) >= 8 else outer
        d["push"] += body.count("_stack.append(")
        d["helpers"] += len(re.findall(r"\b_rt\.\w+\(", body))
        d["unbroadcast"] += body.count("_rt.unbroadcast(")
        d["index_adjoint"] += body.count("_rt.index_adjoint(")
    return {"inner": inner, "outer": outer, "lines": len(src.splitlines())}


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

def _fmt_ratio(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}×"
    if x >= 10:
        return f"{x:.1f}×"
    return f"{x:.2f}×"


def _fmt_mem(b):
    if b is None:
        return "—"
    if b >= 2**20:
        return f"{b / 2**20:.1f} MiB"
    if b >= 2**10:
        return f"{b / 2**10:.0f} KiB"
    return f"{b} B"


def markdown(rows, meta):
    out = []
    out.append(f"Measured {meta['date']} with `{meta['command']}` on {meta['machine']}; "
               f"{meta['versions']}. {meta['threads']}")
    out.append("")
    out.append("**vs hand-written** is the main column: the method's time for one gradient divided "
               "by the hand-written adjoint's, measured side by side (median over interleaved rounds). "
               "**vs primal** divides by one evaluation of the NumPy function itself. "
               "**one-off** is what the first call costs on top of a steady one: for s2sad the "
               "code generation (timed on its own), for JAX the first call minus a steady one "
               "(tracing and XLA compilation). **peak memory** is the peak of "
               "`tracemalloc` during one call, for the methods whose arrays NumPy allocates.")
    out.append("")
    out.append("| workload | method | vs hand-written | vs primal | one-off | peak memory | notes |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    last = None
    for r in rows:
        wl = f"**{r['workload']}**" if r["workload"] != last else ""
        last = r["workload"]
        if r["error"]:
            vs = "fails" if r["method"] == S2SAD or r["error"].startswith("fails") else r["error"]
            note = r["error"]
            out.append(f"| {wl} | {r['method']} | {vs} | — | — | — | {note} |")
            continue
        oneoff = "—" if r["oneoff"] is None else (f"{r['oneoff'] * 1e3:.0f} ms" if r["oneoff"] < 1
                                                  else f"{r['oneoff']:.1f} s")
        meth = f"**{r['method']}**" if r["method"] == S2SAD else r["method"]
        vs = _fmt_ratio(r["vs_hand"])
        if r["method"] == S2SAD:
            vs = f"**{vs}**"
        out.append(f"| {wl} | {meth} | {vs} | {_fmt_ratio(r['vs_primal'])} | {oneoff} | "
                   f"{_fmt_mem(r['peak'])} | {r['note']} |")
    out.append("")
    out.append("Workloads: " + "; ".join(f"**{w}** {t}" for w, _, _, t in WORKLOADS
                                         if any(r['workload'] == w for r in rows)) + ".")
    stats = [r for r in rows if r["code"]]
    if stats:
        out.append("")
        out.append("What s2sad's generated code does (counted in the source specialised for these "
                   "arguments, `df.source` after a call). For the loop workloads the first four columns "
                   "count the lines of the loop bodies, forward and reverse, both branches of an `if` "
                   "included: what one iteration costs.")
        out.append("")
        out.append("| workload | stack pushes | `_rt` helper calls | of which `unbroadcast` | "
                   "of which `index_adjoint` | helper calls outside loops | lines |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in stats:
            i, o = r["code"]["inner"], r["code"]["outer"]
            loop = r["key"] in ("node", "lstm", "scalar")
            cell = (lambda v: str(v)) if loop else (lambda v: "—")
            out.append(f"| {r['workload']} | {cell(i['push'])} | {cell(i['helpers'])} | "
                       f"{cell(i['unbroadcast'])} | {cell(i['index_adjoint'])} | "
                       f"{o['helpers']} ({o['unbroadcast']} unbroadcast) | {r['code']['lines']} |")
    tiny = [r for r in rows if r["key"] == "tiny" and r["seconds"]]
    if tiny:
        per = {r["method"]: r["seconds"] for r in tiny}
        parts = [f"{k} {v * 1e6:.1f} µs" for k, v in per.items()]
        out.append("")
        out.append("W5 per call on the measuring machine (absolute, so only indicative): "
                   + ", ".join(parts) + ".")
    return "\n".join(out)


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return False
    wids = []
    for r in rows:
        if r["workload"] not in wids:
            wids.append(r["workload"])
    methods = [m for m in PLOTTED if any(r["method"] == m and r["vs_hand"] for r in rows)]
    colors = {S2SAD: "#d62728", S2SAD_GENERIC: "#f4a6a6", AUTOGRAD: "#1f77b4", JAX: "#9ecae1", JAXJIT: "#08519c", TORCH: "#ff7f0e"}
    fig, ax = plt.subplots(figsize=(10, 4.8), dpi=120)
    width = 0.8 / max(len(methods), 1)
    for j, m in enumerate(methods):
        xs, ys = [], []
        for i, w in enumerate(wids):
            v = next((r["vs_hand"] for r in rows if r["workload"] == w and r["method"] == m), None)
            if v:
                xs.append(i + (j - (len(methods) - 1) / 2) * width)
                ys.append(v)
        bars = ax.bar(xs, ys, width, label=m, color=colors.get(m), edgecolor="black", linewidth=0.4)
        for b, v in zip(bars, ys):
            ax.annotate(_fmt_ratio(v), (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom",
                        fontsize=6, rotation=90, xytext=(0, 2), textcoords="offset points")
        for i, w in enumerate(wids):
            r = next((r for r in rows if r["workload"] == w and r["method"] == m), None)
            if r is not None and r["error"]:
                ax.annotate("fails", (i + (j - (len(methods) - 1) / 2) * width, 1.0), ha="center",
                            va="bottom", fontsize=7, rotation=90, color=colors.get(m))
    ax.axhline(1.0, color="black", linewidth=1, label="hand-written adjoint = 1")
    ax.set_yscale("log")
    ax.set_xticks(range(len(wids)))
    short = {"mlp": "MLP", "node": "neural ODE", "lstm": "LSTM", "scalar": "scalar loop", "tiny": "tiny fn"}
    labels = []
    for w in wids:
        r = next(r for r in rows if r["workload"] == w)
        labels.append(f"{w}\n{short.get(r['key'], r['key'])}")
    ax.set_xticklabels(labels)
    ax.set_ylabel("time / hand-written adjoint (log scale)")
    ax.set_title("Gradient time relative to a hand-written NumPy adjoint (lower is better)")
    ymax = max((r["vs_hand"] for r in rows if r["vs_hand"]), default=10)
    ax.set_ylim(0.1, ymax * 8)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    ax.grid(axis="y", which="major", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


BEGIN, END = "<!-- results:begin (written by bench/run.py) -->", "<!-- results:end -->"

SKELETON = f"""# Performance

`python bench/run.py` regenerates the table and the plot below.

{BEGIN}
{END}
"""


def write_doc(path, table, plot_path):
    text = open(path).read() if os.path.exists(path) else SKELETON
    if BEGIN not in text or END not in text:
        text = text.rstrip() + "\n\n" + BEGIN + "\n" + END + "\n"
    rel = os.path.relpath(plot_path, os.path.dirname(path)).replace(os.sep, "/")
    block = f"{BEGIN}\n\n{table}\n\n![gradient time relative to the hand-written adjoint]({rel})\n\n{END}"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + block + tail)


class Opts:
    def __init__(self, quick):
        self.rounds = 3 if quick else 9
        self.sample = 0.02 if quick else 0.15
        self.budget = 3.0 if quick else 40.0
        # peak memory (tracemalloc) per workload key
        self.memory = {"node": True, "lstm": True, "mlp": True, "scalar": not quick, "tiny": False}


def main():
    warnings.filterwarnings("ignore")
    opts = Opts(ARGS.quick)
    only = set(ARGS.only.split(",")) if ARGS.only else None
    t0 = time.perf_counter()
    versions = [f"NumPy {np.__version__}"]
    for lib, v in WL.AVAILABLE.items():
        versions.append(f"{ {'autograd': 'autograd', 'jax': 'JAX', 'torch': 'PyTorch'}[lib] } {v}")
    missing = [n for n in ("autograd", "jax", "torch") if n not in WL.AVAILABLE]
    print("methods:", ", ".join(versions) + (f"; not installed: {', '.join(missing)}" if missing else ""))
    rows = []
    for wid, key, dtype, title in WORKLOADS:
        if only and wid not in only:
            continue
        rows += run_workload(wid, key, dtype, title, opts)
    if not only or "W6" in only:
        # W6: the MLP's Hessian-vector product over its gradient, each
        # framework's own ratio (bench/hvp.py; its table goes into
        # docs/forward.md and docs/performance.md)
        import hvp as HV
        docs = ["--no-write"] if ARGS.no_write else ["--doc", os.path.join(ROOT, "docs", "forward.md"),
                                                     "--doc", ARGS.doc]
        HV.main((["--quick"] if ARGS.quick else []) + docs)
    cmd = "python bench/run.py" + (" --quick" if ARGS.quick else "")
    meta = dict(
        date=time.strftime("%Y-%m-%d"),
        command=cmd,
        machine=f"{os.cpu_count()} CPU cores ({platform.machine()}, {platform.python_implementation()} "
                f"{platform.python_version()})",
        versions=", ".join(versions) + (f" (not installed: {', '.join(missing)})" if missing else ""),
        threads=f"Every library ran on {_THREADS} thread{'s' if _THREADS != '1' else ''}.",
    )
    table = markdown(rows, meta)
    print("\n" + table)
    if not ARGS.no_write and rows:
        ok = plot(rows, ARGS.plot)
        write_doc(ARGS.doc, table, ARGS.plot)
        print(f"\nwrote {os.path.relpath(ARGS.doc)}" + (f" and {os.path.relpath(ARGS.plot)}" if ok else ""))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
