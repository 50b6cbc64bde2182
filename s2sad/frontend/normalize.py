"""Normalization: the user's function (gast) lowered to the IR in A-normal
form, one primitive per statement.

After this pass a function body holds only these statements
(:mod:`s2sad.ir.nodes`):

* ``x = p`` where ``p`` is one *primitive* whose operands are *atoms*
  (local names, constants, static references such as ``np.pi``): an atom,
  ``a op b``, ``op a``, a call, ``a[index]``, ``a.attr``, a comparison, a
  tuple/list/dict display;
* ``x, y = p`` (unpacking a call or an atom); ``a[index] = b`` (a write into
  an array or a container);
* ``if atom:``, ``for x in range(...)/atom:``, ``while atom:`` whose bodies
  are normalized the same way (the ``while`` test is recomputed at the end
  of the body, statements with ``origin='retest'``);
* ``return atom`` as the last statement, ``break``, ``continue``, and calls
  for their effect (``lst.append(x)``).

Every statement carries its :class:`~s2sad.ir.nodes.Loc` (the user's file,
line and expression).  Temporaries are named ``_t1, _t2, ...`` in order, so
the output is deterministic.  User functions are inlined
(:mod:`s2sad.frontend.inline`); loops over sequences become counted loops
(:mod:`s2sad.frontend.iteration`).
"""

from __future__ import annotations

import types

from s2sad.errors import ResolutionError, error_at_loc
from s2sad.frontend import inline as _inline
from s2sad.frontend import iteration as _iteration
from s2sad.frontend import namespaces as _namespaces
from s2sad.frontend import syntax as S
from s2sad.frontend.parse import unsupported
from s2sad.frontend.scope import CompScope, Scope
from s2sad.frontend.atoms import LocalFn, Lowered, check_returns
from s2sad.ir import nodes as N
from s2sad.ir.visit import is_static, static_value

_BINOPS = {S.Add: "Add", S.Sub: "Sub", S.Mult: "Mult", S.Div: "Div", S.Pow: "Pow", S.MatMult: "MatMult",
           S.FloorDiv: "FloorDiv", S.Mod: "Mod", S.BitAnd: "BitAnd", S.BitOr: "BitOr", S.BitXor: "BitXor",
           S.LShift: "LShift", S.RShift: "RShift"}
_UNARY = {S.USub: "USub", S.UAdd: "UAdd", S.Not: "Not", S.Invert: "Invert"}
_CMP = {S.Eq: "Eq", S.NotEq: "NotEq", S.Lt: "Lt", S.LtE: "LtE", S.Gt: "Gt", S.GtE: "GtE", S.Is: "Is",
        S.IsNot: "IsNot", S.In: "In", S.NotIn: "NotIn"}


class Normalizer:
    MAX_INLINE_DEPTH = 50

    def __init__(self, src, ns=None, rules=None, fn_params=None, prefix="_t", drop=()):
        from s2sad.emit import Namespace
        self.src = src
        self.fn = src.node
        self.ns = ns if ns is not None else Namespace()
        self.rules = rules
        self.namespace_args = None  # the argument values, for `array_namespace(x)` (frontend/namespaces.py)
        self.counter = 0
        self.inline_counter = 0
        self.prefix = prefix
        self.out = None
        self.line = None            # the user's statement being lowered (line, node)
        self.node = None
        self.inline_stack = []
        self.locals = self.ns.reserved
        self.scope = Scope(src, self.fn, "", None, fn_params)
        self.scope_stack = [self.scope]
        self.locals |= set(self.scope.rename.values())
        # (where, key, obj) of every outside binding the code reads: the
        # gradient is rebuilt when one of them is rebound (see api.Bindings)
        self.bindings = []
        self.drop = set(drop)       # parameters the caller does not pass (a bound method's self)

    # ------------------------------------------------------------- names
    @property
    def cur_scope(self):
        return self.scope_stack[-1]

    def lookup(self, name):
        return self.cur_scope.lookup(name)

    def local(self, name, node=None):
        """The generated name of local ``name`` (a store target)."""
        r = self.lookup(name)
        if r is None or r[0] != "local":
            if r is not None and r[0] == "static":
                raise self.error(node, f"cannot assign to `{name}`, which is not a local variable here",
                                 "use a local variable")
            raise self.error(node, f"cannot assign to `{name}` here")
        return r[1]

    def static_ref(self, obj, hint, where=None):
        new = self.ns.ref(obj, hint)
        if where is not None and not isinstance(obj, types.ModuleType):
            self.bindings.append(where + (obj,))
        return N.Static(new, obj)

    def resolve(self, node):
        """IR atom for a gast Name or static attribute chain, a LocalFn, or
        None when ``node`` is not a name/chain."""
        if isinstance(node, S.Name):
            r = self.lookup(node.id)
            if r is None:
                raise error_at_loc(ResolutionError, self.loc(node), f"name `{node.id}` is not defined",
                                   "define it at module level before differentiating, or pass it as an argument")
            if r[0] == "local":
                return N.Name(r[1])
            if r[0] == "const":
                return r[1]
            if r[0] == "static":
                return self.static_ref(r[1], node.id, self.cur_scope_binding(node.id))
            return LocalFn(r[1], r[2])
        if isinstance(node, S.Attribute):
            base = self.resolve(node.value) if isinstance(node.value, (S.Name, S.Attribute)) else None
            if is_static(base):
                obj = static_value(base)
                try:
                    value = getattr(obj, node.attr)
                except AttributeError:
                    raise self.error(node, f"`{S.to_source(node.value)}` has no attribute `{node.attr}`") from None
                if not _library_object(obj):
                    self.bindings.append(("attr", obj, node.attr, value))
                twin = getattr(value, "__s2sad_outofplace__", None)
                if twin is not None and isinstance(obj, types.ModuleType):
                    # generated code differentiated again: a runtime helper
                    # that adds into its argument is read as the copying one
                    return N.Attr(base, twin)
                return N.Attr(base, node.attr)
            return None
        return None

    def cur_scope_binding(self, name):
        """(where, key) of a free name: the closure cell or globals dict it
        is read from, for the freshness check of the compiled gradient."""
        sc = self.cur_scope
        while sc is not None and not isinstance(sc, Scope):
            sc = sc.parent
        while sc is not None and sc.parent is not None and name not in sc.fn_params:
            sc = sc.parent
        if sc is None or name in sc.fn_params:
            return None
        src = sc.src
        if name in src.cells:
            return ("cell", src.cells[name], None)
        if name in src.globals:
            return ("global", src.globals, name)
        return None

    # ------------------------------------------------------------------ utils
    def fresh(self):
        self.counter += 1
        name = f"{self.prefix}{self.counter}"
        while name in self.locals:
            self.counter += 1
            name = f"{self.prefix}{self.counter}"
        self.locals.add(name)
        return name

    def loc(self, node=None):
        node = node if node is not None else self.node
        span = _span(node)
        line = self.line if self.line is not None else (span[0] if span else 1)
        return N.Loc(self.src, line, span)

    def emit(self, stmt, node=None):
        if stmt.loc is None:
            stmt.loc = self.loc(node)
        self.out.append(stmt)
        return stmt

    def assign(self, target, value, node=None, origin=None):
        t = N.Name(target) if isinstance(target, str) else target
        return self.emit(N.Assign(t, value, origin=origin), node)

    def error(self, node, what, hint=None):
        return unsupported(node, self.src, what, hint)

    def builtin(self, name):
        import builtins
        return self.static_ref(getattr(builtins, name), name)

    def block(self, stmts):
        saved = self.out
        self.out = []
        for st in stmts:
            self.stmt(st)
        res, self.out = self.out, saved
        return res

    def sub_block(self, fn):
        """Statements emitted by ``fn()``, collected apart."""
        saved = self.out
        self.out = []
        try:
            fn()
            return self.out
        finally:
            self.out = saved

    # ------------------------------------------------------------ the pass
    def run(self):
        body = self.block(self.fn.body)
        check_returns(body, self, self.fn)
        params, defaults = self.signature()
        fn = N.FunctionDef(self.fn.name, params, body, defaults,
                           loc=N.Loc(self.src, getattr(self.fn, "lineno", 1)))
        return fn

    def signature(self):
        """Parameter names (renamed) in call order, and the constant
        defaults of the trailing ones."""
        a = self.fn.args
        plist = a.posonlyargs + a.args
        pos_defaults = [None] * (len(plist) - len(a.defaults)) + list(a.defaults)
        entries = list(zip(plist, pos_defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
        entries = [(p, d) for p, d in entries if p.id not in self.drop]
        params = [self.scope.rename.get(p.id, p.id) for p, _ in entries]
        defaults = []
        for p, d in reversed(entries):
            if isinstance(d, S.Constant):
                defaults.insert(0, N.Const(d.value))
            else:
                break
        return params, defaults

    def stmt(self, st):
        self.line = getattr(st, "lineno", self.line)
        self.node = st
        m = getattr(self, "s_" + type(st).__name__, None)
        if m is None:
            raise self.error(st, f"cannot differentiate a `{_kind(st)}` statement",
                             "rewrite it with assignments, if/for/while and calls")
        m(st)

    # ------------------------------------------------------------ statements
    def s_Expr(self, st):
        v = st.value
        if isinstance(v, S.Constant):  # docstring
            return
        if isinstance(v, S.Call):
            f = v.func
            if (isinstance(f, S.Attribute) and f.attr == "fill" and len(v.args) == 1 and not v.keywords
                    and isinstance(f.value, S.Name) and (self.lookup(f.value.id) or ("",))[0] == "local"):
                # ``a.fill(v)`` of a local array is the write ``a[...] = v``:
                # differentiated in ``v`` like any element write
                target = S.located(S.subscript(f.value, S.const(Ellipsis), store=True), v)
                self.assign_to(target, v.args[0], st)
                return
            self.emit(N.Eval(self.prim(v)), v)
            return
        raise self.error(st, "an expression statement other than a call has no effect",
                         "remove it, or assign its value to a name")

    def s_Pass(self, st):
        pass

    def s_Return(self, st):
        if st.value is None:
            raise self.error(st, "the function returns nothing",
                             "return the value to differentiate (a scalar for grad)")
        ret = self.emit(N.Return(self.atom(st.value)), st)
        ret.value_loc = self.loc(st.value)

    def s_Assign(self, st):
        value = st.value
        if isinstance(value, S.Lambda):
            t = st.targets[0]
            if len(st.targets) == 1 and isinstance(t, S.Name) and isinstance(self.resolve(t), LocalFn):
                return  # a local function: inlined where it is called
            raise self.error(value, "a lambda must be assigned to a plain name (`f = lambda x: ...`)")
        if len(st.targets) == 1 and isinstance(st.targets[0], S.Name) and _namespaces.is_namespace_call(self, value):
            return _namespaces.bind_namespace(self, st)     # xp = array_namespace(x)
        if len(st.targets) == 1 and isinstance(st.targets[0], S.Name) and _inline.transform_in_body(self, st):
            return      # `df = s2sad.grad(f)` in the body: df is inlined where it is called
        if len(st.targets) > 1:
            a = self.atom(value)
            for t in st.targets:
                self.assign_to(t, Lowered(a), st)
            return
        self.assign_to(st.targets[0], value, st)

    def assign_to(self, target, value, st):
        if isinstance(target, S.Name):
            self.assign(self.local(target.id, target), self.prim(value), _value_node(value, st))
        elif isinstance(target, (S.Tuple, S.List)):
            if any(isinstance(e, S.Starred) for e in target.elts):
                raise self.error(target, "starred unpacking (`a, *b = ...`) is not supported",
                                 "index the sequence explicitly")
            if isinstance(value, (S.Tuple, S.List)) and len(value.elts) == len(target.elts):
                # a, b = b, a: evaluate every right-hand side first
                atoms = [self.atom(e) for e in value.elts]
                tmps = []
                for a in atoms:
                    if isinstance(a, N.Name):
                        t = self.fresh()
                        self.assign(t, a, st)
                        tmps.append(N.Name(t))
                    else:
                        tmps.append(a)
                for t, a in zip(target.elts, tmps):
                    self.assign_to(t, Lowered(a), st)
                return
            if all(isinstance(e, S.Name) for e in target.elts):
                ids = [e.id for e in target.elts]
                # `a, a = v`: Python binds left to right, the last one stays;
                # an earlier repeat goes to a temporary nothing reads
                names = N.Tuple(tuple(N.Name(self.fresh()) if e.id in ids[i + 1:] else N.Name(self.local(e.id, e))
                                      for i, e in enumerate(target.elts)))
                v = self.prim(value) if isinstance(value, S.Call) else self.atom(value)
                self.assign(names, v, _value_node(value, st))
                return
            a = self.atom(value)
            for i, e in enumerate(target.elts):
                self.assign_to(e, Lowered(N.Sub(a, N.Const(i))), st)
        elif isinstance(target, S.Subscript):
            base = self.atom(target.value)
            if not isinstance(base, N.Name):
                what = S.to_source(target.value).strip()
                raise self.error(target, f"cannot differentiate a write into `{what}`, an object outside the function",
                                 f"copy it into a local variable first (`a = {what}.copy()`) and write into that")
            idx = self.index(target.slice)
            v = self.atom(value)
            self.assign(N.Sub(base, idx), v, st)
        elif isinstance(target, S.Attribute):
            raise self.error(target, "cannot differentiate an assignment to an attribute",
                             "keep differentiated values in local variables, lists or dicts")
        elif isinstance(target, S.Starred):
            raise self.error(target, "starred assignment is not supported")
        else:
            raise self.error(target, f"cannot assign to a `{_kind(target)}`")

    def s_AugAssign(self, st):
        t = st.target
        op = _BINOPS.get(type(st.op))
        if isinstance(t, S.Name):
            cur = self.resolve(t)
            v = self.atom(st.value)
            self.assign(self.local(t.id, t), N.BinOp(op, cur, v), st, origin="aug")
        elif isinstance(t, S.Subscript):
            base = self.atom(t.value)
            if not isinstance(base, N.Name):
                raise self.error(t, "cannot differentiate a write into an object outside the function",
                                 "copy it into a local variable first and write into that")
            idx = self.index(t.slice)
            cur = self.fresh()
            self.assign(cur, N.Sub(base, idx), st)
            v = self.atom(st.value)
            new = self.fresh()
            self.assign(new, N.BinOp(op, N.Name(cur), v), st)
            self.assign(N.Sub(base, idx), N.Name(new), st)
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
        self.line, self.node = st.lineno, st
        self.emit(N.If(test, body, orelse), st)

    def s_For(self, st):
        _iteration.lower_for(self, st)

    def s_While(self, st):
        _iteration.lower_while(self, st)

    def s_Break(self, st):
        self.emit(N.Break())

    def s_Continue(self, st):
        self.emit(N.Continue())

    def s_FunctionDef(self, st):
        pass  # a local function: inlined where it is called

    def s_Assert(self, st):
        pass  # assertions check, they compute nothing to differentiate

    # ----------------------------------------------------------- expressions
    def is_atom(self, node):
        if isinstance(node, Lowered):
            return _is_ir_atom(node.expr)
        if isinstance(node, (S.Name, S.Constant)):
            return True
        if isinstance(node, S.Attribute):
            return is_static(self.resolve(node))
        return False

    def atom(self, node):
        """An IR atom for ``node`` (temporaries emitted for its parts)."""
        p = self.prim(node)
        if _is_ir_atom(p):
            return p
        if isinstance(p, LocalFn):
            raise self.error(node, "a local function can only be called here",
                             "call it, or define it at module level to pass it around")
        t = self.fresh()
        self.assign(t, p, node if not isinstance(node, Lowered) else None)
        return N.Name(t)

    def prim(self, node):
        """``node`` as one primitive whose operands are atoms."""
        if isinstance(node, Lowered):
            return node.expr
        m = getattr(self, "e_" + type(node).__name__, None)
        if m is None:
            raise self.error(node, f"cannot differentiate a `{_kind(node)}` expression",
                             "compute it with a loop and assignments")
        return m(node)

    def e_Name(self, n):
        return self.resolve(n)

    def e_Constant(self, n):
        return N.Const(n.value)

    def e_BinOp(self, n):
        return N.BinOp(_BINOPS[type(n.op)], self.atom(n.left), self.atom(n.right))

    def e_UnaryOp(self, n):
        if isinstance(n.op, S.UAdd):
            return self.prim(n.operand)
        if isinstance(n.op, S.USub) and isinstance(n.operand, S.Constant) and \
                isinstance(n.operand.value, (int, float, complex)) and not isinstance(n.operand.value, bool):
            return N.Const(-n.operand.value)
        return N.UnaryOp(_UNARY[type(n.op)], self.atom(n.operand))

    def e_Call(self, n):
        return _inline.lower_call(self, n)

    def arg(self, a):
        """Call arguments: atoms, but lists/tuples of atoms stay inline so a
        rule sees ``np.concatenate([a, b])``'s pieces."""
        if isinstance(a, S.Lambda):
            return LocalFn(a, self.cur_scope)
        if isinstance(a, S.Name):
            r = self.resolve(a)
            if isinstance(r, LocalFn):
                return r
        if isinstance(a, (S.List, S.Tuple)) and all(not isinstance(e, S.Starred) for e in a.elts):
            elts = tuple(self.arg(e) for e in a.elts)
            return (N.List if isinstance(a, S.List) else N.Tuple)(elts)
        if isinstance(a, S.Slice):
            return self.index(a)
        return self.atom(a)

    def e_Attribute(self, n):
        r = self.resolve(n)
        if r is not None:
            return r
        return N.Attr(self.atom(n.value), n.attr)

    def e_Subscript(self, n):
        return N.Sub(self.atom(n.value), self.index(n.slice))

    def index(self, sl):
        if isinstance(sl, S.Slice):
            return N.Slice(*(self.atom(x) if x is not None else None for x in (sl.lower, sl.upper, sl.step)))
        if isinstance(sl, S.Tuple):
            return N.Tuple(tuple(self.index(e) for e in sl.elts))
        return self.atom(sl)

    def e_Compare(self, n):
        left = self.atom(n.left)
        right = self.atom(n.comparators[0])
        first = N.Compare(left, (_CMP[type(n.ops[0])],), (right,))
        if len(n.ops) == 1:
            return first
        # a < b < c: each operand evaluated once, lazily (as Python does)
        t = self.fresh()
        self.assign(t, first, n)
        self._compare_chain(t, right, list(zip(n.ops[1:], n.comparators[1:])), n)
        return N.Name(t)

    def _compare_chain(self, t, left, rest, n):
        if not rest:
            return
        op, c = rest[0]

        def body():
            right = self.atom(c)
            self.assign(t, N.Compare(left, (_CMP[type(op)],), (right,)), n)
            self._compare_chain(t, right, rest[1:], n)
        self.emit(N.If(N.Name(t), self.sub_block(body)), n)

    def e_BoolOp(self, n):
        # evaluate lazily: t = a; if t: t = b   (for `and`)
        t = self.fresh()
        first = self.atom(n.values[0])
        self.assign(t, first, n)
        self._boolop_chain(t, n.values[1:], isinstance(n.op, S.And), n)
        return N.Name(t)

    def _boolop_chain(self, t, rest, is_and, n):
        if not rest:
            return

        def body():
            v = self.atom(rest[0])
            self.assign(t, v, n)
            self._boolop_chain(t, rest[1:], is_and, n)
        code = self.sub_block(body)
        test = N.Name(t)
        if not is_and:
            nt = self.fresh()
            self.assign(nt, N.UnaryOp("Not", N.Name(t)), n)
            test = N.Name(nt)
        self.emit(N.If(test, code), n)

    def e_IfExp(self, n):
        t = self.fresh()
        test = self.atom(n.test)
        body = self.sub_block(lambda: self.assign(t, self.prim(n.body), n.body))
        orelse = self.sub_block(lambda: self.assign(t, self.prim(n.orelse), n.orelse))
        self.emit(N.If(test, body, orelse), n)
        return N.Name(t)

    def e_ListComp(self, n):
        return _iteration.lower_comprehension(self, n)

    e_GeneratorExp = e_ListComp

    def e_Tuple(self, n):
        return N.Tuple(tuple(self.atom(e) for e in n.elts))

    def e_List(self, n):
        return N.List(tuple(self.atom(e) for e in n.elts))

    def e_Dict(self, n):
        if any(k is None for k in n.keys):
            raise self.error(n, "`**` in a dict display is not supported")
        return N.Dict(tuple(self.atom(k) for k in n.keys), tuple(self.atom(v) for v in n.values))

    def push_comp_scope(self, rename):
        self.scope_stack.append(CompScope(self.cur_scope, rename))

    def pop_scope(self):
        self.scope_stack.pop()


# --------------------------------------------------------------------------
# helpers


def _is_ir_atom(e):
    return isinstance(e, (N.Name, N.Const)) or is_static(e)


_LIBRARIES = ("numpy", "math", "builtins", "scipy", "cupy", "s2sad", "s2sad_runtime", "jax", "torch")


def _library_object(obj):
    """A module (or object) of a library, whose attributes do not change."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__.split(".")[0] in _LIBRARIES
    return (getattr(type(obj), "__module__", "") or "").split(".")[0] in _LIBRARIES


def _span(node):
    if node is None or isinstance(node, Lowered):
        return None
    lineno = getattr(node, "lineno", None)
    if lineno is None:
        return None
    return (lineno, getattr(node, "col_offset", None), getattr(node, "end_lineno", None),
            getattr(node, "end_col_offset", None))


def _value_node(value, st):
    return value if not isinstance(value, Lowered) and getattr(value, "lineno", None) is not None else st


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
