"""Reversible loops (``s2sad.reversible``): the exact forward step and its
inverse, driven by ``s2sad_runtime.reversible``.

Every loop-carried name must be updated once per iteration, at the top
level of the body, as ``x = x + e``, ``x = x - e``, ``x = c * x + e`` or
``x = c * x - e`` where ``e`` does not depend on ``x`` and ``c`` depends on
no carried name.  In fixed point the addition is undone exactly by
recomputing ``e``; the multiplication by ``c`` (a rational n/d) keeps the
bits it loses in an information buffer (Maclaurin, Duvenaud & Adams 2015).
The loop reuses the checkpointed machinery (:mod:`.checkpoint`): the same
step function and one-step adjoint generator, plus ``_loopN_exact`` and
``_loopN_inverse``.
"""

from __future__ import annotations

from s2sad.errors import UnsupportedSyntaxError
from s2sad.ir import nodes as N
from s2sad.ir.visit import head_exprs, iter_stmts, names, targets


def _rv(tr):
    import s2sad_runtime.reversible as R
    return N.Static(tr.ns.ref(R, "_rv"), R)


def driver(tr, st, body, carried, target, name, opts, step_fn, adj_fn):
    """(driver expression, [exact step, inverse step])."""
    exact_fn, inverse_fn, scaled = steps(tr, st, body, carried, target, name, opts, adj_fn)
    rv = _rv(tr)
    if opts.residuals:
        drv = N.Call(N.Attr(rv, "ReversibleResidual"),
                     (N.Name(step_fn.name), N.Name(adj_fn.name), N.Name(inverse_fn.name), st.iter))
    else:
        drv = N.Call(N.Attr(rv, "Reversible"),
                     (N.Name(step_fn.name), N.Name(adj_fn.name), N.Name(exact_fn.name), N.Name(inverse_fn.name),
                      st.iter, N.Tuple(tuple(N.Const(c in scaled) for c in carried)), opts.frac_bits,
                      opts.checkpoint_every if opts.checkpoint_every is not None else N.Const(None)))
    return drv, [f for f in (exact_fn, inverse_fn) if f is not None]


def _stmt_names(x):
    """Every local name in an expression or a statement (nested blocks
    included)."""
    if isinstance(x, N.Expr):
        return names(x)
    out = []
    for s in iter_stmts([x]):
        out += targets(s)
        for e in head_exprs(s):
            out += names(e)
    return out


def _stores(st):
    return set(targets(st)) | {t for s in iter_stmts([st]) for t in targets(s)}


def writes_in_place(st):
    """A statement with an effect beyond binding names (an element write,
    a bare call): always recomputed."""
    return any(isinstance(s, N.Eval) or (isinstance(s, N.Assign) and isinstance(s.target, N.Sub))
               for s in iter_stmts([st]))


def body_deps(body, atom, upto, carried=()):
    """Names that ``atom`` depends on through the statements of ``body``
    before position ``upto`` (not looking through carried names, whose
    current value is the one the statement saw)."""
    deps = set()
    todo = [atom]
    seen = set()
    while todo:
        a = todo.pop()
        for n in _stmt_names(a):
            if n in seen:
                continue
            seen.add(n)
            deps.add(n)
            if n in carried:
                continue
            for j in range(upto - 1, -1, -1):
                if n in _stores(body[j]):
                    todo.append(body[j])
                    break
    return deps


def steps(tr, st, body, carried, target, name, opts, adj_fn):
    loc = opts.loc or st.loc
    defs = {}
    for i, s2 in enumerate(body):
        for t in targets(s2):
            defs.setdefault(t, []).append(i)
    updates = {}
    scaled = set()
    update_pos = {defs[c][0]: c for c in carried if len(defs.get(c, [])) == 1}
    cs = set(carried)
    for c in carried:
        where = defs.get(c, [])
        if len(where) != 1 or not isinstance(body[where[0]], N.Assign):
            bad = body[where[-1]] if where else st
            raise tr.err(UnsupportedSyntaxError, bad.loc if where else loc,
                         f"a reversible loop must update `{c}` exactly once per iteration, at the top of the body",
                         f"write one update `{c} = {c} + e` or `{c} = c * {c} + e` (e not depending on {c})")
        i = where[0]
        s2 = body[i]
        v = s2.value
        ok = isinstance(v, N.BinOp) and v.op in ("Add", "Sub")
        scale = None
        b = None
        if ok:
            a, b = v.left, v.right
            if isinstance(a, N.Name) and a.id == c:
                pass
            elif isinstance(a, N.Name) and len(defs.get(a.id, [])) == 1 and isinstance(body[defs[a.id][0]], N.Assign) \
                    and isinstance(body[defs[a.id][0]].value, N.BinOp) and body[defs[a.id][0]].value.op == "Mult":
                m = body[defs[a.id][0]].value
                if isinstance(m.right, N.Name) and m.right.id == c:
                    scale = m.left
                elif isinstance(m.left, N.Name) and m.left.id == c:
                    scale = m.right
                else:
                    ok = False
            else:
                ok = False
        if ok:
            deps_b = body_deps(body, b, i, cs)
            deps_s = body_deps(body, scale, i, cs) if scale is not None else set()
            if c in deps_b or deps_s & cs:
                ok = False
            # what the update reads is recomputed when it is undone: no
            # carried name it depends on may change between the two
            for j in range(i):
                if j in update_pos or not targets(body[j]):
                    continue
                if not set(targets(body[j])) & (deps_b | deps_s):
                    continue
                read = body_deps(body, body[j], j, cs) & cs
                if any(update_pos[k] in read for k in update_pos if j < k < i):
                    ok = False
        if not ok:
            raise tr.err(UnsupportedSyntaxError, s2.loc or loc,
                         f"cannot invert this update of `{c}`: a reversible loop needs `{c} = {c} + e`, "
                         f"`{c} = {c} - e`, `{c} = c * {c} + e` or `{c} = c * {c} - e` with e not depending "
                         f"on `{c}` and c depending on no loop state",
                         "rewrite the update in one of these forms, or use s2sad.checkpointed for this loop")
        updates[i] = (c, v.op == "Add", b, scale)
        if scale is not None:
            scaled.add(c)
    rv = _rv(tr)
    F = opts.frac_bits

    def prologue():
        # the state in fixed point and (the same values) in floating point
        return [N.Assign(N.Tuple(tuple(N.Name(c + "_q") for c in carried)), N.Name("_q")),
                N.Assign(N.Tuple(tuple(N.Name(c) for c in carried)), N.Name("_x"))]

    def state_out():
        return [N.Tuple(tuple(N.Name(c + "_q") for c in carried)), N.Tuple(tuple(N.Name(c) for c in carried))]

    # `m = c * x` feeding the update `x = m + e` is replaced by the exact
    # multiplication: not computed at all unless something else reads it
    scale_stmts = set()
    for i, (c, _, _, scale) in updates.items():
        if scale is not None:
            m = body[i].value.left.id
            j = defs[m][0]
            if sum(n == m for s2 in body for n in _loads(s2)) == 1:
                scale_stmts.add(j)

    def exact_update(i, inverse):
        # c_q, c = _rv.update(c_q, e, sign, F[, n, d, buffer]), or _rv.undo
        c, is_add, b, scale = updates[i]
        args = [N.Name(c + "_q"), b, N.Const(1 if is_add else -1), F]
        if scale is not None:
            # a large denominator makes n/d equal c to double precision;
            # the buffer grows by log2(d/n) bits either way
            args += [N.Starred(N.Call(N.Attr(rv, "rational_approx"), (scale, N.Const(2 ** 24)))),
                     N.Sub(N.Name("_bufs"), N.Const(carried.index(c)))]
        return [N.Assign(N.Tuple((N.Name(c + "_q"), N.Name(c))),
                         N.Call(N.Attr(rv, "undo" if inverse else "update"), tuple(args)))]

    def run_of(stmts):
        if not stmts:
            return []
        tr.primal_only = True
        try:
            return tr.fwd_block(stmts)
        finally:
            tr.primal_only = False

    fwd = prologue()
    pending = []
    for i, s2 in enumerate(body):
        if i in updates:
            fwd += run_of(pending) + exact_update(i, False)
            pending = []
        elif i not in scale_stmts:
            pending.append(s2)
    fwd += run_of(pending)
    fwd.append(N.Return(N.Tuple(tuple(state_out()))))
    exact_fn = N.FunctionDef(f"{name}_exact", [target, "_q", "_x", "_bufs"], fwd)

    def needed_before(i):
        """The statements before update ``i`` that its increment and scale
        depend on (the rest of the body need not be recomputed)."""
        c, is_add, b, scale = updates[i]
        deps = body_deps(body, b, i, cs)
        if scale is not None:
            deps |= body_deps(body, scale, i, cs)
        return [j for j in range(i) if j not in updates and (writes_in_place(body[j]) or _stores(body[j]) & deps)]

    # a statement recomputed for one update is reused by the next (earlier)
    # one unless an update inverted in between changed a carried name it
    # depends on; only when every name it assigns is assigned once
    stores = [_stores(s2) for s2 in body]
    single = {n for n in set().union(*stores) if sum(n in s for s in stores) == 1} if stores else set()

    def reads_state(j):
        return (body_deps(body, body[j], j, cs) | set(_loads(body[j]))) & cs

    inv = prologue()
    valid = set()
    for i in sorted(updates, reverse=True):
        # recompute what the update read, from the state it saw
        todo = [j for j in needed_before(i) if j not in valid]
        inv += run_of([body[j] for j in todo])
        valid |= {j for j in todo if stores[j] and stores[j] <= single and not writes_in_place(body[j])}
        inv += exact_update(i, True)
        changed = updates[i][0]
        valid = {j for j in valid if changed not in reads_state(j)}
    if opts.residuals:
        # the same inverse in floating point, corrected by stored residuals
        finv = []
        for i in sorted(updates, reverse=True):
            finv += run_of([body[j] for j in needed_before(i)])
            c, is_add, b, scale = updates[i]
            finv.append(N.Assign(N.Name(c), N.BinOp("Sub" if is_add else "Add", N.Name(c), b)))
            if scale is not None:
                finv.append(N.Assign(N.Name(c), N.BinOp("Div", N.Name(c), scale)))
        finv.append(N.Return(N.Tuple(tuple(N.Name(c) for c in carried))))
        inverse_fn = N.FunctionDef(f"{name}_inverse", [target] + carried, finv)
        return None, inverse_fn, scaled
    # what the inverse computed from the restored state is what the
    # one-step adjoint would recompute first: it is handed over
    handed = hand_over(tr, adj_fn, [body[j] for j in sorted(valid)], len(carried))
    inv.append(N.Return(N.Tuple(tuple(state_out() + [N.Tuple(tuple(N.Name(v) for v in handed))]))))
    inverse_fn = N.FunctionDef(f"{name}_inverse", [target, "_q", "_x", "_bufs"], inv)
    return exact_fn, inverse_fn, scaled


def _loads(st):
    out = []
    for s in iter_stmts([st]):
        for e in head_exprs(s):
            out += names(e)
    return out


def hand_over(tr, adj_fn, stmts, n_state):
    """Drop from the one-step adjoint's recomputation the statements in
    ``stmts`` (computed by the inverse step, from the same state) and make
    the names they assign that the adjoint still reads parameters.
    Returns those names."""
    keys = {s2.sid for s2 in stmts}
    top = adj_fn.body
    # the recomputation ends at the yield of the state
    end = next(i for i, s2 in enumerate(top) if isinstance(s2, N.Assign) and isinstance(s2.value, N.Yield))
    dropped, keep, emptied = [], [], set()
    for i, s2 in enumerate(top):
        if i < end and tr.copied_from.get(s2.sid) in keys:
            dropped.extend(targets(s2))
            if keep and isinstance(keep[-1], N.Comment):
                emptied.add(len(keep) - 1)
        else:
            keep.append(s2)
    loads = set()
    for s2 in keep:
        loads.update(_loads(s2))
    handed = [v for v in dropped if v in loads]
    # a source line whose statements all moved keeps its comment, marked
    for i in emptied:
        nxt = keep[i + 1]
        if isinstance(nxt, N.Comment) or isinstance(nxt, N.Assign) and isinstance(nxt.value, N.Yield):
            keep[i] = N.Comment(keep[i].text + "  (computed by the inverse step)")
    adj_fn.body = keep
    adj_fn.params = adj_fn.params[:1 + n_state] + handed
    return handed
