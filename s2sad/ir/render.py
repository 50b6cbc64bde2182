"""IR -> Python source text, through the standard library's ``ast.unparse``.

Comments (:class:`~s2sad.ir.nodes.Comment`) travel through ``ast`` as
marked string statements and come out as ``# text`` lines.  A negative
numeric constant as the base of ``**`` (or the object of an attribute) is
written as a negation, so ``ast.unparse`` puts the parentheses Python needs
(``(-1.2) ** 2``, not ``-1.2 ** 2``, which is ``-(1.2 ** 2)``).
"""

from __future__ import annotations

import ast

from s2sad.ir import nodes as N

_MARK = "\x00s2sad-comment\x00"

_OPS = {name: getattr(ast, name) for name in (
    "Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "MatMult", "BitAnd", "BitOr", "BitXor",
    "LShift", "RShift", "USub", "UAdd", "Not", "Invert", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is",
    "IsNot", "In", "NotIn")}

_LOAD, _STORE = ast.Load(), ast.Store()


def _negative(e):
    if not isinstance(e, N.Const):
        return False
    v = e.value
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v < 0 or (v == 0 and str(v).startswith("-"))
    return isinstance(v, complex) and (v.real < 0 or (v.real == 0 and str(v.real).startswith("-")))


def _operand(e):
    """An operand that binds tighter than a minus sign (the base of ``**``,
    the object of an attribute): a negative constant is a negation there."""
    if _negative(e):
        return ast.UnaryOp(ast.USub(), ast.Constant(-e.value))
    return expr(e)


def expr(e, ctx=_LOAD):
    """IR expression -> ``ast`` expression."""
    if isinstance(e, N.Name):
        return ast.Name(e.id, ctx)
    if isinstance(e, N.Static):
        return ast.Name(e.name, _LOAD)
    if isinstance(e, N.Const):
        return ast.Constant(e.value)
    if isinstance(e, N.Attr):
        return ast.Attribute(_operand(e.value), e.attr, ctx)
    if isinstance(e, N.Sub):
        return ast.Subscript(expr(e.value), expr(e.index), ctx)
    if isinstance(e, N.Slice):
        return ast.Slice(*(None if x is None else expr(x) for x in (e.lower, e.upper, e.step)))
    if isinstance(e, N.BinOp):
        return ast.BinOp(_operand(e.left) if e.op == "Pow" else expr(e.left), _OPS[e.op](), expr(e.right))
    if isinstance(e, N.UnaryOp):
        return ast.UnaryOp(_OPS[e.op](), expr(e.operand))
    if isinstance(e, N.Compare):
        return ast.Compare(expr(e.left), [_OPS[o]() for o in e.ops], [expr(c) for c in e.comparators])
    if isinstance(e, N.IfExp):
        return ast.IfExp(expr(e.test), expr(e.body), expr(e.orelse))
    if isinstance(e, N.Call):
        return ast.Call(expr(e.func), [expr(a) for a in e.args],
                        [ast.keyword(k, expr(v)) for k, v in e.kwargs])
    if isinstance(e, N.Starred):
        return ast.Starred(expr(e.value), ctx)
    if isinstance(e, N.Tuple):
        return ast.Tuple([expr(x, ctx) for x in e.elts], ctx)
    if isinstance(e, N.List):
        return ast.List([expr(x, ctx) for x in e.elts], ctx)
    if isinstance(e, N.Dict):
        return ast.Dict([expr(k) for k in e.keys], [expr(v) for v in e.values])
    if isinstance(e, N.Pop):
        return ast.Call(ast.Attribute(ast.Name(e.stack, _LOAD), "pop", _LOAD), [], [])
    if isinstance(e, N.Yield):
        return ast.Yield(expr(e.value))
    if isinstance(e, N.ListComp):
        return ast.ListComp(expr(e.elt), [ast.comprehension(ast.Name(e.target, _STORE), expr(e.iter), [], 0)])
    raise TypeError(f"cannot render {type(e).__name__}")


def stmt(s):
    """IR statement -> ``ast`` statement."""
    if isinstance(s, N.Assign):
        return ast.Assign([expr(s.target, _STORE)], expr(s.value), lineno=0)
    if isinstance(s, N.Eval):
        return ast.Expr(expr(s.value))
    if isinstance(s, N.Push):
        return ast.Expr(ast.Call(ast.Attribute(ast.Name(s.stack, _LOAD), "append", _LOAD), [expr(s.value)], []))
    if isinstance(s, N.If):
        return ast.If(expr(s.test), block(s.body), block(s.orelse, empty_ok=True))
    if isinstance(s, N.For):
        return ast.For(ast.Name(s.target, _STORE), expr(s.iter), block(s.body), [], lineno=0)
    if isinstance(s, N.While):
        return ast.While(expr(s.test), block(s.body), [])
    if isinstance(s, N.Return):
        return ast.Return(expr(s.value))
    if isinstance(s, N.Break):
        return ast.Break()
    if isinstance(s, N.Continue):
        return ast.Continue()
    if isinstance(s, N.Pass):
        return ast.Pass()
    if isinstance(s, N.Comment):
        return ast.Expr(ast.Constant(_MARK + s.text))
    if isinstance(s, N.Nonlocal):
        return ast.Nonlocal(list(s.names))
    if isinstance(s, N.FunctionDef):
        return function(s)
    raise TypeError(f"cannot render {type(s).__name__}")


def block(stmts, empty_ok=False):
    out = [stmt(s) for s in stmts]
    if not out:
        return [] if empty_ok else [ast.Pass()]
    if all(_is_comment(x) for x in out):
        out.append(ast.Pass())      # a block of comments alone is no block
    return out


def _is_comment(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, str) and node.value.value.startswith(_MARK)


def function(fd):
    args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in fd.params], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[expr(d) for d in fd.defaults])
    return ast.FunctionDef(fd.name, args, block(fd.body), [], None, None, type_params=[], lineno=0)


def source(node):
    """Source text of an IR function, statement or list of statements."""
    if isinstance(node, N.FunctionDef):
        body = [function(node)]
    elif isinstance(node, list):
        body = block(node, empty_ok=True)
    elif isinstance(node, N.Stmt):
        body = [stmt(node)]
    else:
        return ast.unparse(ast.fix_missing_locations(expr(node)))
    text = ast.unparse(ast.fix_missing_locations(ast.Module(body, [])))
    return _comments(text)


def _comments(text):
    mark = repr(_MARK)[1:-1]
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped[:1] in "'\"" and stripped.lstrip("\"'").startswith(mark):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "# " + ast.literal_eval(stripped)[len(_MARK):])
        else:
            out.append(line)
    return "\n".join(out)


def text(e):
    """Source text of one expression (for messages and comments)."""
    return ast.unparse(ast.fix_missing_locations(expr(e)))
