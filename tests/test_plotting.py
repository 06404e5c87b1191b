import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

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
    mesh = plotting.plot_density(ax, np.arange(3), np.linspace(0, 1, 5), density)
    assert mesh.get_array().shape == (5, 3)  # drawn transposed: outputs vertical
    assert mesh.norm.vmin == 0.1 and mesh.norm.vmax == 30
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == r"$p(x \mid t)$"
    with pytest.raises(ValueError, match=r"density must have shape"):
        plotting.plot_density(ax, np.arange(3), np.arange(5), density.T)


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
