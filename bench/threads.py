"""Thread settings shared by the benchmarks.  They must be in the environment
before NumPy, PyTorch or JAX load, so import this module (it imports neither)
and call ``pin_threads`` first."""

from __future__ import annotations

import os

_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
         "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(threads) -> str:
    """Run every BLAS / OpenMP / XLA pool on ``threads`` threads; returns the
    count as a string."""
    n = str(threads)
    for v in _VARS:
        os.environ[v] = n
    if n == "1":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return n
