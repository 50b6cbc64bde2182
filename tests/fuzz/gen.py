"""Random well-typed NumPy programs: ``generate(seed) -> Program``.

A program is a module with ``f(...)`` returning a scalar, and possibly helper
functions and module globals.  Statements cover assignments and rebinding,
views and aliases followed by writes through one name and reads through the
other, element/slice/mask/gather writes, augmented assignment (in place on
arrays), ``if``/``for``/``while`` with ``break``/``continue``, loops over
ranges, arrays, ``zip`` and ``enumerate``, checkpointed loops, lists, tuples
and dicts, helpers with default and keyword arguments, nested defs, lambdas
and closures, Python float and ``math`` code, and a module global the check
changes between calls.

Types and bounds are tracked symbolically (``gen_expr``); loops keep every
loop-carried value under an invariant bound (contracting or bounded
additive updates).  ``generate`` runs each candidate as plain Python and
regenerates until the value is finite, so every program it returns runs.
"""

from __future__ import annotations

import random

from .gen_expr import ONE, ExprGen, Group, Val, Var, lit
from .gen_loops import LoopGen
from .checks import FuzzTimeout, alarm
from .program import Program, make_args, plain_value

NAMES = ["a", "b", "c", "h", "u", "v", "w", "z", "p", "q", "r", "acc", "tmp", "y2"]


class Gen(LoopGen):
    def __init__(self, rng, mod, env, depth=0):
        self.rng = rng
        self.mod = mod              # module-level state (helpers, globals, counters)
        self.env = env
        self.x = ExprGen(rng, env, mod["consts"])
        self.lines = []
        self.ind = 1
        self.loops = []             # enclosing loop contexts (innermost last)
        self.depth = depth          # 0: f itself; >0: a helper or nested def
        self.outer = set()          # names a nested def must not assign

    # ------------------------------------------------------------- basics
    def emit(self, text):
        self.lines.append("    " * self.ind + text)

    def chance(self, p):
        return self.rng.random() < p

    def set_env(self, env):
        self.env = env
        self.x.env = env

    def groups(self):
        gs = {}
        for v in self.env.values():
            if v.group is not None:
                gs[id(v.group)] = v.group
            for _, it in v.items:
                gs[id(it.group)] = it.group
        return gs

    def fresh(self, prefix=None):
        taken = set(self.env) | self.outer | self.mod["reserved"]
        if prefix is None:
            free = [n for n in NAMES if n not in taken]
            if free and self.chance(0.8):
                return self.rng.choice(free)
            prefix = "t"
        k = 1
        while f"{prefix}{k}" in taken:
            k += 1
        return f"{prefix}{k}"

    def target_name(self, shape):
        """A name to assign: a fresh one, or (outside loops) one to rebind."""
        if not self.loops and self.chance(0.3):
            olds = [v.name for v in self.env.values() if not v.frozen and v.kind == "val"
                    and v.name not in self.outer]
            if olds:
                return self.rng.choice(olds)
        return self.fresh()

    def bind(self, name, val, kind="val"):
        g = val.group or Group(val.mag, val.lo, dep=val.dep)
        self.env[name] = Var(name, kind, val.shape, g, py=val.py, zd=val.zd)
        if self.loops:
            lp = self.loops[-1]
            lp["owned"].add(id(g))
            if self.ind == lp["body_ind"] and not lp["jumped"]:
                lp["kept"].add(name)
        return self.env[name]

    def shape(self):
        shapes = self.x.shapes()
        dims = self.x.dims()
        extra = []
        for d in dims:
            extra += [(d,), (d, ONE), (ONE, d)]
        if len(dims) >= 2:
            a, b = self.rng.sample(dims, 2)
            extra.append((a, b))
        opts = [s for s in shapes + extra if self.x.constructible(s)]
        return self.rng.choice(opts)

    def depth_e(self):
        return self.rng.choice([1, 2, 2, 3])

    def writable(self, v):
        """Can statements here write into ``v``'s buffer?"""
        if not v.array:
            return False
        if self.loops:
            return id(v.group) in self.loops[-1]["owned"]
        return not v.group.input or self.mod["mutate_inputs"]

    def bounded(self, shape, cap):
        """``c * tanh(e)`` with |c| <= cap: keeps loop invariants."""
        e = self.x.expr(shape, self.depth_e())
        c = round(min(cap, self.rng.choice([0.1, 0.2, 0.5, 1.0])), 2)
        M = "math" if e.py else "np"
        fn = self.rng.choice(["tanh", "sin"])
        return Val(f"{c} * {M}.{fn}({e.code})", shape, c, py=e.py, atom=False, dep=e.dep)

    # --------------------------------------------------------- statements
    def block(self, budget):
        while budget > 0:
            budget -= self.stmt()

    def stmt(self):
        if self.loops:
            lp = self.loops[-1]
            kinds = [(3, self.s_assign), (3, self.s_update), (1, self.s_write), (0.7, self.s_if),
                     (0.6, self.s_jump), (0.8, self.s_append), (0.25 if len(self.loops) < 2 else 0, self.s_for)]
            if lp["kind"] == "ckpt":
                kinds = [k for k in kinds if k[1] != self.s_for]
        else:
            kinds = [(4, self.s_assign), (1.5, self.s_view), (1.5, self.s_write), (1.2, self.s_augassign),
                     (1.0, self.s_if), (1.5, self.s_for), (0.5, self.s_while), (0.3, self.s_ckpt),
                     (1.0, self.s_container), (0.4, self.s_tuple_result),
                     (0.8 if self.depth < 1 else 0, self.s_helper),
                     (0.7 if self.depth < 1 else 0, self.s_nested), (0.6, self.s_scalar)]
        for _ in range(5):
            n = self.x.pick(kinds)()
            if n:
                return n
        return 1

    def aliases(self, v):
        """How many names (and container items) share ``v``'s buffer."""
        return sum(1 for w in self.env.values() if w.group is v.group) + \
            sum(1 for w in self.env.values() for _, it in w.items if it.group is v.group)

    def pick_target(self, vs):
        """A variable to write into, preferring ones without aliases (a
        write through an alias is refused by s2sad, which is legitimate but
        tells less)."""
        return self.x.pick([(1.0 if self.aliases(v) <= 1 else 0.2, v) for v in vs])

    def s_assign(self):
        S = self.shape()
        e = self.x.expr(S, self.depth_e())
        for _ in range(2):
            if e.group is None or not self.chance(0.6):
                break
            e = self.x.expr(S, self.depth_e())
        name = self.target_name(S)
        if self.chance(0.1) and S != ():
            c = self.x.expr((), 1)
            e2 = self.x.expr(S, 1)
            t = self.rng.choice(["0.0", "0.2", "-0.1"])
            self.emit(f"{name} = {e.code} if {c.p()} > {t} else {e2.code}")
            e = Val("", S, max(e.mag, e2.mag), dep=e.dep or e2.dep)
        else:
            self.emit(f"{name} = {e.code}")
        self.bind(name, Val(e.code, S, e.mag, lo=e.lo, py=e.py, dep=e.dep, zd=e.zd, group=e.group))
        return 1

    def s_scalar(self):
        names = [v for v in self.env.values() if v.kind == "val" and v.shape == ()]
        e = self.x.pyscalar((), 2) if not names or self.chance(0.5) else None
        if e is None:
            e = self.x.unary((), 2) or self.x.expr((), 2)
        e = self.x.squash(e)
        name = self.fresh()
        self.emit(f"{name} = {e.code}")
        self.bind(name, Val(e.code, (), e.mag, lo=e.lo, py=e.py, dep=e.dep))
        return 1

    def s_view(self):
        arrs = [v for v in self.env.values() if v.array and v.kind == "val"]
        if not arrs:
            return 0
        a = self.rng.choice(arrs)
        T = a.shape
        opts = [("{a}", T), ("{a}[:]", T), ("{a}[...]", T), ("np.asarray({a})", T),
                ("{a}.copy()", T), ("np.copy({a})", T), ("np.array({a})", T)]
        if len(T) == 2:
            opts += [("{a}.T", (T[1], T[0])), ("{a}.ravel()", (tuple(x * y for x, y in zip(*T)),)),
                     ("{a}.reshape(-1)", (tuple(x * y for x, y in zip(*T)),)),
                     ("{a}.reshape({a}.shape[1], {a}.shape[0])", (T[1], T[0])), ("{a}[0]", T[1:])]
        if len(T) == 1:
            opts += [("{a}.reshape(-1, 1)", (T[0], ONE)), ("{a}[None, :]", (ONE, T[0])), ("{a}[1:]", None)]
        code, S = self.rng.choice(opts)
        if S is None:
            d = tuple(k - 1 for k in T[0])
            if min(d) < 1:
                return 0
            S = (d,)
        code = code.format(a=a.name)
        name = self.fresh()
        copy = "copy" in code or code.startswith("np.array(")
        g = Group(a.mag, a.group.lo, dep=a.group.dep) if copy else a.group
        self.emit(f"{name} = {code}")
        self.env[name] = Var(name, "val", S, g, zd=a.zd)
        if copy and self.loops:
            self.loops[-1]["owned"].add(id(g))
        return 1

    def _index_for(self, v):
        """An index expression into axis 0 of ``v`` and the shape it selects."""
        T = v.shape
        rest = T[1:]
        ints = [w for w in self.env.values() if w.kind == "int" and all(h <= d for h, d in zip(w.hi, T[0]))]
        r = self.rng.randrange(7)
        if ints and r == 0:
            return self.rng.choice(ints).name, rest
        if r <= 1:
            return str(self.rng.randrange(-1, min(T[0]))), rest
        if r == 2 and min(T[0]) >= 3:
            return self.rng.choice(["1:3", ":2"]), (lit(2),) + rest
        if r == 3:
            return self.rng.choice([":", "..."]), T
        if r == 4 and min(T[0]) >= 2:
            idx = self.rng.sample(range(min(T[0])), 2)
            return f"[{idx[0]}, {idx[1]}]", (lit(2),) + rest
        if r == 5 and len(T) == 2:
            return f":, {self.rng.randrange(min(T[1]))}", (T[0],)
        return None, None

    def s_write(self):
        arrs = [v for v in self.env.values() if v.kind == "val" and self.writable(v)]
        if not arrs:
            return 0
        a = self.pick_target(arrs)
        if self.chance(0.2):
            # a boolean mask built from a comparison
            m = self.x.expr(a.shape, 1)
            t = self.rng.choice(["0.0", "0.3", "-0.2"])
            e = self.bounded((), max(a.mag, 0.1)) if self.loops else self.x.expr((), 1)
            self.emit(f"{a.name}[{m.p()} > {t}] = {e.code}")
        else:
            idx, S = self._index_for(a)
            if idx is None:
                return 0
            sub = self.rng.choice([S, ()] + ([S[1:]] if len(S) == 2 else []))
            if not self.x.constructible(sub):
                sub = ()
            aug = self.chance(0.2) and not self.loops
            e = self.bounded(sub, max(a.mag, 0.1)) if self.loops else self.x.expr(sub, self.depth_e())
            self.emit(f"{a.name}[{idx}] {'+=' if aug else '='} {e.code}")
            if aug:
                e = Val(e.code, sub, e.mag + a.mag)
        g = a.group
        g.mag = max(g.mag, e.mag)
        g.lo = min(g.lo, e.lo) if g.lo and e.lo else None
        g.dep = g.dep or e.dep
        return 1

    def s_augassign(self):
        vs = [v for v in self.env.values() if v.kind == "val" and not v.frozen
              and (not v.array or self.writable(v)) and not (v.zd and v.group.input)]
        if not vs:
            return 0
        a = self.pick_target(vs)
        sub = self.rng.choice([a.shape, ()] + ([a.shape[1:]] if len(a.shape) == 2 else []))
        op = self.rng.choice(["+=", "-=", "*=", "/="])
        if op == "/=":
            e = self.x.pos(sub, 1)
            m = a.mag / e.lo
        elif op == "*=":
            e = self.x.squash(self.x.expr(sub, 1), 1.2)
            m = a.mag * e.mag
        else:
            e = self.x.expr(sub, self.depth_e())
            m = a.mag + e.mag
        if e.py and not a.py and a.shape == ():
            pass
        self.emit(f"{a.name} {op} {e.code}")
        inplace = a.array or a.zd
        if inplace:
            g = a.group
            g.mag, g.lo, g.dep = m, None, g.dep or e.dep
        else:
            self.env[a.name] = Var(a.name, "val", a.shape, Group(m, dep=a.group.dep or e.dep),
                                   py=a.py and e.py)
        return 1

    # -------------------------------------------------------------- if
    def cond(self):
        ints = [v for v in self.env.values() if v.kind == "int"]
        r = self.rng.randrange(5)
        if ints and r == 0:
            i = self.rng.choice(ints).name
            return self.rng.choice([f"{i} % 2 == 0", f"{i} == 1", f"{i} > 0", f"{i} != 2"])
        if "G_SCALE" in self.mod["globals"] and r == 1 and "if G_SCALE" not in "".join(self.lines[-8:]):
            return "G_SCALE > 1.0"
        e = self.x.expr((), 1)
        cmp = self.rng.choice([">", "<", ">=", "<="])
        c = f"{e.p()} {cmp} {self.rng.choice(['0.0', '0.1', '-0.3', '0.5'])}"
        if r == 2:
            e2 = self.x.expr((), 1)
            c = f"{c} {self.rng.choice(['and', 'or'])} {e2.p()} > 0.0"
        if r == 3:
            c = f"not ({c})"
        return c

    def snapshot(self):
        return {k: (g, g.mag, g.lo, g.dep) for k, g in self.groups().items()}

    def s_if(self):
        before = self.snapshot()
        env0 = dict(self.env)
        self.emit(f"if {self.cond()}:")
        self.ind += 1
        self.set_env(dict(env0))
        self.block(self.rng.randint(1, 3))
        env1, after1 = self.env, {k: (g.mag, g.lo) for k, (g, *_r) in before.items()}
        self.ind -= 1
        env2 = dict(env0)
        for k, (g, m, lo, dep) in before.items():
            g.mag, g.lo = m, lo
        if self.chance(0.6):
            self.emit("else:")
            self.ind += 1
            self.set_env(dict(env0))
            self.block(self.rng.randint(1, 3))
            env2 = self.env
            self.ind -= 1
        for k, (g, *_r) in before.items():
            m1, lo1 = after1[k]
            g.mag = max(g.mag, m1)
            g.lo = min(g.lo, lo1) if g.lo and lo1 else None
        merged = {}
        for name in env1.keys() & env2.keys():
            v1, v2 = env1[name], env2[name]
            if v1 is v2:
                merged[name] = v1
            elif v1.kind == v2.kind == "val" and v1.shape == v2.shape:
                g = Group(max(v1.mag, v2.mag), min(v1.group.lo, v2.group.lo) if v1.group.lo and v2.group.lo else None,
                          input=v1.group.input or v2.group.input, dep=v1.group.dep or v2.group.dep)
                for other in list(merged.values()) + list(env1.values()) + list(env2.values()):
                    if other.group in (v1.group, v2.group):
                        other.group = g
                merged[name] = Var(name, "val", v1.shape, g, py=v1.py and v2.py, zd=v1.zd or v2.zd,
                                   frozen=v1.frozen or v2.frozen)
                if self.loops:
                    self.loops[-1]["owned"].add(id(g))
        self.set_env({k: merged[k] for k in list(env0) + list(env1) if k in merged})
        return 2

    def s_container(self):
        S = self.shape()
        r = self.rng.randrange(4)
        es = [self.x.expr(S, self.depth_e()) for _ in range(self.rng.randint(2, 3))]
        name = self.fresh()
        if r == 0:
            self.emit(f"{name} = [{', '.join(e.code for e in es)}]")
            items = [(f"[{i}]", Var("", "val", S, Group(e.mag, e.lo, dep=e.dep))) for i, e in enumerate(es)]
            self.env[name] = Var(name, "list", items=items + [("[-1]", items[-1][1])])
            self.env[name].count = lit(len(es))
            if self.chance(0.5):
                self.readout_list(self.env[name])
            return 1
        if r == 1:
            self.emit(f"{name} = ({', '.join(e.code for e in es)},)")
            items = [(f"[{i}]", Var("", "val", S, Group(e.mag, e.lo, dep=e.dep))) for i, e in enumerate(es)]
            self.env[name] = Var(name, "tuple", items=items)
            self.env[name].count = lit(len(es))
            if self.chance(0.6):
                targets = []
                for _ in es:
                    targets.append(self.fresh("e"))
                    self.env[targets[-1]] = Var(targets[-1], "val")
                self.emit(f"{', '.join(targets)} = {name}")
                for t, e in zip(targets, es):
                    self.env[t] = Var(t, "val", S, Group(e.mag, e.lo, dep=e.dep), py=e.py)
            return 1
        if r == 2:
            keys = ["w", "b", "s"][:len(es)]
            self.emit(f"{name} = {{{', '.join(f'{k!r}: {e.code}' for k, e in zip(keys, es))}}}")
            items = [(f"[{k!r}]", Var("", "val", S, Group(e.mag, e.lo, dep=e.dep))) for k, e in zip(keys, es)]
            self.env[name] = Var(name, "dict", items=items)
            if self.chance(0.5):
                e = self.x.expr(S, 1)
                self.emit(f"{name}['b'] = {e.code}")
                items[1] = ("['b']", Var("", "val", S, Group(e.mag, dep=e.dep)))
            return 1
        # tuple assignment / swap
        names = [self.fresh("e"), None]
        self.env[names[0]] = Var(names[0])
        names[1] = self.fresh("e")
        del self.env[names[0]]
        self.emit(f"{names[0]}, {names[1]} = {es[0].code}, {es[1].code}")
        for n, e in zip(names, es):
            self.bind(n, Val(e.code, S, e.mag, lo=e.lo, py=e.py, dep=e.dep, group=e.group))
        if self.chance(0.5):
            self.emit(f"{names[0]}, {names[1]} = {names[1]}, {names[0]}")
        return 1

    def two_targets(self):
        """Two names for an unpacking; now and then the same name twice
        (Python binds left to right: the second stays)."""
        a = self.fresh("e")
        if self.chance(0.15):
            return a, a
        self.env[a] = Var(a)            # reserved, so the next name differs
        b = self.fresh("e")
        del self.env[a]
        return a, b

    def s_tuple_result(self):
        """A call that returns a list or a tuple, kept in one name and read
        by index, unpacked, or both (np.array_split, np.linalg.slogdet)."""
        dims = [d for d in self.x.dims() if self.x.constructible((d,))]
        if not dims:
            return 0
        d = self.rng.choice(dims)
        name, out = self.fresh(), self.fresh()
        if self.chance(0.6):
            S = self.shape()
            if S == ():
                S = (d,)
            e = self.x.expr(S, self.depth_e())
            self.emit(f"{name} = np.array_split({e.code}, 2, axis={self.rng.randrange(len(S))})")
            reads = [f"np.sum({name}[0] ** 2)", f"np.sum(np.sin({name}[-1]))", f"np.sum({name}[1] * {name}[1])"]
            if self.chance(0.5):
                a, b = self.two_targets()
                self.emit(f"{a}, {b} = {name}")
                reads.append(f"np.sum({a} * {b}[:1])" if len(S) == 1 else f"np.sum({a}) * np.sum({b})")
            picked = self.rng.sample(reads, self.rng.randint(2, len(reads)))
            self.emit(f"{out} = np.tanh(0.1 * ({' + '.join(picked)}))")
            dep = e.dep
        else:
            e = self.x.expr((d,), self.depth_e())
            m = self.fresh()
            self.emit(f"{m} = 2.0 * np.eye(len({e.code})) + np.outer(np.tanh({e.code}), np.sin({e.code}))"
                      if self.chance(0.5) else
                      f"{m} = 2.0 * np.eye(len({e.code})) + np.outer(np.tanh({e.code}), np.tanh({e.code}))")
            self.emit(f"{name} = np.linalg.slogdet({m})")
            if self.chance(0.5):
                sg, ld = self.two_targets()
                self.emit(f"{sg}, {ld} = {name}")
                self.emit(f"{out} = np.tanh({ld} * {name}[0] + 0.1 * {name}[1] * {sg})")
            else:
                self.emit(f"{out} = np.tanh({name}[1] + 0.1 * {name}[1] * {name}[0])")
            dep = e.dep
        self.bind(out, Val(out, (), 1.0, dep=dep))
        return 1

    # ---------------------------------------------------------- functions
    def s_helper(self):
        """Call a module-level helper (written on first use)."""
        S = self.shape()
        S2 = self.rng.choice([S, ()])
        a, b = self.x.expr(S, 1), self.x.expr(S2, 1)
        ma, mb = max(a.mag, 1.0), max(b.mag, 1.0)
        k = len(self.mod["helpers"]) + 1
        hname = f"helper{k}"
        self.mod["reserved"].add(hname)
        c_default = self.rng.choice(["0.5", "1.0", "-0.3"])
        env = {"a": Var("a", "val", S, Group(ma, input=True, dep=True), frozen=True),
               "b": Var("b", "val", S2, Group(mb, input=True, dep=True), frozen=True),
               "c": Var("c", "val", (), Group(1.0, dep=True), py=True, frozen=True)}
        sub = Gen(self.rng, self.mod, env, depth=self.depth + 1)
        sub.ind = 1
        sub.block(self.rng.randint(1, 3))
        R = sub.shape()
        two = self.chance(0.25)
        r1 = sub.x.expr(R, 2)
        r2 = sub.x.expr((), 1) if two else None
        sub.emit(f"return {r1.code}" + (f", {r2.code}" if two else ""))
        self.mod["helpers"].append(f"def {hname}(a, b, c={c_default}):\n" + "\n".join(sub.lines) + "\n")
        for call in range(self.rng.randint(1, 2)):
            if call:
                a, b = self.x.squash(self.x.expr(S, 1), ma), self.x.squash(self.x.expr(S2, 1), mb)
            form = self.rng.randrange(4)
            cval = self.x.squash(self.x.expr((), 1), 1.0)
            args = [f"{hname}({a.code}, {b.code})", f"{hname}({a.code}, {b.code}, c={cval.code})",
                    f"{hname}({a.code}, b={b.code})", f"{hname}(b={b.code}, a={a.code}, c=0.25)"][form]
            if two:
                n1, n2 = self.fresh(), None
                self.env[n1] = Var(n1)
                n2 = self.fresh()
                self.emit(f"{n1}, {n2} = {args}")
                self.bind(n1, Val(args, R, r1.mag, py=r1.py, dep=True))
                self.bind(n2, Val(args, (), r2.mag, py=r2.py, dep=True))
            else:
                n1 = self.fresh()
                self.emit(f"{n1} = {args}")
                self.bind(n1, Val(args, R, r1.mag, py=r1.py, dep=True))
        return 2

    def s_nested(self):
        """A nested def or a lambda over closure variables, called at once."""
        S = self.shape()
        closure = {n: v for n, v in self.env.items() if v.kind in ("val", "int")}
        for v in closure.values():
            v.frozen = True
        fname = self.fresh("inner") if self.chance(0.6) else self.fresh("fn")
        self.mod["reserved"].add(fname)
        env = {n: Var(v.name, v.kind, v.shape, v.group, py=v.py, hi=v.hi, frozen=True) for n, v in closure.items()}
        env.pop("u", None)
        env["u"] = Var("u", "val", S, Group(1.0, dep=True), frozen=True)
        sub = Gen(self.rng, self.mod, env, depth=self.depth + 1)
        sub.outer = set(closure) | set(self.env)
        R = sub.shape()
        if fname.startswith("fn"):
            body = sub.x.expr(R, 2)
            self.emit(f"{fname} = lambda u: {body.code}")
            mag = body.mag
        else:
            sub.ind = self.ind + 1
            sub.block(self.rng.randint(1, 2))
            body = sub.x.expr(R, 2)
            sub.emit(f"return {body.code}")
            self.emit(f"def {fname}(u, scale=1.0):")
            self.lines += sub.lines
            mag = body.mag
        for _ in range(self.rng.randint(1, 2)):
            arg = self.x.squash(self.x.expr(S, 1), 1.0)
            n = self.fresh()
            call = f"{fname}({arg.code})"
            self.emit(f"{n} = {call}")
            self.bind(n, Val(call, R, mag, py=body.py, dep=True))
            self.env[n].frozen = True
        return 2


def generate_once(seed):
    rng = random.Random(seed)
    n = (rng.choice([3, 4]),)
    n = (n[0], n[0] + rng.choice([1, 2]))
    m = (2, 3) if n[0] == 3 or rng.random() < 0.5 else (3, 4)
    pool = [(n,), (m, n), (n,), (n, ONE), (ONE, n), (m, ONE), (), (n, m), (m,)]
    consts = [("OFFSET", 0.4)]
    globals_ = {"OFFSET": "-0.4" if rng.random() < 0.5 else "0.35"}
    change = None
    if rng.random() < 0.2:
        v1, v2 = rng.choice([(0.8, 1.3), (1.2, 0.6), (-0.5, 0.9)])
        globals_["G_SCALE"] = repr(v1)
        consts.append(("G_SCALE", max(abs(v1), abs(v2))))
        change = ("G_SCALE", v2)
    mod = {"consts": consts, "helpers": [], "mutate_inputs": rng.random() < 0.05, "reserved": {"np", "math", "s2sad", "f", "OFFSET", "G_SCALE"},
           "globals": globals_}
    params, env = [], {}
    for name in ["x", "y", "z"][:rng.choice([1, 2, 2, 3])]:
        shape = rng.choice(pool)
        params.append((name, "array", shape))
        env[name] = Var(name, "val", shape, Group(1.0, input=True, dep=True), zd=shape == ())
    if rng.random() < 0.4:
        params.append(("s", "float", ()))
        env["s"] = Var("s", "val", (), Group(1.0, input=True, dep=True), py=True)
    for nm in env:
        mod["reserved"].add(nm)
    g = Gen(rng, mod, env)
    g.block(rng.randint(4, 18))
    # the result: readouts of a few variables (the most recent first)
    vals = [v for v in g.env.values() if v.kind == "val"]
    vals.sort(key=lambda v: (not v.group.dep, -list(g.env).index(v.name)))
    terms = []
    for v in vals[:rng.randint(1, 3)]:
        if v.shape == ():
            terms.append(rng.choice([v.name, f"{v.name} * {v.name}", f"math.sin({v.name})" if v.py else f"np.sin({v.name})"]))
        else:
            terms.append(rng.choice([f"np.sum({v.name})", f"np.sum({v.name} * {v.name})", f"np.mean(np.sin({v.name}))",
                                     f"{v.name}.sum()", f"0.5 * np.sum({v.name} ** 2)"]))
    body = "\n".join(g.lines)
    if "G_SCALE" in globals_ and "G_SCALE" not in body:
        terms[0] = f"G_SCALE * {terms[0]}"
    ret = " + ".join(terms)
    if rng.random() < 0.2:
        g.emit(f"out = {ret}")
        ret = "out"
    g.emit(f"return {ret}")
    head = "import math\n\nimport numpy as np\n\nimport s2sad\n\n"
    head += "".join(f"{k} = {v}\n" for k, v in globals_.items()) + "\n\n"
    helpers = "\n\n".join(mod["helpers"])
    src = head + (helpers + "\n\n" if helpers else "") + f"def f({', '.join(p[0] for p in params)}):\n" + \
        "\n".join(g.lines) + "\n"
    diff = [i for i, p in enumerate(params)]
    names = [p[0] for p in params]
    r = rng.random()
    if len(diff) == 1:
        wrt = 0 if r < 0.7 else names[0]
    elif r < 0.5:
        wrt = tuple(diff)
    elif r < 0.8:
        wrt = rng.choice(diff)
    else:
        wrt = tuple(names[i] for i in sorted(rng.sample(diff, 2)))
    specs = [(nm, kind, tuple(d[0] for d in shape), tuple(d[1] for d in shape)) for nm, kind, shape in params]
    return Program(source=src, params=specs, wrt=wrt, seed=seed, global_change=change)


def generate(seed, tries=50):
    """A program that runs as plain Python with a finite value."""
    for attempt in range(tries):
        s = seed * 1000 + attempt
        try:
            p = generate_once(s)
        except (LookupError, RecursionError):
            continue
        p.seed = seed
        p.gen_seed = s
        make_args(p)
        try:
            with alarm(5.0):
                if plain_value(p) is not None:
                    return p
        except FuzzTimeout:
            continue
    raise RuntimeError(f"no valid program for seed {seed}")


__all__ = ["generate", "generate_once", "Gen"]
