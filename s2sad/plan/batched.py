"""Planning batched code (``vmap``, ``vmap(grad(f))``): the batching
helpers of :mod:`s2sad_runtime.batching` lowered at a signature's shapes.

The batching transform knows which operands carry the batch axis (the
``*b`` flags its helper calls pass as literals) but not their ranks, so a
helper decides at run time how one example's operation maps onto the
batch (``b_matmul`` is ``x @ W`` for a batch of vectors against a weight
matrix, ``W @ h`` becomes ``h @ W.T``...).  Once the probe has seen the
shapes, each helper is the one NumPy operation it amounts to, written into
the statement's buffer (or a view), like the helpers of
:mod:`s2sad.plan.lowering`.  A case not covered here is left to the helper
(the statement allocates, and stays right).

Every lowering reads its flags and the operands' metas only: a statement is
lowered only where the planner found its operands' shapes static.
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.ir import nodes as N
from s2sad.plan.lowering import (CONST, O, RP, Lowering, NoLowering, extremum_lowering, literal, norm_axes, npc,
                                 scratch)


def _flags(args, k):
    """The ``k`` trailing literal batchedness flags of a helper call."""
    flags = tuple(literal(a) for a in args[-k:])
    if not all(isinstance(f, bool) for f in flags):
        raise NoLowering
    return flags


def _array(p, e):
    """(shape, dtype) of an operand that is a NumPy array."""
    m = p.meta(e)
    if m[0] != "A":
        raise NoLowering
    return m[1], m[2]


def _rank(p, e):
    m = p.meta(e)
    if m[0] in ("A", "L"):
        return len(m[1])
    if m[0] in ("f", "i", "b", "s"):
        return 0
    raise NoLowering


def _lane_shape(p, e, batched):
    """The shape of one example of ``e``."""
    m = p.meta(e)
    if m[0] in ("A", "L"):
        return tuple(m[1][1:]) if batched else tuple(m[1])
    if m[0] in ("f", "i", "s") and not batched:
        return ()
    raise NoLowering


def _unit_axes(e, nd, k):
    """``e`` (rank ``nd``, batch axis first) with ``k`` unit axes after its
    batch axis: a view."""
    if k <= 0:
        return e
    return N.Sub(e, N.Tuple((N.Slice(),) + (N.Const(None),) * k + (N.Slice(),) * (nd - 1)))


# -- entry ---------------------------------------------------------------------

def _b_in(p, v, args, kw, out):
    shape, _ = _array(p, args[0])
    axis = literal(args[1])
    if axis not in (0, -len(shape)):
        raise NoLowering
    return Lowering(args[0], view=True)


# -- broadcasting ----------------------------------------------------------------

def _lift(refs_rank):
    def h(p, v, args, kw, out):
        x = args[0]
        shape, _ = _array(p, x)
        r = max(refs_rank(_rank(p, e)) for e in args[1:])
        return Lowering(_unit_axes(x, len(shape), r - len(shape) + 1), view=True)
    return h


# -- products ----------------------------------------------------------------

def _b_matmul(p, v, args, kw, out):
    a, b = args[:2]
    ab, bb = _flags(args, 2)
    (sa, _), (sb, _) = _array(p, a), _array(p, b)
    na, nb = len(sa) - ab, len(sb) - bb
    if ab and not bb and nb == 2 and na >= 1:
        return Lowering(npc(p, "matmul", a, b, out=O))          # a batch of rows (or stacks) times W
    if bb and not ab and na == 2 and nb == 1:
        return Lowering(npc(p, "matmul", b, N.Attr(a, "T"), out=O))     # W @ h of each example
    if ab and bb and na == nb == 2:
        return Lowering(npc(p, "matmul", a, b, out=O))
    raise NoLowering


def _col(e, nd):
    """``e[..., :, None]`` of a rank-``nd`` array, as basic indexing."""
    return N.Sub(e, N.Tuple((N.Slice(),) * nd + (N.Const(None),)))


def _row(e, nd):
    """``e[..., None, :]``."""
    return N.Sub(e, N.Tuple((N.Slice(),) * (nd - 1) + (N.Const(None), N.Slice())))


def _swap_last(e):
    return N.Call(N.Attr(e, "swapaxes"), (N.Const(-1), N.Const(-2)))


def _adjoint_operands(p, args, out, which):
    """``g, a, b``, their batched flags and one example's ranks of ``a``
    and ``b``, for a matmul adjoint whose result (the adjoint of operand
    ``which``) is batched and of one example's shape of that operand."""
    g, a, b = args[:3]
    gb, ab, bb = _flags(args, 3)
    (sg, _), (sa, _), (sb, _) = _array(p, g), _array(p, a), _array(p, b)
    x, xb = (a, ab) if which == "a" else (b, bb)
    if not gb or out[1] != (sg[0],) + _lane_shape(p, x, xb):
        raise NoLowering
    return g, a, b, ab, bb, len(sa) - ab, len(sb) - bb


def _b_matmul_adjoint_a(p, v, args, kw, out):
    g, a, b, ab, bb, na, nb = _adjoint_operands(p, args, out, "a")
    if na == 1 and nb == 2 and not bb:
        return Lowering(npc(p, "matmul", g, N.Attr(b, "T"), out=O))      # g @ W.T
    if na == 2 and nb == 1 and bb and not ab:
        return Lowering(npc(p, "multiply", _col(g, 2), _row(b, 2), out=O))   # outer(g, h) of each example
    if na == 2 and nb == 2 and ab and not bb:
        return Lowering(npc(p, "matmul", g, N.Attr(b, "T"), out=O))
    if na == 2 and nb == 2 and ab and bb:
        return Lowering(npc(p, "matmul", g, _swap_last(b), out=O))
    raise NoLowering


def _b_matmul_adjoint_b(p, v, args, kw, out):
    g, a, b, ab, bb, na, nb = _adjoint_operands(p, args, out, "b")
    if na == 1 and nb == 2 and ab:
        return Lowering(npc(p, "multiply", _col(a, 2), _row(g, 2), out=O))   # outer(x, g) of each example
    if na == 2 and nb == 1 and bb and not ab:
        return Lowering(npc(p, "matmul", g, a, out=O))                   # W.T @ g of each example
    if na == 2 and nb == 2 and ab:
        return Lowering(npc(p, "matmul", _swap_last(a), g, out=O))
    raise NoLowering


# -- reductions and their adjoints ------------------------------------------------

def _sum_axes(gs, xs):
    """Per-example ``unbroadcast`` from shape ``gs`` to ``xs``: the axes of
    the batched value to sum (batch axis first, never summed) and whether
    the sum keeps dimensions."""
    if not xs:
        return tuple(range(1, len(gs) + 1)), False
    lead = len(gs) - len(xs)
    if lead < 0 or any(b != 1 and a != b for a, b in zip(gs[lead:], xs)):
        raise NoLowering
    keep = tuple(1 + lead + i for i, (a, b) in enumerate(zip(gs[lead:], xs)) if b == 1 and a != 1)
    return tuple(range(1, lead + 1)) + keep, bool(keep)


def _b_unbroadcast(p, v, args, kw, out):
    g, x = args[:2]
    gb, xb = _flags(args, 2)
    if not gb:
        if p.meta(g)[0] in ("f", "i", "s") and _lane_shape(p, x, xb) == () and len(out[1]) == 1:
            return Lowering(O, pre=[N.Eval(N.Call(N.Attr(O, "fill"), (g,)))])    # a number, in every lane
        raise NoLowering
    sg, _ = _array(p, g)
    gs, xs = tuple(sg[1:]), _lane_shape(p, x, xb)
    if gs == xs:
        return Lowering(g, view=True)
    axes, keep = _sum_axes(gs, xs)
    if out[1] != (sg[0],) + xs:
        raise NoLowering
    if keep:
        kshape = (sg[0],) + (1,) * (len(gs) - len(xs)) + xs
        return Lowering(O, pre=[N.Eval(npc(p, "sum", g, axis=N.Const(axes), keepdims=N.Const(True),
                                           out=N.Call(N.Attr(O, "reshape"), (N.Const(kshape),))))])
    return Lowering(npc(p, "sum", g, axis=N.Const(axes), out=O))


def _expanded(p, g, n, xs, axis, keepdims):
    """Batched ``g`` (the adjoint of a per-example reduction of ``x``)
    shaped to broadcast against batched ``x``."""
    sg, _ = _array(p, g)
    if keepdims or tuple(sg[1:]) == xs:
        return g
    shape = [n] + list(xs)
    for a in norm_axes(axis, len(xs)):
        shape[a + 1] = 1
    return N.Call(N.Attr(g, "reshape"), (N.Const(tuple(shape)),))


def _b_sum_adjoint(p, v, args, kw, out):
    g, x, axis, keepdims = args[:4]
    gb, xb = _flags(args, 2)
    if not gb:
        raise NoLowering
    sg, _ = _array(p, g)
    xs = _lane_shape(p, x, xb)
    if tuple(sg[1:]) == xs:
        return Lowering(g, view=True)
    if out[1] != (sg[0],) + xs:
        raise NoLowering
    ge = _expanded(p, g, sg[0], xs, literal(axis), literal(keepdims))
    return Lowering(O, pre=[N.Eval(npc(p, "copyto", O, ge))])


def _b_mean_adjoint(p, v, args, kw, out):
    low = _b_sum_adjoint(p, v, args, kw, out)
    xs = _lane_shape(p, args[1], _flags(args, 2)[1])
    n = 1
    for a in norm_axes(literal(args[2]), len(xs)):
        n *= xs[a]
    if low.view:
        return Lowering(npc(p, "divide", args[0], N.Const(n), out=O), elementwise=True)
    return Lowering(O, pre=low.pre + [N.Eval(npc(p, "divide", O, N.Const(n), out=O))])


def _b_extremum_adjoint(p, v, args, kw, out):
    g, ans, x, axis, keepdims = args[:5]
    if _flags(args, 3) != (True, True, True):
        raise NoLowering
    sx, dt = _array(p, x)
    if np.dtype(dt).kind not in "fc" or len(sx) < 2:
        raise NoLowering
    _array(p, g), _array(p, ans)
    axes = tuple(a + 1 for a in norm_axes(literal(axis), len(sx) - 1))
    return extremum_lowering(p, g, ans, x, axes, literal(keepdims), out)


# -- indexing ----------------------------------------------------------------

def _lane_index(p, shape, idx):
    """``(CONST, idx)``, the index of one integer per lane of a 2-D value
    of ``shape`` (``CONST``: the lane numbers), with the lowering's
    constant and scratch specs; NoLowering for any other index."""
    mi = p.meta(idx)
    n = shape[0]
    if len(shape) != 2 or mi[0] != "A" or tuple(mi[1]) != (n,) or np.dtype(mi[2]).kind not in "iu":
        raise NoLowering
    lanes = np.arange(n, dtype=np.intp)
    lanes.flags.writeable = False
    ip = np.dtype(np.intp).str
    return N.Tuple((CONST, idx)), lanes, [((n,), ip), ((), ip), ((), ip)]


def _b_getitem(p, v, args, kw, out):
    x, idx = args[:2]
    if len(args) != 4 or _flags(args, 2) != (True, True):
        raise NoLowering
    sx, _ = _array(p, x)
    if not p.meta(x)[3] or tuple(out[1]) != (sx[0],):
        raise NoLowering
    index, lanes, spec = _lane_index(p, sx, idx)
    return Lowering(N.Call(N.Attr(RP, "take"), (x, index, O, scratch(0), scratch(1), scratch(2))),
                    scratch=spec, const=lanes)


def _b_index_adjoint(p, v, args, kw, out):
    g, x, idx = args[:3]
    if _flags(args, 3) != (True, True, True):
        raise NoLowering
    sg, _ = _array(p, g)
    mx = p.meta(x)
    if mx[0] not in ("A", "L") or np.dtype(mx[2]).kind not in "fc" or tuple(sg) != (mx[1][0],) \
            or tuple(out[1]) != tuple(mx[1]):
        raise NoLowering
    index, lanes, spec = _lane_index(p, mx[1], idx)
    return Lowering(N.Call(N.Attr(RP, "scatter"), (O, index, g, scratch(0), scratch(1), scratch(2))),
                    scratch=spec, const=lanes)


LOWERINGS = {
    _rt.b_in: _b_in,
    _rt.b_lift: _lift(lambda r: r),
    _rt.b_lift_b: _lift(lambda r: r - 1),
    _rt.b_matmul: _b_matmul,
    _rt.b_matmul_adjoint_a: _b_matmul_adjoint_a,
    _rt.b_matmul_adjoint_b: _b_matmul_adjoint_b,
    _rt.b_unbroadcast: _b_unbroadcast,
    _rt.b_sum_adjoint: _b_sum_adjoint,
    _rt.b_mean_adjoint: _b_mean_adjoint,
    _rt.b_extremum_adjoint: _b_extremum_adjoint,
    _rt.b_getitem: _b_getitem,
    _rt.b_index_adjoint: _b_index_adjoint,
}

# helpers whose value (not an array) follows from their operands' shapes
# (an axis tuple, the batch size): static where the shapes are
SHAPE_VALUES = (_rt.b_axis, _rt.b_size)
