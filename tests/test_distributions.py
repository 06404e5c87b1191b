"""Tests of the generalised normal (mdn_src/distributions.py) against SciPy's gennorm.

SciPy's ``gennorm(beta, loc, scale)`` has density beta / (2 scale Gamma(1/beta))
exp(-|z|^beta), the parameterisation of :class:`GeneralizedNormal`.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import Laplace, Normal

from mdn_src import GeneralizedNormal
from mdn_src.mixture.gennorm import LOG_POWER_CAP, abs_power

F64 = torch.float64
BETAS = [0.3, 1.0, 1.5, 2.0, 5.0, 20.0]


def _dist(loc, scale, beta, dtype=F64, validate_args=None):
    return GeneralizedNormal(
        torch.tensor(loc, dtype=dtype),
        torch.tensor(scale, dtype=dtype),
        torch.tensor(beta, dtype=dtype),
        validate_args=validate_args,
    )


@pytest.mark.parametrize("beta", BETAS)
def test_log_prob_matches_scipy(beta):
    # The normaliser beta / (2 s Gamma(1/beta)) and the exponent |z|^beta; t spans the
    # body and the tails (|z|^beta stays below e^30, where the log-space cap starts).
    loc, scale = 0.7, 1.3
    zmax = min(8.0, math.exp(LOG_POWER_CAP / beta) * 0.99)
    t = loc + scale * np.linspace(-zmax, zmax, 41)
    got = _dist(loc, scale, beta).log_prob(torch.tensor(t, dtype=F64)).numpy()
    np.testing.assert_allclose(got, stats.gennorm.logpdf(t, beta, loc, scale), rtol=1e-12)


def test_beta_one_is_laplace_and_beta_two_is_normal_with_scale_over_root_two():
    t = torch.linspace(-6, 6, 61, dtype=F64)
    loc, scale = torch.tensor(0.4, dtype=F64), torch.tensor(1.7, dtype=F64)
    lap = GeneralizedNormal(loc, scale, torch.tensor(1.0, dtype=F64))
    torch.testing.assert_close(lap.log_prob(t), Laplace(loc, scale).log_prob(t))
    gauss = GeneralizedNormal(loc, scale, torch.tensor(2.0, dtype=F64))
    torch.testing.assert_close(gauss.log_prob(t), Normal(loc, scale / math.sqrt(2)).log_prob(t))
    torch.testing.assert_close(gauss.variance, (scale / math.sqrt(2)) ** 2)


def test_large_beta_approaches_the_uniform_on_loc_plus_minus_scale():
    d = _dist(1.0, 2.0, 200.0)
    inside = d.log_prob(torch.tensor([-0.9, 1.0, 2.9], dtype=F64)).exp()
    torch.testing.assert_close(inside, torch.full((3,), 0.25, dtype=F64), rtol=1e-2, atol=0)
    outside = d.log_prob(torch.tensor([-1.1, 3.1], dtype=F64)).exp()
    assert (outside < 1e-8).all()


@pytest.mark.parametrize("beta", BETAS)
def test_cdf_matches_scipy(beta):
    loc, scale = -0.5, 0.8
    t = loc + scale * np.linspace(-6, 6, 49)
    got = _dist(loc, scale, beta).cdf(torch.tensor(t, dtype=F64)).numpy()
    np.testing.assert_allclose(got, stats.gennorm.cdf(t, beta, loc, scale), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("beta", BETAS)
def test_mean_variance_and_entropy_match_scipy(beta):
    loc, scale = 1.5, 0.6
    d = _dist(loc, scale, beta)
    mean, var = stats.gennorm.stats(beta, loc, scale, moments="mv")
    assert float(d.mean) == loc and float(d.mode) == loc
    np.testing.assert_allclose(float(d.variance), var, rtol=1e-12)
    np.testing.assert_allclose(
        float(d.entropy()), stats.gennorm.entropy(beta, loc, scale), rtol=1e-12
    )


def test_docstring_example_variance_is_one_half():
    d = GeneralizedNormal(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(2.0))
    assert round(float(d.variance), 4) == 0.5


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 8.0, 20.0])
def test_samples_follow_scipy_gennorm(beta):
    # Kolmogorov-Smirnov: catches |Z| = G^beta instead of G^(1/beta), a missing random
    # sign, or the scale applied twice.
    torch.manual_seed(0)
    loc, scale = 0.3, 1.4
    s = _dist(loc, scale, beta).sample((20_000,)).numpy()
    assert stats.kstest(s, stats.gennorm(beta, loc, scale).cdf).pvalue > 1e-3


def test_rsample_is_reparameterised():
    # x = loc + scale * eps: dx/dloc = 1 and dx/dscale = (x - loc) / scale, and beta gets a
    # finite gradient through the Gamma sampler.
    loc = torch.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    scale = torch.tensor([2.0, 0.5], dtype=F64, requires_grad=True)
    beta = torch.tensor([1.5, 4.0], dtype=F64, requires_grad=True)
    x = GeneralizedNormal(loc, scale, beta).rsample((7,))
    assert x.shape == (7, 2)
    g_loc, g_scale, g_beta = torch.autograd.grad(x.sum(), (loc, scale, beta))
    torch.testing.assert_close(g_loc, torch.full((2,), 7.0, dtype=F64))
    torch.testing.assert_close(g_scale, ((x - loc) / scale).sum(0).detach())
    assert torch.isfinite(g_beta).all() and (g_beta != 0).all()


def test_sample_shape_batch_shape_and_expand():
    d = GeneralizedNormal(
        torch.zeros(3, dtype=F64),
        torch.ones(3, dtype=F64),
        torch.tensor([1.0, 2.0, 3.0], dtype=F64),
    )
    assert d.batch_shape == (3,) and d.event_shape == ()
    assert d.sample((4, 5)).shape == (4, 5, 3)
    e = d.expand((2, 3))
    assert e.batch_shape == (2, 3)
    t = torch.randn(2, 3, dtype=F64)
    torch.testing.assert_close(e.log_prob(t), d.log_prob(t))


def test_validate_args_rejects_a_non_positive_scale_or_beta():
    with pytest.raises(ValueError, match="scale"):
        _dist(0.0, -1.0, 2.0, validate_args=True)
    with pytest.raises(ValueError, match="beta"):
        _dist(0.0, 1.0, 0.0, validate_args=True)


def test_abs_power_is_exact_below_the_cap():
    z = torch.tensor([-3.0, -0.2, 1e-5, 0.7, 4.0], dtype=F64)
    for beta in (0.5, 1.0, 2.0, 7.5):
        torch.testing.assert_close(
            abs_power(z, torch.tensor(beta, dtype=F64)), z.abs() ** beta, rtol=1e-14, atol=0
        )


def test_abs_power_continues_smoothly_through_the_cap():
    # Value and slope in u = beta log|z| match at u = LOG_POWER_CAP (no jump in the loss or
    # in its gradient when a target crosses it).
    beta = torch.tensor(2.0, dtype=F64)
    eps = 1e-7
    values, slopes = [], []
    for u in (LOG_POWER_CAP - eps, LOG_POWER_CAP + eps):
        z = torch.tensor(math.exp(u / 2.0), dtype=F64, requires_grad=True)
        v = abs_power(z, beta)
        (g,) = torch.autograd.grad(v, z)
        values.append(float(v.detach()))
        slopes.append(float(g * z.detach() / beta))  # d/du
    np.testing.assert_allclose(values[0], values[1], rtol=1e-6)
    np.testing.assert_allclose(slopes[0], slopes[1], rtol=1e-6)
    np.testing.assert_allclose(values[0], math.exp(LOG_POWER_CAP), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_prob_and_gradients_are_finite_at_extreme_and_zero_distances(dtype):
    # z = 1e30 with beta = 20: |z|^beta = e^1382 overflows any float unless computed in log
    # space; z = 0 (t = loc) must not give 0 * inf in the gradient, even for beta < 1.
    dtype = getattr(torch, dtype)
    loc = torch.zeros(4, dtype=dtype, requires_grad=True)
    scale = torch.ones(4, dtype=dtype, requires_grad=True)
    beta = torch.tensor([0.5, 2.0, 20.0, 20.0], dtype=dtype, requires_grad=True)
    t = torch.tensor([0.0, 0.0, 0.0, 1e30], dtype=dtype)
    lp = GeneralizedNormal(loc, scale, beta).log_prob(t)
    assert torch.isfinite(lp).all()
    assert lp[3] < -1e12
    for g in torch.autograd.grad(lp.sum(), (loc, scale, beta)):
        assert torch.isfinite(g).all()


def test_rsample_is_a_gamma_magnitude_with_a_fair_sign():
    """Catches a sample not loc + scale * sign * Gamma(1/beta, 1) ** (1/beta) (its sign
    flipped, the scale dropped), and the flag that says it is reparameterised."""
    from torch.distributions import Gamma

    loc, scale = torch.tensor([0.5, -1.0], dtype=F64), torch.tensor([2.0, 0.3], dtype=F64)
    beta = torch.tensor([1.5, 4.0], dtype=F64)
    d = GeneralizedNormal(loc, scale, beta)
    assert d.has_rsample
    torch.manual_seed(3)
    x = d.rsample((50,))
    torch.manual_seed(3)
    magnitude = Gamma(1 / beta, torch.ones_like(beta)).rsample((50,)) ** (1 / beta)
    positive = torch.randint(0, 2, (50, 2)) == 1
    expected = loc + scale * torch.where(positive, magnitude, -magnitude)
    torch.testing.assert_close(x, expected, rtol=1e-15, atol=0)


def test_expand_keeps_validation_off_where_it_was_off():
    """Catches expand validating the parameters of a distribution built without validation."""
    d = GeneralizedNormal(torch.tensor(0.0), torch.tensor(-1.0), torch.tensor(2.0),
                          validate_args=False)  # fmt: skip
    wide = d.expand([3])
    assert wide.batch_shape == (3,) and wide.scale.tolist() == [-1.0] * 3
    assert not wide._validate_args
    on = GeneralizedNormal(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(2.0),
                           validate_args=True).expand([2])  # fmt: skip
    with pytest.raises(ValueError):
        on.log_prob(torch.tensor([float("nan"), 0.0]))
