r"""Every mode of a mixture: the local maxima of its density, found by vectorised ascents.

:func:`conditional_modes` starts an ascent from every component's mean (Newton steps near a
peak, mean-shift steps elsewhere, with a backtracking line search), checks that every end
point is a maximum, and merges the ones closer than the local width. Then it looks for the
modes whose basin holds no mean: in one dimension by a certified search of the whole line
(or circle) that finds every maximum (``modes_1d``), in more by walks between the
modes found and more ascents (``modes_nd``). Every step treats all points and all
starting points at once: no Python loop runs over points or components.

Public: :class:`Modes` and :func:`conditional_modes`. The densities and derivatives they
stand on are in ``mode_kernels``; that module, ``modes_1d`` and ``modes_nd``
are internal.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ..checks import positive_float, positive_int
from ..mixture import MixtureParameters, check_params, get_family
from .mode_kernels import ascend, check_maxima, derivatives, prepare
from .modes_1d import axis_maxima
from .modes_nd import segment_starts

__all__ = ["Modes", "conditional_modes"]


class Modes(NamedTuple):
    """Local maxima of each input's mixture density.

    Each row holds ``C`` points: the end points of the ``K`` ascents (one from every
    component mean), with any mode that the search between maxima added in place of a
    repeat. ``C = K`` unless a mixture has more modes than components (possible, if rare:
    then ``C`` is the largest number of modes of any row). Each row is sorted: first the
    distinct modes, highest first, then the rest (repeats of a mode, and end points that
    are not maxima) by density. A row with fewer points than ``C`` is padded with absent
    ones: location NaN, log-density ``-inf``, not distinct.

    Rows are selected with :meth:`rows` (``modes[i]`` is the tuple's field ``i``) and
    joined with :meth:`cat`.

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

    def rows(self, index) -> Modes:
        """The modes of the mixtures ``index``: an int, a slice, a list or tensor of indices,
        or a boolean mask ``[N]``. The result is ``[N', C, ...]`` (an int keeps its row as
        ``N' = 1``; ``C`` stays, so a row may keep absent points past its modes).

        Example:
            >>> m = Modes(torch.zeros(3, 2, 1), torch.zeros(3, 2),
            ...           torch.ones(3, 2, dtype=torch.bool), torch.zeros(3, 1))
            >>> m.rows(1).location.shape, m.rows([0, 2]).count.tolist()
            (torch.Size([1, 2, 1]), [2, 2])
        """
        if isinstance(index, bool) or not isinstance(index, (int, slice, list, torch.Tensor)):
            raise TypeError(
                "index must be an int, a slice, a list or a tensor of indices or a boolean "
                f"mask, got {type(index).__name__}"
            )
        if isinstance(index, int):
            n = self.location.shape[0]
            if not -n <= index < n:
                raise IndexError(f"row {index} is out of range for {n} mixtures")
            index = slice(index % n, index % n + 1)
        return Modes(*(field[index] for field in self))

    @staticmethod
    def cat(parts) -> Modes:
        """The rows of ``parts`` (a sequence of :class:`Modes`) one after another.

        Parts with fewer columns ``C`` are padded with absent points (location NaN,
        log-density ``-inf``, not distinct) up to the largest. All parts must have the same
        ``D`` and dtype.
        """
        parts = list(parts)
        if not parts or not all(isinstance(p, Modes) for p in parts):
            raise TypeError("parts must be a non-empty sequence of Modes")
        D, dtype = parts[0].location.shape[-1], parts[0].location.dtype
        for i, p in enumerate(parts):
            if p.location.shape[-1] != D or p.location.dtype != dtype:
                raise ValueError(
                    f"parts[{i}] has D = {p.location.shape[-1]} ({p.location.dtype}); "
                    f"parts[0] has D = {D} ({dtype})"
                )
        C = max(p.location.shape[1] for p in parts)

        def pad(p: Modes) -> Modes:
            n, extra = p.location.shape[0], C - p.location.shape[1]
            location = p.location.new_full((n, extra, D), math.nan)
            log_dens = p.log_density.new_full((n, extra), -math.inf)
            distinct = p.distinct.new_zeros((n, extra))
            return Modes(
                torch.cat([p.location, location], 1),
                torch.cat([p.log_density, log_dens], 1),
                torch.cat([p.distinct, distinct], 1),
                p.highest,
            )

        padded = [pad(p) for p in parts]
        return Modes(*(torch.cat(fields) for fields in zip(*padded, strict=True)))


# About 95 lines, two thirds of them the docstring: it is the search's documentation, the
# 1-D guarantee included; the body is some 30 lines.
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
    each axis and each eigenvector of the Hessian (a saddle, a minimum or an unfinished
    ascent is rejected, a flat top or a kink is kept). An end point that is not a maximum
    but has a rising direction climbs again from there. Maxima within ``merge_tol`` local
    widths of a higher one are the same mode.

    Ascents from the means miss a mode whose basin holds no mean (the tails of components
    on both sides can add up to such a bump, or a shallow bump can sit between a broad
    component and a narrow, heavy one). In one dimension a certified search of the whole
    line (every family but ``von_mises``: from the smallest mean to the largest, where
    every stationary point of a mixture of symmetric unimodal components lies) or circle
    (``von_mises``) then finds every maximum: cells between the means and the points where
    a component's first or second derivative peaks, on which the bounds of the density's
    first and second derivatives prove that a cell holds no sign change of the first, or
    exactly one, or else halve it (``modes_1d``). **Guarantee (1-D)**: up to float64
    rounding of the sign of the density's derivative, every local maximum is reported,
    except a maximum that lies together with a minimum beside it inside an interval
    narrower than ``tol`` times the smallest component scale (a bump that narrow is
    reported once where the derivative's sign goes from + to - across the interval, and
    missed where it does not); maxima within ``merge_tol`` local widths of a higher one
    are reported as that one. (For ``gennorm`` the bounds take the density as
    :math:`e^{-|z|^\beta}` also where the library continues :math:`|z|^\beta` linearly,
    past :math:`e^{30}`: where every component is that far out, below
    :math:`e^{-10^{13}}`.) In more dimensions no finite search is complete: walks follow
    the segments between pairs of modes, and more ascents start from points on them,
    between neighbouring components and around every mean (``modes_nd``); in random
    tests against dense grids in 2-D they found every mode, at a cost that grows with the
    square of the number of components.

    The arithmetic is float64 whatever the parameters' dtype. Gaussian families use
    closed-form derivatives; the others differentiate each dimension of each component by
    autograd (every family but the full-covariance Gaussian is a product over dimensions).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family.
        max_iter: most steps of each ascent and of each walk.
        tol: an ascent stops once its full step is below ``tol`` local widths in every
            dimension; a walk locates a minimum or maximum to ``tol`` local widths; the
            1-D search halves cells down to ``tol`` times the smallest scale.
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
    family = get_family(params.family)
    N, K, D = params.mu.shape
    prep = prepare(params)
    climbed = _climb_from_means(prep, params, max_iter, tol)
    extra = None
    if N and D == 1:
        # The certified search's maxima are the modes; the ascents' end points stay as
        # the rest of each row (repeats, and points that only look flat to rounding).
        extra = _axis_modes(prep, params, tol)
        climbed = (*climbed[:2], torch.zeros_like(climbed[2]), climbed[3])
    elif N:
        found = _merge(family, *climbed, merge_tol)
        points, _, _, width, distinct = found
        n_new, x_new = segment_starts(
            prep, params, points, distinct, width, max_iter, tol, merge_tol
        )
        extra = _new_modes(prep, family, found, n_new, x_new, max_iter, tol, merge_tol)
        climbed = found[:4]
    columns = climbed
    if extra is not None:
        pairs = zip(climbed, extra, strict=True)  # pragma: no mutate (why: two 4-tuples)
        columns = (torch.cat([a, b], 1) for a, b in pairs)
    points, log_dens, _, _, distinct = _merge(family, *columns, merge_tol)
    keep = max(K, int(distinct.sum(-1).max())) if N else K
    points, log_dens, distinct = points[:, :keep], log_dens[:, :keep], distinct[:, :keep]
    highest = points[:, 0] if N else points.new_full((N, D), math.nan)
    return Modes(points.to(dtype), log_dens.to(dtype), distinct, highest.to(dtype))


def _climb_from_means(prep, params, max_iter, tol):
    """One ascent from every component mean, checked, and climbed again from a rising
    probe where the end point is not a maximum: points ``[N, K, D]``, log-densities and
    "is a maximum" ``[N, K]``, local widths ``[N, K, D]``."""
    N, K, D = params.mu.shape
    owner = torch.arange(N, device=params.mu.device).repeat_interleave(K)  # [M = N*K]
    points = params.mu.reshape(N * K, D).clone()  # one ascent from every component mean
    climb = torch.arange(N * K).to(params.mu.device)
    converged = torch.zeros(N * K, dtype=torch.bool).to(params.mu.device)
    if prep["cusped"]:
        # At a kink (or the infinite curvature of a generalised normal with beta < 2) the
        # derivatives at a mean say little about the mode next to it: a mean that is
        # already a maximum stays there, and the others climb from their highest probe.
        _, at_mean, _, nudge = check_maxima(prep, owner, points, converged)
        points = torch.where(torch.isfinite(nudge), nudge, points)
        climb = climb[~at_mean]
    points[climb], converged[climb] = ascend(prep, owner[climb], points[climb], max_iter, tol)
    log_dens, is_max, width, escape = check_maxima(prep, owner, points, converged)
    # An end point with a rising direction (a saddle, an unfinished ascent) climbs again.
    again = (~is_max & torch.isfinite(escape).all(-1)).nonzero().squeeze(-1)
    if again.numel():
        more, conv = ascend(prep, owner[again], escape[again], max_iter, tol)
        lp2, max2, w2, _ = check_maxima(prep, owner[again], more, conv)
        points[again], log_dens[again], is_max[again], width[again] = more, lp2, max2, w2
    points = prep["family"].wrap(points)
    return points.view(N, K, D), log_dens.view(N, K), is_max.view(N, K), width.view(N, K, D)


def _new_modes(prep, family, found, n_new, x_new, max_iter, tol, merge_tol):
    """The maxima reached from the points ``x_new`` ``[A, D]`` (of mixtures ``n_new``) that
    are not a mode in ``found`` (the merged modes so far) again.

    An ascent climbs from each point; the probes confirm its end. Returns the new modes, their
    log-densities, "is a maximum" (all True) and local widths as extra columns
    ``[N, E, ...]`` (padded with NaN, -inf, False, 1), or None when there are none.
    """
    points, _, _, width, distinct = found
    N, _, D = points.shape
    if n_new.numel() == 0:
        return None
    x_new, converged = ascend(prep, n_new, x_new, max_iter, tol)
    x_new = family.wrap(x_new)
    lp_new, max_new, w_new, _ = check_maxima(prep, n_new, x_new, converged)
    # Keep the maxima that are not a known mode again (most of them).
    gap = family.difference(x_new.unsqueeze(1), points[n_new]).abs()  # [A, C, D]
    near = (gap <= merge_tol * torch.minimum(w_new.unsqueeze(1), width[n_new])).all(-1)
    known = (near & distinct[n_new]).any(-1)
    keep = max_new & ~known
    n_new, x_new, lp_new, w_new = n_new[keep], x_new[keep], lp_new[keep], w_new[keep]
    if n_new.numel() == 0:
        return None
    return _columns(N, D, n_new, x_new, lp_new, w_new)


def _axis_modes(prep, params, tol):
    """1-D: every maximum that the certified search finds (:func:`.modes_1d.axis_maxima`),
    with its log-density and local width, as extra columns (see :func:`_columns`)."""
    n_new, x_new = axis_maxima(params, tol)
    x_new = prep["family"].wrap(x_new.unsqueeze(-1))
    found = derivatives(prep, n_new, x_new, hessian=False)  # pragma: no mutate (why: unused)
    lp_new, w_new = found[0], found[3]  # the Hessian is not used: True only costs time
    return _columns(params.mu.shape[0], 1, n_new, x_new, lp_new, w_new)


def _columns(N, D, n_new, x_new, lp_new, w_new):
    """New maxima of mixtures ``n_new`` ``[A]`` as extra columns ``[N, E, ...]``: the places,
    log-densities, "is a maximum" (all True) and local widths (padded with NaN, -inf,
    False, 1); None when there are none."""
    if n_new.numel() == 0:
        return None
    # The j-th new point of row n goes to column j.
    per_row = torch.bincount(n_new, minlength=N)
    E = int(per_row.max())
    sort = torch.argsort(n_new, stable=True)
    n_new, x_new, lp_new, w_new = n_new[sort], x_new[sort], lp_new[sort], w_new[sort]
    col = torch.arange(n_new.numel(), device=x_new.device)
    col = col - (torch.cumsum(per_row, 0) - per_row)[n_new]
    X = x_new.new_full((N, E, D), math.nan)
    LP = x_new.new_full((N, E), -math.inf)
    IS = torch.zeros(N, E, dtype=torch.bool, device=x_new.device)
    W = x_new.new_ones((N, E, D))
    X[n_new, col], LP[n_new, col], IS[n_new, col], W[n_new, col] = x_new, lp_new, True, w_new
    return X, LP, IS, W


def _order_by(is_max: torch.Tensor, log_density: torch.Tensor) -> torch.Tensor:
    """Indices sorting each row: maxima by density (highest first), then the rest."""
    by_density = torch.argsort(
        torch.nan_to_num(log_density, nan=-math.inf),
        dim=-1,
        descending=True,
        stable=True,  # pragma: no mutate (why: ties are equal points or NaN padding: order unseen)
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
