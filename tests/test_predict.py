import math

import numpy as np
import pytest
import torch

from mdn_src import (
    MixtureParameters,
    approximate_mode,
    conditional_modes,
    density_grid,
    mixture_log_prob,
    mixture_mean,
    mixture_variance,
    sample,
)

from .helpers import random_params


def test_sample_shape_and_reproducibility():
    params = random_params(6, 3, 2)
    s1 = sample(params, 10, torch.Generator().manual_seed(0))
    s2 = sample(params, 10, torch.Generator().manual_seed(0))
    assert s1.shape == (10, 6, 2)
    torch.testing.assert_close(s1, s2)
    assert not torch.equal(s1, sample(params, 10, torch.Generator().manual_seed(1)))


def test_sample_moments_match_the_mixture():
    params = random_params(3, 4, 2, spread=1.0)
    S = 200_000
    s = sample(params, S, torch.Generator().manual_seed(3))  # [S, N, D]
    pi, mu, sigma = params.pi.unsqueeze(-1), params.mu, params.sigma
    mean = (pi * mu).sum(1)  # independent formula, not the library's
    var = (pi * (sigma**2 + mu**2)).sum(1) - mean**2
    se_mean = (var / S).sqrt()
    assert ((s.mean(0) - mean).abs() < 5 * se_mean).all()
    # Var of the sample variance is about (m4 - var^2)/S; 5% is far outside the noise at S=2e5.
    torch.testing.assert_close(s.var(0), var, rtol=0.05, atol=0)
    torch.testing.assert_close(mixture_mean(params), mean)
    torch.testing.assert_close(mixture_variance(params), var)


def test_sample_picks_components_with_probability_pi():
    # Components far apart: every sample can be traced back to its component.
    log_pi = torch.log(torch.tensor([[0.2, 0.5, 0.3]], dtype=torch.float64))
    mu = torch.tensor([[[-10.0], [0.0], [10.0]]], dtype=torch.float64)
    params = MixtureParameters(log_pi, mu, torch.full_like(mu, 0.1))
    s = sample(params, 100_000, torch.Generator().manual_seed(0))[:, 0, 0]
    freq = torch.stack(
        [(s < -5).double().mean(), (s.abs() < 5).double().mean(), (s > 5).double().mean()]
    )
    torch.testing.assert_close(freq, log_pi.exp()[0], atol=0.01, rtol=0)


def test_multidimensional_samples_come_from_one_component():
    # Two 3-D components at (-1,-1,-1) and (1,1,1), narrow: a sample mixing dimensions
    # from both would have coordinates of both signs.
    mu = torch.tensor([[[-1.0] * 3, [1.0] * 3]])
    params = MixtureParameters(torch.log(torch.tensor([[0.5, 0.5]])), mu, torch.full_like(mu, 0.05))
    s = sample(params, 5000, torch.Generator().manual_seed(0))[:, 0]  # [S, 3]
    same_sign = (torch.sign(s) == torch.sign(s[:, :1])).all(-1)
    assert same_sign.all()
    assert 0.45 < (s[:, 0] > 0).float().mean() < 0.55


def test_approximate_mode_is_mean_of_most_probable_component():
    params = random_params(5, 4, 2)
    best = params.log_pi.argmax(-1)
    expected = torch.stack([params.mu[n, best[n]] for n in range(5)])
    torch.testing.assert_close(approximate_mode(params), expected)


def test_modes_are_stationary_maxima_and_highest_is_global():
    params = random_params(8, 5, 1, spread=1.5)
    modes = conditional_modes(params)
    assert modes.location.shape == (8, 5, 1) and modes.distinct.shape == (8, 5)
    for n in range(8):
        one = params.map(lambda a, n=n: a[n : n + 1])
        found = modes.location[n][modes.distinct[n]]  # [M, 1]
        for m in found:
            t = m.reshape(1, 1).clone().requires_grad_()
            (grad,) = torch.autograd.grad(mixture_log_prob(one, t).sum(), t, create_graph=True)
            (curv,) = torch.autograd.grad(grad.sum(), t)
            assert abs(grad.item()) < 1e-4  # stationary
            assert curv.item() < 0  # a maximum, not a minimum
        # The highest one found is the global maximum on a dense grid.
        grid = torch.linspace(-8, 8, 160_001, dtype=torch.float64).reshape(-1, 1)
        size = len(grid)
        rep = one.map(lambda a, size=size: a.expand(size, *a.shape[1:]))
        dense = mixture_log_prob(rep, grid)
        assert modes.highest[n].item() == pytest.approx(grid[dense.argmax()].item(), abs=2e-4)
        # And the number of distinct modes equals the grid's count of local maxima.
        peaks = ((dense[1:-1] > dense[:-2]) & (dense[1:-1] > dense[2:])).sum().item()
        assert modes.distinct[n].sum().item() == peaks


def test_bimodal_2d_modes_found_and_merged():
    mu = torch.tensor([[[0.0, 0.0], [0.0, 0.01], [3.0, 3.0]]], dtype=torch.float64)
    sigma = torch.full_like(mu, 0.5)
    log_pi = torch.log(torch.tensor([[0.3, 0.3, 0.4]], dtype=torch.float64))
    modes = conditional_modes(MixtureParameters(log_pi, mu, sigma))
    assert modes.distinct.sum() == 2  # the two nearby components share one mode
    torch.testing.assert_close(
        modes.highest[0], torch.tensor([0.0, 0.005], dtype=torch.float64), atol=1e-4, rtol=0
    )
    assert modes.significant(0.5).sum() == 2
    assert modes.significant(0.99).sum() == 1


def test_unimodal_mode_of_single_gaussian():
    params = MixtureParameters(torch.zeros(1, 1), torch.tensor([[[2.5]]]), torch.tensor([[[0.3]]]))
    modes = conditional_modes(params)
    assert modes.highest.item() == pytest.approx(2.5)
    assert modes.log_density.item() == pytest.approx(
        -math.log(0.3 * math.sqrt(2 * math.pi)), rel=1e-6
    )


def test_bad_arguments():
    params = random_params(2, 3, 1)
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        sample(params, 0)
    with pytest.raises(TypeError, match="n_samples must be an int"):
        sample(params, 2.0)
    with pytest.raises(TypeError, match="params must be MixtureParameters"):
        sample(params.mu, 3)
    with pytest.raises(TypeError, match="params must be MixtureParameters"):
        approximate_mode({"mu": params.mu})
    with pytest.raises(ValueError, match="tol must be finite and > 0"):
        conditional_modes(params, tol=0)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        conditional_modes(params, max_iter=0)
    with pytest.raises(ValueError, match="ratio must be finite and > 0"):
        conditional_modes(params).significant(-1)


def test_merge_tol_is_validated_and_merges():
    params = random_params(2, 3, 1)
    with pytest.raises(ValueError, match="merge_tol must be finite and > 0"):
        conditional_modes(params, merge_tol=0)
    # An enormous merge_tol makes every ascent one mode.
    assert (conditional_modes(params, merge_tol=1e6).distinct.sum(-1) == 1).all()


def test_predictions_reject_broadcastable_but_wrong_shapes():
    params = random_params(3, 2, 1)
    with pytest.raises(ValueError, match=r"params.log_pi must be \[N, K\]"):
        sample(params.replace(log_pi=params.log_pi[:, :1]), 2)
    with pytest.raises(ValueError, match="params.sigma must be positive"):
        mixture_mean(params.replace(sigma=-params.sigma))


def _two_components(N=20_000):
    return MixtureParameters(
        torch.log(torch.tensor([[0.2, 0.8]], dtype=torch.float64)).expand(N, 2),
        torch.tensor([[[-3.0], [3.0]]], dtype=torch.float64).expand(N, 2, 1),
        torch.tensor([[[0.5], [0.5]]], dtype=torch.float64).expand(N, 2, 1),
    )


def test_temperature_one_is_plain_sampling():
    params = random_params(5, 3, 2)
    plain = sample(params, 7, torch.Generator().manual_seed(1))
    warm = sample(params, 7, torch.Generator().manual_seed(1), temperature=1.0, scale_sigma=True)
    torch.testing.assert_close(plain, warm, rtol=0, atol=0)


@pytest.mark.parametrize("tau", [0.5, 3.0])
def test_temperature_reweights_components_as_pi_to_the_one_over_tau(tau):
    draws = sample(_two_components(), 1, torch.Generator().manual_seed(2), temperature=tau)[0]
    share = (draws[:, 0] < 0).double().mean().item()  # draws from the left component
    weights = torch.tensor([0.2, 0.8]) ** (1 / tau)
    expected = (weights[0] / weights.sum()).item()  # 0.059 at tau 0.5, 0.387 at tau 3
    assert share == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / 20_000))


def test_temperature_zero_with_scaled_sigma_gives_the_most_probable_mean():
    params = random_params(6, 4, 2)
    draws = sample(params, 3, torch.Generator().manual_seed(0), temperature=0, scale_sigma=True)
    torch.testing.assert_close(draws, approximate_mode(params).expand(3, 6, 2))
    # Without scaling sigma, tau = 0 still always picks the most probable component.
    one = sample(_two_components(2000), 1, temperature=0)[0]
    assert (one > 0).all()


def test_scale_sigma_narrows_each_component():
    params = _two_components()
    draws = sample(params, 1, torch.Generator().manual_seed(3), temperature=0.5, scale_sigma=True)
    right = draws[0][draws[0, :, 0] > 0]
    assert right.std().item() == pytest.approx(0.25, rel=0.05)  # 0.5 * sigma


def test_temperature_arguments_are_checked():
    params = random_params(2, 2, 1)
    with pytest.raises(ValueError, match="temperature must be finite and >= 0"):
        sample(params, 2, temperature=-1.0)
    with pytest.raises(TypeError, match="scale_sigma must be a bool"):
        sample(params, 2, scale_sigma="yes")


def test_density_grid_matches_scipy_and_integrates_to_one():
    """A density map of two 1-D Gaussian mixtures against scipy in float64, row by row."""
    from scipy.stats import norm

    from mdn_src import density_grid

    log_pi = torch.log(torch.tensor([[0.3, 0.7], [0.5, 0.5]], dtype=torch.float64))
    mu = torch.tensor([[[-1.0], [2.0]], [[0.0], [0.5]]], dtype=torch.float64)
    sigma = torch.tensor([[[0.5], [1.0]], [[0.2], [0.3]]], dtype=torch.float64)
    params = MixtureParameters(log_pi, mu, sigma)
    grid = np.linspace(-6, 8, 2801)
    dens = density_grid(params, grid)
    assert dens.shape == (2, 2801) and dens.dtype == torch.float64
    for i in range(2):
        expected = sum(
            np.exp(log_pi[i, k].item()) * norm.pdf(grid, mu[i, k, 0].item(), sigma[i, k, 0].item())
            for k in range(2)
        )
        np.testing.assert_allclose(dens[i].numpy(), expected, rtol=1e-12, atol=1e-300)
        assert np.trapezoid(dens[i].numpy(), grid) == pytest.approx(1.0, abs=1e-6)


def test_density_grid_errors():
    from mdn_src import density_grid

    params_2d = MixtureParameters(torch.zeros(1, 1), torch.zeros(1, 1, 2), torch.ones(1, 1, 2))
    with pytest.raises(ValueError, match="1-D targets"):
        density_grid(params_2d, np.zeros(3))
    params = MixtureParameters(torch.zeros(1, 1), torch.zeros(1, 1, 1), torch.ones(1, 1, 1))
    with pytest.raises(ValueError, match="outputs must be"):
        density_grid(params, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="outputs must be"):
        density_grid(params, np.arange(3))  # integers


def test_density_grid_is_each_mixtures_density_at_each_output():
    """density[i, j] = p(outputs[j] | input i), against torch.distributions point by point,
    for several inputs and a one-point grid too."""
    torch.manual_seed(0)
    params = MixtureParameters(
        torch.log_softmax(torch.randn(3, 2, dtype=torch.float64), -1),
        torch.randn(3, 2, 1, dtype=torch.float64),
        0.3 + torch.rand(3, 2, 1, dtype=torch.float64),
    )
    for outputs in (torch.linspace(-2, 2, 5, dtype=torch.float64), torch.tensor([0.25]).double()):
        got = density_grid(params, outputs)
        dist = params.distribution()
        expected = torch.stack([dist.log_prob(torch.full((3, 1), float(o)).double()).exp()
                                for o in outputs], dim=1)  # fmt: skip
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)


def test_temperature_scales_sigma_only_when_asked():
    """With one component, the temperature changes no component choice: the draws at any
    tau != 0 are those at tau = 1, times tau around the mean only when scale_sigma=True."""
    params = MixtureParameters(torch.zeros(2, 1), torch.tensor([[[1.0]], [[-2.0]]]),
                               torch.tensor([[[0.5]], [[0.2]]]))  # fmt: skip

    def draws(**kwargs):
        return sample(params, 50, generator=torch.Generator().manual_seed(3), **kwargs)

    base = draws()
    for tau in (0.5, 2.0):
        torch.testing.assert_close(draws(temperature=tau), base, rtol=0, atol=0)
        scaled = draws(temperature=tau, scale_sigma=True)
        torch.testing.assert_close(scaled - params.mu[:, 0], tau * (base - params.mu[:, 0]),
                                   rtol=1e-6, atol=1e-6)  # fmt: skip
