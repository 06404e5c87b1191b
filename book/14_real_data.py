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
# (ch-real-data)=
# # Real data
#
# Download this chapter as a notebook
# ({download}`14_real_data.ipynb <./14_real_data.ipynb>`) or as a Python script
# ({download}`14_real_data.py <./14_real_data.py>`), or open it in Colab or Binder from the
# rocket icon above.
#
# Every chapter so far trained on data we generated, where the exact answer was known. This
# one takes two small, classic data sets measured in the world, where nobody knows
# $p(t \mid x)$, and asks what an MDN says about them that a least-squares network cannot.
# Both ship with `mdn_src` (in `mdn_src/data/`, with their sources and a licence note);
# nothing is downloaded.
#
# **In this chapter** you will learn:
#
# - how to load the two data sets, and why some of the geyser's durations are labels,
#   not measurements;
# - how to compare an MSE network, a single heteroscedastic Gaussian ($K = 1$) and an MDN
#   fairly on a couple of hundred points: held-out splits over seeds, early stopping, and
#   scores in the data's own units (held-out NLL, CRPS, interval coverage);
# - what the conditional densities show: two kinds of next eruption at Old Faithful, and
#   noise that grows once a crash-test dummy's head starts to move.
#
# ```{admonition} Input $x$, target $t$
# Back to PRML's letters, now with units: on the geyser the input $x$ (`x_gey`) is an
# eruption's duration and the target $t$ (`t_gey`) the next one's, both in minutes; on the
# crash $x$ (`x_mcy`) is the time after impact in milliseconds and $t$ (`t_mcy`) the
# head's acceleration in g.
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
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import (
    GEYSER_CODES,
    MDN,
    MLP,
    Standardizer,
    central_interval,
    check,
    conditional_modes,
    density_grid,
    fit_cached,
    load_geyser,
    load_geyser_table,
    load_mcycle,
    mixture_log_prob,
    plotting,
    report,
    score,
    summarize,
)

torch.set_num_threads(1)  # a run repeats exactly on one machine, whatever its core count

# %% [markdown]
# ## Two data sets
#
# **Old Faithful.** Azzalini and Bowman {cite:p}`azzalini1990geyser` timed the eruptions of the
# Old Faithful geyser in Yellowstone continuously from 1 to 15 August 1985; R's MASS package
# {cite:p}`venables2002mass` distributes their {glue:text}`ch14_n_eruptions` eruptions in time
# order. We ask how long the *next* eruption will last, given how long the current one lasted:
# the input $x$ is a duration, the target $t$ the following one, both in minutes.
#
# At night nobody stood by the geyser with a stopwatch: some durations were only recorded
# as short, medium or long, and coded as exactly 2, 3 and 4 minutes.

# %%
waiting, duration = load_geyser_table()
is_code = np.isin(duration, GEYSER_CODES)
x_all, t_all = load_geyser(coded="keep")
x_gey, t_gey = load_geyser()  # coded="drop", the default
print(f"{len(duration)} eruptions, {is_code.sum()} of them coded as 2, 3 or 4 minutes")
print(f"consecutive pairs: {len(x_all)}; without a coded duration: {len(x_gey)}")
glue("ch14_n_eruptions", len(duration), display=False)
glue("ch14_n_coded", int(is_code.sum()), display=False)
glue("ch14_n_pairs_all", len(x_all), display=False)
glue("ch14_n_pairs", len(x_gey), display=False)

# %% [markdown]
# {glue:text}`ch14_n_coded` of the {glue:text}`ch14_n_eruptions` durations are codes. A code is
# a label with a range behind it, not a measurement. Taken literally, it puts many identical
# targets near the middle of a cluster, which a density model may turn into a spike at exactly
# 4.000 minutes, and which a held-out NLL scores as easy points that say more about the
# recording convention than about the geyser ({numref}`ex-ch14-coded` measures this). We **drop
# every pair that contains a code**, which keeps {glue:text}`ch14_n_pairs` of the
# {glue:text}`ch14_n_pairs_all` consecutive pairs. Every pair left is two real measurements of
# two successive eruptions.
#
# **The motorcycle crash.** Silverman {cite:p}`silverman1985spline` smoothed the acceleration
# of a crash-test dummy's head, measured in g at {glue:text}`ch14_n_mcycle` times (milliseconds
# after a simulated motorcycle impact), to test crash helmets; the data are in MASS too. The
# input $x$ is the time, the target $t$ the acceleration.

# %%
x_mcy, t_mcy = load_mcycle()
glue("ch14_n_mcycle", len(x_mcy), display=False)
print(x_mcy.shape, t_mcy.shape, x_mcy.dtype)
print(
    f"times from {x_mcy.min():.1f} to {x_mcy.max():.1f} ms; "
    f"acceleration from {t_mcy.min():.1f} to {t_mcy.max():.1f} g"
)

# %% mystnb={"figure": {"caption": "The two data sets. Left: each Old Faithful eruption's duration against the one before it (pairs with a night-time code left out). Right: head acceleration against time in the simulated motorcycle crash.", "name": "fig-ch14-data"}, "image": {"alt": "Two scatter plots. Left: after short eruptions of about 2 minutes the next one lasts about 4 to 5 minutes; after long eruptions of 4 to 5 minutes the next one is either about 2 minutes or about 4 to 5 minutes, two separate clusters. Right: the acceleration stays near zero for the first 14 milliseconds, then swings down to about minus 130 g and up to about 75 g with a wide scatter, and settles with smaller scatter towards 50 milliseconds."}}
fig, axes = plt.subplots(1, 2, figsize=(plotting.FIGSIZE[0], 3.2), layout="constrained")
plotting.plot_data(axes[0], x_gey, t_gey, label="eruption pairs")
axes[0].set(xlabel="duration (min)", ylabel="next duration (min)")
plotting.plot_data(axes[1], x_mcy, t_mcy, label="readings")
axes[1].set(xlabel="time after impact (ms)", ylabel="acceleration (g)")
for ax in axes:
    ax.grid(alpha=0.25)
plt.show()

# %% [markdown]
# Both pictures already say what a curve through the data cannot. After a short eruption
# the next one is long; after a long one it is short or long, two separate clusters. The
# crash readings hug zero before the head moves and then scatter over tens of g.

# %%
after_long = t_gey[x_gey >= 3]
short_after_long = (after_long < 3).mean()
print(
    f"after an eruption of 3 min or more: {len(after_long)} pairs, "
    f"{short_after_long:.0%} of the next ones shorter than 3 min"
)
glue("ch14_short_after_long_pct", f"{100 * short_after_long:.0f}", display=False)

# %% [markdown]
# ## Three models, one protocol
#
# We compare three networks, each with one hidden layer of {glue:text}`ch14_hidden` tanh
# units:
#
# - the **MSE network** (`MLP`) of {ref}`ch-mse`, read as a Gaussian with a constant variance,
#   its training mean squared error: $p(t \mid x) = \mathcal N(t;\, y(x), \sigma^2)$;
# - **$K = 1$**: an MDN with one component, a Gaussian whose mean *and* width depend on $x$
#   (heteroscedastic);
# - an **MDN with $K =$ {glue:text}`ch14_K`** components.
#
# A couple of hundred points are few, and the MDN has {glue:text}`ch14_n_weights` weights,
# enough to fit noise.
# Each run therefore holds out a quarter of the data, drawn at random from the seed, for the
# scores; the model trains on the rest with early stopping: a fifth of its training rows are
# set aside for validation, and training keeps the weights of the best validation epoch
# (`fit(..., validation_fraction=0.2, patience=100)`). {glue:text}`ch14_n_seeds` seeds give
# as many different splits and initial weights, and the numbers below summarise them (mean
# ± sd, unless the text says otherwise, or names the one run a figure shows).
#
# Inputs and targets are standardised on the training rows ({ref}`ch-arm` did the same).
# The network then predicts a density $\tilde p$ for $\tilde t = (t - m)/s$, and the density
# of $t$ itself picks up the Jacobian $1/s$:
#
# $$
# \begin{aligned}
# p(t \mid x) &= \tilde p(\tilde t \mid \tilde x)\, / s, \\
# -\ln p(t \mid x) &= -\ln \tilde p(\tilde t \mid \tilde x) + \ln s.
# \end{aligned}
# $$
#
# For a Gaussian mixture that is the same as moving every component to
# $\mu_k \to s\mu_k + m$, $\sigma_k \to s\sigma_k$, which is what `predictive` does: all
# scores are then in the data's own units (nats per point for minutes or g, minutes or g
# for the CRPS), and the three models are comparable.

# %%
SEEDS = range(10)
TEST_FRACTION = 0.25
HIDDEN = 10
FIT = dict(epochs=2000, lr=0.02, validation_fraction=0.2, patience=100)
MODELS = {"mse": 0, "k1": 1, "mdn": 3}  # components; 0 is the MSE network
LABELS = {"mse": "MSE network", "k1": "$K = 1$", "mdn": f"MDN, $K = {MODELS['mdn']}$"}
glue("ch14_hidden", HIDDEN, display=False)
glue("ch14_K", MODELS["mdn"], display=False)
glue("ch14_n_seeds", len(SEEDS), display=False)
glue("ch14_n_fits", len(SEEDS) * len(MODELS) * 2, display=False)
n_weights = sum(p.numel() for p in MDN(1, 1, MODELS["mdn"], hidden=HIDDEN).parameters())
glue("ch14_n_weights", n_weights, display=False)


def split(n, seed):
    """Training rows and held-out rows (a quarter), drawn from `seed`."""
    rows = np.random.default_rng(seed).permutation(n)
    n_test = round(TEST_FRACTION * n)
    return np.sort(rows[n_test:]), np.sort(rows[:n_test])


@dataclass
class Fitted:
    model: torch.nn.Module
    x_scale: Standardizer
    t_scale: Standardizer
    sigma: float  # the MSE network's sigma, in standardised units (unused for MDNs)
    epochs: int  # epochs run before early stopping ended training


def train(name, x, t, seed, components):
    """Standardise on the training rows of `seed`'s split and train one model (cached)."""
    rows, _ = split(len(x), seed)
    x_scale, t_scale = Standardizer.from_data(x[rows]), Standardizer.from_data(t[rows])
    xs, ts = x_scale.transform(x[rows]), t_scale.transform(t[rows])
    torch.manual_seed(seed)
    if components == 0:
        model = MLP(1, 1, hidden=HIDDEN)
    else:
        model = MDN(1, 1, components, hidden=HIDDEN)
    history = fit_cached(
        model, xs, ts, name=f"ch14-{name}-K{components}-seed{seed}", seed=seed, **FIT
    )
    sigma = float("nan")
    if components == 0:  # sigma^2 = the training MSE
        with torch.no_grad():
            sigma = float((model(xs) - torch.from_numpy(ts)).pow(2).mean().sqrt())
    return Fitted(model, x_scale, t_scale, sigma, len(history.train))


# %% [markdown]
# `predictive` turns any of the three into mixture parameters in data units: the MSE
# network as one component of fixed width ({py:meth}`MLP.predictive
# <mdn_src.mlp.MLP.predictive>`), mapped back from standardised units by
# {py:meth}`~mdn_src.mixture.MixtureParameters.affine`. One call,
# {py:func}`~mdn_src.metrics.score`, then scores them all alike.


# %%
def predictive(fitted, x):
    """p(t | x) in the data's units, as float64 MixtureParameters (mu, sigma [N, K, 1])."""
    xs = fitted.x_scale.transform(np.asarray(x, np.float32).reshape(-1, 1))
    with torch.no_grad():
        if isinstance(fitted.model, MLP):  # the MSE network as N(y(x), sigma^2)
            params = fitted.model.predictive(xs, fitted.sigma)
        else:
            params = fitted.model.mixture_parameters(xs)
    params = params.map(torch.Tensor.double)
    params = params.replace(log_pi=torch.log_softmax(params.log_pi, -1))  # float64 weights
    return params.affine(fitted.t_scale.mean, fitted.t_scale.scale)  # t = mean + scale * t_s


# %% [markdown]
# The {glue:text}`ch14_n_fits` trainings (two data sets, three models, each seed), on under
# 150 points each, take some seconds; `fit_cached` keeps the weights for the next run.

# %%
DATA = {"geyser": (x_gey, t_gey), "mcycle": (x_mcy, t_mcy)}
n_test = {name: len(split(len(x), 0)[1]) for name, (x, _) in DATA.items()}
print("held-out points per split:", n_test)
glue("ch14_n_test_geyser", n_test["geyser"], display=False)
glue("ch14_n_test_mcycle", n_test["mcycle"], display=False)

# %% tags=["nbval-ignore-output"]
fitted, results = {}, {}
for name, (x, t) in DATA.items():
    for kind, components in MODELS.items():
        for seed in SEEDS:
            f = train(name, x, t, seed, components)
            _, test = split(len(x), seed)
            fitted[name, kind, seed] = f
            results[name, kind, seed] = score(predictive(f, x[test]), t[test].astype(np.float64))
# Every training stopped early, before its last epoch.
epochs_run = report("ch14_epochs", [f.epochs for f in fitted.values()], at_most=FIT["epochs"] - 1)
print(
    f"epochs before early stopping: {epochs_run.values.min():.0f} to {epochs_run.values.max():.0f}"
)


# %% tags=["nbval-ignore-output"]
def per_seed(name, kind, metric):
    return np.array([results[name, kind, seed][metric] for seed in SEEDS])


DIGITS = {"geyser": {"nll": 2, "crps": 3}, "mcycle": {"nll": 2, "crps": 1}}
table = {}  # (data, model, metric) -> Summary: mean ± sd over the seeds
for name in DATA:
    for kind in MODELS:
        for metric in ("nll", "crps", "coverage_50", "coverage_90"):
            table[name, kind, metric] = report(
                f"ch14_{name}_{kind}_{metric}",
                per_seed(name, kind, metric),
                digits=DIGITS[name].get(metric, 2),
            )
        print(
            f"{name:7s} {kind:4s}",
            " | ".join(
                str(table[name, kind, m]) for m in ("nll", "crps", "coverage_50", "coverage_90")
            ),
        )

# %% [markdown]
# (tab-ch14-scores)=
#
# | data | model | NLL (nats) | CRPS | 50% interval | 90% interval |
# |---|---|---|---|---|---|
# | geyser | MSE network | {glue:text}`ch14_geyser_mse_nll` | {glue:text}`ch14_geyser_mse_crps` | {glue:text}`ch14_geyser_mse_coverage_50` | {glue:text}`ch14_geyser_mse_coverage_90` |
# | geyser | $K = 1$ | {glue:text}`ch14_geyser_k1_nll` | {glue:text}`ch14_geyser_k1_crps` | {glue:text}`ch14_geyser_k1_coverage_50` | {glue:text}`ch14_geyser_k1_coverage_90` |
# | geyser | MDN, $K = 3$ | {glue:text}`ch14_geyser_mdn_nll` | {glue:text}`ch14_geyser_mdn_crps` | {glue:text}`ch14_geyser_mdn_coverage_50` | {glue:text}`ch14_geyser_mdn_coverage_90` |
# | mcycle | MSE network | {glue:text}`ch14_mcycle_mse_nll` | {glue:text}`ch14_mcycle_mse_crps` | {glue:text}`ch14_mcycle_mse_coverage_50` | {glue:text}`ch14_mcycle_mse_coverage_90` |
# | mcycle | $K = 1$ | {glue:text}`ch14_mcycle_k1_nll` | {glue:text}`ch14_mcycle_k1_crps` | {glue:text}`ch14_mcycle_k1_coverage_50` | {glue:text}`ch14_mcycle_k1_coverage_90` |
# | mcycle | MDN, $K = 3$ | {glue:text}`ch14_mcycle_mdn_nll` | {glue:text}`ch14_mcycle_mdn_crps` | {glue:text}`ch14_mcycle_mdn_coverage_50` | {glue:text}`ch14_mcycle_mdn_coverage_90` |
#
# Held-out scores, mean ± sd over {glue:text}`ch14_n_seeds` random splits (one per seed;
# {glue:text}`ch14_n_test_geyser` geyser and {glue:text}`ch14_n_test_mcycle` crash points
# held out each time). NLL and CRPS: lower is better; the CRPS is in minutes (geyser) or g
# (crash). Interval columns: the fraction of held-out targets inside the central 50% and
# 90% intervals, which should be near 0.50 and 0.90. Early stopping ended every training
# before its last epoch, after {glue:text}`ch14_epochs_min:,.0f` to
# {glue:text}`ch14_epochs_max:,.0f` epochs.
#
# The splits vary a lot, and the sd's above include that variation. But each split scores
# all three models on the same held-out points, so the *differences* between models on the
# same split are free of the part of the spread that comes from the split itself (some
# held-out sets are harder for every model):


# %% tags=["nbval-ignore-output"]
gaps = {}  # (data, worse, better, metric) -> per-split differences, worse minus better
for name in DATA:
    for worse, better in (("mse", "k1"), ("k1", "mdn"), ("mse", "mdn")):
        for metric in ("nll", "crps"):
            difference = per_seed(name, worse, metric) - per_seed(name, better, metric)
            gaps[name, worse, better, metric] = difference
        nll_gap = gaps[name, worse, better, "nll"]
        gap = report(f"ch14_{name}_gap_{worse}_{better}", nll_gap, digits=2)
        wins = report(f"ch14_{name}_wins_{worse}_{better}", gap.values > 0, of="count")
        print(
            f"{name}: NLL({worse}) - NLL({better}) = {gap}, "
            f"positive in {int(wins.values.sum())} of {len(SEEDS)} splits"
        )

# %% tags=["remove-cell", "nbval-ignore-output"]
# The prose's orderings, each on differences paired on the split (same held-out points).
# On the geyser each step up lowers the NLL in every split, and the mean CRPS.
for worse, better in (("mse", "k1"), ("k1", "mdn")):
    report(f"geyser: NLL({worse}) - NLL({better})", gaps["geyser", worse, better, "nll"],
           at_least=0.0, glue=False)  # fmt: skip
    report(f"geyser: CRPS({worse}) - CRPS({better})", gaps["geyser", worse, better, "crps"],
           of="mean", at_least=0.0, glue=False)  # fmt: skip
# On the crash neither wins every split: K = 1 beats the MSE network on average and in most
# splits; the MDN beats it in most splits, with a median gap (one bad MDN run can sink a mean).
report("crash: NLL(mse) - NLL(k1)", gaps["mcycle", "mse", "k1", "nll"], of="mean",
       at_least=0.05, glue=False)  # fmt: skip
report("crash: NLL(mse) - NLL(mdn)", gaps["mcycle", "mse", "mdn", "nll"], of="median",
       at_least=0.05, glue=False)  # fmt: skip
for worse, better in (("mse", "k1"), ("mse", "mdn")):
    report(f"crash: {better} better than {worse}", gaps["mcycle", worse, better, "nll"] > 0,
           of="count", at_least=6, glue=False)  # fmt: skip
k1_mdn = gaps["mcycle", "k1", "mdn", "nll"]
low, high = summarize(k1_mdn).interval()
check(
    "crash: the 95% interval of the MDN's mean gap to K = 1 includes zero",
    bool(low <= 0.0 <= high),
    f"interval [{low:.3f}, {high:.3f}], gaps {np.round(k1_mdn, 3).tolist()}",
)

# %% [markdown]
# On the **geyser**, each step up helps, in every split: letting the width depend on the
# input lowers the held-out NLL by {glue:text}`ch14_geyser_gap_mse_k1` nats, and three
# components lower it by another {glue:text}`ch14_geyser_gap_k1_mdn` (mean ± sd of the
# differences over the {glue:text}`ch14_n_seeds` splits). The CRPS, averaged over the
# splits, falls in the same order. On the **crash** the comparison is less clear-cut:
# the single heteroscedastic Gaussian gains {glue:text}`ch14_mcycle_gap_mse_k1` nats over
# the MSE network (better in {glue:text}`ch14_mcycle_wins_mse_k1_count` of
# {glue:text}`ch14_n_seeds` splits), and the MDN beats the MSE network in
# {glue:text}`ch14_mcycle_wins_mse_mdn_count` of {glue:text}`ch14_n_seeds` (by a median of
# {glue:text}`ch14_mcycle_gap_mse_mdn_median:.2f` nats; its mean gap,
# {glue:text}`ch14_mcycle_gap_mse_mdn`, can be dragged down by a single poor MDN run). The
# MDN's gap to $K = 1$, {glue:text}`ch14_mcycle_gap_k1_mdn` (better in
# {glue:text}`ch14_mcycle_wins_k1_mdn_count` of {glue:text}`ch14_n_seeds` splits), has a
# 95% interval of its mean, {glue:text}`ch14_mcycle_gap_k1_mdn_ci`, that includes zero:
# more components buy nothing measurable here, as expected for a cloud of points with one
# centre at each time. With {glue:text}`ch14_n_test_mcycle` held-out points
# per split, a coverage has a binomial standard error of several hundredths
# ({numref}`ex-ch14-binomial`), so the coverage columns separate the models less sharply
# than the NLL. Where the constant width of the MSE network goes wrong is clearer *along*
# $x$, in the pictures.
#
# ## What the MDN says that the MSE line cannot
#
# The figures below use the models of one split (seed 0), and say so. On the geyser the MSE
# line is the conditional mean; the MDN's density shows what the mean averages over.

# %%
dur_grid = np.linspace(0.8, 5.6, 241, dtype=np.float32)
next_grid = np.linspace(0.8, 6.2, 271)


def density_map(fitted, inputs, outputs):
    """p(t | x) on a grid, [len(inputs), len(outputs)], in data units."""
    grid = torch.from_numpy(np.asarray(outputs, np.float64))
    return density_grid(predictive(fitted, inputs), grid).numpy()


gey_mdn = density_map(fitted["geyser", "mdn", 0], dur_grid, next_grid)
gey_line = predictive(fitted["geyser", "mse", 0], dur_grid).mu[:, 0, 0].numpy()
print(gey_mdn.shape)

# %% mystnb={"figure": {"caption": "Old Faithful, one run (seed 0): the MDN's conditional density of the next eruption's duration given the current one (colour, logarithmic, darker is higher), the MSE network's prediction (dash-dotted) and the eruption pairs (circles).", "name": "fig-ch14-geyser-density"}, "image": {"alt": "A colour map over the current duration (horizontal) and the next duration (vertical). For short current eruptions one dark band sits at about 4 to 4.5 minutes. For current eruptions of about 3 minutes or more there are two dark bands, one near 2 minutes and one near 4 to 4.5 minutes. Where there are two bands, the dash-dotted MSE line runs between them, through the empty gap."}}
fig, ax = plotting.new_axes("duration (min)", "next duration (min)")
plotting.plot_density(
    ax, dur_grid, next_grid, gey_mdn, label=r"$p(t \mid x)$ (1/min)", vmin=0.01, vmax=3.0
)
plotting.plot_curve(ax, dur_grid, gey_line, label="MSE network", kind="other")
plotting.plot_data(ax, x_gey, t_gey, label="eruption pairs")
plotting.finish(ax)
plt.show()

# %% [markdown]
# After a long eruption the density has two ridges, and the MSE line runs between them,
# through durations that rarely happen. Slices at a few inputs make the same point with
# all three models and the data nearby (the eruptions whose predecessor lasted within 0.25
# minutes of the slice's input):

# %%
at_gey = np.array([2.0, 4.0, 4.6], dtype=np.float32)
slice_grid = np.linspace(0.8, 6.2, 271)
slices = {
    LABELS[kind]: density_map(fitted["geyser", kind, 0], at_gey, slice_grid)
    for kind in ("mdn", "mse", "k1")
}
nearby = [t_gey[np.abs(x_gey - a) < 0.25] for a in at_gey]
print("data nearby:", [len(n) for n in nearby])

# %% mystnb={"figure": {"caption": "Old Faithful, one run (seed 0): the next eruption's predicted density after eruptions of 2, 4 and 4.6 minutes: MDN (solid), MSE network read as a Gaussian (dash-dotted), $K = 1$ (dashed), and a histogram of the observed next durations after eruptions within 0.25 minutes of each input.", "name": "fig-ch14-geyser-slices"}, "image": {"alt": "Three panels of density curves over the next duration. After 2 minutes, the histogram is one narrow group near 4.5 minutes; the K = 1 curve is a narrow bump there and the MSE network's is broader. After 4 and 4.6 minutes, the histogram has two groups, near 2 and near 4 to 4.5 minutes; after 4.6 minutes the MDN's solid curve has a peak at each group, while the two single-Gaussian curves are one broad bump centred between the groups."}}
fig, axes = plotting.plot_slices(
    slice_grid, slices, at_gey, "next duration (min)", data=nearby, title="after {:g} min"
)
plt.show()

# %% [markdown]
# The MDN's answer after a long eruption is "short or long, here are the odds":


# %% tags=["nbval-ignore-output"]
def after_long(seed):
    """Seed `seed`'s MDN after a 4.6-minute eruption: its modes and P(next < 3 min)."""
    params = predictive(fitted["geyser", "mdn", seed], at_gey[2:])  # after 4.6 min
    modes = conditional_modes(params)
    found = np.sort(modes.location[0, modes.distinct[0], 0].numpy())
    z_3 = (3.0 - params.mu[..., 0]) / params.sigma[..., 0]  # [1, K]
    return found, float((params.pi * torch.special.ndtr(z_3)).sum())


found, below = after_long(0)
mse_long = predictive(fitted["geyser", "mse", 0], at_gey[2:]).mu.item()
print("modes after 4.6 min:", np.round(found, 2), f"P(next < 3 min) = {below:.2f}")
print(f"MSE network's prediction: {mse_long:.2f} min")
glue("ch14_modes_long", " and ".join(f"{m:.1f}" for m in found), display=False)
glue("ch14_p_short_long", f"{below:.2f}", display=False)
glue("ch14_mse_long", f"{mse_long:.1f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# What the prose says of seed 0 holds in every seed: after 4.6 min the MDN has one mode
# below 3 min and one above, and gives the short kind a probability near the data's share;
# the MSE network and the K = 1 model put their one peak between the two clusters, where
# few eruptions fall; after 2 min K = 1 is narrower than the MSE network's one width.
runs_long = [after_long(seed) for seed in SEEDS]
check(
    "after 4.6 min every seed's MDN has a mode below 3 min and one above",
    all((m < 3).any() and (m > 3).any() for m, _ in runs_long),
    f"modes {[np.round(m, 2).tolist() for m, _ in runs_long]}",
)
report("ch14_p_short", [p for _, p in runs_long], at_least=0.45, at_most=0.9, digits=2)
peak_long = {
    kind: np.array(
        [predictive(fitted["geyser", kind, seed], at_gey[2:]).mu.item() for seed in SEEDS]
    )
    for kind in ("mse", "k1")
}
report("ch14_mse_peak_long", peak_long["mse"], at_least=2.2, at_most=3.5)
report("ch14_k1_peak_long", peak_long["k1"], at_least=2.2, at_most=3.5)
for kind in ("mse", "k1"):  # the share of eruptions after a long one near that peak
    near = [np.mean(np.abs(t_gey[x_gey >= 3] - m) < 0.25) for m in peak_long[kind]]
    report(f"ch14_near_{kind}_peak", near, at_most=0.15)
narrow = [
    predictive(fitted["geyser", "k1", seed], at_gey[:1]).sigma.item()
    / predictive(fitted["geyser", "mse", seed], at_gey[:1]).sigma.item()
    for seed in SEEDS
]  # K = 1's width after 2 min over the MSE network's
report("ch14_k1_narrow_after_short", narrow, at_most=0.7)

# %% [markdown]
# After a 4.6-minute eruption the MDN of this run (seed 0) has modes at
# {glue:text}`ch14_modes_long` minutes and gives the short kind a probability of
# {glue:text}`ch14_p_short_long` (in the data, {glue:text}`ch14_short_after_long_pct`% of
# the eruptions after one of 3 minutes or more were shorter than 3 minutes; over the
# {glue:text}`ch14_n_seeds` seeds, every MDN has one mode below 3 minutes and one above, and
# the probability is {glue:text}`ch14_p_short`). The MSE network of this run predicts
# {glue:text}`ch14_mse_long` minutes: a fine average, and a duration the geyser seldom
# produces (over the seeds, only {glue:text}`ch14_near_mse_peak_min:.0%` to
# {glue:text}`ch14_near_mse_peak_max:.0%` of the eruptions after a long one lasted within a
# quarter of a minute of the MSE network's prediction). Its
# one width must cover both kinds after a long eruption, so it is also too vague after a
# short one, where the next eruption is reliably long. The $K = 1$ model narrows there, but
# after a long eruption it too can only spread one bump over both kinds, with its peak where
# few eruptions fall.
#
# On the **crash**, the shape is unimodal and the story is the width. The MSE network has
# one $\sigma$ for all times; the $K = 1$ model's $\sigma(x)$ follows the data.

# %% tags=["nbval-ignore-output"]
time_grid = np.linspace(2.0, 58.0, 225, dtype=np.float32)
accel_grid = np.linspace(-160.0, 110.0, 271)
mcy_k1 = density_map(fitted["mcycle", "k1", 0], time_grid, accel_grid)
mcy_line = predictive(fitted["mcycle", "mse", 0], time_grid).mu[:, 0, 0].numpy()
mse_sd = np.array(
    [fitted["mcycle", "mse", s].sigma * fitted["mcycle", "mse", s].t_scale.scale[0] for s in SEEDS]
)
sd_at = np.array(
    [predictive(fitted["mcycle", "k1", s], [10.0, 30.0]).sigma[:, 0, 0].numpy() for s in SEEDS]
)  # [seeds, 2]: K = 1's sigma at 10 ms and at 30 ms
print(f"MSE network's constant sigma: {report('ch14_mse_sigma', mse_sd, digits=0)} g")
print(
    f"K = 1's sigma at 10 ms: {report('ch14_k1_sigma_10', sd_at[:, 0], digits=1)} g, "
    f"at 30 ms: {report('ch14_k1_sigma_30', sd_at[:, 1], digits=0)} g"
)

# %% tags=["remove-cell", "nbval-ignore-output"]
# In every seed, K = 1's sigma grows at least three times from 10 ms to 30 ms, and the MSE
# network's one sigma is at least twice K = 1's at 10 ms.
report("ch14_k1_sigma_growth", sd_at[:, 1] / sd_at[:, 0], at_least=3.0)
report("ch14_mse_over_k1_before", mse_sd / sd_at[:, 0], at_least=2.0)

# %% mystnb={"figure": {"caption": "The motorcycle crash, one run (seed 0): the $K = 1$ model's conditional density of the acceleration given the time (colour, logarithmic, darker is higher), the MSE network's prediction (dash-dotted) and the readings (circles).", "name": "fig-ch14-mcycle-density"}, "image": {"alt": "A colour map over time (horizontal) and acceleration (vertical). Before about 14 milliseconds a thin dark band sits at zero. After it the band swings down to a deep negative trough, back up above zero, and settles towards zero; it is much wider there, spanning tens of g. The dash-dotted MSE line follows the centre of the band."}}
fig, ax = plotting.new_axes("time after impact (ms)", "acceleration (g)")
plotting.plot_density(
    ax, time_grid, accel_grid, mcy_k1, label=r"$p(t \mid x)$ (1/g)", vmin=1e-4, vmax=0.3
)
plotting.plot_curve(ax, time_grid, mcy_line, label="MSE network", kind="other")
plotting.plot_data(ax, x_mcy, t_mcy, label="readings")
plotting.finish(ax)
plt.show()

# %% [markdown]
# The MSE line follows the middle of the readings well; its one width does not. Its
# $\sigma$, {glue:text}`ch14_mse_sigma` g over the runs, is an average over quiet and
# violent times. The $K = 1$ model's $\sigma(x)$ is {glue:text}`ch14_k1_sigma_10` g ten
# milliseconds after the impact, before the head moves, and {glue:text}`ch14_k1_sigma_30` g
# at thirty: in every seed at least three times larger, and in every seed the MSE network's
# one $\sigma$ is at least twice $K = 1$'s at ten milliseconds. Coverage split by time shows
# what the constant width costs, pooled over the held-out points of the splits:

# %%
moves = 14.0  # ms: the readings leave zero at about 14.6 ms
glue("ch14_moves_ms", f"{moves:g}", display=False)
levels = np.unique(t_mcy[x_mcy < moves])
print(f"distinct readings before {moves:g} ms:", levels)
glue("ch14_n_levels", len(levels), display=False)

# %% tags=["nbval-ignore-output"]
inside, width, counts = {}, {}, {}
for kind in MODELS:
    hits = {"before": [], "after": []}
    widths = {"before": [], "after": []}
    for seed in SEEDS:
        _, test = split(len(x_mcy), seed)
        params = predictive(fitted["mcycle", kind, seed], x_mcy[test])
        lower, upper = central_interval(params, 0.9)
        t_test, early = t_mcy[test, 0], x_mcy[test, 0] < moves
        ok = (lower <= t_test) & (t_test <= upper)
        for part, rows in (("before", early), ("after", ~early)):
            hits[part] += list(ok[rows])
            widths[part] += list((upper - lower)[rows])
    for part in hits:
        inside[kind, part], width[kind, part] = np.mean(hits[part]), np.mean(widths[part])
        counts[part] = len(hits[part])
        glue(f"ch14_cov90_{kind}_{part}", f"{inside[kind, part]:.2f}", display=False)
        glue(f"ch14_width90_{kind}_{part}", f"{width[kind, part]:.0f}", display=False)
    print(
        f"{kind:4s} 90% interval: before {moves:g} ms covers {inside[kind, 'before']:.2f}, "
        f"{width[kind, 'before']:.0f} g wide; after: {inside[kind, 'after']:.2f}, "
        f"{width[kind, 'after']:.0f} g wide"
    )
print("held-out points, pooled:", counts)
glue("ch14_n_before", counts["before"], display=False)
glue("ch14_n_after", counts["after"], display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# Pooled over the splits: before the head moves the MSE network's interval holds every
# held-out reading and is several times wider than K = 1's; after it, the three models'
# coverages lie within 0.1 of each other and of the nominal 0.9.
check(
    "before the head moves, the MSE network's 90% interval holds every held-out reading",
    bool(inside["mse", "before"] == 1.0),
    f"coverage {inside['mse', 'before']:.3f}",
)
check(
    "before the head moves, the MSE network's interval is at least 3 times wider than K = 1's",
    bool(width["mse", "before"] >= 3 * width["k1", "before"]),
    f"widths {width['mse', 'before']:.1f} and {width['k1', 'before']:.1f} g",
)
after = np.array([inside[kind, "after"] for kind in MODELS])
check(
    "after the head moves, the three coverages lie within 0.1 of each other and of 0.9",
    bool(np.ptp(after) <= 0.1 and np.abs(after - 0.9).max() <= 0.1),
    f"coverages {np.round(after, 3).tolist()}",
)

# %% [markdown]
# Before {glue:text}`ch14_moves_ms` ms the MSE network's 90% interval is
# {glue:text}`ch14_width90_mse_before` g wide around readings that barely leave zero, and
# holds all of them (a coverage of {glue:text}`ch14_cov90_mse_before` on
# {glue:text}`ch14_n_before` held-out readings): a width borrowed from the violent phase.
# The $K = 1$ model's is {glue:text}`ch14_width90_k1_before` g wide and covers {glue:text}`ch14_cov90_k1_before`,
# the MDN's {glue:text}`ch14_width90_mdn_before` g and {glue:text}`ch14_cov90_mdn_before`.
# After {glue:text}`ch14_moves_ms` ms the three cover about the same share of the
# {glue:text}`ch14_n_after` held-out readings ({glue:text}`ch14_cov90_mse_after`,
# {glue:text}`ch14_cov90_k1_after` and {glue:text}`ch14_cov90_mdn_after`), with intervals
# {glue:text}`ch14_width90_mse_after`, {glue:text}`ch14_width90_k1_after` and
# {glue:text}`ch14_width90_mdn_after` g wide on average. The constant width is about right
# on average once the head moves, and far too wide before, which a single coverage number
# over all times hides. Before the head moves, the readings take only
# {glue:text}`ch14_n_levels` distinct values, steps of the instrument's resolution: a
# density model sees rounded data there, a small version of the geyser's codes.

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: ex-ch14-units
#
# The geyser's durations are in minutes. If they were recorded in seconds, by how much
# would every model's held-out NLL change, and would the ranking of the three models
# change? Work it out by hand from the Jacobian above, then check it on the MDN of seed 0.
# ```
#
# ```{solution-start} ex-ch14-units
# :class: dropdown
# ```
#
# Rescaling $t$ by $c = 60$ divides every density by 60, so each NLL grows by
# $\ln 60 \approx$ {glue:text}`ch14_ln60` nats, the same for all three models: the
# differences, and so the ranking, do not move. The check rescales the mixture and the
# held-out targets:

# %%
f0 = fitted["geyser", "mdn", 0]
_, test0 = split(len(x_gey), 0)
minutes = predictive(f0, x_gey[test0])
seconds = minutes.affine(0.0, 60.0)  # t in seconds: 60 times the minutes
nll_min = score(minutes, t_gey[test0].astype(np.float64))["nll"]
nll_sec = score(seconds, 60 * t_gey[test0].astype(np.float64))["nll"]
# The two NLLs depend on the trained model; their difference, in float64, does not.
print(f"NLL in seconds minus NLL in minutes: {nll_sec - nll_min:.4f}; ln 60 = {np.log(60):.4f}")
glue("ch14_ln60", f"{np.log(60):.3f}", display=False)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch14-binomial
#
# If a model's 90% intervals are calibrated, each held-out point falls inside with
# probability 0.9, independently. With $n$ held-out points, what standard deviation do you
# expect of the observed coverage? Compute it for the 50% and 90% intervals on each data
# set's held-out split, and compare it with the sd's in the table.
# ```
#
# ```{solution-start} ex-ch14-binomial
# :class: dropdown
# ```
#
# The count inside is binomial, so the coverage has standard deviation
# $\sqrt{q(1 - q)/n}$ at level $q$:

# %%
for name, n in n_test.items():
    sds = [np.sqrt(q * (1 - q) / n) for q in (0.5, 0.9)]
    print(f"{name}: n = {n}, sd of the 50% coverage {sds[0]:.3f}, of the 90% {sds[1]:.3f}")

# %% tags=["nbval-ignore-output"]
c50 = np.array([table[name, kind, "coverage_50"].mean for name in DATA for kind in MODELS])
below_half = report("ch14_c50_below", c50 < 0.5, of="count", at_least=4)
print(f"mean 50% coverage below one half in {int(below_half.values.sum())} of {len(c50)} rows")
# The table's sd's over the splits, in units of the binomial sd: "of this size".
ratio = np.array([
    table[name, kind, f"coverage_{round(100 * q)}"].sd / np.sqrt(q * (1 - q) / n_test[name])
    for name in DATA for kind in MODELS for q in (0.5, 0.9)
])  # fmt: skip
_ = report("ch14_cov_sd_over_binomial", ratio, at_least=0.4, at_most=2.5, digits=2)

# %% [markdown]
# The sd's across splits in the table are of this size (from
# {glue:text}`ch14_cov_sd_over_binomial_min:.1f` to
# {glue:text}`ch14_cov_sd_over_binomial_max:.1f` times the binomial value, over the twelve
# coverage entries): the coverages scatter from split to split about as much as sampling
# alone makes them, so one split's coverage a tenth below its level is weak evidence by
# itself. Averaging over the splits helps (less than the number of splits suggests, since
# the splits overlap), and there is one pattern worth noting: the mean 50% coverage lies
# below one half in {glue:text}`ch14_c50_below_count` of the {glue:text}`ch14_c50_below_n`
# rows of the table, a hint that the models tend to be over-confident near the centre of
# their densities after training on about a hundred points. The NLL differences on the same
# splits remain the sharper test.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch14-coded
#
# Keep the night-time codes: train the MDN ($K = 3$, the same protocol) on
# `load_geyser(coded="keep")` with the split of seed 0. Before running it, predict: what will
# the MDN do at a next duration of exactly 4 minutes, and how will its held-out NLL on the
# coded points compare with that on the measured ones?
# ```
#
# ```{solution-start} ex-ch14-coded
# :class: dropdown
# ```
#
# Many pairs now end in a code, most of them "4" (counted below): a pile of identical
# targets that no measurement would produce. One might expect a component to shrink onto
# it, a tall spike at 4.000 minutes. The run says:

# %%
coded_all = np.isin(t_all[:, 0], GEYSER_CODES)
glue("ch14_keep_coded_pct", f"{coded_all.mean():.0%}", display=False)
glue("ch14_keep_n4", int((t_all[:, 0] == 4).sum()), display=False)
glue("ch14_keep_ncoded", int(coded_all.sum()), display=False)
print(f"{coded_all.mean():.0%} of the pairs end in a code, {(t_all[:, 0] == 4).sum()} in 4")

# %% tags=["nbval-ignore-output"]
f_keep = train("geyser-keep", x_all, t_all, 0, MODELS["mdn"])
_, test_keep = split(len(x_all), 0)
log_p = mixture_log_prob(
    predictive(f_keep, x_all[test_keep]), torch.from_numpy(t_all[test_keep].astype(np.float64))
).numpy()
coded_test = np.isin(t_all[test_keep, 0], GEYSER_CODES)
peak = density_map(f_keep, np.array([4.5], np.float32), np.array([3.9, 4.0, 4.1]))[0]
glue("ch14_keep_nll_coded", f"{-log_p[coded_test].mean():.2f}", display=False)
glue("ch14_keep_nll_measured", f"{-log_p[~coded_test].mean():.2f}", display=False)
glue("ch14_keep_peak", ", ".join(f"{v:.2f}" for v in peak), display=False)
print(f"density after a 4.5-min eruption at 3.9, 4.0, 4.1 min: {np.round(peak, 2)}")
print(
    f"held-out NLL on {coded_test.sum()} coded targets: {-log_p[coded_test].mean():.2f}, "
    f"on {(~coded_test).sum()} measured ones: {-log_p[~coded_test].mean():.2f}"
)
# This run (seed 0): no spike at 4.0 (its density there at most 1.5 times its neighbours'
# mean), and the coded targets score better than the measured ones.
report("ch14_keep_spike", [peak[1] / peak[[0, 2]].mean()], at_most=1.5)
_ = report("ch14_keep_coded_minus_measured",
           [-log_p[coded_test].mean() + log_p[~coded_test].mean()], at_most=-0.1)  # fmt: skip

# %% [markdown]
# {glue:text}`ch14_keep_coded_pct` of the pairs end in a code, {glue:text}`ch14_keep_n4` of
# the {glue:text}`ch14_keep_ncoded` in "4". Yet there is no spike in this run: after a
# 4.5-minute eruption the density at 3.9, 4.0 and 4.1 minutes is {glue:text}`ch14_keep_peak`
# per minute, smooth across 4.0 (with early stopping and only {glue:text}`ch14_hidden`
# hidden units, the network did not chase one value). The score is another matter:
# the held-out NLL is {glue:text}`ch14_keep_nll_coded` nats on the coded targets and
# {glue:text}`ch14_keep_nll_measured` on the measured ones. The codes 2 and 4 sit near the
# middle of the two clusters, where a model's density is high, so keeping them would
# flatter a model's NLL with the recording convention rather than the geyser. This is
# one run (seed 0); a claim about spikes in general would need more seeds and longer
# training.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - Real data come with their own history: the geyser's night-time codes are labels, not
#   durations, and taken literally they flattered the held-out NLL in the run of
#   {numref}`ex-ch14-coded`; we dropped the pairs that contain one, and said so.
# - On a couple of hundred points, a fair comparison holds out data over several seeds,
#   stops training early on a validation split, and reports mean ± sd. Paired differences
#   on the same splits separate models that overlapping sd's do not.
# - Standardising targets changes the density by a Jacobian: undo it before quoting an NLL,
#   and every model's score is in the data's own units.
# - The MDN found what the MSE line averages away: two kinds of next eruption at Old
#   Faithful (the line runs between them), and, already with $K = 1$, a width that grows
#   once the dummy's head moves, where the MSE network's one width, about right on average
#   afterwards, is several times too wide before.
#
# ## Where to go next
#
# This was the last chapter. {ref}`where-next` points to further reading and to extensions
# of the MDN (more inputs, other component families, Bayesian treatments).
