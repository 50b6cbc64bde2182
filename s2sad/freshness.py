"""Freshness: generated code resolves the globals, closure values and
attributes it reads when it is built; the derivative must be that of the
function as Python runs it now, so a transform watches those bindings and
rebuilds when one is rebound (#9)."""

from __future__ import annotations

_MISSING = object()


class WatchesBindings:
    """Mixed into a transformed function: ``_watch`` holds ``(kind, where,
    key, object)`` of every outside binding its generated code read."""

    _watch = ()

    def _stale(self):
        """Has a global, closure value or attribute the generated code read
        at compile time been rebound since?"""
        for kind, where, key, obj in self._watch:
            if kind == "global":
                if where.get(key, _MISSING) is not obj:
                    return True
            elif kind == "cell":
                try:
                    if where.cell_contents is not obj:
                        return True
                except ValueError:
                    return True
            elif getattr(where, key, _MISSING) is not obj:
                return True
        return False

    def _watch_bindings(self, f):
        """Watch the bindings generated function ``f`` read."""
        seen = {(id(w[1]), w[2]) for w in self._watch}
        new = [w for w in getattr(f, "__s2sad_bindings__", ()) if (id(w[1]), w[2]) not in seen]
        if new:
            self._watch = tuple(self._watch) + tuple(new)
