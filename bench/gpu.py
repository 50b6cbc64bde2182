"""s2sad on a GPU (CuPy), checked and timed in one prepared run (issue #18).

    python bench/gpu.py                      # on a machine with an NVIDIA GPU
    python bench/gpu.py --stand-in strict    # anywhere: array-api-strict plays the GPU
    python bench/gpu.py --stand-in strict --quick

What it does, in about 8 minutes on one accelerator:

1. Brings what it needs: CuPy (``cupy-cuda12x``, pip-installed when it does
   not import) and PyTorch for the comparison (skipped when neither imports
   nor installs).
2. Checks the gradients of W1 (MLP), W2 (neural ODE) and W3 (LSTM) of
   ``bench/workloads.py`` on the device against NumPy's on the host:
   float64 to 1e-10 and float32 to 1e-4 (relative to the largest entry).
   The workloads are the NumPy functions as users write them; on CuPy they
   run through NumPy's dispatch, and for the stand-in their ``np`` is bound
   to array-api-strict's namespace.
3. Times W1-large (batch 4096, 784-4096-4096-10) and W2 against PyTorch
   eager (``loss.backward()``) on the same device, in one run, medians of
   interleaved rounds, synchronised.
4. Writes the table to ``$OUT/gpu.md`` (``--out``; ``$OUT`` or the current
   directory by default) and prints it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import s2sad  # noqa: E402
import workloads as W  # noqa: E402


def _log(*a):
    print(*a, flush=True)


# --------------------------------------------------------------------------
# set-up


def _import_or_install(module, package, timeout=240):
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    _log(f"[setup] {module} does not import; pip install {package}")
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True, timeout=timeout)
        importlib.invalidate_caches()
        return importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - reported, the run goes on without it
        _log(f"[setup] could not install {package}: {type(e).__name__}: {e}")
        return None


class Device:
    """The array library standing for the GPU: to and from the host, a
    synchronisation, and the namespace the workloads run with."""

    def __init__(self, stand_in):
        self.stand_in = stand_in
        if stand_in == "strict":
            import array_api_strict as xps
            self.name = "array-api-strict (CPU stand-in)"
            self.xp = xps
            self.to = xps.asarray
            self.host = np.asarray
            self.sync = lambda: None
            self.namespace = xps
        else:
            cp = _import_or_install("cupy", "cupy-cuda12x")
            if cp is None:
                raise SystemExit("no CuPy: run with --stand-in strict on a machine without a GPU")
            self.name = f"CuPy {cp.__version__} on {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}"
            self.xp = cp
            self.to = cp.asarray
            self.host = cp.asnumpy
            self.sync = cp.cuda.Device().synchronize
            self.namespace = None       # NumPy-written code dispatches to CuPy itself

    def function(self, fn):
        """The workload as it runs on the device."""
        if self.namespace is None:
            return fn
        g = dict(fn.__globals__)
        g["np"] = self.namespace
        f = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
        f.__qualname__, f.__module__ = fn.__qualname__, fn.__module__
        return f

    def args(self, args):
        return tuple(self.to(a) if isinstance(a, np.ndarray) else a for a in args)


# --------------------------------------------------------------------------
# checks


def _inputs(name, dtype, quick):
    args = list(W.make_inputs(name, dtype=dtype))
    if quick and name == "node":
        args[4] = 20
    if quick and name == "lstm":
        args[3] = args[3][:5]
    return tuple(args)


def lstm_loss_api(Wx, Wh, b, X):
    """W3 for the array API stand-in: ``X[t, ...]`` where W3 reads
    ``X[t]`` (the array API specifies no implicit trailing axes)."""
    T, B, D = X.shape
    H = Wh.shape[0]
    h = np.zeros((B, H), dtype=X.dtype)
    c = np.zeros((B, H), dtype=X.dtype)
    for t in range(T):
        z = X[t, ...] @ Wx + h @ Wh + b
        i = W.sigmoid(z[:, :H])
        f = W.sigmoid(z[:, H:2 * H])
        g = np.tanh(z[:, 2 * H:3 * H])
        o = W.sigmoid(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.mean(h * h)


def check(dev, quick):
    rows = []
    lstm = W.lstm_loss if dev.namespace is None else lstm_loss_api
    for name, fn in (("W1 MLP", W.mlp_loss), ("W2 neural ODE", W.node_loss), ("W3 LSTM", lstm)):
        key = {"W1 MLP": "mlp", "W2 neural ODE": "node", "W3 LSTM": "lstm"}[name]
        wrt = tuple(range(W.WRT[key]))
        for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
            args = _inputs(key, dtype, quick)
            ref = s2sad.grad(fn, wrt=wrt)(*args)
            t0 = time.perf_counter()
            got = s2sad.grad(dev.function(fn), wrt=wrt)(*dev.args(args))
            dev.sync()
            secs = time.perf_counter() - t0
            err = 0.0
            same_type = True
            expected = type(dev.to(np.zeros(1)))
            for g, r in zip(got, ref):
                same_type &= type(g) is expected
                gh = np.asarray(dev.host(g), dtype=np.float64)
                err = max(err, float(np.max(np.abs(gh - r)) / max(np.max(np.abs(r)), 1e-300)))
                same_type &= str(getattr(g, "dtype", "")).endswith(np.dtype(dtype).name)
            ok = err <= tol and same_type
            rows.append((name, np.dtype(dtype).name, f"{err:.1e}", f"{tol:.0e}", "OK" if ok else "FAILED",
                         f"{secs:.2f} s"))
            _log(f"[check] {name} {np.dtype(dtype).name}: relative error {err:.1e} (tolerance {tol:.0e}) "
                 f"{'OK' if ok else 'FAILED'}")
    return rows


# --------------------------------------------------------------------------
# timing


def _torch_functions(torch):
    def mlp(W1, b1, W2, b2, W3, b3, X, y):
        h1 = torch.tanh(X @ W1 + b1)
        h2 = torch.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        m = torch.amax(z, dim=1, keepdim=True)
        lse = torch.log(torch.sum(torch.exp(z - m), dim=1)) + m[:, 0]
        return torch.mean(lse - z[torch.arange(z.shape[0], device=z.device), y])

    def node(Wm, b, y0, h, n):
        y = y0
        for _ in range(n):
            k1 = torch.tanh(Wm @ y + b)
            k2 = torch.tanh(Wm @ (y + 0.5 * h * k1) + b)
            k3 = torch.tanh(Wm @ (y + 0.5 * h * k2) + b)
            k4 = torch.tanh(Wm @ (y + h * k3) + b)
            y = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return torch.sum(y * y)

    return {"mlp": mlp, "node": node}


def _large_mlp_inputs(quick, dtype):
    rng = np.random.default_rng(1)
    batch, sizes = (256, (784, 256, 256, 10)) if quick else (4096, (784, 4096, 4096, 10))
    args = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        args.append((rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype))
        args.append((0.1 * rng.standard_normal(b)).astype(dtype))
    return tuple(args) + (rng.standard_normal((batch, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], batch))


def _median_time(run, sync, reps):
    run()
    sync()                      # warm: compile, plan, caches
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def timing(dev, torch, quick):
    rows = []
    th = _torch_functions(torch) if torch is not None else None
    tdev = None
    if torch is not None:
        tdev = "cuda" if dev.stand_in is None and torch.cuda.is_available() else "cpu"
    cases = [("W1-large MLP" + (" (quick sizes)" if quick else " (batch 4096, 784-4096-4096-10)"), "mlp",
              W.mlp_loss, _large_mlp_inputs(quick, np.float32)),
             ("W2 neural ODE", "node", W.node_loss, _inputs("node", np.float64, quick))]
    reps = 3 if quick else 7
    for label, key, fn, args in cases:
        wrt = tuple(range(W.WRT[key]))
        dargs = dev.args(args)
        df = s2sad.grad(dev.function(fn), wrt=wrt)
        t_s2 = _median_time(lambda: df(*dargs), dev.sync, reps)
        line = [label, str(args[0].dtype), f"{t_s2 * 1e3:.2f} ms"]
        if th is not None:
            def leaf(a):
                if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                    return torch.tensor(a, device=tdev, requires_grad=True)
                return torch.tensor(a, device=tdev) if isinstance(a, np.ndarray) else a
            targs = [leaf(a) for a in args]
            tsync = torch.cuda.synchronize if tdev == "cuda" else (lambda: None)

            def run_torch():
                for a in targs[:len(wrt)]:
                    a.grad = None
                th[key](*targs).backward()
            t_th = _median_time(run_torch, tsync, reps)
            line += [f"{t_th * 1e3:.2f} ms ({tdev})", f"{t_s2 / t_th:.2f}x"]
        else:
            line += ["-", "-"]
        rows.append(tuple(line))
        _log(f"[time] {label}: s2sad {line[2]}, PyTorch eager {line[3]}")
    return rows


# --------------------------------------------------------------------------
# report


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stand-in", choices=["strict"], default=None,
                    help="run on array-api-strict instead of CuPy (no GPU needed)")
    ap.add_argument("--quick", action="store_true", help="small sizes (the test suite's run)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--out", default=os.environ.get("OUT", "."), help="folder for gpu.md")
    a = ap.parse_args(argv)
    dev = Device(a.stand_in)
    torch = None
    if not a.no_torch:
        torch = _import_or_install("torch", "torch") if a.stand_in is None else _optional("torch")
    _log(f"[setup] device: {dev.name}; PyTorch: {getattr(torch, '__version__', 'not used')}")
    checks = check(dev, a.quick)
    times = timing(dev, torch, a.quick)
    text = (f"Device: {dev.name}; s2sad {getattr(s2sad, '__version__', '')}; "
            f"PyTorch {getattr(torch, '__version__', '-')}\n\n"
            + table(("workload", "dtype", "max relative error", "tolerance", "check", "first call"), checks)
            + "\n\n"
            + table(("workload", "dtype", "s2sad gradient", "PyTorch eager backward", "s2sad / PyTorch"), times)
            + "\n")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "gpu.md"), "w") as f:
        f.write(text)
    _log(text)
    return 0 if all(r[4] == "OK" for r in checks) else 1


def _optional(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


if __name__ == "__main__":
    sys.exit(main())
