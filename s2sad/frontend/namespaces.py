"""Array API namespaces in the differentiated code.

``xp = array_namespace(x)`` (array-api-compat's, or its alias
``get_namespace``) and ``xp = x.__array_namespace__()`` bind ``xp`` to the
namespace of the arguments' arrays.  The compiled gradient is specialised
to the argument types (``s2sad.api`` keys it by them), so the namespace is
known when the code is lowered: ``xp`` becomes a static name, like a
module passed as ``def f(x, xp=np)``, and ``xp.sin(x)`` finds the rule of
``np.sin`` by name (``s2sad.rules.core``).
"""

from __future__ import annotations

from s2sad.frontend import syntax as S
from s2sad.frontend.scope import assigned_once
from s2sad.ir.visit import is_static, static_value

_FUNCTIONS = ("array_namespace", "get_namespace")


def is_namespace_call(nz, node):
    """Is ``node`` a call that returns the arrays' namespace?"""
    if not isinstance(node, S.Call):
        return False
    f = node.func
    if isinstance(f, S.Attribute) and f.attr == "__array_namespace__":
        return True
    if not isinstance(f, (S.Name, S.Attribute)):
        return False
    try:
        r = nz.resolve(f)
    except Exception:       # an undefined name: reported where it is lowered
        return False
    if not is_static(r):
        return False
    obj = static_value(r)
    return getattr(obj, "__name__", None) in _FUNCTIONS and \
        (getattr(obj, "__module__", "") or "").split(".")[0] == "array_api_compat"


def arguments_namespace(args):
    """The namespace ``array_namespace`` returns for the array arguments
    ``args`` (NumPy's, through array-api-compat, when there are none)."""
    from s2sad_runtime.namespaces import namespace_of_args
    xp = namespace_of_args(args or ())
    if xp is not None:
        return xp
    try:
        import array_api_compat
    except ImportError:
        import numpy
        return numpy
    arrays = [a for a in (args or ()) if hasattr(a, "shape") and hasattr(a, "dtype")]
    try:
        return array_api_compat.array_namespace(*arrays) if arrays else array_api_compat.numpy
    except TypeError:
        return array_api_compat.numpy


def bind_namespace(nz, st):
    """``xp = array_namespace(...)``: make ``xp`` a static name."""
    name = st.targets[0].id
    sc = nz.cur_scope
    if not assigned_once(sc, name):
        raise nz.error(st, f"`{name}` holds an array namespace and is assigned more than once",
                       "assign the namespace once, at the top of the function")
    sc.consts[name] = nz.static_ref(arguments_namespace(nz.namespace_args), name)
