"""Which names of a generated function certainly hold scalars, and of which
dtype, for one call's argument types: read by the Numba lowering
(:mod:`s2sad.backends.numba_lower`) and by the Python backend's element-loop
specialisation (:mod:`s2sad.plan.specialise`).

A flow-insensitive forward pass over the generated program from the types
of the arguments of one call: each name gets the join of what every
assignment to it may give -- ``("s", dtype)`` a number of that dtype (None:
a number of unknown dtype), ``("a", ndim)`` an array, ``NONE`` only the
placeholder ``None``, ``TOP`` unknown.  Two uses:

* a saved value that the reverse sweep reads only for its shape (the
  second argument of ``unbroadcast``, ``zeros_like``...) needs no tape
  when it is a number: every number has the shape ``()``;
* a placeholder ``x = None`` of a float64, int64 or bool number becomes
  ``0.0``, ``0`` or ``False``, so Numba types ``x`` as that number rather
  than an optional one it checks at every use.

The result is a table keyed by name; a name the pass cannot type is simply
left as Numba would see it.  The pass is sound for claims of "number": a
name read but never bound here (a free name, a comprehension's variable),
and a parameter of unknown type, start at ``TOP``, so the optimistic
"not typed yet" of the iteration never survives into the result.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.ir import nodes as N
from s2sad.ir.visit import children as _children, head_exprs, iter_stmts, targets, walk

TOP = ("top",)
NONE = ("none",)

# helpers whose value is argument k itself (or its copy): its type
_SAME_AS = {_rt.fresh: 0, _rt.own: 0, _rt.view_sync: 0, _rt.view_rederive: 0}
# helpers whose value is a number when argument k is (dtype unknown)
_NUMBER_IF = {_rt.zeros_like: 0, _rt.unbroadcast: 1, _rt.broadcast_as: 1, _rt.grad_out: 1, _rt.accumulate: 0,
              _rt.sum_adjoint: 1, _rt.mean_adjoint: 1}
# arguments read only for their shape and dtype (helper -> positions)
SHAPE_ONLY = {_rt.like: (0,), _rt.zeros_like: (0,), _rt.unbroadcast: (1,), _rt.broadcast_as: (1,),
              _rt.sum_adjoint: (1,), _rt.mean_adjoint: (1,)}
_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.dot, np.vdot}
_INT_BUILTINS = {builtins.len, builtins.int}
# NumPy constructors of an array like their first argument (without keywords)
LIKE_ARRAY = (np.zeros_like, np.ones_like, np.empty_like, np.full_like)


def scalar_types(fdef, arg_types):
    """name -> type (see the module docstring); ``arg_types``: the
    parameters' types, as :func:`value_type` gives them."""
    stmts = list(iter_stmts(fdef.body, defs=True))
    types = {p: TOP for p in fdef.params}
    types.update(arg_types)
    start_unknown(stmts, types)
    pushes = {}
    for _ in range(20):
        changed = False
        for s in stmts:
            new = {}
            if isinstance(s, N.Assign) and isinstance(s.target, N.Name):
                new[s.target.id] = _expr(s.value, types, pushes)
            elif isinstance(s, N.Assign):
                for t in targets(s):
                    new[t] = TOP if not isinstance(s.target, N.Sub) else types.get(t, TOP)
            elif isinstance(s, N.For):
                new[s.target] = ("s", "int64") if is_range(s.iter) else TOP
            elif isinstance(s, N.Push):
                new[("slot", s.slot)] = _expr(s.value, types, pushes)
            for k, t in new.items():
                store = pushes if isinstance(k, tuple) else types
                j = join(store.get(k), t)
                if j != store.get(k):
                    store[k] = j
                    changed = True
        if not changed:
            break
    return types


def start_unknown(stmts, table):
    """Set the names of ``stmts`` that a flow-insensitive pass must not
    claim anything about to ``TOP`` in ``table``: parameters of inner
    functions, comprehension variables, names read but never bound here
    (unless ``table`` already holds them: the outer parameters)."""
    bound = {t for s in stmts for t in targets(s)}
    bound.update(s.name for s in stmts if isinstance(s, N.FunctionDef))
    for s in stmts:
        if isinstance(s, N.FunctionDef):
            table.update((p, TOP) for p in s.params)     # (inner scopes: nothing claimed)
        for e in head_exprs(s):
            for x in walk(e):
                if isinstance(x, N.ListComp):
                    table[x.target] = TOP
                elif isinstance(x, N.Name) and x.id not in bound:
                    table.setdefault(x.id, TOP)


def value_type(v):
    """The type of a run-time argument."""
    if isinstance(v, (bool, np.bool_)):
        return ("s", "bool")
    if isinstance(v, (int, np.integer)):
        return ("s", "int64" if isinstance(v, int) else str(np.asarray(v).dtype))
    if isinstance(v, (float, np.floating)):
        return ("s", "float64" if isinstance(v, float) else str(np.asarray(v).dtype))
    if type(v) is np.ndarray:
        return ("a", v.ndim, str(v.dtype))
    return TOP


def is_range(it):
    """``range(...)``, ``reversed(range(...))``, ``range(...)[:n]``."""
    if isinstance(it, N.Sub):
        return is_range(it.value)
    if not (isinstance(it, N.Call) and is_static(it.func)):
        return False
    f = static_value(it.func)
    return f is builtins.range or (f is builtins.reversed and len(it.args) == 1 and is_range(it.args[0]))


def join_known(a, b):
    """The join of two facts where it needs no knowledge of what they say
    (one is unset, the placeholder, or they are equal); None otherwise."""
    if a is None or b == NONE or a == b:
        return b if a is None else a
    if b is None or a == NONE:
        return a if b is None else b
    return None


def join(a, b):
    j = join_known(a, b)
    if j is not None or a is None or b is None:
        return j
    if a[0] == "s" and b[0] == "s":
        return ("s", None)
    if a[0] == "a" and b[0] == "a" and a[1] == b[1]:
        return ("a", a[1], None)
    return TOP


def is_scalar(t):
    return t is not None and t[0] == "s"


def expr_type(e, types):
    """The type of expression ``e`` given the names' ``types`` (a value
    restored from a tape: None, unknown)."""
    return _expr(e, types, {})


def _expr(e, types, pushes):
    if isinstance(e, N.Const):
        v = e.value
        if v is None:
            return NONE
        return value_type(v) if isinstance(v, (bool, int, float)) else TOP
    if isinstance(e, N.Name):
        return types.get(e.id)
    if isinstance(e, N.Pop):
        return pushes.get(("slot", e.slot))
    if isinstance(e, N.BinOp):
        a, b = _expr(e.left, types, pushes), _expr(e.right, types, pushes)
        if a is None or b is None:
            return None
        if is_scalar(a) and is_scalar(b):
            return ("s", _promote(a[1], b[1], e.op))
        nd = [t[1] for t in (a, b) if t[0] == "a"]
        if e.op == "MatMult":
            return _matmul_rank(a, b)
        if nd and all(t[0] in "as" for t in (a, b)):
            return ("a", max(nd), None)      # broadcasting: the larger rank
        return TOP
    if isinstance(e, N.UnaryOp):
        a = _expr(e.operand, types, pushes)
        if a is None:
            return None
        return ("s", "bool") if e.op == "Not" and is_scalar(a) else a
    if isinstance(e, N.Compare):
        parts = [_expr(x, types, pushes) for x in (e.left, *e.comparators)]
        if any(p is None for p in parts):
            return None
        return ("s", "bool") if all(is_scalar(p) for p in parts) else TOP
    if isinstance(e, N.IfExp):
        return join(_expr(e.body, types, pushes), _expr(e.orelse, types, pushes))
    if isinstance(e, N.Sub):
        return _subscript(e, types, pushes)
    if isinstance(e, N.Attr) and e.attr == "shape":
        a = _expr(e.value, types, pushes)
        return a if a is None else (("shape",) if a[0] == "a" else TOP)
    if isinstance(e, N.Call):
        return _call(e, types, pushes)
    return TOP


def _matmul_rank(a, b):
    """The type of ``a @ b`` for vectors and matrices (``@`` drops a
    vector's axis), TOP otherwise."""
    if a[0] != "a" or b[0] != "a" or a[1] not in (1, 2) or b[1] not in (1, 2):
        return TOP
    nd = a[1] + b[1] - 2
    return ("s", None) if nd == 0 else ("a", nd, None)


def _dot(a, b):
    """The type of ``np.dot(a, b)``: ``a @ b``'s for vectors and matrices."""
    if a is None or b is None:
        return None
    return _matmul_rank(a, b)


def _promote(a, b, op):
    if a is None or b is None:
        return None
    if op == "Div":
        return "float64" if {a, b} <= {"float64", "int64", "bool"} else None
    if a == b and op not in ("Pow",):
        return a if a != "bool" or op in ("BitAnd", "BitOr", "BitXor") else "int64"
    if {a, b} <= {"float64", "int64", "bool"}:
        return "float64" if "float64" in (a, b) else ("int64" if op != "Pow" else None)
    return None


def _subscript(e, types, pushes):
    base = _expr(e.value, types, pushes)
    if base is None:
        return None
    if base == ("shape",):
        t = _expr(e.index, types, pushes)
        return t if t is None else (("s", "int64") if is_scalar(t) and t[1] == "int64" else TOP)
    if base[0] != "a":
        return TOP
    idx = e.index.elts if isinstance(e.index, N.Tuple) else (e.index,)
    ints = 0
    for c in idx:
        if isinstance(c, N.Slice):
            return TOP
        t = _expr(c, types, pushes)
        if t is None:
            return None
        if not (is_scalar(t) and t[1] == "int64"):
            return TOP
        ints += 1
    if ints == base[1]:
        return ("s", base[2] if base[2] in ("float64", "int64", "bool") else None)
    return ("a", base[1] - ints, base[2]) if ints < base[1] else TOP     # (rows of a matrix: its leading axes go)


def _call(e, types, pushes):
    if isinstance(e.func, N.Attr) and e.func.attr == "copy" and not e.args and not is_static(e.func):
        return _expr(e.func.value, types, pushes)
    if isinstance(e.func, N.Attr) and e.func.attr == "dot" and len(e.args) == 1 and not e.kwargs \
            and not is_static(e.func):
        return _dot(_expr(e.func.value, types, pushes), _expr(e.args[0], types, pushes))     # a.dot(b)
    if not is_static(e.func):
        return TOP
    f = static_value(e.func)
    if f is _rt.like and e.args:
        # a number itself; an array's Like descriptor, read for its shape only: of the array's rank
        t = _expr(e.args[0], types, pushes)
        if t is not None and t[0] == "a":
            return ("a", t[1], None)
        return t if t is None or t == NONE or is_scalar(t) else TOP
    for table, exact in ((_SAME_AS, True), (_NUMBER_IF, False)):
        k = next((k for h, k in table.items() if f is h), None)
        if k is not None:
            t = _expr(e.args[k], types, pushes) if k < len(e.args) else TOP
            if t is None or exact:
                return t
            return ("s", None) if is_scalar(t) else TOP
    if f is _rt.copy_slot and len(e.args) == 2:
        return _subscript(N.Sub(e.args[0], e.args[1]), types, pushes)
    if f in LIKE_ARRAY and e.args and not e.kwargs:
        t = _expr(e.args[0], types, pushes)         # an array of the same kind, dtype and shape
        return t if t is None or t[0] == "a" else TOP
    if f is np.concatenate and e.args and isinstance(e.args[0], (N.List, N.Tuple)) and e.args[0].elts \
            and len(e.args) == 1 and not e.kwargs:
        parts = [_expr(a, types, pushes) for a in e.args[0].elts]     # (axis 0: the rank of its pieces)
        if any(p is None for p in parts):
            return None
        nds = {p[1] if p[0] == "a" else -1 for p in parts}
        return ("a", nds.pop(), None) if len(nds) == 1 and min(nds) >= 1 else TOP
    args = [_expr(a, types, pushes) for a in e.args]
    if any(a is None for a in args):
        return None
    if f is np.dot and len(args) == 2 and not e.kwargs:
        return _dot(*args)
    if f in _INT_BUILTINS:
        return ("s", "int64")
    if f in (builtins.max, builtins.min) and len(args) >= 2 and all(is_scalar(a) for a in args) and not e.kwargs:
        dts = {a[1] for a in args}          # (the argument it returns: of its dtype, known when they agree)
        return ("s", dts.pop() if len(dts) == 1 else None)
    if f is builtins.float or (getattr(f, "__module__", None) == "math" and f is not math.isfinite):
        return ("s", "float64") if all(is_scalar(a) for a in args) else TOP
    if isinstance(f, np.ufunc) and all(is_scalar(a) for a in args) and not e.kwargs:
        dts = [a[1] for a in args]
        if None in dts:
            return ("s", None)
        try:
            dt = str(f(*[np.ones(1, dtype=d) for d in dts]).dtype)
        except Exception:  # noqa: BLE001 - a ufunc that takes no such input: no dtype known
            dt = None
        return ("s", dt)
    if isinstance(f, np.ufunc) and f.nout == 1 and not e.kwargs and args and all(a[0] in "as" for a in args):
        return ("a", max(a[1] for a in args if a[0] == "a"), None)     # (broadcasting: the larger rank)
    if f in _REDUCTIONS and not e.kwargs and len(e.args) == 1:
        return ("s", None)
    return TOP


def saves_untaped(push, untaped):
    """Whether ``push`` saves a number of ``untaped`` (numbers read only for
    their shape) before a statement: such a push, and its pops, can go."""
    v = push.value
    if isinstance(v, N.Call) and is_static(v.func) and v.args and static_value(v.func) is _rt.like:
        v = v.args[0]
    return isinstance(v, N.Name) and v.id in untaped and push.slot is not None and push.slot[0] == "save"


def save_or_restore(st, names):
    """Is ``st`` the save (a push before an overwrite) or a restore (the
    pop after it) of one of ``names``?  Dropped together, they leave the
    tape balanced."""
    if isinstance(st, N.Push):
        return saves_untaped(st, names)
    return isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in names \
        and isinstance(st.value, N.Pop) and st.value.slot is not None and st.value.slot[0] == "save"


def shape_only_names(fdef, shape_reads=True):
    """Names the reverse sweep reads only for their shape: as the
    arguments of :data:`SHAPE_ONLY` positions, or to save them on the tape
    (``shape_reads=False``: names it reads only to save them).
    (The reads that can see a restored value: from the first top-level
    statement that pops on.)"""
    real, seen = set(), set()
    body = fdef.body
    first = next((i for i, st in enumerate(body)
                  if any(isinstance(x, N.Pop) for s in iter_stmts([st]) for e in head_exprs(s) for x in walk(e))),
                 len(body))

    def visit(e, ok):
        if isinstance(e, N.Name):
            seen.add(e.id)
            if not ok:
                real.add(e.id)
            return
        if isinstance(e, N.Call) and is_static(e.func):
            f = static_value(e.func)
            pos = next((p for h, p in SHAPE_ONLY.items() if f is h), ())
            for i, a in enumerate(e.args):
                visit(a, shape_reads and i in pos and isinstance(a, N.Name))
            for _, a in e.kwargs:
                visit(a, False)
            return
        for c in _children(e):
            visit(c, False)

    for s in iter_stmts(body[first:]):
        if isinstance(s, N.Push):
            v = s.value
            inner = v.args[0] if isinstance(v, N.Call) and is_static(v.func) and static_value(v.func) is _rt.like \
                and v.args else v
            visit(inner, isinstance(inner, N.Name))
        elif isinstance(s, N.Assign):
            visit(s.value, False)
            if isinstance(s.target, N.Sub):
                visit(s.target, False)
            elif isinstance(s.target, N.Name) and isinstance(s.value, N.Pop):
                seen.add(s.target.id)       # restored: read or not, below
        elif isinstance(s, (N.Eval, N.Return)):
            visit(s.value, False)
        elif isinstance(s, (N.If, N.While)):
            visit(s.test, False)
        elif isinstance(s, N.For):
            visit(s.iter, False)
    return seen - real
