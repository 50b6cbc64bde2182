"""Emitting generated code: the namespace it runs in, compilation, and
registration with ``linecache`` (so tracebacks and pdb show the generated
lines).  The standalone module written by ``export`` is s2sad/export.py."""

from __future__ import annotations

import linecache
import types

import numpy as np

import s2sad_runtime


class Namespace:
    """The globals of a generated function: one name per object.

    ``ref(obj, hint)`` returns the identifier under which ``obj`` is bound,
    preferring ``hint`` (the name the user's code or the rule template uses)
    and falling back to ``hint_2``, ``hint_3``... when the name is taken by
    another object.  Deterministic: the same sequence of references gives
    the same names.
    """

    def __init__(self):
        self.values = {"_rt": s2sad_runtime}
        self.reserved = set()   # local variable names of the generated code

    def ref(self, obj, hint):
        hint = hint or "_obj"
        if hint in self.reserved and hint not in self.values:
            hint = hint + "_g"
        if hint in self.values:
            if self.values[hint] is obj:
                return hint
        else:
            self.values[hint] = obj
            return hint
        for nm, v in self.values.items():
            if v is obj and nm.startswith(hint):
                return nm
        i = 2
        while f"{hint}_{i}" in self.values or f"{hint}_{i}" in self.reserved:
            i += 1
        self.values[f"{hint}_{i}"] = obj
        return f"{hint}_{i}"

    def globals(self, over=None):
        """The globals dict; ``over``: ``(np, _rt)`` of an array namespace
        (``s2sad_runtime.namespaces.runtime_over``), bound in place of
        NumPy and the runtime for code compiled for that library's arrays."""
        g = dict(self.values)
        g["__builtins__"] = __builtins__
        if over is not None:
            from s2sad_runtime.namespaces import length
            names, rt = over
            g["len"] = length
            for k, v in g.items():
                if v is np:
                    g[k] = names
                elif v is np.linalg:
                    g[k] = names.linalg
                elif v is s2sad_runtime:
                    g[k] = rt
                elif isinstance(v, (np.ufunc, types.FunctionType, types.BuiltinFunctionType)) and \
                        (getattr(v, "__module__", "") or "").split(".")[0] == "numpy":
                    g[k] = _numpy_name(names, v.__name__)
                elif isinstance(v, types.FunctionType) and (v.__module__ or "").startswith("s2sad_runtime"):
                    g[k] = rt._rebind(v)
        return g


def _numpy_name(names, name):
    """``names.<name>``, or a function raising why it is missing (when it
    is called: the code may never reach it)."""
    try:
        return getattr(names, name)
    except AttributeError as e:
        def missing(*args, _e=e, **kwargs):
            raise _e
        return missing


_counter = [0]


def compile_function(source: str, fname: str, ns: Namespace, label: str, extra=None, over=None):
    """Compile generated ``source`` defining ``fname``; register it with
    linecache under a stable pseudo-filename.  ``extra``: more globals (a
    planned variant's workspace helpers and constants); ``over``: see
    :meth:`Namespace.globals`."""
    filename = f"<s2sad {label}>"
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    g = ns.globals(over)
    if extra:
        g.update(extra)
    exec(code, g)
    fn = g[fname]
    fn.__s2sad_source__ = source
    return fn
