"""Metrics: NLL, MSE, CRPS (closed form and energy score), PIT, quantiles and coverage.

Each test names the bug it is there to catch. References are computed independently with
NumPy/SciPy (numerical integration of the CRPS, ``scipy.stats`` cdfs and quantiles).
"""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from mdn_src import (
    MDN,
    MixtureParameters,
    central_interval,
    coverage,
    crps,
    mean_nll,
    mse,
    pit,
    quantile,
    sample,
    score,
)

from .helpers import random_params

F64 = torch.float64


def mixture(pi, mu, sigma, family="gaussian", shape=None, n=1, dtype=F64):
    """``n`` copies of one 1-D mixture given by per-component lists."""
    K = len(pi)

    def rows(values, *trailing):
        return torch.tensor(values, dtype=dtype).reshape(1, K, *trailing).expand(n, K, *trailing)

    return MixtureParameters(
        torch.log(rows(pi)),
        rows(mu, 1),
        rows(sigma, 1),
        family,
        shape_param=None if shape is None else rows(shape),
    )


def scipy_components(family, mu, sigma, shape=None):
    """The components as frozen ``scipy.stats`` distributions (broadcast arrays)."""
    if family == "gaussian":
        return stats.norm(mu, sigma)
    if family == "laplace":
        return stats.laplace(mu, sigma)
    if family == "student_t":
        return stats.t(shape, mu, sigma)
    if family == "gennorm":
        return stats.gennorm(shape, mu, sigma)
    raise AssertionError(family)


def scipy_cdf(family, x, pi, mu, sigma, shape=None):
    """Mixture cdf at ``x`` for per-component arrays, independently of mdn_src."""
    x = np.asarray(x, dtype=float)[..., None]
    if family == "von_mises":
        kappa = 1 / np.asarray(sigma) ** 2
        c = stats.vonmises.cdf(x, kappa, loc=mu) - stats.vonmises.cdf(-np.pi, kappa, loc=mu)
    else:
        c = scipy_components(family, mu, sigma, shape).cdf(x)
    return (np.asarray(pi) * c).sum(-1)


def crps_by_integration(cdf, y):
    """``int (F(x) - 1{x >= y})^2 dx``, split at ``y``, by adaptive quadrature."""
    left, _ = integrate.quad(lambda x: cdf(x) ** 2, -np.inf, y, epsabs=1e-12, limit=200)
    right, _ = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, np.inf, epsabs=1e-12, limit=200)
    return left + right


def energy_tolerance(pi, mean_k, var_k, y, S, pair_factor=1.0):
    """Five standard errors (an upper bound) of the sample CRPS estimate with ``S`` draws.

    ``Var|X - y| <= E(X - y)^2``; half the pair term has variance at most
    ``pair_factor * Var(X) / S`` (1 for the all-pairs U-statistic, 1.5 for the chained pairs).
    """
    mean = (pi * mean_k).sum(-1)
    var = (pi * (var_k + (mean_k - mean[..., None]) ** 2)).sum(-1)
    second = var + (mean - y) ** 2
    return 5 * (np.sqrt(second / S) + np.sqrt(pair_factor * var / S))


# ---------------------------------------------------------------------------------------
# mean_nll and mse
# ---------------------------------------------------------------------------------------


def test_mean_nll_is_average_negative_log_density():
    mdn = MDN(1, 1, n_components=2, hidden=3)
    x, t = torch.randn(10, 1), torch.randn(10, 1)
    expected = -mdn(x).log_prob(t).mean().item()
    assert mean_nll(mdn, x, t) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(TypeError, match="model must be an MDN"):
        mean_nll(torch.nn.Linear(1, 1), x, t)


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_mean_nll_accepts_a_compiled_mdn():
    """Catches: mean_nll rejecting torch.compile(mdn) (an OptimizedModule), or accepting a
    compiled non-MDN."""
    mdn = MDN(1, 1, n_components=2, hidden=3)
    x, t = torch.randn(10, 1), torch.randn(10, 1)
    assert mean_nll(torch.compile(mdn), x, t) == mean_nll(mdn, x, t)
    with pytest.raises(TypeError, match="model must be an MDN.*OptimizedModule wrapping Linear"):
        mean_nll(torch.compile(torch.nn.Linear(1, 1)), x, t)


def test_mse():
    assert mse(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="same number of rows"):
        mse(np.zeros((2, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="target must have 1 columns"):
        mse(np.zeros((2, 1)), np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------
# PIT
# ---------------------------------------------------------------------------------------


def test_pit_is_the_mixture_cdf():
    params = random_params(4, 3, 1)
    t = torch.randn(4, 1, dtype=F64)
    pi, mu, sigma = (a.numpy() for a in (params.pi, params.mu[..., 0], params.sigma[..., 0]))
    expected = (pi * stats.norm(mu, sigma).cdf(t.numpy())).sum(-1)
    np.testing.assert_allclose(pit(params, t), expected, rtol=1e-10)


FAMILY_CASES = {
    "gaussian": dict(mu=[-1.0, 2.0], sigma=[0.5, 1.0]),
    "laplace": dict(mu=[-1.0, 2.0], sigma=[0.5, 1.0]),
    "student_t": dict(mu=[-1.0, 2.0], sigma=[0.5, 1.0], shape=[1.5, 6.0]),
    "gennorm": dict(mu=[-1.0, 2.0], sigma=[0.5, 1.0], shape=[0.8, 8.0]),
    # One component straddles the cut at +-pi.
    "von_mises": dict(mu=[3.0, -1.0], sigma=[0.6, 0.4]),
}


@pytest.mark.parametrize("family", list(FAMILY_CASES))
def test_pit_is_uniform_for_samples_from_the_model(family):
    """Catches: a family's cdf that disagrees with its sampler (wrong scale, sign, shape
    or angle convention), or PIT weights not applied per component."""
    params = mixture([0.3, 0.7], family=family, n=20_000, **FAMILY_CASES[family])
    t = sample(params, 1, torch.Generator().manual_seed(0))[0]
    u = pit(params, t)
    assert stats.kstest(u, "uniform").pvalue > 0.01


def test_pit_never_exceeds_one():
    """Catches: dropping the clamp. float32 weights pass validation summing to 1 + 1e-4, so
    the weighted cdf far right of every component is above 1."""
    log_pi = torch.log(torch.tensor([[0.5, 0.5]])) + 4e-5
    params = MixtureParameters(log_pi, torch.zeros(1, 2, 1), torch.ones(1, 2, 1))
    assert float(params.pi.sum()) > 1  # the case that used to give u > 1
    u = pit(params, torch.tensor([[50.0]]))
    assert u[0] == 1.0
    assert np.all(pit(random_params(50, 3, 1), 100 * torch.randn(50, 1, dtype=F64)) >= 0)


def test_pit_wraps_angles():
    """Catches: von Mises targets outside (-pi, pi] read on the unwrapped cdf (clamped
    to 1 or 0) instead of wrapped."""
    params = mixture([0.4, 0.6], [3.0, -1.0], [0.6, 0.4], "von_mises", n=5)
    t = torch.linspace(-3.0, 3.0, 5, dtype=F64).unsqueeze(1)
    np.testing.assert_allclose(pit(params, t + 2 * math.pi), pit(params, t), atol=1e-9)
    np.testing.assert_allclose(pit(params, t - 4 * math.pi), pit(params, t), atol=1e-9)


def test_pit_needs_one_dimension():
    with pytest.raises(ValueError, match="pit needs 1-D targets"):
        pit(random_params(2, 2, 2), torch.zeros(2, 2))


# ---------------------------------------------------------------------------------------
# CRPS
# ---------------------------------------------------------------------------------------


def test_gaussian_crps_closed_form_matches_numerical_integration():
    """Catches: any slip in the Grimit et al. closed form (the 1/2, the summed variances,
    the sign of the mu_k - mu_l term, using sigma for the variance)."""
    params = random_params(6, 3, 1, generator=torch.Generator().manual_seed(3))
    t = torch.tensor([[-3.0], [-0.5], [0.0], [0.7], [2.5], [6.0]], dtype=F64)
    got = crps(params, t)
    pi, mu, sigma = (a.numpy() for a in (params.pi, params.mu[..., 0], params.sigma[..., 0]))
    for n in range(6):

        def cdf(x, n=n):
            return float((pi[n] * stats.norm.cdf(x, mu[n], sigma[n])).sum())

        assert got[n] == pytest.approx(crps_by_integration(cdf, float(t[n, 0])), rel=1e-7)


def test_one_dimensional_full_covariance_uses_the_closed_form():
    """Catches: the full-covariance Gaussian sent to the sampler (then it would vary with
    the seed) or read with the wrong scale."""
    diag = random_params(4, 2, 1)
    full = diag.replace(scale_tril=diag.sigma.unsqueeze(-1))  # [N, K, 1, 1]
    t = torch.randn(4, 1, dtype=F64)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    np.testing.assert_allclose(crps(full, t, generator=g1), crps(diag, t, generator=g2))


def test_gaussian_crps_sample_estimate_agrees_with_the_closed_form():
    """Catches: an energy-score estimate that is biased (a missing 1/2, pairs of a draw
    with itself) or a closed form off by more than sampling noise."""
    params = random_params(6, 3, 1, generator=torch.Generator().manual_seed(5))
    t = torch.tensor([[-2.0], [-0.3], [0.0], [0.4], [1.5], [4.0]], dtype=F64)
    S = 100_000
    exact = crps(params, t, method="closed_form")
    estimate = crps(params, t, S, torch.Generator().manual_seed(0), method="sample")
    pi, mu, sigma = (a.numpy() for a in (params.pi, params.mu[..., 0], params.sigma[..., 0]))
    tol = energy_tolerance(pi, mu, sigma**2, t.numpy()[:, 0], S)
    assert np.all(np.abs(estimate - exact) < tol), (estimate - exact, tol)
    assert np.all(tol < 0.1 * exact)  # the check has teeth
    again = crps(params, t, S, torch.Generator().manual_seed(0), method="sample")
    np.testing.assert_array_equal(estimate, again)  # seeded: reproducible


def test_laplace_energy_score_matches_numerical_integration():
    """Catches: the sample estimate for a family without a closed form (wrong sampler,
    wrong pair term, a Gaussian formula applied to it)."""
    pi, mu, b = np.array([0.25, 0.75]), np.array([-1.5, 1.0]), np.array([0.4, 1.2])
    params = mixture(pi.tolist(), mu.tolist(), b.tolist(), "laplace", n=5)
    t = np.array([-3.0, -1.5, 0.0, 1.0, 5.0])
    S = 20_000
    got = crps(params, torch.tensor(t).unsqueeze(1), S, torch.Generator().manual_seed(0))

    def cdf(x):
        return float((pi * stats.laplace.cdf(x, mu, b)).sum())

    expected = np.array([crps_by_integration(cdf, y) for y in t])
    tol = energy_tolerance(pi, mu, 2 * b**2, t[:, None], S)
    assert np.all(np.abs(got - expected) < tol), (got - expected, tol)


def test_energy_score_in_two_dimensions_reduces_to_the_crps():
    """Catches: the D > 1 estimate taking the norm over the wrong axis or mis-pairing
    draws. A second dimension that is a point mass on the target adds nothing, so the
    energy score equals the 1-D CRPS."""
    one = random_params(4, 3, 1, generator=torch.Generator().manual_seed(8))
    N, K = one.log_pi.shape
    mu2 = torch.cat([one.mu, torch.full((N, K, 1), 0.5, dtype=F64)], -1)
    sigma2 = torch.cat([one.sigma, torch.full((N, K, 1), 1e-9, dtype=F64)], -1)
    two = MixtureParameters(one.log_pi, mu2, sigma2)
    t1 = torch.tensor([[-1.0], [0.0], [0.5], [2.0]], dtype=F64)
    t2 = torch.cat([t1, torch.full((N, 1), 0.5, dtype=F64)], -1)
    S = 20_000
    got = crps(two, t2, S, torch.Generator().manual_seed(0))
    exact = crps(one, t1)
    pi, mu, sigma = (a.numpy() for a in (one.pi, one.mu[..., 0], one.sigma[..., 0]))
    tol = energy_tolerance(pi, mu, sigma**2, t1.numpy()[:, 0], S, pair_factor=1.5)
    assert np.all(np.abs(got - exact) < tol), (got - exact, tol)


@pytest.mark.parametrize("D", [1, 2])
def test_energy_score_is_the_documented_estimator_on_its_draws(D):
    """Catches: off-by-one weights in the sorted all-pairs sum (1-D), the wrong norm or
    pairing (D > 1). Recomputes the estimate by brute force from the same seeded draws."""
    base = random_params(4, 2, D, generator=torch.Generator().manual_seed(4))
    params = base.replace(family="laplace")
    t = torch.randn(4, D, dtype=F64, generator=torch.Generator().manual_seed(5))
    S = 40
    got = crps(params, t, S, torch.Generator().manual_seed(9))
    x = sample(params, S, torch.Generator().manual_seed(9)).numpy()  # [S, N, D]
    to_target = np.linalg.norm(x - t.numpy(), axis=-1).mean(0)
    if D == 1:  # mean over all S (S - 1) ordered pairs of distinct draws
        gaps = np.abs(x[:, None, :, 0] - x[None, :, :, 0])  # [S, S, N]
        between = gaps.sum((0, 1)) / (S * (S - 1))
    else:  # the chained pairs (X_s, X_{s-1}), cyclically
        between = np.linalg.norm(x - np.roll(x, 1, axis=0), axis=-1).mean(0)
    np.testing.assert_allclose(got, to_target - 0.5 * between, rtol=1e-12)


def test_von_mises_crps_measures_the_short_way_round():
    """Catches: angles compared on the line. A narrow von Mises just below +pi and a target
    just above -pi are 0.1 apart, close to a Gaussian's CRPS at that distance."""
    params = mixture([1.0], [math.pi - 0.05], [0.05], "von_mises", n=1)
    t = torch.tensor([[-math.pi + 0.05]], dtype=F64)
    got = crps(params, t, 20_000, torch.Generator().manual_seed(0))
    gauss = crps(mixture([1.0], [0.0], [0.05]), torch.tensor([[0.1]], dtype=F64))
    assert got[0] == pytest.approx(gauss[0], abs=3e-3)
    shifted = crps(params, t + 2 * math.pi, 20_000, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(shifted, got, atol=1e-12)


def test_crps_argument_errors():
    params = random_params(3, 2, 1)
    t = torch.zeros(3, 1, dtype=F64)
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        crps(params, t, n_samples=0)
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        crps(params, t, n_samples=1)
    with pytest.raises(TypeError, match="n_samples must be an int"):
        crps(params, t, n_samples=10.0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        crps(params, t, generator=0)
    with pytest.raises(ValueError, match="method must be one of"):
        crps(params, t, method="exact")
    with pytest.raises(ValueError, match="same number of rows"):
        crps(params, torch.zeros(4, 1, dtype=F64))
    with pytest.raises(ValueError, match="t must have 1 columns"):
        crps(params, torch.zeros(3, 2, dtype=F64))
    with pytest.raises(ValueError, match="closed_form' needs a 1-D gaussian"):
        crps(random_params(3, 2, 2), torch.zeros(3, 2, dtype=F64), method="closed_form")
    laplace = mixture([1.0], [0.0], [1.0], "laplace", n=3)
    with pytest.raises(ValueError, match="closed_form' needs a 1-D gaussian"):
        crps(laplace, t, method="closed_form")
    cauchy = mixture([1.0], [0.0], [1.0], "student_t", shape=[1.0], n=3)
    with pytest.raises(ValueError, match="infinite .* df <= 1"):
        crps(cauchy, t)
    with pytest.raises(TypeError, match="params must be MixtureParameters"):
        crps(None, t)


# ---------------------------------------------------------------------------------------
# Quantiles, central intervals and coverage
# ---------------------------------------------------------------------------------------


def test_quantile_of_one_gaussian_is_the_normal_ppf():
    """Catches: a bisection that moves the wrong end, stops early, or returns the bracket's
    other end; a bracket that misses far levels."""
    mu = torch.tensor([-3.0, 0.0, 0.5, 40.0], dtype=F64)
    sigma = torch.tensor([0.01, 1.0, 3.0, 7.0], dtype=F64)
    params = MixtureParameters(torch.zeros(4, 1, dtype=F64), mu.view(4, 1, 1), sigma.view(4, 1, 1))
    levels = [1e-6, 0.025, 0.3, 0.5, 0.975, 1 - 1e-6]
    got = quantile(params, levels)
    assert got.shape == (4, 6)
    expected = stats.norm.ppf(levels, mu.numpy()[:, None], sigma.numpy()[:, None])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)
    assert quantile(params, 0.5).shape == (4, 1)
    np.testing.assert_allclose(quantile(params, torch.tensor([0.3])), got[:, 2:3])


@pytest.mark.parametrize("family", list(FAMILY_CASES))
def test_quantile_inverts_the_mixture_cdf(family, tol=1e-9):
    """Catches: a quantile off the mixture cdf for any family (including heavy student_t
    tails that need a wide bracket, and angles on (-pi, pi])."""
    case = dict(FAMILY_CASES[family])
    if family == "student_t":
        case["shape"] = [0.7, 3.0]  # tails heavy enough to widen the bracket many times
    params = mixture([0.3, 0.7], family=family, n=1, **case)
    levels = np.array([1e-3, 0.1, 0.3, 0.5, 0.8, 0.999])
    q = quantile(params, levels, tol=tol)[0]
    assert np.all(np.diff(q) > 0)
    F = scipy_cdf(family, q, [0.3, 0.7], case["mu"], case["sigma"], case.get("shape"))
    np.testing.assert_allclose(F, levels, rtol=0, atol=5 * tol)
    assert np.all(F >= levels - 1e-12)  # the returned end satisfies F(x) >= q


def test_quantile_of_float32_parameters_reaches_high_levels():
    """Catches: float32 weights (summing to 1 - 1e-5) whose cdf never reaches a high level,
    leaving the bracket search without end."""
    log_pi = torch.log(torch.tensor([[0.5, 0.5]])) - 1e-5
    params = MixtureParameters(log_pi, torch.tensor([[[0.0], [1.0]]]), torch.ones(1, 2, 1))
    q = quantile(params, [0.999999])
    assert q[0, 0] == pytest.approx(stats.norm.ppf(0.999999) + 0.5, abs=1.0)


def test_central_interval_has_equal_tails():
    """Catches: an interval from other levels than (1 -+ level) / 2 (a one-sided interval
    also holds `level`, so coverage alone would not notice)."""
    params = random_params(5, 3, 1)
    lower, upper = central_interval(params, 0.8)
    assert lower.shape == upper.shape == (5,)
    np.testing.assert_allclose(pit(params, torch.tensor(lower).unsqueeze(1)), 0.1, atol=1e-8)
    np.testing.assert_allclose(pit(params, torch.tensor(upper).unsqueeze(1)), 0.9, atol=1e-8)
    one = mixture([1.0], [2.0], [0.5], n=1)
    lo, hi = central_interval(one, 0.9)
    np.testing.assert_allclose([lo[0], hi[0]], 2.0 + 0.5 * stats.norm.ppf([0.05, 0.95]), atol=1e-8)


def test_coverage_of_samples_from_the_model_is_nominal():
    """Catches: coverage counting the wrong side or the wrong interval; a too-narrow model
    must cover less."""
    N = 2000
    params = random_params(N, 3, 1, generator=torch.Generator().manual_seed(11))
    t = sample(params, 1, torch.Generator().manual_seed(12))[0]
    levels = (0.5, 0.8, 0.95)
    got = coverage(params, t, levels)
    nominal = np.array(levels)
    assert got.shape == (3,)
    assert np.all(np.abs(got - nominal) < 4 * np.sqrt(nominal * (1 - nominal) / N)), got
    narrow = params.replace(sigma=params.sigma / 3)
    assert np.all(coverage(narrow, t, levels) < nominal - 0.1)


def test_coverage_for_laplace_and_angles():
    """Catches: coverage that only works for Gaussians, or compares unwrapped angles."""
    N = 2000
    for family in ("laplace", "von_mises"):
        params = mixture([0.3, 0.7], family=family, n=N, **FAMILY_CASES[family])
        t = sample(params, 1, torch.Generator().manual_seed(3))[0]
        if family == "von_mises":
            t = t + 2 * math.pi  # the same angles
        got = coverage(params, t, 0.9)
        assert abs(got[0] - 0.9) < 4 * math.sqrt(0.9 * 0.1 / N), (family, got)


def test_quantile_and_coverage_argument_errors():
    params = random_params(3, 2, 1)
    t = torch.zeros(3, 1, dtype=F64)
    two_d = random_params(3, 2, 2)
    for call in (
        lambda: quantile(two_d, 0.5),
        lambda: central_interval(two_d, 0.5),
        lambda: coverage(two_d, torch.zeros(3, 2, dtype=F64)),
    ):
        with pytest.raises(ValueError, match="needs 1-D targets, got mixtures over 2"):
            call()
    for bad in (0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), [0.5, 1.0]):
        with pytest.raises(ValueError, match="q must lie strictly between 0 and 1"):
            quantile(params, bad)
        with pytest.raises(ValueError, match="levels must lie strictly between 0 and 1"):
            coverage(params, t, bad)
    with pytest.raises(ValueError, match="level must lie strictly between 0 and 1"):
        central_interval(params, 1.0)
    with pytest.raises(TypeError, match="level must be a real number"):
        central_interval(params, [0.5])
    with pytest.raises(ValueError, match="q must hold at least one level"):
        quantile(params, [])
    with pytest.raises(ValueError, match="q must be a number or 1-D"):
        quantile(params, [[0.5]])
    for bad in ("0.5", True, [0.5, None]):
        with pytest.raises(TypeError, match="q must be a number or a 1-D sequence"):
            quantile(params, bad)
    with pytest.raises(ValueError, match="tol must be finite and > 0"):
        quantile(params, 0.5, tol=0)
    with pytest.raises(ValueError, match="same number of rows"):
        coverage(params, torch.zeros(4, 1, dtype=F64))
    with pytest.raises(ValueError, match="t must have 1 columns"):
        coverage(params, torch.zeros(3, 2, dtype=F64))
    with pytest.raises(ValueError, match="t must be 2-D"):
        coverage(params, torch.zeros(3, dtype=F64))


def test_score_is_one_row_of_the_separate_metrics():
    """score(params, t) is the NLL, the mean CRPS and the coverages, each as computed alone."""
    params = mixture([0.3, 0.7], [-1.0, 1.5], [0.4, 0.9], n=40)
    t = torch.linspace(-2.0, 3.0, 40, dtype=F64).unsqueeze(1)
    row = score(params, t, levels=(0.5, 0.8, 0.95))
    assert list(row) == ["nll", "crps", "coverage_50", "coverage_80", "coverage_95"]
    assert row["nll"] == pytest.approx(-scipy_mixture_logpdf_mean(params, t), rel=1e-12)
    assert row["crps"] == pytest.approx(float(crps(params, t).mean()), rel=1e-12)
    inside = coverage(params, t, levels=(0.5, 0.8, 0.95))
    assert [row["coverage_50"], row["coverage_80"], row["coverage_95"]] == inside.tolist()
    with pytest.raises(ValueError, match="levels must lie strictly between 0 and 1"):
        score(params, t, levels=(0.5, 1.0))
    two_d = mixture([1.0], [0.0], [1.0], n=3).map(lambda v: v)
    with pytest.raises(ValueError, match="score needs 1-D targets"):
        score(two_d.replace(mu=torch.zeros(3, 1, 2, dtype=F64), sigma=torch.ones(3, 1, 2, dtype=F64)),
              torch.zeros(3, 2, dtype=F64))  # fmt: skip


def scipy_mixture_logpdf_mean(params, t):
    """Mean log-density by SciPy in float64, the independent reference."""
    from scipy.stats import norm

    pi = params.pi.numpy()[:, :]
    mu, sd = params.mu.numpy()[..., 0], params.sigma.numpy()[..., 0]
    dens = (pi * norm.pdf(t.numpy(), mu, sd)).sum(-1)
    return float(np.log(dens).mean())


def test_intervals_are_closed_and_the_energy_score_accepts_two_draws():
    """A target exactly on a bound is inside (the documented closed interval); n_samples=2
    is the smallest sample the estimate accepts."""
    params = mixture([0.4, 0.6], [-1.0, 1.0], [0.5, 0.3], n=4)
    lower, upper = central_interval(params, 0.5)
    on_bounds = torch.tensor([lower[0], upper[1], lower[2], upper[3]], dtype=F64).unsqueeze(1)
    assert coverage(params, on_bounds, levels=0.5).tolist() == [1.0]
    draws = crps(params, on_bounds, n_samples=2, generator=torch.Generator().manual_seed(0),
                 method="sample")  # fmt: skip
    assert draws.shape == (4,) and np.isfinite(draws).all()
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        crps(params, on_bounds, n_samples=1)


def test_ragged_levels_are_a_type_error():
    params = mixture([1.0], [0.0], [1.0], n=2)
    with pytest.raises(TypeError, match="q must be a number or a 1-D sequence of numbers"):
        quantile(params, [[0.1], [0.2, 0.3]])


def test_score_of_a_sampled_crps_repeats_with_a_generator():
    """For a family without a closed-form CRPS the row is reproducible given a generator."""
    params = mixture([0.5, 0.5], [-1.0, 1.0], [0.5, 0.5], n=6).replace(family="laplace")
    t = torch.linspace(-2, 2, 6, dtype=F64).unsqueeze(1)

    def row():
        return score(params, t, generator=torch.Generator().manual_seed(7))

    assert row() == row()
    expected = crps(params, t, generator=torch.Generator().manual_seed(7)).mean()
    assert row()["crps"] == pytest.approx(float(expected), rel=1e-12)


def test_quantile_bisects_to_adjacent_floats_and_stops():
    """Catches a bisection that keeps going once the midpoint rounds to an end (it would
    never stop), or that returns other than the smallest float with F(x) >= q; and a
    central_interval default tolerance other than 1e-9."""
    params = random_params(4, 3, 1)
    levels = np.array([0.01, 0.2, 0.5, 0.77, 0.99])
    got = quantile(params, levels, tol=1e-300)  # narrower than any float spacing
    below = np.nextafter(got, -np.inf)
    F = np.stack([pit(params, torch.tensor(got[:, [i]])) for i in range(5)], -1)  # [N, L]
    F_below = np.stack([pit(params, torch.tensor(below[:, [i]])) for i in range(5)], -1)
    assert np.all(F >= levels) and np.all(F_below < levels + 1e-15)
    default = central_interval(params, 0.9)
    explicit = central_interval(params, 0.9, tol=1e-9)
    np.testing.assert_array_equal(default[0], explicit[0])
    np.testing.assert_array_equal(default[1], explicit[1])
    coarser = central_interval(params, 0.9, tol=2e-9)
    assert not np.array_equal(default[0], coarser[0]) or not np.array_equal(default[1], coarser[1])
