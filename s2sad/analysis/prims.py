"""Classification: what each primitive of the normalized program is.

For every statement computing a primitive (``x = p``, ``x, y = p``, a call
for its effect) the pass finds the derivative rule that applies -- by the
identity of the called function (``np.tanh``), an operator name
(``"Mult"``), a method name (``.sum()``) or an attribute (``.T``) -- and
binds the rule template's parameters to the primitive's atoms.  The result
is a table ``sid -> Prim``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from s2sad.errors import UnsupportedSyntaxError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir.visit import is_static, iter_stmts, static_value  # noqa: F401 (re-exported)


@dataclass
class Prim:
    """What the compiler knows of one primitive: its kind, its rule and how
    the rule's parameters bind to the primitive's atoms.

    ``kind``: 'rule' (a template rule), 'vjp' (a user rule called at run
    time), 'const' (a constant or a static reference), 'nondiff' (no
    derivative: comparisons, ``np.floor``...), 'display' (a tuple or list
    display), 'dict', 'pop' (``lst.pop()``), 'unknown' (no rule).
    """
    kind: str
    expr: object = None               # the primitive (IR expression)
    rule: object = None
    bound: dict = field(default_factory=dict)   # template param -> atom | [atoms] | ("stacked" | "container", [atoms])
    func: object = None               # the called expression, for messages
    func_obj: object = None           # the called object when static
    method: str = None                # the method name of an unknown method call
    loc: object = None

    def diff_operands(self):
        """Local names that may receive contributions."""
        if self.kind == "vjp":
            return [n.id for n in self.bound.get("*args", []) if isinstance(n, N.Name)]
        if self.kind == "display":
            return [e.id for e in self.expr.elts if isinstance(e, N.Name)]
        if self.kind == "dict":
            return [e.id for e in self.expr.values if isinstance(e, N.Name)]
        if self.kind == "pop":
            return [self.bound["self"].id]
        if self.kind == "unknown":
            from s2sad.ir.visit import names
            return names(self.expr)
        if self.kind != "rule":
            return []
        out = []
        for p in self.rule.signature().contributions:
            v = self.bound.get(p)
            if isinstance(v, tuple) and v and v[0] in ("stacked", "container"):
                v = v[1]
            for n in (v if isinstance(v, list) else [v]):
                if isinstance(n, N.Name):
                    out.append(n.id)
        return out


class BindError(Exception):
    pass


_MISSING = object()


def classify_all(fn_body, rules, ns):
    """``sid -> Prim`` for every statement of ``fn_body`` that computes a
    primitive."""
    table = {}
    for st in iter_stmts(fn_body):
        if isinstance(st, (N.Assign, N.Eval)) and not (isinstance(st, N.Assign) and isinstance(st.target, N.Sub)):
            table[st.sid] = classify(st.value, rules, ns, st.loc)
    return table


def classify(prim, rules, ns, loc=None):
    try:
        p = _classify(prim, rules, ns)
    except BindError as e:
        raise error_at_loc(UnsupportedSyntaxError, loc, str(e),
                           "pass only the arguments listed in docs/rules.md, or register your own rule "
                           "with @s2sad.adjoint") from None
    p.expr = prim
    p.loc = loc
    return p


def _classify(prim, T, ns):
    if isinstance(prim, N.Name):
        return _bind(T.lookup("copy"), [prim], {}, ns)
    if isinstance(prim, N.Const) or is_static(prim):
        return Prim("const")
    if isinstance(prim, N.BinOp):
        r = T.lookup(prim.op)
        if r is None:
            return Prim("unknown")
        return _bind(r, [prim.left, prim.right], {}, ns)
    if isinstance(prim, N.UnaryOp):
        if prim.op == "USub":
            return _bind(T.lookup("USub"), [prim.operand], {}, ns)
        return Prim("nondiff")
    if isinstance(prim, N.Compare):
        return Prim("nondiff")
    if isinstance(prim, N.Sub):
        return _bind(T.lookup("subscript"), [prim.value, index_value(prim.index, ns)], {}, ns)
    if isinstance(prim, N.Attr):
        r = T.lookup("attr." + prim.attr)
        if r is None:
            return Prim("unknown")
        return _bind(r, [prim.value], {}, ns)
    if isinstance(prim, (N.Tuple, N.List)):
        return Prim("display")
    if isinstance(prim, N.Dict):
        return Prim("dict")
    if isinstance(prim, N.Call):
        return _classify_call(prim, T, ns)
    return Prim("unknown")


def _classify_call(call, T, ns):
    func = call.func
    args = list(call.args)
    kws = dict(call.kwargs)
    if is_static(func):
        obj = static_value(func, _MISSING)
        if obj is _np_einsum() and args and not (isinstance(args[0], N.Const) and isinstance(args[0].value, str)):
            args = _einsum_sublists(args)
        r = T.lookup(obj)
        if r is None:
            return Prim("unknown", func=func, func_obj=obj)
        if r.vjp is not None:
            return Prim("vjp", rule=r, bound={"*args": args, "**kw": kws}, func=func)
        return _bind(r, args, kws, ns)
    if isinstance(func, N.Attr) and isinstance(func.value, N.Name) and func.attr == "pop" \
            and not call.args and not call.kwargs:
        return Prim("pop", bound={"self": func.value})
    if isinstance(func, N.Attr) and isinstance(func.value, N.Name):
        r = T.method(func.attr)
        if r is None:
            return Prim("unknown", func=func, method=func.attr)
        return _bind(r, [func.value] + args, kws, ns)
    return Prim("unknown", func=func)


def _np_einsum():
    import numpy as np
    return np.einsum


def _einsum_sublists(args):
    """``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``, the interleaved form,
    with literal sublists: the same call as ``np.einsum('ab,bc->ac', a,
    b)`` (the rule binds the subscripts string and the operands).  Other
    arguments are left as they are: a subscripts string held in a name is
    the usual form, and a sublist that is not a literal is refused at run
    time by the rule (``_rt.einsum_adjoint``)."""
    import string

    def sub(e):
        if isinstance(e, (N.List, N.Tuple)) and all(
                isinstance(x, N.Const) and (x.value is Ellipsis or (type(x.value) is int and 0 <= x.value < 52))
                for x in e.elts):
            return "".join("..." if x.value is Ellipsis else string.ascii_letters[x.value] for x in e.elts)
        return None
    pairs = args if len(args) % 2 == 0 else args[:-1]      # an odd count ends with the output sublist
    ops, subs = list(pairs[0::2]), [sub(e) for e in pairs[1::2]]
    out = sub(args[-1]) if len(args) % 2 else ""
    if len(args) < 2 or any(s is None for s in subs) or out is None:
        return args
    spec = ",".join(subs) + ("->" + out if len(args) % 2 else "")   # (no output sublist: implicit output)
    return [N.Const(spec)] + ops


def _bind(rule, args, kws, ns):
    if rule.nondiff:
        return Prim("nondiff", rule=rule)
    if rule.vjp is not None:
        return Prim("vjp", rule=rule, bound={"*args": args, "**kw": kws})
    t = rule.signature()
    bound = {}
    params = [p for p in t.params if p != t.vararg]
    i = 0
    for p in t.params:
        if p == t.vararg:
            bound[p] = list(args[i:])
            i = len(args)
            break
        if i < len(args):
            if isinstance(args[i], N.Starred):
                raise BindError(f"`*` arguments in a differentiated call to `{rule.name}` are not supported")
            bound[p] = args[i]
            i += 1
    if i < len(args):
        raise BindError(f"too many positional arguments for the rule of `{rule.name}`")
    for k, v in kws.items():
        if k not in params and k + "_" in params:
            k += "_"        # a parameter named like the template's d or t is spelled d_ / t_
        if k not in params:
            raise BindError(f"s2sad's rule for `{rule.name}` does not support the argument `{k}=`")
        if k in bound:
            raise BindError(f"`{k}` given twice")
        bound[k] = v
    for p in params:
        if p not in bound:
            if p in t.defaults:
                d = t.defaults[p]
                bound[p] = N.Tuple(tuple(N.Const(x) for x in d)) if isinstance(d, tuple) else N.Const(d)
            else:
                raise BindError(f"missing argument `{p}` for `{rule.name}`")
    helper = (getattr(rule.key, "__module__", None) or "").startswith("s2sad_runtime")
    for p, v in list(bound.items()):
        if isinstance(v, (N.List, N.Tuple)) and p in t.contributions:
            # d[p[k]]: one contribution per element; d[p]: the elements
            # are stacked into one array (np.array([x, y]), np.sum([x, y])),
            # or, for a runtime helper (generated code), they are a
            # container (the adjoints of a tuple result: eigh_adjoint((gw, gv), ...))
            bound[p] = list(v.elts) if p in t.indexed else ("container" if helper else "stacked", list(v.elts))
    out = bound.get("out")
    if out is not None and not (isinstance(out, N.Const) and out.value is None):
        raise BindError(f"`out=` in a differentiated call to `{rule.name}` is not supported")
    return Prim("rule", rule=rule, bound=bound)


def index_value(index, ns):
    """Index syntax -> an expression with the same value (``1:3`` ->
    ``slice(1, 3, None)``), for templates that take the index as a value."""
    if isinstance(index, N.Slice):
        sl = N.Static(ns.ref(builtins.slice, "slice"), builtins.slice)
        return N.Call(sl, tuple(x if x is not None else N.Const(None) for x in (index.lower, index.upper, index.step)))
    if isinstance(index, N.Tuple):
        return N.Tuple(tuple(index_value(e, ns) for e in index.elts))
    return index
