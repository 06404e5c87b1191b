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
# (ch-implementation)=
# # Implementing the MDN
#
# Download this chapter as a notebook
# ({download}`06_implementing_the_mdn.ipynb <./06_implementing_the_mdn.ipynb>`) or as a Python script
# ({download}`06_implementing_the_mdn.py <./06_implementing_the_mdn.py>`), or open it in Colab or Binder from the
# rocket icon above.
#
# {ref}`ch-derivation` wrote the MDN on paper, in exact arithmetic. This chapter first
# writes the whole of it in plain PyTorch, in a few lines you can take to a problem of
# your own, trains it, and checks it against `mdn_src.MDN`. Then it follows the equations into
# `mdn_src`, where a computer's floats need care (they overflow to infinity when too large
# and round to zero when too small), and measures what each thing the library adds buys.
#
# **In this chapter** you will learn:
#
# - how to write, train and score an MDN from scratch: a trunk, one head split into
#   $\pi$, $\mu$ and $\sigma$, and a log-sum-exp loss;
# - where each equation of {ref}`ch-derivation` lives in `mdn_src`, and how the library's
#   training loss uses the gradients {eq}`eq-grad-pi`–{eq}`eq-grad-sigma` directly;
# - how the maps to $\pi$ (a softmax, computed as a log-softmax) and to $\sigma$ ($\exp$ or
#   $\sigma_{\min}$ + softplus) behave, and what the floor $\sigma_{\min}$ buys;
# - why the loss is computed in log space with logsumexp, and when the textbook formula,
#   coded as written, actually underflows on our data;
# - what the library's closed-form gradient, floor, families and early stopping buy, each
#   measured here.

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
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from myst_nb import glue
from torch import nn

from mdn_src import (
    MDN,
    MixtureParameters,
    check,
    fit,
    fit_cached,
    io,
    make_toy_data,
    mean_nll,
    mixture_log_prob,
    mixture_nll,
    oracle,
    paired,
    plotting,
    report,
)
from mdn_src.problems import NOISE_HALF_WIDTH

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits

# %% [markdown]
# ## An MDN in plain PyTorch
#
# The source post wrote its MDN the way the equations read. Three separate linear layers
# produced $a^\pi$, $\mu$ and $a^\sigma$; $\sigma = e^{a^\sigma}$; and the loss looped in
# Python over the $K$ components, computed each weighted Gaussian density
# $\pi_k \mathcal{N}(t \mid \mu_k, \sigma_k^2)$, added them up, and only then took the
# logarithm. That is {eq}`eq-nll` to the letter, and it has two weaknesses: a density that
# rounds to 0 makes the loss infinite, because the logarithm comes last (this chapter
# measures when), and the loop runs $K$ small operations per step where one large one would
# do (the README's benchmark times the post's code against the library's). In outline, in
# our words (not run here):
#
# ```python
# pi = torch.softmax(head_pi(h), dim=-1)  # three heads
# mu = head_mu(h)
# sigma = torch.exp(head_sigma(h))  # no floor
# density = 0
# for k in range(K):  # one component at a time
#     density = density + pi[:, k] * normal_pdf(t, mu[:, k], sigma[:, k])
# loss = -torch.log(density).mean()  # the logarithm comes last
# ```
#
# Below is the same model written the way we recommend, in plain PyTorch and nothing else.
# The trunk is a tanh layer; *one* linear head gives all $3K$ outputs, which `chunk` splits
# into $a^\pi$, $\mu$ and $a^\sigma$; $\ln\pi$ comes from a log-softmax and
# $\sigma$ from a floor plus softplus ({eq}`eq-softmax-pi`, {eq}`eq-mu-identity`,
# {eq}`eq-sigma-map`); and the loss stays in log space, with `torch.logsumexp` over the
# components (why, the rest of the chapter shows). Copy these lines to a problem of your own
# and change the sizes.


# %%
class TinyMDN(nn.Module):
    """p(t | x) as K Gaussians, in plain PyTorch: a tanh trunk and one head split in three."""

    def __init__(self, n_hidden=50, n_components=30, sigma_min=1e-3):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(1, n_hidden), nn.Tanh())
        self.head = nn.Linear(n_hidden, 3 * n_components)
        self.sigma_min = sigma_min

    def forward(self, x):
        a_pi, mu, a_sigma = self.head(self.trunk(x)).chunk(3, dim=-1)  # each [N, K]
        return F.log_softmax(a_pi, dim=-1), mu, self.sigma_min + F.softplus(a_sigma)


def tiny_nll(log_pi, mu, sigma, t):
    """Mean negative log-likelihood of targets t [N, 1], in log space throughout."""
    log_normal = -0.5 * ((t - mu) / sigma) ** 2 - sigma.log() - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(log_pi + log_normal, dim=-1).mean()


def train_tiny(model, x, t, epochs, lr=0.008):
    """Full-batch Adam on the NLL, the learning rate falling to 0 on a cosine; the losses."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=epochs)
    losses = []
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = tiny_nll(*model(x), t)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    return losses


# %% [markdown]
# That is the whole of it: the model, its loss and its training loop. `mdn_src.MDN` has the same layout
# (a `trunk`, then one `head` whose outputs are split in the same order), and PyTorch
# initialises both the same way, so from the same seed the two networks start from the
# same weights. The cell checks that, then trains both on the book's data (the inverse
# problem, {ref}`ch-inverse`: input $t$, target $x$, both unitless numbers near $[0, 1]$)
# with the post's optimiser, Adam at a learning rate of 0.008 on the full batch, for 1,000
# epochs and three seeds, and scores both on 20,000 fresh points. Unlike the post, the
# learning rate falls to 0 along a cosine over the epochs (`fit(..., schedule="cosine")`
# in the library), so that no run ends in the middle of one of the loss spikes
# {ref}`ch-mdn` shows: a run stopped at a spike would be compared, not an implementation. The library's
# runs go through `fit_cached`, which loads the results the book ships
# ({ref}`ch-mdn` says how that works); the plain ones train here, in about
# {glue:text}`ch6_tiny_seconds` seconds each.

# %%
x_train, t_train = make_toy_data(2500, seed=0)  # the book's data
inputs, targets = torch.from_numpy(t_train), torch.from_numpy(x_train)  # inverse problem
x_test, t_test = make_toy_data(20_000, seed=1)  # fresh points, to score
SEEDS = (0, 1, 2)
for seed in SEEDS:
    torch.manual_seed(seed)
    tiny = TinyMDN()
    torch.manual_seed(seed)
    library = MDN(1, 1, n_components=30, hidden=50)
    same = all(torch.equal(a, b) for a, b in zip(tiny.parameters(), library.parameters(),
                                                   strict=True))  # fmt: skip
    check(f"seed {seed}: TinyMDN and MDN start from the same weights", same)
print("the same initial weights in every seed")

# %% tags=["nbval-ignore-output"]
tiny_nlls, library_nlls, tiny_seconds = [], [], []
for seed in SEEDS:
    torch.manual_seed(seed)
    tiny = TinyMDN()
    start = time.perf_counter()
    train_tiny(tiny, inputs, targets, epochs=1000)
    tiny_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        tiny_nlls.append(tiny_nll(*tiny(torch.from_numpy(t_test)), torch.from_numpy(x_test)).item())
    torch.manual_seed(seed)
    library = MDN(1, 1, n_components=30, hidden=50)
    fit_cached(library, t_train, x_train, name=f"ch6-mdn-seed{seed}", epochs=1000, lr=0.008,
               schedule="cosine", shipped="models/cache")  # fmt: skip
    library_nlls.append(mean_nll(library, t_test, x_test))
    print(f"seed {seed}: held-out NLL, plain PyTorch {tiny_nlls[-1]:.3f}, "
          f"mdn_src.MDN {library_nlls[-1]:.3f}")  # fmt: skip
glue("ch6_tiny_seconds", f"{np.median(tiny_seconds):.0f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims of the next paragraph: both implementations score in the band chapter 7 checks
# for the post's network, and seed by seed they land within 0.15 nats of each other, within
# 0.1 on average: the size of the differences between seeds, not of a defect.
report("ch6_tiny_nll", tiny_nlls, at_least=-1.18, at_most=-0.88)
report("ch6_library_nll", library_nlls, at_least=-1.18, at_most=-0.88)
tiny_minus_library = paired("ch6_tiny_minus_library", tiny_nlls, library_nlls,
                            at_least=-0.15, at_most=0.15)  # fmt: skip
report("ch6_tiny_minus_library_avg", tiny_minus_library.values, of="mean", at_least=-0.1,
       at_most=0.1, glue=False)  # fmt: skip
glue("ch6_library_sd", f"{np.std(library_nlls, ddof=1):.3f}", display=False)
glue("ch6_tiny_sd", f"{np.std(tiny_nlls, ddof=1):.3f}", display=False)

# %% [markdown]
# Over the three seeds the plain model scores {glue:text}`ch6_tiny_nll` nats per point on
# the fresh data and `mdn_src.MDN` {glue:text}`ch6_library_nll` (mean ± sd over the seeds).
# Seed by seed, plain minus library is {glue:text}`ch6_tiny_minus_library` nats, with a 95%
# interval for its mean of {glue:text}`ch6_tiny_minus_library_ci`. These differences are
# of the size that separates one seed from another (sd {glue:text}`ch6_tiny_sd` and
# {glue:text}`ch6_library_sd` across seeds), and the check allows at most 0.15 nats in any
# seed and 0.1 on average. The two started from the same weights and computed the same
# loss; they differ in the last bits of each step (autograd and torch's Adam here; a
# closed-form gradient, a fused Adam and, for the shipped runs, another machine in the
# library), and training, which is chaotic, carries such last-bit differences to other
# optima ({ref}`ch-mdn` shows this). Why we compare seed
# by seed, and what such an interval can and cannot say, is the subject of
# {ref}`sec-error-bars` in the next chapter.
#
# So a page of plain PyTorch makes a working MDN. The rest of this chapter looks at what those
# lines get right, and at what `mdn_src` adds to them.

# %% [markdown]
# ## From the equations to the code
#
# | math | code |
# | --- | --- |
# | the network of {numref}`fig-ch5-architecture` | {py:class}`~mdn_src.model.MDN` in `mdn_src/model.py`: `trunk` (tanh layers), then one linear `head` |
# | the maps {eq}`eq-softmax-pi`, {eq}`eq-mu-identity`, {eq}`eq-sigma-map` | `MDN.output_activations`, by {py:class}`~mdn_src.model.HeadSpec` in `mdn_src/model.py`: `log_softmax`, identity, `sigma_min + softplus` |
# | the mixture {eq}`eq-mixture` | `MixtureParameters` (`log_pi` `[N, K]`, `mu` and `sigma` `[N, K, D]`); `mdn(x)` returns it as a `torch.distributions` object |
# | $\ln p(t_n \mid x_n)$ and $E(w)$, {eq}`eq-nll` | {py:func}`~mdn_src.loss.mixture_log_prob`, {py:func}`~mdn_src.loss.mixture_nll` in `mdn_src/loss.py` |
# | the responsibilities {eq}`eq-responsibility` | {py:func}`~mdn_src.loss.responsibilities` |
# | the gradients {eq}`eq-grad-pi`–{eq}`eq-grad-sigma` | `MDN.training_loss` (what `fit` calls), through `mdn_src/fast/`: closed form, no autograd |
#
# The three heads of {numref}`fig-ch5-architecture` are *one* linear layer whose
# $(D + 2)K$ outputs are split into $a^\pi$, $a^\mu$ and $a^\sigma$: one matrix product
# instead of three. For the network of {ref}`ch-mdn`, $K$ = {glue:text}`ch6_K` and $D = 1$:

# %%
torch.manual_seed(0)
mdn = MDN(1, 1, n_components=30, hidden=50)
glue("ch6_K", mdn.n_components, display=False)
glue("ch6_head_outputs", mdn.head.out_features, display=False)
print(mdn.head)

# %% [markdown]
# Two details separate the code from {eq}`eq-nll`. `mixture_nll` returns $E(w)/N$, the *mean*
# over the points: dividing by a constant moves no minimum, but the gradient's size no longer
# depends on $N$, and the loss reads as "nats per point", comparable with the Bayes limit of
# `mdn_src.problems.oracle`. And `MDN.loss`, which training calls, does not ask autograd to
# differentiate: it computes the loss and writes {eq}`eq-grad-pi`–{eq}`eq-grad-sigma` (divided
# by $N$) straight into the gradient, one multiplication on the backward pass. The cell checks
# that this closed form agrees with autograd through `mixture_nll` on the untrained network,
# up to float32 rounding (which can differ in the last bits from one machine to another):

# %%
grads = []
for closed_form in (True, False):
    mdn.zero_grad()
    loss = mdn.training_loss(inputs, targets, closed_form=closed_form)
    loss.backward()
    grads.append(torch.cat([p.grad.flatten() for p in mdn.parameters()]))
nll_check = mixture_nll(mdn.mixture_parameters(inputs), targets).item()
largest = grads[1].abs().max()
relative = ((grads[0] - grads[1]).abs().max() / largest).item()  # float32 rounding: ~1e-7
agree = relative < 1e-5
print(f"loss {loss.item():.4f} = mixture_nll {nll_check:.4f}")
print(f"largest gradient entry: {largest:.1e}")
print(f"largest difference below 1e-5 of it: {agree}")
check("closed-form gradients agree with autograd", agree, f"relative difference {relative:.1e}")

# %% [markdown]
# ## The map to $\pi$: a softmax in log space
#
# The softmax {eq}`eq-softmax-pi` depends only on the *differences* between the $a_k^\pi$, so
# adding a constant to all of them changes nothing. Coded as written, it still fails when the
# $a_k^\pi$ are all large, since $e^{a}$ overflows to `inf` above $a \approx$
# {glue:text}`ch6_exp_overflow` in float32 and `inf / inf` is `nan`, or all very negative,
# where every $e^{a}$ rounds to 0 and `0 / 0` is `nan`. `torch.softmax` subtracts the
# largest $a_k^\pi$ first. The library goes
# one step further and computes $\ln \pi_k = a_k^\pi - \ln \sum_j e^{a_j^\pi}$ directly with
# `log_softmax`, because the loss needs $\ln \pi_k$, and the logarithm of a $\pi_k$ that has
# already rounded to 0 would be $-\infty$.

# %%
a = torch.tensor([0.0, 1.0, 2.0])
glue("ch6_exp_overflow", round(math.log(torch.finfo(torch.float32).max), 1), display=False)
for shift in (0.0, 100.0, -200.0):
    naive = (a + shift).exp() / (a + shift).exp().sum()
    print(f"shift {shift:6.0f}: naive {naive.numpy().round(4)}  torch.softmax "
          f"{torch.softmax(a + shift, 0).numpy().round(4)}")  # fmt: skip

# %% [markdown]
# ## The map to $\sigma$: $\exp$ or softplus
#
# PRML maps $a^\sigma$ to $\sigma = e^{a^\sigma}$; `mdn_src` uses
# $\sigma = \sigma_{\min} + \operatorname{softplus}(a^\sigma)$, {eq}`eq-sigma-map`, with
# $\sigma_{\min}$ = {glue:text}`ch6_sigma_min`. How far a gradient step on $a^\sigma$ moves
# $\sigma$ is set by the slope $\mathrm{d}\sigma / \mathrm{d}a^\sigma$: $e^{a}$, that is
# $\sigma$ itself, for $\exp$, and $\operatorname{sigmoid}(a)$ for softplus.
# {numref}`fig-ch6-sigma-slope` draws both.

# %%
a_grid = torch.linspace(-8, 4, 241)
slope_exp, slope_softplus = a_grid.exp(), torch.sigmoid(a_grid)
close = a_grid[(slope_softplus / slope_exp - 1).abs() < 0.05]  # within 5 % of each other
glue("ch6_sigma_min", mdn.sigma_min, display=False)
glue("ch6_agree_below", f"{close.max().item():.2f}", display=False)
glue("ch6_sigma_agree", f"{mdn.sigma_min + F.softplus(close.max()).item():.3f}", display=False)
glue("ch6_slope_exp_at_3", round(math.exp(3), 1), display=False)

# %% mystnb={"figure": {"caption": "The slope of the map from the pre-activation to $\\sigma$: exp (PRML, dash-dotted) and softplus (mdn_src, solid). On the logarithmic axis they coincide for pre-activations below about -3; for positive ones the exponential's slope keeps growing and softplus's levels off at 1.", "name": "fig-ch6-sigma-slope"}, "image": {"alt": "Two curves on a logarithmic vertical axis against the pre-activation from -8 to 4: a straight rising line for exp, and a curve lying on it for negative values that bends over and flattens just below 1 for positive values."}}
fig, ax = plotting.new_axes(
    r"pre-activation $a^\sigma$", r"slope $\mathrm{d}\sigma / \mathrm{d}a^\sigma$"
)
plotting.plot_curve(ax, a_grid, slope_exp, r"$\exp$ (PRML)", kind="other")
plotting.plot_curve(ax, a_grid, slope_softplus, r"$\sigma_{\min}$ + softplus (mdn_src)")
ax.set_yscale("log")
plotting.finish(ax)
plt.show()

# %% [markdown]
# The figure says two things. For $a^\sigma$ below {glue:text}`ch6_agree_below` ($\sigma$
# below about {glue:text}`ch6_sigma_agree` with softplus) the two slopes differ by less than
# 5 %:
# there softplus *is* $\exp$, a step multiplies $\sigma$ by about $e^{\Delta a}$ in both, and
# softplus does nothing to steady the steps of a narrow component. The maps differ for wide
# components: at $a^\sigma = 3$ the exponential's slope is {glue:text}`ch6_slope_exp_at_3`
# and growing exponentially, while softplus's stays below 1, so one step moves $\sigma$ by at
# most $|\Delta a|$ and a large step cannot blow a component up. What protects narrow
# components is the floor.
#
# ## The floor $\sigma_{\min}$
#
# Suppose the network places component $j$ exactly on one training target, $\mu_j(x_m) = t_m$,
# and shrinks its width. That point's term in {eq}`eq-nll` is then bounded by
#
# $$
# \begin{aligned}
# E_m &\le -\ln\big(\pi_j\, \mathcal{N}(t_m \mid t_m, \sigma_j^2 I)\big)\\
#   &= -\ln \pi_j + \tfrac{D}{2} \ln\big(2\pi\sigma_j^2\big),
# \end{aligned}
# $$
#
# which goes to $-\infty$ as $\sigma_j \to 0$ while the other points' terms stay finite: $E(w)$
# has no minimum, the singularity of maximum likelihood for ordinary Gaussian mixtures (PRML
# §9.2.1). With the floor, no density exceeds $(2\pi\sigma_{\min}^2)^{-D/2}$, and the loss
# per point is bounded below by $\tfrac{D}{2} \ln(2\pi\sigma_{\min}^2)$, here
# {glue:text}`ch6_nll_floor` nats, far below the best any model can reach on our toy
# problem ({glue:text}`ch6_bayes_nll_inverse` nats for the inverse problem, computed exactly by
# `mdn_src.problems.oracle`). The floor stops a collapse without getting in the way of a good fit.

# %%
nll_floor = 0.5 * math.log(2 * math.pi * mdn.sigma_min**2)  # D = 1
glue("ch6_nll_floor", round(nll_floor, 2), display=False)
glue("ch6_bayes_nll_inverse", round(oracle.bayes_nll(inverse=True), 2), display=False)
print(f"lower bound on the mean NLL: {nll_floor:.4f} nats")

# %% [markdown]
# ## The loss in log space
#
# Written as in {eq}`eq-nll`, the loss evaluates each density, adds them up and takes the
# logarithm. But $\mathcal{N}_k$ contains $\exp(-z^2/2)$ with $z = r_k / \sigma_k$, and once
# a target lies more than about {glue:text}`ch6_underflow_z` standard deviations from a mean,
# that factor is below the smallest positive float32 and rounds to exactly 0:

# %%
z = torch.tensor([10.0, 14.0, 15.0, 20.0])  # distance from the mean, in units of sigma
glue("ch6_underflow_z", round(math.sqrt(-2 * math.log(2.0**-149)), 1), display=False)
print("exp(-z^2/2)       :", " ".join(f"{v:9.2e}" for v in torch.exp(-0.5 * z**2).tolist()))
print("log(exp(-z^2/2))  :", " ".join(f"{v:9.2f}" for v in torch.exp(-0.5 * z**2).log().tolist()))
print("-z^2/2 (log space):", " ".join(f"{v:9.2f}" for v in (-0.5 * z**2).tolist()))

# %% [markdown]
# If that happens for every component of a point, the point's density is 0, its loss
# $-\ln 0 = +\infty$, and its gradient `nan`, which poisons every weight at the next step.
# The cure is never to leave log space. With $s_{k} = \ln \pi_k + \ln \mathcal{N}_k$ and
# $m = \max_k s_k$:
#
# $$
# \begin{aligned}
# \ln p(t \mid x) &= \ln \sum_{k=1}^{K} e^{s_k}\\
#   &= m + \ln \sum_{k=1}^{K} e^{s_k - m},\\
# \ln \pi_k &= a_k^\pi - \ln \sum_{j=1}^{K} e^{a_j^\pi},\\
# \ln \mathcal{N}_k &= -\tfrac{D}{2} \ln\big(2\pi\sigma_k^2\big)\\
#   &\quad - \frac{r_k^2}{2\sigma_k^2}.
# \end{aligned}
# $$ (eq-logsumexp)
#
# The second line is the *logsumexp* trick, and it is exact: after subtracting the largest
# term, one exponential equals 1, so the sum lies between 1 and $K$ and its logarithm is
# finite. The third is the log-softmax, and the last two lines never call $\exp$. This is
# what `mixture_log_prob` computes, with `torch.logsumexp`. A bonus: the derivative of
# logsumexp is the softmax of the $s_k$, which is $\gamma_k$ {eq}`eq-responsibility`, and the
# library's `responsibilities` is that softmax.
#
# ## When does the naive density underflow?
#
# The naive form is not wrong everywhere; it fails when every component is far from a target.
# How often is that on our data? The cell below codes the density as written (it lives here
# on purpose: it is the version not to use) and counts the training points whose naive
# float32 density is exactly 0, for the network of {ref}`ch-mdn` at initialisation and after
# 10, 30 and 100 epochs of its training (Adam, learning rate 0.008, full batch), for three seeds.
# It also records the lowest density of any point, from the log-space value.


# %%
def naive_density(params, t):
    """sum_k pi_k N(t | mu_k, sigma_k^2), the densities formed explicitly (1-D target)."""
    sigma = params.sigma[..., 0]  # [N, K]
    pdf = torch.exp(-0.5 * ((t - params.mu[..., 0]) / sigma) ** 2) / (
        math.sqrt(2 * math.pi) * sigma
    )
    return (params.pi * pdf).sum(-1)  # [N]


def underflow_report(model, scale=1.0):
    """(points whose naive density is 0, log10 of the lowest density) on the scaled targets."""
    with torch.no_grad():
        params = model.mixture_parameters(inputs)
        zeros = int((naive_density(params, scale * targets) == 0).sum())
        return zeros, mixture_log_prob(params, scale * targets).min().item() / math.log(10)


def untrained(seed):
    """The network of ch-mdn, with initial weights from ``seed``."""
    torch.manual_seed(seed)
    return MDN(1, 1, n_components=30, hidden=50)


# %% tags=["nbval-ignore-output"]
CHECKPOINTS = (10, 30, 100)
reports, final_loss = [], []  # per seed: {epochs: (zeros, lowest log10 density)}, loss
for seed in range(3):
    model = untrained(seed)
    row = {0: underflow_report(model)}

    def record(epoch, m, row=row):
        if epoch + 1 in CHECKPOINTS:  # epoch counts from 0, after the epoch's step
            row[epoch + 1] = underflow_report(m)

    history = fit(model, inputs, targets, epochs=max(CHECKPOINTS), lr=0.008, callback=record)
    reports.append(row)
    final_loss.append(history[-1])
for epochs in reports[0]:
    zeros = [r[epochs][0] for r in reports]
    lowest = [round(r[epochs][1], 2) for r in reports]
    print(f"after {epochs:3d} epochs: zero densities {zeros}, lowest log10 p {lowest}")
print(f"training loss in the last epoch: {np.round(final_loss, 3).tolist()}")
lowest_ever = min(r[e][1] for r in reports for e in r)  # log10, over seeds and checkpoints
glue("ch6_lowest_density", f"{10**lowest_ever:.1e}", display=False)
glue("ch6_f32_tiny", f"{2.0**-149:.1e}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# The claims of the next paragraph, over the seeds and checkpoints: no naive density is 0,
# the lowest density stays far above float32's smallest (1e-45), and the loss has fallen.
report("ch6_zeros_trained", [r[e][0] for r in reports for e in r], at_most=0, digits=0)
report("ch6_lowest_log10", [min(r[e][1] for e in r) for r in reports], at_least=-5, digits=1)
loss_100 = report("ch6_loss_100", final_loss, at_least=-1.2, at_most=-0.5, digits=2)

# %%
with torch.no_grad():
    init = [untrained(seed).mixture_parameters(inputs) for seed in range(3)]
sigmas, mus = torch.cat([p.sigma for p in init]), torch.cat([p.mu for p in init])
glue("ch6_init_sigma", f"{sigmas.min():.2f} and {sigmas.max():.2f}", display=False)
glue("ch6_init_mu", f"{mus.min():.2f} and {mus.max():.2f}", display=False)
print(
    f"initial sigma {sigmas.min():.2f} to {sigmas.max():.2f}, mu {mus.min():.2f} to {mus.max():.2f}"
)

# %% [markdown]
# No point underflowed, at any checkpoint, for any seed: the lowest density of any point was
# {glue:text}`ch6_lowest_density`, while float32 rounds to 0 below
# {glue:text}`ch6_f32_tiny`. Our targets lie in $[0, 1]$, and the initial components are
# wide and close to them (over the three seeds, initial $\sigma$ between
# {glue:text}`ch6_init_sigma` and means between {glue:text}`ch6_init_mu`). By the last
# checkpoint the training loss is {glue:text}`ch6_loss_100` nats per point (mean ± sd over the
# seeds): the components have moved onto the data, and still no point is far from all of
# them. On this data the network did not underflow in the first 100 epochs of any of the
# three seeds; the original post
# trained this very problem with the naive loss and got away with it. {ref}`ch-mdn` trains
# with the log-space loss all the same.
#
# What makes it happen is targets far from every initial component. The same untrained
# networks, with the targets measured in other units (multiplied by 10, 30 or 100, as data in
# centimetres rather than metres would be):

# %% tags=["nbval-ignore-output"]
zeros_at = {}  # scale: points whose naive density is 0, per seed
for scale in (1, 10, 30, 100):
    zeros, lowest = zip(
        *[underflow_report(untrained(seed), scale) for seed in range(3)], strict=True
    )
    zeros_at[scale] = np.array(zeros)
    print(f"targets x {scale:3d}: zero densities {list(zeros)} of {len(targets)}, "
          f"lowest log10 p in log space {min(lowest):.0f}")  # fmt: skip
glue("ch6_n_points", f"{len(targets):,}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# Counting exact zeros depends on the last bits of points near float32's smallest number, so
# the counts are claims: none at scale 1, most of the points at scale 100, and in every seed
# more (or as many) at each larger scale.
report("ch6_zeros_x1", zeros_at[1], at_most=0, digits=0)
report("ch6_zeros_x10", zeros_at[10], digits=0)
report("ch6_zeros_x30", zeros_at[30], digits=0)
report("ch6_zeros_x100", zeros_at[100], at_least=len(targets) / 2, digits=0)
check(
    "the count of zero densities grows with the scale, in every seed",
    bool((np.diff(np.stack([zeros_at[s] for s in (1, 10, 30, 100)]), axis=0) >= 0).all()),
    str({s: v.tolist() for s, v in zeros_at.items()}),
)

# %% [markdown]
# The number of points that underflow, mean ± sd over three initial seeds, is
# {glue:text}`ch6_zeros_x10` with the targets multiplied by 10,
# {glue:text}`ch6_zeros_x30` by 30 and {glue:text}`ch6_zeros_x100` by 100, of the
# {glue:text}`ch6_n_points`. Each of those points has a naive density of exactly 0, an
# infinite loss and a `nan` gradient at the very first step, while its log-space
# log-density stays finite (the lowest is printed above). Data are usually standardised
# before training, which keeps them near the initial components, but the log-space loss
# does not depend on anyone remembering to.
#
# The other way to underflow needs no outlier. A Gaussian over $D$ dimensions is a product
# of $D$ factors, each below 1 when $\sigma$ is large. Below, three components with
# $\sigma = 5$ in $D = 40$ dimensions, and a target drawn from the first one, a perfectly
# typical point:

# %%
g = torch.Generator().manual_seed(0)
mu_40 = torch.randn(1, 3, 40, generator=g)  # [N=1, K=3, D=40]
t_40 = mu_40[:, 0] + 5.0 * torch.randn(1, 40, generator=g)  # a draw from component 1
wide = MixtureParameters(torch.full((1, 3), -math.log(3)), mu_40, torch.full((1, 3, 40), 5.0))
z2 = ((t_40.unsqueeze(1) - mu_40) / 5.0).pow(2).sum(-1)  # [1, K]
naive_40 = (wide.pi * torch.exp(-0.5 * z2) / (2 * math.pi * 5.0**2) ** 20).sum()
log_p_40 = mixture_log_prob(wide, t_40).item()
glue("ch6_log_p_40", round(log_p_40, 1), display=False)
glue("ch6_ln_f32_tiny", round(math.log(2.0**-149), 1), display=False)
print(f"naive density: {naive_40.item()}, log space: ln p = {log_p_40:.2f}")

# %% [markdown]
# Its log-density, {glue:text}`ch6_log_p_40`, lies below the logarithm of float32's smallest
# positive number, {glue:text}`ch6_ln_f32_tiny`, so the naive density is 0 however the
# formula is arranged; the log-space value stays finite.
#
# ## What the library adds, measured
#
# `TinyMDN` already has the two things that matter most: the loss in log space and a floor
# under $\sigma$. `mdn_src` has those and adds more, and each part should earn its place.
# For each, here is what it buys on our problem, measured in this chapter:
#
# | part | what it buys here | measured in |
# | --- | --- | --- |
# | the loss in log space | no infinite loss: with the targets in other units (times 100), {glue:text}`ch6_zeros_x100` of {glue:text}`ch6_n_points` points have a naive density of exactly 0 | the sections above |
# | the floor $\sigma_{\min}$ | a bounded loss; at the data's scale, no collapse: on five points, {glue:text}`ch6_collapsed_none_count` of {glue:text}`ch6_n_floor_seeds` runs without a floor grow a component narrower than 0.01, which a floor of 0.05 rules out | measured: the floor, below |
# | the closed-form gradient | a step at least as fast: `TinyMDN`'s autograd step took {glue:text}`ch6_step_ratio_text` times as long, in one timing run on the machine that built this page | measured: the step, below |
# | families | generalised normals, whose flat tops fit the data's boxes: {glue:text}`ch6_family_gain` nats better held-out NLL, in every seed | measured: families, below |
# | early stopping | training ends after {glue:text}`ch6_early_epochs` of 3,000 epochs, at a held-out NLL {glue:text}`ch6_early_minus_full` nats from the full run's | measured: early stopping, below |
#
# ### Measured: the floor
#
# {ref}`ch-pitfalls` watches a collapse happen; here we count them, with `TinyMDN` itself. Five
# points of the inverse problem, $K = 2$ components and five hidden units, Adam at a
# learning rate of 0.02 for 200 epochs, from five seeds, once with `sigma_min=0` (softplus
# alone) and once with a floor of 0.05, a floor at the scale of the data (the data's noise
# has a half-width of {glue:text}`ch6_noise_half`), as {ref}`ch-pitfalls` uses. A run *collapses* when some
# component's $\sigma$ falls below 0.01 at any epoch: narrower than anything in the data.

# %% tags=["nbval-ignore-output"]
t_few, x_few = make_toy_data(5, seed=0, inverse=True)  # input t, target x
t_few, x_few = torch.from_numpy(t_few), torch.from_numpy(x_few)
FLOOR_SEEDS = range(5)


def smallest_sigma(seed, sigma_min, epochs=200, lr=0.02):
    """Train TinyMDN (K = 2, 5 hidden units) on the five points; the smallest sigma seen."""
    torch.manual_seed(seed)
    model = TinyMDN(n_hidden=5, n_components=2, sigma_min=sigma_min)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    smallest = math.inf
    for _ in range(epochs):
        optimiser.zero_grad()
        log_pi, mu, sigma = model(t_few)
        smallest = min(smallest, sigma.min().item())
        tiny_nll(log_pi, mu, sigma, x_few).backward()
        optimiser.step()
    return smallest


floor_runs = {f: [smallest_sigma(s, f) for s in FLOOR_SEEDS] for f in (0.0, 0.05)}
for f, runs in floor_runs.items():
    print(f"sigma_min = {f}: smallest sigma per seed {[f'{v:.1e}' for v in runs]}")
glue("ch6_n_floor_seeds", len(FLOOR_SEEDS), display=False)
glue("ch6_noise_half", NOISE_HALF_WIDTH, display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# Without a floor most runs collapse; with it none can (0.05 > 0.01 by construction).
report("ch6_collapsed_none", np.array(floor_runs[0.0]) < 0.01, of="count", at_least=3)
report("ch6_collapsed_floor", np.array(floor_runs[0.05]) < 0.01, of="count", at_most=0)

# %% [markdown]
# Without a floor, {glue:text}`ch6_collapsed_none_count` of the {glue:text}`ch6_n_floor_seeds`
# runs collapsed within 200 epochs; with the floor of 0.05 none could, by construction. The
# library's default floor, {glue:text}`ch6_sigma_min`, is far below any width in our data:
# it does not stop a component from growing that narrow, it bounds the loss (the bound of
# the section on the floor above) and keeps $\sigma$ away from 0. To stop collapses, set
# `sigma_min` at the scale of your data, as here; {ref}`ch-pitfalls` shows what a collapse
# does to the held-out score.
#
# ### Measured: the step
#
# `MDN.training_loss` computes the gradient of the loss with respect to the head's outputs
# in closed form, {eq}`eq-grad-pi`–{eq}`eq-grad-sigma`, and backpropagates only through the
# network, with no autograd graph of the loss. The cell times one training step (loss,
# gradient and the same Adam update) of each, on the 2,500 points, alternating the two 30
# times so that a busy machine slows both alike, and reports the ratio of the median times.
# A time depends on the machine; the ratio much less so, but it is still one machine's:
# `benchmarks/bench_mdn.py` measures it properly (the README quotes a run).

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
timed_tiny, timed_library = TinyMDN(), MDN(1, 1, n_components=30, hidden=50)
optimisers = [torch.optim.Adam(m.parameters(), lr=0.008) for m in (timed_tiny, timed_library)]


def step_tiny():
    optimisers[0].zero_grad()
    tiny_nll(*timed_tiny(inputs), targets).backward()
    optimisers[0].step()


def step_library():
    optimisers[1].zero_grad()
    timed_library.training_loss(inputs, targets).backward()
    optimisers[1].step()


times = {step_tiny: [], step_library: []}
for _ in range(30):
    for step, record in times.items():
        start = time.perf_counter()
        step()
        record.append(time.perf_counter() - start)
step_ratio = np.median(times[step_tiny]) / np.median(times[step_library])
print(f"median step: TinyMDN {1e3 * np.median(times[step_tiny]):.2f} ms, "
      f"mdn_src {1e3 * np.median(times[step_library]):.2f} ms, ratio {step_ratio:.1f}")  # fmt: skip
glue("ch6_step_ratio_text", f"{step_ratio:.1f}", display=False)

# %% tags=["remove-cell", "nbval-ignore-output"]
# One machine's timing, so a loose claim: the closed-form step is not slower.
report("ch6_step_ratio", [step_ratio], at_least=1.0, digits=1)

# %% [markdown]
# On the machine that built this page `TinyMDN`'s step took {glue:text}`ch6_step_ratio_text`
# times as long as the closed-form one (one timing run; the check only asks that the
# closed form is not slower). Against `TinyMDN`, whose loss is already one vectorised
# expression, the gain is modest; against the post's loop over the components, the
# README's benchmark measures a larger ratio. `fit` goes further, with a fused Adam update, and
# `fit(compile=True)` compiles the whole step; the README's benchmark quotes those.
#
# ### Measured: families
#
# The exact $p(x \mid t)$ of our problem is flat on one or two intervals: boxes, which a
# sum of smooth Gaussians can only approximate. `MDN(..., family="gennorm")` uses
# generalised normal components instead, whose shape the network learns, from peaked to
# nearly flat-topped ({ref}`ch-truth` explains the family). Training those takes about a
# minute per model, so we load the models {ref}`ch-truth` trained once and score them here:
# two tanh layers of 50, mini-batches of 250, a cosine schedule and input noise of 0.01,
# with 30 Gaussians for 3,600 epochs in the recipe `wide-mb` and 10 generalised normals
# for 2,300 epochs in `gennorm-mb`, the same minute of training each, seeds 0, 1 and 2.
# So the comparison is of two recipes that differ in the family, in $K$ and in the
# epochs that fit in that minute, not of the family alone.

# %% tags=["nbval-ignore-output"]
family_nlls = {
    recipe: [
        mean_nll(io.load(Path("models") / f"truth-{recipe}-seed{seed}.pt", MDN), t_test, x_test)
        for seed in SEEDS
    ]  # fmt: skip
    for recipe in ("wide-mb", "gennorm-mb")
}
for recipe, nlls in family_nlls.items():
    print(f"{recipe:>10}: held-out NLL per seed {np.round(nlls, 3).tolist()}")

# %% tags=["remove-cell", "nbval-ignore-output"]
# The loaded models are the same files on every machine: generalised normals win in every seed.
family_gain = paired("ch6_family_gain", family_nlls["wide-mb"], family_nlls["gennorm-mb"],
                     at_least=0.0)  # fmt: skip

# %% [markdown]
# The generalised normals score {glue:text}`ch6_family_gain` nats per point better than the
# Gaussians, seed by seed (30 Gaussians minus 10 generalised normals; better in each of the
# three seeds, with a 95% interval for the mean of {glue:text}`ch6_family_gain_ci`), with a
# third of the components and in the same time. What a family buys depends on the shape of the true density:
# here it has flat tops and hard edges, which Gaussians fit badly.
#
# ### Measured: early stopping
#
# `fit(..., validation_fraction=0.2, patience=100)` holds back a fifth of the training points,
# scores them after every epoch, stops once 100 epochs have passed without a better
# validation score, and restores the best weights. We train the post's network so, from
# seeds 0, 1 and 2 (shipped, like the 1,000-epoch runs above), and compare with the full
# 3,000 epochs of {ref}`ch-mdn`, from the same seeds.

# %% tags=["nbval-ignore-output"]
early_epochs, early_nlls, full_nlls = [], [], []
for seed in SEEDS:
    for name, settings, nlls in (
        ("ch6-early", dict(validation_fraction=0.2, patience=100), early_nlls),
        ("ch7-mdn", {}, full_nlls),
    ):
        torch.manual_seed(seed)
        model = MDN(1, 1, n_components=30, hidden=50)
        history = fit_cached(model, t_train, x_train, name=f"{name}-seed{seed}", epochs=3000,
                             lr=0.008, shipped="models/cache", **settings)  # fmt: skip
        nlls.append(mean_nll(model, t_test, x_test))
        if settings:
            early_epochs.append(len(history.train))
    print(f"seed {seed}: stopped after {early_epochs[-1]} epochs, held-out NLL "
          f"{early_nlls[-1]:.3f} (full run {full_nlls[-1]:.3f})")  # fmt: skip

# %% tags=["remove-cell", "nbval-ignore-output"]
# Early stopping ends well before 3,000 epochs in every seed, at a score no more than 0.15
# nats worse than the full run's (a full run that ends in a loss spike can be much worse).
report("ch6_early_epochs", early_epochs, at_most=1500, digits=0)
early = paired("ch6_early_minus_full", early_nlls, full_nlls, at_least=-0.3, at_most=0.15)
low, high = early.interval()
glue("ch6_early_verdict", "three seeds cannot tell the two apart" if low < 0 < high else
     f"early stopping is {'better' if high < 0 else 'worse'} on average, beyond the seeds' "
     "noise", display=False)  # fmt: skip

# %% [markdown]
# Early stopping ended training after {glue:text}`ch6_early_epochs` epochs (mean ± sd over
# the seeds), a fraction of the 3,000, at a held-out NLL that differs from the full run's
# by {glue:text}`ch6_early_minus_full` nats, seed by seed (95% interval of the mean
# {glue:text}`ch6_early_minus_full_ci`): {glue:text}`ch6_early_verdict`. On this problem the
# post's network does not overfit ({ref}`ch-mdn` checks that), so what early stopping
# surely buys here is time. {ref}`ch-real-data` uses it on small data sets, where a model can start to learn
# the noise of its few training points.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch06-sample-tiny
#
# Extend the from-scratch MDN: write `sample_tiny(model, inputs, n, generator)` that draws
# `n` targets for each input from `TinyMDN`'s mixture, in plain PyTorch (first a component
# from $\pi$, then a Gaussian draw from it). For the plain model of seed 2 (`tiny`, the
# last one trained above) and the input $t = 0.5$, compare the mean of 100,000 draws with the mixture's mean
# $\sum_k \pi_k \mu_k$. How far apart may they be?
# ```
#
# ```{solution-start} ex-ch06-sample-tiny
# :class: dropdown
# ```
#
# `torch.multinomial` picks the components from $\pi$, `gather` takes each draw's $\mu$
# and $\sigma$, and one `randn` adds the noise. The sample mean differs from the exact
# mean by about the mixture's sd over $\sqrt{n}$: the check allows five times that.


# %% tags=["nbval-ignore-output"]
def sample_tiny(model, inputs, n, generator):
    """n draws of the target for each row of inputs [N, 1]: a tensor [N, n]."""
    with torch.no_grad():
        log_pi, mu, sigma = model(inputs)  # each [N, K]
        k = torch.multinomial(log_pi.exp(), n, replacement=True, generator=generator)
        noise = torch.randn(k.shape, generator=generator)
        return mu.gather(1, k) + sigma.gather(1, k) * noise


draws = sample_tiny(tiny, torch.tensor([[0.5]]), 100_000, torch.Generator().manual_seed(0))
with torch.no_grad():
    log_pi, mu, sigma = tiny(torch.tensor([[0.5]]))
exact_mean = (log_pi.exp() * mu).sum().item()
exact_sd = math.sqrt((log_pi.exp() * (sigma**2 + mu**2)).sum().item() - exact_mean**2)
print(f"sample mean {draws.mean().item():.4f}, mixture mean {exact_mean:.4f}, "
      f"allowed distance {5 * exact_sd / math.sqrt(draws.numel()):.4f}")  # fmt: skip
check("the sample mean is within 5 standard errors of the mixture mean",
      abs(draws.mean().item() - exact_mean) < 5 * exact_sd / math.sqrt(draws.numel()))  # fmt: skip

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch06-far-target
#
# Predict, then compute: a single component ($K = 1$, $\mu = 0$, $\sigma = 1$) and a target at
# distance $d$. For which $d$ among 10, 20, 40 is the naive loss $-\ln p$ infinite in float32?
# In float64? What is the log-space loss?
# ```
#
# ```{solution-start} ex-ch06-far-target
# :class: dropdown
# ```
#
# The naive density is $e^{-d^2/2}/\sqrt{2\pi}$, and it rounds to 0 once $d^2/2$ passes
# minus the logarithm of the smallest positive float (printed below). So float32 fails from
# $d = 20$ ($e^{-200}$), float64 only at $d = 40$ ($e^{-800}$). The log-space loss is
# $d^2/2 + \ln\sqrt{2\pi}$, finite for all.

# %%
print(
    f"ln of the smallest float: float32 {math.log(2.0**-149):.1f}, float64 {math.log(5e-324):.1f}"
)
for d in (10.0, 20.0, 40.0):
    row = []
    for dtype in (torch.float32, torch.float64):
        p = torch.exp(-0.5 * torch.tensor(d, dtype=dtype) ** 2) / math.sqrt(2 * math.pi)
        row.append(f"{-torch.log(p).item():9.2f}")
    print(f"d = {d:4.0f}: naive float32 {row[0]}, float64 {row[1]}, "
          f"log space {0.5 * d**2 + 0.5 * math.log(2 * math.pi):9.2f}")  # fmt: skip

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch06-logsumexp
#
# A target far from both components of a mixture has $s = (-1000, -1001)$. Predict the naive
# $\ln(e^{s_1} + e^{s_2})$ in float32, then compute $\ln p$ by hand with the logsumexp trick
# and compare with `torch.logsumexp`. Are the responsibilities defined, and what are they?
# ```
#
# ```{solution-start} ex-ch06-logsumexp
# :class: dropdown
# ```
#
# Both exponentials round to 0, so the naive value is $\ln 0 = -\infty$. With $m = -1000$,
# $\ln p = -1000 + \ln(1 + e^{-1})$. The responsibilities are the softmax of $s$, which
# depends only on the difference $s_1 - s_2 = 1$: $\gamma_1 = 1 / (1 + e^{-1})$, perfectly
# defined although both densities are 0 in float32.

# %%
s_far = torch.tensor([-1000.0, -1001.0])
print(f"naive:           {torch.log(s_far.exp().sum()).item()}")
print(f"by hand:         {-1000 + math.log(1 + math.exp(-1)):.4f}")
print(f"torch.logsumexp: {torch.logsumexp(s_far, 0).item():.4f}")
print(f"gamma:           {torch.softmax(s_far, 0).numpy().round(4)}")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch06-floor
#
# Change the model and predict: with `sigma_min=1e-6` instead of the default, how does the
# lower bound $\tfrac{D}{2} \ln(2\pi\sigma_{\min}^2)$ on the loss per point move, and what is
# it for $D = 1$ and $D = 2$? Compute it from a model built with that floor.
# ```
#
# ```{solution-start} ex-ch06-floor
# :class: dropdown
# ```
#
# The bound is $D \ln \sigma_{\min}$ plus a constant, so a thousand times smaller floor lowers
# it by $D \ln 1000$ nats per point: further from any loss a real fit reaches, and a
# collapsing component can run that much further before the floor stops it.

# %%
for D in (1, 2):
    floor = MDN(1, D, n_components=3, sigma_min=1e-6).sigma_min
    bound = 0.5 * D * math.log(2 * math.pi * floor**2)
    print(f"D = {D}: bound {bound:.2f} nats, {D * nll_floor - bound:.2f} lower than with 1e-3")

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - An MDN fits in a page of plain PyTorch: a tanh trunk, one head split into $\ln\pi$
#   (log-softmax), $\mu$ and $\sigma$ (a floor plus softplus), and a log-sum-exp loss. From
#   the same seeds it scores like `mdn_src.MDN` (plain minus library
#   {glue:text}`ch6_tiny_minus_library` nats over three seeds).
# - What the library adds, measured: no collapse with the floor, a faster step with the
#   closed-form gradient, {glue:text}`ch6_family_gain` nats from generalised normals, and
#   training that stops itself after {glue:text}`ch6_early_epochs` epochs.
# - Each equation of {ref}`ch-derivation` has one home in `mdn_src`; `mixture_nll` is
#   $E(w)/N$, and training uses the gradients {eq}`eq-grad-pi`–{eq}`eq-grad-sigma` in closed
#   form, which agree with autograd.
# - $\pi$ comes from a log-softmax, exact for any shift of the $a^\pi$. For $\sigma$,
#   softplus and $\exp$ coincide for narrow components; softplus only limits how fast a wide
#   one grows. The floor $\sigma_{\min}$ is what keeps the likelihood bounded.
# - The loss is computed in log space, {eq}`eq-logsumexp`. On our data the naive density
#   never underflowed in the first 100 epochs of three seeds; targets far from every
#   initial component (the same data multiplied by 100) made it 0 for most points, and so
#   did a typical point in 40 dimensions.
#
# {ref}`ch-mdn` trains the MDN on the inverse problem and compares it with the exact answer.
