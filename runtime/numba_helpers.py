"""The runtime helpers for code compiled by Numba (``backend="numba"``,
issue 15).

Each helper here is the same function as its namesake in ``core``,
``indexing``, ``reductions`` and ``linalg``, for the types Numba sees in a
compiled gradient: numbers and arrays, never the symbolic ``ZERO``, ``Like``
descriptors or containers (``s2sad/backends/numba_lower.py`` emits calls to
these only, and a call with other types fails to compile, which sends that
signature back to the Python code with a located message).  The choice of
implementation is made per argument type at compile time (``overload``), so
the compiled code holds one branch-free loop body per signature.

Importing this module imports Numba (the ``numba`` extra); nothing else in
the runtime does.
"""

from __future__ import annotations

import numpy as np
import llvmlite.ir as ir
from numba import njit, types
from numba.np.numpy_support import as_dtype, from_dtype
from numba.extending import intrinsic, overload, register_jitable

__all__ = [
    "like", "zeros_like", "accumulate", "unbroadcast", "grad_out", "check_scalar_output", "copy_slot", "zero_slot",
    "zero_slot_inplace", "index_adjoint", "index_accumulate", "index_accumulate_inplace", "sum_adjoint",
    "mean_adjoint", "matmul_adjoint_a", "matmul_adjoint_b", "transpose_adjoint", "elem", "is_array", "own",
    "view_sync", "view_rederive", "broadcast_as", "fresh", "tie_weight", "clip_mask", "log_or_zero", "sign",
    "reshape_adjoint", "extremum_adjoint", "add_inplace", "matmul_adjoint_a_accumulate",
    "grad_out_same_shape", "tanh", "zero_grad", "matmul",
]


def _stub(name, module=__name__):
    """The Python function the overloads of helper ``name`` of ``module``
    (its namesake for compiled code) are registered on."""
    def f(*args):
        raise TypeError(f"{module}.{name} is for code compiled by Numba only")
    f.__name__ = name
    f.__qualname__ = name
    f.__module__ = module
    return f


for _n in __all__:
    globals()[_n] = _stub(_n)


def _overload(fn, **jit_options):
    """``numba.extending.overload`` without the C-callable wrapper Numba
    otherwise compiles for every helper (a helper is never a first-class
    function value): a tenth of a compile's time."""
    return overload(fn, jit_options={"no_cfunc_wrapper": True, "cache": True, **jit_options})


def _arr(t):
    return isinstance(t, types.Array)


def _num(t):
    return isinstance(t, (types.Number, types.Boolean))


def _float_dtype(t):
    """The dtype of a zero adjoint of an array of dtype ``t``."""
    return t if isinstance(t, types.Float) else types.float64


# --------------------------------------------------------------------------
# adjoint values


@_overload(like)  # noqa: F821 - defined by the loop above
def _like(x):
    return lambda x: x      # the rank is static: the array itself serves as its shape


@_overload(zeros_like)  # noqa: F821
def _zeros_like(x):
    if _num(x):
        return lambda x: 0.0
    if _arr(x):
        dt = _float_dtype(x.dtype)
        return lambda x: _full(x.shape, 0.0, dt)
    return None


@_overload(accumulate)  # noqa: F821
def _accumulate(a, b):
    if (_num(a) or _arr(a)) and (_num(b) or _arr(b)):
        return lambda a, b: a + b
    return None


@register_jitable(no_cfunc_wrapper=True)
def _full(shape, v, dt):
    """``np.full(shape, v, dt)``, the one allocation the helpers compile
    (per rank): ``np.zeros`` and ``np.full`` compile twice its code."""
    out = np.empty(shape, dt)
    out[...] = v
    return out


@register_jitable(no_cfunc_wrapper=True)
def _sum_to(g, shape):
    """``g`` summed over the axes it was broadcast along to reach ``shape``
    (``len(shape) <= g.ndim``): a C-ordered array of that shape."""
    out = np.zeros(shape, g.dtype)
    flat = out.reshape(-1)
    lead = g.ndim - len(shape)
    cstride = np.ones(len(shape), np.int64)
    for ax in range(len(shape) - 2, -1, -1):
        cstride[ax] = cstride[ax + 1] * shape[ax + 1]
    for idx in np.ndindex(g.shape):
        off = 0
        for ax in range(len(shape)):
            if shape[ax] != 1:
                off += idx[ax + lead] * cstride[ax]
        flat[off] += g[idx]
    return out


@_overload(unbroadcast)  # noqa: F821
def _unbroadcast(g, x):
    if _num(x):
        if _num(g):
            return lambda g, x: g
        if _arr(g):
            return lambda g, x: g.sum()
        return None
    if not _arr(x):
        return None
    if _num(g):
        return lambda g, x: np.zeros(x.shape, np.float64) + g
    if not _arr(g):
        return None
    if g.ndim < x.ndim:
        return lambda g, x: np.zeros(x.shape, g.dtype) + g
    if g.ndim > x.ndim:
        return lambda g, x: _sum_to(g, x.shape)

    def impl(g, x):
        if g.shape == x.shape:
            return g
        return _sum_to(g, x.shape)
    return impl


@_overload(broadcast_as)  # noqa: F821
def _broadcast_as(g, v):
    if _num(v):
        return lambda g, v: g
    if not _arr(v):
        return None
    if _arr(g) and g.ndim == v.ndim:
        def impl(g, v):
            if g.shape == v.shape:
                return g
            return np.zeros(v.shape, g.dtype) + g
        return impl
    if _arr(g) or _num(g):
        return lambda g, v: np.zeros(v.shape, np.float64) + g
    return None


@_overload(fresh)  # noqa: F821
def _fresh(t):
    if _arr(t):
        return lambda t: t.copy()
    if _num(t):
        return lambda t: t
    return None


def _complex_onto_real(g, x):
    """A complex adjoint of a real input: not compiled (the Python code
    raises complex_value_error; Numba's casts would drop the imaginary
    part silently)."""
    def cplx(t):
        return isinstance(t.dtype if _arr(t) else t, types.Complex)
    return cplx(g) and not cplx(x)


@_overload(grad_out)  # noqa: F821
def _grad_out(g, x):
    if _complex_onto_real(g, x):
        return None
    if _num(x):
        if _num(g):
            return lambda g, x: float(g)
        if _arr(g):
            return lambda g, x: float(g.sum())
        return None
    if not _arr(x):
        return None
    dt = x.dtype if isinstance(x.dtype, types.Float) else types.float64
    if _num(g):
        return lambda g, x: _full(x.shape, g, dt)
    if _arr(g):
        if g.dtype != dt:
            def impl(g, x):
                return unbroadcast(g.astype(dt), x)  # noqa: F821
            return impl
        return lambda g, x: unbroadcast(g, x)  # noqa: F821
    return None


@_overload(check_scalar_output)  # noqa: F821
def _check_scalar_output(y):
    if _num(y):
        return lambda y: y
    if _arr(y):
        def impl(y):
            if y.size != 1:
                raise ValueError("grad needs a scalar output")
            return y
        return impl
    return None


@_overload(is_array)  # noqa: F821
def _is_array(x):
    a = _arr(x)
    return lambda x: a


@_overload(own)  # noqa: F821
def _own(x):
    if _arr(x):
        return lambda x: x.copy()
    if _num(x):
        return lambda x: x
    return None


@_overload(elem)  # noqa: F821
def _elem(g, i, like):
    if _arr(g) or isinstance(g, types.BaseTuple):
        return lambda g, i, like: g[i]
    return None


@_overload(view_sync)  # noqa: F821
def _view_sync(root, view):
    return lambda root, view: root      # the same object, as in NumPy


@_overload(view_rederive)  # noqa: F821
def _view_rederive(view, root):
    return lambda view, root: view


# --------------------------------------------------------------------------
# indexing and in-place writes


@_overload(copy_slot)  # noqa: F821
def _copy_slot(a, idx):
    if not _arr(a):
        return None
    # an element is a number (immutable); anything else a view, copied
    if _element(a, idx):
        return lambda a, idx: a[idx]
    return lambda a, idx: a[idx].copy()


def _element(a, idx):
    """Does ``a[idx]`` (array type ``a``) select one element, a number?"""
    return ((isinstance(idx, types.Integer) and a.ndim == 1)
            or (isinstance(idx, types.BaseTuple) and len(idx) == a.ndim
                and all(isinstance(t, types.Integer) for t in idx)))


def _writable_everywhere(a):
    """Does every element of ``a`` have memory of its own (no zero stride
    of a broadcast view)?"""
    for s in a.strides:
        if s == 0:
            return False
    return True


_writable = register_jitable(no_cfunc_wrapper=True)(_writable_everywhere)


def _basic(idx):
    """A basic index (integers and slices): each position written once."""
    parts = idx.types if isinstance(idx, types.BaseTuple) else (idx,)
    return all(isinstance(t, (types.Integer, types.SliceType, types.EllipsisType)) for t in parts)


@_overload(zero_slot)  # noqa: F821
def _zero_slot(a_adj, idx):
    if not _arr(a_adj):
        return None

    def impl(a_adj, idx):
        out = a_adj.copy()
        out[idx] = 0
        return out
    return impl


@_overload(zero_slot_inplace)  # noqa: F821
def _zero_slot_inplace(a_adj, idx):
    if not _arr(a_adj):
        return None

    def impl(a_adj, idx):
        if _writable(a_adj):
            a_adj[idx] = 0
            return a_adj
        out = a_adj.copy()
        out[idx] = 0
        return out
    return impl


def _fits(v, g):
    """Raise NumPy's error where array ``g`` does not broadcast to ``v``'s
    shape: Numba's ``v += g`` does not check (it reads past ``g``'s end)."""


@_overload(_fits)
def _fits_impl(v, g):
    if _arr(g):
        def impl(v, g):
            if g.ndim > v.ndim:
                raise ValueError("operands could not be broadcast together")
            for k in range(1, g.ndim + 1):
                n = g.shape[g.ndim - k]
                if n != 1 and n != v.shape[v.ndim - k]:
                    raise ValueError("operands could not be broadcast together")
        return impl
    return lambda v, g: None


@_overload(index_adjoint)  # noqa: F821
def _index_adjoint(g, x, idx):
    if not _arr(x) or not _basic(idx):
        return None
    dt = _float_dtype(x.dtype)
    if _element(x, idx):
        def one(g, x, idx):
            z = _full(x.shape, 0.0, dt)
            z[idx] = g
            return z
        return one

    def impl(g, x, idx):
        # into the view: ``z[idx] = g`` with an array ``g`` costs Numba
        # seconds of compilation (its broadcast error message), ``+=`` not
        z = _full(x.shape, 0.0, dt)
        v = z[idx]
        _fits(v, g)
        v += g
        return z
    return impl


@_overload(index_accumulate)  # noqa: F821
def _index_accumulate(a, g, x, idx):
    if not _arr(a) or not _arr(x) or not _basic(idx):
        return None
    return lambda a, g, x, idx: a + index_adjoint(g, x, idx)  # noqa: F821


@_overload(index_accumulate_inplace)  # noqa: F821
def _index_accumulate_inplace(a, g, x, idx):
    if not _arr(a) or not _arr(x) or not _basic(idx):
        return None
    if a.dtype != x.dtype:
        return lambda a, g, x, idx: a + index_adjoint(g, x, idx)  # noqa: F821

    if _element(a, idx):
        def one(a, g, x, idx):
            if a.shape == x.shape and _writable(a):
                a[idx] += g
                return a
            return a + index_adjoint(g, x, idx)  # noqa: F821
        return one

    def impl(a, g, x, idx):
        if a.shape == x.shape and _writable(a):
            v = a[idx]      # a view: its += updates a (see index_adjoint)
            _fits(v, g)
            v += g
            return a
        return a + index_adjoint(g, x, idx)  # noqa: F821
    return impl


# --------------------------------------------------------------------------
# reductions and products


@_overload(sum_adjoint)  # noqa: F821
def _sum_adjoint(g, x, axis=None, keepdims=False):
    if not isinstance(axis, (types.NoneType, types.Omitted)) and axis is not None:
        return None
    if _num(x):
        return lambda g, x, axis=None, keepdims=False: g
    if _arr(x) and _num(g):
        gt = g
        return lambda g, x, axis=None, keepdims=False: _full(x.shape, g, gt)
    return None


@_overload(mean_adjoint)  # noqa: F821
def _mean_adjoint(g, x, axis=None, keepdims=False):
    if not isinstance(axis, (types.NoneType, types.Omitted)) and axis is not None:
        return None
    if _num(x):
        return lambda g, x, axis=None, keepdims=False: g / 1.0
    if _arr(x) and _num(g):
        return lambda g, x, axis=None, keepdims=False: _full(x.shape, g / x.size, types.float64)
    return None


# products into a fresh array through ``np.dot(a, b, out)``: the BLAS call
# of ``a @ b`` at a third of its compile time (``@`` compiles NumPy's
# general matmul around it, each operand layout anew)
_BLAS = (types.float32, types.float64, types.complex64, types.complex128)


def _blas(a, b):
    return _arr(a) and _arr(b) and a.dtype == b.dtype and a.dtype in _BLAS


@register_jitable(no_cfunc_wrapper=True)
def _mv(m, v, dt):
    out = np.empty((m.shape[0],), dt)
    np.dot(m, v, out)
    return out


@register_jitable(no_cfunc_wrapper=True)
def _vm(v, m, dt):
    out = np.empty((m.shape[1],), dt)
    np.dot(v, m, out)
    return out


@register_jitable(no_cfunc_wrapper=True)
def _mm(a, b, dt):
    out = np.empty((a.shape[0], b.shape[1]), dt)
    np.dot(a, b, out)
    return out


@_overload(matmul)  # noqa: F821
def _matmul(a, b):
    if _arr(a) and _arr(b) and a.dtype in _BLAS and b.dtype in _BLAS and a.dtype != b.dtype:
        dt = from_dtype(np.result_type(as_dtype(a.dtype), as_dtype(b.dtype)))
        return lambda a, b: matmul(a.astype(dt), b.astype(dt))  # noqa: F821 - NumPy's promotion (Numba's @ refuses)
    if _blas(a, b):
        dt = a.dtype
        if a.ndim == 2 and b.ndim == 1:
            return lambda a, b: _mv(a, b, dt)
        if a.ndim == 2 and b.ndim == 2:
            return lambda a, b: _mm(a, b, dt)
        if a.ndim == 1 and b.ndim == 2:
            return lambda a, b: _vm(a, b, dt)
    return lambda a, b: a @ b


@_overload(matmul_adjoint_a)  # noqa: F821
def _matmul_adjoint_a(g, a, b):
    if not (_arr(a) and _arr(b)):
        return None
    dt = b.dtype                # of the product's operands, g and b
    if a.ndim == 2 and b.ndim == 2:
        if _blas(g, b) and g.ndim == 2:
            return lambda g, a, b: _mm(g, b.T, dt)
        return lambda g, a, b: g @ b.T
    if a.ndim == 2 and b.ndim == 1:
        return lambda g, a, b: np.outer(g, b)
    if a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * b
    if a.ndim == 1 and b.ndim == 2:
        if _blas(b, g) and g.ndim == 1:
            return lambda g, a, b: _mv(b, g, dt)
        return lambda g, a, b: b @ g
    return None


@_overload(matmul_adjoint_b)  # noqa: F821
def _matmul_adjoint_b(g, a, b):
    if not (_arr(a) and _arr(b)):
        return None
    dt = a.dtype                # of the product's operands, a and g
    if a.ndim == 2 and b.ndim in (1, 2):
        if _blas(a, g) and g.ndim == b.ndim:
            if b.ndim == 1:
                return lambda g, a, b: _mv(a.T, g, dt)
            return lambda g, a, b: _mm(a.T, g, dt)
        return lambda g, a, b: a.T @ g
    if a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * a
    if a.ndim == 1 and b.ndim == 2:
        return lambda g, a, b: np.outer(a, g)
    return None


@_overload(transpose_adjoint)  # noqa: F821
def _transpose_adjoint(g, axes):
    if isinstance(axes, (types.NoneType, types.Omitted)) and _arr(g):
        return lambda g, axes: np.transpose(g)
    return None


# --------------------------------------------------------------------------
# loops counting down (``reversed(range(a, b, s))`` in a reverse sweep)


@register_jitable(no_cfunc_wrapper=True)
def range_len(a, b, s):
    """How many values ``range(a, b, s)`` has."""
    return max((b - a + s - (1 if s > 0 else -1)) // s, 0)


@register_jitable(no_cfunc_wrapper=True)
def tape_reserve(tape, top, more):
    """A tape kept as an array (filled up to ``top``) with room for
    ``more`` values more: itself, or a copy at least twice as large."""
    need = top + more
    if need <= tape.shape[0]:
        return tape
    new = np.empty(max(need, 2 * tape.shape[0]), tape.dtype)
    for i in range(top):        # (a loop: a slice assignment compiles Numba's broadcasting)
        new[i] = tape[i]
    return new


@register_jitable(no_cfunc_wrapper=True)
def rev_start(a, b, s):
    """The last value of ``range(a, b, s)`` (``a - s`` when it is empty),
    where ``range(rev_start(a, b, s), a - s, -s)`` counts it down."""
    return a + (range_len(a, b, s) - 1) * s


@register_jitable(no_cfunc_wrapper=True)
def range_cut(a, b, s, cut):
    """A stop ``b2`` with ``range(a, b2, s) == range(a, b, s)[:cut]``."""
    n = range_len(a, b, s)
    m = min(n, cut) if cut >= 0 else max(n + cut, 0)
    return a + m * s


# --------------------------------------------------------------------------
# masks and weights of elementwise derivatives, reshapes, extrema


def _f64(t):
    return (_num(t) and not isinstance(t, types.Complex)) or (_arr(t) and t.dtype == types.float64)


@_overload(tie_weight)  # noqa: F821
def _tie_weight(x, y):
    if not (_f64(x) and _f64(y)):
        return None
    if _num(x) and _num(y):
        return lambda x, y: 1.0 if x > y else (0.5 if x == y else 0.0)
    return lambda x, y: (x > y) * 1.0 + 0.5 * (x == y)


@_overload(clip_mask)  # noqa: F821
def _clip_mask(a, lo, hi):
    if not _f64(a):
        return None
    lo_none = isinstance(lo, (types.NoneType, types.Omitted))
    hi_none = isinstance(hi, (types.NoneType, types.Omitted))
    if lo_none and hi_none:
        return lambda a, lo, hi: 1.0
    if lo_none:
        return lambda a, lo, hi: 1.0 * (a <= hi)
    if hi_none:
        return lambda a, lo, hi: 1.0 * (a >= lo)
    return lambda a, lo, hi: 1.0 * (a >= lo) * (a <= hi)


@_overload(log_or_zero)  # noqa: F821
def _log_or_zero(x):
    if _num(x):
        return lambda x: np.log(x) if x > 0 else 0.0
    if _f64(x):
        return lambda x: np.log(np.where(x > 0, x, 1.0))
    return None


@_overload(sign)  # noqa: F821
def _sign(x):
    if _num(x):
        return lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
    if _f64(x):
        return lambda x: np.sign(x)
    return None


@_overload(reshape_adjoint)  # noqa: F821
def _reshape_adjoint(g, x, order="C"):
    if not (_arr(g) and _arr(x)):
        return None
    if isinstance(order, types.Omitted) or (isinstance(order, types.StringLiteral) and order.literal_value == "C"):
        return lambda g, x, order="C": np.ascontiguousarray(g).reshape(x.shape)
    return None


@_overload(extremum_adjoint)  # noqa: F821
def _extremum_adjoint(g, ans, x, axis=None, keepdims=False):
    if not isinstance(axis, (types.NoneType, types.Omitted)):
        return None
    if _num(x):
        return lambda g, ans, x, axis=None, keepdims=False: g
    if _f64(x) and _num(g):
        def impl(g, ans, x, axis=None, keepdims=False):
            mask = x == ans
            return g * mask / np.float64(mask.sum())
        return impl
    return None


# --------------------------------------------------------------------------
# adjoints accumulated in place (s2sad/backends/numba_simplify.py proves
# that nothing else holds the accumulator and that the shapes agree)


def _real(t):
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


@_overload(add_inplace)  # noqa: F821
def _add_inplace(a, b):
    if not _arr(a) or not (_arr(b) or _num(b)):
        return None
    if a.dtype != types.float64 or not _real(b.dtype if _arr(b) else b):
        return lambda a, b: a + b       # the sum may not have a's dtype: a new array, as in Python

    def impl(a, b):
        _fits(a, b)
        a += b
        return a
    return impl


@_overload(matmul_adjoint_a_accumulate)  # noqa: F821
def _matmul_adjoint_a_accumulate(acc, g, a, b):
    if not (_arr(acc) and _arr(a) and _arr(b)):
        return None
    if acc.dtype != types.float64 or not all(_real(t.dtype) for t in (a, b)) or not _real(g.dtype if _arr(g) else g):
        return lambda acc, g, a, b: acc + matmul_adjoint_a(g, a, b)  # noqa: F821 - as in Python
    if a.ndim == 2 and b.ndim == 1 and _arr(g) and g.ndim == 1:
        def impl(acc, g, a, b):
            m, k = acc.shape
            for i in range(m):
                gi = g[i]
                for j in range(k):
                    acc[i, j] += gi * b[j]
            return acc
        return impl

    def impl(acc, g, a, b):
        acc += matmul_adjoint_a(g, a, b)  # noqa: F821
        return acc
    return impl


@_overload(grad_out_same_shape)  # noqa: F821
def _grad_out_same_shape(g, x):
    """``grad_out(g, x)`` where ``g`` is known to have ``x``'s shape (no
    summing to compile)."""
    if not _arr(x) or _complex_onto_real(g, x):
        return None
    dt = x.dtype if isinstance(x.dtype, types.Float) else types.float64
    if _num(g):
        return lambda g, x: _full(x.shape, g, dt)
    if _arr(g) and g.dtype == dt:
        return lambda g, x: g
    if _arr(g):
        return lambda g, x: g.astype(dt)
    return None


# --------------------------------------------------------------------------
# tanh of a float64 array in a loop the compiler vectorises: libm's tanh is
# one call per element (some 9 ns), and it dominates a small network's
# forward sweep.  expm1(2|x|) by range reduction (2|x| = k ln 2 + r,
# |r| <= ln 2 / 2) and a degree-13 Taylor polynomial of expm1(r) (truncation
# below 2e-17 relative), then tanh = e / (e + 2): within 3 ulp of NumPy's
# (tests/test_numba_backend.py checks it); tanh(+-0) = +-0, NaN stays NaN,
# |x| >= 22 gives +-1 exactly, as in libm.

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00


@intrinsic
def _pow2(typingctx, k):
    """2.0 ** k for an int64 ``k`` in [-1022, 1023], built from its bits."""
    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        bits = builder.shl(builder.add(args[0], ir.Constant(i64, 1023)), ir.Constant(i64, 52))
        return builder.bitcast(bits, ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always", error_model="numpy")
def _tanh_kernel(x):
    a = abs(x)
    if a > 22.0:
        a = 22.0
    y = a + a
    kf = np.floor(y * _INV_LN2 + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    p = r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (
            1 / 479001600 + r * (1 / 6227020800)))))))))))))
    t = _pow2(np.int64(kf))
    e = t * p + (t - 1.0)
    v = np.copysign(e / (e + 2.0), x)
    return v if x == x else x


@register_jitable(error_model="numpy", boundscheck=False, no_cfunc_wrapper=True)
def _tanh_into(xf, of):
    for i in range(xf.shape[0]):
        of[i] = _tanh_kernel(xf[i])
    return of


@_overload(tanh)  # noqa: F821
def _tanh(x):
    # the allocations outside the loop's function: compiled with its own
    # options, it would compile them a second time
    if _arr(x) and x.dtype == types.float64:
        if x.ndim == 1:
            return lambda x: _tanh_into(x, np.empty(x.shape, types.float64))

        def impl(x):
            xc = np.ascontiguousarray(x)
            out = np.empty(xc.shape, types.float64)
            _tanh_into(xc.reshape(-1), out.reshape(-1))
            return out
        return impl
    return lambda x: np.tanh(x)


@_overload(zero_grad)  # noqa: F821
def _zero_grad(x):
    """``grad_out(ZERO, x)``: the gradient of an input nothing depends on."""
    if _num(x):
        return lambda x: 0.0
    if _arr(x):
        dt = x.dtype if isinstance(x.dtype, types.Float) else types.float64
        return lambda x: _full(x.shape, 0.0, dt)
    return None
