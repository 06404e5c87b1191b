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
# (ch-data)=
# # The toy problem
#
# Download this chapter as a notebook ({download}`02_data.ipynb <./02_data.ipynb>`) or as a Python
# script ({download}`02_data.py <./02_data.py>`), or open it in Colab or Binder from the rocket icon
# above.
#
# **In this chapter** you will generate the data set every later chapter learns from, and
# learn:
#
# - the generating process of the toy problem of PRML §5.6, and its exact noise;
# - how to draw it reproducibly, with an explicitly seeded generator, in `float32`;
# - the evenly spaced test grids on which we draw predictions, and why the inverse grid is
#   wider;
# - what the inverse problem looks like before we try to solve it, and what its exact
#   conditional density $p(x \mid t)$ is.

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

from mdn_src import check, make_toy_data, oracle, plotting, report, test_grid, toy_curve
from mdn_src.problems import NOISE_HALF_WIDTH

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits

# %% [markdown]
# ## The generating process
#
# The toy problem comes from *Pattern Recognition and Machine Learning*, p. 272
# {cite:p}`bishop2006prml`. An input $x$ is drawn uniformly from $[0, 1]$, passed through a
# smooth curve $f$, and blurred by uniform noise $\epsilon$:
#
# $$
# \begin{aligned}
# x &\sim \mathcal{U}(0, 1), \\
# \epsilon &\sim \mathcal{U}(-0.1, 0.1), \\
# t &= f(x) + \epsilon, \\
# f(x) &= x + 0.3 \sin(2 \pi x).
# \end{aligned}
# $$
#
# The noise is independent of $x$, so for each input the target is spread evenly over a band
# of width 0.2 around the curve, at height $1 / 0.2 = 5$:
#
# $$
# p(t \mid x) =
# \begin{cases}
#   5 & \text{if } |t - f(x)| < 0.1, \\
#   0 & \text{otherwise.}
# \end{cases}
# $$
#
# Its mean is $E[t \mid x] = f(x)$, and its variance is that of a uniform distribution on an
# interval of width $b - a = 0.2$, namely $(b - a)^2 / 12$. Neither density is Gaussian: a
# uniform band has sharp edges that a Gaussian can only blur. We will meet that again when
# we score models against the exact answer.
#
# The code lives in `mdn_src/problems/toy.py`: {py:func}`~mdn_src.problems.toy_curve` is $f$,
# {py:func}`~mdn_src.problems.make_toy_data` draws pairs
# $(x, t)$, and `test_grid` makes the evenly spaced inputs used for drawing predictions.
#
# ## Drawing the data
#
# Every chapter starts from the same 2,500 training points:

# %%
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype, t_train.dtype)

# %% [markdown]
# `make_toy_data` builds its own generator, `numpy.random.default_rng(seed)`, and draws
# first the 2,500 values of $x$, then the 2,500 noise values, from it. It never touches
# NumPy's global random state (`np.random.seed`, `np.random.uniform`). With a global state,
# the data would depend on every random number any earlier cell, or any library, happened to
# draw: run the cells in another order, or add one line that draws a number, and the
# "same" data set changes silently. With an explicit generator the data depend on the seed
# alone, not on what ran before, so every chapter sees identical points:

# %%
x_again, t_again = make_toy_data(2500, seed=0)
x_other, _ = make_toy_data(2500, seed=1)
print("seed 0 again, identical:", np.array_equal(x_train, x_again))
print("seed 1, identical:", np.array_equal(x_train, x_other))

# %% [markdown]
# The arrays are `float32` with shape `[N, 1]`: one row per point, one column per
# dimension, as PyTorch layers expect. `float32` is PyTorch's default floating-point type, so
# `torch.from_numpy` gives tensors that can be fed to a network without a conversion (a
# `float64` input would meet `float32` weights and raise an error). Its seven significant
# digits are plenty for noise of size 0.1.

# %%
print(torch.from_numpy(x_train).dtype, torch.get_default_dtype())

# %% [markdown]
# Chapters {ref}`ch-mdn` and {ref}`ch-sampling` score the trained networks on fresh points
# that training never saw, drawn with a different seed:
# `x_test, t_test = make_toy_data(20_000, seed=1)`. The numbers of the two sets, and the
# ranges the training data cover:

# %%
x_test, t_test = make_toy_data(20_000, seed=1)
glue("ch2_n_train", f"{len(x_train):,}", display=False)
glue("ch2_n_test", f"{len(x_test):,}", display=False)
for name, v in [("x_train", x_train), ("t_train", t_train)]:
    print(f"{name}: [{v.min():.4f}, {v.max():.4f}]")
glue("ch2_t_min", round(float(t_train.min()), 3), display=False)
glue("ch2_t_max", round(float(t_train.max()), 3), display=False)

# %% [markdown]
# So we train on {glue:text}`ch2_n_train` points and test on {glue:text}`ch2_n_test`. The
# training targets run from {glue:text}`ch2_t_min` to {glue:text}`ch2_t_max`.
#
# ## The noise, measured
#
# Since we know $f$, we can recover each point's noise, $\epsilon_n = t_n - f(x_n)$, and
# compare its spread with the theory:

# %%
eps = t_train[:, 0] - toy_curve(x_train[:, 0].astype(np.float64))
var_exact = (2 * NOISE_HALF_WIDTH) ** 2 / 12  # (b - a)^2 / 12
var_seen = float(eps.var())
# standard error of a sample variance: sqrt((E[eps^4] - var^2) / N), E[eps^4] = a^4 / 5
std_err = np.sqrt((NOISE_HALF_WIDTH**4 / 5 - var_exact**2) / len(eps))
glue("ch2_noise_var", round(var_exact, 6), display=False)
glue("ch2_noise_var_seen", round(var_seen, 6), display=False)
glue("ch2_noise_var_se", round(float(std_err), 6), display=False)
print(f"largest |eps| = {np.abs(eps).max():.4f}")
print(f"variance: exact {var_exact:.6f}, measured {var_seen:.6f}, std. error {std_err:.6f}")

# %% [markdown]
# The exact noise variance is $0.2^2 / 12 =$ {glue:text}`ch2_noise_var`; the
# {glue:text}`ch2_n_train` draws give {glue:text}`ch2_noise_var_seen`, well within one
# standard error ({glue:text}`ch2_noise_var_se:.6f`) of it. This number matters later: it is the
# smallest mean squared error any regressor can reach on the forward problem, because even a
# perfect prediction $f(x)$ still misses by $\epsilon$.
#
# ## Test grids
#
# To draw what a network predicts we feed it evenly spaced inputs, 2,500 of them:

# %%
x_grid = test_grid(2500)
t_grid = test_grid(2500, inverse=True)
for name, g in [("x_grid", x_grid), ("t_grid", t_grid)]:
    print(f"{name}: {g.shape}, [{g.min():.2f}, {g.max():.2f}], step {g[1, 0] - g[0, 0]:.6f}")
glue("ch2_t_grid_lo", round(float(t_grid.min()), 2), display=False)
glue("ch2_t_grid_hi", round(float(t_grid.max()), 2), display=False)

# %% [markdown]
# The forward grid `x_grid` covers $[0, 1]$, where the inputs $x$ live. The inverse grid
# `t_grid` feeds the network values of $t$, so it must cover every $t$ the data can contain.
# On $[0, 1]$ the curve runs from $f(0) = 0$ to $f(1) = 1$, and its bump and dip stay inside
# that range; the noise then moves each $t$ by less than 0.1 either way. So $t$ always lies in
# $[-0.1, 1.1]$ and the inverse grid spans {glue:text}`ch2_t_grid_lo` to
# {glue:text}`ch2_t_grid_hi`. Outside it no data exist: $p(t) = 0$ and $p(x \mid t)$ is not
# even defined. Near its two ends data are scarce (only a sliver of $x$ produces such
# extreme $t$), so predictions there rest on few points.

# %%
f_grid = toy_curve(x_grid.astype(np.float64))
print(f"f over [0, 1]: [{f_grid.min():.4f}, {f_grid.max():.4f}]")

# %% [markdown]
# Like the blog post this book grows from, we do not split off a validation set or test how
# the networks extrapolate beyond these ranges: the question here is how well a network can
# represent a conditional density, and the held-out set above answers how well it does so on
# points it has not seen.
#
# ## The forward problem
#
# {numref}`fig-ch2-data` shows the training data with the noiseless curve $f$ drawn through
# them. For every $x$ the points fill a band of constant width around the curve: one input,
# one narrow range of answers. A regression network will have no trouble here
# ({ref}`ch-mse`).

# %% mystnb={"figure": {"caption": "The 2,500 training points of the forward problem, with the noiseless curve $f(x) = x + 0.3 \\sin(2\\pi x)$. Every $t$ lies within 0.1 of the curve.", "name": "fig-ch2-data"}, "image": {"alt": "Scatter plot of 2,500 points in a band of constant width around a curve that rises, dips slightly and rises again as x goes from 0 to 1."}}
fig, ax = plotting.new_axes("$x$", "$t$")
plotting.plot_data(ax, x_train, t_train)
plotting.plot_curve(ax, x_grid, f_grid, "$f(x)$", kind="exact")
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## A preview of the inverse problem
#
# Now swap the roles: the network is given $t$ and must predict $x$. The data are the same
# pairs, drawn with the axes exchanged ({numref}`fig-ch2-inverse`); we keep the names $x$ and
# $t$ and only change which one is the input. The curve becomes an S lying on its side, and
# a vertical line through the middle of the plot crosses it three times.
#
# The exact conditional density follows from Bayes' theorem. Since $p(x) = 1$ on $[0, 1]$,
# $p(x \mid t) \propto p(t \mid x)\, p(x)$ is constant wherever $|f(x) - t| < 0.1$ and zero
# elsewhere:
#
# $$
# \begin{aligned}
# p(x \mid t) &= \frac{1}{|S_t|}
#   \quad \text{for } x \in S_t, \\
# S_t &= \{x \in [0, 1] : |f(x) - t| < 0.1\},
# \end{aligned}
# $$
#
# where $|S_t|$ is the total length of $S_t$. The curve $f$ rises, falls and rises again, so
# $S_t$ is made of up to three intervals, one on each of those pieces of $f$ (its
# *branches*). `oracle.inverse_support` computes them, and `oracle.branch_count` counts the
# non-empty ones; along `t_grid` that tells us where the inverse problem has one branch and
# where it has three:

# %%
n_branches = oracle.branch_count(t_grid[:, 0])  # non-empty intervals of S_t, per t
print("t values with 0, 1, 2, 3 branches:", np.bincount(n_branches, minlength=4).tolist())
frac3 = float((n_branches == 3).mean())
glue("ch2_frac_three", round(frac3, 3), display=False)
print(f"fraction with three branches: {frac3:.4f}")

# %% [markdown]
# (The two values with no branch at all are the grid's end points, $t = -0.1$ and
# $t = 1.1$, which the open band $|f(x) - t| < 0.1$ just fails to reach.) The fraction also
# follows in closed form. Let $f_{\max}$ be the top of the bump and $f_{\min}$ the bottom of
# the dip, where $f'(x) = 1 + 0.6 \pi \cos(2 \pi x) = 0$. The band around $t$ reaches the
# falling middle piece exactly when $f_{\min} - 0.1 < t < f_{\max} + 0.1$, and then it reaches
# the other two as well:

# %%
turns = np.array([oracle.MONOTONE_PIECES[0][1], oracle.MONOTONE_PIECES[1][1]])
f_max, f_min = toy_curve(turns)
lo, hi = f_min - NOISE_HALF_WIDTH, f_max + NOISE_HALF_WIDTH
frac3_exact = (hi - lo) / (t_grid.max() - t_grid.min())
glue("ch2_f_max", round(float(f_max), 3), display=False)
glue("ch2_f_min", round(float(f_min), 3), display=False)
glue("ch2_three_lo", round(float(lo), 3), display=False)
glue("ch2_three_hi", round(float(hi), 3), display=False)
glue("ch2_frac_three_exact", round(float(frac3_exact), 3), display=False)
print(f"three branches for t in ({lo:.4f}, {hi:.4f}): a fraction {frac3_exact:.4f}")

# %% [markdown]
# With $f_{\max} =$ {glue:text}`ch2_f_max` and $f_{\min} =$ {glue:text}`ch2_f_min`, the
# band meets all three branches for $t$ between {glue:text}`ch2_three_lo` and
# {glue:text}`ch2_three_hi`: a fraction {glue:text}`ch2_frac_three_exact` of the range of $t$
# (the grid count gave {glue:text}`ch2_frac_three`). That is the shaded strip in
# {numref}`fig-ch2-inverse`.

# %% mystnb={"figure": {"caption": "The same data with the axes swapped: the inverse problem, whose input is $t$ and whose target is $x$. The curve $x = f^{-1}(t)$ has three branches; in the shaded range of $t$ all three are within reach of the noise band.", "name": "fig-ch2-inverse"}, "image": {"alt": "The training points plotted with t on the horizontal axis and x on the vertical axis form a sideways S; a shaded vertical strip in the middle marks where a vertical line crosses the S three times."}}
fig, ax = plotting.new_axes("$t$", "$x$")
ax.axvspan(lo, hi, color=plotting.COLORS["other"], alpha=0.15, label="three branches")
plotting.plot_data(ax, t_train, x_train)
for k, (a, b) in enumerate(oracle.MONOTONE_PIECES):  # f is monotone on each piece
    on_piece = x_grid[(x_grid >= a) & (x_grid <= b)]
    label = "$f(x)$, axes swapped" if k == 0 else "_nolegend_"
    plotting.plot_curve(ax, toy_curve(on_piece), on_piece, label, kind="exact")
plotting.finish(ax)
plt.show()

# %% [markdown]
# Three branches do not always mean three separate answers. The dip of $f$ is shallow: it
# is only $f_{\max} - f_{\min}$ deep, less than the band's width 0.2, so neighbouring
# intervals of $S_t$ can touch at a turning point of $f$ and merge. A turning point belongs
# to $S_t$ when the band covers its height, so the number of separate pieces of $S_t$ is
# the number of branches minus the number of covered turning points:

# %%
covered = (np.abs(toy_curve(turns) - t_grid) < NOISE_HALF_WIDTH).sum(-1)  # [2500]
n_pieces = n_branches - covered
print("t values with 0, 1, 2, 3 separate pieces:", np.bincount(n_pieces, minlength=4).tolist())
same = np.array_equal(n_pieces, oracle.interval_count(t_grid[:, 0]))
print("the same as oracle.interval_count:", same)
frac_split = float((n_pieces == 2).mean())
glue("ch2_frac_split", round(frac_split, 3), display=False)
print(f"fraction with two separate pieces: {frac_split:.4f}")
both = (f_max - NOISE_HALF_WIDTH, f_min + NOISE_HALF_WIDTH)  # both turning points covered
glue("ch2_one_lo", round(float(both[0]), 3), display=False)
glue("ch2_one_hi", round(float(both[1]), 3), display=False)
print(f"one interval through both turns for t in ({both[0]:.4f}, {both[1]:.4f})")

# %% [markdown]
# For a fraction {glue:text}`ch2_frac_split` of the grid, $S_t$ falls apart into two
# separate pieces with a gap between them; everywhere else it is a single interval. Three
# separate pieces never occur: whenever all three branches are present, the band covers at
# least one turning point. For $t$ between {glue:text}`ch2_one_lo` and
# {glue:text}`ch2_one_hi` it covers both, and $S_t$ is one interval that runs through both
# turning points of $f$. (`oracle.support_intervals` returns these separate pieces, and
# `oracle.interval_count` counts them; the count above agrees with it.) {numref}`fig-ch2-slices` draws the exact $p(x \mid t)$ for two inputs:
# $t = 0.35$, where two pieces are separated by a gap, and $t = 0.8$, where one branch
# remains. The density is flat on $S_t$ at height $1 / |S_t|$, so the shorter $S_t$, the
# taller it stands.

# %% mystnb={"figure": {"caption": "The exact conditional density $p(x \\mid t)$ of the inverse problem for two inputs. At $t = 0.35$ it is spread over two separate pieces of $x$ (three branches, two of which meet where $f$ turns); at $t = 0.8$ over a single interval.", "name": "fig-ch2-slices"}, "image": {"alt": "Two step-shaped density curves over x from 0 to 1: one for t = 0.35 with two flat blocks separated by a gap of zero density, one for t = 0.8 with a single taller flat block."}}
x_fine = np.linspace(0, 1, 4001)
fig, ax = plotting.new_axes("$x$", "$p(x \\mid t)$")
for t_value, kind in [(0.35, "exact"), (0.8, "other")]:
    density = oracle.inverse_density(x_fine, t_value)
    plotting.plot_curve(ax, x_fine, density, f"$t = {t_value}$", kind=kind)
plotting.finish(ax)
plt.show()

# %% [markdown]
# These are the densities a network must reproduce to solve the inverse problem: flat
# blocks with sharp edges and gaps of exactly zero in between. A network trained with
# squared error can only return one number per $t$ ({ref}`ch-inverse`); a mixture of
# Gaussians can cover each block with a few bumps ({ref}`ch-mdn`).
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch02-linearise
#
# Compute by hand. At $t = 0.8$, $S_t$ is a single short interval around the $x^*$ with
# $f(x^*) = 0.8$. Over so short an interval $f$ is nearly a straight line of slope
# $f'(x^*)$, so $|S_t| \approx 0.2 / f'(x^*)$ and $p(x \mid t) \approx f'(x^*) / 0.2$.
# Find $x^*$ (bisection, or read it off {numref}`fig-ch2-data`), evaluate
# $f'(x) = 1 + 0.6 \pi \cos(2 \pi x)$ there, and compare with the exact height
# `oracle.inverse_density(x_star, 0.8)`.
# ```
#
# ```{solution-start} ex-ch02-linearise
# :class: dropdown
# ```

# %%
lo_x, hi_x = 0.7, 1.0  # f rises on this stretch; f(0.7) < 0.8 < f(1.0)
for _ in range(50):  # bisection
    mid = (lo_x + hi_x) / 2
    lo_x, hi_x = (mid, hi_x) if toy_curve(mid) < 0.8 else (lo_x, mid)
x_star = (lo_x + hi_x) / 2
slope = 1 + 0.6 * np.pi * np.cos(2 * np.pi * x_star)
print(f"x* = {x_star:.4f}, f'(x*) = {slope:.3f}")
print(f"linearised height {slope / 0.2:.3f}, exact {oracle.inverse_density(x_star, 0.8):.3f}")

# %% [markdown]
# The straight-line estimate is close: the steeper $f$, the shorter $S_t$ and the taller
# the block. The small difference is $f$'s curvature over the interval.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch02-mass
#
# The three-branch range of $t$ covers a fraction {glue:text}`ch2_frac_three_exact` of the
# range of $t$. Predict: is the fraction of *training points* whose $t$ falls in that range
# larger or smaller? Then count them, and compare with $\int p(t) \, dt$ over the range,
# using `oracle.marginal_density_t` ($p(t) = |S_t| / 0.2$).
# ```
#
# ```{solution-start} ex-ch02-mass
# :class: dropdown
# ```

# %%
in_three = (t_train[:, 0] > lo) & (t_train[:, 0] < hi)
t_mid = np.linspace(lo, hi, 20_001)
mass = float(np.trapezoid(oracle.marginal_density_t(t_mid), t_mid))
print(f"share of the range of t: {frac3_exact:.3f}")
print(f"share of training points: {in_three.mean():.3f}; exact probability {mass:.3f}")

# %% [markdown]
# Larger. Where three branches produce a $t$, three stretches of $x$ send points there, so
# $p(t) = |S_t| / 0.2$ is higher in the middle than at the ends: most of the data lie in
# the hard part of the inverse problem.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch02-seeds
#
# Change the data and predict. The measured noise variance above came from one data set
# (`seed=0`). Draw the training set with seeds 0 to 9 and measure the noise variance of
# each. Before running it: how far from the exact {glue:text}`ch2_noise_var` do you expect
# the ten values to scatter?
# ```
#
# ```{solution-start} ex-ch02-seeds
# :class: dropdown
# ```

# %%
variances = []
for seed in range(10):
    xs, ts = make_toy_data(2500, seed=seed)
    variances.append(float((ts[:, 0] - toy_curve(xs[:, 0].astype(np.float64))).var()))
spread = report("ch2_seed_variances", variances, digits=6, glue=False)
print(f"10 seeds: {spread} (mean ± sd)")
print(f"exact {var_exact:.6f}, predicted spread (standard error) {std_err:.6f}")
check(
    "the ten variances scatter by about one standard error",
    bool(0.5 * std_err < spread.sd < 2 * std_err and abs(spread.mean - var_exact) < std_err),
    f"sd {spread.sd:.6f}, mean {spread.mean:.6f}, standard error {std_err:.6f}",
)

# %% [markdown]
# The values scatter around the exact variance by about one standard error, as the formula
# for the standard error of a sample variance predicts: with 2,500 points, the third
# significant digit of a measured variance is already uncertain.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - The toy problem is $t = x + 0.3 \sin(2 \pi x) + \epsilon$, with $x$ and $\epsilon$
#   uniform; its exact densities, forward and inverse, are known in closed form and live in
#   `mdn_src/problems/oracle.py`.
# - `make_toy_data(2500, seed=0)` draws the same `float32` data in every chapter, from an
#   explicit generator rather than global random state.
# - Predictions are drawn on `x_grid` over $[0, 1]$ and on `t_grid` over $[-0.1, 1.1]$, the
#   whole range that $t$ can take.
# - Swapping the axes gives an inverse problem whose conditional density is uniform on up to
#   three branches; neighbouring branches touch where the band covers a turning point of
#   $f$, so they form at most two separate intervals, with a gap between them.
#
# Next, {ref}`ch-mse` fits the forward problem with a small network trained on squared
# error.
