import numpy as np
import pytest

import container_funcs as C
import s2sad
from helpers import check_grads, numeric_grad


def _rng():
    return np.random.default_rng(3)


def test_dict_of_parameters_gradient_is_a_dict():
    r = _rng()
    params = {"W1": r.normal(size=(4, 5)), "b1": r.normal(size=5), "W2": r.normal(size=(5, 2))}
    X, y = r.normal(size=(6, 4)), r.normal(size=(6, 2))
    g = s2sad.grad(C.mlp_dict)(params, X, y)
    assert isinstance(g, dict) and set(g) == set(params)
    for k in params:
        def f(v, k=k):
            p = dict(params)
            p[k] = v
            return C.mlp_dict(p, X, y)
        np.testing.assert_allclose(g[k], numeric_grad(f, (params[k],), 0), rtol=1e-6, atol=1e-8)


def test_list_of_weights_gradient_is_a_list():
    r = _rng()
    Ws = [r.normal(size=(3, 3)) * 0.5 for _ in range(3)]
    x = r.normal(size=3)
    g = s2sad.grad(C.layers_list)(Ws, x)
    assert isinstance(g, list) and len(g) == 3
    for i in range(3):
        def f(v, i=i):
            w = list(Ws)
            w[i] = v
            return C.layers_list(w, x)
        np.testing.assert_allclose(g[i], numeric_grad(f, (Ws[i],), 0), rtol=1e-6, atol=1e-8)


def test_tuple_input():
    r = _rng()
    a, b, x = r.normal(size=3), r.normal(size=3), r.normal(size=3)
    g = s2sad.grad(C.tuple_input)((a, b), x)
    assert isinstance(g, tuple)
    np.testing.assert_allclose(g[0], x)
    np.testing.assert_allclose(g[1], np.ones(3))


@pytest.mark.parametrize("fn", [C.append_stack, C.returns_tuple_helper, C.list_write, C.stack_list_variable])
def test_lists_inside_the_function(fn):
    r = _rng()
    x = r.normal(size=3)
    if fn in (C.append_stack, C.stack_list_variable):
        check_grads(fn, (x, r.normal(size=(3, 3))), wrt=(0, 1))
    else:
        check_grads(fn, (x,))
