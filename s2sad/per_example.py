"""Per-example gradient utilities built on ``vmap(grad(f))``: the norms of
the per-example gradients, and DP-SGD's sum of per-example gradients
each clipped to a norm bound.

Both keep the gradient of a dense layer's weight factored (the
"outer-product trick"): for ``y = x @ W`` the gradient of one example is
``x_b.T @ g_b``, whose norm comes from ``|x_b|`` and ``|g_b|`` (or from
their Gram matrices for a sequence), and whose clipped sum over the
batch is one matrix product.  No ``(B, *W.shape)`` array is formed.
"""

from __future__ import annotations

import numpy as np

from s2sad.api import grad
from s2sad.errors import ArgumentError
from s2sad.vmap import VmapFunction
from s2sad_runtime import per_example as _pe


class _PerExample:
    def __init__(self, f, wrt, in_axes, rules):
        self.single = not isinstance(wrt, (tuple, list))
        self.pe = VmapFunction(grad(f, wrt, rules=rules), in_axes=in_axes, rules=rules, factored=True)

    def _grads(self, args, kwargs):
        g = self.pe(*args, **kwargs)
        return [g] if self.single else list(g)

    @property
    def source(self):
        return self.pe.source


class PerExampleNorms(_PerExample):
    """``(*args) -> norms``: the norm of each example's gradient (all ``wrt``
    arguments together)."""

    def __call__(self, *args, **kwargs):
        return np.sqrt(sum(_pe.sq_norms(g) for g in self._grads(args, kwargs)))


class ClippedGrad(_PerExample):
    """``(*args) -> (grads, norms)``: the sum over the examples of each
    example's gradient scaled to norm at most ``max_norm`` (DP-SGD), and
    the norms before clipping."""

    def __init__(self, f, wrt, in_axes, rules, max_norm):
        if not max_norm > 0:
            raise ArgumentError(f"clipped_grad: max_norm must be positive, got {max_norm!r}")
        super().__init__(f, wrt, in_axes, rules)
        self.max_norm = max_norm

    def __call__(self, *args, **kwargs):
        gs = self._grads(args, kwargs)
        norms = np.sqrt(sum(_pe.sq_norms(g) for g in gs))
        scale = np.minimum(1.0, self.max_norm / np.maximum(norms, 1e-300))
        out = [_pe.weighted_sum(g, scale) for g in gs]
        return (out[0] if self.single else tuple(out)), norms


def per_example_norms(f, wrt=0, in_axes=0, *, rules=None):
    """The norm of each example's gradient of ``f`` (``wrt`` arguments
    together), batched over ``in_axes`` as in :func:`s2sad.vmap`."""
    return PerExampleNorms(f, wrt, in_axes, rules)


def clipped_grad(f, wrt=0, in_axes=0, max_norm=1.0, *, rules=None):
    """DP-SGD's clipped gradient: ``sum_b g_b * min(1, max_norm / |g_b|)``
    over the examples ``b`` of the batch, with ``g_b`` the gradient of
    ``f`` for example ``b``; returns ``(grads, norms)``."""
    return ClippedGrad(f, wrt, in_axes, rules, max_norm)
