"""bench/gpu.py, the prepared GPU check (issue #18), runs end to end with
array-api-strict standing in for the GPU; CuPy itself is checked where a
GPU is (skipped cleanly elsewhere)."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import s2sad

pytest.importorskip("array_api_strict")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gpu_script():
    spec = importlib.util.spec_from_file_location("bench_gpu", os.path.join(ROOT, "bench", "gpu.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_gpu_script_with_the_stand_in(tmp_path):
    rc = _gpu_script().main(["--stand-in", "strict", "--quick", "--no-torch", "--out", str(tmp_path)])
    text = (tmp_path / "gpu.md").read_text()
    assert rc == 0, text
    checks = [line for line in text.splitlines() if line.startswith("| W") and ("OK" in line or "FAILED" in line)]
    assert len(checks) == 6 and all("| OK |" in line for line in checks), text
    assert "W1-large MLP" in text and "W2 neural ODE" in text


def _cupy():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("CuPy without a GPU")
    except Exception as e:  # noqa: BLE001 - CUDA missing or broken: no GPU here
        pytest.skip(f"CuPy without a usable GPU ({type(e).__name__})")
    return cp


def test_cupy_gradient_equals_numpy():
    cp = _cupy()

    def f(W, X):
        return np.sum(np.tanh(X @ W) ** 2) + np.mean(np.maximum(X @ W, 0.0))

    r = np.random.default_rng(0)
    W, X = r.normal(size=(5, 3)), r.normal(size=(7, 5))
    ref = s2sad.grad(f)(W, X)
    got = s2sad.grad(f)(cp.asarray(W), cp.asarray(X))
    assert isinstance(got, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(got), ref, rtol=1e-10, atol=1e-12)
