"""Fuzz regression case (seed 7352).

It showed:

    wrong gradient [shape]
    d/dy along a random direction: s2sad -0.00352748984, finite differences 0

tests/fuzz/test_corpus.py runs it through every check of the fuzzer;
it passes once the compiler is fixed."""

import math
import numpy as np
import s2sad
OFFSET = 0.35

def f(x, y):
    x = x.ravel()
    w = np.cos(y)
    v = w
    t1 = 0
    t2 = 0.5
    b = w[0]
    i = 0
    i = i
    t3 = 3
    pass
    h = w[0]
    t1 += 2.0
    acc = 0.5
    parts1 = 0.5
    while i < 3:
        i = i + 1
        if i % 2 == 0:
            pass
        else:
            w = w * (0.2 * np.tanh(np.square(0.1 * t1)))
        b[h > -0.2] = 0.1 * np.tanh(np.log1p(np.sqrt((np.tanh(b[-1] + t3) * t1) ** 2 + 0.5)))
    return acc + 0.5 * np.sum(h ** 2)


# ---- fuzz case data (not part of the program) ----
import numpy as np  # noqa: E402 (the program may not import it)
FUZZ_META = {'params': [('x', 'array', (1, 4), (1, 5)), ('y', 'array', (4, 1), (5, 1))],
 'wrt': (0, 1),
 'seed': 7352,
 'gen_seed': 7352000,
 'global_change': None}
FUZZ_ARGS = [np.array([[0.9678478241249024, -0.32198847487576404, -0.2761964322960685, 0.8843836724791532]]), np.array([[0.9184240512885773], [-0.49241290651409947], [0.8619999344474956], [-0.6601891387221834]])]
FUZZ_ALT_ARGS = [np.array([[0.6537835979391493, -0.8106241055355419, -0.9619580324265111, -0.3335197076098062, -0.36427459803774814]]), np.array([[-0.7114259792161521], [0.28002167205090855], [0.3100014560462985], [0.6507723768737108], [-0.32018974287181073]])]
FUZZ_EXPECT = 'wrong gradient [shape]'
