"""Golden tests: the generated source of a few functions is pinned in
tests/golden/<name>.py, so any change to the generated code shows up as a
reviewable diff.

The generated code changes on purpose as the compiler evolves; regenerate
the files with

    S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

and review ``git diff tests/golden``.
"""

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import s2sad
import golden_funcs
from golden_funcs import GOLDEN
from helpers import check_grads

HERE = Path(__file__).resolve().parent
GOLDEN_DIR = HERE / "golden"
UPDATE = os.environ.get("S2SAD_UPDATE_GOLDEN") == "1"


def golden_text(name):
    wrt = GOLDEN[name]
    src = s2sad.grad(getattr(golden_funcs, name), wrt=wrt).source.replace(os.path.dirname(os.path.abspath(__file__)) + os.sep, "")
    header = (f"# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:{name}, wrt={wrt!r}.\n"
              f"# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py\n\n")
    return header + src


def compare_golden(path, got, what):
    """``got`` must equal the pinned ``path`` (rewritten when updating)."""
    if UPDATE:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(got)
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with S2SAD_UPDATE_GOLDEN=1")
    want = path.read_text()
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                            f"golden/{path.name}", "generated"))
        pytest.fail(f"{what} changed (if on purpose, regenerate with "
                    f"S2SAD_UPDATE_GOLDEN=1):\n{diff}", pytrace=False)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_source(name):
    compare_golden(GOLDEN_DIR / f"{name}.py", golden_text(name), f"the generated code of {name}")


PLANNED = ["for_loop", "mlp"]     # functions of arrays: their planned variant is pinned too


def planned_text(name):
    df = s2sad.grad(getattr(golden_funcs, name), wrt=GOLDEN[name])
    df(*golden_funcs.example_args(name))
    header = (f"# Golden file: the planned variant s2sad makes for tests/golden_funcs.py:{name}, "
              f"wrt={GOLDEN[name]!r}, at the shapes of golden_funcs.example_args.\n"
              f"# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py\n\n")
    return header + df.planned_source.replace(os.path.dirname(os.path.abspath(__file__)) + os.sep, "")


@pytest.mark.parametrize("name", PLANNED)
def test_golden_planned_source(name):
    compare_golden(GOLDEN_DIR / f"{name}.planned.py", planned_text(name), f"the planned code of {name}")


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_gradient_is_right(name):
    """The pinned code computes the right gradient (central differences)."""
    check_grads(getattr(golden_funcs, name), golden_funcs.example_args(name), wrt=GOLDEN[name])


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_source_is_valid_python(name):
    compile((GOLDEN_DIR / f"{name}.py").read_text() if not UPDATE else golden_text(name),
            f"golden/{name}.py", "exec")


_GENERATE = """
import sys
sys.path.insert(0, {tests!r})
import s2sad, golden_funcs
for name, wrt in golden_funcs.GOLDEN.items():
    fn = getattr(golden_funcs, name)
    for t in (s2sad.grad, s2sad.value_and_grad, s2sad.vjp):
        sys.stdout.write(t(fn, wrt=wrt).source)
for name in {planned!r}:
    df = s2sad.grad(getattr(golden_funcs, name), wrt=golden_funcs.GOLDEN[name])
    df(*golden_funcs.example_args(name))
    sys.stdout.write(df.planned_source)
"""


def _generate_in_fresh_process(hashseed):
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed))
    r = subprocess.run([sys.executable, "-c", _GENERATE.format(tests=str(HERE), planned=PLANNED)], capture_output=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def test_generation_is_deterministic():
    """Two fresh interpreters (with different string hash seeds, so set and
    dict orders that depend on hashing differ) generate byte-identical code,
    and the same code as this process."""
    a = _generate_in_fresh_process(1)
    b = _generate_in_fresh_process(2024)
    assert a, "nothing was generated"
    assert a == b
    here = "".join(t(getattr(golden_funcs, n), wrt=w).source for n, w in GOLDEN.items()
                   for t in (s2sad.grad, s2sad.value_and_grad, s2sad.vjp))
    here += "".join(planned_text(n).split("\n\n", 1)[1] for n in PLANNED)
    assert a.decode() == here
