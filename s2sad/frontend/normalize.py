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

STATIC_ATTRS_OK = True


class Normalizer:
    def __init__(self, src, fn_node=None, prefix="_t"):
        self.src = src
        self.fn = fn_node if fn_node is not None else src.node
        self.counter = 0
        self.prefix = prefix
        self.out = None
        self.line = None
        self.node = None
        self.locals = set(S.param_names(self.fn))
        for n in S.walk(self.fn):
            if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del)):
                self.locals.add(n.id)
            elif isinstance(n, (S.FunctionDef, S.Lambda)) and n is not self.fn:
                pass

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
        self.out.append(stmt)
        return stmt

    def error(self, node, what, hint=None):
        return unsupported(node, self.src, what, hint)

    def is_static(self, node):
        """A reference to something outside the function (a module, a global
        function, a constant), which needs no temporary."""
        if isinstance(node, S.Name):
            return node.id not in self.locals
        if isinstance(node, S.Attribute):
            return self.is_static(node.value)
        return False

    def is_atom(self, node):
        return isinstance(node, (S.Name, S.Constant)) or self.is_static(node)

    # ------------------------------------------------------------ statements
    def run(self):
        body = self.block(self.fn.body)
        _check_returns(body, self)
        fn = S.function_def(self.fn.name, S.param_names(self.fn), body)
        fn.args = self.fn.args
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
            self.emit(S.assign(S.name(t.id, True), self.prim(rhs)))
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
        if (isinstance(it, S.Call) and isinstance(it.func, S.Name) and it.func.id == "range"
                and it.func.id not in self.locals and not it.keywords and isinstance(target, S.Name)):
            args = [self.atom(a) for a in it.args]
            iter_node = S.call(S.name("range"), args)
            body = self.block(st.body)
            self.line, self.node = line, st
            self.emit(S.for_(S.name(target.id, True), iter_node, body))
            return
        # any other iterable: index it with a counter, so the reverse sweep can
        # recover each element without storing it
        seq, unpack = self.iterable(it)
        k = self.fresh()
        n = self.fresh()
        self.line, self.node = line, st
        self.emit(S.assign(n, S.call(S.name("len"), [seq])))
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
        self.emit(S.for_(S.name(k, True), S.call(S.name("range"), [S.name(n)]), body))

    def iterable(self, it):
        """Return (sequence atom, unpack function or None) for a loop's iterable."""
        if isinstance(it, S.Call) and isinstance(it.func, S.Name) and it.func.id not in self.locals:
            fname = it.func.id
            if fname == "zip" and not it.keywords:
                seqs = [self.atom(a) for a in it.args]
                n = self.fresh()
                self.emit(S.assign(n, S.call(S.name("min"), [S.call(S.name("len"), [s]) for s in seqs]) if len(seqs) > 1
                                   else S.call(S.name("len"), [seqs[0]])))
                rng = S.call(S.name("range"), [S.name(n)])
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
                self.emit(S.assign(r, S.call(S.name("list"), [S.call(S.name("reversed"), [seq])])))
                return S.name(r), None
        return self.atom(it), None

    def s_While(self, st):
        if st.orelse:
            raise self.error(st, "`while ... else` is not supported",
                             "set a flag before `break` and test it after the loop")
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
        self.emit(S.while_(test, body + retest))

    def s_Break(self, st):
        self.emit(S.Break())

    def s_Continue(self, st):
        self.emit(S.Continue())

    def s_FunctionDef(self, st):
        raise self.error(st, "a nested function definition is not supported here",
                         "define the helper at module level and call it")

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
        return S.Call(func=func, args=args, keywords=kws)

    def arg(self, a):
        """Call arguments: atoms, but lists/tuples of atoms stay inline so a
        rule sees ``np.concatenate([a, b])``'s pieces."""
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


def _check_returns(body, norm):
    """Only one ``return``, as the last statement of the function."""
    for i, st in enumerate(body):
        for n in S.walk(st):
            if isinstance(n, S.Return) and not (n is st and i == len(body) - 1):
                raise norm.error(getattr(n, "_s2_node", n) or n,
                                 "a `return` before the end of the function is not supported",
                                 "assign the result to a variable and return it once, at the end")
    if not body or not isinstance(body[-1], S.Return):
        node = norm.fn
        raise norm.error(node, "the function must end with `return <value>`",
                         "return the value to differentiate (a scalar for grad)")
