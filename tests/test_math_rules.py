"""Rules of Python's math module and numeric builtins (issue 8): central
finite differences at several points of each domain, edge cases, and a
check that Python floats stay Python floats inside the adjoint code."""

import ast
import inspect
import math
import sys

import numpy as np
import pytest

import s2sad
import s2sad_runtime as rt
import math_funcs as M
from helpers import check_grads, numeric_grad
from s2sad.rules import math_rules

# ------------------------------------------------------- one argument, FD

ONE_ARG = [
    (M.sin, [-2.5, -0.3, 0.0, 1.1, 4.0]),
    (M.cos, [-2.5, -0.3, 0.0, 1.1, 4.0]),
    (M.tan, [-1.2, -0.3, 0.0, 0.9, 1.4]),
    (M.asin, [-0.95, -0.3, 0.0, 0.5, 0.99]),
    (M.acos, [-0.95, -0.3, 0.0, 0.5, 0.99]),
    (M.atan, [-30.0, -1.0, 0.0, 0.4, 7.0]),
    (M.sinh, [-3.0, -0.2, 0.0, 1.5]),
    (M.cosh, [-3.0, -0.2, 0.0, 1.5]),
    (M.tanh, [-3.0, -0.2, 0.0, 1.5]),
    (M.asinh, [-20.0, -0.2, 0.0, 1.5, 1e3]),
    (M.acosh, [1.01, 1.5, 3.0, 50.0]),
    (M.atanh, [-0.95, -0.2, 0.0, 0.5, 0.9]),
    (M.exp, [-5.0, -0.3, 0.0, 2.0]),
    (M.expm1, [-3.0, -1e-5, 0.0, 1e-8, 2.0]),
    (M.log, [1e-3, 0.1, 1.0, 7.5, 1e4]),
    (M.log1p, [-0.9, -1e-6, 0.0, 0.5, 100.0]),
    (M.log2, [1e-3, 0.5, 1.0, 8.0]),
    (M.log10, [1e-3, 0.5, 1.0, 1e3]),
    (M.sqrt, [1e-4, 0.25, 2.0, 1e4]),
    (M.fabs, [-2.0, -1e-3, 1e-3, 3.0]),
    (M.erf, [-2.0, -0.1, 0.0, 0.7, 3.0]),
    (M.erfc, [-2.0, -0.1, 0.0, 0.7, 3.0]),
    (M.gamma, [-2.5, -0.5, 0.1, 0.5, 1.0, 1.4616321449683623, 2.0, 4.3, 10.5]),
    (M.lgamma, [-3.7, -1.5, -0.5, 0.1, 0.5, 1.0, 2.0, 4.3, 25.0, 150.0]),
    (M.degrees, [-1.0, 0.0, 2.0]),
    (M.radians, [-90.0, 0.0, 45.0]),
    (M.ldexp, [-1.5, 0.0, 0.3]),
    (M.log_base_const, [1e-3, 0.5, 2.0, 100.0]),
    (M.pow_const, [-2.0, -0.5, 0.0, 0.5, 3.0]),
    (M.hypot1, [-2.0, 0.5]),
    (M.b_abs, [-2.0, -1e-3, 1e-3, 3.0]),
    (M.b_pow_int, [-2.0, 0.0, 1.5]),
    (M.b_float, [-2.0, 0.5]),
    (M.b_round_int, [-1.3, 0.2, 2.7]),
    (M.nondiff, [-1.3, 0.2, 2.7]),
    (M.newton_sqrt, [0.3, 2.0, 9.0]),
    (M.series, [-1.0, 0.3, 1.5]),
]
if hasattr(math, "exp2"):
    ONE_ARG += [(M.exp2, [-3.0, 0.0, 2.5]), (M.cbrt, [-8.0, -0.3, 0.2, 27.0])]

ONE_ARG_CASES = [(f, x) for f, xs in ONE_ARG for x in xs]


def _eps(x):
    """A step small against |x| near 0 (log, sqrt, ... near their poles)."""
    return min(1e-6, abs(x) * 1e-3) if x != 0 else 1e-6


@pytest.mark.parametrize("fn,x", ONE_ARG_CASES, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_one_arg(fn, x):
    g = check_grads(fn, (x,), rtol=1e-6, atol=1e-8, eps=_eps(x))
    assert type(g) is float


# ------------------------------------------------------ several arguments, FD

MULTI = [
    (M.log_base, [(0.5, 2.0), (1e-3, 10.0), (7.0, 0.5), (3.0, 1.5)]),
    # atan2 in all four quadrants and on the axes (away from the branch cut)
    (M.atan2, [(0.3, 1.0), (0.3, -1.0), (-0.3, -1.0), (-0.3, 1.0), (1.0, 0.0), (-2.0, 0.0),
               (0.0, 1.0), (1e-4, -1e-4), (5.0, -0.01)]),
    (M.pow_, [(2.0, 3.0), (0.5, -1.5), (1.3, 0.0), (2.0, 0.5)]),
    (M.b_pow, [(2.0, 3.0), (0.5, -1.5), (1.3, 0.0), (2.0, 0.5)]),
    # hypot with a zero argument: derivative exists (sign(x), 0)
    (M.hypot, [(3.0, 4.0), (-3.0, 4.0), (2.0, 0.0), (-2.0, 0.0), (0.0, 0.5), (1e-5, 2e-5)]),
    (M.hypot3, [(1.0, -2.0, 2.0), (0.0, 0.0, -3.0), (0.5, 0.0, 0.0)]),
    (M.dist, [(1.0, 2.0, -0.5, 0.3), (1.0, 2.0, 1.0, -1.0)]),
    (M.fsum, [(0.1, -2.0, 1.5)]),
    (M.prod, [(0.5, -2.0, 1.5), (0.0, -2.0, 1.5), (0.0, 0.0, 3.0)]),
    (M.prod_start, [(0.5, -2.0, 1.5), (0.0, 2.0, 3.0)]),
    (M.copysign, [(1.5, 2.0), (1.5, -2.0), (-1.5, 2.0), (-1.5, -2.0)]),
    (M.fmod, [(5.3, 2.0), (-5.3, 2.0), (5.3, -2.0), (0.7, 3.0)]),
    (M.remainder, [(5.3, 2.0), (-5.3, 2.0), (5.9, -2.0), (0.7, 3.0)]),
    (M.b_max2, [(1.0, 2.0), (2.0, 1.0), (-1.0, -3.0)]),
    (M.b_min2, [(1.0, 2.0), (2.0, 1.0), (-1.0, -3.0)]),
    (M.b_max3, [(0.5, 0.1, 0.2), (1.5, 0.1, 0.2), (0.1, 0.0, 1.0), (0.2, 3.0, -1.0)]),
    (M.py_mod, [(5.3, 2.0), (-5.3, 2.0), (5.3, -2.0)]),
    (M.composite, [(0.7, -0.4), (-1.2, 0.9), (0.1, 2.0)]),
]
MULTI_CASES = [(f, a) for f, args in MULTI for a in args]


@pytest.mark.parametrize("fn,args", MULTI_CASES, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_several_args(fn, args):
    eps = min([1e-6] + [_eps(a) for a in args if a != 0])
    g = check_grads(fn, args, wrt=tuple(range(len(args))), rtol=1e-6, atol=1e-8, eps=eps)
    assert all(type(v) is float for v in g)


@pytest.mark.parametrize("fn", [M.pow_, M.b_pow], ids=lambda v: v.__name__)
@pytest.mark.parametrize("x,y", [(-2.0, 3.0), (-1.5, 2.0), (-0.5, -3.0)])
def test_pow_negative_base(fn, x, y):
    # a negative base needs an integer exponent: differentiable in x only
    g = check_grads(fn, (x, y), wrt=0, rtol=1e-6, atol=1e-8)
    assert type(g) is float


# ---------------------------------------------------------------- edge cases


def test_log_near_zero():
    for x in (1e-4, 1e-6, 1e-9):
        got = s2sad.grad(M.log)(x)
        assert got == pytest.approx(1.0 / x, rel=1e-14)
        got = s2sad.grad(M.log_base, wrt=(0, 1))(x, 10.0)
        assert got[0] == pytest.approx(1.0 / (x * math.log(10.0)), rel=1e-14)
        assert got[1] == pytest.approx(-math.log(x) / (10.0 * math.log(10.0) ** 2), rel=1e-14)
    with pytest.raises(ValueError):   # log(0) is outside the domain (as in math)
        s2sad.grad(M.log)(0.0)


def test_atan2_four_quadrants_analytic():
    for y, x in [(0.3, 1.0), (0.3, -1.0), (-0.3, -1.0), (-0.3, 1.0), (0.0, -1.0), (-0.0, -1.0)]:
        gy, gx = s2sad.grad(M.atan2, wrt=(0, 1))(y, x)
        r2 = x * x + y * y
        assert gy == pytest.approx(x / r2, rel=1e-15)
        assert gx == pytest.approx(-y / r2, rel=1e-15, abs=0.0)
    with pytest.raises(ZeroDivisionError):   # the origin: no derivative
        s2sad.grad(M.atan2, wrt=(0, 1))(0.0, 0.0)


def test_hypot_zero_argument_and_origin():
    # one zero argument: the derivative exists, no NaN
    assert s2sad.grad(M.hypot, wrt=(0, 1))(2.0, 0.0) == (1.0, 0.0)
    assert s2sad.grad(M.hypot, wrt=(0, 1))(-2.0, 0.0) == (-1.0, 0.0)
    assert s2sad.grad(M.hypot, wrt=(0, 1))(0.0, -0.5) == (0.0, -1.0)
    # the origin: the documented subgradient 0 (not NaN, no exception)
    g = s2sad.grad(M.hypot, wrt=(0, 1))(0.0, 0.0)
    assert g == (0.0, 0.0) and not any(math.isnan(v) for v in g)
    g = s2sad.grad(M.hypot3, wrt=(0, 1, 2))(0.0, 0.0, 0.0)
    assert g == (0.0, 0.0, 0.0)
    assert s2sad.grad(M.hypot1)(0.0) == 0.0
    g = s2sad.grad(M.dist, wrt=(0, 1, 2, 3))(1.0, 2.0, 1.0, 2.0)
    assert g == (0.0, 0.0, 0.0, 0.0)


def test_sqrt_at_zero_raises():
    with pytest.raises(ZeroDivisionError):
        s2sad.grad(M.sqrt)(0.0)


def test_abs_fabs_copysign_at_zero_subgradient():
    assert s2sad.grad(M.fabs)(0.0) == 0.0
    assert s2sad.grad(M.b_abs)(0.0) == 0.0
    assert s2sad.grad(M.copysign, wrt=(0, 1))(0.0, -1.0) == (0.0, 0.0)


def test_pow_edges():
    # math.pow(x, y) in y at x <= 0 is taken as 0; in x at 0 with y >= 1 exact
    gx, gy = s2sad.grad(M.pow_, wrt=(0, 1))(0.0, 2.0)
    assert (gx, gy) == (0.0, 0.0)
    gx, gy = s2sad.grad(M.pow_, wrt=(0, 1))(-2.0, 3.0)
    assert gx == pytest.approx(12.0) and gy == 0.0
    gx, gy = s2sad.grad(M.pow_, wrt=(0, 1))(0.0, 0.0)
    assert (gx, gy) == (0.0, 0.0)


def test_builtin_extremum_ties_go_to_the_returned_argument():
    assert s2sad.grad(M.b_max2, wrt=(0, 1))(1.5, 1.5) == (1.0, 0.0)
    assert s2sad.grad(M.b_min2, wrt=(0, 1))(1.5, 1.5) == (1.0, 0.0)
    # max(a*a, b, c) + min(a, c, 0.25) at a*a == b == c == 0.25: the max goes
    # to a*a (d/da = 2a = 1), the min to c (the first tied argument)
    assert s2sad.grad(M.b_max3, wrt=(0, 1, 2))(0.5, 0.25, 0.25) == (1.0, 0.0, 1.0)
    nan = float("nan")
    g = s2sad.grad(M.b_max2, wrt=(0, 1))(nan, 1.0)   # Python returns the NaN
    assert g == (1.0, 0.0)


def test_builtins_on_arrays():
    x = np.array([0.5, -1.5, 2.0])
    check_grads(M.b_abs_array, (x,))
    check_grads(M.b_max_array, (x,))
    check_grads(M.b_float_array, (x,))
    check_grads(M.b_pow_array, (np.array([0.5, 1.5, 2.0]), np.array([1.5, -0.5, 2.0])), wrt=(0, 1))
    check_grads(M.b_pow_array, (np.array([0.5, 1.5, 2.0]), 2.5), wrt=(0, 1))
    check_grads(M.b_abs, (np.array(-0.7),))


def test_nondiff_functions_give_zero():
    # floor, ceil, trunc, isfinite, ... contribute nothing; a function of x
    # only through them has gradient 0
    assert s2sad.grad(M.b_round_int)(2.7) == pytest.approx(round(2.7) + 2 * int(2.7) * 2.7)
    for fn in (math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, round, int):
        rule = s2sad.DEFAULT_RULES.lookup(fn)
        assert rule is not None and rule.nondiff, fn


# ---------------------------------------------------------------- digamma


def test_digamma_known_values():
    euler = 0.57721566490153286061
    assert rt.digamma(1.0) == pytest.approx(-euler, rel=2e-15)
    assert rt.digamma(0.5) == pytest.approx(-euler - 2 * math.log(2.0), rel=2e-15)
    assert rt.digamma(-0.5) == pytest.approx(2.0 - euler - 2 * math.log(2.0), rel=2e-14)
    h = 0.0
    for n in range(1, 40):
        assert rt.digamma(float(n)) == pytest.approx(h - euler, rel=2e-15, abs=2e-15)
        h += 1.0 / n
    assert abs(rt.digamma(1.4616321449683623)) < 2e-15   # the positive root
    assert rt.digamma(1e-8) == pytest.approx(-1e8 - euler, rel=1e-15)
    assert rt.digamma(1e300) == pytest.approx(math.log(1e300), rel=1e-15)
    assert rt.digamma(math.inf) == math.inf
    assert math.isnan(rt.digamma(math.nan))
    for pole in (0.0, -1.0, -7.0):
        with pytest.raises(ValueError):
            rt.digamma(pole)
    assert type(rt.digamma(3)) is float and type(rt.digamma(np.float64(2.5))) is float


def test_digamma_reflection_and_recurrence():
    for x in (-7.3, -2.5, -0.9, -1e-3, 0.2, 0.7, 3.3, 9.99, 10.01, 57.0):
        assert rt.digamma(x + 1.0) == pytest.approx(rt.digamma(x) + 1.0 / x, rel=1e-13, abs=1e-14)
        if x < 1:
            want = rt.digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
            assert rt.digamma(x) == pytest.approx(want, rel=1e-12, abs=1e-13)


def test_digamma_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(0, 10, 300), rng.uniform(10, 500, 100), rng.uniform(-20, 0, 300)])
    for x in xs:
        x = float(x)
        if x <= 0 and abs(x - round(x)) < 1e-3:
            continue
        ref = mpmath.digamma(mpmath.mpf(x))
        err = abs(mpmath.mpf(rt.digamma(x)) - ref)
        bound = 2e-15 * max(1.0, abs(ref))   # the docstring's accuracy
        assert err <= bound, (x, float(err))


# ------------------------------------------------- Python floats stay floats


def _adjoint_frame_locals(df, args):
    """Run ``df(*args)`` and return the locals of the generated adjoint
    function at its return (captured with a tracer)."""
    captured = {}

    def tracer(frame, event, arg):
        if frame.f_code.co_name.endswith("_grad"):
            def local(frame, event, arg):
                if event == "return":
                    captured.update(frame.f_locals)
                return local
            return local
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        df(*args)
    finally:
        sys.settrace(old)
    return captured


@pytest.mark.parametrize("fn,args", [
    (M.composite, (0.7, -0.4)), (M.gamma, (2.5,)), (M.lgamma, (-1.5,)), (M.hypot3, (1.0, -2.0, 0.0)),
    (M.log_base, (0.5, 3.0)), (M.b_max3, (0.5, 0.1, 0.2)), (M.pow_, (2.0, 0.5)), (M.b_pow, (2.0, 0.5)),
    (M.prod_start, (0.5, 2.0, 3.0)), (M.copysign, (1.5, -2.0)), (M.fmod, (5.3, 2.0)),
    (M.dist, (1.0, 2.0, -0.5, 0.3)), (M.asinh, (0.3,)), (M.erf, (0.3,)), (M.b_abs, (-0.3,)),
    (M.newton_sqrt, (2.0,)), (M.series, (0.3,)),
], ids=lambda v: getattr(v, "__name__", repr(v)))
def test_adjoints_are_python_floats(fn, args):
    """Every value in the adjoint code -- primal values, temporaries and
    adjoints -- is a Python float (or int), never a NumPy scalar."""
    df = s2sad.grad(fn, wrt=tuple(range(len(args))))
    loc = _adjoint_frame_locals(df, args)
    adj = {k: v for k, v in loc.items() if k.endswith("_adj")}
    assert adj, "the tracer saw no adjoint"
    for k, v in loc.items():
        if isinstance(v, (float, int)) or isinstance(v, np.generic):
            assert type(v) in (float, int, bool), (k, type(v))


def test_math_templates_use_only_math_and_pure_python_helpers():
    allowed_rt = {"digamma", "prod_except", "sign", "log_or_zero", "builtin_extremum_adjoint"}
    for name, tmpl in list(math_rules._MATH.items()) + [
            ("abs", math_rules.builtin_abs), ("pow", math_rules.builtin_pow),
            ("float", math_rules.builtin_float), ("max", math_rules.builtin_extremum)]:
        tree = ast.parse(inspect.getsource(tmpl))
        params = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        params |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                assert node.id in params | {"d", "k", "math", "_rt", "round"}, (name, node.id)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "_rt":
                assert node.attr in allowed_rt, (name, node.attr)
    # the runtime helpers the math templates call return Python floats
    assert type(rt.sign(-2.0)) is float
    assert type(rt.prod_except([1.5, 2.0, 3.0], 1)) is float
    assert type(rt.log_or_zero(2.0)) is float


def test_every_math_rule_is_registered():
    for name in math_rules._MATH:
        fn = getattr(math, name, None)
        if fn is not None:
            rule = s2sad.DEFAULT_RULES.lookup(fn)
            assert rule is not None and rule.template is math_rules._MATH[name], name
    for fn in (abs, pow, float, max, min):
        assert s2sad.DEFAULT_RULES.lookup(fn) is not None


def test_grad_of_python_float_is_python_float_and_matches_fd():
    g = s2sad.grad(M.composite, wrt=(0, 1))(0.7, -0.4)
    want = (numeric_grad(M.composite, (0.7, -0.4), 0), numeric_grad(M.composite, (0.7, -0.4), 1))
    assert all(type(v) is float for v in g)
    np.testing.assert_allclose(g, want, rtol=1e-6)
