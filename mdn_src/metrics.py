"""Evaluation: held-out NLL, MSE, and calibration of 1-D predictive densities."""

from __future__ import annotations

import numpy as np
import torch

from ._checks import as_matrix, same_length
from .loss import mixture_log_prob
from .model import MDN, MixtureParameters, check_params


@torch.no_grad()
def mean_nll(model: MDN, x, t) -> float:
    """Mean negative log-likelihood (nats) of targets ``t`` under ``model``'s ``p(t | x)``.

    Compare it with :func:`mdn_src.oracle.bayes_nll`: the expected NLL of the true density,
    which no model can beat on average.
    """
    if not isinstance(model, MDN):
        raise TypeError(f"model must be an MDN, got {type(model).__name__}")
    return float(-mixture_log_prob(model.mixture_parameters(x), t).mean())


def mse(prediction, target) -> float:
    """Mean squared error between two ``[N, D]`` arrays or tensors."""
    prediction = as_matrix(prediction, "prediction")
    target = as_matrix(target, "target", prediction.shape[1])
    same_length(prediction, "prediction", target, "target")
    return float((prediction.double() - target.double().to(prediction.device)).pow(2).mean())


def pit(params: MixtureParameters, t) -> np.ndarray:
    r"""Probability integral transform :math:`u = F(t \mid x)` for 1-D targets, ``[N]``.

    If the predicted densities are calibrated, ``u`` is uniform on [0, 1]; a U-shaped
    histogram means over-confident, a hump means under-confident.
    """
    log_pi, mu, sigma = check_params(params).detach()
    if mu.shape[-1] != 1:
        raise ValueError(f"pit needs 1-D targets, got mixtures over {mu.shape[-1]} dimensions")
    t = as_matrix(t, "t", 1)
    same_length(mu, "params", t, "t")
    z = (t.to(mu).unsqueeze(1) - mu) / sigma  # [N, K, 1]
    cdf = torch.special.ndtr(z.squeeze(-1))  # [N, K]
    return (log_pi.exp() * cdf).sum(-1).double().cpu().numpy()
