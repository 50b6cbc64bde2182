"""Per-example gradients kept factored: the gradient of a dense layer's
weight for one example is a product of two small factors (``x`` and the
adjoint of ``x @ W``), so its norm, and a weighted sum over the examples
(DP-SGD's clipped sum), need never form the ``B`` full gradients.  What
``s2sad.per_example_norms`` and ``s2sad.clipped_grad`` run on."""

from __future__ import annotations

import numpy as np

from .batching_adjoints import b_matmul_adjoint_a, b_matmul_adjoint_b
from .namespaces import dtype_kind


class LowRank:
    """Lane ``b`` holds ``u[b].T @ v[b]`` (``u``: (B, T, p), ``v``: (B, T, q)),
    a ``(p, q)`` gradient never formed."""

    __slots__ = ("u", "v", "dtype")

    def __init__(self, u, v, dtype):
        self.u, self.v, self.dtype = u, v, dtype

    @property
    def shape(self):
        return (self.u.shape[0], self.u.shape[2], self.v.shape[2])

    def sq_norms(self):
        """``|u[b].T @ v[b]|_F^2`` for each lane, from the Gram matrices of
        the factors (for T = 1: ``|u|^2 |v|^2``)."""
        if self.u.shape[1] == 1:
            return np.einsum("btp,btp->b", self.u, self.u) * np.einsum("btq,btq->b", self.v, self.v)
        return np.einsum("btu,btu->b", self.u @ np.swapaxes(self.u, 1, 2), self.v @ np.swapaxes(self.v, 1, 2))

    def weighted_sum(self, s):
        """``sum_b s[b] u[b].T @ v[b]``: one matrix product."""
        n, t, p = self.u.shape
        us = (self.u * s[:, None, None]).reshape(n * t, p)
        return (us.T @ self.v.reshape(n * t, -1)).astype(self.dtype, copy=False)

    def dense(self):
        return (np.swapaxes(self.u, 1, 2) @ self.v).astype(self.dtype, copy=False)


def b_matmul_adjoint_b_factored(g, a, b, gb, ab, bb):
    """``b_matmul_adjoint_b`` kept factored when ``b`` is one matrix shared
    by the lanes (a dense layer's weight in ``x @ W``)."""
    na = np.ndim(a) - ab
    if gb and ab and not bb and np.ndim(b) == 2 and na >= 1:
        n = a.shape[0]
        return LowRank(a.reshape(n, -1, a.shape[-1]), g.reshape(n, -1, g.shape[-1]), _dtype(b))
    return b_matmul_adjoint_b(g, a, b, gb, ab, bb)


def b_matmul_adjoint_a_factored(g, a, b, gb, ab, bb):
    """``b_matmul_adjoint_a`` kept factored when ``a`` is one shared matrix
    (``W @ x``)."""
    nb = np.ndim(b) - bb
    if gb and bb and not ab and np.ndim(a) == 2 and nb in (1, 2):
        if nb == 1:
            return LowRank(g[:, None, :], b[:, None, :], _dtype(a))
        return LowRank(np.swapaxes(g, 1, 2), np.swapaxes(b, 1, 2), _dtype(a))
    return b_matmul_adjoint_a(g, a, b, gb, ab, bb)


def _dtype(x):
    dt = getattr(x, "dtype", np.dtype(float))
    return dt if dtype_kind(dt) in "fc" else np.dtype(float)


def sq_norms(g):
    """Squared norm of each lane of a per-example gradient (factored or not)."""
    if isinstance(g, LowRank):
        return g.sq_norms()
    g = np.asarray(g)
    return np.einsum("bi,bi->b", g.reshape(g.shape[0], -1), g.reshape(g.shape[0], -1))


def weighted_sum(g, s):
    """``sum_b s[b] g[b]`` of a per-example gradient (factored or not)."""
    if isinstance(g, LowRank):
        return g.weighted_sum(s)
    g = np.asarray(g)
    return np.tensordot(s, g, axes=(0, 0)).astype(g.dtype, copy=False)
