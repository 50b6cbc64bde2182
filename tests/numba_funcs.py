"""Functions of the Numba backend's tests (tests/test_numba_backend.py):
the loops issue 15 is about, written as a user writes them."""

import math

import numpy as np

import s2sad

SCALE = np.array([1.0, 2.0, 3.0])


def while_branch(a, n):
    x = 0.5
    i = 0
    while i < n:
        if x > 0:
            x = x * math.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


def heat(u0, k, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        for j in range(1, n - 1):
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    return np.sum(u * u)


def node(W, b, y0, h, n):
    y = y0
    for i in range(n):
        k1 = np.tanh(W @ y + b)
        k2 = np.tanh(W @ (y + 0.5 * h * k1) + b)
        y = y + h * k2
    return np.sum(y * y)


def particles(x0, v0, dt, tmax):
    # a while loop of unknown trip count over small arrays
    x = x0.copy()
    v = v0.copy()
    t = 0.0
    while t < tmax:
        a = -x - 0.1 * v * np.abs(v)
        v = v + dt * a
        x = x + dt * v
        t = t + dt
    return np.sum(x * x) + 0.5 * np.sum(v * v)


def uses_global(x):
    s = 0.0
    for i in range(3):
        s = s + SCALE[i] * x[i] ** 2
    return s


def early_exit(x):
    s = 0.0
    for i in range(10):
        s = s + np.sin(x * i)
        if s > 1.5:
            break
    return s


def checkpointed(x):
    for i in s2sad.checkpointed(range(4), snapshots=2):
        x = np.sin(x) * 0.9
    return np.sum(x)


def vector_out(x):
    y = x
    for i in range(2):
        y = y * x
    return y


def ode_checkpointed(W, b, y, h, n):
    """A neural ODE (Euler steps) whose loop is checkpointed: the step reads
    W, b and h from the enclosing function."""
    for i in s2sad.checkpointed(range(n), snapshots=3):
        y = y + h * np.tanh(W @ y + b)
    return np.sum(y * y)


def heat_checkpointed(u0, k, steps):
    """The heat stencil's element loop inside a checkpointed loop: the
    one-step adjoint keeps a tape and accumulates k's adjoint outside."""
    u = u0.copy()
    n = u.shape[0]
    for t in s2sad.checkpointed(range(steps), snapshots=3):
        for j in range(1, n - 1):
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    return np.sum(u * u)


def while_checkpointed(x, a):
    t = 0.0
    while s2sad.checkpointed(t < 1.0, snapshots=2):
        x = x * np.cos(a * x) + 0.1
        t = t + 0.25
    return np.sum(x)


def lgamma_loop(x):
    s = 0.0
    for i in range(3):
        s = s + math.lgamma(x + i)
    return s


def noisy_checkpointed(x, n):
    """A checkpointed loop drawing from NumPy's global generator, which
    compiled code does not share: its functions stay Python."""
    for i in s2sad.checkpointed(range(n), snapshots=2):
        x = np.tanh(x) + 0.1 * np.random.normal(size=x.shape)
    return np.sum(x * x)


def global_draws(x, n):
    """Draws from NumPy's global generator in a checkpointed loop: compiled
    code would draw from Numba's own generator, so it stays Python."""
    for i in s2sad.checkpointed(range(n), snapshots=2):
        x = x * np.random.rand(3)
    return np.sum(x)


def global_draws_plain(x):
    for i in range(4):
        x = x * np.random.rand(3)
    return np.sum(x)


def gru(Wz, Wh, xs, h):
    """A GRU-like recurrence over one sequence: concatenations, matrix-vector products."""
    for t in range(xs.shape[0]):
        x = xs[t]
        hx = np.concatenate([h, x])
        z = 1.0 / (1.0 + np.exp(-(Wz @ hx)))
        hh = np.tanh(Wh @ np.concatenate([z * h, x]))
        h = (1 - z) * h + z * hh
    return np.sum(h * h)


def leaky_clipped(w, xs, lr):
    """np.where and np.clip of arrays the reverse sweep restores from its tapes."""
    s = 0.0
    for k in range(len(xs)):
        g = np.clip(w * xs[k], -1.0, 1.0)
        w = w - lr * np.where(g > 0, g, 0.1 * g)
        s = s + np.mean(w * w)
    return s


def kept_positive(a, b, x, y, dt, n):
    """The builtin max and min of numbers in a loop (a population kept positive)."""
    for i in range(n):
        dx = a * x - b * x * y
        dy = x * y - 0.4 * y
        x = min(x + dt * dx, 50.0)
        y = max(y + dt * dy, 1e-6, 0.5 * y)
    return x * y


def dot_rnn(W, U, xs, h):
    """A recurrence written with np.dot and the .dot method, over the rows of xs."""
    for x in xs:
        h = np.tanh(np.dot(W, h) + U.dot(x))
    return np.sum(h * h)


def reversed_sums(a, xs, y):
    """reversed() of an array and of a range held in a name; np.array of an array."""
    s = 0.0
    for v in reversed(xs):
        s = s + a * v * s + v
    steps = range(1, 7, 2)
    for i in reversed(steps):
        y = (0.1 * i) * np.transpose(y * y) + a
    t = np.array(y)
    return s + np.sum(t * t)
