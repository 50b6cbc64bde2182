"""Rules for complex values, and the functions that take them.

A function is differentiated in *complex mode* when an argument is complex
or its source holds a complex constant or global (``1j``, a complex
array).  Then it uses :func:`complex_table`: the default rules, with those
of the non-holomorphic functions replaced by ones correct for complex
values (``abs``, ``angle``, ``real``, ``imag``, ``conj``), the FFTs and
``np.linalg.eig``/``eigvals`` (complex results of real matrices).
Cotangents follow JAX's convention inside (``dL/dx - i dL/dy``), where a
holomorphic function's rule is the real one; the gradient the user gets is
its conjugate (``s2sad_runtime.complex_cotangent``).

Only the functions in :data:`COMPLEX_OK` are known to be right for complex
values; any other one that a complex value reaches on the differentiated
path is refused at its line (``s2sad/analysis/complex_values.py``).
"""

from __future__ import annotations

import builtins

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import RuleTable, d, t

_CACHE = {}

#: operators and functions whose rules hold for complex values (holomorphic
#: ones with their real rules, the others with the rules below)
COMPLEX_OK = frozenset({
    "Add", "Sub", "Mult", "Div", "USub", "MatMult", "copy", "subscript", "attr.T", "attr.mT", "attr.real",
    "attr.imag",
    np.exp, np.log, np.sin, np.cos, np.tan, np.sinh, np.cosh, np.tanh, np.sqrt, np.square, np.reciprocal,
    np.negative, np.positive, np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.sum, np.mean,
    np.dot, np.matmul, np.inner, np.outer, np.einsum, np.tensordot, np.transpose, np.reshape, np.ravel,
    np.squeeze, np.expand_dims, np.concatenate, np.stack, np.hstack, np.vstack, np.swapaxes, np.moveaxis,
    np.broadcast_to, np.tile, np.repeat, np.roll, np.trace, np.diag, np.cumsum, np.where, np.array, np.asarray,
    np.copy, np.real, np.imag, np.conj, np.conjugate, np.abs, np.absolute, builtins.abs, np.angle, np.fft.fft,
    np.fft.ifft, np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft, builtins.sum,
    np.linalg.eig, np.linalg.eigvals, np.fft.irfft, np.fft.hfft, np.fft.rfftn, np.fft.rfft2, np.fft.irfftn,
    np.fft.irfft2, np.fft.fftshift, np.fft.ifftshift,
    _rt.own,
})

#: array methods whose rules hold for complex values
COMPLEX_OK_METHODS = frozenset({"sum", "mean", "reshape", "ravel", "flatten", "transpose", "swapaxes", "copy",
                                "conj", "conjugate", "dot", "cumsum", "trace", "diagonal", "squeeze"})


def abs_jvp(ans, x):
    d[x] = _rt.abs_tangent(t, x)


def abs_(g, x):
    d[x] = _rt.abs_cotangent(g, x)


def angle_jvp(ans, z, deg=False):
    d[z] = _rt.angle_tangent(t, z) * (57.29577951308232 if deg else 1.0)


def angle(g, z, deg=False):
    d[z] = _rt.angle_cotangent(g, z) * (57.29577951308232 if deg else 1.0)


def real_jvp(ans, val):
    d[val] = np.real(t)


def real(g, val):
    d[val] = _rt.real_cotangent(g)


def imag_jvp(ans, val):
    d[val] = np.imag(t)


def imag(g, val):
    d[val] = _rt.imag_cotangent(g, val)


def attr_real_jvp(ans, x):
    d[x] = np.real(t)


def attr_real(g, x):
    d[x] = _rt.real_cotangent(g)


def attr_imag_jvp(ans, x):
    d[x] = np.imag(t)


def attr_imag(g, x):
    d[x] = _rt.imag_cotangent(g, x)


def conj(g, x):
    d[x] = np.conj(g)


def m_conj(g, self):
    d[self] = np.conj(g)


def fft(g, a, n=None, axis=-1, norm=None):
    d[a] = _rt.fft_cotangent(np.fft.fft, g, a, n, axis, norm)


def ifft(g, a, n=None, axis=-1, norm=None):
    d[a] = _rt.fft_cotangent(np.fft.ifft, g, a, n, axis, norm)


def fft2(g, a, s=None, axes=(-2, -1), norm=None):
    d[a] = _rt.fftn_cotangent(np.fft.fft2, g, a, s, axes, norm)


def ifft2(g, a, s=None, axes=(-2, -1), norm=None):
    d[a] = _rt.fftn_cotangent(np.fft.ifft2, g, a, s, axes, norm)


def fftn(g, a, s=None, axes=None, norm=None):
    d[a] = _rt.fftn_cotangent(np.fft.fftn, g, a, s, axes, norm)


def ifftn(g, a, s=None, axes=None, norm=None):
    d[a] = _rt.fftn_cotangent(np.fft.ifftn, g, a, s, axes, norm)


def rfft(g, a, n=None, axis=-1, norm=None):
    d[a] = _rt.rfft_cotangent(g, a, n, axis, norm)


def irfft(g, a, n=None, axis=-1, norm=None):
    d[a] = _rt.irfft_cotangent(g, a, n, axis, norm)


def rfftn(g, a, s=None, axes=None, norm=None):
    d[a] = _rt.rfftn_cotangent(g, a, s, axes, norm)


def rfft2(g, a, s=None, axes=(-2, -1), norm=None):
    d[a] = _rt.rfftn_cotangent(g, a, s, axes, norm)


def irfftn(g, a, s=None, axes=None, norm=None):
    d[a] = _rt.irfftn_cotangent(g, a, s, axes, norm)


def irfft2(g, a, s=None, axes=(-2, -1), norm=None):
    d[a] = _rt.irfftn_cotangent(g, a, s, axes, norm)


def hfft(g, a, n=None, axis=-1, norm=None):
    d[a] = _rt.hfft_cotangent(g, a, n, axis, norm)


def eig_jvp(ans, a):
    d[a] = _rt.eig_jvp(t, ans, a)


def eig(g, ans, a):
    d[a] = _rt.eig_adjoint(g, ans, a)


def eigvals_jvp(ans, a):
    d[a] = _rt.eigvals_jvp(t, a)


def eigvals(g, a):
    d[a] = _rt.eigvals_adjoint(g, a)


def complex_table(parent):
    """The rule table of complex mode over ``parent`` (cached per parent)."""
    T = _CACHE.get(id(parent))
    if T is not None and T[0] is parent:
        return T[1]
    T = RuleTable(parent=parent)
    T.defrule(np.abs, np.absolute, builtins.abs, jvp=abs_jvp)(abs_)
    T.defrule(np.angle, jvp=angle_jvp)(angle)
    T.defrule(np.real, jvp=real_jvp)(real)
    T.defrule(np.imag, jvp=imag_jvp)(imag)
    T.defrule("attr.real", jvp=attr_real_jvp)(attr_real)
    T.defrule("attr.imag", jvp=attr_imag_jvp)(attr_imag)
    T.defrule(np.conj, np.conjugate, jvp="linear")(conj)
    T.defmethod("conj", "conjugate", jvp="linear")(m_conj)
    for fn, template in ((np.fft.fft, fft), (np.fft.ifft, ifft), (np.fft.fft2, fft2), (np.fft.ifft2, ifft2),
                         (np.fft.fftn, fftn), (np.fft.ifftn, ifftn), (np.fft.rfft, rfft), (np.fft.irfft, irfft),
                         (np.fft.hfft, hfft), (np.fft.rfftn, rfftn), (np.fft.rfft2, rfft2), (np.fft.irfftn, irfftn),
                         (np.fft.irfft2, irfft2)):
        T.defrule(fn, jvp="linear")(template)
    T.defrule(np.linalg.eig, jvp=eig_jvp, returns="container")(eig)
    T.defrule(np.linalg.eigvals, jvp=eigvals_jvp)(eigvals)
    _CACHE[id(parent)] = (parent, T)
    return T

