#!/usr/bin/env python
"""Hessian-vector product time over gradient time, for the MLP benchmark.

    python bench/hvp.py             # about 70 seconds on 2 cores
    python bench/hvp.py --quick     # about 20 seconds
    python bench/hvp.py --no-write  # print only

The model is W1 of ``bench/workloads.py`` (784-512-512-10 tanh MLP, batch
128, mean softmax cross-entropy, float64), differentiated with respect to all
six weight and bias arrays.  For every installed framework it times the
gradient and the Hessian-vector product ``H v``:

* s2sad: ``s2sad.grad`` and ``s2sad.hvp`` (forward over reverse: the
  generated ``jvp`` of the generated gradient),
* autograd: ``autograd.grad`` and the gradient of ``<grad f, v>``
  (reverse over reverse),
* JAX without jit: ``jax.grad`` and ``jax.jvp(jax.grad(f), ...)``,
* JAX jit: the same two, each under ``jax.jit``,
* PyTorch eager: ``torch.autograd.grad`` and double backward
  (``create_graph=True``, then a second ``autograd.grad`` with
  ``grad_outputs=v``: reverse over reverse),
* PyTorch ``torch.func``: ``grad`` and ``jvp(grad(f))`` (forward over reverse).

The number reported is the ratio HVP time / gradient time *of the same
framework*, measured side by side: each round times every method once (as
many back-to-back calls as fill ``--sample`` seconds) in a rotating order, the
ratio is taken within the round, and the median over rounds is reported, so
machine noise that hits a whole round cancels.  All libraries run on one
thread.  Before timing, every HVP is checked against s2sad's and against a
central difference of s2sad's gradient, and every gradient against s2sad's.

The table is printed as Markdown and written into ``docs/forward.md``
between the ``hvp-results`` markers.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sad  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------- the model
import workloads as WL  # noqa: E402
from workloads import MLP_BATCH, MLP_SIZES, make_inputs, mlp_loss  # noqa: E402,F401

NP = 6      # the leading six arguments are the parameters

S2SAD, AUTOGRAD, JAXE, JAXJ, TORCH, TFUNC = ("s2sad", "autograd", "JAX (no jit)", "JAX jit", "PyTorch eager",
                                             "PyTorch torch.func")
HOW = {
    S2SAD: "`s2sad.hvp`: generated jvp of the generated gradient",
    AUTOGRAD: "`grad` of `<grad f, v>` (reverse over reverse)",
    JAXE: "`jax.jvp(jax.grad(f))`",
    JAXJ: "`jax.jit(jax.jvp(jax.grad(f)))`",
    TORCH: "double backward (`create_graph=True`)",
    TFUNC: "`torch.func.jvp(torch.func.grad(f))`",
}


def _setup_s2sad(args, v):
    g = s2sad.grad(mlp_loss, wrt=tuple(range(NP)))
    h = s2sad.hvp(mlp_loss, wrt=tuple(range(NP)))
    return (lambda: g(*args)), (lambda: h(*args, v)), (lambda x: tuple(np.asarray(a) for a in x))


def _setup_autograd(args, v):
    import autograd
    import autograd.numpy as anp
    f = WL.AUTOGRAD["mlp"]
    params, data = args[:NP], args[NP:]
    argnums = tuple(range(NP))
    grad = autograd.grad(f, argnums)

    def directional(*p):
        return sum(anp.sum(gi * vi) for gi, vi in zip(grad(*p, *data), v))
    hvp = autograd.grad(directional, argnums)
    return ((lambda: grad(*params, *data)), (lambda: hvp(*params)),
            (lambda x: tuple(np.asarray(a) for a in x)))


def _setup_jax(args, v, jit):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    f = WL.jx_mlp_loss               # the same model as the other benchmarks
    params = tuple(jnp.asarray(a) for a in args[:NP])
    data = (jnp.asarray(args[NP]), jnp.asarray(args[NP + 1]))
    tangents = tuple(jnp.asarray(a) for a in v)
    argnums = tuple(range(NP))
    grad = jax.grad(f, argnums)

    def gradf(params, data):
        return grad(*params, *data)

    def hvpf(params, data, tangents):
        return jax.jvp(lambda *p: grad(*p, *data), params, tangents)[1]
    if jit:
        gradf, hvpf = jax.jit(gradf), jax.jit(hvpf)

    def block(x):
        return jax.block_until_ready(x)
    return ((lambda: block(gradf(params, data))), (lambda: block(hvpf(params, data, tangents))),
            (lambda x: tuple(np.asarray(a) for a in x)))


def _setup_torch(args, v):
    import torch
    torch.set_num_threads(1)
    f = WL.th_mlp_loss
    params = [torch.tensor(a, requires_grad=True) for a in args[:NP]]
    X, y = torch.tensor(args[NP]), torch.tensor(args[NP + 1])
    tangents = [torch.tensor(a) for a in v]

    def gradf():
        return torch.autograd.grad(f(*params, X, y), params)

    def hvpf():
        g = torch.autograd.grad(f(*params, X, y), params, create_graph=True)
        return torch.autograd.grad(g, params, grad_outputs=tangents)
    return gradf, hvpf, (lambda x: tuple(a.detach().numpy() for a in x))


def _setup_torch_func(args, v):
    import torch
    from torch.func import grad, jvp
    torch.set_num_threads(1)
    f = WL.th_mlp_loss
    params = tuple(torch.tensor(a) for a in args[:NP])
    X, y = torch.tensor(args[NP]), torch.tensor(args[NP + 1])
    tangents = tuple(torch.tensor(a) for a in v)
    g = grad(lambda *p: f(*p, X, y), argnums=tuple(range(NP)))

    def gradf():
        return g(*params)

    def hvpf():
        return jvp(g, params, tangents)[1]
    return gradf, hvpf, (lambda x: tuple(a.detach().numpy() for a in x))


def _methods(args, v):
    out = {S2SAD: _setup_s2sad(args, v)}
    versions = {"numpy": np.__version__, "s2sad": s2sad.__version__}
    try:
        import importlib.metadata
        import autograd  # noqa: F401
        versions["autograd"] = importlib.metadata.version("autograd")
        out[AUTOGRAD] = _setup_autograd(args, v)
    except ImportError:
        print("autograd is not installed: skipped (pip install autograd)")
    try:
        import jax
        versions["jax"] = jax.__version__
        out[JAXE] = _setup_jax(args, v, jit=False)
        out[JAXJ] = _setup_jax(args, v, jit=True)
    except ImportError:
        print("JAX is not installed: skipped (pip install jax)")
    try:
        import torch
        versions["torch"] = torch.__version__
        out[TORCH] = _setup_torch(args, v)
        out[TFUNC] = _setup_torch_func(args, v)
    except ImportError:
        print("PyTorch is not installed: skipped (pip install torch==2.13.0)")
    return out, versions


def _rel(a, b):
    num = np.sqrt(sum(np.sum((x - y) ** 2) for x, y in zip(a, b)))
    den = np.sqrt(sum(np.sum(y ** 2) for y in b))
    return float(num / den)


def _check(methods, args, v):
    """Drop (with the reason) every method whose gradient or HVP disagrees."""
    g_ref = methods[S2SAD][2](methods[S2SAD][0]())
    h_ref = methods[S2SAD][2](methods[S2SAD][1]())
    # central difference of s2sad's gradient along v
    g = s2sad.grad(mlp_loss, wrt=tuple(range(NP)))
    eps = 1e-5
    plus = g(*(a + eps * t for a, t in zip(args[:NP], v)), *args[NP:])
    minus = g(*(a - eps * t for a, t in zip(args[:NP], v)), *args[NP:])
    fd = tuple((p - m) / (2 * eps) for p, m in zip(plus, minus))
    err_fd = _rel(h_ref, fd)
    print(f"s2sad HVP against a central difference of the gradient: relative error {err_fd:.1e}")
    failed = {}
    if err_fd > 1e-5:
        failed[S2SAD] = f"HVP differs from finite differences ({err_fd:.1e})"
    for name, (gf, hf, conv) in methods.items():
        if name == S2SAD:
            continue
        try:
            eg, eh = _rel(conv(gf()), g_ref), _rel(conv(hf()), h_ref)
        except Exception as e:          # noqa: BLE001 - report and skip
            failed[name] = f"{type(e).__name__}: {e}"
            continue
        print(f"{name}: gradient vs s2sad {eg:.1e}, HVP vs s2sad {eh:.1e}")
        if eg > 1e-9 or eh > 1e-9:
            failed[name] = f"disagrees with s2sad (gradient {eg:.1e}, HVP {eh:.1e})"
    return failed


def _time_one(fn, sample):
    """Seconds per call: back-to-back calls filling ``sample`` seconds."""
    gc_was = gc.isenabled()
    gc.disable()
    try:
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            t = time.perf_counter() - t0
            if t >= sample:
                return t / n
    finally:
        if gc_was:
            gc.enable()


def run(rounds, sample):
    args = make_inputs("mlp")
    rng = np.random.default_rng(1)
    v = tuple(rng.standard_normal(a.shape) for a in args[:NP])
    methods, versions = _methods(args, v)
    first = {}
    for name, (gf, hf, _) in methods.items():      # warm up: codegen, tracing, jit compilation
        t0 = time.perf_counter()
        gf()
        t1 = time.perf_counter()
        hf()
        first[name] = (t1 - t0, time.perf_counter() - t1)
    failed = _check(methods, args, v)
    names = [n for n in methods if n not in failed]
    ratios = {n: [] for n in names}
    tg = {n: [] for n in names}
    th = {n: [] for n in names}
    primal = []
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        primal.append(_time_one(lambda: mlp_loss(*args), sample))
        for n in order:
            gf, hf, _ = methods[n]
            if r % 2:
                b = _time_one(hf, sample)
                a = _time_one(gf, sample)
            else:
                a = _time_one(gf, sample)
                b = _time_one(hf, sample)
            tg[n].append(a)
            th[n].append(b)
            ratios[n].append(b / a)
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{n} {ratios[n][-1]:.2f}" for n in names), flush=True)
    p = statistics.median(primal)
    rows = []
    for n in names:
        rows.append((n, statistics.median(tg[n]), statistics.median(th[n]), statistics.median(ratios[n]),
                     min(ratios[n]), max(ratios[n])))
    return rows, failed, p, versions, first


def table(rows, failed, primal, versions, first, rounds, sample):
    d0, d1, d2, d3 = MLP_SIZES
    lines = [
        f"MLP {d0}-{d1}-{d2}-{d3}, tanh, batch {MLP_BATCH}, mean softmax cross-entropy, float64, "
        f"gradient and HVP with respect to all six weight and bias arrays; one thread; "
        f"median of {rounds} rounds of {sample:g} s per measurement; NumPy primal "
        f"{primal * 1e3:.1f} ms.",
        "",
        "| framework | HVP method | gradient (ms) | HVP (ms) | **HVP / gradient** | range over rounds |"
        " first call: grad / HVP (s) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for n, g, h, r, lo, hi in rows:
        fg, fh = first[n]
        lines.append(f"| {n} | {HOW[n]} | {g * 1e3:.1f} | {h * 1e3:.1f} | **{r:.2f}** | {lo:.2f}–{hi:.2f} |"
                     f" {fg:.2f} / {fh:.2f} |")
    for n, why in failed.items():
        lines.append(f"| {n} | {HOW[n]} | — | — | failed: {why} | | |")
    lines.append("")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) +
                 f"; Python {platform.python_version()}, {platform.machine()}.")
    return "\n".join(lines)


BEGIN, END = "<!-- hvp-results:begin -->", "<!-- hvp-results:end -->"


def write_doc(path, text):
    if not os.path.exists(path):
        print(f"{path} does not exist: table not written")
        return
    doc = open(path).read()
    if BEGIN not in doc or END not in doc:
        print(f"{path} has no {BEGIN} ... {END} markers: table not written")
        return
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as fh:
        fh.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    print(f"wrote the table into {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer, shorter rounds (~30 s)")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--sample", type=float, default=None, help="seconds per measurement")
    p.add_argument("--no-write", action="store_true", help="print only; do not touch docs/")
    p.add_argument("--doc", action="append", default=None,
                   help="a page with the hvp-results markers to write the table into (repeatable; "
                        "default docs/forward.md)")
    a = p.parse_args(argv)
    rounds = a.rounds or (3 if a.quick else 9)
    sample = a.sample or (0.25 if a.quick else 0.6)
    rows, failed, primal, versions, first = run(rounds, sample)
    text = table(rows, failed, primal, versions, first, rounds, sample)
    print()
    print(text)
    s = [r for r in rows if r[0] == S2SAD]
    if s:
        verdict = "meets" if s[0][3] <= 4.0 else "MISSES"
        print(f"\ns2sad HVP / gradient = {s[0][3]:.2f}: {verdict} the target of 4.")
    if not a.no_write:
        for doc in a.doc or [os.path.join(ROOT, "docs", "forward.md")]:
            write_doc(doc, text)


if __name__ == "__main__":
    main()
