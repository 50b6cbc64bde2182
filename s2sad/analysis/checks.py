"""Checks on the analysed program: an active primitive must have a rule.

A call with no derivative rule is an error only when it is on a
differentiated path (its result is active, or it is a call for its effect
on an active value); the error names the user's line.
"""

from __future__ import annotations

import types

from s2sad.errors import NoRuleError, UnsupportedSyntaxError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir import render as R
from s2sad.ir.visit import head_exprs, is_static, iter_stmts, names, targets, walk


def check_active_rules(body, prims, active, mode, wrt=(), complex_params=None):
    """``complex_params``: in complex mode, the parameters holding complex
    values (s2sad/analysis/complex_values.py checks where they go).  Returns
    the names that may hold complex values (none outside complex mode)."""
    cplx = set()
    if complex_params is not None:
        from s2sad.analysis.complex_values import check_complex
        cplx = check_complex(body, prims, active, complex_params)
    check_outside_writes(body, prims, active, wrt)
    for st in iter_stmts(body):
        if not isinstance(st, (N.Assign, N.Eval)):
            continue
        p = prims.get(st.sid)
        if p is None:
            continue
        tg = targets(st)
        if p.kind == "pop" and any(t in active for t in tg) and mode != "jvp":
            raise error_at_loc(UnsupportedSyntaxError, st.loc, "reverse mode through `list.pop()` is not supported",
                               "index the list instead (`x = lst[-1]`), or differentiate this code in forward mode")
        if p.kind == "rule" and p.rule.template is None and mode != "jvp" and any(t in active for t in tg):
            raise error_at_loc(NoRuleError, st.loc,
                               f"`{p.rule.name}` has a tangent rule but no adjoint rule: reverse mode cannot "
                               "differentiate through it (a third derivative, or reverse mode over a gradient)",
                               "use forward mode here (s2sad.jvp, or s2sad.hvp of the function itself)")
        if p.kind == "unknown" and (any(t in active for t in tg) or isinstance(st, N.Eval)):
            ops = [n for n in names(st.value) if n in active]
            if not ops or not any(t in active for t in tg):
                if isinstance(st, N.Eval) and ops:
                    raise error_at_loc(UnsupportedSyntaxError, st.loc,
                                       f"cannot differentiate `{R.text(st.value)}`: a call made for its effect on "
                                       "a differentiated value",
                                       "s2sad cannot see what this call changes; compute a new value and assign it "
                                       "instead")
                continue
            raise no_rule(p, st)
    return cplx


def no_rule(p, st):
    """The error for an active primitive without a derivative rule."""
    loc = st.loc
    if p.func is not None:
        text = R.text(p.func)
        if p.method:
            return error_at_loc(NoRuleError, loc, f"no derivative rule for the method `.{p.method}()`",
                                f"call the function instead (np.{p.method}(x, ...), or xp.{p.method}(x, ...) of the "
                                f"array API namespace for arrays of other libraries, whose methods s2sad does not "
                                f"read as NumPy's) if s2sad has a rule for it, or register one for a function of "
                                f"your own with @s2sad.adjoint(fn)")
        obj = p.func_obj
        if isinstance(obj, types.FunctionType) and (getattr(obj, "__module__", "") or "").startswith("s2sad_runtime"):
            return error_at_loc(NoRuleError, loc,
                                f"no derivative rule for the runtime helper `{text}`: differentiating generated "
                                "code through this operation again (a second derivative) is not supported yet",
                                "write the function without this operation for second-order use, or register "
                                f"a rule with @s2sad.adjoint({text})")
        return error_at_loc(NoRuleError, loc, f"no derivative rule for `{text}`",
                            f"register one with @s2sad.adjoint({text}) (see docs/rules.md), or wrap its "
                            "argument in s2sad.stop_gradient(...) if it should not be differentiated")
    text = R.text(st.value)
    return error_at_loc(NoRuleError, loc, f"no derivative rule for `{text}`",
                        "rewrite it with operations s2sad differentiates (docs/rules.md)")


def check_outside_writes(body, prims, active, wrt):
    """``obj.attr.method(v)`` (a call s2sad has no rule for, on an object
    outside the function) with ``v`` depending on an input, where the
    differentiated path reads ``obj.attr``: the call may change what the
    result reads (``B.arr.fill(x[0])``), which s2sad cannot follow."""
    from s2sad.analysis.activity import flows, forward_closure
    varied = None
    for st in iter_stmts(body):
        p = prims.get(st.sid) if isinstance(st, N.Eval) else None
        if p is None or p.kind != "unknown" or not isinstance(st.value, N.Call):
            continue
        f = st.value.func
        if not (isinstance(f, N.Attr) and is_static(f.value)):
            continue
        if varied is None:
            varied = forward_closure(flows(body, prims), wrt)
        if not any(n in varied for n in names(st.value)):
            continue
        obj = R.text(f.value)
        for other in iter_stmts(body):
            if other is st or not any(t in active for t in targets(other)):
                continue
            if any(is_static(x) and R.text(x) == obj for e in head_exprs(other) for x in walk(e)):
                raise error_at_loc(UnsupportedSyntaxError, st.loc,
                                   f"cannot differentiate this call on `{obj}`: s2sad cannot look into it, it is "
                                   f"given a differentiated value, and the result reads `{obj}`",
                                   "s2sad cannot see what this call changes; compute a new array and use it instead "
                                   f"(e.g. `{obj.split('.')[-1]} = np.full_like({obj}, v)`)")


def check_no_view_writes(body, library):
    """Arrays of a library reached through the array API (``library``, its
    name): refuse a write into an array that other names may view.  The
    runtime follows such writes through NumPy's memory layout (``view_sync``
    and its kin, emitted with ``origin='view'``), which other libraries do
    not expose, and the array API leaves open whether a slice is a view."""
    for st in iter_stmts(body, defs=True):
        if getattr(st, "origin", None) == "view":
            raise error_at_loc(
                UnsupportedSyntaxError, st.loc,
                f"writing into an array that another name may view is not supported for {library} arrays: "
                "s2sad follows such writes through NumPy's memory layout",
                "copy it before writing into it (`v = xp.asarray(x[1:], copy=True)`), or use NumPy arrays")
