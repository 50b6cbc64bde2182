"""Rules for ``scipy.signal`` (``convolve``, n-dimensional, every mode
and method), loaded only once the user's program imports
``scipy.signal`` (s2sad never imports SciPy itself).  The adjoint helper
has a tangent rule, so ``hvp`` goes through it."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d

_ss = None      # scipy.signal, bound by register (the templates name it)


def register(T):
    """Registered through ``late_rules("scipy.signal", register)``."""
    global _ss
    import scipy.signal as _ss

    @T.defrule(_ss.convolve, jvp="multilinear")
    def convolve(g, in1, in2, mode="full", method="auto"):
        d[in1] = _rt.signal_convolve_adjoint(g, in2, np.shape(in1), mode)
        d[in2] = _rt.signal_convolve_adjoint(g, in1, np.shape(in2), mode)
