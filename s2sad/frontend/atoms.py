"""Pieces shared by the passes of the frontend: operands already lowered,
references to local functions, and the check that a function returns once,
at its end."""

from __future__ import annotations

from s2sad.errors import UnsupportedSyntaxError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts


class Lowered:
    """An operand already lowered to IR (passed where a gast node is
    expected: the pieces of a desugared statement)."""

    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr


class LocalFn:
    """A reference to a local function (a nested ``def`` or a ``lambda``)
    where an argument is expected: only an inlined call can take it."""

    __slots__ = ("node", "scope")

    def __init__(self, node, scope):
        self.node = node
        self.scope = scope


def check_returns(body, norm, fnode):
    """Only one ``return``, as the last statement of the function."""
    for st in iter_stmts(body):
        if isinstance(st, N.Return) and st is not body[-1]:
            raise error_at_loc(UnsupportedSyntaxError, st.loc,
                               "a `return` before the end of the function is not supported",
                               "assign the result to a variable and return it once, at the end")
    if not body or not isinstance(body[-1], N.Return):
        raise norm.error(fnode, "the function must end with `return <value>`",
                         "return the value to differentiate (a scalar for grad)")
