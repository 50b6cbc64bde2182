"""The reproducers of issue #9/#13 (silently wrong values and gradients,
crashes, false refusals), one function each.  tests/test_semantics.py checks
every one against the function as Python runs it and central differences."""

import math

import numpy as np

import s2sad

SCALE = 2.0


# 1. a loop over an array that the body rebinds: Python iterates the original
def loop_over_rebound(x):
    s = 0.0
    for row in x:
        x = x * 2.0
        s = s + np.sum(row * row)
    return s


def zip_over_rebound(x, y):
    s = 0.0
    for a, b in zip(x, y):
        x = x * 2.0
        y = y + 1.0
        s = s + a * b
    return s


def enumerate_over_rebound(x):
    s = 0.0
    for i, row in enumerate(x):
        x = x * 3.0
        s = s + row * (i + 1)
    return s


def range_bound_rebound(x):
    n = 3
    s = 0.0
    for i in range(n):
        n = n + 1
        s = s + x[i] * n
    return s


# 2. a name assigned in a loop and rebound after the loop
def rebound_after_loop(x):
    for i in range(2):
        h = np.sin(x)
    h = np.cos(h)
    return np.sum(h)


def dead_store_after_loop(x):
    for i in range(2):
        h = np.sin(x) * (i + 1.0)
    v = np.sum(h * h)
    h = x * 0.0
    return v


def loop_index_reused(W, x):
    s = 0.0
    for t, row in enumerate(W):
        s = s + np.sum(row * x) * t
    for t in range(2):
        s = s + x[t] * s
    return s * t


def view_of_input_after_loop(x):
    for i in range(2):
        h = np.sin(x) + i
    s = np.sum(h * h)
    h = x[1:]
    return s + np.sum(h * h)


# 3. negative literals
def negative_literal_base(x):
    return np.sum(x * (-1.2) ** 2)


def _scale(a, s):
    return a * s ** 2


def negative_literal_argument(x):
    return np.sum(_scale(x, -1.5))


# 4. writes through views and aliases
def write_through_slice_view(y):
    y = y * 1.0
    z = y[:]
    z[0] = 3.0
    return np.sum(y * y)


def inplace_add_seen_by_view(b):
    b = b * 1.0
    v = b[:]
    b += 1.0
    return np.sum(v * v)


def write_through_alias(x):
    b = x * 2.0
    v = b
    v[1] = 0.0
    return np.sum(b * x)


def write_through_ellipsis(x):
    b = x * 2.0
    v = b[...]
    v[0] = 1.0
    return np.sum(b * b)


def write_through_transpose(x):
    b = x * 2.0
    t = b.T
    t[0, 1] = 0.0
    return np.sum(b * x)


def write_through_reshape(x):
    b = x * 2.0
    r = b.reshape(-1)
    r[2] = 7.0
    return np.sum(b * b)


def write_through_ravel(x):
    b = x + 1.0
    r = np.ravel(b)
    r[0] = r[1] * 3.0
    return np.sum(b * x)


def write_base_read_view(x):
    b = x * 1.0
    v = b[1:]
    b[1] = 10.0 * b[0]
    return np.sum(v * v)


def write_seen_through_list(x):
    y = x * 1.0
    pair = [y, x]
    y[0] = 1.0
    return np.sum(pair[0] * x) + np.sum(pair[1])


def list_of_one_array_written_each_step(x):
    h = x * 1.0
    states = []
    for t in range(3):
        states.append(h)
        h[t] = h[t] * 2.0
    return np.sum(states[0] * states[2])


# 5. module globals are read at call time
def uses_global(x):
    return np.sum(x * SCALE)


# 6. a differentiated parameter that the body rebinds
def rebinds_param(x):
    x = np.ones(4)
    return np.sum(x)


def rebinds_param_float32(x):
    y = x * 2.0
    x = y.astype(np.float64)
    return np.sum(x * x)


# 7. hvp after an element write
def write_then_square(x):
    b = x * 1.0
    c = np.sin(b)
    b[0] = 0.0
    return np.sum(c) + np.sum(b * b)


# 8. the array module as a parameter
def array_module_param(x, xp=np):
    return xp.sum(xp.sin(x) * x)


# 9. self-assignment through a slice
def self_assign_slice(x):
    b = x * 2.0
    b[:] = b
    return np.sum(b * b)


# 10. repeated integer indices in a write: the last write wins
def repeated_index_write(x):
    y = np.zeros(3)
    y[np.array([0, 0, 1])] = x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


def repeated_index_write_2d(x):
    y = np.zeros((2, 3))
    y[np.array([1, 0, 1]), np.array([2, 0, 2])] = x * 3.0
    return np.sum(y * y)


# 11. NumPy scalar constructors are differentiable
def numpy_float64_of_value(t):
    return np.float64(t) * t


def numpy_float32_of_value(x):
    s = np.float32(np.sum(x))
    return s * 2.0


# 12. complex values
def complex_abs(z):
    return np.sum(np.abs(z * z))


# crashes
def break_in_while_and(x):
    i = 0
    s = 0.0
    while i < 5 and s < 100.0:
        s = s + np.sum(x * x) * i
        if s > 20.0:
            break
        i = i + 1
    return s


def ckpt_defined_in_body_read_after(x):
    h = x
    for t in s2sad.checkpointed(range(4), snapshots=2):
        y = np.sin(h)
        h = h * 0.5 + y
    return np.sum(h) + np.sum(y)


def ckpt_param_overwritten_in_body(x, n):
    s = x * 0.0
    for t in s2sad.checkpointed(range(3), snapshots=2):
        n = 2.0 * t
        s = s + x * n
    return np.sum(s)


def ckpt_continue(x):
    h = x * 1.0
    for t in s2sad.checkpointed(range(5), snapshots=2):
        if t == 2:
            continue
        h = np.sin(h) + t
    return np.sum(h)


def nested_def_inside_call(x):
    def g(v):
        return v * v

    return np.sum(g(x)) + np.sum((lambda w: w * 3.0)(x))


def bound_in_one_branch(x, c):
    if c > 0:
        y = x * 2.0
    if c < 5:
        y = np.sin(x)
    return np.sum(y * x)


def dead_branch_value(x):
    s = np.sum(x)
    if s > 0:
        t = x * 2.0
    return np.sum(x * x)


def returns_tuple(x):
    return np.sum(x), np.sum(x * x)


def list_of_floats_and_actives(a):
    return np.sum([1.0, a * a, 2.0])


def hessian_by_name(x):
    return np.sum(x ** 3)


class Model:
    def __init__(self, W):
        self.W = W

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x))


def keyword_only(x, *, s=2.0):
    return np.sum(x * s)


# false refusals
def copy_then_write_in_time_loop(u0):
    u = u0 * 1.0
    for t in range(3):
        v = u.copy()
        for j in range(1, len(u) - 1):
            v[j] = u[j] + 0.1 * (u[j + 1] - 2.0 * u[j] + u[j - 1])
        u = v
    return np.sum(u * u)


def write_then_later_alias(x):
    b = x * 1.0
    b[0] = 0.0
    b = np.sin(b)
    c = b
    return np.sum(c * x)


def _quad(w):
    return 0.5 * np.sum(w * w * w)


def grad_made_in_body(w0):
    dq = s2sad.grad(_quad)
    w = w0
    for t in range(3):
        w = w - 0.1 * dq(w)
    return np.sum(w * w)


def writes_into_input(x):
    x[0] = 2.0 * x[1]
    return np.sum(x * x)


def augassign_input(x):
    x += 1.0
    return np.sum(x * x)


def math_in_scalar_loop(a):
    s = 0.0
    for i in range(3):
        s = s + math.sin(a * i)
    return s
