import numpy as np


def loss(W, b, X, y):
    h = np.tanh(X @ W + b)
    return 0.5 * np.mean((h - y) ** 2)


def f_loop(x, W):
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


def f_branch(x):
    if np.sum(x) > 0:
        y = x * 2.0
    else:
        y = np.sin(x)
    return np.sum(y * y)


def f_while(a):
    x = 1.0
    i = 0
    while i < 10:
        if x > 0:
            x = x * np.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


def lse_loop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + np.exp(x[i])
    return np.log(s)


def brk(x):
    s = 0.0
    for i in range(10):
        s = s + x[i] * x[i]
        if s > 3.0:
            break
    return s
