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
# (ch-inverse)=
# # The inverse problem
#
# Download this chapter as a notebook
# ({download}`04_inverse_problem.ipynb <./04_inverse_problem.ipynb>`) or as a Python script
# ({download}`04_inverse_problem.py <./04_inverse_problem.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# **In this chapter** you will turn the toy problem around and watch the network of
# {ref}`ch-mse` fail. You will
#
# - train the same network to predict $x$ from $t$;
# - see why a squared-error loss aims at the conditional mean $E[x \mid t]$, whatever the
#   data look like;
# - draw the exact conditional density $p(x \mid t)$, its three branches, and the (at
#   most two) separate intervals they form;
# - compare the network with the exact conditional mean and the Bayes-optimal MSE, and find
#   that the MSE did its job: it answered the wrong question.

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
from matplotlib import patheffects
from myst_nb import glue

from mdn_src import (
    MLP,
    check,
    fan_in_weights,
    fit_cached,
    make_toy_data,
    mse,
    oracle,
    plotting,
    report,
    test_grid,
)

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)

# %% [markdown]
# ## Swapping the roles
#
# The data are the same 2,500 pairs as before. What changes is the question: the network
# now *sees* $t$ and must predict $x$. We keep the names, so from here on the input is $t$
# and the target is $x$, and the conditional density we are after is $p(x \mid t)$. Inverse
# problems like this one are everywhere: a forward model (here $f$) maps causes to
# observations, and we want the causes back from what we observe {cite:p}`bishop1994mdn`.
#
# ```{admonition} Input $t$, target $x$
# From here on, the toy problem is its inverse: the input is $t$ (`t_train` in code), the
# target $x$ (`x_train`); both are plain numbers without units, $x$ in $[0, 1]$ and $t$ in
# $(-0.1, 1.1)$.
# ```
#
# The network is the one of {ref}`ch-mse`: 15 tanh units and a linear output, the weights
# of both layers drawn from $\mathcal{N}(0, 1/\text{fan-in})$ and zero biases. We wrote it
# there by hand, as four tensors and a two-line `forward`; here we take it from the library
# instead of writing it again. After `torch.manual_seed(seed)`,
# {py:func}`~mdn_src.mlp.fan_in_weights` draws the same four tensors that chapter's cell
# drew, and {py:meth}`MLP.from_weights <mdn_src.mlp.MLP.from_weights>` puts them into an
# `MLP` that computes $\tanh(t\,w_1 + b_1)\,w_2 + b_2$, the same function.

# %%
H = 15  # hidden units, as in chapter 3
t = torch.from_numpy(t_train)  # input
x = torch.from_numpy(x_train)  # target
torch.manual_seed(0)
net = MLP.from_weights(*fan_in_weights(1, H, 1))
print(net(t).shape)  # [N, 1]: the predicted x

# %% [markdown]
# As in the post, we train it with Adam {cite:p}`kingma2015adam` at a learning rate of
# 0.09 for 2,000 full-batch epochs, on the mean squared error {eq}`eq-mse` with the roles of
# $x$ and $t$ exchanged: the loop of {ref}`ch-mse` with Adam's update, which
# {py:func}`~mdn_src.training.fit_cached` runs (and keeps the result, so that a second run
# of the chapter loads it).

# %% tags=["nbval-ignore-output"]
epochs, lr = 2000, 0.09
history = fit_cached(net, t, x, name="ch4-mse-seed0", epochs=epochs, lr=lr)
for epoch in (*range(0, epochs, 250), epochs - 1):
    print(f"epoch {epoch:4d}  MSE {history[epoch]:.5f}")  # the loss before that epoch's step

# %% [markdown]
# That is one run, from one start. Training is chaotic: another start, or merely another
# machine whose arithmetic differs in the last bits, ends somewhere else. So before we read
# anything off the loss, we train the same network the same way from seven more starts,
# `torch.manual_seed(seed)` for seeds 1 to 7.

# %%
nets, histories = [net], [history]
for seed in range(1, 8):
    torch.manual_seed(seed)
    nets.append(MLP.from_weights(*fan_in_weights(1, H, 1)))
    histories.append(fit_cached(nets[-1], t, x, name=f"ch4-mse-seed{seed}", epochs=epochs, lr=lr))
print(f"{len(nets)} networks of {sum(p.numel() for p in nets[0].parameters())} weights trained")

# %% tags=["nbval-ignore-output"]
with torch.no_grad():
    finals = np.array([mse(net(t), x) for net in nets])  # training MSE after training
forward_bayes = oracle.bayes_mse()
glue("ch4_forward_bayes_mse", round(forward_bayes, 5), display=False)
report("ch4_train_mse", finals, digits=4)
report("ch4_ratio", finals / forward_bayes, of="median", at_least=10, at_most=14, digits=1)
print("training MSE per seed:", np.round(finals, 4).tolist())

# %% [markdown]
# Over the eight runs the median final loss is {glue:text}`ch4_train_mse_median:.4f`, about
# {glue:text}`ch4_ratio_median:.0f` times the Bayes-optimal
# {glue:text}`ch4_forward_bayes_mse` of the forward problem, which the same network nearly
# reached in {ref}`ch-mse`. Let us look at what the network learnt. We evaluate the
# first run (seed 0) on an even grid over the whole range of $t$, $[-0.1, 1.1]$
# (`test_grid(..., inverse=True)`).

# %%
t_grid = test_grid(2500, inverse=True)
with torch.no_grad():
    x_pred = net(torch.from_numpy(t_grid))
print(x_pred.shape)

# %%
three = t_grid.ravel()[oracle.branch_count(t_grid.ravel()) == 3]  # t with three branches
glue("ch4_t_lo", round(float(three.min()), 2), display=False)
glue("ch4_t_hi", round(float(three.max()), 2), display=False)
print(f"three branches for t in [{three.min():.2f}, {three.max():.2f}]")

# %% [markdown]
# Three branches are not three separate answers, though. Where the noise band
# $|f(x) - t| < 0.1$ covers a turning point of $f$, the branches on either side of it meet
# there and form one interval of $x$. {py:func}`oracle.support_intervals
# <mdn_src.problems.oracle.support_intervals>` merges them, and `oracle.interval_count` counts the
# disjoint intervals that are left; on a dense grid of $t$:

# %%
t_dense = np.linspace(-0.1, 1.1, 120_001)[1:-1]  # open ends: no x reaches t = -0.1 or 1.1
n_intervals = oracle.interval_count(t_dense)
print("t values with 1, 2, 3 disjoint intervals:", np.bincount(n_intervals, minlength=4)[1:])
two = t_dense[n_intervals == 2]
one_mid = t_dense[(n_intervals == 1) & (t_dense > two.min()) & (t_dense < two.max())]
for key, value in [("two_lo", two.min()), ("two_hi", two.max()),
                   ("one_lo", one_mid.min()), ("one_hi", one_mid.max())]:  # fmt: skip
    glue(f"ch4_{key}", round(float(value), 3), display=False)
print(f"two intervals for t in ({two.min():.3f}, {one_mid.min():.3f})"
      f" and ({one_mid.max():.3f}, {two.max():.3f}); one interval in between")  # fmt: skip

# %% mystnb={"figure": {"caption": "The network trained with MSE on the inverse problem (solid), drawn over the swapped data (circles): input $t$, target $x$.", "name": "fig-ch4-fit"}, "image": {"alt": "A scatter of points shaped like a sideways S, with three branches for t between about 0.3 and 0.7. A smooth solid curve rises through the middle, cutting across the branches instead of following any of them."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_curve(ax, t_grid, x_pred, label="network $y(t, \\mathbf{w})$")
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch4-fit` is the failure. For $t$ between {glue:text}`ch4_t_lo` and
# {glue:text}`ch4_t_hi` the data split into three branches: values of $x$ on three pieces of
# $f$ produce the same $t$. As computed above, two of them always touch where $f$ turns, so
# the possible $x$ form two separate intervals (for $t$ from {glue:text}`ch4_two_lo` to
# {glue:text}`ch4_one_lo`, and from {glue:text}`ch4_one_hi` to {glue:text}`ch4_two_hi`), or a
# single one (in the narrow range between, where the band covers both turning points),
# never three. The network follows none of the branches. It draws one smooth curve through
# the middle, often through places where there are no data at all. Training longer, or with another optimiser, will not fix
# this: as the next section shows, this curve is close to the best a squared-error loss can
# give.
#
# ## What the squared error asks for
#
# Imagine an infinitely flexible network, so that $y(t)$ can take any value at each $t$
# independently. The expected squared error over the joint distribution of $(t, x)$ splits
# into two parts (PRML eqs. 1.87–1.90, with our names) {cite:p}`bishop2006prml`:
#
# $$
# \begin{aligned}
# &E\big[(y(t) - x)^2\big] \\
# &\quad = \int \big(y(t) - E[x \mid t]\big)^2 \, p(t) \, \mathrm{d}t \\
# &\qquad + \int \operatorname{var}[x \mid t] \, p(t) \, \mathrm{d}t .
# \end{aligned}
# $$ (eq-mse-decomposition)
#
# The cross term vanishes because $x - E[x \mid t]$ averages to zero at every $t$. The second
# term does not depend on $y$ at all, and the first is zero, its smallest value, exactly when
#
# $$
# y(t) = E[x \mid t] = \int x \, p(x \mid t) \, \mathrm{d}x .
# $$ (eq-conditional-mean)
#
# This is PRML's eq. (1.89). So the minimiser of the MSE is the **conditional mean**, and
# the MSE that is left, the second term, is the Bayes-optimal MSE: the average spread of
# $x$ around its conditional mean. Nothing here assumes a shape for $p(x \mid t)$. In
# {ref}`ch-mse` the conditional mean was $f(x)$, the curve we wanted. Here it is an average
# over up to three branches.
#
# For the toy problem everything is exact (`mdn_src/problems/oracle.py`). Because $x$ is uniform on
# $[0, 1]$ and the noise is uniform, $p(x \mid t)$ is uniform on the set of $x$ with
# $|f(x) - t| < 0.1$: one branch for small or large $t$, three branches in between, which
# form two separate intervals or, near $t = 0.5$, one.
# {numref}`fig-ch4-density` draws it, together with its mean {eq}`eq-conditional-mean`
# ({py:func}`~mdn_src.plotting.plot_density` in `mdn_src/plotting/` draws the colour map).

# %%
x_axis = np.linspace(0, 1, 401)
density = oracle.inverse_density(x_axis.reshape(1, -1), t_grid)  # [2500, 401]: [t, x]
exact_mean = oracle.conditional_mean(t_grid, inverse=True)  # [2500, 1]
print(density.shape, exact_mean.shape)

# %% mystnb={"figure": {"caption": "The exact conditional density $p(x \\mid t)$ (colour, on the logarithmic scale that every density map in the book shares; darker is higher) and its mean $E[x \\mid t]$ (dashed), the answer an MSE-trained network aims for.", "name": "fig-ch4-density"}, "image": {"alt": "A colour map over t (horizontal) and x (vertical). A single band runs up from the lower left, folds back into a sideways S with three branches between t of about 0.3 and 0.7, the neighbouring branches touching where the S turns, and continues as one band towards the upper right. A dashed curve follows the single band, then jumps to the middle and wanders between the three bands before jumping up to the last band."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_density(ax, t_grid, x_axis, density)  # density[i, o] at (t_i, x_o)
plotting.plot_curve(ax, t_grid, exact_mean, label="exact $E[x \\mid t]$", kind="exact", style="--")
ax.lines[-1].set_path_effects([patheffects.withStroke(linewidth=5, foreground="white")])
plotting.finish(ax)
plt.show()

# %% [markdown]
# Where $t$ has one branch, the mean sits on it. Where there are three, the mean is their
# weighted centre: it jumps as branches appear and vanish, and between the jumps it often
# runs through a gap, where $p(x \mid t)$ is zero. For {glue:text}`ch4_mean_off_pct`% of
# the training inputs the conditional mean is a value of $x$ that *cannot* produce the observed $t$ at all.
#
# {numref}`fig-ch4-mean` sets the network's curve beside this exact conditional mean.

# %%
mean_at_train = oracle.conditional_mean(t_train, inverse=True)  # E[x | t] at each input
off = oracle.inverse_density(mean_at_train, t_train) == 0  # p(E[x | t] | t) = 0
glue("ch4_mean_off_pct", round(100 * float(off.mean()), 1), display=False)
print(f"{100 * off.mean():.1f}% of training inputs: E[x | t] lies where p(x | t) = 0")

# %% mystnb={"figure": {"caption": "The network trained with MSE (solid) and the exact conditional mean $E[x \\mid t]$ (dashed) over the swapped data (circles).", "name": "fig-ch4-mean"}, "image": {"alt": "The sideways-S scatter of the inverse problem with two curves through the middle: a dashed curve, the exact mean, with two sharp jumps, and a smooth solid curve, the network, that follows its overall shape, rounding off the jumps."}}
fig, ax = plotting.new_axes("$t$", "$x$")
plotting.plot_data(ax, t_train, x_train)
plotting.plot_curve(ax, t_grid, x_pred, label="network $y(t, \\mathbf{w})$")
plotting.plot_curve(ax, t_grid, exact_mean, label="exact $E[x \\mid t]$", kind="exact", style="--")
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## The network did its job
#
# In {numref}`fig-ch4-mean` the network follows the exact mean's shape: a rise, a flat
# stretch with a small wiggle across the three branches, another rise. It rounds off the two
# jumps, which a smooth sum of 15 tanh units can only approximate, and it can stray near the
# ends of the range of $t$, where training points are few. The numbers say the same (for
# the network, medians over the eight starts):
#
# - the network's training MSE is {glue:text}`ch4_train_mse_median:.4f`;
# - the exact conditional mean, used as a predictor on the same training data, has MSE
#   {glue:text}`ch4_exact_mean_mse:.4f`;
# - the Bayes-optimal MSE of the inverse problem, the second term of
#   {eq}`eq-mse-decomposition` (an average over all of $p(t)$, not over our 2,500 points),
#   is {glue:text}`ch4_bayes_mse`;
# - the mean squared distance between the network and the exact mean, over the training
#   inputs, is {glue:text}`ch4_gap_mse_median:.4f`: the first term of
#   {eq}`eq-mse-decomposition`.
#
# In every run the last number and the exact mean's MSE add up to the network's MSE, as
# {eq}`eq-mse-decomposition` says they should, up to a cross term that only vanishes on
# average (here it is at most 0.001). Almost all of the network's error is the Bayes-optimal part that no regressor can avoid: the exact mean's
# MSE is {glue:text}`ch4_share_median:.0f`% of the network's (median over the eight runs).

# %%
bayes_mse = oracle.bayes_mse(inverse=True)
exact_mean_mse = mse(mean_at_train, x_train)
glue("ch4_bayes_mse", round(bayes_mse, 4), display=False)
glue("ch4_exact_mean_mse", round(exact_mean_mse, 4), display=False)
print(f"exact mean {exact_mean_mse:.4f}  Bayes {bayes_mse:.4f}")

# %% tags=["remove-cell", "nbval-ignore-output"]
with torch.no_grad():
    gaps = np.array([mse(net(t), mean_at_train) for net in nets])
cross = np.abs(finals - exact_mean_mse - gaps)  # what the decomposition leaves over
report("ch4_gap_mse", gaps, of="median", at_most=0.004, digits=4)
report("ch4_cross", cross, at_most=0.001)
share = report("ch4_share", 100 * exact_mean_mse / finals, of="median", at_least=90, digits=1)

# %% [markdown]
# The loss trace of the first run (seed 0) in {numref}`fig-ch4-loss` tells the same story as
# in {ref}`ch-mse`, one level up. Adam first finds the best straight line (MSE
# {glue:text}`ch4_line_mse`) and stays near it for several hundred epochs: from epoch 250
# to 500 none of the eight runs strays more than 3% from the line's MSE (at most
# {glue:text}`ch4_shoulder_ceil`% here). Then most runs bend the line towards the
# conditional mean and come down close to the Bayes-optimal floor:
# {glue:text}`ch4_near_floor_count` of the eight get within 10% of it in their last 100
# epochs, the first run among them. The others have not come down that far by
# epoch 2,000 ({glue:text}`ch4_stuck_count` of the eight are still on the shoulder: the
# median loss of their last 100 epochs is within 10% of the line's MSE); as in {ref}`ch-mse`, how long a run
# sits there depends on where it starts. Now and then
# the loss jumps up for a few epochs, Adam's large learning rate overshooting, and comes
# back down ({glue:text}`ch4_jumpy_count` of the eight runs jump by 10% or more after
# epoch 1,000). A run can even stop in the middle of such a jump. Both are why the numbers
# above are medians over eight starts. No amount of training could take the loss much lower: the
# floor is the spread of $x$ across the branches, and a single number per $t$ cannot remove
# it.

# %%
coef = np.polyfit(t_train.ravel(), x_train.ravel(), deg=1)  # least-squares line
line_mse = mse(np.polyval(coef, t_train), x_train)
glue("ch4_line_mse", round(line_mse, 4), display=False)
print(f"best straight line: MSE {line_mse:.4f}")

# %% tags=["remove-cell", "nbval-ignore-output"]
losses = np.array([h.train for h in histories])  # [5 seeds, epochs]
shoulder = 100 * np.abs(losses[:, 250:501] / line_mse - 1).max(1)
near_floor = losses[:, -100:].min(1) <= 1.1 * bayes_mse  # in the last 100 epochs
stuck = np.abs(np.median(losses[:, -100:], 1) / line_mse - 1) <= 0.1  # at the line's level
before = np.array([[run[e - 20 : e].min() for e in range(1000, epochs)] for run in losses])
jumpy = (losses[:, 1000:] / before).max(1) >= 1.1  # up by 10% on the last 20 epochs' best
report("ch4_shoulder", shoulder, at_most=3, digits=1)
report("ch4_near_floor", near_floor, of="count", at_least=5)
report("ch4_stuck", stuck, of="count")
report("ch4_jumpy", jumpy, of="count", at_least=1)
check(
    "the first run (seed 0) also comes within 10% of the floor in its last 100 epochs",
    bool(history.train[-100:].min() <= 1.1 * bayes_mse),
    f"lowest {history.train[-100:].min():.4f}, floor {bayes_mse:.4f}",
)

# %% mystnb={"figure": {"caption": "The MSE of the network during training on the inverse problem (one run, seed 0), with the best straight line's MSE (dotted) and the Bayes-optimal MSE of the inverse problem (dashed). The vertical axis is cut off at the top: the first few epochs start far higher.", "name": "fig-ch4-loss"}, "image": {"alt": "A loss curve that drops at once to the dotted line of the best straight line, stays there for several hundred epochs, then falls close to the dashed Bayes-optimal line, with upward spikes."}}
fig, ax = plotting.plot_loss(
    history, "MSE", reference=bayes_mse, reference_label="Bayes-optimal MSE (inverse)"
)
ax.axhline(line_mse, color=plotting.COLORS["other"], ls=":", lw=2, label="best straight line")
ax.set_ylim(0.9 * bayes_mse, 1.25 * line_mse)
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# So the MSE did exactly what it promises. A network that gets off the shoulder
# approximates $E[x \mid t]$ well, and its error is close to the smallest any regressor can
# reach. It answered the question we
# asked, "what is the average $x$ for this $t$?", and that is the wrong question. When
# $p(x \mid t)$ has several branches, the average is a compromise that is often not a
# plausible answer at all. In the language of {ref}`ch-mse`, the model assumed a single
# Gaussian {eq}`eq-gaussian-likelihood` around one value, and no choice of that value can
# describe two separate intervals of answers.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch04-mean-by-hand
#
# At $t = 0.35$, $p(x \mid t)$ is uniform on two intervals (`oracle.support_intervals(0.35)`
# gives their ends). Compute $E[x \mid t]$ by hand from the ends: the mean of a uniform
# density on a union of intervals is the average of their midpoints, weighted by their
# lengths. Is the exact density at that mean zero or positive?
# ```
#
# ```{solution-start} ex-ch04-mean-by-hand
# :class: dropdown
# ```

# %%
left, right = oracle.support_intervals(0.35)
n = int(np.isfinite(left).sum())
lengths, mids = right[:n] - left[:n], (left[:n] + right[:n]) / 2
for a, b in zip(left[:n], right[:n], strict=True):
    print(f"interval [{a:.4f}, {b:.4f}]")
by_hand = float((lengths * mids).sum() / lengths.sum())
print(f"by hand {by_hand:.4f}, oracle {oracle.conditional_mean(0.35, inverse=True):.4f}")
print(f"p(E[x | t] | t) = {oracle.inverse_density(by_hand, 0.35):.3f}")

# %% [markdown]
# The mean falls in the gap between the two intervals, where the density is zero: an $x$
# that cannot produce $t = 0.35$.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch04-where-off
#
# For {glue:text}`ch4_mean_off_pct`% of the training inputs $E[x \mid t]$ lies where
# $p(x \mid t) = 0$. Predict, then check with `oracle.interval_count(t_train)`: do all of
# those inputs have a support split into two intervals? And what fraction of all the
# training inputs have a split support?
# ```
#
# ```{solution-start} ex-ch04-where-off
# :class: dropdown
# ```

# %%
split = oracle.interval_count(t_train) == 2  # [2500, 1]
print(f"training inputs with two intervals: {100 * split.mean():.1f}%")
print(f"mean off the support: {100 * off.mean():.1f}%, all of them split: {bool(split[off].all())}")
print(f"split inputs whose mean is still on the support: {100 * (split & ~off).mean():.1f}%")

# %% [markdown]
# Yes: a single interval contains its own mean, so the mean can only miss where there is
# a gap. The converse fails: where one interval is much longer than the other, the mean
# stays inside the longer one.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch04-bins
#
# Change the model and predict. The most flexible regressor of all cuts the range of $t$
# into $B$ equal bins and predicts, in each bin, the average $x$ of the training points
# that fall in it. Try $B$ = 5, 50 and 1,000 bins, each fitted to three training sets
# (`make_toy_data(2500, seed=s)` for $s$ = 0, 2, 3) and scored on the 20,000 held-out
# points of `seed=1`. Before running it: which $B$ scores best on held-out data, can any
# of them go below the Bayes-optimal {glue:text}`ch4_bayes_mse`, and what happens on the
# training data?
# ```
#
# ```{solution-start} ex-ch04-bins
# :class: dropdown
# ```

# %%
t_test, x_test = make_toy_data(20_000, seed=1, inverse=True)


def bin_regressor(t_fit, x_fit, n_bins):
    """Average x per equal bin of t over [-0.1, 1.1]: predict(t) -> [N, 1]."""
    edges = np.linspace(-0.1, 1.1, n_bins + 1)
    which = np.clip(np.digitize(t_fit[:, 0], edges) - 1, 0, n_bins - 1)
    sums = np.bincount(which, weights=x_fit[:, 0], minlength=n_bins)
    counts = np.bincount(which, minlength=n_bins)
    means = np.where(counts > 0, sums / np.maximum(counts, 1), x_fit.mean())
    return lambda t_new: means[np.clip(np.digitize(t_new[:, 0], edges) - 1, 0, n_bins - 1)][:, None]


for n_bins in (5, 50, 1000):
    train_err, test_err = [], []
    for seed in (0, 2, 3):
        t_fit, x_fit = make_toy_data(2500, seed=seed, inverse=True)
        predict = bin_regressor(t_fit, x_fit, n_bins)
        train_err.append(mse(predict(t_fit), x_fit))
        test_err.append(mse(predict(t_test), x_test))
    train_sum = report(f"ch4_bins{n_bins}_train", train_err, digits=4, glue=False)
    test_sum = report(f"ch4_bins{n_bins}_test", test_err, digits=4, glue=False)
    print(f"B = {n_bins:4d}: train {train_sum}, held-out {test_sum}")
print(f"Bayes-optimal {bayes_mse:.4f}")

# %% [markdown]
# Five bins are too coarse to follow the jumps of $E[x \mid t]$, and 1,000 bins of
# two or three points each memorise their points' noise: the lowest training error, the worst
# held-out error. In between, 50 bins come close to the floor on held-out data, and none
# goes below it there: the floor is the spread of $x$ across the branches, which no single
# number per $t$ removes. Only on its own training points can a regressor go below it,
# by fitting their noise.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - Swapping input and target turns a one-valued regression into a many-valued one: for
#   $t$ between {glue:text}`ch4_t_lo` and {glue:text}`ch4_t_hi`, $x$ on three branches of
#   $f$ fits. Two of them always touch where $f$ turns, so the answers form two separate
#   intervals of $x$ (or, near $t = 0.5$, one), never three.
# - Whatever the data, minimising the MSE aims at the conditional mean $E[x \mid t]$
#   {eq}`eq-conditional-mean` (PRML 1.89), and the best it can reach is the average
#   conditional variance {eq}`eq-mse-decomposition`.
# - A network that gets off the shoulder (most of our runs) gets close to both. The failure is not in training but in the question: a
#   mean over separate intervals falls between them, often where no data can lie.
#
# What we need is a network that outputs a whole *distribution* $p(x \mid t)$, one able to
# put mass on several branches at once. A mixture of Gaussians whose mixing coefficients,
# means and widths all depend on the input does exactly that: the mixture density network.
# {ref}`ch-derivation` builds it from the likelihood up.
