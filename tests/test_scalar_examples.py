"""Issue 8: scalar code over Python floats and ``math``."""

import math
import os
import sys

import numpy as np
import pytest

import s2sad
from helpers import check_grads

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import kepler  # noqa: E402
import pendulum  # noqa: E402


def test_kepler_newton_while_loop_matches_implicit_derivative():
    M, e = 1.2, 0.3
    gM, ge = s2sad.grad(kepler.eccentric_anomaly, wrt=(0, 1))(M, e)
    E = kepler.eccentric_anomaly(M, e)
    assert gM == pytest.approx(1 / (1 - e * math.cos(E)), rel=1e-12)
    assert ge == pytest.approx(math.sin(E) / (1 - e * math.cos(E)), rel=1e-12)
    assert type(gM) is float and type(ge) is float
    check_grads(kepler.position, (M, e, 1.5), wrt=(0, 1, 2))


@pytest.mark.parametrize("e", [0.1, 0.5, 0.9])
def test_kepler_high_eccentricity(e):
    check_grads(kepler.eccentric_anomaly, (2.0, e), wrt=(0, 1), rtol=1e-6)


def test_damped_pendulum():
    check_grads(pendulum.final_angle, (1.0, 0.3, 0.8, 0.1), wrt=(0, 1, 2, 3), rtol=1e-6, atol=1e-8)
    check_grads(pendulum.energy_after, (1.0, 0.3, 0.8, 0.1), wrt=(0, 1, 2, 3), rtol=1e-6, atol=1e-8)


def test_python_floats_stay_python_floats_in_the_generated_code():
    df = s2sad.grad(pendulum.final_angle, wrt=(0, 1))
    g = df(1.0, 0.3, 0.8, 0.1)
    assert all(type(v) is float for v in g)
    src = df.source.split("reverse sweep")[1]
    assert "unbroadcast" not in src and "np." not in src


@pytest.fixture(autouse=True, scope="module")
def _helper_module(tmp_path_factory):
    d = tmp_path_factory.mktemp("h")
    (d / "tests_scalar_helper.py").write_text("import numpy as np\n\ndef f(a):\n    return np.sin(a) * a\n")
    sys.path.insert(0, str(d))
    yield
    sys.path.remove(str(d))


def test_numpy_scalar_input_gives_numpy_scalar_gradient():
    import tests_scalar_helper as h
    g = s2sad.grad(h.f)(np.float64(0.4))
    assert isinstance(g, np.floating)
    assert g == pytest.approx(math.cos(0.4) * 0.4 + math.sin(0.4))


@pytest.mark.parametrize("a,b", [(0.7, 0.4), (0.7, 3.0), (-0.5, 0.2)])
def test_builtin_max_min_over_a_list_and_arguments(a, b):
    import regression_funcs as R
    check_grads(R.maxlist, (a, b), wrt=(0, 1))
    check_grads(R.max2, (a, b), wrt=(0, 1))
