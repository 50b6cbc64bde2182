"""Reading a function's source: its syntax tree, its file and line numbers,
its globals and closure."""

from __future__ import annotations

import builtins
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field

from s2sad.errors import ResolutionError, UnsupportedSyntaxError, error_at
from s2sad.frontend import syntax as S


@dataclass
class FunctionSource:
    fn: object
    node: object                 # gast FunctionDef
    filename: str
    first_line: int              # file line of the first line of the parsed text
    col_shift: int               # columns removed by dedent
    lines: list                  # the file's lines (for messages)
    globals: dict
    closure: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)   # closure name -> cell (its value may change later)

    @property
    def qualname(self):
        return getattr(self.fn, "__qualname__", getattr(self.fn, "__name__", "<function>"))

    @property
    def short_filename(self):
        import os
        return os.path.basename(self.filename)

    def file_line(self, lineno):
        return lineno + self.first_line - 1

    def line_text(self, lineno):
        i = self.file_line(lineno) - 1
        return self.lines[i] if 0 <= i < len(self.lines) else ""

    def resolve(self, name):
        """The object a free name refers to (closure, then globals, then
        builtins); raises KeyError when there is none."""
        if name in self.closure:
            return self.closure[name]
        if name in self.globals:
            return self.globals[name]
        b = self.globals.get("__builtins__", builtins)
        if isinstance(b, dict):
            if name in b:
                return b[name]
        elif hasattr(b, name):
            return getattr(b, name)
        raise KeyError(name)


def read_function(fn) -> FunctionSource:
    """Parse ``fn``'s source into a gast FunctionDef with line information."""
    target = inspect.unwrap(fn)
    code = getattr(target, "__code__", None)
    if code is None:
        raise ResolutionError(
            f"cannot differentiate {fn!r}: it is not a Python function with source code",
            hint="pass a function defined with `def` in a file (or a function made by s2sad)")
    try:
        lines, first = inspect.getsourcelines(target)
    except (OSError, TypeError) as e:
        raise ResolutionError(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r}: {e}",
            hint="s2sad differentiates source code: define the function in a file "
                 "(functions typed at an interactive prompt have no source)") from None
    filename = code.co_filename
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    shift = _indent_of(text) - _indent_of(dedented)
    all_lines = linecache.getlines(filename) or lines
    try:
        module = S.parse(dedented)
    except SyntaxError as e:  # a lambda inside an expression, or a decorator line
        raise UnsupportedSyntaxError(
            f"cannot parse the source of {fn.__qualname__}: {e.msg}", filename=filename,
            lineno=first + (e.lineno or 1) - 1, line=all_lines[first + (e.lineno or 1) - 2] if all_lines else None,
            hint="define the function with `def` on its own lines") from None
    defs = [n for n in module.body if isinstance(n, (S.FunctionDef, S.AsyncFunctionDef))]
    if not defs:
        lam = [n for n in S.walk(module) if isinstance(n, S.Lambda)]
        if len(lam) == 1:
            r = S.ret(lam[0].body)
            r.lineno = lam[0].lineno
            node = S.function_def(fn.__name__ if fn.__name__ != "<lambda>" else "lambda_",
                                  [a.id for a in lam[0].args.args], [r])
            node.lineno = lam[0].lineno
            defs = [node]
        else:
            raise UnsupportedSyntaxError(
                f"cannot find the definition of {fn.__qualname__} in its source", filename=filename,
                lineno=first, line=all_lines[first - 1] if all_lines else None,
                hint="define the function with `def` (one lambda per line at most)")
    node = defs[0]
    if isinstance(node, S.AsyncFunctionDef):
        raise UnsupportedSyntaxError("cannot differentiate an async function", filename=filename,
                                     lineno=first, line=all_lines[first - 1] if all_lines else None)
    node.decorator_list = []
    if code.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        y = next((n for n in S.walk(node) if isinstance(n, (S.Yield, S.YieldFrom, S.Await))), node)
        src = FunctionSource(fn=target, node=node, filename=filename, first_line=first, col_shift=shift,
                             lines=all_lines, globals=target.__globals__)
        from s2sad.errors import error_at
        raise error_at(UnsupportedSyntaxError, y, src, "cannot differentiate a generator function (it uses `yield`)",
                       "return the values (e.g. in a list or an array) instead of yielding them")
    closure, cells = {}, {}
    if target.__closure__:
        for nm, cell in zip(code.co_freevars, target.__closure__):
            cells[nm] = cell
            try:
                closure[nm] = cell.cell_contents
            except ValueError:  # empty cell: a name bound later in the outer function
                pass
    return FunctionSource(fn=target, node=node, filename=filename, first_line=first, col_shift=shift,
                          lines=all_lines, globals=target.__globals__, closure=closure, cells=cells)


def _indent_of(text):
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def unsupported(node, src, what, hint=None):
    return error_at(UnsupportedSyntaxError, node, src, what, hint)
