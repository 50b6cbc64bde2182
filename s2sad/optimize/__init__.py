"""Optimisation built on s2sad's derivatives (an optimisation library, not
part of the compiler): LiSSA, an unbiased estimate of an inverse
Hessian-vector product from Hessian-vector products (Agarwal, Bullins &
Hazan 2017), and ``minimize`` with SGD, momentum and a stochastic Newton
method whose steps LiSSA computes.  See docs/forward.md.

    >>> from s2sad.optimize import minimize, lissa       # doctest: +SKIP
"""

from s2sad.optimize.lissa import (  # noqa: F401
    LissaDivergenceError, estimate_scale, lissa, tree_axpy, tree_map, tree_norm, tree_vdot,
)
from s2sad.optimize.methods import (  # noqa: F401
    Result, minimize, momentum_step, newton_lissa_step, sgd_step,
)
