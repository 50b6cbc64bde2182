"""Every NumPy rule against central finite differences (float64), over
broadcasting shapes; float32 in gives float32 out.

The functions under test live in ``rule_funcs.py`` (s2sad reads their
source).  Each takes its differentiable inputs, then ``w``, a random weight
shaped like the rule's result, then static options; :func:`run_case` finds
the result's shape with a probe, draws ``w`` and compares s2sad's gradient
with central differences.
"""

import zlib

import numpy as np
import pytest

import s2sad
import rule_funcs as F
from helpers import check_grads, check_tangents, numeric_grad

# ----------------------------------------------------------------- machinery


class _Probe:
    """Stands in for ``w``: records the shape of what it is multiplied with."""

    __array_ufunc__ = None  # make ndarray / NumPy scalars defer to __rmul__

    def __init__(self):
        self.shape = None

    def __rmul__(self, other):
        self.shape = np.shape(other)
        return 0.0

    __mul__ = __rmul__


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _draw(rng, shape, dom):
    """A float input of ``shape`` ("py" = a Python float) in domain ``dom``."""
    py = shape == "py"
    shp = () if py else shape
    if dom == "real":
        v = rng.uniform(-1.5, 1.5, size=shp)
    elif dom == "pos":
        v = rng.uniform(0.5, 2.0, size=shp)
    elif dom == "unit":
        v = rng.uniform(-0.8, 0.8, size=shp)
    elif dom == "prob":  # inside (0, 1)
        v = rng.uniform(0.1, 0.9, size=shp)
    elif dom == "gt1":
        v = rng.uniform(1.2, 2.5, size=shp)
    elif dom == "nz":  # away from 0 (abs, reciprocal, kinks)
        v = rng.choice([-1.0, 1.0], size=shp) * rng.uniform(0.3, 1.5, size=shp)
    elif dom == "mat":  # well-conditioned square matrices (stacks)
        n = shp[-1]
        v = rng.uniform(-1.0, 1.0, size=shp) + 3.0 * np.eye(n)
    elif dom == "negmat":  # negative determinant
        n = shp[-1]
        v = rng.uniform(-1.0, 1.0, size=shp) + 3.0 * np.eye(n)
        v[..., 0, :] *= -1.0
    else:
        raise ValueError(dom)
    return float(v) if py else np.asarray(v, dtype=float)


def _is_float_spec(s):
    return isinstance(s, tuple) or (isinstance(s, str) and s == "py")


def make_inputs(key, specs, doms):
    """Inputs from specs: a shape tuple or "py" draws a float input, anything
    else (index arrays, masks, conditions) is passed as is."""
    rng = _rng(*key)
    if isinstance(doms, str):
        doms = [doms] * len(specs)
    out = []
    for s, dm in zip(specs, doms):
        out.append(_draw(rng, s, dm) if _is_float_spec(s) else s)
    return out


def weight_for(fn, inputs, opts, key):
    probe = _Probe()
    fn(*inputs, probe, *opts)
    assert probe.shape is not None, f"{fn.__name__} never multiplied by w"
    rng = _rng("w", *key)
    w = rng.uniform(0.5, 1.5, size=probe.shape) * rng.choice([-1.0, 1.0], size=probe.shape)
    return float(w) if probe.shape == () else w


def run_case(fn, specs, opts=(), dom="real", wrt=None, rtol=1e-6, atol=1e-7, eps=1e-6):
    key = (fn.__name__, repr(specs), repr(opts), dom)
    inputs = make_inputs(key, specs, dom)
    w = weight_for(fn, inputs, opts, key)
    args = tuple(inputs) + (w,) + tuple(opts)
    if wrt is None:
        wrt = tuple(i for i, s in enumerate(specs) if _is_float_spec(s))
    return check_grads(fn, args, wrt=wrt, rtol=rtol, atol=atol, eps=eps)


def _id(v):
    if callable(v) and hasattr(v, "__name__"):
        return v.__name__
    return repr(v).replace(" ", "")


# --------------------------------------------------------------- elementwise

UNARY = [
    (F.exp, "real"), (F.exp2, "real"), (F.log, "pos"), (F.log2, "pos"), (F.log10, "pos"),
    (F.log1p, "pos"), (F.expm1, "real"), (F.sqrt, "pos"), (F.cbrt, "pos"), (F.square, "real"),
    (F.reciprocal, "nz"), (F.sin, "real"), (F.cos, "real"), (F.tan, "unit"), (F.arcsin, "unit"),
    (F.arccos, "unit"), (F.arctan, "real"), (F.sinh, "real"), (F.cosh, "real"), (F.tanh, "real"),
    (F.arcsinh, "real"), (F.arccosh, "gt1"), (F.arctanh, "unit"), (F.abs_, "nz"),
    (F.absolute, "nz"), (F.fabs, "nz"), (F.builtin_abs, "nz"), (F.negative, "real"),
    (F.positive, "real"), (F.usub, "real"), (F.sinc, "nz"),
    (F.deg2rad, "real"), (F.radians, "real"), (F.rad2deg, "real"), (F.degrees, "real"),
    # operators with constants
    (F.pow_const2, "real"), (F.pow_const3, "real"), (F.pow_const_half, "pos"),
    (F.pow_const_neg, "pos"), (F.const_pow, "real"), (F.const_div, "nz"), (F.div_const, "real"),
    (F.const_sub, "real"), (F.add_int, "real"), (F.mul_const, "real"),
    (F.clip_const, "real"), (F.clip_lower_only, "real"), (F.clip_method, "real"),
]
UNARY_SHAPES = [(), (3,), (2, 3), (2, 1, 3), "py"]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=_id)
@pytest.mark.parametrize("fn,dom", UNARY, ids=_id)
def test_unary(fn, dom, shape):
    if fn is F.clip_method and shape == "py":
        pytest.skip("Python floats have no .clip()")
    run_case(fn, [shape], dom=dom)


BINARY = [
    (F.op_add, "real"), (F.op_sub, "real"), (F.op_mul, "real"), (F.op_div, ["real", "nz"]),
    (F.op_pow, ["pos", "real"]), (F.np_add, "real"), (F.np_subtract, "real"),
    (F.np_multiply, "real"), (F.np_divide, ["real", "nz"]), (F.np_true_divide, ["real", "nz"]),
    (F.np_power, ["pos", "real"]), (F.float_power, ["pos", "real"]), (F.arctan2, "nz"), (F.maximum, "real"), (F.minimum, "real"),
    (F.fmax, "real"), (F.fmin, "real"), (F.logaddexp, "real"), (F.logaddexp2, "real"),
    (F.hypot, "nz"), (F.chain, "real"), (F.where_cmp, "real"), (F.op_mod, ["real", "nz"]),
    (F.np_mod, ["real", "nz"]), (F.np_remainder, ["real", "nz"]), (F.np_fmod, ["real", "nz"]),
]
PAIRS = [
    ((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((1, 3), (2, 1)), ((2, 1, 3), (3,)),
    ((3,), (2, 1, 3)), ((), (2, 3)), ((2, 3), ()), ("py", (3,)), ((2, 3), "py"), ("py", "py"),
]


@pytest.mark.parametrize("sx,sy", PAIRS, ids=_id)
@pytest.mark.parametrize("fn,dom", BINARY, ids=_id)
def test_binary(fn, dom, sx, sy):
    if fn is F.where_cmp and sx == "py" and sy == "py":
        pytest.skip("np.where of two Python floats")
    run_case(fn, [sx, sy], dom=dom)


@pytest.mark.parametrize("sc,sx,sy", [
    ((3,), (3,), (3,)), ((2, 3), (2, 3), (2, 3)), ((2, 1), (1, 3), (3,)), ((), (2, 3), ()),
    ((2, 3), "py", (3,)), ((1, 3), (2, 1), "py"),
], ids=_id)
def test_where(sc, sx, sy):
    cshape = np.broadcast_shapes(sc, () if sx == "py" else sx, () if sy == "py" else sy)
    cond = _rng("cond", sc).random(size=sc) > 0.5
    assert cshape  # the condition broadcasts against the operands
    run_case(F.where, [cond, sx, sy])


@pytest.mark.parametrize("sx,slo,shi", [
    ((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((2, 3), (), ()), ((3,), "py", "py"),
], ids=_id)
def test_clip_arrays(sx, slo, shi):
    rng = _rng("clip", sx, slo, shi)
    x = rng.uniform(-1.5, 1.5, size=sx)
    lo = -0.6 + 0.2 * rng.uniform(size=() if slo == "py" else slo)
    hi = 0.5 + 0.2 * rng.uniform(size=() if shi == "py" else shi)
    lo = float(lo) if slo == "py" else lo
    hi = float(hi) if shi == "py" else hi
    w = rng.uniform(0.5, 1.5, size=sx)
    check_grads(F.clip_arrays, (x, lo, hi, w), wrt=(0, 1, 2))


# ---------------------------------------------------------------- reductions

REDUCTIONS = [F.sum_, F.mean, F.max_, F.min_, F.amax, F.amin, F.prod, F.var, F.std,
              F.m_sum, F.m_mean, F.m_max, F.m_min, F.m_prod, F.m_var, F.m_std]
REDUCE_AXES = [
    ((), None), ((3,), None), ((3,), 0), ((3,), -1), ((2, 3), None), ((2, 3), 0), ((2, 3), 1),
    ((2, 3), -1), ((2, 3), (0, 1)), ((2, 3), (-1,)), ((2, 3, 4), 1), ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)), ((2, 3, 4), None),
]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", REDUCE_AXES, ids=_id)
@pytest.mark.parametrize("fn", REDUCTIONS, ids=_id)
def test_reduction(fn, shape, axis, keepdims):
    dom = "nz" if fn in (F.prod, F.m_prod) else "real"
    run_case(fn, [shape], opts=(axis, keepdims), dom=dom)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", [((3,), None), ((2, 3), 0), ((2, 3), -1), ((2, 3, 4), (0, 2))],
                         ids=_id)
@pytest.mark.parametrize("fn", [F.var_ddof, F.std_ddof, F.m_var_ddof], ids=_id)
def test_reduction_ddof(fn, shape, axis, keepdims):
    run_case(fn, [shape], opts=(axis, keepdims))


@pytest.mark.parametrize("fn", [F.sum_plain, F.m_sum_plain, F.m_mean_plain, F.m_sum_axis0,
                                F.m_sum_positional, F.sum_positional], ids=_id)
@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=_id)
def test_reduction_forms(fn, shape):
    run_case(fn, [shape])


@pytest.mark.parametrize("fn", [F.prod, F.m_prod], ids=_id)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1], ids=_id)
def test_prod_with_zeros(fn, axis):
    x = np.array([[0.0, 1.5, -2.0], [0.7, 0.0, 0.0]])
    w = np.ones(np.shape(np.prod(x, axis=axis)))
    check_grads(fn, (x, w, axis, False))
    x3 = np.array([[[0.0, 1.5], [0.5, 2.0]], [[0.7, -1.0], [0.0, 0.0]]])
    w3 = np.ones(np.shape(np.prod(x3, axis=(0, 2))))
    check_grads(fn, (x3, w3, (0, 2), False))


@pytest.mark.parametrize("fn", [F.max_, F.m_max, F.min_, F.m_min], ids=_id)
def test_extremum_tie_splits(fn):
    # a two-way tie: the adjoint is split evenly, which is also what central
    # differences give
    x = np.array([[1.0, -1.0, 1.0], [0.5, 0.2, 0.5]])
    if fn in (F.min_, F.m_min):
        x = -x
    got = check_grads(fn, (x, 1.0, None, False))
    assert np.isclose(got.sum(), 1.0)


@pytest.mark.parametrize("shape,axis", [((4,), None), ((4,), 0), ((2, 3), None), ((2, 3), 0),
                                        ((2, 3), 1), ((2, 3), -1)], ids=_id)
@pytest.mark.parametrize("fn", [F.cumsum, F.m_cumsum], ids=_id)
def test_cumsum(fn, shape, axis):
    run_case(fn, [shape], opts=(axis,))


# ------------------------------------------------------------ linear algebra

MATMUL_SHAPES = [
    ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=_id)
@pytest.mark.parametrize("fn", [F.op_matmul, F.matmul], ids=_id)
def test_matmul(fn, sa, sb):
    run_case(fn, [sa, sb])


DOT_SHAPES = [
    ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((), (2, 3)), ((2, 3), ()),
    ("py", (3,)), ((2, 3, 4), (4,)), ((2, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES, ids=_id)
@pytest.mark.parametrize("fn", [F.dot, F.m_dot], ids=_id)
def test_dot(fn, sa, sb):
    if fn is F.m_dot and sa in ("py",):
        pytest.skip("Python floats have no .dot()")
    run_case(fn, [sa, sb])


EINSUM = [
    (F.einsum1, "ij->", [(2, 3)]), (F.einsum1, "ij->i", [(2, 3)]), (F.einsum1, "ij->ji", [(2, 3)]),
    (F.einsum1, "ijk->kj", [(2, 3, 4)]), (F.einsum1, "ij", [(2, 3)]), (F.einsum1, "ji", [(2, 3)]),
    (F.einsum2, "ij,jk->ik", [(2, 3), (3, 4)]), (F.einsum2, "ij,jk", [(2, 3), (3, 4)]),
    (F.einsum2, "i,i->", [(3,), (3,)]), (F.einsum2, "i,j->ij", [(2,), (3,)]),
    (F.einsum2, "ij,j->i", [(2, 3), (3,)]), (F.einsum2, "bij,bjk->bik", [(4, 2, 3), (4, 3, 2)]),
    (F.einsum2, "ij,ij->i", [(2, 3), (2, 3)]), (F.einsum2, "ij,kj->", [(2, 3), (4, 3)]),
    (F.einsum2, "ij,k->ik", [(2, 3), (4,)]), (F.einsum2, " ij , jk -> ki ", [(2, 3), (3, 4)]),
    (F.einsum3, "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    (F.einsum3, "i,ij,j->", [(2,), (2, 3), (3,)]),
    # repeated letters (diagonals), ellipses, broadcasting
    (F.einsum1, "ii->", [(3, 3)]), (F.einsum1, "ii->i", [(3, 3)]), (F.einsum1, "iij->j", [(2, 2, 3)]),
    (F.einsum1, "iji->ij", [(2, 3, 2)]), (F.einsum2, "ii,i->i", [(3, 3), (3,)]),
    (F.einsum2, "ij,jj->i", [(2, 3), (3, 3)]), (F.einsum1, "...ij->...ji", [(2, 3, 4)]),
    (F.einsum1, "i...->...", [(2, 3, 4)]), (F.einsum2, "...ij,...jk->...ik", [(5, 2, 3), (5, 3, 2)]),
    (F.einsum2, "...ij,...jk->...ik", [(5, 2, 3), (3, 2)]), (F.einsum2, "...i,...i", [(2, 3), (3,)]),
    (F.einsum2, "...i,...i->...", [(1, 3), (2, 3)]), (F.einsum1, "...", [(2, 3)]),
    (F.einsum2, "i,i", [(3,), (3,)]),
]


@pytest.mark.parametrize("fn,spec,shapes", EINSUM, ids=_id)
def test_einsum(fn, spec, shapes):
    run_case(fn, shapes, opts=(spec,))


@pytest.mark.parametrize("fn,shapes", [
    (F.einsum_sublists, [(2, 3), (3, 4)]),
    (F.einsum_sublists_implicit, [(5, 2, 3), (3, 4)]),
    (F.einsum_sublists_diagonal, [(3, 3)]),
], ids=_id)
def test_einsum_interleaved_form(fn, shapes):
    """np.einsum(a, [0, 1], b, [1, 2]): the sublist form (its gradient was
    silently zero for the first operand)."""
    run_case(fn, shapes)


def test_einsum_sublists_not_literal_are_refused():
    x, y, w = np.ones((2, 3)), np.ones((3, 4)), np.ones((2, 4))
    for wrt in (0, 1, (0, 1)):
        with pytest.raises(s2sad.S2SadError, match="interleaved form .* only with literal sublists"):
            s2sad.grad(F.einsum_sublists_in_a_name, wrt=wrt)(x, y, w)


@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 2), (3,)), ((), (3,))], ids=_id)
def test_outer(sa, sb):
    run_case(F.outer, [sa, sb])


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (4, 3)),
                                   ((2, 5, 3), (4, 3)), ((2, 3), (4, 5, 3)), ((), (2, 3)),
                                   ((2, 3), ())], ids=_id)
def test_inner(sa, sb):
    run_case(F.inner, [sa, sb])


TENSORDOT = [
    ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ((3, 2), (3, 4), ([0], [0])),
    ((2, 3, 4), (5, 4), (2, 1)), ((2, 3, 4), (4, 3), ([-1, -2], [0, 1])),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT, ids=_id)
def test_tensordot(sa, sb, axes):
    run_case(F.tensordot, [sa, sb], opts=(axes,))


def test_tensordot_default():
    run_case(F.tensordot_default, [(2, 3, 4), (3, 4, 2)])


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)], ids=_id)
def test_trace(shape):
    run_case(F.trace, [shape])
    run_case(F.m_trace, [shape])


@pytest.mark.parametrize("shape,offset,a1,a2", [
    ((3, 3), 1, 0, 1), ((3, 4), -1, 0, 1), ((3, 4), 2, 1, 0), ((2, 3, 3), 0, 1, 2),
    ((3, 2, 3), 1, 0, 2), ((3, 2, 4), 0, -1, 0),
], ids=_id)
def test_trace_opts(shape, offset, a1, a2):
    run_case(F.trace_opts, [shape], opts=(offset, a1, a2))


@pytest.mark.parametrize("fn,shape", [
    (F.transpose, (2, 3)), (F.transpose, (2, 3, 4)), (F.transpose, (3,)), (F.attr_T, (2, 3)),
    (F.attr_T, (2, 3, 4)), (F.m_transpose, (2, 3)), (F.m_transpose, (2, 3, 4)),
    (F.m_transpose_args, (2, 3, 4)), (F.m_transpose_tuple, (2, 3, 4)), (F.m_swapaxes, (2, 3, 4)),
], ids=_id)
def test_transpose(fn, shape):
    run_case(fn, [shape])


@pytest.mark.parametrize("axes", [(1, 0, 2), (2, 0, 1), (-1, 0, 1), [1, 2, 0], (0, -1, -2)], ids=_id)
def test_transpose_axes(axes):
    run_case(F.transpose_axes, [(2, 3, 4)], opts=(axes,))


@pytest.mark.parametrize("a1,a2", [(0, 1), (0, 2), (-1, 0), (1, 1)], ids=_id)
def test_swapaxes(a1, a2):
    run_case(F.swapaxes, [(2, 3, 4)], opts=(a1, a2))


@pytest.mark.parametrize("src,dst", [(0, 2), (-1, 0), ((0, 1), (2, 0))], ids=_id)
def test_moveaxis(src, dst):
    run_case(F.moveaxis, [(2, 3, 4)], opts=(src, dst))


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 3, 3)], ids=_id)
def test_inv(shape):
    run_case(F.inv, [shape], dom="mat", rtol=1e-5)


@pytest.mark.parametrize("sa,sb", [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 4)),
                                   ((2, 3, 3), (3,)), ((2, 3, 3), (3, 1))], ids=_id)
def test_solve(sa, sb):
    run_case(F.solve, [sa, sb], dom=["mat", "real"], rtol=1e-5)


@pytest.mark.parametrize("dom", ["mat", "negmat"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 3, 3)], ids=_id)
def test_det_slogdet(shape, dom):
    run_case(F.det, [shape], dom=dom, rtol=1e-5)
    run_case(F.slogdet, [shape], dom=dom, rtol=1e-5)
    run_case(F.slogdet_both, [shape], dom=dom, rtol=1e-5)


@pytest.mark.parametrize("dom", ["mat", "negmat"])
def test_det_slogdet_returned_directly(dom):
    a = make_inputs(("direct", dom), [(3, 3)], dom)[0]
    check_grads(F.det_direct, (a,), rtol=1e-5)
    check_grads(F.slogdet_direct, (a,), rtol=1e-5)


NORMS = [
    ((3,), None, None, False), ((2, 3), None, None, False), ((2, 3), "fro", None, False),
    ((2, 3), None, 0, False), ((2, 3), None, -1, True), ((2, 3), 2, 1, False),
    ((3,), 2, None, False), ((3,), 1, None, False), ((3,), np.inf, None, False),
    ((2, 3), 1, 0, False), ((2, 3), np.inf, -1, True), ((2, 3), None, (0, 1), False),
    ((2, 3, 4), None, (1, 2), True), ((2, 3, 4), "fro", (0, 2), False),
    # other vector norms
    ((3,), -np.inf, None, False), ((3,), 3, None, False), ((3,), 0.5, None, False),
    ((3,), 0, None, False), ((2, 3), 3, -1, True), ((2, 3), -1.5, 0, False),
    # matrix norms
    ((2, 3), 1, None, False), ((2, 3), -1, None, False), ((3, 2), np.inf, None, False),
    ((3, 2), -np.inf, None, True), ((2, 3), "nuc", None, False), ((2, 3), 2, None, False),
    ((3, 3), -2, None, False), ((2, 3, 4), 2, (0, 2), False), ((2, 3, 4), "nuc", (2, 1), True),
    ((2, 3, 4), 1, (-1, 0), False), ((2, 3, 4), np.inf, (1, 2), True),
]


@pytest.mark.parametrize("shape,ord,axis,keepdims", NORMS, ids=_id)
def test_norm(shape, ord, axis, keepdims):
    run_case(F.norm_opts, [shape], opts=(ord, axis, keepdims), dom="nz")


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)], ids=_id)
def test_norm_default(shape):
    run_case(F.norm, [shape])


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, 3])
def test_norm_of_zero_vector_is_finite(ord):
    g = s2sad.grad(F.norm_opts)(np.zeros(3), 1.0, ord, None, False)
    assert np.all(np.isfinite(g))


# --------------------------------------------------------------------- shape

RESHAPES = [((2, 3), (3, 2)), ((2, 3), -1), ((2, 3), (6,)), ((6,), (2, 1, 3)), ((), (1, 1)),
            ((2, 3), (-1, 2))]


@pytest.mark.parametrize("shape,new", RESHAPES, ids=_id)
def test_reshape(shape, new):
    run_case(F.reshape, [shape], opts=(new,))
    run_case(F.m_reshape_tuple, [shape], opts=(new,))


@pytest.mark.parametrize("fn,shape", [
    (F.m_reshape_args, (2, 3)), (F.ravel, (2, 3)), (F.ravel, ()), (F.m_ravel, (2, 3)),
    (F.m_flatten, (2, 1, 3)), (F.squeeze, (2, 1, 3)), (F.squeeze, (1, 1)), (F.m_squeeze, (1, 3, 1)),
    (F.atleast_1d, ()), (F.atleast_1d, (3,)), (F.atleast_1d, "py"), (F.atleast_2d, ()),
    (F.atleast_2d, (3,)), (F.atleast_2d, (2, 3)), (F.atleast_3d, ()), (F.atleast_3d, (3,)),
    (F.atleast_3d, (2, 3)), (F.atleast_3d, (2, 3, 4)), (F.fliplr, (2, 3)), (F.flipud, (2, 3)),
], ids=_id)
def test_shape_fns(fn, shape):
    run_case(fn, [shape])


@pytest.mark.parametrize("shape,axis", [((2, 1, 3), 1), ((1, 3, 1), (0, 2)), ((1, 3), -2)], ids=_id)
def test_squeeze_axis(shape, axis):
    run_case(F.squeeze_axis, [shape], opts=(axis,))


@pytest.mark.parametrize("shape,axis", [((3,), 0), ((3,), -1), ((2, 3), 1), ((2, 3), (0, 3)), ((), 0)],
                         ids=_id)
def test_expand_dims(shape, axis):
    run_case(F.expand_dims, [shape], opts=(axis,))


@pytest.mark.parametrize("sx,sy,axis", [
    ((2,), (3,), 0), ((2, 3), (1, 3), 0), ((2, 3), (2, 2), 1), ((2, 3), (2, 1), -1),
    ((2, 3), (4,), None), ((2, 2, 3), (2, 1, 3), 1),
], ids=_id)
def test_concatenate(sx, sy, axis):
    run_case(F.concatenate2, [sx, sy], opts=(axis,))


def test_concatenate_three_and_repeated():
    run_case(F.concatenate3, [(2,), (3,), (1,)])
    run_case(F.concatenate_repeat, [(2, 3), (1, 3)])


@pytest.mark.parametrize("shape,axis", [((3,), 0), ((3,), 1), ((3,), -1), ((2, 3), 1), ((2, 3), -2),
                                        ((), 0)], ids=_id)
def test_stack(shape, axis):
    run_case(F.stack, [shape, shape], opts=(axis,))


def test_stack_default():
    run_case(F.stack_default, [(2, 3), (2, 3), (2, 3)])


@pytest.mark.parametrize("sx,sy", [((2,), (3,)), ((2, 3), (2, 1)), ((), (2,)), ((2, 2, 3), (2, 1, 3))],
                         ids=_id)
def test_hstack(sx, sy):
    run_case(F.hstack, [sx, sy])


@pytest.mark.parametrize("sx,sy", [((3,), (3,)), ((2, 3), (1, 3)), ((3,), (2, 3)), ((), ()),
                                   ((2, 2, 3), (1, 2, 3))], ids=_id)
def test_vstack(sx, sy):
    run_case(F.vstack, [sx, sy])


@pytest.mark.parametrize("shape,to", [((3,), (2, 3)), ((2, 1), (2, 3)), ((), (2, 2)), ("py", (3,)),
                                      ((1, 3), (4, 2, 3))], ids=_id)
def test_broadcast_to(shape, to):
    run_case(F.broadcast_to, [shape], opts=(to,))


@pytest.mark.parametrize("sa,sb,num,endpoint,axis", [
    ((), (), 5, True, 0), ((), (), 5, False, 0), ((3,), (3,), 4, True, 0), ((3,), (), 4, True, 1),
    ((2, 3), (3,), 1, True, 0), ((2,), (2,), 3, False, -1)], ids=_id)
def test_linspace_differentiates_its_endpoints(sa, sb, num, endpoint, axis):
    """Sample i is start + t_i (stop - start): reverse and forward mode
    against finite differences, broadcast array endpoints, any axis."""
    rng = _rng("linspace", sa, sb, num, endpoint, axis)
    a = rng.standard_normal(sa) if sa else 0.3
    b = rng.standard_normal(sb) if sb else 1.7
    w = rng.standard_normal(np.linspace(a, b, num, endpoint=endpoint, axis=axis).shape)
    check_grads(F.linspace, (a, b, w, num, endpoint, axis), wrt=(0, 1))
    check_grads(F.linspace_start, (0.4, rng.standard_normal(5)), wrt=0)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3)], ids=_id)
def test_svd(shape):
    """Singular values, reduced factors (Townsend 2016) and the leading
    columns of full ones, reverse and forward mode, against finite
    differences; batched over leading axes."""
    rng = _rng("svd", shape)
    a = rng.standard_normal(shape)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    check_grads(F.svd_values, (a, rng.standard_normal(s.shape)), wrt=0)
    if len(shape) == 2:
        check_grads(F.svd_reduced, (a, rng.standard_normal(u.shape), rng.standard_normal(s.shape),
                                    rng.standard_normal(vt.shape)), wrt=0)
        check_grads(F.svd_full_leading, (a,), wrt=0)


def test_svd_of_the_extra_columns_of_a_full_factorisation_is_refused():
    a = _rng("svd-extra").standard_normal((5, 3))
    with pytest.raises(s2sad.errors.NoRuleError, match="not unique") as e:
        s2sad.grad(F.svd_full_extra_columns)(a)
    assert e.value.function == "svd_full_extra_columns"
    assert np.isnan(s2sad.jvp(F.svd_full_extra_columns)(a, np.ones_like(a))[1])


@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (2, 4, 3)], ids=_id)
def test_qr(shape):
    rng = _rng("qr", shape)
    a = rng.standard_normal(shape)
    q, r = np.linalg.qr(a)
    check_grads(F.qr_both, (a, rng.standard_normal(q.shape), rng.standard_normal(r.shape)), wrt=0)
    check_grads(F.qr_r, (a, rng.standard_normal(r.shape)), wrt=0)


def test_qr_of_a_wide_matrix_is_refused_with_a_reason():
    a = _rng("qr-wide").standard_normal((3, 5))
    q, r = np.linalg.qr(a)
    with pytest.raises(s2sad.errors.NoRuleError, match="tall or square"):
        s2sad.grad(F.qr_both)(a, np.ones(q.shape), np.ones(r.shape))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (3, 3)], ids=_id)
def test_pinv(shape):
    rng = _rng("pinv", shape)
    check_grads(F.pinv, (rng.standard_normal(shape), rng.standard_normal(shape[::-1])), wrt=0)


@pytest.mark.parametrize("n", [0, 1, 3, -2], ids=_id)
def test_matrix_power(n):
    rng = _rng("matrix_power", n)
    a = 0.5 * rng.standard_normal((3, 3)) + (2.0 * np.eye(3) if n < 0 else 0.0)
    check_grads(F.matrix_power, (a, rng.standard_normal((3, 3)), n), wrt=0)


@pytest.mark.parametrize("sa,sb", [((6, 3), (6,)), ((6, 3), (6, 2)), ((3, 5), (3,))], ids=_id)
def test_lstsq(sa, sb):
    """The solution, the residuals (moved by a and b only: the solution
    minimises them) and the singular values, in a and b."""
    rng = _rng("lstsq", sa, sb)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    w = rng.standard_normal(np.linalg.lstsq(a, b, rcond=None)[0].shape)
    check_grads(F.lstsq_x, (a, b, w), wrt=(0, 1))
    check_grads(F.lstsq_all, (a, b, w), wrt=(0, 1))
    check_grads(F.lstsq_both, (a, b), wrt=(0, 1))     # both tangents into one tuple result


@pytest.mark.parametrize("axis,ishape", [(1, (3, 5)), (0, (2, 4)), (1, (1, 4)), (None, (7,))], ids=_id)
def test_take_along_axis(axis, ishape):
    """Repeated indices accumulate; broadcast index dimensions; the
    flattened form (axis=None)."""
    rng = _rng("take_along_axis", axis, ishape)
    x = rng.standard_normal((3, 4))
    hi = x.size if axis is None else x.shape[axis]
    idx = rng.integers(0, hi, ishape)
    w = rng.standard_normal(np.take_along_axis(x, idx, axis).shape)
    check_grads(F.take_along_axis, (x, w, idx, axis), wrt=0)
    check_grads(F.take_along_axis_sorted, (x, rng.standard_normal((3, 4))), wrt=0)


@pytest.mark.parametrize("sy", [(3, 4), (4,)], ids=_id)
def test_select(sy):
    """Each choice where its condition is the first to hold, the default
    elsewhere (broadcast choices summed back)."""
    rng = _rng("select", sy)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(sy)
    check_grads(F.select3, (x, y, rng.standard_normal((3, 4))), wrt=(0, 1))
    check_grads(F.select_scalar_default, (x, rng.standard_normal((3, 4))), wrt=0)


@pytest.mark.parametrize("fn", [F.nansum, F.nanmean, F.nanmax, F.nanmin], ids=_id)
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True)], ids=_id)
def test_nan_reductions_ignore_the_nans(fn, axis, keepdims):
    """The gradient in the numbers is the reduction's over them (finite
    differences there), zero at the NaNs; the tangent likewise."""
    rng = _rng("nan", fn.__name__, axis, keepdims)
    x = rng.standard_normal((3, 4))
    x[0, 1] = x[2, 3] = np.nan
    w = rng.standard_normal(np.shape(np.nansum(x, axis=axis, keepdims=keepdims)))
    g = s2sad.grad(fn)(x, w, axis, keepdims)
    num = ~np.isnan(x)
    assert np.all(g[~num] == 0)
    filled = np.where(num, x, 0.0)

    def on_numbers(v):
        return fn(np.where(num, v, np.nan), w, axis, keepdims)
    np.testing.assert_allclose(g[num], numeric_grad(on_numbers, (filled,), 0, 1e-6)[num], rtol=1e-6, atol=1e-7)
    tan = rng.standard_normal(x.shape)
    _, got = s2sad.jvp(fn)(x, w, axis, keepdims, tan)
    np.testing.assert_allclose(got, np.sum(np.where(num, g * tan, 0.0)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sx,sh", [((5,), (5,)), ((5,), ()), ((2, 3), (3,))], ids=_id)
def test_heaviside_differentiates_its_value_at_zero(sx, sh):
    rng = _rng("heaviside", sx, sh)
    x = rng.uniform(-1.5, 1.5, sx)          # rounded: some exact zeros, the rest a step away
    h = rng.standard_normal(sh) if sh else 0.3
    check_grads(F.heaviside, (x, h, rng.standard_normal(np.heaviside(x, h).shape)), wrt=(0, 1))


def test_constructors_with_an_integer_dtype_are_constant():
    """A value cast to integers is constant almost everywhere: np.full,
    full_like, linspace and astype with an integer dtype have zero
    derivatives in both modes (found by a review: they passed g on)."""
    def check(f):
        assert s2sad.grad(f)(1.7) == 0.0
        assert s2sad.jvp(f)(1.7, 1.0)[1] == 0.0
    for f in (F.int_full, F.int_full_like, F.int_linspace, F.int_astype):
        check(f)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(5, 3), (3, 5), (4, 4), (1, 3), (6, 1)], ids=_id)
def test_convolve(n, m, mode):
    rng = _rng("convolve", n, m, mode)
    a, v = rng.standard_normal(n), rng.standard_normal(m)
    w = rng.standard_normal(np.convolve(a, v, mode).shape)
    check_grads(F.convolve, (a, v, w, mode), wrt=(0, 1))


def test_interp():
    """In x (the slope of its segment; zero outside), the knots and the
    values (through the position in the segment; the end values outside),
    and left/right where given; period= is refused by name."""
    rng = _rng("interp")
    x = np.concatenate([rng.uniform(-1.5, 2.5, 6), [0.25]])
    xp, fp = np.sort(rng.uniform(-1, 2, 5)), rng.standard_normal(5)
    check_grads(F.interp, (x, xp, fp, rng.standard_normal(7)), wrt=(0, 1, 2))
    check_grads(F.interp, (0.3, xp, fp, 1.7), wrt=(0, 1, 2))
    check_grads(F.interp_left_right, (x, fp[:4], -0.4, 2.0, rng.standard_normal(7)), wrt=(0, 1, 2, 3))
    with pytest.raises(s2sad.errors.NoRuleError, match="period"):
        s2sad.grad(lambda x: np.sum(np.interp(x, xp, fp, period=2.0)))(x)


def test_arange_differentiates_its_start_and_step():
    """Element i is start + i * step; the stop sets the length only, and a
    single argument is the stop (reverse and forward mode)."""
    rng = _rng("arange")
    check_grads(F.arange_start_step, (0.3, 0.7, rng.standard_normal(6)), wrt=(0, 1))
    check_grads(F.arange_stop_only, (0.3, rng.standard_normal(4)), wrt=0)


@pytest.mark.parametrize("shape,to", [((), (2, 3)), ("py", (3,)), ((3,), (2, 3)), ((2, 1), (2, 3))], ids=_id)
def test_full_and_fill_differentiate_their_fill_value(shape, to):
    """np.full's fill value, np.full_like's and an array's .fill(v):
    each element of the result is the fill value (broadcast)."""
    run_case(F.full, [shape], opts=(to,))
    run_case(F.full_like, [shape], opts=(np.zeros(to),))
    if shape in ((), "py"):
        run_case(F.m_fill, [shape], opts=(to,))


@pytest.mark.parametrize("shape,reps", [((3,), 2), ((3,), (2, 2)), ((2, 3), (2, 1)), ((2, 3), 2),
                                        ((2, 3), (2, 1, 3)), ((), 3), ((2, 1, 3), (1, 2))], ids=_id)
def test_tile(shape, reps):
    run_case(F.tile, [shape], opts=(reps,))


@pytest.mark.parametrize("shape,repeats,axis", [
    ((3,), 2, None), ((2, 3), 2, None), ((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, -1),
    ((3,), [1, 0, 2], None), ((3,), [1, 0, 2], 0), ((2, 3), [2, 1], 0), ((2, 3), [0, 2, 1], -1),
    ((2, 3), np.array([1, 2, 1, 0, 3, 1]), None), ((), 3, None),
], ids=_id)
def test_repeat(shape, repeats, axis):
    run_case(F.repeat, [shape], opts=(repeats, axis))


@pytest.mark.parametrize("shape,axis", [((3,), None), ((2, 3), None), ((2, 3), 0), ((2, 3), -1),
                                        ((2, 3, 4), (0, 2))], ids=_id)
def test_flip(shape, axis):
    run_case(F.flip, [shape], opts=(axis,))


@pytest.mark.parametrize("shape,shift,axis", [
    ((4,), 1, None), ((2, 3), 2, None), ((2, 3), 1, 0), ((2, 3), -1, 1), ((2, 3), (1, 2), (0, 1)),
    ((2, 3, 4), 5, -1),
], ids=_id)
def test_roll(shape, shift, axis):
    run_case(F.roll, [shape], opts=(shift, axis))


@pytest.mark.parametrize("shape,k", [((3,), 0), ((3,), 1), ((3,), -2), ((3, 3), 0), ((3, 4), 1),
                                     ((4, 3), -1)], ids=_id)
def test_diag(shape, k):
    run_case(F.diag, [shape], opts=(k,))


@pytest.mark.parametrize("fn", [F.triu, F.tril], ids=_id)
@pytest.mark.parametrize("shape,k", [((3, 3), 0), ((3, 4), 1), ((4, 3), -1), ((2, 3, 3), 0)], ids=_id)
def test_triu_tril(fn, shape, k):
    run_case(fn, [shape], opts=(k,))


# ---------------------------------------------------------------- subscripts

SUBSCRIPTS = [
    (F.sub_int, (4,)), (F.sub_int, (3, 2)), (F.sub_neg_int, (4,)), (F.sub_neg_int, (2, 3)),
    (F.sub_slice, (4,)), (F.sub_slice, (3, 2)), (F.sub_slice_neg, (5,)), (F.sub_step, (5,)),
    (F.sub_step, (5, 2)), (F.sub_reverse, (4,)), (F.sub_tuple, (2, 3)), (F.sub_tuple_neg, (2, 3)),
    (F.sub_row, (2, 3)), (F.sub_col, (2, 3)), (F.sub_ellipsis, (2, 3)), (F.sub_ellipsis, (2, 3, 2)),
    (F.sub_newaxis, (2, 3)), (F.sub_int_list, (3,)), (F.sub_int_list, (3, 2)), (F.sub_twice, (4,)),
]


@pytest.mark.parametrize("fn,shape", SUBSCRIPTS, ids=_id)
def test_subscript(fn, shape):
    run_case(fn, [shape])


@pytest.mark.parametrize("shape,idx", [
    ((4,), np.array([0, 2, 2, 3, 0])), ((4,), np.array([-1, 1, -1])), ((3, 2), np.array([2, 0, 2])),
    ((4,), np.array([[0, 1], [1, 1]])), ((4,), [3, 3, 1]),
], ids=_id)
def test_subscript_int_array(shape, idx):
    run_case(F.sub_int_array, [shape], opts=(idx,))


def test_subscript_int_arrays_2d():
    rows, cols = np.array([0, 1, 0, 0]), np.array([2, 0, 2, 2])
    run_case(F.sub_int_array_2d, [(2, 3)], opts=(rows, cols))
    run_case(F.sub_int_array_slice, [(3, 3)], opts=(np.array([2, 0, 2]),))


@pytest.mark.parametrize("shape", [(4,), (2, 3)], ids=_id)
def test_subscript_mask(shape):
    mask = _rng("mask", shape).random(size=shape) > 0.4
    run_case(F.sub_mask, [shape], opts=(mask,))
    run_case(F.sub_mask, [shape[:1]], opts=(np.array([True, False, True, True][:shape[0]]),))


def test_subscript_mask_computed():
    x = np.array([0.5, -1.0, 2.0, -0.3, 0.1])
    check_grads(F.sub_mask_computed, (x,))


# ------------------------------------------------------ attributes and methods


@pytest.mark.parametrize("fn", [F.attrs, F.m_copy, F.np_copy, F.np_array, F.np_asarray, F.m_astype,
                                F.m_astype_float], ids=_id)
@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=_id)
def test_attributes_methods(fn, shape):
    run_case(fn, [shape])


# ------------------------------------------------------- non-differentiable

NONDIFF = [F.nd_zeros_like, F.nd_ones_like, F.nd_full_like, F.nd_arange, F.nd_argmax, F.nd_m_argmax,
           F.nd_floor, F.nd_round, F.nd_sign, F.nd_isfinite, F.nd_shape_fns, F.nd_trunc_rint,
           F.nd_floordiv]


@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=_id)
@pytest.mark.parametrize("fn", NONDIFF, ids=_id)
def test_nondiff(fn, shape):
    if fn in (F.nd_argmax, F.nd_m_argmax) and len(shape) > 1:
        pytest.skip("flat argmax indexes a 1-D array")
    run_case(fn, [shape], dom="nz")


@pytest.mark.parametrize("fn", [F.nd_compare, F.nd_np_compare], ids=_id)
@pytest.mark.parametrize("sx,sy", [((3,), (3,)), ((2, 3), (3,)), ((1, 3), (2, 1))], ids=_id)
def test_nondiff_compare(fn, sx, sy):
    run_case(fn, [sx, sy])


def test_nondiff_functions_contribute_nothing():
    """A function of x only through non-differentiable functions has a zero
    gradient (and the adjoint code contains no adjoint of them)."""
    x = np.array([0.3, -1.2, 2.5])
    w = np.array([1.0, 2.0, 3.0])
    g = s2sad.grad(F.nd_sign)(x, w)       # sign(x) * x: only x's own factor counts
    np.testing.assert_allclose(g, np.sign(x) * w)


# -------------------------------------------------------------------- float32

FLOAT32_CASES = [
    (F.exp, [(2, 3)], (), "real"), (F.log, [(2, 3)], (), "pos"), (F.tanh, [(3,)], (), "real"),
    (F.sqrt, [(3,)], (), "pos"), (F.abs_, [(3,)], (), "nz"), (F.op_pow, [(2, 3), (3,)], (), "pos"),
    (F.op_div, [(2, 3), (1, 3)], (), "nz"), (F.maximum, [(2, 3), (3,)], (), "real"),
    (F.logaddexp, [(2, 3), (2, 1)], (), "real"), (F.arctan2, [(3,), (3,)], (), "nz"),
    (F.op_mul, [(2, 3), ()], (), "real"), (F.op_add, [(2, 3), "py"], (), "real"),
    (F.clip_const, [(2, 3)], (), "real"), (F.sum_, [(2, 3)], (0, False), "real"),
    (F.mean, [(2, 3)], (-1, True), "real"), (F.max_, [(2, 3)], (None, False), "real"),
    (F.prod, [(2, 3)], (1, False), "nz"), (F.var, [(2, 3)], (0, False), "real"),
    (F.std, [(2, 3)], (None, False), "real"), (F.m_sum, [(2, 3)], (1, True), "real"),
    (F.matmul, [(2, 3), (3, 4)], (), "real"), (F.matmul, [(5, 2, 3), (3,)], (), "real"),
    (F.dot, [(3,), (3, 2)], (), "real"), (F.einsum2, [(2, 3), (3, 4)], ("ij,jk->ik",), "real"),
    (F.outer, [(2,), (3,)], (), "real"), (F.inner, [(2, 3), (4, 3)], (), "real"),
    (F.tensordot, [(2, 3), (3, 4)], (1,), "real"), (F.trace, [(3, 3)], (), "real"),
    (F.inv, [(3, 3)], (), "mat"), (F.solve, [(3, 3), (3,)], (), "mat"), (F.det, [(3, 3)], (), "mat"),
    (F.slogdet, [(3, 3)], (), "mat"), (F.norm, [(2, 3)], (), "nz"), (F.reshape, [(2, 3)], ((3, 2),), "real"),
    (F.concatenate2, [(2, 3), (1, 3)], (0,), "real"), (F.stack, [(3,), (3,)], (1,), "real"),
    (F.tile, [(2, 3)], ((2, 1),), "real"), (F.repeat, [(2, 3)], (2, 1), "real"),
    (F.sub_int_list, [(3,)], (), "real"), (F.sub_step, [(5,)], (), "real"),
    (F.broadcast_to, [(3,)], ((2, 3),), "real"), (F.m_astype, [(3,)], (), "real"),
    (F.cumsum, [(2, 3)], (0,), "real"), (F.nd_zeros_like, [(3,)], (), "real"),
    (F.diag, [(3,)], (0,), "real"), (F.roll, [(2, 3)], (1, 0), "real"),
]


@pytest.mark.parametrize("fn,specs,opts,dom", FLOAT32_CASES, ids=_id)
def test_float32_in_float32_out(fn, specs, opts, dom):
    key = (fn.__name__, repr(specs), repr(opts), dom)
    inputs = make_inputs(key, specs, [dom if dom not in ("mat",) or i == 0 else "real"
                                      for i in range(len(specs))])
    w = weight_for(fn, inputs, opts, key)
    wrt = tuple(i for i, s in enumerate(specs) if isinstance(s, tuple))
    args64 = tuple(inputs) + (w,) + tuple(opts)
    args32 = tuple(np.asarray(v, dtype=np.float32) if isinstance(s, tuple) else v
                   for v, s in zip(inputs, specs)) + (np.asarray(w, dtype=np.float32),) + tuple(opts)
    g32 = s2sad.grad(fn, wrt=wrt)(*args32)
    g64 = s2sad.grad(fn, wrt=wrt)(*args64)
    for a, b, s in zip(g32, g64, specs):
        assert a.dtype == np.float32, (fn.__name__, a.dtype)
        assert a.shape == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)


# ----------------------------------------------- array-library agnostic helpers

DUCK_CASES = FLOAT32_CASES + [
    (F.prod, [(2, 3, 4)], ((0, 2), False), "nz"), (F.m_prod, [(2, 3)], (None, True), "nz"),
    (F.trace, [(3, 3)], (), "real"), (F.trace_opts, [(2, 3, 3)], (1, 1, 2), "real"),
    (F.einsum1, [(2, 3)], ("ij->",), "real"), (F.einsum1, [(3, 3)], ("ii->",), "real"),
    (F.einsum1, [(2, 2, 3)], ("iij->j",), "real"), (F.einsum2, [(5, 2, 3), (3, 2)], ("...ij,...jk->...ik",), "real"),
    (F.transpose_axes, [(2, 3, 4)], ((-1, 0, 1),), "real"), (F.m_transpose_tuple, [(2, 3, 4)], (), "real"),
    (F.norm_opts, [(2, 3)], ("nuc", None, False), "nz"), (F.norm_opts, [(2, 3)], (1, None, False), "nz"),
    (F.norm_opts, [(3,)], (3, None, False), "nz"), (F.std, [()], (None, False), "real"),
    (F.solve, [(2, 3, 3), (3,)], (), "mat"), (F.det, [(2, 3, 3)], (), "mat"),
    (F.slogdet, [(2, 3, 3)], (), "mat"), (F.inv, [(2, 3, 3)], (), "mat"),
    (F.squeeze, [(1, 1)], (), "real"), (F.reshape_F, [(2, 3)], (), "real"),
]


@pytest.mark.parametrize("fn,specs,opts,dom", DUCK_CASES, ids=_id)
def test_duck_array_gradients(fn, specs, opts, dom):
    """With a CuPy-like array type (no implicit conversion to NumPy, no
    mixing with NumPy arrays) the runtime helpers build the adjoint in that
    type, and it equals the NumPy one."""
    from duckarray import DuckArray
    key = (fn.__name__, repr(specs), repr(opts), dom)
    inputs = make_inputs(key, specs, [dom if dom != "mat" or i == 0 else "real" for i in range(len(specs))])
    w = weight_for(fn, inputs, opts, key)
    args = tuple(inputs) + (w,) + tuple(opts)
    wrt = tuple(i for i, s in enumerate(specs) if isinstance(s, tuple))
    duck = tuple(DuckArray(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args)
    g_np = s2sad.grad(fn, wrt=wrt)(*args)
    g_duck = s2sad.grad(fn, wrt=wrt)(*duck)
    for a, b in zip(g_duck, g_np):
        assert type(a) is DuckArray, type(a)
        np.testing.assert_allclose(a.get(), b, rtol=1e-12, atol=1e-14)


def test_python_float_inputs_give_python_floats():
    g = s2sad.grad(F.op_mul, wrt=(0, 1))(1.5, -0.5, 2.0)
    assert all(type(v) is float for v in g)
    want = numeric_grad(F.op_mul, (1.5, -0.5, 2.0), 0)
    assert abs(g[0] - want) < 1e-7


# -------------------------------------------------------------------- extras


@pytest.mark.parametrize("fn,specs", [
    (F.where_indices, [(5,)]), (F.reshape_F, [(2, 3)]), (F.m_reshape_F, [(2, 3)]),
    (F.m_ravel_F, [(2, 3)]), (F.attr_mT, [(2, 2, 3)]), (F.attr_real, [(2, 3)]),
    (F.concatenate_const, [(3,)]), (F.stack_scalar, [(), ()]), (F.stack_scalar, ["py", "py"]),
], ids=_id)
def test_extras(fn, specs):
    run_case(fn, specs)


@pytest.mark.parametrize("fn", [F.array_of_list, F.sum_of_list], ids=_id)
def test_list_literal_operand(fn):
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.2, -1.0])
    check_grads(fn, (x, y), wrt=(0, 1))


@pytest.mark.parametrize("make", [float, np.float64, np.array])
def test_var_and_std_of_a_scalar(make):
    """np.var/np.std of a Python float or NumPy scalar: zero spread, so only
    the x * y term has a derivative (they crashed on `float.mean`)."""
    x, y = make(1.5), make(2.0)
    gx, gy = s2sad.grad(F.var_std_of_scalars, wrt=(0, 1))(x, y)
    assert float(gx) == 2.0 and float(gy) == 1.5
    assert type(gx) is type(x) or (make is np.array and isinstance(gx, np.ndarray))
    _, tan = s2sad.jvp(F.var_std_of_scalars, wrt=(0, 1))(x, y, (make(1.0), make(1.0)))
    assert float(tan) == 3.5


# ------------------------------------------ array manipulation (issue #16)

MANIPULATION = [
    (F.diff, [(5,)], (1, -1)), (F.diff, [(3, 4)], (2, 0)), (F.diff, [(3, 4)], (1, 1)), (F.diff, [(3, 4)], (3, -1)),
    (F.diff_pre_app, [(3, 4), (3, 1), ()], (-1,)), (F.diff_pre_app, [(3, 4), (), (1, 4)], (0,)),
    (F.rot90, [(2, 3)], (1, (0, 1))), (F.rot90, [(2, 3, 4)], (-1, (2, 0))), (F.rot90, [(2, 3)], (2, (1, 0))),
    (F.rot90_default, [(2, 3)], ()), (F.rollaxis, [(2, 3, 4)], (2, 0)), (F.rollaxis, [(2, 3, 4)], (0, 3)),
    (F.rollaxis, [(2, 3, 4)], (-1, 1)), (F.column_stack, [(3,), (3, 2)], ()), (F.column_stack, [(3,), (3,)], ()),
    (F.dstack, [(3,), (3,)], ()), (F.dstack, [(2, 3), (2, 3, 2)], ()),
    (F.append, [(2, 3), (1, 3)], (0,)), (F.append, [(2, 3), (2, 2)], (-1,)), (F.append, [(2, 3), (4,)], (None,)),
    (F.append, [(3,), ()], (None,)), (F.split_unpack, [(6, 2)], (0,)), (F.split_unpack, [(2, 6)], (1,)),
    (F.array_split_index, [(7,)], (3,)), (F.array_split_index, [(7, 2)], ([2, 5],)), (F.hvd_split, [(2, 2, 2)], ()),
    (F.diagonal, [(3, 4)], (1, 0, 1)), (F.diagonal, [(2, 3, 3)], (-1, 1, 2)), (F.diagonal, [(3, 2, 4)], (0, -1, 0)),
    (F.m_diagonal, [(3, 3)], ()), (F.pad, [(2, 3)], (1, "constant")), (F.pad, [(2, 3)], (((1, 0), (2, 1)), "reflect")),
    (F.pad, [(4,)], (3, "wrap")), (F.pad, [(2, 3)], (2, "edge")), (F.pad, [(3,)], ((2, 3), "symmetric")),
    (F.pad_constant, [(2, 3), ()], (1,)), (F.pad_constant, [(3,), "py"], ((2, 0),)),
    (F.kron, [(2, 3), (3, 2)], ()), (F.kron, [(2,), (2, 3)], ()), (F.kron, [(3,), (2,)], ()),
    (F.kron, [(2, 1, 2), (2, 2)], ()), (F.cross, [(3,), (3,)], ()), (F.cross, [(2, 3), (3,)], ()),
    (F.cross, [(4, 1, 3), (2, 3)], ()), (F.cross_axis, [(3, 2), (3, 2)], (0,)), (F.vdot, [(2, 3), (6,)], ()),
    (F.vdot, [(3,), (3,)], ()), (F.average, [(2, 3)], (None,)), (F.average, [(2, 3)], (1,)),
    (F.average, [(2, 3, 2)], ((0, 2),)), (F.average_weighted, [(2, 3), (2, 3)], (None, False)),
    (F.average_weighted, [(2, 3), (3,)], (1, True)), (F.average_weighted, [(2, 3), (2,)], (0, False)),
    (F.average_weighted, [(2, 3), (2, 3)], (-1, False)),
    (F.cumprod, [(4,)], (None,)), (F.cumprod, [(2, 3)], (None,)), (F.cumprod, [(2, 3)], (1,)),
    (F.cumprod, [(3, 2, 2)], (0,)), (F.m_cumprod, [(2, 3)], (0,)),
    (F.sort, [(5,)], (-1,)), (F.sort, [(3, 4)], (0,)), (F.sort, [(3, 4)], (None,)), (F.sort, [(2, 3, 2)], (1,)),
    (F.partition, [(5,)], (2, -1)), (F.partition, [(4, 3)], (1, 0)), (F.partition, [(2, 5)], ([0, 3], 1)),
    (F.ptp, [(2, 3)], (None, False)), (F.ptp, [(2, 3)], (1, True)), (F.ptp, [(2, 3, 4)], ((0, 2), False)),
]


@pytest.mark.parametrize("fn,specs,opts", MANIPULATION, ids=_id)
def test_array_manipulation(fn, specs, opts):
    dom = "nz" if fn in (F.cumprod, F.m_cumprod) else "real"
    run_case(fn, specs, opts=opts, dom=dom)


@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=_id)
def test_cumprod_with_zeros(axis):
    x = np.array([[0.0, 1.5, -2.0, 0.5], [0.7, 0.0, 0.0, 1.2], [0.4, -1.3, 0.9, 0.0]])
    w = _rng("cumprod0", axis).uniform(0.5, 1.5, size=np.shape(np.cumprod(x, axis=axis)))
    check_grads(F.cumprod, (x, w, axis))


def test_sort_and_partition_with_ties():
    # tied values: the adjoint goes to one of them, consistently in both modes
    x = np.array([[0.5, -1.0, 0.5, 2.0], [1.0, 1.0, -0.3, 1.0]])
    w = _rng("ties").uniform(0.5, 1.5, size=x.shape)
    g = s2sad.grad(F.sort)(x, w, -1)
    np.testing.assert_allclose(np.sort(g, axis=-1), np.sort(w, axis=-1))
    check_tangents(F.sort, (x, w, -1), [0], [g])
    check_tangents(F.partition, (x, w, 1, -1), [0], [s2sad.grad(F.partition)(x, w, 1, -1)])


def test_split_in_a_loop():
    check_grads(F.split_loop, (np.array([0.5, -1.0, 2.0, 0.3]),))


@pytest.mark.parametrize("mode", ["mean", "maximum", "linear_ramp"])
def test_pad_other_modes_are_refused(mode):
    with pytest.raises(s2sad.NoRuleError, match="np.pad is differentiated with mode"):
        s2sad.grad(F.pad)(np.ones((2, 3)), np.ones((4, 5)), 1, mode)
    with pytest.raises(s2sad.NoRuleError, match="np.pad is differentiated with mode"):
        s2sad.jvp(F.pad)(np.ones((2, 3)), np.ones((4, 5)), 1, mode, np.ones((2, 3)))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cross_of_2_vectors_is_refused():
    with pytest.raises(s2sad.NoRuleError, match="3-element vectors"):
        s2sad.grad(F.cross_axis)(np.ones((2, 2)), np.ones((2, 2)), 1.0, 0)


# ------------------------------------------------------------ decompositions

DECOMPOSITIONS = [
    (F.cholesky, (3, 3)), (F.cholesky, (1, 1)), (F.cholesky, (2, 3, 3)), (F.cholesky_upper, (3, 3)),
    (F.eigh, (3, 3)), (F.eigh, (2, 4, 4)), (F.eigh_upper_vectors, (3, 3)), (F.eigh_values, (3, 3)),
    (F.eigvalsh, (3, 3)), (F.eigvalsh, (2, 4, 4)),
]


@pytest.mark.parametrize("fn,shape", DECOMPOSITIONS, ids=_id)
def test_decompositions(fn, shape):
    # eigh reads the lower (or upper) triangle only: the random, non
    # symmetric input checks that the gradient lies on that triangle
    run_case(fn, [shape], rtol=1e-5)


# ----------------------------------------------------------- scipy.special

SCIPY_UNARY = [("sp_expit", "real"), ("sp_logit", "prob"), ("sp_erf", "real"), ("sp_erfc", "real"),
               ("sp_erfinv", "unit"), ("sp_gammaln", "pos"), ("sp_digamma", "pos"), ("sp_polygamma", "pos"),
               ("sp_erfcx", "real"), ("sp_gamma", "pos"), ("sp_rgamma", "pos"), ("sp_entr", "pos"),
               ("sp_i0", "real"), ("sp_i1", "real"), ("sp_j0", "real"), ("sp_j1", "real"), ("sp_y0", "pos"),
               ("sp_y1", "pos"), ("sp_ndtr", "real"), ("sp_log_ndtr", "real"), ("sp_ndtri", "prob"),
               ("sp_iv", "pos"), ("sp_jv", "pos"), ("sp_yv", "pos"), ("sp_kv", "pos")]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), "py"], ids=_id)
@pytest.mark.parametrize("name,dom", SCIPY_UNARY, ids=_id)
def test_scipy_special_unary(name, dom, shape):
    pytest.importorskip("scipy.special")
    run_case(getattr(F, name), [shape], dom=dom, rtol=1e-5)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), "py"], ids=_id)
def test_scipy_stats_norm(shape):
    """norm.logpdf, pdf, cdf, sf, logcdf, logsf in x, loc and scale
    (broadcast against each other), and with the standard defaults."""
    pytest.importorskip("scipy.stats")
    run_case(F.st_norm, [shape, (3,) if shape == (2, 3) else shape, shape], dom=["real", "real", "pos"], rtol=1e-5)
    run_case(F.st_norm_standard, [shape], rtol=1e-5)


@pytest.mark.parametrize("n", [None, 4])
def test_scipy_stats_multivariate_normal_logpdf(n):
    """In x (one sample or one per row), the mean and the covariance matrix
    (on the lower triangle, the one SciPy reads)."""
    pytest.importorskip("scipy.stats")
    rng = _rng("mvn", n)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + 3.0 * np.eye(3) + np.triu(rng.uniform(0, 1, (3, 3)), 1)   # not symmetric: the upper part is unread
    x = rng.standard_normal((n, 3) if n else 3)
    w = rng.standard_normal(n) if n else 1.3
    check_grads(F.st_mvn, (x, rng.standard_normal(3), cov, w), wrt=(0, 1, 2), rtol=1e-5)
    check_grads(F.st_mvn_no_mean, (x, cov, w), wrt=(0, 1), rtol=1e-5)
    with pytest.raises(s2sad.errors.NoRuleError, match="full covariance matrix"):
        s2sad.grad(F.st_mvn, wrt=0)(x, np.zeros(3), 2.0, w)


def test_scipy_bessel_order_is_refused():
    """iv, jv, yv, kv are differentiated in z; in the order v, with a message
    naming the function (not a silent zero)."""
    pytest.importorskip("scipy.special")
    with pytest.raises(s2sad.errors.NoRuleError, match="jv in its order v") as e:
        s2sad.grad(F.sp_jv_in_order)(0.5, np.array([1.0, 2.0]))
    assert e.value.filename == F.__file__


@pytest.mark.parametrize("fn,specs,opts,dom", [
    (F.sp_logsumexp, [(2, 3)], (None, False), "real"), (F.sp_logsumexp, [(2, 3)], (1, True), "real"),
    (F.sp_logsumexp, [(2, 3, 4)], ((0, 2), False), "real"), (F.sp_logsumexp, [(4,)], (0, False), "real"),
    (F.sp_logsumexp_b, [(2, 3), (3,)], (1,), "pos"), (F.sp_logsumexp_b, [(3,), (2, 3)], (None,), "pos"),
    (F.sp_softmax, [(2, 3)], (None,), "real"), (F.sp_softmax, [(2, 3)], (1,), "real"),
    (F.sp_softmax, [(2, 3, 2)], ((0, 2),), "real"), (F.sp_log_softmax, [(2, 3)], (0,), "real"),
    (F.sp_log_softmax, [(4,)], (None,), "real"), (F.sp_xlogy, [(2, 3), (3,)], (), ["real", "pos"]),
    (F.sp_xlogy, [(3,), "py"], (), ["real", "pos"]),
    (F.sp_beta, [(2, 3), (3,)], (), "pos"), (F.sp_betaln, [(3,), "py"], (), "pos"),
    (F.sp_xlog1py, [(2, 3), (3,)], (), ["real", "pos"]),
], ids=_id)
def test_scipy_special(fn, specs, opts, dom):
    pytest.importorskip("scipy.special")
    run_case(fn, specs, opts=opts, dom=dom, rtol=1e-5)


def test_rgamma_at_the_poles_of_gamma():
    """rgamma is entire: at -n its derivative is (-1)^n n! (0 * inf before)."""
    pytest.importorskip("scipy.special")
    import warnings
    x = np.array([0.0, -1.0, -3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = s2sad.grad(F.sp_rgamma_sum)(x)
        t = s2sad.jvp(F.sp_rgamma_sum)(x, np.ones(3))[1]
    np.testing.assert_allclose(g, [1.0, -2.0, -18.0], rtol=1e-12)
    np.testing.assert_allclose(t, -19.0, rtol=1e-12)


def test_xlogy_at_zero():
    pytest.importorskip("scipy.special")
    x, y = np.array([0.0, 0.0, 1.5]), np.array([0.0, 2.0, 0.5])
    gy = s2sad.grad(F.sp_xlogy, wrt=1)(x, y, np.ones(3))
    np.testing.assert_array_equal(gy, [0.0, 0.0, 3.0])


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("fn", [F.split_kept_whole, F.slogdet_kept_whole, F.eigh_kept_whole], ids=_id)
def test_tuple_results_kept_in_one_name(fn):
    """A function returning a tuple or list (np.split, slogdet, eigh) whose
    result is kept in one name and indexed several times: its adjoint is a
    container (they crashed, adding two tuple adjoints with `+`)."""
    x = np.random.default_rng(3).normal(size=(3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(s2sad.grad(fn)(x), _fd_grad(fn, x), rtol=1e-6, atol=1e-7)
    v = np.random.default_rng(4).normal(size=(3, 3))
    np.testing.assert_allclose(s2sad.jvp(fn)(x, v)[1], np.sum(_fd_grad(fn, x) * v), rtol=1e-6, atol=1e-7)
