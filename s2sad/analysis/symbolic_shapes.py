"""Which names of a generated function hold arrays of a shape the call's
arguments fix, in symbols: read by the Numba backend's simplification
(:mod:`s2sad.backends.numba_simplify`) to drop ``unbroadcast`` calls that
cannot change their argument, to accumulate adjoints in place and to drop
tapes kept only for a shape.

Shapes are tuples of **dimension symbols** taken from the arguments: every
dimension of an array argument gets the symbol of its size class -- sizes
that are equal share one symbol, and a dimension of size 1 is ``ONE``.
:func:`shape_key` gives that pattern for one call; a compiled variant is
keyed by it, so a fact proved here holds for every call that runs the
variant (any sizes, as long as the same dimensions are equal, different or
1).  Two different symbols are two different sizes, neither of them 1: the
broadcast of ``(a,)`` and ``(b,)`` fails at run time, and the pass says
nothing about it.

Like :mod:`s2sad.analysis.scalar_types`, the pass is flow-insensitive: a
name's shape is the join of what every assignment to it (and every value
pushed to a tape slot it is restored from) may give; the placeholder
``None`` joins away.  Anything it does not follow -- a slice, a reshape, a
shape computed from data, an outside array -- is ``TOP`` (unknown), and so
is everything computed from it.
"""

from __future__ import annotations

import builtins

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.analysis.scalar_types import LIKE_ARRAY, NONE, TOP, is_range, is_scalar, join_known, start_unknown
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, targets

ONE = 1         # the symbol of a dimension of size 1

# helpers whose result has the shape of argument k
_SHAPE_OF_ARG = {_rt.like: 0, _rt.zeros_like: 0, _rt.unbroadcast: 1, _rt.broadcast_as: 1, _rt.grad_out: 1,
                 _rt.sum_adjoint: 1, _rt.mean_adjoint: 1, _rt.matmul_adjoint_a: 1, _rt.matmul_adjoint_b: 2,
                 _rt.fresh: 0, _rt.own: 0, _rt.view_sync: 0, _rt.view_rederive: 0, _rt.sign: 0,
                 _rt.log_or_zero: 0, _rt.zero_slot: 0, _rt.zero_slot_inplace: 0}
# helpers whose result has the broadcast shape of all their arguments
_BROADCASTING = {_rt.accumulate, _rt.tie_weight}
_FULL_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.vdot}


def shape_key(args):
    """The dimension pattern of a call's arguments: per argument, the
    symbols of an array's dimensions (None for anything else)."""
    classes = {}
    key = []
    for a in args:
        if type(a) is np.ndarray:
            key.append(tuple(ONE if s == 1 else classes.setdefault(s, -2 - len(classes)) for s in a.shape))
        else:
            key.append(None)
    return tuple(key)


def _param_shape(pattern, value_type):
    if pattern is not None:
        return pattern
    if is_scalar(value_type):
        return ()
    return TOP


class Shapes:
    """The result: ``names`` (name -> shape: a tuple of symbols, ``NONE``
    or ``TOP``) and :meth:`of` for any expression of the program."""

    def __init__(self, names, pushes, types):
        self.names = names
        self.pushes = pushes
        self.types = types

    def of(self, e):
        s = shape_of(e, self)
        return s if known(s) else TOP


def symbolic_shapes(fdef, pattern, arg_types, types):
    """The :class:`Shapes` of ``fdef``'s names for a call whose arguments
    have the dimension pattern ``pattern`` (:func:`shape_key`) and scalar
    types ``arg_types`` (:func:`s2sad.analysis.scalar_types.value_type`);
    ``types``: the scalar types of its names
    (:func:`s2sad.analysis.scalar_types.scalar_types`)."""
    shapes = {p: TOP for p in fdef.params}
    for p, pat, t in zip(fdef.params, pattern, arg_types):
        shapes[p] = _param_shape(pat, t)
    stmts = list(iter_stmts(fdef.body, defs=True))
    start_unknown(stmts, shapes)
    table = Shapes(shapes, {}, types)
    for _ in range(50):
        changed = False
        for s in stmts:
            new = {}
            if isinstance(s, N.Assign) and isinstance(s.target, N.Name):
                new[s.target.id] = shape_of(s.value, table)
            elif isinstance(s, N.Assign):
                # (a write into an element or a slice keeps the array's shape)
                for t in targets(s):
                    new[t] = TOP
            elif isinstance(s, N.For):
                new[s.target] = () if is_range(s.iter) else TOP
            elif isinstance(s, N.Push):
                new[("slot", s.slot)] = shape_of(s.value, table)
            for k, t in new.items():
                store = table.pushes if isinstance(k, tuple) else shapes
                j = join(store.get(k), t)
                if j != store.get(k):
                    store[k] = j
                    changed = True
        if not changed:
            return table
    return Shapes({k: TOP for k in shapes}, {}, types)      # (cannot happen: the lattice is flat)


def join(a, b):
    j = join_known(a, b)
    return TOP if j is None and a is not None and b is not None else j


def known(s):
    """Is ``s`` a shape (a tuple of symbols), not ``NONE``/``TOP``/unset?"""
    return s is not None and s != NONE and s != TOP


def broadcast(*shapes):
    """The broadcast of symbolic shapes, or ``TOP`` when it is not known
    (or would fail at run time)."""
    if not all(known(s) for s in shapes):
        return TOP
    n = max(len(s) for s in shapes)
    out = []
    for i in range(n):
        dims = {s[len(s) - n + i] for s in shapes if len(s) - n + i >= 0} - {ONE}
        if len(dims) > 1:
            return TOP
        out.append(dims.pop() if dims else ONE)
    return tuple(out)


def _matmul(a, b):
    if not (known(a) and known(b)) or len(a) not in (1, 2) or len(b) not in (1, 2):
        return TOP
    if a[-1] != (b[0] if len(b) == 1 else b[-2]):
        return TOP
    return a[:-1] + b[1:] if len(b) == 2 else a[:-1]


def _pending(*shapes):
    """Is an operand not known yet (during the fixed point), or only ever
    the placeholder None (then the operation fails at run time and gives
    nothing)?"""
    return any(s is None or s == NONE for s in shapes)


def shape_of(e, t):
    """The symbolic shape of expression ``e`` in table ``t`` (None: not
    known yet, during the fixed point)."""
    if isinstance(e, N.Const):
        v = e.value
        if v is None:
            return NONE
        return () if isinstance(v, (bool, int, float, complex)) else TOP
    if isinstance(e, N.Name):
        return t.names.get(e.id)
    if isinstance(e, N.Pop):
        return t.pushes.get(("slot", e.slot))
    if isinstance(e, N.BinOp):
        a, b = shape_of(e.left, t), shape_of(e.right, t)
        if _pending(a, b):
            return None
        return _matmul(a, b) if e.op == "MatMult" else broadcast(a, b)
    if isinstance(e, N.UnaryOp):
        a = shape_of(e.operand, t)
        if _pending(a):
            return None
        return a if e.op != "Not" or a == () else TOP
    if isinstance(e, N.Compare):
        parts = [shape_of(x, t) for x in (e.left, *e.comparators)]
        if _pending(*parts):
            return None
        if any(op in ("Is", "IsNot", "In", "NotIn") for op in e.ops):
            return TOP
        return broadcast(*parts) if len(parts) == 2 else (() if all(p == () for p in parts) else TOP)
    if isinstance(e, N.IfExp):
        return join(shape_of(e.body, t), shape_of(e.orelse, t))
    if isinstance(e, N.Sub):
        return _subscript(e, t)
    if isinstance(e, N.Attr) and e.attr == "T" and not is_static(e):
        a = shape_of(e.value, t)
        return a if not known(a) else tuple(reversed(a))
    if isinstance(e, N.Call):
        return _call(e, t)
    return TOP


def _subscript(e, t):
    base = shape_of(e.value, t)
    if _pending(base):
        return None
    if not known(base):
        return TOP
    idx = e.index.elts if isinstance(e.index, N.Tuple) else (e.index,)
    if len(idx) > len(base):
        return TOP
    if not all(_int_index(c, t.types) for c in idx):
        return TOP              # a slice, an index array, a bool: not followed
    # integer indices only: the leading dimensions go
    return base[len(idx):]


_INT_OPS = ("Add", "Sub", "Mult", "FloorDiv", "Mod")


def element_index(idx, shape, types):
    """Does index expression ``idx`` select one element (a number) of an
    array of symbolic shape ``shape``: an integer per dimension?"""
    if not known(shape):
        return False
    parts = idx.elts if isinstance(idx, N.Tuple) else (idx,)
    return len(parts) == len(shape) and all(_int_index(c, types) for c in parts)


def _int_index(c, types):
    """Is index ``c`` certainly an integer (a literal, a name the scalar
    types say is an integer, arithmetic on those)?"""
    if isinstance(c, N.Const):
        return type(c.value) is int
    if isinstance(c, N.Name):
        t = types.get(c.id)
        return is_scalar(t) and t[1] == "int64"
    if isinstance(c, N.BinOp) and c.op in _INT_OPS:
        return _int_index(c.left, types) and _int_index(c.right, types)
    if isinstance(c, N.UnaryOp) and c.op == "USub":
        return _int_index(c.operand, types)
    return False


def _call(e, t):
    if isinstance(e.func, N.Attr) and e.func.attr == "copy" and not e.args and not e.kwargs \
            and not is_static(e.func):
        return shape_of(e.func.value, t)
    if not is_static(e.func):
        return TOP
    f = static_value(e.func)
    for h, k in _SHAPE_OF_ARG.items():
        if f is h:
            if k >= len(e.args):
                return TOP
            s = shape_of(e.args[k], t)
            return s if _pending(s) or known(s) else TOP
    if f in LIKE_ARRAY and e.args and not e.kwargs:
        s = shape_of(e.args[0], t)
        return s if _pending(s) or known(s) else TOP
    if f is _rt.copy_slot and len(e.args) == 2:
        return _subscript(N.Sub(e.args[0], e.args[1]), t)      # (a copy of the same shape)
    if (f is _rt.index_accumulate or f is _rt.index_accumulate_inplace) and len(e.args) == 4:
        a, x = shape_of(e.args[0], t), shape_of(e.args[2], t)    # a, or a + index_adjoint(g, x, idx)
        return None if _pending(a, x) else broadcast(a, x)
    args = [shape_of(a, t) for a in e.args]
    if _pending(*args):
        return None
    if any(f is h for h in _BROADCASTING) or (isinstance(f, np.ufunc) and f.nout == 1 and f.signature is None
                                              and not e.kwargs):
        return broadcast(*args)
    if f in _FULL_REDUCTIONS and len(e.args) == 1 and not e.kwargs:
        return ()
    if f in (builtins.float, builtins.int):
        return ()
    if f is builtins.abs and len(args) == 1:
        return args[0] if known(args[0]) else TOP
    return TOP
