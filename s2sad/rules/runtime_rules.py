"""Rules (adjoint and tangent) for the runtime helpers that generated code
calls, so generated code can be differentiated again (``grad(grad(f))``, hypergradients
through a loop that calls a gradient).

Most helpers are linear in their adjoint argument; their adjoints are the
transposed linear maps (a sum becomes a broadcast and vice versa).  The
matrix rules assume operands that were not broadcast against each other.
"""

from __future__ import annotations

import numpy as np

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

    @defrule(_rt.grad_out_as, jvp="linear")
    def rt_grad_out_as(g, v, x, dtype):
        d[v] = g

    @defrule(_rt.at_precision, jvp="linear")
    def rt_at_precision(g, x, dtype):
        # a precision policy's cast: the adjoint passes as it is (it is at
        # the adjoint dtype, at least as wide as any primal one)
        d[x] = g

    @defrule(_rt.at_precision_items, jvp="linear", returns="container")
    def rt_at_precision_items(g, x, dtype):
        d[x] = g

    @defrule(_rt.half_matmul, jvp="multilinear")
    def rt_half_matmul(g, x, y):
        # a matrix product (accumulated in float32 for 16-bit operands):
        # the adjoints of ``x @ y``, at the adjoint's dtype
        d[x] = _rt.matmul_adjoint_a(g, x, y)
        d[y] = _rt.matmul_adjoint_b(g, x, y)

    @defrule(_rt.accumulate, jvp="linear")
    def rt_accumulate(g, a, b):
        # a + b may broadcast (a scalar tangent plus an array one)
        d[a] = _rt.unbroadcast(g, a)
        d[b] = _rt.unbroadcast(g, b)

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
    def rt_reshape_adjoint(g, v, x, order="C"):
        d[v] = _rt.reshape_adjoint(g, v, order)

    @defrule(_rt.transpose_adjoint, jvp="linear")
    def rt_transpose_adjoint(g, v, axes):
        d[v] = _rt.transpose_forward(g, axes)

    @defrule(_rt.mT, jvp="linear")
    def rt_mT(g, a):
        d[a] = _rt.mT(g)

    @defrule(_rt.mvn_centered, jvp="linear")
    def rt_mvn_centered(g, x, mean, cov):
        d[x] = _rt.unbroadcast(g, x)
        d[mean] = -_rt.unbroadcast(g, mean)

    @defrule(_rt.mvn_cov, jvp="linear")
    def rt_mvn_cov(g, cov):
        d[cov] = _rt.to_lower(0.5 * (g + _rt.mT(g)))

    @defrule(_rt.dirichlet_alpha, jvp="linear")
    def rt_dirichlet_alpha(g, x, alpha):
        d[alpha] = np.reshape(g, np.shape(alpha))

    T.nondiff(_rt.trans_flag)

    @defrule(_rt.banded_transpose, jvp="linear")
    def rt_banded_transpose(g, l_and_u, ab):
        d[ab] = _rt.banded_transpose((l_and_u[1], l_and_u[0]), g)

    @defrule(_rt.band_matvec, jvp="multilinear")
    def rt_band_matvec(g, l_and_u, ab, x):
        d[ab] = _rt.band_outer(l_and_u, g, x)
        d[x] = _rt.band_matvec((l_and_u[1], l_and_u[0]), _rt.banded_transpose(l_and_u, ab), g)

    @defrule(_rt.band_outer, jvp="multilinear")
    def rt_band_outer(g, l_and_u, p, q):
        d[p] = _rt.band_matvec(l_and_u, g, q)
        d[q] = _rt.band_matvec((l_and_u[1], l_and_u[0]), _rt.banded_transpose(l_and_u, g), p)

    @defrule(_rt.transpose_if, jvp="linear")
    def rt_transpose_if(g, m, flag):
        d[m] = _rt.transpose_if(g, flag)

    @defrule(_rt.triangle, jvp="linear")         # a diagonal map: its own transpose
    def rt_triangle(g, m, lower, unit_diagonal=False):
        d[m] = _rt.triangle(g, lower, unit_diagonal)

    @defrule(_rt.to_lower, jvp="linear")         # a diagonal map: its own transpose
    def rt_to_lower(g, gs):
        d[gs] = _rt.to_lower(g)

    @defrule(_rt.from_lower, jvp="linear")
    def rt_from_lower(g, t_):
        d[t_] = _rt.to_lower(0.5 * (g + _rt.mT(g)))

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

    _second_order(T)

    T.nondiff(_rt.zeros_like, _rt.check_scalar_output, _rt.tie_weight, _rt.clip_mask, _rt.below_mask,
              _rt.above_mask, _rt.is_basic_index, _rt.is_array, _rt.stop_gradient, _rt.like,
              _rt.check_rebind, _rt.not_differentiated)


def _second_order(T):
    """The helpers of NumPy rules' adjoints: differentiating a generated
    gradient (``hvp`` is forward mode over it) meets them.  Those linear in
    their adjoint argument get an adjoint (the transposed map) and the
    tangent ``"linear"``; the others a tangent template only (reverse mode
    over them then says so, naming the line)."""
    defrule, defjvp = T.defrule, T.defjvp

    @defrule(_rt.cumsum_adjoint, jvp="linear")
    def rt_cumsum_adjoint(g, v, a, axis=None):
        d[v] = np.cumsum(g, axis)

    @defrule(_rt.concatenate_piece, jvp="linear")
    def rt_concatenate_piece(g, v, arrays, axis, k):
        d[v] = _rt.piece_adjoint(g, v, _rt.concatenate_piece, arrays, axis, k)

    @defrule(_rt.hstack_piece, jvp="linear")
    def rt_hstack_piece(g, v, tup, k):
        d[v] = _rt.piece_adjoint(g, v, _rt.hstack_piece, tup, k)

    @defrule(_rt.vstack_piece, jvp="linear")
    def rt_vstack_piece(g, v, tup, k):
        d[v] = _rt.piece_adjoint(g, v, _rt.vstack_piece, tup, k)

    @defrule(_rt.stack_operand, jvp="linear")
    def rt_stack_operand(g, parts):
        d[parts[k]] = g[k]

    @defrule(_rt.tile_adjoint, jvp="linear")
    def rt_tile_adjoint(g, v, x, reps):
        d[v] = np.tile(g, reps)

    @defrule(_rt.repeat_adjoint, jvp="linear")
    def rt_repeat_adjoint(g, v, x, repeats, axis=None):
        d[v] = np.repeat(g, repeats, axis)

    @defrule(_rt.roll_adjoint, jvp="linear")
    def rt_roll_adjoint(g, v, shift, axis=None):
        d[v] = np.roll(g, shift, axis)

    @defrule(_rt.diag_adjoint, jvp="linear")
    def rt_diag_adjoint(g, v, x, k=0):
        d[v] = np.diag(g, k)

    @defrule(_rt.trace_adjoint, jvp="linear")
    def rt_trace_adjoint(g, v, a, offset=0, axis1=0, axis2=1):
        d[v] = np.trace(g, offset, axis1, axis2)

    @defrule(_rt.astype_adjoint, jvp="linear")
    def rt_astype_adjoint(g, v, x, at_least=None):
        d[v] = _rt.astype_adjoint(g, v, at_least)

    @defrule(_rt.transpose_forward, jvp="linear")
    def rt_transpose_forward(g, v, axes):
        d[v] = _rt.transpose_adjoint(g, axes)

    @defrule(_rt.reduce_sum_like, jvp="linear")
    def rt_reduce_sum_like(g, v, like, axis, keepdims):
        d[v] = _rt.reduce_sum_like_adjoint(g, v, like, axis, keepdims)

    @defrule(_rt.take_adjoint, jvp="linear")
    def rt_take_adjoint(g, v, a, indices, axis=None, mode="raise"):
        d[v] = np.take(g, indices, axis, None, mode)

    @defrule(_rt.index_accumulate, jvp="linear")
    def rt_index_accumulate(g, a, v, x, index):
        d[a] = g
        d[v] = g[index]

    @defrule(_rt.fresh, jvp="linear")
    def rt_fresh(g, v):
        d[v] = g

    @defrule(_rt.positive_reciprocal)
    def rt_positive_reciprocal(g, x):
        d[x] = -g * _rt.positive_reciprocal(x) ** 2

    # tangents only
    @defjvp(_rt.var_adjoint)       # bilinear in the adjoint and the operand (the mean is linear)
    def rt_var_adjoint_jvp(ans, c, x, axis=None, ddof=0, keepdims=False):
        d[c] = _rt.var_adjoint(t, x, axis, ddof, keepdims)
        d[x] = _rt.var_adjoint(c, t, axis, ddof, keepdims)

    @defjvp(_rt.solve_adjoint_a)   # bilinear in the adjoint and the solution
    def rt_solve_adjoint_a_jvp(ans, c, sol, a):
        d[c] = _rt.solve_adjoint_a(t, sol, a)
        d[sol] = _rt.solve_adjoint_a(c, t, a)

    @defjvp(_rt.det_adjoint)
    def rt_det_adjoint_jvp(ans, c, dv, a):
        d[c] = _rt.det_adjoint(t, dv, a)
        d[dv] = _rt.det_adjoint(c, t, a)
        d[a] = _rt.det_adjoint_da(c, dv, a, t)

    @defjvp(_rt.solve_adjoint_b)
    def rt_solve_adjoint_b_jvp(ans, c, a, sol):
        d[c] = _rt.solve_adjoint_b(t, a, sol)
        d[a] = _rt.solve_adjoint_b_da(t, a, ans, sol)

    @defjvp(_rt.einsum_adjoint)
    def rt_einsum_adjoint_jvp(ans, c, subscripts, operands, kk):
        d[c] = _rt.einsum_adjoint(t, subscripts, operands, kk)
        d[operands[k]] = _rt.einsum_adjoint_dop(c, subscripts, operands, kk, k, t)

    @defjvp(_rt.inner_adjoint)
    def rt_inner_adjoint_jvp(ans, c, a, b, kk=0):
        d[c] = _rt.inner_adjoint(t, a, b, kk)
        d[a] = _rt.pair_adjoint_dop(_rt.inner_adjoint, c, a, b, 0, t, kk)
        d[b] = _rt.pair_adjoint_dop(_rt.inner_adjoint, c, a, b, 1, t, kk)

    @defjvp(_rt.tensordot_adjoint)
    def rt_tensordot_adjoint_jvp(ans, c, a, b, axes, kk):
        d[c] = _rt.tensordot_adjoint(t, a, b, axes, kk)
        d[a] = _rt.pair_adjoint_dop(_rt.tensordot_adjoint, c, a, b, 0, t, axes, kk)
        d[b] = _rt.pair_adjoint_dop(_rt.tensordot_adjoint, c, a, b, 1, t, axes, kk)

    @defjvp(_rt.slogdet_adjoint)
    def rt_slogdet_adjoint_jvp(ans, c, a):
        d[c] = _rt.slogdet_adjoint(t, a)
        d[a] = _rt.det_adjoint_da(c, 1.0, a, t)

    @defjvp(_rt.builtin_extremum_adjoint)
    def rt_builtin_extremum_adjoint_jvp(ans, c, m, args, kk):
        d[c] = _rt.builtin_extremum_adjoint(t, m, args, kk)

    @defjvp(_rt.written_part_adjoint)
    def rt_written_part_adjoint_jvp(ans, c, v, index):
        d[c] = _rt.written_part_adjoint(t, v, index)

    T.nondiff(_rt.sign, _rt.count, _rt.extremum_weights, _rt.extremum_winner)
