# Golden file: the adjoint s2sad generates for tests/golden_funcs.py:while_loop, wrt=0.
# Regenerate: S2SAD_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

def while_loop_grad(a, _out_adj=1.0):
    _stack = []
    _t2 = None
    x = None
    # golden_funcs.py:36  x = a
    x = a
    # golden_funcs.py:37  i = 0
    i = 0
    # golden_funcs.py:38  while i < 5:
    _t1 = i < 5
    _n2 = 0
    while _t1:
        _n2 = _n2 + 1
        # golden_funcs.py:39  x = 0.5 * (x + a / x)
        _stack.append(_t2)
        _t2 = a / x
        _t3 = x + _t2
        _stack.append(x)
        x = 0.5 * _t3
        # golden_funcs.py:40  i = i + 1
        i = i + 1
        _t1 = i < 5
    _rt.check_scalar_output(x, _loc)
    # ---- reverse sweep ----
    x_adj = _out_adj
    a_adj = _rt.zeros_like(a)
    # adjoint of golden_funcs.py:38  while i < 5:
    for _ in range(_n2):
        # adjoint of golden_funcs.py:39  x = 0.5 * (x + a / x)
        _t3_adj = x_adj * 0.5
        x = _stack.pop()
        x_adj = _rt.unbroadcast(_t3_adj, x)
        _t2_adj = _rt.unbroadcast(_t3_adj, _t2)
        a_adj = _rt.accumulate(a_adj, _rt.unbroadcast(_t2_adj / x, a))
        x_adj = _rt.accumulate(x_adj, _rt.unbroadcast(-_t2_adj * _t2 / x, x))
        _t2 = _stack.pop()
    # adjoint of golden_funcs.py:36  x = a
    a_adj = _rt.accumulate(a_adj, x_adj)
    return _rt.grad_out(a_adj, a)
