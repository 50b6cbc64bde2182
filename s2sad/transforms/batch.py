"""The batching transform (``s2sad.vmap``): normalized IR in, a function
over a batch of examples out.

Batched values carry the batch on axis 0 (see ``runtime/batching.py``);
:mod:`s2sad.analysis.batched` says which names are batched.  Each
statement becomes its batched form by the batching rule of its primitive
(``s2sad/rules/batch_rules.py``): elementwise operations lift their
batched operands so that NumPy broadcasts lane by lane, reductions shift
their axes, products become batched products, and a call with no rule
runs lane by lane (``_rt.b_loop``, reported in ``info``).

Control flow on a batched value runs under a *mask* of lanes: both
branches of an ``if`` run, and every name a branch binds is merged with
``_rt.b_where`` at its end; a ``while`` runs until no lane's test holds; a
``for`` over a batched count runs the largest count.  Element writes under
a mask land in the mask's lanes only.  Pushes and pops of a gradient's
tape run in every lane, so the tape stays in step: a branch that pops
(the reverse sweep of a branch) runs after its ``else``, mirroring the
forward sweep, and a loop that pops replays the last iterations of each
lane.
"""

from __future__ import annotations

import builtins

import numpy as np

from s2sad.analysis.batched import (
    batched_break, batched_count, batched_names, bound_in, carried, certain_arrays, certain_containers,
    aliased_written, masked_blocks, range_names, readers_of, replay_plan, single_defs, value_batched, written_aliases,
)
from s2sad.analysis.kinds import infer_py
from s2sad.errors import UnsupportedSyntaxError, error_at_loc
from s2sad_runtime.batching import BatchError
from s2sad.ir import nodes as N
from s2sad.ir.names import Namer, all_names
from s2sad.ir.visit import head_exprs, iter_stmts, names, reads, static_value, targets
from s2sad.rules.splice import rt_call
from s2sad.transforms import jumps
from s2sad.transforms.forward import commented
from s2sad.transforms.mutation import functionalize
from s2sad.transforms.batch_calls import LIST_METHODS, CallBatcher


class BatchTransform(CallBatcher):
    def __init__(self, src, fn, mapped, rules, ns, kinds=None, factored=False, generated=False):
        self.src, self.fn, self.rules, self.ns = src, fn, rules, ns
        self.mapped = list(mapped)            # parameter -> its in_axis (None: not mapped)
        self.namer = Namer(all_names(fn) | set(ns.values))
        fn.body = jumps.desugar(fn.body, self.namer)
        # in-place writes that another name sees made explicit (as for grad);
        # generated code has them explicit already
        if not generated:
            functionalize(fn, kinds or {}, self.namer, ns)
        self.py = frozenset(infer_py(fn.body, fn.params, kinds or {}))
        self.containers = certain_containers(fn.body, fn.params, kinds or {})
        mapped_params = [p for p, ax in self.mapped if ax is not None]
        self.defs = single_defs(fn.body)
        self.arrays = certain_arrays(fn.body, mapped_params, rules)
        self.shares_written = written_aliases(fn.body)
        self.aliased_written = aliased_written(fn.body)
        self.batched = batched_names(fn.body, mapped_params, rules, self.defs)
        self.B = N.Name(self.namer.fresh("B"))
        self.lane_loops = []                  # (line, what) of calls run lane by lane
        self._pops = {}
        self.mask = None                      # the mask of the statement being batched
        self.factored = factored              # keep dense layers' per-example gradients factored
        self.readers = readers_of(fn.body)
        self.ranges = range_names(self.defs)
        # the ranges with batched bounds that loops replay (all other uses are refused)
        self.replay = replay_plan(fn.body, self.defs, self.ranges, self.batched)
        self.replays = {v[2] for v in self.replay.values()}
        # (and the ranges those are slices of: `reversed(range(n)[:k])`)
        self.replays |= {d.value.id for r in list(self.replays) for d in [self.defs.get(r)]
                         if isinstance(d, N.Sub) and isinstance(d.value, N.Name)}

    # ------------------------------------------------------------- helpers
    def rt(self, name, *args):
        return rt_call(self.ns, name, *args)

    def static(self, obj, hint):
        return N.Static(self.ns.ref(obj, hint), obj)

    def isb(self, e):
        """Is atom (or expression) ``e`` batched?"""
        if isinstance(e, N.Call) and isinstance(e.func, N.Attr) and e.func.attr == "b_broadcast":
            return True
        if isinstance(e, (N.Tuple, N.List)):
            return any(self.isb(x) for x in e.elts)
        return isinstance(e, N.Name) and e.id in self.batched or \
            (not isinstance(e, N.Name) and any(n in self.batched for n in names(e)))

    def is_container(self, e):
        """Does ``e`` certainly hold a list, tuple or dict?"""
        return isinstance(e, N.Name) and e.id in self.containers or isinstance(e, (N.Tuple, N.List, N.Dict))

    def is_array(self, e):
        """Does ``e`` certainly hold an array (every binding makes one)?"""
        return isinstance(e, N.Name) and e.id in self.arrays

    def rank0(self, e):
        """Is ``e`` certainly a number in each example (no lifting against it)?"""
        if isinstance(e, N.Const):
            return not isinstance(e.value, (tuple, list))
        return isinstance(e, N.Name) and e.id in self.py

    def bcast(self, e):
        return self.rt("b_broadcast", e, self.B)

    def line_comment(self, st):
        src, line = st.loc.src, st.loc.line
        return f"{src.short_filename}:{src.file_line(line)}  {src.line_text(line).strip()}"

    def refuse(self, st, msg, hint=None):
        raise error_at_loc(UnsupportedSyntaxError, st.loc, f"vmap: {msg}", hint)

    # ------------------------------------------------------------- function
    def run(self, fname, out_axes):
        fn = self.fn
        body = []
        mapped = [(p, ax) for p, ax in self.mapped if ax is not None]
        for p, ax in mapped:
            body.append(N.Assign(N.Name(p), self.rt("b_in", N.Name(p), N.Const(ax), N.Const(p))))
        body.append(N.Assign(self.B, self.rt("b_size", N.Const(tuple(p for p, _ in mapped)),
                                             *[N.Name(p) for p, _ in mapped])))
        # a parameter that is not mapped but holds batched values later
        # (`s = s + x`): the same value in every lane from the start
        body += [N.Assign(N.Name(p), self.bcast(N.Name(p))) for p, ax in self.mapped
                 if ax is None and p in self.batched]
        # names bound under a mask are merged with their value before the
        # block: give each one (None: nothing bound yet)
        pre = set()
        for st in iter_stmts(fn.body):
            for blk in self._masked(st):
                pre.update(n for n in bound_in(blk) if n not in fn.params)
                if isinstance(st, N.For) and st.target in self.batched and st.target not in fn.params:
                    pre.add(st.target)
        body += [N.Assign(N.Name(n), N.Const(None)) for n in sorted(pre)]
        body += self.block(fn.body[:-1], None)
        out = fn.body[-1].value
        if not self.isb(out):
            out = self.bcast(out)
        body.append(N.Return(self.rt("b_out", out, N.Const(out_axes), self.B)))
        return N.FunctionDef(fname, list(fn.params), body)

    def _masked(self, st):
        return masked_blocks(st, self.batched, self.replay)

    # ------------------------------------------------------------- blocks
    def block(self, stmts, mask):
        return commented(stmts, lambda st: self.stmt(st, mask), self.line_comment)

    def masked(self, stmts, mask):
        """``stmts`` run in every lane, their bindings kept in the lanes of
        ``mask`` only; skipped when no lane is in ``mask``."""
        bound = [n for n in bound_in(stmts) if n in self.batched and self.carried(n, stmts)]
        saved = {n: self.namer.fresh(n + "_was") for n in bound}
        out = [N.Assign(N.Name(saved[n]), N.Name(n)) for n in bound]
        out += self.block(stmts, mask)
        out += [N.Assign(N.Name(n), self.merge(n, mask, saved[n], stmts)) for n in bound]
        return [N.If(self.rt("b_any", mask), out)] if out else []

    def merge(self, name, mask, saved, stmts):
        """``name`` after a masked block: its new value in the lanes of
        ``mask``, the saved one elsewhere.  The merge is a copy; where
        ``name`` may share memory with another name and one of them is
        written in place, it is checked at run time that it shares none
        with them (else the write would not reach them: refused)."""
        others = self.aliased_written.get(name)
        if not others:
            return self.rt("b_where", mask, N.Name(name), N.Name(saved))
        st = next(s for s in iter_stmts(stmts) if isinstance(s, N.Assign) and name in targets(s))
        what = "this value" if name.startswith("_") else f"`{name}`"
        err = error_at_loc(BatchError, st.loc,
                           f"vmap: {what} is chosen under a condition that differs between examples and shares "
                           "memory with another array, one of them written in place: the batched value merges the "
                           "examples into a copy, so the write would not reach the other array",
                           "make it an array of its own where it is chosen (e.g. `np.transpose(y).copy()`), or "
                           "write into a new array instead of in place")
        return self.rt("b_where_aliased", mask, N.Name(name), N.Name(saved), N.Const(others),
                       N.Call(self.static(builtins.locals, "locals"), ()), self.static(err, "_merge_error"))

    def carried(self, name, stmts):
        return carried(name, stmts, self.readers)

    def and_mask(self, mask, test):
        m = N.Name(self.namer.fresh("lanes"))
        return m, N.Assign(m, self.rt("b_and", mask if mask is not None else N.Const(None), test, self.B))

    def stmt(self, st, mask):
        self.mask = mask
        if isinstance(st, N.Assign):
            return self.assign(st, mask)
        if isinstance(st, N.Eval):
            return self.eval_(st, mask)
        if isinstance(st, N.If):
            return self.if_(st, mask)
        if isinstance(st, N.While):
            return self.while_(st, mask)
        if isinstance(st, N.For):
            return self.for_(st, mask)
        if isinstance(st, N.Pass):
            return [N.Pass()]
        if isinstance(st, (N.Break, N.Continue)):
            # reached only under a condition the same in every lane (a batched
            # break flag is the loop's mask): every lane leaves together
            return [type(st)()]
        if isinstance(st, N.Comment):
            return [st]
        self.refuse(st, f"cannot batch a `{type(st).__name__}` statement",
                    "vmap takes straight-line code, if, for and while (a gradient with a checkpointed or "
                    "reversible loop cannot be batched yet)")

    def if_(self, st, mask):
        head = [N.Comment(self.line_comment(st))] if st.loc is not None else []
        if not self.isb(st.test):
            return head + [N.If(st.test, self.block(st.body, mask) or [N.Pass()],
                                self.block(st.orelse, mask))]
        m1, a1 = self.and_mask(mask, st.test)
        m2, a2 = self.and_mask(mask, N.Call(self.static(np.logical_not, "np_not"), (st.test,)))
        then = [a1] + self.masked(st.body, m1)
        other = [a2] + self.masked(st.orelse, m2) if st.orelse else []
        # the reverse sweep of a branch pops what its forward sweep pushed:
        # the forward sweep ran `then` before `else`, so the pops go the other way
        if self.pops(st.body) or self.pops(st.orelse):
            return head + other + then
        return head + then + other

    def while_(self, st, mask):
        head = [N.Comment(self.line_comment(st))] if st.loc is not None else []
        body, brk = _split_break(st.body, self)
        if not self.isb(st.test) and brk is None:
            return head + [N.While(st.test, self.block(st.body, mask))]
        m, a = self.and_mask(mask, st.test)
        body = self.masked(body, m)
        if brk is not None:
            body.append(self.not_broken(m, brk))
        body.append(N.Assign(m, self.rt("b_and", m, st.test, self.B)))
        return head + [a, N.While(self.rt("b_any", m), body)]

    def not_broken(self, m, brk):
        """The lanes of ``m`` that did not ``break`` (flag ``brk``)."""
        return N.Assign(m, self.rt("b_and", m, N.Call(self.static(np.logical_not, "np_not"), (brk,)), self.B))

    def for_(self, st, mask):
        head = [N.Comment(self.line_comment(st))] if st.loc is not None else []
        it = st.iter
        body, brk = _split_break(st.body, self)
        if batched_count(st, self.batched):
            args = it.args
            target, first = self.loop_target(st)
            i = N.Name(target)
            if self.pops(st.body) and len(args) == 1:
                # the reverse sweep of a `while`: each lane replays its own
                # last iterations of the masked forward loop
                test, it = self.rt("b_tail", i, args[0]), self.rt("b_trips", args[0])
            else:
                r = N.Name(self.namer.fresh("lanes_range"))
                head.append(N.Assign(r, self.rt("b_range", *args)))
                test, it = self.rt("b_in_range", i, r, self.B), r
            if brk is not None:
                # lanes that left the loop stay out of it
                alive, a0 = self.and_mask(mask, N.Const(True))
                m, a = self.and_mask(alive, test)
                return head + [a0, N.For(target, it, [a] + self.masked(first + body, m) + self.broke(alive, brk))]
            m, a = self.and_mask(mask, test)
            return head + [N.For(target, it, [a] + self.masked(first + body, m))]
        if id(st) in self.replay:
            # `for k in range(len(L)): ...; i = L[k]` over a list of a batched range (or its reverse sweep)
            j, i_name, r, item, before = self.replay[id(st)]
            i_now = N.Sub(N.Name(item[0]), N.Name(item[1])) if item is not None else N.Name(i_name)
            test = self.rt("b_in_range", i_now, N.Name(r), self.B)
            alive, a0 = self.and_mask(mask, N.Const(True))
            m, a = self.and_mask(alive, test)
            core, tail = body[j + 1:], []
            # a reverse sweep ends by popping what the forward loop saved before
            # its mask (`i`): those pops run in every lane, as the pushes did
            while core and any(_pops_into(core[-1], nm) for nm in before):
                core, tail = core[:-1], [core[-1]] + tail
            return head + [a0, N.For(st.target, it, self.block(body[:j + 1], mask) + [a]
                                     + self.masked(core, m) + self.block(tail, mask) + self.broke(alive, brk))]
        target, first = st.target, []
        if self.isb(it) and not self.is_container(it) and not self.is_range(it):
            it = self.rt("b_iter", it)
        else:
            target, first = self.loop_target(st)
        if brk is None:
            return head + [N.For(target, it, self.block(first + st.body, mask))]
        m, a = self.and_mask(mask, N.Const(True))
        return head + [a, N.For(target, it, [N.If(N.UnaryOp("Not", self.rt("b_any", m)), [N.Break()])]
                                + self.masked(first + body, m) + self.broke(m, brk))]

    def loop_target(self, st):
        """The loop variable, and the statement that broadcasts it when the
        name is batched elsewhere (the loop's own values are the same in
        every lane)."""
        if st.target not in self.batched:
            return st.target, []
        target = self.namer.fresh(st.target)
        return target, [N.Assign(N.Name(st.target), N.Name(target), loc=st.loc)]   # (broadcast by assign)

    def is_range(self, e):
        v = self.defs.get(e.id) if isinstance(e, N.Name) else e
        return isinstance(v, N.Call) and static_value(v.func) is builtins.range

    def broke(self, m, brk):
        return [self.not_broken(m, brk)] if brk is not None else []

    def pops(self, stmts):
        """Does ``stmts`` pop from a list (the reverse sweep of a tape)?"""
        key = id(stmts)
        if key not in self._pops:
            self._pops[key] = any(isinstance(e, N.Pop) or isinstance(e, N.Call) and isinstance(e.func, N.Attr)
                                  and e.func.attr == "pop" for s in iter_stmts(stmts)
                                  for e in head_exprs(s))
        return self._pops[key]

    # ------------------------------------------------------------- statements
    def assign(self, st, mask):
        t = st.target
        if isinstance(t, N.Sub):
            return self.write(st, mask)
        pre = []
        value = self.expr(st, st.value, pre)
        tb = any(n in self.batched for n in (t.elts if isinstance(t, N.Tuple) else [t]) if isinstance(n, N.Name)
                 for n in [n.id])
        if tb and isinstance(t, N.Tuple) and not self.value_batched(st.value) \
                and not all(e.id in self.batched for e in t.elts):
            # some names batched elsewhere, some not: unpack, then broadcast those
            tmps = [N.Name(self.namer.fresh(e.id)) for e in t.elts]
            out = pre + [N.Assign(N.Tuple(tuple(tmps)), value, loc=st.loc)]
            return out + [N.Assign(e, self.bcast(tm) if e.id in self.batched else tm) for e, tm in zip(t.elts, tmps)]
        if tb and not self.value_batched(st.value):
            value = self.bcast(value)
        elif isinstance(t, N.Tuple) and tb and not self.is_container(st.value):
            value = self.rt("b_iter", value)        # `a, b = x`: one example's rows
        return pre + [N.Assign(t, value, loc=st.loc)]

    def value_batched(self, value):
        return value_batched(value, self.batched, self.rules, self.ranges)

    def write(self, st, mask):
        t = st.target
        base, idx, v = t.value, t.index, st.value
        if not self.isb(base) or self.is_container(base):
            if self.is_container(base) and self.isb(base) and not self.isb(v):
                v = self.bcast(v)
            if mask is not None and self.is_container(base):
                self.refuse(st, "a list or dict written under a condition that differs between examples",
                            "build the value with np.where, or move the write out of the branch")
            return [N.Assign(t, v, loc=st.loc)]
        ib, vb = self.isb(idx), self.isb(v)
        if mask is None and not ib and not vb and self.simple_index(idx) and self.is_array(base):
            return [N.Assign(N.Sub(base, self.prefixed(idx)), v, loc=st.loc)]
        args = (base, self.index_value(idx), v, N.Const(ib), N.Const(vb)) + ((mask,) if mask is not None else ())
        return [N.Eval(self.rt("b_setitem", *args), loc=st.loc)]

    def eval_(self, st, mask):
        call = st.value
        f = call.func if isinstance(call, N.Call) else None
        if isinstance(f, N.Attr) and isinstance(f.value, N.Name) and \
                (self.is_container(f.value) or f.attr in LIST_METHODS):
            if mask is not None and f.attr not in ("append", "pop") or \
                    mask is not None and f.attr == "append" and not self.tape(f.value.id):
                self.refuse(st, f"a list changed (`.{f.attr}`) under a condition that differs between examples",
                            "collect the values in an array and select with np.where instead")
            if self.isb(f.value) and f.attr in ("append", "insert"):
                args = tuple(a if self.isb(a) else self.bcast(a) for a in call.args)
                return [N.Eval(N.Call(f, args, call.kwargs), loc=st.loc)]
            return [N.Eval(call, loc=st.loc)]
        pre = []
        value = self.expr(st, call, pre)
        return pre + [N.Eval(value, loc=st.loc)]

    def tape(self, name):
        """Is list ``name`` used only by ``append`` and ``pop`` (a tape), so
        that running its pushes in every lane keeps it in step?"""
        return all(_is_tape_use(st, name) for st in iter_stmts(self.fn.body)
                   if name in reads(st) or name in targets(st))

    # ------------------------------------------------------------- indexing
    def simple_index(self, idx):
        elts = idx.elts if isinstance(idx, N.Tuple) else (idx,)
        return all(isinstance(e, N.Slice) and all(p is None or self.rank0(p) for p in (e.lower, e.upper, e.step))
                   or isinstance(e, N.Const) and (e.value is None or e.value is Ellipsis or type(e.value) is int)
                   or isinstance(e, N.Name) and e.id in self.py for e in elts)

    def prefixed(self, idx):
        elts = idx.elts if isinstance(idx, N.Tuple) else (idx,)
        return N.Tuple((N.Slice(None, None, None),) + tuple(elts))


def _pops_into(st, name):
    """Is ``st`` ``name = <list>.pop()``?"""
    return isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id == name \
        and isinstance(st.value, N.Call) and isinstance(st.value.func, N.Attr) and st.value.func.attr == "pop"


def _split_break(body, tr):
    """A loop body without its final ``if brk: break`` and the flag, when
    the flag is batched; else (body, None)."""
    brk = batched_break(body, tr.batched)
    return (body[:-1], brk) if brk is not None else (body, None)


def _is_tape_use(st, name):
    v = st.value if isinstance(st, (N.Assign, N.Eval)) else None
    if isinstance(v, N.Call) and isinstance(v.func, N.Attr) and isinstance(v.func.value, N.Name) \
            and v.func.value.id == name and v.func.attr in ("append", "pop"):
        return True
    return isinstance(st, N.Assign) and isinstance(st.value, N.List) and not st.value.elts \
        and isinstance(st.target, N.Name) and st.target.id == name

