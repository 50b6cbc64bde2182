"""The command line: ``python -m s2sad show FILE.py:FUNCTION --wrt ...``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from golden_funcs import GOLDEN

from s2sad.__main__ import parse_wrt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def s2sad_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "s2sad", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_show(name):
    r = s2sad_cli("show", f"tests/golden_funcs.py:{name}", "--wrt", "0")
    assert r.returncode == 0, r.stderr
    assert f"def {name}_grad(" in r.stdout
    assert "# ---- reverse sweep ----" in r.stdout
    compile(r.stdout, "<shown>", "exec")


def test_show_wrt_several_and_names():
    by_index = s2sad_cli("show", "tests/golden_funcs.py:mlp", "--wrt", "0,1")
    by_name = s2sad_cli("show", "tests/golden_funcs.py:mlp", "--wrt", "W1,b1")
    assert by_index.returncode == 0 and by_name.returncode == 0, by_index.stderr + by_name.stderr
    assert by_index.stdout == by_name.stdout
    assert "_rt.grad_out(W1_adj, W1), _rt.grad_out(b1_adj, b1)" in by_index.stdout


def test_show_absolute_path_from_elsewhere(tmp_path):
    r = s2sad_cli("show", f"{HERE / 'golden_funcs.py'}:for_loop", "--wrt", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "def for_loop_grad(" in r.stdout


def test_show_value_and_grad_mode():
    r = s2sad_cli("show", "tests/golden_funcs.py:branch", "--mode", "value_and_grad")
    assert r.returncode == 0, r.stderr
    assert "def branch_value_and_grad(" in r.stdout


def test_export(tmp_path):
    out = tmp_path / "loop_grad.py"
    r = s2sad_cli("export", "tests/golden_funcs.py:for_loop", "--wrt", "0,1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "_rt = _load_runtime()" in out.read_text() and (tmp_path / "_s2sad_rt" / "__init__.py").is_file()
    assert "importing golden_funcs.py (its top-level code runs)" in r.stderr
    r = s2sad_cli("export", "tests/golden_funcs.py:for_loop", "--wrt", "0,1", "-o", str(tmp_path / "b.py"),
                  "--runtime", "import")
    assert r.returncode == 0, r.stderr
    assert "import s2sad_runtime as _rt" in (tmp_path / "b.py").read_text()


def test_s2sad_error_is_one_message_exit_1():
    r = s2sad_cli("show", "tests/error_funcs.py:try_statement")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "s2sad: importing error_funcs.py (its top-level code runs)"
    assert lines[1].endswith("(in try_statement): cannot differentiate a `try` statement")
    assert lines[-1].startswith("hint: ")


@pytest.mark.parametrize("args,expected", [
    (["show", "tests/golden_funcs.py:no_such_function"], "defines no 'no_such_function'"),
    (["show", "tests/no_such_file.py:f"], "no such file"),
    (["show", "tests/golden_funcs.py"], "expected path/to/file.py:function"),
    (["show", "tests/golden_funcs.py:mlp", "--wrt", "nope"], "has no parameter 'nope'"),
])
def test_bad_command_lines(args, expected):
    r = s2sad_cli(*args)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert expected in r.stderr


def test_missing_command_is_a_usage_error():
    r = s2sad_cli()
    assert r.returncode == 2
    assert "usage: s2sad" in r.stderr


def test_parse_wrt():
    assert parse_wrt("0") == 0
    assert parse_wrt("0,1") == (0, 1)
    assert parse_wrt("W, b") == ("W", "b")
    assert parse_wrt("x") == "x"
    assert parse_wrt("1,b") == (1, "b")


def test_demo():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "s2sad", "demo"], capture_output=True, text=True, cwd=ROOT,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("OK")


def test_main_entry_point(capsys):
    from s2sad.__main__ import main
    assert main(["show", str(HERE / "golden_funcs.py") + ":keywords"]) == 0
    assert "def keywords_grad(" in capsys.readouterr().out
