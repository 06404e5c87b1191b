import numpy as np
import pytest
import torch
from scipy import stats

from mdn_src import oracle
from mdn_src.problems.approximation import fit_exact_density, points_in_support


@pytest.fixture(scope="module")
def one_gaussian():
    return fit_exact_density(1, "gaussian", n_inputs=8, n_points=64, steps=400, lr=0.02)


def test_one_gaussian_matches_the_moment_matched_normal(one_gaussian):
    # The Gaussian closest to p(x | t) in KL has p's mean and variance; its cross-entropy
    # is 0.5 ln(2 pi e var), with the variance from the oracle (law of total variance).
    var = oracle.conditional_variance(one_gaussian.t, inverse=True)
    np.testing.assert_allclose(one_gaussian.cross_entropy, 0.5 * np.log(2 * np.pi * np.e * var),
                               atol=2e-3)  # fmt: skip
    mean = oracle.conditional_mean(one_gaussian.t, inverse=True)
    np.testing.assert_allclose(one_gaussian.params.mu[:, 0, 0].numpy(), mean, atol=5e-3)


def test_cross_entropy_matches_scipy_quadrature():
    fit = fit_exact_density(3, "gaussian", n_inputs=6, n_points=32, steps=30)
    pi, mu, sigma = (
        fit.params.pi.numpy(),
        fit.params.mu[..., 0].numpy(),
        fit.params.sigma[..., 0].numpy(),
    )
    left, right = oracle.inverse_support(fit.t)
    for i in range(len(fit.t)):
        total = 0.0
        for a, b in zip(left[i], right[i], strict=True):
            if b > a:
                x = np.linspace(a, b, 20001)
                q = (pi[i] * stats.norm.pdf(x[:, None], mu[i], sigma[i])).sum(1)
                total += np.trapezoid(-np.log(q), x)
        np.testing.assert_allclose(fit.cross_entropy[i], total / (right[i] - left[i]).sum(),
                                   rtol=1e-4, atol=1e-4)  # fmt: skip


def test_entropy_weights_and_gap_agree_with_the_oracle():
    fit = fit_exact_density(2, "laplace", n_inputs=10, n_points=16, steps=5)
    length = oracle.marginal_density_t(fit.t) * 0.2
    np.testing.assert_allclose(fit.entropy, np.log(length), rtol=1e-12)
    np.testing.assert_allclose(fit.weight, length / length.sum(), rtol=1e-12)
    assert fit.gap == pytest.approx(fit.nll - fit.bayes_nll)
    assert (fit.cross_entropy >= fit.entropy - 1e-9).all()  # KL >= 0 at every t


def test_points_in_support_are_uniform_on_the_intervals():
    t = np.array([0.5, 0.9])
    left, right = oracle.inverse_support(t)
    u = ((torch.arange(10_000, dtype=torch.float64) + 0.5) / 10_000).expand(2, -1)
    x = points_in_support(u, torch.from_numpy(left), torch.from_numpy(right - left)).numpy()
    assert (oracle.inverse_density(x, t[:, None]) > 0).all()
    for i in range(2):  # each interval holds its share of the points
        share = [np.mean((x[i] >= a) & (x[i] <= b)) for a, b in zip(left[i], right[i], strict=True)]
        np.testing.assert_allclose(share, (right[i] - left[i]) / (right[i] - left[i]).sum(),
                                   atol=2e-4)  # fmt: skip


def test_gennorm_fit_has_shapes():
    fit = fit_exact_density(2, "gennorm", n_inputs=4, n_points=8, steps=3)
    assert fit.params.shape_param.shape == (4, 2)
    assert fit.params.mu.shape == (4, 2, 1)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_components"):
        fit_exact_density(0)
    with pytest.raises(ValueError, match="von_mises"):
        fit_exact_density(2, "von_mises")
    with pytest.raises(TypeError, match="unexpected"):
        fit_exact_density(2, sigma=1)


def test_defaults_grid_and_first_step():
    """Catches a wrong default grid (48 cells over [-0.1, 1.1]) or learning rate (0.01), a
    wrong first Adam step (the cosine schedule starts at lr), and wrong starting means
    (the K quantiles of p(x | t))."""
    fit = fit_exact_density(2, n_points=8, steps=1, n_eval=8)
    edges = np.linspace(-0.1, 1.1, 49)
    np.testing.assert_allclose(fit.t, 0.5 * (edges[1:] + edges[:-1]), rtol=0, atol=1e-15)
    left, right = oracle.inverse_support(fit.t)
    quantiles = torch.tensor([[0.25, 0.75]], dtype=torch.float64).expand(48, 2)
    mu0 = points_in_support(quantiles, torch.from_numpy(left), torch.from_numpy(right - left))
    # Adam's first step moves every parameter by lr: g / (|g| + eps), eps = 1e-8.
    moved = (fit.params.mu[..., 0] - mu0).abs()
    torch.testing.assert_close(moved, torch.full_like(moved, 0.01), rtol=1e-4, atol=0)
    explicit = fit_exact_density(2, n_inputs=48, lr=0.01, n_points=8, steps=1, n_eval=8)
    torch.testing.assert_close(explicit.params.mu, fit.params.mu, rtol=0, atol=0)


def test_scales_start_at_the_support_length_over_k_clamped_at_twice_sigma_min():
    """Catches starting scales other than |S_t| / K, or a clamp other than 2 sigma_min."""
    fit = fit_exact_density(3, n_inputs=5, n_points=8, steps=1, n_eval=8, lr=1e-12)
    length = oracle.marginal_density_t(fit.t) * 0.2  # |S_t|
    sigma = fit.params.sigma[..., 0]
    np.testing.assert_allclose(sigma.numpy(), np.repeat(length[:, None] / 3, 3, 1), rtol=1e-9)
    clamped = fit_exact_density(3, n_inputs=5, n_points=8, steps=1, n_eval=8, lr=1e-12,
                                sigma_min=10.0)  # fmt: skip
    np.testing.assert_allclose(clamped.params.sigma.numpy(), 20.0, rtol=1e-9)
