"""Pieces of the derivatives of elementwise functions: masks and weights
(clip, maximum/minimum, abs), ``x ** y`` in ``y``, sinc, and ``astype``.
Each takes Python scalars and arrays alike."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, _astype, complex_value_error, float_dtype, is_complex, is_float_dtype
from .namespaces import dtype_kind


def log_or_zero(x):
    """``log(x)`` where ``x > 0`` and 0 elsewhere: the derivative of
    ``x ** y`` in ``y`` at ``x == 0`` is taken as 0 (the limit from inside
    the domain for ``y > 0``)."""
    if isinstance(x, _PY_SCALARS):
        import math
        return math.log(x) if x > 0 else 0.0
    return np.log(np.where(x > 0, x, 1.0))


def tie_weight(x, y):
    """Weight of ``x`` in the adjoint of ``maximum(x, y)``: 1 where x wins,
    1/2 at ties (the subgradient that treats both sides alike)."""
    if isinstance(x, _PY_SCALARS) and isinstance(y, _PY_SCALARS):
        return 1.0 if x > y else (0.5 if x == y else 0.0)
    # in the operands' float dtype: ``(x > y) + 0.5 * (x == y)`` is float64
    # whatever they are, and would make a float32 adjoint float64
    dt = float_dtype(x, y)
    gt = x > y
    if type(gt) is np.ndarray:
        return gt + dt.type(0.5) * (x == y)
    # (arrays of other libraries: the array API has no arithmetic on bools)
    return _astype(gt, dt) + 0.5 * _astype(x == y, dt)


def clip_mask(a, lo, hi):
    """1 where ``clip(a, lo, hi)`` passes ``a`` through, 0 where it clips,
    in ``a``'s float dtype (a Python float for a Python number)."""
    if lo is None and hi is None:
        return 1.0
    m = (a >= lo) if lo is not None else None
    if hi is not None:
        m = (a <= hi) if m is None else m & (a <= hi)
    if isinstance(m, bool):
        return float(m)
    return _astype(m, float_dtype(a, lo, hi))


def below_mask(a, lo):
    return a < lo


def above_mask(a, hi):
    return a > hi


def sign(x):
    """``sign(x)`` for the adjoint of ``abs``: a Python float for Python
    scalars (0.0 at 0), ``np.sign`` for arrays."""
    if isinstance(x, _PY_SCALARS) and not isinstance(x, np.generic):
        return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
    return np.sign(x)


def positive_reciprocal(x):
    if isinstance(x, _PY_SCALARS):
        return 1.0 / x if x > 0 else 0.0
    return np.where(x > 0, 1.0 / np.where(x > 0, x, 1.0), 0.0)


def sinc_derivative(x):
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * safe) * np.pi * safe - np.sin(np.pi * safe)) / (np.pi * safe * safe))


def astype_adjoint(g, x, at_least=None):
    """The adjoint of a cast of ``x``, back in ``x``'s dtype, or in
    ``at_least`` where that is wider (a precision policy's adjoint dtype:
    the adjoint of a float16 value cast to float32 stays float32)."""
    dt = getattr(x, "dtype", None)
    if is_complex(g) and not is_complex(x):
        raise complex_value_error()         # (the cast would drop the imaginary part)
    if at_least is not None and dt is not None and (dtype_kind(dt) in "fc" or is_float_dtype(dt)):
        dt = np.result_type(dt, at_least)
    if dt is not None and (dtype_kind(dt) in "fc" or is_float_dtype(dt)):
        return g.astype(dt) if getattr(g, "dtype", dt) != dt else g
    return g
