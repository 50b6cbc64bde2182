"""The planned (allocation-free) variant of generated code: allocation
counts with tracemalloc, ``out=``, workspaces per thread, and the cases the
planner must leave generic (data-dependent shapes, random numbers)."""

import os
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import s2sad

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
import workloads as W  # noqa: E402

DOMAIN = np.lib.tracemalloc_domain     # where NumPy reports its array data


def _grads(res):
    return res if isinstance(res, tuple) else (res,)


def measure(call):
    """Run ``call()`` once more after two warm-up calls, under tracemalloc.
    Returns (result, NumPy array blocks allocated by the call and still
    alive after it, their bytes, peak traced memory of all kinds during the
    call above what was traced before it)."""
    call()
    call()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, DOMAIN)])
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        res = call()
        peak = tracemalloc.get_traced_memory()[1] - base
        after = tracemalloc.take_snapshot().filter_traces([tracemalloc.DomainFilter(True, DOMAIN)])
    finally:
        tracemalloc.stop()
    diff = after.compare_to(before, "traceback")
    return res, sum(d.count_diff for d in diff), sum(d.size_diff for d in diff), peak


def _w1(batch):
    args = list(W.make_inputs("mlp"))
    rng = np.random.default_rng(1)
    args[6] = rng.standard_normal((batch, W.MLP_SIZES[0]))
    args[7] = rng.integers(0, W.MLP_SIZES[-1], batch)
    return W.mlp_loss, tuple(range(6)), tuple(args)


def _w3(batch):
    # W3's weights over 12 steps (the allocations of a step do not depend on how many there are)
    Wx, Wh, b, X = W.make_inputs("lstm")
    X = np.random.default_rng(2).standard_normal((12, batch, X.shape[2]))
    return W.lstm_loss, (0, 1, 2), (Wx, Wh, b, X)


@pytest.mark.parametrize("make", [_w1, _w3], ids=["W1-mlp", "W3-lstm"])
def test_steady_state_allocates_only_the_returned_gradients(make):
    f, wrt, args = make(32)
    df = s2sad.grad(f, wrt=wrt)
    res, blocks, nbytes, _ = measure(lambda: df(*args))
    info = df.plan_info
    assert info["allocating"] == [] and info["demoted"] == {}, info
    grads = _grads(res)
    assert blocks == len(grads)
    assert nbytes == sum(g.nbytes for g in grads)
    want = s2sad.grad(f, wrt=wrt, plan=False)(*args)
    for g, w in zip(grads, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.max(np.abs(w)))


@pytest.mark.parametrize("make", [_w1, _w3], ids=["W1-mlp", "W3-lstm"])
def test_with_out_a_call_allocates_no_array_memory(make):
    """With ``out=``: no NumPy array is left behind, and the peak of all
    traced memory during a call does not grow with the problem size (what
    remains is Python objects and NumPy's fixed-size iteration buffer)."""
    peaks = []
    for batch in (64, 128):
        f, wrt, args = make(batch)
        df = s2sad.grad(f, wrt=wrt)
        want = s2sad.grad(f, wrt=wrt, plan=False)(*args)
        outs = tuple(np.empty_like(w) for w in want)
        res, blocks, nbytes, peak = measure(lambda: df(*args, out=outs))
        assert blocks == 0 and nbytes == 0
        assert all(r is o for r, o in zip(res, outs))
        for o, w in zip(outs, want):
            np.testing.assert_allclose(o, w, rtol=1e-12, atol=1e-12 * np.max(np.abs(w)))
        peaks.append(peak)
        array_bytes = sum(a.nbytes for a in args if isinstance(a, np.ndarray))
    assert abs(peaks[1] - peaks[0]) < 4096, peaks
    assert max(peaks) < array_bytes / 4, (peaks, array_bytes)


def test_generic_code_allocates_and_planning_can_be_turned_off():
    f, wrt, args = _w1(32)
    generic = s2sad.grad(f, wrt=wrt, plan=False)
    planned = s2sad.grad(f, wrt=wrt)
    res, _, _, peak_g = measure(lambda: generic(*args))
    _, _, _, peak_p = measure(lambda: planned(*args))
    assert generic.planned_source is None
    grads = sum(g.nbytes for g in _grads(res))
    assert peak_g - grads > 10 * (peak_p - grads), (peak_g, peak_p, grads)


def test_planned_source_is_readable_python():
    f, wrt, args = _w1(8)
    df = s2sad.grad(f, wrt=wrt)
    df(*args)
    src = df.planned_source
    assert src.startswith("def mlp_loss_grad_planned(")
    assert "# workloads.py:43  h1 = np.tanh(X @ W1 + b1)" in src
    assert "np.matmul(X, W1, out=_b0)" in src
    assert "_rt.unbroadcast" not in src       # resolved at the known shapes
    compile(src, "<planned>", "exec")


def test_out_rejects_arrays_of_the_wrong_shape():
    f, wrt, args = _w1(8)
    df = s2sad.grad(f, wrt=wrt)
    df(*args)
    outs = [np.empty((3,)) for _ in range(6)]
    with pytest.raises(s2sad.ArgumentError, match=r"out\[0\] must be a NumPy array of shape \(784, 512\)"):
        df(*args, out=outs)
    with pytest.raises(s2sad.ArgumentError, match="needs 6 arrays"):
        df(*args, out=outs[:2])


def masked(x):
    return np.sum(x[x > 0] ** 2) + np.sum(np.tanh(x) * x)


def test_data_dependent_shapes_stay_generic():
    """A boolean mask's result changes size from call to call with the same
    signature: those statements keep allocating, and every call is right."""
    df = s2sad.grad(masked)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal(50)
        want = 2 * x * (x > 0) + np.tanh(x) + x * (1 - np.tanh(x) ** 2)
        np.testing.assert_allclose(df(x), want, rtol=1e-12)
    assert df.plan_info["allocating"]


def prefix_norm(x, n):
    return np.sum(x[:n] ** 2)


def test_integer_arguments_are_part_of_the_signature():
    df = s2sad.grad(prefix_norm)
    x = np.arange(6.0)
    for n in (2, 5, 2, 5, 3):
        want = np.where(np.arange(6) < n, 2 * x, 0.0)
        np.testing.assert_array_equal(df(x, n), want)


def grow_until(x, c):
    y = x
    while np.sum(y) < c:
        y = y * 1.5
    return np.sum(y * y)


def test_row_stores_grow_when_a_loop_runs_longer():
    """A while loop whose trip count depends on the data: the plan's row
    stores grow on the longer call, and results stay right."""
    df = s2sad.grad(grow_until)
    ref = s2sad.grad(grow_until, plan=False)
    x = np.full(4, 0.1)
    for c in (1.0, 1.0, 50.0, 5.0, 500.0):
        np.testing.assert_allclose(df(x, c), ref(x, c), rtol=1e-12)


def noisy(x):
    return np.sum(np.sin(x) * np.random.standard_normal(x.shape))


def test_random_numbers_are_not_planned():
    df = s2sad.grad(noisy)
    x = np.ones(3)
    df(x)
    df(x)
    assert df.planned_source is None
    assert "random" in df.plan_reason


def test_threads_get_their_own_workspaces():
    f, wrt, args = _w3(8)
    df = s2sad.grad(f, wrt=wrt)
    want = df(*args)
    errors = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(5):
            got = df(*args)
            for g, w in zip(got, want):
                if not np.array_equal(g, w):
                    errors.append(np.max(np.abs(g - w)))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_workspace_pool_never_hands_one_workspace_to_two_callers():
    from s2sad_runtime.plan import WorkspacePool
    pool = WorkspacePool([((3,), "<f8")], [((2,), "<f8", 4)])
    a, b = pool.take(), pool.take()
    assert a is not b and a.buffers[0] is not b.buffers[0]
    pool.give(a)
    assert pool.take() is a and pool.made == 2


def test_take_checks_bounds_like_indexing():
    from s2sad_runtime.plan import take
    x = np.arange(12.0).reshape(3, 4)
    i, j = np.array([0, 2, -1]), np.array([1, -4, 3])
    out, flat = np.empty(3), np.empty(3, np.intp)
    lo, hi = np.empty((), np.intp), np.empty((), np.intp)
    np.testing.assert_array_equal(take(x, (i, j), out, flat, lo, hi), x[i, j])
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 4"):
        take(x, (i, np.array([0, 4, 0])), out, flat, lo, hi)


def test_value_and_grad_with_out_allocates_no_array_memory():
    """The loss value too: a full reduction goes through a 0-d scratch buffer
    and comes out as the NumPy scalar NumPy itself returns."""
    f, wrt, args = _w1(32)
    dv = s2sad.value_and_grad(f, wrt=wrt)
    value, want = s2sad.value_and_grad(f, wrt=wrt, plan=False)(*args)
    outs = tuple(np.empty_like(w) for w in want)
    (v, grads), blocks, nbytes, _ = measure(lambda: dv(*args, out=outs))
    assert blocks == 0 and nbytes == 0
    assert type(v) is type(value) and v == value
    assert all(g is o for g, o in zip(grads, outs))


def _count_plans(monkeypatch):
    """Count the planner's runs (planning costs milliseconds per signature)."""
    from s2sad import plan as planner
    made = []
    real = planner.plan

    def counting(*a, **k):
        made.append(1)
        return real(*a, **k)
    monkeypatch.setattr(planner, "plan", counting)
    return made


def test_only_a_few_signatures_keep_workspaces(monkeypatch):
    """Each planned signature keeps a workspace; past MAX_PLANS the oldest
    is dropped, and its calls run the generic code from then on: cycling
    through more signatures than fit never re-plans on every call."""
    import s2sad.api as api
    monkeypatch.setattr(api, "MAX_PLANS", 4)
    made = _count_plans(monkeypatch)
    df = s2sad.grad(prefix_norm)
    sizes = range(2, 2 + api.MAX_PLANS + 3)
    for rnd in range(3):
        for n in sizes:
            x = np.arange(float(n + 1))
            for _ in range(2):
                np.testing.assert_array_equal(df(x, n), np.where(np.arange(n + 1) < n, 2 * x, 0.0))
    kept = [e for e in df._plans.values() if e is not False]
    assert len(kept) == api.MAX_PLANS
    assert len(made) == len(sizes)            # each signature planned once, in the first round only
    assert "more signatures than the plans kept" in df.plan_reason


def test_a_signature_met_once_is_not_planned(monkeypatch):
    """After the first signature, a new one is planned on its second call:
    an integer argument that changes on every call never costs a plan."""
    made = _count_plans(monkeypatch)
    df = s2sad.grad(prefix_norm)
    x = np.arange(40.0)
    for n in range(1, 30):
        np.testing.assert_array_equal(df(x, n), np.where(np.arange(40) < n, 2 * x, 0.0))
    assert len(made) == 1                     # the first signature only
    df(x, 7)                                  # met for the second time: planned now
    assert len(made) == 2
    df(x, 7)
    assert df._plans[api_plan_key(x, 7)] is df._last_plan


def test_workspace_bytes_bound_the_plans_kept(monkeypatch):
    """Past PLAN_BYTES of workspace the oldest plans go (the newest stays)."""
    import s2sad.api as api
    df = s2sad.grad(prefix_norm)
    x = np.arange(1000.0)
    sizes = {}
    for n in (3, 4, 5, 6):
        df(x, n)
        df(x, n)
        sizes[n] = df.plan_info["workspace_bytes"]
    assert all(v > 0 for v in sizes.values())
    assert all(df._plans[api_plan_key(x, n)] for n in sizes)         # 4 small plans fit the default
    monkeypatch.setattr(api, "PLAN_BYTES", sizes[3] + sizes[4])     # less than any two of the newest
    df(x, 7)
    df(x, 7)
    assert df.plan_info["workspace_bytes"] > sizes[4]
    kept = {k[-1] for k, e in df._plans.items() if e}
    assert kept == {7}                        # the newest plan, alone
    assert all(df._plans[api_plan_key(x, n)] is False for n in sizes)


def api_plan_key(*args):
    import s2sad.api as api
    return api._plan_key(args)


def _zero_trip_while(W, x, y):
    l = 0.0
    k = 0
    while k < 3 and np.sum(x) > -1.0 + k:
        l = l + np.sum((x @ W - y) ** 2)
        k = k + 1
    return l


def test_a_planned_variant_that_fails_is_not_used(monkeypatch):
    """The first call's loop runs zero times: its planned variant raises
    (it does not cover the path), so the generic code runs, with the reason
    in plan_info -- not an exception from a user's call.  (Strict mode, as
    in the other tests, would raise instead.)"""
    import s2sad.api
    monkeypatch.setattr(s2sad.api, "PLAN_STRICT", False)
    rng = np.random.default_rng(0)
    W, y, x = rng.normal(size=(3, 4)), rng.normal(size=4), -np.ones(3)
    df = s2sad.grad(_zero_trip_while, wrt=0)
    want = s2sad.grad(_zero_trip_while, wrt=0, plan=False)(W, x, y)
    for _ in range(3):
        np.testing.assert_array_equal(df(W, x, y), want)
    x2 = rng.normal(size=3) + 2.0
    np.testing.assert_allclose(df(W, x2, y), s2sad.grad(_zero_trip_while, wrt=0, plan=False)(W, x2, y))


def test_planner_names_clear_of_the_functions_own():
    # a local renamed `_b5` (an inlined `b`) or `_r0` once shared the planner's
    # buffer and result names: the planned variant wrote into the wrong array
    def f(x, y):
        _b0, _b1 = y[0], y[1]
        _r0 = x * _b0
        _o = np.sin(_r0) + _b1
        _c0 = np.tanh(_o)
        return np.sum(_c0 * x)

    x, y = np.linspace(0.1, 0.9, 5), np.array([0.3, -0.7])
    df = s2sad.grad(f)
    ref = df(x, y)
    for _ in range(3):
        np.testing.assert_allclose(df(x, y), ref, rtol=1e-13)
    assert df.plan_info["planned"], df.plan_info
    eps = 1e-6
    fd = np.array([(f(x + eps * e, y) - f(x - eps * e, y)) / (2 * eps) for e in np.eye(5)])
    np.testing.assert_allclose(ref, fd, rtol=1e-6, atol=1e-9)
