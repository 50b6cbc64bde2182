"""Walking and rebuilding IR: the names an expression reads, the names a
statement binds, the statements of a block, substitution."""

from __future__ import annotations

from dataclasses import fields, replace

from s2sad.ir import nodes as N

_EXPR_FIELDS = {}


def _expr_fields(cls):
    f = _EXPR_FIELDS.get(cls)
    if f is None:
        f = _EXPR_FIELDS[cls] = tuple(x.name for x in fields(cls))
    return f


def children(e):
    """The direct sub-expressions of ``e``, in source order."""
    if isinstance(e, (N.Name, N.Const, N.Static, N.Pop)) or e is None:
        return
    for f in _expr_fields(type(e)):
        v = getattr(e, f)
        if isinstance(v, N.Expr):
            yield v
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, N.Expr):
                    yield x
                elif isinstance(x, tuple):          # Call.kwargs
                    for y in x:
                        if isinstance(y, N.Expr):
                            yield y


def walk(e):
    """``e`` and every expression inside it (pre-order)."""
    if e is None:
        return
    todo = [e]
    while todo:
        x = todo.pop()
        yield x
        kids = list(children(x))
        todo.extend(reversed(kids))


def names(e):
    """Local names read by expression ``e`` (with repetitions, in order)."""
    return [x.id for x in walk(e) if isinstance(x, N.Name)]


def rebuild(e, fn):
    """Bottom-up copy of ``e``: each node is rebuilt from its rebuilt
    children, then passed to ``fn``, whose result (a node, or None to keep
    it) replaces it."""
    if e is None or not isinstance(e, N.Expr):
        return e
    if isinstance(e, (N.Name, N.Const, N.Static, N.Pop)):
        r = fn(e)
        return e if r is None else r
    changes = {}
    for f in _expr_fields(type(e)):
        v = getattr(e, f)
        if isinstance(v, N.Expr):
            nv = rebuild(v, fn)
            if nv is not v:
                changes[f] = nv
        elif isinstance(v, tuple):
            new = []
            diff = False
            for x in v:
                if isinstance(x, N.Expr):
                    nx = rebuild(x, fn)
                elif isinstance(x, tuple):
                    nx = tuple(rebuild(y, fn) if isinstance(y, N.Expr) else y for y in x)
                    if all(a is b for a, b in zip(nx, x)):
                        nx = x
                else:
                    nx = x
                diff |= nx is not x
                new.append(nx)
            if diff:
                changes[f] = tuple(new)
    node = replace(e, **changes) if changes else e
    r = fn(node)
    return node if r is None else r


def substitute(e, mapping):
    """``e`` with the names in ``mapping`` (id -> expression) replaced."""
    if not mapping:
        return e
    return rebuild(e, lambda x: mapping.get(x.id) if isinstance(x, N.Name) else None)


def rename(e, mapping):
    """``e`` with names renamed (id -> new id)."""
    if not mapping:
        return e
    return rebuild(e, lambda x: N.Name(mapping[x.id]) if isinstance(x, N.Name) and x.id in mapping else None)


_MISSING = object()


def static_value(e, default=None):
    """The object a static reference (or an attribute chain over one) names,
    ``default`` for any other expression."""
    if isinstance(e, N.Static):
        return e.obj
    if isinstance(e, N.Attr):
        base = static_value(e.value, _MISSING)
        if base is _MISSING:
            return default
        return getattr(base, e.attr, default)
    return default


def is_static(e):
    """Is ``e`` a static reference (or a chain of attributes over one)?"""
    while isinstance(e, N.Attr):
        e = e.value
    return isinstance(e, N.Static)


# --------------------------------------------------------------------------
# statements


def iter_stmts(body, defs=False):
    """Every statement of ``body``, nested blocks included, in order
    (``defs``: also the bodies of nested function definitions)."""
    for st in body:
        yield st
        if isinstance(st, N.FunctionDef) and not defs:
            continue
        for b in N.blocks(st):
            yield from iter_stmts(b, defs)


def targets(st):
    """The names a statement binds (``x = ...``, ``a, b = ...``, a loop
    variable); an element write ``a[i] = v`` binds none."""
    if isinstance(st, N.Assign):
        t = st.target
        if isinstance(t, N.Name):
            return [t.id]
        if isinstance(t, N.Tuple):
            return [x.id for x in t.elts if isinstance(x, N.Name)]
        return []
    if isinstance(st, N.For):
        return [st.target]
    return []


def written_base(st):
    """``a`` of an element write ``a[i] = v``, else None."""
    if isinstance(st, N.Assign) and isinstance(st.target, N.Sub) and isinstance(st.target.value, N.Name):
        return st.target.value.id
    return None


def reads(st):
    """Names a simple statement (or the head of a compound one) reads."""
    if isinstance(st, N.Assign):
        out = names(st.value)
        if isinstance(st.target, N.Sub):
            out += names(st.target)
        return out
    if isinstance(st, (N.Eval, N.Push, N.Return)):
        return names(st.value)
    if isinstance(st, (N.If, N.While)):
        return names(st.test)
    if isinstance(st, N.For):
        return names(st.iter)
    return []


def head_exprs(st):
    """The expressions a statement evaluates itself (not its nested blocks)."""
    if isinstance(st, N.Assign):
        return [st.value] + ([st.target] if isinstance(st.target, N.Sub) else [])
    if isinstance(st, (N.Eval, N.Push, N.Return)):
        return [st.value]
    if isinstance(st, (N.If, N.While)):
        return [st.test]
    if isinstance(st, N.For):
        return [st.iter]
    return []


def has_jump(body, kinds):
    """Does ``body`` contain a statement of ``kinds`` outside nested loops?"""
    for st in body:
        if isinstance(st, kinds):
            return True
        if isinstance(st, N.If) and (has_jump(st.body, kinds) or has_jump(st.orelse, kinds)):
            return True
    return False


def stores(stmts):
    """Every name bound anywhere in ``stmts``."""
    out = set()
    for st in iter_stmts(stmts):
        out.update(targets(st))
    return out


def loads(stmts):
    out = set()
    for st in iter_stmts(stmts):
        out.update(reads(st))
    return out
