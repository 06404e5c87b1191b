r"""How close can a K-component mixture get to the exact inverse density, with no data at all?

An MDN's error against the exact answer mixes three causes: the shape of its components
(smooth bumps cannot be flat boxes), the finite training set, and the optimisation.
:func:`~mdn_src.problems.fit_exact_density` isolates the first. For each input :math:`t` on
a grid it fits a free K-component mixture :math:`q(x \mid t)` of one family straight to the
exact :math:`p(x \mid t)` (uniform on :math:`S_t`, :mod:`mdn_src.problems.oracle`),
minimising the cross-entropy

.. math::

    \begin{aligned}
    C(t) &= \mathbb{E}_{x \sim p(\cdot \mid t)}\!\left[-\ln q(x \mid t)\right] \\
         &= \ln |S_t| + \mathrm{KL}\big(p(\cdot \mid t) \,\|\, q(\cdot \mid t)\big),
    \end{aligned}

with no network (each :math:`t` has its own parameters) and no sampling error in the end
(the final :math:`C(t)` is a dense midpoint rule over :math:`S_t`). Averaged over
:math:`p(t)`, :math:`C` is the held-out NLL of the best model of that family and K that
gradient descent found: its gap to the Bayes limit (the average KL) is the part of an MDN's
gap that no data set and no training schedule can remove.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import positive_float, positive_int
from ..mixture import MixtureParameters, log_prob
from ..model import HeadSpec
from .oracle import inverse_support
from .toy import NOISE_HALF_WIDTH

__all__ = ["MixtureFit", "fit_exact_density", "points_in_support"]


@dataclass(frozen=True)
class MixtureFit:
    """Mixtures fitted to the exact :math:`p(x \\mid t)` on a grid of ``T`` inputs.

    Attributes:
        t: the inputs, midpoints of ``T`` equal cells of ``[-0.1, 1.1]``, float64 ``[T]``.
        weight: :math:`p(t)\\,\\Delta t` for each input, normalised to sum to one, ``[T]``.
        params: the fitted mixtures (float64), ``log_pi`` ``[T, K]``, ``mu`` and ``sigma``
            ``[T, K, 1]``.
        cross_entropy: :math:`C(t)`, the expected NLL of the fitted mixture under the exact
            density, in nats, ``[T]``.
        entropy: :math:`\\ln |S_t|`, the exact density's expected NLL, ``[T]``.
    """

    t: np.ndarray
    weight: np.ndarray
    params: MixtureParameters
    cross_entropy: np.ndarray
    entropy: np.ndarray

    @property
    def nll(self) -> float:
        """The fitted mixtures' expected NLL over :math:`p(t)`, in nats."""
        return float(np.sum(self.weight * self.cross_entropy))

    @property
    def bayes_nll(self) -> float:
        """The exact density's expected NLL on the same grid (the Bayes limit), in nats."""
        return float(np.sum(self.weight * self.entropy))

    @property
    def gap(self) -> float:
        """``nll - bayes_nll``: the average KL divergence from the exact density, >= 0."""
        return float(np.sum(self.weight * (self.cross_entropy - self.entropy)))


def points_in_support(u: torch.Tensor, left, width) -> torch.Tensor:
    """Map ``u`` ``[T, Q]`` in (0, 1) to x in :math:`S_t`, uniformly: its inverse CDF."""
    cum = width.cumsum(-1)  # [T, 3]
    s = u * cum[:, -1:]  # [T, Q]: arc length into S_t
    index = (s.unsqueeze(-1) >= cum.unsqueeze(1)).sum(-1).clamp_max(2)  # [T, Q]
    start = torch.gather(cum - width, 1, index)  # arc length where that interval starts
    return torch.gather(left, 1, index) + (s - start)


def fit_exact_density(
    n_components: int,
    family: str = "gaussian",
    *,
    n_inputs: int = 48,
    n_points: int = 128,
    steps: int = 1000,
    lr: float = 0.01,
    n_eval: int = 2048,
    seed: int = 0,
    **spec_kwargs,
) -> MixtureFit:
    r"""Fit a free K-component mixture to the exact inverse density at each of ``n_inputs`` t.

    The raw parameters are mapped to the mixture exactly as an MDN's head outputs are
    (:class:`~mdn_src.model.HeadSpec`, with ``spec_kwargs`` such as ``sigma_min`` or
    ``beta_range``), so the fit is what an MDN of that family and K could reach with a
    perfect network, infinite data and a good optimiser. The means start at the K
    quantiles of :math:`p(x \mid t)`, the scales at :math:`|S_t| / K`, the weights equal.
    Adam (cosine schedule over ``steps``) minimises the cross-entropy averaged over
    :math:`p(t)`, estimated at every step from ``n_points`` fresh stratified points of
    :math:`S_t` per input; the final cross-entropy is a midpoint rule with ``n_eval``
    points per input.

    Arguments:
        n_components: K.
        family: the component family (``"gaussian"``, ``"laplace"``, ``"student_t"``, ``"gennorm"``).
        n_inputs: T, grid cells over :math:`t \in [-0.1, 1.1]`.
        n_points: sample points per input and step.
        steps: optimiser steps.
        lr: Adam's initial learning rate.
        n_eval: midpoints per input for the final cross-entropy.
        seed: seeds the sample points.
        **spec_kwargs: ``HeadSpec`` options (``sigma_min``, ``df``, ``df_min``,
            ``beta_range``).

    Returns:
        A :class:`MixtureFit`.

    Raises:
        ValueError: for a non-positive count or learning rate, or a family that is not 1-D
            on the real line (``"von_mises"``).

    Example:
        >>> fit = fit_exact_density(3, n_inputs=8, steps=50)
        >>> fit.params.mu.shape, fit.gap > 0
        (torch.Size([8, 3, 1]), True)
    """
    K = positive_int(n_components, "n_components")
    T = positive_int(n_inputs, "n_inputs")
    Q = positive_int(n_points, "n_points")
    steps = positive_int(steps, "steps")
    n_eval = positive_int(n_eval, "n_eval")
    lr = positive_float(lr, "lr")
    if family == "von_mises":
        raise ValueError("family must be a family on the real line, got 'von_mises'")
    spec = HeadSpec(
        family,
        "isotropic",
        spec_kwargs.pop("sigma_min", 1e-3),
        spec_kwargs.pop("df", None),
        spec_kwargs.pop("df_min", 2.0),
        tuple(spec_kwargs.pop("beta_range", (1.0, 20.0))),
        "free",
    )
    if spec_kwargs:
        raise TypeError(f"unexpected keyword arguments {sorted(spec_kwargs)}")

    edges = np.linspace(-NOISE_HALF_WIDTH, 1 + NOISE_HALF_WIDTH, T + 1)
    t = 0.5 * (edges[1:] + edges[:-1])  # [T]
    left_np, right_np = inverse_support(t)  # [T, 3] each
    left, width = torch.from_numpy(left_np), torch.from_numpy(right_np - left_np)
    length = width.sum(-1)  # [T]: |S_t| > 0 on the open support
    weight = (length / length.sum()).numpy()  # p(t) dt, normalised (p(t) = |S_t| / 0.2)

    # Raw outputs [T, sum(head_sizes)]: pi logits, means, scales, [shapes].
    sizes = spec.head_sizes(K, 1)
    quantiles = (torch.arange(K, dtype=torch.float64) + 0.5) / K
    mu0 = points_in_support(quantiles.expand(T, K), left, width)  # [T, K]
    sigma0 = (length / K).clamp_min(2 * spec.sigma_min) - spec.sigma_min  # softplus target
    a_sigma = torch.log(torch.expm1(sigma0)).unsqueeze(1).expand(T, K)
    parts = [mu0.new_zeros(T, K), mu0, a_sigma]  # float64, as mu0
    parts += [mu0.new_zeros(T, s) for s in sizes[3:]]
    a = torch.cat(parts, dim=1).clone().requires_grad_(True)

    w = torch.from_numpy(weight)
    generator = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam([a], lr=lr)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / steps))
        u = (
            torch.arange(Q, dtype=torch.float64)
            + torch.rand(T, Q, generator=generator, dtype=torch.float64)
        ) / Q
        x = points_in_support(u, left, width).unsqueeze(-1)  # [T, Q, 1]
        params = spec.parameters(a, K, 1)
        loss = -(w * log_prob(params, x).mean(-1)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    with torch.no_grad():
        params = spec.parameters(a.detach(), K, 1)
        u = ((torch.arange(n_eval, dtype=torch.float64) + 0.5) / n_eval).expand(T, n_eval)
        x = points_in_support(u, left, width).unsqueeze(-1)
        cross_entropy = (-log_prob(params, x).mean(-1)).numpy()
    return MixtureFit(t, weight, params, cross_entropy, np.log(length.numpy()))
