"""The mode search, ``conditional_modes``: every local maximum of the mixture density, and
only those, in every family and dimension.

The expected modes never come from the code under test: they are closed-form, or roots of
the closed-form derivative found by bisection in float64, or maxima of the density on a
dense float64 grid (refined by a plain Newton ascent in two dimensions).
"""

import math

import pytest
import torch

from mdn_src.inference.modes import Modes, conditional_modes
from mdn_src.mixture import MixtureParameters, get_family
from mdn_src.mixture import log_prob as mixture_log_prob  # at [N, P, D] points

F64 = torch.float64


def mixture(pi, mu, sigma, family="gaussian", shape=None, scale_tril=None):
    """Parameters from nested lists: ``pi`` [N, K], ``mu``/``sigma`` [N, K] (1-D) or [N, K, D]."""
    pi, mu, sigma = (torch.as_tensor(v, dtype=F64) for v in (pi, mu, sigma))
    if mu.dim() == 2:
        mu, sigma = mu.unsqueeze(-1), sigma.unsqueeze(-1)
    shape = None if shape is None else torch.as_tensor(shape, dtype=F64)
    log_pi = torch.log(pi) - torch.log(pi.sum(-1, keepdim=True))
    return MixtureParameters(log_pi, mu, sigma, family, scale_tril, shape)


def bisect(f, lo, hi, steps=200):
    """A root of ``f`` (elementwise, vectorised) between ``lo`` and ``hi``, where it changes sign."""
    lo, hi = torch.as_tensor(lo, dtype=F64).clone(), torch.as_tensor(hi, dtype=F64).clone()
    f_lo = f(lo)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        same = torch.sign(f(mid)) == torch.sign(f_lo)
        lo, hi = torch.where(same, mid, lo), torch.where(same, hi, mid)
    return 0.5 * (lo + hi)


def gaussian_slope_1d(params, x):
    r"""Closed form :math:`\ell'(x) = \sum_k \gamma_k(x) (\mu_k - x) / \sigma_k^2` of 1-D
    Gaussian mixtures at ``x`` ``[N, G]``: ``[N, G]``, and :math:`\ell` itself."""
    mu, sigma = params.mu[..., 0].unsqueeze(-1), params.sigma[..., 0].unsqueeze(-1)  # [N, K, 1]
    z = (x.unsqueeze(1) - mu) / sigma  # [N, K, G]
    joint = (params.log_pi.unsqueeze(-1) - sigma.log()) - 0.5 * z * z
    top = joint.amax(1, keepdim=True)
    weight = torch.exp(joint - top)
    total = weight.sum(1)
    slope = (weight * z / sigma).sum(1) / -total
    return slope, top.squeeze(1) + total.log() - 0.5 * math.log(2 * math.pi)


def modes_of(m, n):
    """The distinct modes of mixture ``n``, sorted by location (1-D): ``[M]``."""
    return m.location[n, :, 0][m.distinct[n]].sort().values


def assert_sorted_and_consistent(m):
    """Distinct modes first, highest first; ``highest`` is the first; ``count`` matches."""
    N, C = m.distinct.shape
    first_false = (~m.distinct).int().argmax(-1)
    first_false = torch.where(m.distinct.all(-1), C, first_false)
    assert torch.equal(m.distinct, torch.arange(C) < first_false.unsqueeze(-1))
    lp = torch.where(m.distinct, m.log_density, -math.inf)
    assert (lp[:, :-1] >= lp[:, 1:]).all()
    assert torch.equal(m.highest, m.location[:, 0])
    assert torch.equal(m.count, m.distinct.sum(-1))


# --- Mixtures whose modes are known -------------------------------------------------------


def test_two_equal_gaussians_are_bimodal_exactly_when_the_means_are_over_two_sigma_apart():
    # 1/2 N(-a, 1) + 1/2 N(a, 1): l'(x) = a tanh(a x) - x, so 0 is the only mode when
    # a <= 1 and the modes are +-x* with x* = a tanh(a x*) when a > 1.
    a = torch.tensor([0.5, 0.9, 0.999, 1.0001, 1.01, 1.1, 1.5, 2.0, 3.0, 6.0], dtype=F64)
    params = mixture([[0.5, 0.5]] * len(a), torch.stack([-a, a], -1), [[1.0, 1.0]] * len(a))
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    x_star = bisect(lambda x: a * torch.tanh(a * x) - x, torch.full_like(a, 1e-3), a)
    for n in range(len(a)):
        found = modes_of(m, n)
        if a[n] <= 1:
            assert found.tolist() == pytest.approx([0.0], abs=1e-8)
        else:
            assert found.tolist() == pytest.approx(
                [-x_star[n].item(), x_star[n].item()], abs=1e-8, rel=0
            )
    expected = mixture_log_prob(params, m.highest.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(m.log_density[:, 0], expected, rtol=0, atol=1e-14)


def test_a_flat_topped_mode_is_reported_once():
    # a = 1 exactly: l(x) = l(0) - x^4 / 12 + ..., a fourth-order maximum. The two ascents
    # slow down on the flat top and end on either side of it; one mode (located where the
    # sign of l' ~ -x^3 / 3 drowns in rounding, a few 1e-6 from 0).
    params = mixture([[0.5, 0.5]], [[-1.0, 1.0]], [[1.0, 1.0]])
    m = conditional_modes(params)
    assert m.count.item() == 1
    assert abs(m.highest.item()) < 1e-3
    top = mixture_log_prob(params, torch.zeros(1, 1, 1, dtype=F64)).item()
    assert m.log_density[0, 0].item() == pytest.approx(top, abs=1e-13, rel=0)
    # Both ascents ended on the top: they stay in the row as repeats, not a second mode.
    assert not m.distinct[0, 1:].any()
    assert m.location[0, 1:, 0].abs().max().item() < 1e-3


def test_a_small_bump_between_two_larger_modes():
    # A narrow low component midway between two tall ones: three modes, the middle one the
    # lowest; each is a root of the closed-form l' within its bracket.
    params = mixture([[0.5, 0.1, 0.4]], [[-3.0, 0.0, 3.0]], [[1.0, 0.5, 1.0]])
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    slope = lambda x: gaussian_slope_1d(params, x.view(1, -1))[0].view(-1)  # noqa: E731
    roots = bisect(slope, torch.tensor([-4.0, -0.4, 2.0]), torch.tensor([-2.0, 0.4, 4.0]))
    assert modes_of(m, 0).tolist() == pytest.approx(roots.tolist(), abs=1e-8, rel=0)
    # Highest first: the left (pi = 0.5), then the right, then the bump in the middle.
    assert m.location[0, :3, 0].tolist() == pytest.approx(roots[[0, 2, 1]].tolist(), abs=1e-8)


def test_a_local_minimum_at_a_component_mean_is_not_reported():
    # The middle component is so wide and light that its mean, 0, is a local minimum of the
    # density (l'(0) = 0 by symmetry, l''(0) > 0): its ascent starts at a stationary point
    # that is not a maximum, and must not be reported.
    params = mixture([[0.45, 0.1, 0.45]], [[-2.0, 0.0, 2.0]], [[0.5, 3.0, 0.5]])
    x = torch.zeros(1, 1, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(
        mixture_log_prob(params, x.unsqueeze(-1)).sum(), x, create_graph=True
    )
    (h,) = torch.autograd.grad(g.sum(), x)
    assert abs(g.item()) < 1e-15 and h.item() > 0.1
    m = conditional_modes(params)
    slope = lambda x: gaussian_slope_1d(params, x.view(1, -1))[0].view(-1)  # noqa: E731
    roots = bisect(slope, torch.tensor([-3.0, 1.0]), torch.tensor([-1.0, 3.0]))
    assert modes_of(m, 0).tolist() == pytest.approx(roots.tolist(), abs=1e-8, rel=0)


def test_modes_whose_basin_holds_no_component_mean_are_found():
    # Random draws where the tails of components on both sides add up to a bump that no
    # ascent from a mean reaches (the old search missed these): three modes each, two of
    # them within a tenth of a width of a minimum in the second mixture.
    params = mixture(
        [[0.23578355, 0.48630554, 0.27791091], [0.68904679, 0.24908007, 0.06187314]],
        [[0.14364388, 2.37142369, 0.38984054], [-1.38783917, 2.25460092, 1.42250518]],
        [[0.22528725, 1.15625827, 0.86967835], [1.02605080, 0.24991137, 0.53709650]],
    )
    m = conditional_modes(params)
    assert m.count.tolist() == [3, 3]
    x = torch.linspace(-2.0, 3.0, 500_001, dtype=F64).expand(2, -1)
    slope, _ = gaussian_slope_1d(params, x)
    for n in range(2):
        cross = ((slope[n, :-1] > 0) & (slope[n, 1:] <= 0)).nonzero().squeeze(-1)
        f = lambda t: gaussian_slope_1d(params, t.view(1, -1))[0][n]  # noqa: E731,B023
        roots = bisect(f, x[n, cross], x[n, cross + 1])
        assert modes_of(m, n).tolist() == pytest.approx(roots.tolist(), abs=1e-8, rel=0)


def test_well_separated_modes_are_the_component_means():
    # Components 20+ widths apart: each mode is its mean (the others' tails move it by far
    # less than 1e-8) and its density is pi_k times the component's peak.
    pi = [[0.2, 0.5, 0.3]]
    mu = [[[-10.0, 4.0, 0.0], [0.0, -9.0, 20.0], [12.0, 10.0, -30.0]]]
    sigma = [[[0.5, 0.3, 1.0], [1.0, 0.2, 0.7], [0.4, 0.9, 0.6]]]
    for d in (1, 3):
        params = mixture(pi, torch.tensor(mu)[..., :d], torch.tensor(sigma)[..., :d])
        m = conditional_modes(params)
        assert m.count.item() == 3
        peak = params.log_pi[0] - params.sigma[0].log().sum(-1) - 0.5 * d * math.log(2 * math.pi)
        order = torch.argsort(peak, descending=True)
        torch.testing.assert_close(m.location[0], params.mu[0, order], rtol=0, atol=1e-8)
        torch.testing.assert_close(m.log_density[0], peak[order], rtol=0, atol=1e-12)


def test_saddle_between_two_modes_in_2d_is_not_reported():
    # Two unit Gaussians at (+-2, 0) and a light one at the origin: the origin is a saddle
    # (the density falls along y, rises along x), and the light component's ascent starts
    # exactly there. The modes are (+-x*, 0), with x* the root of l' along the x-axis.
    pi = [[0.495, 0.495, 0.01]]
    mu = [[[-2.0, 0.0], [2.0, 0.0], [0.0, 0.0]]]
    params = mixture(pi, mu, torch.ones(1, 3, 2))
    origin = torch.zeros(1, 1, 2, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(mixture_log_prob(params, origin).sum(), origin, create_graph=True)
    hess = torch.stack(
        [torch.autograd.grad(g[0, 0, d], origin, retain_graph=True)[0][0, 0] for d in range(2)]
    )
    assert g.abs().max() < 1e-15
    assert hess[0, 0] > 1 and hess[1, 1] < -0.5  # a saddle
    m = conditional_modes(params)
    assert m.count.item() == 2
    # Along y = 0 the density is a 1-D mixture (times the same constant for every component).
    line = params.replace(mu=params.mu[..., :1], sigma=params.sigma[..., :1])
    slope = lambda x: gaussian_slope_1d(line, x.view(1, -1))[0].view(-1)  # noqa: E731
    x_star = bisect(slope, torch.tensor([1.0]), torch.tensor([3.0])).item()
    found = m.location[0][m.distinct[0]]
    found = found[found[:, 0].argsort()]
    expected = torch.tensor([[-x_star, 0.0], [x_star, 0.0]], dtype=F64)
    torch.testing.assert_close(found, expected, rtol=0, atol=1e-8)


def test_full_covariance_modes():
    # Well apart, with strongly correlated components: the modes are the means, and the
    # density there is pi_k / (2 pi det L_k). Then one correlated component alone.
    tril = torch.tensor(
        [[[[1.0, 0.0], [0.9, 0.3]], [[0.5, 0.0], [-0.8, 0.6]], [[0.2, 0.0], [0.1, 1.5]]]], dtype=F64
    )
    mu = torch.tensor([[[0.0, 0.0], [15.0, -3.0], [-4.0, 20.0]]], dtype=F64)
    params = mixture([[0.3, 0.3, 0.4]], mu, tril.pow(2).sum(-1).sqrt(), scale_tril=tril)
    m = conditional_modes(params)
    assert m.count.item() == 3
    peak = (
        params.log_pi[0] - tril[0].diagonal(dim1=-2, dim2=-1).log().sum(-1) - math.log(2 * math.pi)
    )
    order = torch.argsort(peak, descending=True)
    torch.testing.assert_close(m.location[0], mu[0, order], rtol=0, atol=1e-8)
    torch.testing.assert_close(m.log_density[0], peak[order], rtol=0, atol=1e-12)


# --- Every family ----------------------------------------------------------------------------


def test_laplace_modes_are_the_means_where_the_density_peaks():
    # Between two means a Laplace mixture is a sum of exponentials, convex: every mode is a
    # mean, and mean j is a mode exactly when the other components' slope there is smaller
    # than the jump of component j's: |sum_{k != j} pi_k f_k(mu_j) s_k / b_k| < pi_j f_j(mu_j) / b_j.
    g = torch.Generator().manual_seed(11)
    N, K = 2000, 4
    mu = 2 * torch.randn(N, K, generator=g, dtype=F64)
    b = 0.2 + torch.rand(N, K, generator=g, dtype=F64)
    pi = torch.softmax(torch.randn(N, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, b, "laplace")
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    gap = mu.unsqueeze(-1) - mu.unsqueeze(-2)  # [N, j, k]: mu_j - mu_k
    dens = pi.unsqueeze(1) / (2 * b.unsqueeze(1)) * torch.exp(-gap.abs() / b.unsqueeze(1))
    others = (dens * -torch.sign(gap) / b.unsqueeze(1)).sum(-1)  # the diagonal adds 0
    own = pi / (2 * b) / b
    is_mode = others.abs() < own
    for n in range(N):
        expected = mu[n][is_mode[n]].sort().values
        assert modes_of(m, n).tolist() == pytest.approx(expected.tolist(), abs=1e-9, rel=0)


def component_slope(family, x, mu, sigma, shape):
    """Closed-form derivative of each component's log-density at ``x`` (broadcast)."""
    z = (x - mu) / sigma
    if family == "student_t":
        return -(shape + 1) * z / (shape + z * z) / sigma
    if family == "gennorm":
        return -shape * z.abs().pow(shape - 1) * torch.sign(z) / sigma
    if family == "von_mises":
        return -torch.sin(x - mu) / sigma**2
    raise ValueError(family)


@pytest.mark.parametrize("family", ["student_t", "gennorm", "von_mises"])
def test_other_families_against_a_dense_grid(family):
    # Random 1-D mixtures against a grid of 20,001 points: where the closed-form l' changes
    # sign from + to - (its sign is exact above float64 rounding, unlike differences of
    # the density, which the flat tops of gennorm with beta = 8 leave equal to the last
    # bit over whole stretches). The modes found are those: each within half a spacing of
    # its cell, or else on a flat top, where the density between the two stays within
    # float64 rounding of the mode's (the mode's place there is not defined to better).
    # The highest is at least as high as every grid point, and within a spacing of the
    # grid's highest unless that is as high to float64 rounding (a flat top, or a tie).
    g = torch.Generator().manual_seed(5)
    N, K, G = 200, 3, 20_001
    mu = 1.5 * torch.randn(N, K, generator=g, dtype=F64)
    sigma = 0.2 + torch.rand(N, K, generator=g, dtype=F64)
    pi = torch.softmax(torch.randn(N, K, generator=g, dtype=F64), -1)
    shape = None
    if family == "student_t":
        shape = 0.5 + 10 * torch.rand(N, K, generator=g, dtype=F64)  # df
    if family == "gennorm":
        # beta near 1 (almost a kink at each mean), between 1 and 2, 2, and flat-topped.
        betas = torch.tensor([1.05, 1.3, 2.0, 4.0, 8.0], dtype=F64)
        shape = betas[torch.randint(0, 5, (N, K), generator=g)]
    if family == "von_mises":
        mu = torch.remainder(mu + math.pi, 2 * math.pi) - math.pi
    params = mixture(pi, mu, sigma, family, shape)
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    if family == "von_mises":  # the whole circle; the last point is the first one again
        lo, hi = torch.full((N,), -math.pi, dtype=F64), torch.full((N,), math.pi, dtype=F64)
    else:  # every stationary point lies between the smallest and the largest mean
        lo, hi = mu.min(-1).values - 1e-6, mu.max(-1).values + 1e-6
    h = (hi - lo) / (G - 1)
    x = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * torch.linspace(0, 1, G, dtype=F64)
    counts, top_lp, top_x = [], [], []
    for s in range(0, N, 50):
        rows = slice(s, s + 50)
        sub = params.map(lambda v, rows=rows: v[rows])
        xs = x[rows].unsqueeze(-1)  # [n, G, 1]
        lp_k = sub.log_pi.unsqueeze(1) + get_family(sub.family).log_prob(
            xs.unsqueeze(2),
            sub.mu.unsqueeze(1),
            sub.sigma.unsqueeze(1),
            None if sub.shape_param is None else sub.shape_param.unsqueeze(1),
            None,
        )  # [n, G, K]
        lp = torch.logsumexp(lp_k, -1)
        gamma = torch.exp(lp_k - lp.unsqueeze(-1))
        shape_k = None if sub.shape_param is None else sub.shape_param.unsqueeze(1)
        slope = (
            gamma
            * component_slope(
                family, xs, sub.mu[..., 0].unsqueeze(1), sub.sigma[..., 0].unsqueeze(1), shape_k
            )
        ).sum(-1)
        if family == "von_mises":
            slope = torch.cat([slope[:, :-1], slope[:, :1]], -1)  # the same point, exactly
        cross = (slope[:, :-1] > 0) & (slope[:, 1:] <= 0)
        counts.append(cross.sum(-1))
        top_lp.append(lp.max(-1).values)
        top_x.append(x[rows].gather(1, lp.argmax(-1, keepdim=True)).squeeze(1))
        for r in range(cross.shape[0]):
            n = s + r
            found = m.location[n, :, 0][m.distinct[n]]
            centres = x[n, :-1][cross[r]] + 0.5 * h[n]
            gap = get_family(params.family).difference(found.unsqueeze(-1), centres).abs()
            near, j = gap.min(-1)
            heights = m.log_density[n][m.distinct[n]]
            for f, d, c, lp_f in zip(found, near, centres[j], heights, strict=True):
                if d > 0.51 * h[n]:
                    # Only on a flat top (beta = 4 or 8), where the density stays within
                    # float64 rounding of the mode's all the way to the grid's crossing.
                    between = (x[n] - torch.minimum(f, c) >= 0) & (x[n] - torch.maximum(f, c) <= 0)
                    assert (lp[r][between] >= lp_f - 1e-13 * (1 + lp_f.abs())).all()
    assert torch.equal(torch.cat(counts), m.count)
    top_lp, top = m.log_density[:, 0], torch.cat(top_lp)
    assert (top_lp >= top - 1e-12).all()
    far = get_family(params.family).difference(m.highest[:, 0], torch.cat(top_x)).abs()
    level = top_lp - top <= 1e-13 * (1 + top.abs())  # a flat top, or a tie
    assert (level | (far <= 1.01 * h)).all()


def test_von_mises_mode_across_the_wrap():
    # Two components straddling +-pi: one mode, at pi (either representative), found by
    # both ascents and reported once. Further apart, two modes near the means.
    params = mixture(
        [[0.5, 0.5], [0.5, 0.5]],
        [[math.pi - 0.05, -math.pi + 0.05], [math.pi - 0.6, -math.pi + 0.6]],
        [[0.3, 0.3], [0.2, 0.2]],
        "von_mises",
    )
    m = conditional_modes(params)
    assert m.count.tolist() == [1, 2]
    assert (m.location.abs() <= math.pi).all()
    assert abs(abs(m.highest[0, 0].item()) - math.pi) < 1e-8
    # The second: by symmetry the modes are +-(pi - x) for one x close to 0.6.
    found = modes_of(m, 1).abs()
    assert found[0].item() == pytest.approx(found[1].item(), abs=1e-8)
    assert 0.5 < math.pi - found[0].item() < 0.6


# --- Random mixtures against dense grids ---------------------------------------------------


def test_random_1d_gaussian_mixtures_against_a_dense_grid():
    # 20,000 random three-component mixtures in one call (the old search missed a mode in
    # 10 of these). The grid: 2,001 points from the smallest to the largest mean (every
    # stationary point lies between them), where the closed-form l' changes sign from + to
    # -. Its sign is exact where |l'| is above float64 rounding, so unlike
    # comparing densities at neighbouring points it sees bumps of any height, as long as a
    # maximum and the next minimum fall in different grid cells. A mixture where they do
    # not (a bump narrower than one cell) is counted again on a grid 100 times finer; none
    # is excluded.
    g = torch.Generator().manual_seed(0)
    N, K, G = 20_000, 3, 2001
    mu = 2 * torch.randn(N, K, generator=g, dtype=F64)
    sigma = 0.2 + torch.rand(N, K, generator=g, dtype=F64)
    pi = torch.softmax(torch.randn(N, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, sigma)
    m = conditional_modes(params)
    assert m.location.shape == (N, K, 1)
    assert_sorted_and_consistent(m)
    lo, hi = mu.min(-1).values - 1e-6, mu.max(-1).values + 1e-6
    h = (hi - lo) / (G - 1)
    u = torch.linspace(0, 1, G, dtype=F64)
    count = torch.empty(N, dtype=torch.long)
    top_x, top_lp = torch.empty(N, dtype=F64), torch.empty(N, dtype=F64)
    crosses = []
    for s in range(0, N, 2000):
        sub = params.map(lambda v, s=s: v[s : s + 2000])
        x = lo[s : s + 2000, None] + (hi - lo)[s : s + 2000, None] * u
        slope, lp = gaussian_slope_1d(sub, x)
        cross = (slope[:, :-1] > 0) & (slope[:, 1:] <= 0)  # a maximum in [x_i, x_i+1]
        count[s : s + 2000] = cross.sum(-1)
        best = lp.argmax(-1)
        top_x[s : s + 2000] = x.gather(1, best[:, None]).squeeze(1)
        top_lp[s : s + 2000] = lp.max(-1).values
        crosses.append(cross)
    mismatch = (count != m.count).nonzero().squeeze(-1)
    for n in mismatch.tolist():  # a finer look before declaring a failure
        x = torch.linspace(lo[n], hi[n], 100 * (G - 1) + 1, dtype=F64).view(1, -1)
        slope, _ = gaussian_slope_1d(params.map(lambda v, n=n: v[n : n + 1]), x)
        count[n] = ((slope[:, :-1] > 0) & (slope[:, 1:] <= 0)).sum()
    assert torch.equal(count, m.count), f"{(count != m.count).sum()} mixtures disagree"
    # Each mode lies in a grid cell where l' changes sign (or on the edge of one).
    cross = torch.cat(crosses)
    rows, col = m.distinct.nonzero().unbind(-1)
    where = (m.location[rows, col, 0] - lo[rows]) / h[rows]  # in grid cells
    cell = where.floor().long().clamp(0, G - 2)
    edge = (where - where.round()).abs() < 1e-6
    hit = cross[rows, cell] | (edge & cross[rows, (cell - 1).clamp(min=0)])
    assert hit.all()
    # The highest mode: at least as high as every grid point, and the grid's highest point
    # lies within a grid spacing of it, except where the runner-up is within the grid's
    # discretisation error (half the curvature times h^2) of it in height.
    assert (m.log_density[:, 0] >= top_lp - 1e-12).all()
    near = (m.highest[:, 0] - top_x).abs() <= 1.01 * h
    runner_up = torch.where(m.distinct[:, 1], m.log_density[:, 1], -math.inf)
    tie = m.log_density[:, 0] - runner_up <= 0.5 * (h / sigma.min(-1).values) ** 2
    assert (near | tie).all()
    assert tie.sum() < 10  # a handful of near-ties at most


def gaussian_maxima_on_grid(params, x, chunk=250):
    """Maxima of 1-D Gaussian mixtures where the closed-form l' changes sign from + to -
    between neighbouring points of the sorted grids ``x`` ``[N, G]``, each refined by
    bisection: lists (one per mixture) of float64 tensors, sorted."""
    found = []
    for s in range(0, len(x), chunk):
        sub = params.map(lambda v, s=s: v[s : s + chunk])
        xs = x[s : s + chunk]
        slope, _ = gaussian_slope_1d(sub, xs)
        cross = (slope[:, :-1] > 0) & (slope[:, 1:] <= 0)
        rows, col = cross.nonzero().unbind(-1)
        one = sub.map(lambda v, rows=rows: v[rows])
        f = lambda t, one=one: gaussian_slope_1d(one, t.view(-1, 1))[0].view(-1)  # noqa: E731
        roots = bisect(f, xs[rows, col], xs[rows, col + 1])
        found += [roots[rows == r] for r in range(len(xs))]
    return found


def hard_grid(params, uniform=2001, local=1001, reach=10.0):
    """A grid fine enough for mixtures of very unequal widths, ``[N, G]`` sorted: uniform
    from the smallest mean to the largest, and every 0.02 scale within ``reach`` scales
    of each mean (every stationary point lies between the smallest and largest mean)."""
    mu, sigma = params.mu[..., 0], params.sigma[..., 0]
    lo, hi = mu.min(-1).values - 1e-9, mu.max(-1).values + 1e-9
    around = torch.linspace(-reach, reach, local, dtype=F64)
    x = torch.cat(
        [
            lo[:, None] + (hi - lo)[:, None] * torch.linspace(0, 1, uniform, dtype=F64),
            (mu[..., None] + sigma[..., None] * around).flatten(1),
        ],
        1,
    )
    return torch.minimum(torch.maximum(x, lo[:, None]), hi[:, None]).sort(-1).values


def hard_draws(n, generator):
    """Three-component 1-D Gaussian mixtures drawn to be hard: widths log-uniform over four
    decades, weights over three and a half, means in [-1, 1]; and as many near the shallow
    bump between a broad component and a narrow, heavy one of the next test (every
    parameter jittered by up to 5%)."""
    u = lambda lo, hi, shape: lo + (hi - lo) * torch.rand(shape, generator=generator, dtype=F64)  # noqa: E731
    mu, sigma, pi = u(-1, 1, (n, 3)), 10 ** u(-2, 2, (n, 3)), 10 ** u(-3.5, 0, (n, 3))
    near_mu = torch.tensor(BUMP_MU, dtype=F64) + 0.05 * u(-1, 1, (n, 3))
    near_sigma = torch.tensor(BUMP_SIGMA, dtype=F64) * 10 ** (0.05 * u(-1, 1, (n, 3)))
    near_pi = torch.tensor(BUMP_PI, dtype=F64) * 10 ** (0.05 * u(-1, 1, (n, 3)))
    return (
        torch.cat([pi, near_pi]),
        torch.cat([mu, near_mu]),
        torch.cat([sigma, near_sigma]),
    )


# A shallow bump (relative depth 2e-4) between a broad component and a narrow, heavy one:
# found by the measurement (benchmarks/mode_search_misses.py), missed by the old search.
BUMP_PI = [0.015909740254113156, 0.9746377009529342, 0.00945255879295249]
BUMP_MU = [0.5020803234153348, 0.8973295322143475, -0.8117822798382426]
BUMP_SIGMA = [0.6359110101508798, 0.09658240557886116, 0.6979558417109317]


def test_a_shallow_bump_between_a_broad_and_a_narrow_heavy_component_is_found():
    # Left of the narrow, heavy component (pi = 0.97, sigma = 0.097) the broad one
    # (sigma = 0.64) keeps a maximum at 0.3812, 0.0325 below a minimum of the density only
    # 2.2e-4 of its height lower. An ascent from the third mean jumps over it (the density
    # only rises on the way), and the old walk between maxima stepped over it too.
    params = mixture([BUMP_PI], [BUMP_MU], [BUMP_SIGMA])
    x = torch.linspace(-0.9, 1.0, 200_001, dtype=F64).view(1, -1)
    slope, lp = gaussian_slope_1d(params, x)
    down = ((slope[0, :-1] > 0) & (slope[0, 1:] <= 0)).nonzero().squeeze(-1)
    up = ((slope[0, :-1] < 0) & (slope[0, 1:] >= 0)).nonzero().squeeze(-1)
    f = lambda t: gaussian_slope_1d(params, t.view(1, -1))[0].view(-1)  # noqa: E731
    maxima, minima = bisect(f, x[0, down], x[0, down + 1]), bisect(f, x[0, up], x[0, up + 1])
    assert maxima.tolist() == pytest.approx([0.381187312274, 0.897308707841], abs=1e-11)
    _, lp_extrema = gaussian_slope_1d(params, torch.cat([maxima, minima]).view(1, -1))
    assert 1e-4 < 1 - math.exp(lp_extrema[0, 2] - lp_extrema[0, 0]) < 1e-3  # a shallow bump
    m = conditional_modes(params)
    assert m.count.item() == 2
    assert modes_of(m, 0).tolist() == pytest.approx(maxima.tolist(), abs=1e-8, rel=0)


def test_hard_random_1d_mixtures_against_a_dense_grid():
    # Widths over four decades, weights over three and a half, means close together, and
    # draws around the shallow bump above: every maximum of a dense float64 grid (the
    # closed-form l' changes sign from + to -; see hard_grid), refined by bisection, is
    # found, and nothing else. A mixture where the counts differ is looked at again on a
    # grid 20 times finer around each component before it counts as a failure.
    g = torch.Generator().manual_seed(23)
    pi, mu, sigma = hard_draws(1000, g)
    params = mixture(pi, mu, sigma)
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    expected = gaussian_maxima_on_grid(params, hard_grid(params))
    for n in range(len(mu)):
        if len(expected[n]) != m.count[n]:
            one = params.map(lambda v, n=n: v[n : n + 1])
            expected[n] = gaussian_maxima_on_grid(one, hard_grid(one, 40_001, 20_001))[0]
    count = torch.tensor([len(e) for e in expected])
    missed, spurious = (count > m.count).sum().item(), (count < m.count).sum().item()
    assert (missed, spurious) == (0, 0)
    width = sigma.min(-1).values
    for n in range(len(mu)):
        found = modes_of(m, n)
        assert ((found - expected[n]).abs() <= 1e-6 * width[n]).all(), n


def test_rows_and_cat_agree_with_the_search_on_the_selected_and_joined_mixtures():
    # Generalised normal mixtures, one of them with four modes from three components (the
    # flat top of the one with beta = 7.75 keeps a maximum at each edge): its part has C = 4.
    g = torch.Generator().manual_seed(2)
    four = ([[0.0627, 0.4759, 0.4614]], [[-1.529, -2.361, -0.6007]], [[0.2644, 0.6366, 0.5081]])
    pi = torch.cat([torch.tensor(four[0]), torch.rand(7, 3, generator=g) + 0.1]).double()
    mu = torch.cat([torch.tensor(four[1]), 2 * torch.randn(7, 3, generator=g)]).double()
    sigma = torch.cat([torch.tensor(four[2]), 0.2 + torch.rand(7, 3, generator=g)]).double()
    beta = torch.tensor([[7.75, 1.254, 1.341]] + [[2.0, 4.0, 1.5]] * 7, dtype=F64)
    params = mixture(pi, mu, sigma, "gennorm", beta)
    parts = [params[0:3], params[3:8]]
    separate = [conditional_modes(p) for p in parts]
    assert [s.location.shape[1] for s in separate] == [4, 3]

    def assert_same_modes(a, b):
        C = min(a.location.shape[1], b.location.shape[1])
        assert not a.distinct[:, C:].any() and not b.distinct[:, C:].any()
        assert torch.equal(a.distinct[:, :C], b.distinct[:, :C])
        on = a.distinct[:, :C]
        torch.testing.assert_close(a.location[:, :C][on], b.location[:, :C][on], rtol=0, atol=1e-12)
        torch.testing.assert_close(a.log_density[:, :C][on], b.log_density[:, :C][on])
        torch.testing.assert_close(a.highest, b.highest, rtol=0, atol=1e-12)

    joined = Modes.cat(separate)
    whole = conditional_modes(MixtureParameters.cat(parts))
    assert joined.location.shape == whole.location.shape == (8, 4, 1)
    assert_same_modes(joined, whole)
    # The second part is padded with absent points: NaN, -inf, not distinct.
    assert joined.location[3:, 3].isnan().all() and (joined.log_density[3:, 3] == -math.inf).all()
    assert not joined.distinct[3:, 3].any()
    for index in (0, -1, slice(2, 6), [5, 0, 3], torch.tensor([7, 1]), torch.arange(8) % 3 == 0):
        rows = whole.rows(index)
        assert rows.location.shape[1] == 4 and len(rows.highest) == len(params[index])
        assert_same_modes(rows, conditional_modes(params[index]))
    with pytest.raises(IndexError):
        whole.rows(8)
    with pytest.raises(TypeError):
        Modes.cat([])
    with pytest.raises(ValueError):
        Modes.cat([whole, conditional_modes(mixture([[1.0]], [[[0.0, 1.0]]], [[[1.0, 1.0]]]))])


def _newton_refine(params, owner, x, steps=50):
    """A plain Levenberg-Marquardt ascent (autograd Hessian, shifted to be negative
    definite) of mixture ``owner[a]`` from ``x[a]``; the end points, gradients, Hessians."""
    sub = params.map(lambda v: v[owner])
    D = x.shape[-1]

    def derivatives(p):
        p = p.detach().requires_grad_(True)
        lp = mixture_log_prob(sub, p.unsqueeze(1)).squeeze(1)
        (g,) = torch.autograd.grad(lp.sum(), p, create_graph=True)
        rows = [torch.autograd.grad(g[:, d].sum(), p, retain_graph=True)[0] for d in range(D)]
        return lp.detach(), g.detach(), torch.stack(rows, 1)

    eye = torch.eye(D, dtype=F64)
    for _ in range(steps):
        lp, g, hess = derivatives(x)
        shift = torch.linalg.eigvalsh(hess)[:, -1].clamp(min=0) + 1e-9
        step = torch.linalg.solve(shift[:, None, None] * eye - hess, g)
        alpha = torch.ones(len(x), dtype=F64)
        for _ in range(30):
            ok = mixture_log_prob(sub, (x + alpha[:, None] * step).unsqueeze(1)).squeeze(1) >= lp
            if ok.all():
                break
            alpha = torch.where(ok, alpha, alpha / 2)
        x = x + alpha[:, None] * step
    _, g, hess = derivatives(x)
    return x, g, hess


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_random_2d_mixtures_against_a_dense_grid(covariance):
    # The grid's local maxima (no lower than any of their eight neighbours; a ridge across
    # the grid can make several) are refined by a plain Newton ascent: the end points with
    # a zero gradient and a negative definite Hessian are the reference modes. Every one of them
    # must be found, and everything found must be a maximum (zero gradient, negative
    # definite Hessian, by autograd); a mode whose basin is narrower than a grid cell may
    # escape the reference, but not the search.
    g = torch.Generator().manual_seed(3 if covariance == "full" else 4)
    N, K, G = 300, 4, 151
    mu = 1.5 * torch.randn(N, K, 2, generator=g, dtype=F64)
    sigma = 0.3 + torch.rand(N, K, 2, generator=g, dtype=F64)
    tril = None
    if covariance == "full":
        tril = torch.diag_embed(sigma) + 0.5 * torch.randn(N, K, 2, 2, generator=g, dtype=F64).tril(
            -1
        )
        sigma = tril.pow(2).sum(-1).sqrt()
    pi = torch.softmax(torch.randn(N, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, sigma, scale_tril=tril)
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    lo, hi = mu.min(1).values - 1.0, mu.max(1).values + 1.0  # [N, 2]
    u = torch.linspace(0, 1, G, dtype=F64)
    xs = lo[:, None, 0] + (hi - lo)[:, None, 0] * u
    ys = lo[:, None, 1] + (hi - lo)[:, None, 1] * u
    pts = torch.stack([xs[:, :, None].expand(-1, G, G), ys[:, None, :].expand(-1, G, G)], -1)
    # The closed-form Gaussian log-density (up to a constant) on the grid, [N, G, G].
    tril = params.scale_tril if tril is not None else torch.diag_embed(params.sigma)
    prec = torch.cholesky_inverse(tril)  # [N, K, 2, 2]
    diff = pts.reshape(N, 1, G * G, 2) - mu.unsqueeze(2)  # [N, K, G*G, 2]
    quad = torch.einsum("nkpd,nkde,nkpe->nkp", diff, prec, diff)
    log_det = tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    lp = torch.logsumexp((params.log_pi - log_det).unsqueeze(-1) - 0.5 * quad, 1).view(N, G, G)
    lp = lp - math.log(2 * math.pi)
    c = lp[:, 1:-1, 1:-1]
    peak = torch.ones_like(c, dtype=torch.bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                peak &= c >= lp[:, 1 + dx : G - 1 + dx, 1 + dy : G - 1 + dy]
    idx = peak.nonzero()
    owner = idx[:, 0]
    start = pts[owner, idx[:, 1] + 1, idx[:, 2] + 1]
    ref, grad, hess = _newton_refine(params, owner, start)
    is_max = (torch.linalg.eigvalsh(hess)[:, -1] < 0) & (grad.abs().amax(-1) < 1e-9)
    assert is_max.float().mean() > 0.99
    for a in is_max.nonzero().squeeze(-1).tolist():
        n = owner[a]
        found = m.location[n][m.distinct[n]]
        assert ((found - ref[a]).abs().amax(-1) < 1e-6).any(), f"mixture {n}: missed {ref[a]}"
    # Everything found is a maximum, and the highest is no lower than any grid point.
    owner = m.distinct.nonzero()[:, 0]
    _, grad, hess = _newton_refine(params, owner, m.location[m.distinct], steps=0)
    assert grad.abs().max() < 1e-6
    assert (torch.linalg.eigvalsh(hess)[:, -1] < 0).all()
    assert (m.log_density[:, 0] >= lp.flatten(1).max(-1).values - 1e-12).all()


def test_many_narrow_components_against_a_dense_grid():
    # Like a fitted MDN: 30 narrow components over [0, 1], with many ripples and tiny bumps.
    g = torch.Generator().manual_seed(7)
    N, K, G = 50, 30, 40_001
    mu = torch.rand(N, K, generator=g, dtype=F64)
    sigma = 0.01 + 0.1 * torch.rand(N, K, generator=g, dtype=F64)
    pi = torch.softmax(2 * torch.randn(N, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, sigma)
    m = conditional_modes(params)
    assert_sorted_and_consistent(m)
    lo, hi = mu.min(-1).values - 1e-6, mu.max(-1).values + 1e-6
    x = lo[:, None] + (hi - lo)[:, None] * torch.linspace(0, 1, G, dtype=F64)
    counts = []
    for s in range(0, N, 10):
        slope, _ = gaussian_slope_1d(params.map(lambda v, s=s: v[s : s + 10]), x[s : s + 10])
        counts.append(((slope[:, :-1] > 0) & (slope[:, 1:] <= 0)).sum(-1))
    assert torch.equal(torch.cat(counts), m.count)
    assert m.count.sum() > 200  # many modes to find


# --- The interface ---------------------------------------------------------------------------


def test_float32_parameters_give_float32_modes_computed_in_float64():
    params = mixture(
        [[0.3, 0.3, 0.4]] * 2, [[-1.0, 0.2, 2.0], [0.0, 0.5, 1.0]], [[0.5, 0.3, 0.6]] * 2
    )
    m64 = conditional_modes(params)
    m32 = conditional_modes(params.map(lambda v: v.float()))
    assert m32.location.dtype == m32.log_density.dtype == m32.highest.dtype == torch.float32
    assert m32.distinct.dtype == torch.bool
    assert torch.equal(m32.count, m64.count)
    torch.testing.assert_close(m32.highest, m64.highest.float(), rtol=0, atol=1e-5)


def test_no_inputs():
    params = mixture(torch.empty(0, 3), torch.empty(0, 3, 2), torch.ones(0, 3, 2))
    m = conditional_modes(params)
    assert m.location.shape == (0, 3, 2) and m.highest.shape == (0, 2)
    assert m.count.shape == (0,)


# --- the kernels the search stands on, against autograd through torch.distributions -------


@pytest.mark.parametrize(
    "family, covariance, D",
    [("gaussian", "isotropic", 2), ("gaussian", "diagonal", 1), ("gaussian", "full", 2),
     ("laplace", "diagonal", 2), ("student_t", "diagonal", 2), ("gennorm", "diagonal", 1)],
)  # fmt: skip
def test_log_density_gradient_and_hessian_match_autograd(family, covariance, D):
    """mode_kernels' log-density, gradient and Hessian at scattered points equal autograd's
    through the mixture as torch.distributions builds it (float64)."""
    from mdn_src.inference.mode_kernels import derivatives, log_density, prepare

    from .test_mixture import make_params

    torch.manual_seed(1)
    params = make_params(family, N=3, K=3, D=D, covariance=covariance)
    prep = prepare(params)
    owner = torch.tensor([0, 1, 2, 2, 0])
    # Points away from the means: Laplace's and gennorm's kinks sit at the means.
    points = params.mu[owner, 0] + 0.37 * params.sigma[owner, 0] + 0.05
    lp_ref, grad_ref, hess_ref = [], [], []
    for a, n in enumerate(owner.tolist()):
        dist = params[n].distribution()

        def f(x, dist=dist):
            return dist.log_prob(x.unsqueeze(0)).squeeze(0)

        x = points[a].clone().requires_grad_()
        lp_ref.append(f(x).detach())
        grad_ref.append(torch.autograd.functional.jacobian(f, points[a]))
        hess_ref.append(torch.autograd.functional.hessian(f, points[a]))
    torch.testing.assert_close(log_density(prep, owner, points), torch.stack(lp_ref))
    lp, grad, hess, width, fixed, _ = derivatives(prep, owner, points)
    torch.testing.assert_close(lp, torch.stack(lp_ref))
    torch.testing.assert_close(grad, torch.stack(grad_ref), rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(hess, torch.stack(hess_ref), rtol=1e-7, atol=1e-9)
    assert (width > 0).all() and torch.isfinite(fixed).all()
