"""Shape-specialised planning: an allocation-free variant of generated code.

After the first call of a gradient with a given signature (array shapes and
dtypes, integer arguments), :func:`plan` rewrites the generic generated code
so that every array it computes lands in a preallocated buffer:

1. **Flatten** the generic code to one operation per statement (the adjoint
   templates nest expressions: ``g * (1.0 - y * y)``).
2. **Probe**: the first call runs an instrumented copy that records the
   type, shape and dtype of every value each statement defines.
3. **Lower** each statement whose result is an array to a form that writes
   into a given output (``np.add(a, b, out=...)``, ``np.matmul``, reductions
   with ``out=``, ``fill``; runtime helpers such as ``unbroadcast`` become
   the one NumPy call they amount to at these shapes) or to a view (basic
   slicing, ``.T``, a same-shape ``unbroadcast``).  Statements with no such
   form, or whose shape could change between calls of the same signature
   (boolean masks, shapes computed from data), stay as they were.
4. **Allocate** by liveness, like a compiler's register allocator: a value
   computed in place is alive from its definition to its last use (through
   any view of it); two values never alive together share a buffer.  Values
   a loop saves for its reverse sweep get a row store (one preallocated row
   per iteration, never overwritten within the call) instead.
5. **Return** gradients written straight into result arrays: fresh ones, or
   the caller's ``out=`` arrays (then the call allocates no array memory).

The planned source is ordinary Python, printed by ``df.planned_source``.
The planner works on the generated code (stdlib :mod:`ast`), after the
transforms and independent of them.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

import numpy as np

import s2sad_runtime as _rt_mod

_MARK = "\x00#"
_COMMENT = re.compile(r"^(\s*)# ?(.*)$")


DEFER_WEIGHT_GRADIENTS = True


class PlanError(Exception):
    """This code cannot be planned (the generic variant is used)."""


# ---------------------------------------------------------------------------
# comments survive the round trip through ast as marked string statements

def _protect_comments(source):
    out = []
    for line in source.splitlines():
        m = _COMMENT.match(line)
        out.append(f"{m.group(1)}{(_MARK + m.group(2))!r}" if m else line)
    return "\n".join(out) + "\n"


def _restore_comments(text):
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s[:1] in "'\"":
            try:
                v = ast.literal_eval(s)
            except (ValueError, SyntaxError):
                v = None
            if isinstance(v, str) and v.startswith(_MARK):
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}# {v[len(_MARK):]}")
                continue
        out.append(line)
    return "\n".join(out) + "\n"


def _is_comment(stmt):
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str) and stmt.value.value.startswith(_MARK))


# ---------------------------------------------------------------------------
# 1. flatten

class _Flatten:
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
        if isinstance(s, ast.Assign):
            s.value = self.top(s.value, pre)
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            s.value = self.top(s.value, pre)
        elif isinstance(s, (ast.For, ast.While, ast.If)):
            s.body = self.block(s.body)
            s.orelse = self.block(s.orelse)
        return pre + [s]

    def top(self, e, pre):
        """``e`` with each operand made simple (a name, a constant, an
        attribute of a name) by hoisting compound operands into temps."""
        if isinstance(e, ast.Call):
            e.args = [self.simple(a, pre) for a in e.args]
            for k in e.keywords:
                k.value = self.simple(k.value, pre)
        elif isinstance(e, ast.BinOp):
            e.left = self.simple(e.left, pre)
            e.right = self.simple(e.right, pre)
        elif isinstance(e, ast.UnaryOp):
            e.operand = self.simple(e.operand, pre)
        elif isinstance(e, ast.Subscript):
            e.value = self.simple(e.value, pre)
            e.slice = self.index(e.slice, pre)
        elif isinstance(e, ast.Compare) and len(e.comparators) == 1:
            e.left = self.simple(e.left, pre)
            e.comparators = [self.simple(e.comparators[0], pre)]
        elif isinstance(e, (ast.Tuple, ast.List)):
            e.elts = [self.simple(x, pre) for x in e.elts]
        return e

    def index(self, e, pre):
        if isinstance(e, ast.Tuple):
            e.elts = [self.index(x, pre) for x in e.elts]
            return e
        if isinstance(e, ast.Slice):
            for f in ("lower", "upper", "step"):
                v = getattr(e, f)
                if v is not None:
                    setattr(e, f, self.simple(v, pre))
            return e
        return self.simple(e, pre)

    def simple(self, e, pre):
        if isinstance(e, (ast.Name, ast.Constant)):
            return e
        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name):
            return e
        if isinstance(e, ast.Tuple):
            e.elts = [self.simple(x, pre) for x in e.elts]
            return e
        if isinstance(e, (ast.Call, ast.BinOp, ast.UnaryOp, ast.Subscript, ast.Compare)):
            e = self.top(e, pre)
            t = self.tmp()
            pre.append(ast.Assign(targets=[ast.Name(t, ast.Store())], value=e, lineno=0))
            return ast.Name(t, ast.Load())
        return e


def _name_counts(node, ctx=ast.Load):
    """How often each name is read (``ctx=ast.Load``) or written in ``node``."""
    out = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ctx):
            out[n.id] = out.get(n.id, 0) + 1
    return out


def _index_parts(e):
    """The components of an index expression (``x[a, b]`` -> ``[a, b]``)."""
    return e.elts if isinstance(e, ast.Tuple) else [e]


def _basic_component(m):
    """Does an index component of meta ``m`` keep ``x[...]`` a view (an int,
    None, a slice, Ellipsis)?"""
    return m[0] in ("i", "N") or (m[0] == "O" and m[1] in ("slice", "ellipsis"))


def _nested(st, fn):
    """Apply ``fn`` to the blocks of a compound statement (in place)."""
    if isinstance(st, (ast.For, ast.While, ast.If)):
        st.body = fn(st.body)
        st.orelse = fn(st.orelse)
        return True
    return False


def _fuse_index_accumulate(fdef):
    """``p = _rt.index_adjoint(g, x, idx); y = a + p`` (``p`` read nowhere
    else) becomes ``y = _rt.index_accumulate(a, g, x, idx)``, which planned
    code does as one in-place add into the slice ``idx``."""
    loads = _name_counts(fdef)

    def block(body):
        out = []
        for s in body:
            _nested(s, block)
            prev = out[-1] if out else None
            if (prev is not None and isinstance(prev, ast.Assign) and isinstance(s, ast.Assign)
                    and isinstance(prev.targets[0], ast.Name) and isinstance(s.targets[0], ast.Name)
                    and isinstance(prev.value, ast.Call) and _src(prev.value.func) == "_rt.index_adjoint"
                    and len(prev.value.args) == 3 and not prev.value.keywords
                    and isinstance(s.value, ast.BinOp) and isinstance(s.value.op, ast.Add)):
                p = prev.targets[0].id
                l, r = s.value.left, s.value.right
                other = r if isinstance(l, ast.Name) and l.id == p else l if isinstance(r, ast.Name) and r.id == p else None
                if other is not None and isinstance(other, ast.Name) and other.id != p and loads.get(p) == 1:
                    g, x, idx = prev.value.args
                    s.value = ast.Call(ast.Attribute(ast.Name("_rt", ast.Load()), "index_accumulate", ast.Load()),
                                       [other, g, x, idx], [])
                    out[-1] = s
                    continue
            out.append(s)
        return out
    fdef.body = block(fdef.body)


def _defer_weight_gradients(fdef):
    """In a loop, ``p = _rt.matmul_adjoint_b(g, a, b); ...; W = W + p`` (``W``
    read nowhere else in the loop, ``p`` nowhere else at all) becomes
    ``_rt.pair_add(_dN, g, a, b, 'b')`` in the loop and ``W = W +
    _rt.pair_total(_dN)`` after it: the weight's adjoint is one large
    product over all iterations instead of a small one and an addition per
    iteration (the sum is the same up to rounding order)."""
    loads = _name_counts(fdef)
    counter = [0]

    def block(body):
        out = []
        for st in body:
            _nested(st, block)
            if isinstance(st, ast.For) and not st.orelse:
                pre, post = loop(st)
                out.extend(pre)
                out.append(st)
                out.extend(post)
                continue
            out.append(st)
        return out

    def loop(st):
        body = st.body
        lds, sts = _name_counts(st, ast.Load), _name_counts(st, ast.Store)
        pre, post = [], []
        for i, s1 in enumerate(body):
            if not (isinstance(s1, ast.Assign) and isinstance(s1.targets[0], ast.Name)
                    and isinstance(s1.value, ast.Call) and not s1.value.keywords and len(s1.value.args) == 3
                    and _src(s1.value.func) in ("_rt.matmul_adjoint_a", "_rt.matmul_adjoint_b")
                    and all(isinstance(a, ast.Name) for a in s1.value.args)):
                continue
            p = s1.targets[0].id
            if loads.get(p) != 1 or sts.get(p) != 1:
                continue
            for j in range(i + 1, len(body)):
                s2 = body[j]
                if not (isinstance(s2, ast.Assign) and isinstance(s2.targets[0], ast.Name)
                        and isinstance(s2.value, ast.BinOp) and isinstance(s2.value.op, ast.Add)):
                    continue
                w = s2.targets[0].id
                l_, r_ = s2.value.left, s2.value.right
                if not (isinstance(l_, ast.Name) and isinstance(r_, ast.Name)
                        and {l_.id, r_.id} == {w, p} and w != p):
                    continue
                if lds.get(w) != 1 or sts.get(w) != 1 or w in (a.id for a in s1.value.args):
                    break
                d = f"_d{counter[0]}"
                counter[0] += 1
                which = s1.value.func.attr[-1]
                g, a, b = (x.id for x in s1.value.args)
                body[i] = ast.parse(f"_rt.pair_add({d}, {g}, {a}, {b}, {which!r})").body[0]
                body[j] = ast.Pass()
                pre.append(ast.parse(f"{d} = _rt.PairSum()").body[0])
                post.extend(ast.parse(f"{d}_total = _rt.pair_total({d})\n{w} = {w} + {d}_total").body)
                break
        st.body = [x for x in body if not isinstance(x, ast.Pass)] or [ast.Pass()]
        return pre, post

    fdef.body = block(fdef.body)


# ---------------------------------------------------------------------------
# 2. probe

def meta_of(v):
    """What the planner needs to know of a value."""
    t = type(v)
    if t is np.ndarray:
        return ("A", v.shape, v.dtype.str, bool(v.flags.c_contiguous))
    if t is bool:
        return ("b",)
    if t is int:
        return ("i",)
    if t is float:
        return ("f",)
    if isinstance(v, np.generic):
        return ("s", v.dtype.str)
    if v is None:
        return ("N",)
    if t is _rt_mod.Like:
        return ("L", v.shape, v.dtype.str)
    return ("O", t.__name__)


_DYN = ("X",)


def _merge(a, b):
    if a is None:
        return b
    return a if a == b else _DYN


class Probe:
    def __init__(self):
        self.metas = {}
        self.counts = {}
        self.values = {}
        self.want_value = set()

    def __call__(self, k, v):
        self.metas[k] = _merge(self.metas.get(k), meta_of(v))
        self.counts[k] = self.counts.get(k, 0) + 1
        if k in self.want_value and k not in self.values:
            self.values[k] = np.array(v, copy=True)
        return v


@dataclass
class Site:
    id: int
    stmt: ast.stmt
    target: str
    kind: str            # assign | pop | unpack | loopvar
    meta: tuple = None
    low: object = None   # a Lowering, or None (left generic)


# ---------------------------------------------------------------------------
# 3. lowering

@dataclass
class Lowering:
    """How one statement writes into a buffer (``pre`` statements, then the
    value ``expr``; ``{o}`` is the buffer, ``{s0}``... scratch buffers), or
    rebinds a view (``view=True``: ``expr`` only, no buffer)."""
    expr: str
    pre: list = field(default_factory=list)
    scratch: list = field(default_factory=list)
    view: bool = False
    elementwise: bool = False
    const: object = None
    inplace: tuple = ()      # operands it may overwrite when they share its buffer
    scalar: bool = False     # the result is a NumPy scalar taken out of a 0-d scratch buffer


_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
           ast.Pow: "power", ast.FloorDiv: "floor_divide", ast.Mod: "remainder"}
_CMPOPS = {ast.Lt: "less", ast.LtE: "less_equal", ast.Gt: "greater", ast.GtE: "greater_equal",
           ast.Eq: "equal", ast.NotEq: "not_equal"}
_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
               "amax": np.amax, "amin": np.amin}
_FILLS = {np.zeros: "0", np.ones: "1", np.empty: None, np.zeros_like: "0", np.ones_like: "1",
          np.empty_like: None}


def _src(e):
    return ast.unparse(e)


class Planner:
    """Plans one generic generated function for one signature."""

    def __init__(self, source, fname, ns_globals, arg_names):
        self.fname = fname
        self.g = ns_globals
        self.arg_names = list(arg_names)
        tree = ast.parse(_protect_comments(source))
        fdef = tree.body[0]
        if not isinstance(fdef, ast.FunctionDef) or fdef.name != fname:
            raise PlanError("unexpected generated code")
        for n in ast.walk(fdef):
            if n is not fdef and isinstance(n, (ast.FunctionDef, ast.Lambda, ast.Yield, ast.YieldFrom,
                                                ast.Try, ast.With, ast.AugAssign, ast.Break,
                                                ast.Continue, ast.Global, ast.Nonlocal,
                                                ast.AsyncFunctionDef, ast.ClassDef)):
                raise PlanError(f"contains {type(n).__name__}")
            if isinstance(n, ast.Name) and n.id in ("_rv",):
                raise PlanError("runs a loop through a runtime driver")
        fdef.body = _Flatten().block(fdef.body)
        _fuse_index_accumulate(fdef)
        if DEFER_WEIGHT_GRADIENTS:
            _defer_weight_gradients(fdef)
        self.fdef = fdef
        self.params = [a.arg for a in fdef.args.args]
        self.sites = []
        self.by_stmt = {}
        self.locals = set(self.params)
        self._collect(fdef.body)

    # -- sites ---------------------------------------------------------------
    def _collect(self, body):
        for s in body:
            if isinstance(s, ast.Assign) and len(s.targets) == 1:
                t = s.targets[0]
                if isinstance(t, ast.Name):
                    v = s.value
                    kind = "pop" if (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
                                     and v.func.attr == "pop" and _src(v.func.value) == "_stack") else "assign"
                    if isinstance(v, ast.Constant) and v.value is None:
                        kind = "decl"     # `x = None` before a loop: not a value of x
                    self._site(s, t.id, kind)
                elif isinstance(t, (ast.Tuple, ast.List)):
                    for e in t.elts:
                        if isinstance(e, ast.Name):
                            self._site(s, e.id, "unpack")
            elif isinstance(s, ast.For):
                for e in ast.walk(s.target):
                    if isinstance(e, ast.Name):
                        self._site(s, e.id, "loopvar")
                self._collect(s.body)
                self._collect(s.orelse)
            elif isinstance(s, (ast.While, ast.If)):
                self._collect(s.body)
                self._collect(s.orelse)

    def _site(self, stmt, name, kind):
        site = Site(len(self.sites), stmt, name, kind)
        self.sites.append(site)
        self.by_stmt.setdefault(id(stmt), []).append(site)
        self.locals.add(name)

    # -- probe -----------------------------------------------------------------
    def probe_source(self):
        """The flattened code with a ``_probe(site, value)`` after each
        definition; it computes what the generic code computes."""
        f = copy.deepcopy(self.fdef)
        ids = iter(range(len(self.sites)))

        def call(k, name):
            return ast.Expr(ast.Call(ast.Name("_probe", ast.Load()),
                                     [ast.Constant(k), ast.Name(name, ast.Load())], []))

        def walk(body):
            out = []
            for s in body:
                if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(
                        s.targets[0], (ast.Name, ast.Tuple, ast.List)):
                    t = s.targets[0]
                    names = [t.id] if isinstance(t, ast.Name) else [e.id for e in t.elts if isinstance(e, ast.Name)]
                    out.append(s)
                    out.extend(call(next(ids), n) for n in names)
                    continue
                if isinstance(s, ast.For):
                    names = [e.id for e in ast.walk(s.target) if isinstance(e, ast.Name)]
                    head = [call(next(ids), n) for n in names]
                    s.body = head + walk(s.body)
                    s.orelse = walk(s.orelse)
                elif isinstance(s, (ast.While, ast.If)):
                    s.body = walk(s.body)
                    s.orelse = walk(s.orelse)
                out.append(s)
            return out
        f.body = walk(f.body)
        f.name = self.fname + "_probe"
        return ast.unparse(ast.fix_missing_locations(ast.Module([f], [])))

    def mark_values(self, probe):
        """Ask the probe for the values of statements whose result the plan
        keeps as a constant (``np.arange`` of a static length)."""
        for s in self.sites:
            if s.kind == "assign" and isinstance(s.stmt.value, ast.Call) and \
                    self.resolve(s.stmt.value.func) is np.arange:
                probe.want_value.add(s.id)

    # -- resolution and metas --------------------------------------------------
    def resolve(self, e):
        if isinstance(e, ast.Name):
            if e.id in self.locals:
                return None
            if e.id in self.g:
                return self.g[e.id]
            import builtins
            return getattr(builtins, e.id, None)
        if isinstance(e, ast.Attribute):
            base = self.resolve(e.value)
            return getattr(base, e.attr, None) if base is not None else None
        return None

    def analyse(self, probe, arg_values):
        for s in self.sites:
            s.meta = probe.metas.get(s.id, _DYN)
        self.name_meta = {}
        defaults = [ast.literal_eval(d) for d in self.fdef.args.defaults]
        values = list(arg_values)
        values += defaults[len(defaults) - (len(self.params) - len(values)):] if len(values) < len(self.params) else []
        for p, v in zip(self.params, values):
            self.name_meta[p] = meta_of(v)
        for s in self.sites:
            if s.kind not in ("pop", "decl"):
                self.name_meta[s.target] = _merge(self.name_meta.get(s.target), s.meta)
        self.values = probe.values
        self._static()
        for s in self.sites:
            if s.kind == "assign" and self.is_array(s.target) and self.static.get(s.target):
                s.low = self.lower(s)
            elif s.kind == "assign" and s.meta[0] == "s":
                s.low = self._scalar_reduction(s)

    def meta(self, e):
        if isinstance(e, ast.Name):
            return self.name_meta.get(e.id, _DYN) if e.id in self.locals else ("G",)
        if isinstance(e, ast.Constant):
            v = e.value
            return meta_of(v)
        if isinstance(e, ast.Attribute) and e.attr == "T" and isinstance(e.value, ast.Name):
            m = self.meta(e.value)
            if m[0] == "A":
                return ("A", tuple(reversed(m[1])), m[2], len(m[1]) < 2)
        return _DYN

    def is_array(self, name):
        return self.name_meta.get(name, _DYN)[0] == "A"

    def arr(self, e):
        """(shape, dtype) of an operand that is a NumPy array, else None."""
        m = self.meta(e)
        if m[0] == "A":
            return m[1], m[2]
        if m[0] == "L":
            return m[1], m[2]
        return None

    # -- static shapes -----------------------------------------------------------
    def _static(self):
        """Which names have values (for Python ints and tuples) or shapes
        (for arrays) that the signature fixes.  A planned statement's buffer
        must fit every call of the signature, so only those are planned."""
        st = {}
        for p in self.params:
            m = self.name_meta[p]
            st[p] = m[0] in ("A", "i", "b", "N", "f", "s")
            # a float's value is not static, but no planned shape reads one
        defs = {}
        for s in self.sites:
            if s.kind not in ("pop", "decl"):
                defs.setdefault(s.target, []).append(s)
        for n in defs:
            st.setdefault(n, True)
        self.static = st
        changed = True
        while changed:
            changed = False
            for n, ss in defs.items():
                if st.get(n) and not all(self._static_def(s) for s in ss):
                    st[n] = False
                    changed = True

    def _sname(self, e, value=False):
        """Is operand ``e`` static (``value``: its value, not only its shape)?"""
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.Name):
            if e.id not in self.locals:
                return True
            if not self.static.get(e.id, False):
                return False
            m = self.name_meta.get(e.id, _DYN)
            if value and m[0] == "f":
                return False
            return m != _DYN
        if isinstance(e, ast.Attribute):
            return self._sname(e.value)
        if isinstance(e, ast.Tuple):
            return all(self._sname(x, value) for x in e.elts)
        if isinstance(e, ast.Slice):
            return all(self._sname(x, True) for x in (e.lower, e.upper, e.step) if x is not None)
        return False

    def _static_def(self, s):
        if s.meta == _DYN:
            return False
        if s.kind == "loopvar":
            st = s.stmt
            it = st.iter
            if s.meta[0] in ("i", "b"):
                return False     # the loop index varies; its value is not static
            return isinstance(it, ast.Name) and self._sname(it)
        if s.kind == "unpack":
            return self._sname(s.stmt.value, True)
        v = s.stmt.value
        m = s.meta
        if m[0] not in ("A", "i", "b", "N", "O", "s", "f", "L"):
            return False
        value = m[0] in ("i", "b", "O")
        if isinstance(v, (ast.Name, ast.Constant)):
            return self._sname(v, value)
        if isinstance(v, ast.Attribute):
            return self._sname(v.value)
        if isinstance(v, (ast.BinOp,)):
            return self._sname(v.left, value) and self._sname(v.right, value)
        if isinstance(v, ast.UnaryOp):
            return self._sname(v.operand, value)
        if isinstance(v, ast.Compare):
            return self._sname(v.left, value) and all(self._sname(c, value) for c in v.comparators)
        if isinstance(v, ast.Tuple):
            return all(self._sname(x, True) for x in v.elts)
        if isinstance(v, ast.Subscript):
            if not self._sname(v.value, value):
                return False
            for i in _index_parts(v.slice):
                if isinstance(i, ast.Slice):
                    if not self._sname(i, True):
                        return False
                    continue
                mi = self.meta(i)
                if _basic_component(mi):
                    if value and not self._sname(i, True):
                        return False
                    if mi[0] == "O" and not self._sname(i, True):
                        return False
                    continue
                if mi[0] == "A" and np.dtype(mi[2]).kind in "iu" and self._sname(i):
                    continue
                return False
            return True
        if isinstance(v, ast.Call):
            fn = self.resolve(v.func)
            if fn is None:
                return False
            args = list(v.args) + [k.value for k in v.keywords]
            if isinstance(fn, np.ufunc) or fn in (np.matmul, np.dot, np.outer):
                return all(self._sname(a) for a in args)
            if fn is _rt_mod.PairSum:
                return True
            if fn in _FILLS.keys() or fn in (np.full, np.full_like, np.arange, slice, len, range, int, tuple) \
                    or fn in _REDUCTIONS.values():
                return all(self._sname(a, True) if not self.is_array_expr(a) else self._sname(a) for a in args)
            if (getattr(fn, "__module__", None) or "").startswith("s2sad_runtime") and getattr(fn, "__name__", "") in _HELPERS:  # noqa: E501
                return all(self._sname(a, not self.is_array_expr(a) and self.meta(a)[0] != "f") for a in args)
        return False

    def is_array_expr(self, e):
        return self.meta(e)[0] in ("A", "L")

    # -- lowering -------------------------------------------------------------------
    def _scalar_reduction(self, s):
        """A full reduction to a NumPy scalar (``np.mean(x)``): NumPy would
        make a 0-d array for it; reduce into a 0-d scratch buffer instead and
        take the scalar out (``b[()]`` is the same NumPy scalar)."""
        v = s.stmt.value
        if not isinstance(v, ast.Call) or v.keywords or len(v.args) != 1:
            return None
        fn = self.resolve(v.func)
        name = next((k for k, r in _REDUCTIONS.items() if fn is r), None)
        m = self.meta(v.args[0])
        if name is None or m[0] != "A" or not self._sname(v.args[0]) or np.dtype(m[2]) != np.dtype(s.meta[1]):
            return None
        return Lowering("{s0}[()]", pre=[f"_np.{name}({_src(v.args[0])}, out={{s0}})"],
                        scratch=[((), s.meta[1])], scalar=True)

    def lower(self, s):
        v = s.stmt.value
        out = self.name_meta[s.target]
        try:
            if isinstance(v, ast.Name):
                return Lowering(v.id, view=True) if self.is_array(v.id) else None
            if isinstance(v, ast.BinOp):
                if isinstance(v.op, ast.MatMult):
                    return self._matmul(_src(v.left), _src(v.right), v.left, v.right)
                uf = _BINOPS.get(type(v.op))
                if uf:
                    return Lowering(f"_np.{uf}({_src(v.left)}, {_src(v.right)}, out={{o}})", elementwise=True)
            if isinstance(v, ast.UnaryOp):
                uf = {ast.USub: "negative", ast.UAdd: "positive"}.get(type(v.op))
                if uf:
                    return Lowering(f"_np.{uf}({_src(v.operand)}, out={{o}})", elementwise=True)
            if isinstance(v, ast.Compare) and len(v.ops) == 1 and type(v.ops[0]) in _CMPOPS:
                return Lowering(f"_np.{_CMPOPS[type(v.ops[0])]}({_src(v.left)}, {_src(v.comparators[0])}, out={{o}})",
                                elementwise=True)
            if isinstance(v, ast.Attribute) and v.attr == "T":
                return Lowering(_src(v), view=True)
            if isinstance(v, ast.Subscript):
                return self._subscript(v, out)
            if isinstance(v, ast.Call):
                return self._call(s, v, out)
        except _NoLowering:
            return None
        return None

    def _matmul(self, a, b, ea, eb):
        ma, mb = self.arr(ea), self.arr(eb)
        if ma is None or mb is None or len(ma[0]) < 1 or len(mb[0]) < 1:
            return None
        return Lowering(f"_np.matmul({a}, {b}, out={{o}})")

    def _subscript(self, v, out):
        idx = _index_parts(v.slice)
        basic = all(isinstance(i, ast.Slice) or _basic_component(self.meta(i)) for i in idx)
        base = self.arr(v.value)
        if base is None:
            return None
        if basic:
            return Lowering(_src(v), view=True)
        # integer arrays, one per axis, all of the result's shape
        if len(idx) == len(base[0]) and all(self.meta(i)[0] == "A" and self.meta(i)[1] == out[1]
                                            and np.dtype(self.meta(i)[2]).kind in "iu" for i in idx) \
                and self.meta(v.value)[0] == "A" and self.meta(v.value)[3]:
            names = ", ".join(_src(i) for i in idx)
            return Lowering(f"_rp.take({_src(v.value)}, ({names},), {{o}}, {{s0}}, {{s1}}, {{s2}})",
                            scratch=[(out[1], np.dtype(np.intp).str), ((), np.dtype(np.intp).str),
                                     ((), np.dtype(np.intp).str)])
        return None

    def _call(self, s, v, out):
        fn = self.resolve(v.func)
        if fn is None:
            return None
        args = [_src(a) for a in v.args]
        kw = {k.arg: k.value for k in v.keywords}
        if any(k is None for k in kw):
            return None
        if isinstance(fn, np.ufunc):
            if fn.nout != 1 or kw or len(args) != fn.nin:
                return None
            return Lowering(f"{_src(v.func)}({', '.join(args)}, out={{o}})", elementwise=True)
        if fn is np.matmul and len(args) == 2 and not kw:
            return self._matmul(args[0], args[1], v.args[0], v.args[1])
        if fn is np.dot and len(args) == 2 and not kw:
            ma, mb = self.arr(v.args[0]), self.arr(v.args[1])
            if ma and mb and len(ma[0]) == 2 and len(mb[0]) == 2:
                return Lowering(f"_np.matmul({args[0]}, {args[1]}, out={{o}})")
            return None
        for name, red in _REDUCTIONS.items():
            if fn is red:
                if not v.args or self.arr(v.args[0]) is None or set(kw) - {"axis", "keepdims"}:
                    return None
                pos = ["axis", "dtype", "out", "keepdims"]
                extra = [f"{pos[i]}={a}" for i, a in enumerate(args[1:])]
                if any(e.startswith(("dtype", "out")) for e in extra):
                    return None
                extra += [f"{k}={_src(e)}" for k, e in kw.items()]
                return Lowering(f"_np.{name}({args[0]}{''.join(', ' + e for e in extra)}, out={{o}})")
        if fn in _FILLS:
            val = _FILLS[fn]
            return Lowering("{o}", pre=[f"{{o}}.fill({val})"] if val is not None else [])
        if fn in (np.full, np.full_like) and len(v.args) == 2 and set(kw) <= {"dtype"}:
            if self.meta(v.args[1])[0] not in ("i", "f", "b", "s"):
                return None
            return Lowering("{o}", pre=[f"{{o}}.fill({args[1]})"])
        if fn is np.arange and s.id in self.values:
            c = self.values[s.id]
            c.flags.writeable = False
            return Lowering("{c}", view=True, const=c)
        if (getattr(fn, "__module__", None) or "").startswith("s2sad_runtime"):
            h = _HELPERS.get(getattr(fn, "__name__", ""))
            if h is not None:
                return h(self, v, args, kw, out)
        return None


class _NoLowering(Exception):
    pass


# ---------------------------------------------------------------------------
# runtime helpers at known shapes

def _kwargs(v, names, kw, args, defaults):
    """Positional/keyword arguments of a helper call by parameter name, as
    source text."""
    vals = dict(zip(names, args))
    for k, e in kw.items():
        vals[k] = _src(e)
    for k, d in defaults.items():
        vals.setdefault(k, d)
    return vals


def _literal(text):
    try:
        return ast.literal_eval(text)
    except Exception:  # noqa: BLE001 - not a literal: cannot lower
        raise _NoLowering from None


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim for a in axis)


def _h_unbroadcast(p, v, args, kw, out):
    g, x = v.args[0], v.args[1]
    mg, mx = p.arr(g), p.arr(x)
    if mg is None or mx is None:
        raise _NoLowering
    gs, xs = mg[0], mx[0]
    if gs == xs:
        return Lowering(args[0], view=True)
    lead = len(gs) - len(xs)
    if lead < 0 or any(b != 1 and a != b for a, b in zip(gs[lead:], xs)):
        raise _NoLowering
    axes = tuple(range(lead)) + tuple(lead + i for i, (a, b) in enumerate(zip(gs[lead:], xs)) if b == 1 and a != 1)
    keep = any(b == 1 and a != 1 for a, b in zip(gs[lead:], xs))
    if keep:
        kshape = (1,) * lead + tuple(xs)
        return Lowering("{o}", pre=[f"_np.sum({args[0]}, axis={axes}, keepdims=True, out={{o}}.reshape({kshape}))"])
    return Lowering(f"_np.sum({args[0]}, axis={axes}, out={{o}})")


def _expanded(p, e, text, x_shape, axis, keepdims):
    """Source of ``e`` reshaped to broadcast against ``x`` after a reduction
    over ``axis``."""
    m = p.meta(e)
    if m[0] in ("f", "i", "s"):
        return text, True
    if m[0] != "A":
        raise _NoLowering
    if keepdims or (axis is None and m[1] == ()):
        return text, False
    shape = list(x_shape)
    for a in _norm_axes(axis, len(shape)):
        shape[a] = 1
    return f"{text}.reshape({tuple(shape)})", False


def _h_sum_adjoint(p, v, args, kw, out, mean=False):
    a = _kwargs(v, ["g", "x", "axis", "keepdims"], kw, args, {"axis": "None", "keepdims": "False"})
    mx = p.arr(v.args[1])
    if mx is None:
        raise _NoLowering
    axis, keepdims = _literal(a["axis"]), _literal(a["keepdims"])
    ge, scalar = _expanded(p, v.args[0], a["g"], mx[0], axis, keepdims)
    n = 1
    for ax in _norm_axes(axis, len(mx[0])):
        n *= mx[0][ax]
    if scalar:
        return Lowering("{o}", pre=[f"{{o}}.fill({ge} / {n})" if mean else f"{{o}}.fill({ge})"])
    pre = [f"_np.copyto({{o}}, {ge})"]
    if mean:
        pre.append(f"_np.divide({{o}}, {n}, out={{o}})")
    return Lowering("{o}", pre=pre)


def _h_mean_adjoint(p, v, args, kw, out):
    return _h_sum_adjoint(p, v, args, kw, out, mean=True)


def _h_extremum_adjoint(p, v, args, kw, out):
    a = _kwargs(v, ["g", "ans", "x", "axis", "keepdims"], kw, args, {"axis": "None", "keepdims": "False"})
    mx = p.arr(v.args[2])
    if mx is None or p.meta(v.args[2])[0] != "A" or np.dtype(mx[1]).kind not in "fc":
        raise _NoLowering
    axis, keepdims = _literal(a["axis"]), _literal(a["keepdims"])
    ans, s1 = _expanded(p, v.args[1], a["ans"], mx[0], axis, keepdims)
    g, s2 = _expanded(p, v.args[0], a["g"], mx[0], axis, keepdims)
    kshape = list(mx[0])
    for ax in _norm_axes(axis, len(kshape)):
        kshape[ax] = 1
    ax = tuple(_norm_axes(axis, len(kshape)))
    return Lowering("{o}", pre=[
        f"_np.equal({a['x']}, {ans}, out={{s0}})",
        f"_np.sum({{s0}}, axis={ax}, keepdims=True, dtype={{s1}}.dtype, out={{s1}})",
        f"_np.multiply({g}, {{s0}}, out={{o}})",
        "_np.divide({o}, {s1}, out={o})",
    ], scratch=[(mx[0], np.dtype(bool).str), (tuple(kshape), mx[1])])


def _h_index_adjoint(p, v, args, kw, out):
    mx = p.arr(v.args[1])
    if mx is None or p.meta(v.args[1])[0] not in ("A", "L"):
        raise _NoLowering
    kinds = []
    for i in _index_parts(v.args[2]):
        m = p.meta(i)
        if _basic_component(m):
            kinds.append("basic")
        elif m[0] == "A" and np.dtype(m[2]).kind in "iu":
            kinds.append("int")
        else:
            raise _NoLowering
    setter = f"{{o}}[{args[2]}] = {args[0]}" if all(k == "basic" for k in kinds) \
        else f"_np.add.at({{o}}, {args[2]}, {args[0]})"
    return Lowering("{o}", pre=["{o}.fill(0)", setter])


def _h_matmul_adjoint(which):
    def h(p, v, args, kw, out):
        mg, ma, mb = (p.arr(e) for e in v.args[:3])
        if not (mg and ma and mb):
            raise _NoLowering
        g, a, b = args[:3]
        na, nb = len(ma[0]), len(mb[0])
        need = v.args[2] if which == "a" else v.args[1]   # the operand whose data it reads
        if p.meta(need)[0] != "A" or p.meta(v.args[0])[0] != "A":
            raise _NoLowering
        if (na, nb) == (2, 2):
            return Lowering(f"_np.matmul({g}, {b}.T, out={{o}})" if which == "a"
                            else f"_np.matmul({a}.T, {g}, out={{o}})")
        if (na, nb) == (2, 1):      # matrix-vector: g is a vector
            return Lowering(f"_np.multiply({g}[:, None], {b}, out={{o}})" if which == "a"
                            else f"_np.matmul({a}.T, {g}, out={{o}})")
        if (na, nb) == (1, 2):      # vector-matrix
            return Lowering(f"_np.matmul({b}, {g}, out={{o}})" if which == "a"
                            else f"_np.multiply({a}[:, None], {g}, out={{o}})")
        raise _NoLowering
    return h


def _h_zeros_like(p, v, args, kw, out):
    mx = p.meta(v.args[0])
    if mx[0] not in ("A", "L") or np.dtype(mx[2]).kind not in "fc":
        raise _NoLowering
    return Lowering("{o}", pre=["{o}.fill(0)"])


def _h_index_accumulate(p, v, args, kw, out):
    ma, mx = p.arr(v.args[0]), p.arr(v.args[2])
    if ma is None or mx is None or ma[0] != mx[0] or p.meta(v.args[0])[0] != "A" or p.meta(v.args[1])[0] != "A":
        raise _NoLowering
    if not all(_basic_component(p.meta(i)) for i in _index_parts(v.args[3])):
        raise _NoLowering
    a, g = args[0], args[1]
    return Lowering("{o}", pre=[f"if {a} is not {{o}}:\n    _np.copyto({{o}}, {a})",
                                f"_np.add({{o}}[{args[3]}], {g}, out={{o}}[{args[3]}])"],
                    inplace=(a,))


def _h_pair_total(p, v, args, kw, out):
    return Lowering("{o}", pre=[f"{args[0]}.total_into({{o}})"])


_HELPERS = {
    "pair_total": _h_pair_total,
    "index_accumulate": _h_index_accumulate,
    "unbroadcast": _h_unbroadcast,
    "sum_adjoint": _h_sum_adjoint,
    "mean_adjoint": _h_mean_adjoint,
    "extremum_adjoint": _h_extremum_adjoint,
    "index_adjoint": _h_index_adjoint,
    "matmul_adjoint_a": _h_matmul_adjoint("a"),
    "matmul_adjoint_b": _h_matmul_adjoint("b"),
    "zeros_like": _h_zeros_like,
}


# ---------------------------------------------------------------------------
# 4. allocation

def _loads(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stores(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _push_name(s):
    """``NAME`` of a ``_stack.append(NAME)`` statement, else None."""
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
        f = s.value.func
        if isinstance(f, ast.Attribute) and f.attr == "append" and _src(f.value) == "_stack" \
                and len(s.value.args) == 1 and isinstance(s.value.args[0], ast.Name):
            return s.value.args[0].id
    return None


def _fresh(p, v):
    """Does expression ``v`` always make a new array (never a view of an
    operand)?  NumPy arithmetic and ufunc calls do."""
    if isinstance(v, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        return True
    if isinstance(v, ast.Call):
        fn = p.resolve(v.func)
        return isinstance(fn, np.ufunc) or fn in (np.matmul, np.dot, np.zeros, np.ones, np.empty, np.full,
                                                  np.zeros_like, np.ones_like, np.arange, _rt_mod.like)
    return False


class Allocation:
    """Buffers for a planned function: which names are written in place
    (``buffered``), which of those are saved by a loop (``rows``) or
    returned (``results``), and the physical buffer of each of the others."""

    def __init__(self, planner, result_names):
        self.p = p = planner
        self.after = {}
        self._live(p.fdef.body, set())
        self.simple = [s for s in ast.walk(p.fdef) if isinstance(s, ast.stmt) and not isinstance(
            s, (ast.For, ast.While, ast.If, ast.FunctionDef))]
        self.defs = {}
        for s in p.sites:
            if s.kind not in ("pop", "decl"):
                self.defs.setdefault(s.target, []).append(s)
        self.demoted = {}
        # written in place: every definition planned (a view or into the
        # name's buffer), at least one of them into the buffer
        self.buffered = {n for n, ss in self.defs.items()
                         if p.is_array(n) and all(s.kind == "assign" and s.low is not None for s in ss)
                         and any(not s.low.view for s in ss)}
        self.viewed = {n for n, ss in self.defs.items() if any(s.low is not None and s.low.view for s in ss)}
        while True:
            self._refs()
            self.rows = {b for n in self.pushed for b in self.refs.get(n, ())} & self.buffered
            self.results = {n: i for n, i in result_names.items()
                            if n in self.buffered and n not in self.rows
                            and (n not in self.viewed or self._ends_in_buffer(n))}
            bad = self._check()
            if not bad:
                break
            for n, why in bad.items():
                self.demoted[n] = why
                self.buffered.discard(n)
        self._color()

    def _ends_in_buffer(self, n):
        """Is ``n``'s last definition a write into its buffer at the top
        level of the function (so that is what the return sees)?"""
        last = [s for s in self.p.sites if s.target == n][-1]
        return (last.kind == "assign" and last.low is not None and not last.low.view
                and any(last.stmt is st for st in self.p.fdef.body))

    # -- liveness ------------------------------------------------------------------
    def _live(self, body, out):
        live = set(out)
        for s in reversed(body):
            live = self._live_stmt(s, live)
        return live

    def _live_stmt(self, s, out):
        if isinstance(s, ast.For):
            tg = _stores(s.target)
            after_loop = self._live(s.orelse, out)
            head = set(after_loop)
            while True:
                body_in = self._live(s.body, head)
                new = after_loop | (body_in - tg)
                if new == head:
                    break
                head = new
            return head | _loads(s.iter)
        if isinstance(s, ast.While):
            after_loop = self._live(s.orelse, out)
            head = set(after_loop) | _loads(s.test)
            while True:
                body_in = self._live(s.body, head)
                new = after_loop | _loads(s.test) | body_in
                if new == head:
                    break
                head = new
            return head
        if isinstance(s, ast.If):
            return _loads(s.test) | self._live(s.body, out) | self._live(s.orelse, out)
        self.after[id(s)] = frozenset(out)
        if isinstance(s, ast.Return):
            return _loads(s)
        return (out - _stores(s)) | _loads(s)

    # -- what may reference which buffer -------------------------------------------
    def _refs(self):
        """``refs[n]``: the buffers name ``n`` may reference (flow-insensitive);
        ``partial[n]``: those it may reference through a view that is not the
        whole buffer as it is (a slice, a transpose), which an elementwise
        operation cannot safely overwrite in place."""
        p = self.p
        refs = {n: set() for n in p.locals}
        partial = {n: set() for n in p.locals}
        self.pushed = set()
        for s in self.simple:
            n = _push_name(s)
            if n is not None:
                self.pushed.add(n)

        def can_ref(name):
            return p.name_meta.get(name, _DYN)[0] in ("A", "O", "X")

        def union(table, names):
            out = set()
            for m in names:
                out |= table.get(m, set())
            return out

        changed = True
        while changed:
            changed = False

            def add(table, name, items):
                nonlocal changed
                r = table.setdefault(name, set())
                if not items <= r:
                    r |= items
                    changed = True

            pushed = union(refs, self.pushed)
            for site in p.sites:
                n = site.target
                if not can_ref(n):
                    continue
                if n in self.buffered:
                    add(refs, n, {n})
                if site.kind == "pop":
                    add(refs, n, pushed)
                    add(partial, n, pushed)
                    continue
                if site.kind == "decl":
                    continue
                src = site.stmt.iter if site.kind == "loopvar" else site.stmt.value
                if site.kind == "assign" and site.low is not None and not site.low.view:
                    continue      # in the buffer, or (out of place) a fresh array
                if site.kind == "assign" and site.low is None and _fresh(p, site.stmt.value):
                    continue
                names = _loads(src)
                add(refs, n, union(refs, names))
                exact = site.kind == "assign" and site.low is not None and isinstance(site.stmt.value, ast.Name) \
                    or (site.low is not None and site.low.view and re.fullmatch(r"\w+", site.low.expr))
                add(partial, n, union(partial, names) if exact else union(refs, names))
            for s in self.simple:
                if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and _push_name(s) is None:
                    f = s.value.func
                    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in p.locals:
                        r = union(refs, _loads(s.value) - {f.value.id})
                        add(refs, f.value.id, r)
                        add(partial, f.value.id, r)
                elif isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript):
                    base = s.targets[0].value
                    if isinstance(base, ast.Name) and p.name_meta.get(base.id, _DYN)[0] != "A":
                        r = union(refs, _loads(s.value))
                        add(refs, base.id, r)
                        add(partial, base.id, r)
        self.refs = refs
        self.partial = partial

    def _check(self):
        """Names whose in-place definition would overwrite a value still in
        use (through a view, or an operand a non-elementwise operation reads
        while writing), with the reason; they are computed out of place."""
        bad = {}
        self.edges = {}
        p = self.p
        for site in p.sites:
            x = site.target
            if site.kind != "assign" or x not in self.buffered or x in self.rows or site.low.view:
                continue
            after = self.after.get(id(site.stmt), frozenset())
            live = set()
            holder = None
            for n in sorted(after):
                if n != x:
                    r = self.refs.get(n, set())
                    if x in r and holder is None:
                        holder = n
                    live |= r
            if holder is not None:
                bad[x] = f"`{holder}` may still refer to its previous value"
                continue
            ops = _loads(site.stmt.value)
            for o in ops:
                r = self.refs.get(o, set())
                part = self.partial.get(o, set())
                shareable = site.low.elementwise or o in site.low.inplace
                if x in r and (not shareable or x in part):
                    bad[x] = "an operand overlaps its buffer"
                    break
                # an elementwise operation may overwrite an operand it reads
                # whole (in place); anything else must not share its buffer
                live |= r if not shareable else part
            self.edges.setdefault(x, set()).update(live - {x})
        return bad

    def _color(self):
        p = self.p
        order = []
        for site in p.sites:
            n = site.target
            if n in self.buffered and n not in self.rows and n not in self.results and n not in order:
                order.append(n)
        inter = {n: set() for n in order}
        for a, bs in self.edges.items():
            for b in bs:
                if a in inter and b in inter:
                    inter[a].add(b)
                    inter[b].add(a)
        self.phys = []        # [(shape, dtype, members)]
        self.buffer_of = {}
        for n in order:
            m = p.name_meta[n]
            key = (m[1], m[2])
            for k, (shape, dt, members) in enumerate(self.phys):
                if (shape, dt) == key and not (members & inter[n]):
                    members.add(n)
                    self.buffer_of[n] = k
                    break
            else:
                self.phys.append((m[1], m[2], {n}))
                self.buffer_of[n] = len(self.phys) - 1


# ---------------------------------------------------------------------------
# 5. the planned function

@dataclass
class Plan:
    source: str
    fname: str
    buffer_specs: list
    row_specs: list
    consts: dict
    info: dict
    pairs: int = 0


def _grad_out_calls(ret):
    """The ``_rt.grad_out(NAME, X)`` calls of a return value, in order."""
    out = []
    for n in ast.walk(ret):
        if isinstance(n, ast.Call) and _src(n.func) == "_rt.grad_out" and len(n.args) == 2 \
                and isinstance(n.args[0], ast.Name):
            out.append(n)
    return out


def plan(source, fname, ns_globals, args, names, run_probe):
    """Plan ``source`` (generic code defining ``fname``) for the signature of
    ``args``.  ``run_probe(probe_source, probe)`` runs the instrumented code
    on ``args`` and returns its result.  Returns ``(plan, result)``."""
    p = Planner(source, fname, ns_globals, names)
    probe = Probe()
    p.mark_values(probe)
    result = run_probe(p.probe_source(), probe)
    p.analyse(probe, args)
    fdef = p.fdef
    rets = [s for s in ast.walk(fdef) if isinstance(s, ast.Return)]
    if len(rets) != 1 or rets[0] is not fdef.body[-1]:
        raise PlanError("the function does not end in its only return")
    calls = _grad_out_calls(rets[0].value)
    result_names = {}
    for i, c in enumerate(calls):
        n, x = c.args[0].id, c.args[1]
        mn, mx = p.name_meta.get(n, _DYN), p.meta(x)
        if n not in result_names and mn[0] == "A" and mx[0] == "A" and mn[1:3] == mx[1:3]:
            result_names[n] = i
    al = Allocation(p, result_names)

    # physical buffers: the liveness-coloured ones, then scratch
    buffer_specs = [(shape, dt) for shape, dt, _ in al.phys]
    scratch_index = {}

    def scratch(low):
        """``{s0}``, ``{s1}``... of a lowering: buffers shared by every
        statement's scratch of the same spec and position."""
        names = {}
        for j, spec in enumerate(low.scratch):
            key = (spec[0], spec[1], j)
            if key not in scratch_index:
                scratch_index[key] = len(buffer_specs)
                buffer_specs.append(spec)
            names[f"s{j}"] = f"_b{scratch_index[key]}"
        return names

    row_names = sorted(al.rows, key=lambda n: [s.id for s in p.sites if s.target == n][0])
    row_specs = []
    for n in row_names:
        m = p.name_meta[n]
        cap = sum(probe.counts.get(s.id, 0) for s in al.defs[n])
        row_specs.append((m[1], m[2], cap))
    consts = {}
    generic_sites = []
    dropped = []
    pairs = []

    def rewrite(body):
        out = []
        for s in body:
            if _nested(s, rewrite):
                out.append(s)
                continue
            sites = p.by_stmt.get(id(s), [])
            site = sites[0] if len(sites) == 1 and sites[0].kind == "assign" else None
            if site is not None and isinstance(s.value, ast.Call) and p.resolve(s.value.func) is _rt_mod.PairSum:
                out.append(ast.parse(f"{site.target} = _ws.pairs[{len(pairs)}].begin()").body[0])
                pairs.append(site.target)
                continue
            if site is not None and site.low is not None and site.low.scalar:
                fmt = scratch(site.low)
                text = [line.format(**fmt) for line in site.low.pre]
                text.append(f"{site.target} = {site.low.expr.format(**fmt)}")
                out.extend(ast.parse("\n".join(text)).body)
                continue
            if site is None or site.low is None or not p.is_array(site.target):
                if site is not None and p.is_array(site.target) and site.kind == "assign":
                    generic_sites.append(site)
                out.append(s)
                continue
            low, x = site.low, site.target
            if x not in al.after.get(id(s), {x}) and x not in al.rows:
                dropped.append(_src(s))
                continue          # a value nothing reads (a dead final reduction's operand)
            if low.view:
                if low.const is not None:
                    cname = f"_c{len(consts)}"
                    consts[cname] = low.const
                    out.append(ast.parse(f"{x} = {cname}").body[0])
                else:
                    out.append(ast.parse(f"{x} = {low.expr}").body[0])
                continue
            if x not in al.buffered:
                generic_sites.append(site)
                out.append(s)
                continue
            fmt = scratch(low)
            if x in al.rows:
                buf = f"_rs{row_names.index(x)}.next()"
            elif x in al.results:
                buf = f"_r{al.results[x]}"
            else:
                buf = f"_b{al.buffer_of[x]}"
            text = []
            if low.pre or low.expr.count("{o}") != 1 or (x in al.rows and low.expr == "{o}"):
                if x in al.rows:
                    text.append(f"_o = {buf}")
                    buf = "_o"
                text += [line.format(o=buf, **fmt) for line in low.pre]
            text.append(f"{x} = {low.expr.format(o=buf, **fmt)}")
            new = ast.parse("\n".join(text)).body
            out.extend(new)
        return out

    fdef.body = rewrite(fdef.body)
    planned = len([s for s in p.sites if s.kind == "assign" and s.target in al.buffered])

    # the return: gradients written into result arrays, or delivered
    ret = fdef.body[-1]
    for i, c in enumerate(_grad_out_calls(ret.value)):
        n = c.args[0].id
        if result_names.get(n) == i and n in al.results:
            new = ast.Name(n, ast.Load())
        else:
            inside = bool(al.refs.get(n, set()) & al.buffered)
            new = ast.parse(f"_rp.deliver({_src(c)}, _outs, {i}, {inside})", mode="eval").body
        _replace(ret, c, new)
    for n in ast.walk(ret.value):
        if isinstance(n, ast.Tuple):
            n.elts = [ast.parse(f"{e.id}.copy()", mode="eval").body
                      if isinstance(e, ast.Name) and p.is_array(e.id) and al.refs.get(e.id, set()) & al.buffered
                      and e.id not in al.results else e for e in n.elts]

    # prologue and signature
    pro = []
    if buffer_specs:
        names_b = ", ".join(f"_b{k}" for k in range(len(buffer_specs)))
        pro.append(f"{names_b}{',' if len(buffer_specs) == 1 else ''} = _ws.buffers")
    if row_names:
        pro.append(f"{', '.join(f'_rs{k}' for k in range(len(row_names)))}{',' if len(row_names) == 1 else ''} = _ws.rows")
    for n, i in sorted(al.results.items(), key=lambda t: t[1]):
        m = p.name_meta[n]
        pro.append(f"_r{i} = _rp.result(_outs, {i}, {m[1]}, {np.dtype(m[2]).name!r})")
    head = [ast.Expr(ast.Constant(_MARK + " planned for this signature: buffers from the workspace _ws"))]
    fdef.body = head + [st for line in pro for st in ast.parse(line).body] + fdef.body
    fdef.args.args += [ast.arg("_ws"), ast.arg("_outs")]
    fdef.args.defaults += [ast.Constant(None), ast.Constant(None)]
    fdef.name = fname + "_planned"
    text = _restore_comments(ast.unparse(ast.fix_missing_locations(ast.Module([fdef], []))))
    if ns_globals.get("np") is np and "np" not in p.locals:
        text = re.sub(r"\b_np\.", "np.", text)     # the user's own name for NumPy reads better
    nbytes = sum(int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in buffer_specs)
    info = {
        "planned": planned,
        "allocating": [f"{_src(s.stmt)}" for s in generic_sites],
        "demoted": dict(al.demoted),
        "buffers": len(buffer_specs),
        "buffer_bytes": nbytes,
        "row_stores": len(row_names),
        "dropped": dropped,       # (workspace_bytes is measured on the workspace once it ran)
    }
    return Plan(text, fdef.name, buffer_specs, row_specs, consts, info, len(pairs)), result


def _replace(root, old, new):
    for node in ast.walk(root):
        for fname, value in ast.iter_fields(node):
            if value is old:
                setattr(node, fname, new)
                return
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is old:
                        value[i] = new
                        return
