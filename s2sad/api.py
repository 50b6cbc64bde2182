"""Public transforms: ``grad``, ``value_and_grad``, ``vjp``; ``show``,
``export`` (s2sad/export.py); user rules with ``adjoint``."""

from __future__ import annotations

import functools
import inspect
import threading
import types

import numpy as np

import s2sad_runtime.loops as _loops
from s2sad_runtime.core import complex_value_error, is_complex
from s2sad.analysis.checks import check_no_view_writes
from s2sad.analysis.complex_values import complex_mode
from s2sad_runtime.errors import def_location
from s2sad_runtime.namespaces import (
    dtype_kind, first_foreign, located_namespace_errors, namespace_token, runtime_over,
)
from s2sad import emit
from s2sad.errors import ArgumentError, NonDifferentiableInputError, derivative_domain_error
from s2sad.freshness import WatchesBindings
from s2sad.analysis.prims import static_value
from s2sad.backends.options import BackendOptions, check_backend as _check_backend
from s2sad.frontend.normalize import Normalizer
from s2sad.frontend.parse import read_function
from s2sad.ir import nodes as N
from s2sad.ir import render as R
from s2sad.ir.visit import head_exprs, iter_stmts, walk
from s2sad import lazy_inputs as _dask
from s2sad.plan.entries import plan_entry
from s2sad.plan.signature import check_out, check_out_overlap, deliver, mismatch as _mismatch, plan_key as _plan_key
from s2sad.plan.specialise import specialised_entry
from s2sad.precision import Precision
from s2sad.rules import DEFAULT_RULES
from s2sad.transforms.forward import ForwardTransform
from s2sad.transforms.inplace_adjoint import inplace_adjoints
from s2sad.transforms.precision import apply_policy, cast_inputs
from s2sad.transforms.reverse import ReverseTransform


_NO_LOOPS = {"forward_steps": 0, "peak_snapshots": 0, "peak_bytes": 0, "loops": []}
_ARITHMETIC = (ArithmeticError, ValueError)   # what a derivative statement may raise on Python floats


def _is_function_value(v):
    """Functions (and modules: ``def f(x, xp=np)``) passed as arguments are
    resolved at compile time, like globals: the code is specialised to them."""
    return isinstance(v, (types.FunctionType, GradFunction, types.BuiltinFunctionType, np.ufunc, types.ModuleType))


def _container_kind(v):
    if isinstance(v, (list, tuple)):
        return "container"
    if isinstance(v, dict):
        return "container"
    return None


PLAN_STRICT = False   # tests: a planned variant that disagrees raises
# Plans per gradient function: each signature planned keeps a workspace.  The
# first signature is planned on its first call; once a function has met
# others, a new signature is planned on its second call (an integer that
# changes every call, a one-off batch size, never pays for a plan).  Plans are
# kept while there are at most MAX_PLANS and their workspaces hold at most
# PLAN_BYTES together; past that the oldest goes, and a signature whose plan
# went is not planned again (its calls run the generic code): cycling through
# more signatures than fit never re-plans on every call.
MAX_PLANS = 16
PLAN_BYTES = 256 * 2**20


def _draws_random(obj):
    mods = (getattr(type(obj), "__module__", None) or "", getattr(obj, "__module__", None) or "",
            getattr(obj, "__name__", None) or "")
    if any(isinstance(m, str) and (m.startswith("numpy.random") or m == "random") for m in mods):
        return True
    return isinstance(getattr(obj, "__self__", None), (np.random.Generator, np.random.RandomState))


def _plan_blocker(fdef):
    """Why generated program ``fdef`` (IR) is not planned, or None (read
    from the objects its static references resolve to)."""
    why = "it draws random numbers (a second run would not reproduce the first)"
    for st in iter_stmts(fdef.body, defs=True):
        for e in head_exprs(st):
            for x in walk(e):
                if isinstance(x, (N.Static, N.Attr)) and _draws_random(static_value(x)):
                    return why
    return None


class GradFunction(BackendOptions, WatchesBindings):
    """A differentiated function.  Call it like the original; read the
    generated code in ``.source``."""

    def __init__(self, fn, wrt, mode, rules=None, loops=None, plan=True, backend="python", precision=None):
        self.fn = fn
        self.backend = _check_backend(backend)
        self.precision = _check_precision(precision, mode, self.backend)
        self.plan = plan and mode in ("grad", "value_and_grad") and self.backend == "python"
        self._plans = {}
        self._seen = {}             # signatures met once, not planned yet
        self._last_plan = None
        self.plan_reason = None     # why the last signature tried was not planned
        self.loops = loops
        self.mode = mode
        self.rules = rules if rules is not None else DEFAULT_RULES
        self._sig = inspect.signature(fn)
        params = [p for p in self._sig.parameters.values()]
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ArgumentError(
                    f"cannot differentiate {fn.__qualname__}: `*{p.name}`/`**{p.name}` parameters are not supported",
                    hint="give each input its own named parameter")
        self._names = [p.name for p in params]
        self.single = not isinstance(wrt, (tuple, list))
        wrt_list = list(wrt) if not self.single else [wrt]
        idx = []
        for w in wrt_list:
            if isinstance(w, str):
                if w not in self._names:
                    raise ArgumentError(f"wrt={w!r}: {fn.__qualname__} has no parameter {w!r}",
                                        hint=f"its parameters are {', '.join(self._names)}")
                idx.append(self._names.index(w))
            elif isinstance(w, (int, np.integer)) and not isinstance(w, bool):
                if not -len(self._names) <= w < len(self._names):
                    raise ArgumentError(f"wrt={w}: {fn.__qualname__} has only {len(self._names)} parameters",
                                        hint="wrt counts positional parameters from 0")
                idx.append(int(w) % len(self._names))
            else:
                raise ArgumentError(f"wrt must be an int, a parameter name, or a tuple of them; got {w!r}")
        self.wrt = tuple(idx)
        self._cache = {}
        self._fast = {}
        self._watch = ()     # (kind, where, key, object) of every outside binding the code read
        self._lock = threading.Lock()
        self._last = None
        functools.update_wrapper(self, fn, updated=())
        del self.__wrapped__   # s2sad differentiates the generated code, not fn
        self.__signature__ = self._sig

    # ------------------------------------------------------------------ call
    def _bind(self, args, kwargs):
        if not kwargs and len(args) == len(self._names):
            return args
        try:
            b = self._sig.bind(*args, **kwargs)
        except TypeError as e:
            # name the user's function, as Python's own message would
            raise ArgumentError(f"{self.mode} of {self.fn.__qualname__}{self._sig}: {e}",
                                hint=f"call it with the arguments of {self.fn.__qualname__} itself"
                                     + (" followed by the tangent" if self.mode == "jvp" else "")) from None
        b.apply_defaults()
        return tuple(b.arguments[n] for n in self._names)

    def _key(self, args):
        # complex arguments make a variant of their own (complex mode), and
        # so do the arrays of each library outside NumPy's dispatch
        key = tuple(id(a) if _is_function_value(a) else "c" if is_complex(a) else
                    (_container_kind(a) or ("py" if isinstance(a, (float, int, np.generic)) else None))
                    for a in args)
        tok = namespace_token(args)
        return key if tok is None else key + (tok,)

    def compiled(self, args=None):
        if self._watch and self._stale():
            self._reset()
        key = self._key(args) if args is not None else None
        f = self._cache.get(key)
        if f is None:
            with self._lock:
                f = self._cache.get(key)
                if f is None:
                    f = self._build(args)
                    if self.backend != "python":
                        f = self._compiled_variant(f)
                    self._cache[key] = f
                    self._watch_bindings(f)
        self._last = f
        return f

    def _check_inputs(self, args):
        for i in self.wrt:
            v = args[i]
            bad = None
            if _is_function_value(v):
                raise NonDifferentiableInputError(
                    f"cannot differentiate {self.fn.__qualname__} with respect to `{self._names[i]}`: it is a function",
                    hint="functions passed as arguments are inlined; differentiate with respect to the arrays they use",
                    **def_location(self.fn))
            if isinstance(v, (bool, int, np.bool_, np.integer)):
                bad = type(v).__name__
            else:
                dt = getattr(v, "dtype", None)
                if dt is not None and dtype_kind(dt) in "biu":
                    bad = f"array of {dt}"
            if bad is not None:
                raise NonDifferentiableInputError(
                    f"cannot differentiate {self.fn.__qualname__} with respect to `{self._names[i]}`: "
                    f"it is an {bad}, and integers and booleans have no derivative",
                    hint=f"pass a float (e.g. {self._names[i]}=float(...) or x.astype(float)), "
                         f"or leave it out of wrt", **def_location(self.fn))

    # --------------------------------------------------------- freshness
    def _reset(self):
        with self._lock:
            self._cache, self._fast, self._plans, self._watch = {}, {}, {}, ()
            self._last = self._last_plan = None

    def __call__(self, *args, **kwargs):
        try:
            if self._watch and self._stale():
                self._reset()
            if self._plans and not kwargs:
                # the hottest path: a planned signature seen before, called with
                # every argument positional: one key, one lookup, the planned code
                entry = self._plans.get(_plan_key(args))
                if entry:
                    self.stats = _NO_LOOPS
                    return entry.run(args, None)
            return self._call(args, kwargs, ())
        except _ARITHMETIC as e:
            self._raise_located(e)
            raise

    def _raise_located(self, e):
        """Raise ``e``, an arithmetic error of a derivative statement, at the
        user's line (:func:`s2sad.errors.derivative_domain_error`); return
        when it is anything else."""
        fn = self.fn
        while isinstance(fn, GradFunction):      # (hvp: the jvp of a gradient)
            fn = fn.fn
        origin = getattr(fn, "__s2sad_origin__", None) or (fn.__code__.co_filename, fn.__qualname__)
        located = derivative_domain_error(e, origin)
        if located is not None:
            raise located from e

    def seeded(self, seed, *args, **kwargs):
        """Call with the reverse sweep started from ``seed`` instead of 1:
        the gradients come back multiplied by it (what
        :class:`s2sad.LossScaler` does; the value is unchanged)."""
        if self.mode not in ("grad", "value_and_grad"):
            raise ArgumentError(f"seeded calls are for gradients; {self.mode} does not take them")
        if self._watch and self._stale():
            self._reset()
        return self._call(args, kwargs, (seed,))

    def _call(self, args, kwargs, extra):
        if self.mode == "jvp":
            return self._call_jvp(args, kwargs)
        out = None
        if kwargs and "out" in kwargs and "out" not in self._names:
            out = kwargs.pop("out")
            if out is not None and self.mode not in ("grad", "value_and_grad"):
                raise ArgumentError(f"out= is for gradients; {self.mode} does not take it")
            if out is not None:
                out = check_out(out, len(self.wrt), self.single)
        if kwargs or len(args) != len(self._names):
            args = self._bind(args, kwargs)
        if out is not None:
            check_out_overlap(out, args, self._names)
        # fast path: the argument types (and the wrt dtypes) were seen before
        sig = tuple(map(type, args)) + tuple(getattr(a, "dtype", None) for a in args)
        f = self._fast.get(sig)
        if f is None:
            self._check_inputs(args)
            key = self._key(args)
            f = self._cache.get(key) or self.compiled(args)
            if _dask.has_dask(args):        # (never kept in _fast: a Dask call takes its own path)
                if extra:
                    raise ArgumentError("a seeded call (loss scaling) takes NumPy arrays, not Dask ones")
                return _dask.call(self, f, args, out)
            if not any(_is_function_value(a) for a in args):
                self._fast[sig] = f
        if self.plan and not f.__s2sad_loops__:
            pkey = _plan_key(args)
            if pkey is not None:
                entry = self._plans.get(pkey)
                if entry is None and (not self._plans or pkey in self._seen):
                    return self._first_call(f, args, pkey, out, extra)
                if entry is None:
                    if len(self._seen) > 4096:
                        self._seen.clear()
                    self._seen[pkey] = True
                elif entry is not False:
                    self.stats = _NO_LOOPS
                    self._last_plan = entry
                    return entry.run(args, out, extra)
        if self.mode in ("grad", "value_and_grad") and not f.__s2sad_loops__:
            self.stats = _NO_LOOPS
            return self._deliver(f(*args, *extra), out)
        if self.mode == "vjp":
            value = self.fn(*args)

            def pullback(out_adj):
                loops = _loops.collect_stats()
                try:
                    return f(*args, out_adj)[1]
                except _ARITHMETIC as e:
                    self._raise_located(e)
                    raise
                finally:
                    self._record(loops)
            return value, pullback
        loops = _loops.collect_stats()
        try:
            return self._deliver(f(*args, *extra), out)
        finally:
            self._record(loops)

    # ----------------------------------------------------------- planning
    def _deliver(self, res, outs):
        """Copy the gradients of an unplanned call into ``out=`` arrays."""
        if outs is None:
            return res
        if self.mode == "value_and_grad":
            return res[0], deliver(res[1], outs, self.single)
        return deliver(res, outs, self.single)

    def _first_call(self, f, args, pkey, out, extra=()):
        """The first call of a signature: run the generic code instrumented,
        plan it, and check the planned variant against it before keeping it
        (``extra``: a seed, given to this call after the check)."""
        self.stats = _NO_LOOPS
        with self._lock:
            if pkey in self._plans:     # another thread planned it meanwhile
                return self._deliver(f(*args, *extra), out)
            generic = []
            reason = blocked = _plan_blocker(f.__s2sad_ir__)
            entry = False
            if blocked is None:     # element loops accumulating in place: specialised beats planned (O(1) reads)
                spec, _ = specialised_entry(f, args, generic, self.fn.__qualname__, self._deliver, _mismatch,
                                            PLAN_STRICT, guarded_only=True)
                if spec is not None:
                    entry, reason = spec, "element loops accumulate in place: specialised instead of planned"
            if reason is None:
                entry, reason = plan_entry(f, f.__s2sad_plan_ir__, args, generic, self.fn.__qualname__,
                                           _mismatch, PLAN_STRICT)
            if entry is False and blocked is None:      # nothing to plan: the specialised variant instead
                spec, why = specialised_entry(f, args, generic, self.fn.__qualname__, self._deliver, _mismatch,
                                              PLAN_STRICT)
                reason, entry = (reason if spec else f"{reason}; {why}"), spec or False
            self._seen.pop(pkey, None)
            if entry is False:
                self._plans[pkey] = False
                self.plan_reason = reason
            else:
                self._plans[pkey] = entry
                self._last_plan = entry
                self._evict()
        if extra:
            return entry.run(args, out, extra) if entry else self._deliver(f(*args, *extra), out)
        result = generic[0] if generic else f(*args)
        return self._deliver(result, out)

    def _evict(self):
        """Keep at most MAX_PLANS plans holding at most PLAN_BYTES of
        workspace: drop the oldest (its signature then runs the generic
        code; it is not planned again)."""
        planned = [k for k, e in self._plans.items() if e is not False]
        nbytes = sum(self._plans[k].plan.info.get("workspace_bytes", 0) for k in planned)
        while len(planned) > 1 and (len(planned) > MAX_PLANS or nbytes > PLAN_BYTES):
            k = planned.pop(0)
            nbytes -= self._plans[k].plan.info.get("workspace_bytes", 0)
            self._plans[k] = False
            self.plan_reason = (f"more signatures than the plans kept ({MAX_PLANS} plans, "
                                f"{PLAN_BYTES >> 20} MiB of workspace): the oldest runs the generic code")

    @property
    def planned_source(self):
        """The planned (allocation-free) variant of the last planned
        signature, or None when no call has been planned yet."""
        e = self._last_plan
        return e.plan.source if e else None

    @property
    def plan_info(self):
        """What the planner did for the last planned signature: statements
        planned, statements left allocating (with why), buffer bytes."""
        if self.backend != "python":
            return self.backend_info
        e = self._last_plan
        return dict(e.plan.info, workspaces=e.pool.made) if e else _dask.plan_info(self)

    def _call_jvp(self, args, kwargs):
        if "tangent" in kwargs:
            tangent = kwargs.pop("tangent")
        else:
            if not args:
                raise ArgumentError(f"jvp of {self.fn.__qualname__} needs the tangent as its last argument")
            args, tangent = args[:-1], args[-1]
        args = self._bind(args, kwargs)
        self._check_inputs(args)
        _dask.refuse_forward(self, args)
        tangents = (tangent,) if self.single else tuple(tangent)
        if len(tangents) != len(self.wrt):
            raise ArgumentError(f"jvp with wrt={self.wrt} needs {len(self.wrt)} tangents, got {len(tangents)}",
                                hint="pass a tuple with one tangent per differentiated argument")
        f = self._cache.get(self._key(args)) or self.compiled(args)
        value, out_tan = f(*args, *self._extra, *tangents)
        if is_complex(out_tan) and not is_complex(value):
            raise complex_value_error("tangent")
        return value, out_tan

    def _record(self, loops):
        """``.stats`` of the last call: the cost of its checkpointed loops."""
        _loops._collect.loops = None
        self.stats = {
            "forward_steps": sum(lp.stats["forward_steps"] for lp in loops),
            "peak_snapshots": max((lp.stats["peak_snapshots"] for lp in loops), default=0),
            "peak_bytes": sum(lp.stats["peak_bytes"] for lp in loops),
            "info_bits": sum(lp.stats.get("info_bits", 0.0) for lp in loops),
            "loops": [dict(lp.stats, steps=lp.l, snapshots=getattr(lp, "s", None)) for lp in loops],
        }

    # ------------------------------------------------------------- compile
    def _build(self, args):
        inner = isinstance(self.fn, GradFunction) or hasattr(self.fn, "__s2sad_inline__")
        target = self.fn.compiled(args) if inner else self.fn
        target = getattr(target, "__s2sad_plain__", target)
        src = read_function(target)
        ns = emit.Namespace()
        fn_params, drop = {}, ()
        if inspect.ismethod(target):
            # a bound method: `self` and its attributes are resolved like globals
            first = target.__func__.__code__.co_varnames[0]
            fn_params[first] = ("static", target.__self__)
            drop = (first,)
        if args is not None:
            for nm, a in zip(self._names, args):
                if _is_function_value(a):
                    fn_params[nm] = ("static", a)
        foreign = first_foreign(args) if args is not None else None
        xp = foreign[1] if foreign is not None else None
        if xp is not None and self.precision is not None:
            raise ArgumentError(f"precision policies take NumPy arrays; {self.fn.__qualname__} was called with "
                                f"arrays of {xp.__name__}",
                                hint="cast the arrays yourself (xp.astype) and leave precision= out, or pass "
                                     "NumPy arrays")
        table = self.rules if xp is None else self.rules.without_methods()
        norm = Normalizer(src, ns, table, fn_params, drop=drop)
        norm.namespace_args = args
        fn = norm.run()
        kinds = {}
        if args is not None:
            for nm, a in zip(self._names, args):
                kinds[norm.scope.rename.get(nm, nm)] = ("container" if _container_kind(a) else
                                                        "py" if isinstance(a, (float, int, np.generic)) else "array")
        if self.precision is not None:
            cast_inputs(fn, self.precision, norm.scope.rename, kinds, {norm.scope.rename.get(n, n) for n in fn_params},
                        ns, self.fn.__qualname__)
        wrt_names = [norm.scope.rename.get(self._names[i], self._names[i]) for i in self.wrt]
        cplx, rules = complex_mode(fn, args, [norm.scope.rename.get(n, n) for n in self._names], table)
        if self.mode == "jvp":
            tr = ForwardTransform(src, fn, wrt_names, rules, ns, kinds=kinds, complex_params=cplx)
        else:
            from s2sad_runtime.loops import Checkpoint, Reversible
            default = self.loops if isinstance(self.loops, (Checkpoint, Reversible)) else None
            tr = ReverseTransform(src, fn, wrt_names, rules, ns, mode=self.mode, kinds=kinds,
                                  single=self.single, loop_default=default, complex_params=cplx)
        # parameters of the differentiated code beyond f's own (the seed of a
        # gradient function being differentiated again) keep their defaults
        nparams = len(fn.params)
        self._extra = list(getattr(target, "__defaults__", None) or ())[-(nparams - len(self._names)):] \
            if nparams > len(self._names) else []
        suffix = self.mode
        fname = f"{fn.name}_{suffix}"
        fdef = plan_ir = tr.run(fname)
        if self.precision is not None:
            fdef = plan_ir = apply_policy(fdef, self.precision, ns)
        if self.mode != "jvp":
            fdef = inplace_adjoints(fdef, ns)
        source = R.source(fdef) + "\n"
        self._ns = ns
        self._fname = fname
        label = f"{src.short_filename}:{fn.name}:{suffix}"
        over = runtime_over(xp, type(foreign[0])) if xp is not None else None
        if over is not None:
            check_no_view_writes(fdef.body, xp.__name__)
        compiled = emit.compile_function(source, fname, ns, label)
        compiled.__s2sad_loops__ = bool(getattr(tr, "ck", None))
        compiled.__s2sad_origin__ = getattr(src.fn, "__s2sad_origin__", None) or (src.filename, src.qualname)
        compiled.__s2sad_ns__ = ns
        compiled.__s2sad_ir__ = fdef
        compiled.__s2sad_plan_ir__ = plan_ir      # the planner makes its own in-place accumulations
        compiled.__s2sad_bindings__ = norm.bindings
        if over is not None:
            # the same code over the arrays' namespace; differentiating it
            # again reads the plain one (``__s2sad_plain__``)
            plain = compiled
            compiled = located_namespace_errors(emit.compile_function(source, fname, ns, label, over=over))
            compiled.__dict__.update(plain.__dict__)
            compiled.__s2sad_plain__ = plain
        return compiled

    def __s2sad_inline__(self):
        """The generated function a call to this gradient inlines."""
        return self.compiled(None)

    @property
    def source(self):
        """The generated Python source (compiled on first access)."""
        f = self._last or self.compiled(None)
        return f.__s2sad_source__

    def __repr__(self):
        return f"<s2sad.{self.mode} of {self.fn.__qualname__} wrt {self.wrt}>"


# ---------------------------------------------------------------- public API

def _check_precision(precision, mode, backend):
    if precision is None:
        return None
    if not isinstance(precision, Precision):
        raise ArgumentError(f"precision={precision!r}: give an s2sad.Precision",
                            hint="e.g. precision=s2sad.Precision(primal=np.float16, adjoint=np.float32)")
    if mode not in ("grad", "value_and_grad"):
        raise ArgumentError(f"precision= is for grad and value_and_grad, not {mode}")
    if backend != "python":
        raise ArgumentError(f"precision= runs on the Python backend, not backend={backend!r}",
                            hint="leave backend at its default with a precision policy")
    return precision


def _transform(mode, f, wrt, rules, loops=None, plan=True, backend="python", precision=None):
    if f is None:
        return lambda fn: GradFunction(fn, wrt, mode, rules, loops, plan, backend, precision)
    if not callable(f):
        raise ArgumentError(f"{mode} expects a function, got {f!r}")
    mod = getattr(f, "__module__", None) or ""
    if isinstance(f, (np.ufunc, types.BuiltinFunctionType)) or mod.split(".")[0] in ("numpy", "cupy", "math"):
        name = getattr(f, "__name__", repr(f))
        raise ArgumentError(f"{mode} of `{name}`: s2sad differentiates Python functions from their source, and "
                            f"`{name}` is a library function",
                            hint=f"wrap it in a function of your own, e.g. `def f(x): return np.{name}(x)`, and "
                                 f"differentiate that")
    return GradFunction(f, wrt, mode, rules, loops, plan, backend, precision)


def grad(f=None, wrt=0, *, rules=None, loops=None, plan=True, backend="python", precision=None):
    """Gradient of a scalar-valued function, as generated Python.

    Args:
        f: a Python function over NumPy (or CuPy) arrays and floats.
        wrt: the argument(s) to differentiate: an int, a parameter name, or a
            tuple of them (then a tuple of gradients is returned).
        rules: a :class:`s2sad.RuleTable` (defaults to the built-in rules).
        loops: the default strategy of ``for`` loops not annotated in the
            source: ``s2sad.Tape()`` (the default) or
            ``s2sad.Checkpoint(snapshots=s)``.
        plan: after the first call with a given signature (shapes, dtypes,
            integer arguments), run a planned variant whose temporaries live
            in reused buffers (``.planned_source``); ``False`` keeps the
            generic code.
        backend: ``"python"`` (the default), ``"numba"`` (compiled per
            signature; what Numba cannot take runs as Python, with a
            warning and ``.plan_info["fallback"]``) or ``"auto"`` (Numba
            for loops without matrix products, if installed): see
            docs/performance.md, "The Numba backend".
        precision: an :class:`s2sad.Precision` policy: the function runs at
            its primal dtype, the reverse sweep at its adjoint dtype, and
            the gradients come back in the adjoint dtype (docs/arrays.md,
            "Precision").  Use :class:`s2sad.LossScaler` for float16.

    Returns:
        A callable with ``f``'s signature returning the gradient(s); its
        ``.source`` is the generated code.  Usable as ``@grad`` or
        ``@grad(wrt=(0, 1))``.  ``df(*args, out=arrays)`` writes the
        gradients into ``arrays`` (a planned call then allocates no array
        memory).

    Example:
        >>> import numpy as np, s2sad
        >>> def f(x):
        ...     return np.sum(np.sin(x) * x)
        >>> df = s2sad.grad(f)      # doctest: +SKIP (needs source in a file)
    """
    return _transform("grad", f, wrt, rules, loops, plan, backend, precision)


def value_and_grad(f=None, wrt=0, *, rules=None, loops=None, plan=True, backend="python", precision=None):
    """Like :func:`grad` but returns ``(f(*args), gradient)``."""
    return _transform("value_and_grad", f, wrt, rules, loops, plan, backend, precision)


def vjp(f=None, wrt=0, *, rules=None, loops=None, backend="python"):
    """Vector-Jacobian product: ``vjp(f)(*args)`` returns ``(value, pullback)``
    where ``pullback(out_adjoint)`` returns the adjoint(s) of the ``wrt``
    inputs.  The output may be any array (not only a scalar)."""
    return _transform("vjp", f, wrt, rules, loops, backend=backend)


def jvp(f=None, wrt=0, *, rules=None, backend="python"):
    """Forward mode: ``jvp(f)(*args, tangent)`` returns ``(f(*args), J v)``,
    the directional derivative of ``f`` along ``tangent`` (a tuple of
    tangents when ``wrt`` is a tuple).  The generated code carries each
    value's tangent beside it (``.source``)."""
    return _transform("jvp", f, wrt, rules, backend=backend)


def hvp(f=None, wrt=0, *, rules=None, loops=None, backend="python"):
    """Hessian-vector product of scalar ``f``: ``hvp(f)(*args, v)`` returns
    ``H v`` without forming ``H``, at the cost of a few gradients.

    Forward over reverse (Pearlmutter 1994): the tangent of the generated
    gradient.  When the gradient code holds a checkpointed loop (which
    forward mode does not enter), reverse over forward is used instead --
    the gradient of ``<grad f, v>`` computed in forward mode -- and the loop
    stays checkpointed in it (for a symmetric Hessian both give ``H v``).
    ``backend="numba"`` compiles the forward-over-reverse code (see
    :func:`grad`)."""
    if f is None:
        return lambda fn: hvp(fn, wrt, rules=rules, loops=loops, backend=backend)
    g = grad(f, wrt, rules=rules, loops=loops)
    j = jvp(g, wrt, rules=rules, backend=backend)
    state = {"rof": None}

    def hvp_f(*args, **kwargs):
        if state["rof"] is None:
            loops = g.compiled(g._bind(args[:-1], kwargs)).__s2sad_loops__
            state["rof"] = _reverse_over_forward(f, wrt, rules, g.loops) if loops else False
        if state["rof"]:
            return state["rof"](*args, **kwargs)
        return j(*args, **kwargs)[1]
    hvp_f.jvp = j
    hvp_f.grad = g
    hvp_f.state = state
    hvp_f.__name__ = f"{getattr(f, '__name__', 'f')}_hvp"
    return hvp_f


def _reverse_over_forward(f, wrt, rules, loops):
    """``(*args, v) -> grad_x <grad f(x), v>``, differentiating the forward
    mode code of ``f`` in reverse (its loops keep their strategies)."""
    j = jvp(f, wrt, rules=rules)
    names = [p.name for p in inspect.signature(f).parameters.values()]
    ws = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
    wi = [names.index(w) if isinstance(w, str) else int(w) for w in ws]
    tans = [f"_v{i}" for i in range(len(wi))]
    fname = f"{getattr(f, '__name__', 'f')}_directional"
    src = (f"def {fname}({', '.join(names + tans)}):\n"
           f"    _pair = _jvp({', '.join(names + tans)})\n"      # (inlined: one tangent per argument)
           f"    return _pair[1]\n")
    ns = emit.Namespace()
    ns.values["_jvp"] = j
    directional = emit.compile_function(src, fname, ns, f"hvp:{fname}")
    gd = grad(directional, wrt=tuple(wi) if len(wi) > 1 else wi[0], rules=rules, loops=loops)

    def rof(*args, **kwargs):
        *xs, v = args
        vs = list(v) if len(wi) > 1 else [v]
        return gd(*xs, *vs)
    rof.grad = gd
    return rof


def hessian(f, wrt=0, *, rules=None):
    """Dense Hessian of scalar ``f`` in one argument, one Hessian-vector
    product per input element (for small problems).  Returns an array of
    shape ``x.shape + x.shape``."""
    h = hvp(f, wrt, rules=rules)
    if isinstance(wrt, str):
        names = list(inspect.signature(f).parameters)
        if wrt not in names:
            raise ArgumentError(f"wrt={wrt!r}: {f.__qualname__} has no parameter {wrt!r}",
                                hint=f"its parameters are {', '.join(names)}")
        index = names.index(wrt)
    elif isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool):
        index = int(wrt)
    else:
        raise ArgumentError(f"hessian takes one argument to differentiate (an int or a name), got wrt={wrt!r}")

    def hess(*args):
        x = args[index]
        xa = np.asarray(x, dtype=float) if not hasattr(x, "shape") else x
        n = int(np.size(xa))
        cols = []
        for i in range(n):
            e = np.zeros(n, dtype=getattr(xa, "dtype", float))
            e[i] = 1.0
            v = e.reshape(np.shape(xa)) if np.ndim(xa) else float(e[0])
            cols.append(np.reshape(h(*args, v), -1))
        H = np.stack(cols, axis=1)
        return H.reshape(np.shape(xa) + np.shape(xa))
    return hess


def show(df, file=None):
    """Print the generated code of a transformed function."""
    print(df.source, file=file)


from s2sad_runtime import stop_gradient  # noqa: E402,F401  (re-exported)


# s2sad's own transforms, recognised by the compiler in differentiated code
# (`df = s2sad.grad(f)` in a body is inlined where df is called)
grad.__s2sad_transform__ = value_and_grad.__s2sad_transform__ = True


def adjoint(fn, vjp=None, *, rules=None):
    """Register a reverse rule for ``fn`` (a function s2sad cannot or should
    not look into).  Used as a decorator::

        @s2sad.adjoint(softplus)
        def softplus_vjp(g, ans, x):
            return g / (1.0 + np.exp(-x))

    The rule receives the output adjoint ``g``, the output ``ans`` and the
    call's arguments, and returns the adjoint of each positional argument
    (a tuple when there are several; ``None`` for non-differentiable ones).
    It registers into ``rules`` or the default table.
    """
    table = rules if rules is not None else DEFAULT_RULES
    return table.adjoint(fn, vjp)
