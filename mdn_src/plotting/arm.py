"""The two-link robot arm (:mod:`mdn_src.problems.arm`): its workspace, its poses, points in
a plane, and Gaussian components drawn as ellipses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..problems.arm import LENGTHS, forward_kinematics
from .theme import ArrayOrTensor, as_numpy, new_axes, role_style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_arm", "plot_ellipses", "plot_positions", "workspace_axes"]


def workspace_axes(title: str | None = None) -> tuple[Figure, Axes]:
    """Axes for the arm's workspace: hand positions ``x1``, ``x2`` on equal scales.

    Returns:
        ``(fig, ax)``.
    """
    fig, ax = new_axes("$x_1$", "$x_2$", title)
    ax.set_aspect("equal", adjustable="datalim")
    return fig, ax


def _check_pairs(name: str, value: ArrayOrTensor, rows: str = "N") -> np.ndarray:
    """``value`` as a float64 array ``[rows, 2]``, or a ``ValueError`` naming it."""
    value = as_numpy(value).astype(np.float64)
    if value.ndim != 2 or value.shape[1] != 2:
        raise ValueError(f"{name} must have shape [{rows}, 2], got {value.shape}")
    return value


def plot_positions(ax: Axes, points: ArrayOrTensor, label: str, kind: str = "model",
                   marker: str = ".", size: float = 3.0, hollow: bool = False,
                   alpha: float = 0.6) -> Axes:  # fmt: skip
    """Points in a plane, ``[N, 2]``: hand positions, or joint-angle pairs.

    ``kind`` picks the colour (data, model, exact or other); ``hollow`` draws open markers.

    Returns:
        ``ax``.
    """
    points = _check_pairs("points", points)
    color, _ = role_style(kind)
    ax.plot(points[:, 0], points[:, 1], marker, ls="none", ms=size, alpha=alpha, color=color,
            mfc="none" if hollow else color, label=label)  # fmt: skip
    return ax


def plot_arm(ax: Axes, theta: ArrayOrTensor, label: str, kind: str = "model",
             style: str = "-", lengths: tuple[float, float] | None = None) -> Axes:  # fmt: skip
    """The arm in each pose of ``theta`` ``[M, 2]``: shoulder (the origin), elbow, hand.

    One legend entry for all ``M`` arms; ``lengths`` defaults to
    :data:`mdn_src.problems.LENGTHS`.

    Returns:
        ``ax``, with one new line per pose through its three joints.
    """
    lengths = LENGTHS if lengths is None else lengths
    theta = _check_pairs("theta", theta, "M")
    color, _ = role_style(kind)
    elbow = lengths[0] * np.stack([np.cos(theta[:, 0]), np.sin(theta[:, 0])], 1)  # [M, 2]
    hand = forward_kinematics(theta, lengths)  # [M, 2]
    for i in range(len(theta)):
        joints = np.stack([np.zeros(2), elbow[i], hand[i]])  # [3, 2]
        ax.plot(joints[:, 0], joints[:, 1], style, marker="o", ms=4, lw=2, color=color,
                label=label if i == 0 else None)  # fmt: skip
    return ax


def plot_ellipses(ax: Axes, mu: ArrayOrTensor, scale_tril: ArrayOrTensor, label: str,
                  kind: str = "model", n_std: float = 2.0, style: str = "-") -> Axes:  # fmt: skip
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

    Returns:
        ``ax``, with one new line per ellipse, then one line of the ``M`` means.
    """
    mu, tril = as_numpy(mu).astype(np.float64), as_numpy(scale_tril).astype(np.float64)
    if mu.ndim != 2 or mu.shape[1] != 2 or tril.shape != (len(mu), 2, 2):
        raise ValueError(
            f"mu must be [M, 2] and scale_tril [M, 2, 2], got {mu.shape} and {tril.shape}"
        )
    color, _ = role_style(kind)
    u = np.linspace(0, 2 * np.pi, 97)
    circle = np.stack([np.cos(u), np.sin(u)])  # [2, 97]
    for i in range(len(mu)):
        ring = mu[i][:, None] + n_std * tril[i] @ circle  # [2, 97]
        ax.plot(ring[0], ring[1], style, lw=1.5, color=color, label=label if i == 0 else None)
    ax.plot(mu[:, 0], mu[:, 1], "+", ms=8, mew=1.5, ls="none", color=color)
    return ax
