"""The differential fuzzer of s2sad, from the command line.

    python bench/fuzz.py --n 500 --jobs 2            # report on 500 programs
    python bench/fuzz.py --n 500 --jobs 2 --save     # also write the shrunk failures to tests/fuzz/corpus/
    python bench/fuzz.py --seed 1234 --n 1 --show    # one program: its source and every check

Random well-typed NumPy programs (tests/fuzz/gen.py) are differentiated by
s2sad and checked against the program run as plain Python and finite
differences (tests/fuzz/checks.py).  The report counts outcomes (pass,
refusal, inconclusive, and the failure kinds), refusals by message
category, results per check, and gives one shrunk reproducer per distinct
failure.  Exit status: 1 when any program failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# this script is bench/fuzz.py; the package `fuzz` is tests/fuzz
sys.path[0] = os.path.join(ROOT, "tests")

from fuzz import checks, gen, runner  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="programs to run (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per program before it is a timeout")
    ap.add_argument("--shrink-budget", type=float, default=30.0, help="seconds to shrink each distinct failure")
    ap.add_argument("--no-shrink", action="store_true", help="report the failing programs as generated")
    ap.add_argument("--all-failures", action="store_true",
                    help="one reproducer per failing check, not only per program outcome")
    ap.add_argument("--save", action="store_true", help="write the shrunk reproducers to tests/fuzz/corpus/")
    ap.add_argument("--show", action="store_true", help="print each program and its checks")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    ap.add_argument("--backend", action="append", default=[],
                    help="also check this backend against the Python one (numba; repeatable)")
    a = ap.parse_args(argv)
    if a.backend:
        os.environ["S2SAD_FUZZ_BACKENDS"] = ",".join(a.backend)
        if "S2SAD_CACHE_DIR" not in os.environ:      # compiled modules of throwaway programs
            import tempfile
            os.environ["S2SAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="s2sad-fuzz-")
        checks.BACKENDS[:] = a.backend

    if a.show:
        for s in range(a.seed, a.seed + a.n):
            p = gen.generate(s)
            print(f"# ---- seed {s}: inputs {p.params}, wrt={p.wrt!r}, global change {p.global_change}")
            print(p.source)
            print(checks.describe(checks.run_checks(p, timeout=a.timeout)))
        return 0

    t0 = time.perf_counter()
    last, nfail = [0.0], [0]

    def progress(o, k, n):
        nfail[0] += o.failed
        now = time.perf_counter()
        if not a.quiet and (k == n or now - last[0] > 2.0):
            last[0] = now
            print(f"\r  {k}/{n} programs, {nfail[0]} failing, {now - t0:.0f} s", end="" if k < n else "\n",
                  file=sys.stderr)
    outcomes = runner.run_batch(range(a.seed, a.seed + a.n), jobs=a.jobs, timeout=a.timeout, progress=progress)
    t_run = time.perf_counter() - t0
    reps = []
    if any(o.failed for o in outcomes):
        if a.no_shrink:
            reps = runner.shrink_failures(outcomes, budget=0.0, jobs=1, primary_only=not a.all_failures)
            for r in reps:
                r.result = None
        else:
            if not a.quiet:
                print("  shrinking the failures ...", file=sys.stderr)
            reps = runner.shrink_failures(outcomes, budget=a.shrink_budget, jobs=a.jobs,
                                          primary_only=not a.all_failures)
    total = time.perf_counter() - t0
    print(runner.report(outcomes, reps, seconds=t_run, jobs=a.jobs))
    print(f"\n(checks {t_run:.1f} s, shrinking {total - t_run:.1f} s)")
    if a.save and reps:
        for path in runner.save_reproducers(reps):
            print(f"saved {os.path.relpath(path, ROOT)}")
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
