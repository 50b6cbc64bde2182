"""Simplifying a generated function before Numba compiles it (issue 15).

Numba compiles every array statement into a loop of its own, and pays
for each in compile time (some 25 ms) and at run time (an allocation and
a pass over memory).  The generated gradient has many statements that a
signature makes pointless.  Rewrites over the IR, each sound for every
call that runs the variant (the facts they use are those of the variant's
key: scalar types, :func:`s2sad.analysis.symbolic_shapes.shape_key`):

1. **Unbroadcasts that change nothing go**: ``unbroadcast(g, x)`` is ``g``
   when the symbolic shapes of ``g`` and ``x`` are the same.
2. **Tapes nobody reads go**: a value saved before an overwrite and
   restored in the reverse sweep, but never read there (after 1, the
   shape that was its only use is gone), is not saved.
3. **Adjoint accumulators are updated in place**: ``A = A + e`` becomes
   ``A = add_inplace(A, e)`` (and ``A = A + matmul_adjoint_a(g, W, x)`` a
   rank-1 update of ``A``) when ``A`` is only ever a fresh array or its own
   accumulation, no other name can hold it, no tape saves it, ``e`` has
   its shape (or is a number), and every array of the call is float64 (so
   the sum has ``A``'s dtype).
4. **Single-use elementwise temporaries are inlined** into their use,
   when nothing between can change what they read: Numba fuses an
   expression of elementwise operations into one loop.
5. **One element at a time, as plain indexing**: ``copy_slot(a, i)`` of
   one element is ``a[i]``; in an element loop's reverse sweep, an
   accumulator of 3's kind updated in place by ``index_accumulate_inplace``
   or ``zero_slot_inplace`` at one element becomes ``A[i] = A[i] + g`` and
   ``A[i] = 0.0`` (the helpers check shapes and strides on every call and
   pass arrays with reference counting: 14x the time of the stencil's
   reverse sweep).

Smaller ones: copies ``a = b`` are propagated (before 2 and 3, which they
help); ``grad_out(ZERO, x)`` becomes ``zero_grad(x)`` (compiled code has no
symbolic zero), ``grad_out`` of equal shapes a helper with no summing to
compile, ``np.tanh`` of a float64 array a loop the compiler vectorises,
and ``a @ b`` a helper calling ``np.dot`` into a fresh array (a third of
the compile time of Numba's ``@``).

The result is the same program, value for value (the inlined expression
evaluates the same operations in the same order).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

import s2sad_runtime as _rt
from s2sad.analysis.prims import is_static, static_value
from s2sad.analysis.scalar_types import SHAPE_ONLY, expr_type, is_scalar, save_or_restore, shape_only_names
from s2sad.analysis.symbolic_shapes import element_index, known, symbolic_shapes
from s2sad.ir import nodes as N
from s2sad.ir.visit import children, head_exprs, iter_stmts, names, rebuild, substitute, targets, walk

# NumPy functions that write into an argument
_MUTATING_NP = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal}


def simplify(fdef, args, pattern, arg_types, types, helper):
    """The simplified form of generated function ``fdef`` for a call with
    arguments ``args`` (defaults included), of dimension pattern
    ``pattern``, argument types ``arg_types`` and name types ``types``
    (:mod:`s2sad.analysis.scalar_types`); ``helper(name)`` gives the static
    reference to a compiled helper."""
    fdef = replace(fdef, body=_map_exprs(fdef.body, lambda e: rebuild(e, lambda x: _zero_grad(x, helper))))
    shapes = symbolic_shapes(fdef, pattern, arg_types, types)
    fdef = replace(fdef, body=_map_exprs(fdef.body, lambda e: rebuild(e, lambda x: _element_copy(x, shapes, types))))
    fdef = replace(fdef, body=_map_exprs(fdef.body, lambda e: rebuild(e, lambda x: _drop_unbroadcast(x, shapes, types))))
    if not any(isinstance(st, N.FunctionDef) for st in iter_stmts(fdef.body, defs=True)):
        fdef = replace(fdef, body=_propagate_copies(fdef.body, _read_counts(fdef), _bind_counts(fdef)))
    dead = shape_only_names(fdef, shape_reads=False)
    fdef = replace(fdef, body=_map_stmts(fdef.body, lambda st: [] if save_or_restore(st, dead) else [st]))
    if all(_float64_data(a) for a in args) and _float64_only(fdef):
        fdef = replace(fdef, body=_accumulate_in_place(fdef, shapes, types, helper))
    fdef = replace(fdef, body=_map_exprs(fdef.body, lambda e: rebuild(e, lambda x: _grad_out_same_shape(x, shapes, helper)
                                                                    or _vector_tanh(x, shapes, helper)
                                                                    or _matmul(x, helper))))
    fdef = replace(fdef, body=_inline_block(fdef.body, _read_counts(fdef), _bind_counts(fdef)))
    reads = _read_counts(fdef)
    return replace(fdef, body=[s for s in fdef.body if not (_placeholder(s) and not reads[s.target.id])])


# ---------------------------------------------------------------- copies


def _is_copy(s):
    return isinstance(s, N.Assign) and isinstance(s.target, N.Name) and isinstance(s.value, N.Name)


def _propagate_copies(body, reads, binds):
    """Copies ``a = b`` replaced by ``b`` where ``a`` is bound once, read
    only after it in the same block and ``b`` is not rebound before the
    last read (a copy back, ``b = a``, binds nothing new and goes too)."""
    body = [_nested(s, lambda b: _propagate_copies(b, reads, binds)) for s in body]
    i = 0
    while i < len(body):
        s = body[i]
        if _is_copy(s) and s.target.id == s.value.id:
            body = body[:i] + body[i + 1:]
            continue
        span = _copy_span(body, i, reads, binds) if _is_copy(s) else None
        if span is None:
            i += 1
            continue
        a, b = s.target.id, s.value
        k, back = span
        rest = [body[j] if j not in back else None for j in range(i + 1, k + 1)]
        rest = [_rename_reads(st, a, b) for st in rest if st is not None]
        body = body[:i] + rest + body[k + 1:]
    return body


def _copy_span(body, i, reads, binds):
    """(index of the last statement reading the copy ``body[i]``'s target,
    indices of the copies back), or None when it cannot be propagated."""
    a, b = body[i].target.id, body[i].value.id
    if binds[a] != 1:
        return None
    left, back = reads[a], set()
    for j in range(i + 1, len(body)):
        u = body[j]
        n = sum(x == a for st in iter_stmts([u]) for e in head_exprs(st) for x in names(e))
        if _is_copy(u) and u.target.id == b and u.value.id == a:
            back.add(j)
        else:
            rebinds = any(b in targets(st) for st in iter_stmts([u]))
            simple = isinstance(u, N.Assign)
            if rebinds and (left > n or not simple or (left == n and n == 0)):
                return None
        left -= n
        if left == 0:
            return j, back
    return None


def _rename_reads(s, a, b):
    return _map_exprs([s], lambda e: substitute(e, {a: b}))[0]


def _float64_data(v):
    """Is ``v`` a float64 array, a real number or a container of those
    (what keeps every adjoint float64)?"""
    if type(v) is np.ndarray:
        return v.dtype == np.float64
    if isinstance(v, (tuple, list)):
        return all(_float64_data(x) for x in v)
    return v is None or isinstance(v, (bool, int, float, str, np.float64, np.integer, np.bool_))


_DTYPE_NAMES = {"dtype", "astype", "view"}


def _float64_only(fdef):
    """Does the code read only float64 arrays from outside and never name a
    dtype (so every array it makes is float64, or integer or boolean)?"""
    for s in iter_stmts(fdef.body, defs=True):
        for e in head_exprs(s):
            for x in walk(e):
                if isinstance(x, N.Call) and any(k == "dtype" for k, _ in x.kwargs):
                    return False
                if isinstance(x, N.Attr) and x.attr in _DTYPE_NAMES:
                    return False
                if isinstance(x, (N.Static, N.Attr)) and is_static(x):
                    v = static_value(x)
                    if (isinstance(v, type) and issubclass(v, np.generic) and v is not np.float64) or isinstance(v, np.dtype) \
                            or not _float64_data(v) \
                            and not callable(v) and not hasattr(v, "__file__"):
                        return False
    return True


def _map_exprs(body, fn):
    """``body`` with ``fn`` applied to every expression a statement
    evaluates (nested blocks included)."""
    out = []
    for s in body:
        if isinstance(s, N.Assign):
            s = replace(s, value=fn(s.value), target=fn(s.target) if isinstance(s.target, N.Sub) else s.target)
        elif isinstance(s, (N.Eval, N.Push, N.Return)):
            s = replace(s, value=fn(s.value))
        elif isinstance(s, N.If):
            s = replace(s, test=fn(s.test), body=_map_exprs(s.body, fn), orelse=_map_exprs(s.orelse, fn))
        elif isinstance(s, N.While):
            s = replace(s, test=fn(s.test), body=_map_exprs(s.body, fn))
        elif isinstance(s, N.For):
            s = replace(s, iter=fn(s.iter), body=_map_exprs(s.body, fn))
        out.append(s)
    return out


def _rt_call(e, *helpers):
    return isinstance(e, N.Call) and is_static(e.func) and any(static_value(e.func) is h for h in helpers)


def _zero_grad(e, helper):
    """``grad_out(ZERO, x)`` (an input nothing depends on) -> ``zero_grad(x)``:
    compiled code has no symbolic zero."""
    if _rt_call(e, _rt.grad_out) and len(e.args) == 2 and is_static(e.args[0]) and static_value(e.args[0]) is _rt.ZERO:
        return N.Call(helper("zero_grad"), e.args[1:])
    return None


# ---------------------------------------------------------------- 1. unbroadcast


def _same_array_shapes(e, shapes, *helpers):
    """Is ``e`` a call of one of ``helpers`` on two arrays of the same
    symbolic shape (``(g, x)``)?"""
    if not (_rt_call(e, *helpers) and len(e.args) == 2 and not e.kwargs):
        return False
    g, x = (shapes.of(a) for a in e.args)
    return known(g) and len(g) > 0 and g == x


def _drop_unbroadcast(e, shapes, types):
    """``unbroadcast(g, x)`` -> ``g`` where the shapes agree: arrays of the
    same symbolic shape, or two numbers."""
    if _same_array_shapes(e, shapes, _rt.unbroadcast, _rt.broadcast_as):
        return e.args[0]
    if _rt_call(e, _rt.unbroadcast, _rt.broadcast_as) and len(e.args) == 2 and not e.kwargs \
            and all(shapes.of(a) == () and is_scalar(expr_type(a, types)) for a in e.args):
        return e.args[0]
    return None


def _grad_out_same_shape(e, shapes, helper):
    """``grad_out(g, x)`` of arrays of the same shape ->
    ``grad_out_same_shape(g, x)``, which has no summing to compile (the
    dtype still follows ``x``'s)."""
    if _same_array_shapes(e, shapes, _rt.grad_out):
        return N.Call(helper("grad_out_same_shape"), e.args)
    return None


def _vector_tanh(e, shapes, helper):
    """``np.tanh`` of an array: the runtime's loop that the compiler
    vectorises (within 4 ulp of NumPy's; :mod:`s2sad_runtime.numba_helpers`)."""
    if isinstance(e, N.Call) and is_static(e.func) and static_value(e.func) is np.tanh and len(e.args) == 1 \
            and not e.kwargs:
        s = shapes.of(e.args[0])
        if known(s) and len(s) > 0:
            return N.Call(helper("tanh"), e.args)
    return None


def _matmul(e, helper):
    """``a @ b``: the runtime's product, ``np.dot`` into a fresh array for
    BLAS types of one or two dimensions (a third of ``@``'s compile time),
    ``@`` itself otherwise."""
    if isinstance(e, N.BinOp) and e.op == "MatMult":
        return N.Call(helper("matmul"), (e.left, e.right))
    return None


# ---------------------------------------------------------------- 3. in place


def _accumulate_in_place(fdef, shapes, types, helper):
    """Accumulations ``A = A + e`` of the eligible accumulators rewritten
    (see the module docstring), and their in-place updates of one element
    written as indexing (5)."""
    stmts = list(iter_stmts(fdef.body, defs=True))
    cands = {}
    for s in stmts:
        for t in targets(s):
            cands.setdefault(t, True)
            if not (isinstance(s, N.Assign) and isinstance(s.target, N.Name)) or t in fdef.params:
                cands[t] = False
            elif not (_fresh(s.value, shapes) or _accumulation(s, shapes) is not None or _in_place_on_itself(s)):
                cands[t] = False
    ok = {a for a, v in cands.items() if v and known(shapes.of(N.Name(a))) and len(shapes.of(N.Name(a))) > 0}

    def element(x):
        return element_index(x.index, shapes.of(x.value), types)
    for s in stmts:
        if isinstance(s, N.FunctionDef):
            ok -= set(s.params)
        if _in_place_on_itself(s):
            for a in s.value.args[1:]:          # (the first is the target itself, rebound to what it returns)
                _check_reads(a, ok, None, False, element)
            continue
        acc = _accumulation(s, shapes) if isinstance(s, N.Assign) else None
        for e in head_exprs(s):
            _check_reads(e, ok, acc, isinstance(s, N.Return), element)
    if not ok:
        return fdef.body

    def rewrite(s):
        if isinstance(s, N.Assign) and isinstance(s.target, N.Name) and s.target.id in ok:
            e = _accumulation(s, shapes)
            if e is not None:
                a = s.target
                if _rt_call(e, _rt.matmul_adjoint_a) and len(e.args) == 3 and not e.kwargs:
                    return replace(s, value=N.Call(helper("matmul_adjoint_a_accumulate"), (a, *e.args)))
                return replace(s, value=N.Call(helper("add_inplace"), (a, e)))
            return _element_update(s, shapes, types) or s
        return s
    return _map_stmts(fdef.body, lambda s: [rewrite(s)])


# helpers that update their first argument in place (or return a fresh
# copy of it), called as ``A = helper(A, ...)``
_IN_PLACE = (_rt.index_accumulate_inplace, _rt.zero_slot_inplace)


def _in_place_on_itself(s):
    return isinstance(s, N.Assign) and isinstance(s.target, N.Name) and _rt_call(s.value, *_IN_PLACE) \
        and not s.value.kwargs and s.value.args and isinstance(s.value.args[0], N.Name) \
        and s.value.args[0].id == s.target.id


def _element_update(s, shapes, types):
    """``A = index_accumulate_inplace(A, g, x, i)`` -> ``A[i] = A[i] + g``
    and ``A = zero_slot_inplace(A, i)`` -> ``A[i] = 0.0``, for an
    accumulator ``A`` that is always an array of its own (the caller's
    check) and an index ``i`` of one element; None otherwise."""
    if not _in_place_on_itself(s):
        return None
    a, v = s.target, s.value
    shape = shapes.of(a)
    if _rt_call(v, _rt.zero_slot_inplace) and len(v.args) == 2 and element_index(v.args[1], shape, types):
        return N.Assign(N.Sub(a, v.args[1]), N.Const(0.0), loc=s.loc)
    if _rt_call(v, _rt.index_accumulate_inplace) and len(v.args) == 4:
        _, g, x, idx = v.args
        if shapes.of(x) == shape and element_index(idx, shape, types) and shapes.of(g) == () \
                and is_scalar(expr_type(g, types)):
            return N.Assign(N.Sub(a, idx), N.BinOp("Add", N.Sub(a, idx), g), loc=s.loc)
    return None


def _element_copy(e, shapes, types):
    """``copy_slot(a, i)`` of one element -> ``a[i]`` (a number)."""
    if _rt_call(e, _rt.copy_slot) and len(e.args) == 2 and not e.kwargs \
            and element_index(e.args[1], shapes.of(e.args[0]), types):
        return N.Sub(e.args[0], e.args[1])
    return None


def _nested(s, fn):
    """Statement ``s`` with ``fn`` applied to each of its nested blocks."""
    if isinstance(s, N.If):
        return replace(s, body=fn(s.body), orelse=fn(s.orelse))
    if isinstance(s, (N.While, N.For)):
        return replace(s, body=fn(s.body))
    return s


def _map_stmts(body, fn):
    """``body`` with every statement, nested ones included (inner first),
    replaced by the list ``fn`` gives for it."""
    out = []
    for s in body:
        out.extend(fn(_nested(s, lambda b: _map_stmts(b, fn))))
    return out


def _fresh(e, shapes):
    """Does ``e`` certainly make a new array (or a number)?"""
    if _rt_call(e, _rt.zeros_like):
        return True
    if isinstance(e, N.BinOp) or (isinstance(e, N.UnaryOp) and e.op == "USub"):
        return True
    return isinstance(e, N.Call) and _is_ufunc(e)


def _is_ufunc(e):
    f = static_value(e.func) if is_static(e.func) else None
    return isinstance(f, np.ufunc) and f.nout == 1 and f.signature is None and not e.kwargs


def _accumulation(s, shapes):
    """``e`` of ``A = A + e`` (or ``accumulate(A, e)``) where ``e`` has
    ``A``'s shape or is a number; None for any other statement."""
    if not isinstance(s.target, N.Name):
        return None
    v, a = s.value, s.target.id
    if isinstance(v, N.BinOp) and v.op == "Add":
        left, e = v.left, v.right
    elif _rt_call(v, _rt.accumulate) and len(v.args) == 2 and not v.kwargs:
        left, e = v.args
    else:
        return None
    if not (isinstance(left, N.Name) and left.id == a):
        return None
    se, sa = shapes.of(e), shapes.of(left)
    return e if known(sa) and (se == sa or se == ()) else None


# reads of an accumulator that cannot keep a reference to it
_KEEPS_NOTHING = {_rt.matmul_adjoint_a, _rt.matmul_adjoint_b}


def _check_reads(e, ok, acc, in_return, element=lambda x: False):
    """Drop from ``ok`` the accumulators ``e`` reads where the value read
    could be kept (assigned, saved, returned as it is, passed on);
    ``element(x)``: does subscript ``x`` read one element (a number)?"""
    def visit(x, safe):
        if isinstance(x, N.Name):
            if not safe:
                ok.discard(x.id)
            return
        if isinstance(x, N.Sub) and isinstance(x.value, N.Name) and element(x):
            visit(x.index, False)
            return
        if isinstance(x, (N.BinOp, N.UnaryOp, N.Compare)) or (isinstance(x, N.Call) and _is_ufunc(x)):
            for c in children(x):
                visit(c, isinstance(c, N.Name) and (not isinstance(x, N.Call) or c is not x.func))
            return
        if isinstance(x, N.Call) and is_static(x.func):
            f = static_value(x.func)
            # (like(A) is A itself in compiled code, and a tape may keep it)
            shape_pos = next((p for h, p in SHAPE_ONLY.items() if f is h), ()) if f is not _rt.like else ()
            keeps_nothing = any(f is h for h in _KEEPS_NOTHING) or (in_return and f is _rt.grad_out)
            for i, a in enumerate(x.args):
                visit(a, isinstance(a, N.Name) and (keeps_nothing or i in shape_pos))
            for _, a in x.kwargs:
                visit(a, False)
            return
        for c in children(x):
            visit(c, False)

    if acc is not None and isinstance(e, N.BinOp):
        visit(e.right, False)           # A = A + e: the left operand is A itself
        return
    if acc is not None and isinstance(e, N.Call):
        visit(e.args[1], False)
        return
    visit(e, False)


# ---------------------------------------------------------------- 4. inlining


def _read_counts(fdef):
    c = Counter()
    for s in iter_stmts(fdef.body, defs=True):
        for e in head_exprs(s):
            c.update(names(e))
    return c


def _placeholder(s):
    return isinstance(s, N.Assign) and isinstance(s.value, N.Const) and s.value.value is None


def _bind_counts(fdef):
    """How often each name is bound (placeholders ``x = None`` not
    counted)."""
    c = Counter(fdef.params)
    for s in iter_stmts(fdef.body, defs=True):
        if not _placeholder(s):
            c.update(targets(s))
        if isinstance(s, N.FunctionDef):
            c.update(s.params)
            c[s.name] += 1
    return c


def _elementwise(e):
    """Is ``e`` made of names, numbers and elementwise operations only?"""
    for x in walk(e):
        if isinstance(x, (N.Name, N.Const)):
            if isinstance(x, N.Const) and not isinstance(x.value, (int, float, bool)):
                return False
            continue
        if isinstance(x, N.BinOp) and x.op not in ("MatMult",):
            continue
        if isinstance(x, N.UnaryOp) and x.op in ("USub", "UAdd"):
            continue
        if isinstance(x, N.Call) and _is_ufunc(x):
            continue
        if isinstance(x, N.Static) or (isinstance(x, N.Attr) and is_static(x)):
            continue            # a ufunc's reference
        return False
    return True


def _mutates(s):
    """Can statement ``s`` change an array in place (or do anything else
    than bind a name)?"""
    if not (isinstance(s, N.Assign) and isinstance(s.target, N.Name)) and not isinstance(s, (N.Push, N.Comment)):
        return True
    for e in head_exprs(s):
        for x in walk(e):
            if not isinstance(x, N.Call):
                continue
            if any(k == "out" for k, _ in x.kwargs):
                return True
            if not is_static(x.func):
                if not (isinstance(x.func, N.Attr) and x.func.attr == "copy" and not x.args):
                    return True
                continue
            f = static_value(x.func)
            if f in _MUTATING_NP or "inplace" in getattr(f, "__name__", "") or "accumulate" in getattr(f, "__name__", ""):
                return True
    return False


def _inline_block(body, reads, binds):
    body = [_nested(s, lambda b: _inline_block(b, reads, binds)) for s in body]
    i = 0
    while i < len(body):
        s = body[i]
        j = _inline_target(body, i, reads, binds)
        if j is None:
            i += 1
            continue
        t = s.target.id
        u = body[j]
        u = replace(u, value=substitute(u.value, {t: s.value}))
        body = body[:i] + body[i + 1:j] + [u] + body[j + 1:]
    return body


def _inline_target(body, i, reads, binds):
    """The index of the statement ``body[i]``'s temporary is inlined into,
    or None."""
    s = body[i]
    if not (isinstance(s, N.Assign) and isinstance(s.target, N.Name)):
        return None
    t = s.target.id
    if binds[t] != 1 or reads[t] != 1 or not _elementwise(s.value) or isinstance(s.value, (N.Name, N.Const)):
        return None
    used = set(names(s.value))
    for j in range(i + 1, len(body)):
        u = body[j]
        if isinstance(u, N.Assign) and isinstance(u.target, N.Name) and t in names(u.value):
            return j
        if _mutates(u) or set(targets(u)) & (used | {t}):
            return None
    return None
