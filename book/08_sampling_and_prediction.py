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
# candidates, or a bag of plausible values. This chapter extracts each of them.
#
# **In this chapter** you will learn:
#
# - the approximate conditional mode (the mean of the most probable component), and how to
#   find the true modes of a mixture by a fixed-point iteration;
# - how to read the $K$ component means, and how the picture changes with $K$;
# - how to draw samples from an MDN, for every input at once, without a Python loop;
# - that the mixture's mean is the conditional mean, the very quantity the least-squares
#   network of {ref}`ch-inverse` learnt;
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
import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import (
    MDN,
    approximate_mode,
    conditional_modes,
    fit_cached,
    make_toy_data,
    mean_nll,
    mixture_mean,
    mse,
    oracle,
    plotting,
    sample,
    test_grid,
)

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)

# %% [markdown]
# ## The trained model, again
#
# We need the MDN of {ref}`ch-mdn`. The same seed, architecture, data and training settings
# make `fit_cached` find the weights that chapter stored and load them (if this chapter runs
# first, it trains them, to the same last bit: training is deterministic on one CPU thread).
# Its final training loss is the one printed in {ref}`ch-mdn`. As there, the network's input
# is $t$ and its target is $x$.

# %%
torch.manual_seed(0)
mdn = MDN(1, 1, n_components=30, hidden=50)
history = fit_cached(mdn, t_train, x_train, name="ch6-mdn", epochs=3000, lr=0.008)
print(f"final training NLL {history[-1]:.4f}")

# %% [markdown]
# We ask it for the mixture at 2,500 evenly spaced inputs covering the whole range of $t$,
# $[-0.1, 1.1]$, and cut the result from the autograd graph: from now on we only read it.

# %%
t_grid = test_grid(2500, inverse=True)
params = mdn.mixture_parameters(t_grid).detach()
print("pi", tuple(params.pi.shape), "mu", tuple(params.mu.shape))

# %% [markdown]
# All the functions of this chapter live in `mdn_src/predict.py` ({doc}`reference
# <api/predict>`). They take these {py:class}`~mdn_src.mixture.MixtureParameters` and work on all
# 2,500 inputs at once.
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

# %% mystnb={"figure": {"caption": "The approximate conditional mode, the mean of the most probable component, at each of 2,500 values of t, over the training data.", "name": "fig-ch7-approx-mode"}, "image": {"alt": "Red dots over the S-shaped cloud of training points; they follow one branch at a time, in pieces that jump from branch to branch in the middle range of t."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_grid, approx, "mean of the most probable component", alpha=0.8)
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch7-approx-mode` shows a prediction that always sits on the data, unlike the
# least-squares curve of {ref}`ch-inverse`. Where three branches coexist, it follows one of
# them and jumps to another when a different component becomes the most probable. Those
# jumps are not a bug: any single-valued answer to a multi-valued question has to choose.
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
# \sum_k \pi_k \mathcal{N}(x \mid \mu_k, \sigma_k^2)\, \frac{\mu_k - x}{\sigma_k^2} = 0
# \quad\Longleftrightarrow\quad
# x = \frac{\sum_k \gamma_k(x)\, \mu_k / \sigma_k^2}{\sum_k \gamma_k(x) / \sigma_k^2},
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
# `conditional_modes` runs all $2{,}500 \times 30$ ascents at once. It uses this step where
# the density curves the wrong way for Newton's method, and a Newton step near a peak (which
# converges in a few steps where mean-shift crawls), stops an ascent when its next step
# would be tiny compared with the components' widths, and then checks every end point: it
# counts as a mode only if the density falls on both sides of it. Ascents that end within
# 1% of a width of each other are one mode, and in one dimension a walk along the line
# between neighbouring modes makes sure no bump between them was missed. It reports every
# local maximum, including tiny bumps far from the data; `significant` keeps those at least
# 5% as high as the highest one.

# %%
modes = conditional_modes(params)
keep = modes.significant(0.05)  # [N, K], True for each distinct, significant mode
t_of_mode = np.repeat(t_grid, params.mu.shape[1], axis=1)  # the input of each ascent, [N, K]
n_modes = keep.sum(-1).numpy()
print("grid points with 1, 2, 3, ... significant modes:", np.bincount(n_modes)[1:].tolist())

# %% mystnb={"figure": {"caption": "The modes of the MDN's density at each value of t, found by ascents from every component mean: every mode at least 5% as high as the highest (orange), and the highest mode (red).", "name": "fig-ch7-modes"}, "image": {"alt": "Over the S-shaped training data, orange dots trace all three branches in the middle range of t, sometimes two dots per branch; red dots mark the highest mode and follow one branch at a time."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_of_mode[keep], modes.location[..., 0][keep], "modes", "other")
plotting.plot_points(ax, t_grid, modes.highest, "highest mode", alpha=0.8)
plotting.finish(ax)
plt.show()

# %% [markdown]
# How many modes should there be? The oracle knows how many branches of $f$ can produce
# each $t$ (`oracle.branch_count` counts them; where two branches touch, their pieces of $x$
# join into one interval, so this is an upper bound on the separate intervals); we compare.

# %%
n_branches = oracle.branch_count(t_grid[:, 0])  # branches of f that reach each t, [N]
match = float(np.mean(n_modes == n_branches))
glue("ch7_modes_match_pct", round(100 * match, 1), display=False)
print(f"{100 * match:.1f}% of the grid points have one significant mode per branch")

# %% [markdown]
# The true conditional density is uniform on each of its one to three intervals, so there
# the "mode" is a whole interval. The MDN builds each flat interval from a few Gaussians,
# whose sum has gentle ripples on top; each ripple is a mode. So
# {numref}`fig-ch7-modes` shows the branches, sometimes with two modes on one branch, and
# the number of significant modes equals the number of branches that can produce $t$ at
# {glue:text}`ch7_modes_match_pct`% of the grid points (in this one trained model). The *highest* mode is decided by
# those ripples, since the true density is equally high on every branch.
#
# Where does the shortcut differ from the highest mode? We count the grid points where
# they are more than 0.02 apart.

# %%
gap = (approx - modes.highest).abs()[:, 0].numpy()
differ = gap > 0.02  # [N]
t_differ = t_grid[differ, 0]  # the inputs where they differ
glue("ch7_approx_differs_pct", round(100 * float(differ.mean()), 1), display=False)
glue("ch7_differ_t_lo", round(float(t_differ.min()), 2), display=False)
glue("ch7_differ_t_hi", round(float(t_differ.max()), 2), display=False)
print(f"{100 * differ.mean():.1f}% of the grid points")
print(f"all with t in [{t_differ.min():.2f}, {t_differ.max():.2f}]")

# %% [markdown]
# At {glue:text}`ch7_approx_differs_pct`% of the grid points the two disagree, all of them
# with $t$ between {glue:text}`ch7_differ_t_lo` and {glue:text}`ch7_differ_t_hi`. That lies
# inside the range where the true density has three branches, which the oracle's intervals
# give us:

# %%
three = t_grid[n_branches == 3, 0]  # the t that three branches of f can produce
glue("ch7_t_lo", round(float(three.min()), 2), display=False)
glue("ch7_t_hi", round(float(three.max()), 2), display=False)
print(f"three branches for t in [{three.min():.2f}, {three.max():.2f}]")
contained = three.min() <= t_differ.min() and t_differ.max() <= three.max()
print("every disagreement inside this range:", bool(contained))

# %% [markdown]
# Between {glue:text}`ch7_t_lo` and {glue:text}`ch7_t_hi` several components overlap, and
# there the shortcut can pick a component that is not the highest peak. Elsewhere, the most
# probable component's mean is the mode to within 0.02, and it costs one `argmax`.
#
# ## All the components
#
# The modes summarise the density; the component means show how the MDN built it. The post
# plotted all $K$ means at every input; we also draw each mean with a size proportional to
# its $\pi_k$, so that a component the network has switched off at that $t$ disappears.
# `plot_component_means` in `mdn_src/plotting.py` does this at every 10th grid input.

# %% mystnb={"figure": {"caption": "The means of all K = 30 components at 250 values of t, each drawn with an area proportional to its mixing coefficient, over the training data.", "name": "fig-ch7-means-30"}, "image": {"alt": "Over the S-shaped training data, thick red dotted bands follow the outer branches and two thinner parallel bands follow the middle branch; faint thin lines extend beyond the data where components fade out."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_component_means(
    ax, t_grid, params, r"component means $\mu_k$ (size $\propto \pi_k$), $K = 30$"
)
ax.set_ylim(-0.15, 1.15)  # the means of switched-off components wander far outside
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch7-means-30` shows that the network has not used its 30 components
# equally. Only {glue:text}`ch7_used_components` of them ever get a mixing coefficient above
# 1% anywhere on the grid; the others are switched off everywhere, and their means (far
# outside the plotted range, and drawn with zero size) tell nothing. Drawn at equal size, as
# in the post, those idle means make a tangle of lines. Each outer branch is carried by one
# main component whose mean slides along it as $t$ changes and which fades out where its
# branch ends; the middle branch is covered by two components side by side, which is how a
# sum of Gaussians builds a flatter top for its box.

# %%
used = int((params.pi.max(0).values > 0.01).sum())
glue("ch7_used_components", used, display=False)
print(used, "of", params.pi.shape[1], "components get pi > 0.01 somewhere")

# %% [markdown]
# ## Many answers: sampling
#
# Sometimes no single value will do: a planner wants to consider every plausible $x$, or a
# simulation must propagate the uncertainty further. Then we draw samples from
# $p(x \mid t)$. A Gaussian mixture is sampled in two steps, *ancestral sampling*: pick a
# component $k$ with probabilities $\pi_k$ (the latent variable of {eq}`eq-latent-prior`),
# then draw $x$ from that component's Gaussian. We draw 10 samples for each of the 2,500
# grid inputs.

# %%
samples = sample(params, 10, torch.Generator().manual_seed(0))  # [S, N, D]
print(tuple(samples.shape))

# %% mystnb={"figure": {"caption": "Ten samples from the MDN's p(x|t) at each of 2,500 values of t, over the training data.", "name": "fig-ch7-samples"}, "image": {"alt": "Red dots scattered over the S-shaped training data, filling its band closely, with three branches in the middle range of t and a few strays."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_points(ax, t_grid, samples[..., 0].T, "10 samples per input", alpha=0.3)
plotting.finish(ax)
plt.show()

# %% [markdown]
# The samples in {numref}`fig-ch7-samples` cover the training data as a fresh draw from the
# true process would: the MDN has learnt where $x$ can be *and* how often. The post drew
# them with three nested Python loops, over points, samples and components. `sample` makes
# no Python loop at all: one call to `torch.multinomial` picks the components of all
# 25,000 samples, one `gather` fetches their means and standard deviations, and one
# `torch.randn` supplies the noise. `benchmarks/bench_mdn.py` times both ways side by side
# (run `make bench`).
#
# ## The average answer: the mixture mean
#
# The mean of a mixture is the $\pi$-weighted average of its component means,
# $\mathbb{E}[x \mid t] = \sum_k \pi_k \mu_k$ (`mixture_mean`). That is the conditional
# mean, and the conditional mean is what a network trained by least squares converges to.
# The oracle computes it exactly for our problem (`oracle.conditional_mean`).

# %%
mean = mixture_mean(params)[:, 0].numpy()
exact_mean = oracle.conditional_mean(t_grid[:, 0], inverse=True)  # NaN where no x gives t
inside = np.isfinite(exact_mean)
grid_mse = float(np.mean((mean[inside] - exact_mean[inside]) ** 2))
glue("ch7_mean_grid_mse", round(grid_mse, 4), display=False)
print(f"mean squared difference on the grid: {grid_mse:.4f}")

# %% mystnb={"figure": {"caption": "The mean of the MDN's mixture (red) and the exact conditional mean E[x|t] (dashed), over the training data.", "name": "fig-ch7-mean"}, "image": {"alt": "Over the S-shaped training data, a red curve rises from lower left to upper right cutting across the middle of the three branches, close to a dashed dark curve of the same shape."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_curve(ax, t_grid, mean, "mixture mean")
plotting.plot_curve(ax, t_grid, exact_mean, r"exact $E[x \mid t]$", "exact", "--")
plotting.finish(ax)
plt.show()

# %% [markdown]
# The two curves of {numref}`fig-ch7-mean` agree closely, except at two places: near
# $t =$ {glue:text}`ch7_t_lo` and $t =$ {glue:text}`ch7_t_hi`, the ends of the three-branch
# range, a new interval of $x$ appears (or vanishes) far from the others, and the exact mean
# leaps within a very short range of $t$; the MDN's smooth curve rounds those leaps off. Over the whole grid the mean squared difference is
# {glue:text}`ch7_mean_grid_mse`. This is the curve the least-squares network of
# {ref}`ch-inverse` was trying to learn; the MDN gets it as a by-product. Scored by squared
# error on the 20,000 held-out points, the mixture mean comes close to the
# best any regressor can do:

# %%
x_test, t_test = make_toy_data(20_000, seed=1)
test_mse = mse(mixture_mean(mdn.mixture_parameters(t_test)), x_test)
glue("ch7_mean_test_mse", round(test_mse, 4), display=False)
glue("ch7_bayes_mse", round(oracle.bayes_mse(inverse=True), 4), display=False)
print(f"held-out MSE {test_mse:.4f}   Bayes MSE {oracle.bayes_mse(inverse=True):.4f}")

# %% [markdown]
# A held-out MSE of {glue:text}`ch7_mean_test_mse` against the floor of
# {glue:text}`ch7_bayes_mse`: as a regressor, the MDN is as good as least squares can be.
# But {numref}`fig-ch7-mean` is also the reminder of why the mean is a poor answer here:
# for much of the middle range of $t$ it runs through empty space between the branches,
# through values of $x$ that never produce that $t$.
#
# ## How many components?
#
# The post noted that the means plot is easier to read with fewer components. We train the
# same network with $K = 3$, every other setting unchanged, and score both models on the
# held-out points.

# %%
torch.manual_seed(0)
mdn_3 = MDN(1, 1, n_components=3, hidden=50)
fit_cached(mdn_3, t_train, x_train, name="ch7-mdn-k3", epochs=3000, lr=0.008)
params_3 = mdn_3.mixture_parameters(t_grid).detach()
nll_30, nll_3 = mean_nll(mdn, t_test, x_test), mean_nll(mdn_3, t_test, x_test)
glue("ch7_heldout_nll_30", round(nll_30, 3), display=False)
glue("ch7_heldout_nll_3", round(nll_3, 3), display=False)
print(f"held-out NLL   K = 30: {nll_30:.3f}   K = 3: {nll_3:.3f}")

# %% mystnb={"figure": {"caption": "The means of the K = 3 components at 250 values of t, drawn with an area proportional to their mixing coefficients, over the training data.", "name": "fig-ch7-means-3"}, "image": {"alt": "Over the S-shaped training data, three red dotted curves, each thick along one branch and thinning to nothing beyond it."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_component_means(
    ax, t_grid, params_3, r"component means $\mu_k$ (size $\propto \pi_k$), $K = 3$"
)
ax.set_ylim(-0.15, 1.15)  # the means of switched-off components wander far outside
plotting.finish(ax)
plt.show()

# %% [markdown]
# With $K = 3$ ({numref}`fig-ch7-means-3`) each component takes one branch, the reading
# the post hoped for: the means plot becomes a picture of the three inverse branches. The
# price is in the fit. On held-out data the $K = 30$ model scores
# {glue:text}`ch7_heldout_nll_30` nats and the $K = 3$ model
# {glue:text}`ch7_heldout_nll_3` (lower is better). With a single Gaussian per branch the
# $K = 3$ model cannot flatten the top of a box, whereas the $K = 30$ model put two
# components side by side on the middle branch. That is one trained model of each size: a
# single run cannot tell how the fit depends on $K$ in general, because training is chaotic
# here (another seed moves the held-out score by a few hundredths of a nat), so comparing $K$
# properly needs several seeds per size.
#
# ## Which prediction for what
#
# | prediction | function | good for |
# |---|---|---|
# | approximate mode | `approximate_mode` | one cheap, plausible answer; close when the components are well apart and of similar width |
# | true modes | `conditional_modes` | every distinct plausible answer, ranked by density |
# | component means | `params.mu`, `params.pi` | seeing how the model builds the density; choosing $K$ |
# | samples | `sample` | propagating uncertainty; estimating any probability by counting |
# | mixture mean | `mixture_mean` | the least-squares answer; fine when $p(x \mid t)$ has one branch |
#
# ## What we learned
#
# - The mean of the most probable component is a cheap stand-in for the mode; it agrees
#   with the highest true mode except at {glue:text}`ch7_approx_differs_pct`% of the grid
#   points, where components overlap.
# - The true modes come from an ascent started at every component mean (mean-shift steps,
#   Newton steps near a peak), with every end point checked; on a flat true density they
#   show the branches, with ripples.
# - Ancestral sampling needs no Python loop: `sample` draws every component choice and
#   every Gaussian draw in one call each.
# - The mixture mean is the conditional mean, what least squares learns: right on average,
#   wrong wherever the answer has several branches.
# - $K = 3$ gives the most readable means plot; $K = 30$ the better density.
#
# {ref}`ch-closing` looks back at what the MDN does well, where it struggles, and where to
# go from here.
