"""Analyses of the normalized program, each a pass computed once into a
table that the transforms read (nothing is stored on the IR's nodes).

:func:`analyze` runs them in order and returns an :class:`Analysis`:

========================  ==================================================
``prims``                 sid -> :class:`~.prims.Prim` (rule and binding)
``kinds``, ``py``         array / container; certainly-scalar names
``active``                names that need adjoints or tangents
``needed``, ``shape_only`` what the reverse sweep reads (:mod:`.needed`)
``assign_counts``         how often each name is bound
========================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from s2sad.analysis import activity as _activity
from s2sad.analysis import kinds as _kinds
from s2sad.analysis import needed as _needed
from s2sad.analysis import prims as _prims
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, targets


@dataclass(frozen=True)
class Analysis:
    prims: dict
    kinds: dict
    py: frozenset
    active: frozenset
    needed: frozenset
    shape_only: frozenset
    assign_counts: dict
    result: str

    def is_scalar_atom(self, a):
        if isinstance(a, N.Name):
            return a.id in self.py
        return _kinds.scalar_const(a)


def analyze(fn, wrt, rules, ns, kinds_in, check=None):
    """Run the analyses of normalized function ``fn`` differentiated with
    respect to the names ``wrt``.  ``check(analysis_so_far)`` may raise on
    an active primitive without a rule (the transforms' own checks)."""
    body = fn.body
    ret = body[-1]
    result = ret.value.id if isinstance(ret.value, N.Name) else None
    prims = _prims.classify_all(body, rules, ns)
    kinds = _kinds.infer_kinds(body, prims, kinds_in)
    py = frozenset(_kinds.infer_py(body, fn.params, kinds_in))
    active = frozenset(_activity.activity(body, wrt, prims, result))
    if check is not None:
        check(prims, active)

    def is_scalar(a):
        return a.id in py if isinstance(a, N.Name) else _kinds.scalar_const(a)
    needed, shape_only = _needed.compute_needed(body, prims, active, kinds, ns, is_scalar)
    counts = {}
    for st in iter_stmts(body):
        for t in targets(st):
            counts[t] = counts.get(t, 0) + 1
    return Analysis(prims, kinds, py, active, frozenset(needed), frozenset(shape_only), counts, result)
