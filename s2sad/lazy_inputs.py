"""The call path of Dask arguments (issue #19): what ``GradFunction``
hands a call whose arguments hold Dask arrays.

The generated code is NumPy code that Dask arrays run as they are:
``X @ W``, ``np.sum``, ``np.tanh`` and the runtime's adjoint helpers build
a task graph instead of computing (the runtime keeps Dask adjoints lazy,
``s2sad_runtime.core.is_lazy``).  Here:

* ``check_args`` refuses arguments that would give a silently slow or
  unsupported graph, with a message naming the argument and what to do:
  an array chunked along another axis than the examples (axis 0), two
  arrays of the same length whose chunks along the examples differ, chunk
  sizes Dask does not know, ``out=``, forward mode;
* ``finish`` computes, in one ``dask.compute`` (one graph, on the active
  scheduler: a ``distributed.Client`` if one exists, else Dask's default),
  the value and every gradient of a NumPy or Python-number input, and
  gives each that input's type; the gradient of a Dask input stays lazy.

The gradient's reductions over the examples are Dask's tree reductions
(``sum``, ``mean``, and matmul's contraction, which Dask runs as a
blockwise product followed by a tree sum): each chunk contributes a
partial gradient of the parameters' size, combined ``split_every`` at a
time (``dask.config.set(split_every=8)`` around the call changes it).

Dask itself is imported only when a call has Dask inputs.  The user-facing
namespace is ``s2sad.dask`` (``minibatches``, ``data_parallel``).
"""


from __future__ import annotations

import numpy as np

from s2sad.errors import ArgumentError
from s2sad_runtime.errors import def_location
from s2sad_runtime.core import is_lazy

__all__ = ["has_dask", "check_args", "finish", "call", "plan_info", "refuse_forward", "PLAN_REASON"]

PLAN_REASON = ("Dask arrays run the generic code: the graph is built by the generated code and computed once "
               "per call (a planned variant's buffers and in-place writes are for NumPy arrays)")


def _leaves(x):
    if isinstance(x, (tuple, list)):
        for v in x:
            yield from _leaves(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    else:
        yield x


def has_dask(args):
    """Does any argument (or an element of a container argument) hold a
    Dask collection?  Cheap: one type attribute per argument."""
    for a in args:
        if is_lazy(a):
            return True
        if isinstance(a, (tuple, list, dict)) and any(is_lazy(v) for v in _leaves(a)):
            return True
    return False


def _dask_arrays(names, args):
    """(argument name, array) of every Dask array among the arguments."""
    for name, a in zip(names, args):
        if isinstance(a, (tuple, list, dict)):
            for i, v in enumerate(_leaves(a)):
                if is_lazy(v) and hasattr(v, "chunks"):
                    yield f"{name}[{i}]", v
        elif is_lazy(a) and hasattr(a, "chunks"):
            yield name, a


def _error(gf, message, hint):
    return ArgumentError(f"{gf.mode} of {gf.fn.__qualname__}: {message}", hint=hint, **def_location(gf.fn))


def check_args(gf, args, out):
    """Refuse, with a located message, Dask arguments that would not give
    a sharded gradient: chunks along an axis other than the examples,
    unknown chunk sizes, examples chunked differently in two arrays of the
    same length, ``out=``."""
    if out is not None:
        raise _error(gf, "out= is for NumPy calls; with Dask inputs the gradients are new arrays",
                     "drop out= (the gradients of NumPy parameters come back as NumPy arrays)")
    if gf.mode not in ("grad", "value_and_grad", "vjp", "data_parallel"):
        raise _error(gf, "Dask inputs are supported by grad, value_and_grad and vjp",
                     "compute the Dask arguments first (np.asarray(x.compute())) or use s2sad.grad")
    by_length = {}
    for name, a in _dask_arrays(gf._names, args):
        if any(c != c for cs in a.chunks for c in cs):
            raise _error(gf, f"`{name}` has unknown chunk sizes {a.chunks}",
                         f"call {name}.compute_chunk_sizes() (or build it with known sizes) before the call")
        for ax in range(1, a.ndim):
            if len(a.chunks[ax]) > 1:
                raise _error(gf, f"`{name}` (shape {a.shape}) is chunked along axis {ax} ({len(a.chunks[ax])} "
                             f"chunks); s2sad shards the examples, axis 0, and each chunk must hold whole rows",
                             f"rechunk it: {name} = {name}.rechunk({{0: 'auto', {ax}: -1}}) (or chunk the data "
                             f"along its first axis when you create it)")
        if a.ndim:
            seen = by_length.setdefault(a.shape[0], (name, a.chunks[0]))
            if seen[1] != a.chunks[0]:
                raise _error(gf, f"`{seen[0]}` and `{name}` hold {a.shape[0]} examples chunked differently "
                             f"({_brief(seen[1])} vs {_brief(a.chunks[0])}): Dask would move rows between "
                             "workers to line them up", f"chunk both alike, e.g. {name} = {name}.rechunk("
                             f"{{0: {seen[0]}.chunks[0]}})")


def refuse_forward(gf, args):
    """jvp/hvp with Dask inputs: refused (forward mode is not sharded)."""
    if has_dask(args):
        check_args(gf, args, None)


def plan_info(gf):
    """``plan_info`` of a gradient whose last call had Dask inputs (None otherwise)."""
    if gf.plan_reason == PLAN_REASON:
        return {"planned": 0, "allocating": [], "reason": PLAN_REASON}
    return None


def _brief(chunks):
    chunks = tuple(int(c) for c in chunks)
    return str(chunks) if len(chunks) <= 4 else f"({chunks[0]}, {chunks[1]}, ..., {chunks[-1]}: {len(chunks)} chunks)"


def _to_type_of(v, x):
    """The computed value ``v`` of a gradient of input ``x``, with ``x``'s type."""
    if isinstance(x, np.generic):
        return x.dtype.type(np.asarray(v)[()])
    if isinstance(x, complex):
        return complex(v)
    if isinstance(x, (float, int)):
        return float(v)
    if type(x) is np.ndarray:
        return np.asarray(v)
    return v


def _value(v):
    """The computed value of the function (a NumPy scalar for a 0-d array)."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v[()]
    return v


def finish(gf, res, args):
    """Compute, in one ``dask.compute``, every lazy result of a call that is
    owed as a NumPy value: the function's value, and the gradients of
    NumPy and Python-number inputs (in their input's type).  Gradients of
    Dask inputs stay lazy."""
    import dask
    pending, fill = [], []

    def owe(v, convert):
        if is_lazy(v):
            pending.append(v)
            fill.append(convert)
            return len(pending) - 1
        return None

    def walk(g, x):
        """The gradient g of input x as a template: ints index `pending`."""
        if isinstance(x, (list, tuple)) and isinstance(g, (list, tuple)):
            return type(g)(walk(gi, xi) for gi, xi in zip(g, x)) if not hasattr(type(g), "_fields") \
                else type(g)(*[walk(gi, xi) for gi, xi in zip(g, x)])
        if isinstance(x, dict) and isinstance(g, dict):
            return {k: walk(g[k], x[k]) for k in g}
        if is_lazy(x):
            return _Keep(g)
        i = owe(g, lambda v, x=x: _to_type_of(v, x))
        return _Keep(g) if i is None else _Slot(i)

    def grads(gs):
        xs = [args[i] for i in gf.wrt]
        if gf.single:
            return walk(gs, xs[0])
        return tuple(walk(g, x) for g, x in zip(gs, xs))

    if gf.mode == "value_and_grad":
        value, gs = res
        i = owe(value, _value)
        template = (_Keep(value) if i is None else _Slot(i), grads(gs))
    else:
        template = grads(res)
    try:
        done = dask.compute(*pending) if pending else ()
        values = [conv(v) for conv, v in zip(fill, done)]
    finally:
        # walk refers to itself (a cycle): emptied, ``pending`` no longer keeps
        # the lazy results, and the inputs they were computed from (data
        # persisted on workers), alive until Python's cyclic GC runs
        pending.clear()
    return _fill(template, values)


class _Keep:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


class _Slot:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _fill(t, values):
    if isinstance(t, _Keep):
        return t.v
    if isinstance(t, _Slot):
        return values[t.i]
    if isinstance(t, dict):
        return {k: _fill(v, values) for k, v in t.items()}
    if hasattr(type(t), "_fields"):
        return type(t)(*[_fill(v, values) for v in t])
    return type(t)(_fill(v, values) for v in t)


def call(gf, f, args, out):
    """A call of GradFunction ``gf`` (generated code ``f``) with Dask
    arguments: checked, run once to build the graph, computed once."""
    from s2sad_runtime import loops as _loops
    check_args(gf, args, out)
    gf._last_plan = None
    gf.plan_reason = PLAN_REASON
    if gf.mode == "vjp":
        value = gf.fn(*args)

        def pullback(out_adj):
            stats = _loops.collect_stats()
            try:
                return f(*args, out_adj)[1]
            finally:
                gf._record(stats)
        return value, pullback
    stats = _loops.collect_stats()
    try:
        res = f(*args)
    finally:
        gf._record(stats)
    return finish(gf, res, args)
