"""Shape-specialised planning: an allocation-free variant of generated code.

After the first call of a gradient with a given signature (array shapes and
dtypes, integer arguments), :func:`plan` rewrites the generic generated
program -- the IR the transform produced, never its text -- so that every
array it computes lands in a preallocated buffer:

1. **Flatten** to one operation per statement (:mod:`.flatten`).
2. **Probe**: the first call runs an instrumented copy that records the
   type, shape and dtype of every value each statement defines
   (:mod:`.probe`).
3. **Static shapes and lowering** of each statement whose result is an
   array of a shape the signature fixes (:mod:`.shapes`,
   :mod:`.lowering`).
4. **Allocate** by liveness, like a compiler's register allocator
   (:mod:`.allocation`).
5. **Return** gradients written straight into result arrays: fresh ones, or
   the caller's ``out=`` arrays (then the call allocates no array memory).

The planned program is rendered as ordinary Python (``df.planned_source``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import s2sad_runtime as _rt_mod
from s2sad_runtime.core import is_float_dtype
from s2sad.ir import nodes as N
from s2sad.ir import render as R
from s2sad.ir.visit import head_exprs, rebuild, targets, walk
from s2sad.plan import batched as _batched, lowering as _lowering
from s2sad.plan.allocation import Allocation
from s2sad.plan.flatten import is_rt_call, nested
from s2sad.plan.lowering import CONST, O, RP, instantiate, scratch as scratch_ph
from s2sad.plan.probe import DYN, Probe, dtype_key
from s2sad.plan.shapes import PlanError, Planner

__all__ = ["plan", "Plan", "PlanError"]

_lowering.HELPERS.update(_batched.LOWERINGS)
_lowering.SHAPE_VALUES.extend(_batched.SHAPE_VALUES)


@dataclass
class Plan:
    source: str
    fname: str
    buffer_specs: list
    row_specs: list
    consts: dict
    info: dict
    pairs: int = 0


def _grad_out_calls(ret):
    """The calls of a return value that deliver gradients, in order:
    ``_rt.grad_out(NAME, X)``, or ``_rt.b_grad_out(NAME, X, gb, xb, n)``
    (a batch of per-example gradients, from ``vmap(grad(f))``), or
    ``_rt.grad_out_as(NAME, X, DTYPE)`` (a precision policy)."""
    return [n for n in walk(ret) if is_rt_call(n, _rt_mod.grad_out) and len(n.args) == 2
            or is_rt_call(n, _rt_mod.grad_out_as) and len(n.args) == 3
            or is_rt_call(n, _rt_mod.b_grad_out) and len(n.args) == 5]


def _result_meta(p, c):
    """The meta of the gradient a delivering call returns when it is its
    operand as it is (shape and dtype); DYN when it may be anything else.
    ``grad_out_as(g, x, dtype)`` (a precision policy) delivers ``dtype``."""
    x = c.args[1]
    if not is_rt_call(c, _rt_mod.b_grad_out):
        m = p.meta(x)
        if is_rt_call(c, _rt_mod.grad_out_as):
            dt = p.resolve(c.args[2])
            if dt is None or m[0] != "A" or not is_float_dtype(np.dtype(m[2])):
                return DYN
            return ("A", m[1], dtype_key(np.dtype(dt))) + tuple(m[3:])
        return m
    gb, xb = c.args[2], c.args[3]
    mg, mx = p.meta(c.args[0]), p.meta(x)
    if not (isinstance(gb, N.Const) and gb.value is True and isinstance(xb, N.Const)) \
            or mg[0] != "A" or mx[0] != "A" or np.dtype(mx[2]).kind not in "fc":
        return DYN
    lane = mx[1][1:] if xb.value else mx[1]
    return ("A", (mg[1][0],) + tuple(lane), mx[2])


def _ws(*path):
    e = N.Name("_ws")
    for a in path:
        e = N.Attr(e, a)
    return e


def plan(fdef, ns, args, run_probe):
    """Plan generic generated function ``fdef`` (IR) for the signature of
    ``args``.  ``run_probe(probe_fdef, probe)`` runs the instrumented
    program on ``args`` and returns its result.  Returns ``(plan, result)``."""
    p = Planner(fdef, ns)
    probe = Probe()
    p.mark_values(probe)
    result = run_probe(p.probe_program(), probe)
    p.analyse(probe, args)
    fdef = p.fdef
    rets = [s for s in _all(fdef.body) if isinstance(s, N.Return)]
    if len(rets) != 1 or rets[0] is not fdef.body[-1]:
        raise PlanError("the function does not end in its only return")
    ret = rets[0]
    calls = _grad_out_calls(ret.value)
    result_names = {}
    for i, c in enumerate(calls):
        if not isinstance(c.args[0], N.Name):
            continue
        n = c.args[0].id
        mn, mx = p.name_meta.get(n, DYN), _result_meta(p, c)
        if n not in result_names and mn[0] == "A" and mx[0] == "A" and mn[1:3] == mx[1:3]:
            result_names[n] = i
    al = Allocation(p, result_names)
    # the planner's own names, clear of every name of the function (whose
    # locals may be ``_b5`` or ``_r3``: an inlined ``b`` or an unpacked ``r``)
    used = _names_in(fdef)
    B, RS, RR, C, O_ = (_free_stem(st, used) for st in ("_b", "_rs", "_r", "_c", "_o"))

    # physical buffers: the liveness-coloured ones, then scratch
    buffer_specs = [(shape, dt) for shape, dt, _ in al.phys]
    scratch_index = {}

    def scratch(low):
        """Placeholders -> buffers for a lowering's scratch: buffers shared
        by every statement's scratch of the same spec and position."""
        out = {}
        for j, spec in enumerate(low.scratch):
            key = (spec[0], spec[1], j)
            if key not in scratch_index:
                scratch_index[key] = len(buffer_specs)
                buffer_specs.append(spec)
            out[scratch_ph(j)] = N.Name(f"{B}{scratch_index[key]}")
        return out

    row_names = sorted(al.rows, key=lambda n: [s.id for s in p.sites if s.target == n][0])
    row_specs = []
    for n in row_names:
        m = p.name_meta[n]
        cap = sum(probe.counts.get(s.id, 0) for s in al.defs[n])
        row_specs.append((m[1], m[2], cap))
    consts = {}
    generic_sites = []
    dropped = []
    pairs = []

    def rewrite(body):
        out = []
        for s in body:
            if nested(s, rewrite):
                out.append(s)
                continue
            sites = p.by_stmt.get(s.sid, [])
            site = sites[0] if len(sites) == 1 and sites[0].kind == "assign" else None
            if site is not None and isinstance(s.value, N.Call) and p.resolve(s.value.func) is _rt_mod.PairSum:
                out.append(N.Assign(N.Name(site.target),
                                    N.Call(N.Attr(N.Sub(_ws("pairs"), N.Const(len(pairs))), "begin"))))
                pairs.append(site.target)
                continue
            if site is not None and site.low is not None and site.low.scalar:
                pre, expr = instantiate(site.low, scratch(site.low))
                out.extend(pre + [N.Assign(N.Name(site.target), expr)])
                continue
            if site is None or site.low is None or not p.is_array(site.target):
                if site is not None and p.is_array(site.target) and site.kind == "assign":
                    generic_sites.append(site)
                out.append(s)
                continue
            low, x = site.low, site.target
            if x not in al.after.get(s.sid, {x}) and x not in al.rows:
                dropped.append(R.source(s))
                continue          # a value nothing reads (a dead final reduction's operand)
            if low.view:
                if low.const is not None:
                    cname = f"{C}{len(consts)}"
                    consts[cname] = low.const
                    out.append(N.Assign(N.Name(x), instantiate(low, {CONST: N.Static(cname, low.const)})[1]))
                else:
                    out.append(N.Assign(N.Name(x), low.expr))
                continue
            if x not in al.buffered:
                generic_sites.append(site)
                out.append(s)
                continue
            fmt = scratch(low)
            if low.const is not None:
                cname = f"{C}{len(consts)}"
                consts[cname] = low.const
                fmt[CONST] = N.Static(cname, low.const)
            if x in al.rows:
                buf = N.Call(N.Attr(N.Name(f"{RS}{row_names.index(x)}"), "next"))
            elif x in al.results:
                buf = N.Name(f"{RR}{al.results[x]}")
            else:
                buf = N.Name(f"{B}{al.buffer_of[x]}")
            if low.pre or low.out_uses() != 1 or (x in al.rows and low.expr is O):
                if x in al.rows:
                    out.append(N.Assign(N.Name(O_), buf))
                    buf = N.Name(O_)
            pre, expr = instantiate(low, {**fmt, O: buf})
            out.extend(pre + [N.Assign(N.Name(x), expr)])
        return out

    fdef.body = rewrite(fdef.body)
    planned = len([s for s in p.sites if s.kind == "assign" and s.target in al.buffered])

    # the return: gradients written into result arrays, or delivered
    ret = fdef.body[-1]
    repl = {}
    for i, c in enumerate(_grad_out_calls(ret.value)):
        n = c.args[0].id if isinstance(c.args[0], N.Name) else None
        if n is not None and result_names.get(n) == i and n in al.results:
            repl[id(c)] = N.Name(n)
        else:
            inside = n is not None and bool(al.refs.get(n, set()) & al.buffered)
            repl[id(c)] = N.Call(N.Attr(RP, "deliver"), (c, N.Name("_outs"), N.Const(i), N.Const(inside)))
    value = rebuild(ret.value, lambda e: repl.get(id(e)))

    def copies(e):
        if isinstance(e, N.Tuple):
            return N.Tuple(tuple(N.Call(N.Attr(x, "copy")) if isinstance(x, N.Name) and p.is_array(x.id)
                                 and al.refs.get(x.id, set()) & al.buffered and x.id not in al.results else x
                                 for x in e.elts))
        return None
    ret.value = rebuild(value, copies)

    # prologue and signature
    pro = []
    if buffer_specs:
        pro.append(N.Assign(N.Tuple(tuple(N.Name(f"{B}{k}") for k in range(len(buffer_specs)))), _ws("buffers")))
    if row_names:
        pro.append(N.Assign(N.Tuple(tuple(N.Name(f"{RS}{k}") for k in range(len(row_names)))), _ws("rows")))
    for n, i in sorted(al.results.items(), key=lambda t: t[1]):
        m = p.name_meta[n]
        pro.append(N.Assign(N.Name(f"{RR}{i}"), N.Call(N.Attr(RP, "result"), (
            N.Name("_outs"), N.Const(i), N.Const(m[1]), N.Const(np.dtype(m[2]).name)))))
    head = [N.Comment(" planned for this signature: buffers from the workspace _ws")]
    out_fdef = N.FunctionDef(p.fname + "_planned", p.params + ["_ws", "_outs"], head + pro + fdef.body,
                             list(fdef.defaults) + [N.Const(None), N.Const(None)])
    text = R.source(out_fdef) + "\n"
    nbytes = sum(int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in buffer_specs)
    info = {
        "planned": planned,
        "allocating": [R.source(s.stmt) for s in generic_sites],
        "demoted": dict(al.demoted),
        "buffers": len(buffer_specs),
        "buffer_bytes": nbytes,
        "row_stores": len(row_names),
        "dropped": dropped,       # (workspace_bytes is measured on the workspace once it ran)
    }
    return Plan(text, out_fdef.name, buffer_specs, row_specs, consts, info, len(pairs)), result


def _names_in(fdef):
    """Every name the function binds or reads."""
    used = set(fdef.params)
    for st in _all(fdef.body):
        used.update(targets(st))
        for e in head_exprs(st):
            used.update(x.id for x in walk(e) if isinstance(x, N.Name))
    return used


def _free_stem(stem, used):
    """``stem``, or ``_stem``, ``__stem``...: the first prefix such that no
    name in ``used`` is it followed by digits (or it alone)."""
    while any(u.startswith(stem) and u[len(stem):].isdigit() or u == stem for u in used):
        stem = "_" + stem
    return stem


def _all(body):
    for s in body:
        yield s
        for b in N.blocks(s):
            yield from _all(b)
