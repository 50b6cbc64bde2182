"""Every script in examples/ runs to completion without the optional
packages, and writes nothing into the checkout.

Each example runs in its quick mode (``--quick`` where it has one), in a
fresh process whose ``sys.modules`` blocks matplotlib and scikit-learn (an
``import matplotlib`` there raises ImportError, as on a machine without
it), from an empty working directory.  An example that draws a figure gets
``--out DIR`` as well, so its plotting path runs too: it must print the
one-line note and leave DIR uncreated.  Afterwards docs/img/ and examples/
must be byte for byte what they were, and the working directory still empty.

The numbers the loop examples compute are checked in test_examples_loops.py
and test_hypergradients_example.py; here only that a new user's first run
ends well.
"""

import glob
import hashlib
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES_DIR = os.path.join(ROOT, "examples")
SUPPORT = "example_support.py"      # helpers the examples import, not an example
EXAMPLES = sorted(p for p in glob.glob(os.path.join(EXAMPLES_DIR, "*.py")) if os.path.basename(p) != SUPPORT)
NAMES = [os.path.splitext(os.path.basename(p))[0] for p in EXAMPLES]

PLOT_NOTE = 'matplotlib not installed: skipping the plot (pip install ".[examples]")'
SKLEARN_NOTE = "scikit-learn not installed"


def _source(name):
    with open(os.path.join(EXAMPLES_DIR, name + ".py"), encoding="utf-8") as f:
        return f.read()


def _figure(name):
    """The FIGURE an example writes into --out, or None."""
    m = re.search(r'^FIGURE = "([^"]+)"', _source(name), re.M)
    return m.group(1) if m else None


PLOTTING = [n for n in NAMES if _figure(n)]
# scikit-learn's digits, loaded by the example or by example_support.digits()
NEEDS_SKLEARN = [n for n in NAMES if "from sklearn" in _source(n)
                 or re.search(r"from example_support import [^\n]*\bdigits\b", _source(n))]
NEEDS_DASK = [n for n in NAMES if "s2sad.dask" in _source(n)]
DASK_NOTE = 'dask not installed: skipping (pip install ".[dask]")'


def _has_dask():
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def run_blocked(path, args, cwd, block=("matplotlib", "sklearn")):
    """``python path *args`` in cwd with the modules in ``block`` made
    unimportable; the CompletedProcess."""
    code = "\n".join([
        "import runpy, sys",
        *(f"sys.modules[{m!r}] = None" for m in block),
        f"sys.path.insert(0, {os.path.dirname(path)!r})",     # as `python examples/x.py` does
        f"sys.argv = [{path!r}] + {list(args)!r}",
        f"runpy.run_path({path!r}, run_name='__main__')",
    ])
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def _snapshot():
    """{path: sha256} of every file under docs/img/ and examples/ (bytecode
    caches left out), and whether an out/ folder exists beside them."""
    out = {}
    for top in (os.path.join(ROOT, "docs", "img"), EXAMPLES_DIR):
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for fn in filenames:
                p = os.path.join(dirpath, fn)
                with open(p, "rb") as f:
                    out[os.path.relpath(p, ROOT)] = hashlib.sha256(f.read()).hexdigest()
    for d in (ROOT, EXAMPLES_DIR, os.path.join(ROOT, "docs")):
        out[os.path.relpath(os.path.join(d, "out"), ROOT) + " exists"] = os.path.exists(os.path.join(d, "out"))
    return out


def _quick_args(name, figs):
    args = ["--quick"] if '"--quick"' in _source(name) else []
    if name in PLOTTING:
        args += ["--out", str(figs)]
    return args


def test_the_lists_are_what_the_examples_are():
    """The parametrization below sees the examples it should (a renamed
    FIGURE or a moved import would silently drop an example from a check)."""
    assert {"quickstart", "neural_ode", "lotka_volterra", "hypergradients", "newton_digits",
            "dp_sgd_digits", "dask_sgd", "fp16_mlp"} <= set(NAMES)
    assert set(PLOTTING) == {"neural_ode", "lotka_volterra", "hypergradients", "newton_digits", "dp_sgd_digits",
                             "dask_sgd", "fp16_mlp"}
    assert set(NEEDS_DASK) == {"dask_sgd"}
    assert set(NEEDS_SKLEARN) == {"hypergradients", "newton_digits", "dp_sgd_digits", "fp16_mlp"}


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_without_matplotlib_and_sklearn(name, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    figs = tmp_path / "figs"
    before = _snapshot()
    r = run_blocked(os.path.join(EXAMPLES_DIR, name + ".py"), _quick_args(name, figs), cwd)
    assert r.returncode == 0, f"examples/{name}.py failed:\n{r.stdout[-2000:]}\n--- stderr ---\n{r.stderr[-3000:]}"
    assert _snapshot() == before, f"examples/{name}.py changed files in the checkout"
    assert list(cwd.iterdir()) == [], f"examples/{name}.py wrote into its working directory"
    assert not figs.exists()
    if name in NEEDS_DASK and not _has_dask():
        # the README's test command installs no Dask: the example says so, once
        assert r.stdout.strip() == DASK_NOTE, r.stdout[-2000:]
    elif name in PLOTTING:
        assert r.stdout.count(PLOT_NOTE) == 1, r.stdout[-2000:]
    if name in NEEDS_SKLEARN:
        # the fallback data set, said once, and the method still ran on it
        assert r.stdout.count(SKLEARN_NOTE) == 1, r.stdout[-2000:]
    if name == "quickstart":
        assert r.stdout.rstrip().endswith("OK")


def test_plot_note_only_without_matplotlib(tmp_path):
    """The note is not printed regardless: with only scikit-learn blocked,
    the plotting path does not claim matplotlib is missing (it is either
    drawn, or, where matplotlib really is absent, skipped with the note)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    figs = tmp_path / "figs"
    r = run_blocked(os.path.join(EXAMPLES_DIR, "lotka_volterra.py"), ["--quick", "--out", str(figs)], cwd,
                    block=("sklearn",))
    assert r.returncode == 0, r.stderr[-3000:]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert PLOT_NOTE in r.stdout and not figs.exists()
    else:
        assert PLOT_NOTE not in r.stdout
        assert (figs / "loops_lotka_volterra.png").is_file()
    assert list(cwd.iterdir()) == []


def _make_figures():
    sys.path.insert(0, EXAMPLES_DIR)
    try:
        import make_figures
    finally:
        sys.path.remove(EXAMPLES_DIR)
    return make_figures


def test_make_figures_runs_every_plotting_example_into_docs_img():
    """examples/make_figures.py knows every example that draws a figure, by
    the file name the example writes and the docs show (docs/img/...)."""
    mf = _make_figures()
    assert mf.FIGURES == {n: _figure(n) for n in PLOTTING}
    for name, fig in mf.FIGURES.items():
        assert os.path.isfile(os.path.join(ROOT, "docs", "img", fig)), fig
        assert '"--out"' in _source(name)


def test_make_figures_without_out_only_lists(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    before = _snapshot()
    r = run_blocked(os.path.join(EXAMPLES_DIR, "make_figures.py"), [], cwd, block=())
    assert r.returncode == 0, r.stderr[-3000:]
    for name in PLOTTING:
        assert f"{name}.py --out " in r.stdout
    assert _snapshot() == before and list(cwd.iterdir()) == []


def test_make_figures_refuses_without_matplotlib(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    r = run_blocked(os.path.join(EXAMPLES_DIR, "make_figures.py"), ["--out", str(tmp_path / "figs")], cwd)
    assert r.returncode == 1
    assert "matplotlib and scikit-learn not installed" in r.stdout
    assert not (tmp_path / "figs").exists() and list(cwd.iterdir()) == []


def test_readme_lists_every_example():
    """README.md's table of examples names every script in examples/, and
    says which need an extra."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| \[?`examples/(\w+)\.py`.*$", readme, re.M)}
    assert set(rows) == set(NAMES)
    for name in PLOTTING:
        assert "matplotlib" in rows[name], rows[name]
    for name in NEEDS_SKLEARN:
        assert "scikit-learn" in rows[name], rows[name]
    assert "python examples/make_figures.py --out docs/img" in readme
    # the quick start is unchanged
    assert "pip install . && python examples/quickstart.py" in readme
    assert 'pip install ".[test]" && python -m pytest -q' in readme


@pytest.mark.parametrize("name", [n for n in NAMES if '"--quick"' in _source(n)])
def test_long_examples_state_their_run_time(name):
    """An example with a --quick mode says in its docstring how long the
    full and the quick runs take."""
    doc = _source(name).split('"""')[1]
    assert len(re.findall(r"about \d+(\.\d+)? (s|min)\b", doc)) >= 2, doc
