import numpy as np

import higher_funcs as H
import s2sad
from helpers import check_grads, numeric_grad


def test_grad_of_grad_scalar():
    x = np.array([0.3, -1.2, 2.0])
    d1 = s2sad.grad(H.cube_sum)

    def first(x):
        return np.sum(d1(x))
    # second derivative of sum(x^3 + sin x) summed: 6x - sin(x)
    d2 = s2sad.grad(first)
    np.testing.assert_allclose(d2(x), 6 * x - np.sin(x), rtol=1e-12)


def test_grad_of_grad_elementwise_matches_fd():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    check_grads(H.grad_norm, (W, x), wrt=(0, 1))


def test_hypergradient_through_sgd_with_momentum():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    w0 = rng.normal(size=3)
    g = s2sad.grad(H.train, wrt=(0, 1))(0.1, w0, X, y)
    np.testing.assert_allclose(g[0], numeric_grad(H.train, (0.1, w0, X, y), 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g[1], numeric_grad(H.train, (0.1, w0, X, y), 1), rtol=1e-6, atol=1e-9)
