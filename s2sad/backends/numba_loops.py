"""Checkpointed loops under the Numba backend: the step and its one-step
adjoint compiled, the schedule driver in Python (issue 15).

A checkpointed loop's body is generated as two nested functions of the
loop-carried state (:mod:`s2sad_runtime.loops`): ``step(t, *state) ->
state``, and ``adjoint(t, *state)``, a generator that replays the step with
its tape, yields the result, receives the result's adjoint and yields the
adjoint of the state (adjoints of outside values it accumulates through
``nonlocal``).  Numba compiles no generator that is sent values, so
:func:`split` cuts the adjoint at its ``yield``: the part before becomes a
compiled function returning the result, the one-step tape (typed lists) and
every value the part after reads; the part after becomes a compiled
function of those.  Both are lowered from one function
(:mod:`s2sad.backends.numba_lower`), so their tapes agree.  What stays in
the enclosing function is a small Python step and a small Python generator
calling them, reading the enclosing function's values at each call as the
closures did.

Each is compiled per signature of what it is called with (the step as a
:class:`~s2sad.backends.numba_backend.NumbaFunction`, the halves by
:class:`Pair`, both before anything runs), so a signature Numba refuses
runs that function's Python code, reported, and nothing runs twice.  Only
a second half called with adjoints of other types than expected compiles
late; should Numba refuse that, the caller runs the whole gradient as
Python.
"""

from __future__ import annotations

from dataclasses import replace

from s2sad.analysis.prims import static_value
from s2sad.backends.numba_cache import HEADER, jit, load
from s2sad.backends.numba_lower import Unsupported, lower, signature_key
from s2sad.ir import nodes as N
from s2sad.ir import render as R
from s2sad.ir.visit import head_exprs, iter_stmts, loads, stores, targets, walk

_CUT = "s2sad-numba-cut"


def statics(fdef):
    """name -> object of the static references in ``fdef`` (the globals its
    rendered source needs)."""
    out = {}
    for s in iter_stmts(fdef.body, defs=True):
        for e in head_exprs(s):
            for x in walk(e):
                if isinstance(x, N.Static):
                    out[x.name] = x.obj
    return out


def _free_names(fdef):
    """Names ``fdef`` reads and neither binds nor takes, in first-read order
    (``nonlocal`` names count as bound)."""
    bound = set(fdef.params)
    for s in iter_stmts(fdef.body, defs=True):
        bound.update(targets(s))
        if isinstance(s, N.Nonlocal):
            bound.update(s.names)
        if isinstance(s, N.FunctionDef):
            bound.add(s.name)
            bound.update(s.params)
    out = []
    for s in iter_stmts(fdef.body, defs=True):
        for e in head_exprs(s):
            for x in walk(e):
                if isinstance(x, N.ListComp):
                    bound.add(x.target)
                elif isinstance(x, N.Name) and x.id not in bound and x.id not in out:
                    out.append(x.id)
    return out


def _yields(s):
    return [x for e in head_exprs(s) for x in walk(e) if isinstance(x, N.Yield)]


def _plain(s):
    """A step: a nested function without yields, nonlocals or functions."""
    return isinstance(s, N.FunctionDef) and not any(
        isinstance(st, (N.Nonlocal, N.FunctionDef)) or _yields(st) for st in iter_stmts(s.body, defs=True))


def _names_tuple(e):
    return isinstance(e, N.Tuple) and all(isinstance(x, N.Name) for x in e.elts)


def _adjoint_parts(s):
    """``(accumulators, before, cut, after, result)`` of a one-step adjoint
    generator, or None when it is not of that form: nonlocal accumulators,
    statements, ``targets = (yield (names...))``, statements, ``yield
    (names...)``."""
    if not isinstance(s, N.FunctionDef) or not s.body:
        return None
    body = list(s.body)
    acc = []
    while body and isinstance(body[0], N.Nonlocal):
        acc.extend(body.pop(0).names)
    cuts = [i for i, st in enumerate(body) if _yields(st)]
    if len(cuts) != 2 or cuts[1] != len(body) - 1:
        return None
    cut, last = body[cuts[0]], body[-1]
    if not (isinstance(cut, N.Assign) and isinstance(cut.value, N.Yield) and _names_tuple(cut.value.value)
            and isinstance(last, N.Eval) and isinstance(last.value, N.Yield) and _names_tuple(last.value.value)):
        return None
    before, after = body[:cuts[0]], body[cuts[0] + 1:-1]
    if any(isinstance(st, (N.FunctionDef, N.Nonlocal)) or _yields(st)
           for st in iter_stmts(before + after, defs=True)):
        return None
    return acc, before, cut, after, last.value.value


def has_loops(fdef):
    """Does generated function ``fdef`` define checkpointed loop functions?"""
    return any(isinstance(s, N.FunctionDef) for s in fdef.body)


class _Unknown:
    """The value of a parameter the lowering knows nothing about (the
    adjoints a one-step adjoint receives after its cut)."""


_UNKNOWN = _Unknown()


class _Halves:
    """The two compiled halves of a one-step adjoint for one signature;
    ``data``: the static references of outside values they take."""

    def __init__(self, fwd, bwd, data):
        self.f = fwd
        self.b = bwd
        self.data = data

    def fwd(self, *lead):
        return self.f(*lead, *[static_value(e) for e in self.data])

    def bwd(self, *args):
        return self.b(*args, *[static_value(e) for e in self.data])


def _adjoint_type(t):
    """The Numba type of the adjoint of a value of type ``t``."""
    from numba import types
    if isinstance(t, types.Array):
        return types.Array(types.float64 if not isinstance(t.dtype, types.Float) else t.dtype, t.ndim, "C")
    if isinstance(t, (types.Integer, types.Boolean, types.Float)):
        return types.float64
    return t


class Pair:
    """The one-step adjoint of a checkpointed loop as two compiled
    functions (:class:`_Halves`), lowered and compiled per signature of its
    leading arguments (the step index, the state, the enclosing function's
    values) and accumulators, before either runs: a signature Numba cannot
    compile gets None, and the loop runs that step's Python generator."""

    def __init__(self, whole, nlead, ncut, label, out_names):
        self.whole = whole
        self.out_names = out_names
        self.nlead = nlead
        self.ncut = ncut
        self.label = label
        self.variants = {}
        self.sources = []
        self.failures = []      # why Numba refused a signature (that one-step adjoint runs as Python)
        self.reported = 0
        self.where = next((st.text for st in iter_stmts(whole.body) if isinstance(st, N.Comment)), None)

    def variant(self, *lead):
        key = signature_key(lead)
        if key not in self.variants:
            try:
                self.variants[key] = self._build(lead)
            except Exception as e:  # noqa: BLE001 - Numba's refusal: this signature runs as Python
                self.variants[key] = None
                self.failures.append(str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
        return self.variants[key]

    def _build(self, lead):
        import numba
        import numba.typed
        whole = self.whole
        lead = list(lead)
        nacc = len(whole.params) - self.nlead - self.ncut
        low = lower(whole, lead + [_UNKNOWN] * (self.ncut + nacc))
        lbody = low.fdef.body
        k = next(i for i, st in enumerate(lbody) if isinstance(st, N.Comment) and st.text == _CUT)
        inits = [st for st in lbody[:k] if isinstance(st, N.Assign) and isinstance(st.value, N.List)
                 and isinstance(st.target, N.Name) and st.target.id.startswith("_tape")]
        tapes = [st.target.id for st in inits]
        typed = N.Static("_nb_List", numba.typed.List)      # returned to Python and passed back as they are
        pre = [N.Assign(st.target, N.Call(typed, ())) if st in inits else st for st in lbody[:k]]
        post = lbody[k + 1:]
        # (a parameter rebound before the cut travels too: the part after reads its value at the cut)
        saved = ["_nb_out"] + tapes + sorted((loads(post) & stores(pre)) - set(tapes) - {"_nb_out"})
        lead_names = whole.params[:self.nlead]
        rest = whole.params[self.nlead:]
        data = list(low.data)
        fwd = N.FunctionDef(f"{whole.name}_fwd", lead_names + data,
                            pre + [N.Return(N.Tuple(tuple(N.Name(v) for v in saved)))])
        bwd = N.FunctionDef(f"{whole.name}_bwd", lead_names + ["_nb_r"] + rest + data,
                            [N.Assign(N.Tuple(tuple(N.Name(v) for v in saved)), N.Name("_nb_r"))] + post)
        srcs = [R.source(f) for f in (fwd, bwd)]
        ns = dict(low.globals)
        ns.update(statics(fwd))
        ns.update(statics(bwd))
        mod, path = load(HEADER + "\n\n".join(srcs) + "\n", ns, f"{self.label}")
        fns = [jit(getattr(mod, f.name), path) for f in (fwd, bwd)]
        # compiled ahead, both halves, before either runs: an adjoint
        # ``x_adj`` it receives or accumulates is taken to have the adjoint
        # type of the value ``x`` it yields or reads (where there is none,
        # Numba compiles the second half at its first call)
        dvals = [static_value(e) for e in low.data_exprs]
        lt = tuple(numba.typeof(v) for v in lead)
        dt = tuple(numba.typeof(v) for v in dvals)
        fns[0].compile(lt + dt)
        ret = fns[0].overloads[lt + dt].signature.return_type
        outs = ret.types[0].types if hasattr(ret.types[0], "types") else ()
        by_name = dict(zip(whole.params, lt))
        by_name.update(zip(self.out_names, outs))      # (the values it yields, for the adjoints it receives)
        rest = [by_name.get(a.removesuffix("_adj")) for a in whole.params[self.nlead:]]
        if all(t is not None for t in rest):
            fns[1].compile(lt + (ret,) + tuple(_adjoint_type(t) for t in rest) + dt)
        self.sources.extend(srcs)
        return _Halves(fns[0], fns[1], low.data_exprs)

    def dispatchers(self):
        return [d for v in self.variants.values() if v is not None for d in (v.f, v.b)]


def split(fdef, make_step):
    """``(outer, steps, pairs)``: generated function ``fdef`` whose
    checkpointed loop functions call compiled code (see the module
    docstring); ``make_step(fdef)`` compiles a step.  Raises
    :class:`~s2sad.backends.numba_lower.Unsupported` for a loop function it
    cannot take."""
    steps, pairs = {}, {}
    body = []
    for s in fdef.body:
        if not isinstance(s, N.FunctionDef):
            body.append(s)
        elif _plain(s):
            free = _free_names(s)
            step = steps[s.name] = make_step(replace(s, name=f"{s.name}_nb", params=list(s.params) + free,
                                                     defaults=[]))
            args = [N.Name(p) for p in list(s.params) + free]
            body.append(replace(s, body=[N.Return(N.Call(N.Static(f"_nb_{s.name}", step), tuple(args)))]))
        elif (parts := _adjoint_parts(s)) is not None:
            pair = pairs[s.name] = _pair(s, parts)
            body.extend(_adjoint_wrapper(s, parts, pair))
        else:
            raise Unsupported("a loop function of a form the backend does not compile (a reversible loop, or a "
                              "checkpointed loop inside another)")
    return replace(fdef, body=body), steps, pairs


def _pair(s, parts):
    acc, before, cut, after, result = parts
    free = _free_names(s)
    cut_targets = [x.id for x in (cut.target.elts if isinstance(cut.target, N.Tuple) else (cut.target,))]
    whole = N.FunctionDef(f"{s.name}_nb", list(s.params) + free + cut_targets + acc,
                          before + [N.Assign(N.Name("_nb_out"), cut.value.value), N.Comment(_CUT)] + after
                          + [N.Return(N.Tuple((result, N.Tuple(tuple(N.Name(a) for a in acc)))))])
    return Pair(whole, len(s.params) + len(free), len(cut_targets), s.name, [x.id for x in cut.value.value.elts])


def _adjoint_wrapper(s, parts, pair):
    """The generator the driver runs: the compiled halves around its yield,
    or the Python generator (kept as ``<name>_py``) for a signature Numba
    refused."""
    acc, _, cut, _, _ = parts
    whole = pair.whole
    lead = [N.Name(v) for v in whole.params[:pair.nlead]]
    cuts = [N.Name(v) for v in whole.params[pair.nlead:pair.nlead + pair.ncut]]
    accs = [N.Name(a) for a in acc]
    ref = N.Static(f"_nb_{s.name}", pair)
    py = replace(s, name=f"{s.name}_py")
    v = N.Name("_nb_v")
    python = [
        N.Assign(N.Name("_nb_g"), N.Call(N.Name(py.name), tuple(N.Name(p) for p in s.params))),
        N.Assign(N.Name("_nb_a"), N.Yield(N.Call(N.Static("next", next), (N.Name("_nb_g"),)))),
        N.Eval(N.Yield(N.Call(N.Attr(N.Name("_nb_g"), "send"), (N.Name("_nb_a"),)))),
    ]
    compiled = [
        N.Assign(N.Name("_nb_r"), N.Call(N.Attr(v, "fwd"), tuple(lead))),
        N.Assign(cut.target, N.Yield(N.Sub(N.Name("_nb_r"), N.Const(0)))),
        N.Assign(N.Name("_nb_s"), N.Call(N.Attr(v, "bwd"), tuple(lead + [N.Name("_nb_r")] + cuts + accs))),
    ]
    if acc:
        compiled.append(N.Assign(N.Tuple(tuple(accs)), N.Sub(N.Name("_nb_s"), N.Const(1))))
    compiled.append(N.Eval(N.Yield(N.Sub(N.Name("_nb_s"), N.Const(0)))))
    body = ([N.Nonlocal(tuple(acc))] if acc else []) + [
        N.Assign(v, N.Call(N.Attr(ref, "variant"), tuple(lead))),
        N.If(N.Compare(v, ("Is",), (N.Const(None),)), python, compiled),
    ]
    return [py, replace(s, body=body)]
