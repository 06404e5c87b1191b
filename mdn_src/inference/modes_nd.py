r"""The walks between modes in two or more dimensions (internal to ``modes``).

Everything here is internal API: ``__all__`` is empty, and only ``modes`` imports
from it (:func:`segment_starts`); :func:`march` is the walk along a line that it uses.

In more dimensions no finite search is complete. The walks follow the segments between
every pair of modes (the shorter way round for angles): down from the left mode to the
next minimum along the segment, then up to the next maximum along it (:func:`march`); a
maximum short of the right end starts an ascent, and so does each minimum (off the segment
the valley may rise into a mode). Ascents also start from evenly spread points of every
segment, of the segment between every pair of close components, and from points one and
two scales from every mean along the axes of its component and their diagonals. In random
tests against dense grids in 2-D they found every mode, at a cost that grows with the
square of the number of components.
"""

from __future__ import annotations

import math

import torch

from ..mixture import get_family
from .mode_kernels import MAX_STEP, SLACK, along

__all__: list[str] = []

#: The first step of a walk, in local widths (the steps then grow fourfold).
_FIRST = 0.25
#: Ascents start from this many evenly spread points of the segment between every pair of
#: modes (besides its lowest point), and of the segment between every pair of components
#: whose means are closer than _NEIGHBOURS times the sum of their scales.
_SEGMENT_STARTS = 7
_NEIGHBOURS = 4.0


def segment_starts(prep, params, points, distinct, width, max_iter, tol, merge_tol):
    """Where ascents start to look for the maxima that no ascent from a mean reached.

    ``points``, ``distinct``, ``width``: the modes found so far (``[N, C, D]``, ``[N, C]``,
    ``[N, C, D]``; the distinct ones first in each row). Returns the mixture and the start
    point of each ascent, ``[A]`` and ``[A, D]``.
    """
    family = get_family(params.family)
    N, C, D = points.shape
    rows = torch.arange(N, device=points.device)
    count = distinct.sum(1)  # [N]; the distinct maxima are the first columns of each row
    # Segments between every pair (i, j), i < j, of the distinct modes.
    i, j = torch.triu_indices(C, C, offset=1, device=points.device)
    pair = j.unsqueeze(0) < count.unsqueeze(1)  # [N, P]
    n_g = rows.unsqueeze(1).expand_as(pair)[pair]
    i, j = i.expand_as(pair)[pair], j.expand_as(pair)[pair]
    base = points[n_g, i]
    direction = family.difference(points[n_g, j], points[n_g, i])
    left_w = (direction / width[n_g, i]).norm(dim=-1).reciprocal()
    right_w = (direction / width[n_g, j]).norm(dim=-1).reciprocal()
    found_n, found_x = fixed_starts(params, family, n_g, base, direction)
    walk_n, walk_x = _walk_segments(
        prep, n_g, base, direction, left_w, right_w, C, max_iter, tol, merge_tol
    )
    return torch.cat(found_n + walk_n), torch.cat(found_x + walk_x)


def fixed_starts(params, family, n_g, base, direction):
    """Evenly spread points of each segment and of the segment between every pair of close
    components, and points around every mean: lists of mixtures and of points."""
    N, K, D = params.mu.shape
    dtype, device = params.mu.dtype, params.mu.device
    rows = torch.arange(N, device=device)
    # The basin of a missed mode can cross a segment where the density along it only
    # slopes: ascents also start from evenly spread points of every segment, and of
    # the segment between every pair of components closer than _NEIGHBOURS times the
    # sum of their scales (far apart, their tails make a valley, not a mode).
    spread = torch.arange(1, _SEGMENT_STARTS + 1, dtype=dtype, device=device)
    spread = (spread / (_SEGMENT_STARTS + 1)).view(1, -1, 1)
    k1, k2 = torch.triu_indices(K, K, offset=1, device=device)
    mu, scale = params.mu, params.sigma
    gap = family.difference(mu[:, k2], mu[:, k1])  # [N, P, D]
    close = (gap / (scale[:, k1] + scale[:, k2])).norm(dim=-1) <= _NEIGHBOURS
    n_c = rows.unsqueeze(1).expand_as(close)[close]
    from_k = mu[:, k1][close]
    # And from points one and two scales away from every mean, along the axes of its
    # component (a full covariance's Cholesky columns) and their diagonals: a mode at
    # the side of an elongated component, where another's tail crosses it.
    axes = params.scale_tril if params.scale_tril is not None else torch.diag_embed(params.sigma)
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
    return found_n, found_x


def _walk_segments(prep, n_g, base, direction, left_w, right_w, C, max_iter, tol, merge_tol):
    """Walk every segment ``base + t direction``, ``t`` from 0 (a mode) to 1 (another): down
    to the next minimum, up to the next maximum, and on from there if that is not the right
    end (within ``merge_tol`` local widths). Returns lists of mixtures and of points: every
    minimum and every maximum short of the right end."""
    left = torch.zeros_like(left_w)
    right = torch.ones_like(left)
    offset = 0.5 * min(merge_tol, 1e-2)  # where a walk starts off a maximum, in local widths
    enough = 0.1 * offset  # how closely it locates a maximum (an ascent finishes the job)
    settings = (max_iter, tol, _FIRST, enough)
    found_n, found_x = [], []
    for _ in range(4 * C + 4):
        if n_g.numel() == 0:
            break
        # Down from the left maximum to the next minimum.
        start = left + offset * left_w
        _, past, found = march(
            prep, n_g, (base, direction), start, right, False, *settings, any_bracket=True
        )
        low_t = torch.where(found, past, right)
        # Off the segment the valley may rise into a mode no ascent reached: its lowest
        # point along the segment starts an ascent too.
        found_n.append(n_g[found])
        found_x.append((base + low_t.unsqueeze(-1) * direction)[found])
        # Up to the next maximum.
        top, _, _ = march(prep, n_g, (base, direction), low_t, right, True, *settings)
        _, _, w_top, _, _ = along(prep, n_g, base, direction, top)
        at_right = (right - top).abs() <= merge_tol * torch.minimum(w_top, right_w)
        go_on = ~(at_right | (top >= right))
        if not bool(go_on.any()):
            break
        n_g, top, w_top = n_g[go_on], top[go_on], w_top[go_on]
        base, direction = base[go_on], direction[go_on]
        found_n.append(n_g)
        found_x.append(base + top.unsqueeze(-1) * direction)
        left, left_w, right, right_w = top, w_top, right[go_on], right_w[go_on]
    return found_n, found_x


# Longer than the rest (about 190 lines): one vectorised state machine over all walks at
# once, whose phases (forward steps, the search for a dip, the bracket) share their state
# tensors and masks; split, they would pass a dozen of them back and forth.


def quintic_slope(u: torch.Tensor) -> torch.Tensor:
    """The derivative of the quintic matching l, l', l'' at both ends of a step, at ``u``
    ``[U]`` (fractions of the step): weights ``[5, U]`` on ``(l0 - l1, s l0', s^2 l0'',
    s^2 l1'', s l1')`` whose sum is ``s l'(x + u s)``; i.e.
    ``l'(x + u s) ~ [(l0 - l1) (30 v) + s l0' a + s^2 l0'' b + s^2 l1'' c + s l1' d] / s``."""
    v = -(u**2) + 2 * u**3 - u**4
    return torch.stack(
        [
            30 * v,
            1 - 18 * u**2 + 32 * u**3 - 15 * u**4,
            u - 4.5 * u**2 + 6 * u**3 - 2.5 * u**4,
            1.5 * u**2 - 4 * u**3 + 2.5 * u**4,
            -12 * u**2 + 28 * u**3 - 15 * u**4,
        ]
    )


def march(
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
    last step (the first is ``first`` local widths); never more than ``MAX_STEP`` local
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
    f, df, width, fine, val = along(prep, owner, base, direction, lo)
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
    ra, rb = f.clone(), f.clone()  # f' at ia, ib (da, db are Illinois-scaled copies)
    side = torch.zeros_like(lo)  # Illinois: which end was kept last (-1 a, +1 b)
    target, f_tg, df_tg, val_tg = lo.clone(), f.clone(), f.clone(), val.clone()
    w_tg, fine_tg = width.clone(), fine.clone()
    quintic = quintic_slope(torch.linspace(0.05, 0.95, 19, dtype=lo.dtype, device=lo.device))
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
        step = torch.minimum(step.clamp(min=2 * tol * w, max=MAX_STEP * fine[a]), limit[a])
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

        f_t, df_t, w_t, fine_t, val_t = along(prep, owner[a], base[a], direction[a], trial)
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
        noise = 60 * SLACK * (1 + val[a].abs())
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
        ra[a] = torch.where(left_side, df_t, ra[a])
        ib[a] = torch.where(right_side, trial, ib[a])
        fb[a] = torch.where(right_side, f_t, fb[a])
        db[a] = torch.where(right_side, df_t, torch.where(keep_a, 0.5 * db[a], db[a]))
        rb[a] = torch.where(right_side, df_t, rb[a])
        side[a] = torch.where(left_side, -1.0, torch.where(right_side, 1.0, side[a]))
        length = ib[a] - ia[a]
        # The true f' at the ends, not the Illinois-halved ones: with those the bound let
        # a search end over a dip below zero (a shallow bump skipped).
        floor = torch.minimum(fa[a], fb[a]) - torch.maximum(ra[a].abs(), rb[a].abs()) * length
        settled = look & ~past & ((length <= tol * w) | (floor > 0))
        ia[a] = torch.where(start_look, x, ia[a])
        fa[a] = torch.where(start_look, f_a, fa[a])
        da[a] = torch.where(start_look, df_a, da[a])
        ra[a] = torch.where(start_look, df_a, ra[a])
        ib[a] = torch.where(start_look, trial, ib[a])
        fb[a] = torch.where(start_look, f_t, fb[a])
        db[a] = torch.where(start_look, df_t, db[a])
        rb[a] = torch.where(start_look, df_t, rb[a])
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
