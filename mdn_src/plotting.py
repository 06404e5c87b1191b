"""Plotting helpers: every figure in the book shares one size, palette and labelling."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .arm import LENGTHS, forward_kinematics

#: The book's colour for each role (data, model, exact answer, a second model), taken from
#: Okabe and Ito's set, whose colours stay distinct under common colour-vision deficiencies.
COLORS = {"data": "#56B4E9", "model": "#D55E00", "exact": "#000000", "other": "#009E73"}
#: Each role's line style, a second cue besides colour.
LINESTYLES = {"data": ":", "model": "-", "exact": "--", "other": "-."}
#: All eight Okabe-Ito colours, the colour cycle of every axes from :func:`new_axes`.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000")  # fmt: skip
FIGSIZE = (6.4, 4.4)


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def new_axes(xlabel: str, ylabel: str, title: str | None = None, figsize=FIGSIZE):
    """A fresh figure and axes with the book's size and the given axis labels."""
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.set_prop_cycle(color=OKABE_ITO)
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


def plot_curve(ax, inputs, values, label: str, kind: str = "model", style: str | None = None):
    """A curve over sorted inputs (``kind`` picks the colour and, unless ``style`` is
    given, the line style: model solid, exact dashed, other dash-dotted)."""
    inputs, values = _np(inputs).ravel(), _np(values).reshape(len(_np(inputs).ravel()), -1)
    order = np.argsort(inputs)
    style = LINESTYLES[kind] if style is None else style
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


# --- The two-link robot arm (mdn_src.arm) ---------------------------------------------


def workspace_axes(title: str | None = None):
    """Axes for the arm's workspace: hand positions ``x1``, ``x2`` on equal scales."""
    fig, ax = new_axes("$x_1$", "$x_2$", title)
    ax.set_aspect("equal", adjustable="datalim")
    return fig, ax


def plot_positions(ax, points, label: str, kind: str = "model", marker: str = ".",
                   size: float = 3.0, hollow: bool = False, alpha: float = 0.6):  # fmt: skip
    """Points in a plane, ``[N, 2]``: hand positions, or joint-angle pairs.

    ``kind`` picks the colour (data, model, exact or other); ``hollow`` draws open markers.
    """
    points = _np(points)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape [N, 2], got {points.shape}")
    color = COLORS[kind]
    ax.plot(points[:, 0], points[:, 1], marker, ls="none", ms=size, alpha=alpha, color=color,
            mfc="none" if hollow else color, label=label)  # fmt: skip
    return ax


def plot_arm(ax, theta, label: str, kind: str = "model", style: str = "-", lengths=None):
    """The arm in each pose of ``theta`` ``[M, 2]``: shoulder (the origin), elbow, hand.

    One legend entry for all ``M`` arms; ``lengths`` defaults to ``mdn_src.arm.LENGTHS``.
    """
    lengths = LENGTHS if lengths is None else lengths
    theta = _np(theta).astype(np.float64)
    if theta.ndim != 2 or theta.shape[1] != 2:
        raise ValueError(f"theta must have shape [M, 2], got {theta.shape}")
    elbow = lengths[0] * np.stack([np.cos(theta[:, 0]), np.sin(theta[:, 0])], 1)  # [M, 2]
    hand = forward_kinematics(theta, lengths)  # [M, 2]
    for i in range(len(theta)):
        joints = np.stack([np.zeros(2), elbow[i], hand[i]])  # [3, 2]
        ax.plot(joints[:, 0], joints[:, 1], style, marker="o", ms=4, lw=2, color=COLORS[kind],
                label=label if i == 0 else None)  # fmt: skip
    return ax


def plot_ellipses(ax, mu, scale_tril, label: str, kind: str = "model", n_std: float = 2.0,
                  style: str = "-"):  # fmt: skip
    r"""Gaussian components in a plane, each as its ``n_std``-standard-deviation ellipse.

    The ellipse is :math:`\mu + n\, L (\cos u, \sin u)`: ``L L^T`` is the covariance, so a
    component stretched into a needle draws as a line. The means are marked with ``+``.

    Arguments:
        ax: the axes.
        mu: component means ``[M, 2]``.
        scale_tril: Cholesky factors ``[M, 2, 2]`` (``diag(sigma)`` for a diagonal one).
        label: one legend entry for all ``M`` ellipses.
        kind: the colour (data, model, exact or other).
        n_std: the ellipses' size, in standard deviations.
        style: the line style.
    """
    mu, tril = _np(mu).astype(np.float64), _np(scale_tril).astype(np.float64)
    if mu.ndim != 2 or mu.shape[1] != 2 or tril.shape != (len(mu), 2, 2):
        raise ValueError(
            f"mu must be [M, 2] and scale_tril [M, 2, 2], got {mu.shape} and {tril.shape}"
        )
    u = np.linspace(0, 2 * np.pi, 97)
    circle = np.stack([np.cos(u), np.sin(u)])  # [2, 97]
    for i in range(len(mu)):
        ring = mu[i][:, None] + n_std * tril[i] @ circle  # [2, 97]
        ax.plot(ring[0], ring[1], style, lw=1.5, color=COLORS[kind],
                label=label if i == 0 else None)  # fmt: skip
    ax.plot(mu[:, 0], mu[:, 1], "+", ms=8, mew=1.5, ls="none", color=COLORS[kind])
    return ax
