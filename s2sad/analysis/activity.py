"""Activity analysis on the normalized program.

A variable is *active* when it depends on a differentiated input through
differentiable operations (a forward fixed point over the statements) and
the returned value depends on it (a backward fixed point).  Only active
statements get adjoint code.  The analysis is per name and flow-insensitive
(a name is active if any of its assignments is): conservative, it can emit
adjoint code that adds zeros, never miss a contribution.
"""

from __future__ import annotations

from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, names, targets


def flows(body, prims):
    """(targets, differentiable operand names) of every statement."""
    out = []
    for st in iter_stmts(body):
        if isinstance(st, N.Assign):
            if isinstance(st.target, N.Sub):
                # a[i] = v: a now depends on v (and on its old self)
                base = st.target.value.id
                ops = [st.value.id] if isinstance(st.value, N.Name) else []
                out.append(([base], ops + [base]))
                continue
            p = prims.get(st.sid)
            out.append((targets(st), p.diff_operands() if p is not None else names(st.value)))
        elif isinstance(st, N.Eval) and isinstance(st.value, N.Call):
            f = st.value.func
            if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.attr in ("append", "extend", "insert"):
                # lst.append(v): lst now depends on v
                out.append(([f.value.id], [a.id for a in st.value.args if isinstance(a, N.Name)]))
        elif isinstance(st, N.For):
            out.append(([st.target], []))
    return out


def forward_closure(flows_, seeds):
    """The names reached from ``seeds`` through ``flows_`` (pairs of
    targets and the names they are computed from), to a fixed point."""
    out = set(seeds)
    changed = True
    while changed:
        changed = False
        for tg, ops in flows_:
            if any(o in out for o in ops):
                for t in tg:
                    if t not in out:
                        out.add(t)
                        changed = True
    return out


def activity(body, wrt, prims, result):
    """The set of active variable names."""
    fl = flows(body, prims)
    fwd = forward_closure(fl, wrt)
    bwd = {result} if result else set()
    changed = True
    while changed:
        changed = False
        for tg, ops in fl:
            if any(t in bwd for t in tg):
                for o in ops:
                    if o not in bwd:
                        bwd.add(o)
                        changed = True
    return fwd & bwd
