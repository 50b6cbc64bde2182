"""Batches of fuzz programs: run them (optionally in worker processes),
shrink one program per distinct failure, and format the report.  Used by
``test_fuzz.py`` and ``bench/fuzz.py``."""

from __future__ import annotations

import collections
import multiprocessing
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass, field

from . import program as _program
from .checks import FAILURES, Check, check_signature, run_checks
from .gen import generate
from .shrink import shrink


@dataclass
class Outcome:
    seed: int
    outcome: str
    signature: str = ""
    category: str = ""
    detail: str = ""
    seconds: float = 0.0
    lines: int = 0
    checks: list = field(default_factory=list)     # [(name, status, kind, detail)]
    program: object = None                          # kept for failures only

    @property
    def failed(self):
        return self.outcome in FAILURES or self.outcome == "fuzzer error"

    def failure_signatures(self):
        """One signature per failing check (a program may show several bugs)."""
        out = []
        for c in self.checks:
            if c[1] == "fail" and check_signature(Check(*c)) not in out:
                out.append(check_signature(Check(*c)))
        return out or ([self.signature] if self.failed else [])

    def detail_of(self, signature):
        for c in self.checks:
            if c[1] == "fail" and check_signature(Check(*c)) == signature:
                return c[3].split("\n#")[0]
        return self.detail


def run_seed(seed, timeout=30.0):
    """Generate program ``seed`` and run every check on it."""
    t0 = time.perf_counter()
    try:
        p = generate(seed)
        res = run_checks(p, timeout=timeout)
    except Exception as e:  # noqa: BLE001 - a bug of the fuzzer: reported, not hidden
        return Outcome(seed, "fuzzer error", signature=f"fuzzer error: {type(e).__name__}: {e}",
                       detail=traceback.format_exc(), seconds=time.perf_counter() - t0)
    o = Outcome(seed, res.outcome, res.signature, res.category, res.detail, time.perf_counter() - t0,
                len(p.source.splitlines()), [(c.name, c.status, c.kind, c.detail) for c in res.checks])
    if o.failed or any(c.status == "fail" for c in res.checks):
        o.program = p
    return o


def _init_worker():
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C stops the parent, which ends the pool


def run_batch(seeds, jobs=1, timeout=30.0, progress=None):
    """Outcomes of ``seeds`` in seed order."""
    seeds = list(seeds)
    _program._tmpdir()          # one directory, shared with the workers
    out = []
    if jobs <= 1:
        for s in seeds:
            out.append(run_seed(s, timeout))
            if progress:
                progress(out[-1], len(out), len(seeds))
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs, initializer=_init_worker, maxtasksperchild=50) as pool:
            for o in pool.imap_unordered(_run_seed_default, [(s, timeout) for s in seeds], chunksize=1):
                out.append(o)
                if progress:
                    progress(o, len(out), len(seeds))
    return sorted(out, key=lambda o: o.seed)


def _run_seed_default(arg):
    return run_seed(*arg)


# ------------------------------------------------------------------ shrinking

@dataclass
class Reproducer:
    signature: str
    seeds: list
    program: object             # the shrunk program
    detail: str
    original_lines: int
    result: object = None


def _shrink_job(arg):
    sig, p, budget = arg
    try:
        q, r = shrink(p, sig, budget=budget)
    except Exception:  # noqa: BLE001 - keep the unshrunk program, say why
        q, r = p, None
        print(f"fuzz: shrinking {sig!r} failed:\n{traceback.format_exc()}", file=sys.stderr)
    return sig, q, r


def group_failures(outcomes):
    """signature -> the failing outcomes showing it (smallest program first)."""
    groups = collections.OrderedDict()
    for o in outcomes:
        if not o.failed and not any(c[1] == "fail" for c in o.checks):
            continue
        for sig in o.failure_signatures():
            groups.setdefault(sig, []).append(o)
    for sig in groups:
        groups[sig].sort(key=lambda o: o.lines)
    return groups


def shrink_failures(outcomes, budget=30.0, total_budget=None, jobs=1, primary_only=False):
    """One shrunk reproducer per distinct failure signature."""
    groups = group_failures(outcomes)
    if primary_only:
        groups = collections.OrderedDict((s, os_) for s, os_ in groups.items()
                                         if any(o.signature == s for o in os_))
    if total_budget is not None and groups:
        budget = min(budget, total_budget * max(jobs, 1) / len(groups))
    jobs_list = []
    for sig, os_ in groups.items():
        o = next((o for o in os_ if o.program is not None), None)
        if o is not None and not sig.startswith("fuzzer error"):
            jobs_list.append((sig, o.program, budget))
    done = {}
    if jobs > 1 and len(jobs_list) > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs, initializer=_init_worker, maxtasksperchild=5) as pool:
            for sig, q, r in pool.imap_unordered(_shrink_job, jobs_list):
                done[sig] = (q, r)
    else:
        for job in jobs_list:
            sig, q, r = _shrink_job(job)
            done[sig] = (q, r)
    reps = []
    for sig, os_ in groups.items():
        o = os_[0]
        q, r = done.get(sig, (o.program, None))
        detail = r.detail if r is not None else o.detail_of(sig)
        reps.append(Reproducer(sig, [x.seed for x in os_], q, detail, o.lines, r))
    return reps


def save_reproducers(reps, prefix="fuzz"):
    """One corpus file per distinct reproducer (failures of several checks
    often shrink to the same program)."""
    paths, seen = [], set()
    for rep in reps:
        if rep.program is None or rep.program.source in seen:
            continue
        seen.add(rep.program.source)
        slug = re.sub(r"[^a-z0-9]+", "_", rep.signature.lower()).strip("_")[:60]
        name = f"{prefix}_{slug}_s{rep.seeds[0]}"
        paths.append(_program.save_corpus(rep.program, f"{rep.signature}\n{rep.detail}", name))
    return paths


# -------------------------------------------------------------------- report

def program_text(p):
    """The interesting part of a program: helpers, globals and ``f``."""
    lines = [ln for ln in p.source.splitlines() if ln.strip() and not ln.startswith(("import ", "from "))]
    args = ", ".join(f"{nm}: {kind} {shape}" for nm, kind, shape, _ in p.params)
    extra = f"   # inputs {args}; wrt={p.wrt!r}"
    if p.global_change:
        extra += f"; then {p.global_change[0]} = {p.global_change[1]}"
    return "\n".join(lines) + "\n" + extra


def report(outcomes, reps=(), seconds=None, jobs=1, head="s2sad differential fuzzer"):
    n = len(outcomes)
    lines = []
    seeds = [o.seed for o in outcomes]
    span = f"seeds {min(seeds)}..{max(seeds)}" if seeds else "no seeds"
    lines.append(f"{head}: {n} programs ({span}), {jobs} job(s)" +
                 (f", {seconds:.1f} s" if seconds is not None else ""))
    counts = collections.Counter(o.outcome for o in outcomes)
    order = ["pass", "refusal", "inconclusive", *FAILURES, "fuzzer error"]
    lines.append("")
    lines.append(f"  {'outcome':22s} {'programs':>8s} {'share':>7s}")
    for k in order:
        if counts.get(k) or k in ("pass", "refusal", "inconclusive"):
            lines.append(f"  {k:22s} {counts.get(k, 0):8d} {100 * counts.get(k, 0) / max(n, 1):6.1f}%")
    nfail = sum(1 for o in outcomes if o.failed)
    lines.append(f"  {'failures (all kinds)':22s} {nfail:8d} {100 * nfail / max(n, 1):6.1f}%")
    # per check
    per = collections.defaultdict(collections.Counter)
    for o in outcomes:
        for name, status, kind, detail in o.checks:
            per[name][status] += 1
    if per:
        lines.append("")
        lines.append("  per check (programs):  " + "  ".join(f"{s:>12s}" for s in ("pass", "fail", "refusal",
                                                                                    "inconclusive")))
        for name in ("value", "struct", "grad", "repeat", "kept", "inputs", "out", "jvp", "hvp", "global",
                     "shape", "float32", "vmap", "backend", "timeout"):
            if per.get(name):
                c = per[name]
                lines.append(f"    {name:20s} " + "  ".join(f"{c.get(s, 0):12d}" for s in
                                                            ("pass", "fail", "refusal", "inconclusive")))
    refusals = collections.Counter(o.category for o in outcomes if o.outcome == "refusal")
    if refusals:
        tot = sum(refusals.values())
        lines.append("")
        lines.append(f"refusals by category ({tot} programs; share of refusals, of all programs):")
        for cat, k in refusals.most_common():
            lines.append(f"  {k:5d} {100 * k / tot:5.1f}% {100 * k / max(n, 1):5.1f}%  {cat}")
    check_ref = collections.Counter()
    for o in outcomes:
        for name, status, kind, detail in o.checks:
            if status == "refusal":
                check_ref[f"[{name}] {detail}"] += 1
    if check_ref:
        lines.append("")
        lines.append("refusals of single checks (the gradient itself worked):")
        for cat, k in check_ref.most_common():
            lines.append(f"  {k:5d}  {cat}")
    if reps:
        lines.append("")
        lines.append(f"failures: {len(reps)} distinct kind(s), one minimal reproducer each")
        for i, rep in enumerate(reps, 1):
            seeds = ", ".join(map(str, rep.seeds[:8])) + (" ..." if len(rep.seeds) > 8 else "")
            lines.append("")
            lines.append(f"[{i}] {rep.signature}")
            lines.append(f"    {len(rep.seeds)} program(s): seeds {seeds}")
            lines.append(f"    {rep.detail}")
            same = next((k for k, other in enumerate(reps[:i - 1], 1) if other.program is not None
                         and rep.program is not None and other.program.source == rep.program.source), None)
            if same is not None:
                lines.append(f"    reproducer: the same as [{same}]")
            elif rep.program is not None:
                shrunk = len(rep.program.source.splitlines())
                lines.append(f"    reproducer ({rep.original_lines} -> {shrunk} lines"
                             f"{'' if rep.result is not None else ', not shrunk'}):")
                lines.extend("      " + ln for ln in program_text(rep.program).splitlines())
    errs = [o for o in outcomes if o.outcome == "fuzzer error"]
    for o in errs[:3]:
        lines.append("")
        lines.append(f"FUZZER ERROR (seed {o.seed}):\n{o.detail}")
    return "\n".join(lines)


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
