"""The view helpers of runtime/views.py against NumPy itself: for random
views of random arrays (slices, transposes, reshapes, diagonals, flips,
broadcasts), and adjoints stored in any memory order, the element mapping
must be the one NumPy's memory gives."""

import numpy as np
import pytest

import s2sad_runtime as rt
from s2sad_runtime import views

rng = np.random.default_rng(7)


def _root(shape, order):
    """A dense array in C or Fortran order, a transposed C array ("T"), or
    a reversed view of a C array ("R": negative strides, as ``x[::-1]`` of
    an owned copy is when a row of it is written)."""
    if order == "T":
        return np.ascontiguousarray(rng.normal(size=shape[::-1])).T
    if order == "R":
        return rng.normal(size=shape)[::-1, ::-1]
    return np.asarray(rng.normal(size=shape), order=order)


VIEWS = [
    lambda a: a[1:],
    lambda a: a[::2],
    lambda a: a[..., ::-1],
    lambda a: a.T,
    lambda a: a.reshape(-1) if a.flags.c_contiguous else a[:],
    lambda a: np.ravel(a)[2:5] if a.flags.c_contiguous else a[:1],
    lambda a: a[1],
    lambda a: np.diagonal(a) if a.ndim == 2 else a[0],
    lambda a: np.flip(a, axis=0),
    lambda a: a[:, 1:3] if a.ndim == 2 else a[1:3],
    lambda a: a[...],
]


def _labels(root):
    """Each element of ``root`` holds its C-order flat index."""
    lab = np.empty_like(root)
    if any(s < 0 for s in root.strides):     # empty_like keeps no negative strides
        lab = np.empty(root.shape)[::-1, ::-1]
    lab[...] = np.arange(root.size).reshape(root.shape)
    return lab


@pytest.mark.parametrize("order", ["C", "F", "T", "R"])
@pytest.mark.parametrize("k", range(len(VIEWS)))
def test_positions_follow_memory(order, k):
    root = _root((4, 5), order)
    v = VIEWS[k](root)
    lab = _labels(root)
    want = VIEWS[k](lab)       # the same view of an identically laid out array
    if not np.shares_memory(v, root):
        pytest.skip("NumPy made a copy")
    assert lab.strides == root.strides
    np.testing.assert_array_equal(views.positions(root, v), want.astype(np.intp))


@pytest.mark.parametrize("order", ["C", "F", "R"])
@pytest.mark.parametrize("gorder", ["C", "F", "T"])
def test_region_helpers_are_adjoint(order, gorder):
    root = _root((3, 4), order)
    v = root.T[1:, ::2]
    g = _root((3, 4), gorder)
    c = rng.normal(size=v.shape)
    # <region_of(g), c> == <g, region_scatter(c)>  (transposes of each other)
    lhs = np.sum(rt.region_of(g, root, v) * c)
    rhs = np.sum(g * rt.region_scatter(c, root, v))
    assert lhs == pytest.approx(rhs, rel=1e-12)
    # zeroing removes exactly the part under the view
    z = rt.region_zeroed(g, root, v)
    assert np.sum(z * g) + np.sum(rt.region_of(g, root, v) ** 2) == pytest.approx(np.sum(g * g), rel=1e-12)
    assert np.all(rt.region_of(z, root, v) == 0)


@pytest.mark.parametrize("order", ["C", "F", "R"])
def test_root_that_is_part_of_the_view(order):
    """At run time the name taken for the whole array may be a part of the
    other (a row of an array kept on the tape): the helpers then act on
    that part of the bigger array, and stay transposes of each other."""
    view = _root((3, 4), order)
    root = view[1]                      # the "root" is inside the view
    g_root = rng.normal(size=root.shape)
    g_view = rng.normal(size=view.shape)
    placed = rt.region_of(g_root, root, view)
    np.testing.assert_array_equal(placed[1], g_root)
    assert np.all(placed[[0, 2]] == 0)
    lhs = np.sum(placed * g_view)
    assert lhs == pytest.approx(np.sum(g_root * rt.region_scatter(g_view, root, view)), rel=1e-12)
    kept = rt.unshared_part(g_view, view, root)
    np.testing.assert_array_equal(kept[[0, 2]], g_view[[0, 2]])
    assert np.all(kept[1] == 0)
    assert np.all(rt.region_zeroed(g_root, root, view) == 0)
    # a container holding the bigger array follows too
    lst = [view, np.ones(2)]
    glst = [g_view, np.ones(2)]
    np.testing.assert_array_equal(views.container_unshared(glst, lst, root)[0], kept)
    np.testing.assert_array_equal(views.container_scatter(glst, lst, root), g_view[1])


def test_broadcast_view_sums_repeats():
    root = np.arange(3.0)
    v = np.broadcast_to(root, (4, 3))
    c = np.ones((4, 3))
    np.testing.assert_array_equal(rt.region_scatter(c, root, v), [4.0, 4.0, 4.0])


def test_unrelated_arrays_share_nothing():
    a, b = np.ones(3), np.ones(3)
    g = np.arange(3.0)
    np.testing.assert_array_equal(rt.region_zeroed(g, a, b), g)
    np.testing.assert_array_equal(rt.region_of(g, a, b), np.zeros(3))
    np.testing.assert_array_equal(rt.unshared_part(g, b, a), g)
    # a "root" that is itself a view (not dense) is matched by address: the
    # view lies in it, so its value now comes from the root
    big = np.ones((4, 4))
    np.testing.assert_array_equal(rt.unshared_part(g[:2], big[::2, 0], big[::2]), [0.0, 0.0])
    np.testing.assert_array_equal(rt.unshared_part(g[:2], big[1::2, 0], big[::2]), g[:2])   # rows 1, 3: apart


def test_containers_follow_their_arrays():
    root = np.ones((2, 3))
    c = [root[0], np.zeros(2), (root[1], 5.0)]
    g = [np.full(3, 2.0), np.full(2, 3.0), (np.full(3, 4.0), 1.0)]
    scat = rt.region_scatter(g, root, c)
    np.testing.assert_array_equal(scat, [[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]])
    un = rt.unshared_part(g, c, root)
    # real zeros, not the symbolic one: a tangent container is subscripted as it is
    assert all(isinstance(z, np.ndarray) and z.shape == (3,) and not z.any() for z in (un[0], un[2][0]))
    np.testing.assert_array_equal(un[1], g[1])


def test_own_copies_arrays_and_their_containers():
    x = np.ones(3)
    params = [x, {"w": x}]
    p = rt.own(params)
    p[0][0] = 5.0
    p[1]["w"][1] = 7.0
    assert np.all(x == 1.0)


@pytest.mark.parametrize("order", ["C", "F", "R"])
def test_partly_overlapping_views(order):
    """A row and a column of one matrix share one element and neither holds
    the other (a write through the row, then the column read: fuzz seed
    78328, whose Hessian-vector product lost that element's tangent)."""
    m = _root((3, 4), order)
    row, col = m[1], m[:, 3]
    lab = _labels(m)
    g_row = rng.normal(size=row.shape)
    g_col = rng.normal(size=col.shape)
    # the column's part under the row (root): only the shared element
    got = rt.region_of(g_row, row, col)
    want = np.zeros(3)
    want[1] = g_row[3]
    np.testing.assert_array_equal(got, want)
    # transposes of each other
    c = rng.normal(size=col.shape)
    assert np.sum(rt.region_of(g_row, row, col) * c) == pytest.approx(np.sum(g_row * rt.region_scatter(c, row, col)))
    kept = rt.unshared_part(g_col, col, row)
    np.testing.assert_array_equal(kept[[0, 2]], g_col[[0, 2]])
    assert kept[1] == 0
    z = rt.region_zeroed(g_row, row, col)
    np.testing.assert_array_equal(z[:3], g_row[:3])
    assert z[3] == 0
    # memory says the same: the shared element is row[3] and col[1]
    assert lab[1, 3] == lab[:, 3][1]


def test_helpers_with_a_container_as_the_whole():
    """A tuple taken for the whole (another name was unpacked from it,
    fuzz seed 149922): the helpers act through the elements that hold the
    view's memory, and leave the others alone."""
    a = np.arange(6.0).reshape(2, 3)
    root = (np.float64(1.0), a)                 # like slogdet's (sign, logdet) next to an array
    view = a[1]
    other = np.ones(3)
    g = (np.float64(0.0), np.arange(6.0).reshape(2, 3) + 10)
    np.testing.assert_array_equal(rt.region_of(g, root, view), g[1][1])
    np.testing.assert_array_equal(rt.region_of(g, root, other), np.zeros(3))
    z = rt.region_zeroed(g, root, view)
    assert type(z) is tuple and z[0] == g[0]
    np.testing.assert_array_equal(z[1], np.where(np.arange(6).reshape(2, 3) >= 3, 0.0, g[1]))
    c = np.array([1.0, 2.0, 3.0])
    sc = rt.region_scatter(c, root, view)
    np.testing.assert_array_equal(sc[1], np.array([[0, 0, 0], [1.0, 2.0, 3.0]]))
    assert sc[0] == 0
    np.testing.assert_array_equal(rt.unshared_part(c, view, root), np.zeros(3))
    np.testing.assert_array_equal(rt.unshared_part(c, other, root), c)


def test_container_elements_crossing_the_root():
    """A list (the tape) holding a column of a matrix whose row is written
    (fuzz seed 163211: hvp silently wrong): only the one shared element of
    the column takes the row's value; the rest keeps its own."""
    m = np.arange(8.0).reshape(2, 4)
    row, col = m[1], m[:, 1]             # share m[1, 1]: row[1] is col[1]
    lst = [np.ones(2), col]
    g_row = np.arange(4.0) + 10
    g_lst = [np.full(2, 5.0), np.array([7.0, 8.0])]
    kept = rt.container_unshared(g_lst, lst, row)
    np.testing.assert_array_equal(kept[0], g_lst[0])
    np.testing.assert_array_equal(kept[1], [7.0, 0.0])
    regions = rt.region_of(g_row, row, lst)
    assert regions[0] is rt.ZERO
    np.testing.assert_array_equal(regions[1], [0.0, g_row[1]])
    # the scatter is the transpose of the region
    np.testing.assert_array_equal(rt.container_scatter(g_lst, lst, row), [0.0, 8.0, 0.0, 0.0])
