"""Every complete example in the docs runs.

A fenced ``python`` block of ``README.md`` or ``docs/*.md`` that imports
s2sad is a program a reader may save and run: it is run here, in a fresh
process and an empty directory, and must exit cleanly.  (Fragments that
continue an earlier block do not import s2sad and are left out.)
"""

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _blocks():
    out = []
    for path in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        text = open(path, encoding="utf-8").read()
        for k, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
            if re.search(r"^import s2sad\s*$", block, re.M):
                out.append(pytest.param(block, id=f"{os.path.basename(path)}-{k}"))
    return out


BLOCKS = _blocks()


def test_docs_have_examples():
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("block", BLOCKS)
def test_doc_example_runs(block, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, f"example failed:\n{block}\n--- stderr ---\n{r.stderr[-3000:]}"


# --------------------------------------------------------------------------
# Generated code shown in the docs is the compiler's real output.  A block
# preceded by the line
#
#     <!-- s2sad-source: FILE :: EXPR -->
#
# must equal ``(EXPR).source``, EXPR evaluated in the globals of FILE run as
# a script in an empty folder, under its base name (so the comments name
# it).  FILE is a block of the same page whose first line is ``# FILE``, or
# a path from the repository root.  After a deliberate change to the
# generated code, ``python tests/test_docs.py --regen`` rewrites the blocks.

_MARK = re.compile(r"<!-- s2sad-source: (\S+) :: (.+?) -->\n```python\n(.*?)```", re.S)


def _pages():
    return [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def _generated_blocks():
    out = []
    for path in _pages():
        text = open(path, encoding="utf-8").read()
        for m in _MARK.finditer(text):
            out.append(pytest.param(path, m.group(1), m.group(2), m.group(3),
                                    id=f"{os.path.basename(path)}:{m.group(2)}"))
    return out


def _real_source(page, fname, expr, folder):
    import contextlib
    import io
    import runpy
    text = open(page, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    mine = [b for b in blocks if b.startswith(f"# {fname}\n")]
    src = mine[0] if mine else open(os.path.join(ROOT, fname), encoding="utf-8").read()
    script = os.path.join(folder, os.path.basename(fname))
    with open(script, "w", encoding="utf-8") as fh:
        fh.write(src)
    sys.path.insert(0, folder)
    old = os.getcwd()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(io.StringIO()):
            ns = runpy.run_path(script, run_name="__main__")
        import s2sad
        return eval(expr, dict(ns, s2sad=s2sad)).source.rstrip() + "\n"
    finally:
        os.chdir(old)
        sys.path.remove(folder)


GENERATED = _generated_blocks()


def test_docs_show_generated_code():
    assert len(GENERATED) >= 3


@pytest.mark.parametrize("page, fname, expr, shown", GENERATED)
def test_generated_code_in_docs_is_current(page, fname, expr, shown, tmp_path):
    real = _real_source(page, fname, expr, str(tmp_path))
    assert shown == real, (f"{os.path.basename(page)} shows stale generated code for {expr} "
                           f"(python tests/test_docs.py --regen rewrites it)")


def _regen():
    import tempfile
    for path in _pages():
        text = open(path, encoding="utf-8").read()

        def fresh(m):
            with tempfile.TemporaryDirectory() as d:
                real = _real_source(path, m.group(1), m.group(2), d)
            return f"<!-- s2sad-source: {m.group(1)} :: {m.group(2)} -->\n```python\n{real}```"
        new = _MARK.sub(fresh, text)
        if new != text:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
            print("rewrote", os.path.relpath(path, ROOT))


if __name__ == "__main__" and "--regen" in sys.argv:
    _regen()
