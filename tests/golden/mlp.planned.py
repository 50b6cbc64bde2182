# Golden file: the planned variant s2sad makes for tests/golden_funcs.py:mlp, wrt=(0, 1, 2), at the shapes of golden_funcs.example_args.
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def mlp_grad_planned(W1, b1, W2, X, y, _out_adj=1.0, _ws=None, _outs=None):
    #  planned for this signature: buffers from the workspace _ws
    _b0, _b1, _b2, _b3, _b4, _b5, _b6, _b7 = _ws.buffers
    _r0 = _rp.result(_outs, 0, (3, 4), 'float64')
    _r1 = _rp.result(_outs, 1, (4,), 'float64')
    _r2 = _rp.result(_outs, 2, (4, 2), 'float64')
    # golden_funcs.py:15  h = np.tanh(X @ W1 + b1)
    _t1 = np.matmul(X, W1, out=_b0)
    _t2 = np.add(_t1, b1, out=_b1)
    h = np.tanh(_t2, out=_b1)
    # golden_funcs.py:16  out = h @ W2
    out = np.matmul(h, W2, out=_b2)
    # golden_funcs.py:17  return 0.5 * np.mean((out - y) ** 2)
    _t3 = np.subtract(out, y, out=_b3)
    _t4 = np.power(_t3, 2, out=_b4)
    np.mean(_t4, out=_b7)
    _t5 = _b7[()]
    _t6 = 0.5 * _t5
    _rt.check_scalar_output(_t6, _loc)
    # ---- reverse sweep ----
    _t6_adj = _out_adj
    # adjoint of golden_funcs.py:17  return 0.5 * np.mean((out - y) ** 2)
    _t5_adj = _t6_adj * 0.5
    _b5.fill(_t5_adj / 10)
    _t4_adj = _b5
    _p1 = np.multiply(_t4_adj, 2, out=_b4)
    _t3_adj = np.multiply(_p1, _t3, out=_b3)
    out_adj = _t3_adj
    # adjoint of golden_funcs.py:16  out = h @ W2
    h_adj = np.matmul(out_adj, W2.T, out=_b6)
    W2_adj = np.matmul(h.T, out_adj, out=_r2)
    # adjoint of golden_funcs.py:15  h = np.tanh(X @ W1 + b1)
    _p2 = np.multiply(h, h, out=_b1)
    _p3 = np.subtract(1.0, _p2, out=_b1)
    _t2_adj = np.multiply(h_adj, _p3, out=_b1)
    _t1_adj = _t2_adj
    b1_adj = np.sum(_t2_adj, axis=(0,), out=_r1)
    W1_adj = np.matmul(X.T, _t1_adj, out=_r0)
    return (W1_adj, b1_adj, W2_adj)
