"""Array libraries outside NumPy's dispatch protocols, through the array API.

NumPy, CuPy, Dask and duck arrays take part in ``__array_function__`` /
``__array_ufunc__``: ``np.cos(x)`` runs in ``x``'s own library, so the
generated code and the runtime helpers, written with ``np.``, serve them
unchanged.  Arrays of libraries that do not (array-api-strict, PyTorch
tensors through array-api-compat) are reached through their array API
namespace instead:

* ``foreign_namespace(x)`` is that namespace, or None for an array NumPy's
  functions dispatch on (and for numbers);
* ``NumPyNames(xp)`` gives NumPy's names over ``xp``: ``arccos`` is
  ``xp.acos``, ``concatenate`` is ``xp.concat``, ``transpose`` is
  ``xp.permute_dims``, ``outer``, ``ndim``, ``zeros_like(x, shape=...)`` and
  a few others are written in array-API terms, and a NumPy function with no
  array-API counterpart raises :class:`NamespaceError` naming it (never a
  silent conversion to NumPy);
* ``runtime_over(xp)`` is this package with every helper re-bound so that
  its ``np.`` is ``NumPyNames(xp)``: the same code, another library.

A gradient compiled for such arrays runs with ``np`` and ``_rt`` bound to
these two in its globals (``s2sad.api``); NumPy arrays never come here.
"""

from __future__ import annotations

import functools
import linecache
import math
import sys
import types

import numpy as np

from .errors import S2SadError, commented_user_line, innermost_generated

__all__ = ["NamespaceError", "NumPyNames", "dtype_kind", "first_foreign", "foreign_namespace", "namespace_of_args",
           "namespace_token", "runtime_over"]


class NamespaceError(S2SadError, AttributeError):
    """A derivative needs a NumPy function the array namespace lacks."""


_NUMBERS = (float, int, complex, bool)


def dtype_kind(dt):
    """NumPy's one-letter kind (``"f"``, ``"c"``, ``"i"``, ``"u"``, ``"b"``)
    of a dtype of any array library: NumPy's and CuPy's have ``.kind``,
    array-api-strict's and PyTorch's are read by name."""
    k = getattr(dt, "kind", None)
    if isinstance(k, str):
        return k
    name = str(dt).rsplit(".", 1)[-1]
    for prefix, kind in (("bool", "b"), ("uint", "u"), ("int", "i"), ("complex", "c")):
        if name.startswith(prefix):
            return kind
    return "f" if "float" in name else "O"


def foreign_namespace(x):
    """The array API namespace of ``x`` when ``x`` is an array of a library
    NumPy's functions do not dispatch to (no ``__array_function__``), else
    None."""
    t = type(x)
    if t in _NUMBERS or x is None or isinstance(x, (np.generic, np.ndarray)):
        return None
    if hasattr(t, "__array_function__") or not (hasattr(x, "shape") and hasattr(x, "dtype")):
        return None
    try:
        import array_api_compat
    except ImportError:
        get = getattr(x, "__array_namespace__", None)
        return get() if get is not None else None
    try:
        return array_api_compat.array_namespace(x)
    except TypeError:
        return None


def first_foreign(args):
    """``(array, namespace)`` of the first argument (containers searched)
    of a library NumPy's functions do not dispatch to, or None."""
    for a in args:
        if isinstance(a, (list, tuple, dict)):
            r = first_foreign(list(a.values()) if isinstance(a, dict) else a)
        else:
            xp = foreign_namespace(a)
            r = (a, xp) if xp is not None else None
        if r is not None:
            return r
    return None


def namespace_token(args):
    """``(namespace name, array type)`` of the first foreign array in
    ``args``, or None: part of the key of a compiled gradient, so each
    library gets its own variant."""
    r = first_foreign(args)
    return None if r is None else (r[1].__name__, type(r[0]))


def namespace_of_args(args):
    """The namespace of the first foreign array in ``args``, or None."""
    r = first_foreign(args)
    return None if r is None else r[1]


# --------------------------------------------------------------------------
# NumPy's names over an array API namespace

# NumPy name -> array API name (``s2sad.rules.core.numpy_twin`` reads it
# backwards: the rule of ``xp.acos`` is NumPy's ``arccos``'s)
ALIASES = {
    "arccos": "acos", "arccosh": "acosh", "arcsin": "asin", "arcsinh": "asinh", "arctan": "atan",
    "arctan2": "atan2", "arctanh": "atanh", "concatenate": "concat", "power": "pow", "absolute": "abs",
    "cumsum": "cumulative_sum", "cumprod": "cumulative_prod", "bool_": "bool", "invert": "bitwise_invert",
    "left_shift": "bitwise_left_shift", "right_shift": "bitwise_right_shift", "transpose": "permute_dims",
}

# NumPy constants, types and pure functions of Python values: the same over
# every namespace
_NUMPY_OWN = {"pi", "e", "inf", "nan", "euler_gamma", "newaxis", "generic", "integer", "floating",
              "number", "complexfloating", "signedinteger", "unsignedinteger", "isscalar", "errstate",
              "broadcast_shapes", "finfo_np", "intp", "ndindex", "prod_int"}


def _tuple_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


class _NotNumPy:
    """What ``np.ndarray`` is over another namespace: no array is one."""


class NumPyNames:
    """NumPy's names over the array API namespace ``xp`` (see the module
    docstring); the ``np`` of code compiled for ``xp``'s arrays."""

    def __init__(self, xp, array_type=None):
        self._xp = xp
        self.__name__ = f"numpy names over {xp.__name__}"
        # the NumPy-only fast paths (``type(a) is np.ndarray``: flags,
        # strides, in-place ufuncs) are never taken for another library
        self.ndarray = _NotNumPy
        self.array_type = array_type
        self.linalg = _LinalgNames(xp)
        self.float64 = xp.float64
        self.float32 = xp.float32

    def __repr__(self):
        return f"<{self.__name__}>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        xp = self._xp
        own = type(self).__dict__.get("_np_" + name)
        if isinstance(own, property):
            v = own.fget(self)
        elif own is not None:
            v = types.MethodType(own, self)
        elif hasattr(xp, ALIASES.get(name, name)):
            v = getattr(xp, ALIASES.get(name, name))
        elif name in _NUMPY_OWN and hasattr(np, name):
            v = getattr(np, name)
        else:
            raise NamespaceError(
                f"the derivative needs numpy.{name}, which the array namespace {xp.__name__} does not have",
                hint="use NumPy (or CuPy) arrays for this function, or write it with array API operations only")
        self.__dict__[name] = v
        return v

    # shapes ---------------------------------------------------------------
    def _np_ndim(self, x):
        return len(getattr(x, "shape", ()))

    def _np_shape(self, x):
        return tuple(getattr(x, "shape", ()))

    def _np_size(self, x, axis=None):
        s = tuple(getattr(x, "shape", ()))
        return math.prod(s) if axis is None else s[axis]

    def _np_reshape(self, x, shape, order="C"):
        if order != "C":
            raise NamespaceError(f"reshape with order={order!r} is not in the array API")
        return self._xp.reshape(self._asarray(x), (shape,) if isinstance(shape, int) else tuple(shape))

    def _np_ravel(self, x):
        return self._xp.reshape(self._asarray(x), (-1,))

    def _np_transpose(self, x, axes=None):
        x = self._asarray(x)
        if axes is None:
            axes = tuple(range(len(x.shape)))[::-1]
        return self._xp.permute_dims(x, tuple(axes))

    def _np_swapaxes(self, x, a, b):
        axes = list(range(len(x.shape)))
        axes[a], axes[b] = axes[b], axes[a]
        return self._xp.permute_dims(x, tuple(axes))

    def _np_expand_dims(self, x, axis):
        x = self._asarray(x)
        for a in sorted((axis,) if isinstance(axis, int) else axis):
            x = self._xp.expand_dims(x, axis=a)
        return x

    def _np_squeeze(self, x, axis=None):
        x = self._asarray(x)
        if axis is None:
            axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        return self._xp.squeeze(x, axis=_tuple_axis(axis))

    def _np_broadcast_to(self, x, shape):
        return self._xp.broadcast_to(self._asarray(x), tuple(shape))

    # creation -------------------------------------------------------------
    def _asarray(self, x, dtype=None):
        if isinstance(x, _NUMBERS):
            return self._xp.asarray(x, dtype=dtype if dtype is not None else
                                    (self._xp.float64 if isinstance(x, float) else None))
        return x if dtype is None else self._xp.astype(x, dtype)

    def _np_asarray(self, x, dtype=None, copy=None):
        return self._xp.asarray(x, dtype=self._dtype(dtype), copy=copy)

    def _np_tril(self, x, k=0):
        return self._xp.tril(x, k=k)

    def _np_triu(self, x, k=0):
        return self._xp.triu(x, k=k)

    def _np_array(self, x, dtype=None, copy=True):
        return self._xp.asarray(x, dtype=self._dtype(dtype), copy=copy)

    def _dtype(self, dt):
        if dt is None or not isinstance(dt, (type, np.dtype, str)):
            return dt
        kind = np.dtype(dt)
        return getattr(self._xp, kind.name, dt)

    def _np_dtype(self, dt):
        return self._dtype(dt)

    def _like(self, fill, x, dtype=None, shape=None):
        xp = self._xp
        dtype = self._dtype(dtype)
        if shape is None and dtype is None and fill == 0:
            return xp.zeros_like(x)
        shape = tuple(x.shape) if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        return xp.full(shape, fill, dtype=dtype if dtype is not None else x.dtype, device=x.device)

    def _np_zeros_like(self, x, dtype=None, shape=None):
        return self._like(0, x, dtype, shape)

    def _np_ones_like(self, x, dtype=None, shape=None):
        return self._like(1, x, dtype, shape)

    def _np_empty_like(self, x, dtype=None, shape=None):
        return self._like(0, x, dtype, shape)

    def _np_full_like(self, x, fill, dtype=None, shape=None):
        return self._like(fill, x, dtype, shape)

    # reductions and products ----------------------------------------------
    def _np_sum(self, x, axis=None, dtype=None, keepdims=False):
        return self._xp.sum(self._asarray(x), axis=_tuple_axis(axis), dtype=self._dtype(dtype), keepdims=keepdims)

    def _np_mean(self, x, axis=None, keepdims=False):
        return self._xp.mean(self._asarray(x), axis=_tuple_axis(axis), keepdims=keepdims)

    def _np_outer(self, a, b):
        xp = self._xp
        return xp.reshape(a, (-1, 1)) * xp.reshape(b, (1, -1))

    def _np_dot(self, a, b):
        if len(getattr(a, "shape", ())) == 0 or len(getattr(b, "shape", ())) == 0:
            return a * b
        return self._xp.matmul(a, b) if len(b.shape) <= 2 else self._xp.tensordot(a, b, axes=([-1], [-2]))

    def _np_result_type(self, *args):
        arrays = [a for a in args if not isinstance(a, _NUMBERS)]
        if not arrays:
            return self._xp.float64
        return self._xp.result_type(*arrays)

    def _np_iscomplexobj(self, x):
        dt = getattr(x, "dtype", None)
        return dt is not None and self._xp.isdtype(dt, "complex floating")

    def _np_take(self, x, indices, axis=None):
        xp = self._xp
        if isinstance(indices, (int, np.integer)):
            # a scalar index drops the axis, as NumPy's take does
            if axis is None:
                return xp.reshape(x, (-1,))[int(indices)]
            return x[(slice(None),) * (axis % len(x.shape)) + (int(indices), Ellipsis)]
        if not hasattr(indices, "dtype"):
            indices = xp.asarray(list(indices) if isinstance(indices, (range, list, tuple)) else indices,
                                 dtype=xp.int64)
        if axis is None:
            x, axis = xp.reshape(x, (-1,)), 0
        return xp.take(x, indices, axis=axis)

    @property
    def _np_add(self):
        return _Add(self)

    def _np_einsum(self, subscripts, *operands, **kwargs):
        if not hasattr(self._xp, "einsum"):
            raise NamespaceError(f"the derivative needs numpy.einsum, which {self._xp.__name__} does not have",
                                 hint="use NumPy arrays for this function")
        return self._xp.einsum(subscripts, *[self._asarray(o) for o in operands], **kwargs)

    def _np_argsort(self, x, axis=-1, kind=None):
        return self._xp.argsort(x, axis=axis, stable=True)

    def _np_flip(self, x, axis=None):
        return self._xp.flip(x, axis=axis)

    def _np_roll(self, x, shift, axis=None):
        return self._xp.roll(x, shift, axis=axis)

    def _np_tensordot(self, a, b, axes=2):
        return self._xp.tensordot(self._asarray(a), self._asarray(b), axes=axes)

    def _np_put_along_axis(self, arr, indices, values, axis):
        # the adjoints that call it (sort, argsort gathers) scatter through
        # a permutation along the axis: its inverse gathers instead
        xp = self._xp
        if axis is None or tuple(indices.shape) != tuple(arr.shape):
            raise NamespaceError(f"the derivative needs numpy.put_along_axis, which {xp.__name__} does not have "
                                 f"(only permutations along an axis are supported there)",
                                 hint="use NumPy arrays for this function")
        n = arr.shape[axis]
        shape = [1] * len(arr.shape)
        shape[axis] = n
        if not bool(xp.all(xp.sort(indices, axis=axis) == xp.reshape(xp.arange(n, dtype=indices.dtype), tuple(shape)))):
            raise NamespaceError(f"the derivative needs numpy.put_along_axis, which {xp.__name__} does not have "
                                 f"(only permutations along an axis are supported there)",
                                 hint="use NumPy arrays for this function")
        inverse = xp.argsort(indices, axis=axis)
        arr[...] = xp.take_along_axis(xp.broadcast_to(self._asarray(values, arr.dtype), tuple(arr.shape)),
                                      inverse, axis=axis)

    def _np_where(self, cond, a, b):
        return self._xp.where(cond, self._asarray(a), self._asarray(b))


class _Add:
    """``np.add`` over a namespace: the function, and ``add.at`` (the
    scatter-add of an adjoint through an integer index) written as a
    one-hot contraction, which the array API can express."""

    def __init__(self, names):
        self._names = names

    def __call__(self, a, b):
        return self._names._xp.add(a, b)

    def at(self, z, idx, g):
        """``z[idx] += g`` with repeated positions adding up: ``idx`` one
        integer array (or a tuple of them for the leading axes, trailing
        full slices allowed).  Written as one-hot contractions, in blocks
        of rows so that the one-hot matrix stays small."""
        xp = self._names._xp
        parts = list(idx) if isinstance(idx, tuple) else [idx]
        lead = 0            # full slices before the integer arrays: moved behind them
        while lead < len(parts) and isinstance(parts[lead], slice) and parts[lead] == slice(None):
            lead += 1
        if lead:
            parts = parts[lead:]
            nd = len(z.shape)
            k = sum(1 for p in parts if not (p is Ellipsis or isinstance(p, slice)))
            order = tuple(range(lead, nd)) + tuple(range(lead))
            zt = xp.permute_dims(z, order)
            gnd = len(getattr(g, "shape", ()))
            if gnd:
                # x[:, i] puts i's axes after the leading ones: move them first
                ia = gnd - (nd - lead - k) - lead      # the dimensions of the index arrays
                gorder = tuple(range(lead, lead + ia)) + tuple(range(lead)) + tuple(range(lead + ia, gnd))
                g = xp.permute_dims(g, gorder) if ia >= 0 else g
            self.at(zt, tuple(parts), g)
            inverse = tuple(order.index(i) for i in range(nd))
            z[...] = xp.permute_dims(zt, inverse)
            return
        while parts and (parts[-1] is Ellipsis or (isinstance(parts[-1], slice) and parts[-1] == slice(None))):
            parts.pop()
        parts = [xp.asarray(p) if isinstance(p, (list, int)) else p for p in parts]
        if not parts or not all(hasattr(p, "dtype") and dtype_kind(p.dtype) in "iu" for p in parts):
            raise NamespaceError(
                f"the adjoint of this indexing needs numpy.add.at, which {xp.__name__} does not have "
                f"(integer arrays indexing consecutive axes are supported there, not slices or masks between them)",
                hint="index with slices or integer arrays, or use NumPy arrays")
        k = len(parts)
        lead, rest = tuple(z.shape[:k]), tuple(z.shape[k:])
        parts = xp.broadcast_arrays(*parts) if k > 1 else parts
        flat = None
        for p, n in zip(parts, lead):
            p = xp.reshape(xp.astype(p, xp.int64), (-1,))
            p = xp.where(p < 0, p + n, p)
            flat = p if flat is None else flat * n + p
        size = math.prod(lead)
        m = flat.shape[0]
        g = xp.broadcast_to(self._names._asarray(g, z.dtype), tuple(parts[0].shape) + rest)
        g = xp.reshape(g, (m, math.prod(rest)))
        zf = xp.reshape(z, (size, math.prod(rest)))
        block = max(1, (1 << 22) // max(m, 1))
        pieces = []
        for start in range(0, size, block):
            rows = xp.reshape(xp.arange(start, min(start + block, size), dtype=xp.int64), (-1, 1))
            onehot = xp.astype(rows == xp.reshape(flat, (1, -1)), z.dtype)
            pieces.append(zf[start:min(start + block, size), ...] + onehot @ g)
        z[...] = xp.reshape(xp.concat(pieces, axis=0) if len(pieces) > 1 else pieces[0], tuple(z.shape))


class _LinalgNames:
    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        la = getattr(self._xp, "linalg", None)
        v = getattr(la, name, None) if la is not None else None
        if v is None:
            raise NamespaceError(
                f"the derivative needs numpy.linalg.{name}, which the array namespace {self._xp.__name__} "
                f"does not have", hint="use NumPy (or CuPy) arrays for this function")
        self.__dict__[name] = v
        return v


# --------------------------------------------------------------------------
# the runtime re-bound over a namespace

_RUNTIME = {}          # namespace name -> (NumPyNames, RuntimeOver)


class RuntimeOver:
    """``s2sad_runtime`` with its helpers re-bound over a namespace: the
    ``_rt`` of code compiled for the namespace's arrays."""

    def __init__(self, names):
        self._names = names
        self._globals = {}          # runtime module name -> its re-bound globals
        self.__name__ = f"s2sad_runtime over {names._xp.__name__}"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        import s2sad_runtime
        v = self._rebind(getattr(s2sad_runtime, name))
        self.__dict__[name] = v
        return v

    def _rebind(self, v):
        if isinstance(v, types.FunctionType) and (v.__module__ or "").startswith("s2sad_runtime"):
            g = self._module_globals(v.__module__)
            closure = None
            if v.__closure__:
                closure = tuple(types.CellType(self._rebind(c.cell_contents)) if _filled(c) else c
                                for c in v.__closure__)
            f = types.FunctionType(v.__code__, g, v.__name__, v.__defaults__, closure)
            f.__kwdefaults__ = v.__kwdefaults__
            f.__dict__.update(v.__dict__)
            f.__qualname__, f.__module__, f.__doc__ = v.__qualname__, v.__module__, v.__doc__
            return f
        return v

    def _module_globals(self, modname):
        g = self._globals.get(modname)
        if g is not None:
            return g
        mod = sys.modules[modname]
        g = self._globals[modname] = dict(mod.__dict__)
        for k, v in list(g.items()):
            if v is np:
                g[k] = self._names
            elif v is np.linalg:
                g[k] = self._names.linalg
        for k, v in list(g.items()):
            if isinstance(v, types.FunctionType):
                g[k] = self._rebind(v)
        return g


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def length(x):
    """``len(x)``, which array-API arrays need not have: their first
    dimension (the ``len`` of code compiled for them)."""
    s = getattr(x, "shape", None)
    if s is not None and not isinstance(x, (list, tuple, dict, str)):
        if len(s) == 0:
            raise TypeError("len() of a 0-d array")
        return s[0]
    return len(x)


def runtime_over(xp, array_type=None):
    """``(np, _rt)`` for code compiled for ``xp``'s arrays (cached)."""
    key = (xp.__name__, array_type)
    pair = _RUNTIME.get(key)
    if pair is None:
        names = NumPyNames(xp, array_type)
        pair = _RUNTIME[key] = (names, RuntimeOver(names))
    return pair


# --------------------------------------------------------------------------
# errors at the user's line

def located_namespace_errors(fn):
    """``fn`` (generated code compiled for a namespace) raising a
    :class:`NamespaceError` at the user's line whose derivative needed the
    missing function (read from the comments naming the source lines)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NamespaceError as e:
            if e.lineno is not None:
                raise
            raise _at_user_line(e, run) from None
    return run


def _at_user_line(e, fn):
    """``e`` at the user's line of the innermost generated frame it passed
    (``fn.__s2sad_origin__``: the user's file and function)."""
    where = innermost_generated(e.__traceback__)
    origin = getattr(fn, "__s2sad_origin__", None)
    if where is None or origin is None:
        return e
    lines = linecache.getlines(where[0])
    at = commented_user_line(lambda i: lines[i - 1], where[1])
    if at is None:
        return e
    return NamespaceError(e.message, filename=origin[0], lineno=at, line=linecache.getline(origin[0], at) or None,
                          hint=e.hint, function=origin[1])
