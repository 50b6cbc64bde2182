"""Kinds of values: arrays (or numbers), containers, Python scalars.

* ``kinds``: ``'array'`` for names that certainly hold arrays or numbers
  (their adjoints add with ``+``), ``'container'`` for names that may hold
  a list, tuple or dict (their adjoint is a container accumulated with
  ``_rt.accumulate``); names left out are unknown (treated as containers).
* ``py``: names that certainly hold scalars -- Python numbers, or NumPy
  scalars made by ufuncs of scalars -- between which no ``unbroadcast`` is
  needed.  A greatest fixed point: every name starts as a number and is
  dropped when an assignment contradicts it.

The kinds of the arguments come from the first call (``kinds_in``:
'array', 'container' or 'py').
"""

from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, targets

_PY_ALWAYS = {builtins.float, builtins.int, builtins.len, builtins.bool}
_PY_IF_ARGS = {builtins.abs, builtins.round, builtins.min, builtins.max, builtins.pow}
# runtime helpers whose value has the kind of their first argument
_SAME_KIND = (_rt.zeros_like, _rt.fresh, _rt.own, _rt.stop_gradient)


def _in(f, group):
    return any(f is g for g in group)


def assignments(body):
    """name -> the statements that bind it."""
    out = {}
    for st in iter_stmts(body):
        for t in targets(st):
            out.setdefault(t, []).append(st)
    return out


def infer_kinds(body, prims, kinds_in):
    kinds = {k: ("array" if v == "py" else v) for k, v in kinds_in.items()}
    assigns = assignments(body)
    changed = True
    while changed:
        changed = False
        for var, sts in assigns.items():
            if var in kinds:
                continue
            ks = {_value_kind(st, kinds, prims) for st in sts}
            if "container" in ks or None in ks:
                k = "container" if "container" in ks else None
            else:
                k = "array"
            if k is not None:
                kinds[var] = k
                changed = True
    return kinds


def _value_kind(st, kinds, prims):
    if isinstance(st, N.For):
        return "array"
    if not isinstance(st, N.Assign) or isinstance(st.target, N.Tuple):
        return "container"
    v = st.value
    if isinstance(v, (N.List, N.Tuple, N.Dict)):
        return "container"
    if isinstance(v, N.Name):
        return kinds.get(v.id)
    if isinstance(v, N.Static):
        return "container"
    if isinstance(v, (N.BinOp, N.UnaryOp, N.Const, N.Compare, N.Attr)):
        return "array"
    if isinstance(v, N.Sub):
        if isinstance(v.value, N.Name) and kinds.get(v.value.id) == "array":
            return "array"
        return "container"
    if isinstance(v, N.Call):
        p = prims.get(st.sid)
        if p is not None and p.rule is not None and _in(p.rule.key, _SAME_KIND) and v.args:
            a = v.args[0]       # zeros_like(d) of a dict is a dict
            return kinds.get(a.id) if isinstance(a, N.Name) else "container"
        if p is not None and p.kind in ("rule", "nondiff") and p.rule is not None and \
                p.rule.key not in (list, tuple, dict) and p.rule.returns != "container":
            return "array"
        return "container"
    return "container"


def scalar_const(e):
    """Is ``e`` a numeric literal or a static Python number?"""
    if isinstance(e, N.Const):
        return isinstance(e.value, (int, float, bool))
    if is_static(e):
        v = static_value(e)
        return isinstance(v, numbers.Real) and not hasattr(v, "shape")
    return False


def infer_py(body, params, kinds_in):
    assigns = assignments(body)
    py = {v for v in assigns if v not in params or kinds_in.get(v) == "py"}
    py |= {v for v in params if kinds_in.get(v) == "py"}

    def atom_py(a):
        if isinstance(a, N.Name):
            return a.id in py
        return scalar_const(a)

    def value_py(st):
        if isinstance(st, N.For):
            return isinstance(st.iter, N.Call) and static_value(st.iter.func) is builtins.range
        if not isinstance(st, N.Assign) or not isinstance(st.target, N.Name):
            return False
        v = st.value
        if isinstance(v, (N.Const, N.Name, N.Static)):
            return atom_py(v)
        if isinstance(v, N.BinOp):
            return atom_py(v.left) and atom_py(v.right)
        if isinstance(v, N.UnaryOp):
            return atom_py(v.operand)
        if isinstance(v, N.Compare):
            return atom_py(v.left) and all(atom_py(c) for c in v.comparators)
        if isinstance(v, N.Call):
            if not is_static(v.func):
                return False
            obj = static_value(v.func)
            if getattr(obj, "__module__", None) == "math" or obj in _PY_ALWAYS:
                return True
            if isinstance(obj, np.ufunc):   # a ufunc of scalars is a (NumPy) scalar
                return all(atom_py(a) for a in v.args) and not v.kwargs
            if obj in _PY_IF_ARGS:
                return all(atom_py(a) for a in v.args) and not v.kwargs
        return False

    changed = True
    while changed:
        changed = False
        for var in list(py):
            if var in assigns and not all(value_py(st) for st in assigns[var]):
                py.discard(var)
                changed = True
    return py


_ = math
