# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:keywords, wrt=0.
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def keywords_grad(x, _out_adj=1.0):
    # golden_funcs.py:45  m = np.mean(x * x, axis=0, keepdims=True)
    _t1 = x * x
    m = np.mean(_t1, axis=0, keepdims=True)
    # golden_funcs.py:46  return np.sum(np.maximum(m, 0.1), axis=None)
    _t2 = np.maximum(m, 0.1)
    # ---- reverse sweep ----
    _t3_adj = _out_adj
    # adjoint of golden_funcs.py:46  return np.sum(np.maximum(m, 0.1), axis=None)
    _t2_adj = _rt.sum_adjoint(_t3_adj, _t2, None, False)
    m_adj = _t2_adj * _rt.tie_weight(m, 0.1)
    # adjoint of golden_funcs.py:45  m = np.mean(x * x, axis=0, keepdims=True)
    _t1_adj = _rt.mean_adjoint(m_adj, _t1, 0, True)
    x_adj = _rt.unbroadcast(_t1_adj * x, x)
    x_adj = _rt.accumulate(x_adj, _rt.unbroadcast(_t1_adj * x, x))
    return _rt.grad_out(x_adj, x)
