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


def _runs_on_grid(t, xs):
    """Independent reference: the runs of grid points with |f(x) - t| < 0.1, as (first, last)."""
    inside = np.abs(toy_curve(xs) - t) < 0.1
    edges = np.diff(np.concatenate([[False], inside, [False]]).astype(int))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return xs[starts], xs[stops]


@pytest.mark.parametrize("t", [-0.05, 0.1, 0.31, 0.35, 0.45, 0.5, 0.505, 0.55, 0.65, 0.69, 0.9])
def test_support_intervals_match_a_dense_grid(t):
    xs = np.linspace(0, 1, 1_000_001)
    first, last = _runs_on_grid(t, xs)
    left, right = oracle.support_intervals(t)
    assert left.shape == right.shape == (3,)
    n = int(np.isfinite(left).sum())
    assert n == len(first) == int(oracle.interval_count(t))
    assert np.all(np.isnan(left[n:])) and np.all(np.isnan(right[n:]))
    np.testing.assert_allclose(left[:n], first, atol=2e-6)
    np.testing.assert_allclose(right[:n], last, atol=2e-6)


def test_interval_count_at_most_two_and_where():
    # Two branches merge where the band covers a turning point of f: never three intervals.
    ts = np.linspace(-0.1, 1.1, 1201)
    counts = oracle.interval_count(ts)
    assert counts.shape == ts.shape and counts.max() == 2
    grid = np.array([len(_runs_on_grid(t, np.linspace(0, 1, 20_001))[0]) for t in ts])
    # The grid can miss a sliver only within a grid step of a boundary: allow a few t.
    assert (counts != grid).sum() <= 4
    # Two intervals exactly for 0.1 < |t - f(turn)| with three branches present.
    f_max, f_min = toy_curve(np.array([oracle.MONOTONE_PIECES[0][1], oracle.MONOTONE_PIECES[1][1]]))
    two = (ts > f_min - 0.1) & (ts < f_max + 0.1) & ~((ts > f_max - 0.1) & (ts < f_min + 0.1))
    np.testing.assert_array_equal(counts == 2, two)
    # Vectorised: the shape of t is kept.
    assert oracle.support_intervals(np.zeros((4, 5)))[0].shape == (4, 5, 3)


@pytest.mark.parametrize("t", [-0.05, 0.1, 0.35, 0.5, 0.62, 0.9, 1.05])
def test_inverse_cdf_integrates_the_exact_density(t):
    # Independent reference: the cumulative integral of inverse_density on a dense grid.
    xs = np.linspace(-0.2, 1.2, 1_400_001)
    dens = oracle.inverse_density(xs, t)
    cum = np.concatenate([[0.0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(xs))])
    picks = np.linspace(0, len(xs) - 1, 57).astype(int)
    np.testing.assert_allclose(oracle.inverse_cdf(xs[picks], t), cum[picks], atol=1e-4)
    assert oracle.inverse_cdf(-1.0, t) == 0.0 and oracle.inverse_cdf(2.0, t) == 1.0


def test_inverse_cdf_of_data_is_uniform_and_nan_outside():
    t, x = make_toy_data(20_000, seed=3, inverse=True)
    u = oracle.inverse_cdf(x, t).ravel()
    # The PIT of the true density is uniform: each tenth holds 10% of the points (binomial
    # sd 0.2 percentage points).
    counts = np.histogram(u, bins=10, range=(0, 1))[0] / len(u)
    np.testing.assert_allclose(counts, 0.1, atol=0.01)
    assert np.isnan(oracle.inverse_cdf(0.5, 1.5)) and oracle.inverse_cdf(0.5, 1.5).shape == ()
    assert oracle.inverse_cdf(np.zeros((2, 3)), 0.5).shape == (2, 3)


@pytest.mark.parametrize(("x", "t"), [(0.3, 0.5), (0.05, 0.5), (0.8, 0.35), (0.2, 0.9), (1.1, 0.6)])
def test_inverse_crps_matches_quadrature(x, t):
    # Reference: CRPS = integral of (F(z) - 1{z >= x})^2 dz, by adaptive quadrature on the
    # exact cdf, split at x and at the ends of the support's intervals.
    left, right = oracle.inverse_support(t)
    cuts = sorted({x, *left.tolist(), *right.tolist()})
    lo, hi = min(cuts) - 0.01, max(cuts) + 0.01

    def integrand(z):
        return (oracle.inverse_cdf(z, t) - (z >= x)) ** 2

    total = sum(
        integrate.quad(integrand, a, b, limit=200)[0]
        for a, b in zip([lo, *cuts], [*cuts, hi], strict=True)
    )
    assert oracle.inverse_crps(x, t) == pytest.approx(total, abs=1e-8)


def test_inverse_crps_vectorised_and_nan_outside():
    t, x = make_toy_data(50, seed=4, inverse=True)
    pairs = zip(x.ravel(), t.ravel(), strict=True)
    one_by_one = np.array([oracle.inverse_crps(xi, ti) for xi, ti in pairs])
    np.testing.assert_allclose(oracle.inverse_crps(x, t).ravel(), one_by_one, rtol=1e-12)
    assert np.isnan(oracle.inverse_crps(0.5, -0.5))


def test_support_intervals_docstring_example_runs():
    import doctest

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(oracle.support_intervals, globs={"np": np, **vars(oracle)}):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted == 2


def test_forward_conditional_variance_is_the_uniform_band_variance():
    """Catches a wrong forward variance: uniform on a band of width 0.2, 0.2**2 / 12."""
    np.testing.assert_allclose(oracle.conditional_variance(np.zeros((2, 3))), 0.04 / 12, rtol=1e-14)
    assert oracle.conditional_variance(0.5).shape == ()


def test_inverse_support_computes_in_float64_whatever_the_input_dtype():
    """Catches t kept in float32: the band's edges t -+ 0.1 would be rounded to float32."""
    t32 = np.array([0.3, 0.55, 0.9], dtype=np.float32)
    left32, right32 = oracle.inverse_support(t32)
    left, right = oracle.inverse_support(t32.astype(np.float64))
    assert left32.dtype == np.float64
    np.testing.assert_array_equal(left32, left)
    np.testing.assert_array_equal(right32, right)


def test_inverse_figures_are_a_midpoint_rule_over_the_support_of_t():
    """Catches a grid not n_grid cells over [-0.1, 1.1] behind the inverse Bayes figures."""
    n = 12
    t = -0.1 + 1.2 * (np.arange(n) + 0.5) / n
    length = oracle.marginal_density_t(t) * 0.2
    weight = length / 0.2 * (1.2 / n)
    var = oracle.conditional_variance(t, inverse=True)
    assert oracle.bayes_nll(True, n_grid=n) == pytest.approx(
        np.sum(weight * np.log(length)), rel=1e-12
    )
    assert oracle.bayes_mse(True, n_grid=n) == pytest.approx(np.sum(weight * var), rel=1e-12)
    gaussian = np.sum(weight * 0.5 * np.log(2 * np.pi * np.e * var))
    assert oracle.best_gaussian_nll(True, n_grid=n) == pytest.approx(gaussian, rel=1e-12)


def test_inverse_density_includes_the_ends_of_x():
    """Catches x = 0 or x = 1 left out of the support (the band there is open only in t)."""
    t = np.array([0.05, 0.95])
    length = oracle.marginal_density_t(t) * 0.2
    np.testing.assert_allclose(oracle.inverse_density(np.array([0.0, 1.0]), t), 1 / length)
