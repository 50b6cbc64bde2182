"""Shared test helpers: central finite differences and gradient checks."""

from __future__ import annotations

import os
import warnings

import numpy as np

import s2sad

# S2SAD_CHECK_BACKENDS=numba: every check_grads also runs the Numba backend
# and asserts it equals the Python backend's gradient to 1e-9 (where the
# backend applies: a signature it leaves on the Python code is logged to
# $S2SAD_BACKEND_LOG, if set, with the reason).  .ci/run does this.
CHECK_BACKENDS = [b for b in os.environ.get("S2SAD_CHECK_BACKENDS", "").split(",") if b]


def numeric_grad(f, args, k, eps=1e-6):
    """Central finite-difference gradient of scalar ``f(*args)`` in argument
    ``k`` (float64).  Python floats are perturbed as floats."""
    x = args[k]
    scalar = isinstance(x, (float, int))
    xa = np.array(x, dtype=float)
    g = np.zeros_like(xa)
    for i in np.ndindex(xa.shape):
        for sign in (1, -1):
            xp = xa.copy()
            xp[i] += sign * eps
            a = list(args)
            a[k] = float(xp) if scalar else xp
            v = float(np.sum(f(*a)))
            g[i] += sign * v
    g /= 2 * eps
    return float(g) if scalar else g


def assert_same(a, b, what):
    """``a`` and ``b`` hold the same gradients (to rounding)."""
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), what
        for x, y in zip(a, b):
            assert_same(x, y, what)
        return
    if isinstance(a, dict):
        assert set(a) == set(b), what
        for k in a:
            assert_same(a[k], b[k], what)
        return
    a = np.asarray(a, dtype=complex if np.iscomplexobj(a) else float)
    b = np.asarray(b, dtype=complex if np.iscomplexobj(a) else float)
    # the planned code may sum in another order: rounding relative to the scale
    scale = float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) if a.size else 0.0
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10 * scale + 1e-300, err_msg=what)


def check_grads(f, args, wrt=0, rtol=1e-6, atol=1e-7, eps=1e-6, tangents=True):
    """Assert that s2sad's gradient of ``f`` matches central differences,
    and (``tangents=True``) that forward mode agrees with it: for a random
    direction v, ``jvp`` gives <grad f, v> to 1e-9."""
    single = not isinstance(wrt, (tuple, list))
    df = s2sad.grad(f, wrt=wrt)
    got = df(*args)
    # later calls of the same signature run the planned variant: they must
    # agree with the first, and a result must survive the next call
    second = df(*args)
    third = df(*args)
    assert_same(got, second, f"planned gradient of {f.__name__}")
    assert_same(got, third, f"planned gradient of {f.__name__} (steady state)")
    assert_same(got, second, f"planned gradient of {f.__name__} after another call")
    ws = [wrt] if single else list(wrt)
    gots = [got] if single else list(got)
    assert len(gots) == len(ws)
    for w, gv in zip(ws, gots):
        want = numeric_grad(f, args, w, eps)
        assert np.shape(gv) == np.shape(want), (np.shape(gv), np.shape(want))
        np.testing.assert_allclose(gv, want, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {f.__name__} in argument {w}")
    if tangents:
        check_tangents(f, args, ws, gots)
    if os.environ.get("S2SAD_CHECK_HVP"):
        check_hvp(f, args, wrt, ws, eps)
    for backend in CHECK_BACKENDS:
        check_backend(f, args, wrt, got, backend)
    return got


def check_hvp(f, args, wrt, ws, eps=1e-5):
    """``hvp`` in a random direction equals the central difference of the
    gradient along it (where the gradient is smooth there: two step sizes
    agree), or raises an s2sad error located in the user's file (a second
    derivative s2sad does not have yet, never one pointing at generated
    code).  On with $S2SAD_CHECK_HVP (CI's second-order pass); a value
    other than 1 names a file the outcomes are logged to."""
    rng = np.random.default_rng(7)
    vs = [rng.standard_normal(np.shape(args[w])) if np.shape(args[w]) else float(rng.standard_normal())
          for w in ws]
    single = not isinstance(wrt, (tuple, list))
    status = "ok"
    try:
        hv = s2sad.hvp(f, wrt=wrt)(*args, vs[0] if single else tuple(vs))
    except s2sad.errors.S2SadError as e:
        assert e.filename is not None and not e.filename.startswith("<"), \
            f"hvp of {f.__name__}: the error does not name the user's line:\n{e}"
        status = "refused " + str(e).splitlines()[0][:160]
        hv = None
    if hv is not None:
        def grad_at(step):
            a = list(args)
            for w, v in zip(ws, vs):
                moved = args[w] + step * np.asarray(v)
                a[w] = np.array(moved, dtype=float) if isinstance(args[w], np.ndarray) else type(args[w])(moved)
            g = s2sad.grad(f, wrt=wrt)(*a)
            return [np.asarray(x, dtype=float) for x in ([g] if single else list(g))]

        def central(h):
            return [(p - m) / (2 * h) for p, m in zip(grad_at(h), grad_at(-h))]
        fd, fd2 = central(eps), central(eps / 2)
        hvs = [hv] if single else list(hv)
        for h, d1, d2 in zip(hvs, fd, fd2):
            scale = max(1.0, float(np.max(np.abs(d1))) if np.size(d1) else 1.0)
            if not np.allclose(d1, d2, rtol=1e-3, atol=1e-4 * scale):
                status = "not smooth here"         # a kink or tie: differences of the gradient say nothing
                break
            assert np.shape(h) == np.shape(d1), (f.__name__, np.shape(h), np.shape(d1))
            np.testing.assert_allclose(h, d1, rtol=1e-4, atol=1e-5 * scale,
                                       err_msg=f"hvp of {f.__name__} against differences of its gradient")
    log = os.environ.get("S2SAD_CHECK_HVP")
    if log and log != "1":
        with open(log, "a") as fh:
            fh.write(f"{status}\t{getattr(f, '__module__', '')}.{f.__name__}\n")


def check_backend(f, args, wrt, want, backend):
    """The gradient on another backend equals ``want`` to 1e-9 (relative
    to its scale), unless that backend leaves the signature on Python."""
    from s2sad.backends.numba_backend import BackendFallbackWarning
    df = s2sad.grad(f, wrt=wrt, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BackendFallbackWarning)
        got = df(*args)
        again = df(*args)
    info = df.backend_info
    log = os.environ.get("S2SAD_BACKEND_LOG")
    if log:
        reason = (info["fallback"] or "").splitlines()[0] if info["fallback"] else ""
        with open(log, "a") as fh:
            fh.write(f"{info['backend']}\t{getattr(f, '__module__', '')}.{f.__name__}\t{reason}\n")
    for a, b in zip(_leaves(want), _leaves(got)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        assert a.shape == b.shape, f"{backend} gradient of {f.__name__}: shape {b.shape} against {a.shape}"
        scale = float(np.max(np.abs(a[np.isfinite(a)]), initial=1.0)) if a.size else 1.0
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * scale,
                                   err_msg=f"{backend} gradient of {f.__name__} against the Python backend's")
    for a, b in zip(_leaves(got), _leaves(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"{backend}: a second call differs")


def _leaves(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v)
    elif isinstance(x, dict):
        for k in sorted(x):
            yield from _leaves(x[k])
    else:
        yield x


def check_tangents(f, args, ws, grads):
    """Forward mode against reverse mode: J v = <grad f, v>."""
    rng = np.random.default_rng(99)
    for w, g in zip(ws, grads):
        x = args[w]
        if isinstance(x, (list, tuple, dict)):
            continue
        dt = np.asarray(x).dtype
        v = float(rng.normal()) if isinstance(x, float) else rng.normal(size=np.shape(x)).astype(dt)
        jv = s2sad.jvp(f, wrt=w)(*args, v)[1]
        want = float(np.sum(np.asarray(g, dtype=float) * np.asarray(v, dtype=float)))
        tol = 1e-4 if dt == np.float32 else 1e-9
        got = float(np.sum(jv))
        assert abs(got - want) <= tol * max(1.0, abs(want)), \
            f"forward mode of {f.__name__} in argument {w}: J v = {got}, <grad, v> = {want}"
