"""Precision policies (``s2sad.Precision``): the casts that generated code
makes at the dtypes a policy names.

``at_precision(x, dtype)`` is the one cast a gradient made under a policy
calls: on entry, for every argument (the primal dtype, or an override),
and after each assignment of a name the policy keeps at a dtype of its
own.  It casts floating values only, so integer indices, booleans and
Python numbers pass through as they are: a Python float is "weak" in
NumPy's promotion and takes the precision of the arrays it meets.
"""

from __future__ import annotations

import numpy as np

from .core import _same_sequence, is_float_dtype


def at_precision(x, dtype):
    """``x`` with its floating values in ``dtype``: a float array or NumPy
    float scalar cast (the same object when it already has ``dtype``),
    lists, tuples and dicts element by element; Python numbers, integer,
    boolean and complex values and everything else unchanged."""
    dt = getattr(x, "dtype", None)
    if dt is not None:
        if dt == dtype or not is_float_dtype(dt):
            return x
        if isinstance(x, np.generic):
            return np.dtype(dtype).type(x)
        return x.astype(dtype)
    if isinstance(x, (list, tuple)):
        return _same_sequence(x, [at_precision(v, dtype) for v in x])
    if isinstance(x, dict):
        return {k: at_precision(v, dtype) for k, v in x.items()}
    return x



def at_precision_items(x, dtype):
    """:func:`at_precision` of an argument that is a list, tuple or dict
    (of arrays): the same cast, under a name the compiler knows returns a
    container."""
    return at_precision(x, dtype)



def half_matmul(a, b):
    """``a @ b``; for two 16-bit float operands (float16, bfloat16), the
    product accumulated in float32 by BLAS and rounded once to their dtype.
    NumPy has no half-precision BLAS: its own float16 matmul also
    accumulates in float32, but in a loop some 100x slower, and ml_dtypes'
    bfloat16 matmul returns float32 (which would run the rest of a bfloat16
    primal in float32).  Other operands: ``a @ b`` as NumPy computes it."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is None or db is None or da != db or da.itemsize != 2 or not is_float_dtype(da):
        return a @ b
    return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(da)
