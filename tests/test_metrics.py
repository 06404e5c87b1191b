import numpy as np
import pytest
import torch
from scipy import stats

from mdn_src import MDN, MixtureParameters, mean_nll, mse, pit

from .helpers import random_params


def test_mean_nll_is_average_negative_log_density():
    mdn = MDN(1, 1, n_components=2, hidden=3)
    x, t = torch.randn(10, 1), torch.randn(10, 1)
    expected = -mdn(x).log_prob(t).mean().item()
    assert mean_nll(mdn, x, t) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(TypeError, match="model must be an MDN"):
        mean_nll(torch.nn.Linear(1, 1), x, t)


def test_mse():
    assert mse(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="same number of rows"):
        mse(np.zeros((2, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="target must have 1 columns"):
        mse(np.zeros((2, 1)), np.zeros((2, 2)))


def test_pit_is_the_mixture_cdf():
    params = random_params(4, 3, 1)
    t = torch.randn(4, 1, dtype=torch.float64)
    pi, mu, sigma = (a.numpy() for a in (params.pi, params.mu[..., 0], params.sigma[..., 0]))
    expected = (pi * stats.norm(mu, sigma).cdf(t.numpy())).sum(-1)
    np.testing.assert_allclose(pit(params, t), expected, rtol=1e-10)


def test_pit_is_uniform_for_samples_from_the_model():
    params = MixtureParameters(
        torch.log(torch.tensor([[0.3, 0.7]])).expand(20_000, 2),
        torch.tensor([[[-1.0], [2.0]]]).expand(20_000, 2, 1),
        torch.tensor([[[0.5], [1.0]]]).expand(20_000, 2, 1),
    )
    from mdn_src import sample

    t = sample(params, 1, torch.Generator().manual_seed(0))[0]
    u = pit(params, t)
    assert stats.kstest(u, "uniform").pvalue > 0.01
    with pytest.raises(ValueError, match="pit needs 1-D targets"):
        pit(random_params(2, 2, 2), torch.zeros(2, 2))
