"""Checks every function of the corpora (``corpus_straight``,
``corpus_control``) against central finite differences in float64, plus
``value_and_grad``, ``vjp`` and float32 checks on a selection."""

from __future__ import annotations

import numpy as np
import pytest

import s2sad
from helpers import check_grads, numeric_grad

import corpus_straight as CS
import corpus_control as CC


def _params(module_name):
    out = []
    for c in CS.cases(module_name):
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


STRAIGHT = _params("corpus_straight")
CONTROL = _params("corpus_control")


def _wrt(c):
    assert c.wrt, f"{c.id} has no differentiable argument"
    return c.wrt[0] if len(c.wrt) == 1 else tuple(c.wrt)


def _check(c):
    args = c.make_args()
    wrt = _wrt(c)
    got = check_grads(c.fn, args, wrt=wrt)
    gots = [got] if not isinstance(wrt, tuple) else list(got)
    # the arguments must not have been changed by the generated code
    again = c.make_args()
    for a, b in zip(args, again):
        np.testing.assert_array_equal(a, b, err_msg=f"{c.id}: an input was modified")
    return gots


def test_corpus_sizes():
    assert len(STRAIGHT) >= 65
    assert len(CONTROL) >= 50


@pytest.mark.parametrize("c", STRAIGHT)
def test_straight_grad(c):
    _check(c)


@pytest.mark.parametrize("c", CONTROL)
def test_control_grad(c):
    _check(c)


ALONE_XFAIL = {}


def _multi_params():
    # cases with known bugs are covered (xfail) by test_*_grad already
    out = []
    for c in CS.cases():
        if len(c.wrt) > 1 and not c.xfail:
            marks = [pytest.mark.xfail(strict=True, reason=ALONE_XFAIL[c.id])] if c.id in ALONE_XFAIL else []
            out.append(pytest.param(c, id=c.id, marks=marks))
    return out


@pytest.mark.parametrize("c", _multi_params())
def test_grad_each_argument_alone(c):
    """``grad(f, wrt=k)`` for one argument equals entry k of the gradient
    for all of them (activity analysis differs with ``wrt``)."""
    args = c.make_args()
    together = s2sad.grad(c.fn, wrt=tuple(c.wrt))(*args)
    for k, gk in zip(c.wrt, together):
        alone = s2sad.grad(c.fn, wrt=k)(*args)
        np.testing.assert_allclose(alone, gk, rtol=1e-12, atol=1e-14, err_msg=f"{c.id}: argument {k}")


def _vg_params():
    out = []
    for c in CS.cases():
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail_vg)] if c.xfail_vg else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


@pytest.mark.parametrize("c", _vg_params())
def test_value_and_grad(c):
    """``value_and_grad`` returns ``f(*args)`` and the same gradient as
    ``grad``; both are checked against finite differences in the first
    differentiable argument only (the full check is ``test_*_grad``)."""
    args = c.make_args()
    w = c.wrt[0]
    value, g = s2sad.value_and_grad(c.fn, wrt=w)(*args)
    want = c.fn(*c.make_args())
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, numeric_grad(c.fn, args, w), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------
# vjp of non-scalar functions: dot-product test



# --------------------------------------------------------------------------
# long loops


def test_long_while_loop_100k_iterations():
    """100,000 iterations of a scalar while loop with a branch: no
    RecursionError, and the gradient is the analytic one."""
    a = 0.7
    value, g = s2sad.value_and_grad(CC.long_while)(a)
    x = 0.4 * a
    assert value == pytest.approx(CC.long_while(a), rel=1e-14)
    assert value == pytest.approx(x * x, rel=1e-9)
    assert isinstance(g, float)
    assert g == pytest.approx(0.32 * a, rel=1e-9)
    # f is exactly quadratic in a: a large step has no truncation error and
    # keeps the rounding of 100,000 additions out of the difference quotient
    assert g == pytest.approx(numeric_grad(CC.long_while, (a,), 0, eps=1e-2), rel=1e-7)


def test_long_for_loop_20k_iterations():
    a = 0.3
    g = s2sad.grad(CC.long_for)(a)
    assert g == pytest.approx(numeric_grad(CC.long_for, (a,), 0), rel=1e-6)


# --------------------------------------------------------------------------
# loop-accumulated log-sum-exp: the classic silent zero gradient


@pytest.mark.parametrize("fn", [CC.lse_loop_plain, CC.lse_loop_augassign, CC.lse_loop_stable, CC.lse_loop_online],
                         ids=lambda f: f.__name__)
def test_loop_lse_gradient_is_softmax(fn):
    x = np.array([0.3, -1.2, 2.0, 0.5, -0.1])
    g = s2sad.grad(fn)(x)
    want = np.exp(x - np.max(x))
    want = want / want.sum()
    assert np.all(g != 0.0), "silently zero gradient through a loop accumulation"
    np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s2sad.value_and_grad(fn)(x)[0], np.log(np.sum(np.exp(x))), rtol=1e-12)


# --------------------------------------------------------------------------
# vjp of non-scalar functions: pullback of a random cotangent against finite
# differences of <u, f(x)>, plus the dot-product test <u, J v> = <J^T u, v>


def vec_elementwise(x):
    return np.sin(x) * x + np.exp(-x * x)


def vec_mlp_layer(W, b, X):
    return np.tanh(X @ W + b)


def vec_softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def vec_loop(x, W):
    h = x
    for i in range(3):
        h = np.tanh(W @ h) + 0.5 * h
    return h


def vec_inplace(x):
    y = np.zeros((2, 3))
    y[0] = x * 2.0
    y[1, 1:] = x[:2] ** 2
    return y


def vec_branch(x, a):
    if a > 0:
        y = np.outer(x, x) * a
    else:
        y = np.outer(x, x[::-1])
    return y


def vec_solve(A, B):
    return np.linalg.solve(A, B) + np.linalg.inv(A) @ B


VJP_CASES = [
    ("elementwise", vec_elementwise, lambda r: (r.normal(size=(3, 4)),), 0),
    ("mlp_layer", vec_mlp_layer, lambda r: (r.normal(size=(3, 2)), r.normal(size=2), r.normal(size=(4, 3))), (0, 1, 2)),
    ("softmax", vec_softmax, lambda r: (r.normal(size=(3, 5)),), 0),
    ("loop", vec_loop, lambda r: (r.normal(size=3), 0.5 * r.normal(size=(3, 3))), (0, 1)),
    ("inplace", vec_inplace, lambda r: (r.normal(size=3),), 0),
    ("branch_pos", vec_branch, lambda r: (r.normal(size=3), 0.7), (0, 1)),
    ("branch_neg", vec_branch, lambda r: (r.normal(size=3), -0.7), (0, 1)),
    ("solve", vec_solve, lambda r: (2.0 * np.eye(3) + 0.3 * r.normal(size=(3, 3)), r.normal(size=(3, 2))), (0, 1)),
]


@pytest.mark.parametrize("name,fn,make,wrt", VJP_CASES, ids=[c[0] for c in VJP_CASES])
def test_vjp_non_scalar(name, fn, make, wrt):
    r = np.random.default_rng(7)
    args = make(r)
    value, pullback = s2sad.vjp(fn, wrt=wrt)(*args)
    want = fn(*args)
    np.testing.assert_allclose(value, want, rtol=1e-14, atol=0)
    u = r.normal(size=np.shape(want))
    adj = pullback(u)
    ws = [wrt] if not isinstance(wrt, tuple) else list(wrt)
    adjs = [adj] if not isinstance(wrt, tuple) else list(adj)
    assert len(adjs) == len(ws)

    def inner(*a):
        return np.sum(u * fn(*a))

    for k, gk in zip(ws, adjs):
        assert np.shape(gk) == np.shape(args[k])
        np.testing.assert_allclose(gk, numeric_grad(inner, args, k), rtol=1e-6, atol=1e-7,
                                   err_msg=f"pullback of {name} in argument {k}")

    # dot-product test: <u, J v> (directional finite difference) == <J^T u, v>
    eps = 1e-6
    vs = [r.normal(size=np.shape(args[k])) if np.ndim(args[k]) else float(r.normal()) for k in ws]
    plus, minus = list(args), list(args)
    for k, v in zip(ws, vs):
        plus[k] = args[k] + eps * v
        minus[k] = args[k] - eps * v
    jv = (fn(*plus) - fn(*minus)) / (2 * eps)
    lhs = float(np.sum(u * jv))
    rhs = float(sum(np.sum(gk * v) for gk, v in zip(adjs, vs)))
    assert rhs == pytest.approx(lhs, rel=1e-6, abs=1e-7)

    # the pullback is linear and reusable
    adj2 = pullback(2.0 * u)
    adjs2 = [adj2] if not isinstance(wrt, tuple) else list(adj2)
    for a1, a2 in zip(adjs, adjs2):
        np.testing.assert_allclose(a2, 2.0 * np.asarray(a1), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------
# float32: gradients keep the input dtype and agree with float64 to float32
# precision


F32_CASES = ["mlp2_mse", "softmax_xent_maxsub", "logistic_regression", "attention", "layer_norm",
             "rosenbrock", "einsum_matmul", "reductions_keepdims", "concatenate_stack", "methods_chain",
             "rnn_recurrence", "leapfrog", "inplace_loop_writes", "for_over_array_rows"]


def _case_by_name(name):
    for c in CS.cases():
        if c.id == name:
            return c
    raise KeyError(name)


def _rel_close32(got, want):
    # float32 has ~7 significant digits; the comparison is scaled to the
    # size of the gradient so entries near zero do not dominate
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * scale)


@pytest.mark.parametrize("name", F32_CASES)
def test_float32_inputs(name):
    c = _case_by_name(name)
    args64 = c.make_args()
    args32 = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
                   for a in args64)
    wrt = _wrt(c)
    g64 = s2sad.grad(c.fn, wrt=wrt)(*args64)
    g32 = s2sad.grad(c.fn, wrt=wrt)(*args32)
    ws = [wrt] if not isinstance(wrt, tuple) else list(wrt)
    g64s = [g64] if not isinstance(wrt, tuple) else list(g64)
    g32s = [g32] if not isinstance(wrt, tuple) else list(g32)
    for k, a, b in zip(ws, g32s, g64s):
        if isinstance(args32[k], np.ndarray):
            assert a.dtype == np.float32, (k, a.dtype)
        _rel_close32(a, b)


def f32_internal_cast(x):
    y = x.astype(np.float32)
    z = np.exp(y) * y
    return np.sum(z * z)


def test_float32_internal_astype():
    x = np.linspace(-1.0, 1.0, 5)
    g = s2sad.grad(f32_internal_cast)(x)
    assert g.dtype == np.float64
    ex = np.exp(x)
    _rel_close32(g, 2.0 * (ex * x) * (ex * x + ex))
    g32 = s2sad.grad(f32_internal_cast)(x.astype(np.float32))
    assert g32.dtype == np.float32
    _rel_close32(g32, 2.0 * (ex * x) * (ex * x + ex))
