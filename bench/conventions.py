"""Derivatives at non-differentiable points: s2sad beside autograd and JAX.

    python bench/conventions.py            # print the table
    python bench/conventions.py --write    # and write it into docs/semantics.md

Where a function has a kink (``abs`` at 0, ties of ``max``, the bounds of
``clip``) any value between the one-sided derivatives is a valid
subgradient choice, and libraries differ.  This script measures what each
installed library returns at such points, so the conventions documented in
``docs/semantics.md`` are measured, not remembered.  A library that is not
installed is left out.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import s2sad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "semantics.md")
BEGIN, END = "<!-- conventions:begin (written by bench/conventions.py) -->", "<!-- conventions:end -->"


def abs_(x, xp):
    return xp.sum(xp.abs(x))


def relu(x, xp):
    return xp.sum(xp.maximum(x, 0.0))


def max_tie(x, xp):
    return xp.max(x)


def min_tie(x, xp):
    return xp.min(x)


def minimum_tie(x, xp):
    return xp.sum(xp.minimum(x, 1.0))


def clip_bounds(x, xp):
    return xp.sum(xp.clip(x, -1.0, 1.0))


def sqrt_0(x, xp):
    return xp.sum(xp.sqrt(x))


def sign_x(x, xp):
    return xp.sum(xp.sign(x) * x)


def norm_0(x, xp):
    return xp.linalg.norm(x)


def where_0(x, xp):
    return xp.sum(xp.where(x > 0, x, 0.0))


# (what, function, point)
CASES = [
    ("`abs(x)` at 0", abs_, [0.0, 1.0]),
    ("`maximum(x, 0)` at 0", relu, [0.0, 1.0]),
    ("`minimum(x, 1)` at 1", minimum_tie, [1.0, 2.0]),
    ("`max(x)`, two-way tie", max_tie, [1.0, 1.0, 0.0]),
    ("`min(x)`, two-way tie", min_tie, [0.0, 0.0, 1.0]),
    ("`clip(x, -1, 1)` at -1, 1, 0", clip_bounds, [-1.0, 1.0, 0.0]),
    ("`sqrt(x)` at 0", sqrt_0, [0.0, 1.0]),
    ("`sign(x) * x` at 0", sign_x, [0.0]),
    ("`linalg.norm(x)` at 0", norm_0, [0.0, 0.0]),
    ("`where(x > 0, x, 0)` at 0", where_0, [0.0, 1.0]),
]


def _s2sad(fn, x):
    # s2sad differentiates the NumPy program itself (the module is a static argument)
    return s2sad.grad(fn)(np.array(x), np)


def _autograd(fn, x):
    import autograd
    import autograd.numpy as anp
    return autograd.grad(lambda v: fn(v, anp))(np.array(x))


def _jax(fn, x):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    return np.asarray(jax.grad(lambda v: fn(v, jnp))(jnp.array(x)))


def libraries():
    out = [("s2sad", _s2sad)]
    for name, f, mod in (("autograd", _autograd, "autograd"), ("JAX", _jax, "jax")):
        try:
            __import__(mod)
        except ImportError:
            continue
        out.append((name, f))
    return out


def _fmt(g):
    g = np.atleast_1d(np.asarray(g, dtype=float))
    return "[" + ", ".join("nan" if np.isnan(v) else "inf" if np.isinf(v) else f"{v:g}" for v in g) + "]"


def table():
    libs = libraries()
    lines = ["| function at | point | " + " | ".join(n for n, _ in libs) + " |",
             "|---|---|" + "---|" * len(libs)]
    with np.errstate(all="ignore"):
        for what, fn, x in CASES:
            cells = []
            for _, run in libs:
                try:
                    cells.append(_fmt(run(fn, x)))
                except Exception as e:      # a library that refuses the point: say so
                    cells.append(f"error: {type(e).__name__}")
            lines.append(f"| {what} | {_fmt(x)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(text):
    doc = open(DOC).read()
    i, j = doc.index(BEGIN), doc.index(END)
    open(DOC, "w").write(doc[:i + len(BEGIN)] + "\n" + text + "\n" + doc[j:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="write the table into docs/semantics.md")
    a = ap.parse_args(argv)
    t = table()
    print(t)
    if a.write:
        write(t)
        print(f"written into {os.path.relpath(DOC, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
