import numpy as np

import s2sad


def cube_sum(x):
    return np.sum(x * x * x + np.sin(x))


def quad_loss(w, X, y):
    r = X @ w - y
    return 0.5 * np.mean(r * r)


dquad = s2sad.grad(quad_loss)


def train(lr, w0, X, y):
    w = w0
    v = 0.0 * w0
    for t in range(5):
        g = dquad(w, X, y)
        v = 0.9 * v - lr * g
        w = w + v
    return quad_loss(w, X, y)


def mlp_loss(W, x):
    h = np.tanh(W @ x)
    return np.sum(h * h)


dmlp = s2sad.grad(mlp_loss)


def grad_norm(W, x):
    g = dmlp(W, x)
    return np.sum(g * g)
