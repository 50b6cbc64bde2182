"""The compiler's structure, measured from the code (issue #14): no module
over ~800 lines, no analysis results hung on syntax nodes, no import
cycles (imports inside functions included), a runtime that imports nothing
of the compiler, and a planner and API that never read generated text."""

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"s2sad": ROOT / "s2sad", "s2sad_runtime": ROOT / "runtime"}


def _modules():
    """module name -> path of every module of the two packages."""
    out = {}
    for pkg, base in PACKAGES.items():
        for path in base.rglob("*.py"):
            rel = path.relative_to(base).with_suffix("")
            parts = [pkg] + list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name, path):
    """Modules of the two packages that ``name`` imports anywhere in its
    file (at module level or inside functions)."""
    tree = ast.parse(path.read_text())
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = pkg.split(".")
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            # `from pkg import submodule` depends on the submodule (the
            # package's own __init__ runs for any import below it)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_no_module_is_over_800_lines():
    big = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > 800}
    assert not big, big


def test_no_analysis_attributes_on_syntax_nodes():
    bad = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_s2_"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} (setattr)")
    assert not bad, bad


def _cycle(graph):
    """One import cycle of ``graph`` (a list of modules), or None."""
    state = {}

    def visit(n, stack):
        state[n] = "open"
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            # a package importing its own submodules (to re-export them) is
            # how a package is assembled, not a cycle between two rooms
            if m.startswith(n + ".") and n in PACKAGES:
                continue
            if state.get(m) == "open":
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m, stack)
                if c:
                    return c
        stack.pop()
        state[n] = "done"
        return None
    for n in sorted(graph):
        if n not in state:
            c = visit(n, [])
            if c:
                return c
    return None


def test_no_import_cycles():
    assert _cycle(GRAPH) is None, " -> ".join(_cycle(GRAPH))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_runtime_imports_nothing_of_the_compiler():
    bad = {n: sorted(m for m in deps if m.split(".")[0] == "s2sad")
           for n, deps in GRAPH.items() if n.split(".")[0] == "s2sad_runtime"}
    assert not any(bad.values()), bad
    for name, path in MODULES.items():
        if name.startswith("s2sad_runtime"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                    assert not any(m.split(".")[0] == "gast" for m in mods), name


@pytest.mark.parametrize("where", ["s2sad/plan", "s2sad/api.py"])
def test_no_reading_of_generated_text(where):
    """The planner and the API read the generated program (IR), never its
    text: no parsing, unparsing, regular expressions or substring tests on
    source."""
    paths = [ROOT / where] if where.endswith(".py") else sorted((ROOT / where).glob("*.py"))
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if getattr(node, "module", None) else [])
                assert not {"re", "ast"} & set(names), f"{path.name} imports {names}"
            if isinstance(node, ast.Attribute) and node.attr in ("unparse", "__s2sad_source__"):
                if path.name == "api.py" and node.attr == "__s2sad_source__":
                    continue      # the API hands the source to the user (.source) and to export
                pytest.fail(f"{path.name}:{node.lineno} reads {node.attr}")


def test_every_package_is_installed():
    """``pip install .`` (not only an editable install) ships every
    subpackage: pyproject.toml lists them all."""
    import re
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(ast.literal_eval(re.search(r"^packages = (\[.*?\])", text, re.S | re.M).group(1)))
    found = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert found == listed, f"not listed: {sorted(found - listed)}; listed but absent: {sorted(listed - found)}"


def test_import_s2sad_imports_no_optional_package():
    """SciPy's rules load on first need, once the program imports SciPy:
    `import s2sad` alone imports neither SciPy nor the other extras."""
    import subprocess
    import sys
    code = ("import sys, s2sad\n"
            "loaded = sorted(m for m in ('scipy', 'matplotlib', 'sklearn', 'torch', 'jax', 'numba', 'dask') "
            "if m in sys.modules)\n"
            "assert not loaded, loaded\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_scipy_rules_load_when_scipy_is_imported(tmp_path):
    """A function over scipy.special is differentiated in a process where
    s2sad was imported first and SciPy after (the rules load then)."""
    pytest.importorskip("scipy")
    import subprocess
    import sys
    (tmp_path / "m.py").write_text("import numpy as np\nimport s2sad\nimport scipy.special as sp\n\n\n"
                                   "def f(x):\n    return np.sum(sp.expit(x) * sp.erf(x))\n")
    code = ("import sys, numpy as np, s2sad\n"
            "assert 'scipy' not in sys.modules\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            "import m, scipy.special as sp\n"
            "x = np.linspace(-1, 1, 5)\n"
            "g = s2sad.grad(m.f)(x)\n"
            "e = sp.expit(x)\n"
            "want = e * (1 - e) * sp.erf(x) + e * 2 / np.sqrt(np.pi) * np.exp(-x * x)\n"
            "assert np.allclose(g, want, rtol=1e-12), (g, want)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
