"""The Numba backend (issue 15): ``backend="numba"`` gives the Python
backend's gradients (to 1e-9) on loops over scalars, elements and small
arrays; what it cannot compile runs as Python with a located message; data
from outside is read at every call; the disk cache serves a second process.

Every check_grads of the suite runs on this backend too when
S2SAD_CHECK_BACKENDS=numba (.ci/run does that)."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.backends import numba_backend as nbb

numba = pytest.importorskip("numba")

import numba_funcs as F  # noqa: E402
from helpers import numeric_grad  # noqa: E402

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S2SAD_CACHE_DIR", str(tmp_path / "cache"))


def _same(a, b):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12 * max(1.0, float(np.max(np.abs(y)))))


CASES = [
    (F.while_branch, lambda: (0.3, 500), 0),
    (F.heat, lambda: (RNG.standard_normal(24), 0.1, 15), (0, 1)),
    (F.node, lambda: (0.2 * RNG.standard_normal((6, 6)), RNG.standard_normal(6), RNG.standard_normal(6), 0.05, 8),
     (0, 1, 2)),
    (F.particles, lambda: (RNG.standard_normal(5), RNG.standard_normal(5), 0.01, 0.3), (0, 1)),
    (F.early_exit, lambda: (0.7,), 0),
    (F.gru, lambda: (0.3 * RNG.standard_normal((4, 7)), 0.3 * RNG.standard_normal((4, 7)), RNG.standard_normal((6, 3)),
                     RNG.standard_normal(4)), (0, 1, 3)),
    (F.leaky_clipped, lambda: (RNG.standard_normal(5), RNG.standard_normal((9, 5)), 0.2), 0),
    (F.kept_positive, lambda: (1.1, 0.4, 10.0, 10.0, 0.01, 300), (0, 1, 2, 3)),
    (F.dot_rnn, lambda: (0.3 * RNG.standard_normal((4, 4)), 0.3 * RNG.standard_normal((4, 3)),
                         RNG.standard_normal((6, 3)), RNG.standard_normal(4)), (0, 1, 3)),
    (F.reversed_sums, lambda: (0.2, 0.5 * RNG.standard_normal(4), 0.5 * RNG.standard_normal(3)), (0, 2)),
]
EVERYDAY = CASES[-5:]       # what fell back to Python until 2026-12-07


@pytest.mark.parametrize("f,make,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_equal_the_python_backend(f, make, wrt):
    args = make()
    want = s2sad.grad(f, wrt=wrt)(*args)
    df = s2sad.grad(f, wrt=wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", nbb.BackendFallbackWarning)
        got = df(*args)
    assert df.backend_info["backend"] == "numba", df.backend_info
    assert df.backend_info["compile_seconds"] > 0
    _same(got, want)
    _same(df(*args), want)          # the second call, compiled code only


@pytest.mark.parametrize("case", EVERYDAY, ids=[c[0].__name__ for c in EVERYDAY])
def test_the_everyday_loops_against_central_differences(case):
    # concatenations, np.where/np.clip of restored arrays, builtin max/min, np.dot, reversed():
    # the Python backend (the oracle above) against differences, and auto compiles them
    f, make, wrt = case
    args = make()
    want = s2sad.grad(f, wrt=wrt)(*args)
    ws, gs = (wrt, want) if isinstance(wrt, tuple) else ((wrt,), (want,))
    for w, g in zip(ws, gs):
        np.testing.assert_allclose(g, numeric_grad(f, args, w, 1e-6), rtol=1e-5, atol=1e-7)
    da = s2sad.grad(f, wrt=wrt, backend="auto")
    _same(da(*args), want)
    assert da.backend_info["backend"] == "numba", da.backend_info


def test_value_and_grad_vjp_and_jvp():
    args = (RNG.standard_normal(16), 0.1, 5)
    v, g = s2sad.value_and_grad(F.heat, backend="numba")(*args)
    v0, g0 = s2sad.value_and_grad(F.heat)(*args)
    assert v == pytest.approx(v0, rel=1e-12)
    _same(g, g0)
    x = RNG.standard_normal(4)
    val, pull = s2sad.vjp(F.vector_out, backend="numba")(x)
    _same(pull(np.ones(4)), s2sad.vjp(F.vector_out)(x)[1](np.ones(4)))
    t = RNG.standard_normal(4)
    _same(s2sad.jvp(F.vector_out, backend="numba")(x, t), s2sad.jvp(F.vector_out)(x, t))


def test_a_global_array_changed_in_place_is_read_at_every_call():
    df = s2sad.grad(F.uses_global, backend="numba")
    x = np.array([1.0, 1.0, 1.0])
    _same(df(x), 2 * F.SCALE * x)
    old = F.SCALE.copy()
    try:
        F.SCALE[:] = [5.0, 6.0, 7.0]
        _same(df(x), 2 * F.SCALE * x)
    finally:
        F.SCALE[:] = old
    assert "SCALE" in df.compiled_source.split("\n", 3)[3].split(")")[0]   # a parameter, not a constant


def test_what_it_cannot_compile_runs_on_python_with_a_located_warning():
    df = s2sad.grad(F.lgamma_loop, backend="numba")
    with pytest.warns(nbb.BackendFallbackWarning) as rec:
        got = df(1.7)
    msg = str(rec[0].message)
    assert "numba_funcs.py:" in msg and "lgamma" in msg and "Python backend" in msg
    _same(got, s2sad.grad(F.lgamma_loop)(1.7))
    assert df.plan_info["backend"] == "python" and df.plan_info["fallback"] == msg


@pytest.mark.parametrize("f,make,wrt", [
    (F.checkpointed, lambda: (RNG.standard_normal(3),), 0),
    (F.ode_checkpointed, lambda: (0.3 * RNG.standard_normal((4, 4)), RNG.standard_normal(4), RNG.standard_normal(4),
                                  0.1, 7), (0, 1, 2)),
    (F.heat_checkpointed, lambda: (RNG.standard_normal(9), 0.1, 6), (0, 1)),
    (F.while_checkpointed, lambda: (RNG.standard_normal(3), 0.7), (0, 1)),
], ids=["for", "ode", "element-loop", "while"])
def test_checkpointed_loops_compile_their_step_and_one_step_adjoint(f, make, wrt):
    args = make()
    df = s2sad.grad(f, wrt=wrt, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", nbb.BackendFallbackWarning)
        got = df(*args)
    _same(got, s2sad.grad(f, wrt=wrt)(*args))
    info = df.backend_info
    assert info["backend"] == "numba" and info["fallback"] is None and "adjoint compiled" in info["loops"], info
    assert info["compile_seconds"] > 0
    src = df.compiled_source
    assert "_step_nb(" in src and "_adjoint_nb_fwd(" in src and "_adjoint_nb_bwd(" in src
    _same(df(*args), got)               # compiled code again, on the checkpoint schedule
    # other inputs of the same shapes, against central differences
    ws = wrt if isinstance(wrt, tuple) else (wrt,)
    args2 = tuple(a * 1.1 if i in ws else a for i, a in enumerate(args))
    got2 = df(*args2)
    for w, g in zip(ws, got2 if isinstance(wrt, tuple) else (got2,)):
        np.testing.assert_allclose(g, numeric_grad(f, args2, w, 1e-6), rtol=1e-5, atol=1e-6)


def test_auto_is_silent_and_numba_for_loops():
    x = RNG.standard_normal(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = s2sad.grad(F.checkpointed, backend="auto")
        _same(df(x), s2sad.grad(F.checkpointed)(x))
    da = s2sad.grad(F.while_branch, backend="auto")
    da(0.2, 10)
    assert da.backend_info["backend"] == "numba"


def _recurrent(W, h):
    for t in range(4):
        h = np.tanh(W @ h)
    return np.sum(h * h)


def test_auto_compiles_matrix_vector_loops_and_reports_matrix_matrix_ones():
    W = 0.3 * RNG.standard_normal((5, 5))
    df = s2sad.grad(_recurrent, backend="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = RNG.standard_normal(5)
        _same(df(W, x), s2sad.grad(_recurrent)(W, x))
        assert df.backend_info["backend"] == "numba"
        h = RNG.standard_normal((5, 3))            # a batch of states: matrix times matrix
        _same(df(W, h), s2sad.grad(_recurrent)(W, h))
    assert df.backend_info["backend"] == "python"
    assert "matrices by matrices" in df.backend_info["fallback"]


def test_an_error_at_run_time_comes_from_the_python_code_with_its_line():
    df = s2sad.grad(F.vector_out, backend="numba")
    with pytest.raises(s2sad.errors.NonScalarOutputError, match="numba_funcs.py"):
        df(RNG.standard_normal(3))


def test_compile_ahead_and_the_compiled_source():
    df = s2sad.grad(F.while_branch, backend="numba")
    assert df.compile(0.3, 5) is True
    assert df.compile_seconds > 0
    src = df.compiled_source
    assert "_tape" in src and "_stack" not in src and "_rt." not in src
    assert "numba_funcs.py:" in src          # the source comments stay
    s2sad.grad(F.while_branch, backend="numba")   # a new one: nothing compiled yet
    assert df(0.3, 5) == pytest.approx(s2sad.grad(F.while_branch)(0.3, 5), rel=1e-12)


def test_a_second_process_loads_the_machine_code_from_the_disk_cache(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        t0 = time.perf_counter()
        import numpy as np, s2sad
        def f(a, n):
            x = 0.5
            for i in range(n):
                x = x * np.sin(x) + a
            return x
        df = s2sad.grad(f, backend="numba")
        g = df(0.3, 100)
        print(df.backend_info["cached"], time.perf_counter() - t0, g)
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = [subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True).stdout
           for _ in range(2)]
    first, second = out[0].split(), out[1].split()
    assert first[0] == "False" and second[0] == "True", out
    assert first[2] == second[2]


def test_backend_option_without_numba_says_what_to_install(monkeypatch):
    monkeypatch.setattr(nbb, "available", lambda: False)
    with pytest.raises(s2sad.errors.ArgumentError, match=r"s2sad\[numba\]"):
        s2sad.grad(F.heat, backend="numba")
    with pytest.raises(s2sad.errors.ArgumentError, match="backends are"):
        s2sad.grad(F.heat, backend="cuda")


def test_runtime_helpers_count_ranges_down_as_python_does():
    from s2sad_runtime import numba_helpers as nh
    for a, b, s in [(0, 5, 1), (1, 7, 2), (5, 0, -1), (3, 3, 1), (7, 1, -3), (0, 10, 4)]:
        want = list(reversed(range(a, b, s)))
        assert list(range(nh.rev_start(a, b, s), a - s, -s)) == want
        for cut in (0, 1, 2, 10, -1):
            b2 = nh.range_cut(a, b, s, cut)
            assert list(range(a, b2, s)) == list(range(a, b, s)[:cut])


def test_export_writes_the_compiled_module_that_runs_without_s2sad(tmp_path):
    df = s2sad.grad(F.heat, backend="numba")
    u0 = np.linspace(-1.0, 1.0, 9)
    want = df(u0, 0.1, 4)
    path = s2sad.export(df, str(tmp_path / "heat_nb.py"), (u0, 0.1, 4))
    text = open(path).read()
    assert "import numba as _numba" in text and "_numba.njit(" in text and "numba_helpers" in text
    prog = ("import sys; sys.modules['s2sad'] = None; sys.modules['s2sad_runtime'] = None\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            "import numpy as np, heat_nb\n"
            "print(repr(heat_nb.heat_grad(np.linspace(-1.0, 1.0, 9), 0.1, 4).tolist()))\n")
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True,
                         env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "nbcache"))).stdout
    np.testing.assert_allclose(eval(out), want, rtol=1e-12)


def test_np_where_and_clip_run_through_helpers_compiled_once_per_machine(tmp_path):
    # Numba's np.where takes a second to compile per signature into every
    # gradient; the helper is cached on disk. The exported module carries it.
    df = s2sad.grad(F.leaky_clipped, backend="numba")
    args = (RNG.standard_normal(4), RNG.standard_normal((5, 4)), 0.2)
    want = s2sad.grad(F.leaky_clipped)(*args)
    _same(df(*args), want)
    code = "\n".join(ln for ln in df.compiled_source.splitlines() if not ln.strip().startswith("#"))
    assert "_nb_where(" in code and "_nb_clip(" in code and "np.where(" not in code and "np.clip(" not in code
    path = s2sad.export(df, str(tmp_path / "clip_nb.py"), args)
    np.save(tmp_path / "w.npy", args[0])
    np.save(tmp_path / "xs.npy", args[1])
    prog = ("import sys; sys.modules['s2sad'] = None; sys.modules['s2sad_runtime'] = None\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            "import numpy as np, clip_nb\n"
            f"w, xs = np.load({str(tmp_path / 'w.npy')!r}), np.load({str(tmp_path / 'xs.npy')!r})\n"
            "print(repr(clip_nb.leaky_clipped_grad(w, xs, 0.2).tolist()))\n")
    assert path.endswith("clip_nb.py")
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=True,
                         env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "nbcache"))).stdout
    np.testing.assert_allclose(eval(out), want, rtol=1e-12)


def test_export_of_compiled_code_reading_a_global_is_refused(tmp_path):
    df = s2sad.grad(F.uses_global, backend="numba")
    x = np.ones(3)
    df(x)
    with pytest.raises(s2sad.errors.S2SadError, match="outside data") as e:
        s2sad.export(df, str(tmp_path / "g.py"), (x,))
    assert "SCALE" in str(e.value)


def test_export_of_a_checkpointed_loop_says_what_is_compiled(tmp_path):
    df = s2sad.grad(F.checkpointed, backend="numba")
    x = np.ones(3)
    df(x)
    with pytest.raises(s2sad.errors.S2SadError, match="only its checkpointed loops are compiled"):
        s2sad.export(df, str(tmp_path / "c.py"), (x,))


def test_a_checkpointed_loop_numba_refuses_runs_its_functions_as_python_once():
    x = RNG.standard_normal(3)
    np.random.seed(5)
    want = s2sad.grad(F.noisy_checkpointed)(x, 6)
    df = s2sad.grad(F.noisy_checkpointed, backend="numba")
    np.random.seed(5)
    with pytest.warns(nbb.BackendFallbackWarning) as rec:
        got = df(x, 6)
    # the same draws as the Python backend: nothing ran twice
    _same(got, want)
    assert any("numba_funcs.py:" in str(r.message) for r in rec)
    assert df.backend_info["fallback"]


@pytest.mark.parametrize("f,extra", [(F.global_draws, (6,)), (F.global_draws_plain, ())],
                         ids=["checkpointed", "plain"])
def test_draws_from_numpys_global_generator_stay_python(f, extra):
    x = np.ones(3)
    np.random.seed(0)
    want = s2sad.value_and_grad(f)(x, *extra)
    df = s2sad.value_and_grad(f, backend="numba")
    np.random.seed(0)
    with pytest.warns(nbb.BackendFallbackWarning, match="global random generator"):
        got = df(x, *extra)
    # the same draws as the Python backend, and the value is the sum of the gradient (x = 1)
    _same(got[1], want[1])
    assert got[0] == pytest.approx(want[0]) and got[0] == pytest.approx(float(np.sum(got[1])))


def _recurrent_opt(W, h):
    # (its own function: a module compiled earlier in the process is not compiled again)
    for t in range(3):
        h = np.sin(W @ h)
    return np.sum(h * h)


def test_a_signature_multiplying_matrices_compiles_at_llvm_O1_and_numba_keeps_its_level(monkeypatch):
    # its time is BLAS's: -O1 leaves out LLVM's vectoriser, which costs the
    # LSTM 10 s of compile and buys nothing there (docs/performance.md)
    from numba.core import codegen, config
    seen = []
    optimize = codegen.CPUCodeLibrary._optimize_final_module

    def spy(self):
        seen.append(int(config.OPT))
        return optimize(self)

    monkeypatch.setattr(codegen.CPUCodeLibrary, "_optimize_final_module", spy)
    before = config.OPT
    W = 0.3 * RNG.standard_normal((5, 5))
    h = RNG.standard_normal((5, 3))
    df = s2sad.grad(_recurrent_opt, backend="numba")
    _same(df(W, h), s2sad.grad(_recurrent_opt)(W, h))
    assert df.backend_info["backend"] == "numba" and df.backend_info["llvm_opt"] == min(1, int(before))
    assert "LLVM -O1" in df.compiled_source
    assert seen and set(seen) == {min(1, int(before))}
    assert config.OPT is before
    seen.clear()
    x = RNG.standard_normal(5)                    # matrix times vector: Numba's own level
    _same(df(W, x), s2sad.grad(_recurrent_opt)(W, x))
    assert df.backend_info["llvm_opt"] == int(before)
    assert "LLVM -O1" not in df.compiled_source
    assert seen and set(seen) == {int(before)}


def test_the_llvm_level_is_restored_after_a_failed_compile_and_never_raised():
    from numba.core import config
    from s2sad.backends.numba_cache import llvm_opt
    before = config.OPT
    with pytest.raises(RuntimeError):
        with llvm_opt(1):
            assert int(config.OPT) == min(1, int(before))
            raise RuntimeError
    assert config.OPT is before
    config.OPT = type(before)(0)
    try:
        with llvm_opt(1):
            assert int(config.OPT) == 0           # NUMBA_OPT=0 stays 0
    finally:
        config.OPT = before


def test_a_numba_error_above_the_first_source_comment_names_no_line():
    # the note on LLVM's level above the code is not a comment naming a source line
    from s2sad_runtime.errors import names_source
    note = "# Compiled at LLVM -O1: its time is in products of matrices by matrices (BLAS)."
    assert not names_source(note)
    assert names_source("# f.py:12  y = W @ x") and names_source("# adjoint of <s2sad f:grad>:3  y = x")
    src = "\n".join(['"""doc"""', note, "def g(x):", "    _tape1 = []", "    # f.py:2  y = x", "    return x"])
    err = Exception('Cannot infer the type of variable _tape1\nFile "<s2sad numba f:grad>", line 4:')
    msg = nbb.NumbaFunction(None, "f:grad", warn=False)._numba_message(err, src)
    assert msg.startswith("the numba backend cannot compile this (Cannot infer"), msg
    err = Exception('Cannot unify\nFile "<s2sad numba f:grad>", line 6:')
    assert nbb.NumbaFunction(None, "f:grad", warn=False)._numba_message(err, src).startswith("f.py:2: ")


def _matrix_out(W, X):
    Y = X
    for i in range(2):
        Y = W @ Y
    return Y


def test_numbas_refusal_of_a_blas_bound_signature_names_the_users_line():
    # (the note on LLVM's level above the code is not a source comment)
    df = s2sad.grad(_matrix_out, backend="numba")
    with pytest.warns(nbb.BackendFallbackWarning) as rec:
        with pytest.raises(s2sad.errors.NonScalarOutputError):
            df(RNG.standard_normal((3, 3)), RNG.standard_normal((3, 2)))
    msg = str(rec[0].message)
    assert msg.startswith("test_numba_backend.py:"), msg
    assert "Compiled at" not in msg
