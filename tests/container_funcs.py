import numpy as np


def mlp_dict(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"]
    return np.mean((out - y) ** 2)


def layers_list(Ws, x):
    h = x
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h)


def tuple_input(ab, x):
    a, b = ab
    return np.sum(a * x + b)


def append_stack(x, W):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
        hs.append(h)
    total = 0.0
    for i in range(len(hs)):
        total = total + np.sum(hs[i] ** 2) * (i + 1)
    return total


def returns_tuple_helper(x):
    def split(v):
        return v[0], v[1:]
    first, rest = split(x)
    return first * np.sum(rest)


def list_write(x):
    ys = [x, x * 2.0, x * 3.0]
    ys[1] = np.sin(x)
    return np.sum(ys[0] * ys[1] + ys[2])


def stack_list_variable(x, W):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H * H) + np.sum(np.concatenate(hs) ** 3)
