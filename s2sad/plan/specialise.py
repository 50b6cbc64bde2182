"""Element loops specialised to one call's argument types (Python backend).

A loop over the elements of an array (``u[j] = u[j] + k*(u[j+1] - u[j-1])``)
runs its reverse sweep one number at a time, and there the generic
generated code spends most of its time in runtime helpers that must work
for any value: ``unbroadcast`` of a number, the shape descriptor saved for
every temporary, ``copy_slot``, ``index_accumulate_inplace``.  Once the
argument types are known (array ranks and dtypes, which arguments are
numbers), :mod:`s2sad.analysis.scalar_types` says which names certainly
hold numbers, and this pass rewrites the generic program (IR) for that
signature:

* ``unbroadcast(g, x)`` of two numbers is ``g``;
* a number read only for its shape is not saved on the tape (pushes and
  pops go);
* ``copy_slot(a, i)`` of an element of a known-rank array is ``a[i]``;
* in-place adjoint accumulation ``a_adj = index_accumulate_inplace(a_adj,
  g, a, i)`` into one element becomes ``a_adj[i] = a_adj[i] + g``, and
  ``zero_slot_inplace`` a store of 0.  These need facts about the adjoint
  array that no static type gives (a writeable float64 ndarray shaped like
  ``a``), so they are guarded by a flag per ``(a_adj, a)`` pair, set by
  ``slot_ready`` after every statement that may rebind either name: where
  the flag is down the statement runs as generated.

The result is exactly the generic program's arithmetic, one operation per
step in the same order; the first call checks it against the generic code
(:meth:`s2sad.api.GradFunction._first_call`) before keeping it.
Functions with nested definitions (checkpointed loops' steps) are left
alone.
"""

from __future__ import annotations

from dataclasses import replace

import s2sad_runtime as _rt
from s2sad.analysis.scalar_types import (_expr, _subscript, is_scalar, saves_untaped, scalar_types,
                                         shape_only_names, value_type)
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, names, rebuild, targets, walk
from s2sad.plan.flatten import is_rt_call as _rt_call

__all__ = ["specialise"]


def _helper(name):
    return N.Attr(N.Static("_rt", _rt), name)


def specialise(fdef, args):
    """``(fdef', info)``: generated function ``fdef`` specialised to the
    types of ``args`` (its parameters' values, defaults completed), or
    ``(None, reason)`` when the specialisation changes nothing."""
    for s in iter_stmts(fdef.body, defs=True):
        if isinstance(s, (N.FunctionDef, N.Nonlocal)) or getattr(s, "strategy", None) is not None:
            return None, "a nested function or a checkpointed loop"
    arg_types = {p: value_type(a) for p, a in zip(fdef.params, args)}
    sp = _Specialiser(fdef, arg_types)
    sp.block(fdef.body)
    # again, keeping flags only for the adjoint arrays a guarded statement reads
    sp.restart(keep=sp.used)
    body = sp.block(fdef.body)
    if not sp.count:
        return None, "no element-loop statement to specialise"
    flags = [N.Assign(N.Name(f), N.Const(False)) for f in sp.flags.values()]
    # the pairs' locals start as None, so a flag update before both are bound reads None
    unbound = sorted({n for pair in sp.flags for n in pair} - set(fdef.params))
    flags += [N.Assign(N.Name(n), N.Const(None)) for n in unbound]
    return replace(fdef, body=flags + body), {"specialised": sp.count, "guards": len(sp.flags)}


class _Specialiser:
    def __init__(self, fdef, arg_types):
        self.types = scalar_types(fdef, arg_types)
        self.untaped = {v for v in shape_only_names(fdef) if is_scalar(self.types.get(v))}
        self.pairs = self._pairs(fdef)       # adjoint name -> primal name
        self.restart()

    def restart(self, keep=None):
        """A fresh rewrite, with flags only for the adjoint arrays ``keep``."""
        if keep is not None:
            self.pairs = {a: x for a, x in self.pairs.items() if a in keep}
        self.used = set()                    # adjoint names a guarded statement reads
        self.flags = {}                      # (adjoint, primal) -> flag name
        self.count = 0

    def _pairs(self, fdef):
        pairs = {}
        for s in iter_stmts(fdef.body):
            v = getattr(s, "value", None)
            if isinstance(s, N.Assign) and isinstance(s.target, N.Name) \
                    and _rt_call(v, _rt.index_accumulate_inplace) and len(v.args) == 4 \
                    and isinstance(v.args[0], N.Name) and v.args[0].id == s.target.id \
                    and isinstance(v.args[2], N.Name):
                pairs.setdefault(s.target.id, set()).add(v.args[2].id)
        # one primal per adjoint: a second one would need a flag of its own
        return {a: next(iter(xs)) for a, xs in pairs.items() if len(xs) == 1}

    def scalar(self, e):
        return is_scalar(_expr(e, self.types, {}))

    def element(self, base, idx):
        """``base[idx]`` is a number of a known-rank array (basic indexing)."""
        t = _subscript(N.Sub(base, idx), self.types, {})
        return is_scalar(t)

    def flag(self, a):
        key = (a, self.pairs[a])
        if key not in self.flags:
            self.flags[key] = f"_ready{len(self.flags) + 1}"
        return self.flags[key]

    # statements
    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        if isinstance(s, N.Push) and saves_untaped(s, self.untaped):
            self.count += 1
            return []
        if isinstance(s, N.Assign) and isinstance(s.target, N.Name) and isinstance(s.value, N.Pop) \
                and s.target.id in self.untaped:
            self.count += 1
            return []       # a number's shape is (): any value of it serves
        if isinstance(s, (N.If, N.While)):
            new = replace(s, test=self.expr(s.test), body=self.block(s.body),
                          **({"orelse": self.block(s.orelse)} if isinstance(s, N.If) else {}))
            return [new]
        if isinstance(s, N.For):
            body = self.rebound([s.target]) + self.block(s.body)
            return [replace(s, iter=self.expr(s.iter), body=body)]
        if not isinstance(s, (N.Assign, N.Eval, N.Push, N.Return)):
            return [s]
        plain = replace(s, value=self.expr(s.value))        # the rewrites that need no flag
        fast = self.guarded(s)
        if fast is None:
            return [plain] + self.rebound(self.touched(s))
        self.count += 1
        fast_stmt, adj = fast
        self.used.add(adj)
        inplace = isinstance(fast_stmt.target, N.Sub)       # the adjoint array stays itself
        return [N.If(N.Name(self.flag(adj)), [fast_stmt] + ([] if inplace else self.rebound(targets(s))),
                     [plain] + self.rebound(targets(s)))]

    def touched(self, s):
        """Names whose array a simple statement may rebind or reshape."""
        out = list(targets(s))
        if isinstance(s, N.Assign) and isinstance(s.target, N.Attr):
            out += names(s.target)
        if isinstance(s, N.Eval):
            out += names(s.value)        # a method call may resize or re-flag its object
        return out

    def rebound(self, bound):
        """Flag updates after a statement that binds ``bound``."""
        out = []
        for (a, x), f in self.flags_for(bound):
            out.append(N.Assign(N.Name(f), N.Call(_helper("slot_ready"), (N.Name(a), N.Name(x)))))
        return out

    def flags_for(self, bound):
        bound = set(bound)
        for a, x in self.pairs.items():
            if a in bound or x in bound:
                yield (a, x), self.flag(a)

    def expr(self, e):
        def node(x):
            if _rt_call(x, _rt.unbroadcast) and len(x.args) == 2 and not x.kwargs \
                    and self.scalar(x.args[0]) and self.scalar(x.args[1]):
                self.count += 1
                return x.args[0]
            if _rt_call(x, _rt.copy_slot) and len(x.args) == 2 and self.element(*x.args):
                self.count += 1
                return N.Sub(x.args[0], x.args[1])
            return None
        return rebuild(e, node)

    def guarded(self, s):
        """``(statement, adjoint name)``: the form of ``s`` that holds while
        the flag of that adjoint array is up, or None."""
        if not isinstance(s, N.Assign) or not isinstance(s.target, N.Name):
            return None
        v, a = s.value, s.target.id
        if a in self.pairs and _rt_call(v, _rt.index_accumulate_inplace) and len(v.args) == 4 \
                and isinstance(v.args[0], N.Name) and v.args[0].id == a and isinstance(v.args[2], N.Name) \
                and v.args[2].id == self.pairs[a] and self.element(v.args[2], v.args[3]) \
                and self.scalar(v.args[1]):
            slot = N.Sub(N.Name(a), v.args[3])
            g = self.expr(v.args[1])
            return N.Assign(slot, N.BinOp("Add", slot, g), loc=s.loc), a
        if a in self.pairs and _rt_call(v, _rt.zero_slot_inplace) and len(v.args) == 2 \
                and isinstance(v.args[0], N.Name) and v.args[0].id == a:
            return N.Assign(N.Sub(N.Name(a), v.args[1]), N.Const(0), loc=s.loc), a
        # g = unbroadcast(copy_slot(a_adj, i), y) of a number y: with a_adj
        # a float64 array shaped like its primal, a_adj[i] is a number
        reads = [x for x in walk(v) if _rt_call(x, _rt.copy_slot) and len(x.args) == 2
                 and isinstance(x.args[0], N.Name) and x.args[0].id in self.pairs
                 and self.element(N.Name(self.pairs[x.args[0].id]), x.args[1])]
        if len(reads) != 1:
            return None
        adj = reads[0].args[0].id
        target, made = reads[0], []

        def node(x):
            if x is target:
                made.append(N.Sub(x.args[0], x.args[1]))
                return made[-1]
            if _rt_call(x, _rt.unbroadcast) and len(x.args) == 2 and not x.kwargs and made \
                    and x.args[0] is made[0] and self.scalar(x.args[1]):
                return x.args[0]
            return None
        fast = self.expr(rebuild(v, node))
        return replace(s, value=fast), adj


def specialised_entry(f, args, generic, label, deliver, mismatch, strict=False, guarded_only=False):
    """``(entry, None)``: generic generated function ``f`` specialised to
    ``args``' types, compiled, and checked against the generic code's result
    for them (``generic``: a list holding it, or empty: it runs then;
    ``mismatch``: how two results differ, or ''); ``(None, why)`` when there
    is nothing to specialise or they disagree (``strict``: then raise).
    ``guarded_only``: only a variant with inline element accumulations (a
    guard), which the caller prefers to a plan; nothing is compiled else."""
    from s2sad import emit
    from s2sad.plan.entries import SpecialisedEntry
    from s2sad.backends.numba_lower import with_defaults
    from s2sad.ir import render

    fdef = f.__s2sad_ir__
    new, info = specialise(fdef, with_defaults(fdef, args))
    if new is None:
        return None, info
    if guarded_only and not info["guards"]:
        return None, "no element accumulation to inline"
    src = render.source(new) + "\n"
    fn = emit.compile_function(src, fdef.name, f.__s2sad_ns__, f"{label}:specialised")
    if not generic:
        generic.append(f(*args))
    bad = mismatch(generic[0], fn(*args), args)
    if bad:
        why = f"the specialised variant disagreed with the generic code ({bad})"
        if strict:
            raise AssertionError(f"s2sad specialiser: {why}\n{src}")
        return None, why
    info = dict(info, planned=0, allocating=[], buffers=0, buffer_bytes=0)
    return SpecialisedEntry(src, fn, info, deliver), None
