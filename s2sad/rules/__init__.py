"""Derivative rules.  ``DEFAULT_RULES`` is the built-in table; make your own
with ``RuleTable(parent=DEFAULT_RULES)`` and pass ``rules=`` to a transform."""

from s2sad.rules.core import Rule, RuleTable, d, late_rules  # noqa: F401
from s2sad.rules import array_rules as _array_rules
from s2sad.rules import batch_rules as _batch_rules
from s2sad.rules import batched_rules as _batched_rules
from s2sad.rules import runtime_rules as _runtime_rules
from s2sad.rules import scipy_rules as _scipy_rules
from s2sad.rules import scipy_linalg_rules as _scipy_linalg_rules
from s2sad.rules import scipy_signal_rules as _scipy_signal_rules
from s2sad.rules import second_rules as _second_rules
from s2sad.rules import stats_rules as _stats_rules
from s2sad.rules import selection_rules as _selection_rules
from s2sad.rules.numpy_rules import T as _numpy_table

_runtime_rules.register(_numpy_table)
_array_rules.register(_numpy_table)
_selection_rules.register(_numpy_table)
_second_rules.register(_numpy_table)
_batch_rules.register(_numpy_table)
_batched_rules.register(_numpy_table)
late_rules("scipy.special", _scipy_rules.register)     # on first need, once the program imports SciPy
late_rules("scipy.stats", _stats_rules.register)
late_rules("scipy.linalg", _scipy_linalg_rules.register)
late_rules("scipy.signal", _scipy_signal_rules.register)

DEFAULT_RULES = RuleTable(parent=_numpy_table)
