"""Coverage against autograd's rule list: every user-facing function
autograd has a reverse-mode rule for (``autograd.core.primitive_vjps``)
has an s2sad rule, in the real table or the complex-mode one, but for the
short list of exceptions below, each with its reason.  A function autograd
gains, or a rule s2sad loses, fails this test; so does an exception that
is no longer needed."""

import functools
import importlib

import numpy as np
import pytest

autograd_core = pytest.importorskip("autograd.core")
pytest.importorskip("scipy")

import s2sad  # noqa: E402
from s2sad.rules.complex_rules import complex_table  # noqa: E402

# autograd's modules whose wrapped functions are autograd's own (its
# vector spaces, containers, the adjoint helpers its rules call, its
# array box's indexing, fft's padding helper): not functions a user calls
INTERNAL_MODULES = ("autograd.core", "autograd.builtins", "autograd.numpy.numpy_wrapper",
                    "autograd.numpy.numpy_vjps", "autograd.numpy.numpy_boxes", "autograd.numpy.fft")

# importing these registers their primitives
AUTOGRAD_MODULES = ("autograd.numpy", "autograd.numpy.linalg", "autograd.numpy.fft", "autograd.scipy.special",
                    "autograd.scipy.stats.norm", "autograd.scipy.stats.t", "autograd.scipy.stats.gamma",
                    "autograd.scipy.stats.beta", "autograd.scipy.stats.poisson", "autograd.scipy.stats.chi2",
                    "autograd.scipy.stats.dirichlet", "autograd.scipy.stats.multivariate_normal",
                    "autograd.scipy.linalg", "autograd.scipy.signal", "autograd.scipy.integrate")

# {qualified name: why s2sad has no rule}
EXCEPTIONS = {
    "scipy.integrate.odeint": "an adaptive ODE solver calling back into Python: s2sad cannot differentiate a "
                              "callback it is handed as a value (autograd differentiates it by an adjoint ODE "
                              "through its own tracing); write the integrator as a loop instead",
    "autograd.scipy.signal.convolve": "autograd's own n-D convolution (axes, dot_axes), not a SciPy function; "
                                      "scipy.signal.convolve and np.convolve have rules",
}


def _qualified(f):
    """``numpy.tanh``, ``scipy.special.betainc``, ``scipy.stats.t.logpdf``,
    ``scipy.linalg.sqrtm``: the public name of the function ``f``."""
    dist = _distribution_name(f)
    if dist is not None:
        return f"scipy.stats.{dist}.{f.__name__}"
    name = getattr(f, "__name__", repr(f))
    mod = getattr(f, "__module__", None) or ""
    if mod.startswith("autograd"):
        return f"{mod}.{name}"
    for public in ("numpy", "numpy.linalg", "numpy.fft", "scipy.special", "scipy.linalg", "scipy.signal",
                   "scipy.integrate"):
        if getattr(importlib.import_module(public), name, None) is f:
            return f"{public}.{name}"
    return f"{mod}.{name}"


@functools.lru_cache(maxsize=None)
def _distribution_name(f):
    """``"t"`` for a method of ``scipy.stats.t`` (bound to it, or the
    function of its class), else None."""
    import scipy.stats
    owner = getattr(f, "__self__", None)
    for name in dir(scipy.stats):
        obj = getattr(scipy.stats, name)
        if type(obj).__module__.startswith("scipy.stats") and (hasattr(obj, "logpdf") or hasattr(obj, "logpmf")):
            if obj is owner or getattr(type(obj), getattr(f, "__name__", ""), None) is f:
                return name
    return None


def _stats_twin(f):
    """The method of SciPy's public distribution object that ``f`` is: its
    rule is keyed by that bound method (``scipy.stats.norm.logpdf``)."""
    import scipy.stats
    dist = _distribution_name(f)
    return None if dist is None else getattr(getattr(scipy.stats, dist), f.__name__, None)


def autograd_functions():
    for m in AUTOGRAD_MODULES:
        importlib.import_module(m)
    out = {}
    for prim in autograd_core.primitive_vjps:
        f = prim.fun
        mod = getattr(f, "__module__", None) or ""
        if mod in INTERNAL_MODULES:
            continue
        out[_qualified(f)] = f
    return out


def _has_rule(f):
    table = s2sad.DEFAULT_RULES
    if table.lookup(f) is not None or complex_table(table).lookup(f) is not None:
        return True
    twin = _stats_twin(f)
    return twin is not None and table.lookup(twin) is not None


def test_every_autograd_function_has_a_rule():
    fns = autograd_functions()
    assert len(fns) > 150, len(fns)          # (the enumeration works)
    missing = sorted(name for name, f in fns.items() if name not in EXCEPTIONS and not _has_rule(f))
    assert not missing, f"functions autograd differentiates that s2sad has no rule for: {missing}"


def test_exceptions_are_still_needed():
    fns = autograd_functions()
    stale = sorted(name for name in EXCEPTIONS if name not in fns or _has_rule(fns[name]))
    assert not stale, f"exceptions with a rule now, or gone from autograd: {stale}"


def test_numpy_functions_are_named_as_numpy_does():
    assert _qualified(np.tanh) == "numpy.tanh"
