"""Losses differentiated by the LiSSA and optimizer tests (s2sad reads
their source, so they live in a file)."""

from __future__ import annotations

import numpy as np


def ridge_loss(w, X, y, lam):
    """0.5 ||X w - y||^2 / n + 0.5 lam ||w||^2: constant Hessian
    X^T X / n + lam I."""
    r = X @ w - y
    return 0.5 * np.sum(r * r) / X.shape[0] + 0.5 * lam * np.sum(w * w)


def logistic_loss(w, X, y, lam):
    """Mean binary cross-entropy of labels y in {0, 1}, written stably with
    log(1 + e^z) = logaddexp(0, z), plus 0.5 lam ||w||^2.  (The other stable
    form, max(z, 0) + log(1 + e^-|z|), is smooth but its pieces are not: at
    z == 0 exactly, e.g. from w = 0, its almost-everywhere second derivative
    is 0 instead of 1/4.)"""
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w * w)


def logistic_loss_wb(W, b, X, y, lam):
    """Binary logistic regression with weight and bias as two arrays."""
    z = X @ W + b
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(W * W)


def ridge_loss_wb(W, b, X, y, lam):
    """Ridge regression with a bias: parameters as a tuple (W, b); the
    Hessian is constant."""
    r = X @ W + b - y
    return 0.5 * np.mean(r * r) + 0.5 * lam * (np.sum(W * W) + b * b)
