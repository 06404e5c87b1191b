r"""The densities and derivatives the mode search stands on (internal to ``modes``).

Everything here is internal API: ``__all__`` is empty, and only the mode search's modules
(``modes``, ``modes_nd``) import these names. :func:`prepare` computes once what
the derivatives need; :func:`log_density` and :func:`derivatives` evaluate the mixture
``owner[a]`` at ``points[a]`` for many points of many mixtures at once; :func:`along` gives
the derivatives along a line; :func:`ascend` climbs from many points at once (Newton
or fixed-point steps with a line search; :func:`kink_step` cuts a step at the first kink
of a Laplace or generalised normal component); :func:`check_maxima` tells whether end
points are maxima.
``SLACK`` and ``MAX_STEP`` are the tolerances the ascents and the walks share. All
arithmetic is float64.
"""

from __future__ import annotations

import math

import torch

from ..mixture import MixtureParameters, get_family, log_joint

__all__: list[str] = []

#: A component is present at a point where its responsibility is at least this.
_PRESENT = 1e-6
#: A change of the log-density is resolved when larger than this (relative to
#: ``1 + |log-density|``): float64 rounding of a log-sum-exp stays far below it.
SLACK = 1e-12
#: Most local widths one Newton step of an ascent may move; and the longest step of a walk
#: between maxima, in units of the finest feature scale of the components present.
MAX_STEP = 1.0
#: Probe lengths, in local widths, of the test that an end point is a maximum: each
#: direction is judged at the shortest at which the change of the log-density is resolved.
_PROBES = (1e-6, 1e-3, 1e-2)


def prepare(params: MixtureParameters) -> dict:
    """What the derivatives need, computed once (float64 ``params``).

    Gaussians: the constant ``log pi_k - log|Sigma_k|^(1/2) - D/2 log(2 pi)`` ``[N, K]`` and
    the precisions, ``[N, K, D]`` (diagonal) or ``[N, K, D, D]`` (full). Other families:
    the parameters and the inverse squared scales, the metric of the fixed-point step. All:
    the finest feature scale of each component (``scale``), and whether the family has a
    kink (``kinked``) or an infinite curvature (``cusped``) at the means.
    """
    family = get_family(params.family)
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
        scale = scale * (2 / params.shape_param).clamp(max=1).unsqueeze(-1)
    prep["scale"] = scale
    # A kink at the mean (Laplace; generalised normal with beta <= 1), or at least an
    # infinite curvature there (beta < 2).
    beta = params.shape_param if family.name == "gennorm" else None
    prep["kinked"] = family.name == "laplace" or (beta is not None and bool((beta <= 1).any()))
    prep["cusped"] = prep["kinked"] or (beta is not None and bool((beta < 2).any()))
    return prep


def log_density(prep: dict, owner, points) -> torch.Tensor:
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


def derivatives(prep: dict, owner, points, hessian: bool = True):
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
        shape = None if sub.shape_param is None else sub.shape_param.unsqueeze(-1).expand(A, K, D)
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


def along(prep, owner, base, direction, t):
    """The log-density along the line ``base + t direction`` ``[A, D]``: its first and
    second derivatives in ``t`` ``[A]``, the local width and the finest feature scale in
    units of ``t`` ``[A]`` (the line's length over one of them, inverted), and the
    log-density ``[A]``."""
    lp, grad, hess, width, _, narrow = derivatives(prep, owner, base + t.unsqueeze(-1) * direction)
    first = (grad * direction).sum(-1)
    second = (direction.unsqueeze(-1) * hess * direction.unsqueeze(-2)).sum((-1, -2))
    in_t = lambda w: (direction / w).norm(dim=-1).reciprocal()  # noqa: E731
    return first, second, in_t(width), in_t(narrow), lp


def kink_step(prep, owner, x, grad, step):
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
        beta = sub.shape_param.unsqueeze(-1).expand_as(mu)
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


def check_maxima(prep, owner, points, converged):
    """Log-density, "is a local maximum", local widths and an escape point at each end point.

    A point is a maximum when it converged with a Hessian that is clearly negative definite
    in local-width units (largest eigenvalue below -1e-6; not for families with kinks or
    cusps, ``prep["cusped"]``), or else when the density does not
    rise a small step away from it along any axis or eigenvector of the Hessian, in either
    direction: each direction is judged at the shortest of ``_PROBES`` local widths where
    the change of the log-density exceeds float64 rounding (``SLACK``), so that a kink
    close to a lower minimum is seen as a maximum while a saddle, whose rise only shows
    further out, is not; a direction where no change is resolved counts as flat. The
    escape point is the highest probe of a point that is not a maximum and has a rising
    probe (NaN otherwise).
    """
    lp, grad, hess, width, _, _ = derivatives(prep, owner, points)
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
    slack = SLACK * (1 + lq.abs())
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
        around = log_density(prep, owner[probe_at[q]], probe)
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


def _ascent_step(grad, hess, width, fixed):
    """The full step of an ascent: Newton where ``-hess`` is positive definite and the step
    is at most ``MAX_STEP`` local widths, the fixed-point step elsewhere; its size in local
    widths (largest over dimensions); and whether it is Newton's."""
    hess = torch.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    chol, info = torch.linalg.cholesky_ex(-hess)
    newton = torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
    newton_size = (newton / width).abs().amax(-1)
    use = (info == 0) & torch.isfinite(newton_size) & (newton_size <= MAX_STEP)
    step = torch.where(use.unsqueeze(-1), newton, fixed)
    return step, (step / width).abs().amax(-1), use


def ascend(prep, owner, points, max_iter: int, tol: float):
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
    state = derivatives(prep, owner, points)
    kinked = prep["kinked"]
    for _ in range(max_iter):
        if active.numel() == 0:
            break
        n, x = owner[active], points[active]
        lp, grad, hess, width, fixed, _ = state
        step, size, newton = _ascent_step(grad, hess, width, fixed)
        snap = None
        if kinked:
            step, snap = kink_step(prep, n, x, grad, step)
            size = (step / width).abs().amax(-1)
        done = ~(size > tol)  # also NaN
        converged[active[done]] = True
        slope = (grad * step).sum(-1)  # > 0: an ascent direction
        full_x = x + step
        if snap is not None:  # land exactly on the kink
            on = torch.where(snap, prep["mu"][n], 0.0).sum(1)
            full_x = torch.where(snap.any(1), on, full_x)
        at_full = derivatives(prep, n, full_x)
        rise = at_full[0] - lp
        full = rise >= 1e-4 * slope
        # Close to a flat maximum the rise of a Newton step drowns in rounding before the
        # gradient does: the step is taken while it shrinks the gradient.
        flat = rise.abs() <= SLACK * (1 + lp.abs())
        shrinks = (at_full[1] * width).norm(dim=-1) < (grad * width).norm(dim=-1)
        full |= newton & flat & shrinks
        accepted = full.clone()
        alpha = torch.where(full, 1.0, 0.5)
        pending = (~full & (0.5 * size >= tol)).nonzero().squeeze(-1)
        while pending.numel():
            trial = x[pending] + alpha[pending, None] * step[pending]
            rise = log_density(prep, n[pending], trial) - lp[pending]
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
            again = derivatives(prep, owner[active[shorter]], points[active[shorter]])
            for v, w in zip(state, again, strict=True):
                v[shorter] = w
    return points, converged
