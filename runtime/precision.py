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


def in_operand_dtype(c, a, b):
    """Matrix product ``c`` of ``a`` and ``b`` in the dtype NumPy's
    promotion gives ``a`` and ``b``: ml_dtypes computes a product of two
    bfloat16 arrays in float32 and returns it in float32, which would
    silently run the rest of a bfloat16 primal in float32.  Anything else
    is returned as it is."""
    dt = getattr(c, "dtype", None)
    if dt is None or not is_float_dtype(dt):
        return c
    try:
        want = np.result_type(a, b)
    except TypeError:
        return c
    return c.astype(want) if want != dt and is_float_dtype(want) else c
