"""Bugs found in review, each pinned by a test that failed before its fix."""

import numpy as np
import pytest

import regression_funcs as R
import s2sad


def test_break_inside_if_keeps_per_iteration_flags():
    # silently 0.0 before: the `_go` guard flag was not saved per iteration
    assert s2sad.grad(R.f)(1.5) == pytest.approx(0.0 + 1.0 + 2.0)


def test_continue_inside_if():
    assert s2sad.grad(R.g)(1.5) == pytest.approx(0.0 + 1.0 + 3.0 + 4.0)


def test_grad_of_grad_directly():
    # returned the first derivative before (functools.update_wrapper copied
    # the inner gradient's state into the outer one)
    assert s2sad.grad(s2sad.grad(R.sinf))(0.7) == pytest.approx(-np.sin(0.7), rel=1e-12)


def test_module_level_lambda():
    np.testing.assert_allclose(s2sad.grad(R.sq)(np.ones(2)), [2.0, 2.0])


def test_stop_gradient_is_a_constant():
    np.testing.assert_allclose(s2sad.grad(R.sg)(np.array([1.0, 2.0])), [1.0, 2.0])


def test_non_scalar_grad_output_points_at_the_return():
    with pytest.raises(s2sad.NonScalarOutputError) as e:
        s2sad.grad(R.nonscalar)(np.ones(2))
    msg = str(e.value)
    assert "regression_funcs.py:" in msg and "return x * 2.0" in msg and "^" in msg and "hint: use s2sad.vjp" in msg


def test_augassign_on_aliased_array_follows_numpy():
    # refused before (issue #13 asks for NumPy's semantics): `g = h; h += y`
    # changes g too, since h is an array updated in place
    from helpers import check_grads
    x, y = np.array([1.0, -0.5, 2.0]), np.arange(3.0)
    check_grads(R.alias_then_augassign, (x, y), wrt=(0, 1))


def test_augassign_without_alias_and_on_floats():
    from helpers import check_grads
    check_grads(R.augassign_no_alias, (np.array([0.5, -1.0]), np.array([2.0, 0.3])), wrt=(0, 1))
    # numbers are immutable: `b += 1` never changes `a`
    assert s2sad.grad(R.alias_scalar_augassign)(2.0) == pytest.approx(2 * 2.0 + 1.0)


def test_setitem_through_an_alias_follows_numpy():
    from helpers import check_grads
    check_grads(R.alias_then_setitem, (np.array([1.0, -0.5, 2.0]),))


def test_loop_target_rebinding_a_parameter_has_zero_gradient():
    # was 6.0: the parameter's adjoint kept the loop's contributions
    g = s2sad.grad(R.loop_target_rebinds_param, wrt=1)(np.arange(4.0), 0.5)
    assert g == 0.0


def test_list_literal_operand():
    from helpers import check_grads
    check_grads(R.sum_of_list_literal, (np.array([1.0, -2.0]), np.array([0.5, 0.3])), wrt=(0, 1))


@pytest.mark.parametrize("fn", [R.unpack_in_loop, R.unpack_helper_in_loop])
def test_tuple_unpacking_in_a_loop_restores_every_name(fn):
    # was 1.6875 instead of 1.875: only the last unpacked name was restored
    from helpers import check_grads
    check_grads(fn, (0.5, 0.25, 3), wrt=(0, 1))


def test_forward_mode_over_a_checkpointed_gradient_is_a_clear_error():
    import ckpt_funcs as C
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="checkpointed loop") as e:
        s2sad.jvp(s2sad.grad(C.ode_small, wrt=1), wrt=1)(np.eye(3), np.ones(3), 4, np.ones(3))
    assert "s2sad.hvp" in str(e.value)


def test_hvp_past_an_empty_array_piece_and_a_written_row():
    # an empty array holds no element of another: the view helpers of the
    # second order took an empty piece of np.array_split for part of the
    # written array and indexed past its end (an internal IndexError)
    x, v = np.array([0.3, -0.2, 0.5]), np.array([1.0, 2.0, -0.5])
    g = s2sad.grad(R.empty_piece_then_row_write)
    np.testing.assert_allclose(g(x), 2 * np.sum(x) * np.ones(3), rtol=1e-12)
    hv = s2sad.hvp(R.empty_piece_then_row_write)(x, v)
    eps = 1e-6
    np.testing.assert_allclose(hv, (g(x + eps * v) - g(x - eps * v)) / (2 * eps), rtol=1e-6)
    np.testing.assert_allclose(hv, 2 * np.sum(v) * np.ones(3), rtol=1e-12)


def test_an_empty_array_shares_no_memory():
    from s2sad_runtime import views
    root = np.arange(4.0)
    end = np.array_split(root[:1], 2)[1]          # empty, at the end of root's first element
    assert not views._shares(root[2:2], root) and not views._shares(root, root[2:2])
    assert not views._shares(root[:1], end) and not views._shares(root, root[4:])
    assert views._shares(root[1:3], root)
