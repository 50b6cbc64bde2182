"""The ``s2sad`` command line.

    python -m s2sad show path/to/model.py:loss --wrt 0,1
    python -m s2sad show path/to/model.py:loss --wrt W,b --mode value_and_grad
    python -m s2sad export path/to/model.py:loss --wrt 0 -o loss_grad.py
    python -m s2sad demo

``show`` prints the adjoint s2sad generates for a function in a file;
``export`` writes it as a standalone module (see :func:`s2sad.export`),
with the runtime copied beside it unless ``--runtime import``.  Both
import the file to find the function, so its top-level code runs (they say
so on stderr); keep a script's work under ``if __name__ == "__main__":``.
``demo`` runs the quick-start example.  Errors s2sad raises on purpose
(:class:`s2sad.S2SadError`) print their message to stderr and exit with
status 1, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import numpy as np

MODES = ("grad", "value_and_grad", "vjp")


class UsageError(Exception):
    """A bad command line (not an s2sad error): printed as one line, exit 1."""


def parse_wrt(text):
    """``"0"`` -> 0, ``"0,1"`` -> (0, 1), ``"W,b"`` -> ("W", "b"); one item
    gives a single gradient, several give a tuple."""
    items = [t.strip() for t in text.split(",")]
    if not items or any(not t for t in items):
        raise UsageError(f"--wrt {text!r}: expected indices or parameter names separated by commas")
    vals = []
    for t in items:
        try:
            vals.append(int(t))
        except ValueError:
            if not t.isidentifier():
                raise UsageError(f"--wrt {text!r}: {t!r} is neither an index nor a parameter name") from None
            vals.append(t)
    return vals[0] if len(vals) == 1 else tuple(vals)


def load_function(spec):
    """Import ``path/to/file.py:name`` (``name`` may be dotted:
    ``Class.method``) and return the function."""
    path, sep, qualname = spec.rpartition(":")
    if not sep or not path or not qualname:
        raise UsageError(f"{spec!r}: expected path/to/file.py:function")
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise UsageError(f"{spec}: no such file {path}")
    modname = os.path.splitext(os.path.basename(path))[0]
    # the file's folder goes first on sys.path so it can import its neighbours
    sys.path.insert(0, os.path.dirname(path))
    print(f"s2sad: importing {os.path.basename(path)} (its top-level code runs)", file=sys.stderr)
    mspec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(mspec)
    sys.modules.setdefault(modname, module)
    mspec.loader.exec_module(module)
    obj = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"{spec}: {os.path.basename(path)} defines no {qualname!r}") from None
    return obj


def _transform(args):
    import s2sad
    fn = load_function(args.target)
    return getattr(s2sad, args.mode)(fn, wrt=parse_wrt(args.wrt))


def cmd_show(args):
    df = _transform(args)
    sys.stdout.write(df.source)
    return 0


def cmd_export(args):
    import s2sad
    df = _transform(args)
    s2sad.export(df, args.output, runtime=args.runtime)
    extra = " and the runtime beside it (_s2sad_rt/)" if args.runtime == "copy" else ""
    print(f"wrote {args.output}{extra}", file=sys.stderr)
    return 0


def cmd_demo(args):
    """Run examples/quickstart.py when this is a source checkout; otherwise
    (an installed copy without the examples) a small built-in demo."""
    here = os.path.dirname(os.path.abspath(__file__))
    qs = os.path.join(os.path.dirname(here), "examples", "quickstart.py")
    if os.path.isfile(qs):
        spec = importlib.util.spec_from_file_location("s2sad_quickstart", qs)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        module.main()
        return 0
    return _builtin_demo()


def demo_loss(W, b, X, y):
    h = np.tanh(X @ W + b)
    return 0.5 * np.mean((h - y) ** 2)


def _builtin_demo():
    import s2sad
    rng = np.random.default_rng(0)
    W, b, X, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    df = s2sad.grad(demo_loss, wrt=0)
    s2sad.show(df)
    g = df(W, b, X, y)
    eps, fd = 1e-6, np.zeros_like(W)
    for i in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[i] += eps
        Wm[i] -= eps
        fd[i] = (demo_loss(Wp, b, X, y) - demo_loss(Wm, b, X, y)) / (2 * eps)
    err = float(np.max(np.abs(g - fd)))
    print(f"max error against finite differences = {err:.2e}")
    if not err < 1e-6:
        print("FAILED", file=sys.stderr)
        return 1
    print("OK")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="s2sad", description="Source-to-source automatic differentiation "
                                "for numeric Python: print or export the adjoint code of a function.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{show,export,demo}")

    def common(sp):
        sp.add_argument("target", metavar="FILE.py:FUNCTION",
                        help="the function to differentiate; FILE.py is imported, so its top-level code runs")
        sp.add_argument("--wrt", default="0", help="argument(s) to differentiate: an index (0), several "
                        "(0,1) or parameter names (W,b); default 0")
        sp.add_argument("--mode", choices=MODES, default="grad", help="the transform (default grad)")

    sp = sub.add_parser("show", help="print the generated adjoint of FILE.py:FUNCTION")
    common(sp)
    sp.set_defaults(run=cmd_show)
    sp = sub.add_parser("export", help="write the generated adjoint as a standalone module")
    common(sp)
    sp.add_argument("-o", "--output", required=True, help="the .py file to write")
    sp.add_argument("--runtime", choices=("copy", "import"), default="copy",
                    help="copy: write the runtime helpers beside the module, so it needs only NumPy (default); "
                    "import: the module imports the installed s2sad_runtime")
    sp.set_defaults(run=cmd_export)
    sp = sub.add_parser("demo", help="run the quick-start example")
    sp.set_defaults(run=cmd_demo)
    return p


def main(argv=None):
    """Entry point of ``python -m s2sad`` and of the ``s2sad`` script."""
    from s2sad.errors import S2SadError
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except S2SadError as e:
        print(str(e), file=sys.stderr)
        return 1
    except UsageError as e:
        print(f"s2sad: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `s2sad show ... | head`: the reader left early
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0

if __name__ == "__main__":
    sys.exit(main())
