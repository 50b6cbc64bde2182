"""In-place writes made explicit, so that Python's aliasing holds exactly.

Runs on the normalized program, before the other analyses, with the alias
analysis of :mod:`s2sad.analysis.aliases`:

* an argument the function writes into (directly, through a view, or
  through a container that holds it) is copied on entry
  (``x = _rt.own(x)``): the gradient is that of the function of the value
  at entry, and the caller's arrays are never changed;
* a write that another live name sees -- ``z = y[:]; z[0] = 3.0`` and ``y``
  read later, ``v = b; b += 1.0`` and ``v`` read later -- is followed:
  ``a += v`` on such an array becomes an element write ``a[...] = a + v``,
  then ``root = _rt.view_sync(root, z)`` makes the written array depend on
  what was written through the view, and ``w = _rt.view_rederive(w, root)``
  makes every other live name depend on the array it shares memory with
  (``root`` is a name bound to the whole array).  The forward values are
  NumPy's own; the derivative rules of these helpers move adjoints between
  a view and its array (``runtime/views.py``);
* what cannot be followed is refused, naming both names and both lines: a
  container holding the written array, a write into an array outside the
  function, a name that may or may not be a view.
"""

from __future__ import annotations

from s2sad.analysis.aliases import Aliases
from s2sad.errors import InputMutationError, commented_user_line, error_at_loc
from s2sad.ir import nodes as N
from s2sad.rules.splice import rt_call


def functionalize(fn, kinds_in, namer, ns):
    """Rewrite ``fn`` (in place) as described above; returns the final
    alias analysis."""
    al = Aliases(fn, kinds_in)
    owned = _written_params(al)
    if owned:
        fn.body[:0] = [N.Assign(N.Name(p), rt_call(ns, "own", N.Name(p)), loc=fn.body[0].loc) for p in owned]
        al = Aliases(fn, kinds_in)
    for m in al.mutations:
        _refuse_outside(m, al)
    # every write with conflicts is followed, then the program analysed
    # again: following one write changes what the others see (a helper
    # inserted from a stale analysis is still right: at run time each acts
    # only where memory is shared)
    unbound, last, wholes = set(), None, {}
    for _ in range(16):
        todo = [m for m in al.mutations if m.conflicts]
        if not todo:
            break
        now = {(m.stmt.sid, n) for m in todo for n, _ in m.conflicts}
        if now == last:
            break               # following them again changes nothing: refuse (below)
        last = now
        for m in todo:
            unbound |= _follow(fn, m, al, namer, ns, wholes)
        al = Aliases(fn, kinds_in)
    if any(m.conflicts for m in al.mutations):
        m = next(m for m in al.mutations if m.conflicts)
        name, st = m.conflicts[0]
        raise _error(m, name, st, "s2sad could not follow this write")
    # a name bound on some paths only starts as None (the helpers then do nothing)
    if unbound:
        fn.body[:0] = [N.Assign(N.Name(r), N.Const(None), loc=fn.body[0].loc) for r in sorted(unbound)]
        al = Aliases(fn, kinds_in)
    return al


def _written_params(al):
    out = set()
    for m in al.mutations:
        for o in m.objects:
            if o[0] in ("param", "param_item"):
                out.add(o[1])
    return sorted(out)


def _refuse_outside(m, al):
    for o in m.objects:
        if o[0] == "static":
            raise error_at_loc(InputMutationError, m.stmt.loc,
                               f"`{m.name}` refers to an array defined outside the function, and this line changes "
                               "it in place",
                               f"copy it first (`{m.name} = {m.name}.copy()`): the gradient must not change "
                               "module state")


def _error(m, name, st, why):
    line = st.loc.src.file_line(st.loc.line) if st.loc is not None else "?"
    if st.loc is not None and getattr(st.loc.src.fn, "__s2sad_origin__", None) is not None:
        # generated code differentiated again: its names and lines are s2sad's
        at = commented_user_line(st.loc.src.line_text, st.loc.line)
        return error_at_loc(InputMutationError, m.stmt.loc,
                            "s2sad's derivative of this line updates an array in place that another of its values "
                            f"shares (read at line {at if at is not None else '?'} of your code): it cannot be "
                            "differentiated again (a limit of s2sad's second order, not of your code)",
                            "for hvp or grad(grad(...)), write this line without in-place updates or lists built "
                            "element by element (`x = x + ...` rather than `x += ...`; np.stack of expressions "
                            "rather than a comprehension)")
    return error_at_loc(InputMutationError, m.stmt.loc,
                        f"this line changes `{m.name}` in place, and `{name}` (read at line {line}) refers to the "
                        f"same memory: {why}",
                        f"copy first (`{name} = {name}.copy()` or `{m.name} = {m.name}.copy()`) so the write "
                        "changes one object only")


def _follow(fn, m, al, namer, ns, wholes):
    names_ = sorted({n for n, _ in m.conflicts})
    if m.kind == "method":
        name, st = m.conflicts[0]
        raise _error(m, name, st, f"s2sad does not follow changes made by `.{m.stmt.value.func.attr}()`")
    # the arrays the write may change (a view that NumPy may have made a
    # copy of counts as both), and for each a name bound to the whole of it
    real = sorted(m.objects)
    if not real or any(al.types.get(o) not in ("array", "other") for o in real):
        name, st = m.conflicts[0]
        raise _error(m, name, st, "s2sad cannot tell which array the write changes")
    at = al.at.get(m.stmt.sid, {})
    candidates = [m.name] + names_ + sorted(n for n in at if n not in names_ and n != m.name and not n.startswith("\x00"))
    roots, captured = [], set()
    for obj in real:
        here = {n: al.of(m.stmt.sid, n) for n in candidates}
        exact = [n for n in candidates if here[n] == frozenset({(obj, True)}) and not al.maybe_unbound(m.stmt.sid, n)]
        if here[m.name] == frozenset({(obj, True)}) or ((obj, True) in here[m.name] and not exact):
            root = m.name           # written directly when it is that array
        elif exact:
            # bound to that very array on every path (the written name may
            # be it or a view of it: unpacked from a tuple of both, say)
            root = exact[0]
        else:
            # a name made to keep the whole array where it is made; failing
            # that, one bound to it on some paths (the helpers check memory
            # at run time and do nothing where it is something else)
            root = wholes.get(obj) or _capture(fn, obj, namer)
            wholes[obj] = root
            if root is not None:
                captured.add(root)      # unbound on paths that do not make it
            else:
                root = next((n for n in candidates if (obj, True) in here[n]), None)
        if root is None:
            name, st = m.conflicts[0]
            raise _error(m, name, st, "no name holds the whole array it belongs to")
        if root not in roots:
            roots.append(root)
    unbound = {r for r in roots if r != m.name and (r in captured or al.maybe_unbound(m.stmt.sid, r))}
    unbound |= {w for w in names_ if w != m.name and al.maybe_unbound(m.stmt.sid, w)}
    block, i = _find(fn.body, m.stmt)
    loc = m.stmt.loc
    follow = []
    # at run time each helper acts only where the names share memory
    for root in roots:
        if root != m.name:
            follow.append(N.Assign(N.Name(root), rt_call(ns, "view_sync", N.Name(root), N.Name(m.name)),
                                   origin="view", loc=loc))
    # (a helper whose names share no memory, or whose "root" is a view at
    # run time, does nothing)
    for w in names_:
        if w != m.name and w not in roots:
            for root in roots:
                follow.append(N.Assign(N.Name(w), rt_call(ns, "view_rederive", N.Name(w), N.Name(root)),
                                       origin="view", loc=loc))
    if m.kind == "aug":
        # `a += v`: an array is updated in place (every name sharing it sees
        # the change); a number -- even one indexed out of an array -- is
        # rebound (Python decides at run time, so does the generated code)
        t, isarr = namer.fresh("inplace"), namer.fresh("isarray")
        block[i:i + 1] = [
            N.Assign(N.Name(t), m.stmt.value, loc=loc),
            N.Assign(N.Name(isarr), rt_call(ns, "is_array", N.Name(m.name)), loc=loc),
            N.If(N.Name(isarr), [N.Assign(N.Sub(N.Name(m.name), N.Const(Ellipsis)), N.Name(t), loc=loc)] + follow,
                 [N.Assign(N.Name(m.name), N.Name(t), loc=loc)], loc=loc)]
        return unbound
    block[i + 1:i + 1] = follow
    return unbound


def _capture(fn, obj, namer):
    """A new name bound to the array statement ``obj[1]`` makes, right after
    it (no name of the program keeps the whole array until the write)."""
    if obj[0] != "alloc":
        return None
    found = _find_sid(fn.body, obj[1])
    if found is None:
        return None
    block, i = found
    st = block[i]
    if not (isinstance(st, N.Assign) and isinstance(st.target, N.Name)):
        return None
    name = namer.fresh("whole")
    block.insert(i + 1, N.Assign(N.Name(name), N.Name(st.target.id), origin="view", loc=st.loc))
    return name


def _find_sid(body, sid):
    for i, st in enumerate(body):
        if st.sid == sid:
            return body, i
        for b in N.blocks(st):
            r = _find_sid(b, sid)
            if r is not None:
                return r
    return None


def _find(body, target):
    for i, st in enumerate(body):
        if st is target:
            return body, i
        for b in N.blocks(st):
            r = _find(b, target)
            if r is not None:
                return r
    return None
