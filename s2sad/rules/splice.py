"""Splicing rule templates into generated code.

A template's contributions ``d[x] = expr`` are instantiated for the
primitive's active operands only: ``g`` becomes the result's adjoint (or,
in forward mode, an operand's tangent), ``ans`` the result, the template's
parameters the bound atoms, its temporaries fresh names (emitted once, only
when a wanted contribution needs them), its globals references in the
generated code's namespace.  ``broadcasting=True`` rules are summed back to
each operand's shape with ``_rt.unbroadcast`` unless no broadcasting can
happen.
"""

from __future__ import annotations

import builtins

import s2sad_runtime as _rt
from s2sad.ir import nodes as N
from s2sad.ir.visit import names, rebuild
from s2sad.rules.core import Contribution, Temp


class SpliceContext:
    """What splicing needs from the transform: which names are active, fresh
    temporaries, the namespace, and which atoms are certainly scalars."""

    def __init__(self, active, fresh, ns, is_scalar_atom):
        self.active = active
        self.fresh = fresh
        self.ns = ns
        self.is_scalar_atom = is_scalar_atom

    def rt(self, name):
        """``_rt.<name>`` as an IR expression."""
        return rt_ref(self.ns, name)


def rt_ref(ns, name):
    return N.Attr(N.Static("_rt", _rt), name)


def rt_call(ns, name, *args):
    return N.Call(rt_ref(ns, name), tuple(args))


def _is_active(ctx, e):
    return isinstance(e, N.Name) and e.id in ctx.active


def contributions(ctx, p, g_expr, ans_expr, pre):
    """The adjoint contributions of primitive ``p``: ``[(name, expr)]``; the
    temporaries they need are appended to ``pre`` as statements."""
    if p.kind == "display":
        return [(e.id, rt_call(ctx.ns, "elem", g_expr, N.Const(i), e))
                for i, e in enumerate(p.expr.elts) if _is_active(ctx, e)]
    if p.kind == "dict":
        return [(v.id, rt_call(ctx.ns, "elem", g_expr, k, v))
                for k, v in zip(p.expr.keys, p.expr.values) if _is_active(ctx, v)]
    if p.kind == "vjp":
        return vjp_contributions(ctx, p, g_expr, ans_expr, pre)
    t = p.rule.parsed()
    wanted = []
    for item in t.items:
        if not isinstance(item, Contribution):
            continue
        bound = p.bound.get(item.param)
        if item.indexed:  # d[xs[k]]
            for k, e in enumerate(bound if isinstance(bound, list) else []):
                if _is_active(ctx, e):
                    wanted.append((item, e.id, {"k": N.Const(k)}, e))
            if not isinstance(bound, list) and _is_active(ctx, bound):
                # a list held in a variable: its adjoint is a list
                wanted.append((item, bound.id, {"k": "each"}, bound))
        elif _is_active(ctx, bound):
            wanted.append((item, bound.id, {}, bound))
        elif isinstance(bound, tuple) and bound[0] in ("stacked", "container"):
            act = [(k, e) for k, e in enumerate(bound[1]) if _is_active(ctx, e)]
            if act:
                wanted.append((item, None, {bound[0]: act}, bound))
    if not wanted:
        return []
    tmap = temporaries(ctx, p, t, [w[0].expr for w in wanted], g_expr, ans_expr, pre)
    res = []
    for item, var, extra, operand in wanted:
        if extra.get("k") == "each":
            k = ctx.fresh("k")
            val = subst(ctx, item.expr, p, t, g_expr, ans_expr, tmap, {"k": N.Name(k)})
            rng = N.Call(N.Static(ctx.ns.ref(builtins.range, "range"), builtins.range),
                         (N.Call(N.Static(ctx.ns.ref(builtins.len, "len"), builtins.len), (N.Name(var),)),))
            res.append((var, N.ListComp(val, k, rng)))
            continue
        if "stacked" in extra:
            val = subst(ctx, item.expr, p, t, g_expr, ans_expr, tmap, {})
            c = ctx.fresh("stacked_adj")
            pre.append(N.Assign(N.Name(c), val))
            for k, e in extra["stacked"]:
                res.append((e.id, rt_call(ctx.ns, "unbroadcast", N.Sub(N.Name(c), N.Const(k)), e)))
            continue
        if "container" in extra:
            # the adjoint of a container display: a container, element by element
            val = subst(ctx, item.expr, p, t, g_expr, ans_expr, tmap, {})
            c = ctx.fresh("container_adj")
            pre.append(N.Assign(N.Name(c), val))
            for k, e in extra["container"]:
                res.append((e.id, rt_call(ctx.ns, "elem", N.Name(c), N.Const(k), e)))
            continue
        val = subst(ctx, item.expr, p, t, g_expr, ans_expr, tmap, extra)
        if p.rule.broadcasting and not others_constant(ctx, p, operand):
            val = rt_call(ctx.ns, "unbroadcast", val, N.Name(var))
        res.append((var, val))
    return res


def temporaries(ctx, p, t, exprs, g_expr, ans_expr, pre):
    """Emit the template temporaries that ``exprs`` need (in template
    order); returns template name -> generated name."""
    tmp_defs = {it.name: it for it in t.items if isinstance(it, Temp)}
    need = set()
    todo = list(exprs)
    while todo:
        e = todo.pop()
        for n in names(e):
            if n in tmp_defs and n not in need:
                need.add(n)
                todo.append(tmp_defs[n].expr)
    tmap = {}
    for it in t.items:
        if isinstance(it, Temp) and it.name in need:
            nm = ctx.fresh(it.name)
            val = subst(ctx, it.expr, p, t, g_expr, ans_expr, tmap, {})
            tmap[it.name] = nm
            pre.append(N.Assign(N.Name(nm), val))
    return tmap


def others_constant(ctx, p, operand):
    """True when no broadcasting can happen: every other operand is a
    number constant (the result has the operand's shape), or every operand
    and the result are Python numbers."""
    others = [v for v in p.bound.values() if v is not operand]
    if all(isinstance(v, N.Const) and isinstance(v.value, (int, float)) for v in others):
        return True
    vals = [v for v in p.bound.values() if isinstance(v, (N.Name, N.Const, N.Static))]
    return all(ctx.is_scalar_atom(v) for v in vals)


def subst(ctx, expr, p, t, g_expr, ans_expr, tmap, extra):
    """Instantiate template expression ``expr``."""
    bound = p.bound

    def visit(n):
        if not isinstance(n, N.Name):
            return None
        if n.id in extra:
            return extra[n.id]
        if n.id == "g":
            return g_expr
        if n.id == "ans":
            return ans_expr
        if n.id in tmap:
            return N.Name(tmap[n.id])
        if n.id in bound:
            v = bound[n.id]
            if isinstance(v, tuple) and v[0] == "stacked":
                return rt_call(ctx.ns, "stack_operand", N.List(tuple(v[1])))
            if isinstance(v, tuple) and v[0] == "container":
                return N.Tuple(tuple(v[1]))
            if isinstance(v, list):
                return N.List(tuple(v))
            return v
        obj = t.globals.get(n.id, _MISSING)
        if obj is _MISSING:
            if hasattr(builtins, n.id):
                obj = getattr(builtins, n.id)
            else:
                raise RuntimeError(f"rule template for {p.rule.name} uses unknown name {n.id}")
        if obj is _rt:
            return N.Static("_rt", _rt)
        return N.Static(ctx.ns.ref(obj, n.id), obj)
    return fold(rebuild(expr, visit))


def vjp_contributions(ctx, p, g_expr, ans_expr, pre):
    """A user rule (``@s2sad.adjoint``) is called at run time."""
    args = p.bound["*args"]
    kws = p.bound["**kw"]
    fname = ctx.ns.ref(p.rule.vjp, getattr(p.rule.vjp, "__name__", "vjp"))
    res_name = ctx.fresh("vjp")
    call = N.Call(N.Static(fname, p.rule.vjp), (g_expr, ans_expr) + tuple(args), tuple(kws.items()))
    pre.append(N.Assign(N.Name(res_name), rt_call(ctx.ns, "as_tuple", call, N.Const(len(args)))))
    return [(a.id, rt_call(ctx.ns, "unbroadcast", N.Sub(N.Name(res_name), N.Const(i)), a))
            for i, a in enumerate(args) if _is_active(ctx, a)]


_MISSING = object()

_FOLD = {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mult": lambda a, b: a * b}


def fold(e):
    """Fold ``c1 op c2`` of numeric constants (``y - 1`` with ``y = 2``),
    ``x ** 1`` and ``x * 1``."""
    def visit(n):
        if not isinstance(n, N.BinOp):
            return None
        r = n.right
        if n.op == "Pow" and isinstance(r, N.Const) and r.value == 1 and not isinstance(r.value, bool):
            return n.left
        if n.op == "Mult" and isinstance(r, N.Const) and r.value == 1 and type(r.value) is int:
            return n.left
        left = n.left
        if isinstance(left, N.Const) and isinstance(r, N.Const) and type(left.value) in (int, float) \
                and type(r.value) in (int, float) and n.op in _FOLD:
            return N.Const(_FOLD[n.op](left.value, r.value))
        return None
    return rebuild(e, visit)
