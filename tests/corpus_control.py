"""Corpus of functions with control flow (if/elif/else, conditional
expressions, boolean operators, for/while loops, break/continue, in-place
writes into local arrays) for testing s2sad against finite differences.

Every function returns a scalar and is registered with ``@case(...)`` (see
``corpus_straight``).  Functions whose branch depends on the data are
registered several times with arguments that take each branch (``label``).
"""

from __future__ import annotations

import numpy as np

from corpus_straight import CONST, F, FIXED, N, ND, U, case

# Known compiler bugs found with this corpus (reasons for strict xfails).
from corpus_straight import BUG_ALIAS_AUGASSIGN, BUG_EMPTY_BRANCH, BUG_INDEX_TEMP, BUG_LOOP_TARGET


def POS(*shape):
    return U(*shape, lo=0.5, hi=1.5)


def NEG(*shape):
    return U(*shape, lo=-1.5, hi=-0.5)


# ==========================================================================
# if / elif / else


@case(POS(4), label="pos")
@case(NEG(4), label="neg")
def if_on_array_sum(x):
    if np.sum(x) > 0:
        y = x * 2.0
    else:
        y = np.sin(x)
    return np.sum(y * y)


@case(N(3), CONST(0), label="n0")
@case(N(3), CONST(1), label="n1")
@case(N(3), CONST(5), label="n5")
def if_elif_else_python_int(x, n):
    if n == 0:
        y = np.exp(x)
    elif n < 3:
        y = x ** 3
    else:
        y = np.tanh(x) * n
    return np.sum(y)


@case(POS(3), F(0.5, 1.0), label="pp")
@case(POS(3), F(-1.0, -0.5), label="pn")
@case(NEG(3), F(0.5, 1.0), label="np")
@case(NEG(3), F(-1.0, -0.5), label="nn")
def nested_if(x, a):
    if np.sum(x) > 0:
        if a > 0:
            y = x * a
        else:
            y = x / (1.0 - a)
    else:
        if a > 0:
            y = np.exp(x * a)
        else:
            y = x * x * a
    return np.sum(y)


@case(N(4), F(0.5, 1.0), label="pos")
@case(N(4), F(-1.0, -0.5), label="neg")
def if_only_assigns_one_branch(x, a):
    y = x * 2.0
    if a > 0:
        y = y * a
    return np.sum(y ** 2)


@case(N(4), F(0.5, 1.0), label="pos")
@case(N(4), F(-1.0, -0.5), label="neg")
def if_new_variable_in_both(x, a):
    if a > 0:
        z = a * x
        w = np.sin(z)
    else:
        w = np.cos(x) * a
        z = w + x
    return np.sum(z * w)


@case(POS(3), label="pos")
@case(NEG(3), label="neg")
def conditional_expression(x):
    s = np.sum(x)
    y = x * s if s > 0 else x * x
    c = 2.0 if s > 0 else 3.0
    return np.sum(y) * c


@case(N(3), F(0.5, 1.0), CONST(True), label="true")
@case(N(3), F(0.5, 1.0), CONST(False), label="false")
def conditional_expression_python_flag(x, a, flag):
    y = np.exp(x) if flag else x * a
    z = (a * y) if not flag else (y / a)
    return np.sum(z)


@case(N(3), F(0.5, 1.0), CONST(True), wrt=(1,), label="true")
@case(N(3), F(0.5, 1.0), CONST(False), wrt=(1,), label="false")
def if_branch_without_adjoint(x, a, flag):
    # differentiated in `a` only: the `flag` branch has no adjoint to emit
    if flag:
        y = np.exp(x)
    else:
        y = x * a
    z = a * y
    return np.sum(z)


@case(POS(3), F(0.5, 1.0), label="tt")
@case(POS(3), F(-1.0, -0.5), label="tf")
@case(NEG(3), F(0.5, 1.0), label="ft")
def bool_and_or_not(x, a):
    s = np.sum(x)
    if s > 0 and a > 0:
        y = x * a
    elif s > 0 or a > 0:
        y = x + a
    else:
        y = x
    if not (a > 0):
        y = y * 2.0
    return np.sum(y ** 2)


@case(N(5), CONST(2), label="in")
@case(N(5), CONST(7), label="out")
def short_circuit_guard(x, i):
    # `x[i]` would raise for i >= len(x): `and` must not evaluate it
    if i < x.shape[0] and x[i] > -10.0:
        y = x * x[i]
    else:
        y = x
    return np.sum(y)


@case(N(3), F(0.2, 0.8), label="inside")
@case(N(3), F(1.5, 2.5), label="outside")
def chained_comparison(x, a):
    if 0.0 < a < 1.0:
        y = x * a
    else:
        y = x / a
    return np.sum(np.sin(y))


@case(N(4, scale=2.0))
def if_on_array_element(x):
    y = 0.0
    if x[0] > 0:
        y = y + x[0] ** 2
    else:
        y = y - x[0]
    if x[1] > x[2]:
        y = y + x[1] * x[2]
    return y + np.sum(x)


# ==========================================================================
# for over range


@case(N(3), N(3, 3, scale=0.5))
def for_range_const(x, W):
    h = x
    for i in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


@case(N(5))
def for_range_two_args(x):
    s = 0.0
    for i in range(1, 4):
        s = s + x[i] * x[i - 1]
    return s


@case(N(7))
def for_range_step(x):
    s = 0.0
    for i in range(0, 7, 2):
        s = s + np.sin(x[i]) * i
    return s


@case(N(6))
def for_range_negative_step(x):
    s = 1.0
    for i in range(x.shape[0] - 1, -1, -2):
        s = s * (1.0 + 0.5 * np.tanh(x[i]))
    return s


@case(N(5))
def for_range_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] ** 3
    return s


@case(N(4, 3))
def for_range_shape(A):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s = s + A[i, j] * (i + 1) * (j - 1)
    return s


@case(N(3), CONST(4), label="n4")
@case(N(3), CONST(0), label="n0")
def for_range_python_arg(x, n):
    y = x
    for k in range(n):
        y = y * 0.5 + np.sin(y)
    return np.sum(y * x)


@case(N(5))
def for_range_data_dependent_count(x):
    n = int(np.sum(x > 0))
    s = 0.0
    for i in range(n):
        s = s + x[i] * x[i]
    return s


@case(N(4))
def for_range_zero_iterations(x):
    y = x * 2.0
    for i in range(0):
        y = y * 100.0
    for i in range(len(x), 2):
        y = y + x
    return np.sum(y ** 2)


# ==========================================================================
# for over arrays, lists, tuples, zip, enumerate


@case(N(4, 3), N(3))
def for_over_array_rows(A, w):
    s = 0.0
    for row in A:
        s = s + np.tanh(row @ w)
    return s


@case(N(3, 3, scale=0.5), N(3, 3, scale=0.5), N(3))
def for_over_list(W1, W2, x):
    h = x
    for W in [W1, W2, W1]:
        h = np.tanh(W @ h)
    return np.sum(h ** 2)


@case(N(3), N(3), N(3))
def for_over_tuple(a, b, c):
    s = 0.0
    for v in (a, b * 2.0, c):
        s = s + np.sum(v * a)
    return s


@case(N(3), N(3), F(0.5, 1.5))
def for_over_zip(x, y, a):
    s = 0.0
    for u, v in zip(x, y):
        s = s + u * v * a
    return s


@case(N(3, 2), N(3, 2))
def for_over_zip_lists(A, B):
    s = 0.0
    for p, q in zip([A, B], [B, A * 2.0]):
        s = s + np.sum(p * q)
    return s


@case(N(4))
def for_over_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * v * (i + 1)
    return s


@case(N(2, 2), N(2, 2))
def for_over_enumerate_list(A, B):
    s = 0.0
    for i, M in enumerate([A, B, A @ B]):
        s = s + np.sum(M ** 2) * (i + 1)
    return s


@case(N(3), N(3))
def for_over_list_argument_index(x, y):
    vals = [x, y, x * y]
    s = 0.0
    for i in range(len(vals)):
        s = s + np.sum(vals[i] ** 2)
    return s


# ==========================================================================
# while loops


@case(F(0.1, 0.5))
def while_counter(a):
    x = 1.0
    i = 0
    while i < 10:
        x = x * np.cos(a) + a
        i = i + 1
    return x


@case(F(0.3, 0.6))
def while_data_dependent(a):
    x = a
    while x < 10.0:
        x = x * 1.7 + a
    return x


@case(N(3, scale=0.3), F(0.5, 1.0))
def while_array_condition(x, a):
    y = x
    while np.max(np.abs(y)) < 5.0:
        y = y * 1.5 + a
    return np.sum(y * y)


@case(F(0.1, 0.9))
def while_with_branch(a):
    x = 1.0
    i = 0
    while i < 12:
        if x > 0.5:
            x = x * np.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


@case(N(8))
def while_break(x):
    s = 0.0
    i = 0
    while True:
        s = s + x[i] ** 2
        i = i + 1
        if s > 2.0 or i >= 8:
            break
    return s


@case(N(6))
def while_index_loop(x):
    s = 0.0
    i = 0
    n = len(x)
    while i < n:
        s = s + np.exp(x[i]) * s + x[i]
        i = i + 1
    return s


@case(F(0.2, 0.8))
def while_flag(a):
    x = a
    going = True
    k = 0
    while going:
        x = np.sin(x) + a
        k = k + 1
        going = k < 5
    return x


@case(F(0.2, 0.8))
def while_zero_iterations(a):
    x = a * 2.0
    while x > 100.0:
        x = x / 2.0
    return x * x


# ==========================================================================
# nested loops, break, continue


@case(N(3, 3), N(3))
def nested_loops_matvec(A, x):
    y = 0.0
    for i in range(3):
        s = 0.0
        for j in range(3):
            s = s + A[i, j] * x[j]
        y = y + s * s
    return y


@case(N(4), CONST(3))
def nested_loops_triangular(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i):
            s = s + x[i] * x[j]
        s = s + np.sin(x[i])
    return s


@case(N(3, 2))
def nested_loops_with_while(A):
    s = 0.0
    for i in range(3):
        k = 0
        while k < i + 1:
            s = s + A[i, k % 2] * (k + 1)
            k = k + 1
    return s


@case(N(10))
def for_break(x):
    s = 0.0
    for i in range(10):
        s = s + x[i] * x[i]
        if s > 3.0:
            break
    return s


@case(N(8))
def for_continue(x):
    s = 0.0
    for i in range(8):
        if x[i] < 0:
            continue
        s = s + x[i] ** 3
    return s


@case(N(5, 3))
def nested_break_inner(A):
    s = 0.0
    for i in range(5):
        for j in range(3):
            if A[i, j] < -0.5:
                break
            s = s + A[i, j] ** 2
    return s


@case(N(6))
def continue_and_break(x):
    s = 0.0
    for i in range(6):
        if x[i] > 1.5:
            break
        if x[i] < 0:
            continue
        s = s + np.exp(x[i])
    return s


# ==========================================================================
# accumulation patterns (silent-zero-gradient classics)


@case(N(5))
def lse_loop_plain(x):
    s = 0.0
    for i in range(len(x)):
        s = s + np.exp(x[i])
    return np.log(s)


@case(N(5))
def lse_loop_augassign(x):
    s = 0.0
    for i in range(len(x)):
        s += np.exp(x[i])
    return np.log(s)


@case(N(5))
def lse_loop_stable(x):
    m = np.max(x)
    s = 0.0
    for v in x:
        s = s + np.exp(v - m)
    return m + np.log(s)


@case(N(5))
def lse_loop_online(x):
    m = x[0]
    s = 1.0
    for i in range(1, len(x)):
        if x[i] > m:
            s = s * np.exp(m - x[i]) + 1.0
            m = x[i]
        else:
            s = s + np.exp(x[i] - m)
    return m + np.log(s)


@case(N(4))
def product_accumulate(x):
    p = 1.0
    for i in range(4):
        p = p * (1.0 + x[i] ** 2)
    return p


@case(N(3), N(3))
def reassigned_many_times(x, w):
    h = x
    for i in range(5):
        h = h * w
        h = np.sin(h)
        h = h + x
        h = h / (1.0 + h * h)
    return np.sum(h)


@case(N(4))
def accumulate_into_list(x):
    parts = []
    for i in range(4):
        parts.append(x[i] * x[(i + 1) % 4])
    s = 0.0
    for p in parts:
        s = s + p
    return s


@case(N(3))
def loop_carried_pair(x):
    a = x
    b = x * 0.5
    for i in range(4):
        a, b = b, a + b
    return np.sum(a * b)


# ==========================================================================
# in-place writes into arrays created in the function


@case(N(3))
def inplace_index_writes(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1] = np.sin(x[2])
    y[2] = x[0] + x[2]
    return np.sum(y ** 2)


@case(N(4))
def inplace_slice_augassign(x):
    y = np.zeros(4)
    y[0] = x[0]
    y[1:3] += x[1:3] * 2.0
    y[1:3] += x[2:4]
    y[3] = y[1] * x[3]
    return np.sum(y * y)


@case(N(6, scale=2.0))
def inplace_mask_write(x):
    y = x * 1.0
    y[x < 0] = 0.0
    z = np.ones(6)
    z[x > 0] = x[x > 0] ** 2
    return np.sum(y * z)


@case(N(5))
def inplace_loop_writes(x):
    y = np.zeros(5)
    for i in range(5):
        y[i] = np.tanh(x[i]) * (i + 1)
    return np.sum(y * x)


@case(N(5))
def inplace_cumulative(x):
    c = np.zeros(5)
    c[0] = x[0]
    for i in range(1, 5):
        c[i] = c[i - 1] * 0.9 + x[i]
    return np.sum(c ** 2)


@case(N(3, 3))
def inplace_matrix_rows(A):
    B = np.zeros((3, 3))
    for i in range(3):
        B[i, :] = A[i, :] * (i + 1.0)
        B[:, i] += A[:, i] ** 2
    return np.sum(B * A)


@case(N(4))
def inplace_overwrite_same_slot(x):
    y = np.zeros(2)
    for i in range(4):
        y[i % 2] = y[i % 2] * x[i] + x[i]
    return np.sum(y)


@case(N(3))
def inplace_copy_then_write(x):
    y = x.copy()
    y[1] = y[0] * y[2]
    y *= 2.0
    return np.sum(y ** 2)


# ==========================================================================
# integrators and recurrences


@case(N(2, scale=0.5), N(2, scale=0.5), F(0.05, 0.1))
def leapfrog(q, p, dt):
    # H = |p|^2 / 2 + U(q) with U(q) = |q|^4 / 4 + |q|^2 / 2
    for step in range(10):
        g = q ** 3 + q
        p = p - 0.5 * dt * g
        q = q + dt * p
        g = q ** 3 + q
        p = p - 0.5 * dt * g
    return np.sum(q * q) + 0.5 * np.sum(p * p)


@case(N(3, 4, scale=0.4), N(4, 4, scale=0.4), N(4), ND(N(5, 3)))
def rnn_recurrence(Wx, Wh, b, X):
    h = np.zeros(4)
    for t in range(X.shape[0]):
        h = np.tanh(X[t] @ Wx + h @ Wh + b)
    return np.sum(h ** 2)


@case(N(3, 4, scale=0.4), N(4, 4, scale=0.4), ND(N(5, 3)))
def rnn_over_rows_with_loss(Wx, Wh, X):
    h = np.zeros(4)
    loss = 0.0
    for x in X:
        h = np.tanh(x @ Wx + h @ Wh)
        loss = loss + np.sum(h) ** 2
    return loss


@case(F(0.2, 0.5), F(0.5, 1.0))
def euler_ode(k, y0):
    y = y0
    t = 0.0
    dt = 0.1
    while t < 1.0:
        y = y + dt * (-k * y + np.sin(t))
        t = t + dt
    return y


@case(N(3, scale=0.5))
def newton_sqrt_iterations(x):
    a = x * x + 1.0
    r = a
    for i in range(6):
        r = 0.5 * (r + a / r)
    return np.sum(r)


@case(N(3), N(3), F(0.1, 0.3))
def gradient_descent_unrolled(x0, target, lr):
    x = x0
    for i in range(5):
        g = 2.0 * (x - target)
        x = x - lr * g
    return np.sum((x - target) ** 2) + np.sum(x)


@case(POS(4), label="pos")
@case(N(4), label="mixed")
def relu_loop_branch(x):
    s = 0.0
    for i in range(4):
        if x[i] > 0:
            s = s + x[i] * 2.0
        else:
            s = s + 0.1 * x[i]
    return s


@case(N(3, 3, scale=0.5), N(3))
def power_iteration(A, v):
    M = A @ A.T + np.eye(3)
    for i in range(4):
        v = M @ v
        v = v / np.linalg.norm(v)
    return v @ M @ v


# ==========================================================================
# long loops


def long_while(a):
    # x = 0.5 a - 0.1 a = 0.4 a at the end: d(x*x)/da = 0.32 a
    x = 0.0
    i = 0
    while i < 100000:
        if i < 50000:
            x = x + a * 1e-5
        else:
            x = x - a * 2e-6
        i = i + 1
    return x * x


def long_for(a):
    x = 1.0
    for i in range(20000):
        x = x + a * 1e-4 * np.cos(x)
    return x


# ==========================================================================
# break / continue before the loop body's other statements


@case(FIXED([0.5, 0.4, 2.0, 0.1]), label="breaks")
@case(N(4, scale=0.3), label="runs")
def for_break_first(x):
    s = 0.0
    for i in range(4):
        if x[i] > 1.5:
            break
        s = s + x[i] ** 2
    return s


@case(N(6, scale=0.5))
def while_break_first(x):
    s = 0.0
    i = 0
    while i < 6:
        if s > 0.6:
            break
        s = s + x[i] ** 2
        i = i + 1
    return s


@case(FIXED([0.5, 0.8, 0.2, -0.3]), label="last_skipped")
@case(FIXED([0.5, -0.8, 0.2, 0.3]), label="middle_skipped")
def for_continue_first(x):
    s = 0.0
    for i in range(4):
        if x[i] < 0:
            continue
        s = s + x[i] ** 2
    return s


# ==========================================================================
# more loop patterns


@case(N(3), N(3))
def param_reassigned_in_loop(x, w):
    for i in range(3):
        x = np.tanh(x * w + 0.1 * i)
    return np.sum(x)


@case(N(5))
def loop_variable_after_loop(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
    return s * x[i] + x[i + 1]


@case(N(4))
def defined_in_loop_used_after(x):
    for i in range(4):
        last = x[i] * 2.0
    return last * x[0]


@case(N(5, scale=2.0))
def branch_defines_then_uses(x):
    s = 0.0
    for i in range(5):
        if x[i] > 0:
            t = x[i] * 2.0
        else:
            t = np.exp(x[i])
        s = s + t * x[i]
    return s


@case(N(4))
def ifexp_in_loop(x):
    s = 0.0
    for i in range(4):
        s = s + (x[i] ** 2 if i % 2 == 0 else np.sin(x[i]))
    return s


@case(U(5, lo=0.2, hi=1.0))
def while_on_element(x):
    s = 0.0
    k = 0
    while k < 5 and x[k] > 0.1:
        s = s + np.log(x[k])
        k = k + 1
    return s


@case(N(4))
def inplace_full_slice_and_negative_index(x):
    y = np.zeros_like(x)
    y[:] = x * 2.0
    y[-1] = x[0] * x[-1]
    y[::2] = y[::2] + x[1::2]
    return np.sum(y ** 2)


@case(N(4))
def inplace_computed_index_in_loop(x):
    y = np.zeros(2)
    for i in range(2):
        y[i + 0] = x[i] * x[i]
    return np.sum(y)


@case(N(3, 3, scale=0.5), N(3), CONST(3))
def matrix_power_loop(A, x, n):
    P = np.eye(3)
    for i in range(n):
        P = P @ A
    return x @ P @ x


@case(N(4))
def nested_if_in_while(x):
    s = 0.0
    i = 0
    while i < 4:
        if x[i] > 0:
            if s > 1.0:
                s = s + x[i]
            else:
                s = s + x[i] ** 2
        else:
            s = s - x[i] * 0.5
        i = i + 1
    return s


@case(N(5))
def inplace_sliding_window(x):
    y = np.zeros(6)
    for i in range(5):
        y[i:i + 2] += x[i] * np.array([1.0, 0.5])
    return np.sum(y ** 2)


@case(N(4))
def list_element_writes_in_loop(x):
    vals = [x[0], x[1], x[2]]
    for i in range(3):
        vals[i] = vals[i] * x[3] + vals[(i + 1) % 3]
    return vals[0] * vals[1] + vals[2]


@case(N(3))
def dict_values(x):
    d = {"a": x * 2.0, "b": np.sin(x)}
    d["a"] = d["a"] * d["b"]
    s = 0.0
    for k in ["a", "b"]:
        s = s + np.sum(d[k] ** 2)
    return s


@case(N(6))
def becomes_active_later(x):
    s = 0.0
    for i in range(6):
        if i > 2:
            s = s + x[i] * x[i - 1]
    return s


@case(N(5))
def carried_from_branch(x):
    prev = 0.0
    s = 0.0
    for i in range(5):
        if x[i] > 0:
            prev = x[i] * 2.0
        s = s + prev * x[i]
    return s


@case(N(3), N(4))
def while_inside_for_with_break(x, w):
    s = 0.0
    for i in range(3):
        k = 0
        while True:
            s = s + x[i] * w[k]
            k = k + 1
            if k > i:
                break
    return s


@case(F(0.2, 0.6))
def while_inside_if(a):
    x = a
    if a > 0:
        while x < 3.0:
            x = x * 1.3 + a
    else:
        x = -a
    return x * x


@case(N(4), F(0.5, 1.5))
def loop_var_shadows_param(x, i):
    s = 0.0
    for i in range(3):
        s = s + x[i] * x[i + 1]
    return s * i


@case(N(5))
def range_bounds_from_data(x):
    lo = int(np.argmin(x[:2]))
    hi = lo + 3
    s = 0.0
    for i in range(lo, hi):
        s = s + np.exp(x[i])
    return np.log(s)


@case(N(3, 3, scale=0.5), N(3))
def loop_index_array_gather(A, x):
    s = 0.0
    for k in range(3):
        idx = np.array([k, (k + 1) % 3])
        s = s + np.sum(A[idx] @ x) * x[k]
    return s
