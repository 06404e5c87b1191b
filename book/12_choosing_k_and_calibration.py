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
# (ch-k-calibration)=
# # Choosing K, and calibration
#
# Download this chapter as a notebook ({download}`12_choosing_k_and_calibration.ipynb <./12_choosing_k_and_calibration.ipynb>`) or as a
# Python script ({download}`12_choosing_k_and_calibration.py <./12_choosing_k_and_calibration.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# An MDN needs one number before it can train: the number of components $K$. This
# chapter chooses it the way one would without an oracle, by cross-validation on the
# training points alone, and then checks the choice against the exact answer. It then asks
# a second question that the held-out likelihood answers only in part: are the predicted
# densities *calibrated*, do the targets land in their predicted intervals as often as the
# intervals claim? You will learn:
#
# - how the held-out negative log-likelihood (NLL) changes with $K$, over ten seeds, and
#   why a median over seeds says more than a mean when a few runs stall;
# - how $K$-fold cross-validation picks $K$, and how close its pick comes to the best;
# - what the *effective* number of components says about a large $K$;
# - three views of calibration and accuracy: PIT histograms, interval coverage, and the
#   CRPS, a proper score in the target's units, each beside the exact density's own value.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import (
    MDN,
    MLP,
    check,
    fit_cached,
    make_toy_data,
    mean_nll,
    oracle,
    paired,
    pit,
    plotting,
    report,
    score,
    test_grid,
)

torch.set_num_threads(1)  # one thread: a run repeats exactly on one machine

# %% [markdown]
# ## The set-up
#
# The inverse problem of {ref}`ch-mdn`, on a smaller scale: 400 training points instead of
# that chapter's 2,500, one hidden layer of 20 $\tanh$ units, 500 full-batch Adam epochs
# with a cosine learning-rate schedule. The sweep below trains 88 networks (six values of
# $K$, ten seeds, three cross-validation folds, and ten least-squares networks), and at
# this size all of them train in under a minute on one CPU thread. 5,000 fresh
# points stand in for the truth when we score held-out NLL; they are never used to choose
# anything.

# %%
t_train, x_train = make_toy_data(400, seed=0, inverse=True)  # input t, target x
t_test, x_test = make_toy_data(5000, seed=1, inverse=True)
KS = (1, 2, 3, 5, 10, 30)
SEEDS = tuple(range(10))
HIDDEN = 20
SETTINGS = {"epochs": 500, "lr": 0.02, "schedule": "cosine"}


def train_mdn(K, seed, t, x, name, diagnostics=False):
    """An MDN with K components, initial weights from `seed`, trained (or loaded) on (t, x)."""
    torch.manual_seed(seed)
    mdn = MDN(1, 1, n_components=K, hidden=HIDDEN)
    history = fit_cached(mdn, t, x, name=name, diagnostics=diagnostics, **SETTINGS)
    return mdn, history


# %% [markdown]
# ## Held-out NLL against $K$
#
# For each $K$ we train ten networks, from initial weights drawn with seeds 0 to 9, on all
# 400 training points, and score each on the 5,000 held-out points. With $K = 1$ the MDN
# is *heteroscedastic Gaussian regression*: one Gaussian per input, whose mean and width
# both depend on $t$. We also record `fit`'s diagnostics, to count the components each
# network actually uses.

# %% tags=["nbval-ignore-output"]
models, heldout = {}, np.zeros((len(SEEDS), len(KS)))
for j, K in enumerate(KS):
    for i, seed in enumerate(SEEDS):
        mdn, history = train_mdn(K, seed, t_train, x_train, f"ch12-K{K}-s{seed}", True)
        models[K, seed] = mdn, history
        heldout[i, j] = mean_nll(mdn, t_test, x_test)
median = np.median(heldout, axis=0)  # [K]: the median over seeds
for j, K in enumerate(KS):
    runs = " ".join(f"{v:+.2f}" for v in heldout[:, j])
    print(f"K = {K:>2}: median held-out NLL {median[j]:+.3f}; the ten runs {runs}")

# %% [markdown]
# ## Choosing $K$ by cross-validation
#
# Without the 5,000 fresh points we would have only the training set. Three-fold
# cross-validation splits it at random into three folds of about 133 points; for each fold,
# a network trains on the other two and is scored on it. The average over folds estimates
# the held-out NLL of a network trained on two thirds of the data, and the $K$ with the
# lowest average is our choice. Each fold's network starts from its own seed (the fold's
# number).

# %% tags=["nbval-ignore-output"]
folds = np.array_split(np.random.default_rng(0).permutation(len(t_train)), 3)
cv = np.zeros((len(folds), len(KS)))
for f, val in enumerate(folds):
    fit_rows = np.setdiff1d(np.arange(len(t_train)), val)
    for j, K in enumerate(KS):
        mdn, _ = train_mdn(K, f, t_train[fit_rows], x_train[fit_rows], f"ch12-cv{f}-K{K}")
        cv[f, j] = mean_nll(mdn, t_train[val], x_train[val])
cv_choice = KS[int(cv.mean(0).argmin())]
heldout_best = KS[int(median.argmin())]
print(f"cross-validation picks K = {cv_choice}; the median held-out NLL is lowest at "
      f"K = {heldout_best}")  # fmt: skip
regret = median[KS.index(cv_choice)] - median.min()
print(f"median held-out NLL of the pick minus the lowest median: {regret:.3f} nats")
glue("ch12_cv_choice", cv_choice, display=False)
glue("ch12_heldout_best", heldout_best, display=False)
glue("ch12_regret", f"{regret:.3f}", display=False)
bayes_nll = oracle.bayes_nll(inverse=True)
gauss_nll = oracle.best_gaussian_nll(inverse=True)
glue("ch12_bayes_nll", f"{bayes_nll:.3f}", display=False)
glue("ch12_gauss_nll", f"{gauss_nll:.3f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims the prose makes of the sweep, over the ten seeds (medians: a stalled run is an
# outlier that would drag a mean and its sd, not a median).
# The orderings are paired on the seed (each K trains from the same ten seeds, on the same
# data): the median over seeds of the seed-by-seed differences.
k1, k2, k3 = (KS.index(K) for K in (1, 2, 3))
bend = [j for j, K in enumerate(KS) if K >= 3]
paired("ch12_drop", heldout[:, k1], heldout[:, k3], of="median", at_least=0.6, digits=2)
spread = median[bend].max() - median[bend].min()
glue("ch12_spread", f"{spread:.3f}", display=False)
check("the medians for K >= 3 span at most 0.03 nats", bool(spread <= 0.03),
      f"medians {np.round(median[bend], 3)}")  # fmt: skip
paired("ch12_k2_short", heldout[:, k2], heldout[:, k3], of="median", at_least=0.2, digits=2)
for K in (5, 10, 30):  # "more neither help nor hurt": within 0.03 nats of K = 3, median seed
    paired(f"ch12_K{K}_minus_K3", heldout[:, KS.index(K)], heldout[:, k3], of="median",
           at_least=-0.03, at_most=0.03)  # fmt: skip
stalled = (heldout[:, bend] > median[bend] + 0.1).ravel()  # 0.1 nats worse than its K's median
report("ch12_stalled", stalled, of="count", at_most=len(stalled) // 4)
glue("ch12_bend_runs", stalled.size, display=False)
check("cross-validation picks a K at the bend (K >= 3)", cv_choice >= 3, f"K = {cv_choice}")
paired("cross-validation sees the drop from K = 1 to 3 (paired on the fold)", cv[:, k1],
       cv[:, k3], of="mean", at_least=0.3, glue=False)  # fmt: skip
report("ch12_best_gap", heldout[:, KS.index(cv_choice)] - bayes_nll, of="median",
       at_least=0.2, at_most=0.45, digits=2)  # fmt: skip
k1_gap = report("ch12_k1_gap", heldout[:, k1] - gauss_nll, of="median", at_least=0.3, digits=2)

# %% mystnb={"figure": {"caption": "Negative log-likelihood against the number of components K (log axis): held out on 5,000 fresh points, each of the ten runs (dots) and their median (solid line), and by three-fold cross-validation on the 400 training points, mean and one standard deviation over the folds (dash-dot). Dashed: the exact density's expected NLL; dotted: the best any single Gaussian per input can do.", "name": "fig-ch12-k-curve"}, "image": {"alt": "NLL against K from 1 to 30. The median curve drops steeply from K = 1 to K = 3 and then stays nearly flat; the runs' dots cluster on it, and any stalled run sits far above it; the cross-validation points follow the same shape with wider error bars. A dashed line at about -1.28 below both marks the exact density's NLL, and a dotted line at about -0.66 marks the best single Gaussian."}}
fig, ax = plotting.new_axes("number of components $K$", "NLL (nats per point)")
for j, K in enumerate(KS):
    ax.scatter(np.full(len(SEEDS), K), heldout[:, j], s=12, alpha=0.5,
               color=plotting.COLORS["model"])  # fmt: skip
ax.plot(KS, median, marker="o", color=plotting.COLORS["model"], label="held out, median of 10")
plotting.plot_k_curve(ax, KS, cv, "3-fold cross-validation", kind="other", offset=1.08)
ax.axhline(bayes_nll, color=plotting.COLORS["exact"], ls="--", label="exact density")
ax.axhline(gauss_nll, color=plotting.COLORS["data"], ls=":", lw=2, label="best single Gaussian")
plotting.finish(ax)
plt.show()

# %% [markdown]
# {numref}`fig-ch12-k-curve` has the shape one hopes for. Going from $K = 1$ to $K = 3$
# lowers the held-out NLL by {glue:text}`ch12_drop_median:.2f` nats per point, the median over
# the ten seeds of the seed-by-seed drop (more than 0.6, checked), and from $K = 3$ on the
# median curve
# is flat: its medians for $K = 3, 5, 10, 30$ span {glue:text}`ch12_spread` nats (at most
# 0.03, checked). Paired on the seed, the median difference from $K = 3$ is
# {glue:text}`ch12_K5_minus_K3_median:.3f` nats for $K = 5$,
# {glue:text}`ch12_K10_minus_K3_median:.3f` for $K = 10$ and
# {glue:text}`ch12_K30_minus_K3_median:.3f` for $K = 30$ (each within 0.03, checked). Three
# components are what the inverse problem needs, one per branch; more neither help nor
# hurt by more than a few hundredths of a nat here. That is PRML's choice, $K = 3$;
# {ref}`ch-mdn` trained it beside the post's $K = 30$, on 2,500 points and with 5 hidden
# units against 50, and compared the two over five seeds.
# $K = 2$, one component short, stays {glue:text}`ch12_k2_short_median:.2f` nats above
# $K = 3$ (the median of the seed-by-seed differences).
#
# Why medians? Not every run need reach the level of its $K$: from some initial weights
# training can stall at a worse optimum and end far above the others. Of the
# {glue:text}`ch12_bend_runs` runs with $K \ge 3$, {glue:text}`ch12_stalled_count` ended
# more than 0.1 nats above their $K$'s median here (at most a quarter of them, checked).
# Which runs stall is chaotic: another processor or thread count can stall another seed.
# One such run among three seeds drags their mean and inflates their standard deviation;
# it barely moves a median over ten.
#
# Cross-validation sees the same shape: each fold's network trains on two thirds of the
# data and is scored on only about 133 points, so its means are noisier. Its lowest mean
# is at $K =$ {glue:text}`ch12_cv_choice`, while the median held-out NLL is lowest at
# $K =$ {glue:text}`ch12_heldout_best`; the pick costs {glue:text}`ch12_regret` nats of
# median held-out NLL against that best. Where the curve is flat, which $K$ comes out
# lowest is down to chance; what matters is that cross-validation found the bend (its
# pick has $K \ge 3$, checked).
#
# The two horizontal lines bracket what is possible. No model beats the exact density's
# {glue:text}`ch12_bayes_nll` nats on average; the MDN with the $K$ chosen by
# cross-validation stays {glue:text}`ch12_best_gap_median:.2f` nats above it in the median
# (smooth Gaussians approximating the hard-edged boxes of the true density, from 400
# points). And no single Gaussian per input, however well trained, gets below
# {glue:text}`ch12_gauss_nll` nats: the heteroscedastic $K = 1$ network is
# {glue:text}`ch12_k1_gap_median:.2f` nats above even that (median over seeds). That part
# of its shortfall is the fit, not the Gaussian shape: the best Gaussian's mean and
# variance jump at the edges of the three-branch region, and this small network, trained
# briefly, does not reach them.
#
# ## How many components are used?
#
# A network with $K = 30$ does not spread its probability over 30 components. `fit` with
# `diagnostics=True` records, after every epoch, the *effective number of components*:
# for each input, $\exp$ of the entropy of the mixing coefficients $\pi_k(t)$, averaged
# over the training inputs. It equals $K$ when all $\pi_k$ are equal and 1 when one
# component takes all the weight. Here it is at the end of training:

# %% tags=["nbval-ignore-output"]
effective = np.array([[models[K, s][1].diagnostics["effective_components"][-1] for K in KS]
                      for s in SEEDS])  # fmt: skip
eff = {K: effective[:, j] for j, K in enumerate(KS)}
for K in KS:
    print(f"K = {K:>2}: effective components, median {np.median(eff[K]):5.2f} "
          f"(from {eff[K].min():.2f} to {eff[K].max():.2f})")  # fmt: skip
report("ch12_eff_K3", eff[3], of="median", at_least=1.5, at_most=3, digits=2)
report("ch12_eff_K10", eff[10], of="median", at_most=6, digits=2)
report("ch12_eff_K30", eff[30], of="median", at_most=8, digits=2)
check("more components in use at K = 30 than at K = 3 (medians)",
      bool(np.median(eff[30]) > np.median(eff[3])), f"{np.median(eff[30]):.2f}")  # fmt: skip

# %% [markdown]
# The effective number is larger for large $K$ than for $K = 3$, but far below $K$: its
# median over the ten seeds is {glue:text}`ch12_eff_K3_median:.2f` for $K = 3$,
# {glue:text}`ch12_eff_K10_median:.2f` for $K = 10$ and {glue:text}`ch12_eff_K30_median:.2f`
# for $K = 30$. It is an average over inputs: where only one branch exists (the ends of the
# range of $t$) one component carries almost all the weight, and in the middle three
# share it, so even a perfect three-branch model scores between 1 and 3. Past $K = 3$ the
# extra components are mostly switched off, or share a branch with another component.
#
# The means plot of {ref}`ch-sampling` draws every component's mean, with an area
# proportional to its weight. As $K$ grows it changes character:

# %% mystnb={"figure": {"caption": "Component means (area proportional to the mixing coefficient) of one run (seed 0) each for K = 3, 10 and 30, over the training data.", "name": "fig-ch12-means"}, "image": {"alt": "Three panels of x against t. For K = 3 three chains of dots trace the three branches of the S-shaped data. For K = 10 and K = 30 the same three large chains appear, and faint chains of small dots cross the plot and run beyond the data."}}
grid = test_grid(120, inverse=True)
fig, axes = plotting.panel_axes([f"$K = {K}$" for K in (3, 10, 30)], "$t$", "$x$")
for ax, K in zip(axes, (3, 10, 30), strict=True):
    plotting.plot_data(ax, t_train, x_train)
    with torch.no_grad():
        params = models[K, 0][0].mixture_parameters(grid)
    plotting.plot_component_means(ax, grid, params, "component means", every=2)
    ax.set_ylim(-0.3, 1.3)  # idle components (pi near 0) draw nothing but stretch the axis
plotting.finish(axes[0])
plt.show()

# %% [markdown]
# With $K = 3$ ({numref}`fig-ch12-means`) the three chains of large dots are the three
# branches, and the plot reads like the data; each chain only fades out, in small dots,
# where its branch ends. With $K = 10$ and $K = 30$ the same three branches carry the
# large dots, but more faint chains of idle components cross the picture and run off
# beyond the data: their means are unconstrained where their weight is near zero.
# The density is as good (the flat curve above), but the means plot has to be read
# through the weights; {ref}`ch-sampling`'s modes summarise the density without that
# reading.
#
# ## Calibration and proper scores
#
# The held-out NLL ranks models but does not say *how* a density is wrong. Three more
# measures do, for one-dimensional targets:
#
# - the **PIT** (probability integral transform) $u = F(x \mid t)$, the predicted cdf at
#   the observed target. If the predicted densities are right, $u$ is uniform on $[0, 1]$;
#   its histogram is flat. A U shape means the model is over-confident (targets fall in
#   its tails too often), a hump that it is under-confident.
# - **coverage**: the fraction of targets inside their central 50% and 90% predictive
#   intervals; a calibrated model gets 0.5 and 0.9, up to sampling noise.
# - the **CRPS** (continuous ranked probability score),
#
#   $$
#   \begin{aligned}
#   \mathrm{CRPS}(F, x)
#     &= \int \big(F(z) - \mathbb{1}\{z \ge x\}\big)^2 dz \\
#     &= E|X - x| - \tfrac12 E|X - X'|,
#   \end{aligned}
#   $$
#
#   with $X, X'$ drawn from $F$: a distance between the predictive distribution and the
#   observed target, in the target's units. Like the NLL it is a *proper* score: on
#   average no density scores better than the true one. Unlike the NLL it stays finite
#   when a density puts zero mass at the target.
#
# We compare four densities, each over the ten seeds: {ref}`ch-inverse`'s least-squares
# network for the inverse problem, retrained here on these 400 points and read as a Gaussian with its fitted noise (mean from the network, a
# constant $\sigma^2$ equal to its training MSE: {py:meth}`MLP.predictive
# <mdn_src.mlp.MLP.predictive>`), the heteroscedastic Gaussian ($K = 1$),
# the MDN with the $K$ chosen by cross-validation, and the exact density, whose PIT,
# coverage and CRPS are computed in closed form by `oracle.inverse_cdf` and
# `oracle.inverse_crps`. The exact values are the floor: what a perfect model would score
# on these same 5,000 points. {py:func}`~mdn_src.metrics.score` gives a model's NLL, CRPS
# and coverages as one row of the table.


# %% tags=["nbval-ignore-output"]
mlps = {}
for seed in SEEDS:
    torch.manual_seed(seed)
    mlp = MLP(1, 1, hidden=HIDDEN)
    fit_cached(mlp, t_train, x_train, name=f"ch12-mlp-s{seed}", **SETTINGS)
    with torch.no_grad():
        noise_sd = float(mlp.loss(t_train, x_train)) ** 0.5  # sigma^2 = training MSE
    mlps[seed] = mlp, noise_sd


def test_params(name, seed):
    """The predictive mixtures on the held-out inputs of model `name`, seed `seed`."""
    if name == "mse":
        mlp, noise_sd = mlps[seed]
        return mlp.predictive(t_test, noise_sd)  # N(mlp(t), noise_sd^2): one component
    K = 1 if name == "k1" else cv_choice
    with torch.no_grad():
        return models[K, seed][0].mixture_parameters(t_test)


def scores(params):
    """Held-out NLL, coverage of the central 50% and 90% intervals, mean CRPS; and the PIT."""
    x = torch.as_tensor(x_test)
    row = score(params, x, levels=(0.5, 0.9))  # one row of the table, in float64
    return np.array([row["nll"], row["coverage_50"], row["coverage_90"], row["crps"]]), pit(
        params, x
    )


names = {"mse": "MSE network + noise", "k1": "K = 1", "best": f"MDN, K = {cv_choice}"}
table, pits = {}, {}
for name in names:
    rows = [scores(test_params(name, seed)) for seed in SEEDS]
    table[name] = np.array([r[0] for r in rows])  # [seeds, 4]
    pits[name] = [r[1] for r in rows]  # one PIT array per seed
print(f"{'median over 10 seeds':<22}{'NLL':>9}{'50% coverage':>15}{'90% coverage':>15}{'CRPS':>9}")
for name, label in names.items():
    m = np.median(table[name], axis=0)
    print(f"{label:<22}{m[0]:>9.3f}{m[1]:>15.3f}{m[2]:>15.3f}{m[3]:>9.3f}")

# %%
u_exact = oracle.inverse_cdf(x_test, t_test).ravel()
exact_row = np.array([
    -np.log(oracle.inverse_density(x_test, t_test)).mean(),
    np.mean(np.abs(u_exact - 0.5) <= 0.25),
    np.mean(np.abs(u_exact - 0.5) <= 0.45),
    oracle.inverse_crps(x_test, t_test).mean(),
])  # fmt: skip
print(f"{'exact density':<22}{exact_row[0]:>9.3f}{exact_row[1]:>15.3f}{exact_row[2]:>15.3f}"
      f"{exact_row[3]:>9.3f}")  # fmt: skip
columns = ("nll", "cov50", "cov90", "crps")
for c, a in zip(columns, exact_row, strict=True):
    glue(f"ch12_exact_{c}", f"{a:.3f}", display=False)
glue("ch12_binomial_sd90", f"{math.sqrt(0.9 * 0.1 / len(t_test)):.3f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims the prose makes of the table, seed by seed or on the median over seeds.
col = {c: {name: table[name][:, i] for name in names} for i, c in enumerate(columns)}
for name in ("mse", "k1"):  # the two Gaussian readings: too few in 50%, too many in 90%
    report(f"ch12_{name}_cov50", col["cov50"][name], of="median", at_most=0.40)
    report(f"ch12_{name}_cov90", col["cov90"][name], of="median", at_least=0.915)
    report(f"ch12_{name}_nll", col["nll"][name], of="median", at_least=-0.3)
    report(f"ch12_{name}_crps", col["crps"][name], of="median", at_least=0.12)
report("ch12_best_cov50", col["cov50"]["best"], of="median", at_least=0.42, at_most=0.5)
report("ch12_best_cov90", col["cov90"]["best"], of="median", at_least=0.86, at_most=0.9)
report("ch12_best_nll", col["nll"]["best"], of="median", at_most=-0.85)
report("ch12_best_crps", col["crps"]["best"], of="median", at_most=0.115)
# The MDN against the MSE network, seed by seed (a stalled MDN run is barely better: medians)
report("ch12_nll_mse_minus_best", col["nll"]["mse"] - col["nll"]["best"], of="median",
       at_least=0.5)  # fmt: skip
report("ch12_crps_mse_minus_best", col["crps"]["mse"] - col["crps"]["best"], of="median",
       at_least=0.01)  # fmt: skip
# The CRPS orders the three as the NLL does: paired on the seed, in the median seed.
paired("nll: K = 1 above the MDN", col["nll"]["k1"], col["nll"]["best"], of="median",
       at_least=0.3, glue=False)  # fmt: skip
paired("ch12_crps_k1_minus_best", col["crps"]["k1"], col["crps"]["best"], of="median",
       at_least=0.005)  # fmt: skip
gaussians = np.abs(np.median(col["crps"]["mse"]) - np.median(col["crps"]["k1"]))
check("the two Gaussian readings' median CRPS agree within 0.005", bool(gaussians <= 0.005),
      f"{gaussians:.4f}")  # fmt: skip
crps_mse, crps_best = np.median(col["crps"]["mse"]), np.median(col["crps"]["best"])
closed = (crps_mse - crps_best) / (crps_mse - exact_row[3])
glue("ch12_crps_closed", f"{100 * closed:.0f}%", display=False)
check("the MDN closes at least 40% of the MSE network's CRPS gap", bool(closed >= 0.4),
      f"{closed:.2f}")  # fmt: skip

# %% mystnb={"figure": {"caption": "PIT histograms on the 5,000 held-out points, one run (seed 0) for each model, and the exact density; the dashed line is the uniform density of a calibrated model.", "name": "fig-ch12-pit"}, "image": {"alt": "Four histograms of PIT values from 0 to 1. The MSE network with its fitted noise and K = 1 look alike: tall bars near both ends and a dip in the middle, well below the dashed line at height 1. The MDN is closer to flat, with too many values at the low end. The exact density is flat at the dashed line."}}
fig, axes = plotting.panel_axes([*names.values(), "exact density"], "PIT $u$", "density",
                                width=2.6)  # fmt: skip
for ax, name in zip(axes, names, strict=False):
    plotting.plot_pit(ax, pits[name][0], "model")  # seed 0
plotting.plot_pit(axes[-1], u_exact, "exact", kind="exact")
plt.show()

# %% tags=["nbval-ignore-output"]
middle = {name: np.array([np.mean(np.abs(u - 0.5) < 0.1) for u in us]) for name, us in pits.items()}
for name, share in middle.items():
    print(f"{name:<6} share of PIT values in (0.4, 0.6), median over seeds: "
          f"{np.median(share):.3f} (calibrated: 0.2)")  # fmt: skip
report("ch12_middle_mse", middle["mse"], of="median", at_most=0.15)
report("ch12_middle_k1", middle["k1"], of="median", at_most=0.15)
report("ch12_middle_best", middle["best"], of="median", at_least=0.15, at_most=0.22)
# "closer than either Gaussian in the centre": paired on the seed, in the median seed
for name in ("mse", "k1"):
    paired(f"the MDN's middle share above {name}'s", middle["best"], middle[name], of="median",
           at_least=0.0, glue=False)  # fmt: skip
low_best = np.mean(pits["best"][0] < 0.1)  # seed 0, the run in the figure
glue("ch12_low_best", f"{low_best:.3f}", display=False)
check("seed 0's MDN has too many PIT values below 0.1", bool(low_best > 0.11), f"{low_best:.3f}")

# %%
share_exact = np.mean(np.abs(u_exact - 0.5) < 0.1)
print(f"exact  share of PIT values in (0.4, 0.6): {share_exact:.3f}")
glue("ch12_middle_exact", f"{share_exact:.3f}", display=False)

# %% [markdown]
# The exact density is the yardstick: its PIT histogram is flat up to sampling noise, its
# central intervals hold {glue:text}`ch12_exact_cov50` and {glue:text}`ch12_exact_cov90` of
# the targets (a binomial standard deviation of {glue:text}`ch12_binomial_sd90` at 90%), and
# its mean CRPS, {glue:text}`ch12_exact_crps`, is the floor for these points.
#
# The two Gaussian readings fail in the same way. The MSE network with its fitted noise
# holds only {glue:text}`ch12_mse_cov50_median:.3f` of the targets in its central 50%
# interval but {glue:text}`ch12_mse_cov90_median:.3f` in its 90% one (medians over the ten
# seeds, as every model's number below); $K = 1$ does the same
# ({glue:text}`ch12_k1_cov50_median:.3f` and {glue:text}`ch12_k1_cov90_median:.3f`). Only
# {glue:text}`ch12_middle_mse_median:.3f` (MSE network) and
# {glue:text}`ch12_middle_k1_median:.3f` ($K = 1$) of the PIT values fall in $(0.4, 0.6)$,
# where a calibrated model puts 0.2 and the exact density puts
# {glue:text}`ch12_middle_exact`: the hole in the middle of their histograms
# ({numref}`fig-ch12-pit`). Where there are three branches, a Gaussian centred on their
# average puts its peak between them, where few targets lie, and its tails beyond them,
# where none do: too confident near its centre, not confident enough at 90%.
# Heteroscedasticity does not cure this; a width can be made right for one interval, not
# for every interval at once. This is miscalibration that no recalibration of $\sigma$ can
# fix.
#
# The MDN with $K =$ {glue:text}`ch12_cv_choice` comes closer in the centre: its 50%
# intervals hold {glue:text}`ch12_best_cov50_median:.3f` of the targets, and
# {glue:text}`ch12_middle_best_median:.3f` of its PIT values fall in the middle fifth; its
# 90% intervals hold {glue:text}`ch12_best_cov90_median:.3f`. Its
# histogram is not flat either: in the run drawn (seed 0), {glue:text}`ch12_low_best` of
# the PIT values lie below 0.1, where a calibrated model puts 0.1. The CRPS orders the
# MDN ahead of both Gaussian readings, as the NLL does. The models' median CRPS are
# {glue:text}`ch12_mse_crps_median:.3f` (MSE network), {glue:text}`ch12_k1_crps_median:.3f`
# ($K = 1$), {glue:text}`ch12_best_crps_median:.3f` (MDN) and {glue:text}`ch12_exact_crps`
# (exact); paired on the seed, the MDN's CRPS is lower by
# {glue:text}`ch12_crps_mse_minus_best_median:.3f` than the MSE network's and by
# {glue:text}`ch12_crps_k1_minus_best_median:.3f` than $K = 1$'s in the median seed (at
# least 0.01 and 0.005, checked), and its NLL by more than 0.5 and 0.3 nats. The two
# Gaussian readings are close on the CRPS (a stalled run is worse, hence the medians). In the target's units, the MDN closes
# {glue:text}`ch12_crps_closed` of the MSE network's CRPS gap to the exact density
# (medians); in nats, its NLL is {glue:text}`ch12_best_nll_median:.3f`
# against {glue:text}`ch12_mse_nll_median:.3f` and {glue:text}`ch12_exact_nll`.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch12-binomial
#
# Compute by hand: if a model's 90% intervals are exactly calibrated, the number of the
# 5,000 held-out targets inside them is binomial. What is the standard deviation of the
# *fraction* inside? How many of those standard deviations from 0.9 is each model's 90%
# coverage in the table above?
# ```
#
# ```{solution-start} ex-ch12-binomial
# :class: dropdown
# ```
#
# The fraction has standard deviation $\sqrt{0.9 \times 0.1 / 5000}$:

# %%
sd90 = math.sqrt(0.9 * 0.1 / len(t_test))
print(f"binomial sd of the 90% coverage: {sd90:.4f}")
print(f"{'exact density':<22} {(exact_row[2] - 0.9) / sd90:+.1f} standard deviations")

# %% tags=["nbval-ignore-output"]
z = {name: (table[name][:, 2] - 0.9) / sd90 for name in names}
for name, label in names.items():
    print(f"{label:<22} {np.median(z[name]):+.1f} standard deviations (median over seeds)")
report("ch12_z_mse", z["mse"], of="median", at_least=3, digits=1)
report("ch12_z_k1", z["k1"], of="median", at_least=3, digits=1)
z_best = report("ch12_z_best", z["best"], of="median", at_least=-8, at_most=0, digits=1)

# %% [markdown]
# The exact density is well within sampling noise; the two Gaussian readings are more
# than three standard deviations above 0.9 (checked on their medians), far beyond chance,
# and the MDN's 90% intervals hold a little less than 90%: a little too narrow.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch12-one-se
#
# A common, more cautious rule picks the *smallest* $K$ whose cross-validated NLL is within
# one standard error of the lowest one (the standard error being the standard deviation
# over folds divided by $\sqrt{3}$). Which $K$ does it pick from `cv`?
# ```
#
# ```{solution-start} ex-ch12-one-se
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
cv_mean, cv_se = cv.mean(0), cv.std(0, ddof=1) / math.sqrt(len(folds))
best = int(cv_mean.argmin())
threshold = cv_mean[best] + cv_se[best]
one_se = next(K for K, m in zip(KS, cv_mean, strict=True) if m <= threshold)
print(f"lowest mean at K = {KS[best]}, threshold {threshold:.3f}; one-SE rule picks K = {one_se}")
glue("ch12_one_se", one_se, display=False)
check("the one-SE rule picks a K at the bend, no larger than the minimum's",
      3 <= one_se <= KS[best], f"K = {one_se}, minimum at K = {KS[best]}")  # fmt: skip

# %% [markdown]
# The rule trades a little expected NLL for a simpler model: it never picks a larger $K$
# than the plain minimum. Here it picks $K =$ {glue:text}`ch12_one_se`, at the bend of the
# curve, where the cross-validated means stop falling.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch12-noise-scale
#
# Change the model and predict: read the MSE network (seed 0) as a Gaussian with half, and
# then twice, its fitted noise $\sigma$. Before computing, predict what happens to the
# coverage of the 50% and 90% intervals, and to the NLL and the CRPS. Can any one
# $\sigma$ make both coverages right?
# ```
#
# ```{solution-start} ex-ch12-noise-scale
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
mlp0, sd0 = mlps[0]
rows = {}
for factor in (0.5, 1.0, 2.0):
    rows[factor], _ = scores(mlp0.predictive(t_test, factor * sd0))
    nll, cov50, cov90, mean_crps = rows[factor]
    print(f"sigma x {factor}: NLL {nll:+.3f}, coverage {cov50:.3f} / {cov90:.3f}, "
          f"CRPS {mean_crps:.4f}")  # fmt: skip
half, fitted, double = rows[0.5], rows[1.0], rows[2.0]
worse = half[0] > fitted[0] and half[3] > fitted[3]
check("halving sigma lowers both coverages and worsens the NLL and the CRPS",
      bool((half[1:3] < fitted[1:3]).all() and worse), str(np.round(half, 3)))  # fmt: skip
check("at the fitted sigma, too few in the 50% interval and too many in the 90% one",
      bool(fitted[1] < 0.5 and fitted[2] > 0.9), str(np.round(fitted, 3)))  # fmt: skip
check("doubling sigma puts both coverages past their levels",
      bool(double[1] > 0.5 and double[2] > 0.9), str(np.round(double, 3)))  # fmt: skip

# %% [markdown]
# Halving $\sigma$ narrows every interval: both coverages fall, and the NLL and CRPS get
# worse (targets land far out in the narrow Gaussian's tails). Doubling it widens them:
# both coverages rise past their levels. Since the 50% interval holds too few targets and
# the 90% interval too many at the fitted $\sigma$, no single $\sigma$ fixes both: the
# shape is wrong, not the width.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - Held-out NLL against $K$ falls steeply until $K$ matches the number of branches (3
#   here, PRML's choice) and its median over seeds is flat after that; three-fold cross-validation on the
#   training points finds that bend without touching fresh data. A few runs can stall at
#   a worse optimum, and which ones is down to chance: report a median over many seeds.
# - The effective number of components (`fit(..., diagnostics=True)`) stays far below a
#   large $K$: spare components switch off or double up, and the means plot fills with
#   idle chains.
# - A Gaussian reading of a multi-branch problem, constant or heteroscedastic, is
#   miscalibrated in a way no choice of width repairs: too few targets in its central
#   interval, too many in its wide ones, a PIT histogram with a hole in the middle.
# - PIT, coverage and CRPS each have a floor set by the exact density; the MDN comes
#   closer to it than either Gaussian in the centre of its densities and on the CRPS, and
#   the CRPS separates the models as the NLL does.
#
# {ref}`ch-pitfalls` looks at what can go wrong while training: a component collapsing
# onto a single point, and the choices that prevent it.
