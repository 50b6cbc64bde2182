"""s2sad quick start.

Differentiates a small model -- a two-layer tanh network with a softmax
cross-entropy loss -- prints the adjoint code s2sad generates for it, checks
the gradient against central finite differences, then does the same for a
function with a loop (an unrolled recurrent network).

Run it with ``python examples/quickstart.py`` (or ``python -m s2sad demo``).
"""

import numpy as np

import s2sad


def mlp_loss(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a 2-layer tanh network; Y is one-hot."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits)  # shift for numerical stability (log-sum-exp is shift invariant)
    lse = np.log(np.sum(np.exp(logits - m), axis=1)) + m
    return np.mean(lse - np.sum(Y * logits, axis=1))


def rnn_loss(Wh, Wx, xs, target):
    """A recurrent network unrolled over the rows of xs: a loop the gradient
    runs backwards through."""
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return 0.5 * np.sum((h - target) ** 2)


def numeric_grad(f, args, k, eps=1e-6):
    """Central finite differences of scalar f(*args) in argument k."""
    args = list(args)
    x = args[k]
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(*args[:k], xp, *args[k + 1:]) - f(*args[:k], xm, *args[k + 1:])) / (2 * eps)
    return g


def max_error(f, grads, args, wrt):
    """Largest difference between s2sad's gradients and finite differences,
    relative to the size of the gradient."""
    err = 0.0
    for k, g in zip(wrt, grads):
        want = numeric_grad(f, args, k)
        err = max(err, float(np.max(np.abs(g - want)) / max(1.0, np.max(np.abs(want)))))
    return err


def main():
    rng = np.random.default_rng(0)
    tol = 1e-6

    # ---- a straight-line model --------------------------------------------
    X = rng.normal(size=(16, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=16)]
    params = [rng.normal(size=(4, 8)) * 0.5, np.zeros(8), rng.normal(size=(8, 3)) * 0.5, np.zeros(3)]

    dloss = s2sad.grad(mlp_loss, wrt=(0, 1, 2, 3))
    print("# The adjoint s2sad generated for mlp_loss:")
    s2sad.show(dloss)
    grads = dloss(*params, X, Y)
    err1 = max_error(mlp_loss, grads, (*params, X, Y), (0, 1, 2, 3))
    print(f"mlp_loss: max error against finite differences = {err1:.2e}")

    # a few steps of gradient descent with value_and_grad
    step = s2sad.value_and_grad(mlp_loss, wrt=(0, 1, 2, 3))
    first = None
    for _ in range(50):
        value, grads = step(*params, X, Y)
        first = value if first is None else first
        params = [p - 0.5 * g for p, g in zip(params, grads)]
    print(f"mlp_loss: {first:.4f} -> {mlp_loss(*params, X, Y):.4f} after 50 gradient steps\n")

    # ---- a loop ----------------------------------------------------------
    Wh, Wx = rng.normal(size=(5, 5)) * 0.5, rng.normal(size=(5, 2))
    xs, target = rng.normal(size=(6, 2)), rng.normal(size=5)
    drnn = s2sad.grad(rnn_loss, wrt=(0, 1))
    print("# The adjoint of rnn_loss: the forward loop pushes what it overwrites,")
    print("# the reverse loop runs backwards and pops it:")
    s2sad.show(drnn)
    grads = drnn(Wh, Wx, xs, target)
    err2 = max_error(rnn_loss, grads, (Wh, Wx, xs, target), (0, 1))
    print(f"rnn_loss: max error against finite differences = {err2:.2e}")

    err = max(err1, err2)
    print(f"max error {err:.2e}")
    if not err < tol:
        raise SystemExit(f"FAILED: error {err:.2e} exceeds {tol:.0e}")
    print("OK")
    return err


if __name__ == "__main__":
    main()
