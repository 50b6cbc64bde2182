"""s2sad: source-to-source automatic differentiation for numeric Python.

    >>> import s2sad
    >>> df = s2sad.grad(f)          # doctest: +SKIP
    >>> print(df.source)            # doctest: +SKIP
"""

from s2sad.api import (  # noqa: F401
    adjoint, grad, hessian, hvp, jvp, show, stop_gradient, value_and_grad, vjp,
)
from s2sad.export import export  # noqa: F401
from s2sad.precision import LossScaler, Precision  # noqa: F401
from s2sad.vmap import vmap  # noqa: F401
from s2sad.per_example import clipped_grad, per_example_norms  # noqa: F401
from s2sad.errors import (  # noqa: F401
    ArgumentError, DerivativeDomainError, InputMutationError, NoRuleError, NonDifferentiableInputError, NonScalarOutputError,
    ResolutionError, S2SadError, UnsupportedSyntaxError,
)
from s2sad.rules import DEFAULT_RULES, RuleTable  # noqa: F401
from s2sad_runtime.loops import Checkpoint, Reversible, Tape, checkpointed, reversible  # noqa: F401
from s2sad import optimize  # noqa: E402,F401
from s2sad import dask  # noqa: E402,F401 (imports Dask itself only when used)
from s2sad.optimize import estimate_scale, lissa  # noqa: E402,F401

optim = optimize      # the name of earlier versions

__version__ = "0.1.0"
