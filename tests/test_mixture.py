"""Tests of the mixture families (mdn_src/mixture.py) against independent references.

Every density, cdf and moment is checked against SciPy or a closed form written here in
NumPy, never against the library itself. Components are mixed with
``scipy.special.logsumexp``.
"""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.special import gamma as gamma_fn
from scipy.special import logsumexp

from mdn_src import (
    MDN,
    MixtureParameters,
    mixture_log_prob,
    mixture_mean,
    mixture_variance,
    pit,
    sample,
)
from mdn_src.mixture import FAMILIES, component_cdf
from mdn_src.model import HeadSpec

F64 = torch.float64
#: (family, covariance) pairs an MDN accepts.
VALID_PAIRS = [
    ("gaussian", "isotropic"),
    ("gaussian", "diagonal"),
    ("gaussian", "full"),
    ("laplace", "isotropic"),
    ("laplace", "diagonal"),
    ("student_t", "isotropic"),
    ("student_t", "diagonal"),
    ("gennorm", "isotropic"),
    ("gennorm", "diagonal"),
    ("von_mises", "isotropic"),
    ("von_mises", "diagonal"),
]
ALL_FAMILIES = ["gaussian", "laplace", "student_t", "gennorm", "von_mises"]
#: torch's VonMises.log_prob approximates log I0(kappa) by the Abramowitz & Stegun
#: polynomials; measured against the exact log(i0e) over kappa in [1e-3, 1e4] its error is
#: at most 4.7e-7 nats per dimension (largest near kappa = 100). The mixture of components
#: each off by at most that is off by at most that too.
TORCH_VON_MISES_ATOL_PER_DIM = 1e-6


def test_the_family_covariance_pairs_tested_here_are_all_the_library_has():
    # A family (or covariance) added to the library without being added here fails this.
    assert set(ALL_FAMILIES) == set(FAMILIES)
    assert set(VALID_PAIRS) == {(f, c) for f, fam in FAMILIES.items() for c in fam.covariances}


def make_params(
    family,
    N=4,
    K=3,
    D=2,
    covariance="diagonal",
    seed=0,
    dtype=F64,
    spread=2.0,
    df_range=(5.0, 10.0),
    beta_range=(0.8, 6.0),
    offdiag=0.5,
):
    """Random valid mixture parameters of one family (leaf tensors)."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=F64)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=F64)

    log_pi = torch.log_softmax(randn(N, K), -1)
    mu = spread * randn(N, K, D)
    if family == "von_mises":
        mu = math.pi * (2 * rand(N, K, D) - 1)
    if covariance == "isotropic":
        sigma = (0.3 + rand(N, K, 1)).expand(N, K, D).clone()
    else:
        sigma = 0.3 + rand(N, K, D)
    scale_tril = None
    if covariance == "full":
        scale_tril = torch.tril(offdiag * randn(N, K, D, D), -1) + torch.diag_embed(
            0.3 + rand(N, K, D)
        )
        sigma = scale_tril.pow(2).sum(-1).sqrt()
    shape = None
    if family == "student_t":
        lo, hi = df_range
        shape = lo + (hi - lo) * rand(N, K)
    elif family == "gennorm":
        lo, hi = beta_range
        shape = lo + (hi - lo) * rand(N, K)
    tensors = {
        "log_pi": log_pi,
        "mu": mu,
        "sigma": sigma,
        "scale_tril": scale_tril,
        "shape_param": shape,
    }
    tensors = {k: None if v is None else v.to(dtype) for k, v in tensors.items()}
    return MixtureParameters(family=family, **tensors)


def numpy_fields(params):
    def arr(v):
        return None if v is None else v.detach().double().numpy()

    return (
        arr(params.log_pi),
        arr(params.mu),
        arr(params.sigma),
        arr(params.shape_param),
        arr(params.scale_tril),
    )


def wrap_np(x):
    """Angles to (-pi, pi] in NumPy (scipy's vonmises has support [loc - pi, loc + pi])."""
    return np.pi - np.mod(np.pi - x, 2 * np.pi)


def scipy_component_log_pdf(params, t):
    """Each component's log-density at t [N, D], from SciPy: [N, K].

    SciPy's Laplace logpdf is log(pdf), -inf beyond ~745 scales; there the closed form
    -|t - mu| / b - log(2 b) is used instead.
    """
    _, mu, sigma, shape, tril = numpy_fields(params)
    t = np.asarray(t, dtype=np.float64)[:, None, :]  # [N, 1, D]
    family = params.family
    if family == "gaussian" and tril is not None:
        N, K, _ = mu.shape
        out = np.empty((N, K))
        for n in range(N):
            for k in range(K):
                cov = tril[n, k] @ tril[n, k].T
                out[n, k] = stats.multivariate_normal(mu[n, k], cov).logpdf(t[n, 0])
        return out
    if family == "gaussian":
        per_dim = stats.norm.logpdf(t, mu, sigma)
    elif family == "laplace":
        per_dim = stats.laplace.logpdf(t, mu, sigma)
        per_dim = np.where(
            np.isfinite(per_dim), per_dim, -np.abs(t - mu) / sigma - np.log(2 * sigma)
        )
    elif family == "student_t":
        per_dim = stats.t.logpdf(t, shape[..., None], mu, sigma)
    elif family == "gennorm":
        per_dim = stats.gennorm.logpdf(t, shape[..., None], mu, sigma)
    elif family == "von_mises":
        per_dim = stats.vonmises.logpdf(wrap_np(t - mu), 1.0 / sigma**2)
    else:
        raise AssertionError(family)
    return per_dim.sum(-1)


def scipy_mixture_log_pdf(params, t):
    log_pi = params.log_pi.detach().double().numpy()
    return logsumexp(log_pi + scipy_component_log_pdf(params, t), axis=-1)


def scipy_component_cdf(params, points):
    """Each component's cdf at points [N, P] (D = 1), from SciPy: [N, P, K]."""
    _, mu, sigma, shape, _ = numpy_fields(params)
    x = np.asarray(points, dtype=np.float64)[:, :, None]  # [N, P, 1]
    mu, sigma = mu[:, None, :, 0], sigma[:, None, :, 0]  # [N, 1, K]
    family = params.family
    if family == "gaussian":
        return stats.norm.cdf(x, mu, sigma)
    if family == "laplace":
        return stats.laplace.cdf(x, mu, sigma)
    if family == "student_t":
        return stats.t.cdf(x, shape[:, None, :], mu, sigma)
    if family == "gennorm":
        return stats.gennorm.cdf(x, shape[:, None, :], mu, sigma)
    if family == "von_mises":
        # P(-pi < theta <= x) by quadrature of SciPy's density (periodic through wrap_np).
        x, mu, kappa = np.broadcast_arrays(x, mu, 1.0 / sigma**2)
        out = np.empty(x.shape)
        for idx in np.ndindex(x.shape):
            out[idx] = integrate.quad(
                lambda a, m=mu[idx], k=kappa[idx]: stats.vonmises.pdf(wrap_np(a - m), k),
                -np.pi,
                x[idx],
                epsabs=1e-13,
                epsrel=1e-12,
            )[0]
        return out
    raise AssertionError(family)


def component_moments_np(params):
    """Closed-form component mean, variance and 4th central moment per dimension: [N, K, D]."""
    _, mu, sigma, shape, tril = numpy_fields(params)
    family = params.family
    if family == "gaussian":
        var = (tril**2).sum(-1) if tril is not None else sigma**2
        m4 = 3 * var**2
    elif family == "laplace":
        var, m4 = 2 * sigma**2, 24 * sigma**4
    elif family == "student_t":
        df = shape[..., None]
        var = sigma**2 * df / (df - 2)
        m4 = 3 * sigma**4 * df**2 / ((df - 2) * (df - 4))
    elif family == "gennorm":
        b = shape[..., None]
        var = sigma**2 * gamma_fn(3 / b) / gamma_fn(1 / b)
        m4 = sigma**4 * gamma_fn(5 / b) / gamma_fn(1 / b)
    else:
        raise AssertionError(family)
    return mu, var, m4


def mixture_moments_np(params):
    """Mixture mean, variance and 4th central moment per dimension, [N, D] each."""
    pi = np.exp(params.log_pi.detach().double().numpy())[..., None]  # [N, K, 1]
    mu, var, m4 = component_moments_np(params)
    mean = (pi * mu).sum(1)
    d = mu - mean[:, None]
    variance = (pi * (var + d**2)).sum(1)
    # Symmetric components: E[(Y + d)^4] = m4 + 6 d^2 var + d^4.
    fourth = (pi * (m4 + 6 * d**2 * var + d**4)).sum(1)
    return mean, variance, fourth


# --------------------------------------------------------------------------------------
# 1. Log-densities against SciPy.


@pytest.mark.parametrize("D", [1, 2, 5])
@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
def test_gaussian_log_prob_matches_scipy(covariance, D):
    params = make_params("gaussian", N=6, K=3, D=D, covariance=covariance, seed=D)
    t = torch.randn(6, D, dtype=F64) * 2
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


@pytest.mark.parametrize("D", [2, 5])
def test_full_covariance_log_prob_matches_scipy(D):
    # Strongly correlated factors: a dropped off-diagonal, a transposed factor (upper vs
    # lower triangle) or log|L| taken as log|Sigma| would all change the value.
    params = make_params("gaussian", N=5, K=3, D=D, covariance="full", seed=10 + D)
    t = torch.randn(5, D, dtype=F64) * 2
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


def test_full_covariance_log_prob_is_not_the_diagonal_one():
    # Guards the test above: with off-diagonal terms, ignoring them must change the value.
    params = make_params("gaussian", N=5, K=3, D=3, covariance="full", seed=1)
    t = torch.randn(5, 3, dtype=F64)
    diag = params.replace(scale_tril=None)
    assert not np.allclose(
        mixture_log_prob(params, t).numpy(), mixture_log_prob(diag, t).numpy(), rtol=1e-3
    )


@pytest.mark.parametrize("D", [1, 3])
def test_laplace_log_prob_matches_scipy(D):
    params = make_params("laplace", N=6, K=3, D=D, seed=20 + D)
    t = torch.randn(6, D, dtype=F64) * 2
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


@pytest.mark.parametrize("D", [1, 3])
def test_student_t_log_prob_matches_scipy(D):
    # Low and high degrees of freedom: df enters the normaliser and the tail exponent.
    params = make_params("student_t", N=6, K=3, D=D, seed=30 + D, df_range=(0.5, 30.0))
    t = torch.randn(6, D, dtype=F64) * 3
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


@pytest.mark.parametrize("D", [1, 3])
def test_gennorm_log_prob_matches_scipy(D):
    # beta below 1 (cusp), near 2 (Gaussian) and large (flat top): beta enters as
    # beta / Gamma(1 / beta), not Gamma(beta), and in the exponent |z|^beta.
    params = make_params("gennorm", N=6, K=3, D=D, seed=40 + D, beta_range=(0.5, 8.0))
    t = torch.randn(6, D, dtype=F64) * 2
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


@pytest.mark.parametrize("D", [1, 3])
def test_von_mises_log_prob_matches_scipy(D):
    # kappa = 1 / sigma^2 (not 1 / sigma); targets given unwrapped (t + 2 pi m) must have
    # the density of their wrapped angle.
    params = make_params("von_mises", N=6, K=3, D=D, seed=50 + D)
    t = math.pi * (2 * torch.rand(6, D, dtype=F64) - 1)
    turns = torch.randint(-2, 3, (6, D)).to(F64)
    expected = scipy_mixture_log_pdf(params, t)
    np.testing.assert_allclose(mixture_log_prob(params, t).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(
        mixture_log_prob(params, t + 2 * math.pi * turns).numpy(), expected, rtol=1e-10
    )


def test_von_mises_log_prob_does_not_overflow_for_large_concentration():
    # kappa = 1e8: I0(kappa) overflows float64, so a naive log(I0) is inf; near the mean the
    # density is a Gaussian of standard deviation sigma. (Loose rtol: see the next test.)
    mu = torch.zeros(1, 1, 1, dtype=F64)
    params = MixtureParameters(
        torch.zeros(1, 1, dtype=F64), mu, torch.full_like(mu, 1e-4), "von_mises"
    )
    t = torch.tensor([[2e-4]], dtype=F64)
    expected = stats.vonmises.logpdf(2e-4, 1e8)
    assert np.isfinite(expected)
    np.testing.assert_allclose(mixture_log_prob(params, t).numpy(), [expected], rtol=1e-8)


@pytest.mark.parametrize("dtype,sigma,atol", [("float32", 1e-3, 1e-5), ("float64", 1e-6, 1e-10)])
def test_von_mises_log_prob_is_accurate_for_small_sigma(dtype, sigma, atol):
    dtype = getattr(torch, dtype)
    P = 301
    mu = torch.zeros(P, 1, 1, dtype=dtype)
    params = MixtureParameters(
        torch.zeros(P, 1, dtype=dtype), mu, torch.full_like(mu, sigma), "von_mises"
    )
    t = (torch.linspace(-3, 3, P, dtype=F64) * sigma).to(dtype).view(P, 1)
    kappa = 1 / float(params.sigma[0, 0, 0]) ** 2  # the stored (rounded) sigma
    expected = stats.vonmises.logpdf(t.double().numpy().ravel(), kappa)
    got = mixture_log_prob(params, t).double().numpy()
    error = np.abs(got - expected)
    assert (error <= atol + 1e-7 * np.abs(expected)).all(), error.max()


# --------------------------------------------------------------------------------------
# 2. The torch.distributions object agrees with mixture_log_prob.


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_torch_distribution_log_prob_matches_mixture_log_prob(family, covariance):
    D = 3
    params = make_params(family, N=8, K=3, D=D, covariance=covariance, seed=7)
    t = torch.randn(8, D, dtype=F64) * 2
    ours = mixture_log_prob(params, t)
    theirs = params.distribution().log_prob(t)
    assert theirs.shape == (8,)
    if family == "von_mises":
        torch.testing.assert_close(theirs, ours, rtol=0, atol=TORCH_VON_MISES_ATOL_PER_DIM * D)
    else:
        torch.testing.assert_close(theirs, ours, rtol=1e-12, atol=1e-12)


def test_torch_von_mises_tolerance_is_needed_and_sufficient():
    # The documented tolerance is honest: torch's approximate Bessel function is visibly off
    # at the 1e-8 level for some kappa, but within TORCH_VON_MISES_ATOL_PER_DIM everywhere.
    kappa = torch.logspace(-3, 4, 400, dtype=F64)
    N = len(kappa)
    mu = torch.zeros(N, 1, 1, dtype=F64)
    params = MixtureParameters(
        torch.zeros(N, 1, dtype=F64), mu, kappa.rsqrt().view(N, 1, 1), "von_mises"
    )
    t = torch.linspace(-math.pi, math.pi, N, dtype=F64).view(N, 1)
    err = (params.distribution().log_prob(t) - mixture_log_prob(params, t)).abs().max()
    assert 1e-8 < err < TORCH_VON_MISES_ATOL_PER_DIM


# --------------------------------------------------------------------------------------
# 3. 1-D densities integrate to one; cdfs match SciPy.


def _mixture_density_on(params, grid):
    """Density of the 1-component-row mixture ``params`` (N = 1) at each point of grid."""
    P = grid.numel()
    rows = params.map(lambda v: v.expand(P, *v.shape[1:]))
    return mixture_log_prob(rows, grid.view(P, 1)).exp()


@pytest.mark.parametrize("family", ["gaussian", "laplace", "student_t", "gennorm"])
def test_1d_mixture_density_integrates_to_one(family):
    # A dropped normaliser (log 2 of the Laplace, Gamma(1/beta), sqrt(df pi)) or sigma used
    # as a variance changes the integral by O(1). The grid t = a sinh(u) is dense near the
    # components and reaches |t| = 4e4 in the tails (student_t df >= 3: tail mass < 1e-12).
    params = make_params(
        family, N=1, K=3, D=1, seed=60, df_range=(3.0, 10.0), beta_range=(1.0, 8.0)
    )
    u = torch.linspace(-12, 12, 200_001, dtype=F64)
    t = 0.5 * torch.sinh(u)
    f = _mixture_density_on(params, t) * 0.5 * torch.cosh(u)
    total = torch.trapezoid(f, u).item()
    assert total == pytest.approx(1.0, abs=1e-6)


def test_1d_von_mises_mixture_density_integrates_to_one_over_the_circle():
    params = make_params("von_mises", N=1, K=3, D=1, seed=61)
    M = 4096
    # A periodic, smooth integrand: the rectangle rule on (-pi, pi] is spectrally accurate.
    t = -math.pi + 2 * math.pi * torch.arange(1, M + 1, dtype=F64) / M
    total = (_mixture_density_on(params, t).sum() * 2 * math.pi / M).item()
    assert total == pytest.approx(1.0, abs=1e-12)


def _cdf_points(family, N, P):
    if family == "von_mises":
        return math.pi * (2 * torch.rand(N, P, dtype=F64) - 1)
    return 3 * torch.randn(N, P, dtype=F64)


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_component_cdf_matches_scipy_at_several_points(family):
    N, P = 2, 5
    params = make_params(family, N=N, K=3, D=1, seed=70, beta_range=(0.7, 8.0))
    points = _cdf_points(family, N, P)
    got = component_cdf(params, points.unsqueeze(-1))
    assert got.shape == (N, P, 3)
    np.testing.assert_allclose(
        got.numpy(), scipy_component_cdf(params, points.numpy()), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_component_cdf_matches_scipy_at_one_point(family):
    N = 4
    params = make_params(family, N=N, K=3, D=1, seed=71, beta_range=(0.7, 8.0))
    points = _cdf_points(family, N, 1)
    got = component_cdf(params, points.unsqueeze(-1))
    np.testing.assert_allclose(
        got.numpy(), scipy_component_cdf(params, points.numpy()), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_pit_matches_scipy_mixture_cdf(family):
    N = 6
    params = make_params(family, N=N, K=3, D=1, seed=72, beta_range=(0.7, 8.0))
    t = _cdf_points(family, N, 1)
    pi = np.exp(params.log_pi.numpy())
    expected = (pi * scipy_component_cdf(params, t.numpy())[:, 0, :]).sum(-1)
    np.testing.assert_allclose(pit(params, t), expected, rtol=1e-9, atol=1e-12)


def _von_mises_pit_params():
    mu = torch.tensor([[[3.0]], [[-3.0]], [[0.0]]], dtype=F64)
    return MixtureParameters(
        torch.zeros(3, 1, dtype=F64), mu, torch.full_like(mu, 0.8), "von_mises"
    )


def test_von_mises_pit_starts_at_minus_pi():
    # The von Mises cdf counts from -pi whatever mu is: 0 just above -pi, nearly 1 just
    # below pi (a cdf counted from mu - pi would give about 0.5 for mu = 0).
    params = _von_mises_pit_params()
    lo = torch.full((3, 1), -math.pi + 1e-9, dtype=F64)
    hi = torch.full((3, 1), math.pi - 1e-9, dtype=F64)
    np.testing.assert_allclose(pit(params, lo), 0.0, atol=1e-8)
    np.testing.assert_allclose(pit(params, hi), 1.0, atol=1e-8)


def test_von_mises_pit_is_one_at_pi():
    params = _von_mises_pit_params()
    hi = torch.full((3, 1), math.pi, dtype=F64)
    np.testing.assert_allclose(pit(params, hi), 1.0, atol=1e-12)


# --------------------------------------------------------------------------------------
# 4. Moments: sampled vs mixture_mean / mixture_variance vs closed forms.


S_MOMENTS = 200_000


@pytest.mark.parametrize(
    "family,covariance",
    [
        ("gaussian", "isotropic"),
        ("gaussian", "diagonal"),
        ("laplace", "diagonal"),
        ("student_t", "diagonal"),
        ("gennorm", "diagonal"),
    ],
)
def test_sample_mean_and_variance_match_mixture_moments(family, covariance):
    # Standard errors from the closed-form moments: se(mean) = sqrt(var / S) and
    # se(sample variance) = sqrt((m4 - var^2) / S), m4 the mixture's 4th central moment
    # (finite: student_t df > 4). 5 standard errors; the seed is fixed.
    params = make_params(
        family,
        N=2,
        K=3,
        D=2,
        covariance=covariance,
        seed=80,
        spread=1.0,
        df_range=(6.0, 10.0),
        beta_range=(1.0, 6.0),
    )
    s = sample(params, S_MOMENTS, torch.Generator().manual_seed(81)).numpy()  # [S, N, D]
    mean = mixture_mean(params).numpy()
    var = mixture_variance(params).numpy()
    _, var_np, m4 = mixture_moments_np(params)
    se_mean = np.sqrt(var_np / S_MOMENTS)
    se_var = np.sqrt((m4 - var_np**2) / S_MOMENTS)
    assert np.all(np.abs(s.mean(0) - mean) < 5 * se_mean)
    assert np.all(np.abs(s.var(0, ddof=1) - var) < 5 * se_var)
    # The check is sharp enough to see a variance wrong by 5%.
    assert np.all(5 * se_var < 0.05 * var)


def test_full_covariance_sample_covariance_matches_mixture():
    # Sigma = sum_k pi_k (L_k L_k^T + d_k d_k^T), d_k = mu_k - mean. Standard error of each
    # sample covariance entry from Isserlis' theorem:
    # E[(X_i - m_i)^2 (X_j - m_j)^2] = sum_k pi_k (S_ii S_jj + 2 S_ij^2 + S_ii d_j^2
    #                                   + S_jj d_i^2 + 4 S_ij d_i d_j + d_i^2 d_j^2).
    params = make_params("gaussian", N=2, K=3, D=3, covariance="full", seed=82, spread=1.0)
    s = sample(params, S_MOMENTS, torch.Generator().manual_seed(83)).numpy()  # [S, N, D]
    log_pi, mu, _, _, tril = numpy_fields(params)
    pi = np.exp(log_pi)
    for n in range(2):
        comp_cov = tril[n] @ np.swapaxes(tril[n], -1, -2)  # [K, D, D]
        mean = pi[n] @ mu[n]
        d = mu[n] - mean  # [K, D]
        cov = np.einsum("k,kij->ij", pi[n], comp_cov + d[:, :, None] * d[:, None, :])
        var_k = np.einsum("kii->ki", comp_cov)  # [K, D]
        fourth = np.einsum(
            "k,kij->ij",
            pi[n],
            var_k[:, :, None] * var_k[:, None, :]
            + 2 * comp_cov**2
            + var_k[:, :, None] * d[:, None, :] ** 2
            + var_k[:, None, :] * d[:, :, None] ** 2
            + 4 * comp_cov * d[:, :, None] * d[:, None, :]
            + d[:, :, None] ** 2 * d[:, None, :] ** 2,
        )
        se_cov = np.sqrt((fourth - cov**2) / S_MOMENTS)
        sample_cov = np.cov(s[:, n].T)
        assert np.all(np.abs(s[:, n].mean(0) - mean) < 5 * np.sqrt(np.diag(cov) / S_MOMENTS))
        assert np.all(np.abs(sample_cov - cov) < 5 * se_cov)
        # Off-diagonal covariances are really there (a sampler ignoring L's lower triangle
        # would give about zero).
        off = ~np.eye(3, dtype=bool)
        assert np.all(np.abs(cov[off]) > 10 * se_cov[off])
        np.testing.assert_allclose(mixture_variance(params)[n].numpy(), np.diag(cov), rtol=1e-12)
        np.testing.assert_allclose(mixture_mean(params)[n].numpy(), mean, rtol=1e-12)


@pytest.mark.parametrize(
    "family,covariance",
    [
        ("gaussian", "isotropic"),
        ("gaussian", "diagonal"),
        ("gaussian", "full"),
        ("laplace", "diagonal"),
        ("student_t", "diagonal"),
        ("gennorm", "diagonal"),
    ],
)
def test_mixture_mean_and_variance_match_closed_forms(family, covariance):
    # laplace 2 b^2, student_t s^2 df / (df - 2), gennorm s^2 Gamma(3/b) / Gamma(1/b),
    # mixed as sum_k pi_k (var_k + (mu_k - mean)^2), written here in NumPy.
    params = make_params(
        family,
        N=5,
        K=4,
        D=3,
        covariance=covariance,
        seed=84,
        df_range=(2.5, 10.0),
        beta_range=(0.6, 10.0),
    )
    mean, var, _ = mixture_moments_np(params)
    np.testing.assert_allclose(mixture_mean(params).numpy(), mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mixture_variance(params).numpy(), var, rtol=1e-12)


# --------------------------------------------------------------------------------------
# 5. Reproducible sampling; angles stay on the circle; the sampler's distribution.


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_sampling_is_reproducible_with_a_seeded_generator(family, covariance):
    params = make_params(family, N=3, K=3, D=2, covariance=covariance, seed=90)
    torch.manual_seed(0)
    a = sample(params, 64, torch.Generator().manual_seed(5))
    torch.manual_seed(99)  # the global RNG must not matter when a generator is given
    state = torch.get_rng_state()
    b = sample(params, 64, torch.Generator().manual_seed(5))
    assert torch.equal(torch.get_rng_state(), state), "sampling consumed the global RNG"
    c = sample(params, 64, torch.Generator().manual_seed(6))
    assert a.shape == (64, 3, 2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.isfinite(a).all()


def test_von_mises_samples_lie_in_the_principal_interval():
    # Means near +-pi and wide components: about half the draws cross the cut at pi.
    mu = torch.tensor([[[3.0], [-3.1]], [[math.pi], [0.5]]], dtype=F64)
    params = MixtureParameters(
        torch.log(torch.full((2, 2), 0.5, dtype=F64)), mu, torch.full_like(mu, 1.0), "von_mises"
    )
    s = sample(params, 50_000, torch.Generator().manual_seed(0))
    assert (s > -math.pi).all() and (s <= math.pi).all()
    assert (s < -2.5).any() and (s > 2.5).any()


def test_von_mises_wrap_maps_to_minus_pi_exclusive_pi_inclusive():
    wrap = FAMILIES["von_mises"].wrap
    x = torch.tensor([math.pi, -math.pi, 3 * math.pi, 0.5, -0.5 - 2 * math.pi], dtype=F64)
    out = wrap(x)
    assert (out > -math.pi).all() and (out <= math.pi).all()
    torch.testing.assert_close(torch.cos(out), torch.cos(x))
    torch.testing.assert_close(torch.sin(out), torch.sin(x), atol=1e-12, rtol=0)


def _scipy_1d_cdf(family, loc, scale, shape):
    if family == "gaussian":
        return stats.norm(loc, scale).cdf
    if family == "laplace":
        return stats.laplace(loc, scale).cdf
    if family == "student_t":
        return stats.t(shape, loc, scale).cdf
    if family == "gennorm":
        return stats.gennorm(shape, loc, scale).cdf
    kappa = 1 / scale**2
    # P(-pi < theta <= x): SciPy's vonmises cdf is cumulative along the whole line.
    return lambda x: (
        stats.vonmises.cdf(x, kappa, loc=loc) - stats.vonmises.cdf(-np.pi, kappa, loc=loc)
    )


@pytest.mark.parametrize(
    "family,shape",
    [
        ("gaussian", None),
        ("laplace", None),
        ("student_t", 3.5),
        ("gennorm", 1.5),
        ("gennorm", 8.0),
        ("von_mises", None),
    ],
)
def test_single_component_samples_follow_the_family(family, shape):
    # Kolmogorov-Smirnov test against SciPy's cdf: catches a sampler with the right mean
    # and variance but the wrong shape (e.g. a Gaussian drawn for a Laplace), or a von
    # Mises drawn with kappa = 1/sigma instead of 1/sigma^2.
    loc, scale = (2.8, 0.9) if family == "von_mises" else (1.5, 0.7)
    one = torch.ones(1, 1, 1, dtype=F64)
    params = MixtureParameters(
        torch.zeros(1, 1, dtype=F64),
        loc * one,
        scale * one,
        family,
        shape_param=None if shape is None else torch.full((1, 1), shape, dtype=F64),
    )
    s = sample(params, 20_000, torch.Generator().manual_seed(2)).flatten().numpy()
    result = stats.kstest(s, _scipy_1d_cdf(family, loc, scale, shape))
    assert result.pvalue > 1e-3


def test_laplace_sampler_is_finite_at_the_edge_of_the_uniform_draw(monkeypatch):
    real_rand = torch.rand

    def zeros(*args, **kwargs):
        return torch.zeros_like(real_rand(*args, **kwargs))

    mu = torch.zeros(4, 1)
    monkeypatch.setattr(torch, "rand", zeros)
    s = FAMILIES["laplace"].sample(mu, torch.ones_like(mu), None, None, None)
    monkeypatch.undo()
    assert torch.isfinite(s).all()


# --------------------------------------------------------------------------------------
# 6. Far targets: finite log-densities and gradients.


FAR_1D = [(f, "float64") for f in ALL_FAMILIES] + [(f, "float32") for f in ALL_FAMILIES]


def _far_setup(family, covariance, D, dtype):
    """Parameters (leaves needing gradients) and a target ~1e3 scales from every component."""
    params = make_params(
        family, N=3, K=3, D=D, covariance=covariance, seed=100, dtype=F64, offdiag=0.1
    )
    mu, sigma = params.mu, params.sigma
    if family == "von_mises":
        # On the circle "far" is the antipode: components within 0.05 rad of an angle c,
        # sigma = pi / 1e3 (kappa = 1e6 / pi^2), target c + pi: about 1e3 widths away.
        centre = mu[:, :1]
        mu = centre + 0.05 * torch.tanh(mu - centre)
        sigma = torch.full_like(sigma, math.pi / 1e3)
        t = centre[:, 0] + math.pi
    else:
        t = mu.abs().amax(1) + 1e3 * sigma.amax(1)
    shape = params.shape_param
    if family == "gennorm":
        # Up to the MDN's largest beta: |z|^20 = e^143 at z = 1.3e3 overflows float32 unless
        # computed in log space.
        shape = torch.tensor([[1.0, 2.0, 20.0]], dtype=F64).expand(3, 3)
    params = params.replace(mu=mu, sigma=sigma, shape_param=shape)
    params = params.map(lambda v: v.to(dtype).requires_grad_(True))
    return params, t.to(dtype)


def _assert_far_finite(params, t, family):
    lp = mixture_log_prob(params, t)
    assert torch.isfinite(lp).all()
    if lp.dtype == F64 and family != "gennorm":
        # Exact, not merely finite (gennorm's |z|^beta deliberately continues linearly in
        # log space beyond e^30, see mdn_src.mixture.gennorm.LOG_POWER_CAP).
        np.testing.assert_allclose(lp.detach().numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-8)
    else:
        # Far below the density at the first component's mean.
        near = mixture_log_prob(params, params.mu[:, 0].detach())
        assert (lp < near - 20).all()
    names = list(params.tensors())
    grads = dict(
        zip(
            names,
            torch.autograd.grad(lp.sum(), list(params.tensors().values()), allow_unused=True),
            strict=True,
        )
    )
    used = ["log_pi", "mu", "scale_tril" if params.scale_tril is not None else "sigma"]
    if params.shape_param is not None:
        used.append("shape_param")
    for name in used:
        assert grads[name] is not None, f"{family}: no gradient w.r.t. {name}"
        assert torch.isfinite(grads[name]).all(), f"{family}: non-finite gradient w.r.t. {name}"
    # The far target still pulls the means towards it.
    assert (grads["mu"].abs().sum((1, 2)) > 0).all()


@pytest.mark.parametrize("family,dtype", FAR_1D)
def test_far_target_log_prob_and_gradients_are_finite_1d(family, dtype):
    dtype = getattr(torch, dtype)
    params, t = _far_setup(family, "diagonal", 1, dtype)
    _assert_far_finite(params, t, family)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "family,covariance",
    [
        ("gaussian", "diagonal"),
        ("gaussian", "full"),
        ("laplace", "diagonal"),
        ("student_t", "diagonal"),
        ("gennorm", "diagonal"),
    ],
)
def test_far_target_log_prob_and_gradients_are_finite_40d(family, covariance, dtype):
    dtype = getattr(torch, dtype)
    params, t = _far_setup(family, covariance, 40, dtype)
    _assert_far_finite(params, t, family)


def test_far_target_gaussian_log_prob_is_exact_not_just_finite():
    # log-space all the way: logsumexp of values near -5e5 (exp underflows to 0 long before).
    params = make_params("gaussian", N=2, K=3, D=2, seed=101)
    t = torch.full((2, 2), 1e3, dtype=F64)
    np.testing.assert_allclose(
        mixture_log_prob(params, t).numpy(), scipy_mixture_log_pdf(params, t), rtol=1e-10
    )


# --------------------------------------------------------------------------------------
# 7. Errors.


def test_von_mises_mixture_mean_and_variance_raise_naming_the_family():
    params = make_params("von_mises", N=2, K=2, D=1)
    with pytest.raises(ValueError, match="von_mises"):
        mixture_mean(params)
    with pytest.raises(ValueError, match="von_mises"):
        mixture_variance(params)


@pytest.mark.parametrize("bad_df", [2.0, 1.5])
def test_student_t_variance_needs_df_above_two(bad_df):
    params = make_params("student_t", N=2, K=3, D=1, df_range=(3.0, 5.0))
    shape = params.shape_param.clone()
    shape[1, 2] = bad_df
    params = params.replace(shape_param=shape)
    mixture_mean(params)  # df > 1: the mean exists
    with pytest.raises(ValueError, match="student_t.*variance.*df <= 2"):
        mixture_variance(params)


def test_student_t_mean_needs_df_above_one():
    params = make_params("student_t", N=1, K=2, D=1)
    params = params.replace(shape_param=torch.tensor([[1.0, 5.0]], dtype=F64))
    with pytest.raises(ValueError, match="student_t.*mean"):
        mixture_mean(params)


def _with(params, **changes):
    return params.replace(**changes)


def _set(t, index, value):
    t = t.clone()
    t[index] = value
    return t


def _invalid_cases():
    g = make_params("gaussian", N=2, K=3, D=2)
    full = make_params("gaussian", N=2, K=3, D=2, covariance="full")
    st = make_params("student_t", N=2, K=3, D=2)
    gn = make_params("gennorm", N=2, K=3, D=2)
    upper = full.scale_tril.clone()
    upper[0, 1, 0, 1] = 0.3
    return {
        "unnormalised log_pi": (_with(g, log_pi=g.log_pi + 0.01), "normalised"),
        "nan in log_pi": (_with(g, log_pi=_set(g.log_pi, (0, 0), math.nan)), "log_pi contains NaN"),
        "+inf in log_pi": (
            _with(g, log_pi=_set(g.log_pi, (0, 0), math.inf)),
            "log_pi contains NaN or \\+inf",
        ),
        "nan in mu": (_with(g, mu=_set(g.mu, (1, 2, 0), math.nan)), "mu contains NaN"),
        "inf in mu": (_with(g, mu=_set(g.mu, (1, 2, 0), math.inf)), "mu contains NaN or inf"),
        "nan in sigma": (_with(g, sigma=_set(g.sigma, (1, 2, 0), math.nan)), "sigma contains"),
        "zero sigma": (_with(g, sigma=_set(g.sigma, (0, 1, 1), 0.0)), "sigma"),
        "negative sigma": (_with(g, sigma=_set(g.sigma, (0, 1, 1), -0.5)), "sigma"),
        "sigma shape": (_with(g, sigma=g.sigma[:, :, :1]), "sigma"),
        "log_pi shape": (_with(g, log_pi=g.log_pi[:, :2]), "log_pi"),
        "scale_tril shape": (_with(full, scale_tril=full.scale_tril[:, :, :1]), "scale_tril"),
        "scale_tril not lower": (_with(full, scale_tril=upper), "lower triangular"),
        "scale_tril zero diagonal": (
            _with(full, scale_tril=_set(full.scale_tril, (1, 0, 1, 1), 0.0)),
            "diagonal",
        ),
        "sigma not the row norms of scale_tril": (
            _with(full, sigma=full.sigma * 1.1),
            "marginal",
        ),
        "scale_tril on laplace": (
            MixtureParameters(full.log_pi, full.mu, full.sigma, "laplace", full.scale_tril),
            "gaussian family only",
        ),
        "student_t without shape": (_with(st, shape_param=None), "student_t.*shape"),
        "gennorm without shape": (_with(gn, shape_param=None), "gennorm.*shape"),
        "shape wrong size": (_with(st, shape_param=st.shape_param[:, :2]), "shape"),
        "shape with D axis": (_with(gn, shape_param=gn.shape_param.unsqueeze(-1)), "shape"),
        "non-positive shape": (
            _with(gn, shape_param=_set(gn.shape_param, (0, 0), 0.0)),
            "positive",
        ),
        "shape given to gaussian": (_with(g, shape_param=st.shape_param), "gaussian.*shape"),
        "unknown family": (_with(g, family="cauchy"), "family must be one of"),
    }


INVALID = _invalid_cases()


@pytest.mark.parametrize("case", list(INVALID))
def test_validate_rejects_invalid_parameters(case):
    params, match = INVALID[case]
    with pytest.raises(ValueError, match=match):
        params.validate()


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_validate_accepts_valid_parameters(family, covariance):
    # The other side of the rejections above: valid parameters pass, including a component
    # switched off with log_pi = -inf.
    params = make_params(family, N=3, K=3, D=2, covariance=covariance)
    assert params.validate() is params
    log_pi = torch.log(torch.tensor([[0.5, 0.5, 0.0]] * 3, dtype=F64))
    params.replace(log_pi=log_pi).validate()


# --------------------------------------------------------------------------------------
# 8. The MDN head: constraints, loss, one training step.


def _mdn(family, covariance, D=2, K=3, **kwargs):
    torch.manual_seed(0)
    return MDN(2, D, K, hidden=6, family=family, covariance=covariance, **kwargs).double()


def _wild_raw_outputs(mdn, N=16, scale=10.0):
    """Raw head outputs spanning softplus's and the wrap's interesting ranges."""
    g = torch.Generator().manual_seed(3)
    return scale * torch.randn(N, sum(mdn.head_sizes), generator=g, dtype=F64)


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_mdn_parameters_are_valid_and_respect_constraints(family, covariance):
    sigma_min = 0.05
    mdn = _mdn(family, covariance, sigma_min=sigma_min, beta_range=(1.0, 20.0))
    K, D = 3, 2
    # Both the network's own output and raw outputs large enough to hit every floor.
    for params in (
        mdn.mixture_parameters(torch.randn(5, 2, dtype=F64)),
        mdn.output_activations(_wild_raw_outputs(mdn)),
    ):
        params.validate()
        N = params.mu.shape[0]
        assert params.family == family
        assert params.mu.shape == params.sigma.shape == (N, K, D)
        assert (params.sigma >= sigma_min).all()
        if covariance == "isotropic":
            assert torch.equal(params.sigma, params.sigma[..., :1].expand_as(params.sigma))
        if covariance == "full":
            L = params.scale_tril
            assert L.shape == (N, K, D, D)
            assert torch.equal(L, L.tril())
            assert (L.diagonal(dim1=-2, dim2=-1) >= sigma_min).all()
            torch.testing.assert_close(params.sigma, L.pow(2).sum(-1).sqrt())
        else:
            assert params.scale_tril is None
        if family == "student_t":
            assert params.shape_param.shape == (N, K)
            assert (params.shape_param > 2.0).all()
        elif family == "gennorm":
            assert params.shape_param.shape == (N, K)
            assert ((params.shape_param >= 1.0) & (params.shape_param <= 20.0)).all()
        else:
            assert params.shape_param is None
        if family == "von_mises":
            assert ((params.mu > -math.pi) & (params.mu <= math.pi)).all()
    # The floors are reached, not just respected: very negative raw scales give sigma_min.
    wild = mdn.output_activations(_wild_raw_outputs(mdn))
    floor = wild.scale_tril.diagonal(dim1=-2, dim2=-1) if covariance == "full" else wild.sigma
    assert (floor - sigma_min).abs().min() < 1e-6


def test_mdn_von_mises_means_are_the_raw_angles_wrapped():
    mdn = _mdn("von_mises", "diagonal")
    a = _wild_raw_outputs(mdn)
    params = mdn.output_activations(a)
    K, D = 3, 2
    raw_mu = a[:, K : K + K * D].reshape(-1, K, D)
    assert raw_mu.abs().max() > 3 * math.pi  # the test does exercise wrapping
    torch.testing.assert_close(torch.cos(params.mu), torch.cos(raw_mu))
    torch.testing.assert_close(torch.sin(params.mu), torch.sin(raw_mu))


def test_mdn_gennorm_zero_raw_output_gives_beta_two():
    for beta_range in [(1.0, 20.0), (0.5, 3.0), (1.5, 2.5)]:
        mdn = _mdn("gennorm", "diagonal", beta_range=beta_range)
        params = mdn.output_activations(torch.zeros(4, sum(mdn.head_sizes), dtype=F64))
        torch.testing.assert_close(params.shape_param, torch.full((4, 3), 2.0, dtype=F64))
    # A range without 2 starts inside it instead.
    mdn = _mdn("gennorm", "diagonal", beta_range=(4.0, 10.0))
    beta = mdn.output_activations(torch.zeros(4, sum(mdn.head_sizes), dtype=F64)).shape_param
    assert ((beta > 4.0) & (beta < 10.0)).all()


def test_mdn_gennorm_beta_is_bounded_for_extreme_raw_outputs():
    mdn = _mdn("gennorm", "isotropic", beta_range=(1.5, 12.0))
    params = mdn.output_activations(_wild_raw_outputs(mdn, scale=1e3))
    assert ((params.shape_param >= 1.5) & (params.shape_param <= 12.0)).all()
    assert params.shape_param.min() < 1.5 + 1e-6 and params.shape_param.max() > 12.0 - 1e-6


def test_mdn_student_t_learnt_df_stays_above_df_min():
    mdn = _mdn("student_t", "diagonal", df_min=3.0)
    params = mdn.output_activations(_wild_raw_outputs(mdn))
    assert (params.shape_param > 3.0).all()
    assert params.shape_param.min() < 3.01  # the floor is approached


def test_mdn_student_t_df_stays_above_df_min_in_float32():
    mdn = MDN(1, 1, 2, hidden=3, family="student_t")  # float32, df_min = 2
    a = torch.zeros(1, sum(mdn.head_sizes))
    a[:, -2:] = -20.0
    params = mdn.output_activations(a)
    assert (params.shape_param > 2.0).all()
    mixture_variance(params)


def test_mdn_student_t_fixed_df():
    mdn = _mdn("student_t", "diagonal", df=4.5)
    assert mdn.head_sizes == (3, 6, 6)  # no shape outputs when df is fixed
    params = mdn.mixture_parameters(torch.randn(5, 2, dtype=F64))
    assert torch.equal(params.shape_param, torch.full((5, 3), 4.5, dtype=F64))


@pytest.mark.parametrize("family", ["laplace", "student_t", "gennorm", "von_mises"])
def test_mdn_rejects_full_covariance_for_non_gaussian_families(family):
    with pytest.raises(ValueError, match="full"):
        MDN(1, 2, 3, hidden=4, family=family, covariance="full")


def _targets(family, N, D):
    if family == "von_mises":
        return math.pi * (2 * torch.rand(N, D, dtype=F64) - 1)
    return torch.randn(N, D, dtype=F64)


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_mdn_loss_matches_torch_distribution_nll(family, covariance):
    D = 2
    mdn = _mdn(family, covariance, D=D)
    x = torch.randn(12, 2, dtype=F64)
    t = _targets(family, 12, D)
    expected = -mdn(x).log_prob(t).mean()
    atol = TORCH_VON_MISES_ATOL_PER_DIM * D if family == "von_mises" else 1e-12
    torch.testing.assert_close(mdn.loss(x, t), expected, rtol=1e-12, atol=atol)


@pytest.mark.parametrize("family,covariance", VALID_PAIRS)
def test_one_adam_step_lowers_the_loss(family, covariance):
    # A wrong sign anywhere in the log-density's gradient (or a detached term) makes the
    # first small step climb instead of descend.
    D = 2
    mdn = _mdn(family, covariance, D=D)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(32, 2, generator=g, dtype=F64)
    t = 0.5 * x[:, :1] + 0.3 * torch.randn(32, D, generator=g, dtype=F64)
    opt = torch.optim.Adam(mdn.parameters(), lr=1e-3)
    before = mdn.loss(x, t)
    opt.zero_grad()
    before.backward()
    for p in mdn.parameters():
        assert torch.isfinite(p.grad).all()
    opt.step()
    with torch.no_grad():
        after = mdn.loss(x, t)
    assert after < before


# --- off_diagonal: how raw outputs become the Cholesky factor's lower triangle -------------


def _full_raw(K=3, N=4, a_sigma=0.0, a_off=2.0):
    """Raw head outputs for D = 2, full covariance: pi, mu, scales, one off-diagonal each."""
    D = 2
    a = torch.zeros(N, K + K * D + K * D + K, dtype=F64)
    a[:, K + K * D : K + 2 * K * D] = a_sigma
    a[:, -K:] = a_off
    return a


def test_free_off_diagonal_is_the_raw_output_and_the_default():
    a = _full_raw(a_sigma=torch.linspace(-3, 3, 6).repeat(4, 1), a_off=0.7)
    default = HeadSpec("gaussian", "full", sigma_min=0.01)
    free = HeadSpec("gaussian", "full", sigma_min=0.01, off_diagonal="free")
    L = default.parameters(a, 3, 2).scale_tril
    assert torch.equal(L, free.parameters(a, 3, 2).scale_tril)
    assert torch.equal(L[..., 1, 0], torch.full((4, 3), 0.7, dtype=F64))  # L_21 = a_21
    softplus = np.log1p(np.exp(np.linspace(-3, 3, 6))).reshape(3, 2)
    np.testing.assert_allclose(L.diagonal(dim1=-2, dim2=-1)[0].numpy(), 0.01 + softplus)


@pytest.mark.parametrize("a_sigma", [-4.0, 0.0, 3.0])
def test_scaled_off_diagonal_sets_the_correlation_whatever_the_scales(a_sigma):
    # L = [[s1, 0], [a s2, s2]]: covariance [[s1^2, a s1 s2], [a s1 s2, s2^2 (1 + a^2)]],
    # so the correlation is a / sqrt(1 + a^2), whatever s1 and s2 are.
    a_off = 2.0
    spec = HeadSpec("gaussian", "full", off_diagonal="scaled")
    raw_scales = torch.tensor([a_sigma, a_sigma + 1.5]).repeat(4, 3)  # s1 != s2
    params = spec.parameters(_full_raw(a_sigma=raw_scales, a_off=a_off), 3, 2)
    L = params.scale_tril.numpy()
    s1, s2 = 1e-3 + np.log1p(np.exp([a_sigma, a_sigma + 1.5]))  # sigma_min + softplus
    np.testing.assert_allclose(L[..., 0, 0], s1)
    np.testing.assert_allclose(L[..., 1, 0], a_off * s2)  # L_21 = a_21 L_22, not a_21 L_11
    cov = L @ np.swapaxes(L, -1, -2)
    corr = cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    np.testing.assert_allclose(corr, a_off / math.sqrt(1 + a_off**2))
    np.testing.assert_allclose(params.sigma[..., 1].numpy(), s2 * math.sqrt(1 + a_off**2))


def test_scaled_off_diagonal_log_prob_matches_scipy():
    spec = HeadSpec("gaussian", "full", off_diagonal="scaled")
    g = torch.Generator().manual_seed(5)
    D, K = 3, 2
    a = torch.randn(4, K + 2 * K * D + K * D * (D - 1) // 2, generator=g, dtype=F64)
    params = spec.parameters(a, K, D)
    t = torch.randn(4, D, generator=g, dtype=F64)
    ours = mixture_log_prob(params, t).numpy()
    L = params.scale_tril.numpy()
    for n in range(4):
        terms = [
            params.log_pi[n, k].item()
            + stats.multivariate_normal(params.mu[n, k].numpy(), L[n, k] @ L[n, k].T).logpdf(
                t[n].numpy()
            )
            for k in range(K)
        ]
        assert ours[n] == pytest.approx(logsumexp(terms), rel=1e-10)


def test_off_diagonal_rejects_unknown_values_and_non_full_covariances():
    with pytest.raises(ValueError, match=r"off_diagonal must be one of \('free', 'scaled'\)"):
        HeadSpec("gaussian", "full", off_diagonal="relative")
    with pytest.raises(ValueError, match="applies to covariance='full' only"):
        HeadSpec("gaussian", "diagonal", off_diagonal="scaled")
    with pytest.raises(ValueError, match="applies to covariance='full' only"):
        MDN(1, 2, 2, hidden=3, off_diagonal="scaled")


@pytest.mark.parametrize(
    ("sigma_map", "reference"),
    [
        ("softplus", lambda a: np.logaddexp(0.0, a)),
        ("exp", np.exp),
        ("elu", lambda a: np.where(a > 0, 1.0 + a, np.exp(a))),
    ],
)
def test_positive_scale_matches_closed_forms(sigma_map, reference):
    from mdn_src.model import positive_scale

    a = np.array([-30.0, -5.0, -0.5, 0.0, 0.5, 3.0, 20.0])
    got = positive_scale(torch.tensor(a, dtype=torch.float64), sigma_map).numpy()
    np.testing.assert_allclose(got, reference(a), rtol=1e-12)
    with pytest.raises(ValueError, match="sigma_map must be one of"):
        positive_scale(torch.zeros(2), "relu")


def test_component_spec_rejects_unknown_sigma_map():
    from mdn_src.model import HeadSpec

    with pytest.raises(ValueError, match="sigma_map must be one of"):
        HeadSpec(sigma_map="square")


# --- rows, concatenation and affine maps of MixtureParameters (issue 23) -------------------


def _mixture_of(family, N=5, K=3, D=2, covariance="diagonal", seed=0):
    torch.manual_seed(seed)
    return make_params(family, N=N, K=K, D=D, covariance=covariance)


@pytest.mark.parametrize("family", ["gaussian", "student_t", "gennorm"])
def test_rows_and_cat_are_the_per_row_densities(family):
    params = _mixture_of(family)
    t = torch.randn(5, 1, 2, dtype=params.mu.dtype)
    whole = mixture_log_prob_at(params, t)  # [5, 1]
    rows = torch.tensor([4, 0, 2])
    picked = params[rows]
    assert len(picked) == 3 and picked.family == family
    torch.testing.assert_close(mixture_log_prob_at(picked, t[rows]), whole[rows], rtol=0, atol=0)
    one = params[1]  # an int keeps the row axis
    assert one.mu.shape == (1, 3, 2)
    torch.testing.assert_close(mixture_log_prob_at(one, t[1:2]), whole[1:2], rtol=0, atol=0)
    again = MixtureParameters.cat([params[:2], params[2:]])
    for name, value in params.tensors().items():
        assert torch.equal(again.tensors()[name], value), name


def test_cat_refuses_mixed_families_and_component_counts():
    a = _mixture_of("gaussian")
    with pytest.raises(ValueError, match="family"):
        MixtureParameters.cat([a, _mixture_of("laplace")])
    with pytest.raises(ValueError, match="component|shape|K"):
        MixtureParameters.cat([a, _mixture_of("gaussian", K=4)])
    with pytest.raises(TypeError, match="non-empty"):
        MixtureParameters.cat([])


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_affine_moves_the_density_by_the_jacobian(covariance):
    """log p_Y(shift + scale t) = log p_T(t) - sum_d log scale_d, against the density as built."""
    params = _mixture_of("gaussian", covariance=covariance)
    shift = torch.tensor([0.5, -2.0], dtype=params.mu.dtype)
    scale = torch.tensor([3.0, 0.25], dtype=params.mu.dtype)
    t = torch.randn(5, 4, 2, dtype=params.mu.dtype)
    moved = params.affine(shift, scale)
    expected = mixture_log_prob_at(params, t) - torch.log(scale).sum()
    torch.testing.assert_close(mixture_log_prob_at(moved, shift + scale * t), expected)
    with pytest.raises(ValueError, match="scale must be positive"):
        params.affine(0.0, -1.0)
    with pytest.raises(ValueError, match="D = 2"):
        params.affine(torch.zeros(3), 1.0)
    with pytest.raises(ValueError, match="von_mises"):
        _mixture_of("von_mises").affine(0.0, 2.0)


def mixture_log_prob_at(params, t):
    """Log-density at [N, P, D] points, by scipy-free torch reference (MixtureSameFamily)."""
    dist = params.distribution()  # batch [N], event [D]
    return dist.log_prob(t.transpose(0, 1)).transpose(0, 1)  # [N, P]


def test_learnt_df_and_beta_are_their_closed_forms_of_the_raw_outputs():
    """df = df_min + softplus(a); beta = low + (high - low) sigmoid(a + c) with beta(0) = 2."""
    raw = torch.tensor([-3.0, 0.0, 2.5], dtype=F64)
    st = MDN(1, 1, 3, hidden=3, family="student_t", df_min=2.5).double()
    a = torch.zeros(1, sum(st.head_sizes), dtype=F64)
    a[0, -3:] = raw
    df = st.output_activations(a).shape_param[0]
    torch.testing.assert_close(df, 2.5 + torch.log1p(torch.exp(raw)), rtol=1e-12, atol=0)
    gn = MDN(1, 1, 3, hidden=3, family="gennorm", beta_range=(1.5, 6.0)).double()
    a = torch.zeros(1, sum(gn.head_sizes), dtype=F64)
    a[0, -3:] = raw
    beta = gn.output_activations(a).shape_param[0]
    offset = math.log((2.0 - 1.5) / (6.0 - 2.0))
    torch.testing.assert_close(beta, 1.5 + 4.5 * torch.sigmoid(raw + offset), rtol=1e-12, atol=0)
    assert beta[1].item() == pytest.approx(2.0, abs=1e-12)  # a fresh network: Gaussian shape
    # 2 outside the range: the start sits 1e-3 of the range inside it
    edge = MDN(1, 1, 3, hidden=3, family="gennorm", beta_range=(3.0, 5.0)).double()
    zero = edge.output_activations(torch.zeros(1, sum(edge.head_sizes), dtype=F64))
    assert zero.shape_param[0, 0].item() == pytest.approx(3.0 + 1e-3 * 2.0, rel=1e-12)
