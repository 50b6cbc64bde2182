"""``s2sad.export`` writes a module that runs without s2sad.

Each test exports a gradient, then imports the module in a fresh Python
process in which ``import gast``, ``import s2sad`` and ``import
s2sad_runtime`` all fail (only NumPy and the runtime copy written beside
the module are there), runs it on inputs saved with ``np.save`` and
compares with the gradient computed in this process: they must be equal
bit for bit (the same code runs on the same inputs).
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

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


# In the child: `import gast`, `import s2sad` and `import s2sad_runtime` raise
# ImportError (a None entry in sys.modules blocks an import), then the
# exported module is imported from tmp_path.
_CHILD = textwrap.dedent("""
    import json, sys
    for blocked in {blocked!r}:
        sys.modules[blocked] = None
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


def _roundtrip(tmp_path, fn, args, wrt, runtime="copy"):
    # the exported module is the generic code: compare with it bit for bit
    # (a planned variant may sum a loop's weight gradient in another order)
    df = s2sad.grad(fn, wrt=wrt, plan=False)
    want = df(*args)
    wants = list(want) if isinstance(want, tuple) else [want]
    path = tmp_path / "m.py"
    s2sad.export(df, path, runtime=runtime)
    text = path.read_text()
    assert "gast" not in text and "import s2sad\n" not in text
    for i, a in enumerate(args):
        np.save(tmp_path / f"in{i}.npy", np.asarray(a))
    blocked = ["gast", "s2sad"] + (["s2sad_runtime"] if runtime == "copy" else [])
    child = _CHILD.format(folder=str(tmp_path), module="m", fname=f"{fn.__name__}_grad", nargs=len(args),
                          blocked=blocked)
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
    assert "_rt = _load_runtime()" in text and (tmp_path / "_s2sad_rt" / "__init__.py").is_file()
    assert "import numpy as np" in text
    ns = {"__file__": str(path)}
    exec(compile(text, str(path), "exec"), ns)
    assert callable(ns["mlp_grad"])


def test_export_before_any_call(tmp_path):
    """export works on a gradient that was never called."""
    df = s2sad.grad(rnn, wrt=(0, 1))
    s2sad.export(df, tmp_path / "m.py")
    assert "def rnn_grad(" in (tmp_path / "m.py").read_text()


def test_export_importing_the_installed_runtime(tmp_path):
    """runtime="import": no copy is written; the module imports s2sad_runtime."""
    rng = np.random.default_rng(3)
    args = (rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 2)), rng.normal(size=(6, 2)))
    text = _roundtrip(tmp_path, rnn, args, wrt=(0, 1), runtime="import")
    assert "import s2sad_runtime as _rt" in text
    assert not (tmp_path / "_s2sad_rt").exists()


def test_export_checkpointed_loop_and_a_located_check(tmp_path):
    """A checkpointed loop (its driver lives in the runtime) and the scalar
    output check (its location names the file by base name only)."""
    df = s2sad.grad(checkpointed_rnn, wrt=(0, 1), plan=False)
    rng = np.random.default_rng(4)
    args = (rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 2)), rng.normal(size=(9, 2)))
    text = _roundtrip(tmp_path, checkpointed_rnn, args, wrt=(0, 1))
    assert "checkpoint" in text
    assert __file__ not in text and "test_export.py" in text
    assert df(*args)[0].shape == (4, 4)


def test_export_bad_runtime_option(tmp_path):
    with pytest.raises(s2sad.ArgumentError, match="runtime='vendor'"):
        s2sad.export(s2sad.grad(mlp, wrt=0), tmp_path / "m.py", runtime="vendor")


def checkpointed_rnn(Wh, Wx, xs):
    h = np.zeros(Wh.shape[0])
    for t in s2sad.checkpointed(range(xs.shape[0]), snapshots=2):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)
