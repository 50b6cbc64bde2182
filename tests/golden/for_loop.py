# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:for_loop, wrt=(0, 1).
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def for_loop_grad(x, W, _out_adj=1.0):
    _stack = []
    h = None
    # golden_funcs.py:29  h = x
    h = x
    # golden_funcs.py:30  for i in range(3):
    for i in range(3):
        # golden_funcs.py:31  h = np.tanh(W @ h)
        _t1 = W @ h
        _stack.append(h)
        h = np.tanh(_t1)
    # golden_funcs.py:32  return np.sum(h)
    # ---- reverse sweep ----
    _t2_adj = _out_adj
    # adjoint of golden_funcs.py:32  return np.sum(h)
    h_adj = _rt.sum_adjoint(_t2_adj, h, None, False)
    W_adj = _rt.zeros_like(W)
    # adjoint of golden_funcs.py:30  for i in range(3):
    for i in reversed(range(3)):
        # adjoint of golden_funcs.py:31  h = np.tanh(W @ h)
        _t1_adj = h_adj * (1.0 - h * h)
        h = _stack.pop()
        W_adj = _rt.accumulate(W_adj, _rt.matmul_adjoint_a(_t1_adj, W, h))
        h_adj = _rt.matmul_adjoint_b(_t1_adj, W, h)
    # adjoint of golden_funcs.py:29  h = x
    x_adj = h_adj
    return (_rt.grad_out(x_adj, x), _rt.grad_out(W_adj, W))
