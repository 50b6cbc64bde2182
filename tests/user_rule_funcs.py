import numpy as np

import s2sad


def softplus(x):
    # pretend s2sad cannot see into this (e.g. a compiled kernel)
    return np.log1p(np.exp(x))


def scaled_dist(x, y, p):
    return np.sum((x - y) ** 2) * p


def uses_softplus(x):
    return np.sum(softplus(x) * x)


def uses_dist(x, y):
    return scaled_dist(x, y, 3) + np.sum(x)


def clipped_identity(x):
    return x


def uses_clip(x):
    # a pseudo-gradient: the rule clips what flows back
    return np.sum(clipped_identity(x) * 10.0)


my_rules = s2sad.RuleTable(parent=s2sad.DEFAULT_RULES)
