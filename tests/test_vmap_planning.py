"""The planned (allocation-free) variant of ``vmap(grad(f))``: per-example
gradients written into ``out=`` arrays with no array allocated in a steady
call, checked with tracemalloc as for ``grad`` (tests/test_planning.py),
and against per-example calls of the gradient."""

import os
import sys
import threading

import numpy as np
import pytest

import s2sad

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from per_example import mlp_example, rnn_example  # noqa: E402  (bench/per_example.py's models)
from test_planning import measure  # noqa: E402


SIZES = (30, 24, 16, 5)
AXES = (None,) * 6 + (0, 0)


def _params(rng, dtype=np.float64):
    ps = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        ps += [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype), (0.1 * rng.standard_normal(b)).astype(dtype)]
    return ps


def _batch(rng, n, dtype=np.float64):
    return rng.standard_normal((n, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], n)


def _per_example(df, params, x, y):
    per = [df(*params, x[i], y[i]) for i in range(len(y))]
    return tuple(np.stack([g[k] for g in per]) for k in range(len(per[0])))


def _close(got, want, tol=1e-12):
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * np.max(np.abs(w)))


def test_planned_per_example_mlp_gradient_allocates_no_array_memory():
    """The acceptance point of #17: a steady call of the planned
    ``vmap(grad(f))`` with ``out=`` leaves no NumPy array behind, and the
    peak of all traced memory during it does not grow with the batch."""
    rng = np.random.default_rng(0)
    params = _params(rng)
    df = s2sad.grad(mlp_example, wrt=tuple(range(6)))
    peaks = []
    for n in (32, 64):
        x, y = _batch(rng, n)
        pe = s2sad.vmap(df, in_axes=AXES)
        want = _per_example(df, params, x, y)
        outs = tuple(np.full_like(w, np.nan) for w in want)
        res, blocks, nbytes, peak = measure(lambda: pe(*params, x, y, out=outs))
        info = pe.plan_info
        assert info is not None and info["allocating"] == [] and info["demoted"] == {}, (pe.plan_reason, info)
        assert blocks == 0 and nbytes == 0
        assert all(r is o for r, o in zip(res, outs))
        _close(outs, want)
        peaks.append(peak)
    # what remains is Python objects and NumPy's fixed-size iteration
    # buffer (128 KiB, for the broadcast operands of the outer products)
    assert abs(peaks[1] - peaks[0]) < 4096, peaks
    assert max(peaks) < 2 ** 18, peaks


def test_without_out_only_the_returned_gradients_are_allocated():
    rng = np.random.default_rng(1)
    params = _params(rng)
    x, y = _batch(rng, 16)
    pe = s2sad.vmap(s2sad.grad(mlp_example, wrt=tuple(range(6))), in_axes=AXES)
    res, blocks, nbytes, _ = measure(lambda: pe(*params, x, y))
    assert blocks == len(res) and nbytes == sum(g.nbytes for g in res)
    again = pe(*params, x, y)
    assert all(a is not b and not np.shares_memory(a, b) for a, b in zip(res, again))
    _close(again, res, 0)


def test_planned_source_is_readable_batched_numpy():
    rng = np.random.default_rng(2)
    params = _params(rng)
    x, y = _batch(rng, 8)
    pe = s2sad.vmap(s2sad.grad(mlp_example, wrt=tuple(range(6))), in_axes=AXES)
    assert pe.planned_source is None
    pe(*params, x, y)
    src = pe.planned_source
    assert src.startswith("def mlp_example_grad_vmap_planned(")
    assert "np.matmul(x, W1, out=_b0)" in src                     # the batch of rows times W1
    assert "np.multiply(x[:, :, None]," in src                    # per-example outer products
    assert "_rt.b_matmul" not in src and "_rt.b_unbroadcast" not in src
    compile(src, "<planned>", "exec")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_planned_calls_match_per_example_gradients(dtype):
    rng = np.random.default_rng(3)
    params = _params(rng, dtype)
    df = s2sad.grad(mlp_example, wrt=tuple(range(6)))
    pe = s2sad.vmap(df, in_axes=AXES)
    for n in (5, 7, 5):                 # two signatures, the first met again
        x, y = _batch(rng, n, dtype)
        want = _per_example(df, params, x, y)
        for _ in range(3):
            _close(pe(*params, x, y), want, 1e-12 if dtype == np.float64 else 2e-5)
    assert len([e for e in pe._plans.values() if e]) == 2


def test_out_arrays_are_checked():
    rng = np.random.default_rng(4)
    params = _params(rng)
    x, y = _batch(rng, 4)
    pe = s2sad.vmap(s2sad.grad(mlp_example, wrt=tuple(range(6))), in_axes=AXES)
    good = tuple(np.empty((4,) + p.shape) for p in params)
    pe(*params, x, y, out=good)
    with pytest.raises(s2sad.ArgumentError, match="needs 6 arrays"):
        pe(*params, x, y, out=good[:2])
    with pytest.raises(s2sad.ArgumentError, match=r"out\[0\] must be a NumPy array of shape \(4, 30, 24\)"):
        pe(*params, x, y, out=(np.empty((3, 30, 24)),) + good[1:])
    with pytest.raises(s2sad.ArgumentError, match="shares memory with the argument `W1`"):
        pe(*params, x, y, out=(params[0],) + good[1:])
    with pytest.raises(s2sad.ArgumentError, match="out= is for per-example gradients"):
        s2sad.vmap(mlp_example, in_axes=AXES)(*params, x, y, out=good)


def test_out_may_be_strided_views():
    """``out=`` arrays that are views into one larger array (not
    contiguous) receive the same gradients."""
    rng = np.random.default_rng(5)
    params = _params(rng)
    x, y = _batch(rng, 6)
    df = s2sad.grad(mlp_example, wrt=tuple(range(6)))
    pe = s2sad.vmap(df, in_axes=AXES)
    want = _per_example(df, params, x, y)
    pe(*params, x, y)
    big = [np.zeros((w.shape[0] * 2,) + w.shape[1:]) for w in want]
    outs = tuple(b[::2] for b in big)
    res = pe(*params, x, y, out=outs)
    assert all(r is o for r, o in zip(res, outs))
    _close(outs, want)
    assert all(np.all(b[1::2] == 0) for b in big)


def test_per_sequence_rnn_is_right_where_its_loop_is_not_planned():
    """The time loop's tape is not planned in batched code yet: what can be
    is, the rest runs generic, and every call is right."""
    rng = np.random.default_rng(6)
    H, D, T, n = 6, 3, 5, 4
    W, U, b = 0.4 * rng.standard_normal((H, H)), 0.4 * rng.standard_normal((H, D)), 0.1 * rng.standard_normal(H)
    xs, tg = rng.standard_normal((n, T, D)), rng.standard_normal((n, H))
    df = s2sad.grad(rnn_example, wrt=(0, 1, 2))
    pe = s2sad.vmap(df, in_axes=(None, None, None, 0, 0))
    per = [df(W, U, b, xs[i], tg[i]) for i in range(n)]
    want = tuple(np.stack([g[k] for g in per]) for k in range(3))
    outs = tuple(np.empty_like(w) for w in want)
    for res in (pe(W, U, b, xs, tg), pe(W, U, b, xs, tg), pe(W, U, b, xs, tg, out=outs)):
        _close(res, want)


def test_threads_get_workspaces_of_their_own():
    rng = np.random.default_rng(7)
    params = _params(rng)
    df = s2sad.grad(mlp_example, wrt=tuple(range(6)))
    pe = s2sad.vmap(df, in_axes=AXES)
    batches = [_batch(np.random.default_rng(10 + k), 8) for k in range(4)]
    pe(*params, *batches[0])
    wants = [_per_example(df, params, x, y) for x, y in batches]
    errors = []

    def work(k):
        try:
            for _ in range(20):
                _close(pe(*params, *batches[k]), wants[k])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_plan_false_keeps_the_generic_code():
    rng = np.random.default_rng(8)
    params = _params(rng)
    x, y = _batch(rng, 4)
    pe = s2sad.vmap(s2sad.grad(mlp_example, wrt=tuple(range(6))), in_axes=AXES, plan=False)
    pe(*params, x, y)
    pe(*params, x, y)
    assert pe.planned_source is None and pe.plan_info is None
