"""Planning, step 3: what the signature fixes.

:class:`Planner` holds the flattened program of one signature and what the
probe saw.  A fixed point decides which names have shapes (arrays) or
values (ints, tuples) fixed by the signature: arguments, literals,
``.shape``, arithmetic on those, basic slices with static bounds, integer
and integer-array indices...  A boolean mask, a shape computed from data or
a loop index used as a bound is not static; statements depending on one are
left as they are (they allocate, and stay correct on every call).  Each
static array statement is then lowered (:mod:`s2sad.plan.lowering`).
"""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt_mod
from s2sad_runtime.core import is_float_dtype
from s2sad.analysis.prims import is_static, static_value
from s2sad.ir import nodes as N
from s2sad.plan import lowering as L
from s2sad.plan.flatten import clone, defer_weight_gradients, fuse_index_accumulate, Flatten
from s2sad.plan.probe import DYN, collect_sites, merge, meta_of, probe_program

DEFER_WEIGHT_GRADIENTS = True


class PlanError(Exception):
    """This code cannot be planned (the generic variant is used)."""


class Planner:
    """Plans one generic generated function for one signature."""

    def __init__(self, fdef, ns):
        import s2sad_runtime.reversible as rv
        for s in _all_stmts(fdef.body):
            if isinstance(s, (N.FunctionDef, N.Nonlocal, N.Break, N.Continue)):
                raise PlanError(f"contains {type(s).__name__}")
            for e in _exprs(s):
                if isinstance(e, N.Yield):
                    raise PlanError("contains Yield")
                if isinstance(e, N.Static) and e.obj is rv:
                    raise PlanError("runs a loop through a runtime driver")
        self.fname = fdef.name
        self.ns = ns
        fdef = N.FunctionDef(fdef.name, list(fdef.params), clone(fdef.body), list(fdef.defaults))
        fdef.body = Flatten().block(fdef.body)
        fuse_index_accumulate(fdef)
        if DEFER_WEIGHT_GRADIENTS:
            defer_weight_gradients(fdef, ns)
        self.fdef = fdef
        self.params = list(fdef.params)
        self.sites, self.by_stmt = collect_sites(fdef.body)
        self.locals = set(self.params) | {s.target for s in self.sites}
        # NumPy under the user's own name when the code has one (it reads better)
        self.np = N.Static("np", np) if ns.values.get("np") is np and "np" not in self.locals else \
            N.Static("_np", np)

    # -- probe -----------------------------------------------------------------
    def probe_program(self):
        return probe_program(self.fdef, self.by_stmt)

    def mark_values(self, probe):
        """Ask the probe for the values of statements whose result the plan
        keeps as a constant (``np.arange`` of a static length)."""
        for s in self.sites:
            if s.kind == "assign" and isinstance(s.stmt.value, N.Call) and self.resolve(s.stmt.value.func) is np.arange:
                probe.want_value.add(s.id)

    # -- resolution and metas --------------------------------------------------
    def resolve(self, e):
        return static_value(e) if is_static(e) else None

    def analyse(self, probe, arg_values):
        for s in self.sites:
            s.meta = probe.metas.get(s.id, DYN)
        self.name_meta = {}
        defaults = [d.value for d in self.fdef.defaults]
        values = list(arg_values)
        if len(values) < len(self.params):
            values += defaults[len(defaults) - (len(self.params) - len(values)):]
        for p, v in zip(self.params, values):
            self.name_meta[p] = meta_of(v)
        for s in self.sites:
            if s.kind not in ("pop", "decl"):
                self.name_meta[s.target] = merge(self.name_meta.get(s.target), s.meta)
        self.values = probe.values
        self._static()
        for s in self.sites:
            if s.kind == "assign" and self.is_array(s.target) and self.static.get(s.target):
                s.low = L.lower(self, s)
            elif s.kind == "assign" and s.meta[0] == "s":
                s.low = L.scalar_reduction(self, s)

    def meta(self, e):
        if isinstance(e, N.Name):
            return self.name_meta.get(e.id, DYN) if e.id in self.locals else ("G",)
        if isinstance(e, N.Const):
            return meta_of(e.value)
        if is_static(e):
            return ("G",)
        if isinstance(e, N.Attr) and e.attr == "T" and isinstance(e.value, N.Name):
            m = self.meta(e.value)
            if m[0] == "A":
                return ("A", tuple(reversed(m[1])), m[2], len(m[1]) < 2)
        return DYN

    def is_array(self, name):
        return self.name_meta.get(name, DYN)[0] == "A"

    def arr(self, e):
        """(shape, dtype) of an operand that is a NumPy array, else None."""
        m = self.meta(e)
        if m[0] in ("A", "L"):
            return m[1], m[2]
        return None

    def is_array_expr(self, e):
        return self.meta(e)[0] in ("A", "L")

    # -- static shapes -----------------------------------------------------------
    def _static(self):
        """Which names have values (for Python ints and tuples) or shapes
        (for arrays) that the signature fixes.  A planned statement's buffer
        must fit every call of the signature, so only those are planned."""
        st = {}
        for p in self.params:
            st[p] = self.name_meta[p][0] in ("A", "i", "b", "N", "f", "s")
            # a float's value is not static, but no planned shape reads one
        defs = {}
        for s in self.sites:
            if s.kind not in ("pop", "decl"):
                defs.setdefault(s.target, []).append(s)
        for n in defs:
            st.setdefault(n, True)
        self.static = st
        changed = True
        while changed:
            changed = False
            for n, ss in defs.items():
                if st.get(n) and not all(self._static_def(s) for s in ss):
                    st[n] = False
                    changed = True

    def sname(self, e, value=False):
        """Is operand ``e`` static (``value``: its value, not only its shape)?"""
        if e is None:
            return True
        if isinstance(e, N.Const) or is_static(e):
            return True
        if isinstance(e, N.Name):
            if e.id not in self.locals:
                return True
            if not self.static.get(e.id, False):
                return False
            m = self.name_meta.get(e.id, DYN)
            if value and m[0] == "f":
                return False
            return m != DYN
        if isinstance(e, N.Attr):
            return self.sname(e.value)
        if isinstance(e, N.Tuple):
            return all(self.sname(x, value) for x in e.elts)
        if isinstance(e, N.Slice):
            return all(self.sname(x, True) for x in (e.lower, e.upper, e.step))
        return False

    def _value_read(self, a):
        """Does a helper's lowering read operand ``a``'s value (a number
        that may be an axis or a count), not only its shape?  Not for
        arrays and floats."""
        if self.is_array_expr(a):
            return False
        m = self.meta(a)
        return not (m[0] == "f" or (m[0] == "s" and is_float_dtype(np.dtype(m[1]))))

    def _static_def(self, s):
        if s.meta == DYN:
            return False
        if s.kind == "loopvar":
            if s.meta[0] in ("i", "b"):
                return False     # the loop index varies; its value is not static
            return isinstance(s.stmt.iter, N.Name) and self.sname(s.stmt.iter)
        if s.kind == "unpack":
            return self.sname(s.stmt.value, True)
        v = s.stmt.value
        m = s.meta
        if m[0] not in ("A", "i", "b", "N", "O", "s", "f", "L"):
            return False
        value = m[0] in ("i", "b", "O")
        if isinstance(v, (N.Name, N.Const)) or is_static(v):
            return self.sname(v, value)
        if isinstance(v, N.Attr):
            return self.sname(v.value)
        if isinstance(v, N.BinOp):
            return self.sname(v.left, value) and self.sname(v.right, value)
        if isinstance(v, N.UnaryOp):
            return self.sname(v.operand, value)
        if isinstance(v, N.Compare):
            return self.sname(v.left, value) and all(self.sname(c, value) for c in v.comparators)
        if isinstance(v, N.Tuple):
            return all(self.sname(x, True) for x in v.elts)
        if isinstance(v, N.Sub):
            if not self.sname(v.value, value):
                return False
            for i in L.index_parts(v.index):
                if isinstance(i, N.Slice):
                    if not self.sname(i, True):
                        return False
                    continue
                mi = self.meta(i)
                if L.basic_component(mi):
                    if value and not self.sname(i, True):
                        return False
                    if mi[0] == "O" and not self.sname(i, True):
                        return False
                    continue
                if mi[0] == "A" and np.dtype(mi[2]).kind in "iu" and self.sname(i):
                    continue
                return False
            return True
        if isinstance(v, N.Call):
            fn = self.resolve(v.func)
            if fn is None:
                return False
            args = list(v.args) + [e for _, e in v.kwargs]
            if isinstance(fn, np.ufunc) or fn in (np.matmul, np.dot, np.outer, np.clip):
                return all(self.sname(a) for a in args)
            if fn is _rt_mod.PairSum:
                return True
            if fn in L.FILLS or fn in (np.full, np.full_like, np.arange, slice, len, range, int, tuple) \
                    or fn in L.REDUCTIONS.values():
                return all(self.sname(a, True) if not self.is_array_expr(a) else self.sname(a) for a in args)
            if any(fn is h for h in L.SHAPE_VALUES):
                return all(self.sname(a) for a in args)
            if isinstance(fn, type) and issubclass(fn, np.generic) and is_float_dtype(np.dtype(fn)):
                return all(self.sname(a) for a in args)     # a float made a NumPy float (a seed's cast)
            if L.helper_lowering(fn) is not None:
                return all(self.sname(a, self._value_read(a)) for a in args)
        return False


def _all_stmts(body):
    for s in body:
        yield s
        for b in N.blocks(s):
            yield from _all_stmts(b)


def _exprs(s):
    from s2sad.ir.visit import head_exprs, walk
    for e in head_exprs(s):
        yield from walk(e)
