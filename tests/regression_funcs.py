import numpy as np
def f(x):
    s = 0.0
    for i in range(5):
        if i == 3:
            break
        s = s + x * i
    return s
def g(x):
    s = 0.0
    for i in range(5):
        if i == 2:
            continue
        s = s + x * i
    return s
def sinf(x):
    return np.sin(x)
sq = lambda x: np.sum(x * x)
def nonscalar(x):
    return x * 2.0
def sg(x):
    return np.sum(x * s2sad_stop(x))
import s2sad
s2sad_stop = s2sad.stop_gradient


def alias_then_augassign(x, y):
    h = x * 2.0
    g = h
    h += y
    return np.sum(g * h)


def augassign_no_alias(x, y):
    h = x * 2.0
    h += y
    h *= x
    return np.sum(h)


def alias_scalar_augassign(a):
    b = a
    b += 1.0
    return a * b


def alias_then_setitem(x):
    y = x * 1.0
    z = y
    y[0] = 0.0
    return np.sum(z)


def loop_target_rebinds_param(x, a):
    s = 0.0
    for a in range(3):
        s = s + x[a] * a
    return s * a


def sum_of_list_literal(x, y):
    return np.sum(np.array([x, y * 2.0]) ** 2)
def maxlist(a, b):
    xs = [a * 2.0, b, a * b]
    return max(xs) + min(xs)

def max2(a, b):
    return max(a, b, 0.5) * min(a * 3.0, b)


def unpack_in_loop(x, y, n):
    for t in range(n):
        u = (x * y, y)
        a, b = u
        x = x + a
        y = y + b
    return x + y


def _pair(x, y):
    return x * y, y * 2.0


def unpack_helper_in_loop(x, y, n):
    for t in range(n):
        a, b = _pair(x, y)
        x = x + a
        y = y + b
    return x * y


def empty_piece_then_row_write(x):
    """(fuzz seed 43056, shrunk) np.array_split leaves an empty piece; a row
    of a reshaped view is written in a zip loop."""
    x = np.sum(x.reshape(1, -1), axis=1)
    y2 = x
    e1, e2 = (x @ x[None], 0.5)
    e1, e2 = (e2, e1)
    e1 = y2
    t1 = np.array_split(e1, 2)
    a = e1.reshape(1, e1.shape[0])
    for t1, q in zip(a, e2):
        t1[0] = 0.2
    return q
