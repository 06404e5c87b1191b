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
# (ch-mdn)=
# # Training the MDN
#
# Download this chapter as a notebook
# ({download}`07_training_the_mdn.ipynb <./07_training_the_mdn.ipynb>`) or as a Python script
# ({download}`07_training_the_mdn.py <./07_training_the_mdn.py>`), or open it in Colab or Binder
# from the rocket icon above.
#
# {ref}`ch-implementation` turned the model and the loss of {ref}`ch-derivation` into code.
# This chapter trains that model on the inverse problem, the one that defeated the
# least-squares network of {ref}`ch-inverse`.
#
# **In this chapter** you will learn:
#
# - how to train the MDN with the settings of the original post, and what its loss trace
#   looks like;
# - why one training run is not a result, and how to report a score over several seeds;
# - what PRML's own, much smaller setting ($K = 3$, 5 hidden units) buys against the post's;
# - the difference between the spread over seeds and the uncertainty of a mean, and how
#   paired differences over the same seeds can order two methods;
# - how close the trained model comes to the best possible score, the Bayes limit, and
#   what the loss trace does and does not say about the remaining gap;
# - how to watch the conditional density take shape during training, with a callback
#   that takes snapshots.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML
from myst_nb import glue
from scipy import stats

from mdn_src import (
    MDN,
    check,
    density_grid,
    fit,
    fit_cached,
    make_toy_data,
    mean_nll,
    oracle,
    paired,
    plotting,
    report,
    seeds_needed,
)

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)

# %% [markdown]
# ## Input $t$, target $x$
#
# {ref}`ch-derivation` wrote the mixture density network the way PRML does: input $x$,
# target $t$. From here on we apply it to the **inverse problem**, so the roles swap: the
# network receives $t$ and outputs a mixture over $x$, that is, it models $p(x \mid t)$.
# We keep the variables' names, so in code the model's input is `t_train` and its target
# is `x_train`. Wherever the formulas of {ref}`ch-derivation` say "input" and "target",
# read $t$ and $x$.
#
# ## Training, three times
#
# We build the network of the original post, one hidden layer of 50 $\tanh$ units and
# $K = 30$ Gaussian components, and train it with the post's settings: Adam
# {cite:p}`kingma2015adam` with learning rate 0.008, for 3,000 full-batch epochs, so every
# epoch is one optimiser step on all 2,500 training points. `fit` (in `mdn_src/training/loop.py`)
# minimises `mdn.loss`, the mean negative log-likelihood of {ref}`ch-implementation`.
#
# Another seed gives other initial weights and another trained network, with another
# score. And even with the same seed, training is *chaotic*: another processor, BLAS
# library or thread count rounds the last bit of some float differently, the difference
# grows from step to step, and the run ends at a nearby but different optimum. On one
# machine, with one thread, a run repeats exactly; across machines only its statistics
# do. A single run therefore tells us about that run, not about the recipe. We train three
# networks that differ only in the seed of their initial weights, and report every score
# as the mean ± standard deviation over the three; every statement below about those
# scores is checked in the chapter's code, on whatever machine runs it. The network of
# seed 0 is the one the figures show.
#
# Each run goes through `fit_cached` ({py:func}`~mdn_src.training.fit_cached`), which calls
# `fit` once and keeps the trained weights: {ref}`ch-sampling` needs the model of seed 0 and
# loads it instead of training it again. The three trainings take about half a minute on
# one CPU thread, so the book ships their results in `book/models/cache`, and
# `shipped="models/cache"` lets `fit_cached` look there first. A stored file is found under
# the key of what defines the run (the architecture and initial weights, the data, `fit`'s
# arguments, the library's training code and the torch version), not of the machine, so
# every reader with the same library and torch loads the same three shipped models. A
# reader who trains them instead (with another torch version, or with the environment
# variable `MDN_SRC_IGNORE_SHIPPED=1`) gets nearby but different optima, and the chapter's
# checked claims hold for those too;
# `tests/test_shipped_models.py` checks that a fresh training meets the same claims as the
# shipped models.

# %% tags=["nbval-ignore-output"]
SEEDS = (0, 1, 2)  # seed 0 is the model shown in the figures
models, histories = {}, {}
for seed in SEEDS:
    torch.manual_seed(seed)
    models[seed] = MDN(1, 1, n_components=30, hidden=50)
    histories[seed] = fit_cached(
        models[seed],
        t_train,
        x_train,
        name=f"ch7-mdn-seed{seed}",
        epochs=3000,
        lr=0.008,
        shipped="models/cache",
    )
mdn = models[0]
n_weights = sum(p.numel() for p in mdn.parameters())
glue("ch7_n_weights", n_weights, display=False)
glue("ch7_n_seeds", len(SEEDS), display=False)
for seed in SEEDS:
    h = histories[seed]
    print(f"seed {seed}: NLL {h[0]:.3f} at the start, {h[-1]:.3f} at the last epoch")

# %% [markdown]
# Each network has {glue:text}`ch7_n_weights` weights. The loss is measured in nats per
# point and goes below zero: it is minus the logarithm of a *density*, and a density above
# one (a narrow one) has a positive logarithm. The best any model can do on average is the
# entropy of the true conditional density, the **Bayes limit**. For the inverse problem
# `oracle.bayes_nll(inverse=True)` computes it exactly: $p(x \mid t)$ is uniform on the set
# of $x$ that can produce $t$ (one or two intervals), so the limit is the average logarithm
# of that set's length, {glue:text}`ch7_bayes_nll:.3f` nats.

# %%
bayes_nll = oracle.bayes_nll(inverse=True)
glue("ch7_bayes_nll", round(bayes_nll, 3), display=False)
print(round(bayes_nll, 4))

# %% tags=["nbval-ignore-output"]
loss_all = np.stack([np.asarray(histories[seed]) for seed in SEEDS])  # [seeds, epochs]
reached = (loss_all <= -1.0).any(axis=1)
below = (loss_all <= -1.0).argmax(axis=1)  # first epoch at or below -1 nat, per seed
print("first epoch with a loss <= -1 nat, per seed:", below.tolist())
check("every run reaches -1 nat", bool(reached.all()), f"per seed {reached.tolist()}")
below_summary = report("ch7_below_minus1", below, at_least=50, at_most=500, digits=0)

# %% mystnb={"figure": {"caption": "Training loss of one run (seed 0): mean negative log-likelihood per point over 3,000 full-batch Adam epochs, with the Bayes limit of the inverse problem as a dashed line.", "name": "fig-ch7-loss"}, "image": {"alt": "A loss curve falling steeply from below 1 nat to about -1 within the first few hundred epochs, then running along a nearly level stretch a little below -1, interrupted by brief upward spikes, and staying above a dashed horizontal line near -1.28."}}
fig, ax = plotting.plot_loss(histories[0], "NLL (nats)", bayes_nll, "Bayes limit")
ax.set_title("one run (seed 0)")
plt.show()

# %% [markdown]
# {numref}`fig-ch7-loss` shows the usual shape. First a steep fall, while the components
# move onto the branches of the data: the loss of the three runs first reaches $-1$ nat
# after {glue:text}`ch7_below_minus1` epochs (mean ± sd over the seeds). Then a long,
# nearly level stretch, interrupted by brief upward spikes from which
# the loss soon recovers. The curve ends above the dashed line.
# One of the exercises below counts the spikes.
#
# ## Is it still learning?
#
# It is tempting to put part of the distance to the dashed line down to a loss still
# creeping down at the last epoch. That is a claim about the end of the trace, so we zoom
# in on it, for all three runs.

# %% mystnb={"figure": {"caption": "Training loss of the three runs over their last 2,000 epochs, with a dot on each run's lowest loss where it falls in this window. The vertical axis is cut at -0.85 nat, so the tops of the spikes are off the chart.", "name": "fig-ch7-loss-end"}, "image": {"alt": "Three noisy loss traces a little below -1 nat, each with many upward spikes and nearly level between them, and dots mark the lowest point of each run whose lowest loss falls in this window, not necessarily near its end."}}
fig, ax = plotting.plot_loss_runs(
    {f"seed {seed}": histories[seed] for seed in SEEDS}, "NLL (nats)", first_epoch=1000
)
ax.set_ylim(-1.15, -0.85)
plt.show()

# %% [markdown]
# Two things to look for in {numref}`fig-ch7-loss-end`: whether the loss of each run still
# drifts down between spikes, and whether a spike threw a run out of a better state than
# it found again before the end (its lowest loss is then not near its end). We measure
# both. The **drift** is the fall of the median training loss from the 100 epochs that
# ended 500 epochs before the last to the last 100 epochs (a median, so that a spike
# inside a window counts little). The **setback** is how far the trained model's training
# loss sits above the lowest loss its run ever recorded.

# %% tags=["nbval-ignore-output"]
final_train = np.array([mean_nll(models[seed], t_train, x_train) for seed in SEEDS])
drift = np.median(loss_all[:, -600:-500], axis=1) - np.median(loss_all[:, -100:], axis=1)
setback = final_train - loss_all.min(axis=1)
lowest_at = loss_all.argmin(axis=1)
print("seed  drift over the last 500 epochs  setback  lowest loss at epoch")
for i, seed in enumerate(SEEDS):
    print(f"{seed:4d}  {drift[i]:30.3f}  {setback[i]:7.3f}  {lowest_at[i]:20d}")

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims of the next paragraph: in every run the drift is small either way, and no
# trained model sits below its run's lowest loss (beyond float32 rounding) or far above it.
drift_summary = report("ch7_drift", drift, at_least=-0.15, at_most=0.15)
setback_summary = report("ch7_setback", setback, at_least=-0.001, at_most=0.15)

# %% [markdown]
# Over the last 500 epochs the median loss fell by {glue:text}`ch7_drift` nats, and the
# trained models sit {glue:text}`ch7_setback` nats above the lowest loss their own run had
# reached (mean ± standard deviation over the seeds; a run that ends on its lowest loss
# has a setback of 0, and a negative drift is a rise). In every run both lie within 0.15
# nat of zero. So the end of the trace is no steady creep towards the limit: in every run
# the loss changes little over hundreds of epochs, in whichever direction (the table above
# gives each run's), and a late spike can leave a run above its lowest loss.
#
# ## How good is the fit?
#
# A training loss can flatter a model that memorised its data. We score each trained MDN
# on 20,000 fresh points drawn with another seed, with
# {py:func}`~mdn_src.metrics.mean_nll` from `mdn_src/metrics.py` (inputs `t_test`,
# targets `x_test`), and compare with the Bayes limit.

# %% tags=["nbval-ignore-output"]
x_test, t_test = make_toy_data(20_000, seed=1)
heldout = np.array([mean_nll(models[seed], t_test, x_test) for seed in SEEDS])
gap = heldout - bayes_nll
print("seed  training NLL  held-out NLL  gap to the Bayes limit")
for i, seed in enumerate(SEEDS):
    print(f"{seed:4d}  {final_train[i]:12.3f}  {heldout[i]:12.3f}  {gap[i]:22.3f}")
train_summary = report("ch7_train_nll", final_train)
heldout_summary = report("ch7_heldout_nll", heldout, at_least=-1.18, at_most=-0.88)
gap_summary = report("ch7_gap", gap, at_least=0.1, at_most=0.4)  # the same band, shifted
for summary in (train_summary, heldout_summary, gap_summary):
    print(f"{summary.name:16s} {summary}")

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims of the next two paragraphs: in every seed the held-out NLL is within a few
# hundredths of a nat of the training NLL (no overfitting), and on average the drift of
# the last 500 epochs is less than half of the gap.
overfit = report("ch7_overfit", heldout - final_train, at_least=-0.03, at_most=0.04)
drift_share = report("ch7_drift_share", 100 * drift / gap, of="mean", at_most=50, digits=0)

# %% [markdown]
# Over the {glue:text}`ch7_n_seeds` seeds the trained MDN scores
# {glue:text}`ch7_train_nll` nats per point on its training data and
# {glue:text}`ch7_heldout_nll` on the fresh points (mean ± standard deviation over seeds):
# in every seed the two differ by a few hundredths of a nat at most, so the models did not
# overfit. They stay {glue:text}`ch7_gap` nats above the Bayes limit of
# {glue:text}`ch7_bayes_nll:.3f`. A mean over three seeds is itself uncertain: another
# training of the same recipe and seeds (on another machine, or in {ref}`ch-truth`) gives
# somewhat different numbers.
#
# On average over the seeds, the drift we measured is at most half of that gap: it comes
# to {glue:text}`ch7_drift_share_mean:.0f`% of the gap (a negative share is a rise). How much
# longer training would gain, and what else the gap is made of, needs experiments of its
# own. One candidate is the shape of the answer: the true $p(x \mid t)$ is a set of flat
# boxes with hard edges, and a sum of smooth Gaussians can only approximate a box: its top
# ripples, and its edges are slopes rather than cliffs, so some probability leaks outside the boxes, where no data ever
# falls, and the density inside is lower than it should be. Others are the 2,500 training
# points the model learns from and the way it is optimised. {ref}`ch-truth` takes the gap
# apart with experiments that isolate each.
#
# ## PRML's own setting
#
# The network above is the source post's: $K = 30$ components on 50 tanh units. PRML's
# Fig. 5.21 trains a far smaller one on the same kind of data: $K = 3$ components, one per
# branch of the S, on 5 tanh units, the network drawn in {numref}`fig-ch5-architecture`.
# We train it with the same recipe (Adam, learning rate 0.008, 3,000 full-batch epochs),
# from seeds 0 to 4, and the post's network from the same five seeds (the three above and
# two more), on the same data; the book ships all ten results. Then we ask what each
# buys: a held-out score, a training time, and a picture of the mixing coefficients.

# %% tags=["nbval-ignore-output"]
SEEDS5 = (0, 1, 2, 3, 4)
NETWORKS = {"post": dict(n_components=30, hidden=50), "prml": dict(n_components=3, hidden=5)}
five, five_nll = {}, {}
for label, sizes in NETWORKS.items():
    for seed in SEEDS5:
        torch.manual_seed(seed)
        five[label, seed] = MDN(1, 1, **sizes)
        fit_cached(five[label, seed], t_train, x_train, epochs=3000, lr=0.008,
                   name=f"ch7-{'mdn' if label == 'post' else 'prml'}-seed{seed}",
                   shipped="models/cache")  # fmt: skip
    five_nll[label] = np.array([mean_nll(five[label, s], t_test, x_test) for s in SEEDS5])
    print(f"{label}: held-out NLL per seed {np.round(five_nll[label], 3).tolist()}")
glue("ch7_prml_weights", sum(p.numel() for p in five["prml", 0].parameters()), display=False)
post_five = report("ch7_post_five", five_nll["post"], at_least=-1.18, at_most=-0.88)
prml_five = report("ch7_prml_five", five_nll["prml"], at_least=-1.18, at_most=-0.88)

# %% [markdown]
# Over the five seeds PRML's network scores {glue:text}`ch7_prml_five` nats per point on
# the fresh data, and the post's {glue:text}`ch7_post_five` (mean ± sd over the seeds),
# with {glue:text}`ch7_prml_weights` weights against {glue:text}`ch7_n_weights`. Does the
# post's network do better? The next section shows how to answer that, and whether these
# five seeds can. What the small network costs to train, we time: one training step
# (loss, gradient and Adam's update) of each, on networks and optimisers built once,
# alternating the two 30 times, with the ratio of the median times.

# %% tags=["nbval-ignore-output"]
inputs, targets = torch.from_numpy(t_train), torch.from_numpy(x_train)
timed = {}
for label, sizes in NETWORKS.items():
    torch.manual_seed(0)
    net = MDN(1, 1, **sizes)
    timed[label] = net, torch.optim.Adam(net.parameters(), lr=0.008)
step_seconds = {label: [] for label in NETWORKS}
for _ in range(30):
    for label, (net, optimiser) in timed.items():
        start = time.perf_counter()
        optimiser.zero_grad()
        net.training_loss(inputs, targets).backward()
        optimiser.step()
        step_seconds[label].append(time.perf_counter() - start)
time_ratio = np.median(step_seconds["post"]) / np.median(step_seconds["prml"])
print(f"median step: post {1e3 * np.median(step_seconds['post']):.2f} ms, "
      f"PRML {1e3 * np.median(step_seconds['prml']):.2f} ms; ratio {time_ratio:.1f}")  # fmt: skip
glue("ch7_time_ratio_text", f"{time_ratio:.1f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# One machine's timing, so a loose claim: the post's network costs more per step.
report("ch7_time_ratio", [time_ratio], at_least=1.5, digits=1)

# %% [markdown]
# On the machine that built this page a step of the post's network took
# {glue:text}`ch7_time_ratio_text` times as long as one of PRML's (one timing run): the
# cost of a step grows with the weights and with $K$, since the loss touches every
# component at every point. And what PRML plots, the mixing coefficients $\pi_k(t)$ of its
# three components, looks for the network of seed 0 like this:

# %% mystnb={"figure": {"caption": "Mixing coefficients $\\pi_k(t)$ of PRML's setting ($K = 3$, 5 tanh units; one run, seed 0) against the input $t$, one line style per component: compare PRML's Fig. 5.21a.", "name": "fig-ch7-prml-pi"}, "image": {"alt": "Three curves of mixing coefficients over t between 0 and 1: at the left end one component has nearly all the weight, at the right end another one does, and in the middle range of t, where the data have three branches, all three share the weight."}}
t_line = np.linspace(0, 1, 201, dtype=np.float32)
fig, ax = plotting.new_axes("$t$", r"$\pi_k(t)$", "PRML's setting, one run (seed 0)")
prml_pi = five["prml", 0].mixture_parameters(t_line[:, None])
plotting.plot_mixing_coefficients(ax, t_line, prml_pi)
plotting.finish(ax)
plt.show()

# %% tags=["remove-cell", "nbval-ignore-output"]
# One run (seed 0), as the figure: at both ends of the range one component has nearly all.
end_pi = prml_pi.pi[[0, -1]].max(-1).values.detach().numpy()  # at t = 0 and t = 1
report("ch7_prml_end_pi", end_pi, at_least=0.9, glue=False)
glue("ch7_prml_end_pi", f"{np.floor(100 * end_pi.min()) / 100:.2f}", display=False)

# %% [markdown]
# {numref}`fig-ch7-prml-pi` is PRML's picture: near the ends of the range of $t$, where
# the data have a single branch, one component carries nearly all the weight (in this run,
# at least {glue:text}`ch7_prml_end_pi` at $t = 0$ and at $t = 1$), and in the middle range,
# where there are three branches, the weight is shared, one component per branch. The
# post's thirty components share the same work among many more of them ({ref}`ch-sampling`
# plots them). {ref}`ch-k-calibration` varies $K$ alone, on a smaller version of the
# problem, and finds the held-out NLL flat from $K = 3$ on.
#
# (sec-error-bars)=
# ## Error bars that can carry a comparison
#
# Most scores in this book are a mean ± sd over seeds. The two numbers answer different
# questions, and a comparison needs a third.
#
# **The sd describes one run.** The post's network scored {glue:text}`ch7_post_five`
# nats: a single run of this recipe typically lands about {glue:text}`ch7_post_five_sd:.3f`
# nats from the mean. That spread does not shrink with more seeds; it is the recipe's.
#
# **The standard error describes the mean.** The mean of $n$ seeds moves from one set of
# seeds to another by about $\mathrm{sd} / \sqrt{n}$, here {glue:text}`ch7_post_five_se:.3f`
# nats; with the Student-$t$ quantile for $n - 1$ degrees of freedom, the 95% interval
# of the mean is {glue:text}`ch7_post_five_ci`. The standard error shrinks like
# $1/\sqrt{n}$: four times the seeds, half the standard error. With few seeds the interval
# shrinks faster still, because the quantile $t_{n-1}$ falls too (from
# {glue:text}`ch7_t_5` at five seeds to {glue:text}`ch7_t_20` at twenty).
#
# **A comparison needs the differences.** To say that one method beats another, look at
# the difference of their scores seed by seed, on the same data and test points, and at
# the interval of *its* mean. `mdn_src.paired(name, a, b, ...)` reports that difference and
# checks a claim on it: `at_most=0` says "a is at least as good in every seed";
# `of="interval", at_most=0` says "a is better on average, and the 95% interval of the
# mean difference excludes 0". Two overlapping mean ± sd say neither yes nor no: what varies
# from seed to seed may be shared by both methods, and then it cancels in the
# differences, which can order two methods whose bars overlap.
# {ref}`ch-real-data` is the clearest case in the book: each of its splits of the data
# moves both methods alike.

# %% tags=["nbval-ignore-output"]
post_minus_prml = paired("ch7_post_minus_prml", five_nll["post"], five_nll["prml"])
low, high = post_minus_prml.interval()
print(f"post minus PRML, per seed: {np.round(post_minus_prml.values, 3).tolist()}")
print(f"mean {post_minus_prml.mean:+.3f}, sd {post_minus_prml.sd:.3f}, 95% interval "
      f"[{low:+.3f}, {high:+.3f}]")  # fmt: skip
resolved = low > 0 or high < 0
glue("ch7_pair_verdict", "excludes 0: these seeds order the two networks" if resolved else
     "includes 0: these five seeds cannot order the two networks", display=False)  # fmt: skip
needed = seeds_needed(post_minus_prml.sd, post_minus_prml.mean)
glue("ch7_seeds_needed", f"{needed:,}" if needed <= 10_000 else "more than 10,000", display=False)
glue("ch7_seeds_needed_01", seeds_needed(post_minus_prml.sd, 0.1), display=False)
for n in (5, 20):  # the 97.5% quantile of Student's t with n - 1 degrees of freedom
    glue(f"ch7_t_{n}", f"{stats.t.ppf(0.975, n - 1):.2f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# What the prose says of the comparison holds on any machine: the two are within 0.1 nats on
# average (neither is far ahead), and the verdict sentence is computed from the interval.
report("ch7_post_minus_prml_avg", post_minus_prml.values, of="mean", at_least=-0.1,
       at_most=0.1, glue=False)  # fmt: skip

# %% [markdown]
# Post minus PRML, seed by seed, is {glue:text}`ch7_post_minus_prml` nats, and the 95%
# interval of its mean, {glue:text}`ch7_post_minus_prml_ci`,
# {glue:text}`ch7_pair_verdict`. Here pairing cannot help much: the two networks share the
# data and the test points but not their initial weights, and most of the spread between
# seeds comes from those weights and the chaotic path of training, which differ.
#
# **How many seeds a claim needs.** If the differences spread by $s$ from seed to seed, the
# interval's half-width is $t_{n-1}\, s / \sqrt{n}$, and to exclude 0 it must be smaller
# than the true difference. `mdn_src.seeds_needed(sd, difference)` finds the smallest such
# $n$. With the spread measured here, a difference the size of the mean we saw would need
# about {glue:text}`ch7_seeds_needed` seeds; one of 0.1 nats, {glue:text}`ch7_seeds_needed_01`.
# Read these as lower bounds: at exactly that many seeds an interval excludes 0 only about
# half the time, and an sd measured on five seeds is itself rough; to be fairly sure, plan
# for about twice as many. Small differences between good models need many seeds, or a
# design in which the seeds share more (the same initial weights, the same data splits),
# so that the differences spread less. The book's comparisons follow these rules: every
# sentence that orders two methods by a score over seeds rests on a `paired` claim over
# the same seeds, checked in the chapter's code, and a single run is labelled as one.
#
# ## Watching it learn
#
# The numbers above describe the end of training. To see how the network gets there, we
# take snapshots during training. `fit` accepts a `callback(epoch, model)`, which it calls
# after every epoch with the model in evaluation mode and gradients switched off. Ours
# evaluates the density on a coarse grid of $(t, x)$ pairs, and the components' means and
# mixing coefficients at every fourth $t$ of the grid, after 21 epochs spaced more closely
# early on, where the density changes fastest.
#
# To evaluate a density on a grid we do not loop over it: the network computes one mixture
# per $t$ of the grid, and `density_grid` scores every $x$ of the grid under each of them
# in one batch.


# %%
t_coarse = np.linspace(-0.1, 1.1, 61, dtype=np.float32)
x_coarse = np.linspace(-0.1, 1.1, 61, dtype=np.float32)
t_means = t_coarse[::4]
REPLAY_EPOCHS, N_FRAMES = 400, 21  # frames after 0, 1, 4, 9, ..., 400 epochs
steps = np.round(REPLAY_EPOCHS * np.linspace(0, 1, N_FRAMES) ** 2).astype(int)
frame_epochs = set(steps.tolist())
frames = {}


def snapshot(epoch, model):
    """fit's callback: after epoch `epoch` (counted from 0), keep a frame if one is due."""
    if epoch + 1 in frame_epochs:
        params = model.mixture_parameters(t_means.reshape(-1, 1))
        density = density_grid(model.mixture_parameters(t_coarse.reshape(-1, 1)), x_coarse).numpy()
        frames[epoch + 1] = density, params.mu[..., 0].numpy(), params.pi.numpy()


# %% [markdown]
# Then we train a fresh copy of the seed-0 network, with the same recipe, for the first
# 400 epochs. (It uses `fit`, not `fit_cached`: a stored result would skip the callback.)
# The callback only reads the model, so this run takes exactly the same steps as the same
# training without it; the cell checks that by training once more without the callback.
# On the machine that trained the seed-0 model above, the animation therefore replays the
# start of that model. Elsewhere, and from the shipped file, which was trained on another
# machine, it shows a run of the same recipe and seed whose last bits may differ: training
# is chaotic, so its losses can soon part from that run's, and its density then looks
# alike rather than identical.

# %%
torch.manual_seed(0)
replay = MDN(1, 1, n_components=30, hidden=50)
with torch.no_grad():
    snapshot(-1, replay.eval())  # the untrained network, "after 0 epochs"
replay_history = fit(replay, t_train, x_train, epochs=REPLAY_EPOCHS, lr=0.008, callback=snapshot)
torch.manual_seed(0)  # the same run without the callback
plain_history = fit(MDN(1, 1, n_components=30, hidden=50), t_train, x_train,
                    epochs=REPLAY_EPOCHS, lr=0.008)  # fmt: skip
same = np.array_equal(replay_history.train, plain_history.train)
print(f"{len(frames)} frames; the same losses as without the callback: {same}")
check("the callback changes no step of training", same, "the losses differ")
check("one frame per scheduled epoch", sorted(frames) == sorted(frame_epochs), str(sorted(frames)))

# %% [markdown]
# `animate_density` from `mdn_src/plotting/` turns the snapshots into an animation, on
# the book's logarithmic colour scale. The dots are the components' means, with area
# proportional to their mixing coefficient $\pi_k$, so a component the network has
# switched off at some $t$ vanishes there. Press play, or step through the frames.

# %% tags=["nbval-ignore-output"]
epochs_shown = sorted(frames)
densities = np.stack([frames[e][0] for e in epochs_shown])  # [21, 61, 61]
check("every frame is a finite density", bool(np.isfinite(densities).all() and
      (densities >= 0).all()), f"{len(epochs_shown)} frames")  # fmt: skip
anim = plotting.animate_density(
    t_coarse,
    x_coarse,
    densities,
    epochs_shown,
    means=np.stack([frames[e][1] for e in epochs_shown]),  # [21, 16, 30]
    weights=np.stack([frames[e][2] for e in epochs_shown]),
    component_inputs=t_means,
)
HTML(anim.to_jshtml())

# %% [markdown]
# The last frame, as a still image (larger, with the same colour scale):

# %% mystnb={"figure": {"caption": "The last frame of the animation: the conditional density $p(x \\mid t)$ of the replayed run (seed 0) after 400 epochs, on a coarse grid, with each component's mean as a dot of area proportional to its mixing coefficient.", "name": "fig-ch7-replay-end"}, "image": {"alt": "Heat map over t and x with dots: dark bands along the lower and upper rising branches of the data, and a paler falling branch between them; the component dots sit along the bands."}}
fig, ax = plotting.new_axes("$t$", "$x$", "the replay (seed 0), after 400 epochs")
plotting.plot_density(ax, t_coarse, x_coarse, frames[REPLAY_EPOCHS][0])
plotting.plot_component_means(
    ax, t_means, replay.mixture_parameters(t_means.reshape(-1, 1)), "component means", every=1
)
ax.set_xlim(-0.1, 1.1)
ax.set_ylim(-0.1, 1.1)
plotting.finish(ax)
plt.show()

# %% [markdown]
# The animation shows the steep fall of {numref}`fig-ch7-loss` at work. The untrained
# network spreads a wide, almost flat density over the whole square. In the first few
# frames it gathers into one broad band rising with $t$, the kind of single-valued answer
# the least-squares network of {ref}`ch-inverse` gave. The band then splits into strands
# along the two rising branches, and a falling branch appears across them: the middle
# branch of the S, where three values of $x$ fit one $t$. For the rest of the 400 epochs
# the branches narrow and darken, and the components' dots gather on them; in
# {numref}`fig-ch7-replay-end` the density is still rougher than the data's. The
# remaining 2,600 epochs of the seed-0 recipe turn such a density into the one below.
#
# ## The learnt density
#
# For the trained network of seed 0 we evaluate the density on a finer grid, and the exact
# density from the oracle on the same grid.

# %%
t_img = np.linspace(-0.1, 1.1, 241, dtype=np.float32)
x_img = np.linspace(-0.1, 1.1, 241, dtype=np.float32)
learnt = density_grid(mdn.mixture_parameters(t_img.reshape(-1, 1)), x_img).numpy()  # [t, x]
t_pairs, x_pairs = np.meshgrid(t_img, x_img, indexing="ij")
exact = oracle.inverse_density(x_pairs, t_pairs)  # [t, x]
print(learnt.shape, exact.shape)

# %% [markdown]
# Both images below are drawn by `plot_density` from `mdn_src/plotting/`, on the book's one
# logarithmic colour scale, from 0.1 to 30 (darker is higher). A logarithmic scale shows at
# once the tall density where only one branch exists and the faint haze of probability that
# a model spreads where the true density is zero.

# %% mystnb={"figure": {"caption": "The conditional density $p(x \\mid t)$ learnt by the MDN ($K = 30$) of one run (seed 0), after 3,000 epochs, on a grid of (t, x) pairs.", "name": "fig-ch7-learnt-density"}, "image": {"alt": "Heat map over t (horizontal) and x (vertical): a dark band follows the lower branch up to t of about 0.5 and another the upper branch from about 0.3; between them, in the middle range of t, two broad, paler wedges cover the middle of the S, crossing near t = 0.5; the edges are soft, and faint spurs of density reach beyond the data."}}
fig, ax = plotting.new_axes("$t$", "$x$", "learnt by the MDN, one run (seed 0)")
plotting.plot_density(ax, t_img, x_img, learnt)
plt.show()

# %% mystnb={"figure": {"caption": "The exact conditional density $p(x \\mid t)$ of the inverse problem, from the oracle: uniform on the x that can produce t.", "name": "fig-ch7-exact-density"}, "image": {"alt": "Heat map over t and x: an S-shaped band, darkest at both ends of the range of t where one branch exists and paler in the middle range where three do, with sharp edges and one constant shade across each vertical slice."}}
fig, ax = plotting.new_axes("$t$", "$x$", "exact")
plotting.plot_density(ax, t_img, x_img, exact)
plt.show()

# %% [markdown]
# {numref}`fig-ch7-learnt-density` and {numref}`fig-ch7-exact-density` tell the same
# story. The MDN of this run has found the outline: one band at each end of the range of
# $t$, and in the middle range, where three branches coexist, density over the whole width
# of the S. They differ in the details: the exact density stops dead at the boundary of
# each box and has one shade across each vertical slice, while the learnt one fades out
# over a short distance, varies within a slice, and can spread faint density where no data
# lies.
# Both differences cost
# likelihood: every bit of probability placed outside the boxes is missing inside them,
# and a density that varies across a box is too low somewhere in it. Such differences make
# up the gap to the Bayes limit we measured above.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch07-gap-by-hand
#
# Compute the gap to the Bayes limit by hand from the numbers in this chapter: the mean
# held-out NLL over the seeds and the Bayes limit. Then explain why the standard deviation
# of the gap over the seeds is exactly that of the held-out NLL.
# ```
#
# ```{solution} ex-ch07-gap-by-hand
# :class: dropdown
#
# The gap is the held-out NLL minus the limit: {glue:text}`ch7_heldout_nll_mean:.3f` $-$
# ({glue:text}`ch7_bayes_nll:.3f`) = {glue:text}`ch7_gap_mean:.3f` nats, up to the
# rounding of the two numbers. The Bayes limit is a constant, the same for every seed, so subtracting it
# shifts every seed's score by the same amount: the mean moves with it and the spread does
# not change ({glue:text}`ch7_gap_sd:.3f` and {glue:text}`ch7_heldout_nll_sd:.3f`).
# ```
#
# ```{exercise}
# :label: ex-ch07-spikes
#
# Count a spike as an epoch whose training loss is more than 0.05 nats above the previous
# epoch's. Do spikes become rarer as training goes on? Predict, then count them for each
# seed in epochs 1 to 1,000, 1,001 to 2,000 and 2,001 to 3,000, from `histories`.
# ```
#
# ```{solution-start} ex-ch07-spikes
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
jumps = np.diff(loss_all, axis=1) > 0.05  # [seeds, epochs - 1]: epoch e+1 vs epoch e
per_third = np.add.reduceat(jumps, [0, 999, 1999], axis=1)  # [seeds, 3]
for seed, counts in zip(SEEDS, per_third, strict=True):
    print(f"seed {seed}: spikes per thousand epochs {counts.tolist()}")
fewer = report(
    "ch7_spikes_fewer", per_third[:, 0] - per_third[:, 2], of="mean", at_least=5, digits=0
)
print(f"first thousand minus last thousand, mean ± sd over the seeds: {fewer}")

# %% [markdown]
# Rarer, on average: over the seeds the last thousand epochs have
# {glue:text}`ch7_spikes_fewer_mean:.0f` spikes fewer than the first thousand. That is a
# statement about the mean; the counts printed above show each run, and nothing makes a
# given run's count fall from every thousand to the next. The learning rate stays at
# 0.008 all along; a learning rate that decays over training, such as a cosine schedule
# (`fit(..., schedule="cosine")`), is the usual remedy for late spikes.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch07-one-component
#
# Change the model and predict: with $K = 1$ the MDN is a single Gaussian whose mean and
# standard deviation both depend on $t$ (heteroscedastic regression). Train it like
# `replay`, the network of the animation (seed 0, 400 epochs, learning rate 0.008), and
# compare its held-out NLL with the
# $K = 30$ network's after the same 400 epochs. Which will be better, and by roughly how
# much: hundredths of a nat, tenths, or more?
# ```
#
# ```{solution-start} ex-ch07-one-component
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
single = MDN(1, 1, n_components=1, hidden=50)
fit(single, t_train, x_train, epochs=REPLAY_EPOCHS, lr=0.008)
k1, k30 = mean_nll(single, t_test, x_test), mean_nll(replay, t_test, x_test)
print(f"held-out NLL after {REPLAY_EPOCHS} epochs: K = 1 {k1:.3f}, K = 30 {k30:.3f}")
k1_summary = report("ch7_k1_minus_k30", [k1 - k30], at_least=0.5, digits=2)  # one run

# %% [markdown]
# $K = 30$ is better, by {glue:text}`ch7_k1_minus_k30_mean:.2f` nats in this one run
# (seed 0): more than half a nat, where good models elsewhere in the book differ by
# hundredths. A single Gaussian has to cover all the
# branches at once where there are three, so it spreads its density over the gaps between them, where no data lies: the
# price of one bump for a many-valued answer.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch07-prml-switch
#
# Predict from the data, then measure: in {numref}`fig-ch7-prml-pi`, between which values of
# $t$ does no single component of PRML's network hold more than 90% of the weight? Compare
# with the range of $t$ where the data have three branches (`oracle.branch_count`).
# ```
#
# ```{solution-start} ex-ch07-prml-switch
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
is_shared = (prml_pi.pi.max(-1).values < 0.9).numpy()  # [201]: no component above 90%
three = oracle.branch_count(t_line) == 3
shared = t_line[is_shared]
print(f"no component above 90%: t from {shared.min():.2f} to {shared.max():.2f}")
print(f"three branches: t from {t_line[three].min():.2f} to {t_line[three].max():.2f}")
check("the weight is shared at every t with three branches", bool(is_shared[three].all()),
      f"not shared at t = {t_line[three & ~is_shared]}")  # fmt: skip
glue("ch7_shared_before", f"{t_line[three].min() - shared.min():.2f}", display=False)
glue("ch7_shared_after", f"{shared.max() - t_line[three].max():.2f}", display=False)

# %% [markdown]
# The weight is shared at every $t$ where the S has three branches (checked), and in this
# run beyond them, by {glue:text}`ch7_shared_before` in $t$ on the left and
# {glue:text}`ch7_shared_after` on the right: the network's $\pi_k(t)$ are smooth functions
# of $t$, so they cannot switch at a hard edge. (The printed ranges are this run's.)
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch07-paired
#
# Compute by hand, from the per-seed scores printed in the section on PRML's setting: the mean and
# sd of the post's network and of PRML's, the unpaired difference of the means, and the
# mean and sd of the seed-by-seed differences. Then use `seeds_needed` to ask how many seeds
# a difference of 0.02 nats would need at the spread of the differences you measured.
# ```
#
# ```{solution-start} ex-ch07-paired
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
for label in NETWORKS:
    print(f"{label}: {five_nll[label].mean():.3f} ± {five_nll[label].std(ddof=1):.3f}")
differences = five_nll["post"] - five_nll["prml"]
print(f"difference of the means {five_nll['post'].mean() - five_nll['prml'].mean():+.3f}")
print(f"paired: {differences.mean():+.3f} ± {differences.std(ddof=1):.3f}")
print(f"seeds for 0.02 nats: {seeds_needed(differences.std(ddof=1), 0.02)}")
unpaired = five_nll["post"].mean() - five_nll["prml"].mean()
check("the difference of the means is the mean of the differences", bool(
      np.isclose(unpaired, differences.mean(), rtol=0, atol=1e-12)))  # fmt: skip
combined = np.hypot(five_nll["post"].std(ddof=1), five_nll["prml"].std(ddof=1))
together = differences.std(ddof=1) < combined
glue("ch7_paired_vs_combined", f"{differences.std(ddof=1):.3f}, " + (
     f"below the {combined:.3f} of the two combined: the scores moved together" if together
     else f"above the {combined:.3f} of the two combined: the seed that is best for one "
     "network is not best for the other"), display=False)  # fmt: skip
for_002 = seeds_needed(differences.std(ddof=1), 0.02)
glue("ch7_seeds_for_002", for_002, display=False)

# %% [markdown]
# The difference of the means and the mean of the differences are the same number, always:
# pairing changes the *spread*, and so the interval, not the estimate. The sd of the
# differences is below the two sds combined ($\sqrt{s_a^2 + s_b^2}$) only as far as the
# two scores move together from seed to seed; in this run it is
# {glue:text}`ch7_paired_vs_combined`. A difference of 0.02 nats at this spread needs
# {glue:text}`ch7_seeds_for_002` seeds. And an interval that includes 0 also includes differences of a few hundredths
# either way: no evidence of a difference is not evidence that there is none, which is
# why the book says "cannot order" rather than "the same".
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch07-lowest
#
# `fit` can keep the weights of the epoch with the best *validation* loss
# (`validation_fraction=...` with `patience=...`, restoring the best weights). Why not
# simply keep the weights of the epoch with the lowest *training* loss, which would undo
# the setback measured above? Think about what the training loss of a model with
# thousands of weights and 2,500 points rewards.
# ```
#
# ```{solution} ex-ch07-lowest
# :class: dropdown
#
# The lowest training loss rewards fitting these 2,500 points, not new ones: on its own it
# cannot tell a better model from one that has begun to memorise its data. Here the
# training and held-out scores are close, so it might help; but nothing in the training
# loss alone tells us so. A validation split, data the optimiser never sees, does, at the
# price of fewer points to train on.
# ```
#
# ## What you learnt
#
# - With the post's settings (Adam, learning rate 0.008, 3,000 full-batch epochs) the
#   MDN's loss falls steeply within a few hundred epochs, then runs nearly level,
#   interrupted by spikes.
# - A score is a distribution over training runs, and a run repeats exactly only on one
#   machine: over {glue:text}`ch7_n_seeds` seeds the held-out NLL is
#   {glue:text}`ch7_heldout_nll` nats, {glue:text}`ch7_gap` above the Bayes limit.
# - Over the last 500 epochs the loss changed by only {glue:text}`ch7_drift` nats (mean ±
#   sd over the seeds), less than half the gap on average, and a spike can leave a run above
#   its own lowest loss: the loss trace alone does not explain the gap.
# - PRML's small network ($K = 3$, 5 tanh units) scores {glue:text}`ch7_prml_five` nats over
#   five seeds, the post's {glue:text}`ch7_post_five`; a step of the post's costs
#   {glue:text}`ch7_time_ratio_text` times as much on the machine that built this page, and
#   PRML's three mixing coefficients share the weight, one per branch.
# - The sd over seeds describes a run, the standard error the mean; ordering two methods
#   needs the interval of their paired differences, and small differences need many seeds.
# - `fit(..., callback=...)` sees the model after every epoch; snapshots of the density
#   show the band of the least-squares answer splitting into branches.
#
# A trained MDN gives a whole density for every input. {ref}`ch-sampling` turns that density
# into predictions: modes, means and samples.
