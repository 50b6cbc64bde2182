"""The reverse-mode transform: normalized code in, adjoint code out.

The generated function runs the *forward sweep* (the user's statements,
plus saves of values that later statements overwrite and the adjoint still
needs) and then the *reverse sweep*: the statements in reverse order, each
followed by its adjoint.  Invariant of the reverse sweep: when the adjoint
of statement *s* runs, every variable holds the value it had just after *s*
ran in the forward sweep.  Saved values are restored right after the
adjoint of the statement that overwrote them; that is the whole mechanism
behind loops and branches:

* a value is saved only if the adjoint reads it (*needed*) and a later
  statement may overwrite it; outside loops the save is a local name, inside
  loops a push onto ``_stack`` (a plain list: appending a reference costs
  no copy);
* ``if`` re-tests its condition in the reverse sweep (the condition is a
  name whose value the invariant restores);
* ``for i in range(...)`` runs backwards over the same range
  (``reversed(range(...))``), ``while`` loops and loops with ``break``
  count their iterations;
* adjoints are symbolic zeros until first written (``x_adj = c`` rather
  than ``x_adj = 0 + c``); control flow joins materialize zeros only where
  one path wrote an adjoint and the other did not.

Generic code never updates an array in place, so adjoint names may share
arrays freely (the planner of a later stage introduces in-place updates
where liveness allows).
"""

from __future__ import annotations

import copy as _copy

import numpy as np

from s2sad.analysis.activity import activity, iter_stmts
from s2sad.errors import InputMutationError, NoRuleError, UnsupportedSyntaxError, error_at
from s2sad.frontend import syntax as S
from s2sad.rules.core import contribution_param, is_contribution

_BINOPS = {S.Add: "Add", S.Sub: "Sub", S.Mult: "Mult", S.Div: "Div", S.Pow: "Pow", S.MatMult: "MatMult",
           S.FloorDiv: "FloorDiv", S.Mod: "Mod", S.BitAnd: "BitAnd", S.BitOr: "BitOr", S.BitXor: "BitXor",
           S.LShift: "LShift", S.RShift: "RShift"}


class Prim:
    """What the compiler knows of one primitive: its rule and how the rule's
    parameters bind to the primitive's atoms."""

    def __init__(self, rule=None, bound=None, kind="rule", func_expr=None):
        self.rule = rule          # Rule or None (constant / non-differentiable)
        self.bound = bound or {}  # template param -> atom node or list of atoms
        self.kind = kind          # 'rule' | 'const' | 'nondiff' | 'vjp' | 'unknown'
        self.func_expr = func_expr
        self.func_obj = None

    def diff_operands(self):
        """Names that may receive contributions."""
        if self.kind == "vjp":
            return [n.id for n in self.bound.get("*args", []) if isinstance(n, S.Name)]
        if self.kind != "rule":
            return []
        out = []
        for p in self.rule.parsed().contributions:
            v = self.bound.get(p)
            if isinstance(v, tuple) and v and v[0] == "stacked":
                v = v[1]
            for n in (v if isinstance(v, list) else [v]):
                if isinstance(n, S.Name):
                    out.append(n.id)
        return out


class ReverseTransform:
    def __init__(self, src, fn, wrt, rules, ns, statics, mode="grad", kinds=None):
        self.src = src
        self.fn = fn
        self.wrt = list(wrt)
        self.rules = rules
        self.ns = ns
        self.statics = statics      # static expression id -> object
        self.mode = mode
        self._kinds_in = kinds or {}
        self.counter = 0
        self.params = S.param_names(fn)
        ret = fn.body[-1]
        self.result = ret.value.id if isinstance(ret.value, S.Name) else None
        self._adj_names = {}
        self._all_names = set(S.names_in(fn)) | set(self.params)
        self.prims = {}
        for st in iter_stmts(fn.body):
            if isinstance(st, S.Assign) or (isinstance(st, S.Expr)):
                self.prims[id(st)] = self.classify(st.value, st)
        self.kinds = self.infer_kinds({k: ("array" if v == "py" else v) for k, v in self._kinds_in.items()})
        self.py = self.infer_py()
        self.active = activity(fn, self.wrt, lambda p: self.prims_of(p), self.result)
        self._check_active_rules()
        self._shape_reads = set()
        self.needed = self.compute_needed()
        # names whose adjoints read only their shape: a save keeps a
        # descriptor (shape, dtype) instead of the array
        self.shape_only = self._shape_reads - self.needed
        self.needed |= self.shape_only
        self.assign_counts = {}
        for st in iter_stmts(fn.body):
            for t in _stmt_targets(st):
                self.assign_counts[t] = self.assign_counts.get(t, 0) + 1
        self.aliased = self.alias_groups()
        self.loop_depth = 0
        self.none_init = set()
        self.materialize = {}

    # ------------------------------------------------------------ helpers
    def fresh(self, hint):
        self.counter += 1
        name = f"_{hint}{self.counter}"
        while name in self._all_names:
            self.counter += 1
            name = f"_{hint}{self.counter}"
        return name

    def adj(self, name):
        """The adjoint's name: ``x_adj``, or ``x_adj_`` ... when the code
        already has a variable of that name (differentiating generated code)."""
        a = self._adj_names.get(name)
        if a is None:
            a = f"{name}_adj"
            while a in self._all_names:
                a += "_"
            self._adj_names[name] = a
            self._all_names.add(a)
        return a

    def err(self, cls, node, msg, hint=None):
        return error_at(cls, node, self.src, msg, hint)

    def static_obj(self, node):
        return self.statics.get(_static_key(node), _MISSING)

    def prims_of(self, prim):
        """Differentiable operand names of a primitive (for activity)."""
        p = self.prims.get(id(prim))
        if p is None:
            p = self.classify(prim, None)
            self.prims[id(prim)] = p
        if p.kind in ("rule", "vjp"):
            return p.diff_operands()
        if p.kind == "display":
            return [e.id for e in prim.elts if isinstance(e, S.Name)]
        if p.kind == "pop":
            return [p.bound["self"].id]
        if p.kind == "dict":
            return [e.id for e in prim.values if isinstance(e, S.Name)]
        if p.kind == "unknown":
            return [n.id for n in S.walk(prim) if isinstance(n, S.Name) and isinstance(n.ctx, S.Load)
                    and _static_key(n) not in self.statics]
        return []

    # ------------------------------------------------------ classification
    def classify(self, prim, st):
        key = id(prim)
        if key in self.prims:
            return self.prims[key]
        try:
            p = self._classify(prim, st)
        except _BindError as e:
            node = getattr(prim, "_s2_node", None) or (getattr(st, "_s2_node", None) if st is not None else None)
            src = getattr(st, "_s2_src", None) or self.src
            raise error_at(UnsupportedSyntaxError, node or prim, src, str(e),
                           "pass only the arguments listed in docs/rules.md, or register your own rule "
                           "with @s2sad.adjoint") from None
        p.stmt = st
        p.node = getattr(prim, "_s2_node", None) or (getattr(st, "_s2_node", None) if st is not None else None)
        self.prims[key] = p
        return p

    def _classify(self, prim, st):
        T = self.rules
        if isinstance(prim, S.Name) and _static_key(prim) not in self.statics:
            return self._bind(T.lookup("copy"), [prim], {})
        if isinstance(prim, S.Constant) or _static_key(prim) in self.statics:
            return Prim(kind="const")
        if isinstance(prim, S.BinOp):
            r = T.lookup(_BINOPS.get(type(prim.op), "?"))
            if r is None:
                return Prim(kind="unknown")
            return self._bind(r, [prim.left, prim.right], {})
        if isinstance(prim, S.UnaryOp):
            if isinstance(prim.op, S.USub):
                return self._bind(T.lookup("USub"), [prim.operand], {})
            return Prim(kind="nondiff")
        if isinstance(prim, (S.Compare, S.BoolOp)):
            return Prim(kind="nondiff")
        if isinstance(prim, S.Subscript):
            return self._bind(T.lookup("subscript"), [prim.value, _index_expr(prim.slice)], {})
        if isinstance(prim, S.Attribute):
            r = T.lookup("attr." + prim.attr)
            if r is None:
                return Prim(kind="unknown")
            return self._bind(r, [prim.value], {})
        if isinstance(prim, (S.Tuple, S.List)):
            return Prim(kind="display")
        if isinstance(prim, S.Dict):
            return Prim(kind="dict")
        if isinstance(prim, S.Call):
            return self._classify_call(prim)
        return Prim(kind="unknown")

    def _classify_call(self, call):
        T = self.rules
        func = call.func
        args = list(call.args)
        kws = {k.arg: k.value for k in call.keywords}
        obj = self.static_obj(func)
        if obj is not _MISSING:
            r = T.lookup(obj)
            if r is None:
                p = Prim(kind="unknown", func_expr=func)
                p.func_obj = obj
                return p
            if r.vjp is not None:
                p = Prim(rule=r, kind="vjp", bound={"*args": args, "**kw": kws}, func_expr=func)
                return p
            return self._bind(r, args, kws, call)
        if isinstance(func, S.Attribute) and isinstance(func.value, S.Name) and func.attr == "pop" \
                and not call.args and not call.keywords:
            return Prim(kind="pop", bound={"self": func.value})
        if isinstance(func, S.Attribute) and isinstance(func.value, S.Name):
            r = T.method(func.attr)
            if r is None:
                p = Prim(kind="unknown", func_expr=func)
                p.method = func.attr
                return p
            return self._bind(r, [func.value] + args, kws, call)
        p = Prim(kind="unknown", func_expr=func)
        return p

    def _bind(self, rule, args, kws, call=None):
        if rule.nondiff:
            return Prim(rule=rule, kind="nondiff")
        if rule.vjp is not None:
            return Prim(rule=rule, kind="vjp", bound={"*args": args, "**kw": kws})
        t = rule.parsed()
        bound = {}
        params = [p for p in t.params if p != t.vararg]
        i = 0
        for p in t.params:
            if p == t.vararg:
                bound[p] = list(args[i:])
                i = len(args)
                break
            if i < len(args):
                bound[p] = args[i]
                i += 1
        if i < len(args):
            raise _BindError(f"too many positional arguments for the rule of `{rule.name}`")
        for k, v in kws.items():
            if k not in params:
                raise _BindError(f"s2sad's rule for `{rule.name}` does not support the argument `{k}=`")
            if k in bound:
                raise _BindError(f"`{k}` given twice")
            bound[k] = v
        for p in params:
            if p not in bound:
                if p in t.defaults:
                    bound[p] = S.const(t.defaults[p]) if not isinstance(t.defaults[p], tuple) else \
                        S.tuple_([S.const(x) for x in t.defaults[p]])
                else:
                    raise _BindError(f"missing argument `{p}` for `{rule.name}`")
        for p, v in list(bound.items()):
            if isinstance(v, (S.List, S.Tuple)) and p in t.contributions:
                # d[p[k]]: one contribution per element; d[p]: the elements
                # are stacked into one array (np.array([x, y]), np.sum([x, y]))
                bound[p] = list(v.elts) if p in t.indexed else ("stacked", list(v.elts))
        if "out" in bound and not (isinstance(bound["out"], S.Constant) and bound["out"].value is None):
            raise _BindError(f"`out=` in a differentiated call to `{rule.name}` is not supported")
        return Prim(rule=rule, bound=bound)

    def _check_active_rules(self):
        for st in iter_stmts(self.fn.body):
            if isinstance(st, (S.Assign, S.Expr)):
                p = self.prims.get(id(st.value))
                targets = _stmt_targets(st)
                if p is None:
                    continue
                if p.kind == "pop" and any(t in self.active for t in targets) and self.mode != "jvp":
                    raise self.err(UnsupportedSyntaxError, st.value._s2_node or st,
                                   "reverse mode through `list.pop()` is not supported",
                                   "index the list instead (`x = lst[-1]`), or differentiate this code in "
                                   "forward mode")
                if p.kind == "unknown" and (any(t in self.active for t in targets) or isinstance(st, S.Expr)):
                    ops = [n.id for n in S.walk(st.value) if isinstance(n, S.Name) and n.id in self.active]
                    if not ops or not any(t in self.active for t in targets):
                        if isinstance(st, S.Expr) and ops:
                            raise self.err(UnsupportedSyntaxError, st.value._s2_node or st, _unknown_effect(st),
                                           "s2sad cannot see what this call changes; compute a new value "
                                           "and assign it instead")
                        continue
                    raise self._no_rule(p, st)

    def _no_rule(self, p, st):
        node = getattr(st.value, "_s2_node", None) or st
        func = p.func_expr
        if func is not None:
            text = S.to_source(func)
            if getattr(p, "method", None):
                return self.err(NoRuleError, node, f"no derivative rule for the method `.{p.method}()`",
                                f"call the NumPy function instead (np.{p.method}(x, ...)) if s2sad has a rule "
                                f"for it, or register one for a function of your own with @s2sad.adjoint(fn)")
            obj = p.func_obj
            import types
            if isinstance(obj, types.FunctionType) and (getattr(obj, "__module__", "") or "").startswith("s2sad_runtime"):
                return self.err(NoRuleError, node,
                                f"no derivative rule for the runtime helper `{text}`: differentiating generated "
                                "code through this operation again (a second derivative) is not supported yet",
                                "write the function without this operation for second-order use, or register "
                                f"a rule with @s2sad.adjoint({text})")
            return self.err(NoRuleError, node, f"no derivative rule for `{text}`",
                            f"register one with @s2sad.adjoint({text}) (see docs/rules.md), or wrap its "
                            "argument in s2sad.stop_gradient(...) if it should not be differentiated")
        text = S.to_source(st.value)
        return self.err(NoRuleError, node, f"no derivative rule for `{text}`",
                        "rewrite it with operations s2sad differentiates (docs/rules.md)")

    def infer_kinds(self, kinds):
        """'array' for names that certainly hold arrays or numbers (their
        adjoints add with ``+``); anything else may be a container, whose
        adjoint is a list/dict accumulated with ``_rt.accumulate``."""
        kinds = dict(kinds)
        assigns = {}
        for st in iter_stmts(self.fn.body):
            for t in _stmt_targets(st):
                assigns.setdefault(t, []).append(st)
        changed = True
        while changed:
            changed = False
            for var, sts in assigns.items():
                if var in kinds:
                    continue
                ks = set()
                for st in sts:
                    ks.add(self._value_kind(st, kinds))
                if "container" in ks or None in ks:
                    k = "container" if "container" in ks else None
                else:
                    k = "array"
                if k is not None:
                    kinds[var] = k
                    changed = True
        return kinds

    def infer_py(self):
        """Names that certainly hold scalars -- Python numbers, or NumPy
        scalars made by ufuncs of scalars: no ``unbroadcast`` is needed
        between them.  Greatest
        fixed point: assume every name is a number, drop the ones an
        assignment contradicts."""
        import builtins
        import numbers
        py_calls_always = {builtins.float, builtins.int, builtins.len, builtins.round, builtins.bool}
        py_calls_if_args = {builtins.abs, builtins.min, builtins.max, builtins.pow}
        assigns = {}
        for st in iter_stmts(self.fn.body):
            for t in _stmt_targets(st):
                assigns.setdefault(t, []).append(st)
        py = {v for v in assigns if v not in self.params or self._kinds_in.get(v) == "py"}
        py |= {v for v in self.params if self._kinds_in.get(v) == "py"}

        def atom_py(a):
            if isinstance(a, S.Constant):
                return isinstance(a.value, (int, float, bool)) and not isinstance(a.value, str)
            if isinstance(a, S.Name):
                if a.id in self.statics:
                    v = self.statics[a.id]
                    return isinstance(v, numbers.Real) and not hasattr(v, "shape")
                return a.id in py
            return False

        def value_py(st):
            if isinstance(st, S.For):
                return self._is_range(st.iter)
            if not isinstance(st, S.Assign) or not isinstance(st.targets[0], S.Name):
                return False
            v = st.value
            if isinstance(v, (S.Constant, S.Name)):
                return atom_py(v)
            if isinstance(v, S.BinOp):
                return atom_py(v.left) and atom_py(v.right)
            if isinstance(v, S.UnaryOp):
                return atom_py(v.operand)
            if isinstance(v, S.Compare):
                return atom_py(v.left) and all(atom_py(c) for c in v.comparators)
            if isinstance(v, S.Call):
                obj = self.static_obj(v.func)
                if obj is _MISSING:
                    return False
                if getattr(obj, "__module__", None) == "math" or obj in py_calls_always:
                    return True
                if isinstance(obj, np.ufunc):   # a ufunc of scalars is a (NumPy) scalar
                    return all(atom_py(a) for a in v.args) and not v.keywords
                if obj in py_calls_if_args:
                    return all(atom_py(a) for a in v.args) and not v.keywords
            return False

        changed = True
        while changed:
            changed = False
            for var in list(py):
                if var in assigns and not all(value_py(st) for st in assigns[var]):
                    py.discard(var)
                    changed = True
        return py

    def _is_range(self, it):
        import builtins
        return isinstance(it, S.Call) and self.static_obj(it.func) is builtins.range

    def _value_kind(self, st, kinds):
        if not isinstance(st, S.Assign) or isinstance(st.targets[0], S.Tuple):
            return "container" if not isinstance(st, S.For) else "array"
        v = st.value
        if isinstance(v, (S.List, S.Tuple, S.Dict)):
            return "container"
        if isinstance(v, S.Name):
            if v.id in self.statics:
                return "container"
            return kinds.get(v.id)
        if isinstance(v, (S.BinOp, S.UnaryOp, S.Constant, S.Compare, S.BoolOp)):
            return "array"
        if isinstance(v, S.Attribute):
            return "array"
        if isinstance(v, S.Subscript):
            base = v.value.id if isinstance(v.value, S.Name) else None
            if base is not None and kinds.get(base) == "array":
                return "array"
            return "container"
        if isinstance(v, S.Call):
            p = self.prims.get(id(v))
            if p is not None and p.kind in ("rule", "nondiff") and p.rule is not None and \
                    p.rule.key not in (list, tuple, dict):
                return "array"
            return "container"
        return "container"

    # ------------------------------------------------------------- needed
    def compute_needed(self):
        needed = set()
        for st in iter_stmts(self.fn.body):
            if isinstance(st, S.Assign):
                tg = _stmt_targets(st)
                if isinstance(st.targets[0], S.Subscript):
                    tg = [st.targets[0].value.id]
                if any(t in self.active for t in tg):
                    if isinstance(st.targets[0], S.Name):
                        needed.update(self._adjoint_reads(st))
                    else:
                        needed.update(n.id for n in S.walk(st.value) if isinstance(n, S.Name)
                                      and _static_key(n) not in self.statics)
                        needed.update(tg)
                    if isinstance(st.targets[0], S.Subscript):
                        needed.update(n.id for n in S.walk(st.targets[0].slice) if isinstance(n, S.Name))
            elif isinstance(st, S.If):
                needed.update(n.id for n in S.walk(st.test) if isinstance(n, S.Name))
            elif isinstance(st, S.Expr) and isinstance(st.value, S.Call) and \
                    isinstance(st.value.func, S.Attribute) and isinstance(st.value.func.value, S.Name) and \
                    st.value.func.value.id in self.active:
                needed.add(st.value.func.value.id)
            elif isinstance(st, S.For):
                needed.update(n.id for n in S.walk(st.iter) if isinstance(n, S.Name)
                              and _static_key(n) not in self.statics)
        return needed

    def _adjoint_reads(self, st):
        """Names the adjoint of ``x = prim`` reads: a dry run of the rule's
        contributions (operands the contributions use, the result if the
        rule reads ``ans``)."""
        p = self.prims.get(id(st.value))
        if p is None or p.kind in ("const", "nondiff", "unknown", "pop"):
            return set()
        saved = self.counter
        pre = []
        g, ans = S.name("\x00g"), S.name("\x00ans")
        try:
            contribs = self.contributions(p, st, g, ans, pre)
        finally:
            self.counter = saved
        reads = set()
        shape_reads = set()

        def visit(node):
            # `_rt.unbroadcast(c, x)` reads only x's shape and kind
            if isinstance(node, S.Call) and isinstance(node.func, S.Attribute) and node.func.attr == "unbroadcast" \
                    and isinstance(node.func.value, S.Name) and node.func.value.id == "_rt" and len(node.args) == 2 \
                    and isinstance(node.args[1], S.Name):
                shape_reads.add(node.args[1].id)
                visit(node.args[0])
                return
            if isinstance(node, S.Name):
                if node.id not in self.statics:
                    reads.add(node.id)
                return
            for f in node._fields:
                v = getattr(node, f, None)
                for x in (v if isinstance(v, list) else [v]):
                    if isinstance(x, S.AST):
                        visit(x)
        for node in [c for _, c in contribs] + pre:
            visit(node)
        self._shape_reads |= {r for r in shape_reads if not r.startswith("\x00")}
        for var, _ in contribs:
            if self.kinds.get(var) != "array":
                reads.add(var)      # container accumulation reads the value's structure
        if "\x00ans" in reads:
            reads.update(_stmt_targets(st))
        return {r for r in reads if not r.startswith("\x00") and not r.startswith("_s2tmp")}

    # ------------------------------------------------------------ the sweep
    def run(self, fname):
        body = self.fn.body[:-1]
        ret = self.fn.body[-1]
        self.top_assigned = set()
        dead = self.dead_result(body, ret) if self.mode == "grad" else None
        if dead is not None:
            dead._s2_dead = True
        fwd = self.fwd_block(body)
        rev_entry = set()
        res = self.result
        seed = "_out_adj"
        while seed in self._all_names:
            seed += "_"
        out_node = ret.value
        if self.mode == "grad" and dead is None:
            node = getattr(ret, "_s2_node", None) or ret
            node = getattr(node, "value", None) or node
            fwd.append(S.expr_stmt(S.call(S.attr(S.name("_rt"), "check_scalar_output"),
                                          [S.copy(out_node)] + self.loc_args(ret, node))))
        rev = []
        if res is not None and res in self.active:
            rev.append(S.assign(self.adj(res), S.name(seed)))
            rev_entry.add(res)
        rev_body, state = self.rev_block(body, rev_entry)
        rev.extend(rev_body)
        outs = []
        for w in self.wrt:
            if w in state:
                outs.append(S.call(S.attr(S.name("_rt"), "grad_out"), [S.name(self.adj(w)), S.name(w)]))
            else:
                outs.append(S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(w)]))
        grads = outs[0] if self.single else S.tuple_(outs)
        pre = []
        for v in sorted(self.none_init):
            if v not in self.params:
                pre.append(S.assign(v, S.const(None)))
        if self.uses_stack:
            pre.insert(0, S.assign("_stack", S.list_([])))
        result_val = S.name("_value")
        if self.mode in ("value_and_grad", "vjp"):
            # keep the value: the reverse sweep restores overwritten names
            fwd.append(S.assign("_value", S.copy(out_node)))
            final = S.ret(S.tuple_([result_val, grads]))
        else:
            final = S.ret(grads)
        params = self.params + [seed]
        defaults = [S.const(1.0)]
        orig = list(getattr(self.fn.args, "defaults", []) or [])
        for d in reversed(orig):
            if not isinstance(d, S.Constant):
                break
            defaults.insert(0, S.const(d.value))
        body_all = pre + fwd
        if rev:
            body_all.append(S.Comment("---- reverse sweep ----"))
        body_all += rev + [final]
        fdef = S.function_def(fname, params, _dedupe_comments(body_all), defaults)
        return fdef

    single = True
    uses_stack = False

    _SCALAR_REDUCTIONS = ("sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std")

    def dead_result(self, body, ret):
        """``grad`` does not need the value of ``f``: when the last statement
        computes the returned name by a full reduction (certainly a scalar)
        whose value no adjoint reads, the forward sweep skips it, and the
        scalar check with it."""
        if not body or not isinstance(ret.value, S.Name):
            return None
        st = body[-1]
        r = ret.value.id
        if not (isinstance(st, S.Assign) and isinstance(st.targets[0], S.Name) and st.targets[0].id == r):
            return None
        if r in self.needed or self.assign_counts.get(r, 0) != 1 or r in self.params:
            return None
        p = self.prims.get(id(st.value))
        if p is None or p.kind != "rule" or not isinstance(st.value, S.Call):
            return None
        import numpy as np
        key = p.rule.key
        name = key if isinstance(key, str) else getattr(key, "__name__", "")
        is_np = not isinstance(key, str) and getattr(key, "__module__", "").startswith("numpy") and \
            getattr(np, name, None) is key
        if not ((is_np and name in self._SCALAR_REDUCTIONS) or (isinstance(key, str) and key in self._SCALAR_REDUCTIONS)):
            return None
        axis = p.bound.get("axis")
        if not (isinstance(axis, S.Constant) and axis.value is None):
            return None
        return st

    def loc_args(self, st, node):
        """Constants naming where ``node`` (of statement ``st``) is in the
        user's file, for errors raised by the generated code at run time."""
        src = getattr(st, "_s2_src", None) or self.src
        line = getattr(st, "_s2_line", None) or 1
        col = getattr(node, "col_offset", None)
        end = getattr(node, "end_col_offset", None)
        if getattr(node, "lineno", line) != line:
            col = end = None
        shift = src.col_shift
        loc = [src.filename, src.file_line(line), src.line_text(line).rstrip("\n"),
               None if col is None else col + shift, None if end is None else end + shift, src.qualname]
        # a module-level constant (``_loc1``) keeps the generated line short
        return [S.name(self.ns.ref(tuple(loc), "_loc"))]

    def alias_groups(self):
        """Names that may refer to the same object as another name: bound by a
        plain copy (``g = h``, an inlined call's parameter), or stored in a
        list, tuple or dict.  Mutating such an object in place would change
        what the other names see, which name-based adjoints cannot follow."""
        aliased = set()
        for st in iter_stmts(self.fn.body):
            if isinstance(st, S.Assign) and isinstance(st.targets[0], S.Name) and isinstance(st.value, S.Name) \
                    and st.value.id not in self.statics:
                aliased.update((st.targets[0].id, st.value.id))
            elif isinstance(st, S.Assign) and isinstance(st.value, (S.List, S.Tuple, S.Dict)):
                vals = st.value.values if isinstance(st.value, S.Dict) else st.value.elts
                aliased.update(v.id for v in vals if isinstance(v, S.Name))
            elif isinstance(st, S.Expr) and isinstance(st.value, S.Call) and \
                    isinstance(st.value.func, S.Attribute) and st.value.func.attr in ("append", "insert"):
                aliased.update(a.id for a in st.value.args if isinstance(a, S.Name))
        return aliased

    # forward sweep -------------------------------------------------------
    def fwd_block(self, stmts):
        out = []
        last_line = None
        for st in stmts:
            line = getattr(st, "_s2_line", None)
            if line is not None:
                line_key = (id(getattr(st, "_s2_src", None)), line)
            if line is not None and line_key != last_line and not isinstance(st, (S.For, S.While, S.If)) \
                    and not getattr(st, "_s2_retest", False):
                out.append(S.Comment(self.line_comment(line, st=st)))
            last_line = line_key if line is not None and not isinstance(st, (S.For, S.While, S.If)) else None
            out.extend(self.fwd_stmt(st))
        return out

    def line_comment(self, line, prefix="", st=None):
        src = getattr(st, "_s2_src", None) or self.src
        return f"{prefix}{src.short_filename}:{src.file_line(line)}  {src.line_text(line).strip()}"

    primal_only = False
    extra_params = frozenset()
    loop_default = None

    def must_save(self, var):
        if var not in self.needed or self.primal_only:
            return False
        if self.loop_depth > 0 or var in self.extra_params:
            return True
        return self.assign_counts.get(var, 0) > 1 or var in self.params

    def save_code(self, var, st):
        """Forward-sweep statements saving ``var`` before ``st`` overwrites it;
        records on ``st`` how the reverse sweep restores it."""
        saved = S.name(var)
        if var in self.shape_only:
            saved = S.call(S.attr(S.name("_rt"), "like"), [saved])
        if self.loop_depth > 0:
            self.uses_stack = True
            if var not in self.params:
                self.none_init.add(var)
            _add_restore(st, ("stack", var))
            return [S.expr_stmt(S.call(S.attr(S.name("_stack"), "append"), [saved]))]
        slot = self.fresh(var.lstrip("_") + "_saved")
        if var not in self.params and var not in self.top_assigned:
            # possibly undefined before this first top-level assignment: nothing to save
            return []
        _add_restore(st, ("slot", var, slot))
        return [S.assign(slot, saved)]

    def fwd_stmt(self, st):
        st._s2_restore = []   # this pass's saves (a statement may be generated twice)
        if getattr(st, "_s2_dead", False):
            return []
        out = []
        if isinstance(st, S.Assign):
            tgt = st.targets[0]
            if isinstance(tgt, S.Subscript):
                base = tgt.value.id
                if base in self.aliased and base in self.active:
                    raise self.err(InputMutationError, st._s2_node or st,
                                   f"`{base}` is written in place, but another name (or a list) refers to the "
                                   f"same object; s2sad follows values by name and cannot see the write through it",
                                   f"copy first (`{base} = {base}.copy()`) so the write changes one object only")
                if base in self.params and base in self.active:
                    raise self.err(InputMutationError, st._s2_node or st,
                                   f"the function writes into its input `{base}` in place",
                                   f"copy it first (`{base} = {base}.copy()`), then write into the copy")
                if (base in self.needed or base in self.active) and not self.primal_only:
                    slot_val = S.call(S.attr(S.name("_rt"), "copy_slot"), [S.name(base), S.copy(_index_expr(tgt.slice))])
                    if self.loop_depth > 0:
                        self.uses_stack = True
                        out.append(S.expr_stmt(S.call(S.attr(S.name("_stack"), "append"), [slot_val])))
                        _add_restore(st, ("stack_item", base))
                    else:
                        slot = self.fresh(base + "_slot")
                        out.append(S.assign(slot, slot_val))
                        _add_restore(st, ("slot_item", base, slot))
                out.append(st)
                return out
            if getattr(st, "_s2_aug", False) and _stmt_targets(st)[0] in self.aliased \
                    and _stmt_targets(st)[0] in self.active:
                v = _stmt_targets(st)[0]
                out.append(S.expr_stmt(S.call(S.attr(S.name("_rt"), "check_rebind"),
                                              [S.name(v)] + self.loc_args(st, st._s2_node))))
            for v in _stmt_targets(st):
                if self.must_save(v):
                    out.extend(self.save_code(v, st))
            out.append(st)
            if self.loop_depth == 0:
                self.top_assigned.update(_stmt_targets(st))
            return out
        if isinstance(st, S.Expr):
            return [st]
        if isinstance(st, S.If):
            test = st.test
            assigned_inside = set(t for s in iter_stmts(st.body + st.orelse) for t in _stmt_targets(s))
            if isinstance(test, S.Name) and test.id in assigned_inside and not self.primal_only:
                # the branches change the condition: keep the decision
                c = self.fresh("cond")
                out.append(S.assign(c, S.name(test.id)))
                if self.loop_depth > 0:
                    self.uses_stack = True
                    self.none_init.add(c)
                    out.append(S.expr_stmt(S.call(S.attr(S.name("_stack"), "append"), [S.name(c)])))
                    st._s2_cond = ("stack", c)
                else:
                    st._s2_cond = ("slot", c)
            before = set(self.top_assigned)
            body = self.fwd_block(st.body)
            after_body, self.top_assigned = self.top_assigned, set(before)
            orelse = self.fwd_block(st.orelse)
            self.top_assigned |= after_body
            out.append(S.Comment(self.line_comment(st._s2_line, st=st)))
            out.append(S.if_(S.copy(st.test), body, orelse))
            return out
        if isinstance(st, S.For):
            return self.fwd_for(st)
        if isinstance(st, S.While):
            return self.fwd_while(st)
        if isinstance(st, (S.Break, S.Continue, S.Pass)):
            return [st]
        raise self.err(UnsupportedSyntaxError, st, f"cannot differentiate a `{type(st).__name__}` statement")

    def _counter_code(self, st):
        cnt = self.fresh("n")
        st._s2_count = cnt
        return cnt

    def fwd_for(self, st):
        strategy = getattr(st, "_s2_strategy", None)
        if strategy is None and self.loop_default is not None and self.loop_depth == 0 \
                and not self.primal_only:
            if hasattr(self.loop_default, "frac_bits"):
                strategy = {"kind": "reversible", "snapshots": None, "check": S.const(False), "node": st,
                            "frac_bits": S.const(self.loop_default.frac_bits)}
            else:
                strategy = {"kind": "checkpoint", "snapshots": S.const(self.loop_default.snapshots),
                            "check": S.const(bool(self.loop_default.check)), "node": st}
        if strategy is not None and strategy["kind"] in ("checkpoint", "reversible") and not self.primal_only:
            return self.fwd_checkpointed(st, strategy)
        out = []
        st._s2_nested = self.loop_depth > 0
        target = st.target.id
        if self.must_save(target) and (self.loop_depth > 0 or target in self.top_assigned or target in self.params):
            out.extend(self.save_code(target, st))
        has_break = _has_jump(st.body, S.Break)
        body_src = _desugar_jumps(st.body, self) if _has_jump(st.body, (S.Break, S.Continue)) else st.body
        st._s2_body = body_src
        cnt = None
        if has_break:
            cnt = self._counter_code(st)
            out.append(S.assign(cnt, S.const(0)))
        self.loop_depth += 1
        body = self.fwd_block(body_src)
        self.loop_depth -= 1
        if cnt:
            body.insert(0, S.assign(cnt, S.binop(S.name(cnt), S.Add(), S.const(1))))
        out.append(S.Comment(self.line_comment(st._s2_line, st=st)))
        out.append(S.for_(S.name(target, True), S.copy(st.iter), body))
        if cnt and self.loop_depth > 0 and not self.primal_only:
            self.uses_stack = True
            out.append(S.expr_stmt(S.call(S.attr(S.name("_stack"), "append"), [S.name(cnt)])))
        if self.loop_depth == 0:
            self.top_assigned.add(target)
        return out

    def fwd_while(self, st):
        strategy = getattr(st, "_s2_strategy", None)
        if strategy is None and self.loop_default is not None and self.loop_depth == 0 \
                and not self.primal_only \
                and hasattr(self.loop_default, "snapshots"):
            strategy = {"kind": "checkpoint", "snapshots": S.const(self.loop_default.snapshots),
                        "check": S.const(bool(self.loop_default.check)), "node": st}
        if strategy is not None and strategy["kind"] == "checkpoint" and not self.primal_only:
            return self.fwd_checkpointed(st, strategy)
        out = []
        st._s2_nested = self.loop_depth > 0
        body_src = _desugar_jumps(st.body, self) if _has_jump(st.body, (S.Break, S.Continue)) else st.body
        st._s2_body = body_src
        cnt = self._counter_code(st)
        out.append(S.assign(cnt, S.const(0)))
        self.loop_depth += 1
        body = self.fwd_block(body_src)
        self.loop_depth -= 1
        body.insert(0, S.assign(cnt, S.binop(S.name(cnt), S.Add(), S.const(1))))
        out.append(S.Comment(self.line_comment(st._s2_line, st=st)))
        out.append(S.while_(S.copy(st.test), body))
        if self.loop_depth > 0 and not self.primal_only:
            self.uses_stack = True
            out.append(S.expr_stmt(S.call(S.attr(S.name("_stack"), "append"), [S.name(cnt)])))
        return out

    # reverse sweep -------------------------------------------------------
    def rev_block(self, stmts, state):
        """Reverse sweep of ``stmts`` entered with adjoint set ``state``
        (names whose adjoint holds a value); returns (code, state)."""
        state = set(state)
        out = []
        last = None
        for st in reversed(stmts):
            code, state = self.rev_stmt(st, state)
            if code and S.is_comment(code[0]):
                text = code[0].value.value
                if text == last and len(code) > 0:
                    code = code[1:]
                last = text
            out.extend(code)
        return out, state

    def rev_stmt(self, st, state):
        if isinstance(st, S.Assign):
            return self.rev_assign(st, state)
        if isinstance(st, S.Expr):
            return self.rev_expr(st, state)
        if isinstance(st, S.If):
            return self.rev_if(st, state)
        if isinstance(st, S.For):
            return self.rev_loop(st, state, is_for=True)
        if isinstance(st, S.While):
            return self.rev_loop(st, state, is_for=False)
        return [], state

    def rev_expr(self, st, state):
        """``lst.append(v)``: the last element's adjoint flows to ``v``; the
        list is restored by popping."""
        call = st.value
        f = call.func
        if isinstance(f, S.Attribute) and isinstance(f.value, S.Name) and f.attr == "append" \
                and f.value.id not in self.statics:
            lst = f.value.id
            out = []
            if lst in self.active and lst in state and call.args and isinstance(call.args[0], S.Name) \
                    and call.args[0].id in self.active:
                v = call.args[0].id
                la = self.adj(lst)
                out.append(S.Comment(self.line_comment(st._s2_line, "adjoint of ", st)))
                self.accumulate(v, S.call(S.attr(S.name("_rt"), "elem"), [S.name(la), S.const(-1), S.name(v)]),
                                state, out)
                out.append(S.assign(la, S.subscript(S.name(la), S.Slice(lower=None, upper=S.const(-1), step=None))))
            if lst in self.needed:
                out.append(S.expr_stmt(S.call(S.attr(S.name(lst), "pop"), [])))
            return out, state
        return [], state

    def restore_code(self, st):
        """Undo the saves of ``st``, last saved first (the stack is LIFO)."""
        out = []
        for r in reversed(getattr(st, "_s2_restore", None) or []):
            if r[0] == "stack":
                out.append(S.assign(r[1], S.call(S.attr(S.name("_stack"), "pop"), [])))
            elif r[0] == "slot":
                out.append(S.assign(r[1], S.name(r[2])))
            else:
                tgt = st.targets[0]
                val = S.call(S.attr(S.name("_stack"), "pop"), []) if r[0] == "stack_item" else S.name(r[2])
                out.append(S.assign(S.subscript(S.name(r[1]), S.copy(tgt.slice), store=True), val))
        return out

    def accumulate(self, var, contrib, state, out):
        a = self.adj(var)
        kind = self.kinds.get(var)
        if var in state:
            if kind != "array":
                out.append(S.assign(a, S.call(S.attr(S.name("_rt"), "accumulate"), [S.name(a), contrib])))
            elif isinstance(contrib, S.UnaryOp) and isinstance(contrib.op, S.USub):
                out.append(S.assign(a, S.binop(S.name(a), S.Sub(), contrib.operand)))
            else:
                out.append(S.assign(a, S.binop(S.name(a), S.Add(), contrib)))
        else:
            out.append(S.assign(a, contrib))
            state.add(var)

    def rev_assign(self, st, state):
        out = []
        tgt = st.targets[0]
        comment = S.Comment(self.line_comment(st._s2_line, "adjoint of ", st)) if st._s2_line else None
        if isinstance(tgt, S.Subscript):
            base = tgt.value.id
            if base in self.active and base in state:
                val = st.value
                a = self.adj(base)
                if isinstance(val, S.Name) and val.id in self.active:
                    if self.kinds.get(base) == "array":
                        piece = S.subscript(S.name(a), S.copy(tgt.slice))
                    else:
                        piece = S.call(S.attr(S.name("_rt"), "elem"), [S.name(a), S.copy(_index_expr(tgt.slice)),
                                                                        S.name(val.id)])
                    self.accumulate(val.id, S.call(S.attr(S.name("_rt"), "unbroadcast"), [
                        piece, S.name(val.id)]), state, out)
                out.append(S.assign(a, S.call(S.attr(S.name("_rt"), "zero_slot"),
                                              [S.name(a), S.copy(_index_expr(tgt.slice))])))
            out.extend(self.restore_code(st))
            if out and comment is not None:
                out.insert(0, comment)
            return out, state
        targets = _stmt_targets(st)
        p = self.prims.get(id(st.value))
        active_out = [t for t in targets if t in self.active and t in state]
        if not active_out or p is None or p.kind in ("const", "nondiff", "unknown", "display", "dict", "pop") \
                and not (p.kind in ("display", "dict") and active_out):
            for t in targets:
                state.discard(t)
            out.extend(self.restore_code(st))
            if out and comment is not None:
                out.insert(0, comment)
            return out, state
        # the adjoint of the result, and the result itself
        if isinstance(tgt, S.Tuple):
            elts = []
            for e in tgt.elts:
                if e.id in state:
                    elts.append(S.name(self.adj(e.id)))
                else:
                    elts.append(S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(e.id)]))
            g_expr = S.tuple_(elts)
            ans_expr = S.tuple_([S.name(e.id) for e in tgt.elts])
        else:
            g_expr = S.name(self.adj(tgt.id))
            ans_expr = S.name(tgt.id)
        self_update = any(n.id in targets for n in S.walk(st.value) if isinstance(n, S.Name))
        pre = []
        if self_update:
            gets = set(p.diff_operands()) & set(targets) if p.kind in ("rule", "vjp") else set(targets)
            if gets:   # the target's own adjoint is rewritten while g is still read
                gname = self.fresh("g")
                pre.append(S.assign(gname, g_expr))
                g_expr = S.name(gname)
            if p.kind != "rule" or p.rule.parsed().uses_ans:
                aname = self.fresh("ans")
                pre.append(S.assign(aname, ans_expr))
                ans_expr = S.name(aname)
            for t in targets:
                state.discard(t)
            pre.extend(self.restore_code(st))
            restore_after = []
        else:
            restore_after = self.restore_code(st)
        contribs = self.contributions(p, st, g_expr, ans_expr, pre)
        if not self_update:
            for t in targets:
                state.discard(t)
        for var, c in contribs:
            self.accumulate(var, c, state, pre)
        out.extend(pre)
        out.extend(restore_after)
        if comment is not None:
            out.insert(0, comment)
        return out, state

    def contributions(self, p, st, g_expr, ans_expr, pre):
        """Splice the rule's template: returns [(var, expr)] and appends the
        temporaries it needs to ``pre``."""
        if p.kind == "display":
            res = []
            for i, e in enumerate(st.value.elts):
                if isinstance(e, S.Name) and e.id in self.active:
                    res.append((e.id, S.call(S.attr(S.name("_rt"), "elem"), [S.copy(g_expr), S.const(i), S.name(e.id)])))
            return res
        if p.kind == "dict":
            res = []
            for k, v in zip(st.value.keys, st.value.values):
                if isinstance(v, S.Name) and v.id in self.active:
                    res.append((v.id, S.call(S.attr(S.name("_rt"), "elem"), [S.copy(g_expr), S.copy(k), S.name(v.id)])))
            return res
        if p.kind == "vjp":
            return self.vjp_contributions(p, st, g_expr, ans_expr, pre)
        t = p.rule.parsed()
        tmap = {}
        # which contributions are needed
        wanted = []
        for tst in t.body:
            if is_contribution(tst):
                param = contribution_param(tst)
                key = tst.targets[0].slice
                bound = p.bound.get(param)
                if isinstance(key, S.Subscript):  # d[xs[k]]
                    elems = bound if isinstance(bound, list) else []
                    for k, e in enumerate(elems):
                        if isinstance(e, S.Name) and e.id in self.active:
                            wanted.append((tst, e.id, {"k": S.const(k)}, e))
                    if not isinstance(bound, list) and isinstance(bound, S.Name) and bound.id in self.active:
                        # a list held in a variable: its adjoint is a list
                        wanted.append((tst, bound.id, {"k": "each"}, bound))
                else:
                    if isinstance(bound, S.Name) and bound.id in self.active:
                        wanted.append((tst, bound.id, {}, bound))
                    elif isinstance(bound, tuple) and bound[0] == "stacked":
                        act = [(k, e) for k, e in enumerate(bound[1]) if isinstance(e, S.Name) and e.id in self.active]
                        if act:
                            wanted.append((tst, None, {"stacked": act}, bound))
        if not wanted:
            return []
        need_tmps = set()
        tmp_defs = {tst.targets[0].id: tst for tst in t.body if not is_contribution(tst)}
        todo = [w[0].value for w in wanted]
        while todo:
            e = todo.pop()
            for n in S.walk(e):
                if isinstance(n, S.Name) and n.id in tmp_defs and n.id not in need_tmps:
                    need_tmps.add(n.id)
                    todo.append(tmp_defs[n.id].value)
        for tst in t.body:
            if not is_contribution(tst) and tst.targets[0].id in need_tmps:
                nm = self.fresh(tst.targets[0].id)
                val = self.subst(tst.value, p, t, g_expr, ans_expr, tmap, {})
                tmap[tst.targets[0].id] = nm
                pre.append(S.assign(nm, val))
        res = []
        for tst, var, extra, operand in wanted:
            if extra.get("k") == "each":
                k = self.fresh("k")
                val = self.subst(tst.value, p, t, g_expr, ans_expr, tmap, {"k": S.name(k)})
                comp = S.comprehension(target=S.name(k, True), iter=S.call(S.name("range"), [
                    S.call(S.name("len"), [S.name(var)])]), ifs=[], is_async=0)
                res.append((var, S.ListComp(elt=val, generators=[comp])))
                continue
            if "stacked" in extra:
                val = self.subst(tst.value, p, t, g_expr, ans_expr, tmap, {})
                c = self.fresh("stacked_adj")
                pre.append(S.assign(c, val))
                for k, e in extra["stacked"]:
                    res.append((e.id, S.call(S.attr(S.name("_rt"), "unbroadcast"),
                                             [S.subscript(S.name(c), S.const(k)), S.name(e.id)])))
                continue
            val = self.subst(tst.value, p, t, g_expr, ans_expr, tmap, extra)
            if p.rule.broadcasting and not self._others_constant(p, operand):
                val = S.call(S.attr(S.name("_rt"), "unbroadcast"), [val, S.name(var)])
            res.append((var, val))
        return res

    def _others_constant(self, p, operand):
        """True when no broadcasting can happen: every other operand is a
        number constant (the result has the operand's shape), or operand
        and result are Python numbers."""
        others = [v for v in p.bound.values() if v is not operand]
        if all(isinstance(v, S.Constant) and isinstance(v.value, (int, float)) for v in others):
            return True
        vals = [v for v in p.bound.values() if isinstance(v, (S.Name, S.Constant))]
        return all(self.is_scalar_atom(v) for v in vals)

    def is_scalar_atom(self, a):
        import numbers
        if isinstance(a, S.Constant):
            return isinstance(a.value, (int, float, bool))
        if isinstance(a, S.Name):
            if a.id in self.statics:
                v = self.statics[a.id]
                return isinstance(v, numbers.Real) and not hasattr(v, "shape")
            return a.id in self.py
        return False

    def subst(self, expr, p, t, g_expr, ans_expr, tmap, extra):
        expr = _copy.deepcopy(expr)
        bound = p.bound

        class Sub(_Transformer):
            def visit_Name(inner, n):
                if n.id in extra:
                    return _copy.deepcopy(extra[n.id])
                if n.id == "g":
                    return _copy.deepcopy(g_expr)
                if n.id == "ans":
                    return _copy.deepcopy(ans_expr)
                if n.id in tmap:
                    return S.name(tmap[n.id])
                if n.id in bound:
                    v = bound[n.id]
                    if isinstance(v, tuple) and v[0] == "stacked":
                        return S.call(S.attr(S.name("_rt"), "stack_operand"),
                                      [S.list_([_copy.deepcopy(x) for x in v[1]])])
                    if isinstance(v, list):
                        return S.list_([_copy.deepcopy(x) for x in v])
                    return _copy.deepcopy(v)
                obj = t.globals.get(n.id, _MISSING)
                if obj is _MISSING:
                    import builtins
                    if hasattr(builtins, n.id):
                        return n
                    raise RuntimeError(f"rule template for {p.rule.name} uses unknown name {n.id}")
                return S.name(self.ns.ref(obj, n.id))

        out = Sub().visit(expr)
        return _fold(out)

    def vjp_contributions(self, p, st, g_expr, ans_expr, pre):
        args = p.bound["*args"]
        kws = p.bound["**kw"]
        fname = self.ns.ref(p.rule.vjp, getattr(p.rule.vjp, "__name__", "vjp"))
        res_name = self.fresh("vjp")
        call = S.call(S.name(fname), [_copy.deepcopy(g_expr), _copy.deepcopy(ans_expr)] + [_copy.deepcopy(a) for a in args],
                      {k: _copy.deepcopy(v) for k, v in kws.items()})
        pre.append(S.assign(res_name, S.call(S.attr(S.name("_rt"), "as_tuple"), [call, S.const(len(args))])))
        out = []
        for i, a in enumerate(args):
            if isinstance(a, S.Name) and a.id in self.active:
                out.append((a.id, S.call(S.attr(S.name("_rt"), "unbroadcast"),
                                         [S.subscript(S.name(res_name), S.const(i)), S.name(a.id)])))
        return out

    def rev_if(self, st, state):
        b_code, b_state = self.rev_block(st.body, state)
        o_code, o_state = self.rev_block(st.orelse, state)
        joined = b_state | o_state
        b_code += self.zeros_for(joined - b_state)
        o_code += self.zeros_for(joined - o_state)
        if not b_code and not o_code:
            return self.cond_restore(st), joined
        cond = getattr(st, "_s2_cond", None)
        out = []
        test = S.copy(st.test)
        if cond is not None:
            if cond[0] == "stack":
                out.append(S.assign(cond[1], S.call(S.attr(S.name("_stack"), "pop"), [])))
            test = S.name(cond[1])
        out.append(S.Comment(self.line_comment(st._s2_line, "adjoint of ", st)))
        if all(S.is_comment(c) for c in b_code):
            b_code = b_code + [S.Pass()]
        if o_code and all(S.is_comment(c) for c in o_code):
            o_code = o_code + [S.Pass()]
        out.append(S.if_(test, b_code, o_code))
        return out, joined

    def cond_restore(self, st):
        cond = getattr(st, "_s2_cond", None)
        if cond is not None and cond[0] == "stack":
            return [S.expr_stmt(S.call(S.attr(S.name("_stack"), "pop"), []))]
        return []

    def zeros_for(self, names):
        return [S.assign(self.adj(v), S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(v)]))
                for v in sorted(names)]

    def rev_loop(self, st, state, is_for):
        if getattr(st, "_s2_ck", None) is not None:
            return self.rev_checkpointed(st, state)
        body = st._s2_body
        # fixed point of the adjoint state around the loop body
        S0 = set(state)
        saved_counter = self.counter
        for _ in range(50):
            self.counter = saved_counter
            _, S1 = self.rev_block(body, S0)
            if S1 <= S0:
                break
            S0 |= S1
        self.counter = saved_counter
        code, S1 = self.rev_block(body, S0)
        code += self.zeros_for(S0 - S1)
        pre = self.zeros_for(S0 - state)
        out = list(pre)
        cnt = getattr(st, "_s2_count", None)
        if cnt and self.loop_is_nested(st):
            out.append(S.assign(cnt, S.call(S.attr(S.name("_stack"), "pop"), [])))
        if not code:
            if is_for:
                out.extend(self.restore_code(st))
                S0 = S0 - {st.target.id}
            return out, S0
        out.append(S.Comment(self.line_comment(st._s2_line, "adjoint of ", st)))
        if is_for:
            rng = S.copy(st.iter)
            if cnt:
                rng = S.subscript(rng, S.Slice(lower=None, upper=S.name(cnt), step=None))
            loop = S.for_(S.name(st.target.id, True), S.call(S.name("reversed"), [rng]), code or [S.Pass()])
        else:
            loop = S.for_(S.name("_"), S.call(S.name("range"), [S.name(cnt)]), code or [S.Pass()])
        out.append(loop)
        if is_for:
            out.extend(self.restore_code(st))
            # the loop assigned its target: uses after the loop and inside it
            # saw those (integer) values, not the one before the loop
            S0 = S0 - {st.target.id}
        return out, S0

    # checkpointed loops ---------------------------------------------------
    def carried_state(self, st, body):
        """Loop-carried variables: assigned in the body and either read in
        an iteration before the body assigns them, or read after the loop."""
        target = st.target.id if isinstance(st, S.For) else "_k"
        assigned = {t for s2 in iter_stmts(body) for t in _stmt_targets(s2)}
        assigned |= {s2.targets[0].value.id for s2 in iter_stmts(body)
                     if isinstance(s2, S.Assign) and isinstance(s2.targets[0], S.Subscript)}
        exposed, _ = self._exposed(body, {target})
        inside = {id(n) for s2 in iter_stmts(body) for n in S.walk(s2)}
        after = set()
        for s2 in iter_stmts(self.fn.body):
            if s2 is st or id(s2) in inside:
                continue
            if isinstance(s2, (S.If, S.While)):
                nodes = [s2.test]
            elif isinstance(s2, S.For):
                nodes = [s2.iter]
            else:
                nodes = [s2]
            for nd in nodes:
                after.update(n.id for n in S.walk(nd) if isinstance(n, S.Name) and isinstance(n.ctx, S.Load))
        carried = (assigned & (exposed | after)) - {target}
        if isinstance(st, S.While) and isinstance(st.test, S.Name):
            carried.add(st.test.id)
        return sorted(carried)

    def _exposed(self, stmts, defined):
        exposed = set()
        defined = set(defined)

        def loads(node):
            return {n.id for n in S.walk(node) if isinstance(n, S.Name) and isinstance(n.ctx, S.Load)
                    and n.id not in self.statics}
        for s2 in stmts:
            if isinstance(s2, S.Assign):
                r = loads(s2.value)
                if isinstance(s2.targets[0], S.Subscript):
                    r |= loads(s2.targets[0].slice) | {s2.targets[0].value.id}
                exposed |= r - defined
                defined |= set(_stmt_targets(s2))
            elif isinstance(s2, S.Expr):
                exposed |= loads(s2.value) - defined
            elif isinstance(s2, S.If):
                exposed |= loads(s2.test) - defined
                e1, d1 = self._exposed(s2.body, defined)
                e2, d2 = self._exposed(s2.orelse, defined)
                exposed |= e1 | e2
                defined = d1 & d2
            elif isinstance(s2, S.For):
                exposed |= loads(s2.iter) - defined
                e, _ = self._exposed(s2.body, defined | {s2.target.id})
                exposed |= e
            elif isinstance(s2, S.While):
                exposed |= loads(s2.test) - defined
                e, _ = self._exposed(s2.body, defined)
                exposed |= e
        return exposed, defined

    def fwd_checkpointed(self, st, opts):
        node = opts.get("node") or st
        if self.loop_depth > 0:
            raise self.err(UnsupportedSyntaxError, node, "a checkpointed loop inside another loop is not supported yet",
                           "checkpoint the outer loop, or use the default tape for this one")
        if _has_jump(st.body, S.Break):
            raise self.err(UnsupportedSyntaxError, node, "`break` in a checkpointed loop is not supported: the "
                           "schedule needs the number of steps in advance", "compute the number of steps first, "
                           "or use the default tape for this loop")
        body = _desugar_jumps(st.body, self) if _has_jump(st.body, S.Continue) else st.body
        st._s2_body = body
        is_for = isinstance(st, S.For)
        if not is_for and not (isinstance(st.test, S.Name) and st.test.id not in self.statics):
            raise self.err(UnsupportedSyntaxError, node, "a checkpointed `while` loop needs a test that changes "
                           "in the loop", "use the default tape for this loop")
        target = st.target.id if is_for else self.fresh("k")
        carried = self.carried_state(st, body)
        k = self.fresh("loop")
        name = k
        st._s2_ck = {"name": name, "carried": carried}
        head = S.Comment(self.line_comment(st._s2_line, st=st))
        # 1. the primal step
        self.primal_only = True
        try:
            step_body = self.fwd_block(body)
        finally:
            self.primal_only = False
        step_body.append(S.ret(S.tuple_([S.name(c) for c in carried])))
        step_fn = S.function_def(f"{name}_step", [target] + carried, step_body)
        # 2. the one-step adjoint, a generator holding the step's tape
        active_carried = [c for c in carried if c in self.active]
        assigned = {t for s2 in iter_stmts(body) for t in _stmt_targets(s2)} | {target}
        saved = (self.loop_depth, self.top_assigned, self.uses_stack, self.none_init, self.extra_params)
        self.loop_depth, self.top_assigned, self.uses_stack = 0, set(carried) | {target}, False
        self.none_init, self.extra_params = set(), frozenset(carried)
        try:
            fwd = self.fwd_block(body)
            S0 = set(active_carried)
            loads = {n.id for s2 in iter_stmts(body) for n in S.walk(s2) if isinstance(n, S.Name)}
            outer_acc = sorted(v for v in loads if v in self.active and v not in assigned and v not in carried)
            S0 |= set(outer_acc)
            rev, S1 = self.rev_block(body, S0)
            rev += self.zeros_for([c for c in active_carried if c not in S1])
            inner_stack, inner_none = self.uses_stack, self.none_init
        finally:
            (self.loop_depth, self.top_assigned, self.uses_stack, self.none_init, self.extra_params) = saved
        gen = []
        if outer_acc:
            gen.append(S.Nonlocal(names=[self.adj(v) for v in outer_acc]))
        if inner_stack:
            gen.append(S.assign("_stack", S.list_([])))
        gen += [S.assign(v, S.const(None)) for v in sorted(inner_none) if v not in carried and v != target]
        gen += fwd
        adj_names = [self.adj(c) for c in active_carried]
        gen.append(S.assign(S.tuple_([S.name(a, True) for a in adj_names], store=True),
                            S.Yield(value=S.tuple_([S.name(c) for c in carried]))))
        gen.append(S.Comment("reverse of one step"))
        gen += rev
        gen.append(S.expr_stmt(S.Yield(value=S.tuple_([S.name(a) for a in adj_names]))))
        adj_fn = S.function_def(f"{name}_adjoint", [target] + carried, gen)
        st._s2_ck.update(active=active_carried, outer_acc=outer_acc)
        # 3. the driver
        rng_names = sorted(v for v in loads if v not in assigned and v not in self.statics)
        rngs = [S.name(v) for v in rng_names]
        import numpy.random as npr
        for nm, obj in self.statics.items():
            if isinstance(obj, (npr.Generator, npr.RandomState)) and any(
                    isinstance(n, S.Name) and n.id == nm for s2 in iter_stmts(body) for n in S.walk(s2)):
                rngs.append(S.name(nm))
            if getattr(obj, "__self__", None) is npr.mtrand._rand and any(
                    isinstance(n, S.Name) and n.id == nm.split(".")[0] for s2 in iter_stmts(body) for n in S.walk(s2)):
                rngs.append(S.name(self.ns.ref(npr.mtrand._rand, "_global_rng")))
        writes_in_place = any(isinstance(s2, S.Assign) and isinstance(s2.targets[0], S.Subscript)
                              and s2.targets[0].value.id in carried for s2 in iter_stmts(body))
        for c in carried:
            if c not in self.params and c not in self.top_assigned:
                self.none_init.add(c)
        snaps = S.copy(opts["snapshots"]) if opts["snapshots"] is not None else S.const(None)
        if is_for:
            drv = S.call(S.attr(S.name("_rt"), "Checkpointed"),
                         [S.name(step_fn.name), S.name(adj_fn.name), S.copy(st.iter), snaps,
                          S.tuple_(rngs), S.copy(opts["check"]), S.const(writes_in_place)])
        else:
            drv = S.call(S.attr(S.name("_rt"), "CheckpointedWhile"),
                         [S.name(step_fn.name), S.name(adj_fn.name), S.const(carried.index(st.test.id)), snaps,
                          S.tuple_(rngs), S.copy(opts["check"]), S.const(writes_in_place)])
        extra_fns = []
        if opts.get("kind") == "reversible":
            exact_fn, inverse_fn, scaled = self.reversible_steps(st, body, carried, target, name, opts, adj_fn)
            extra_fns = [f for f in (exact_fn, inverse_fn) if f is not None]
            if opts.get("residuals"):
                drv = S.call(S.attr(S.name(self.ns.ref(_reversible_module(), "_rv")), "ReversibleResidual"),
                             [S.name(step_fn.name), S.name(adj_fn.name), S.name(inverse_fn.name),
                              S.copy(st.iter)])
            else:
                drv = S.call(S.attr(S.name(self.ns.ref(_reversible_module(), "_rv")), "Reversible"),
                             [S.name(step_fn.name), S.name(adj_fn.name), S.name(exact_fn.name),
                              S.name(inverse_fn.name), S.copy(st.iter), S.tuple_([S.const(c in scaled) for c in carried]),
                              S.copy(opts["frac_bits"]),
                              S.copy(opts["checkpoint_every"]) if opts.get("checkpoint_every") is not None
                              else S.const(None)])
        out = [head, step_fn, adj_fn] + extra_fns + [S.assign(name, drv),
               S.assign(S.tuple_([S.name(c, True) for c in carried], store=True),
                        S.call(S.attr(S.name(name), "forward"), [S.tuple_([S.name(c) for c in carried])]))]
        self.top_assigned.update(carried)
        return out

    def reversible_steps(self, st, body, carried, target, name, opts, adj_fn):
        """The exact forward step and its inverse for ``s2sad.reversible``.

        Every loop-carried name must be updated once per iteration, at the
        top level of the body, as ``x = x + e``, ``x = x - e``,
        ``x = c * x + e`` or ``x = c * x - e`` where ``e`` does not depend on
        ``x`` and ``c`` depends on no carried name.  In fixed point the
        addition is undone exactly by recomputing ``e``; the multiplication
        by ``c`` (a rational n/d) keeps the bits it loses in an information
        buffer (Maclaurin, Duvenaud & Adams 2015)."""
        node = opts.get("node") or st
        defs = {}
        for i, s2 in enumerate(body):
            for t in _stmt_targets(s2):
                defs.setdefault(t, []).append(i)
        updates = {}
        scaled = set()
        update_pos = {defs[c][0]: c for c in carried if len(defs.get(c, [])) == 1}
        for c in carried:
            where = defs.get(c, [])
            if len(where) != 1 or not isinstance(body[where[0]], S.Assign):
                bad = body[where[-1]] if where else st
                raise self.err(UnsupportedSyntaxError, getattr(bad, "_s2_node", None) or node,
                               f"a reversible loop must update `{c}` exactly once per iteration, at the top of the body",
                               f"write one update `{c} = {c} + e` or `{c} = c * {c} + e` (e not depending on {c})")
            i = where[0]
            s2 = body[i]
            v = s2.value
            ok = isinstance(v, S.BinOp) and isinstance(v.op, (S.Add, S.Sub))
            scale = None
            if ok:
                a, b = v.left, v.right
                if isinstance(a, S.Name) and a.id == c:
                    pass
                elif isinstance(a, S.Name) and a.id in defs and len(defs[a.id]) == 1 and \
                        isinstance(body[defs[a.id][0]], S.Assign) and isinstance(body[defs[a.id][0]].value, S.BinOp) \
                        and isinstance(body[defs[a.id][0]].value.op, S.Mult):
                    m = body[defs[a.id][0]].value
                    if isinstance(m.right, S.Name) and m.right.id == c:
                        scale = m.left
                    elif isinstance(m.left, S.Name) and m.left.id == c:
                        scale = m.right
                    else:
                        ok = False
                else:
                    ok = False
            if ok:
                cs = set(carried)
                if c in self._body_deps(body, b, i, cs):
                    ok = False
                if scale is not None and self._body_deps(body, scale, i, cs) & cs:
                    ok = False
                # what the update reads is recomputed when it is undone: no
                # carried name it depends on may change between the two
                for j in range(i):
                    if j in update_pos or not _stmt_targets(body[j]):
                        continue
                    if not set(_stmt_targets(body[j])) & (self._body_deps(body, b, i, cs) |
                                                          (self._body_deps(body, scale, i, cs) if scale is not None else set())):
                        continue
                    read = self._body_deps(body, body[j], j, cs) & cs
                    if any(update_pos[k] in read for k in update_pos if j < k < i):
                        ok = False
            if not ok:
                raise self.err(UnsupportedSyntaxError, getattr(s2, "_s2_node", None) or node,
                               f"cannot invert this update of `{c}`: a reversible loop needs `{c} = {c} + e`, "
                               f"`{c} = {c} - e`, `{c} = c * {c} + e` or `{c} = c * {c} - e` with e not depending "
                               f"on `{c}` and c depending on no loop state",
                               "rewrite the update in one of these forms, or use s2sad.checkpointed for this loop")
            updates[i] = (c, isinstance(v.op, S.Add), b, scale)
            if scale is not None:
                scaled.add(c)
        rv = self.ns.ref(_reversible_module(), "_rv")
        F = S.copy(opts["frac_bits"])

        def prologue():
            # the state in fixed point and (the same values) in floating point
            return [S.assign(S.tuple_([S.name(c + "_q", True) for c in carried], store=True), S.name("_q")),
                    S.assign(S.tuple_([S.name(c, True) for c in carried], store=True), S.name("_x"))]

        def state_out():
            return [S.tuple_([S.name(c + "_q") for c in carried]), S.tuple_([S.name(c) for c in carried])]

        # `m = c * x` feeding the update `x = m + e` is replaced by the exact
        # multiplication: not computed at all unless something else reads it
        scale_stmts = set()
        for i, (c, _, _, scale) in updates.items():
            if scale is not None:
                m = body[i].value.left.id
                j = defs[m][0]
                if sum(isinstance(n, S.Name) and n.id == m and isinstance(n.ctx, S.Load)
                       for s2 in body for n in S.walk(s2)) == 1:
                    scale_stmts.add(j)

        def bufname(c):
            return S.subscript(S.name("_bufs"), S.const(carried.index(c)))

        def exact_update(i, inverse):
            # c_q, c = _rv.update(c_q, e, sign, F[, n, d, buffer]), or _rv.undo
            c, is_add, b, scale = updates[i]
            args = [S.name(c + "_q"), S.copy(b), S.const(1 if is_add else -1), S.copy(F)]
            if scale is not None:
                # a large denominator makes n/d equal c to double precision;
                # the buffer grows by log2(d/n) bits either way
                args += [S.Starred(value=S.call(S.attr(S.name(rv), "rational_approx"),
                                                [S.copy(scale), S.const(2 ** 24)]), ctx=S.Load()),
                         bufname(c)]
            return [S.assign(S.tuple_([S.name(c + "_q", True), S.name(c, True)], store=True),
                             S.call(S.attr(S.name(rv), "undo" if inverse else "update"), args))]

        ret = S.ret(S.tuple_(state_out()))

        def run_of(stmts):
            return primal_block(stmts) if stmts else []

        def primal_block(stmts):
            self.primal_only = True
            try:
                return self.fwd_block(stmts)
            finally:
                self.primal_only = False

        fwd = prologue()
        pending = []
        for i, s2 in enumerate(body):
            if i in updates:
                fwd += run_of(pending) + exact_update(i, False)
                pending = []
            elif i not in scale_stmts:
                pending.append(s2)
        fwd += run_of(pending)
        fwd.append(ret)
        exact_fn = S.function_def(f"{name}_exact", [target, "_q", "_x", "_bufs"], fwd)
        def needed_before(i):
            """The statements before update ``i`` that its increment and
            scale depend on (the rest of the body need not be recomputed)."""
            c, is_add, b, scale = updates[i]
            state = set(carried)
            deps = self._body_deps(body, b, i, state)
            if scale is not None:
                deps |= self._body_deps(body, scale, i, state)
            return [j for j in range(i) if j not in updates and (_writes_in_place(body[j]) or
                                                                  set(S.names_in(body[j], "store")) & deps)]

        # a statement recomputed for one update is reused by the next (earlier)
        # one unless an update inverted in between changed a carried name it
        # depends on; only when every name it assigns is assigned once
        stores = [set(S.names_in(st, "store")) for st in body]
        single = {n for n in set().union(*stores) if sum(n in st for st in stores) == 1} if stores else set()
        state = set(carried)

        def reads_state(j):
            return (self._body_deps(body, body[j], j, state) | set(S.names_in(body[j], "load"))) & state

        inv = prologue()
        valid = set()
        for i in sorted(updates, reverse=True):
            # recompute what the update read, from the state it saw
            todo = [j for j in needed_before(i) if j not in valid]
            inv += run_of([body[j] for j in todo])
            valid |= {j for j in todo if stores[j] and stores[j] <= single and not _writes_in_place(body[j])}
            inv += exact_update(i, True)
            changed = updates[i][0]
            valid = {j for j in valid if changed not in reads_state(j)}
        if opts.get("residuals"):
            # the same inverse in floating point, corrected by stored residuals
            finv = []
            for i in sorted(updates, reverse=True):
                finv += run_of([body[j] for j in needed_before(i)])
                c, is_add, b, scale = updates[i]
                finv.append(S.assign(c, S.binop(S.name(c), S.Sub() if is_add else S.Add(), S.copy(b))))
                if scale is not None:
                    finv.append(S.assign(c, S.binop(S.name(c), S.Div(), S.copy(scale))))
            finv.append(S.ret(S.tuple_([S.name(c) for c in carried])))
            inverse_fn = S.function_def(f"{name}_inverse", [target] + carried, finv)
            return None, inverse_fn, scaled
        # what the inverse computed from the restored state is what the
        # one-step adjoint would recompute first: it is handed over
        handed = self._hand_over(adj_fn, [body[j] for j in sorted(valid)], len(carried))
        inv.append(S.ret(S.tuple_(state_out() + [S.tuple_([S.name(v) for v in handed])])))
        inverse_fn = S.function_def(f"{name}_inverse", [target, "_q", "_x", "_bufs"], inv)
        return exact_fn, inverse_fn, scaled

    @staticmethod
    def _hand_over(adj_fn, stmts, n_state):
        """Drop from the one-step adjoint's recomputation the statements in
        ``stmts`` (computed by the inverse step, from the same state) and
        make the names they assign that the adjoint still reads parameters.
        Returns those names."""
        keys = {S.to_source(s2).strip() for s2 in stmts}
        top = adj_fn.body
        # the recomputation ends at the yield of the state
        end = next(i for i, s2 in enumerate(top) if isinstance(s2, S.Assign) and isinstance(s2.value, S.Yield))
        dropped, keep, emptied = [], [], set()
        for i, s2 in enumerate(top):
            if i < end and not S.is_comment(s2) and S.to_source(s2).strip() in keys:
                dropped.extend(_stmt_targets(s2))
                if keep and S.is_comment(keep[-1]):
                    emptied.add(len(keep) - 1)
            else:
                keep.append(s2)
        loads = set()
        for s2 in keep:
            loads.update(S.names_in(s2, "load"))
        handed = [v for v in dropped if v in loads]
        # a source line whose statements all moved keeps its comment, marked
        for i in emptied:
            nxt = keep[i + 1]
            if S.is_comment(nxt) or isinstance(nxt, S.Assign) and isinstance(nxt.value, S.Yield):
                keep[i] = S.Comment(S.comment_text(keep[i]) + "  (computed by the inverse step)")
        adj_fn.body = keep
        adj_fn.args.args = adj_fn.args.args[:1 + n_state] + [S.param(v) for v in handed]
        return handed

    def _body_deps(self, body, atom, upto, carried=()):
        """Names that ``atom`` depends on through the statements of ``body``
        before position ``upto`` (not looking through carried names, whose
        current value is the one the statement saw)."""
        deps = set()
        todo = [atom]
        seen = set()
        while todo:
            a = todo.pop()
            for n in S.walk(a):
                if isinstance(n, S.Name) and n.id not in seen and n.id not in self.statics:
                    seen.add(n.id)
                    deps.add(n.id)
                    if n.id in carried:
                        continue
                    for j in range(upto - 1, -1, -1):
                        if n.id in _stmt_targets(body[j]) or any(
                                n.id in _stmt_targets(x) for x in iter_stmts([body[j]])):
                            todo.append(body[j])
                            break
        return deps

    def rev_checkpointed(self, st, state):
        ck = st._s2_ck
        out = []
        adj_in = []
        for c in ck["active"]:
            if c in state:
                adj_in.append(S.name(self.adj(c)))
            else:
                adj_in.append(S.call(S.attr(S.name("_rt"), "zeros_like"), [S.name(c)]))
        out += self.zeros_for([v for v in ck["outer_acc"] if v not in state])
        out.append(S.Comment(self.line_comment(st._s2_line, "adjoint of ", st)))
        adj_out = [S.name(self.adj(c), True) for c in ck["active"]]
        out.append(S.assign(S.tuple_(adj_out, store=True),
                            S.call(S.attr(S.name(ck["name"]), "reverse"), [S.tuple_(adj_in)])))
        out.append(S.assign(S.tuple_([S.name(c, True) for c in ck["carried"]], store=True),
                            S.attr(S.name(ck["name"]), "initial")))
        new_state = (set(state) - set(ck["carried"])) | set(ck["active"]) | set(ck["outer_acc"])
        return out, new_state

    def loop_is_nested(self, st):
        return getattr(st, "_s2_nested", False)


class _BindError(Exception):
    pass


_MISSING = object()


class _Transformer:
    """Minimal gast NodeTransformer (kept here so no other module touches
    gast's traversal API)."""

    def visit(self, node):
        m = getattr(self, "visit_" + type(node).__name__, None)
        if m is not None:
            return m(node)
        for fname in node._fields:
            v = getattr(node, fname, None)
            if isinstance(v, list):
                setattr(node, fname, [self.visit(x) if isinstance(x, S.AST) else x for x in v])
            elif isinstance(v, S.AST):
                setattr(node, fname, self.visit(v))
        return node


def _reversible_module():
    import s2sad_runtime.reversible as R
    return R


def _add_restore(st, record):
    lst = getattr(st, "_s2_restore", None)
    if lst is None:
        lst = st._s2_restore = []
    lst.append(record)


def _dedupe_comments(stmts):
    """Drop a comment that repeats the last comment of the same block."""
    out, last = [], None
    for st in stmts:
        if S.is_comment(st):
            if st.value.value == last:
                continue
            last = st.value.value
        else:
            for f in ("body", "orelse"):
                if isinstance(getattr(st, f, None), list) and not isinstance(st, S.FunctionDef):
                    setattr(st, f, _dedupe_comments(getattr(st, f)) or [S.Pass()] if f == "body" else
                            _dedupe_comments(getattr(st, f)))
        out.append(st)
    return out


def _fold(node):
    """Fold ``c1 op c2`` of numeric constants (``y - 1`` with ``y = 2``)."""
    class F(_Transformer):
        def visit_BinOp(self, n):
            n.left = self.visit(n.left)
            n.right = self.visit(n.right)
            if isinstance(n.op, S.Pow) and isinstance(n.right, S.Constant) and n.right.value == 1:
                return n.left
            if isinstance(n.op, S.Mult) and isinstance(n.right, S.Constant) and n.right.value == 1 \
                    and type(n.right.value) is int:
                return n.left
            if isinstance(n.left, S.Constant) and isinstance(n.right, S.Constant) and \
                    type(n.left.value) in (int, float) and type(n.right.value) in (int, float):
                try:
                    v = {S.Add: lambda a, b: a + b, S.Sub: lambda a, b: a - b,
                         S.Mult: lambda a, b: a * b}[type(n.op)](n.left.value, n.right.value)
                    return S.const(v)
                except KeyError:
                    return n
            return n
    return F().visit(node)


_static_key = S.static_key


def _writes_in_place(st):
    """A statement with an effect beyond binding names (an element write,
    an attribute write, a bare call): always recomputed."""
    if isinstance(st, S.Expr):
        return True
    return any(isinstance(n, (S.Subscript, S.Attribute)) and isinstance(getattr(n, "ctx", None), S.Store)
               for n in S.walk(st))


def _stmt_targets(st):
    if isinstance(st, S.Assign):
        t = st.targets[0]
        if isinstance(t, S.Name):
            return [t.id]
        if isinstance(t, S.Tuple):
            return [e.id for e in t.elts]
        if isinstance(t, S.Subscript):
            return []
    if isinstance(st, S.For):
        return [st.target.id]
    return []


def _index_expr(sl):
    """Index syntax -> an expression with the same value (``1:3`` ->
    ``slice(1, 3, None)``)."""
    if isinstance(sl, S.Slice):
        return S.call(S.name("slice"), [S.copy(sl.lower) if sl.lower is not None else S.const(None),
                                        S.copy(sl.upper) if sl.upper is not None else S.const(None),
                                        S.copy(sl.step) if sl.step is not None else S.const(None)])
    if isinstance(sl, S.Tuple):
        return S.tuple_([_index_expr(e) for e in sl.elts])
    return sl


def _unknown_effect(st):
    return f"cannot differentiate `{S.to_source(st.value)}`: a call made for its effect on a differentiated value"


def _has_jump(stmts, kinds):
    for st in stmts:
        if isinstance(st, kinds):
            return True
        if isinstance(st, S.If) and (_has_jump(st.body, kinds) or _has_jump(st.orelse, kinds)):
            return True
    return False


def _desugar_jumps(body, tr):
    """Rewrite ``break``/``continue`` inside a loop body into flags so that
    every iteration runs the body to its end (the reverse sweep then mirrors
    it exactly); a ``break`` becomes ``if _brk: break`` at the end."""
    brk = tr.fresh("brk")
    skip = tr.fresh("skip")
    tr.needed.update((brk, skip))
    uses_brk = _has_jump(body, S.Break)
    line = getattr(body[0], "_s2_line", None) if body else None

    def mk(stmt):
        stmt._s2_line = line
        stmt._s2_node = None
        return stmt

    def guard(stmts):
        out = []
        for i, st in enumerate(stmts):
            if isinstance(st, S.Break):
                out.append(mk(S.assign(brk, S.const(True))))
                out.append(mk(S.assign(skip, S.const(True))))
                return out
            if isinstance(st, S.Continue):
                out.append(mk(S.assign(skip, S.const(True))))
                return out
            if isinstance(st, S.If) and _has_jump(st.body + st.orelse, (S.Break, S.Continue)):
                new = S.if_(st.test, guard(st.body), guard(st.orelse))
                new._s2_line, new._s2_node = st._s2_line, st._s2_node
                out.append(new)
                rest = [s for s in stmts[i + 1:] if not getattr(s, "_s2_retest", False)]
                if rest:
                    go = tr.fresh("go")
                    tr.needed.add(go)
                    out.append(mk(S.assign(go, S.unary(S.Not(), S.name(skip)))))
                    g = S.if_(S.name(go), guard(rest))
                    g._s2_line, g._s2_node = st._s2_line, st._s2_node
                    out.append(g)
                return out
            out.append(st)
        return out

    retest = [s for s in body if getattr(s, "_s2_retest", False)]
    core = [s for s in body if not getattr(s, "_s2_retest", False)]
    new = [mk(S.assign(skip, S.const(False)))]
    if uses_brk:
        new.append(mk(S.assign(brk, S.const(False))))
    new += guard(core)
    if uses_brk:
        new.append(mk(S.if_(S.name(brk), [S.Break()])))
    return new + retest
