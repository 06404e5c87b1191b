"""Training as an animation: a conditional density taking shape, one frame per snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.image import PcolorImage

from .density import cell_edges, plot_density
from .theme import COLORS, ArrayOrTensor, as_numpy

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["animate_density"]


def _check_frames(inputs: np.ndarray, outputs: np.ndarray, densities: np.ndarray,
                  epochs: np.ndarray, means: ArrayOrTensor | None, weights: ArrayOrTensor | None,
                  component_inputs: ArrayOrTensor | None):  # fmt: skip
    """``(means, weights, component_inputs)`` as arrays (None without means), after checking
    every shape against ``densities`` ``[F, I, O]``; a ``ValueError`` naming what is wrong."""
    shape = (len(inputs), len(outputs))
    if densities.ndim != 3 or densities.shape[1:] != shape or len(densities) == 0:
        raise ValueError(
            f"densities must have shape [F >= 1, len(inputs), len(outputs)] = [F, {shape[0]}, "
            f"{shape[1]}], got {densities.shape}"
        )
    n_frames = len(densities)
    if len(epochs) != n_frames:
        raise ValueError(f"epochs must have one entry per frame ({n_frames}), got {len(epochs)}")
    if (means is None) != (weights is None):
        raise ValueError("means and weights go together: give both or neither")
    if means is None:
        return None, None, None
    means, weights = as_numpy(means), as_numpy(weights)
    component_inputs = inputs if component_inputs is None else as_numpy(component_inputs).ravel()
    expected = (n_frames, len(component_inputs))
    if means.ndim != 3 or means.shape[:2] != expected or weights.shape != means.shape:
        raise ValueError(
            f"means and weights must both have shape [F, M, K] = [{expected[0]}, "
            f"{expected[1]}, K], got {means.shape} and {weights.shape}"
        )
    return means, weights, component_inputs


def animate_density(
    inputs: ArrayOrTensor,
    outputs: ArrayOrTensor,
    densities: ArrayOrTensor,
    epochs: Sequence[int] | ArrayOrTensor,
    means: ArrayOrTensor | None = None,
    weights: ArrayOrTensor | None = None,
    component_inputs: ArrayOrTensor | None = None,
    *,
    interval: int = 250,
    figsize: tuple[float, float] = (4.4, 3.2),
    dpi: int = 72,
    vmin: float = 0.1,
    vmax: float = 30.0,
    close: bool = True,
) -> FuncAnimation:
    """A conditional density taking shape during training, one frame per snapshot.

    Each frame draws ``densities[f]`` as :func:`~mdn_src.plotting.plot_density` does (the
    book's logarithmic colour scale, so frames and still figures compare), titled with
    ``epochs[f]``; with ``means``, every component's mean is a dot whose area is
    proportional to its ``pi``, as in :func:`~mdn_src.plotting.plot_component_means`. Show
    it in a notebook with ``IPython.display.HTML(anim.to_jshtml())``; the default size and
    ``dpi`` keep each frame a few tens of kB.

    Arguments:
        inputs: ``[I]`` grid of the conditioning variable (horizontal axis).
        outputs: ``[O]`` grid of the predicted variable (vertical axis).
        densities: ``[F, I, O]``: frame ``f``'s density at ``(inputs[i], outputs[o])``.
        epochs: ``[F]`` the number of training epochs behind each frame (for the title).
        means: optional ``[F, M, K]`` component means at ``component_inputs``.
        weights: ``[F, M, K]`` mixing coefficients of those components; needed with
            ``means``.
        component_inputs: ``[M]`` inputs at which ``means`` are given (default ``inputs``).
        interval: milliseconds between frames.
        figsize, dpi: the figure's size in inches and its resolution.
        vmin, vmax: ends of the logarithmic colour scale.
        close: close the figure in pyplot, so that a notebook does not also show it as a
            static image (the animation still draws it).

    Returns:
        A ``matplotlib.animation.FuncAnimation`` of ``F`` frames (``anim.save`` or
        ``anim.to_jshtml()`` renders them).
    """
    inputs, outputs = as_numpy(inputs).ravel(), as_numpy(outputs).ravel()
    densities, epochs = as_numpy(densities), as_numpy(epochs).ravel()
    means, weights, component_inputs = _check_frames(
        inputs, outputs, densities, epochs, means, weights, component_inputs
    )
    # The dpi is given at creation: one set later is lost when pyplot closes the figure.
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
    ax.set_xlabel("$t$")
    ax.set_ylabel("$x$")
    image = plot_density(ax, inputs, outputs, densities[0], vmin=vmin, vmax=vmax).images[-1]
    dots = None
    if means is not None:
        xs = np.repeat(component_inputs, means.shape[2])  # [M * K]
        dots = ax.scatter(xs, means[0].ravel(), s=60 * weights[0].ravel(), color=COLORS["model"],
                          edgecolors="white", lw=0.4, alpha=0.9, zorder=3)  # fmt: skip
        ax.set_xlim(inputs.min(), inputs.max())
        ax.set_ylim(outputs.min(), outputs.max())

    # On an uneven grid pcolorfast draws a PcolorImage, which takes new data with its edges.
    edges = (cell_edges(inputs), cell_edges(outputs)) if isinstance(image, PcolorImage) else None

    def draw(f: int):
        if edges is None:
            image.set_array(densities[f].T)
        else:
            image.set_data(*edges, densities[f].T)
        ax.set_title(f"after {int(epochs[f]):,} epochs")
        if dots is None:
            return (image,)
        dots.set_offsets(np.c_[xs, means[f].ravel()])
        dots.set_sizes(60 * weights[f].ravel())
        return image, dots

    draw(0)
    fig.canvas.draw()  # lay the figure out once, then keep that layout for every frame
    fig.set_layout_engine("none")
    anim = FuncAnimation(fig, draw, frames=len(densities), interval=interval, blit=False)
    if close:
        plt.close(fig)
    return anim
