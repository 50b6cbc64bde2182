"""Derivatives of Python's own functions on numbers: the builtins
``max``/``min`` and the ``math`` module (``math.prod``; ``digamma`` for
``math.gamma`` and ``math.lgamma``).  Pure Python where the arguments are
numbers (no NumPy scalars)."""

from __future__ import annotations

import numpy as np

from .core import ZERO, zeros_like


def extremum_winner(ans, args, k):
    """Weight (1.0 or 0.0) of argument ``k`` in the adjoint of the builtin
    ``max(*args)`` / ``min(*args)`` with two or more arguments.

    The adjoint goes entirely to the argument Python returned: the first one
    that is (by identity, else by value) the result.  Ties therefore go to
    the first of the tied arguments, and a NaN result to the NaN argument
    Python returned."""
    for i, a in enumerate(args):
        if a is ans:
            return 1.0 if i == k else 0.0
    for i, a in enumerate(args):
        if a == ans:
            return 1.0 if i == k else 0.0
    return 0.0


def builtin_extremum_adjoint(g, ans, args, k):
    """Adjoint of argument ``k`` of the builtin ``max``/``min``.  With two or
    more arguments see :func:`extremum_winner`; with one argument (an
    array iterated over its first axis) the adjoint is ``g`` at the first
    winning position, zeros elsewhere."""
    if len(args) > 1:
        return g * extremum_winner(ans, args, k)
    seq = args[0]
    if isinstance(seq, (list, tuple)):
        # the adjoint of a list: g at the first element Python's max/min chose
        out = [ZERO] * len(seq)
        for i, v in enumerate(seq):
            if v is ans or v == ans:
                out[i] = g
                return out
        return out
    if isinstance(seq, dict) or not hasattr(seq, "shape"):
        raise TypeError("the adjoint of max()/min() of a single iterable that is not a list, tuple or "
                        "array is not supported; write max(a, b, ...) with the elements")
    for i in range(len(seq)):
        v = seq[i]
        if v is ans or bool(np.all(v == ans)):
            z = zeros_like(seq)
            z[i] = g
            return z
    return zeros_like(seq)


# Bernoulli-number coefficients B_2n / (2n) of the asymptotic series of the
# digamma function, n = 1..7
_DIGAMMA_SERIES = (1.0 / 12.0, -1.0 / 120.0, 1.0 / 252.0, -1.0 / 240.0, 1.0 / 132.0,
                   -691.0 / 32760.0, 1.0 / 12.0)


def digamma(x):
    """The digamma function psi(x) = d/dx log Gamma(x) of a real number, as a
    Python float (pure Python: used by the rules of ``math.gamma`` and
    ``math.lgamma``).

    Method: for ``x < 0`` the reflection formula
    ``psi(x) = psi(1 - x) - pi / tan(pi * x)`` (with ``pi * x`` reduced to
    ``(-pi/2, pi/2]`` first, so it stays accurate near the poles); then the
    recurrence ``psi(x) = psi(x + 1) - 1/x`` until ``x >= 10``; then the
    asymptotic series ``log(x) - 1/(2x) - sum_{n=1..7} B_2n / (2n x^2n)``,
    whose truncation error at ``x >= 10`` is below 5e-17.

    Accuracy, measured against mpmath (40 digits) at 100,000 random points
    in (-30, 1000) plus 20,000 points within 1e-12..1e-3 of the poles: the
    relative error is below 2e-15 wherever ``|psi(x)| >= 1`` (below 4e-16
    for ``x >= 10`` and next to the poles), and the absolute error is below
    2e-15 where ``|psi(x)| < 1`` (near the roots of psi, e.g. x0 =
    1.4616321449683623, only this absolute bound holds).

    Raises ``ValueError`` at the poles ``x = 0, -1, -2, ...`` (where
    ``math.gamma`` and ``math.lgamma`` raise too).  ``digamma(inf)`` is
    ``inf``, ``digamma(nan)`` is ``nan``.
    """
    import math
    x = float(x)
    if x != x:
        return x
    if x == math.inf:
        return math.inf
    if x <= 0.0 and x == math.floor(x):
        raise ValueError(f"digamma has a pole at {x!r}")
    shift = 0.0
    if x < 0.0:
        # reflection; x - round(x) is exact, and tan has period pi
        r = x - round(x)
        shift = -math.pi / math.tan(math.pi * r)
        x = 1.0 - x
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = 0.0
    for c in reversed(_DIGAMMA_SERIES):
        series = (series + c) * inv2
    return math.log(x) - 0.5 / x - series + acc + shift


def prod_except(seq, k, start=1):
    """``start`` times the product of the elements of ``seq`` except element
    ``k`` (all of them when ``k`` is None), without division (zeros are
    fine): the adjoint of ``math.prod``."""
    p = start
    for i, v in enumerate(seq):
        if i != k:
            p = p * v
    return p
