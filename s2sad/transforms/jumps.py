"""``break`` and ``continue`` rewritten into flags, so that every iteration
runs its loop body to the end and the reverse sweep can mirror it exactly.

In a body with a jump, ``continue`` becomes ``_skip = True``, ``break``
``_brk = True; _skip = True``; the statements after a branch that may jump
run under ``if not _skip``, and a ``break`` leaves the loop at the end of
the body (``if _brk: break``).  A ``while`` loop's recomputed test stays
at the end, skipped on the iteration that breaks (Python does not evaluate
it there).  Runs on the normalized program before the analyses (so
the flags are ordinary variables to them).
"""

from __future__ import annotations

from s2sad.ir import nodes as N
from s2sad.ir.visit import has_jump


def desugar(body, namer):
    """The body with every loop's jumps rewritten (a new list; loops are
    new statements with the same ids)."""
    out = []
    for st in body:
        if isinstance(st, (N.For, N.While)):
            inner = desugar(st.body, namer)
            if has_jump(inner, (N.Break, N.Continue)):
                inner = _loop_body(inner, namer)
            st.body = inner
        elif isinstance(st, N.If):
            st.body = desugar(st.body, namer)
            st.orelse = desugar(st.orelse, namer)
        out.append(st)
    return out


def _loop_body(body, namer):
    brk = namer.fresh("brk")
    skip = namer.fresh("skip")
    uses_brk = has_jump(body, N.Break)
    loc = body[0].loc if body else None

    def mk(stmt):
        stmt.loc = loc
        stmt.origin = "jump"
        return stmt

    def assign(name, value):
        return mk(N.Assign(N.Name(name), N.Const(value)))

    def guard(stmts):
        out = []
        for i, st in enumerate(stmts):
            if isinstance(st, N.Break):
                return out + [assign(brk, True), assign(skip, True)]
            if isinstance(st, N.Continue):
                return out + [assign(skip, True)]
            if isinstance(st, N.If) and has_jump(st.body + st.orelse, (N.Break, N.Continue)):
                out.append(N.If(st.test, guard(st.body), guard(st.orelse), loc=st.loc, sid=st.sid))
                rest = [s for s in stmts[i + 1:] if getattr(s, "origin", None) != "retest"]
                if rest:
                    go = namer.fresh("go")
                    out.append(mk(N.Assign(N.Name(go), N.UnaryOp("Not", N.Name(skip)))))
                    out.append(N.If(N.Name(go), guard(rest), loc=st.loc))
                return out
            out.append(st)
        return out

    retest = [s for s in body if getattr(s, "origin", None) == "retest"]
    core = [s for s in body if getattr(s, "origin", None) != "retest"]
    new = [assign(skip, False)]
    if uses_brk:
        new.append(assign(brk, False))
    new += guard(core)
    if uses_brk and retest:
        # the while test is not evaluated on the iteration that breaks (it
        # may fail there), and the reverse sweep must see that it was not
        go_on = namer.fresh("go")
        new.append(mk(N.Assign(N.Name(go_on), N.UnaryOp("Not", N.Name(brk)))))
        new.append(N.If(N.Name(go_on), retest, loc=loc, origin="jump"))
        retest = []
    if uses_brk:
        new.append(N.If(N.Name(brk), [N.Break()], loc=loc, origin="jump"))
    return new + retest
