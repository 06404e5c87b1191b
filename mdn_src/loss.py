r"""The MDN's loss: the negative log-likelihood of a mixture, in log space.

For one point (PRML eq. 5.153),

.. math::

    E = -\log \sum_k \pi_k \mathcal{N}(t \mid \mu_k, \sigma_k^2)
      = -\operatorname{logsumexp}_k \big(\log \pi_k + \log \mathcal{N}(t \mid \mu_k, \sigma_k^2)\big).

The right-hand side never forms a density: ``log(sum(pdf))`` underflows to ``log 0 = -inf``
when the target is far from every component or the target has many dimensions; the
``logsumexp`` form stays finite.
"""

from __future__ import annotations

import torch

from .checks import as_matrix, same_length
from .mixture import MixtureParameters, check_params, log_joint, log_prob

__all__ = ["mixture_log_prob", "mixture_nll", "nll", "responsibilities"]


def _targets(params: MixtureParameters, t) -> tuple[MixtureParameters, torch.Tensor]:
    params = check_params(params)
    t = as_matrix(t, "t", params.mu.shape[-1])
    same_length(params.mu, "params", t, "t")
    return params, t.to(params.mu)


def nll(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """:func:`mixture_nll` without the argument checks, for the training loop.

    ``t`` must be a ``[N, D]`` tensor of ``params``' dtype and device.
    """
    return -log_prob(params, t.unsqueeze(1)).squeeze(1).mean()


def mixture_log_prob(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """Log-density ``log p(t | x)`` of each target under its mixture.

    Arguments:
        params: mixture parameters for ``N`` inputs (``log_pi`` ``[N, K]``, ``mu`` and
            ``sigma`` ``[N, K, D]``), of any component family.
        t: targets, ``[N, D]``.

    Returns:
        Log-densities in nats, ``[N]``.
    """
    params, t = _targets(params, t)
    return log_prob(params, t.unsqueeze(1)).squeeze(1)  # [N]


def mixture_nll(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over the ``N`` points, a scalar in nats."""
    return -mixture_log_prob(params, t).mean()


def responsibilities(params: MixtureParameters, t: torch.Tensor) -> torch.Tensor:
    r"""Posterior probabilities :math:`\gamma_k = p(k \mid x, t)` of the components, ``[N, K]``.

    They weight every gradient of the loss (PRML eqs. 5.155-5.157).
    """
    params, t = _targets(params, t)
    return torch.softmax(log_joint(params, t.unsqueeze(1)), dim=-1).squeeze(1)  # [N, K]
