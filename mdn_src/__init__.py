"""mdn_src: mixture density networks in PyTorch, and the exact answer to PRML's toy problem.

The modules, one idea each: :mod:`~mdn_src.data` (the toy problem), :mod:`~mdn_src.oracle`
(its exact densities and Bayes figures), :mod:`~mdn_src.model` (MLP and MDN),
:mod:`~mdn_src.loss` (log-space NLL), :mod:`~mdn_src.train` (``fit``),
:mod:`~mdn_src.predict` (sampling, modes, moments), :mod:`~mdn_src.metrics` and
:mod:`~mdn_src.plotting`.
"""

from .data import make_toy_data, test_grid, toy_curve
from .loss import mixture_log_prob, mixture_nll, responsibilities
from .metrics import mean_nll, mse, pit
from .model import MDN, MLP, MixtureParameters
from .predict import (
    Modes,
    approximate_mode,
    conditional_modes,
    mixture_mean,
    mixture_variance,
    sample,
)
from .train import fit

__all__ = [
    "MDN",
    "MLP",
    "MixtureParameters",
    "Modes",
    "approximate_mode",
    "conditional_modes",
    "fit",
    "make_toy_data",
    "mean_nll",
    "mixture_log_prob",
    "mixture_mean",
    "mixture_nll",
    "mixture_variance",
    "mse",
    "pit",
    "responsibilities",
    "sample",
    "test_grid",
    "toy_curve",
]
