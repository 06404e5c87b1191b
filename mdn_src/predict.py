r"""Predictions from a mixture: samples, modes, mean and variance -- all vectorised.

No function here loops in Python over points, samples or components; the only loop is the
fixed-point iteration of :func:`conditional_modes`, whose every step treats all points and
all starting points at once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ._checks import positive_float, positive_int
from .loss import _log_joint
from .model import MixtureParameters, check_params


def sample(
    params: MixtureParameters, n_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Draw ``n_samples`` targets for each of the ``N`` inputs.

    Each sample first picks one component with probabilities ``pi``, then draws all ``D``
    of its dimensions from that component's Gaussian (ancestral sampling, PRML §8.1.2).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``).
        n_samples: number ``S`` of samples per input.
        generator: a seeded ``torch.Generator`` for reproducible draws.

    Returns:
        Samples, ``[S, N, D]``.
    """
    log_pi, mu, sigma = check_params(params).detach()
    S = positive_int(n_samples, "n_samples")
    N, K, D = mu.shape
    component = torch.multinomial(
        log_pi.exp(), S, replacement=True, generator=generator
    ).T  # [S, N]
    index = component[..., None, None].expand(S, N, 1, D)
    mu_k = mu.expand(S, N, K, D).gather(2, index).squeeze(2)  # [S, N, D]
    sigma_k = sigma.expand(S, N, K, D).gather(2, index).squeeze(2)  # [S, N, D]
    noise = torch.randn(S, N, D, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu_k + sigma_k * noise


def approximate_mode(params: MixtureParameters) -> torch.Tensor:
    """The mean of the most probable component for each input, ``[N, D]``.

    A cheap stand-in for the conditional mode (PRML p. 277), close to it when the components
    are well apart and of similar width (a wide component with the largest pi can still be
    lower than a narrow one); see :func:`conditional_modes` for the real thing.
    """
    log_pi, mu, _ = check_params(params).detach()
    best = log_pi.argmax(-1)  # [N]
    return mu[torch.arange(mu.shape[0], device=mu.device), best]  # [N, D]


def mixture_mean(params: MixtureParameters) -> torch.Tensor:
    r""":math:`E[t \mid x] = \sum_k \pi_k \mu_k`, ``[N, D]``."""
    log_pi, mu, _ = check_params(params).detach()
    return (log_pi.exp().unsqueeze(-1) * mu).sum(1)


def mixture_variance(params: MixtureParameters) -> torch.Tensor:
    r"""Per-dimension variance :math:`\sum_k \pi_k (\sigma_k^2 + \mu_k^2) - (E[t \mid x])^2`, ``[N, D]``."""
    log_pi, mu, sigma = check_params(params).detach()
    pi = log_pi.exp().unsqueeze(-1)  # [N, K, 1]
    mean = (pi * mu).sum(1)
    # Centre first: sum_k pi_k (sigma_k^2 + (mu_k - mean)^2) avoids cancellation.
    return (pi * (sigma.pow(2) + (mu - mean.unsqueeze(1)).pow(2))).sum(1)


class Modes(NamedTuple):
    """Local maxima of each input's mixture density, found from every component mean.

    Attributes:
        location: where each of the ``K`` ascents ended, ``[N, K, D]``.
        log_density: the mixture's log-density there, ``[N, K]``.
        distinct: True for the first ascent to reach each distinct mode, ``[N, K]``;
            ``location[distinct]`` lists every mode once.
        highest: the global mode of each mixture, ``[N, D]``.
    """

    location: torch.Tensor
    log_density: torch.Tensor
    distinct: torch.Tensor
    highest: torch.Tensor

    def significant(self, ratio: float = 0.01) -> torch.Tensor:
        """Mask ``[N, K]`` of the distinct modes at least ``ratio`` times as high as the highest.

        A mixture fitted with many narrow components has tiny bumps where unused components
        sit far from the data; they are true local maxima, but rarely worth drawing.
        """
        ratio = positive_float(ratio, "ratio")
        top = self.log_density.max(-1, keepdim=True).values
        return self.distinct & (self.log_density >= top + math.log(ratio))


def conditional_modes(
    params: MixtureParameters, max_iter: int = 1000, tol: float = 1e-6, merge_tol: float = 1e-3
) -> Modes:
    r"""Find the modes of each mixture by fixed-point (mean-shift) iteration.

    The conditional mode has no closed form (PRML p. 277). Setting the gradient of the
    mixture density to zero gives, per dimension,

    .. math::

        t = \frac{\sum_k \gamma_k(t)\, \mu_k / \sigma_k^2}{\sum_k \gamma_k(t) / \sigma_k^2},

    where :math:`\gamma_k(t)` are the responsibilities. Iterating this map from every
    component mean climbs to a local maximum (each step never lowers the density); the
    ascents that end within ``merge_tol`` of each other are one mode.

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``).
        max_iter: most fixed-point steps.
        tol: an ascent stops once a step moves it less than this (in every dimension);
            only the ascents still moving are computed, so slow stragglers cost little.
        merge_tol: ascents ending closer than this (Euclidean) are the same mode.

    Returns:
        A :class:`Modes`.
    """
    log_pi, mu, sigma = check_params(params).detach()
    max_iter = positive_int(max_iter, "max_iter")
    tol = positive_float(tol, "tol")
    merge_tol = positive_float(merge_tol, "merge_tol")
    N, K, D = mu.shape
    owner = torch.arange(N, device=mu.device).repeat_interleave(K)  # [M = N*K]
    points = mu.reshape(N * K, D).clone()  # one ascent from each component mean
    active = torch.arange(N * K, device=mu.device)  # ascents still moving
    for _ in range(max_iter):
        n = owner[active]
        p_mu, p_sigma = mu[n], sigma[n]  # [A, K, D]
        log_joint = _log_joint(log_pi[n], p_mu, p_sigma, points[active].unsqueeze(1))  # [A, 1, K]
        weight = torch.softmax(log_joint, dim=-1).transpose(1, 2) * p_sigma.pow(-2)  # [A, K, D]
        updated = (weight * p_mu).sum(1) / weight.sum(1)  # [A, D]
        moving = (updated - points[active]).abs().amax(-1) >= tol  # [A]
        points[active] = updated
        active = active[moving]
        if active.numel() == 0:
            break
    points = points.view(N, K, D)
    log_density = torch.logsumexp(_log_joint(log_pi, mu, sigma, points), dim=-1)  # [N, P]
    # An ascent is a repeat when an earlier one (lower index) ended within merge_tol.
    close = torch.cdist(points, points) < merge_tol  # [N, P, P]
    earlier = torch.ones_like(close[0]).tril(-1)  # [P, P]: j < i
    distinct = ~(close & earlier).any(-1)  # [N, P]
    best = log_density.argmax(-1)
    highest = points[torch.arange(points.shape[0], device=points.device), best]
    return Modes(points, log_density, distinct, highest)
