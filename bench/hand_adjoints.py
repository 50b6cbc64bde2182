"""Hand-written NumPy adjoints of the workloads W1-W5: the baseline.

Written the way an expert would for production: matrix products for every
matrix adjoint, in-place updates where a buffer is dead, the per-step tape
of a loop preallocated as one array, and the weight gradients of a loop
computed after it as one large matrix product over all steps instead of one
small product per step.  Each returns the gradient with respect to the
leading ``workloads.WRT[name]`` arguments (a tuple when there are several).
"""

from __future__ import annotations

import math

import numpy as np


def mlp_grad(W1, b1, W2, b2, W3, b3, X, y):
    """W1: MLP with softmax cross-entropy; the softmax adjoint is p - onehot."""
    B = X.shape[0]
    h1 = X @ W1
    h1 += b1
    np.tanh(h1, out=h1)
    h2 = h1 @ W2
    h2 += b2
    np.tanh(h2, out=h2)
    p = h2 @ W3
    p += b3
    p -= p.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(B), y] -= 1.0
    p /= B                                  # dL/dz
    gW3 = h2.T @ p
    gb3 = p.sum(axis=0)
    d2 = p @ W3.T                           # dL/dh2
    h2 *= h2
    np.subtract(1.0, h2, out=h2)
    d2 *= h2                                # dL/da2
    gW2 = h1.T @ d2
    gb2 = d2.sum(axis=0)
    d1 = d2 @ W2.T
    h1 *= h1
    np.subtract(1.0, h1, out=h1)
    d1 *= h1
    gW1 = X.T @ d1
    gb1 = d1.sum(axis=0)
    return gW1, gb1, gW2, gb2, gW3, gb3


def node_grad(W, b, y0, h, n):
    """W2: RK4 neural ODE.  The forward loop stores the four stage inputs and
    outputs of every step in two preallocated (n, 4, d) arrays; the reverse
    loop writes the pre-activation adjoints into a third, and dL/dW is one
    (d, 4n) x (4n, d) product at the end."""
    d = y0.shape[0]
    U = np.empty((n, 4, d), dtype=y0.dtype)     # stage inputs
    K = np.empty((n, 4, d), dtype=y0.dtype)     # stage outputs tanh(W u + b)
    y = y0
    hh, h6 = 0.5 * h, h / 6.0
    for i in range(n):
        u, k = U[i], K[i]
        u[0] = y
        np.tanh(W @ y + b, out=k[0])
        np.multiply(hh, k[0], out=u[1])
        u[1] += y
        np.tanh(W @ u[1] + b, out=k[1])
        np.multiply(hh, k[1], out=u[2])
        u[2] += y
        np.tanh(W @ u[2] + b, out=k[2])
        np.multiply(h, k[2], out=u[3])
        u[3] += y
        np.tanh(W @ u[3] + b, out=k[3])
        y = y + h6 * (k[0] + 2.0 * k[1] + 2.0 * k[2] + k[3])
    yb = 2.0 * y                                # d(sum y^2)/dy
    G = np.empty((n, 4, d), dtype=y0.dtype)    # adjoints of W u + b
    WT = W.T
    for i in range(n - 1, -1, -1):
        k, g = K[i], G[i]
        kb = h6 * yb
        # the tanh derivative 1 - k^2, stage by stage from the last
        np.multiply(k[3], k[3], out=g[3])
        np.subtract(1.0, g[3], out=g[3])
        g[3] *= kb
        ub = WT @ g[3]
        ynew = yb + ub
        np.multiply(k[2], k[2], out=g[2])
        np.subtract(1.0, g[2], out=g[2])
        g[2] *= 2.0 * kb + h * ub
        ub = WT @ g[2]
        ynew += ub
        np.multiply(k[1], k[1], out=g[1])
        np.subtract(1.0, g[1], out=g[1])
        g[1] *= 2.0 * kb + hh * ub
        ub = WT @ g[1]
        ynew += ub
        np.multiply(k[0], k[0], out=g[0])
        np.subtract(1.0, g[0], out=g[0])
        g[0] *= kb + hh * ub
        ynew += WT @ g[0]
        yb = ynew
    G2 = G.reshape(4 * n, d)
    gW = G2.T @ U.reshape(4 * n, d)
    gb = G2.sum(axis=0)
    return gW, gb, yb


def _sigmoid_(a):
    """In-place logistic function."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def lstm_grad(Wx, Wh, b, X):
    """W3: LSTM.  The input projection of all steps is one product before the
    loop; the gate activations, cell states and hidden states live in
    preallocated (T, B, .) arrays; dWx, dWh and db are single products /
    sums over all steps after the reverse loop."""
    T, B, D = X.shape
    H = Wh.shape[0]
    dt = X.dtype
    A = (X.reshape(T * B, D) @ Wx).reshape(T, B, 4 * H)   # pre-activations, then gates in place
    A += b
    Hs = np.zeros((T + 1, B, H), dtype=dt)
    Cs = np.zeros((T + 1, B, H), dtype=dt)
    TC = np.empty((T, B, H), dtype=dt)                     # tanh(c_t)
    for t in range(T):
        a = A[t]
        a += Hs[t] @ Wh
        _sigmoid_(a[:, :2 * H])
        np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
        _sigmoid_(a[:, 3 * H:])
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = Cs[t + 1]
        np.multiply(f, Cs[t], out=c)
        c += i * g
        np.tanh(c, out=TC[t])
        np.multiply(o, TC[t], out=Hs[t + 1])
    dh = Hs[T] * (2.0 / (B * H))                           # d mean(h^2)/dh
    dc = np.zeros((B, H), dtype=dt)
    dA = np.empty((T, B, 4 * H), dtype=dt)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        a, tc, d = A[t], TC[t], dA[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        di, df, dg, do = d[:, :H], d[:, H:2 * H], d[:, 2 * H:3 * H], d[:, 3 * H:]
        np.multiply(dh, tc, out=do)                        # dL/do
        dc += dh * o * (1.0 - tc * tc)
        np.multiply(dc, g, out=di)
        np.multiply(dc, Cs[t], out=df)
        np.multiply(dc, i, out=dg)
        dc *= f
        di *= i * (1.0 - i)
        df *= f * (1.0 - f)
        dg *= 1.0 - g * g
        do *= o * (1.0 - o)
        dh = d @ WhT
    dA2 = dA.reshape(T * B, 4 * H)
    gWx = X.reshape(T * B, D).T @ dA2
    gWh = Hs[:T].reshape(T * B, H).T @ dA2
    gb = dA2.sum(axis=0)
    return gWx, gWh, gb


def scalar_grad(a, n):
    """W4: the forward loop stores, per iteration, the local derivative
    dx_new/dx and which branch ran; the reverse loop is then one add and one
    multiply per iteration."""
    ds = []
    pos = []
    x = 0.5
    for _ in range(n):
        if x > 0:
            s = math.sin(x)
            ds.append(s + x * math.cos(x))
            pos.append(True)
            x = x * s + a
        else:
            ds.append(2.0 * x)
            pos.append(False)
            x = x * x - a
    xb, ab = 1.0, 0.0
    for d, p in zip(reversed(ds), reversed(pos)):
        if p:
            ab += xb
        else:
            ab -= xb
        xb *= d
    return ab


def tiny_grad(x):
    """W5: d/dx sum(sin(x) x) = sin(x) + x cos(x)."""
    return np.sin(x) + x * np.cos(x)


HAND = {"mlp": mlp_grad, "node": node_grad, "lstm": lstm_grad, "scalar": scalar_grad, "tiny": tiny_grad}
