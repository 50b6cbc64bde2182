"""The Numba backend (``backend="numba"``): generated code compiled to
machine code per signature, with the Python code as its explicit fallback.

:class:`NumbaFunction` stands where the generated Python function stood: it
is called the same way and carries the same attributes.  On its first call
it lowers the generated program (:mod:`s2sad.backends.numba_lower`),
writes the lowered source to a module in the user's cache directory (named
by the hash of its text, so a second process finds Numba's cached machine
code next to it) and compiles it; Numba compiles once more for each new
combination of argument types.

What the backend cannot take -- a construct the lowering refuses, a type
Numba cannot infer, a helper without a compiled version -- leaves that
signature on the Python code; the reason, located at the user's source
line, goes into ``info["fallback"]`` (``df.plan_info``) and, for an
explicit ``backend="numba"``, a :class:`BackendFallbackWarning`.  An error
the compiled code raises at run time (a bad index, a non-scalar output) is
raised again by running the Python code, whose messages name the line.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import time
import warnings

from s2sad.analysis.prims import static_value
from s2sad.backends.auto import loops, multiplies_matrices
from s2sad.backends.numba_cache import BLAS_BOUND_OPT, HEADER, jit, llvm_opt, load
from s2sad.backends.numba_loops import has_loops, split, statics
from s2sad.backends.numba_lower import Unsupported, lower, signature_key as _typeof_key, with_defaults
from s2sad.ir import render as R
from s2sad_runtime.errors import names_source


class BackendFallbackWarning(UserWarning):
    """A signature runs on the Python backend instead of the one asked for."""


def available():
    """Is Numba installed?"""
    return importlib.util.find_spec("numba") is not None


def require():
    if not available():
        from s2sad.errors import ArgumentError
        raise ArgumentError("backend='numba' needs Numba, which is not installed",
                            hint='pip install "s2sad[numba]" (or use the default backend="python")')


class _Variant:
    """One lowering of the generated function, compiled by Numba."""

    def __init__(self, low, nb, source):
        self.low = low
        self.nb = nb
        self.source = source

    def full(self, args):
        """The compiled function's arguments: the call's, the outside data
        (read now), the defaults the call left out."""
        low = self.low
        k = low.insert_at
        missing = low.nparams - len(args)
        rest = (*args[k:], *low.defaults[len(low.defaults) - missing:]) if missing > 0 else args[k:]
        return (*args[:k], *[static_value(e) for e in low.data_exprs], *rest)


class _Loops:
    """Python code whose checkpointed loops call compiled code: ``steps``
    (name -> :class:`NumbaFunction`) and one-step adjoints ``pairs`` (name
    -> :class:`s2sad.backends.numba_loops.Pair`)."""

    def __init__(self, fn, steps, pairs):
        self.nb = fn
        self.steps = steps
        self.pairs = pairs
        self.seen = None            # the variants report() last collected from

    def full(self, args):
        return args

    def failed(self, e):
        """Is ``e`` Numba refusing a compiled function (not an error of the
        code at run time)?"""
        from numba.core.errors import NumbaError
        return isinstance(e, NumbaError)

    def report(self, owner):
        """Fallbacks of this call, and (after a call that compiled or refused
        something) compile times and sources of the compiled parts, in
        ``owner``'s info."""
        info = owner.info
        falls = [s.info["fallback"] for s in self.steps.values() if s.info.get("ran") == "python"]
        for p in self.pairs.values():
            while len(p.failures) > p.reported:
                msg = owner._message(f"{p.label}, the one-step adjoint: {p.failures[p.reported]}", p.where)
                p.reported += 1
                owner._set_fallback(msg)
                falls.append(msg)
        if falls:
            info["fallback"] = falls[0]
        seen = (tuple(len(s._variants) for s in self.steps.values()),
                tuple((len(p.variants), sum(len(d.signatures) for d in p.dispatchers())) for p in self.pairs.values()))
        if seen != self.seen:
            self.seen = seen
            self._collect(owner)

    def _collect(self, owner):
        info = owner.info
        secs = sum(s.info["compile_seconds"] for s in self.steps.values())
        hits = [s.info["cached"] for s in self.steps.values() if s.info["cached"] is not None]
        for p in self.pairs.values():
            for d in p.dispatchers():
                secs += sum((d.get_metadata(sig) or {}).get("timers", {}).get("compiler_lock", 0.0)
                            for sig in d.signatures)
                hits.append(bool(d.stats.cache_hits))
        info["compile_seconds"] = secs
        info["cached"] = all(hits) if hits else None
        info["signatures"] = max(1, info["signatures"])
        info["loops"] = ("checkpointed loops: step and one-step adjoint compiled; the schedule driver and the code "
                         "around the loops run as Python")
        srcs = [s.compiled_source.removeprefix(HEADER).strip("\n") for s in self.steps.values() if s.compiled_source]
        srcs += [src for p in self.pairs.values() for src in p.sources]
        if srcs:
            owner.compiled_source = HEADER + "\n\n".join(srcs) + "\n"


class NumbaFunction:
    """The generated function ``py`` compiled by Numba, falling back to
    ``py`` itself per signature (see the module's docstring)."""

    def __init__(self, py, label, warn=True, auto=False):
        self.py = py
        self.label = label
        self.warn = warn
        self.auto = auto            # backend="auto": a signature of matrix-matrix products stays Python
        self._lock = threading.Lock()
        self._variants = {}         # signature -> _Variant, or a fallback message (runs the Python code)
        self._loops = None          # the _Loops variant of a function with checkpointed loops (or its message)
        self.info = {"backend": "numba", "compile_seconds": 0.0, "fallback": None, "signatures": 0,
                     "cached": None, "module": None, "ran": None,       # ran: the backend of the last call
                     "llvm_opt": None}
        self.compiled_source = None

    def __getattr__(self, name):
        # the generated function's attributes (__s2sad_ir__, __s2sad_source__...)
        if name == "py":
            raise AttributeError(name)
        return getattr(self.py, name)

    # -------------------------------------------------------------- build
    def _variant(self, key, args):
        """The compiled variant of signature ``key`` (lowered for the types
        of ``args``, compiled by Numba), or the message saying why there is
        none."""
        v = self._variants.get(key)
        if v is not None:
            return v
        with self._lock:
            v = self._variants.get(key)
            if v is None:
                v = self._variants[key] = self._build(args)
        return v

    def _build(self, args):
        import numba
        fdef = self.py.__s2sad_ir__
        called = with_defaults(fdef, args)
        blas = multiplies_matrices(fdef, called)
        if self.auto and (blas or not loops(fdef)):      # (auto.prefers_numba, its analysis made once)
            return self._set_fallback("backend='auto': this signature runs on the Python backend (its loops "
                                      "multiply matrices by matrices: BLAS-bound, faster as NumPy calls)")
        if has_loops(fdef):
            return self._partial()
        try:
            low = lower(fdef, called)
        except Unsupported as e:
            return self._set_fallback(self._message(e.reason, e.where))
        opt = BLAS_BOUND_OPT if blas else None
        note = (f"# Compiled at LLVM -O{opt}: its time is in products of matrices by matrices (BLAS).\n\n"
                if opt is not None else "")
        src = HEADER + note + R.source(low.fdef) + "\n"
        self.compiled_source = src
        mod, path = load(src, low.globals, self.label)
        fn = getattr(mod, low.fdef.name)
        var = _Variant(low, jit(fn, path), src)
        self.info["module"] = path
        full = var.full(args)
        t0 = time.perf_counter()
        try:
            from numba.core import errors as nerr
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", nerr.NumbaWarning)
                with llvm_opt(opt):
                    var.nb.compile(tuple(numba.typeof(a) for a in full))
        except Exception as e:  # noqa: BLE001 - Numba's errors: reported, and the Python code runs
            return self._set_fallback(self._numba_message(e, src))
        self._done(var, time.perf_counter() - t0)
        level = int(numba.config.OPT)
        self.info["llvm_opt"] = level if opt is None else min(opt, level)
        return var

    def _partial(self):
        """The variant of a function with checkpointed loops: Python code
        whose loop steps and one-step adjoints run compiled, per signature
        of their own (:mod:`s2sad.backends.numba_loops`)."""
        if self._loops is None:
            def make_step(fdef):
                return NumbaFunction(self._python(fdef), f"{self.label}:{fdef.name}", warn=self.warn)
            try:
                outer, steps, pairs = split(self.py.__s2sad_ir__, make_step)
            except Unsupported as e:
                self._loops = self._set_fallback(self._message(e.reason, e.where))
                return self._loops
            self._loops = _Loops(self._python(outer), steps, pairs)
        return self._loops

    def _python(self, fdef):
        """Generated function ``fdef`` as Python, in the generated code's
        globals (and the static references it adds)."""
        ns = dict(self.py.__globals__)
        ns.update(statics(fdef))
        exec(compile(R.source(fdef), f"<s2sad numba {self.label}:{fdef.name}>", "exec"), ns)
        fn = ns[fdef.name]
        fn.__s2sad_ir__ = fdef
        return fn

    # --------------------------------------------------------------- call
    def __call__(self, *args):
        v = self._variants.get(_typeof_key(args)) or self._variant(_typeof_key(args), args)
        info = self.info
        if type(v) is str:
            info["ran"], info["fallback"] = "python", v
            return self.py(*args)
        info["ran"], info["fallback"] = "numba", None
        try:
            return v.nb(*v.full(args))
        except Exception as e:  # noqa: BLE001 - the Python code raises it with the user's line, or runs
            if type(v) is _Loops and v.failed(e):
                self._variants[_typeof_key(args)] = self._loops = self._set_fallback(
                    self._numba_message(e, self.compiled_source))
                info["ran"], info["fallback"] = "python", self._loops
            return self.py(*args)
        finally:
            if type(v) is _Loops:
                v.report(self)

    def compile(self, *args):
        """Compile for the signature of ``args`` without running; True when
        compiled code will run for it."""
        return type(self._variant(_typeof_key(args), args)) is not str

    def _done(self, var, seconds):
        self.info["compile_seconds"] += seconds
        self.info["signatures"] += 1
        stats = getattr(var.nb, "stats", None)
        if stats is not None:
            self.info["cached"] = bool(stats.cache_hits)

    # ----------------------------------------------------------- messages
    def _set_fallback(self, msg):
        self.info["fallback"] = msg
        if self.warn:
            warnings.warn(BackendFallbackWarning(msg), stacklevel=5)
        return msg

    def _message(self, reason, where):
        where = where.removeprefix("adjoint of ") if where else where
        head = f"{where.split('  ', 1)[0]}: " if where else ""
        line = f"\n    {where.split('  ', 1)[1]}" if where and "  " in where else ""
        return (f"{head}the numba backend cannot compile this ({reason}); this signature runs on the "
                f"Python backend{line}\nhint: see docs/performance.md, 'The Numba backend', for what it takes")

    def _numba_message(self, e, source):
        """Numba's error, located at the user's line: the nearest source
        comment above the generated line Numba names."""
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        first = next((ln for ln in lines if not ln.startswith(("Failed in", "During", "File", "raised from"))),
                     lines[0] if lines else type(e).__name__)
        sig = next((ln[4:] for ln in lines if ln.startswith(">>> ")), None)
        if sig and sig not in first:
            first = f"{first} {sig}"
        where = None
        m = re.findall(r'File "([^"]*s2sad_nb_[0-9a-f]+\.py|<s2sad numba [^>]*>)", line (\d+)', text)
        if m and source:
            lines = source.splitlines()
            n = int(m[-1][1]) - 1
            for i in range(min(n, len(lines) - 1), -1, -1):
                s = lines[i].strip()
                if names_source(s):
                    where = s[2:]
                    break
        return self._message(first[:300], where)
