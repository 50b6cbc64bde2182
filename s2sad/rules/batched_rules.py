"""Derivative rules (adjoint and tangent) for what ``s2sad.vmap``'s
generated code calls, so a batched function can be differentiated:
``grad(vmap(f))`` (through a loss of the batch), ``jvp(vmap(f))``.

A batched helper works lane by lane, so its adjoint is the per-lane
adjoint; an operand that is not batched (the same in every lane, a
shared weight) then collects the sum over the lanes (``b_total``).
Helpers that only compute shapes, axes and masks have no derivative.
"""

from __future__ import annotations

import s2sad_runtime as _rt
from s2sad.rules.core import d


def register(T):
    defrule = T.defrule

    @defrule(_rt.b_in, jvp="linear")
    def rt_b_in(g, x, axis, name):
        d[x] = _rt.b_in_adjoint(g, x, axis)

    @defrule(_rt.b_out, jvp="linear")
    def rt_b_out(g, y, axis, n):
        d[y] = _rt.b_out_adjoint(g, axis)

    @defrule(_rt.b_broadcast, jvp="linear")
    def rt_b_broadcast(g, v, n):
        d[v] = _rt.unbroadcast(g, v)

    @defrule(_rt.b_lift, _rt.b_lift_b, jvp="linear")
    def rt_b_lift(g, x, *refs):
        d[x] = _rt.reshape_adjoint(g, x)

    @defrule(_rt.b_squeeze, jvp="linear")
    def rt_b_squeeze(g, x, axis=None):
        d[x] = _rt.reshape_adjoint(g, x)

    @defrule(_rt.b_flat, jvp="linear")
    def rt_b_flat(g, x, axis):
        d[x] = _rt.reshape_adjoint(g, x)

    @defrule(_rt.b_norm_input, jvp="linear")
    def rt_b_norm_input(g, x, ord, axis):
        d[x] = _rt.reshape_adjoint(g, x)

    @defrule(_rt.b_float, _rt.b_item, jvp="linear")
    def rt_b_float(g, x):
        d[x] = _rt.reshape_adjoint(g, x)

    @defrule(_rt.b_sum, jvp="linear")
    def rt_b_sum(g, seq, n, start=0):
        d[seq] = _rt.b_sum_adjoint(g, seq, 0, False, True, True)

    @defrule(_rt.b_stack_items, jvp="linear")
    def rt_b_stack_items(g, items):
        d[items] = _rt.b_unstack_items(g, items)

    @defrule(_rt.b_number_copy, jvp="linear")
    def rt_b_number_copy(g, v):
        d[v] = g

    @defrule(_rt.b_T, jvp="linear")
    def rt_b_T(g, x):
        d[x] = _rt.b_T(g)

    @defrule(_rt.b_where, jvp="linear")
    def rt_b_where(g, mask, new, old):
        d[new] = _rt.b_where_adjoint(g, mask, new, True)
        d[old] = _rt.b_where_adjoint(g, mask, old, False)

    @defrule(_rt.b_where_aliased, jvp="linear")
    def rt_b_where_aliased(g, mask, new, old, others, local, err):
        d[new] = _rt.b_where_adjoint(g, mask, new, True)
        d[old] = _rt.b_where_adjoint(g, mask, old, False)

    @defrule(_rt.b_matmul, jvp="multilinear")
    def rt_b_matmul(g, a, b, ab, bb):
        d[a] = _rt.b_total(_rt.b_matmul_adjoint_a(g, a, b, True, ab, bb), ab)
        d[b] = _rt.b_total(_rt.b_matmul_adjoint_b(g, a, b, True, ab, bb), bb)

    @defrule(_rt.b_getitem, jvp="linear")
    def rt_b_getitem(g, x, idx, xb, ib, mask=None):
        d[x] = _rt.b_total(_rt.b_index_adjoint(g, x, idx, True, xb, ib), xb)

    T.nondiff(_rt.b_size, _rt.b_axis, _rt.b_flat_axis, _rt.b_shape, _rt.b_per_example_shape, _rt.b_ndim,
              _rt.b_numel, _rt.b_len, _rt.b_any, _rt.b_and, _rt.b_max, _rt.b_trips, _rt.b_tail, _rt.b_range,
              _rt.b_in_range, _rt.b_int, _rt.b_is_array, _rt.b_norm_axis)
