"""The one module that touches ``gast``.

Every other part of the compiler builds and inspects syntax through the
names exported here, so a change in gast's node signatures (the cause of
Tangent's breakage, google/tangent#97 and #105) is mended in one file.
Source text is produced with the standard library's ``ast.unparse``.
"""

from __future__ import annotations

import ast

import gast

# node classes used in isinstance checks elsewhere
from gast import (  # noqa: F401  (re-exported)
    AST, Add, And, Assign, Attribute, AugAssign, BinOp, BitAnd, BitOr, BitXor, BoolOp, Break,
    Call, Compare, Constant, Continue, Del, Delete, Dict, DictComp, Div, Eq, Expr, FloorDiv,
    For, FunctionDef, GeneratorExp, Global, Gt, GtE, If, IfExp, In, Invert, Is, IsNot, Lambda,
    List, ListComp, Load, LShift, Lt, LtE, MatMult, Mod, Module, Mult, Name, Nonlocal, Not,
    NotEq, NotIn, Or, Pass, Pow, Return, RShift, Set, SetComp, Slice, Starred, Store, Sub,
    Subscript, Tuple, UAdd, UnaryOp, USub, While, With, AsyncFunctionDef, ClassDef, Try,
    Raise, Assert, Import, ImportFrom, Yield, YieldFrom, Await, NamedExpr, JoinedStr,
    AnnAssign, keyword, arguments, comprehension,
)

try:  # Python >= 3.10 has match statements; gast names them Match
    from gast import Match  # noqa: F401
except ImportError:  # pragma: no cover
    Match = None


def parse(source: str) -> gast.Module:
    return gast.parse(source)


def to_source(node) -> str:
    """gast node (or list of statements) -> Python source text."""
    if isinstance(node, list):
        node = gast.Module(body=node, type_ignores=[])
    tree = gast.gast_to_ast(node)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def walk(node):
    return gast.walk(node)


def copy(node):
    """Deep copy of a node (keeps line numbers)."""
    import copy as _copy
    return _copy.deepcopy(node)


# --------------------------------------------------------------------------
# constructors


def name(id: str, store: bool = False) -> gast.Name:
    return gast.Name(id=id, ctx=gast.Store() if store else gast.Load(), annotation=None, type_comment=None)


def const(value) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def attr(value, attribute: str) -> gast.Attribute:
    if isinstance(value, str):
        value = dotted(value)
    return gast.Attribute(value=value, attr=attribute, ctx=gast.Load())


def dotted(path: str):
    parts = path.split(".")
    node = name(parts[0])
    for p in parts[1:]:
        node = gast.Attribute(value=node, attr=p, ctx=gast.Load())
    return node


def call(func, args=(), keywords=None):
    if isinstance(func, str):
        func = dotted(func)
    kws = [gast.keyword(arg=k, value=v) for k, v in (keywords or {}).items()]
    return gast.Call(func=func, args=list(args), keywords=kws)


def assign(target, value) -> gast.Assign:
    if isinstance(target, str):
        target = name(target, store=True)
    return gast.Assign(targets=[target], value=value, type_comment=None)


def binop(left, op, right) -> gast.BinOp:
    return gast.BinOp(left=left, op=op, right=right)


def tuple_(elts, store=False) -> gast.Tuple:
    return gast.Tuple(elts=list(elts), ctx=gast.Store() if store else gast.Load())


def list_(elts) -> gast.List:
    return gast.List(elts=list(elts), ctx=gast.Load())


def subscript(value, index, store=False) -> gast.Subscript:
    return gast.Subscript(value=value, slice=index, ctx=gast.Store() if store else gast.Load())


def located(node, like):
    """``node`` with the source location of ``like``."""
    return gast.copy_location(node, like)


def expr_stmt(value) -> gast.Expr:
    return gast.Expr(value=value)


def ret(value) -> gast.Return:
    return gast.Return(value=value)


def if_(test, body, orelse=()) -> gast.If:
    return gast.If(test=test, body=list(body) or [gast.Pass()], orelse=list(orelse))


def for_(target, iter, body) -> gast.For:
    if isinstance(target, str):
        target = name(target, store=True)
    return gast.For(target=target, iter=iter, body=list(body) or [gast.Pass()], orelse=[], type_comment=None)


def while_(test, body) -> gast.While:
    return gast.While(test=test, body=list(body) or [gast.Pass()], orelse=[])


def unary(op, operand) -> gast.UnaryOp:
    return gast.UnaryOp(op=op, operand=operand)


def param(id: str) -> gast.Name:
    return gast.Name(id=id, ctx=gast.Param(), annotation=None, type_comment=None)


def function_def(fname: str, params, body, defaults=()) -> gast.FunctionDef:
    args = gast.arguments(
        args=[param(p) for p in params],
        posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
        defaults=list(defaults),
    )
    fields = dict(name=fname, args=args, body=list(body), decorator_list=[], returns=None, type_comment=None)
    if "type_params" in gast.FunctionDef._fields:
        fields["type_params"] = []
    return gast.FunctionDef(**fields)


def Comment(text: str) -> gast.Expr:
    """A comment line in generated code: an expression statement holding a
    marked string, rendered by :func:`render` as ``# text``."""
    return gast.Expr(value=gast.Constant(value=_COMMENT_MARK + text, kind=None))


_COMMENT_MARK = "\x00s2sad-comment\x00"


def render(node) -> str:
    """Source text with :func:`Comment` markers turned into ``#`` lines."""
    text = to_source(node)
    mark = repr(_COMMENT_MARK)[1:-1]
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.lstrip("\"'").startswith(mark):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "# " + ast.literal_eval(stripped)[len(_COMMENT_MARK):])
        else:
            out.append(line)
    return "\n".join(out)


def is_comment(node) -> bool:
    return (isinstance(node, gast.Expr) and isinstance(node.value, gast.Constant)
            and isinstance(node.value.value, str) and node.value.value.startswith(_COMMENT_MARK))


def comment_text(node) -> str:
    """The text of a :func:`Comment` statement."""
    return node.value.value[len(_COMMENT_MARK):]


def param_names(fn: gast.FunctionDef):
    return [a.id for a in fn.args.args]


def static_key(node):
    """The dotted path of a name or attribute chain (``np.linalg.inv``), or
    None for any other expression."""
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        k = static_key(node.value)
        return None if k is None else k + "." + node.attr
    return None


def names_in(node, ctx=None):
    """Identifiers read (ctx='load'), written ('store') or all (None) in node."""
    out = []
    for n in gast.walk(node):
        if isinstance(n, gast.Name):
            if ctx is None or (ctx == "load" and isinstance(n.ctx, gast.Load)) or (
                ctx == "store" and isinstance(n.ctx, (gast.Store, gast.Del))
            ):
                out.append(n.id)
    return out
