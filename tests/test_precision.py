"""Precision (issue #18): masks in their operands' dtype, precision policies
(``s2sad.Precision``), loss scaling (``s2sad.LossScaler``) and bfloat16.

The dtype of every adjoint is read from the generated gradient's own frame
as it returns (``adjoint_dtypes``), so "does all of its work in float32" is
checked on the values, not on the source text."""

import sys

import numpy as np
import pytest

import s2sad
import s2sad_runtime as rt

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
MIXED = s2sad.Precision(primal=np.float16, adjoint=np.float32)


def frame_dtypes(df, *args):
    """{local name: dtype} of the generated gradient when it returns (every
    array or NumPy scalar it holds then), by a profile hook on its code."""
    code = df.compiled(args).__code__
    seen = {}

    def prof(frame, event, arg):
        if event == "return" and frame.f_code is code:
            seen.update({k: v.dtype for k, v in frame.f_locals.items() if hasattr(v, "dtype")})
    old = sys.getprofile()
    sys.setprofile(prof)
    try:
        df(*args)
    finally:
        sys.setprofile(old)
    assert seen, "the generated gradient did not run"
    return seen


def adjoint_dtypes(df, *args):
    return {k: v for k, v in frame_dtypes(df, *args).items() if k.endswith("_adj")}


def rel_err(g, ref):
    num = sum(float(np.sum((np.asarray(a, F64) - b) ** 2)) for a, b in zip(g, ref))
    return np.sqrt(num / sum(float(np.sum(b ** 2)) for b in ref))


# --------------------------------------------------------------- the masks


def relu_mlp(W1, W2, x, y):
    h = np.maximum(x @ W1, 0.0)
    return np.mean((h @ W2 - y) ** 2)


def minimum_net(W1, W2, x, y):
    h = np.minimum(x @ W1, 0.5) + np.fmax(x @ W1, -0.1)
    return np.mean((h @ W2 - y) ** 2)


def clip_net(W1, W2, x, y):
    h = np.clip(x @ W1, -1.0, 1.0) + (x @ W1).clip(-0.2, 0.3)
    return np.mean((h @ W2 - y) ** 2)


def max_net(W1, W2, x, y):
    z = x @ W1
    z = z - np.max(z, axis=1, keepdims=True) + np.min(z)
    return np.mean((z @ W2 - y) ** 2) + np.max(W1) + W2.max(axis=0).sum()


def _mlp_inputs(dtype, seed=0, n=6):
    r = np.random.default_rng(seed)
    W1, W2 = r.standard_normal((5, 4)), r.standard_normal((4, 3))
    x, y = r.standard_normal((n, 5)), r.standard_normal((n, 3))
    x[0, :] = 0.0       # a row of zeros: ties of maximum(z, 0) at 0
    return [a.astype(dtype) for a in (W1, W2, x, y)]


@pytest.mark.parametrize("f", [relu_mlp, minimum_net, clip_net, max_net])
def test_float32_gradient_through_masks_is_float32_throughout(f):
    args = _mlp_inputs(np.float32)
    dts = adjoint_dtypes(s2sad.grad(f, wrt=(0, 1), plan=False), *args)
    assert set(dts.values()) == {F32}, dts
    ref = s2sad.grad(f, wrt=(0, 1))(*[a.astype(np.float64) for a in args])
    df = s2sad.grad(f, wrt=(0, 1))
    for g in (df(*args), df(*args)):        # generic, then planned
        assert [a.dtype for a in g] == [F32, F32]
        assert rel_err(g, ref) < 1e-5


@pytest.mark.parametrize("dt", [np.float16, np.float32])
def test_mask_helpers_keep_their_operands_dtype(dt):
    x = np.array([-1.0, 0.0, 0.5, 2.0], dtype=dt)
    assert rt.tie_weight(x, 0.0).dtype == dt
    assert rt.tie_weight(0.0, x).dtype == dt
    np.testing.assert_array_equal(rt.tie_weight(x, 0.0), [0.0, 0.5, 1.0, 1.0])
    assert rt.clip_mask(x, -0.5, 1.0).dtype == dt
    np.testing.assert_array_equal(rt.clip_mask(x, -0.5, 1.0), [0.0, 1.0, 1.0, 0.0])
    assert rt.clip_mask(x, None, 1.0).dtype == dt
    assert rt.extremum_adjoint(1.0, np.max(x), x).dtype == dt
    assert rt.extremum_weights(np.max(x), x).dtype == dt
    assert rt.nan_mask(x).dtype == dt
    # Python numbers stay Python numbers
    assert rt.tie_weight(1.0, 1.0) == 0.5 and rt.clip_mask(0.5, 0.0, 1.0) == 1.0


def test_planned_relu_gradient_has_no_float64_buffer():
    args = _mlp_inputs(np.float32)
    df = s2sad.grad(relu_mlp, wrt=(0, 1))
    df(*args)
    info = df.plan_info
    assert info["allocating"] == [], info
    specs = df._last_plan.plan.buffer_specs
    assert specs and all(np.dtype(d) != F64 for _, d in specs), specs
    assert "np.greater(" in df.planned_source         # the mask, into a float32 buffer


# ---------------------------------------------------------- the policy


def mlp(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(y * (z - lse), axis=1))


def _digits(n=None):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        r = np.random.default_rng(3)
        X, t = r.integers(0, 17, size=(1797, 64)).astype(float), r.integers(0, 10, size=1797)
    else:
        X, t = load_digits(return_X_y=True)
    X, Y = X / 16.0, np.eye(10)[t]
    return (X, Y) if n is None else (X[:n], Y[:n])


def _params(hidden=32, seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal((64, hidden)) / 8.0, np.zeros(hidden),
            r.standard_normal((hidden, 10)) / np.sqrt(hidden), np.zeros(10)]


def test_the_policy_is_in_the_generated_code():
    df = s2sad.value_and_grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED)
    X, Y = _digits(8)
    df(*_params(), X, Y)
    src = df.source
    assert "# precision policy: primal float16, adjoint float32" in src
    assert "W1_f16 = _rt.at_precision(W1, np.float16)" in src
    assert "x_f16 = _rt.at_precision(x, np.float16)" in src
    assert "_out_adj_f32 = np.float32(_out_adj)" in src
    assert "_t1 = _rt.half_matmul(x_f16, W1_f16)" in src
    assert "_rt.grad_out_as(W1_adj, W1, np.float32)" in src


def test_primal_runs_at_float16_and_the_reverse_sweep_at_float32():
    X, Y = _digits(16)
    df = s2sad.value_and_grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED, plan=False)
    dts = frame_dtypes(df, *_params(), X, Y)
    for name in ("W1_f16", "x_f16", "h", "logits", "z", "lse"):
        assert dts[name] == F16, (name, dts[name])
    adj = {k: v for k, v in dts.items() if k.endswith("_adj")}
    assert len(adj) > 10 and set(adj.values()) == {F32}, adj
    value, grads = df(*_params(), X, Y)
    assert value.dtype == F16 and [g.dtype for g in grads] == [F32] * 4


def test_float16_primal_float32_adjoint_against_float64_and_all_float16():
    """The acceptance: a full-batch gradient of a tanh MLP on the digits.
    float16 primal with float32 adjoints is within 5e-3 of float64, and at
    most half as far off as an all-float16 run."""
    X, Y = _digits()
    args = (*_params(), X, Y)
    ref = s2sad.grad(mlp, wrt=(0, 1, 2, 3))(*args)
    mixed = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED)
    half = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=s2sad.Precision(np.float16, np.float16))
    g_mixed, g_half = mixed(*args), half(*args)
    assert [g.dtype for g in g_mixed] == [F32] * 4 and [g.dtype for g in g_half] == [F16] * 4
    e_mixed, e_half = rel_err(g_mixed, ref), rel_err(g_half, ref)
    assert e_mixed <= 5e-3, e_mixed
    assert e_mixed <= 0.5 * e_half, (e_mixed, e_half)


def test_planned_policy_gradient_is_the_generic_one_at_the_same_dtypes():
    X, Y = _digits(64)
    args = (*_params(), X, Y)
    df = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED)
    generic = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED, plan=False)(*args)
    df(*args)
    planned = df(*args)
    assert df.plan_info["allocating"] == [] and df.plan_info["planned"] > 20, df.plan_info
    specs = df._last_plan.plan.buffer_specs
    assert {np.dtype(d) for _, d in specs} <= {F16, F32, np.dtype(bool)}, specs    # no float64 buffer
    for a, b in zip(planned, generic):
        assert a.dtype == b.dtype == F32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * float(np.max(np.abs(b))))


def test_overrides_keep_a_local_and_an_argument_at_their_own_dtype():
    X, Y = _digits(16)
    pol = s2sad.Precision(np.float16, np.float32, overrides={"logits": np.float32, "y": np.float32})
    df = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=pol, plan=False)
    dts = frame_dtypes(df, *_params(), X, Y)
    assert dts["h"] == F16 and dts["_logits_raw"] == F16
    assert dts["logits"] == F32 and dts["lse"] == F32 and dts["y_f32"] == F32
    assert "logits = _rt.at_precision(_logits_raw, np.float32)" in df.source
    ref = s2sad.grad(mlp, wrt=(0, 1, 2, 3))(*_params(), X, Y)
    assert rel_err(df(*_params(), X, Y), ref) < 5e-3
    with pytest.raises(s2sad.ArgumentError, match="'logit'"):
        s2sad.grad(mlp, precision=s2sad.Precision(np.float16, overrides=["logit"]))(*_params(), X, Y)


def containers(params, x, lam):
    W, b = params
    return np.sum(np.tanh(x @ W + b) ** 2) + lam * np.sum(W ** 2)


def test_containers_python_numbers_and_integers():
    r = np.random.default_rng(1)
    W, b, x = r.standard_normal((4, 3)), r.standard_normal(3), r.standard_normal((5, 4))
    df = s2sad.grad(containers, wrt=(0, 2), precision=MIXED)
    (gW, gb), glam = df([W, b], x, 0.5)
    assert gW.dtype == gb.dtype == F32 and type(glam) is np.float32
    rW, rb = s2sad.grad(containers)([W, b], x, 0.5)
    assert rel_err([gW, gb], [rW, rb]) < 5e-3
    idx = np.array([0, 2])
    assert rt.at_precision(idx, F16) is idx and rt.at_precision(0.5, F16) == 0.5
    assert type(rt.at_precision(np.float64(0.5), F16)) is np.float16


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_half_matmul_rounds_a_float32_product_once(dt):
    if dt == "bfloat16":
        dt = np.dtype(pytest.importorskip("ml_dtypes").bfloat16)
    r = np.random.default_rng(2)
    a, b = r.standard_normal((7, 30)).astype(dt), r.standard_normal((30, 5)).astype(dt)
    c = rt.half_matmul(a, b)
    assert c.dtype == np.dtype(dt)
    exact = a.astype(F64) @ b.astype(F64)
    np.testing.assert_array_equal(c, exact.astype(np.float32).astype(dt))   # (one rounding of the float32 sum)
    assert rt.half_matmul(a.astype(F32), b).dtype == F32                   # otherwise NumPy's promotion


def test_a_wider_adjoint_is_not_rounded_to_the_primal_dtype():
    """``x[j]`` and ``x.astype(...)`` of a float16 value: their adjoints
    stay float32 (index_adjoint, astype_adjoint)."""
    x = np.arange(4, dtype=np.float16)
    g = np.float32(1 + 2 ** -20)
    assert rt.index_adjoint(g, x, 1).dtype == F32
    assert rt.index_adjoint(np.full(2, g), x, slice(0, 2)).dtype == F32
    assert rt.astype_adjoint(np.full(4, g), x, np.float32).dtype == F32
    assert rt.astype_adjoint(np.full(4, g), x).dtype == F16          # (without a policy: x's dtype)
    a = np.zeros(4, np.float16)
    assert rt.index_accumulate_inplace(a, g, x, 1).dtype == F32


def test_seeded_call_scales_the_gradient_not_the_value():
    X, Y = _digits(16)
    vg = s2sad.value_and_grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED)
    v1, g1 = vg(*_params(), X, Y)
    v8, g8 = vg.seeded(8.0, *_params(), X, Y)
    vg(*_params(), X, Y)
    v8p, g8p = vg.seeded(8.0, *_params(), X, Y)        # planned
    assert v1 == v8 == v8p
    for a, b, c in zip(g1, g8, g8p):
        np.testing.assert_array_equal(8 * a, b)
        np.testing.assert_array_equal(b, c)


# ---------------------------------------------------------- loss scaling


def _sgd(vg, scaler, params, batches, lr=0.5):
    losses = []
    for X, Y in batches:
        value, grads = scaler(vg, *params, X, Y)
        losses.append(float(value))
        if grads is not None:
            params = [p - lr * g for p, g in zip(params, grads)]
    return params, losses


def test_loss_scaler_defaults():
    s = s2sad.LossScaler()
    assert (s.scale, s.growth, s.backoff, s.interval) == (2.0 ** 16, 2.0, 0.5, 2000)


def test_loss_scaler_skips_an_injected_overflow_and_recovers():
    X, Y = _digits(256)
    bad = X.copy()
    bad[3, 5] = 1e6                 # beyond float16: inf in the primal (tanh keeps the loss finite), NaN gradients
    batches = [(X, Y)] * 3 + [(bad, Y)] + [(X, Y)] * 6
    vg = s2sad.value_and_grad(mlp, wrt=(0, 1, 2, 3), precision=MIXED)
    scaler = s2sad.LossScaler(interval=4)
    params, losses = _sgd(vg, scaler, _params(), batches)
    assert scaler.skipped == 1 and scaler.steps == 10
    # halved at the overflow, doubled after 4 good steps, 6 good steps since
    assert scaler.scale == 2.0 ** 16 and scaler.good_steps == 2
    # the skipped step changed nothing: the same run without it
    clean = s2sad.LossScaler(interval=4)
    params2, losses2 = _sgd(vg, clean, _params(), [(X, Y)] * 9)
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a, b)
    assert losses[4:] == losses2[3:]
    assert losses[-1] < losses[0]


def test_all_float16_scaled_seed_overflows_first_then_backs_off():
    """2**16 is beyond float16 (65504): an all-float16 gradient's first step
    overflows in the seed, is skipped, and the next runs at 2**15; the
    unscaled gradient is the one computed without scaling."""
    X, Y = _digits(256)
    half = s2sad.Precision(np.float16, np.float16)
    g = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=half)
    scaler = s2sad.LossScaler()
    assert scaler(g, *_params(), X, Y) is None
    assert scaler.skipped == 1 and scaler.scale == 2.0 ** 15 and scaler.last_skipped
    grads = scaler(g, *_params(), X, Y)
    assert grads is not None and not scaler.last_skipped and grads[0].dtype == F16
    ref = s2sad.grad(mlp, wrt=(0, 1, 2, 3))(*_params(), X, Y)
    assert rel_err(grads, ref) < 5e-3


# ---------------------------------------------------------- bfloat16


def test_bfloat16_primal_keeps_products_in_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    BF16 = np.dtype(ml_dtypes.bfloat16)
    X, Y = _digits(64)
    pol = s2sad.Precision("bfloat16", np.float32)
    assert pol.primal == BF16
    df = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=pol, plan=False)
    dts = frame_dtypes(df, *_params(), X, Y)
    assert dts["h"] == BF16 and dts["logits"] == BF16       # (ml_dtypes' matmul returns float32)
    assert "_t1 = _rt.half_matmul(x_bf16, W1_bf16)" in df.source
    assert {v for k, v in dts.items() if k.endswith("_adj")} == {F32}
    ref = s2sad.grad(mlp, wrt=(0, 1, 2, 3))(*_params(), X, Y)
    planned = s2sad.grad(mlp, wrt=(0, 1, 2, 3), precision=pol)
    for g in (df(*_params(), X, Y), planned(*_params(), X, Y), planned(*_params(), X, Y)):
        assert [a.dtype for a in g] == [F32] * 4
        assert rel_err(g, ref) < 2e-2


# ---------------------------------------------------------- errors


@pytest.mark.parametrize("kw, match", [
    (dict(primal=np.int32), "not a floating dtype"),
    (dict(primal=np.complex64), "not a floating dtype"),
    (dict(primal="float17"), "not a dtype"),
    (dict(primal=np.float32, adjoint=np.float16), "narrower"),
    (dict(primal=np.float16, adjoint="bfloat16"), "narrower"),
    (dict(primal=np.float16, overrides={"x y": np.float32}), "not a variable name"),
    (dict(primal=np.float16, overrides={"x": np.int8}), "not a floating dtype"),
])
def test_bad_policies_are_refused_clearly(kw, match):
    if "bfloat16" in str(kw):
        pytest.importorskip("ml_dtypes")
    with pytest.raises(s2sad.ArgumentError, match=match):
        s2sad.Precision(**kw)


def test_policy_is_refused_where_it_does_not_apply():
    # (without Numba installed, the backend itself is refused first)
    with pytest.raises(s2sad.ArgumentError, match="Python backend|needs Numba"):
        s2sad.grad(mlp, precision=MIXED, backend="numba")
    with pytest.raises(s2sad.ArgumentError, match="s2sad.Precision"):
        s2sad.grad(mlp, precision=np.float16)
    with pytest.raises(s2sad.ArgumentError, match="LossScaler needs"):
        s2sad.LossScaler()(mlp, *_params())
    with pytest.raises(s2sad.ArgumentError):
        s2sad.LossScaler(backoff=2.0)
