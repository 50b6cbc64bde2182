"""Rules for ``scipy.linalg`` (those autograd has): ``solve_triangular``,
``sqrtm``, ``solve_sylvester`` and ``solve_banded`` (in the band storage
``ab`` and ``b``); loaded only once the user's program
imports ``scipy.linalg`` (s2sad never imports SciPy itself).

``solve_triangular`` reads one triangle of ``a`` (and not its diagonal with
``unit_diagonal=True``): the gradient lies on the entries it reads.
``sqrtm`` and ``solve_sylvester`` are differentiated through Sylvester
equations (the derivative of ``X @ X = A`` is ``X dX + dX X = dA``), so a
square root with eigenvalues ``s_i + s_j = 0`` has no derivative.  The
templates use functions with rules (these, ``_rt.triangle``,
``_rt.transpose_if`` and the band storage helpers), so second derivatives go through them."""

from __future__ import annotations

import numpy as np

import s2sad_runtime as _rt
from s2sad.rules.core import d, t

_sla = None     # scipy.linalg, bound by register (the templates name it)


def register(T):
    """Registered through ``late_rules("scipy.linalg", register)``."""
    global _sla
    import scipy.linalg as _sla

    # op(a) x = b with op the transpose when trans is 1 / 'T' / 'C' (real)
    def solve_triangular_jvp(ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                             check_finite=True):
        d[b] = _sla.solve_triangular(a, t, trans, lower, unit_diagonal)
        d[a] = -_sla.solve_triangular(
            a, _rt.transpose_if(_rt.triangle(t, lower, unit_diagonal), _rt.trans_flag(trans)) @ ans,
            trans, lower, unit_diagonal)

    @T.defrule(_sla.solve_triangular, jvp=solve_triangular_jvp)
    def solve_triangular(g, ans, a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                         check_finite=True):
        gb = _sla.solve_triangular(a, g, 1 - _rt.trans_flag(trans), lower, unit_diagonal)
        d[b] = gb
        n = np.shape(a)[0]
        d[a] = -_rt.triangle(_rt.transpose_if(np.reshape(gb, (n, -1)) @ np.reshape(ans, (n, -1)).T,
                                              _rt.trans_flag(trans)), lower, unit_diagonal)

    def sqrtm_jvp(ans, A, disp=True, blocksize=64):
        d[A] = _sla.solve_sylvester(ans, ans, t)

    @T.defrule(_sla.sqrtm, jvp=sqrtm_jvp)
    def sqrtm(g, ans, A, disp=True, blocksize=64):
        # X X = A: X dX + dX X = dA, whose transpose is X^T G + G X^T
        d[A] = _sla.solve_sylvester(ans.T, ans.T, g)

    def solve_sylvester_jvp(ans, a, b, q):
        d[q] = _sla.solve_sylvester(a, b, t)
        d[a] = -_sla.solve_sylvester(a, b, t @ ans)
        d[b] = -_sla.solve_sylvester(a, b, ans @ t)

    @T.defrule(_sla.solve_sylvester, jvp=solve_sylvester_jvp)
    def solve_sylvester(g, ans, a, b, q):
        # a x + x b = q
        gq = _sla.solve_sylvester(a.T, b.T, g)
        d[q] = gq
        d[a] = -gq @ ans.T
        d[b] = -ans.T @ gq

    # A x = b with A in band storage ab[u + i - j, j] (l_and_u = (l, u))
    def solve_banded_jvp(ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
        d[b] = _sla.solve_banded(l_and_u, ab, t)
        d[ab] = -_sla.solve_banded(l_and_u, ab, _rt.band_matvec(l_and_u, t, ans))

    @T.defrule(_sla.solve_banded, jvp=solve_banded_jvp)
    def solve_banded(g, ans, l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
        gb = _sla.solve_banded((l_and_u[1], l_and_u[0]), _rt.banded_transpose(l_and_u, ab), g)
        d[b] = gb
        d[ab] = -_rt.band_outer(l_and_u, gb, ans)
