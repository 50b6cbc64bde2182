"""What planned (shape-specialised, allocation-free) generated code needs at
run time: its workspace of buffers, row stores for values a loop saves,
deferred weight gradients (:class:`PairSum`), and a few helpers that write
into preallocated arrays.

A planned variant of a gradient is specialised to one signature (shapes,
dtypes, integer arguments).  Its temporaries and adjoint accumulators live
in a :class:`Workspace` made once per signature; a second thread that calls
the same gradient while the first is inside gets a workspace of its own
(:class:`WorkspacePool`), so two calls never share buffers.
"""

from __future__ import annotations

import numpy as np

from .core import ZERO, accumulate
from .linalg import matmul_adjoint_a, matmul_adjoint_b


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
        from .errors import ArgumentError
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


def _flat_index(shape, idx, flat, lo, hi):
    """The flat index of integer arrays ``idx`` (one per axis of ``shape``)
    built in ``flat``, bounds checked through the 0-d ``lo`` and ``hi``."""
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
    return flat


def take(x, idx, out, flat, lo, hi):
    """``out[...] = x[idx]`` for a tuple ``idx`` of integer arrays (one per
    axis of ``x``, all of ``out``'s shape) without allocating: the flat index
    is built in ``flat`` (and bounds are checked through the 0-d ``lo`` and
    ``hi``).  Out-of-bounds indices raise ``IndexError`` as ``x[idx]``
    would; negative ones count from the end."""
    return np.take(x.reshape(-1), _flat_index(x.shape, idx, flat, lo, hi), out=out, mode="wrap")


def scatter(out, idx, g, flat, lo, hi):
    """``out[...] = 0; out[idx] = g`` for a tuple ``idx`` of integer arrays
    naming distinct elements (one per axis of ``out``) without allocating
    (NumPy's fancy assignment builds index buffers the size of ``idx``)."""
    out.fill(0)
    if not out.flags.c_contiguous:      # (a caller's out= array): no flat view of it
        out[idx] = g
        return out
    np.put(out.reshape(-1), _flat_index(out.shape, idx, flat, lo, hi), g, mode="wrap")
    return out


# --------------------------------------------------------------------------
# deferred weight gradients (used by planned code, see s2sad/planner.py)


class PairSum:
    """``sum_k x_k.T @ y_k`` over a loop, collected as stacked rows and
    computed after it as one matrix product: the adjoint of a weight used
    in every iteration of a loop (``h @ W``), the way a hand-written adjoint
    does it (one large product instead of a small one per step).  The rows
    live in arrays reused by later loops (grown when a loop runs longer than
    any before).  Outer products (a matrix times a vector) are instead added
    up as they come, into a buffer of the object's own: stacking vectors
    would cost more memory than it saves time."""

    __slots__ = ("x", "y", "n", "direct", "acc", "tmp", "eager")

    def __init__(self):
        self.x = self.y = self.acc = self.tmp = None
        self.n = 0
        self.direct = ZERO
        self.eager = False

    def begin(self):
        self.n = 0
        self.direct = ZERO
        self.eager = False
        return self

    def _push(self, x, y):
        m = x.shape[0]
        n = self.n
        X, Y = self.x, self.y
        if (X is None or X.shape[1:] != x.shape[1:] or Y.shape[1:] != y.shape[1:]
                or X.dtype != x.dtype or Y.dtype != y.dtype):
            if n:
                return False        # rows of another kind: the caller adds directly
            X = Y = None
        if X is None or n + m > X.shape[0]:
            cap = max(2 * (n + m), 64)
            X2 = np.empty((cap,) + x.shape[1:], dtype=x.dtype)
            Y2 = np.empty((cap,) + y.shape[1:], dtype=y.dtype)
            if n:
                X2[:n] = X[:n]
                Y2[:n] = Y[:n]
            self.x, self.y = X, Y = X2, Y2
        np.copyto(X[n:n + m], x)
        np.copyto(Y[n:n + m], y)
        self.n = n + m
        return True

    def _outer(self, u, v):
        """Add ``outer(u, v)`` into ``acc`` (through ``tmp``, no allocation
        once they exist)."""
        shape = (u.shape[0], v.shape[0])
        dt = np.result_type(u, v)
        if self.acc is None or self.acc.shape != shape or self.acc.dtype != dt:
            if self.eager:
                return False
            self.acc = np.empty(shape, dtype=dt)
            self.tmp = np.empty(shape, dtype=dt)
        if not self.eager:
            self.acc.fill(0)
            self.eager = True
        np.multiply(u[:, None], v, out=self.tmp)
        np.add(self.acc, self.tmp, out=self.acc)
        return True

    def fit(self):
        """Shrink the rows to what the last loop used."""
        if self.x is not None and self.x.shape[0] > self.n:
            self.x = self.x[:self.n].copy()
            self.y = self.y[:self.n].copy()

    @property
    def nbytes(self):
        return sum(a.nbytes for a in (self.x, self.y, self.acc, self.tmp) if a is not None)

    def total_into(self, out):
        if self.n:
            np.matmul(self.x[:self.n].T, self.y[:self.n], out=out)
        else:
            out.fill(0)
        if self.eager:
            np.add(out, self.acc, out=out)
        if self.direct is not ZERO:
            np.add(out, self.direct, out=out)
        return out


def pair_add(s, g, a, b, which):
    """Collect the contribution ``matmul_adjoint_<which>(g, a, b)`` in ``s``
    (a :class:`PairSum`): as rows ``x, y`` with contribution ``x.T @ y``
    for matrix products, added up at once for outer products."""
    done = False
    if type(g) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray:
        na, nb, ng = a.ndim, b.ndim, g.ndim
        if which == "b":
            if na == 2 and nb == 2 and ng == 2 and a.dtype == g.dtype:
                done = s._push(a, g)                   # a.T @ g
            elif na == 1 and nb == 2 and ng == 1:
                done = s._outer(a, g)                  # outer(a, g)
        else:
            if na == 2 and nb == 2 and ng == 2 and g.dtype == b.dtype:
                done = s._push(g.T, b.T)               # g @ b.T
            elif na == 2 and nb == 1 and ng == 1:
                done = s._outer(g, b)                  # outer(g, b)
    if not done:
        c = matmul_adjoint_b(g, a, b) if which == "b" else matmul_adjoint_a(g, a, b)
        s.direct = accumulate(s.direct, c)


def pair_total(s):
    """Everything collected: ``sum_k x_k.T @ y_k`` (``ZERO`` if nothing)."""
    if not s.n and not s.eager:
        return s.direct
    shape = (s.x.shape[1], s.y.shape[1]) if s.n else s.acc.shape
    dt = np.result_type(s.x, s.y) if s.n else s.acc.dtype
    return s.total_into(np.empty(shape, dtype=dt))
