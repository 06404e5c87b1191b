"""The MDN as a diagram (PRML Fig. 5.20): inputs, a tanh hidden layer, the three heads and
the mixture they define."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from .theme import COLORS, FIGSIZE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_architecture"]

_MAX_NODES = 40  # in one column: more would not be readable at the book's figure size
_XS = (0.0, 2.0, 4.0)  # the input, hidden and head columns; the mixture's box spans [7, 10]


def _column(n: int) -> np.ndarray:
    """Heights of ``n`` nodes one unit apart, top to bottom, centred on 0."""
    return np.arange(n)[::-1] - (n - 1) / 2


def _head_rows(K: int, D: int) -> tuple[list[tuple[str, str, np.ndarray]], float]:
    """Each head's symbol, activation and node heights (``K``, ``K * D`` and ``K`` nodes,
    a gap of 0.8 between heads, centred on 0), and the span from the first to the last."""
    heads = [(r"$\pi$", "softmax", K), (r"$\mu$", "identity", K * D),
             (r"$\sigma$", r"$\sigma_{\min}$ + softplus", K)]  # fmt: skip
    gap, start, tops = 0.8, 0.0, []
    for _, _, n in heads:
        tops.append(start)
        start += n + gap
    span = start - gap - 1
    rows = [(symbol, activation, span / 2 - top - np.arange(n, dtype=float))
            for (symbol, activation, n), top in zip(heads, tops, strict=True)]  # fmt: skip
    return rows, span


def _draw_network(ax: Axes, columns: list[np.ndarray]) -> None:
    """Every edge between adjacent columns (grey, under), then the nodes of each column as
    one scatter of circles, in the roles' colours (input: data, hidden: other, heads: model)."""
    for i in range(len(columns) - 1):  # the layers input -> hidden, hidden -> heads
        for y0 in columns[i]:
            for y1 in columns[i + 1]:
                ax.plot(_XS[i : i + 2], [y0, y1], color="0.7", lw=0.5, zorder=1)
    size = 160 if max(map(len, columns)) <= 16 else 60
    for x, ys, role in zip(_XS, columns, ("data", "other", "model"), strict=True):
        ax.scatter(np.full(len(ys), x), ys, s=size, facecolor="white", edgecolor=COLORS[role],
                   linewidth=1.5, zorder=3)  # fmt: skip


def _draw_mixture(ax: Axes, K: int, box_h: float, top: float) -> None:
    """The mixture's box, titled, with a sketch of ``K`` Gaussians of decreasing weight."""
    ax.add_patch(Rectangle((7.0, -box_h / 2), 3.0, box_h, fill=False, lw=1, ec="0.3"))
    ax.text(8.5, top, "mixture\n" + r"$p(t \mid x)$", ha="center", va="bottom", fontsize=10)
    u = np.linspace(-3.5, 3.5, 200)
    centres, width = np.linspace(-2.0, 2.0, K), 0.5 + 1.0 / K
    weights = np.arange(K, 0, -1) / np.arange(K, 0, -1).sum()
    curve = (weights * np.exp(-0.5 * ((u[:, None] - centres) / width) ** 2)).sum(1)
    ax.plot(8.5 + u * 0.4, -box_h / 2 + 0.1 * box_h + curve / curve.max() * 0.75 * box_h,
            "-", lw=2, color=COLORS["model"])  # fmt: skip


def plot_architecture(n_inputs: int = 1, n_hidden: int = 5, n_components: int = 3,
                      out_features: int = 1) -> tuple[Figure, Axes]:  # fmt: skip
    r"""The MDN as a diagram (PRML Fig. 5.20): inputs, a tanh hidden layer, the three heads
    and the mixture they define.

    Each layer's nodes are one scatter of circles, in ``ax.collections`` in the order input,
    hidden, heads; the heads hold ``K`` nodes for :math:`\pi`, ``K * D`` for :math:`\mu` and
    ``K`` for :math:`\sigma` (isotropic, one per component). The panel on the right sketches
    a mixture of ``K`` Gaussians, :math:`p(t \mid x)`, the network's answer for one input.

    Arguments:
        n_inputs: size of the input ``x``.
        n_hidden: number of hidden tanh units drawn.
        n_components: number ``K`` of components.
        out_features: size ``D`` of the target ``t``.

    Returns:
        ``(fig, ax)``, with ``n_inputs + n_hidden + (D + 2) K`` nodes in all.

    Raises:
        ValueError: a size is not a positive integer, or a column would hold more than 40
            nodes.

    Example:
        >>> fig, ax = plot_architecture(n_inputs=1, n_hidden=5, n_components=3)
        >>> [len(c.get_offsets()) for c in ax.collections]
        [1, 5, 9]
    """
    sizes = {"n_inputs": n_inputs, "n_hidden": n_hidden, "n_components": n_components,
             "out_features": out_features}  # fmt: skip
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    K, D = int(n_components), int(out_features)
    tallest = max(n_inputs, n_hidden, (D + 2) * K)
    if tallest > _MAX_NODES:
        raise ValueError(f"a column can hold at most {_MAX_NODES} nodes, got {tallest}")
    heads, span = _head_rows(K, D)
    height = max(span, n_inputs - 1, n_hidden - 1, 3)
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    ax.set_axis_off()
    _draw_network(ax, [_column(n_inputs), _column(n_hidden), np.concatenate([h[2] for h in heads])])
    if n_inputs == 1:
        ax.text(_XS[0] - 0.35, 0, "$x$", ha="right", va="center", fontsize=11)
    top = height / 2 + 1.0
    for x, title in zip(_XS, ["input", "hidden\n(tanh)", "heads"], strict=True):
        ax.text(x, top, title, ha="center", va="bottom", fontsize=10)
    box_h = max(height / 2, 2.0)
    _draw_mixture(ax, K, box_h, top)
    for symbol, activation, ys in heads:
        ax.text(_XS[2] + 0.35, ys.mean(), f"{symbol}\n{activation}", ha="left", va="center",
                fontsize=9)  # fmt: skip
        end = (6.95, ys.mean() * 0.3 * box_h / max(height / 2, 1))  # into the box
        ax.add_patch(FancyArrowPatch((6.3, ys.mean()), end, arrowstyle="-|>", mutation_scale=12,
                                     color="0.3"))  # fmt: skip
    ax.set_xlim(-1.0, 10.2)
    ax.set_ylim(-height / 2 - 0.8, top + 1.6)
    return fig, ax
