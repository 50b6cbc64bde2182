"""Loops at compiled speed (issue 15): s2sad's Numba backend against the
primal, s2sad's Python backend, a hand-written Numba adjoint, JAX jit of the
``lax`` rewrite and PyTorch eager, side by side in one process (1 thread,
float64; medians of interleaved rounds -- this machine is noisy, read the
ratios).  Compile times are reported apart, first compile and a second
process served by the disk cache.

    python bench/compiled.py [--quick] [--no-write]

Workloads: the scalar ``while`` + ``if`` loop (W4, 10,000 iterations), the
neural ODE (y in R^64, 1,000 RK4 steps), the element-loop heat stencil (128
points, 200 steps), a damped particle system in a ``while`` loop (64
particles, 2,000 steps), the stencil with its time loop checkpointed (step
and one-step adjoint compiled, the schedule in Python) and the LSTM (W3).
The table goes into docs/performance.md between the ``compiled`` markers.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import s2sad  # noqa: E402
import workloads as W  # noqa: E402
from stencil import heat  # noqa: E402

# --------------------------------------------------------------------------
# the workload workloads.py and stencil.py do not have


def particles(x0, v0, dt, tmax):
    x = x0.copy()
    v = v0.copy()
    t = 0.0
    while t < tmax:
        a = -x - 0.1 * v * np.abs(v)
        v = v + dt * a
        x = x + dt * v
        t = t + dt
    return np.sum(x * x) + 0.5 * np.sum(v * v)


def heat_checkpointed(u0, k, steps):
    """The heat stencil with its time loop checkpointed (10 snapshots)."""
    u = u0.copy()
    n = u.shape[0]
    for t in s2sad.checkpointed(range(steps), snapshots=10):
        for j in range(1, n - 1):
            u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
    return np.sum(u * u)


HEAT = (np.random.default_rng(0).standard_normal(128), 0.1, 200)
PART = (np.random.default_rng(1).standard_normal(64), np.random.default_rng(2).standard_normal(64), 0.001, 2.0)

# --------------------------------------------------------------------------
# hand-written Numba adjoints (what a person writes with Numba)


def _hand_numba():
    from numba import njit

    @njit(cache=True)
    def scalar_hand(a, n):
        xs = np.empty(n)
        x = 0.5
        for i in range(n):
            xs[i] = x
            x = x * math.sin(x) + a if x > 0 else x * x - a
        xb, ab = 1.0, 0.0
        for i in range(n - 1, -1, -1):
            x = xs[i]
            if x > 0:
                ab += xb
                xb = xb * (math.sin(x) + x * math.cos(x))
            else:
                ab -= xb
                xb = xb * 2.0 * x
        return ab

    @njit(cache=True)
    def heat_hand(u0, k, steps):
        u = u0.copy()
        n = u.shape[0]
        saved = np.empty((steps, n))
        for t in range(steps):
            for j in range(1, n - 1):
                saved[t, j] = u[j]
                u[j] = u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1])
        ub = 2.0 * u
        kb = 0.0
        for t in range(steps - 1, -1, -1):
            for j in range(n - 2, 0, -1):
                g = ub[j]
                # u[j + 1] is restored already, u[j - 1] not yet: the values the update read
                kb += g * (u[j + 1] - 2.0 * saved[t, j] + u[j - 1])
                ub[j] = g * (1.0 - 2.0 * k)
                ub[j + 1] += g * k
                ub[j - 1] += g * k
                u[j] = saved[t, j]
        return ub, kb

    @njit(cache=True)
    def _outer_add(A, g, u):
        for r in range(g.shape[0]):
            for q in range(u.shape[0]):
                A[r, q] += g[r] * u[q]

    @njit(cache=True)
    def node_hand(W, b, y0, h, n):
        m = y0.shape[0]
        U = np.empty((n, 4, m))         # the inputs of the four right-hand sides
        K = np.empty((n, 4, m))         # their outputs
        y = y0.copy()
        for i in range(n):
            for s, (a, prev) in enumerate(((0.0, 0), (0.5 * h, 0), (0.5 * h, 1), (h, 2))):
                U[i, s] = y + a * K[i, prev] if s > 0 else y
                K[i, s] = np.tanh(W @ U[i, s] + b)
            y = y + (h / 6.0) * (K[i, 0] + 2.0 * K[i, 1] + 2.0 * K[i, 2] + K[i, 3])
        yb = 2.0 * y
        Wb = np.zeros((m, m))
        bb = np.zeros(m)
        for i in range(n - 1, -1, -1):
            kb = [(h / 6.0) * yb, (h / 3.0) * yb, (h / 3.0) * yb, (h / 6.0) * yb]
            ynb = yb.copy()
            for s, (a, prev) in ((3, (h, 2)), (2, (0.5 * h, 1)), (1, (0.5 * h, 0)), (0, (0.0, 0))):
                zb = kb[s] * (1.0 - K[i, s] * K[i, s])
                bb += zb
                _outer_add(Wb, zb, U[i, s])
                ub = W.T @ zb
                ynb += ub
                if s > 0:
                    kb[prev] = kb[prev] + a * ub
            yb = ynb
        return Wb, bb, yb

    @njit(cache=True)
    def particles_hand(x0, v0, dt, tmax):
        m = x0.shape[0]
        X = np.empty((16, m))
        V = np.empty((16, m))
        x, v, t, n = x0.copy(), v0.copy(), 0.0, 0
        while t < tmax:
            if n == X.shape[0]:
                X = np.concatenate((X, np.empty_like(X)))
                V = np.concatenate((V, np.empty_like(V)))
            X[n], V[n] = x, v
            a = -x - 0.1 * v * np.abs(v)
            v = v + dt * a
            x = x + dt * v
            t = t + dt
            n += 1
        xb, vb = 2.0 * x, v.copy()
        for i in range(n - 1, -1, -1):
            vnb = vb + dt * xb          # the new v reaches the loss directly and through the new x
            ab = dt * vnb
            xb = xb - ab
            vb = vnb - 0.2 * ab * np.abs(V[i])
        return xb, vb
    return {"scalar": scalar_hand, "heat": heat_hand, "node": node_hand, "particles": particles_hand}


# --------------------------------------------------------------------------
# JAX and PyTorch versions of the two new workloads


def _jax_extra():
    import jax
    import jax.numpy as jnp
    from jax import lax

    def jheat(u0, k):
        n = u0.shape[0]

        def cell(j, u):
            return u.at[j].set(u[j] + k * (u[j + 1] - 2.0 * u[j] + u[j - 1]))

        def step(t, u):
            return lax.fori_loop(1, n - 1, cell, u)
        u = lax.fori_loop(0, HEAT[2], step, u0)
        return jnp.sum(u * u)

    def jpart(x0, v0):
        dt, steps = PART[2], int(round(PART[3] / PART[2]))

        def step(i, xv):
            x, v = xv
            a = -x - 0.1 * v * jnp.abs(v)
            v = v + dt * a
            return x + dt * v, v
        x, v = lax.fori_loop(0, steps, step, (x0, v0))
        return jnp.sum(x * x) + 0.5 * jnp.sum(v * v)
    gh = jax.jit(jax.grad(jheat, (0, 1)))
    gp = jax.jit(jax.grad(jpart, (0, 1)))
    return {"heat": lambda u0, k, s: gh(jnp.asarray(u0), jnp.asarray(k)),
            "particles": lambda x0, v0, dt, tm: gp(jnp.asarray(x0), jnp.asarray(v0))}


def _torch_extra():
    import torch

    def theat(u0, k, steps):
        u0 = torch.from_numpy(u0).requires_grad_(True)
        kt = torch.tensor(k, dtype=torch.float64, requires_grad=True)
        u = [u0[j] for j in range(u0.shape[0])]
        n = len(u)
        for t in range(steps):
            for j in range(1, n - 1):
                u[j] = u[j] + kt * (u[j + 1] - 2.0 * u[j] + u[j - 1])
        loss = sum(x * x for x in u)
        return torch.autograd.grad(loss, (u0, kt))

    def tpart(x0, v0, dt, tmax):
        x0 = torch.from_numpy(x0).requires_grad_(True)
        v0 = torch.from_numpy(v0).requires_grad_(True)
        x, v, t = x0, v0, 0.0
        while t < tmax:
            a = -x - 0.1 * v * torch.abs(v)
            v = v + dt * a
            x = x + dt * v
            t = t + dt
        return torch.autograd.grad(torch.sum(x * x) + 0.5 * torch.sum(v * v), (x0, v0))
    return {"heat": theat, "particles": tpart}


# --------------------------------------------------------------------------


def workloads():
    """name -> (label, primal function, arguments, wrt)"""
    return {
        "scalar": ("scalar while + if, 10,000 iterations", W.scalar_loop, W.make_inputs("scalar"), 0),
        "node": ("neural ODE, y in R^64, 1,000 RK4 steps", W.node_loss, W.make_inputs("node"), (0, 1, 2)),
        "heat": ("heat stencil element loop, 128 points, 200 steps", heat, HEAT, (0, 1)),
        "heat_ck": ("heat stencil, checkpointed time loop (10 snapshots)", heat_checkpointed, HEAT, (0, 1)),
        "particles": ("particles, while loop, 64 x 2,000 steps", particles, PART, (0, 1)),
        "lstm": ("LSTM (W3), T=100, B=32, H=128", W.lstm_loss, W.make_inputs("lstm"), (0, 1, 2)),
    }


def _process_env():
    """The environment of a timed second process: this one's, with Python's
    bytecode cache on, as in a user's install (a sandbox may turn it off,
    and then every module of s2sad is compiled from source again)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time_process(prog):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(textwrap.dedent(prog))
    try:
        return subprocess.run([sys.executable, fh.name], capture_output=True, text=True, check=True,
                              env=_process_env()).stdout.split()
    finally:
        os.unlink(fh.name)


def _cached_process_seconds(name):
    """Seconds a fresh process takes from start to its first compiled
    gradient, served by the disk cache the first compile wrote; whether
    the cache served it; the seconds of a steady call (the part of the
    first that is the gradient's own work)."""
    out = _time_process(f"""
        import sys, time
        t0 = time.perf_counter()
        for m in ("jax", "torch", "autograd"):
            sys.modules[m] = None          # the bench's optional libraries: not what is timed
        sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
        import numpy as np, s2sad, compiled as C
        label, f, args, wrt = C.workloads()[{name!r}]
        df = s2sad.grad(f, wrt=wrt, backend="numba")
        df(*args)
        total = time.perf_counter() - t0
        steady = []
        for _ in range(3):
            t = time.perf_counter()
            df(*args)
            steady.append(time.perf_counter() - t)
        print(total, df.backend_info["cached"], min(steady))
    """)
    return float(out[0]), out[1] == "True", float(out[2])


def _numba_floor_seconds():
    """Numba's own floor for a cached second process: a fresh process
    importing NumPy and a module of one trivial ``@njit(cache=True)``
    function, to the first call's result (the second such process: the
    first fills the cache)."""
    d = tempfile.mkdtemp(prefix="s2sad-bench-floor-")
    with open(os.path.join(d, "floor_mod.py"), "w") as fh:
        fh.write("import numba\n\n@numba.njit(cache=True)\ndef total(x):\n    s = 0.0\n"
                 "    for i in range(x.shape[0]):\n        s += x[i]\n    return s\n")
    prog = f"""
        import sys, time
        t0 = time.perf_counter()
        sys.path.insert(0, {d!r})
        import numpy as np, floor_mod
        floor_mod.total(np.ones(3))
        print(time.perf_counter() - t0)
    """
    _time_process(prog)
    return min(float(_time_process(prog)[0]) for _ in range(3))


def _numba_startup_seconds():
    """Numba's one-time start-up in this process (its typing and lowering
    registries, SciPy's BLAS for ``np.dot``), paid by the first compile of
    any function: measured here so that no workload's compile time holds
    it."""
    import numba
    t0 = time.perf_counter()
    numba.njit(lambda x: x + 1.0)(1.0)
    return time.perf_counter() - t0


def _same(a, b):
    la = [np.asarray(x, dtype=float) for x in (a if isinstance(a, (tuple, list)) else (a,))]
    lb = [np.asarray(x, dtype=float) for x in (b if isinstance(b, (tuple, list)) else (b,))]
    return max(float(np.max(np.abs(x - y)) / max(1.0, float(np.max(np.abs(y))))) for x, y in zip(la, lb))


def run(names, rounds):
    # a cache of our own: the first compile is a real one, the second
    # process (which inherits the variable) is served by what it wrote
    os.environ["S2SAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="s2sad-bench-")
    hand = {}
    try:
        hand = _hand_numba()
    except ImportError:
        pass
    jx, th = {}, {}
    if W.AVAILABLE.get("jax") or "jax" in sys.modules or _has("jax"):
        jx = _jax_extra()
    if _has("torch"):
        th = _torch_extra()
    startup = _numba_startup_seconds()
    rows = []
    for name in names:
        label, f, args, wrt = workloads()[name]
        py = s2sad.grad(f, wrt=wrt)
        t0 = time.perf_counter()
        nb = s2sad.grad(f, wrt=wrt, backend="numba")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = py(*args)
            got = nb(*args)
        first = time.perf_counter() - t0
        err = _same(got, want)
        assert err < 1e-9, f"{name}: numba backend disagrees with the Python backend ({err:.1e})"
        methods = [("primal (Python/NumPy)", lambda: f(*args)), ("s2sad, Python backend", lambda: py(*args)),
                   ("s2sad, Numba backend", lambda: nb(*args))]
        if name in hand:
            h = hand[name]
            err = _same(h(*args), want)
            assert err < 1e-9, f"{name}: the hand-written adjoint disagrees with s2sad ({err:.1e})"
            methods.append(("hand-written Numba adjoint", lambda h=h: h(*args)))
        if name in ("scalar", "node", "lstm") and _has("jax"):
            g = W.jax_grad(name, jit=True)
            ja = W.jax_inputs(name, args)
            g(*ja)
            methods.append(("JAX jit (lax rewrite)", lambda g=g, ja=ja: _block(g(*ja))))
        elif name in jx:
            g = jx[name]
            _block(g(*args))
            methods.append(("JAX jit (lax rewrite)", lambda g=g: _block(g(*args))))
        if name in ("scalar", "node", "lstm") and _has("torch"):
            g = W.torch_grad(name)
            methods.append(("PyTorch eager", lambda g=g: g(*W.torch_inputs(name, args))))
        elif name in th:
            g = th[name]
            methods.append(("PyTorch eager", lambda g=g: g(*args)))
        times = {m: [] for m, _ in methods}
        for r in range(rounds):
            order = methods[r % len(methods):] + methods[:r % len(methods)]
            for m, fn in order:
                t = time.perf_counter()
                fn()
                times[m].append(time.perf_counter() - t)
        info = nb.backend_info
        cached, hit, steady = _cached_process_seconds(name)
        rows.append((name, label, {m: statistics.median(v) for m, v in times.items()}, first,
                     info["compile_seconds"], (cached, steady), hit,
                     f"{info['backend']} (LLVM -O{info['llvm_opt']})" if info.get("llvm_opt") else info["backend"]))
        print(f"  {name}: done", file=sys.stderr)
    return rows, startup, _numba_floor_seconds()


def _block(x):
    for v in (x if isinstance(x, (tuple, list)) else (x,)):
        getattr(v, "block_until_ready", lambda: None)()
    return x


def _has(mod):
    import importlib.util
    return importlib.util.find_spec(mod) is not None


def table(rows, startup, floor):
    out = ["| workload | method | time | / primal | / JAX jit |", "| --- | --- | ---: | ---: | ---: |"]
    for name, label, t, first, comp, cached, hit, backend in rows:
        base = t["primal (Python/NumPy)"]
        jax = t.get("JAX jit (lax rewrite)")
        for m, v in t.items():
            rj = f"{v / jax:.2f}x" if jax else "-"
            out.append(f"| {label} | {m} | {_fmt(v)} | {v / base:.2f}x | {rj} |")
    out.append("")
    out.append("| workload | backend | first call incl. compile | Numba compile | second process (disk cache) "
               "| of which loading (less one steady call) |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, label, t, first, comp, (cached, steady), hit, backend in rows:
        out.append(f"| {label} | {backend} | {first:.2f} s | {comp:.2f} s | {cached:.2f} s"
                   f"{'' if hit else ' (not from cache)'} | {cached - steady:.2f} s |")
    out.append(f"| Numba alone: one trivial cached function | - | - | {startup:.2f} s (start-up, once per process) "
               f"| {floor:.2f} s | {floor:.2f} s |")
    return "\n".join(out)


def _fmt(s):
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=None)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    names = a.only.split(",") if a.only else list(workloads())
    text = table(*run(names, 3 if a.quick else 7))
    print(text)
    if not a.no_write and not a.only:
        path = os.path.join(os.path.dirname(__file__), "..", "docs", "performance.md")
        doc = open(path).read()
        start, end = "<!-- compiled:start -->", "<!-- compiled:end -->"
        if start in doc and end in doc:
            doc = doc[:doc.index(start) + len(start)] + "\n" + text + "\n" + doc[doc.index(end):]
            with open(path, "w") as fh:
                fh.write(doc)


if __name__ == "__main__":
    main()
