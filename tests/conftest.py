import os
import sys

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # one worker per core: BLAS threads of their own would spin against the
    # other workers (the suite ran 14% slower on 2 cores, matrix tests 10x).
    # Set before NumPy loads BLAS; the fuzz batch's processes inherit it.
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, "1")

sys.path.insert(0, os.path.dirname(__file__))

import s2sad.api  # noqa: E402

# a planned variant that disagrees with the generic code fails the test
s2sad.api.PLAN_STRICT = True


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "s2sad differential fuzzer (tests/fuzz)")
    group.addoption("--fuzz-n", type=int, default=None,
                    help="number of random programs of tests/fuzz/test_fuzz.py (default 16; "
                         "--fuzz-n 10000 is the long mode)")
    group.addoption("--fuzz-seed", type=int, default=0, help="first seed of the fuzz batch (default 0)")
    group.addoption("--fuzz-jobs", type=int, default=None, help="worker processes of the fuzz batch (default: 2)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running tests, skipped unless selected with -m slow")


def pytest_collection_modifyitems(config, items):
    if "slow" in (getattr(config.option, "markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="slow-marked: run with -m slow (as .ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
