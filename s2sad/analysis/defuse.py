"""Reaching definitions on the structured program: flow-sensitive def-use.

A *definition* is ``(sid, name)``: statement ``sid`` binds ``name`` (an
assignment, an unpacking, a loop variable).  Parameters are defined at
entry (``("param", name)``); every other local starts *undefined*
(``("undef", name)``), so a read that an undefined marker reaches may see
no value at all.  For each statement the pass records the definitions that
reach it (``at[sid]``: name -> frozenset of definitions), and for a loop
both its entry state and the state at its head (after the fixed point over
the back edge).  ``break`` and ``continue`` are followed: their states flow
to the loop's exit and head.
"""

from __future__ import annotations

from s2sad.ir import nodes as N
from s2sad.ir.visit import targets


def join_may(a, b):
    """The may-union of two states (name -> set); None is an unreachable one."""
    if a is None:
        return b
    if b is None:
        return a
    out = dict(a)
    for k, v in b.items():
        out[k] = out[k] | v if k in out else v
    return out


class ReachingDefs:
    """``at[sid]``: the definitions reaching statement ``sid`` (for a loop:
    its head, every iteration); ``entry[sid]``: those reaching a loop
    before its first iteration; ``exit``: those reaching the end."""

    def __init__(self, fn):
        names = set()
        for st in _all(fn.body):
            names.update(targets(st))
        state = {p: frozenset({("param", p)}) for p in fn.params}
        for n in names - set(fn.params):
            state[n] = frozenset({("undef", n)})
        self.at = {}
        self.entry = {}
        self._loops = []
        self.exit = self.block(fn.body, state)

    # ---------------------------------------------------------------- flow
    def block(self, stmts, state):
        for st in stmts:
            if state is None:          # after break/continue: unreachable
                return None
            state = self.stmt(st, state)
        return state

    def stmt(self, st, state):
        if isinstance(st, (N.For, N.While)):
            return self.loop(st, state)
        self.at[st.sid] = join_may(self.at.get(st.sid), state)
        if isinstance(st, N.If):
            return join_may(self.block(st.body, state), self.block(st.orelse, state))
        if isinstance(st, N.Break):
            self._loops[-1][0].append(state)
            return None
        if isinstance(st, N.Continue):
            self._loops[-1][1].append(state)
            return None
        tg = targets(st)
        if tg:
            state = dict(state)
            for t in tg:
                state[t] = frozenset({(st.sid, t)})
        return state

    def loop(self, st, state):
        self.entry[st.sid] = state
        head = state
        while True:
            self._loops.append(([], []))
            inner = dict(head)
            if isinstance(st, N.For):
                inner[st.target] = frozenset({(st.sid, st.target)})
            self.at[st.sid] = head
            end = self.block(st.body, inner)
            breaks, continues = self._loops.pop()
            new = join_may(state, end)
            for c in continues:
                new = join_may(new, c)
            if new == head:
                break
            head = new
        out = head
        for b in breaks:
            out = join_may(out, b)
        return out

    # ------------------------------------------------------------- queries
    def reaching(self, sid, name):
        """Definitions of ``name`` reaching statement ``sid``."""
        st = self.at.get(sid)
        return st.get(name, frozenset()) if st is not None else frozenset()

    def maybe_undefined(self, sid, name):
        return ("undef", name) in self.reaching(sid, name)


def _all(body):
    for s in body:
        yield s
        for b in N.blocks(s):
            yield from _all(b)
