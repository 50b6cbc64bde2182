"""Every saved regression case of the fuzzer (``corpus/*.py``, written by
``python bench/fuzz.py --save``) through the full checks.  A case documents a
failure the compiler showed when it was found; it passes once the compiler
is fixed (a refusal, an ``S2SadError``, also passes)."""

from __future__ import annotations

import glob
import os

import pytest

from fuzz.checks import describe, run_checks
from fuzz.program import CORPUS_DIR, load_corpus
from fuzz.runner import program_text

CASES = sorted(glob.glob(os.path.join(CORPUS_DIR, "*.py")))


@pytest.mark.parametrize("path", CASES, ids=[os.path.splitext(os.path.basename(c))[0] for c in CASES])
def test_corpus_case(path):
    p = load_corpus(path)
    res = run_checks(p)
    assert not res.failed, (f"{os.path.basename(path)} fails (it showed: {p.expect})\n"
                            f"{describe(res)}\n\n{program_text(p)}")
