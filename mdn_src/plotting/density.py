"""Conditional densities as images over (input, output), on the book's one log colour scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from .theme import FIGSIZE, ArrayOrTensor, as_numpy

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["cell_edges", "plot_density", "plot_density_comparison"]


def cell_edges(centres: ArrayOrTensor) -> np.ndarray:
    """Edges of the cells centred on a sorted 1-D grid, ``[len(centres) + 1]``.

    The inner edges are the midpoints, the end cells as wide as their neighbours (as
    ``pcolormesh``'s ``shading="nearest"``); a grid of one point gets a unit-wide cell.

    Raises:
        ValueError: ``centres`` is empty or not increasing.
    """
    centres = as_numpy(centres).astype(np.float64).ravel()
    if len(centres) == 0 or (np.diff(centres) <= 0).any():
        raise ValueError(f"centres must be a non-empty increasing grid, got {centres}")
    if len(centres) == 1:
        return centres[0] + np.array([-0.5, 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def _log_scale(vmin: float, vmax: float) -> LogNorm:
    """The colour scale of every density image: logarithmic, clipped to ``[vmin, vmax]``."""
    if not 0 < vmin < vmax:
        raise ValueError(f"vmin and vmax must satisfy 0 < vmin < vmax, got {vmin} and {vmax}")
    return LogNorm(vmin=vmin, vmax=vmax, clip=True)


def _image(ax: Axes, inputs: np.ndarray, outputs: np.ndarray, density: np.ndarray,
           norm: LogNorm, name: str = "density"):  # fmt: skip
    """``density`` ``[I, O]`` as an image over the grid (``pcolorfast``): one raster, where a
    ``pcolormesh`` of a 2,500 x 401 grid drew a million quadrilaterals, which a legend at
    ``loc="best"`` then turned into a million paths to avoid (6 s a figure)."""
    if density.shape != (len(inputs), len(outputs)):
        raise ValueError(
            f"{name} must have shape [len(inputs), len(outputs)] = "
            f"{(len(inputs), len(outputs))}, got {density.shape}"
        )
    ax.grid(False)
    return ax.pcolorfast(cell_edges(inputs), cell_edges(outputs), density.T, cmap="magma_r",
                         norm=norm)  # fmt: skip


def plot_density(ax: Axes, inputs: ArrayOrTensor, outputs: ArrayOrTensor,
                 density: ArrayOrTensor, label: str = r"$p(x \mid t)$", vmin: float = 0.1,
                 vmax: float = 30.0) -> Axes:  # fmt: skip
    """A conditional density on a grid as a colour map, on the book's one log scale.

    Arguments:
        ax: the axes (from :func:`~mdn_src.plotting.new_axes`).
        inputs: ``[I]`` grid of the conditioning variable (horizontal axis).
        outputs: ``[O]`` grid of the predicted variable (vertical axis).
        density: ``[I, O]`` density values, ``density[i, o]`` at ``(inputs[i], outputs[o])``.
        label: the colour bar's label.
        vmin, vmax: ends of the logarithmic colour scale; values outside are clipped, so
            densities from different models share one scale.

    Returns:
        ``ax``: the image is ``ax.images[-1]``, its colour bar a new axes of ``ax.figure``.
    """
    inputs, outputs = as_numpy(inputs).ravel(), as_numpy(outputs).ravel()
    image = _image(ax, inputs, outputs, as_numpy(density), _log_scale(vmin, vmax))
    ax.figure.colorbar(image, ax=ax, label=label, extend="both")
    return ax


def plot_density_comparison(
    inputs: ArrayOrTensor,
    outputs: ArrayOrTensor,
    densities: dict[str, ArrayOrTensor],
    xlabel: str = "$t$",
    ylabel: str = "$x$",
    label: str = r"$p(x \mid t)$",
    vmin: float = 0.1,
    vmax: float = 30.0,
) -> tuple[Figure, list[Axes]]:
    """Several conditional densities side by side, on one shared logarithmic colour scale.

    Arguments:
        inputs: ``[I]`` grid of the conditioning variable (horizontal axes).
        outputs: ``[O]`` grid of the predicted variable (vertical axes).
        densities: ``{title: [I, O] density}``, one panel each, in order (at least one).
        xlabel, ylabel: axis labels; label: the shared colour bar's label.
        vmin, vmax: ends of the colour scale, as in :func:`plot_density`.

    Returns:
        ``(fig, axes)``, one axes per density.
    """
    if not densities:
        raise ValueError("densities must hold at least one {title: density} entry")
    inputs, outputs = as_numpy(inputs).ravel(), as_numpy(outputs).ravel()
    n = len(densities)
    fig, axes = plt.subplots(1, n, figsize=(FIGSIZE[0] * 0.55 * n + 1.0, FIGSIZE[1] * 0.85),
                             sharex=True, sharey=True, layout="constrained", squeeze=False)  # fmt: skip
    axes = list(axes[0])
    norm = _log_scale(vmin, vmax)
    for ax, (title, density) in zip(axes, densities.items(), strict=True):
        image = _image(ax, inputs, outputs, as_numpy(density), norm, f"density {title!r}")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    fig.colorbar(image, ax=axes, label=label, extend="both")
    return fig, axes
