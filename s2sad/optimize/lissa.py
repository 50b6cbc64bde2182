r"""LiSSA: inverse-Hessian-vector products from Hessian-vector products.

Agarwal, Bullins & Hazan (2016), "Second-order stochastic optimization for
machine learning in linear time" (LiSSA, *Linear-time Stochastic Second-order
Algorithm*), estimate ``H^-1 v`` for a Hessian ``H`` that is only available
through products ``u -> H~ u`` with *stochastic* Hessians ``H~`` (the Hessian
of the loss on a fresh mini-batch, say) whose mean is ``H``.

The estimator
-------------
With a ``scale`` ``s`` and a ``damping`` ``d`` (``0 <= d < 1``) one chain is
the recursion

    X_0 = v
    X_j = v + (1 - d) X_{j-1} - H~_j X_{j-1} / s        j = 1 .. depth

where every ``H~_j`` is a fresh, independent estimate of ``H``.  The result
is ``X_depth / s``, averaged over ``samples`` independent chains.

Why it is unbiased
------------------
Write ``A = (1 - d) I - H / s``.  Unrolling the recursion with the exact
Hessian gives the Neumann series truncated at ``depth``::

    X_depth = sum_{k=0}^{depth} A^k v

and ``sum_k A^k = (I - A)^-1 = (d I + H / s)^-1`` when every eigenvalue of
``A`` lies in ``(-1, 1)``.  With stochastic Hessians, ``H~_j`` is independent
of ``X_{j-1}`` (which depends only on ``H~_1 .. H~_{j-1}``), so
``E[H~_j X_{j-1}] = H E[X_{j-1}]`` and by induction ``E[X_j]`` obeys the exact
recursion: each chain is an unbiased estimate of the *truncated* series, each
power ``A^k`` being estimated by the product of ``k`` independent samples.
Averaging ``samples`` chains divides the variance by ``samples``.  The only
bias is the truncation, ``A^(depth+1) (I - A)^-1 v / s``, which decays
geometrically in ``depth``.

Fixed point
-----------
As ``depth -> infinity`` the result tends to

    X / s = (d I + H / s)^-1 v / s = (H + d s I)^-1 v,

the inverse of the Hessian damped by ``d * s`` (Levenberg–Marquardt / ridge
damping); ``d = 0`` gives ``H^-1 v``.  With the exact Hessian the relative
error after ``depth`` steps is exactly
``||A^(depth+1) (H + d s I)^-1 v|| / ||(H + d s I)^-1 v||``.

Choosing ``scale``
------------------
The series converges when every eigenvalue ``lam`` of ``H`` satisfies
``|1 - d - lam / s| < 1``: ``scale`` must exceed the largest eigenvalue of
``H`` (strictly, half of it; but between ``lam_max / 2`` and ``lam_max``
the top component oscillates and converges slowly, so choose ``s`` above
``lam_max``), and negative eigenvalues (non-convex losses) below
``-d s`` make it diverge, which damping cures.  With stochastic Hessians
the bound is on the *sampled* Hessians, which for small batches can be much
larger than the mean.  The smallest eigenvalue ``lam_min`` sets the speed:
the error falls like ``(1 - d - lam_min / s)^depth``, so ``depth`` should be
a few times ``s / lam_min`` (the condition number, when ``s ~ lam_max``).
:func:`estimate_scale` estimates ``lam_max`` by power iteration with the
same ``hvp`` and multiplies it by a safety factor.

Cost
----
``depth * samples`` Hessian-vector products (each, by forward over reverse
with :func:`s2sad.hvp`, costs about two to three gradients), and memory for
three vectors per chain.  No Hessian is formed.

Divergence
----------
A diverging chain grows geometrically; returning its value would be
returning garbage.  With ``check=True`` (the default) :func:`lissa` raises
:class:`LissaDivergenceError` (an :class:`s2sad.S2SadError`) as soon as a
chain shows it: a non-finite value, ``||X_j||`` above
``1e6 * ||v|| * (depth + 1)``, a Neumann term ``||X_j - X_{j-1}||`` above ``10 ||v||`` (it never exceeds ``||v||`` when
the sampled Hessians are positive semi-definite and below ``s``), or a
Rayleigh bound ``||H~ X|| / ||X||`` above ``(2 - d) s``, which proves that a
sampled Hessian has an eigenvalue outside the region of convergence.  Even
with ``check=False`` a non-finite result raises.

``v`` may be an array, a float, or a pytree of them (tuples, lists and dicts
nest), as parameters of a model often are; ``hvp`` then takes and returns the
same structure.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from s2sad.errors import ArgumentError, S2SadError

__all__ = ["lissa", "estimate_scale", "LissaDivergenceError", "tree_map", "tree_vdot", "tree_norm",
           "tree_axpy"]


class LissaDivergenceError(S2SadError):
    """A LiSSA chain diverged: the scale is below an eigenvalue of a sampled
    Hessian, or the damping too small for its negative eigenvalues."""


# ---------------------------------------------------------------- pytrees

def _is_leaf(x):
    return not isinstance(x, (tuple, list, dict))


def tree_map(fn, tree, *rest):
    """Apply ``fn`` leaf by leaf to ``tree`` and the trees of the same
    structure in ``rest``; tuples, lists and dicts nest, anything else (an
    array, a float) is a leaf."""
    if isinstance(tree, dict):
        for r in rest:
            if not isinstance(r, dict) or r.keys() != tree.keys():
                raise ArgumentError(f"pytree structure mismatch: dict with keys {sorted(tree)} against "
                                    f"{_describe(r)}")
        return {k: tree_map(fn, tree[k], *(r[k] for r in rest)) for k in tree}
    if isinstance(tree, (tuple, list)):
        for r in rest:
            if not isinstance(r, (tuple, list)) or len(r) != len(tree):
                raise ArgumentError(f"pytree structure mismatch: {type(tree).__name__} of {len(tree)} against "
                                    f"{_describe(r)}")
        out = [tree_map(fn, *xs) for xs in zip(tree, *rest)]
        return type(tree)(out) if isinstance(tree, list) else tuple(out)
    for r in rest:
        if not _is_leaf(r):
            raise ArgumentError(f"pytree structure mismatch: a leaf ({type(tree).__name__}) against {_describe(r)}")
    return fn(tree, *rest)


def _describe(x):
    if isinstance(x, dict):
        return f"dict with keys {sorted(x)}"
    if isinstance(x, (tuple, list)):
        return f"{type(x).__name__} of {len(x)}"
    return type(x).__name__


def _leaves(tree):
    if isinstance(tree, dict):
        for k in tree:
            yield from _leaves(tree[k])
    elif isinstance(tree, (tuple, list)):
        for x in tree:
            yield from _leaves(x)
    else:
        yield tree


def tree_vdot(a, b):
    """Sum over leaves of ``<a, b>`` (a Python float)."""
    total = 0.0
    for x, y in zip(_leaves(a), _leaves(b)):
        total += float(np.vdot(np.asarray(x), np.asarray(y)).real)
    return total


def tree_norm(a):
    """Euclidean norm of all leaves together (a Python float; ``inf`` or
    ``nan`` propagate)."""
    sq = 0.0
    for x in _leaves(a):
        x = np.asarray(x)
        sq += float(np.vdot(x, x).real)
    return math.sqrt(sq) if sq == sq else float("nan")


def tree_axpy(alpha, x, y):
    """``alpha * x + y`` leaf by leaf."""
    return tree_map(lambda a, b: alpha * a + b, x, y)


def _check_scalar(name, value, *, positive=False, integer=False, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"lissa: {name} must be a {'positive integer' if integer else 'real number'}, "
                            f"got {value!r}")
    if integer and int(value) != value:
        raise ArgumentError(f"lissa: {name} must be an integer, got {value!r}")
    if not math.isfinite(float(value)):
        raise ArgumentError(f"lissa: {name} must be finite, got {value!r}")
    if positive and not value > 0:
        raise ArgumentError(f"lissa: {name} must be > 0, got {value!r}")
    if low is not None and value < low:
        raise ArgumentError(f"lissa: {name} must be >= {low}, got {value!r}")
    if high is not None and not value < high:
        raise ArgumentError(f"lissa: {name} must be < {high}, got {value!r}")


def _caller(hvp, rng):
    if rng is None:
        return hvp
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return lambda u: hvp(u, gen)


# ---------------------------------------------------------------- LiSSA

_TERM_GROWTH = 10.0      # a Neumann term larger than this times ||v|| means divergence
_NORM_GROWTH = 1e6       # ||X_j|| larger than this times ||v|| (depth + 1) means divergence


def lissa(hvp, v, *, depth, scale, damping=0.0, samples=1, rng=None, check=True):
    """Estimate ``(H + damping * scale * I)^-1 v`` with the LiSSA recursion.

    Args:
        hvp: a callable ``u -> H~ u`` returning a (possibly stochastic)
            Hessian-vector product of the same structure as ``u``: a fresh
            estimate on each call (a new mini-batch), or the exact ``H u``.
            When ``rng`` is given it is called as ``hvp(u, rng)`` so that its
            mini-batches come from one reproducible stream.
        v: an array, a float, or a tuple/list/dict of them.
        depth: number of recursion steps per chain (the Neumann series is
            truncated after ``depth + 1`` terms).
        scale: ``s``; must exceed the largest eigenvalue of the (sampled)
            Hessians; see :func:`estimate_scale`.
        damping: ``d`` in ``[0, 1)``; the estimate tends to
            ``(H + d * s * I)^-1 v``.
        samples: number of independent chains averaged.
        rng: ``None``, a seed or a ``numpy.random.Generator`` passed to
            ``hvp`` as its second argument.
        check: raise :class:`LissaDivergenceError` (an
            :class:`s2sad.S2SadError`) as soon as a chain diverges
            (see the module docstring).  A non-finite result raises always.

    Returns:
        The estimate, with the structure of ``v``.  Cost: ``depth * samples``
        calls of ``hvp``.
    """
    _check_scalar("depth", depth, integer=True, low=0)
    _check_scalar("scale", scale, positive=True)
    _check_scalar("damping", damping, low=0.0, high=1.0)
    _check_scalar("samples", samples, integer=True, low=1)
    depth, samples = int(depth), int(samples)
    scale, damping = float(scale), float(damping)
    call = _caller(hvp, rng)
    vnorm = tree_norm(v)
    if not math.isfinite(vnorm):
        raise ArgumentError(f"lissa: v is not finite (||v|| = {vnorm})")
    if vnorm == 0.0:
        return tree_map(lambda x: 0.0 * np.asarray(x) if np.ndim(x) else 0.0 * x, v)
    keep = 1.0 - damping
    inv_s = 1.0 / scale
    norm_bound = _NORM_GROWTH * vnorm * (depth + 1)
    term_bound = _TERM_GROWTH * vnorm
    rayleigh_bound = (2.0 - damping) * scale
    total = None
    for chain in range(samples):
        X = v
        for j in range(1, depth + 1):
            HX = call(X)
            Xn = tree_map(lambda vv, x, hx: vv + keep * x - inv_s * hx, v, X, HX)
            if check:
                xnorm = tree_norm(X)
                ray = tree_norm(HX) / xnorm if xnorm > 0 else 0.0
                nrm = tree_norm(Xn)
                term = tree_norm(tree_map(lambda a, b: a - b, Xn, X))
                why = None
                if not (math.isfinite(nrm) and math.isfinite(ray)):
                    why = f"a non-finite value appeared (||X_j|| = {nrm:.3g}, ||H~ X|| / ||X|| = {ray:.3g})"
                elif ray > rayleigh_bound:
                    why = (f"a sampled Hessian has an eigenvalue of magnitude at least ||H~ X|| / ||X|| = "
                           f"{ray:.4g} > (2 - damping) * scale = {rayleigh_bound:.4g}, outside the region of "
                           f"convergence")
                elif nrm > norm_bound:
                    why = f"||X_j|| = {nrm:.3g} exceeds 1e6 * ||v|| * (depth + 1) = {norm_bound:.3g}"
                elif term > term_bound:
                    why = (f"the Neumann term ||X_j - X_(j-1)|| = {term:.3g} exceeds 10 * ||v|| = "
                           f"{term_bound:.3g} (it stays below ||v|| = {vnorm:.3g} when scale bounds the "
                           f"sampled Hessians)")
                if why is not None:
                    raise LissaDivergenceError(
                        f"LiSSA diverged at step {j} of {depth} (chain {chain + 1} of {samples}) with "
                        f"scale = {scale:.6g}, damping = {damping:.6g}: {why}. scale must exceed the largest "
                        f"eigenvalue of the Hessian (of every sampled Hessian, with mini-batches), and no eigenvalue "
                        f"may lie below -damping * scale = -{damping * scale:.6g}",
                        hint="estimate the largest eigenvalue with s2sad.lissa.estimate_scale(hvp, v) and use a "
                             "scale above it; for a non-convex loss also raise damping")
            X = Xn
        total = X if total is None else tree_map(lambda a, b: a + b, total, X)
    factor = 1.0 / (samples * scale)
    out = tree_map(lambda x: factor * x, total)
    onorm = tree_norm(out)
    if not math.isfinite(onorm):
        raise LissaDivergenceError(
            f"LiSSA diverged (the result is not finite) with scale = {scale:.6g}, damping = {damping:.6g}, "
            f"depth = {depth}: scale must exceed the largest eigenvalue of the Hessian",
            hint="leave check=True to stop at the first sign of divergence; estimate the scale with "
                 "s2sad.lissa.estimate_scale(hvp, v)")
    return out


def estimate_scale(hvp, v, iters=20, safety=1.5, rng=None):
    """A ``scale`` for :func:`lissa`: ``safety`` times an estimate of the
    largest eigenvalue magnitude of the Hessian, by ``iters`` steps of power
    iteration ``u <- H~ u / ||H~ u||`` started from ``v`` (costing ``iters``
    calls of ``hvp``).

    ``||H~ u||`` with ``||u|| = 1`` never exceeds the largest eigenvalue
    magnitude of ``H~``, so the estimate approaches it from below; the
    largest value seen is used, which with stochastic Hessians is also the
    largest over the sampled ones.  Start from a random ``v`` when the given
    one may be orthogonal to the top eigenvector.  ``hvp`` and ``rng`` are
    as for :func:`lissa`.
    """
    _check_scalar("iters", iters, integer=True, low=1)
    _check_scalar("safety", safety, positive=True)
    call = _caller(hvp, rng)
    n = tree_norm(v)
    if not (n > 0 and math.isfinite(n)):
        raise ArgumentError(f"estimate_scale: the starting vector must be non-zero and finite (||v|| = {n})")
    u = tree_map(lambda x: x / n, v)
    best = 0.0
    for _ in range(int(iters)):
        hu = call(u)
        m = tree_norm(hu)
        if not math.isfinite(m):
            raise S2SadError(f"estimate_scale: the Hessian-vector product is not finite (||H u|| = {m})")
        if m == 0.0:
            break
        best = max(best, m)
        u = tree_map(lambda x: x / m, hu)
    if best == 0.0:
        raise S2SadError("estimate_scale: the Hessian-vector product is zero along the power iteration",
                         hint="start from another vector v")
    return float(safety) * best


# ``s2sad.lissa`` is the function (exported by the package); its helper stays
# reachable as ``s2sad.lissa.estimate_scale``.
lissa.estimate_scale = estimate_scale
lissa.LissaDivergenceError = LissaDivergenceError
