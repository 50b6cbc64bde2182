import random

import numpy as np

import s2sad


def ode(W, b, y0, n, s):
    y = y0
    h = 0.05
    for t in s2sad.checkpointed(range(n), snapshots=s):
        k1 = np.tanh(W @ y + b)
        k2 = np.tanh(W @ (y + 0.5 * h * k1) + b)
        y = y + h * k2
    return np.sum(y * y)


def ode_plain(W, b, y0, n, s):
    y = y0
    h = 0.05
    for t in range(n):
        k1 = np.tanh(W @ y + b)
        k2 = np.tanh(W @ (y + 0.5 * h * k1) + b)
        y = y + h * k2
    return np.sum(y * y)


def sgd_with_dropout(w0, X, y, lr, rng, n, s):
    """Training loop with random dropout masks drawn in the body."""
    w = w0
    v = 0.0 * w0
    loss_sum = 0.0
    for t in s2sad.checkpointed(range(n), snapshots=s):
        mask = rng.random(w.shape[0]) < 0.8
        r = X @ (w * mask) - y
        g = X.T @ r * mask / X.shape[0]
        v = 0.9 * v - lr * g
        w = w + v
        loss_sum = loss_sum + 0.5 * np.mean(r * r)
    return loss_sum + np.sum(w * w)


def sgd_with_dropout_tape(w0, X, y, lr, rng, n, s):
    w = w0
    v = 0.0 * w0
    loss_sum = 0.0
    for t in range(n):
        mask = rng.random(w.shape[0]) < 0.8
        r = X @ (w * mask) - y
        g = X.T @ r * mask / X.shape[0]
        v = 0.9 * v - lr * g
        w = w + v
        loss_sum = loss_sum + 0.5 * np.mean(r * r)
    return loss_sum + np.sum(w * w)


def global_noise(x, n):
    for t in s2sad.checkpointed(range(n), snapshots=2):
        x = x + 0.01 * np.random.normal(size=x.shape) * x
    return np.sum(x)


def python_random(x, n):
    for t in s2sad.checkpointed(range(n), snapshots=2, check=True):
        x = x * (1.0 + 0.01 * random.random())
    return np.sum(x)


def loop_with_branch_and_inner_loop(x, W, n):
    h = x
    acc = 0.0
    for t in s2sad.checkpointed(range(n), snapshots=3):
        if t % 2 == 0:
            h = np.tanh(W @ h)
        else:
            for j in range(2):
                h = h + 0.1 * np.sin(h)
        acc = acc + np.sum(h) * t
    return acc + np.sum(h * h)


def over_rows(X, w):
    s = 0.0
    for row in s2sad.checkpointed(X, snapshots=2):
        s = s + np.tanh(row @ w)
    return s


def unannotated(x, W, n):
    h = x
    for t in range(n):
        h = np.tanh(W @ h)
    return np.sum(h)


def newton_while(a, x0, tol):
    """Newton iterations for sqrt(a) in a checkpointed while loop."""
    x = x0
    err = 1.0
    while s2sad.checkpointed(err > tol, snapshots=3):
        x_new = 0.5 * (x + a / x)
        err = abs(x_new - x)
        x = x_new
    return x


def damped_while(y0, W, s):
    y = y0
    t = 0.0
    while s2sad.checkpointed(t < 1.0, snapshots=s):
        y = y + 0.01 * np.tanh(W @ y)
        t = t + 0.01
    return np.sum(y * y)


def damped_while_tape(y0, W, s):
    y = y0
    t = 0.0
    while t < 1.0:
        y = y + 0.01 * np.tanh(W @ y)
        t = t + 0.01
    return np.sum(y * y)


def ode_small(W, y0, n):
    y = y0
    for t in s2sad.checkpointed(range(n), snapshots=3):
        y = y + 0.1 * np.tanh(W @ y)
    return np.sum(y * y)


def ode_small_tape(W, y0, n):
    y = y0
    for t in range(n):
        y = y + 0.1 * np.tanh(W @ y)
    return np.sum(y * y)
