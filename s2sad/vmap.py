"""``s2sad.vmap``: a function over one example made a function over a batch,
as generated source (the batching transform, ``s2sad/transforms/batch.py``).

``vmap(grad(f))`` batches the generated gradient itself, so per-example
gradients come out of one sweep with no Python loop over the examples.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading

import numpy as np

from s2sad import api as _api, emit
from s2sad.errors import ArgumentError, UnsupportedSyntaxError
from s2sad.freshness import WatchesBindings
from s2sad.frontend.normalize import Normalizer
from s2sad.frontend.parse import read_function
from s2sad.ir import nodes as N
from s2sad.ir import render as R
from s2sad.plan.entries import plan_entry
from s2sad.plan.signature import check_out, check_out_overlap, deliver, mismatch, plan_key
from s2sad.rules import DEFAULT_RULES
from s2sad.transforms.batch import BatchTransform


def _is_function_value(v):
    return callable(v) and not hasattr(v, "shape") or inspect.ismodule(v)


class VmapFunction(WatchesBindings):
    """A batched function.  Call it with batched arguments; read the
    generated code in ``.source`` and what ran lane by lane in ``.info``."""

    def __init__(self, fn, in_axes=0, out_axes=0, rules=None, factored=False, plan=True):
        if not callable(fn):
            raise ArgumentError(f"vmap expects a function, got {fn!r}")
        self.fn = fn
        self.rules = rules if rules is not None else DEFAULT_RULES
        self._sig = inspect.signature(fn)
        params = list(self._sig.parameters.values())
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ArgumentError(f"cannot vmap {_name(fn)}: `*{p.name}`/`**{p.name}` parameters are not supported",
                                    hint="give each input its own named parameter")
        self._names = [p.name for p in params]
        self.in_axes = self._check_axes(in_axes)
        if out_axes is not None and not isinstance(out_axes, (int, np.integer)):
            raise ArgumentError(f"vmap: out_axes must be an int or None, got {out_axes!r}")
        self.out_axes = out_axes
        self.factored = factored
        self.plan = plan
        self._plans = {}           # plan key -> PlanEntry, or False (not planned)
        self._last_plan = None
        self.plan_reason = None
        self._cache = {}
        self._lock = threading.Lock()
        self._last = None
        functools.update_wrapper(self, fn, updated=())
        self.__dict__.pop("__wrapped__", None)
        self.__signature__ = self._sig

    def _check_axes(self, in_axes):
        n = len(self._names)
        if in_axes is None or isinstance(in_axes, (int, np.integer)) and not isinstance(in_axes, bool):
            axes = [in_axes] * n
        elif isinstance(in_axes, (tuple, list)):
            if len(in_axes) != n:
                raise ArgumentError(
                    f"vmap: in_axes has {len(in_axes)} entries but {_name(self.fn)} takes {n} arguments "
                    f"({', '.join(self._names)})", hint="give one axis (or None) per argument")
            axes = list(in_axes)
        else:
            raise ArgumentError(f"vmap: in_axes must be an int, None, or a tuple of them; got {in_axes!r}")
        for a in axes:
            if a is not None and (not isinstance(a, (int, np.integer)) or isinstance(a, bool)):
                raise ArgumentError(f"vmap: each in_axes entry must be an int or None; got {a!r}")
        if all(a is None for a in axes):
            raise ArgumentError("vmap: in_axes maps no argument (all None)",
                                hint="give the batched arguments an axis, e.g. in_axes=(None, 0)")
        return axes

    # ------------------------------------------------------------------ call
    def _bind(self, args, kwargs):
        if not kwargs and len(args) == len(self._names):
            return args
        try:
            b = self._sig.bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"vmap of {_name(self.fn)}{self._sig}: {e}") from None
        b.apply_defaults()
        return tuple(b.arguments[n] for n in self._names)

    def _key(self, args):
        return tuple((ax, id(a) if _is_function_value(a) else
                      "c" if isinstance(a, (list, tuple, dict)) else
                      "py" if isinstance(a, (float, int, np.generic)) else None)
                     for a, ax in zip(args, self.in_axes))

    def __call__(self, *args, **kwargs):
        if self._watch and self._stale():
            self._reset()
        if self._plans and not kwargs:
            entry = self._plans.get(plan_key(args))
            if entry:
                return entry.run(args, None)
        out = None
        if "out" in kwargs and "out" not in self._names:
            out = kwargs.pop("out")
        args = self._bind(args, kwargs)
        f = self.compiled(args)
        if out is not None:
            if not getattr(f, "__s2sad_gradients__", None):
                raise ArgumentError("out= is for per-example gradients: vmap(grad(f)) takes it, this vmap does not")
            out = check_out(out, *f.__s2sad_gradients__)
            check_out_overlap(out, args, self._names)
        if getattr(f, "__s2sad_plan_ir__", None) is not None:
            pkey = plan_key(args)
            entry = self._plans.get(pkey) if pkey is not None else False
            if entry is None:
                return self._first_call(f, args, pkey, out)
            if entry:
                self._last_plan = entry
                return entry.run(args, out)
        res = f(*args)
        return res if out is None else deliver(res, out, f.__s2sad_gradients__[1])

    def _first_call(self, f, args, pkey, out):
        """The first call of a signature: planned as ``grad`` plans (the
        batching helpers lowered at the probed shapes), checked against the
        generic code before it is kept."""
        with self._lock:
            generic = []
            entry = False
            if len(self._plans) < 16:
                entry, self.plan_reason = plan_entry(f, f.__s2sad_plan_ir__, args, generic,
                                                     f"{_name(self.fn)}:vmap", mismatch, _api.PLAN_STRICT)
            self._plans[pkey] = entry
            if entry:
                self._last_plan = entry
        res = generic[0] if generic else f(*args)
        return res if out is None else deliver(res, out, f.__s2sad_gradients__[1])

    def compiled(self, args=None):
        if self._watch and self._stale():
            self._reset()
        key = self._key(args) if args is not None else None
        f = self._cache.get(key)
        if f is None:
            with self._lock:
                f = self._cache.get(key)
                if f is None:
                    f = self._cache[key] = self._build(args)
                    self._watch_bindings(f)
        self._last = f
        return f

    def _reset(self):
        """A binding the generated code read was rebound: build again."""
        with self._lock:
            self._cache, self._plans, self._watch = {}, {}, ()
            self._last = self._last_plan = None

    def _lane_args(self, args):
        """One example's arguments (to pick the variant of an inner transform)."""
        from s2sad_runtime.batching import b_in
        out = []
        for a, ax, nm in zip(args, self.in_axes, self._names):
            if ax is None or _is_function_value(a):
                out.append(a)
                continue
            v = b_in(a, ax, nm)[0]
            out.append(v.item() if isinstance(a, (float, int)) or np.ndim(v) == 0 and
                       not isinstance(a, np.ndarray) else v)
        return tuple(out)

    def _build(self, args):
        fn = self.fn
        inner = getattr(fn, "compiled", None)
        generated = inner is not None and hasattr(fn, "__s2sad_inline__")
        target = inner(self._lane_args(args) if args is not None else None) if generated else fn
        if getattr(target, "__s2sad_loops__", False):
            raise _checkpointed_loop_error(fn)
        src = read_function(target)
        ns = emit.Namespace()
        fn_params = {}
        if args is not None:
            for nm, a in zip(self._names, args):
                if _is_function_value(a):
                    fn_params[nm] = ("static", a)
        norm = Normalizer(src, ns, self.rules, fn_params)
        ir = norm.run()
        kinds = {}
        if args is not None:
            for nm, a in zip(self._names, args):
                if not _is_function_value(a):
                    kinds[norm.scope.rename.get(nm, nm)] = "container" if isinstance(a, (list, tuple, dict)) \
                        else "array"
        names = [norm.scope.rename.get(n, n) for n in self._names]
        extra = ir.params[len(names):]
        mapped = list(zip(names, self.in_axes)) + [(p, None) for p in extra]
        for (nm, ax), a in zip(mapped, args or ()):
            if ax is not None and isinstance(a, (list, tuple, dict)):
                raise ArgumentError(f"vmap: argument `{nm}` is a {type(a).__name__}; only arrays can be mapped "
                                    "over an axis", hint="stack it into an array, or give it in_axes=None")
        tr = BatchTransform(src, ir, mapped, self.rules, ns, kinds=kinds, factored=self.factored,
                            generated=generated)
        fname = f"{ir.name}_vmap"
        fdef = tr.run(fname, self.out_axes)
        source = R.source(fdef) + "\n"
        compiled = emit.compile_function(source, fname, ns, f"{src.short_filename}:{ir.name}:vmap")
        compiled.__s2sad_origin__ = getattr(src.fn, "__s2sad_origin__", None) or (src.filename, src.qualname)
        compiled.__s2sad_lane_loops__ = list(tr.lane_loops)
        defaults = getattr(target, "__defaults__", None) or ()
        if extra and defaults:
            compiled.__defaults__ = tuple(defaults[-len(extra):])
        compiled.__s2sad_ns__ = ns
        # the globals and closure values read here and by the code batched
        compiled.__s2sad_bindings__ = list(norm.bindings) + list(getattr(target, "__s2sad_bindings__", ()))
        compiled.__s2sad_gradients__ = compiled.__s2sad_plan_ir__ = None
        if generated and getattr(fn, "mode", None) == "grad" and getattr(fn, "backend", None) == "python":
            compiled.__s2sad_gradients__ = (len(fn.wrt), fn.single)
            if self.plan and fn.plan and not self.factored and self.out_axes == 0 and _api._plan_blocker(fdef) is None:
                compiled.__s2sad_plan_ir__ = _plan_program(fdef, compiled.__defaults__ or ())
        return compiled

    @property
    def planned_source(self):
        """The planned (allocation-free) variant of the last planned
        signature (``vmap(grad(f))``), or None."""
        return self._last_plan.plan.source if self._last_plan else None

    @property
    def plan_info(self):
        """What the planner did for the last planned signature (as
        ``grad``'s ``plan_info``), or None."""
        e = self._last_plan
        return dict(e.plan.info, workspaces=e.pool.made) if e else None

    def __s2sad_inline__(self):
        return self.compiled(None)

    @property
    def source(self):
        """The generated Python source (of the last variant called)."""
        f = self._last or self.compiled(None)
        return f.__s2sad_source__

    @property
    def info(self):
        """``lane_loops``: the calls that run lane by lane (no batching
        rule), as ``(line, function)``; empty when everything is batched."""
        f = self._last or self.compiled(None)
        return {"lane_loops": list(f.__s2sad_lane_loops__)}

    def __repr__(self):
        return f"<s2sad.vmap of {_name(self.fn)} in_axes={self.in_axes} out_axes={self.out_axes}>"


def _plan_program(fdef, defaults):
    """The batched gradient as the planner takes it: its per-example
    gradients delivered by the return itself, ``return (b_grad_out(...),
    ...)`` (``b_out`` of axis 0 leaves them as they are), with the defaults
    of its trailing parameters.  None when its tail is not of that form."""
    from s2sad.plan.flatten import is_rt_call, name_counts
    from s2sad_runtime import b_grad_out, b_out
    body = list(fdef.body)
    ret = body[-1] if body else None
    if not (isinstance(ret, N.Return) and is_rt_call(ret.value, b_out) and len(ret.value.args) == 3
            and isinstance(ret.value.args[1], N.Const) and ret.value.args[1].value == 0):
        return None
    loads, stores = name_counts(body)
    tail = {}           # the trailing single definitions the return reads once
    k = len(body) - 1
    while k > 0 and isinstance(body[k - 1], N.Assign) and isinstance(body[k - 1].target, N.Name):
        name = body[k - 1].target.id
        if stores[name] != 1 or loads[name] != 1:
            break
        tail[name] = body[k - 1].value
        k -= 1

    def inline(e):
        if isinstance(e, N.Name) and e.id in tail:
            v = tail.pop(e.id)
            if isinstance(v, N.Tuple):
                return N.Tuple(tuple(inline(x) for x in v.elts))
            if is_rt_call(v, b_grad_out):
                return v
        raise LookupError(e)
    try:
        value = inline(ret.value.args[0])
    except LookupError:
        return None
    if tail or not all(isinstance(d, (int, float, bool, type(None))) for d in defaults):
        return None
    return N.FunctionDef(fdef.name, list(fdef.params), body[:k] + [N.Return(value)],
                         [N.Const(d) for d in defaults])


def _checkpointed_loop_error(fn):
    """vmap of a gradient whose loop is checkpointed: refused, naming the
    loop's line in the user's file."""
    user = getattr(fn, "fn", fn)
    where = {}
    try:
        src = read_function(user)
        n = len(inspect.getsourcelines(user)[0])
        for k, text in enumerate(src.lines[src.first_line - 1:src.first_line - 1 + n], start=src.first_line):
            m = re.search(r"(?<![\w])checkpointed\s*\(", text)
            if m and not text.lstrip().startswith("def "):
                c = m.start()
                where = dict(filename=src.filename, lineno=k, line=text, col=c, end_col=c + len("checkpointed"),
                             function=src.qualname)
                break
    except Exception:  # noqa: BLE001 - the message stands without the line
        pass
    return UnsupportedSyntaxError(
        "vmap of this gradient: its checkpointed loop runs inside the runtime's checkpoint scheduler, which vmap "
        "cannot batch yet", hint="for per-example gradients, drop the s2sad.checkpointed annotation (the default "
        "tape), or call the gradient once per example", **where)


def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def vmap(f=None, in_axes=0, out_axes=0, *, rules=None, plan=True):
    """Vectorize ``f`` over a batch axis, as generated source.

    Args:
        f: a Python function of one example (or an s2sad transform of one:
            ``vmap(grad(f))`` gives per-example gradients).
        in_axes: the axis of each argument that runs over the examples: an
            int for all, or a tuple with one int or None (not mapped) per
            argument, as in JAX.
        out_axes: where the batch axis goes in the result.
        plan: for ``vmap(grad(f))``, after the first call with a given
            signature, run a planned variant whose temporaries live in
            reused buffers, as ``grad`` does (``.planned_source``,
            ``.plan_info``); it takes ``out=`` arrays for the per-example
            gradients.  ``False`` keeps the generic code.

    The batched function runs each primitive once for the whole batch;
    control flow on batched values runs under masks (``docs/vmap.md``).
    """
    if f is None:
        return lambda fn: VmapFunction(fn, in_axes, out_axes, rules, plan=plan)
    return VmapFunction(f, in_axes, out_axes, rules, plan=plan)
