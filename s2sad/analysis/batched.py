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
from s2sad.ir.visit import iter_stmts, names, reads, static_value, targets
from s2sad.rules import batch_rules

# calls that may return a view of their first operand
_VIEW_METHODS = {"reshape", "transpose", "ravel", "squeeze", "swapaxes", "view", "diagonal", "T", "mT", "real",
                 "imag"}
_CONTAINER_WRITES = {"append", "insert", "extend"}


def _view_funcs():
    import numpy as np
    import s2sad_runtime as rt
    names = ("reshape", "ravel", "transpose", "squeeze", "swapaxes", "moveaxis", "rollaxis", "diagonal",
             "expand_dims", "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d", "asarray", "asanyarray",
             "real", "imag", "flip", "fliplr", "flipud", "matrix_transpose")
    out = {getattr(np, n) for n in names if hasattr(np, n)}
    return out | {rt.view_sync, rt.view_rederive, rt.own}


_VIEW_FUNCS = _view_funcs()      # calls whose result may share its first operand's memory


def value_batched(value, batched, rules, ranges=frozenset()):
    """Is the value of expression ``value`` batched, given the batched
    names?  (``ranges``: names bound to a ``range``, which iterates the
    union of the lanes' ranges and is not batched itself.)"""
    ns = [n for n in names(value) if n in batched]
    if not ns:
        return False
    if isinstance(value, N.Sub) and isinstance(value.value, N.Name) and value.value.id in ranges:
        return False
    if isinstance(value, N.Attr) and value.attr in ("shape", "ndim", "size", "dtype"):
        return False
    if isinstance(value, N.Compare) and all(op in ("Is", "IsNot") for op in value.ops):
        return False
    if isinstance(value, N.Call):
        obj = static_value(value.func)
        if obj is builtins.range:
            return False        # a batched bound iterates the union of the lanes' ranges (masked)
        if obj is not None:
            r = batch_rules.lookup(rules, obj)
            if r is not None and r.unbatched:
                return False
    return True


def masked_blocks(st, batched, replays=None):
    """The blocks of compound statement ``st`` that run under a batched
    mask (lanes differ on whether, or how often, they run); ``replays``:
    :func:`replay_plan`'s table."""
    if isinstance(st, N.For) and replays and id(st) in replays:
        return [st.body[replays[id(st)][0] + 1:]]
    if isinstance(st, N.If):
        return [st.body, st.orelse] if _atom_batched(st.test, batched) else []
    if isinstance(st, N.While):
        return [st.body] if _atom_batched(st.test, batched) or batched_break(st.body, batched) else []
    if isinstance(st, N.For):
        return [st.body] if batched_count(st, batched) or batched_break(st.body, batched) else []
    return []


def replayed_range(st, defs, ranges, batched):
    """For ``for k in range(len(L)): ...; i = L[k]; ...`` over a list made
    from a ``range`` with batched bounds (the normalized ``for i in
    reversed(range(n))``), ``(name bound to that range, position of the
    statement binding i)``; else None."""
    for j, s in enumerate(st.body):
        if _binds_item(s, st.target):
            name = _range_source(s.value.value.id, defs)
            if name in ranges and _atom_batched(defs.get(name), batched):
                return name, j
            return None
    return None


def replay_plan(body, defs, ranges, batched):
    """``id(for statement) -> (j, i, r, item, before)`` for the loops that
    run masked by ``b_in_range(i, r)``, ``i`` bound by their statement
    ``j``: a loop replaying a list made from a range ``r`` with batched
    bounds (``item`` None), and the loop that replays the same iterations
    backwards (a generated reverse sweep: its counter is the forward
    loop's; ``item`` = (list, counter): the forward loop's ``i`` is
    ``list[counter]`` again, whatever ``i`` holds then).  ``before``: the
    names the forward loop binds before its mask, in every lane."""
    plan, forward = {}, {}
    for st in iter_stmts(body):
        if not isinstance(st, N.For):
            continue
        hit = replayed_range(st, defs, ranges, batched)
        if hit is not None:
            name, j = hit
            before = frozenset(t for s in st.body[:j + 1] for t in targets(s))
            plan[id(st)] = (j, st.body[j].target.id, name, None, before)
            forward[st.target] = (st.body[j].target.id, name, st.body[j].value.value.id, before)
            continue
        for j, s in enumerate(st.body):
            if _binds_item(s, st.target):
                if s.target.id in forward:
                    i, r, lst, before = forward[s.target.id]
                    plan[id(st)] = (j, i, r, (lst, s.target.id), before)
                break
    return plan


def _binds_item(s, counter):
    """Is ``s`` ``x = L[counter]``?"""
    return isinstance(s, N.Assign) and isinstance(s.target, N.Name) and isinstance(s.value, N.Sub) \
        and isinstance(s.value.value, N.Name) and isinstance(s.value.index, N.Name) and s.value.index.id == counter


def _range_source(name, defs):
    """The name a list made by ``list(reversed(...))`` of it comes from."""
    src = defs.get(name)
    while isinstance(src, N.Call) and static_value(src.func) in (builtins.list, builtins.reversed) \
            and len(src.args) == 1:
        if isinstance(src.args[0], N.Name):
            name = src.args[0].id
            src = defs.get(name)
        else:
            src = src.args[0]
    return name


def batched_break(body, batched):
    """The flag of a loop body's final ``if brk: break`` (what the jumps
    pass leaves) when it is batched: lanes leave the loop at different
    iterations; else None."""
    if body and isinstance(body[-1], N.If) and len(body[-1].body) == 1 and isinstance(body[-1].body[0], N.Break) \
            and not body[-1].orelse and _atom_batched(body[-1].test, batched):
        return body[-1].test
    return None


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


def single_defs(body):
    """name -> its value, for the names bound exactly once (by ``x = v``)."""
    counts = {}
    for st in iter_stmts(body):
        for t in targets(st):
            counts[t] = counts.get(t, 0) + 1
    return {st.target.id: st.value for st in iter_stmts(body)
            if isinstance(st, N.Assign) and isinstance(st.target, N.Name) and counts[st.target.id] == 1}


def _written(body):
    """Names written in place (``x[i] = v``)."""
    return {st.target.value.id for st in iter_stmts(body)
            if isinstance(st, N.Assign) and isinstance(st.target, N.Sub) and isinstance(st.target.value, N.Name)}


def batched_names(body, params, rules, defs=None):
    """The batched names of ``body``, from the batched parameters
    (``defs``: :func:`single_defs` of ``body``, when the caller has it)."""
    batched = set(params)
    groups = _alias_groups(body)
    defs = single_defs(body) if defs is None else defs
    ranges = range_names(defs)
    readers = readers_of(body)
    written = _written(body)
    changed = True
    while changed:
        before = len(batched)
        plan = replay_plan(body, defs, ranges, batched)
        for st in iter_stmts(body):
            if isinstance(st, N.Assign):
                t = st.target
                if isinstance(t, N.Sub):
                    if _atom_batched(st.value, batched) or _atom_batched(t.index, batched):
                        batched.add(t.value.id)
                elif _pop_batched(st.value, batched) or value_batched(st.value, batched, rules, ranges):
                    batched.update(targets(st))
            elif isinstance(st, N.Eval) and isinstance(st.value, N.Call):
                _eval_batched(st.value, batched, rules, written)
            elif isinstance(st, N.For):
                if _atom_batched(st.iter, batched) and not batched_count(st, batched) \
                        and not _range_list(st.iter, defs):
                    batched.add(st.target)
            for blk in masked_blocks(st, batched, plan):
                batched.update(n for n in bound_in(blk) if carried(n, blk, readers))
                if isinstance(st, N.For) and carried(st.target, [st], readers):
                    batched.add(st.target)      # its value after the loop differs by lane
        for g in groups:
            if g & batched and g & written:
                batched |= g
        changed = len(batched) != before
    return frozenset(batched)


def range_names(defs):
    """Names bound to a ``range`` or to a slice of one."""
    out = set()
    changed = True
    while changed:
        changed = False
        for nm, v in defs.items():
            if nm in out:
                continue
            if isinstance(v, N.Call) and static_value(v.func) is builtins.range or \
                    isinstance(v, N.Sub) and isinstance(v.value, N.Name) and v.value.id in out:
                out.add(nm)
                changed = True
    return frozenset(out)


def readers_of(body):
    """name -> the statements that read it (a binding ``x = ...`` does not
    read ``x``; an element write ``x[i] = ...`` does)."""
    out = {}
    for st in iter_stmts(body):
        for n in reads(st):
            out.setdefault(n, []).append(st)
    return out


def carried(name, stmts, readers):
    """Does the value ``stmts`` leave in ``name`` matter: is it read
    outside them, or read inside them before they bind it (a value carried
    from an earlier iteration)?  A block's own temporaries need no merging
    under a mask, and no batch axis when their values are the same in every
    lane."""
    inside = {id(s) for s in iter_stmts(stmts)}
    rs = readers.get(name, [])
    if any(id(s) not in inside for s in rs):
        return True
    reading = {id(s) for s in rs}
    for s in iter_stmts(stmts):
        if id(s) in reading:
            return True
        if name in targets(s):
            return False
    return False


def _range_list(it, defs):
    """Is ``it`` a name bound to a ``range`` (of lanes' union)?"""
    return isinstance(it, N.Name) and isinstance(defs.get(it.id), N.Call) and \
        static_value(defs[it.id].func) is builtins.range


def _pop_batched(value, batched):
    if isinstance(value, N.Pop):
        return value.stack in batched
    return False


def _eval_batched(call, batched, rules, written):
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


def written_aliases(body):
    """Names written in place, and every name that may share memory with
    one: a lane-by-lane call must not produce them (its result is a copy,
    where the program relies on a view)."""
    return frozenset(_written(body)) | frozenset(aliased_written(body))


def aliased_written(body):
    """name -> the other names it may share memory with, for the names of
    alias groups with a member written in place: a masked merge
    (``b_where``) of one is a copy, which would cut the write off from the
    others in the lanes where they shared memory."""
    written = _written(body)
    out = {}
    for g in _alias_groups(body):
        if g & written:
            for n in g:
                out[n] = tuple(sorted(g - {n}))
    return out


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
        elif isinstance(v, N.Sub) and isinstance(v.value, N.Name) or \
                isinstance(v, N.Attr) and isinstance(v.value, N.Name) and v.attr in _VIEW_METHODS:
            src = v.value.id
        elif isinstance(v, N.Call):
            f = v.func
            if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.attr in _VIEW_METHODS:
                src = f.value.id
            elif v.args and isinstance(v.args[0], N.Name) and static_value(f) in _VIEW_FUNCS:
                src = v.args[0].id
        if src is not None:
            for t in targets(st):
                union(t, src)
    groups = {}
    for x in list(parent):
        r = find(x)
        groups.setdefault(r, {r}).add(x)      # (a root is no key of parent)
    return [g for g in groups.values() if len(g) > 1]


_RETURNS_LIST = {getattr(__import__("numpy"), n) for n in ("split", "array_split", "hsplit", "vsplit", "dsplit")}
_CONTAINER_CALLS = {builtins.list, builtins.tuple, builtins.dict, builtins.zip, builtins.enumerate,
                    builtins.sorted, builtins.reversed}


def certain_containers(body, params, kinds_in):
    """Names that certainly hold a list, tuple or dict (every binding is
    one; ``None`` placeholders aside).  Batching treats other names as
    arrays, or decides at run time where it cannot know."""
    return _every_binding(body, {p for p in params if kinds_in.get(p) == "container"}, set(params),
                          lambda st, known: _container_def(st, known))


def _every_binding(body, known, fixed, classify):
    """Names every binding of which ``classify(st, known)`` accepts (True;
    None: a placeholder that neither accepts nor refuses), to a fixed
    point from ``known``; ``fixed`` names are never added."""
    known = set(known)
    defs = {}
    for st in iter_stmts(body):
        for t in targets(st):
            defs.setdefault(t, []).append(st)
    changed = True
    while changed:
        changed = False
        for var, sts in defs.items():
            if var in known or var in fixed:
                continue
            verdicts = [classify(st, known) for st in sts]
            if all(v is not False for v in verdicts) and any(verdicts):
                known.add(var)
                changed = True
    return frozenset(known)


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
        def is_list(o):
            return isinstance(o, N.Name) and o.id in cont or isinstance(o, (N.List, N.Tuple))
        # list + list, list * n; a list and an array make an array
        if v.op == "Add":
            return is_list(v.left) and is_list(v.right)
        return any(is_list(a) and isinstance(b, N.Const) and type(b.value) is int
                   for a, b in ((v.left, v.right), (v.right, v.left)))
    return False


def certain_arrays(body, arrays, rules):
    """Names that certainly hold an array (``arrays``: the mapped
    parameters, and every binding an operator, an index or an elementwise,
    reduction or product call of one).  Batching indexes these directly
    (``x[:, i]``) and asks the run time about the rest."""
    return _every_binding(body, arrays, set(), lambda st, known: _array_def(st, known, rules))


def _array_def(st, arrays, rules):
    if not isinstance(st, N.Assign) or not isinstance(st.target, N.Name):
        return False
    v = st.value

    def arr(e):
        return isinstance(e, N.Name) and e.id in arrays
    if isinstance(v, N.Const) and v.value is None:
        return None
    if isinstance(v, N.BinOp):
        return arr(v.left) and not isinstance(v.right, (N.List, N.Tuple)) or \
            arr(v.right) and not isinstance(v.left, (N.List, N.Tuple))
    if isinstance(v, N.UnaryOp):
        return arr(v.operand) and v.op != "Not"
    if isinstance(v, N.Sub):
        return arr(v.value)
    if isinstance(v, N.Call) and v.args and arr(v.args[0]):
        obj = static_value(v.func)
        r = batch_rules.lookup(rules, obj) if obj is not None else None
        d = rules.lookup(obj) if obj is not None else None
        return r is not None and r.kind in ("elementwise", "axis") and getattr(obj, "__module__", "") != "builtins" \
            and not (d is not None and d.returns == "container") and obj not in _RETURNS_LIST
    return False
