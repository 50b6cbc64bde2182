"""``s2sad.export`` writes a module that runs without the compiler.

Each test exports a gradient, then imports the module in a fresh Python
process in which ``import gast`` fails (so neither gast nor the s2sad
compiler can be loaded), runs it on inputs saved with ``np.save`` and
compares with the gradient computed in this process: they must be equal
bit for bit (the same code runs on the same inputs).
"""

import json
import subprocess
import sys
import textwrap

import numpy as np

import s2sad


def mlp(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2
    return 0.5 * np.mean((out - y) ** 2)


def rnn(Wh, Wx, xs):
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


def newton(a, x0):
    x = x0
    i = 0
    while i < 6:
        x = 0.5 * (x + a / x)
        i = i + 1
    return np.sum(x)


# In the child: `import gast` raises ImportError (a None entry in sys.modules
# blocks the import), then the exported module is imported from tmp_path.
_CHILD = textwrap.dedent("""
    import json, sys
    sys.modules["gast"] = None
    sys.path.insert(0, {folder!r})
    import numpy as np
    import {module} as m
    try:
        import gast  # noqa: F401
        sys.exit("gast could be imported")
    except ImportError:
        pass
    leaked = sorted(k for k, v in sys.modules.items() if v is not None
                    and (k == "s2sad" or k.startswith("s2sad.") or k.startswith("gast")))
    assert not leaked, leaked
    args = [np.load({folder!r} + "/in%d.npy" % i) for i in range({nargs})]
    out = m.{fname}(*args)
    outs = list(out) if isinstance(out, tuple) else [out]
    for i, o in enumerate(outs):
        np.save({folder!r} + "/out%d.npy" % i, np.asarray(o))
    print(json.dumps(len(outs)))
""")


def _roundtrip(tmp_path, fn, args, wrt):
    # the exported module is the generic code: compare with it bit for bit
    # (a planned variant may sum a loop's weight gradient in another order)
    df = s2sad.grad(fn, wrt=wrt, plan=False)
    want = df(*args)
    wants = list(want) if isinstance(want, tuple) else [want]
    path = tmp_path / "m.py"
    s2sad.export(df, path)
    text = path.read_text()
    assert "gast" not in text and "import s2sad\n" not in text
    for i, a in enumerate(args):
        np.save(tmp_path / f"in{i}.npy", np.asarray(a))
    child = _CHILD.format(folder=str(tmp_path), module="m", fname=f"{fn.__name__}_grad", nargs=len(args))
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    n = json.loads(r.stdout.strip().splitlines()[-1])
    assert n == len(wants)
    for i, w in enumerate(wants):
        got = np.load(tmp_path / f"out{i}.npy")
        assert got.shape == np.shape(w)
        assert got.dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(got, w)
    return text


def test_export_straight_line(tmp_path):
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)),
            rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    text = _roundtrip(tmp_path, mlp, args, wrt=(0, 1, 2))
    assert "def mlp_grad(" in text


def test_export_for_loop(tmp_path):
    rng = np.random.default_rng(1)
    args = (rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 2)), rng.normal(size=(6, 2)))
    text = _roundtrip(tmp_path, rnn, args, wrt=(0, 1))
    assert "_stack" in text  # the loop's saved values travel with the module


def test_export_while_loop(tmp_path):
    rng = np.random.default_rng(2)
    args = (rng.uniform(1.0, 3.0, size=3), np.ones(3))
    _roundtrip(tmp_path, newton, args, wrt=0)


def test_exported_module_is_importable_text(tmp_path):
    """The module starts with its imports and defines exactly the function."""
    df = s2sad.grad(mlp, wrt=0)
    path = s2sad.export(df, tmp_path / "m.py")
    text = (tmp_path / "m.py").read_text()
    assert str(path).endswith("m.py")
    assert "import s2sad_runtime as _rt" in text
    assert "import numpy as np" in text
    ns = {}
    exec(compile(text, str(path), "exec"), ns)
    assert callable(ns["mlp_grad"])


def test_export_before_any_call(tmp_path):
    """export works on a gradient that was never called."""
    df = s2sad.grad(rnn, wrt=(0, 1))
    s2sad.export(df, tmp_path / "m.py")
    assert "def rnn_grad(" in (tmp_path / "m.py").read_text()
