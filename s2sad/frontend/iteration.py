"""Loops during normalization.

``for i in range(...)`` stays a counted loop.  Any other iterable (an
array, a list, ``zip``, ``enumerate``, ``reversed``) becomes a loop over
indices, so the reverse sweep can recompute each element instead of storing
it.  As in Python, the iterable (and a ``range``'s bounds) are evaluated
once, before the loop: a body that rebinds the name it iterates over does
not change the iteration.  A ``while`` test is recomputed at the end of the
body into the same name.  ``s2sad.checkpointed(...)`` and
``s2sad.reversible(...)`` around an iterable or a test become the loop's
:class:`~s2sad.ir.nodes.LoopStrategy`.  Comprehensions become loops
appending to a fresh list, their variables renamed so they do not leak.
"""

from __future__ import annotations

import builtins

from s2sad.frontend import syntax as S
from s2sad.frontend.atoms import Lowered
from s2sad.ir import nodes as N
from s2sad.ir import visit as V
from s2sad.ir.visit import is_static, static_value


def _rebound_in(nz, stmts, target=None):
    """Generated names of the locals that ``stmts`` (gast, in the current
    scope) bind, plus the loop target's."""
    out = set()
    nodes = list(stmts) + ([target] if target is not None else [])
    for st in nodes:
        for n in S.walk(st):
            if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del)):
                r = nz.lookup(n.id)
                if r is not None and r[0] == "local":
                    out.add(r[1])
    return out


def _pinned(nz, atom, rebound, node):
    """``atom`` itself, or a copy of it in a fresh name when the loop body
    rebinds it (the loop keeps the value it started with)."""
    if isinstance(atom, N.Name) and atom.id in rebound:
        t = nz.fresh()
        nz.assign(t, atom, node)
        return N.Name(t)
    return atom


def _is_builtin(nz, node, obj):
    if not isinstance(node, (S.Name, S.Attribute)):
        return False
    r = nz.resolve(node)
    return is_static(r) and static_value(r) is obj


def _strategy_func(nz, node, name):
    if not isinstance(node, (S.Name, S.Attribute)):
        return False
    import s2sad_runtime.loops as L
    r = nz.resolve(node)
    return is_static(r) and static_value(r) is getattr(L, name)


def strategy_of(nz, it, st):
    """(strategy, the iterable or test inside the annotation)."""
    if not isinstance(it, S.Call):
        return None, it
    if _strategy_func(nz, it.func, "checkpointed"):
        if len(it.args) < 1 or len(it.args) > 2:
            raise nz.error(it, "checkpointed(iterable, snapshots=N) takes the loop's iterable and a snapshot count")
        snaps = nz.atom(it.args[1]) if len(it.args) == 2 else None
        check = N.Const(False)
        for k in it.keywords:
            if k.arg == "snapshots":
                snaps = nz.atom(k.value)
            elif k.arg == "check":
                check = nz.atom(k.value)
            elif k.arg == "online":
                pass   # a for loop's length is known: the offline schedule is optimal
            else:
                raise nz.error(k.value, f"checkpointed() has no option `{k.arg}`",
                               "the options are snapshots= and check=")
        return N.LoopStrategy("checkpoint", snapshots=snaps, check=check, loc=nz.loc(it)), it.args[0]
    if _strategy_func(nz, it.func, "reversible"):
        opts = {"frac_bits": N.Const(48), "checkpoint_every": None, "residuals": False}
        for k in it.keywords:
            if k.arg in ("frac_bits", "checkpoint_every"):
                opts[k.arg] = nz.atom(k.value)
            elif k.arg == "residuals":
                if not (isinstance(k.value, S.Constant) and isinstance(k.value.value, bool)):
                    raise nz.error(k.value, "residuals= must be True or False, written in the call")
                opts["residuals"] = k.value.value
            else:
                raise nz.error(k.value, f"reversible() has no option `{k.arg}`",
                               "the options are frac_bits=, residuals= and checkpoint_every=")
        return N.LoopStrategy("reversible", check=N.Const(False), loc=nz.loc(it), **opts), it.args[0]
    return None, it


def lower_for(nz, st, body_fn=None, first_iter=None):
    """Lower a gast ``for`` (``body_fn``: lowers the body instead of
    ``st.body``; ``first_iter``: the iterable already lowered)."""
    if getattr(st, "orelse", None):
        raise nz.error(st, "`for ... else` is not supported", "set a flag before `break` and test it after the loop")
    target = st.target
    line = st.lineno
    strategy, it = (None, st.iter) if first_iter is not None else strategy_of(nz, st.iter, st)
    body_nodes = st.body
    rebound = _rebound_in(nz, body_nodes, target) if body_fn is None else set()

    def body():
        return nz.block(body_nodes) if body_fn is None else nz.sub_block(body_fn)
    if first_iter is None and isinstance(it, S.Call) and _is_builtin(nz, it.func, range) \
            and not it.keywords and isinstance(target, S.Name):
        args = [_pinned(nz, nz.atom(a), rebound, st) for a in it.args]
        iter_node = N.Call(nz.builtin("range"), tuple(args))
        b = body()
        nz.line, nz.node = line, st
        nz.emit(N.For(nz.local(target.id, target), iter_node, b, strategy=strategy), st)
        return
    # any other iterable: index it with a counter, so the reverse sweep can
    # recover each element without storing it
    seq, unpack = iterable(nz, it, rebound, st) if first_iter is None else (first_iter, None)
    k = nz.fresh()
    n = nz.fresh()
    nz.line, nz.node = line, st
    nz.assign(n, N.Call(nz.builtin("len"), (seq,)), st)
    saved = nz.out
    nz.out = []
    nz.line = line
    if unpack is None:
        nz.assign_to(target, _lowered(N.Sub(seq, N.Name(k))), st)
    else:
        unpack(target, k, st)
    pre = nz.out
    nz.out = saved
    b = pre + body()
    nz.line, nz.node = line, st
    nz.emit(N.For(k, N.Call(nz.builtin("range"), (N.Name(n),)), b, strategy=strategy), st)


def _lowered(e):
    return Lowered(e)


def iterable(nz, it, rebound, st):
    """(sequence atom, unpack function or None) for a loop's iterable."""
    f = nz.resolve(it.func) if isinstance(it, S.Call) and isinstance(it.func, (S.Name, S.Attribute)) else None
    fobj = static_value(f) if is_static(f) else None
    if fobj is zip and not it.keywords:
        seqs = [_pinned(nz, nz.atom(a), rebound, st) for a in it.args]
        n = nz.fresh()
        lens = [N.Call(nz.builtin("len"), (s,)) for s in seqs]
        if len(seqs) > 1:
            tmps = []
            for ln in lens:
                t = nz.fresh()
                nz.assign(t, ln, st)
                tmps.append(N.Name(t))
            nz.assign(n, N.Call(nz.builtin("min"), tuple(tmps)), st)
        else:
            nz.assign(n, lens[0], st)
        rng_atom = nz.fresh()
        nz.assign(rng_atom, N.Call(nz.builtin("range"), (N.Name(n),)), st)

        def unpack(target, k, st):
            if not isinstance(target, (S.Tuple, S.List)) or len(target.elts) != len(seqs):
                raise nz.error(target, "unpack zip(...) into as many names as it has sequences")
            for t, s in zip(target.elts, seqs):
                nz.assign_to(t, _lowered(N.Sub(s, N.Name(k))), st)
        return N.Name(rng_atom), unpack
    if fobj is enumerate and len(it.args) == 1 and not it.keywords:
        inner, inner_unpack = iterable(nz, it.args[0], rebound, st)

        def check(target):
            if not isinstance(target, (S.Tuple, S.List)) or len(target.elts) != 2:
                raise nz.error(target, "unpack enumerate(...) into two names: `for i, x in enumerate(xs)`")
        if inner_unpack is not None:
            # inner is a range over indices; element k of it is k
            def unpack2(target, k, st):
                check(target)
                nz.assign_to(target.elts[0], _lowered(N.Name(k)), st)
                inner_unpack(target.elts[1], k, st)
            return inner, unpack2

        def unpack(target, k, st):
            check(target)
            nz.assign_to(target.elts[0], _lowered(N.Name(k)), st)
            nz.assign_to(target.elts[1], _lowered(N.Sub(inner, N.Name(k))), st)
        return inner, unpack
    if fobj is reversed and len(it.args) == 1:
        seq = nz.atom(it.args[0])
        r = nz.fresh()
        nz.assign(r, N.Call(nz.builtin("list"), (N.Call(nz.builtin("reversed"), (seq,)),)), st)
        return N.Name(r), None
    return _pinned(nz, nz.atom(it), rebound, st), None


def lower_while(nz, st):
    if st.orelse:
        raise nz.error(st, "`while ... else` is not supported", "set a flag before `break` and test it after the loop")
    strategy, test_node = strategy_of(nz, st.test, st)
    if strategy is not None and strategy.kind != "checkpoint":
        raise nz.error(st.test, "a while loop can be checkpointed, not reversed", "use s2sad.checkpointed(...)")
    test = nz.atom(test_node)
    body = nz.block(st.body)
    nz.line, nz.node = st.lineno, st
    retest = nz.sub_block(lambda: _retest(nz, test, test_node, st))
    for r in retest:
        if isinstance(r, (N.Assign, N.If)):
            r.origin = "retest"
    nz.line, nz.node = st.lineno, st
    nz.emit(N.While(test, body + retest, strategy=strategy), st)


def _retest(nz, test, test_node, st):
    """Recompute the test at the end of the body into the same name."""
    t2 = nz.atom(test_node)
    if not isinstance(test, N.Name) or test.id not in nz.locals:
        return      # `while flag:` re-reads the same local; `while True:` is constant
    last = nz.out[-1] if nz.out else None
    if isinstance(last, N.Assign) and isinstance(last.target, N.Name) and isinstance(t2, N.Name) \
            and last.target.id == t2.id:
        last.target = N.Name(test.id)
    elif nz.out:
        nz.assign(test.id, t2, st)


def lower_comprehension(nz, n):
    """``[e for x in xs if c]`` -> a loop appending to a fresh list."""
    res = nz.fresh()
    nz.assign(res, N.List(()), n)
    gens = list(n.generators)
    for g in gens:
        if getattr(g, "is_async", 0):
            raise nz.error(n, "an async comprehension cannot be differentiated")
    saved = (nz.line, nz.node)
    depth = len(nz.scope_stack)

    def level(i):
        g = gens[i]
        # the iterable is evaluated outside the generator's own variables
        it = g.iter
        pre = None
        if isinstance(it, S.Call) and _is_builtin(nz, it.func, range) and not it.keywords \
                and isinstance(g.target, S.Name):
            it = S.Call(func=it.func, args=[Lowered(nz.atom(a)) for a in it.args], keywords=[])
        else:
            pre = nz.atom(it)
        nz.push_comp_scope({t.id: nz.fresh() for t in S.walk(g.target) if isinstance(t, S.Name)})

        def body():
            conds = list(g.ifs)

            def inner(j):
                if j < len(conds):
                    c = nz.atom(conds[j])
                    nz.emit(N.If(c, nz.sub_block(lambda: inner(j + 1))), n)
                elif i + 1 < len(gens):
                    level(i + 1)
                else:
                    nz.emit(N.Eval(N.Call(N.Attr(N.Name(res), "append"), (nz.atom(n.elt),))), n)
            inner(0)
        loop = S.For(target=g.target, iter=it, body=[], orelse=[], type_comment=None)
        loop.lineno, loop.col_offset = n.lineno, n.col_offset
        loop.end_lineno, loop.end_col_offset = getattr(n, "end_lineno", None), getattr(n, "end_col_offset", None)
        lower_for(nz, loop, body_fn=body, first_iter=pre)

    try:
        level(0)
    finally:
        del nz.scope_stack[depth:]
        nz.line, nz.node = saved
    return N.Name(res)
