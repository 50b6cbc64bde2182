"""``s2sad.dask``: data-parallel training on Dask (issue #19).

* ``minibatches(X, y, batch, seed)``: shuffled mini-batches of rows of
  Dask arrays, a window of chunks at a time, persisted on the workers;
* ``data_parallel(f, wrt)``: the gradient of a loss that is a mean or sum
  over examples, as a tree-reduced sum of per-chunk gradients computed on
  the workers by s2sad's NumPy code.

``s2sad.grad(f)`` itself also takes Dask arrays as data (one graph per
call; ``s2sad/lazy_inputs.py``).  Dask is imported only when these are
used: ``import s2sad`` does not need it (``pip install "s2sad[dask]"``).
"""

from __future__ import annotations

import numpy as np

from s2sad.errors import ArgumentError
from s2sad.lazy_inputs import _error, _to_type_of, check_args
from s2sad_runtime.core import is_lazy

__all__ = ["minibatches", "data_parallel", "DataParallel"]


# ---------------------------------------------------------------- mini-batches


def minibatches(X, y, batch, seed=0, *, epochs=1, window=2, persist=True):
    """Shuffled mini-batches ``(Xb, yb)`` of rows of Dask arrays ``X``, ``y``
    (chunked alike along their first axis), for data-parallel SGD.

    Each epoch visits the chunks in a random order, ``window`` chunks at a
    time; the rows of a window are shuffled and cut into batches of
    ``batch`` rows (the window's last batch may be smaller).  A batch has
    one chunk per chunk of the window it draws rows from (its rows of that
    chunk, in their order there), so the gradient of a batch runs where the
    chunks are, one task per chunk, summed by a tree reduction.  Each chunk
    of a window carries its rows' batch numbers (one byte a row below 256
    batches a window), so a batch's tasks name their batch, not its rows.

    With ``persist``, a window is computed once (data generated lazily,
    ``da.random``, or read from disk is made once per epoch, not once per
    batch) and the window's last batch is persisted too, so that the window
    is dropped before the next one is made.  On a ``distributed.Client``,
    each chunk of the window (its ``X`` and ``y`` rows, their batch numbers
    and everything they are computed from) is placed on one worker, in turn over the workers
    (a preference, not a requirement, should that worker leave): a worker
    holds about ``window`` / workers chunks, never the dataset, and no
    chunk is copied from worker to worker.  Batches a caller keeps stay
    valid (they keep their window's chunks alive).

    The shuffle is exact within a window and over the order of windows
    (the usual shuffle buffer of out-of-core training); a larger
    ``window`` mixes more and holds more.  ``seed`` makes it repeatable.
    """
    if not (is_lazy(X) and is_lazy(y) and hasattr(X, "chunks") and hasattr(y, "chunks")):
        raise ArgumentError("minibatches(X, y, ...) takes Dask arrays",
                            hint="wrap NumPy data with dask.array.from_array(X, chunks=(rows, -1))")
    if X.shape[0] != y.shape[0] or X.chunks[0] != y.chunks[0]:
        raise ArgumentError(f"minibatches: X ({X.shape[0]} rows, {len(X.chunks[0])} chunks) and y "
                            f"({y.shape[0]} rows, {len(y.chunks[0])} chunks) must hold the same rows, "
                            "chunked alike along their first axis",
                            hint="y = y.rechunk({0: X.chunks[0]})")
    if not (isinstance(batch, (int, np.integer)) and batch > 0):
        raise ArgumentError(f"minibatches: batch must be a positive number of rows, got {batch!r}")
    return _minibatches(X, y, int(batch), seed, epochs, window, persist)


def _minibatches(X, y, batch, seed, epochs, window, persist):
    import dask.array as da
    rng = np.random.default_rng(seed)
    nb = X.numblocks[0]
    window = max(1, min(int(window), nb))
    placed = 0                       # chunks placed so far (the next one goes to the next worker)
    for _ in range(epochs):
        order = rng.permutation(nb)
        for s in range(0, nb, window):
            blocks = [int(i) for i in np.sort(order[s:s + window])]
            starts = np.cumsum([0] + [X.chunks[0][i] for i in blocks])
            n = int(starts[-1])
            nbat = -(-n // batch)
            # the window's rows shuffled and cut into batches: row r goes to batch which[r]
            which = np.empty(n, np.min_scalar_type(nbat - 1))
            which[rng.permutation(n)] = np.arange(n) // batch
            counts = [np.bincount(which[a:b], minlength=nbat) for a, b in zip(starts[:-1], starts[1:])]
            parts = [(X.blocks[i], y.blocks[i], da.from_array(which[a:b], chunks=-1))
                     for i, a, b in zip(blocks, starts[:-1], starts[1:])]
            if persist:
                parts, placed = _persist_window(parts, placed)
            for j in range(nbat):
                Xb, yb = _batch(parts, counts, j)
                if persist and j == nbat - 1:
                    Xb, yb = _persist((Xb, yb))     # holds its own rows: the window can go
                yield Xb, yb
            parts = Xb = yb = None                  # the window goes before the next one is made


def _client():
    """The ``distributed.Client`` that ``compute`` would use now, or None
    (a threads or synchronous scheduler, or no ``distributed``)."""
    try:
        from dask.base import get_scheduler
        from distributed import Client
        client = getattr(get_scheduler(), "__self__", None)
    except (ImportError, ValueError):
        return None
    return client if isinstance(client, Client) else None


def _persist(arrays, workers=None):
    import dask
    client = _client()
    if client is None:
        return dask.persist(*arrays)
    return tuple(client.persist(list(arrays), workers=workers, allow_other_workers=workers is not None))


def _persist_window(parts, placed):
    """The chunks of a window persisted: on a ``distributed.Client``, each
    chunk (its ``X``, ``y`` and batch numbers) together on one worker, the
    next worker in turn (so a chunk is made, and its ``y`` computed from its
    ``X``, where it stays; Dask's own placement may put two chunks on one
    worker, or compute ``y`` on another worker than ``X`` and copy the
    chunk there)."""
    client = _client()
    if client is None:
        flat = _persist([a for p in parts for a in p])     # one graph: shared work done once
        return [flat[k:k + 3] for k in range(0, len(flat), 3)], placed
    workers = sorted(client.nthreads()) or [None]
    out = []
    for part in parts:
        w = workers[placed % len(workers)]
        out.append(_persist(part, None if w is None else [w]))
        placed += 1
    return out, placed


def _batch(parts, counts, j):
    """Batch ``j`` of the window whose chunks are ``parts`` (``X``, ``y``,
    each row's batch number): one chunk of the batch per chunk of the window
    it draws rows from, each taken by one task on that chunk.  The tasks
    carry only ``j`` (an index array in each task's spec would be sent, and
    kept in Dask's logs of recent messages, step after step)."""
    import dask.array as da
    pieces = [(_rows(Xk, wk, j, c[j]), _rows(yk, wk, j, c[j])) for (Xk, yk, wk), c in zip(parts, counts) if c[j]]
    if len(pieces) == 1:
        return pieces[0]
    return tuple(da.concatenate(list(col), axis=0) for col in zip(*pieces))


def _rows(a, which, j, count):
    """The rows of ``a`` (one chunk along axis 0) in batch ``j``, by one task
    per block (``a[idx]`` is Dask's shuffle, whose small tasks run anywhere
    and may draw the chunk to another worker)."""
    import dask.array as da
    ind = tuple(range(a.ndim))
    return da.blockwise(_take_batch, ind, a, ind, which, (0,), j, None, adjust_chunks={0: (int(count),)},
                        dtype=a.dtype, meta=a._meta)


def _take_batch(block, which, j):
    return block[which == j]


# ---------------------------------------------------------------- data parallel


_WORKER_GRADS = {}     # per process (a worker's): (token, plan) -> value_and_grad of the loss


def _chunk_value_and_grad(token, plan, fn, wrt, args, slots, weight, *chunks):
    """On a worker: the loss and its gradients on one chunk of the data, by
    s2sad's NumPy code (with ``plan``, its planned variant from a chunk
    shape's second call on in this process), scaled by ``weight``."""
    vg = _WORKER_GRADS.get((token, plan))
    if vg is None:
        from s2sad.api import value_and_grad
        vg = _WORKER_GRADS[token, plan] = value_and_grad(_with_source(*fn), wrt=wrt, plan=plan)
    args = list(args)
    for i, c in zip(slots, chunks):
        args[i] = c
    v, g = vg(*args)
    return weight * v, tuple(weight * x for x in g)


def _source_of(fn):
    """``fn`` with the lines of its file: Dask pickles a function of a script
    by value, and the copy a worker unpickles has lost its file name
    (``<dynamic-code>``), so s2sad could not read its source there."""
    import linecache
    filename = fn.__code__.co_filename
    return fn, filename, tuple(linecache.getlines(filename))


def _with_source(fn, filename, lines):
    """On a worker: ``fn`` as s2sad can read it (its file name back, the
    file's lines in ``linecache`` when the worker has no such file)."""
    import linecache
    import types
    if fn.__code__.co_filename == filename or not lines:
        return fn
    if not linecache.getlines(filename):
        linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
    g = types.FunctionType(fn.__code__.replace(co_filename=filename), fn.__globals__, fn.__name__,
                           fn.__defaults__, fn.__closure__)
    g.__qualname__, g.__module__, g.__kwdefaults__ = fn.__qualname__, fn.__module__, fn.__kwdefaults__
    return g


def _combine(*parts):
    """The sum of (value, gradients) pairs: one node of the tree reduction."""
    v = sum(p[0] for p in parts)
    return v, tuple(sum(gs) for gs in zip(*(p[1] for p in parts)))


class DataParallel:
    """``data_parallel(f, wrt)``: the gradient of a loss that is a mean (or
    sum) over the examples, as a sum of per-chunk gradients computed on the
    workers by s2sad's own NumPy code: its planned, allocation-free variant
    when the data comes chunked as in one of the last calls (the same data,
    or batches of one shape); the generic code when the chunking is new
    (the batches of ``minibatches``, whose chunks change size every call:
    no plan and workspace is made on the workers for shapes met once).

    ``f(params..., data...)``: the arguments that are Dask arrays are the
    data (chunked alike along axis 0, whole rows per chunk); the others are
    parameters, sent to every chunk.  ``reduction`` is ``"mean"`` or
    ``"sum"``; ``None`` infers it.  Every call checks it: ``f`` is evaluated
    in the driver on a few rows of two chunks and on their union, and a loss
    that is neither (a penalty added to a sum, a maximum over examples) is
    refused rather than given a wrong gradient.  ``split_every`` chunk
    results are combined per node of the tree reduction.

    The workers need s2sad and ``f``'s source (a module they can import, or
    the script itself on a ``LocalCluster``); ``s2sad.grad(f)`` called on
    Dask arrays needs neither (the graph holds only Dask's own tasks).
    """

    def __init__(self, fn, wrt=0, *, reduction=None, split_every=8, sample_rows=32):
        import inspect
        if reduction not in (None, "mean", "sum"):
            raise ArgumentError(f"data_parallel: reduction must be 'mean', 'sum' or None, got {reduction!r}")
        self.fn, self.reduction, self.split_every, self.sample_rows = fn, reduction, int(split_every), sample_rows
        self.single = not isinstance(wrt, (tuple, list))
        self.wrt = (wrt,) if self.single else tuple(wrt)
        self._names = list(inspect.signature(fn).parameters)
        self.mode = "data_parallel"
        code = fn.__code__
        self._token = f"{fn.__module__}.{fn.__qualname__}:{hash((code.co_code, code.co_consts))}:{self.wrt}"
        self._samples = {}
        self._chunkings = []     # the row counts per chunk of the last calls' data
        self.last_reduction = None

    def __call__(self, *args):
        return self.value_and_grad(*args)[1]

    def value_and_grad(self, *args):
        """``(f(*args), gradients)`` of the whole data, from one graph."""
        import dask
        from dask import delayed
        check_args(self, args, None)
        slots = [i for i, a in enumerate(args) if is_lazy(a)]
        if not slots:
            raise _error(self, "no argument is a Dask array", "pass the data as Dask arrays "
                         "(dask.array.from_array(X, chunks=(rows, -1))), or use s2sad.grad for NumPy data")
        for i in self.wrt:
            if i in slots:
                raise _error(self, f"`{self._names[i]}` is a Dask array and is differentiated: data_parallel "
                             "differentiates the parameters (NumPy arrays and numbers) and shards the data",
                             f"use s2sad.grad(f, wrt=...) for the gradient of `{self._names[i]}` (a lazy Dask array)")
            if isinstance(args[i], (list, tuple, dict)):
                raise _error(self, f"`{self._names[i]}` is a container; data_parallel sums arrays and numbers",
                             "pass each parameter array as its own argument")
        data = [args[i] for i in slots]
        n = data[0].shape[0]
        chunks = data[0].chunks[0]
        for i, a in zip(slots, data):
            if not a.ndim or a.chunks[0] != chunks:
                raise _error(self, f"`{self._names[i]}` does not hold the examples of `{self._names[slots[0]]}` "
                             f"chunk for chunk (shape {a.shape} vs {data[0].shape}); data_parallel gives every "
                             "chunk of rows its own task", "pass the data as arrays of the same rows, chunked alike "
                             "along axis 0; other arrays as NumPy arguments")
        reduction = self._check_reduction(args, slots, data)
        self.last_reduction = reduction
        parts = []
        blocks = [a.to_delayed().reshape(-1) if a.ndim else None for a in data]
        fn_d = delayed(_source_of(self.fn), pure=True)
        params = delayed(_placeholders(args, slots), pure=True)     # one key: sent once to each worker
        task = delayed(_chunk_value_and_grad, pure=True, nout=2)
        plan = chunks in self._chunkings
        self._chunkings = [chunks] + [c for c in self._chunkings if c != chunks][:7]
        for k, rows in enumerate(chunks):
            w = rows / n if reduction == "mean" else 1.0
            parts.append(task(self._token, plan, fn_d, self.wrt, params,
                              slots, w, *[b[k] for b in blocks]))
        while len(parts) > 1:
            parts = [delayed(_combine, pure=True)(*parts[j:j + self.split_every])
                     for j in range(0, len(parts), self.split_every)]
        value, grads = dask.compute(parts[0])[0]
        grads = tuple(_to_type_of(g, args[i]) for g, i in zip(grads, self.wrt))
        return value, grads[0] if self.single else grads

    def _check_reduction(self, args, slots, data):
        """'mean' or 'sum' (the one ``f`` is, checked on a few rows of two
        chunks and their union at these parameters), or a refusal."""
        import dask
        chunks = data[0].chunks[0]
        if len(chunks) < 2:
            return self.reduction or "mean"
        key = tuple(a.name for a in data)
        sample = self._samples.get(key)
        if sample is None:
            m = max(1, min(self.sample_rows, chunks[0], chunks[1]))
            parts = dask.compute([(a[:m], a[chunks[0]:chunks[0] + m]) for a in data])[0]
            sample = self._samples[key] = (m, parts)
            if len(self._samples) > 8:
                self._samples.pop(next(iter(self._samples)))
        m, parts = sample

        def value(rows):
            a = list(args)
            for i, r in zip(slots, rows):
                a[i] = r
            return float(np.asarray(self.fn(*a)))
        fa = value([p[0] for p in parts])
        fb = value([p[1] for p in parts])
        fab = value([np.concatenate(p) for p in parts])
        ok = {"mean": 0.5 * (fa + fb), "sum": fa + fb}
        tol = 1e-9 * max(1.0, abs(fab), abs(fa), abs(fb))
        found = [r for r in (self.reduction,) if r and abs(ok[r] - fab) <= tol] if self.reduction else \
            [r for r in ("mean", "sum") if abs(ok[r] - fab) <= tol]
        if not found:
            what = f"a {self.reduction}" if self.reduction else "a mean or a sum"
            raise _error(self, f"the loss is not {what} over the examples: on {m} rows A of one chunk and "
                         f"{m} rows B of another, f(A) = {fa:.6g}, f(B) = {fb:.6g}, f(A ∪ B) = {fab:.6g}, so "
                         "the sum of per-chunk gradients would not be its gradient",
                         "write the loss as np.mean or np.sum of per-example terms (add penalties on the "
                         "parameters outside: grad(penalty) + the data gradient), or use s2sad.grad(f) "
                         "on the Dask arrays, which is exact for any f")
        return found[0]


def _placeholders(args, slots):
    return tuple(None if i in slots else a for i, a in enumerate(args))


def data_parallel(fn, wrt=0, *, reduction=None, split_every=8):
    """See :class:`DataParallel`."""
    return DataParallel(fn, wrt, reduction=reduction, split_every=split_every)
