"""In-place adjoint accumulation: an element loop's reverse sweep at O(1) per
element read instead of O(n).

The reverse transform writes the adjoint of a read ``u[j]`` as
``u_adj = u_adj + _rt.index_adjoint(g, u, j)`` and the adjoint of a write
``u[j] = v`` as ``u_adj = _rt.zero_slot(u_adj, j)``: each builds an array the
size of ``u``.  This pass rewrites them to ``_rt.index_accumulate_inplace``
and ``_rt.zero_slot_inplace``, which change ``u_adj``'s array itself (they
fall back to the copy where values or dtype could differ), wherever the
array is *owned*: no other name that is read later may refer to it.

Ownership is a forward may-share analysis over the generated function.
Each name maps to the *tokens* of the arrays it may refer to: one per
allocating statement, ``EXT`` for anything from outside (parameters,
globals, the tape).  Arithmetic makes a new array (but ``ZERO + x`` is
``x``, so ``+`` and ``-`` may also return an operand), a view or an unknown
call may return its operands' arrays, a push or a call for its effect lets
the array escape for good.  A candidate is rewritten when its name's
tokens are not external, have not escaped, and are shared with no other
name live after it (a backward liveness pass) or read by the statement.
Adjoint slot reads ``u_adj[j]`` of a rewritten name are made copies
(``_rt.copy_slot``) first: the piece of ``u_adj`` a write passes on must
not change when the slot is zeroed in place.

Generated code with these helpers can be differentiated again: the
frontend reads each as its copying twin (``__s2sad_outofplace__``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.aliases import _COPY_METHODS, _VIEW_FUNCS, _in
from s2sad.analysis.defuse import join_may
from s2sad.analysis.prims import index_value, is_static, static_value
from s2sad.ir import nodes as N
from s2sad.ir.visit import children, iter_stmts, names, reads, rebuild, targets
from s2sad.rules.splice import rt_ref

EXT = ("ext",)
_STACK = "\x00stack"        # what the tape holds
_ESC = "\x00escaped"        # what a call for its effect may have kept
_ALWAYS_LIVE = (_STACK, _ESC)

# runtime helpers whose result is a new array (or ZERO), never an operand's
# (copy_slot of an owned adjoint: an array's element or a copy of its part)
_FRESH_HELPERS = (_rt.copy_slot, _rt.zeros_like, _rt.like)
# runtime helpers whose result may hold their adjoint arguments: the
# adjoint of a list's element read is a list holding ``g`` itself (fuzz seed
# 170889: an element adjoint added in place changed the list's)
_HOLDING_HELPERS = {_rt.index_adjoint: (0,), _rt.index_accumulate: (0, 1)}
_COPYING_METHODS = frozenset(_COPY_METHODS) - {"astype"}
# runtime helpers whose result may be (a view of) their first argument only
_FIRST_ARG_HELPERS = (_rt.unbroadcast, _rt.sum_adjoint, _rt.mean_adjoint, _rt.reshape_adjoint,
                      _rt.transpose_adjoint, _rt.transpose_forward, _rt.broadcast_as, _rt.mT, _rt.zero_slot)


def inplace_adjoints(fdef, ns):
    """A copy of generated function ``fdef`` (names resolved in namespace
    ``ns``) with the owned accumulations rewritten in place (``fdef`` itself
    unchanged: the planner reads it)."""
    if any(isinstance(s, (N.FunctionDef, N.Nonlocal)) for s in _simple(fdef.body)):
        return fdef         # closures (a checkpointed loop's step) share names: left as they are
    cands = {}
    for s in _simple(fdef.body):
        kind = _candidate(s)
        if kind:
            cands[s.sid] = kind
    if not cands:
        return fdef
    owners = {s.target.id for s in _simple(fdef.body) if s.sid in cands}
    body = _copy_slot_reads(fdef.body, owners, ns)
    live = _Liveness(body).live_out
    ok = _Sharing(fdef.params, body, cands, live).owned
    if not ok:
        return fdef
    return replace(fdef, body=_rewrite(body, cands, ok, ns))


# ------------------------------------------------------------------ shapes

def _simple(body):
    return (s for s in iter_stmts(body) if not isinstance(s, N.COMPOUND))


def _is_rt(e, *helpers):
    return isinstance(e, N.Call) and is_static(e.func) and any(static_value(e.func) is h for h in helpers)


def _candidate(s):
    """'add' for ``A = A + _rt.index_adjoint(g, x, idx)``, 'zero' for
    ``A = _rt.zero_slot(A, idx)``, else None."""
    if not (isinstance(s, N.Assign) and isinstance(s.target, N.Name)):
        return None
    a, v = s.target.id, s.value
    if isinstance(v, N.BinOp) and v.op == "Add" and isinstance(v.left, N.Name) and v.left.id == a \
            and _is_rt(v.right, _rt.index_adjoint) and len(v.right.args) == 3 and not v.right.kwargs \
            and a not in names(v.right):
        return "add"
    if _is_rt(v, _rt.zero_slot) and len(v.args) == 2 and isinstance(v.args[0], N.Name) and v.args[0].id == a \
            and a not in names(v.args[1]):
        return "zero"
    return None


def _copy_slot_reads(body, owners, ns):
    """Reads ``A[idx]`` of a name ``A`` accumulated in place become
    ``_rt.copy_slot(A, idx)`` (writes ``A[idx] = v`` stay)."""
    def fix(e):
        if isinstance(e, N.Sub) and isinstance(e.value, N.Name) and e.value.id in owners:
            return N.Call(rt_ref(ns, "copy_slot"), (e.value, index_value(e.index, ns)))
        return None

    out = []
    for s in body:
        if isinstance(s, N.If):
            s = replace(s, test=rebuild(s.test, fix), body=_copy_slot_reads(s.body, owners, ns),
                        orelse=_copy_slot_reads(s.orelse, owners, ns))
        elif isinstance(s, N.For):
            s = replace(s, iter=rebuild(s.iter, fix), body=_copy_slot_reads(s.body, owners, ns))
        elif isinstance(s, N.While):
            s = replace(s, test=rebuild(s.test, fix), body=_copy_slot_reads(s.body, owners, ns))
        elif isinstance(s, (N.Assign, N.Eval, N.Push, N.Return)):
            v = rebuild(s.value, fix)
            if v is not s.value:
                s = replace(s, value=v)
        out.append(s)
    return out


def _rewrite(body, cands, ok, ns):
    out = []
    for s in body:
        if isinstance(s, N.COMPOUND):
            s = replace(s, body=_rewrite(s.body, cands, ok, ns))
            if isinstance(s, N.If):
                s.orelse = _rewrite(s.orelse, cands, ok, ns)
        elif s.sid in ok:
            a = s.target
            if cands[s.sid] == "add":
                g, x, idx = s.value.right.args
                s = replace(s, value=N.Call(rt_ref(ns, "index_accumulate_inplace"), (a, g, x, idx)))
            else:
                s = replace(s, value=N.Call(rt_ref(ns, "zero_slot_inplace"), s.value.args))
        out.append(s)
    return out


# ---------------------------------------------------------------- liveness

class _Liveness:
    """Backward liveness on the structured program: ``live_out[sid]``, the
    names read after simple statement ``sid`` before being rebound."""

    def __init__(self, body):
        self.live_out = {}
        self.block(body, frozenset(), None)

    def block(self, stmts, live, loop):
        for s in reversed(stmts):
            live = self.stmt(s, live, loop)
        return live

    def stmt(self, s, live, loop):
        if isinstance(s, N.If):
            return self.block(s.body, live, loop) | self.block(s.orelse, live, loop) | set(names(s.test))
        if isinstance(s, (N.For, N.While)):
            # a for loop's iterator holds its array while the loop runs
            head = frozenset(live | set(names(s.iter if isinstance(s, N.For) else s.test)))
            while True:
                body_in = self.block(s.body, head, (head, live))
                if isinstance(s, N.For):
                    body_in = body_in - {s.target}
                new = head | body_in
                if new == head:
                    return head
                head = new
        if isinstance(s, N.Break):
            return loop[1] if loop else live
        if isinstance(s, N.Continue):
            return loop[0] if loop else live
        self.live_out[s.sid] = live
        defs = set(targets(s)) if isinstance(s, N.Assign) and not isinstance(s.target, N.Sub) else set()
        return frozenset((live - defs) | set(reads(s)))


# ----------------------------------------------------------------- sharing

class _Sharing:
    """Forward may-share analysis; ``owned``: the candidates whose name's
    array no other live name may refer to."""

    def __init__(self, params, body, cands, live):
        self.cands, self.live = cands, live
        self.owned = set()
        self.bad = set()
        self.loops = []
        state = {p: frozenset({EXT}) for p in params}
        state[_STACK] = frozenset()
        state[_ESC] = frozenset()
        self.block(body, state)
        self.owned -= self.bad

    def block(self, stmts, state):
        for s in stmts:
            if state is None:
                return None
            state = self.stmt(s, state)
        return state

    def stmt(self, s, state):
        if isinstance(s, N.If):
            return join_may(self.block(s.body, state), self.block(s.orelse, state))
        if isinstance(s, (N.For, N.While)):
            head = state
            while True:
                self.loops.append(([], []))
                inner = head
                if isinstance(s, N.For):
                    inner = dict(head)
                    inner[s.target] = self.tokens(s.iter, head, s.sid)
                end = self.block(s.body, inner)
                breaks, continues = self.loops.pop()
                new = join_may(head, end)
                for c in continues:
                    new = join_may(new, c)
                if new == head:
                    break
                head = new
            for b in breaks:
                head = join_may(head, b)
            return head
        if isinstance(s, N.Break):
            self.loops[-1][0].append(state)
            return None
        if isinstance(s, N.Continue):
            self.loops[-1][1].append(state)
            return None
        if isinstance(s, N.Assign):
            return self.assign(s, state)
        if isinstance(s, N.Push):
            return _add(state, _STACK, self.tokens(s.value, state, s.sid))
        if isinstance(s, N.Eval):
            v = s.value
            if isinstance(v, N.Call) and isinstance(v.func, N.Attr) and isinstance(v.func.value, N.Name) \
                    and v.func.attr in ("append", "extend", "insert"):
                added = frozenset().union(*[self.tokens(a, state, s.sid) for a in v.args]) if v.args \
                    else frozenset()
                return _add(state, v.func.value.id, added)
            return _add(state, _ESC, self.reached(v, state, s.sid))
        return state

    def assign(self, s, state):
        t = s.target
        if isinstance(t, N.Sub):
            # a container (or array) now holds the value
            base = t.value.id if isinstance(t.value, N.Name) else None
            return _add(state, base, self.tokens(s.value, state, s.sid)) if base else state
        kind = self.cands.get(s.sid)
        if kind is not None:
            a = t.id
            mine = state.get(a, frozenset({EXT}))
            if s.sid not in self.bad and self.is_owned(s, a, mine, state):
                self.owned.add(s.sid)
                val = mine | {("new", s.sid)}      # the same array, or a copy where it cannot add in place
            else:
                # (a loop's later pass may see more sharing: the copy for good)
                self.bad.add(s.sid)
                val = frozenset({("new", s.sid)})  # the copying form always makes a new array (or ZERO's)
        else:
            val = self.tokens(s.value, state, s.sid)
            state = self.kept_by_call(s.value, state, s.sid)
        state = dict(state)
        for n in targets(s):
            state[n] = val
        return state

    def kept_by_call(self, v, state, sid):
        """A call may keep its arguments: a method in its object, a function
        outside NumPy and the runtime anywhere (they escape)."""
        if not isinstance(v, N.Call) or not (v.args or v.kwargs):
            return state
        args = frozenset().union(*[self.tokens(a, state, sid) for a in v.args],
                                 *[self.tokens(x, state, sid) for _, x in v.kwargs])
        if isinstance(v.func, N.Attr) and isinstance(v.func.value, N.Name):
            return state if v.func.attr in _COPYING_METHODS else _add(state, v.func.value.id, args)
        if is_static(v.func):
            f = static_value(v.func)
            mod = getattr(f, "__module__", "") or ""
            if isinstance(f, np.ufunc) or mod.startswith(("numpy", "s2sad_runtime")) or mod in ("builtins", "math"):
                return state
        return _add(state, _ESC, args)

    def is_owned(self, s, a, mine, state):
        if not mine or EXT in mine or mine & state[_STACK] or mine & state[_ESC]:
            return False
        others = (set(self.live.get(s.sid, ())) | set(names(s.value))) - {a}
        return not any(mine & state.get(b, frozenset({EXT})) for b in others if b not in _ALWAYS_LIVE)

    # what an expression's value may share
    def tokens(self, e, state, sid):
        new = frozenset({("new", sid)})
        if isinstance(e, N.Name):
            return state.get(e.id, frozenset({EXT}))
        if isinstance(e, N.Const):
            return frozenset()
        if is_static(e) or isinstance(e, (N.Pop, N.Yield, N.ListComp)):
            return frozenset({EXT}) | (state[_STACK] if isinstance(e, N.Pop) else frozenset())
        if isinstance(e, N.BinOp):
            if e.op in ("Add", "Sub"):           # ZERO + x is x
                return new | self.tokens(e.left, state, sid) | self.tokens(e.right, state, sid)
            return new
        if isinstance(e, (N.UnaryOp, N.Compare)):
            return new
        if isinstance(e, N.IfExp):
            return self.tokens(e.body, state, sid) | self.tokens(e.orelse, state, sid)
        if isinstance(e, N.Sub):
            return new | self.tokens(e.value, state, sid)
        if isinstance(e, N.Attr):
            return new | self.tokens(e.value, state, sid)
        if isinstance(e, N.Call):
            return new | self.call(e, state, sid)
        return new | self.reached(e, state, sid)

    def call(self, e, state, sid):
        kw = dict(e.kwargs)
        if is_static(e.func):
            f = static_value(e.func)
            if "out" not in kw and (any(f is h for h in _FRESH_HELPERS) or (
                    not _in(f, _VIEW_FUNCS) and f is not np.array and
                    (isinstance(f, np.ufunc) or (getattr(f, "__module__", "") or "").startswith("numpy")))):
                return frozenset()
            if any(f is h for h in _FIRST_ARG_HELPERS) and e.args:
                return self.tokens(e.args[0], state, sid)
            held = _HOLDING_HELPERS.get(f)
            if held is not None and "out" not in kw:
                return frozenset().union(*[self.tokens(e.args[i], state, sid) for i in held if i < len(e.args)])
        elif isinstance(e.func, N.Attr) and e.func.attr in _COPYING_METHODS and not e.args and not e.kwargs:
            return frozenset()
        return self.reached(e, state, sid)

    def reached(self, e, state, sid):
        """Every array an expression's operands may refer to."""
        out = frozenset()
        for c in children(e):
            out |= self.tokens(c, state, sid)
        return out


def _add(state, name, toks):
    if not toks:
        return state
    state = dict(state)
    state[name] = state.get(name, frozenset()) | toks
    return state
