r"""Predictions from a mixture: samples, modes, mean and variance -- all vectorised.

No function here loops in Python over points, samples or components; the only loop is the
fixed-point iteration of :func:`conditional_modes`, whose every step treats all points and
all starting points at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._checks import positive_float, positive_int
from .mixture import MixtureParameters, check_params, component_moments, log_joint, select


def sample(
    params: MixtureParameters,
    n_samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``n_samples`` targets for each of the ``N`` inputs.

    Each sample first picks one component with probabilities ``pi``, then draws all ``D``
    of its dimensions from that component (ancestral sampling, PRML §8.1.2).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family.
        n_samples: number ``S`` of samples per input.
        generator: a seeded ``torch.Generator`` for reproducible draws.

    Returns:
        Samples, ``[S, N, D]``.
    """
    params = check_params(params).detach()
    S = positive_int(n_samples, "n_samples")
    component = torch.multinomial(params.pi, S, replacement=True, generator=generator).T  # [S, N]
    chosen = select(params, component)  # mu, sigma, shape, scale_tril of each draw: [S, N, ...]
    return params.components.sample(*chosen, generator)  # [S, N, D]


def approximate_mode(params: MixtureParameters) -> torch.Tensor:
    """The mean of the most probable component for each input, ``[N, D]``.

    A cheap stand-in for the conditional mode (PRML p. 277), close to it when the components
    are well apart and of similar width (a wide component with the largest pi can still be
    lower than a narrow one); see :func:`conditional_modes` for the real thing.
    """
    params = check_params(params).detach()
    log_pi, mu = params.log_pi, params.mu
    best = log_pi.argmax(-1)  # [N]
    return mu[torch.arange(mu.shape[0], device=mu.device), best]  # [N, D]


def mixture_mean(params: MixtureParameters) -> torch.Tensor:
    r""":math:`E[t \mid x] = \sum_k \pi_k\, E_k[t]`, ``[N, D]``.

    Raises ``ValueError`` for a family whose components have no mean (``von_mises``, or
    ``student_t`` with ``df <= 1``).
    """
    params = check_params(params).detach()
    mean_k, _ = _moments(params, need_variance=False)
    return (params.pi.unsqueeze(-1) * mean_k).sum(1)


def mixture_variance(params: MixtureParameters) -> torch.Tensor:
    r"""Per-dimension variance :math:`\sum_k \pi_k (\operatorname{Var}_k + (E_k - E)^2)`, ``[N, D]``.

    Raises ``ValueError`` for a family whose components have no variance.
    """
    params = check_params(params).detach()
    mean_k, var_k = _moments(params)
    pi = params.pi.unsqueeze(-1)  # [N, K, 1]
    mean = (pi * mean_k).sum(1)
    # Centre first: sum_k pi_k (var_k + (mean_k - mean)^2) avoids cancellation.
    return (pi * (var_k + (mean_k - mean.unsqueeze(1)).pow(2))).sum(1)


def _moments(params: MixtureParameters, need_variance: bool = True):
    family = params.components
    if not need_variance:
        args = (params.mu, params.sigma, params.shape, params.scale_tril)
        return family.mean(*args), None
    return component_moments(params)


class Modes(NamedTuple):
    """Local maxima of each input's mixture density.

    Each row holds ``C`` candidate points: the end points of the ``K`` ascents (one from
    every component mean) and, in one dimension, any maximum that the search between
    neighbouring maxima added. ``C = K`` unless a mixture has more distinct modes than
    components, which no ascent from the means can produce but the one-dimensional search
    can (``C`` is then the largest number of modes of any row). Each row is sorted: first
    the distinct modes, highest first, then the rest (repeats of a mode, and end points
    that are not maxima) by density.

    Attributes:
        location: the candidate points, sorted as above, ``[N, C, D]``.
        log_density: the mixture's log-density there, ``[N, C]``.
        distinct: True for each distinct local maximum (one per mode), ``[N, C]``;
            ``location[distinct]`` lists every mode once, and the True entries of each row
            come first.
        highest: the global mode of each mixture, ``[N, D]``.
    """

    location: torch.Tensor
    log_density: torch.Tensor
    distinct: torch.Tensor
    highest: torch.Tensor

    @property
    def count(self) -> torch.Tensor:
        """Number of distinct modes of each mixture, ``[N]``."""
        return self.distinct.sum(-1)

    def significant(self, ratio: float = 0.01) -> torch.Tensor:
        """Mask ``[N, C]`` of the distinct modes at least ``ratio`` times as high as the highest.

        A mixture fitted with many narrow components has tiny bumps where unused components
        sit far from the data; they are true local maxima, but rarely worth drawing.
        """
        ratio = positive_float(ratio, "ratio")
        top = self.log_density.max(-1, keepdim=True).values
        return self.distinct & (self.log_density >= top + math.log(ratio))


#: Probe lengths, in local widths, of the test that an end point is a maximum.
_PROBES = (1e-3, 1e-2)
#: A probe "rises" when it is higher than the end point by more than this (relative to
#: ``1 + |log-density|``): float64 rounding of a log-sum-exp stays far below it.
_SLACK = 1e-12
#: Most local widths one Newton step may move, and one step of the 1-D search between maxima.
_MAX_STEP = 1.0


def conditional_modes(
    params: MixtureParameters, max_iter: int = 200, tol: float = 1e-9, merge_tol: float = 1e-2
) -> Modes:
    r"""Find every local maximum of each mixture's density, in any dimension and family.

    The conditional mode has no closed form (PRML p. 277). From every component mean this
    climbs the mixture's log-density :math:`\ell(t)`: a Newton step where the Hessian is
    negative definite and the step is at most one local width, otherwise the fixed-point
    step :math:`B^{-1} \nabla \ell` with :math:`B = \sum_k \gamma_k(t)\, \Sigma_k^{-1}` (for
    Gaussians the mean-shift step, which never lowers the density; for the other families
    :math:`\Sigma_k` is the diagonal of squared scales), halved until the density rises
    enough (Armijo). An ascent has converged when its full step is below ``tol`` local
    widths (a condition on the gradient, not on the step taken); it also stops where no
    step of ``tol`` widths or more raises the density (a kink of a Laplace mixture).

    Every end point is then tested: it is a maximum when it converged with a negative
    definite Hessian, or when the density does not rise a small step (``_PROBES`` local
    widths) away from it along each axis and each eigenvector of the Hessian (so a saddle,
    a minimum or an unfinished ascent is rejected, while a flat top or a kink is kept). An
    end point that is not a maximum but has a rising direction starts one more ascent from
    there. End points within ``merge_tol`` local widths of a higher maximum are the same
    mode.

    In one dimension the search is then made complete: a mode whose basin holds no
    component mean is reached by no ascent (it happens when the tails of components on
    both sides add up to a bump between them). So between each pair of neighbouring
    maxima (and between the outermost means and the outermost maxima; around the circle
    for ``von_mises``) it walks from the left maximum down to the next minimum and up to
    the next maximum, with steps of at most one local width that never cross a sign change
    of :math:`\ell'` unbracketed; a maximum other than the right one is a mode the ascents
    missed, and the walk goes on from there.

    The arithmetic is float64 whatever the parameters' dtype. Gaussian families use
    closed-form derivatives; the others differentiate each dimension of each component by
    autograd (every family but the full-covariance Gaussian is a product over dimensions).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family.
        max_iter: most steps of each ascent (and of each walk in one dimension).
        tol: an ascent stops once its full step is below ``tol`` local widths in every
            dimension.
        merge_tol: maxima closer than this many local widths (in every dimension) are
            one mode.

    Returns:
        A :class:`Modes`, in the parameters' dtype.
    """
    params = check_params(params).detach()
    max_iter = positive_int(max_iter, "max_iter")
    tol = positive_float(tol, "tol")
    merge_tol = positive_float(merge_tol, "merge_tol")
    dtype = params.mu.dtype
    params = params.map(lambda v: v.double())
    family = params.components
    N, K, D = params.mu.shape
    device = params.mu.device
    prep = _prepare(params)
    owner = torch.arange(N, device=device).repeat_interleave(K)  # [M = N*K]
    points = params.mu.reshape(N * K, D).clone()  # one ascent from every component mean
    points, converged = _ascend(prep, owner, points, max_iter, tol)
    log_density, is_max, width, escape = _check_maxima(prep, owner, points, converged)
    # An end point with a rising direction (a saddle, an unfinished ascent) climbs again.
    again = (~is_max & torch.isfinite(escape).all(-1)).nonzero().squeeze(-1)
    if again.numel():
        more, conv = _ascend(prep, owner[again], escape[again], max_iter, tol)
        lp2, max2, w2, _ = _check_maxima(prep, owner[again], more, conv)
        points[again], log_density[again], is_max[again], width[again] = more, lp2, max2, w2
    points = family.wrap(points)
    points, log_density = points.view(N, K, D), log_density.view(N, K)
    is_max, width = is_max.view(N, K), width.view(N, K, D)
    points, log_density, is_max, width, distinct = _merge(
        family, points, log_density, is_max, width, merge_tol
    )
    if D == 1 and N and K:
        extra = _missed_modes_1d(prep, params, points, distinct, width, max_iter, tol, merge_tol)
        if extra is not None:
            points, log_density, is_max, width = (
                torch.cat([a, b], 1) for a, b in zip((points, log_density, is_max, width), extra)
            )
            points, log_density, is_max, width, distinct = _merge(
                family, points, log_density, is_max, width, merge_tol
            )
            keep = max(K, int(distinct.sum(-1).max()))
            points, log_density, distinct = points[:, :keep], log_density[:, :keep], distinct[:, :keep]
    if N and K:
        highest = points[:, 0]
    else:
        highest = points.new_full((N, D), math.nan)
    return Modes(points.to(dtype), log_density.to(dtype), distinct, highest.to(dtype))


def _order_by(is_max: torch.Tensor, log_density: torch.Tensor) -> torch.Tensor:
    """Indices sorting each row: maxima by density (highest first), then the rest."""
    by_density = torch.argsort(
        torch.nan_to_num(log_density, nan=-math.inf), dim=-1, descending=True, stable=True
    )
    maxima_first = torch.argsort(
        is_max.gather(1, by_density).to(torch.int8), dim=-1, descending=True, stable=True
    )
    return by_density.gather(1, maxima_first)


def _merge(family, points, log_density, is_max, width, merge_tol):
    """Mark the distinct maxima and sort each row: those by density, then the rest.

    Greedy in density order: a maximum repeats an earlier distinct one when it lies within
    ``merge_tol`` local widths of it in every dimension (the shorter way round for angles).
    """
    N, C, D = points.shape
    order = _order_by(is_max, log_density)
    take = order.unsqueeze(-1).expand(N, C, D)
    points, width = points.gather(1, take), width.gather(1, take)
    log_density, is_max = log_density.gather(1, order), is_max.gather(1, order)
    distinct = torch.zeros_like(is_max)
    for i in range(C):
        gap = family.difference(points[:, i : i + 1], points[:, :i]).abs()  # [N, i, D]
        near = (gap <= merge_tol * torch.minimum(width[:, i : i + 1], width[:, :i])).all(-1)
        repeat = (near & distinct[:, :i]).any(-1)
        distinct[:, i] = is_max[:, i] & ~repeat
    # Distinct modes first (highest first), then the rest by density.
    order = _order_by(distinct, log_density)
    take = order.unsqueeze(-1).expand(N, C, D)
    points, width = points.gather(1, take), width.gather(1, take)
    log_density, is_max = log_density.gather(1, order), is_max.gather(1, order)
    return points, log_density, is_max, width, distinct.gather(1, order)


def _prepare(params: MixtureParameters) -> dict:
    """What the derivatives need, computed once (float64 ``params``).

    Gaussians: the constant ``log pi_k - log|Sigma_k|^(1/2) - D/2 log(2 pi)`` ``[N, K]`` and
    the precisions, ``[N, K, D]`` (diagonal) or ``[N, K, D, D]`` (full). Other families:
    the parameters and the inverse squared scales, the metric of the fixed-point step.
    """
    family = params.components
    D = params.mu.shape[-1]
    prep = {"params": params, "family": family, "mu": params.mu, "full": False}
    if family.name == "gaussian":
        prep["gaussian"] = True
        if params.scale_tril is None:
            prep["prec"] = params.sigma.pow(-2)
            log_det = params.sigma.log().sum(-1)
        else:
            tril = params.scale_tril
            prep["full"] = True
            prep["prec"] = torch.cholesky_inverse(tril)
            log_det = tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        prep["const"] = params.log_pi - log_det - 0.5 * D * math.log(2 * math.pi)
    else:
        prep["gaussian"] = False
        prep["prec"] = params.sigma.pow(-2)
    return prep


def _log_density(prep: dict, owner, points) -> torch.Tensor:
    """Log-density ``[A]`` of mixture ``owner[a]`` at ``points[a]`` ``[A, D]``."""
    if prep["gaussian"]:
        diff = prep["mu"][owner] - points.unsqueeze(1)  # [A, K, D]
        if prep["full"]:
            quad = torch.einsum("akd,akde,ake->ak", diff, prep["prec"][owner], diff)
        else:
            quad = (diff.pow(2) * prep["prec"][owner]).sum(-1)
        return torch.logsumexp(prep["const"][owner] - 0.5 * quad, -1)
    sub = prep["params"].map(lambda v: v[owner])
    return torch.logsumexp(log_joint(sub, points.unsqueeze(1)).squeeze(1), -1)


def _derivatives(prep: dict, owner, points, hessian: bool = True):
    """Derivatives of the log-density of mixture ``owner[a]`` at ``points[a]`` ``[A, D]``.

    Returns the log-density ``[A]``, gradient ``[A, D]``, Hessian ``[A, D, D]`` (None unless
    ``hessian``), local widths ``[A, D]`` (the square roots of the diagonal of
    :math:`B^{-1}`, :math:`B = \\sum_k \\gamma_k \\Sigma_k^{-1}`) and the fixed-point step
    :math:`B^{-1} \\nabla\\ell` ``[A, D]``. With responsibilities :math:`\\gamma_k` and each
    component's log-density gradient :math:`g_k` and Hessian :math:`H_k`, the mixture's are
    :math:`g = \\sum_k \\gamma_k g_k` and
    :math:`H = \\sum_k \\gamma_k \\big(H_k + (g_k - g)(g_k - g)^\\top\\big)` (centred: no
    cancellation).
    """
    mu = prep["mu"][owner]  # [A, K, D]
    prec = prep["prec"][owner]
    if prep["gaussian"]:
        diff = mu - points.unsqueeze(1)  # [A, K, D]
        if prep["full"]:
            g_k = (prec @ diff.unsqueeze(-1)).squeeze(-1)
        else:
            g_k = diff * prec
        joint = prep["const"][owner] - 0.5 * (diff * g_k).sum(-1)  # [A, K]
        h_k = None
    else:
        sub = prep["params"].map(lambda v: v[owner])
        A, K, D = mu.shape
        shape = None if sub.shape is None else sub.shape.unsqueeze(-1).expand(A, K, D)
        with torch.enable_grad():
            x = points.unsqueeze(1).expand(A, K, D).contiguous().requires_grad_(True)
            # One log-density term per component and dimension: [A, K, D].
            terms = prep["family"].log_prob(
                x.unsqueeze(-1), mu.unsqueeze(-1), sub.sigma.unsqueeze(-1), shape, None
            )
            (g_k,) = torch.autograd.grad(terms.sum(), x, create_graph=hessian)
            h_k = None
            if hessian and g_k.requires_grad:
                (h_k,) = torch.autograd.grad(g_k.sum(), x, allow_unused=True)
        terms, g_k = terms.detach(), g_k.detach()
        if hessian and h_k is None:
            h_k = torch.zeros_like(g_k)
        joint = sub.log_pi + terms.sum(-1)
    lp = torch.logsumexp(joint, -1)  # [A]
    gamma = torch.exp(joint - lp.unsqueeze(-1))  # [A, K]
    grad = (gamma.unsqueeze(-1) * g_k).sum(1)  # [A, D]
    if prep["full"]:
        metric = (gamma[..., None, None] * prec).sum(1)  # [A, D, D]
        chol, _ = torch.linalg.cholesky_ex(metric)
        fixed = torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
        width = torch.cholesky_inverse(chol).diagonal(dim1=-2, dim2=-1).sqrt()
    else:
        metric = (gamma.unsqueeze(-1) * prec).sum(1)  # [A, D]
        fixed = grad / metric
        width = metric.rsqrt()
    hess = None
    if hessian:
        centred = g_k - grad.unsqueeze(1)
        if centred.shape[-1] == 1:
            hess = (gamma * centred[..., 0].pow(2)).sum(1)[:, None, None]
        else:
            hess = torch.einsum("ak,akd,ake->ade", gamma, centred, centred)
        if prep["gaussian"]:
            hess = hess - (metric if prep["full"] else torch.diag_embed(metric))
        else:
            hess = hess + torch.diag_embed((gamma.unsqueeze(-1) * h_k).sum(1))
    return lp, grad, hess, width, fixed


def _ascent_step(grad, hess, width, fixed):
    """The full step of an ascent: Newton where ``-hess`` is positive definite and the step
    is at most ``_MAX_STEP`` local widths, the fixed-point step elsewhere; and its size in
    local widths (largest over dimensions)."""
    hess = torch.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    chol, info = torch.linalg.cholesky_ex(-hess)
    newton = torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
    newton_size = (newton / width).abs().amax(-1)
    use = (info == 0) & torch.isfinite(newton_size) & (newton_size <= _MAX_STEP)
    step = torch.where(use.unsqueeze(-1), newton, fixed)
    return step, (step / width).abs().amax(-1)


def _ascend(prep, owner, points, max_iter: int, tol: float):
    """Ascend from every point at once; returns the end points and "converged" ``[A]``.

    An ascent ends when its full step is below ``tol`` local widths (converged), or when no
    step of at least ``tol`` widths along it raises the density by the Armijo condition
    (stalled: at a kink, or at the limit of float64), or after ``max_iter`` steps. The
    derivatives at a full step are computed with its log-density, and kept for the next
    step when it is accepted (as it is for the mean-shift steps of a Gaussian mixture).
    """
    points = points.clone()
    converged = torch.zeros(points.shape[0], dtype=torch.bool, device=points.device)
    active = torch.arange(points.shape[0], device=points.device)
    state = _derivatives(prep, owner, points)
    for _ in range(max_iter):
        if active.numel() == 0:
            break
        n, x = owner[active], points[active]
        lp, grad, hess, width, fixed = state
        step, size = _ascent_step(grad, hess, width, fixed)
        done = ~(size > tol)  # also NaN
        converged[active[done]] = True
        slope = (grad * step).sum(-1)  # > 0: an ascent direction
        at_full = _derivatives(prep, n, x + step)
        full = at_full[0] - lp >= 1e-4 * slope
        accepted = full.clone()
        alpha = torch.where(full, 1.0, 0.5)
        pending = (~full & (0.5 * size >= tol)).nonzero().squeeze(-1)
        while pending.numel():
            trial = x[pending] + alpha[pending, None] * step[pending]
            rise = _log_density(prep, n[pending], trial) - lp[pending]
            ok = rise >= 1e-4 * alpha[pending] * slope[pending]
            accepted[pending[ok]] = True
            pending = pending[~ok]
            alpha[pending] = alpha[pending] / 2
            pending = pending[alpha[pending] * size[pending] >= tol]
        x = torch.where(accepted.unsqueeze(-1), x + alpha.unsqueeze(-1) * step, x)
        points[active] = x
        go_on = accepted & ~done
        state = tuple(v[go_on] for v in at_full)
        shorter = (go_on & ~full)[go_on].nonzero().squeeze(-1)
        active = active[go_on]
        if shorter.numel():
            again = _derivatives(prep, owner[active[shorter]], points[active[shorter]])
            for v, w in zip(state, again):
                v[shorter] = w
    return points, converged


def _check_maxima(prep, owner, points, converged):
    """Log-density, "is a local maximum", local widths and an escape point at each end point.

    A point is a maximum when it converged with a Hessian that is clearly negative definite
    in local-width units (largest eigenvalue below -1e-6), or else when the density does not
    rise (by more than float64 rounding) a small step away from it along every axis and
    every eigenvector of the Hessian, in both directions, at ``_PROBES`` local widths. The
    escape point is the highest probe of a point that is not a maximum and has a rising
    probe (NaN otherwise).
    """
    lp, grad, hess, width, _ = _derivatives(prep, owner, points)
    M, D = points.shape
    hess = torch.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    scaled = hess * width.unsqueeze(-1) * width.unsqueeze(-2)  # curvature in width units
    curv, vecs = torch.linalg.eigh(scaled)
    strict = converged & (curv[:, -1] < -1e-6) & torch.isfinite(lp)
    is_max = strict.clone()
    escape = torch.full_like(points, math.nan)
    probe_at = (~strict & torch.isfinite(lp)).nonzero().squeeze(-1)
    if probe_at.numel() == 0:
        return lp, is_max, width, escape
    Q = probe_at.numel()
    x, w, lq, vq = points[probe_at], width[probe_at], lp[probe_at], vecs[probe_at]
    axes = torch.eye(D, dtype=points.dtype, device=points.device).expand(Q, D, D)
    directions = axes if D == 1 else torch.cat([axes, vq.transpose(1, 2)], 1)
    directions = torch.cat([directions, -directions], 1) * w.unsqueeze(1)  # [Q, P, D]
    P = directions.shape[1]
    slack = _SLACK * (1 + lq.abs())
    rises = torch.zeros(Q, dtype=torch.bool, device=points.device)
    best_lp, best = lq.clone(), torch.full_like(x, math.nan)
    for length in _PROBES:
        probe = x.unsqueeze(1) + length * directions  # [Q, P, D]
        around = _log_density(prep, owner[probe_at].repeat_interleave(P), probe.reshape(-1, D))
        top, arg = around.view(Q, P).max(-1)
        rises |= top > lq + slack
        higher = top > best_lp
        best_lp = torch.where(higher, top, best_lp)
        best = torch.where(higher.unsqueeze(-1), probe[torch.arange(Q), arg], best)
    is_max[probe_at] = ~rises
    escape[probe_at] = torch.where(rises.unsqueeze(-1), best, math.nan)
    return lp, is_max, width, escape


_DEBUG = {}  # DEBUG


def _march(prep, owner, start, stop, rising: bool, max_iter: int, tol: float, first: float):
    """1-D: from ``start`` move right to the first sign change of the derivative before ``stop``.

    ``rising``: from ``l' > 0`` to ``l' <= 0`` (a maximum); otherwise from ``l' < 0`` to
    ``l' >= 0`` (a minimum). Write ``f = +-l'``, positive until the sign change.

    Until the sign change is bracketed, each step goes right from the left end: a Newton
    step where ``f' < 0`` and otherwise the fixed-point step, but at least four times the
    last step (the first is ``first`` local widths); never more than ``_MAX_STEP`` local
    widths. A step with ``f > 0`` at both ends can still have passed two sign changes, where
    ``f`` dips below zero between them; ``f`` then has a local minimum, so ``f'`` goes from
    negative to positive over the step. Such a step is not taken until that minimum has
    been located (a root of ``f'``, by the Illinois method) and ``f`` found positive there;
    a step over which the cubic matching ``f`` and ``f'`` at both ends dips below zero is
    shortened. Once a trial has ``f <= 0`` the bracket is narrowed by Newton steps from its
    newest end, or by bisection when such a step leaves it (``rtsafe``), to ``tol`` widths.

    Returns the sign change ``[A]`` (within ``tol`` local widths), a point past it (where
    the derivative has changed sign; ``stop`` when none was found) and whether one was
    found before ``stop``.
    """
    sign = 1.0 if rising else -1.0
    lo = start.clone()
    _, grad, hess, width, _ = _derivatives(prep, owner, lo.unsqueeze(-1))
    f, df, width = sign * grad[:, 0], sign * hess[:, 0, 0], width[:, 0]  # at lo (or newest)
    found = ~(f > 0)  # already past it at the start
    hi = torch.where(found, lo, stop)
    point = lo.clone()
    last = 0.25 * first * width  # the last step taken
    newest = lo.clone()  # in a bracket, the newest point, whose f/df/width are kept
    limit = torch.full_like(lo, math.inf)  # the longest step allowed now
    # The search for a minimum of f between lo and `target`: an interval [ia, ib] with
    # f'(ia) < 0 < f'(ib), and what is known at `target`.
    search = torch.zeros_like(found)
    ia, ib, da, db, fa, fb = lo.clone(), lo.clone(), f.clone(), f.clone(), f.clone(), f.clone()
    side = torch.zeros_like(lo)  # Illinois: which end was kept last (-1 a, +1 b)
    target, f_tg, df_tg, w_tg = lo.clone(), f.clone(), f.clone(), width.clone()
    u = torch.linspace(0.1, 0.9, 9, dtype=lo.dtype, device=lo.device)
    hermite = torch.stack([(1 + 2 * u) * (1 - u) ** 2, u * (1 - u) ** 2, u**2 * (3 - 2 * u),
                           u**2 * (u - 1)])  # cubic Hermite basis at u, [4, 9]
    active = (~found & (lo < hi)).nonzero().squeeze(-1)
    for _ in range(max_iter):
        if active.numel() == 0:
            break
        a = active
        f_a, df_a, w = f[a], df[a], width[a]
        x, right, bracket, look = lo[a], hi[a], found[a], search[a]
        newton = -f_a / df_a
        # Forward from the left end.
        expand = torch.maximum(w * w * f_a.abs(), 4 * last[a])
        step = torch.where((df_a < 0) & torch.isfinite(newton), newton, expand)
        step = torch.minimum(step.clamp(min=2 * tol * w, max=_MAX_STEP * w), limit[a])
        trial = x + step
        # In a bracket: Newton from the newest end, bisection when that leaves it.
        trial = torch.where(bracket, newest[a] + newton, trial)
        inside = (trial > x) & (trial < right)
        trial = torch.where(bracket & ~inside, 0.5 * (x + right), trial)
        trial = torch.where(~bracket & ~inside, 0.5 * (x + right), trial)
        # Looking for the minimum of f: regula falsi on f' (Illinois).
        falsi = (ia[a] * db[a] - ib[a] * da[a]) / (db[a] - da[a])
        strictly = (falsi > ia[a]) & (falsi < ib[a])
        falsi = torch.where(strictly, falsi, 0.5 * (ia[a] + ib[a]))
        trial = torch.where(look, falsi, trial)

        _, g_t, h_t, w_t, _ = _derivatives(prep, owner[a], trial.unsqueeze(-1))
        f_t, df_t, w_t = sign * g_t[:, 0], sign * h_t[:, 0, 0], w_t[:, 0]
        past = ~(f_t > 0)
        span = trial - x
        # A forward step that passes a minimum of f (f' from - to +) is held until the
        # minimum is checked; one whose matching cubic dips below zero is shortened.
        forward = ~bracket & ~look & ~past
        # f >= min(f at the ends) - max|f'| * length on an interval where f' is monotone:
        # no dip below zero is possible when that bound is positive.
        floor = torch.minimum(f_a, f_t) - torch.maximum(df_a.abs(), df_t.abs()) * span
        start_look = forward & (df_a < 0) & (df_t > 0) & ~(floor > 0)
        cubic = torch.stack([f_a, df_a * span, f_t, df_t * span], -1)
        dip = forward & ~start_look & ((cubic @ hermite).amin(-1) <= 0) & (span > 4 * tol * w)
        limit[a] = torch.where(dip, 0.25 * span, torch.where(forward, 4 * limit[a], limit[a]))
        # The search narrows its interval; it ends when f <= 0 (a bracket: [lo, trial]) or
        # when the interval is below tol widths (then the held step is taken).
        left_side = look & ~past & (df_t < 0)
        right_side = look & ~past & ~(df_t < 0)
        ia[a] = torch.where(left_side, trial, ia[a])
        fa[a] = torch.where(left_side, f_t, fa[a])
        keep_b = right_side & (side[a] > 0)
        keep_a = left_side & (side[a] < 0)
        da[a] = torch.where(left_side, df_t, torch.where(keep_b, 0.5 * da[a], da[a]))
        ib[a] = torch.where(right_side, trial, ib[a])
        fb[a] = torch.where(right_side, f_t, fb[a])
        db[a] = torch.where(right_side, df_t, torch.where(keep_a, 0.5 * db[a], db[a]))
        side[a] = torch.where(left_side, -1.0, torch.where(right_side, 1.0, side[a]))
        length = ib[a] - ia[a]
        floor = torch.minimum(fa[a], fb[a]) - torch.maximum(da[a].abs(), db[a].abs()) * length
        settled = look & ~past & ((length <= tol * w) | (floor > 0))
        ia[a] = torch.where(start_look, x, ia[a])
        fa[a] = torch.where(start_look, f_a, fa[a])
        da[a] = torch.where(start_look, df_a, da[a])
        ib[a] = torch.where(start_look, trial, ib[a])
        fb[a] = torch.where(start_look, f_t, fb[a])
        db[a] = torch.where(start_look, df_t, db[a])
        side[a] = torch.where(start_look, 0.0, side[a])
        target[a] = torch.where(start_look, trial, target[a])
        f_tg[a] = torch.where(start_look, f_t, f_tg[a])
        df_tg[a] = torch.where(start_look, df_t, df_tg[a])
        w_tg[a] = torch.where(start_look, w_t, w_tg[a])
        search[a] = (look | start_look) & ~past & ~settled

        # The left end moves on a forward step, a settled search (to the held target), or
        # a trial before the sign change in a bracket; a trial past it closes the bracket.
        move = (forward & ~start_look & ~dip) | (bracket & ~past)
        last[a] = torch.where(forward & ~start_look & ~dip, span, last[a])
        new_lo = torch.where(move, trial, torch.where(settled, target[a], x))
        lo[a] = new_lo
        hi[a] = right = torch.where(past, trial, right)
        found[a] = bracket = bracket | past
        # Derivatives kept: the left end's while going forward, the newest point's in a
        # bracket.
        keep_t = move | past
        f[a] = f_a = torch.where(keep_t, f_t, torch.where(settled, f_tg[a], f_a))
        df[a] = df_a = torch.where(keep_t, df_t, torch.where(settled, df_tg[a], df_a))
        width[a] = w = torch.where(keep_t, w_t, torch.where(settled, w_tg[a], w))
        newest[a] = torch.where(keep_t, trial, torch.where(settled, target[a], newest[a]))
        # Done: a bracket (or the way to stop) shorter than tol widths, or a Newton step in
        # a bracket below tol widths (the sign change is within tol widths of the newest end).
        short = (right - new_lo <= tol * w) & ~search[a]
        newton_done = bracket & ((f_a / df_a).abs() <= tol * w) & ~short
        point[a] = torch.where(newton_done, newest[a], new_lo)
        active = a[~(short | newton_done)]
    past = torch.where(found, torch.minimum(hi, point + 4 * tol * width), hi)
    _DEBUG["active"] = active  # DEBUG
    return point, past, found


def _missed_modes_1d(prep, params, points, distinct, width, max_iter, tol, merge_tol):
    """In one dimension, the maxima between the known ones that no ascent reached.

    Each gap is walked left to right: down from its left maximum to the next minimum, then
    up to the next maximum; if that is not the gap's right end (within ``merge_tol`` local
    widths), it is a new mode (when the probes confirm it) and the walk goes on from it.
    The gaps are those between neighbouring distinct maxima, plus, on the line, the
    smallest mean to the first maximum (walked up only) and the last maximum to the largest
    mean (all stationary points of a mixture of symmetric unimodal components lie between
    its smallest and largest means); on the circle (von Mises) the gap from the last
    maximum round to the first. Returns the new points, log-densities, "is a maximum" and
    widths as extra columns ``[N, E, ...]``, or None when there are none.
    """
    family = params.components
    circular = family.name == "von_mises"
    N, C, _ = points.shape
    device = points.device
    loc, wid = points[..., 0], width[..., 0]
    order = torch.argsort(torch.where(distinct, loc, math.inf), dim=1)
    loc, wid, valid = loc.gather(1, order), wid.gather(1, order), distinct.gather(1, order)
    count = valid.sum(1)  # [N]
    rows = torch.arange(N, device=device)
    # Gaps between neighbours: (left, right) = (loc[j], loc[j+1]) where both are maxima.
    pair = valid[:, 1:]
    n_g = rows.unsqueeze(1).expand_as(pair)[pair]
    left, right = loc[:, :-1][pair], loc[:, 1:][pair]
    left_w, right_w = wid[:, :-1][pair], wid[:, 1:][pair]
    down_first = torch.ones_like(n_g, dtype=torch.bool)
    right_is_max = torch.ones_like(down_first)
    has = count > 0
    last = (count - 1).clamp_min(0)
    first_loc, first_w = loc[:, 0], wid[:, 0]
    last_loc, last_w = loc[rows, last], wid[rows, last]
    if circular:
        # The gap from the last maximum round the circle to the first (the whole circle
        # when there is one maximum).
        extra = [(rows[has], last_loc[has], first_loc[has] + 2 * math.pi, last_w[has],
                  first_w[has], torch.ones_like(has[has]), torch.ones_like(has[has]))]
    else:
        mu = params.mu[..., 0]
        low, high = mu.min(1).values, mu.max(1).values
        extra = [
            # From the smallest mean up to the first maximum.
            (rows[has], low[has], first_loc[has], first_w[has], first_w[has],
             torch.zeros_like(has[has]), torch.ones_like(has[has])),
            # From the last maximum down towards the largest mean.
            (rows[has], last_loc[has], high[has], last_w[has], last_w[has],
             torch.ones_like(has[has]), torch.zeros_like(has[has])),
        ]
    for n_e, l_e, r_e, lw_e, rw_e, d_e, m_e in extra:
        n_g, left, right = torch.cat([n_g, n_e]), torch.cat([left, l_e]), torch.cat([right, r_e])
        left_w, right_w = torch.cat([left_w, lw_e]), torch.cat([right_w, rw_e])
        down_first, right_is_max = torch.cat([down_first, d_e]), torch.cat([right_is_max, m_e])
    offset = 0.5 * min(merge_tol, 1e-2)  # first step off a maximum, in its local widths
    found_n, found_x = [], []
    for _ in range(4 * C + 4):
        if n_g.numel() == 0:
            break
        # Down from the left maximum to the next minimum (the gaps from the smallest mean
        # start at that mean and go up at once).
        low_x = left.clone()
        down = down_first.nonzero().squeeze(-1)
        if down.numel():
            start = left[down] + offset * left_w[down]
            _, past, found = _march(
                prep, n_g[down], start, right[down], False, max_iter, tol, offset
            )
            low_x[down] = torch.where(found, past, right[down])
        # Up to the next maximum.
        top, _, _ = _march(prep, n_g, low_x, right, True, max_iter, tol, offset)
        lp_top, _, _, w_top, _ = _derivatives(prep, n_g, top.unsqueeze(-1), hessian=False)
        w_top = w_top[:, 0]
        at_right = (right - top).abs() <= merge_tol * torch.minimum(w_top, right_w)
        at_right |= top >= right
        at_right &= right_is_max | (top >= right)
        go_on = ~at_right
        if not bool(go_on.any()):
            break
        n_g, top, w_top = n_g[go_on], top[go_on], w_top[go_on]
        found_n.append(n_g)
        found_x.append(top)
        left, left_w, right, right_w = top, w_top, right[go_on], right_w[go_on]
        right_is_max = right_is_max[go_on]
        down_first = torch.ones_like(go_on[go_on])
    if not found_n:
        return None
    n_new, x_new = torch.cat(found_n), torch.cat(found_x).unsqueeze(-1)
    x_new = family.wrap(x_new)
    _, grad, hess, width, fixed = _derivatives(prep, n_new, x_new)
    converged = ~(_ascent_step(grad, hess, width, fixed)[1] > 10 * tol)
    lp_new, max_new, w_new, _ = _check_maxima(prep, n_new, x_new, converged)
    keep = max_new
    n_new, x_new, lp_new, w_new = n_new[keep], x_new[keep], lp_new[keep], w_new[keep]
    if n_new.numel() == 0:
        return None
    # Scatter into extra columns: the j-th new mode of row n goes to column j.
    per_row = torch.bincount(n_new, minlength=N)
    E = int(per_row.max())
    sort = torch.argsort(n_new, stable=True)
    n_new, x_new, lp_new, w_new = n_new[sort], x_new[sort], lp_new[sort], w_new[sort]
    starts = torch.cumsum(per_row, 0) - per_row
    col = torch.arange(n_new.numel(), device=device) - starts[n_new]
    X = points.new_full((N, E, 1), math.nan)
    LP = points.new_full((N, E), -math.inf)
    IS = torch.zeros(N, E, dtype=torch.bool, device=device)
    W = points.new_ones((N, E, 1))
    X[n_new, col], LP[n_new, col], IS[n_new, col], W[n_new, col] = x_new, lp_new, True, w_new
    return X, LP, IS, W
