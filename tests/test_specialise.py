"""The element-loop specialisation of the Python backend
(s2sad/plan/specialise.py): later calls of a signature run a variant of the
generic code rewritten for its argument types.  Checked against the generic
code (plan=False), a hand-written adjoint and finite differences."""

import numpy as np
import pytest

import s2sad
from s2sad.analysis.scalar_types import TOP, scalar_types, value_type
from tests.helpers import numeric_grad
from tests.inplace_funcs import heat


def test_stencil_is_specialised_and_exact():
    rng = np.random.default_rng(0)
    df = s2sad.grad(heat)
    ref = s2sad.grad(heat, plan=False)
    for _ in range(3):          # first call generic, then the specialised variant
        u0 = rng.standard_normal(9)
        got = df(u0, 0.1)
        np.testing.assert_array_equal(got, ref(u0, 0.1))
        np.testing.assert_allclose(got, numeric_grad(heat, [u0, 0.1], 0), rtol=1e-6, atol=1e-7)
    info = df.plan_info
    assert info["specialised"] > 0 and info["guards"] == 1
    src = df.planned_source
    loop = src[src.index("---- reverse sweep ----"):]
    inner = loop[loop.index("for j in reversed"):]
    assert "_rt.slot_ready(" in src
    # in the reverse element loop, no helper runs while the guard is up
    fast = [ln for ln in inner.splitlines() if ln.strip().startswith("u_adj[")]
    assert fast and all("_rt." not in ln for ln in fast)


def test_guard_down_runs_the_generated_statements():
    """float32 arrays: the guard (a float64 adjoint array) stays down, and
    the variant computes what the generic code computes."""
    rng = np.random.default_rng(1)
    u0 = rng.standard_normal(9).astype(np.float32)
    df, ref = s2sad.grad(heat), s2sad.grad(heat, plan=False)
    for _ in range(3):
        np.testing.assert_array_equal(df(u0, 0.1), ref(u0, 0.1))


def rebinds(x, k):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * k        # a number here...
    s = s * x                   # ... an array here: never taken for a number
    acc = x.copy()
    for i in range(1, x.shape[0]):
        acc[i] = acc[i - 1] * s[i] + acc[i]
    acc = acc[::-1]             # the adjoint array becomes a reversed view
    for i in range(1, x.shape[0]):
        acc[i] = acc[i] * acc[i - 1]
    return np.sum(acc) + np.sum(s)


@pytest.mark.parametrize("shape", [(6,), (1,), (4,)])
def test_rebound_names_and_views_match_the_generic_code(shape):
    rng = np.random.default_rng(2)
    df, ref = s2sad.grad(rebinds), s2sad.grad(rebinds, plan=False)
    for _ in range(3):
        x = rng.standard_normal(shape) * 0.5
        got, want = df(x, 0.7), ref(x, 0.7)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(got, numeric_grad(rebinds, [x, 0.7], 0), rtol=1e-5, atol=1e-6)


def matrix_walk(a, v):
    b = a.copy()
    for i in range(b.shape[0]):
        for j in range(b.shape[1]):
            b[i, j] = b[i, j] * v[j] + b[i - 1, j]
    return np.sum(b * b)


def test_two_index_elements():
    rng = np.random.default_rng(3)
    df, ref = s2sad.grad(matrix_walk, wrt=(0, 1)), s2sad.grad(matrix_walk, wrt=(0, 1), plan=False)
    for _ in range(3):
        a, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
        for g, w in zip(df(a, v), ref(a, v)):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-13)
    assert df.plan_info["specialised"] > 0


def test_scalar_types_claims_no_number_it_cannot_prove():
    from s2sad.ir import nodes as N

    # a name bound from a free name (unknown) and from a number is not a number
    x, y = N.Name("x"), N.Name("y")
    fdef = N.FunctionDef("f", ["a"], [N.Assign(x, N.Const(1.0)), N.Assign(x, N.Name("outside")),
                                      N.Assign(y, N.BinOp("Mult", x, N.Const(2.0))), N.Return(y)])
    t = scalar_types(fdef, {"a": value_type(np.ones(3))})
    assert t["x"] == TOP and t["y"] == TOP
    assert value_type(np.ma.ones(3)) == TOP         # ndarray subclasses: unknown


def returns(r, v, gamma):
    g = np.zeros_like(r)
    acc = 0.0
    for t in range(r.shape[0] - 1, -1, -1):
        acc = r[t] + gamma * acc
        g[t] = acc - v[t]
    w = g.copy()
    for t in range(1, w.shape[0]):
        w[t] = 0.5 * w[t - 1] + np.tanh(w[t])
    return np.sum(w * w) + 0.1 * np.sum(g)


def test_element_loops_beside_array_operations_are_specialised_not_planned():
    """The planner would take the array statements and leave each element
    read's adjoint copying the whole array; the specialised variant keeps
    them in place, so it is chosen."""
    rng = np.random.default_rng(4)
    df, ref = s2sad.grad(returns, wrt=(0, 1, 2)), s2sad.grad(returns, wrt=(0, 1, 2), plan=False)
    for _ in range(3):
        r, v = rng.standard_normal(11), rng.standard_normal(11)
        for g, w in zip(df(r, v, 0.9), ref(r, v, 0.9)):
            np.testing.assert_array_equal(g, w)
    info = df.plan_info
    assert info["guards"] >= 1 and info["planned"] == 0
    np.testing.assert_allclose(df(r, v, 0.9)[1], numeric_grad(returns, [r, v, 0.9], 1), rtol=1e-6, atol=1e-7)
