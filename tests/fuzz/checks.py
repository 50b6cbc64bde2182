"""Every check of one fuzz program, and the classification of its outcome.

``run_checks(p)`` differentiates the program with s2sad and compares with
the oracle (``oracle``; s2sad is never its own oracle):

=============  ==========================================================
``value``      ``value_and_grad``'s value equals the plain call
``grad``       the gradient along random directions against finite
               differences; ``struct``: its structure, shapes and dtypes
``repeat``     the second and third (planned) calls equal the first
``kept``       an array returned by one call is not overwritten by a later
               one
``inputs``     the inputs are unmodified by the gradient call
``out``        ``df(*args, out=arrays)`` writes the gradient into arrays
``jvp``        ``jvp`` against finite differences and ``<grad, t>``
``hvp``        ``hvp`` against differences of gradients and mixed second
               differences of ``f``
``global``     after the test changes a module global, the gradient
               follows its current value
``shape``      calls with new input shapes after the first call (planned from the second)
``float32``    float32 inputs give float32 gradients close to float64's
``vmap``       ``vmap(f)`` over a batch of three inputs equals ``f`` called on
               each (plain Python), and ``vmap(grad(f))`` the gradient of each
=============  ==========================================================

Outcomes: ``pass``, ``refusal`` (an ``S2SadError`` of the first gradient
call, grouped by message category), ``inconclusive`` (the oracle was
unstable everywhere), or a failure: ``wrong value``, ``wrong gradient``,
``wrong dtype/shape``, ``internal crash`` (an exception that is not an
``S2SadError``), ``timeout``.
"""

from __future__ import annotations

import copy
import os
import re
import signal
import time
import traceback
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

import s2sad
import s2sad.api

from .oracle import Oracle
from .program import call_plain, copy_args, load

WRONG_VALUE, WRONG_GRAD, WRONG_TYPE = "wrong value", "wrong gradient", "wrong dtype/shape"
CRASH, TIMEOUT = "internal crash", "timeout"
FAILURES = (CRASH, TIMEOUT, WRONG_VALUE, WRONG_GRAD, WRONG_TYPE)     # by priority
ALL_CHECKS = ("value", "grad", "struct", "repeat", "kept", "inputs", "out", "jvp", "hvp", "global", "shape",
              "float32", "backend", "vmap", "arrays")

GRAD_RTOL = 1e-6            # gradient against finite differences, relative
HVP_RTOL = 1e-5
SAME_RTOL = 1e-9            # two s2sad results that must agree (to rounding)
# other backends checked against the Python one (bench/fuzz.py --backend numba)
BACKENDS = [b for b in os.environ.get("S2SAD_FUZZ_BACKENDS", "").split(",") if b]
F32_RTOL = 2e-2

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OURS = (os.path.join(_ROOT, "s2sad") + os.sep, os.path.join(_ROOT, "runtime") + os.sep)
_FUZZ = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FuzzTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception``
    in the code under test swallows it."""


@dataclass
class Check:
    name: str
    status: str                 # pass | fail | inconclusive | refusal | skip
    kind: str = ""              # failure kind
    detail: str = ""


@dataclass
class Result:
    outcome: str                # pass | refusal | inconclusive | a failure kind
    checks: list = field(default_factory=list)
    signature: str = ""         # failures: kind [check]: what
    category: str = ""          # refusals: the normalized message
    detail: str = ""
    seconds: float = 0.0

    @property
    def failed(self):
        return self.outcome in FAILURES

    def signatures(self):
        """The signature of every failing check (a program may show several bugs)."""
        return [check_signature(c) for c in self.checks if c.status == "fail"]


def check_signature(c):
    what = c.detail.split("\n#")[-1] if c.kind == CRASH else ""
    return f"{c.kind} [{c.name}]" + (f": {what}" if what else "")


class Refused(Exception):
    def __init__(self, err):
        self.err = err


class Crashed(Exception):
    def __init__(self, err, summary, where):
        self.err, self.summary, self.where = err, summary, where


def normalize(msg):
    """A message category: names, quoted text and numbers replaced."""
    msg = str(msg).strip().splitlines()[0] if str(msg).strip() else ""
    msg = re.sub(r"^\S+:\d+ \(in [^)]*\): ", "", msg)            # file:line (in f):
    msg = re.sub(r"`[^`]*`", "`_`", msg)
    msg = re.sub(r"'[^']*'", "'_'", msg)
    msg = re.sub(r"\(\d+(, *\d+)*,?\)", "(shape)", msg)
    msg = re.sub(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?\b", "N", msg)
    msg = re.sub(r"\s+", " ", msg)
    return msg[:90]


def crash_where(tb):
    """The innermost frame of s2sad, the runtime or generated code."""
    frames = traceback.extract_tb(tb)
    for fr in reversed(frames):
        if fr.filename.startswith(_OURS):
            return f"{os.path.relpath(fr.filename, _ROOT)}:{fr.name}", fr.line
        if fr.filename.startswith("<s2sad"):
            return "generated code", fr.line
    fr = frames[-1] if frames else None
    return (f"{os.path.basename(fr.filename)}:{fr.name}", fr.line) if fr else ("?", "")


def attempt(fn):
    """Run an s2sad call: its result, or Refused / Crashed."""
    try:
        return fn()
    except s2sad.S2SadError as e:
        raise Refused(e) from None
    except Exception as e:  # noqa: BLE001 - anything else is an internal crash
        where, line = crash_where(e.__traceback__)
        inner = traceback.extract_tb(e.__traceback__)[-1]
        if inner.filename.startswith(_FUZZ) and not os.path.basename(inner.filename).startswith("test_"):
            raise       # a bug of the fuzzer itself (its tests' stand-ins for s2sad excepted)
        summary = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}\n    at {where}: {line}"
        raise Crashed(e, summary, f"{type(e).__name__} at {where}: {normalize(e)}") from None


@contextmanager
def alarm(seconds):
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def handler(signum, frame):
        raise FuzzTimeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# -------------------------------------------------------------- comparisons

def close(a, b, rtol, atol=0.0):
    return abs(a - b) <= rtol * max(abs(a), abs(b)) + atol


def same(a, b, rtol=SAME_RTOL):
    """Two s2sad results agree to rounding (relative to their scale)."""
    la, lb = _leaves(a), _leaves(b)
    if len(la) != len(lb):
        return "different structure"
    for i, (x, y) in enumerate(zip(la, lb)):
        try:
            xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            return f"part {i}: {type(x).__name__} against {type(y).__name__}"
        if xa.shape != ya.shape:
            return f"part {i}: shape {xa.shape} against {ya.shape}"
        scale = float(np.max(np.abs(xa), initial=0.0))
        if not np.allclose(xa, ya, rtol=rtol, atol=rtol * scale + 1e-300, equal_nan=True):
            return f"part {i}: max difference {np.max(np.abs(xa - ya)):.3g} (scale {scale:.3g})"
    return ""


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [y for v in x for y in _leaves(v)]
    return [x]


def struct_error(p, grads, args, float32=False):
    """What is wrong with the gradient's structure, shapes and dtypes, or ''."""
    idx = p.wrt_idx
    if p.single:
        gs = [grads]
    elif not isinstance(grads, tuple) or len(grads) != len(idx):
        return f"expected a tuple of {len(idx)} gradients, got {type(grads).__name__}"
    else:
        gs = list(grads)
    for k, (i, g) in enumerate(zip(idx, gs)):
        a = args[i]
        nm = p.names[i]
        if isinstance(a, float):
            if not isinstance(g, float) or isinstance(g, np.ndarray):
                return f"gradient of float `{nm}` is {type(g).__name__}, not a float"
            continue
        if not isinstance(g, np.ndarray):        # (a 0-d array too: not a NumPy scalar)
            return f"gradient of `{nm}` is {type(g).__name__}, not an ndarray"
        if g.shape != a.shape:
            return f"gradient of `{nm}` has shape {g.shape}, input {a.shape}"
        if g.dtype != a.dtype:
            return f"gradient of `{nm}` has dtype {g.dtype}, input {a.dtype}"
        if not np.all(np.isfinite(g)):
            return f"gradient of `{nm}` is not finite"
    return ""


def grad_list(p, grads):
    return [grads] if p.single else list(grads)


# ------------------------------------------------------------------ checks

class Runner:
    def __init__(self, p, only=None):
        self.p = p
        self.only = set(only) if only else None
        self.checks = []
        self._seed = (p.gen_seed or p.seed or 0) % 2 ** 32
        self._rngs = {}
        self.grad_ok = False

    def rng(self, check):
        """The random directions of one check: independent of which other
        checks run (shrinking runs only the failing one)."""
        if check not in self._rngs:
            self._rngs[check] = np.random.default_rng([self._seed, zlib.crc32(check.encode())])
        return self._rngs[check]

    def want(self, name):
        return self.only is None or name in self.only

    def record(self, name, status, kind="", detail=""):
        self.checks.append(Check(name, status, kind, detail))

    def guarded(self, name, fn):
        """Run check ``name``; turn refusals and crashes into records."""
        if not self.want(name):
            return
        try:
            fn()
        except Refused as r:
            self.record(name, "refusal", "", f"{type(r.err).__name__}: {normalize(r.err.message)}")
        except Crashed as c:
            self.record(name, "fail", CRASH, c.summary + "\n#" + c.where)

    # --------------------------------------------------------- the gradient
    def grad_vs_oracle(self, name, oracle, grads, ndir=2, tol=GRAD_RTOL, kind=WRONG_GRAD):
        """Directional derivatives of s2sad's gradient against the oracle,
        per differentiated argument.  True when some direction was
        conclusive and none failed."""
        gflat = oracle.flat(grad_list(self.p, grads))
        conclusive, worst = 0, None
        for k in range(len(oracle.idx)):
            n = 1 if oracle.sizes[k] == 1 else ndir
            for _ in range(n):
                d = oracle.direction(self.rng(name), only=k)
                ad = float(gflat @ d)
                est = oracle.directional(d)
                if not est.ok:
                    continue
                conclusive += 1
                atol = 3 * est.err + 1e-9 * max(1.0, abs(oracle.f0))
                if not close(ad, est.value, tol, atol):
                    nm = self.p.names[oracle.idx[k]]
                    worst = f"d/d{nm} along a random direction: s2sad {ad:.10g}, finite differences {est.value:.10g}"
                    break
            if worst:
                break
        if worst:
            self.record(name, "fail", kind, worst)
            return False
        if not conclusive:
            self.record(name, "inconclusive", "", "finite differences unstable along every direction")
            return False
        self.record(name, "pass")
        return True

    def run(self):
        p = self.p
        mod = load(p)
        self.mod = mod
        orig = copy_args(p.args)
        probe = copy_args(p.args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(mod.f(*probe))
        mutates = any(not np.array_equal(a, b) for a, b in zip(probe, orig))
        oracle = Oracle(mod, p.args, p.wrt_idx)
        args = copy_args(p.args)
        try:
            vg = attempt(lambda: s2sad.value_and_grad(mod.f, wrt=p.wrt))
            first = attempt(lambda: vg(*args))
        except Refused as r:
            return "refusal", f"{type(r.err).__name__}: {normalize(r.err.message)}"
        except Crashed as c:
            self.record("grad", "fail", CRASH, c.summary + "\n#" + c.where)
            return None, None
        if not (isinstance(first, tuple) and len(first) == 2) or np.ndim(first[0]) != 0:
            self.record("struct", "fail", WRONG_TYPE, f"value_and_grad returned {type(first).__name__}, "
                                                      f"not (scalar value, gradient)")
            return None, None
        val1, g1 = first
        snap = copy.deepcopy(g1)
        first_snap = (float(val1), snap)
        self.vg, self.g1 = vg, g1
        if self.want("value") and not close(float(val1), value, SAME_RTOL, 1e-12 * max(1.0, abs(value))):
            self.record("value", "fail", WRONG_VALUE, f"value_and_grad gives {float(val1)!r}, f gives {value!r}")
        err = struct_error(p, g1, args)
        if err:
            self.record("struct", "fail", WRONG_TYPE, err)
            return None, None
        if self.want("grad"):
            self.grad_ok = self.grad_vs_oracle("grad", oracle, g1)
        if self.want("inputs") and not mutates:
            bad = [p.names[i] for i, (a, b) in enumerate(zip(args, orig)) if not np.array_equal(a, b)]
            if bad:
                self.record("inputs", "fail", WRONG_VALUE, f"the gradient call modified input(s) {bad}")
                return None, None

        def repeat():
            # fresh copies each time: a function may legitimately write into its inputs
            r2 = attempt(lambda: vg(*copy_args(p.args)))
            r3 = attempt(lambda: vg(*copy_args(p.args)))
            for k, r in (("second", r2), ("third", r3)):
                bad = same(first_snap, r)
                if bad:
                    self.record("repeat", "fail", WRONG_GRAD, f"the {k} call differs from the first: {bad}")
                    return
            self.record("repeat", "pass")
        self.guarded("repeat", repeat)
        self.guarded("out", lambda: self.check_out(vg, copy_args(p.args)))
        self.guarded("jvp", lambda: self.check_jvp(mod, oracle, g1))
        self.guarded("hvp", lambda: self.check_hvp(mod, oracle, vg, g1))
        self.guarded("global", lambda: self.check_global(mod, vg))
        self.guarded("shape", lambda: self.check_shape(mod, vg))
        self.guarded("float32", lambda: self.check_f32(mod, vg, oracle, g1))
        self.guarded("vmap", lambda: self.check_vmap(mod, oracle, vg))
        self.guarded("arrays", lambda: self.check_arrays(first_snap))

        def kept():
            # one more call at other inputs of the same shapes (the planned
            # variant, reusing its buffers); the first result must not change
            x1 = oracle.x0 + 0.05 * oracle.direction(self.rng("kept"))
            attempt(lambda: vg(*copy_args(oracle.at(x1))))
            bad = same(snap, g1, rtol=0.0)
            self.record("kept", "fail" if bad else "pass", WRONG_VALUE if bad else "",
                        f"an array returned by the first call changed in later calls: {bad}" if bad else "")
        self.guarded("kept", kept)
        if BACKENDS:
            self.guarded("backend", lambda: self.check_backends(mod, oracle, first_snap))
        return None, None

    def check_backends(self, mod, oracle, first_snap):
        """The gradient on each other backend of ``BACKENDS`` equals the
        Python backend's to rounding (and so the oracle's), or the backend
        says why it left the signature on the Python code."""
        p = self.p
        ran = False
        for backend in BACKENDS:
            vgb = attempt(lambda: s2sad.value_and_grad(mod.f, wrt=p.wrt, backend=backend))
            res = attempt(lambda: vgb(*copy_args(p.args)))
            info = getattr(vgb, "backend_info", {}) or {}
            if info.get("ran", info.get("backend")) == "python":
                self.record("backend", "inconclusive", "", f"{backend}: runs as Python ({info['fallback'][:120]})")
                continue
            bad = same(first_snap, (float(res[0]), res[1]))
            if bad:
                self.record("backend", "fail", WRONG_GRAD, f"the {backend} backend differs from the Python one: {bad}")
                return
            again = attempt(lambda: vgb(*copy_args(oracle.at(oracle.x0))))
            bad = same(first_snap, (float(again[0]), again[1]))
            if bad:
                self.record("backend", "fail", WRONG_GRAD, f"a second {backend} call differs: {bad}")
                return
            ran = True
        if ran:
            self.record("backend", "pass")

    def check_vmap(self, mod, oracle, vg):
        """A batch of three inputs (the program's, and two moved along random
        directions) through ``vmap(f)`` and ``vmap(grad(f))``, against ``f``
        called on each as plain Python and the gradient of each."""
        p = self.p
        rng = self.rng("vmap")
        lanes = [list(p.args)] + [list(oracle.at(oracle.x0 + 0.05 * oracle.direction(rng))) for _ in range(2)]
        mapped = set(p.wrt_idx)
        args = [np.stack([np.asarray(ln[i], dtype=float) for ln in lanes]) if i in mapped else p.args[i]
                for i in range(len(p.args))]
        axes = tuple(0 if i in mapped else None for i in range(len(p.args)))
        # each example as vmap defines it: x[k] of the batch (a NumPy scalar,
        # immutable, where the program's input was a 0-d array)
        lanes = [[args[i][k] if i in mapped else args[i] for i in range(len(args))] for k in range(3)]
        try:
            want = [float(call_plain(mod, ln)) for ln in lanes]
        except Exception:
            return
        if not np.all(np.isfinite(want)):
            return
        vf = attempt(lambda: s2sad.vmap(mod.f, in_axes=axes))
        try:
            got = attempt(lambda: vf(*copy_args(args)))
        except Refused as r:
            self.record("vmap", "refusal", "", f"{type(r.err).__name__}: {normalize(r.err.message)}")
            return
        if np.shape(got) != (3,) or not np.allclose(got, want, rtol=SAME_RTOL, atol=1e-12 * max(1.0, *map(abs, want))):
            self.record("vmap", "fail", WRONG_VALUE, f"vmap(f) gives {np.asarray(got)!r}, f on each input {want!r}")
            return
        df = s2sad.grad(mod.f, wrt=p.wrt)
        per = [attempt(lambda: df(*copy_args(ln))) for ln in lanes]
        pg = attempt(lambda: s2sad.vmap(df, in_axes=axes))
        try:
            gots = attempt(lambda: pg(*copy_args(args)))
        except Refused as r:
            self.record("vmap", "refusal", "", f"{type(r.err).__name__}: {normalize(r.err.message)}")
            return
        refs = [np.stack([np.asarray(g if p.single else g[k], dtype=float) for g in per])
                for k in range(len(p.wrt_idx))]
        # the second call runs the planned variant (where it plans), the
        # third writes into out= arrays
        calls = [("", gots), (" (second call, planned)", attempt(lambda: pg(*copy_args(args))))]
        outs = [np.full(r.shape, np.nan) for r in refs]
        if all(np.shape(g) == r.shape and np.asarray(g).dtype == np.float64
               for g, r in zip([gots] if p.single else gots, refs)):
            calls.append((" (with out=)", attempt(lambda: pg(*copy_args(args), out=outs[0] if p.single
                                                               else tuple(outs)))))
        for how, res in calls:
            parts = [res] if p.single else list(res)
            for k, ref in enumerate(refs):
                got_k = np.asarray(parts[k], dtype=float)
                if got_k.shape != ref.shape or not np.allclose(got_k, ref, rtol=SAME_RTOL,
                                                               atol=1e-12 * max(1.0, float(np.max(np.abs(ref))))):
                    self.record("vmap", "fail", WRONG_GRAD,
                                f"vmap(grad(f)){how} for `{p.names[p.wrt_idx[k]]}` differs from the gradient of "
                                f"each input: {got_k!r} vs {ref!r}")
                    return
        if p.global_change:
            bad = self._vmap_after_global_change(mod, lanes, args, vf, df, pg)
            if bad:
                self.record("vmap", "fail", WRONG_VALUE if bad.startswith("vmap(f)") else WRONG_GRAD, bad)
                return
        self.record("vmap", "pass")

    def _vmap_after_global_change(self, mod, lanes, args, vf, df, pg):
        """The same batch after the program's global is rebound: the batched
        functions follow it, as ``f`` and ``grad(f)`` do.  A description of
        the first difference, or ''."""
        p = self.p
        name, new = p.global_change
        old = getattr(mod, name)
        setattr(mod, name, new)
        try:
            try:
                want = [float(call_plain(mod, ln)) for ln in lanes]
                per = [df(*copy_args(ln)) for ln in lanes]
            except Exception:
                return ""
            if not np.all(np.isfinite(want)):
                return ""
            got = attempt(lambda: vf(*copy_args(args)))
            if not np.allclose(got, want, rtol=SAME_RTOL, atol=1e-12 * max(1.0, *map(abs, want))):
                return f"vmap(f) after {name} = {new} gives {np.asarray(got)!r}, f on each input {want!r}"
            res = attempt(lambda: pg(*copy_args(args)))
            parts = [res] if p.single else list(res)
            for k in range(len(p.wrt_idx)):
                ref = np.stack([np.asarray(g if p.single else g[k], dtype=float) for g in per])
                got_k = np.asarray(parts[k], dtype=float)
                if got_k.shape != ref.shape or not np.allclose(got_k, ref, rtol=SAME_RTOL,
                                                               atol=1e-12 * max(1.0, float(np.max(np.abs(ref))))):
                    return (f"vmap(grad(f)) after {name} = {new} for `{p.names[p.wrt_idx[k]]}` differs from the "
                            f"gradient of each input: {got_k!r} vs {ref!r}")
            return ""
        except Refused:
            return ""
        finally:
            setattr(mod, name, old)

    def check_arrays(self, first_snap):
        """The program with its ``np`` bound to array-api-strict's namespace
        and its arrays converted, where its primal runs there (it uses only
        array API operations): value and gradient equal NumPy's to rounding,
        as array-api-strict arrays (issue #18)."""
        try:
            import array_api_strict as xps
        except ImportError:
            return
        p = self.p
        mod = load(p)
        mod.np = xps

        def conv(a):
            if isinstance(a, np.ndarray):
                return xps.asarray(a)
            return type(a)(conv(v) for v in a) if isinstance(a, (list, tuple)) else a
        try:
            mod.f(*conv(copy_args(p.args)))
        except Exception:
            return          # not array API code: nothing to compare
        vgs = attempt(lambda: s2sad.value_and_grad(mod.f, wrt=p.wrt))
        val, g = attempt(lambda: vgs(*conv(copy_args(p.args))))
        bad = same(first_snap, (float(val), g))
        if bad:
            self.record("arrays", "fail", WRONG_GRAD, f"on array-api-strict: {bad}")
            return
        strict = type(xps.asarray(1.0))
        for gi, i in zip(grad_list(p, g), p.wrt_idx):
            if isinstance(p.args[i], np.ndarray) and type(gi) is not strict:
                self.record("arrays", "fail", WRONG_TYPE, f"on array-api-strict: the gradient of "
                                                          f"`{p.names[i]}` is a {type(gi).__name__}")
                return
        self.record("arrays", "pass")

    def check_out(self, vg, args):
        p = self.p
        if any(not isinstance(args[i], np.ndarray) for i in p.wrt_idx):
            return
        outs = [np.full_like(args[i], np.nan) for i in p.wrt_idx]
        res = attempt(lambda: vg(*args, out=outs[0] if p.single else tuple(outs)))
        bad = same(self.g1, res[1]) or same(self.g1, outs[0] if p.single else tuple(outs))
        self.record("out", "fail" if bad else "pass", WRONG_GRAD if bad else "",
                    f"df(..., out=arrays): {bad}" if bad else "")

    def tangent(self, oracle, vec):
        parts = oracle.split(vec)
        return parts[0] if self.p.single else tuple(parts)

    def check_jvp(self, mod, oracle, g1):
        p = self.p
        d = oracle.direction(self.rng("jvp"))
        ad = float(oracle.flat(grad_list(p, g1)) @ d)
        j = attempt(lambda: s2sad.jvp(mod.f, wrt=p.wrt))
        res = attempt(lambda: j(*copy_args(p.args), self.tangent(oracle, d)))
        if not (isinstance(res, tuple) and len(res) == 2):
            self.record("jvp", "fail", WRONG_TYPE, f"jvp returned {type(res).__name__}, not (value, J.t)")
            return
        val, jt = res
        if not close(float(val), oracle.f0, SAME_RTOL, 1e-12 * max(1.0, abs(oracle.f0))):
            self.record("jvp", "fail", WRONG_VALUE, f"jvp's value {float(val)!r}, f gives {oracle.f0!r}")
            return
        if np.ndim(jt) != 0:
            self.record("jvp", "fail", WRONG_TYPE, f"J.t of a scalar function has shape {np.shape(jt)}")
            return
        jt = float(jt)
        est = oracle.directional(d)
        if est.ok:
            if not close(jt, est.value, GRAD_RTOL, 3 * est.err + 1e-9 * max(1.0, abs(oracle.f0))):
                self.record("jvp", "fail", WRONG_GRAD,
                            f"J.t = {jt:.10g}, finite differences {est.value:.10g}, <grad, t> = {ad:.10g}")
                return
            self.record("jvp", "pass")
        elif self.grad_ok and not close(jt, ad, 1e-8, 1e-12):
            self.record("jvp", "fail", WRONG_GRAD, f"J.t = {jt:.10g}, <grad, t> = {ad:.10g} (finite differences "
                                                   f"unstable; the gradient passed its check)")
        else:
            self.record("jvp", "inconclusive", "", est.note)

    def check_hvp(self, mod, oracle, vg, g1):
        p = self.p
        v = oracle.direction(self.rng("hvp"))
        h = attempt(lambda: s2sad.hvp(mod.f, wrt=p.wrt))
        hv = attempt(lambda: h(*copy_args(p.args), self.tangent(oracle, v)))
        if p.single:
            hv_parts = [hv]
        elif not isinstance(hv, (tuple, list)) or len(hv) != len(p.wrt_idx):
            self.record("hvp", "fail", WRONG_TYPE, f"hvp returned {type(hv).__name__}, not {len(p.wrt_idx)} parts")
            return
        else:
            hv_parts = list(hv)
        for i, part in zip(p.wrt_idx, hv_parts):
            if np.shape(part) != np.shape(p.args[i]):
                self.record("hvp", "fail", WRONG_TYPE, f"H.v part for `{p.names[i]}` has shape {np.shape(part)}")
                return
        hvf = oracle.flat(hv_parts)
        f_scale = 1e-7 * max(1.0, abs(oracle.f0))

        def judge(w, what):
            """Mixed second differences of f along (v, w): None if
            inconclusive, else (ok, message)."""
            est = oracle.second(v, w)
            if not est.ok:
                return None
            got = float(hvf @ w)
            ok = close(got, est.value, HVP_RTOL, 3 * est.err + f_scale)
            return ok, f"w.H.v along {what}: hvp gives {got:.10g}, second differences of f {est.value:.10g}"
        # differences of gradients (s2sad's, checked against the oracle above)
        G = []
        x0 = oracle.x0
        for eps in (1e-3, 5e-4, 2.5e-4):
            gp = attempt(lambda: vg(*copy_args(oracle.at(x0 + eps * v))))[1]
            gm = attempt(lambda: vg(*copy_args(oracle.at(x0 - eps * v))))[1]
            G.append((oracle.flat(grad_list(p, gp)) - oracle.flat(grad_list(p, gm))) / (2 * eps))
        r1, r2 = (4 * G[1] - G[0]) / 3, (4 * G[2] - G[1]) / 3
        scale = max(np.linalg.norm(r2), np.linalg.norm(hvf))
        stable = np.linalg.norm(r1 - r2) <= 1e-4 * scale + 1e-8
        if stable and self.grad_ok and \
                np.linalg.norm(hvf - r2) <= HVP_RTOL * scale + 3 * np.linalg.norm(r1 - r2) + f_scale:
            self.record("hvp", "pass")
            return
        # disagreement (or no trustworthy gradient): decide with f alone,
        # along the discrepancy and along v itself
        ws = []
        if stable and np.linalg.norm(hvf - r2) > 0:
            ws.append(((hvf - r2) / np.linalg.norm(hvf - r2), "the difference from the gradient differences"))
        ws.append((v, "v"))
        ws.append((oracle.direction(self.rng("hvp")), "a random w"))
        verdicts = [(j, what) for w, what in ws for j in [judge(w, what)] if j is not None]
        for (ok, msg), what in verdicts:
            if not ok:
                self.record("hvp", "fail", WRONG_GRAD, msg)
                return
        self.record("hvp", "pass" if verdicts else "inconclusive", "", "" if verdicts else "second differences unstable")

    def check_global(self, mod, vg):
        p = self.p
        if not p.global_change:
            return
        name, new = p.global_change
        old = getattr(mod, name)
        setattr(mod, name, new)
        try:
            res = attempt(lambda: vg(*copy_args(p.args)))
            oracle = Oracle(mod, p.args, p.wrt_idx)
            if not close(float(res[0]), oracle.f0, SAME_RTOL, 1e-12 * max(1.0, abs(oracle.f0))):
                self.record("global", "fail", WRONG_VALUE,
                            f"after {name} = {new}: value {float(res[0])!r}, f gives {oracle.f0!r}")
                return
            self.grad_vs_oracle("global", oracle, res[1], ndir=1)
        finally:
            setattr(mod, name, old)

    def check_shape(self, mod, vg):
        p = self.p
        if p.alt_args is None:
            return
        # three calls: a function's second signature is planned on its second
        # call (checked against the generic code there); the third runs the plan
        for _ in range(3):
            res = attempt(lambda: vg(*copy_args(p.alt_args)))
        err = struct_error(p, res[1], p.alt_args)
        if err:
            self.record("shape", "fail", WRONG_TYPE, "at new input shapes: " + err)
            return
        oracle = Oracle(mod, p.alt_args, p.wrt_idx)
        if not close(float(res[0]), oracle.f0, SAME_RTOL, 1e-12 * max(1.0, abs(oracle.f0))):
            self.record("shape", "fail", WRONG_VALUE, f"at new input shapes: value {float(res[0])!r}, "
                                                       f"f gives {oracle.f0!r}")
            return
        self.grad_vs_oracle("shape", oracle, res[1], ndir=1)

    def check_f32(self, mod, vg, oracle, g1):
        p = self.p
        if not any(isinstance(p.args[i], np.ndarray) for i in p.wrt_idx):
            return
        a32 = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in p.args]
        res = attempt(lambda: vg(*copy_args(a32)))
        err = struct_error(p, res[1], a32)
        if err:
            self.record("float32", "fail", WRONG_TYPE, "float32 inputs: " + err)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v32 = float(call_plain(mod, a32))
        fscale = max(1.0, abs(v32))
        if not close(float(res[0]), v32, 1e-4, 1e-5 * fscale):
            self.record("float32", "fail", WRONG_VALUE, f"float32 inputs: value {float(res[0])!r}, f gives {v32!r}")
            return
        if not close(v32, float(oracle.f0), 1e-3, 1e-3 * fscale):
            # plain Python itself computes another function in float32 (a
            # comparison or mask flipped): float64 differences cannot judge it
            self.record("float32", "inconclusive", "",
                        f"f in float32 is {v32:.7g}, in float64 {float(oracle.f0):.7g}: another branch")
            return
        g32 = oracle.flat(grad_list(p, res[1]))
        d = oracle.direction(self.rng("float32"))
        est = oracle.directional(d)
        if not est.ok:
            self.record("float32", "inconclusive", "", est.note)
            return
        ad = float(g32 @ d)
        tol = F32_RTOL * (abs(est.value) + np.linalg.norm(g32)) + 1e-4 * fscale + 3 * est.err
        if abs(ad - est.value) > tol:
            self.record("float32", "fail", WRONG_GRAD,
                        f"float32 inputs: directional derivative {ad:.7g}, finite differences (float64) {est.value:.7g}")
            return
        self.record("float32", "pass")


def run_checks(p, only=None, timeout=30.0, strict_plan=True):
    """All checks of program ``p`` (or those named in ``only``)."""
    t0 = time.perf_counter()
    runner = Runner(p, only)
    old_strict = s2sad.api.PLAN_STRICT
    s2sad.api.PLAN_STRICT = strict_plan
    refusal = None
    try:
        with alarm(timeout), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refusal = runner.run()
    except FuzzTimeout:
        runner.record("timeout", "fail", TIMEOUT, f"no answer within {timeout:g} s")
    finally:
        s2sad.api.PLAN_STRICT = old_strict
    res = Result("pass", runner.checks, seconds=time.perf_counter() - t0)
    fails = [c for c in runner.checks if c.status == "fail"]
    if fails:
        fails.sort(key=lambda c: FAILURES.index(c.kind))
        c = fails[0]
        res.outcome = c.kind
        res.signature = check_signature(c)
        res.detail = c.detail.split("\n#")[0]
    elif refusal and refusal[0] == "refusal":
        res.outcome = "refusal"
        res.category = refusal[1]
    elif any(c.name == "grad" and c.status == "inconclusive" for c in runner.checks):
        res.outcome = "inconclusive"
    return res


def describe(res):
    lines = [f"outcome: {res.outcome}" + (f" -- {res.signature}" if res.signature else "")
             + (f" -- {res.category}" if res.category else "")]
    for c in res.checks:
        lines.append(f"  {c.name:8s} {c.status:12s} {c.detail.split(chr(10) + '#')[0]}" if c.detail
                     else f"  {c.name:8s} {c.status}")
    return "\n".join(lines)


__all__ = ["run_checks", "describe", "Result", "Check", "normalize", "FAILURES", "ALL_CHECKS"]
