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

from s2sad_runtime.numba_helpers import _arr, _num, _overload, _stub

__all__ = ["some", "concatenate_piece", "builtin_extremum_adjoint"]

some = _stub("some", __name__)
concatenate_piece = _stub("concatenate_piece", __name__)
builtin_extremum_adjoint = _stub("builtin_extremum_adjoint", __name__)


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

    @register_jitable
    def bounds(arrays, ax, k):
        start = 0
        for i in range(k):
            start += arrays[i].shape[ax]
        return start, start + arrays[k].shape[ax]

    if nd == 1:
        def one(g, arrays, axis, k):
            start, stop = bounds(arrays, 0, k)
            return g[start:stop]
        return one

    def impl(g, arrays, axis, k):
        ax = axis % nd
        start, stop = bounds(arrays, ax, k)
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
