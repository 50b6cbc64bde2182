"""Errors raised by s2sad (defined in ``s2sad_runtime.errors`` so that
generated code can raise them without the compiler), and the helper that
locates a syntax node in the user's file."""

from __future__ import annotations

from s2sad_runtime.errors import (  # noqa: F401
    ArgumentError, InputMutationError, NoRuleError, NonDifferentiableInputError,
    NonScalarOutputError, ResolutionError, S2SadError, UnsupportedSyntaxError, commented_user_line,
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
