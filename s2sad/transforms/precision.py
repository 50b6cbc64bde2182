"""Precision policies in generated code (``s2sad.Precision``; docs/arrays.md).

Two passes, one on each side of the reverse transform.

``cast_inputs`` (on the normalized program, before the transform): every
argument is cast on entry to the primal dtype, or to its override, into a
name of its own (``W_f16 = _rt.at_precision(W, np.float16)``; the body then
reads ``W_f16``: one name, one dtype, which the planner needs), and each
local name that the policy keeps at a dtype of its own is cast after every
assignment of it; with a 16-bit dtype in the policy, matrix products become
``_rt.half_matmul(a, b)`` (BLAS in float32, rounded once to the operands'
16-bit dtype: NumPy has no half-precision BLAS, and ml_dtypes returns a
bfloat16 product in float32).  The casts are part of the program being differentiated;
the adjoint of one passes the adjoint through unchanged
(``rules/runtime_rules.py``), so ``W``'s gradient is the adjoint of
``W_f16``, never rounded to float16.

``apply_policy`` (on the generated gradient, after the transform): a comment
naming the policy, the seed ``_out_adj`` cast to the adjoint dtype, the
gradients delivered in it (``_rt.grad_out_as(g, x, dtype)``), and the adjoint
of a cast in the user's code never narrower than it
(``_rt.astype_adjoint(g, x, dtype)``).

Everything between follows from NumPy's promotion: the forward sweep runs
on the cast values, and every adjoint descends from the seed, so a local
derivative factor computed from saved primal values (at the primal dtype)
is cast up where it multiplies an adjoint, and the reverse sweep's sums and
matrix products run at the adjoint dtype.
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.errors import ArgumentError
from s2sad.ir import nodes as N
from s2sad.ir.visit import is_static, iter_stmts, rebuild, rename, static_value, walk
from s2sad.rules.splice import rt_call


def dtype_expr(dt, ns):
    """``np.float16`` (or ``ml_dtypes.bfloat16``) as an IR expression."""
    dt = np.dtype(dt)
    if dt.type.__module__.split(".")[0] == "numpy" or hasattr(np, dt.name):
        return N.Attr(N.Static(ns.ref(np, "np"), np), dt.name)
    import importlib
    mod = importlib.import_module(dt.type.__module__.split(".")[0])
    return N.Attr(N.Static(ns.ref(mod, mod.__name__), mod), dt.type.__name__)


def _cast(target, name, dt, ns, loc=None):
    return N.Assign(N.Name(target), rt_call(ns, "at_precision", N.Name(name), dtype_expr(dt, ns)), loc=loc)


def _assigned(st):
    """Names an assignment statement binds."""
    if not isinstance(st, N.Assign):
        return ()
    t = st.target
    if isinstance(t, N.Name):
        return (t.id,)
    if isinstance(t, N.Tuple):
        return tuple(e.id for e in t.elts if isinstance(e, N.Name))
    return ()


_SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "bfloat16": "bf16", "float128": "f128"}


def _map_exprs(st, fn):
    """Apply ``fn`` to the expression statement ``st`` evaluates (in place;
    not its target, nor nested blocks)."""
    if isinstance(st, (N.Assign, N.Eval, N.Return, N.Push)) and isinstance(st.value, N.Expr):
        st.value = fn(st.value)
    elif isinstance(st, (N.If, N.While)):
        st.test = fn(st.test)
    elif isinstance(st, N.For):
        st.iter = fn(st.iter)


def _rename_stmt(st, mapping):
    """Statement ``st`` reading and writing ``mapping``'s new names (in place)."""
    _map_exprs(st, lambda e: rename(e, mapping))
    if isinstance(st, N.Assign):
        st.target = rename(st.target, mapping)
    elif isinstance(st, N.For) and st.target in mapping:
        st.target = mapping[st.target]
    elif isinstance(st, N.Nonlocal):
        st.names = tuple(mapping.get(n, n) for n in st.names)
    for b in N.blocks(st):
        for x in b:
            _rename_stmt(x, mapping)


def _all_names(body):
    out = set()
    for st in iter_stmts(body, defs=True):
        for field in ("value", "test", "iter", "target"):
            e = getattr(st, field, None)
            if isinstance(e, str):
                out.add(e)
            elif isinstance(e, N.Expr):
                out |= {x.id for x in walk(e) if isinstance(x, N.Name)}
    return out


def cast_inputs(fn, policy, rename_map, kinds, skip, ns, qualname):
    """Normalized program ``fn`` under ``policy`` (changed in place):
    arguments cast on entry into names of their own, overridden locals cast
    after each assignment.  ``rename_map`` maps the user's names to the
    program's, ``kinds`` the program's parameters to "array", "py" or
    "container", ``skip`` holds parameters that are not values (functions,
    modules).  An override naming nothing of the function is an error (a
    misspelt one would do nothing)."""
    users = {rename_map.get(n, n): n for n in rename_map} if rename_map else {}
    wanted = {rename_map.get(n, n): dt for n, dt in policy.overrides.items()}
    bound = {n for st in iter_stmts(fn.body, defs=True) for n in _assigned(st)}
    unknown = [n for n in policy.overrides
               if rename_map.get(n, n) not in bound and rename_map.get(n, n) not in fn.params]
    if unknown:
        raise ArgumentError(f"precision overrides name {', '.join(map(repr, unknown))}, which {qualname} neither "
                            "takes as an argument nor assigns",
                            hint="name arguments or variables assigned in the function's own body (variables of "
                                 "functions it calls are renamed when they are inlined)")

    taken = _all_names(fn.body) | set(fn.params) | set(ns.reserved)

    def fresh(base):
        while base in taken:
            base += "_"
        taken.add(base)
        ns.reserved.add(base)
        return base

    raw = {}
    half = any(d.itemsize == 2 for d in (policy.primal, *policy.overrides.values()))

    def visit(body):
        # ``n = expr`` -> ``_n_raw = expr; n = _rt.at_precision(_n_raw, dt)``:
        # every binding of n is a cast, so n has one dtype (the planner
        # plans names whose definitions agree)
        out = []
        for st in body:
            for b in N.blocks(st):
                b[:] = visit(b)
            hit = [n for n in _assigned(st) if n in wanted and n not in fn.params]
            prod = _product(st) if half else None
            if prod is not None:
                # a 16-bit product by BLAS in float32, rounded once
                st.value = rt_call(ns, "half_matmul", *prod)
            if not hit:
                out.append(st)
                continue
            m = {n: raw.setdefault(n, fresh(f"_{n.lstrip('_')}_raw")) for n in hit}
            st.target = rename(st.target, m)
            st.origin = None
            out.append(st)
            out.extend(_cast(n, m[n], wanted[n], ns, st.loc) for n in hit)
        return out
    body = visit(fn.body)
    mapping, pro = {}, []
    for p in fn.params:
        if p in skip:
            continue
        dt = wanted.get(p, policy.dtype_of(users.get(p, p)))
        mapping[p] = new = fresh(f"{p}_{_SHORT.get(dt.name, dt.name)}")
        helper = "at_precision_items" if kinds.get(p) == "container" else "at_precision"
        pro.append(N.Assign(N.Name(new), rt_call(ns, helper, N.Name(p), dtype_expr(dt, ns))))
    for st in body:
        _rename_stmt(st, mapping)
    fn.body = pro + body
    return fn


def _product(st):
    """The operands of ``x = a @ b`` (or ``np.matmul(a, b)``), or None."""
    if not isinstance(st, N.Assign):
        return None
    v = st.value
    if isinstance(v, N.BinOp) and v.op == "MatMult":
        return v.left, v.right
    if isinstance(v, N.Call) and is_static(v.func) and static_value(v.func) is np.matmul and len(v.args) == 2 \
            and not v.kwargs:
        return tuple(v.args)
    return None


def _is_rt(e, helper):
    return isinstance(e, N.Call) and is_static(e.func) and static_value(e.func) is helper


def apply_policy(fdef, policy, ns):
    """The generated gradient ``fdef`` (IR) under ``policy``: the comment,
    the seed, and the gradients delivered at the adjoint dtype (changed in
    place and returned)."""
    seed = fdef.params[-1]
    adj = dtype_expr(policy.adjoint, ns)
    taken = _all_names(fdef.body) | set(fdef.params) | set(ns.reserved)
    cast = f"{seed}_{_SHORT.get(policy.adjoint.name, policy.adjoint.name)}"
    while cast in taken:
        cast += "_"
    ns.reserved.add(cast)
    for st in fdef.body:
        _rename_stmt(st, {seed: cast})
    pro = [N.Comment(f"precision policy: {policy.describe()} (s2sad.Precision)"),
           N.Assign(N.Name(cast), N.Call(adj, (N.Name(seed),)))]

    def widen(e):
        if _is_rt(e, _rt.grad_out) and len(e.args) == 2:
            return rt_call(ns, "grad_out_as", *e.args, adj)
        if _is_rt(e, _rt.astype_adjoint) and len(e.args) == 2:
            return N.Call(e.func, e.args + (adj,), e.kwargs)
        return None

    for st in iter_stmts(fdef.body, defs=True):
        _map_exprs(st, lambda e: rebuild(e, widen))
    fdef.body = pro + list(fdef.body)
    return fdef
