"""Complex numbers (issue 16): complex arguments, complex constants and
globals, and FFTs, against central differences in the real and imaginary
parts.

Convention (autograd's and PyTorch's): for a real ``f`` of ``z = x + iy``,
``grad(f)(z) = df/dx + i df/dy``, so that ``z - lr * grad`` descends; JAX
returns the conjugate.  The gradient of a real argument is real.  ``jvp``
takes complex tangents: the directional derivative ``d/de f(z + e t)``.
"""

import warnings

import numpy as np
import pytest

import s2sad

RNG = np.random.default_rng(16)
A = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
PHASES = np.exp(1j * np.linspace(0.0, 2.0, 3))


def abs2(z):
    return np.sum(np.abs(z) ** 2)


def holomorphic_then_abs(z):
    return np.abs(np.sum(np.tanh(z) * (1 + 2j) + z * z / (2.0 - z)))


def real_part_of_a_product(z):
    return np.sum(np.real(np.exp(z) * np.conj(z)))


def angles_and_parts(z):
    return np.sum(np.angle(z) * np.imag(z)) + np.sum(z.real * z.imag) + np.sum(np.real(z.conj() * z))


def spectrum_power(z):
    return np.sum(np.abs(np.fft.fft(z)) ** 2) + np.sum(np.real(np.fft.ifft(z * z)))


def matrix_product(z):
    return np.sum(np.abs(A @ z) ** 2) + np.abs(np.dot(z, PHASES))


def fft2_power(z):
    return np.sum(np.abs(np.fft.fft2(z, norm="ortho")) ** 3)


def real_value_between_complex_ones(z):
    """abs(z) is real; added to a complex value, its cotangent is complex,
    and abs's rule must take its real part (it was a wrong gradient)."""
    w = z * (0.5 + 0.1j) + np.maximum(np.abs(z), 0.1) + np.angle(z) + np.imag(z)
    return np.sum(np.abs(w))


def powers(z):
    return np.sum(np.abs(z ** 2 + z ** 3 - 0.5 * z ** -1))


COMPLEX_FUNCS = [abs2, holomorphic_then_abs, real_part_of_a_product, angles_and_parts, spectrum_power,
                 matrix_product, real_value_between_complex_ones, powers]


def rotating_loop(z, n):
    for _ in range(n):
        z = z * (0.5 + 0.1j) + np.maximum(np.abs(z), 0.1)
    return np.sum(np.abs(z))


def clipping_loop(z, n):
    for _ in range(n):
        z = np.maximum(z.real, 0.0) + 1j * z.imag * 1.1
    return np.sum(np.abs(z))


@pytest.mark.parametrize("f", [rotating_loop, clipping_loop], ids=lambda f: f.__name__)
@pytest.mark.parametrize("loops", [None, "checkpoint"])
def test_loops_over_complex_state(f, loops):
    from s2sad_runtime.loops import Checkpoint
    z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    kw = {} if loops is None else {"loops": Checkpoint(2)}
    g = s2sad.grad(f, **kw)(z, 5)
    np.testing.assert_allclose(g, _fd_complex(lambda v: f(v, 5), z), rtol=1e-6, atol=1e-7)


def _differentiated_power(z):
    return np.sum(np.abs(z ** z))


def real_through_fft(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2) + np.sum(np.abs(np.fft.rfft(x * x)))


def real_through_a_literal(x):
    return np.sum(np.abs(x * (1 + 1j) + 0.5j))


def real_through_a_global(x):
    return np.sum(np.abs(PHASES * x)) + np.real(np.sum(PHASES * x * x))


def real_after_complex_then_real_ops(x):
    r = np.abs(np.exp(1j * x) + 0.3) ** 2         # real again
    return np.sum(np.maximum(r, 0.5) * np.tanh(x))


REAL_FUNCS = [real_through_fft, real_through_a_literal, real_through_a_global, real_after_complex_then_real_ops]


def _fd_complex(f, z, eps=1e-6):
    g = np.zeros(z.shape, dtype=complex)
    for i in np.ndindex(z.shape):
        e = np.zeros(z.shape, dtype=complex)
        e[i] = eps
        g[i] = (f(z + e) - f(z - e)) / (2 * eps) + 1j * (f(z + 1j * e) - f(z - 1j * e)) / (2 * eps)
    return g


def _fd_real(f, x, eps=1e-6):
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def _directional(f, z, t, eps=1e-6):
    return (f(z + eps * t) - f(z - eps * t)) / (2 * eps)


@pytest.mark.parametrize("f", COMPLEX_FUNCS, ids=lambda f: f.__name__)
def test_gradient_of_a_complex_argument(f):
    z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    df = s2sad.grad(f)
    g = df(z)
    assert g.dtype == np.complex128 and g.shape == z.shape
    np.testing.assert_allclose(g, _fd_complex(f, z), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(df(z), g, rtol=1e-12)         # the planned variant agrees
    np.testing.assert_allclose(df(z), g, rtol=1e-12)
    t = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    value, tan = s2sad.jvp(f)(z, t)
    assert np.isreal(tan)
    np.testing.assert_allclose(tan, _directional(f, z, t), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(value, f(z), rtol=1e-12)


def test_a_two_dimensional_spectrum():
    z = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))
    np.testing.assert_allclose(s2sad.grad(fft2_power)(z), _fd_complex(fft2_power, z), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", REAL_FUNCS, ids=lambda f: f.__name__)
def test_gradient_of_a_real_argument_through_complex_values(f):
    x = RNG.standard_normal(3)
    g = s2sad.grad(f)(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, _fd_real(f, x), rtol=1e-6, atol=1e-7)
    t = RNG.standard_normal(3)
    np.testing.assert_allclose(s2sad.jvp(f)(x, t)[1], _directional(f, x, t), rtol=1e-6, atol=1e-7)


def test_the_convention_is_autograds_and_pytorchs():
    """grad |z|^2 = 2 z: a step against it descends (JAX gives 2 conj(z))."""
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    np.testing.assert_allclose(s2sad.grad(abs2)(z), 2 * z)
    value, grad = s2sad.value_and_grad(abs2)(z)
    np.testing.assert_allclose(grad, 2 * z)
    assert value == pytest.approx(abs2(z))


def test_a_complex_argument_after_a_real_one_gets_its_own_variant():
    df = s2sad.grad(abs2)
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(df(x), 2 * x)
    assert df(x).dtype == np.float64
    np.testing.assert_allclose(df(x + 1j), 2 * (x + 1j))


def _maximum(z):
    return np.sum(np.abs(np.maximum(z, 0)))


def _sort(z):
    return np.sum(np.abs(np.sort(z)))


def _det(z):
    return np.abs(np.linalg.det(np.outer(z, z) + np.eye(3)))


def _fft_with_length(z):
    return np.sum(np.abs(np.fft.fft(z, 8)))


@pytest.mark.parametrize("f,what", [(_maximum, "maximum"), (_sort, "sort"), (_det, "det"),
                                    (_differentiated_power, "Pow")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_functions_not_known_to_hold_for_complex_values_are_refused_at_their_line(f, what):
    z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
    with pytest.raises(s2sad.errors.NoRuleError, match=what) as e:
        s2sad.grad(f)(z)
    assert e.value.function == f.__name__ and e.value.line.strip().startswith("return")


def test_a_resized_fft_is_refused_with_a_reason():
    with pytest.raises(s2sad.errors.NoRuleError, match="length") as e:
        s2sad.grad(_fft_with_length)(np.ones(3) + 1j)
    assert e.value.function == "_fft_with_length"


def test_second_order_of_a_complex_function_is_refused_at_the_users_line():
    with pytest.raises(s2sad.errors.NoRuleError, match="second derivatives") as e:
        s2sad.hvp(abs2)(np.ones(2) + 1j, np.ones(2) + 0j)
    assert e.value.filename.endswith("test_complex.py") and e.value.function == "abs2"


def test_the_numba_backend_leaves_complex_values_to_python():
    pytest.importorskip("numba")
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j])
    df = s2sad.grad(abs2, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(df(z), 2 * z)
    assert df.backend_info["backend"] == "python" and "has no compiled version" in df.backend_info["fallback"]


# ---------------------------------------------------- found by a review


def cast_to_real(z):
    """np.array(z, dtype=float) keeps the real part: the gradient is real."""
    return np.sum(np.abs(np.array(z, dtype=float) * (1 + 1j) + 0.3j)) + np.sum(np.abs(np.sum(z, dtype=float) * 1j))


def write_into_a_real_buffer(z):
    y = np.zeros(2)
    y[0] = z[0]                      # NumPy keeps the real part
    return np.sum(np.abs(y * (1 + 1j) + 0.3j))


def real_parts_indexed(p):
    return np.abs(p[0] + 1j * p[1]) ** 2 + np.sum(np.abs(np.abs(p)[0] * 1j + p))


def in_place_on_a_complex_argument(z):
    z += 1j
    return np.sum(np.abs(z) ** 2)


def complex_output(z):
    return np.sum(z * z)


@pytest.mark.parametrize("f", [cast_to_real, write_into_a_real_buffer, in_place_on_a_complex_argument],
                         ids=lambda f: f.__name__)
def test_real_values_made_from_complex_ones(f):
    z = np.array([0.7 + 0.4j, -1.2 + 0.9j])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        g = s2sad.grad(f)(z.copy())
        want = _fd_complex(f, z)
        t = np.array([0.3 - 0.2j, 0.5 + 0.1j])
        tan = s2sad.jvp(f)(z.copy(), t)[1]
        np.testing.assert_allclose(tan, _directional(f, z, t), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-7)


def test_a_real_argument_indexed_then_meeting_complex_values():
    p = np.array([0.6, -0.8])
    np.testing.assert_allclose(s2sad.grad(real_parts_indexed)(p), _fd_real(real_parts_indexed, p),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_a_complex_output_is_refused(mode):
    with pytest.raises(s2sad.errors.NonScalarOutputError, match="complex"):
        getattr(s2sad, mode)(complex_output)(np.array([1 + 1j, 2.0 - 1j]))


# ------------------------------------------------------------ np.linalg.eig


def eigenvalues(a):
    w = np.linalg.eigvals(a)
    return np.sum(np.abs(w) ** 2) + np.sum(np.real(w) ** 3)


def eigenpairs(a):
    # depends on each eigenvector's phase too: NumPy makes its largest component real
    w, v = np.linalg.eig(a)
    return (np.sum(np.real(w * np.conj(w))) + np.sum(np.abs(v[0]) ** 3) + np.sum(np.real(v) ** 2 * np.imag(v))
            + np.sum(np.imag(w) ** 2))


def eigenpairs_of_a_symmetric_matrix(a):
    w, v = np.linalg.eig(a + a.T)             # real eigenvalues and eigenvectors
    return np.sum(np.real(w) ** 3) + np.sum(np.real(v) ** 3)


@pytest.mark.parametrize("f", [eigenvalues, eigenpairs, eigenpairs_of_a_symmetric_matrix], ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [3, 4])
def test_eig(f, n):
    """np.linalg.eig and eigvals of a real matrix (complex results: complex
    mode) and of a complex one, reverse and forward mode, against finite
    differences; the eigenvectors as NumPy normalises them (unit norm, the
    largest component real)."""
    rng = np.random.default_rng(n)
    a, t = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    g = s2sad.grad(f)(a)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, _fd_real(f, a), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s2sad.jvp(f)(a, t)[1], _directional(f, a, t), rtol=1e-6, atol=1e-6)
    z = a + 1j * rng.standard_normal((n, n))
    np.testing.assert_allclose(s2sad.grad(f)(z), _fd_complex(f, z), rtol=1e-6, atol=1e-6)


def test_eig_with_repeated_eigenvalues_is_refused():
    with pytest.raises(s2sad.errors.NoRuleError, match="eigenvalues are distinct") as e:
        s2sad.grad(eigenvalues)(np.eye(3))
    assert e.value.filename == __file__


def inverse_real_spectra(x):
    spec = np.fft.rfft(x)
    return (np.sum(np.fft.irfft(spec * (1.0 + 0.5j), len(x)) ** 3) + np.sum(np.fft.irfft(spec, norm="ortho") ** 2)
            + np.sum(np.fft.irfft(np.fft.fft(x) * 0.3, 7) ** 2) + np.sum(np.fft.irfft(spec, 4, norm="forward") ** 3))


def hermitian_spectra(x):
    return (np.sum(np.fft.hfft(np.fft.fft(x) * (1 + 0.2j)) ** 2)
            + np.sum(np.fft.hfft(np.fft.ifft(x), 5, norm="ortho") ** 3))


def inverse_real_spectrum_of_a_complex_argument(z):
    return np.sum(np.fft.irfft(z, 8) ** 3) + np.sum(np.fft.hfft(z) ** 2)


@pytest.mark.parametrize("f", [inverse_real_spectra, hermitian_spectra], ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [5, 6])
def test_irfft_and_hfft(f, n):
    """np.fft.irfft and hfft (real results of a half spectrum: its entries
    inside count twice, the first and the Nyquist one once), with lengths
    and norms, against finite differences in both modes."""
    rng = np.random.default_rng(n)
    x, t = rng.standard_normal(n), rng.standard_normal(n)
    np.testing.assert_allclose(s2sad.grad(f)(x), _fd_real(f, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(s2sad.jvp(f)(x, t)[1], _directional(f, x, t), rtol=1e-6, atol=1e-6)
    z = x + 1j * t
    f = inverse_real_spectrum_of_a_complex_argument
    np.testing.assert_allclose(s2sad.grad(f)(z), _fd_complex(f, z), rtol=1e-6, atol=1e-6)
