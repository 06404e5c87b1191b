"""Plotting helpers: every figure in the book shares one size, palette and labelling.

The helpers live in themed modules; every public name is importable from here
(``from mdn_src import plotting; plotting.plot_data(...)``):

=================  ============================================================
module             what it draws
=================  ============================================================
``theme``          the palette, figure size, :func:`new_axes`, :func:`finish`
``data``           training points, curves, predicted points, mean and variance
``density``        conditional densities as images, side by side
``components``     a mixture's components: curves, mixing coefficients, means
``slices``         densities at a few fixed inputs
``arm``            the robot arm: workspace, poses, points, ellipses
``training``       loss traces and training diagnostics
``evaluation``     score against K, PIT histograms, a gap split into its parts
``architecture``   the MDN as a diagram
``animation``      a density taking shape during training
``interactive``    a slider over the input that redraws p(x | t) in the page
=================  ============================================================

A helper that draws on given axes returns them; one that makes a figure returns
``(fig, ax)`` or ``(fig, axes)``; :func:`animate_density` returns the animation, and
:func:`interactive_density` HTML with its data and JavaScript inline.
"""

from .animation import animate_density
from .architecture import plot_architecture
from .arm import plot_arm, plot_ellipses, plot_positions, workspace_axes
from .components import (
    SERIES_STYLES,
    plot_component_means,
    plot_components,
    plot_mixing_coefficients,
)
from .data import plot_curve, plot_data, plot_mean_and_variance, plot_points
from .density import cell_edges, plot_density, plot_density_comparison
from .evaluation import plot_gap_decomposition, plot_k_curve, plot_pit
from .interactive import InteractiveFigure, export_mdn, interactive_density
from .slices import SLICE_STYLES, plot_mixture_slice, plot_mixture_slices, plot_slices
from .theme import (
    COLORS,
    FIGSIZE,
    LINESTYLES,
    OKABE_ITO,
    ArrayOrTensor,
    as_numpy,
    finish,
    new_axes,
    panel_axes,
    role_style,
    style_axes,
)
from .training import plot_diagnostics, plot_loss, plot_loss_runs

__all__ = [
    "COLORS",
    "FIGSIZE",
    "InteractiveFigure",
    "LINESTYLES",
    "OKABE_ITO",
    "SERIES_STYLES",
    "SLICE_STYLES",
    "ArrayOrTensor",
    "animate_density",
    "as_numpy",
    "cell_edges",
    "export_mdn",
    "finish",
    "interactive_density",
    "new_axes",
    "panel_axes",
    "plot_architecture",
    "plot_arm",
    "plot_component_means",
    "plot_components",
    "plot_curve",
    "plot_data",
    "plot_density",
    "plot_density_comparison",
    "plot_diagnostics",
    "plot_ellipses",
    "plot_gap_decomposition",
    "plot_k_curve",
    "plot_loss",
    "plot_loss_runs",
    "plot_mean_and_variance",
    "plot_mixing_coefficients",
    "plot_mixture_slice",
    "plot_mixture_slices",
    "plot_points",
    "plot_positions",
    "plot_pit",
    "plot_slices",
    "role_style",
    "style_axes",
    "workspace_axes",
]
