"""Binomial (offline) and online checkpointing schedules of
s2sad_runtime.checkpoint: optimal counts, validity, laziness, the reference
driver against store-everything reversal, and the table in
docs/checkpointing_schedules.md."""

import math
import os
import subprocess
import sys
from functools import lru_cache
from itertools import islice

import numpy as np
import pytest

from s2sad_runtime.checkpoint import (
    Action, OnlineCheckpointer, ScheduleError, beta, offline_schedule, online_costs,
    online_schedule, optimal_forward_steps, overhead_table, repetition_number,
    run_checkpointed, simulate)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# independent reference values


def rep(l, s):
    """Smallest r with C(s + r, s) >= l (computed naively)."""
    r = 0
    while math.comb(s + r, s) < l:
        r += 1
    return r


def formula(l, s):
    """l + r l - C(s + r, r - 1): the body evaluations of the optimal schedule."""
    r = rep(l, s)
    return l + r * l - (math.comb(s + r, r - 1) if r >= 1 else 0)


@lru_cache(maxsize=None)
def best_split_advances(l, s):
    """Fewest advances over *every* split schedule (brute-force recursion):
    advance m, snapshot (unless the right part is one step), reverse the right
    part with s - 1 slots, restore, reverse the left part with s slots."""
    if l <= 1:
        return 0
    best = None
    for m in range(1, l):
        if l - m > 1 and s == 1:
            continue
        c = m + best_split_advances(l - m, s - 1 if l - m > 1 else s) + best_split_advances(m, s)
        best = c if best is None else min(best, c)
    return best


# --------------------------------------------------------------------------
# offline schedule


@pytest.mark.parametrize("s", [1, 2, 3, 5, 10])
def test_offline_count_every_l(s):
    for l in range(0, 301):
        st = simulate(offline_schedule(l, s), l, s)
        assert st.forward_steps == formula(l, s), (l, s)
        assert st.forward_steps == optimal_forward_steps(l, s)
        assert st.peak_snapshots <= s
        r = rep(l, s)
        assert repetition_number(l, s) == r
        # "no step is advanced more than r times": every step is evaluated at
        # most r times untaped (advance) plus once taped (its reverse), and
        # some step reaches that bound.
        assert st.max_advances_per_step == (r + 1 if l else 0), (l, s)


@pytest.mark.parametrize("l, s, expected", [
    (1000, 10, 4636), (10000, 20, 47976), (14, 4, 36), (8, 2, 22),
])
def test_offline_spot_values(l, s, expected):
    st = simulate(offline_schedule(l, s), l, s)
    assert st.forward_steps == expected == formula(l, s)
    assert st.peak_snapshots <= s
    assert st.max_advances_per_step == rep(l, s) + 1


def test_single_snapshot_restarts_from_x0():
    for l in range(0, 60):
        actions = list(offline_schedule(l, 1))
        st = simulate(actions, l, 1)
        assert st.forward_steps == l * (l + 1) // 2
        assert st.peak_snapshots == 1 and st.snapshots_taken == 0
        assert {a.slot for a in actions if a.kind == "restore"} <= {0}
        assert st.max_advances_per_step == max(l, 0)


def test_formula_is_the_best_split_schedule():
    for s in range(1, 5):
        for l in range(1, 41):
            assert l + best_split_advances(l, s) == formula(l, s), (l, s)


def test_small_schedule_verbatim():
    assert list(offline_schedule(4, 2)) == [
        Action("advance", 0, -1, 1), Action("snapshot", 1, 1),
        Action("advance", 1, -1, 2), Action("reverse", 3),
        Action("restore", 1, 1), Action("advance", 1, -1, 1), Action("reverse", 2),
        Action("restore", 1, 1), Action("reverse", 1), Action("free", 1, 1),
        Action("restore", 0, 0), Action("reverse", 0),
    ]
    assert list(offline_schedule(0, 3)) == []
    assert list(offline_schedule(1, 3)) == [Action("reverse", 0)]


def test_every_offline_snapshot_is_freed_and_slot0_kept():
    for l, s in [(50, 3), (300, 5), (1000, 10)]:
        actions = list(offline_schedule(l, s))
        snaps = [a for a in actions if a.kind == "snapshot"]
        frees = [a for a in actions if a.kind == "free"]
        assert len(frees) == len(snaps)
        assert all(a.slot != 0 for a in snaps + frees)
        assert all(0 <= a.slot < s for a in snaps)


def test_offline_is_lazy():
    n = sum(1 for _ in offline_schedule(10000, 20))
    assert n > 40000
    # a lazy generator: the first actions of an astronomically long schedule
    # (a schedule built up front would never return; speed is bench/'s job)
    head = list(islice(offline_schedule(10 ** 12, 50), 10))
    assert head[0].kind == "advance" and head[1].kind == "snapshot"
    # s = 1 does not recurse
    assert sum(1 for _ in offline_schedule(5000, 1)) == 3 * 5000 - 2


def test_bad_arguments_raise_at_call_time():
    for l, s in [(-1, 2), (5, 0), (2.0, 2), (5, None)]:
        with pytest.raises(ScheduleError):
            offline_schedule(l, s)
    with pytest.raises(ScheduleError):
        OnlineCheckpointer(0)


# --------------------------------------------------------------------------
# simulate rejects invalid schedules


def _bad(actions, l, s=None, match=""):
    with pytest.raises(ScheduleError, match=match):
        simulate(actions, l, s)


def test_simulate_rejects_invalid_schedules():
    A = Action
    _bad([A("reverse", 0), A("reverse", 1)], 2, match="next reverse")
    _bad([A("advance", 0, -1, 1)], 2, match="ended before reverse")
    _bad([A("restore", step=0, slot=2), A("reverse", 1)], 2, match="empty")
    _bad([A("advance", 0, n=1), A("restore", step=1, slot=0), A("reverse", 1)], 2,
         match="holds step 0")
    _bad([A("advance", 1, -1, 1)], 3, match="at step 0")
    _bad([A("advance", 0, -1, 0)], 3, match="n must")
    _bad([A("advance", 0, -1, 4)], 3, match="past")
    _bad([A("advance", 0, n=1), A("snapshot", step=1, slot=2)], 3, 2, match="out of range")
    _bad([A("advance", 0, n=1), A("snapshot", step=0, slot=1)], 3, match="at step 1")
    _bad([A("advance", 0, -1, 1), A("reverse", 1), A("advance", 1, -1, 1)], 2,
         match="undefined")
    _bad([A("free", step=3, slot=0)], 2, match="holds step 0")
    _bad([A("free", step=0, slot=1)], 2, match="empty")
    _bad([A("jump", 0)], 2, match="unknown kind")
    # free(slot 0) is legal but then x_0 can no longer be restored
    _bad([A("advance", 0, -1, 1), A("free", 0, 0), A("reverse", 1), A("restore", 0, 0)], 2,
         match="empty")


def test_simulate_counts_a_hand_schedule():
    A = Action
    acts = [A("advance", 0, -1, 2), A("reverse", 2), A("restore", 0, 0),
            A("advance", 0, -1, 1), A("snapshot", 1, 1), A("reverse", 1),
            A("restore", 0, 0), A("reverse", 0)]
    st = simulate(acts, 3, 2)
    assert (st.forward_steps, st.peak_snapshots, st.max_advances_per_step) == (6, 2, 3)
    assert st.snapshots_taken == 1 and st.actions == 8


# --------------------------------------------------------------------------
# online schedule


def test_online_matches_offline_up_to_beta_s_2():
    for s in range(1, 13):
        limit = beta(s, 2) + 1                          # (s+1)(s+2)/2 + 1
        costs = online_costs(s, limit + 1)
        for l in range(limit + 1):
            assert costs[l] == formula(l, s), (l, s)
        if s >= 2:
            # no online rule can be exact at beta(s, 2) + 2 (see the docs)
            assert costs[limit + 1] > formula(limit + 1, s)


@pytest.mark.parametrize("s", [1, 2, 3, 5, 8])
def test_online_schedules_are_valid_and_predicted(s):
    costs, most = online_costs(s, 150, max_evaluations=True)
    for l in list(range(0, 60)) + [97, 150]:
        st = simulate(online_schedule(l, s), l, s)
        assert st.forward_steps == costs[l] >= formula(l, s)
        assert st.max_advances_per_step == most[l]
        assert st.peak_snapshots <= s


def test_online_never_below_optimum_and_bounded_overhead():
    for s, lmax, worst in [(2, 2000, 1.11), (5, 3000, 1.04), (10, 3000, 1.03)]:
        costs = online_costs(s, lmax)
        ratios = [costs[l] / formula(l, s) for l in range(1, lmax + 1)]
        assert min(ratios) == 1.0
        assert max(ratios) < worst


def _reference_greedy_positions(s, lmax):
    """The online rule written out plainly: at each iteration j >= 2 store
    x_{j-1} in a free slot, else keep or overwrite, whichever reverses l = j+1
    steps cheapest (ties: overwrite, leftmost)."""
    def cost(pos, l):
        k = len(pos) - 1
        return (sum(formula(pos[i + 1] - pos[i], s - i) - (pos[i + 1] - pos[i])
                    for i in range(k)) + formula(l - 1 - pos[k], s - k) - (l - 1 - pos[k]))
    pos, out = [0], []
    for j in range(lmax):
        new = j - 1
        if new >= 1:
            if len(pos) < s:
                pos = pos + [new]
            elif s > 1:
                cands = [pos[:q] + pos[q + 1:] + [new] for q in range(1, len(pos))]
                keep = cost(pos, j + 1)
                best = min(cands, key=lambda c: cost(c, j + 1))  # leftmost of the cheapest
                if cost(best, j + 1) <= keep:
                    pos = best
        out.append(tuple(pos))
    return out


@pytest.mark.parametrize("s", [2, 3, 5, 9])
def test_online_decisions_match_plain_greedy(s):
    lmax = 600
    ref = _reference_greedy_positions(s, lmax)
    ck = OnlineCheckpointer(s)
    for j in range(lmax):
        ck.step()
        assert tuple(sorted(ck.snapshots.values())) == ref[j], j


def test_online_protocol_errors_and_step_actions():
    ck = OnlineCheckpointer(3)
    got = [ck.step() for _ in range(6)]
    assert got[0] == () and got[1] == ()                    # x_0 is in slot 0
    assert got[2] == (Action("snapshot", 1, 1),)            # x_1, known not last
    assert got[3] == (Action("snapshot", 2, 2),)            # all 3 slots used
    assert all(a.kind == "snapshot" and a.step == j - 1 and a.slot in (1, 2)
               for j, acts in enumerate(got) for a in acts)
    snaps = ck.snapshots
    assert ck.l == 6 and snaps[0] == 0 and len(snaps) == 3 and max(snaps.values()) <= 4
    sched = list(ck.reverse_schedule())
    assert sched[0] == Action("reverse", 5)
    assert list(online_schedule(6, 3))[-len(sched):] == sched
    with pytest.raises(ScheduleError):
        ck.step()
    with pytest.raises(ScheduleError):
        ck.reverse_schedule()
    assert list(OnlineCheckpointer(2).reverse_schedule()) == []          # l = 0


def test_online_steps_keep_at_most_s_snapshots():
    """Each step does bounded work on at most s snapshots (no per-step
    history grows): after 3000 steps, s slots, all distinct, and the
    schedule still reverses every step."""
    ck = OnlineCheckpointer(50)
    for _ in range(3000):
        ck.step()
        assert len(ck._pos) <= 50 and len(ck._pos) + len(ck._free) == 50
    assert sorted(ck._slot) == sorted(set(ck._slot))
    assert ck._pos == sorted(ck._pos) and ck._pos[0] == 0 and ck.l == 3000


# --------------------------------------------------------------------------
# reference driver vs store-everything reversal, bit for bit


def step_fn(x):
    return np.sin(x) * 1.1 + 0.1


def step_adj(x, xbar):
    return xbar * (np.cos(x) * 1.1)


def store_all(x0, l, seed):
    xs = [x0]
    for _ in range(l):
        xs.append(step_fn(xs[-1]))
    bar = seed(xs[-1]) if callable(seed) else seed
    for j in range(l - 1, -1, -1):
        bar = step_adj(xs[j], bar)
    return xs[-1], bar


X0 = np.linspace(-1.3, 2.1, 7)
SEED = np.array([0.3, -1.0, 2.0, 0.5, 1.5, -0.25, 1.0])
CASES = [(0, 1), (1, 1), (2, 1), (7, 1), (10, 2), (25, 3), (50, 5), (64, 4), (100, 10),
         (13, 20), (200, 6)]


@pytest.mark.parametrize("online", [False, True])
@pytest.mark.parametrize("l, s", CASES)
def test_run_checkpointed_bitwise(l, s, online):
    want_x, want_bar = store_all(X0, l, SEED)
    res = run_checkpointed(step_fn, step_adj, X0, l, s, SEED, online=online)
    assert res.state.tobytes() == want_x.tobytes()
    assert res.state_bar.tobytes() == want_bar.tobytes()
    assert res.l == l and res.adjoint_calls == l
    assert res.peak_snapshots <= s
    model = (simulate(online_schedule(l, s), l, s) if online
             else simulate(offline_schedule(l, s), l, s)).forward_steps
    assert res.step_calls + res.adjoint_calls == (model + 1 if l else 0)


def test_run_checkpointed_online_while_loop_unknown_length():
    def grow(x):
        return x * 1.05 + 0.1 * np.sin(x) + 0.01

    def grow_adj(x, xbar):
        return xbar * (1.05 + 0.1 * np.cos(x))

    def cond(x):
        return x.max() < 5.0

    x0 = np.array([0.5, 1.0, 1.5])
    xs = [x0]
    while cond(xs[-1]):
        xs.append(grow(xs[-1]))
    l = len(xs) - 1
    assert l > 20
    bar = np.ones_like(x0)
    for j in range(l - 1, -1, -1):
        bar = grow_adj(xs[j], bar)
    for s in (1, 2, 4, 9):
        res = run_checkpointed(grow, grow_adj, x0, None, s, cond=cond, online=True)
        assert res.l == l
        assert res.state.tobytes() == xs[-1].tobytes()
        assert res.state_bar.tobytes() == bar.tobytes()
        assert res.peak_snapshots <= s


def test_run_checkpointed_seed_callable_and_default():
    want_x, want_bar = store_all(X0, 9, lambda x: 2 * x)
    res = run_checkpointed(step_fn, step_adj, X0, 9, 3, lambda x: 2 * x)
    assert res.state_bar.tobytes() == want_bar.tobytes()
    _, want_bar = store_all(X0, 9, np.ones_like(X0))
    assert run_checkpointed(step_fn, step_adj, X0, 9, 3).state_bar.tobytes() == want_bar.tobytes()


# --------------------------------------------------------------------------
# the docs table, and the runtime's independence from the compiler


def test_docs_table_is_current():
    with open(os.path.join(ROOT, "docs", "checkpointing_schedules.md")) as f:
        doc = f.read()
    assert overhead_table() in doc, (
        "regenerate the table: python -m s2sad_runtime.checkpoint")


def test_runtime_module_imports_without_compiler():
    code = ("import sys; sys.modules['gast'] = None; sys.modules['s2sad'] = None; "
            "import s2sad_runtime.checkpoint as c; print(c.optimal_forward_steps(8, 2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "22"
