"""Scope and binding: what each name of a function (or of a function being
inlined) refers to.

A name is *local* (renamed when the function is inlined: ``_layer1_h``),
a *local function* (a nested ``def``, a ``lambda`` bound to a name, a
gradient made in the body with ``s2sad.grad``), a *constant* (an inlined
call's parameter bound to a literal), or *static*: an object outside the
function found in the closure, the globals or the builtins, referenced by
the generated code through its namespace.  Lookups happen while the body is
lowered; nothing is written on the syntax tree.
"""

from __future__ import annotations

from s2sad.frontend import syntax as S

# names the generated code uses for itself; a user local with one of these
# names is renamed (``_rt`` -> ``_rt_u``)
RESERVED = frozenset({"_rt", "_stack", "_value", "_out_adj"})


class Scope:
    """One function's names during lowering.

    ``fn_params``: parameters bound to known objects at the call
    (``("static", obj)``) or to local functions (``("local", node, scope)``).
    """

    def __init__(self, src, fnode, prefix, parent, fn_params=None):
        self.src = src
        self.fnode = fnode
        self.prefix = prefix
        self.parent = parent
        self.fn_params = dict(fn_params or {})
        self.local_fns = {}
        self.consts = {}            # name -> literal (inlined parameter bound to a constant)
        self.direct = set()         # inlined parameters naming the caller's value directly
        names = [p for p in param_names(fnode) if p not in self.fn_params]
        stored = set(names)
        for n in walk_scope(fnode.body):
            if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del)):
                stored.add(n.id)
        for st in walk_scope_stmts(fnode.body):
            if isinstance(st, S.FunctionDef):
                self.local_fns[st.name] = (st, self)
            elif (isinstance(st, S.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], S.Name)
                  and isinstance(st.value, S.Lambda)):
                self.local_fns[st.targets[0].id] = (st.value, self)
        self.locals = {v for v in stored if v not in self.local_fns}
        self.rename = {v: (f"{prefix}{v}" if prefix else v) for v in self.locals}
        if not prefix:
            for v in sorted(self.locals & RESERVED):
                # a name of its own: ``_out_adj_u`` may be taken too (a
                # generated gradient, differentiated again, has both)
                new = v + "_u"
                while new in self.locals or new in self.rename.values():
                    new += "_u"
                self.rename[v] = new

    def lookup(self, name):
        """('local', new name) | ('const', value) | ('static', obj) |
        ('localfn', node, scope) | None"""
        if name in self.consts:
            return ("const", self.consts[name])
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


class CompScope:
    """The loop variables of a comprehension, renamed so they do not leak
    (Python 3 semantics); everything else is looked up outside."""

    def __init__(self, parent, rename):
        self.parent = parent
        self.rename = dict(rename)
        self.src = parent.src

    def lookup(self, name):
        if name in self.rename:
            return ("local", self.rename[name])
        return self.parent.lookup(name)


def assigned_once(sc, name):
    """Is ``name`` stored exactly once in scope ``sc``'s own body (False in
    a comprehension's scope)?"""
    if not isinstance(sc, Scope):
        return False
    return sum(1 for n in walk_scope(sc.fnode.body)
               if isinstance(n, S.Name) and n.id == name and isinstance(n.ctx, S.Store)) == 1


def param_names(fnode):
    a = fnode.args
    return [p.id for p in a.posonlyargs + a.args + a.kwonlyargs] + \
        ([a.vararg.id] if a.vararg is not None else []) + ([a.kwarg.id] if a.kwarg is not None else [])


def walk_scope(stmts):
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


def walk_scope_stmts(stmts):
    for st in stmts:
        yield st
        for f in ("body", "orelse"):
            if not isinstance(st, S.FunctionDef) and isinstance(getattr(st, f, None), list):
                yield from walk_scope_stmts(getattr(st, f))
