"""Activity analysis on normalized code.

A variable is *active* when it depends on a differentiated input through
differentiable operations (forward) and reaches the returned value
(backward).  Only active statements get adjoint code.  The analysis is
flow-insensitive per name (a name is active if any of its assignments is),
which is conservative: it can emit adjoint code that turns out to add
zeros, never miss a contribution.
"""

from __future__ import annotations

from s2sad.frontend import syntax as S


def iter_stmts(body):
    """Every statement in ``body``, nested blocks included, in order."""
    for st in body:
        yield st
        if isinstance(st, S.If):
            yield from iter_stmts(st.body)
            yield from iter_stmts(st.orelse)
        elif isinstance(st, (S.For, S.While)):
            yield from iter_stmts(st.body)


def stmt_flow(st, classify):
    """(targets, differentiable operand names, all loaded names) of a
    normalized statement.  ``classify(prim)`` returns the names of the
    primitive's differentiable operands."""
    if isinstance(st, S.Assign):
        t = st.targets[0]
        if isinstance(t, S.Name):
            targets = [t.id]
        elif isinstance(t, S.Tuple):
            targets = [e.id for e in t.elts]
        elif isinstance(t, S.Subscript):
            # a[i] = v: a now depends on v (and on its old self)
            targets = [t.value.id]
            ops = [n for n in [_name(st.value)] if n] + [t.value.id]
            return targets, ops
        else:
            targets = []
        return targets, classify(st.value)
    if isinstance(st, S.Expr) and isinstance(st.value, S.Call):
        f = st.value.func
        if isinstance(f, S.Attribute) and isinstance(f.value, S.Name) and f.attr in ("append", "extend", "insert"):
            # lst.append(v): lst now depends on v
            ops = [n for a in st.value.args for n in [_name(a)] if n]
            return [f.value.id], ops
        return [], []
    if isinstance(st, S.For):
        return [st.target.id], []
    return [], []


def _name(node):
    return node.id if isinstance(node, S.Name) else None


def activity(fn, wrt, classify, result):
    """Return the set of active variable names of normalized ``fn``."""
    flows = [stmt_flow(st, classify) for st in iter_stmts(fn.body)]
    fwd = set(wrt)
    changed = True
    while changed:
        changed = False
        for targets, ops in flows:
            if any(o in fwd for o in ops):
                for t in targets:
                    if t not in fwd:
                        fwd.add(t)
                        changed = True
    bwd = {result} if result else set()
    changed = True
    while changed:
        changed = False
        for targets, ops in flows:
            if any(t in bwd for t in targets):
                for o in ops:
                    if o not in bwd:
                        bwd.add(o)
                        changed = True
    return fwd & bwd
