"""Training, traced over epochs: one loss curve, several runs' losses, and the diagnostics
that :func:`mdn_src.training.fit` records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from .theme import COLORS, ArrayOrTensor, as_numpy, new_axes, role_style, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..training import History

__all__ = ["plot_diagnostics", "plot_loss", "plot_loss_runs"]


def plot_loss(history: ArrayOrTensor, ylabel: str, reference: float | None = None,
              reference_label: str = "") -> tuple[Figure, Axes]:  # fmt: skip
    """A loss trace against epoch, with an optional horizontal reference line.

    Arguments:
        history: ``[epochs]`` losses (a :class:`~mdn_src.training.History` or an array).
        ylabel: the vertical axis's label.
        reference: the height of a dashed horizontal line (e.g. the exact NLL), or None.
        reference_label: its legend entry.

    Returns:
        ``(fig, ax)``.
    """
    losses = as_numpy(history).astype(np.float64).ravel()
    fig, ax = new_axes("epoch", ylabel)
    ax.plot(np.arange(len(losses)), losses, color=COLORS["model"], lw=1.5, label="training loss")
    if reference is not None:
        ax.axhline(reference, color=COLORS["exact"], ls="--", lw=1.5, label=reference_label)
    ax.legend()
    return fig, ax


def plot_loss_runs(histories: dict[str, ArrayOrTensor], ylabel: str, first_epoch: int = 0,
                   mark_lowest: bool = True) -> tuple[Figure, Axes]:  # fmt: skip
    """Several runs' loss traces on one axes, from ``first_epoch`` on, each marking its lowest.

    Arguments:
        histories: a dict ``{label: losses}`` (a :class:`~mdn_src.training.History` or an array
            ``[epochs]`` each, all the same length); the first run is drawn in the model's
            colour and line style, the others in other Okabe-Ito colours, thinner and with
            their own line styles.
        ylabel: the vertical axis's label.
        first_epoch: the first epoch drawn (to zoom in on the end of training).
        mark_lowest: mark each run's lowest loss over the whole run with a dot in its
            colour (drawn only if it falls at or after ``first_epoch``).

    Returns:
        ``(fig, ax)``: each run's line, followed by its dot if drawn.
    """
    runs = {label: as_numpy(losses).ravel() for label, losses in histories.items()}
    lengths = {len(losses) for losses in runs.values()}
    if not runs or len(lengths) != 1:
        raise ValueError(f"histories must hold >= 1 runs of one length, got lengths {lengths}")
    n_epochs = lengths.pop()
    if not 0 <= first_epoch < n_epochs:
        raise ValueError(f"first_epoch must be in [0, {n_epochs}), got {first_epoch}")
    fig, ax = new_axes("epoch", ylabel)
    colors = [COLORS["model"], "#0072B2", COLORS["other"], "#CC79A7", "#E69F00"]
    styles = ["-", "--", "-.", ":", "-"]
    epochs = np.arange(first_epoch, n_epochs)
    for i, (label, losses) in enumerate(runs.items()):
        color = colors[i % len(colors)]
        ax.plot(epochs, losses[first_epoch:], styles[i % len(styles)], color=color,
                lw=1.2 if i == 0 else 0.9, label=str(label))  # fmt: skip
        lowest = int(np.argmin(losses))
        if mark_lowest and lowest >= first_epoch:
            ax.plot(lowest, losses[lowest], "o", ms=7, color=color, mec="white", zorder=4)
    ax.legend()
    return fig, ax


#: The series of :func:`plot_diagnostics`, one panel each: the ``History.diagnostics`` key
#: (``"loss"``: the training loss itself) and the panel's title.
_PANELS = (("loss", "training loss (nats)"), ("min_sigma", r"smallest $\sigma$"),
           ("entropy", r"entropy of $\pi$ (nats)"), ("effective_components",
           "effective components"), ("grad_norm", "gradient norm"))  # fmt: skip


def plot_diagnostics(histories: dict[str, History], kinds: dict[str, str] | None = None,
                     reference: float | None = None,
                     reference_label: str = "") -> tuple[Figure, list[Axes]]:  # fmt: skip
    """The training loss and diagnostics of several runs over epochs, one panel each.

    Five panels on a 2 x 3 grid (the sixth holds the legend): the training loss, and what
    :func:`mdn_src.training.fit` records with ``diagnostics=True``: the smallest component
    scale (log axis), the entropy of the mixing coefficients, the effective number of
    components and the gradient norm (log axis). Non-finite values (a run that went NaN)
    leave gaps.

    Arguments:
        histories: ``{label: History}``, each recorded with ``diagnostics=True``.
        kinds: ``{label: kind}`` colour and line style per run (default: model, other,
            data, exact in turn).
        reference: an optional horizontal line on the loss panel (e.g. the exact NLL).
        reference_label: its legend entry.

    Returns:
        ``(fig, axes)``, five axes in the order above.
    """
    if not histories:
        raise ValueError("histories must hold at least one run")
    order = ("model", "other", "data", "exact")
    kinds = dict(kinds or {})
    fig, grid = plt.subplots(2, 3, figsize=(9.0, 5.6), layout="constrained")
    axes = list(grid.ravel()[:5])
    for ax, (_, title) in zip(axes, _PANELS, strict=True):
        style_axes(ax, "epoch", title=title, title_size="medium")
    for i, (label, history) in enumerate(histories.items()):
        diag = getattr(history, "diagnostics", None)
        if diag is None:
            raise ValueError(f"histories[{label!r}] has no diagnostics (fit(diagnostics=True))")
        color, style = role_style(kinds.get(label, order[i % len(order)]))
        for ax, (name, _) in zip(axes, _PANELS, strict=True):
            values = np.asarray(history.train if name == "loss" else diag[name], np.float64)
            ax.plot(np.arange(len(values)), values, style, color=color, lw=1.5, label=label)
    if reference is not None:
        axes[0].axhline(reference, color=COLORS["exact"], ls=":", lw=1.5, label=reference_label)
    for ax in (axes[1], axes[4]):
        ax.set_yscale("log")
    legend_ax = grid.ravel()[5]
    legend_ax.axis("off")
    legend_ax.legend(*axes[0].get_legend_handles_labels(), loc="center")
    return fig, axes
