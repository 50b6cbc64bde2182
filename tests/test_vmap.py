"""``s2sad.vmap`` against its oracle, the function called once per example:
every corpus function with its random arguments mapped over a batch, the
primal and ``vmap(grad(f))`` (per-example gradients), to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import s2sad
import s2sad_runtime

import corpus_straight as CS
import corpus_control as CC  # noqa: F401  (registers its cases)

B = 3


def _cases():
    out = []
    for mod in ("corpus_straight", "corpus_control"):
        for c in CS.cases(mod):
            if not c.xfail:
                out.append(pytest.param(c, id=c.id))
    return out


def batch_of(c, n=B):
    """``n`` examples of ``c``'s arguments; an argument the same in every
    example (a count, a flag, fixed data) is not mapped, unless it is
    differentiated."""
    sets = [c.make_args()] + [tuple(a.make(np.random.default_rng(1000 + k)) for a in c.args)
                              for k in range(1, n)]
    args, axes = [], []
    for j in range(len(c.args)):
        vals = [s[j] for s in sets]
        same = all(_same(vals[0], v) for v in vals[1:]) and not c.args[j].diff
        if same or not all(isinstance(v, (float, np.ndarray)) for v in vals):
            args.append(vals[0])
            axes.append(None)
        else:
            args.append(np.stack([np.asarray(v, dtype=float) if isinstance(v, float) else v for v in vals]))
            axes.append(0)
    lanes = [[s[j] if axes[j] is not None else args[j] for j in range(len(args))] for s in sets]
    return args, tuple(axes), lanes


def _same(a, b):
    try:
        return type(a) is type(b) and np.array_equal(a, b)
    except Exception:
        return a is b


def assert_lanes(got, want, what, tol=1e-10):
    if isinstance(want[0], (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want[0]), what
        for k in range(len(want[0])):
            assert_lanes(got[k], [w[k] for w in want], f"{what}[{k}]", tol)
        return
    ref = np.stack([np.asarray(w) for w in want])
    got = np.asarray(got)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, per-example calls give {ref.shape}"
    scale = 1.0 + np.max(np.abs(ref)) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol * scale, err_msg=what)


# values whose shape differs from example to example (x[x > 0]): no batched
# form, and vmap says so
RAGGED = {"boolean_mask", "inplace_mask_write"}


def assert_planned_lanes(vg, args, want, what):
    """Per-example gradients from three calls: the first (generic code,
    planned after it), the second (the planned variant where it planned)
    and one writing into ``out=`` arrays."""
    first = vg(*args)
    assert_lanes(first, want, what)
    assert_lanes(vg(*args), want, what + " (second call)")
    parts = first if isinstance(first, tuple) else (first,)
    if all(isinstance(g, np.ndarray) and g.dtype.kind == "f" for g in parts):
        outs = tuple(np.full_like(g, np.nan) for g in parts)
        res = vg(*args, out=outs if isinstance(first, tuple) else outs[0])
        assert all(r is o for r, o in zip(res if isinstance(first, tuple) else (res,), outs)), what
        assert_lanes(res, want, what + " (out=)")


@pytest.mark.parametrize("c", _cases())
def test_vmap_corpus(c):
    args, axes, lanes = batch_of(c)
    assert any(a is not None for a in axes), f"{c.id}: no argument differs between examples"
    vf = s2sad.vmap(c.fn, in_axes=axes)
    if c.id in RAGGED:
        with pytest.raises(s2sad_runtime.BatchError, match="different shapes in different examples"):
            vf(*args)
        return
    assert_lanes(vf(*args), [c.fn(*ln) for ln in lanes], f"{c.id} primal")
    wrt = c.wrt[0] if len(c.wrt) == 1 else tuple(c.wrt)
    df = s2sad.grad(c.fn, wrt=wrt)
    vg = s2sad.vmap(df, in_axes=axes)
    assert_planned_lanes(vg, args, [df(*ln) for ln in lanes], f"{c.id} per-example gradient")


# --------------------------------------------------------------------------
# composition, axes and errors

rng = np.random.default_rng(7)


def mlp_loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    return 0.5 * np.sum((h @ W2 - y) ** 2)


def rnn_loss(W, U, xs, y):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum((h - y) ** 2)


def branchy(x, W):
    h = np.tanh(W @ x)
    if h[0] > 0:
        h = h * 2.0
    k = 0
    while np.sum(h ** 2) > 0.5 and k < 20:
        h = h * 0.7
        k = k + 1
    return np.sum(h ** 2) + k


def _lanes(f, args, axes):
    n = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    return [f(*[np.take(a, i, axis=ax) if ax is not None else a for a, ax in zip(args, axes)]) for i in range(n)]


def test_per_example_mlp_gradients_are_batched_code():
    W1, b1, W2 = rng.normal(size=(5, 7)), rng.normal(size=7), rng.normal(size=(7, 3))
    X, Y = rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    axes = (None, None, None, 0, 0)
    df = s2sad.grad(mlp_loss, wrt=(0, 1, 2))
    pe = s2sad.vmap(df, in_axes=axes)
    assert_lanes(pe(W1, b1, W2, X, Y), _lanes(df, (W1, b1, W2, X, Y), axes), "mlp")
    assert pe.info["lane_loops"] == []
    assert "for " not in pe.source           # no loop over the examples


def test_per_sequence_rnn_gradients_keep_the_time_loop():
    W, U = 0.5 * rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    XS, Y = rng.normal(size=(5, 6, 3)), rng.normal(size=(5, 4))
    axes = (None, None, 0, 0)
    df = s2sad.grad(rnn_loss, wrt=(0, 1))
    pe = s2sad.vmap(df, in_axes=axes)
    assert_lanes(pe(W, U, XS, Y), _lanes(df, (W, U, XS, Y), axes), "rnn")
    assert pe.info["lane_loops"] == []


def test_branches_and_while_loops_on_batched_values():
    W, X = rng.normal(size=(6, 5)), rng.normal(size=(8, 5))
    axes = (0, None)
    vf = s2sad.vmap(branchy, in_axes=axes)
    assert_lanes(vf(X, W), _lanes(branchy, (X, W), axes), "primal")
    assert "b_where" in vf.source and "b_any" in vf.source
    df = s2sad.grad(branchy, wrt=(0, 1))
    assert_lanes(s2sad.vmap(df, in_axes=axes)(X, W), _lanes(df, (X, W), axes), "per-example gradient")


def test_grad_and_jvp_of_vmap():
    W, X = rng.normal(size=(6, 5)), rng.normal(size=(4, 5))
    vf = s2sad.vmap(branchy, in_axes=(0, None))

    def loss(X, W):
        return np.sum(vf(X, W) ** 2)

    def loss_loop(X, W):
        return sum(branchy(X[i], W) ** 2 for i in range(4))
    got = s2sad.grad(loss, wrt=(0, 1))(X, W)
    want = s2sad.grad(loss_loop, wrt=(0, 1))(X, W)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    tX, tW = rng.normal(size=X.shape), rng.normal(size=W.shape)
    val, tan = s2sad.jvp(vf, wrt=(0, 1))(X, W, (tX, tW))
    eps = 1e-6
    fd = (vf(X + eps * tX, W + eps * tW) - vf(X - eps * tX, W - eps * tW)) / (2 * eps)
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-6)


def test_vmap_of_vmap():
    W, X = rng.normal(size=(6, 5)), rng.normal(size=(3, 4, 5))
    vv = s2sad.vmap(s2sad.vmap(branchy, in_axes=(0, None)), in_axes=(0, None))
    want = np.array([[branchy(X[i, j], W) for j in range(4)] for i in range(3)])
    np.testing.assert_allclose(vv(X, W), want, rtol=1e-12, atol=1e-12)


def test_in_axes_and_out_axes():
    W, X = rng.normal(size=(6, 5)), rng.normal(size=(5, 4))

    def f(x, W):
        return np.tanh(W @ x)
    got = s2sad.vmap(f, in_axes=(1, None), out_axes=1)(X, W)
    want = np.stack([f(X[:, i], W) for i in range(4)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    # an output that does not depend on the batch is broadcast
    got = s2sad.vmap(lambda_free, in_axes=(0, None))(X.T, W)
    np.testing.assert_allclose(got, np.stack([np.sum(W)] * 4))


def lambda_free(x, W):
    return np.sum(W)


def test_bad_axes_get_clear_errors():
    W, X = rng.normal(size=(6, 5)), rng.normal(size=(4, 5))

    def f(x, W):
        return np.sum(W @ x)
    with pytest.raises(s2sad.ArgumentError, match="in_axes has 3 entries but .*f takes 2"):
        s2sad.vmap(f, in_axes=(0, None, 0))
    with pytest.raises(s2sad.ArgumentError, match="maps no argument"):
        s2sad.vmap(f, in_axes=None)
    with pytest.raises(s2sad_runtime.BatchError, match="different sizes .*`x` has 4, `W` has 6"):
        s2sad.vmap(f, in_axes=(0, 0))(X, W)
    with pytest.raises(s2sad_runtime.BatchError, match="in_axes=2 for argument `x`, which has 2 axes"):
        s2sad.vmap(f, in_axes=(2, None))(X, W)
    with pytest.raises(s2sad_runtime.BatchError, match="scalar with no axis"):
        s2sad.vmap(f, in_axes=(0, 0))(X, 3.0)


def test_unmaskable_side_effect_is_refused():
    def f(x):
        out = []
        if x[0] > 0:
            out.append(x)
        return len(out)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="list changed .* differs between examples"):
        s2sad.vmap(f)(rng.normal(size=(4, 3)))


def test_functions_without_rule_run_lane_by_lane_and_say_so():
    def f(x):
        return np.sum(np.kron(x, x)) + np.sum(np.interp(x, [0.0, 1.0], [1.0, 3.0])) + np.linalg.norm(x, 1)
    X = rng.normal(size=(4, 3))
    vf = s2sad.vmap(f)
    np.testing.assert_allclose(vf(X), [f(x) for x in X], rtol=1e-13)
    assert {w for _, w in vf.info["lane_loops"]} == {"kron", "interp"}


# --------------------------------------------------------------------------
# per-example utilities


def _mlp_batch(B=12, k=8, h=6, n=3):
    W1, b1, W2 = rng.normal(size=(k, h)), rng.normal(size=h), rng.normal(size=(h, n))
    X, Y = rng.normal(size=(B, k)), rng.normal(size=(B, n))
    return (W1, b1, W2, X, Y), (None, None, None, 0, 0)


def test_per_example_norms_and_clipping_match_materialised_gradients():
    args, axes = _mlp_batch()
    wrt = (0, 1, 2)
    pe = s2sad.vmap(s2sad.grad(mlp_loss, wrt=wrt), in_axes=axes)(*args)
    want = np.sqrt(sum(np.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in pe))
    pn = s2sad.per_example_norms(mlp_loss, wrt=wrt, in_axes=axes)
    np.testing.assert_allclose(pn(*args), want, rtol=1e-12)
    assert "_factored" in pn.source             # the dense layers' gradients stay factored
    clip = 0.5 * np.median(want)
    grads, norms = s2sad.clipped_grad(mlp_loss, wrt=wrt, in_axes=axes, max_norm=clip)(*args)
    scale = np.minimum(1.0, clip / want)
    for g, p in zip(grads, pe):
        np.testing.assert_allclose(g, np.tensordot(scale, p, axes=(0, 0)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norms, want, rtol=1e-12)


def test_clipped_gradient_of_a_sequence_model_is_exact():
    W, U = 0.5 * rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    XS, Y = rng.normal(size=(5, 6, 3)), rng.normal(size=(5, 4))
    axes = (None, None, 0, 0)
    df = s2sad.grad(rnn_loss, wrt=(0, 1))
    per = _lanes(df, (W, U, XS, Y), axes)
    norms = np.array([np.sqrt(sum(np.sum(g ** 2) for g in gs)) for gs in per])
    grads, got = s2sad.clipped_grad(rnn_loss, wrt=(0, 1), in_axes=axes, max_norm=1.0)(W, U, XS, Y)
    np.testing.assert_allclose(got, norms, rtol=1e-12)
    for k in range(2):
        want = sum(min(1.0, 1.0 / norms[b]) * per[b][k] for b in range(5))
        np.testing.assert_allclose(grads[k], want, rtol=1e-12, atol=1e-12)


def test_per_example_norms_never_form_the_per_example_weight_gradients():
    import tracemalloc
    B, k, h = 64, 256, 256
    W1, b1, W2 = 0.05 * rng.normal(size=(k, h)), np.zeros(h), 0.05 * rng.normal(size=(h, 2))
    X, Y = rng.normal(size=(B, k)), rng.normal(size=(B, 2))
    pn = s2sad.per_example_norms(mlp_loss, wrt=(0, 1, 2), in_axes=(None, None, None, 0, 0))
    pn(W1, b1, W2, X, Y)
    tracemalloc.start()
    pn(W1, b1, W2, X, Y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < B * k * h * 8 / 8, f"peak {peak} bytes: the (B, k, h) gradient of W1 would be {B * k * h * 8}"


def _checkpointed(x):
    for t in s2sad.checkpointed(range(4), snapshots=2):
        x = np.tanh(x)
    return np.sum(x)


def test_gradient_with_a_checkpointed_loop_is_refused_at_the_loop():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="checkpointed loop") as e:
        s2sad.vmap(s2sad.grad(_checkpointed))(np.ones((3, 2)))
    assert e.value.lineno is not None and "checkpointed(range(4)" in e.value.line


# --------------------------------------------------------------------------
# regressions found by review (each was a silently wrong value or gradient)

MEAN3 = np.array([0.1, 0.2, 0.3])


def _nll(p, y):
    return -np.sum(p[np.arange(3), y])


def _global_operand(s):
    return np.sum((s - MEAN3) ** 2)


def _list_reduction(x):
    return np.max([np.sum(x), np.max(x)]) + np.sum(np.exp([x[0], x[1]])) + np.sum(x[0] + [1.0, 2.0])


def _reversed_range(x, n):
    acc = 0.0
    for i in reversed(range(n)):
        acc = acc * 0.5 + x[i]
    return acc


def _named_range(x, n):
    acc = 0.0
    r = range(1, n + 1)
    for i in r:
        acc = acc * 0.5 + x[i - 1]
    return acc


def _enumerate_range(x, n):
    acc = 0.0
    for k, i in enumerate(range(n)):
        acc = acc * 0.5 + x[i] * k
    return acc


def _flatten_then_write(x):
    y = x.flatten()
    y[0] = 100.0
    return np.sum(x * 1.0) + np.sum(y)


def _full_like_roll(x, s):
    return np.sum(np.full_like(x, s) * x) + np.sum(np.roll(x, 1)[0])


_P = np.arange(36.0).reshape(3, 3, 4) / 10.0
_Y = np.array([[0, 1, 2], [3, 3, 3], [1, 0, 2]])
_XN = (rng.normal(size=(3, 4)), np.array([1, 3, 4]))
REVIEW = [
    (_nll, (_P, _Y), (0, 0), 0),
    (_global_operand, (np.array([1.0, 2.0, 3.0]),), (0,), 0),
    (_list_reduction, (rng.normal(size=(3, 2)),), (0,), 0),
    (_reversed_range, _XN, (0, 0), 0),
    (_named_range, _XN, (0, 0), 0),
    (_enumerate_range, _XN, (0, 0), 0),
    (_flatten_then_write, (rng.normal(size=(3, 2, 2)),), (0,), 0),
    (_full_like_roll, (rng.normal(size=(3, 2, 3)), np.array([1.0, 2.0, 3.0])), (0, 0), (0, 1)),
]


@pytest.mark.parametrize("f, args, axes, wrt", REVIEW, ids=[r[0].__name__ for r in REVIEW])
def test_review_regressions(f, args, axes, wrt):
    want = _lanes(f, [np.copy(a) for a in args], axes)
    assert_lanes(s2sad.vmap(f, in_axes=axes)(*[np.copy(a) for a in args]), want, f.__name__)
    df = s2sad.grad(f, wrt=wrt)
    want = _lanes(df, args, axes)
    assert_planned_lanes(s2sad.vmap(df, in_axes=axes), args, want, f.__name__ + " gradient")


def test_range_with_batched_bounds_used_as_a_value_is_refused():
    def f(x, n):
        return x * len(range(n))
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="range"):
        s2sad.vmap(f)(np.ones(2), np.array([1, 3]))


def _branched_layer(W, x, y):
    if np.sum(x) > 0:
        h = x @ W
    else:
        h = 2.0 * (x @ W)
    return np.sum((h - y) ** 2)


def test_per_example_norms_of_a_layer_in_a_per_example_branch():
    W, X, Y = rng.normal(size=(3, 4)), rng.normal(size=(6, 3)), rng.normal(size=(6, 4))
    axes = (None, 0, 0)
    per = s2sad.vmap(s2sad.grad(_branched_layer), in_axes=axes)(W, X, Y)
    want = np.sqrt(np.sum(per.reshape(6, -1) ** 2, axis=1))
    np.testing.assert_allclose(s2sad.per_example_norms(_branched_layer, in_axes=axes)(W, X, Y), want, rtol=1e-12)
    g, _ = s2sad.clipped_grad(_branched_layer, in_axes=axes, max_norm=1.0)(W, X, Y)
    np.testing.assert_allclose(g, np.tensordot(np.minimum(1.0, 1.0 / want), per, axes=(0, 0)), rtol=1e-12)


def _chosen_view_written(x, y):
    c = np.transpose(y) if x[0] > 0.0 else x[None, :]
    c[0] = 2.0
    return np.sum(y) + np.sum(c)


def _chosen_view_read(x, y):
    c = np.transpose(y) if x[0] > 0.0 else x[None, :]
    return np.sum(c * c)


def test_view_chosen_per_example_and_written_is_refused():
    """``c`` is a view of ``y`` in some examples and of ``x`` in others;
    the write through it reaches ``y`` only in the first.  The batched
    ``c`` is a merge (a copy), so vmap refuses, at the line, rather than
    return sums that miss the write (found by the fuzzer, seed 21571).
    Where every example takes the same branch, nothing is merged: it runs."""
    X = np.array([[1.0, 2, 3], [-1, 2, 3], [1, 1, 1]])
    Y = np.ones((3, 3, 1))
    with pytest.raises(s2sad_runtime.BatchError, match="differs between examples and shares memory") as e:
        s2sad.vmap(_chosen_view_written)(X, Y)
    assert "c = np.transpose(y) if x[0] > 0.0 else x[None, :]" in str(e.value)
    same = np.abs(X)
    want = [_chosen_view_written(same[i].copy(), Y[i].copy()) for i in range(3)]
    assert_lanes(s2sad.vmap(_chosen_view_written)(same.copy(), Y.copy()), want, "same branch everywhere")
    want = [_chosen_view_read(X[i], Y[i]) for i in range(3)]
    assert_lanes(s2sad.vmap(_chosen_view_read)(X, Y), want, "chosen view, only read")


SCALE = 2.0


def _reads_a_global(x):
    return SCALE * np.sum(x ** 2)


def test_vmap_follows_a_rebound_global():
    """The batched function is that of ``f`` as Python runs it now: after
    ``SCALE`` is rebound, vmap(f) and vmap(grad(f)) (planned or not) build
    again (they kept the old value: silently wrong)."""
    global SCALE
    X = rng.normal(size=(4, 3))
    vf, pe = s2sad.vmap(_reads_a_global), s2sad.vmap(s2sad.grad(_reads_a_global))
    for _ in range(2):
        assert_lanes(vf(X), [_reads_a_global(x) for x in X], "before")
        assert_lanes(pe(X), [2 * SCALE * x for x in X], "gradient before")
    old = SCALE
    try:
        SCALE = 3.0
        for _ in range(2):
            assert_lanes(vf(X), [3.0 * np.sum(x ** 2) for x in X], "after")
            assert_lanes(pe(X), [6.0 * x for x in X], "gradient after")
    finally:
        SCALE = old


def _written_in_a_masked_loop(x):
    t1 = x
    if x[0, 0] ** 2 > 0.0:
        for i in reversed(range(2)):
            b = x
            b[i] = 0.1
            t1 = 0.8 * t1
    h = t1[::2] - np.transpose(x)
    return x.T.sum() + np.sum(h)


def test_tape_item_the_same_in_every_lane_is_a_number():
    """The loop index a tape pops in every lane at once is one number; the
    lane-by-lane call that reads it took it for an array (a TypeError;
    found by the fuzzer, seed 22146)."""
    X = rng.normal(size=(3, 2, 1))
    df = s2sad.grad(_written_in_a_masked_loop)
    want = [df(x.copy()) for x in X]
    assert_planned_lanes(s2sad.vmap(df), [X], want, "per-example gradient")


def row_view_then_zeroed(x):
    y2 = x.reshape(x.shape[1], x.shape[0])
    t1 = y2
    for i, p in enumerate(t1):
        break
    t1[0.1 > 0.0] = 0          # zeroes all of t1, and so the row p views
    return np.sum(p)


def test_row_read_in_a_loop_stays_a_view():
    # fuzzer seed 25284: the batched loop read p = t1[i] as a gather (a copy),
    # so the write through t1 did not reach it and vmap(grad) gave ones
    xs = np.random.default_rng(0).normal(size=(3, 3, 2))
    want = np.array([s2sad.grad(row_view_then_zeroed)(v.copy()) for v in xs])
    np.testing.assert_array_equal(want, 0.0)
    got = s2sad.vmap(s2sad.grad(row_view_then_zeroed))(xs.copy())
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(s2sad.vmap(row_view_then_zeroed)(xs.copy()), 0.0)


# ------------------------------------------------ 0-d arrays written in place

def _zero_d_accumulator(s):
    a = np.zeros(())
    b = a
    b += s
    return a * 2.0


def _scales_a_shared_zero_d(x, s):
    e = x
    e *= np.sin(s)
    return np.sum(x * x) + s


def test_a_zero_d_array_written_in_place_by_each_example_stays_an_array():
    """A 0-d array the same in every example, written in place by a value
    that differs between them: each example's array changes (as ``x += y``
    changes a 0-d array in Python), where a batched number would only be
    rebound; vmap gave the unchanged value (the fuzzer, seed 32154)."""
    S = np.array([0.1, 0.2, 0.3])
    got = s2sad.vmap(_zero_d_accumulator)(S)
    np.testing.assert_allclose(got, [_zero_d_accumulator(s) for s in S], rtol=1e-14)
    assert type(got) is np.ndarray
    x = np.array(0.7)
    got = s2sad.vmap(_scales_a_shared_zero_d, in_axes=(None, 0))(x.copy(), S)
    np.testing.assert_allclose(got, [_scales_a_shared_zero_d(x.copy(), s) for s in S], rtol=1e-14)
    assert x == 0.7                      # the caller's array is not written
    g = s2sad.grad(_scales_a_shared_zero_d, wrt=(0, 1))
    gx, gs = s2sad.vmap(g, in_axes=(None, 0))(x.copy(), S)
    want = [g(x.copy(), s) for s in S]
    np.testing.assert_allclose(gx, [w[0] for w in want], rtol=1e-12)
    np.testing.assert_allclose(gs, [w[1] for w in want], rtol=1e-12)
    fd = [(_scales_a_shared_zero_d(x.copy(), s + 1e-6) - _scales_a_shared_zero_d(x.copy(), s - 1e-6)) / 2e-6
          for s in S]
    np.testing.assert_allclose(gs, fd, rtol=1e-6)
