"""Loops for the program generator (``gen.Gen`` mixes this in): ``for``
over ranges, arrays, ``zip``, ``enumerate``, ``reversed`` and lists,
``while`` with a counter (and a data-dependent test), checkpointed loops,
``break``/``continue``, lists filled in a loop and read after it.

Every loop chooses its loop-carried variables on entry and raises their
bounds to a loop invariant; the body updates them only in forms that keep
it (``h = c1 * h + c2 * tanh(e)`` with ``c1 M + c2 <= M``, bounded
additions, products with factors in [-1, 1], element writes of bounded
values), so values stay tame however long the loop runs.  Temporaries
assigned at the top of the body before any jump are still defined after
the loop (readouts); the loop variables are too.
"""

from __future__ import annotations

from .gen_expr import ONE, Group, Val, Var, bshape, lit

CARRY_ADD = 0.2


class LoopGen:
    def loop_header(self, ckpt=False):
        """(header text, iteration count K, loop variables [Var])."""
        rng = self.rng
        vals = [v for v in self.env.values() if v.kind == "val" and not v.py]
        d1 = [v for v in vals if len(v.shape) >= 1 and v.shape[0] != ONE]
        K = lit(rng.choice([2, 3, 4]))
        iv = self.fresh_loopvar()
        r = rng.randrange(8)
        if ckpt:
            return f"for {iv} in s2sad.checkpointed(range({K[0]}), snapshots={rng.choice([1, 2, 3])}):", K, \
                [Var(iv, "int", hi=K)]
        if r == 1 and d1:
            v = rng.choice(d1)
            K = v.shape[0]
            form = rng.choice([f"range(len({v.name}))", f"range({v.name}.shape[0])"])
            return f"for {iv} in {form}:", K, [Var(iv, "int", hi=K)]
        if r == 2 and d1:
            v = rng.choice(d1)
            u = self.fresh()
            el = Var(u, "val", v.shape[1:], v.group if len(v.shape) > 1 else Group(v.mag, v.group.lo, dep=v.group.dep),
                     frozen=True)
            return f"for {u} in {v.name}:", v.shape[0], [el]
        if r == 3 and d1:
            v = rng.choice(d1)
            same = [w for w in d1 if w.shape[0] == v.shape[0]]
            w = rng.choice(same)
            u1, u2 = self.fresh(), None
            self.env[u1] = Var(u1, "val")   # reserve
            u2 = self.fresh()
            del self.env[u1]
            els = [Var(u1, "val", v.shape[1:], v.group if len(v.shape) > 1 else Group(v.mag, dep=v.group.dep),
                       frozen=True),
                   Var(u2, "val", w.shape[1:], w.group if len(w.shape) > 1 else Group(w.mag, dep=w.group.dep),
                       frozen=True)]
            return f"for {u1}, {u2} in zip({v.name}, {w.name}):", v.shape[0], els
        if r == 4 and d1:
            v = rng.choice(d1)
            u = self.fresh()
            el = Var(u, "val", v.shape[1:], v.group if len(v.shape) > 1 else Group(v.mag, dep=v.group.dep),
                     frozen=True)
            return f"for {iv}, {u} in enumerate({v.name}):", v.shape[0], [Var(iv, "int", hi=v.shape[0]), el]
        if r == 5:
            return f"for {iv} in reversed(range({K[0]})):", K, [Var(iv, "int", hi=K)]
        lists = [v for v in self.env.values() if v.kind in ("list", "tuple") and v.items]
        if r == 6 and lists:
            v = rng.choice(lists)
            it = v.items[0][1]
            if getattr(v, "count", None) is not None and all(i.shape == it.shape for _, i in v.items):
                u = self.fresh()
                m = max(i.mag for _, i in v.items)
                return f"for {u} in {v.name}:", v.count, [Var(u, "val", it.shape, Group(m, dep=True), frozen=True)]
        return f"for {iv} in range({K[0]}):", K, [Var(iv, "int", hi=K)]

    def fresh_loopvar(self):
        for n in ["i", "j", "k", "t"]:
            if n in self.outer or n in self.mod["reserved"]:
                continue
            if n not in self.env or (self.env[n].kind == "int" and not self.loops):
                if not any(n in (lp["vars"]) for lp in self.loops):
                    return n
        return self.fresh("i")

    def enter_loop(self, kind, K):
        """Choose the loop-carried variables and raise their bounds to the
        loop invariant."""
        ktot = max(K)
        for lp in self.loops:
            ktot *= lp["ktot"]
        cands = [v for v in self.env.values() if v.kind == "val" and not v.frozen
                 and not (v.group.input and (v.array or v.zd)) and v.name not in self.outer
                 and (not self.loops or id(v.group) in self.loops[-1]["owned"])]
        carried = self.rng.sample(cands, min(len(cands), self.rng.randint(1, 3))) if cands else []
        owned = set()
        for v in carried:
            g = v.group
            g.mag = max(g.mag, 1.0) + ktot * CARRY_ADD
            g.lo = None
            owned.add(id(g))
        if self.loops:
            owned |= self.loops[-1]["owned"]
        ctx = {"kind": kind, "K": K, "ktot": ktot, "carried": [v.name for v in carried], "owned": owned,
               "jumped": False, "vars": [], "lists": [], "kept": set(), "body_ind": self.ind + 1}
        return ctx

    def loop(self, kind):
        ckpt = kind == "ckpt"
        data_test = False
        if kind == "while":
            K = lit(self.rng.choice([2, 3]))
            k = self.fresh_loopvar()
            self.emit(f"{k} = 0")
            test = f"{k} < {K[0]}"
            data_test = self.chance(0.3)
            lvars = [Var(k, "int", hi=lit(K[0] + 1))]
        else:
            header, K, lvars = self.loop_header(ckpt)
        ctx = self.enter_loop(kind, K)
        if kind == "while":
            if data_test:       # after enter_loop: the test sees the loop invariants
                e = self.x.expr((), 1)
                test += f" and {e.p()} < {self.rng.choice(['1.5', '3.0'])}"
            header = f"while {test}:"
        ctx["vars"] = [v.name for v in lvars]
        if kind == "while" and data_test:
            ctx["jumped"] = True        # may run no iteration: nothing is kept
        if not self.loops and self.chance(0.3 if kind != "ckpt" else 0.1) and ctx["carried"]:
            # a list filled in the loop, read after it
            name = self.fresh("parts")
            self.emit(f"{name} = []")
            ctx["lists"].append(name)
            self.env[name] = Var(name, "list", growable=True)
        env0 = dict(self.env)
        self.emit(header)
        self.ind += 1
        self.loops.append(ctx)
        for v in lvars:
            self.env[v.name] = v
        if kind == "while":
            self.emit(f"{lvars[0].name} = {lvars[0].name} + 1" if self.chance(0.5) else f"{lvars[0].name} += 1")
        self.block(self.rng.randint(1, 4))
        self.loops.pop()
        self.ind -= 1
        # after the loop: what was defined before it, the loop variables, and
        # the temporaries every iteration assigned before any jump
        kept = {n: v for n, v in self.env.items() if n not in env0 and n in ctx["kept"]}
        for n in ctx["lists"]:
            lv = self.env[n]
            if lv.items:
                lv.growable = False
                lv.count = None if ctx["jumped"] or ctx.get("appends", 0) != 1 else K
        self.set_env({**env0, **kept, **{v.name: v for v in lvars}})
        for n in ctx["lists"]:
            if not self.env[n].items:
                del self.env[n]
            else:
                self.readout_list(self.env[n])
        return 3

    def s_for(self):
        return self.loop("for")

    def s_while(self):
        return self.loop("while")

    def s_ckpt(self):
        return self.loop("ckpt") if not self.loops and self.depth == 0 else 0

    def s_update(self):
        lp = self.loops[-1]
        names = [n for n in lp["carried"] if n in self.env]
        if not names:
            return self.s_assign_temp()
        v = self.env[names[0] if len(names) == 1 else self.rng.choice(names)]
        M = v.mag
        S = v.shape
        sub = self.rng.choice([S, ()] + ([S[1:]] if len(S) == 2 else []))
        r = self.rng.randrange(5)
        if r == 0:
            c1 = self.rng.choice([0.5, 0.8, 0.9])
            c2 = max(0.05, round((1 - c1) * M * 0.9, 2))
            e = self.bounded(sub, 1.0)
            self.emit(f"{v.name} = {c1} * {v.name} + {c2} * {e.p()}")
        elif r == 1:
            e = self.bounded(sub, CARRY_ADD / 2)
            self.emit(f"{v.name} = {v.name} + {e.code}" if self.chance(0.5) or not v.array and not v.zd
                      else f"{v.name} += {e.code}")
        elif r == 2:
            e = self.bounded(sub, 1.0)
            self.emit(f"{v.name} = {v.name} * {e.p()}" if not v.array or self.chance(0.5) else f"{v.name} *= {e.p()}")
        elif r == 3 and v.array:
            idx, IS = self._index_for(v)
            if idx is None:
                return 0
            e = self.bounded(self.rng.choice([IS, ()]), min(M, 1.0))
            self.emit(f"{v.name}[{idx}] = {e.code}")
        else:
            M_ = "math" if v.py else "np"
            e = self.x.expr(sub, 1)
            self.emit(f"{v.name} = {M_}.tanh({v.name} + {e.p()})" if v.py or bshape(S, sub) == S else
                      f"{v.name} = np.tanh({v.name})")
        v.group.dep = True
        return 1

    def s_assign_temp(self):
        return self.s_assign()

    def s_jump(self):
        lp = self.loops[-1]
        if lp["kind"] == "ckpt" or (lp["kind"] == "while" and self.chance(0.7)):
            return 0
        ints = [n for n in lp["vars"] if self.env.get(n) is not None and self.env[n].kind == "int"]
        word = "break" if self.chance(0.5) and lp["kind"] != "while" else "continue"
        if ints and self.chance(0.6):
            c = f"{ints[0]} == {self.rng.randint(0, 2)}"
        else:
            e = self.x.expr((), 1)
            c = f"{e.p()} > {self.rng.choice(['0.2', '0.5', '-0.5'])}"
        self.emit(f"if {c}:")
        self.emit(f"    {word}")
        lp["jumped"] = True
        return 1

    def s_append(self):
        lp = self.loops[0]
        if not lp["lists"] or lp["jumped"] or len(self.loops) > 1 or self.ind != lp["body_ind"]:
            return 0
        lv = self.env[lp["lists"][0]]
        if lv.items:
            S = lv.items[0][1].shape
            e = self.x.expr(S, self.depth_e())
        else:
            e = self.x.expr(self.shape(), self.depth_e())
        if e.group is None and self.chance(0.2):
            pass
        self.emit(f"{lv.name}.append({e.code})")
        lp["appends"] = lp.get("appends", 0) + 1
        if lv.items:
            for _, it in lv.items:
                it.group.mag = max(it.group.mag, e.mag)
        else:
            g = e.group or Group(e.mag, dep=e.dep)
            lv.items = [("[0]", Var("", "val", e.shape, g)), ("[-1]", Var("", "val", e.shape, g))]
        return 1

    def readout_list(self, lv):
        S = lv.items[0][1].shape
        m = max(it.mag for _, it in lv.items)
        name = self.fresh()
        K = lv.count
        opts = [(f"sum({lv.name})", S, m * (max(K) if K else 6))]
        if K is not None:
            opts.append((f"np.stack({lv.name})", (K,) + S, m))
            if len(S) == 1:
                opts.append((f"np.concatenate({lv.name})", (tuple(a * b for a, b in zip(K, S[0])),), m))
        code, shape, mag = self.rng.choice(opts)
        self.emit(f"{name} = {code}")
        self.bind(name, Val(code, shape, mag, dep=True))
