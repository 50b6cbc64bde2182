"""Alias and view analysis: which names may share memory, and which writes
another live name would see.

Abstract *objects* are the arrays and containers the program works on: a
parameter's (``("param", name)``), one per allocating statement
(``("alloc", sid)``), a static object's (``("static", id)``), an unknown
call's result (``("unknown", sid)``).  Each definition (a binding of a
name, from :mod:`s2sad.analysis.defuse`) *points to* a set of
``(object, whole)`` pairs: ``whole`` when the name is the object itself,
not when it may be a view of part of it.  NumPy's view-producing
operations (basic indexing, ``.T``, ``reshape``, ``ravel``, ``transpose``,
``np.asarray``...) give views of their operand's objects; arithmetic gives
new objects; containers remember what they hold.

A *mutation* is a statement that changes an object in place: an element
write ``a[i] = v``, ``a += v`` on an array or a list (``origin='aug'``), a
list method (``append``...), an array method (``fill``...).  A *conflict*
is a later read (in time: loops included) of another name whose binding
from before the mutation may point into the mutated object -- Python sees
the write through it.  :func:`analyze_aliases` returns the mutations, their
conflicts, the parameters written into, and the points-to table; the
mutation pass (``s2sad/transforms/mutation.py``) resolves each conflict or
refuses it with a located error.
"""

from __future__ import annotations

import builtins
import math
import types
from dataclasses import dataclass, field

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.rules.core import numpy_twin
from s2sad.ir import nodes as N
from s2sad.ir.visit import names, reads, targets

# functions returning a view of their first argument (or, when NumPy has to,
# a copy): followed as "may be a view"
_VIEW_FUNCS = {np.transpose, np.swapaxes, np.moveaxis, np.reshape, np.ravel, np.squeeze, np.expand_dims,
               np.atleast_1d, np.atleast_2d, np.atleast_3d, np.broadcast_to, np.diagonal, np.flip, np.fliplr,
               np.flipud, np.rot90, np.real, np.imag, np.diag, np.asarray, np.asanyarray, np.ascontiguousarray,
               np.asfortranarray, np.require, _rt.stop_gradient}
_VIEW_METHODS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "view", "diagonal", "__getitem__"}
_VIEW_ATTRS = {"T", "mT", "real", "imag", "flat"}
_SCALAR_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"}
_COPY_METHODS = {"copy", "astype", "flatten", "tolist", "sum", "mean", "max", "min", "prod", "var", "std",
                 "dot", "cumsum", "clip", "round", "any", "all", "argmax", "argmin", "argsort", "nonzero",
                 "trace", "conj", "item", "keys", "values", "items", "index", "count"}
_LIST_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
                  "setdefault", "popitem"}
_ARRAY_MUTATORS = {"fill", "sort", "put", "itemset", "resize", "partition", "setfield", "byteswap"}
_CONTAINERS = ("list", "tuple", "dict")


@dataclass
class Mutation:
    """Statement ``stmt`` changes the objects ``name`` points to in place."""
    stmt: object
    name: str
    kind: str                        # 'setitem' | 'aug' | 'method'
    objects: frozenset = frozenset()
    conflicts: list = field(default_factory=list)     # [(alias name, statement reading it)]


class Aliases:
    """Flow-sensitive points-to with recency: ``("alloc", sid)`` is the array
    statement ``sid`` made most recently, ``("old", sid)`` any earlier one
    (in a loop, ``v = u.copy()`` makes a new array each time: the previous
    iteration's no longer aliases it).  ``at[sid]``: name -> {definition:
    points-to} reaching statement ``sid``."""

    def __init__(self, fn, kinds_in):
        self.fn = fn
        self.types = {}              # object -> 'array' | 'scalar' | 'list' | 'tuple' | 'dict' | 'other'
        self.maybe_copies = set()    # statements giving a view of an operand, or a copy of it
        # statements whose arrays another binding refers to: only those need
        # telling their latest array from earlier ones (found as the analysis
        # runs; it runs again until the set stops growing)
        self.escaped = set()
        for _ in range(20):
            before = set(self.escaped)
            self._run(kinds_in)
            if self.escaped == before:
                break
        self._reach_memo = {}
        self._objs_memo = {}         # id(points-to set) -> (it, its objects, its containers)
        self.mutations = [m for m in self._mutations() if m.objects]
        self._conflicts()

    def _run(self, kinds_in):
        fn = self.fn
        self.at = {}
        self.loops = []
        state = {_C: {}}
        for p in fn.params:
            obj = ("param", p)
            k = kinds_in.get(p)
            self.types[obj] = {"py": "scalar", "container": "list"}.get(k, "array")
            if k == "container":
                # what a container argument holds belongs to the caller too
                self.types[("param_item", p)] = "array"
                state[_C][obj] = frozenset({(("param_item", p), True)})
            state[p] = {("param", p): frozenset({(obj, True)})}
        for n in sorted({t for st in _all(fn.body) for t in targets(st)} - set(fn.params)):
            state[n] = {("undef", n): frozenset()}       # not bound yet
        self.block(fn.body, state)

    # ------------------------------------------------------------- dataflow
    def block(self, stmts, state):
        for st in stmts:
            if state is None:
                return None
            state = self.stmt(st, state)
        return state

    def stmt(self, st, state):
        if isinstance(st, (N.For, N.While)):
            head = state
            while True:
                self.loops.append(([], []))
                self.at[st.sid] = head
                inner = head
                if isinstance(st, N.For):
                    it = st.iter
                    el = self._scalar(st.sid) if isinstance(it, N.Call) and static_value(it.func) is builtins.range \
                        else self._elements(self._atom(head, it), head)
                    inner = dict(head)
                    inner[st.target] = {(st.sid, st.target): el}
                end = self.block(st.body, inner)
                breaks, continues = self.loops.pop()
                new = _join(state, end)
                for c in continues:
                    new = _join(new, c)
                if _same(new, head):
                    break
                head = new
            for b in breaks:
                head = _join(head, b)
            return head
        self.at[st.sid] = state
        if isinstance(st, N.If):
            return _join(self.block(st.body, state), self.block(st.orelse, state))
        if isinstance(st, N.Break):
            self.loops[-1][0].append(state)
            return None
        if isinstance(st, N.Continue):
            self.loops[-1][1].append(state)
            return None
        if isinstance(st, N.Assign):
            t = st.target
            if isinstance(t, N.Sub):
                return self._add_contents(state, self._atom(state, t.value), self._atom(state, st.value))
            self._made = None
            value = self.value_pts(st, st.value, state) or self._scalar(st.sid)
            self._escape(value, st.sid)
            if self._made is not None:
                self._escape(self._made, st.sid)
            if self.loops and st.sid in self.escaped:   # run again: its earlier arrays are older ones
                state = _age(state, st.sid)
            state = dict(state)
            if self._made is not None:      # a new container and what it holds
                state[_C] = dict(state[_C])
                state[_C][("alloc", st.sid)] = self._made
            if isinstance(t, N.Name):
                state[t.id] = {(st.sid, t.id): value}
            elif isinstance(t, N.Tuple):
                elems = self._elements(value, state) if isinstance(st.value, N.Name) else value
                for e in t.elts:
                    state[e.id] = {(st.sid, e.id): elems}
            return state
        if isinstance(st, N.Eval) and isinstance(st.value, N.Call) and isinstance(st.value.func, N.Attr) \
                and st.value.func.attr in ("append", "extend", "insert"):
            base = self._atom(state, st.value.func.value)
            added = frozenset().union(*[self._atom(state, a) for a in st.value.args]) if st.value.args \
                else frozenset()
            if st.value.func.attr == "extend":
                added = self._elements(added, state)
            return self._add_contents(state, base, added)
        return state

    def _scalar(self, sid):
        """A value that is no array or container (a number, a string...):
        nothing aliases it, but a name bound to it is not an array then."""
        o = ("scalar", sid)
        self.types[o] = "scalar"
        return frozenset({(o, True)})

    def _escape(self, p, sid):
        for o, _ in p:
            if o[0] in ("alloc", "old") and o[1] != sid:
                self.escaped.add(o[1])

    def _add_contents(self, state, containers, added):
        """``state`` with ``added`` put into the containers (may-update)."""
        self._escape(added, None)
        out = None
        for o, _ in containers:
            if self.types.get(o) in _CONTAINERS:
                if out is None:
                    out = dict(state)
                    out[_C] = dict(state[_C])
                out[_C][o] = out[_C].get(o, frozenset()) | frozenset(added)
        return state if out is None else out

    # ------------------------------------------------------------ points-to
    def of(self, sid, name):
        """What name ``name`` may point to at statement ``sid``."""
        return _union_pts(self.at.get(sid, {}).get(name, {}))

    def sharing(self, sid, name):
        """Names that may share memory with ``name`` at statement ``sid``
        (directly or through a container that holds it)."""
        objs = frozenset(o for o, _ in self.of(sid, name) if self.types.get(o) in ("array", "list", "dict", "other"))
        if not objs:
            return set()
        return {n for n in self.at.get(sid, {}) if n != name and n != _C and self.holds(self.of(sid, n), objs, sid)}

    def ever_held(self, sid, name, names_):
        """May any binding of ``names_``, anywhere in the function, hold the
        memory ``name`` refers to at statement ``sid``?  (A value the
        reverse sweep reads may be a binding from before, kept on the tape,
        sharing memory with an array written later.)  Recency is ignored:
        an array a statement made on any iteration counts."""
        objs = set()
        for o, _ in self.of(sid, name):
            if self.types.get(o) in ("array", "other"):
                objs.add(o)
                if o[0] in ("alloc", "old"):
                    objs |= {("alloc", o[1]), ("old", o[1])}
        objs = frozenset(objs)
        if not objs:
            return False
        return any(n in defs and self.holds(self.of(s2, n), objs, s2)
                   for s2, defs in self.at.items() for n in names_)

    def maybe_unbound(self, sid, name):
        return ("undef", name) in self.at.get(sid, {}).get(name, {})

    def defs_at(self, sid):
        """{definition: points-to} of every name at statement ``sid``."""
        out = {}
        for name, defs in self.at.get(sid, {}).items():
            if name != _C:
                out.update(defs)
        return out

    def _atom(self, state, e):
        if isinstance(e, N.Name):
            return _union_pts(state.get(e.id, {}))
        if is_static(e):
            return self._static(static_value(e))
        return frozenset()

    def _static(self, obj):
        if isinstance(obj, (np.ndarray, list, dict)):
            o = ("static", id(obj))
            self.types[o] = "array" if isinstance(obj, np.ndarray) else type(obj).__name__
            if not isinstance(obj, np.ndarray):
                self.types.setdefault(("static_item", id(obj)), "other")
            return frozenset({(o, True)})
        return frozenset()

    def _new(self, sid, kind, contents=()):
        o = ("alloc", sid)
        self.types[o] = kind
        self.types[("old", sid)] = kind
        if kind in _CONTAINERS:
            self._made = frozenset(contents)
        return frozenset({(o, True)})

    def _views(self, p):
        return frozenset((o, False) for o, _ in p if self.types.get(o) in ("array", "other"))

    def _elements(self, p, state):
        out = set()
        for o, _ in p:
            if self.types.get(o) in _CONTAINERS:
                if o[0] == "static":
                    out.add((("static_item", o[1]), False))
                else:
                    out |= state[_C].get(o, frozenset())
            elif self.types.get(o) in ("array", "other"):
                out.add((o, False))          # a row of an array is a view of it
        return frozenset(out)

    def _is_array(self, p):
        return any(self.types.get(o) in ("array", "other") for o, _ in p)

    def value_pts(self, st, v, state):
        """Points-to set of expression ``v`` computed by statement ``st``."""
        sid = st.sid
        atom = self._atom
        if isinstance(v, N.Name):
            return atom(state, v)
        if isinstance(v, N.Const):
            return frozenset()
        if is_static(v):
            return self._static(static_value(v))
        if isinstance(v, (N.BinOp, N.UnaryOp, N.Compare)):
            ops = [v.left, v.right] if isinstance(v, N.BinOp) else [v.operand] if isinstance(v, N.UnaryOp) \
                else [v.left, *v.comparators]
            ps = [atom(state, o) for o in ops]
            conts = [o for p in ps for o, _ in p if self.types.get(o) in ("list", "tuple")]
            if conts and isinstance(v, N.BinOp) and v.op in ("Add", "Mult"):
                return self._new(sid, self.types[conts[0]], self._elements(frozenset().union(*ps), state))
            return self._new(sid, "array" if any(self._is_array(p) for p in ps) else "scalar")
        if isinstance(v, N.Sub):
            base = atom(state, v.value)
            out = set(self._elements(base, state))
            if self._is_array(base) and not _basic(v.index):
                out |= self._new(sid, "array")       # advanced indexing copies
                self.maybe_copies.add(sid)
            return frozenset(out)
        if isinstance(v, N.Attr):
            base = atom(state, v.value)
            if v.attr in _VIEW_ATTRS:
                return self._views(base)
            if v.attr in _SCALAR_ATTRS:
                return frozenset()
            self.types.setdefault(("unknown", sid), "other")
            return frozenset({(("unknown", sid), False)})
        if isinstance(v, (N.List, N.Tuple)):
            elts = frozenset().union(*[atom(state, e) for e in v.elts]) if v.elts else frozenset()
            return self._new(sid, "list" if isinstance(v, N.List) else "tuple", elts)
        if isinstance(v, N.Dict):
            vals = frozenset().union(*[atom(state, e) for e in v.values]) if v.values else frozenset()
            return self._new(sid, "dict", vals)
        if isinstance(v, N.Call):
            return self._call(st, v, state)
        return frozenset()

    def _call(self, st, v, state):
        sid = st.sid
        args = [a for a in v.args if not isinstance(a, N.Starred)]
        first = self._atom(state, args[0]) if args else frozenset()
        if is_static(v.func):
            f = static_value(v.func)
            f = numpy_twin(f) or f          # xp.reshape of an array API namespace: NumPy's reshape
            if _in(f, _VIEW_FUNCS):
                whole = _in(f, (np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.require,
                                _rt.stop_gradient))
                p = frozenset((o, w) for o, w in first) if whole else self._views(first)
                self.maybe_copies.add(sid)
                return p | self._new(sid, "array")
            if f is np.array:
                copy = v.kw("copy")
                if isinstance(copy, N.Const) and copy.value is False:
                    self.maybe_copies.add(sid)
                    return first | self._new(sid, "array")
                return self._new(sid, "array")
            if f in (list, tuple):
                return self._new(sid, f.__name__, self._elements(first, state))
            if f is dict:
                return self._new(sid, "dict", self._elements(first, state))
            if f in (builtins.max, builtins.min):
                return frozenset().union(*[self._atom(state, a) for a in args]) if args else frozenset()
            if f in (builtins.abs, builtins.round):
                # abs(x), round(x) of an array: a new array
                return self._new(sid, "array" if self._is_array(first) else "scalar")
            if f in (builtins.float, builtins.int, builtins.len, builtins.bool) or \
                    getattr(f, "__module__", None) == "math" or f is math.fsum:
                return self._new(sid, "scalar")
            if f is builtins.sum:
                return self._new(sid, "array")
            if isinstance(f, np.ufunc) or (getattr(f, "__module__", "") or "").startswith("numpy"):
                return self._new(sid, "array")
            if getattr(f, "__s2sad_inline__", None) is not None:
                return self._new(sid, "array")
            if f is _rt.view_sync or f is _rt.view_rederive:
                return first          # the same object, now depending on the other
            if (getattr(f, "__module__", "") or "").startswith("s2sad_runtime"):
                return self._new(sid, "array" if self._is_array(first) else "other")
            # anything else (a user rule, a runtime helper): may return a view of an argument
            out = self._new(sid, "other")
            for a in args:
                out |= self._views(self._atom(state, a))
            return out
        if isinstance(v.func, N.Attr):
            base = self._atom(state, v.func.value)
            m = v.func.attr
            if m in _VIEW_METHODS:
                self.maybe_copies.add(sid)
                return self._views(base) | self._new(sid, "array")
            if m in ("pop", "get"):
                return self._elements(base, state)
            if m in _COPY_METHODS:
                conts = [o for o, _ in base if self.types.get(o) in _CONTAINERS]
                if m == "copy" and conts:
                    return self._new(sid, self.types[conts[0]], self._elements(base, state))
                return self._new(sid, "array" if self._is_array(base) else "other")
            return self._views(base) | self._new(sid, "other")
        return self._new(sid, "other")

    # ------------------------------------------------------------ mutations
    def _mutations(self):
        for st in _all(self.fn.body):
            if isinstance(st, N.Assign) and isinstance(st.target, N.Sub) and isinstance(st.target.value, N.Name):
                a = st.target.value.id
                yield Mutation(st, a, "setitem", self._mutable(self.of(st.sid, a)))
            elif isinstance(st, N.Assign) and st.origin == "aug" and isinstance(st.target, N.Name) and \
                    isinstance(st.value, N.BinOp) and isinstance(st.value.left, N.Name) and \
                    st.value.left.id == st.target.id:
                a = st.target.id
                objs = self._mutable(self.of(st.sid, a))
                if objs:
                    yield Mutation(st, a, "aug", objs)
            elif isinstance(st, (N.Eval, N.Assign)) and isinstance(st.value, N.Call) and \
                    isinstance(st.value.func, N.Attr) and isinstance(st.value.func.value, N.Name):
                m = st.value.func.attr
                a = st.value.func.value.id
                p = self.of(st.sid, a)
                objs = frozenset(o for o in self._mutable(p) if
                                 (m in _LIST_MUTATORS and self.types.get(o) in ("list", "dict")) or
                                 (m in _ARRAY_MUTATORS and self.types.get(o) == "array"))
                if objs:
                    yield Mutation(st, a, "method", objs)

    def _mutable(self, p):
        return frozenset(o for o, _ in p if self.types.get(o) in ("array", "list", "dict", "other"))

    def holds(self, p, objects, sid):
        """Does points-to set ``p`` reach one of ``objects`` (directly or
        through the containers it holds at statement ``sid``)?"""
        if not p:
            return False
        got = self._objs_memo.get(id(p))
        if got is None or got[0] is not p:
            objs = frozenset(o for o, _ in p)
            got = self._objs_memo[id(p)] = (p, objs, tuple(o for o in objs if self.types.get(o) in _CONTAINERS))
        if not got[1].isdisjoint(objects):
            return True
        return any(not self._reach(sid, o).isdisjoint(objects) for o in got[2])

    def _reach(self, sid, o):
        """The objects container ``o`` holds at statement ``sid``, through
        containers it holds too (memoized: the table is final once built)."""
        key = (sid, o)
        got = self._reach_memo.get(key)
        if got is None:
            contents = self.at.get(sid, {}).get(_C, {})
            out, todo = set(), [o]
            while todo:
                c = todo.pop()
                for e, _ in contents.get(c, ()):
                    if e not in out:
                        out.add(e)
                        if self.types.get(e) in _CONTAINERS:
                            todo.append(e)
            got = self._reach_memo[key] = frozenset(out)
        return got

    def _conflicts(self):
        """For each mutation, the names read later (in time) whose binding
        from before it may see the change."""
        for m in self.mutations:
            sid, objs = m.stmt.sid, m.objects
            poisoned = set()
            for name, defs in self.at.get(sid, {}).items():
                if name == m.name or name == _C:
                    continue
                for d, p in defs.items():
                    if self.holds(p, objs, sid):
                        poisoned.add(d)
            if not poisoned:
                continue
            found = []
            _Poison(self.fn.body, m.stmt, poisoned, found)
            seen = set()
            for name, st in found:
                if (name, st.sid) not in seen:
                    seen.add((name, st.sid))
                    m.conflicts.append((name, st))


class _Poison:
    """Forward from a mutation: the bindings that may see the change stay
    poisoned until rebound; a read of one is a conflict."""

    def __init__(self, body, start, poisoned, found):
        self.start = start
        self.poisoned = frozenset(poisoned)
        self.found = found
        self.block(body, None)

    def block(self, stmts, state):
        follow = False
        for st in stmts:
            # the helpers that follow this very write read the names it
            # changes by design; those of other writes are reads like any
            mine = follow and getattr(st, "origin", None) == "view"
            state = self.stmt(st, state, mine)
            follow = st is self.start or mine
        return state

    def stmt(self, st, state, mine=False):
        if isinstance(st, (N.For, N.While)):
            head = state
            for _ in range(3):
                end = self.block(st.body, head if not isinstance(st, N.For) else self.kill(head, [st.target]))
                new = _union(state, end)
                if new == head:
                    break
                head = new
            return head
        if state and not mine:
            for n in reads(st) if not isinstance(st, N.If) else names(st.test):
                if any(d[1] == n for d in state):
                    self.found.append((n, st))
        if isinstance(st, N.If):
            out = _union(self.block(st.body, state), self.block(st.orelse, state))
        else:
            out = self.kill(state, targets(st))
        if st is self.start:
            out = _union(out, self.poisoned)
        return out

    @staticmethod
    def kill(state, names_):
        if not state or not names_:
            return state
        return frozenset(d for d in state if d[1] not in names_)


_C = "\x00contents"      # the state's entry for what each container holds


def view_base(expr):
    """The expression whose memory ``expr`` may share: ``x`` for ``x``,
    ``x[i]``, ``x.T``, ``x.reshape(-1)``, ``np.transpose(x)`` or a runtime
    helper applied to ``x``; ``expr`` itself when it makes a new array."""
    while True:
        if isinstance(expr, (N.Sub, N.Attr)):
            expr = expr.value
        elif isinstance(expr, N.Call) and isinstance(expr.func, N.Attr) and expr.func.attr in _VIEW_METHODS:
            expr = expr.func.value
        elif isinstance(expr, N.Call) and expr.args:
            f = static_value(expr.func)
            f = numpy_twin(f) or f
            if not (_in(f, _VIEW_FUNCS) or (getattr(f, "__module__", "") or "").startswith("s2sad_runtime")):
                return expr
            expr = expr.args[0]
        else:
            return expr


def _union_pts(defs):
    out = frozenset()
    for p in defs.values():
        out |= p
    return out


def _age(state, sid):
    """Statement ``sid`` allocates again: what pointed to its latest array
    now points to an older one."""
    new, old = ("alloc", sid), ("old", sid)
    whole, part = (new, True), (new, False)
    out = None
    for name, defs in state.items():      # the containers' contents (_C) too
        changed = None
        for d, p in defs.items():
            if whole in p or part in p:
                if changed is None:
                    changed = dict(defs)
                changed[d] = frozenset((old if o == new else o, w) for o, w in p)
        if changed is not None:
            if out is None:
                out = dict(state)
            out[name] = changed
    cont = (out or state)[_C]
    if new in cont:
        if out is None:
            out = dict(state)
        c = out[_C] = dict(cont)
        c[old] = c.get(old, frozenset()) | c.pop(new)
    return state if out is None else out


def _join(a, b):
    """The may-union of two states; the inner tables are shared with ``a``
    or ``b`` where one side adds nothing (states are never changed in
    place: every update copies the table it changes)."""
    if a is None:
        return b
    if b is None or a is b:
        return a
    out = dict(a)
    for name, defs in b.items():
        cur = out.get(name)
        if cur is None:
            out[name] = defs
        elif cur is not defs:
            merged = None
            for d, p in defs.items():
                q = cur.get(d)
                if q is None or (q is not p and not p <= q):
                    if merged is None:
                        merged = dict(cur)
                    merged[d] = p if q is None else q | p
            if merged is not None:
                out[name] = merged
    return out


def _same(a, b):
    return a == b


def _basic(index):
    """A basic index for certain (no integer or boolean array can hide in it)."""
    for c in (index.elts if isinstance(index, N.Tuple) else (index,)):
        if isinstance(c, N.Slice) or (isinstance(c, N.Const) and (c.value is None or c.value is Ellipsis
                                                                    or type(c.value) is int)):
            continue
        return False
    return True


def _union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def _in(f, group):
    try:
        return f in group
    except TypeError:
        return False


def _all(body):
    for s in body:
        yield s
        for b in N.blocks(s):
            yield from _all(b)


_ = types
