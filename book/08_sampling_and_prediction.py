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
# (ch-sampling)=
# # Sampling and prediction
#
# Download this chapter as a notebook
# ({download}`08_sampling_and_prediction.ipynb <./08_sampling_and_prediction.ipynb>`) or as a Python
# script ({download}`08_sampling_and_prediction.py <./08_sampling_and_prediction.py>`), or open it
# in Colab or Binder from the rocket icon above.
#
# The MDN of {ref}`ch-mdn` answers every input $t$ with a whole density $p(x \mid t)$. A
# density is the complete answer, but most uses want something smaller: one number, a few
# candidates, a measure of spread, or a bag of plausible values. This chapter extracts each
# of them, and holds each against the exact answer.
#
# **In this chapter** you will learn:
#
# - how the mixing coefficients $\pi_k(t)$ switch components on and off along $t$, and
#   what a slice $p(x \mid t)$ at one input is made of;
# - the approximate conditional mode (the mean of the most probable component), and how to
#   find the true modes of a mixture by a fixed-point iteration;
# - how many modes the exact density has, and how often the MDN's count agrees;
# - how to draw samples from an MDN, for every input at once, without a Python loop;
# - that the mixture's mean is the conditional mean, the very quantity the least-squares
#   network of {ref}`ch-inverse` learnt, and that its variance follows the exact,
#   input-dependent spread;
# - what each of these predictions is good for.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import (
    MDN,
    MixtureParameters,
    approximate_mode,
    check,
    conditional_modes,
    fit_cached,
    make_toy_data,
    mixture_mean,
    mixture_variance,
    mse,
    oracle,
    plotting,
    report,
    sample,
    test_grid,
    toy_curve,
)

torch.set_num_threads(1)  # a run repeats exactly on one machine (not across machines)
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)


# %% [markdown]
# ## The trained models, again
#
# We need the MDNs of {ref}`ch-mdn`: the network of the original post ($K = 30$ components,
# 50 hidden units) trained from three seeds. The same seeds, architecture, data and training
# settings make `fit_cached` find the weights the book ships for that chapter and load them
# (or, where they do not apply, another torch version say, train them: a run repeats
# exactly on one machine, but another machine's last bits end it at another optimum).
# Training is chaotic, so every number below that depends on it is a mean ± standard
# deviation over the three runs, and what the text says of it is checked in the code for
# whichever models were loaded or trained; the figures show one run, seed 0. As in
# {ref}`ch-mdn`, the network's input is $t$ and its target is $x$.

# %% tags=["nbval-ignore-output"]
SEEDS = (0, 1, 2)  # seed 0 is the model shown in the figures
models = {}
for seed in SEEDS:
    torch.manual_seed(seed)
    models[seed] = MDN(1, 1, n_components=30, hidden=50)
    history = fit_cached(
        models[seed],
        t_train,
        x_train,
        name=f"ch7-mdn-seed{seed}",
        epochs=3000,
        lr=0.008,
        shipped="models/cache",
    )
    print(f"seed {seed}: final training NLL {history[-1]:.4f}")
mdn = models[0]

# %% [markdown]
# We ask each model for its mixture at 2,500 evenly spaced inputs covering the whole range
# of $t$, $[-0.1, 1.1]$, and cut the result from the autograd graph: from now on we only
# read it.

# %%
t_grid = test_grid(2500, inverse=True)  # [2500, 1]
grid_params = {seed: m.mixture_parameters(t_grid).detach() for seed, m in models.items()}
params = grid_params[0]  # seed 0, for the figures
print("pi", tuple(params.pi.shape), "mu", tuple(params.mu.shape))

# %% [markdown]
# The functions of this chapter live in the package `mdn_src/inference/` ({doc}`reference
# <api/inference>`): sampling and moments in `predict.py`, the mode search in `modes.py`
# (with its complete one-dimensional search in `modes_1d.py`). They all take these
# {py:class}`~mdn_src.mixture.MixtureParameters` and work on all 2,500 inputs at once.
#
# ## Which components carry weight
#
# Before extracting anything, we look at how the network uses its 30 components. PRML
# (Fig. 5.21a) plots the mixing coefficients $\pi_k(t)$ against $t$; with 30 components we
# draw thick only those whose $\pi_k$ reaches 0.01 somewhere on the grid, and the rest as
# faint lines.

# %% mystnb={"figure": {"caption": "The mixing coefficients $\\pi_k(t)$ of one run (seed 0) against $t$. Each component whose $\\pi_k$ reaches 0.01 somewhere is a thick line with a colour and line style of its own, labelled with its index $k$; the other components are faint thin lines near zero.", "name": "fig-ch08-pi"}, "image": {"alt": "A few thick curves between 0 and 1: one starts near 1 at small t and falls towards 0 in the middle of the range, one rises from 0 to near 1 at large t, and the others rise and fall in between; all other lines lie flat at zero."}}
fig, ax = plotting.new_axes("$t$", r"$\pi_k(t)$")
plotting.plot_mixing_coefficients(ax, t_grid, params, threshold=0.01)
plotting.finish(ax)
plt.show()

# %% tags=["nbval-ignore-output"]
used = [int((p.pi.max(0).values >= 0.01).sum()) for p in grid_params.values()]
glue("ch08_used_components", ", ".join(map(str, used)), display=False)
glue("ch08_used_seed0", used[0], display=False)
print("components with pi >= 0.01 somewhere, per seed:", used)
# A few of the 30 components carry weight, and at either end of the range of t one
# component carries almost all of it, in every run.
report("ch08_used", used, at_least=3, at_most=10, glue=False)
ends = [float(p.pi[i].max()) for p in grid_params.values() for i in (0, -1)]
report("ch08_end_weight", ends, at_least=0.9, glue=False)
owners = [p.pi[[0, -1]].argmax(-1).tolist() for p in grid_params.values()]
check("different components carry the two ends", all(a != b for a, b in owners), f"{owners}")

# %% [markdown]
# Only {glue:text}`ch08_used_seed0` of the 30 components in {numref}`fig-ch08-pi` ever get
# a mixing coefficient of 0.01 or more (in the three runs: {glue:text}`ch08_used_components`);
# the others are switched off at every $t$. In every run, one component has $\pi_k$ near 1
# at the smallest $t$, a different one has it near 1 at the largest $t$, and in between the
# weight passes from component to component.
# {numref}`fig-ch08-means` and {numref}`fig-ch08-slices` below show what each of them
# carries. How many components a problem needs, measured over seeds rather than read off
# one run, is the subject of {ref}`ch-k-calibration`.
#
# ## One answer: the approximate mode
#
# If we must give one value of $x$ for a given $t$, the most probable one, the conditional
# **mode**, is the natural choice when the density has several branches: unlike the mean,
# it lies on a branch. A mixture's mode has no closed form, so PRML (p. 277) suggests a
# shortcut: take the component with the largest mixing coefficient $\pi_k$ and return its
# mean $\mu_k$. `approximate_mode` does exactly that.

# %%
approx = approximate_mode(params)  # [N, D]
print(tuple(approx.shape))

# %% mystnb={"figure": {"caption": "The approximate conditional mode, the mean of the most probable component, at each of 2,500 values of t (dots, orange), over the training data (hollow circles); one run (seed 0).", "name": "fig-ch08-approx-mode"}, "image": {"alt": "Dots over the S-shaped cloud of training points; they follow one branch at a time, in pieces that jump from branch to branch in the middle range of t."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_grid, approx, "mean of the most probable component", alpha=0.8)
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch08-approx-mode` shows a prediction that follows the branches of the data,
# unlike the least-squares curve of {ref}`ch-inverse`. Where three branches coexist, it
# follows one of them and jumps to another when a different component becomes the most
# probable. Those jumps are not a bug: any single-valued answer to a multi-valued question
# has to choose.
#
# ## The true modes
#
# The shortcut can miss. Two overlapping components can add up to a single peak that lies
# between their means; a wide component can carry the largest $\pi_k$ and still be lower
# than a narrow one. The exact modes are the points where the derivative of the mixture
# density vanishes. Differentiating {eq}`eq-mixture` with respect to $x$ and setting the
# result to zero gives
#
# $$
# \sum_k \pi_k \mathcal{N}(x \mid \mu_k, \sigma_k^2)\,
# \frac{\mu_k - x}{\sigma_k^2} = 0,
# $$
#
# which, divided by the density at $x$ and rearranged, reads
#
# $$
# x = \frac{\sum_k \gamma_k(x)\, \mu_k / \sigma_k^2}
#          {\sum_k \gamma_k(x) / \sigma_k^2},
# $$
#
# where $\gamma_k(x)$ are the responsibilities of {eq}`eq-responsibility`, evaluated at the
# point $x$ instead of at a target. The right-hand side is not a solution (the $\gamma_k$
# depend on $x$), but it is a **fixed-point iteration**: start somewhere, plug $x$ in, get
# a new $x$, repeat. Each step moves $x$ to a weighted average of the means, pulled towards
# the components that explain it best. This is the *mean-shift* algorithm; for a Gaussian
# mixture no step ever lowers the density, so the iteration climbs to a mode, and starting
# one ascent from every component mean is the way to look for all of them
# {cite:p}`carreira2000modes`.
#
# `conditional_modes` runs all these ascents at once. It uses this step where the density
# curves the wrong way for Newton's method, and a Newton step near a peak (which converges
# in a few steps where mean-shift crawls), stops an ascent when its next step would be tiny
# compared with the components' widths, and then checks every end point: it counts as a
# mode only if the density falls on both sides of it. Ascents that end within 1% of a width
# of each other are one mode. An ascent can still miss a bump whose basin holds no mean,
# such as a shallow one between a broad component and a narrow, heavy one, so in one
# dimension a certified search of the whole line follows: it cuts the line into cells on
# which bounds on the density's first two derivatives prove that the slope changes sign
# nowhere, or exactly once (then it locates the maximum), and halves every other cell. Up
# to float64 rounding it reports every local maximum, missing only a bump that fits, with
# the dip beside it, in a cell narrower than $10^{-9}$ times the narrowest component
# (`tol`); that includes tiny bumps far from the data, and `significant` keeps those at
# least 5% as high as the highest one.
#
# The search costs far more than one `argmax`, so we run it at every 10th input of the
# grid, 250 values of $t$, for each of the three models.

# %% tags=["nbval-ignore-output"]
t_coarse = t_grid[::10]  # [250, 1]
coarse_params = {seed: p.map(lambda v: v[::10]) for seed, p in grid_params.items()}
modes = {seed: conditional_modes(p) for seed, p in coarse_params.items()}
n_modes = {seed: m.significant(0.05).sum(-1).numpy() for seed, m in modes.items()}  # [250]
for seed in SEEDS:
    print(f"seed {seed}: inputs with 1, 2, ... significant modes:", np.bincount(n_modes[seed])[1:])

# %% mystnb={"figure": {"caption": "The modes of the MDN's density at 250 values of t, found by ascents from every component mean, over the training data (hollow circles); one run (seed 0). Small dots in green: every mode at least 5% as high as the highest; larger dots in orange: the highest mode.", "name": "fig-ch08-modes"}, "image": {"alt": "Over the S-shaped training data, small dots follow the branches of the data, with a few extra dots in the middle range of t, some of them where the data have no branch yet. Larger dots mark the highest mode, which switches from the lower to the upper branch in the middle."}}
keep = modes[0].significant(0.05)  # [250, C], True for each distinct, significant mode
t_of_mode = np.repeat(t_coarse, keep.shape[1], axis=1)  # the input of each entry, [250, C]
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_of_mode[keep], modes[0].location[..., 0][keep], "modes", "other")
plotting.plot_points(ax, t_coarse, modes[0].highest, "highest mode", alpha=0.8)
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## How many modes should there be?
#
# The exact $p(x \mid t)$ is uniform on the set $S_t$ of all $x$ whose curve value lies
# within 0.1 of $t$, and {ref}`ch-data` showed that $S_t$ is one interval or two separate
# ones, never three: where three branches of $f$ reach $t$, the noise band covers at least
# one turning point of $f$, and the two branches that meet there form one interval. On
# each interval the exact density is flat, so its **modes are these intervals**, each a
# plateau: one or two per $t$. That is the count the MDN's modes should match.
# `oracle.interval_count` gives it at the inputs of the mode search (and
# `oracle.branch_count` counts the branches):

# %%
t_c = t_coarse[:, 0]
n_intervals = oracle.interval_count(t_c)  # [250]
n_branches = oracle.branch_count(t_c)
f_max, f_min = toy_curve(np.array([oracle.MONOTONE_PIECES[0][1], oracle.MONOTONE_PIECES[1][1]]))
glue("ch08_f_max", round(float(f_max), 2), display=False)  # f's local maximum
glue("ch08_f_min", round(float(f_min), 2), display=False)  # and minimum
glue("ch08_one_lo", round(float(f_max - 0.1), 3), display=False)  # both turning points
glue("ch08_one_hi", round(float(f_min + 0.1), 3), display=False)  # within 0.1 of t
reach = n_intervals > 0  # the t that some x can produce (all but the grid's end points)
print("largest number of disjoint intervals:", n_intervals.max())
print(
    "three branches but one interval at t =",
    np.round(t_c[(n_branches == 3) & (n_intervals == 1)], 3),
)

# %% [markdown]
# The local maximum of $f$ is {glue:text}`ch08_f_max` and its local minimum
# {glue:text}`ch08_f_min`; for $t$ between {glue:text}`ch08_one_lo` and
# {glue:text}`ch08_one_hi` both are within 0.1 of $t$, and the three branches make a single
# interval. We compare the counts at the inputs that some $x$ can produce, for each run.

# %% tags=["nbval-ignore-output"]
match, fewer, outside = [], 0, []
three = oracle.branch_count(t_grid[:, 0]) == 3  # three branches: t between the two folds
t_lo, t_hi = t_grid[three, 0].min(), t_grid[three, 0].max()
for seed in SEEDS:
    n, e = n_modes[seed][reach], n_intervals[reach]
    match.append(100 * np.mean(n == e))
    fewer += int(np.sum(n < e))  # inputs where the MDN has fewer modes than intervals
    t_off = t_c[reach][n != e]
    outside.append(100 * np.mean((t_off < t_lo) | (t_off > t_hi)))
glue("ch08_fewer", fewer, display=False)
glue("ch08_n_compared", 3 * int(reach.sum()), display=False)
glue("ch08_outside_pct", ", ".join(f"{v:.0f}" for v in outside), display=False)
glue("ch08_t_lo", round(float(t_lo), 2), display=False)
glue("ch08_t_hi", round(float(t_hi), 2), display=False)
got = report("ch08_modes_match_pct", match, at_least=50, digits=1)
print(f"one significant mode per interval: {got}% of the inputs")
# Where the counts disagree, the MDN has more modes (fewer at under 2% of the inputs), and
# both kinds of extra modes occur: outside the three-branch range in every run, and inside.
check("fewer modes than intervals at under 2% of the inputs", fewer < 0.02 * 3 * reach.sum())
report("ch08_outside", outside, at_least=5, at_most=99, glue=False)
print(f"inputs with fewer modes than intervals, all runs: {fewer} of {3 * reach.sum()}")
print("of the disagreements, outside the three-branch range (%):", np.round(outside).tolist())

# %% [markdown]
# The number of significant modes equals the number of intervals at
# {glue:text}`ch08_modes_match_pct`% of the inputs (mean ± sd over the three runs). Where
# they disagree, the MDN almost always has *more* modes than the exact density: the inputs
# where it has fewer number {glue:text}`ch08_fewer` of the {glue:text}`ch08_n_compared` of
# the three runs.
# The extra modes come in two kinds, visible in {numref}`fig-ch08-modes`. First, between
# the folds the MDN can put two modes on one exact interval: on the single interval of the
# narrow middle range, the components that carried separate intervals on either side can
# stay separate peaks, and a long interval can get two peaks from two components side by
# side. Second, a new interval appears abruptly at the fold $t =$
# {glue:text}`ch08_t_lo` (and one vanishes at $t =$ {glue:text}`ch08_t_hi`), far from the
# others; the network's outputs change smoothly with $t$, so the component that carries
# the new branch fades in over a range of $t$ and leaves a small but significant bump
# where the exact density has nothing yet. The share of the disagreements outside the
# three-branch range, that is of this second kind, is {glue:text}`ch08_outside_pct`% in the
# three runs (both kinds occur in every run). The
# *highest* mode is decided by those ripples and bumps, since the true density is equally
# high on every interval.
#
# Where does the shortcut differ from the highest mode? We count the inputs where they are
# more than 0.02 apart.

# %% tags=["nbval-ignore-output"]
differ_pct, inside = [], []
for seed in SEEDS:
    gap = (approximate_mode(coarse_params[seed]) - modes[seed].highest).abs()[:, 0].numpy()
    differ = gap > 0.02  # [250]
    differ_pct.append(100 * differ.mean())
    inside.append(bool(np.all((t_c[differ] >= t_lo) & (t_c[differ] <= t_hi))))
got = report("ch08_approx_differs_pct", differ_pct, at_most=40, digits=1)
print(f"shortcut and highest mode differ at {got}% of the inputs")
print("in every run, all of them between the two folds:", all(inside))
check("in every run, the shortcut differs only between the folds", all(inside), f"{inside}")

# %% [markdown]
# At {glue:text}`ch08_approx_differs_pct`% of the inputs the two disagree, and in each of
# the three runs all of them lie between the folds, $t \in [$
# {glue:text}`ch08_t_lo`, {glue:text}`ch08_t_hi` $]$, where several components overlap and
# the shortcut can pick a component that is not the highest peak. Elsewhere, the most
# probable component's mean is the mode to within 0.02, and it costs one `argmax`.
#
# ## All the components
#
# The modes summarise the density; the component means show how the MDN built it. The post
# plotted all $K$ means at every input; we draw each mean with a size proportional to its
# $\pi_k$, so that a component the network has switched off at that $t$ disappears.
# `plot_component_means` in `mdn_src/plotting/` does this at every 10th grid input.

# %% mystnb={"figure": {"caption": "The means of all $K = 30$ components at 250 values of t, each drawn with an area proportional to its mixing coefficient (filled dots, orange), over the training data (hollow circles); one run (seed 0).", "name": "fig-ch08-means"}, "image": {"alt": "Over the S-shaped training data, a thick band of dots follows the lower branch up to the middle of the range of t and another the upper branch from there on; more bands cross the middle range between them, each thinning into a faint line where its weight fades."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_component_means(
    ax, t_grid, params, r"component means $\mu_k$ (size $\propto \pi_k$), $K = 30$"
)
ax.set_ylim(-0.15, 1.15)  # the means of switched-off components wander far outside
plotting.finish(ax)
plt.show()

# %% [markdown]
# Drawn at equal size, as in the post, the means of the idle components make a tangle of
# lines; weighted by $\pi_k$, {numref}`fig-ch08-means` shows only the
# {glue:text}`ch08_used_seed0` components of {numref}`fig-ch08-pi`. Each outer branch is
# carried by one component whose mean slides along it as $t$ changes and which fades out
# where its branch ends. The components in between follow the intervals of $S_t$ rather
# than the branches: below the middle of the range, the middle branch and the upper one
# form one long interval, and above the middle, the middle branch and the lower one do. A
# component that carries such an interval can appear, with a small weight, before the
# fold at which its interval begins: those are the extra modes outside the three-branch
# range in {numref}`fig-ch08-modes`.
#
# ## One input at a time: slices of the density
#
# The figures so far show the mixture along $t$. At a single input, $p(x \mid t)$ is a
# curve over $x$, and we can lay it over the exact one and see how the weighted components
# $\pi_k \mathcal{N}(x \mid \mu_k, \sigma_k^2)$ add up to it. We take three inputs: one
# reached by one branch only, one just before the fold at $t =$ {glue:text}`ch08_t_lo`, and
# one between the folds where three branches make two intervals.

# %%
t_slices = np.array([0.1, 0.28, 0.4], dtype=np.float32)
x_slice = np.linspace(-0.15, 1.15, 521)
exact_slices = oracle.inverse_density(x_slice[None, :], t_slices[:, None].astype(np.float64))
slice_params = mdn.mixture_parameters(torch.from_numpy(t_slices[:, None])).detach()
print("intervals:", oracle.interval_count(t_slices), "branches:", oracle.branch_count(t_slices))

# %% mystnb={"figure": {"caption": "Slices $p(x \\mid t)$ at three inputs, one run (seed 0): the MDN's mixture density (solid, orange), the weighted components $\\pi_k f_k(x)$ with $\\pi_k \\ge 0.01$ that add up to it (thin dash-dotted, green), and the exact density (dashed).", "name": "fig-ch08-slices"}, "image": {"alt": "Three panels. At t = 0.1 one narrow dashed box near x = 0.05 with a taller solid bump over it. At t = 0.28 one dashed box at small x with a solid bump over it, and perhaps a second solid bump where the exact density is zero. At t = 0.4 two dashed boxes, a narrow one near x = 0.15 and a wide one from about 0.5 to 0.8; the solid curve has one Gaussian peak over each, taller than the narrow box and rounded over the wide one, and each dash-dotted component lies on the solid curve."}}
fig, axes = plotting.plot_mixture_slices(
    x_slice, slice_params, t_slices, exact=exact_slices, label="MDN (seed 0)"
)
plt.show()

# %% tags=["remove-cell", "nbval-ignore-output"]
# What the text below says of the three slices of this run, checked.
pi_s, mu_s, sigma_s = slice_params.pi, slice_params.mu[..., 0], slice_params.sigma[..., 0]
report("ch08_slice_main_weight", [float(pi_s[0].max())], at_least=0.9, glue=False)  # t = 0.1
left, right = oracle.support_intervals(float(t_slices[2]))  # t = 0.4: two intervals
on, off = [], []  # per interval: the component whose mean is nearest it, and how far outside
for lo, hi in zip(left[:2], right[:2], strict=True):
    outside_by = ((mu_s[2] - (lo + hi) / 2).abs() - (hi - lo) / 2).clamp(min=0)  # [K]
    outside_by[pi_s[2] < 0.1] = np.inf  # only components of weight 0.1 or more
    on.append(int(outside_by.argmin()))
    off.append(float(outside_by.min()))
check(
    "at t = 0.4, one component of weight >= 0.1 on each interval",
    on[0] != on[1] and max(off) < 0.02,
    f"{on}, {off}",
)
check(
    "the component on the short interval is the narrower",
    bool(sigma_s[2, on[0]] < sigma_s[2, on[1]]),
)
lo, hi = oracle.support_intervals(float(t_slices[1]))
outside_box = (mu_s[1] < lo[0] - 0.05) | (mu_s[1] > hi[0] + 0.05)  # t = 0.28: one box
early = float(pi_s[1][outside_box].sum())
glue("ch08_early_weight_pct", f"{100 * early:.1f}", display=False)

# %% [markdown]
# At $t = 0.1$ ({numref}`fig-ch08-slices`, left) one component does the work, and a
# Gaussian stands in for a box; any weight left on a component far away, one not quite
# switched off, matters for the variance (see the exercises). At $t = 0.4$ (right) the
# exact density is two boxes, and the MDN puts one component on each: a narrow one on the
# short interval, a wide one on the long interval that the middle and upper branches make
# together. At $t = 0.28$ (middle), just before the fold, the exact density is still a
# single box; the component that will carry the new interval can already be there, fading
# in before the fold: the bump of the second kind of extra mode. In this run the
# components centred away from the box carry {glue:text}`ch08_early_weight_pct`% of the
# weight there.
#
# Three inputs are a small sample. On the site, where no Python runs, {numref}`fig-ch08-slider`
# draws the same slice at any input its slider sets, from $t =$ {glue:text}`ch08_slider_lo`
# to {glue:text}`ch08_slider_hi` in steps of {glue:text}`ch08_slider_step`: a few lines of
# JavaScript compute the mixture of the same run from its weights, which
# `plotting.interactive_density` writes into the page. Nothing is fetched from anywhere, so
# the figure also works offline and from a downloaded page; {numref}`fig-ch08-slices` is its
# static fallback.

# %%
t_slider = np.round(np.linspace(-0.1, 1.1, 121), 2)  # the slider's positions
glue("ch08_slider_lo", float(t_slider[0]), display=False)
glue("ch08_slider_hi", float(t_slider[-1]), display=False)
glue("ch08_slider_step", round(float(t_slider[1] - t_slider[0]), 2), display=False)

# %% mystnb={"figure": {"caption": "The slice $p(x \\mid t)$ at the input the slider sets, one run (seed 0), computed in the page from the model's weights: the MDN's mixture density (solid, orange), the weighted components with $\\pi_k \\ge 0.01$ (thin dash-dotted, green), the modes at least 5% as high as the highest (dots) and the exact density (dashed). The vertical axis fits each input.", "name": "fig-ch08-slider"}} tags=["nbval-ignore-output"]
t_start = 0.4  # the slider's first position: the right panel of the slices above
slider = plotting.interactive_density(
    mdn, t_slider, x_slice, exact=oracle.inverse_density, start=t_start, label="MDN (seed 0)"
)
slider

# %% tags=["remove-cell", "nbval-ignore-output"]
# What the text below says of the figure's first position in this run, checked; and the page
# carries this run's weights, every one exactly (the JavaScript reads them from there).
page_data = slider.html.split('class="mdn-data">', 1)[1].split("</script>", 1)[0]
in_page, exported = json.loads(page_data.replace("<\\/", "</")), plotting.export_mdn(mdn)
check("the figure carries the model's weights exactly",
      {key: in_page[key] for key in exported} == exported)  # fmt: skip
start_modes = conditional_modes(mdn.mixture_parameters(torch.tensor([[t_start]])).detach())
peaks = start_modes.location[0, :, 0][start_modes.significant(0.05)[0]].numpy()  # [modes]
glue("ch08_slider_start_modes", len(peaks), display=False)
boxes = zip(*oracle.support_intervals(t_start), strict=True)
on_box = [bool(np.any((peaks >= lo) & (peaks <= hi))) for lo, hi in boxes if np.isfinite(lo)]
check("at the slider's start, a significant mode on each box", all(on_box), f"{peaks}")

# %% [markdown]
# The slider starts at $t = 0.4$, the input of the right panel of {numref}`fig-ch08-slices`,
# where this run has a significant mode on each box of the exact density
# ({glue:text}`ch08_slider_start_modes` in all).
#
# ## Many answers: sampling
#
# Sometimes no single value will do: a planner wants to consider every plausible $x$, or a
# simulation must propagate the uncertainty further. Then we draw samples from
# $p(x \mid t)$. A Gaussian mixture is sampled in two steps, *ancestral sampling*: pick a
# component $k$ with probabilities $\pi_k$ (the latent variable of {eq}`eq-latent-prior`),
# then draw $x$ from that component's Gaussian.
#
# To hold the samples against the data, the inputs must be distributed like the data's.
# The grid's inputs are not (it spaces $t$ evenly, while $p(t)$ is higher where three
# branches overlap), so we take the inputs $t$ of 2,500 held-out points, drawn from the true
# process like the training set, and draw one $x$ from the MDN for each: a synthetic data
# set, which should look like a fresh sample of the true process.

# %%
x_test, t_test = make_toy_data(20_000, seed=1)  # held-out points, used again below
t_new = torch.from_numpy(t_test[:2500])  # inputs distributed like the training data's
synthetic = sample(mdn.mixture_parameters(t_new).detach(), 1, torch.Generator().manual_seed(0))
print(tuple(synthetic.shape))  # [S = 1 sample, N = 2500 inputs, D = 1]

# %% mystnb={"figure": {"caption": "A synthetic data set from the MDN, one run (seed 0): one sample x from $p(x \\mid t)$ for each of 2,500 held-out inputs t (dots, orange), over the training data (hollow circles).", "name": "fig-ch08-samples"}, "image": {"alt": "Dots scattered over the S-shaped training data, filling its band with the same density along it, with three branches in the middle range of t and a few strays."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_new, synthetic[0], "one sample per held-out input", alpha=0.5)
plotting.finish(ax)
plt.show()

# %% [markdown]
# Most samples in {numref}`fig-ch08-samples` fall on the band of the training data, as a
# fresh sample of the true process would, with a density along it roughly like the data's:
# the MDN has learnt where $x$ can be *and* how often. Some do not: they lie where the exact
# density is zero, in the Gaussians' tails past the edges of a box, or on the components
# that appear before their fold. The oracle counts them, for each run:

# %% tags=["nbval-ignore-output"]
strays = []
for m in models.values():
    drawn = sample(m.mixture_parameters(t_new).detach(), 1, torch.Generator().manual_seed(0))
    strays.append(100 * np.mean(oracle.inverse_density(drawn[0].numpy(), t_new.numpy()) == 0))
# A minority of the samples, in every run.
got = report("ch08_stray_pct", strays, at_most=25, digits=1)
print(f"samples where the exact density is zero: {got}%")

# %% [markdown]
# {glue:text}`ch08_stray_pct`% of the samples fall where no $x$ of the true process could.
# {ref}`ch-truth` holds the whole density against the exact one. The post drew samples with
# three nested Python loops, over points, samples and components. `sample` makes no Python
# loop at all: one call to `torch.multinomial` picks the components of all samples, one
# `gather` fetches their means and standard deviations, and one `torch.randn` supplies the
# noise. `benchmarks/bench_mdn.py` times both ways side by side (run `make bench`).
#
# ## The average answer and its spread: mean and variance
#
# A mixture's mean and variance have closed forms (PRML eqs. 5.158 to 5.160). With
# $\pi_k$, $\mu_k$ and $\sigma_k$ all functions of $t$, the mean is the $\pi$-weighted
# average of the component means,
#
# $$
# \mathbb{E}[x \mid t] = \sum_k \pi_k\, \mu_k ,
# $$
#
# and the variance adds each component's own variance to the spread of its mean around
# that average:
#
# $$
# \begin{aligned}
# s^2(t) &= \sum_k \pi_k \Big( \sigma_k^2 \\
#   &\quad + \big(\mu_k - \mathbb{E}[x \mid t]\big)^2 \Big).
# \end{aligned}
# $$
#
# `mixture_mean` and `mixture_variance` compute them. The mean is the conditional mean, the
# quantity a network trained by least squares converges to; the variance is the
# conditional variance, which a least-squares fit does not model at all: it implies one
# noise level for every input. The oracle computes both exactly for our problem
# (`oracle.conditional_mean` and `oracle.conditional_variance`).

# %%
exact_mean = oracle.conditional_mean(t_grid[:, 0], inverse=True)  # NaN where no x gives t
exact_var = oracle.conditional_variance(t_grid[:, 0], inverse=True)
ok = np.isfinite(exact_var)
near_fold = (np.abs(t_grid[:, 0] - t_lo) < 0.05) | (np.abs(t_grid[:, 0] - t_hi) < 0.05)
constant_mae = np.mean(np.abs(oracle.bayes_mse(inverse=True) - exact_var[ok]))
glue("ch08_constant_var_mae", round(float(constant_mae), 4), display=False)
glue("ch08_var_min", f"{exact_var[ok].min():.5f}", display=False)
glue("ch08_var_max", round(float(exact_var[ok].max()), 3), display=False)
glue("ch08_near_fold_pct", round(float(100 * near_fold[ok].mean())), display=False)
print(f"a constant variance (the Bayes MSE): {constant_mae:.4f}")
print(f"inputs within 0.05 of a fold: {100 * near_fold[ok].mean():.1f}% of the grid")

# %% tags=["nbval-ignore-output"]
mean_mse, var_mae, near_share = [], [], []
for seed in SEEDS:
    mean = mixture_mean(grid_params[seed])[:, 0].numpy()
    var = mixture_variance(grid_params[seed])[:, 0].numpy()
    var_err = np.abs(var - exact_var)[ok]
    mean_mse.append(np.mean((mean - exact_mean)[ok] ** 2))
    var_mae.append(np.mean(var_err))
    near_share.append(100 * var_err[near_fold[ok]].sum() / var_err.sum())
# In every run: the means agree closely; the variance is closer than a constant one;
# the inputs near the folds carry well over their share of the variance's error.
got = report("ch08_mean_grid_mse", mean_mse, at_most=0.01, digits=4)
print(f"mean: squared difference on the grid {got}")
got = report("ch08_var_mae", var_mae, at_most=0.9 * constant_mae, digits=4)
print(f"variance: absolute difference on the grid {got}")
got = report(
    "ch08_var_err_near_folds", near_share, at_least=1.5 * 100 * near_fold[ok].mean(), digits=0
)
print(f"share of the variance's error within 0.05 of a fold: {got}%")

# %% mystnb={"figure": {"caption": "The conditional mean (top) and variance (bottom) against t: the MDN's mixture mean and variance (solid, orange), one run (seed 0), and the exact ones (dashed); the top panel also shows the training data (hollow circles).", "name": "fig-ch08-moments"}, "image": {"alt": "Top: a solid curve rises from lower left to upper right across the middle of the S-shaped data, close to a dashed curve that leaps up steeply twice. Bottom: the dashed exact variance is near zero at both ends and jumps up to about 0.07 at two values of t, dipping to about 0.04 between them; the solid curve follows it with smooth humps that round off the jumps."}}
fig, (ax_mean, ax_var) = plotting.plot_mean_and_variance(
    t_grid,
    mixture_mean(params),
    mixture_variance(params),
    exact_mean=exact_mean,
    exact_variance=exact_var,
    data=(t_train, x_train),
    label="MDN (seed 0)",
)
plt.show()

# %% [markdown]
# The two means in {numref}`fig-ch08-moments` (top) agree closely, except near the folds,
# $t =$ {glue:text}`ch08_t_lo` and $t =$ {glue:text}`ch08_t_hi`: there an interval of $x$
# appears (or vanishes) far from the others, and the exact mean leaps within a very short
# range of $t$; the MDN's smooth curve rounds those leaps off. Over the grid the mean
# squared difference is {glue:text}`ch08_mean_grid_mse`.
#
# The variance (bottom) is the payoff a least-squares fit cannot have. The exact
# conditional variance ranges from almost 0, where one narrow interval is left, to
# {glue:text}`ch08_var_max` just inside the folds; the MDN's variance follows it,
# small at both ends and large between the folds, with a mean absolute difference over the
# grid of {glue:text}`ch08_var_mae`. One constant variance, the one a least-squares fit at
# the Bayes limit would imply, is off by {glue:text}`ch08_constant_var_mae`, more than the
# MDN in every run. The MDN's error gathers around the folds, where the exact variance
# jumps and the smooth network output rounds the jump off: the inputs within 0.05 of a
# fold, {glue:text}`ch08_near_fold_pct:.0f`% of the grid, carry
# {glue:text}`ch08_var_err_near_folds`% of the absolute difference (at least one and a
# half times their share in every run).
#
# As a regressor, the mixture mean scores on the 20,000 held-out points close to the best
# any regressor can do:

# %%
glue("ch08_bayes_mse", round(oracle.bayes_mse(inverse=True), 4), display=False)
print(f"Bayes MSE {oracle.bayes_mse(inverse=True):.4f}")

# %% tags=["nbval-ignore-output"]
test_mse = [mse(mixture_mean(m.mixture_parameters(t_test)), x_test) for m in models.values()]
# In every run, within 0.008 of the floor.
got = report(
    "ch08_mean_test_mse", test_mse, at_most=oracle.bayes_mse(inverse=True) + 0.008, digits=4
)
print(f"held-out MSE {got}")

# %% [markdown]
# A held-out MSE of {glue:text}`ch08_mean_test_mse` against the floor of
# {glue:text}`ch08_bayes_mse` (within 0.008 of it in every run): as a regressor, the MDN
# is close to as good as least squares can be. But {numref}`fig-ch08-moments` is also the
# reminder of why the mean is a poor answer here: for much of the middle range of $t$ it
# runs through empty space between the branches, through values of $x$ that never produce
# that $t$.
#
# ## Which prediction for what
#
# | prediction | function | good for |
# |---|---|---|
# | approximate mode | `approximate_mode` | one cheap, plausible answer; close when the components are well apart and of similar width |
# | true modes | `conditional_modes` | every distinct plausible answer, ranked by density |
# | component means | `params.mu`, `params.pi` | seeing how the model builds the density |
# | samples | `sample` | propagating uncertainty; estimating any probability by counting |
# | mixture mean | `mixture_mean` | the least-squares answer; fine when $p(x \mid t)$ has one branch |
# | mixture variance | `mixture_variance` | how uncertain the answer is at each input |
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch08-variance-by-hand
#
# A mixture of two Gaussians has $\pi = (0.25, 0.75)$, $\mu = (0, 1)$ and
# $\sigma = (0.1, 0.2)$. Compute its mean and variance by hand with the formulas above,
# then check them with `mixture_mean` and `mixture_variance` (build the mixture with
# `MixtureParameters(log_pi, mu, sigma)`, shapes `[1, 2]`, `[1, 2, 1]`, `[1, 2, 1]`).
# ```
#
# ```{solution-start} ex-ch08-variance-by-hand
# :class: dropdown
# ```

# %% [markdown]
# By hand: $\mathbb{E}[x] = 0.25 \cdot 0 + 0.75 \cdot 1 = 0.75$, and
# $s^2 = 0.25\,(0.01 + 0.75^2) + 0.75\,(0.04 + 0.25^2)$
# $= 0.143125 + 0.076875 = 0.22$.

# %%
two = MixtureParameters(
    torch.tensor([[0.25, 0.75]]).log(),
    torch.tensor([[[0.0], [1.0]]]),
    torch.tensor([[[0.1], [0.2]]]),
)
print(f"mean {mixture_mean(two).item():.4f}, variance {mixture_variance(two).item():.4f}")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch08-count-modes
#
# Predict how many modes (plateaus) the exact $p(x \mid t)$ has at $t = 0.35$, $0.5$ and
# $0.65$, from the turning points of $f$ alone: its local maximum is
# {glue:text}`ch08_f_max` and its local minimum {glue:text}`ch08_f_min`, and two branches join where a turning point's value lies within
# 0.1 of $t$. Then compute them with `oracle.interval_count`, and count the significant
# modes of the seed-0 MDN at the same inputs.
# ```
#
# ```{solution-start} ex-ch08-count-modes
# :class: dropdown
# ```

# %% [markdown]
# At $t = 0.35$ only the local minimum ({glue:text}`ch08_f_min`) is within 0.1: two
# intervals. At $t = 0.5$ both are: one interval. At $t = 0.65$ only the maximum
# ({glue:text}`ch08_f_max`) is: two intervals. Where the MDN's count differs, it has an
# extra mode, a ripple or an early bump, as nearly everywhere in this chapter.

# %%
t_ask = torch.tensor([[0.35], [0.5], [0.65]])
exact_count = oracle.interval_count(t_ask[:, 0].numpy())
print("exact intervals:", exact_count)

# %% tags=["nbval-ignore-output"]
asked = conditional_modes(mdn.mixture_parameters(t_ask).detach())
mdn_count = asked.significant(0.05).sum(-1).numpy()
print("MDN significant modes (seed 0):", mdn_count)
check(
    "where the counts differ, the MDN has more",
    bool(np.all(mdn_count >= exact_count)),
    f"{mdn_count}",
)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch08-ratio
#
# `significant(0.05)` keeps the modes at least 5% as high as the highest. Predict: with a
# threshold of 1% instead, does the share of inputs at which the MDN's mode count equals
# the number of intervals go up or down? Check it on the seed-0 modes computed above.
# ```
#
# ```{solution-start} ex-ch08-ratio
# :class: dropdown
# ```

# %% [markdown]
# Down, or at best unchanged: a lower threshold only adds modes, and where the counts
# disagreed the MDN almost always had too many already.

# %% tags=["nbval-ignore-output"]
agree = {}
for ratio in (0.05, 0.01):
    n = modes[0].significant(ratio).sum(-1).numpy()[reach]
    agree[ratio] = 100 * np.mean(n == n_intervals[reach])
    print(f"ratio {ratio}: counts agree at {agree[ratio]:.1f}%")
check("a lower threshold does not raise the agreement", bool(agree[0.01] <= agree[0.05]))

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch08-box-variance
#
# At $t = 0.1$ the exact density is uniform on one interval. A uniform density on an
# interval of width $w$ has variance $w^2 / 12$. Get the interval from
# `oracle.support_intervals(0.1)`, compute the variance by hand, and compare it with
# `oracle.conditional_variance` and with the seed-0 MDN's `mixture_variance` at $t = 0.1$.
# If they differ much, find out why from the terms
# $\pi_k \big(\sigma_k^2 + (\mu_k - \mathbb{E}[x \mid t])^2\big)$ of the variance, one per
# component.
# ```
#
# ```{solution-start} ex-ch08-box-variance
# :class: dropdown
# ```

# %%
left, right = oracle.support_intervals(0.1)
w = right[0] - left[0]
print(f"interval [{left[0]:.4f}, {right[0]:.4f}], w^2 / 12 = {w**2 / 12:.6f}")
print(f"oracle {oracle.conditional_variance(0.1, inverse=True):.6f}")

# %% tags=["nbval-ignore-output"]
at_01 = mdn.mixture_parameters(torch.tensor([[0.1]])).detach()
mdn_var = mixture_variance(at_01).item()
print(f"MDN (seed 0) {mdn_var:.6f}")
pi, mu, sigma = at_01.pi[0], at_01.mu[0, :, 0], at_01.sigma[0, :, 0]  # [K] each
terms = pi * (sigma**2 + (mu - mixture_mean(at_01)[0, 0]) ** 2)  # [K], they sum to the variance
for k in terms.argsort(descending=True)[:2].tolist():
    print(f"k = {k + 1}: pi {pi[k]:.4f}, mu {mu[k]:.3f}, sigma {sigma[k]:.3f}, term {terms[k]:.6f}")
far = (mu < left[0] - 0.1) | (mu > right[0] + 0.1)  # components centred far from the box
glue("ch08_box_var_ratio", f"{mdn_var / (w**2 / 12):.1f}", display=False)
glue("ch08_far_weight_pct", f"{100 * float(pi[far].sum()):.2f}", display=False)
glue("ch08_far_var_pct", f"{100 * float(terms[far].sum()) / mdn_var:.0f}", display=False)
check("the terms add up to the variance", abs(float(terms.sum()) - mdn_var) <= 1e-4 * mdn_var)

# %% [markdown]
# How far the MDN's variance is from the exact one depends on the run: here it is
# {glue:text}`ch08_box_var_ratio` times the exact one. The terms say why. The main
# component, on the box, adds about its own variance $\sigma_k^2$, which a Gaussian
# standing in for a box need not make equal to $w^2/12$ (compare the printed term with the
# box's variance). A component whose mean
# lies far from the box, such as the one that carries the interval of the middle and upper
# branches once $t$ passes the fold, adds $\pi_k (\mu_k - \mathbb{E}[x \mid t])^2$: at a
# weight of one percent and a distance of 0.6, that is $0.01 \cdot 0.36 = 0.0036$, several
# times the exact variance. In this run the components centred more than 0.1 outside the
# box carry {glue:text}`ch08_far_weight_pct`% of the weight and add
# {glue:text}`ch08_far_var_pct`% of the variance: the larger that share, the more of the
# difference it explains. Variance punishes a little mass far away
# heavily: a mixture's variance is only as good as its smallest far-off weights.

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - The mixing coefficients $\pi_k(t)$ show which components the network uses: a few of the
#   30, handing over from one branch to the next along $t$.
# - The mean of the most probable component is a cheap stand-in for the mode; it differs
#   from the highest true mode at {glue:text}`ch08_approx_differs_pct`% of the inputs, all
#   between the folds, where components overlap.
# - The true modes come from an ascent started at every component mean (mean-shift steps,
#   Newton steps near a peak), with every end point checked. The exact density has one or
#   two modes, its plateaus (three branches make at most two intervals); the MDN's count
#   agrees at {glue:text}`ch08_modes_match_pct`% of the inputs, and otherwise it almost
#   always has more:
#   ripples on a plateau and bumps where a branch fades in before its fold.
# - Ancestral sampling needs no Python loop: `sample` draws every component choice and
#   every Gaussian draw in one call each. Drawn at inputs distributed like the data's, the
#   samples make a synthetic data set.
# - The mixture mean is the conditional mean, what least squares learns: right on average,
#   wrong wherever the answer has several branches. The mixture variance follows the exact,
#   input-dependent variance, which least squares does not model.
#
# {ref}`ch-closing` looks back at what the MDN does well, where it struggles, and where to
# go from here.
