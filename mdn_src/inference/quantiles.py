r"""Quantiles of 1-D mixtures, by bisection on the mixture cdf, for every point at once.

:func:`~mdn_src.inference.quantile` and :func:`~mdn_src.inference.central_interval` answer
with numbers a reader can plot; :mod:`mdn_src.metrics` builds coverage and the score table
on them. The remaining public functions are the checks and the cdf those two modules share:
internal API (not re-exported by the package), named without an underscore because two
modules use them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ..checks import as_matrix, positive_float, same_length
from ..mixture import Family, MixtureParameters, check_params, component_cdf, get_family

__all__ = [
    "as_float64",
    "bracketed_quantiles",
    "central_interval",
    "is_circular",
    "level_value",
    "levels_array",
    "mixture_cdf",
    "one_dimensional",
    "quantile",
    "wrapped_targets",
]


def as_float64(params: MixtureParameters, name: str = "params") -> MixtureParameters:
    """Checked, detached float64 parameters, with ``log_pi`` renormalised in float64.

    float32 parameters pass :meth:`MixtureParameters.validate` with weights summing to
    ``1 +- 1e-4``; renormalising makes the mixture cdf tend to exactly 1.
    """
    params = check_params(params, name).detach().map(lambda v: v.double())
    return params.replace(log_pi=torch.log_softmax(params.log_pi, -1))


def one_dimensional(params: MixtureParameters, what: str) -> None:
    D = params.mu.shape[-1]
    if D != 1:
        raise ValueError(f"{what} needs 1-D targets, got mixtures over {D} dimensions")


def wrapped_targets(params: MixtureParameters, t) -> torch.Tensor:
    """``t`` as a float64 ``[N, D]`` tensor on ``params``' device, wrapped for angles."""
    t = as_matrix(t, "t", params.mu.shape[-1])
    same_length(params.mu, "params", t, "t")
    return get_family(params.family).wrap(t.to(params.mu))


def is_circular(family: Family) -> bool:
    return type(family).difference is not Family.difference


def levels_array(value, name: str) -> np.ndarray:
    """``value`` (a number or a 1-D sequence of them) as float64 ``[L]``, each in (0, 1)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting
        raise TypeError(f"{name} must be a number or a 1-D sequence of numbers") from error
    if (
        array.dtype == np.bool_
        or not np.issubdtype(array.dtype, np.number)
        or np.iscomplexobj(array)
    ):
        raise TypeError(
            f"{name} must be a number or a 1-D sequence of real numbers, got dtype {array.dtype}"
        )
    if array.ndim > 1:
        raise ValueError(f"{name} must be a number or 1-D, got shape {array.shape}")
    array = array.astype(np.float64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one level")
    bad = array[~((array > 0) & (array < 1))]
    if bad.size:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {bad.tolist()}")
    return array


def level_value(value, name: str) -> float:
    """A single level in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {type(value).__name__}")
    return float(levels_array(float(value), name)[0])


def mixture_cdf(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Mixture cdf at ``P`` points per mixture (``D = 1``): ``points`` ``[N, P]`` -> ``[N, P]``.

    Evaluated as ``N * P`` mixtures of one point each: the von Mises cdf of
    :func:`~mdn_src.mixture.component_cdf` cannot broadcast ``P > 1`` points against
    ``K > 1`` components.
    """
    N, P = points.shape
    rows = params if P == 1 else params.map(lambda v: v.repeat_interleave(P, 0))
    cdf = component_cdf(rows, points.reshape(N * P, 1, 1)).squeeze(1)  # [N * P, K]
    return (rows.pi * cdf).sum(-1).view(N, P)


def quantile(params: MixtureParameters, q, tol: float = 1e-9) -> np.ndarray:
    r"""Quantiles :math:`F^{-1}(q) = \inf\{x : F(x) \ge q\}` of 1-D mixtures, ``[N, L]``.

    The mixture cdf has no closed-form inverse; bisection finds it for all points and
    levels at once, in float64. The bracket starts at
    :math:`[\min_k(\mu_k - \sigma_k), \max_k(\mu_k + \sigma_k)]` and is widened (its width
    doubled on the failing side) until :math:`F(\text{lo}) < q \le F(\text{hi})`; for
    ``von_mises`` it is :math:`(-\pi, \pi]`, where that family's cdf lives. Bisection then
    stops once the bracket is narrower than ``tol`` times the narrowest component's scale
    (or float64 cannot split it).

    Guarantee: the returned :math:`x` satisfies :math:`F(x) \ge q` and lies at most
    ``tol`` :math:`\times \min_k \sigma_k` above the exact quantile, so
    :math:`F(x) - q` is at most about ``tol`` (the density is below ``1 / \sigma_k`` per
    unit weight for every family here).

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family.
        q: a level or a 1-D sequence (list, array, tensor) of ``L`` levels, each in (0, 1).
        tol: bisection tolerance in units of the narrowest component's scale, > 0.

    Returns:
        float64 ``[N, L]`` (``L = 1`` for a single level).
    """
    params = as_float64(params)
    one_dimensional(params, "quantile")
    levels = levels_array(q, "q")
    tol = positive_float(tol, "tol")
    return bracketed_quantiles(params, levels, tol).cpu().numpy()


def central_interval(
    params: MixtureParameters, level: float, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray]:
    r"""Central interval holding probability ``level`` of each 1-D mixture.

    The interval runs from the :math:`(1 - \text{level}) / 2` quantile to the
    :math:`(1 + \text{level}) / 2` quantile (equal tails), computed by :func:`quantile`.

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family.
        level: the interval's probability, in (0, 1).
        tol: bisection tolerance of :func:`quantile`, > 0.

    Returns:
        ``(lower, upper)``, float64 ``[N]`` each.
    """
    params = as_float64(params)
    one_dimensional(params, "central_interval")
    level = level_value(level, "level")
    tol = positive_float(tol, "tol")
    bounds = bracketed_quantiles(params, np.array([(1 - level) / 2, (1 + level) / 2]), tol)
    return bounds[:, 0].cpu().numpy(), bounds[:, 1].cpu().numpy()


def bracketed_quantiles(params: MixtureParameters, levels: np.ndarray, tol: float) -> torch.Tensor:
    """Bisection for :func:`quantile` on checked float64 1-D parameters: ``[N, L]``."""
    mu, sigma = params.mu[..., 0], params.sigma[..., 0]  # [N, K]
    N, L = mu.shape[0], len(levels)
    q = mu.new_tensor(levels).expand(N, L)  # mu's dtype and device
    if is_circular(get_family(params.family)):
        lo, hi = mu.new_full((N, L), -math.pi), mu.new_full((N, L), math.pi)
    else:
        # A first guess (pragma: no mutate on both: the widening below repairs any bracket).
        lo = (mu - sigma).min(-1).values.unsqueeze(1).expand(N, L).clone()  # pragma: no mutate
        hi = (mu + sigma).max(-1).values.unsqueeze(1).expand(N, L).clone()  # pragma: no mutate
        while True:  # widen: each pass doubles the width on a failing side
            low_bad = mixture_cdf(params, lo) >= q
            high_bad = mixture_cdf(params, hi) < q
            if not bool((low_bad | high_bad).any()):
                break
            width = hi - lo
            if not bool(torch.isfinite(width).all()):
                raise ValueError(
                    "could not bracket the quantiles: a level is too close to 0 or 1 for "
                    "the mixture cdf in float64"
                )
            lo = torch.where(low_bad, lo - width, lo)
            hi = torch.where(high_bad, hi + width, hi)
    target_width = tol * sigma.min(-1).values.unsqueeze(1)  # [N, 1]
    while True:
        mid = 0.5 * (lo + hi)
        active = (hi - lo > target_width) & (mid > lo) & (mid < hi)
        if not bool(active.any()):
            return hi
        above = mixture_cdf(params, mid) >= q
        hi = torch.where(active & above, mid, hi)
        lo = torch.where(active & ~above, mid, lo)
