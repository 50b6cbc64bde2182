"""Batchedness (``s2sad.vmap``): which names hold a value that differs
from example to example, so carries a batch axis.

A forward closure from the mapped parameters, to a fixed point:

- ``x = p(...)`` is batched when an operand is, except for what is the
  same in every lane (``len(x)``, ``x.shape``, ``x is None``);
- ``a[i] = v`` makes ``a`` batched when ``v`` or ``i`` is; so does
  ``lst.append(v)``, and a helper writing into its first argument;
- every name bound inside a block that runs under a batched condition (an
  ``if``, a ``while``, a ``for`` over a batched count) is batched: its
  lanes take different branches;
- names that may share memory with an array written in place are batched
  together (a write through a view must reach the array it views, in
  every lane).

The result is a frozenset of names (a table, like every analysis).
"""

from __future__ import annotations

import builtins

from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, names, static_value, targets
from s2sad.rules import batch_rules

# calls that may return a view of their first operand
_VIEW_METHODS = {"reshape", "transpose", "ravel", "squeeze", "swapaxes", "view", "diagonal", "T", "mT", "real",
                 "imag"}
_CONTAINER_WRITES = {"append", "insert", "extend"}


def value_batched(value, batched, rules, kinds):
    """Is the value of expression ``value`` batched, given the batched
    names?"""
    ns = [n for n in names(value) if n in batched]
    if not ns:
        return False
    if isinstance(value, N.Attr) and value.attr in ("shape", "ndim", "size", "dtype") \
            and kinds.get(getattr(value.value, "id", None)) != "container":
        return False
    if isinstance(value, N.Compare) and all(op in ("Is", "IsNot") for op in value.ops):
        return False
    if isinstance(value, N.Call):
        obj = static_value(value.func)
        if obj is not None:
            r = batch_rules.lookup(rules, obj)
            if r is not None and r.unbatched:
                return False
    return True


def masked_blocks(st, batched):
    """The blocks of compound statement ``st`` that run under a batched
    mask (lanes differ on whether, or how often, they run)."""
    if isinstance(st, N.If):
        return [st.body, st.orelse] if _atom_batched(st.test, batched) else []
    if isinstance(st, N.While):
        return [st.body] if _atom_batched(st.test, batched) else []
    if isinstance(st, N.For):
        return [st.body] if batched_count(st, batched) else []
    return []


def batched_count(st, batched):
    """Does ``for`` loop ``st`` run a batched number of times (``range``
    with a batched bound)?"""
    it = st.iter
    return isinstance(it, N.Call) and static_value(it.func) is builtins.range and \
        any(_atom_batched(a, batched) for a in it.args)


def _atom_batched(e, batched):
    return any(n in batched for n in names(e))


def bound_in(stmts):
    """Names bound by assignments in ``stmts`` (nested blocks included; loop
    variables of nested loops excluded: they are the same in every lane)."""
    out = []
    for st in iter_stmts(stmts):
        if isinstance(st, N.Assign):
            for t in targets(st):
                if t not in out:
                    out.append(t)
    return out


def batched_names(body, params, rules, kinds):
    """The batched names of ``body``, from the batched parameters."""
    batched = set(params)
    groups = _alias_groups(body)
    written = {st.target.value.id for st in iter_stmts(body)
               if isinstance(st, N.Assign) and isinstance(st.target, N.Sub) and isinstance(st.target.value, N.Name)}
    changed = True
    while changed:
        before = len(batched)
        for st in iter_stmts(body):
            if isinstance(st, N.Assign):
                t = st.target
                if isinstance(t, N.Sub):
                    if _atom_batched(st.value, batched) or _atom_batched(t.index, batched):
                        batched.add(t.value.id)
                elif _pop_batched(st.value, batched) or value_batched(st.value, batched, rules, kinds):
                    batched.update(targets(st))
            elif isinstance(st, N.Eval) and isinstance(st.value, N.Call):
                _eval_batched(st.value, batched, rules, kinds, written)
            elif isinstance(st, N.For):
                if _atom_batched(st.iter, batched) and not batched_count(st, batched):
                    batched.add(st.target)
            for blk in masked_blocks(st, batched):
                batched.update(bound_in(blk))
        for g in groups:
            if g & batched and g & written:
                batched |= g
        changed = len(batched) != before
    return frozenset(batched)


def _pop_batched(value, batched):
    if isinstance(value, N.Pop):
        return value.stack in batched
    return False


def _eval_batched(call, batched, rules, kinds, written):
    f = call.func
    args = list(call.args) + [v for _, v in call.kwargs]
    if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.attr in _CONTAINER_WRITES:
        if any(_atom_batched(a, batched) for a in args):
            batched.add(f.value.id)
        return
    obj = static_value(f)
    r = batch_rules.lookup(rules, obj) if obj is not None else None
    if r is not None and r.writes is not None and len(call.args) > r.writes:
        w = call.args[r.writes]
        if isinstance(w, N.Name):
            written.add(w.id)
            if any(_atom_batched(a, batched) for a in args):
                batched.add(w.id)
    for k, v in call.kwargs:
        if k == "out" and isinstance(v, N.Name) and any(_atom_batched(a, batched) for a in args):
            batched.add(v.id)


def _alias_groups(body):
    """Groups of names that may share memory (flow-insensitive): a name and
    what it was assigned from by a copy, an index, an attribute or a
    call that may return a view."""
    parent = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    for st in iter_stmts(body):
        if not (isinstance(st, N.Assign) and isinstance(st.target, (N.Name, N.Tuple))):
            continue
        v = st.value
        src = None
        if isinstance(v, N.Name):
            src = v.id
        elif isinstance(v, (N.Sub, N.Attr)) and isinstance(v.value, N.Name):
            src = v.value.id
        elif isinstance(v, N.Call):
            f = v.func
            if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.attr in _VIEW_METHODS:
                src = f.value.id
            elif v.args and isinstance(v.args[0], N.Name) and static_value(f) is not None:
                src = v.args[0].id
        if src is not None:
            for t in targets(st):
                union(t, src)
    groups = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return [g for g in groups.values() if len(g) > 1]


_CONTAINER_CALLS = {builtins.list, builtins.tuple, builtins.dict, builtins.zip, builtins.enumerate,
                    builtins.sorted, builtins.reversed}


def certain_containers(body, params, kinds_in):
    """Names that certainly hold a list, tuple or dict (every binding is
    one; ``None`` placeholders aside).  Batching treats other names as
    arrays, or decides at run time where it cannot know."""
    cont = {p for p in params if kinds_in.get(p) == "container"}
    defs = {}
    for st in iter_stmts(body):
        for t in targets(st):
            defs.setdefault(t, []).append(st)
    changed = True
    while changed:
        changed = False
        for var, sts in defs.items():
            if var in cont or var in params:
                continue
            if all(_container_def(st, cont) is not False for st in sts) and \
                    any(_container_def(st, cont) for st in sts):
                cont.add(var)
                changed = True
    return frozenset(cont)


def _container_def(st, cont):
    """True: binds a container; None: a placeholder; False: anything else."""
    if not isinstance(st, N.Assign) or not isinstance(st.target, N.Name):
        return False
    v = st.value
    if isinstance(v, N.Const) and v.value is None:
        return None
    if isinstance(v, (N.List, N.Tuple, N.Dict)):
        return True
    if isinstance(v, N.Name):
        return v.id in cont
    if isinstance(v, N.Call):
        f = v.func
        if static_value(f) in _CONTAINER_CALLS:
            return True
        if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.value.id in cont and f.attr == "copy":
            return True
    if isinstance(v, N.BinOp) and v.op in ("Add", "Mult"):
        return any(isinstance(o, N.Name) and o.id in cont or isinstance(o, (N.List, N.Tuple))
                   for o in (v.left, v.right))
    return False
