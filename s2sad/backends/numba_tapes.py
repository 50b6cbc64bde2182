"""Which tapes of a generated function the Numba backend keeps as arrays
(issue 15): a saved number is written into a preallocated array at an
index, not appended to a list.

A list of numbers costs an append and a pop per saved value, each a call
into Numba's list code; an element loop saves several numbers per element
(the heat stencil's reverse sweep ran 1.8x faster with arrays).  An array
needs its size before the loop that fills it, so a slot qualifies when:

* every value saved to it is a number of one dtype (float64, int64 or
  bool: :mod:`s2sad.analysis.scalar_types`);
* every push of it sits in the same innermost loop, a ``for`` over a
  ``range`` whose bounds are names, numbers and arithmetic (evaluated again
  just before the loop, to the same values), or in no loop at all;
* every pop of it is the whole value of an assignment.

Before that loop, the tape is grown (if need be) to hold its pushes per
iteration times the trip count more (``_nb_tape_reserve``, outside the
loop: growing inside it would rebind the array on the hot path); a push is
``_tapeN[_topN] = v; _topN = _topN + 1`` and a pop
``_topN = _topN - 1; x = _tapeN[_topN]``.  Anything else keeps its list.
"""

from __future__ import annotations

import builtins

from s2sad.analysis.scalar_types import expr_type, is_scalar, saves_untaped
from s2sad.ir import nodes as N
from s2sad.ir.visit import head_exprs, walk

_DTYPES = ("float64", "int64", "bool")


class ArraySlot:
    """A tape kept as an array: its dtype, the ``sid`` of the loop whose
    entry reserves room (None: no loop), and its pushes per iteration."""

    def __init__(self, dtype, loop, per_iteration):
        self.dtype = dtype
        self.loop = loop
        self.per_iteration = per_iteration


def array_slots(body, types, untaped):
    """slot -> :class:`ArraySlot` for the tapes of ``body`` (a generated
    function's statements) that can be arrays; ``types``: the scalar types
    of its names; ``untaped``: numbers whose saves the lowering drops."""
    pushes, bad = {}, set()

    def visit(stmts, loop):
        for s in stmts:
            if isinstance(s, N.Push):
                if s.slot is None or saves_untaped(s, untaped):
                    bad.add(s.slot)
                    continue
                t = expr_type(s.value, types)
                pushes.setdefault(s.slot, []).append((loop, t[1] if is_scalar(t) else None))
            for e in head_exprs(s):
                for x in walk(e):
                    if isinstance(x, N.Pop) and not (isinstance(s, N.Assign) and s.value is x):
                        bad.add(x.slot)
            if isinstance(s, N.If):
                visit(s.body, loop)
                visit(s.orelse, loop)
            elif isinstance(s, N.For):
                visit(s.body, s.sid if _range_loop(s) else False)
            elif isinstance(s, N.While):
                visit(s.body, False)
            elif isinstance(s, N.FunctionDef):
                visit(s.body, False)
    visit(body, None)
    out = {}
    for slot, ps in pushes.items():
        loops = {p[0] for p in ps}
        dtypes = {p[1] for p in ps}
        if slot in bad or len(loops) != 1 or False in loops or len(dtypes) != 1 or dtypes.pop() not in _DTYPES:
            continue
        out[slot] = ArraySlot(ps[0][1], loops.pop(), len(ps))
    return out


def _range_loop(s):
    """Is ``s`` a loop over ``range(...)`` of pure bounds?"""
    it = s.iter
    return isinstance(it, N.Call) and isinstance(it.func, N.Static) and it.func.obj is builtins.range \
        and 1 <= len(it.args) <= 3 and not it.kwargs and all(_pure(a) for a in it.args)


def _pure(e):
    return all(isinstance(x, (N.Name, N.Const, N.BinOp, N.UnaryOp)) for x in walk(e))


def range_args(it):
    """(start, stop, step) of ``range(...)`` call ``it``."""
    args = list(it.args)
    if len(args) == 1:
        args = [N.Const(0)] + args
    if len(args) == 2:
        args.append(N.Const(1))
    return args
