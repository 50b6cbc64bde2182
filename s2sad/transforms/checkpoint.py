"""Checkpointed loops (``s2sad.checkpointed``, ``loops=s2sad.Checkpoint``).

A checkpointed loop becomes two nested functions of its loop-carried state
(:func:`carried_state`): ``_loopN_step(t, *state)``, the primal body, and
``_loopN_adjoint(t, *state)``, a *generator* that runs the body with its
own saves, yields the step's result, receives the adjoint of that result
and yields the adjoint of its input -- its frame is the one-step tape.
Adjoints of values the body only reads (``W_adj``) are accumulated through
``nonlocal``.  ``_rt.Checkpointed`` / ``_rt.CheckpointedWhile`` drive the
two on the binomial (Revolve) or online schedule of
``s2sad_runtime.checkpoint``.  Reversible loops reuse this machinery, with
two more functions (:mod:`s2sad.transforms.reversible`).
"""

from __future__ import annotations

import numpy.random as npr

from s2sad.analysis.prims import static_value
from s2sad.errors import UnsupportedSyntaxError
from s2sad.ir import nodes as N
from s2sad.ir.visit import has_jump, head_exprs, iter_stmts, names, reads, stores, targets, walk, written_base


def fwd_checkpointed(tr, st, opts):
    """Forward-sweep code of a checkpointed loop: the step, its one-step
    adjoint, the driver, and the driver's forward run."""
    loc = opts.loc or st.loc
    if tr.loop_depth > 0:
        raise tr.err(UnsupportedSyntaxError, loc, "a checkpointed loop inside another loop is not supported yet",
                     "checkpoint the outer loop, or use the default tape for this one")
    if has_jump(st.body, N.Break):
        raise tr.err(UnsupportedSyntaxError, loc, "`break` in a checkpointed loop is not supported: the "
                     "schedule needs the number of steps in advance", "compute the number of steps first, "
                     "or use the default tape for this loop")
    body = st.body
    is_for = isinstance(st, N.For)
    if not is_for and not isinstance(st.test, N.Name):
        raise tr.err(UnsupportedSyntaxError, loc, "a checkpointed `while` loop needs a test that changes "
                     "in the loop", "use the default tape for this loop")
    target = st.target if is_for else tr.fresh("k")
    carried = carried_state(tr, st, body)
    for s2 in iter_stmts(body):
        v = getattr(s2, "value", None)
        if isinstance(s2, N.Eval) and isinstance(v, N.Call) and isinstance(v.func, N.Attr) \
                and isinstance(v.func.value, N.Name) and v.func.attr in _CONTAINER_CHANGES \
                and v.func.value.id not in carried:
            # the schedule runs steps again: a list grown by the body would grow again
            raise tr.err(UnsupportedSyntaxError, s2.loc or loc,
                         f"`{v.func.value.id}.{v.func.attr}()` in a checkpointed loop changes a list made outside "
                         "it, and the checkpoint schedule runs steps again",
                         "use the default tape for this loop, or build the list after it")
    _refuse_shared_writes(tr, body, carried, loc)
    name = tr.fresh("loop")
    tr.ck[st.sid] = {"name": name, "carried": carried}
    head = N.Comment(tr.line_comment(st))
    outer = (set(tr.top_assigned), set(tr.top_definite))
    # 1. the primal step
    tr.primal_only = True
    try:
        step_body = tr.fwd_block(body)
    finally:
        tr.primal_only = False
    step_body.append(N.Return(_names_tuple(carried)))
    step_fn = N.FunctionDef(f"{name}_step", [target] + carried, step_body)
    # 2. the one-step adjoint, a generator holding the step's tape
    active_carried = [c for c in carried if c in tr.active]
    assigned = stores(body) | {target}
    mentioned = _mentioned(body)
    outer_acc = sorted(v for v in mentioned if v in tr.active and v not in assigned and v not in carried)
    tr.replay_reads |= {v for v in mentioned if v not in assigned and v not in carried}
    saved = (tr.loop_depth, tr.top_assigned, tr.top_definite, tr.uses_stack, tr.none_init, tr.extra_params,
             tr.frame_params)
    tr.loop_depth, tr.uses_stack = 0, False
    tr.frame_params = set(carried) | {target}
    tr.top_assigned, tr.top_definite = set(carried) | {target}, set(carried) | {target}
    tr.none_init, tr.extra_params = set(), frozenset(carried)
    try:
        fwd = tr.fwd_block(body)
        S0 = set(active_carried) | set(outer_acc)
        rev, S1 = tr.rev_block(body, S0)
        rev += tr.zeros_for([c for c in active_carried if c not in S1])
        inner_stack, inner_none = tr.uses_stack, tr.none_init
    finally:
        (tr.loop_depth, tr.top_assigned, tr.top_definite, tr.uses_stack, tr.none_init, tr.extra_params,
         tr.frame_params) = saved
    gen = []
    if outer_acc:
        gen.append(N.Nonlocal(tuple(tr.adj(v) for v in outer_acc)))
    if inner_stack:
        gen.append(N.Assign(N.Name("_stack"), N.List(())))
    gen += [N.Assign(N.Name(v), N.Const(None)) for v in sorted(inner_none) if v not in carried and v != target]
    gen += fwd
    adj_names = [tr.adj(c) for c in active_carried]
    gen.append(N.Assign(_names_tuple(adj_names), N.Yield(_names_tuple(carried))))
    gen.append(N.Comment("reverse of one step"))
    gen += rev
    gen.append(N.Eval(N.Yield(_names_tuple(adj_names))))
    adj_fn = N.FunctionDef(f"{name}_adjoint", [target] + carried, gen)
    tr.ck[st.sid].update(active=active_carried, outer_acc=outer_acc)
    # 3. the driver (what the step functions bound is not bound out here)
    tr.top_assigned, tr.top_definite = outer
    rngs = [N.Name(v) for v in sorted(v for v in mentioned if v not in assigned)] + _random_states(tr, body)
    writes_in_place = _writes_state(tr, body, carried)
    for c in carried:
        if c not in tr.frame_params and c not in tr.top_definite:
            tr.none_init.add(c)     # not bound before the loop on every path
    snaps = opts.snapshots if opts.snapshots is not None else N.Const(None)
    check = opts.check if opts.check is not None else N.Const(False)
    if is_for:
        drv = tr.rt("Checkpointed", N.Name(step_fn.name), N.Name(adj_fn.name), st.iter, snaps,
                    N.Tuple(tuple(rngs)), check, N.Const(writes_in_place))
    else:
        drv = tr.rt("CheckpointedWhile", N.Name(step_fn.name), N.Name(adj_fn.name),
                    N.Const(carried.index(st.test.id)), snaps, N.Tuple(tuple(rngs)), check, N.Const(writes_in_place))
    extra_fns = []
    if opts.kind == "reversible":
        from s2sad.transforms import reversible
        drv, extra_fns = reversible.driver(tr, st, body, carried, target, name, opts, step_fn, adj_fn)
        tr.top_assigned, tr.top_definite = outer
    tr.top_assigned.update(carried)
    tr.top_definite.update(carried)
    out = [head, step_fn, adj_fn] + extra_fns + [
        N.Assign(N.Name(name), drv),
        N.Assign(_names_tuple(carried), N.Call(N.Attr(N.Name(name), "forward"), (_names_tuple(carried),)))]
    if is_for and target in _read_outside(tr, st):
        # the loop variable keeps its last value after the loop, as in Python
        if target not in tr.frame_params and target not in tr.top_definite:
            tr.none_init.add(target)
        tr.restores[st.sid] = []
        if tr.must_save(target) and (target in tr.top_assigned or target in tr.frame_params):
            out.extend(tr.save_code(target, st))
        out.append(N.Assign(N.Name(target), N.Call(N.Attr(N.Name(name), "last"), (N.Name(target),))))
        tr.top_assigned.add(target)
    return out


_CONTAINER_CHANGES = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
                      "setdefault", "popitem"}


def _refuse_shared_writes(tr, body, carried, loc):
    """The schedule runs steps again from snapshots of the carried state,
    each value copied on its own.  An array written in place that another
    name read in the loop also reaches (`u = x` before the loop, `e += u`
    in it) would come back from a snapshot as separate copies, and the
    replayed steps would compute something else: refused, naming the line."""
    read = set()
    for s2 in iter_stmts(body):
        read |= set(reads(s2))
    for s2 in iter_stmts(body):
        base = written_base(s2)
        if base is None or s2.sid not in tr.aliases.at:
            continue
        other = sorted(n for n in (tr.aliases.sharing(s2.sid, base) & read) - {base} if not n.startswith("_"))
        if other:
            raise tr.err(UnsupportedSyntaxError, s2.loc or loc,
                         f"this line writes into `{base}` in place in a checkpointed loop, and `{other[0]}`, read in "
                         "the loop, may share that memory: the checkpoint schedule runs steps again from snapshots "
                         "that copy each name on its own, which would part them",
                         f"copy `{base}` before the loop (`{base} = {base}.copy()`) if the loop is not meant to "
                         f"change `{other[0]}`, or use the default tape for this loop")


def _writes_state(tr, body, carried):
    """Does the body write into the memory of its loop-carried state (by
    its name or through a view or alias of it)?  The driver then copies
    the snapshots it keeps."""
    carried = set(carried)
    for s2 in iter_stmts(body):
        base = written_base(s2)
        if base is None:
            continue
        if base in carried or s2.sid not in tr.aliases.at or tr.aliases.sharing(s2.sid, base) & carried:
            return True
    return False


def rev_checkpointed(tr, st, state):
    ck = tr.ck[st.sid]
    out = []
    # a zero adjoint for what nothing after the loop read: shaped like the
    # loop's final value (the driver kept it; the name may be rebound since)
    adj_in = [N.Name(tr.adj(c)) if c in state else
              tr.rt("zeros_like", N.Sub(N.Attr(N.Name(ck["name"]), "final"), N.Const(ck["carried"].index(c))))
              for c in ck["active"]]
    out += tr.zeros_for([v for v in ck["outer_acc"] if v not in state])
    out.append(N.Comment(tr.line_comment(st, "adjoint of ")))
    out.append(N.Assign(_names_tuple([tr.adj(c) for c in ck["active"]]),
                        N.Call(N.Attr(N.Name(ck["name"]), "reverse"), (N.Tuple(tuple(adj_in)),))))
    out.append(N.Assign(_names_tuple(ck["carried"]), N.Attr(N.Name(ck["name"]), "initial")))
    out.extend(tr.restore_code(st))      # the loop variable, when it was kept after the loop
    new_state = (set(state) - set(ck["carried"])) | set(ck["active"]) | set(ck["outer_acc"])
    return out, new_state


def _names_tuple(ns):
    return N.Tuple(tuple(N.Name(n) for n in ns))


def _mentioned(body):
    """Every local name the statements of ``body`` read or bind."""
    out = set()
    for s2 in iter_stmts(body):
        out.update(targets(s2))
        for e in head_exprs(s2):
            out.update(names(e))
    return out


def _random_states(tr, body):
    """Static random generators the body draws from (the driver saves and
    restores their state with each snapshot)."""
    out, seen = [], set()
    for s2 in iter_stmts(body):
        for e in head_exprs(s2):
            for x in walk(e):
                if isinstance(x, N.Static) and isinstance(x.obj, (npr.Generator, npr.RandomState)) \
                        and id(x.obj) not in seen:
                    seen.add(id(x.obj))
                    out.append(x)
                elif isinstance(x, N.Attr) and getattr(static_value(x), "__self__", None) is npr.mtrand._rand \
                        and id(npr.mtrand._rand) not in seen:
                    seen.add(id(npr.mtrand._rand))
                    out.append(N.Static(tr.ns.ref(npr.mtrand._rand, "_global_rng"), npr.mtrand._rand))
    return out


def _read_outside(tr, st):
    """Names read by statements outside loop ``st``."""
    inside = {id(s2) for s2 in iter_stmts(st.body)}
    out = set()
    for s2 in iter_stmts(tr.fn.body):
        if s2 is not st and id(s2) not in inside:
            out.update(reads(s2))
    return out


def carried_state(tr, st, body):
    """Loop-carried variables: assigned in the body and either read in an
    iteration before the body assigns them, or read after the loop."""
    target = st.target if isinstance(st, N.For) else "_k"
    assigned = stores(body) | {written_base(s2) for s2 in iter_stmts(body) if written_base(s2)}
    exposed, _ = exposed_reads(body, {target})
    inside = {id(s2) for s2 in iter_stmts(body)}
    after = set()
    for s2 in iter_stmts(tr.fn.body):
        if s2 is st or id(s2) in inside:
            continue
        after.update(reads(s2))
    carried = (assigned & (exposed | after)) - {target}
    if isinstance(st, N.While) and isinstance(st.test, N.Name):
        carried.add(st.test.id)
    return sorted(carried)


def exposed_reads(stmts, defined):
    """(names read before being bound in ``stmts``, names bound on every path)."""
    exposed = set()
    defined = set(defined)
    for s2 in stmts:
        if isinstance(s2, N.Assign):
            exposed |= set(reads(s2)) - defined
            defined |= set(targets(s2))
        elif isinstance(s2, N.Eval):
            exposed |= set(names(s2.value)) - defined
        elif isinstance(s2, N.If):
            exposed |= set(names(s2.test)) - defined
            e1, d1 = exposed_reads(s2.body, defined)
            e2, d2 = exposed_reads(s2.orelse, defined)
            exposed |= e1 | e2
            defined = d1 & d2
        elif isinstance(s2, N.For):
            exposed |= set(names(s2.iter)) - defined
            e, _ = exposed_reads(s2.body, defined | {s2.target})
            exposed |= e
        elif isinstance(s2, N.While):
            exposed |= set(names(s2.test)) - defined
            e, _ = exposed_reads(s2.body, defined)
            exposed |= e
    return exposed, defined
