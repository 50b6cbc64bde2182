import numpy as np

import s2sad


def train_rev(w0, lr, gamma, X, y, T):
    w = w0
    v = 0.0 * w0
    for t in s2sad.reversible(range(T)):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gamma * v - (1.0 - gamma) * g
        w = w + lr * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def train_tape(w0, lr, gamma, X, y, T):
    w = w0
    v = 0.0 * w0
    for t in range(T):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gamma * v - (1.0 - gamma) * g
        w = w + lr * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def leapfrog_rev(q0, p0, dt, T):
    q = q0
    p = p0
    for t in s2sad.reversible(range(T)):
        p = p - 0.5 * dt * np.sin(q)
        q = q + dt * p
    return np.sum(q * q) + np.sum(p)


def not_invertible(x, T):
    for t in s2sad.reversible(range(T)):
        x = x + x * x
    return np.sum(x)


def leapfrog_tape(q0, p0, dt, T):
    q = q0
    p = p0
    for t in range(T):
        p = p - 0.5 * dt * np.sin(q)
        q = q + dt * p
    return np.sum(q * q) + np.sum(p)


def train_schedule_rev(w0, lrs, gammas, X, y):
    w = w0
    v = 0.0 * w0
    for t in s2sad.reversible(range(lrs.shape[0])):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gammas[t] * v - (1.0 - gammas[t]) * g
        w = w + lrs[t] * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def train_schedule_tape(w0, lrs, gammas, X, y):
    w = w0
    v = 0.0 * w0
    for t in range(lrs.shape[0]):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gammas[t] * v - (1.0 - gammas[t]) * g
        w = w + lrs[t] * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def temp_read_after_update(x, y, T):
    for t in s2sad.reversible(range(T)):
        g = np.sin(x)
        x = x + 0.1 * y
        y = y - 0.1 * g
    return np.sum(x * y)


def heun_residual(y0, W, h, T):
    """A reversible-Heun-type integrator (the state pair y, z updated
    additively), float32, with residual-corrected reversal."""
    y = y0
    z = y0
    for t in s2sad.reversible(range(T), residuals=True):
        z = z + h * np.tanh(W @ y)
        y = y + h * np.tanh(W @ z)
    return np.sum(y * y) + np.sum(z)


def heun_tape(y0, W, h, T):
    y = y0
    z = y0
    for t in range(T):
        z = z + h * np.tanh(W @ y)
        y = y + h * np.tanh(W @ z)
    return np.sum(y * y) + np.sum(z)


def momentum_residual(w0, lr, gamma, X, y, T):
    w = w0
    v = 0.0 * w0
    for t in s2sad.reversible(range(T), residuals=True):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gamma * v - (1.0 - gamma) * g
        w = w + lr * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def train_rev_anchored(w0, lr, gamma, X, y, T, K):
    w = w0
    v = 0.0 * w0
    for t in s2sad.reversible(range(T), checkpoint_every=K):
        g = X.T @ (X @ w - y) / X.shape[0]
        v = gamma * v - (1.0 - gamma) * g
        w = w + lr * v
    return 0.5 * np.mean((X @ w - y) ** 2)


def two_params(a, b, T):
    va = 0.0 * a
    vb = 0.0 * b
    for t in s2sad.reversible(range(T)):
        g = np.sin(a + b)
        va = 0.9 * va - g
        vb = 0.9 * vb - g
        a = a + 0.1 * va
        b = b + 0.1 * vb
    return np.sum(a * b)


def two_params_tape(a, b, T):
    va = 0.0 * a
    vb = 0.0 * b
    for t in range(T):
        g = np.sin(a + b)
        va = 0.9 * va - g
        vb = 0.9 * vb - g
        a = a + 0.1 * va
        b = b + 0.1 * vb
    return np.sum(a * b)
