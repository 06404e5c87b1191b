r"""Evaluation: held-out NLL, MSE, proper scores and calibration of predictive densities.

* :func:`mean_nll` and :func:`mse`: the log score and the squared error of the mean;
* :func:`crps`: the continuous ranked probability score, in closed form for a 1-D Gaussian
  mixture and estimated from samples (the energy score) otherwise;
* :func:`pit`, :func:`quantile`, :func:`central_interval` and :func:`coverage`:
  calibration of 1-D predictive densities.

Every function here validates its arguments, works in float64 whatever the parameters'
dtype, and treats all points (and all levels) at once; the only Python loops are the
iterations of a bisection.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._checks import as_matrix, positive_float, positive_int, same_length
from .loss import mixture_log_prob
from .mixture import Family, MixtureParameters, check_params, component_cdf
from .model import MDN
from .predict import sample

#: ``crps``'s ``method`` choices.
CRPS_METHODS = ("auto", "closed_form", "sample")


def _as_mdn(model) -> MDN:
    """``model`` itself, or the MDN inside a ``torch.compile``'d one; ``TypeError`` otherwise."""
    if isinstance(model, MDN):
        return model
    # torch.compile(mdn) returns an OptimizedModule holding the MDN as `_orig_mod` (the name
    # its state_dict keys carry); its parameters are the MDN's own, so evaluating the MDN
    # gives the compiled model's numbers.
    inner = getattr(model, "_orig_mod", None) if isinstance(model, torch.nn.Module) else None
    if isinstance(inner, MDN):
        return inner
    what = type(model).__name__
    if inner is not None:
        what += f" wrapping {type(inner).__name__}"
    raise TypeError(f"model must be an MDN (or a torch.compile'd MDN), got {what}")


@torch.no_grad()
def mean_nll(model: MDN, x, t) -> float:
    """Mean negative log-likelihood (nats) of targets ``t`` under ``model``'s ``p(t | x)``.

    Compare it with :func:`mdn_src.oracle.bayes_nll`: the expected NLL of the true density,
    which no model can beat on average.

    Arguments:
        model: an :class:`~mdn_src.model.MDN`, or ``torch.compile(mdn)`` (evaluated through
            the MDN it wraps, which shares its parameters).
        x: inputs, ``[N, in_features]``.
        t: targets, ``[N, D]``.

    Returns:
        The mean NLL over the ``N`` points.
    """
    mdn = _as_mdn(model)
    return float(-mixture_log_prob(mdn.mixture_parameters(x), t).mean())


def mse(prediction, target) -> float:
    """Mean squared error between two ``[N, D]`` arrays or tensors."""
    prediction = as_matrix(prediction, "prediction")
    target = as_matrix(target, "target", prediction.shape[1])
    same_length(prediction, "prediction", target, "target")
    return float((prediction.double() - target.double().to(prediction.device)).pow(2).mean())


# ----------------------------------------------------------------------------------------
# Shared checks and helpers
# ----------------------------------------------------------------------------------------


def _float64(params: MixtureParameters, name: str = "params") -> MixtureParameters:
    """Checked, detached float64 parameters, with ``log_pi`` renormalised in float64.

    float32 parameters pass :meth:`MixtureParameters.validate` with weights summing to
    ``1 +- 1e-4``; renormalising makes the mixture cdf tend to exactly 1.
    """
    params = check_params(params, name).detach().map(lambda v: v.double())
    return params._replace(log_pi=torch.log_softmax(params.log_pi, -1))


def _one_dimensional(params: MixtureParameters, what: str) -> None:
    D = params.mu.shape[-1]
    if D != 1:
        raise ValueError(f"{what} needs 1-D targets, got mixtures over {D} dimensions")


def _targets(params: MixtureParameters, t) -> torch.Tensor:
    """``t`` as a float64 ``[N, D]`` tensor on ``params``' device, wrapped for angles."""
    t = as_matrix(t, "t", params.mu.shape[-1])
    same_length(params.mu, "params", t, "t")
    return params.components.wrap(t.to(params.mu))


def _is_circular(family: Family) -> bool:
    return type(family).difference is not Family.difference


def _levels(value, name: str) -> np.ndarray:
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


def _level(value, name: str) -> float:
    """A single level in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {type(value).__name__}")
    return float(_levels(float(value), name)[0])


def _mixture_cdf(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Mixture cdf at ``P`` points per mixture (``D = 1``): ``points`` ``[N, P]`` -> ``[N, P]``.

    Evaluated as ``N * P`` mixtures of one point each: the von Mises cdf of
    :func:`~mdn_src.mixture.component_cdf` cannot broadcast ``P > 1`` points against
    ``K > 1`` components.
    """
    N, P = points.shape
    rows = params if P == 1 else params.map(lambda v: v.repeat_interleave(P, 0))
    cdf = component_cdf(rows, points.reshape(N * P, 1, 1)).squeeze(1)  # [N * P, K]
    return (rows.pi * cdf).sum(-1).view(N, P)


# ----------------------------------------------------------------------------------------
# CRPS
# ----------------------------------------------------------------------------------------


def crps(
    params: MixtureParameters,
    t,
    n_samples: int = 1000,
    generator: torch.Generator | None = None,
    method: str = "auto",
) -> np.ndarray:
    r"""Continuous ranked probability score of each target under its mixture, ``[N]``.

    The CRPS is a proper score in the target's units (lower is better; 0 only for a point
    mass on the target). In one dimension

    .. math::

        \mathrm{CRPS}(F, y) = \int_{-\infty}^{\infty} \big(F(x) - \mathbb{1}\{x \ge y\}\big)^2
            \,dx = E|X - y| - \tfrac12 E|X - X'|,

    with :math:`X, X'` independent draws from :math:`F`; the right-hand side, with the
    Euclidean norm, is the *energy score*, its generalisation to ``D`` dimensions.

    **Closed form** (1-D Gaussian mixtures, any covariance; Grimit et al. 2006):

    .. math::

        \mathrm{CRPS} = \sum_k \pi_k A(y - \mu_k, \sigma_k^2)
            - \tfrac12 \sum_{k,l} \pi_k \pi_l A(\mu_k - \mu_l, \sigma_k^2 + \sigma_l^2),
        \qquad A(m, v) = 2\sqrt{v}\,\varphi\big(\tfrac{m}{\sqrt v}\big)
            + m \big(2\Phi\big(\tfrac{m}{\sqrt v}\big) - 1\big).

    **Sample estimate** (every other family, and ``D > 1``): ``S = n_samples`` draws
    :math:`X_s` per input from :func:`mdn_src.predict.sample`;
    :math:`E\|X - y\|` is their mean distance to the target, and :math:`E\|X - X'\|` the
    mean over all :math:`S(S-1)/2` pairs for 1-D targets on the line (from the sorted
    draws, :math:`O(S \log S)`), or over the :math:`S` pairs :math:`(X_s, X_{s+1 \bmod S})`
    otherwise. Both means are unbiased, so the estimate is unbiased with a standard error
    of order :math:`\mathrm{sd}(X) / \sqrt{S}`: it is an *estimate*, reproducible only with
    a seeded ``generator``. For ``von_mises`` the distance is the angle the shorter way
    round (the circular CRPS of Grimit et al. 2006) and targets are wrapped to
    :math:`(-\pi, \pi]`.

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family; ``student_t``
            components need ``df > 1`` (otherwise the CRPS is infinite).
        t: targets, ``[N, D]``.
        n_samples: draws ``S`` per input for the sample estimate, >= 2 (checked even when
            the closed form is used).
        generator: a seeded ``torch.Generator`` for a reproducible sample estimate.
        method: ``"auto"`` (the closed form where it exists, else the sample estimate),
            ``"closed_form"`` (``ValueError`` where there is none) or ``"sample"``.

    Returns:
        CRPS of each point, float64 ``[N]``.
    """
    params = _float64(params)
    t = _targets(params, t)
    S = positive_int(n_samples, "n_samples")
    if S < 2:
        raise ValueError(f"n_samples must be >= 2 (the estimate needs pairs of draws), got {S}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    if method not in CRPS_METHODS:
        raise ValueError(f"method must be one of {CRPS_METHODS}, got {method!r}")
    family = params.components
    has_closed_form = family.name == "gaussian" and params.mu.shape[-1] == 1
    if method == "closed_form" and not has_closed_form:
        raise ValueError(
            "method='closed_form' needs a 1-D gaussian mixture, got the "
            f"{family.name} family over {params.mu.shape[-1]} dimensions"
        )
    if family.name == "student_t" and not bool((params.shape > 1).all()):
        raise ValueError("the CRPS is infinite for student_t components with df <= 1")
    if has_closed_form and method != "sample":
        out = _gaussian_crps(params, t)
    else:
        out = _energy_score(params, t, S, generator)
    return out.cpu().numpy()


def _crps_a(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r""":math:`A(m, v) = E|Z|` for :math:`Z \sim \mathcal N(m, v)`."""
    sd = v.sqrt()
    z = m / sd
    phi = torch.exp(-0.5 * z.pow(2)) / math.sqrt(2 * math.pi)
    return 2 * sd * phi + m * torch.erf(z / math.sqrt(2))


def _gaussian_crps(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """Closed-form CRPS of 1-D Gaussian mixtures (float64), ``[N]``."""
    mu = params.mu[..., 0]  # [N, K]
    # The density uses the Cholesky factor where there is one; in 1-D it is the std.
    sd = params.sigma[..., 0] if params.scale_tril is None else params.scale_tril[..., 0, 0]
    var = sd.pow(2)
    pi = params.pi
    to_target = (pi * _crps_a(t - mu, var)).sum(-1)  # t [N, 1] broadcasts over K
    between = _crps_a(mu.unsqueeze(2) - mu.unsqueeze(1), var.unsqueeze(2) + var.unsqueeze(1))
    spread = (pi.unsqueeze(2) * pi.unsqueeze(1) * between).sum((1, 2))  # [N]
    return to_target - 0.5 * spread


def _energy_score(params, t, S: int, generator) -> torch.Tensor:
    """Sample estimate of the energy score (float64), ``[N]``; see :func:`crps`."""
    family = params.components
    x = sample(params, S, generator)  # [S, N, D]
    to_target = family.difference(x, t).norm(dim=-1).mean(0)  # [N]
    if x.shape[-1] == 1 and not _is_circular(family):
        # All pairs: sum_{i<j} |x_(j) - x_(i)| = sum_i (2i - S + 1) x_(i), i = 0..S-1 sorted.
        ordered = x[..., 0].sort(0).values  # [S, N]
        weight = 2 * torch.arange(S, dtype=x.dtype, device=x.device) - (S - 1)
        between = 2 * (weight.unsqueeze(1) * ordered).sum(0) / (S * (S - 1))
    else:
        between = family.difference(x, x.roll(1, 0)).norm(dim=-1).mean(0)
    return to_target - 0.5 * between


# ----------------------------------------------------------------------------------------
# Calibration of 1-D predictive densities
# ----------------------------------------------------------------------------------------


def pit(params: MixtureParameters, t) -> np.ndarray:
    r"""Probability integral transform :math:`u = F(t \mid x)` for 1-D targets, ``[N]``.

    If the predicted densities are calibrated, ``u`` is uniform on [0, 1]; a U-shaped
    histogram means over-confident, a hump means under-confident. Values are clamped to
    [0, 1] (rounding of the weighted sum can pass 1), and ``von_mises`` targets are wrapped
    to :math:`(-\pi, \pi]`, where the cdf starts at :math:`-\pi`.

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family.
        t: targets, ``[N, 1]``.

    Returns:
        float64 ``[N]``, in [0, 1].
    """
    params = check_params(params).detach()
    if params.mu.shape[-1] != 1:
        raise ValueError(
            f"pit needs 1-D targets, got mixtures over {params.mu.shape[-1]} dimensions"
        )
    t = as_matrix(t, "t", 1)
    same_length(params.mu, "params", t, "t")
    t = params.components.wrap(t.to(params.mu))
    cdf = component_cdf(params, t.unsqueeze(1)).squeeze(1)  # [N, K]
    u = (params.pi * cdf).sum(-1).double().clamp(0.0, 1.0)  # rounding can pass 1
    return u.cpu().numpy()


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
    params = _float64(params)
    _one_dimensional(params, "quantile")
    levels = _levels(q, "q")
    tol = positive_float(tol, "tol")
    return _quantiles(params, levels, tol).cpu().numpy()


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
    params = _float64(params)
    _one_dimensional(params, "central_interval")
    level = _level(level, "level")
    tol = positive_float(tol, "tol")
    bounds = _quantiles(params, np.array([(1 - level) / 2, (1 + level) / 2]), tol)
    return bounds[:, 0].cpu().numpy(), bounds[:, 1].cpu().numpy()


def coverage(params: MixtureParameters, t, levels=(0.5, 0.9), tol: float = 1e-9) -> np.ndarray:
    r"""Fraction of targets inside their central intervals, one per level, ``[L]``.

    For calibrated densities the fraction inside the central ``level`` interval is
    ``level`` up to binomial noise, :math:`\sqrt{\text{level}(1 - \text{level}) / N}`;
    below it means over-confident, above under-confident. Intervals are closed
    (:func:`central_interval`); ``von_mises`` targets are wrapped to :math:`(-\pi, \pi]`.

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family.
        t: targets, ``[N, 1]``.
        levels: a level or a 1-D sequence of ``L`` levels, each in (0, 1).
        tol: bisection tolerance of :func:`quantile`, > 0.

    Returns:
        float64 ``[L]``, in the order of ``levels``.
    """
    params = _float64(params)
    _one_dimensional(params, "coverage")
    t = _targets(params, t)  # [N, 1]
    levels = _levels(levels, "levels")
    tol = positive_float(tol, "tol")
    bounds = _quantiles(params, np.concatenate([(1 - levels) / 2, (1 + levels) / 2]), tol)
    lower, upper = bounds.split(len(levels), dim=1)  # [N, L] each
    inside = (lower <= t) & (t <= upper)
    return inside.double().mean(0).cpu().numpy()


def _quantiles(params: MixtureParameters, levels: np.ndarray, tol: float) -> torch.Tensor:
    """Bisection for :func:`quantile` on checked float64 1-D parameters: ``[N, L]``."""
    mu, sigma = params.mu[..., 0], params.sigma[..., 0]  # [N, K]
    N, L = mu.shape[0], len(levels)
    q = torch.as_tensor(levels, dtype=mu.dtype, device=mu.device).expand(N, L)
    if _is_circular(params.components):
        lo = torch.full((N, L), -math.pi, dtype=mu.dtype, device=mu.device)
        hi = torch.full((N, L), math.pi, dtype=mu.dtype, device=mu.device)
    else:
        lo = (mu - sigma).min(-1).values.unsqueeze(1).expand(N, L).clone()
        hi = (mu + sigma).max(-1).values.unsqueeze(1).expand(N, L).clone()
        while True:  # widen: each pass doubles the width on a failing side
            low_bad = _mixture_cdf(params, lo) >= q
            high_bad = _mixture_cdf(params, hi) < q
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
        above = _mixture_cdf(params, mid) >= q
        hi = torch.where(active & above, mid, hi)
        lo = torch.where(active & ~above, mid, lo)
