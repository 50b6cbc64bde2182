"""What planned (shape-specialised, allocation-free) generated code needs at
run time: its workspace of buffers, row stores for values a loop saves, and
a few helpers that write into preallocated arrays.

A planned variant of a gradient is specialised to one signature (shapes,
dtypes, integer arguments).  Its temporaries and adjoint accumulators live
in a :class:`Workspace` made once per signature; a second thread that calls
the same gradient while the first is inside gets a workspace of its own
(:class:`WorkspacePool`), so two calls never share buffers.
"""

from __future__ import annotations

import numpy as np


class RowStore:
    """Storage for a value a loop saves for its reverse sweep: one row per
    definition, handed out in order by :meth:`next` and never reused within
    a call, so a saved value stays intact without a copy.  Rows are
    preallocated in chunks; a call that needs more rows than any earlier call
    grows the store (an allocation only then)."""

    __slots__ = ("shape", "dtype", "rows", "k", "_chunks")

    def __init__(self, shape, dtype, capacity=0):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.rows = []
        self.k = 0
        self._chunks = []
        if capacity:
            self._grow(capacity)

    def _grow(self, n):
        chunk = np.empty((n,) + self.shape, dtype=self.dtype)
        self._chunks.append(chunk)
        self.rows.extend(chunk[i] for i in range(n))

    def next(self):
        k = self.k
        rows = self.rows
        if k == len(rows):
            self._grow(max(16, len(rows)))
        self.k = k + 1
        return rows[k]

    @property
    def nbytes(self):
        return sum(c.nbytes for c in self._chunks)


class Workspace:
    """The buffers of one planned call: ``buffers`` (reused by liveness,
    scratch buffers of single statements among them), ``rows`` (one
    :class:`RowStore` per value saved in a loop) and ``pairs`` (one
    ``PairSum`` per deferred weight gradient)."""

    __slots__ = ("buffers", "rows", "pairs")

    def __init__(self, buffer_specs, row_specs, npairs=0):
        from s2sad_runtime import PairSum
        self.buffers = tuple(np.empty(s, dtype=d) for s, d in buffer_specs)
        self.rows = tuple(RowStore(s, d, n) for s, d, n in row_specs)
        self.pairs = tuple(PairSum() for _ in range(npairs))

    def begin(self):
        if self.rows:
            for r in self.rows:
                r.k = 0
        return self

    @property
    def nbytes(self):
        return (sum(b.nbytes for b in self.buffers) + sum(r.nbytes for r in self.rows)
                + sum(p.nbytes for p in self.pairs))


class WorkspacePool:
    """Workspaces of one plan.  ``take`` hands one out (a new one when every
    existing one is in use by another thread); ``give`` returns it.  Both are
    single list operations, atomic under the GIL."""

    __slots__ = ("_free", "_specs", "made")

    def __init__(self, buffer_specs, row_specs, npairs=0):
        self._free = []
        self._specs = (buffer_specs, row_specs, npairs)
        self.made = 0

    def take(self):
        try:
            return self._free.pop().begin()
        except IndexError:
            self.made += 1
            return Workspace(*self._specs).begin()

    def give(self, ws):
        self._free.append(ws)


def result(outs, i, shape, dtype):
    """The array gradient ``i`` is written into: the caller's ``out[i]``
    (checked) or a fresh array."""
    if outs is None:
        return np.empty(shape, dtype=dtype)
    o = outs[i]
    if type(o) is not np.ndarray or o.shape != tuple(shape) or o.dtype != dtype:
        from s2sad_runtime.errors import ArgumentError
        raise ArgumentError(
            f"out[{i}] must be a NumPy array of shape {tuple(shape)} and dtype {np.dtype(dtype)}, "
            f"got {type(o).__name__}{getattr(o, 'shape', '')} {getattr(o, 'dtype', '')}",
            hint="pass arrays shaped like the gradients, e.g. out=[np.empty_like(p) for p in params]")
    return o


def deliver(g, outs, i, copy):
    """Hand out gradient ``i`` computed outside a result array: copied into
    ``out[i]`` when given, else a fresh copy when it lives in the workspace."""
    if outs is None:
        return g.copy() if copy and isinstance(g, np.ndarray) else g
    o = result(outs, i, np.shape(g), getattr(g, "dtype", np.dtype(float)))
    np.copyto(o, g)
    return o


def take(x, idx, out, flat, lo, hi):
    """``out[...] = x[idx]`` for a tuple ``idx`` of integer arrays (one per
    axis of ``x``, all of ``out``'s shape) without allocating: the flat index
    is built in ``flat`` (and bounds are checked through the 0-d ``lo`` and
    ``hi``).  Out-of-bounds indices raise ``IndexError`` as ``x[idx]``
    would; negative ones count from the end."""
    shape = x.shape
    flat.fill(0)
    for axis, i in enumerate(idx):
        n = shape[axis]
        np.multiply(flat, n, out=flat)
        np.add(flat, i, out=flat)
        if i.size:
            np.min(i, out=lo)
            np.max(i, out=hi)
            if lo < -n or hi >= n:
                raise IndexError(f"index {int(lo) if lo < -n else int(hi)} is out of bounds "
                                 f"for axis {axis} with size {n}")
            if lo < 0:
                np.add(flat, np.where(i < 0, n, 0), out=flat)
    return np.take(x.reshape(-1), flat, out=out, mode="wrap")
