"""Errors raised by s2sad (defined in ``s2sad_runtime.errors`` so that
generated code can raise them without the compiler), and the helper that
locates a syntax node in the user's file."""

from __future__ import annotations

import linecache
import os
import re

from s2sad_runtime.errors import (  # noqa: F401
    ArgumentError, DerivativeDomainError, InputMutationError, NoRuleError, NonDifferentiableInputError,
    NonScalarOutputError, ResolutionError, S2SadError, UnsupportedSyntaxError, commented_source, commented_user_line,
    innermost_generated,
)


def error_at(cls, node, src, message, hint=None):
    """Build an error of class ``cls`` pointing at ``node`` of the function
    source ``src`` (a :class:`s2sad.frontend.parse.FunctionSource`)."""
    lineno = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    end_col = getattr(node, "end_col_offset", None)
    end_line = getattr(node, "end_lineno", None)
    if src is None or lineno is None:
        return cls(message, hint=hint)
    file_line = src.file_line(lineno)
    line = src.line_text(lineno)
    if col is not None:
        col += src.col_shift
    if end_col is not None:
        end_col += src.col_shift
        if end_line is not None and end_line != lineno:
            end_col = len(line.rstrip())
    return cls(message, filename=src.filename, lineno=file_line, line=line, col=col,
               end_col=end_col, hint=hint, function=src.qualname)


def error_at_loc(cls, loc, message, hint=None):
    """Build an error of class ``cls`` at IR location ``loc`` (a
    :class:`s2sad.ir.nodes.Loc`: the user's file, line and expression)."""
    if loc is None or loc.src is None:
        return cls(message, hint=hint)
    src = loc.src
    span = loc.span
    lineno = span[0] if span and span[0] is not None else loc.line
    origin = getattr(src.fn, "__s2sad_origin__", None)
    if origin is not None:
        # generated code differentiated again (hvp, grad of grad): the user's
        # line its comments name, not the generated one
        at = _user_line(src, lineno)
        if at is not None:
            import linecache
            return cls(f"{message} (in the derivative s2sad generated for this line)", filename=origin[0],
                       lineno=at, line=linecache.getline(origin[0], at) or None, hint=hint, function=origin[1])
    line = src.line_text(lineno)
    col = end_col = None
    if span and span[0] is not None:
        col, end_line, end_col = span[1], span[2], span[3]
        if col is not None:
            col += src.col_shift
        if end_col is not None:
            end_col += src.col_shift
            if end_line is not None and end_line != lineno:
                end_col = len(line.rstrip())
    return cls(message, filename=src.filename, lineno=src.file_line(lineno), line=line, col=col,
               end_col=end_col, hint=hint, function=src.qualname)


def _user_line(src, lineno):
    """The user's file line that the comment above generated line
    ``lineno`` names (``# file.py:12  ...``, ``# adjoint of file.py:12``)."""
    return commented_user_line(src.line_text, lineno)


# ------------------------------------------------- errors in derivative code

_DERIVATIVE_TARGET = re.compile(r"\s*(\w+(?:_adj|_tan))\s*[+\-*/]?=")


def derivative_domain_error(e, origin):
    """A :class:`DerivativeDomainError` at the user's line for an
    arithmetic error ``e`` (``ZeroDivisionError``, ``OverflowError``,
    ``ValueError('math domain error')``) that a derivative statement of
    generated code raised, or None when ``e`` is anything else (a primal
    statement's error is the user's own: it is raised unchanged).
    ``origin``: the user's (file, function)."""
    if isinstance(e, S2SadError) or (isinstance(e, ValueError) and str(e) != "math domain error"):
        return None
    where = innermost_generated(e.__traceback__)
    if where is None or not _DERIVATIVE_TARGET.match(linecache.getline(*where)):
        return None
    filename, lineno = where
    for _ in range(8):          # through each level of generated code to the user's line
        if not filename.startswith("<s2sad "):
            break
        lines = linecache.getlines(filename)
        at = commented_source(lambda i: lines[i - 1], min(lineno, len(lines)))
        if at is None:
            return None
        filename, lineno = at
    path, function = origin
    if os.path.basename(path) == filename:
        filename = path
    return _domain_error_class(type(e))(
        f"the derivative of this line cannot be evaluated here: {type(e).__name__}: {e}",
        filename=filename, lineno=lineno, line=linecache.getline(filename, lineno) or None, function=function,
        hint="the function has an infinite or undefined derivative at these inputs (x ** 0.5 or math.sqrt(x) "
             "at x = 0, math.log(x) at 0): Python floats raise where NumPy gives inf or nan; keep the "
             "inputs off that point, or pass NumPy values (np.float64) to get NumPy's inf/nan")


_DOMAIN_CLASSES = {}


def _domain_error_class(cls):
    """:class:`DerivativeDomainError` that is also a ``cls``
    (``ZeroDivisionError``, ``ValueError``...): code catching what Python
    raised catches it still."""
    t = _DOMAIN_CLASSES.get(cls)
    if t is None:
        t = _DOMAIN_CLASSES[cls] = type("DerivativeDomainError", (DerivativeDomainError, cls),
                                        {"__module__": DerivativeDomainError.__module__,
                                         "__reduce__": lambda self: (_rebuilt_domain_error, (cls, str(self)))})
    return t


def _rebuilt_domain_error(cls, text):
    """An unpickled :func:`_domain_error_class` error (one made by a
    worker process, say), its message as it was."""
    return _domain_error_class(cls)(text)
