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

    a = q mod d,  q = q div d          (floor division: the bits lost below)
    push a onto the buffer, radix d
    b = pop a digit from the buffer, radix n
    q = q*n + b                        (the buffered bits become the new low digits)

Every line is a bijection, so ``div_rational`` undoes it by running the lines
backwards.  Net the buffer grows by ``log2(d/n) = log2(1/g)`` bits, exactly
the information the multiplication destroys.  ``q div d`` comes before the
multiplication, so ``|q*n|`` is never formed: for ``n <= d`` nothing can
overflow; for ``n > d`` the result must fit in the range (checked).

The information buffer
----------------------
The paper keeps the buffer as one Python big integer per parameter, pushing
and popping at its *low* end, which costs O(length) per operation ("about
50X slower").  Here it is one ``uint64`` register ``R`` per element, all
under one bound ``U`` (a Python int, ``R < U``), used like a range coder:

* push ``a`` (radix ``d``) puts the digit on *top*: ``Y = a*U + R``, bound
  ``d*U``;
* pop (radix ``n``) takes the top digit: ``U' = ceil(d*U/n)``,
  ``b = Y div U'``, ``R = Y mod U'``.

So ``b`` is ``(a + R/U) * n/d`` rounded down, to within ``n/U'``: the result
of ``mul_rational`` is within ``(-1, n/d + 1)`` units of ``q*n/d``.  (A
digit popped from the bottom, as with the paper's integer, is off by up to
``n`` units, ``2**24 * 2**-48`` for a denominator near ``2**24``.)

Before each operation the registers are renormalized so that
``2**30 * n <= U*d <= 2**62``: their low bytes are *spilled* onto a stack of
``uint8`` rows (``R >> 8``, ``U`` becomes ``ceil(U/256)``), or rows pulled
back (``R << 8 | row``; past the bottom of the stack a row reads 0).  The
decision depends on ``U`` and the radices alone, never on the data, so the
reverse sweep recomputes it: each operation logs the bound it started from
(8 bytes per operation for the whole buffer, not per element).  Every step
is a bijection, so the buffer is exactly reversible whatever the data.
Everything is vectorized integer arithmetic: about ten array operations per
multiplication (an earlier version used a per-element rANS coder, whose
data-dependent renormalization took about forty, with a per-element 64-bit
division).

``InfoBuffer.bits`` is the capacity in use, ``8 * depth + log2(U / 2**32)``
bits per element: it grows by ``log2(d/n)`` per multiplication (the bound is
rounded up, by at most ``2**-30`` relative).  ``nbytes`` is the memory
allocated (registers, spilled rows, the log).  ``push``/``pop`` expose the
buffer as a LIFO of digits (a pop undoes the push before it, with the same
radix; with one radix per element the bound grows by the largest).

Limits: radices in ``[1, 2**24]``, Python ints (one ratio for all elements)
for ``mul_rational``; ``push`` also takes one radix per element.
"""

from __future__ import annotations

import math
from array import array
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
    "update",
    "undo",
    "rational_approx",
    "sgd_momentum_exact",
    "reverse_sgd_momentum_exact",
    "reverse_sgd_momentum_steps",
]

FRAC_BITS = 32
_LIMIT = 2 ** 62  # |fixed-point value| bound accepted by to_fixed
_MAX_RADIX = 2 ** 24



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
    s = _rounded(x, frac_bits)
    if not _within(s, float(_LIMIT)):
        bad = ~(np.abs(s) <= float(_LIMIT))
        worst = np.asarray(x, dtype=np.float64)[bad].ravel()[0] if np.ndim(x) else x
        raise OverflowError(
            f"value {worst!r} does not fit in fixed point with frac_bits={frac_bits}: "
            f"|x| must be <= 2**{62 - frac_bits} = {2.0 ** (62 - frac_bits):g} and finite "
            f"(choose a smaller frac_bits for a larger range)"
        )
    return s.astype(np.int64)


def _rounded(x, frac_bits):
    """``rint(x * 2**frac_bits)`` in float64 (a fresh array, or a scalar)."""
    if type(x) is np.ndarray and x.dtype == np.float64:
        s = x * float(2 ** frac_bits)
    else:
        s = np.multiply(x, float(2 ** frac_bits), dtype=np.float64)
    if type(s) is np.ndarray:
        np.rint(s, out=s)
        return s
    return np.rint(s)


def _within(x, lim):
    """Every ``|x| <= lim`` for a float array (NaN fails).  One pass when the
    sum of squares is below ``0.999 lim**2`` (then no element can exceed
    ``lim``; the factor covers the dot product's rounding), else max and min."""
    if type(x) is np.ndarray and x.flags.c_contiguous and 64 < x.size < 10 ** 9:
        v = x.reshape(-1)
        if np.dot(v, v) <= 0.999 * lim * lim:
            return True
    return bool(np.size(x) == 0 or (np.max(x) <= lim and np.min(x) >= -lim))


def _fits(q):
    """Every ``|q| <= 2**62`` for an int64 array."""
    return q.size == 0 or (q.max() <= _LIMIT and q.min() >= -_LIMIT)


_SUM_RANGE = "fixed-point add/sub left the range |q| <= 2**62"


def from_fixed(q, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """int64 fixed point -> float64 (``q * 2**-frac_bits``)."""
    out = np.asarray(q).astype(np.float64)
    out *= 2.0 ** -frac_bits
    return out if out.ndim else out[()]


def _checked_sum(q: np.ndarray, dq: np.ndarray, sign: int) -> np.ndarray:
    q = np.asarray(q, dtype=np.int64)
    # |q| <= 2**62 (every fixed-point value s2sad makes is checked when made)
    # and |dq| <= 2**62 (to_fixed), so the exact result lies in
    # [-2**63, 2**63]; the one value that wraps (2**63 -> -2**63) fails the
    # range test as well.
    out = _sum(q, dq, sign)
    if not _fits(out):
        raise OverflowError(_SUM_RANGE)
    return out


def _sum(q, dq, sign):
    """``q + dq`` or ``q - dq``, into ``dq`` when it is a fresh array of the result's shape."""
    if type(dq) is np.ndarray and dq.shape == np.shape(q):
        return np.add(q, dq, out=dq) if sign > 0 else np.subtract(q, dq, out=dq)
    return q + dq if sign > 0 else q - dq


def add(q, delta, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """``q + to_fixed(delta)`` -- exactly undone by ``sub(result, delta)``."""
    return _checked_sum(q, to_fixed(delta, frac_bits), +1)


def sub(q, delta, frac_bits: int = FRAC_BITS) -> np.ndarray:
    """``q - to_fixed(delta)`` -- exactly undone by ``add(result, delta)``."""
    return _checked_sum(q, to_fixed(delta, frac_bits), -1)


# --------------------------------------------------------------------------
# information buffer
# --------------------------------------------------------------------------
_TOP = 2 ** 62     # a * U + R stays below this (and bounds fit in int64)
_W = 8             # bits per spilled row
_LOW = 2 ** 30     # U * d / n is kept at least this (precision of the digits popped)
_U0 = 2 ** 32      # the bound of an empty buffer


def _normalize(u, dm, n):
    """The spills (> 0) or pulls (< 0) of 8-bit rows an operation with radices
    ``dm`` (in, the largest) and ``n`` (out) starts with, and the bound after
    them: ``2**30 * n <= U * dm <= 2**62``, so the digit popped comes from at
    least 30 bits of buffer.  A function of the bound alone, so the reverse
    sweep recomputes it."""
    k = 0
    while u * dm > _TOP:
        u = -(-u >> _W)
        k += 1
    while u * dm < _LOW * n:
        u <<= _W
        k -= 1
    return k, u


def _check_radix(radix):
    """A radix as a Python int, or (one per element) as an int64 array."""
    if type(radix) is int or isinstance(radix, np.integer):
        r = int(radix)
        if not 1 <= r <= _MAX_RADIX:
            raise ValueError(f"radix must be in [1, 2**24], got {radix!r}")
        return r
    r = np.asarray(radix)
    if r.dtype.kind not in "iu":
        if not np.all(r == np.floor(r)):
            raise TypeError("radix must be an integer")
    if r.size and (r.min() < 1 or r.max() > _MAX_RADIX):
        raise ValueError(f"radix must be in [1, 2**24], got {radix!r}")
    return r.astype(np.int64)


def _rmax(r):
    return r if type(r) is int else (int(r.max()) if r.size else 1)


class InfoBuffer:
    """Exactly reversible store of the bits lost by fixed-point
    multiplications: one ``uint64`` register per element of ``shape`` under
    a common bound, plus 8-bit rows moved in and out on a data-independent
    schedule (see the module docstring).

    ``mul_rational``/``div_rational`` use it; ``push(values, radix)`` and
    ``pop(radix)`` expose it as a LIFO of digits.  Operations must be undone
    in reverse order with the same radices.
    """

    def __init__(self, shape):
        self.shape = np.empty(shape, dtype=np.uint8).shape
        self.size = int(np.prod(self.shape))
        self._r = np.zeros(self.size, dtype=np.uint64)
        self._u = _U0                    # every register < _u
        self._rows = []                  # spilled low bytes, LIFO
        self._depth = 0                  # rows spilled minus rows pulled (pulls past the bottom read 0)
        self._log = array("q")           # per operation: the bound before it

    # ---- bookkeeping ----------------------------------------------------
    @property
    def bits(self) -> float:
        """Information held, in bits summed over elements: the capacity in
        use, ``8 * depth + log2(U / 2**32)`` per element (``U`` bounds every
        register).  It grows by ``log2(d/n)`` per multiplication to within
        ``2**-30`` relative (the bound is rounded up); 0 when empty."""
        return float(self.size * (_W * self._depth + math.log2(self._u) - 32))

    @property
    def nbytes(self) -> int:
        """Memory held: registers, spilled rows and the operation log."""
        return int(self._r.nbytes + sum(w.nbytes for w in self._rows)
                   + self._log.itemsize * len(self._log))

    @property
    def depth(self) -> int:
        """Rows spilled minus rows pulled back."""
        return self._depth

    @property
    def ops(self) -> int:
        """Operations (pushes, multiplications) not yet undone."""
        return len(self._log)

    def _shift(self, r, k):
        """Spill ``k > 0`` rows from the registers, or pull ``-k``."""
        for _ in range(k):
            self._rows.append((r & 0xFF).astype(np.uint8))
            r = r >> _W
        for _ in range(-k):
            r = r << _W
            if self._rows:
                r |= self._rows.pop()
        self._depth += k
        return r

    # ---- the two primitive bijections -----------------------------------
    # (the module docstring has the scheme: digits go on and come off the
    # top of the registers, rows are moved on a schedule set by the bound)
    def _exchange(self, a, d, n):
        """Push ``a`` (digits in [0, d)) and pop a digit in [0, n) (``None``
        for ``n == 1``)."""
        u0 = self._u
        dm = _rmax(d)
        k, u = _normalize(u0, dm, n)
        self._log.append(u0)
        r = self._shift(self._r, k) if k else self._r
        y = a.view(np.uint64) * u
        y += r
        if n == 1:
            self._r, self._u = y, u * dm
            return None
        u1 = -(-(u * dm) // n)
        b = y // u1
        y -= b * u1
        self._r, self._u = y, u1
        return b.view(np.int64)

    def _unexchange(self, b, n, d):
        """Inverse of ``_exchange(., d, n)``: push ``b`` back, pop ``a``."""
        if not self._log:
            raise ValueError("InfoBuffer: nothing to undo (the buffer is empty)")
        u0 = self._log.pop()
        k, u = _normalize(u0, _rmax(d), n)
        y = self._r
        if b is not None:
            y = b.view(np.uint64) * self._u
            y += self._r
        a = y // u
        y = y - a * u
        self._r = self._shift(y, -k) if k else y
        self._u = u0
        return a.view(np.int64)

    # ---- digits ------------------------------------------------------------
    def push(self, values, radix) -> None:
        """Push one digit per element; ``0 <= values < radix``."""
        r = _check_radix(radix)
        v = np.asarray(values)
        if v.dtype.kind not in "iu":
            raise TypeError("values must be integers")
        v = np.broadcast_to(v, self.shape).reshape(-1).astype(np.int64)
        rr = r if type(r) is int else np.broadcast_to(r, self.shape).reshape(-1)
        if v.size and (v.min() < 0 or np.any(v >= rr)):
            raise ValueError("values must lie in [0, radix)")
        self._exchange(v, rr, 1)

    def pop(self, radix) -> np.ndarray:
        """Pop the digits of the last push (which must have used ``radix``)."""
        r = _check_radix(radix)
        rr = r if type(r) is int else np.broadcast_to(r, self.shape).reshape(-1)
        return self._unexchange(None, 1, rr).reshape(self.shape)


# --------------------------------------------------------------------------
# exact rational multiplication
# --------------------------------------------------------------------------
def _check_nd(n, d):
    n, d = _check_radix(n), _check_radix(d)
    if type(n) is not int or type(d) is not int:
        raise TypeError("mul_rational/div_rational: n and d must be integers (one ratio for all elements)")
    return n, d


def mul_rational(q, n, d, buf: InfoBuffer) -> np.ndarray:
    """Exactly reversible ``q <- q * n / d`` on int64 fixed point.

    The result is ``floor(q/d)*n + b``: ``q mod d`` is pushed onto ``buf``
    (radix ``d``) and ``b`` popped (radix ``n``), Maclaurin et al.'s
    Algorithm 3.  Undone by ``div_rational(result, n, d, buf)``.
    """
    n, d = _check_nd(n, d)
    q = np.asarray(q, dtype=np.int64)
    if not _fits(q):
        raise OverflowError("mul_rational: operand exceeds 2**62 in magnitude")
    return _mul(q, n, d, buf)


def _mul(q, n, d, buf):
    qd = q // d
    a = q - qd * d                       # q mod d (floor division), in [0, d)
    if n > d and qd.size:
        # |qd*n + b| < |qd|*n + n <= 2**62, tested without forming qd*n
        m = max(int(qd.max()), -int(qd.min()))
        if m * n + n > _LIMIT:
            raise OverflowError("mul_rational: |q * n / d| would exceed 2**62")
    b = buf._exchange(a.reshape(-1), d, n)       # None for n == 1 (the digit is 0)
    if n != 1:
        qd *= n
        qd += b.reshape(q.shape)
    return qd


def div_rational(q, n, d, buf: InfoBuffer) -> np.ndarray:
    """Exact inverse of ``mul_rational(., n, d, buf)``: ``q <- q * d / n``."""
    n, d = _check_nd(n, d)
    return _div(np.asarray(q, dtype=np.int64), n, d, buf)


def _div(q, n, d, buf):
    qn = q // n
    b = q - qn * n
    a = buf._unexchange(b.reshape(-1), n, d).reshape(q.shape)
    qn *= d
    qn += a
    return qn


# --------------------------------------------------------------------------
# the updates of a compiled reversible loop
# --------------------------------------------------------------------------
def update(q, delta, sign, frac_bits, n=1, d=1, buf=None):
    """One update of a reversible loop, ``x = (n/d) * x + sign * delta``, in
    fixed point: ``mul_rational`` (when ``n/d != 1``) then ``add``/``sub``.
    Returns the new fixed-point state and its value as floats.  Undone by
    ``undo`` with the same arguments."""
    q = np.asarray(q, dtype=np.int64)
    dq = to_fixed(delta, frac_bits)
    if n != d:
        q = _mul(q, n, d, buf)           # q is a state this module checked
    out = _sum(q, dq, sign)
    x = from_fixed(out, frac_bits)
    # |out| <= 2**62 tested on the floats (cheaper), exactly when it is close
    if not (_within(x, 0.999 * 2.0 ** (62 - frac_bits)) or _fits(out)):
        raise OverflowError(_SUM_RANGE)
    return out, x


def undo(q, delta, sign, frac_bits, n=1, d=1, buf=None):
    """The inverse of ``update``: returns the state before it (fixed point and
    floats).  Unchecked: the result is a state the forward sweep held, and a
    loop that does not recompute ``delta`` exactly is caught when the reversal
    misses its first state."""
    q = np.asarray(q, dtype=np.int64)
    # (unchecked: an increment out of range casts to garbage, and the
    # reversal then misses its first state, which is reported)
    out = _sum(q, _rounded(delta, frac_bits).astype(np.int64), -sign)
    if n != d:
        out = _div(out, n, d, buf)
    return out, from_fixed(out, frac_bits)


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
        raise ValueError("max_den must be in [1, 2**24]")
    # a scale above 1 has n > d: the denominator is capped so that n (about
    # gamma * d) is a radix too
    cap = min(int(max_den), max(1, int(_MAX_RADIX / gamma)))
    fr = Fraction(gamma).limit_denominator(cap)
    while fr.numerator > _MAX_RADIX and cap > 1:
        cap //= 2
        fr = Fraction(gamma).limit_denominator(cap)
    n, d = fr.numerator, fr.denominator
    if n == 0:
        n, d = 1, int(max_den)
    if n > _MAX_RADIX:
        raise ValueError("gamma too large for a radix <= 2**24")
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


def _refuse_lazy(values):
    """A reversible loop over Dask arrays is refused: its exact fixed-point
    steps check every step's values (overflow, the information buffer), so
    each step would compute on the driver."""
    from .core import is_lazy
    if any(is_lazy(v) for v in values):
        from .core import at_function
        from .errors import ArgumentError
        raise at_function(
            ArgumentError, "a reversible loop ran on Dask arrays: its exact fixed-point steps inspect every "
            "step's values, which would compute each step on the driver",
            hint="use s2sad.checkpointed for this loop (it runs on Dask arrays as one graph), "
                 "or pass NumPy arrays (x.compute())")


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
        from .loops import report
        report(self)

    def _floats(self, x):
        """The state as the loop body sees it (Python floats stay floats)."""
        return tuple(float(v) if py else v for v, py in zip(x, self._py))

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
        _refuse_lazy(state)
        self._py = [isinstance(v, float) for v in state]
        q = tuple(to_fixed(np.asarray(v, dtype=np.float64), self.F) for v in state)
        x = tuple(from_fixed(v, self.F) for v in q)
        self._segments = [(0, q, self._new_bufs(q))]
        for j in range(self.l):
            if self.K and j and j % self.K == 0:
                self._segments.append((j, q, self._new_bufs(q)))
            q, x = self.exact(self.iterable[j], q, x, self._segments[-1][2])
            if not j:
                _refuse_lazy(x)
        self.stats["forward_steps"] += self.l
        self._q, self._x = q, x
        self._account()
        self.final = self._floats(x)
        return self.final

    def reverse(self, adj):
        q, x = self._q, self._x
        for start, anchor, bufs in reversed(self._segments):
            end = self.l if start == self._segments[-1][0] else None
            for j in range((end if end is not None else self._next_start(start)) - 1, start - 1, -1):
                t = self.iterable[j]
                # the previous state, and what the inverse computed from it
                # that the adjoint's recomputation of the step would repeat
                q, x, handed = self.inverse(t, q, x, bufs)
                gen = self.adjoint(t, *self._floats(x), *handed)
                next(gen)
                adj = gen.send(adj)
            # the reversal must land on the segment's first state, bit for bit
            if not all(np.array_equal(a, b) for a, b in zip(q, anchor)):
                from .errors import S2SadError
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
        from .loops import report
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
        self.final = cur
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
            from .errors import S2SadError
            raise S2SadError("reversible loop (residuals): the reconstructed initial state differs from the "
                             "original", hint="the loop body must be deterministic")
        self.stats["exact"] = True
        self._res = []
        return adj
