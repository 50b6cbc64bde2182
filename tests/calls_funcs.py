import numpy as np

H = 0.1

def rk4_step(f, y, h):
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

def integrate(f, y0, n):
    y = y0
    for i in range(n):
        y = rk4_step(f, y, H)
    return y

def field(y):
    return np.tanh(y) - 0.5 * y

def loss_ode(y0):
    y = integrate(field, y0, 5)
    return np.sum(y ** 2)

def loss_closure(y0, k):
    f = lambda y: -k * y + np.sin(y)
    y = integrate(f, y0, 3)
    return np.sum(y * y)

def loss_nested(x, W):
    def layer(h, act=np.tanh, scale=1.0):
        return act(W @ h) * scale
    h = layer(x)
    h = layer(h, scale=2.0)
    return np.sum(h)

def helper(a, b=2.0, *, c=1.0):
    t = a * b
    return t + c

def loss_helper(x):
    return np.sum(helper(x) + helper(x, 3.0, c=x))

def loss_fnarg(y0, f):
    return np.sum(integrate(f, y0, 4))
