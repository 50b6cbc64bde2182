"""Planning, step 1: the generic generated program made ready for planning.

* :func:`clone` -- a copy the planner may rewrite (the generic program stays
  what ``.source`` shows);
* :class:`Flatten` -- one operation per statement (adjoint templates nest
  expressions: ``g * (1.0 - y * y)``);
* :func:`fuse_index_accumulate` -- ``p = _rt.index_adjoint(g, x, idx);
  y = a + p`` becomes one in-place add into the slice;
* :func:`defer_weight_gradients` -- in a loop, a weight's adjoint
  accumulated one small product per iteration becomes one large product
  after the loop, as a hand-written adjoint does.

Runtime helpers are recognised by identity (``static_value(func) is
_rt.index_adjoint``), never by their text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import s2sad_runtime as _rt
from s2sad.analysis.prims import static_value
from s2sad.ir import nodes as N
from s2sad.ir.visit import names
from s2sad.rules.splice import rt_call, rt_ref


def clone(stmts):
    """A deep copy of a statement list (expressions are immutable, shared)."""
    out = []
    for s in stmts:
        c = replace(s, sid=N._sid())
        if isinstance(s, N.If):
            c.body, c.orelse = clone(s.body), clone(s.orelse)
        elif isinstance(s, (N.For, N.While, N.FunctionDef)):
            c.body = clone(s.body)
        out.append(c)
    return out


def is_rt_call(e, *helpers):
    """Is ``e`` a call of one of the runtime ``helpers`` (objects)?"""
    return isinstance(e, N.Call) and any(static_value(e.func) is h for h in helpers)


def stmt_loads(s):
    """Names a simple statement reads (an element write reads its base)."""
    if isinstance(s, N.Assign):
        return names(s.value) + (names(s.target) if isinstance(s.target, N.Sub) else [])
    if isinstance(s, (N.Eval, N.Push, N.Return)):
        return names(s.value)
    if isinstance(s, (N.If, N.While)):
        return names(s.test)
    if isinstance(s, N.For):
        return names(s.iter)
    return []


def stmt_stores(s):
    if isinstance(s, N.Assign):
        if isinstance(s.target, N.Name):
            return [s.target.id]
        if isinstance(s.target, N.Tuple):
            return names(s.target)
        return []
    if isinstance(s, N.For):
        return [s.target]
    return []


def name_counts(stmts):
    """(loads, stores): how often each name is read / bound in ``stmts``."""
    loads, stores = Counter(), Counter()
    todo = list(stmts)
    while todo:
        s = todo.pop()
        loads.update(stmt_loads(s))
        stores.update(stmt_stores(s))
        for b in N.blocks(s):
            todo.extend(b)
    return loads, stores


class Flatten:
    def __init__(self):
        self.n = 0

    def tmp(self):
        self.n += 1
        return f"_p{self.n}"

    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        pre = []
        if isinstance(s, N.Assign):
            s.value = self.top(s.value, pre)
        elif isinstance(s, N.Eval) and isinstance(s.value, N.Call):
            s.value = self.top(s.value, pre)
        elif isinstance(s, N.If):
            s.body, s.orelse = self.block(s.body), self.block(s.orelse)
        elif isinstance(s, (N.For, N.While)):
            s.body = self.block(s.body)
        return pre + [s]

    def top(self, e, pre):
        """``e`` with each operand made simple (a name, a constant, an
        attribute) by hoisting compound operands into temporaries."""
        sim = self.simple
        if isinstance(e, N.Call):
            return replace(e, args=tuple(sim(a, pre) for a in e.args),
                           kwargs=tuple((k, sim(v, pre)) for k, v in e.kwargs))
        if isinstance(e, N.BinOp):
            return replace(e, left=sim(e.left, pre), right=sim(e.right, pre))
        if isinstance(e, N.UnaryOp):
            return replace(e, operand=sim(e.operand, pre))
        if isinstance(e, N.Sub):
            return replace(e, value=sim(e.value, pre), index=self.index(e.index, pre))
        if isinstance(e, N.Compare) and len(e.comparators) == 1:
            return replace(e, left=sim(e.left, pre), comparators=(sim(e.comparators[0], pre),))
        if isinstance(e, (N.Tuple, N.List)):
            return replace(e, elts=tuple(sim(x, pre) for x in e.elts))
        return e

    def index(self, e, pre):
        if isinstance(e, N.Tuple):
            return replace(e, elts=tuple(self.index(x, pre) for x in e.elts))
        if isinstance(e, N.Slice):
            return N.Slice(*(None if x is None else self.simple(x, pre) for x in (e.lower, e.upper, e.step)))
        return self.simple(e, pre)

    def simple(self, e, pre):
        if isinstance(e, N.Tuple):
            return replace(e, elts=tuple(self.simple(x, pre) for x in e.elts))
        if isinstance(e, (N.Call, N.BinOp, N.UnaryOp, N.Sub, N.Compare, N.Pop)):
            value = self.top(e, pre)
            t = self.tmp()
            pre.append(N.Assign(N.Name(t), value))
            return N.Name(t)
        return e


def fuse_index_accumulate(fdef):
    """``p = _rt.index_adjoint(g, x, idx); y = a + p`` (``p`` read nowhere
    else) becomes ``y = _rt.index_accumulate(a, g, x, idx)``, which planned
    code does as one in-place add into the slice ``idx``."""
    loads, _ = name_counts(fdef.body)

    def block(body):
        out = []
        for s in body:
            _nested(s, block)
            prev = out[-1] if out else None
            if (isinstance(prev, N.Assign) and isinstance(s, N.Assign) and isinstance(prev.target, N.Name)
                    and isinstance(s.target, N.Name) and is_rt_call(prev.value, _rt.index_adjoint)
                    and len(prev.value.args) == 3 and not prev.value.kwargs
                    and isinstance(s.value, N.BinOp) and s.value.op == "Add"):
                p = prev.target.id
                lt, rt = s.value.left, s.value.right
                other = rt if isinstance(lt, N.Name) and lt.id == p else \
                    lt if isinstance(rt, N.Name) and rt.id == p else None
                if isinstance(other, N.Name) and other.id != p and loads.get(p) == 1:
                    g, x, idx = prev.value.args
                    s.value = N.Call(rt_ref(None, "index_accumulate"), (other, g, x, idx))
                    out[-1] = s
                    continue
            out.append(s)
        return out
    fdef.body = block(fdef.body)


def _nested(st, fn):
    """Apply ``fn`` to the blocks of a compound statement (in place)."""
    if isinstance(st, N.If):
        st.body, st.orelse = fn(st.body), fn(st.orelse)
        return True
    if isinstance(st, (N.For, N.While)):
        st.body = fn(st.body)
        return True
    return False


nested = _nested


def defer_weight_gradients(fdef, ns):
    """In a loop, ``p = _rt.matmul_adjoint_b(g, a, b); ...; W = W + p``
    (``W`` read nowhere else in the loop, ``p`` nowhere else at all) becomes
    ``_rt.pair_add(_dN, g, a, b, 'b')`` in the loop and ``W = W +
    _rt.pair_total(_dN)`` after it: the weight's adjoint is one large
    product over all iterations instead of a small one and an addition per
    iteration (the sum is the same up to rounding order)."""
    loads, _ = name_counts(fdef.body)
    counter = [0]

    def block(body):
        out = []
        for st in body:
            _nested(st, block)
            if isinstance(st, N.For):
                pre, post = loop(st)
                out.extend(pre)
                out.append(st)
                out.extend(post)
                continue
            out.append(st)
        return out

    def loop(st):
        body = st.body
        lds, sts = name_counts([st])
        pre, post = [], []
        for i, s1 in enumerate(body):
            if not (isinstance(s1, N.Assign) and isinstance(s1.target, N.Name)
                    and is_rt_call(s1.value, _rt.matmul_adjoint_a, _rt.matmul_adjoint_b)
                    and not s1.value.kwargs and len(s1.value.args) == 3
                    and all(isinstance(a, N.Name) for a in s1.value.args)):
                continue
            p = s1.target.id
            if loads.get(p) != 1 or sts.get(p) != 1:
                continue
            for j in range(i + 1, len(body)):
                s2 = body[j]
                if not (isinstance(s2, N.Assign) and isinstance(s2.target, N.Name)
                        and isinstance(s2.value, N.BinOp) and s2.value.op == "Add"):
                    continue
                w = s2.target.id
                lt, rt = s2.value.left, s2.value.right
                if not (isinstance(lt, N.Name) and isinstance(rt, N.Name) and {lt.id, rt.id} == {w, p} and w != p):
                    continue
                if lds.get(w) != 1 or sts.get(w) != 1 or w in (a.id for a in s1.value.args):
                    break
                d = f"_d{counter[0]}"
                counter[0] += 1
                which = "a" if static_value(s1.value.func) is _rt.matmul_adjoint_a else "b"
                body[i] = N.Eval(rt_call(ns, "pair_add", N.Name(d), *s1.value.args, N.Const(which)))
                body[j] = None
                pre.append(N.Assign(N.Name(d), rt_call(ns, "PairSum")))
                post.append(N.Assign(N.Name(f"{d}_total"), rt_call(ns, "pair_total", N.Name(d))))
                post.append(N.Assign(N.Name(w), N.BinOp("Add", N.Name(w), N.Name(f"{d}_total"))))
                break
        st.body = [x for x in body if x is not None] or [N.Pass()]
        return pre, post

    fdef.body = block(fdef.body)
