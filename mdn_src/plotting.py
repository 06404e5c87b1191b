"""Plotting helpers: every figure in the book shares one size, palette and labelling."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

#: The book's palette, by role (data, model, exact answer, and a second model).
COLORS = {"data": "#2a9d8f", "model": "#d62828", "exact": "#1d3557", "other": "#f4a261"}
FIGSIZE = (6.4, 4.4)


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def new_axes(xlabel: str, ylabel: str, title: str | None = None, figsize=FIGSIZE):
    """A fresh figure and axes with the book's size and the given axis labels."""
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.25)
    return fig, ax


def plot_data(ax, inputs, targets, label: str = "training data"):
    """The training points as hollow circles."""
    ax.plot(
        _np(inputs).ravel(),
        _np(targets).ravel(),
        "o",
        mfc="none",
        ms=3.5,
        alpha=0.35,
        color=COLORS["data"],
        label=label,
    )
    return ax


def plot_curve(ax, inputs, values, label: str, kind: str = "model", style: str = "-"):
    """A curve over sorted inputs (``kind`` picks the colour: model, exact or other)."""
    inputs, values = _np(inputs).ravel(), _np(values).reshape(len(_np(inputs).ravel()), -1)
    order = np.argsort(inputs)
    ax.plot(inputs[order], values[order], style, lw=2.5, color=COLORS[kind], label=label)
    return ax


def plot_points(ax, inputs, values, label: str, kind: str = "model", alpha: float = 0.5):
    """Predictions as small dots: one per input, or ``[N, M]`` values (M per input)."""
    inputs, values = _np(inputs).ravel(), _np(values)
    if values.shape[0] != len(inputs):
        raise ValueError(
            f"values must be [N, ...] with N = {len(inputs)} inputs first, got shape {values.shape}"
        )
    values = values.reshape(len(inputs), -1)
    ax.plot(
        np.repeat(inputs, values.shape[1]),
        values.ravel(),
        ".",
        ms=2.5,
        alpha=alpha,
        color=COLORS[kind],
        label=label,
    )
    return ax


def plot_loss(history, ylabel: str, reference: float | None = None, reference_label: str = ""):
    """A loss trace against epoch, with an optional horizontal reference line."""
    fig, ax = new_axes("epoch", ylabel)
    ax.plot(
        np.arange(len(history)), _np(history), color=COLORS["model"], lw=1.5, label="training loss"
    )
    if reference is not None:
        ax.axhline(reference, color=COLORS["exact"], ls="--", lw=1.5, label=reference_label)
    ax.legend()
    return fig, ax


def finish(ax, legend: bool = True):
    """Add a legend with opaque markers; call before ``plt.show()``."""
    if legend:
        leg = ax.legend(loc="best", markerscale=2)
        for handle in leg.legend_handles:
            handle.set_alpha(1)
    return ax


def plot_density(ax, inputs, outputs, density, label: str = r"$p(x \mid t)$",
                 vmin: float = 0.1, vmax: float = 30.0):  # fmt: skip
    """A conditional density on a grid as a colour map, on the book's one log scale.

    Arguments:
        ax: the axes (from :func:`new_axes`).
        inputs: ``[I]`` grid of the conditioning variable (horizontal axis).
        outputs: ``[O]`` grid of the predicted variable (vertical axis).
        density: ``[I, O]`` density values, ``density[i, o]`` at ``(inputs[i], outputs[o])``.
        label: the colour bar's label.
        vmin, vmax: ends of the logarithmic colour scale; values outside are clipped, so
            densities from different models share one scale.
    """
    from matplotlib.colors import LogNorm

    inputs, outputs, density = _np(inputs).ravel(), _np(outputs).ravel(), _np(density)
    if density.shape != (len(inputs), len(outputs)):
        raise ValueError(
            f"density must have shape [len(inputs), len(outputs)] = "
            f"{(len(inputs), len(outputs))}, got {density.shape}"
        )
    ax.grid(False)
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=True)
    mesh = ax.pcolormesh(inputs, outputs, density.T, cmap="magma_r", norm=norm, rasterized=True)
    ax.figure.colorbar(mesh, ax=ax, label=label, extend="both")
    return mesh


def plot_component_means(ax, inputs, params, label: str, every: int = 10):
    """Every component's mean at every ``every``-th input, with area proportional to its pi.

    Components the network has switched off at an input (pi near 0) vanish there, instead
    of drawing the tangle of idle means an equal-size plot shows. 1-D targets only.
    """
    inputs, mu, pi = _np(inputs).reshape(-1), _np(params.mu), _np(params.pi)
    if mu.shape[2] != 1:
        raise ValueError(f"plot_component_means draws 1-D targets, got D = {mu.shape[2]}")
    if mu.shape[0] != len(inputs):
        raise ValueError(f"params hold {mu.shape[0]} mixtures for {len(inputs)} inputs")
    inputs, mu, pi = inputs[::every], mu[::every, :, 0], pi[::every]  # [M], [M, K], [M, K]
    ax.scatter(np.repeat(inputs[:, None], mu.shape[1], axis=1), mu, s=60 * pi, lw=0, alpha=0.6,
               color=COLORS["model"], label=label, zorder=3)  # fmt: skip
    return ax
