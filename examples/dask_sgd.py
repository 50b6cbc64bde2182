#!/usr/bin/env python
"""Out-of-core, data-parallel SGD on Dask: logistic regression on 8 GB of
synthetic rows that are never all in memory, on a 2-worker LocalCluster
(or any Dask cluster: ``--scheduler HOST:8786``, no code change).

    python examples/dask_sgd.py                 # about 1.5 min: 32M rows x 32 (8.2 GB), one epoch
    python examples/dask_sgd.py --quick         # about 5 s: 400k rows, threads cluster, no plot
    python examples/dask_sgd.py --scheduler tcp://scheduler:8786   # a real cluster
    python examples/dask_sgd.py --no-plot
    python examples/dask_sgd.py --out DIR       # the loss curve in DIR instead of ./out/

(Run times measured on a shared 2-core machine.)

The data is ``da.random`` (32 float64 features, chunks of 500,000 rows =
128 MB) with labels from a hidden linear model plus noise: each chunk is
generated on a worker when it is needed, and dropped after.
``s2sad.dask.minibatches`` visits the chunks in a random order, two at a
time (persisted on the workers: one chunk per worker, its labels computed
beside it), and shuffles the rows of each pair into mini-batches; each
step's gradient is ``s2sad.dask.data_parallel(loss)``: s2sad's NumPy
gradient of each chunk's share of the batch, run on the worker that holds
it, summed by a tree reduction, and only the 33 gradient numbers come
back to the driver.

It prints a progress line every 20 steps (the Dask dashboard shows the
tasks live when bokeh is installed), checks the first step's gradient
against ``s2sad.grad(loss)`` run on the same Dask arrays (the generic
path, exact for any loss), and ends with the throughput (rows per second,
data generation included) and each worker's peak memory (its process's
maximum resident set, from the OS).  The loss curve goes to
``out/scale_dask_sgd.png`` (``examples/make_figures.py`` writes the copy
in ``docs/img/``).  Needs Dask (``pip install ".[dask]"``); matplotlib for
the plot.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import numpy as np

import s2sad
from example_support import pyplot_or_note  # noqa: E402 (examples/ is on the path)

FIGURE = "scale_dask_sgd.png"     # written into --out (docs/img/ by examples/make_figures.py)
D = 32


def loss(W, b, X, y):
    """Mean logistic loss of the rows of X (labels y in {0, 1})."""
    z = X @ W + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def make_data(rows, chunk, seed=0):
    """8 GB that exist only as a recipe: rows are generated per chunk, on a worker."""
    import dask.array as da
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(D) / np.sqrt(D) * 3.0
    X = da.random.default_rng(seed + 1).standard_normal((rows, D), chunks=(chunk, D))
    noise = da.random.default_rng(seed + 2).standard_normal(rows, chunks=chunk)
    y = (X @ w_true + 0.5 * noise > 0).astype(float)
    return X, y


def peak_rss_mb():
    """This process's peak resident memory so far (MB): run on each worker."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # KiB on Linux


def rss_mb():
    """This process's resident memory now (MB)."""
    import psutil
    return psutil.Process().memory_info().rss / 2**20


def train(X, y, batch, lr, epochs, log_every=20):
    """Plain SGD; the same code whatever cluster the current Client is on."""
    step_grad = s2sad.dask.data_parallel(loss, wrt=(0, 1))
    W, b = np.zeros(D), 0.0
    losses, rows_done = [], 0
    n_windows = -(-X.numblocks[0] // 2)
    t0 = time.perf_counter()
    for step, (Xb, yb) in enumerate(s2sad.dask.minibatches(X, y, batch, seed=0, epochs=epochs, window=2)):
        value, (gW, gb) = step_grad.value_and_grad(W, b, Xb, yb)
        if step == 0:     # the generic path (one graph of Dask's own operations) agrees
            rW, rb = s2sad.grad(loss, wrt=(0, 1))(W, b, Xb, yb)
            assert np.abs(rW - gW).max() < 1e-10 and abs(rb - gb) < 1e-10, "gradients disagree"
        W, b = W - lr * gW, b - lr * gb
        losses.append(value)
        rows_done += Xb.shape[0]
        if step % log_every == 0:
            el = time.perf_counter() - t0
            print(f"  step {step:4d}  rows {rows_done / 1e6:7.2f}M of {epochs * X.shape[0] / 1e6:.1f}M "
                  f"({n_windows} windows of 2 chunks per epoch)  loss {value:.4f}  "
                  f"{rows_done / max(el, 1e-9) / 1e6:.2f}M rows/s  {el:5.0f} s", flush=True)
    return W, b, np.array(losses), rows_done, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="400,000 rows on a threads cluster, no plot")
    p.add_argument("--rows", type=int, default=None, help="rows of data (default 32,000,000: 8.2 GB)")
    p.add_argument("--chunk", type=int, default=500_000, help="rows per chunk (default 500,000: 128 MB)")
    p.add_argument("--batch", type=int, default=100_000, help="rows per SGD step")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://host:8786); default: a 2-worker LocalCluster here")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"folder for the plot {FIGURE} (default ./out/; with --quick, no plot unless given)")
    a = p.parse_args(argv)
    try:
        import dask  # noqa: F401
        from distributed import Client, LocalCluster
    except ImportError:
        print('dask not installed: skipping (pip install ".[dask]")')
        return
    quick = a.quick
    rows = a.rows or (400_000 if quick else 32_000_000)
    chunk, batch = (min(a.chunk, 50_000), min(a.batch, 20_000)) if quick else (a.chunk, a.batch)
    if a.scheduler:
        cluster, client = None, Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=not quick, memory_limit="3GiB",
                               dashboard_address=":0" if _has_bokeh() else None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        X, y = make_data(rows, chunk)
        workers = len(client.scheduler_info()["workers"])
        print(f"{rows:,} rows x {D} float64 = {X.nbytes / 1e9:.1f} GB in {X.numblocks[0]} chunks of "
              f"{chunk:,} rows ({X.nbytes / X.numblocks[0] / 2**20:.0f} MiB); {workers} workers"
              + (f"; dashboard {client.dashboard_link}" if _has_bokeh() else ""), flush=True)
        separate = cluster is None or not quick       # worker processes of their own
        idle = client.run(rss_mb) if separate else {}
        W, b, losses, done, seconds = train(X, y, batch, a.lr, a.epochs)
        peaks = client.run(peak_rss_mb) if separate else {}
        print(f"{len(losses)} steps, {done:,} rows in {seconds:.1f} s: {done / seconds / 1e6:.2f}M rows/s "
              f"(data generation included)")
        for w, mb in sorted(peaks.items()):
            print(f"  worker {w}: peak memory {mb:.0f} MiB (idle before training: {idle[w]:.0f} MiB; "
                  f"one chunk: {X.nbytes / X.numblocks[0] / 2**20:.0f} MiB)")
        print(f"  driver (this process): peak memory {peak_rss_mb():.0f} MiB")
        print(f"loss {losses[0]:.4f} -> {np.mean(losses[-10:]):.4f} (mean of the last 10 batches)")
        assert np.mean(losses[-10:]) < 0.75 * losses[0], "SGD did not learn"
        out = a.out or (None if quick else "out")
        if out and not a.no_plot:
            _plot(losses, batch, out, f"{rows:,} rows ({X.nbytes / 1e9:.1f} GB), {workers} workers, "
                                      f"{done / seconds / 1e6:.2f}M rows/s")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _has_bokeh():
    try:
        import bokeh  # noqa: F401
        return True
    except ImportError:
        return False


def _plot(losses, batch, out_dir, title):
    plt = pyplot_or_note()
    if plt is None:
        return
    os.makedirs(out_dir, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    steps = np.arange(len(losses))
    ax.plot(steps, losses, lw=0.8, color="tab:blue", alpha=0.5, label="mini-batch loss")
    k = min(10, len(losses))
    ax.plot(steps[k - 1:], np.convolve(losses, np.ones(k) / k, "valid"), color="tab:blue", label=f"mean of {k}")
    ax.set_xlabel(f"SGD step ({batch:,} rows each)")
    ax.set_ylabel("logistic loss")
    ax.set_title(title, fontsize=9)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, FIGURE)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
