"""Adjoint values themselves: the symbolic zero ``ZERO`` of a container
element, ``Like`` descriptors saved instead of arrays read only for their
shape, broadcasting an adjoint back to its operand (``unbroadcast``),
zeros, accumulation, finalising an input's adjoint (``grad_out``), and the
checks generated code makes at run time."""

from __future__ import annotations

import numpy as np
from .namespaces import dtype_kind

_PY_SCALARS = (float, int, complex, bool)


class _Zero:
    """The symbolic zero adjoint of an element of a container (list, tuple,
    dict) that nothing has flowed into yet.  Adding anything to it returns
    that thing; ``elem`` and ``grad_out`` turn it into real zeros."""

    __slots__ = ()
    __array_ufunc__ = None   # make NumPy defer to our reflected operators

    def __repr__(self):
        return "ZERO"

    def __add__(self, other):
        return other

    __radd__ = __add__

    def __neg__(self):
        return self

    def __mul__(self, other):
        return self

    __rmul__ = __mul__


ZERO = _Zero()


_PROTOS = {}   # (array type, dtype) -> an empty array of that library


class Like:
    """What an adjoint needs of a value it reads only for its shape: the
    shape, the dtype, and an empty array of the same array library (so
    zeros made from it land on the same device).  Saving this instead of
    the array lets a loop free the array."""

    __slots__ = ("shape", "dtype", "proto")

    def __init__(self, x):
        self.shape = x.shape
        self.dtype = dt = x.dtype
        key = (type(x), dt, getattr(x, "device", None))
        proto = _PROTOS.get(key)
        if proto is None:
            proto = _PROTOS[key] = np.empty_like(x, shape=(0,))
        self.proto = proto

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"Like(shape={self.shape}, dtype={self.dtype})"


_LIKES = {}   # (array type, shape, dtype, device) -> its Like (immutable, shared)


def like(x):
    """A :class:`Like` descriptor of an array; numbers and other values are
    kept as they are (they are small).  Descriptors are shared between
    arrays of the same kind, so a loop saving them allocates nothing after
    its first iteration."""
    t = type(x)
    if t is float or t is np.float64 or t is int or x is None:
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype") and getattr(x, "ndim", 0) > 0:
        key = (type(x), x.shape, x.dtype, getattr(x, "device", None))
        d = _LIKES.get(key)
        if d is None:
            if len(_LIKES) > 4096:
                _LIKES.clear()
            d = _LIKES[key] = Like(x)
        return d
    return x


def is_float_dtype(dt):
    """Is ``dt`` a floating dtype: NumPy's own, or one registered by
    ``ml_dtypes`` (``bfloat16`` has kind ``'V'`` but a ``finfo``)?"""
    if dt is None:
        return False
    kind = dtype_kind(dt)
    if kind == "f":
        return True
    if kind != "V":
        return False
    try:
        np.finfo(dt)
    except (TypeError, ValueError):
        return False
    return True


def float_dtype(*vals):
    """The dtype an adjoint of ``vals`` takes: the promotion of the float
    (or complex) dtypes among them, so that a float32 array keeps its
    adjoint in float32 (``np.result_type(x, float)`` would make it float64).
    Python numbers, integers and booleans add nothing; float64 when no
    value has a float dtype, complex when a Python complex is among them."""
    dts = []
    cplx = False
    for v in vals:
        dt = getattr(v, "dtype", None)
        if dt is None:
            cplx = cplx or isinstance(v, complex)
        elif is_float_dtype(dt) or dtype_kind(dt) == "c":
            dts.append(dt)
    out = np.result_type(*dts) if dts else np.dtype(np.float64)
    if cplx and out.kind != "c":
        out = np.result_type(out, np.complex64)
    return out


def _shape(x):
    s = getattr(x, "shape", None)
    return () if s is None else tuple(s)


def is_lazy(x):
    """Is ``x`` a lazy collection (a Dask array or scalar)?  Its adjoints
    stay lazy: helpers do not turn them into numbers or NumPy arrays, which
    would compute the graph once per gradient (``s2sad.dask`` computes all
    of a call's gradients in one go)."""
    return getattr(type(x), "__dask_graph__", None) is not None


# --------------------------------------------------------------------------
# broadcasting


def unbroadcast(g, x):
    """Sum the adjoint ``g`` of a broadcast result down to the shape of ``x``.

    Python scalars get Python scalars back (``float`` stays ``float``), NumPy
    and CuPy arrays keep their type.  When the shapes already match this is
    one attribute read and one comparison.
    """
    tg, tx = type(g), type(x)
    if (tx is float or tx is np.float64) and (tg is float or tg is np.float64):
        return g        # (the common case of element loops, first)
    if g is ZERO:
        return g
    if isinstance(x, _PY_SCALARS):
        if isinstance(g, _PY_SCALARS):
            return g
        s = _sum(g)
        if is_lazy(s):
            return s
        if isinstance(x, complex):
            return complex(s)
        return float(s)
    xs = _shape(x)
    gs = _shape(g)
    if gs == xs:
        return g
    lead = len(gs) - len(xs)
    if lead > 0:
        g = _sum(g, tuple(range(lead)))
        gs = gs[lead:]
    if len(gs) == len(xs):
        axes = tuple(i for i, (a, b) in enumerate(zip(gs, xs)) if b == 1 and a != 1)
        if axes:
            g = _sum(g, axes, True)
            gs = _shape(g)
    if gs != xs:
        # g is smaller than x (e.g. a scalar adjoint of a broadcast operand)
        g = _broadcast_like(g, x)
    return g


def _sum(g, axis=None, keepdims=False):
    """``g.sum(axis, keepdims=)``; ``np.sum`` for arrays without the
    method (the array API has none)."""
    f = getattr(g, "sum", None)
    if f is not None:
        return f(axis=axis, keepdims=keepdims)
    return np.sum(g, axis=axis, keepdims=keepdims)


def _astype(g, dt):
    """``g.astype(dt)``; the array API's ``astype(g, dt)`` for arrays
    without the method."""
    f = getattr(g, "astype", None)
    return f(dt) if f is not None else np.astype(g, dt)


def copy_value(v):
    """A copy of an array of any library (``v.copy()``; the array API's
    ``asarray(v, copy=True)`` for arrays without the method, PyTorch's and
    array-api-strict's); numbers and containers as they are."""
    if v is None or isinstance(v, (_PY_SCALARS, list, tuple, dict)):
        return v
    f = getattr(v, "copy", None)
    if f is not None:
        return f()
    return np.asarray(v, copy=True) if hasattr(v, "shape") else v


def _broadcast_like(g, x):
    """``g`` broadcast to ``x``'s shape as a fresh array of ``x``'s array
    type (a Python-float adjoint must not become a host NumPy array when
    ``x`` lives on a device)."""
    if type(x) is Like:
        return zeros_like(x) + g
    if isinstance(g, _PY_SCALARS) or type(g) is not type(x):
        return np.ones_like(x) * g if not isinstance(g, _PY_SCALARS) else np.full_like(x, g)
    return np.broadcast_to(g, _shape(x)) * 1


def broadcast_as(g, v):
    """Adjoint of ``unbroadcast(v, x)`` in ``v``: broadcast back to ``v``."""
    if isinstance(v, _PY_SCALARS):
        return g
    if _shape(g) == _shape(v):
        return g
    return _broadcast_like(g, v)


# --------------------------------------------------------------------------
# zeros and accumulation


def _same_sequence(x, items):
    """A list or tuple of ``x``'s type holding ``items`` (a named tuple,
    such as slogdet's result, takes them as separate arguments)."""
    if hasattr(type(x), "_fields"):
        return type(x)(*items)
    return type(x)(items)


def zeros_like(x):
    """A zero adjoint shaped like ``x`` (``0.0`` for Python scalars)."""
    if isinstance(x, _PY_SCALARS):
        return 0.0
    if x is None:
        return ZERO
    if type(x) is Like:
        dt = x.dtype if dtype_kind(x.dtype) in "fc" else np.dtype(float)
        return np.zeros_like(x.proto, shape=x.shape, dtype=dt)
    if isinstance(x, (list, tuple)):
        return _same_sequence(x, [zeros_like(v) for v in x])
    if isinstance(x, dict):
        return {k: zeros_like(v) for k, v in x.items()}
    dt = getattr(x, "dtype", None)
    if dt is not None and dtype_kind(dt) in "biu":
        return np.zeros_like(x, dtype=float)
    return np.zeros_like(x)


def accumulate(a, b):
    """``a + b`` for adjoints that may be containers (lists, tuples, dicts
    of adjoints, elementwise) or the symbolic ``ZERO``."""
    if a is ZERO:
        return b
    if b is ZERO:
        return a
    if isinstance(a, (list, tuple)):
        return [accumulate(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = accumulate(out[k], v) if k in out else v
        return out
    return a + b


def elem(g, i, like):
    """Element ``i`` of a container adjoint, real zeros where it is ZERO."""
    if g is ZERO:
        v = ZERO
    elif isinstance(g, _PY_SCALARS) and (i is Ellipsis or (type(i) is tuple and not i)):
        v = g           # the adjoint of a 0-d array, as a number: ``a[...]`` is all of it
    else:
        v = g[i]
    return zeros_like(like) if v is ZERO else v


def is_complex(v):
    """Is ``v`` a complex number or an array of complex dtype?"""
    return isinstance(v, complex) or getattr(getattr(v, "dtype", None), "kind", "") == "c"


def at_function(cls, message, hint=None):
    """Error ``cls(message)`` raised by a helper at run time, located at
    the ``def`` line of the function being differentiated (found among the
    callers: the differentiated function object that called the generated
    code), unlocated when there is none."""
    import sys
    from .errors import def_location
    kw = {}
    f = sys._getframe(1)
    while f is not None:
        owner = f.f_locals.get("self")
        if hasattr(owner, "wrt") and getattr(getattr(owner, "fn", None), "__code__", None) is not None:
            kw = def_location(owner.fn)
            break
        f = f.f_back
    return cls(message, hint=hint, **kw)


def not_differentiated(what, x, hint=None):
    """The contribution of an argument a rule does not differentiate (the
    order of ``scipy.special.iv``): reached only when that argument is
    differentiated, it raises, naming the function being differentiated."""
    from .errors import NoRuleError
    raise at_function(NoRuleError, f"{what} is not differentiated", hint=hint)


def complex_value_error(what="gradient"):
    """The error for a complex value met on a differentiated path (a
    complex constant, a complex global or argument): its rules are the real
    ones, so the result would be silently wrong."""
    from .errors import NoRuleError
    return at_function(
        NoRuleError, f"a complex value reached this {what} of a real input by a way s2sad does not follow "
        "(complex mode starts from complex arguments, complex constants and globals, FFTs and complex dtypes "
        "written in the source; a dtype passed in a variable, or complex values inside a container, are not "
        "seen), so it would be wrong", hint="write the complex dtype or constant in the function itself "
        "(np.complex128, 1j), or pass the complex values as an argument; see docs/rules.md, complex numbers")


def grad_out(g, x):
    """Finalise an input adjoint: a symbolic zero becomes real zeros shaped
    like ``x``; the dtype follows ``x`` (float32 in, float32 out).  A
    complex adjoint of a real input is refused (complex_value_error)."""
    if g is ZERO:
        return zeros_like(x)
    if is_complex(g) and not is_complex(x):
        raise complex_value_error()
    if is_lazy(g) and not isinstance(x, (list, tuple, dict)):
        # a Dask adjoint stays lazy: s2sad.dask computes the call's gradients
        # in one go and gives each the type of its input
        xd = getattr(x, "dtype", None)
        if xd is not None and dtype_kind(xd) in "fc" and g.dtype != xd:
            g = _astype(g, xd)
        return g if _shape(g) == _shape(x) else unbroadcast(g, x)
    if isinstance(x, np.generic) and dtype_kind(x.dtype) in "fc":
        # NumPy scalars stay NumPy scalars (np.float64 is also a float)
        return x.dtype.type(g if not hasattr(g, "sum") or _shape(g) == () else g.sum())
    if isinstance(x, (list, tuple)):
        return _same_sequence(x, [grad_out(gi, xi) for gi, xi in zip(g, x)])
    if isinstance(x, dict):
        return {k: grad_out(g[k], v) for k, v in x.items()}
    if isinstance(x, _PY_SCALARS):
        if isinstance(g, _PY_SCALARS):
            return float(g) if not isinstance(g, complex) else g
        return float(g)
    xd = getattr(x, "dtype", None)
    gd = getattr(g, "dtype", None)
    if gd is None and type(x) is Like:
        return zeros_like(x) + g
    if gd is None:
        # a Python scalar adjoint of an array input (e.g. a 0-d array)
        return np.full_like(x, g, dtype=xd if dtype_kind(xd) in "fc" else float)
    if xd is not None and dtype_kind(xd) in "fc" and gd != xd:
        g = _astype(g, xd)
    if _shape(g) != _shape(x):
        g = unbroadcast(g, x)
    if type(x) is np.ndarray and type(g) is not np.ndarray:
        g = np.asarray(g)          # a 0-d array in, a 0-d array out (not a NumPy scalar)
    return g


def grad_out_as(g, x, dtype):
    """:func:`grad_out` delivering floating gradients in ``dtype`` (a
    precision policy's adjoint dtype, ``s2sad.Precision``), whatever
    ``x``'s: the adjoint is cast once, from the accumulator's dtype, never
    through ``x``'s narrower one."""
    return _grad_out_as(g, x, np.dtype(dtype))


def _grad_out_as(g, x, dt):
    if isinstance(x, (list, tuple)):
        gs = [ZERO] * len(x) if g is ZERO else g
        return _same_sequence(x, [_grad_out_as(gi, xi, dt) for gi, xi in zip(gs, x)])
    if isinstance(x, dict):
        return {k: _grad_out_as(ZERO if g is ZERO else g[k], v, dt) for k, v in x.items()}
    xd = getattr(x, "dtype", None)
    if xd is None or not is_float_dtype(xd):
        out = grad_out(g, x)
        return dt.type(out) if isinstance(out, float) else out
    if g is ZERO:
        return dt.type(0) if isinstance(x, np.generic) else np.zeros_like(x, dtype=dt)
    if is_complex(g):
        raise complex_value_error()
    if isinstance(x, np.generic):
        return dt.type(g if not hasattr(g, "sum") or _shape(g) == () else g.sum())
    gd = getattr(g, "dtype", None)
    if gd is None:
        return np.full_like(x, g, dtype=dt)
    if gd != dt:
        g = g.astype(dt)
    if _shape(g) != _shape(x):
        g = unbroadcast(g, x)
    if type(x) is np.ndarray and type(g) is not np.ndarray:
        g = np.asarray(g)
    return g


# --------------------------------------------------------------------------
# user rules, markers and list literals


def as_tuple(v, n):
    """Normalize a user vjp's result to a tuple with one entry per argument."""
    if n == 1 and not (isinstance(v, tuple) and len(v) == 1):
        return (ZERO if v is None else v,)
    if not isinstance(v, (tuple, list)) or len(v) != n:
        from .errors import S2SadError
        raise S2SadError(f"a user-defined adjoint returned {type(v).__name__}, expected a tuple of {n} adjoints "
                         "(one per positional argument, None for non-differentiable ones)")
    return tuple(ZERO if x is None else x for x in v)


def stop_gradient(x):
    """The identity, through which no derivative flows: every s2sad transform
    treats ``stop_gradient(x)`` as a constant."""
    return x


def stack_operand(parts):
    """The array a list literal stands for when a NumPy function is called
    on it (``np.sum([x, y])``), built with the parts' own array library."""
    if all(isinstance(p, _PY_SCALARS) for p in parts):
        return np.array(parts, dtype=float)
    return np.stack([p if not isinstance(p, _PY_SCALARS) else np.asarray(p) for p in parts])


# --------------------------------------------------------------------------
# run-time checks


def _loc_kwargs(loc):
    """(filename, lineno, line, col, end_col, function) -> error keywords."""
    return dict(zip(("filename", "lineno", "line", "col", "end_col", "function"), loc))


def check_scalar_output(y, loc=(None,) * 6):
    """Raise NonScalarOutputError (pointing at the ``return``) when ``grad``
    is asked of a function whose output is not a scalar."""
    if isinstance(y, _PY_SCALARS) and not isinstance(y, complex):
        return y
    if isinstance(y, (tuple, list, dict)):
        from .errors import NonScalarOutputError
        raise NonScalarOutputError(
            f"grad needs a scalar output, but the function returned a {type(y).__name__}",
            **_loc_kwargs(loc),
            hint="use s2sad.vjp(f) for several outputs, or return one scalar (e.g. their weighted sum)")
    if np.iscomplexobj(y):
        from .errors import NonScalarOutputError
        raise NonScalarOutputError(
            "grad needs a real scalar output, but the function returned a complex value", **_loc_kwargs(loc),
            hint="a gradient is of a real function: return its real part, its imaginary part or abs(z) ** 2 "
                 "(or use s2sad.vjp for the complex output)")
    shape = _shape(y)
    size = 1
    for n in shape:
        size *= n
    if size != 1:
        from .errors import NonScalarOutputError
        raise NonScalarOutputError(
            f"grad needs a scalar output, but the function returned an array of shape {shape}",
            **_loc_kwargs(loc),
            hint="use s2sad.vjp(f) for non-scalar outputs, or reduce the output (e.g. .sum()) before returning it")
    return y


def check_rebind(x, loc=(None,) * 6):
    """Before ``x += ...`` on a name that shares its object with another name:
    for an array Python updates the object in place (the other name sees the
    change), which s2sad does not model; numbers are immutable and fine."""
    if isinstance(x, _PY_SCALARS) or not hasattr(x, "__setitem__"):
        return
    from .errors import InputMutationError
    raise InputMutationError(
        "`+=` (or another augmented assignment) updates this array in place, and another name refers to "
        "the same array: s2sad follows values by name and would miss the change",
        **_loc_kwargs(loc),
        hint="write `x = x + ...` for a new array, or copy the array before aliasing it (`g = h.copy()`)")
