"""Reduce a failing program to a small one that fails the same way.

Delta debugging at the source level, on the module's syntax tree: delete
statements (halves of blocks first, then one at a time, helpers and
globals included), replace an ``if`` by one of its branches and a loop by
its body, shorten loops, unwrap ``s2sad.checkpointed``, replace an
expression by one of its operands or by a constant, drop keyword
arguments, and drop parameters ``f`` no longer uses.  A candidate is kept
when it still runs as plain Python with a finite value and ``run_checks``
(restricted to the check that failed) reports the same failure signature.
The search is greedy and restarts after every success, within a time
budget.
"""

from __future__ import annotations

import ast
import copy
import time

from .checks import FuzzTimeout, alarm, check_signature, run_checks
from .program import plain_value

# the checks to run to reproduce a failure of check X
NEEDS = {"value": {"value"}, "grad": {"grad"}, "struct": {"struct"}, "repeat": {"repeat", "kept"},
         "kept": {"repeat", "kept"}, "inputs": {"inputs"}, "out": {"out"}, "jvp": {"jvp"},
         "hvp": {"grad", "hvp"}, "global": {"global"}, "shape": {"shape"}, "float32": {"float32"}}


def failed_check(signature):
    return signature.split("[", 1)[1].split("]", 1)[0] if "[" in signature else ""


# ---------------------------------------------------------------- tree paths

def _get(node, path):
    for field, idx in path:
        node = getattr(node, field)
        if idx is not None:
            node = node[idx]
    return node


def _walk(node, path=()):
    yield path, node
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, ast.AST):
                    yield from _walk(v, path + ((field, i),))
        elif isinstance(value, ast.AST):
            yield from _walk(value, path + ((field, None),))


STMT_FIELDS = ("body", "orelse")


def _is_import(st):
    return isinstance(st, (ast.Import, ast.ImportFrom))


def _stmt_lists(tree):
    """(path of the owner, field, statements) of every statement list."""
    for path, node in _walk(tree):
        for fld in STMT_FIELDS:
            lst = getattr(node, fld, None)
            if isinstance(lst, list) and lst and isinstance(lst[0], ast.stmt):
                yield path, fld, lst


def _fix_empty(tree):
    for node in ast.walk(tree):
        for fld in STMT_FIELDS:
            lst = getattr(node, fld, None)
            if isinstance(lst, list) and not lst and fld == "body" and not isinstance(node, ast.Module):
                lst.append(ast.Pass())
    return tree


# ---------------------------------------------------------------- candidates

def _candidates(tree):
    """Edits as functions mutating a copy of ``tree``, biggest first."""
    cands = []
    lists = list(_stmt_lists(tree))
    # 1. delete chunks, then single statements (never f itself or imports)
    for path, fld, lst in lists:
        n = len(lst)
        chunk = n // 2
        while chunk >= 2:
            for i in range(0, n - chunk + 1, chunk):
                if not any(_is_import(st) or (isinstance(st, ast.FunctionDef) and st.name == "f" and not path)
                           for st in lst[i:i + chunk]):
                    cands.append(("del", path, fld, i, i + chunk))
            chunk //= 2
    for path, fld, lst in lists:
        for i in range(len(lst) - 1, -1, -1):
            st = lst[i]
            if _is_import(st) or (isinstance(st, ast.FunctionDef) and st.name == "f" and not path):
                continue
            if isinstance(st, ast.Return) and path and isinstance(_get(tree, path), ast.FunctionDef):
                continue
            cands.append(("del", path, fld, i, i + 1))
    # 2. compound statements: a branch / the body instead
    for path, fld, lst in lists:
        for i, st in enumerate(lst):
            if isinstance(st, ast.If):
                cands.append(("inline", path, fld, i, "body"))
                if st.orelse:
                    cands.append(("inline", path, fld, i, "orelse"))
                    cands.append(("noelse", path, fld, i, None))
            elif isinstance(st, (ast.For, ast.While)):
                cands.append(("inline", path, fld, i, "body"))
                if isinstance(st, ast.For):
                    cands.append(("inline", path, fld, i, "last"))
                    cands.append(("inline", path, fld, i, "next"))
                    cands.append(("unwrap_iter", path, fld, i, None))
                    cands.append(("range1", path, fld, i, None))
    # 3. expressions: an operand instead of the whole, a constant (never a
    # called function or a module: `np.clip(...)` does not become `np(...)`)
    for path, node in _walk(tree):
        if not isinstance(node, ast.expr) or isinstance(node, (ast.Name, ast.Constant)):
            continue
        if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)) or (path and path[-1][0] == "func"):
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in ("np", "math", "s2sad"):
            continue
        for cpath, child in _walk(node):
            if cpath and len(cpath) == 1 and isinstance(child, ast.expr) and cpath[0][0] != "func" \
                    and not isinstance(getattr(child, "ctx", None), ast.Store) \
                    and not (isinstance(child, ast.Name) and child.id in ("np", "math", "s2sad")):
                cands.append(("expr", path, cpath[0]))
        if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) >= 2:
            for k in range(len(node.elts)):
                cands.append(("delelt", path, k))
        cands.append(("const", path, None))
    for path, node in _walk(tree):
        if isinstance(node, ast.Call) and node.keywords:
            for k in range(len(node.keywords)):
                cands.append(("nokw", path, k))
    return cands


def _apply(tree, cand):
    t = copy.deepcopy(tree)
    kind = cand[0]
    if kind == "del":
        _, path, fld, i, j = cand
        lst = getattr(_get(t, path), fld)
        del lst[i:j]
    elif kind in ("inline", "noelse", "unwrap_iter", "range1"):
        _, path, fld, i, which = cand
        lst = getattr(_get(t, path), fld)
        st = lst[i]
        if kind == "noelse":
            st.orelse = []
        elif kind == "unwrap_iter":
            it = st.iter
            if not (isinstance(it, ast.Call) and it.args):
                return None
            st.iter = it.args[0]
        elif kind == "range1":
            it = st.iter
            if not (isinstance(it, ast.Call) and getattr(it.func, "id", "") == "range"):
                return None
            if ast.unparse(it) in ("range(1)",):
                return None
            it.args = [ast.Constant(1)]
        else:
            if isinstance(st, ast.For):
                # the loop variable takes one value of the loop
                pick = {"body": "({})[0]", "last": "({})[-1]", "next": "next(iter({}))"}[which]
                first = ast.parse(f"{ast.unparse(st.target)} = " + pick.format(ast.unparse(st.iter))).body
                new = first + st.body
            else:
                new = getattr(st, which)
            lst[i:i + 1] = new
    elif kind == "expr":
        _, path, (fld, idx) = cand
        node = _get(t, path)
        child = getattr(node, fld)
        child = child[idx] if idx is not None else child
        parent_path, (pfld, pidx) = path[:-1], path[-1]
        parent = _get(t, parent_path)
        if pidx is None:
            setattr(parent, pfld, child)
        else:
            getattr(parent, pfld)[pidx] = child
    elif kind == "const":
        _, path, _ = cand
        parent_path, (pfld, pidx) = path[:-1], path[-1]
        parent = _get(t, parent_path)
        c = ast.Constant(0.5)
        if pidx is None:
            setattr(parent, pfld, c)
        else:
            getattr(parent, pfld)[pidx] = c
    elif kind == "delelt":
        _, path, k = cand
        del _get(t, path).elts[k]
    elif kind == "nokw":
        _, path, k = cand
        del _get(t, path).keywords[k]
    return _fix_empty(ast.fix_missing_locations(t))


def _drop_unused_params(p, tree):
    """A candidate without the parameters of ``f`` its body never reads."""
    fdef = next(st for st in tree.body if isinstance(st, ast.FunctionDef) and st.name == "f")
    used = {n.id for st in fdef.body for n in ast.walk(st) if isinstance(n, ast.Name)}
    names = p.names
    wrt_names = [names[i] for i in p.wrt_idx]
    drop = [nm for nm in names if nm not in used]
    if all(nm in drop for nm in wrt_names):      # keep one differentiated parameter
        drop.remove(wrt_names[0])
    keep_wrt = [nm for nm in wrt_names if nm not in drop]
    if not drop:
        return None
    t = copy.deepcopy(tree)
    f2 = next(st for st in t.body if isinstance(st, ast.FunctionDef) and st.name == "f")
    f2.args.args = [a for a in f2.args.args if a.arg not in drop]
    keep = [i for i, nm in enumerate(names) if nm not in drop]
    q = copy.copy(p)
    q.params = [p.params[i] for i in keep]
    q.args = [p.args[i] for i in keep]
    q.alt_args = [p.alt_args[i] for i in keep] if p.alt_args is not None else None
    new_names = [names[i] for i in keep]
    if p.single:
        q.wrt = keep_wrt[0] if isinstance(p.wrt, str) else new_names.index(keep_wrt[0])
    else:
        strs = all(isinstance(w, str) for w in p.wrt)
        ws = tuple(keep_wrt if strs else [new_names.index(w) for w in keep_wrt])
        q.wrt = ws if len(ws) > 1 else ws[0]
    q.source = ast.unparse(t) + "\n"
    return q


def shrink(p, signature, budget=30.0, timeout=10.0, log=None):
    """The smallest program found (within ``budget`` seconds) that fails
    with ``signature``; returns (program, its Result)."""
    t0 = time.perf_counter()
    check = failed_check(signature)
    only = NEEDS.get(check) if not signature.startswith("internal crash [grad]") else {"grad"}
    if not signature or signature.startswith("timeout"):
        return p, None
    best = copy.copy(p)
    if check != "shape":
        best.alt_args = None
    if check != "global":
        best.global_change = None
    best.source = ast.unparse(ast.parse(p.source)) + "\n"
    tries = [0]

    def interesting(q):
        tries[0] += 1
        try:
            with alarm(2.0):        # a candidate may loop forever (a while without its counter)
                if plain_value(q) is None:
                    return None
        except FuzzTimeout:
            return None
        r = run_checks(q, only=only, timeout=timeout)
        if signature not in r.signatures():
            return None
        # the reproducer's own signature and detail: those of the kept failure
        c = next(c for c in r.checks if c.status == "fail" and check_signature(c) == signature)
        r.signature, r.outcome, r.detail = signature, c.kind, c.detail.split("\n#")[0]
        return r

    last = interesting(best)
    if last is None:        # the reformatted program does not fail the same way
        best, last = p, None
        return best, last
    # greedy passes over the candidate edits; after a success the list is
    # rebuilt for the new program and the pass goes on from the same place
    idx, progress = 0, False
    while time.perf_counter() - t0 < budget:
        tree = ast.parse(best.source)
        if idx == 0:
            q = _drop_unused_params(best, tree)
            r = interesting(q) if q is not None else None
            if r is not None:
                best, last = q, r
                tree = ast.parse(best.source)
        cands = _candidates(tree)
        if idx >= len(cands):
            if not progress:
                break
            idx, progress = 0, False
            continue
        cand = cands[idx]
        idx += 1
        t2 = _apply(tree, cand)
        if t2 is None:
            continue
        src = ast.unparse(t2) + "\n"
        if src == best.source:
            continue
        q = copy.copy(best)
        q.source = src
        r = interesting(q)
        if r is not None:
            best, last, progress = q, r, True
            idx -= 1
            if log:
                log(f"shrink: {len(src.splitlines())} lines after {tries[0]} tries")
    return best, last


__all__ = ["shrink", "failed_check"]
