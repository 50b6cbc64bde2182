"""What the reverse sweep reads: the *needed* names.

A value is needed when an adjoint reads it (found by a dry run of each
active rule's template: ``y = y + h * k`` needs ``h`` and ``k`` but not
the old ``y``), or when the reverse sweep re-tests it (a branch condition,
a loop's range).  Only needed values are saved when a later statement
overwrites them.  A name whose adjoints read only its shape (``_rt.
unbroadcast(c, x)``) is *shape-only*: a save keeps a descriptor (shape,
dtype) instead of the array.
"""

from __future__ import annotations

import itertools

from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, names, targets, walk
from s2sad.rules import splice


def compute_needed(body, prims, active, kinds, ns, is_scalar_atom):
    """(needed, shape_only) name sets."""
    needed = set()
    shape_reads = set()
    counter = itertools.count()
    ctx = splice.SpliceContext(active, lambda hint: f"\x00{hint}{next(counter)}", ns, is_scalar_atom)
    for st in iter_stmts(body):
        if isinstance(st, N.Assign):
            if isinstance(st.target, N.Sub):
                base = st.target.value.id
                if base in active:
                    needed.update(names(st.value))
                    needed.add(base)
                    needed.update(names(st.target.index))
                continue
            if any(t in active for t in targets(st)):
                if isinstance(st.target, N.Name):
                    r, s = adjoint_reads(st, prims.get(st.sid), ctx, kinds)
                    needed |= r
                    shape_reads |= s
                else:       # unpacking: the value and every target
                    needed.update(names(st.value))
                    needed.update(targets(st))
        elif isinstance(st, N.If):
            needed.update(names(st.test))
        elif isinstance(st, N.Eval) and isinstance(st.value, N.Call) and isinstance(st.value.func, N.Attr) \
                and isinstance(st.value.func.value, N.Name) and st.value.func.value.id in active:
            needed.add(st.value.func.value.id)
        elif isinstance(st, N.For):
            needed.update(names(st.iter))
    shape_only = shape_reads - needed
    return needed | shape_only, shape_only


def adjoint_reads(st, p, ctx, kinds):
    """(names, shape-only names) the adjoint of ``x = prim`` reads: a dry
    run of the rule's contributions (operands the contributions use, the
    result if the rule reads ``ans``)."""
    if p is None or p.kind in ("const", "nondiff", "unknown", "pop"):
        return set(), set()
    if p.kind == "rule" and p.rule.template is None:
        return set(), set()     # a tangent only: no reverse sweep goes through it
    pre = []
    g, ans = N.Name("\x00g"), N.Name("\x00ans")
    contribs = splice.contributions(ctx, p, g, ans, pre)
    reads, shape_reads = set(), set()

    def visit(e):
        # `_rt.unbroadcast(c, x)` reads only x's shape and kind
        if isinstance(e, N.Call) and _is_rt(e.func, "unbroadcast") and len(e.args) == 2 \
                and isinstance(e.args[1], N.Name):
            shape_reads.add(e.args[1].id)
            visit(e.args[0])
            return
        if isinstance(e, N.Name):
            reads.add(e.id)
            return
        from s2sad.ir.visit import children
        for c in children(e):
            visit(c)
    for _, c in contribs:
        visit(c)
    for s in pre:
        visit(s.value)
    for var, _ in contribs:
        if kinds.get(var) != "array":
            reads.add(var)      # container accumulation reads the value's structure
    if "\x00ans" in reads:
        reads.update(targets(st))
    return ({r for r in reads if not r.startswith("\x00")},
            {r for r in shape_reads if not r.startswith("\x00")})


def _is_rt(func, name):
    return isinstance(func, N.Attr) and func.attr == name and isinstance(func.value, N.Static) \
        and func.value.name == "_rt"


_ = walk
