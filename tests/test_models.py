import numpy as np

import models_funcs as M
from helpers import check_grads


def test_lstm():
    r = np.random.default_rng(0)
    H, n_in, batch, T = 3, 2, 2, 4
    args = (r.normal(size=(n_in, 4 * H)) * 0.5, r.normal(size=(H, 4 * H)) * 0.5, r.normal(size=4 * H) * 0.1,
            r.normal(size=(T, batch, n_in)), r.normal(size=(batch, H)))
    check_grads(M.lstm_loss, args, wrt=(0, 1, 2, 3))


def test_gru():
    r = np.random.default_rng(1)
    H, n_in, T = 3, 2, 4
    mats = [r.normal(size=(H, n_in)) * 0.5 if i % 2 == 0 else r.normal(size=(H, H)) * 0.5 for i in range(6)]
    check_grads(M.gru_loss, tuple(mats) + (r.normal(size=(T, n_in)),), wrt=(0, 1, 2, 3, 4, 5, 6))


def test_softmax_cross_entropy_with_log_sum_exp_written_out():
    r = np.random.default_rng(2)
    W, X = r.normal(size=(3, 4)), r.normal(size=(5, 3))
    labels = np.array([0, 3, 1, 1, 2])
    g = check_grads(M.softmax_xent_written_out, (W, X, labels), wrt=(0, 1))
    assert np.abs(g[0]).max() > 1e-3   # not the silent-zero bug


def test_sgd_with_momentum_hypergradient():
    r = np.random.default_rng(3)
    X, y, Xv, yv = r.normal(size=(8, 3)), r.normal(size=8), r.normal(size=(6, 3)), r.normal(size=6)
    check_grads(M.sgd_momentum_train, (0.05, r.normal(size=3), X, y, Xv, yv), wrt=(0, 1))


def test_rk4_neural_ode():
    r = np.random.default_rng(4)
    check_grads(M.rk4_neural_ode, (r.normal(size=(3, 3)) * 0.5, r.normal(size=3) * 0.1, r.normal(size=3)),
                wrt=(0, 1, 2))


def test_loops_keep_only_shapes_of_values_read_for_their_shape():
    """Values whose adjoint reads only their shape (``unbroadcast``) are
    saved as ``_rt.like`` descriptors, not arrays: the tape holds less."""
    import tracemalloc
    import s2sad
    r = np.random.default_rng(5)
    H, n_in, batch, T = 16, 8, 4, 30
    args = (r.normal(size=(n_in, 4 * H)) * 0.3, r.normal(size=(H, 4 * H)) * 0.3, r.normal(size=4 * H) * 0.1,
            r.normal(size=(T, batch, n_in)), r.normal(size=(batch, H)))
    df = s2sad.grad(M.lstm_loss, wrt=(0, 1), plan=False)   # the generic code's saves
    df(*args)
    assert "_rt.like(" in df.source

    def peak():
        tracemalloc.start()
        g = df(*args)
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p, g
    p_like, g1 = peak()
    import s2sad_runtime
    real = s2sad_runtime.like
    s2sad_runtime.like = lambda x: x     # keep the arrays themselves
    try:
        p_arrays, g2 = peak()
    finally:
        s2sad_runtime.like = real
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    assert p_like < 0.8 * p_arrays, (p_like, p_arrays)
