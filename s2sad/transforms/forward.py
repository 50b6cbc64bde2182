"""The forward-mode transform: normalized IR in, tangent function out.

Each statement is followed by the statement computing its result's
tangent (``x_tan``), so control flow needs no stack: branches, loops and
calls (already inlined) carry their tangents along as they run.  A name is
given a tangent when it is active (it depends on a differentiated input
and reaches the result); an assignment of an active name with no active
operand gives it explicit zeros.  The tangent rules come from the same
rule table as the adjoints (each rule declares its tangent); the
analyses are the reverse transform's (:func:`s2sad.analysis.analyze`).
"""

from __future__ import annotations

import builtins

from s2sad.analysis import analyze
from s2sad.analysis.activity import forward_closure
from s2sad.analysis.aliases import view_base
from s2sad.analysis.checks import check_active_rules, no_rule
from s2sad.errors import NoRuleError, UnsupportedSyntaxError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir.names import Namer, all_names
from s2sad.ir.visit import iter_stmts, names, rebuild, targets, written_base
from s2sad.rules import splice
from s2sad.rules.core import Contribution, Temp
from s2sad.rules.splice import rt_call
from s2sad.transforms import jumps
from s2sad.transforms.mutation import functionalize


class ForwardTransform:
    def __init__(self, src, fn, wrt, rules, ns, kinds=None, complex_params=None):
        self.src = src
        self.fn = fn
        self.wrt = list(wrt)
        self.ns = ns
        self.params = list(fn.params)
        self.namer = Namer(all_names(fn) | set(ns.values))
        # flags for break/continue: a while test is recomputed at the end of
        # the body, which a `continue` must not skip
        fn.body = jumps.desugar(fn.body, self.namer)
        functionalize(fn, kinds or {}, self.namer, ns)
        self.an = analyze(fn, self.wrt, rules, ns, kinds or {},
                          check=lambda prims, active: check_active_rules(fn.body, prims, active, "jvp", self.wrt,
                                                                         complex_params))
        self.active = self.an.active
        self.ctx = splice.SpliceContext(self.active, self.namer.fresh, ns, self.an.is_scalar_atom)
        self._tan_names = {}
        self._primal_of = {}           # tangent name -> its name
        self.written = {written_base(s) for s in iter_stmts(fn.body) if written_base(s)}
        self.near_written = _reaching(fn.body, self.written)

    def tan(self, name):
        """The tangent's name: ``x_tan`` (``x_tan_`` if taken)."""
        a = self._tan_names.get(name)
        if a is None:
            a = self._tan_names[name] = self.namer.derived(name, "_tan")
            self._primal_of[a] = name
        return a

    def rt(self, name, *args):
        return rt_call(self.ns, name, *args)

    def line_comment(self, st):
        src, line = st.loc.src, st.loc.line
        return f"{src.short_filename}:{src.file_line(line)}  {src.line_text(line).strip()}"

    def run(self, fname):
        # a parameter outside wrt that later holds active values starts at zero
        body = [N.Assign(N.Name(self.tan(v)), self.rt("zeros_like", N.Name(v)))
                for v in self.params if v in self.active and v not in self.wrt]
        body += self.block(self.fn.body[:-1])
        out = self.fn.body[-1].value
        out_tan = N.Name(self.tan(out.id)) if isinstance(out, N.Name) and out.id in self.active \
            else self.rt("zeros_like", out)
        body.append(N.Return(N.Tuple((out, out_tan))))
        return N.FunctionDef(fname, self.params + [self.tan(w) for w in self.wrt], body)

    # ---------------------------------------------------------------- blocks
    def block(self, stmts):
        return commented(stmts, self.stmt, self.line_comment)

    def stmt(self, st):
        if isinstance(st, N.Assign):
            return self.tan_assign(st)
        if isinstance(st, N.Eval):
            return [N.Eval(st.value)] + self.tan_eval(st)
        if isinstance(st, N.If):
            return [N.Comment(self.line_comment(st)), N.If(st.test, self.block(st.body), self.block(st.orelse))]
        if isinstance(st, N.For):
            body = self.block(st.body)
            if st.target in self.active:   # the loop rebinds it to an integer
                body.insert(0, N.Assign(N.Name(self.tan(st.target)), N.Const(0.0)))
            return [N.Comment(self.line_comment(st)), N.For(st.target, self.keep_strategy(st, st.iter), body)]
        if isinstance(st, N.While):
            return [N.Comment(self.line_comment(st)), N.While(self.keep_strategy(st, st.test), self.block(st.body))]
        if isinstance(st, (N.Break, N.Continue, N.Pass)):
            return [type(st)()]
        raise error_at_loc(UnsupportedSyntaxError, st.loc,
                           f"forward mode cannot differentiate a `{type(st).__name__}`")

    def keep_strategy(self, st, expr):
        """Forward mode needs no loop strategy, but the tangent code keeps the
        ``checkpointed(...)`` mark so that reverse mode over it (an ``hvp``
        through a checkpointed loop) checkpoints the same loop."""
        opts = st.strategy
        if opts is None or opts.kind != "checkpoint":
            return expr
        snaps = opts.snapshots if opts.snapshots is not None else N.Const(None)
        check = opts.check if opts.check is not None else N.Const(False)
        return N.Call(splice.rt_ref(self.ns, "checkpointed"), (expr, snaps), (("check", check),))

    def tan_or_zero(self, atom):
        if isinstance(atom, N.Name) and atom.id in self.active:
            return N.Name(self.tan(atom.id))
        return self.rt("zeros_like", atom)

    def tan_eval(self, st):
        call = st.value
        f = call.func if isinstance(call, N.Call) else None
        if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.value.id in self.active \
                and f.attr in ("append", "insert"):
            args = tuple(call.args[:-1]) + (self.tan_or_zero(call.args[-1]),)
            return [N.Eval(N.Call(N.Attr(N.Name(self.tan(f.value.id)), f.attr), args))]
        return []

    def tan_assign(self, st):
        tgt = st.target
        out = [N.Assign(tgt, st.value, loc=st.loc)]
        if isinstance(tgt, N.Sub):
            base = tgt.value.id
            if base in self.active:
                out.append(N.Assign(N.Sub(N.Name(self.tan(base)), tgt.index), self.tan_or_zero(st.value)))
            return out
        tg = targets(st)
        p = self.an.prims.get(st.sid)
        if p is not None and p.kind == "pop" and p.bound["self"].id in self.active:
            # keep the tangent list in step with the list, active result or not
            tpop = N.Call(N.Attr(N.Name(self.tan(p.bound["self"].id)), "pop"))
            if tg and tg[0] in self.active:
                out.append(N.Assign(N.Name(self.tan(tg[0])), tpop))
            else:
                out.append(N.Eval(tpop))
            return out
        if not any(t in self.active for t in tg):
            return out
        pre = []
        if any(n in tg for n in names(st.value)):
            # x = f(x): the tangent reads the old x, so compute the new value
            # into a temporary first, then rebind both
            tmp = self.namer.fresh("new")
            out = [N.Assign(N.Name(tmp), st.value)]
            expr = self.tangent_expr(st, pre, ans_expr=N.Name(tmp))
            out.extend(pre)
            tan_tmp = self.namer.fresh("new_tan")
            out.append(N.Assign(N.Name(tan_tmp), expr if expr is not None else self.rt("zeros_like", N.Name(tmp))))
            out.append(N.Assign(tgt, N.Name(tmp)))
            if isinstance(tgt, N.Tuple):
                out.append(N.Assign(N.Tuple(tuple(N.Name(self.tan(e.id)) for e in tgt.elts)), N.Name(tan_tmp)))
                out.extend(self.own_tangents(tgt))
            else:
                val = N.Name(tan_tmp)
                if tgt.id in self.written or (expr is not None and self.aliases_written(expr, st.value)):
                    val = self.rt("fresh", val)
                out.append(N.Assign(N.Name(self.tan(tgt.id)), val))
            return out
        expr = self.tangent_expr(st, pre)
        out.extend(pre)
        if isinstance(tgt, N.Tuple):
            tans = N.Tuple(tuple(N.Name(self.tan(e.id)) for e in tgt.elts))
            if expr is None:
                expr = N.Tuple(tuple(self.rt("zeros_like", N.Name(e.id)) for e in tgt.elts))
            out.append(N.Assign(tans, expr))
            return out + self.own_tangents(tgt)
        v = tgt.id
        if expr is None:
            expr = self.rt("zeros_like", N.Name(v))
        elif v in self.written or self.aliases_written(expr, st.value):
            expr = self.rt("fresh", expr)
        out.append(N.Assign(N.Name(self.tan(v)), expr))
        return out

    def own_tangents(self, tgt):
        """``a, b = ...``: an element written in place later gets a tangent
        of its own (one unpacked from a tuple may be shared, or a NumPy
        scalar)."""
        return [N.Assign(N.Name(self.tan(e.id)), self.rt("fresh", N.Name(self.tan(e.id))))
                for e in tgt.elts if e.id in self.written]

    def aliases_written(self, expr, value):
        """Is tangent expression ``expr`` the tangent of a name written in
        place (or a view of it)?  ``c = s + h`` makes a new array, but its
        tangent is ``h_tan`` itself: a later ``h[i] = ...`` must not change
        ``c``'s tangent.  The same holds when ``h`` only may share memory
        with a written name (``h = p.T`` and later ``p[...] = v``): a value
        that is no view in the primal gets a tangent of its own."""
        expr = view_base(expr)
        p = self._primal_of.get(expr.id) if isinstance(expr, N.Name) else None
        if p in self.written:
            return True
        # (a view in the primal too: the mutation pass syncs both)
        return p in self.near_written and not isinstance(view_base(value), N.Name)

    # ---------------------------------------------------------------- rules
    def tangent_expr(self, st, pre, ans_expr=None):
        """The tangent of ``st``'s value, or None when no operand is active."""
        value = st.value
        p = self.an.prims.get(st.sid)
        if p is None or p.kind in ("const", "nondiff", "pop"):
            return None
        if p.kind in ("display", "dict"):
            elts = value.values if isinstance(value, N.Dict) else value.elts
            if not any(isinstance(e, N.Name) and e.id in self.active for e in elts):
                return None
            if isinstance(value, N.Dict):
                return N.Dict(value.keys, tuple(self.tan_or_zero(e) for e in elts))
            return type(value)(tuple(self.tan_or_zero(e) for e in elts))
        if p.kind == "unknown":
            if not any(n in self.active for n in names(value)):
                return None
            raise no_rule(p, st)
        if p.kind == "vjp":
            raise error_at_loc(NoRuleError, st.loc,
                               f"`{p.rule.name}` has a user-defined adjoint but no tangent rule: forward mode "
                               "cannot differentiate it", "differentiate this function in reverse mode")
        if not [o for o in p.diff_operands() if o in self.active]:
            return None
        kind = p.rule.jvp
        if kind is None:
            raise error_at_loc(NoRuleError, st.loc, f"no tangent (forward-mode) rule for `{p.rule.name}`",
                               "use reverse mode for this function, or register a tangent template with "
                               "rules.defjvp (see docs/forward.md)")
        ans = ans_expr if ans_expr is not None else (
            N.Tuple(tuple(N.Name(e.id) for e in st.target.elts)) if isinstance(st.target, N.Tuple)
            else N.Name(st.target.id))
        if kind == "elementwise":
            return self.from_template(p, st, p.rule.parsed(), pre, "g", ans, broadcast=p.rule.broadcasting)
        if isinstance(kind, tuple) and kind[0] == "template":
            return self.from_template(p, st, p.rule.jvp_template(), pre, "t", ans, broadcast=False)
        diff = diff_nodes(p)
        if kind == "linear":
            return replace_nodes(value, {id(n): self.tan_or_zero(n) for n in diff})
        if kind == "multilinear":
            terms = [replace_nodes(value, {id(n): N.Name(self.tan(n.id))}) for n in diff
                     if isinstance(n, N.Name) and n.id in self.active]
            expr = terms[0]
            for e in terms[1:]:
                expr = N.BinOp("Add", expr, e)
            return expr
        raise error_at_loc(NoRuleError, st.loc, f"unknown tangent kind {kind!r} for `{p.rule.name}`")

    def from_template(self, p, st, t, pre, gname, ans_expr, broadcast):
        """Sum over active operands of the template's contribution with the
        operand's tangent in place of ``g`` (elementwise) or ``t``."""
        terms = []
        tmap = {}
        tmp_defs = {it.name: it for it in t.items if isinstance(it, Temp)}
        for item in t.items:
            if not isinstance(item, Contribution):
                continue
            bound = p.bound.get(item.param)
            items = []       # (the operand's tangent, the template's magic names bound)
            if item.indexed:
                for k, e in enumerate(bound if isinstance(bound, list) else []):
                    if isinstance(e, N.Name) and e.id in self.active:
                        items.append((N.Name(self.tan(e.id)), {"k": N.Const(k)}))
                if isinstance(bound, N.Name) and bound.id in self.active:
                    # a list held in a variable: one term per element, summed
                    k = self.namer.fresh("k")
                    items.append((N.Sub(N.Name(self.tan(bound.id)), N.Name(k)), {"k": N.Name(k), "each": bound}))
            elif isinstance(bound, N.Name) and bound.id in self.active:
                items.append((N.Name(self.tan(bound.id)), {}))
            elif isinstance(bound, tuple) and bound[0] in ("stacked", "container") and \
                    any(isinstance(e, N.Name) and e.id in self.active for e in bound[1]):
                # a list display where one array is expected: its elements'
                # tangents, stacked; a container (a runtime helper's): their display
                tans = tuple(self.tan_or_zero(e) for e in bound[1])
                items.append((self.rt("stack_operand", N.List(tans)) if bound[0] == "stacked" else N.Tuple(tans), {}))
            for tan, extra in items:
                need = _needed_temps(item.expr, tmp_defs)
                for it in t.items:
                    if isinstance(it, Temp) and it.name in need and it.name not in tmap:
                        nm = self.namer.fresh(it.name)
                        pre.append(N.Assign(N.Name(nm), splice.subst(self.ctx, it.expr, p, t, N.Const(None),
                                                                     ans_expr, tmap, {})))
                        tmap[it.name] = nm
                extra = dict(extra)
                each = extra.pop("each", None)
                extra[gname] = tan
                g = N.Const(None) if gname == "t" else tan
                term = splice.subst(self.ctx, item.expr, p, t, g, ans_expr, tmap, extra)
                if each is not None:
                    rng = N.Call(N.Static(self.ns.ref(builtins.range, "range"), builtins.range),
                                 (N.Call(N.Static(self.ns.ref(builtins.len, "len"), builtins.len), (each,)),))
                    term = N.Call(N.Static(self.ns.ref(builtins.sum, "sum"), builtins.sum),
                                  (N.ListComp(term, extra["k"].id, rng),))
                terms.append(term)
        if not terms:
            return None
        expr = terms[0]
        # a tuple target unpacks a container: its tangents add element by element
        container = not isinstance(st.target, N.Name) or self.an.kinds.get(st.target.id) != "array"
        for e in terms[1:]:
            expr = self.rt("accumulate", expr, e) if container else N.BinOp("Add", expr, e)
        if broadcast and not isinstance(st.target, N.Tuple):
            operands = [v for v in p.bound.values() if isinstance(v, (N.Name, N.Const, N.Static))]
            arrays = [v for v in operands if not self.an.is_scalar_atom(v)]
            # the tangent has the result's shape already when the only
            # non-scalar operand is an active one
            if arrays and not (len(arrays) == 1 and isinstance(arrays[0], N.Name) and arrays[0].id in self.active):
                expr = self.rt("broadcast_as", expr, ans_expr)
        return expr


def commented(stmts, stmt, line_comment):
    """``stmt(st)`` of each statement, preceded by a comment naming the
    user's line wherever the line changes (compound statements comment
    themselves)."""
    out = []
    last = None
    for st in stmts:
        compound = isinstance(st, N.COMPOUND)
        key = (id(st.loc.src), st.loc.line) if st.loc is not None else None
        if key is not None and key != last and not compound:
            out.append(N.Comment(line_comment(st)))
        last = key if not compound else None
        out.extend(stmt(st))
    return out


def _needed_temps(e, tmp_defs):
    need = set()
    todo = [e]
    while todo:
        x = todo.pop()
        for n in names(x):
            if n in tmp_defs and n not in need:
                need.add(n)
                todo.append(tmp_defs[n].expr)
    return need


def diff_nodes(p):
    """The atoms of the primitive bound to parameters that get
    contributions (the differentiable arguments), by identity."""
    out = []
    for prm in p.rule.signature().contributions:
        v = p.bound.get(prm)
        if isinstance(v, tuple) and v and v[0] in ("stacked", "container"):
            v = v[1]
        for n in (v if isinstance(v, list) else [v]):
            if isinstance(n, N.Expr) and not any(n is m for m in out):
                out.append(n)
    return out


def replace_nodes(e, repl):
    """``e`` with the sub-expressions whose id is in ``repl`` replaced (by
    identity, so ``x @ x`` can differ in one operand only)."""
    return rebuild(e, lambda x: repl.get(id(x)))


def _reaching(body, written):
    """Names that may hold memory of a name written in place: the written
    names and, to a fixed point, every name assigned from an expression
    reading one of them (flow-insensitive, so loops need nothing more)."""
    return frozenset(forward_closure([(targets(st), names(st.value)) for st in iter_stmts(body)
                                      if isinstance(st, N.Assign)], written))
