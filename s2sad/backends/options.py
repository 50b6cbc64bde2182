"""The ``backend=`` option of the transforms: which code runs a
differentiated function (``"python"``, ``"numba"``, ``"auto"``), and the
methods :class:`s2sad.api.GradFunction` takes from it (``compile``,
``compiled_source``, ``backend_info``, ``compile_seconds``)."""

from __future__ import annotations

from s2sad.errors import ArgumentError
from s2sad.backends.auto import prefers_numba

_BACKENDS = ("python", "numba", "auto")


def check_backend(backend):
    if backend not in _BACKENDS:
        raise ArgumentError(f"backend={backend!r}: the backends are {', '.join(map(repr, _BACKENDS))}")
    if backend == "numba":
        from s2sad.backends.numba_backend import require
        require()
    return backend


class BackendOptions:
    """Backend methods of a differentiated function."""

    def _compiled_variant(self, f):
        """The generated function ``f`` under the Numba backend (falling
        back to ``f`` per signature, reported in ``plan_info``)."""
        from s2sad.backends import numba_backend as nb
        if self.backend == "auto" and not (nb.available() and prefers_numba(f.__s2sad_ir__)):
            return f
        return nb.NumbaFunction(f, f"{self.fn.__qualname__}:{self.mode}", warn=self.backend == "numba",
                                auto=self.backend == "auto")

    def compile(self, *args, **kwargs):
        """Compile for the signature of ``args`` ahead of the first call
        (the Numba backend; the Python backend builds its code).  Returns
        True when compiled code will run for these arguments."""
        if self.mode == "jvp":
            args, tangent = (args[:-1], args[-1]) if "tangent" not in kwargs else (args, kwargs.pop("tangent"))
            args = self._bind(args, kwargs)
            tangents = (tangent,) if self.single else tuple(tangent)
            full = (*args, *self._extra, *tangents)
        else:
            args = self._bind(args, kwargs)
            full = args
        self._check_inputs(args)
        f = self.compiled(args)
        if hasattr(f, "compile"):
            return f.compile(*full)
        return self.backend == "python"

    @property
    def compiled_source(self):
        """The source the Numba backend compiled (None on the Python
        backend, or before the first call)."""
        return getattr(self._last, "compiled_source", None)

    @property
    def backend_info(self):
        """Which backend ran the last signature: ``backend``,
        ``compile_seconds``, ``fallback`` (why it runs on Python, located),
        ``cached`` (machine code loaded from the disk cache), ``llvm_opt``
        (LLVM's optimisation level: 1 for a signature whose time is in
        products of matrices by matrices, else Numba's, 3)."""
        f = self._last
        info = getattr(f, "info", None)
        if info is None:
            return {"backend": "python", "fallback": None, "compile_seconds": 0.0}
        ran = info.get("ran") or ("python" if info["fallback"] and not info["signatures"] else "numba")
        return dict(info, backend=ran)

    @property
    def compile_seconds(self):
        return self.backend_info["compile_seconds"]
