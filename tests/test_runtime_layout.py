"""The layout of the runtime package: every helper that generated code or the
compiler reaches as ``_rt.<name>`` is exported by ``s2sad_runtime`` itself,
as the very function object of the module that defines it (rule tables are
keyed by it), and no module of runtime/ grows past 800 lines."""

import importlib
import pathlib
import re

import s2sad_runtime

ROOT = pathlib.Path(__file__).resolve().parent.parent
HELPER_MODULES = ("core", "reductions", "indexing", "linalg", "elementwise", "scalar", "tangents", "plan")


def _names_the_compiler_uses():
    names = set()
    for path in (ROOT / "s2sad").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"\b_rt(?:_mod)?\.((?!__)[A-Za-z_]\w*)", text))   # (not module dunders)
        names |= set(re.findall(r'S\.name\("_rt"\), "(\w+)"', text))
        names |= set(re.findall(r'ast\.Name\("_rt", ast\.Load\(\)\), "(\w+)"', text))
    return names


def test_every_name_the_compiler_uses_is_exported():
    used = _names_the_compiler_uses()
    assert len(used) > 50
    assert sorted(n for n in used if not hasattr(s2sad_runtime, n)) == []
    assert sorted(n for n in used if n not in s2sad_runtime.__all__) == []


def test_exports_are_the_helpers_themselves():
    owners = {}
    for m in HELPER_MODULES:
        mod = importlib.import_module(f"s2sad_runtime.{m}")
        for name, obj in vars(mod).items():
            if getattr(obj, "__module__", None) == mod.__name__:
                owners.setdefault(name, obj)
    assert len(set(s2sad_runtime.__all__)) == len(s2sad_runtime.__all__)
    for name in s2sad_runtime.__all__:
        obj = getattr(s2sad_runtime, name)
        if name in owners:
            assert obj is owners[name], name
        # the planner recognises runtime helpers by their module
        assert (getattr(obj, "__module__", None) or "s2sad_runtime").startswith("s2sad_runtime"), name


def test_no_runtime_module_is_over_800_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (ROOT / "runtime").glob("*.py")}
    assert {n: k for n, k in sizes.items() if k > 800} == {}
