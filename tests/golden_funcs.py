"""Functions whose generated adjoints are pinned in tests/golden/<name>.py.

Editing this file moves line numbers, which appear in the generated code's
comments: regenerate the golden files with

    S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

and review the diff.
"""

import numpy as np


def mlp(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2
    return 0.5 * np.mean((out - y) ** 2)


def branch(x):
    if np.sum(x) > 0:
        y = x * x
    else:
        y = -np.sin(x)
    return np.sum(y)


def for_loop(x, W):
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


def while_loop(a):
    x = a
    i = 0
    while i < 5:
        x = 0.5 * (x + a / x)
        i = i + 1
    return x


def keywords(x):
    m = np.mean(x * x, axis=0, keepdims=True)
    return np.sum(np.maximum(m, 0.1), axis=None)


# name -> wrt; the golden file of each is tests/golden/<name>.py
GOLDEN = {
    "mlp": (0, 1, 2),
    "branch": 0,
    "for_loop": (0, 1),
    "while_loop": 0,
    "keywords": 0,
    "call": (0, 1),
}


def _affine(W, h, scale=1.0):
    return scale * (W @ h)


def call(x, W):
    h = np.tanh(_affine(W, x))
    return np.sum(_affine(W, h, scale=0.5))


def example_args(name, seed=0):
    """Inputs to check each golden function's gradient numerically."""
    rng = np.random.default_rng(seed)
    if name == "mlp":
        return (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
                rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    if name == "branch":
        return (rng.normal(size=4),)
    if name == "for_loop":
        return (rng.normal(size=3), rng.normal(size=(3, 3)))
    if name == "while_loop":
        return (2.0,)
    if name == "keywords":
        return (rng.normal(size=(3, 4)),)
    if name == "call":
        return (rng.normal(size=3), rng.normal(size=(3, 3)))
    raise KeyError(name)
