"""Batching rules (``s2sad.vmap``), in the same table as the adjoint and
tangent rules: for each primitive, how its batched form is computed.

Batched values carry the batch on axis 0.  What needs no entry here:

- NumPy ufuncs and the ``math`` module's functions are elementwise (the
  ``math`` ones become their NumPy ufuncs on batched operands);
- a function with no rule runs lane by lane (``_rt.b_loop``), which is
  always right for a function without side effects and is reported in
  ``vmap(f).info["lane_loops"]``.

See :class:`s2sad.rules.core.BatchRule` for the kinds.
"""

from __future__ import annotations

import builtins
import math
import operator
import sys

import numpy as np

import s2sad_runtime as rt
from s2sad.rules.core import BatchRule

ELEMENTWISE = BatchRule("elementwise")
DIRECT = BatchRule("direct")
LOOP = BatchRule("loop")
UNBATCHED = BatchRule("direct", unbatched=True)


def _axis(pos, kw="axis", default=None, flatten=False):
    return BatchRule("axis", axes=((pos, kw, default),), flatten=flatten)


def _custom(name, **kw):
    return BatchRule("custom", name=name, **kw)


def _helper(name, lanes=False):
    return BatchRule("helper", helper=name, lanes=lanes)


# NumPy functions that reduce or scan along ``axis`` (the second
# parameter); ``flatten``: ``axis=None`` flattens rather than reducing all
_REDUCE = ["sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "any", "all", "ptp", "median",
           "nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar", "average", "count_nonzero"]
_FLATTEN = ["argmax", "argmin", "cumsum", "cumprod", "nanargmax", "nanargmin", "nancumsum", "nancumprod"]
# functions of stacked matrices (the last two axes): a leading batch axis
# is one more stack axis
_STACKED = ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "qr", "pinv", "matrix_power",
            "eig", "eigvals"]
# elementwise functions that are not ufuncs
_ELEMENTWISE_NP = ["where", "clip", "sinc", "real", "imag", "conj", "conjugate", "angle", "round", "around",
                   "nan_to_num", "i0", "fix", "real_if_close"]
_LIKE = ["zeros_like", "ones_like", "empty_like", "full_like", "copy", "array", "asarray", "ascontiguousarray",
         "asanyarray"]
_ARRAY_METHODS_ELEMENTWISE = ["astype", "copy", "conj", "conjugate", "clip", "round", "__abs__", "__neg__"]
_METHODS_REDUCE = ["sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "ptp"]
_METHODS_FLATTEN = ["argmax", "argmin", "cumsum", "cumprod"]

# runtime helpers of generated gradients that work lane by lane as they are
_RT_DIRECT = ["zeros_like", "like", "accumulate", "fresh", "stop_gradient", "own", "at_precision", "at_precision_items"]
_RT_ELEMENTWISE = ["log_or_zero", "tie_weight", "clip_mask", "below_mask", "above_mask", "sign",
                   "positive_reciprocal", "sinc_derivative", "digamma"]
_RT_HELPERS = {"unbroadcast": "b_unbroadcast", "sum_adjoint": "b_sum_adjoint", "mean_adjoint": "b_mean_adjoint",
               "matmul_adjoint_a": "b_matmul_adjoint_a", "matmul_adjoint_b": "b_matmul_adjoint_b",
               "check_scalar_output": "b_check_scalar_output", "index_adjoint": "b_index_adjoint",
               "index_accumulate": "b_index_accumulate", "extremum_adjoint": "b_extremum_adjoint"}


def register(table):
    for nm in _REDUCE:
        if hasattr(np, nm):
            table.defbatch(_axis(1), getattr(np, nm))
    for nm in _FLATTEN:
        if hasattr(np, nm):
            table.defbatch(_axis(1, flatten=True), getattr(np, nm))
    table.defbatch(_axis(1, default=-1, flatten=True), np.sort, np.argsort)
    table.defbatch(_axis(2, default=None, flatten=True), np.repeat, np.take)   # (np.roll keeps the shape: lane by lane)
    table.defbatch(_axis(2, default=-1), np.diff)
    table.defbatch(_axis(1), np.flip, np.expand_dims)
    table.defbatch(_axis(1, default=0), np.stack)
    table.defbatch(BatchRule("axis", axes=((1, "axis1", None), (2, "axis2", None))), np.swapaxes)
    table.defbatch(BatchRule("axis", axes=((1, "source", None), (2, "destination", None))), np.moveaxis)
    table.defbatch(BatchRule("axis", axes=((2, "axis1", 0), (3, "axis2", 1))), np.trace, np.diagonal)
    table.defbatch(_axis(2, default=0), np.split, np.array_split)
    table.defbatch(_axis(2, default=-1, flatten=True), np.take_along_axis)
    for nm in _STACKED:
        table.defbatch(DIRECT, getattr(np.linalg, nm))
    for nm in _ELEMENTWISE_NP:
        if hasattr(np, nm):
            table.defbatch(ELEMENTWISE, getattr(np, nm))
    for nm in _LIKE:
        table.defbatch(DIRECT, getattr(np, nm))
    table.defbatch(UNBATCHED, builtins.isinstance, builtins.type, builtins.callable)
    table.defbatch(_custom("np.shape", unbatched=True), np.shape)
    table.defbatch(_custom("np.ndim", unbatched=True), np.ndim)
    table.defbatch(_custom("np.size", unbatched=True), np.size)
    table.defbatch(_custom("matmul"), np.matmul, "MatMult")
    table.defbatch(_custom("dot"), np.dot)
    table.defbatch(_custom("outer"), np.outer)
    table.defbatch(_custom("norm"), np.linalg.norm)
    table.defbatch(_custom("full_like"), np.full_like)
    table.defbatch(_custom("solve"), np.linalg.solve)
    table.defbatch(_custom("einsum"), np.einsum)
    table.defbatch(_custom("reshape"), np.reshape)
    table.defbatch(_custom("ravel"), np.ravel)
    table.defbatch(_custom("transpose"), np.transpose)
    table.defbatch(_custom("squeeze"), np.squeeze)
    table.defbatch(_custom("concatenate"), np.concatenate)
    table.defbatch(_custom("array_of"), np.array, np.asarray)
    table.defbatch(_custom("len", unbatched=True), builtins.len)
    for fn, name in ((builtins.float, "b_float"), (builtins.int, "b_int")):
        table.defbatch(_custom("convert", helper=name), fn)
    table.defbatch(_custom("numpy_of", helper="abs"), builtins.abs)
    table.defbatch(_custom("numpy_of", helper="round"), builtins.round)
    table.defbatch(_custom("extremum", helper="maximum"), builtins.max)
    table.defbatch(_custom("extremum", helper="minimum"), builtins.min)
    table.defbatch(DIRECT, builtins.next, builtins.iter)
    table.defbatch(_custom("iterate"), builtins.sum, builtins.list, builtins.tuple, builtins.reversed,
                   builtins.enumerate, builtins.zip, builtins.sorted)
    table.defbatch(_custom("numpy_of", helper="power"), math.pow)
    table.defbatch(_custom("numpy_of", helper="arctan2"), math.atan2)
    table.defbatch(_custom("numpy_of", helper="abs"), math.fabs)
    table.defbatch(_custom("numpy_of", helper="hypot"), math.hypot)
    table.defbatch(_custom("numpy_of", helper="copysign"), math.copysign)
    table.defbatch(ELEMENTWISE, operator.getitem)
    # array methods
    for nm in _METHODS_REDUCE:
        table.defbatch(_axis(0), "." + nm)
    for nm in _METHODS_FLATTEN:
        table.defbatch(_axis(0, flatten=True), "." + nm)
    for nm in _ARRAY_METHODS_ELEMENTWISE:
        table.defbatch(ELEMENTWISE, "." + nm)
    for nm in ("reshape", "transpose", "squeeze", "ravel", "flatten", "dot", "item", "T", "mT", "shape",
               "ndim", "size", "real", "imag", "dtype", "__len__"):
        table.defbatch(_custom("." + nm), "." + nm)
    # runtime helpers of generated gradients
    for nm in _RT_DIRECT:
        table.defbatch(DIRECT, getattr(rt, nm))
    table.defbatch(_custom("is_array", unbatched=True), rt.is_array)
    for nm in _RT_ELEMENTWISE:
        if hasattr(rt, nm):
            table.defbatch(ELEMENTWISE, getattr(rt, nm))
    for nm, helper in _RT_HELPERS.items():
        table.defbatch(_helper(helper), getattr(rt, nm))
    table.defbatch(_helper("b_grad_out", lanes=True), rt.grad_out)
    table.defbatch(BatchRule("loop", writes=0), rt.index_accumulate_inplace, rt.zero_slot_inplace)
    # identities that mark memory a view shares with its root: the batched
    # view of a batched root shares it lane by lane (never copied)
    table.defbatch(BatchRule("direct", writes=0), rt.view_sync)
    table.defbatch(DIRECT, rt.view_rederive)


def lookup(table, key):
    """The batching rule for ``key``: the table's, else elementwise for
    ufuncs, ``math`` functions and ``scipy.special`` ufuncs, else None (the
    call runs lane by lane)."""
    r = table.batch_rule(key)
    if r is not None:
        return r
    if isinstance(key, np.ufunc) and key.signature is None:
        return ELEMENTWISE
    mod = getattr(key, "__module__", None) or ""
    if mod == "math" and hasattr(np, _MATH_TO_NP.get(getattr(key, "__name__", ""), getattr(key, "__name__", ""))):
        return BatchRule("custom", name="numpy_of",
                         helper=_MATH_TO_NP.get(key.__name__, key.__name__))
    special = sys.modules.get("scipy.special")
    if special is not None and mod.startswith("scipy.special"):
        nm = getattr(key, "__name__", "")
        if nm in ("logsumexp", "softmax", "log_softmax"):
            return _axis(1)
    stats = sys.modules.get("scipy.stats")
    if stats is not None and getattr(key, "__self__", None) is getattr(stats, "norm", None) \
            and getattr(key, "__name__", "") in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"):
        return ELEMENTWISE          # (the normal distribution's functions: elementwise in x, loc, scale)
    return None


# ``math`` functions whose NumPy ufunc has another name
_MATH_TO_NP = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
               "atanh": "arctanh", "pow": "power", "fabs": "abs", "atan2": "arctan2", "gamma": "_no_ufunc",
               "lgamma": "_no_ufunc", "erf": "_no_ufunc", "erfc": "_no_ufunc"}
