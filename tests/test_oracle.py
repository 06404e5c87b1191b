import math

import numpy as np
import pytest
from scipy import integrate, optimize

from mdn_src import make_toy_data, oracle, toy_curve


def test_forward_bayes_figures_are_closed_form():
    assert oracle.bayes_nll() == pytest.approx(math.log(0.2))
    assert round(oracle.bayes_nll(), 3) == -1.609
    assert oracle.bayes_mse() == pytest.approx(0.2**2 / 12)


def test_inverse_bayes_figures():
    assert round(oracle.bayes_nll(inverse=True), 3) == -1.282
    assert round(oracle.bayes_mse(inverse=True), 4) == 0.0383
    # Converged: a grid four times coarser agrees far beyond the third decimal.
    assert oracle.bayes_nll(True, n_grid=50_000) == pytest.approx(oracle.bayes_nll(True), abs=1e-6)


def test_inverse_bayes_figures_match_monte_carlo():
    # Independent check: the exact density evaluated at fresh samples of the inverse problem.
    t, x = make_toy_data(200_000, seed=11, inverse=True)
    log_p = np.log(oracle.inverse_density(x.astype(np.float64), t.astype(np.float64)))
    assert -log_p.mean() == pytest.approx(oracle.bayes_nll(True), abs=0.005)
    err = (oracle.conditional_mean(t, inverse=True) - x) ** 2
    assert err.mean() == pytest.approx(oracle.bayes_mse(True), abs=0.0005)


@pytest.mark.parametrize("t", [-0.05, 0.2, 0.5, 0.55, 0.8, 1.05])
def test_inverse_density_integrates_to_one(t):
    xs = np.linspace(0, 1, 400_001)
    p = oracle.inverse_density(xs, t)
    assert integrate.trapezoid(p, xs) == pytest.approx(1.0, abs=1e-4)


def test_inverse_support_is_where_the_curve_is_close():
    t = np.array([0.5])
    left, right = oracle.inverse_support(t)
    assert left.shape == right.shape == (1, 3)
    xs = np.linspace(0, 1, 200_001)
    inside = np.abs(toy_curve(xs) - 0.5) < 0.1
    assert (right - left).sum() == pytest.approx(inside.mean(), abs=1e-4)
    # At t = 0.5 all three branches are present.
    assert np.all(right - left > 0.01)


def test_density_is_zero_outside_the_support():
    assert oracle.inverse_density(0.5, 2.0) == 0
    assert oracle.inverse_density(1.5, 0.5) == 0
    assert oracle.forward_density(0.5 + 0.15, 0.0) == 0
    assert oracle.forward_density(0.05, 0.0) == pytest.approx(5.0)


def test_marginal_of_t_integrates_to_one():
    ts = np.linspace(-0.1, 1.1, 60_001)
    assert integrate.trapezoid(oracle.marginal_density_t(ts), ts) == pytest.approx(1, abs=1e-4)


def test_conditional_mean_forward_and_inverse():
    x = np.array([0.0, 0.25, 0.5])
    np.testing.assert_allclose(oracle.conditional_mean(x), toy_curve(x))
    # At t = 0.02 only the first branch is present: S_t = [0, x1) with f(x1) = 0.12.
    x1 = optimize.brentq(lambda v: toy_curve(v) - 0.12, 0, 0.3)
    assert oracle.conditional_mean(0.02, inverse=True) == pytest.approx(x1 / 2, abs=1e-12)
    assert oracle.conditional_variance(0.02, inverse=True) == pytest.approx(x1**2 / 12, rel=1e-9)
    # At t = 0.5 the mean falls between the branches, where the curve is far: the MSE trap.
    m = oracle.conditional_mean(0.5, inverse=True)
    assert abs(toy_curve(m) - 0.5) < 0.1  # by symmetry of f about (0.5, 0.5) it is 0.5
    assert m == pytest.approx(0.5, abs=1e-6)
    # Its spread is twelve times the forward noise variance.
    assert oracle.conditional_variance(0.5, inverse=True) > 12 * oracle.conditional_variance(0.5)


def test_best_gaussian_nll_forward_closed_form_and_inverse_monte_carlo():
    assert oracle.best_gaussian_nll() == pytest.approx(
        0.5 * math.log(2 * math.pi * math.e * 0.04 / 12)
    )
    # Inverse: score x under N(m(t), v(t)) on fresh samples; the average is the figure.
    t, x = make_toy_data(200_000, seed=5, inverse=True)
    m = oracle.conditional_mean(t, inverse=True)
    v = oracle.conditional_variance(t, inverse=True)
    nll = 0.5 * np.log(2 * np.pi * v) + (x - m) ** 2 / (2 * v)
    assert nll.mean() == pytest.approx(oracle.best_gaussian_nll(inverse=True), abs=0.01)
    # A single Gaussian is far from the exact inverse density, and a little from the forward.
    assert oracle.best_gaussian_nll(True) - oracle.bayes_nll(True) > 0.5
    assert 0 < oracle.best_gaussian_nll() - oracle.bayes_nll() < 0.2


def test_branch_count():
    counts = oracle.branch_count(np.array([-0.2, 0.0, 0.2, 0.5, 0.8, 1.0, 1.2]))
    np.testing.assert_array_equal(counts, [0, 1, 1, 3, 1, 1, 0])
    # Three branches exactly where t is within 0.1 of the range of f on its falling piece.
    a, b = oracle.MONOTONE_PIECES[1]
    lo, hi = toy_curve(b) - 0.1, toy_curve(a) + 0.1
    ts = np.linspace(-0.1, 1.1, 10_001)
    three = ts[oracle.branch_count(ts) == 3]
    assert three.min() == pytest.approx(lo, abs=2e-4) and three.max() == pytest.approx(hi, abs=2e-4)


@pytest.mark.parametrize("fn", ["bayes_nll", "bayes_mse", "best_gaussian_nll"])
def test_grid_sizes_must_be_positive(fn):
    """n_grid = 0 used to return 0.0, a wrong answer, instead of an error."""
    with pytest.raises(ValueError, match="n_grid must be >= 1"):
        getattr(oracle, fn)(inverse=True, n_grid=0)
