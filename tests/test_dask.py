"""Dask arrays as data (issue #19): gradients over sharded data, one graph
per call, NumPy gradients for NumPy parameters, clear refusals.

The default run uses Dask's synchronous scheduler on small arrays (about a
second in all); the tests on a two-process ``LocalCluster`` (400,000 x 32
rows in 8 chunks) are marked slow and run with ``-m slow`` (CI's dask
step).  Everything skips when Dask is not installed (the README's test
command installs only ``.[test]``).
"""

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import s2sad

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def logistic(W, b, X, y):
    z = X @ W + b
    return np.mean(np.logaddexp(0.0, z) - y * z)


def logistic_hand(W, b, X, y):
    """The gradient of ``logistic`` written by hand (an independent oracle)."""
    z = X @ W + b
    r = (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0]
    return X.T @ r, float(np.sum(r))


def mlp(W1, b1, w2, X, y):
    h = np.tanh(X @ W1 + b1)
    r = h @ w2 - y
    return 0.5 * np.sum(r * r) / X.shape[0]


def squares(x, X):
    return np.sum((X - x) ** 2)


def ck(w, X, y):
    h = X @ w
    for t in s2sad.checkpointed(range(4), snapshots=2):
        h = np.tanh(h) * 0.9 + 0.1 * h
    return np.sum((h - y) ** 2)


def rv(w, X, y):
    h = X @ w
    z = y * 1.0
    for t in s2sad.reversible(range(4)):
        z = 0.5 * z + np.tanh(h)
    return np.sum(z ** 2)


def _data(n=4000, d=8, chunk=500, seed=0):
    rng = np.random.default_rng(seed)
    Xn = rng.standard_normal((n, d))
    yn = (rng.random(n) < 0.5).astype(float)
    return Xn, yn, da.from_array(Xn, chunks=(chunk, d)), da.from_array(yn, chunks=chunk)


@pytest.fixture
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


def _computes():
    """A callback counting graph executions and recording each task's result size."""
    from dask.callbacks import Callback

    class C(Callback):
        def __init__(self):
            super().__init__()
            self.runs, self.sizes = 0, {}

        def _start(self, dsk):
            self.runs += 1

        def _posttask(self, key, result, dsk, state, id):
            name = key[0] if isinstance(key, tuple) else key
            self.sizes[key] = (str(name), int(getattr(result, "nbytes", 0)))
    return C()


def test_numpy_parameters_get_numpy_gradients_in_one_graph(sync):
    Xn, yn, X, y = _data()
    W, b = np.linspace(-0.3, 0.3, 8), 0.1
    df = s2sad.grad(logistic, wrt=(0, 1))
    with _computes() as c:
        gW, gb = df(W, b, X, y)
    assert c.runs == 1                       # one graph for both gradients
    assert type(gW) is np.ndarray and type(gb) is float
    hW, hb = logistic_hand(W, b, Xn, yn)
    nW, nb = df(W, b, Xn, yn)
    np.testing.assert_allclose(gW, hW, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gW, nW, rtol=0, atol=1e-12)
    assert abs(gb - hb) < 1e-12 and abs(gb - nb) < 1e-12
    # the value too, in the same graph
    vg = s2sad.value_and_grad(logistic, wrt=(0, 1))
    with _computes() as c:
        v, (gW2, gb2) = vg(W, b, X, y)
    assert c.runs == 1 and abs(v - logistic(W, b, Xn, yn)) < 1e-12
    np.testing.assert_allclose(gW2, hW, rtol=0, atol=1e-12)


def test_a_call_on_dask_inputs_lets_them_go_at_once(sync):
    # without waiting for Python's cyclic GC: data persisted on workers (a window of
    # minibatches) would stay there until the next full collection
    import gc
    import weakref
    X = (da.arange(4000, chunks=1000).astype(float)[:, None] * np.ones(4)).persist()
    y = da.zeros(4000, chunks=1000)
    chunk = next(v for v in dict(X.__dask_graph__()).values() if isinstance(v, np.ndarray))
    alive = weakref.ref(chunk)
    del chunk
    gc.disable()
    try:
        gW, gb = s2sad.grad(logistic, wrt=(0, 1))(np.zeros(4), 0.0, X, y)
        del X
        assert alive() is None
    finally:
        gc.enable()
    assert type(gW) is np.ndarray and type(gb) is float


def test_dask_inputs_keep_lazy_gradients_and_float32(sync):
    Xn, yn, X, y = _data(n=600, d=3, chunk=200)
    x = np.float32([0.5, -1.0, 2.0])
    df = s2sad.grad(squares, wrt=(0, 1))
    gx, gX = df(x, X.astype(np.float32))
    assert type(gx) is np.ndarray and gx.dtype == np.float32
    assert dask.is_dask_collection(gX) and gX.chunks == X.chunks and gX.dtype == np.float32
    np.testing.assert_allclose(gx, 2 * np.sum(x - Xn.astype(np.float32), axis=0), rtol=1e-5)
    np.testing.assert_allclose(gX.compute(), 2 * (Xn.astype(np.float32) - x), rtol=1e-5)
    # an MLP: three NumPy parameters, one graph
    rng = np.random.default_rng(1)
    W1, b1, w2 = rng.standard_normal((3, 5)) * 0.3, np.zeros(5), rng.standard_normal(5) * 0.3
    dm = s2sad.grad(mlp, wrt=(0, 1, 2))
    with _computes() as c:
        gs = dm(W1, b1, w2, X, y)
    assert c.runs == 1 and all(type(g) is np.ndarray for g in gs)
    for g, r in zip(gs, dm(W1, b1, w2, Xn, yn)):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)


def test_partial_gradients_are_tree_reduced_and_small(sync):
    d = 8
    Xn, yn, X, y = _data(n=8000, d=d, chunk=500)      # 16 chunks of 32 kB
    df = s2sad.grad(logistic, wrt=(0, 1))
    with dask.config.set(split_every=4), _computes() as c:
        gW, _ = df(np.zeros(d), 0.0, X, y)
    reduce_tasks = [s for name, s in c.sizes.values() if "partial" in name or "aggregate" in name]
    assert len(reduce_tasks) >= 4                      # 16 partials combined 4 at a time, then 4 → 1
    assert max(reduce_tasks) <= 8 * d * 4              # each a parameter-sized partial, not rows
    np.testing.assert_allclose(gW, logistic_hand(np.zeros(d), 0.0, Xn, yn)[0], atol=1e-12)


def test_plan_info_names_the_dask_path(sync):
    Xn, yn, X, y = _data(n=400, d=2, chunk=100)
    df = s2sad.grad(logistic)
    for _ in range(3):            # a NumPy signature would be planned by now
        df(np.ones(2), 0.0, X, y)
    assert df.planned_source is None
    assert df.plan_info["planned"] == 0 and "Dask arrays run the generic code" in df.plan_info["reason"]
    df(np.ones(2), 0.0, Xn, yn)
    df(np.ones(2), 0.0, Xn, yn)   # the NumPy signature is still planned as before
    assert df.planned_source is not None


def test_checkpointed_loop_runs_on_dask_and_reversible_is_refused(sync):
    Xn, yn, X, y = _data(n=1000, d=4, chunk=250)
    w = np.array([0.3, -0.2, 0.1, 0.4])
    d = s2sad.grad(ck)
    with _computes() as c:
        g = d(w, X, y)
    assert c.runs == 1 and type(g) is np.ndarray
    np.testing.assert_allclose(g, s2sad.grad(ck)(w, Xn, yn), rtol=1e-12)
    eps, e0 = 1e-6, np.eye(4)[0]
    assert abs((ck(w + eps * e0, Xn, yn) - ck(w - eps * e0, Xn, yn)) / (2 * eps) - g[0]) < 1e-5 * max(1, abs(g[0]))
    with pytest.raises(s2sad.ArgumentError, match="reversible loop ran on Dask arrays") as e:
        s2sad.grad(rv)(w, X, y)
    assert "test_dask.py" in str(e.value) and "s2sad.checkpointed" in str(e.value)


def test_bad_chunking_is_refused_clearly(sync):
    Xn, yn, X, y = _data(n=400, d=4, chunk=100)
    df = s2sad.grad(logistic, wrt=(0, 1))
    W = np.zeros(4)
    with pytest.raises(s2sad.ArgumentError, match=r"`X` \(shape \(400, 4\)\) is chunked along axis 1") as e:
        df(W, 0.0, X.rechunk((400, 2)), y)
    assert "rechunk" in str(e.value) and "test_dask.py" in str(e.value)     # what to do, and where
    with pytest.raises(s2sad.ArgumentError, match="`X` and `y` hold 400 examples chunked differently"):
        df(W, 0.0, X, y.rechunk(50))
    with pytest.raises(s2sad.ArgumentError, match="unknown chunk sizes"):
        df(W, 0.0, X[X[:, 0] > -10], y)
    with pytest.raises(s2sad.ArgumentError, match="out= is for NumPy calls"):
        df(W, 0.0, X, y, out=(np.empty(4), np.empty(())))
    with pytest.raises(s2sad.ArgumentError, match="supported by grad, value_and_grad and vjp"):
        s2sad.jvp(logistic)(W, 0.0, X, y, np.ones(4))


def test_minibatches_shuffle_every_row_once_per_epoch(sync):
    n = 1000
    X = da.arange(n, chunks=100).astype(float)[:, None] * np.ones(3)
    y = da.arange(n, chunks=100).astype(float)
    rows, sizes = [], []
    for Xb, yb in s2sad.dask.minibatches(X, y, batch=64, seed=3, window=3):
        xb, ybn = dask.compute(Xb, yb)
        np.testing.assert_array_equal(xb[:, 0], ybn)          # X and y rows stay paired
        rows.extend(ybn.astype(int).tolist())
        sizes.append(len(ybn))
    assert sorted(rows) == list(range(n))                     # each row once
    assert rows != sorted(rows) and max(sizes) == 64
    again = [int(v) for Xb, yb in s2sad.dask.minibatches(X, y, batch=64, seed=3, window=3)
             for v in yb.compute()]
    assert again == rows                                      # the seed repeats it
    with pytest.raises(s2sad.ArgumentError, match="chunked alike"):
        next(s2sad.dask.minibatches(X, y.rechunk(250), batch=64))
    with pytest.raises(s2sad.ArgumentError, match="takes Dask arrays"):
        next(s2sad.dask.minibatches(np.ones((4, 2)), np.ones(4), batch=2))


def test_minibatches_take_rows_chunk_by_chunk_and_drop_each_window(sync):
    n, c = 1000, 100
    X = (da.arange(n, chunks=c).astype(float)[:, None] * np.ones((1, 4))).rechunk((c, 2))
    y = da.arange(n, chunks=c).astype(float)
    batches = list(s2sad.dask.minibatches(X, y, batch=64, seed=1, window=3))
    # windows of 300, 300, 300 and 100 rows: batches of 64 rows, each window's last one shorter
    assert [b[1].shape[0] for b in batches] == [64, 64, 64, 64, 44] * 3 + [64, 36]
    rows = []
    for k, (Xb, yb) in enumerate(batches):     # computed after the generator has moved on: still valid
        assert Xb.chunks[0] == yb.chunks[0] and len(Xb.chunks[0]) <= 3 and Xb.chunks[1] == (2, 2)
        xb, ybn = dask.compute(Xb, yb)
        np.testing.assert_array_equal(xb, ybn[:, None] * np.ones((1, 4)))
        src = [set(p.astype(int) // c) for p in np.split(ybn, np.cumsum(Xb.chunks[0])[:-1])]
        assert all(len(s) == 1 for s in src)                    # a batch's chunk: rows of one chunk
        assert [min(s) for s in src] == sorted({min(s) for s in src})
        last = k in (4, 9, 14, 16)
        # the last batch of a window holds its own rows (persisted): nothing refers to the window
        assert (len(dict(Xb.__dask_graph__())) == Xb.npartitions) == last, k
        rows.extend(ybn.astype(int).tolist())
    assert sorted(rows) == list(range(n))
    # an empty chunk: a window of no rows gives no batch
    Xe = da.from_array(np.arange(600.0).reshape(200, 3), chunks=((100, 0, 100), (3,)))
    ye = da.from_array(np.arange(200.0), chunks=((100, 0, 100),))
    got = [int(v) for Xb, yb in s2sad.dask.minibatches(Xe, ye, batch=64, seed=0, window=1) for v in yb.compute()]
    assert sorted(got) == list(range(200))


def test_minibatches_tasks_carry_no_row_indices(sync):
    import pickle
    X, y = da.zeros((400_000, 2), chunks=(100_000, 2)), da.zeros(400_000, chunks=100_000)
    Xb, yb = next(s2sad.dask.minibatches(X, y, batch=100_000, seed=0, window=2))
    assert Xb.shape == (100_000, 2) and len(Xb.chunks[0]) == 2
    # the window (and its rows' batch numbers) are persisted: NumPy arrays in the graph; the
    # batch's tasks name their batch, not its 100,000 row numbers (sent, and logged, every step)
    tasks = [v for v in dict(Xb.__dask_graph__()).values() if not isinstance(v, np.ndarray)]
    assert tasks and sum(len(pickle.dumps(t)) for t in tasks) < 20_000


def penalised(W, b, X, y):
    return logistic(W, b, X, y) * X.shape[0] + np.sum(W * W)


def summed(W, b, X, y):
    z = X @ W + b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def test_data_parallel_sums_chunk_gradients_exactly(sync):
    Xn, yn, X, y = _data(n=4100, d=8, chunk=500)       # 9 chunks, the last one short
    W, b = np.linspace(-0.3, 0.3, 8), 0.1
    hW, hb = logistic_hand(W, b, Xn, yn)
    dp = s2sad.dask.data_parallel(logistic, wrt=(0, 1), split_every=3)
    dp(W, b, X, y)            # the first call also fetches the few rows that check the reduction
    with _computes() as c:
        v, (gW, gb) = dp.value_and_grad(W, b, X, y)
    assert c.runs == 1 and dp.last_reduction == "mean"
    assert type(gW) is np.ndarray and type(gb) is float
    assert np.abs(gW - hW).max() < 1e-13 and abs(gb - hb) < 1e-13
    assert abs(v - logistic(W, b, Xn, yn)) < 1e-13
    ds = s2sad.dask.data_parallel(summed, wrt=0)
    g = ds(W, b, X, y)
    assert ds.last_reduction == "sum" and np.abs(g - hW * len(yn)).max() < 1e-10
    # a penalty added to a sum is neither: refused, not a wrong gradient
    with pytest.raises(s2sad.ArgumentError, match="not a mean or a sum over the examples") as e:
        s2sad.dask.data_parallel(penalised, wrt=0)(W, b, X, y)
    assert "test_dask.py" in str(e.value) and "s2sad.grad(f)" in str(e.value)
    with pytest.raises(s2sad.ArgumentError, match="not a sum"):
        s2sad.dask.data_parallel(logistic, wrt=0, reduction="sum")(W, b, X, y)
    with pytest.raises(s2sad.ArgumentError, match="`X` is a Dask array and is differentiated"):
        s2sad.dask.data_parallel(logistic, wrt=2)(W, b, X, y)
    with pytest.raises(s2sad.ArgumentError, match="chunked differently"):
        dp(W, b, X, y.rechunk(1000))
    with pytest.raises(s2sad.ArgumentError, match="`y` does not hold the examples of `X`"):
        dp(W, b, X, y[:4000])


def test_data_parallel_plans_only_chunkings_that_repeat(sync):
    from s2sad.dask import _WORKER_GRADS
    Xn, yn, X, y = _data(n=4000, d=8, chunk=500)
    W, b = np.linspace(-0.3, 0.3, 8), 0.1
    dp = s2sad.dask.data_parallel(logistic, wrt=(0, 1))
    for _ in range(3):                      # the same chunks every call: the planned variant
        dp(W, b, X, y)
    planned = _WORKER_GRADS[dp._token, True]
    kept = dict(planned._plans)
    assert any(kept.values())
    # chunkings met once each (as minibatches' batches are), though a chunk of 7 rows comes twice:
    # the generic code, no plan made for 7 rows
    for lo, hi in ((0, 1007), (493, 1500), (7, 1000)):
        v, (gW, gb) = dp.value_and_grad(W, b, X[lo:hi], y[lo:hi])
        hW, hb = logistic_hand(W, b, Xn[lo:hi], yn[lo:hi])
        assert np.abs(gW - hW).max() < 1e-13 and abs(gb - hb) < 1e-13
    assert planned._plans == kept
    for _ in range(2):                      # that chunking again: planned (on s2sad's second call)
        dp(W, b, X[7:1000], y[7:1000])
    assert len(planned._plans) > len(kept)


def test_s2sad_imports_without_dask(tmp_path):
    (tmp_path / "f.py").write_text(
        "import sys\nsys.modules['dask'] = None     # as if Dask were not installed\n"
        "import numpy as np\nimport s2sad\n\n\ndef f(x):\n    return np.sum(x * x)\n\n\n"
        "print(s2sad.grad(f)(np.ones(3)))\n")
    r = subprocess.run([sys.executable, "f.py"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "[2. 2. 2.]" in r.stdout


# ------------------------------------------------------------------ LocalCluster (slow)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    # the workers cannot import this test module: its functions go by value
    # (data_parallel ships their source along)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc, distributed.Client(lc) as client:
        yield client


@pytest.mark.slow
def test_localcluster_gradients_over_400k_rows(cluster):
    from distributed import get_task_stream
    n, d = 400_000, 32
    X = da.random.default_rng(1).standard_normal((n, d), chunks=(n // 8, d))
    y = (da.random.default_rng(2).random(n, chunks=n // 8) < 0.5).astype(float)
    assert X.numblocks == (8, 1)
    W, b = np.random.default_rng(0).standard_normal(d) * 0.1, 0.25
    df = s2sad.grad(logistic, wrt=(0, 1))
    tracemalloc.start()
    try:
        with get_task_stream(client=cluster) as ts:
            gW, gb = df(W, b, X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert type(gW) is np.ndarray and gW.shape == (d,) and type(gb) is float
    data_bytes = X.nbytes + y.nbytes                            # 108 MB never reach the driver
    assert peak < data_bytes / 20, (peak, data_bytes)
    workers = {t["worker"] for t in ts.data}
    assert len(workers) == 2 and len(ts.data) >= 16             # both workers ran the chunks' tasks
    Xn, yn = dask.compute(X, y)                                  # the in-memory oracle
    nW, nb = df(W, b, Xn, yn)
    hW, hb = logistic_hand(W, b, Xn, yn)
    assert np.abs(gW - nW).max() < 1e-10 and abs(gb - nb) < 1e-10
    assert np.abs(gW - hW).max() < 1e-10 and abs(gb - hb) < 1e-10
    # an MLP, with a lazy gradient for the data
    rng = np.random.default_rng(3)
    W1, b1, w2 = rng.standard_normal((d, 16)) * 0.2, np.zeros(16), rng.standard_normal(16) * 0.2
    gs = s2sad.grad(mlp, wrt=(0, 1, 2))(W1, b1, w2, X, y)
    for g, r in zip(gs, s2sad.grad(mlp, wrt=(0, 1, 2))(W1, b1, w2, Xn, yn)):
        assert type(g) is np.ndarray and np.abs(g - r).max() < 1e-10
    gX = s2sad.grad(mlp, wrt=3)(W1, b1, w2, X, y)
    assert dask.is_dask_collection(gX) and gX.chunks == X.chunks


@pytest.mark.slow
def test_localcluster_sgd_matches_numpy_sgd(cluster):
    n, d = 40_000, 8
    X = da.random.default_rng(4).standard_normal((n, d), chunks=(5000, d))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    vg = s2sad.value_and_grad(logistic, wrt=(0, 1))
    W, b, Wn, bn, losses = np.zeros(d), 0.0, np.zeros(d), 0.0, []
    for step, (Xb, yb) in enumerate(s2sad.dask.minibatches(X, y, batch=4000, seed=0, window=2)):
        loss, (gW, gb) = vg(W, b, Xb, yb)
        xb, ybn = dask.compute(Xb, yb)                   # the same batch, in memory
        _, (nW, nb) = vg(Wn, bn, xb, ybn)
        W, b, Wn, bn = W - 0.5 * gW, b - 0.5 * gb, Wn - 0.5 * nW, bn - 0.5 * nb
        losses.append(loss)
        if step == 7:
            break
    assert np.abs(W - Wn).max() < 1e-10 and abs(b - bn) < 1e-10
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.slow
def test_localcluster_data_parallel(cluster):
    from distributed import get_task_stream
    n, d = 400_000, 32
    X = da.random.default_rng(5).standard_normal((n, d), chunks=(n // 8, d))
    y = (da.random.default_rng(6).random(n, chunks=n // 8) < 0.5).astype(float)
    W, b = np.random.default_rng(0).standard_normal(d) * 0.1, 0.25
    dp = s2sad.dask.data_parallel(logistic, wrt=(0, 1))
    with get_task_stream(client=cluster) as ts:
        for _ in range(3):                      # the workers plan their chunks' gradient by the second call
            gW, gb = dp(W, b, X, y)
    assert {t["worker"] for t in ts.data} == set(cluster.scheduler_info()["workers"])
    assert sum("_chunk_value_and_grad" in str(t["key"]) for t in ts.data) >= 8     # a task per chunk
    Xn, yn = dask.compute(X, y)
    hW, hb = logistic_hand(W, b, Xn, yn)
    assert type(gW) is np.ndarray and type(gb) is float
    assert np.abs(gW - hW).max() < 1e-10 and abs(gb - hb) < 1e-10


def _window_chunks(dask_worker, rows, w):
    """On a worker: how many chunks of X (``rows`` x d) and of y it holds,
    and whether each X chunk's y (X @ w) is held beside it."""
    held = {id(v): v for v in list(dask_worker.data.values()) if getattr(v, "shape", (0,))[:1] == (rows,)}
    xs = [v for v in held.values() if v.ndim == 2]
    ys = [v for v in held.values() if v.ndim == 1 and v.dtype.kind == "f"]     # (not the rows' batch numbers)
    return len(xs), len(ys), all(any(np.allclose(x @ w, v) for v in ys) for x in xs)


@pytest.mark.slow
def test_localcluster_minibatches_place_one_chunk_per_worker(cluster):
    n, d, c = 40_000, 8, 5000
    w = np.linspace(-1.0, 1.0, d)
    X = da.random.default_rng(7).standard_normal((n, d), chunks=(c, d))
    y = X @ w                         # y's chunks are computed from X's (and from w, a key of its own)
    workers = sorted(cluster.scheduler_info()["workers"])
    steps = 0
    for Xb, yb in s2sad.dask.minibatches(X, y, batch=4000, seed=2, window=2):
        xb, ybn = dask.compute(Xb, yb)
        assert np.allclose(xb @ w, ybn)
        held = cluster.run(_window_chunks, rows=c, w=w)
        assert sorted(held) == workers
        # each worker: one chunk of the window, its X and its y together (none copied, the
        # previous window dropped)
        assert all(h == (1, 1, True) for h in held.values()), held
        steps += 1
    assert steps == 12                    # 4 windows of 10,000 rows: batches of 4000, 4000, 2000
