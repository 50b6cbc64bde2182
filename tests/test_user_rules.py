import numpy as np
import pytest

import s2sad
import user_rule_funcs as U
from helpers import check_grads


def setup_module():
    @s2sad.adjoint(U.softplus, rules=U.my_rules)
    def softplus_vjp(g, ans, x):
        return g / (1.0 + np.exp(-x))

    @s2sad.adjoint(U.scaled_dist, rules=U.my_rules)
    def dist_vjp(g, ans, x, y, p):
        r = 2.0 * (x - y) * p * g
        return r, -r, None

    @s2sad.adjoint(U.clipped_identity, rules=U.my_rules)
    def clip_vjp(g, ans, x):
        return np.clip(g, -1.0, 1.0)


def test_user_rule_single_argument_matches_finite_differences():
    x = np.array([0.3, -1.0, 2.0])
    g = s2sad.grad(U.uses_softplus, rules=U.my_rules)(x)
    from helpers import numeric_grad
    np.testing.assert_allclose(g, numeric_grad(U.uses_softplus, (x,), 0), rtol=1e-7)
    # the generated code calls the registered rule instead of inlining softplus
    src = s2sad.grad(U.uses_softplus, rules=U.my_rules).source
    assert "softplus_vjp(" in src and "log1p" not in src.split("reverse sweep")[1]


def test_user_rule_several_arguments_and_none():
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    gx, gy = s2sad.grad(U.uses_dist, wrt=(0, 1), rules=U.my_rules)(x, y)
    np.testing.assert_allclose(gx, 6.0 * (x - y) + 1.0)
    np.testing.assert_allclose(gy, -6.0 * (x - y))


def test_pseudo_gradient_clipping():
    g = s2sad.grad(U.uses_clip, rules=U.my_rules)(np.ones(3))
    np.testing.assert_allclose(g, np.ones(3))  # 10 clipped to 1


def test_rule_tables_are_separate():
    # the default table knows nothing of the user rule: softplus is inlined there
    check_grads(U.uses_softplus, (np.array([0.3, -1.0]),))
    assert s2sad.DEFAULT_RULES.lookup(U.softplus) is None
    assert U.my_rules.lookup(U.softplus) is not None


def test_user_rule_with_wrong_arity_gets_a_clear_error():
    table = s2sad.RuleTable(parent=s2sad.DEFAULT_RULES)

    @s2sad.adjoint(U.scaled_dist, rules=table)
    def bad(g, ans, x, y, p):
        return g

    with pytest.raises(s2sad.S2SadError, match="expected a tuple of 3"):
        s2sad.grad(U.uses_dist, rules=table)(np.ones(2), np.zeros(2))


def test_traceback_shows_generated_lines():
    import linecache
    import traceback
    df = s2sad.grad(U.uses_softplus, rules=U.my_rules)
    try:
        df(np.array(["a"]))
    except Exception as e:
        frames = traceback.extract_tb(e.__traceback__)
        gen = [f for f in frames if f.filename.startswith("<s2sad")]
        assert gen, [f.filename for f in frames]
        assert gen[0].line and linecache.getline(gen[0].filename, gen[0].lineno).strip() == gen[0].line
    else:
        raise AssertionError("expected a failure on a string array")
