"""Exactly reversible fixed-point loops (runtime core of issue 5).

Reverse-mode differentiation of a long optimisation loop (for instance SGD with
momentum) normally has to store the whole trajectory.  Maclaurin, Duvenaud and
Adams showed that the loop can instead be run *backwards* exactly, if

* the weights ``w`` and velocities ``v`` are held in fixed point during the loop,
* additive updates (``w += a*v``, ``v -= (1-g)*grad``) are done in fixed point:
  the increment is a deterministic function of state that is still available
  when the step is undone, so it is recomputed and subtracted -- no storage;
* the only lossy operation, the multiplication by the momentum decay ``g < 1``,
  saves the bits it destroys in an *information buffer*: about ``log2(1/g)``
  bits per parameter per multiplication.

    D. Maclaurin, D. Duvenaud, R. P. Adams. "Gradient-based hyperparameter
    optimization through reversible learning", ICML 2015 (arXiv:1502.03492),
    section 3 and Algorithm 3 ("exact multiplication by a rational").

Their implementation kept one Python big integer per parameter (the paper
reports it "about 50X slower").  Here everything is vectorized over the
parameters with arrays of machine words.

Fixed point
-----------
``to_fixed(x, frac_bits)`` is ``rint(x * 2**frac_bits)`` as ``int64``.  Values
must satisfy ``|x| * 2**frac_bits <= 2**62`` (one bit of head room, so a sum of
two in-range values never wraps); with the default ``FRAC_BITS = 32`` that is
``|x| <= 2**30`` with a resolution of ``2**-32``.  ``add``/``sub`` check for
overflow and raise ``OverflowError``; they never wrap silently.

Exact multiplication by ``n/d`` (Maclaurin's algorithm)
------------------------------------------------------
``mul_rational(q, n, d, buf)``::

    a = q mod d          push a with radix d      (store the bits lost below)
    q = q div d          (floor division, exact given a)
    q = q * n
    b = pop radix n      q = q + b                (reuse buffered bits as the
                                                    new low digits)

Each step is a bijection, and the inverse is the same algorithm with ``n`` and
``d`` exchanged (``div_rational``): ``b = q mod n`` (push radix ``n``),
``q div n`` recovers ``q_old div d``, ``pop radix d`` recovers ``a``.  Net the
buffer grows by ``log2(d) - log2(n) = log2(1/g)`` bits.  ``q div d`` is computed
before the multiplication, so ``|q*n|`` is never formed: for ``n <= d`` there is
no overflow at all; for ``n > d`` (the inverse) the result ``~q*n/d`` must fit
in int64 and this is checked.  ``n`` and ``d`` must be in ``[1, 2**31]``.

The information buffer (vectorized rANS)
----------------------------------------
A big integer ``B`` with ``push: B <- B*r + v`` and ``pop: v = B mod r,
B <- B div r`` is what the paper uses.  Arithmetic on the *low* end of a big
integer costs O(length), so instead each element holds an rANS (range
asymmetric numeral system, Duda 2013) state, which is a different but equally
bijective "push a digit / pop a digit" structure with O(1) amortized cost:

* state ``x`` in ``[L, 2**64)`` with ``L = 2**32`` (one ``uint64`` per
  element) plus a per-element stack of spilled 32-bit words (a growable 2-D
  ``uint32`` array ``words[depth, element]`` and a pointer per element);
* a digit in ``[0, r)`` is coded as a symbol of a near-uniform distribution with
  power-of-two total ``M = 2**32``: symbol ``v`` owns the slots
  ``[c_v, c_{v+1})`` with ``c_v = floor(v*M/r)``, frequency
  ``f_v = c_{v+1} - c_v >= 1``;
* push (rANS encode): if ``x >= f_v * 2**32`` spill the low 32 bits of ``x`` to
  the stack; then ``x <- (x div f_v) * M + (x mod f_v) + c_v``;
* pop (rANS decode): ``s = x mod M``, ``v = floor(((s+1)*r - 1) / M)`` (the
  symbol with ``c_v <= s < c_{v+1}``), ``x <- f_v * (x div M) + s - c_v``; if
  ``x < L`` pull a 32-bit word back from the stack.

Because ``L`` is a multiple of ``M`` and the stack base is ``b = 2**32`` this is
the textbook exactly invertible rANS: push and pop are mutually inverse
bijections for *any* sequence of radices, so a pop with radix ``n`` may consume
bits that were pushed with radix ``d`` (which is exactly what the algorithm
above needs).  A pop from an (almost) empty buffer reads zero words from below
the bottom of the stack (rows are prepended on demand), so even that is
bijective.  A push of ``v`` with radix ``r`` costs ``log2(M / f_v)`` bits,
which differs from ``log2(r)`` by less than ``r / 2**32`` relative.

``InfoBuffer.bits`` is the exact information content of the state relative to
the empty buffer: ``sum(32*depth + log2(x) - 32)``; ``nbytes`` is the memory
actually allocated (``trim()`` releases unused stack rows).

Limits: radices in ``[1, 2**31]``; at most 32 bits per push (any radix within
the limit satisfies this).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Iterator

import numpy as np

__all__ = [
    "FRAC_BITS",
    "InfoBuffer",
    "to_fixed",
    "from_fixed",
    "add",
    "sub",
    "mul_rational",
    "div_rational",
    "rational_approx",
    "sgd_momentum_exact",
    "reverse_sgd_momentum_exact",
    "reverse_sgd_momentum_steps",
]

FRAC_BITS = 32
_LIMIT = 2 ** 62  # |fixed-point value| bound accepted by to_fixed
_MAX_RADIX = 2 ** 31

_U32 = np.uint64(32)
_L = np.uint64(1 << 32)  # lower end of the rANS state interval (== M)
_MASK32 = np.uint64(0xFFFFFFFF)


# --------------------------------------------------------------------------
# fixed point
# --------------------------------------------------------------------------
def to_fixed(x, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """float array -> int64 fixed point ``rint(x * 2**frac_bits)``.

    Raises ``OverflowError`` if a value is not finite or
    ``|x| * 2**frac_bits > 2**62`` (i.e. ``|x| > 2**(62-frac_bits)``).
    """
    if not 0 <= frac_bits <= 61:
        raise ValueError(f"frac_bits must be in [0, 61], got {frac_bits}")
    s = np.rint(np.asarray(x, dtype=np.float64) * float(2 ** frac_bits))
    if not (s.size == 0 or (s.max() <= float(_LIMIT) and s.min() >= -float(_LIMIT))):   # NaN fails too
        bad = ~(np.abs(s) <= float(_LIMIT))
        worst = np.asarray(x, dtype=np.float64)[bad].ravel()[0] if np.ndim(x) else x
        raise OverflowError(
            f"value {worst!r} does not fit in fixed point with frac_bits={frac_bits}: "
            f"|x| must be <= 2**{62 - frac_bits} = {2.0 ** (62 - frac_bits):g} and finite "
            f"(choose a smaller frac_bits for a larger range)"
        )
    return s.astype(np.int64)


def from_fixed(q, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """int64 fixed point -> float64 (``q * 2**-frac_bits``)."""
    return np.asarray(q).astype(np.float64) * (2.0 ** -frac_bits)


def _checked_sum(q: np.ndarray, dq: np.ndarray, sign: int) -> np.ndarray:
    q = np.asarray(q, dtype=np.int64)
    # |q| <= 2**62 (every fixed-point value s2sad makes is checked when made)
    # and |dq| <= 2**62 (to_fixed), so the exact result lies in
    # [-2**63, 2**63]; the one value that wraps (2**63 -> -2**63) fails the
    # range test as well.
    out = q + dq if sign > 0 else q - dq
    if out.size and not (out.max() <= _LIMIT and out.min() >= -_LIMIT):
        raise OverflowError("fixed-point add/sub left the range |q| <= 2**62")
    return out


def add(q, delta, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """``q + to_fixed(delta)`` -- exactly undone by ``sub(result, delta)``."""
    return _checked_sum(q, to_fixed(delta, frac_bits), +1)


def sub(q, delta, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """``q - to_fixed(delta)`` -- exactly undone by ``add(result, delta)``."""
    return _checked_sum(q, to_fixed(delta, frac_bits), -1)


# --------------------------------------------------------------------------
# information buffer
# --------------------------------------------------------------------------
def _check_radix(radix) -> np.ndarray:
    if type(radix) is int and 1 <= radix <= _MAX_RADIX:
        return np.uint64(radix)
    r = np.asarray(radix)
    if r.dtype.kind not in "iu":
        if not np.all(r == np.floor(r)):
            raise TypeError("radix must be an integer")
    if np.any(r < 1) or np.any(r > _MAX_RADIX):
        raise ValueError(f"radix must be in [1, 2**31], got {radix!r}")
    return r.astype(np.uint64)


def _slots(v: np.ndarray, r: np.ndarray):
    """Start ``c_v`` and width ``f_v`` of digit ``v``'s slots in [0, 2**32)."""
    c = (v << _U32) // r
    f = ((v + np.uint64(1)) << _U32) // r - c
    return c, f


class InfoBuffer:
    """Vectorized, exactly invertible stack of mixed-radix digits.

    One independent LIFO per element of ``shape``.  ``push(values, radix)``
    stores one digit ``values[i] in [0, radix)`` per element (``radix`` a
    scalar or an array broadcastable to ``shape``); ``pop(radix)`` returns
    digits.  Push and pop with the same radix are mutual inverses; a pop may
    also use a different radix than the pushes before it (the state is just a
    number), which ``mul_rational`` relies on.
    """

    def __init__(self, shape, init_rows: int = 4):
        self.shape = np.empty(shape, dtype=np.uint8).shape
        n = int(np.prod(self.shape))
        self.size = n
        self._x = np.full(n, _L, dtype=np.uint64)
        self._ptr = np.zeros(n, dtype=np.int32)  # stack depth relative to origin
        self._base = 0  # row index of depth 0 in self._words
        self._words = np.zeros((max(int(init_rows), 0), n), dtype=np.uint32)

    # ---- bookkeeping ----------------------------------------------------
    @property
    def bits(self) -> float:
        """Information held (bits, summed over elements), exact up to float
        rounding: ``sum(32*depth + log2(x) - 32)``; 0 for a fresh buffer."""
        return float(32.0 * self._ptr.astype(np.float64).sum()
                     + np.log2(self._x.astype(np.float64)).sum() - 32.0 * self.size)

    @property
    def nbytes(self) -> int:
        """Memory actually allocated by the buffer (state, pointers, stack)."""
        return int(self._x.nbytes + self._ptr.nbytes + self._words.nbytes)

    @property
    def depth(self) -> np.ndarray:
        """Number of 32-bit words spilled per element (may be < 0 after
        popping more than was pushed)."""
        return self._ptr.reshape(self.shape).copy()

    def trim(self) -> None:
        """Release stack rows above the deepest element (content unchanged).
        Rows below a pointer hold digits and are kept."""
        if self.size == 0:
            return
        hi = int(self._ptr.max()) + self._base
        self._words = np.ascontiguousarray(self._words[: max(hi, 0)])

    def _reserve_top(self, top_row: int) -> None:
        rows = self._words.shape[0]
        if top_row < rows:
            return
        grow = max(top_row + 1 - rows, 8, rows // 8)
        self._words = np.concatenate(
            [self._words, np.zeros((grow, self.size), dtype=np.uint32)], axis=0)

    def _reserve_bottom(self, bottom_row: int) -> None:
        if bottom_row >= 0:
            return
        grow = max(-bottom_row, 8)
        self._words = np.concatenate(
            [np.zeros((grow, self.size), dtype=np.uint32), self._words], axis=0)
        self._base += grow

    def _flat(self, a) -> np.ndarray:
        a = np.asarray(a)
        if a.shape == self.shape:
            return a.reshape(-1)
        return np.broadcast_to(a, self.shape).reshape(-1)

    # ---- operations ------------------------------------------------------
    def push(self, values, radix, _checked=True) -> None:
        """Push one digit per element; ``0 <= values < radix``."""
        r = _check_radix(radix)
        r = self._flat(r) if r.ndim else r
        v = np.asarray(values)
        if v.dtype.kind not in "iu":
            raise TypeError("values must be integers")
        v = self._flat(v)
        if _checked and (np.any(v < 0) or np.any(v.astype(np.uint64) >= r)):
            raise ValueError("values must lie in [0, radix)")
        v = v.astype(np.uint64)
        c, f = _slots(v, r)
        x = self._x
        # renormalize: spill low word where x >= f * 2**32
        # (radix 1: f == 2**32, never spill; f << 32 would wrap)
        spill = np.flatnonzero((x >= (f << _U32)) & (f < _L))
        if spill.size:
            p = self._ptr[spill]
            self._reserve_top(int(p.max()) + self._base)
            self._words[p + self._base, spill] = (x[spill] & _MASK32).astype(np.uint32)
            self._ptr[spill] = p + 1
            x[spill] >>= _U32
        qf = x // f
        self._x = (qf << _U32) + (x - qf * f) + c      # x % f without a second division

    def pop(self, radix) -> np.ndarray:
        """Pop one digit per element (the inverse of ``push(., radix)``)."""
        r = _check_radix(radix)
        r = self._flat(r) if r.ndim else r
        x = self._x
        s = x & _MASK32
        v = ((s + np.uint64(1)) * r - np.uint64(1)) >> _U32
        c, f = _slots(v, r)
        x = f * (x >> _U32) + s - c
        pull = np.flatnonzero(x < _L)
        if pull.size:
            p = self._ptr[pull] - 1
            self._reserve_bottom(int(p.min()) + self._base)
            w = self._words[p + self._base, pull].astype(np.uint64)
            self._ptr[pull] = p
            x[pull] = (x[pull] << _U32) | w
        self._x = x
        return v.astype(np.int64).reshape(self.shape)


# --------------------------------------------------------------------------
# exact rational multiplication
# --------------------------------------------------------------------------
def mul_rational(q, n, d, buf: InfoBuffer) -> np.ndarray:
    """Exactly reversible ``q <- q * n / d`` on int64 fixed point.

    The result is ``floor(q/d)*n + b`` with ``b`` popped (radix ``n``) from
    ``buf`` and ``q mod d`` pushed (radix ``d``) before: Maclaurin et al.'s
    Algorithm 3.  Undone by ``div_rational(result, n, d, buf)``.
    """
    q = np.asarray(q, dtype=np.int64)
    n64 = np.asarray(n, dtype=np.int64)
    d64 = np.asarray(d, dtype=np.int64)
    if q.size and not (q.max() <= _LIMIT and q.min() >= -_LIMIT):
        raise OverflowError("mul_rational: operand exceeds 2**62 in magnitude")
    qd = q // d64
    buf.push(q - qd * d64, d, _checked=False)   # q mod d (floor division), in [0, d) by construction
    b = buf.pop(n)
    if np.any(n64 > d64):
        # exact test of |qd*n + b| <= 2**62 without forming qd*n
        bad = np.where(qd >= 0, qd > (_LIMIT - b) // n64, qd < -((_LIMIT + b) // n64))
        if np.any(bad):
            buf.push(b, n)  # restore the buffer before failing
            buf.pop(d)
            raise OverflowError("mul_rational: |q * n / d| would exceed 2**62")
    return qd * n64 + b


def div_rational(q, n, d, buf: InfoBuffer) -> np.ndarray:
    """Exact inverse of ``mul_rational(., n, d, buf)``: ``q <- q * d / n``."""
    return mul_rational(q, d, n, buf)


_APPROX = {}   # (gamma, max_den) -> (n, d): a loop asks every step


def rational_approx(gamma: float, max_den: int = 2 ** 16) -> tuple[int, int]:
    """``(n, d)`` with ``n/d`` the best approximation of ``gamma`` with
    ``1 <= d <= max_den`` (continued fractions), and ``n >= 1``."""
    key = (gamma, max_den) if type(gamma) is float else None
    if key is not None:
        hit = _APPROX.get(key)
        if hit is not None:
            return hit
    nd = _rational_approx(gamma, max_den)
    if key is not None:
        if len(_APPROX) > 65536:
            _APPROX.clear()
        _APPROX[key] = nd
    return nd


def _rational_approx(gamma, max_den):
    gamma = float(gamma)
    if not gamma > 0 or not np.isfinite(gamma):
        raise ValueError(f"gamma must be positive and finite, got {gamma}")
    if not 1 <= max_den <= _MAX_RADIX:
        raise ValueError("max_den must be in [1, 2**31]")
    fr = Fraction(gamma).limit_denominator(int(max_den))
    n, d = fr.numerator, fr.denominator
    if n == 0:
        n, d = 1, int(max_den)
    if n > _MAX_RADIX:
        raise ValueError("gamma too large for a radix <= 2**31")
    return int(n), int(d)


# --------------------------------------------------------------------------
# reference driver: SGD with momentum
# --------------------------------------------------------------------------
def _schedule(a, T: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return np.full(T, float(a))
    if a.shape[0] < T:
        raise ValueError(f"schedule has {a.shape[0]} entries, need {T}")
    return a


def _steps(lrs, gammas, T, max_den):
    lrs, gammas = _schedule(lrs, T), _schedule(gammas, T)
    cache: dict = {}
    for t in range(T):
        g = float(gammas[t])
        if g not in cache:
            cache[g] = rational_approx(g, max_den)
        n, d = cache[g]
        yield t, float(lrs[t]), n, d, 1.0 - n / d


def sgd_momentum_exact(w0, v0, grad_fn: Callable, lrs, gammas, T: int,
                       frac_bits: int = FRAC_BITS, max_den: int = 2 ** 16,
                       buf: InfoBuffer | None = None):
    """T steps of SGD with momentum (Maclaurin et al., Algorithm 1)::

        v = g_t * v - (1 - g_t) * grad_fn(w, t)
        w = w + a_t * v

    in fixed point with ``g_t`` replaced by ``n/d = rational_approx(g_t)``.
    ``w0``, ``v0`` are float arrays; ``lrs``/``gammas`` scalars or length-T
    sequences.  ``grad_fn(w_float, t)`` must be deterministic.  Returns
    ``(w_q, v_q, buf)`` with int64 fixed-point arrays (``from_fixed`` to read)
    and the information buffer needed by ``reverse_sgd_momentum_exact``.
    """
    w = to_fixed(w0, frac_bits)
    v = to_fixed(v0, frac_bits)
    if buf is None:
        buf = InfoBuffer(w.shape)
    for t, lr, n, d, one_minus in _steps(lrs, gammas, T, max_den):
        g = grad_fn(from_fixed(w, frac_bits), t)
        v = mul_rational(v, n, d, buf)
        v = add(v, -one_minus * g, frac_bits)
        w = add(w, lr * from_fixed(v, frac_bits), frac_bits)
    return w, v, buf


def reverse_sgd_momentum_steps(w, v, buf: InfoBuffer, grad_fn: Callable, lrs, gammas,
                               T: int, frac_bits: int = FRAC_BITS,
                               max_den: int = 2 ** 16) -> Iterator:
    """Undo the T steps one at a time, yielding ``(t, w_q, v_q)``: the exact
    fixed-point state *before* step ``t`` (t = T-1, ..., 0).  The hypergradient
    code of a compiler hooks in here (it needs ``w_t``, ``v_t`` per step)."""
    steps = list(_steps(lrs, gammas, T, max_den))
    w = np.asarray(w, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    for t, lr, n, d, one_minus in reversed(steps):
        w = sub(w, lr * from_fixed(v, frac_bits), frac_bits)
        g = grad_fn(from_fixed(w, frac_bits), t)
        v = sub(v, -one_minus * g, frac_bits)
        v = div_rational(v, n, d, buf)
        yield t, w, v


def reverse_sgd_momentum_exact(w, v, buf: InfoBuffer, grad_fn: Callable, lrs, gammas,
                               T: int, frac_bits: int = FRAC_BITS,
                               max_den: int = 2 ** 16):
    """Run ``reverse_sgd_momentum_steps`` to the end; returns the initial
    fixed-point ``(w0_q, v0_q)`` (bit-for-bit ``to_fixed(w0), to_fixed(v0)``)."""
    w0, v0 = np.asarray(w, dtype=np.int64), np.asarray(v, dtype=np.int64)
    for _, w0, v0 in reverse_sgd_momentum_steps(w, v, buf, grad_fn, lrs, gammas, T,
                                                frac_bits, max_den):
        pass
    return w0, v0


# ---------------------------------------------------------------------------
# the driver of a compiled ``s2sad.reversible`` loop


class Reversible:
    """One execution of a loop compiled under ``s2sad.reversible``: the
    forward sweep runs the exact fixed-point step (``exact``) and keeps only
    the final state and the information buffers; the reverse sweep rebuilds
    each earlier state with the generated inverse (``inverse``) and runs the
    one-step adjoint generator on it, exactly as a checkpointed loop does.

    ``stats``: ``forward_steps`` (exact steps, inverse steps and the taped
    step of each reversal), ``info_bits`` and ``peak_bytes`` (information
    buffers plus the state held)."""

    def __init__(self, step, adjoint, exact, inverse, iterable, scaled, frac_bits=FRAC_BITS, checkpoint_every=None):
        self.step, self.adjoint, self.exact, self.inverse = step, adjoint, exact, inverse
        self.iterable = iterable
        self.l = len(iterable)
        self.scaled = scaled
        self.F = frac_bits
        self.K = int(checkpoint_every) if checkpoint_every else None
        self.stats = {"forward_steps": 0, "peak_snapshots": 1, "peak_bytes": 0, "info_bits": 0.0}
        from s2sad_runtime.loops import report
        report(self)

    def _floats(self, q):
        return tuple(float(from_fixed(v, self.F)) if py else from_fixed(v, self.F) for v, py in zip(q, self._py))

    def _account(self):
        bits = sum(b.bits for _, _, bufs in self._segments for b in bufs if b is not None)
        nbytes = sum(b.nbytes for _, _, bufs in self._segments for b in bufs if b is not None)
        # anchors past the first (the first is the loop's input, held anyway)
        nbytes += sum(int(v.nbytes) for _, q, _ in self._segments[1:] for v in q) + sum(int(v.nbytes) for v in self._q)
        self.stats["info_bits"] = max(self.stats["info_bits"], bits)
        self.stats["peak_bytes"] = max(self.stats["peak_bytes"], nbytes)

    def _new_bufs(self, q):
        return tuple(InfoBuffer(np.shape(v)) if sc else None for v, sc in zip(q, self.scaled))

    def forward(self, state):
        """Run the exact steps; with ``checkpoint_every=K`` the fixed-point
        state is stored every K steps and each segment gets its own
        information buffers (re-anchoring: the reverse sweep lands on each
        stored state exactly, and a segment's buffers are freed once it is
        reversed)."""
        self.initial = state
        self._py = [isinstance(v, float) for v in state]
        q = tuple(to_fixed(np.asarray(v, dtype=np.float64), self.F) for v in state)
        self._segments = [(0, q, self._new_bufs(q))]
        for j in range(self.l):
            if self.K and j and j % self.K == 0:
                self._segments.append((j, q, self._new_bufs(q)))
            q = self.exact(self.iterable[j], q, self._segments[-1][2])
        self.stats["forward_steps"] += self.l
        self._q = q
        self._account()
        return self._floats(q)

    def reverse(self, adj):
        q = self._q
        for start, anchor, bufs in reversed(self._segments):
            end = self.l if start == self._segments[-1][0] else None
            for j in range((end if end is not None else self._next_start(start)) - 1, start - 1, -1):
                t = self.iterable[j]
                q = self.inverse(t, q, bufs)
                gen = self.adjoint(t, *self._floats(q))
                next(gen)
                adj = gen.send(adj)
            # the reversal must land on the segment's first state, bit for bit
            if not all(np.array_equal(a, b) for a, b in zip(q, anchor)):
                from s2sad_runtime.errors import S2SadError
                raise S2SadError("reversible loop: running the loop backwards did not reproduce its state "
                                 f"at step {start}",
                                 hint="the body must be deterministic and its updates of the form x = x + e or "
                                      "x = c * x + e; use s2sad.checkpointed for this loop")
        self.stats["forward_steps"] += 2 * self.l
        self.stats["exact"] = True
        self._segments = []
        return adj

    def _next_start(self, start):
        starts = [s for s, _, _ in self._segments]
        return starts[starts.index(start) + 1]


class ReversibleResidual(Reversible):
    """``s2sad.reversible(..., residuals=True)``: the loop runs in floating
    point; after each step the generated floating-point inverse
    reconstructs the previous state approximately, and the bitwise XOR
    between the true and the reconstructed state -- mostly zero bits when
    the inverse is close -- is stored compressed (zlib).  The reverse sweep
    runs the inverse again and applies the residual: reconstruction is
    exact.  ``stats['residual_bytes']`` is what the residuals hold."""

    def __init__(self, step, adjoint, inverse, iterable):
        self.step, self.adjoint, self.inverse = step, adjoint, inverse
        self.iterable = iterable
        self.l = len(iterable)
        self.stats = {"forward_steps": 0, "peak_snapshots": 1, "peak_bytes": 0, "info_bits": 0.0,
                      "residual_bytes": 0}
        from s2sad_runtime.loops import report
        report(self)

    @staticmethod
    def _bits(x):
        a = np.ascontiguousarray(np.asarray(x))
        return a.view(np.uint64 if a.dtype.itemsize == 8 else np.uint32 if a.dtype.itemsize == 4 else np.uint16)

    def _residual(self, true, rec):
        import zlib
        out = []
        for t, r in zip(true, rec):
            x = np.bitwise_xor(self._bits(t), self._bits(np.asarray(r, dtype=np.asarray(t).dtype)))
            out.append(zlib.compress(x.tobytes(), 1))
        return out

    def _apply(self, rec, res, like):
        import zlib
        out = []
        for r, z, t in zip(rec, res, like):
            bits = self._bits(np.asarray(r, dtype=t[0]))
            x = np.frombuffer(zlib.decompress(z), dtype=bits.dtype).reshape(bits.shape)
            v = np.bitwise_xor(bits, x).view(t[0]).reshape(t[1])
            out.append(float(v) if t[2] else v)
        return tuple(out)

    def forward(self, state):
        self.initial = state
        self._like = [(np.asarray(v).dtype, np.shape(v), isinstance(v, float)) for v in state]
        self._res = []
        nbytes = 0
        cur = state
        for j in range(self.l):
            t = self.iterable[j]
            new = self.step(t, *cur)
            res = self._residual(cur, self.inverse(t, *new))
            nbytes += sum(len(z) for z in res)
            self._res.append(res)
            cur = new
        self.stats["forward_steps"] += 2 * self.l
        self.stats["residual_bytes"] = nbytes
        self.stats["peak_bytes"] = nbytes + sum(int(np.asarray(v).nbytes) for v in cur)
        self._cur = cur
        return cur

    def reverse(self, adj):
        cur = self._cur
        for j in range(self.l - 1, -1, -1):
            t = self.iterable[j]
            cur = self._apply(self.inverse(t, *cur), self._res[j], self._like)
            gen = self.adjoint(t, *cur)
            next(gen)
            adj = gen.send(adj)
        self.stats["forward_steps"] += 2 * self.l
        if not all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(cur, self.initial)):
            from s2sad_runtime.errors import S2SadError
            raise S2SadError("reversible loop (residuals): the reconstructed initial state differs from the "
                             "original", hint="the loop body must be deterministic")
        self.stats["exact"] = True
        self._res = []
        return adj
