"""Python's semantics, exactly: every reproducer of issue #13.

Each function of semantics_funcs is checked against independent oracles:
its value against the function as Python runs it (on copies of the
arguments), its gradient against central differences (each evaluation on
fresh copies, so a function that writes into its inputs is measured as
Python runs it), and the gradient call must leave the caller's arrays
untouched, return gradients of the inputs' shapes and dtypes, and agree
with itself on later (planned) calls.
"""

import copy

import numpy as np
import pytest

import s2sad
import semantics_funcs as F
from helpers import numeric_grad


def _fd(f, args, k, eps=1e-6):
    return numeric_grad(lambda *a: f(*copy.deepcopy(a)), copy.deepcopy(args), k, eps)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def check_exact(f, args, wrt=0, rtol=1e-6, atol=1e-8, eps=1e-6):
    """value, gradient, untouched inputs, shapes and dtypes, planned calls."""
    keep = copy.deepcopy(args)
    ws = list(wrt) if isinstance(wrt, tuple) else [wrt]
    value, grads = s2sad.value_and_grad(f, wrt=wrt)(*args)
    for a, k in zip(args, keep):
        assert _same(a, k), f"{f.__name__}: the gradient call changed an argument"
    want = f(*copy.deepcopy(keep))
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-12, err_msg=f"value of {f.__name__}")
    gs = list(grads) if isinstance(wrt, tuple) else [grads]
    for w, g in zip(ws, gs):
        x = keep[w]
        assert np.shape(g) == np.shape(x), (f.__name__, np.shape(g), np.shape(x))
        if isinstance(x, np.ndarray):
            assert isinstance(g, np.ndarray) and g.dtype == x.dtype, (f.__name__, getattr(g, "dtype", type(g)))
        np.testing.assert_allclose(g, _fd(f, keep, w, eps), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {f.__name__} in argument {w}")
    df = s2sad.grad(f, wrt=wrt)
    first = df(*copy.deepcopy(keep))
    for _ in range(2):
        again = df(*copy.deepcopy(keep))
        for a, b in zip(first if isinstance(wrt, tuple) else [first], again if isinstance(wrt, tuple) else [again]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    return value, grads


def v(*xs):
    return np.array(xs, dtype=float)


M = np.array([[0.3, -1.2, 0.5], [1.1, 0.4, -0.7]])

CASES = [
    ("loop_over_rebound", (v(1.0, 2.0, 3.0),), 0),
    ("zip_over_rebound", (v(1.0, 2.0, 3.0), v(0.5, -1.0, 2.0)), (0, 1)),
    ("enumerate_over_rebound", (v(1.0, 2.0, 3.0),), 0),
    ("range_bound_rebound", (v(1.0, 2.0, 3.0),), 0),
    ("rebound_after_loop", (v(0.3, -0.7, 1.1),), 0),
    ("dead_store_after_loop", (v(0.3, -0.7, 1.1),), 0),
    ("loop_index_reused", (M, v(0.2, 0.9, -0.4)), (0, 1)),
    ("view_of_input_after_loop", (v(0.3, -0.7, 1.1),), 0),
    ("negative_literal_base", (v(1.0, 2.0),), 0),
    ("negative_literal_argument", (v(1.0, 2.0),), 0),
    ("write_through_slice_view", (v(1.0, 2.0, 3.0),), 0),
    ("inplace_add_seen_by_view", (v(1.0, 2.0, 3.0),), 0),
    ("write_through_alias", (v(1.0, 2.0, 3.0),), 0),
    ("write_through_ellipsis", (v(1.0, 2.0, 3.0),), 0),
    ("write_through_transpose", (M,), 0),
    ("write_through_reshape", (M,), 0),
    ("write_through_ravel", (M,), 0),
    ("write_base_read_view", (v(1.0, 2.0, 3.0),), 0),
    ("write_seen_through_list", (v(1.0, 2.0, 3.0),), 0),
    ("list_of_one_array_written_each_step", (v(1.0, 2.0, 3.0),), 0),
    ("rebinds_param", (v(1.0, 2.0),), 0),
    ("rebinds_param_float32", (np.array([1.0, 2.0], dtype=np.float32),), 0),
    ("write_then_square", (v(0.3, -0.7, 1.1),), 0),
    ("array_module_param", (v(0.3, -0.7, 1.1),), 0),
    ("self_assign_slice", (v(1.0, 2.0, 3.0),), 0),
    ("repeated_index_write", (v(1.0, 2.0, 3.0),), 0),
    ("repeated_index_write_2d", (v(1.0, 2.0, 3.0),), 0),
    ("numpy_float64_of_value", (0.7,), 0),
    # float32 rounding: a step of 1e-6 would measure rounding, not the slope
    ("numpy_float32_of_value", (v(1.0, 2.0),), 0, dict(eps=1e-2, rtol=1e-5)),
    ("break_in_while_and", (v(1.0, 2.0),), 0),
    ("ckpt_defined_in_body_read_after", (v(0.3, -0.7, 1.1),), 0),
    ("ckpt_param_overwritten_in_body", (v(0.3, -0.7, 1.1), 4.0), 0),
    ("ckpt_continue", (v(0.3, -0.7, 1.1),), 0),
    ("nested_def_inside_call", (v(0.3, -0.7, 1.1),), 0),
    ("bound_in_one_branch", (v(0.3, -0.7, 1.1), -1.0), 0),
    ("bound_in_one_branch", (v(0.3, -0.7, 1.1), 1.0), 0),
    ("bound_in_one_branch", (v(0.3, -0.7, 1.1), 7.0), 0),
    ("dead_branch_value", (v(0.3, -0.7, 1.1),), 0),
    ("list_of_floats_and_actives", (0.7,), 0),
    ("keyword_only", (v(0.3, -0.7, 1.1),), 0),
    ("copy_then_write_in_time_loop", (v(0.3, -0.7, 1.1, 2.0, 0.5),), 0),
    ("write_then_later_alias", (v(0.3, -0.7, 1.1),), 0),
    ("grad_made_in_body", (v(0.3, -0.7, 1.1),), 0),
    ("writes_into_input", (v(0.3, -0.7, 1.1),), 0),
    ("augassign_input", (v(0.3, -0.7, 1.1),), 0),
    ("math_in_scalar_loop", (0.4,), 0),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_reproducer(case):
    name, args, wrt, *opts = case
    check_exact(getattr(F, name), args, wrt, **(opts[0] if opts else {}))


def test_float32_in_float32_out():
    x = np.array([0.5, 1.5], dtype=np.float32)
    g = s2sad.grad(F.rebinds_param_float32)(x)
    assert g.dtype == np.float32


def test_global_changed_after_first_call():
    x = v(1.0, 2.0)
    df = s2sad.grad(F.uses_global)
    np.testing.assert_allclose(df(x), [2.0, 2.0])
    try:
        F.SCALE = 5.0
        np.testing.assert_allclose(df(x), [5.0, 5.0])
        np.testing.assert_allclose(df(x), [5.0, 5.0])       # the planned call too
        np.testing.assert_allclose(s2sad.value_and_grad(F.uses_global)(x)[0], 15.0)
    finally:
        F.SCALE = 2.0
    np.testing.assert_allclose(df(x), [2.0, 2.0])


def test_bound_method_reads_self_at_call_time():
    m = F.Model(np.array([[0.5, -1.0], [2.0, 0.3]]))
    x = v(0.2, -0.4)
    df = s2sad.grad(m.loss)
    np.testing.assert_allclose(df(x), _fd(m.loss, (x,), 0), rtol=1e-6)
    m.W = m.W * 2.0
    np.testing.assert_allclose(df(x), _fd(m.loss, (x,), 0), rtol=1e-6)


def test_hvp_after_element_write():
    x = v(0.3, -0.7, 1.1)
    h = s2sad.hvp(F.write_then_square)
    e0 = v(1.0, 0.0, 0.0)
    g = s2sad.grad(F.write_then_square)
    eps = 1e-5
    want = (g(x + eps * e0) - g(x - eps * e0)) / (2 * eps)
    np.testing.assert_allclose(h(x, e0), want, rtol=1e-6, atol=1e-8)


def test_hessian_by_parameter_name():
    x = v(0.3, -0.7)
    H = s2sad.hessian(F.hessian_by_name, wrt="x")(x)
    np.testing.assert_allclose(H, np.diag(6.0 * x), rtol=1e-10)


def test_returning_a_tuple_is_a_non_scalar_output():
    with pytest.raises(s2sad.NonScalarOutputError) as e:
        s2sad.grad(F.returns_tuple)(v(1.0, 2.0))
    assert "semantics_funcs.py" in str(e.value)


def test_complex_inputs_are_differentiated_in_complex_mode():
    """(They were refused; tests/test_complex.py checks complex mode.)
    |z z| = |z|^2, whose gradient is 2 z (df/dx + i df/dy)."""
    z = np.array([1.0 + 2.0j, -0.5j])
    np.testing.assert_allclose(s2sad.grad(F.complex_abs)(z), 2 * z)


def test_child_rule_table_leaves_its_parent_alone():
    from s2sad.rules import DEFAULT_RULES, RuleTable
    before = DEFAULT_RULES.lookup(np.tanh).jvp
    child = RuleTable(parent=DEFAULT_RULES)

    @child.defjvp(np.tanh)
    def tanh_jvp(ans, x):
        from s2sad.rules import d
        d[x] = 0.0 * x

    assert DEFAULT_RULES.lookup(np.tanh).jvp == before
    assert child.lookup(np.tanh).jvp != before


def test_out_arrays_that_alias_an_input_are_refused():
    x = v(1.0, 2.0, 3.0)
    df = s2sad.grad(F.negative_literal_base)
    with pytest.raises(s2sad.ArgumentError) as e:
        df(x, out=x)
    assert "out=" in str(e.value)
    with pytest.raises(s2sad.ArgumentError):
        df(x, out=x[::-1])


def test_writes_into_input_leave_caller_untouched():
    x = v(0.3, -0.7, 1.1)
    keep = x.copy()
    g = s2sad.grad(F.writes_into_input)(x)
    assert np.array_equal(x, keep)
    np.testing.assert_allclose(g, _fd(F.writes_into_input, (keep,), 0), rtol=1e-6)


def test_checkpointed_loop_growing_an_outer_list_is_refused(tmp_path):
    """The checkpoint schedule runs steps again, so a list the body appends
    to would grow again (the gradient came out 0; fuzz seeds 40098, 40966):
    refused, naming the line."""
    path = tmp_path / "grow.py"
    path.write_text("import numpy as np\nimport s2sad\n\n\ndef f(x):\n    t1 = x.ravel()\n    parts = []\n"
                    "    for i in s2sad.checkpointed(range(3)):\n        parts.append(t1)\n        t1 = parts[-1]\n"
                    "    return t1[1]\n")
    ns = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"grow.py:9 .*`parts.append\(\)` in a checkpointed loop"):
        s2sad.grad(ns["f"])(np.arange(4.0))


def test_checkpointed_loop_writing_memory_another_name_reads_is_refused(tmp_path):
    """Snapshots copy each carried name on its own: a loop that writes in
    place into memory another name it reads shares (`u = x` outside,
    `e += u` inside) would come back from a snapshot parted, and the
    replayed steps would compute another function (fuzz seed 56898: the
    gradient was 3 where it is 4).  Refused, naming the line; the same loop
    with its own copy, and the taped loop, are right."""
    path = tmp_path / "alias.py"
    loop = "    for i in {}(range(2)):\n        e += u\n    return e.sum()\n\n\n"
    path.write_text("import numpy as np\nimport s2sad\n\n\ndef f(x):\n    u = x\n    e = x\n"
                    + loop.format("s2sad.checkpointed") + "def own(x):\n    u = x\n    e = x.copy()\n"
                    + loop.format("s2sad.checkpointed") + "def taped(x):\n    u = x\n    e = x\n" + loop.format(""))
    ns = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    x = np.arange(3.0)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"alias.py:9 .*writes into `e` in place .* `u`"):
        s2sad.grad(ns["f"])(x.copy())
    np.testing.assert_allclose(s2sad.grad(ns["own"])(x.copy()), [3.0, 3.0, 3.0])     # (x + x) + x
    np.testing.assert_allclose(s2sad.grad(ns["taped"])(x.copy()), [4.0, 4.0, 4.0])   # x doubles twice


@pytest.mark.parametrize("plan", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_d_array_input_gets_a_zero_d_array_gradient(plan, dtype):
    """Gradients have the input's type: a 0-d array in, a 0-d array out (not
    a NumPy scalar), on the first and on planned calls."""
    def f(s, w):
        return np.sum(np.tanh(s * w)) + s * s
    df = s2sad.grad(f, wrt=(0, 1), plan=plan)
    s, w = np.array(0.5, dtype=dtype), np.linspace(-1, 1, 4).astype(dtype)
    for _ in range(3):
        gs, gw = df(s, w)
        assert type(gs) is np.ndarray and gs.shape == () and gs.dtype == dtype
        assert type(gw) is np.ndarray and gw.dtype == dtype
        want = np.sum(w * (1 - np.tanh(s * w) ** 2)) + 2 * s
        np.testing.assert_allclose(gs, want, rtol=1e-5 if dtype == np.float32 else 1e-12)
