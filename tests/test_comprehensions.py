import numpy as np
import pytest

import comprehension_funcs as C
from helpers import check_grads


@pytest.mark.parametrize("fn", [C.squares_list, C.sum_generator, C.comprehension_does_not_leak])
def test_vector_comprehensions(fn):
    check_grads(fn, (np.array([0.3, -1.2, 2.0]),))


def test_nested_comprehension():
    check_grads(C.nested_comprehension, (np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([1.5, -0.7])), wrt=(0, 1))


def test_comprehension_over_a_tuple_with_a_python_float():
    check_grads(C.sum_of_arrays, (0.7, np.array([0.2, -0.4])), wrt=(0, 1))


def test_math_generator_stays_float():
    import s2sad
    g = s2sad.grad(C.math_in_comprehension)(0.3)
    assert type(g) is float
    check_grads(C.math_in_comprehension, (0.3,))
