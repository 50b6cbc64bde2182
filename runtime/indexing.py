"""Adjoints of indexing and of shape operations: ``x[idx]`` (and the
in-place writes ``a[idx] = v``), reshape, transpose, repeat, tile, roll,
diag, and the pieces of concatenate / hstack / vstack."""

from __future__ import annotations

import numpy as np

from .core import (
    _PY_SCALARS, ZERO, _astype, _broadcast_like, _shape, complex_value_error, copy_value, is_complex, is_float_dtype,
    zeros_like,
)
from .namespaces import dtype_kind


def is_basic_index(idx):
    if not isinstance(idx, tuple):
        idx = (idx,)
    for i in idx:
        if i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)):
            continue
        return False
    return True


def _is_mask(idx):
    dt = getattr(idx, "dtype", None)
    return dt is not None and dtype_kind(dt) == "b"


def index_adjoint(g, x, idx):
    """Adjoint of ``x[idx]``: scatter-add ``g`` into zeros shaped like ``x``.
    Integer-array indices may repeat an element, so they accumulate with
    ``add.at``; basic indices and boolean masks write each element once."""
    if isinstance(x, (list, tuple)):
        z = [ZERO] * len(x)
        if isinstance(idx, slice):
            z[idx] = g
        else:
            z[idx] = g
        return z
    if isinstance(x, dict):
        z = dict.fromkeys(x, ZERO)
        z[idx] = g
        return z
    z = zeros_like(x)
    if g is ZERO:
        return z        # nothing flowed into the element (a container's, or in reverse over forward)
    if isinstance(x, np.generic):
        # a NumPy scalar indexed (x[...], x[()]): its adjoint is the one element
        z = np.zeros((), dtype=np.result_type(z))
        z[idx] = g
        return z[()]
    if is_complex(g) and not is_complex(x):
        raise complex_value_error()         # (z[idx] = g would drop the imaginary part)
    if isinstance(g, (list, tuple)) and type(z) is not np.ndarray and g:
        # the adjoints of the elements of ``sum(x[idx])``: array API arrays
        # take no list of arrays (NumPy's do)
        g = np.stack([np.asarray(v, dtype=z.dtype) for v in g])
    gd = getattr(g, "dtype", None)
    if gd is not None and gd != z.dtype and is_float_dtype(gd) and is_float_dtype(z.dtype):
        wide = np.result_type(z.dtype, gd)
        if wide != z.dtype:         # a float32 adjoint of a float16 value is not stored in float16
            z = _astype(z, wide)
    if is_basic_index(idx) or _is_mask(idx):
        if type(z) is not np.ndarray and isinstance(idx, tuple) and None in idx:
            # (``z[None, :] = g``: the array API indexes stores without newaxis)
            idx, g = _without_newaxes(idx, g, len(_shape(x)))
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return z


def _without_newaxes(idx, g, ndim):
    """A basic index without its ``None`` entries, and ``g`` (shaped like
    ``x[idx]``) without the axes they made."""
    gs = _shape(g)
    n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
    out_axis, drop, kept = 0, [], []
    for i in idx:
        if i is None:
            drop.append(out_axis)
            out_axis += 1
        elif i is Ellipsis:
            out_axis += ndim - n_real
        elif isinstance(i, slice):
            out_axis += 1
        if i is not None:
            kept.append(i)
    shape = tuple(n for k, n in enumerate(gs) if k not in drop) if len(gs) >= out_axis else gs
    return tuple(kept), np.reshape(g, shape) if shape != gs else g


def index_accumulate(a, g, x, idx):
    """``a + index_adjoint(g, x, idx)``: an adjoint accumulated into the
    part of ``x`` that ``x[idx]`` read (planned code adds in place)."""
    return a + index_adjoint(g, x, idx)


def index_accumulate_inplace(a, g, x, idx):
    """``index_accumulate(a, g, x, idx)`` adding into ``a`` itself, at the
    cost of the slot instead of the whole array.  The compiler emits it only
    where no other name that is read later may refer to ``a``'s array
    (``s2sad/transforms/inplace_adjoint.py``); where the values or dtype
    could differ (an index that may repeat an element, a read-only or
    broadcast ``a``, a dtype other than ``x``'s) it makes the copy."""
    if type(a) is np.ndarray and type(x) is np.ndarray and a.dtype == x.dtype and a.shape == x.shape \
            and (type(idx) is int or is_basic_index(idx) or _is_mask(idx)) and a.flags.writeable \
            and all(a.strides):
        if (type(g) is float and a.dtype.kind == "f") or getattr(g, "dtype", None) == a.dtype:
            a[idx] += g
            return a
        if g is not ZERO:
            ga = np.asarray(g)
            if is_complex(ga) and not is_complex(a):
                raise complex_value_error()
            if ga.dtype.kind in "biufc" and np.can_cast(ga.dtype, a.dtype, "same_kind") \
                    and not (is_float_dtype(ga.dtype) and np.result_type(ga.dtype, a.dtype) != a.dtype):
                a[idx] += ga.astype(a.dtype)      # as index_adjoint stores it
                return a
    return a + index_adjoint(g, x, idx)


index_accumulate_inplace.__s2sad_outofplace__ = "index_accumulate"


def zero_slot_inplace(a_adj, idx):
    """``zero_slot(a_adj, idx)`` writing the zeros into ``a_adj`` itself
    (emitted under the same condition as :func:`index_accumulate_inplace`)."""
    if type(a_adj) is np.ndarray and a_adj.flags.writeable and all(a_adj.strides):
        a_adj[idx] = 0
        return a_adj
    return zero_slot(a_adj, idx)


zero_slot_inplace.__s2sad_outofplace__ = "zero_slot"


_F64 = np.dtype(np.float64)


def slot_ready(a_adj, x):
    """Whether ``a_adj`` is a writeable float64 array shaped like ``x`` (and
    of its dtype): then :func:`index_accumulate_inplace` and
    :func:`zero_slot_inplace` of one element are ``a_adj[i] = a_adj[i] + g``
    and ``a_adj[i] = 0`` (the element-loop specialisation,
    ``s2sad/plan/specialise.py``, guards its inline forms with it)."""
    return type(a_adj) is np.ndarray and type(x) is np.ndarray and a_adj.dtype == _F64 and x.dtype == _F64 \
        and a_adj.shape == x.shape and a_adj.flags.writeable and all(a_adj.strides)


# --------------------------------------------------------------------------
# in-place writes


def copy_slot(a, idx):
    """The value at ``a[idx]`` before it is overwritten (a copy for arrays)."""
    v = a[idx]
    if isinstance(v, (np.generic, float)):
        return v            # immutable
    return copy_value(v)


def _last_writes(shape, idx):
    """Mask over ``a[idx]``'s elements: True where an element is the last
    one the index writes to its position; None when no position repeats."""
    pos = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[idx]
    flat = pos.ravel()
    if flat.size == np.unique(flat).size:
        return None
    _, first_from_end = np.unique(flat[::-1], return_index=True)
    keep = np.zeros(flat.size, dtype=bool)
    keep[flat.size - 1 - first_from_end] = True
    return keep.reshape(pos.shape)


def written_part(g, idx):
    """The adjoint of the elements a write ``a[idx] = v`` stored: ``g[idx]``,
    except that where an advanced index names a position more than once only
    its last occurrence counts (NumPy keeps the last write)."""
    if g is ZERO:
        return g
    if is_basic_index(idx) or _is_mask(idx):
        return g[idx]
    keep = _last_writes(np.shape(g), idx)
    return g[idx] if keep is None else g[idx] * keep


def written_part_adjoint(c, g, idx):
    """The adjoint of :func:`written_part` in ``g``."""
    if not (is_basic_index(idx) or _is_mask(idx)):
        keep = _last_writes(np.shape(g), idx)
        if keep is not None:
            c = c * keep
    return index_adjoint(c, g, idx)


def zero_slot(a_adj, idx):
    """A copy of ``a_adj`` with ``a_adj[idx]`` set to zero (the adjoint of an
    overwritten element does not flow further back)."""
    if a_adj is ZERO:
        return a_adj
    if isinstance(a_adj, list):
        out = list(a_adj)
        out[idx] = ZERO
        return out
    if isinstance(a_adj, dict):
        out = dict(a_adj)
        out[idx] = ZERO
        return out
    out = np.array(a_adj, copy=True) if np.ndim(a_adj) == 0 else copy_value(a_adj)
    out[idx] = 0
    return out


# --------------------------------------------------------------------------
# shape


def reshape_adjoint(g, x, order="C"):
    """Adjoint of a reshape (``reshape``, ``ravel``, ``squeeze``, ...) of
    ``x``: ``g`` read back in the same ``order``."""
    if isinstance(x, _PY_SCALARS):
        return np.reshape(g, ()) if hasattr(g, "shape") else g
    if not hasattr(g, "shape"):  # a Python scalar adjoint of a 0-d result
        return _broadcast_like(g, x)
    if order in ("F", "A"):
        # "A" reads in Fortran order when x is Fortran-contiguous only
        flags = getattr(x, "flags", None)
        if order == "F" or (flags is not None and flags.f_contiguous and not flags.c_contiguous):
            return g.reshape(_shape(x), order="F")
    return g.reshape(_shape(x)) if hasattr(g, "reshape") else np.reshape(g, _shape(x))


def transpose_adjoint(g, axes):
    """Adjoint of ``transpose(x, axes)``; ``axes`` may be ``None``, empty,
    a sequence (negative axes allowed) or, from ``x.transpose((...))``, a
    one-element sequence holding the axes."""
    if axes is not None and len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    if axes is None or len(axes) == 0:
        return np.transpose(g)
    nd = np.ndim(g)
    axes = [a % nd for a in axes]
    # the inverse permutation, as Python ints (a host index array would not
    # mix with device arrays)
    return np.transpose(g, [axes.index(i) for i in range(nd)])


def transpose_forward(g, axes):
    """``transpose(g, axes)`` with ``axes`` in any form :func:`transpose_adjoint`
    takes: the adjoint of ``transpose_adjoint`` (second derivatives)."""
    if axes is None or axes == ():
        return np.transpose(g)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return np.transpose(g, axes)


def repeat_adjoint(g, x, repeats, axis=None):
    if axis is None:
        xs = _shape(x)
        size = 1
        for n in xs:
            size *= n
        if isinstance(repeats, int):
            return np.reshape(np.sum(np.reshape(g, (size, repeats)), axis=1), xs)
        flat = np.zeros_like(g, shape=(size,))
        np.add.at(flat, np.repeat(np.arange(size), repeats), g)
        return np.reshape(flat, xs)
    xs = _shape(x)
    axis %= len(xs)
    if isinstance(repeats, int):
        shape = xs[:axis] + (xs[axis], repeats) + xs[axis + 1:]
        return np.sum(np.reshape(g, shape), axis=axis + 1)
    idx = np.repeat(np.arange(xs[axis]), repeats)
    z = zeros_like(x)
    sl = (slice(None),) * axis + (idx,)
    np.add.at(z, sl, g)
    return z


def tile_adjoint(g, x, reps):
    xs = _shape(x)
    if isinstance(reps, int):
        reps = (reps,)
    reps = tuple(reps)
    nd = max(len(xs), len(reps))
    xs_full = (1,) * (nd - len(xs)) + xs
    reps = (1,) * (nd - len(reps)) + reps
    inter = []
    for r, n in zip(reps, xs_full):
        inter += [r, n]
    g = np.sum(np.reshape(g, inter), axis=tuple(range(0, 2 * nd, 2)))
    return np.reshape(g, xs)


def roll_adjoint(g, shift, axis=None):
    if isinstance(shift, (tuple, list)):
        shift = tuple(-s for s in shift)
    else:
        shift = -shift
    return np.roll(g, shift, axis)


def diag_adjoint(g, v, k=0):
    if np.ndim(v) == 1:
        return np.diagonal(g, k) * 1
    z = zeros_like(v)
    n = np.shape(g)[0]
    idx = np.arange(n)
    if k >= 0:
        z[idx, idx + k] = g
    else:
        z[idx - k, idx] = g
    return z


def concatenate_piece(g, arrays, axis, k):
    if axis is None:
        start = sum(np.size(p) for p in arrays[:k])
        return g[start:start + np.size(arrays[k])].reshape(_shape(arrays[k]))
    nd = np.ndim(g)
    ax = axis % nd
    start = sum(_shape(p)[ax] for p in arrays[:k])
    sl = (slice(None),) * ax + (slice(start, start + _shape(arrays[k])[ax]),)
    return g[sl]


def hstack_piece(g, tup, k):
    if np.ndim(g) == 1:
        return concatenate_piece(g, [np.atleast_1d(t) for t in tup], 0, k).reshape(_shape(tup[k]))
    return concatenate_piece(g, tup, 1, k)


def vstack_piece(g, tup, k):
    parts = [np.atleast_2d(t) for t in tup]
    return concatenate_piece(g, parts, 0, k).reshape(_shape(tup[k]))


def take_adjoint(g, a, indices, axis=None, mode="raise"):
    """Adjoint of ``np.take(a, indices, axis, mode=mode)``: ``g`` added
    into zeros shaped like ``a`` where the indices point (repeated indices
    accumulate)."""
    shape = _shape(a)
    dt = np.result_type(g, getattr(a, "dtype", float))
    out = np.zeros_like(a, dtype=dt if dtype_kind(dt) in "fc" else float, shape=shape) \
        if hasattr(a, "shape") else np.zeros(shape, dtype=float)
    n = out.size if axis is None else shape[axis % len(shape)]
    idx = np.asarray(indices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    if axis is None:
        np.add.at(out.reshape(-1), idx, g)
    else:
        np.add.at(out, (slice(None),) * (axis % len(shape)) + (idx,), g)
    return out
