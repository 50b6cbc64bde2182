"""What a call of planned code checks: its signature (the key a plan is
specialised to), the caller's ``out=`` arrays, and a planned variant's
results against the generic code's."""

from __future__ import annotations

import numpy as np

from s2sad.errors import ArgumentError


def plan_key(args):
    """The signature a plan is specialised to: argument types, array shapes
    and dtypes, and the values of integer arguments (they may fix shapes).
    Cheap to build: every call of a planned gradient builds it.  None when
    an argument is of a kind plans do not cover, or no argument is an array."""
    key = []
    arrays = False
    for a in args:
        t = type(a)
        if t is np.ndarray:
            key.append(a.shape)
            key.append(a.dtype)
            arrays = True
        elif t is float or t is np.float64 or t is np.float32 or a is None:
            key.append(t)
        elif t is int or t is bool:
            key.append(t)
            key.append(a)
        else:
            return None
    return tuple(key) if arrays else None


# np.shares_memory without its __array_function__ dispatch (both are
# ndarrays here): a fifth of the cost, on every call with out=
_shares_memory = getattr(np.shares_memory, "_implementation", np.shares_memory)


def leaves(x):
    if isinstance(x, (tuple, list)):
        for v in x:
            yield from leaves(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from leaves(v)
    else:
        yield x


def float_bytes(v):
    """Bytes of one real float of ``v`` (8 for anything not floating)."""
    dt = getattr(v, "dtype", None)
    if dt is None or dt.kind not in "fc":
        return 8
    return dt.itemsize // 2 if dt.kind == "c" else dt.itemsize


def mismatch(a, b, args=()):
    """A description of how results ``a`` and ``b`` differ, or ''.  The
    tolerance is that of the narrowest float among the results and the
    arguments ``args`` (a float64 result computed through float32 carries
    float32's rounding)."""
    narrow = min((float_bytes(v) for v in [*leaves(a), *leaves(list(args))]), default=8)
    la, lb = list(leaves(a)), list(leaves(b))
    if len(la) != len(lb):
        return "different structure"
    for i, (x, y) in enumerate(zip(la, lb)):
        if type(x) is not type(y) and not (np.isscalar(x) and np.isscalar(y)):
            return f"output {i}: {type(x).__name__} against {type(y).__name__}"
        if np.shape(x) != np.shape(y):
            return f"output {i}: shape {np.shape(x)} against {np.shape(y)}"
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.dtype != ya.dtype:
            return f"output {i}: dtype {xa.dtype} against {ya.dtype}"
        if np.array_equal(xa, ya, equal_nan=True):
            continue
        # relative to the result's scale: the planned code may sum in
        # another order (one product over a loop instead of one per step),
        # which moves elements that are sums with cancellation by rounding
        size = min(float_bytes(xa), narrow)
        rtol = 1e-12 if size >= 8 else 1e-5 if size >= 4 else 2e-3
        scale = float(np.max(np.abs(ya[np.isfinite(ya)]), initial=0.0)) if ya.size else 0.0
        if not np.allclose(xa, ya, rtol=rtol, atol=rtol * scale, equal_nan=True):
            return f"output {i}: max difference {np.max(np.abs(xa - ya))}"
    return ""


def check_out(out, n, single):
    """The ``out=`` arrays of a call returning ``n`` gradients, as a tuple."""
    outs = (out,) if single else tuple(out)
    if len(outs) != n:
        raise ArgumentError(f"out= needs {n} arrays (one per gradient), got {len(outs)}",
                            hint="pass a tuple of arrays shaped like the differentiated arguments")
    return outs


def check_out_overlap(outs, args, names):
    """``out=`` arrays receive the gradients while the call still reads
    its arguments (named ``names``): they must not share memory with any of
    them.  (On every call with out=, so plain arrays take the short way.)"""
    for o in outs:
        if not isinstance(o, np.ndarray):
            continue
        for i, a in enumerate(args):
            if type(a) is np.ndarray:
                if _shares_memory(o, a):
                    _out_overlap_error(names[i])
            elif isinstance(a, (tuple, list, dict, np.ndarray)):
                for leaf in leaves(a):
                    if isinstance(leaf, np.ndarray) and _shares_memory(o, leaf):
                        _out_overlap_error(names[i])


def _out_overlap_error(name):
    raise ArgumentError(
        f"an out= array shares memory with the argument `{name}`: the gradient would be written "
        "over an input it still reads",
        hint="pass out= arrays of their own (e.g. np.empty_like(x))")


def deliver(grads, outs, single):
    """The gradients of an unplanned call copied into ``out=`` arrays."""
    if outs is None:
        return grads
    from s2sad_runtime.plan import deliver as one
    gs = (grads,) if single else tuple(grads)
    done = tuple(one(g, outs, i, False) for i, g in enumerate(gs))
    return done[0] if single else done
