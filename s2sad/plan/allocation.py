"""Planning, step 5: buffers by liveness.

Each name written in place gets a virtual buffer.  May-alias sets (which
buffers a name may reference, through views and aliases,
flow-insensitively; and which only partially, through slices) and liveness
on the structured program (a fixed point over loops) give interference: a
buffer is live wherever a name that may reference it is; an in-place
definition whose buffer another live name may still see, or that a
non-elementwise operation reads while writing, is demoted to out-of-place.
Virtual buffers of equal shape and dtype are coloured greedily onto
physical buffers.  A value a loop *saves* (pushes on the stack by
reference) gets a row store instead: a fresh preallocated row per
definition.  Returned gradients are written into *result* arrays.
"""

from __future__ import annotations

import numpy as np

from s2sad.analysis.prims import static_value
from s2sad.ir import nodes as N
from s2sad.ir.visit import names
from s2sad.plan.flatten import stmt_loads, stmt_stores
from s2sad.plan.probe import DYN

import s2sad_runtime as _rt_mod


def push_name(s):
    """``NAME`` of a ``_stack.append(NAME)`` statement, else None."""
    if isinstance(s, N.Push) and isinstance(s.value, N.Name):
        return s.value.id
    return None


def fresh_value(p, v):
    """Does expression ``v`` always make a new array (never a view of an
    operand)?  NumPy arithmetic and ufunc calls do."""
    if isinstance(v, (N.BinOp, N.UnaryOp, N.Compare)):
        return True
    if isinstance(v, N.Call):
        fn = static_value(v.func)
        return isinstance(fn, np.ufunc) or any(fn is f for f in (
            np.matmul, np.dot, np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.arange,
            _rt_mod.like))
    return False


def _simple_stmts(body):
    for s in body:
        if isinstance(s, N.COMPOUND):
            for b in N.blocks(s):
                yield from _simple_stmts(b)
        else:
            yield s


class Allocation:
    """Buffers for a planned function: which names are written in place
    (``buffered``), which of those are saved by a loop (``rows``) or
    returned (``results``), and the physical buffer of each of the others."""

    def __init__(self, planner, result_names):
        self.p = p = planner
        self.after = {}
        self._live(p.fdef.body, set())
        self.simple = list(_simple_stmts(p.fdef.body))
        self.defs = {}
        for s in p.sites:
            if s.kind not in ("pop", "decl"):
                self.defs.setdefault(s.target, []).append(s)
        self.demoted = {}
        # written in place: every definition planned (a view or into the
        # name's buffer), at least one of them into the buffer
        self.buffered = {n for n, ss in self.defs.items()
                         if p.is_array(n) and all(s.kind == "assign" and s.low is not None for s in ss)
                         and any(not s.low.view for s in ss)}
        self.viewed = {n for n, ss in self.defs.items() if any(s.low is not None and s.low.view for s in ss)}
        while True:
            self._refs()
            self.rows = {b for n in self.pushed for b in self.refs.get(n, ())} & self.buffered
            self.results = {n: i for n, i in result_names.items()
                            if n in self.buffered and n not in self.rows
                            and (n not in self.viewed or self._ends_in_buffer(n))}
            bad = self._check()
            if not bad:
                break
            for n, why in bad.items():
                self.demoted[n] = why
                self.buffered.discard(n)
        self._color()

    def _ends_in_buffer(self, n):
        """Is ``n``'s last definition a write into its buffer at the top
        level of the function (so that is what the return sees)?"""
        last = [s for s in self.p.sites if s.target == n][-1]
        return (last.kind == "assign" and last.low is not None and not last.low.view
                and any(last.stmt is st for st in self.p.fdef.body))

    # -- liveness ------------------------------------------------------------------
    def _live(self, body, out):
        live = set(out)
        for s in reversed(body):
            live = self._live_stmt(s, live)
        return live

    def _live_stmt(self, s, out):
        if isinstance(s, N.For):
            head = set(out)
            while True:
                body_in = self._live(s.body, head)
                new = set(out) | (body_in - {s.target})
                if new == head:
                    break
                head = new
            return head | set(names(s.iter))
        if isinstance(s, N.While):
            test = set(names(s.test))
            head = set(out) | test
            while True:
                body_in = self._live(s.body, head)
                new = set(out) | test | body_in
                if new == head:
                    break
                head = new
            return head
        if isinstance(s, N.If):
            return set(names(s.test)) | self._live(s.body, out) | self._live(s.orelse, out)
        self.after[s.sid] = frozenset(out)
        if isinstance(s, N.Return):
            return set(names(s.value))
        return (out - set(stmt_stores(s))) | set(stmt_loads(s))

    # -- what may reference which buffer -------------------------------------------
    def _refs(self):
        """``refs[n]``: the buffers name ``n`` may reference (flow-insensitive);
        ``partial[n]``: those it may reference through a view that is not the
        whole buffer as it is (a slice, a transpose), which an elementwise
        operation cannot safely overwrite in place."""
        p = self.p
        refs = {n: set() for n in p.locals}
        partial = {n: set() for n in p.locals}
        self.pushed = {n for n in (push_name(s) for s in self.simple) if n is not None}

        def can_ref(name):
            return p.name_meta.get(name, DYN)[0] in ("A", "O", "X")

        def union(table, ns):
            out = set()
            for m in ns:
                out |= table.get(m, set())
            return out

        changed = True
        while changed:
            changed = False

            def add(table, name, items):
                nonlocal changed
                r = table.setdefault(name, set())
                if not items <= r:
                    r |= items
                    changed = True

            pushed = union(refs, self.pushed)
            for site in p.sites:
                n = site.target
                if not can_ref(n):
                    continue
                if n in self.buffered:
                    add(refs, n, {n})
                if site.kind == "pop":
                    add(refs, n, pushed)
                    add(partial, n, pushed)
                    continue
                if site.kind == "decl":
                    continue
                src = site.stmt.iter if site.kind == "loopvar" else site.stmt.value
                if site.kind == "assign" and site.low is not None and not site.low.view:
                    continue      # in the buffer, or (out of place) a fresh array
                if site.kind == "assign" and site.low is None and fresh_value(p, site.stmt.value):
                    continue
                ns = set(names(src))
                add(refs, n, union(refs, ns))
                exact = site.kind == "assign" and site.low is not None and \
                    (isinstance(site.stmt.value, N.Name) or (site.low.view and site.low.const is None
                                                              and isinstance(site.low.expr, N.Name)))
                add(partial, n, union(partial, ns) if exact else union(refs, ns))
            for s in self.simple:
                if isinstance(s, N.Eval) and isinstance(s.value, N.Call):
                    f = s.value.func
                    if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.value.id in p.locals:
                        r = union(refs, set(names(s.value)) - {f.value.id})
                        add(refs, f.value.id, r)
                        add(partial, f.value.id, r)
                elif isinstance(s, N.Assign) and isinstance(s.target, N.Sub):
                    base = s.target.value
                    if isinstance(base, N.Name) and p.name_meta.get(base.id, DYN)[0] != "A":
                        r = union(refs, set(names(s.value)))
                        add(refs, base.id, r)
                        add(partial, base.id, r)
        self.refs = refs
        self.partial = partial

    def _check(self):
        """Names whose in-place definition would overwrite a value still in
        use (through a view, or an operand a non-elementwise operation reads
        while writing), with the reason; they are computed out of place."""
        bad = {}
        self.edges = {}
        for site in self.p.sites:
            x = site.target
            if site.kind != "assign" or x not in self.buffered or x in self.rows or site.low.view:
                continue
            after = self.after.get(site.stmt.sid, frozenset())
            live = set()
            holder = None
            for n in sorted(after):
                if n != x:
                    r = self.refs.get(n, set())
                    if x in r and holder is None:
                        holder = n
                    live |= r
            if holder is not None:
                bad[x] = f"`{holder}` may still refer to its previous value"
                continue
            for o in set(names(site.stmt.value)):
                r = self.refs.get(o, set())
                part = self.partial.get(o, set())
                shareable = site.low.elementwise or o in site.low.inplace
                if x in r and (not shareable or x in part):
                    bad[x] = "an operand overlaps its buffer"
                    break
                # an elementwise operation may overwrite an operand it reads
                # whole (in place); anything else must not share its buffer
                live |= r if not shareable else part
            self.edges.setdefault(x, set()).update(live - {x})
        return bad

    def _color(self):
        p = self.p
        order = []
        for site in p.sites:
            n = site.target
            if n in self.buffered and n not in self.rows and n not in self.results and n not in order:
                order.append(n)
        inter = {n: set() for n in order}
        for a, bs in self.edges.items():
            for b in bs:
                if a in inter and b in inter:
                    inter[a].add(b)
                    inter[b].add(a)
        self.phys = []        # [(shape, dtype, members)]
        self.buffer_of = {}
        for n in order:
            m = p.name_meta[n]
            key = (m[1], m[2])
            for k, (shape, dt, members) in enumerate(self.phys):
                if (shape, dt) == key and not (members & inter[n]):
                    members.add(n)
                    self.buffer_of[n] = k
                    break
            else:
                self.phys.append((m[1], m[2], {n}))
                self.buffer_of[n] = len(self.phys) - 1
