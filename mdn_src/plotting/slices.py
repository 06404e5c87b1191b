"""Slices of conditional densities: the density over the output at a few fixed inputs, for
several models side by side, or for one mixture with the weighted components that build it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..mixture import check_params, log_joint
from .theme import COLORS, FIGSIZE, OKABE_ITO, ArrayOrTensor, as_numpy, panel_axes, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..mixture import MixtureParameters

__all__ = ["SLICE_STYLES", "plot_mixture_slice", "plot_mixture_slices", "plot_slices"]

#: Line colour and style of each curve of :func:`plot_slices`, in order: the model's role
#: (solid), the second model's (dash-dotted), then Okabe-Ito blue, dashed.
SLICE_STYLES = ((COLORS["model"], "-"), (COLORS["other"], "-."), (OKABE_ITO[4], "--"))


def plot_slices(outputs: ArrayOrTensor, densities: dict[str, ArrayOrTensor],
                at: ArrayOrTensor, xlabel: str, data: Sequence[ArrayOrTensor] | None = None,
                title: str = "at {:g}", ylabel: str = "density") -> tuple[Figure, list[Axes]]:  # fmt: skip
    """Slices of conditional densities: one panel per input, one curve per model.

    Arguments:
        outputs: ``[O]`` grid of the predicted variable (each panel's horizontal axis).
        densities: up to three curves, ``{label: [P, O] array}``; row ``p`` is the density
            at input ``at[p]``, drawn in the styles of :data:`SLICE_STYLES`, in order.
        at: ``[P]`` inputs, one panel each (titled with ``title.format(at[p])``).
        xlabel: the label under each panel.
        data: optional sequence of ``P`` arrays, the observed targets near each input,
            drawn as a normalised histogram in the data colour.
        title: format string for each panel's title.
        ylabel: the first panel's vertical label.

    Returns:
        ``(fig, axes)``, with ``P`` axes in a row.
    """
    outputs, at = as_numpy(outputs).ravel(), as_numpy(at).ravel()
    if not 1 <= len(densities) <= len(SLICE_STYLES):
        raise ValueError(
            f"densities must hold 1 to {len(SLICE_STYLES)} curves, got {len(densities)}"
        )
    curves = {label: as_numpy(d) for label, d in densities.items()}
    for label, d in curves.items():
        if d.shape != (len(at), len(outputs)):
            raise ValueError(
                f"densities[{label!r}] must have shape [len(at), len(outputs)] = "
                f"{(len(at), len(outputs))}, got {d.shape}"
            )
    if data is not None and len(data) != len(at):
        raise ValueError(f"data must hold one array per input ({len(at)}), got {len(data)}")
    fig, axes = plt.subplots(1, len(at), figsize=(FIGSIZE[0], 2.9), layout="constrained",
                             squeeze=False)  # fmt: skip
    axes = list(axes[0])
    for p, ax in enumerate(axes):
        style_axes(ax, xlabel, title=title.format(at[p]), title_size="medium")
        if data is not None:
            ax.hist(as_numpy(data[p]).ravel(), bins=12, range=(outputs.min(), outputs.max()),
                    density=True, color=COLORS["data"], alpha=0.4, label="data nearby")  # fmt: skip
        for (label, d), (color, style) in zip(curves.items(), SLICE_STYLES, strict=False):
            ax.plot(outputs, d[p], style, lw=2, color=color, label=label)
    axes[0].set_ylabel(ylabel)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncol=len(curves) + (data is not None), fontsize="small")  # fmt: skip
    return fig, axes


def _weighted_components(params: MixtureParameters, outputs: np.ndarray) -> np.ndarray:
    r""":math:`\pi_k f_k(x)` of each of the ``P`` mixtures at every output, ``[P, O, K]``
    (float64); from the log-joint, exponentiated once at the end."""
    P, _, D = params.mu.shape
    if D != 1:
        raise ValueError(f"params must describe 1-D targets (mu [P, K, 1]), got D = {D}")
    grid = torch.as_tensor(outputs, dtype=params.mu.dtype).view(1, -1, 1).expand(P, -1, 1)
    with torch.no_grad():
        return log_joint(params, grid).exp().cpu().numpy().astype(np.float64)  # [P, O, K]


def _draw_slice(ax: Axes, outputs: np.ndarray, weighted: np.ndarray, shown: np.ndarray,
                exact: np.ndarray | None, label: str, components_label: str) -> None:  # fmt: skip
    """One mixture's slice: the mixture (solid), then the components ``shown`` (dash-dotted,
    over it: where one component is all of the mixture it still shows), then the exact
    density (dashed). ``weighted`` ``[O, K]``; ``shown``: component indices."""
    ax.plot(outputs, weighted.sum(-1), "-", lw=2.2, color=COLORS["model"], label=label)
    for i, k in enumerate(shown):
        ax.plot(outputs, weighted[:, k], "-.", lw=1.2, color=COLORS["other"],
                label=components_label if i == 0 else None)  # fmt: skip
    if exact is not None:
        ax.plot(outputs, exact, "--", lw=1.5, color=COLORS["exact"], label="exact")


def _check_threshold(threshold: float) -> None:
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")


def plot_mixture_slice(ax: Axes, outputs: ArrayOrTensor, params: MixtureParameters,
                       exact: ArrayOrTensor | None = None, label: str = "MDN",
                       components: bool = True, threshold: float = 1e-3) -> Axes:  # fmt: skip
    r"""One input's mixture density over ``outputs``, its weighted components, and the truth.

    The mixture is drawn solid in the model's colour, each component's share
    :math:`\pi_k f_k(x)` with :math:`\pi_k \ge` ``threshold`` thin and dash-dotted in the
    second colour, over it, the exact density dashed in black.

    Arguments:
        ax: the axes.
        outputs: ``[O]`` grid of the predicted variable (1-D targets).
        params: a :class:`~mdn_src.mixture.MixtureParameters` for ONE input (``N = 1``).
        exact: ``[O]`` exact density on ``outputs``, or None.
        label: the mixture's legend label.
        components: draw the weighted components.
        threshold: the smallest :math:`\pi_k` of a component drawn.

    Returns:
        ``ax``: its new lines are the mixture (labelled ``label``), the components drawn
        (the first labelled "weighted components") and the exact density ("exact").
    """
    params = check_params(params).detach()
    outputs = as_numpy(outputs).astype(np.float64).ravel()
    if params.mu.shape[0] != 1 or params.mu.shape[2] != 1:
        raise ValueError(
            "params must hold one mixture over a 1-D target (mu of shape [1, K, 1]), got mu "
            f"of shape {tuple(params.mu.shape)}"
        )
    _check_threshold(threshold)
    if exact is not None:
        exact = as_numpy(exact).ravel()
        if exact.shape != outputs.shape:
            raise ValueError(
                f"exact must hold one value per output ({len(outputs)}), got shape {exact.shape}"
            )
    weighted = _weighted_components(params, outputs)[0]  # [O, K]
    shown = np.flatnonzero(as_numpy(params.pi)[0] >= threshold) if components else []
    _draw_slice(ax, outputs, weighted, shown, exact, label, "weighted components")
    return ax


def plot_mixture_slices(
    outputs: ArrayOrTensor,
    params: MixtureParameters,
    at: ArrayOrTensor,
    exact: ArrayOrTensor | None = None,
    threshold: float = 0.01,
    label: str = "MDN",
    xlabel: str = "$x$",
    title: str = "$t = {:g}$",
) -> tuple[Figure, list[Axes]]:
    r"""Slices of a 1-D mixture density, one panel per input, with the components that build it.

    Each panel draws what :func:`plot_mixture_slice` draws: the mixture density (the
    model's colour, solid), every weighted component :math:`\pi_k f_k(x)` with
    :math:`\pi_k \ge` ``threshold`` there (thin, dash-dotted, the other colour, drawn over
    the mixture) and, if given, the exact density (black, dashed); one legend below.

    Arguments:
        outputs: ``[O]`` grid of the predicted variable (each panel's horizontal axis).
        params: the ``P`` mixtures, :class:`~mdn_src.mixture.MixtureParameters` with
            ``mu`` ``[P, K, 1]`` (any component family).
        at: ``[P]`` inputs of the mixtures, one panel each (titled ``title.format(at[p])``).
        exact: optional ``[P, O]`` exact densities on ``outputs``.
        threshold: the smallest :math:`\pi_k` of a component drawn in a panel.
        label: the mixture density's legend entry.
        xlabel: the label under each panel.
        title: format string for each panel's title.

    Returns:
        ``(fig, axes)``: the figure and its ``P`` axes in a row; panel ``p``'s first line
        is the mixture density at ``at[p]`` on ``outputs``.
    """
    params = check_params(params).detach()
    outputs, at = as_numpy(outputs).astype(np.float64).ravel(), as_numpy(at).ravel()
    P = params.mu.shape[0]
    if P != len(at):
        raise ValueError(f"params hold {P} mixtures for {len(at)} inputs in at")
    _check_threshold(threshold)
    if exact is not None:
        exact = as_numpy(exact)
        if exact.shape != (P, len(outputs)):
            raise ValueError(f"exact must have shape [len(at), len(outputs)] = "
                             f"{(P, len(outputs))}, got {exact.shape}")  # fmt: skip
    weighted = _weighted_components(params, outputs)  # [P, O, K]
    pi = as_numpy(params.pi)  # [P, K]
    fig, axes = panel_axes([title.format(a) for a in at], xlabel, r"$p(x \mid t)$",
                           sharey=False, width=2.3, height=2.9)  # fmt: skip
    for p, ax in enumerate(axes):
        ax.set_title(ax.get_title(), fontsize="medium")
        shown = np.flatnonzero(pi[p] >= threshold)
        _draw_slice(ax, outputs, weighted[p], shown, None if exact is None else exact[p],
                    label, r"$\pi_k f_k(x)$")  # fmt: skip
    handles = {}
    for ax in axes:  # one legend entry per role, whichever panel drew it
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center",
               ncol=len(handles), fontsize="small")  # fmt: skip
    return fig, axes
