"""``s2sad.export``: a generated function written as a module that runs
without s2sad.

The module imports NumPy and whatever the differentiated code imports.  The
run-time helpers it calls (``_rt.<name>``) come from a copy of the runtime
package written beside it, ``_s2sad_rt/`` (plain Python over NumPy, about
300 KB), so the module runs where only NumPy is installed.  With
``runtime="import"`` no copy is written and the module imports the installed
``s2sad_runtime`` instead.  Source locations in the module name files by
their base name, not by where they lay on the exporting machine."""

from __future__ import annotations

import os
import shutil
import types

import numpy as np

import s2sad_runtime
from s2sad import emit
from s2sad.errors import ArgumentError, S2SadError
from s2sad.ir import nodes as N
from s2sad.ir.visit import head_exprs, iter_stmts, walk

RUNTIME_DIR = "_s2sad_rt"

# how the exported module finds the runtime: the copy beside it, under its
# own package name (so an installed s2sad_runtime of another version is not
# touched); without the copy, the installed package
_LOAD_COPY = f'''

def _load_runtime():
    """The s2sad runtime copied beside this file (or the installed one)."""
    import importlib.util
    import os
    import sys
    if "{RUNTIME_DIR}" in sys.modules:
        return sys.modules["{RUNTIME_DIR}"]
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "{RUNTIME_DIR}")
    if not os.path.isfile(os.path.join(here, "__init__.py")):
        import s2sad_runtime
        return s2sad_runtime
    spec = importlib.util.spec_from_file_location("{RUNTIME_DIR}", os.path.join(here, "__init__.py"),
                                                  submodule_search_locations=[here])
    module = importlib.util.module_from_spec(spec)
    sys.modules["{RUNTIME_DIR}"] = module
    spec.loader.exec_module(module)
    return module


_rt = _load_runtime()'''


def export(df, path, args=None, *, runtime="copy"):
    """Write ``df``'s generated code (``df`` from ``grad``, ``jvp``...) as a
    module that needs neither s2sad nor gast.

    ``runtime="copy"`` (default) also writes the runtime helpers into a
    folder ``_s2sad_rt`` beside ``path``, so the module needs only NumPy;
    ``runtime="import"`` writes the module alone, importing the installed
    ``s2sad_runtime``.  ``args``: example arguments, for a gradient that was
    never called (the code is specialised on argument types).  Returns
    ``path``."""
    if runtime not in ("copy", "import"):
        raise ArgumentError(f"export(runtime={runtime!r}): expected 'copy' or 'import'",
                            hint="'copy' writes the runtime beside the module; 'import' uses the installed one")
    f = df._last or df.compiled(args)
    if getattr(df, "backend", "python") != "python" and hasattr(f, "_variants"):
        text = _compiled_module(f, args, runtime)
        with open(path, "w") as fh:
            fh.write(text)
        if runtime == "copy":
            copy_runtime(os.path.dirname(os.path.abspath(path)))
        return path
    text = module_source(f.__s2sad_source__, f.__s2sad_ns__, _referenced(f.__s2sad_ir__), runtime)
    with open(path, "w") as fh:
        fh.write(text)
    if runtime == "copy":
        copy_runtime(os.path.dirname(os.path.abspath(path)))
    return path


def _data_name(e):
    return getattr(e, "name", None) or getattr(e, "attr", "?")


class _Values:
    def __init__(self, values):
        self.values = values


def _compiled_module(nf, args, runtime):
    """The module of a Numba-backend gradient: the lowered code Numba
    compiles (``df.compiled_source``), its helpers imported from the
    runtime's ``numba_helpers``, compiled by ``numba.njit`` on import."""
    from s2sad.backends.numba_backend import _typeof_key
    from s2sad.ir import render
    v = nf._variant(_typeof_key(args), args) if args is not None else \
        next((x for x in reversed(list(nf._variants.values())) if type(x) is not str), None)
    if v is None or type(v) is str:
        why = v if type(v) is str else "no signature has been compiled yet"
        raise S2SadError(f"cannot export the compiled code: {why}",
                         hint="pass args= of a signature the numba backend compiles, or export the Python code "
                              "(a gradient made with backend='python')")
    low = getattr(v, "low", None)
    if low is None:         # a function with checkpointed loops: their step and one-step adjoint are compiled
        raise S2SadError("cannot export the compiled code: only its checkpointed loops are compiled (the schedule "
                         "driver and the code around them run as Python)",
                         hint="export the Python code (a gradient made with backend='python')")
    if low.data:
        raise S2SadError(
            "cannot export the compiled code: it reads outside data (globals or closure values: "
            f"{', '.join(_data_name(e) for e in low.data_exprs)}), which it takes as parameters at each call",
            hint="pass them to the function as arguments, or export the Python code (backend='python')")
    values = dict(low.globals, _rt=s2sad_runtime)
    name = low.fdef.name
    source = render.source(low.fdef) + f"\n\n{name} = _numba.njit(cache=True, boundscheck=True)({name})\n"
    return module_source(source, _Values(values), set(values), runtime, needs="numba, numpy",
                         imports=["import numba as _numba"])


def copy_runtime(folder):
    """Copy the runtime package's modules into ``folder/_s2sad_rt``
    (replacing an older copy there)."""
    src = os.path.dirname(os.path.abspath(s2sad_runtime.__file__))
    dst = os.path.join(folder, RUNTIME_DIR)
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    return dst


def module_source(source: str, ns: emit.Namespace, used_names, runtime="copy", needs="numpy", imports=()) -> str:
    """The module: the imports the generated code needs (NumPy, the runtime,
    whatever the user's code references) and the code."""
    where = (f"the runtime copied beside it ({RUNTIME_DIR}/)" if runtime == "copy"
             else "the installed s2sad_runtime")
    lines = [f'"""Generated by s2sad; needs {needs} and {where}',
             '(plus the modules the differentiated code itself imports)."""', *imports]
    tail = []
    for name in sorted(used_names):
        if name not in ns.values:
            continue
        obj = ns.values[name]
        if obj is s2sad_runtime:
            tail.append(_LOAD_COPY if runtime == "copy" else "import s2sad_runtime as _rt")
            continue
        mod = getattr(obj, "__module__", None) or ""
        if runtime == "copy" and (mod == "s2sad_runtime" or mod.startswith("s2sad_runtime.")) \
                and not isinstance(obj, types.ModuleType):
            # a runtime object named directly: taken from the same copy
            sub = mod[len("s2sad_runtime"):]
            tail.append(f"{name} = importlib.import_module(_rt.__name__ + {sub!r}).{obj.__qualname__}")
            if "import importlib" not in lines:
                lines.append("import importlib")
            continue
        line = _import_line(name, _portable(obj))
        if line is False:
            raise S2SadError(
                f"cannot export: the generated code refers to `{name}` = {type(obj).__name__} object, "
                "which cannot be written as an import or a literal",
                hint="make it a module-level function or constant, or pass it as an argument")
        if line:
            lines.append(line)
    tail.sort(key=lambda t: "def _load_runtime" not in t and not t.startswith("import s2sad_runtime"))  # runtime first
    return "\n".join(lines + tail) + "\n\n\n" + source


def _portable(obj):
    """A source location (file, line, text, ...) names its file by base
    name: absolute paths of the exporting machine stay out of the module."""
    if (isinstance(obj, tuple) and obj and isinstance(obj[0], str) and len(obj) == 6
            and (os.sep in obj[0] or "/" in obj[0])):
        return (os.path.basename(obj[0]),) + obj[1:]
    return obj


def _import_line(name, obj):
    if isinstance(obj, types.ModuleType):
        if obj.__name__ == name:
            return f"import {name}"
        if "." in obj.__name__ and obj.__name__.rsplit(".", 1)[1] == name:
            return f"from {obj.__name__.rsplit('.', 1)[0]} import {name}"
        return f"import {obj.__name__} as {name}"
    if isinstance(obj, (bool, int, float, complex, str, type(None))):
        return f"{name} = {obj!r}"
    if isinstance(obj, tuple) and all(isinstance(v, (bool, int, float, str, type(None))) for v in obj):
        return f"{name} = {obj!r}"
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if isinstance(obj, np.ufunc):
        mod, qual = "numpy", obj.__name__
    if mod and qual and "<" not in qual:
        if mod == "builtins":
            return None if qual == name else f"{name} = {qual}"
        top = qual.split(".")[0]
        line = f"from {mod} import {top}"
        if top != name or "." in qual:
            line = f"import {mod} as _m_{name}\n{name} = _m_{name}.{qual}"
        return line
    return False


def _referenced(fdef):
    """Namespace names a generated function refers to."""
    out = set()
    for st in iter_stmts([fdef], defs=True):
        for e in head_exprs(st):
            out.update(x.name for x in walk(e) if isinstance(x, N.Static))
        if isinstance(st, N.FunctionDef):
            for d in st.defaults:
                out.update(x.name for x in walk(d) if isinstance(x, N.Static))
    return out
