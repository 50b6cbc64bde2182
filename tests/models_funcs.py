"""Deep-learning and numerical models with control flow, for the issue-3 corpus."""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_loss(Wx, Wh, b, xs, y):
    """An LSTM unrolled over a sequence xs (T, batch, n_in)."""
    H = Wh.shape[0]
    batch = xs.shape[1]
    h = np.zeros((batch, H))
    c = np.zeros((batch, H))
    for t in range(xs.shape[0]):
        z = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, :H])
        f = sigmoid(z[:, H:2 * H])
        o = sigmoid(z[:, 2 * H:3 * H])
        g = np.tanh(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.mean((h - y) ** 2)


def gru_loss(Wz, Uz, Wr, Ur, Wn, Un, xs):
    """A GRU unrolled over xs (T, n_in) for a single example."""
    h = np.zeros(Uz.shape[0])
    total = 0.0
    for x in xs:
        z = sigmoid(Wz @ x + Uz @ h)
        r = sigmoid(Wr @ x + Ur @ h)
        n = np.tanh(Wn @ x + Un @ (r * h))
        h = (1.0 - z) * n + z * h
        total = total + np.sum(h * h)
    return total


def softmax_xent_written_out(W, X, labels):
    """Softmax cross-entropy with a hand-written, stable log-sum-exp loop."""
    logits = X @ W
    loss = 0.0
    for n in range(logits.shape[0]):
        row = logits[n]
        m = row[0]
        for k in range(1, row.shape[0]):
            if row[k] > m:
                m = row[k]
        s = 0.0
        for k in range(row.shape[0]):
            s = s + np.exp(row[k] - m)
        lse = m + np.log(s)
        loss = loss + lse - row[labels[n]]
    return loss / logits.shape[0]


def sgd_momentum_train(lr, w0, X, y, Xv, yv):
    """Unrolled SGD with momentum; the gradient of the training loss is
    written by hand.  Differentiate with respect to lr and w0."""
    w = w0
    v = np.zeros_like(w0)
    for t in range(10):
        r = X @ w - y
        g = X.T @ r / X.shape[0]
        v = 0.9 * v - lr * g
        w = w + v
    rv = Xv @ w - yv
    return 0.5 * np.mean(rv * rv)


def rk4_neural_ode(W, b, y0):
    def field(y):
        return np.tanh(W @ y + b)
    h = 0.1
    y = y0
    for step in range(20):
        k1 = field(y)
        k2 = field(y + 0.5 * h * k1)
        k3 = field(y + 0.5 * h * k2)
        k4 = field(y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y * y)
