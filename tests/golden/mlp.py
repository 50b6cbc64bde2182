# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:mlp, wrt=(0, 1, 2).
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def mlp_grad(W1, b1, W2, X, y, _out_adj=1.0):
    # golden_funcs.py:15  h = np.tanh(X @ W1 + b1)
    _t1 = X @ W1
    _t2 = _t1 + b1
    h = np.tanh(_t2)
    # golden_funcs.py:16  out = h @ W2
    out = h @ W2
    # golden_funcs.py:17  return 0.5 * np.mean((out - y) ** 2)
    _t3 = out - y
    _t4 = _t3 ** 2
    _t5 = np.mean(_t4)
    _t6 = 0.5 * _t5
    _rt.check_scalar_output(_t6, _loc)
    # ---- reverse sweep ----
    _t6_adj = _out_adj
    # adjoint of golden_funcs.py:17  return 0.5 * np.mean((out - y) ** 2)
    _t5_adj = _t6_adj * 0.5
    _t4_adj = _rt.mean_adjoint(_t5_adj, _t4, None, False)
    _t3_adj = _t4_adj * 2 * _t3
    out_adj = _rt.unbroadcast(_t3_adj, out)
    # adjoint of golden_funcs.py:16  out = h @ W2
    h_adj = _rt.matmul_adjoint_a(out_adj, h, W2)
    W2_adj = _rt.matmul_adjoint_b(out_adj, h, W2)
    # adjoint of golden_funcs.py:15  h = np.tanh(X @ W1 + b1)
    _t2_adj = h_adj * (1.0 - h * h)
    _t1_adj = _rt.unbroadcast(_t2_adj, _t1)
    b1_adj = _rt.unbroadcast(_t2_adj, b1)
    W1_adj = _rt.matmul_adjoint_b(_t1_adj, X, W1)
    return (_rt.grad_out(W1_adj, W1), _rt.grad_out(b1_adj, b1), _rt.grad_out(W2_adj, W2))
