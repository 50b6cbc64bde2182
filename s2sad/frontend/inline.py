"""Calls during normalization: a call to a Python function defined in a file,
a nested ``def``, a ``lambda``, a function passed as an argument or a
gradient made by s2sad is replaced by the callee's normalized body, its
locals renamed (``_layer1_h``); any other call stays a primitive.

A parameter the callee never rebinds is not copied: it names the caller's
value directly (an in-place write then reaches the caller's object, as in
Python), and a parameter bound to a literal is replaced by the literal.
"""

from __future__ import annotations

import types

from s2sad.frontend import syntax as S
from s2sad.frontend.parse import read_function, unsupported
from s2sad.frontend.scope import Scope, assigned_once, walk_scope
from s2sad.frontend.atoms import LocalFn, Lowered, check_returns
from s2sad.frontend.namespaces import arguments_namespace, is_namespace_call
from s2sad.ir import nodes as N
from s2sad.ir.visit import is_static, static_value

_LIBRARIES = ("numpy", "s2sad_runtime", "s2sad", "math", "scipy", "cupy")


def compiled_target(obj):
    """The generated function behind a gradient object made by s2sad (it
    has a ``__s2sad_inline__`` method), else None."""
    f = getattr(obj, "__s2sad_inline__", None)
    return f() if callable(f) and not isinstance(obj, type) else None


def should_inline(nz, obj):
    if getattr(obj, "__s2sad_inline__", None) is not None and not isinstance(obj, type):
        return True
    if not isinstance(obj, types.FunctionType):
        return False
    if nz.rules is not None and nz.rules.lookup(obj) is not None:
        return False
    mod = getattr(obj, "__module__", "") or ""
    return mod.split(".")[0] not in _LIBRARIES


def lower_call(nz, n):
    """The primitive of call ``n`` (or the result of inlining it)."""
    func = n.func
    if isinstance(func, S.Lambda):
        return inline(nz, ("local", func, nz.cur_scope), n)
    if is_namespace_call(nz, n):
        return nz.static_ref(arguments_namespace(nz.namespace_args), "xp")
    f = nz.resolve(func) if isinstance(func, (S.Name, S.Attribute)) else None
    if isinstance(f, LocalFn):
        return inline(nz, ("local", f.node, f.scope), n)
    if is_static(f):
        obj = static_value(f)
        if should_inline(nz, obj):
            return inline(nz, ("global", obj), n)
        fexpr = f
    elif isinstance(func, S.Attribute):
        fexpr = N.Attr(nz.atom(func.value), func.attr)
    else:
        fexpr = nz.atom(func)
    args = []
    for a in n.args:
        if isinstance(a, S.Starred):
            v = nz.atom(a.value) if isinstance(a.value, (S.Name, S.Attribute)) else None
            if v is None or not (isinstance(v, N.Name) or is_static(v)):
                raise nz.error(a, "`*args` in a call must name a variable")
            args.append(N.Starred(v))
            continue
        args.append(nz.arg(a))
    kws = []
    for k in n.keywords:
        if k.arg is None:
            raise nz.error(k.value, "`**kwargs` in a call is not supported", "pass keyword arguments by name")
        kws.append((k.arg, nz.arg(k.value)))
    for a in args + [v for _, v in kws]:
        if _has_local_fn(a):
            raise _local_fn_escapes(nz, n, fexpr)
    return N.Call(fexpr, tuple(args), tuple(kws))


def _has_local_fn(a):
    if isinstance(a, LocalFn):
        return True
    if isinstance(a, (N.Tuple, N.List)):
        return any(_has_local_fn(e) for e in a.elts)
    return False


def _local_fn_escapes(nz, call, fexpr):
    import s2sad_runtime.loops as L
    obj = static_value(fexpr) if is_static(fexpr) else None
    if obj in (L.Checkpointed, L.CheckpointedWhile):
        return nz.error(call, "cannot differentiate a checkpointed loop's generated gradient again "
                              "(its step functions run inside the runtime's scheduler)",
                        "use s2sad.hvp(f) for Hessian-vector products (reverse over forward keeps the "
                        "loop checkpointed), or the default tape for this loop")
    return nz.error(call, f"a local function is passed to `{S.to_source(call.func)}`, which s2sad does not "
                          "look into, so it cannot be differentiated",
                    "call the local function directly, or define it at module level")


def transform_in_body(nz, st):
    """``df = s2sad.grad(f, ...)`` in the body, with ``f`` and the options
    known at compile time and ``df`` assigned once: make ``df`` a local
    function (its calls are inlined, so they are differentiated too).
    Returns True when ``st`` was taken that way."""
    v = st.value
    if not isinstance(v, S.Call) or not isinstance(v.func, (S.Name, S.Attribute)):
        return False
    f = nz.resolve(v.func)
    if not is_static(f) or not getattr(static_value(f), "__s2sad_transform__", False):
        return False
    name = st.targets[0].id
    sc = nz.cur_scope
    if not assigned_once(sc, name):
        return False
    args = []
    for a in list(v.args) + [k.value for k in v.keywords]:
        r = nz.resolve(a) if isinstance(a, (S.Name, S.Attribute)) else None
        if isinstance(a, S.Constant):
            args.append(a.value)
        elif is_static(r):
            args.append(static_value(r))
        elif isinstance(a, S.Tuple) and all(isinstance(e, S.Constant) for e in a.elts):
            args.append(tuple(e.value for e in a.elts))
        else:
            return False
        if isinstance(r, LocalFn):
            return False
    pos = args[:len(v.args)]
    kw = {k.arg: val for k, val in zip(v.keywords, args[len(v.args):])}
    gf = static_value(f)(*pos, **kw)
    sc.rename.pop(name, None)
    sc.locals.discard(name)
    sc.fn_params[name] = ("static", gf)
    return True


def inline(nz, target, call):
    """Splice the body of a called Python function into the caller, with
    its locals renamed ``_<name><n>_<local>``; returns the primitive of
    its result."""
    if target[0] == "global":
        obj = target[1]
        gen = compiled_target(obj)
        if gen is not None:
            obj = gen
            nz.bindings.extend(getattr(gen, "__s2sad_bindings__", ()))
        if any(o is obj for o in nz.inline_stack) or len(nz.inline_stack) > nz.MAX_INLINE_DEPTH:
            raise nz.error(call, f"cannot differentiate the recursive call to `{obj.__name__}`",
                           "rewrite the recursion as a loop")
        src = read_function(obj)
        fnode = src.node
        parent = None
        name = obj.__name__
        defaults = list(obj.__defaults__ or ())
        kwdefaults = dict(obj.__kwdefaults__ or {})
    else:
        node, defscope = target[1], target[2]
        src = defscope.src
        obj = node
        if any(o is node for o in nz.inline_stack):
            raise nz.error(call, "cannot differentiate a recursive local function", "rewrite the recursion as a loop")
        if isinstance(node, S.Lambda):
            ret = S.ret(node.body)
            ret.lineno, ret.col_offset = node.body.lineno, node.body.col_offset
            ret.end_lineno, ret.end_col_offset = node.body.end_lineno, node.body.end_col_offset
            fnode = S.function_def("lambda", [], [ret])
            fnode.args = node.args
            name = "lambda"
        else:
            fnode = node
            name = node.name
        parent = defscope
        defaults = [_const_default(nz, d, src, defscope) for d in fnode.args.defaults]
        kwdefaults = {a.id: _const_default(nz, d, src, defscope)
                      for a, d in zip(fnode.args.kwonlyargs, fnode.args.kw_defaults) if d is not None}
    args_node = fnode.args
    if args_node.kwarg is not None:
        raise nz.error(call, f"cannot inline `{name}`: `**{args_node.kwarg.id}` parameters are not supported")
    # the call's arguments, as atoms of the caller
    pos = []
    for a in call.args:
        if isinstance(a, S.Starred):
            raise nz.error(a, "`*args` in a call to a user function is not supported", "pass the arguments one by one")
        pos.append(nz.arg(a))
    if any(k.arg is None for k in call.keywords):
        raise nz.error(call, "`**kwargs` in a call is not supported", "pass keyword arguments by name")
    kw = {k.arg: nz.arg(k.value) for k in call.keywords}
    params = [p.id for p in args_node.posonlyargs + args_node.args]
    bound = dict(zip(params, pos))
    extra = pos[len(params):]
    if extra and args_node.vararg is None:
        raise nz.error(call, f"too many arguments in the call to `{name}`")
    for k, v in kw.items():
        if k in bound:
            raise nz.error(call, f"`{name}` got `{k}` twice")
        if k not in params and k not in [a.id for a in args_node.kwonlyargs]:
            raise nz.error(call, f"`{name}` has no parameter `{k}`")
        bound[k] = v
    nd = len(defaults)
    for i, p in enumerate(params):
        if p not in bound:
            j = i - (len(params) - nd)
            if j < 0:
                raise nz.error(call, f"missing argument `{p}` in the call to `{name}`")
            bound[p] = _default_atom(nz, defaults[j], p)
    for a in args_node.kwonlyargs:
        if a.id not in bound:
            if a.id not in kwdefaults:
                raise nz.error(call, f"missing keyword argument `{a.id}` in the call to `{name}`")
            bound[a.id] = _default_atom(nz, kwdefaults[a.id], a.id)
    if args_node.vararg is not None:
        bound[args_node.vararg.id] = N.Tuple(tuple(extra))
    fn_params = {}
    for p, a in bound.items():
        if isinstance(a, LocalFn):
            fn_params[p] = ("local", a.node, a.scope)
        elif is_static(a):
            v = static_value(a)
            if callable(v) and not isinstance(v, (int, float)) or isinstance(v, types.ModuleType):
                fn_params[p] = ("static", v)
    nz.inline_counter += 1
    prefix = f"_{name.lstrip('_')}{nz.inline_counter}_"
    scope = Scope(src, fnode, prefix, parent, fn_params)
    rebound = {n.id for n in walk_scope(fnode.body) if isinstance(n, S.Name) and isinstance(n.ctx, (S.Store, S.Del))}
    for p, a in bound.items():
        if p in fn_params or p in rebound:
            continue
        if isinstance(a, N.Name):
            # a parameter the callee never rebinds names the caller's value
            scope.rename[p] = a.id
            scope.locals.discard(p)
            scope.direct.add(p)
        elif isinstance(a, N.Const):
            scope.consts[p] = a
            scope.direct.add(p)
    nz.locals |= set(v for k, v in scope.rename.items() if k not in scope.direct)
    for p, a in bound.items():
        if p in fn_params or p in scope.direct:
            continue
        nz.assign(scope.rename[p], a if not isinstance(a, (N.Tuple, N.List)) else a, call)
    saved = (nz.src, nz.line, nz.node, nz.scope_stack)
    nz.src = src
    nz.scope_stack = [scope]
    nz.inline_stack.append(obj)
    try:
        body = nz.block(fnode.body)
    finally:
        nz.inline_stack.pop()
        nz.src, nz.line, nz.node, nz.scope_stack = saved
    check_returns(body, nz, fnode)
    nz.out.extend(body[:-1])
    return Lowered(body[-1].value).expr


def _const_default(nz, node, src, scope):
    if isinstance(node, S.Constant):
        return node.value
    if isinstance(node, S.UnaryOp) and isinstance(node.op, S.USub) and isinstance(node.operand, S.Constant):
        return -node.operand.value
    if isinstance(node, (S.Name, S.Attribute)):
        base = node
        while isinstance(base, S.Attribute):
            base = base.value
        r = scope.lookup(base.id) if isinstance(base, S.Name) else None
        if r is not None and r[0] == "static":
            obj = r[1]
            for part in S.static_key(node).split(".")[1:]:
                obj = getattr(obj, part)
            return obj
        if r is not None and r[0] == "const":
            return static_value(r[1]) if not isinstance(r[1], N.Const) else r[1].value
    raise unsupported(node, src, "a default value of a local function must be a constant or a global name")


def _default_atom(nz, value, pname):
    if isinstance(value, (int, float, bool, str, type(None), complex)):
        return N.Const(value)
    return nz.static_ref(value, pname + "_default")
