"""The catalogue of derivative rules, generated from the rule table: the
table of every function in docs/rules_catalog.md, which therefore cannot
drift from what s2sad does.

    python -m s2sad.rules.catalog            # print the Markdown
    python -m s2sad.rules.catalog --write    # rewrite it in docs/rules_catalog.md

For each function: whether reverse mode differentiates it (or treats it as
constant), whether forward mode has a tangent for it, and whether its
derivative can be differentiated again (every helper and function its
adjoint calls has a rule), which ``hvp`` and ``grad(grad(...))`` need.
"""

from __future__ import annotations

import inspect
import os
import re
import sys

START, END = "<!-- rules-catalog:start -->", "<!-- rules-catalog:end -->"

_OPERATORS = {"Add": "`+`", "Sub": "`-`", "Mult": "`*`", "Div": "`/`", "Pow": "`**`", "Mod": "`%`",
              "USub": "unary `-`", "MatMult": "`@`", "copy": "copy", "subscript": "`x[...]`",
              "Compare": "comparisons", "BoolOp": "`and`/`or`", "Not": "`not`", "FloorDiv": "`//`",
              "Invert": "`~`", "BitAnd": "`&`", "BitOr": "`|`", "BitXor": "`^`", "LShift": "`<<`",
              "RShift": "`>>`"}

_SECTIONS = [("operators and attributes", None), ("numpy", "numpy"), ("numpy.linalg", "numpy.linalg"),
             ("numpy.random", "numpy.random"), ("math", "math"), ("builtins", "builtins"),
             ("scipy.special (when SciPy is installed)", "scipy.special"),
             ("scipy.stats (when SciPy is installed)", "scipy.stats"),
             ("scipy.linalg, scipy.signal (when SciPy is installed)", "scipy.linalg"), ("array methods", "method"),
             ("complex mode (its own rules, `s2sad/rules/complex_rules.py`)", "complex")]


def _all_rules():
    """(key, rule) of the default table, SciPy's included where it imports."""
    from s2sad.rules import DEFAULT_RULES, core
    try:
        import scipy.special  # noqa: F401 - registers SciPy's rules on the next miss
        __import__("scipy.stats")      # (and scipy.stats's, scipy.linalg's)
        __import__("scipy.linalg")
        __import__("scipy.signal")
        DEFAULT_RULES.lookup(_all_rules)
    except ImportError:
        pass
    out = dict(DEFAULT_RULES._rules)
    if core._LATE is not None:
        out.update({k: v for k, v in core._LATE._rules.items() if k not in out})
    return out


def _is_scipy(key):
    sp = sys.modules.get("scipy.special")
    name = getattr(key, "__name__", None)
    return sp is not None and name is not None and getattr(sp, name, None) is key


def _section(key, rule):
    if isinstance(key, str):
        return None
    mod = getattr(key, "__module__", None) or ""
    if rule.name.startswith("scipy.stats"):
        return "scipy.stats"
    if mod.startswith("numpy.linalg"):
        return "numpy.linalg"
    if mod.startswith("numpy.random") or rule.name.startswith("numpy.random"):
        return "numpy.random"
    if mod.startswith(("scipy.linalg", "scipy.signal")):
        return "scipy.linalg"
    if mod.startswith("scipy") or (_is_scipy(key) and not mod.startswith("numpy")):
        return "scipy.special"      # (scipy.special.sinc is np.sinc itself: NumPy's)
    if mod == "math":
        return "math"
    if mod == "builtins" or "." not in rule.name:
        return "builtins"
    return "numpy"


def _display(key, rule, section):
    if isinstance(key, str):
        shown = f"`x.{key[5:]}`" if key.startswith("attr.") else _OPERATORS.get(key, f"`{key}`")
        return shown.replace("|", "\\|")
    if section == "scipy.stats":
        return f"`{rule.name}`"
    name = getattr(key, "__name__", rule.name.rsplit(".", 1)[-1])
    if (getattr(key, "__module__", None) or "").startswith("numpy.fft"):
        return f"`np.fft.{name}`"
    if (getattr(key, "__module__", None) or "").startswith("scipy.signal"):
        return f"`scipy.signal.{name}`"
    prefix = {"numpy": "np.", "numpy.linalg": "np.linalg.", "numpy.random": "np.random.",
              "scipy.special": "scipy.special.", "scipy.linalg": "scipy.linalg.", "math": "math."}.get(section, "")
    return f"`{prefix}{name}`"


def _calls(template):
    """The helpers and library functions a template's body calls."""
    try:
        src = inspect.getsource(template)
    except (OSError, TypeError):
        return []
    body = src.split(":", 1)[1] if src.lstrip().startswith("def") else src
    return re.findall(r"\b(_rt|np|math|_sp)\.([A-Za-z_][\w.]*)\s*\(", body)


def _second_order(rule, table):
    """"yes"; "hvp" when a function its adjoint calls has a tangent rule but
    no adjoint (forward over reverse works, reverse over reverse is refused
    by name); or the first function its adjoint calls that has no rule."""
    import numpy as np
    import s2sad_runtime as rt
    mods = {"_rt": rt, "np": np, "math": __import__("math")}
    try:
        import scipy.special as sp
        mods["_sp"] = sp
    except ImportError:
        pass
    tangent_only = None
    for mod, attr in _calls(rule.template):
        obj = mods.get(mod)
        for part in attr.split("."):
            obj = getattr(obj, part, None)
        if obj is None or obj is np.broadcast_to:
            continue
        r = table.lookup(obj)
        shown = {"_rt": "s2sad_runtime", "_sp": "scipy.special"}.get(mod, mod)
        if r is None:
            return f"not yet (`{shown}.{attr}`)"
        if r.template is None and r.vjp is None and not r.nondiff and tangent_only is None:
            tangent_only = f"`{shown}.{attr}`"
    return f"hvp (not `grad(grad)`: {tangent_only})" if tangent_only else "yes"


_OPERATORS_ELEMENTWISE = {"Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "USub", "UAdd", "Invert", "BitAnd",
                          "BitOr", "BitXor", "LShift", "RShift", "Not", "Lt", "LtE", "Gt", "GtE", "Eq", "NotEq"}
_BATCH_KINDS = {"elementwise": "elementwise", "axis": "axis shifted", "direct": "as it is", "helper": "batched helper"}


def _batching(key, table, method=False):
    """How ``vmap`` batches the function: its batching rule's kind, or lane
    by lane when it has none."""
    from s2sad.rules import batch_rules
    if isinstance(key, str) and not method:
        if key in _OPERATORS_ELEMENTWISE:
            return "elementwise"
        if key.startswith("attr.") or key in ("subscript", "copy", "Compare"):
            return "batched"            # attributes, indexing, `x = y`: the transform's own cases
        if key == "BoolOp":
            return "masked (as `if`)"
        r = table.batch_rule(key)
    else:
        r = table.batch_rule("." + key) if method else batch_rules.lookup(table, key)
    if key is range:
        return "union of the lanes' ranges, masked"
    if r is None or r.kind == "loop":
        return "lane by lane"
    return _BATCH_KINDS.get(r.kind, "batched")


def entries():
    """Rows ``(section, function, reverse, forward, second order, vmap)``."""
    from s2sad.rules import DEFAULT_RULES
    rows = []
    for key, rule in _all_rules().items():
        if (getattr(key, "__module__", "") or "").startswith("s2sad"):
            continue            # rules of the runtime's own helpers: they make second order possible
        section = _section(key, rule)
        rows.append(_row(section, _display(key, rule, section), rule, DEFAULT_RULES)
                    + (_batching(key, DEFAULT_RULES),))
    for name, rule in DEFAULT_RULES._methods.items():
        rows.append(_row("method", f"`x.{name}()`", rule, DEFAULT_RULES) + (_batching(name, DEFAULT_RULES, True),))
    rows += _complex_rows(DEFAULT_RULES)
    order = {s: i for i, (_, s) in enumerate(_SECTIONS)}
    return sorted(set(rows), key=lambda r: (order.get(r[0], 99), r[1].lower()))


def _complex_rows(table):
    """The rules complex mode replaces or adds (docs/rules.md, complex
    numbers); second derivatives of complex functions are not done yet."""
    from s2sad.rules.complex_rules import complex_table
    ct = complex_table(table)
    rows = []
    for key, rule in ct._rules.items():
        if table._rules.get(key) is not rule:
            shown = _display(key, rule, _section(key, rule))
            rows.append(("complex",) + (shown,) + _row("complex", shown, rule, ct)[2:4]
                        + ("not yet (complex mode)", _batching(key, ct)))
    for name, rule in ct._methods.items():
        if table._methods.get(name) is not rule:
            rows.append(("complex", f"`x.{name}()`") + _row("complex", "", rule, ct)[2:4]
                        + ("not yet (complex mode)", _batching(name, ct, True)))
    return rows


def _row(section, shown, rule, table):
    if rule.nondiff:
        return (section, shown, "constant (zero derivative)", "constant", "yes")
    if rule.vjp is not None:
        return (section, shown, "yes (a run-time rule)", "no", "no")
    reverse = "yes" if rule.template is not None else "no (forward only)"
    forward = "yes" if rule.jvp is not None else "no"
    second = _second_order(rule, table) if rule.template is not None else "-"
    return (section, shown, reverse, forward, second)


def markdown():
    rows = entries()
    out = []
    for title, sec in _SECTIONS:
        mine = [r for r in rows if r[0] == sec]
        if not mine:
            continue
        out += [f"### {title}", "", "| function | reverse | forward | second order | vmap |",
                "| --- | --- | --- | --- | --- |"]
        out += [f"| {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in mine]
        out.append("")
    return "\n".join(out).rstrip("\n")


def write(path):
    doc = open(path).read()
    if START not in doc or END not in doc:
        raise SystemExit(f"{path} has no {START} ... {END} markers")
    new = doc[:doc.index(START) + len(START)] + "\n" + markdown() + "\n" + doc[doc.index(END):]
    with open(path, "w") as fh:
        fh.write(new)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        write(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "rules_catalog.md"))
    else:
        print(markdown())


if __name__ == "__main__":
    main()
