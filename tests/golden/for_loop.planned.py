# Golden file: the planned variant s2sad makes for tests/golden_funcs.py:for_loop, wrt=(0, 1), at the shapes of golden_funcs.example_args.
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def for_loop_grad_planned(x, W, _out_adj=1.0, _ws=None, _outs=None):
    #  planned for this signature: buffers from the workspace _ws
    _b0, _b1, _b2 = _ws.buffers
    _rs0, = _ws.rows
    _r1 = _rp.result(_outs, 1, (3, 3), 'float64')
    _stack = []
    h = None
    # golden_funcs.py:29  h = x
    h = x
    # golden_funcs.py:30  for i in range(3):
    for i in range(3):
        # golden_funcs.py:31  h = np.tanh(W @ h)
        _t1 = np.matmul(W, h, out=_b0)
        _stack.append(h)
        h = np.tanh(_t1, out=_rs0.next())
    # golden_funcs.py:32  return np.sum(h)
    # ---- reverse sweep ----
    _t2_adj = _out_adj
    # adjoint of golden_funcs.py:32  return np.sum(h)
    _b0.fill(_t2_adj)
    h_adj = _b0
    _r1.fill(0)
    W_adj = _r1
    # adjoint of golden_funcs.py:30  for i in range(3):
    _d0 = _ws.pairs[0].begin()
    for i in reversed(range(3)):
        # adjoint of golden_funcs.py:31  h = np.tanh(W @ h)
        _p1 = np.multiply(h, h, out=_b1)
        _p2 = np.subtract(1.0, _p1, out=_b1)
        _t1_adj = np.multiply(h_adj, _p2, out=_b1)
        h = _stack.pop()
        _rt.pair_add(_d0, _t1_adj, W, h, 'a')
        h_adj = np.matmul(W.T, _t1_adj, out=_b0)
    _d0.total_into(_b2)
    _d0_total = _b2
    W_adj = np.add(W_adj, _d0_total, out=_r1)
    # adjoint of golden_funcs.py:29  h = x
    x_adj = h_adj
    return (_rp.deliver(_rt.grad_out(x_adj, x), _outs, 0, True), W_adj)
