"""What a trained mixture answers: draws, moments, densities on a grid, and its modes."""

from .modes import Modes, conditional_modes
from .predict import approximate_mode, density_grid, mixture_mean, mixture_variance, sample
from .quantiles import central_interval, quantile

__all__ = [
    "Modes",
    "approximate_mode",
    "central_interval",
    "conditional_modes",
    "density_grid",
    "mixture_mean",
    "mixture_variance",
    "quantile",
    "sample",
]
