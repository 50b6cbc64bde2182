# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:branch, wrt=0.
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def branch_grad(x, _out_adj=1.0):
    # golden_funcs.py:21  if np.sum(x) > 0:
    _t1 = np.sum(x)
    _t2 = _t1 > 0
    if _t2:
        # golden_funcs.py:22  y = x * x
        y = x * x
    else:
        # golden_funcs.py:24  y = -np.sin(x)
        _t3 = np.sin(x)
        y = -_t3
    # golden_funcs.py:25  return np.sum(y)
    # ---- reverse sweep ----
    _t4_adj = _out_adj
    # adjoint of golden_funcs.py:25  return np.sum(y)
    y_adj = _rt.sum_adjoint(_t4_adj, y, None, False)
    # adjoint of golden_funcs.py:21  if np.sum(x) > 0:
    if _t2:
        # adjoint of golden_funcs.py:22  y = x * x
        x_adj = _rt.unbroadcast(y_adj * x, x)
        x_adj = _rt.accumulate(x_adj, _rt.unbroadcast(y_adj * x, x))
    else:
        # adjoint of golden_funcs.py:24  y = -np.sin(x)
        _t3_adj = -y_adj
        x_adj = _t3_adj * np.cos(x)
    return _rt.grad_out(x_adj, x)
