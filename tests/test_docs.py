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
