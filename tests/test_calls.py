import numpy as np

import calls_funcs as C
from helpers import check_grads


def setup():
    rng = np.random.default_rng(0)
    return rng.normal(size=3), rng.normal(size=(3, 3))


def test_rk4_with_vector_field_argument():
    y, _ = setup()
    check_grads(C.loss_ode, (y,))
    check_grads(C.loss_fnarg, (y, C.field))


def test_closure_over_outer_values_in_lambda():
    y, _ = setup()
    check_grads(C.loss_closure, (y, 0.7), wrt=(0, 1))


def test_nested_def_with_defaults_and_keywords():
    y, W = setup()
    check_grads(C.loss_nested, (y, W), wrt=(0, 1))
    check_grads(C.loss_helper, (y,))
