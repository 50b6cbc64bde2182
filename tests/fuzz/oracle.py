"""The independent oracle: the program run as plain Python, and central
finite differences in float64 with Richardson extrapolation.

Nothing here calls s2sad.  Derivatives are taken along directions in the
space of the differentiated inputs (flattened and concatenated):

* ``directional(d)``: the first derivative of ``f`` along ``d``;
* ``second(v, w)``: ``w^T H v``, a mixed second difference.

Each estimate is computed at three step sizes ``h, h/2, h/4``; the two
Richardson extrapolations ``R1 = (4 D(h/2) - D(h)) / 3`` and ``R2`` (from
``h/2, h/4``) must agree, otherwise a kink or a jump (a branch, ``abs``,
``max``, a loop whose trip count depends on the data) lies within the
step: the estimate is *inconclusive* and is retried with a step 20 times
smaller before giving up.  A conclusive estimate comes with ``err``, an
upper bound on its error (``|R1 - R2|`` plus rounding).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .program import call_plain

STEPS = (4e-3, 2e-4)        # first step of each attempt (directions have unit norm)
STABLE = 1e-4               # |R1 - R2| above this fraction of the estimate: inconclusive


@dataclass
class Estimate:
    value: float
    err: float              # bound on |value - truth| when conclusive
    ok: bool                # conclusive
    note: str = ""
    h: float = 0.0          # the first of the three steps it was computed with
    trunc: float = 0.0      # |D(h/4) - R2|: the truncation error of the smallest step's difference


class Oracle:
    """Plain evaluations of module ``mod``'s ``f`` at ``args``, varying the
    arguments at positions ``idx``."""

    def __init__(self, mod, args, idx):
        self.mod = mod
        self.args = list(args)
        self.idx = list(idx)
        self.sizes = [int(np.size(args[i])) for i in idx]
        self.n = sum(self.sizes)
        self.x0 = self.flat([args[i] for i in idx])
        self.f0 = self.f(self.x0)
        self.calls = 0

    # ------------------------------------------------------------- vectors
    def flat(self, parts):
        return np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in parts]) if parts else np.zeros(0)

    def split(self, vec):
        """A flat vector as one part per differentiated argument, shaped
        (and typed: float or array) like the argument."""
        out, k = [], 0
        for i, n in zip(self.idx, self.sizes):
            a = self.args[i]
            piece = vec[k:k + n]
            k += n
            out.append(float(piece[0]) if isinstance(a, float) else piece.reshape(np.shape(a)).copy())
        return out

    def at(self, vec):
        args = list(self.args)
        for i, part in zip(self.idx, self.split(vec)):
            args[i] = part
        return args

    def f(self, vec):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(call_plain(self.mod, self.at(vec)))

    def direction(self, rng, only=None):
        """A random unit direction (restricted to argument ``only``, a
        position in ``idx``, when given)."""
        d = rng.normal(size=self.n)
        if only is not None:
            mask = np.zeros(self.n)
            k = sum(self.sizes[:only])
            mask[k:k + self.sizes[only]] = 1.0
            d = d * mask
        nrm = np.linalg.norm(d)
        return d / nrm if nrm > 0 else d

    # ----------------------------------------------------------- estimates
    def _richardson(self, D):
        note = ""
        for h in STEPS:
            try:
                d1, d2, d3 = D(h), D(h / 2), D(h / 4)
            except Exception as e:  # noqa: BLE001 - a perturbed point outside the domain
                note = f"f raised {type(e).__name__} at a perturbed point"
                continue
            if not all(math.isfinite(v) for v in (d1, d2, d3)):
                note = "non-finite difference"
                continue
            r1 = (4 * d2 - d1) / 3
            r2 = (4 * d3 - d2) / 3
            spread = abs(r1 - r2)
            # rounding of the differences: eps |f| / h, amplified by the extrapolation
            rounding = 8 * np.finfo(float).eps * max(1.0, abs(self.f0)) / (h / 4) ** self.order
            # the estimates' own scale: never the value under test, which
            # would let a large wrong answer pass an unstable estimate off
            scale = max(abs(r1), abs(r2))
            if spread <= STABLE * scale + 10 * rounding:
                return Estimate(r2, spread + rounding, True, h=h, trunc=abs(d3 - r2))
            note = f"unstable: R1={r1:.6g} R2={r2:.6g} (h={h:g})"
        return Estimate(float("nan"), float("inf"), False, note or "unstable")

    def directional(self, d):
        """d/dh f(x + h d) at h = 0."""
        self.order = 1
        x0 = self.x0

        def D(h):
            return (self.f(x0 + h * d) - self.f(x0 - h * d)) / (2 * h)
        est = self._richardson(D)
        if est.ok and self._kink(d, est.h / 4, abs(est.value)):
            return Estimate(float("nan"), float("inf"), False, "a kink within the step (one-sided slopes differ)")
        if est.ok:
            # a small slope jump between x0 and the step can leave the
            # extrapolation stable but off: a central difference at a far
            # smaller step must agree (its truncation error is h**2 f'''/6)
            # (16 times smaller than the smallest step: its truncation
            # error is 256 times smaller than that step's, bounded by 4x)
            s = est.h / 64
            small = D(s)
            rounding = 8 * np.finfo(float).eps * max(1.0, abs(self.f0)) / s
            trunc = 4 * est.trunc / 256
            # both must agree within 2e-6 and within the estimate's own
            # error bound: a comparison trusts that bound (s112571)
            allowed = min(2e-6 * max(1.0, abs(est.value)), est.err + trunc + 1e-12 * abs(est.value))
            if not abs(small - est.value) <= allowed + 10 * rounding:
                return Estimate(float("nan"), float("inf"), False,
                                f"steps {est.h:g} and {s:g} disagree ({est.value:.10g}, {small:.10g}): "
                                "a kink within the step")
        return est

    def _kink(self, d, h, scale):
        """Is there a kink within ``h`` of x0 along ``d``?  Central
        differences of ``|t - c|`` about a nearby kink ``c`` can agree across
        steps (off by ``c / h``), so compare the one-sided slopes: their gap
        shrinks with the step where f is smooth (``h f''``), not across a
        kink (the jump in slope)."""
        def gap(s):
            fp, fm = self.f(self.x0 + s * d), self.f(self.x0 - s * d)
            return abs((fp - self.f0) - (self.f0 - fm)) / s
        g1, g2 = gap(h), gap(h / 16)
        rounding = 8 * np.finfo(float).eps * max(1.0, abs(self.f0)) / (h / 16)
        return g2 > 0.25 * g1 and g2 > 1e-7 * max(1.0, scale) + 10 * rounding

    def second(self, v, w):
        """w^T H v: the mixed second derivative of f(x + a v + b w)."""
        self.order = 2
        x0 = self.x0

        def D(h):
            return (self.f(x0 + h * v + h * w) - self.f(x0 + h * v - h * w)
                    - self.f(x0 - h * v + h * w) + self.f(x0 - h * v - h * w)) / (4 * h * h)
        est = self._richardson(D)
        if est.ok:
            # as in directional: a kink (a mask that flips) between x0 and
            # the step can leave the extrapolation stable but off
            s = est.h / 8
            small = D(s)
            rounding = 8 * np.finfo(float).eps * max(1.0, abs(self.f0)) / (s * s)
            if not abs(small - est.value) <= 1e-5 * max(1.0, abs(est.value)) + 10 * rounding:
                return Estimate(float("nan"), float("inf"), False,
                                f"second differences at steps {est.h:g} and {s:g} disagree "
                                f"({est.value:.10g}, {small:.10g}): a kink within the step")
        return est
