"""Binomial checkpointing schedules for reversing a loop of ``l`` steps.

A loop ``x_{j+1} = F(x_j)``, ``j = 0 .. l-1``, has to be reversed: the adjoint
of step ``j`` needs the state ``x_j``, and the adjoints run in the order
``l-1, l-2, ..., 0``.  Storing every ``x_j`` costs ``l`` states of memory; a
*checkpointing schedule* keeps at most ``s`` states (the *snapshots*, the
initial state ``x_0`` included) and recomputes the others from the nearest
snapshot.  This module produces such schedules as streams of :class:`Action`
records, which :func:`execute` runs on a driver (the checkpointed loops of
generated code, or :func:`run_checkpointed`).

Our own implementation of these published algorithms:

* Offline (``l`` known in advance), :func:`offline_schedule`: the binomial
  schedule of A. Griewank, "Achieving logarithmic growth of temporal and
  spatial complexity in reverse automatic differentiation", Optimization
  Methods and Software 1 (1992) 35-54, as implemented by A. Griewank and
  A. Walther, "Algorithm 799: Revolve: an implementation of checkpointing for
  the reverse or adjoint mode of computational differentiation", ACM TOMS 26
  (2000) 19-45.  With ``beta(c, r) = C(c + r, c)`` and ``r`` the smallest
  integer with ``beta(s, r) >= l`` (the *repetition number*), it evaluates
  the loop body exactly ::

      l + r*l - C(s + r, r - 1)

  times (the plain ``advance`` steps plus one taped evaluation per
  ``reverse``), which is the minimum over all schedules holding at most ``s``
  states, and no step is evaluated more than ``r + 1`` times (at most ``r``
  untaped ``advance`` evaluations plus its one taped evaluation in
  ``reverse``).  For ``s = 1`` this is ``l (l + 1) / 2`` (restart from ``x_0``
  for every step).

* Online (``l`` unknown until the loop ends), :class:`OnlineCheckpointer`:
  the setting of P. Stumm and A. Walther, "New algorithms for optimal online
  checkpointing", SIAM J. Sci. Comput. 32(2) (2010), and of Q. Wang, P. Moin
  and G. Iaccarino, "Minimal repetition dynamic checkpointing algorithm for
  unsteady adjoint calculation", SIAM J. Sci. Comput. 31(4) (2009)
  2549-2567.  We implement neither paper's rules literally; the placement
  rule is our own *cost-greedy* rule, chosen because it is short and
  provably offline-optimal on the longest prefix of ``l`` on which any
  online rule can be: during the forward sweep, whenever the driver learns
  that one more step exists, the checkpointer either keeps its snapshots or
  overwrites one of them with the newest state, whichever makes the cost of
  reversing *right now* smallest (ties: overwrite, and the leftmost
  snapshot).  The reverse sweep then runs the offline binomial schedule on
  each gap between snapshots.

  How far it is from the offline optimum (both counted in the same model,
  see "Cost model" below), with ``beta(s, 2) = (s + 1)(s + 2) / 2``:

  - ``l <= beta(s, 2) + 1``: exactly the offline optimum (tested for every
    ``s <= 12``, proved in docs/checkpointing_schedules.md).  No online rule
    can do better: at ``l = beta(s, 2) + 2`` every online rule that was
    optimal at ``beta(s, 2)`` and ``beta(s, 2) + 1`` loses at least one
    evaluation.  ``s = 1`` has no choice to make and is always optimal.
  - larger ``l``: a heuristic.  Measured exhaustively for every
    ``l <= 10000``: at most 3.5 % above the optimum for ``s = 5``, 2.1 % for
    ``s = 10``, 2.3 % for ``s = 20``, 0.03 % for ``s = 50`` (10.2 % for
    ``s = 2``, 5.2 % for ``s = 3``); the table is in
    docs/checkpointing_schedules.md and ``python -m s2sad_runtime.checkpoint``
    regenerates it.
  - it does not keep the offline bound of ``r + 1`` evaluations per step: a
    long last gap with one slot gets recomputed often (``s = 20``: up to 10
    evaluations of one step where the offline schedule needs 5).

Cost model (the same for both schedules; :func:`simulate` counts it)
--------------------------------------------------------------------
The driver holds one *current state*, which starts at step 0; ``x_0`` also
sits in slot 0 before the schedule starts and counts as one of the ``s``
snapshots.  The actions (all fields are ints; unused ones are ``-1``/``0``):

``advance(n, step)``   run the primal body ``n`` times (no taping) from the
                       current state, which is at ``step``.
``snapshot(slot, step)`` store the current state (at ``step``) in ``slot``
                       (``0 <= slot < s``); overwrites what was there.
``restore(slot, step)`` current state := the snapshot in ``slot`` (at ``step``).
``reverse(step)``      the current state is at ``step``: run the body once with
                       taping and then its one-step adjoint; afterwards the
                       current state is undefined.  The reverses come in the
                       order ``l-1, l-2, ..., 0``.
``free(slot, step)``   the snapshot of ``step`` in ``slot`` is dead (optional
                       bookkeeping; the driver may drop it).  Slot 0 is never
                       freed: ``x_0`` belongs to the driver.

``forward_steps`` = advanced steps + one per reverse.  The body of the last
step ``l-1`` is evaluated only by ``reverse(l-1)``, so the loop result
``x_l`` comes out of that taped evaluation.  A driver that must have ``x_l``
*before* the adjoint sweep (the usual case: the code after the loop needs it)
evaluates body ``l-1`` once more, untaped: one extra evaluation, for the
offline and the online schedule alike (:func:`run_checkpointed` does this).

Online driver protocol
----------------------
::

    ck = OnlineCheckpointer(s)
    slots[0] = x                      # x_0
    prev = None
    while cond(x):                    # iteration j = ck.l begins
        for a in ck.step():           # decisions about prev = x_{j-1}
            if a.kind == "snapshot":  # a.step == j - 1
                slots[a.slot] = prev
        prev, x = x, body(x)
    # l = ck.l; x = x_l is the loop result; the current state is prev = x_{l-1}
    for a in ck.reverse_schedule(): ...   # starts with reverse(l-1) on prev

``step()`` is called once per iteration, after the loop condition said "go
on" and before the body runs; its snapshot actions always refer to the
*previous* state ``x_{j-1}`` (known by then not to be the last one), which
the driver keeps alive for one more iteration.  That costs no memory peak:
``prev`` and ``x`` are alive together anyway while ``body`` computes ``x``.
A snapshot into an occupied slot overwrites it (the old state may be dropped
at that moment).  :func:`online_schedule` replays the same decisions as one
action stream in the cost model above (``step()`` decisions, then
``advance(1, j)``), so that :func:`simulate` can count and check it.

This module needs only the standard library (NumPy, lazily, for the default
seed of :func:`run_checkpointed`).
"""

from __future__ import annotations

import bisect
from math import comb
from typing import Callable, Iterable, Iterator, NamedTuple, Optional

__all__ = [
    "Action",
    "ScheduleError",
    "ScheduleStats",
    "RunResult",
    "beta",
    "repetition_number",
    "optimal_forward_steps",
    "offline_schedule",
    "OnlineCheckpointer",
    "online_schedule",
    "simulate",
    "execute",
    "run_checkpointed",
    "online_costs",
    "overhead_table",
]

ADVANCE = "advance"
SNAPSHOT = "snapshot"
RESTORE = "restore"
REVERSE = "reverse"
FREE = "free"
KINDS = (ADVANCE, SNAPSHOT, RESTORE, REVERSE, FREE)


class Action(NamedTuple):
    """One instruction of a schedule.  ``kind`` is one of ``"advance"``,
    ``"snapshot"``, ``"restore"``, ``"reverse"``, ``"free"``; ``step`` is the
    step the current state (or the slot) is at, ``slot`` the snapshot slot
    (``-1`` when unused), ``n`` the number of steps of an ``advance``."""

    kind: str
    step: int = -1
    slot: int = -1
    n: int = 0

    def __repr__(self):
        if self.kind == ADVANCE:
            return f"advance(n={self.n}, from={self.step})"
        if self.kind == REVERSE:
            return f"reverse({self.step})"
        return f"{self.kind}(slot={self.slot}, step={self.step})"


class ScheduleError(ValueError):
    """A schedule is invalid (raised by :func:`simulate`), or the arguments of
    a schedule generator are."""


class ScheduleStats(NamedTuple):
    """What :func:`simulate` counts."""

    forward_steps: int          # advanced steps + one per reverse
    peak_snapshots: int         # most slots live at once (x_0's slot included)
    max_advances_per_step: int  # most evaluations of one step, reverse included
    advanced_steps: int         # advanced steps only
    snapshots_taken: int        # number of snapshot actions
    actions: int                # number of actions


# ---------------------------------------------------------------------------
# binomial numbers


def beta(c: int, r: int) -> int:
    """``beta(c, r) = C(c + r, c)``: the most steps ``c`` snapshots can
    reverse when no step is advanced more than ``r`` times; 0 for ``r < 0``."""
    if r < 0 or c < 0:
        return 0
    return comb(c + r, c)


_ROWS: dict = {}


def _rep(n: int, c: int) -> int:
    """Smallest ``r >= 0`` with ``beta(c, r) >= n`` (``c >= 1``)."""
    if n <= 1:
        return 0
    if c == 1:
        return n - 1
    row = _ROWS.get(c)
    if row is None:
        row = _ROWS[c] = [1]
    while row[-1] < n:
        r = len(row) - 1
        row.append(row[-1] * (c + r + 1) // (r + 1))
    return bisect.bisect_left(row, n)


def _advances(n: int, c: int) -> int:
    """Fewest ``advance`` steps that reverse ``n`` steps starting from a
    state held in one of ``c`` slots: ``r n - beta(c + 1, r - 1)``."""
    if n <= 1:
        return 0
    if c == 1:
        return n * (n - 1) // 2
    r = _rep(n, c)
    return r * n - comb(c + r, c + 1)


def _check_args(l, s):
    if not isinstance(l, int) or isinstance(l, bool) or l < 0:
        raise ScheduleError(f"the number of steps must be an int >= 0, got {l!r}")
    if not isinstance(s, int) or isinstance(s, bool) or s < 1:
        raise ScheduleError(
            f"the number of snapshots s must be an int >= 1 (it includes the "
            f"initial state), got {s!r}")


def repetition_number(l: int, s: int) -> int:
    """The smallest ``r`` with ``C(s + r, s) >= l`` (0 for ``l <= 1``)."""
    _check_args(l, s)
    return _rep(l, s)


def optimal_forward_steps(l: int, s: int) -> int:
    """Fewest body evaluations (advanced steps + ``l`` taped ones) that
    reverse ``l`` steps holding at most ``s`` states:
    ``l + r l - C(s + r, r - 1)``."""
    _check_args(l, s)
    return l + _advances(l, s)


# ---------------------------------------------------------------------------
# offline (binomial) schedule


def _split(n: int, k: int) -> int:
    """Where to put the next snapshot when reversing ``n >= 2`` steps from a
    state held in the first of ``k`` slots: advance ``m`` steps, snapshot,
    reverse the ``n - m`` steps on the right with ``k - 1`` slots, then the
    ``m`` steps on the left with all ``k``.  Any ``m`` with
    ``beta(k, r-2) <= m <= beta(k, r-1)`` and
    ``beta(k-1, r-1) <= n - m <= beta(k-1, r)`` is optimal (both halves stay
    in their own linear piece of the cost function, whose slopes add up);
    the interval is never empty for ``beta(k, r-1) < n <= beta(k, r)``.  We
    take the smallest such ``m`` (it took slightly fewer snapshots than the
    largest in our measurements; the count of evaluations is the same)."""
    r = _rep(n, k)
    return max(1, beta(k, r - 2), n - beta(k - 1, r))


def _binomial(start: int, n: int, slots: tuple, lo: int = 0) -> Iterator[Action]:
    """Reverse steps ``start .. start+n-1``.  The current state is at
    ``start`` and (unless ``n == 1``) also held in ``slots[lo]``;
    ``slots[lo:]`` are the slots this part may use.  Iterative (an explicit
    stack) so that ``s = 1`` with ``l`` in the thousands does not recurse."""
    stack: list = [(start, n, lo)]
    pop, push = stack.pop, stack.append
    while stack:
        task = pop()
        if type(task) is Action:
            yield task
            continue
        a, n, lo = task
        while n > 1:
            m = _split(n, len(slots) - lo)
            yield Action(ADVANCE, a, -1, m)
            # after the right part: free its snapshot, back to ``a``, left part
            push((a, m, lo))
            push(Action(RESTORE, a, slots[lo]))
            if n - m > 1:
                push(Action(FREE, a + m, slots[lo + 1]))
                yield Action(SNAPSHOT, a + m, slots[lo + 1])
                lo += 1
            a += m
            n -= m
        yield Action(REVERSE, a)


def offline_schedule(l: int, s: int) -> Iterator[Action]:
    """The optimal binomial schedule reversing ``l`` steps with ``s``
    snapshots (slot 0 holds ``x_0`` before it starts), produced lazily: the
    actions of (l=10000, s=20) take a few tens of milliseconds."""
    _check_args(l, s)
    if l == 0:
        return iter(())
    return _binomial(0, l, tuple(range(s)))


# ---------------------------------------------------------------------------
# online schedule


class OnlineCheckpointer:
    """Checkpointing for a loop whose number of steps is unknown until it
    ends.  See the module docstring for the driver protocol: call
    :meth:`step` once per iteration (after the loop condition, before the
    body); act on the snapshot actions it returns, which refer to the
    previous state; when the loop has ended, execute
    :meth:`reverse_schedule`."""

    def __init__(self, s: int):
        _check_args(0, s)
        self.s = s
        self.l = 0                 # iterations seen so far
        self._pos = [0]            # snapshot steps, increasing; _pos[0] = 0
        self._slot = [0]           # their slots
        self._free = list(range(s - 1, 0, -1))   # free slots, pop() -> lowest
        self._done = False
        self._cache = None         # see _base_min

    @property
    def snapshots(self) -> dict:
        """``{slot: step}`` of the live snapshots."""
        return dict(zip(self._slot, self._pos))

    def _lengths(self, last_end: int) -> list:
        p = self._pos
        return [p[i + 1] - p[i] for i in range(len(p) - 1)] + [last_end - p[-1]]

    def step(self) -> tuple:
        """Iteration ``j = self.l`` is about to run (so ``l >= j + 1``).
        Returns the actions for the previous state ``x_{j-1}``: ``()`` or
        ``(snapshot(slot, j - 1),)``."""
        if self._done:
            raise ScheduleError("step() after reverse_schedule()")
        j = self.l
        self.l = j + 1
        new = j - 1                # the state we may store now
        if new < 1:                # x_0 is in slot 0 already
            return ()
        if self._free:             # a free slot: store (never hurts)
            slot = self._free.pop()
            self._pos.append(new)
            self._slot.append(slot)
            self._cache = None
            return (Action(SNAPSHOT, new, slot),)
        # All s slots hold snapshots p_0 < ... < p_k (k = s - 1).  Gaps
        # n_i = p_{i+1} - p_i, the last one n_k = new - p_k; gap i is
        # reversed with s - i slots, at cost A(n_i, s - i) (``_advances``).
        # Keeping everything makes the last gap one longer.  Overwriting p_q
        # (1 <= q <= k) merges gaps q-1 and q and gives every later gap one
        # more slot; the new last gap (new .. j) has length 1 and costs 0.
        # Choose the cheapest for l = j + 1; ties: overwrite, leftmost q.
        A = _advances
        s = self.s
        p = self._pos
        k = len(p) - 1
        if k == 0:                 # s == 1: only x_0 is ever held
            return ()
        nk = new - p[k]
        if self._cache is None:
            self._cache = self._base_min(k)
        base, base_q = self._cache
        keep = A(nk + 1, s - k) - A(nk, s - k)
        gk = A(nk, s - k + 1) - A(nk, s - k)
        nprev = p[k] - p[k - 1]
        best = A(nprev + nk, s - k + 1) - A(nprev, s - k + 1) - A(nk, s - k)
        best_q = k
        if base_q and base + gk <= best:
            best, best_q = base + gk, base_q
        if best > keep:
            return ()
        slot = self._slot.pop(best_q)
        del p[best_q]
        p.append(new)
        self._slot.append(slot)
        self._cache = None
        return (Action(SNAPSHOT, new, slot),)

    def _base_min(self, k):
        """``(min, leftmost argmin)`` over ``1 <= q < k`` of the cost change
        of overwriting ``p_q``, without the last gap's own one-more-slot
        gain (which adds the same amount to every q < k).  ``(0, 0)`` if
        there is no such q.  Depends on the closed gaps only."""
        A = _advances
        s = self.s
        p = self._pos
        best, best_q = 0, 0
        gain = 0
        for q in range(k - 1, 0, -1):
            a, b = p[q] - p[q - 1], p[q + 1] - p[q]
            d = A(a + b, s - q + 1) - A(a, s - q + 1) - A(b, s - q) + gain
            if best_q == 0 or d <= best:
                best, best_q = d, q
            gain += A(b, s - q + 1) - A(b, s - q)
        return best, best_q

    def predicted_forward_steps(self) -> int:
        """``forward_steps`` (cost model of :func:`simulate`) if the loop
        ended now, i.e. with ``l = self.l``."""
        l = self.l
        if l == 0:
            return 0
        n = self._lengths(l - 1)
        return (l - 1) + l + sum(_advances(n[i], self.s - i) for i in range(len(n)))

    def predicted_max_evaluations(self) -> int:
        """``max_advances_per_step`` (see :func:`simulate`) if the loop ended
        now: ``2 + max_i r(n_i, s - i)`` over the gaps (``l >= 2``): once in
        the forward sweep, at most ``r(n_i, s - i)`` times in the binomial
        schedule of its gap, once taped."""
        l = self.l
        if l < 2:
            return l
        n = self._lengths(l - 1)
        return 2 + max(_rep(n[i], self.s - i) for i in range(len(n)))

    def reverse_schedule(self) -> Iterator[Action]:
        """The actions of the reverse sweep for ``l = self.l`` steps.  The
        current state must be ``x_{l-1}`` (the driver's ``prev``); the first
        action is ``reverse(l-1)``.  Each gap between snapshots is reversed
        with the offline binomial schedule, using its snapshot's slot and
        every slot not holding an earlier snapshot."""
        if self._done:
            raise ScheduleError("reverse_schedule() called twice")
        self._done = True
        return _online_reverse(self.l, self.s, list(self._pos), list(self._slot))


def _online_reverse(l, s, pos, slot):
    if l == 0:
        return
    yield Action(REVERSE, l - 1)
    free = sorted(set(range(s)) - set(slot))
    for i in range(len(pos) - 1, -1, -1):
        end = l - 1 if i == len(pos) - 1 else pos[i + 1]
        if end > pos[i]:
            yield Action(RESTORE, pos[i], slot[i])
            yield from _binomial(pos[i], end - pos[i], (slot[i], *free))
        if i > 0:
            yield Action(FREE, pos[i], slot[i])
            bisect.insort(free, slot[i])


def online_schedule(l: int, s: int) -> Iterator[Action]:
    """The decisions of :class:`OnlineCheckpointer` for a loop that turns
    out to have ``l`` steps, as one action stream in the cost model (forward
    sweep ``advance(1, j)``, ``j < l - 1``, with the snapshots it asks for,
    then the reverse sweep), for :func:`simulate`."""
    _check_args(l, s)
    return _online_gen(l, s)


def _online_gen(l, s):
    ck = OnlineCheckpointer(s)
    for j in range(l):
        yield from ck.step()
        if j >= 1:
            yield Action(ADVANCE, j - 1, -1, 1)
    yield from ck.reverse_schedule()


# ---------------------------------------------------------------------------
# checking and counting


def simulate(actions: Iterable[Action], l: int, s: Optional[int] = None) -> ScheduleStats:
    """Run a schedule for ``l`` steps symbolically, check it and count.

    Checked: every action acts on a defined current state at the step it
    names; ``restore`` reads a live slot holding that step; ``free`` names a
    live slot; the reverses are exactly ``l-1, ..., 0`` in order; with ``s``
    given, slots are in ``0 .. s-1`` (so never more than ``s`` states are
    held, ``x_0``'s slot 0 included).  Raises :class:`ScheduleError`."""
    _check_args(l, s if s is not None else 1)
    cur: Optional[int] = 0
    live = {0: 0}
    peak = 1
    expect = l - 1
    advanced = snaps = count = 0
    diff = [0] * (l + 2)

    def bad(msg):
        raise ScheduleError(f"action #{count - 1} {a!r}: {msg}")

    for a in actions:
        count += 1
        kind = a.kind
        if kind == ADVANCE:
            n = a.n
            if cur is None:
                bad("the current state is undefined")
            if a.step != cur:
                bad(f"the current state is at step {cur}")
            if not isinstance(n, int) or n < 1:
                bad("n must be an int >= 1")
            if cur + n > l:
                bad(f"advances past step {l}")
            diff[cur] += 1
            diff[cur + n] -= 1
            advanced += n
            cur += n
        elif kind == SNAPSHOT:
            if cur is None or a.step != cur:
                bad(f"the current state is at step {cur}")
            if not isinstance(a.slot, int) or a.slot < 0 or (s is not None and a.slot >= s):
                bad(f"slot out of range 0..{'' if s is None else s - 1}")
            live[a.slot] = cur
            snaps += 1
            if len(live) > peak:
                peak = len(live)
        elif kind == RESTORE:
            if a.slot not in live:
                bad("the slot is empty")
            if live[a.slot] != a.step:
                bad(f"the slot holds step {live[a.slot]}")
            cur = a.step
        elif kind == REVERSE:
            if expect < 0:
                bad("every step is reversed already")
            if a.step != expect:
                bad(f"the next reverse must be reverse({expect})")
            if cur != a.step:
                bad(f"the current state is at step {cur}")
            diff[cur] += 1
            diff[cur + 1] -= 1
            expect -= 1
            cur = None
        elif kind == FREE:
            if a.slot not in live:
                bad("the slot is empty")
            if a.step >= 0 and live[a.slot] != a.step:
                bad(f"the slot holds step {live[a.slot]}")
            del live[a.slot]
        else:
            bad(f"unknown kind; expected one of {KINDS}")
    if expect >= 0:
        raise ScheduleError(f"the schedule ended before reverse({expect})")
    most = run = 0
    for j in range(l):
        run += diff[j]
        if run > most:
            most = run
    return ScheduleStats(advanced + l, peak, most, advanced, snaps, count)


# ---------------------------------------------------------------------------
# executing a schedule


def execute(actions: Iterable[Action], driver, state=None) -> bool:
    """Execute schedule ``actions`` from the current state ``state``: the one
    interpreter of schedules, used by :func:`run_checkpointed` and by the
    checkpointed-loop drivers of ``s2sad_runtime.loops`` (the snapshot
    decisions of :meth:`OnlineCheckpointer.step` included).  ``driver``
    holds the snapshots and runs the body:

    ``driver.advance(state, step, n) -> state``  ``n`` untaped steps from
                                                 ``state``, which is at ``step``
    ``driver.snapshot(slot, step, state)``       hold ``state`` in ``slot``
    ``driver.restore(slot, step) -> state``      the state held in ``slot``
    ``driver.reverse(state, step) -> stop``      the taped step and its adjoint
    ``driver.free(slot, step)``                  drop what ``slot`` holds

    After a ``reverse`` the current state is undefined (``None``).  When
    ``driver.reverse`` returns true, execution stops right after that action
    and ``execute`` returns True: an iterator of actions can be resumed by a
    later call (a loop's forward sweep stops at its last step, whose adjoint
    comes after the rest of the function).  Returns False when the actions
    run out.  Raises :class:`ScheduleError` on an unknown kind."""
    for a in actions:
        kind = a.kind
        if kind == ADVANCE:
            state = driver.advance(state, a.step, a.n)
        elif kind == SNAPSHOT:
            driver.snapshot(a.slot, a.step, state)
        elif kind == RESTORE:
            state = driver.restore(a.slot, a.step)
        elif kind == REVERSE:
            if driver.reverse(state, a.step):
                return True
            state = None
        elif kind == FREE:
            driver.free(a.slot, a.step)
        else:
            raise ScheduleError(f"{a!r}: unknown kind; expected one of {KINDS}")
    return False


# ---------------------------------------------------------------------------
# reference driver


class RunResult(NamedTuple):
    """What :func:`run_checkpointed` returns."""

    state: object          # x_l, the loop result
    state_bar: object      # the adjoint of x_0
    l: int                 # number of steps
    step_calls: int        # calls of step_fn (untaped evaluations)
    adjoint_calls: int     # calls of step_adjoint_fn (one per step)
    peak_snapshots: int    # most states held in slots at once, x_0 included


def _seed_of(seed, final):
    if seed is None:
        import numpy as np
        return np.ones_like(final)
    return seed(final) if callable(seed) else seed


class _Run:
    """:func:`run_checkpointed`'s side of :func:`execute`: slots in a dict,
    ``step_fn`` and ``step_adjoint_fn`` counted."""

    def __init__(self, step_fn, step_adjoint_fn, state0, seed):
        self.step_fn, self.step_adjoint_fn, self.seed = step_fn, step_adjoint_fn, seed
        self.slots = {0: state0}
        self.peak = 1
        self.calls = self.adj = 0
        self.final, self.bar = state0, None

    def advance(self, state, step, n):
        for _ in range(n):
            state = self.step_fn(state)
        self.calls += n
        return state

    def snapshot(self, slot, step, state):
        self.slots[slot] = state
        self.peak = max(self.peak, len(self.slots))

    def restore(self, slot, step):
        return self.slots[slot]

    def reverse(self, state, step):
        if self.bar is None:                      # offline, reverse(l-1)
            self.final = self.step_fn(state)
            self.calls += 1
            self.bar = _seed_of(self.seed, self.final)
        self.bar = self.step_adjoint_fn(state, self.bar)
        self.adj += 1
        return False

    def free(self, slot, step):
        del self.slots[slot]


def run_checkpointed(step_fn: Callable, step_adjoint_fn: Callable, state0, l: Optional[int],
                     s: int, seed=None, *, online: bool = False,
                     cond: Optional[Callable] = None) -> RunResult:
    """Reverse the loop ``x_{j+1} = step_fn(x_j)`` with at most ``s`` held
    states, ``step_adjoint_fn(x_j, xbar_{j+1}) -> xbar_j``.

    ``seed`` is the adjoint of ``x_l`` (an object, a callable of ``x_l``, or
    ``None`` for ``ones_like(x_l)``).  ``online=False`` runs
    :func:`offline_schedule` (``l`` required).  ``online=True`` runs the
    :class:`OnlineCheckpointer` protocol of the module docstring: the loop
    runs while ``cond(x)`` is true (or ``l`` times when ``cond`` is None) and
    the checkpointer never sees ``l`` before the end.  States are kept by
    reference, so ``step_fn`` must return a new object (not mutate its
    argument).  Both ways compute ``x_l`` untaped once before the adjoint
    sweep, so ``step_calls + adjoint_calls`` is the model's
    ``forward_steps + 1`` (``l >= 1``)."""
    run = _Run(step_fn, step_adjoint_fn, state0, seed)
    if online:
        if cond is None and l is None:
            raise ScheduleError("online run: give l or cond")
        ck = OnlineCheckpointer(s)
        x, prev = state0, None
        while cond(x) if cond is not None else ck.l < l:
            execute(ck.step(), run, prev)         # snapshots of prev = x_{j-1}
            prev = x
            x = step_fn(x)
            run.calls += 1
        l = ck.l
        run.final, cur = x, prev
        run.bar = _seed_of(seed, x)
        schedule = ck.reverse_schedule()
    else:
        if cond is not None:
            raise ScheduleError("cond needs online=True")
        schedule = offline_schedule(l, s)
        cur = state0
        if l == 0:
            run.bar = _seed_of(seed, state0)
    execute(schedule, run, cur)
    return RunResult(run.final, run.bar, l, run.calls, run.adj, run.peak)


# ---------------------------------------------------------------------------
# the overhead table of docs/checkpointing_schedules.md

TABLE_S = (5, 10, 20, 50)
TABLE_L = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def online_costs(s: int, lmax: int, max_evaluations: bool = False):
    """``[forward_steps of the online schedule for l = 0 .. lmax]`` (one
    forward run of the checkpointer; the decisions do not depend on ``l``).
    With ``max_evaluations``, also ``[max_advances_per_step ...]``."""
    ck = OnlineCheckpointer(s)
    out, most = [0], [0]
    for _ in range(lmax):
        ck.step()
        out.append(ck.predicted_forward_steps())
        if max_evaluations:
            most.append(ck.predicted_max_evaluations())
    return (out, most) if max_evaluations else out


def overhead_table(s_values=TABLE_S, l_values=TABLE_L, lmax: Optional[int] = None) -> str:
    """The Markdown table of docs/checkpointing_schedules.md: online
    ``forward_steps`` / offline optimum at ``l_values``; the ``l`` up to which
    the online schedule is exact; the worst ratio over every ``l <= lmax``
    (default ``max(l_values)``); and the worst excess of the most evaluations
    of a single step over the offline bound ``r + 1``."""
    lmax = max(l_values) if lmax is None else lmax
    head = "| l | " + " | ".join(f"s = {s}" for s in s_values) + " |"
    rule = "|---:|" + "---:|" * len(s_values)
    rows = {l: [] for l in l_values}
    exact, worst, reps = [], [], []
    for s in s_values:
        c, most = online_costs(s, lmax, max_evaluations=True)
        for l in l_values:
            o = optimal_forward_steps(l, s)
            rows[l].append(f"{c[l] / o:.4f} ({c[l]}/{o})")
        ratio = [(c[l] / optimal_forward_steps(l, s), l) for l in range(1, lmax + 1)]
        first = next((l for r, l in ratio if r != 1.0), None)
        exact.append(f"l <= {first - 1}" if first else f"all l <= {lmax}")
        w, wl = max(ratio)
        worst.append(f"{w:.4f} (l = {wl})")
        e, el = max((most[l] - _rep(l, s) - 1, l) for l in range(1, lmax + 1))
        reps.append(f"+{e} (l = {el}: {most[el]} vs {_rep(el, s) + 1})" if e > 0 else "+0")
    lines = [head, rule]
    lines += [f"| {l} | " + " | ".join(rows[l]) + " |" for l in l_values]
    lines.append("| **exact for** | " + " | ".join(exact) + " |")
    lines.append(f"| **worst, l <= {lmax}** | " + " | ".join(worst) + " |")
    lines.append("| beta(s, 2) | " + " | ".join(str(beta(s, 2)) for s in s_values) + " |")
    lines.append(f"| most evaluations of one step, worst excess over r + 1, l <= {lmax} | "
                 + " | ".join(reps) + " |")
    return "\n".join(lines)


if __name__ == "__main__":      # python -m s2sad_runtime.checkpoint
    print(overhead_table())
