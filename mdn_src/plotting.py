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


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the cells centred on a sorted 1-D grid: the midpoints, and the end cells as
    wide as their neighbours (``pcolormesh``'s ``shading="nearest"``)."""
    if len(centres) == 1:
        return centres[0] + np.array([-0.5, 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def _density_image(ax, inputs, outputs, values, norm):
    """``values`` ``[O, I]`` as an image over the grid (``pcolorfast``): one raster, where a
    ``pcolormesh`` of a 2,500 x 401 grid drew a million quadrilaterals, which a legend at
    ``loc="best"`` then turned into a million paths to avoid (6 s a figure)."""
    return ax.pcolorfast(_cell_edges(inputs), _cell_edges(outputs), values, cmap="magma_r",
                         norm=norm)  # fmt: skip


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
    mesh = _density_image(ax, inputs, outputs, density.T, norm)
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


# --- Figures of the derivation (chapters 5 and 6) -----------------------------------------


def plot_components(ax, t, components, labels, total=None, total_label: str = "",
                    style: str = "--"):  # fmt: skip
    """One curve per mixture component over a grid of ``t``, and optionally their total.

    Components take the roles' colours in turn (model, other, data, then the Okabe-Ito
    cycle) with line style ``style``; the total is drawn solid in the exact colour.

    Arguments:
        ax: the axes (from :func:`new_axes`).
        t: ``[M]`` grid of the target (horizontal axis).
        components: ``[M, K]`` values, column ``k`` for component ``k`` (weighted densities
            :math:`\\pi_k \\mathcal{N}_k`, or responsibilities :math:`\\gamma_k`).
        labels: ``K`` legend entries.
        total: optional ``[M]`` curve drawn over the components (the mixture density).
        total_label: the total's legend entry.
        style: the components' line style.
    """
    t, components = _np(t).ravel(), _np(components)
    if components.ndim != 2 or components.shape[0] != len(t):
        raise ValueError(
            f"components must have shape [len(t), K] = [{len(t)}, K], got {components.shape}"
        )
    if len(labels) != components.shape[1]:
        raise ValueError(f"labels must hold K = {components.shape[1]} entries, got {len(labels)}")
    colors = [COLORS["model"], COLORS["other"], COLORS["data"]]
    colors += [c for c in OKABE_ITO if c not in colors]
    if total is not None:
        ax.plot(t, _np(total).ravel(), "-", lw=2.5, color=COLORS["exact"], label=total_label)
    for k, label in enumerate(labels):
        ax.plot(t, components[:, k], style, lw=2, color=colors[k % len(colors)], label=label)
    return ax


def plot_architecture(n_inputs: int = 1, n_hidden: int = 5, n_components: int = 3,
                      out_features: int = 1):  # fmt: skip
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
    from matplotlib.patches import FancyArrowPatch, Rectangle

    sizes = {"n_inputs": n_inputs, "n_hidden": n_hidden, "n_components": n_components,
             "out_features": out_features}  # fmt: skip
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    K, D = int(n_components), int(out_features)
    heads = [(r"$\pi$", "softmax", K), (r"$\mu$", "identity", K * D),
             (r"$\sigma$", r"$\sigma_{\min}$ + softplus", K)]  # fmt: skip
    gap = 0.8  # between two heads, in node spacings
    tallest = max(n_inputs, n_hidden, (D + 2) * K)
    if tallest > 40:
        raise ValueError(f"a column can hold at most 40 nodes, got {tallest}")
    y_out, start = [], 0.0
    for _, _, n in heads:
        y_out.append(-(start + np.arange(n, dtype=float)))
        start += n + gap
    height = start - gap - 1  # the heads' span, from the first node to the last
    y_out = [y + height / 2 for y in y_out]  # centred on 0
    height = max(height, n_inputs - 1, n_hidden - 1, 3)
    y_in = np.arange(n_inputs)[::-1] - (n_inputs - 1) / 2
    y_hid = np.arange(n_hidden)[::-1] - (n_hidden - 1) / 2
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    ax.set_axis_off()
    xs = (0.0, 2.0, 4.0)  # input, hidden, heads; the mixture's box spans [7, 10]
    all_out = np.concatenate(y_out)
    layers = [((xs[0], y_in), (xs[1], y_hid)), ((xs[1], y_hid), (xs[2], all_out))]
    for (x0, ys0), (x1, ys1) in layers:
        for y0 in ys0:
            for y1 in ys1:
                ax.plot([x0, x1], [y0, y1], color="0.7", lw=0.5, zorder=1)
    size = 160 if tallest <= 16 else 60
    for x, ys, role in [(xs[0], y_in, "data"), (xs[1], y_hid, "other"), (xs[2], all_out, "model")]:
        ax.scatter(np.full(len(ys), x), ys, s=size, facecolor="white", edgecolor=COLORS[role],
                   linewidth=1.5, zorder=3)  # fmt: skip
    if n_inputs == 1:
        ax.text(xs[0] - 0.35, 0, "$x$", ha="right", va="center", fontsize=11)
    top = height / 2 + 1.0
    for x, title in zip(xs, ["input", "hidden\n(tanh)", "heads"], strict=True):
        ax.text(x, top, title, ha="center", va="bottom", fontsize=10)
    box_h = max(height / 2, 2.0)
    ax.add_patch(Rectangle((7.0, -box_h / 2), 3.0, box_h, fill=False, lw=1, ec="0.3"))
    ax.text(8.5, top, "mixture\n" + r"$p(t \mid x)$", ha="center", va="bottom", fontsize=10)
    u = np.linspace(-3.5, 3.5, 200)
    centres, width = np.linspace(-2.0, 2.0, K), 0.5 + 1.0 / K
    weights = np.arange(K, 0, -1) / np.arange(K, 0, -1).sum()
    curve = (weights * np.exp(-0.5 * ((u[:, None] - centres) / width) ** 2)).sum(1)
    ax.plot(8.5 + u * 0.4, -box_h / 2 + 0.1 * box_h + curve / curve.max() * 0.75 * box_h,
            "-", lw=2, color=COLORS["model"])  # fmt: skip
    for (symbol, activation, _), ys in zip(heads, y_out, strict=True):
        ax.text(xs[2] + 0.35, ys.mean(), f"{symbol}\n{activation}", ha="left", va="center",
                fontsize=9)  # fmt: skip
        end = (6.95, ys.mean() * 0.3 * box_h / max(height / 2, 1))  # into the box
        arrow = FancyArrowPatch((6.3, ys.mean()), end, arrowstyle="-|>", mutation_scale=12,
                                color="0.3")  # fmt: skip
        ax.add_patch(arrow)
    ax.set_xlim(-1.0, 10.2)
    ax.set_ylim(-height / 2 - 0.8, top + 1.6)
    return fig, ax


# --- Training, as an animation ---------------------------------------------------------


def animate_density(inputs, outputs, densities, epochs, means=None, weights=None,
                    component_inputs=None, *, interval: int = 250, figsize=(4.4, 3.2),
                    dpi: int = 72, vmin: float = 0.1, vmax: float = 30.0, close: bool = True):  # fmt: skip
    """A conditional density taking shape during training, one frame per snapshot.

    Each frame draws ``densities[f]`` as :func:`plot_density` does (the book's logarithmic
    colour scale, so frames and still figures compare), titled with ``epochs[f]``; with
    ``means``, every component's mean is a dot whose area is proportional to its ``pi``, as
    in :func:`plot_component_means`. Show it in a notebook with
    ``IPython.display.HTML(anim.to_jshtml())``; the default size and ``dpi`` keep each
    frame a few tens of kB.

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
        A ``matplotlib.animation.FuncAnimation`` of ``F`` frames.
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.colors import LogNorm

    inputs, outputs, densities = _np(inputs).ravel(), _np(outputs).ravel(), _np(densities)
    epochs = _np(epochs).ravel()
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
    if means is not None:
        means, weights = _np(means), _np(weights)
        component_inputs = inputs if component_inputs is None else _np(component_inputs).ravel()
        expected = (n_frames, len(component_inputs))
        if means.ndim != 3 or means.shape[:2] != expected or weights.shape != means.shape:
            raise ValueError(
                f"means and weights must both have shape [F, M, K] = [{expected[0]}, "
                f"{expected[1]}, K], got {means.shape} and {weights.shape}"
            )

    # The dpi is given at creation: one set later is lost when pyplot closes the figure.
    fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
    ax.set_xlabel("$t$")
    ax.set_ylabel("$x$")
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=True)
    mesh = _density_image(ax, inputs, outputs, densities[0].T, norm)
    fig.colorbar(mesh, ax=ax, label=r"$p(x \mid t)$", extend="both")
    dots = None
    if means is not None:
        dots = ax.scatter(np.repeat(component_inputs, means.shape[2]), means[0].ravel(),
                          s=60 * weights[0].ravel(), color=COLORS["model"], edgecolors="white",
                          lw=0.4, alpha=0.9, zorder=3)  # fmt: skip
        ax.set_xlim(inputs.min(), inputs.max())
        ax.set_ylim(outputs.min(), outputs.max())

    def draw(f: int):
        mesh.set_array(densities[f].T)
        ax.set_title(f"after {int(epochs[f]):,} epochs")
        if dots is None:
            return (mesh,)
        xs = np.repeat(component_inputs, means.shape[2])
        dots.set_offsets(np.c_[xs, means[f].ravel()])
        dots.set_sizes(60 * weights[f].ravel())
        return mesh, dots

    draw(0)
    fig.canvas.draw()  # lay the figure out once, then keep that layout for every frame
    fig.set_layout_engine("none")
    anim = FuncAnimation(fig, draw, frames=n_frames, interval=interval, blit=False)
    if close:
        plt.close(fig)
    return anim


#: Line colour and style of each curve of :func:`plot_slices`, in order: the model's role
#: (solid), the second model's (dash-dotted), then Okabe-Ito blue, dashed.
SLICE_STYLES = ((COLORS["model"], "-"), (COLORS["other"], "-."), (OKABE_ITO[4], "--"))


def plot_slices(outputs, densities: dict, at, xlabel: str, data=None, title: str = "at {:g}",
                ylabel: str = "density"):  # fmt: skip
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
    outputs, at = _np(outputs).ravel(), _np(at).ravel()
    if not 1 <= len(densities) <= len(SLICE_STYLES):
        raise ValueError(
            f"densities must hold 1 to {len(SLICE_STYLES)} curves, got {len(densities)}"
        )
    curves = {label: _np(d) for label, d in densities.items()}
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
    axes = axes[0]
    for p, ax in enumerate(axes):
        if data is not None:
            ax.hist(_np(data[p]).ravel(), bins=12, range=(outputs.min(), outputs.max()),
                    density=True, color=COLORS["data"], alpha=0.4, label="data nearby")  # fmt: skip
        for (label, d), (color, style) in zip(curves.items(), SLICE_STYLES, strict=False):
            ax.plot(outputs, d[p], style, lw=2, color=color, label=label)
        ax.set_title(title.format(at[p]), fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.25)
    axes[0].set_ylabel(ylabel)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncol=len(curves) + (data is not None), fontsize="small")  # fmt: skip
    return fig, axes


# --- Choosing K, calibration and training diagnostics ---------------------------------


def panel_axes(titles, xlabel: str, ylabel: str, sharey: bool = True, width: float = 3.2,
               height: float = 3.2):  # fmt: skip
    """A row of panels, one per title, with shared axis labels.

    Arguments:
        titles: one title per panel.
        xlabel, ylabel: the labels of every panel's horizontal axis and of the first
            panel's vertical axis.
        sharey: share the vertical axis between panels.
        width, height: size of each panel in inches.

    Returns:
        ``(fig, axes)``, with ``axes`` a list of ``len(titles)`` axes.
    """
    titles = list(titles)
    if not titles:
        raise ValueError("titles must name at least one panel")
    fig, axes = plt.subplots(1, len(titles), figsize=(width * len(titles), height),
                             sharey=sharey, layout="constrained", squeeze=False)  # fmt: skip
    axes = list(axes[0])
    for ax, title in zip(axes, titles, strict=True):
        ax.set_prop_cycle(color=OKABE_ITO)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.25)
    axes[0].set_ylabel(ylabel)
    return fig, axes


def plot_k_curve(ax, ks, scores, label: str, kind: str = "model", offset: float = 1.0):
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
        ``(mean, sd)`` over the rows, ``[L]`` each (``sd`` with ``ddof=1``).
    """
    ks = np.asarray(ks, dtype=np.float64).ravel()
    scores = _np(scores).astype(np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(ks) or scores.shape[0] < 2:
        raise ValueError(
            f"scores must have shape [S >= 2, {len(ks)}] (seeds by K), got {scores.shape}"
        )
    mean, sd = scores.mean(0), scores.std(0, ddof=1)
    ax.errorbar(ks * offset, mean, yerr=sd, marker="o", ls=LINESTYLES[kind], color=COLORS[kind],
                capsize=3, lw=1.5, ms=5, label=label)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(ks, [f"{k:g}" for k in ks])
    ax.minorticks_off()
    return mean, sd


def plot_pit(ax, u, label: str, kind: str = "model", bins: int = 10):
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
        The height of each bin, ``[bins]`` (they average to 1).
    """
    u = _np(u).astype(np.float64).ravel()
    if u.size == 0 or not np.all((u >= 0) & (u <= 1)):
        raise ValueError("u must be a non-empty array of PIT values in [0, 1]")
    heights, edges, _ = ax.hist(u, bins=bins, range=(0, 1), density=True, color=COLORS[kind],
                                alpha=0.7, label=label)  # fmt: skip
    ax.axhline(1.0, color=COLORS["exact"], ls=LINESTYLES["exact"], lw=1.5, label="uniform")
    ax.set_xlim(0, 1)
    return heights


def plot_diagnostics(histories: dict, kinds: dict | None = None, reference: float | None = None,
                     reference_label: str = ""):  # fmt: skip
    """The training loss and diagnostics of several runs over epochs, one panel each.

    Five panels on a 2 x 3 grid (the sixth holds the legend): the training loss, and what
    :func:`mdn_src.train.fit` records with ``diagnostics=True``: the smallest component
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
    names = ("loss", "min_sigma", "entropy", "effective_components", "grad_norm")
    titles = ("training loss (nats)", r"smallest $\sigma$", r"entropy of $\pi$ (nats)",
              "effective components", "gradient norm")  # fmt: skip
    fig, grid = plt.subplots(2, 3, figsize=(9.0, 5.6), layout="constrained")
    axes = list(grid.ravel()[:5])
    for ax, title in zip(axes, titles, strict=True):
        ax.set_prop_cycle(color=OKABE_ITO)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.25)
    for i, (label, history) in enumerate(histories.items()):
        diag = getattr(history, "diagnostics", None)
        if diag is None:
            raise ValueError(f"histories[{label!r}] has no diagnostics (fit(diagnostics=True))")
        kind = kinds.get(label, order[i % len(order)])
        for ax, name in zip(axes, names, strict=True):
            values = np.asarray(history.train if name == "loss" else diag[name], np.float64)
            ax.plot(np.arange(len(values)), values, LINESTYLES[kind], color=COLORS[kind], lw=1.5,
                    label=label)  # fmt: skip
    if reference is not None:
        axes[0].axhline(reference, color=COLORS["exact"], ls=":", lw=1.5, label=reference_label)
    for ax in (axes[1], axes[4]):
        ax.set_yscale("log")
    legend_ax = grid.ravel()[5]
    legend_ax.axis("off")
    legend_ax.legend(*axes[0].get_legend_handles_labels(), loc="center")
    return fig, axes


# --- Against the exact answer (chapter "Against the exact answer") ----------------------


def plot_density_comparison(inputs, outputs, densities: dict, xlabel: str = "$t$",
                            ylabel: str = "$x$", label: str = r"$p(x \mid t)$",
                            vmin: float = 0.1, vmax: float = 30.0):  # fmt: skip
    """Several conditional densities side by side, on one shared logarithmic colour scale.

    Arguments:
        inputs: ``[I]`` grid of the conditioning variable (horizontal axes).
        outputs: ``[O]`` grid of the predicted variable (vertical axes).
        densities: ``{title: [I, O] density}``, one panel each, in order (at least one).
        xlabel, ylabel: axis labels; label: the shared colour bar's label.
        vmin, vmax: ends of the colour scale, as in :func:`plot_density`.

    Returns:
        ``(fig, axes)``, one axes per density.
    """
    from matplotlib.colors import LogNorm

    if not densities:
        raise ValueError("densities must hold at least one {title: density} entry")
    inputs, outputs = _np(inputs).ravel(), _np(outputs).ravel()
    n = len(densities)
    fig, axes = plt.subplots(1, n, figsize=(FIGSIZE[0] * 0.55 * n + 1.0, FIGSIZE[1] * 0.85),
                             sharex=True, sharey=True, layout="constrained", squeeze=False)  # fmt: skip
    axes = list(axes[0])
    norm = LogNorm(vmin=vmin, vmax=vmax, clip=True)
    for ax, (title, density) in zip(axes, densities.items(), strict=True):
        density = _np(density)
        if density.shape != (len(inputs), len(outputs)):
            raise ValueError(
                f"density {title!r} must have shape [len(inputs), len(outputs)] = "
                f"{(len(inputs), len(outputs))}, got {density.shape}"
            )
        mesh = _density_image(ax, inputs, outputs, density.T, norm)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    fig.colorbar(mesh, ax=axes, label=label, extend="both")
    return fig, axes


def plot_mixture_slice(ax, outputs, params, exact=None, label: str = "MDN",
                       components: bool = True):  # fmt: skip
    """One input's mixture density over ``outputs``, its weighted components, and the truth.

    The mixture is drawn solid in the model's colour, each component's share
    :math:`\\pi_k f_k(x)` thin and dash-dotted in the second colour, on top (components with
    :math:`\\pi_k < 10^{-3}` are left out), the exact density dashed in black.

    Arguments:
        ax: the axes.
        outputs: ``[O]`` grid of the predicted variable (1-D targets).
        params: a :class:`~mdn_src.mixture.MixtureParameters` for ONE input (``N = 1``).
        exact: ``[O]`` exact density on ``outputs``, or None.
        label: the mixture's legend label.
        components: draw the weighted components.

    Returns:
        The number of components drawn.
    """
    import torch

    from .mixture import log_joint

    outputs = _np(outputs).ravel()
    if params.mu.shape[0] != 1 or params.mu.shape[2] != 1:
        raise ValueError(
            "params must hold one mixture over a 1-D target (mu of shape [1, K, 1]), got mu "
            f"of shape {tuple(params.mu.shape)}"
        )
    points = torch.as_tensor(outputs, dtype=params.mu.dtype).reshape(1, -1, 1)
    with torch.no_grad():
        joint = log_joint(params, points)[0].exp().cpu().numpy()  # [O, K]
    drawn = 0
    if components:
        for k in np.flatnonzero(_np(params.pi)[0] >= 1e-3):
            ax.plot(outputs, joint[:, k], LINESTYLES["other"], lw=1, color=COLORS["other"],
                    label="weighted components" if drawn == 0 else None, zorder=3)  # fmt: skip
            drawn += 1
    ax.plot(outputs, joint.sum(1), LINESTYLES["model"], lw=2, color=COLORS["model"], label=label)
    if exact is not None:
        exact = _np(exact).ravel()
        if exact.shape != outputs.shape:
            raise ValueError(f"exact must hold one value per output ({len(outputs)}), got "
                             f"shape {exact.shape}")  # fmt: skip
        ax.plot(outputs, exact, LINESTYLES["exact"], lw=1.5, color=COLORS["exact"], label="exact")
    return drawn


def plot_gap_decomposition(parts: dict, xlabel: str = "nats", total: str | None = None):
    """A horizontal bar per part of a gap, with its error bar (mean +- sd).

    Arguments:
        parts: ``{label: (mean, sd)}`` in top-to-bottom order; sd may be 0 (no error bar
            drawn then).
        xlabel: the horizontal axis' label.
        total: the label of a bar that is the whole rather than a part (drawn in the
            model's colour; the parts in the second colour), or None.

    Returns:
        ``(fig, ax)``.
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


# --- Loss traces of several training runs (chapter "Training the MDN") -----------------


def plot_loss_runs(histories, ylabel: str, first_epoch: int = 0, mark_lowest: bool = True):
    """Several runs' loss traces on one axes, from ``first_epoch`` on, each marking its lowest.

    Arguments:
        histories: a dict ``{label: losses}`` (a :class:`~mdn_src.train.History` or an array
            ``[epochs]`` each, all the same length); the first run is drawn in the model's
            colour and line style, the others in other Okabe-Ito colours, thinner and with
            their own line styles.
        ylabel: the vertical axis's label.
        first_epoch: the first epoch drawn (to zoom in on the end of training).
        mark_lowest: mark each run's lowest loss over the whole run with a dot in its
            colour (drawn only if it falls at or after ``first_epoch``).
    """
    runs = {label: _np(losses).ravel() for label, losses in histories.items()}
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


# --- Reading a trained MDN: weights, moments and slices (chapter "Sampling and prediction")

#: Colour and line style of the 1st, 2nd, ... component drawn by
#: :func:`plot_mixing_coefficients` (model, other, then the remaining Okabe-Ito colours).
SERIES_STYLES = ((COLORS["model"], "-"), (COLORS["other"], "-."), (OKABE_ITO[4], "--"),
                 (OKABE_ITO[6], ":"), (OKABE_ITO[0], "-"), (OKABE_ITO[1], "-."))  # fmt: skip


def plot_mixing_coefficients(ax, inputs, params, threshold: float = 0.01):
    r"""Every component's mixing coefficient :math:`\pi_k` against the input (PRML Fig. 5.21a).

    A component whose :math:`\pi_k` reaches ``threshold`` at some input is drawn thick, in
    a colour and line style of its own (:data:`SERIES_STYLES`, in turn) and labelled with
    its index ``k`` counted from 1; the others, switched off at every input, are drawn
    thin and faint under one legend entry, so that 30 components stay readable.

    Arguments:
        ax: the axes (from :func:`new_axes`).
        inputs: ``[N]`` inputs (horizontal axis), one per mixture.
        params: the mixtures at those inputs, :class:`~mdn_src.mixture.MixtureParameters`
            with ``log_pi`` ``[N, K]``.
        threshold: in (0, 1); the largest :math:`\pi_k` over the inputs a component needs
            to be drawn thick.

    Returns:
        The indices (from 0) of the components drawn thick, in increasing order, ``[M]``.
    """
    inputs, pi = _np(inputs).ravel(), _np(params.pi)  # [N], [N, K]
    if pi.shape[0] != len(inputs):
        raise ValueError(f"params hold {pi.shape[0]} mixtures for {len(inputs)} inputs")
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
    return major


def plot_mixture_slices(outputs, params, at, exact=None, threshold: float = 0.01,
                        label: str = "MDN", xlabel: str = "$x$", title: str = "$t = {:g}$"):  # fmt: skip
    r"""Slices of a 1-D mixture density, one panel per input, with the components that build it.

    Each panel draws the mixture density (the model's colour, solid), every weighted
    component :math:`\pi_k f_k(x)` with :math:`\pi_k \ge` ``threshold`` there (thin,
    dash-dotted, the other colour, drawn over the mixture) and, if given, the exact density
    (black, dashed).

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
        ``(fig, axes, density)``: the figure, its ``P`` axes in a row, and the mixture
        density on ``outputs``, ``[P, O]``.
    """
    import torch

    from .mixture import check_params, log_joint

    params = check_params(params).detach()
    outputs, at = _np(outputs).astype(np.float64).ravel(), _np(at).ravel()
    P, K, D = params.mu.shape
    if D != 1:
        raise ValueError(f"plot_mixture_slices draws 1-D targets, got D = {D}")
    if P != len(at):
        raise ValueError(f"params hold {P} mixtures for {len(at)} inputs in at")
    if exact is not None and _np(exact).shape != (P, len(outputs)):
        raise ValueError(
            f"exact must have shape [len(at), len(outputs)] = {(P, len(outputs))}, "
            f"got {_np(exact).shape}"
        )
    grid = torch.as_tensor(outputs, dtype=params.mu.dtype).view(1, -1, 1).expand(P, -1, 1)
    weighted = log_joint(params, grid).exp().numpy().astype(np.float64)  # [P, O, K]
    density = weighted.sum(-1)  # [P, O]
    pi = _np(params.pi)  # [P, K]
    fig, axes = panel_axes([title.format(a) for a in at], xlabel, r"$p(x \mid t)$",
                           sharey=False, width=2.3, height=2.9)  # fmt: skip
    for p, ax in enumerate(axes):
        ax.set_title(ax.get_title(), fontsize="medium")
        ax.plot(outputs, density[p], "-", lw=2.2, color=COLORS["model"], label=label)
        shown = np.flatnonzero(pi[p] >= threshold)
        for i, k in enumerate(shown):  # over the mixture, where one component is all of it
            ax.plot(outputs, weighted[p, :, k], "-.", lw=1.2, color=COLORS["other"],
                    label=r"$\pi_k f_k(x)$" if i == 0 else None)  # fmt: skip
        if exact is not None:
            ax.plot(outputs, _np(exact)[p], "--", lw=1.5, color=COLORS["exact"], label="exact")
    handles = {}
    for ax in axes:  # one legend entry per role, whichever panel drew it
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center",
               ncol=len(handles), fontsize="small")  # fmt: skip
    return fig, axes, density


def plot_mean_and_variance(inputs, mean, variance, exact_mean=None, exact_variance=None,
                           data=None, label: str = "MDN", xlabel: str = "$t$",
                           ylabels=(r"$E[x \mid t]$", r"$\mathrm{var}[x \mid t]$")):  # fmt: skip
    r"""A model's conditional mean (top panel) and variance (bottom) against the input.

    The model's curves are solid in its colour, the exact ones dashed in black (PRML eqs.
    5.158 to 5.160 give a mixture's mean and variance). A variance that changes with the
    input is the heteroscedastic noise a least-squares fit cannot express.

    Arguments:
        inputs: ``[N]`` inputs (the shared horizontal axis).
        mean, variance: the model's, ``[N]`` each (or ``[N, 1]``).
        exact_mean, exact_variance: optional exact curves, ``[N]`` each; NaN leaves gaps.
        data: optional ``(inputs, targets)`` of the training points, drawn under the means.
        label: the model's legend entry.
        xlabel: the label under the bottom panel.
        ylabels: the labels of the two panels' vertical axes.

    Returns:
        ``(fig, (ax_mean, ax_variance))``.
    """
    inputs = _np(inputs).ravel()
    curves = {"mean": mean, "variance": variance, "exact_mean": exact_mean,
              "exact_variance": exact_variance}  # fmt: skip
    for name, values in curves.items():
        if values is not None and _np(values).size != len(inputs):
            raise ValueError(
                f"{name} must hold one value per input ({len(inputs)}), got shape "
                f"{_np(values).shape}"
            )
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FIGSIZE[0], 6.0), sharex=True,
                                      layout="constrained")  # fmt: skip
    for ax, ylabel in zip((top, bottom), ylabels, strict=True):
        ax.set_prop_cycle(color=OKABE_ITO)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.25)
    bottom.set_xlabel(xlabel)
    if data is not None:
        plot_data(top, *data)
    plot_curve(top, inputs, mean, label)
    plot_curve(bottom, inputs, variance, label)
    if exact_mean is not None:
        plot_curve(top, inputs, exact_mean, "exact", "exact")
    if exact_variance is not None:
        plot_curve(bottom, inputs, exact_variance, "exact", "exact")
    finish(top)
    finish(bottom)
    return fig, (top, bottom)
