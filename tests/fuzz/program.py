"""A fuzz program: its module source, its inputs, and how it is loaded and
saved as a regression case in ``corpus/``."""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import math
import os
import pprint
import shutil
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


@dataclass
class Program:
    source: str                     # the module text; the function is `f`
    params: list                    # [(name, "array" | "float", primary shape, alternative shape)]
    wrt: object                     # as passed to s2sad: an int, a name, or a tuple of them
    seed: int = 0
    global_change: tuple = None     # (global name, value the check switches to)
    gen_seed: int = None
    args: list = None               # inputs at the primary shapes
    alt_args: list = None           # inputs at the alternative shapes (None: none differs)
    expect: str = ""                # corpus cases: the failure they showed
    name: str = ""

    @property
    def names(self):
        return [p[0] for p in self.params]

    @property
    def wrt_idx(self):
        """The differentiated argument positions, in wrt order."""
        ws = self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)
        return [self.names.index(w) if isinstance(w, str) else w for w in ws]

    @property
    def single(self):
        return not isinstance(self.wrt, tuple)


def make_args(p, seed=None):
    """Inputs drawn from the program's seed: entries of magnitude in
    [0.2, 1] with a random sign (away from the kinks of abs and friends at 0)."""
    rng = np.random.default_rng(p.gen_seed if seed is None else seed)

    def draw(kind, shape):
        v = rng.uniform(0.2, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        return float(v) if kind == "float" else np.asarray(v, dtype=np.float64)
    p.args = [draw(kind, sh) for _, kind, sh, _ in p.params]
    if any(sh != alt for _, _, sh, alt in p.params):
        p.alt_args = [draw(kind, alt) for _, kind, _, alt in p.params]
    else:
        p.alt_args = None
    return p


def copy_args(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


# ------------------------------------------------------------------ modules

_TMP = None
_COUNTER = [0]


def _tmpdir():
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="s2sad_fuzz_")
        pid = os.getpid()
        atexit.register(lambda: os.getpid() == pid and shutil.rmtree(_TMP, ignore_errors=True))
    return _TMP


def load(p):
    """A fresh module object holding the program (new function objects each
    time, so no cache of s2sad is shared between two loads).  The source is
    written to a file: s2sad reads function source with ``inspect``."""
    h = hashlib.sha1(p.source.encode()).hexdigest()[:16]
    path = os.path.join(_tmpdir(), f"fz_{h}.py")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as fh:
            fh.write(p.source)
        os.replace(path + ".tmp", path)
    _COUNTER[0] += 1
    spec = importlib.util.spec_from_file_location(f"fz_{h}_{_COUNTER[0]}", path)
    mod = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        spec.loader.exec_module(mod)
    return mod


def call_plain(mod, args):
    """``f(*args)`` as plain Python on copies of the inputs, or raises."""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        return mod.f(*copy_args(args))


def _ok_value(v):
    if np.ndim(v) != 0 or isinstance(v, (bool, np.bool_)):
        return False
    try:
        v = float(v)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and abs(v) < 1e6


def plain_value(p):
    """The value of ``f`` as plain Python, or None when the program is not
    a valid fuzz program (it raises, or its value is not a finite scalar,
    at the primary inputs, the alternative shapes or the changed global)."""
    import warnings
    try:
        mod = load(p)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            v = call_plain(mod, p.args)
            if not _ok_value(v):
                return None
            if p.alt_args is not None and not _ok_value(call_plain(mod, p.alt_args)):
                return None
            if p.global_change is not None:
                setattr(mod, p.global_change[0], p.global_change[1])
                if not _ok_value(call_plain(mod, p.args)):
                    return None
    except Exception:  # noqa: BLE001 - any failure rejects the program
        return None
    return float(v)


# ------------------------------------------------------------------- corpus

def _lit(a):
    if isinstance(a, np.ndarray):
        return f"np.array({a.tolist()!r})"
    return repr(a)


def corpus_text(p, failure):
    """A self-contained regression module: the program, its inputs, and the
    failure it showed when it was found."""
    meta = {"params": p.params, "wrt": p.wrt, "seed": p.seed, "gen_seed": p.gen_seed,
            "global_change": p.global_change}
    shown = failure.replace("\\", "/").replace('"' * 3, "'" * 3)
    lines = [f'"""Fuzz regression case (seed {p.seed}).', "", "It showed:", "",
             *("    " + ln for ln in shown.splitlines()), "",
             "tests/fuzz/test_corpus.py runs it through every check of the fuzzer;",
             'it passes once the compiler is fixed."""', ""]
    src = p.source
    body = src.split("\n")
    # the program's own imports go first; the case data after it
    lines += body
    lines += ["", "# ---- fuzz case data (not part of the program) ----",
              "import numpy as np  # noqa: E402 (the program may not import it)",
              f"FUZZ_META = {pprint.pformat(meta, width=100, sort_dicts=False)}",
              f"FUZZ_ARGS = [{', '.join(_lit(a) for a in p.args)}]",
              f"FUZZ_ALT_ARGS = {('[' + ', '.join(_lit(a) for a in p.alt_args) + ']') if p.alt_args else 'None'}",
              f"FUZZ_EXPECT = {failure.splitlines()[0]!r}", ""]
    return "\n".join(lines)


def save_corpus(p, failure, name):
    os.makedirs(CORPUS_DIR, exist_ok=True)
    path = os.path.join(CORPUS_DIR, f"{name}.py")
    with open(path, "w") as fh:
        fh.write(corpus_text(p, failure))
    return path


def load_corpus(path):
    """The Program of a corpus file (its source is the whole file: the
    function, its helpers and globals, and the case data)."""
    with open(path) as fh:
        text = fh.read()
    ns = {"np": np}
    exec(compile(text.split("# ---- fuzz case data")[1].split("\n", 1)[1], path, "exec"), ns)
    meta = ns["FUZZ_META"]
    p = Program(source=text, params=[tuple(x) for x in meta["params"]], wrt=meta["wrt"], seed=meta["seed"],
                gen_seed=meta.get("gen_seed"), global_change=meta.get("global_change"))
    p.args = ns["FUZZ_ARGS"]
    p.alt_args = ns["FUZZ_ALT_ARGS"]
    p.expect = ns["FUZZ_EXPECT"]
    p.name = os.path.splitext(os.path.basename(path))[0]
    return p
