import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from mdn_src import MDN, MixtureParameters, mixture_log_prob, mixture_nll, responsibilities

from .helpers import random_params


def scipy_log_prob(params, t):
    """Independent reference: scipy's multivariate normal, mixed in NumPy."""
    log_pi, mu, sigma = (a.detach().numpy() for a in (params.log_pi, params.mu, params.sigma))
    t = t.numpy()
    N, K, D = mu.shape
    out = np.empty(N)
    for n in range(N):
        comps = [
            stats.multivariate_normal(mu[n, k], np.diag(sigma[n, k] ** 2)).logpdf(t[n])
            for k in range(K)
        ]
        out[n] = logsumexp(log_pi[n] + np.array(comps))
    return out


@pytest.mark.parametrize("D", [1, 2, 5])
@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
def test_log_prob_matches_scipy(D, covariance):
    mdn = MDN(3, D, n_components=4, hidden=7, covariance=covariance).double()
    x = torch.randn(6, 3, dtype=torch.float64)
    t = torch.randn(6, D, dtype=torch.float64)
    params = mdn.mixture_parameters(x)
    np.testing.assert_allclose(
        mixture_log_prob(params, t).detach().numpy(), scipy_log_prob(params, t), rtol=1e-10
    )


def test_one_component_1d_is_a_normal():
    params = MixtureParameters(
        torch.zeros(2, 1), torch.tensor([[[0.5]], [[-1.0]]]), torch.tensor([[[0.2]], [[2.0]]])
    )
    t = torch.tensor([[0.1], [3.0]])
    expected = stats.norm([0.5, -1.0], [0.2, 2.0]).logpdf([0.1, 3.0])
    np.testing.assert_allclose(mixture_log_prob(params, t).numpy(), expected, rtol=1e-6)


def test_gradients_match_prml_5_155_to_5_157():
    """dE/da_pi = pi - gamma (5.155); dE/dmu = gamma (mu - t) / sigma^2 (5.156); and
    dE/dsigma = gamma (D/sigma - |t-mu|^2/sigma^3): PRML's (5.157) as printed is this
    derivative with respect to sigma (its erratum gives gamma (D - |t-mu|^2/sigma^2) for
    a = ln sigma); chapter 5 derives both."""
    N, K, D = 5, 4, 3
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(N, K, dtype=torch.float64, generator=g, requires_grad=True)
    mu = torch.randn(N, K, D, dtype=torch.float64, generator=g, requires_grad=True)
    s = (0.5 + torch.rand(N, K, 1, dtype=torch.float64, generator=g)).requires_grad_()
    t = torch.randn(N, D, dtype=torch.float64, generator=g)
    params = MixtureParameters(torch.log_softmax(logits, -1), mu, s.expand(N, K, D))
    error = -mixture_log_prob(params, t).sum()  # E = sum_n E_n
    error.backward()
    with torch.no_grad():
        pi = torch.softmax(logits, -1)
        gamma = responsibilities(params, t)
        sq = ((t.unsqueeze(1) - mu) ** 2).sum(-1)  # [N, K]
        sigma = s.squeeze(-1)
        torch.testing.assert_close(logits.grad, pi - gamma)  # (5.155)
        torch.testing.assert_close(
            mu.grad, gamma.unsqueeze(-1) * (mu - t.unsqueeze(1)) / s**2
        )  # (5.156)
        torch.testing.assert_close(
            s.grad.squeeze(-1), gamma * (D / sigma - sq / sigma**3)
        )  # (5.157)


def test_responsibilities_are_bayes_rule():
    params = random_params(4, 3, 2)
    t = torch.randn(4, 2, dtype=torch.float64)
    gamma = responsibilities(params, t)
    torch.testing.assert_close(gamma.sum(-1), torch.ones(4, dtype=torch.float64))
    comp = torch.distributions.Normal(params.mu, params.sigma).log_prob(t.unsqueeze(1)).sum(-1)
    torch.testing.assert_close(gamma, torch.softmax(params.log_pi + comp, -1))


def test_nll_finite_when_target_far_from_every_component():
    params = MixtureParameters(
        torch.log_softmax(torch.zeros(1, 3), -1), torch.zeros(1, 3, 1), torch.full((1, 3, 1), 0.01)
    )
    t = torch.tensor([[5.0]])  # 500 sigmas away: every pdf underflows to 0
    naive = torch.log((params.pi * torch.exp(-0.5 * ((t - params.mu[..., 0]) / 0.01) ** 2)).sum())
    assert torch.isinf(naive)  # the post's formula breaks here ...
    nll = mixture_nll(params, t)  # ... ours does not, and is exact
    expected = 0.5 * 500**2 + math.log(0.01) + 0.5 * math.log(2 * math.pi)
    assert torch.isfinite(nll)
    assert nll.item() == pytest.approx(expected, rel=1e-6)


def test_nll_finite_in_40_dimensions_with_finite_gradients():
    D = 40
    mdn = MDN(1, D, n_components=5, hidden=8, sigma_min=1e-3)
    x = torch.randn(16, 1)
    t = 3 * torch.randn(16, D)
    loss = mdn.loss(x, t)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 100
    assert all(torch.isfinite(p.grad).all() for p in mdn.parameters())
    # The density itself underflows float32: the naive product form is -inf in log space.
    assert torch.exp(-loss) == 0


def test_log_prob_rejects_bad_arguments():
    params = random_params(3, 2, 2)
    with pytest.raises(TypeError, match="params must be MixtureParameters"):
        mixture_log_prob((params.log_pi, params.mu, params.sigma), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="t must have 2 columns"):
        mixture_log_prob(params, torch.zeros(3, 1))
    with pytest.raises(ValueError, match="same number of rows"):
        mixture_log_prob(params, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="t contains NaN or inf"):
        mixture_log_prob(params, torch.tensor([[0.0, float("inf")]] * 3))


def test_gradients_through_the_output_activations():
    """The chain rule through the library's maps: softmax (5.155), identity (5.156), and
    sigma = sigma_min + softplus(a), whose derivative is sigmoid(a)."""
    mdn = MDN(1, 2, n_components=3, hidden=4, covariance="isotropic", sigma_min=0.01).double()
    g = torch.Generator().manual_seed(4)
    a = torch.randn(6, 3 + 6 + 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(6, 2, dtype=torch.float64, generator=g)
    params = mdn.output_activations(a)
    (-mixture_log_prob(params, t).sum()).backward()
    with torch.no_grad():
        gamma = responsibilities(params, t)  # [N, K]
        pi, mu, sigma = params.pi, params.mu, params.sigma[..., 0]
        sq = ((t.unsqueeze(1) - mu) ** 2).sum(-1)
        torch.testing.assert_close(a.grad[:, :3], pi - gamma)
        d_mu = gamma.unsqueeze(-1) * (mu - t.unsqueeze(1)) / sigma.unsqueeze(-1) ** 2
        torch.testing.assert_close(a.grad[:, 3:9], d_mu.reshape(6, 6))
        d_sigma = gamma * (2 / sigma - sq / sigma**3) * torch.sigmoid(a[:, 9:])
        torch.testing.assert_close(a.grad[:, 9:], d_sigma)


def test_responsibilities_reject_a_plain_tuple():
    params = random_params(2, 2, 1)
    with pytest.raises(TypeError, match="params must be MixtureParameters"):
        responsibilities((params.log_pi, params.mu, params.sigma), torch.zeros(2, 1))


@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
@pytest.mark.parametrize("D", [1, 3])
def test_closed_form_gradient_passes_gradcheck(covariance, D):
    """The fast path's hand-written backward against finite differences (float64)."""
    from mdn_src.fast import gaussian_head_nll

    K, N = 4, 6
    sizes = K + K * D + (K if covariance == "isotropic" else K * D)
    g = torch.Generator().manual_seed(3)
    a_t = torch.randn(sizes, N, dtype=torch.float64, generator=g, requires_grad=True)
    t_t = torch.randn(D, N, dtype=torch.float64, generator=g)
    assert torch.autograd.gradcheck(
        lambda a: gaussian_head_nll(a, t_t, K, covariance == "isotropic", 1e-3), (a_t,)
    )


@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
@pytest.mark.parametrize("D", [1, 2])
def test_fast_path_matches_the_reference_loss_and_gradients(covariance, D):
    """MDN.training_loss (closed-form gradient, K-major) against nll on the mixture's
    parameters (autograd, N-major): loss and every weight gradient to 1e-10 in float64."""
    from mdn_src.loss import nll

    mdn = MDN(2, D, n_components=5, hidden=[7, 6], covariance=covariance, sigma_min=0.01)
    mdn = mdn.double()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(40, 2, dtype=torch.float64, generator=g)
    t = 3 * torch.randn(40, D, dtype=torch.float64, generator=g)  # some far from every mean
    fast = mdn.training_loss(x, t)
    fast_grads = torch.autograd.grad(fast, list(mdn.parameters()))
    reference = nll(mdn.mixture_parameters(x), t)
    ref_grads = torch.autograd.grad(reference, list(mdn.parameters()))
    assert fast.item() == pytest.approx(reference.item(), rel=1e-12, abs=1e-12)
    for f, r in zip(fast_grads, ref_grads, strict=True):
        torch.testing.assert_close(f, r, rtol=1e-10, atol=1e-12)


def test_closed_form_gradient_scales_with_the_upstream_gradient():
    """The backward's shortcut for an upstream gradient of exactly 1 (``loss.backward()``)
    must not swallow any other: ``(-2.5 * loss)`` gets -2.5 times the gradient, and a second
    backward through a retained graph gets the same gradient again."""
    from mdn_src.fast import gaussian_head_nll

    K, D, N = 3, 1, 8
    g = torch.Generator().manual_seed(5)
    a_t = torch.randn(3 * K, N, dtype=torch.float64, generator=g, requires_grad=True)
    t_t = torch.randn(D, N, dtype=torch.float64, generator=g)
    loss = gaussian_head_nll(a_t, t_t, K, True, 1e-3)
    (unit,) = torch.autograd.grad(loss, a_t, retain_graph=True)
    (scaled,) = torch.autograd.grad(-2.5 * loss, a_t, retain_graph=True)
    (again,) = torch.autograd.grad(loss, a_t)
    torch.testing.assert_close(scaled, -2.5 * unit, rtol=1e-15, atol=0)
    torch.testing.assert_close(again, unit, rtol=0, atol=0)
    assert unit.abs().sum() > 0


@pytest.mark.parametrize(("covariance", "D"), [("isotropic", 1), ("diagonal", 2)])
def test_compiled_closed_form_matches_eager_to_1e10(covariance, D):
    """Under torch.compile (with fit's options) the closed form takes its own formulation,
    which shares transcendentals between the loss and the gradient: the compiled loss and
    gradient equal the eager ones in float64, scale inputs beyond softplus's threshold (25)
    and far below zero (-30) included, and targets far from every component. Catches a
    wrong block order, sign or shared factor there, and inductor's wrong sums under a
    pinned ``ATEN_CPU_CAPABILITY`` (N = 40 is a size where they showed)."""
    from mdn_src.fast import compile_options, gaussian_head_nll

    K, N = 3, 40
    isotropic = covariance == "isotropic"
    sizes = K + K * D + (K if isotropic else K * D)
    g = torch.Generator().manual_seed(5)
    a = torch.randn(sizes, N, dtype=torch.float64, generator=g)
    t_t = torch.randn(D, N, dtype=torch.float64, generator=g)
    a[-1, :5], a[-1, 5:10] = 25.0, -30.0  # a scale input past each end of softplus
    t_t[:, -3:] = 40.0  # targets far from every component
    results = []
    compiled = torch.compile(gaussian_head_nll, fullgraph=True, options=compile_options("cpu"))
    for fn in (gaussian_head_nll, compiled):
        a_t = a.clone().requires_grad_()
        loss = fn(a_t, t_t, K, isotropic, 1e-3)
        loss.backward()
        results.append((loss.detach(), a_t.grad))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-10, atol=1e-10)
