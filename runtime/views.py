"""Writes through views: what generated code needs to follow NumPy's
aliasing exactly.

When a function writes into an array that another live name also sees
(``z = y[:]; z[0] = 3.0`` and then ``y`` is read), the compiler makes the
dependence explicit (see ``s2sad/transforms/mutation.py``):

* ``root = view_sync(root, view)`` after a write through ``view`` into
  ``root``'s memory: ``root`` is the same object, its elements under
  ``view`` now come from ``view``;
* ``w = view_rederive(w, root)`` for another live name: ``w`` is the same
  object, its elements come from ``root``.

Both return their first argument unchanged (the memory is shared, NumPy
already did the work); their derivative rules move adjoints between the
root and the view's part of it.  Which elements of the root a view covers
is read from memory (data pointers and strides), so any NumPy view is
followed -- basic slices, ``[...]``, transposes, reshapes, ``ravel``,
diagonals, broadcasts -- and a "view" that turned out to be a copy (a
reshape of a non-contiguous array) shares nothing and moves nothing.
"""

from __future__ import annotations

import numpy as np
from .namespaces import dtype_kind


class ZeroDimLanes(np.ndarray):
    """A batched value whose lanes are 0-d arrays (``vmap`` of a 0-d array
    that is the same in every example, made batched): mutable in each
    example, where a batched value of one number per lane is a number
    (``x[i]`` of a NumPy array).  ``x += y`` in an example writes into
    it.  Arithmetic on it gives plain arrays, as it gives numbers on 0-d
    arrays; views and copies keep the kind."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        base = tuple(a.view(np.ndarray) if isinstance(a, ZeroDimLanes) else a for a in inputs)
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, ZeroDimLanes) else o for o in out)
        res = getattr(ufunc, method)(*base, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out        # (x += y keeps x itself)
        return res


def own(x):
    """A copy of an argument the function writes into: the caller's object
    stays untouched (containers are copied with the arrays they hold)."""
    if type(x) is ZeroDimLanes:
        return x.copy()
    if is_array(x):
        return np.array(x, copy=True)
    if isinstance(x, list):
        return [own(v) for v in x]
    if isinstance(x, tuple):
        return tuple(own(v) for v in x)
    if isinstance(x, dict):
        return {k: own(v) for k, v in x.items()}
    return x


def is_array(x):
    """Is ``x`` an array (``x += y`` updates it in place) rather than a
    number (``x += y`` rebinds ``x``)?  Over an array API namespace
    (``runtime/namespaces.py``) ``np.array_type`` is that library's array."""
    return isinstance(x, np.ndarray) or type(x) is getattr(np, "array_type", None)


def view_sync(root, view):
    """``root`` after a write through ``view`` (the same object)."""
    return root


def view_rederive(view, root):
    """``view`` after a write into ``root``'s memory (the same object); a
    container whose arrays share ``root``'s memory likewise."""
    return view


def _ptr(a):
    return a.__array_interface__["data"][0]


def _dense(a):
    """Does ``a`` fill one block of memory (a whole array, in some order)?"""
    isz = a.itemsize
    if any(s == 0 for s, n in zip(a.strides, a.shape) if n > 1):
        return False
    return a.size == 0 or sum((n - 1) * abs(s) for n, s in zip(a.shape, a.strides)) + isz == a.size * isz


def _bounds(a):
    lo = hi = _ptr(a)
    for n, s in zip(a.shape, a.strides):
        if n > 1:
            if s < 0:
                lo += (n - 1) * s
            else:
                hi += (n - 1) * s
    return lo, hi + a.itemsize


def _shares(view, root):
    """Is ``view`` part of ``root``'s memory (``root`` a whole array)?  A
    name the compiler took for the whole array may be an unrelated array at
    run time (the helpers then do nothing), or a part of the other array
    (``_shares(root, view)``: the helpers then act on that part)."""
    if not (isinstance(view, np.ndarray) and isinstance(root, np.ndarray)) or view is root or view.size == 0 \
            or root.size == 0:
        return False            # (an empty array holds no element of another)
    if not _dense(root):
        return False
    lo, hi = _bounds(view)
    rlo, rhi = _bounds(root)
    return rlo <= lo and hi <= rhi and view.itemsize == root.itemsize


def _offsets(root, view):
    """(the C-order flat index in ``root`` of each memory slot of ``root``'s
    block, each element of ``view``'s slot counted from ``root``'s lowest
    address); ``root`` dense."""
    isz = root.itemsize
    lo = _bounds(root)[0]
    mem = np.full(root.shape, (_ptr(root) - lo) // isz, dtype=np.intp)
    for ax, (n, s) in enumerate(zip(root.shape, root.strides)):
        shape = [1] * root.ndim
        shape[ax] = n
        mem = mem + (np.arange(n) * (s // isz)).reshape(shape)
    to_flat = np.empty(root.size, dtype=np.intp)
    to_flat[mem.ravel()] = np.arange(root.size)
    off = np.full(view.shape, (_ptr(view) - lo) // isz, dtype=np.intp)
    for ax, (n, s) in enumerate(zip(view.shape, view.strides)):
        shape = [1] * view.ndim
        shape[ax] = n
        off = off + (np.arange(n) * (s // isz)).reshape(shape)
    return to_flat, off


def positions(root, view):
    """For each element of ``view``, the C-order flat index of the element
    of ``root`` at the same address (``root`` dense, as every array the
    generated code writes into is: a fresh result or an owned copy, or a
    reversed view of one).  Addresses count from ``root``'s lowest one."""
    to_flat, off = _offsets(root, view)
    return to_flat[off]


def _item_offsets(a, base, isz):
    """The address of each element of ``a`` in items from ``base``."""
    off = np.full(a.shape, (_ptr(a) - base) // isz, dtype=np.intp)
    for ax, (n, s) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[ax] = n
        off = off + (np.arange(n) * (s // isz)).reshape(shape)
    return off


def _partial(root, view):
    """Where ``view`` and ``root`` overlap without one holding the other (a
    row and a column of one matrix): (mask over ``view``'s elements that
    lie in ``root``, their C-order flat indices in ``root``), or None when
    they share nothing.  Matched by address, so neither need be dense."""
    if not (isinstance(view, np.ndarray) and isinstance(root, np.ndarray)) or view is root:
        return None
    if view.size == 0 or root.size == 0 or view.itemsize != root.itemsize:
        return None
    lo, hi = _bounds(view)
    rlo, rhi = _bounds(root)
    isz = root.itemsize
    if hi <= rlo or rhi <= lo or (_ptr(view) - rlo) % isz or any(s % isz for s in view.strides + root.strides):
        return None
    r = _item_offsets(root, rlo, isz).ravel()
    v = _item_offsets(view, rlo, isz)
    order = np.argsort(r, kind="stable")
    srt = r[order]
    at = np.clip(np.searchsorted(srt, v), 0, srt.size - 1)
    inside = srt[at] == v
    if not inside.any():
        return None
    return inside, order[at[inside]]


def _zero(g):
    from .core import ZERO
    return g is ZERO


def _zero_for(x, g):
    """The adjoint of ``x`` when nothing flowed (``g`` is ``ZERO``): real
    zeros for an array, so the symbolic zero never reaches array arithmetic
    (a name bound to None on some paths has a ``ZERO`` adjoint)."""
    from .core import zeros_like
    return zeros_like(x) if hasattr(x, "shape") else g


_CONTAINERS = (list, tuple, dict)


def _items(c):
    return c.items() if isinstance(c, dict) else enumerate(c)


def _held(root):
    """The keys of a container "whole" name's elements that can hold memory
    (arrays, or containers of them): a whole taken for a container (a
    tuple another name was unpacked from) shares memory through them."""
    return [k for k, r in _items(root) if isinstance(r, (np.ndarray,) + _CONTAINERS)]


def _rebuild(root, parts):
    from .core import _same_sequence
    if isinstance(root, dict):
        return dict(parts)
    return _same_sequence(root, [v for _, v in sorted(parts.items())])


def region_of(g, root, view):
    """The part of ``g`` (shaped like ``root``) under ``view``, shaped like
    ``view``; zeros when ``view`` shares nothing with ``root``."""
    if _zero(g):
        return _zero_for(view, g)
    if isinstance(view, (list, tuple, dict)):
        return _container_regions(g, root, view)
    if isinstance(root, _CONTAINERS):
        from .core import zeros_like
        out = zeros_like(view)
        for k in _held(root):
            out = out + region_of(g[k], root[k], view)
        return out
    if view is root:
        return g
    if _shares(root, view):
        # the "whole" array is a part of the view at run time (a name the
        # compiler took for the whole array): place it inside
        out = np.zeros(np.shape(view), dtype=np.result_type(g))
        out.reshape(-1)[positions(view, root)] = g
        return out
    if not _shares(view, root):
        out = np.zeros(np.shape(view), dtype=np.result_type(g))
        part = _partial(root, view)
        if part is not None:
            out[part[0]] = np.reshape(np.asarray(g), -1)[part[1]]
        return out
    return np.reshape(np.asarray(g), -1)[positions(root, view)]


def region_zeroed(g, root, view):
    """``g`` with the part under ``view`` set to zero (a copy)."""
    if _zero(g):
        return _zero_for(root, g)
    if isinstance(root, _CONTAINERS) and not isinstance(view, _CONTAINERS):
        parts = dict(_items(g))
        for k in _held(root):
            parts[k] = region_zeroed(g[k], root[k], view)
        return _rebuild(root, parts)
    if view is root or _shares(root, view):
        return np.zeros_like(g)
    if not _shares(view, root):
        part = _partial(root, view)
        if part is None:
            return g
        out = np.array(np.broadcast_to(g, np.shape(root)), copy=True, dtype=np.result_type(g), order="C")
        out.reshape(-1)[part[1]] = 0
        return out
    out = np.array(g, copy=True, dtype=np.result_type(g), order="C")   # so that reshape(-1) is a view
    out.reshape(-1)[positions(root, view)] = 0
    return out


def region_scatter(c, root, view):
    """Zeros shaped like ``root`` with ``c`` (shaped like ``view``) added
    under ``view`` (summed where a broadcast view repeats an element); for a
    container ``view``, what its elements that share ``root`` add."""
    if _zero(c):
        return _zero_for(root, c)
    if isinstance(view, (list, tuple, dict)):
        return container_scatter(c, view, root)
    if isinstance(root, _CONTAINERS):
        from .core import zeros_like
        parts = {k: zeros_like(r) for k, r in _items(root)}
        for k in _held(root):
            parts[k] = region_scatter(c, root[k], view)
        return _rebuild(root, parts)
    if view is root:
        return c
    out = np.zeros(np.shape(root), dtype=np.result_type(c, root.dtype if hasattr(root, "dtype") else float))
    if _shares(view, root):
        np.add.at(np.reshape(out, -1), positions(root, view).ravel(), np.broadcast_to(c, np.shape(view)).ravel())
    elif _shares(root, view):
        out = out + np.reshape(np.broadcast_to(c, np.shape(view)), -1)[positions(view, root)]
    else:
        part = _partial(root, view)
        if part is not None:
            np.add.at(np.reshape(out, -1), part[1], np.broadcast_to(c, np.shape(view))[part[0]])
    return out


def unshared_part(g, view, root):
    """``g`` when ``view`` shares no memory with ``root`` (it keeps its own
    value), zeros when it does (its value now comes from ``root``); for a
    container, elementwise."""
    if _zero(g):
        return _zero_for(view, g)
    if isinstance(view, (list, tuple, dict)):
        return container_unshared(g, view, root)
    if isinstance(root, _CONTAINERS):
        for k in _held(root):
            g = unshared_part(g, view, root[k])
        return g
    if view is root or _shares(view, root):
        return np.zeros_like(g)
    if _shares(root, view):
        out = np.array(g, copy=True, dtype=np.result_type(g), order="C")
        out.reshape(-1)[positions(view, root).ravel()] = 0
        return out
    part = _partial(root, view)
    if part is not None:
        out = np.array(np.broadcast_to(g, np.shape(view)), copy=True, dtype=np.result_type(g))
        out[part[0]] = 0
        return out
    return g


# --------------------------------------------------------------------------
# containers holding a written array (view_rederive of a list, tuple, dict)


def container_unshared(g, c, root):
    """The adjoint of a container ``c`` before :func:`view_rederive`:
    ``g`` without the parts of the elements that share ``root``."""
    from .core import ZERO, zeros_like
    if g is ZERO:
        return g
    out = dict(g) if isinstance(g, dict) else list(g)
    for k, v in _items(c):
        gk = g[k]
        if gk is ZERO:
            continue
        if isinstance(v, (list, tuple, dict)):
            out[k] = container_unshared(gk, v, root)
        elif _shares(v, root) or v is root:
            # real zeros (a tangent container is subscripted as it is)
            out[k] = zeros_like(gk)
        elif _shares(root, v) or _partial(root, v) is not None:
            # the root inside the element, or the two crossing (a row and
            # a column of one matrix): zero only the shared elements
            out[k] = unshared_part(gk, v, root)
    return out if not isinstance(g, tuple) else tuple(out)


def _container_regions(g, root, c):
    """For each element of container ``c``: the part of ``g`` (shaped like
    ``root``) under it, or the symbolic zero where it shares nothing."""
    from .core import ZERO
    out = {} if isinstance(c, dict) else [None] * len(c)
    for k, v in _items(c):
        if isinstance(v, (list, tuple, dict)):
            out[k] = _container_regions(g, root, v)
        elif v is root or _shares(v, root) or _shares(root, v) or _partial(root, v) is not None:
            out[k] = region_of(g, root, v)
        else:
            out[k] = ZERO
    return tuple(out) if isinstance(c, tuple) else out


def container_scatter(g, c, root):
    """The adjoint flowing into ``root`` from container ``c``'s elements
    that share its memory."""
    from .core import ZERO
    if not hasattr(root, "dtype"):
        return ZERO         # the name is unbound here (None): nothing flows
    total = np.zeros(np.shape(root), dtype=root.dtype if dtype_kind(root.dtype) in "fc" else float)
    if g is ZERO:
        return total
    for k, v in _items(c):
        gk = g[k]
        if gk is ZERO:
            continue
        if isinstance(v, (list, tuple, dict)):
            total = total + container_scatter(gk, v, root)
        elif v is root:
            total = total + gk
        elif _shares(v, root) or _shares(root, v) or _partial(root, v) is not None:
            total = total + region_scatter(gk, root, v)
    return total
