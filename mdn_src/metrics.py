r"""Evaluation: held-out NLL, MSE, proper scores and calibration of predictive densities.

* :func:`mean_nll` and :func:`mse`: the log score and the squared error of the mean;
* :func:`crps`: the continuous ranked probability score, in closed form for a 1-D Gaussian
  mixture and estimated from samples (the energy score) otherwise;
* :func:`pit`, :func:`~mdn_src.inference.quantile`, :func:`~mdn_src.inference.central_interval`
  and :func:`coverage`: calibration of 1-D predictive densities;
* :func:`score`: the NLL, CRPS and coverage of one set of predictions, as one table row.

Every function here validates its arguments, works in float64 whatever the parameters'
dtype, and treats all points (and all levels) at once; the only Python loops are the
iterations of a bisection.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .checks import as_matrix, positive_float, positive_int, same_length
from .inference import sample
from .inference.quantiles import (
    as_float64,
    bracketed_quantiles,
    is_circular,
    levels_array,
    one_dimensional,
    wrapped_targets,
)
from .mixture import MixtureParameters, check_params, component_cdf, get_family, log_prob
from .model import MDN

__all__ = [
    "CRPS_METHODS",
    "coverage",
    "crps",
    "mean_nll",
    "mse",
    "pit",
    "score",
]

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

    Compare it with :func:`mdn_src.problems.oracle.bayes_nll`: the expected NLL of the true density,
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
    params = mdn.mixture_parameters(x)  # checks x
    t = as_matrix(t, "t", mdn.out_features)
    same_length(params.mu, "x", t, "t")
    return float(-log_prob(params, t.to(params.mu).unsqueeze(1)).mean())


def mse(prediction, target) -> float:
    """Mean squared error between two ``[N, D]`` arrays or tensors."""
    prediction = as_matrix(prediction, "prediction")
    target = as_matrix(target, "target", prediction.shape[1])
    same_length(prediction, "prediction", target, "target")
    return float((prediction.double() - target.double().to(prediction.device)).pow(2).mean())


# ----------------------------------------------------------------------------------------
# Shared checks and helpers
# ----------------------------------------------------------------------------------------


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
    :math:`X_s` per input from :func:`mdn_src.inference.sample`;
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
    params = as_float64(params)
    t = wrapped_targets(params, t)
    S = positive_int(n_samples, "n_samples")
    if S < 2:
        raise ValueError(f"n_samples must be >= 2 (the estimate needs pairs of draws), got {S}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    if method not in CRPS_METHODS:
        raise ValueError(f"method must be one of {CRPS_METHODS}, got {method!r}")
    family = get_family(params.family)
    has_closed_form = family.name == "gaussian" and params.mu.shape[-1] == 1
    if method == "closed_form" and not has_closed_form:
        raise ValueError(
            "method='closed_form' needs a 1-D gaussian mixture, got the "
            f"{family.name} family over {params.mu.shape[-1]} dimensions"
        )
    if family.name == "student_t" and not bool((params.shape_param > 1).all()):
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
    family = get_family(params.family)
    x = sample(params, S, generator)  # [S, N, D]
    to_target = family.difference(x, t).norm(dim=-1).mean(0)  # [N]
    if x.shape[-1] == 1 and not is_circular(family):
        # All pairs: sum_{i<j} |x_(j) - x_(i)| = sum_i (2i - S + 1) x_(i), i = 0..S-1 sorted.
        ordered = x[..., 0].sort(0).values  # [S, N]
        weight = 2 * torch.arange(S).to(x) - (S - 1)  # x's dtype and device
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
    t = get_family(params.family).wrap(t.to(params.mu))
    cdf = component_cdf(params, t.unsqueeze(1)).squeeze(1)  # [N, K]
    u = (params.pi * cdf).sum(-1).double().clamp(0.0, 1.0)  # rounding can pass 1
    return u.cpu().numpy()


def coverage(params: MixtureParameters, t, levels=(0.5, 0.9), tol: float = 1e-9) -> np.ndarray:
    r"""Fraction of targets inside their central intervals, one per level, ``[L]``.

    For calibrated densities the fraction inside the central ``level`` interval is
    ``level`` up to binomial noise, :math:`\sqrt{\text{level}(1 - \text{level}) / N}`;
    below it means over-confident, above under-confident. Intervals are closed
    (:func:`~mdn_src.inference.central_interval`); ``von_mises`` targets are wrapped to
    :math:`(-\pi, \pi]`.

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family.
        t: targets, ``[N, 1]``.
        levels: a level or a 1-D sequence of ``L`` levels, each in (0, 1).
        tol: bisection tolerance of :func:`~mdn_src.inference.quantile`, > 0.

    Returns:
        float64 ``[L]``, in the order of ``levels``.
    """
    params = as_float64(params)
    one_dimensional(params, "coverage")
    t = wrapped_targets(params, t)  # [N, 1]
    levels = levels_array(levels, "levels")
    tol = positive_float(tol, "tol")
    bounds = bracketed_quantiles(params, np.concatenate([(1 - levels) / 2, (1 + levels) / 2]), tol)
    lower, upper = bounds.split(len(levels), dim=1)  # [N, L] each
    inside = (lower <= t) & (t <= upper)
    return inside.double().mean(0).cpu().numpy()


def score(
    params: MixtureParameters, t, levels=(0.5, 0.9), generator: torch.Generator | None = None
) -> dict[str, float]:
    """One row of a results table: the NLL, CRPS and coverage of 1-D predictive densities.

    Arguments:
        params: mixture parameters over one dimension (``mu`` ``[N, K, 1]``), of any family
            (an MLP's Gaussian reading, :meth:`mdn_src.mlp.MLP.predictive`, included).
        t: targets, ``[N, 1]``.
        levels: the central-interval levels whose coverage is reported, each in (0, 1).
        generator: seeds the CRPS's sample estimate, which :func:`crps` uses for every
            family but the Gaussian (closed form): pass one for a reproducible row.

    Returns:
        ``{"nll": mean NLL (nats), "crps": mean CRPS, "coverage_50": ..., ...}``: one
        ``coverage_<100 level>`` entry per level (``coverage_90`` for 0.9), float64 numbers.
    """
    levels = levels_array(levels, "levels")
    checked = as_float64(params)
    one_dimensional(checked, "score")
    targets = wrapped_targets(checked, t)
    row = {
        "nll": float(-log_prob(checked, targets[:, None]).mean()),  # [N, 1, 1]
        "crps": float(crps(checked, targets, generator=generator).mean()),
    }
    for level, inside in zip(levels, coverage(checked, targets, levels), strict=True):
        row[f"coverage_{100 * level:g}"] = float(inside)
    return row
