r"""The complete mode search in one dimension (internal to ``modes``).

Everything here is internal API: ``__all__`` is empty, and only ``modes`` imports
:func:`axis_maxima`.

In one dimension every local maximum of a mixture is a sign change of the derivative of its
density :math:`p'(t) = \sum_k \pi_k f_k'(t)` from ``+`` to ``-``, and for components that are
symmetric and unimodal every one lies between the smallest and the largest mean (on the
circle, anywhere). :func:`axis_maxima` finds them all by certified bisection of cells:

* The first cells lie between consecutive *break points*: every mean, and the points
  where some component's :math:`f_k'` or :math:`f_k''` has an extremum (:func:`break_points`).
  On a cell free of break points each :math:`f_k'` and :math:`f_k''` is monotone, so its
  range there is the interval between its values at the two ends, and the sum of those
  ranges bounds the range of :math:`p'` and of :math:`p''` on the cell.
* A cell is settled when the bounds prove it holds no sign change of :math:`p'` (the range
  of :math:`p'` excludes 0, or the lower envelope that the bounds on :math:`p''` give
  from both ends stays above 0), or at most one (the range of :math:`p''` excludes 0,
  so :math:`p'` is monotone there): then a sign change from ``+`` to ``-`` between its ends
  is a maximum, located by bisection. Any other cell is halved, down to a width of ``tol``
  times the narrowest scale of the mixture; a cell that narrow whose ends still change sign
  from ``+`` to ``-`` counts as one maximum (at its middle), and one whose ends do not, as
  none.
* A kink at a mean (Laplace; generalised normal with ``beta <= 1``) is a maximum when the
  one-sided derivatives there change sign from ``+`` to ``-``.

So, up to float64 rounding of the sign of :math:`p'` and of the bounds, every maximum is
found, except a maximum that lies, together with a minimum beside it, inside one cell
narrower than ``tol`` times the narrowest scale (a bump that shallow and that narrow); and
no point that is found lies outside a cell where :math:`p'` changes sign. Densities are
scaled per cell by the largest term at its ends, so no term underflows where it matters.
"""

from __future__ import annotations

import math

import torch

from ..mixture import MixtureParameters, log_joint

__all__: list[str] = []

#: Most rounds of halving (a cell of the range's width reaches 2^-200 of it first); a cell
#: still open then counts as one at the floor.
_ROUNDS = 200
#: Bisection steps that locate a maximum in a settled cell (its width times 2^-60).
_BISECT = 60
#: Bounds within this much (relative to the largest term) of zero prove nothing.
_ROUNDING = 1e-14


def _acos_or_zero(c):  # pragma: no mutate (why: |c| > 1 means 0 or pi, both listed already)
    """``acos(c)`` where ``|c| <= 1`` (clamped against rounding), else 0."""
    return torch.where(c.abs() <= 1, c.clamp(-1, 1).acos(), 0.0)


def break_points(params: MixtureParameters) -> torch.Tensor:
    """Each component's break points, as offsets from its mean in its scales: ``[N, K, B]``.

    Where its :math:`f_k'` or :math:`f_k''` has an extremum, besides the mean (0): for a
    Gaussian at 1 and :math:`\\sqrt 3`; for Student's t with :math:`\\nu` degrees of freedom
    at :math:`\\sqrt{\\nu / (\\nu + 2)}` and :math:`\\sqrt{3 \\nu / (\\nu + 2)}`; for the
    generalised normal (:math:`e^{-|z|^\\beta}`, ``beta > 1``) where :math:`|z|^\\beta` is
    :math:`(\\beta - 1) / \\beta` or a root of
    :math:`\\beta^2 u^2 - 3 \\beta (\\beta - 1) u + (\\beta - 1)(\\beta - 2)`; for the von Mises
    (:math:`e^{\\kappa \\cos d}`) where :math:`\\cos d` is
    :math:`(\\sqrt{1 + 4 \\kappa^2} - 1) / (2 \\kappa)` or
    :math:`(-3 \\pm \\sqrt{5 + 4 \\kappa^2}) / (2 \\kappa)` (in ``[-1, 1]``), and at pi (offsets
    in radians). A Laplace component's pieces are monotone on each side of its mean.
    Offsets that do not apply are 0 (the mean again).
    """
    family, sigma = params.family, params.sigma[..., 0]  # [N, K]
    zero = torch.zeros_like(sigma)
    if family == "gaussian":
        z = [zero + 1.0, zero + math.sqrt(3.0)]
    elif family == "student_t":
        nu = params.shape_param
        z = [(nu / (nu + 2)).sqrt(), (3 * nu / (nu + 2)).sqrt()]
    elif family == "gennorm":
        beta = params.shape_param
        root = ((beta - 1) * (5 * beta - 1)).clamp_min(0).sqrt()
        u = [(beta - 1) / beta]
        u += [(3 * (beta - 1) + s * root) / (2 * beta) for s in (1.0, -1.0)]
        z = [torch.where((beta > 1) & (v > 0), v.clamp_min(0) ** (1 / beta), 0.0) for v in u]
    elif family == "von_mises":
        kappa = sigma.pow(-2)
        cos = [((1 + 4 * kappa**2).sqrt() - 1) / (2 * kappa)]
        # (-3 - sqrt(5 + 4 kappa^2)) / (2 kappa) < -1 for every kappa: never an angle.
        cos += [(-3 + (5 + 4 * kappa**2).sqrt()) / (2 * kappa)]
        angles = [_acos_or_zero(c) for c in cos]
        return torch.stack([zero, zero + math.pi] + angles + [-a for a in angles], -1)
    else:  # laplace
        z = []
    z = torch.stack([zero] + z, -1)  # [N, K, B]
    return torch.cat([z, -z[..., 1:]], -1)


def _scores(params: MixtureParameters, x: torch.Tensor, side: float):
    """Each component's log-density slope :math:`s_k = (\\log f_k)'` and its derivative at
    ``x`` ``[A]`` (``params`` holding one mixture per point): ``[A, K]`` each.

    At a component's own mean the one-sided limits from ``side`` (+1 right, -1 left): a
    Laplace slope jumps there, a generalised normal's is infinite for ``beta < 1``, and
    its derivative is infinite for ``beta < 2``.
    """
    mu, sigma = params.mu[..., 0], params.sigma[..., 0]  # [A, K]
    z = (x.unsqueeze(-1) - mu) / sigma
    sign = torch.where(z == 0, side, torch.sign(z))
    if params.family == "gaussian":
        return -z / sigma, (-1 / sigma.pow(2)).expand_as(z)
    if params.family == "laplace":
        return -sign / sigma, torch.zeros_like(z)
    if params.family == "student_t":
        nu = params.shape_param
        s = -(nu + 1) * z / (nu + z * z) / sigma
        return s, -(nu + 1) * (nu - z * z) / (nu + z * z).pow(2) / sigma.pow(2)
    if params.family == "gennorm":
        beta, r = params.shape_param, z.abs()
        s = -beta * r.pow(beta - 1) * sign / sigma
        ds = -beta * (beta - 1) * r.pow(beta - 2) / sigma.pow(2)
        return s, torch.where(beta == 1, 0.0, ds)
    kappa = sigma.pow(-2)  # von_mises
    d = x.unsqueeze(-1) - mu
    return -kappa * torch.sin(d), -kappa * torch.cos(d)


def _terms(params: MixtureParameters, owner, x, side: float):
    """The terms :math:`\\pi_k f_k'` and :math:`\\pi_k f_k''` of mixture ``owner[a]`` at
    ``x[a]``, scaled by :math:`e^{-c}` with ``c`` the largest :math:`\\log \\pi_k f_k` there:
    ``[A, K]``, ``[A, K]`` and ``c`` ``[A]``."""
    if x.numel() == 0:  # (torch's Laplace cannot reshape an empty batch)
        empty = x.new_zeros((0, params.mu.shape[1]))
        return empty, empty, x.new_zeros(0)
    sub = params.map(lambda v: v[owner])
    joint = log_joint(sub, x.view(-1, 1, 1)).squeeze(1)  # [A, K]
    c = joint.amax(-1)
    weight = torch.exp(joint - c.unsqueeze(-1))
    s, ds = _scores(sub, x, side)
    first = torch.where(weight > 0, weight * s, 0.0)
    second = torch.where(weight > 0, weight * (ds + s * s), 0.0)
    return first, second, c


def _rescale(ends_a, ends_b):
    """The terms at both ends of each cell on one scale (the larger of the two)."""
    (t1a, t2a, ca), (t1b, t2b, cb) = ends_a, ends_b
    c = torch.maximum(ca, cb)
    ra, rb = torch.exp(ca - c).unsqueeze(-1), torch.exp(cb - c).unsqueeze(-1)
    return t1a * ra, t2a * ra, t1b * rb, t2b * rb


def _judge(ends_a, ends_b, width, floor):
    """Settle each cell: returns "settled", "holds a maximum" (a sign change from + to -
    between its ends, where settled) and "at the floor" (settled unresolved), ``[A]``."""
    t1a, t2a, t1b, t2b = _rescale(ends_a, ends_b)
    fa, fb = t1a.sum(-1), t1b.sum(-1)
    nan_to = lambda v, fill: torch.nan_to_num(v, nan=fill)  # noqa: E731
    f_lo = nan_to(torch.minimum(t1a, t1b).sum(-1), -math.inf)
    f_hi = nan_to(torch.maximum(t1a, t1b).sum(-1), math.inf)
    g_lo = nan_to(torch.minimum(t2a, t2b).sum(-1), -math.inf)
    g_hi = nan_to(torch.maximum(t2a, t2b).sum(-1), math.inf)
    size = torch.maximum(t1a.abs(), t1b.abs()).sum(-1)
    slack = _ROUNDING * torch.where(torch.isfinite(size), size, 0.0)
    empty = (f_lo > slack) | (f_hi < -slack)  # p' keeps one sign
    monotone = (g_lo >= 0) | (g_hi <= 0)  # p' changes sign at most once
    # The lower envelope of +-p' from both ends (p'' within [g_lo, g_hi], g_lo < 0 < g_hi)
    # stays above zero: no sign change.
    sign = torch.where(fa > 0, 1.0, -1.0)
    ea, eb = sign * fa, sign * fb
    lo, hi = torch.where(sign > 0, g_lo, -g_hi), torch.where(sign > 0, g_hi, -g_lo)
    at = ((eb - ea - hi * width) / (lo - hi)).clamp(min=0).minimum(width)
    bottom = ea + lo * at
    clear = (ea > 0) & (eb > 0) & (lo < 0) & (hi > 0) & (bottom > slack)
    floored = ~(empty | monotone | clear) & (width <= floor)
    settled = empty | monotone | clear | floored
    has_max = (monotone | floored) & ~empty & (fa > 0) & ~(fb > 0)
    return settled, has_max, floored


def _first_cells(params: MixtureParameters):
    """The break points of each mixture, sorted: ``[N, P]``; and the range ``[N]`` x 2.

    On the line: from the smallest mean to the largest, widened by the narrowest scale (the
    derivative has one sign beyond them); on the circle, from -pi to pi.
    """
    mu, sigma = params.mu[..., 0], params.sigma[..., 0]
    offsets = break_points(params)
    if params.family == "von_mises":
        points = (mu.unsqueeze(-1) + offsets).flatten(1)
        points = math.pi - torch.remainder(math.pi - points, 2 * math.pi)
        lo, hi = torch.full_like(mu[:, 0], -math.pi), torch.full_like(mu[:, 0], math.pi)
    else:
        points = (mu.unsqueeze(-1) + sigma.unsqueeze(-1) * offsets).flatten(1)
        narrowest = sigma.min(-1).values
        # Beyond the extreme means every component falls: the margin is a guard.
        lo = mu.min(-1).values - narrowest  # pragma: no mutate (why: see above)
        hi = mu.max(-1).values + narrowest  # pragma: no mutate (why: see above)
    points = torch.cat([lo.unsqueeze(-1), points, hi.unsqueeze(-1)], -1)
    points = torch.minimum(torch.maximum(points, lo.unsqueeze(-1)), hi.unsqueeze(-1))
    return points.sort(-1).values


def _locate(params, owner, a, b, steps: int = _BISECT):
    """Bisect each cell ``[a, b]`` where p' goes from + to - down to its sign change."""
    for _ in range(steps):
        mid = 0.5 * (a + b)
        first, _, _ = _terms(params, owner, mid, 1.0)
        up = first.sum(-1) > 0  # pragma: no mutate (why: > and >= differ only at p' == 0 exactly)
        a, b = torch.where(up, mid, a), torch.where(up, b, mid)
    return 0.5 * (a + b)


def axis_maxima(params: MixtureParameters, tol: float):
    """Every local maximum of each 1-D mixture (float64 ``params``, ``D = 1``), found by
    certified bisection of cells (see the module's docstring).

    Returns the mixture of each maximum and its place, ``[A]`` each (a maximum may appear
    twice where a cell ends on it).
    """
    N = params.mu.shape[0]
    points = _first_cells(params)  # [N, P]
    P = points.shape[1]
    floor = tol * params.sigma[..., 0].min(-1).values  # [N]
    owner = torch.arange(N, device=points.device).repeat_interleave(P)
    flat = points.reshape(-1)
    right_of = _terms(params, owner, flat, 1.0)  # one-sided at every break point
    left_of = _terms(params, owner, flat, -1.0)
    if params.family == "von_mises":  # -pi is pi again: one value, whatever the rounding
        first = torch.arange(N, device=flat.device) * P
        last = first + P - 1
        for to, by in zip(right_of, left_of, strict=True):
            to[first] = by[last]
    found_n, found_x = [], []
    # A kink: the one-sided derivatives change sign from + to - at a break point (where they
    # differ: at a Laplace or generalised normal mean; the von Mises density is smooth).
    kink = (left_of[0].sum(-1) > 0) & ~(right_of[0].sum(-1) > 0)
    kink &= params.family != "von_mises"
    found_n.append(owner[kink])
    found_x.append(flat[kink])
    # The first cells: between consecutive distinct break points.
    start = torch.arange(N * P, device=points.device).view(N, P)[:, :-1].reshape(-1)
    keep = flat[start + 1] > flat[start]
    cell_n, a, b = owner[start][keep], flat[start][keep], flat[start + 1][keep]
    ends_a = tuple(v[start][keep] for v in right_of)
    ends_b = tuple(v[start + 1][keep] for v in left_of)
    for _ in range(_ROUNDS):
        if cell_n.numel() == 0:
            break
        settled, has_max, floored = _judge(ends_a, ends_b, b - a, floor[cell_n])
        locate = has_max & ~floored
        found_n += [cell_n[locate], cell_n[has_max & floored]]
        found_x.append(_locate(params, cell_n[locate], a[locate], b[locate]))
        found_x.append(0.5 * (a + b)[has_max & floored])
        # Halve the others; the middle is a smooth point (no mean), one evaluation serves
        # both halves.
        go = ~settled
        cell_n, a, b = cell_n[go], a[go], b[go]
        ends_a, ends_b = tuple(v[go] for v in ends_a), tuple(v[go] for v in ends_b)
        mid = 0.5 * (a + b)
        at_mid = _terms(params, cell_n, mid, 1.0)
        cell_n = torch.cat([cell_n, cell_n])
        a, b = torch.cat([a, mid]), torch.cat([mid, b])
        ends_a = tuple(torch.cat([u, m]) for u, m in zip(ends_a, at_mid, strict=True))
        ends_b = tuple(torch.cat([m, v]) for m, v in zip(at_mid, ends_b, strict=True))
    if cell_n.numel():  # (not reached: float64 cells stop halving long before)
        t1a, _, t1b, _ = _rescale(ends_a, ends_b)
        last = (t1a.sum(-1) > 0) & ~(t1b.sum(-1) > 0)
        found_n.append(cell_n[last])
        found_x.append(0.5 * (a + b)[last])
    return torch.cat(found_n), torch.cat(found_x)
