"""Functions s2sad cannot differentiate, one reason each (tests/test_errors.py).

The tests find each offending line by its text, so the functions may move.
"""

import math

import numpy as np

SCALE = 2.0


def no_rule_numpy(x):
    y = np.fft.ihfft(x)
    return np.sum(np.abs(y))


def no_rule_c_function(x):
    y = np.nextafter(x, 10.0)  # a ufunc written in C, with no rule
    return np.sum(y * 2.0)


def try_statement(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return np.sum(y)


def with_statement(x):
    with np.errstate(all="ignore"):
        y = np.log(x)
    return np.sum(y)


def global_statement(x):
    global SCALE
    SCALE = 3.0
    return np.sum(x * SCALE)


def dict_comprehension(x):
    ys = {i: x[i] * 2.0 for i in range(3)}
    return ys[0]


def undefined_name(x):
    y = x * undefined_scale
    return np.sum(y)


def appends_to_aliased_list(x):
    parts = [x]
    same = parts
    parts.append(x * 2.0)
    return np.sum(same[1])


GLOBAL_ARRAY = np.ones(3)


def mutates_global(x):
    g = GLOBAL_ARRAY
    g[0] = 2.0
    return np.sum(g * x)


def for_else(x):
    s = 0.0
    for i in range(3):
        s = s + x[i]
    else:
        s = s * 2.0
    return s


def while_else(x):
    i = 0
    while i < 3:
        i = i + 1
    else:
        x = x * 2.0
    return np.sum(x)


def starred_assignment(x):
    a, *rest = x
    return a * 2.0


def generator(x):
    yield x * 2.0
    return np.sum(x)


def early_return(x):
    if x > 0.0:
        return x * 2.0
    y = -x
    return y


def del_statement(x):
    y = x * 2.0
    del y
    return np.sum(x)


def kwargs_call(x, options):
    return np.sum(x, **options)


def walrus(x):
    if (y := x * 2.0) > 0.0:
        x = y
    return x


def effect_call(x):
    y = x * 1.0
    y.sort()
    return np.sum(y)


def unsupported_rule_keyword(x, mask):
    return np.sum(x, where=mask)


def non_scalar_output(x):
    return x * 2.0


def int_argument(n, x):
    return np.sum(x) * n


def varargs(*xs):
    return np.sum(xs[0])


class Model:
    @staticmethod
    def indented(x):
        y = np.fft.ihfft(x)
        return np.sum(np.abs(y))


square_lambda = lambda x: np.sum(x * x)  # noqa: E731


# complex values on a differentiated path: refused, never a wrong gradient
COMPLEX_GLOBAL = np.array([1 + 1j, 2j, 1.0])


def complex_literal(x):
    return np.sum(np.abs(x * (1 + 1j) + 0.5j))


def complex_global(x):
    return np.sum(np.abs(COMPLEX_GLOBAL * x))


def complex_argument(x, c):
    return np.sum(np.abs(c * x))


def complex_astype(x):
    z = x.astype(np.complex128) * np.exp(0.3j)
    return np.sum(np.abs(z) ** 3)


def complex_off_the_path(x):
    phase = np.abs(np.exp(0.5j))           # complex, but nothing differentiated flows through it
    return np.sum(x * x) * phase


class _Holder:
    pass


HOLDER = _Holder()
HOLDER.arr = np.zeros(3)
HOLDER.log = []


def fill_outside_array(x):
    HOLDER.arr.fill(x[0])
    return np.sum(HOLDER.arr * x)


def log_outside(x):
    HOLDER.log.append(x[0])          # a record, not read by the result: fine
    return np.sum(x * x)


def sqrt_scalar(x, y):
    s = x ** 0.5                 # an infinite derivative at x = 0.0
    return s * y + math.pow(y, 1.5)


def half_power(x):
    return math.pow(x, 0.5) + x


def uses_half_power(x):
    z = x * 2.0
    return half_power(z) * 3.0


def divides(x):
    return 1.0 / x               # the function itself fails at x = 0.0
