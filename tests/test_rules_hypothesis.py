"""Property tests: s2sad's gradients of a representative set of rules match
central finite differences at random inputs (bounded, away from
singularities and kinks), with random broadcastable shapes, axes and
keepdims.  Few examples per property (``max_examples=25``) keep the file
to a few seconds."""

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import s2sad  # noqa: E402
import math_funcs as M  # noqa: E402
import rule_funcs as F  # noqa: E402
from helpers import numeric_grad  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

_GRADS = {}


def _grad(fn, wrt):
    key = (fn, wrt)
    if key not in _GRADS:
        _GRADS[key] = s2sad.grad(fn, wrt=wrt)
    return _GRADS[key]


def check(fn, args, wrt, rtol=1e-6, atol=1e-6):
    """check_grads, with the compiled gradient cached across examples."""
    got = _grad(fn, wrt)(*args)
    gots = got if isinstance(wrt, tuple) else (got,)
    for w, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), gots):
        want = numeric_grad(fn, args, w)
        assert np.shape(g) == np.shape(want)
        if isinstance(args[w], np.ndarray):
            assert g.dtype == args[w].dtype
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, err_msg=f"{fn.__name__} arg {w}")


def arrays(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


def weight(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-1.5, 1.5).filter(lambda v: abs(v) > 0.1))


small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)

# ----------------------------------------------------------------- elementwise

UNARY = [
    (F.sin, -3.0, 3.0), (F.cos, -3.0, 3.0), (F.exp, -2.0, 2.0), (F.tanh, -3.0, 3.0),
    (F.arctan, -3.0, 3.0), (F.log, 0.1, 3.0), (F.sqrt, 0.1, 3.0), (F.log1p, -0.5, 3.0),
    (F.arcsin, -0.9, 0.9), (F.reciprocal, 0.2, 3.0), (F.square, -2.0, 2.0), (F.expm1, -2.0, 2.0),
    (F.sinh, -2.0, 2.0), (F.tan, -1.2, 1.2), (F.pow_const3, -2.0, 2.0), (F.usub, -2.0, 2.0),
]


@pytest.mark.parametrize("fn,lo,hi", UNARY, ids=lambda v: getattr(v, "__name__", repr(v)))
@SETTINGS
@given(data=st.data())
def test_unary(fn, lo, hi, data):
    shape = data.draw(small_shapes)
    x = data.draw(arrays(shape, lo, hi))
    w = data.draw(weight(shape))
    check(fn, (x, w), 0)


@SETTINGS
@given(data=st.data())
def test_abs_away_from_zero(data):
    shape = data.draw(small_shapes)
    x = data.draw(arrays(shape))
    assume(np.all(np.abs(x) > 1e-3))
    check(F.abs_, (x, data.draw(weight(shape))), 0)


BINARY = [
    (F.op_add, (-2, 2), (-2, 2)), (F.op_sub, (-2, 2), (-2, 2)), (F.op_mul, (-2, 2), (-2, 2)),
    (F.op_div, (-2, 2), (0.3, 2)), (F.op_pow, (0.2, 2), (-2, 2)), (F.logaddexp, (-3, 3), (-3, 3)),
    (F.arctan2, (-2, 2), (0.2, 2)), (F.hypot, (0.1, 2), (-2, -0.1)), (F.chain, (-2, 2), (-2, 2)),
]


@pytest.mark.parametrize("fn,rx,ry", BINARY, ids=lambda v: getattr(v, "__name__", repr(v)))
@SETTINGS
@given(data=st.data())
def test_binary_broadcasting(fn, rx, ry, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    sx, sy = shapes.input_shapes
    x = data.draw(arrays(sx, *rx))
    y = data.draw(arrays(sy, *ry))
    w = data.draw(weight(shapes.result_shape))
    check(fn, (x, y, w), (0, 1))


@pytest.mark.parametrize("fn", [F.maximum, F.minimum], ids=lambda v: v.__name__)
@SETTINGS
@given(data=st.data())
def test_maximum_minimum_no_ties(fn, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    sx, sy = shapes.input_shapes
    x = data.draw(arrays(sx))
    y = data.draw(arrays(sy))
    assume(np.all(np.abs(x - y) > 1e-3))
    check(fn, (x, y, data.draw(weight(shapes.result_shape))), (0, 1))


# ---------------------------------------------------------------- reductions


@st.composite
def reduction_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    keepdims = draw(st.booleans())
    return shape, axis, keepdims


@pytest.mark.parametrize("fn", [F.sum_, F.mean, F.prod, F.var, F.std, F.max_, F.m_sum, F.m_std,
                                F.m_min], ids=lambda v: v.__name__)
@SETTINGS
@given(case=reduction_case(), data=st.data())
def test_reductions(fn, case, data):
    shape, axis, keepdims = case
    x = data.draw(arrays(shape))
    if fn in (F.max_, F.m_min):
        # distinct values: no ties within the finite-difference step
        flat = np.sort(x.ravel())
        assume(flat.size < 2 or np.min(np.diff(flat)) > 1e-3)
    if fn in (F.std, F.m_std):
        assume(np.min(np.std(x, axis=axis)) > 1e-2 or x.size == 1)
    out_shape = np.shape(np.sum(x, axis=axis, keepdims=keepdims))
    w = data.draw(weight(out_shape))
    check(fn, (x, w, axis, keepdims), 0)


# ------------------------------------------------------------ linear algebra


@SETTINGS
@given(data=st.data())
def test_matmul_shapes(data):
    n, m, p = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    ba, bb = batch.input_shapes
    kind = data.draw(st.sampled_from(["mm", "vm", "mv", "vv"]))
    sa = {"mm": ba + (n, m), "vm": (m,), "mv": ba + (n, m), "vv": (m,)}[kind]
    sb = {"mm": bb + (m, p), "vm": bb + (m, p), "mv": (m,), "vv": (m,)}[kind]
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb))
    out = np.matmul(a, b)
    check(F.op_matmul, (a, b, data.draw(weight(np.shape(out)))), (0, 1))


@SETTINGS
@given(data=st.data())
def test_einsum_contractions(data):
    spec, sa, sb = data.draw(st.sampled_from([
        ("ij,jk->ik", (2, 3), (3, 2)), ("i,i->", (3,), (3,)), ("ij,kj->ik", (2, 3), (2, 3)),
        ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("ij,j->i", (3, 2), (2,)), ("i,j->ij", (2,), (3,)),
    ]))
    a = data.draw(arrays(sa))
    b = data.draw(arrays(sb))
    w = data.draw(weight(np.shape(np.einsum(spec, a, b))))
    check(F.einsum2, (a, b, w, spec), (0, 1))


@SETTINGS
@given(data=st.data())
def test_inv_solve_det(data):
    n = data.draw(st.integers(1, 3))
    a = data.draw(arrays((n, n), -1.0, 1.0)) + 3.0 * np.eye(n)
    b = data.draw(arrays((n,)))
    check(F.inv, (a, data.draw(weight((n, n)))), 0, rtol=1e-5)
    check(F.solve, (a, b, data.draw(weight((n,)))), (0, 1), rtol=1e-5)
    check(F.slogdet, (a, 1.0), 0, rtol=1e-5)
    check(F.det, (a, 1.0), 0, rtol=1e-5)


# --------------------------------------------------------- shape, subscripts


@SETTINGS
@given(data=st.data())
def test_concatenate_stack(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    x = data.draw(arrays(shape))
    y = data.draw(arrays(tuple(other)))
    w = data.draw(weight(np.shape(np.concatenate([x, y], axis=axis))))
    check(F.concatenate2, (x, y, w, axis), (0, 1))
    saxis = data.draw(st.integers(-nd - 1, nd))
    y2 = data.draw(arrays(shape))
    w2 = data.draw(weight(np.shape(np.stack([x, y2], axis=saxis))))
    check(F.stack, (x, y2, w2, saxis), (0, 1))


@SETTINGS
@given(data=st.data())
def test_subscripts(data):
    n = data.draw(st.integers(1, 6))
    x = data.draw(arrays((n,)))
    start = data.draw(st.none() | st.integers(-n, n))
    stop = data.draw(st.none() | st.integers(-n, n))
    step = data.draw(st.none() | st.sampled_from([-2, -1, 1, 2, 3]))
    sl = slice(start, stop, step)
    assume(x[sl].size > 0)
    idx = np.arange(n)[sl]   # the slice as integer indices, with repeats added
    idx = np.concatenate([idx, idx[:1]])
    check(F.sub_int_array, (x, data.draw(weight(idx.shape)), idx), 0)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    assume(mask.any())
    check(F.sub_mask, (x, data.draw(weight((int(mask.sum()),))), mask), 0)


# ------------------------------------------------------------------ math

MATH = [
    (M.sin, -4.0, 4.0), (M.exp, -3.0, 3.0), (M.log, 0.05, 10.0), (M.sqrt, 0.05, 10.0),
    (M.atan, -5.0, 5.0), (M.tanh, -3.0, 3.0), (M.erf, -3.0, 3.0), (M.lgamma, 0.05, 20.0),
    (M.gamma, 0.2, 5.0), (M.asinh, -5.0, 5.0), (M.log1p, -0.9, 5.0), (M.acos, -0.95, 0.95),
]


@pytest.mark.parametrize("fn,lo,hi", MATH, ids=lambda v: getattr(v, "__name__", repr(v)))
@SETTINGS
@given(x=st.floats(0.0, 1.0))
def test_math_one_arg(fn, lo, hi, x):
    x = lo + (hi - lo) * x
    check(fn, (x,), 0, rtol=1e-6, atol=1e-7)
    assert type(_grad(fn, 0)(x)) is float


@SETTINGS
@given(y=st.floats(-3.0, 3.0), x=st.floats(-3.0, 3.0))
def test_math_atan2_hypot(y, x):
    assume(math.hypot(x, y) > 0.05)
    assume(not (x < 0 and abs(y) < 1e-3))   # the branch cut of atan2
    check(M.atan2, (y, x), (0, 1), atol=1e-7)
    check(M.hypot, (x, y), (0, 1), atol=1e-7)


@SETTINGS
@given(a=st.floats(-2.0, 2.0), b=st.floats(-2.0, 2.0), c=st.floats(-2.0, 2.0))
def test_builtin_max_min(a, b, c):
    assume(min(abs(a * a - b), abs(a * a - c), abs(b - c), abs(a - c), abs(a - 0.25),
               abs(c - 0.25)) > 1e-3)
    check(M.b_max3, (a, b, c), (0, 1, 2), atol=1e-7)
