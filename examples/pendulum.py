"""A damped pendulum stepped with ``math`` functions on Python floats
(semi-implicit Euler), differentiated with respect to its length, damping
and initial state.

    python examples/pendulum.py
"""

import math

import s2sad

G = 9.81


def final_angle(length, damping, theta0, omega0, dt=0.01, steps=500):
    theta, omega = theta0, omega0
    for k in range(steps):
        omega = omega - dt * (G / length * math.sin(theta) + damping * omega)
        theta = theta + dt * omega
    return theta


def energy_after(length, damping, theta0, omega0):
    theta = theta0
    omega = omega0
    t = 0.0
    while t < 3.0:
        omega = omega - 0.01 * (G / length * math.sin(theta) + damping * omega)
        theta = theta + 0.01 * omega
        t = t + 0.01
    return 0.5 * (length * omega) ** 2 + G * length * (1.0 - math.cos(theta))


def main():
    args = (1.0, 0.3, 0.8, 0.0)
    g = s2sad.grad(final_angle, wrt=(0, 1, 2, 3))(*args)
    print("d theta(T) / d(length, damping, theta0, omega0) =", g)
    ge = s2sad.grad(energy_after, wrt=(0, 1, 2, 3))(*args)
    print("d E(3 s) / d(length, damping, theta0, omega0) =", ge)


if __name__ == "__main__":
    main()
