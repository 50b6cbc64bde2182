"""Planning, step 4: lowering one statement to a form that writes into a
given buffer.

A :class:`Lowering` is IR with placeholders: :data:`O` (the statement's
buffer) and :func:`scratch` ``(j)`` (scratch buffers of its own).  It says
how a statement computes its array into a buffer (an operator or ufunc with
``out=``, ``np.matmul(..., out=)``, a reduction with ``out=``, ``fill``,
``copyto``, ``np.add.at``), or that it is a view (basic slicing, ``.T``, a
same-shape ``unbroadcast``).  A runtime helper becomes the one NumPy call it
amounts to at the signature's shapes (``unbroadcast`` is a view when shapes
match, ``np.sum(..., out=)`` when not; ``matmul_adjoint_a`` is
``np.matmul(g, b.T, out=)``).  Helpers are matched by identity, in
:data:`HELPERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import s2sad_runtime as _rt
from s2sad_runtime.core import is_float_dtype
import s2sad_runtime.plan as _rp
from s2sad.ir import nodes as N
from s2sad.ir.visit import substitute

O = N.Name("\x00o")


def scratch(j):
    return N.Name(f"\x00s{j}")


CONST = N.Name("\x00c")
RP = N.Static("_rp", _rp)


@dataclass
class Lowering:
    """How one statement writes into a buffer (``pre`` statements, then the
    value ``expr``), or rebinds a view (``view=True``: ``expr`` only)."""
    expr: object
    pre: list = field(default_factory=list)
    scratch: list = field(default_factory=list)     # (shape, dtype) per scratch buffer
    view: bool = False
    elementwise: bool = False
    const: object = None
    inplace: tuple = ()      # operand names it may overwrite when they share its buffer
    scalar: bool = False     # a NumPy scalar taken out of a 0-d scratch buffer

    def out_uses(self):
        """How often the value expression reads the buffer."""
        from s2sad.ir.visit import walk
        return sum(1 for x in walk(self.expr) if x is O)


def instantiate(low, mapping):
    """``(pre, expr)`` of a lowering with its placeholders replaced
    (``mapping``: placeholder id -> expression)."""
    from s2sad.plan.flatten import clone
    sub = {k.id if isinstance(k, N.Name) else k: v for k, v in mapping.items()}
    pre = []
    for s in clone(low.pre):
        _subst_stmt(s, sub)
        pre.append(s)
    return pre, substitute(low.expr, sub)


def _subst_stmt(s, sub):
    if isinstance(s, N.Assign):
        s.target, s.value = substitute(s.target, sub), substitute(s.value, sub)
    elif isinstance(s, N.Eval):
        s.value = substitute(s.value, sub)
    elif isinstance(s, N.If):
        s.test = substitute(s.test, sub)
        for b in (s.body, s.orelse):
            for x in b:
                _subst_stmt(x, sub)


class NoLowering(Exception):
    pass


BINOPS = {"Add": "add", "Sub": "subtract", "Mult": "multiply", "Div": "divide", "Pow": "power",
          "FloorDiv": "floor_divide", "Mod": "remainder"}
CMPOPS = {"Lt": "less", "LtE": "less_equal", "Gt": "greater", "GtE": "greater_equal", "Eq": "equal",
          "NotEq": "not_equal"}
REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
              "amax": np.amax, "amin": np.amin}
FILLS = {np.zeros: 0, np.ones: 1, np.empty: None, np.zeros_like: 0, np.ones_like: 1, np.empty_like: None}


def index_parts(e):
    """The components of an index expression (``x[a, b]`` -> ``[a, b]``)."""
    return list(e.elts) if isinstance(e, N.Tuple) else [e]


def basic_component(m):
    """Does an index component of meta ``m`` keep ``x[...]`` a view (an int,
    None, a slice, Ellipsis)?"""
    return m[0] in ("i", "N") or (m[0] == "O" and m[1] in ("slice", "ellipsis"))


def npc(p, fname, *args, **kw):
    """``np.<fname>(*args, **kw)`` under the plan's name for NumPy."""
    f = N.Attr(p.np, fname)
    return N.Call(f, tuple(args), tuple(kw.items()))


def _fill(value):
    return N.Eval(N.Call(N.Attr(O, "fill"), (value if isinstance(value, N.Expr) else N.Const(value),)))


def scalar_reduction(p, s):
    """A full reduction to a NumPy scalar (``np.mean(x)``): NumPy would
    make a 0-d array for it; reduce into a 0-d scratch buffer instead and
    take the scalar out (``b[()]`` is the same NumPy scalar)."""
    v = s.stmt.value
    if not isinstance(v, N.Call) or v.kwargs or len(v.args) != 1:
        return None
    fn = p.resolve(v.func)
    name = next((k for k, r in REDUCTIONS.items() if fn is r), None)
    m = p.meta(v.args[0])
    if name is None or m[0] != "A" or not p.sname(v.args[0]) or np.dtype(m[2]) != np.dtype(s.meta[1]):
        return None
    return Lowering(N.Sub(scratch(0), N.Tuple(())), pre=[N.Eval(npc(p, name, v.args[0], out=scratch(0)))],
                    scratch=[((), s.meta[1])], scalar=True)


def lower(p, s):
    low = _lower(p, s)
    out = p.name_meta[s.target]
    if low is not None and not low.view and out[0] == "A" and len(out[1]) >= 2 and not out[3]:
        # NumPy made this array in another memory order (a ufunc of a
        # transpose keeps its order): a C-ordered buffer would change what
        # a later reshape or ravel of it views or copies
        return None
    return low


def _lower(p, s):
    v = s.stmt.value
    out = p.name_meta[s.target]
    try:
        if isinstance(v, N.Name):
            return Lowering(v, view=True) if p.is_array(v.id) else None
        if isinstance(v, N.BinOp):
            if v.op == "MatMult":
                return _matmul(p, v.left, v.right)
            uf = BINOPS.get(v.op)
            if uf:
                return Lowering(npc(p, uf, v.left, v.right, out=O), elementwise=True)
        if isinstance(v, N.UnaryOp):
            uf = {"USub": "negative", "UAdd": "positive"}.get(v.op)
            if uf:
                return Lowering(npc(p, uf, v.operand, out=O), elementwise=True)
        if isinstance(v, N.Compare) and len(v.ops) == 1 and v.ops[0] in CMPOPS:
            return Lowering(npc(p, CMPOPS[v.ops[0]], v.left, v.comparators[0], out=O), elementwise=True)
        if isinstance(v, N.Attr) and v.attr == "T":
            return Lowering(v, view=True)
        if isinstance(v, N.Sub):
            return _subscript(p, v, out)
        if isinstance(v, N.Call):
            return _call(p, s, v, out)
    except NoLowering:
        return None
    return None


def _matmul(p, a, b):
    ma, mb = p.arr(a), p.arr(b)
    if ma is None or mb is None or len(ma[0]) < 1 or len(mb[0]) < 1:
        return None
    return Lowering(npc(p, "matmul", a, b, out=O))


def _subscript(p, v, out):
    idx = index_parts(v.index)
    basic = all(isinstance(i, N.Slice) or basic_component(p.meta(i)) for i in idx)
    base = p.arr(v.value)
    if base is None:
        return None
    if basic:
        return Lowering(v, view=True)
    # integer arrays, one per axis, all of the result's shape
    if len(idx) == len(base[0]) and all(p.meta(i)[0] == "A" and p.meta(i)[1] == out[1]
                                        and np.dtype(p.meta(i)[2]).kind in "iu" for i in idx) \
            and p.meta(v.value)[0] == "A" and p.meta(v.value)[3]:
        ip = np.dtype(np.intp).str
        return Lowering(N.Call(N.Attr(RP, "take"), (v.value, N.Tuple(tuple(idx)), O, scratch(0), scratch(1),
                                                     scratch(2))),
                        scratch=[(out[1], ip), ((), ip), ((), ip)])
    return None


def _call(p, s, v, out):
    fn = p.resolve(v.func)
    if fn is None:
        return None
    args = list(v.args)
    kw = dict(v.kwargs)
    if isinstance(fn, np.ufunc):
        if fn.nout != 1 or kw or len(args) != fn.nin:
            return None
        return Lowering(N.Call(v.func, tuple(args), (("out", O),)), elementwise=True)
    if fn is np.clip and len(args) == 3 and not kw:
        return Lowering(npc(p, "clip", *args, out=O), elementwise=True)
    if fn is np.matmul and len(args) == 2 and not kw:
        return _matmul(p, args[0], args[1])
    if fn is np.dot and len(args) == 2 and not kw:
        ma, mb = p.arr(args[0]), p.arr(args[1])
        if ma and mb and len(ma[0]) == 2 and len(mb[0]) == 2:
            return Lowering(npc(p, "matmul", args[0], args[1], out=O))
        return None
    for name, red in REDUCTIONS.items():
        if fn is red:
            if not args or p.arr(args[0]) is None or set(kw) - {"axis", "keepdims"}:
                return None
            pos = ["axis", "dtype", "out", "keepdims"]
            extra = dict(zip(pos, args[1:]))
            if "dtype" in extra or "out" in extra:
                return None
            extra.update(kw)
            return Lowering(npc(p, name, args[0], **extra, out=O))
    if fn in FILLS:
        val = FILLS[fn]
        return Lowering(O, pre=[_fill(val)] if val is not None else [])
    if fn in (np.full, np.full_like) and len(args) == 2 and set(kw) <= {"dtype"}:
        if p.meta(args[1])[0] not in ("i", "f", "b", "s"):
            return None
        return Lowering(O, pre=[_fill(args[1])])
    if fn is np.arange and s.id in p.values:
        c = p.values[s.id]
        c.flags.writeable = False
        return Lowering(CONST, view=True, const=c)
    h = helper_lowering(fn)
    if h is not None:
        return h(p, v, args, kw, out)
    return None


# ---------------------------------------------------------------------------
# runtime helpers at known shapes


def _kwargs(names, kw, args, defaults):
    """Arguments of a helper call by parameter name."""
    vals = dict(zip(names, args))
    vals.update(kw)
    for k, d in defaults.items():
        vals.setdefault(k, N.Const(d))
    return vals


def literal(e):
    if isinstance(e, N.Const):
        return e.value
    if isinstance(e, N.Tuple) and all(isinstance(x, N.Const) for x in e.elts):
        return tuple(x.value for x in e.elts)
    raise NoLowering


def norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim for a in axis)


def _reshape(e, shape):
    return N.Call(N.Attr(e, "reshape"), (N.Const(tuple(shape)),))


def _unbroadcast(p, v, args, kw, out):
    g, x = args[0], args[1]
    mg, mx = p.arr(g), p.arr(x)
    if mg is None or mx is None:
        raise NoLowering
    gs, xs = mg[0], mx[0]
    if gs == xs:
        return Lowering(g, view=True)
    lead = len(gs) - len(xs)
    if lead < 0 or any(b != 1 and a != b for a, b in zip(gs[lead:], xs)):
        raise NoLowering
    axes = tuple(range(lead)) + tuple(lead + i for i, (a, b) in enumerate(zip(gs[lead:], xs)) if b == 1 and a != 1)
    if any(b == 1 and a != 1 for a, b in zip(gs[lead:], xs)):
        kshape = (1,) * lead + tuple(xs)
        return Lowering(O, pre=[N.Eval(npc(p, "sum", g, axis=N.Const(axes), keepdims=N.Const(True),
                                           out=_reshape(O, kshape)))])
    return Lowering(npc(p, "sum", g, axis=N.Const(axes), out=O))


def _expanded(p, e, x_shape, axis, keepdims):
    """``e`` reshaped to broadcast against ``x`` after a reduction over
    ``axis``, and whether it is a scalar."""
    m = p.meta(e)
    if m[0] in ("f", "i", "s"):
        return e, True
    if m[0] != "A":
        raise NoLowering
    if keepdims or (axis is None and m[1] == ()):
        return e, False
    shape = list(x_shape)
    for a in norm_axes(axis, len(shape)):
        shape[a] = 1
    return _reshape(e, shape), False


def _sum_adjoint(p, v, args, kw, out, mean=False):
    a = _kwargs(["g", "x", "axis", "keepdims"], kw, args, {"axis": None, "keepdims": False})
    mx = p.arr(a["x"])
    if mx is None:
        raise NoLowering
    axis, keepdims = literal(a["axis"]), literal(a["keepdims"])
    ge, is_scalar = _expanded(p, a["g"], mx[0], axis, keepdims)
    n = 1
    for ax in norm_axes(axis, len(mx[0])):
        n *= mx[0][ax]
    if is_scalar:
        return Lowering(O, pre=[_fill(N.BinOp("Div", ge, N.Const(n)) if mean else ge)])
    pre = [N.Eval(npc(p, "copyto", O, ge))]
    if mean:
        pre.append(N.Eval(npc(p, "divide", O, N.Const(n), out=O)))
    return Lowering(O, pre=pre)


def _mean_adjoint(p, v, args, kw, out):
    return _sum_adjoint(p, v, args, kw, out, mean=True)


def _float_or_complex(dt):
    dt = np.dtype(dt)
    return dt.kind in "fc" or is_float_dtype(dt)


def _extremum_adjoint(p, v, args, kw, out):
    a = _kwargs(["g", "ans", "x", "axis", "keepdims"], kw, args, {"axis": None, "keepdims": False})
    mx = p.arr(a["x"])
    if mx is None or p.meta(a["x"])[0] != "A" or not _float_or_complex(mx[1]):
        raise NoLowering
    return extremum_lowering(p, a["g"], a["ans"], a["x"], literal(a["axis"]), literal(a["keepdims"]), out)


def extremum_lowering(p, g, ans, x, axis, keepdims, out):
    """``extremum_adjoint(g, ans, x, axis, keepdims)`` into the buffer, at
    a known ``axis`` (a tuple of ``x``'s axes, or None): ``g * (mask /
    count)``, the weights in the result's dtype as the runtime makes them
    (that of ``x`` and ``g``, never float64 for float32 operands)."""
    mx = p.arr(x)
    if out[0] != "A" or not _float_or_complex(out[2]):
        raise NoLowering
    ans, _ = _expanded(p, ans, mx[0], axis, keepdims)
    g, _ = _expanded(p, g, mx[0], axis, keepdims)
    kshape = list(mx[0])
    for ax in norm_axes(axis, len(kshape)):
        kshape[ax] = 1
    ax = tuple(norm_axes(axis, len(kshape)))
    s0, s1 = scratch(0), scratch(1)
    return Lowering(O, pre=[
        N.Eval(npc(p, "equal", x, ans, out=s0)),
        N.Eval(npc(p, "sum", s0, axis=N.Const(ax), keepdims=N.Const(True), dtype=N.Attr(s1, "dtype"), out=s1)),
        N.Eval(npc(p, "divide", s0, s1, out=O)),
        N.Eval(npc(p, "multiply", g, O, out=O)),
    ], scratch=[(mx[0], np.dtype(bool).str), (tuple(kshape), out[2])])


def _mask_out(out):
    if out[0] != "A" or not is_float_dtype(np.dtype(out[2])):
        raise NoLowering
    return (out[1], np.dtype(bool).str)


def _tie_weight(p, v, args, kw, out):
    """``tie_weight(x, y)`` (1 where x > y, 1/2 at ties) into the buffer, in
    its dtype: a comparison cast into it, then 1/2 added where equal."""
    if kw or len(args) != 2:
        raise NoLowering
    x, y = args
    return Lowering(O, pre=[N.Eval(npc(p, "greater", x, y, out=O)),
                            N.Eval(npc(p, "equal", x, y, out=scratch(0))),
                            N.Eval(npc(p, "add", O, N.Const(0.5), out=O, where=scratch(0)))],
                    scratch=[_mask_out(out)])


def _clip_mask(p, v, args, kw, out):
    """``clip_mask(a, lo, hi)`` (1 inside the bounds, 0 outside) into the
    buffer, in its dtype."""
    if kw or len(args) != 3:
        raise NoLowering
    a, lo, hi = args
    lo_none, hi_none = (isinstance(e, N.Const) and e.value is None for e in (lo, hi))
    if lo_none or hi_none:
        if lo_none and hi_none:
            raise NoLowering
        cmp = npc(p, "less_equal", a, hi, out=O) if lo_none else npc(p, "greater_equal", a, lo, out=O)
        _mask_out(out)
        return Lowering(O, pre=[N.Eval(cmp)])
    return Lowering(O, pre=[N.Eval(npc(p, "greater_equal", a, lo, out=scratch(0))),
                            N.Eval(npc(p, "less_equal", a, hi, out=scratch(1))),
                            N.Eval(npc(p, "logical_and", scratch(0), scratch(1), out=O))],
                    scratch=[_mask_out(out), _mask_out(out)])


def _at_precision(p, v, args, kw, out):
    """A precision policy's cast (``at_precision(x, dtype)``): the operand
    itself when it has the dtype already, else a copy into the buffer (of
    the probed, cast-to dtype)."""
    if kw or len(args) != 2:
        raise NoLowering
    mx = p.meta(args[0])
    if mx[0] != "A" or out[0] != "A" or not is_float_dtype(np.dtype(mx[2])):
        raise NoLowering
    if np.dtype(mx[2]) == np.dtype(out[2]):
        return Lowering(args[0], view=True)
    return Lowering(O, pre=[N.Eval(npc(p, "copyto", O, args[0], casting=N.Const("unsafe")))])


def _half_matmul(p, v, args, kw, out):
    """``half_matmul(a, b)``: of two 16-bit floats, the operands copied into
    float32 scratch, multiplied there (BLAS) and rounded into the buffer;
    of others, ``np.matmul`` into the buffer."""
    if kw or len(args) != 2:
        raise NoLowering
    a, b = args
    ma, mb = p.arr(a), p.arr(b)
    if ma is None or mb is None or out[0] != "A" or p.meta(a)[0] != "A" or p.meta(b)[0] != "A":
        raise NoLowering
    if not _half(ma, mb):
        return _matmul(p, a, b)
    return _half_product(p, a, b, ma, mb, out)


def _half(ma, mb):
    """Are both operands (shape, dtype) of one 16-bit float dtype?"""
    da, db = np.dtype(ma[1]), np.dtype(mb[1])
    return da == db and da.itemsize == 2 and is_float_dtype(da)


def _half_product(p, a, b, ma, mb, out):
    """A product of two 16-bit operands into the buffer: copied into float32
    scratch, multiplied there by BLAS, rounded once."""
    f32 = np.dtype(np.float32).str
    return Lowering(O, pre=[N.Eval(npc(p, "copyto", scratch(0), a, casting=N.Const("unsafe"))),
                            N.Eval(npc(p, "copyto", scratch(1), b, casting=N.Const("unsafe"))),
                            N.Eval(npc(p, "matmul", scratch(0), scratch(1), out=scratch(2))),
                            N.Eval(npc(p, "copyto", O, scratch(2), casting=N.Const("unsafe")))],
                    scratch=[(ma[0], f32), (mb[0], f32), (out[1], f32)])


def _index_adjoint(p, v, args, kw, out):
    g, x, idx = args[:3]
    mx = p.arr(x)
    if mx is None or p.meta(x)[0] not in ("A", "L"):
        raise NoLowering
    kinds = []
    for i in index_parts(idx):
        m = p.meta(i)
        if basic_component(m):
            kinds.append("basic")
        elif m[0] == "A" and np.dtype(m[2]).kind in "iu":
            kinds.append("int")
        else:
            raise NoLowering
    setter = N.Assign(N.Sub(O, idx), g) if all(k == "basic" for k in kinds) else \
        N.Eval(N.Call(N.Attr(N.Attr(p.np, "add"), "at"), (O, idx, g)))
    return Lowering(O, pre=[_fill(0), setter])


def _matmul_adjoint(which):
    def h(p, v, args, kw, out):
        mg, ma, mb = (p.arr(e) for e in args[:3])
        if not (mg and ma and mb):
            raise NoLowering
        g, a, b = args[:3]
        na, nb = len(ma[0]), len(mb[0])
        need = b if which == "a" else a   # the operand whose data it reads
        if p.meta(need)[0] != "A" or p.meta(g)[0] != "A":
            raise NoLowering
        if (na, nb) == (2, 2):
            x, y = (g, N.Attr(b, "T")) if which == "a" else (N.Attr(a, "T"), g)
            mx, my = p.arr(x), p.arr(y)
            if mx and my and _half(mx, my) and out[0] == "A":
                return _half_product(p, x, y, mx, my, out)      # (as the runtime's: BLAS in float32)
            return Lowering(npc(p, "matmul", x, y, out=O))
        col = N.Tuple((N.Slice(), N.Const(None)))
        if (na, nb) == (2, 1):      # matrix-vector: g is a vector
            return Lowering(npc(p, "multiply", N.Sub(g, col), b, out=O) if which == "a"
                            else npc(p, "matmul", N.Attr(a, "T"), g, out=O))
        if (na, nb) == (1, 2):      # vector-matrix
            return Lowering(npc(p, "matmul", b, g, out=O) if which == "a"
                            else npc(p, "multiply", N.Sub(a, col), g, out=O))
        raise NoLowering
    return h


def _zeros_like(p, v, args, kw, out):
    mx = p.meta(args[0])
    if mx[0] not in ("A", "L") or np.dtype(mx[2]).kind not in "fc":
        raise NoLowering
    return Lowering(O, pre=[_fill(0)])


def _index_accumulate(p, v, args, kw, out):
    a, g, x, idx = args[:4]
    ma, mx = p.arr(a), p.arr(x)
    if ma is None or mx is None or ma[0] != mx[0] or p.meta(a)[0] != "A" or p.meta(g)[0] != "A":
        raise NoLowering
    if not all(basic_component(p.meta(i)) for i in index_parts(idx)):
        raise NoLowering
    return Lowering(O, pre=[N.If(N.Compare(a, ("IsNot",), (O,)), [N.Eval(npc(p, "copyto", O, a))]),
                            N.Eval(npc(p, "add", N.Sub(O, idx), g, out=N.Sub(O, idx)))],
                    inplace=(a.id,) if isinstance(a, N.Name) else ())


def _pair_total(p, v, args, kw, out):
    return Lowering(O, pre=[N.Eval(N.Call(N.Attr(args[0], "total_into"), (O,)))])


HELPERS = {
    _rt.pair_total: _pair_total,
    _rt.index_accumulate: _index_accumulate,
    _rt.unbroadcast: _unbroadcast,
    _rt.sum_adjoint: _sum_adjoint,
    _rt.mean_adjoint: _mean_adjoint,
    _rt.extremum_adjoint: _extremum_adjoint,
    _rt.tie_weight: _tie_weight,
    _rt.clip_mask: _clip_mask,
    _rt.at_precision: _at_precision,
    _rt.half_matmul: _half_matmul,
    _rt.index_adjoint: _index_adjoint,
    _rt.matmul_adjoint_a: _matmul_adjoint("a"),
    _rt.matmul_adjoint_b: _matmul_adjoint("b"),
    _rt.zeros_like: _zeros_like,
}


# helpers whose value (a Python value, not an array) follows from their
# operands' shapes: static wherever those shapes are (filled by the package)
SHAPE_VALUES = []


def helper_lowering(fn):
    try:
        return HELPERS.get(fn)
    except TypeError:       # unhashable
        return None
