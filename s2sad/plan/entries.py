"""What a gradient keeps per planned signature: the planned program with
its workspace pool (:mod:`s2sad.plan`), or the element-loop specialisation
(:mod:`s2sad.plan.specialise`).  Both run through ``entry.run(args, outs)``
and expose ``entry.plan.source`` / ``entry.plan.info``."""

from __future__ import annotations

import numpy as np

from s2sad import emit


class PlanEntry:
    __slots__ = ("plan", "fn", "pool")

    def __init__(self, plan, ns, label):
        from s2sad_runtime import plan as rp
        self.plan = plan
        self.fn = emit.compile_function(plan.source, plan.fname, ns, f"{label}:planned",
                                        extra=dict(plan.consts, _rp=rp, _np=np))
        self.pool = rp.WorkspacePool(plan.buffer_specs, plan.row_specs, plan.pairs)

    def run(self, args, outs):
        """The planned code on a workspace of its own (a concurrent caller
        gets another one)."""
        pool = self.pool
        ws = pool.take()
        try:
            return self.fn(*args, _ws=ws, _outs=outs)
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

    def run(self, args, outs):
        return self.deliver(self.fn(*args), outs)


class _Info:
    __slots__ = ("source", "info", "made")

    def __init__(self, source, info):
        self.source, self.info, self.made = source, info, 0
