"""Scores of trained models: held-out score against the number of components, calibration
(PIT histograms) and a gap to the exact answer split into its parts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .theme import COLORS, FIGSIZE, LINESTYLES, ArrayOrTensor, as_numpy, new_axes, role_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_gap_decomposition", "plot_k_curve", "plot_pit"]


def plot_k_curve(ax: Axes, ks: Sequence[float], scores: ArrayOrTensor, label: str,
                 kind: str = "model", offset: float = 1.0) -> Axes:  # fmt: skip
    """Mean score against the number of components, with one-sd error bars over seeds.

    Arguments:
        ax: the axes; its horizontal axis is put on a log scale with a tick at each K.
        ks: the ``L`` numbers of components.
        scores: ``[S, L]`` scores, one row per seed (or fold); ``S >= 2``.
        label: the legend entry.
        kind: the colour and line style (model, exact, other, data).
        offset: multiply the K of every point by this, to keep two curves' error bars
            apart on the log axis.

    Returns:
        ``ax``; the error bars are ``ax.containers[-1]``: the means over the rows as its
        line, and bars of one sample standard deviation (``ddof=1``) each side.
    """
    ks = np.asarray(ks, dtype=np.float64).ravel()
    scores = as_numpy(scores).astype(np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(ks) or scores.shape[0] < 2:
        raise ValueError(
            f"scores must have shape [S >= 2, {len(ks)}] (seeds by K), got {scores.shape}"
        )
    if not offset > 0:
        raise ValueError(f"offset must be > 0, got {offset}")
    color, style = role_style(kind)
    mean, sd = scores.mean(0), scores.std(0, ddof=1)
    ax.errorbar(ks * offset, mean, yerr=sd, marker="o", ls=style, color=color, capsize=3,
                lw=1.5, ms=5, label=label)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(ks, [f"{k:g}" for k in ks])
    ax.minorticks_off()
    return ax


def plot_pit(ax: Axes, u: ArrayOrTensor, label: str, kind: str = "model",
             bins: int = 10) -> Axes:  # fmt: skip
    """A PIT histogram on [0, 1], as a density, with the uniform density as a dashed line.

    Calibrated predictions give a flat histogram at height 1; a U shape means
    over-confident (targets fall in the tails too often), a hump under-confident.

    Arguments:
        ax: the axes.
        u: PIT values ``[N]`` in [0, 1] (:func:`mdn_src.metrics.pit`).
        label: the legend entry.
        kind: the bars' colour.
        bins: number of equal-width bins.

    Returns:
        ``ax``; its new patches are the ``bins`` bars, whose heights average to 1.
    """
    u = as_numpy(u).astype(np.float64).ravel()
    if u.size == 0 or not np.all((u >= 0) & (u <= 1)):
        raise ValueError("u must be a non-empty array of PIT values in [0, 1]")
    color, _ = role_style(kind)
    ax.hist(u, bins=bins, range=(0, 1), density=True, color=color, alpha=0.7, label=label)
    ax.axhline(1.0, color=COLORS["exact"], ls=LINESTYLES["exact"], lw=1.5, label="uniform")
    ax.set_xlim(0, 1)
    return ax


def plot_gap_decomposition(parts: dict[str, tuple[float, float]], xlabel: str = "nats",
                           total: str | None = None) -> tuple[Figure, Axes]:  # fmt: skip
    """A horizontal bar per part of a gap, with its error bar (mean +- sd).

    Arguments:
        parts: ``{label: (mean, sd)}`` in top-to-bottom order; sd may be 0 (no error bar
            drawn then).
        xlabel: the horizontal axis' label.
        total: the label of a bar that is the whole rather than a part (drawn in the
            model's colour; the parts in the second colour), or None.

    Returns:
        ``(fig, ax)``; the bars are ``ax.patches``, top to bottom.
    """
    if not parts:
        raise ValueError("parts must hold at least one {label: (mean, sd)} entry")
    if total is not None and total not in parts:
        raise ValueError(f"total {total!r} is not one of the parts {list(parts)}")
    labels = list(parts)
    means = np.array([float(parts[k][0]) for k in labels])
    sds = np.array([float(parts[k][1]) for k in labels])
    if (sds < 0).any():
        raise ValueError(f"every sd must be >= 0, got {sds.tolist()}")
    fig, ax = new_axes(xlabel, "", figsize=(FIGSIZE[0], 0.55 * len(labels) + 1.2))
    ax.grid(False)
    ax.grid(axis="x", alpha=0.25)
    y = np.arange(len(labels))[::-1]
    colors = [COLORS["model"] if k == total else COLORS["other"] for k in labels]
    ax.barh(y, means, xerr=np.where(sds > 0, sds, np.nan), color=colors, capsize=3,
            error_kw={"ecolor": COLORS["exact"], "lw": 1})  # fmt: skip
    ax.axvline(0, color=COLORS["exact"], lw=0.8)
    ax.set_yticks(y, labels)
    return fig, ax
