"""Lowering a generated function for Numba (``backend="numba"``, issue 15).

The generated gradient is already plain Python over NumPy; Numba compiles
most of it as it stands and infers every type itself.  What it cannot take
is rewritten here, as a pass over the generated program (IR), never over
its text:

* the one heterogeneous tape ``_stack`` becomes one typed list per saved
  quantity (``Push``/``Pop`` carry a ``slot`` key shared by a push and its
  pops, :mod:`s2sad.ir.nodes`): ``_tape3.append(v)`` / ``_tape3.pop()``,
  or, for numbers saved in a ``for`` loop over a range, an array with a
  top index (:mod:`s2sad.backends.numba_tapes`);
* ``_rt.<helper>`` calls go to the helper's Numba version
  (:mod:`s2sad_runtime.numba_helpers`), chosen per argument type when Numba
  compiles; a helper with no such version stops the lowering with the line
  it is on;
* ``reversed(range(a, b, s))`` (and ``range(...)[:n]``, a loop left by
  ``break``) becomes a range counting down;
* outside values (globals, closure values, ``self``'s attributes) that are
  data -- arrays, numbers -- become parameters, passed at every call:
  Numba would freeze them into the machine code, and a global array may be
  changed in place between calls (the gradient is that of the function as
  Python runs it now).  Modules and functions stay globals.

Placeholders ``x = None`` stay: Numba types such a name as optional and
checks it where it is used.  Checkpointed and reversible loops (their steps
are Python generators) and anything Numba rejects leave the signature on the
Python code, with a located message (:mod:`s2sad.backends.numba_backend`).
"""

from __future__ import annotations

import builtins
import types
from dataclasses import replace

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.analysis.scalar_types import is_scalar, saves_untaped, scalar_types, shape_only_names, value_type
from s2sad.analysis.symbolic_shapes import shape_key
from s2sad.backends.numba_simplify import simplify
from s2sad.backends.numba_tapes import array_slots, range_args
from s2sad.ir import nodes as N
from s2sad.ir.visit import iter_stmts, rebuild


class Unsupported(Exception):
    """The generated function holds something the Numba backend cannot
    take (``where``: the nearest source comment before it, or None)."""

    def __init__(self, reason, where=None):
        super().__init__(reason)
        self.reason = reason
        self.where = where


def _global_random():
    """The RandomState behind ``np.random.rand`` and the like."""
    return getattr(np.random, "mtrand", None) and np.random.mtrand._rand


def _helpers():
    """name -> the compiled version of the runtime helper of that name, of the
    runtime's Numba modules."""
    if not _HELPERS:
        import s2sad_runtime.numba_calls as nc
        import s2sad_runtime.numba_helpers as nh
        _HELPERS.update((n, getattr(m, n)) for m in (nh, nc) for n in m.__all__)
    return _HELPERS


def _helper(name):
    """Compiled helper ``name``: a runtime helper's version, or a function
    of ``numba_helpers`` the lowering calls itself (``range_len``...)."""
    import s2sad_runtime.numba_helpers as nh
    return _helpers().get(name) or getattr(nh, name)


_HELPERS = {}


class Lowered:
    """The lowered function: ``fdef`` (IR), ``globals`` (name -> object its
    code reads as a global), ``data`` (names of the outside values passed
    as parameters, in order, inserted at ``insert_at``) and ``data_exprs``
    (the static references that give their values at each call)."""

    def __init__(self, fdef, globals_, data, insert_at):
        self.fdef = fdef
        self.globals = globals_
        self.data = list(data)
        self.data_exprs = list(data.values())
        self.insert_at = insert_at
        self.nparams = len(fdef.params) - len(self.data)     # the call's own
        self.defaults = default_values(fdef)


def default_values(fdef):
    """The values of a generated function's parameter defaults."""
    return [d.value if isinstance(d, N.Const) else static_value(d) for d in fdef.defaults]


def with_defaults(fdef, args):
    """``args`` completed with the defaults of the parameters they leave out."""
    missing = len(fdef.params) - len(args)
    return (*args, *default_values(fdef)[len(fdef.defaults) - missing:]) if missing > 0 else tuple(args)


def _is_code(obj):
    """Objects Numba reads as globals: modules, functions, types, compiled
    functions (a Numba dispatcher has ``py_func``)."""
    return isinstance(obj, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, np.ufunc, type)) \
        or hasattr(obj, "py_func")


def _module_root(f):
    """The module ``f`` is an attribute chain over (``np`` of ``np.where``,
    ``np.linalg.norm``), as its static reference, or None."""
    if not isinstance(f, N.Attr):
        return None
    while isinstance(f, N.Attr):
        f = f.value
    return f if isinstance(f, N.Static) and isinstance(f.obj, types.ModuleType) else None


def _module_function(f):
    """Is ``f`` (lowered) a function of a module, ``np.where``, ``np.linalg.norm``?"""
    return _module_root(f) is not None


def _helper_call(f):
    return isinstance(f, N.Static) and f.name.startswith("_nb_")


def signature_key(args):
    """The Numba-relevant signature of a call: kinds of numbers, arrays'
    dtype, rank, layout and writability, and which of their dimensions are
    equal or 1 (the simplification's facts rest on it:
    :func:`s2sad.analysis.symbolic_shapes.shape_key`)."""
    key = []
    classes = {}
    for a in args:
        t = type(a)
        if t.__name__ == "ndarray":
            f = a.flags
            dims = tuple(1 if s == 1 else classes.setdefault(s, -2 - len(classes)) for s in a.shape)
            key.append((a.dtype.str, dims, f.c_contiguous, f.f_contiguous, f.writeable))
        else:
            key.append(t)
    return tuple(key)


def lower(fdef, args=None):
    """The Numba-ready form of generated function ``fdef`` for a call with
    arguments ``args`` (defaults included; None: nothing known about them),
    simplified for their types and dimension pattern
    (:mod:`s2sad.backends.numba_simplify`)."""
    return _Lowering().run(fdef, args)


def helper_ref(name):
    """The static reference to compiled helper ``name``."""
    return N.Static(f"_nb_{name}", _helper(name))


_ZERO_OF = {"float64": 0.0, "int64": 0, "bool": False}


class _Lowering:
    def __init__(self):
        self.tapes = {}         # slot key -> tape name
        self.globals = {}
        self.data = {}
        self.where = None       # the last source comment passed (for messages)
        self.types = {}
        self.untaped = set()    # numbers read only for their shape: not saved
        self.arrays = {}        # slot -> ArraySlot: tapes kept as arrays
        self.optional = set()   # names Numba types as optional: a placeholder None, then arrays

    def run(self, fdef, args=None):
        if args is not None:
            arg_types = [value_type(a) for a in args]
            self.types = scalar_types(fdef, dict(zip(fdef.params, arg_types)))
            fdef = simplify(fdef, args, shape_key(args), arg_types, self.types, helper_ref)
            self.types = scalar_types(fdef, dict(zip(fdef.params, arg_types)))
            self.untaped = {v for v in shape_only_names(fdef) if is_scalar(self.types.get(v))}
            self.arrays = array_slots(fdef.body, self.types, self.untaped)
        self.optional = {s.target.id for s in iter_stmts(fdef.body)
                         if isinstance(s, N.Assign) and isinstance(s.target, N.Name) and isinstance(s.value, N.Const)
                         and s.value.value is None and not (is_scalar(self.types.get(s.target.id))
                                                            and self.types[s.target.id][1] in _ZERO_OF)}
        body = self.block(fdef.body)
        inits = []
        for slot, t in self.tapes.items():
            a = self.arrays.get(slot)
            if a is None:
                inits.append(N.Assign(N.Name(t), N.List(())))
                continue
            np_ = N.Static("np", np)
            self.globals["np"] = np
            size = N.Const(a.per_iteration if a.loop is None else 16)     # (a loop reserves room before it runs)
            dtype = N.Attr(np_, "bool_" if a.dtype == "bool" else a.dtype)
            inits += [N.Assign(N.Name(t), N.Call(N.Attr(np_, "empty"), (size,), (("dtype", dtype),))),
                      N.Assign(self.top(slot), N.Const(0))]
        nfixed = len(fdef.params) - len(fdef.defaults)
        params = fdef.params[:nfixed] + list(self.data) + fdef.params[nfixed:]
        out = replace(fdef, params=params, body=inits + body)
        return Lowered(out, self.globals, self.data, nfixed)

    def fail(self, reason):
        raise Unsupported(reason, self.where)

    # statements
    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        if isinstance(s, N.Comment):
            self.where = s.text
            return [s]
        if isinstance(s, (N.FunctionDef, N.Nonlocal)):
            self.fail("a checkpointed or reversible loop (its step runs as Python generator code)")
        if isinstance(s, N.Assign):
            if isinstance(s.target, N.Name) and s.target.id == "_stack":
                return []
            if isinstance(s.target, N.Name) and isinstance(s.value, N.Pop) and s.target.id in self.untaped:
                return []       # a number's shape is (): any value of it serves
            if isinstance(s.value, N.Pop) and s.value.slot in self.arrays:
                top = self.top(s.value.slot)
                return [N.Assign(top, N.BinOp("Sub", top, N.Const(1))),
                        replace(s, value=N.Sub(self.tape(s.value.slot), top), target=self.expr(s.target))]
            if isinstance(s.target, N.Name) and isinstance(s.value, N.Const) and s.value.value is None:
                t = self.types.get(s.target.id)
                if is_scalar(t) and t[1] in _ZERO_OF:
                    return [replace(s, value=N.Const(_ZERO_OF[t[1]]))]     # typed, not optional
            return [replace(s, value=self.expr(s.value), target=self.expr(s.target))]
        if isinstance(s, N.Push):
            if saves_untaped(s, self.untaped):
                return []
            if s.slot in self.arrays:
                top = self.top(s.slot)
                return [N.Assign(N.Sub(self.tape(s.slot), top), self.expr(s.value), loc=s.loc),
                        N.Assign(top, N.BinOp("Add", top, N.Const(1)))]
            return [N.Eval(N.Call(N.Attr(self.tape(s.slot), "append"), (self.expr(s.value),)), loc=s.loc)]
        if isinstance(s, (N.Eval, N.Return)):
            return [replace(s, value=self.expr(s.value))]
        if isinstance(s, N.If):
            return [replace(s, test=self.expr(s.test), body=self.block(s.body), orelse=self.block(s.orelse))]
        if isinstance(s, N.While):
            if s.strategy is not None:
                self.fail("a checkpointed loop")
            return [replace(s, test=self.expr(s.test), body=self.block(s.body))]
        if isinstance(s, N.For):
            if s.strategy is not None:
                self.fail("a checkpointed or reversible loop")
            return self.reserve(s) + [replace(s, iter=self.loop_iter(s.iter), body=self.block(s.body))]
        return [s]

    def reserve(self, loop):
        """Before ``loop``: room in each array tape its iterations fill."""
        out = []
        for slot, a in self.arrays.items():
            if a.loop == loop.sid:
                trips = N.Call(self.helper("range_len"), tuple(self.expr(x) for x in range_args(loop.iter)))
                more = trips if a.per_iteration == 1 else N.BinOp("Mult", N.Const(a.per_iteration), trips)
                tape = self.tape(slot)
                out.append(N.Assign(tape, N.Call(self.helper("tape_reserve"), (tape, self.top(slot), more))))
        return out

    def top(self, slot):
        return N.Name(self.tape(slot).id.replace("_tape", "_top"))

    def tape(self, slot):
        if slot is None:
            self.fail("a saved value without a tape slot (internal: please report)")
        name = self.tapes.get(slot)
        if name is None:
            name = self.tapes[slot] = f"_tape{len(self.tapes) + 1}"
        return N.Name(name)

    # expressions
    def expr(self, e):
        if isinstance(e, N.Call) and is_static(e.func) and static_value(e.func) is _rt.check_scalar_output:
            e = replace(e, args=e.args[:1])       # the location: the Python code reports it
        return rebuild(e, self.node)

    def node(self, e):
        if isinstance(e, N.Pop):
            return N.Call(N.Attr(self.tape(e.slot), "pop"), ())
        if isinstance(e, N.Yield):
            self.fail("a generator (a checkpointed loop's step)")
        if isinstance(e, N.Attr) and is_static(e):
            return self.static(e)
        if isinstance(e, N.Static):
            return self.static(e)
        if isinstance(e, N.Call) and isinstance(e.func, N.Static) and e.func.obj is builtins.reversed:
            return self.reversed_range(e.args[0])
        if isinstance(e, N.Call) and (_module_function(e.func) or _helper_call(e.func)):
            e2 = self.call_args(e) or e
            return self.cached_numpy(e2) or (e2 if e2 is not e else None)
        return None

    def static(self, e):
        obj = static_value(e)
        if getattr(obj, "__self__", None) is _global_random():
            # Numba draws from a generator of its own, which np.random.seed
            # does not set and a checkpointed loop's snapshots do not save
            self.fail(f"NumPy's global random generator (np.random.{getattr(obj, '__name__', '?')}): compiled code "
                      f"would draw from Numba's own; draw from a np.random.Generator passed in to compile it")
        if isinstance(e, N.Attr) and isinstance(e.value, N.Static) and e.value.obj is _rt:
            if e.attr not in _helpers():
                self.fail(f"the runtime helper `_rt.{e.attr}` has no compiled version yet")
            return self.helper(e.attr)
        root = _module_root(e)
        if root is not None:
            # an attribute chain over a module (np.linalg.norm): Numba
            # resolves it itself
            self.static(root)
            return e
        if isinstance(e, N.Attr):
            name = f"_data_{len(self.data) + 1}"
            self.data[name] = e
            return N.Name(name)
        if _is_code(obj) or obj is None:
            self.globals[e.name] = obj
            return e
        self.data.setdefault(e.name, e)
        return N.Name(e.name)

    def call_args(self, e):
        """The arguments of a call of a NumPy function or a helper, as
        Numba takes them: a list literal passed to NumPy is a tuple
        (``np.concatenate([a, b])``: Numba takes tuples only); a name Numba
        types as optional is unwrapped (``_nb_some``) where it is an
        argument of a NumPy function (``np.where`` has no version for an
        optional array) or an item of a sequence literal (its items would
        be optional)."""
        module = _module_function(e.func)

        def some(a):
            return N.Call(self.helper("some"), (a,)) if isinstance(a, N.Name) and a.id in self.optional else a

        def arg(a):
            if isinstance(a, (N.List, N.Tuple)):
                seq = replace(a, elts=tuple(map(some, a.elts)))
                return N.Tuple(seq.elts) if module and isinstance(a, N.List) else seq
            return some(a) if module else a
        args, kwargs = tuple(map(arg, e.args)), tuple((k, arg(v)) for k, v in e.kwargs)
        return replace(e, args=args, kwargs=kwargs) if args != e.args or kwargs != e.kwargs else None

    def cached_numpy(self, e):
        """``np.where(c, x, y)`` (and the others of
        ``numba_calls.CACHED_NUMPY``) as a call of its cached helper, or None."""
        if not _module_function(e.func) or e.kwargs:
            return None
        import s2sad_runtime.numba_calls as nc
        try:
            name, nargs = nc.CACHED_NUMPY.get(static_value(e.func), (None, None))
        except Exception:  # noqa: BLE001 - not a static NumPy function
            return None
        return replace(e, func=self.helper(name)) if name is not None and len(e.args) == nargs else None

    def loop_iter(self, it):
        return self.expr(it)

    def reversed_range(self, rng):
        """``reversed(range(...))`` and ``reversed(range(...)[:n])`` as a
        range counting down (``_nb_rev_start`` finds its first value)."""
        cut = None
        if isinstance(rng, N.Sub) and isinstance(rng.index, N.Slice) and rng.index.lower is None \
                and rng.index.step is None:
            cut = rng.index.upper
            rng = rng.value
        if not (isinstance(rng, N.Call) and isinstance(rng.func, N.Static) and rng.func.obj is builtins.range
                and 1 <= len(rng.args) <= 3 and not rng.kwargs):
            if cut is not None:
                self.fail("`reversed` of a slice of something other than a range")
            return N.Call(self.helper("rev"), (self.expr(rng),))      # a range in a name, an array, a list
        a, b, s = (self.expr(x) for x in range_args(rng))
        if cut is not None:
            b = N.Call(self.helper("range_cut"), (a, b, s, self.expr(cut)))
        if isinstance(s, N.Const) and type(s.value) is int and s.value == 1:
            start = N.BinOp("Sub", b, N.Const(1))   # (empty exactly when the range is: b - 1 < a)
        else:
            start = N.Call(self.helper("rev_start"), (a, b, s))
        stop = N.BinOp("Sub", a, s)
        step = N.UnaryOp("USub", s)
        return N.Call(N.Static("range", builtins.range), (start, stop, step))

    def helper(self, name):
        nm = f"_nb_{name}"
        self.globals[nm] = _helper(name)
        return N.Static(nm, self.globals[nm])

