"""Derivative rules: what they are and the tables that hold them.

A *template rule* is a plain, importable Python function whose parameters
are ``g`` (the adjoint of the result), ``ans`` (the result) and the
parameters of the primal function, and whose body assigns contributions
with the marker :data:`d`::

    @rules.defrule(np.tanh, broadcasting=True)
    def tanh(g, ans, x):
        d[x] = g * (1.0 - ans * ans)

The compiler does not call templates: it reads their source once and
splices the statements into the generated adjoint, keeping only the
contributions for operands that are active (and the temporaries they
need).  ``broadcasting=True`` makes the compiler sum each contribution back
to its operand's shape (``unbroadcast``) -- rules never handle broadcasting
themselves.  ``d[xs[k]] = ...`` with the magic name ``k`` is unrolled for
every active element of a list or ``*args`` parameter.

A *vjp rule* (what :func:`s2sad.adjoint` registers) is instead called at run
time: ``vjp(g, ans, *args, **kwargs)`` returns the adjoint of the first
differentiable argument, or a tuple with one per positional argument.

Rule tables are explicit objects.  Lookups never lock; registrations
replace the table's dict under a lock (copy on write), so a reader never
sees a half-updated table and threads never race.
"""

from __future__ import annotations

import inspect
import textwrap
import threading
from dataclasses import dataclass, field, replace

from s2sad.frontend import syntax as S
from s2sad_runtime.namespaces import ALIASES as _API_NAMES


class _DMarker:
    """``d[x] = expr`` in a rule template: *expr* is added to the adjoint of
    *x*.  Templates are never executed; this object only makes them valid,
    importable Python."""

    def __setitem__(self, key, value):  # pragma: no cover - templates are not run
        raise RuntimeError("rule templates are read by the s2sad compiler, not called")


d = _DMarker()

#: In ``d[xs[k]] = ...``: the position of each element of a list or ``*args``
#: parameter; the compiler unrolls the line once per active element.
k = None

#: In a tangent template: the tangent of the operand the line is about.
t = None


def default_jvp(key):
    """The tangent kind a rule gets unless it says otherwise: NumPy's
    elementwise ufuncs and the ``math`` module's functions are elementwise
    (their adjoint, a diagonal map, is its own transpose)."""
    import numpy as np
    if (isinstance(key, np.ufunc) and key.signature is None) or getattr(key, "__module__", None) == "math":
        return "elementwise"
    return None


def _jvp_kind(jvp, key):
    if jvp is None:
        return default_jvp(key)
    return ("template", jvp) if callable(jvp) else jvp


@dataclass
class Rule:
    key: object                      # the primal callable, or an operator name
    name: str
    template: object = None          # template function (compile-time splice)
    vjp: object = None               # runtime vjp function (user rules)
    broadcasting: bool = False
    nondiff: bool = False            # contributes nothing (floor, argmax, ...)
    diff_params: tuple = ()          # parameters that get contributions
    jvp: object = None               # tangent: "elementwise" | "linear" | "multilinear" | ("template", fn)
    returns: str = "array"           # "container": the call returns a tuple or list (np.split, slogdet)
    _parsed: object = field(default=None, repr=False)
    _jvp_parsed: object = field(default=None, repr=False)

    def parsed(self):
        if self._parsed is None:
            self._parsed = parse_template(self.template)
        return self._parsed

    def signature(self):
        """The template that says how a call binds and which arguments are
        differentiable: the adjoint template, or for a rule with a tangent
        only (a helper of generated gradients) the tangent template."""
        return self.parsed() if self.template is not None else self.jvp_template()

    def jvp_template(self):
        """The explicit tangent template (``jvp=("template", fn)``), parsed."""
        if self._jvp_parsed is None:
            self._jvp_parsed = parse_template(self.jvp[1])
        return self._jvp_parsed


@dataclass(frozen=True)
class BatchRule:
    """How ``s2sad.vmap`` batches a call (see ``s2sad/rules/batch_rules.py``).

    ``kind``: ``"elementwise"`` (batched operands lifted so that NumPy
    broadcasts lane by lane), ``"direct"`` (the call already works lane by
    lane on a leading batch axis: stacked linear algebra, ``zeros_like``),
    ``"axis"`` (an axis argument shifted past the batch axis: ``axes``
    lists ``(position, keyword, default)``; ``flatten``: None means one
    flattened example), ``"helper"`` (a batched runtime function
    ``helper`` called with the operands' batched flags appended),
    ``"custom"`` (the transform's own code, by ``name``), ``"loop"``
    (lane by lane).  ``unbatched``: the result is the same in every lane
    (``len``, ``.shape``).  ``writes``: the argument the call writes into.
    """
    kind: str
    axes: tuple = ()
    flatten: bool = False
    helper: str = None
    name: str = None
    unbatched: bool = False
    writes: int = None
    lanes: bool = False          # helper: also pass the batch size


@dataclass(frozen=True)
class Temp:
    """``name = expr`` in a template: a temporary its contributions share."""
    name: str
    expr: object


@dataclass(frozen=True)
class Contribution:
    """``d[param] = expr`` (``indexed``: ``d[param[k]] = expr``, one
    contribution per element of a list or ``*args`` parameter)."""
    param: str
    indexed: bool
    expr: object


@dataclass
class Template:
    params: list          # primal parameter names, in order (without g, ans)
    vararg: str           # name of *args parameter or None
    defaults: dict        # param -> default value
    items: list           # Temp and Contribution, in order (IR expressions)
    globals: dict
    uses_ans: bool

    @property
    def contributions(self):
        return [c.param for c in self.items if isinstance(c, Contribution)]

    @property
    def indexed(self):
        return {c.param for c in self.items if isinstance(c, Contribution) and c.indexed}


def parse_template(fn) -> Template:
    """Read a template's source into IR (it is never executed)."""
    from s2sad.frontend.convert import expr as to_ir
    src = textwrap.dedent(inspect.getsource(fn))
    mod = S.parse(src)
    fdef = mod.body[0]
    sig = inspect.signature(fn)
    params, vararg, defaults = [], None, {}
    for p in sig.parameters.values():
        if p.name in ("g", "ans"):
            continue
        if p.kind == p.VAR_POSITIONAL:
            vararg = p.name
            params.append(p.name)
            continue
        params.append(p.name)
        if p.default is not p.empty:
            defaults[p.name] = p.default
    items = []
    for st in fdef.body:
        if isinstance(st, S.Expr) and isinstance(st.value, S.Constant):
            continue       # docstring
        if not (isinstance(st, S.Assign) and len(st.targets) == 1):
            raise TypeError(f"rule template {fn.__qualname__}: only assignments are allowed")
        t = st.targets[0]
        if isinstance(t, S.Subscript) and isinstance(t.value, S.Name) and t.value.id == "d":
            key = t.slice
            if isinstance(key, S.Subscript):
                items.append(Contribution(key.value.id, True, to_ir(st.value)))
            else:
                items.append(Contribution(key.id, False, to_ir(st.value)))
        elif isinstance(t, S.Name):
            items.append(Temp(t.id, to_ir(st.value)))
        else:
            raise TypeError(f"rule template {fn.__qualname__}: cannot assign to {S.to_source(t)}")
    uses_ans = "ans" in S.names_in(fdef, "load")
    return Template(params, vararg, defaults, items, fn.__globals__, uses_ans)


# Rules registered on first need: (module that must be imported, loader).
# A loader is run, once, the first time a lookup misses while its module is
# in sys.modules (a function of that module can only reach the compiler
# once the user imported it); it registers into _LATE, which every table
# consults after its own rules.  SciPy's rules are loaded this way, so
# `import s2sad` never imports SciPy.
_LATE_LOADERS = []
_LATE = None


class Deferred:
    """Rules a module declares as it is imported and registers on a table
    later (``register(T)``): rules, array methods, tangent-only rules and
    adjoints of helpers whose tangent is registered already, each kind in
    the order written.  A rule module that extends the NumPy table binds
    ``rule``, ``method``, ``jvp_only``, ``adjoint_of`` and ``register`` of
    one ``Deferred``."""

    def __init__(self):
        self._rules, self._methods, self._jvps, self._adjoints = [], [], [], []

    @staticmethod
    def _collect(into, keys, options=None):
        def deco(fn):
            into.append((keys, options, fn))
            return fn
        return deco

    def rule(self, *keys, **options):
        return self._collect(self._rules, keys, options)

    def method(self, *names, **options):
        return self._collect(self._methods, names, options)

    def jvp_only(self, *keys):
        return self._collect(self._jvps, keys)

    def adjoint_of(self, *keys):
        """An adjoint template for helpers that have a tangent template
        already (its parameters named as the tangent's)."""
        return self._collect(self._adjoints, keys)

    def register(self, T):
        for keys, options, fn in self._rules:
            T.defrule(*keys, **options)(fn)
        for names, options, fn in self._methods:
            T.defmethod(*names, **options)(fn)
        for keys, _, fn in self._jvps:
            T.defjvp(*keys)(fn)
        for keys, _, fn in self._adjoints:
            for key in keys:
                T.add(replace(T.lookup(key), template=fn, _parsed=None))


def late_rules(module, loader):
    """Register ``loader(table)``, run when ``module`` is first imported and
    a lookup misses."""
    _LATE_LOADERS.append((module, loader))


def _late_lookup(key):
    global _LATE
    import sys
    ready = [(m, f) for m, f in _LATE_LOADERS if m in sys.modules]
    for item in ready:
        _LATE_LOADERS.remove(item)
        if _LATE is None:
            _LATE = RuleTable()
        item[1](_LATE)
    return _LATE._rules.get(key) if _LATE is not None else None


# array API namespaces whose functions take the rule of NumPy's function of
# the same name (``xp.acos`` -> ``np.acos``, which is ``np.arccos``)
_ARRAY_API_LIBRARIES = ("array_api_strict", "array_api_compat", "torch")


def numpy_twin(fn):
    """NumPy's function of the same name as the array API function ``fn``
    (``numpy.linalg``'s for a ``linalg`` one), or None."""
    name = getattr(fn, "__name__", None)
    mod = getattr(fn, "__module__", None) or ""
    if not isinstance(name, str) or name.startswith("_") or mod.split(".")[0] not in _ARRAY_API_LIBRARIES:
        return None
    import numpy
    space = numpy.linalg if "linalg" in mod else numpy
    if name.startswith("linalg_"):          # PyTorch's builtins: torch.linalg.inv is linalg_inv
        space, name = numpy.linalg, name[len("linalg_"):]
    if space is numpy.linalg and name in ("outer", "cross"):
        space = numpy           # the same functions for the arguments linalg's take (1-D; axis -1)
    twin = getattr(space, name, None) or getattr(space, _NUMPY_NAMES.get(name, name), None)
    return twin if callable(twin) and twin is not fn else None


# array API names NumPy 1.x knows by other names: the runtime's table of
# NumPy's names over a namespace, read backwards
_NUMPY_NAMES = {api: name for name, api in _API_NAMES.items()}


class RuleTable:
    """A table of derivative rules, keyed by the primal callable (by
    identity) or by an operator / method name.  ``RuleTable(parent=t)``
    starts with ``t``'s rules and can add or override its own."""

    def __init__(self, parent=None):
        self._lock = threading.Lock()
        self._rules = dict(parent._rules) if parent is not None else {}
        self._methods = dict(parent._methods) if parent is not None else {}
        self._batch = dict(parent._batch) if parent is not None else {}

    # lookups -------------------------------------------------------------
    def lookup(self, key):
        try:
            r = self._rules.get(key)
        except TypeError:  # unhashable
            return None
        if r is None and (_LATE_LOADERS or _LATE is not None):
            r = _late_lookup(key)
        if r is None and not isinstance(key, str):
            twin = numpy_twin(key)
            if twin is not None:
                r = self.lookup(twin)
        return r

    def method(self, name):
        return self._methods.get(name)

    def without_methods(self):
        """This table less its array-method rules: for arrays of a library
        reached through the array API, whose methods (where it has any)
        need not mean NumPy's (``torch.Tensor.std`` is the sample standard
        deviation).  Cached on the table."""
        t = self.__dict__.get("_no_methods")
        if t is None:
            import numpy
            t = RuleTable(parent=self)
            t._methods = {k: v for k, v in self._methods.items()
                          if not hasattr(numpy.ndarray, k) or hasattr(list, k) or hasattr(dict, k)}
            self._no_methods = t
        return t

    def batch_rule(self, key):
        """The batching rule of ``key`` (``s2sad.vmap``), or None: a callable
        by identity, or ``".name"`` for an array method."""
        try:
            return self._batch.get(key)
        except TypeError:  # unhashable
            return None

    def __contains__(self, key):
        return self.lookup(key) is not None

    def __len__(self):
        return len(self._rules)

    def keys(self):
        return list(self._rules)

    # registration (copy on write) ---------------------------------------
    def add(self, rule: Rule):
        with self._lock:
            new = dict(self._rules)
            new[rule.key] = rule
            self._rules = new
        return rule

    def add_method(self, name, rule: Rule):
        with self._lock:
            new = dict(self._methods)
            new[name] = rule
            self._methods = new
        return rule

    def defrule(self, *keys, broadcasting=False, name=None, jvp=None, returns="array"):
        """Decorator: register a template rule for each of ``keys``.

        ``jvp``, the tangent: ``"elementwise"`` (the adjoint contributions
        with ``g`` replaced by the operand's tangent), ``"linear"`` (the
        primal call applied to the tangents), ``"multilinear"`` (the sum of
        the call with one operand replaced by its tangent at a time), or a
        tangent template (``d[x] = expr`` with ``t`` for ``x``'s tangent).
        By default elementwise for NumPy ufuncs and ``math`` functions.
        ``returns="container"`` for a function that returns a tuple or a
        list (its adjoint is then a container too)."""
        def deco(fn):
            for key in keys:
                self.add(Rule(key=key, name=name or _key_name(key), template=fn, broadcasting=broadcasting,
                              jvp=_jvp_kind(jvp, key), returns=returns))
            return fn
        return deco

    def defmethod(self, *names, broadcasting=False, jvp=None):
        def deco(fn):
            for nm in names:
                self.add_method(nm, Rule(key=nm, name="." + nm, template=fn, broadcasting=broadcasting,
                                         jvp=_jvp_kind(jvp, nm)))
            return fn
        return deco

    def defjvp(self, *keys):
        """Decorator: an explicit tangent template for each of ``keys``
        (``d[x] = expr`` with ``t`` standing for ``x``'s tangent)."""
        def deco(fn):
            for key in keys:
                r = self.lookup(key)
                # a new Rule object: a table made with parent=... never
                # changes its parent's rules
                self.add(replace(r, jvp=("template", fn), _jvp_parsed=None) if r is not None
                         else Rule(key=key, name=_key_name(key), jvp=("template", fn)))
            return fn
        return deco

    def defmethod_jvp(self, *names):
        def deco(fn):
            for nm in names:
                r = self.method(nm)
                self.add_method(nm, replace(r, jvp=("template", fn), _jvp_parsed=None) if r is not None
                                else Rule(key=nm, name="." + nm, jvp=("template", fn)))
            return fn
        return deco

    def set_jvp(self, key, kind, method=False):
        """Set the tangent kind of a rule (a new Rule object: copy on write)."""
        r = self.method(key) if method else self.lookup(key)
        if r is not None and r.jvp != kind:
            if method:
                self.add_method(key, replace(r, jvp=kind))
            else:
                self.add(replace(r, jvp=kind))

    def defbatch(self, rule, *keys):
        """Register the batching rule ``rule`` (a :class:`BatchRule`) for
        each of ``keys`` (callables, or ``".name"`` for array methods)."""
        with self._lock:
            new = dict(self._batch)
            for key in keys:
                new[key] = rule
            self._batch = new

    def nondiff(self, *keys):
        for key in keys:
            self.add(Rule(key=key, name=_key_name(key), nondiff=True))

    def nondiff_method(self, *names):
        for nm in names:
            self.add_method(nm, Rule(key=nm, name="." + nm, nondiff=True))

    def adjoint(self, fn, vjp=None):
        """Register a user rule: ``vjp(g, ans, *args, **kwargs)`` returns the
        adjoint of each positional argument (a tuple when there are several
        differentiable ones; ``None`` for a non-differentiable one)."""
        def deco(v):
            self.add(Rule(key=fn, name=_key_name(fn), vjp=v))
            return v
        return deco(vjp) if vjp is not None else deco


def _key_name(key):
    if isinstance(key, str):
        return key
    mod = getattr(key, "__module__", None) or ""
    nm = getattr(key, "__qualname__", None) or getattr(key, "__name__", None) or repr(key)
    if mod in ("numpy", "math", "builtins") or mod.startswith("numpy."):
        mod = {"builtins": ""}.get(mod, mod.split(".")[0] if mod.startswith("numpy") else mod)
    return f"{mod}.{nm}" if mod else nm
