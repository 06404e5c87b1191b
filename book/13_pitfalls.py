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
# (ch-pitfalls)=
# # Pitfalls, shown live
#
# Download this chapter as a notebook ({download}`13_pitfalls.ipynb <./13_pitfalls.ipynb>`) or as a
# Python script ({download}`13_pitfalls.py <./13_pitfalls.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# The MDNs of the earlier chapters trained without incident. This chapter makes them
# fail on purpose, so that you recognise failure when you meet it. You will learn:
#
# - how the three usual maps from a raw output to a scale $\sigma$ ($\exp$, softplus,
#   ELU + 1) behave at the extremes, with and without a floor $\sigma_{\min}$;
# - how a component collapses onto a single training point and drives the training
#   likelihood up without bound, and what stops it: the floor, weight decay, noise
#   regularisation and early stopping;
# - how often runs collapse over ten seeds, for each map and floor;
# - what `fit`'s training diagnostics (smallest $\sigma$, entropy of $\pi$, effective
#   number of components, gradient norm) look like for a healthy and a failing run.
#
# ```{admonition} Input $t$, target $x$
# Every model here solves the toy's inverse problem, as in {ref}`ch-mdn`: the input is $t$
# (`t_few` in code), the target $x$ (`x_few`), plain numbers without units.
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
    check,
    fit_cached,
    make_toy_data,
    mean_nll,
    oracle,
    paired,
    plotting,
    report,
)
from mdn_src.mixture import smallest_scale
from mdn_src.model import SIGMA_MAPS, positive_scale
from mdn_src.problems import NOISE_HALF_WIDTH

torch.set_num_threads(1)  # a run repeats exactly on one machine, whatever its core count

# %% [markdown]
# ## Three maps to a positive scale
#
# A network's raw output $a$ can be any real number; a standard deviation must be
# positive. PRML uses $\sigma = e^{a}$; this library defaults to
# $\sigma = \sigma_{\min} + \operatorname{softplus}(a)$; a third common choice is
# $\operatorname{ELU}(a) + 1$, which is $e^{a}$ below zero and $1 + a$ above. `MDN` takes
# any of them through `sigma_map` (`"exp"`, `"softplus"`, `"elu"`), and always adds the
# floor `sigma_min`.

# %% mystnb={"figure": {"caption": "The three maps from a raw output a to a scale, on a log axis: exp (solid), softplus (dash-dot) and ELU + 1 (dotted). The dashed line marks the library's default floor, 0.001: with it added, every curve would level off there instead of falling on.", "name": "fig-ch13-maps"}, "image": {"alt": "Three curves of sigma against a from -12 to 6 on a logarithmic vertical axis, from about 1e-5 to several hundred. For negative a all three fall along the same straight line, crossing a horizontal dashed line at 0.001 near a = -7; for positive a exp keeps rising along that line to about 400 while softplus and ELU + 1 bend over and reach about 6."}}
a = torch.linspace(-12, 6, 301)
fig, ax = plotting.new_axes("raw output $a$", r"$\sigma$ without a floor")
for name, kind in zip(("exp", "softplus", "elu"), ("model", "other", "data"), strict=True):
    plotting.plot_curve(ax, a, positive_scale(a, name), "ELU + 1" if name == "elu" else name,
                        kind=kind)  # fmt: skip
ax.axhline(1e-3, color=plotting.COLORS["exact"], ls="--", lw=1.5, label=r"floor $10^{-3}$")
ax.set_yscale("log")
plotting.finish(ax)
plt.show()

# %% [markdown]
# For negative $a$ the three maps are the same curve, $e^{a}$: a network that wants a
# narrower component pushes $a$ down, and nothing in the map stops it. In float32 each
# underflows to exactly zero somewhere, and then $\ln \sigma = -\infty$ and the loss is
# not a number. At the other end, $e^{a}$ overflows to infinity where the two linear maps
# are still tame. The floor changes only the bottom:

# %%
raw = torch.tensor([-20.0, -110.0, 100.0])  # float32, the default dtype
print(f"{'map':<10}{'floor':>8}" + "".join(f"{f'a = {v:g}':>14}" for v in raw.tolist()))
for name in SIGMA_MAPS:
    for floor in (0.0, 1e-3):
        sigma = floor + positive_scale(raw, name)
        print(f"{name:<10}{floor:>8g}" + "".join(f"{v:>14.3g}" for v in sigma.tolist()))

# %% [markdown]
# `MDN` will not take `sigma_min = 0`: the smallest floor it accepts is
# {glue:text}`ch13_no_floor`, the square root of float32's smallest normal number, the
# smallest scale for which the Gaussian's $(x - \mu)^2 / \sigma^2$ stays finite a unit
# away. We use that value below as "no floor": it is {glue:text}`ch13_no_floor_orders`
# orders of magnitude below the noise's half-width, and only guards against a literal
# zero.

# %%
NO_FLOOR = smallest_scale(torch.float32) * (1 + 1e-6)  # just above the smallest allowed
glue("ch13_no_floor", f"{NO_FLOOR:.2g}", display=False)
glue("ch13_no_floor_orders", f"{np.log10(NOISE_HALF_WIDTH / NO_FLOOR):.0f}", display=False)

# %% [markdown]
# ## A collapse, live
#
# The likelihood of a Gaussian mixture has no upper bound. Put one component's mean
# exactly on one training point and shrink its $\sigma$: that point's density grows like
# $1 / \sigma$, while the other components look after the remaining points. The training
# NLL falls without limit, and the model gets worse for every other input. A handful of
# points makes it quick to see: five points of the inverse problem, an MDN with $K = 2$
# components and five hidden units, Adam at a learning rate of 0.02.

# %%
t_few, x_few = make_toy_data(5, seed=0, inverse=True)  # input t, target x
t_val, x_val = make_toy_data(50, seed=1, inverse=True)  # for early stopping only
t_test, x_test = make_toy_data(2000, seed=2, inverse=True)  # held out, to score
SETTINGS = {"lr": 0.02, "diagnostics": True}


def train_few(seed, epochs, name, sigma_min=NO_FLOOR, sigma_map="softplus", **fit_kwargs):
    """An MDN (K = 2, 5 hidden units) from `seed`, trained (or loaded) on the five points."""
    torch.manual_seed(seed)
    mdn = MDN(1, 1, n_components=2, hidden=5, sigma_min=sigma_min, sigma_map=sigma_map)
    history = fit_cached(mdn, t_few, x_few, name=name, epochs=epochs, **SETTINGS, **fit_kwargs)
    return mdn, history


BAYES_NLL = oracle.bayes_nll(inverse=True)  # the exact density's expected NLL
glue("ch13_bayes_nll", f"{BAYES_NLL:.2f}", display=False)

# %% tags=["nbval-ignore-output"]
long_runs = {
    "no floor": train_few(0, 800, "ch13-nofloor"),
    r"floor $\sigma_{\min} = 0.05$": train_few(0, 800, "ch13-floor", sigma_min=0.05),
}
run = {}
for label, (_, history) in long_runs.items():
    key = "floor" if "floor $" in label else "nofloor"
    run[key] = {
        "lowest": history.train.min(),
        "highest": history.train[100:].max(),  # after epoch 100
        "min_sigma": history.diagnostics["min_sigma"].min(),
        "max_grad": history.diagnostics["grad_norm"].max(),
        "final": history.train[-1],
    }
    print(
        f"{label:<30} training NLL lowest {run[key]['lowest']:+.2f}, highest after epoch 100 "
        f"{run[key]['highest']:+.2f}; smallest sigma {run[key]['min_sigma']:.1e}"
    )

# %% tags=["remove-cell", "nbval-ignore-output"]
# One run each (seed 0): what the prose says of it. Without a floor it dips below the exact
# density's NLL while a component narrows below 0.01, and spikes back with large gradients.
nofloor, floor = run["nofloor"], run["floor"]
report("ch13_nofloor_lowest", [nofloor["lowest"]], at_most=BAYES_NLL - 0.2)
report("ch13_nofloor_min_sigma", [nofloor["min_sigma"]], at_most=0.01)
report("ch13_nofloor_highest", [nofloor["highest"]], at_least=5.0)
report("ch13_nofloor_max_grad", [nofloor["max_grad"]], at_least=300.0)
report("ch13_nofloor_recovers", [nofloor["highest"] - nofloor["final"]], at_least=5.0)
# With the floor: sigma stops at the floor, gradients stay small, the loss still ends below
# the exact density's (five points overfit) and never climbs above zero after epoch 100.
report("ch13_floor_min_sigma", [floor["min_sigma"]], at_least=0.05, at_most=0.051)
report("ch13_floor_max_grad", [floor["max_grad"]], at_most=50.0)
report("ch13_floor_final", [floor["final"]], at_most=BAYES_NLL - 0.2)
report("ch13_floor_highest", [floor["highest"]], at_most=0.0)

# %% mystnb={"figure": {"caption": "Training loss and diagnostics of one run (seed 0) on five points, without a floor (solid, failing) and with the floor 0.05 (dash-dot, healthy); the dotted line on the loss panel is the exact density's expected NLL.", "name": "fig-ch13-diagnostics"}, "image": {"alt": "Five small panels against epoch. Without a floor the training loss dips below the dotted line of the exact density, with spikes far above it; the smallest sigma falls below 0.01; the gradient norm spikes to several hundred or more. With the floor the loss settles, the smallest sigma stops at 0.05 and the gradient norm stays far lower. The entropy and effective-components panels fall early in both runs and differ between them later."}}
fig, axes = plotting.plot_diagnostics(
    {label: run[1] for label, run in long_runs.items()},
    reference=BAYES_NLL,
    reference_label="exact density",
)
plt.show()

# %% [markdown]
# {numref}`fig-ch13-diagnostics` shows a failing run next to a healthy one (one run each,
# seed 0, 800 epochs; the next section repeats the comparison over ten seeds). Without a
# floor (solid), the training NLL dives below the exact density's expected NLL
# ({glue:text}`ch13_bayes_nll` nats, dotted), to {glue:text}`ch13_nofloor_lowest_mean:.2f`,
# while the smallest $\sigma$ falls to {glue:text}`ch13_nofloor_min_sigma_mean:.1e`, far
# below the noise's half-width of 0.1: a component is narrowing onto a single point. The
# dives end in spikes, up to {glue:text}`ch13_nofloor_highest_mean:.1f` nats after epoch 100,
# with gradient norms up to {glue:text}`ch13_nofloor_max_grad_mean:.0f`: the narrower a
# component, the smaller the step that knocks its mean off its point, and then that point's
# density drops by orders of magnitude at once. The run recovers, and nothing stops it
# from diving again. This is
# what "the likelihood has no upper bound" looks like in practice: not a smooth slide to
# $-\infty$, but a run that keeps chasing it.
#
# With the floor 0.05 (dash-dot), the smallest $\sigma$ stops at the floor, the loss
# settles at {glue:text}`ch13_floor_final_mean:.2f` (its highest value after epoch 100 is
# {glue:text}`ch13_floor_highest_mean:.2f`), and the gradient norm peaks at
# {glue:text}`ch13_floor_max_grad_mean:.0f`. Note that even the healthy run ends below the
# dotted line: five points are far too few for a flexible model, and the floor bounds the
# overfitting without removing it. The other two panels are a warning about averages: the
# entropy of $\pi$ and the effective number of components are averages over all training
# inputs, and a collapsed component can keep an ordinary weight, so they need not show a
# collapse at all.
#
# What to watch, then: a smallest $\sigma$ falling steadily by orders of magnitude (far
# below any scale in the data), a training loss below what the exact answer would score,
# and spikes in the loss together with spikes in the gradient norm.
#
# ## What stops it
#
# The floor is one fix. Three general-purpose regularisers are the usual other
# suggestions, each working in its own way; we apply each alone, without a floor, to ten
# runs (seeds 0 to 9) of 300 epochs each:
#
# - **weight decay** (`weight_decay=1e-3`): an L2 penalty meant to keep the weights, and
#   so the raw output $a^\sigma$, from running off to $-\infty$;
# - **noise regularisation** (`input_noise` and `target_noise` at Rothfuss et al.'s rule
#   of thumb): every step sees the points moved by fresh noise, so no component can sit
#   on one exactly;
# - **early stopping** (`validation=` 50 fresh points, `patience=100`): training stops
#   when the validation NLL has not improved for 100 epochs, and the best weights are
#   restored.

# %% tags=["nbval-ignore-output"]
SEEDS10 = range(10)
COLLAPSED = 0.01  # a smallest sigma below this, at any epoch, counts as a collapse
remedies = {
    "no floor": {},
    "floor 0.05": {"sigma_min": 0.05},
    "weight decay": {"weight_decay": 1e-3},
    "noise": {"input_noise": "rule_of_thumb", "target_noise": "rule_of_thumb"},
    "early stopping": {"validation": (t_val, x_val), "patience": 100},
}
rows = {}
for label, kwargs in remedies.items():
    runs = [train_few(s, 300, f"ch13-{label.replace(' ', '-')}-s{s}", **kwargs) for s in SEEDS10]
    rows[label] = {
        "train": np.array([h[-1] for _, h in runs]),
        "sigma": np.array([h.diagnostics["min_sigma"][-1] for _, h in runs]),  # at the end
        "lowest": np.array([np.nanmin(h.diagnostics["min_sigma"]) for _, h in runs]),  # ever
        "heldout": np.array([mean_nll(m, t_test, x_test) for m, _ in runs]),
    }
print(f"{'medians over 10 seeds':<22}{'training NLL':>13}{'log10 smallest sigma':>22}"
      f"{'held-out NLL':>14}{'collapsed':>11}")  # fmt: skip
for label, r in rows.items():
    key = label.replace(" ", "_").replace(".", "")  # no_floor, floor_005, ...
    train = report(f"ch13_{key}_train", r["train"], allow_nonfinite=True)
    held = report(f"ch13_{key}_heldout", r["heldout"], allow_nonfinite=True)
    sigma = report(f"ch13_{key}_logsigma", np.log10(r["sigma"]))
    collapsed = report(f"ch13_{key}_collapsed", r["lowest"] < COLLAPSED, of="count")
    print(f"{label:<22}{train.median:>13.2f}{sigma.median:>22.2f}{held.median:>14.2f}"
          f"{int(collapsed.values.sum()):>8}/10")  # fmt: skip

# %% tags=["remove-cell", "nbval-ignore-output"]
# What the prose says of the table. Paired: the same seed with and without a remedy.
held = {label: r["heldout"] for label, r in rows.items()}
for label, at_least in (("floor 0.05", 6), ("noise", 9), ("early stopping", 9)):
    key = label.replace(" ", "_").replace(".", "")
    report(f"ch13_{key}_better", held[label] < held["no floor"], of="count", at_least=at_least)
report(
    "ch13_weight_decay_better", held["weight decay"] < held["no floor"], of="count", at_most=7
)  # no reliable help
# Already glued by the table cell: checked here without glueing again.
collapsed = {label: r["lowest"] < COLLAPSED for label, r in rows.items()}
report("no floor: collapsed runs", collapsed["no floor"], of="count", at_least=8, glue=False)
report("weight decay: collapsed runs", collapsed["weight decay"], of="count", at_least=8,
       glue=False)  # fmt: skip
report("no floor: held-out NLL", held["no floor"], of="median", at_least=5.0,
       allow_nonfinite=True, glue=False)  # fmt: skip
report("floor: smallest sigma at the end", rows["floor 0.05"]["sigma"], at_least=0.05,
       at_most=0.051, glue=False)  # fmt: skip
report("noise: smallest sigma ever", rows["noise"]["lowest"], at_least=0.1, glue=False)
report("noise: held-out NLL", held["noise"], at_most=0.5, glue=False)
report("early stopping: held-out NLL", held["early stopping"], at_most=0.5, glue=False)
report("ch13_floor_minus_noise", held["floor 0.05"] - held["noise"], at_least=0.5)
report("ch13_early_beats_noise", held["early stopping"] < held["noise"], of="count", at_least=7)
medians = {label: np.median(h) for label, h in held.items()}
check(
    "early stopping has the lowest median held-out NLL of the five",
    min(medians, key=medians.get) == "early stopping",
    f"medians {medians}",
)
# Seed by seed, early stopping beats no remedy, the floor and weight decay in every seed.
for other in ("no floor", "floor 0.05", "weight decay"):
    paired(f"early stopping minus {other}", held["early stopping"], held[other], at_most=0.0,
           allow_nonfinite=True, glue=False)  # fmt: skip

# %% [markdown]
# Each number in the table is a median over the ten seeds: without a floor the held-out
# NLLs range from {glue:text}`ch13_no_floor_heldout_min:.1f` to
# {glue:text}`ch13_no_floor_heldout_max:.0f` nats, and a median, unlike a mean, is not
# pulled around by the largest of them. Without any remedy the ten runs end with a median
# training NLL of {glue:text}`ch13_no_floor_train_median:.2f` and a median held-out NLL of
# {glue:text}`ch13_no_floor_heldout_median:.1f` nats on 2,000 fresh points;
# {glue:text}`ch13_no_floor_collapsed_count` of the ten had a component narrower than 0.01
# at some epoch. The collapsed component costs dearly everywhere else. Comparing each
# remedy with no remedy on the same seed:
#
# - the floor keeps the smallest $\sigma$ at $10^{-1.3} = 0.05$ in every run and gives a
#   median held-out NLL of {glue:text}`ch13_floor_005_heldout_median:.2f`, better than no
#   remedy in {glue:text}`ch13_floor_005_better_count` of the ten seeds: bounded, but five
#   points still overfit;
# - weight decay at this strength does not stop the collapse
#   ({glue:text}`ch13_weight_decay_collapsed_count` of ten runs had a component narrower than
#   0.01), and it does not reliably help: its median held-out NLL is
#   {glue:text}`ch13_weight_decay_heldout_median:.1f`, better than no remedy in only
#   {glue:text}`ch13_weight_decay_better_count` of the ten seeds;
# - noise keeps every component wide (smallest $\sigma$ at $10^{x}$ with
#   $x =$ {glue:text}`ch13_noise_logsigma_median:.2f`, never below 0.1 in any run) and gives
#   a median held-out NLL of {glue:text}`ch13_noise_heldout_median:.2f` (its training NLL,
#   {glue:text}`ch13_noise_train_median:.2f`, is on the noisy points, so it is not
#   comparable);
# - early stopping restores the weights of the epoch with the lowest validation NLL, with a
#   median held-out NLL of {glue:text}`ch13_early_stopping_heldout_median:.2f`, the lowest
#   median of the five; seed by seed it is below no remedy's, the floor's and weight
#   decay's in every one of the ten seeds, and below noise's in
#   {glue:text}`ch13_early_beats_noise_count` of them, at the price of 50 validation points,
#   ten times the training set.
#
# On five points, only the remedies that look beyond the training points (noise, and
# validation data) keep the model useful: their held-out NLL stays below half a nat in
# every run, while the floor's stays at least half a nat above noise's in every seed. The
# floor only limits the damage, and weight decay at this strength not even that. The MDNs
# of {ref}`ch-k-calibration`, on 400 points, had the library's default floor $10^{-3}$ and
# nothing else.
#
# ## How often, over ten seeds
#
# One run shows what can happen; how often it happens needs many. For each map and each
# floor (none, or 0.05) we train ten networks, seeds 0 to 9, for 200 epochs on the same
# five points, and count the runs whose smallest $\sigma$ fell below 0.01 at some epoch: a
# fifth of the floor, a tenth of the noise's half-width, a component narrower than anything
# in the data.

# %% tags=["nbval-ignore-output"]
sweep = {}
for name in SIGMA_MAPS:
    for floor_label, floor in (("none", NO_FLOOR), ("floor", 0.05)):
        results = []
        for seed in SEEDS10:
            mdn, h = train_few(seed, 200, f"ch13-{name}-{floor_label}-s{seed}", floor, name)
            smallest = float(np.nanmin(h.diagnostics["min_sigma"]))
            results.append((smallest < COLLAPSED, mean_nll(mdn, t_test, x_test)))
        sweep[name, floor_label] = np.array(results, dtype=np.float64)
print(f"{'map':<10}{'floor':>6}{'collapsed':>11}{'median held-out NLL':>21}")
shown = {"none": "none", "floor": "0.05"}
for (name, floor_label), r in sweep.items():
    collapsed = report(f"ch13_{name}_{floor_label}_collapsed", r[:, 0], of="count")
    held = report(f"ch13_{name}_{floor_label}_heldout", r[:, 1], allow_nonfinite=True)
    print(f"{name:<10}{shown[floor_label]:>6}{int(r[:, 0].sum()):>8}/10{held.median:>21.2f}")

# %% tags=["remove-cell", "nbval-ignore-output"]
# Each map collapses without a floor, never with it; paired on the seed, the floor lowers
# the held-out NLL in most seeds, whatever the map.
for name in SIGMA_MAPS:
    none, floored = sweep[name, "none"], sweep[name, "floor"]
    report(f"{name}, no floor: collapsed", none[:, 0], of="count", at_least=8, glue=False)
    report(f"{name}, floor: collapsed", floored[:, 0], of="count", at_most=0, glue=False)
    report(f"ch13_{name}_floor_better", floored[:, 1] < none[:, 1], of="count", at_least=6)

# %% [markdown]
# Without a floor, {glue:text}`ch13_softplus_none_collapsed_count` (softplus),
# {glue:text}`ch13_exp_none_collapsed_count` ($\exp$) and
# {glue:text}`ch13_elu_none_collapsed_count` (ELU + 1) of the ten runs had a component
# narrower than 0.01 within 200 epochs; with the floor, none could. Paired on the seed, the
# floor lowered the held-out NLL in {glue:text}`ch13_softplus_floor_better_count`,
# {glue:text}`ch13_exp_floor_better_count` and {glue:text}`ch13_elu_floor_better_count` of
# the ten runs. None of these runs can turn into NaN through $\sigma = 0$: `MDN` always adds
# its floor, and even `NO_FLOOR` keeps $\sigma$ above zero. The collapse, then, is the
# failure to expect, and it does not announce itself with an error: the loss stays finite
# and training goes on. The maps make little difference to how often runs collapse: they
# are the same curve $e^{a}$
# where a collapse happens, and each of them collapses in at least eight of ten runs
# without a floor and in none with it. The floor, not the map, decides.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch13-bound
#
# Compute by hand: a component with weight $\pi = 0.5$ sits exactly on one of the five
# training points, with $\sigma$ at the floor. Ignoring the other component, that point's
# density is $\pi / (\sigma \sqrt{2 \pi})$. What is this one point's term in the *mean*
# training NLL over five points, with the floor 0.05, and with "no floor"
# ($\sigma$ = `NO_FLOOR`)?
# ```
#
# ```{solution-start} ex-ch13-bound
# :class: dropdown
# ```
#
# Its term in the mean is $-\tfrac15 \ln\big(\pi / (\sigma\sqrt{2\pi})\big)$:

# %%
for floor in (0.05, NO_FLOOR):
    term = -np.log(0.5 / (floor * np.sqrt(2 * np.pi))) / 5
    print(f"sigma = {floor:.2g}: one point adds {term:+.2f} nats to the mean NLL")

# %% [markdown]
# With the floor the term is bounded at a fraction of a nat; without it, one point can
# pull the mean down by several nats: on its own, several times the exact density's
# expected NLL of {glue:text}`ch13_bayes_nll` nats.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch13-underflow
#
# Predict, then check: below which raw output $a$ does each map give exactly $\sigma = 0$
# in float32? And in float64? (Try a fine grid of $a$ and `positive_scale`.)
# ```
#
# ```{solution-start} ex-ch13-underflow
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
zero_from = {}  # (dtype, map) -> the largest a on the grid where sigma is exactly 0
for dtype in (torch.float32, torch.float64):
    grid_a = torch.linspace(-800, 0, 80_001, dtype=dtype)
    for name in SIGMA_MAPS:
        zero = grid_a[positive_scale(grid_a, name) == 0]
        zero_from[dtype, name] = zero.max().item() if len(zero) else float("nan")
        print(f"{str(dtype):<14}{name:<10}sigma = 0 for a <= {zero_from[dtype, name]:.1f}")
grid_a = torch.linspace(-40, 0, 40_001)  # float32
textbook = torch.nn.functional.elu(grid_a) + 1  # (e^a - 1) + 1, rounded
zero_from["textbook"] = grid_a[textbook == 0].max().item()
print(f"textbook ELU + 1 in float32: sigma = 0 for a <= {zero_from['textbook']:.1f}")

# %% tags=["remove-cell", "nbval-ignore-output"]
# Where exactly each reaches 0 depends on the float path (a vectorised exp, log1p or expm1
# rounds differently near the smallest subnormal); the ranges the prose states do not.
for name in SIGMA_MAPS:
    report(f"float32 {name}: zero from", [zero_from[torch.float32, name]], at_least=-104.5,
           at_most=-102.5, glue=False)  # fmt: skip
    report(f"float64 {name}: zero from", [zero_from[torch.float64, name]], at_least=-746.0,
           at_most=-743.5, glue=False)  # fmt: skip
report("textbook ELU + 1: zero from", [zero_from["textbook"]], at_least=-17.5, at_most=-16.0,
       glue=False)  # fmt: skip

# %% [markdown]
# All three reach zero where $e^{a}$ underflows (below the smallest subnormal number):
# near $a = -104$ in float32 and $a = -745$ in float64. The last digit depends on your
# machine: a correctly rounded $e^{a}$ is zero below $\ln 2^{-150} \approx -103.97$ in
# float32, but the vectorised kernels that torch picks on a modern CPU may round a value
# this close to the smallest subnormal to zero a little earlier (softplus, through
# $\ln(1 + e^{a})$, most visibly). The library computes ELU + 1 as
# $e^{\min(a, 0)} + \max(a, 0)$ for this reason: the textbook
# $\operatorname{ELU}(a) + 1 = (e^{a} - 1) + 1$ is exactly zero from $a \approx -17$ on in
# float32 (last line), where $e^{a}$ is smaller than half the spacing of float32 numbers
# just below 1 (below $\ln 2^{-25} \approx -17.3$; again a vectorised $e^{a} - 1$ may get
# there a little earlier).
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch13-effective
#
# Compute by hand: for one input with $\pi = (0.9, 0.1)$, what are the entropy of $\pi$
# and the effective number of components $\exp(\text{entropy})$? And for
# $\pi = (0.5, 0.5)$? Check them with a few lines of NumPy.
# ```
#
# ```{solution-start} ex-ch13-effective
# :class: dropdown
# ```

# %%
for pi in ([0.9, 0.1], [0.5, 0.5]):
    pi = np.array(pi)
    entropy = -(pi * np.log(pi)).sum()
    print(f"pi = {pi}: entropy {entropy:.3f} nats, effective components {np.exp(entropy):.2f}")

# %% [markdown]
# A 90/10 split counts as about 1.4 components, an even split as exactly 2. `fit` averages
# $\exp(\text{entropy})$ over the training inputs, so one dominant component everywhere
# reads close to 1.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch13-weight-decay
#
# Change the model and predict: weight decay at `1e-3` did not stop the collapse. Will ten
# or a hundred times more (`weight_decay=1e-2`, `1e-1`) keep the smallest $\sigma$ above
# 0.01 over 300 epochs, seeds 0 to 9? Predict, then train them with `train_few`.
# ```
#
# ```{solution-start} ex-ch13-weight-decay
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
for wd in (1e-2, 1e-1):  # 1e-3 is in the table above
    runs = [train_few(s, 300, f"ch13-wd{wd:g}-s{s}", weight_decay=wd) for s in SEEDS10]
    lowest = np.array([np.nanmin(h.diagnostics["min_sigma"]) for _, h in runs])
    held = np.array([mean_nll(m, t_test, x_test) for m, _ in runs])
    key = f"ch13_wd{wd:g}".replace(".", "")  # ch13_wd001, ch13_wd01
    collapsed = report(f"{key}_collapsed", lowest < COLLAPSED, of="count", at_least=9)
    above = report(f"{key}_above_noise", held - rows["noise"]["heldout"], of="median",
                   at_least=1.0, allow_nonfinite=True)  # fmt: skip
    print(f"weight decay {wd:g}: {int(collapsed.values.sum())} of 10 runs collapsed; median "
          f"held-out NLL {np.median(held):.2f}, {above.median:.2f} above noise's on the same seed")  # fmt: skip

# %% [markdown]
# No: the smallest $\sigma$ still falls below 0.01 during training in
# {glue:text}`ch13_wd001_collapsed_count` (`1e-2`) and {glue:text}`ch13_wd01_collapsed_count`
# (`1e-1`) of the ten runs, and the held-out NLL is well above what noise regularisation
# gives: compared seed by seed, by a median of {glue:text}`ch13_wd001_above_noise_median:.1f`
# and {glue:text}`ch13_wd01_above_noise_median:.1f` nats. Two reasons. A collapse needs only
# a moderately negative raw output, since $\sigma \approx e^{a}$: $a \approx -5$
# already gives $\sigma < 0.01$, and an L2 penalty charges such weights little. And near a
# collapse the likelihood's gradient is huge, so the decay term added to it (`torch`'s
# Adam adds `weight_decay * w` to the gradient) hardly changes the step.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - $\exp$, softplus and ELU + 1 all become $e^{a}$ for very negative $a$; none of them
#   keeps $\sigma$ away from zero. Only a floor $\sigma_{\min}$ does, and `MDN` always
#   adds one (`sigma_min`, default $10^{-3}$; `sigma_map` picks the map).
# - A component collapsing onto one training point drives the training NLL below what the
#   exact density scores, with spikes in the loss and the gradient norm as it is knocked
#   off and climbs back; the held-out NLL pays for it.
# - Over ten seeds on five points, at least eight of ten runs without a floor collapsed,
#   for each map, and a collapse raises no error. The floor stops it by construction;
#   noise regularisation and early stopping also keep the model useful on held-out data.
# - `fit(..., diagnostics=True)` records the smallest $\sigma$, the entropy of $\pi$, the
#   effective number of components and the gradient norm every epoch; a smallest
#   $\sigma$ falling by orders of magnitude is the clearest sign of trouble.
#
# {ref}`ch-real-data` leaves the toy problem for measured data, where none of the answers
# are known and these diagnostics are what we have.
