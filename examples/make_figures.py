#!/usr/bin/env python
"""Regenerate the documentation's figures from the examples.

    python examples/make_figures.py --out docs/img   # the figures in docs/img/ (about 8 min)
    python examples/make_figures.py --out DIR        # the same figures in DIR
    python examples/make_figures.py --out DIR neural_ode lotka_volterra   # only these
    python examples/make_figures.py                  # print the commands, run nothing

Each example that draws a figure is run in full, in its own process, with
``--out DIR``; it writes its figure there under the name the docs use
(``docs/img/loops_neural_ode.png`` and so on).  Nothing is written without
``--out``: a loop over ``examples/*.py`` does not touch the tracked images.

Needs matplotlib and scikit-learn (``pip install ".[examples]"``), and Dask
for ``dask_sgd`` (``pip install ".[dask]"``; without it that example writes
no figure and the run stops there): without
them it says what is missing and exits with status 1 rather than leave
figures out, or draw the digits figures from the synthetic stand-in data.

(``docs/img/loops_tradeoff.png`` and ``docs/img/performance.png`` are
benchmark results, written by ``bench/ode_checkpoint.py`` and
``bench/run.py``; see bench/README.md.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# example -> the figure it writes into --out (its FIGURE), fastest first
FIGURES = {
    "lotka_volterra": "loops_lotka_volterra.png",
    "neural_ode": "loops_neural_ode.png",
    "hypergradients": "reversible_hypergradients.png",
    "newton_digits": "forward_newton_digits.png",
    "dp_sgd_digits": "vmap_dp_sgd_digits.png",
    "fp16_mlp": "arrays_fp16_mlp.png",
    "dask_sgd": "scale_dask_sgd.png",
}


def missing_modules():
    out = []
    for name in ("matplotlib", "sklearn"):
        try:
            __import__(name)
        except ImportError:
            out.append({"sklearn": "scikit-learn"}.get(name, name))
    return out


def commands(out_dir, names):
    return [[sys.executable, os.path.join(HERE, f"{name}.py"), "--out", out_dir] for name in names]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where the figures go (docs/img to regenerate the docs' figures); "
                        "without it, only print the commands")
    p.add_argument("names", nargs="*", metavar="EXAMPLE", help=f"a subset of: {', '.join(FIGURES)}")
    a = p.parse_args(argv)
    unknown = [n for n in a.names if n not in FIGURES]
    if unknown:
        p.error(f"no figure-making example {', '.join(unknown)} (choose from {', '.join(FIGURES)})")
    names = a.names or list(FIGURES)
    if a.out is None:
        docs_img = os.path.relpath(os.path.join(os.path.dirname(HERE), "docs", "img"))
        print(f"would run (pass --out {docs_img} to regenerate the documentation's figures):")
        for name in names:
            print(f"    python {os.path.relpath(os.path.join(HERE, name + '.py'))} --out {docs_img}")
        return 0
    missing = missing_modules()
    if missing:
        print(f"{' and '.join(missing)} not installed: cannot make the figures (pip install \".[examples]\")")
        return 1
    t_all = time.perf_counter()
    for name, cmd in zip(names, commands(a.out, names)):
        print(f"=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        r = subprocess.run(cmd)
        if r.returncode != 0:
            print(f"=== {name} failed (exit status {r.returncode})")
            return r.returncode
        path = os.path.join(a.out, FIGURES[name])
        if not os.path.isfile(path):
            print(f"=== {name} finished but wrote no {path}")
            return 1
        print(f"=== {name}: wrote {os.path.normpath(path)} ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"all {len(names)} figures in {os.path.normpath(a.out)} ({time.perf_counter() - t_all:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
