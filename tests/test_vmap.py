"""``s2sad.vmap`` against its oracle, the function called once per example:
every corpus function with its random arguments mapped over a batch, the
primal and ``vmap(grad(f))`` (per-example gradients), to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import s2sad
import s2sad_runtime

import corpus_straight as CS
import corpus_control as CC  # noqa: F401  (registers its cases)

B = 3


def _cases():
    out = []
    for mod in ("corpus_straight", "corpus_control"):
        for c in CS.cases(mod):
            if not c.xfail:
                out.append(pytest.param(c, id=c.id))
    return out


def batch_of(c, n=B):
    """``n`` examples of ``c``'s arguments; an argument the same in every
    example (a count, a flag, fixed data) is not mapped, unless it is
    differentiated."""
    sets = [c.make_args()] + [tuple(a.make(np.random.default_rng(1000 + k)) for a in c.args)
                              for k in range(1, n)]
    args, axes = [], []
    for j in range(len(c.args)):
        vals = [s[j] for s in sets]
        same = all(_same(vals[0], v) for v in vals[1:]) and not c.args[j].diff
        if same or not all(isinstance(v, (float, np.ndarray)) for v in vals):
            args.append(vals[0])
            axes.append(None)
        else:
            args.append(np.stack([np.asarray(v, dtype=float) if isinstance(v, float) else v for v in vals]))
            axes.append(0)
    lanes = [[s[j] if axes[j] is not None else args[j] for j in range(len(args))] for s in sets]
    return args, tuple(axes), lanes


def _same(a, b):
    try:
        return type(a) is type(b) and np.array_equal(a, b)
    except Exception:
        return a is b


def assert_lanes(got, want, what, tol=1e-10):
    if isinstance(want[0], (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want[0]), what
        for k in range(len(want[0])):
            assert_lanes(got[k], [w[k] for w in want], f"{what}[{k}]", tol)
        return
    ref = np.stack([np.asarray(w) for w in want])
    got = np.asarray(got)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, per-example calls give {ref.shape}"
    scale = 1.0 + np.max(np.abs(ref)) if ref.size else 1.0
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol * scale, err_msg=what)


# values whose shape differs from example to example (x[x > 0]): no batched
# form, and vmap says so
RAGGED = {"boolean_mask", "inplace_mask_write"}


@pytest.mark.parametrize("c", _cases())
def test_vmap_corpus(c):
    args, axes, lanes = batch_of(c)
    assert any(a is not None for a in axes), f"{c.id}: no argument differs between examples"
    vf = s2sad.vmap(c.fn, in_axes=axes)
    if c.id in RAGGED:
        with pytest.raises(s2sad_runtime.BatchError, match="different shapes in different examples"):
            vf(*args)
        return
    assert_lanes(vf(*args), [c.fn(*ln) for ln in lanes], f"{c.id} primal")
    wrt = c.wrt[0] if len(c.wrt) == 1 else tuple(c.wrt)
    df = s2sad.grad(c.fn, wrt=wrt)
    vg = s2sad.vmap(df, in_axes=axes)
    assert_lanes(vg(*args), [df(*ln) for ln in lanes], f"{c.id} per-example gradient")
