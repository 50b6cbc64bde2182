"""Complex values on the differentiated path (complex mode, issue 16).

``has_complex_values`` decides whether a function is differentiated in
complex mode (a complex constant or global in its source; complex
arguments are seen by the caller).  ``check_complex`` follows which names
may hold complex values (a forward pass to a fixed point, flow-insensitive
and conservative: a name is complex if any of its assignments may be) and
refuses, at its line, an active statement that gives a complex value to a
function whose rule is not known to hold for complex values
(``s2sad.rules.complex_rules.COMPLEX_OK``).
"""

from __future__ import annotations

import builtins

import numpy as np

from s2sad.analysis.activity import forward_closure
from s2sad.errors import NoRuleError, error_at_loc
from s2sad.ir import nodes as N
from s2sad.ir.visit import head_exprs, is_static, iter_stmts, names, static_value, targets, walk
from s2sad.rules.complex_rules import COMPLEX_OK, COMPLEX_OK_METHODS, complex_table
from s2sad_runtime.core import is_complex

# functions whose result is complex for real arguments
_COMPLEX_RESULT = (np.fft.fft, np.fft.ifft, np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft,
                   np.fft.rfft2, np.fft.rfftn, np.fft.hfft, np.fft.ihfft, np.fft.irfft, np.linalg.eig,
                   np.linalg.eigvals)

# functions of complex values whose result is real: no complex value past them
_REAL_RESULT = ("attr.real", "attr.imag", np.abs, np.absolute, builtins.abs, np.real, np.imag, np.angle)


def complex_object(v):
    """A complex number, array or dtype (``1j``, a complex global, ``np.complex128``)."""
    if isinstance(v, (complex, np.complexfloating)):
        return True
    if isinstance(v, type) and issubclass(v, (complex, np.complexfloating)):
        return True
    if isinstance(v, np.dtype):
        return v.kind == "c"
    return getattr(getattr(v, "dtype", None), "kind", "") == "c" and hasattr(v, "shape")


def _complex_name(v):
    """A complex dtype written as a string (``"complex128"``)."""
    return isinstance(v, str) and v.startswith("complex")


def _complex_atoms(st):
    """The complex constants and statics statement ``st`` reads (and the
    functions it calls that make complex values of real ones)."""
    out = []
    for e in head_exprs(st):
        for x in walk(e):
            if isinstance(x, N.Const) and (isinstance(x.value, complex) or _complex_name(x.value)):
                out.append(x)       # (1j, or a dtype written as "complex128")
            elif is_static(x):
                v = static_value(x, None)
                if complex_object(v) or any(v is f for f in _COMPLEX_RESULT):
                    out.append(x)
    return out


def has_complex_values(body):
    """Does the function read a complex constant, global or dtype anywhere?"""
    return any(_complex_atoms(st) for st in iter_stmts(body) if isinstance(st, (N.Assign, N.Eval)))


def _real_result(p):
    if p is None or p.kind != "rule":
        return False
    key = p.rule.key
    return key in ("attr.real", "attr.imag") if isinstance(key, str) else any(key is k for k in _REAL_RESULT)


def _real_dtype(p):
    """A call given a real ``dtype=`` (``np.array(z, dtype=float)``,
    ``np.sum(z, dtype=float)``): its result holds real numbers."""
    if p is None or p.kind != "rule":
        return False
    dt = p.bound.get("dtype")
    if isinstance(dt, N.Const):
        return dt.value is not None and not _complex_name(dt.value)
    return is_static(dt) and not complex_object(static_value(dt, None))


def complex_names(body, prims, seeds):
    """The names that may hold complex values, from the complex ``seeds``
    (parameters) and the complex constants the statements read."""
    flows = []
    out = set(seeds)
    for st in iter_stmts(body):
        if isinstance(st, N.Assign):
            if isinstance(st.target, N.Sub):
                continue            # a write keeps the array's dtype (NumPy casts what it writes)
            p = prims.get(st.sid)
            if _real_result(p) or _real_dtype(p):
                continue
            if _complex_atoms(st):
                out.update(targets(st))
            flows.append((targets(st), names(st.value)))
        elif isinstance(st, N.Eval) and isinstance(st.value, N.Call):
            f = st.value.func
            if isinstance(f, N.Attr) and isinstance(f.value, N.Name):
                flows.append(([f.value.id], names(st.value)))
        elif isinstance(st, N.For):
            flows.append(([st.target], names(st.iter)))
    return forward_closure(flows, out)


def check_complex(body, prims, active, seeds):
    """Refuse an active statement giving a complex value to a rule not
    known to hold for complex values; the names that may hold complex
    values (:func:`complex_names`)."""
    cplx = complex_names(body, prims, seeds)
    for st in iter_stmts(body):
        if not isinstance(st, (N.Assign, N.Eval)):
            continue
        if not (any(t in active for t in targets(st)) or isinstance(st, N.Eval)):
            continue
        if not (any(n in cplx for n in names(st.value)) or _complex_atoms(st)):
            continue
        p = prims.get(st.sid)
        if p is None or p.kind != "rule":
            continue
        key = p.rule.key
        method = p.rule.name.startswith(".")
        ok = (key in COMPLEX_OK_METHODS) if method else _in(key, COMPLEX_OK) or _constant_power(p, active, cplx)
        if not ok and (getattr(key, "__module__", "") or "").startswith("s2sad_runtime"):
            raise error_at_loc(NoRuleError, st.loc,
                               "second derivatives of a function with complex values are not supported yet",
                               "differentiate it once (grad, jvp); hvp and grad of grad work for real functions")
        if not ok:
            shown = f".{key}()" if method else p.rule.name
            raise error_at_loc(NoRuleError, st.loc,
                               f"`{shown}` is given a complex value here, and its derivative rule is not known "
                               "to hold for complex values yet",
                               "compute this step with the real and imaginary parts as real arrays; see "
                               "docs/rules.md (complex numbers) for the functions that take complex values")
    return cplx


def _constant_power(p, active, cplx):
    """``z ** y`` with an exponent not differentiated and not complex: its
    rule in ``z`` (``g y z^(y-1)``) is holomorphic."""
    if not (p.rule.key == "Pow" or p.rule.key is np.power):
        return False
    y = p.bound.get("y")
    if isinstance(y, N.Const):
        return not isinstance(y.value, complex)
    return isinstance(y, N.Name) and y.id not in active and y.id not in cplx


def _in(key, keys):
    try:
        return key in keys
    except TypeError:           # an unhashable key
        return False


def complex_mode(fn, args, names, rules):
    """(complex parameters, rule table) for normalized function ``fn``
    called with ``args`` (parameter ``names``): ``(None, rules)`` unless an
    argument is complex or ``fn`` reads a complex constant or global."""
    seeds = [n for n, a in zip(names, args or ()) if is_complex(a)] if args is not None else []
    if not seeds and not has_complex_values(fn.body):
        return None, rules
    return seeds, complex_table(rules)
