"""The forward-mode transform: normalized code in, tangent code out.

Each statement is followed by the statement computing its result's
tangent (``x_tan``), so control flow needs no stack: branches, loops and
calls (already inlined) carry their tangents along as they run.  A name is
given a tangent when it is active (it depends on a differentiated input
and reaches the result); an assignment of an active name with no active
operand gives it explicit zeros.  The tangent rules come from the same
rule table as the adjoints (:mod:`s2sad.rules.forward_rules`).
"""

from __future__ import annotations

import copy as _copy

from s2sad.analysis.activity import iter_stmts
from s2sad.errors import NoRuleError, UnsupportedSyntaxError
from s2sad.frontend import syntax as S
from s2sad.rules.core import contribution_param, is_contribution, parse_template
from s2sad.transforms.reverse import ReverseTransform, _stmt_targets


class ForwardTransform(ReverseTransform):

    def tan(self, name):
        """The tangent's name: ``x_tan`` (``x_tan_`` if taken)."""
        a = self._tan_names.get(name)
        if a is None:
            a = f"{name}_tan"
            while a in self._all_names:
                a += "_"
            self._tan_names[name] = a
            self._all_names.add(a)
        return a

    def run(self, fname):
        self._tan_names = {}
        self.written = {s2.targets[0].value.id for s2 in iter_stmts(self.fn.body)
                        if isinstance(s2, S.Assign) and isinstance(s2.targets[0], S.Subscript)}
        # a parameter outside wrt that later holds active values starts at zero
        body = [S.assign(self.tan(v), S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(v)]))
                for v in self.params if v in self.active and v not in self.wrt]
        body += self.fwd_tan_block(self.fn.body[:-1])
        ret = self.fn.body[-1]
        out = ret.value
        if isinstance(out, S.Name) and out.id in self.active:
            out_tan = S.name(self.tan(out.id))
        else:
            out_tan = S.call(S.attr(S.name("_rt"), "zeros_like"), [S.copy(out)])
        body.append(S.ret(S.tuple_([S.copy(out), out_tan])))
        params = self.params + [self.tan(w) for w in self.wrt]
        return S.function_def(fname, params, body)

    # ---------------------------------------------------------------- blocks
    def fwd_tan_block(self, stmts):
        out = []
        last = None
        for st in stmts:
            line = getattr(st, "_s2_line", None)
            key = (id(getattr(st, "_s2_src", None)), line)
            if line is not None and key != last and not isinstance(st, (S.For, S.While, S.If)):
                out.append(S.Comment(self.line_comment(line, st=st)))
            last = key if not isinstance(st, (S.For, S.While, S.If)) else None
            out.extend(self.fwd_tan_stmt(st))
        return out

    def fwd_tan_stmt(self, st):
        if isinstance(st, S.Assign):
            return self.tan_assign(st)
        if isinstance(st, S.Expr):
            return [st] + self.tan_expr(st)
        if isinstance(st, S.If):
            node = S.if_(S.copy(st.test), self.fwd_tan_block(st.body), self.fwd_tan_block(st.orelse))
            return [S.Comment(self.line_comment(st._s2_line, st=st)), node]
        if isinstance(st, S.For):
            body = self.fwd_tan_block(st.body)
            if st.target.id in self.active:   # the loop rebinds it to an integer
                body.insert(0, S.assign(self.tan(st.target.id), S.const(0.0)))
            return [S.Comment(self.line_comment(st._s2_line, st=st)),
                    S.for_(S.copy(st.target), self.keep_strategy(st, S.copy(st.iter)), body)]
        if isinstance(st, S.While):
            return [S.Comment(self.line_comment(st._s2_line, st=st)),
                    S.while_(self.keep_strategy(st, S.copy(st.test)), self.fwd_tan_block(st.body))]
        if isinstance(st, (S.Break, S.Continue, S.Pass)):
            return [st]
        if isinstance(st, S.FunctionDef):
            raise self.err(UnsupportedSyntaxError, st, "forward mode through a checkpointed loop (or a nested "
                           "function in generated code) is not supported yet",
                           "use the default tape strategy for loops in functions differentiated twice")
        raise self.err(UnsupportedSyntaxError, st, f"forward mode cannot differentiate a `{type(st).__name__}`")

    def keep_strategy(self, st, expr):
        """Forward mode needs no loop strategy, but the tangent code keeps the
        ``checkpointed(...)`` mark so that reverse mode over it (an ``hvp``
        through a checkpointed loop) checkpoints the same loop."""
        opts = getattr(st, "_s2_strategy", None)
        if not opts or opts.get("kind") != "checkpoint":
            return expr
        snaps = S.copy(opts["snapshots"]) if opts.get("snapshots") is not None else S.const(None)
        return S.call(S.attr(S.name("_rt"), "checkpointed"), [expr, snaps], {"check": S.copy(opts["check"])})

    def tan_or_zero(self, atom):
        if isinstance(atom, S.Name) and atom.id in self.active:
            return S.name(self.tan(atom.id))
        return S.call(S.attr(S.name("_rt"), "zeros_like"), [S.copy(atom)])

    def tan_expr(self, st):
        call = st.value
        f = call.func
        if isinstance(f, S.Attribute) and isinstance(f.value, S.Name) and f.value.id in self.active \
                and f.attr in ("append", "insert"):
            args = [S.copy(a) for a in call.args[:-1]] + [self.tan_or_zero(call.args[-1])]
            return [S.expr_stmt(S.call(S.attr(S.name(self.tan(f.value.id)), f.attr), args))]
        return []

    def tan_assign(self, st):
        tgt = st.targets[0]
        out = [st]
        if isinstance(tgt, S.Subscript):
            base = tgt.value.id
            if base in self.active:
                out.append(S.assign(S.subscript(S.name(self.tan(base)), S.copy(tgt.slice), store=True),
                                    self.tan_or_zero(st.value)))
            return out
        targets = _stmt_targets(st)
        p = self.prims.get(id(st.value))
        if p is not None and p.kind == "pop" and p.bound["self"].id in self.active:
            # keep the tangent list in step with the list, active result or not
            tpop = S.call(S.attr(S.name(self.tan(p.bound["self"].id)), "pop"), [])
            if targets and targets[0] in self.active:
                out.append(S.assign(self.tan(targets[0]), tpop))
            else:
                out.append(S.expr_stmt(tpop))
            return out
        if not any(t in self.active for t in targets):
            return out
        pre = []
        if any(isinstance(n, S.Name) and n.id in targets for n in S.walk(st.value)):
            # x = f(x): the tangent reads the old x, so compute the new value
            # into a temporary first, then rebind both
            tmp = self.fresh("new")
            first = S.assign(tmp, st.value)
            out = [first]
            expr = self.tangent_expr(st, pre, ans_expr=S.name(tmp))
            out.extend(pre)
            tan_tmp = self.fresh("new_tan")
            out.append(S.assign(tan_tmp, expr if expr is not None else
                                S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(tmp)])))
            out.append(S.assign(S.copy(tgt), S.name(tmp)))
            if isinstance(tgt, S.Tuple):
                out.append(S.assign(S.tuple_([S.name(self.tan(e.id), True) for e in tgt.elts], store=True),
                                    S.name(tan_tmp)))
            else:
                val = S.name(tan_tmp)
                if tgt.id in self.written:
                    val = S.call(S.attr(S.name("_rt"), "fresh"), [val])
                out.append(S.assign(self.tan(tgt.id), val))
            return out
        expr = self.tangent_expr(st, pre)
        out.extend(pre)
        if isinstance(tgt, S.Tuple):
            tans = [S.name(self.tan(e.id), True) for e in tgt.elts]
            if expr is None:
                out.append(S.assign(S.tuple_(tans, store=True),
                                    S.tuple_([S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(e.id)])
                                              for e in tgt.elts])))
            else:
                out.append(S.assign(S.tuple_(tans, store=True), expr))
            return out
        v = tgt.id
        if expr is None:
            expr = S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(v)])
        elif v in self.written:
            expr = S.call(S.attr(S.name("_rt"), "fresh"), [expr])
        out.append(S.assign(self.tan(v), expr))
        return out

    # ---------------------------------------------------------------- rules
    def tangent_expr(self, st, pre, ans_expr=None):
        """The tangent of ``st``'s value, or None when no operand is active."""
        self._ans_override = ans_expr
        value = st.value
        p = self.prims.get(id(value))
        if p is None or p.kind in ("const", "nondiff"):
            return None
        if p.kind in ("display", "dict"):
            elts = value.values if isinstance(value, S.Dict) else value.elts
            if not any(isinstance(e, S.Name) and e.id in self.active for e in elts):
                return None
            if isinstance(value, S.Dict):
                return S.Dict(keys=[S.copy(k) for k in value.keys], values=[self.tan_or_zero(e) for e in elts])
            return type(value)(elts=[self.tan_or_zero(e) for e in elts], ctx=S.Load())
        if p.kind == "pop":
            return None
        if p.kind == "unknown":
            if not any(isinstance(n, S.Name) and n.id in self.active for n in S.walk(value)):
                return None
            raise self._no_rule(p, st)
        if p.kind == "vjp":
            raise self.err(NoRuleError, getattr(value, "_s2_node", None) or st,
                           f"`{p.rule.name}` has a user-defined adjoint but no tangent rule: forward mode "
                           "cannot differentiate it", "differentiate this function in reverse mode")
        ops = [o for o in p.diff_operands() if o in self.active]
        if not ops:
            return None
        kind = p.rule.jvp
        if kind is None:
            raise self.err(NoRuleError, getattr(value, "_s2_node", None) or st,
                           f"no tangent (forward-mode) rule for `{p.rule.name}`",
                           "use reverse mode for this function, or register a tangent template with "
                           "rules.defjvp (see docs/forward.md)")
        if kind == "elementwise":
            return self.tan_from_template(p, st, p.rule.parsed(), pre, "g", broadcast=p.rule.broadcasting)
        if isinstance(kind, tuple) and kind[0] == "template":
            if not hasattr(p.rule, "_jvp_parsed"):
                p.rule._jvp_parsed = parse_template(kind[1])
            return self.tan_from_template(p, st, p.rule._jvp_parsed, pre, "t", broadcast=False)
        diff_nodes = self._diff_nodes(p)
        if kind == "linear":
            repl = {id(n): self.tan_or_zero(n) for n in diff_nodes}
            return _replace_nodes(value, repl)
        if kind == "multilinear":
            terms = []
            for n in diff_nodes:
                if isinstance(n, S.Name) and n.id in self.active:
                    terms.append(_replace_nodes(value, {id(n): S.name(self.tan(n.id))}))
            expr = terms[0]
            for e in terms[1:]:
                expr = S.binop(expr, S.Add(), e)
            return expr
        raise self.err(NoRuleError, st, f"unknown tangent kind {kind!r} for `{p.rule.name}`")

    def _diff_nodes(self, p):
        """The atoms of the primitive bound to parameters that get
        contributions (the differentiable arguments), by identity."""
        out = []
        for prm in p.rule.parsed().contributions:
            v = p.bound.get(prm)
            if isinstance(v, tuple) and v and v[0] == "stacked":
                v = v[1]
            for n in (v if isinstance(v, list) else [v]):
                if isinstance(n, S.AST) and not any(n is m for m in out):
                    out.append(n)
        return out

    def tan_from_template(self, p, st, t, pre, gname, broadcast):
        """Sum over active operands of the template's contribution with the
        operand's tangent in place of ``g`` (elementwise) or ``t``."""
        tgt = st.targets[0]
        ans_expr = S.tuple_([S.name(e.id) for e in tgt.elts]) if isinstance(tgt, S.Tuple) else S.name(tgt.id)
        if self._ans_override is not None:
            ans_expr = self._ans_override
        tmp_defs = {tst.targets[0].id: tst for tst in t.body if not is_contribution(tst)}
        terms = []
        tmap = {}
        for tst in t.body:
            if not is_contribution(tst):
                continue
            param = contribution_param(tst)
            key = tst.targets[0].slice
            bound = p.bound.get(param)
            items = []
            if isinstance(key, S.Subscript):
                for k, e in enumerate(bound if isinstance(bound, list) else []):
                    if isinstance(e, S.Name) and e.id in self.active:
                        items.append((e, {"k": S.const(k)}))
            elif isinstance(bound, S.Name) and bound.id in self.active:
                items.append((bound, {}))
            for operand, extra in items:
                needed = set()
                todo = [tst.value]
                while todo:
                    e = todo.pop()
                    for n in S.walk(e):
                        if isinstance(n, S.Name) and n.id in tmp_defs and n.id not in needed:
                            needed.add(n.id)
                            todo.append(tmp_defs[n.id].value)
                for tmp in tmp_defs:
                    if tmp in needed and tmp not in tmap:
                        nm = self.fresh(tmp)
                        pre.append(S.assign(nm, self.subst(tmp_defs[tmp].value, p, t, S.const(None), ans_expr,
                                                           tmap, {})))
                        tmap[tmp] = nm
                tan = S.name(self.tan(operand.id))
                extra = dict(extra)
                extra[gname] = tan
                if gname == "t":
                    val = self.subst(tst.value, p, t, S.const(None), ans_expr, tmap, extra)
                else:
                    val = self.subst(tst.value, p, t, tan, ans_expr, tmap, extra)
                terms.append(val)
        if not terms:
            return None
        expr = terms[0]
        for e in terms[1:]:
            expr = S.binop(expr, S.Add(), e)
        if broadcast and not isinstance(tgt, S.Tuple):
            like = ans_expr
            operands = [v for v in p.bound.values() if isinstance(v, (S.Name, S.Constant))]
            arrays = [v for v in operands if not self.is_scalar_atom(v)]
            # the tangent has the result's shape already when the only
            # non-scalar operand is an active one
            if arrays and not (len(arrays) == 1 and isinstance(arrays[0], S.Name) and arrays[0].id in self.active):
                expr = S.call(S.attr(S.name("_rt"), "broadcast_as"), [expr, S.copy(like)])
        return expr


def _replace_nodes(node, repl):
    """Deep copy of ``node`` with the sub-nodes whose id is in ``repl``
    replaced (by identity, so ``x @ x`` can differ in one operand only)."""
    if id(node) in repl:
        return _copy.deepcopy(repl[id(node)])
    if isinstance(node, list):
        return [_replace_nodes(x, repl) for x in node]
    if not isinstance(node, S.AST):
        return node
    new = _copy.copy(node)
    for f in node._fields:
        v = getattr(node, f, None)
        if isinstance(v, (list, S.AST)):
            setattr(new, f, _replace_nodes(v, repl))
    return new
