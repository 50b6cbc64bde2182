"""Cotangents and tangents for complex values (``s2sad/rules/complex_rules.py``).

Inside a gradient, the cotangent of a complex value ``z = x + iy`` of a
real loss ``L`` is ``dL/dx - i dL/dy`` (JAX's convention): holomorphic
functions then take the same rules as for real numbers (``g * f'(z)``),
and only the non-holomorphic ones (``abs``, ``angle``, ``real``, ``imag``,
``conj``) need rules of their own, here.  The gradient returned to the
user is the conjugate, ``dL/dx + i dL/dy`` (autograd's and PyTorch's
convention: a step against it descends), see :func:`complex_cotangent`.
"""

from __future__ import annotations

import numpy as np

from .core import at_function, is_complex


def complex_cotangent(g, x):
    """The gradient of input ``x`` from its cotangent ``g``: conjugated for
    a complex ``x``, the real part for a real one (what the imaginary part
    of a real value's cotangent would move is not there)."""
    if is_complex(x):
        return np.conj(g)
    if is_complex(g):
        return np.real(g)
    return g


def float_only(g, ans):
    """``g``, or zeros where the result ``ans`` holds integers (a value cast
    to integers is constant almost everywhere)."""
    if getattr(getattr(ans, "dtype", None), "kind", "f") in "biu":
        return 0.0 * np.real(g)
    return g


def _safe(r):
    return np.where(r == 0, 1.0, r)


def real_cotangent(g):
    """The cotangent of a real value: the real part of ``g`` (a real value
    between complex ones receives a complex ``g``, whose imaginary part
    moves nothing; the rules of functions from complex to real values need
    it gone)."""
    return np.real(g) if is_complex(g) else g


def abs_cotangent(g, x):
    """Cotangent of ``|x|``: ``Re(g) conj(x) / |x|`` (``g sign(x)`` for a
    real ``x``; 0 at 0)."""
    if is_complex(x):
        r = np.abs(x)
        return real_cotangent(g) * np.where(r == 0, 0.0, np.conj(x) / _safe(r))
    return g * np.sign(x)


def abs_tangent(t, x):
    """Tangent of ``|x|``: ``Re(conj(x) t) / |x|``."""
    if is_complex(x):
        r = np.abs(x)
        return np.where(r == 0, 0.0, np.real(np.conj(x) * t) / _safe(r))
    return t * np.sign(x)


def angle_cotangent(g, z):
    """Cotangent of ``angle(z)``: ``-i g conj(z) / |z|^2`` (0 for a real
    ``z``: its angle is constant away from 0)."""
    if not is_complex(z):
        return 0.0 * g * z
    r2 = np.real(z * np.conj(z))
    return np.where(r2 == 0, 0.0, -1j * real_cotangent(g) * np.conj(z) / _safe(r2))


def angle_tangent(t, z):
    """Tangent of ``angle(z)``: ``Im(conj(z) t) / |z|^2``."""
    if not is_complex(z):
        return 0.0 * t
    r2 = np.real(z * np.conj(z))
    return np.where(r2 == 0, 0.0, np.imag(np.conj(z) * t) / _safe(r2))


def imag_cotangent(g, x):
    """Cotangent of ``imag(x)``: ``-i Re(g)`` (nothing for a real ``x``)."""
    return -1j * real_cotangent(g) if is_complex(x) else 0.0 * np.real(g)


def _no_resize(n, what):
    if n is not None:
        from .errors import NoRuleError
        raise at_function(NoRuleError, f"{what} with a length (n or s) is not differentiated yet",
                          hint="pad or cut the array first (np.pad, slicing), then transform it whole")


def fft_cotangent(fn, g, a, n=None, axis=-1, norm=None):
    """Cotangent through a one-dimensional DFT ``fn`` (``np.fft.fft`` or
    ``ifft``): its matrix is symmetric, so the cotangent is ``fn(g)``."""
    _no_resize(n, f"np.fft.{fn.__name__}")
    return fn(g, axis=axis, norm=norm)


def fftn_cotangent(fn, g, a, s=None, axes=None, norm=None):
    """Cotangent through ``fft2``/``fftn``/``ifft2``/``ifftn``: ``fn(g)``."""
    _no_resize(s, f"np.fft.{fn.__name__}")
    return fn(g, axes=axes, norm=norm) if axes is not None else fn(g, norm=norm)


def rfft_cotangent(g, a, n=None, axis=-1, norm=None):
    """Cotangent of ``rfft(a)`` (``a`` real): the half spectrum padded with
    zeros to the full one, through the (symmetric) DFT, real part."""
    _no_resize(n, "np.fft.rfft")
    m = np.shape(a)[axis]
    g = np.asarray(g)
    pad = [(0, 0)] * g.ndim
    pad[axis] = (0, m - g.shape[axis])
    return np.real(np.fft.fft(np.pad(g, pad), axis=axis, norm=norm))


def _irfft_scale(n, norm):
    return {None: 1.0 / n, "backward": 1.0 / n, "ortho": n ** -0.5, "forward": 1.0}[norm]


def irfft_cotangent(g, a, n=None, axis=-1, norm=None):
    """Cotangent of ``x = irfft(a, n)`` (``x`` real): each entry ``0 < k <
    n/2`` of the half spectrum enters twice (itself and its conjugate), the
    first and (``n`` even) the Nyquist one once, real part only: ``scale w_k
    conj(rfft(g))_k``, zero for entries past ``n // 2`` that irfft drops."""
    m = np.shape(a)[axis]
    n = 2 * (m - 1) if n is None else int(n)
    g = real_cotangent(np.asarray(g))
    r = np.conj(np.fft.rfft(g, axis=axis))
    h = r.shape[axis]                          # n // 2 + 1
    w = np.full(h, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * r.ndim
    shape[axis] = h
    r = r * w.reshape(shape) * _irfft_scale(n, norm)
    if m > h:
        pad = [(0, 0)] * r.ndim
        pad[axis] = (0, m - h)
        r = np.pad(r, pad)
    elif m < h:
        r = np.take(r, range(m), axis=axis)
    return r


def rfftn_cotangent(g, a, s=None, axes=None, norm=None):
    """Cotangent of ``rfftn(a)`` / ``rfft2`` (``a`` real): ``rfft`` along
    the last of ``axes`` then ``fftn`` along the others, so ``fftn``'s
    cotangent then ``rfft``'s (the norms factor over the axes)."""
    _no_resize(s, "np.fft.rfftn (rfft2)")
    axes = list(range(np.ndim(a))) if axes is None else list(axes)
    g = np.fft.fftn(g, axes=axes[:-1], norm=norm) if axes[:-1] else g
    return rfft_cotangent(g, a, None, axes[-1], norm)


def irfftn_cotangent(g, a, s=None, axes=None, norm=None):
    """Cotangent of ``irfftn(a)`` / ``irfft2``: ``ifftn`` along all of
    ``axes`` but the last, then ``irfft`` along it; ``irfft``'s cotangent,
    then ``ifftn``'s."""
    _no_resize(s, "np.fft.irfftn (irfft2)")
    axes = list(range(np.ndim(a))) if axes is None else list(axes)
    r = irfft_cotangent(g, a, None, axes[-1], norm)
    return np.fft.ifftn(r, axes=axes[:-1], norm=norm) if axes[:-1] else r


def hfft_cotangent(g, a, n=None, axis=-1, norm=None):
    """Cotangent of ``hfft(a, n) = irfft(conj(a), n)`` (with the norm's
    direction swapped): the conjugate of irfft's."""
    swapped = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}[norm]
    return np.conj(irfft_cotangent(g, a, n, axis, swapped))
