import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import s2sad.api  # noqa: E402

# a planned variant that disagrees with the generic code fails the test
s2sad.api.PLAN_STRICT = True


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "s2sad differential fuzzer (tests/fuzz)")
    group.addoption("--fuzz-n", type=int, default=None,
                    help="number of random programs of tests/fuzz/test_fuzz.py (default 30; "
                         "--fuzz-n 10000 is the long mode)")
    group.addoption("--fuzz-seed", type=int, default=0, help="first seed of the fuzz batch (default 0)")
    group.addoption("--fuzz-jobs", type=int, default=None, help="worker processes of the fuzz batch (default: 2)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running tests, skipped unless selected with -m slow")
