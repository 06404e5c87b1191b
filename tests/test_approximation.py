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
