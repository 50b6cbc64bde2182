"""Gradients of arrays that are not NumPy's, through the array API
(issue #18): array-api-strict (the stand-in for "an array library that is
not NumPy", which refuses every NumPy-only call) and PyTorch tensors
through array-api-compat.

The gradient corpora (``corpus_straight``, ``corpus_control``) are run on
array-api-strict with their ``np`` bound to array-api-strict's namespace:
every function whose primal runs there (it uses only array API operations)
must give the gradient NumPy gives (itself checked against finite
differences by test_corpus.py), as arrays of the input's type.
"""

from __future__ import annotations

import importlib.util
import types

import numpy as np
import pytest

import s2sad
import corpus_straight as CS
import corpus_control  # noqa: F401  (registers its cases)
from helpers import numeric_grad

xps = pytest.importorskip("array_api_strict")
compat = pytest.importorskip("array_api_compat")
from array_api_compat import array_namespace  # noqa: E402

STRICT = type(xps.asarray(1.0))


def _with_namespace(fn, ns):
    """``fn`` with its global ``np`` bound to the namespace ``ns``: code
    written with array API operations only, as a user of ``ns`` writes it."""
    g = dict(fn.__globals__)
    g["np"] = ns
    f = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    f.__qualname__, f.__module__ = fn.__qualname__, fn.__module__
    return f


def _convert(a, asarray):
    if isinstance(a, np.ndarray):
        return asarray(a)
    if isinstance(a, list):
        return [_convert(v, asarray) for v in a]
    if isinstance(a, tuple):
        return tuple(_convert(v, asarray) for v in a)
    if isinstance(a, dict):
        return {k: _convert(v, asarray) for k, v in a.items()}
    return a


def _runs_on(c, ns, asarray):
    """Does the case's primal run on ``ns`` (array API operations only)?"""
    try:
        _with_namespace(c.fn, ns)(*_convert(c.make_args(), asarray))
    except Exception:
        return False
    return True


def _strict_cases():
    out = []
    for mod in ("corpus_straight", "corpus_control"):
        for c in CS.cases(mod):
            if not c.xfail and _runs_on(c, xps, xps.asarray):
                out.append(pytest.param(c, id=c.id))
    return out


STRICT_CASES = _strict_cases()


def test_most_of_the_corpus_is_array_api():
    # the corpora hold 223 functions; 145 use only array API operations
    assert len(STRICT_CASES) >= 140


def _assert_same(got, ref, array_type, label):
    if isinstance(ref, (list, tuple)):
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            _assert_same(g, r, array_type, label)
        return
    if isinstance(ref, dict):
        for k in ref:
            _assert_same(got[k], ref[k], array_type, label)
        return
    if isinstance(ref, np.ndarray):
        assert type(got) is array_type, f"{label}: a {type(got).__name__} for an array input"
        got = np.asarray(got)
        assert got.shape == ref.shape
    np.testing.assert_allclose(np.asarray(got, dtype=float), ref, rtol=1e-10, atol=1e-12, err_msg=label)


@pytest.mark.parametrize("c", STRICT_CASES)
def test_corpus_on_array_api_strict(c):
    args = c.make_args()
    wrt = c.wrt[0] if len(c.wrt) == 1 else tuple(c.wrt)
    ref = s2sad.grad(c.fn, wrt=wrt)(*args)
    got = s2sad.grad(_with_namespace(c.fn, xps), wrt=wrt)(*_convert(args, xps.asarray))
    _assert_same(got, ref, STRICT, c.id)


# --------------------------------------------------------------------------
# code written against a namespace: a module argument, array_namespace


def mlp_xp(W, b, X, y, xp=np):
    h = xp.tanh(X @ W + b)
    p = 1.0 / (1.0 + xp.exp(-xp.sum(h, axis=1)))
    return -xp.mean(y * xp.log(p) + (1.0 - y) * xp.log(1.0 - p))


def mlp_namespace(W, b, X, y):
    xp = array_namespace(W, X)
    h = xp.tanh(X @ W + b)
    z = xp.sum(h * h, axis=1) - xp.max(h, axis=1)
    return xp.mean(xp.where(y > 0.5, z, -z) ** 2) + xp.sum(xp.maximum(W, 0.1) ** 2)


def _data():
    r = np.random.default_rng(3)
    return r.normal(size=(4, 3)), r.normal(size=3), r.normal(size=(6, 4)), (r.uniform(size=6) > 0.5) * 1.0


def _fd(f, args, k):
    return numeric_grad(f, args, k)


def test_module_argument_on_numpy_matches_differences():
    args = _data()
    gW, gb = s2sad.grad(mlp_xp, wrt=(0, 1))(*args)
    np.testing.assert_allclose(gW, _fd(mlp_xp, list(args), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, _fd(mlp_xp, list(args), 1), rtol=1e-6, atol=1e-8)


def test_module_argument_on_array_api_strict():
    args = _data()
    ref = s2sad.grad(mlp_xp, wrt=(0, 1))(*args)
    got = s2sad.grad(mlp_xp, wrt=(0, 1))(*_convert(args, xps.asarray), xps)
    _assert_same(got, ref, STRICT, "mlp_xp")


def test_array_namespace_on_numpy_and_strict():
    args = _data()
    df = s2sad.grad(mlp_namespace, wrt=(0, 1))
    ref = df(*args)
    np.testing.assert_allclose(ref[0], _fd(mlp_namespace, list(args), 0), rtol=1e-6, atol=1e-8)
    got = df(*_convert(args, xps.asarray))
    _assert_same(got, ref, STRICT, "mlp_namespace")
    # one variant per library, both kept
    np.testing.assert_allclose(df(*args)[0], ref[0], rtol=0, atol=0)
    assert "xp.tanh" in df.source or "xp_g.tanh" in df.source


def test_float32_stays_float32_on_strict():
    args = [a.astype(np.float32) for a in _data()]
    got = s2sad.grad(mlp_namespace, wrt=(0, 1))(*_convert(args, xps.asarray))
    assert got[0].dtype == xps.float32 and got[1].dtype == xps.float32
    ref = s2sad.grad(mlp_namespace, wrt=(0, 1))(*[a.astype(np.float64) for a in args])
    np.testing.assert_allclose(np.asarray(got[0]), ref[0], rtol=1e-4, atol=1e-5)


def _module_from(path, text):
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_integer_array_indexing_on_strict(tmp_path):
    m = _module_from(tmp_path / "uses_take.py", (
        "def f(x, i, xp):\n"
        "    return xp.sum(xp.sin(x)[i] ** 2)\n"))
    x = np.arange(6.0)
    i = np.array([[0, 1], [1, 1]])
    ref = s2sad.grad(m.f)(x, i, np)
    got = s2sad.grad(m.f)(xps.asarray(x), xps.asarray(i), xps)
    np.testing.assert_allclose(np.asarray(got), ref)
    # two integer arrays, and a gather along the second axis
    m2 = _module_from(tmp_path / "uses_two_indices.py", (
        "def f(x, i, j, xp):\n"
        "    y = xp.reshape(x, (2, 3))\n"
        "    return xp.sum(y[i, j] ** 3) + xp.sum(xp.take(y, j, axis=1) ** 2)\n"))
    i, j = np.array([0, 1, 1]), np.array([2, 2, 0])
    ref = s2sad.grad(m2.f)(x, i, j, np)
    got = s2sad.grad(m2.f)(xps.asarray(x), xps.asarray(i), xps.asarray(j), xps)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12)


def test_missing_numpy_function_is_named_at_the_user_line(tmp_path):
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as xt
    m = _module_from(tmp_path / "slice_between.py", (
        "def f(x, i, j, xp):\n"
        "    y = xp.reshape(x, (2, 3, 2))\n"
        "    return xp.sum(y[i, 1:, j] ** 2)\n"))
    x, i, j = np.arange(12.0), np.array([0, 1, 1]), np.array([1, 1, 0])
    with pytest.raises(s2sad.S2SadError) as e:
        s2sad.grad(m.f)(torch.asarray(x), torch.asarray(i), torch.asarray(j), xt)
    msg = str(e.value)
    assert "slice_between.py:3" in msg and "y[i, 1:, j]" in msg and "numpy.add.at" in msg
    assert s2sad.grad(m.f)(x, i, j, np).shape == (12,)       # NumPy itself has add.at


def test_library_methods_are_not_read_as_numpy():
    torch = pytest.importorskip("torch")

    def f(x):
        return x.std(axis=0).sum()      # torch: the sample standard deviation, not NumPy's

    with pytest.raises(s2sad.NoRuleError, match=r"\.std\(\)"):
        s2sad.grad(f)(torch.ones(3, 2, dtype=torch.float64))
    # the same code on NumPy arrays is NumPy's std
    x = np.random.default_rng(0).normal(size=(3, 2))
    np.testing.assert_allclose(s2sad.grad(f)(x), numeric_grad(f, [x], 0), rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# PyTorch tensors through array-api-compat

TORCH_CASES = ["mlp2_mse", "softmax_xent_maxsub", "layer_norm", "ridge_closed_form", "rbf_kernel_broadcast",
               "poisson_glm", "batched_slogdet_inv", "while_array_condition", "inplace_index_writes",
               "leapfrog", "concatenate_stack"]


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)     # NumPy's default, so the functions mean the same
    yield torch
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name", TORCH_CASES)
def test_corpus_on_torch(torch64, name):
    import array_api_compat.torch as xt
    found = [c for m in ("corpus_straight", "corpus_control") for c in CS.cases(m) if c.id == name]
    assert found, name
    c = found[0]
    args = c.make_args()
    wrt = c.wrt[0] if len(c.wrt) == 1 else tuple(c.wrt)
    ref = s2sad.grad(c.fn, wrt=wrt)(*args)
    got = s2sad.grad(_with_namespace(c.fn, xt), wrt=wrt)(*_convert(args, torch64.asarray))
    _assert_same(got, ref, torch64.Tensor, name)


def test_namespace_code_on_torch(torch64):
    args = _data()
    ref = s2sad.grad(mlp_namespace, wrt=(0, 1))(*args)
    got = s2sad.grad(mlp_namespace, wrt=(0, 1))(*_convert(args, torch64.asarray))
    _assert_same(got, ref, torch64.Tensor, "mlp_namespace")


def nonlinear_namespace(x):
    xp = array_namespace(x)
    return xp.sum(xp.sin(x) * x ** 2) + xp.max(x[:2] * x[1:3])


def test_every_mode_on_strict():
    x, v = np.linspace(0.2, 1.0, 4), np.array([1.0, -0.5, 0.25, 2.0])
    xs, vs = xps.asarray(x), xps.asarray(v)
    pairs = [
        (s2sad.value_and_grad(nonlinear_namespace)(x)[1], s2sad.value_and_grad(nonlinear_namespace)(xs)[1]),
        (s2sad.jvp(nonlinear_namespace)(x, v)[1], s2sad.jvp(nonlinear_namespace)(xs, vs)[1]),
        (s2sad.vjp(nonlinear_namespace)(x)[1](1.0), s2sad.vjp(nonlinear_namespace)(xs)[1](1.0)),
        (s2sad.hvp(nonlinear_namespace)(x, v), s2sad.hvp(nonlinear_namespace)(xs, vs)),
    ]
    for ref, got in pairs:
        np.testing.assert_allclose(np.asarray(got, dtype=float), ref, rtol=1e-10, atol=1e-12)
    # the Hessian-vector product against differences of the gradient
    g = s2sad.grad(nonlinear_namespace)
    eps = 1e-6
    fd = (g(x + eps * v) - g(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(np.asarray(pairs[3][1]), fd, rtol=1e-6, atol=1e-8)


def write_through_view(y):
    v = y[1:]
    v[0] = 0.5 * v[1]
    return np.sum(y * y)


def write_own_input(y):
    y += 1.0
    y[0] = y[1] * y[2]
    return np.sum(y * y)


def test_writes_on_strict():
    x = np.arange(1.0, 5.0)
    # a write into the input itself: the caller's array stays as it was
    ref = s2sad.grad(write_own_input)(x.copy())
    xs = xps.asarray(x)
    got = s2sad.grad(_with_namespace(write_own_input, xps))(xs)
    np.testing.assert_allclose(np.asarray(got), ref)
    np.testing.assert_array_equal(np.asarray(xs), x)
    # a write through a view: refused at its line (NumPy's memory layout
    # is how s2sad follows it)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="another name may view") as e:
        s2sad.grad(_with_namespace(write_through_view, xps))(xps.asarray(x))
    assert "v[0] = 0.5 * v[1]" in str(e.value)


def test_precision_policy_needs_numpy_arrays():
    df = s2sad.grad(mlp_namespace, wrt=0, precision=s2sad.Precision(np.float16, np.float32))
    args = _data()
    assert df(*args).dtype == np.float32
    with pytest.raises(s2sad.ArgumentError, match="precision policies take NumPy arrays"):
        df(*_convert(args, xps.asarray))
