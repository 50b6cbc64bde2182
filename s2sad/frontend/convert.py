"""Plain gast expressions -> IR expressions, names left unresolved (for rule
templates, which the compiler reads but never runs)."""

from __future__ import annotations

from s2sad.frontend import syntax as S
from s2sad.ir import nodes as N

_OPS = {S.Add: "Add", S.Sub: "Sub", S.Mult: "Mult", S.Div: "Div", S.Pow: "Pow", S.MatMult: "MatMult",
        S.FloorDiv: "FloorDiv", S.Mod: "Mod", S.BitAnd: "BitAnd", S.BitOr: "BitOr", S.BitXor: "BitXor",
        S.LShift: "LShift", S.RShift: "RShift", S.USub: "USub", S.UAdd: "UAdd", S.Not: "Not",
        S.Invert: "Invert", S.Eq: "Eq", S.NotEq: "NotEq", S.Lt: "Lt", S.LtE: "LtE", S.Gt: "Gt",
        S.GtE: "GtE", S.Is: "Is", S.IsNot: "IsNot", S.In: "In", S.NotIn: "NotIn"}


def expr(n):
    if isinstance(n, S.Name):
        return N.Name(n.id)
    if isinstance(n, S.Constant):
        return N.Const(n.value)
    if isinstance(n, S.Attribute):
        return N.Attr(expr(n.value), n.attr)
    if isinstance(n, S.Subscript):
        return N.Sub(expr(n.value), expr(n.slice))
    if isinstance(n, S.Slice):
        return N.Slice(*(None if x is None else expr(x) for x in (n.lower, n.upper, n.step)))
    if isinstance(n, S.BinOp):
        return N.BinOp(_OPS[type(n.op)], expr(n.left), expr(n.right))
    if isinstance(n, S.UnaryOp):
        if isinstance(n.op, S.USub) and isinstance(n.operand, S.Constant) and \
                isinstance(n.operand.value, (int, float)) and not isinstance(n.operand.value, bool):
            return N.Const(-n.operand.value)
        return N.UnaryOp(_OPS[type(n.op)], expr(n.operand))
    if isinstance(n, S.Compare):
        return N.Compare(expr(n.left), tuple(_OPS[type(o)] for o in n.ops), tuple(expr(c) for c in n.comparators))
    if isinstance(n, S.IfExp):
        return N.IfExp(expr(n.test), expr(n.body), expr(n.orelse))
    if isinstance(n, S.Call):
        return N.Call(expr(n.func), tuple(expr(a) for a in n.args), tuple((k.arg, expr(k.value)) for k in n.keywords))
    if isinstance(n, S.Starred):
        return N.Starred(expr(n.value))
    if isinstance(n, S.Tuple):
        return N.Tuple(tuple(expr(e) for e in n.elts))
    if isinstance(n, S.List):
        return N.List(tuple(expr(e) for e in n.elts))
    if isinstance(n, S.Dict):
        return N.Dict(tuple(expr(k) for k in n.keys), tuple(expr(v) for v in n.values))
    raise TypeError(f"unsupported expression in a rule template: {S.to_source(n)}")
