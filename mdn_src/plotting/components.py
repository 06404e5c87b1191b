"""A mixture's components, one by one: their curves over a target grid (the derivation),
their mixing coefficients against the input, and their means over a density image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .theme import COLORS, OKABE_ITO, ArrayOrTensor, as_numpy

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..mixture import MixtureParameters

__all__ = ["SERIES_STYLES", "plot_component_means", "plot_components", "plot_mixing_coefficients"]

#: Colour and line style of the 1st, 2nd, ... component drawn by
#: :func:`plot_mixing_coefficients` (model, other, then the remaining Okabe-Ito colours).
SERIES_STYLES = ((COLORS["model"], "-"), (COLORS["other"], "-."), (OKABE_ITO[4], "--"),
                 (OKABE_ITO[6], ":"), (OKABE_ITO[0], "-"), (OKABE_ITO[1], "-."))  # fmt: skip


def plot_components(ax: Axes, t: ArrayOrTensor, components: ArrayOrTensor,
                    labels: Sequence[str], total: ArrayOrTensor | None = None,
                    total_label: str = "", style: str = "--") -> Axes:  # fmt: skip
    r"""One curve per mixture component over a grid of ``t``, and optionally their total.

    Components take the roles' colours in turn (model, other, data, then the Okabe-Ito
    cycle) with line style ``style``; the total is drawn solid in the exact colour.

    Arguments:
        ax: the axes (from :func:`~mdn_src.plotting.new_axes`).
        t: ``[M]`` grid of the target (horizontal axis).
        components: ``[M, K]`` values, column ``k`` for component ``k`` (weighted densities
            :math:`\pi_k \mathcal{N}_k`, or responsibilities :math:`\gamma_k`).
        labels: ``K`` legend entries.
        total: optional ``[M]`` curve drawn under the components (the mixture density).
        total_label: the total's legend entry.
        style: the components' line style.

    Returns:
        ``ax``.
    """
    t, components = as_numpy(t).ravel(), as_numpy(components)
    if components.ndim != 2 or components.shape[0] != len(t):
        raise ValueError(
            f"components must have shape [len(t), K] = [{len(t)}, K], got {components.shape}"
        )
    if len(labels) != components.shape[1]:
        raise ValueError(f"labels must hold K = {components.shape[1]} entries, got {len(labels)}")
    colors = [COLORS["model"], COLORS["other"], COLORS["data"]]
    colors += [c for c in OKABE_ITO if c not in colors]
    if total is not None:
        ax.plot(t, as_numpy(total).ravel(), "-", lw=2.5, color=COLORS["exact"], label=total_label)
    for k, label in enumerate(labels):
        ax.plot(t, components[:, k], style, lw=2, color=colors[k % len(colors)], label=label)
    return ax


def _check_inputs(inputs: np.ndarray, pi: np.ndarray) -> None:
    if pi.shape[0] != len(inputs):
        raise ValueError(f"params hold {pi.shape[0]} mixtures for {len(inputs)} inputs")


def plot_component_means(ax: Axes, inputs: ArrayOrTensor, params: MixtureParameters,
                         label: str, every: int = 10) -> Axes:  # fmt: skip
    """Every component's mean at every ``every``-th input, with area proportional to its pi.

    Components the network has switched off at an input (pi near 0) vanish there, instead
    of drawing the tangle of idle means an equal-size plot shows. 1-D targets only.

    Arguments:
        ax: the axes (usually over :func:`~mdn_src.plotting.plot_density`).
        inputs: ``[N]`` inputs, one per mixture.
        params: the mixtures, :class:`~mdn_src.mixture.MixtureParameters` with ``mu``
            ``[N, K, 1]``.
        label: the legend entry.
        every: draw the means at every ``every``-th input.

    Returns:
        ``ax``; the means are the scatter ``ax.collections[-1]``, each of area
        ``60 * pi`` (points squared).
    """
    inputs, mu, pi = as_numpy(inputs).ravel(), as_numpy(params.mu), as_numpy(params.pi)
    if mu.shape[2] != 1:
        raise ValueError(f"plot_component_means draws 1-D targets, got D = {mu.shape[2]}")
    _check_inputs(inputs, pi)
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be a positive integer, got {every!r}")
    inputs, mu, pi = inputs[::every], mu[::every, :, 0], pi[::every]  # [M], [M, K], [M, K]
    ax.scatter(np.repeat(inputs[:, None], mu.shape[1], axis=1), mu, s=60 * pi, lw=0, alpha=0.6,
               color=COLORS["model"], label=label, zorder=3)  # fmt: skip
    return ax


def plot_mixing_coefficients(ax: Axes, inputs: ArrayOrTensor, params: MixtureParameters,
                             threshold: float = 0.01) -> Axes:  # fmt: skip
    r"""Every component's mixing coefficient :math:`\pi_k` against the input (PRML Fig. 5.21a).

    A component whose :math:`\pi_k` reaches ``threshold`` at some input is drawn thick, in
    a colour and line style of its own (:data:`SERIES_STYLES`, in turn) and labelled with
    its index ``k`` counted from 1; the others, switched off at every input, are drawn
    thin and faint under one legend entry, so that 30 components stay readable.

    Arguments:
        ax: the axes (from :func:`~mdn_src.plotting.new_axes`).
        inputs: ``[N]`` inputs (horizontal axis), one per mixture.
        params: the mixtures at those inputs, :class:`~mdn_src.mixture.MixtureParameters`
            with ``log_pi`` ``[N, K]``.
        threshold: in (0, 1); the largest :math:`\pi_k` over the inputs a component needs
            to be drawn thick.

    Returns:
        ``ax``: the faint components' lines first, then the thick ones in increasing ``k``,
        each labelled ``$k = ...$``.
    """
    inputs, pi = as_numpy(inputs).ravel(), as_numpy(params.pi)  # [N], [N, K]
    _check_inputs(inputs, pi)
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    order = np.argsort(inputs)
    inputs, pi = inputs[order], pi[order]
    major = np.flatnonzero(pi.max(0) >= threshold)  # [M]
    minor = np.setdiff1d(np.arange(pi.shape[1]), major)
    for i, k in enumerate(minor):
        ax.plot(inputs, pi[:, k], "-", lw=0.8, alpha=0.3, color=COLORS["exact"],
                label=f"the other {len(minor)} components" if i == 0 else None)  # fmt: skip
    for i, k in enumerate(major):
        color, style = SERIES_STYLES[i % len(SERIES_STYLES)]
        ax.plot(inputs, pi[:, k], style, lw=2.2, color=color, label=f"$k = {k + 1}$")
    ax.set_ylim(-0.03, 1.03)
    return ax
