import numpy as np
import pytest

from mdn_src import make_toy_data, test_grid, toy_curve


def test_toy_curve_values():
    # f(x) = x + 0.3 sin(2 pi x), pinned at points where the sine is 0, 1 and -1.
    np.testing.assert_allclose(toy_curve(np.array([0.0, 0.25, 0.5, 0.75, 1.0])),
                               [0.0, 0.55, 0.5, 0.45, 1.0], atol=1e-12)  # fmt: skip


def test_shapes_dtype_and_ranges():
    x, t = make_toy_data(2500, seed=0)
    assert x.shape == t.shape == (2500, 1)
    assert x.dtype == t.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    residual = t - toy_curve(x)
    assert np.abs(residual).max() <= 0.1 + 1e-6
    # Uniform noise on (-0.1, 0.1): mean 0, variance 0.2^2 / 12.
    assert abs(residual.mean()) < 0.005
    assert residual.var() == pytest.approx(0.04 / 12, rel=0.08)


def test_inverse_swaps_roles():
    x, t = make_toy_data(100, seed=3)
    inputs, targets = make_toy_data(100, seed=3, inverse=True)
    np.testing.assert_array_equal(inputs, t)
    np.testing.assert_array_equal(targets, x)


def test_seed_is_explicit_and_reproducible():
    a = make_toy_data(50, seed=7)[1]
    np.random.seed(0)  # noqa: NPY002 -- global state must not matter
    b = make_toy_data(50, seed=7)[1]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, make_toy_data(50, seed=8)[1])
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(make_toy_data(10, seed=g1)[0], make_toy_data(10, seed=g2)[0])


def test_grids():
    g = test_grid(2500)
    assert g.shape == (2500, 1) and g.dtype == np.float32
    assert g[0, 0] == 0 and g[-1, 0] == 1
    gi = test_grid(2500, inverse=True)
    assert gi[0, 0] == pytest.approx(-0.1) and gi[-1, 0] == pytest.approx(1.1)
    assert np.all(np.diff(gi.ravel()) > 0)


@pytest.mark.parametrize("n", [0, -5])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be >= 1"):
        make_toy_data(n)
    with pytest.raises(ValueError, match="n must be >= 1"):
        test_grid(n)


def test_bad_types():
    with pytest.raises(TypeError, match="n must be an int"):
        make_toy_data(2.5)
    with pytest.raises(TypeError, match="seed"):
        make_toy_data(10, seed="abc")
    with pytest.raises(TypeError, match="seed"):
        make_toy_data(10, seed=None)


def test_defaults_are_2500_points_from_seed_0_forward():
    """Catches a wrong default size, seed or direction of make_toy_data and test_grid, and
    test_grid collected by pytest as a test where a test module imports it."""
    x, t = make_toy_data()
    x0, t0 = make_toy_data(2500, seed=0, inverse=False)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(test_grid(), test_grid(2500, inverse=False))
    assert test_grid().shape == (2500, 1) and test_grid(7, inverse=True).shape == (7, 1)
    assert test_grid.__test__ is False
