import math

import numpy as np


def squares_list(x):
    ys = [x[i] * x[i] for i in range(len(x))]
    return ys[0] + ys[1] * 2.0 + ys[2] * 3.0


def sum_generator(x):
    return sum(np.sin(x[i]) * (i + 1) for i in range(len(x)) if i != 1)


def nested_comprehension(W, x):
    rows = [[W[i, j] * x[j] for j in range(2)] for i in range(2)]
    return sum(rows[0]) * sum(rows[1])


def comprehension_does_not_leak(x):
    i = 2
    ys = [x[i] ** 2 for i in range(2)]
    return sum(ys) * x[i]


def sum_of_arrays(xs_scale, x):
    parts = [np.tanh(x * s) for s in (1.0, xs_scale, 3.0)]
    return np.sum(sum(parts))


def math_in_comprehension(a):
    return sum(math.sin(a * k) for k in range(1, 5))
