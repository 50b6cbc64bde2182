"""Typed random expressions for the program generator (``gen``).

Every expression is generated for a requested *symbolic* shape.  A dimension
is a tuple of its sizes under the shape assignments a program is run with
(the primary one, and the larger one of the new-shape check), so an
expression that is well typed here is well typed under both: ``(3, 4)`` is
``n``, ``(2, 3)`` is ``m``, ``(1, 1)`` is a literal 1, ``(2, 2)`` the length
of ``v[1:3]``.

Values stay numerically tame: each expression carries an upper bound
``mag`` on its absolute value (and ``lo``, a lower bound when it is known to
be positive); anything that would grow past ``CAP`` is squashed with
``tanh``, logs and square roots only see positive arguments, divisions only
positive denominators.  The bound is conservative; the generator also runs
each program and rejects the ones whose value is not finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

NA = 2          # shape assignments: primary, and the one of the new-shape check
CAP = 6.0       # bound on |value| of any expression


def lit(k):
    return (k,) * NA


ONE = lit(1)


def bshape(s1, s2):
    """The broadcast of two symbolic shapes, or None (under any assignment)."""
    n = max(len(s1), len(s2))
    a = (ONE,) * (n - len(s1)) + tuple(s1)
    b = (ONE,) * (n - len(s2)) + tuple(s2)
    out = []
    for d1, d2 in zip(a, b):
        if d1 == d2 or d2 == ONE:
            out.append(d1)
        elif d1 == ONE:
            out.append(d2)
        else:
            return None
    return tuple(out)


def size(shape):
    return math.prod(max(d) for d in shape) if shape else 1


class Group:
    """A buffer: the arrays that may share memory with each other (a name,
    its views, its aliases) share one group, hence one bound."""
    __slots__ = ("mag", "lo", "input", "dep")

    def __init__(self, mag, lo=None, input=False, dep=False):
        self.mag, self.lo, self.input, self.dep = mag, lo, input, dep


@dataclass
class Var:
    name: str
    kind: str = "val"           # val | int | list | tuple | dict
    shape: tuple = ()
    group: Group = None
    py: bool = False            # a Python float
    zd: bool = False            # possibly a 0-d ndarray (in-place `+=`)
    hi: tuple = None            # int: exclusive upper bound per assignment
    items: list = field(default_factory=list)   # containers: [(subscript, Var)]
    frozen: bool = False        # captured or iterated: not rebound
    growable: bool = True       # a list that may be appended to

    @property
    def mag(self):
        return self.group.mag

    @property
    def array(self):
        """An ndarray one can write elements into."""
        return self.kind == "val" and len(self.shape) > 0


@dataclass
class Val:
    code: str
    shape: tuple
    mag: float
    lo: float = None            # value >= lo > 0 when known
    py: bool = False            # a Python float
    atom: bool = True           # needs no parentheses as an operand
    group: Group = None         # the buffer this (top-level view) shares
    zd: bool = False
    dep: bool = False           # depends on a differentiated input

    def p(self):
        return self.code if self.atom else f"({self.code})"


# coefficients: source text and value (literals with negative bases and
# exponents, and `**` precedence: -1.2 ** 2 == -(1.2 ** 2))
COEFFS = [("0.5", 0.5), ("-0.7", -0.7), ("(-1.2) ** 2", 1.44), ("-1.2 ** 2", -1.44),
          ("(-0.5) ** 3", -0.125), ("2.0 ** -1", 0.5), ("(-2.0) ** -2", 0.25), ("0.3", 0.3),
          ("1.5", 1.5), ("2", 2.0), ("-1", -1.0), ("1e-1", 0.1), ("math.pi / 4", math.pi / 4)]

SLICES = [("1:3", slice(1, 3)), (":2", slice(None, 2)), ("1:", slice(1, None)),
          ("::-1", slice(None, None, -1)), ("::2", slice(None, None, 2)), (":-1", slice(None, -1)),
          (":", slice(None))]


def sliced(d, sl):
    n = tuple(len(range(k)[sl]) for k in d)
    return n if min(n) > 0 else None


class ExprGen:
    """Expressions over the variables of ``self.env`` (name -> Var)."""

    def __init__(self, rng, env, consts):
        self.rng = rng
        self.env = env
        self.consts = consts        # [(code, value bound)]: module globals usable as scalars

    # ----------------------------------------------------------- helpers
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, options):
        """``options``: [(weight, value)] -> a value."""
        tot = sum(w for w, _ in options)
        r = self.rng.random() * tot
        for w, v in options:
            r -= w
            if r <= 0:
                return v
        return options[-1][1]

    def coeff(self):
        if self.consts and self.chance(0.15):
            return self.rng.choice(self.consts)
        return self.rng.choice(COEFFS)

    def squash(self, v, cap=CAP):
        """``v`` with |value| <= cap."""
        if v.mag <= cap:
            return v
        if v.py:
            return Val(f"math.tanh({v.code})", (), 1.0, py=True, dep=v.dep)
        fn = self.rng.choice(["np.tanh", "np.sin"])
        return Val(f"{fn}({v.code})", v.shape, 1.0, dep=v.dep)

    def vals(self):
        return [v for v in self.env.values() if v.kind == "val"]

    def dims(self):
        ds = set()
        for v in self.vals():
            ds.update(d for d in v.shape if d != ONE)
        return sorted(ds)

    # ------------------------------------------------------------ leaves
    def leaves(self, shape):
        out = []
        for v in self.env.values():
            if v.kind == "val":
                self._var_leaves(v, shape, out)
            elif v.kind == "int" and shape == ():
                out.append((0.3, Val(f"0.1 * {v.name}", (), 0.1 * max(v.hi), py=True, atom=False)))
            elif v.kind in ("list", "tuple", "dict"):
                for sub, it in v.items:
                    if it.shape == shape:
                        out.append((0.7, Val(f"{v.name}{sub}", shape, it.mag, lo=it.group.lo, py=it.py,
                                             group=it.group, dep=it.group.dep)))
        if shape == ():
            for code, m in self.consts:
                out.append((0.2, Val(code, (), m, py=True)))
        return out

    def _var_leaves(self, v, S, out):
        T, g, nm = v.shape, v.group, v.name
        rng = self.rng

        def add(w, code, shape=S, view=True, atom=True, lo=g.lo, zd=False):
            out.append((w, Val(code, shape, g.mag, lo=lo, py=v.py and shape == (), atom=atom,
                               group=g if view else None, zd=zd, dep=g.dep)))
        if T == S:
            add(4.0, nm, zd=v.zd)
            if len(T) == 1 and self.chance(0.3):
                add(0.5, f"{nm}[{rng.choice(['::-1', ':'])}]")
            if len(T) == 2 and self.chance(0.3):
                add(0.5, f"{nm}[{rng.choice(['::-1', ':, ::-1', '...'])}]")
        if len(T) == 2 and (T[1], T[0]) == S and T[0] != T[1]:
            add(1.0, rng.choice([f"{nm}.T", f"np.transpose({nm})"]))
        if len(T) == 1 and S == (T[0], ONE):
            add(0.7, rng.choice([f"{nm}[:, None]", f"{nm}.reshape(-1, 1)"]))
        if len(T) == 1 and S == (ONE, T[0]):
            add(0.7, rng.choice([f"{nm}[None, :]", f"{nm}.reshape(1, -1)", f"{nm}[np.newaxis]"]))
        if len(T) == 2 and T[0] == ONE and S == (T[1],):
            add(0.7, rng.choice([f"{nm}[0]", f"{nm}.ravel()", f"{nm}.reshape(-1)"]))
        if len(T) == 2 and T[1] == ONE and S == (T[0],):
            add(0.7, rng.choice([f"{nm}[:, 0]", f"{nm}.ravel()", f"np.ravel({nm})"]))
        if len(T) == 2 and S == (T[1],) and T[0] != ONE:
            i = rng.randrange(-1, min(T[0]))
            add(1.0, f"{nm}[{i}]")
        if len(T) == 2 and S == (T[0],) and T[1] != ONE:
            add(0.8, f"{nm}[:, {rng.randrange(-1, min(T[1]))}]")
        if S == () and len(T) == 1:
            add(1.0, f"{nm}[{rng.randrange(-1, min(T[0]))}]", view=False, lo=g.lo)
        if S == () and len(T) == 2:
            i, j = rng.randrange(min(T[0])), rng.randrange(min(T[1]))
            add(0.8, rng.choice([f"{nm}[{i}, {j}]", f"{nm}[{i}][{j}]"]), view=False)
        if S == () and T == () and v.zd:
            add(0.3, f"{nm}[...]", zd=True)
        if len(S) == 1 and len(T) >= 1 and len(T) <= 2:
            for code, sl in SLICES:
                if sliced(T[0], sl) == S[0] and len(T) == 1 and code != ":":
                    add(0.5, f"{nm}[{code}]")
                if len(T) == 2 and T[1] == S[0] and T[0] != ONE and code == ":":
                    pass
        if len(S) == 2 and len(T) == 2:
            for code, sl in SLICES[:5]:
                if sliced(T[0], sl) == S[0] and T[1] == S[1] and code != ":":
                    add(0.3, f"{nm}[{code}]")
                if sliced(T[1], sl) == S[1] and T[0] == S[0] and code != ":":
                    add(0.3, f"{nm}[:, {code}]")
        # gathers with integer arrays (repeated indices accumulate)
        if len(S) >= 1 and S[0] in (lit(2), lit(3)) and len(T) == len(S) and T[1:] == S[1:] and T[0] != ONE:
            k = S[0][0]
            idx = [rng.randrange(min(T[0])) for _ in range(k)]
            code = f"[{', '.join(map(str, idx))}]" if self.chance(0.5) else f"np.array({idx})"
            add(0.6, f"{nm}[{code}]", view=False)

    def leaf(self, shape):
        opts = self.leaves(shape)
        return self.pick(opts) if opts else None

    def constructible(self, shape, _seen=None):
        if shape == () and (self.vals() or self.consts):
            return True
        if self.leaves(shape):
            return True
        return any(self.leaves(a) and self.leaves(b) for a, b in self.split(shape))

    def split(self, S):
        """Pairs of shapes that broadcast to S (not both S)."""
        if len(S) == 1:
            return [(S, ()), ((), S)]
        if len(S) == 2:
            a, b = S
            pairs = [(S, (b,)), (S, (ONE, b)), (S, (a, ONE)), (S, ())]
            if a != ONE and b != ONE:
                pairs += [((a, ONE), (ONE, b)), ((a, ONE), (b,)), ((ONE, b), (a, ONE))]
            return pairs + [(y, x) for x, y in pairs]
        return []

    # --------------------------------------------------------- expressions
    def expr(self, shape, depth):
        """An expression of symbolic shape ``shape``, |value| <= CAP."""
        if depth > 0 and not self.chance(0.2):
            for _ in range(4):
                prod = self.pick([(3, self.unary), (4, self.binop), (1.2, self.reduce), (1.0, self.matmul),
                                  (0.7, self.piecewise), (0.4, self.transpose), (0.6, self.pyscalar)])
                v = prod(shape, depth - 1)
                if v is not None:
                    return self.squash(v)
        v = self.leaf(shape)
        if v is not None:
            return v
        if shape == ():
            vs = self.vals()
            if not vs:
                code, m = self.rng.choice(self.consts)
                return Val(code, (), m, py=True)
            u = self.rng.choice(vs)
            fn = self.rng.choice(["np.sum", "np.mean"])
            return self.squash(Val(f"{fn}({u.name})", (), u.mag * (size(u.shape) if fn == "np.sum" else 1),
                                   dep=u.group.dep, atom=True))
        for a, b in self.rng.sample(self.split(shape), len(self.split(shape))):
            x, y = self.leaf(a), self.leaf(b)
            if x is not None and y is not None:
                return self.squash(self._arith(x, y, shape))
        raise LookupError(f"no expression of shape {shape}")

    def operand(self, shape, depth):
        return self.expr(shape, depth) if self.constructible(shape) else None

    def pos(self, shape, depth):
        """A positive expression (lo >= 0.3)."""
        opts = [w_v for w_v in self.leaves(shape) if w_v[1].lo is not None and w_v[1].lo >= 0.3]
        if opts and self.chance(0.4):
            return self.pick(opts)
        e = self.expr(shape, depth)
        py = e.py
        M = "math" if py else "np"
        form = self.rng.randrange(5)
        if form == 0:
            return Val(f"1.5 + {M}.sin({e.code})", shape, 2.5, lo=0.5, py=py, atom=False, dep=e.dep)
        if form == 1:
            return Val(f"2.0 + {M}.cos({e.code})", shape, 3.0, lo=1.0, py=py, atom=False, dep=e.dep)
        if form == 2 and e.mag <= 2:
            return Val(f"1.0 + {e.p()} * {e.p()}", shape, 1 + e.mag ** 2, lo=1.0, py=py, atom=False, dep=e.dep)
        if form == 3:
            return Val(f"{M}.exp(0.5 * {M}.tanh({e.code}))", shape, 1.65, lo=0.6, py=py, dep=e.dep)
        return Val(f"{M}.sqrt({e.p()} ** 2 + 0.5)", shape, math.sqrt(e.mag ** 2 + 0.5), lo=0.7, py=py, dep=e.dep)

    def unary(self, shape, depth):
        if not self.constructible(shape):
            return None
        r = self.rng.randrange(16)
        if r <= 3:
            e = self.expr(shape, depth)
            M = "math" if e.py and self.chance(0.7) else "np"
            fn = ["sin", "cos", "tanh", "arctan" if M == "np" else "atan"][r]
            return Val(f"{M}.{fn}({e.code})", shape, 1.0 if r < 3 else 1.6, py=M == "math", dep=e.dep)
        if r == 4:
            e = self.expr(shape, depth)
            if e.mag > 2.5:
                e = self.squash(e, 1.0)
            M = "math" if e.py else "np"
            return Val(f"{M}.exp({e.code})", shape, math.exp(e.mag), lo=math.exp(-e.mag), py=e.py, dep=e.dep)
        if r in (5, 6):
            e = self.pos(shape, depth)
            M = "math" if e.py else "np"
            if r == 5:
                return Val(f"{M}.log({e.code})", shape, max(abs(math.log(e.lo)), math.log(max(e.mag, 1))) + 0.01,
                           py=e.py, dep=e.dep)
            return Val(f"{M}.sqrt({e.code})", shape, math.sqrt(e.mag), lo=math.sqrt(e.lo), py=e.py, dep=e.dep)
        if r == 7:
            e = self.pos(shape, depth)
            ex, val = self.rng.choice([("-1", -1), ("-1.5", -1.5), ("0.5", 0.5), ("(-2)", -2), ("1.5", 1.5)])
            m = max(e.lo ** val, e.mag ** val)
            return Val(f"{e.p()} ** {ex}", shape, m, lo=min(e.lo ** val, e.mag ** val), py=e.py, atom=False,
                       dep=e.dep)
        if r == 8:
            e = self.expr(shape, depth)
            fn = "abs" if e.py or self.chance(0.3) else self.rng.choice(["np.abs", "np.absolute", "np.fabs"])
            return Val(f"{fn}({e.code})", shape, e.mag, py=e.py, dep=e.dep)
        if r == 9:
            e = self.expr(shape, depth)
            if e.mag > 2.5:
                e = self.squash(e, 1.0)
            k = self.rng.choice([2, 3, 2.0])
            code = self.rng.choice([f"{e.p()} ** {k}", f"np.square({e.code})" if k == 2 and not e.py else f"{e.p()} ** {k}"])
            return Val(code, shape, e.mag ** k, py=e.py, atom=code.startswith("np.square"), dep=e.dep)
        if r == 10:
            e = self.expr(shape, depth)
            return Val(f"-{e.p()}", shape, e.mag, py=e.py, atom=False, dep=e.dep)
        if r == 11:
            e = self.expr(shape, depth)
            c, cv = self.coeff()
            code = f"{c} * {e.p()}" if self.chance(0.6) else f"{e.p()} * {c}"
            return Val(code, shape, abs(cv) * e.mag, py=e.py, atom=False, dep=e.dep)
        if r == 12:
            e = self.expr(shape, depth)
            if e.mag > 2.5:
                e = self.squash(e, 1.0)
            b = self.rng.choice(["2.0", "1.5", "0.5"])
            m = max(float(b) ** e.mag, float(b) ** -e.mag)
            return Val(f"{b} ** {e.p()}", shape, m, lo=1 / m, py=e.py, atom=False, dep=e.dep)
        if r == 13 and not shape:
            e = self.pos(shape, depth)
            fn = self.rng.choice(["np.log1p", "np.cbrt", "np.reciprocal"] if not e.py else ["math.log1p", "math.log2"])
            m = {"np.log1p": math.log1p(e.mag), "np.cbrt": e.mag ** (1 / 3), "np.reciprocal": 1 / e.lo,
                 "math.log1p": math.log1p(e.mag), "math.log2": max(abs(math.log2(e.lo)), math.log2(max(1, e.mag)))}
            return Val(f"{fn}({e.code})", shape, m[fn] + 0.01, py=e.py, dep=e.dep)
        if r == 14:
            e = self.expr(shape, depth)
            if e.mag > 2:
                e = self.squash(e, 1.0)
            fn = "math" if e.py else "np"
            return Val(f"{fn}.sinh({e.code})", shape, math.sinh(e.mag), py=e.py, dep=e.dep)
        e = self.expr(shape, depth)
        return Val(f"np.clip({e.code}, -0.8, 0.9)" if not e.py else f"min(max({e.code}, -0.8), 0.9)",
                   shape, min(e.mag, 0.9), py=e.py, dep=e.dep)

    def _arith(self, x, y, shape, op=None):
        op = op or self.rng.choice(["+", "-", "*", "*", "/"])
        py = x.py and y.py
        if op == "/":
            y = self.pos(y.shape, 0) if y.lo is None else y
            return Val(f"{x.p()} / {y.p()}", shape, x.mag / y.lo, py=py, atom=False, dep=x.dep or y.dep)
        if op == "*":
            lo = x.lo * y.lo if x.lo and y.lo else None
            if x.mag * y.mag > CAP:
                x = self.squash(x, 1.0)
            return Val(f"{x.p()} * {y.p()}", shape, x.mag * y.mag, lo=lo, py=py, atom=False, dep=x.dep or y.dep)
        lo = x.lo + y.lo if op == "+" and x.lo and y.lo else None
        return Val(f"{x.p()} {op} {y.p()}", shape, x.mag + y.mag, lo=lo, py=py, atom=False, dep=x.dep or y.dep)

    def binop(self, shape, depth):
        pairs = [(shape, shape)] * 3 + self.split(shape)
        a, b = self.rng.choice(pairs)
        if not (self.constructible(a) and self.constructible(b)):
            return None
        x, y = self.expr(a, depth), self.expr(b, depth // 2)
        if self.chance(0.5):
            x, y = y, x
        if x.shape != shape and y.shape != shape:
            if bshape(x.shape, y.shape) != shape:
                return None
        return self._arith(x, y, shape)

    def piecewise(self, shape, depth):
        pairs = [(shape, shape)] * 2 + self.split(shape)
        a, b = self.rng.choice(pairs)
        if not (self.constructible(a) and self.constructible(b)):
            return None
        x, y = self.expr(a, depth), self.expr(b, depth // 2)
        if bshape(x.shape, y.shape) != shape:
            return None
        r = self.rng.randrange(4)
        if x.py and y.py:
            fn = self.rng.choice(["max", "min"])
            return Val(f"{fn}({x.code}, {y.code})", shape, max(x.mag, y.mag), py=True, dep=x.dep or y.dep)
        if r <= 1:
            fn = self.rng.choice(["np.maximum", "np.minimum", "np.fmax", "np.fmin"])
            return Val(f"{fn}({x.code}, {y.code})", shape, max(x.mag, y.mag), dep=x.dep or y.dep)
        if r == 2:
            c = self.expr(self.rng.choice([a, b]), depth // 2)
            t = self.rng.choice(["0.1", "-0.2", "0.0", "0.3"])
            cmp = self.rng.choice([">", "<", ">=", "<="])
            return Val(f"np.where({c.p()} {cmp} {t}, {x.code}, {y.code})", shape, max(x.mag, y.mag),
                       dep=x.dep or y.dep)
        lo, hi = self.rng.choice([("-0.5", "0.5"), ("0.0", "1.0"), ("-1.0", "0.2")])
        code = f"np.clip({x.code}, {lo}, {hi})" if self.chance(0.6) or not x.atom or x.shape == () else f"{x.code}.clip({lo}, {hi})"
        if x.shape != shape:
            return None
        return Val(code, shape, 1.0, dep=x.dep)

    def reduce(self, shape, depth):
        rng = self.rng
        fn = rng.choice(["sum", "sum", "mean", "max", "min", "prod", "var"])
        if len(shape) >= 2:
            return None
        if shape == ():
            arrs = [v for v in self.vals() if v.shape != ()]
            if arrs and rng.random() < 0.15:
                # a boolean mask built from a comparison selects the elements
                v = rng.choice(arrs)
                m = self.expr(v.shape, depth)
                cmp = rng.choice([">", "<"])
                fn = rng.choice(["np.sum", "sum"]) if len(v.shape) == 1 else "np.sum"
                return Val(f"{fn}({v.name}[{m.p()} {cmp} {rng.choice(['0.0', '0.2', '-0.3'])}])", (),
                           v.mag * size(v.shape), dep=v.group.dep)
            opts = [s for s in self.shapes() if s != ()]
            if not opts:
                return None
            src = rng.choice(opts)
            axis = None
        else:
            dims = self.dims()
            if not dims:
                return None
            axis = rng.randrange(2)
            src = shape[:axis] + (rng.choice(dims),) + shape[axis:]
        if not self.constructible(src):
            return None
        e = self.expr(src, depth)
        n = size(src) // max(size(shape), 1)
        if fn == "prod" and e.mag > 1.2:
            e = self.squash(e, 1.0)
        mag = {"sum": n * e.mag, "mean": e.mag, "max": e.mag, "min": e.mag, "prod": e.mag ** n,
               "var": e.mag ** 2}[fn]
        args = "" if axis is None else f", axis={axis if rng.random() < 0.7 else axis - len(src)}"
        if axis is not None and rng.random() < 0.25:
            # keepdims=True, then drop the axis again by indexing
            sel = "[0]" if axis == 0 else "[:, 0]"
            code = f"np.{fn}({e.code}{args}, keepdims=True){sel}"
            return Val(code, shape, mag, dep=e.dep)
        if e.atom and rng.random() < 0.3 and fn != "var":
            return Val(f"{e.code}.{fn}({args[2:]})", shape, mag, dep=e.dep)
        return Val(f"np.{fn}({e.code}{args})", shape, mag, dep=e.dep)

    def shapes(self):
        out = {()}
        for v in self.vals():
            out.add(v.shape)
        return sorted(out, key=lambda s: (len(s), s))

    def matmul(self, shape, depth):
        dims = self.dims()
        if not dims or len(shape) > 2:
            return None
        k = self.rng.choice(dims)
        rng = self.rng
        if shape == ():
            a, b, forms = (k,), (k,), ["{a} @ {b}", "np.dot({a}, {b})", "np.einsum('i,i->', {a}, {b})",
                                         "np.inner({a}, {b})"]
        elif len(shape) == 1 and rng.random() < 0.5:
            a, b, forms = (shape[0], k), (k,), ["{a} @ {b}", "np.dot({a}, {b})", "np.einsum('ij,j->i', {a}, {b})",
                                                "np.matmul({a}, {b})"]
        elif len(shape) == 1:
            a, b, forms = (k,), (k, shape[0]), ["{a} @ {b}", "np.einsum('j,ji->i', {a}, {b})"]
        elif rng.random() < 0.2 and ONE not in shape:
            a, b, forms = (shape[0],), (shape[1],), ["np.outer({a}, {b})", "np.einsum('i,j->ij', {a}, {b})"]
        else:
            a, b, forms = (shape[0], k), (k, shape[1]), ["{a} @ {b}", "np.dot({a}, {b})",
                                                         "np.einsum('ij,jk->ik', {a}, {b})"]
        if not (self.constructible(a) and self.constructible(b)):
            return None
        x, y = self.expr(a, depth), self.expr(b, depth // 2)
        kk = max(k) if len(a) + len(b) > 2 or shape == () else 1
        code = rng.choice(forms).format(a=x.p() if "@" in forms[0] else x.code, b=y.p())
        return Val(code, shape, kk * x.mag * y.mag, atom="@" not in code, dep=x.dep or y.dep)

    def transpose(self, shape, depth):
        if len(shape) != 2 or shape[0] == shape[1]:
            return None
        t = (shape[1], shape[0])
        if not self.constructible(t):
            return None
        e = self.expr(t, depth)
        code = f"{e.p()}.T" if self.chance(0.6) else f"np.transpose({e.code})"
        return Val(code, shape, e.mag, dep=e.dep)

    def pyscalar(self, shape, depth):
        """Python float code: the math module, builtins, float()."""
        if shape != ():
            return None
        e = self.expr((), depth)
        r = self.rng.randrange(6)
        if r == 0:
            return Val(f"float({e.code})", (), e.mag, lo=e.lo, py=True, dep=e.dep)
        if r == 1:
            return Val(f"math.tanh({e.code})", (), 1.0, py=True, dep=e.dep)
        if r == 2:
            return Val(f"math.hypot({e.code}, 0.5)", (), e.mag + 0.5, lo=0.5, py=True, dep=e.dep)
        if r == 3:
            p = self.pos((), depth)
            return Val(f"math.pow({p.code}, 1.5)", (), p.mag ** 1.5, lo=p.lo ** 1.5, py=True, dep=p.dep)
        if r == 4:
            return Val(f"math.erf({e.code})", (), 1.0, py=True, dep=e.dep)
        return Val(f"math.atan2({e.code}, 1.5)", (), 1.6, py=True, dep=e.dep)
