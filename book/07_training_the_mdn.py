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
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML
from myst_nb import glue

from mdn_src import (
    MDN,
    density_grid,
    fit,
    fit_cached,
    make_toy_data,
    mean_nll,
    oracle,
    plotting,
)

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count
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
# epoch is one optimiser step on all 2,500 training points. `fit` (in `mdn_src/train.py`)
# minimises `mdn.loss`, the mean negative log-likelihood of {ref}`ch-implementation`.
#
# Training a network is deterministic once its initial weights are fixed, but another seed
# gives other initial weights and another trained network, with another score. A single
# run therefore tells us about that run, not about the recipe. We train three
# networks that differ only in the seed of their initial weights, and report every score
# as the mean ± standard deviation over the three. The network of seed 0 is the one the
# figures show.
#
# Each run goes through `fit_cached` ({py:func}`~mdn_src.cache.fit_cached`), which calls
# `fit` once and keeps the trained weights: {ref}`ch-sampling` needs the model of seed 0 and
# loads it instead of training it again. The three trainings take about half a minute on
# one CPU thread, so the book ships their results in `book/models/cache`, and
# `shipped="models/cache"` lets `fit_cached` look there first. A stored file is found only
# under the key of everything that decides the result (the architecture and initial
# weights, the data, `fit`'s arguments, the library's training code, the torch version,
# the CPU code path and the thread count), and training is deterministic on one thread, so
# what it loads is, bit for bit, what this call would train; `tests/test_shipped_models.py`
# retrains seed 0 to check. With another torch version or processor the key differs, and
# `fit_cached` warns and trains.

# %%
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

# %%
loss_all = np.stack([np.asarray(histories[seed]) for seed in SEEDS])  # [seeds, epochs]
below = (loss_all <= -1.0).argmax(axis=1)  # first epoch at or below -1 nat, per seed
glue("ch7_below_minus1_mean", round(float(below.mean())), display=False)
glue("ch7_below_minus1_sd", round(float(below.std(ddof=1))), display=False)
print("first epoch with a loss <= -1 nat, per seed:", below.tolist())

# %% mystnb={"figure": {"caption": "Training loss of one run (seed 0): mean negative log-likelihood per point over 3,000 full-batch Adam epochs, with the Bayes limit of the inverse problem as a dashed line.", "name": "fig-ch7-loss"}, "image": {"alt": "A loss curve falling steeply from below 1 nat to about -1 within the first two hundred epochs, then running along a level between about -1.05 and -1.1, interrupted by brief upward spikes, the highest, near epoch 1,800, reaching about -0.1, and staying above a dashed horizontal line near -1.28."}}
fig, ax = plotting.plot_loss(histories[0], "NLL (nats)", bayes_nll, "Bayes limit")
ax.set_title("one run (seed 0)")
plt.show()

# %% [markdown]
# {numref}`fig-ch7-loss` shows the usual shape. First a steep fall, while the components
# move onto the branches of the data: the loss of the three runs first reaches $-1$ nat
# after {glue:text}`ch7_below_minus1_mean:.0f` ± {glue:text}`ch7_below_minus1_sd:.0f`
# epochs. Then a long, nearly level stretch, interrupted by brief upward spikes from which
# the loss recovers within tens of epochs. The curve stays well above the dashed line.
# One of the exercises below counts the spikes.
#
# ## Is it still learning?
#
# It is tempting to put part of the distance to the dashed line down to a loss still
# creeping down at the last epoch. That is a claim about the end of the trace, so we zoom
# in on it, for all three runs.

# %% mystnb={"figure": {"caption": "Training loss of the three runs over their last 2,000 epochs, with a dot on each run's lowest loss where it falls in this window. The vertical axis is cut at -0.85 nat, so the tops of the spikes are off the chart.", "name": "fig-ch7-loss-end"}, "image": {"alt": "Three noisy loss traces between about -1.12 and -0.85 nat, each with many upward spikes; between spikes each trace drifts down slowly. The seed-0 trace runs lowest, near -1.11, from about epoch 1,050 to 1,450, where a dot marks its lowest point, and ends near -1.08 with the others; a second dot marks the lowest point of seed 2, near its end."}}
fig, ax = plotting.plot_loss_runs(
    {f"seed {seed}": histories[seed] for seed in SEEDS}, "NLL (nats)", first_epoch=1000
)
ax.set_ylim(-1.15, -0.85)
plt.show()

# %% [markdown]
# Two things show in {numref}`fig-ch7-loss-end`. Between spikes, the loss of each run
# drifts down slowly. And a spike can throw a run out of a better state than it finds
# again before the end: the lowest loss of a run need not be near its end. We measure
# both. The **drift** is the fall of the median training loss from the 100 epochs that
# ended 500 epochs before the last to the last 100 epochs (a median, so that a spike
# inside a window counts little). The **setback** is how far the trained model's training
# loss sits above the lowest loss its run ever recorded.

# %%
final_train = np.array([mean_nll(models[seed], t_train, x_train) for seed in SEEDS])
drift = np.median(loss_all[:, -600:-500], axis=1) - np.median(loss_all[:, -100:], axis=1)
setback = final_train - loss_all.min(axis=1)
lowest_at = loss_all.argmin(axis=1)
for name, values in (("drift", drift), ("setback", setback)):
    glue(f"ch7_{name}_mean", round(float(values.mean()), 3), display=False)
    glue(f"ch7_{name}_sd", round(float(values.std(ddof=1)), 3), display=False)
print("seed  drift over the last 500 epochs  setback  lowest loss at epoch")
for i, seed in enumerate(SEEDS):
    print(f"{seed:4d}  {drift[i]:30.3f}  {setback[i]:7.3f}  {lowest_at[i]:20d}")

# %% [markdown]
# Over the last 500 epochs the median loss fell by {glue:text}`ch7_drift_mean:.3f` ±
# {glue:text}`ch7_drift_sd:.3f` nats, and the trained models sit
# {glue:text}`ch7_setback_mean:.3f` ± {glue:text}`ch7_setback_sd:.3f` nats above the lowest
# loss their own run had reached earlier (mean ± standard deviation over the seeds). So
# the training is not finished, but neither is it creeping steadily towards the limit: it
# makes slow progress, and the spikes undo some of it.
#
# ## How good is the fit?
#
# A training loss can flatter a model that memorised its data. We score each trained MDN
# on 20,000 fresh points drawn with another seed, with
# {py:func}`~mdn_src.metrics.mean_nll` from `mdn_src/metrics.py` (inputs `t_test`,
# targets `x_test`), and compare with the Bayes limit.

# %%
x_test, t_test = make_toy_data(20_000, seed=1)
heldout = np.array([mean_nll(models[seed], t_test, x_test) for seed in SEEDS])
gap = heldout - bayes_nll
print("seed  training NLL  held-out NLL  gap to the Bayes limit")
for i, seed in enumerate(SEEDS):
    print(f"{seed:4d}  {final_train[i]:12.3f}  {heldout[i]:12.3f}  {gap[i]:22.3f}")
for name, values in (("train_nll", final_train), ("heldout_nll", heldout), ("gap", gap)):
    glue(f"ch7_{name}_mean", round(float(values.mean()), 3), display=False)
    glue(f"ch7_{name}_sd", round(float(values.std(ddof=1)), 3), display=False)
    print(f"{name:12s} {values.mean():.3f} ± {values.std(ddof=1):.3f}")
glue("ch7_drift_share", round(float(100 * drift.mean() / gap.mean())), display=False)

# %% [markdown]
# Over the {glue:text}`ch7_n_seeds` seeds the trained MDN scores
# {glue:text}`ch7_train_nll_mean:.3f` ± {glue:text}`ch7_train_nll_sd:.3f` nats per point
# on its training data and {glue:text}`ch7_heldout_nll_mean:.3f` ±
# {glue:text}`ch7_heldout_nll_sd:.3f` on the fresh points (mean ± standard deviation over
# seeds): the two are close, so the models did not overfit. They stay
# {glue:text}`ch7_gap_mean:.3f` ± {glue:text}`ch7_gap_sd:.3f` nats above the Bayes limit
# of {glue:text}`ch7_bayes_nll:.3f`.
#
# The drift we measured is small beside that gap: the last 500 epochs gained
# {glue:text}`ch7_drift_share:.0f`% of it. How much longer training would gain, and what
# else the gap is made of, needs experiments of its own. One candidate is the shape of the
# answer: the true $p(x \mid t)$ is a set of flat boxes with hard edges, and a sum of
# smooth Gaussians can only approximate a box: its top ripples, and its edges are slopes
# rather than cliffs, so some probability leaks outside the boxes, where no data ever
# falls, and the density inside is lower than it should be. Others are the 2,500 training
# points the model learns from and the way it is optimised. {ref}`ch-truth` takes the gap
# apart with experiments that isolate each.
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
# 400 epochs. The callback only reads the model, so this run takes exactly the same steps
# as the first 400 epochs of the seed-0 run above: the animation replays the start of the
# model shown in the figures. (It uses `fit`, not `fit_cached`: a stored result would skip
# the callback.)

# %%
torch.manual_seed(0)
replay = MDN(1, 1, n_components=30, hidden=50)
with torch.no_grad():
    snapshot(-1, replay.eval())  # the untrained network, "after 0 epochs"
replay_history = fit(replay, t_train, x_train, epochs=REPLAY_EPOCHS, lr=0.008, callback=snapshot)
same = np.array_equal(replay_history.train, histories[0].train[:REPLAY_EPOCHS])
print(f"{len(frames)} frames; the same losses as seed 0's first {REPLAY_EPOCHS} epochs: {same}")

# %% [markdown]
# `animate_density` from `mdn_src/plotting.py` turns the snapshots into an animation, on
# the book's logarithmic colour scale. The dots are the components' means, with area
# proportional to their mixing coefficient $\pi_k$, so a component the network has
# switched off at some $t$ vanishes there. Press play, or step through the frames.

# %% tags=["nbval-ignore-output"]
epochs_shown = sorted(frames)
anim = plotting.animate_density(
    t_coarse,
    x_coarse,
    np.stack([frames[e][0] for e in epochs_shown]),  # [21, 61, 61]
    epochs_shown,
    means=np.stack([frames[e][1] for e in epochs_shown]),  # [21, 16, 30]
    weights=np.stack([frames[e][2] for e in epochs_shown]),
    component_inputs=t_means,
)
HTML(anim.to_jshtml())

# %% [markdown]
# The last frame, as a still image (larger, with the same colour scale):

# %% mystnb={"figure": {"caption": "The last frame of the animation: the conditional density $p(x \\mid t)$ of one run (seed 0) after 400 of its 3,000 epochs, on a coarse grid, with each component's mean as a dot of area proportional to its mixing coefficient.", "name": "fig-ch7-replay-end"}, "image": {"alt": "Heat map over t and x with dots: dark bands along the lower and upper rising branches of the data, and a paler falling branch that crosses between them and overshoots them at both ends, forming an X; the component dots sit along the bands, largest on the outer branches."}}
fig, ax = plotting.new_axes("$t$", "$x$", "one run (seed 0), after 400 epochs")
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
# the branches narrow and darken, and the components' dots gather on them; the falling
# branch still overshoots the data at both ends in {numref}`fig-ch7-replay-end`. The
# remaining 2,600 epochs of the seed-0 run turn that density into the one below.
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
# Both images below are drawn by `plot_density` from `mdn_src/plotting.py`, on the book's one
# logarithmic colour scale, from 0.1 to 30 (darker is higher). A logarithmic scale shows at
# once the tall density where only one branch exists and the faint haze of probability that
# a model spreads where the true density is zero.

# %% mystnb={"figure": {"caption": "The conditional density $p(x \\mid t)$ learnt by the MDN ($K = 30$) of one run (seed 0), after 3,000 epochs, on a grid of (t, x) pairs.", "name": "fig-ch7-learnt-density"}, "image": {"alt": "Heat map over t (horizontal) and x (vertical): a dark band follows the lower branch up to t of about 0.5 and another the upper branch from about 0.3; between them, in the middle range of t, two broad, paler wedges cover the middle of the S, crossing near t = 0.5; the edges are soft, and two thin spurs reach far beyond the data, one near x = 0.7 back to t of about 0, one near x = 0.28 on to t of about 1.1."}}
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
# over a short distance, varies within a slice, and sends thin spurs where no data lies. Both differences cost
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

# %%
jumps = np.diff(loss_all, axis=1) > 0.05  # [seeds, epochs - 1]: epoch e+1 vs epoch e
per_third = np.add.reduceat(jumps, [0, 999, 1999], axis=1)  # [seeds, 3]
for seed, counts in zip(SEEDS, per_third, strict=True):
    print(f"seed {seed}: spikes per thousand epochs {counts.tolist()}")
fewest_last = bool((per_third[:, 2] < per_third[:, :2].min(axis=1)).all())
print("fewest in the last thousand, in every run:", fewest_last)

# %% [markdown]
# Rarer, but not steadily: in every run the last thousand epochs have the fewest spikes,
# but the count need not fall from one thousand to the next. The learning rate stays at
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
# much: hundredths of a nat, or tenths?
# ```
#
# ```{solution-start} ex-ch07-one-component
# :class: dropdown
# ```

# %%
torch.manual_seed(0)
single = MDN(1, 1, n_components=1, hidden=50)
fit(single, t_train, x_train, epochs=REPLAY_EPOCHS, lr=0.008)
k1, k30 = mean_nll(single, t_test, x_test), mean_nll(replay, t_test, x_test)
glue("ch7_k1_minus_k30", round(k1 - k30, 2), display=False)
print(f"held-out NLL after {REPLAY_EPOCHS} epochs: K = 1 {k1:.3f}, K = 30 {k30:.3f}")

# %% [markdown]
# $K = 30$ is better, by {glue:text}`ch7_k1_minus_k30:.2f` nats in this one run (seed 0):
# tenths of a nat, not hundredths. A single Gaussian has to cover all the branches at once where there are
# three, so it spreads its density over the gaps between them, where no data lies: the
# price of one bump for a many-valued answer.
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
#   MDN's loss falls steeply within a couple of hundred epochs, then runs nearly level,
#   interrupted by spikes.
# - A score is a distribution over training runs: over {glue:text}`ch7_n_seeds` seeds the
#   held-out NLL is {glue:text}`ch7_heldout_nll_mean:.3f` ± {glue:text}`ch7_heldout_nll_sd:.3f`
#   nats, {glue:text}`ch7_gap_mean:.3f` ± {glue:text}`ch7_gap_sd:.3f` above the Bayes limit.
# - Training was still drifting down at the end, but by only
#   {glue:text}`ch7_drift_mean:.3f` nats over the last 500 epochs, and every run ended above
#   its own lowest loss: the loss trace alone does not explain the gap.
# - `fit(..., callback=...)` sees the model after every epoch; snapshots of the density
#   show the band of the least-squares answer splitting into branches.
#
# A trained MDN gives a whole density for every input. {ref}`ch-sampling` turns that density
# into predictions: modes, means and samples.
