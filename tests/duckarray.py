"""A small duck-array type that stands in for CuPy in CI.

``DuckArray`` wraps a NumPy array and takes part in NumPy's dispatch
protocols (``__array_ufunc__``, ``__array_function__``): NumPy functions
called on it unwrap the inputs, run NumPy on the wrapped arrays and wrap the
outputs again (tuples, lists and named tuples such as ``SlogdetResult``
included), so ``np.sin(d)``, ``np.linalg.solve(d, e)`` or ``np.add.at(d,
idx, e)`` give duck arrays.

Like CuPy it refuses to become a NumPy array behind the user's back:

* ``np.asarray(d)`` / ``np.array(d)`` (``__array__``) raise ``TypeError``;
* a ufunc or NumPy function that mixes a duck array with a NumPy array
  (0-d included) raises ``TypeError`` (CuPy: "Unsupported type <class
  'numpy.ndarray'>"); NumPy scalars (``np.float64(2.0)``) and Python
  numbers mix freely, and NumPy integer/boolean arrays are accepted as
  indices;
* reductions return 0-d duck arrays, not NumPy scalars.

``allow_host_mixing()`` (a context manager) turns the second rule off: the
mixed operation then runs in NumPy and gives a duck array.  Tests use it to
check the rest of a computation when a known bug creates host arrays.

``float(d)``, ``int(d)`` and ``bool(d)`` work on one-element arrays (CuPy
allows them, with a device synchronization).  ``d.get()`` returns the NumPy
array explicitly (as CuPy's ``get``); ``asnumpy(x)`` does the same for any
value (nested in tuples/lists too).
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

__all__ = ["DuckArray", "allow_host_mixing", "asnumpy", "wrap", "unwrap"]

_STRICT = [True]


@contextlib.contextmanager
def allow_host_mixing():
    """Within this block, NumPy arrays may mix with duck arrays."""
    _STRICT.append(False)
    try:
        yield
    finally:
        _STRICT.pop()


class DuckArray:
    __array_priority__ = 1000
    __slots__ = ("_data",)

    def __init__(self, data):
        if isinstance(data, DuckArray):
            data = data._data
        self._data = np.array(data) if not isinstance(data, np.ndarray) else data

    # ------------------------------------------------------------ protocol
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        operands = inputs if method != "at" else (inputs[0],) + tuple(inputs[2:])
        _check_mixing(operands, f"np.{ufunc.__name__}")
        if "out" in kwargs:
            kwargs["out"] = tuple(_unwrap_operand(o) for o in kwargs["out"])
        args = [_unwrap_operand(x) for x in inputs]
        if method == "at":
            # ufunc.at(a, indices[, b]): the indices may hold host arrays
            args = [args[0], unwrap(inputs[1])] + args[2:]
        res = getattr(ufunc, method)(*args, **kwargs)
        if method == "at":
            return None
        return wrap(res)

    def __array_function__(self, func, types, args, kwargs):
        for t in types:
            if not issubclass(t, (DuckArray, np.ndarray)):
                return NotImplemented
        _check_mixing(args, f"np.{getattr(func, '__name__', func)}")
        _check_mixing(tuple(kwargs.values()), f"np.{getattr(func, '__name__', func)}")
        return wrap(func(*unwrap(args), **unwrap(kwargs)))

    # --------------------------------------------------------- properties
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def size(self):
        return self._data.size

    @property
    def T(self):
        return DuckArray(self._data.T)

    @property
    def mT(self):
        return DuckArray(np.swapaxes(self._data, -1, -2))

    @property
    def real(self):
        return DuckArray(self._data.real)

    def get(self):
        """The NumPy array (an explicit device-to-host copy in CuPy)."""
        return self._data.copy()

    def __repr__(self):
        return f"DuckArray({self._data!r})"

    # ------------------------------------------------------ conversions
    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __complex__(self):
        return complex(self._data)

    def __bool__(self):
        return bool(self._data)

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        for i in range(len(self._data)):
            yield DuckArray(self._data[i])

    __hash__ = None

    # ----------------------------------------------------------- indexing
    def __getitem__(self, key):
        return DuckArray(self._data[unwrap(key)])

    def __setitem__(self, key, value):
        self._data[unwrap(key)] = _unwrap_operand(value, setitem=True)

    # ---------------------------------------------------------- operators
    def __add__(self, o):
        return np.add(self, o)

    def __radd__(self, o):
        return np.add(o, self)

    def __sub__(self, o):
        return np.subtract(self, o)

    def __rsub__(self, o):
        return np.subtract(o, self)

    def __mul__(self, o):
        return np.multiply(self, o)

    def __rmul__(self, o):
        return np.multiply(o, self)

    def __truediv__(self, o):
        return np.true_divide(self, o)

    def __rtruediv__(self, o):
        return np.true_divide(o, self)

    def __floordiv__(self, o):
        return np.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return np.floor_divide(o, self)

    def __mod__(self, o):
        return np.remainder(self, o)

    def __rmod__(self, o):
        return np.remainder(o, self)

    def __pow__(self, o):
        return np.power(self, o)

    def __rpow__(self, o):
        return np.power(o, self)

    def __matmul__(self, o):
        return np.matmul(self, o)

    def __rmatmul__(self, o):
        return np.matmul(o, self)

    def __and__(self, o):
        return np.bitwise_and(self, o)

    def __rand__(self, o):
        return np.bitwise_and(o, self)

    def __or__(self, o):
        return np.bitwise_or(self, o)

    def __ror__(self, o):
        return np.bitwise_or(o, self)

    def __xor__(self, o):
        return np.bitwise_xor(self, o)

    def __invert__(self):
        return np.invert(self)

    def __neg__(self):
        return np.negative(self)

    def __pos__(self):
        return np.positive(self)

    def __abs__(self):
        return np.absolute(self)

    def __iadd__(self, o):
        np.add(self, o, out=(self,))
        return self

    def __isub__(self, o):
        np.subtract(self, o, out=(self,))
        return self

    def __imul__(self, o):
        np.multiply(self, o, out=(self,))
        return self

    def __itruediv__(self, o):
        np.true_divide(self, o, out=(self,))
        return self

    def __lt__(self, o):
        return np.less(self, o)

    def __le__(self, o):
        return np.less_equal(self, o)

    def __gt__(self, o):
        return np.greater(self, o)

    def __ge__(self, o):
        return np.greater_equal(self, o)

    def __eq__(self, o):
        return np.equal(self, o)

    def __ne__(self, o):
        return np.not_equal(self, o)

    # ------------------------------------------------------------ methods
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return np.max(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return np.min(self, axis=axis, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return np.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def argmax(self, axis=None):
        return np.argmax(self, axis=axis)

    def argmin(self, axis=None):
        return np.argmin(self, axis=axis)

    def all(self, axis=None, keepdims=False):
        return np.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return np.any(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return np.cumsum(self, axis=axis)

    def clip(self, min=None, max=None):
        return np.clip(self, min, max)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return DuckArray(self._data.reshape(shape, order=order))

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return DuckArray(self._data.transpose(*axes))

    def swapaxes(self, axis1, axis2):
        return DuckArray(self._data.swapaxes(axis1, axis2))

    def ravel(self, order="C"):
        return DuckArray(self._data.ravel(order=order))

    def flatten(self, order="C"):
        return DuckArray(self._data.flatten(order=order))

    def squeeze(self, axis=None):
        return DuckArray(self._data.squeeze(axis=axis))

    def copy(self, order="C"):
        return DuckArray(self._data.copy(order=order))

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return DuckArray(self._data.astype(dtype, order=order, casting=casting, copy=copy))

    def dot(self, b):
        return np.dot(self, b)

    def trace(self, offset=0, axis1=0, axis2=1):
        return np.trace(self, offset, axis1, axis2)

    def fill(self, value):
        self._data.fill(value)

    def item(self):
        return self._data.item()


# --------------------------------------------------------------------------
# wrapping


def _is_host_array(x):
    return isinstance(x, np.ndarray)


def _check_mixing(values, what):
    if not _STRICT[-1]:
        return
    for v in values:
        if _is_host_array(v):
            raise TypeError(f"{what}: Unsupported type {type(v)} (a NumPy array mixed with DuckArray "
                            f"operands; CuPy refuses this)")
        if isinstance(v, (list, tuple)):
            _check_mixing(v, what)


def _unwrap_operand(x, setitem=False):
    if isinstance(x, DuckArray):
        return x._data
    return x


def unwrap(x):
    """DuckArray -> its NumPy array, recursively through tuples, lists and
    dicts (for indices and the arguments of NumPy functions)."""
    if isinstance(x, DuckArray):
        return x._data
    if isinstance(x, tuple):
        vals = [unwrap(v) for v in x]
        return type(x)(*vals) if hasattr(x, "_fields") else tuple(vals)
    if isinstance(x, list):
        return [unwrap(v) for v in x]
    if isinstance(x, dict):
        return {k: unwrap(v) for k, v in x.items()}
    return x


def wrap(x):
    """NumPy arrays and NumPy scalars -> DuckArray (0-d for scalars),
    recursively through tuples (named tuples too) and lists."""
    if isinstance(x, np.ndarray):
        return DuckArray(x)
    if isinstance(x, np.generic) and isinstance(x, (numbers.Number, np.bool_)):
        return DuckArray(np.asarray(x))
    if isinstance(x, tuple):
        vals = [wrap(v) for v in x]
        return type(x)(*vals) if hasattr(x, "_fields") else tuple(vals)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    return x


def asnumpy(x):
    """The NumPy value of ``x`` (explicit conversion, recursively)."""
    if isinstance(x, DuckArray):
        return x.get()
    if isinstance(x, (tuple, list)):
        return type(x)(asnumpy(v) for v in x) if not hasattr(x, "_fields") else type(x)(*map(asnumpy, x))
    if isinstance(x, dict):
        return {k: asnumpy(v) for k, v in x.items()}
    return x
