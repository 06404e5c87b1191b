"""Data and curves over the input: training points, a model's or the exact curve, predicted
points, and a model's conditional mean and variance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from .theme import FIGSIZE, ArrayOrTensor, as_numpy, finish, role_style, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_curve", "plot_data", "plot_mean_and_variance", "plot_points"]


def plot_data(ax: Axes, inputs: ArrayOrTensor, targets: ArrayOrTensor,
              label: str = "training data") -> Axes:  # fmt: skip
    """The training points as hollow circles in the data colour.

    Returns:
        ``ax``.
    """
    inputs, targets = as_numpy(inputs).ravel(), as_numpy(targets).ravel()
    if targets.shape != inputs.shape:
        raise ValueError(
            f"targets must hold one value per input ({len(inputs)}), got {len(targets)}"
        )
    color, _ = role_style("data")
    ax.plot(inputs, targets, "o", mfc="none", ms=3.5, alpha=0.35, color=color, label=label)
    return ax


def plot_curve(ax: Axes, inputs: ArrayOrTensor, values: ArrayOrTensor, label: str,
               kind: str = "model", style: str | None = None) -> Axes:  # fmt: skip
    """A curve over sorted inputs.

    Arguments:
        ax: the axes.
        inputs: ``[N]`` (or ``[N, 1]``) inputs, in any order.
        values: ``[N]`` or ``[N, M]`` values (``M`` curves).
        label: the legend entry.
        kind: the role, which picks the colour and, unless ``style`` is given, the line
            style (model solid, exact dashed, other dash-dotted).
        style: a line style instead of the role's.

    Returns:
        ``ax``.
    """
    inputs, values = as_numpy(inputs).ravel(), as_numpy(values)
    if len(inputs) == 0 or values.size % len(inputs):
        raise ValueError(
            f"values must hold the same number of values for each of the {len(inputs)} inputs, "
            f"got shape {values.shape}"
        )
    values = values.reshape(len(inputs), -1)  # [N, M]
    color, role_line = role_style(kind)
    order = np.argsort(inputs)
    style = role_line if style is None else style
    ax.plot(inputs[order], values[order], style, lw=2.5, color=color, label=label)
    return ax


def plot_points(ax: Axes, inputs: ArrayOrTensor, values: ArrayOrTensor, label: str,
                kind: str = "model", alpha: float = 0.5) -> Axes:  # fmt: skip
    """Predictions as small dots: one per input, or ``[N, M]`` values (``M`` per input).

    Returns:
        ``ax``.
    """
    inputs, values = as_numpy(inputs).ravel(), as_numpy(values)
    if values.ndim == 0 or values.shape[0] != len(inputs):
        raise ValueError(
            f"values must be [N, ...] with N = {len(inputs)} inputs first, got shape {values.shape}"
        )
    values = values.reshape(len(inputs), -1)  # [N, M]
    color, _ = role_style(kind)
    ax.plot(np.repeat(inputs, values.shape[1]), values.ravel(), ".", ms=2.5, alpha=alpha,
            color=color, label=label)  # fmt: skip
    return ax


def plot_mean_and_variance(
    inputs: ArrayOrTensor,
    mean: ArrayOrTensor,
    variance: ArrayOrTensor,
    exact_mean: ArrayOrTensor | None = None,
    exact_variance: ArrayOrTensor | None = None,
    data: tuple[ArrayOrTensor, ArrayOrTensor] | None = None,
    label: str = "MDN",
    xlabel: str = "$t$",
    ylabels: tuple[str, str] = (r"$E[x \mid t]$", r"$\mathrm{var}[x \mid t]$"),
) -> tuple[Figure, tuple[Axes, Axes]]:
    r"""A model's conditional mean (top panel) and variance (bottom) against the input.

    The model's curves are solid in its colour, the exact ones dashed in black (PRML eqs.
    5.158 to 5.160 give a mixture's mean and variance). A variance that changes with the
    input is the heteroscedastic noise a least-squares fit cannot express.

    Arguments:
        inputs: ``[N]`` inputs (the shared horizontal axis).
        mean, variance: the model's, ``[N]`` each (or ``[N, 1]``).
        exact_mean, exact_variance: optional exact curves, ``[N]`` each; NaN leaves gaps.
        data: optional ``(inputs, targets)`` of the training points, drawn under the means.
        label: the model's legend entry.
        xlabel: the label under the bottom panel.
        ylabels: the labels of the two panels' vertical axes.

    Returns:
        ``(fig, (ax_mean, ax_variance))``.
    """
    inputs = as_numpy(inputs).ravel()
    curves = {"mean": mean, "variance": variance, "exact_mean": exact_mean,
              "exact_variance": exact_variance}  # fmt: skip
    for name, values in curves.items():
        if values is not None and as_numpy(values).size != len(inputs):
            raise ValueError(
                f"{name} must hold one value per input ({len(inputs)}), got shape "
                f"{as_numpy(values).shape}"
            )
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FIGSIZE[0], 6.0), sharex=True,
                                      layout="constrained")  # fmt: skip
    style_axes(top, ylabel=ylabels[0])
    style_axes(bottom, xlabel, ylabels[1])
    if data is not None:
        plot_data(top, *data)
    for ax, model, exact in ((top, mean, exact_mean), (bottom, variance, exact_variance)):
        plot_curve(ax, inputs, model, label)
        if exact is not None:
            plot_curve(ax, inputs, exact, "exact", "exact")
        finish(ax)
    return fig, (top, bottom)
