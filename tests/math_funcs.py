"""Functions under test for tests/test_math_rules.py: Python's math module
and numeric builtins on Python floats."""

import math

import numpy as np

# one-argument math functions


def sin(x):
    return math.sin(x)


def cos(x):
    return math.cos(x)


def tan(x):
    return math.tan(x)


def asin(x):
    return math.asin(x)


def acos(x):
    return math.acos(x)


def atan(x):
    return math.atan(x)


def sinh(x):
    return math.sinh(x)


def cosh(x):
    return math.cosh(x)


def tanh(x):
    return math.tanh(x)


def asinh(x):
    return math.asinh(x)


def acosh(x):
    return math.acosh(x)


def atanh(x):
    return math.atanh(x)


def exp(x):
    return math.exp(x)


def expm1(x):
    return math.expm1(x)


def log(x):
    return math.log(x)


def log1p(x):
    return math.log1p(x)


def log2(x):
    return math.log2(x)


def log10(x):
    return math.log10(x)


def sqrt(x):
    return math.sqrt(x)


def fabs(x):
    return math.fabs(x)


def erf(x):
    return math.erf(x)


def erfc(x):
    return math.erfc(x)


def gamma(x):
    return math.gamma(x)


def lgamma(x):
    return math.lgamma(x)


def degrees(x):
    return math.degrees(x)


def radians(x):
    return math.radians(x)


def ldexp(x):
    return math.ldexp(x, 3)


def exp2(x):
    return math.exp2(x)


def cbrt(x):
    return math.cbrt(x)


# several arguments


def log_base(x, b):
    return math.log(x, b)


def log_base_const(x):
    return math.log(x, 10.0)


def atan2(y, x):
    return math.atan2(y, x)


def pow_(x, y):
    return math.pow(x, y)


def pow_const(x):
    return math.pow(x, 3.0)


def hypot(x, y):
    return math.hypot(x, y)


def hypot3(x, y, z):
    return math.hypot(x, y, z)


def hypot1(x):
    return math.hypot(x)


def dist(a, b, c, e):
    return math.dist([a, b], (c, e))


def fsum(a, b, c):
    return math.fsum([a, b, c * c])


def prod(a, b, c):
    return math.prod([a, b, c])


def prod_start(a, b, s):
    return math.prod((a, b), start=s)


def copysign(x, y):
    return math.copysign(x, y)


def fmod(x, y):
    return math.fmod(x, y)


def remainder(x, y):
    return math.remainder(x, y)


# builtins


def b_abs(x):
    return abs(x)


def b_pow(x, y):
    return pow(x, y)


def b_pow_int(x):
    return pow(x, 3)


def b_float(x):
    return float(x) * x


def b_float_array(x):
    return float(x[1]) * x[0]


def b_round_int(x):
    return round(x) * x + int(x) * x * x + round(x, 1)


def b_max2(a, b):
    return max(a, b)


def b_min2(a, b):
    return min(a, b)


def b_max3(a, b, c):
    return max(a * a, b, c) + min(a, c, 0.25)


def b_max_array(x):
    return max(x) * 2.0


def b_abs_array(x):
    return np.sum(abs(x) * x)


def b_pow_array(x, y):
    return np.sum(pow(x, y))


def py_mod(x, y):
    return x % y + x // y


# piecewise-constant functions contribute nothing


def nondiff(x):
    a = math.floor(x) * x + math.ceil(x) + math.trunc(x) * x * x
    if math.isfinite(a) and not math.isnan(a) and not math.isinf(a):
        a = a + x
    return a


# compositions, control flow


def composite(x, y):
    a = math.exp(math.sin(x)) * math.log1p(x * x)
    b = math.hypot(a, y) / math.sqrt(1.0 + y * y)
    return math.atan2(b, a) + math.lgamma(1.0 + a * a) + abs(y) ** 1.5


def newton_sqrt(a):
    x = 1.0
    for i in range(8):
        x = 0.5 * (x + a / x)
    return x + math.erf(x)


def series(x):
    s = 0.0
    t = 1.0
    n = 0
    while n < 12:
        s = s + t
        n = n + 1
        t = t * x / n
    return s - math.exp(x) + math.tanh(s)
