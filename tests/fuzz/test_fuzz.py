"""The differential fuzzer as a test: a fixed-seed batch of random programs
through every check (``checks.run_checks``).

* default: 16 programs (``--fuzz-n N``, ``--fuzz-seed S``, ``--fuzz-jobs J``);
* ``-m slow``: 300 programs;
* ``--fuzz-n 10000``: the long mode.

The test fails when any program fails, and prints the report with one
shrunk reproducer per distinct failure (save them into ``corpus/`` with
``python bench/fuzz.py --save``).
"""

from __future__ import annotations

import pytest

from fuzz import runner

DEFAULT_N = 16
SLOW_N = 300


def _jobs(config):
    j = config.getoption("--fuzz-jobs")
    return j if j else min(2, runner.cpu_count())


def _batch(config, n, seed, shrink_total):
    jobs = _jobs(config)
    # 60 s a program: the slowest of the CI batch (seed 100283: vmap and hvp
    # of a nested loop program) takes 12 s alone, and over 30 s on two cores
    # shared with other work; a hang still fails
    outcomes = runner.run_batch(range(seed, seed + n), jobs=jobs, timeout=60.0)
    if any(o.failed for o in outcomes):
        reps = runner.shrink_failures(outcomes, budget=30.0, total_budget=shrink_total, jobs=jobs,
                                      primary_only=True)
        pytest.fail(runner.report(outcomes, reps, jobs=jobs), pytrace=False)


def test_fuzz_batch(request):
    cfg = request.config
    n = cfg.getoption("--fuzz-n")
    # the default batch keeps its shrinking short (the run stays under 20 s)
    _batch(cfg, n or DEFAULT_N, cfg.getoption("--fuzz-seed"), shrink_total=None if n else 6.0)


@pytest.mark.slow
def test_fuzz_slow(request):
    cfg = request.config
    _batch(cfg, SLOW_N, cfg.getoption("--fuzz-seed") + 100_000, shrink_total=120.0)
