"""Reverse rules for Python's :mod:`math` module and numeric builtins.

The templates use only :mod:`math` and Python operators (and a few
pure-Python helpers of ``s2sad_runtime``: ``digamma``, ``prod_except``),
so Python floats stay Python floats: differentiating scalar code never
creates NumPy scalars.

Conventions at non-differentiable points and edges:

* ``math.hypot(*coords)`` and ``math.dist(p, q)``: the derivative
  ``x_k / hypot`` exists wherever the result is nonzero, also when other
  coordinates are 0 (``hypot(x, 0.0)`` at ``x != 0`` has derivative
  ``sign(x)`` in ``x`` and 0 in the zero coordinate).  At the origin the
  norm has no derivative; the rule returns the subgradient **0** there (the
  minimum-norm element of the subdifferential, the unit ball) -- never NaN
  and never an exception.
* ``math.fabs`` / builtin ``abs`` at 0, ``math.copysign(x, y)`` at
  ``x == 0``: subgradient 0.
* ``math.atan2(y, x)``: ``(x, -y) / (x*x + y*y)`` in all four quadrants; at
  the origin (where atan2 is discontinuous) it raises ``ZeroDivisionError``.
* ``math.sqrt`` at 0, ``math.log`` at 0, ``math.pow(0.0, y)`` with
  ``y < 1``: the derivative is infinite; the rule raises
  (``ZeroDivisionError`` / ``ValueError``, like the math module itself).
* ``math.pow(x, y)`` in ``y`` at ``x <= 0``: 0 (the log factor is taken as 0,
  like NumPy's ``power`` rule).
* Builtin ``max(a, b, ...)`` / ``min(a, b, ...)``: the adjoint goes to the
  argument Python returned (the first of tied arguments).
* Piecewise-constant functions (floor, ceil, trunc, round, int, isnan, ...)
  contribute nothing.

Everything here is registered into the table of
:mod:`s2sad.rules.numpy_rules` by :func:`register` (called at the end of that
module), so ``DEFAULT_RULES`` holds both.
"""

from __future__ import annotations

import builtins
import math

import s2sad_runtime as _rt
from s2sad.rules.core import d, k, t

# ------------------------------------------------------------ trigonometric


def sin(g, x):
    d[x] = g * math.cos(x)


def cos(g, x):
    d[x] = -g * math.sin(x)


def tan(g, ans, x):
    d[x] = g * (1.0 + ans * ans)


def asin(g, x):
    d[x] = g / math.sqrt((1.0 - x) * (1.0 + x))


def acos(g, x):
    d[x] = -g / math.sqrt((1.0 - x) * (1.0 + x))


def atan(g, x):
    d[x] = g / (1.0 + x * x)


def atan2(g, y, x):
    r2 = x * x + y * y
    d[y] = g * x / r2
    d[x] = -g * y / r2


def degrees(g, x):
    d[x] = g * 57.29577951308232


def radians(g, x):
    d[x] = g * 0.017453292519943295


# --------------------------------------------------------------- hyperbolic


def sinh(g, x):
    d[x] = g * math.cosh(x)


def cosh(g, x):
    d[x] = g * math.sinh(x)


def tanh(g, ans, x):
    d[x] = g * (1.0 - ans * ans)


def asinh(g, x):
    d[x] = g / math.hypot(x, 1.0)


def acosh(g, x):
    d[x] = g / math.sqrt((x - 1.0) * (x + 1.0))


def atanh(g, x):
    d[x] = g / ((1.0 - x) * (1.0 + x))


# -------------------------------------------------------- exponential, log


def exp(g, ans, x):
    d[x] = g * ans


def exp2(g, ans, x):
    d[x] = g * ans * 0.6931471805599453


def expm1(g, ans, x):
    d[x] = g * (ans + 1.0)


def log(g, ans, x, base=None):
    # `base == None` rather than `is`: spliced in, `2.0 is None` would be a
    # SyntaxWarning
    d[x] = g / x if base == None else g / (x * math.log(base))  # noqa: E711
    d[base] = -g * ans / (base * math.log(base))


def log1p(g, x):
    d[x] = g / (1.0 + x)


def log2(g, x):
    d[x] = g / (x * 0.6931471805599453)


def log10(g, x):
    d[x] = g / (x * 2.302585092994046)


def sqrt(g, ans, x):
    d[x] = g * 0.5 / ans


def cbrt(g, ans, x):
    d[x] = g / (3.0 * ans * ans)


def pow_(g, ans, x, y):
    # 0 at x = y = 0 (math.pow(0, -1) raises); a guard on y alone would lose d/dy of this at y = 0
    d[x] = g * (y * math.pow(x, y - 1.0) if x != 0 else (0.0 if y == 0 else y * math.pow(x, y - 1.0)))
    d[y] = g * ans * (math.log(x) if x > 0 else 0.0)


# --------------------------------------------------------------- norms


def hypot(g, ans, *coords):
    d[coords[k]] = g * (coords[k] / ans if ans != 0.0 else 0.0)


def dist(g, ans, p, q):
    d[p[k]] = g * ((p[k] - q[k]) / ans if ans != 0.0 else 0.0)
    d[q[k]] = g * ((q[k] - p[k]) / ans if ans != 0.0 else 0.0)


def fsum(g, seq):
    d[seq[k]] = g


def prod(g, seq, start=1):
    d[seq[k]] = g * _rt.prod_except(seq, k, start)
    d[start] = g * _rt.prod_except(seq, None, 1)


# ------------------------------------------------------- sign, rounding, mod


def fabs(g, x):
    d[x] = g * (1.0 if x > 0 else (-1.0 if x < 0 else 0.0))


def copysign(g, x, y):
    # copysign(x, y) = |x| * sign(y): piecewise constant in y
    d[x] = g * (math.copysign(1.0, x) * math.copysign(1.0, y) if x != 0 else 0.0)


def fmod(g, ans, x, y):
    # fmod(x, y) = x - n * y with the integer n = trunc(x / y)
    d[x] = g
    d[y] = -g * round((x - ans) / y)


def remainder(g, ans, x, y):
    # remainder(x, y) = x - n * y with n the integer nearest x / y
    d[x] = g
    d[y] = -g * round((x - ans) / y)


def ldexp(g, x, i):
    d[x] = math.ldexp(g, i)


# --------------------------------------------------------- special functions


def erf(g, x):
    d[x] = g * 1.1283791670955126 * math.exp(-x * x)


def erfc(g, x):
    d[x] = -g * 1.1283791670955126 * math.exp(-x * x)


def gamma(g, ans, x):
    d[x] = g * ans * _rt.digamma(x)


def lgamma(g, x):
    d[x] = g * _rt.digamma(x)


# ----------------------------------------------------------------- builtins


def builtin_abs(g, x):
    d[x] = g * _rt.sign(x)


def builtin_pow(g, ans, x, y):
    d[x] = g * y * x ** (y - 1)
    d[y] = g * ans * _rt.log_or_zero(x)


def builtin_float(g, x):
    d[x] = g


def builtin_sum(g, seq, start=0):
    d[seq[k]] = _rt.unbroadcast(g, seq[k])
    d[start] = _rt.unbroadcast(g, start)


def builtin_extremum(g, ans, *args):
    d[args[k]] = _rt.builtin_extremum_adjoint(g, ans, args, k)


# ----------------------------------------------------------------- registry

_MATH = {
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "atan2": atan2, "degrees": degrees, "radians": radians,
    "sinh": sinh, "cosh": cosh, "tanh": tanh, "asinh": asinh, "acosh": acosh, "atanh": atanh,
    "exp": exp, "exp2": exp2, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2,
    "log10": log10, "sqrt": sqrt, "cbrt": cbrt, "pow": pow_,
    "hypot": hypot, "dist": dist, "fsum": fsum, "prod": prod,
    "fabs": fabs, "copysign": copysign, "fmod": fmod, "remainder": remainder, "ldexp": ldexp,
    "erf": erf, "erfc": erfc, "gamma": gamma, "lgamma": lgamma,
}

_MATH_NONDIFF = (
    "floor", "ceil", "trunc", "isnan", "isfinite", "isinf", "isclose", "factorial", "comb",
    "perm", "gcd", "lcm", "isqrt", "ulp", "nextafter",
)

def builtin_extremum_jvp(ans, *args):
    d[args[k]] = _rt.builtin_extremum_jvp(t, ans, args, k)


def register(T):
    """Add the rules of this module to the rule table ``T``."""
    for name, template in _MATH.items():
        fn = getattr(math, name, None)
        if fn is not None:   # exp2 and cbrt are new in Python 3.11
            T.defrule(fn, jvp="linear" if name == "fsum" else None)(template)
    T.nondiff(*[getattr(math, n) for n in _MATH_NONDIFF if hasattr(math, n)])
    # builtins: abs, pow and float also take arrays (abs, pow) or 0-d arrays
    T.defrule(builtins.abs, broadcasting=True, jvp="elementwise")(builtin_abs)
    T.defrule(builtins.pow, broadcasting=True, jvp="elementwise")(builtin_pow)
    T.defrule(builtins.float, broadcasting=True, jvp="linear")(builtin_float)
    T.defrule(builtins.max, builtins.min, jvp=builtin_extremum_jvp)(builtin_extremum)
    T.defrule(builtins.sum, jvp="linear")(builtin_sum)
    T.nondiff(builtins.round, builtins.int, builtins.bool)
