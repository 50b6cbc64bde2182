"""The Numba backend's simplification (s2sad/backends/numba_simplify.py)
and the symbolic shapes it rests on: unbroadcasts dropped only where the
shapes provably agree, adjoints accumulated in place only where nothing
else holds them, temporaries inlined only where nothing they read changes,
and the vectorised tanh within a few ulp of NumPy's.  Every case is
checked against the Python backend and central differences."""

import warnings

import numpy as np
import pytest

import s2sad
from s2sad.analysis.symbolic_shapes import ONE, TOP, broadcast, shape_key
from s2sad.backends import numba_backend as nbb

from helpers import numeric_grad

numba = pytest.importorskip("numba")

RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S2SAD_CACHE_DIR", str(tmp_path / "cache"))


# ---------------------------------------------------------------- symbols


def test_shape_key_names_size_classes_and_ones():
    a, b, c = np.zeros((3, 4)), np.zeros((4, 1)), np.zeros(3)
    k = shape_key((a, b, 2.0, c))
    assert k[2] is None
    assert k[0][0] == k[3][0] != k[0][1] == k[1][0]
    assert k[1][1] == ONE
    # the same pattern for other sizes with the same equalities
    assert shape_key((np.zeros((5, 7)), np.zeros((7, 1)), 1.0, np.zeros(5))) == k
    assert shape_key((np.zeros((5, 5)), np.zeros((5, 1)), 1.0, np.zeros(5))) != k


def test_broadcast_of_symbols():
    a, b = -2, -3
    assert broadcast((a,), (ONE,)) == (a,)
    assert broadcast((a, ONE), (b,)) == (a, b)
    assert broadcast((), (a,)) == (a,)
    assert broadcast((a,), (b,)) == TOP          # fails at run time: nothing claimed
    assert broadcast((a,), TOP) == TOP


# ---------------------------------------------------------------- programs


def _compiled(f, args, wrt):
    df = s2sad.grad(f, wrt=wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", nbb.BackendFallbackWarning)
        got = df(*args)
    assert df.backend_info["backend"] == "numba" and df.backend_info["fallback"] is None, df.backend_info
    return df, got


def _check(f, args, wrt, rtol=1e-9):
    df, got = _compiled(f, args, wrt)
    want = s2sad.grad(f, wrt=wrt)(*args)
    gots = got if isinstance(wrt, tuple) else (got,)
    wants = want if isinstance(wrt, tuple) else (want,)
    for w, g, h in zip(wrt if isinstance(wrt, tuple) else (wrt,), gots, wants):
        assert np.shape(g) == np.shape(h) and np.asarray(g).dtype == np.asarray(h).dtype
        np.testing.assert_allclose(g, h, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(g, numeric_grad(f, args, w, 1e-6), rtol=1e-5, atol=1e-6)
    return df


def scaled_tanh(x, y):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(x * y) * x)
        x = x + 0.5 * y
    return s


def test_a_size_one_dimension_keeps_its_unbroadcast():
    x = RNG.standard_normal(4)
    df = _check(scaled_tanh, (x, RNG.standard_normal(4)), (0, 1))
    assert "_nb_unbroadcast" not in df.compiled_source
    # y of shape (1,): another variant, whose adjoint of y is summed
    df.__call__(x, np.array([0.3]))
    _check(scaled_tanh, (x, np.array([0.3])), (0, 1))
    got = df(x, np.array([0.3]))
    want = s2sad.grad(scaled_tanh, wrt=(0, 1))(x, np.array([0.3]))
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
    assert got[1].shape == (1,)
    assert df.backend_info["signatures"] == 2


def rnn(W, U, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
    return np.sum(h * h)


@pytest.mark.parametrize("n,m", [(4, 4), (4, 3)], ids=["square", "rectangular"])
def test_matrix_weights_accumulate_in_place(n, m):
    args = (0.4 * RNG.standard_normal((n, n)), 0.4 * RNG.standard_normal((n, m)), RNG.standard_normal(n),
            RNG.standard_normal((6, m)), RNG.standard_normal(n))
    df = _check(rnn, args, (0, 1, 2, 4))
    assert "_nb_matmul_adjoint_a_accumulate(W_adj" in df.compiled_source
    assert "_nb_tanh(" in df.compiled_source


def test_float32_keeps_allocating_accumulators_and_float32_results():
    args = tuple(np.asarray(a, np.float32) for a in
                 (0.4 * RNG.standard_normal((4, 4)), 0.4 * RNG.standard_normal((4, 3)), RNG.standard_normal(4),
                  RNG.standard_normal((6, 3)), RNG.standard_normal(4)))
    df = s2sad.grad(rnn, wrt=(0, 1, 2, 4), backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nbb.BackendFallbackWarning)
        got = df(*args)
    want = s2sad.grad(rnn, wrt=(0, 1, 2, 4))(*args)
    # (the lowered source, compiled or not: no in-place accumulation)
    assert "_nb_add_inplace" not in df.compiled_source
    assert "_nb_matmul_adjoint_a_accumulate" not in df.compiled_source
    for g, w in zip(got, want):
        assert g.dtype == w.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def rebinds_between(x, k):
    t = x * 2.0 + k
    x = x + 1.0
    u = t * x
    x = np.tanh(x)
    return np.sum(u * x + t)


def test_a_temporary_is_not_inlined_past_a_rebinding_of_what_it_reads():
    _check(rebinds_between, (RNG.standard_normal(5), 0.3), (0, 1))


def aliases(x, y):
    a = x
    b = a * y
    c = a
    for i in range(4):
        c = c * 0.9 + b
        b = b + np.tanh(c)
    d = b
    return np.sum(d * c) + np.sum(a * a)


def test_copies_and_aliases_of_adjoints():
    _check(aliases, (RNG.standard_normal(6), RNG.standard_normal(6)), (0, 1))


def writes_elements(x, w):
    u = x * 1.0
    acc = 0.0
    for j in range(1, x.shape[0] - 1):
        t = u * w
        u[j] = u[j] + 0.1 * (u[j + 1] - 2.0 * u[j] + u[j - 1])
        acc = acc + np.sum(t * u)
    return acc


def test_element_writes_stop_inlining_and_in_place():
    _check(writes_elements, (RNG.standard_normal(7), RNG.standard_normal(7)), (0, 1))


G = np.array([0.5, -1.0, 2.0])


def reads_a_global(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(x * G))
        x = x * 0.5 + G
    return s


def test_a_changed_global_is_read_at_the_call():
    global G
    x = RNG.standard_normal(3)
    df, first = _compiled(reads_a_global, (x,), 0)
    G = np.array([1.5, 0.25, -0.5])
    try:
        got = df(x)
        np.testing.assert_allclose(got, s2sad.grad(reads_a_global)(x), rtol=1e-9)
        np.testing.assert_allclose(got, numeric_grad(reads_a_global, (x,), 0, 1e-6), rtol=1e-5, atol=1e-6)
    finally:
        G = np.array([0.5, -1.0, 2.0])


# ---------------------------------------------------------------- tanh


def test_vectorised_tanh_is_within_a_few_ulp_of_numpy():
    from s2sad_runtime import numba_helpers as nh

    @numba.njit
    def t(x):
        return nh.tanh(x)

    scales = (1e-300, 1e-12, 1e-4, 0.1, 0.34657, 1.0, 3.0, 10.0, 21.0, 40.0)
    x = np.concatenate([np.random.default_rng(0).standard_normal(20000) * s for s in scales])
    got, want = t(x), np.tanh(x)
    ulp = np.abs(got - want) / np.spacing(np.abs(want))
    assert ulp.max() <= 4, ulp.max()
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 22.0, -22.0, 1e-320])
    got = t(special)
    np.testing.assert_array_equal(got[:4], np.tanh(special[:4]))
    assert np.signbit(got[1]) and not np.signbit(got[0])
    assert np.isnan(got[4]) and got[5] == 1.0 and got[6] == -1.0
    # any rank and layout; other dtypes keep NumPy's
    m = RNG.standard_normal((5, 4)).T
    np.testing.assert_allclose(t(m), np.tanh(m), rtol=4e-16 * 4, atol=0)
    f32 = RNG.standard_normal(7).astype(np.float32)
    assert t(f32).dtype == np.float32
    np.testing.assert_allclose(t(f32), np.tanh(f32), rtol=1e-6)   # (Numba's float32 tanh)


# ---------------------------------------------------------------- the rewrites on hand-made IR


def _simplified(body, args):
    """The simplified source of a function of parameters a0, a1... with
    ``body`` (IR), for a call with ``args``."""
    from s2sad.analysis.scalar_types import scalar_types, value_type
    from s2sad.backends.numba_lower import helper_ref
    from s2sad.backends.numba_simplify import simplify
    from s2sad.ir import nodes as N
    from s2sad.ir import render as R
    params = [f"a{i}" for i in range(len(args))]
    fdef = N.FunctionDef("f", params, body)
    types = [value_type(a) for a in args]
    out = simplify(fdef, args, shape_key(args), types, scalar_types(fdef, dict(zip(params, types))), helper_ref)
    return R.source(out)


def _ir():
    import s2sad_runtime as rt
    from s2sad.ir import nodes as N
    name = N.Name

    def add(a, b):
        return N.BinOp("Add", a, b)

    def mul(a, b):
        return N.BinOp("Mult", a, b)
    zeros = N.Attr(N.Static("_rt", rt), "zeros_like")
    return N, name, add, mul, zeros


def test_an_accumulator_another_name_holds_is_not_updated_in_place():
    N, name, add, mul, zeros = _ir()
    x = np.ones(3)
    grows = [N.Assign(name("A"), N.Call(zeros, (name("a0"),))), N.Assign(name("A"), add(name("A"), name("a0")))]
    assert "add_inplace" in _simplified(grows + [N.Return(mul(name("A"), name("a0")))], (x,))
    kept = [grows[0], N.Assign(name("B"), name("A")), N.Assign(name("B"), mul(name("B"), name("a0"))),
            N.Assign(name("C"), name("A")), grows[1], N.Return(add(name("A"), name("C")))]
    src = _simplified(kept, (x,))
    assert "add_inplace" not in src, src
    pushed = [grows[0], N.Push(name("A"), slot=("save", 1, "A")), grows[1], N.Return(mul(name("A"), name("a0")))]
    assert "add_inplace" not in _simplified(pushed, (x,))


def test_element_updates_of_an_own_accumulator_are_plain_indexing():
    """An element loop's reverse sweep: ``A = index_accumulate_inplace(A,
    g, x, i)`` and ``zero_slot_inplace(A, i)`` become ``A[i] = A[i] + g``
    and ``A[i] = 0.0`` when ``A`` is always an array of its own; not when
    another name holds it, not for an index that selects a row."""
    import s2sad_runtime as rt
    N, name, add, mul, zeros = _ir()
    x = np.ones(4)
    acc = N.Attr(N.Static("_rt", rt), "index_accumulate_inplace")
    zero = N.Attr(N.Static("_rt", rt), "zero_slot_inplace")
    i = N.Const(2)
    own = [N.Assign(name("A"), mul(name("a0"), N.Const(2.0))),
           N.Assign(name("A"), N.Call(zero, (name("A"), i))),
           N.Assign(name("A"), N.Call(acc, (name("A"), N.Const(1.5), name("a0"), i)))]
    src = _simplified(own + [N.Return(mul(name("A"), name("a0")))], (x,))
    assert "A[2] = 0.0" in src and "A[2] = A[2] + 1.5" in src and "index_accumulate" not in src, src
    held = own[:1] + [N.Assign(name("B"), name("A"))] + own[1:] + [N.Return(add(name("A"), name("B")))]
    src = _simplified(held, (x,))
    assert "A[2] = 0.0" not in src and "zero_slot_inplace(A, 2)" in src, src
    row = [N.Assign(name("A"), mul(name("a0"), N.Const(2.0))), N.Assign(name("A"), N.Call(zero, (name("A"), i))),
           N.Return(mul(name("A"), name("a0")))]
    src = _simplified(row, (np.ones((4, 3)),))
    assert "zero_slot_inplace(A, 2)" in src, src


def test_the_stencils_reverse_sweep_indexes_elements():
    """The heat stencil's reverse sweep reads and updates its adjoint one
    element at a time, as plain indexing (it was six helper calls per
    element), with the Python backend's gradient."""
    from numba_funcs import heat
    df = _check(heat, (RNG.standard_normal(9), 0.1, 5), (0, 1))
    src = df.compiled_source
    assert "u_adj[j] = 0.0" in src and "_nb_index_accumulate_inplace" not in src and "_nb_copy_slot" not in src, src


def test_a_temporary_stays_where_what_it_reads_changes():
    N, name, add, mul, zeros = _ir()
    x = np.ones(3)
    t = N.Assign(name("t"), mul(name("a0"), N.Const(2.0)))
    use = N.Assign(name("u"), add(name("t"), N.Const(1.0)))
    ret = N.Return(mul(name("u"), name("a0")))
    assert "t =" not in _simplified([t, use, ret], (x,))
    for between in (N.Assign(name("a0"), add(name("a0"), N.Const(1.0))),                # rebinds what t reads
                    N.Assign(N.Sub(name("a0"), N.Const(0)), N.Const(5.0)),              # writes into it
                    N.Eval(N.Call(N.Static("copyto", np.copyto), (name("a0"), N.Const(0.0))))):
        src = _simplified([t, between, use, ret], (x,))
        assert "t = a0 * 2.0" in src, src


def test_in_place_helpers_keep_pythons_dtype_rules():
    from s2sad_runtime import numba_helpers as nh

    @numba.njit
    def add(a, b):
        return nh.add_inplace(a, b)

    a = np.array([1, 2, 3])
    out = add(a, 0.5)                       # an int accumulator: a new float array, as in Python
    assert out.dtype == np.float64 and np.array_equal(out, a + 0.5) and np.array_equal(a, [1, 2, 3])
    f = np.array([1.0, 2.0])
    assert add(f, np.array([1.0, 1.0])) is not None and np.array_equal(f, [2.0, 3.0])     # float64: in place
    f32 = np.array([1.0, 2.0], np.float32)
    r = add(f32, np.array([0.25, 0.25]))
    assert r.dtype == np.float64 and np.array_equal(f32, [1.0, 2.0])


# ------------------------------------------------ helpers against Python's


def _products():
    from s2sad_runtime import numba_helpers as nh

    @numba.njit
    def prod(a, b, g):
        return nh.matmul(a, b), nh.matmul_adjoint_a(g, a, b), nh.matmul_adjoint_b(g, a, b)
    return prod


_SHAPES = {"mv": ((3, 4), (4,)), "mm": ((3, 4), (4, 2)), "vm": ((4,), (4, 2)), "vv": ((4,), (4,))}


@pytest.mark.parametrize("dt,kind", [(np.float64, k) for k in _SHAPES] + [(np.float32, "mv"), (np.complex128, "mm")])
def test_products_and_their_adjoints_equal_the_python_runtimes(dt, kind):
    """``a @ b`` and its adjoints through ``np.dot`` into a fresh array,
    C- and F-ordered operands, against NumPy and the Python runtime."""
    import s2sad_runtime as rt
    prod = _products()
    sa, sb = _SHAPES[kind]

    def draw(s):
        x = RNG.standard_normal(s) + (1j * RNG.standard_normal(s) if dt is np.complex128 else 0)
        return x.astype(dt)
    for order in "CF":
        a, b = np.asarray(draw(sa), order=order), np.asarray(draw(sb), order=order)
        g = draw(np.shape(a @ b))
        got = prod(a, b, g)
        want = (a @ b, rt.matmul_adjoint_a(g, a, b), rt.matmul_adjoint_b(g, a, b))
        tol = 1e-5 if dt is np.float32 else 1e-12
        for x, y in zip(got, want):
            assert np.shape(x) == np.shape(y)
            assert np.ndim(x) == 0 or x.dtype == y.dtype      # (Numba returns a number as a Python one)
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def test_mixed_dtype_products_keep_numpys_promotion():
    from s2sad_runtime import numba_helpers as nh

    @numba.njit
    def prod(a, b):
        return nh.matmul(a, b)

    a, b = RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(4)
    got = prod(a, b)
    assert got.dtype == (a @ b).dtype
    np.testing.assert_allclose(got, a @ b, rtol=1e-6)


@pytest.mark.parametrize("idx,gshape", [((slice(None), slice(1, 3)), (3, 2)), ((1, slice(None)), (5,)),
                                        ((2, 4), ()), ((slice(0, 3), slice(None)), ()),
                                        ((slice(None), slice(1, 3)), (1, 2))],
                         ids=["columns", "row", "element", "scalar-into-slice", "broadcast-row"])
def test_slice_adjoints_equal_the_python_runtimes(idx, gshape):
    """The adjoint of a read ``x[idx]`` put into zeros (and added into an
    accumulator in place) through the view, as the Python runtime does,
    broadcasting included."""
    import s2sad_runtime as rt
    from s2sad_runtime import numba_helpers as nh

    @numba.njit
    def adj(g, x, idx, a):
        return nh.index_adjoint(g, x, idx), nh.index_accumulate_inplace(a, g, x, idx)

    x = RNG.standard_normal((3, 5))
    g = RNG.standard_normal(gshape) if gshape else 0.7
    a = RNG.standard_normal((3, 5))
    want = (rt.index_adjoint(g, x, idx), a + rt.index_adjoint(g, x, idx))
    got = adj(g, x, idx, a.copy())
    for u, w in zip(got, want):
        np.testing.assert_array_equal(u, w)
    for bad in (np.ones((3, 3)), np.ones((2, 2)), np.ones((1, 3, 2))):
        with pytest.raises(ValueError, match="broadcast"):          # as NumPy (Numba's += does not check)
            adj(bad, x, (slice(None), slice(1, 3)), a.copy())


def gates(Wx, Wh, X):
    """Slices of a product's columns as an LSTM reads its gates, matrix
    by matrix, vector by matrix."""
    H = Wh.shape[0]
    h = np.zeros((X.shape[1], H))
    v = np.zeros(H)
    for t in range(X.shape[0]):
        z = X[t] @ Wx + h @ Wh
        h = np.tanh(z[:, :H]) * (1.0 / (1.0 + np.exp(-z[:, H:])))
        v = np.tanh((v @ Wh)[H:] + z[0, :H])
    return np.sum(h * h) + np.sum(v)


@pytest.mark.slow
def test_gates_read_as_column_slices_of_products():
    """(Slow: Numba compiles a two-dimensional gradient for some 9 s.)"""
    H, D, B = 3, 4, 2
    args = (0.5 * RNG.standard_normal((D, 2 * H)), 0.5 * RNG.standard_normal((H, 2 * H)),
            RNG.standard_normal((5, B, D)))
    _check(gates, args, (0, 1))


# ---------------------------------------------------------------- array tapes


def triangle(x, c):
    s = 0.0
    n = x.shape[0]
    for i in range(n):
        for j in range(i, n, 2):          # trip counts that change with i
            t = x[i] * x[j] + c
            if t > 0.0:
                s = s + np.sin(t) * t
            else:
                s = s - t * c
    return s


def while_saves(x, c):
    s = 0.0
    i = 0
    while i < x.shape[0]:
        s = s + np.sin(x[i] * s + c)
        i = i + 1
    return s


def test_numbers_saved_in_range_loops_go_to_array_tapes():
    """Numbers saved in ``for`` loops over ranges are written into arrays
    (reserved before each loop, grown past 16 values), numbers saved in a
    ``while`` loop keep a list; both give the Python backend's gradient."""
    x, c = RNG.standard_normal(23), 0.3
    df = _check(triangle, (x, c), (0, 1))
    src = df.compiled_source
    assert "_nb_tape_reserve(" in src and "np.empty(16, dtype=np.float64)" in src and ".append(" not in src, src
    df = _check(while_saves, (x, c), (0, 1))
    assert ".append(" in df.compiled_source and "_nb_tape_reserve" not in df.compiled_source


def test_the_tapes_of_a_second_call_start_empty():
    """A second call with a longer input: the arrays grow again from 16."""
    df, _ = _compiled(triangle, (RNG.standard_normal(5), 0.3), (0, 1))
    x = RNG.standard_normal(40)
    got = df(x, -0.2)
    want = s2sad.grad(triangle, wrt=(0, 1))(x, -0.2)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)


def damped_wave(u0, c, steps):
    u = u0.copy()
    v = np.zeros_like(u0)
    n = u.shape[0]
    for t in range(steps):
        for j in range(1, n - 1):
            v[j] = 0.99 * v[j] + c * (u[j + 1] - 2.0 * u[j] + u[j - 1])
        for j in range(1, n - 1):
            u[j] = u[j] + 0.1 * v[j]
    return np.sum(u * u) + 0.5 * np.sum(v * v)


def test_an_array_made_by_zeros_like_is_followed():
    """``np.zeros_like(u0)`` has ``u0``'s shape and dtype: its elements are
    float64 numbers, saved in array tapes and indexed in place (the
    analyses stopped at it, and every saved element went to a list)."""
    df = _check(damped_wave, (RNG.standard_normal(12), 0.2, 4), (0, 1))
    src = df.compiled_source
    assert ".append(" not in src and "_nb_copy_slot" not in src and "v_adj[j] = 0.0" in src, src


@pytest.mark.parametrize("shapes,axis", [([(3,), (4,)], 0), ([(2, 3), (4, 3), (1, 3)], 0), ([(3, 2), (3, 4)], 1),
                                         ([(3, 2), (3, 4)], -1), ([(2, 3, 1), (2, 3, 2)], 2),
                                         ([(2, 2), (3, 2)], None)],
                         ids=["vectors", "rows", "columns", "last-axis", "3d", "flat"])
def test_concatenate_pieces_equal_the_python_runtime(shapes, axis):
    # the pieces as generated code passes them: a list literal
    from s2sad_runtime import numba_calls as nh
    import s2sad_runtime as rt

    @numba.njit
    def piece2(g, a, b, axis, k):
        return nh.concatenate_piece(g, [a, b], axis, k)

    @numba.njit
    def piece3(g, a, b, c, axis, k):
        return nh.concatenate_piece(g, [a, b, c], axis, k)

    arrays = [RNG.standard_normal(s) for s in shapes]
    g = RNG.standard_normal(np.concatenate(arrays, axis).shape)
    for k in range(len(arrays)):
        want = rt.concatenate_piece(g, arrays, axis, k)
        got = (piece2 if len(arrays) == 2 else piece3)(g, *arrays, axis, k)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("args", [(1.0, 2.0), (2.0, 2.0, 1.0), (3, 2.5), (2.5, 3), (0.0, -0.0), (-0.0, 0.0),
                                  (float("nan"), 1.0), (1.0, float("nan")), (1.0, float("nan"), 2.0),
                                  (float("nan"), float("nan"))],
                         ids=lambda a: repr(a).replace(" ", ""))
def test_builtin_max_and_min_adjoints_equal_the_python_runtime(args):
    # the argument Python returned gets the whole adjoint: ties to the first,
    # a NaN result to the NaN; the arguments as generated code passes them
    # (a list literal), and as a tuple
    from s2sad_runtime import numba_calls as nh
    import s2sad_runtime as rt

    @numba.njit
    def as_list(g, ans, args, k):
        seq = [args[0], args[1]] if len(args) == 2 else [args[0], args[1], args[-1]]
        return nh.builtin_extremum_adjoint(g, ans, seq, k)

    @numba.njit
    def as_tuple(g, ans, args, k):
        return nh.builtin_extremum_adjoint(g, ans, args, k)

    for f in (max, min):
        ans = f(*args)
        for k in range(len(args)):
            want = rt.builtin_extremum_adjoint(2.0, ans, args, k)
            assert as_tuple(2.0, float(ans), args, k) == want, (f, args, k)
            assert as_list(2.0, float(ans), tuple(float(a) for a in args), k) == want, (f, args, k)
