"""Fresh names for generated code: ``_<hint><n>`` with one counter per
compilation, never clashing with a name the code already uses."""

from __future__ import annotations

from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, names, targets, head_exprs


class Namer:
    def __init__(self, taken):
        self.taken = set(taken)
        self.counter = 0

    def fresh(self, hint):
        self.counter += 1
        name = f"_{hint}{self.counter}"
        while name in self.taken:
            self.counter += 1
            name = f"_{hint}{self.counter}"
        return name      # unique by its number (a discarded draft may reuse it)

    def derived(self, base, suffix):
        """``base + suffix``, with ``_`` appended until it is free
        (``x_adj``, ``x_adj_``...), reserved from then on."""
        name = base + suffix
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


def all_names(fn):
    """Every local name a function uses (parameters, stores, loads)."""
    out = set(fn.params)
    for st in iter_stmts(fn.body, defs=True):
        out.update(targets(st))
        for e in head_exprs(st):
            out.update(names(e))
        if isinstance(st, N.Assign) and isinstance(st.target, N.Tuple):
            out.update(names(st.target))
    return out
