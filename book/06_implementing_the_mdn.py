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
# {ref}`ch-derivation` wrote the MDN on paper, in exact arithmetic. A computer has floats,
# which overflow to infinity when too large and round to zero when too small. This chapter
# follows the equations into `mdn_src` and shows where each one needs care.
#
# **In this chapter** you will learn:
#
# - where each equation of {ref}`ch-derivation` lives in `mdn_src`, and how the library's
#   training loss uses the gradients {eq}`eq-grad-pi`–{eq}`eq-grad-sigma` directly;
# - how the maps to $\pi$ (a softmax, computed as a log-softmax) and to $\sigma$ ($\exp$ or
#   $\sigma_{\min}$ + softplus) behave, and what the floor $\sigma_{\min}$ buys;
# - why the loss is computed in log space with logsumexp, and when the textbook formula,
#   coded as written, actually underflows on our data.

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
import torch.nn.functional as F
from myst_nb import glue

from mdn_src import (
    MDN,
    MixtureParameters,
    check,
    fit,
    make_toy_data,
    mixture_log_prob,
    mixture_nll,
    oracle,
    plotting,
    report,
)

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits

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
x_train, t_train = make_toy_data(2500, seed=0)  # the book's data
inputs, targets = torch.from_numpy(t_train), torch.from_numpy(x_train)  # inverse problem
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
# ## Exercises
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
