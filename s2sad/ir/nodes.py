"""The program representation (IR) between the frontend and the emitters.

One small family of node types serves every stage:

* the **normalized program** the frontend produces (A-normal form: one
  primitive per statement, operands are atoms -- local names, constants or
  static references), which the analyses read and the transforms consume;
* the **generated program** the transforms produce (the gradient or tangent
  function, with nested adjoint expressions, stack pushes and pops, comments),
  which the planner rewrites and the renderer turns into Python source.

Expressions are immutable values (frozen dataclasses compared by identity):
a transform shares sub-expressions freely and never edits one in place.
Statements are mutable records with an id (``sid``, unique within one
compilation) and a source location (:class:`Loc`).  Analysis results are
never stored on nodes: they live in tables keyed by ``sid`` (see
``s2sad/analysis``).

gast is the parser's concern only (``s2sad/frontend``); nothing here imports
it.  :mod:`s2sad.ir.render` turns the IR into source text through the
standard library's ``ast.unparse``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# source locations


@dataclass(frozen=True)
class Loc:
    """Where a statement came from: ``src`` (the user function's
    :class:`~s2sad.frontend.parse.FunctionSource`, the callee's for inlined
    code), ``line`` (line number in ``src``'s parsed text) and ``span``
    ``(lineno, col, end_lineno, end_col)`` of the user's expression, for the
    caret of an error message (``None``: the whole line)."""

    src: object
    line: int
    span: tuple = None

    def with_span(self, span):
        return Loc(self.src, self.line, span)


# --------------------------------------------------------------------------
# expressions


class Expr:
    __slots__ = ()


@dataclass(frozen=True, eq=False, slots=True)
class Name(Expr):
    """A local variable."""
    id: str


@dataclass(frozen=True, eq=False, slots=True)
class Const(Expr):
    """A literal: None, bool, int, float, complex, str, Ellipsis."""
    value: object


@dataclass(frozen=True, eq=False, slots=True)
class Static(Expr):
    """An object outside the function (a module, a global function or
    constant, a closure value), bound in the generated code's namespace
    under ``name``.  ``obj`` is the object itself (resolved at compile
    time); attribute chains are ``Attr`` nodes over a ``Static``."""
    name: str
    obj: object


@dataclass(frozen=True, eq=False, slots=True)
class Attr(Expr):
    value: Expr
    attr: str


@dataclass(frozen=True, eq=False, slots=True)
class Sub(Expr):
    """``value[index]``; a multi-axis index is a :class:`Tuple`."""
    value: Expr
    index: Expr


@dataclass(frozen=True, eq=False, slots=True)
class Slice(Expr):
    lower: Expr = None
    upper: Expr = None
    step: Expr = None


@dataclass(frozen=True, eq=False, slots=True)
class BinOp(Expr):
    """``op`` is the operator's ast name: Add, Sub, Mult, Div, FloorDiv, Mod,
    Pow, MatMult, BitAnd, BitOr, BitXor, LShift, RShift."""
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, eq=False, slots=True)
class UnaryOp(Expr):
    """``op``: USub, UAdd, Not, Invert."""
    op: str
    operand: Expr


@dataclass(frozen=True, eq=False, slots=True)
class Compare(Expr):
    """``left ops[0] comparators[0] ...``; ops are ast names (Lt, Eq, Is...)."""
    left: Expr
    ops: tuple
    comparators: tuple


@dataclass(frozen=True, eq=False, slots=True)
class IfExp(Expr):
    """``body if test else orelse`` (rule templates only)."""
    test: Expr
    body: Expr
    orelse: Expr


@dataclass(frozen=True, eq=False, slots=True)
class Call(Expr):
    func: Expr
    args: tuple = ()
    kwargs: tuple = ()          # ((name, Expr), ...)

    def kw(self, name, default=None):
        for k, v in self.kwargs:
            if k == name:
                return v
        return default


@dataclass(frozen=True, eq=False, slots=True)
class Starred(Expr):
    value: Expr


@dataclass(frozen=True, eq=False, slots=True)
class Tuple(Expr):
    elts: tuple


@dataclass(frozen=True, eq=False, slots=True)
class List(Expr):
    elts: tuple


@dataclass(frozen=True, eq=False, slots=True)
class Dict(Expr):
    keys: tuple
    values: tuple


@dataclass(frozen=True, eq=False, slots=True)
class Pop(Expr):
    """``_stack.pop()``: the value the matching :class:`Push` saved.
    ``slot`` names the saved quantity; a push and its pops share it, so a
    backend may keep one typed tape per slot (the Python code keeps one
    stack, where pushes and pops pair up by order)."""
    stack: str = "_stack"
    slot: object = None


@dataclass(frozen=True, eq=False, slots=True)
class Yield(Expr):
    value: Expr


@dataclass(frozen=True, eq=False, slots=True)
class ListComp(Expr):
    """``[elt for target in iter]`` (generated code only)."""
    elt: Expr
    target: str
    iter: Expr


# --------------------------------------------------------------------------
# statements

_ids = itertools.count(1)


def _sid():
    return next(_ids)


@dataclass(eq=False)
class Stmt:
    pass


def _stmt(cls):
    """Statement classes: mutable, compared by identity, with an id and a
    location after their own fields."""
    cls = dataclass(eq=False)(cls)
    return cls


@_stmt
class Assign(Stmt):
    """``target = value``; ``target`` is a :class:`Name`, a :class:`Tuple`
    of names (unpacking) or a :class:`Sub` of a name (a write into an array
    or a container)."""
    target: Expr
    value: Expr
    origin: str = None          # 'aug' (from `x += y`), 'retest' (a while test), 'jump' (break/continue flags)
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Eval(Stmt):
    """An expression evaluated for its effect (``lst.append(x)``)."""
    value: Expr
    origin: str = None
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Push(Stmt):
    """``_stack.append(value)``: saved for the reverse sweep (``slot``: as
    for :class:`Pop`)."""
    value: Expr
    stack: str = "_stack"
    slot: object = None
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class If(Stmt):
    test: Expr
    body: list
    orelse: list = field(default_factory=list)
    origin: str = None
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@dataclass(frozen=True)
class LoopStrategy:
    """A loop's strategy as written in the source: ``kind`` is 'checkpoint'
    (``s2sad.checkpointed``) or 'reversible' (``s2sad.reversible``); the
    options are atoms of the normalized program."""
    kind: str
    snapshots: Expr = None
    check: Expr = None
    frac_bits: Expr = None
    checkpoint_every: Expr = None
    residuals: bool = False
    loc: Loc = None


@_stmt
class For(Stmt):
    """``for target in iter``; in normalized code ``target`` is a name and
    ``iter`` a ``range(...)`` call or an atom."""
    target: str
    iter: Expr
    body: list
    strategy: LoopStrategy = None
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class While(Stmt):
    """``while test``; in normalized code ``test`` is a name recomputed at
    the end of the body (statements with ``origin='retest'``)."""
    test: Expr
    body: list
    strategy: LoopStrategy = None
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Return(Stmt):
    value: Expr
    loc: Loc = None
    sid: int = field(default_factory=_sid)
    value_loc: Loc = None       # the returned expression (for run-time checks of the output)


@_stmt
class Break(Stmt):
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Continue(Stmt):
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Pass(Stmt):
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Comment(Stmt):
    """A ``# text`` line of generated code."""
    text: str
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class Nonlocal(Stmt):
    names: tuple
    loc: Loc = None
    sid: int = field(default_factory=_sid)


@_stmt
class FunctionDef(Stmt):
    """A function: the normalized user function, or a generated one (the
    gradient, a checkpointed loop's step).  ``defaults`` align with the last
    parameters."""
    name: str
    params: list
    body: list
    defaults: list = field(default_factory=list)
    loc: Loc = None
    sid: int = field(default_factory=_sid)


COMPOUND = (If, For, While)


def blocks(st):
    """The nested statement lists of a compound statement."""
    if isinstance(st, If):
        return (st.body, st.orelse)
    if isinstance(st, (For, While, FunctionDef)):
        return (st.body,)
    return ()
