"""Every input s2sad cannot differentiate gives an error of one shape:

    /path/to/error_funcs.py:14 (in no_rule_numpy): no derivative rule for `np.fft.ihfft`
        y = np.fft.ihfft(x)
            ^^^^^^^^^^^^^
    hint: register one with @s2sad.adjoint(np.fft.ihfft) ...

the real file and line (computed here with ``inspect``, never hard-coded),
the line itself, a caret under the offending code, and what to do.
Errors about the call rather than the source (a bad ``wrt``, an integer
input) have no location: a message and a hint.

Tests marked ``xfail(strict=True)`` pin errors that are unclear today;
they start failing (XPASS) when the compiler is fixed -- then drop the mark.
"""

import inspect
import re

import numpy as np
import pytest

import s2sad
import error_funcs as E


def expected_location(fn, snippet):
    """(file line, stripped source line, caret column) of the first line of
    ``fn`` that contains ``snippet`` (or, for a pair ``(marker, snippet)``, of
    ``snippet`` on the first line that contains ``marker``)."""
    marker, snippet = snippet if isinstance(snippet, tuple) else (snippet, snippet)
    lines, first = inspect.getsourcelines(fn)
    for i, text in enumerate(lines):
        if marker in text:
            stripped = text.strip()
            return first + i, stripped, stripped.index(snippet)
    raise AssertionError(f"{snippet!r} not in the source of {fn.__qualname__}")


def assert_located(err, fn, snippet, what):
    """``err`` has the four-line shape and points at ``snippet`` in ``fn``."""
    lineno, stripped, col = expected_location(fn, snippet)
    snippet = snippet[1] if isinstance(snippet, tuple) else snippet
    filename = fn.__code__.co_filename
    lines = str(err).splitlines()
    assert len(lines) == 4, str(err)
    head = f"{filename}:{lineno} (in {fn.__qualname__}): "
    assert lines[0].startswith(head), f"{lines[0]!r} does not start with {head!r}"
    assert what in lines[0][len(head):], f"{what!r} not in {lines[0]!r}"
    assert lines[1] == "    " + stripped
    assert lines[2] == "    " + " " * col + "^" * len(snippet), "\n" + "\n".join(lines[1:3])
    assert re.fullmatch(r"hint: \S.{8,}", lines[3]), lines[3]
    assert (err.filename, err.lineno, err.function) == (filename, lineno, fn.__qualname__)


def vec():
    return np.array([1.0, 2.0, 3.0])


# name in error_funcs, argument factory, error class, part of the message, offending code
LOCATED = [
    ("no_rule_numpy", lambda: (vec(),), s2sad.NoRuleError, "no derivative rule for `np.fft.ihfft`",
     "np.fft.ihfft(x)"),
    ("no_rule_c_function", lambda: (vec(),), s2sad.NoRuleError, "`np.nextafter`", "np.nextafter(x, 10.0)"),
    ("try_statement", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`try`", "try:"),
    ("with_statement", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`with`",
     'with np.errstate(all="ignore"):'),
    ("global_statement", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`global`", "global SCALE"),
    ("dict_comprehension", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "dict comprehension",
     "{i: x[i] * 2.0 for i in range(3)}"),
    ("undefined_name", lambda: (vec(),), s2sad.ResolutionError, "`undefined_scale` is not defined",
     "undefined_scale"),
    ("appends_to_aliased_list", lambda: (vec(),), s2sad.InputMutationError, "changes made by `.append()`",
     "parts.append(x * 2.0)"),
    ("mutates_global", lambda: (vec(),), s2sad.InputMutationError, "defined outside the function", "g[0] = 2.0"),
    ("for_else", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`for ... else`", "for i in range(3):"),
    ("while_else", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`while ... else`", "while i < 3:"),
    ("starred_assignment", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "starred", "a, *rest"),
    ("early_return", lambda: (0.5,), s2sad.UnsupportedSyntaxError, "`return` before the end",
     "return x * 2.0"),
    ("del_statement", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`del`", "del y"),
    ("kwargs_call", lambda: (vec(), {}), s2sad.UnsupportedSyntaxError, "`**kwargs`", ("**options", "options")),
    ("walrus", lambda: (0.5,), s2sad.UnsupportedSyntaxError, "(:=)", "y := x * 2.0"),
    ("effect_call", lambda: (vec(),), s2sad.UnsupportedSyntaxError, "`y.sort()`", "y.sort()"),
]


@pytest.mark.parametrize("name,make_args,cls,what,snippet", LOCATED, ids=[c[0] for c in LOCATED])
def test_located_error(name, make_args, cls, what, snippet):
    fn = getattr(E, name)
    with pytest.raises(cls) as info:
        s2sad.grad(fn)(*make_args())
    assert_located(info.value, fn, snippet, what)


def test_error_in_indented_source():
    """A method's source is dedented before parsing; the caret still lands
    under the call in the real (indented) line."""
    fn = E.Model.indented
    with pytest.raises(s2sad.NoRuleError) as info:
        s2sad.grad(fn)(vec())
    assert_located(info.value, fn, "np.fft.ihfft(x)", "np.fft.ihfft")


def test_errors_are_raised_when_compiling_not_later():
    """Reading ``.source`` (no call) is enough to get the error."""
    with pytest.raises(s2sad.UnsupportedSyntaxError):
        s2sad.grad(E.try_statement).source


def test_yield():
    fn = E.generator
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.grad(fn)(vec())
    assert_located(info.value, fn, "yield x * 2.0", "yield")


def test_unsupported_rule_keyword():
    fn = E.unsupported_rule_keyword
    with pytest.raises(s2sad.S2SadError) as info:
        s2sad.grad(fn)(vec(), np.array([True, False, True]))
    assert_located(info.value, fn, "np.sum(x, where=mask)", "where=")


def test_mutation_error_class():
    with pytest.raises(s2sad.InputMutationError):
        s2sad.grad(E.appends_to_aliased_list)(vec())


def test_hints_name_only_public_api():
    with pytest.raises(s2sad.NoRuleError) as info:
        s2sad.grad(E.no_rule_numpy)(vec())
    for name in re.findall(r"s2sad\.(\w+)", info.value.hint or ""):
        assert hasattr(s2sad, name), f"the hint names s2sad.{name}, which does not exist"


# ------------------------------------------------------------- at run time

def test_non_scalar_output_names_the_return():
    """grad of an array-valued function fails when it is called, naming the
    file and line of the return and pointing to vjp."""
    fn = E.non_scalar_output
    lineno, _, _ = expected_location(fn, "return x * 2.0")
    with pytest.raises(ValueError, match="scalar output") as info:
        s2sad.grad(fn)(vec())
    msg = str(info.value)
    assert f"error_funcs.py:{lineno}" in msg
    assert "(3,)" in msg and "vjp" in msg


def test_non_scalar_output_located():
    fn = E.non_scalar_output
    with pytest.raises(s2sad.NonScalarOutputError) as info:
        s2sad.grad(fn)(vec())
    assert_located(info.value, fn, "x * 2.0", "scalar")


# ------------------------------------------------ errors about the call itself

def assert_message_and_hint(err, what):
    """The message (``file:line (in f): what``, the line, when the error is
    located), then the hint."""
    lines = str(err).splitlines()
    assert len(lines) in (2, 3), str(err)
    assert what in lines[0], lines[0]
    if len(lines) == 3:
        assert re.match(r"\S+\.py:\d+ \(in \w+\): ", lines[0]) and lines[1].startswith("    def "), str(err)
    assert re.fullmatch(r"hint: \S.{8,}", lines[-1]), lines[-1]


def test_gradient_wrt_int_argument():
    with pytest.raises(s2sad.NonDifferentiableInputError) as info:
        s2sad.grad(E.int_argument, wrt=0)(3, vec())
    assert_message_and_hint(info.value, "with respect to `n`: it is an int")
    assert isinstance(info.value, TypeError)


def test_gradient_wrt_int_array():
    with pytest.raises(s2sad.NonDifferentiableInputError) as info:
        s2sad.grad(E.int_argument, wrt="x")(3.0, np.arange(3))
    assert_message_and_hint(info.value, "with respect to `x`: it is an array of int")


def test_int_argument_not_in_wrt_is_fine():
    g = s2sad.grad(E.int_argument, wrt=1)(3, vec())
    np.testing.assert_allclose(g, [3.0, 3.0, 3.0])


def test_bad_wrt_name():
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(E.int_argument, wrt="y")
    assert_message_and_hint(info.value, "wrt='y': int_argument has no parameter 'y'")
    assert "n, x" in info.value.hint


def test_bad_wrt_index():
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(E.int_argument, wrt=(0, 2))
    assert_message_and_hint(info.value, "wrt=2")


def test_bad_wrt_type():
    with pytest.raises(s2sad.ArgumentError, match="wrt must be an int, a parameter name"):
        s2sad.grad(E.int_argument, wrt=1.5)


def test_varargs_function():
    with pytest.raises(s2sad.ArgumentError) as info:
        s2sad.grad(E.varargs)
    assert_message_and_hint(info.value, "`*xs`")


def test_function_without_source():
    ns = {}
    exec("def f(x):\n    return x * x\n", ns)     # a function whose source is in no file
    with pytest.raises(s2sad.ResolutionError) as info:
        s2sad.grad(ns["f"])(vec())
    assert_message_and_hint(info.value, "cannot read the source")


def test_not_callable():
    with pytest.raises(s2sad.ArgumentError, match="expects a function"):
        s2sad.grad(42)


def test_every_error_is_an_s2sad_error():
    for cls in (s2sad.NoRuleError, s2sad.UnsupportedSyntaxError, s2sad.ResolutionError,
                s2sad.NonDifferentiableInputError, s2sad.ArgumentError, s2sad.NonScalarOutputError,
                s2sad.InputMutationError):
        assert issubclass(cls, s2sad.S2SadError)


# ------------------------------------------------------------ internal errors

def test_module_level_lambda():
    g = s2sad.grad(E.square_lambda)(vec())
    np.testing.assert_allclose(g, 2 * vec())


def test_wrong_argument_count_names_the_function():
    def loss(w, x):
        return np.sum((x @ w) ** 2)
    g = s2sad.grad(loss)
    with pytest.raises(s2sad.ArgumentError, match=r"grad of .*loss\(w, x\): missing a required argument: 'x'"):
        g(np.ones(3))
    with pytest.raises(TypeError, match=r"loss\(w, x\): too many positional arguments"):
        g(np.ones(3), np.ones((2, 3)), 5)


@pytest.mark.parametrize("fn", [np.sum, np.tanh, max])
def test_library_function_is_refused_with_a_hint(fn):
    with pytest.raises(s2sad.ArgumentError, match="differentiates Python functions from their source") as e:
        s2sad.grad(fn)
    assert "def f(x)" in e.value.hint


@pytest.mark.parametrize("planned", [True, False])
def test_out_sharing_memory_with_an_argument_is_refused(planned):
    """The gradient is written into out= while the call still reads its
    arguments: an out= array that is an argument, a view of one, or shares
    memory with an array inside a tuple argument is refused by name."""
    def loss(w, xs):
        return np.sum((xs[0] @ w) ** 2) + np.sum(xs[1] * w)
    g = s2sad.grad(loss, plan=planned)
    w, a, b = np.ones(3), np.ones((2, 3)), np.arange(3.0)
    want = g(w, (a, b))
    for bad, name in ((w, "w"), (w[:], "w"), (b, "xs"), (a[0], "xs")):
        with pytest.raises(s2sad.ArgumentError, match=f"shares memory with the argument `{name}`"):
            g(w, (a, b), out=bad)
    np.testing.assert_array_equal(w, np.ones(3))        # nothing was written
    out = np.empty(3)
    assert g(w, (a, b), out=out) is out
    np.testing.assert_allclose(out, want)


# ------------------------------------------------------------ complex values

_X3 = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "jvp"])
def test_a_function_not_known_to_hold_for_complex_values_is_refused_at_its_line(mode):
    """Complex values reach only functions whose rules are known to hold
    for them (tests/test_complex.py); ``astype`` to a complex dtype is
    refused at its line, never a wrong derivative."""
    df = getattr(s2sad, mode)(E.complex_astype)
    args = (_X3, np.ones(3)) if mode == "jvp" else (_X3,)
    with pytest.raises(s2sad.errors.NoRuleError, match="complex") as e:
        df(*args)
    lines, first = inspect.getsourcelines(E.complex_astype)
    assert e.value.function == "complex_astype" and "astype" in lines[e.value.lineno - first]


def test_a_method_call_changing_an_outside_array_the_result_reads_is_refused():
    """``B.arr.fill(x[0])`` changes what the result reads in a way s2sad
    cannot see: refused at its line (it was a silently wrong gradient)."""
    with pytest.raises(s2sad.errors.UnsupportedSyntaxError, match="HOLDER.arr") as e:
        s2sad.grad(E.fill_outside_array)(_X3)
    assert e.value.line.strip() == "HOLDER.arr.fill(x[0])"
    np.testing.assert_allclose(s2sad.grad(E.log_outside)(_X3), 2 * _X3)


# ------------------------------------------- a derivative Python cannot take

@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "vjp", "jvp", "hvp"])
def test_an_infinite_derivative_on_python_floats_is_located(mode):
    """``x ** 0.5`` at ``x = 0.0`` runs, its derivative does not: Python
    floats raise ``ZeroDivisionError`` where NumPy gives ``inf``.  The error
    names the user's line (through generated code differentiated again, for
    hvp), never the generated statement."""
    df = getattr(s2sad, mode)(E.sqrt_scalar, wrt=(0, 1))
    with pytest.raises(s2sad.DerivativeDomainError, match="ZeroDivisionError") as e:
        if mode == "vjp":
            df(0.0, 2.0)[1](1.0)
        elif mode in ("jvp", "hvp"):
            df(0.0, 2.0, (1.0, 1.0))
        else:
            df(0.0, 2.0)
    assert isinstance(e.value, ZeroDivisionError)     # what `except ZeroDivisionError` code expects
    import pickle
    again = pickle.loads(pickle.dumps(e.value))       # (from a worker process, say)
    assert isinstance(again, s2sad.DerivativeDomainError) and isinstance(again, ZeroDivisionError)
    assert str(again) == str(e.value)
    lineno, stripped, _ = expected_location(E.sqrt_scalar, "x ** 0.5")
    assert (e.value.filename, e.value.lineno, e.value.function) == (
        E.sqrt_scalar.__code__.co_filename, lineno, "sqrt_scalar")
    assert e.value.line.strip() == stripped and "hint: " in str(e.value)
    # off that point the same transform works, and agrees with differences
    x, y, h = 0.7, 2.0, 1e-6
    if mode == "grad":
        gx, gy = df(x, y)
        fd = (E.sqrt_scalar(x + h, y) - E.sqrt_scalar(x - h, y)) / (2 * h)
        assert abs(gx - fd) < 1e-6


def test_a_math_domain_error_of_a_derivative_names_the_inlined_line():
    """math.pow(x, 0.5) at 0 inside a called function: the line of the
    called function, which the derivative needed."""
    with pytest.raises(s2sad.DerivativeDomainError, match="math domain error") as e:
        s2sad.grad(E.uses_half_power)(0.0)
    assert isinstance(e.value, ValueError)
    lineno, _, _ = expected_location(E.half_power, "math.pow(x, 0.5)")
    assert e.value.lineno == lineno and "math.pow(x, 0.5)" in e.value.line


def test_the_functions_own_arithmetic_error_is_raised_unchanged():
    """A primal statement that fails fails as the function itself does."""
    with pytest.raises(ZeroDivisionError) as e:
        s2sad.grad(E.divides)(0.0)
    assert not isinstance(e.value, s2sad.S2SadError)
    with pytest.raises(ZeroDivisionError):
        E.divides(0.0)
