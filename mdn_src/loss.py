r"""The MDN's loss: the negative log-likelihood of a Gaussian mixture, in log space.

For one point (PRML eq. 5.153),

.. math::

    E = -\log \sum_k \pi_k \mathcal{N}(t \mid \mu_k, \sigma_k^2)
      = -\operatorname{logsumexp}_k \big(\log \pi_k + \log \mathcal{N}(t \mid \mu_k, \sigma_k^2)\big).

The right-hand side never forms a density: ``log(sum(pdf))`` underflows to ``log 0 = -inf``
when the target is far from every component or the target has many dimensions; the
``logsumexp`` form stays finite.
"""

from __future__ import annotations

import math

import torch

from ._checks import as_matrix, same_length
from .model import MixtureParameters, check_params


def _log_joint(log_pi, mu, sigma, points: torch.Tensor) -> torch.Tensor:
    r""":math:`\ln \pi_k + \ln \mathcal{N}(p \mid \mu_k, \sigma_k^2)` for ``P`` points per mixture.

    The one place the component log-densities are computed: the loss (``P = 1``), the
    responsibilities and the mode search all call it. ``points`` ``[N, P, D]`` gives
    ``[N, P, K]``.
    """
    z = (points.unsqueeze(2) - mu.unsqueeze(1)) / sigma.unsqueeze(1)  # [N, P, K, D]
    log_normal = (
        -0.5 * z.pow(2).sum(-1)
        - sigma.log().sum(-1).unsqueeze(1)
        - 0.5 * mu.shape[-1] * math.log(2 * math.pi)
    )  # [N, P, K]
    return log_pi.unsqueeze(1) + log_normal


def _targets(params: MixtureParameters, t) -> tuple[MixtureParameters, torch.Tensor]:
    params = check_params(params)
    t = as_matrix(t, "t", params.mu.shape[-1])
    same_length(params.mu, "params", t, "t")
    return params, t.to(params.mu).unsqueeze(1)  # [N, 1, D]


def mixture_log_prob(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """Log-density ``log p(t | x)`` of each target under its mixture.

    Arguments:
        params: mixture parameters for ``N`` inputs (``log_pi`` ``[N, K]``, ``mu`` and
            ``sigma`` ``[N, K, D]``).
        t: targets, ``[N, D]``.

    Returns:
        Log-densities in nats, ``[N]``.
    """
    params, points = _targets(params, t)
    return torch.logsumexp(_log_joint(*params, points), dim=-1).squeeze(1)  # [N]


def mixture_nll(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over the ``N`` points, a scalar in nats."""
    return -mixture_log_prob(params, t).mean()


def responsibilities(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    r"""Posterior probabilities :math:`\gamma_k = p(k \mid x, t)` of the components, ``[N, K]``.

    They weight every gradient of the loss (PRML eqs. 5.155-5.157).
    """
    params, points = _targets(params, t)
    return torch.softmax(_log_joint(*params, points), dim=-1).squeeze(1)  # [N, K]
