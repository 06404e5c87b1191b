import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.animation import AbstractMovieWriter  # noqa: E402

from mdn_src import MixtureParameters, plotting  # noqa: E402


def teardown_function():
    plt.close("all")


def test_new_axes_labels_and_size():
    fig, ax = plotting.new_axes("$t$", "$x$", title="data")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$t$", "$x$", "data")
    assert tuple(fig.get_size_inches()) == plotting.FIGSIZE


def test_plot_curve_sorts_inputs():
    _, ax = plotting.new_axes("x", "y")
    plotting.plot_curve(ax, np.array([[0.5], [0.0], [1.0]]), np.array([[5.0], [0.0], [10.0]]), "c")
    xs, ys = ax.lines[0].get_data()
    np.testing.assert_array_equal(xs, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ys.ravel(), [0.0, 5.0, 10.0])


def test_plot_points_repeats_inputs_for_many_values_per_input():
    _, ax = plotting.new_axes("t", "x")
    plotting.plot_points(
        ax, torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "s"
    )
    xs, ys = ax.lines[0].get_data()
    np.testing.assert_array_equal(xs, [0, 0, 1, 1])
    np.testing.assert_array_equal(ys, [1, 2, 3, 4])


def test_plot_density_shape_scale_and_colorbar():
    fig, ax = plotting.new_axes("$t$", "$x$")
    density = np.outer(np.arange(1, 4), np.ones(5))  # [3 inputs, 5 outputs]
    assert plotting.plot_density(ax, np.arange(3), np.linspace(0, 1, 5), density) is ax
    mesh = ax.images[-1]
    np.testing.assert_array_equal(mesh.get_array(), density.T)  # outputs vertical
    assert mesh.norm.vmin == 0.1 and mesh.norm.vmax == 30
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == r"$p(x \mid t)$"
    with pytest.raises(ValueError, match=r"density must have shape"):
        plotting.plot_density(ax, np.arange(3), np.arange(5), density.T)
    with pytest.raises(ValueError, match=r"0 < vmin < vmax, got 1.0 and 1.0"):
        plotting.plot_density(ax, np.arange(3), np.arange(5), density, vmin=1.0, vmax=1.0)


@pytest.mark.parametrize("inputs", [np.arange(3.0), np.array([0.0, 0.1, 0.5]), np.array([2.0])])
def test_density_cells_are_those_of_pcolormesh_nearest(inputs):
    """The image's cells are centred on the grid points as pcolormesh(shading="nearest")
    centres its quadrilaterals (the reference), on even and uneven grids; the image
    spans them (an even grid is drawn as one AxesImage)."""
    outputs = np.linspace(0, 1, 5)
    density = np.ones((len(inputs), 5))
    _, ax = plotting.new_axes("$t$", "$x$")
    image = plotting.plot_density(ax, inputs, outputs, density).images[-1]
    expected = [1.5, 2.5]  # one point: a unit-wide cell around it
    if len(inputs) > 1:
        reference = ax.pcolormesh(inputs, outputs, density.T, shading="nearest")
        corners = reference.get_coordinates()  # [O + 1, I + 1, 2]
        np.testing.assert_allclose(plotting.cell_edges(inputs), corners[0, :, 0], rtol=1e-12)
        np.testing.assert_allclose(plotting.cell_edges(outputs), corners[:, 0, 1], rtol=1e-12)
        expected = [corners[0, 0, 0], corners[0, -1, 0]]
    np.testing.assert_allclose(image.get_extent(), [*expected, -0.125, 1.125], rtol=1e-12)


@pytest.mark.parametrize("centres", [np.array([]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.5])])
def test_cell_edges_rejects_grids_that_are_not_increasing(centres):
    with pytest.raises(ValueError, match="centres must be a non-empty increasing grid"):
        plotting.cell_edges(centres)


def test_plot_component_means_sizes_follow_pi():
    params = MixtureParameters(
        torch.log(torch.tensor([[0.25, 0.75]] * 4)),
        torch.tensor([[[0.0], [1.0]]] * 4),
        torch.ones(4, 2, 1),
    )
    _, ax = plotting.new_axes("t", "x")
    plotting.plot_component_means(ax, np.arange(4.0), params, "means", every=2)
    sizes = ax.collections[0].get_sizes()
    np.testing.assert_allclose(sizes, 60 * np.array([0.25, 0.75, 0.25, 0.75]))
    with pytest.raises(ValueError, match="params hold 4 mixtures for 3 inputs"):
        plotting.plot_component_means(ax, np.arange(3.0), params, "means")


def test_plot_loss_draws_history_and_reference():
    fig, ax = plotting.plot_loss(np.array([3.0, 2.0, 1.0]), "NLL (nats)", reference=-1.0,
                                 reference_label="Bayes")  # fmt: skip
    assert ax.get_ylabel() == "NLL (nats)" and ax.get_xlabel() == "epoch"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [-1.0, -1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training loss", "Bayes"]


def test_plotting_rejects_mismatched_shapes():
    _, ax = plotting.new_axes("t", "x")
    with pytest.raises(ValueError, match="values must be \\[N, ...\\] with N = 2"):
        plotting.plot_points(ax, np.zeros(2), np.zeros((3, 2)), "s")
    two_d = MixtureParameters(torch.zeros(2, 1), torch.zeros(2, 1, 2), torch.ones(2, 1, 2))
    with pytest.raises(ValueError, match="draws 1-D targets, got D = 2"):
        plotting.plot_component_means(ax, np.zeros(2), two_d, "m")


def test_workspace_axes_are_labelled_and_equal():
    fig, ax = plotting.workspace_axes("reach")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$x_1$", "$x_2$", "reach")
    assert ax.get_aspect() == 1.0


def test_plot_positions_draws_columns_and_hollow_markers():
    _, ax = plotting.new_axes("$x_1$", "$x_2$")
    plotting.plot_positions(ax, torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "targets", kind="data",
                            marker="o", hollow=True)  # fmt: skip
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 3.0])
    np.testing.assert_array_equal(line.get_ydata(), [2.0, 4.0])
    assert line.get_markerfacecolor() == "none" and line.get_label() == "targets"
    assert line.get_color() == plotting.COLORS["data"]
    with pytest.raises(ValueError, match=r"points must have shape \[N, 2\]"):
        plotting.plot_positions(ax, np.zeros((3, 3)), "bad")


def test_plot_arm_draws_shoulder_elbow_and_hand():
    _, ax = plotting.workspace_axes()
    plotting.plot_arm(ax, np.array([[0.0, np.pi / 2], [np.pi / 2, np.pi]]), "arms", kind="exact")
    first, second = ax.lines
    # (0, pi/2): elbow at (0.8, 0), hand at (0.8, -0.2); (pi/2, pi): straight up to (0, 1).
    np.testing.assert_allclose(np.c_[first.get_xdata(), first.get_ydata()],
                               [[0, 0], [0.8, 0], [0.8, -0.2]], atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(np.c_[second.get_xdata(), second.get_ydata()],
                               [[0, 0], [0, 0.8], [0, 1.0]], atol=1e-12)  # fmt: skip
    assert [line.get_label() for line in ax.lines][0] == "arms"
    assert second.get_label().startswith("_")  # one legend entry for all the arms
    with pytest.raises(ValueError, match=r"theta must have shape \[M, 2\]"):
        plotting.plot_arm(ax, np.zeros(2), "bad")


def test_plot_ellipses_follow_the_cholesky_factor():
    _, ax = plotting.new_axes(r"$\theta_1$", r"$\theta_2$")
    mu = np.array([[1.0, -1.0]])
    tril = np.array([[[0.5, 0.0], [0.3, 0.1]]])  # covariance [[0.25, 0.15], [0.15, 0.1]]
    plotting.plot_ellipses(ax, mu, tril, "components", n_std=2.0)
    ring = np.c_[ax.lines[0].get_xdata(), ax.lines[0].get_ydata()] - mu  # [97, 2]
    cov = tril[0] @ tril[0].T
    # Every point of a 2-sigma ellipse has Mahalanobis distance 2.
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", ring, np.linalg.inv(cov), ring), 4.0)
    np.testing.assert_array_equal(ax.lines[1].get_xydata(), mu)  # the means, as "+"
    with pytest.raises(ValueError, match=r"mu must be \[M, 2\] and scale_tril \[M, 2, 2\]"):
        plotting.plot_ellipses(ax, mu, tril[0], "bad")


def test_plot_components_draws_total_then_each_component():
    _, ax = plotting.new_axes("$t$", "density")
    t = np.linspace(0, 1, 4)
    parts = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])  # [M=4, K=2]
    plotting.plot_components(ax, t, parts, ["a", "b"], total=parts.sum(1), total_label="sum")
    total, first, second = ax.lines
    np.testing.assert_array_equal(total.get_ydata(), [3, 7, 11, 15])
    np.testing.assert_array_equal(second.get_ydata(), [2, 4, 6, 8])
    assert (total.get_linestyle(), first.get_linestyle()) == ("-", "--")
    assert total.get_color() == plotting.COLORS["exact"]
    colors = [plotting.COLORS[k] for k in ("model", "other")]
    assert [first.get_color(), second.get_color()] == colors
    with pytest.raises(ValueError, match=r"components must have shape \[len\(t\), K\] = \[4, K\]"):
        plotting.plot_components(ax, t, parts.T, ["a", "b"])
    with pytest.raises(ValueError, match="labels must hold K = 2 entries, got 1"):
        plotting.plot_components(ax, t, parts, ["a"])


@pytest.mark.parametrize(("n_inputs", "n_hidden", "K", "D"), [(1, 5, 3, 1), (2, 8, 4, 2)])
def test_plot_architecture_draws_one_node_per_unit(n_inputs, n_hidden, K, D):
    fig, ax = plotting.plot_architecture(n_inputs, n_hidden, n_components=K, out_features=D)
    counts = [len(c.get_offsets()) for c in ax.collections]
    assert counts == [n_inputs, n_hidden, (D + 2) * K]  # input, hidden, the three heads
    # Fully connected: one line per pair of nodes in adjacent layers, then the mixture curve.
    assert len(ax.lines) == n_inputs * n_hidden + n_hidden * (D + 2) * K + 1
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith(r"$\pi$") for t in texts) and any(t.startswith(r"$\mu$") for t in texts)
    assert any(r"$p(t \mid x)$" in t for t in texts)
    heads = ax.collections[2].get_offsets()
    assert len(np.unique(np.asarray(heads)[:, 0])) == 1  # the heads share one column
    assert len([p for p in ax.patches if p.__class__.__name__ == "FancyArrowPatch"]) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_hidden": 0}, "n_hidden must be a positive integer, got 0"),
        ({"n_components": 2.5}, "n_components must be a positive integer, got 2.5"),
        ({"n_inputs": True}, "n_inputs must be a positive integer, got True"),
        ({"n_components": 15}, "a column can hold at most 40 nodes, got 45"),
    ],
)
def test_plot_architecture_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plotting.plot_architecture(**kwargs)


def _training_frames(n_frames=4, n_inputs=3, n_outputs=5, n_components=2, n_means=2):
    rng = np.random.default_rng(0)
    densities = rng.uniform(0.2, 20.0, (n_frames, n_inputs, n_outputs))
    means = rng.uniform(0.0, 1.0, (n_frames, n_means, n_components))
    weights = rng.dirichlet(np.ones(n_components), (n_frames, n_means))
    return densities, means, weights


class _FrameReader(AbstractMovieWriter):
    """A movie writer that, instead of encoding each frame, reads it off the figure with
    ``read(fig)``: ``anim.save(path, writer=reader)`` renders every frame (public API)."""

    def __init__(self, read):
        super().__init__(fps=4)
        self.read, self.frames = read, []

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi)

    def grab_frame(self, **savefig_kwargs):
        self.frames.append(self.read(self.fig))

    def finish(self):
        pass


def _read_frame(fig):
    ax = fig.axes[0]
    image, dots = ax.images[0], (ax.collections[0] if ax.collections else None)
    return {
        "density": np.array(image.get_array()),
        "title": ax.get_title(),
        "offsets": None if dots is None else np.asarray(dots.get_offsets()).copy(),
        "sizes": None if dots is None else dots.get_sizes().copy(),
    }


def test_animate_density_draws_each_frame_from_its_snapshot(tmp_path):
    from matplotlib.animation import FuncAnimation

    densities, means, weights = _training_frames()
    epochs = np.array([0, 10, 100, 1000])
    anim = plotting.animate_density(np.arange(3.0), np.linspace(0, 1, 5), densities, epochs,
                                    means, weights, component_inputs=[0.5, 1.5])  # fmt: skip
    assert isinstance(anim, FuncAnimation)
    reader = _FrameReader(_read_frame)
    anim.save(tmp_path / "frames", writer=reader)
    assert len(reader.frames) == 4
    fig = reader.fig
    assert fig.axes[1].get_ylabel() == r"$p(x \mid t)$"  # the colour bar
    norm = fig.axes[0].images[0].norm
    assert norm.vmin == 0.1 and norm.vmax == 30
    for f, frame in enumerate(reader.frames):
        np.testing.assert_array_equal(frame["density"], densities[f].T)
        assert frame["title"] == f"after {epochs[f]:,} epochs"
        # Two components at each of the two component inputs, area proportional to pi.
        np.testing.assert_array_equal(frame["offsets"][:, 0], [0.5, 0.5, 1.5, 1.5])
        np.testing.assert_array_equal(frame["offsets"][:, 1], means[f].ravel())
        np.testing.assert_allclose(frame["sizes"], 60 * weights[f].ravel())
    assert plt.fignum_exists(fig.number) is False  # closed: no static copy in a notebook
    assert anim.to_jshtml().count("data:image/png;base64") == 4  # one image per frame


def test_animate_density_without_means_draws_the_density_only(tmp_path):
    densities, _, _ = _training_frames(n_frames=3)
    anim = plotting.animate_density(np.arange(3.0), np.linspace(0, 1, 5), densities, [1, 2, 3],
                                    figsize=(2, 1.6), dpi=30)  # fmt: skip
    reader = _FrameReader(_read_frame)
    anim.save(tmp_path / "frames", writer=reader)
    assert [frame["offsets"] for frame in reader.frames] == [None] * 3  # no component dots
    np.testing.assert_array_equal(reader.frames[2]["density"], densities[2].T)
    assert reader.frames[1]["title"] == "after 2 epochs"
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 3
    # Each frame is a PNG of figsize * dpi pixels (its width and height in bytes 16-24).
    import base64

    first = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=\\n]+)", html)
                             .group(1).replace("\\n", ""))  # fmt: skip
    assert (int.from_bytes(first[16:20], "big"), int.from_bytes(first[20:24], "big")) == (60, 48)


def test_animate_density_rejects_mismatched_shapes():
    densities, means, weights = _training_frames()
    grid = (np.arange(3.0), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match=r"densities must have shape \[F >= 1, len\(inputs\)"):
        plotting.animate_density(*grid, densities.transpose(0, 2, 1), range(4))
    with pytest.raises(ValueError, match=r"densities must have shape"):
        plotting.animate_density(*grid, densities[:0], [])
    with pytest.raises(ValueError, match=r"epochs must have one entry per frame \(4\), got 3"):
        plotting.animate_density(*grid, densities, [0, 1, 2])
    with pytest.raises(ValueError, match="means and weights go together"):
        plotting.animate_density(*grid, densities, range(4), means=means)
    with pytest.raises(ValueError, match=r"means and weights must both have shape \[F, M, K\]"):
        plotting.animate_density(*grid, densities, range(4), means, weights[:, :, :1],
                                 component_inputs=[0.5, 1.5])  # fmt: skip
    with pytest.raises(ValueError, match=r"= \[4, 3, K\]"):  # M defaults to len(inputs)
        plotting.animate_density(*grid, densities, range(4), means, weights)


def test_plot_slices_draws_one_panel_per_input_and_one_curve_per_model():
    outputs = np.linspace(-3, 3, 61)
    at = np.array([0.0, 1.0])
    a = np.exp(-0.5 * outputs**2)[None, :] * np.array([[1.0], [2.0]])
    densities = {"first": a, "second": 3 * a}
    data = [np.array([0.1, 0.2]), np.array([-1.0, 1.0, 2.5])]
    fig, axes = plotting.plot_slices(outputs, densities, at, "$t$", data=data, title="x = {:g}")
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["x = 0", "x = 1"]
    for p, ax in enumerate(axes):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["first", "second"]
        np.testing.assert_allclose(lines[1].get_ydata(), 3 * a[p])
        assert lines[0].get_color() == plotting.SLICE_STYLES[0][0]
        assert lines[1].get_linestyle() == "-."
        # the histogram is normalised: bar heights times widths sum to one
        bars = ax.patches
        total = sum(b.get_height() * b.get_width() for b in bars)
        assert total == pytest.approx(1.0)
    plt.close(fig)


@pytest.mark.parametrize(
    "densities, data, message",
    [
        ({"a": np.zeros((2, 5))}, None, r"shape \[len\(at\), len\(outputs\)\]"),
        ({k: np.zeros((2, 4)) for k in "abcd"}, None, "1 to 3 curves"),
        ({"a": np.zeros((2, 4))}, [np.zeros(3)], "one array per input"),
    ],
)
def test_plot_slices_rejects_bad_arguments(densities, data, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_slices(np.zeros(4), densities, [0.0, 1.0], "t", data=data)


def test_panel_axes_one_per_title_shared_labels():
    fig, axes = plotting.panel_axes(["a", "b", "c"], "$t$", "$x$")
    assert len(axes) == 3 and [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert [ax.get_xlabel() for ax in axes] == ["$t$"] * 3 and axes[0].get_ylabel() == "$x$"
    np.testing.assert_allclose(fig.get_size_inches(), (9.6, 3.2))
    with pytest.raises(ValueError, match="titles"):
        plotting.panel_axes([], "x", "y")


def test_plot_k_curve_means_and_sample_sds():
    _, ax = plotting.new_axes("K", "NLL")
    scores = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 0.0]])
    assert plotting.plot_k_curve(ax, [1, 3, 10], scores, "held out", offset=1.1) is ax
    line, _, (bars,) = ax.containers[-1].lines
    xs, ys = line.get_data()
    np.testing.assert_allclose(xs, [1.1, 3.3, 11.0])
    np.testing.assert_allclose(ys, [2.0, 3.5, 2.0])  # the means over the two seeds
    # One sample sd (ddof = 1) each side: |a - b| / sqrt(2) for two seeds.
    segments = np.array(bars.get_segments())  # [L, 2 ends, (x, y)]
    np.testing.assert_allclose(segments[:, 1, 1] - ys, [np.sqrt(2), 3 / np.sqrt(2), np.sqrt(8)])
    np.testing.assert_allclose(ys - segments[:, 0, 1], [np.sqrt(2), 3 / np.sqrt(2), np.sqrt(8)])
    assert ax.get_xscale() == "log" and line.get_color() == plotting.COLORS["model"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "10"]
    with pytest.raises(ValueError, match="seeds by K"):
        plotting.plot_k_curve(ax, [1, 3], scores, "x")
    with pytest.raises(ValueError, match="seeds by K"):
        plotting.plot_k_curve(ax, [1, 3, 10], scores[:1], "x")
    with pytest.raises(ValueError, match="offset must be > 0, got 0"):
        plotting.plot_k_curve(ax, [1, 3, 10], scores, "x", offset=0)
    with pytest.raises(ValueError, match="kind must be one of .*, got 'truth'"):
        plotting.plot_k_curve(ax, [1, 3, 10], scores, "x", kind="truth")


def test_plot_pit_heights_are_densities():
    _, ax = plotting.new_axes("PIT", "density")
    u = np.array([0.05, 0.05, 0.15, 0.95])  # bins of width 0.1: 2, 1, ..., 1 of 4 points
    assert plotting.plot_pit(ax, u, "model", bins=10) is ax
    heights = [bar.get_height() for bar in ax.patches]  # count / (4 points * width 0.1)
    np.testing.assert_allclose(heights, [5.0, 2.5, 0, 0, 0, 0, 0, 0, 0, 2.5])
    assert ax.lines[0].get_ydata()[0] == 1.0  # the uniform reference
    with pytest.raises(ValueError, match="PIT values"):
        plotting.plot_pit(ax, np.array([0.5, 1.2]), "bad")


def test_plot_diagnostics_draws_each_run_in_each_panel():
    from mdn_src import History

    diag = {"min_sigma": [1.0, 0.1, 0.01], "entropy": [1.0, 0.5, 0.2],
            "effective_components": [3.0, 2.0, 1.5], "grad_norm": [1.0, 2.0, 3.0]}  # fmt: skip
    runs = {"healthy": History([0.0, -1.0, -2.0], diagnostics=diag),
            "failing": History([0.0, -1.0, np.nan], diagnostics={k: np.array(v) * 2
                                                                 for k, v in diag.items()})}  # fmt: skip
    fig, axes = plotting.plot_diagnostics(runs, kinds={"failing": "other"}, reference=-1.5,
                                          reference_label="exact")  # fmt: skip
    assert len(axes) == 5 and [len(ax.lines) for ax in axes] == [3, 2, 2, 2, 2]
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [0.0, -1.0, -2.0])
    np.testing.assert_allclose(axes[3].lines[1].get_ydata(), [6.0, 4.0, 3.0])
    assert axes[3].lines[1].get_color() == plotting.COLORS["other"]
    assert axes[1].get_yscale() == "log" and axes[4].get_yscale() == "log"
    legend = fig.axes[5].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["healthy", "failing", "exact"]
    with pytest.raises(ValueError, match="no diagnostics"):
        plotting.plot_diagnostics({"plain": History([1.0])})
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_diagnostics({})


# --- Against the exact answer: density comparison, mixture slice, gap decomposition ----


def test_plot_density_comparison_shares_one_scale_and_checks_shapes():
    inputs, outputs = np.linspace(0, 1, 4), np.linspace(0, 1, 3)
    first, second = np.full((4, 3), 1.0), np.full((4, 3), 5.0)
    fig, axes = plotting.plot_density_comparison(inputs, outputs, {"a": first, "b": second})
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    meshes = [ax.images[0] for ax in axes]
    np.testing.assert_array_equal(meshes[1].get_array().reshape(3, 4), second.T)
    assert meshes[0].norm is meshes[1].norm  # one colour scale
    assert len(fig.axes) == 3  # two panels and one colour bar
    with pytest.raises(ValueError, match="'b' must have shape"):
        plotting.plot_density_comparison(inputs, outputs, {"a": first, "b": second.T})
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_density_comparison(inputs, outputs, {})


def test_plot_mixture_slice_draws_the_mixture_its_components_and_the_truth():
    from scipy import stats

    params = MixtureParameters(
        torch.log(torch.tensor([[0.7, 0.3, 1e-5]])),
        torch.tensor([[[0.2], [0.6], [0.9]]]),
        torch.tensor([[[0.1], [0.05], [0.1]]]),
    )
    x = np.linspace(0, 1, 101)
    _, ax = plotting.new_axes("x", "p")
    assert plotting.plot_mixture_slice(ax, x, params, exact=np.full_like(x, 2.0)) is ax
    mixture, first, second, exact = ax.lines  # the third component's pi is below 1e-3
    expected = 0.7 * stats.norm.pdf(x, 0.2, 0.1) + 0.3 * stats.norm.pdf(x, 0.6, 0.05)
    np.testing.assert_allclose(mixture.get_ydata(), expected, rtol=1e-4, atol=1e-4)
    assert mixture.get_label() == "MDN" and mixture.get_linestyle() == "-"
    np.testing.assert_allclose(first.get_ydata(), 0.7 * stats.norm.pdf(x, 0.2, 0.1), rtol=1e-4)
    np.testing.assert_allclose(second.get_ydata(), 0.3 * stats.norm.pdf(x, 0.6, 0.05), rtol=1e-4,
                               atol=1e-12)  # fmt: skip
    assert [first.get_label(), second.get_label()[0]] == ["weighted components", "_"]
    assert first.get_linestyle() == "-." and first.get_color() == plotting.COLORS["other"]
    assert exact.get_linestyle() == "--" and exact.get_label() == "exact"
    np.testing.assert_array_equal(exact.get_ydata(), 2.0)
    _, ax = plotting.new_axes("x", "p")
    plotting.plot_mixture_slice(ax, x, params, threshold=1e-6)  # all three, no exact
    assert len(ax.lines) == 4 and ax.lines[-1].get_linestyle() == "-."
    _, ax = plotting.new_axes("x", "p")
    plotting.plot_mixture_slice(ax, x, params, components=False)
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="one mixture"):
        two = MixtureParameters(params.log_pi.repeat(2, 1), params.mu.repeat(2, 1, 1),
                                params.sigma.repeat(2, 1, 1))  # fmt: skip
        plotting.plot_mixture_slice(ax, x, two)
    with pytest.raises(ValueError, match="exact must hold"):
        plotting.plot_mixture_slice(ax, x, params, exact=np.ones(3))


def test_plot_gap_decomposition_bars_and_errors():
    parts = {"total": (0.2, 0.01), "shape": (0.02, 0.0), "rest": (0.18, 0.01)}
    fig, ax = plotting.plot_gap_decomposition(parts, total="total")
    widths = [bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(widths, [0.2, 0.02, 0.18])
    heights = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert heights["total"] > heights["shape"] > heights["rest"]  # top to bottom
    assert ax.patches[0].get_facecolor()[:3] == pytest.approx(
        matplotlib.colors.to_rgb(plotting.COLORS["model"])
    )
    assert ax.patches[1].get_facecolor()[:3] == pytest.approx(
        matplotlib.colors.to_rgb(plotting.COLORS["other"])
    )
    with pytest.raises(ValueError, match="total 'all'"):
        plotting.plot_gap_decomposition(parts, total="all")
    with pytest.raises(ValueError, match="sd must be >= 0"):
        plotting.plot_gap_decomposition({"a": (0.1, -1.0)})
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_gap_decomposition({})


def test_plot_loss_runs_zooms_and_marks_each_lowest():
    runs = {"seed 0": np.array([3.0, 1.0, 2.0, 1.5]), "seed 1": np.array([4.0, 3.0, 2.0, 0.5])}
    fig, ax = plotting.plot_loss_runs(runs, "NLL (nats)", first_epoch=2)
    first, second, second_low = ax.lines  # seed 0's lowest (epoch 1) is before the zoom
    np.testing.assert_array_equal(first.get_xdata(), [2, 3])
    np.testing.assert_array_equal(first.get_ydata(), [2.0, 1.5])
    np.testing.assert_array_equal(second.get_ydata(), [2.0, 0.5])
    assert second_low.get_xydata().tolist() == [[3.0, 0.5]]
    assert second_low.get_color() == second.get_color()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["seed 0", "seed 1"]
    assert first.get_color() == plotting.COLORS["model"] and second.get_color() != first.get_color()
    _, ax = plotting.plot_loss_runs(runs, "NLL (nats)")  # from epoch 0: both lowest marked
    assert [line.get_xydata().tolist() for line in ax.lines[1::2]] == [[[1.0, 1.0]], [[3.0, 0.5]]]


def test_plot_loss_runs_rejects_bad_runs():
    with pytest.raises(ValueError, match="runs of one length"):
        plotting.plot_loss_runs({"a": np.zeros(3), "b": np.zeros(4)}, "loss")
    with pytest.raises(ValueError, match="runs of one length"):
        plotting.plot_loss_runs({}, "loss")
    with pytest.raises(ValueError, match=r"first_epoch must be in \[0, 3\), got 3"):
        plotting.plot_loss_runs({"a": np.zeros(3)}, "loss", first_epoch=3)


# --- Reading a trained MDN (chapter "Sampling and prediction") ---


def _three_component_params(n: int) -> MixtureParameters:
    """pi = (0.3, 0.7 - s, s) with s from 0 to 0.005 over n inputs: the third stays tiny."""
    s = torch.linspace(0, 0.005, n)
    pi = torch.stack([torch.full((n,), 0.3), 0.7 - s, s.clamp(min=1e-9)], -1)
    mu = torch.tensor([[[0.0], [1.0], [2.0]]]).expand(n, 3, 1)
    return MixtureParameters(pi.log(), mu, torch.full((n, 3, 1), 0.5))


def test_plot_mixing_coefficients_thick_for_used_faint_for_idle():
    _, ax = plotting.new_axes("$t$", r"$\pi_k$")
    inputs = np.array([0.0, 1.0, 0.5])  # unsorted on purpose
    assert plotting.plot_mixing_coefficients(ax, inputs, _three_component_params(3)) is ax
    idle, first, second = ax.lines  # the idle component is drawn first, underneath
    np.testing.assert_allclose(idle.get_ydata(), [0.0, 0.005, 0.0025], atol=1e-8)  # sorted t
    assert idle.get_alpha() == 0.3 and idle.get_label() == "the other 1 components"
    assert [first.get_label(), second.get_label()] == ["$k = 1$", "$k = 2$"]
    assert first.get_color() == plotting.COLORS["model"] and second.get_linestyle() == "-."
    np.testing.assert_array_equal(second.get_xdata(), [0.0, 0.5, 1.0])  # sorted
    np.testing.assert_allclose(second.get_ydata(), [0.7, 0.695, 0.6975], rtol=1e-6)
    with pytest.raises(ValueError, match="params hold 3 mixtures for 2 inputs"):
        plotting.plot_mixing_coefficients(ax, np.zeros(2), _three_component_params(3))
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        plotting.plot_mixing_coefficients(ax, inputs, _three_component_params(3), threshold=1)


def test_plot_mixture_slices_density_matches_scipy():
    from scipy import stats

    params = _three_component_params(2)
    x = np.linspace(-2, 4, 301)
    exact = np.ones((2, 301))
    fig, axes = plotting.plot_mixture_slices(x, params, [0.1, 0.9], exact=exact)
    pi = params.pi.numpy()
    for p in range(2):
        reference = sum(pi[p, k] * stats.norm.pdf(x, k, 0.5) for k in range(3))
        np.testing.assert_allclose(axes[p].lines[0].get_ydata(), reference, rtol=1e-5)
    # The mixture, two weighted components (the third is below the threshold), the exact.
    assert len(axes) == 2 and len(axes[0].lines) == 4
    np.testing.assert_allclose(axes[0].lines[2].get_ydata(),
                               pi[0, 1] * stats.norm.pdf(x, 1, 0.5), rtol=1e-5)  # fmt: skip
    assert axes[1].get_title() == "$t = 0.9$"
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["MDN", r"$\pi_k f_k(x)$", "exact"]
    with pytest.raises(ValueError, match="params hold 2 mixtures for 3 inputs"):
        plotting.plot_mixture_slices(x, params, [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"exact must have shape"):
        plotting.plot_mixture_slices(x, params, [0.1, 0.9], exact=exact[:, :10])


def test_plot_mean_and_variance_two_panels():
    t = np.array([0.0, 0.5, 1.0])
    fig, (top, bottom) = plotting.plot_mean_and_variance(
        t, [0.0, 0.5, 1.0], [0.1, 0.2, 0.1], exact_mean=[0.0, np.nan, 1.0],
        exact_variance=[0.1, 0.3, 0.1], data=(t, t),
    )  # fmt: skip
    assert len(top.lines) == 3 and len(bottom.lines) == 2  # data, model, exact
    np.testing.assert_array_equal(bottom.lines[0].get_ydata().ravel(), [0.1, 0.2, 0.1])
    assert bottom.lines[1].get_linestyle() == "--"
    assert bottom.get_xlabel() == "$t$" and top.get_ylabel() == r"$E[x \mid t]$"
    with pytest.raises(ValueError, match=r"variance must hold one value per input \(3\)"):
        plotting.plot_mean_and_variance(t, t, [0.1, 0.2])


def test_animate_density_draws_every_frame_on_an_uneven_grid_too(tmp_path):
    """On an uneven grid the density is a PcolorImage, which has no set_array: each frame
    must still show its own snapshot."""
    densities, _, _ = _training_frames(n_frames=3)
    inputs, outputs = np.array([0.0, 0.1, 0.5]), np.array([0.0, 0.2, 0.3, 0.7, 1.0])
    anim = plotting.animate_density(inputs, outputs, densities, [1, 2, 3])
    reader = _FrameReader(_read_frame)
    anim.save(tmp_path / "frames", writer=reader)
    assert len(reader.frames) == 3
    for f, frame in enumerate(reader.frames):
        np.testing.assert_array_equal(np.asarray(frame["density"]), densities[f].T)


def test_plot_helpers_refuse_bad_arguments_by_name():
    """The input checks a geometry snapshot cannot see: every, values per input, threshold."""
    params = MixtureParameters(
        torch.log(torch.tensor([[0.25, 0.75]] * 4)), torch.zeros(4, 2, 1), torch.ones(4, 2, 1)
    )
    _, ax = plotting.new_axes("$t$", "$x$")
    for every in (0, 1.5, True):
        with pytest.raises(ValueError, match="every must be a positive integer"):
            plotting.plot_component_means(ax, np.arange(4.0), params, "m", every=every)
    plotting.plot_component_means(ax, np.arange(4.0), params, "m", every=1)  # the smallest
    assert ax.collections[-1].get_offsets().shape == (8, 2)  # every input: 4 x 2 components
    with pytest.raises(ValueError, match="values must hold the same number of values"):
        plotting.plot_curve(ax, np.arange(4.0), np.arange(6.0), "c")
    with pytest.raises(ValueError, match="values must hold the same number of values"):
        plotting.plot_curve(ax, np.array([]), np.array([]), "c")
    x = np.linspace(-3, 3, 7)
    for threshold in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\)"):
            plotting.plot_mixture_slice(ax, x, params[0], threshold=threshold)
    plotting.plot_mixture_slice(ax, x, params[0], threshold=0.0)  # every component drawn
    plt.close("all")
