# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ch-arm)=
# # Bishop's robot arm
#
# Download this chapter as a notebook ({download}`10_robot_arm.ipynb <./10_robot_arm.ipynb>`)
# or as a Python script ({download}`10_robot_arm.py <./10_robot_arm.py>`), or open it in Colab
# or Binder from the rocket icon above.
#
# The toy problem taught the idea on a curve we can draw. The report that introduced
# mixture density networks {cite:p}`bishop1994mdn` tested them on a problem a roboticist
# recognises: the inverse kinematics of a two-link arm in a plane. Given where the hand
# should go, find the two joint angles that put it there. This chapter sets up the same
# arm with `mdn_src` and trains our own networks on it. The inputs and the targets are
# both two-dimensional, so it also shows the library at work on more than one target
# dimension.
#
# **In this chapter** you will learn:
#
# - how `mdn_src/arm.py` generates the arm's data, and why most hand positions are
#   reached by two poses, elbow one way or the other;
# - how to score a predicted pose the way a roboticist does: by running it through the arm
#   and measuring how far the hand lands from the target;
# - why a least-squares network misses by a wide margin, and how MDNs with isotropic,
#   diagonal and full covariances compare, over three seeds;
# - a trap of full covariances, a component stretched into a needle across both solutions,
#   and the library's fix;
# - why the negative log-likelihood is no fixed yardstick on noise-free data.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import (
    MDN,
    MLP,
    Standardizer,
    approximate_mode,
    closest_pose,
    conditional_mean_pose,
    conditional_modes,
    end_effector_rms,
    fit,
    forward_kinematics,
    inverse_kinematics,
    make_arm_data,
    mean_nll,
    plotting,
)
from mdn_src.arm import REACH, THETA1_RANGE, THETA2_RANGE

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count

# %% [markdown]
# ## The arm and its two answers
#
# The arm has a shoulder at the origin, an upper link of length $L_1 = 0.8$ and a forearm
# of length $L_2 = 0.2$. The shoulder angle $\theta_1$ is measured from the $x_1$ axis and
# the elbow angle $\theta_2$ between the two links, so that the hand is at
#
# $$
# x = L_1 \begin{pmatrix} \cos\theta_1 \\ \sin\theta_1 \end{pmatrix}
#   - L_2 \begin{pmatrix} \cos(\theta_1 + \theta_2) \\ \sin(\theta_1 + \theta_2) \end{pmatrix}.
# $$
#
# This is the report's convention: $\theta_2 = \pi$ is the straight arm (the arm of
# {ref}`ch-intro` measured the elbow from the straight line instead, which shifts
# $\theta_2$ by $\pi$). As in the report, we draw $\theta_1$ uniformly from $(0.3, 1.2)$ and
# $\theta_2$ from $(\pi/2, 3\pi/2)$, 1,000 poses to train on and 1,000 held-out ones, with
# seeded generators. `make_arm_data` returns the hand positions $x$ (the inputs) and the
# angles $\theta$ (the targets). The data have no noise.

# %%
x_train, theta_train = make_arm_data(1000, seed=0)
x_test, theta_test = make_arm_data(1000, seed=1)
radius = np.linalg.norm(x_train.astype(np.float64), axis=1)
print(x_train.shape, theta_train.shape, x_train.dtype)
print(f"hand radius from {radius.min():.4f} to {radius.max():.4f}")
print("reach of the sampled elbow angles:", [round(r, 4) for r in REACH])
glue("ch9_reach_inner", round(REACH[0], 3), display=False)

# %% [markdown]
# The hand stays in an annulus: with the elbow at a right angle it is
# $\sqrt{L_1^2 + L_2^2} \approx$ {glue:text}`ch9_reach_inner` from the shoulder, with the arm
# straight it is $L_1 + L_2 = 1$ away. Every point inside that annulus is reached by two
# poses that mirror each other across the line from the shoulder to the hand: $\theta_2$
# and $2\pi - \theta_2$, with the shoulder angle changed to match. `inverse_kinematics`
# finds both by the law of cosines and marks those inside the sampled ranges.

# %%
solutions, valid = inverse_kinematics(x_test)  # [N, 2 poses, 2 angles], [N, 2]
two = valid.all(axis=1)
misses = [end_effector_rms(solutions[:, i], x_test) for i in range(2)]
print("held-out targets with both poses in the sampled ranges:", two.sum(), "of", len(two))
print(f"RMS miss of each solution: {misses[0]:.0e}, {misses[1]:.0e}")
glue("ch9_two_percent", f"{100 * two.mean():.0f}%", display=False)

# %% [markdown]
# For {glue:text}`ch9_two_percent` of the held-out targets both poses lie within the
# sampled ranges; for the others the mirror pose would need a shoulder angle outside
# $(0.3, 1.2)$, and only one pose exists in the data. So $p(\theta \mid x)$ has two peaks
# for most targets and one for the rest.
#
# A least-squares network learns the conditional mean $E[\theta \mid x]$ (as
# {ref}`ch-mse` showed). Here it is known exactly: where both poses are possible they are
# equally likely (a pose and its mirror have the same Jacobian determinant,
# $L_1 L_2 |\sin\theta_2|$, so the uniform sampling of angles weights them equally), and
# the mean is their average. The average of two bent elbows, $\theta_2$ and
# $2\pi - \theta_2$, is the straight arm, $\theta_2 = \pi$, and the average of the two
# shoulder angles points it straight at the target: its hand lands on the outer rim,
# beyond the target. `conditional_mean_pose`
# computes this mean, and `end_effector_rms` runs poses through the arm and measures the
# root mean square distance from the targets:

# %%
mean_pose_rms = end_effector_rms(conditional_mean_pose(x_test), x_test)
glue("ch9_mean_pose_rms", f"{mean_pose_rms:.4f}", display=False)
print(f"RMS distance of the exact conditional mean pose: {mean_pose_rms:.4f}")

# %% [markdown]
# On an arm one unit long, the exact conditional mean misses its targets by
# {glue:text}`ch9_mean_pose_rms` (root mean square). A least-squares network that learnt the
# conditional mean perfectly would miss by exactly this much: the error would come from
# what the network predicts, not from how well it was trained.
#
# ## The models
#
# **Standardised data.** The hand positions fill a thin annulus and the two angles span
# ranges of different lengths (0.9 and $\pi$ radians). We shift and scale every input and
# target column to mean 0 and standard deviation 1, with statistics measured on the
# training data (`Standardizer`), so that tanh units and the initial weights see values of
# order one in every direction. All scores below are computed after mapping predictions
# back to radians.

# %%
x_scale = Standardizer.from_data(x_train)
t_scale = Standardizer.from_data(theta_train)
X, T = x_scale.transform(x_train), t_scale.transform(theta_train)
X_test, T_test = x_scale.transform(x_test), t_scale.transform(theta_test)
print("angle means", t_scale.mean.round(3), "standard deviations", t_scale.scale.round(3))

# %% [markdown]
# **The number of components.** The law of cosines has two roots, so no target has more
# than two poses, and since the data carry no noise each pose is a single point, which one
# narrow component can cover. $K = 2$ is therefore the smallest mixture that can hold both
# answers, and we use it throughout. A larger $K$ (3 to 5, say) would be legitimate too,
# but the extra components have nothing to describe; the network would have to learn to
# switch them off or split a branch between them.
#
# **The networks.** Every model has two hidden layers of 32 tanh units and is trained
# full-batch with Adam for 1,200 epochs, from a learning rate of 0.01 that falls to zero
# along a cosine schedule. We train each model from three seeds (the seed sets the initial
# weights) and report the mean, the standard deviation over seeds and the worst seed. The
# least-squares network is `MLP`; the MDNs are `MDN` with isotropic components (one
# $\sigma_k$ per component, as in PRML), diagonal ones (one $\sigma$ per component and
# angle) and, further below, full covariances.

# %%
hidden, K, epochs, lr = (32, 32), 2, 1200, 0.01
seeds = (0, 1, 2)
train = dict(epochs=epochs, lr=lr, schedule="cosine")


def new_mdn(covariance, seed, **options):
    torch.manual_seed(seed)
    return MDN(2, 2, n_components=K, hidden=hidden, covariance=covariance, **options)


# %% [markdown]
# **Four ways to read an MDN.** An MDN answers with a density; a controller needs one pose.
# We compare four readings of the same mixture, each scored by `end_effector_rms` on the
# held-out targets:
#
# - the **most probable component**: the mean of the component with the largest $\pi_k$
#   (`approximate_mode`, {ref}`ch-sampling`);
# - the **best mode**: the highest peak of the mixture density (`conditional_modes`);
# - the **closest mode**: since the arm model is known, we can run every mode through it
#   and keep the one whose hand lands nearest the target (`closest_pose`). A controller
#   could do the same, or choose between the modes by another criterion, such as the
#   pose nearest the current one;
#
# and, for the least-squares network, its one prediction.


# %%
def reach_errors(model):
    """RMS hand miss of the most probable component, the best mode and the closest mode.

    Also returns the modes of the held-out mixtures, for the figures.
    """
    with torch.no_grad():
        params = model.mixture_parameters(X_test)
    modes = conditional_modes(params)
    candidates = t_scale.inverse(modes.location)  # [N, C, 2], radians
    errors = {
        "top": end_effector_rms(t_scale.inverse(approximate_mode(params)), x_test),
        "best": end_effector_rms(t_scale.inverse(modes.highest), x_test),
        "closest": end_effector_rms(closest_pose(candidates, x_test, modes.distinct), x_test),
    }
    return errors, modes


# %%
rms, models, histories, mse_poses, all_modes = {}, {}, {}, {}, {}
for seed in seeds:
    torch.manual_seed(seed)
    mlp = MLP(2, 2, hidden=hidden)
    fit(mlp, X, T, **train)
    with torch.no_grad():
        theta_mse = t_scale.inverse(mlp(torch.from_numpy(X_test)))
    rms["mse", seed] = {"best": end_effector_rms(theta_mse, x_test)}
    models["mse", seed], mse_poses[seed] = mlp, theta_mse
    for covariance in ("isotropic", "diagonal"):
        mdn = new_mdn(covariance, seed)
        # The isotropic runs also score the held-out data at every epoch (used further down).
        held_out = (X_test, T_test) if covariance == "isotropic" else None
        histories[covariance, seed] = fit(mdn, X, T, validation=held_out, **train)
        rms[covariance, seed], all_modes[covariance, seed] = reach_errors(mdn)
        models[covariance, seed] = mdn
print({f"{name} {seed}": round(value["best"], 4) for (name, seed), value in rms.items()})

# %% [markdown]
# ## How far the hand lands from the target
#
# The table reads in the units of the link lengths (the arm is one unit long): the root
# mean square distance between the desired and the reached hand positions over the 1,000
# held-out targets, as mean ± standard deviation over the three seeds, then the worst seed.


# %%
def summary(values, worst=max):
    """Mean, standard deviation over seeds (ddof=1) and worst value, as numbers."""
    values = np.asarray(values)
    return values.mean(), values.std(ddof=1), worst(values)


def row(name, values, digits=4):
    mean, sd, worst = summary(values)
    print(f"{name:<40}{mean:.{digits}f} ± {sd:.{digits}f}   worst {worst:.{digits}f}")


readings = {"top": "most probable component", "best": "best mode", "closest": "closest mode"}
row("least squares (MLP)", [rms["mse", s]["best"] for s in seeds])
for covariance in ("isotropic", "diagonal"):
    for reading, label in readings.items():
        row(f"MDN {covariance}, {label}", [rms[covariance, s][reading] for s in seeds])

# %%
ratios = {
    covariance: [rms["mse", s]["best"] / rms[covariance, s]["best"] for s in seeds]
    for covariance in ("isotropic", "diagonal")
}
for covariance, values in ratios.items():
    mean, sd, worst = summary(values, worst=min)
    print(f"RMS(least squares) / RMS(MDN {covariance}, best mode): ", end="")
    print(f"{mean:.1f} ± {sd:.1f}, worst seed {worst:.1f}")
mean, sd, worst = summary(ratios["isotropic"], worst=min)
glue("arm_rms_ratio", round(mean, 1), display=False)
glue("ch9_ratio_sd", round(sd, 1), display=False)
glue("ch9_ratio_worst", round(worst, 1), display=False)
glue("ch9_diag_ratio", round(np.mean(ratios["diagonal"]), 1), display=False)
glue("ch9_diag_ratio_worst", round(min(ratios["diagonal"]), 1), display=False)


def glue_rms(name, values):
    """Glue ch9_<name>_rms (mean ± sd over seeds) and ch9_<name>_rms_worst."""
    mean, sd, worst = summary(values)
    glue(f"ch9_{name}_rms", f"{mean:.4f} ± {sd:.4f}", display=False)
    glue(f"ch9_{name}_rms_worst", f"{worst:.4f}", display=False)


glue_rms("mse", [rms["mse", s]["best"] for s in seeds])
for short, covariance in (("iso", "isotropic"), ("diag", "diagonal")):
    for reading in readings:
        glue_rms(f"{short}_{reading}", [rms[covariance, s][reading] for s in seeds])

# %% [markdown]
# Is the least-squares network's answer the average of the two poses? Over the held-out
# targets that have two poses, we measure (root mean square, in radians, in the plane of
# the two angles) how far its prediction lies from the exact conditional mean and from the
# nearer of the two exact poses:

# %%
mean_pose = conditional_mean_pose(x_test)[two]
to_mean, to_pose = [], []
for seed in seeds:
    pred = mse_poses[seed][two]
    to_mean.append(np.sqrt(np.mean(np.sum((pred - mean_pose) ** 2, axis=1))))
    gaps = np.linalg.norm(solutions[two] - pred[:, None], axis=2)  # [N2, 2 poses]
    to_pose.append(np.sqrt(np.mean(gaps.min(axis=1) ** 2)))
print(f"from the exact mean: {np.mean(to_mean):.3f} rad", end="; ")
print(f"from the nearer pose: {np.mean(to_pose):.3f} rad")
glue("ch9_mse_to_mean", f"{np.mean(to_mean):.2f}", display=False)
glue("ch9_mse_to_pose", f"{np.mean(to_pose):.2f}", display=False)

# %% [markdown]
# The least-squares network misses its targets by {glue:text}`ch9_mse_rms` (worst seed
# {glue:text}`ch9_mse_rms_worst`), about as far as the exact conditional mean
# ({glue:text}`ch9_mean_pose_rms`). It has learnt, roughly, the average of the two poses:
# where there are two, its angles lie {glue:text}`ch9_mse_to_mean` rad from their exact
# mean and {glue:text}`ch9_mse_to_pose` rad from the nearer of them (means over the seeds).
# The isotropic MDN's best mode misses by {glue:text}`ch9_iso_best_rms` (worst seed
# {glue:text}`ch9_iso_best_rms_worst`). Seed by seed, the least-squares miss divided by the
# MDN's is **{glue:text}`arm_rms_ratio`** on average (± {glue:text}`ch9_ratio_sd` over
# seeds; the worst seed's ratio is {glue:text}`ch9_ratio_worst`). The diagonal MDN does
# about as well: ratio {glue:text}`ch9_diag_ratio`, worst seed
# {glue:text}`ch9_diag_ratio_worst`.
#
# The four readings of the isotropic MDN differ less than the models do. The most probable
# component misses by {glue:text}`ch9_iso_top_rms` and the closest mode by
# {glue:text}`ch9_iso_closest_rms`. With $K = 2$ each component sits on one branch, so the
# modes are close to the component means; where both poses are possible and both
# components are equally probable, the most probable component and the best mode may
# pick different branches, and both are right. Knowing the arm model lets us choose the
# mode that lands closest, which can only lower the miss.
#
# ## Why least squares fails, in pictures
#
# Below, for the first seed (one run of each model), the held-out targets and where each
# model's hand lands, and for three targets whose two poses are far apart (the elbow bent
# by more than 0.7 rad from straight) the arm drawn in both of the MDN's modes.

# %%
seed0 = seeds[0]
modes0 = all_modes["isotropic", seed0]
theta_mse0 = mse_poses[seed0]
theta_mdn0 = t_scale.inverse(modes0.highest)
bent = np.abs(theta_test[:, 1] - np.pi) > 0.7  # elbow far from straight: poses far apart
picks = np.flatnonzero(two & bent)[:3]  # three targets with two poses in range
mode_poses = [t_scale.inverse(modes0.location[i][modes0.distinct[i]]) for i in picks]
print("distinct modes at the three targets:", [len(m) for m in mode_poses])
elbow_low = np.stack([m[m[:, 1].argmin()] for m in mode_poses])  # theta2 below pi
elbow_high = np.stack([m[m[:, 1].argmax()] for m in mode_poses])  # theta2 above pi
outward = [
    np.mean(
        np.linalg.norm(forward_kinematics(mse_poses[s]), axis=1) - np.linalg.norm(x_test, axis=1)
    )
    for s in seeds
]
print(f"least-squares hands land {np.mean(outward):.3f} farther from the shoulder than the targets")
glue("ch9_outward", f"{np.mean(outward):.3f}", display=False)

# %% mystnb={"figure": {"caption": "The arm's workspace, one run (seed 0): 200 held-out targets, where the hand lands for the least-squares network and for the isotropic MDN's best mode, and three targets reached by the arm in both of the MDN's modes (solid and dashed) and in the least-squares pose (dotted).", "name": "fig-ch9-workspace"}, "image": {"alt": "A quarter annulus of hollow teal target circles, each with a red dot on it; orange dots lie near the targets, many pushed out towards the outer rim. From the origin, three pairs of two-link arms, one bent each way (red solid and dark dashed), meet at their targets; between each pair an orange dotted, less bent arm ends away from the target."}}
fig, ax = plotting.workspace_axes()
shown = slice(0, 200)  # 200 of the held-out targets, for legibility
reached_mse = forward_kinematics(theta_mse0[shown])
reached_mdn = forward_kinematics(theta_mdn0[shown])
plotting.plot_positions(ax, x_test[shown], "targets", kind="data", marker="o", size=5, hollow=True)
plotting.plot_positions(ax, reached_mse, "reached, least squares", kind="other", alpha=0.8)
plotting.plot_positions(ax, reached_mdn, "reached, MDN best mode", kind="model", alpha=0.8)
plotting.plot_arm(ax, elbow_low, r"MDN mode, $\theta_2 < \pi$", kind="model")
plotting.plot_arm(ax, elbow_high, r"MDN mode, $\theta_2 > \pi$", kind="exact", style="--")
plotting.plot_arm(ax, theta_mse0[picks], "least squares", kind="other", style=":")
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch9-workspace` shows the failure in the workspace. The MDN's hands land on
# their targets. The least-squares hands are pushed out towards the outer rim: averaging an
# elbow bent one way with the same elbow bent the other way straightens it, and a straight
# arm reaches the rim whatever the target's distance. Over the held-out targets and the
# three seeds, they land on average {glue:text}`ch9_outward` farther from the shoulder
# than their targets. For the three highlighted targets the MDN offers two arms, one bent
# each way, and both reach the target; the least-squares arm, less bent than either, runs
# between them and misses.
#
# The same three targets in the space of the angles make the two branches plain:

# %% mystnb={"figure": {"caption": "Joint angles, one run (seed 0): the training poses, and for three held-out targets the two exact poses (hollow circles), the isotropic MDN's modes (crosses) and the least-squares prediction (diamonds).", "name": "fig-ch9-modes"}, "image": {"alt": "A rectangle of faint teal training poses over theta1 from 0.3 to 1.2 and theta2 from about 1.6 to 4.7. Three pairs of dark hollow circles sit mirror-wise above and below theta2 = pi, each circle with a red cross on or just beside it; three orange diamonds lie between the pairs, near theta2 = 3."}}
fig, ax = plotting.new_axes(r"$\theta_1$ (rad)", r"$\theta_2$ (rad)")
plotting.plot_positions(ax, theta_train, "training poses", kind="data", alpha=0.25)
plotting.plot_positions(ax, solutions[picks].reshape(-1, 2), "exact poses", kind="exact",
                        marker="o", size=11, hollow=True, alpha=1)  # fmt: skip
plotting.plot_positions(
    ax, np.concatenate(mode_poses), "MDN modes", kind="model", marker="x", size=8, alpha=1
)
plotting.plot_positions(
    ax, theta_mse0[picks], "least squares", kind="other", marker="D", size=7, alpha=1
)
plotting.finish(ax).get_legend().set_loc("upper right")  # clear of the three targets
plt.show()

# %% [markdown]
# In {numref}`fig-ch9-modes` each target's two exact poses lie mirror-wise about
# $\theta_2 = \pi$, and the MDN has put a mode on each. The least-squares predictions lie
# between the two poses, away from both: on average nearer their mean than either pose, as
# measured above.
#
# ## Full covariances, and a trap
#
# A full covariance lets each component tilt, so that its two angles are correlated. With
# `covariance="full"` the network outputs for each component a lower-triangular Cholesky
# factor $L$ (the covariance is $L L^\top$): its diagonal through the same
# $\sigma_{\min} + \operatorname{softplus}$ map as the scales, and its off-diagonal entry
# $L_{21}$ taken as it comes out of the network. We train it exactly like the others, from
# the same three seeds.

# %%
for seed in seeds:
    mdn = new_mdn("full", seed)
    fit(mdn, X, T, **train)
    rms["full", seed], all_modes["full", seed] = reach_errors(mdn)
    models["full", seed] = mdn
    print(f"seed {seed}: best mode misses by {rms['full', seed]['best']:.4f}")
ratios["full"] = [rms["mse", s]["best"] / rms["full", s]["best"] for s in seeds]
mean, sd, worst = summary(ratios["full"], worst=min)
print(f"RMS(least squares) / RMS(MDN full, best mode): {mean:.1f} ± {sd:.1f}", end=", ")
print(f"worst seed {worst:.1f}")
glue("ch9_full_ratio", f"{mean:.1f} ± {sd:.1f}", display=False)
glue("ch9_full_ratio_worst", round(worst, 1), display=False)
glue_rms("full_best", [rms["full", s]["best"] for s in seeds])

# %% [markdown]
# More freedom, worse reaching: the ratio to least squares falls to
# {glue:text}`ch9_full_ratio`, and on the worst seed it is {glue:text}`ch9_full_ratio_worst`
# (a ratio below one means the MDN reaches worse than least squares). To see what went
# wrong we draw, for that seed, each component with a mixing coefficient above 0.1 as the
# ellipse two standard deviations from its mean, at the same three held-out targets.

# %%
trap_seed = seeds[int(np.argmin(ratios["full"]))]


def drawn_components(model, rows, threshold=0.1):
    """Means and Cholesky factors, in radians, of the components with pi above threshold."""
    with torch.no_grad():
        params = model.mixture_parameters(X_test[rows])
    keep = params.pi > threshold  # [len(rows), K]
    mu = t_scale.inverse(params.mu[keep])  # [M, 2]
    tril = params.scale_tril[keep].numpy() * t_scale.scale[:, None]  # rows scaled to radians
    return mu, tril, params


# %%
mu_trap, tril_trap, params_trap = drawn_components(models["full", trap_seed], picks)
axes_sd = np.linalg.svd(tril_trap, compute_uv=False)  # [M, 2]: sd along each ellipse axis
print(f"seed {trap_seed}, pi of the two components at the three targets:")
print(params_trap.pi.numpy().round(2))
print("drawn components, sd along the long and the short axis (rad):")
print(axes_sd.round(4))
owner = np.nonzero((params_trap.pi > 0.1).numpy())[0]  # the target of each drawn component
to_mid = np.linalg.norm(mu_trap - solutions[picks].mean(axis=1)[owner], axis=1)
to_exact = np.linalg.norm(mu_trap[:, None] - solutions[picks][owner], axis=2).min(axis=1)
print("distance of each mean from the midpoint of the two poses (rad):", to_mid.round(2))
print("                      from the nearer pose (rad):            ", to_exact.round(2))
along = np.einsum(  # where each mean lies on the line from one pose (0) to the other (1)
    "md,md->m", mu_trap - solutions[picks][owner, 0], np.diff(solutions[picks], axis=1)[owner, 0]
) / np.sum(np.diff(solutions[picks], axis=1)[owner, 0] ** 2, axis=1)
print("position along the line from one pose (0) to the other (1):", along.round(2))
glue("ch9_trap_off_pose", f"{to_exact.min():.2f}", display=False)
glue("ch9_trap_rms", f"{rms['full', trap_seed]['best']:.4f}", display=False)
glue("ch9_trap_mse_rms", f"{rms['mse', trap_seed]['best']:.4f}", display=False)
aspect = np.median(axes_sd[:, 0] / axes_sd[:, 1])
glue("ch9_needle_aspect", f"{aspect:.0f}", display=False)

# %% [markdown]
# Then the same training with the library's fix, explained below the figure:
# `off_diagonal="scaled"` and a diagonal warm-up with `with_full_covariance`.

# %%
warm_epochs = 400
for seed in seeds:
    warm = new_mdn("diagonal", seed)
    fit(warm, X, T, epochs=warm_epochs, lr=lr)  # constant learning rate
    mdn = warm.with_full_covariance(off_diagonal="scaled")  # the same mixture, now full
    fit(mdn, X, T, epochs=epochs - warm_epochs, lr=lr, schedule="cosine")
    rms["fixed", seed], all_modes["fixed", seed] = reach_errors(mdn)
    models["fixed", seed] = mdn
    print(f"seed {seed}: best mode misses by {rms['fixed', seed]['best']:.4f}")
ratios["fixed"] = [rms["mse", s]["best"] / rms["fixed", s]["best"] for s in seeds]
mean, sd, worst = summary(ratios["fixed"], worst=min)
print(f"RMS(least squares) / RMS(MDN full, fixed, best mode): {mean:.1f} ± {sd:.1f}", end=", ")
print(f"worst seed {worst:.1f}")
glue("ch9_fixed_ratio", f"{mean:.1f} ± {sd:.1f}", display=False)
glue("ch9_fixed_ratio_worst", round(worst, 1), display=False)
glue_rms("fixed_best", [rms["fixed", s]["best"] for s in seeds])
mu_fixed, tril_fixed, _ = drawn_components(models["fixed", trap_seed], picks)

# %% mystnb={"figure": {"caption": "The trap, one run (the seed where the full-covariance MDN reaches worst): at three held-out targets, the exact poses (hollow circles), and each component with a mixing coefficient above 0.1 as its two-standard-deviation ellipse with its mean (+), for the full-covariance MDN trained from the start (orange) and with the library's fix (red).", "name": "fig-ch9-trap"}, "image": {"alt": "In the plane of the two joint angles, three pairs of dark hollow circles mirror each other about theta2 = pi. Long, thin orange ellipses, drawn as lines, run through both circles of each pair, with their means (orange plus signs) between the circles. Red plus signs sit on the circles themselves, their ellipses too small to see."}}
fig, ax = plotting.new_axes(r"$\theta_1$ (rad)", r"$\theta_2$ (rad)")
plotting.plot_positions(ax, solutions[picks].reshape(-1, 2), "exact poses", kind="exact",
                        marker="o", size=11, hollow=True, alpha=1)  # fmt: skip
plotting.plot_ellipses(ax, mu_trap, tril_trap, "full, trained from the start", kind="other")
plotting.plot_ellipses(ax, mu_fixed, tril_fixed, "full, with the fix", kind="model")
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch9-trap` shows the trap. Trained from the start, the full-covariance MDN has
# not put one component on each pose. Each drawn component is a needle: long along the
# line through the two poses of its target and almost no width across it (the standard
# deviations printed above), with its mean between the poses and at least
# {glue:text}`ch9_trap_off_pose` rad from either. Such a component gives both poses a high
# density, so the likelihood looks respectable (more on that below), but its mean, and the peak of the mixture, lie
# between the two answers, where the least-squares prediction lies too. On this seed the
# best mode misses by {glue:text}`ch9_trap_rms`, against {glue:text}`ch9_trap_mse_rms` for
# least squares.
#
# **Why it happens.** At the start the network's outputs are small, so the components'
# means sit near zero, the middle of the standardised angles, between the two branches.
# The quickest way to raise the likelihood of both poses is to stretch a component along
# the line that joins them and make it thin across. With a free off-diagonal entry that
# costs nothing: $L_{21}$ carries the length while $L_{22}$ shrinks towards
# $\sigma_{\min}$, and the thinner the needle, the higher the density on it. Once there,
# splitting the needle into two components, one per pose, would mean passing through wider
# components with a lower likelihood; in these runs, gradient descent did not find its way
# out.
#
# **The fix, in `mdn_src`.** Two changes, each one argument:
#
# - `MDN(..., covariance="full", off_diagonal="scaled")` multiplies each off-diagonal output
#   by its row's diagonal entry, $L_{21} = a_{21} L_{22}$. Then
#   $L = \operatorname{diag}(s) (I + A)$: the diagonal $s$ sets the scales and the raw
#   outputs $A$ set the correlations alone (for two angles the correlation is
#   $a_{21} / \sqrt{1 + a_{21}^2}$). A needle at an angle to the axes now needs a raw
#   output of the order of its length over its width (the median ratio of the two standard
#   deviations of the needles above is {glue:text}`ch9_needle_aspect`), instead of one small
#   diagonal entry.
# - A **diagonal warm-up**: train a diagonal MDN first, so that its components settle on
#   the two branches before any correlation is possible, then
#   `with_full_covariance(off_diagonal="scaled")` copies it into a full-covariance MDN that
#   starts from the same mixture (its off-diagonal outputs start at zero), and training
#   goes on. Above, 400 epochs at a constant learning rate, then 800 with the cosine
#   schedule: 1,200 epochs in all, like every other model.
#
# With both, the ratio to least squares over the three seeds is
# {glue:text}`ch9_fixed_ratio` (worst seed {glue:text}`ch9_fixed_ratio_worst`), and the
# best mode misses by {glue:text}`ch9_fixed_best_rms` instead of {glue:text}`ch9_full_best_rms`.
# The red components of {numref}`fig-ch9-trap` sit on the exact poses. We measured the two
# changes together; each addresses one half of the mechanism above (the needle's cheapness
# and the start between the branches).
#
# ## The negative log-likelihood is no fixed yardstick here
#
# The needle models are the ones a held-out negative log-likelihood should expose. It does,
# but only by comparison. On the toy problem the noise gave the NLL a floor, the Bayes
# limit, and a score could be read against it. The arm's data have no noise: given $x$,
# $\theta$ is one of at most two exact values, the true conditional density is made of
# spikes, and its NLL is $-\infty$. A model lowers its NLL for as long as it can narrow its
# components, down to the floor $\sigma_{\min}$, so the number measures how long we trained
# (and which $\sigma_{\min}$ we chose) as much as how good the model is. Below, the
# held-out NLL of the isotropic MDNs (in nats, with the angles in radians) at several
# points of their training, and the lowest expected NLL that an isotropic $K = 2$ mixture
# with this $\sigma_{\min}$ allows: every component as narrow as $\sigma_{\min}$, centred
# on a pose, with $\pi = 1/2$ where the target has two poses.

# %%
to_radians = float(np.log(t_scale.scale).sum())  # NLL(radians) = NLL(standardised) + this
checkpoints = (300, 600, 900, 1200)
for epoch in checkpoints:
    values = [histories["isotropic", s].validation[epoch - 1] + to_radians for s in seeds]
    mean, sd, _ = summary(values)
    print(f"after {epoch:4d} epochs: held-out NLL {mean:.2f} ± {sd:.2f} nats")
    glue(f"ch9_nll_at_{epoch}", f"{mean:.2f}", display=False)
sigma_min = models["isotropic", seed0].sigma_min  # in standardised units
floor = two.mean() * np.log(2) + np.log(2 * np.pi * sigma_min**2) + to_radians
print(f"lowest expected NLL with sigma_min = {sigma_min:g}: {floor:.2f} nats")
glue("ch9_nll_floor", f"{floor:.1f}", display=False)

# %% mystnb={"figure": {"caption": "Training loss and held-out negative log-likelihood of the isotropic MDN, one run (seed 0), in nats with the angles in radians, over 1,200 full-batch epochs.", "name": "fig-ch9-nll"}, "image": {"alt": "Two curves, training loss (solid red) and held-out NLL (dashed orange), nearly on top of each other, falling from about 2 nats to below -6, with tall spikes, up to about 13 nats, until about epoch 700, then smoothly; the held-out curve ends a little above the training curve."}}
history0 = histories["isotropic", seed0]
fig, ax = plotting.plot_loss(np.asarray(history0) + to_radians, "NLL (nats, angles in radians)")
plotting.plot_curve(
    ax,
    np.arange(1, epochs + 1),
    history0.validation + to_radians,
    "held-out",
    kind="other",
    style="--",
)
plotting.finish(ax)
plt.show()

# %% [markdown]
# The held-out NLL goes on falling, from {glue:text}`ch9_nll_at_600` nats after 600 epochs
# to {glue:text}`ch9_nll_at_1200` after 1,200, while the held-out data stay the same; the
# only floor under it is the one $\sigma_{\min}$ sets, {glue:text}`ch9_nll_floor` nats,
# far below. In {numref}`fig-ch9-nll` the training and held-out curves fall together, with
# spikes where Adam overshoots (as in {ref}`ch-mdn`) until the cosine schedule has lowered
# the learning rate. So NLLs are only comparable between models trained alike: the same
# data, the same number of epochs, the same schedule. The table compares our MDNs after
# their 1,200 epochs each:

# %%
nll = {}
for name in ("isotropic", "diagonal", "full", "fixed"):
    nll[name] = [mean_nll(models[name, s], X_test, T_test) + to_radians for s in seeds]
    mean, sd, worst = summary(nll[name])
    print(f"{name:<10} held-out NLL {mean:.2f} ± {sd:.2f} nats, worst seed {worst:.2f}")
    glue(f"ch9_nll_{name}", f"{mean:.2f} ± {sd:.2f}", display=False)
glue("ch9_nll_trap", f"{nll['full'][seeds.index(trap_seed)]:.2f}", display=False)
glue("ch9_nll_trap_iso", f"{nll['isotropic'][seeds.index(trap_seed)]:.2f}", display=False)
area = np.ptp(THETA1_RANGE) * np.ptp(THETA2_RANGE)  # rad^2: the uniform density is 1 / area
trap_vs_uniform = np.exp(-nll["full"][seeds.index(trap_seed)]) * area
print(f"seed {trap_seed}, full: geometric-mean density {trap_vs_uniform:.0f} times the uniform one")
glue("ch9_trap_vs_uniform", f"{trap_vs_uniform:.0f}", display=False)

# %% [markdown]
# At equal training the comparison is fair, and it shows the trap: the full-covariance
# MDNs trained from the start score {glue:text}`ch9_nll_full` nats, worse than the
# isotropic ({glue:text}`ch9_nll_isotropic`), the diagonal ({glue:text}`ch9_nll_diagonal`)
# and the fixed full-covariance ones ({glue:text}`ch9_nll_fixed`). On its own, though, the
# trapped seed's {glue:text}`ch9_nll_trap` nats would not raise an eyebrow: the geometric
# mean of its densities at the held-out poses is {glue:text}`ch9_trap_vs_uniform` times the
# density of a uniform spread over the sampled ranges of angles. Only beside the isotropic
# MDN of the same seed after the same 1,200 epochs ({glue:text}`ch9_nll_trap_iso`) does it
# look poor, and nothing in either number says that the model's answers lie between the
# right ones. The end-effector distance says so at once, in units anyone can read. On
# noise-free data, score the task.
#
# ## What we learned
#
# - Bishop's arm, in `mdn_src/arm.py`: forward kinematics, seeded pose sampling, the mirror
#   pose and both solutions of the inverse problem; for
#   {glue:text}`ch9_two_percent` of the held-out targets both poses are in range.
# - Scored by where the hand lands, a least-squares network misses by
#   {glue:text}`ch9_mse_rms`: it learns roughly the average of the two poses, a
#   straightened arm that reaches past the target towards the outer rim. The best mode of
#   an isotropic MDN with $K = 2$ components, trained the same way, misses
#   {glue:text}`arm_rms_ratio` times less (mean over three seeds; worst seed
#   {glue:text}`ch9_ratio_worst`), with two-dimensional inputs and targets and no change to
#   the library's training or prediction code.
# - A full covariance is not free: trained from the start, its components can become
#   needles spanning both poses with their means between them. Scaled off-diagonal
#   outputs (`off_diagonal="scaled"`) together with a diagonal warm-up
#   (`with_full_covariance`) avoided the trap on all three seeds here (worst ratio to least
#   squares {glue:text}`ch9_fixed_ratio_worst`).
# - Without noise, the negative log-likelihood has no floor set by the data and keeps
#   falling with training: compare it only between models trained alike, and prefer a
#   score of the task.
#
# ## Where to go next
#
# Joint angles are angles: for a joint that turns all the way round,
# `MDN(..., component="von_mises")` gives components that wrap around; our sampled ranges
# are less than a turn wide, so Gaussians sufficed. Try more components ($K = 3$ to 5) and watch whether the extra ones are
# switched off; add noise to the hand positions and see the NLL find a floor again; or give
# the controller a memory and choose, among the MDN's modes, the pose nearest the arm's
# current one. {ref}`ch-closing` lists further directions, and the
# {doc}`API reference <api/index>` documents everything used here.
