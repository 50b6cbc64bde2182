"""Small optimizers over parameter arrays (or tuples of arrays), no framework.

Steps are pure functions that return new parameters::

    params = sgd_step(params, grads, lr)
    params, velocity = momentum_step(params, velocity, grads, lr, beta)
    params, direction = newton_lissa_step(params, grads, hvp_fn, lr, depth=..., scale=...)

and :func:`minimize` drives them with s2sad's ``grad`` and ``hvp`` of a loss
written in NumPy, drawing a new mini-batch per step from a user function,
and records the loss, the wall time and the work done::

    res = s2sad.optim.minimize(loss, (W, b), data=(X, y), method="lissa",
                               batch=lambda rng: sample(rng, 64), steps=50)
    res.loss, res.grad_evals, res.examples, res.time

Counting work
-------------
``grad_evals`` counts calls: one per gradient, **two per Hessian-vector
product**, whatever the batch size.  Two is the usual convention (an HVP by
forward over reverse is a forward and a reverse pass with tangents); the
measured time of s2sad's HVP is 2-3 gradients (``bench/hvp.py``).
``examples`` counts per-example work, the unit of the LiSSA paper and of
stochastic-optimization analyses: a gradient on a batch of ``b`` examples
counts ``b``, a Hessian-vector product on ``b`` examples counts ``2 b``; one
epoch of ``n`` examples is ``n``.  The batch size is the leading dimension of
the first data argument that has one.  Loss evaluations for the history and
the power iterations that choose LiSSA's scale are handled as documented in
:func:`minimize`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from s2sad.errors import ArgumentError
from s2sad.optimize.lissa import LissaDivergenceError, estimate_scale, lissa, tree_map

__all__ = ["sgd_step", "momentum_step", "newton_lissa_step", "minimize", "Result"]


# ---------------------------------------------------------------- steps

def sgd_step(params, grads, lr):
    """``params - lr * grads`` (leaf by leaf for tuples of arrays)."""
    return tree_map(lambda p, g: p - lr * g, params, grads)


def momentum_step(params, velocity, grads, lr, beta=0.9):
    """Heavy-ball momentum: ``velocity = beta * velocity + grads``;
    ``params = params - lr * velocity``.  ``velocity=None`` starts at zero.
    Returns ``(params, velocity)``."""
    if velocity is None:
        velocity = tree_map(lambda g: 0.0 * g, grads)
    velocity = tree_map(lambda m, g: beta * m + g, velocity, grads)
    return tree_map(lambda p, m: p - lr * m, params, velocity), velocity


def newton_lissa_step(params, grads, hvp_fn, lr=1.0, *, depth, scale, damping=0.0, samples=1, rng=None,
                      check=True):
    """A stochastic Newton step: ``params - lr * (H + damping*scale*I)^-1 grads``
    with the inverse applied by :func:`s2sad.lissa` (``depth * samples``
    calls of ``hvp_fn``, a callable ``u -> H~ u``).  Returns
    ``(params, direction)``."""
    direction = lissa(hvp_fn, grads, depth=depth, scale=scale, damping=damping, samples=samples, rng=rng,
                      check=check)
    return tree_map(lambda p, d: p - lr * d, params, direction), direction


# ---------------------------------------------------------------- driver

@dataclass
class Result:
    """What :func:`minimize` did.  The lists have one entry per recorded
    point (step 0 and every ``record_every`` steps): ``loss`` on
    ``eval_data``, ``step``, ``grad_evals`` and ``examples`` done so far
    (see the module docstring), ``time`` in seconds of optimization so far
    (loss evaluations for the record excluded).  ``scale`` is LiSSA's last
    scale, ``retries`` the LiSSA steps redone with a doubled scale
    (``on_divergence="rescale"``)."""
    method: str
    params: object
    loss: list = field(default_factory=list)
    step: list = field(default_factory=list)
    grad_evals: list = field(default_factory=list)
    examples: list = field(default_factory=list)
    time: list = field(default_factory=list)
    scale: float | None = None
    retries: int = 0

    @property
    def final_loss(self):
        return self.loss[-1]


def _batch_size(args):
    for a in args:
        if np.ndim(a) >= 1:
            return int(np.shape(a)[0])
    return 1


def _random_like(tree, rng):
    return tree_map(lambda p: rng.standard_normal(np.shape(p)) if np.ndim(p) else float(rng.standard_normal()),
                    tree)


def minimize(loss, params, data=(), *, method="sgd", lr=None, steps=None, budget=None, budget_unit="grad_evals",
             batch=None, hvp_batch=None, beta=0.9, depth=10, scale="auto", damping=0.0, samples=1,
             scale_iters=20, scale_safety=1.5, rescale_every=None, on_divergence="raise", eval_data=None,
             record_every=1, seed=0, callback=None, verbose=False, rules=None):
    """Minimize ``loss`` from ``params`` with SGD, momentum or LiSSA-Newton.

    Args:
        loss: a scalar NumPy function defined in a ``.py`` file, called as
            ``loss(params, *data)`` when ``params`` is an array or float, or
            ``loss(*params, *data)`` when it is a tuple of them.
        params: the starting parameters (an array, a float or a tuple).
        data: the data arguments (e.g. ``(X, y, lam)``), used for every step
            when ``batch`` is None, and for the recorded loss when
            ``eval_data`` is None.
        method: ``"sgd"``, ``"momentum"`` or ``"lissa"``.
        lr: the step size (required for ``sgd``/``momentum``; LiSSA's default
            is 1.0, a full Newton step).
        steps: the number of steps; or ``budget``: a cap on the work done
            (in ``budget_unit``, ``"grad_evals"`` or ``"examples"``): no
            step starts that would pass it, judged by the work of the step
            before (the first step always runs; a step that rescales or
            retries may cost more than its predecessor).  At least one of
            them.
        batch: ``batch(rng) -> tuple`` of data arguments for one step's
            gradient (``rng`` is the driver's ``numpy.random.Generator``);
            a new batch is drawn every step.
        hvp_batch: the same for each Hessian-vector product of LiSSA; every
            hvp gets a fresh batch.  Defaults to ``batch``; with both None
            the Hessian is exact (the full ``data``).
        beta: momentum coefficient.
        depth, damping, samples: LiSSA's parameters (see :func:`s2sad.lissa`).
        scale: LiSSA's scale, or ``"auto"``: ``scale_safety`` times the
            largest eigenvalue estimated by ``scale_iters`` power iterations
            (:func:`s2sad.lissa.estimate_scale`) at the starting point, and
            again every ``rescale_every`` steps if given.  Those
            hvps are counted in the work like any other.
        on_divergence: what LiSSA does when a chain diverges (the scale was
            below a sampled Hessian's eigenvalues, or damping too small for
            its negative ones): ``"raise"`` the
            :class:`s2sad.lissa.LissaDivergenceError` (an ``S2SadError``),
            or ``"rescale"``: double the scale and redo the step, up to 5
            times per step (the work of the failed attempts is counted;
            ``Result.retries`` says how many there were).
        eval_data: data for the recorded loss (default ``data``); recording
            is neither timed nor counted as work.
        record_every: record every this many steps (and the last one).
        seed: seeds the driver's random generator (batches, power iteration).
        callback: ``callback(step, params, loss_value)`` at each record.
        verbose: print each record.
        rules: a :class:`s2sad.RuleTable` for the transforms.

    Returns:
        :class:`Result`.
    """
    import s2sad

    if method not in ("sgd", "momentum", "lissa"):
        raise ArgumentError(f"minimize: method must be 'sgd', 'momentum' or 'lissa', got {method!r}")
    if steps is None and budget is None:
        raise ArgumentError("minimize: give steps, budget, or both")
    if budget_unit not in ("grad_evals", "examples"):
        raise ArgumentError(f"minimize: budget_unit must be 'grad_evals' or 'examples', got {budget_unit!r}")
    if on_divergence not in ("raise", "rescale"):
        raise ArgumentError(f"minimize: on_divergence must be 'raise' or 'rescale', got {on_divergence!r}")
    if isinstance(scale, str) and scale != "auto":
        raise ArgumentError(f"minimize: scale must be a number or 'auto', got {scale!r}")
    if lr is None:
        if method == "lissa":
            lr = 1.0
        else:
            raise ArgumentError(f"minimize: method {method!r} needs a learning rate lr")
    data = tuple(data)
    eval_data = data if eval_data is None else tuple(eval_data)
    multi = isinstance(params, tuple)
    if isinstance(params, (list, dict)):
        raise ArgumentError("minimize: params must be an array, a float or a tuple of them",
                            hint="pass a tuple: each element becomes one positional argument of loss")
    nparams = len(params) if multi else 1
    wrt = tuple(range(nparams)) if multi else 0

    def spread(p):
        return tuple(p) if multi else (p,)

    vg = s2sad.value_and_grad(loss, wrt=wrt, rules=rules)
    hv = s2sad.hvp(loss, wrt=wrt, rules=rules) if method == "lissa" else None
    rng = np.random.default_rng(seed)
    if hvp_batch is None:
        hvp_batch = batch

    work = {"grad_evals": 0, "examples": 0}

    def draw(fn):
        return data if fn is None else tuple(fn(rng))

    def grad_at(p):
        args = draw(batch)
        work["grad_evals"] += 1
        work["examples"] += _batch_size(args)
        return vg(*spread(p), *args)[1]

    def make_hvp(p):
        def hvp_fn(u):
            args = draw(hvp_batch)
            work["grad_evals"] += 2
            work["examples"] += 2 * _batch_size(args)
            return hv(*spread(p), *args, u)
        return hvp_fn

    # compile the transforms before the clock starts
    warm = np.random.default_rng(0)
    vg.compiled(spread(params) + (data if batch is None else tuple(batch(warm))))
    if hv is not None:
        hv.jvp.compiled(spread(params) + (data if hvp_batch is None else tuple(hvp_batch(warm))))

    res = Result(method=method, params=params)
    elapsed = 0.0

    def record(step, p):
        value = float(loss(*spread(p), *eval_data))
        res.loss.append(value)
        res.step.append(step)
        res.grad_evals.append(work["grad_evals"])
        res.examples.append(work["examples"])
        res.time.append(elapsed)
        if verbose:
            print(f"  {method:>8s} step {step:5d}  loss {value:.6g}  grad evals {work['grad_evals']:7d}  "
                  f"examples {work['examples']:9d}  {elapsed:7.3f} s", flush=True)
        if callback is not None:
            callback(step, p, value)

    last_step = [0]       # the work of the step before, in budget_unit

    def done(step):
        if steps is not None and step >= steps:
            return True
        return budget is not None and work[budget_unit] + last_step[0] > budget

    record(0, params)
    velocity = None
    cur_scale = None
    if method == "lissa" and not (isinstance(scale, str) and scale == "auto"):
        cur_scale = float(scale)
    step = 0
    while not done(step):
        t0 = time.perf_counter()
        before = work[budget_unit]
        if method == "lissa" and (cur_scale is None or
                                  (rescale_every and step % rescale_every == 0 and isinstance(scale, str))):
            cur_scale = estimate_scale(make_hvp(params), _random_like(params, rng), iters=scale_iters,
                                       safety=scale_safety)
        g = grad_at(params)
        if method == "sgd":
            params = sgd_step(params, g, lr)
        elif method == "momentum":
            params, velocity = momentum_step(params, velocity, g, lr, beta)
        else:
            for attempt in range(6):
                try:
                    params, _ = newton_lissa_step(params, g, make_hvp(params), lr, depth=depth, scale=cur_scale,
                                                  damping=damping, samples=samples)
                    break
                except LissaDivergenceError:
                    if on_divergence == "raise" or attempt == 5:
                        raise
                    cur_scale *= 2.0
                    res.retries += 1
        elapsed += time.perf_counter() - t0
        last_step[0] = work[budget_unit] - before
        step += 1
        if step % record_every == 0 or done(step):
            record(step, params)
    res.params = params
    res.scale = cur_scale
    return res
