"""Normalization to A-normal form: one primitive per statement.

After this pass a function body holds only these statements:

* ``x = p`` where ``p`` is a *primitive* whose operands are *atoms* (local
  names, constants, or static references such as ``np.pi``): a name, a
  constant, ``a op b``, ``op a``, a call, ``a[index]``, ``a.attr``, a
  comparison, a tuple/list/dict display;
* ``x, y = p`` (unpacking a call or an atom);
* ``a[index] = b`` (an in-place write into an array);
* ``if atom:``, ``for x in atom:`` / ``for i in range(...):``, ``while atom:``
  whose bodies are normalized the same way (the ``while`` test is recomputed
  at the end of the body, the statements marked ``_s2_retest``);
* ``return atom`` as the last statement, ``break``, ``continue``, ``pass``,
  and calls for their effect (``lst.append(x)``).

Each statement carries ``_s2_line`` (the line of the user's statement it
came from) and ``_s2_node`` (the user's expression, for error carets).
Temporaries are named ``_t1, _t2, ...`` in order: the output is
deterministic.
"""

from __future__ import annotations

from s2sad.frontend import syntax as S
from s2sad.frontend.parse import unsupported


# names the generated code uses for itself; a user local with one of these
# names is renamed (``_rt`` -> ``_rt_u``)
RESERVED = frozenset({"_rt", "_stack", "_value", "_out_adj"})


class Scope:
    """One function's names during normalization: its locals (renamed with
    a prefix when the function is inlined), the local functions it defines
    (``lambda``, nested ``def``), parameters bound to known functions, and
    the lexically enclosing scope."""

    def __init__(self, src, fnode, prefix, parent, fn_params):
        self.src = src
        self.fnode = fnode
        self.prefix = prefix
        self.parent = parent
        self.fn_params = dict(fn_params or {})   # name -> ("static", obj) | ("local", node, scope)
        self.local_fns = {}
        names = [p for p in S.param_names(fnode) if p not in self.fn_params]
        stored = set(names)
        for n in _walk_scope(fnode.body):
            if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del)):
                stored.add(n.id)
        for st in _walk_scope_stmts(fnode.body):
            if isinstance(st, S.FunctionDef):
                self.local_fns[st.name] = (st, self)
            elif (isinstance(st, S.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], S.Name)
                  and isinstance(st.value, S.Lambda)):
                self.local_fns[st.targets[0].id] = (st.value, self)
        self.locals = {v for v in stored if v not in self.local_fns}
        self.rename = {v: (f"{prefix}{v}" if prefix else (v + "_u" if v in RESERVED else v)) for v in self.locals}

    def lookup(self, name):
        """('local', new name) | ('static', obj) | ('localfn', node, scope) | None"""
        if name in self.rename:
            return ("local", self.rename[name])
        if name in self.fn_params:
            b = self.fn_params[name]
            return ("static", b[1]) if b[0] == "static" else ("localfn", b[1], b[2])
        if name in self.local_fns:
            node, sc = self.local_fns[name]
            return ("localfn", node, sc)
        if self.parent is not None:
            return self.parent.lookup(name)
        try:
            return ("static", self.src.resolve(name))
        except KeyError:
            return None


def _walk_scope(stmts):
    """Nodes of a function body, not entering nested functions or lambdas."""
    todo = list(stmts)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, (S.FunctionDef, S.Lambda)):
            continue
        for f in n._fields:
            v = getattr(n, f, None)
            if isinstance(v, list):
                todo.extend(x for x in v if isinstance(x, S.AST))
            elif isinstance(v, S.AST):
                todo.append(v)


def _substitute_constants(stmts, consts):
    """Replace reads of the names in ``consts`` by their constant (an inlined
    call's parameters bound to literals and never rebound)."""
    todo = list(stmts)
    while todo:
        n = todo.pop()
        if isinstance(n, (S.FunctionDef, S.Lambda)):
            continue
        for f in n._fields:
            v = getattr(n, f, None)
            if isinstance(v, list):
                for i, x in enumerate(v):
                    if isinstance(x, S.Name) and isinstance(x.ctx, S.Load) and x.id in consts:
                        v[i] = S.copy(consts[x.id])
                    elif isinstance(x, S.AST):
                        todo.append(x)
            elif isinstance(v, S.Name) and isinstance(v.ctx, S.Load) and v.id in consts:
                setattr(n, f, S.copy(consts[v.id]))
            elif isinstance(v, S.AST):
                todo.append(v)


def _walk_scope_stmts(stmts):
    for st in stmts:
        yield st
        for f in ("body", "orelse"):
            if not isinstance(st, S.FunctionDef) and isinstance(getattr(st, f, None), list):
                yield from _walk_scope_stmts(getattr(st, f))


class Normalizer:
    MAX_INLINE_DEPTH = 50

    def __init__(self, src, ns=None, rules=None, fn_params=None, prefix="_t"):
        from s2sad.emit import Namespace
        self.src = src
        self.fn = src.node
        self.ns = ns if ns is not None else Namespace()
        self.rules = rules
        self.statics = {}
        self.counter = 0
        self.inline_counter = 0
        self.prefix = prefix
        self.out = None
        self.line = None
        self.node = None
        self.inline_stack = []
        self.locals = self.ns.reserved
        self.scope = Scope(src, self.fn, "", None, fn_params)
        self.locals |= set(self.scope.rename.values())
        self.bind_names(self.fn.body, self.scope)

    # --------------------------------------------------------------- names
    def bind_names(self, stmts, scope):
        """Rename locals of ``scope`` and bind free names in the namespace of
        the generated code (in place, not entering nested functions)."""
        for n in _walk_scope(stmts):
            if isinstance(n, S.Name) and not getattr(n, "_s2_bound", False):
                r = scope.lookup(n.id)
                n._s2_bound = True
                if r is None:
                    if isinstance(n.ctx, S.Load):
                        from s2sad.errors import ResolutionError, error_at
                        raise error_at(ResolutionError, n, scope.src, f"name `{n.id}` is not defined",
                                       "define it at module level before differentiating, or pass it as an argument")
                    continue
                if r[0] == "local":
                    n.id = r[1]
                elif r[0] == "static":
                    new = self.ns.ref(r[1], n.id)
                    self.statics[new] = r[1]
                    n.id = new
                    n._s2_static = True
                else:
                    n._s2_localfn = (r[1], r[2])

    def static_value(self, node):
        if isinstance(node, S.Name):
            if getattr(node, "_s2_static", False):
                return self.statics[node.id]
            raise KeyError(node.id)
        if isinstance(node, S.Attribute):
            base = self.static_value(node.value)
            try:
                return getattr(base, node.attr)
            except AttributeError:
                raise self.error(node, f"`{S.to_source(node.value)}` has no attribute `{node.attr}`") from None
        raise KeyError(node)

    # ------------------------------------------------------------------ utils
    def fresh(self):
        self.counter += 1
        name = f"{self.prefix}{self.counter}"
        while name in self.locals:
            self.counter += 1
            name = f"{self.prefix}{self.counter}"
        self.locals.add(name)
        return name

    def emit(self, stmt):
        stmt._s2_line = self.line
        stmt._s2_node = self.node
        stmt._s2_src = self.src
        self.out.append(stmt)
        return stmt

    def error(self, node, what, hint=None):
        return unsupported(node, self.src, what, hint)

    def is_static(self, node):
        """A reference to something outside the function (a module, a global
        function, a constant), which needs no temporary."""
        if isinstance(node, S.Name):
            return getattr(node, "_s2_static", False)
        if isinstance(node, S.Attribute):
            return self.is_static(node.value)
        return False

    def builtin(self, name):
        import builtins
        new = self.ns.ref(getattr(builtins, name), name)
        self.statics[new] = getattr(builtins, name)
        n = S.name(new)
        n._s2_static = True
        n._s2_bound = True
        return n

    def _is_builtin(self, node, obj):
        return self.is_static(node) and self.static_value(node) is obj

    @property
    def cur_scope(self):
        return self.scope_stack[-1] if self.scope_stack else self.scope

    scope_stack = ()

    def should_inline(self, obj):
        import types
        from s2sad.api import GradFunction
        if isinstance(obj, GradFunction):
            return True
        if not isinstance(obj, types.FunctionType):
            return False
        if self.rules is not None and self.rules.lookup(obj) is not None:
            return False
        mod = getattr(obj, "__module__", "") or ""
        return not (mod.split(".")[0] in ("numpy", "s2sad_runtime", "s2sad", "math", "scipy", "cupy"))

    def inline(self, target, call):
        """Splice the body of a called Python function into the caller, with
        its locals renamed ``_<name><n>_<local>``."""
        from s2sad.api import GradFunction
        from s2sad.frontend.parse import read_function
        if target[0] == "global":
            obj = target[1]
            if isinstance(obj, GradFunction):
                obj = obj.compiled(None)
            if any(o is obj for o in self.inline_stack) or len(self.inline_stack) > self.MAX_INLINE_DEPTH:
                raise self.error(call, f"cannot differentiate the recursive call to `{obj.__name__}`",
                                 "rewrite the recursion as a loop")
            src = read_function(obj)
            fnode = S.copy(src.node)
            parent = None
            name = obj.__name__
            defaults = list(obj.__defaults__ or ())
            kwdefaults = dict(obj.__kwdefaults__ or {})
        else:
            node, defscope = target[1], target[2]
            src = defscope.src
            obj = node
            if any(o is node for o in self.inline_stack):
                raise self.error(call, "cannot differentiate a recursive local function",
                                 "rewrite the recursion as a loop")
            if isinstance(node, S.Lambda):
                fnode = S.function_def("lambda", [], [S.ret(S.copy(node.body))])
                fnode.args = S.copy(node.args)
                fnode.body[0].lineno = node.lineno
                name = "lambda"
            else:
                fnode = S.copy(node)
                name = node.name
            parent = defscope
            defaults = [self._const_default(d, src, defscope) for d in fnode.args.defaults]
            kwdefaults = {a.id: self._const_default(d, src, defscope)
                          for a, d in zip(fnode.args.kwonlyargs, fnode.args.kw_defaults) if d is not None}
        args_node = fnode.args
        if args_node.kwarg is not None:
            raise self.error(call, f"cannot inline `{name}`: `**{args_node.kwarg.id}` parameters are not supported")
        # the call's arguments, as atoms of the caller
        pos = []
        for a in call.args:
            if isinstance(a, S.Starred):
                raise self.error(a, "`*args` in a call to a user function is not supported",
                                 "pass the arguments one by one")
            pos.append(self.arg(a))
        kw = {k.arg: self.arg(k.value) for k in call.keywords if k.arg is not None}
        if any(k.arg is None for k in call.keywords):
            raise self.error(call, "`**kwargs` in a call is not supported", "pass keyword arguments by name")
        params = [p.id for p in args_node.posonlyargs + args_node.args]
        bound = {}
        for p, a in zip(params, pos):
            bound[p] = a
        extra = pos[len(params):]
        if extra and args_node.vararg is None:
            raise self.error(call, f"too many arguments in the call to `{name}`")
        for k, v in kw.items():
            if k in bound:
                raise self.error(call, f"`{name}` got `{k}` twice")
            bound[k] = v
        nd = len(defaults)
        for i, p in enumerate(params):
            if p not in bound:
                j = i - (len(params) - nd)
                if j < 0:
                    raise self.error(call, f"missing argument `{p}` in the call to `{name}`")
                bound[p] = self._default_atom(defaults[j], p)
        for a in args_node.kwonlyargs:
            if a.id not in bound:
                if a.id not in kwdefaults:
                    raise self.error(call, f"missing keyword argument `{a.id}` in the call to `{name}`")
                bound[a.id] = self._default_atom(kwdefaults[a.id], a.id)
        if args_node.vararg is not None:
            bound[args_node.vararg.id] = ("tuple", extra)
        fn_params = {}
        for p, a in bound.items():
            if isinstance(a, S.Name) and getattr(a, "_s2_localfn", None):
                fn_params[p] = ("local",) + a._s2_localfn
            elif not isinstance(a, tuple) and self.is_static(a) and callable(self.static_value(a)) \
                    and not isinstance(self.static_value(a), (int, float)):
                fn_params[p] = ("static", self.static_value(a))
        fnode.args = S.arguments(args=[S.name(p) for p in params + [a.id for a in args_node.kwonlyargs]]
                                 + ([S.name(args_node.vararg.id)] if args_node.vararg else []),
                                 posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        self.inline_counter += 1
        prefix = f"_{name.lstrip('_')}{self.inline_counter}_"
        scope = Scope(src, fnode, prefix, parent, fn_params)
        # a parameter the callee never rebinds names the caller's value directly
        # (no copy; an in-place write then reaches the caller's object, as in Python)
        rebound = {n.id for n in _walk_scope(fnode.body) if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del))}
        consts = {}
        for p, a in bound.items():
            if p not in fn_params and p not in rebound and isinstance(a, S.Name) and not self.is_static(a) \
                    and not getattr(a, "_s2_localfn", None):
                scope.rename[p] = a.id
                scope.locals.discard(p)
                scope.direct = getattr(scope, "direct", set()) | {p}
            elif p not in fn_params and p not in rebound and isinstance(a, S.Constant):
                consts[scope.rename[p]] = a
                scope.direct = getattr(scope, "direct", set()) | {p}
        self.locals |= set(v for k, v in scope.rename.items() if k not in getattr(scope, "direct", ()))
        for p, a in bound.items():
            if p in fn_params or p in getattr(scope, "direct", ()):
                continue
            if isinstance(a, tuple):
                self.emit(S.assign(scope.rename[p], S.tuple_(a[1])))
            else:
                self.emit(S.assign(scope.rename[p], a))
        self.bind_names(fnode.body, scope)
        if consts:
            _substitute_constants(fnode.body, consts)
        saved = (self.src, self.line, self.node, self.scope_stack)
        self.src = src
        self.scope_stack = tuple(self.scope_stack) + (scope,)
        self.inline_stack.append(obj)
        try:
            body = self.block(fnode.body)
        finally:
            self.inline_stack.pop()
            self.src, self.line, self.node, self.scope_stack = saved
        _check_returns(body, self, fnode)
        self.out.extend(body[:-1])
        return body[-1].value

    def _const_default(self, node, src, scope):
        if isinstance(node, S.Constant):
            return node.value
        if isinstance(node, S.UnaryOp) and isinstance(node.op, S.USub) and isinstance(node.operand, S.Constant):
            return -node.operand.value
        if isinstance(node, (S.Name, S.Attribute)):
            base = node
            while isinstance(base, S.Attribute):
                base = base.value
            r = scope.lookup(base.id) if isinstance(base, S.Name) else None
            if r is not None and r[0] == "static":
                obj = r[1]
                for part in _static_key(node).split(".")[1:]:
                    obj = getattr(obj, part)
                return obj
        raise unsupported(node, src, "a default value of a local function must be a constant or a global name")

    def _default_atom(self, value, pname):
        if isinstance(value, (int, float, bool, str, type(None), complex)):
            return S.const(value)
        new = self.ns.ref(value, pname + "_default")
        self.statics[new] = value
        n = S.name(new)
        n._s2_static = True
        n._s2_bound = True
        return n

    def is_atom(self, node):
        return isinstance(node, (S.Name, S.Constant)) or self.is_static(node)

    # ------------------------------------------------------------ statements
    def run(self):
        body = self.block(self.fn.body)
        _check_returns(body, self)
        for n in S.walk(S.Module(body=body, type_ignores=[])):
            if isinstance(n, S.Attribute) and self.is_static(n):
                key = _static_key(n)
                if key is not None and key not in self.statics:
                    self.statics[key] = self.static_value(n)
        fn = S.function_def(self.fn.name, S.param_names(self.fn), body)
        fn.args = self.fn.args
        for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs:
            a.id = self.scope.rename.get(a.id, a.id)
        fn.lineno = getattr(self.fn, "lineno", 1)
        return fn

    def block(self, stmts):
        saved = self.out
        self.out = []
        for st in stmts:
            self.stmt(st)
        res, self.out = self.out, saved
        return res

    def stmt(self, st):
        self.line = getattr(st, "lineno", self.line)
        self.node = st
        m = getattr(self, "s_" + type(st).__name__, None)
        if m is None:
            raise self.error(st, f"cannot differentiate a `{_kind(st)}` statement",
                             "rewrite it with assignments, if/for/while and calls")
        m(st)

    def s_Expr(self, st):
        v = st.value
        if isinstance(v, S.Constant):  # docstring
            return
        if isinstance(v, S.Call):
            self.emit(S.expr_stmt(self.prim(v)))
            return
        raise self.error(st, "an expression statement other than a call has no effect",
                         "remove it, or assign its value to a name")

    def s_Pass(self, st):
        pass

    def s_Return(self, st):
        if st.value is None:
            raise self.error(st, "the function returns nothing",
                             "return the value to differentiate (a scalar for grad)")
        self.emit(S.ret(self.atom(st.value)))

    def s_Assign(self, st):
        value = st.value
        if isinstance(value, S.Lambda):
            t = st.targets[0]
            if len(st.targets) == 1 and isinstance(t, S.Name) and getattr(t, "_s2_localfn", None):
                return  # a local function: inlined where it is called
            raise self.error(value, "a lambda must be assigned to a plain name (`f = lambda x: ...`)")
        targets = st.targets
        if len(targets) > 1:
            a = self.atom(value)
            for t in targets:
                self.assign_to(t, a, st)
            return
        self.assign_to(targets[0], value, st)

    def assign_to(self, target, value, st):
        if isinstance(target, S.Name):
            self.emit(S.assign(S.name(target.id, True), self.prim(value)))
        elif isinstance(target, (S.Tuple, S.List)):
            if any(isinstance(e, S.Starred) for e in target.elts):
                raise self.error(target, "starred unpacking (`a, *b = ...`) is not supported",
                                 "index the sequence explicitly")
            if isinstance(value, (S.Tuple, S.List)) and len(value.elts) == len(target.elts):
                # a, b = b, a: evaluate every right-hand side first
                atoms = [self.atom(e) for e in value.elts]
                tmps = []
                for a in atoms:
                    if isinstance(a, S.Name) and a.id in self.locals:
                        t = self.fresh()
                        self.emit(S.assign(t, a))
                        tmps.append(S.name(t))
                    else:
                        tmps.append(a)
                for t, a in zip(target.elts, tmps):
                    self.assign_to(t, a, st)
                return
            if all(isinstance(e, S.Name) for e in target.elts):
                tgt = S.tuple_([S.name(e.id, True) for e in target.elts], store=True)
                self.emit(S.assign(tgt, self.prim(value) if isinstance(value, S.Call) else self.atom(value)))
                return
            a = self.atom(value)
            for i, e in enumerate(target.elts):
                self.assign_to(e, S.subscript(a, S.const(i)), st)
        elif isinstance(target, S.Subscript):
            base = target.value
            if not isinstance(base, S.Name):
                base = self.atom(base)
            idx = self.index(target.slice)
            v = self.atom(value)
            self.emit(S.assign(S.subscript(S.name(base.id), idx, store=True), v))
        elif isinstance(target, S.Attribute):
            raise self.error(target, "cannot differentiate an assignment to an attribute",
                             "keep differentiated values in local variables, lists or dicts")
        elif isinstance(target, S.Starred):
            raise self.error(target, "starred assignment is not supported")
        else:
            raise self.error(target, f"cannot assign to a `{_kind(target)}`")

    def s_AugAssign(self, st):
        t = st.target
        if isinstance(t, S.Name):
            rhs = S.binop(S.name(t.id), st.op, st.value)
            rhs.lineno, rhs.col_offset = st.lineno, st.col_offset
            rhs.end_lineno, rhs.end_col_offset = getattr(st, "end_lineno", None), getattr(st, "end_col_offset", None)
            self.emit(S.assign(S.name(t.id, True), self.prim(rhs)))._s2_aug = True
        elif isinstance(t, S.Subscript):
            base = t.value if isinstance(t.value, S.Name) else self.atom(t.value)
            idx = self.index(t.slice)
            cur = self.fresh()
            self.emit(S.assign(cur, S.subscript(S.name(base.id), idx)))
            v = self.atom(st.value)
            new = self.fresh()
            self.emit(S.assign(new, S.binop(S.name(cur), st.op, v)))
            self.emit(S.assign(S.subscript(S.name(base.id), S.copy(idx), store=True), S.name(new)))
        else:
            raise self.error(t, f"cannot differentiate an augmented assignment to a `{_kind(t)}`")

    def s_AnnAssign(self, st):
        if st.value is None:
            return
        self.assign_to(st.target, st.value, st)

    def s_If(self, st):
        test = self.atom(st.test)
        body = self.block(st.body)
        orelse = self.block(st.orelse)
        node = S.if_(test, body, orelse)
        self.line = st.lineno
        self.node = st
        self.emit(node)

    def s_For(self, st):
        if st.orelse:
            raise self.error(st, "`for ... else` is not supported",
                             "set a flag before `break` and test it after the loop")
        it = st.iter
        target = st.target
        line = st.lineno
        strategy = None
        if isinstance(it, S.Call) and self._is_strategy_call(it.func, "checkpointed"):
            strategy = self.strategy_options(it, st)
            it = it.args[0]
        elif isinstance(it, S.Call) and self._is_strategy_call(it.func, "reversible"):
            strategy = {"kind": "reversible", "snapshots": None, "check": S.const(False), "node": it,
                        "frac_bits": S.const(48)}
            for k in it.keywords:
                if k.arg == "frac_bits":
                    strategy["frac_bits"] = self.atom(k.value)
                elif k.arg == "checkpoint_every":
                    strategy["checkpoint_every"] = self.atom(k.value)
                elif k.arg == "residuals":
                    if not (isinstance(k.value, S.Constant) and isinstance(k.value.value, bool)):
                        raise self.error(k.value, "residuals= must be True or False, written in the call")
                    strategy["residuals"] = k.value.value
                else:
                    raise self.error(k.value, f"reversible() has no option `{k.arg}`",
                                     "the options are frac_bits=, residuals= and checkpoint_every=")
            it = it.args[0]
        if (isinstance(it, S.Call) and self._is_builtin(it.func, range)
                and not it.keywords and isinstance(target, S.Name)):
            args = [self.atom(a) for a in it.args]
            iter_node = S.call(S.copy(it.func), args)
            body = self.block(st.body)
            self.line, self.node = line, st
            loop = self.emit(S.for_(S.name(target.id, True), iter_node, body))
            loop._s2_strategy = strategy
            return
        # any other iterable: index it with a counter, so the reverse sweep can
        # recover each element without storing it
        seq, unpack = self.iterable(it)
        k = self.fresh()
        n = self.fresh()
        self.line, self.node = line, st
        self.emit(S.assign(n, S.call(self.builtin("len"), [seq])))
        saved = self.out
        self.out = []
        self.line = line
        if unpack is None:
            self.assign_to(target, S.subscript(seq, S.name(k)), st)
        else:
            unpack(target, k, st)
        body_pre = self.out
        self.out = saved
        body = body_pre + self.block(st.body)
        self.line, self.node = line, st
        loop = self.emit(S.for_(S.name(k, True), S.call(self.builtin("range"), [S.name(n)]), body))
        loop._s2_strategy = strategy

    def _is_strategy_call(self, func, name):
        if not self.is_static(func):
            return False
        import s2sad_runtime.loops as L
        return self.static_value(func) is getattr(L, name)

    def strategy_options(self, call, st):
        """``checkpointed(iterable, snapshots=..., check=...)`` -> options."""
        if len(call.args) < 1 or len(call.args) > 2:
            raise self.error(call, "checkpointed(iterable, snapshots=N) takes the loop's iterable and a "
                                   "snapshot count")
        opts = {"kind": "checkpoint", "snapshots": None, "check": S.const(False), "node": call}
        if len(call.args) == 2:
            opts["snapshots"] = self.atom(call.args[1])
        for k in call.keywords:
            if k.arg == "snapshots":
                opts["snapshots"] = self.atom(k.value)
            elif k.arg == "check":
                opts["check"] = self.atom(k.value)
            elif k.arg == "online":
                pass   # a for loop's length is known: the offline schedule is optimal
            else:
                raise self.error(k.value, f"checkpointed() has no option `{k.arg}`",
                                 "the options are snapshots= and check=")
        return opts

    def iterable(self, it):
        """Return (sequence atom, unpack function or None) for a loop's iterable."""
        if isinstance(it, S.Call) and self.is_static(it.func) and \
                self.static_value(it.func) in (zip, enumerate, reversed):
            fname = self.static_value(it.func).__name__
            if fname == "zip" and not it.keywords:
                seqs = [self.atom(a) for a in it.args]
                n = self.fresh()
                self.emit(S.assign(n, S.call(self.builtin("min"), [S.call(self.builtin("len"), [s]) for s in seqs])
                                   if len(seqs) > 1 else S.call(self.builtin("len"), [seqs[0]])))
                rng = S.call(self.builtin("range"), [S.name(n)])
                rng_atom = self.fresh()
                self.emit(S.assign(rng_atom, rng))

                def unpack(target, k, st):
                    if not isinstance(target, (S.Tuple, S.List)) or len(target.elts) != len(seqs):
                        raise self.error(target, "unpack zip(...) into as many names as it has sequences")
                    for t, s in zip(target.elts, seqs):
                        self.assign_to(t, S.subscript(s, S.name(k)), st)
                return S.name(rng_atom), unpack
            if fname == "enumerate" and len(it.args) == 1 and not it.keywords:
                inner, inner_unpack = self.iterable(it.args[0])

                def unpack(target, k, st):
                    if not isinstance(target, (S.Tuple, S.List)) or len(target.elts) != 2:
                        raise self.error(target, "unpack enumerate(...) into two names: `for i, x in enumerate(xs)`")
                    self.assign_to(target.elts[0], S.subscript(inner, S.name(k)) if inner_unpack else S.name(k), st)
                    if inner_unpack is None:
                        self.assign_to(target.elts[1], S.subscript(inner, S.name(k)), st)
                    else:
                        inner_unpack(target.elts[1], k, st)
                if inner_unpack is not None:
                    # inner is a range over indices; element k of it is k
                    def unpack2(target, k, st):
                        self.assign_to(target.elts[0], S.name(k), st)
                        inner_unpack(target.elts[1], k, st)
                    return inner, unpack2
                return inner, unpack
            if fname == "reversed" and len(it.args) == 1:
                seq = self.atom(it.args[0])
                r = self.fresh()
                self.emit(S.assign(r, S.call(self.builtin("list"), [S.call(self.builtin("reversed"), [seq])])))
                return S.name(r), None
        return self.atom(it), None

    def s_While(self, st):
        if st.orelse:
            raise self.error(st, "`while ... else` is not supported",
                             "set a flag before `break` and test it after the loop")
        strategy = None
        if isinstance(st.test, S.Call) and self._is_strategy_call(st.test.func, "checkpointed"):
            strategy = self.strategy_options(st.test, st)
            st.test = st.test.args[0]
        test = self.atom(st.test)
        body = self.block(st.body)
        saved = self.out
        self.out = []
        self.line, self.node = st.lineno, st
        t2 = self.atom(st.test)
        retest = self.out
        self.out = saved
        if isinstance(test, S.Name) and test.id in self.locals and retest:
            # recompute the test into the same name at the end of the body
            last = retest[-1]
            if isinstance(last, S.Assign) and isinstance(last.targets[0], S.Name) and last.targets[0].id == t2.id:
                last.targets[0] = S.name(test.id, True)
            else:
                retest.append(S.assign(S.name(test.id, True), t2))
                retest[-1]._s2_line, retest[-1]._s2_node = st.lineno, st
        elif isinstance(test, S.Name) and test.id in self.locals:
            pass  # `while flag:` re-reads the same local
        for r in retest:
            r._s2_retest = True
        if _has_continue(body) and retest:
            raise self.error(st, "`continue` in a `while` loop whose test is computed is not supported",
                             "restructure the body with `if`, or write the test as one local name")
        self.line, self.node = st.lineno, st
        loop = self.emit(S.while_(test, body + retest))
        loop._s2_strategy = strategy

    def s_Break(self, st):
        self.emit(S.Break())

    def s_Continue(self, st):
        self.emit(S.Continue())

    def s_FunctionDef(self, st):
        pass  # a local function: inlined where it is called

    def s_Assert(self, st):
        pass  # assertions check, they compute nothing to differentiate

    # ----------------------------------------------------------- expressions
    def atom(self, node):
        if self.is_atom(node):
            return node
        p = self.prim(node)
        if self.is_atom(p):
            return p
        t = self.fresh()
        self.emit(S.assign(t, p))
        return S.name(t)

    def prim(self, node):
        """Normalize ``node`` into a primitive whose operands are atoms."""
        if self.is_atom(node):
            return node
        m = getattr(self, "e_" + type(node).__name__, None)
        if m is None:
            raise self.error(node, f"cannot differentiate a `{_kind(node)}` expression",
                             "compute it with a loop and assignments")
        out = m(node)
        out._s2_node = node
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if hasattr(node, attr):
                setattr(out, attr, getattr(node, attr))
        return out

    def e_BinOp(self, n):
        return S.binop(self.atom(n.left), n.op, self.atom(n.right))

    def e_UnaryOp(self, n):
        if isinstance(n.op, S.UAdd):
            return self.prim(n.operand)
        if isinstance(n.op, S.USub) and isinstance(n.operand, S.Constant):
            return S.const(-n.operand.value)
        return S.unary(n.op, self.atom(n.operand))

    def e_Call(self, n):
        func = n.func
        if isinstance(func, S.Name) and getattr(func, "_s2_localfn", None):
            return self.inline(("local",) + func._s2_localfn, n)
        if isinstance(func, S.Lambda):
            return self.inline(("local", func, self.cur_scope), n)
        if self.is_static(func):
            obj = self.static_value(func)
            if self.should_inline(obj):
                return self.inline(("global", obj), n)
        if isinstance(func, S.Attribute) and not self.is_static(func):
            func = S.attr(self.atom(func.value), func.attr)
        elif not self.is_static(func) and not isinstance(func, S.Name):
            func = self.atom(func)
        args = []
        for a in n.args:
            if isinstance(a, S.Starred):
                if isinstance(a.value, (S.Name,)) or self.is_static(a.value):
                    args.append(a)
                    continue
                raise self.error(a, "`*args` in a call must name a variable")
            args.append(self.arg(a))
        kws = []
        for k in n.keywords:
            if k.arg is None:
                raise self.error(k.value, "`**kwargs` in a call is not supported",
                                 "pass keyword arguments by name")
            kws.append(S.keyword(arg=k.arg, value=self.arg(k.value)))
        for a in args + [k.value for k in kws]:
            for m in S.walk(a):
                if isinstance(m, S.Name) and getattr(m, "_s2_localfn", None):
                    self._local_fn_escapes(n, func)
        return S.Call(func=func, args=args, keywords=kws)

    def _local_fn_escapes(self, call, func):
        import s2sad_runtime.loops as L
        obj = self.static_value(func) if self.is_static(func) else None
        if obj in (L.Checkpointed, L.CheckpointedWhile):
            raise self.error(call, "cannot differentiate a checkpointed loop's generated gradient again "
                                   "(its step functions run inside the runtime's scheduler)",
                             "use s2sad.hvp(f) for Hessian-vector products (reverse over forward keeps the "
                             "loop checkpointed), or the default tape for this loop")
        raise self.error(call, f"a local function is passed to `{S.to_source(func)}`, which s2sad does not "
                               "look into, so it cannot be differentiated",
                         "call the local function directly, or define it at module level")

    def arg(self, a):
        """Call arguments: atoms, but lists/tuples of atoms stay inline so a
        rule sees ``np.concatenate([a, b])``'s pieces."""
        if isinstance(a, S.Lambda):
            m = S.name("<lambda>")
            m._s2_localfn = (a, self.cur_scope)
            return m
        if isinstance(a, S.Name) and getattr(a, "_s2_localfn", None):
            return a
        if isinstance(a, (S.List, S.Tuple)) and all(not isinstance(e, S.Starred) for e in a.elts):
            return type(a)(elts=[self.arg(e) for e in a.elts], ctx=S.Load())
        if isinstance(a, S.Slice):
            return self.index(a)
        return self.atom(a)

    def e_Attribute(self, n):
        return S.attr(self.atom(n.value), n.attr)

    def e_Subscript(self, n):
        return S.subscript(self.atom(n.value), self.index(n.slice))

    def index(self, sl):
        if isinstance(sl, S.Slice):
            return S.Slice(lower=self.atom(sl.lower) if sl.lower is not None else None,
                           upper=self.atom(sl.upper) if sl.upper is not None else None,
                           step=self.atom(sl.step) if sl.step is not None else None)
        if isinstance(sl, S.Tuple):
            return S.tuple_([self.index(e) for e in sl.elts])
        return self.atom(sl)

    def e_Compare(self, n):
        if len(n.ops) == 1:
            return S.Compare(left=self.atom(n.left), ops=n.ops, comparators=[self.atom(n.comparators[0])])
        # a < b < c  ->  (a < b) and (b < c), evaluated lazily
        parts = []
        left = n.left
        for op, right in zip(n.ops, n.comparators):
            parts.append(S.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        return self.prim(S.BoolOp(op=S.And(), values=parts))

    def e_BoolOp(self, n):
        # evaluate lazily: t = a; if t: t = b   (for `and`)
        t = self.fresh()
        first = self.atom(n.values[0])
        self.emit(S.assign(t, first))
        is_and = isinstance(n.op, S.And)
        rest = n.values[1:]
        self._boolop_chain(t, rest, is_and)
        return S.name(t)

    def _boolop_chain(self, t, rest, is_and):
        if not rest:
            return
        saved = self.out
        self.out = []
        v = self.atom(rest[0])
        self.emit(S.assign(t, v))
        self._boolop_chain(t, rest[1:], is_and)
        body = self.out
        self.out = saved
        test = S.name(t) if is_and else S.unary(S.Not(), S.name(t))
        if not is_and:
            nt = self.fresh()
            self.emit(S.assign(nt, test))
            test = S.name(nt)
        self.emit(S.if_(test, body))

    def e_IfExp(self, n):
        t = self.fresh()
        test = self.atom(n.test)
        saved = self.out
        self.out = []
        self.emit(S.assign(t, self.prim(n.body)))
        body = self.out
        self.out = []
        self.emit(S.assign(t, self.prim(n.orelse)))
        orelse = self.out
        self.out = saved
        self.emit(S.if_(test, body, orelse))
        return S.name(t)

    def e_ListComp(self, n):
        """``[e for x in xs if c]`` -> a loop appending to a fresh list (the
        loop variable renamed, so it does not leak as in Python 3)."""
        res = self.fresh()
        self.emit(S.assign(res, S.list_([])))
        elt = S.copy(n.elt)
        gens = [S.copy(g) for g in n.generators]
        for i, g in enumerate(gens):
            if getattr(g, "is_async", 0):
                raise self.error(n, "an async comprehension cannot be differentiated")
            for t in S.walk(g.target):
                if isinstance(t, S.Name):
                    new = self.fresh()
                    old = t.id
                    for sub in [g.target, elt] + [x for h in gens[i:] for x in h.ifs] + [h.iter for h in gens[i + 1:]] \
                            + [h.target for h in gens[i + 1:]]:
                        for m in S.walk(sub):
                            if isinstance(m, S.Name) and m.id == old:
                                m.id = new
        body = [S.expr_stmt(S.call(S.attr(S.name(res), "append"), [elt]))]
        for g in reversed(gens):
            for cond in reversed(g.ifs):
                body = [S.if_(cond, body)]
            body = [S.for_(g.target, g.iter, body)]
        for st in S.walk(S.Module(body=body, type_ignores=[])):
            if isinstance(st, (S.For, S.If, S.Expr)):
                st.lineno, st.col_offset = n.lineno, n.col_offset
                st.end_lineno, st.end_col_offset = getattr(n, "end_lineno", None), getattr(n, "end_col_offset", None)
        saved = (self.line, self.node)
        for st in body:
            self.stmt(st)
        self.line, self.node = saved
        return S.name(res)

    e_GeneratorExp = e_ListComp

    def e_Tuple(self, n):
        return S.tuple_([self.atom(e) for e in n.elts])

    def e_List(self, n):
        return S.list_([self.atom(e) for e in n.elts])

    def e_Dict(self, n):
        if any(k is None for k in n.keys):
            raise self.error(n, "`**` in a dict display is not supported")
        return S.Dict(keys=[self.atom(k) for k in n.keys], values=[self.atom(v) for v in n.values])

    def e_Constant(self, n):
        return n

    def e_Name(self, n):
        return n


def _kind(node):
    names = {
        "ListComp": "list comprehension", "GeneratorExp": "generator expression",
        "DictComp": "dict comprehension", "SetComp": "set comprehension", "Lambda": "lambda",
        "Try": "try", "With": "with", "ClassDef": "class definition", "Global": "global",
        "Nonlocal": "nonlocal", "Yield": "yield", "YieldFrom": "yield from", "Await": "await",
        "Delete": "del", "Raise": "raise", "Import": "import", "ImportFrom": "import",
        "JoinedStr": "f-string", "NamedExpr": "assignment expression (:=)", "Match": "match",
        "Set": "set", "Starred": "starred",
    }
    return names.get(type(node).__name__, type(node).__name__)


def _has_continue(stmts):
    for st in stmts:
        if isinstance(st, S.Continue):
            return True
        if isinstance(st, S.If) and (_has_continue(st.body) or _has_continue(st.orelse)):
            return True
    return False


_static_key = S.static_key


def _check_returns(body, norm, fnode=None):
    """Only one ``return``, as the last statement of the function."""
    for i, st in enumerate(body):
        for n in S.walk(st):
            if isinstance(n, S.Return) and not (n is st and i == len(body) - 1):
                raise norm.error(getattr(n, "_s2_node", n) or n,
                                 "a `return` before the end of the function is not supported",
                                 "assign the result to a variable and return it once, at the end")
    if not body or not isinstance(body[-1], S.Return):
        node = fnode if fnode is not None else norm.fn
        raise norm.error(node, "the function must end with `return <value>`",
                         "return the value to differentiate (a scalar for grad)")
