"""Loop strategies at run time: annotations, strategy values, and the driver
that runs a checkpointed loop's generated step functions on a schedule.

A loop written

    for t in s2sad.checkpointed(range(n), snapshots=12):
        ...

runs as plain Python outside a transform (``checkpointed`` returns its
iterable).  Inside ``s2sad.grad`` the compiler turns the body into two
functions of the loop-carried state: ``step(t, *state) -> state`` (the primal
body) and ``adjoint(t, *state)``, a generator that yields the step's result,
receives the adjoint of that result and yields the adjoint of its input (its
frame holds the one-step tape).  :class:`Checkpointed` drives both on the
binomial schedule of :mod:`s2sad_runtime.checkpoint` (Griewank & Walther,
Revolve), keeping at most ``snapshots`` loop states (the initial one
included).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from . import checkpoint as _ck
from .core import copy_value
from .errors import S2SadError

__all__ = ["checkpointed", "reversible", "Reversible", "Tape", "Checkpoint", "Checkpointed", "CheckpointedWhile", "state_bytes"]


def checkpointed(iterable, snapshots=None, *, online=False, check=False):
    """Mark a loop for binomial checkpointing; outside a transform this
    returns ``iterable`` unchanged, so the function still runs as plain
    Python.

    Args:
        iterable: ``range(...)`` or any sequence of known length.
        snapshots: loop states held at once, the initial one included
            (s >= 1).  ``None`` uses the transform's ``loops=`` default.
        check: recompute-and-compare: raise if a recomputed step does not
            reproduce the state of the first sweep (a body that is not
            deterministic, e.g. unseeded random numbers).
    """
    return iterable


def reversible(iterable, *, frac_bits=48, residuals=False, checkpoint_every=None):
    """Mark a loop to be reversed by running it backwards exactly (fixed
    point plus an information buffer, Maclaurin et al. 2015) instead of
    storing it; outside a transform this returns ``iterable`` unchanged.
    Each loop-carried name must be updated as ``x = x + e`` or
    ``x = c * x + e`` (``e`` not depending on ``x``).  With
    ``residuals=True`` the loop runs in floating point and the reverse sweep
    runs the inverse in floating point too, corrected exactly by the bitwise
    residual between the true and the reconstructed state, stored
    compressed."""
    return iterable


@dataclass(frozen=True)
class Tape:
    """Default loop strategy: push what each iteration overwrites on a stack."""


@dataclass(frozen=True)
class Reversible:
    """Loop strategy: run each loop backwards exactly (see :func:`reversible`)."""
    frac_bits: int = 48


@dataclass(frozen=True)
class Checkpoint:
    """Binomial checkpointing (Revolve) with ``snapshots`` loop states held
    at once; ``check=True`` verifies recomputed states."""
    snapshots: int = 10
    check: bool = False


def state_bytes(state):
    n = 0
    for v in state:
        if isinstance(v, (list, tuple)):
            n += state_bytes(v)
        elif isinstance(v, dict):
            n += state_bytes(list(v.values()))
        else:
            n += int(getattr(v, "nbytes", 8))
    return n


def _fingerprint(state):
    out = []
    for v in state:
        if isinstance(v, (list, tuple)):
            out.append(_fingerprint(v))
        elif hasattr(v, "shape"):
            out.append((tuple(v.shape), float(np.sum(v)) if getattr(v, "size", 1) else 0.0))
        else:
            out.append(v)
    return tuple(out)


def _copy_state(state):
    """A snapshot of a loop state whose arrays the body writes into.  Arrays
    that share memory (a name and a view of it, two views of one array)
    are copied together: their common base once, each of them as the same
    view of the copy -- the body's aliasing survives a restore."""
    groups = {}
    for v in state:
        if isinstance(v, np.ndarray):
            groups.setdefault(id(_owner(v)), []).append(v)
    copies = {}
    for members in groups.values():
        if len({id(m) for m in members}) == 1:
            copies[id(members[0])] = members[0].copy()
            continue
        base = _owner(members[0])
        if not (base.flags.c_contiguous or base.flags.f_contiguous):
            raise S2SadError("checkpointed loop: values of the loop state share an array that s2sad cannot copy "
                             "for a snapshot", hint="copy them before the loop, or use the default tape")
        raw = np.empty_like(base, order="K")
        np.copyto(raw, base)
        start = base.__array_interface__["data"][0]
        for m in members:
            if id(m) not in copies:
                off = m.__array_interface__["data"][0] - start
                copies[id(m)] = np.ndarray(m.shape, m.dtype, buffer=raw, offset=off, strides=m.strides)
    return tuple(copies.get(id(v), v) if isinstance(v, np.ndarray) else
                 (copy_value(v) if hasattr(v, "shape") else v) for v in state)


def _owner(a):
    """The array that owns ``a``'s memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


_collect = threading.local()


def collect_stats():
    """Start collecting the checkpointed loops run by this thread; returns
    the list they are appended to (``s2sad`` reads it after each call)."""
    _collect.loops = []
    return _collect.loops


def report(loop):
    """Add a loop driver to the current call's ``.stats`` (if collecting)."""
    loops = getattr(_collect, "loops", None)
    if loops is not None:
        loops.append(loop)


class Checkpointed:
    """One execution of a checkpointed loop: ``forward`` runs it (taking
    snapshots), ``reverse`` runs its adjoint backwards on the schedule.

    ``stats`` after ``reverse``: ``forward_steps`` (body evaluations:
    first sweep, recomputations and the taped step of each reversal),
    ``peak_snapshots`` (loop states held at once, the initial one
    included), ``peak_bytes`` (bytes of those states).
    """

    def __init__(self, step, adjoint, iterable, snapshots, rngs=(), check=False, copy=False):
        self.step = step
        self.adjoint = adjoint
        self.iterable = iterable
        self.l = len(iterable)
        if snapshots is None:
            snapshots = 10
        if not isinstance(snapshots, (int, np.integer)) or snapshots < 1:
            from .errors import S2SadError
            raise S2SadError(f"checkpointed(..., snapshots={snapshots!r}): snapshots must be an int >= 1 "
                             "(the number of loop states held at once, the initial one included)")
        self.s = int(snapshots)
        self.rngs = tuple(r for r in rngs if isinstance(r, (np.random.Generator, np.random.RandomState)))
        self.check = check
        self.copy = copy
        self.stats = {"forward_steps": 0, "peak_snapshots": 0, "peak_bytes": 0}
        self._slots = {}
        self._bytes = 0
        self._prints = {}
        report(self)

    # -- bookkeeping -------------------------------------------------------
    def _rng_state(self):
        return tuple(r.bit_generator.state if isinstance(r, np.random.Generator) else r.get_state()
                     for r in self.rngs)

    def _set_rng(self, st):
        for r, s in zip(self.rngs, st):
            if isinstance(r, np.random.Generator):
                r.bit_generator.state = s
            else:
                r.set_state(s)

    def _snapshot(self, slot, step, state, rng=None):
        """Hold ``state`` (at ``step``) in ``slot`` with the random generators'
        state ``rng`` (default: their state now)."""
        self._free(slot)
        self._store(slot, (step, _copy_state(state) if self.copy else state,
                           self._rng_state() if rng is None else rng))

    def _store(self, slot, entry):
        """Hold a snapshot; peaks are kept with a running byte total (O(1))."""
        self._slots[slot] = entry
        self._bytes += state_bytes(entry[1])
        n = len(self._slots)
        if n > self.stats["peak_snapshots"]:
            self.stats["peak_snapshots"] = n
        if self._bytes > self.stats["peak_bytes"]:
            self.stats["peak_bytes"] = self._bytes

    def _free(self, slot):
        old = self._slots.pop(slot, None)
        if old is not None:
            self._bytes -= state_bytes(old[1])

    def _advance(self, state, k, n, first):
        for j in range(k, k + n):
            state = self.step(self._index(j), *state)
            if self.check:
                fp = _fingerprint(state)
                if first:
                    self._prints[j + 1] = fp
                elif self._prints.get(j + 1, fp) != fp:
                    from .errors import S2SadError
                    raise S2SadError(
                        f"checkpointed loop: recomputing step {j} gave a different state than the first sweep",
                        hint="the loop body is not deterministic: draw random numbers from a numpy Generator "
                             "that the loop reads (its state is saved with each snapshot), or use the tape")
        self.stats["forward_steps"] += n
        return state

    def _index(self, j):
        return self.iterable[j]

    def last(self, value):
        """The loop variable after the loop: the last element, or ``value``
        (what it was before) when the loop ran no step."""
        return self.iterable[self.l - 1] if self.l else value

    # -- the two sweeps ----------------------------------------------------
    def forward(self, state):
        """Run the loop from ``state`` (a tuple); returns the final state."""
        self._keep_initial(state)
        if self.l == 0:
            return state
        self._snapshot(0, 0, state)
        self._actions = _ck.offline_schedule(self.l, self.s)
        sweep = _Sweep(self, first=True)
        if not _ck.execute(self._actions, sweep, state):
            raise RuntimeError("the checkpoint schedule ended without reversing a step")
        self.final = sweep.out
        return sweep.out

    def reverse(self, state_adj):
        """Adjoint of the loop: from the adjoint of the final state to the
        adjoint of the initial state (a tuple)."""
        if self.l == 0:
            return state_adj
        rng_now = self._rng_state()
        adj = self._pending.send(state_adj)
        self._pending = None
        return self._sweep(self._actions, adj, None, rng_now)

    def _sweep(self, actions, adj, cur, rng_now):
        """Run the reverse part of a schedule from the current state ``cur``
        with ``adj``, the adjoint of the state after the step reversed next."""
        sweep = _Sweep(self, first=False, adj=adj)
        _ck.execute(actions, sweep, cur)
        self._slots.clear()
        self._bytes = 0
        self._set_rng(rng_now)
        self._restore_initial()
        return sweep.adj

    def _keep_initial(self, state):
        """The initial state, and (when the body writes into its arrays) a
        copy of their contents: the forward sweep changes those arrays in
        place, as the loop does in Python."""
        self.initial = self.final = state
        self._initial_copy = _copy_state(state) if self.copy else None

    def _restore_initial(self):
        """After the reverse sweep the loop's arrays hold their initial
        values again -- the very objects, so other names that share them
        (an alias made before the loop) see the restored values too."""
        if self._initial_copy is not None:
            for v, c in zip(self.initial, self._initial_copy):
                if v is not c and isinstance(v, np.ndarray):
                    np.copyto(v, c)


class _Sweep:
    """What a :class:`Checkpointed` loop does for each action of its schedule
    (the driver of :func:`s2sad_runtime.checkpoint.execute`) in one sweep.
    The first sweep (``first``) records fingerprints for ``check`` and stops
    at its reverse, the loop's last step: that step's adjoint frame waits in
    ``loop._pending`` for the adjoint of the loop's result, and ``out`` is
    the step's result.  In the reverse sweep each ``reverse`` runs a step's
    adjoint at once, carrying ``adj`` back.  ``rng``: the random generators'
    state held with a snapshot (``None``: their state now)."""

    __slots__ = ("loop", "first", "adj", "out", "rng")

    def __init__(self, loop, first, adj=None):
        self.loop = loop
        self.first = first
        self.adj = adj
        self.out = None
        self.rng = None

    def advance(self, state, step, n):
        return self.loop._advance(state, step, n, self.first)

    def snapshot(self, slot, step, state):
        self.loop._snapshot(slot, step, state, self.rng)

    def restore(self, slot, step):
        loop = self.loop
        _, state, rs = loop._slots[slot]
        loop._set_rng(rs)
        # a body that writes into its arrays would change the snapshot itself
        return _copy_state(state) if loop.copy else state

    def reverse(self, state, step):
        loop = self.loop
        gen = loop.adjoint(loop._index(step), *state)
        loop.stats["forward_steps"] += 1
        if self.first:
            # the last step runs taped: its frame waits for the adjoint
            loop._pending = gen
            self.out = next(gen)
            return True
        next(gen)
        self.adj = gen.send(self.adj)
        return False

    def free(self, slot, step):
        self.loop._free(slot)


class CheckpointedWhile(Checkpointed):
    """A checkpointed ``while`` loop: its length is known only when it ends,
    so snapshots follow the online schedule (:class:`OnlineCheckpointer`,
    optimal while ``l <= (s+1)(s+2)/2``, within a few percent beyond; see
    docs/checkpointing_schedules.md).  ``test`` is the index of the loop
    test in the state tuple.  The last step is evaluated once more, taped,
    when the reverse sweep starts (the loop only knows it was the last one
    after running it)."""

    def __init__(self, step, adjoint, test, snapshots, rngs=(), check=False, copy=False):
        super().__init__(step, adjoint, range(0), snapshots, rngs, check, copy)
        self.test = test

    def forward(self, state):
        self._keep_initial(state)
        ck = _ck.OnlineCheckpointer(self.s)
        self._ck = ck
        self._snapshot(0, 0, state)
        sweep = _Sweep(self, first=True)
        prev, prev_rng = None, None
        cur, j = state, 0
        while cur[self.test]:
            sweep.rng = prev_rng
            _ck.execute(ck.step(), sweep, prev)   # snapshots of prev = x_{j-1}
            prev, prev_rng = cur, self._rng_state()
            cur = self._advance(cur, j, 1, True)
            j += 1
        self.l = j
        self._prev = (prev, prev_rng)
        self.final = cur
        return cur

    def _index(self, j):
        return j   # a while loop's steps are counted, not taken from an iterable

    def reverse(self, state_adj):
        if self.l == 0:
            return state_adj
        rng_now = self._rng_state()
        cur, cur_rng = self._prev
        self._set_rng(cur_rng)
        return self._sweep(self._ck.reverse_schedule(), state_adj, cur, rng_now)
