"""Gradient throughput on a 2-worker Dask LocalCluster against single-process NumPy (issue #19).

The same data (``--rows`` x 32 float64, generated once with ``da.random``)
is held twice: in the driver as one NumPy array, and persisted on the
workers of a ``LocalCluster`` in ``--chunks`` chunks along the examples.
Each round times, one after the other, the s2sad gradient of the same
loss on:

* NumPy in this process, 1 BLAS thread (its planned variant, the fastest
  s2sad has), and with 2 BLAS threads (every core of the machine);
* the cluster with 1 worker of 1 thread, and with 2 workers of 1 thread
  each (Dask's nannies set ``OMP_NUM_THREADS=1`` in the workers), two
  ways: ``s2sad.grad(f)`` called on the Dask arrays (the generated code
  builds one graph of Dask's own operations), and
  ``s2sad.dask.data_parallel(f)`` (s2sad's NumPy gradient of each chunk,
  run on the workers, summed by a tree reduction).  A call builds the
  graph in the driver, computes it on the workers and brings the NumPy
  gradients back; everything is in the time.

Ratios are taken within a round (the machine is shared), medians over
rounds are reported.  Writes its table into ``docs/scale.md`` between the
``dask-scale-results`` markers.

    pip install ".[dask]" && python bench/dask_scale.py          # about 2 minutes
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import s2sad  # noqa: E402


def logistic(W, b, X, y):
    z = X @ W + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def mlp(W1, b1, w2, X, y):
    h = np.tanh(X @ W1 + b1)
    r = h @ w2 - y
    return 0.5 * np.sum(r * r) / X.shape[0]


def models(d, rng):
    return {
        "logistic regression (32 → 1)": (logistic, (0, 1), (rng.standard_normal(d) * 0.1, 0.1)),
        "MLP (32 → 64 tanh → 1)": (mlp, (0, 1, 2), (rng.standard_normal((d, 64)) * 0.2, np.zeros(64),
                                                    rng.standard_normal(64) * 0.2)),
    }


def _time(fn, reps=1):
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    opts = ap.parse_args(argv)
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster
    from threadpoolctl import threadpool_limits

    n, d = opts.rows, 32
    X = da.random.default_rng(1).standard_normal((n, d), chunks=(n // opts.chunks, d))
    y = (da.random.default_rng(2).random(n, chunks=n // opts.chunks) < 0.5).astype(float)
    print(f"data: {n:,} x {d} float64 ({X.nbytes / 2**20:.0f} MiB) in {X.numblocks[0]} chunks", flush=True)
    Xn, yn = dask.compute(X, y, scheduler="threads")
    rng = np.random.default_rng(0)
    clusters = {}
    for workers in (1, 2):
        lc = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR)
        client = Client(lc, set_as_default=False)
        client.wait_for_workers(workers)
        # the same numbers, generated on the workers (da.random is deterministic per chunk)
        Xc, yc = client.persist([X, y])
        client.compute([Xc.sum(), yc.sum()], sync=True)
        clusters[workers] = (lc, client, Xc, yc)
        print(f"cluster of {workers} worker(s): data persisted on the workers", flush=True)

    rows = []
    try:
        for title, (f, wrt, params) in models(d, rng).items():
            df = s2sad.grad(f, wrt=wrt)
            ref = df(*params, Xn, yn)
            df(*params, Xn, yn)                       # planned from here on
            methods = {}
            for t in (1, 2):
                def numpy_run(t=t):
                    with threadpool_limits(t):
                        return df(*params, Xn, yn)
                methods[f"NumPy, 1 process, {t} BLAS thread{'s' if t > 1 else ''}"] = numpy_run
            for w, (_, client, Xc, yc) in clusters.items():
                def dask_run(client=client, Xc=Xc, yc=yc):
                    with dask.config.set(scheduler=client):
                        return df(*params, Xc, yc)
                methods[f"`grad(f)` on Dask arrays, {w} worker{'s' if w > 1 else ''} x 1 thread"] = dask_run
            dp = s2sad.dask.data_parallel(f, wrt=wrt)
            for w, (_, client, Xc, yc) in clusters.items():
                def dp_run(client=client, Xc=Xc, yc=yc):
                    with dask.config.set(scheduler=client):
                        return dp(*params, Xc, yc)
                methods[f"`dask.data_parallel(f)`, {w} worker{'s' if w > 1 else ''} x 1 thread"] = dp_run
            for name, fn in methods.items():          # every method agrees with the in-memory gradient
                fn()                                  # (and has planned its NumPy code, wherever it runs)
                got = fn()
                err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(got, ref))
                assert err < 1e-10, (name, err)
            base = "NumPy, 1 process, 1 BLAS thread"
            times = {k: [] for k in methods}
            for r in range(opts.rounds):
                for name, fn in methods.items():
                    times[name].append(_time(fn))
                print(f"  {title} round {r + 1}/{opts.rounds}: "
                      + ", ".join(f"{k.split(',')[0]} {times[k][-1]:.3f}s" for k in methods), flush=True)
            for name in methods:
                t = statistics.median(times[name])
                ratio = statistics.median(b / m for b, m in zip(times[base], times[name]))
                rows.append(f"| {title} | {name} | {t * 1e3:.0f} ms | {n / t / 1e6:.2f} M | {ratio:.2f}x |")
                print(rows[-1], flush=True)
    finally:
        for lc, client, _, _ in clusters.values():
            client.close()
            lc.close()
    import distributed
    meta = (f"Measured by `python bench/dask_scale.py` on {time.strftime('%Y-%m-%d')}: {n:,} rows x {d} "
            f"float64 ({X.nbytes / 2**20:.0f} MiB) in {X.numblocks[0]} chunks of {n // opts.chunks:,} rows, "
            f"{os.cpu_count()} CPU cores (shared), numpy {np.__version__}, dask {dask.__version__}, "
            f"distributed {distributed.__version__}. Throughput is rows of the gradient per second; the ratio "
            f"is throughput over single-process NumPy with 1 BLAS thread, taken within each of {opts.rounds} "
            "rounds (median). Each Dask time includes building the graph in the driver, scheduling, the "
            "workers' compute and bringing the NumPy gradients back.")
    table = "\n".join(["| model | run | time / gradient | rows/s | throughput / NumPy 1 thread |",
                       "| --- | --- | ---: | ---: | ---: |"] + rows)
    block = meta + "\n\n" + table
    print("\n" + block)
    if not opts.no_write:
        _write(os.path.join(ROOT, "docs", "scale.md"), block)


def _write(path, block):
    begin, end = "<!-- dask-scale-results:begin -->", "<!-- dask-scale-results:end -->"
    text = open(path).read() if os.path.exists(path) else ""
    if begin in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + begin + "\n" + block + "\n" + end + tail
    else:
        text = text.rstrip() + "\n\n## Throughput\n\n" + begin + "\n" + block + "\n" + end + "\n"
    with open(path, "w") as fh:
        fh.write(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
