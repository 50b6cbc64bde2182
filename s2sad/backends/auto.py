"""``backend="auto"``: which signatures the Numba backend compiles."""

from __future__ import annotations

import numpy as np

from s2sad.analysis.prims import is_static, static_value
from s2sad.analysis.scalar_types import expr_type, is_scalar, scalar_types, value_type
from s2sad.analysis.symbolic_shapes import known, shape_key, symbolic_shapes
from s2sad.ir import nodes as N
from s2sad.ir.visit import head_exprs, iter_stmts, walk


def prefers_numba(fdef, args=None):
    """``backend="auto"``: compile code with loops whose matrix products
    each have a vector operand (matrix-vector, vector-vector), and no other
    products.  Loops over numbers, elements and small vectors gain most
    (bench/compiled.py: 2x to 70x over the Python backend, the neural ODE
    6x); loops of matrix-matrix products (the LSTM) are BLAS-bound and lose.
    Without ``args`` the ranks are not known yet: matrix products pass (the
    compiled function asks again per signature)."""
    return loops(fdef) and not multiplies_matrices(fdef, args)


def loops(fdef):
    """Has ``fdef`` a ``for`` or ``while`` loop?"""
    return any(isinstance(s, (N.For, N.While)) for s in iter_stmts(fdef.body))


def multiplies_matrices(fdef, args=None):
    """Does ``fdef`` (called with ``args``) multiply a matrix by a matrix:
    a product with no vector operand, or a contraction whose ranks are not
    followed (``einsum``, ``tensordot``, ``solve``...)?  Its time is then
    BLAS's.  Without ``args`` plain products do not count (ranks unknown)."""
    shapes = _shapes(fdef, args) if args is not None else None
    for s in iter_stmts(fdef.body):
        for e in head_exprs(s):
            for x in walk(e):
                ops = _product_operands(x)
                if ops is not None:
                    if shapes is not None and not _has_vector(shapes, *ops):
                        return True
                    continue
                if isinstance(x, N.Attr) and x.attr in _PRODUCTS:
                    return True
                if isinstance(x, N.Static) and getattr(x.obj, "__name__", None) in _PRODUCTS:
                    return True
    return False


def _shapes(fdef, args):
    types = [value_type(a) for a in args]
    return symbolic_shapes(fdef, shape_key(args), types, scalar_types(fdef, dict(zip(fdef.params, types))))


def _has_vector(shapes, *operands):
    """Is one of ``operands`` a vector (or a number): by its symbolic shape,
    else by the rank the scalar types follow (``np.concatenate`` of vectors)."""
    for o in operands:
        r = shapes.of(o)
        if known(r):
            if len(r) <= 1:
                return True
            continue
        t = expr_type(o, shapes.types)
        if t is not None and (is_scalar(t) or (t[0] == "a" and t[1] <= 1)):
            return True
    return False


def _product_operands(x):
    """The two operands of ``x`` when it is a product whose ranks decide
    (``a @ b``, ``np.dot(a, b)``, ``a.dot(b)``, their adjoints), else None."""
    if isinstance(x, N.BinOp) and x.op == "MatMult":
        return x.left, x.right
    if not isinstance(x, N.Call) or x.kwargs:
        return None
    f = x.func
    if isinstance(f, N.Attr) and f.attr in _PRODUCT_ADJOINTS and len(x.args) >= 3:
        return x.args[1], x.args[2]
    if (isinstance(f, N.Static) and f.obj is np.dot) or (isinstance(f, N.Attr) and f.attr == "dot"
                                                          and is_static(f) and static_value(f) is np.dot):
        return tuple(x.args) if len(x.args) == 2 else None
    if isinstance(f, N.Attr) and f.attr == "dot" and not is_static(f) and len(x.args) == 1:
        return f.value, x.args[0]           # a.dot(b)
    return None


_PRODUCT_ADJOINTS = {"matmul_adjoint_a", "matmul_adjoint_b", "dot_adjoint_a", "dot_adjoint_b"}
_PRODUCTS = {"matmul", "einsum", "tensordot", "inner", "outer", "einsum_adjoint", "tensordot_adjoint", "solve"}
