"""The benchmark workloads, written once per framework.

Each workload W1-W5 is first a plain NumPy function, written the way a user
would write it and handed to ``s2sad.grad`` unchanged.  Below them are the
same computations for autograd (``autograd.numpy``), JAX (eager: the same
Python loops; jit: the idiomatic ``lax.scan`` / ``lax.fori_loop`` form, since
``jax.jit`` of a 1,000-step Python loop unrolls it) and PyTorch eager.

Every framework block is optional: ``AVAILABLE`` says what imported.

Inputs come from ``make_inputs(name, dtype)``; the differentiated arguments
are the leading ``WRT[name]`` positional arguments of every version.
"""

from __future__ import annotations

import math

import numpy as np

# --------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------

MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 128
NODE_DIM, NODE_STEPS, NODE_H = 64, 1000, 0.01
LSTM_T, LSTM_B, LSTM_H, LSTM_D = 100, 32, 128, 64
SCALAR_N, SCALAR_A = 10_000, 0.3
TINY_N = 10

# number of leading (differentiated) arguments of each workload
WRT = {"mlp": 6, "node": 3, "lstm": 3, "scalar": 1, "tiny": 1}


# ==========================================================================
# NumPy: what s2sad differentiates (and what the "primal" rows time)
# ==========================================================================

def mlp_loss(W1, b1, W2, b2, W3, b3, X, y):
    """W1: 784-512-512-10 tanh MLP, mean softmax cross-entropy of integer
    labels ``y``; log-sum-exp with the row maximum subtracted."""
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
    picked = z[np.arange(z.shape[0]), y]
    return np.mean(lse - picked)


def ode_rhs(W, b, y):
    return np.tanh(W @ y + b)


def node_loss(W, b, y0, h, n):
    """W2: neural ODE dy/dt = tanh(W y + b), n classical RK4 steps of size h;
    loss = sum of the final state squared."""
    y = y0
    for i in range(n):
        k1 = ode_rhs(W, b, y)
        k2 = ode_rhs(W, b, y + 0.5 * h * k1)
        k3 = ode_rhs(W, b, y + 0.5 * h * k2)
        k4 = ode_rhs(W, b, y + h * k3)
        y = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y * y)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_loss(Wx, Wh, b, X):
    """W3: one LSTM layer over X (T, B, D), gates [i, f, g, o] in columns of
    ``z``; loss = mean of the last hidden state squared."""
    T, B, D = X.shape
    H = Wh.shape[0]
    h = np.zeros((B, H), dtype=X.dtype)
    c = np.zeros((B, H), dtype=X.dtype)
    for t in range(T):
        z = X[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :H])
        f = sigmoid(z[:, H:2 * H])
        g = np.tanh(z[:, 2 * H:3 * H])
        o = sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.mean(h * h)


def scalar_loop(a, n):
    """W4: a scalar while loop with a branch, on Python floats."""
    x = 0.5
    i = 0
    while i < n:
        if x > 0:
            x = x * math.sin(x) + a
        else:
            x = x * x - a
        i = i + 1
    return x


def tiny(x):
    """W5: two elementwise operations and a sum on a 10-element array."""
    return np.sum(np.sin(x) * x)


NUMPY = {"mlp": mlp_loss, "node": node_loss, "lstm": lstm_loss, "scalar": scalar_loop, "tiny": tiny}


# ==========================================================================
# inputs
# ==========================================================================

def make_inputs(name, dtype=np.float64, seed=0):
    """The positional arguments of workload ``name`` as NumPy values."""
    rng = np.random.default_rng(seed)
    if name == "mlp":
        d0, d1, d2, d3 = MLP_SIZES
        args = []
        for a, b_ in ((d0, d1), (d1, d2), (d2, d3)):
            args.append((rng.standard_normal((a, b_)) / np.sqrt(a)).astype(dtype))
            args.append((0.1 * rng.standard_normal(b_)).astype(dtype))
        X = rng.standard_normal((MLP_BATCH, d0)).astype(dtype)
        y = rng.integers(0, d3, MLP_BATCH)
        return tuple(args) + (X, y)
    if name == "node":
        n = NODE_DIM
        W = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
        b = (0.1 * rng.standard_normal(n)).astype(dtype)
        y0 = rng.standard_normal(n).astype(dtype)
        return W, b, y0, NODE_H, NODE_STEPS
    if name == "lstm":
        H, D = LSTM_H, LSTM_D
        Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dtype)
        Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dtype)
        b = (0.1 * rng.standard_normal(4 * H)).astype(dtype)
        X = rng.standard_normal((LSTM_T, LSTM_B, D)).astype(dtype)
        return Wx, Wh, b, X
    if name == "scalar":
        return SCALAR_A, SCALAR_N
    if name == "tiny":
        return (rng.standard_normal(TINY_N).astype(dtype),)
    raise KeyError(name)


AVAILABLE = {}

# ==========================================================================
# autograd
# ==========================================================================

try:
    import autograd
    import autograd.numpy as anp
except ImportError:          # pragma: no cover - optional
    autograd = None
else:
    try:
        from importlib.metadata import version as _version
        AVAILABLE["autograd"] = _version("autograd")
    except Exception:  # noqa: BLE001 - a version string is cosmetic
        AVAILABLE["autograd"] = "(version unknown)"

    def ag_mlp_loss(W1, b1, W2, b2, W3, b3, X, y):
        h1 = anp.tanh(X @ W1 + b1)
        h2 = anp.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = anp.max(z, axis=1, keepdims=True)
        lse = anp.log(anp.sum(anp.exp(z - m), axis=1)) + m[:, 0]
        picked = z[anp.arange(z.shape[0]), y]
        return anp.mean(lse - picked)

    def _ag_rhs(W, b, y):
        return anp.tanh(W @ y + b)

    def ag_node_loss(W, b, y0, h, n):
        y = y0
        for i in range(n):
            k1 = _ag_rhs(W, b, y)
            k2 = _ag_rhs(W, b, y + 0.5 * h * k1)
            k3 = _ag_rhs(W, b, y + 0.5 * h * k2)
            k4 = _ag_rhs(W, b, y + h * k3)
            y = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return anp.sum(y * y)

    def _ag_sigmoid(z):
        return 1.0 / (1.0 + anp.exp(-z))

    def ag_lstm_loss(Wx, Wh, b, X):
        T, B, D = X.shape
        H = Wh.shape[0]
        h = anp.zeros((B, H), dtype=X.dtype)
        c = anp.zeros((B, H), dtype=X.dtype)
        for t in range(T):
            z = X[t] @ Wx + h @ Wh + b
            i = _ag_sigmoid(z[:, :H])
            f = _ag_sigmoid(z[:, H:2 * H])
            g = anp.tanh(z[:, 2 * H:3 * H])
            o = _ag_sigmoid(z[:, 3 * H:])
            c = f * c + i * g
            h = o * anp.tanh(c)
        return anp.mean(h * h)

    def ag_scalar_loop(a, n):
        # math.sin cannot see autograd's boxes: anp.sin is the only change
        x = 0.5
        i = 0
        while i < n:
            if x > 0:
                x = x * anp.sin(x) + a
            else:
                x = x * x - a
            i = i + 1
        return x

    def ag_tiny(x):
        return anp.sum(anp.sin(x) * x)

    AUTOGRAD = {"mlp": ag_mlp_loss, "node": ag_node_loss, "lstm": ag_lstm_loss,
                "scalar": ag_scalar_loop, "tiny": ag_tiny}

    def autograd_grad(name):
        """A callable taking the NumPy inputs, returning the gradient tuple."""
        k = WRT[name]
        return autograd.grad(AUTOGRAD[name], tuple(range(k)) if k > 1 else 0)


# ==========================================================================
# JAX (float64 enabled; float32 inputs stay float32)
# ==========================================================================

try:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
except ImportError:          # pragma: no cover - optional
    jax = None
else:
    AVAILABLE["jax"] = jax.__version__

    def jx_mlp_loss(W1, b1, W2, b2, W3, b3, X, y):
        h1 = jnp.tanh(X @ W1 + b1)
        h2 = jnp.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = jnp.max(z, axis=1, keepdims=True)
        lse = jnp.log(jnp.sum(jnp.exp(z - m), axis=1)) + m[:, 0]
        picked = z[jnp.arange(z.shape[0]), y]
        return jnp.mean(lse - picked)

    def _jx_rhs(W, b, y):
        return jnp.tanh(W @ y + b)

    def _jx_rk4(W, b, y, h):
        k1 = _jx_rhs(W, b, y)
        k2 = _jx_rhs(W, b, y + 0.5 * h * k1)
        k3 = _jx_rhs(W, b, y + 0.5 * h * k2)
        k4 = _jx_rhs(W, b, y + h * k3)
        return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    def jx_node_loss(W, b, y0, h, n):
        """Eager form: the Python loop, as in the NumPy version."""
        y = y0
        for i in range(n):
            y = _jx_rk4(W, b, y, h)
        return jnp.sum(y * y)

    def jx_node_loss_scan(W, b, y0, h, n):
        """jit form: the loop as lax.fori_loop (a scan, reverse-differentiable)."""
        y = lax.fori_loop(0, n, lambda i, y: _jx_rk4(W, b, y, h), y0)
        return jnp.sum(y * y)

    def _jx_sigmoid(z):
        return 1.0 / (1.0 + jnp.exp(-z))

    def _jx_lstm_cell(Wx, Wh, b, h, c, x):
        H = Wh.shape[0]
        z = x @ Wx + h @ Wh + b
        i = _jx_sigmoid(z[:, :H])
        f = _jx_sigmoid(z[:, H:2 * H])
        g = jnp.tanh(z[:, 2 * H:3 * H])
        o = _jx_sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        return o * jnp.tanh(c), c

    def jx_lstm_loss(Wx, Wh, b, X):
        T, B, D = X.shape
        H = Wh.shape[0]
        h = jnp.zeros((B, H), dtype=X.dtype)
        c = jnp.zeros((B, H), dtype=X.dtype)
        for t in range(T):
            h, c = _jx_lstm_cell(Wx, Wh, b, h, c, X[t])
        return jnp.mean(h * h)

    def jx_lstm_loss_scan(Wx, Wh, b, X):
        T, B, D = X.shape
        H = Wh.shape[0]
        h0 = jnp.zeros((B, H), dtype=X.dtype)

        def step(hc, x):
            h, c = _jx_lstm_cell(Wx, Wh, b, hc[0], hc[1], x)
            return (h, c), None
        (h, c), _ = lax.scan(step, (h0, h0), X)
        return jnp.mean(h * h)

    def jx_scalar_loop(a, n):
        """Eager form: Python control flow on concrete values (grad allows it)."""
        x = 0.5
        i = 0
        while i < n:
            if x > 0:
                x = x * jnp.sin(x) + a
            else:
                x = x * x - a
            i = i + 1
        return x

    def jx_scalar_loop_fori(a, n):
        """jit form: fori_loop + lax.cond (a while_loop with a traced count
        is not reverse-differentiable)."""
        def body(i, x):
            return lax.cond(x > 0, lambda x: x * jnp.sin(x) + a, lambda x: x * x - a, x)
        return lax.fori_loop(0, n, body, jnp.asarray(0.5, dtype=jnp.result_type(a)))

    def jx_tiny(x):
        return jnp.sum(jnp.sin(x) * x)

    JAX_EAGER = {"mlp": jx_mlp_loss, "node": jx_node_loss, "lstm": jx_lstm_loss,
                 "scalar": jx_scalar_loop, "tiny": jx_tiny}
    JAX_JIT = {"mlp": jx_mlp_loss, "node": jx_node_loss_scan, "lstm": jx_lstm_loss_scan,
               "scalar": jx_scalar_loop_fori, "tiny": jx_tiny}
    # non-array arguments that jit must treat as compile-time constants
    JAX_STATIC = {"node": (3, 4), "scalar": (1,)}

    def jax_inputs(name, np_args):
        k = WRT[name]
        out = []
        for i, a in enumerate(np_args):
            if isinstance(a, np.ndarray):
                out.append(jnp.asarray(a))
            elif i < k and isinstance(a, float):
                out.append(jnp.asarray(a, dtype=jnp.float64))
            else:
                out.append(a)
        return tuple(out)

    def jax_grad(name, jit):
        k = WRT[name]
        argnums = tuple(range(k)) if k > 1 else 0
        if jit:
            return jax.jit(jax.grad(JAX_JIT[name], argnums), static_argnums=JAX_STATIC.get(name, ()))
        return jax.grad(JAX_EAGER[name], argnums)


# ==========================================================================
# PyTorch eager
# ==========================================================================

try:
    import torch
except ImportError:          # pragma: no cover - optional
    torch = None
else:
    AVAILABLE["torch"] = torch.__version__

    def th_mlp_loss(W1, b1, W2, b2, W3, b3, X, y):
        h1 = torch.tanh(X @ W1 + b1)
        h2 = torch.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = torch.amax(z, dim=1, keepdim=True)
        lse = torch.log(torch.sum(torch.exp(z - m), dim=1)) + m[:, 0]
        picked = z[torch.arange(z.shape[0]), y]
        return torch.mean(lse - picked)

    def _th_rhs(W, b, y):
        return torch.tanh(W @ y + b)

    def th_node_loss(W, b, y0, h, n):
        y = y0
        for i in range(n):
            k1 = _th_rhs(W, b, y)
            k2 = _th_rhs(W, b, y + 0.5 * h * k1)
            k3 = _th_rhs(W, b, y + 0.5 * h * k2)
            k4 = _th_rhs(W, b, y + h * k3)
            y = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return torch.sum(y * y)

    def th_lstm_loss(Wx, Wh, b, X):
        T, B, D = X.shape
        H = Wh.shape[0]
        h = torch.zeros((B, H), dtype=X.dtype)
        c = torch.zeros((B, H), dtype=X.dtype)
        for t in range(T):
            z = X[t] @ Wx + h @ Wh + b
            i = torch.sigmoid(z[:, :H])
            f = torch.sigmoid(z[:, H:2 * H])
            g = torch.tanh(z[:, 2 * H:3 * H])
            o = torch.sigmoid(z[:, 3 * H:])
            c = f * c + i * g
            h = o * torch.tanh(c)
        return torch.mean(h * h)

    def th_scalar_loop(a, n):
        x = torch.tensor(0.5, dtype=a.dtype)
        i = 0
        while i < n:
            if x > 0:
                x = x * torch.sin(x) + a
            else:
                x = x * x - a
            i = i + 1
        return x

    def th_tiny(x):
        return torch.sum(torch.sin(x) * x)

    TORCH = {"mlp": th_mlp_loss, "node": th_node_loss, "lstm": th_lstm_loss,
             "scalar": th_scalar_loop, "tiny": th_tiny}

    def torch_inputs(name, np_args):
        """Leaf tensors (requires_grad) for the differentiated arguments."""
        k = WRT[name]
        out = []
        for i, a in enumerate(np_args):
            if isinstance(a, np.ndarray):
                t = torch.from_numpy(a.copy())
            elif i < k and isinstance(a, float):
                t = torch.tensor(a, dtype=torch.float64)
            else:
                t = a
            if i < k:
                t.requires_grad_(True)
            out.append(t)
        return tuple(out)

    def torch_grad(name):
        f = TORCH[name]
        k = WRT[name]

        def g(*args):
            loss = f(*args)
            return torch.autograd.grad(loss, args[:k])
        return g
