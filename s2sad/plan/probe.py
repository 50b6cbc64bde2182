"""Planning, step 2: the probe.

Every definition in the flattened program is a *site* (a name bound by a
statement).  The first call of a signature runs an instrumented copy of the
program that reports, per site, the type, shape and dtype of what it
defined (its *meta*), how often it ran, and the values of the sites whose
result the plan keeps as a constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import s2sad_runtime as _rt_mod
from s2sad.ir import nodes as N


def dtype_key(dt):
    """A dtype as the planner keeps it: its string, or its name for a dtype
    ``dt.str`` does not name (ml_dtypes' bfloat16 is ``'<V2'``, a void)."""
    return dt.str if dt.kind != "V" else dt.name


def meta_of(v):
    """What the planner needs to know of a value."""
    t = type(v)
    if t is np.ndarray:
        return ("A", v.shape, dtype_key(v.dtype), bool(v.flags.c_contiguous))
    if t is bool:
        return ("b",)
    if t is int:
        return ("i",)
    if t is float:
        return ("f",)
    if isinstance(v, np.generic):
        return ("s", dtype_key(v.dtype))
    if v is None:
        return ("N",)
    if t is _rt_mod.Like:
        return ("L", v.shape, dtype_key(v.dtype))
    return ("O", t.__name__)


DYN = ("X",)


def merge(a, b):
    if a is None:
        return b
    return a if a == b else DYN


class Probe:
    def __init__(self):
        self.metas = {}
        self.counts = {}
        self.values = {}
        self.want_value = set()

    def __call__(self, k, v):
        self.metas[k] = merge(self.metas.get(k), meta_of(v))
        self.counts[k] = self.counts.get(k, 0) + 1
        if k in self.want_value and k not in self.values:
            self.values[k] = np.array(v, copy=True)
        return v


@dataclass
class Site:
    id: int
    stmt: object         # the IR statement
    target: str
    kind: str            # assign | pop | decl | unpack | loopvar
    meta: tuple = None
    low: object = None   # a Lowering, or None (left generic)


def collect_sites(body):
    """Sites of a program, in order, and ``sid -> [sites]``."""
    sites, by_stmt = [], {}

    def add(st, name, kind):
        s = Site(len(sites), st, name, kind)
        sites.append(s)
        by_stmt.setdefault(st.sid, []).append(s)

    def walk(stmts):
        for s in stmts:
            if isinstance(s, N.Assign):
                t = s.target
                if isinstance(t, N.Name):
                    kind = "pop" if isinstance(s.value, N.Pop) else \
                        "decl" if isinstance(s.value, N.Const) and s.value.value is None else "assign"
                    add(s, t.id, kind)
                elif isinstance(t, N.Tuple):
                    for e in t.elts:
                        if isinstance(e, N.Name):
                            add(s, e.id, "unpack")
            elif isinstance(s, N.For):
                add(s, s.target, "loopvar")
                walk(s.body)
            elif isinstance(s, N.If):
                walk(s.body)
                walk(s.orelse)
            elif isinstance(s, N.While):
                walk(s.body)
    walk(body)
    return sites, by_stmt


def probe_program(fdef, by_stmt):
    """The flattened program with a ``_probe(site, value)`` after each
    definition; it computes what the generic program computes."""
    from s2sad.plan.flatten import clone
    probe = N.Static("_probe", None)

    def call(site):
        return N.Eval(N.Call(probe, (N.Const(site.id), N.Name(site.target))))

    def walk(body, orig):
        out = []
        for s, o in zip(body, orig):
            if isinstance(s, N.Assign) and isinstance(s.target, (N.Name, N.Tuple)):
                out.append(s)
                out.extend(call(site) for site in by_stmt.get(o.sid, []))
                continue
            if isinstance(s, N.For):
                s.body = [call(site) for site in by_stmt.get(o.sid, [])] + walk(s.body, o.body)
            elif isinstance(s, N.If):
                s.body, s.orelse = walk(s.body, o.body), walk(s.orelse, o.orelse)
            elif isinstance(s, N.While):
                s.body = walk(s.body, o.body)
            out.append(s)
        return out
    body = clone(fdef.body)
    return N.FunctionDef(fdef.name + "_probe", fdef.params, walk(body, fdef.body), fdef.defaults)
