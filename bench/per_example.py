#!/usr/bin/env python
"""Per-example gradients: ``vmap(grad(f))`` against the alternatives.

    python bench/per_example.py             # about a minute on 2 cores
    python bench/per_example.py --quick     # about 20 seconds
    python bench/per_example.py --no-write  # print only

Two models, each differentiated per example with respect to all its
weights (float64, one thread):

* MLP: the W1 network of ``bench/workloads.py`` (784-512-512-10, tanh,
  softmax cross-entropy of one label), a batch of 32 examples: 32
  gradients of 669,706 numbers each;
* RNN: a tanh RNN (hidden 64, input 32) over a sequence of 50 steps, the
  squared error of its last state; a batch of 32 sequences.

Rows (all return the per-example gradients, checked against s2sad's one
call per example before timing):

* s2sad ``vmap(grad(f))``: the batched gradient, generated code (planned
  after its first call: temporaries in reused buffers);
* the same writing into ``out=`` arrays (a steady call allocates no array);
* s2sad, one call per example: ``grad(f)`` in a Python loop;
* hand-batched NumPy: the per-example adjoint written by hand over the
  batch (outer products for the weights);
* autograd, one call per example;
* JAX ``jit(vmap(grad(f)))``;
* PyTorch ``torch.func.vmap(torch.func.grad(f))``.

Timing as in ``bench/run.py``: each round times every method once (as many
back-to-back calls as fill ``--sample`` seconds) in a rotating order, the
ratio to the hand-batched adjoint is taken within the round, and the
median over rounds is reported.  The table is written into
``docs/vmap.md`` and ``docs/performance.md`` between the
``per-example-results`` markers.
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

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sad  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import MLP_SIZES  # noqa: E402

BATCH = 32
RNN_H, RNN_D, RNN_T = 64, 32, 50


# ---------------------------------------------------------------- the models (one example)

def mlp_example(W1, b1, W2, b2, W3, b3, x, y):
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) + m - z[y]


def rnn_example(W, U, b, xs, target):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum((h - target) ** 2)


def mlp_inputs(rng):
    sizes = MLP_SIZES
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(size=(a, b)) / np.sqrt(a), np.zeros(b)]
    X = rng.normal(size=(BATCH, sizes[0]))
    y = rng.integers(0, sizes[-1], size=BATCH)
    return tuple(params) + (X, y)


def rnn_inputs(rng):
    W = 0.9 * rng.normal(size=(RNN_H, RNN_H)) / np.sqrt(RNN_H)
    U = rng.normal(size=(RNN_H, RNN_D)) / np.sqrt(RNN_D)
    b = np.zeros(RNN_H)
    XS = rng.normal(size=(BATCH, RNN_T, RNN_D))
    T = rng.normal(size=(BATCH, RNN_H))
    return (W, U, b, XS, T)


# ---------------------------------------------------------------- hand-batched adjoints

def mlp_hand(W1, b1, W2, b2, W3, b3, X, y):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gz = p
    gz[np.arange(len(y)), y] -= 1.0
    ga2 = (gz @ W3.T) * (1.0 - h2 * h2)
    ga1 = (ga2 @ W2.T) * (1.0 - h1 * h1)
    return (X[:, :, None] * ga1[:, None, :], ga1, h1[:, :, None] * ga2[:, None, :], ga2,
            h2[:, :, None] * gz[:, None, :], gz)


def rnn_hand(W, U, b, XS, T):
    B, steps, _ = XS.shape
    hs = [np.zeros((B, W.shape[0]))]
    for t in range(steps):
        hs.append(np.tanh(hs[-1] @ W.T + XS[:, t] @ U.T + b))
    gh = 2.0 * (hs[-1] - T)
    gW, gU, gb = np.zeros((B,) + W.shape), np.zeros((B,) + U.shape), np.zeros((B,) + b.shape)
    for t in range(steps - 1, -1, -1):
        ga = gh * (1.0 - hs[t + 1] ** 2)
        gW += ga[:, :, None] * hs[t][:, None, :]
        gU += ga[:, :, None] * XS[:, t][:, None, :]
        gb += ga
        gh = ga @ W
    return gW, gU, gb


MODELS = {
    "mlp": dict(title=f"MLP {'-'.join(map(str, MLP_SIZES))}, tanh, batch {BATCH}", f=mlp_example,
                inputs=mlp_inputs, hand=mlp_hand, nparams=6),
    "rnn": dict(title=f"RNN hidden {RNN_H}, input {RNN_D}, {RNN_T} steps, batch {BATCH}", f=rnn_example,
                inputs=rnn_inputs, hand=rnn_hand, nparams=3),
}


# ---------------------------------------------------------------- the methods

def methods_for(key, args):
    m = MODELS[key]
    f, k = m["f"], m["nparams"]
    wrt = tuple(range(k))
    axes = (None,) * k + (0,) * (len(args) - k)
    out = {}
    pe = s2sad.vmap(s2sad.grad(f, wrt=wrt), in_axes=axes)
    out["s2sad `vmap(grad(f))`"] = lambda: pe(*args)
    pe_out = s2sad.vmap(s2sad.grad(f, wrt=wrt), in_axes=axes)
    outs = tuple(np.empty_like(r) for r in pe_out(*args))
    out["s2sad `vmap(grad(f))`, `out=` arrays"] = lambda: pe_out(*args, out=outs)
    g = s2sad.grad(f, wrt=wrt)
    n = args[k].shape[0]
    lanes = [args[:k] + tuple(a[i] for a in args[k:]) for i in range(n)]

    def loop():
        return [g(*ln) for ln in lanes]
    out["s2sad, one `grad(f)` call per example"] = loop
    out["hand-batched NumPy adjoint"] = lambda: m["hand"](*args)
    versions = {"numpy": np.__version__}
    try:
        import autograd
        import autograd.numpy as anp
        import importlib.metadata
        versions["autograd"] = importlib.metadata.version("autograd")
        af = _autograd_model(key, anp)
        ag = autograd.grad(af, wrt)
        out["autograd, one call per example"] = lambda: [ag(*ln) for ln in lanes]
    except ImportError:
        print("autograd is not installed: skipped")
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        versions["jax"] = jax.__version__
        jf = _jax_model(key, jnp, jax)
        jg = jax.jit(jax.vmap(jax.grad(jf, wrt), in_axes=axes))
        jargs = tuple(jnp.asarray(a) for a in args)
        out["JAX `jit(vmap(grad(f)))`"] = lambda: jax.block_until_ready(jg(*jargs))
    except ImportError:
        print("JAX is not installed: skipped")
    try:
        import torch
        from torch.func import grad as tgrad, vmap as tvmap
        torch.set_num_threads(1)
        versions["torch"] = torch.__version__
        tf = _torch_model(key, torch)
        tg = tvmap(tgrad(tf, argnums=wrt), in_dims=axes)
        targs = tuple(torch.tensor(a) for a in args)
        out["PyTorch `torch.func.vmap(grad(f))`"] = lambda: tg(*targs)
    except ImportError:
        print("PyTorch is not installed: skipped")
    return out, versions


def _autograd_model(key, anp):
    if key == "mlp":
        def f(W1, b1, W2, b2, W3, b3, x, y):
            h1 = anp.tanh(anp.dot(x, W1) + b1)
            h2 = anp.tanh(anp.dot(h1, W2) + b2)
            z = anp.dot(h2, W3) + b3
            m = anp.max(z)
            return anp.log(anp.sum(anp.exp(z - m))) + m - z[y]
        return f

    def f(W, U, b, xs, target):
        h = anp.zeros(W.shape[0])
        for t in range(xs.shape[0]):
            h = anp.tanh(anp.dot(W, h) + anp.dot(U, xs[t]) + b)
        return anp.sum((h - target) ** 2)
    return f


def _jax_model(key, jnp, jax):
    if key == "mlp":
        def f(W1, b1, W2, b2, W3, b3, x, y):
            h1 = jnp.tanh(x @ W1 + b1)
            h2 = jnp.tanh(h1 @ W2 + b2)
            z = h2 @ W3 + b3
            m = jnp.max(z)
            return jnp.log(jnp.sum(jnp.exp(z - m))) + m - z[y]
        return f

    def f(W, U, b, xs, target):
        def step(h, x):
            return jnp.tanh(W @ h + U @ x + b), None
        h, _ = jax.lax.scan(step, jnp.zeros(W.shape[0]), xs)
        return jnp.sum((h - target) ** 2)
    return f


def _torch_model(key, torch):
    if key == "mlp":
        def f(W1, b1, W2, b2, W3, b3, x, y):
            h1 = torch.tanh(x @ W1 + b1)
            h2 = torch.tanh(h1 @ W2 + b2)
            z = h2 @ W3 + b3
            m = torch.max(z)
            return torch.log(torch.sum(torch.exp(z - m))) + m - torch.gather(z, 0, y.reshape(1))[0]
        return f

    def f(W, U, b, xs, target):
        h = torch.zeros(W.shape[0], dtype=W.dtype)
        for t in range(xs.shape[0]):
            h = torch.tanh(W @ h + U @ xs[t] + b)
        return torch.sum((h - target) ** 2)
    return f


def _as_numpy(res):
    """Per-example gradients as a list of (B, ...) arrays, whatever the layout."""
    if isinstance(res, list):          # one call per example
        return [np.stack([np.asarray(r[k]) for r in res]) for k in range(len(res[0]))]
    return [np.asarray(r.detach().numpy() if hasattr(r, "detach") else r) for r in res]


def check(methods, ref_name):
    ref = _as_numpy(methods[ref_name]())
    bad = []
    for name, fn in methods.items():
        got = _as_numpy(fn())
        err = max(float(np.max(np.abs(a - b)) / (1.0 + np.max(np.abs(b)))) for a, b in zip(got, ref))
        if err > 1e-8:
            print(f"  {name}: differs from s2sad's per-example calls by {err:.1e}: dropped")
            bad.append(name)
    for name in bad:
        del methods[name]


def measure(methods, base, rounds, sample_s):
    names = list(methods)
    times = {n: [] for n in names}
    ratios = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        this = {}
        for n in order:
            fn = methods[n]
            k, t0 = 0, time.perf_counter()
            while True:
                fn()
                k += 1
                el = time.perf_counter() - t0
                if el >= sample_s:
                    break
            this[n] = el / k
        for n in names:
            times[n].append(this[n])
            ratios[n].append(this[n] / this[base])
    return {n: (statistics.median(times[n]), statistics.median(ratios[n])) for n in names}


def _fmt_t(s):
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--sample", type=float, default=None)
    opts = ap.parse_args(argv)
    rounds = 3 if opts.quick else 7
    sample = opts.sample or (0.15 if opts.quick else 0.4)
    rng = np.random.default_rng(0)
    lines = ["| model | method | time | / hand-batched |", "| --- | --- | ---: | ---: |"]
    versions = {}
    for key, m in MODELS.items():
        args = m["inputs"](rng)
        methods, versions = methods_for(key, args)
        print(f"{m['title']}: checking {len(methods)} methods")
        check(methods, "s2sad, one `grad(f)` call per example")
        res = measure(methods, "hand-batched NumPy adjoint", rounds, sample)
        for name, (t, ratio) in res.items():
            lines.append(f"| {m['title']} | {name} | {_fmt_t(t)} | {ratio:.2f}x |")
            print(f"  {name:45s} {_fmt_t(t):>10s} {ratio:6.2f}x")
    table = "\n".join(lines)
    meta = (f"Measured by `python bench/per_example.py{' --quick' if opts.quick else ''}` on "
            f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPU cores, one thread, float64; "
            + ", ".join(f"{k} {v}" for k, v in versions.items()) + ". Times are medians over rounds; "
            "ratios are taken within each round.")
    block = meta + "\n\n" + table
    print("\n" + block)
    if not opts.no_write:
        for doc in ("vmap.md", "performance.md"):
            _write(os.path.join(ROOT, "docs", doc), block)


def _write(path, block):
    begin, end = "<!-- per-example-results:begin -->", "<!-- per-example-results:end -->"
    text = open(path).read() if os.path.exists(path) else ""
    if begin in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + begin + "\n" + block + "\n" + end + tail
    else:
        text = text.rstrip() + "\n\n## Per-example gradients\n\n" + begin + "\n" + block + "\n" + end + "\n"
    with open(path, "w") as fh:
        fh.write(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
