r"""Every mode of a mixture: the local maxima of its density, found by vectorised ascents.

:func:`conditional_modes` starts an ascent from every component's mean (Newton steps near a
peak, mean-shift steps elsewhere, with a backtracking line search), checks that every end
point is a maximum, merges the ones closer than the local width, and, in one dimension,
walks between neighbouring maxima to find bumps that no mean sits in. Every step treats all
points and all starting points at once: no Python loop runs over points or components.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._checks import positive_float, positive_int
from .mixture import MixtureParameters, check_params, log_joint


class Modes(NamedTuple):
    """Local maxima of each input's mixture density.

    Each row holds ``C`` points: the end points of the ``K`` ascents (one from every
    component mean), with any mode that the search between maxima added in place of a
    repeat. ``C = K`` unless a mixture has more modes than components (possible, if rare:
    then ``C`` is the largest number of modes of any row). Each row is sorted: first the
    distinct modes, highest first, then the rest (repeats of a mode, and end points that
    are not maxima) by density.

    Attributes:
        location: the points, sorted as above, ``[N, C, D]``.
        log_density: the mixture's log-density there, ``[N, C]``.
        distinct: True for each distinct local maximum (one per mode), ``[N, C]``;
            ``location[distinct]`` lists every mode once, and the True entries of each row
            come first.
        highest: the global mode of each mixture (``location[:, 0]``), ``[N, D]``.
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


#: Probe lengths, in local widths, of the test that an end point is a maximum: each
#: direction is judged at the shortest at which the change of the log-density is resolved.
_PROBES = (1e-6, 1e-3, 1e-2)
#: A change of the log-density is resolved when larger than this (relative to
#: ``1 + |log-density|``): float64 rounding of a log-sum-exp stays far below it.
_SLACK = 1e-12
#: Most local widths one Newton step of an ascent may move; and the longest step of a walk
#: between maxima, in units of the finest feature scale of the components present.
_MAX_STEP = 1.0
#: A component is present at a point where its responsibility is at least this.
_PRESENT = 1e-6
#: The first step of a walk, in local widths (the steps then grow fourfold).
_FIRST = 0.25
#: A walk leaves out a component whose log-density stays this far below the mixture's.
_NEGLIGIBLE = 80.0
#: In two or more dimensions, ascents start from this many evenly spread points of the
#: segment between every pair of modes (besides its lowest point), and of the segment
#: between every pair of components whose means are closer than _NEIGHBOURS times the sum
#: of their scales.
_SEGMENT_STARTS = 7
_NEIGHBOURS = 4.0


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
    step of ``tol`` widths or more raises the density (at a kink). For the families with a
    kink or a cusp at each mean (``laplace``; ``gennorm`` with ``beta < 2``), a mean that
    is already a maximum stays where it is, and a step stops at the first kink it meets.

    Every end point is then tested: it is a maximum when it converged with a negative
    definite Hessian, or when the density does not rise a small step away from it along
    each axis and each eigenvector of the Hessian (``_check_maxima``: a saddle, a minimum
    or an unfinished ascent is rejected, a flat top or a kink is kept). An end point that
    is not a maximum but has a rising direction climbs again from there. Maxima within
    ``merge_tol`` local widths of a higher one are the same mode.

    Ascents from the means miss a mode whose basin holds no mean (rare, but the tails of
    components on both sides can add up to such a bump). In one dimension the search is then made complete by walking from
    each maximum down to the next minimum and up to the next maximum, all along the line
    (or round the circle), with steps that cannot pass a maximum unseen
    (``_missed_modes``, ``_march``). In more dimensions no finite search is complete: the
    walks follow the segments between pairs of modes, and more ascents start from points
    on them, between neighbouring components and around every mean (``_missed_modes``);
    in random tests against dense grids in 2-D they found every mode, at a cost that grows
    with the square of the number of components.

    The arithmetic is float64 whatever the parameters' dtype. Gaussian families use
    closed-form derivatives; the others differentiate each dimension of each component by
    autograd (every family but the full-covariance Gaussian is a product over dimensions).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family.
        max_iter: most steps of each ascent and of each walk.
        tol: an ascent stops once its full step is below ``tol`` local widths in every
            dimension; a walk locates a minimum or maximum to ``tol`` local widths.
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
    climb = torch.arange(N * K, device=device)
    converged = torch.zeros(N * K, dtype=torch.bool, device=device)
    if prep["cusped"]:
        # At a kink (or the infinite curvature of a generalised normal with beta < 2) the
        # derivatives at a mean say little about the mode next to it: a mean that is
        # already a maximum stays there, and the others climb from their highest probe.
        _, at_mean, _, nudge = _check_maxima(prep, owner, points, converged)
        points = torch.where(torch.isfinite(nudge), nudge, points)
        climb = climb[~at_mean]
    points[climb], converged[climb] = _ascend(prep, owner[climb], points[climb], max_iter, tol)
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
    if N and K:
        extra = _missed_modes(prep, params, points, distinct, width, max_iter, tol, merge_tol)
        if extra is not None:
            points, log_density, is_max, width = (
                torch.cat([a, b], 1)
                for a, b in zip((points, log_density, is_max, width), extra, strict=True)
            )
            points, log_density, is_max, width, distinct = _merge(
                family, points, log_density, is_max, width, merge_tol
            )
            keep = max(K, int(distinct.sum(-1).max()))
            points, log_density, distinct = (
                points[:, :keep],
                log_density[:, :keep],
                distinct[:, :keep],
            )
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
    the parameters and the inverse squared scales, the metric of the fixed-point step. All:
    the finest feature scale of each component (``scale``), and whether the family has a
    kink (``kinked``) or an infinite curvature (``cusped``) at the means.
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
    # The scale of the finest feature each component can make, [N, K, D]: its scale; for a
    # full covariance its narrowest principal axis; for a generalised normal with beta > 2
    # the edge of its flat top, about 2 sigma / beta wide.
    scale = params.sigma
    if prep["full"]:
        narrowest = torch.linalg.eigvalsh(prep["prec"])[..., -1].rsqrt()  # [N, K]
        scale = narrowest.unsqueeze(-1).expand_as(params.sigma)
    if family.name == "gennorm":
        scale = scale * (2 / params.shape).clamp(max=1).unsqueeze(-1)
    prep["scale"] = scale
    # A kink at the mean (Laplace; generalised normal with beta <= 1), or at least an
    # infinite curvature there (beta < 2).
    beta = params.shape if family.name == "gennorm" else None
    prep["kinked"] = family.name == "laplace" or (beta is not None and bool((beta <= 1).any()))
    prep["cusped"] = prep["kinked"] or (beta is not None and bool((beta < 2).any()))
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
    :math:`B^{-1}`, :math:`B = \\sum_k \\gamma_k \\Sigma_k^{-1}`), the fixed-point step
    :math:`B^{-1} \\nabla\\ell` ``[A, D]``, and the finest feature scale (``prep["scale"]``)
    of the components with a responsibility of at least ``_PRESENT`` ``[A, D]``. With responsibilities :math:`\\gamma_k` and each
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
    present = (gamma >= _PRESENT).unsqueeze(-1)
    narrow = torch.where(present, prep["scale"][owner], math.inf).amin(1)  # [A, D]
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
    return lp, grad, hess, width, fixed, narrow


def _ascent_step(grad, hess, width, fixed):
    """The full step of an ascent: Newton where ``-hess`` is positive definite and the step
    is at most ``_MAX_STEP`` local widths, the fixed-point step elsewhere; its size in local
    widths (largest over dimensions); and whether it is Newton's."""
    hess = torch.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    chol, info = torch.linalg.cholesky_ex(-hess)
    newton = torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
    newton_size = (newton / width).abs().amax(-1)
    use = (info == 0) & torch.isfinite(newton_size) & (newton_size <= _MAX_STEP)
    step = torch.where(use.unsqueeze(-1), newton, fixed)
    return step, (step / width).abs().amax(-1), use


def _ascend(prep, owner, points, max_iter: int, tol: float):
    """Ascend from every point at once; returns the end points and "converged" ``[A]``.

    An ascent ends when its full step is below ``tol`` local widths (converged), or when no
    step of at least ``tol`` widths along it raises the density by the Armijo condition
    (stalled: at a kink, or at the limit of float64), or after ``max_iter`` steps. A Newton
    step whose rise is below float64 rounding is taken when it shrinks the gradient (in
    local-width units), so that a flat maximum is located to the gradient's precision. The
    derivatives at a full step are computed with its log-density, and kept for the next
    step when it is accepted (as it is for the mean-shift steps of a Gaussian mixture).
    """
    points = points.clone()
    converged = torch.zeros(points.shape[0], dtype=torch.bool, device=points.device)
    active = torch.arange(points.shape[0], device=points.device)
    state = _derivatives(prep, owner, points)
    kinked = prep["kinked"]
    for _ in range(max_iter):
        if active.numel() == 0:
            break
        n, x = owner[active], points[active]
        lp, grad, hess, width, fixed, _ = state
        step, size, newton = _ascent_step(grad, hess, width, fixed)
        snap = None
        if kinked:
            step, snap = _kink_step(prep, n, x, grad, step)
            size = (step / width).abs().amax(-1)
        done = ~(size > tol)  # also NaN
        converged[active[done]] = True
        slope = (grad * step).sum(-1)  # > 0: an ascent direction
        full_x = x + step
        if snap is not None:  # land exactly on the kink
            on = torch.where(snap, prep["mu"][n], 0.0).sum(1)
            full_x = torch.where(snap.any(1), on, full_x)
        at_full = _derivatives(prep, n, full_x)
        rise = at_full[0] - lp
        full = rise >= 1e-4 * slope
        # Close to a flat maximum the rise of a Newton step drowns in rounding before the
        # gradient does: the step is taken while it shrinks the gradient.
        flat = rise.abs() <= _SLACK * (1 + lp.abs())
        shrinks = (at_full[1] * width).norm(dim=-1) < (grad * width).norm(dim=-1)
        full |= newton & flat & shrinks
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
        moved = torch.where((alpha == 1).unsqueeze(-1), full_x, x + alpha.unsqueeze(-1) * step)
        x = torch.where(accepted.unsqueeze(-1), moved, x)
        points[active] = x
        go_on = accepted & ~done
        state = tuple(v[go_on] for v in at_full)
        shorter = (go_on & ~full)[go_on].nonzero().squeeze(-1)
        active = active[go_on]
        if shorter.numel():
            again = _derivatives(prep, owner[active[shorter]], points[active[shorter]])
            for v, w in zip(state, again, strict=True):
                v[shorter] = w
    return points, converged


def _kink_step(prep, owner, x, grad, step):
    """Laplace and generalised normal: the step, cut at the first kink it meets.

    The log-density of a Laplace component has a kink at its mean in every dimension (its
    derivative jumps by ``2 / b``), a generalised normal's with ``beta < 1`` a cusp (an
    infinite jump); between kinks a Laplace mixture is convex along any line, so its
    highest point on a step is a kink or the end. A coordinate that sits on a kink where
    the one-sided derivatives have opposite signs (``|l'| <= jump / 2``, the autograd
    derivative there being their mean) is a maximum along that axis and does not move.
    Returns the step ``[A, D]`` and the mask ``[A, K, D]`` of the kink (one per point at
    most) where the step ends, if it does.
    """
    sub = prep["params"].map(lambda v: v[owner])
    mu = sub.mu  # [A, K, D]
    gamma = torch.softmax(log_joint(sub, x.unsqueeze(1)).squeeze(1), -1).unsqueeze(-1)
    if prep["family"].name == "laplace":
        jump = 2 / sub.sigma
    else:
        beta = sub.shape.unsqueeze(-1).expand_as(mu)
        jump = torch.where(beta < 1, 1e300, torch.where(beta == 1, 2 / sub.sigma, 0.0))
    at = mu == x.unsqueeze(1)
    held = (gamma * torch.where(at, jump, 0.0)).sum(1)  # [A, D]
    step = torch.where(grad.abs() <= 0.5 * held, 0.0, step)
    alpha = (mu - x.unsqueeze(1)) / step.unsqueeze(1)  # where each kink is met
    alpha = torch.where((alpha > 0) & ~at & torch.isfinite(alpha), alpha, math.inf)
    first, where = alpha.flatten(1).min(-1)
    cut = first < 1
    step = step * torch.where(cut, first, 1.0).unsqueeze(-1)
    snap = torch.zeros_like(at).flatten(1)
    snap[cut, where[cut]] = True
    return step, snap.view_as(at)


def _check_maxima(prep, owner, points, converged):
    """Log-density, "is a local maximum", local widths and an escape point at each end point.

    A point is a maximum when it converged with a Hessian that is clearly negative definite
    in local-width units (largest eigenvalue below -1e-6; not for families with kinks or
    cusps, ``prep["cusped"]``), or else when the density does not
    rise a small step away from it along any axis or eigenvector of the Hessian, in either
    direction: each direction is judged at the shortest of ``_PROBES`` local widths where
    the change of the log-density exceeds float64 rounding (``_SLACK``), so that a kink
    close to a lower minimum is seen as a maximum while a saddle, whose rise only shows
    further out, is not; a direction where no change is resolved counts as flat. The
    escape point is the highest probe of a point that is not a maximum and has a rising
    probe (NaN otherwise).
    """
    lp, grad, hess, width, _, _ = _derivatives(prep, owner, points)
    M, D = points.shape
    hess = torch.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    scaled = hess * width.unsqueeze(-1) * width.unsqueeze(-2)  # curvature in width units
    curv, vecs = torch.linalg.eigh(scaled)
    # (Not at a kink or cusp, where the Hessian says nothing: there only probes decide.)
    strict = converged & (curv[:, -1] < -1e-6) & torch.isfinite(lp) & (not prep["cusped"])
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
    decided = torch.zeros(Q, P, dtype=torch.bool, device=points.device)
    rise = torch.zeros_like(decided)
    best_lp, best = lq.clone(), torch.full_like(x, math.nan)
    for length in _PROBES:
        # Each direction is judged at the shortest probe whose change float64 resolves;
        # a point with a rising direction is no maximum, and needs no more probes.
        q, d = (~decided & ~rise.any(-1, keepdim=True)).nonzero().unbind(-1)
        if q.numel() == 0:
            break
        probe = x[q] + length * directions[q, d]
        around = _log_density(prep, owner[probe_at[q]], probe)
        change = around - lq[q]
        resolved = change.abs() > slack[q]
        rise[q, d] = resolved & (change > 0)
        decided[q, d] = resolved
        # The highest probe so far, for the escape.
        above = torch.where(around > best_lp[q], around, -math.inf)
        top = torch.full_like(best_lp, -math.inf).scatter_reduce(0, q, above, "amax")
        win = torch.isfinite(above) & (above == top[q])
        best[q[win]] = probe[win]
        best_lp = torch.maximum(best_lp, top)
    rises = rise.any(-1)
    is_max[probe_at] = ~rises
    escape[probe_at] = torch.where(rises.unsqueeze(-1), best, math.nan)
    return lp, is_max, width, escape


def _along(prep, owner, base, direction, t):
    """The log-density along the line ``base + t direction`` ``[A, D]``: its first and
    second derivatives in ``t`` ``[A]``, the local width and the finest feature scale in
    units of ``t`` ``[A]`` (the line's length over one of them, inverted), and the
    log-density ``[A]``."""
    lp, grad, hess, width, _, narrow = _derivatives(prep, owner, base + t.unsqueeze(-1) * direction)
    first = (grad * direction).sum(-1)
    second = (direction.unsqueeze(-1) * hess * direction.unsqueeze(-2)).sum((-1, -2))
    in_t = lambda w: (direction / w).norm(dim=-1).reciprocal()  # noqa: E731
    return first, second, in_t(width), in_t(narrow), lp


def _march(
    prep,
    owner,
    line,
    start,
    stop,
    rising: bool,
    max_iter: int,
    tol: float,
    first: float,
    enough: float,
    any_bracket: bool = False,
):
    """Along ``line = (base, direction)``, each ``[A, D]``, from ``t = start`` move on to the
    first sign change of the derivative in ``t`` before ``stop`` (all ``[A]``).

    ``rising``: from ``l' > 0`` to ``l' <= 0`` (a maximum); otherwise from ``l' < 0`` to
    ``l' >= 0`` (a minimum). Write ``f = +-l'``, positive until the sign change.

    Until the sign change is bracketed, each step goes right from the left end: a Newton
    step where ``f' < 0`` and otherwise the fixed-point step, but at least four times the
    last step (the first is ``first`` local widths); never more than ``_MAX_STEP`` local
    widths. A step with ``f > 0`` at both ends can still have passed two sign changes, where
    ``f`` dips below zero between them; ``f`` then has a local minimum, so ``f'`` goes from
    negative to positive over the step. Such a step is not taken until that minimum has
    been located (a root of ``f'``, by the Illinois method) and ``f`` found positive there;
    a step over which the quintic matching the log-density and its first two derivatives
    at both ends has ``f < 0`` somewhere is not taken either, and the next is at most a
    quarter as long. Once a trial has ``f <= 0`` the bracket is narrowed by Newton steps from its
    newest end, or by bisection when such a step leaves it (``rtsafe``), to ``tol`` widths.

    Returns the sign change ``[A]`` (within ``enough`` local widths, or ``tol`` after a
    Newton step; anywhere in the first bracket if ``any_bracket``), a point past it (where
    the derivative has changed sign; ``stop`` when none was found) and whether one was
    found before ``stop`` (within ``enough`` widths of it, the answer is no).
    """
    sign = 1.0 if rising else -1.0
    base, direction = line
    lo = start.clone()
    f, df, width, fine, val = _along(prep, owner, base, direction, lo)
    f, df = sign * f, sign * df  # at lo (or newest), with the log-density `val`
    found = ~(f > 0)  # already past it at the start
    hi = torch.where(found, lo, stop)
    point, after = lo.clone(), hi.clone()
    last = 0.25 * first * width  # the last step taken
    newest = lo.clone()  # in a bracket, the newest point, whose f/df/width are kept
    limit = torch.full_like(lo, math.inf)  # the longest step allowed now
    # The search for a minimum of f between lo and `target`: an interval [ia, ib] with
    # f'(ia) < 0 < f'(ib), and what is known at `target`.
    search = torch.zeros_like(found)
    ia, ib, da, db, fa, fb = lo.clone(), lo.clone(), f.clone(), f.clone(), f.clone(), f.clone()
    side = torch.zeros_like(lo)  # Illinois: which end was kept last (-1 a, +1 b)
    target, f_tg, df_tg, val_tg = lo.clone(), f.clone(), f.clone(), val.clone()
    w_tg, fine_tg = width.clone(), fine.clone()
    u = torch.linspace(0.05, 0.95, 19, dtype=lo.dtype, device=lo.device)
    # The derivative of the quintic matching l, l', l'' at both ends of a step, at u:
    # l'(x + u s) ~ [l0 (30 v) + s l0' a + s^2 l0'' b + s^2 l1'' c + s l1' d - l1 (30 v)] / s.
    v = -(u**2) + 2 * u**3 - u**4
    quintic = torch.stack(
        [
            30 * v,
            1 - 18 * u**2 + 32 * u**3 - 15 * u**4,
            u - 4.5 * u**2 + 6 * u**3 - 2.5 * u**4,
            1.5 * u**2 - 4 * u**3 + 2.5 * u**4,
            -12 * u**2 + 28 * u**3 - 15 * u**4,
        ]
    )  # [5, 19]
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
        step = torch.minimum(step.clamp(min=2 * tol * w, max=_MAX_STEP * fine[a]), limit[a])
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

        f_t, df_t, w_t, fine_t, val_t = _along(prep, owner[a], base[a], direction[a], trial)
        f_t, df_t = sign * f_t, sign * df_t
        past = ~(f_t > 0)
        span = trial - x
        # The quintic matching l, l', l'' at both ends of a step from the left end (in f's
        # sign; its value terms are differences of log-densities, dropped where rounding
        # could swamp them): a forward step where it dips below zero, or a step closing
        # the bracket where it comes back above zero (three sign changes, not one), is not
        # taken, and the next is at most a quarter as long.
        rise = sign * (val[a] - val_t)
        terms = torch.stack(
            [rise, span * f_a, span * span * df_a, span * span * df_t, span * f_t], -1
        )
        estimate = terms @ quintic
        noise = 60 * _SLACK * (1 + val[a].abs())
        below, above = estimate < -noise.unsqueeze(-1), estimate > noise.unsqueeze(-1)
        back_up = (above & (below.cumsum(-1) > 0)).any(-1)
        too_far = ~bracket & ~look & past & back_up & (span > 4 * tol * w)
        past = past & ~too_far
        # A forward step that passes a minimum of f (f' from - to +) is held until the
        # minimum is checked; one whose matching cubic dips below zero is shortened.
        forward = ~bracket & ~look & ~past
        # f >= min(f at the ends) - max|f'| * length on an interval where f' is monotone:
        # no dip below zero is possible when that bound is positive.
        floor = torch.minimum(f_a, f_t) - torch.maximum(df_a.abs(), df_t.abs()) * span
        start_look = forward & (df_a < 0) & (df_t > 0) & ~(floor > 0)
        dip = forward & ~start_look & (span > 4 * tol * w) & below.any(-1)
        dip = dip | too_far
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
        fine_tg[a] = torch.where(start_look, fine_t, fine_tg[a])
        val_tg[a] = torch.where(start_look, val_t, val_tg[a])
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
        val[a] = torch.where(keep_t, val_t, torch.where(settled, val_tg[a], val[a]))
        df[a] = df_a = torch.where(keep_t, df_t, torch.where(settled, df_tg[a], df_a))
        width[a] = w = torch.where(keep_t, w_t, torch.where(settled, w_tg[a], w))
        fine[a] = torch.where(keep_t, fine_t, torch.where(settled, fine_tg[a], fine[a]))
        newest[a] = torch.where(keep_t, trial, torch.where(settled, target[a], newest[a]))
        # Done: a bracket (or the way to stop) shorter than `enough` widths, any bracket if
        # so asked, or a Newton step in a bracket below tol widths (the sign change is then
        # within tol widths of the newest end).
        short = (right - new_lo <= enough * w) | (bracket & any_bracket)
        short &= ~search[a]
        newton_done = bracket & ((f_a / df_a).abs() <= tol * w) & ~short
        point[a] = torch.where(newton_done, newest[a], new_lo)
        after[a] = torch.where(newton_done, torch.minimum(right, newest[a] + 4 * tol * w), right)
        active = a[~(short | newton_done)]
    return point, after, found


def _gap_mixtures(prep, owner, lo, hi):
    """1-D Gaussians: each gap ``[lo, hi]`` as a mixture of only the components that matter
    there, for the walks (``_derivatives`` on ``K'`` components instead of ``K``).

    On an interval a Gaussian's log-density is highest at the point nearest its mean and
    lowest at the far end, so the mixture's log-density is at least the largest of the
    components' lowest values; a component whose highest value stays ``_NEGLIGIBLE`` below
    that has a responsibility under ``e^-_NEGLIGIBLE`` all along the gap, far below float64
    rounding of the derivatives. Returns the reduced ``prep`` (padded with components of
    zero weight) and the row of each gap in it.
    """
    mu, prec = prep["mu"][owner, :, 0], prep["prec"][owner, :, 0]  # [G, K]
    const, scale = prep["const"][owner], prep["scale"][owner, :, 0]
    lo, hi = lo.unsqueeze(-1), hi.unsqueeze(-1)
    nearest = torch.minimum(torch.maximum(mu, lo), hi)
    top = const - 0.5 * prec * (nearest - mu).pow(2)
    bottom = const - 0.5 * prec * torch.maximum((lo - mu).pow(2), (hi - mu).pow(2))
    keep = top >= bottom.amax(-1, keepdim=True) - _NEGLIGIBLE
    order = torch.argsort(keep.to(torch.int8), dim=-1, descending=True, stable=True)
    order = order[:, : max(int(keep.sum(-1).max()), 1)]
    walk = dict(prep)
    walk["mu"] = mu.gather(1, order).unsqueeze(-1)
    walk["prec"] = prec.gather(1, order).unsqueeze(-1)
    walk["scale"] = scale.gather(1, order).unsqueeze(-1)
    walk["const"] = torch.where(keep.gather(1, order), const.gather(1, order), -math.inf)
    return walk, torch.arange(owner.numel(), device=owner.device)


def _missed_modes(prep, params, points, distinct, width, max_iter, tol, merge_tol):
    """The maxima that no ascent from a mean reached.

    A walk follows a line ``base + t direction`` from ``t = left`` to ``t = right``: down
    from the left maximum to the next minimum along the line, then up to the next maximum
    along it (``_march``); if that is not the right end (within ``merge_tol`` local
    widths), it is a candidate and the walk goes on from it.

    In one dimension the lines are the axis itself and the walks cover all of it, so the
    search is complete: between neighbouring maxima, plus, on the line, from the smallest
    mean up to the first maximum and from the last maximum down towards the largest mean
    (all stationary points of a mixture of symmetric unimodal components lie between its
    smallest and largest means); on the circle (von Mises) from the last maximum round to
    the first. A candidate is a new mode when the probes confirm it.

    In more dimensions nothing short of a dense search is complete; the lines are the
    segments between every pair of modes (the shorter way round for angles), and ascents
    start from each maximum and minimum along them, from ``_SEGMENT_STARTS`` evenly spread
    points of each, and of the segment between every pair of components closer than
    ``_NEIGHBOURS`` times the sum of their scales, and from points one and two scales from
    every mean along the axes of its component and their diagonals.

    Returns the new modes, their log-densities, "is a maximum" (all True) and local widths
    as extra columns ``[N, E, ...]`` (padded with NaN, -inf, False, 1), or None when there
    are none.
    """
    family = params.components
    N, C, D = points.shape
    device, dtype = points.device, points.dtype
    rows = torch.arange(N, device=device)
    count = distinct.sum(1)  # [N]; the distinct maxima are the first columns of each row
    has = count > 0
    if D == 1:
        loc, wid = points[..., 0], width[..., 0]
        order = torch.argsort(torch.where(distinct, loc, math.inf), dim=1)
        loc, wid, valid = loc.gather(1, order), wid.gather(1, order), distinct.gather(1, order)
        pair = valid[:, 1:]  # gaps between neighbours (loc[j], loc[j+1])
        n_g = rows.unsqueeze(1).expand_as(pair)[pair]
        left, right = loc[:, :-1][pair], loc[:, 1:][pair]
        left_w, right_w = wid[:, :-1][pair], wid[:, 1:][pair]
        down_first = torch.ones_like(n_g, dtype=torch.bool)
        right_is_max = torch.ones_like(down_first)
        last = (count - 1).clamp_min(0)
        first_loc, first_w = loc[:, 0][has], wid[:, 0][has]
        last_loc, last_w = loc[rows, last][has], wid[rows, last][has]
        yes = torch.ones_like(first_loc, dtype=torch.bool)
        if family.name == "von_mises":
            # From the last maximum round the circle to the first (all of it for one).
            extra = [(rows[has], last_loc, first_loc + 2 * math.pi, last_w, first_w, yes, yes)]
        else:
            mu = params.mu[..., 0][has]
            low, high = mu.min(1).values, mu.max(1).values
            extra = [
                (rows[has], low, first_loc, first_w, first_w, ~yes, yes),  # up only
                (rows[has], last_loc, high, last_w, last_w, yes, ~yes),  # to no maximum
            ]
        for n_e, l_e, r_e, lw_e, rw_e, d_e, m_e in extra:
            n_g, left, right = (
                torch.cat([n_g, n_e]),
                torch.cat([left, l_e]),
                torch.cat([right, r_e]),
            )
            left_w, right_w = torch.cat([left_w, lw_e]), torch.cat([right_w, rw_e])
            down_first = torch.cat([down_first, d_e])
            right_is_max = torch.cat([right_is_max, m_e])
        base = torch.zeros(n_g.numel(), 1, dtype=dtype, device=device)
        direction = torch.ones_like(base)
    else:
        # Segments between every pair (i, j), i < j, of the distinct modes.
        i, j = torch.triu_indices(C, C, offset=1, device=device)
        pair = j.unsqueeze(0) < count.unsqueeze(1)  # [N, P]
        n_g = rows.unsqueeze(1).expand_as(pair)[pair]
        i, j = i.expand_as(pair)[pair], j.expand_as(pair)[pair]
        base = points[n_g, i]
        direction = family.difference(points[n_g, j], points[n_g, i])
        left = torch.zeros(n_g.numel(), dtype=dtype, device=device)
        right = torch.ones_like(left)
        left_w = (direction / width[n_g, i]).norm(dim=-1).reciprocal()
        right_w = (direction / width[n_g, j]).norm(dim=-1).reciprocal()
        down_first = torch.ones_like(n_g, dtype=torch.bool)
        right_is_max = torch.ones_like(down_first)
        # The basin of a missed mode can cross a segment where the density along it only
        # slopes: ascents also start from evenly spread points of every segment, and of
        # the segment between every pair of components closer than _NEIGHBOURS times the
        # sum of their scales (far apart, their tails make a valley, not a mode).
        spread = torch.arange(1, _SEGMENT_STARTS + 1, dtype=dtype, device=device)
        spread = (spread / (_SEGMENT_STARTS + 1)).view(1, -1, 1)
        K = params.mu.shape[1]
        k1, k2 = torch.triu_indices(K, K, offset=1, device=device)
        mu, scale = params.mu, params.sigma
        gap = family.difference(mu[:, k2], mu[:, k1])  # [N, P, D]
        close = (gap / (scale[:, k1] + scale[:, k2])).norm(dim=-1) <= _NEIGHBOURS
        n_c = rows.unsqueeze(1).expand_as(close)[close]
        from_k = mu[:, k1][close]
        # And from points one and two scales away from every mean, along the axes of its
        # component (a full covariance's Cholesky columns) and their diagonals: a mode at
        # the side of an elongated component, where another's tail crosses it.
        axes = (
            params.scale_tril if params.scale_tril is not None else torch.diag_embed(params.sigma)
        )
        axes = axes.transpose(-1, -2)  # [N, K, D (axis), D]
        i, j = torch.triu_indices(D, D, offset=1, device=device)
        diagonals = torch.cat([axes[:, :, i] + axes[:, :, j], axes[:, :, i] - axes[:, :, j]], 2)
        ways = torch.cat([axes, diagonals / math.sqrt(2)], 2)
        ways = torch.cat([ways, -ways, 2 * ways, -2 * ways], 2)  # [N, K, R, D]
        R = ways.shape[2]
        found_n = [
            n_g.repeat_interleave(_SEGMENT_STARTS),
            n_c.repeat_interleave(_SEGMENT_STARTS),
            rows.repeat_interleave(K * R),
        ]
        found_x = [
            (base.unsqueeze(1) + spread * direction.unsqueeze(1)).reshape(-1, D),
            (from_k.unsqueeze(1) + spread * gap[close].unsqueeze(1)).reshape(-1, D),
            (mu.unsqueeze(2) + ways).reshape(-1, D),
        ]
    offset = 0.5 * min(merge_tol, 1e-2)  # where a walk starts off a maximum, in local widths
    enough = 0.1 * offset  # how closely it locates a maximum (an ascent finishes the job)
    settings = (max_iter, tol, _FIRST, enough)
    walk, row = prep, n_g  # the mixture each walk follows, and its row there
    if D == 1 and prep["gaussian"]:
        walk, row = _gap_mixtures(prep, n_g, left, right)
    if D == 1:
        found_n, found_x = [], []
    for _ in range(4 * C + 4):
        if n_g.numel() == 0:
            break
        line = (base, direction)
        # Down from the left maximum to the next minimum (the walks from the smallest mean
        # go up at once).
        low_t = left.clone()
        down = down_first.nonzero().squeeze(-1)
        if down.numel():
            start = left[down] + offset * left_w[down]
            sub = (base[down], direction[down])
            _, past, found = _march(
                walk, row[down], sub, start, right[down], False, *settings, any_bracket=True
            )
            low_t[down] = torch.where(found, past, right[down])
            if D > 1:
                # Off the segment the valley may rise into a mode no ascent reached: its
                # lowest point along the segment starts an ascent too.
                found_n.append(n_g[down][found])
                found_x.append((base[down] + low_t[down].unsqueeze(-1) * direction[down])[found])
        # Up to the next maximum.
        top, _, _ = _march(walk, row, line, low_t, right, True, *settings)
        _, _, w_top, _, _ = _along(walk, row, base, direction, top)
        at_right = (right - top).abs() <= merge_tol * torch.minimum(w_top, right_w)
        at_right = (at_right & right_is_max) | (top >= right)
        go_on = ~at_right
        if not bool(go_on.any()):
            break
        n_g, row, top, w_top = n_g[go_on], row[go_on], top[go_on], w_top[go_on]
        base, direction = base[go_on], direction[go_on]
        found_n.append(n_g)
        found_x.append(base + top.unsqueeze(-1) * direction)
        left, left_w, right, right_w = top, w_top, right[go_on], right_w[go_on]
        right_is_max = right_is_max[go_on]
        down_first = torch.ones_like(go_on[go_on])
    if not found_n:
        return None
    n_new, x_new = torch.cat(found_n), torch.cat(found_x)
    # The walks locate a maximum along their line to a tenth of their first step: an
    # ascent finishes it (in 1-D), or climbs from there (in more dimensions).
    x_new, converged = _ascend(prep, n_new, x_new, max_iter, tol)
    x_new = family.wrap(x_new)
    lp_new, max_new, w_new, _ = _check_maxima(prep, n_new, x_new, converged)
    # Keep the maxima that are not a known mode again (most ascents in 2-D and up).
    gap = family.difference(x_new.unsqueeze(1), points[n_new]).abs()  # [A, C, D]
    near = (gap <= merge_tol * torch.minimum(w_new.unsqueeze(1), width[n_new])).all(-1)
    known = (near & distinct[n_new]).any(-1)
    keep = max_new & ~known
    n_new, x_new, lp_new, w_new = n_new[keep], x_new[keep], lp_new[keep], w_new[keep]
    if n_new.numel() == 0:
        return None
    # Scatter into extra columns: the j-th new point of row n goes to column j.
    per_row = torch.bincount(n_new, minlength=N)
    E = int(per_row.max())
    sort = torch.argsort(n_new, stable=True)
    n_new, x_new, lp_new, w_new = n_new[sort], x_new[sort], lp_new[sort], w_new[sort]
    col = torch.arange(n_new.numel(), device=device) - (torch.cumsum(per_row, 0) - per_row)[n_new]
    X = points.new_full((N, E, D), math.nan)
    LP = points.new_full((N, E), -math.inf)
    IS = torch.zeros(N, E, dtype=torch.bool, device=device)
    W = points.new_ones((N, E, D))
    X[n_new, col], LP[n_new, col], IS[n_new, col], W[n_new, col] = x_new, lp_new, True, w_new
    return X, LP, IS, W
