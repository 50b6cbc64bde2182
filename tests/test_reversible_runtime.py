"""Tests of s2sad_runtime.reversible: exact reversal of SGD with momentum
(Maclaurin, Duvenaud & Adams 2015) with a vectorized information buffer."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from s2sad_runtime.reversible import (
    FRAC_BITS,
    InfoBuffer,
    add,
    div_rational,
    from_fixed,
    mul_rational,
    rational_approx,
    reverse_sgd_momentum_exact,
    reverse_sgd_momentum_steps,
    sgd_momentum_exact,
    sub,
    to_fixed,
    undo,
    update,
)


# --------------------------------------------------------------------------
# InfoBuffer
# --------------------------------------------------------------------------
def _empty(buf):
    return buf.bits == 0.0 and buf.ops == 0 and buf.depth == 0 and not buf._r.any()


def test_buffer_lifo_many_elements_mixed_radices():
    rng = np.random.default_rng(1)
    buf = InfoBuffer((30, 100))
    pushed = []
    for k in range(400):
        if k % 3 == 0:  # per-element radices
            r = rng.integers(1, 2 ** 24, size=(30, 100), endpoint=True)
        else:
            r = int(rng.choice([1, 2, 3, 7, 10, 100, 255, 65536, 99991, 2 ** 24]))
        v = (rng.random((30, 100)) * r).astype(np.int64)
        v = np.minimum(v, np.asarray(r) - 1)
        buf.push(v, r)
        pushed.append((v, r))
    assert buf.bits > 0 and buf.depth > 0
    for v, r in reversed(pushed):
        np.testing.assert_array_equal(buf.pop(r), v)
    assert _empty(buf)
    assert buf.size == 3000


def test_buffer_random_multiplications_undo_exactly():
    """Random sequences of exchanges (push radix d, pop radix n, including
    n > d and pulls below the bottom) undone in reverse give back every digit
    and the empty buffer."""
    rng = np.random.default_rng(2)
    buf = InfoBuffer(2000)
    log = []
    for _ in range(600):
        d = int(rng.choice([1, 2, 3, 5, 10, 99, 100, 1000, 12345, 2 ** 16, 2 ** 24]))
        n = int(rng.choice([1, 2, 9, 99, 1000, 2 ** 20, 2 ** 24]))
        a = rng.integers(0, d, size=2000)
        b = buf._exchange(a.copy(), d, n)
        if b is not None:
            assert b.min() >= 0 and b.max() < n
        log.append((a, d, n, b))
    for a, d, n, b in reversed(log):
        np.testing.assert_array_equal(buf._unexchange(None if b is None else b.copy(), n, d), a)
    assert buf.bits == 0.0 and buf.ops == 0 and not buf._r.any()


def test_buffer_pop_then_push_is_identity_on_state():
    rng = np.random.default_rng(3)
    buf = InfoBuffer(500)
    for _ in range(50):
        buf.push(rng.integers(0, 1000, 500), 1000)
    r0, u0, rows0 = buf._r.copy(), buf._u, [w.copy() for w in buf._rows]
    for _ in range(3):
        v = buf.pop(1000)
        buf.push(v, 1000)
        np.testing.assert_array_equal(buf._r, r0)
        assert buf._u == u0 and len(buf._rows) == len(rows0)
        for w, w0 in zip(buf._rows, rows0):
            np.testing.assert_array_equal(w, w0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2 ** 24), st.integers(0, 2 ** 62)),
                min_size=1, max_size=60),
       st.integers(1, 5))
def test_buffer_hypothesis_roundtrip(ops, n):
    buf = InfoBuffer(n)
    pushed = []
    for r, seed in ops:
        v = (np.arange(n, dtype=np.int64) * 7919 + seed) % r
        buf.push(v, r)
        pushed.append((v, r))
    for v, r in reversed(pushed):
        np.testing.assert_array_equal(buf.pop(r), v)
    assert _empty(buf)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2 ** 24), st.integers(1, 2 ** 24)), min_size=1, max_size=80),
       st.integers(0, 2 ** 32))
def test_mul_rational_hypothesis_roundtrip_and_accuracy(ratios, seed):
    """Any sequence of exact multiplications undoes bit for bit, and each
    result is within (-1, n/d + 1) of the exact product (up to 1%) (the popped digit is taken
    from the top of the buffer, so it tracks the remainder)."""
    rng = np.random.default_rng(seed)
    q = rng.integers(-2 ** 40, 2 ** 40, size=7)
    buf = InfoBuffer(q.shape)
    states, applied = [q], []
    for n, d in ratios:
        if n > d and np.abs(states[-1]).max() * (n / d) > 2 ** 61:
            continue
        q1 = mul_rational(states[-1], n, d, buf)
        err = [Fraction(int(b)) - Fraction(int(a) * n, d) for a, b in zip(states[-1], q1)]
        assert all(-1.01 < float(e) < n / d + 1 for e in err)
        states.append(q1)
        applied.append((n, d))
    q = states[-1]
    for (n, d), want in zip(reversed(applied), reversed(states[:-1])):
        q = div_rational(q, n, d, buf)
        np.testing.assert_array_equal(q, want)
    assert buf.bits == 0.0


def test_buffer_bits_and_bytes():
    buf = InfoBuffer(1000)
    assert buf.bits == 0.0
    for _ in range(200):
        buf.push(np.full(1000, 3), 10)
    # about log2(10) bits per push per element
    assert abs(buf.bits / (1000 * 200) - np.log2(10)) < 0.01
    # ~665 bits = 21 words of 4 bytes, + 12 bytes of state
    assert buf.nbytes <= 1000 * (4 * 22 + 12)


def test_buffer_validation():
    buf = InfoBuffer(4)
    with pytest.raises(ValueError):
        buf.push(np.array([0, 1, 2, 3]), 3)
    with pytest.raises(ValueError):
        buf.push(np.array([0, 0, 0, -1]), 3)
    with pytest.raises(ValueError):
        buf.push(np.zeros(4, dtype=np.int64), 2 ** 24 + 1)
    with pytest.raises(ValueError):
        buf.pop(0)
    with pytest.raises(TypeError):
        buf.push(np.zeros(4), 3)
    with pytest.raises(ValueError, match="nothing to undo"):
        buf.pop(3)
    with pytest.raises(TypeError, match="one ratio for all elements"):
        mul_rational(np.zeros(4, dtype=np.int64), np.array([1, 2, 3, 4]), 5, buf)


# --------------------------------------------------------------------------
# fixed point and exact rational multiplication
# --------------------------------------------------------------------------
def test_fixed_point_roundtrip_and_overflow():
    x = np.array([0.0, 1.5, -2.25, 2.0 ** -FRAC_BITS, 1e9])
    q = to_fixed(x)
    assert q.dtype == np.int64
    np.testing.assert_array_equal(from_fixed(q), x)
    with pytest.raises(OverflowError, match="frac_bits=32"):
        to_fixed(np.array([1.0, 2.0 ** 31]))
    with pytest.raises(OverflowError):
        to_fixed(np.array([np.nan]))
    assert to_fixed(2.0 ** 40, frac_bits=16) == 2 ** 56
    q = to_fixed(np.array([1.0, -3.0]))
    np.testing.assert_array_equal(sub(add(q, [0.1, 1e-7]), [0.1, 1e-7]), q)
    with pytest.raises(OverflowError):
        add(to_fixed(np.array([2.0 ** 30])), 2.0 ** 30)


@pytest.mark.parametrize("n,d", [(1, 2), (9, 10), (99, 100), (7, 3), (65521, 65536),
                                 (2 ** 24, 2 ** 24 - 1), (12582911, 16777216)])
def test_mul_div_rational_exact(n, d):
    rng = np.random.default_rng(n + d)
    q = rng.integers(-2 ** 40, 2 ** 40, size=5000)
    q[:4] = [0, -1, 1, -(2 ** 40)]
    buf = InfoBuffer(q.shape)
    q1 = mul_rational(q, n, d, buf)
    # the result is within 1 unit of q*n/d (floor(q/d)*n + digit)
    # within n/d + 1 of q*n/d: the digit popped is taken from the top of the
    # buffer (one from the bottom would be off by up to n)
    err = [Fraction(int(b)) - Fraction(int(a) * n, d) for a, b in zip(q, q1)]
    assert all(-1.01 < float(e) < n / d + 1 for e in err)
    q2 = mul_rational(q1, n, d, buf)
    np.testing.assert_array_equal(div_rational(div_rational(q2, n, d, buf), n, d, buf), q)
    assert buf.bits == 0.0


def test_mul_rational_overflow_and_limits():
    buf = InfoBuffer(2)
    q = np.array([2 ** 61, -(2 ** 61)], dtype=np.int64)
    with pytest.raises(OverflowError):
        mul_rational(q, 3, 1, buf)
    assert buf.bits == 0.0  # buffer restored
    # n <= d never overflows, even at the edge of the range
    q = np.array([2 ** 62, -(2 ** 62)], dtype=np.int64)
    np.testing.assert_array_equal(div_rational(mul_rational(q, 1, 2 ** 24, buf), 1, 2 ** 24, buf), q)


def test_rational_approx():
    assert rational_approx(0.5) == (1, 2)
    assert rational_approx(0.9) == (9, 10)
    assert rational_approx(0.99) == (99, 100)
    n, d = rational_approx(np.pi / 4)
    assert d <= 2 ** 16 and abs(n / d - np.pi / 4) < 1e-9
    n, d = rational_approx(1e-9, max_den=1000)
    assert n >= 1 and d <= 1000
    with pytest.raises(ValueError):
        rational_approx(0.0)
    # a scale above 1: n stays a radix (<= 2**24); the denominator is capped
    # near 2**24 / gamma, and the best fraction under that cap is within
    # 1 / cap of gamma (Dirichlet), much closer for most values
    for g in (3.3333333, 1.7320508075688772, 1000.123):
        n, d = rational_approx(g, 2 ** 24)
        assert n <= 2 ** 24 and abs(n / d - g) < 1 / (2 ** 24 // g)
    n, d = rational_approx(1.7320508075688772, 2 ** 24)
    assert abs(n / d - 1.7320508075688772) < 1e-13
    with pytest.raises(ValueError):
        rational_approx(2.0 ** 25)


# --------------------------------------------------------------------------
# SGD with momentum
# --------------------------------------------------------------------------
N_PARAMS, T_STEPS = 10_000, 1000


def _problem(n, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 1.0, n)
    w_star = rng.normal(size=n)

    def grad(w, t):
        return h * (w - w_star)

    return grad, rng.normal(size=n), 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_sgd_momentum_exact_reversal_full_size(gamma):
    """10,000 parameters x 1000 iterations (full size; the reversed SGD
    loop's speed is measured by bench/reversible.py)."""
    grad, w0, v0 = _problem(N_PARAMS)
    w, v, buf = sgd_momentum_exact(w0, v0, grad, 0.1, gamma, T_STEPS)
    # it optimised something (the loop is a real SGD run)
    assert np.abs(from_fixed(w) - w0).max() > 0.1
    bits_per = buf.bits / (N_PARAMS * T_STEPS)
    expected = np.log2(1.0 / gamma)
    assert abs(bits_per / expected - 1.0) < 0.02, (bits_per, expected)
    trajectory_bytes = T_STEPS * 2 * 8 * N_PARAMS
    assert buf.nbytes <= trajectory_bytes / 100, buf.nbytes / trajectory_bytes
    w_r, v_r = reverse_sgd_momentum_exact(w, v, buf, grad, 0.1, gamma, T_STEPS)
    np.testing.assert_array_equal(w_r, to_fixed(w0))
    np.testing.assert_array_equal(v_r, to_fixed(v0))
    assert buf.bits == 0.0


def test_sgd_reverse_steps_reproduce_every_state_with_schedules():
    n, T = 200, 300
    grad, w0, v0 = _problem(n, seed=5)
    rng = np.random.default_rng(6)
    lrs = rng.uniform(0.01, 0.3, T)
    gammas = rng.uniform(0.3, 0.999, T)
    states = []
    w, v = to_fixed(w0), to_fixed(v0)
    buf = InfoBuffer(n)
    for t in range(T):  # forward one step at a time, recording the trajectory
        states.append((w, v))
        w, v, buf = sgd_momentum_exact(from_fixed(w), from_fixed(v),
                                       lambda x, _t, t=t: grad(x, t),
                                       lrs[t:t + 1], gammas[t:t + 1], 1, buf=buf)
    w_all, v_all, buf2 = sgd_momentum_exact(w0, v0, grad, lrs, gammas, T)
    np.testing.assert_array_equal(w_all, w)
    np.testing.assert_array_equal(v_all, v)
    seen = []
    for t, wt, vt in reverse_sgd_momentum_steps(w_all, v_all, buf2, grad, lrs, gammas, T):
        np.testing.assert_array_equal(wt, states[t][0])
        np.testing.assert_array_equal(vt, states[t][1])
        seen.append(t)
    assert seen == list(range(T - 1, -1, -1))


def _naive_float_reversal_error(gamma, T, n=2000):
    grad, w0, v0 = _problem(n)
    w, v = w0.copy(), v0.copy()
    for t in range(T):
        v = gamma * v - (1 - gamma) * grad(w, t)
        w = w + 0.1 * v
    with np.errstate(all="ignore"):
        for t in reversed(range(T)):
            w = w - 0.1 * v
            v = (v + (1 - gamma) * grad(w, t)) / gamma
    err = np.max(np.abs(w - w0))
    return err if np.isfinite(err) else np.inf


def test_naive_float_reversal_fails():
    """Without the buffer, dividing by gamma amplifies rounding error by
    (1/gamma) per step: the reversed trajectory is garbage."""
    for gamma in (0.5, 0.9):
        errs = [_naive_float_reversal_error(gamma, T) for T in (10, 100, 1000)]
        assert errs[0] < 1e-10
        assert errs[2] > 1.0, errs  # completely wrong
        assert errs[0] < errs[1] < errs[2]
    e100, e1000 = (_naive_float_reversal_error(0.99, T) for T in (100, 1000))
    assert e1000 > 10 * e100  # grows, even for gamma close to 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32), st.sampled_from([(1, 1), (9, 10), (99, 100), (7, 3), (12582911, 16777216)]),
       st.sampled_from([1, -1]), st.integers(20, 52))
def test_update_and_undo_are_inverse_and_match_the_parts(seed, nd, sign, frac_bits):
    """``update`` is mul_rational then add/sub, with the float value; ``undo``
    gives back the state bit for bit."""
    n, d = nd
    rng = np.random.default_rng(seed)
    x = rng.normal(size=100) * 3
    delta = rng.normal(size=100) * 1e-2
    q = to_fixed(x, frac_bits)
    b1, b2 = InfoBuffer(q.shape), InfoBuffer(q.shape)
    q1, x1 = update(q, delta, sign, frac_bits, n, d, b1)
    parts = mul_rational(q, n, d, b2) if n != d else q
    parts = add(parts, delta, frac_bits) if sign > 0 else sub(parts, delta, frac_bits)
    np.testing.assert_array_equal(q1, parts)
    np.testing.assert_array_equal(x1, from_fixed(q1, frac_bits))
    q0, x0 = undo(q1, delta, sign, frac_bits, n, d, b1)
    np.testing.assert_array_equal(q0, q)
    np.testing.assert_array_equal(x0, from_fixed(q, frac_bits))
    assert b1.bits == 0.0


def test_update_range_checks():
    q = to_fixed(np.full(200, 2.0 ** 13), 48)
    with pytest.raises(OverflowError, match="left the range"):
        update(q, np.full(200, 2.0 ** 13 + 1), 1, 48)
    with pytest.raises(OverflowError, match="does not fit"):
        update(q, np.full(200, np.nan), 1, 48)
    with pytest.raises(OverflowError, match="does not fit"):
        update(q[:3], np.array([0.0, np.inf, 0.0]), -1, 48)
    # at the edge of the range (the one-pass test fails, the exact one passes)
    edge = to_fixed(np.full(200, 2.0 ** 14 - 2.0 ** -20), 48)
    q1, _ = update(edge, np.full(200, 2.0 ** -40), -1, 48)
    assert np.all(q1 < edge)
