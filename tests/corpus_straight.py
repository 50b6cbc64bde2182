"""Corpus of straight-line functions (no loops, no branches, no calls to user
functions) for testing s2sad against finite differences.

Every function returns a scalar.  Each is registered with ``@case(...)``,
which records how to build its arguments (see the ``Arg`` helpers below);
``tests/test_corpus.py`` checks the gradient in every differentiable
argument.  s2sad reads these functions' source; the decorator line is
ignored by its parser.

The decorator machinery lives here and is shared with ``corpus_control``.
"""

from __future__ import annotations

import zlib

import numpy as np

# --------------------------------------------------------------------------
# case registry


class Arg:
    """How to build one argument: ``make(rng) -> value``; ``diff`` says
    whether the argument is differentiated by default."""

    def __init__(self, make, diff=True, desc=""):
        self.make = make
        self.diff = diff
        self.desc = desc


def N(*shape, scale=1.0):
    """Standard normal array (float64) of ``shape`` (times ``scale``)."""
    return Arg(lambda r: scale * r.normal(size=shape), desc=f"N{shape}")


def U(*shape, lo=0.5, hi=2.0):
    """Uniform positive array in [lo, hi)."""
    return Arg(lambda r: r.uniform(lo, hi, size=shape), desc=f"U{shape}")


def F(lo=-1.0, hi=1.0):
    """A Python float, differentiable."""
    return Arg(lambda r: float(r.uniform(lo, hi)), desc="float")


def SPD(n, batch=()):
    """A symmetric positive definite matrix (well conditioned)."""
    def make(r):
        a = r.normal(size=batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)
    return Arg(make, desc=f"SPD{n}")


def WC(n):
    """A well-conditioned (non-symmetric) matrix with positive determinant."""
    return Arg(lambda r: 2.0 * np.eye(n) + 0.3 * r.normal(size=(n, n)), desc=f"WC{n}")


def CONST(value):
    """A fixed, non-differentiated value (int, array of ints, flag...)."""
    return Arg(lambda r: value() if callable(value) else value, diff=False, desc=repr(value))


def FIXED(value):
    """A fixed differentiable value (to steer control flow)."""
    return Arg(lambda r: np.array(value, dtype=float), desc=repr(value))


def ND(arg):
    """Mark an argument non-differentiated (data such as inputs X, labels)."""
    return Arg(arg.make, diff=False, desc=arg.desc)


def ONEHOT(n, k):
    def make(r):
        y = np.zeros((n, k))
        y[np.arange(n), r.integers(0, k, size=n)] = 1.0
        return y
    return Arg(make, diff=False, desc="onehot")


def SIGNS(n):
    return Arg(lambda r: np.where(r.uniform(size=n) < 0.5, -1.0, 1.0), diff=False, desc="signs")


class Case:
    def __init__(self, fn, args, wrt, label, xfail, xfail_vg, module):
        self.fn = fn
        self.args = args
        self.label = label
        self.xfail = xfail
        self.xfail_vg = xfail if xfail_vg is None else xfail_vg
        self.module = module
        if wrt is None:
            wrt = tuple(i for i, a in enumerate(args) if a.diff)
        self.wrt = wrt

    @property
    def id(self):
        return self.fn.__name__ + (f"-{self.label}" if self.label else "")

    def make_args(self):
        r = np.random.default_rng(zlib.crc32(self.id.encode()))
        return tuple(a.make(r) for a in self.args)


REGISTRY = []

# Known compiler bugs (reasons for strict xfails; minimal repros in the
# report that accompanied this corpus).
BUG_INDEX_TEMP = ("an index computed in a loop body (y[i % 2] = ..., y[i + 0] = ...) is not saved per "
                  "iteration: the reverse sweep reads the last iteration's index (silently wrong gradient)")
BUG_ALIAS_AUGASSIGN = ("`h += y` on an array is compiled as `h = h + y` (a new binding), so an alias `g = h` "
                       "keeps the old value: value and gradient differ from Python's in-place semantics")
BUG_LOOP_TARGET = ("a `for` target that rebinds an existing variable (here a parameter) does not reset its "
                   "adjoint: the gradient of the overwritten value is silently nonzero")
BUG_EMPTY_BRANCH = ("the reverse sweep of an `if` whose one branch contributes no adjoint (its values do not "
                    "depend on the wrt argument) is emitted with an empty body: IndentationError when compiling")
BUG_NAME_CLASH = ("a user local named `_rt` shadows the runtime module the generated code calls "
                  "(AttributeError: 'numpy.ndarray' object has no attribute 'check_scalar_output')")


def case(*args, wrt=None, label=None, xfail=None, xfail_vg=None):
    """Register the decorated function as a test case with arguments built
    from ``args``.  ``xfail`` (a reason string) marks a known compiler bug
    in ``grad``; ``xfail_vg`` one in ``value_and_grad`` (defaults to
    ``xfail``; ``""`` for none)."""
    def deco(fn):
        REGISTRY.append(Case(fn, list(args), wrt, label, xfail, xfail_vg, fn.__module__))
        return fn
    return deco


def cases(module_name=None):
    return [c for c in REGISTRY if module_name is None or c.module == module_name]


# ==========================================================================
# models and losses


@case(N(3, 5, scale=0.5), N(5), N(5, 2, scale=0.5), N(2), ND(N(4, 3)), ND(N(4, 2)))
def mlp2_mse(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return 0.5 * np.mean((out - Y) ** 2)


@case(N(3, 6), N(6), N(6), ND(N(5, 3)))
def mlp_relu(W1, b1, w2, X):
    h = np.maximum(0.0, X @ W1 + b1)
    return np.sum(h @ w2)


@case(N(4, 3), ONEHOT(4, 3))
def softmax_xent_maxsub(logits, Y):
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = m + np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    logp = logits - lse
    return -np.mean(np.sum(Y * logp, axis=1))


@case(N(3, 4), N(4), ND(N(5, 3)), ONEHOT(5, 4))
def softmax_regression(W, b, X, Y):
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -(Y * logp).sum() / X.shape[0]


@case(N(3), F(), ND(N(6, 3)), CONST(np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])))
def logistic_regression(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


@case(N(3), ND(N(6, 3)), SIGNS(6))
def logistic_logaddexp(w, X, y):
    margins = y * X.dot(w)
    return np.sum(np.logaddexp(0.0, -margins)) + 0.01 * np.dot(w, w)


@case(N(3, scale=0.3), ND(N(8, 3)), SIGNS(8))
def hinge_loss(w, X, y):
    margin = 1.0 - y * (X @ w)
    return np.mean(np.maximum(0.0, margin)) + 0.1 * (w @ w)


@case(N(3), N(3, 3, scale=0.5), ND(N(5, 3)))
def gaussian_loglik(mu, L, X):
    n, d = X.shape
    Sigma = L @ L.T + np.eye(d)
    sign, logdet = np.linalg.slogdet(Sigma)
    D = X - mu
    quad = np.sum(D * np.linalg.solve(Sigma, D.T).T)
    return -0.5 * (quad + n * logdet + n * d * np.log(2.0 * np.pi))


@case(N(3), ND(N(6, 3)), ND(N(6)), F(0.1, 1.0))
def ridge_loss(w, X, y, lam):
    r = X @ w - y
    return r @ r + lam * np.sum(w ** 2)


@case(N(6, 3), N(6), F(0.5, 2.0))
def ridge_closed_form(X, y, lam):
    A = X.T @ X + lam * np.eye(X.shape[1])
    w = np.linalg.solve(A, X.T @ y)
    return np.sum(w * w)


@case(N(4, 3), N(5, 3), N(5, 2))
def attention(Q, K, V):
    S = Q @ K.T / np.sqrt(Q.shape[1])
    S = S - np.max(S, axis=-1, keepdims=True)
    A = np.exp(S)
    A = A / np.sum(A, axis=-1, keepdims=True)
    out = A @ V
    return np.sum(out ** 2)


@case(N(3, 4), U(4), N(4), ND(N(3, 4)))
def layer_norm(x, gamma, beta, target):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum((y - target) ** 2)


@case(N(5, 3), U(3))
def batch_norm_var(x, gamma):
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    y = gamma * (x - mu) / (sd + 1e-3)
    return np.sum(y[:, 0] * y[:, 1]) + np.sum(np.var(x, axis=0))


@case(N(4, 2), F(0.5, 2.0))
def rbf_kernel_broadcast(X, ell):
    diff = X[:, None, :] - X[None, :, :]
    d2 = np.sum(diff ** 2, axis=-1)
    K = np.exp(-0.5 * d2 / ell ** 2)
    return np.sum(K * K)


@case(N(4, 2), ND(N(3, 2)), F(0.5, 2.0))
def rbf_kernel_expanded(X, Z, ell):
    sx = np.sum(X ** 2, axis=1)
    sz = np.sum(Z ** 2, axis=1)
    d2 = sx[:, None] + sz[None, :] - 2.0 * X @ Z.T
    return np.sum(np.exp(-d2 / (2.0 * ell * ell)))


@case(N(4), N(4, 4))
def quadratic_form(x, A):
    return x @ A @ x


@case(N(5, scale=0.5))
def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@case(ND(N(5, 2)), N(5), F(0.5, 1.5), F(0.3, 1.0))
def gp_neg_log_marginal(X, y, ell, sigma):
    sq = np.sum(X ** 2, 1)
    d2 = sq.reshape(-1, 1) + sq.reshape(1, -1) - 2.0 * (X @ X.T)
    K = np.exp(-0.5 * d2 / (ell * ell)) + sigma ** 2 * np.eye(X.shape[0])
    alpha = np.linalg.solve(K, y)
    s, ld = np.linalg.slogdet(K)
    return 0.5 * (y @ alpha) + 0.5 * ld


@case(N(3, scale=0.3), ND(N(6, 3)), CONST(np.array([0.0, 1.0, 3.0, 2.0, 0.0, 1.0])))
def poisson_glm(w, X, counts):
    eta = X @ w
    return np.sum(np.exp(eta) - counts * eta)


@case(N(8, scale=1.5), ND(N(8)))
def huber_where(x, y):
    r = x - y
    a = np.abs(r)
    return np.sum(np.where(a < 1.0, 0.5 * r * r, a - 0.5))


@case(N(5), N(5))
def kl_softmax(p_logits, q_logits):
    p = np.exp(p_logits - np.max(p_logits))
    p = p / p.sum()
    lq = q_logits - np.max(q_logits)
    lq = lq - np.log(np.sum(np.exp(lq)))
    lp = np.log(p)
    return np.sum(p * (lp - lq))


@case(N(10), N(3))
def conv1d_slices(x, w):
    y = x[:-2] * w[0] + x[1:-1] * w[1] + x[2:] * w[2]
    return np.sum(np.tanh(y))


@case(N(6), F(-1.0, 0.0), F(0.5, 1.5), F(0.2, 0.8))
def gmm2_loglik(x, mu1, mu2, pi):
    l1 = np.log(pi) - 0.5 * (x - mu1) ** 2
    l2 = np.log(1.0 - pi) - 0.5 * (x - mu2) ** 2
    m = np.maximum(l1, l2)
    return np.sum(m + np.log(np.exp(l1 - m) + np.exp(l2 - m)))


@case(N(4), N(4))
def cosine_similarity(a, b):
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


@case(N(5), ND(N(7, 5)), ND(N(7)), F(0.1, 0.5))
def elastic_net(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + lam * np.sum(np.abs(w)) + 0.5 * lam * np.sum(np.square(w))


@case(N(6))
def activations(x):
    softplus = np.log1p(np.exp(x))
    swish = x / (1.0 + np.exp(-x))
    gelu = 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))
    leaky = np.where(x > 0, x, 0.1 * x)
    elu = np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    return np.sum(softplus * swish) + np.sum(gelu) + np.sum(leaky ** 2) + np.sum(elu)


@case(N(3, 4, scale=0.5), N(4, 4, scale=0.5), N(4), ND(N(3)))
def two_step_rnn_unrolled(Wx, Wh, b, x0):
    h1 = np.tanh(x0 @ Wx + b)
    h2 = np.tanh(x0 @ Wx + h1 @ Wh + b)
    h3 = np.tanh(h2 @ Wh + b)
    return np.sum(h3 * h1)


# ==========================================================================
# elementwise math, scalars, operators


@case(U(5, lo=0.2, hi=0.9))
def elementwise_zoo(x):
    a = np.sin(x) * np.cos(x) + np.tan(x)
    b = np.arcsin(x) + np.arccos(x * 0.5) + np.arctan(x)
    c = np.sinh(x) + np.cosh(x) + np.tanh(x) + np.arcsinh(x) + np.arctanh(x * 0.5)
    d = np.exp2(x) + np.log2(x) + np.log10(x) + np.sqrt(x) + np.cbrt(x) + np.reciprocal(x)
    e = np.arccosh(x + 1.5) + np.log(x) + np.expm1(x) + np.log1p(x)
    return np.sum(a * b + c * d - e)


@case(U(4), F(1.5, 2.5))
def power_variable_exponent(x, p):
    return np.sum(x ** p) + np.sum(2.0 ** x) + np.sum(np.power(x, 3)) + np.sum(p ** x)


@case(N(4), U(4))
def reflected_operators(x, y):
    a = 1.0 / y + 2.0 - x
    b = 3.0 * x - (-x) + (+y)
    c = 2.0 ** (x * 0.1) - 1.0 % 1.0
    return np.sum(a * b / c)


@case(F(), F(0.5, 2.0))
def python_scalars(a, b):
    c = a * b + a / b - b ** 2
    d = np.sin(c) + np.exp(a) * np.log(b)
    return d * d + np.pi * a


@case(N(3), N(3))
def arctan2_hypot(x, y):
    return np.sum(np.arctan2(y, x + 3.0) + np.hypot(x, y + 3.0))


@case(N(6, scale=2.0))
def clip_abs_sign(x):
    c = np.clip(x, -1.0, 1.0)
    return np.sum(c * x) + np.sum(np.abs(x) * np.sign(x)) + np.sum(x.clip(-0.5, 0.5))


@case(N(5), N(5))
def maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) * 2.0 + np.minimum(x, 0.1) ** 2 + np.fmax(x, y) - np.fmin(y, x))


@case(N(5))
def logaddexp_reductions(x):
    return np.sum(np.logaddexp(x, 2.0 * x)) + np.sum(np.logaddexp2(x, 0.0))


@case(N(4))
def negation_positive(x):
    y = -x
    z = np.negative(y) + np.positive(x)
    return np.sum(-(z * y))


@case(N(3))
def constants_and_pi(x):
    return np.sum(np.exp(-np.e * x ** 2) * np.pi) + np.float64(2.0) * np.sum(x)


# ==========================================================================
# matrix expressions


@case(WC(3))
def inv_trace(A):
    return np.trace(np.linalg.inv(A)) + np.sum(np.linalg.inv(A) ** 2)


@case(WC(3), N(3))
def solve_vector(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x ** 2)


@case(WC(3), N(3, 2))
def solve_matrix(A, B):
    return np.sum(np.sin(np.linalg.solve(A, B)))


@case(WC(3))
def det_and_logdet(A):
    s, ld = np.linalg.slogdet(A)
    return np.linalg.det(A) + s * ld


@case(SPD(3, batch=(2,)))
def batched_slogdet_inv(A):
    s, ld = np.linalg.slogdet(A)
    return np.sum(ld) + np.sum(np.linalg.inv(A)[:, 0, :])


@case(N(3, 4), N(4, 2))
def einsum_matmul(A, B):
    C = np.einsum("ij,jk->ik", A, B)
    return np.sum(C ** 2)


@case(N(3), N(3, 4), N(4))
def einsum_bilinear(x, A, y):
    return np.einsum("i,ij,j->", x, A, y) + np.einsum("ij,ij->", A, A)


@case(N(2, 3, 4), N(2, 4, 3))
def einsum_batched(A, B):
    C = np.einsum("bij,bjk->bik", A, B)
    return np.sum(C * C) + np.sum(np.einsum("bij,bjk", A, B) ** 2)


@case(N(3, 4), N(4, 5))
def einsum_implicit(A, B):
    return np.sum(np.einsum("ij,jk", A, B) ** 2) + np.sum(np.einsum("ij->j", A))


@case(N(2, 3, 4), N(3, 4, 2))
def tensordot_axes(A, B):
    C = np.tensordot(A, B, axes=([1, 2], [0, 1]))
    D = np.tensordot(A, B, axes=2)
    E = np.tensordot(A[0], B[0], axes=1)
    return np.sum(C * D) + np.sum(E ** 2)


@case(N(3, 3), N(3, 3))
def trace_products(A, B):
    return np.trace(A @ B) + A.trace() * np.trace(B.T @ B)


@case(N(3), N(4), N(3, 4))
def outer_product(x, y, A):
    return np.sum(np.outer(x, y) * A) + np.sum(np.outer(x, x) ** 2)


@case(N(4), N(3, 4))
def norms(x, A):
    a = np.linalg.norm(x)
    b = np.linalg.norm(A)
    c = np.linalg.norm(x, 1)
    d = np.linalg.norm(A, axis=1)
    e = np.linalg.norm(x, ord=np.inf)
    f = np.linalg.norm(A, "fro")
    return a + b * c + np.sum(d ** 3) + e + f


@case(N(3), N(3), N(2, 3))
def inner_dot(x, y, A):
    return np.inner(x, y) + np.sum(np.inner(A, x) ** 2) + np.dot(x, y) * x.dot(y) + np.sum(np.dot(A, x))


@case(N(3, 3, scale=0.5))
def matrix_power_trace(A):
    A2 = A @ A
    A3 = A2 @ A
    return np.trace(A3) + np.sum(A2 * A.T)


@case(N(3, 4), N(4, 3))
def dot_methods(A, B):
    C = A.dot(B)
    D = np.dot(A, B).T
    return np.sum(C * D)


@case(N(2, 3, 4), N(2, 4, 2), N(4))
def batched_matmul_broadcast(A, B, v):
    C = A @ B
    d = A @ v
    return np.sum(C ** 2) + np.sum(d ** 2) + np.sum(v @ B)


@case(N(3, 4))
def transpose_variants(A):
    B = np.transpose(A)
    C = A.transpose()
    D = A.T
    E = np.swapaxes(A[None], 1, 2)
    F3 = np.moveaxis(A[:, :, None], 2, 0)
    return np.sum(B * C * D) + np.sum(E ** 2) + np.sum(F3 * A)


@case(N(2, 3, 4))
def transpose_axes_3d(X):
    Y = np.transpose(X, (2, 0, 1))
    Z = X.transpose(1, 2, 0)
    W = X.swapaxes(0, 2)
    return np.sum(Y[0] ** 2) + np.sum(Z[:, :, 1] * X[1]) + np.sum(W[0] * np.arange(2.0))


# ==========================================================================
# indexing and slicing


@case(N(6), N(4, 5))
def basic_indexing(x, A):
    return x[0] * x[-1] + np.sum(A[1:, ::2]) + A[2, 3] * x[2] + np.sum(A[-1] ** 2)


@case(N(5), CONST(np.array([0, 2, 2, 4])))
def fancy_index_repeats(x, idx):
    return np.sum(x[idx] ** 2) + np.sum(x[[1, 1, 3]] * x[[0, 2, 4]])


@case(N(8))
def boolean_mask(x):
    return np.sum(x[x > 0] ** 2) + np.sum(x[np.abs(x) < 1.0])


@case(N(3, 4))
def axis_indexing(A):
    a = A[:, 1]
    b = A[1, :]
    c = A[..., 0]
    d = A[None, :, :]
    e = A[:, None, 2]
    return np.sum(a ** 2) + np.sum(b * np.arange(4.0)) + np.sum(c) * np.sum(d ** 3) + np.sum(e)


@case(N(6), N(6))
def negative_step(x, w):
    return np.sum(x[::-1] * w) + np.sum(x[-2::-2] * w[:3])


@case(N(5, 3), CONST(np.array([4, 0, 0, 2])))
def row_gather(A, idx):
    rows = A[idx]
    cols = A[:, [2, 0]]
    return np.sum(rows ** 2) + np.sum(cols[idx] * 0.5)


@case(N(4, 4))
def integer_array_pairs(A):
    i = np.array([0, 1, 3])
    j = np.array([2, 2, 0])
    return np.sum(A[i, j] ** 2) + np.sum(np.diag(A) * 3.0)


# ==========================================================================
# reductions


@case(N(3, 4))
def reductions_keepdims(A):
    s0 = np.sum(A, axis=0, keepdims=True)
    s1 = np.mean(A, axis=1, keepdims=True)
    return np.sum(A * s0 * s1) + np.sum(A.sum(axis=1) ** 2) + A.mean() * A.sum()


@case(N(2, 3, 4))
def reductions_tuple_axis(X):
    a = np.sum(X, axis=(0, 2))
    b = X.mean(axis=(1,))
    c = np.sum(X, axis=-1)
    return np.sum(a ** 2) + np.sum(b ** 3) + np.sum(c * X[:, :, 0])


@case(N(3, 4))
def max_min_reductions(A):
    return np.sum(np.max(A, axis=0)) + np.sum(A.min(axis=1) ** 2) + A.max() - np.min(A) + np.amax(A[0])


@case(U(3, 4))
def prod_var_std(A):
    return np.sum(np.prod(A, axis=0)) + A.prod() + np.var(A) + np.sum(A.std(axis=1)) + np.sum(np.var(A, axis=0, ddof=1))


@case(N(5), N(2, 3))
def cumsum_reduce(x, A):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.cumsum(A, axis=1) * A) + np.sum(A.cumsum(axis=0))


# ==========================================================================
# shapes: reshape, concatenate, stack


@case(N(2, 3, 2))
def reshape_variants(X):
    a = X.reshape(3, 4)
    b = X.reshape((6, 2))
    c = np.reshape(X, (-1,))
    d = X.ravel()
    e = np.ravel(X)
    f = X.flatten()
    return np.sum(a[0] * a[1]) + np.sum(b ** 2) + c @ d + np.sum(e * f * c)


@case(N(3, 1), N(3))
def squeeze_expand(a, x):
    b = np.squeeze(a)
    c = a.squeeze()
    d = np.expand_dims(x, 0)
    e = np.atleast_2d(x)
    return np.sum(b * x) + np.sum(c * c) + np.sum(d @ a) + np.sum(e ** 2)


@case(N(2, 3), N(2, 2), N(3))
def concatenate_stack(A, B, x):
    C = np.concatenate([A, B], axis=1)
    D = np.concatenate((A, A * 2.0), axis=0)
    E = np.stack([x, 2.0 * x, x ** 2], axis=1)
    F2 = np.stack((x, x))
    return np.sum(C ** 2) + np.sum(D[:, 0]) + np.sum(E * E) + np.sum(F2[1])


@case(N(3), N(2), N(2, 3))
def hstack_vstack(x, y, A):
    h = np.hstack([x, y])
    v = np.vstack([A, x])
    return np.sum(h ** 3) + np.sum(v * v[::-1])


@case(N(2, 3))
def tile_repeat_broadcast(A):
    a = np.tile(A, (2, 1))
    b = np.repeat(A, 2, axis=1)
    c = np.broadcast_to(A[0], (4, 3))
    d = np.repeat(A, 3)
    return np.sum(a ** 2) + np.sum(b * np.arange(6.0)) + np.sum(c ** 3) + np.sum(d[::2])


@case(N(3, 3), N(4))
def flip_roll_diag_tri(A, x):
    a = np.flip(A, 0)
    b = np.roll(x, 1)
    c = np.diag(x)
    d = np.triu(A) + np.tril(A, -1) * 2.0
    e = np.fliplr(A) + np.flipud(A)
    return np.sum(a * A) + np.sum(b * x) + np.sum(c ** 2) + np.sum(d * d) + np.sum(e[0])


# ==========================================================================
# Python-level idioms: tuples, augmented assignment, methods, kwargs


@case(N(3), N(3))
def tuple_swap(a, b):
    a, b = b, a
    a, b = a * 2.0, b + a
    return np.sum(a * b ** 2)


@case(N(3), N(3))
def tuple_pack_unpack(x, y):
    t = (x, y * 2.0)
    u, v = t
    p = [u, v, x]
    q = p[1] * p[2]
    return np.sum(u * v) + np.sum(q) + np.sum(t[0])


@case(WC(3))
def slogdet_unpack(A):
    sign, logdet = np.linalg.slogdet(A)
    res = np.linalg.slogdet(A @ A.T)
    return sign * logdet + res[1]


@case(N(4), N(4))
def augmented_assignment(x, y):
    h = x * 2.0
    h += y
    h *= 3.0
    h -= x
    h /= 2.0
    h **= 2
    s = 0.0
    s += np.sum(h)
    s *= 2.0
    return s


@case(N(3, 4))
def keyword_arguments(A):
    s = np.sum(A, axis=0, keepdims=True)
    m = np.mean(a=A, axis=1)
    c = np.concatenate([A, s], axis=0)
    return np.sum(c ** 2) + np.sum(m ** 2) + np.sum(np.max(A, axis=1, keepdims=True) * A)


@case(N(3, 4))
def methods_chain(A):
    B = A.T.copy()
    c = B.sum(axis=0).mean()
    d = A.reshape(2, 6).dot(np.ones(6))
    e = A.astype(np.float64).sum()
    return c * e + np.sum(d ** 2) + np.sum(A.copy() ** 2)


@case(N(3))
def array_constructors(x):
    a = np.array(x)
    b = np.asarray(x * 2.0)
    c = np.copy(x)
    z = np.zeros(3) + x
    o = np.ones_like(x) * x
    return np.sum(a * b * c) + np.sum(z * o)


# ==========================================================================
# fan-out and diamonds


@case(N(5))
def fan_out(x):
    y = np.sin(x)
    return np.sum(y * y * y + y * np.cos(y) + y / (2.0 + y) + np.exp(y) * y)


@case(N(4))
def diamond(x):
    a = np.exp(x)
    b = np.sin(x)
    c = a * b
    d = a + b
    e = c / d
    return np.sum(e)


@case(N(3), N(3))
def double_diamond(x, y):
    u = x * y
    v = u + x
    w = u * v
    p = np.tanh(w) + v
    q = p * u - w
    return np.sum(q * p)


@case(N(4))
def self_operations(x):
    a = x * x
    b = x + x
    c = x - x
    d = x / (x * x + 1.0)
    return np.sum(a + b * a + c + d) + x @ x


@case(F(0.5, 1.5))
def scalar_chain(a):
    b = a * a
    c = b * a + np.sin(b)
    d = np.sqrt(c * c + 1.0)
    e = d * b - a
    f = e ** 3 + e
    return f / (1.0 + b)


@case(N(3), N(3))
def unused_and_inactive(x, y):
    unused = np.exp(y) * 100.0
    k = np.floor(x)
    n = x.shape[0]
    idx = np.argmax(x)
    return np.sum(x * k) + float(n) * x[idx] + np.sum(y * 0.0)


@case(N(3), N(3))
def stop_by_comparisons(x, y):
    m = (x > 0) * 1.0
    w = np.where(y > x, y, x)
    return np.sum(m * x ** 2) + np.sum(w)


# ==========================================================================
# more Python idioms


@case(N(3))
def param_reassigned(x):
    x0 = x
    x = x * 2.0
    x = np.sin(x) + x0
    return np.sum(x * x0)


@case(N(3))
def chained_assignment(x):
    a = b = x * 2.0
    c: float = np.sum(a * b)
    return c + np.sum(a)


@case(N(4))
def docstring_and_pass(x):
    """A docstring is not a statement to differentiate."""
    pass
    y = x ** 2
    return np.sum(y)


@case(N(4))
def tuple_display_unpack(x):
    a, b = x[0], x[1] * 2.0
    c, (d, e) = x[2], (x[3], a)
    return a * b + c * d * e


@case(N(5), N(3, 3))
def chained_indexing(x, A):
    return x[1:][0] * x[::2][-1] + A[1][2] * A[:, 1:][0, 0] + np.sum(A[0][None] ** 2)


@case(N(3), N(4))
def outer_by_broadcasting(x, y):
    M = x[:, None] * y[None, :]
    return np.sum(M ** 2) + np.sum(x.reshape(3, 1) + y)


@case(N(3), N(3, 3))
def method_chains_dot(x, A):
    return x.T.dot(A).dot(x) + A.T.T.sum() + (A * 2.0).T.dot(x).sum()


@case(N(5), CONST(5))
def division_by_int_param(x, n):
    m = np.sum(x) / n
    v = np.sum((x - m) ** 2) / (n - 1)
    return v + np.sum(x) / len(x) + x.shape[0] * m


@case(U(4))
def fractional_powers(x):
    return np.sum(x ** 0.5) + np.sum(x ** -1.5) + (x ** 2).sum() ** 0.5 + np.sum(1 / x)


@case(N(5))
def mask_multiplication(x):
    return np.sum(x * (x > 0)) + np.sum(x ** 2 * (x < 0.5))


@case(N(5))
def moment_difference(x):
    return np.mean(x ** 2) - np.mean(x) ** 2


@case(WC(3), N(3))
def inv_matmul_vs_solve(A, b):
    return np.sum(np.linalg.inv(A) @ b) + np.sum(np.linalg.solve(A.T, b) ** 2)


@case(N(2, 3, 3, scale=0.4))
def batched_det(A):
    B = A + np.eye(3) * 2.0
    return np.sum(np.linalg.det(B)) + np.sum(np.linalg.inv(B) @ A)


@case(N(3))
def negative_base_integer_power(x):
    return np.sum((x - 2.0) ** 2) + np.sum((x - 2.0) ** 3) + np.sum(np.square(x - 2.0))


@case(N(3), N(3))
def unpack_unused_and_swapped(x, y):
    a, b = y, x
    c, d = a * b, a - b
    d, c = c, d
    return np.sum(c * 3.0 + d ** 2)


@case(N(2, 3))
def index_with_tuple_variable(A):
    idx = (1, slice(0, 2))
    k = (0, 2)
    return np.sum(A[idx] ** 2) + A[k] * A[1, 2]


@case(N(4))
def user_names_like_generated(x):
    _t1 = x * 2.0
    _t2 = _t1 + 1.0
    x_adj = _t2 * x
    _stack = np.sum(x_adj)
    return _stack * 2.0


@case(N(4))
def user_name_out_adj(x):
    _out_adj = np.sum(x * x)
    return _out_adj * 2.0


@case(N(4))
def user_name_rt(x):
    _rt = x * 2.0
    return np.sum(_rt * x)


@case(FIXED([1.5, 0.0, -2.0, 0.7]), N(2, 3))
def prod_with_zero(x, A):
    return np.prod(x) + np.sum(np.prod(A, axis=1)) + np.prod(x[::2])


@case(ND(FIXED([0.0, 0.5, 2.0])), F(1.5, 2.5))
def power_base_zero(x, p):
    return np.sum(x ** p)


@case(Arg(lambda r: np.array(r.normal()), desc="0-d"), N(3))
def zero_dim_param(s, x):
    return np.sum(np.sin(s * x)) + s * s


@case(N(1), N(3), N(1, 1), N(2, 3))
def broadcast_size_one(b, x, c, A):
    return np.sum((x + b) ** 2) + np.sum(A * c) + np.sum(A + b * x)


@case(N(3, 4), N(3, 2))
def positional_axis_and_newaxis(A, B):
    s0 = np.sum(A, 0)
    m1 = np.mean(A, -1)
    C = A[:, :, None] * B[:, None, :]
    return np.sum(s0 ** 2) + np.sum(m1 * B[:, 0]) + np.sum(C ** 2) + np.sum(A[..., None] * 2.0)


@case(N(3, 4))
def var_std_methods(A):
    return A.var() + np.std(A, ddof=1) + np.sum(A.var(axis=1, keepdims=True) * A) + np.sum(np.std(A, axis=0))
