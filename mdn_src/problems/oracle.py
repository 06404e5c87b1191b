r"""The exact answer to the toy problem: true conditional densities and Bayes-optimal figures.

Every model in the book is held against these yardsticks. With
:math:`f(x) = x + 0.3 \sin 2\pi x` and noise uniform on :math:`(-0.1, 0.1)`:

* forward, :math:`p(t \mid x)` is uniform on :math:`(f(x) - 0.1, f(x) + 0.1)`;
* inverse, :math:`p(x \mid t)` is uniform on :math:`S_t = \{x \in [0, 1] : |f(x) - t| < 0.1\}`,
  a union of up to three intervals, because :math:`p(x) = 1` on :math:`[0, 1]`.

:math:`f` rises, falls and rises again, so :math:`S_t` is found exactly by inverting
:math:`f` on each of its three monotone pieces by bisection: to float64 resolution
in x where f is steep, to about 1e-8 at its turning points, where f' = 0.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from ..checks import positive_int
from .toy import AMPLITUDE, NOISE_HALF_WIDTH, toy_curve

__all__ = [
    "MONOTONE_PIECES",
    "bayes_mse",
    "bayes_nll",
    "best_gaussian_nll",
    "branch_count",
    "conditional_mean",
    "conditional_variance",
    "forward_density",
    "interval_count",
    "inverse_cdf",
    "inverse_crps",
    "inverse_density",
    "inverse_support",
    "marginal_density_t",
    "support_intervals",
]

_WIDTH = 2 * NOISE_HALF_WIDTH
# f'(x) = 1 + 2 pi A cos(2 pi x) vanishes where cos(2 pi x) = -1 / (2 pi A).
_TURN = math.acos(-1.0 / (2 * math.pi * AMPLITUDE)) / (2 * math.pi)
#: The three pieces of [0, 1] on which f is monotone.
MONOTONE_PIECES = ((0.0, _TURN), (_TURN, 1.0 - _TURN), (1.0 - _TURN, 1.0))


def _invert_on_piece(level: np.ndarray, a: float, b: float) -> np.ndarray:
    """x in [a, b] with f(x) = level, for f monotone on [a, b]; level is clipped to f's range."""
    fa, fb = toy_curve(a), toy_curve(b)
    increasing = fb > fa
    level = np.clip(level, min(fa, fb), max(fa, fb))
    lo = np.full(level.shape, a, dtype=np.float64)
    hi = np.full(level.shape, b, dtype=np.float64)
    for _ in range(60):  # halves [a, b] below float64 resolution
        mid = 0.5 * (lo + hi)
        below = (toy_curve(mid) < level) == increasing
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def inverse_support(t) -> tuple[np.ndarray, np.ndarray]:
    r"""The intervals making up :math:`S_t`, one per monotone piece of f.

    Arguments:
        t: array of inverse-problem inputs, any shape ``[...]``.

    Returns:
        ``(left, right)``, each of shape ``[..., 3]``: the ends of the interval of
        :math:`S_t` inside each monotone piece (``left == right`` where it is empty).
    """
    t = np.asarray(t, dtype=np.float64)
    lefts, rights = [], []
    for a, b in MONOTONE_PIECES:
        ends = np.stack(
            [
                _invert_on_piece(t - NOISE_HALF_WIDTH, a, b),
                _invert_on_piece(t + NOISE_HALF_WIDTH, a, b),
            ]
        )
        lefts.append(ends.min(axis=0))
        rights.append(ends.max(axis=0))
    return np.stack(lefts, axis=-1), np.stack(rights, axis=-1)


def branch_count(t) -> np.ndarray:
    """How many separate branches of f can produce each t: the non-empty pieces of :math:`S_t`.

    0 outside [-0.1, 1.1], 1 near the ends, 3 in the middle (where the inverse problem is
    hardest). Integer array of ``t``'s shape.
    """
    left, right = inverse_support(t)
    return (right > left).sum(-1)


def support_intervals(t) -> tuple[np.ndarray, np.ndarray]:
    r"""The disjoint intervals whose union is :math:`S_t`, left to right.

    The branch intervals of :func:`inverse_support` can touch: where the band
    :math:`|f(x) - t| < 0.1` covers a turning point of f, the intervals on either side of
    it meet there and form one interval. This merges them.

    Arguments:
        t: array of inverse-problem inputs, any shape ``[...]``.

    Returns:
        ``(left, right)``, each of shape ``[..., 3]``: the ends of the disjoint intervals,
        sorted left to right, padded with NaN where there are fewer than three.

    Example:
        >>> left, right = support_intervals(0.35)  # two intervals: f's dip is covered
        >>> int(np.isfinite(left).sum())
        2
    """
    t = np.asarray(t, dtype=np.float64)
    left, right = inverse_support(t)  # [..., 3]
    present = right > left  # [..., 3]
    turns = toy_curve(np.array([MONOTONE_PIECES[0][1], MONOTONE_PIECES[1][1]]))
    # A turning point inside the band joins the branches on either side of it.
    joined = np.abs(turns - t[..., None]) < NOISE_HALF_WIDTH  # [..., 2]
    # A turning point in the band lies in both branches beside it: they are present (a guard).
    joined &= present[..., :-1] & present[..., 1:]  # pragma: no mutate (why: see above)
    starts, ends = present.copy(), present.copy()
    starts[..., 1:] &= ~joined  # an interval starts on a branch not joined to its left
    ends[..., :-1] &= ~joined  # and ends on a branch not joined to its right
    # Move the starts (and the ends) to the front, keeping their left-to-right order.
    first = np.argsort(~starts, axis=-1, kind="stable")
    last = np.argsort(~ends, axis=-1, kind="stable")
    out_left = np.take_along_axis(np.where(starts, left, np.nan), first, -1)
    out_right = np.take_along_axis(np.where(ends, right, np.nan), last, -1)
    return out_left, out_right


def interval_count(t) -> np.ndarray:
    """How many disjoint intervals make up :math:`S_t` (at most two for this toy problem).

    Fewer than :func:`branch_count` where a covered turning point of f joins two branches.
    Integer array of ``t``'s shape.
    """
    return np.isfinite(support_intervals(t)[0]).sum(-1)


def _support_moments(t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|S_t|, and the mean and variance of x uniform on S_t (NaN where S_t is empty)."""
    left, right = inverse_support(t)
    widths, centres = right - left, (right + left) / 2  # [..., 3]
    length = widths.sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = widths / length[..., None]  # each interval's share of S_t
        mean = (share * centres).sum(-1)
        # Law of total variance over the intervals: never negative, no cancellation.
        variance = (share * (widths**2 / 12 + (centres - mean[..., None]) ** 2)).sum(-1)
    return length, mean, variance


def forward_density(t, x) -> np.ndarray:
    """Exact :math:`p(t \\mid x)`, elementwise over the broadcast of ``t`` and ``x``."""
    t, x = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(x, np.float64))
    return np.where(np.abs(t - toy_curve(x)) < NOISE_HALF_WIDTH, 1.0 / _WIDTH, 0.0)


def inverse_density(x, t) -> np.ndarray:
    """Exact :math:`p(x \\mid t)`, elementwise over the broadcast of ``x`` and ``t``.

    Zero where no x in [0, 1] can produce t (outside [-0.1, 1.1]).
    """
    x, t = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(t, np.float64))
    inside = (x >= 0) & (x <= 1) & (np.abs(toy_curve(x) - t) < NOISE_HALF_WIDTH)
    levels, where = np.unique(t, return_inverse=True)  # |S_t| once per distinct t
    length = _support_moments(levels)[0][where].reshape(t.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        # pragma: no mutate (why: inside implies |S_t| > 0 but at a rounding edge; no inf there)
        present = length > 0  # pragma: no mutate (why: see the line above)
        return np.where(inside & present, 1.0 / length, 0.0)


def conditional_mean(inputs, inverse: bool = False) -> np.ndarray:
    """The exact conditional mean: :math:`E[t \\mid x] = f(x)`, or :math:`E[x \\mid t]`.

    The conditional mean is what a network trained with MSE converges to. Inverse, it is
    NaN where no x can produce t (outside [-0.1, 1.1]).
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    if not inverse:
        return toy_curve(inputs)
    return _support_moments(inputs)[1]


def conditional_variance(inputs, inverse: bool = False) -> np.ndarray:
    """The exact conditional variance, :math:`0.2^2 / 12` forward, that of x on S_t inverse."""
    inputs = np.asarray(inputs, dtype=np.float64)
    if not inverse:
        return np.full(inputs.shape, _WIDTH**2 / 12)
    return _support_moments(inputs)[2]


def marginal_density_t(t) -> np.ndarray:
    """:math:`p(t) = |S_t| / 0.2`: the density of the inverse problem's inputs."""
    return _support_moments(t)[0] / _WIDTH


@cache
def _inverse_figures(n_grid: int) -> tuple[float, float, float]:
    # Midpoint rule over t in [-0.1, 1.1], the whole support of p(t).
    edges = np.linspace(-NOISE_HALF_WIDTH, 1 + NOISE_HALF_WIDTH, n_grid + 1)
    t = 0.5 * (edges[1:] + edges[:-1])
    length, _, variance = _support_moments(t)
    weight = length / _WIDTH * np.diff(edges)  # p(t) dt
    keep = length > 0
    nll = float(np.sum(weight[keep] * np.log(length[keep])))
    mse = float(np.sum(weight[keep] * variance[keep]))
    gaussian_nll = float(np.sum(weight[keep] * 0.5 * np.log(2 * np.pi * np.e * variance[keep])))
    return nll, mse, gaussian_nll


def bayes_nll(inverse: bool = False, n_grid: int = 200_000) -> float:
    r"""Expected negative log-likelihood (nats) of the true density: no model can do better.

    Forward it is :math:`\log 0.2`; inverse it is :math:`E_t \log |S_t|`, integrated
    numerically over ``n_grid`` midpoints.
    """
    n_grid = positive_int(n_grid, "n_grid")
    return _inverse_figures(n_grid)[0] if inverse else math.log(_WIDTH)


def bayes_mse(inverse: bool = False, n_grid: int = 200_000) -> float:
    """Expected squared error of the exact conditional mean: the floor for any regressor."""
    n_grid = positive_int(n_grid, "n_grid")
    return _inverse_figures(n_grid)[1] if inverse else _WIDTH**2 / 12


def best_gaussian_nll(inverse: bool = False, n_grid: int = 200_000) -> float:
    r"""Expected NLL (nats) of the best single Gaussian per input: no one-Gaussian model does better.

    For a target with conditional mean :math:`m` and variance :math:`v`, the Gaussian with
    mean :math:`m` and variance :math:`v` scores best on average, with expected negative
    log-likelihood :math:`\tfrac12 \ln(2 \pi e\, v)`; this averages that over the inputs.
    The gap to :func:`bayes_nll` is what no one-Gaussian model can close.
    """
    n_grid = positive_int(n_grid, "n_grid")
    if not inverse:
        return 0.5 * math.log(2 * math.pi * math.e * _WIDTH**2 / 12)
    return _inverse_figures(n_grid)[2]


def inverse_cdf(x, t) -> np.ndarray:
    r"""Exact conditional cdf :math:`F(x \mid t) = |S_t \cap (-\infty, x]| \,/\, |S_t|`.

    :math:`p(x \mid t)` is uniform on :math:`S_t`, so the cdf rises linearly across each of
    its intervals and is flat between them. At the observed target it is the probability
    integral transform (PIT) of the exact density: uniform on [0, 1], the calibration
    every model is held to.

    Arguments:
        x: targets, any shape broadcastable with ``t``.
        t: inverse-problem inputs.

    Returns:
        float64 array of the broadcast shape, in [0, 1]; NaN where :math:`S_t` is empty
        (``t`` outside [-0.1, 1.1]).

    Example:
        >>> round(float(inverse_cdf(0.5, 0.5)), 6)  # the middle of the symmetric S_0.5
        0.5
    """
    x, t = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(t, np.float64))
    left, right = inverse_support(t)  # [..., 3]
    covered = np.clip(x[..., None] - left, 0.0, right - left).sum(-1)
    length = (right - left).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(covered / length)  # 0 / 0: NaN where S_t is empty


def inverse_crps(x, t) -> np.ndarray:
    r"""CRPS of the exact :math:`p(x \mid t)` at the observed ``x``, in closed form.

    With :math:`X, X'` independent draws from :math:`p(\cdot \mid t)`,
    :math:`\mathrm{CRPS} = E|X - x| - \tfrac12 E|X - X'|`. :math:`X` is uniform on the
    intervals :math:`[a_i, b_i]` of :math:`S_t` with weights :math:`w_i = (b_i - a_i) / |S_t|`.
    For :math:`U` uniform on :math:`[a, b]`, :math:`E|U - x|` is the distance from
    :math:`x` to the midpoint outside the interval and
    :math:`((x - a)^2 + (b - x)^2) / (2 (b - a))` inside it;
    :math:`E|U - U'| = (b - a) / 3` for one interval and the distance between the
    midpoints for two that do not overlap (the intervals of :math:`S_t` never do). The
    expected CRPS of the exact density is the floor no model can beat on average: the
    CRPS is a strictly proper score.

    Arguments:
        x: targets, any shape broadcastable with ``t``.
        t: inverse-problem inputs.

    Returns:
        float64 array of the broadcast shape, in the units of ``x``; NaN where
        :math:`S_t` is empty.

    Example:
        >>> round(float(inverse_crps(0.0, -0.1 + 1e-9)), 6)  # S_t is a sliver at x = 0
        0.0
    """
    x, t = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(t, np.float64))
    left, right = inverse_support(t)  # [..., 3]
    widths, centres = right - left, (right + left) / 2
    length = widths.sum(-1)
    xe = x[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = widths / length[..., None]  # [..., 3]
        inside = (xe > left) & (xe < right) & (widths > 0)
        to_x = np.where(
            inside,
            ((xe - left) ** 2 + (right - xe) ** 2) / np.where(widths > 0, 2 * widths, 1.0),
            np.abs(xe - centres),
        )
        first = (w * to_x).sum(-1)
        between = np.abs(centres[..., :, None] - centres[..., None, :])  # [..., 3, 3]
        own = widths / 3
        diag = np.eye(3, dtype=bool)
        pair = np.where(diag, own[..., :, None] * np.ones(3), between)
        spread = (w[..., :, None] * w[..., None, :] * pair).sum((-1, -2))
        return np.where(length > 0, first - 0.5 * spread, np.nan)
