import numpy as np
def f(x):
    s = 0.0
    for i in range(5):
        if i == 3:
            break
        s = s + x * i
    return s
def g(x):
    s = 0.0
    for i in range(5):
        if i == 2:
            continue
        s = s + x * i
    return s
def sinf(x):
    return np.sin(x)
sq = lambda x: np.sum(x * x)
def nonscalar(x):
    return x * 2.0
def sg(x):
    return np.sum(x * s2sad_stop(x))
import s2sad
s2sad_stop = s2sad.stop_gradient
