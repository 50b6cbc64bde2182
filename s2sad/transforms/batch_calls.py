"""The batched form of one primitive (the expression half of the batching
transform, :mod:`s2sad.transforms.batch`): operators, indexing,
attributes and calls, each by its batching rule."""

from __future__ import annotations

import inspect

import numpy as np

from s2sad.ir import nodes as N
from s2sad.ir.visit import static_value
from s2sad.rules import batch_rules
from s2sad.rules.splice import rt_ref

_ELEMENTWISE_OPS = {"Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "BitAnd", "BitOr", "BitXor",
                    "LShift", "RShift"}
# flags passed to batched runtime helpers: which parameters' batchedness
_HELPER_FLAGS = {"b_unbroadcast": ("g", "x"), "b_sum_adjoint": ("g", "x"), "b_mean_adjoint": ("g", "x"),
                 "b_matmul_adjoint_a": ("g", "a", "b"), "b_matmul_adjoint_b": ("g", "a", "b"),
                 "b_check_scalar_output": ("y",), "b_index_adjoint": ("g", "x", "idx"), "b_grad_out": ("g", "x"),
                 "b_index_accumulate": ("a", "g", "x", "idx"),
                 "b_extremum_adjoint": ("g", "ans", "x")}


# methods of lists and dicts: called on a name of unknown kind, the name is a container
LIST_METHODS = {"append", "pop", "insert", "extend", "index", "count", "keys", "values", "items", "get",
                "setdefault", "update", "remove"}


class CallBatcher:
    """Mixed into :class:`~s2sad.transforms.batch.BatchTransform`."""

    def expr(self, st, v, pre):
        if isinstance(v, (N.Name, N.Const, N.Static)) or not self.isb(v):
            return v
        if isinstance(v, N.BinOp):
            if v.op == "MatMult":
                return self.rt("b_matmul", v.left, v.right, N.Const(self.isb(v.left)), N.Const(self.isb(v.right)))
            if self.is_container(v.left) and self.is_container(v.right):
                return v            # list + list: concatenation
            if self.is_container(v.left) or self.is_container(v.right):
                # a list against an array: NumPy reads the list as an array
                l, r = (self.as_array(v.left) if self.isb(v.left) else _np_array(self, v.left)
                        if self.is_container(v.left) else v.left,
                        self.as_array(v.right) if self.isb(v.right) else _np_array(self, v.right)
                        if self.is_container(v.right) else v.right)
                l, r = self.lifted([l, r])
                return N.BinOp(v.op, l, r)
            l, r = self.lifted([v.left, v.right])
            return N.BinOp(v.op, l, r)
        if isinstance(v, N.UnaryOp):
            if v.op == "Not":
                return N.Call(self.static(np.logical_not, "np_not"), (v.operand,))
            return v
        if isinstance(v, N.Compare):
            if any(op in ("In", "NotIn") for op in v.ops):
                self.refuse(st, "`in` with a batched value", "compare with == and reduce with np.any")
            if any(op in ("Is", "IsNot") for op in v.ops):
                return v
            ops = self.lifted([v.left, *v.comparators])
            return N.Compare(ops[0], v.ops, tuple(ops[1:]))
        if isinstance(v, N.Sub):
            return self.getitem(st, v)
        if isinstance(v, N.Attr):
            return self.attr(st, v)
        if isinstance(v, (N.Tuple, N.List)):
            return type(v)(tuple(e if self.isb(e) else self.bcast(e) for e in v.elts))
        if isinstance(v, N.Dict):
            return N.Dict(v.keys, tuple(e if self.isb(e) else self.bcast(e) for e in v.values))
        if isinstance(v, N.Call):
            return self.call(st, v)
        if isinstance(v, N.Pop):
            return v
        self.refuse(st, f"cannot batch a `{type(v).__name__}` expression")

    def as_array(self, a):
        """A list of batched items where NumPy reads one array: the batched
        array, the items stacked on one example's first axis."""
        if self.isb(a) and self.is_container(a):
            if isinstance(a, (N.Tuple, N.List)):
                a = type(a)(tuple(e if self.isb(e) else self.bcast(e) for e in a.elts))
            return self.rt("b_stack_items", a)
        return a

    def lifted(self, ops):
        """Operands of an elementwise operation, each batched one lifted
        against the others so that NumPy broadcasts lane by lane."""
        out = []
        for k, e in enumerate(ops):
            if not self.isb(e):
                out.append(e)
                continue
            others = [o for j, o in enumerate(ops) if j != k and not self.rank0(o) and not isinstance(o, N.Const)
                      and not (isinstance(o, N.Static) and _rank(o.obj) == 0) and not _same(o, e)]
            ub = [o for o in others if not self.isb(o)]
            bb = [o for o in others if self.isb(o)]
            if ub:
                e = self.rt("b_lift", e, *ub)
            if bb:
                e = self.rt("b_lift_b", e, *bb)
            out.append(e)
        return out

    # ------------------------------------------------------------- indexing
    def getitem(self, st, v):
        x, idx = v.value, v.index
        if self.is_container(x):
            if self.isb(idx):
                written = isinstance(st, N.Assign) and isinstance(st.target, N.Name) and \
                    st.target.id in self.shares_written
                return self.rt("b_item_of", x, self.index_value(idx), N.Const(written), self.B)
            return v
        xb, ib = self.isb(x), self.isb(idx)
        if isinstance(x, N.Name) and x.id in self.ranges and ib and not (
                isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in self.replays):
            self.refuse(st, "a `range` sliced by bounds that differ between examples, used as a value",
                        "loop over the range directly, which vmap masks lane by lane")
        if xb and not ib and self.simple_index(idx) and self.is_array(x):
            read = N.Sub(x, self.prefixed(idx))
            if isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in self.shares_written:
                read = self.rt("b_number_copy", read)
            return read
        extra = (self.mask,) if ib and self.mask is not None else ()
        read = self.rt("b_getitem", x, self.index_value(idx), N.Const(xb), N.Const(ib), *extra)
        if isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in self.shares_written:
            read = self.rt("b_number_copy", read)
        return read

    def index_value(self, idx):
        """An index as a value (``a:b`` as ``slice(a, b)``), to pass to a
        helper; in a batched index tuple every part that is not a number or
        a slice is made batched (lanes take their own part)."""
        batched = isinstance(idx, N.Tuple) and self.isb(idx)

        def conv(e):
            if isinstance(e, N.Slice):
                return N.Call(self.static(slice, "slice"), tuple(p if p is not None else N.Const(None)
                                                                 for p in (e.lower, e.upper, e.step)))
            if batched and not self.isb(e) and not (isinstance(e, N.Const) or self.rank0(e)):
                return self.bcast(e)
            return e
        if isinstance(idx, N.Tuple):
            return N.Tuple(tuple(conv(e) for e in idx.elts))
        return conv(idx)

    def attr(self, st, v):
        x, a = v.value, v.attr
        if self.is_container(x) or not self.isb(x):
            return v
        if a == "T":
            return self.rt("b_T", x)
        if a == "shape":
            return self.rt("b_per_example_shape", x)
        if a == "ndim":
            return self.rt("b_ndim", x)
        if a == "size":
            return self.rt("b_numel", x)
        if a in ("real", "imag", "dtype", "mT"):
            return v
        self.refuse(st, f"the attribute `.{a}` of a batched array", "use a NumPy function instead")

    # ------------------------------------------------------------- calls
    def batched_display(self, a):
        """A tuple or list display with a batched item, its other items made
        batched too (every item of a batched list is batched; an int, a
        slice, None or ... stays: an index part the same in every lane)."""
        if not (isinstance(a, (N.Tuple, N.List)) and self.isb(a)):
            return a
        keep = (lambda e: self.isb(e) or isinstance(e, (N.Slice,)) or isinstance(e, N.Const)
                and (e.value is None or e.value is Ellipsis or type(e.value) is int))
        return type(a)(tuple(e if keep(e) else self.bcast(e) for e in a.elts))

    def call(self, st, v):
        if any(isinstance(a, (N.Tuple, N.List)) for a in v.args):
            v = N.Call(v.func, tuple(self.batched_display(a) for a in v.args), v.kwargs)
        f = v.func
        if isinstance(f, N.Attr) and not isinstance(f.value, N.Static) and static_value(f) is None:
            return self.method(st, v)
        obj = static_value(f)
        if obj is None:
            return self.lane_loop(st, f, list(v.args), list(v.kwargs))
        if obj is range and not v.kwargs:
            if not (isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in self.replays):
                self.refuse(st, "a `range` whose bounds differ between examples, used as a value (its length "
                                "differs from example to example)",
                            "loop over it directly (`for i in range(n)`), which vmap masks lane by lane")
            return self.rt("b_range", *v.args)
        rule = batch_rules.lookup(self.rules, obj)
        if rule is None or rule.kind == "loop":
            return self.lane_loop(st, f, list(v.args), list(v.kwargs))
        return self.by_rule(st, v, rule, obj, list(v.args), list(v.kwargs), f)

    def method(self, st, v):
        x = v.func.value
        name = v.func.attr
        if self.is_container(x) or name in LIST_METHODS:
            return v
        if not self.isb(x):
            meth = N.Const("." + name)
            return self.lane_loop(st, meth, [x, *v.args], list(v.kwargs))
        rule = self.rules.batch_rule("." + name)
        args = [x, *v.args]
        if rule is None:
            return self.lane_loop(st, N.Const("." + name), args, list(v.kwargs))
        if rule.kind == "custom":
            return self.custom(st, rule.name, args, list(v.kwargs), v)
        if rule.kind == "axis":
            return self.axis_call(st, v, rule, args, list(v.kwargs), method=True)
        if rule.kind == "elementwise":
            return N.Call(N.Attr(x, name), tuple(self.lifted(list(v.args))), v.kwargs)
        return v

    def by_rule(self, st, v, rule, obj, args, kwargs, f):
        if rule.kind in ("elementwise", "axis") and obj not in _SEQUENCE_FUNCS:
            args = [self.as_array(a) for a in args]
            v = N.Call(v.func, tuple(args), v.kwargs)
        elif obj in _SEQUENCE_FUNCS and args and isinstance(args[0], (N.Tuple, N.List)):
            # a sequence of arrays: each item that is itself a list is one array
            args = [type(args[0])(tuple(self.as_array(e) for e in args[0].elts))] + args[1:]
            v = N.Call(v.func, tuple(args), v.kwargs)
        if any(self.isb(val) for _, val in kwargs) and rule.kind not in ("elementwise", "direct"):
            return self.lane_loop(st, f, args, kwargs)
        if rule.kind == "direct":
            return v
        if rule.kind == "elementwise":
            ops = self.lifted(args + [val for _, val in kwargs])
            return N.Call(f, tuple(ops[:len(args)]), tuple((k, e) for (k, _), e in zip(kwargs, ops[len(args):])))
        if rule.kind == "axis":
            return self.axis_call(st, v, rule, args, kwargs)
        if rule.kind == "helper":
            return self.helper_call(st, v, rule, obj, args, kwargs)
        return self.custom(st, rule.name, args, kwargs, v, rule)

    def axis_call(self, st, v, rule, args, kwargs, method=False):
        """A reduction or scan: its axis arguments shifted past the batch axis."""
        x = args[0]
        if not self.isb(x) or any(self.isb(a) for a in args[1:]):
            f = v.func if not method else N.Const("." + v.func.attr)
            return self.lane_loop(st, f, args if method else list(v.args), kwargs)
        args, kwargs = list(args), list(kwargs)
        for pos, kw, default in rule.axes:
            p = pos + (1 if method else 0)
            if p < len(args):
                ax, where = args[p], ("pos", p)
            else:
                hit = [k for k, (nm, _) in enumerate(kwargs) if nm == kw]
                ax, where = (kwargs[hit[0]][1], ("kw", hit[0])) if hit else (N.Const(default), ("new", None))
            if rule.flatten:
                x = self.rt("b_flat", x, ax)
                new = self.rt("b_flat_axis", ax)
            else:
                new = self.rt("b_axis", ax, x)
            if where[0] == "pos":
                args[where[1]] = new
            elif where[0] == "kw":
                kwargs[where[1]] = (kw, new)
            else:
                kwargs.append((kw, new))
        if method:
            return N.Call(N.Attr(x, v.func.attr), tuple(args[1:]), tuple(kwargs))
        return N.Call(v.func, (x,) + tuple(args[1:]), tuple(kwargs))

    def helper_call(self, st, v, rule, obj, args, kwargs):
        """A runtime helper of generated gradients with a batched form:
        called with every parameter bound, then the batched flags."""
        try:
            b = inspect.signature(obj).bind(*args, **dict(kwargs))
        except TypeError:
            return self.lane_loop(st, v.func, args, kwargs)
        b.apply_defaults()
        vals = [a if isinstance(a, N.Expr) else N.Const(a) for a in b.arguments.values()]
        flags = [N.Const(self.isb(b.arguments[p])) for p in _HELPER_FLAGS[rule.helper]]
        extra = [self.B] if rule.lanes else []
        helper = rule.helper
        if self.factored and helper in ("b_matmul_adjoint_a", "b_matmul_adjoint_b") and self.only_returned(st):
            helper += "_factored"
        return self.rt(helper, *vals, *flags, *extra)

    def only_returned(self, st):
        """Is ``st``'s result read only by ``grad_out`` (a gradient returned
        as it is, so it may stay factored)?"""
        if not (isinstance(st, N.Assign) and isinstance(st.target, N.Name)):
            return False
        rs = self.readers.get(st.target.id, [])
        return len(rs) == 1 and isinstance(rs[0], N.Assign) and isinstance(rs[0].value, N.Call) \
            and getattr(static_value(rs[0].value.func), "__name__", None) == "grad_out"

    def custom(self, st, name, args, kwargs, v, rule=None):
        if name in ("matmul", "dot", "outer", ".dot", "einsum", "solve", "norm", "full_like"):
            args = [self.as_array(a) for a in args]        # a list operand is one array to NumPy
        flags = [N.Const(self.isb(a)) for a in args]
        if name in ("matmul", "dot", "outer", ".dot") and len(args) == 2 and not kwargs:
            helper = {"matmul": "b_matmul", ".dot": "b_dot"}.get(name, "b_" + name)
            return self.rt(helper, args[0], args[1], *flags)
        if name == "einsum" and not kwargs and isinstance(args[0], N.Const):
            return self.rt("b_einsum", args[0], N.Const(tuple(self.isb(a) for a in args[1:])), *args[1:])
        x = args[0] if args else None
        if name == "norm" and self.isb(x) and not any(self.isb(a) for a in args[1:]) \
                and set(dict(kwargs)) <= {"ord", "axis", "keepdims"} and len(args) <= 4:
            names = ("x", "ord", "axis", "keepdims")
            bound = dict(zip(names, args))
            bound.update(dict(kwargs))
            o, ax = bound.get("ord", N.Const(None)), bound.get("axis", N.Const(None))
            kd = bound.get("keepdims", N.Const(False))
            if isinstance(kd, N.Const) and kd.value is False:
                return N.Call(v.func, (self.rt("b_norm_input", x, o, ax), o),
                              (("axis", self.rt("b_norm_axis", x, o, ax)), ("keepdims", kd)))
        if name == "full_like" and len(args) == 2 and not kwargs:
            return self.rt("b_full_like", x, args[1], *flags)
        if name == "solve" and len(args) == 2 and not kwargs:
            return self.rt("b_solve", args[0], args[1], *flags)
        if name in ("reshape", ".reshape") and self.isb(x) and not any(self.isb(a) for a in args[1:]):
            shape = args[1] if len(args) == 2 else N.Tuple(tuple(args[1:]))
            if not kwargs:
                return N.Call(N.Attr(x, "reshape"), (self.rt("b_shape", x, shape),))
        if name in ("ravel", ".ravel", ".flatten") and not kwargs and len(args) == 1:
            flat = N.Call(N.Attr(x, "reshape"), (self.rt("b_shape", x, N.Const(-1)),))
            return N.Call(N.Attr(flat, "copy")) if name == ".flatten" else flat     # flatten copies
        if name in ("transpose", ".transpose") and not kwargs and not any(self.isb(a) for a in args[1:]):
            axes = args[1] if len(args) == 2 else (N.Tuple(tuple(args[1:])) if len(args) > 2 else N.Const(None))
            return self.rt("b_transpose", x, axes)
        if name in ("squeeze", ".squeeze") and len(args) <= 2 and not any(self.isb(a) for a in args[1:]):
            ax = args[1] if len(args) == 2 else dict(kwargs).get("axis", N.Const(None))
            return self.rt("b_squeeze", x, ax)
        if name == ".item" and len(args) == 1:
            return self.rt("b_item", x)
        if name == "concatenate" and self.is_container(x) and len(args) <= 2:
            ax = args[1] if len(args) == 2 else dict(kwargs).get("axis", N.Const(0))
            if not (isinstance(ax, N.Const) and ax.value is None) and not self.isb(ax):
                return N.Call(v.func, (x,), (("axis", self.rt("b_axis", ax, N.Const(None))),))
        if name == "array_of":
            if not self.is_container(x):
                return v
            if len(args) == 1 and not kwargs:
                return N.Call(self.static(np.stack, "np_stack"), (x,), (("axis", N.Const(1)),))
        if name in ("np.shape", "np.ndim", "np.size") and len(args) == 1 and not kwargs:
            if self.is_container(x):
                return v
            return self.rt({"np.shape": "b_per_example_shape", "np.ndim": "b_ndim", "np.size": "b_numel"}[name], x)
        if name == "len" and len(args) == 1:
            return v if self.is_container(x) else self.rt("b_len", x)
        if name == "is_array" and len(args) == 1:
            return self.rt("b_is_array", x, N.Const(self.isb(x)))
        if name == "iterate":
            obj = static_value(v.func)
            if obj is zip and not kwargs:
                return self.rt("b_zip", N.Const(tuple(self.isb(a) for a in args)), self.B, *args)
            if obj is sum and not kwargs and len(args) <= 2 and self.isb(x) and not self.is_container(x):
                return self.rt("b_sum", x, self.B, *args[1:])
            if obj is enumerate and not kwargs and len(args) <= 2:
                return self.rt("b_enumerate", x, N.Const(self.isb(x)), self.B, *args[1:])
            # list, tuple, sum...: over one example's first axis
            return N.Call(v.func, tuple(a if not self.isb(a) or self.is_container(a) else self.rt("b_iter", a)
                                        for a in args), tuple(kwargs))
        if name == "convert" and len(args) == 1:
            return self.rt(rule.helper, x)
        if name == "numpy_of" and not kwargs:
            return N.Call(self.static(getattr(np, rule.helper), "np_" + rule.helper), tuple(self.lifted(args)))
        if name == "extremum" and len(args) == 2 and not kwargs:
            return N.Call(self.static(getattr(np, rule.helper), "np_" + rule.helper), tuple(self.lifted(args)))
        f = v.func if not name.startswith(".") else N.Const(name)
        return self.lane_loop(st, f, args if name.startswith(".") else list(v.args), kwargs)

    def lane_loop(self, st, f, args, kwargs):
        """The fallback: ``f`` called lane by lane (``_rt.b_loop``)."""
        what = getattr(static_value(f), "__name__", None) or _describe(f)
        if isinstance(st, N.Assign) and isinstance(st.target, N.Name) and st.target.id in self.shares_written:
            self.refuse(st, f"`{what}` has no batching rule here, so it runs example by example and returns a "
                            "copy, but the program writes through the result (or an array sharing its memory)",
                        "compute the value with a function vmap batches (see docs/vmap.md), or copy it "
                        "explicitly before writing")
        line = st.loc.src.file_line(st.loc.line) if st.loc is not None else None
        if (line, what) not in self.lane_loops:
            self.lane_loops.append((line, what))
        # a list or tuple display with batched items: all its items batched
        args = [self.batched_display(a) for a in args]
        flags = N.Const(tuple(self.isb(a) for a in args))
        kb = tuple(k for k, val in kwargs if self.isb(val))
        kw = tuple(kwargs) + ((("_batched_kw", N.Const(kb)),) if kb else ())
        return N.Call(rt_ref(self.ns, "b_loop"), (f, flags, self.B) + tuple(args), kw)


def _np_array(tr, e):
    return N.Call(tr.static(np.asarray, "np_asarray"), (e,))


def _rank(obj):
    try:
        return np.ndim(obj)
    except Exception:  # noqa: BLE001 - not array-like: no lifting against it
        return 0


# functions that take a list as a sequence of arrays, not as one array
_SEQUENCE_FUNCS = {np.stack, np.concatenate, np.hstack, np.vstack, np.column_stack, np.dstack, np.block,
                   np.einsum, np.array, np.asarray}


def _same(a, b):
    return isinstance(a, N.Name) and isinstance(b, N.Name) and a.id == b.id


def _describe(f):
    if isinstance(f, N.Const):
        return f.value
    if isinstance(f, N.Attr):
        return f.attr
    if isinstance(f, N.Name):
        return f.id
    return "call"


