"""Second order through the helpers of generated gradients.

``hvp`` differentiates the generated gradient in forward mode, so every
runtime helper a gradient calls needs a tangent; ``grad(grad(f))`` needs
their adjoints.  Checked here:

* by introspection, that each public helper of ``s2sad_runtime`` has a rule
  whose parameters are the helper's own (or is declared non-differentiable,
  or is listed below with the reason it has none);
* ``hvp`` of functions that reach each helper against central differences
  of the gradient (itself checked against finite differences of ``f`` in
  test_rules), in several shapes;
* ``grad(grad(...))`` through the helpers that have adjoints.
"""

import inspect
import textwrap

import math

import numpy as np
import pytest

import s2sad
import s2sad_runtime as rt
from s2sad import DEFAULT_RULES

# helpers with no rule, and why (a call of one in differentiated generated
# code is refused with an error naming it)
NO_RULE = {
    "as_tuple": "packs a user adjoint's result",
    "checkpointed": "a loop driver: loops are differentiated by their strategy",
    "container_scatter": "views of containers: not yet second order",
    "container_unshared": "views of containers: not yet second order",
    "complex_cotangent": "complex mode: second order not yet",
    "real_cotangent": "complex mode: second order not yet",
    "abs_cotangent": "complex mode: second order not yet",
    "angle_cotangent": "complex mode: second order not yet",
    "imag_cotangent": "complex mode: second order not yet",
    "fft_cotangent": "complex mode: second order not yet",
    "fftn_cotangent": "complex mode: second order not yet",
    "rfft_cotangent": "complex mode: second order not yet",
    "rfftn_cotangent": "complex mode: second order not yet",
    "irfftn_cotangent": "complex mode: second order not yet",
    **{n: "complex mode: second order not yet" for n in ("irfft_cotangent", "hfft_cotangent", "eig_adjoint",
                                                          "eigvals_adjoint")},
    "eig_jvp": "complex mode: reverse over forward not yet",
    "interp_jvp": "reverse over forward: not yet",
    "interp_adjoint_d": "third order", "convolve_adjoint_rev": "third order", "pair_adjoint_rev": "third order",
    "einsum_adjoint_rev": "third order", "std_adjoint_hess": "third order",
    "eigvals_jvp": "complex mode: reverse over forward not yet",
    "abs_tangent": "complex mode: reverse over forward not yet",
    "angle_tangent": "complex mode: reverse over forward not yet",
    "pair_add": "planned code only (never differentiated)",
    "pair_total": "planned code only (never differentiated)",
    "slot_ready": "specialised element-loop code only (never differentiated)",
    "index_accumulate_inplace": "read as index_accumulate when generated code is differentiated again",
    "zero_slot_inplace": "read as zero_slot when generated code is differentiated again",
    # tangent helpers: met by reverse mode over forward mode only
    "reduction_jvp": "reverse over forward: not yet",
    "var_jvp": "reverse over forward: not yet",
    "std_jvp": "reverse over forward: not yet",
    "norm_jvp": "reverse over forward: not yet",
    "slogdet_jvp": "reverse over forward: not yet",
    "builtin_extremum_jvp": "reverse over forward: not yet",
    "solve_rhs_tangent": "reverse over forward: not yet",
    "solve_like": "reverse over forward: not yet",
    "average_jvp": "reverse over forward: not yet",
    "cumprod_jvp": "reverse over forward: not yet",
    "cholesky_jvp": "reverse over forward: not yet",
    "eigh_jvp": "reverse over forward: not yet",
    "svd_jvp": "reverse over forward: not yet",
    "qr_jvp": "reverse over forward: not yet",
    "pinv_jvp": "reverse over forward: not yet",
    "matrix_power_jvp": "reverse over forward: not yet",
    "lstsq_jvp": "reverse over forward: not yet",
    "eigvalsh_jvp": "reverse over forward: not yet",
    # vmap's helpers: grad(vmap(f)) refuses these by name (see docs/vmap.md)
    **{n: "batched gradient helper (vmap(grad(f))): differentiating per-example gradients is not yet supported"
       for n in ("b_check_scalar_output", "b_grad_out", "b_index_accumulate", "b_index_adjoint",
                 "b_matmul_adjoint_a", "b_matmul_adjoint_b", "b_mean_adjoint", "b_sum_adjoint", "b_unbroadcast",
                 "b_extremum_adjoint",
                 "b_matmul_adjoint_a_factored", "b_matmul_adjoint_b_factored")},
    **{n: "an adjoint of a vmap helper (third order through vmap): not yet"
       for n in ("b_in_adjoint", "b_out_adjoint", "b_total", "b_where_adjoint")},
    **{n: "vmap helper without a derivative rule yet (grad(vmap(f)) names it)"
       for n in ("b_dot", "b_einsum", "b_outer", "b_transpose", "b_iter", "b_zip", "b_enumerate", "b_item_of", "b_solve", "b_unstack_items", "b_full_like")},
    "b_loop": "runs a function lane by lane: its derivative is the function's own, which it does not know",
    "b_setitem": "an in-place write (vmap under a mask): not differentiable",
    # the second-order helpers themselves (third order)
    "piece_adjoint": "third order", "reduce_sum_like_adjoint": "third order",
    "det_adjoint_da": "third order", "solve_adjoint_b_da": "third order", "einsum_adjoint_dop": "third order",
    "pair_adjoint_dop": "third order", "split_piece": "third order", "prod_adjoint_dx": "third order",
    "cumprod_adjoint_da": "third order", "average_adjoint_d": "third order", "norm_adjoint_dx": "third order",
    "sinc_second_derivative": "third order", "prod_except2": "third order",
    **{n: "third order" for n in ("cholesky_adjoint_da", "eigh_adjoint_da", "eigvalsh_adjoint_da", "svd_adjoint_da",
                                  "qr_adjoint_da", "pinv_adjoint_da", "matrix_power_adjoint_da", "lstsq_adjoint_d")},
}


def _helpers():
    for name in sorted(set(rt.__all__)):
        f = getattr(rt, name)
        if inspect.isfunction(f):
            yield name, f


def test_every_helper_has_a_rule_or_a_reason():
    missing = [n for n, f in _helpers() if DEFAULT_RULES.lookup(f) is None and n not in NO_RULE]
    assert not missing, f"runtime helpers without a derivative rule (add one, or a reason to NO_RULE): {missing}"
    stale = [n for n in NO_RULE if n in dict(_helpers()) and DEFAULT_RULES.lookup(getattr(rt, n)) is not None]
    assert not stale, f"NO_RULE lists helpers that have a rule now: {stale}"


@pytest.mark.parametrize("name", [n for n, f in _helpers() if DEFAULT_RULES.lookup(f) is not None])
def test_rule_takes_the_helpers_arguments(name):
    f = getattr(rt, name)
    r = DEFAULT_RULES.lookup(f)
    if r.nondiff or r.vjp is not None:
        return
    helper = [p for p in inspect.signature(f).parameters.values()]
    t = r.signature()
    assert len(t.params) == len(helper), (name, t.params, [p.name for p in helper])
    # a parameter with a default in the helper has one in the rule (calls may omit it)
    for hp, tp in zip(helper, t.params):
        if hp.kind == hp.VAR_POSITIONAL:
            assert tp == t.vararg, (name, tp)
        elif hp.default is not hp.empty:
            assert tp in t.defaults, (name, tp)


# ---------------------------------------------------------------- values

CASES = {
    # expression of x (2-D, square)      helpers its gradient calls
    "reshape": "np.sum(x.reshape(-1) ** 3) + np.sum(np.reshape(x, -1, order='F')[:3] ** 2)",  # reshape_adjoint
    "cumsum": "np.sum(np.cumsum(x, axis=1) ** 2) + np.sum(np.cumsum(x) ** 3)",      # cumsum_adjoint
    "concatenate": "np.sum(np.concatenate([x, x ** 2], axis=1) ** 2)",            # concatenate_piece
    "concatenate_flat": "np.sum(np.concatenate([x[0], np.sin(x[1])], axis=None) ** 3)",
    "hstack": "np.sum(np.hstack([x[0], x[1] ** 2]) ** 3) + np.sum(np.hstack([x, x]) ** 2)",
    "vstack": "np.sum(np.vstack([x[0], np.tanh(x[1])]) ** 3)",
    "stack": "np.sum(np.stack([x, x ** 2]) ** 2)",
    "tile": "np.sum(np.tile(x, (2, 1)) ** 3)",
    "repeat": "np.sum(np.repeat(x, 2, axis=0) ** 3) + np.sum(np.repeat(x, 3) ** 2)",
    "roll": "np.sum(np.roll(x, 1, axis=0) * x ** 2)",
    "diag": "np.sum(np.diag(x) ** 3) + np.sum(np.diag(x[0]) @ x ** 2)",
    "trace": "np.trace(x) ** 3 + np.trace(x @ x)",
    "astype": "np.sum(x.astype(np.float64) ** 3)",
    "transpose": "np.sum(np.transpose(x) @ x ** 2)",
    "sum_axis": "np.sum(np.sum(x ** 2, axis=0) ** 2) + np.sum(np.mean(x, axis=1, keepdims=True) * x)",
    "var": "np.var(x ** 2) + np.sum(np.var(x, axis=0) ** 2)",
    "std": "np.std(x) ** 2 + np.sum(np.std(x ** 2, axis=1, ddof=1))",
    "einsum": "np.einsum('ij,jk->', x, x ** 2) + np.einsum('ii', x) ** 2",
    "inner": "np.sum(np.inner(x, x ** 2) ** 2)",
    "tensordot": "np.sum(np.tensordot(x, np.sin(x), axes=1) ** 2)",
    "det": "np.linalg.det(x + 3 * np.eye(len(x)))",
    "slogdet": "np.linalg.slogdet(x + 3 * np.eye(len(x)))[1]",
    "solve": "np.sum(np.linalg.solve(x + 3 * np.eye(len(x)), x[0]) ** 2) "
             "+ np.sum(np.linalg.solve(x + 3 * np.eye(len(x)), x ** 2))",
    "take": "np.sum(np.take(x, [0, 1, 1], axis=0) ** 3) + np.sum(np.take(x, [-1, 2], mode='wrap') ** 2)",
    "builtin_max": "max(x[0, 0] ** 2, x[1, 1] ** 3)",
    "element_writes": "_writes(x)",
    # issue #16
    "diff": "np.sum(np.diff(x, axis=0) ** 3) + np.sum(np.diff(x, n=2, prepend=x[:, :1] ** 2) ** 2)",
    "rot90": "np.sum(np.rot90(x) * x ** 2)",
    "rollaxis": "np.sum(np.rollaxis(x, 1) * x ** 2)",
    "column_stack": "np.sum(np.column_stack([x[0], x ** 2]) ** 3)",
    "dstack": "np.sum(np.dstack([x, np.sin(x)]) ** 3)",
    "append": "np.sum(np.append(x, x ** 2, axis=1) ** 3) + np.sum(np.append(x, x[0]) ** 2)",
    "diagonal": "np.sum(np.diagonal(x) ** 3) + np.sum(x.diagonal(1) * x[0, 1:] ** 2)",
    "pad": "np.sum(np.pad(x, 1) ** 3) + np.sum(np.pad(x, (1, 2), mode='reflect') ** 2 * np.pad(x, (1, 2)))",
    "kron": "np.sum(np.kron(x, x ** 2) ** 2)",
    "cross": "np.sum(np.cross(np.sin(x[..., :1] + np.ones(3)), x[..., :1] ** 2 + np.ones(3)) ** 2)",
    "vdot": "np.vdot(x, x ** 2) ** 2",
    "sort": "np.sum(np.sort(x ** 2, axis=0) ** 3 * np.arange(len(x))[:, None]) + np.sum(np.partition(x, 1) ** 3)",
    "ptp": "np.sum(np.ptp(x, axis=1) ** 2)",
}
try:
    import scipy.special  # noqa: F401
    CASES["logsumexp"] = "_lse(x)"      # and softmax, log_softmax
except ImportError:  # pragma: no cover
    pass

HELPERS = '''
def _writes(x):
    y = x * 1.0
    y[0] = y[0] ** 2
    y[1:, 0] += np.sin(x[1:, 1])
    return np.sum(y ** 3)


def _split(x):
    a, b = np.split(x ** 2, [1], axis=1)
    return np.sum(a ** 3) + np.sum(b * np.sin(a))


try:
    from scipy.special import logsumexp, softmax, log_softmax
except ImportError:
    pass


def _lse(x):
    return np.sum(logsumexp(x ** 2, axis=0) ** 2) + np.sum(softmax(x, axis=1) * x) \
        + logsumexp(x, b=x ** 2 + 0.5) + np.sum(log_softmax(x) * x)
'''


def _compile(name, expr, tmp_path):
    path = tmp_path / f"so_{name}.py"
    path.write_text("import numpy as np\n" + textwrap.dedent(HELPERS) + f"\n\ndef f(x):\n    return {expr}\n")
    ns = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return ns["f"]


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_hvp_matches_differences_of_the_gradient(name, n, tmp_path):
    f = _compile(name, CASES[name], tmp_path)
    rng = np.random.default_rng(n)
    x = rng.uniform(-1, 1, (n, n)) + 0.5 * np.eye(n)
    v = rng.standard_normal((n, n))
    hv = s2sad.hvp(f)(x.copy(), v)
    g = s2sad.grad(f)
    eps = 1e-5
    fd = (g(x + eps * v) - g(x - eps * v)) / (2 * eps)
    assert hv.shape == x.shape
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.max(np.abs(fd))))


@pytest.mark.parametrize("name", ["reshape", "cumsum", "concatenate", "hstack", "vstack", "stack", "tile", "repeat",
                                  "roll", "diag", "trace", "transpose", "sum_axis", "take",
                                  "diff", "rot90", "rollaxis", "column_stack", "dstack", "append",
                                  "diagonal", "pad", "sort", "einsum", "inner", "tensordot", "kron", "cross", "var", "std"])
def test_grad_of_grad_through_linear_helpers(name, tmp_path):
    """The helpers linear in the adjoint have adjoints too: the gradient of
    <grad f(x), v> is H v."""
    f = _compile(name, CASES[name], tmp_path)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 3)) + 0.5 * np.eye(3)
    v = np.random.default_rng(2).standard_normal((3, 3))
    g = s2sad.grad(f)
    src = tmp_path / f"gg_{name}.py"
    src.write_text("import numpy as np\n\n\ndef gv(x, v):\n    return np.sum(g(x) * v)\n")
    ns = {"g": g}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    hv = s2sad.grad(ns["gv"])(x.copy(), v)
    np.testing.assert_allclose(hv, s2sad.hvp(f)(x.copy(), v), rtol=1e-9, atol=1e-10)


def test_reverse_over_a_tangent_only_rule_is_refused_clearly(tmp_path):
    f = _compile("det", CASES["det"], tmp_path)
    g = s2sad.grad(f)
    src = tmp_path / "gg_det.py"
    src.write_text("import numpy as np\n\n\ndef gv(x, v):\n    return np.sum(g(x) * v)\n")
    ns = {"g": g}
    exec(compile(src.read_text(), str(src), "exec"), ns)
    with pytest.raises(s2sad.NoRuleError, match="tangent rule but no adjoint rule") as e:
        s2sad.grad(ns["gv"])(np.eye(3) + 0.1, np.ones((3, 3)))
    assert e.value.filename == str(tmp_path / "so_det.py")     # the user's line, not generated code


def test_reverse_over_forward_when_a_scalar_tangent_meets_an_array(tmp_path):
    """A checkpointed loop makes hvp differentiate the forward-mode code in
    reverse; there a scalar's tangent plus an array's broadcasts, and its
    adjoint must sum back to the scalar (fuzz seed 30848 crashed)."""
    path = tmp_path / "rof_scalar.py"
    path.write_text(textwrap.dedent('''
        import numpy as np
        import s2sad

        def f(x, z):
            for i in s2sad.checkpointed(range(3)):
                x = np.sin(x)
            t = x[1]
            p = t - z if len(z) > 1 else [0.0, 1.0]   # p may be a list: tangents add as containers
            return np.sum(np.sin(p))
    '''))
    ns = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    f = ns["f"]
    rng = np.random.default_rng(5)
    x, z, vx, vz = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 4), rng.standard_normal(3), rng.standard_normal(4)
    h = s2sad.hvp(f, wrt=(0, 1))
    hx, hz = h(x.copy(), z.copy(), (vx, vz))
    assert h.state["rof"], "the checkpointed loop should select reverse over forward"
    g = s2sad.grad(f, wrt=(0, 1))
    eps = 1e-5
    gp, gm = g(x + eps * vx, z + eps * vz), g(x - eps * vx, z - eps * vz)
    np.testing.assert_allclose(hx, (gp[0] - gm[0]) / (2 * eps), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hz, (gp[1] - gm[1]) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_hvp_restores_an_element_two_views_share(tmp_path):
    """A row written in a loop and a column read before it share one element
    (fuzz seed 78328): the reverse sweep's restore of the row must give the
    column back that element's tangent (the Hessian-vector product lost it)."""
    path = tmp_path / "rowcol.py"
    path.write_text(textwrap.dedent('''
        import numpy as np

        def f(y):
            c = y[:, 3]
            u = c * c
            for i in range(2):
                w = y[1]
                w[True] = 0.5
            return np.mean(u)
    '''))
    ns = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    f = ns["f"]
    rng = np.random.default_rng(0)
    y, v = rng.uniform(-0.5, 0.5, (3, 4)), rng.normal(size=(3, 4))
    g = s2sad.grad(f)
    eps = 1e-5
    fd = (g(y + eps * v) - g(y - eps * v)) / (2 * eps)
    np.testing.assert_allclose(s2sad.hvp(f)(y.copy(), v), fd, rtol=1e-6, atol=1e-8)


def test_hvp_of_a_function_with_a_local_named_like_the_gradients_seed():
    """A user local ``_out_adj`` is renamed in the gradient; differentiating
    that gradient again renamed its parameter ``_out_adj`` onto the same
    name, and the Hessian-vector product was silently wrong."""
    import corpus_straight as C
    x, v = np.array([0.3, -1.2, 0.7, 2.0]), np.array([1.0, 0.5, -0.3, 0.2])
    np.testing.assert_allclose(s2sad.hvp(C.user_name_out_adj)(x, v), 4.0 * v, rtol=1e-12)


def test_hvp_of_math_pow_in_its_exponent_at_zero():
    """d/dx pow(x, y) = y x^(y-1) was guarded by ``y == 0`` (for x = 0),
    which lost its derivative in y at y = 0: d2/dxdy = 1/x there."""
    import math_funcs as M
    hx, hy = s2sad.hvp(M.pow_, wrt=(0, 1))(1.3, 0.0, (1.0, 0.5))
    np.testing.assert_allclose(hx, 0.5 / 1.3, rtol=1e-12)
    np.testing.assert_allclose(hy, 0.5 * math.log(1.3) ** 2 + 1.0 / 1.3, rtol=1e-12)
