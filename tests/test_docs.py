"""Every Python block of the docs is checked (issue #20: docs that cannot drift).

Each fenced ``python`` block of ``README.md`` and ``docs/*.md`` is exactly one
of the kinds below; the kind is given by the line just above the fence (an
HTML comment, invisible on the rendered page) or, for programs, by the code.
A block of no kind fails ``test_every_python_block_is_checked``.

1. **Program**: a block that imports s2sad or its runtime (a line starting
   ``import s2sad``, ``import s2sad_runtime``, ``from s2sad... import`` or
   ``from s2sad_runtime... import``).  It is a program a reader may save and
   run: it is written to ``example.py`` in an empty folder and run in a
   fresh process, and must exit cleanly.

2. **Continuation**: a block preceded by the line ::

       <!-- continues -->

   is appended to the page's previous program (and to that program's
   earlier continuations, in page order); the whole is run as one program,
   once.  A page can so build one example over several blocks with prose
   between them, each block showing only what is new.

3. **Generated code, in full**: a block preceded by ::

       <!-- s2sad-source: FILE :: EXPR -->

   must equal the real generated code of EXPR (see "EXPR" below).
   ``python tests/test_docs.py --regen`` rewrites these blocks after a
   deliberate change to the generated code.

4. **Excerpt**: a block preceded by ::

       <!-- s2sad-excerpt: FILE :: EXPR -->     (generated code of EXPR)
       <!-- s2sad-excerpt: FILE -->             (the repository file FILE)

   shows some lines of the real text, possibly annotated.  Every non-blank
   line of the block, except lines that are just ``...`` (an elision), must
   be a line of the real text (compared after removing trailing blanks,
   indentation included), and the lines must come in the same order (other
   real lines may lie between them).  A shown line that is not a real line
   as it stands may end in an annotation: it then matches when the part
   before one of its `` #`` is a real line (that part must not be blank).
   So any change to a shown statement, or to the order of shown statements,
   fails the test; annotations do not.  ``--regen`` cannot rewrite an
   excerpt: it prints the first stale line of each.

5. **Sketch**: a block preceded by ::

       <!-- s2sad-sketch -->

   is a signature or pattern with placeholders (``fn``, ``...``) that cannot
   run.  It must compile, must use the s2sad API (a name ``s2sad.X``), and
   every ``s2sad.X.Y...`` attribute chain in it must exist in the installed
   s2sad.

**EXPR** (kinds 3 and 4): FILE is a block of the same page whose first line
is ``# FILE``, or a path from the repository root.  It is run as a script
(``__main__``, output discarded) in an empty folder under its base name, so
that the generated comments name it, and EXPR is evaluated in its globals
plus ``s2sad`` and ``called(f, *args)``, which calls ``f(*args)`` and returns
``f``: a gradient function's ``.source`` after a call is the code
specialised to those arguments, the code that ran.  The real text is EXPR's
value if it is a string (``df.planned_source``), otherwise its ``.source``.
All markers of one page are evaluated in one fresh process
(``python tests/test_docs.py --emit PAGE OUT``), each FILE run once, so that
what the examples import and register stays out of the test process.
"""

import ast
import collections
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
# the environment of the processes that run the examples: no plot windows, and
# one BLAS thread (on a busy 2-core machine BLAS threads contend: an LSTM
# gradient of 0.2 s took 7 s)
ENV = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

Block = collections.namedtuple("Block", "page line marker code")

_FENCE = re.compile(r"```python\n(.*?)```", re.S)
_COMMENT = re.compile(r"<!--\s*(.*?)\s*-->\s*$")
_PROGRAM = re.compile(r"^(import|from)\s+s2sad(_runtime)?\b", re.M)
_SPEC = re.compile(r"s2sad-(source|excerpt):\s*(\S+)(?:\s*::\s*(.+))?$")


def _rel(path):
    return os.path.relpath(path, ROOT)


def _blocks(page):
    """The ``python`` blocks of a page, with the line of their fence and the
    HTML comment on the line just above it ('' when there is none)."""
    text = open(page, encoding="utf-8").read()
    out = []
    for m in _FENCE.finditer(text):
        above = text[:m.start() - 1].rsplit("\n", 1)[-1] if m.start() else ""   # the line just above
        c = _COMMENT.match(above.strip())
        out.append(Block(page, text.count("\n", 0, m.start()) + 1, c.group(1) if c else "", m.group(1)))
    return out


def _kind(b):
    """'program', 'continues', 'source', 'excerpt', 'sketch', or None (unchecked)."""
    if b.marker == "continues":
        return "continues"
    if b.marker == "s2sad-sketch":
        return "sketch"
    m = _SPEC.match(b.marker)
    if m and (m.group(1) == "excerpt" or m.group(3)):
        return m.group(1)
    if b.marker.startswith("s2sad-"):
        return None                      # a misspelt or malformed marker is not silently a program
    return "program" if _PROGRAM.search(b.code) else None


def _spec(b):
    m = _SPEC.match(b.marker)
    return m.group(2), m.group(3)


def _all_blocks(kind):
    return [b for page in PAGES for b in _blocks(page) if _kind(b) == kind]


def _id(b):
    return f"{os.path.basename(b.page)}:{b.line}"


# --------------------------------------------------------------------------
# every block has a kind


def test_every_python_block_is_checked():
    bad = []
    for page in PAGES:
        program = False
        for b in _blocks(page):
            k = _kind(b)
            if k is None:
                bad.append(f"{_rel(page)}:{b.line}: neither a program (no `import s2sad`) nor marked "
                           f"continues / s2sad-source / s2sad-excerpt / s2sad-sketch"
                           + (f" (unknown marker {b.marker!r})" if b.marker.startswith("s2sad-") else ""))
            elif k == "continues" and not program:
                bad.append(f"{_rel(page)}:{b.line}: `<!-- continues -->` with no program before it on the page")
            program = program or k == "program"
    assert not bad, "unchecked python blocks in the docs:\n" + "\n".join(bad)


# --------------------------------------------------------------------------
# programs, with their continuations

def _programs():
    out = []
    for page in PAGES:
        chain = None
        for b in _blocks(page):
            k = _kind(b)
            if k == "program":
                chain = [b]
                out.append(chain)
            elif k == "continues" and chain is not None:
                chain.append(b)
    return out


PROGRAMS = _programs()


def test_docs_have_examples():
    assert len(PROGRAMS) >= 15
    assert sum(len(c) > 1 for c in PROGRAMS) >= 1


@pytest.mark.parametrize("chain", PROGRAMS, ids=[_id(c[0]) + (f"+{len(c) - 1}" if len(c) > 1 else "")
                                                 for c in PROGRAMS])
def test_doc_example_runs(chain, tmp_path):
    script, starts = "", []
    for b in chain:
        starts.append((script.count("\n") + 1, b))
        script += b.code
    if re.search(r"^(import dask|from distributed)", script, re.M) and (
            importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None):
        pytest.skip("a Dask example needs the dask extra (.ci/run's dask step runs it)")
    (tmp_path / "example.py").write_text(script, encoding="utf-8")
    r = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=ENV)
    if r.returncode != 0:
        where = ""
        lines = re.findall(r'File ".*example\.py", line (\d+)', r.stderr)
        if lines:
            n = int(lines[-1])
            first, b = [s for s in starts if s[0] <= n][-1]
            where = f" at {_rel(b.page)}:{b.line + 1 + n - first}"
        pytest.fail(f"example of {_rel(chain[0].page)}:{chain[0].line} failed{where}\n"
                    f"--- stderr ---\n{r.stderr[-3000:]}")


# --------------------------------------------------------------------------
# generated code and excerpts

def _called(f, *args, **kwargs):
    f(*args, **kwargs)
    return f


def _run_file(page, fname, folder):
    """Run FILE as a script in ``folder`` under its base name; its globals."""
    import contextlib
    import io
    import runpy
    mine = [b.code for b in _blocks(page) if b.code.startswith(f"# {fname}\n")]
    src = mine[0] if mine else open(os.path.join(ROOT, fname), encoding="utf-8").read()
    os.makedirs(folder)
    script = os.path.join(folder, os.path.basename(fname))
    with open(script, "w", encoding="utf-8") as fh:
        fh.write(src)
    sys.path.insert(0, folder)
    old = os.getcwd()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(io.StringIO()):
            return runpy.run_path(script, run_name="__main__")
    finally:
        os.chdir(old)


def _emit(page, out_path):
    """Write the real text of every s2sad-source / s2sad-excerpt block of
    ``page``, in page order, to ``out_path`` as JSON (a list of
    ``{"text": ...}`` or ``{"error": traceback}``).  Runs in its own process."""
    import shutil
    import tempfile
    import traceback
    top = tempfile.mkdtemp(prefix="s2sad_docs_")
    files, values, out = {}, {}, []
    try:
        for b in _blocks(page):
            if _kind(b) not in ("source", "excerpt"):
                continue
            fname, expr = _spec(b)
            try:
                if expr is None:
                    text = open(os.path.join(ROOT, fname), encoding="utf-8").read()
                else:
                    if fname not in files:
                        try:
                            files[fname] = _run_file(page, fname, os.path.join(top, str(len(files))))
                        except Exception:  # noqa: BLE001 - reported for every marker of that FILE
                            files[fname] = f"running {fname} failed:\n{traceback.format_exc()}"
                    if isinstance(files[fname], str):
                        raise RuntimeError(files[fname])
                    if (fname, expr) not in values:        # several excerpts of one function
                        import s2sad
                        value = eval(expr, dict(files[fname], s2sad=s2sad, called=_called))
                        values[fname, expr] = value if isinstance(value, str) else value.source
                    text = values[fname, expr]
                out.append({"text": text.rstrip() + "\n"})
            except Exception:  # noqa: BLE001 - the test shows it
                out.append({"error": traceback.format_exc()})
    finally:
        shutil.rmtree(top, ignore_errors=True)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


_REAL = {}


def _real_texts(page, tmp_dir):
    """The real texts of the markers of ``page`` (one fresh process per page, cached)."""
    if page not in _REAL:
        out = os.path.join(tmp_dir, "real.json")
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--emit", page, out],
                           cwd=tmp_dir, capture_output=True, text=True, timeout=300, env=ENV)
        assert r.returncode == 0, f"evaluating the markers of {_rel(page)} failed:\n{r.stderr[-3000:]}"
        with open(out, encoding="utf-8") as fh:
            _REAL[page] = json.load(fh)
    return _REAL[page]


def _real_of(b, tmp_dir):
    marked = [x for x in _blocks(b.page) if _kind(x) in ("source", "excerpt")]
    real = _real_texts(b.page, tmp_dir)[marked.index(b)]
    assert "error" not in real, f"{_rel(b.page)}:{b.line}: {b.marker}\n{real.get('error')}"
    return real["text"]


def _annotation_free(line):
    """``line`` and the parts of it before each `` #``, longest first."""
    yield line
    for i in reversed([m.start() for m in re.finditer(r" #", line)]):
        head = line[:i].rstrip()
        if head.strip():
            yield head


def _first_stale_line(shown, real):
    """The first line of the excerpt ``shown`` that is not found, in order, in
    ``real`` (see the module docstring); None when the excerpt is current."""
    lines = [x.rstrip() for x in real.splitlines()]
    pos = 0
    for line in shown.splitlines():
        line = line.rstrip()
        if not line.strip() or line.strip() == "...":
            continue
        for cand in _annotation_free(line):
            if cand in lines[pos:]:
                pos = lines.index(cand, pos) + 1
                break
        else:
            return line
    return None


def test_excerpt_rule():
    real = "def f(x):\n    y = x * 2  # real comment\n    z = y + 1\n    return z\n"
    assert _first_stale_line("    y = x * 2  # real comment\n    ...\n    return z   # the result\n", real) is None
    assert _first_stale_line("    z = y + 1\n    y = x * 2  # real comment\n", real) == "    y = x * 2  # real comment"
    assert _first_stale_line("    z = y + 2   # annotated\n", real) == "    z = y + 2   # annotated"
    assert _first_stale_line("z = y + 1\n", real) == "z = y + 1"                # indentation counts
    assert _first_stale_line("    # a comment the code does not have\n", real) is not None


SOURCES = _all_blocks("source")
EXCERPTS = _all_blocks("excerpt")


def test_docs_show_generated_code():
    assert len(SOURCES) >= 3
    assert len(EXCERPTS) >= 8


@pytest.mark.parametrize("block", SOURCES, ids=[_id(b) for b in SOURCES])
def test_generated_code_in_docs_is_current(block, tmp_path):
    real = _real_of(block, str(tmp_path))
    assert block.code == real, (f"{_rel(block.page)}:{block.line} shows stale generated code for "
                                f"{_spec(block)[1]} (python tests/test_docs.py --regen rewrites it)")


@pytest.mark.parametrize("block", EXCERPTS, ids=[_id(b) for b in EXCERPTS])
def test_excerpt_in_docs_is_current(block, tmp_path):
    if 'backend="numba"' in block.marker and importlib.util.find_spec("numba") is None:
        pytest.skip("the Numba backend's code needs the numba extra (.ci/run's numba step checks it)")
    shown = [x for x in block.code.splitlines() if x.strip() and x.strip() != "..."]
    assert shown, f"{_rel(block.page)}:{block.line}: an empty excerpt"
    stale = _first_stale_line(block.code, _real_of(block, str(tmp_path)))
    fname, expr = _spec(block)
    assert stale is None, (f"{_rel(block.page)}:{block.line}: this line of the excerpt is not in "
                           f"{expr or fname} (or not in this order): {stale!r}")


# --------------------------------------------------------------------------
# sketches

SKETCHES = _all_blocks("sketch")


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id] + parts[::-1] if isinstance(node, ast.Name) else []


@pytest.mark.parametrize("block", SKETCHES, ids=[_id(b) for b in SKETCHES])
def test_sketch_uses_real_api(block):
    import s2sad
    tree = ast.parse(block.code, f"{_rel(block.page)}:{block.line}")
    chains = [c for c in map(_dotted, ast.walk(tree)) if len(c) > 1 and c[0] == "s2sad"]
    assert chains, f"{_rel(block.page)}:{block.line}: a sketch that names no s2sad.X"
    for chain in chains:
        obj = s2sad
        for i, attr in enumerate(chain[1:], 1):
            assert hasattr(obj, attr), f"{_rel(block.page)}:{block.line}: no {'.'.join(chain[:i + 1])}"
            obj = getattr(obj, attr)


# --------------------------------------------------------------------------

def _regen():
    import tempfile
    for page in PAGES:
        marked = [b for b in _blocks(page) if _kind(b) in ("source", "excerpt")]
        if not marked:
            continue
        with tempfile.TemporaryDirectory() as d:
            real = _real_texts(page, d)
        text = open(page, encoding="utf-8").read()
        new = text
        for b, r in zip(marked, real):
            where = f"{_rel(page)}:{b.line}"
            if "error" in r:
                print(f"{where}: {b.marker}: failed\n{r['error']}")
            elif _kind(b) == "excerpt":
                stale = _first_stale_line(b.code, r["text"])
                if stale is not None:
                    print(f"{where}: stale excerpt (fix by hand): {stale!r}")
            elif b.code != r["text"]:
                old = f"<!-- {b.marker} -->\n```python\n{b.code}```"
                assert new.count(old) == 1, f"{where}: cannot locate the block"
                new = new.replace(old, f"<!-- {b.marker} -->\n```python\n{r['text']}```")
        if new != text:
            with open(page, "w", encoding="utf-8") as fh:
                fh.write(new)
            print("rewrote", _rel(page))


if __name__ == "__main__":
    if "--emit" in sys.argv:
        i = sys.argv.index("--emit")
        _emit(sys.argv[i + 1], sys.argv[i + 2])
    elif "--regen" in sys.argv:
        _regen()
    else:
        print("usage: python tests/test_docs.py --regen   (or --emit PAGE OUT)")


def test_the_rules_catalogue_in_docs_is_generated_from_the_table():
    """docs/rules_catalog.md's list of every rule is what s2sad.rules.catalog
    writes from the rule table (run ``python -m s2sad.rules.catalog
    --write`` after adding a rule); without SciPy its section is not
    compared."""
    import importlib.util
    from s2sad.rules import catalog
    with open(os.path.join(ROOT, "docs", "rules_catalog.md")) as fh:
        doc = fh.read()
    got = doc[doc.index(catalog.START) + len(catalog.START):doc.index(catalog.END)].strip("\n")
    want = catalog.markdown()

    def sections(text):
        return {part.split("\n", 1)[0]: part for part in ("\n" + text).split("\n### ")[1:]}
    g, w = sections(got), sections(want)
    if importlib.util.find_spec("scipy") is None:
        g = {k: v for k, v in g.items() if not k.startswith("scipy")}
    assert g == w, "docs/rules_catalog.md is out of date: run python -m s2sad.rules.catalog --write"
