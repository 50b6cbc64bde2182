"""What a gradient keeps per planned signature: the planned program with
its workspace pool (:mod:`s2sad.plan`), or the element-loop specialisation
(:mod:`s2sad.plan.specialise`).  Both run through ``entry.run(args, outs)``
and expose ``entry.plan.source`` / ``entry.plan.info``."""

from __future__ import annotations

import numpy as np

from s2sad import emit
from s2sad.ir import render as R


class PlanEntry:
    __slots__ = ("plan", "fn", "pool")

    def __init__(self, plan, ns, label):
        from s2sad_runtime import plan as rp
        self.plan = plan
        self.fn = emit.compile_function(plan.source, plan.fname, ns, f"{label}:planned",
                                        extra=dict(plan.consts, _rp=rp, _np=np))
        self.pool = rp.WorkspacePool(plan.buffer_specs, plan.row_specs, plan.pairs)

    def run(self, args, outs, extra=()):
        """The planned code on a workspace of its own (a concurrent caller
        gets another one); ``extra``: the seed of a seeded call."""
        pool = self.pool
        ws = pool.take()
        try:
            return self.fn(*args, *extra, _ws=ws, _outs=outs)
        finally:
            pool.give(ws)


class SpecialisedEntry:
    """A signature's specialised program, standing where a plan would
    (:class:`s2sad.api.GradFunction` keeps it in the same table)."""
    __slots__ = ("plan", "fn", "pool", "deliver")

    def __init__(self, source, fn, info, deliver):
        self.plan = _Info(source, info)
        self.fn = fn
        self.pool = _Info(None, None)
        self.deliver = deliver

    def run(self, args, outs, extra=()):
        return self.deliver(self.fn(*args, *extra), outs)


class _Info:
    __slots__ = ("source", "info", "made")

    def __init__(self, source, info):
        self.source, self.info, self.made = source, info, 0


def plan_entry(f, plan_ir, args, generic, label, mismatch, strict):
    """Plan generated function ``f`` (its program ``plan_ir``) for the
    signature of ``args`` and check the planned variant against the
    generic code before keeping it.  The generic result of this call is
    appended to ``generic``.  Returns ``(entry, reason)``: a
    :class:`PlanEntry` and None, or False and why not."""
    from s2sad import plan as planner
    ns = f.__s2sad_ns__
    fname = f.__name__

    def run_probe(probe_fdef, probe):
        psrc = R.source(probe_fdef) + "\n"
        instrumented = emit.compile_function(psrc, fname + "_probe", ns, f"{label}:probe", extra={"_probe": probe})
        try:
            generic.append(instrumented(*args))
        except Exception:  # noqa: BLE001 - raise it from the generic code instead
            generic.append(f(*args))   # (re-raises, with the generic code's traceback)
        return generic[0]
    try:
        pl, res = planner.plan(plan_ir, ns, args, run_probe)
        if not pl.info["planned"] and not pl.consts:
            raise planner.PlanError("no array operation to plan")
    except planner.PlanError as e:
        return False, str(e)
    entry = PlanEntry(pl, ns, label)
    # twice on one workspace: the second run starts from the first one's
    # leftovers, as every later call will
    ws = entry.pool.take()
    try:
        try:
            mine = entry.fn(*args, _ws=ws)
            bad = mismatch(res, mine, args)
            if not bad:
                bad = mismatch(res, entry.fn(*args, _ws=ws.begin()), args)
        except Exception as e:  # noqa: BLE001 - a planned variant that fails is not used
            bad = f"it raised {type(e).__name__}: {e}"
        for ps in ws.pairs:
            ps.fit()          # rows as many as this signature's loops use
        entry.plan.info["workspace_bytes"] = ws.nbytes
    finally:
        entry.pool.give(ws)
    if bad:
        reason = f"the planned variant disagreed with the generic code ({bad})"
        if strict:
            raise AssertionError(f"s2sad planner: {reason}\n{pl.source}")
        return False, reason
    return entry, None
