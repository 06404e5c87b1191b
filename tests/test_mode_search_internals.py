"""The mode search's internal helpers (``mode_kernels``, ``modes_nd``) on small inputs whose
answers are known: closed forms, roots found by bisection of the closed-form derivative in
float64, or the formulas of the docstrings written out again here.

These pin what ``conditional_modes`` only shows indirectly (where a step is cut at a kink,
where a walk locates a minimum, which points start the extra ascents).
"""

import math

import pytest
import torch

from mdn_src.inference.mode_kernels import (
    ascend,
    check_maxima,
    derivatives,
    kink_step,
    prepare,
)
from mdn_src.inference.modes_nd import fixed_starts, march, segment_starts
from mdn_src.mixture import get_family
from mdn_src.mixture import log_prob as mixture_log_prob  # at [N, P, D] points

from .test_modes import mixture  # the same nested-list builder

F64 = torch.float64


def bisect(f, lo, hi, steps=200):
    """A root of the scalar function ``f`` between ``lo`` and ``hi``, where it changes sign."""
    f_lo = f(lo)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if (f(mid) > 0) == (f_lo > 0):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def gaussian_1d(pi, mu, sigma):
    """Closed-form log-density and its derivative of one 1-D Gaussian mixture (floats)."""

    def terms(x):
        return [
            (math.log(p) - math.log(s) - 0.5 * ((x - m) / s) ** 2, (m - x) / s**2)
            for p, m, s in zip(pi, mu, sigma, strict=True)
        ]

    def lp(x):
        t = terms(x)
        top = max(j for j, _ in t)
        return top + math.log(sum(math.exp(j - top) for j, _ in t)) - 0.5 * math.log(2 * math.pi)

    def slope(x):
        t = terms(x)
        top = max(j for j, _ in t)
        w = [math.exp(j - top) for j, _ in t]
        return sum(wi * g for wi, (_, g) in zip(w, t, strict=True)) / sum(w)

    return lp, slope


# --- prepare ------------------------------------------------------------------------------


def test_prepare_gaussian_constants_precisions_and_scales_are_the_closed_forms():
    pi, mu = [[0.2, 0.8]], [[[0.0, 1.0], [2.0, -1.0]]]
    sigma = torch.tensor([[[0.5, 2.0], [1.5, 0.25]]], dtype=F64)
    prep = prepare(mixture(pi, mu, sigma))
    assert not prep["full"] and prep["gaussian"] and not prep["kinked"] and not prep["cusped"]
    torch.testing.assert_close(prep["prec"], sigma.pow(-2), rtol=1e-15, atol=0)
    const = torch.tensor(pi, dtype=F64).log() - sigma.log().sum(-1) - math.log(2 * math.pi)
    torch.testing.assert_close(prep["const"], const, rtol=1e-14, atol=0)
    torch.testing.assert_close(prep["scale"], sigma, rtol=0, atol=0)
    # Full covariance: the precision is (L L^T)^-1, log|Sigma|^(1/2) = sum log diag L, and
    # the finest scale is the narrowest principal axis, sqrt(smallest eigenvalue of L L^T).
    tril = torch.tensor([[[[1.0, 0.0], [0.9, 0.3]], [[2.0, 0.0], [-0.5, 0.1]]]], dtype=F64)
    prep = prepare(mixture(pi, mu, tril.pow(2).sum(-1).sqrt(), scale_tril=tril))
    cov = tril @ tril.transpose(-1, -2)
    assert prep["full"]
    torch.testing.assert_close(prep["prec"], torch.linalg.inv(cov), rtol=1e-12, atol=1e-12)
    log_det = 0.5 * torch.linalg.slogdet(cov).logabsdet
    const = torch.tensor(pi, dtype=F64).log() - log_det - math.log(2 * math.pi)
    torch.testing.assert_close(prep["const"], const, rtol=1e-13, atol=1e-14)
    narrowest = torch.linalg.eigvalsh(cov)[..., 0].sqrt()
    torch.testing.assert_close(prep["scale"], narrowest.unsqueeze(-1).expand(1, 2, 2))


def test_prepare_marks_kinks_and_cusps_by_family_and_shape():
    # Laplace: a kink at every mean. gennorm: a kink for beta <= 1, an infinite curvature
    # (a cusp) for beta < 2, smooth from beta = 2 on; its finest scale is
    # sigma * min(2 / beta, 1).
    lap = prepare(mixture([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 2.0]], "laplace"))
    assert lap["kinked"] and lap["cusped"] and not lap["gaussian"]
    torch.testing.assert_close(lap["prec"], torch.tensor([[[1.0], [0.25]]], dtype=F64))
    for beta, kinked, cusped in [
        (0.5, True, True), (1.0, True, True), (1.5, False, True), (1.99, False, True),
        (2.0, False, False), (2.5, False, False), (4.0, False, False),
    ]:  # fmt: skip
        params = mixture([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 3.0]], "gennorm", [[beta, 2.0]])
        prep = prepare(params)
        assert (prep["kinked"], prep["cusped"]) == (kinked, cusped), beta
        expected = torch.tensor([[1.0 * min(2 / beta, 1.0), 3.0]], dtype=F64).unsqueeze(-1)
        torch.testing.assert_close(prep["scale"], expected, rtol=1e-15, atol=0)


# --- kink_step ------------------------------------------------------------------------------


def _laplace_gamma(pi, mu, b, x):
    """Responsibilities of a 1-D Laplace mixture at ``x`` (closed form)."""
    joint = [
        math.log(p) - math.log(2 * s) - abs(x - m) / s for p, m, s in zip(pi, mu, b, strict=True)
    ]
    top = max(joint)
    w = [math.exp(j - top) for j in joint]
    return [wi / sum(w) for wi in w]


def _kink(params, x, grad, step):
    prep = prepare(params)
    t = lambda v: torch.tensor([v], dtype=F64)  # noqa: E731  one point, [1, D]
    owner = torch.zeros(1, dtype=torch.long)
    return kink_step(prep, owner, t(x), t(grad), t(step))


def test_kink_step_cuts_a_step_at_the_first_kink_it_meets():
    params = mixture([[0.5, 0.5]], [[0.0, 1.0]], [[0.5, 0.5]], "laplace")
    # From -1 a step of +3 meets the kinks at 0 (alpha 1/3) and at 1: cut at 0.
    step, snap = _kink(params, [-1.0], [1.0], [3.0])
    torch.testing.assert_close(step, torch.tensor([[1.0]], dtype=F64), rtol=1e-15, atol=0)
    assert snap.tolist() == [[[True], [False]]]
    # Backwards from 2 a step of -1.5 meets the kink at 1 first.
    step, snap = _kink(params, [2.0], [-1.0], [-1.5])
    torch.testing.assert_close(step, torch.tensor([[-1.0]], dtype=F64), rtol=1e-15, atol=0)
    assert snap.tolist() == [[[False], [True]]]
    # A step that ends short of every kink is kept whole, and marks none.
    for x, s in [(-1.0, 0.5), (-1.0, 0.999), (0.25, 0.5), (0.25, -0.2)]:
        step, snap = _kink(params, [x], [1.0], [s])
        assert step.tolist() == [[s]] and not snap.any()
    # In 2-D the kink met first (component 0, dimension 1 at alpha 1/2) is the one marked.
    params = mixture(
        [[0.5, 0.5]], [[[5.0, 0.0], [7.0, 8.0]]], [[[1.0, 1.0], [1.0, 1.0]]], "laplace"
    )
    step, snap = _kink(params, [-1.0, -1.0], [1.0, 1.0], [1.0, 2.0])
    torch.testing.assert_close(step, torch.tensor([[0.5, 1.0]], dtype=F64), rtol=1e-15, atol=0)
    assert snap.tolist() == [[[False, True], [False, False]]]


def test_kink_step_holds_a_coordinate_on_a_kink_exactly_when_it_is_a_maximum_along_it():
    # At the mean of a Laplace component the one-sided derivatives differ by the jump
    # 2 gamma / b: the coordinate is held when the (mean) derivative is at most gamma / b.
    pi, mu, b = [0.6, 0.4], [0.0, 3.0], [0.8, 1.0]
    params = mixture([pi], [mu], [b], "laplace")
    half = _laplace_gamma(pi, mu, b, 0.0)[0] / b[0]
    for ratio, held in [(0.5, True), (0.99, True), (1.01, False), (1.2, False), (1.4, False)]:
        step, snap = _kink(params, [0.0], [ratio * half], [0.5])
        assert step.tolist() == ([[0.0]] if held else [[0.5]]), ratio
        assert not snap.any()
    # gennorm: beta < 1 is a cusp (held whatever the derivative), beta = 1 a Laplace kink
    # (jump 2 gamma / sigma), beta > 1 no kink at all (never held).
    for beta, ratio, held in [(0.5, 1e6, True), (1.0, 0.9, True), (1.0, 1.2, False),
                              (1.0, 1.45, False), (1.5, 1e-3, False)]:  # fmt: skip
        params = mixture([[1.0]], [[0.0]], [[1.0]], "gennorm", [[beta]])
        step, _ = _kink(params, [0.0], [ratio], [0.5])  # gamma = 1, sigma = 1
        assert step.tolist() == ([[0.0]] if held else [[0.5]]), (beta, ratio)


# --- check_maxima ---------------------------------------------------------------------------


def test_check_maxima_tells_maxima_from_saddles_and_minima_at_any_scale():
    # The probes are in local widths: the answer must not depend on the units.
    for scale in (1e-3, 1.0, 1e3):
        # 2-D: two unit Gaussians at (+-2, 0) and a light one at the origin, a saddle there.
        params = mixture([[0.495, 0.495, 0.01]], [[[-2.0, 0.0], [2.0, 0.0], [0.0, 0.0]]],
                         torch.ones(1, 3, 2), )  # fmt: skip
        line_lp, line_slope = gaussian_1d([0.495, 0.495, 0.01], [-2.0, 2.0, 0.0], [1.0] * 3)
        x_star = bisect(line_slope, 1.0, 3.0)
        params = params.replace(mu=params.mu * scale, sigma=params.sigma * scale)
        prep = prepare(params)
        points = scale * torch.tensor([[0.0, 0.0], [x_star, 0.0], [-x_star, 0.0]], dtype=F64)
        owner = torch.zeros(3, dtype=torch.long)
        for converged in (torch.zeros(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool)):
            lp, is_max, width, escape = check_maxima(prep, owner, points, converged)
            assert is_max.tolist() == [False, True, True], (scale, converged)
            # The escape: a probe from the saddle, higher than it, along the x-axis.
            assert torch.isfinite(escape[0]).all() and torch.isnan(escape[1:]).all()
            lp_escape = derivatives(prep, owner[:1], escape[:1])[0]
            assert lp_escape > lp[0] and escape[0, 1] == 0 and escape[0, 0] != 0
            assert escape[0].abs().max() <= 1.01e-2 * width[0].max()
        # The local width: (sum_k gamma_k / sigma_k^2)^(-1/2), sigma the same for all.
        torch.testing.assert_close(width, torch.full_like(width, scale), rtol=1e-14, atol=0)
        expected = torch.tensor([line_lp(0.0), line_lp(x_star), line_lp(x_star)], dtype=F64)
        expected = expected - 0.5 * math.log(2 * math.pi) - 2 * math.log(scale)
        torch.testing.assert_close(lp, expected, rtol=1e-13, atol=1e-13)
        # 1-D: the minimum between two bumps is no maximum, the bumps' tops are.
        params = mixture([[0.5, 0.5]], [[-3 * scale, 3 * scale]], [[scale, scale]])
        top = scale * bisect(gaussian_1d([0.5, 0.5], [-3.0, 3.0], [1.0, 1.0])[1], 1.0, 4.0)
        points = torch.tensor([[0.0], [top], [-top]], dtype=F64)
        _, is_max, _, escape = check_maxima(
            prepare(params), owner, points, torch.zeros(3, dtype=torch.bool)
        )
        assert is_max.tolist() == [False, True, True], scale
        assert torch.isfinite(escape[0]).all() and torch.isnan(escape[1:]).all()


# --- ascend ---------------------------------------------------------------------------------


def test_ascend_converges_to_known_maxima():
    # A flat (quartic) top: two unit Gaussians at +-1 have l'' = 0 at the origin, and the
    # search must still locate it to the gradient's precision (about 1e-5 here, where
    # l' ~ -x^3 / 3 and float64 resolves l' to about 1e-16), with |log-density| > 1.
    for scale in (1.0, 0.01):
        params = mixture([[0.5, 0.5]], [[-scale, scale]], [[scale, scale]])
        prep = prepare(params)
        starts = scale * torch.tensor([[-0.9], [-0.3], [0.2], [0.7]], dtype=F64)
        owner = torch.zeros(4, dtype=torch.long)
        end, _ = ascend(prep, owner, starts, 200, 1e-9)  # it may stall there: no check
        assert end.abs().max() < 2e-5 * scale
    # Student-t (fixed-point steps with a line search) and Gaussians, well apart: each start
    # climbs to the mean of its own basin's component (the mode, to 1e-9 of the scale).
    for family, shape in [
        ("student_t", [[1.5, 1.5]]),
        ("gaussian", None),
        ("gennorm", [[3.0, 3.0]]),
    ]:
        params = mixture([[0.3, 0.7]], [[-20.0, 20.0]], [[1.0, 2.0]], family, shape)
        prep = prepare(params)
        starts = torch.tensor([[-21.0], [-18.5], [-19.5], [18.0], [22.0], [20.5]], dtype=F64)
        owner = torch.zeros(6, dtype=torch.long)
        end, converged = ascend(prep, owner, starts, 200, 1e-9)
        # The other component's tail moves the mode off the mean a little: find it by
        # bisection of l' (autograd of the family's log-density).
        sub = params.map(lambda v, owner=owner: v[owner])

        def slope(x, sub=sub):
            x = x.detach().requires_grad_(True)
            lp = mixture_log_prob(sub, x.unsqueeze(1)).squeeze(1)
            return torch.autograd.grad(lp.sum(), x)[0]

        lo = torch.where(starts[:, 0] < 0, -21.0, 19.0).to(F64)
        ref = lo.clone()
        hi = lo + 2.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            up = slope(mid.unsqueeze(-1)).squeeze(-1) > 0
            lo, hi = torch.where(up, mid, lo), torch.where(up, hi, mid)
        ref = 0.5 * (lo + hi)
        assert converged.all(), family
        torch.testing.assert_close(end[:, 0], ref, rtol=0, atol=1e-7)


def test_ascend_backtracks_along_the_step():
    # From a point on the outer slope of a heavy-tailed Student-t mixture the fixed-point
    # step overshoots; every accepted step must still raise the density, and with one step
    # allowed the end point is higher than the start and between it and the mode.
    params = mixture([[0.5, 0.5]], [[0.0, 0.3]], [[1.0, 0.05]], "student_t", [[1.0, 1.0]])
    prep = prepare(params)
    starts = torch.linspace(-6.0, 6.0, 49, dtype=F64).unsqueeze(-1)
    owner = torch.zeros(len(starts), dtype=torch.long)
    lp0 = derivatives(prep, owner, starts)[0]
    previous = lp0
    x = starts
    for _ in range(6):
        x, _ = ascend(prep, owner, x, 1, 1e-9)
        lp = derivatives(prep, owner, x)[0]
        assert (lp >= previous).all()
        previous = lp
    assert (previous > lp0).sum() >= len(starts) - 2
    # A generalised normal with beta = 3 far out in its tail: the fixed-point step is
    # 3 z^2 sigma long (75 from z = -5), far past the mode; halved along the step (not
    # against it) it lands where the density is higher, and the ascent ends at a mode.
    params = mixture([[0.3, 0.7]], [[-20.0, 20.0]], [[1.0, 2.0]], "gennorm", [[3.0, 3.0]])
    prep = prepare(params)
    starts = torch.tensor([[-25.0], [-23.0], [27.0], [30.0]], dtype=F64)
    owner = torch.zeros(4, dtype=torch.long)
    end, converged = ascend(prep, owner, starts, 200, 1e-9)
    assert converged.all()
    lp_end, grad_end = derivatives(prep, owner, end)[:2]
    assert (lp_end > derivatives(prep, owner, starts)[0]).all()
    assert grad_end.abs().max() < 1e-6
    assert ((end.abs() - 20).abs() < 1e-3).all()


# --- modes_nd: the walk along a line, and the starts of the extra ascents ------------------


def test_march_locates_the_minimum_and_the_next_maximum_along_a_line():
    # Along the x-axis of a 2-D mixture of two Gaussians (+ the same factor in y): from the
    # left mode down to the dip, then up to the right mode, each to tol widths.
    pi, mx, sx = [0.4, 0.6], [-2.0, 2.5], [1.0, 1.3]
    params = mixture([pi], [[[mx[0], 0.0], [mx[1], 0.0]]], [[[sx[0], 1.0], [sx[1], 1.0]]])
    lp, slope = gaussian_1d(pi, mx, sx)
    left, dip, right = bisect(slope, -3.0, -1.0), bisect(slope, -1.0, 1.5), bisect(slope, 1.5, 3.5)
    prep = prepare(params)
    owner = torch.zeros(1, dtype=torch.long)
    base = torch.tensor([[left, 0.0]], dtype=F64)
    direction = torch.tensor([[right - left, 0.0]], dtype=F64)
    t = lambda x: (x - left) / (right - left)  # noqa: E731
    tol = 1e-10
    one, zero = torch.ones(1, dtype=F64), torch.zeros(1, dtype=F64)
    start = zero + 1e-3
    point, after, found = march(
        prep, owner, (base, direction), start, one, False, 200, tol, 0.25, tol
    )
    assert found.item()
    assert abs(point.item() - t(dip)) < 1e-8 and t(dip) <= after.item() <= t(dip) + 1e-7
    assert slope(left + after.item() * (right - left)) >= 0  # past the sign change
    # The bracket is narrowed by Newton steps (bisection alone needs some 30 more): a
    # dozen steps in all locate the dip as precisely.
    few, _, found = march(prep, owner, (base, direction), start, one, False, 12, tol, 0.25, tol)
    assert found.item() and abs(few.item() - t(dip)) < 1e-8
    # Up from just past the dip (l' > 0 there) to the right mode (t = 1), before stop = 1.5.
    point, after, found = march(
        prep, owner, (base, direction), after + 1e-6, one + 0.5, True, 200, tol, 0.25, tol
    )
    assert found.item() and 1.0 <= after.item() <= 1.0 + 1e-7
    assert abs(point.item() - 1.0) < 1e-8
    # From either side of the dip, marching to a maximum (rising) that is not there before
    # `stop`: none found, the answer is `stop`.
    point, after, found = march(
        prep, owner, (base, direction), start, zero + t(dip) - 0.05, False, 200, tol, 0.25, tol
    )
    assert not found.item() and after.item() == t(dip) - 0.05
    # Already past it at the start: found at once, where it starts.
    point, after, found = march(
        prep, owner, (base, direction), zero + 0.9, one, False, 200, tol, 0.25, tol
    )
    assert found.item() and point.item() == 0.9


def _narrow_bump_line(w, s, m):
    # A broad component and, on its falling side, a narrower light one that makes a small
    # bump: along the line from the broad mode, l' goes - (dip) + (bump) - . A walk down
    # from the broad mode must stop at the dip just before the bump, never step over it.
    # (A bump much narrower, e.g. weight 0.03 and scale 0.05, is stepped over: its
    # component is not present, gamma < 1e-6, at the ends of a step, so the derivatives
    # there cannot show it; the ascent from its mean finds that mode instead.)
    pi, mu, sigma = [1 - w, w], [0.0, m], [1.0, s]
    lp, slope = gaussian_1d(pi, mu, sigma)
    # The sign changes of l' on (0, 3.5) on a fine grid, then refined.
    grid = [0.0005 * i for i in range(1, 7000)]
    signs = [slope(x) > 0 for x in grid]
    changes = [
        bisect(slope, grid[i], grid[i + 1])
        for i in range(len(grid) - 1)
        if signs[i] != signs[i + 1]
    ]
    return pi, mu, sigma, slope, changes


# The last two are just past the weight where the bump appears: its dip and top lie 0.015
# and 0.09 apart, well inside one step of a walk.
@pytest.mark.parametrize(
    "w, s, m",
    [
        (0.1, 0.3, 3.0),
        (0.03, 0.1, 3.0),
        (0.02, 0.15, 3.0),
        (0.02649, 0.3, 2.5),
        (0.08953, 0.5, 2.5),
    ],
)
def test_march_never_steps_over_a_narrow_bump(w, s, m):
    pi, mu, sigma, slope, changes = _narrow_bump_line(w, s, m)
    assert len(changes) == 2  # the dip before the bump, and the bump's top
    dip, bump = changes
    params = mixture([pi], [mu], [sigma])
    prep = prepare(params)
    owner = torch.zeros(1, dtype=torch.long)
    base, direction = torch.zeros(1, 1, dtype=F64), torch.full((1, 1), 5.0, dtype=F64)
    tol = 1e-10
    zero = torch.zeros(1, dtype=F64)
    for first in (0.25, 1.0):
        point, after, found = march(prep, owner, (base, direction), zero + 1e-4, zero + 1, False,
                                    300, tol, first, tol)  # fmt: skip
        assert found.item()
        assert abs(5 * point.item() - dip) < 1e-7, (first, 5 * point.item(), dip)
        # Up from between the dip and the bump's top (l' > 0 there) to the top.
        mid = zero + (dip + bump) / 10
        point, _, found = march(
            prep, owner, (base, direction), mid, zero + 1, True, 300, tol, first, tol
        )
        assert found.item()
        assert abs(5 * point.item() - bump) < 1e-7


def test_march_many_lines_at_once_match_one_at_a_time():
    # Random 1-D two- and three-component lines: every walk down from the left end (a
    # maximum) stops at the first sign change of l', found on a dense grid and bisected.
    g = torch.Generator().manual_seed(5)
    A, K = 40, 3
    mu = torch.sort(4 * torch.rand(A, K, generator=g, dtype=F64), -1).values
    sigma = 0.05 + 0.5 * torch.rand(A, K, generator=g, dtype=F64)
    pi = torch.softmax(torch.randn(A, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, sigma)
    prep = prepare(params)
    owner = torch.arange(A)
    lo, hi = mu[:, 0] - 1.0, mu[:, -1] + 1.0
    base, direction = lo.unsqueeze(-1), (hi - lo).unsqueeze(-1)
    zero, one = torch.zeros(A, dtype=F64), torch.ones(A, dtype=F64)
    tol = 1e-10
    point, after, found = march(
        prep, owner, (base, direction), zero, one, True, 400, tol, 0.25, tol
    )

    def slope(x):  # l' of every line at x [A, G], closed form
        z = (x.unsqueeze(1) - mu.unsqueeze(-1)) / sigma.unsqueeze(-1)  # [A, K, G]
        gamma = torch.softmax((pi.log() - sigma.log()).unsqueeze(-1) - 0.5 * z * z, 1)
        return (gamma * -z / sigma.unsqueeze(-1)).sum(1)

    xs = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * torch.linspace(0, 1, 20001, dtype=F64)
    f = slope(xs)
    first = ((f[:, :-1] > 0) & ~(f[:, 1:] > 0)).int().argmax(-1)
    a_, b_ = xs.gather(1, first[:, None]), xs.gather(1, first[:, None] + 1)
    for _ in range(100):
        mid = 0.5 * (a_ + b_)
        up = slope(mid) > 0
        a_, b_ = torch.where(up, mid, a_), torch.where(up, b_, mid)
    ref = ((0.5 * (a_ + b_))[:, 0] - lo) / (hi - lo)
    assert found.all()
    torch.testing.assert_close(point, ref, rtol=0, atol=1e-8)
    assert (after >= point - 1e-12).all()


def test_fixed_starts_are_the_documented_points():
    # Points i/8 (i = 1..7) of each segment, of the segment between every pair of
    # components closer than 4 times the sum of their scales, and the mean +- 1 and 2 times
    # each axis of its component and each diagonal (a_i +- a_j) / sqrt(2).
    tril = torch.tensor([[[[1.0, 0.0], [0.5, 2.0]], [[0.3, 0.0], [-0.2, 0.4]], [[1.0, 0.0], [0.0, 1.0]]]],
                        dtype=F64)  # fmt: skip
    mu = torch.tensor([[[0.0, 0.0], [3.0, 1.0], [40.0, -7.0]]], dtype=F64)
    sigma = tril.pow(2).sum(-1).sqrt()
    params = mixture([[0.3, 0.3, 0.4]], mu, sigma, scale_tril=tril)
    family = get_family("gaussian")
    base = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=F64)
    direction = torch.tensor([[4.0, -2.0], [0.5, 0.25]], dtype=F64)
    n_g = torch.zeros(2, dtype=torch.long)
    found_n, found_x = fixed_starts(params, family, n_g, base, direction)
    frac = torch.arange(1, 8, dtype=F64) / 8
    segments = (base.unsqueeze(1) + frac.view(1, -1, 1) * direction.unsqueeze(1)).reshape(-1, 2)
    torch.testing.assert_close(found_x[0], segments, rtol=0, atol=1e-15)
    # Only components 0 and 1 are close (|gap / (s0 + s1)| < 4).
    close = mu[0, 0] + frac.unsqueeze(-1) * (mu[0, 1] - mu[0, 0])
    torch.testing.assert_close(found_x[1], close, rtol=0, atol=1e-15)
    axes = tril[0].transpose(-1, -2)  # [K, axis, D]
    ways = [axes[:, 0], axes[:, 1], (axes[:, 0] + axes[:, 1]) / math.sqrt(2),
            (axes[:, 0] - axes[:, 1]) / math.sqrt(2)]  # fmt: skip
    ways = torch.stack(ways, 1)
    ways = torch.cat([ways, -ways, 2 * ways, -2 * ways], 1)  # [K, 16, D]
    torch.testing.assert_close(
        found_x[2], (mu[0].unsqueeze(1) + ways).reshape(-1, 2), rtol=0, atol=1e-15
    )
    assert [len(n) for n in found_n] == [14, 7, 48] and all((n == 0).all() for n in found_n)
    # 3-D, diagonal: the three axes and the six diagonals (a_i +- a_j) / sqrt(2).
    sigma = torch.tensor([[[1.0, 2.0, 3.0]]], dtype=F64)
    params = mixture([[1.0]], torch.zeros(1, 1, 3), sigma)
    _, found_x = fixed_starts(
        params, family, n_g[:0], base[:0, :1].expand(0, 3), direction[:0, :1].expand(0, 3)
    )
    s = sigma[0, 0]
    r2 = math.sqrt(2)
    ways = torch.stack([
        torch.tensor([s[0], 0, 0]), torch.tensor([0, s[1], 0]), torch.tensor([0, 0, s[2]]),
        torch.tensor([s[0], s[1], 0]) / r2, torch.tensor([s[0], 0, s[2]]) / r2,
        torch.tensor([0, s[1], s[2]]) / r2, torch.tensor([s[0], -s[1], 0]) / r2,
        torch.tensor([s[0], 0, -s[2]]) / r2, torch.tensor([0, s[1], -s[2]]) / r2,
    ]).to(F64)  # fmt: skip
    ways = torch.cat([ways, -ways, 2 * ways, -2 * ways])
    torch.testing.assert_close(found_x[2], ways, rtol=0, atol=1e-15)


def test_segment_starts_walks_to_the_dip_between_two_modes_and_stops_at_the_right_one():
    # Two modes along x: the walk adds exactly one point (the dip, where an ascent would
    # look for a mode off the segment) beyond the fixed starts; a third mode in between adds
    # the dips on both sides of it and the middle mode itself.
    for pi, mx, sx, dips, tops in [
        ([0.4, 0.6], [-2.0, 2.5], [1.0, 1.3], [(-1.0, 1.5)], []),
        (
            [0.4, 0.2, 0.4],
            [-4.0, 0.0, 4.0],
            [1.0, 1.0, 1.0],
            [(-3.0, -1.0), (1.0, 3.0)],
            [(-1.0, 1.0)],
        ),
    ]:
        K = len(pi)
        params = mixture([pi], [[[m, 0.0] for m in mx]], [[[s, 1.0] for s in sx]])
        _, slope = gaussian_1d(pi, mx, sx)
        left, right = bisect(slope, mx[0] - 1, mx[0] + 1), bisect(slope, mx[-1] - 1, mx[-1] + 1)
        points = torch.tensor([[[left, 0.0], [right, 0.0]]], dtype=F64)
        distinct = torch.ones(1, 2, dtype=torch.bool)
        width = derivatives(prepare(params), torch.zeros(2, dtype=torch.long), points[0])[
            3
        ].unsqueeze(0)
        n, x = segment_starts(prepare(params), params, points, distinct, width, 200, 1e-9, 1e-2)
        fixed = sum(len(v) for v in fixed_starts(params, get_family("gaussian"), torch.zeros(1, dtype=torch.long),
                                                  points[:, 0], points[:, 1] - points[:, 0])[0])  # fmt: skip
        walked = x[fixed:]
        # A dip is reported as a point just past it (anywhere in the first bracket: l' >= 0
        # there, short of the next maximum); a maximum short of the right end to about
        # 1e-3 widths (an ascent finishes the job).
        dips = [bisect(slope, a, b) for a, b in dips]
        tops = [bisect(slope, a, b) for a, b in tops]
        assert (n == 0).all() and len(walked) == len(dips) + len(tops), (K, walked)
        assert (walked[:, 1] == 0).all()
        got = walked[:, 0].sort().values.tolist()
        expected = sorted([(x, "dip") for x in dips] + [(x, "top") for x in tops])
        following = [x for x, _ in expected[1:]] + [right]
        for x, (ref, kind), upto in zip(got, expected, following, strict=True):
            if kind == "top":
                assert abs(x - ref) < 1e-3
            else:
                assert ref <= x < upto and slope(x) >= 0


def test_march_walks_every_sign_change_of_random_lines_in_order():
    # Random 1-D mixtures of four components, some narrow and light (shoulders, small bumps
    # and near misses, where a step could pass two sign changes): walking the whole line,
    # alternately up to the next maximum and down to the next minimum, visits every sign
    # change of l' that a dense grid shows, in order, each to 1e-7.
    g = torch.Generator().manual_seed(12)
    A, K, G = 150, 4, 40001
    mu = 4 * torch.rand(A, K, generator=g, dtype=F64)
    sigma = 0.08 + 0.6 * torch.rand(A, K, generator=g, dtype=F64) ** 2
    pi = torch.softmax(1.5 * torch.randn(A, K, generator=g, dtype=F64), -1)
    params = mixture(pi, mu, sigma)
    prep = prepare(params)
    lo, hi = mu.min(-1).values - 1.0, mu.max(-1).values + 1.0

    def slope(x):  # l' of every line at x [A, G], closed form
        z = (x.unsqueeze(1) - mu.unsqueeze(-1)) / sigma.unsqueeze(-1)  # [A, K, G]
        gamma = torch.softmax((pi.log() - sigma.log()).unsqueeze(-1) - 0.5 * z * z, 1)
        return (gamma * -z / sigma.unsqueeze(-1)).sum(1)

    xs = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * torch.linspace(0, 1, G, dtype=F64)
    f = slope(xs)
    change = (f[:, :-1] > 0) != (f[:, 1:] > 0)
    # Bisect every sign change at once: row r, between grid points c and c + 1.
    r, c = change.nonzero().unbind(-1)

    def slope_at(x):  # l' of line r[i] at x[i]
        z = (x.unsqueeze(-1) - mu[r]) / sigma[r]  # [P, K]
        gamma = torch.softmax(pi[r].log() - sigma[r].log() - 0.5 * z * z, -1)
        return (gamma * -z / sigma[r]).sum(-1)

    a_, b_ = xs[r, c], xs[r, c + 1]
    up0 = slope_at(a_) > 0
    for _ in range(100):
        mid = 0.5 * (a_ + b_)
        same = (slope_at(mid) > 0) == up0
        a_, b_ = torch.where(same, mid, a_), torch.where(same, b_, mid)
    t_ref = (0.5 * (a_ + b_) - lo[r]) / (hi[r] - lo[r])
    refs = [t_ref[r == a].tolist() for a in range(A)]  # in order: c ascends within a row
    base, direction = lo.unsqueeze(-1), (hi - lo).unsqueeze(-1)
    owner = torch.arange(A)
    start, stop = torch.zeros(A, dtype=F64), torch.ones(A, dtype=F64)
    tol = 1e-9
    walked = [[] for _ in range(A)]
    rising = True  # l' > 0 at the left end of the range
    alive = torch.ones(A, dtype=torch.bool)
    for _ in range(2 * K + 2):
        point, after, found = march(
            prep, owner, (base, direction), start, stop, rising, 400, tol, 0.25, tol
        )
        found &= alive
        for a in found.nonzero().squeeze(-1).tolist():
            walked[a].append(point[a].item())
        alive = found
        # On from just past it (`after` is past it too, but at the limit of rounding where
        # the extremum is flat; the sign changes here are over 1e-5 apart).
        start = torch.where(found, torch.maximum(after, point + 1e-7), stop)
        rising = not rising
    assert sum(len(r) for r in refs) > 3 * A  # plenty of sign changes to find
    assert min(v - u for r in refs for u, v in zip(r, r[1:], strict=False)) > 1e-5
    bad = [a for a in range(A) if len(walked[a]) != len(refs[a])
           or max((abs(u - v) for u, v in zip(walked[a], refs[a], strict=True)), default=0) > 1e-7]  # fmt: skip
    assert not bad, [(a, walked[a], refs[a]) for a in bad[:3]]


def test_von_mises_breaks_are_the_extrema_of_f1_and_f2_on_a_dense_grid():
    """Catches a wrong von Mises break (the extrema of f' and f'' of e^(kappa cos d), the
    roots of kappa c^2 + c - kappa and kappa^2 c^2 + 3 kappa c + 1 - kappa^2 in cos d)."""
    from mdn_src.inference.modes_1d import break_points

    kappas = [0.2, 0.9, 3.0, 40.0]
    sigma = [[k**-0.5 for k in kappas]]
    params = mixture([[1.0] * 4], [[0.0] * 4], sigma, family="von_mises")
    breaks = break_points(params)[0]  # [K, B]
    d = torch.linspace(-math.pi, math.pi, 400_001, dtype=F64)[1:-1]
    for k, kappa in enumerate(kappas):
        c, s = d.cos(), d.sin()
        f2 = kappa**2 * s**2 - kappa * c  # f'' / f
        f3 = kappa * s * (kappa**2 * c**2 + 3 * kappa * c + 1 - kappa**2)  # f''' / f
        grid = []
        for g in (f2, f3):
            change = (g[:-1] > 0) != (g[1:] > 0)
            grid += (0.5 * (d[:-1] + d[1:]))[change].tolist()
        got = [b for b in breaks[k].tolist() if abs(b) > 1e-12 and abs(abs(b) - math.pi) > 1e-12]
        grid = [g for g in grid if abs(g) > 1e-4]  # 0 is the mean, listed apart
        assert sorted(got) == pytest.approx(sorted(grid), abs=1e-4), (kappa, got, grid)
        assert math.pi in breaks[k].tolist() and 0.0 in breaks[k].tolist()


def test_march_narrows_a_bracket_by_newton_steps_within_20_iterations():
    """Catches the bracket narrowed by bisection alone or by Newton steps from the wrong point
    (some 30 iterations more): on 150 random lines, up to the first maximum and down to the
    next minimum, 20 iterations reach what 400 do, to 1e-9."""
    g = torch.Generator().manual_seed(12)
    A, K = 150, 4
    mu = 4 * torch.rand(A, K, generator=g, dtype=F64)
    sigma = 0.08 + 0.6 * torch.rand(A, K, generator=g, dtype=F64) ** 2
    pi = torch.softmax(1.5 * torch.randn(A, K, generator=g, dtype=F64), -1)
    prep = prepare(mixture(pi, mu, sigma))
    lo, hi = mu.min(-1).values - 1.0, mu.max(-1).values + 1.0
    line = (lo.unsqueeze(-1), (hi - lo).unsqueeze(-1))
    owner, one = torch.arange(A), torch.ones(A, dtype=F64)
    start = torch.zeros(A, dtype=F64)
    for rising in (True, False):
        ref, _, found = march(prep, owner, line, start, one, rising, 400, 1e-10, 0.25, 1e-10)
        point, _, quick = march(prep, owner, line, start, one, rising, 20, 1e-10, 0.25, 1e-10)
        assert found.sum() >= 140 and torch.equal(quick, found)
        assert ((point - ref).abs()[found] < 1e-9).all()
        start = torch.where(found, ref + 1e-7, one)  # on from just past the maximum


def test_quintic_slope_is_exact_for_any_quintic():
    """Catches a wrong coefficient in the quintic (Hermite) estimate of l' within a step: for a
    polynomial of degree five it is exact."""
    import numpy as np

    from mdn_src.inference.modes_nd import quintic_slope

    u = torch.linspace(0.05, 0.95, 19, dtype=F64)
    weights = quintic_slope(u)
    assert weights.shape == (5, 19)
    rng = np.random.default_rng(4)
    for x, s in [(0.0, 1.0), (0.3, 1.7), (-2.0, 0.05)]:
        p = np.polynomial.Polynomial(rng.normal(size=6))
        d1, d2 = p.deriv(1), p.deriv(2)
        ends = [x, x + s]
        terms = [p(ends[0]) - p(ends[1]), s * d1(ends[0]), s * s * d2(ends[0]),
                 s * s * d2(ends[1]), s * d1(ends[1])]  # fmt: skip
        estimate = (torch.tensor(terms, dtype=F64) @ weights).numpy()
        np.testing.assert_allclose(estimate, s * d1(x + u.numpy() * s), rtol=1e-9, atol=1e-9)
