"""The book's look: one palette, one figure size, and the axes every figure starts from.

Every helper in :mod:`mdn_src.plotting` draws a role (the data, a model, the exact answer,
a second model) in that role's colour and line style, so a role looks the same in every
chapter. The colours are Okabe and Ito's, which stay distinct under common colour-vision
deficiencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt
    import torch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "FIGSIZE",
    "LINESTYLES",
    "OKABE_ITO",
    "ArrayOrTensor",
    "as_numpy",
    "finish",
    "new_axes",
    "panel_axes",
    "role_style",
    "style_axes",
]

#: What the helpers take as an array: anything NumPy converts, or a torch tensor.
ArrayOrTensor: TypeAlias = "npt.ArrayLike | torch.Tensor"

#: The book's colour for each role (data, model, exact answer, a second model), taken from
#: Okabe and Ito's set, whose colours stay distinct under common colour-vision deficiencies.
COLORS = {"data": "#56B4E9", "model": "#D55E00", "exact": "#000000", "other": "#009E73"}
#: Each role's line style, a second cue besides colour.
LINESTYLES = {"data": ":", "model": "-", "exact": "--", "other": "-."}
#: All eight Okabe-Ito colours, the colour cycle of every axes from :func:`new_axes`.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")  # fmt: skip
#: The size of a one-panel figure, in inches.
FIGSIZE = (6.4, 4.4)


def as_numpy(a: ArrayOrTensor) -> np.ndarray:
    """``a`` as a NumPy array; a tensor is detached and moved to the CPU first."""
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def role_style(kind: str) -> tuple[str, str]:
    """The colour and line style of a role: ``"data"``, ``"model"``, ``"exact"`` or ``"other"``.

    Raises:
        ValueError: ``kind`` is not one of the four roles.
    """
    if kind not in COLORS:
        raise ValueError(f"kind must be one of {sorted(COLORS)}, got {kind!r}")
    return COLORS[kind], LINESTYLES[kind]


def style_axes(ax: Axes, xlabel: str | None = None, ylabel: str | None = None,
               title: str | None = None, title_size: str | None = None) -> Axes:  # fmt: skip
    """Give existing axes the book's look: the Okabe-Ito colour cycle, a light grid, and the
    labels and title that are given (``title_size``, e.g. ``"medium"``, for a small panel).

    Returns:
        ``ax``.
    """
    ax.set_prop_cycle(color=OKABE_ITO)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, **({} if title_size is None else {"fontsize": title_size}))
    ax.grid(alpha=0.25)
    return ax


def new_axes(xlabel: str, ylabel: str, title: str | None = None,
             figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:  # fmt: skip
    """A fresh figure and axes with the book's size, look and the given axis labels.

    Returns:
        ``(fig, ax)``.
    """
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, style_axes(ax, xlabel, ylabel, title)


def panel_axes(titles: Iterable[str], xlabel: str, ylabel: str, sharey: bool = True,
               width: float = 3.2, height: float = 3.2) -> tuple[Figure, list[Axes]]:  # fmt: skip
    """A row of panels, one per title, with shared axis labels.

    Arguments:
        titles: one title per panel.
        xlabel, ylabel: the labels of every panel's horizontal axis and of the first
            panel's vertical axis.
        sharey: share the vertical axis between panels.
        width, height: size of each panel in inches.

    Returns:
        ``(fig, axes)``, with ``axes`` a list of ``len(titles)`` axes.

    Raises:
        ValueError: ``titles`` is empty.
    """
    titles = list(titles)
    if not titles:
        raise ValueError("titles must name at least one panel")
    fig, axes = plt.subplots(1, len(titles), figsize=(width * len(titles), height),
                             sharey=sharey, layout="constrained", squeeze=False)  # fmt: skip
    axes = list(axes[0])
    for ax, title in zip(axes, titles, strict=True):
        style_axes(ax, xlabel, title=title)
    axes[0].set_ylabel(ylabel)
    return fig, axes


def finish(ax: Axes, legend: bool = True) -> Axes:
    """Add a legend with opaque markers (if ``legend``); call before ``plt.show()``.

    Returns:
        ``ax``.
    """
    if legend:
        leg = ax.legend(loc="best", markerscale=2)
        for handle in leg.legend_handles:
            handle.set_alpha(1)
    return ax
