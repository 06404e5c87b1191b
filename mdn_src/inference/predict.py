r"""Predictions from a mixture: samples, the approximate mode, mean and variance.

All vectorised: no function here loops in Python over points, samples or components. The
search for every mode of a mixture is :func:`~mdn_src.inference.conditional_modes`.
"""

from __future__ import annotations

import torch

from ..checks import positive_float, positive_int
from ..mixture import (
    MixtureParameters,
    check_params,
    component_moments,
    get_family,
    log_prob,
    select,
)

__all__ = [
    "approximate_mode",
    "density_grid",
    "mixture_mean",
    "mixture_variance",
    "sample",
]


def sample(
    params: MixtureParameters,
    n_samples: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    scale_sigma: bool = False,
) -> torch.Tensor:
    """Draw ``n_samples`` targets for each of the ``N`` inputs.

    Each sample first picks one component with probabilities ``pi``, then draws all ``D``
    of its dimensions from that component (ancestral sampling, PRML §8.1.2).

    Arguments:
        params: mixture parameters (``mu`` ``[N, K, D]``), of any family.
        n_samples: number ``S`` of samples per input.
        generator: a seeded ``torch.Generator`` for reproducible draws.
        temperature: ``tau >= 0``; components are picked with probabilities proportional
            to ``pi ** (1 / tau)`` (the logits divided by ``tau``): below 1 sharpens the
            choice towards the most probable component, above 1 flattens it towards
            uniform, 0 always picks the most probable one. 1 (default) samples the model.
        scale_sigma: also multiply every component's scale by ``tau``, so ``tau -> 0``
            gives the most probable component's mean (:func:`approximate_mode`).

    Returns:
        Samples, ``[S, N, D]``.
    """
    params = check_params(params).detach()
    S = positive_int(n_samples, "n_samples")
    tau = positive_float(temperature, "temperature", allow_zero=True)
    if not isinstance(scale_sigma, bool):
        raise TypeError(f"scale_sigma must be a bool, got {type(scale_sigma).__name__}")
    N = params.mu.shape[0]
    if tau == 0:
        component = params.log_pi.argmax(-1).expand(S, N)  # [S, N]
    else:
        probs = params.pi if tau == 1 else torch.softmax(params.log_pi / tau, dim=-1)
        component = torch.multinomial(probs, S, replacement=True, generator=generator).T
    mu, sigma, shape, scale_tril = select(params, component)  # each draw's component: [S, N, ...]
    if scale_sigma and tau != 1:
        if tau == 0:
            return get_family(params.family).wrap(mu.clone())
        sigma = sigma * tau
        scale_tril = None if scale_tril is None else scale_tril * tau
    return get_family(params.family).sample(mu, sigma, shape, scale_tril, generator)  # [S, N, D]


def approximate_mode(params: MixtureParameters) -> torch.Tensor:
    """The mean of the most probable component for each input, ``[N, D]``.

    A cheap stand-in for the conditional mode (PRML p. 277), close to it when the components
    are well apart and of similar width (a wide component with the largest pi can still be
    lower than a narrow one); see :func:`~mdn_src.inference.conditional_modes` for the real thing.
    """
    params = check_params(params).detach()
    log_pi, mu = params.log_pi, params.mu
    best = log_pi.argmax(-1)  # [N]
    return mu[torch.arange(mu.shape[0], device=mu.device), best]  # [N, D]


def mixture_mean(params: MixtureParameters) -> torch.Tensor:
    r""":math:`E[t \mid x] = \sum_k \pi_k\, E_k[t]`, ``[N, D]``.

    Raises ``ValueError`` for a family whose components have no mean (``von_mises``, or
    ``student_t`` with ``df <= 1``).
    """
    params = check_params(params).detach()
    mean_k, _ = _moments(params, need_variance=False)
    return (params.pi.unsqueeze(-1) * mean_k).sum(1)


def mixture_variance(params: MixtureParameters) -> torch.Tensor:
    r"""Per-dimension variance :math:`\sum_k \pi_k (\operatorname{Var}_k + (E_k - E)^2)`, ``[N, D]``.

    Raises ``ValueError`` for a family whose components have no variance.
    """
    params = check_params(params).detach()
    mean_k, var_k = _moments(params)
    pi = params.pi.unsqueeze(-1)  # [N, K, 1]
    mean = (pi * mean_k).sum(1)
    # Centre first: sum_k pi_k (var_k + (mean_k - mean)^2) avoids cancellation.
    return (pi * (var_k + (mean_k - mean.unsqueeze(1)).pow(2))).sum(1)


def _moments(params: MixtureParameters, need_variance: bool = True):
    family = get_family(params.family)
    if not need_variance:
        args = (params.mu, params.sigma, params.shape_param, params.scale_tril)
        return family.mean(*args), None
    return component_moments(params)


def density_grid(params: MixtureParameters, outputs) -> torch.Tensor:
    """Each mixture's density at every point of one grid of 1-D targets: a density map.

    Arguments:
        params: mixtures for ``N`` inputs with 1-D targets (``mu`` ``[N, K, 1]``), e.g.
            ``mdn.mixture_parameters(x_grid)``.
        outputs: the target grid, ``[O]`` (tensor or array).

    Returns:
        ``[N, O]`` densities (not logs), ``density[i, j] = p(outputs[j] | input i)``, in
        ``params``' dtype; ready for :func:`mdn_src.plotting.plot_density`.
    """
    params = check_params(params).detach()
    if params.mu.shape[-1] != 1:
        raise ValueError(f"density_grid needs 1-D targets, got D = {params.mu.shape[-1]}")
    grid = torch.as_tensor(outputs)
    if grid.ndim != 1 or grid.numel() == 0 or not grid.is_floating_point():
        raise ValueError(
            f"outputs must be a non-empty 1-D float grid, got shape {tuple(grid.shape)}"
        )
    grid = grid.to(params.mu)
    n_inputs, n_outputs = params.mu.shape[0], grid.numel()
    rows = params.map(lambda v: v.repeat_interleave(n_outputs, 0))  # each input, n_outputs times
    targets = grid.repeat(n_inputs).view(-1, 1, 1)  # every output for every input
    return log_prob(rows, targets).exp().view(n_inputs, n_outputs)
