"""Kepler's equation M = E - e sin E solved by Newton iterations in a
``while`` loop with a tolerance test, differentiated with respect to the
mean anomaly M and the eccentricity e -- all in Python floats and ``math``.

The derivative of the unrolled iterations agrees with the implicit-function
theorem (dE/dM = 1 / (1 - e cos E), dE/de = sin E / (1 - e cos E)).

    python examples/kepler.py
"""

import math

import s2sad


def eccentric_anomaly(M, e):
    E = M if e < 0.8 else math.pi
    delta = 1.0
    while abs(delta) > 1e-13:
        delta = (E - e * math.sin(E) - M) / (1.0 - e * math.cos(E))
        E = E - delta
    return E


def position(M, e, a):
    """x coordinate of the orbiting body (focus at the origin)."""
    E = eccentric_anomaly(M, e)
    return a * (math.cos(E) - e)


def main():
    M, e = 1.2, 0.3
    dE = s2sad.grad(eccentric_anomaly, wrt=(0, 1))
    gM, ge = dE(M, e)
    E = eccentric_anomaly(M, e)
    print(f"E = {E:.15f}")
    print(f"dE/dM: s2sad {gM:.15f}   implicit {1 / (1 - e * math.cos(E)):.15f}")
    print(f"dE/de: s2sad {ge:.15f}   implicit {math.sin(E) / (1 - e * math.cos(E)):.15f}")
    gx = s2sad.grad(position, wrt=(0, 1, 2))(M, e, 1.5)
    print("d x / d(M, e, a) =", gx)
    print(s2sad.grad(eccentric_anomaly, wrt=(0, 1)).source)


if __name__ == "__main__":
    main()
