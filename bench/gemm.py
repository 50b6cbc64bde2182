#!/usr/bin/env python
"""One matrix product, NumPy (its BLAS) against PyTorch, single thread.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/gemm.py

The products of W1's gradient (batch 128, 784-512-512-10): the forward
``X @ W1``, the weight gradient ``X.T @ g`` and ``g @ W2.T``.  Any NumPy code
-- the hand-written adjoint and s2sad's alike -- runs these through NumPy's
BLAS; PyTorch eager runs its own.  Prints the time of each and the ratio.
"""

from __future__ import annotations

import timeit

import numpy as np


def main():
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed")
        return
    torch.set_num_threads(1)
    r = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        for m, k, n in ((128, 784, 512), (784, 128, 512), (128, 512, 784)):
            a = r.standard_normal((m, k)).astype(dt)
            b = r.standard_normal((k, n)).astype(dt)
            c = np.empty((m, n), dt)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            t_np = min(timeit.repeat(lambda: np.matmul(a, b, out=c), number=20, repeat=7)) / 20
            t_pt = min(timeit.repeat(lambda: ta @ tb, number=20, repeat=7)) / 20
            print(f"{np.dtype(dt).name:8s} ({m:3d} x {k:3d}) @ ({k:3d} x {n:3d})   "
                  f"NumPy {t_np * 1e3:6.3f} ms   PyTorch {t_pt * 1e3:6.3f} ms   NumPy / PyTorch {t_np / t_pt:.2f}")


if __name__ == "__main__":
    main()
