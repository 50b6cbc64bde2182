"""Precision policies and dynamic loss scaling (issue #18; docs/arrays.md).

``Precision(primal=np.float16, adjoint=np.float32)`` is passed to
``s2sad.grad`` / ``s2sad.value_and_grad`` as ``precision=``.  What it does
to the generated code is in :mod:`s2sad.transforms.precision`; the casts
it calls are ``s2sad_runtime.at_precision``.  :class:`LossScaler` scales
the seed of the reverse sweep, as mixed-precision training does in
float16.
"""

from __future__ import annotations

import numpy as np

from s2sad.errors import ArgumentError
from s2sad_runtime.core import is_float_dtype

__all__ = ["Precision", "LossScaler", "resolve_dtype"]


def _bfloat16():
    try:
        import ml_dtypes
    except ImportError:
        raise ArgumentError("bfloat16 needs the ml_dtypes package, which is not installed",
                            hint="pip install ml_dtypes (NumPy has no bfloat16 of its own)") from None
    return np.dtype(ml_dtypes.bfloat16)


def resolve_dtype(dt, what="dtype"):
    """``dt`` (``np.float16``, ``"float16"``, ``np.dtype``, ``"bfloat16"``,
    ``ml_dtypes.bfloat16``) as a floating ``np.dtype``; anything else is an
    :class:`~s2sad.errors.ArgumentError` naming ``what``."""
    if isinstance(dt, str) and dt.lower() in ("bfloat16", "bf16"):
        return _bfloat16()
    try:
        d = np.dtype(dt)
    except TypeError:
        raise ArgumentError(f"{what}={dt!r} is not a dtype",
                            hint="give a floating dtype: np.float16, np.float32, np.float64 or 'bfloat16'") from None
    if not is_float_dtype(d):
        raise ArgumentError(f"{what}={d} is not a floating dtype: a precision policy says at which float "
                            "precision values and derivatives are computed",
                            hint="give a floating dtype: np.float16, np.float32, np.float64 or 'bfloat16'")
    return d


def _narrower(a, b):
    """Can float dtype ``a`` not hold every value of ``b`` as well as ``b``
    does (fewer significand bits, or a smaller range)?"""
    fa, fb = np.finfo(a), np.finfo(b)
    return fa.nmant < fb.nmant or fa.maxexp < fb.maxexp or fa.minexp > fb.minexp


class Precision:
    """A precision policy for :func:`s2sad.grad` and
    :func:`s2sad.value_and_grad` (``precision=``).

    Args:
        primal: the dtype the function itself runs at.  Every floating
            argument (float arrays and NumPy float scalars, inside lists,
            tuples and dicts too) is cast to it on entry; integers,
            booleans and Python numbers are left as they are.
        adjoint: the dtype of the reverse sweep: its seed, and so every
            adjoint and every sum the reverse sweep makes (a float16 value
            times a float32 adjoint is float32).  The gradients come back in
            it.  Defaults to float32 for a 16-bit primal, else to the
            primal dtype.  It may not be narrower than ``primal`` (in
            significand or range).
        overrides: names kept at a dtype of their own: a dict ``{name:
            dtype}``, or names alone (kept at the adjoint dtype).  A name is
            an argument (cast on entry to its dtype instead of ``primal``)
            or a local variable of the function (cast after each assignment
            of it), e.g. ``overrides={"logits": np.float32}`` to compute a
            softmax and its loss in float32 from float16 activations.

    Dtypes are NumPy floating dtypes or ``"bfloat16"`` (with ml_dtypes).
    """

    def __init__(self, primal=np.float32, adjoint=None, overrides=None):
        self.primal = resolve_dtype(primal, "primal")
        if adjoint is None:
            adjoint = np.float32 if self.primal.itemsize < 4 else self.primal
        self.adjoint = resolve_dtype(adjoint, "adjoint")
        if _narrower(self.adjoint, self.primal):
            raise ArgumentError(
                f"Precision(primal={self.primal}, adjoint={self.adjoint}): the adjoint dtype is narrower than the "
                "primal one, so derivatives would be rounded harder than the values they are derivatives of",
                hint=f"use an adjoint dtype at least as wide as {self.primal} (e.g. adjoint=np.float32)")
        if overrides is None:
            overrides = {}
        elif isinstance(overrides, str):
            overrides = {overrides: self.adjoint}
        elif not isinstance(overrides, dict):
            try:
                overrides = {n: self.adjoint for n in overrides}
            except TypeError:
                raise ArgumentError(f"overrides={overrides!r}: give a dict {{name: dtype}} or a list of names") \
                    from None
        checked = {}
        for name, dt in overrides.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ArgumentError(f"overrides: {name!r} is not a variable name",
                                    hint="name arguments or local variables of the function, as strings")
            checked[name] = resolve_dtype(dt, f"overrides[{name!r}]")
        self.overrides = checked

    def dtype_of(self, name):
        """The dtype of argument ``name`` on entry."""
        return self.overrides.get(name, self.primal)

    def describe(self):
        text = f"primal {self.primal}, adjoint {self.adjoint}"
        if self.overrides:
            text += "; " + ", ".join(f"{n} {d}" for n, d in self.overrides.items())
        return text

    def __repr__(self):
        ov = f", overrides={ {n: str(d) for n, d in self.overrides.items()} }" if self.overrides else ""
        return f"Precision(primal={self.primal}, adjoint={self.adjoint}{ov})"


def _finite(v):
    if isinstance(v, (list, tuple)):
        return all(_finite(x) for x in v)
    if isinstance(v, dict):
        return all(_finite(x) for x in v.values())
    if v is None:
        return True
    return bool(np.all(np.isfinite(v)))


def _unscale(v, inv):
    if isinstance(v, (list, tuple)):
        return type(v)(_unscale(x, inv) for x in v)
    if isinstance(v, dict):
        return {k: _unscale(x, inv) for k, x in v.items()}
    dt = getattr(v, "dtype", None)
    if dt is None:
        return v * inv
    return v * dt.type(inv)         # (a power of two: exact, and in the gradient's dtype)


class LossScaler:
    """Dynamic loss scaling: the reverse sweep starts from ``scale`` instead
    of 1, so that small adjoints stay clear of float16's underflow; the
    gradients are divided by it again.  A step whose gradients hold an inf
    or a NaN is skipped (``scaler(...)`` returns ``None`` for them) and the
    scale is multiplied by ``backoff``; after ``interval`` good steps in a
    row it is multiplied by ``growth``.  The defaults are the usual ones
    (PyTorch's GradScaler): 2**16, x2 every 2,000 good steps, x0.5 on
    inf/NaN.

    Use it with a gradient made under a precision policy::

        vg = s2sad.value_and_grad(loss, wrt=0, precision=s2sad.Precision(np.float16, np.float32))
        scaler = s2sad.LossScaler()
        value, g = scaler(vg, W, x, y)
        if g is not None:            # None: skipped (inf/NaN), the scale was halved
            W -= lr * g
        scaler.skipped               # steps skipped so far

    Attributes: ``scale``, ``steps`` (calls), ``skipped`` (steps skipped),
    ``good_steps`` (good steps since the scale last changed),
    ``last_skipped``.
    """

    def __init__(self, scale=2.0 ** 16, growth=2.0, backoff=0.5, interval=2000, min_scale=2.0 ** -24):
        if not (scale > 0 and growth >= 1 and 0 < backoff < 1 and int(interval) >= 1):
            raise ArgumentError(f"LossScaler(scale={scale}, growth={growth}, backoff={backoff}, interval={interval}): "
                                "needs scale > 0, growth >= 1, 0 < backoff < 1 and interval >= 1")
        self.scale = float(scale)
        self.growth, self.backoff, self.interval = float(growth), float(backoff), int(interval)
        self.min_scale = float(min_scale)
        self.steps = self.skipped = self.good_steps = 0
        self.last_skipped = False

    def __call__(self, df, *args, **kwargs):
        """One step: ``df`` (a :func:`s2sad.grad` or
        :func:`s2sad.value_and_grad` function) called with the scaled seed.
        Returns what ``df`` returns, the gradients unscaled, or with
        ``None`` in place of the gradients when the step is skipped."""
        seeded = getattr(df, "seeded", None)
        if seeded is None or getattr(df, "mode", None) not in ("grad", "value_and_grad"):
            raise ArgumentError("LossScaler needs a function made by s2sad.grad or s2sad.value_and_grad",
                                hint="scaler(s2sad.value_and_grad(f, precision=...), *args)")
        with np.errstate(over="ignore", invalid="ignore"):      # (an overflow is what this step detects)
            res = seeded(self.scale, *args, **kwargs)
        value, grads = res if df.mode == "value_and_grad" else (None, res)
        ok = _finite(grads)
        self.update(ok)
        grads = _unscale(grads, 1.0 / self.applied) if ok else None
        return (value, grads) if df.mode == "value_and_grad" else grads

    def update(self, finite):
        """Advance the schedule after a step whose gradients were finite or
        not (for use by hand, with gradients scaled some other way)."""
        self.applied = self.scale
        self.steps += 1
        self.last_skipped = not finite
        if not finite:
            self.skipped += 1
            self.good_steps = 0
            self.scale = max(self.scale * self.backoff, self.min_scale)
            return
        self.good_steps += 1
        if self.good_steps >= self.interval:
            self.scale *= self.growth
            self.good_steps = 0

    def __repr__(self):
        return f"LossScaler(scale={self.scale:g}, steps={self.steps}, skipped={self.skipped})"
