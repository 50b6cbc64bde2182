# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:call, wrt=(0, 1).
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def call_grad(x, W, _out_adj=1.0):
    # golden_funcs.py:61  return scale * (W @ h)
    _t1 = W @ x
    _t2 = 1.0 * _t1
    # golden_funcs.py:65  h = np.tanh(_affine(W, x))
    h = np.tanh(_t2)
    # golden_funcs.py:61  return scale * (W @ h)
    _t3 = W @ h
    _t4 = 0.5 * _t3
    # golden_funcs.py:66  return np.sum(_affine(W, h, scale=0.5))
    # ---- reverse sweep ----
    _t5_adj = _out_adj
    # adjoint of golden_funcs.py:66  return np.sum(_affine(W, h, scale=0.5))
    _t4_adj = _rt.sum_adjoint(_t5_adj, _t4, None, False)
    # adjoint of golden_funcs.py:61  return scale * (W @ h)
    _t3_adj = _t4_adj * 0.5
    W_adj = _rt.matmul_adjoint_a(_t3_adj, W, h)
    h_adj = _rt.matmul_adjoint_b(_t3_adj, W, h)
    # adjoint of golden_funcs.py:65  h = np.tanh(_affine(W, x))
    _t2_adj = h_adj * (1.0 - h * h)
    # adjoint of golden_funcs.py:61  return scale * (W @ h)
    _t1_adj = _t2_adj * 1.0
    W_adj = _rt.accumulate(W_adj, _rt.matmul_adjoint_a(_t1_adj, W, x))
    x_adj = _rt.matmul_adjoint_b(_t1_adj, W, x)
    return (_rt.grad_out(x_adj, x), _rt.grad_out(W_adj, W))
