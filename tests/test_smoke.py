import numpy as np

from helpers import check_grads
import smoke_funcs as F


def test_mlp_loss():
    rng = np.random.default_rng(0)
    W, b, X, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    check_grads(F.loss, (W, b, X, y), wrt=(0, 1))


def test_loop_branch_while_break():
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))
    check_grads(F.f_loop, (x, W), wrt=(0, 1))
    check_grads(F.f_branch, (x,))
    check_grads(F.f_branch, (-np.abs(x),))
    check_grads(F.f_while, (0.3,))
    check_grads(F.lse_loop, (x,))
    check_grads(F.brk, (rng.normal(size=10),))
