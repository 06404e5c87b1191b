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
# (ch-intro)=
# # Introduction
#
# Download this chapter as a notebook ({download}`01_introduction.ipynb <./01_introduction.ipynb>`)
# or as a Python script ({download}`01_introduction.py <./01_introduction.py>`), or open it in Colab
# or Binder from the rocket icon above.
#
# **In this chapter** you will learn:
#
# - what a conditional density $p(t \mid x)$ is, and what an ordinary regression network
#   quietly assumes about it;
# - why a single Gaussian is not always enough: in an inverse problem one input can have
#   several right answers, and their average is often a wrong one;
# - what you will build, chapter by chapter.
#
# How to run the notebooks yourself, and where their code lives, is on a page of its own:
# {ref}`running`.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import numpy as np
import torch
from myst_nb import glue

from mdn_src import make_toy_data, oracle, toy_curve
from mdn_src.problems import LENGTHS, forward_kinematics, mirror_pose

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits

# %% [markdown]
# ## A density for every input
#
# Supervised learning hands us pairs $(x, t)$: an input and the target that came with it.
# Noise, or information the input does not carry, means that one $x$ is seen with many
# values of $t$. The complete description of how $t$ depends on $x$ is therefore not a
# function but a **conditional density** $p(t \mid x)$: for each fixed input, a probability
# density over the targets, non-negative and integrating to one over $t$.
#
# Ordinary regression summarises that density by one number. A network $y(x, \mathbf{w})$
# trained to minimise the squared error $\sum_n \big(y(x_n, \mathbf{w}) - t_n\big)^2$ is,
# in probabilistic terms, fitting the model
# $p(t \mid x, \mathbf{w}) = \mathcal{N}\big(t \mid y(x, \mathbf{w}), s^2\big)$: one
# Gaussian whose mean the network predicts and whose variance $s^2$ is the same everywhere
# {cite:p}`bishop2006prml` ({ref}`ch-mse` works this out). Trained on enough data, such a network converges to the
# **conditional mean** $E[t \mid x] = \int t \, p(t \mid x) \, dt$. When $p(t \mid x)$ is a
# single bump, the mean sits on top of it, and that is the answer we wanted.
#
# ## One input, several right answers
#
# Many problems run the other way. A *forward* problem goes from causes to effects and
# usually has one answer: set the two joint angles $(\theta_1, \theta_2)$ of a robot arm, and
# its hand lands at one point. The *inverse* problem, which is the one a robot controller has
# to solve, goes from the effect back to the causes: given the point, which angles reach it?
# For a two-link arm there are two, "elbow up" and "elbow down" {cite:p}`bishop1994mdn`. We
# use the arm of that report throughout the book: links of lengths $L_1 = 0.8$ and
# $L_2 = 0.2$ (the arm is one unit long), the shoulder angle $\theta_1$ measured from the
# $x_1$ axis and the elbow angle $\theta_2$ between the two links, both in radians, so that
# $\theta_2 = \pi$ is the straight arm. The next cell places the arm with
# `forward_kinematics` (from `mdn_src/problems/arm.py`, which {ref}`ch-arm` uses too), finds
# with `mirror_pose` the mirrored elbow that reaches the same point, and then tries the
# average of the two answers.

# %%
L1, L2 = LENGTHS  # link lengths, 0.8 and 0.2
up = np.array([[0.8, 2.0]])  # one pose (theta1, theta2), in radians: [1, 2]
down = mirror_pose(up)  # the mirrored elbow, theta2 -> 2 pi - theta2
average = (up + down) / 2
for name, angles in [("elbow up", up), ("elbow down", down), ("average", average)]:
    hand = forward_kinematics(angles)[0]
    print(f"{name:>10}: angles {np.round(angles[0], 3)} -> hand at {np.round(hand, 3)}")

# %%
miss = np.linalg.norm(forward_kinematics(average) - forward_kinematics(up))
glue("ch1_arm_miss", round(float(miss), 3), display=False)
print(f"the average answer misses the target by {miss:.3f}")

# %% [markdown]
# Both configurations put the hand at the same point, and the average of the two straightens
# the elbow and misses it by {glue:text}`ch1_arm_miss` (on an arm one unit long). That is the
# whole difficulty in one line: for this input, $p(\theta \mid \text{hand position})$ has two
# separate peaks, and a network trained with squared error predicts the mean, which lies
# between them where no right answer is.
#
# The fix proposed by {cite:t}`bishop1994mdn` is to let the network output a whole density
# instead of a single point: a **mixture** of $K$ Gaussians whose mixing coefficients
# $\pi_k$, means $\mu_k$ and standard deviations $\sigma_k$ are all functions of the input,
#
# $$
# \begin{aligned}
# p(t \mid x) = \sum_{k=1}^{K} \pi_k(x) \,
#   \mathcal{N}\big(t \mid {} & \mu_k(x), \\
#   & \sigma_k^2(x)\big).
# \end{aligned}
# $$
#
# That is a **mixture density network** (MDN). It can put one bump on each right answer,
# and tell us how much probability each one carries.
#
# ## The toy problem in one glance
#
# Robot arms need two-dimensional inputs and targets. This book works on a one-dimensional
# toy problem instead, from *Pattern Recognition and Machine Learning* §5.6
# {cite:p}`bishop2006prml`, because we can draw it and compute its exact answer: $x$ is
# uniform on $[0, 1]$ and $t = f(x) + \epsilon$ with $f(x) = x + 0.3 \sin(2 \pi x)$ and
# small uniform noise $\epsilon$ ({ref}`ch-data` has the details). The curve $f$ rises, falls
# and rises again, so when we swap the roles and ask for $x$ given $t$, a middle range of
# $t$ is reached from all three of its rising or falling pieces. The module
# `mdn_src/problems/oracle.py` knows the exact $p(x \mid t)$;
# {py:func}`oracle.inverse_support(t) <mdn_src.problems.oracle.inverse_support>` returns, for each
# of the three pieces of $f$, the interval of $x$ that can produce $t$ from that piece.

# %%
t0 = 0.35
left, right = oracle.inverse_support(t0)  # one interval per monotone piece of f
for k in range(3):
    print(f"piece {k + 1}: x in [{left[k]:.3f}, {right[k]:.3f}]")
starts, ends = oracle.support_intervals(t0)  # touching pieces merged
n_separate = int(oracle.interval_count(t0))
glue("ch1_n_separate", n_separate, display=False)
for a, b in zip(starts[:n_separate], ends[:n_separate], strict=True):
    print(f"separate interval: x in [{a:.3f}, {b:.3f}]")

# %% [markdown]
# Each of the three pieces of $f$ contributes an interval of $x$ that can give
# $t \approx$ 0.35; the second and third meet where $f$ turns round, so together they form
# one stretch, and the possible $x$ make up {glue:text}`ch1_n_separate` separate intervals
# ({py:func}`oracle.support_intervals <mdn_src.problems.oracle.support_intervals>` merges touching
# pieces). The training data of the next chapter agree: here are the points whose $t$ lies
# within 0.01 of $t_0$, sorted by the piece their $x$ comes from.

# %%
x_train, t_train = make_toy_data(2500, seed=0)
x_near = x_train[np.abs(t_train[:, 0] - t0) < 0.01, 0]
turns = [oracle.MONOTONE_PIECES[0][1], oracle.MONOTONE_PIECES[1][1]]  # where f turns round
glue("ch1_f_bump", round(float(toy_curve(turns[0])), 2), display=False)
glue("ch1_f_dip", round(float(toy_curve(turns[1])), 2), display=False)
per_piece = np.bincount(np.digitize(x_near, turns), minlength=3)
glue("ch1_n_near", len(x_near), display=False)
print(f"{len(x_near)} points near t0, per piece: {per_piece.tolist()}")
gap = (x_near[x_near < turns[0]].max(), x_near[x_near > turns[0]].min())
glue("ch1_gap_lo", round(float(gap[0]), 2), display=False)
glue("ch1_gap_hi", round(float(gap[1]), 2), display=False)
print(f"no point has x between {gap[0]:.2f} and {gap[1]:.2f}")

# %%
x_mean = float(x_near.mean())
density = float(oracle.inverse_density(x_mean, t0))
glue("ch1_x_mean", round(x_mean, 3), display=False)
print(f"their mean x = {x_mean:.3f}; exact p(x | t0) there = {density:.3f}")

# %% [markdown]
# None of the {glue:text}`ch1_n_near` points has its $x$ between {glue:text}`ch1_gap_lo` and
# {glue:text}`ch1_gap_hi`; yet their average, {glue:text}`ch1_x_mean`, falls in that gap,
# where the true density is zero. A regression network trained with squared error would
# predict roughly that value for $t_0$: an $x$ that never produces this $t$. The rest of the book builds a network
# that does better, and measures how much better against the exact answer.
#
# ## What you will build
#
# The first part of the book walks through §5.6 of PRML:
#
# - {ref}`ch-data`: the toy problem's generating process, a reproducible data set, test
#   grids, and a first look at the inverse problem and its exact conditional density.
# - {ref}`ch-mse`: a small network trained with squared error fits the forward problem
#   $p(t \mid x)$ well, and why squared error is a Gaussian likelihood in disguise.
# - {ref}`ch-inverse`: the same network on the inverse problem $p(x \mid t)$ predicts the
#   conditional mean, and we see exactly where and why that fails.
# - {ref}`ch-derivation`: the mixture density network derived from the ground up: the
#   mixture, its latent variable, the negative log-likelihood and its gradients.
# - {ref}`ch-implementation`: the same, in code: first a whole MDN in a page of plain
#   PyTorch, then the library's version, computed in a numerically safe way, with what
#   each of its additions buys, measured.
# - {ref}`ch-mdn`: training the MDN on the inverse problem, beside PRML's own smaller
#   setting, and scoring it on held-out data against the best score any model could
#   reach; how to compare two methods over seeds.
# - {ref}`ch-sampling`: using the fitted density: its modes, its component means, samples
#   drawn from it, and its mean, with a figure whose input you can move in the page.
# - {ref}`ch-closing`: what we learned along the walk.
#
# The second part asks how good the result is, and goes beyond the toy: Bishop's robot arm
# ({ref}`ch-arm`), the fitted density against the exact one ({ref}`ch-truth`), choosing the
# number of components and checking calibration ({ref}`ch-k-calibration`), what goes wrong
# in practice ({ref}`ch-pitfalls`), and real data ({ref}`ch-real-data`).
#
# Every chapter is a notebook that you can run, change and re-run; {ref}`running` says how.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch01-straight-arm
#
# Compute by hand. The two elbow angles above are $\theta_2 = 2$ and its mirror
# $2\pi - 2$, so the average answer has $\theta_2 = \pi$: a straight arm. How far from
# the shoulder is the hand of a straight arm, and how far is the target (use the law of
# cosines: $r^2 = L_1^2 + L_2^2 - 2 L_1 L_2 \cos\theta_2$)? Their difference is the least
# the average answer can miss by. Compare with the miss computed above.
# ```
#
# ```{solution-start} ex-ch01-straight-arm
# :class: dropdown
# ```

# %%
r_target = np.sqrt(L1**2 + L2**2 - 2 * L1 * L2 * np.cos(up[0, 1]))
r_straight = L1 + L2
print(f"target at {r_target:.3f} from the shoulder, straight arm reaches {r_straight:.3f}")
print(f"least possible miss {r_straight - r_target:.3f}; actual miss {miss:.3f}")

# %% [markdown]
# The two agree: the two elbows are mirror images about the line from the shoulder to the
# target, so the averaged shoulder angle points the straight arm right at the target, and
# the whole miss is the straight arm reaching too far.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch01-one-branch
#
# Repeat the experiment with the training points near $t_0 = 0.8$ instead of 0.35. Before
# computing: will the mean of their $x$ land where $p(x \mid t_0)$ is zero this time?
# (`oracle.interval_count(0.8)` tells you how many separate intervals there are.)
# ```
#
# ```{solution-start} ex-ch01-one-branch
# :class: dropdown
# ```

# %%
t1 = 0.8
near = x_train[np.abs(t_train[:, 0] - t1) < 0.01, 0]
print(f"separate intervals at t = {t1}: {oracle.interval_count(t1)}")
print(f"{len(near)} points; mean x = {near.mean():.3f}, "
      f"p(x | t) there = {oracle.inverse_density(near.mean(), t1):.3f}")  # fmt: skip

# %% [markdown]
# At $t = 0.8$ only one piece of $f$ is reachable, the conditional density is one flat
# block, and the mean sits in its middle, where the density is positive: for such inputs
# squared error gives a sensible answer.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch01-noise-width
#
# Change the problem and predict. The noise here has half-width 0.1. With half-width
# $h$, the possible $x$ for an input $t$ are those with $|f(x) - t| < h$. The bump of
# $f$ peaks at {glue:text}`ch1_f_bump` and its dip bottoms at {glue:text}`ch1_f_dip`.
# Predict how many separate intervals
# of $x$ there are at $t = 0.45$ for $h$ = 0.03, 0.1 and 0.3, then count them on a fine
# grid of $x$.
# ```
#
# ```{solution-start} ex-ch01-noise-width
# :class: dropdown
# ```

# %%
x_fine = np.linspace(0, 1, 100_001)
for h in (0.03, 0.1, 0.3):
    inside = np.abs(toy_curve(x_fine) - 0.45) < h
    runs = int(np.sum(np.diff(inside.astype(int)) == 1) + inside[0])
    print(f"h = {h}: {runs} separate interval(s) of x")

# %% [markdown]
# A narrow band reaches all three pieces but neither turning point: three separate
# intervals. At 0.1 the band covers the dip (its bottom is within 0.1 of 0.45), so two
# pieces merge. At 0.3 it covers the dip and the bump, and all three pieces form one
# interval. How many separate
# answers an inverse problem has depends on the noise as much as on the curve.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - A conditional density $p(t \mid x)$ describes everything the input says about the
#   target; squared-error regression keeps only its mean.
# - In inverse problems such as the robot arm one input has several right answers, and the
#   mean of right answers can be a wrong answer.
# - On the book's toy problem, a middle range of $t$ is produced by $x$ on all three
#   rising or falling pieces of the curve; touching pieces merge, so the possible $x$ form
#   separate intervals with gaps between them, and the mean of $x$ can fall in a gap.
# - A mixture density network predicts a whole mixture of Gaussians for each input.
#
# Next, {ref}`ch-data` builds the toy problem that every later chapter learns from.
