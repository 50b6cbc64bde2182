"""Adjoints of products and of linear algebra: matmul, dot, inner, einsum,
tensordot, trace, solve, det and slogdet."""

from __future__ import annotations

import numpy as np

from .core import _PY_SCALARS, _shape, is_float_dtype, unbroadcast


def mT(a):
    """Transpose of the last two axes (a no-op on vectors)."""
    return np.swapaxes(a, -1, -2) if np.ndim(a) >= 2 else a


def _mm(x, y):
    """``x @ y``; of two matrices of one 16-bit float dtype (float16,
    bfloat16), by BLAS in float32 and rounded once (NumPy's float16 matmul
    also accumulates in float32, in a loop some 100x slower)."""
    dx = getattr(x, "dtype", None)
    if dx is not None and getattr(dx, "itemsize", 0) == 2 and getattr(y, "dtype", None) == dx and is_float_dtype(dx):
        return np.matmul(x.astype(np.float32), y.astype(np.float32)).astype(dx)
    return x @ y


def matmul_adjoint_a(g, a, b):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 2 and nb == 2:
        return _mm(g, b.T)
    if na == 2 and nb == 1 and np.ndim(g) == 1:
        return np.outer(g, b)       # the adjoint of a matrix-vector product
    if nb == 1:
        if na == 1:
            return g * b
        return unbroadcast(g[..., None] * b, a)
    if na == 1:
        return unbroadcast(np.squeeze(g[..., None, :] @ mT(b), -2), a)
    return unbroadcast(g @ mT(b), a)


def matmul_adjoint_b(g, a, b):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 2 and nb == 2:
        return _mm(a.T, g)
    if na == 2 and nb == 1 and np.ndim(g) == 1:
        return a.T @ g              # a matrix-vector product (no batch axes)
    if na == 1:
        if nb == 1:
            return g * a
        return unbroadcast(a[:, None] * g[..., None, :], b)
    if nb == 1:
        return unbroadcast(np.squeeze(mT(a) @ g[..., None], -1), b)
    return unbroadcast(mT(a) @ g, b)


def dot_adjoint_a(g, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_adjoint_a(g, a, b)
    return tensordot_adjoint(g, a, b, ([np.ndim(a) - 1], [np.ndim(b) - 2]), 0)


def dot_adjoint_b(g, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_adjoint_b(g, a, b)
    return tensordot_adjoint(g, a, b, ([np.ndim(a) - 1], [np.ndim(b) - 2]), 1)


def inner_adjoint(g, a, b, k=0):
    """Adjoint of ``inner(a, b)`` (a contraction over the last axes) for
    operand ``k`` (0: ``a``, 1: ``b``).  ``g`` has the axes
    ``a.shape[:-1] + b.shape[:-1]``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * (b if k == 0 else a), a if k == 0 else b)
    na, nb = np.ndim(a), np.ndim(b)
    if k == 0:
        # contract g's b-axes with b's leading axes: a.shape[:-1] + (n,)
        return np.tensordot(g, b, axes=(list(range(na - 1, na - 1 + nb - 1)), list(range(nb - 1))))
    # contract g's a-axes with a's leading axes: (n,) + b.shape[:-1], then
    # move the contracted axis last
    r = np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1))))
    return np.moveaxis(r, 0, -1)


def _einsum_terms(subscripts, operands):
    """Input terms and output term of an einsum, with ``...`` written out as
    letters and the implicit output (no ``->``) made explicit."""
    import string
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
        explicit = True
    else:
        ins, out, explicit = spec, "", False
    ins = ins.split(",")
    used = set(spec)
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = [np.ndim(op) - (len(t) - 3) for t, op in zip(ins, operands) if "..." in t]
    width = max(n_ell) if n_ell else 0
    ell = "".join(free[:width])
    ins = [t.replace("...", ell[width - (np.ndim(op) - (len(t) - 3)):]) if "..." in t else t
           for t, op in zip(ins, operands)]
    if explicit:
        out = out.replace("...", ell)
    else:
        letters = "".join(ins)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return ins, out


def einsum_adjoint(g, subscripts, operands, k):
    """Adjoint of ``einsum(subscripts, *operands)`` with respect to operand k,
    itself an einsum (never a loop over elements).  Handles ``...``,
    implicit outputs, letters summed out within one operand (broadcast
    back), repeated letters in one operand (diagonals: the adjoint lives on
    the diagonal) and broadcast size-1 axes (summed back)."""
    if not isinstance(subscripts, str):
        from .errors import S2SadError
        raise S2SadError("np.einsum's interleaved form (operand, sublist, ...) is differentiated only with "
                         "literal sublists, such as np.einsum(a, [0, 1], b, [1, 2])",
                         hint="write the sublists as literals in the call, or use a subscripts string: "
                         "np.einsum('ij,jk->ik', a, b)")
    ins, out = _einsum_terms(subscripts, operands)
    target = ins[k]
    if isinstance(g, _PY_SCALARS) and hasattr(operands[k], "__array_function__"):
        # a Python-float cotangent: make it a 0-d array of the operand's
        # type, so the adjoint is built there (not as a host NumPy array)
        g = np.full_like(operands[k], g, shape=())
    others = [s for i, s in enumerate(ins) if i != k]
    other_ops = [o for i, o in enumerate(operands) if i != k]
    uniq = "".join(dict.fromkeys(target))
    # letters of the target that appear nowhere else are summed out in the
    # forward pass: their adjoint is broadcast back
    present = set(out) | set("".join(others))
    keep = "".join(c for c in uniq if c in present)
    r = np.einsum(",".join([out] + others) + "->" + keep, g, *other_ops)
    xs = _shape(operands[k])
    if keep == target and _shape(r) == xs:
        return r
    size = {c: n for c, n in zip(keep, _shape(r))}
    for c, n in zip(target, xs):
        size.setdefault(c, n)
    # r's axes follow `keep`, a subsequence of `uniq`: add the missing axes
    r = np.reshape(r, [size[c] if c in keep else 1 for c in uniq])
    r = np.broadcast_to(r, [size[c] for c in uniq])
    if uniq != target:
        # repeated letters: r sits at each letter's first position and is
        # multiplied by an identity for every further occurrence
        first = {}
        for i, c in enumerate(target):
            first.setdefault(c, i)
        r = np.reshape(r, [size[c] if first[c] == i else 1 for i, c in enumerate(target)])
        for i, c in enumerate(target):
            if first[c] != i:
                n = size[c]
                shape = [1] * len(target)
                shape[first[c]] = n
                shape[i] = n
                r = r * np.reshape(_eye(n, n, 0, r), shape)
        r = np.broadcast_to(r, [size[c] for c in target])
    r = r * 1
    if _shape(r) != xs:
        # size-1 axes of the operand that broadcast against the others
        axes = tuple(i for i, (a, b) in enumerate(zip(_shape(r), xs)) if b == 1 and a != 1)
        r = r.sum(axis=axes, keepdims=True)
    return r


def tensordot_adjoint(g, a, b, axes, k):
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, int):
        ax_a = list(range(na - axes, na))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
        ax_a = [x % na for x in ax_a]
        ax_b = [x % nb for x in ax_b]
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [i for i in range(nb) if i not in ax_b]
    nfa = len(free_a)
    if k == 0:
        # g has axes free_a + free_b; contract g's free_b axes with b's free axes
        r = np.tensordot(g, b, axes=(list(range(nfa, nfa + len(free_b))), free_b))
        # r axes: free_a + ax_b (in b's order of ax_b as they appear in b)
        order_b = [i for i in range(nb) if i in ax_b]
        cur = free_a + [ax_a[ax_b.index(j)] for j in order_b]
        return np.transpose(r, [cur.index(i) for i in range(na)])
    r = np.tensordot(a, g, axes=(free_a, list(range(nfa))))
    order_a = [i for i in range(na) if i in ax_a]
    cur = [ax_b[ax_a.index(j)] for j in order_a] + free_b
    return np.transpose(r, [cur.index(i) for i in range(nb)])


def _eye(n, m, k, like):
    """``np.eye(n, m, k)`` of the array type and dtype of ``like`` (a device
    array stays on the device): the k-th diagonal band of ones, cut out with
    ``tril``/``triu`` (plain NumPy functions that dispatch)."""
    ones = np.ones_like(like, shape=(n, m))
    return np.triu(np.tril(ones, k), k)


def trace_adjoint(g, a, offset=0, axis1=0, axis2=1):
    nd = np.ndim(a)
    a1, a2 = axis1 % nd, axis2 % nd
    n, m = _shape(a)[a1], _shape(a)[a2]
    eye = _eye(n, m, offset, a)
    # eye's axes go to (axis1, axis2), g's axes fill the others in order
    eye = np.moveaxis(eye.reshape(eye.shape + (1,) * (nd - 2)), (0, 1), (a1, a2))
    if isinstance(g, _PY_SCALARS):   # a scalar broadcasts as it is
        return g * eye
    return np.expand_dims(g, (a1, a2)) * eye


def _solve_vector(a, ans):
    """True when ``solve(a, b)`` treated ``b`` as a (stack of) vector(s):
    the result then has one axis less than ``a`` (NumPy >= 2 when ``b`` is
    1-D; NumPy 1 also when ``b.ndim == a.ndim - 1``)."""
    return np.ndim(ans) == np.ndim(a) - 1


def solve_adjoint_b(g, a, ans):
    """``solve(a.T, g)`` broadcast like the result (the caller sums it back
    to ``b``'s shape)."""
    if _solve_vector(a, ans):
        return np.linalg.solve(mT(a), g[..., None])[..., 0]
    return np.linalg.solve(mT(a), g)


def solve_adjoint_a(gb, ans, a):
    """``-gb @ x.T`` (``x`` = the result), summed back to ``a``'s shape."""
    if _solve_vector(a, ans):
        return unbroadcast(-gb[..., :, None] * ans[..., None, :], a)
    return unbroadcast(-(gb @ mT(ans)), a)


def det_adjoint(g, ans, a):
    """Adjoint of ``det(a)``: ``g * det(a) * inv(a).T`` (``a`` invertible)."""
    return _expand2(g * ans) * mT(np.linalg.inv(a))


def slogdet_adjoint(g, a):
    """Adjoint of ``slogdet(a)`` in its log-determinant (the sign has none):
    ``g * inv(a).T``."""
    return _expand2(g) * mT(np.linalg.inv(a))


def _expand2(v):
    """``v[..., None, None]``; Python scalars broadcast as they are."""
    if isinstance(v, _PY_SCALARS) and not isinstance(v, np.generic):
        return v
    return v[..., None, None]


def mvn_centered(x, mean, cov):
    """``x - mean`` for ``scipy.stats.multivariate_normal.logpdf`` (``mean``
    None: ``x``), whose rule differentiates a full covariance matrix only."""
    if np.ndim(cov) != 2:
        from .core import at_function
        from .errors import NoRuleError
        raise at_function(NoRuleError, "multivariate_normal.logpdf is differentiated with a full covariance "
                          "matrix only", hint="pass cov as a matrix (np.diag(v) for a diagonal one)")
    from .core import ZERO
    return x if mean is None or mean is ZERO else x - mean     # (ZERO: the tangent of no mean)


def dirichlet_alpha(x, alpha):
    """``alpha`` shaped to broadcast against ``x`` in
    ``scipy.stats.dirichlet`` (components along the first axis, samples
    along the others); refuses an ``x`` without its last component (SciPy
    completes it to sum 1, the rules do not)."""
    if np.ndim(alpha) != 1 or np.shape(x)[:1] != np.shape(alpha):
        from .core import at_function
        from .errors import NoRuleError
        raise at_function(NoRuleError, "scipy.stats.dirichlet is differentiated with all k components of x "
                          "along its first axis", hint="append the last component, 1 - np.sum(x, axis=0)")
    return np.reshape(alpha, np.shape(alpha) + (1,) * (np.ndim(x) - 1))


def trans_flag(trans):
    """1 where ``scipy.linalg.solve_triangular``'s ``trans`` asks for the
    transpose (1, 2, 'T', 'C': the same for real matrices), else 0."""
    return 0 if trans in (0, "N", "n") else 1


def transpose_if(m, flag):
    """``m.T`` where ``flag``, else ``m``."""
    return m.T if flag else m


def triangle(m, lower, unit_diagonal=False):
    """The triangle of ``m`` ``scipy.linalg.solve_triangular`` reads (the
    diagonal too unless ``unit_diagonal``)."""
    out = np.tril(m) if lower else np.triu(m)
    return out - np.diag(np.diag(m)) if unit_diagonal else out


def _convolve_full(g, n, m, mode):
    """The adjoint of ``np.convolve(a, v, mode)`` (lengths ``n``, ``m``) in
    the full-length result: ``same`` and ``valid`` are windows of it."""
    if mode == "full":
        return g
    off = (min(n, m) - 1) // 2 if mode == "same" else min(n, m) - 1
    out = np.zeros(n + m - 1, dtype=np.result_type(g, float))
    out[off:off + np.shape(g)[0]] = g
    return out


def convolve_adjoint(g, a, v, mode="full", k=0):
    """Adjoint of ``np.convolve(a, v, mode)`` for ``a`` (``k`` 0) or ``v``
    (1): the full adjoint correlated with the other operand (no conjugate)."""
    n, m = np.shape(a)[0], np.shape(v)[0]
    other = v if k == 0 else a
    return np.convolve(_convolve_full(g, n, m, mode), other[::-1], "valid")


def convolve_adjoint_rev(g, c, a, v, mode="full", k=0, j=0):
    """For reverse mode over ``convolve_adjoint(c, a, v, mode, k)``, bilinear
    in ``c`` and the operand other than ``k``: its adjoint in ``c`` (``j``
    0, the convolution with that operand), ``a`` (1) or ``v`` (2)."""
    if j == 0:
        return np.convolve(g, v, mode) if k == 0 else np.convolve(a, g, mode)
    if j == 1 + k:                               # the k-th operand gives only its length
        return np.zeros(np.shape(a if k == 0 else v), dtype=np.result_type(g, float))
    return convolve_adjoint(c, g, v, mode, 1) if k == 0 else convolve_adjoint(c, a, g, mode, 0)


# ------------------------------------------------ scipy.linalg.solve_banded
# ab[u + i - j, j] = A[i, j] (SciPy's band storage, l_and_u = (l, u)); the
# storage's corners outside the matrix are not read: their gradient is 0


def _band_rows(l_and_u, n):
    """(row r of the storage, offset i - j, the columns j it holds)."""
    l, u = int(l_and_u[0]), int(l_and_u[1])
    for r in range(l + u + 1):
        off = r - u
        yield r, off, slice(max(0, -off), min(n, n - off))


def banded_transpose(l_and_u, ab):
    """The band storage of A^T (its (l, u) is (u, l))."""
    ab = np.asarray(ab)
    n = ab.shape[1]
    out = np.zeros(ab.shape, dtype=np.result_type(ab, float))
    for r, off, js in _band_rows(l_and_u, n):
        out[int(l_and_u[0]) - off, js.start + off:js.stop + off] = ab[r, js]
    return out


def band_matvec(l_and_u, ab, x):
    """A @ x for A in band storage (``x`` of shape (n,) or (n, k))."""
    ab, x = np.asarray(ab), np.asarray(x)
    n = ab.shape[1]
    x2 = x.reshape(n, -1)
    y = np.zeros(x2.shape, dtype=np.result_type(ab, x2, float))
    for r, off, js in _band_rows(l_and_u, n):
        y[js.start + off:js.stop + off] += ab[r, js, None] * x2[js]
    return y.reshape(x.shape)


def band_outer(l_and_u, p, q):
    """p q^T on the band, in band storage (the adjoint of ``band_matvec`` in
    ``ab``)."""
    p, q = np.asarray(p), np.asarray(q)
    n = p.shape[0]
    p2, q2 = p.reshape(n, -1), q.reshape(n, -1)
    l, u = int(l_and_u[0]), int(l_and_u[1])
    out = np.zeros((l + u + 1, n), dtype=np.result_type(p2, q2, float))
    for r, off, js in _band_rows(l_and_u, n):
        out[r, js] = np.sum(p2[js.start + off:js.stop + off] * q2[js], axis=1)
    return out


def signal_convolve_adjoint(g, other, shape, mode="full"):
    """The adjoint of ``scipy.signal.convolve(in1, in2, mode)`` in the
    operand of shape ``shape`` (the other operand ``other``): ``g`` put back
    into the full result (``same`` and ``valid`` are its centred windows),
    correlated with ``other`` over the valid window."""
    from scipy.signal import correlate
    g, other = np.asarray(g), np.asarray(other)
    full = tuple(int(a) + int(b) - 1 for a, b in zip(shape, other.shape))
    if g.shape != full:
        start = [(f - s) // 2 for f, s in zip(full, g.shape)]
        big = np.zeros(full, dtype=np.result_type(g, float))
        big[tuple(slice(a, a + s) for a, s in zip(start, g.shape))] = g
        g = big
    return correlate(g, other, mode="valid")
