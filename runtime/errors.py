"""The s2sad exception hierarchy.

It lives in the runtime package so that generated (and exported) code can
raise the same errors as the compiler without importing it.  ``s2sad.errors``
re-exports every class.

Messages have three parts: *where* (``file:line``, the line, a caret),
*what* went wrong, and *what to do*.
"""

from __future__ import annotations

import re


def def_location(fn):
    """Error keywords naming the ``def`` line of function ``fn`` (none for
    an object without code)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return {}
    import linecache
    return dict(filename=code.co_filename, lineno=code.co_firstlineno, function=fn.__qualname__,
                line=linecache.getline(code.co_filename, code.co_firstlineno) or None)


# a comment naming the line a generated statement comes from: the user's
# file (``# f.py:12  ...``, ``# adjoint of f.py:12  ...``) or, in code
# generated from generated code (hvp, grad of grad), the generated file
# (``# <s2sad f.py:loss:grad>:7  ...``)
_GENERATED_COMMENT = re.compile(r"#\s+(?:adjoint of\s+)?(<s2sad .*?>|[^\s:]+):(\d+)\s")


def names_source(comment):
    """Is ``comment`` (a stripped line) a comment naming a source line,
    ``# file.py:12  ...`` or ``# adjoint of file.py:12  ...``?"""
    return _GENERATED_COMMENT.match(comment) is not None


def commented_source(line_text, lineno, generated=True):
    """``(file, line)`` that the comment at or above line ``lineno`` of
    generated code names, or None; ``line_text(i)`` is generated line ``i``
    (from 1).  ``generated=False`` passes over comments naming generated
    code."""
    for i in range(lineno, 0, -1):
        m = _GENERATED_COMMENT.match(line_text(i).strip())
        if m and (generated or not m.group(1).startswith("<s2sad ")):
            return m.group(1), int(m.group(2))
    return None


def commented_user_line(line_text, lineno):
    """The user's line that the comment at or above line ``lineno`` of
    generated code names (``# file.py:12  ...``, ``# adjoint of
    file.py:12  ...``), or None."""
    at = commented_source(line_text, lineno, generated=False)
    return None if at is None else at[1]


def innermost_generated(tb):
    """``(file, line)`` of the innermost frame of generated code a
    traceback passed, or None."""
    where = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sad "):
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return where


class S2SadError(Exception):
    """Base class of every error s2sad raises on purpose."""

    def __init__(self, message, *, filename=None, lineno=None, line=None, col=None,
                 end_col=None, hint=None, function=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.line = line
        self.col = col
        self.end_col = end_col
        self.hint = hint
        self.function = function
        super().__init__(self._format())

    def _format(self):
        parts = []
        head = self.message
        if self.filename is not None and self.lineno is not None:
            where = f"{self.filename}:{self.lineno}"
            if self.function:
                where += f" (in {self.function})"
            head = f"{where}: {self.message}"
        parts.append(head)
        if self.line is not None:
            text = self.line.rstrip("\n")
            stripped = text.lstrip()
            indent = len(text) - len(stripped)
            parts.append("    " + stripped)
            if self.col is not None:
                start = max(self.col - indent, 0)
                end = self.end_col - indent if self.end_col is not None and self.end_col > self.col else start + 1
                end = min(max(end, start + 1), len(stripped)) if stripped else start + 1
                parts.append("    " + " " * start + "^" * max(end - start, 1))
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)


class UnsupportedSyntaxError(S2SadError):
    """A construct of Python the compiler does not differentiate."""


class NoRuleError(S2SadError):
    """A call on a differentiated path has no derivative rule."""


class NonScalarOutputError(S2SadError, ValueError):
    """``grad`` of a function whose output is not a scalar."""


class NonDifferentiableInputError(S2SadError, TypeError):
    """A gradient was asked for an integer, boolean or non-numeric input."""


class ResolutionError(S2SadError):
    """A name the function uses cannot be found, or its source cannot be read."""


class InputMutationError(S2SadError):
    """The function writes into one of its inputs in place."""


class DerivativeDomainError(S2SadError, ArithmeticError):
    """Python raised evaluating a derivative the function itself did not
    need (``x ** 0.5`` at ``x = 0.0``: the derivative is infinite, and
    Python floats raise where NumPy gives ``inf``).  The error raised is
    also of the class Python raised (``ZeroDivisionError``, ``ValueError``:
    ``s2sad.errors.derivative_domain_error``)."""


class ArgumentError(S2SadError, TypeError):
    """A transform was called with arguments it cannot use (bad ``wrt``...)."""
