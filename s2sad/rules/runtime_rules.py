"""Rules (adjoint and tangent) for the runtime helpers that generated code
calls, so generated code can be differentiated again (``grad(grad(f))``, hypergradients
through a loop that calls a gradient).

Most helpers are linear in their adjoint argument; their adjoints are the
transposed linear maps (a sum becomes a broadcast and vice versa).  The
matrix rules assume operands that were not broadcast against each other.
"""

from __future__ import annotations

import s2sad_runtime as _rt
from s2sad.rules.core import d, t


def register(T):
    defrule = T.defrule

    @defrule(_rt.unbroadcast, jvp="linear")
    def rt_unbroadcast(g, v, x):
        d[v] = _rt.broadcast_as(g, v)

    @defrule(_rt.broadcast_as, jvp="linear")
    def rt_broadcast_as(g, v, like):
        d[v] = _rt.unbroadcast(g, v)

    @defrule(_rt.grad_out, jvp="linear")
    def rt_grad_out(g, v, x):
        d[v] = g

    @defrule(_rt.accumulate, jvp="linear")
    def rt_accumulate(g, a, b):
        d[a] = g
        d[b] = g

    @defrule(_rt.sum_adjoint, _rt.expand_adjoint, jvp="linear")
    def rt_sum_adjoint(g, v, x, axis=None, keepdims=False):
        d[v] = _rt.reduce_sum_like(g, v, axis, keepdims)

    @defrule(_rt.mean_adjoint, jvp="linear")
    def rt_mean_adjoint(g, v, x, axis=None, keepdims=False):
        d[v] = _rt.reduce_sum_like(g, v, axis, keepdims) / _rt.count(x, axis)

    @defrule(_rt.extremum_adjoint, jvp="linear")
    def rt_extremum_adjoint(g, v, mx, x, axis=None, keepdims=False):
        d[v] = _rt.reduce_sum_like(g * _rt.extremum_weights(mx, x, axis, keepdims), v, axis, keepdims)

    @defrule(_rt.matmul_adjoint_a, _rt.dot_adjoint_a, jvp="multilinear")
    def rt_matmul_adjoint_a(g, v, a, b):
        d[v] = g @ b
        d[b] = _rt.matmul_adjoint_b(v, g, b)

    @defrule(_rt.matmul_adjoint_b, _rt.dot_adjoint_b, jvp="multilinear")
    def rt_matmul_adjoint_b(g, v, a, b):
        d[v] = a @ g
        d[a] = _rt.matmul_adjoint_a(v, a, g)

    @defrule(_rt.index_adjoint, jvp="linear")
    def rt_index_adjoint(g, v, x, index):
        d[v] = g[index]

    @defrule(_rt.reshape_adjoint, jvp="linear")
    def rt_reshape_adjoint(g, v, x):
        d[v] = _rt.reshape_adjoint(g, v)

    @defrule(_rt.transpose_adjoint, jvp="linear")
    def rt_transpose_adjoint(g, v, axes):
        d[v] = _rt.transpose_forward(g, axes)

    @defrule(_rt.mT, jvp="linear")
    def rt_mT(g, a):
        d[a] = _rt.mT(g)

    @defrule(_rt.log_or_zero, jvp="elementwise")
    def rt_log_or_zero(g, x):
        d[x] = g * _rt.positive_reciprocal(x)

    @defrule(_rt.elem, jvp="linear")
    def rt_elem(g, v, i, like):
        d[v] = _rt.index_adjoint(g, v, i)

    @defrule(_rt.copy_slot, jvp="linear")
    def rt_copy_slot(g, a, idx):
        d[a] = _rt.index_adjoint(g, a, idx)

    @defrule(_rt.written_part, jvp="linear")
    def rt_written_part(g, v, idx):
        d[v] = _rt.written_part_adjoint(g, v, idx)

    @defrule(_rt.own, jvp="linear")
    def rt_own(g, x):
        d[x] = g

    @defrule(_rt.view_sync)
    def rt_view_sync(g, root, view):
        d[root] = _rt.region_zeroed(g, root, view)
        d[view] = _rt.region_of(g, root, view)

    @defrule(_rt.view_rederive)
    def rt_view_rederive(g, view, root):
        d[view] = _rt.unshared_part(g, view, root)
        d[root] = _rt.region_scatter(g, root, view)

    @T.defjvp(_rt.view_sync)
    def view_sync_jvp(ans, root, view):
        d[root] = _rt.region_zeroed(t, root, view)
        d[view] = _rt.region_scatter(t, root, view)

    @T.defjvp(_rt.view_rederive)
    def view_rederive_jvp(ans, view, root):
        d[view] = _rt.unshared_part(t, view, root)
        d[root] = _rt.region_of(t, root, view)

    @defrule(_rt.region_of, jvp="linear")
    def rt_region_of(g, v, root, view):
        d[v] = _rt.region_scatter(g, root, view)

    @defrule(_rt.region_scatter, jvp="linear")
    def rt_region_scatter(g, c, root, view):
        d[c] = _rt.region_of(g, root, view)

    @defrule(_rt.region_zeroed, jvp="linear")
    def rt_region_zeroed(g, v, root, view):
        d[v] = _rt.region_zeroed(g, root, view)

    @defrule(_rt.unshared_part, jvp="linear")
    def rt_unshared_part(g, v, view, root):
        d[v] = _rt.unshared_part(g, view, root)

    @defrule(_rt.zero_slot, jvp="linear")
    def rt_zero_slot(g, v, index):
        d[v] = _rt.zero_slot(g, index)

    T.nondiff(_rt.zeros_like, _rt.check_scalar_output, _rt.tie_weight, _rt.clip_mask, _rt.below_mask,
              _rt.above_mask, _rt.is_basic_index, _rt.is_array, _rt.stop_gradient, _rt.like,
              _rt.check_rebind)
