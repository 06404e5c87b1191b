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
# - how `mdn_src/problems/arm.py` generates the arm's data, and why most hand positions are
#   reached by two poses, elbow one way or the other;
# - how to score a predicted pose the way a roboticist does: by running it through the arm
#   and measuring how far the hand lands from the target;
# - why a least-squares network misses by a wide margin, and how MDNs with isotropic,
#   diagonal and full covariances compare, over five seeds;
# - a trap of full covariances, a component stretched into a needle across both solutions,
#   and the library's fix;
# - why the negative log-likelihood is no fixed yardstick on noise-free data.
#
# ```{admonition} Input $x$, target $\theta$
# The input is the hand position $x = (x_1, x_2)$ (`x_train`), in the units of the link
# lengths (the arm is one unit long); the target is the pair of joint angles
# $\theta = (\theta_1, \theta_2)$ (`theta_train`), in radians, $\theta_2 = \pi$ being the
# straight arm.
# ```

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
    MixtureParameters,
    Standardizer,
    approximate_mode,
    check,
    closest_pose,
    conditional_mean_pose,
    conditional_modes,
    end_effector_rms,
    fit_cached,
    forward_kinematics,
    inverse_kinematics,
    make_arm_data,
    mean_nll,
    plotting,
    report,
)
from mdn_src.problems.arm import REACH, THETA1_RANGE, THETA2_RANGE

torch.set_num_threads(1)  # a run repeats exactly on one machine (not across machines)

# %% [markdown]
# ## The arm and its two answers
#
# The arm has a shoulder at the origin, an upper link of length $L_1 = 0.8$ and a forearm
# of length $L_2 = 0.2$. The shoulder angle $\theta_1$ is measured from the $x_1$ axis and
# the elbow angle $\theta_2$ between the two links, so that the hand is at $x = (x_1, x_2)$ with
#
# $$
# \begin{aligned}
# x_1 &= L_1 \cos\theta_1 - L_2 \cos(\theta_1 + \theta_2), \\
# x_2 &= L_1 \sin\theta_1 - L_2 \sin(\theta_1 + \theta_2).
# \end{aligned}
# $$
#
# This is the report's convention, and the one of the arm in {ref}`ch-intro`: $\theta_2 = \pi$
# is the straight arm. As in the report, we draw $\theta_1$ uniformly from $(0.3, 1.2)$ and
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
glue("ch10_reach_inner", round(REACH[0], 3), display=False)

# %% [markdown]
# The hand stays in an annulus: with the elbow at a right angle it is
# $\sqrt{L_1^2 + L_2^2} \approx$ {glue:text}`ch10_reach_inner` from the shoulder, with the arm
# straight it is $L_1 + L_2 = 1$ away. Every point inside that annulus is reached by two
# poses that mirror each other across the line from the shoulder to the hand: $\theta_2$
# and $2\pi - \theta_2$, with the shoulder angle changed to match. `inverse_kinematics`
# finds both by the law of cosines and marks those inside the sampled ranges.

# %%
solutions, valid = inverse_kinematics(x_test)  # [N, 2 poses, 2 angles], [N, 2]
two = valid.all(axis=1)
misses = [end_effector_rms(solutions[:, i], x_test) for i in range(2)]
print("held-out targets with both poses in the sampled ranges:", two.sum(), "of", len(two))
print("RMS miss of each solution below 1e-12:", [bool(m < 1e-12) for m in misses])
glue("ch10_two_percent", f"{100 * two.mean():.0f}%", display=False)

# %% [markdown]
# For {glue:text}`ch10_two_percent` of the held-out targets both poses lie within the
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
glue("ch10_mean_pose_rms", f"{mean_pose_rms:.4f}", display=False)
print(f"RMS distance of the exact conditional mean pose: {mean_pose_rms:.4f}")

# %% [markdown]
# On an arm one unit long, the exact conditional mean misses its targets by
# {glue:text}`ch10_mean_pose_rms` (root mean square). A least-squares network that learnt the
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
# full-batch with Adam for {glue:text}`ch10_epochs` epochs, from a learning rate of 0.01
# that falls to zero along a cosine schedule. Training is chaotic: another seed, or
# another machine's last bits, ends it at another optimum. So we train each model from
# five seeds (the seed sets the initial weights), report the mean, the standard deviation
# over seeds and the worst seed, and compare two models seed by seed. The least-squares
# network is `MLP`; the MDNs are `MDN` with isotropic components (one $\sigma_k$ per
# component, as in PRML), diagonal ones (one $\sigma$ per component and angle) and,
# further below, full covariances. Every run goes through `fit_cached`, so a second run of
# the chapter loads the trained weights instead of training again.

# %%
hidden, K, epochs, lr = (32, 32), 2, 400, 0.01
seeds = (0, 1, 2, 3, 4)
schedule = dict(epochs=epochs, lr=lr, schedule="cosine")
glue("ch10_epochs", f"{epochs:,}", display=False)


def new_model(kind, seed, **options):
    """An untrained `MLP` (kind "mse") or `MDN` with that covariance, initialised from seed."""
    torch.manual_seed(seed)
    if kind == "mse":
        return MLP(2, 2, hidden=hidden)
    return MDN(2, 2, n_components=K, hidden=hidden, covariance=kind, **options)


def train(model, name, seed, **fit_options):
    """Train on the standardised arm data, or load the result of an identical earlier run."""
    return fit_cached(model, X, T, name=f"ch10-{name}-seed{seed}", **{**schedule, **fit_options})


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
rms, models, modes, histories = {}, {}, {}, {}  # keyed by (kind, seed)
for seed in seeds:
    for kind in ("mse", "isotropic", "diagonal"):
        models[kind, seed] = new_model(kind, seed)
        # The isotropic runs also score the held-out data at every epoch (used further down).
        held_out = dict(validation=(X_test, T_test)) if kind == "isotropic" else {}
        histories[kind, seed] = train(models[kind, seed], kind, seed, **held_out)
mse_poses = {}  # the least-squares predictions, in radians
for seed in seeds:
    with torch.no_grad():
        mse_poses[seed] = t_scale.inverse(models["mse", seed](torch.from_numpy(X_test)))
    rms["mse", seed] = {"best": end_effector_rms(mse_poses[seed], x_test)}
mse_rms = np.array([rms["mse", s]["best"] for s in seeds])

# %% [markdown]
# `score` reads every trained MDN of the given kinds in the four ways and stores the miss
# of each reading. The mode search steps through all its rows together, so one search over
# the models of every seed costs much less than one search per model; the modes of each
# model are the same either way. {py:meth}`~mdn_src.mixture.MixtureParameters.cat` joins the
# models' mixtures into one batch, and {py:meth}`~mdn_src.inference.Modes.rows` takes each
# model's rows back out of the answer.


# %%
def score(kinds):
    """RMS hand miss of the most probable component, the best mode and the closest mode.

    Fills ``rms`` and ``modes`` (the held-out mixtures' modes, for the figures) for every
    seed of each kind in ``kinds``.
    """
    keys = [(kind, seed) for kind in kinds for seed in seeds]
    with torch.no_grad():
        parts = [models[key].mixture_parameters(X_test) for key in keys]
    found = conditional_modes(MixtureParameters.cat(parts))  # one search, all the models
    n = len(X_test)
    for i, key in enumerate(keys):
        modes[key] = found.rows(slice(i * n, (i + 1) * n))  # model i's rows
        candidates = t_scale.inverse(modes[key].location)  # [N, C, 2], radians
        closest = closest_pose(candidates, x_test, modes[key].distinct)
        rms[key] = {
            "top": end_effector_rms(t_scale.inverse(approximate_mode(parts[i])), x_test),
            "best": end_effector_rms(t_scale.inverse(modes[key].highest), x_test),
            "closest": end_effector_rms(closest, x_test),
        }


score(("isotropic", "diagonal"))

# %% [markdown]
# ## How far the hand lands from the target
#
# The table reads in the units of the link lengths (the arm is one unit long): the root
# mean square distance between the desired and the reached hand positions over the 1,000
# held-out targets, as mean ± standard deviation over the five seeds, then the worst seed.
# Below the table, for each MDN, the least-squares miss divided by the MDN's best-mode
# miss, seed by seed (higher is better for the MDN; the worst seed is the lowest ratio).


# %% tags=["nbval-ignore-output"]
READINGS = {"top": "most probable component", "best": "best mode", "closest": "closest mode"}
ratios = {}


def misses(kind, short, readings=("best",)):
    """Print and glue (as ch10_<short>_<reading>_rms) the misses of a kind of model over the
    seeds, and return them, one per seed, for each reading.

    For an MDN, also store in ``ratios`` the least-squares miss divided by its best mode's,
    seed by seed.
    """
    found = {}
    for reading in readings:
        found[reading] = np.array([rms[kind, s][reading] for s in seeds])
        got = report(f"ch10_{short}_{reading}_rms", found[reading], digits=4)
        label = "least squares (MLP)" if kind == "mse" else f"MDN {kind}, {READINGS[reading]}"
        print(f"{label:<42}{got}   worst {got.worst:.4f}")
    if kind != "mse":
        ratios[kind] = mse_rms / found["best"]
    return found


misses("mse", "mse")
iso = misses("isotropic", "iso", READINGS)
diag = misses("diagonal", "diag", READINGS)
# Least squares misses about as far as the exact conditional mean, in every seed.
report("ch10_mse_vs_mean_pose", mse_rms / mean_pose_rms, at_least=0.9, at_most=1.1)
# Every reading of the isotropic MDN beats least squares by far, in every seed.
for reading in READINGS:
    report(f"ch10_iso_{reading}_vs_mse", mse_rms / iso[reading], at_least=5, glue=False)
# The closest mode can only lower the miss of the best mode (it is one of the candidates).
report("ch10_closest_minus_best", iso["closest"] - iso["best"], at_most=1e-9, glue=False)
# The claim of the text: seed by seed, least squares misses many times more than the MDNs.
for kind, short, at_least in (("isotropic", "iso", 8), ("diagonal", "diag", 6)):
    got = report(f"ch10_{short}_ratio", ratios[kind], at_least=at_least, digits=1)
    print(f"ratio to least squares, {kind} best mode: {got}, per seed {ratios[kind].round(1)}")

# %% [markdown]
# Is the least-squares network's answer the average of the two poses? Over the held-out
# targets that have two poses, we measure (root mean square, in radians, in the plane of
# the two angles) how far its prediction lies from the exact conditional mean and from the
# nearer of the two exact poses:

# %% tags=["nbval-ignore-output"]
mean_pose = conditional_mean_pose(x_test)[two]
to_mean, to_pose = [], []
for seed in seeds:
    pred = mse_poses[seed][two]
    to_mean.append(np.sqrt(np.mean(np.sum((pred - mean_pose) ** 2, axis=1))))
    gaps = np.linalg.norm(solutions[two] - pred[:, None], axis=2)  # [N2, 2 poses]
    to_pose.append(np.sqrt(np.mean(gaps.min(axis=1) ** 2)))
to_mean, to_pose = np.array(to_mean), np.array(to_pose)
# In every seed, the prediction lies nearer the mean of the two poses than either pose.
report("ch10_pose_minus_mean", to_pose - to_mean, at_least=0.3, glue=False)
print(f"from the exact mean: {report('ch10_mse_to_mean', to_mean, digits=2)} rad", end="; ")
print(f"from the nearer pose: {report('ch10_mse_to_pose', to_pose, digits=2)} rad")

# %% [markdown]
# The least-squares network misses its targets by {glue:text}`ch10_mse_best_rms` (worst
# seed {glue:text}`ch10_mse_best_rms_worst:.4f`), about as far as the exact conditional
# mean ({glue:text}`ch10_mean_pose_rms`): within 10% of it in every seed. It has learnt,
# roughly, the average of the two poses: where there are two, its angles lie
# {glue:text}`ch10_mse_to_mean_mean:.2f` rad from their exact mean and
# {glue:text}`ch10_mse_to_pose_mean:.2f` rad from the nearer of them (means over the seeds;
# in every seed it is nearer the mean). The isotropic MDN's best mode misses by
# {glue:text}`ch10_iso_best_rms` (worst seed {glue:text}`ch10_iso_best_rms_worst:.4f`). Seed
# by seed, the least-squares miss divided by the MDN's is **{glue:text}`ch10_iso_ratio`**
# (mean ± sd over seeds), and at least
# {glue:text}`ch10_iso_ratio_floor` in every seed. The diagonal MDN is in the same
# league: ratio {glue:text}`ch10_diag_ratio`, worst seed
# {glue:text}`ch10_diag_ratio_floor`.
#
# Whichever way the isotropic MDN is read, it is far ahead of least squares: each of the
# three readings misses several times less in every seed. The most probable component misses
# by {glue:text}`ch10_iso_top_rms` and the closest mode by
# {glue:text}`ch10_iso_closest_rms`. With $K = 2$ each component sits on one branch, so the
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

# %% tags=["nbval-ignore-output"]
seed0 = seeds[0]
modes0 = modes["isotropic", seed0]
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
# Seed 0's MDN puts a mode on each exact pose of the three targets (the figures below).
off = [
    np.linalg.norm(m[:, None] - solutions[i][None], axis=2).min(0)
    for i, m in zip(picks, mode_poses, strict=True)
]
report("ch10_pose_to_mode", np.concatenate(off), at_most=0.05, glue=False)
print("distance of each exact pose from the nearest mode (rad):", np.round(off, 3).tolist())
got = report("ch10_outward", outward, at_least=0.02, digits=3)
print(f"least-squares hands land {got} farther from the shoulder than the targets")

# %% mystnb={"figure": {"caption": "The arm's workspace, one run (seed 0): 200 held-out targets, where the hand lands for the least-squares network and for the isotropic MDN's best mode, and three targets reached by the arm in both of the MDN's modes (solid and dashed) and in the least-squares pose (dotted).", "name": "fig-ch9-workspace"}, "image": {"alt": "A quarter annulus of 200 hollow target circles, most with the small dot of the MDN's reached hand position on it; the least-squares dots lie near the targets, many pushed out towards the outer rim. From the origin, three pairs of two-link arms, one bent each way (solid and dashed), meet at their targets; beside each pair a dotted least-squares arm, less bent than either, ends away from the target."}}
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
# their targets. The least-squares hands are pushed out towards the outer rim: averaging
# an elbow bent one way with the same elbow bent the other way straightens it, and a
# straight arm reaches the rim whatever the target's distance. Over the held-out targets,
# they land on average {glue:text}`ch10_outward_mean:.3f` farther from the shoulder than
# their targets (mean over the five seeds). For the three highlighted targets the MDN
# offers two arms, one bent each way, and both reach the target; the least-squares arm,
# less bent than either, runs between them and misses.
#
# The same three targets in the space of the angles make the two branches plain:

# %% mystnb={"figure": {"caption": "Joint angles, one run (seed 0): the training poses, and for three held-out targets the two exact poses (hollow circles), the isotropic MDN's modes (crosses) and the least-squares prediction (diamonds).", "name": "fig-ch9-modes"}, "image": {"alt": "A rectangle of faint training poses over theta1 from 0.3 to 1.2 and theta2 from about 1.6 to 4.7. Three pairs of hollow circles, the exact poses, sit mirror-wise above and below theta2 = pi, each with a cross, an MDN mode, on or just beside it; three diamonds, the least-squares predictions, lie between the pairs, near theta2 = 3."}}
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
# the same five seeds. In the same loop we also train a second version with the library's
# fix for what goes wrong (explained below the next figure): `off_diagonal="scaled"` and a
# diagonal warm-up with `with_full_covariance`. One mode search then scores both.

# %%
warm_epochs = epochs // 2
for seed in seeds:
    models["full", seed] = new_model("full", seed)
    train(models["full", seed], "full", seed)
    # The fix: a diagonal MDN first, at a constant learning rate, then the same mixture
    # as a full-covariance MDN with scaled off-diagonal outputs, trained on.
    warm = new_model("diagonal", seed)
    train(warm, "warm-up", seed, epochs=warm_epochs, schedule=None)
    models["fixed", seed] = warm.with_full_covariance(off_diagonal="scaled")
    train(models["fixed", seed], "fixed", seed, epochs=epochs - warm_epochs)
glue("ch10_warm_epochs", f"{warm_epochs:,}", display=False)
glue("ch10_rest_epochs", f"{epochs - warm_epochs:,}", display=False)
score(("full", "fixed"))

# %% tags=["nbval-ignore-output"]
full = misses("full", "full")
# More freedom, worse reaching: seed by seed, the full MDN's ratio is far below the isotropic one's.
report("ch10_full_vs_iso", ratios["full"] / ratios["isotropic"], at_most=0.25, digits=2)
got = report("ch10_full_ratio", ratios["full"], digits=1)
print(f"ratio to least squares, full best mode: {got}, per seed {ratios['full'].round(1)}")

# %% [markdown]
# More freedom, worse reaching: the ratio to least squares falls to
# {glue:text}`ch10_full_ratio`, and on the worst seed it is
# {glue:text}`ch10_full_ratio_min:.1f` (a ratio below one means the MDN reaches worse than
# least squares). Seed by seed, it is at most {glue:text}`ch10_full_vs_iso_ceil` of the
# isotropic MDN's ratio. To see what went
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


# %% tags=["nbval-ignore-output"]
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
glue("ch10_trap_off_pose", f"{to_exact.min():.2f}", display=False)
glue("ch10_trap_rms", f"{rms['full', trap_seed]['best']:.4f}", display=False)
glue("ch10_trap_mse_rms", f"{rms['mse', trap_seed]['best']:.4f}", display=False)
# What the text says of this run: every drawn component is a needle (long axis many times
# the short one), its mean lies between the two poses and away from both.
report("ch10_needle_aspect", axes_sd[:, 0] / axes_sd[:, 1], at_least=50, digits=0)
report("ch10_trap_along", along, at_least=0, at_most=1, glue=False)
report("ch10_trap_off", to_exact, at_least=0.1, glue=False)
print("position along the line from one pose (0) to the other (1):", along.round(2))

# %% [markdown]
# The same targets for the models trained with the fix:

# %% tags=["nbval-ignore-output"]
fixed = misses("fixed", "fixed")
got = report("ch10_fixed_ratio", ratios["fixed"], at_least=2, digits=1)
print(f"ratio to least squares, fixed best mode: {got}, per seed {ratios['fixed'].round(1)}")
# Seed by seed, the fix reaches better than full covariances trained from the start, and
# less well than the isotropic MDN.
report("ch10_fixed_vs_full", full["best"] / fixed["best"], at_least=2, digits=1)
report("ch10_fixed_vs_iso", ratios["fixed"] / ratios["isotropic"], at_most=1.0, digits=2)
mu_fixed, tril_fixed, params_fixed = drawn_components(models["fixed", trap_seed], picks)
# In the figure: every exact pose of the three targets has a fixed component's mean near it.
owner_fixed = np.nonzero((params_fixed.pi > 0.1).numpy())[0]
near = [
    np.linalg.norm(mu_fixed[owner_fixed == j][None] - pose[:, None], axis=2).min(1)
    for j, pose in enumerate(solutions[picks])
]
report("ch10_fixed_pose_to_mean", np.concatenate(near), at_most=0.3, digits=2)
print("distance of each exact pose from the nearest fixed mean (rad):", np.round(near, 3).tolist())

# %% mystnb={"figure": {"caption": "The trap, one run (the seed where the full-covariance MDN reaches worst): at three held-out targets, the exact poses (hollow circles), and each component with a mixing coefficient above 0.1 as its two-standard-deviation ellipse with its mean (+), for the full-covariance MDN trained from the start (dash-dot) and with the library's fix (solid).", "name": "fig-ch9-trap"}, "image": {"alt": "In the plane of the two joint angles, three pairs of hollow circles, the exact poses, mirror each other about theta2 = pi. Long, thin dash-dot ellipses stretch along the line between the circles of a pair, with their means (plus signs) between the circles. The plus signs of the fixed model sit on or near the circles, inside solid ellipses."}}
fig, ax = plotting.new_axes(r"$\theta_1$ (rad)", r"$\theta_2$ (rad)")
plotting.plot_positions(ax, solutions[picks].reshape(-1, 2), "exact poses", kind="exact",
                        marker="o", size=11, hollow=True, alpha=1)  # fmt: skip
plotting.plot_ellipses(
    ax, mu_trap, tril_trap, "full, trained from the start", kind="other", style="-."
)
plotting.plot_ellipses(ax, mu_fixed, tril_fixed, "full, with the fix", kind="model")
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch9-trap` shows the trap. Trained from the start, the full-covariance MDN has
# not put one component on each pose. Each drawn component is a needle: long along the
# line through the two poses of its target and almost no width across it (the standard
# deviations printed above), with its mean between the poses and at least
# {glue:text}`ch10_trap_off_pose` rad from either. Such a component gives both poses a high
# density, so the likelihood looks respectable (more on that below), but its mean, and the peak of the mixture, lie
# between the two answers, where the least-squares prediction lies too. On this seed the
# best mode misses by {glue:text}`ch10_trap_rms`, against {glue:text}`ch10_trap_mse_rms` for
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
#   deviations of the needles above is {glue:text}`ch10_needle_aspect_median:.0f`), instead of one small
#   diagonal entry.
# - A **diagonal warm-up**: train a diagonal MDN first, so that its components settle on
#   the two branches before any correlation is possible, then
#   `with_full_covariance(off_diagonal="scaled")` copies it into a full-covariance MDN that
#   starts from the same mixture (its off-diagonal outputs start at zero), and training
#   goes on. Above, {glue:text}`ch10_warm_epochs` epochs at a constant learning rate, then
#   {glue:text}`ch10_rest_epochs` with the cosine schedule: {glue:text}`ch10_epochs` epochs
#   in all, like every other model.
#
# With both, the ratio to least squares over the five seeds is
# {glue:text}`ch10_fixed_ratio` (worst seed {glue:text}`ch10_fixed_ratio_worst:.1f`), and
# the best mode misses by {glue:text}`ch10_fixed_best_rms` instead of
# {glue:text}`ch10_full_best_rms`; in every seed the fixed model's miss is at least
# {glue:text}`ch10_fixed_vs_full_floor` times smaller than the full model's of the same
# seed. In {numref}`fig-ch9-trap` every exact pose has a component trained with the fix
# (solid) centred on or near it, within {glue:text}`ch10_fixed_pose_to_mean_ceil` rad.
# After the same number of epochs, half of them spent as a diagonal MDN at a constant
# learning rate, the fixed MDNs reach less well than the isotropic ones (ratio
# {glue:text}`ch10_iso_ratio`): seed by seed, the fixed model's ratio is at most
# {glue:text}`ch10_fixed_vs_iso_ceil` of the isotropic one's. We measured the two
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
sigma_min = models["isotropic", seed0].sigma_min  # in standardised units
floor = two.mean() * np.log(2) + np.log(2 * np.pi * sigma_min**2) + to_radians
print(f"lowest expected NLL with sigma_min = {sigma_min:g}: {floor:.2f} nats")
glue("ch10_nll_floor", f"{floor:.1f}", display=False)
glue("ch10_half_epochs", f"{epochs // 2:,}", display=False)

# %% tags=["nbval-ignore-output"]
checkpoints = {"quarter": epochs // 4, "half": epochs // 2, "3/4": 3 * epochs // 4, "end": epochs}
at = {}
for point, epoch in checkpoints.items():
    at[point] = np.array([histories["isotropic", s].validation[epoch - 1] for s in seeds])
    at[point] += to_radians
    got = report(f"ch10_nll_{point}", at[point], digits=2)
    print(f"after {epoch:4d} epochs: held-out NLL {got} nats")
# In every seed the held-out NLL still falls in the second half of training, and ends far
# above the floor sigma_min sets.
fall = report("ch10_nll_fall", at["half"] - at["end"], at_least=0.3, digits=2)
above = report("ch10_nll_above_floor", at["end"] - floor, at_least=5, digits=1)
print(f"fall in the second half {fall} nats; above the floor at the end {above} nats")

# %% mystnb={"figure": {"caption": "Training loss (solid) and held-out negative log-likelihood (dashed) of the isotropic MDN, one run (seed 0), in nats with the angles in radians, over its full-batch training epochs.", "name": "fig-ch9-nll"}, "image": {"alt": "Two curves, training loss (solid) and held-out NLL (dashed), nearly on top of each other, falling from above zero to several nats below it, with spikes early in training, then smoothly."}}
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
# The held-out NLL goes on falling, from {glue:text}`ch10_nll_half` nats after
# {glue:text}`ch10_half_epochs` epochs to {glue:text}`ch10_nll_end` after
# {glue:text}`ch10_epochs` (mean ± sd over seeds), while the held-out data stay the same;
# the only floor under it is the one $\sigma_{\min}$ sets, {glue:text}`ch10_nll_floor`
# nats, far below (in every seed it falls by at least {glue:text}`ch10_nll_fall_floor`
# nats in the second half, and ends at least {glue:text}`ch10_nll_above_floor_floor`
# nats above that floor). {numref}`fig-ch9-nll` draws both curves of seed 0 over its
# training; spikes, where Adam overshoots (as in {ref}`ch-mdn`), belong to the early epochs,
# before the cosine schedule has lowered the learning rate. So NLLs are only comparable
# between models trained alike: the same data, the same number of epochs, the same
# schedule. The table compares our MDNs after their {glue:text}`ch10_epochs` epochs each:

# %% tags=["nbval-ignore-output"]
nll = {}
for name in ("isotropic", "diagonal", "full", "fixed"):
    nll[name] = np.array([mean_nll(models[name, s], X_test, T_test) for s in seeds]) + to_radians
    got = report(f"ch10_nll_{name}", nll[name], digits=2)
    print(f"{name:<10} held-out NLL {got} nats, worst seed {got.worst:.2f}")
# Seed by seed, the full MDNs trained from the start score worse than the isotropic and
# the diagonal ones.
for name in ("isotropic", "diagonal"):
    report(f"ch10_nll_full_minus_{name}", nll["full"] - nll[name], at_least=0.5, digits=2)
trap = seeds.index(trap_seed)
glue("ch10_nll_trap", f"{nll['full'][trap]:.2f}", display=False)
glue("ch10_nll_trap_iso", f"{nll['isotropic'][trap]:.2f}", display=False)
area = np.ptp(THETA1_RANGE) * np.ptp(THETA2_RANGE)  # rad^2: the uniform density is 1 / area
trap_vs_uniform = np.exp(-nll["full"][trap]) * area
glue("ch10_trap_vs_uniform", f"{trap_vs_uniform:.0f}", display=False)
# The trapped run, on its own, looks respectable: far denser than a uniform guess, though
# worse than the isotropic MDN of the same seed.
report("ch10_trap_vs_uniform_check", [trap_vs_uniform], at_least=10, glue=False)
check(
    "the trapped run scores worse than the isotropic one",
    nll["full"][trap] > nll["isotropic"][trap],
)
print(f"seed {trap_seed}, full: geometric-mean density {trap_vs_uniform:.0f} times the uniform one")

# %% [markdown]
# At equal training the comparison is fair, and it shows the trap: the full-covariance
# MDNs trained from the start score {glue:text}`ch10_nll_full` nats, worse than the
# isotropic ({glue:text}`ch10_nll_isotropic`) and the diagonal
# ({glue:text}`ch10_nll_diagonal`) ones in every seed; the fixed full-covariance ones
# score {glue:text}`ch10_nll_fixed`. On its own, though, the trapped seed's
# {glue:text}`ch10_nll_trap` nats would not raise an eyebrow: the geometric mean of its
# densities at the held-out poses is {glue:text}`ch10_trap_vs_uniform` times the density
# of a uniform spread over the sampled ranges of angles. Only beside the isotropic MDN of
# the same seed after the same number of epochs ({glue:text}`ch10_nll_trap_iso`) does it
# look poor, and nothing in either number says that the model's answers lie between the
# right ones. The end-effector distance says so at once, in units anyone can read. On
# noise-free data, score the task.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch10-elbow
#
# A target lies 0.9 from the shoulder, on the $x_1$ axis. With the law of cosines,
# $|x|^2 = L_1^2 + L_2^2 - 2 L_1 L_2 \cos\theta_2$, compute by hand the two elbow angles
# $\theta_2$ that reach it, then check them with `inverse_kinematics`.
# ```
#
# ```{solution-start} ex-ch10-elbow
# :class: dropdown
# ```
#
# $\cos\theta_2 = (0.64 + 0.04 - 0.81) / 0.32 = -0.40625$, so $\theta_2 = \arccos(-0.40625)$
# or its mirror $2\pi - \theta_2$:

# %%
r = 0.9
elbow = np.arccos((0.8**2 + 0.2**2 - r**2) / (2 * 0.8 * 0.2))
print(f"by hand: theta2 = {elbow:.4f} or {2 * np.pi - elbow:.4f} rad")
poses_r, _ = inverse_kinematics(np.array([[r, 0.0]]))
print("inverse_kinematics:", poses_r[0, :, 1].round(4))

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch10-average
#
# Average the two poses of the same target (both angles). Before computing: where does the
# hand of the averaged pose land, and how far from the target? Then check with
# `forward_kinematics`.
# ```
#
# ```{solution-start} ex-ch10-average
# :class: dropdown
# ```
#
# The two elbow angles average to $\pi$, the straight arm, and the two shoulder angles lie
# symmetrically about the direction of the target, so their average points at it: the hand
# lands on the outer rim, at distance $L_1 + L_2 = 1$ along the same line, a miss of
# $1 - 0.9$:

# %%
averaged = poses_r.mean(axis=1)  # [1, 2]
print("averaged pose (rad):", averaged.round(4))
print(f"hand lands {np.linalg.norm(forward_kinematics(averaged)):.4f} from the shoulder")
print(f"miss: {end_effector_rms(averaged, np.array([[r, 0.0]])):.4f}")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch10-one-component
#
# Train an isotropic MDN with a single component ($K = 1$) from seed 0, with the same
# network and schedule, and read it by its component mean. Predict first: does it reach
# like the $K = 2$ MDNs, or like least squares?
# ```
#
# ```{solution-start} ex-ch10-one-component
# :class: dropdown
# ```
#
# One Gaussian per input has one mean, and maximum likelihood puts it at the conditional
# mean, the average of the two poses, like least squares:

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
single = MDN(2, 2, n_components=1, hidden=hidden)
train(single, "k1", 0)
with torch.no_grad():
    single_pose = t_scale.inverse(single.mixture_parameters(X_test).mu[:, 0])
single_rms = end_effector_rms(single_pose, x_test)
# One run: it misses about as far as least squares of the same seed, not like the K = 2 MDNs.
report("ch10_k1_vs_mse", [single_rms / rms["mse", 0]["best"]], at_least=0.7, at_most=1.3)
print(f"K = 1 (one run) misses by {single_rms:.4f}", end="; ")
print(f"least squares (seed 0) by {rms['mse', 0]['best']:.4f}")
# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch10-uniform
#
# What held-out NLL (nats, angles in radians) does the density that is uniform over the
# sampled ranges of $\theta_1$ and $\theta_2$ score, whatever the target? Compute it by
# hand and set it beside the isotropic MDN's.
# ```
#
# ```{solution-start} ex-ch10-uniform
# :class: dropdown
# ```
#
# The density is $1 / (0.9 \cdot \pi)$ everywhere on the rectangle, so its NLL is
# $\ln(0.9\pi)$ at every pose:

# %%
print(f"uniform: {np.log(0.9 * np.pi):.3f} nats")

# %% tags=["nbval-ignore-output"]
# The MDNs score at least 5 nats better than the uniform density, in every seed.
got = report("ch10_iso_nll", nll["isotropic"], at_most=np.log(0.9 * np.pi) - 5, glue=False)
print(f"isotropic MDN: {got.mean:.2f} nats (mean over seeds)")

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - Bishop's arm, in `mdn_src/problems/arm.py`: forward kinematics, seeded pose sampling, the mirror
#   pose and both solutions of the inverse problem; for
#   {glue:text}`ch10_two_percent` of the held-out targets both poses are in range.
# - Scored by where the hand lands, a least-squares network misses by
#   {glue:text}`ch10_mse_best_rms`: it learns roughly the average of the two poses, a
#   straightened arm that reaches past the target towards the outer rim. The best mode of
#   an isotropic MDN with $K = 2$ components, trained the same way, misses
#   {glue:text}`ch10_iso_ratio_mean:.0f` times less on average over five seeds, and at
#   least {glue:text}`ch10_iso_ratio_floor` times less in every seed, with
#   two-dimensional inputs and targets and no change to the library's training or
#   prediction code.
# - A full covariance is not free: trained from the start, its components can become
#   needles spanning both poses with their means between them (ratio to least squares
#   {glue:text}`ch10_full_ratio` here). Scaled off-diagonal outputs
#   (`off_diagonal="scaled"`) together with a diagonal warm-up (`with_full_covariance`)
#   avoided the trap on all five seeds (worst ratio {glue:text}`ch10_fixed_ratio_worst:.1f`),
#   though with the same training budget they reach less well than isotropic components.
# - Without noise, the negative log-likelihood has no floor set by the data and keeps
#   falling with training: compare it only between models trained alike, and prefer a
#   score of the task.
#
# ## Where to go next
#
# Joint angles are angles: for a joint that turns all the way round,
# `MDN(..., family="von_mises")` gives components that wrap around; our sampled ranges
# are less than a turn wide, so Gaussians sufficed. Try more components ($K = 3$ to 5) and
# watch whether the extra ones are switched off; add noise to the hand positions and see
# the NLL find a floor again; or give the controller a memory and choose, among the MDN's
# modes, the pose nearest the arm's current one.
#
# Next, {ref}`ch-truth` goes back to the toy problem, where the exact density is known,
# and holds the trained MDN against it. The {doc}`API reference <api/index>` documents
# everything used here.
