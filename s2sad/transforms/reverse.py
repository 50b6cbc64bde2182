"""The reverse-mode transform: normalized IR in, adjoint function (IR) out.

The generated function runs the *forward sweep* (the user's statements,
plus saves of values that later statements overwrite and the adjoint still
needs) and then the *reverse sweep*: the statements in reverse order, each
followed by its adjoint.  Invariant of the reverse sweep: when the adjoint
of statement *s* runs, every variable holds the value it had just after *s*
ran in the forward sweep.  Saved values are restored right after the
adjoint of the statement that overwrote them; that is the whole mechanism
behind loops and branches:

* a value is saved only if the adjoint reads it (*needed*) and a later
  statement may overwrite it; outside loops the save is a local name, inside
  loops a push onto ``_stack`` (a plain list: appending a reference costs
  no copy);
* ``if`` re-tests its condition in the reverse sweep (the condition is a
  name whose value the invariant restores);
* ``for i in range(...)`` runs backwards over the same range
  (``reversed(range(...))``), ``while`` loops and loops with ``break``
  count their iterations;
* adjoints are symbolic zeros until first written (``x_adj = c`` rather
  than ``x_adj = 0 + c``); control flow joins materialize zeros only where
  one path wrote an adjoint and the other did not.

Checkpointed and reversible loops are written by
:mod:`s2sad.transforms.checkpoint` and :mod:`s2sad.transforms.reversible`.
The transform's own bookkeeping (what each statement saved, which
branches keep their decision) lives in tables keyed by statement id.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

import s2sad_runtime as _rt

from s2sad.analysis import analyze
from s2sad.analysis.checks import check_active_rules
from s2sad.errors import UnsupportedSyntaxError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir.names import Namer, all_names
from s2sad.ir.visit import has_jump, iter_stmts, loads, names, stores, targets
from s2sad.rules import splice
from s2sad.rules.splice import rt_call
from s2sad.transforms import checkpoint as _ck
from s2sad.transforms import jumps, mutation

_SCALAR_REDUCTIONS = ("sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std")


class ReverseTransform:
    def __init__(self, src, fn, wrt, rules, ns, mode="grad", kinds=None, single=True, loop_default=None,
                 complex_params=None):
        self.src = src
        self.fn = fn
        self.wrt = list(wrt)
        self.rules = rules
        self.ns = ns
        self.mode = mode
        self.single = single
        self.loop_default = loop_default
        self.params = list(fn.params)
        self.frame_params = set(self.params)   # bound on entry of the function being written
        self.namer = Namer(all_names(fn) | set(ns.values))
        self._adj_names = {}
        fn.body = jumps.desugar(fn.body, self.namer)
        self.aliases = mutation.functionalize(fn, kinds or {}, self.namer, ns)
        self.complex_mode = complex_params is not None
        self.complex_names = set()      # the names that may hold complex values (complex mode)

        def check(prims, active):
            self.complex_names = check_active_rules(fn.body, prims, active, mode, self.wrt, complex_params)
        self.an = analyze(fn, self.wrt, rules, ns, kinds or {}, check=check)
        self.kinds = self.an.kinds
        self.active = self.an.active
        # what the reverse sweep reads: the adjoints' operands, and whatever a
        # checkpointed loop's body reads (it is run again in the reverse sweep)
        self._reset()
        self.needed = set(self.an.needed) | self.recomputed_reads()
        # an element write that saves its old slot restores it through its
        # array and its index
        while True:
            more = {n for st in iter_stmts(fn.body) if isinstance(st, N.Assign) and isinstance(st.target, N.Sub)
                    and self.restores_slot(st) for n in names(st.target)} - self.needed
            if not more:
                break
            self.needed |= more
        self.shape_only = set(self.an.shape_only)
        self.assign_counts = self.an.assign_counts
        self.result = self.an.result
        self.ctx = splice.SpliceContext(self.active, self.fresh, ns, self.an.is_scalar_atom)

    def _reset(self):
        """The transform's bookkeeping, keyed by statement id (a fresh start
        for each attempt of :meth:`run`)."""
        self.restores = {}      # sid -> [("stack", v) | ("slot", v, slot) | ("stack_item", base) | ...]
        self.conds = {}         # sid of an `if` -> ("stack" | "slot", name of its saved decision)
        self.counts = {}        # sid of a loop -> its iteration counter
        self.nested = {}        # sid of a loop -> inside another loop?
        self.ck = {}            # sid of a checkpointed loop -> its driver and state
        self.dead = None        # sid of the final reduction grad skips
        self.copied_from = {}   # sid of a generated copy -> sid of the normalized statement
        self.loop_depth = 0
        self.none_init = set()
        self.top_assigned = set()      # names bound so far at the top level, on some path
        self.top_definite = set()      # ... on every path
        self.uses_stack = False
        self.primal_only = False
        self.extra_params = frozenset()
        self.zero_reads = set()        # names whose value gives a materialized zero adjoint its shape
        self.replay_reads = set()      # names a checkpointed loop's body reads from outside (its replays
        #                                in the reverse sweep read their values)

    def restores_slot(self, st):
        """Does the reverse sweep restore what element write ``st`` overwrote?
        When its array, or any name sharing its memory, is differentiated or
        read by the reverse sweep."""
        base = st.target.value.id
        if any(n in self.needed or n in self.active for n in {base} | self.aliases.sharing(st.sid, base)):
            return True
        # a value the sweep reads, kept from before (on the tape), in this memory
        return self.aliases.ever_held(st.sid, base, self.needed)

    def recomputed_reads(self):
        """What the bodies of checkpointed and reversible loops read (they
        run again in the reverse sweep); such loops sit in no other loop,
        maybe in branches."""
        out = set()

        def visit(stmts):
            for st in stmts:
                if isinstance(st, (N.For, N.While)):
                    if st.strategy is not None or self.default_strategy(st):
                        out.update(loads(st.body) | set(names(st.iter if isinstance(st, N.For) else st.test)))
                elif isinstance(st, N.If):
                    visit(st.body)
                    visit(st.orelse)
        visit(self.fn.body)
        return out

    # ------------------------------------------------------------ helpers
    def fresh(self, hint):
        return self.namer.fresh(hint)

    def adj(self, name):
        """The adjoint's name: ``x_adj``, or ``x_adj_`` ... when the code
        already has a variable of that name (differentiating generated code)."""
        a = self._adj_names.get(name)
        if a is None:
            a = self._adj_names[name] = self.namer.derived(name, "_adj")
        return a

    def copy(self, st):
        """A copy of a simple statement for the generated code (the
        normalized program's statements are never shared with it)."""
        new = replace(st, sid=N._sid())
        self.copied_from[new.sid] = st.sid
        return new

    def rt(self, name, *args):
        return rt_call(self.ns, name, *args)

    def line_comment(self, st, prefix=""):
        src, line = st.loc.src, st.loc.line
        return f"{prefix}{src.short_filename}:{src.file_line(line)}  {src.line_text(line).strip()}"

    def _real_cotangent(self, name):
        """Complex mode: the cotangent of a name that holds real numbers
        (no complex value can reach it: ``complex_names``) is real; its
        imaginary part, from complex values downstream, moves nothing, and
        the rules of functions from complex to real values need it gone."""
        a = self.adj(name)
        return N.Assign(N.Name(a), self.rt("real_cotangent", N.Name(a)))

    def _cotangent(self, adj, x):
        """In complex mode, the user's gradient of ``x`` from its cotangent
        (conjugated, or the real part for a real input)."""
        return self.rt("complex_cotangent", adj, x) if self.complex_mode else adj

    def loc_args(self, loc):
        """A constant naming where ``loc`` is in the user's file, for errors
        raised by the generated code at run time."""
        src = loc.src if loc is not None and loc.src is not None else self.src
        line = loc.line if loc is not None else 1
        span = loc.span if loc is not None else None
        col = end = None
        if span and span[0] == line:
            col, end = span[1], span[3]
        shift = src.col_shift
        t = (src.filename, src.file_line(line), src.line_text(line).rstrip("\n"),
             None if col is None else col + shift, None if end is None else end + shift, src.qualname)
        return [N.Static(self.ns.ref(t, "_loc"), t)]

    def err(self, cls, loc, msg, hint=None):
        return error_at_loc(cls, loc, msg, hint)

    # ------------------------------------------------------------ the sweep
    def run(self, fname):
        """The adjoint function.  A zero adjoint materialized where control
        flow joins takes its shape from the value at that point, which must
        then be saved like any value the reverse sweep reads: found while
        writing, so the function is written again with those names saved."""
        start = self.namer.counter
        for _ in range(4):
            self._reset()
            self.namer.counter = start
            fdef = self._run(fname)
            extra = self.zero_reads - self.needed
            full = {v for v in self.replay_reads if v not in self.needed or v in self.shape_only}
            if not extra and not full:
                return fdef
            self.needed |= extra | full
            self.shape_only = (self.shape_only | extra) - self.replay_reads
        return fdef

    def _run(self, fname):
        body = self.fn.body[:-1]
        ret = self.fn.body[-1]
        # (in complex mode the result is computed: a complex one is refused)
        dead = self.dead_result(body, ret) if self.mode == "grad" and not self.complex_mode else None
        if dead is not None:
            self.dead = dead.sid
        fwd = self.fwd_block(body)
        rev_entry = set()
        res = self.result
        seed = self.namer.derived("_out_adj", "")
        out_node = ret.value
        if (self.mode == "grad" or self.complex_mode and self.mode == "value_and_grad") and dead is None:
            fwd.append(N.Eval(self.rt("check_scalar_output", out_node, *self.loc_args(ret.value_loc or ret.loc))))
        rev = []
        if res is not None and res in self.active:
            rev.append(N.Assign(N.Name(self.adj(res)), N.Name(seed)))
            rev_entry.add(res)
        rev_body, state = self.rev_block(body, rev_entry)
        rev.extend(rev_body)
        entry = {}
        for w in self.wrt:
            if self.assign_counts.get(w):
                # the body rebinds the input: its gradient has the shape and
                # dtype of the value it had on entry
                entry[w] = self.namer.fresh(w.lstrip("_") + "_in")
                fwd.insert(0, N.Assign(N.Name(entry[w]), N.Name(w)))
        # every gradient goes through grad_out (the planner delivers them by position)
        outs = [self.rt("grad_out", self._cotangent(N.Name(self.adj(w)), N.Name(entry.get(w, w))) if w in state
                        else N.Attr(N.Static("_rt", _rt), "ZERO"), N.Name(entry.get(w, w))) for w in self.wrt]
        grads = outs[0] if self.single else N.Tuple(tuple(outs))
        pre = [N.Assign(N.Name(v), N.Const(None)) for v in sorted(self.none_init) if v not in self.params]
        if self.uses_stack:
            pre.insert(0, N.Assign(N.Name("_stack"), N.List(())))
        if self.mode in ("value_and_grad", "vjp"):
            # keep the value: the reverse sweep restores overwritten names,
            # and writes saved elements back into arrays the value may share
            value = out_node
            if any(isinstance(s, N.Assign) and isinstance(s.target, N.Sub) for s in iter_stmts(rev)):
                value = self.rt("own", out_node)
            fwd.append(N.Assign(N.Name("_value"), value))
            final = N.Return(N.Tuple((N.Name("_value"), grads)))
        else:
            final = N.Return(grads)
        params = self.params + [seed]
        defaults = list(self.fn.defaults) + [N.Const(1.0)]
        body_all = pre + fwd
        if rev:
            body_all.append(N.Comment("---- reverse sweep ----"))
        body_all += rev + [final]
        return N.FunctionDef(fname, params, dedupe_comments(body_all), defaults)

    def dead_result(self, body, ret):
        """``grad`` does not need the value of ``f``: when the last statement
        computes the returned name by a full reduction (certainly a scalar)
        whose value no adjoint reads, the forward sweep skips it, and the
        scalar check with it."""
        if not body or not isinstance(ret.value, N.Name):
            return None
        st = body[-1]
        r = ret.value.id
        if not (isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id == r):
            return None
        if r in self.needed or self.assign_counts.get(r, 0) != 1 or r in self.params:
            return None
        p = self.an.prims.get(st.sid)
        if p is None or p.kind != "rule" or not isinstance(st.value, N.Call):
            return None
        key = p.rule.key
        name = key if isinstance(key, str) else getattr(key, "__name__", "")
        is_np = not isinstance(key, str) and (getattr(key, "__module__", "") or "").startswith("numpy") and \
            getattr(np, name, None) is key
        if not ((is_np and name in _SCALAR_REDUCTIONS) or (isinstance(key, str) and key in _SCALAR_REDUCTIONS)):
            return None
        axis = p.bound.get("axis")
        if not (isinstance(axis, N.Const) and axis.value is None):
            return None
        return st

    # forward sweep -------------------------------------------------------
    def fwd_block(self, stmts):
        out = []
        last_line = None
        for st in stmts:
            compound = isinstance(st, N.COMPOUND)
            key = (id(st.loc.src), st.loc.line) if st.loc is not None else None
            if key is not None and key != last_line and not compound and getattr(st, "origin", None) != "retest":
                out.append(N.Comment(self.line_comment(st)))
            last_line = key if not compound else None
            out.extend(self.fwd_stmt(st))
        return out

    def must_save(self, var):
        if var not in self.needed or self.primal_only:
            return False
        if self.loop_depth > 0 or var in self.extra_params:
            return True
        return self.assign_counts.get(var, 0) > 1 or var in self.frame_params

    def save_code(self, var, st):
        """Forward-sweep statements saving ``var`` before ``st`` overwrites it;
        records how the reverse sweep restores it."""
        saved = N.Name(var)
        if var in self.shape_only:
            saved = self.rt("like", saved)
        if self.loop_depth > 0:
            self.uses_stack = True
            if var not in self.frame_params:
                self.none_init.add(var)
            self.restores[st.sid].append(("stack", var))
            return [N.Push(saved, slot=("save", st.sid, var))]
        slot = self.fresh(var.lstrip("_") + "_saved")
        if var not in self.frame_params and var not in self.top_assigned:
            # undefined before this first top-level assignment: nothing to save
            return []
        if var not in self.frame_params and var not in self.top_definite:
            self.none_init.add(var)     # bound on some paths only: the save must not fail
        self.restores[st.sid].append(("slot", var, slot))
        return [N.Assign(N.Name(slot), saved)]

    def fwd_stmt(self, st):
        self.restores[st.sid] = []   # this pass's saves (a statement may be generated twice)
        if st.sid == self.dead:
            return []
        if isinstance(st, N.Assign):
            return self.fwd_assign(st)
        if isinstance(st, N.Eval):
            return [self.copy(st)]
        if isinstance(st, N.If):
            return self.fwd_if(st)
        if isinstance(st, N.For):
            return self.fwd_for(st)
        if isinstance(st, N.While):
            return self.fwd_while(st)
        if isinstance(st, (N.Break, N.Continue, N.Pass)):
            return [self.copy(st)]
        raise self.err(UnsupportedSyntaxError, st.loc, f"cannot differentiate a `{type(st).__name__}` statement")

    def fwd_assign(self, st):
        out = []
        if isinstance(st.target, N.Sub):
            base = st.target.value.id
            if self.restores_slot(st) and not self.primal_only:
                slot_val = self.rt("copy_slot", N.Name(base), index_value(self, st.target.index))
                if self.loop_depth > 0:
                    self.uses_stack = True
                    out.append(N.Push(slot_val, slot=("item", st.sid, base)))
                    self.restores[st.sid].append(("stack_item", base))
                else:
                    slot = self.fresh(base + "_slot")
                    out.append(N.Assign(N.Name(slot), slot_val))
                    self.restores[st.sid].append(("slot_item", base, slot))
            out.append(self.copy(st))
            return out
        tg = targets(st)
        for v in tg:
            if self.must_save(v):
                out.extend(self.save_code(v, st))
        out.append(self.copy(st))
        if self.loop_depth == 0:
            self.top_assigned.update(tg)
            self.top_definite.update(tg)
        return out

    def fwd_if(self, st):
        out = []
        test = st.test
        assigned_inside = {t for s in iter_stmts(st.body + st.orelse) for t in targets(s)}
        if isinstance(test, N.Name) and test.id in assigned_inside and not self.primal_only:
            # the branches change the condition: keep the decision
            c = self.fresh("cond")
            out.append(N.Assign(N.Name(c), N.Name(test.id)))
            if self.loop_depth > 0:
                self.uses_stack = True
                self.none_init.add(c)
                out.append(N.Push(N.Name(c), slot=("cond", st.sid)))
                self.conds[st.sid] = ("stack", c)
            else:
                self.conds[st.sid] = ("slot", c)
        before, before_def = set(self.top_assigned), set(self.top_definite)
        body = self.fwd_block(st.body)
        after_body, self.top_assigned = self.top_assigned, set(before)
        def_body, self.top_definite = self.top_definite, set(before_def)
        orelse = self.fwd_block(st.orelse)
        self.top_assigned |= after_body
        self.top_definite &= def_body
        out.append(N.Comment(self.line_comment(st)))
        out.append(N.If(test, body, orelse))
        return out

    def default_strategy(self, st):
        """The call's ``loops=`` strategy for an unannotated top-level loop."""
        d = self.loop_default
        if d is None or self.loop_depth > 0 or self.primal_only:
            return None
        if hasattr(d, "frac_bits"):
            if isinstance(st, N.While):
                return None
            return N.LoopStrategy("reversible", check=N.Const(False), frac_bits=N.Const(d.frac_bits), loc=st.loc)
        return N.LoopStrategy("checkpoint", snapshots=N.Const(d.snapshots), check=N.Const(bool(d.check)),
                              loc=st.loc)

    def fwd_for(self, st):
        strategy = st.strategy or self.default_strategy(st)
        if strategy is not None and not self.primal_only:
            return _ck.fwd_checkpointed(self, st, strategy)
        out = []
        self.nested[st.sid] = self.loop_depth > 0
        target = st.target
        if self.must_save(target) and (self.loop_depth > 0 or target in self.top_assigned
                                       or target in self.frame_params):
            out.extend(self.save_code(target, st))
        cnt = None
        if has_jump(st.body, N.Break):
            cnt = self.counts[st.sid] = self.fresh("n")
            out.append(N.Assign(N.Name(cnt), N.Const(0)))
        self.loop_depth += 1
        body = self.fwd_block(st.body)
        self.loop_depth -= 1
        if cnt:
            body.insert(0, N.Assign(N.Name(cnt), N.BinOp("Add", N.Name(cnt), N.Const(1))))
        out.append(N.Comment(self.line_comment(st)))
        out.append(N.For(target, st.iter, body))
        if cnt and self.loop_depth > 0 and not self.primal_only:
            self.uses_stack = True
            out.append(N.Push(N.Name(cnt), slot=("count", st.sid)))
        if self.loop_depth == 0:
            # the loop may run any number of times: what it binds may be bound
            self.top_assigned |= stores(st.body) | {target}
        return out

    def fwd_while(self, st):
        strategy = st.strategy or self.default_strategy(st)
        if strategy is not None and strategy.kind == "checkpoint" and not self.primal_only:
            return _ck.fwd_checkpointed(self, st, strategy)
        out = []
        self.nested[st.sid] = self.loop_depth > 0
        cnt = self.counts[st.sid] = self.fresh("n")
        out.append(N.Assign(N.Name(cnt), N.Const(0)))
        self.loop_depth += 1
        body = self.fwd_block(st.body)
        self.loop_depth -= 1
        body.insert(0, N.Assign(N.Name(cnt), N.BinOp("Add", N.Name(cnt), N.Const(1))))
        out.append(N.Comment(self.line_comment(st)))
        out.append(N.While(st.test, body))
        if self.loop_depth > 0 and not self.primal_only:
            self.uses_stack = True
            out.append(N.Push(N.Name(cnt), slot=("count", st.sid)))
        if self.loop_depth == 0:
            self.top_assigned |= stores(st.body)
        return out

    # reverse sweep -------------------------------------------------------
    def rev_block(self, stmts, state):
        """Reverse sweep of ``stmts`` entered with adjoint set ``state``
        (names whose adjoint holds a value); returns (code, state)."""
        state = set(state)
        out = []
        last = None
        for st in reversed(stmts):
            code, state = self.rev_stmt(st, state)
            if code and isinstance(code[0], N.Comment):
                text = code[0].text
                if text == last:
                    code = code[1:]
                last = text
            out.extend(code)
        return out, state

    def rev_stmt(self, st, state):
        if isinstance(st, N.Assign):
            return self.rev_assign(st, state)
        if isinstance(st, N.Eval):
            return self.rev_eval(st, state)
        if isinstance(st, N.If):
            return self.rev_if(st, state)
        if isinstance(st, (N.For, N.While)):
            if st.sid in self.ck:
                return _ck.rev_checkpointed(self, st, state)
            return self.rev_loop(st, state)
        return [], state

    def rev_eval(self, st, state):
        """``lst.append(v)``: the last element's adjoint flows to ``v``; the
        list is restored by popping."""
        call = st.value
        f = call.func
        if isinstance(call, N.Call) and isinstance(f, N.Attr) and isinstance(f.value, N.Name) and f.attr == "append":
            lst = f.value.id
            out = []
            if lst in self.active and lst in state:
                la = self.adj(lst)
                out.append(N.Comment(self.line_comment(st, "adjoint of ")))
                if call.args and isinstance(call.args[0], N.Name) and call.args[0].id in self.active:
                    v = call.args[0].id
                    self.accumulate(v, self.rt("elem", N.Name(la), N.Const(-1), N.Name(v)), state, out)
                # the list's adjoint loses its last element with every append
                # undone, whether or not the element was differentiated
                out.append(N.Assign(N.Name(la), N.Sub(N.Name(la), N.Slice(None, N.Const(-1), None))))
            if lst in self.needed:
                out.append(N.Eval(N.Call(N.Attr(N.Name(lst), "pop"))))
            return out, state
        return [], state

    def restore_code(self, st):
        """Undo the saves of ``st``, last saved first (the stack is LIFO)."""
        out = []
        for r in reversed(self.restores.get(st.sid) or []):
            if r[0] == "stack":
                out.append(N.Assign(N.Name(r[1]), N.Pop(slot=("save", st.sid, r[1]))))
            elif r[0] == "slot":
                out.append(N.Assign(N.Name(r[1]), N.Name(r[2])))
            else:
                val = N.Pop(slot=("item", st.sid, r[1])) if r[0] == "stack_item" else N.Name(r[2])
                out.append(N.Assign(N.Sub(N.Name(r[1]), st.target.index), val))
        return out

    def accumulate(self, var, contrib, state, out):
        a = self.adj(var)
        if var in state:
            if self.kinds.get(var) != "array":
                out.append(N.Assign(N.Name(a), self.rt("accumulate", N.Name(a), contrib)))
            elif isinstance(contrib, N.UnaryOp) and contrib.op == "USub":
                out.append(N.Assign(N.Name(a), N.BinOp("Sub", N.Name(a), contrib.operand)))
            else:
                out.append(N.Assign(N.Name(a), N.BinOp("Add", N.Name(a), contrib)))
        else:
            out.append(N.Assign(N.Name(a), contrib))
            state.add(var)

    def rev_assign(self, st, state):
        out = []
        comment = N.Comment(self.line_comment(st, "adjoint of ")) if st.loc is not None else None
        if isinstance(st.target, N.Sub):
            return self.rev_setitem(st, state, comment)
        tg = targets(st)
        if self.complex_mode and isinstance(st.target, N.Name) and st.target.id in state \
                and st.target.id not in self.complex_names:
            out.append(self._real_cotangent(st.target.id))
        p = self.an.prims.get(st.sid)
        active_out = [t for t in tg if t in self.active and t in state]
        if not active_out or p is None or p.kind in ("const", "nondiff", "unknown", "display", "dict", "pop") \
                and not (p.kind in ("display", "dict") and active_out):
            for t in tg:
                state.discard(t)
            out.extend(self.restore_code(st))
            if out and comment is not None:
                out.insert(0, comment)
            return out, state
        # the adjoint of the result, and the result itself
        if isinstance(st.target, N.Tuple):
            g_expr = N.Tuple(tuple(N.Name(self.adj(e.id)) if e.id in state else self.rt("zeros_like", N.Name(e.id))
                                   for e in st.target.elts))
            ans_expr = N.Tuple(tuple(N.Name(e.id) for e in st.target.elts))
        else:
            g_expr = N.Name(self.adj(st.target.id))
            ans_expr = N.Name(st.target.id)
        self_update = any(n in tg for n in names(st.value))
        pre = []
        if self_update:
            gets = set(p.diff_operands()) & set(tg) if p.kind in ("rule", "vjp") else set(tg)
            if gets:   # the target's own adjoint is rewritten while g is still read
                gname = self.fresh("g")
                pre.append(N.Assign(N.Name(gname), g_expr))
                g_expr = N.Name(gname)
            if p.kind != "rule" or p.rule.parsed().uses_ans:
                aname = self.fresh("ans")
                pre.append(N.Assign(N.Name(aname), ans_expr))
                ans_expr = N.Name(aname)
            for t in tg:
                state.discard(t)
            pre.extend(self.restore_code(st))
            restore_after = []
        else:
            restore_after = self.restore_code(st)
        contribs = splice.contributions(self.ctx, p, g_expr, ans_expr, pre)
        if not self_update:
            for t in tg:
                state.discard(t)
        for var, c in contribs:
            self.accumulate(var, c, state, pre)
        out.extend(pre)
        out.extend(restore_after)
        if comment is not None:
            out.insert(0, comment)
        return out, state

    def rev_setitem(self, st, state, comment):
        out = []
        base = st.target.value.id
        index = st.target.index
        if self.complex_mode and base in state and base not in self.complex_names:
            out.append(self._real_cotangent(base))
        if base in self.active and base in state:
            val = st.value
            a = self.adj(base)
            contrib = None
            if isinstance(val, N.Name) and val.id in self.active:
                if self.kinds.get(base) == "array":
                    piece = N.Sub(N.Name(a), index) if self.basic_index(index) else \
                        self.rt("written_part", N.Name(a), index_value(self, index))
                else:
                    piece = self.rt("elem", N.Name(a), index_value(self, index), N.Name(val.id))
                contrib = self.rt("unbroadcast", piece, N.Name(val.id))
                if val.id == base:       # `b[:] = b`: take the piece before the slot is zeroed
                    p = self.fresh("piece")
                    out.append(N.Assign(N.Name(p), contrib))
                    contrib = N.Name(p)
                else:
                    self.accumulate(val.id, contrib, state, out)
                    contrib = None
            out.append(N.Assign(N.Name(a), self.rt("zero_slot", N.Name(a), index_value(self, index))))
            if contrib is not None:
                self.accumulate(val.id, contrib, state, out)
        out.extend(self.restore_code(st))
        if out and comment is not None:
            out.insert(0, comment)
        return out, state

    def basic_index(self, index):
        """Is ``index`` certainly a basic index (ints, slices, None,
        Ellipsis), which writes each position at most once?"""
        for c in (index.elts if isinstance(index, N.Tuple) else (index,)):
            if isinstance(c, N.Slice) or (isinstance(c, N.Const) and (c.value is None or c.value is Ellipsis
                                                                        or type(c.value) is int)):
                continue
            if isinstance(c, N.Name) and c.id in self.an.py:
                continue
            return False
        return True

    def rev_if(self, st, state):
        b_code, b_state = self.rev_block(st.body, state)
        o_code, o_state = self.rev_block(st.orelse, state)
        joined = b_state | o_state
        b_code += self.zeros_for(joined - b_state)
        o_code += self.zeros_for(joined - o_state)
        if not b_code and not o_code:
            return self.cond_restore(st), joined
        cond = self.conds.get(st.sid)
        out = []
        test = st.test
        if cond is not None:
            if cond[0] == "stack":
                out.append(N.Assign(N.Name(cond[1]), N.Pop(slot=("cond", st.sid))))
            test = N.Name(cond[1])
        out.append(N.Comment(self.line_comment(st, "adjoint of ")))
        out.append(N.If(test, b_code, o_code))
        return out, joined

    def cond_restore(self, st):
        cond = self.conds.get(st.sid)
        if cond is not None and cond[0] == "stack":
            return [N.Eval(N.Pop(slot=("cond", st.sid)))]
        return []

    def zeros_for(self, names_):
        self.zero_reads.update(names_)
        return [N.Assign(N.Name(self.adj(v)), self.rt("zeros_like", N.Name(v))) for v in sorted(names_)]

    def rev_loop(self, st, state):
        is_for = isinstance(st, N.For)
        # fixed point of the adjoint state around the loop body
        S0 = set(state)
        saved = self.namer.counter
        for _ in range(50):
            self.namer.counter = saved
            _, S1 = self.rev_block(st.body, S0)
            if S1 <= S0:
                break
            S0 |= S1
        self.namer.counter = saved
        code, S1 = self.rev_block(st.body, S0)
        code += self.zeros_for(S0 - S1)
        out = self.zeros_for(S0 - state)
        cnt = self.counts.get(st.sid)
        if cnt and self.nested.get(st.sid):
            out.append(N.Assign(N.Name(cnt), N.Pop(slot=("count", st.sid))))
        if not code:
            if is_for:
                out.extend(self.restore_code(st))
                S0 = S0 - {st.target}
            return out, S0
        out.append(N.Comment(self.line_comment(st, "adjoint of ")))
        if is_for:
            rng = st.iter
            if cnt:
                rng = N.Sub(rng, N.Slice(None, N.Name(cnt), None))
            out.append(N.For(st.target, N.Call(_builtin(self, "reversed"), (rng,)), code))
            out.extend(self.restore_code(st))
            # the loop assigned its target: uses after the loop and inside it
            # saw those (integer) values, not the one before the loop
            S0 = S0 - {st.target}
        else:
            out.append(N.For("_", N.Call(_builtin(self, "range"), (N.Name(cnt),)), code))
        return out, S0


# --------------------------------------------------------------------------


def _builtin(tr, name):
    import builtins
    obj = getattr(builtins, name)
    return N.Static(tr.ns.ref(obj, name), obj)


def index_value(tr, index):
    from s2sad.analysis.prims import index_value as iv
    return iv(index, tr.ns)


def dedupe_comments(stmts):
    """Drop a comment that repeats the last comment of the same block."""
    out, last = [], None
    for st in stmts:
        if isinstance(st, N.Comment):
            if st.text == last:
                continue
            last = st.text
        elif isinstance(st, N.If):
            st.body = dedupe_comments(st.body)
            st.orelse = dedupe_comments(st.orelse)
        elif isinstance(st, (N.For, N.While)):
            st.body = dedupe_comments(st.body)
        out.append(st)
    return out
