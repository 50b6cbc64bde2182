"""Runtime helpers for code compiled by Numba (``backend="numba"``) that
take the arguments generated code passes as they come: a name Numba types
as optional (``some``), the pieces of a sequence literal
(``concatenate_piece``, ``builtin_extremum_adjoint``).  Each is the same
function as its namesake in the Python runtime; :mod:`numba_helpers`
holds the rest and the conventions."""

from __future__ import annotations

import numpy as np
from numba import literal_unroll, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, register_jitable

from .numba_helpers import _arr, _num, _overload, _stub, matmul_adjoint_a, matmul_adjoint_b, rev_start

# NumPy functions whose Numba versions are slow to compile (np.where: a
# second per signature), called through a helper: compiled once per
# machine and signature into the disk cache, not anew into every gradient
# (and np.array of an array, which Numba's np.array does not take)
CACHED_NUMPY = {np.where: ("where", 3), np.clip: ("clip", 3), np.array: ("array", 1)}

__all__ = ["some", "concatenate_piece", "builtin_extremum_adjoint", "where", "clip", "rev", "array",
           "dot_adjoint_a", "dot_adjoint_b"]

some = _stub("some", __name__)
concatenate_piece = _stub("concatenate_piece", __name__)
builtin_extremum_adjoint = _stub("builtin_extremum_adjoint", __name__)
where = _stub("where", __name__)
clip = _stub("clip", __name__)
rev = _stub("rev", __name__)
array = _stub("array", __name__)
dot_adjoint_a = _stub("dot_adjoint_a", __name__)
dot_adjoint_b = _stub("dot_adjoint_b", __name__)


@intrinsic
def _unwrap(typingctx, x):
    """``x``, of an optional type, as its value type (None raises TypeError)."""
    def codegen(context, builder, signature, args):
        val = context.cast(builder, args[0], signature.args[0], signature.return_type)
        return impl_ret_borrowed(context, builder, signature.return_type, val)
    return x.type(x), codegen


@_overload(some)
def _some(x):
    """An array a tape restores, for a NumPy function Numba gives no
    version for optional arguments (``np.where``): Numba types a name that
    starts as the placeholder ``None`` as optional."""
    if isinstance(x, types.NoneType):
        return None     # (typing the placeholder alone: a result of none would make the name's type optional again)
    if isinstance(x, types.Optional):
        return lambda x: _unwrap(x)
    return lambda x: x


def _arrays(seq):
    """A list or a tuple of arrays of one type (what ``[a, b]`` is)."""
    return isinstance(seq, (types.List, types.UniTuple)) and _arr(seq.dtype)


@register_jitable(no_cfunc_wrapper=True)
def _piece_bounds(arrays, ax, k):
    """Where piece ``k`` of ``np.concatenate(arrays, ax)`` starts and stops
    along ``ax``."""
    start = 0
    for i in range(k):
        start += arrays[i].shape[ax]
    return start, start + arrays[k].shape[ax]


@_overload(concatenate_piece)
def _concatenate_piece(g, arrays, axis, k):
    """Piece ``k`` of ``g``, the adjoint of ``np.concatenate(arrays, axis)``:
    a view, as the runtime's."""
    if not (_arr(g) and _arrays(arrays)) or not isinstance(k, types.Integer):
        return None
    if isinstance(axis, (types.NoneType, types.Omitted)):
        def flat(g, arrays, axis, k):
            start = 0
            for i in range(k):
                start += arrays[i].size
            p = arrays[k]
            return np.ascontiguousarray(g[start:start + p.size]).reshape(p.shape)
        return flat
    if not isinstance(axis, types.Integer) or g.ndim > 3:
        return None
    nd = g.ndim
    if nd == 1:
        def one(g, arrays, axis, k):
            start, stop = _piece_bounds(arrays, 0, k)
            return g[start:stop]
        return one

    def impl(g, arrays, axis, k):
        ax = axis % nd
        start, stop = _piece_bounds(arrays, ax, k)
        if ax == 0:
            return g[start:stop]
        if ax == 1:
            return g[:, start:stop]
        return g[..., start:stop]
    return impl


@_overload(builtin_extremum_adjoint)
def _builtin_extremum_adjoint(g, ans, args, k):
    """``max(a, b, ...)``/``min(...)`` of numbers: ``g`` for the argument
    Python returned, the first equal to the result (a NaN result: the first
    NaN, the only way a NaN is returned), 0.0 for the others."""
    if not (_num(g) and _num(ans) and isinstance(k, types.Integer)):
        return None
    if isinstance(args, types.BaseTuple):
        if len(args) < 2 or not all(_num(a) for a in args):
            return None
    elif not (isinstance(args, types.List) and _num(args.dtype)):
        return None

    if isinstance(args, types.List):
        def seq(g, ans, args, k):
            for i in range(len(args)):
                a = args[i]
                if a == ans or (ans != ans and a != a):
                    return g if i == k else g * 0.0
            return g * 0.0
        return seq

    def impl(g, ans, args, k):
        i = 0
        win = -1
        for a in literal_unroll(args):
            if win < 0 and (a == ans or (ans != ans and a != a)):
                win = i
            i += 1
        return g if win == k else g * 0.0
    return impl


@_overload(where)
def _where(c, x, y):
    """``np.where(c, x, y)``, cached."""
    return lambda c, x, y: np.where(c, x, y)


@_overload(clip)
def _clip(a, lo, hi):
    """``np.clip(a, lo, hi)``, cached."""
    return lambda a, lo, hi: np.clip(a, lo, hi)


@_overload(rev)
def _rev(x):
    """``reversed(x)`` of a range held in a name, an array or a list: a range
    counting down, a reversed view, a reversed copy."""
    if isinstance(x, types.RangeType):
        return lambda x: range(rev_start(x.start, x.stop, x.step), x.start - x.step, -x.step)
    if _arr(x) or isinstance(x, types.List):
        return lambda x: x[::-1]
    return None


@_overload(array)
def _array(x):
    """``np.array(x)``: a copy of an array (Numba's np.array takes
    sequences only)."""
    if _arr(x):
        return lambda x: x.copy()
    return lambda x: np.array(x)


def _vectors_or_matrices(a, b):
    return _arr(a) and _arr(b) and 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2


@_overload(dot_adjoint_a)
def _dot_adjoint_a(g, a, b):
    """``np.dot(a, b)``'s adjoint for ``a``, vectors and matrices: ``@``'s."""
    if _vectors_or_matrices(a, b):
        return lambda g, a, b: matmul_adjoint_a(g, a, b)
    return None


@_overload(dot_adjoint_b)
def _dot_adjoint_b(g, a, b):
    if _vectors_or_matrices(a, b):
        return lambda g, a, b: matmul_adjoint_b(g, a, b)
    return None
