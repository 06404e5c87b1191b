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
# (ch-derivation)=
# # Deriving the MDN
#
# Download this chapter as a notebook
# ({download}`05_deriving_the_mdn.ipynb <./05_deriving_the_mdn.ipynb>`) or as a Python script
# ({download}`05_deriving_the_mdn.py <./05_deriving_the_mdn.py>`), or open it in Colab or Binder
# from the rocket icon above.
#
# A single Gaussian cannot describe a target that has several likely values for one input, as
# {ref}`ch-inverse` showed. A mixture density network (MDN) keeps the Gaussian but uses several
# of them at once, and lets a neural network choose, for every input, how much each one counts,
# where it sits and how wide it is {cite:p}`bishop1994mdn`. This chapter derives the model and
# its loss step by step, following PRML §5.6 {cite:p}`bishop2006prml`; where an equation has a
# number in PRML, we give it beside ours.
#
# **In this chapter** you will learn:
#
# - how a mixture of Gaussians whose parameters depend on the input defines $p(t \mid x)$, and
#   how a latent variable $z$ gives that mixture a clean probabilistic meaning;
# - how Bayes' rule over the network's weights $w$ leads to the loss, the negative
#   log-likelihood;
# - which output activations keep $\pi_k$, $\sigma_k$ and $\mu_k$ valid, and why the library
#   uses $\sigma_{\min} + \operatorname{softplus}$ where PRML uses $\exp$;
# - what the gradients of the loss are, why every one of them is weighted by a
#   *responsibility* $\gamma_k$, and how to check them against autograd;
# - why the loss must be computed in log space.
#
# In this derivation, as in PRML, the network's input is $x$ and the target is $t$.

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
import torch
import torch.nn.functional as F
from myst_nb import glue

from mdn_src import (
    MDN,
    MixtureParameters,
    mixture_log_prob,
    oracle,
    plotting,
    responsibilities,
)

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count

# %% [markdown]
# ## A mixture whose parameters depend on the input
#
# An MDN models the conditional density of the target as a mixture of $K$ Gaussian components
# (PRML eq. 5.148):
#
# $$
# p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}\big(t \mid \mu_k(x),\, \sigma_k^2(x)\, I\big).
# $$ (eq-mixture)
#
# Everything that carries an index $k$ is a function of $x$, computed by the network:
#
# - the **mixing coefficients** $\pi_k(x)$ (code `pi`), which must form a probability vector,
#   $\pi_k \ge 0$ and $\sum_k \pi_k = 1$ (PRML eq. 5.149), so that the mixture integrates to one;
# - the **means** $\mu_k(x) \in \mathbb{R}^D$ (code `mu`), one vector per component, where $D$ is
#   the dimension of $t$ (`out_features` in `mdn_src`, the `D` of its shape comments; PRML
#   writes $L$ for this dimension);
# - the **standard deviations** $\sigma_k(x) > 0$ (code `sigma`).
#
# Each component is *isotropic*: its covariance $\sigma_k^2 I$ has the same variance in every
# direction of $t$ (PRML p. 273), so its density depends on $t$ only through the distance to the
# mean,
#
# $$
# \mathcal{N}\big(t \mid \mu_k, \sigma_k^2 I\big)
#   = \big(2\pi\sigma_k^2\big)^{-D/2} \exp\!\Big(-\frac{\lVert t - \mu_k \rVert^2}{2\sigma_k^2}\Big).
# $$
#
# This is PRML's choice and the library's default. `mdn_src` also offers
# `MDN(..., covariance="diagonal")`, one $\sigma_{kd}$ per component and target dimension,
# for targets whose dimensions have different scales. In this book $t$ is a scalar ($D = 1$),
# and the two coincide.
#
# Even with a few components, {eq}`eq-mixture` can take shapes no single Gaussian can.
# {numref}`fig-ch5-mixture` draws an example: a mixture of {glue:text}`ch5_K_example`
# components, such as an MDN might output at one input $x$.

# %%
pi = torch.tensor([0.5, 0.3, 0.2])  # K = 3 components
mu = torch.tensor([-1.0, 0.5, 2.0])
sigma = torch.tensor([0.4, 0.3, 0.7])
t_values = torch.linspace(-3, 4, 701).unsqueeze(1)  # [M, 1]: M values of a scalar target
M, K = len(t_values), len(pi)
params = MixtureParameters(
    pi.log().expand(M, K), mu.view(1, K, 1).expand(M, K, 1), sigma.view(1, K, 1).expand(M, K, 1)
)  # the same mixture at every t: log_pi [M, K], mu and sigma [M, K, 1]
density = mixture_log_prob(params, t_values).exp()  # p(t | x), [M]
gamma = responsibilities(params, t_values)  # [M, K]
glue("ch5_K_example", K, display=False)
print(f"K = {K}, integral of p(t | x) over the grid: {torch.trapezoid(density, dx=0.01):.4f}")

# %% [markdown]
# The weighted components $\pi_k \mathcal{N}_k$ come out of `responsibilities`, the function
# {eq}`eq-responsibility` below defines: $\gamma_k\, p(t \mid x) = \pi_k \mathcal{N}_k$.

# %% mystnb={"figure": {"caption": "The example mixture of isotropic Gaussians (solid) and its components, each weighted by its mixing coefficient (dashed). The mixture is the sum of the dashed curves.", "name": "fig-ch5-mixture"}, "image": {"alt": "A density curve over t with three bumps of different heights and widths, and three dashed Gaussian curves underneath that add up to it."}}
COMPONENT_KINDS = ["model", "other", "data"]  # one colour per component, in both figures
fig, ax = plotting.new_axes("$t$", "density")
plotting.plot_curve(ax, t_values, density, r"$p(t \mid x)$", kind="exact")
for k, kind in enumerate(COMPONENT_KINDS):
    label = rf"$\pi_{k + 1}\,\mathcal{{N}}(t \mid \mu_{k + 1}, \sigma_{k + 1}^2)$"
    plotting.plot_curve(ax, t_values, gamma[:, k] * density, label, kind=kind, style="--")
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## The latent-variable view
#
# So far {eq}`eq-mixture` is a recipe: add up $K$ Gaussians with weights that sum to one. A
# latent variable turns the recipe into a generative story, and gives $\pi_k$ a meaning.
#
# Let $z$ be a one-hot vector with $K$ states: $z_k \in \{0, 1\}$ and $\sum_k z_k = 1$, so
# $z_k = 1$ says "the target was produced by component $k$". Let the mixing coefficients be the
# prior probabilities of these states, given the input:
#
# $$
# p(z_k = 1 \mid x) = \pi_k(x), \qquad\text{that is,}\qquad
# p(z \mid x) = \prod_{k=1}^{K} \pi_k(x)^{z_k}.
# $$ (eq-latent-prior)
#
# Once the component is known, the target is a single Gaussian:
#
# $$
# p(t \mid x, z_k = 1) = \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x) I\big), \qquad
# p(t \mid x, z) = \prod_{k=1}^{K} \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x) I\big)^{z_k}.
# $$
#
# The product form works because exactly one $z_k$ is 1: every other factor is raised to the
# power 0. The joint distribution of target and latent variable is the product of the two,
# $p(t, z \mid x) = p(z \mid x)\, p(t \mid x, z)$, and summing it over the $K$ possible states
# of $z$ gives back the mixture:
#
# $$
# p(t \mid x) = \sum_{z} p(z \mid x)\, p(t \mid x, z)
#   = \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x) I\big).
# $$ (eq-marginal)
#
# Nothing about the model has changed, but two things are now easy to say. First, $\pi_k(x)$ is
# the probability that component $k$ is responsible for a target drawn at $x$, which tells us
# how to *sample* from an MDN: draw $k$ with probabilities $\pi(x)$, then draw $t$ from
# component $k$ ({ref}`ch-sampling` does exactly that). Second, once we see a target, Bayes'
# rule turns the prior $p(z_k = 1 \mid x)$ into a posterior $p(z_k = 1 \mid x, t)$: the
# responsibility $\gamma_k$, which will organise every gradient below.
#
# ## From the weights to a loss
#
# Until now $\pi_k$, $\mu_k$ and $\sigma_k$ were "functions of $x$". They are computed by a
# network with weights $w$, so we write them $\pi_k(x, w)$, $\mu_k(x, w)$, $\sigma_k(x, w)$ and
# the model $p(t \mid x, w)$. We are given a data set of $N$ input–target pairs,
# $\mathcal{D} = \{(x_n, t_n)\}_{n=1}^{N}$, drawn independently. We model the targets given the
# inputs (never the inputs themselves), so the likelihood of the weights is
# $p(\mathcal{D} \mid w) = \prod_{n} p(t_n \mid x_n, w)$. Bayes' rule turns it into a posterior
# over the weights:
#
# $$
# p(w \mid \mathcal{D}) = \frac{p(\mathcal{D} \mid w)\, p(w)}{p(\mathcal{D})}
#   \;\propto\; p(\mathcal{D} \mid w)\, p(w),
# \qquad p(\mathcal{D}) = \int p(\mathcal{D} \mid w)\, p(w)\, \mathrm{d}w.
# $$ (eq-bayes-weights)
#
# The evidence $p(\mathcal{D})$ integrates $w$ out: it does not depend on $w$, so it plays no
# part in finding the best weights. We look for the most probable weights, the maximum of the
# posterior. A product of $N$ small probabilities is awkward to handle, so we take the
# logarithm (a sum, with the same maximiser) and flip the sign to get something to minimise:
#
# $$
# -\ln p(w \mid \mathcal{D})
#   = -\sum_{n=1}^{N} \ln p(t_n \mid x_n, w) \;-\; \ln p(w) \;+\; \ln p(\mathcal{D}).
# $$
#
# The last term is a constant. The prior $p(w)$ is where we could state a preference for small
# weights (a Gaussian prior gives the familiar weight decay, PRML §5.5). We take a flat,
# non-informative prior instead: $\ln p(w)$ is then a constant too, and what remains is the
# negative log-likelihood. Writing out $p(t_n \mid x_n, w)$ with {eq}`eq-mixture` gives the MDN's
# error function (PRML eq. 5.153):
#
# $$
# E(w) = -\sum_{n=1}^{N} \ln \Bigg\{ \sum_{k=1}^{K} \pi_k(x_n, w)\,
#   \mathcal{N}\big(t_n \mid \mu_k(x_n, w),\, \sigma_k^2(x_n, w)\, I\big) \Bigg\}.
# $$ (eq-nll)
#
# The library's {py:func}`~mdn_src.loss.mixture_nll` (in `mdn_src/loss.py`) returns $E(w)/N$, the
# *mean* over the
# points rather than the sum. Dividing by a constant moves no minimum, but it keeps the size of
# the gradient independent of $N$: a learning rate that works for a batch of 100 points works
# for 2,500, and the loss reads as "nats per point", directly comparable with the exact answer
# that `mdn_src.oracle` computes.
#
# ## Output activations: keeping the parameters valid
#
# The network's last layer produces unconstrained real numbers, the *pre-activations*: for each
# input, $K$ numbers $a_k^\pi$, $K D$ numbers $a_{kd}^\mu$ and $K$ numbers $a_k^\sigma$, so
# $(D + 2) K$ in all. Three maps turn them into valid mixture parameters. The mixing
# coefficients go through a softmax (PRML eq. 5.150), which makes them positive and sum to one:
#
# $$
# \pi_k = \frac{\exp\big(a_k^\pi\big)}{\sum_{j=1}^{K} \exp\big(a_j^\pi\big)}.
# $$ (eq-softmax-pi)
#
# The standard deviations must be positive. PRML uses $\sigma_k = \exp(a_k^\sigma)$ (eq. 5.151);
# `mdn_src` uses a softplus shifted by a small floor $\sigma_{\min}$:
#
# $$
# \sigma_k = \sigma_{\min} + \operatorname{softplus}\big(a_k^\sigma\big)
#   = \sigma_{\min} + \ln\big(1 + e^{a_k^\sigma}\big).
# $$ (eq-sigma-map)
#
# The means can be any real numbers, so they are the pre-activations themselves
# (PRML eq. 5.152):
#
# $$
# \mu_{kd} = a_{kd}^\mu.
# $$ (eq-mu-identity)
#
# In `mdn_src/model.py` all three come from *one* linear layer, `MDN.head`, whose
# $(D + 2)K$ outputs are split into $a^\pi$, $a^\mu$ and $a^\sigma$: one matrix product instead
# of three. For the example's {glue:text}`ch5_K_example` components and a scalar target it has
# {glue:text}`ch5_head_outputs` outputs:

# %%
torch.manual_seed(0)
mdn = MDN(1, 1, n_components=K)  # K components, as in the example mixture
glue("ch5_head_outputs", mdn.head.out_features, display=False)
glue("ch5_sigma_min", mdn.sigma_min, display=False)
print(mdn.head, "| sigma_min =", mdn.sigma_min)

# %% [markdown]
# The cell below runs the three maps on a few pre-activations. The softmax depends only on the
# *differences* between the $a_k^\pi$: adding 10 to all of them changes nothing. On the
# $\sigma$ side, softplus behaves like $\exp$ for very negative $a$ but grows only linearly for
# large $a$, and its slope, the sigmoid, never exceeds 1.

# %%
a = torch.tensor([-4.0, -1.0, 0.0, 1.0, 4.0])
rows = {
    "a": a,
    "softmax(a)": torch.softmax(a, dim=0),
    "softmax(a + 10)": torch.softmax(a + 10, dim=0),
    "exp(a)  [PRML sigma]": a.exp(),
    "sigma_min + softplus(a)": mdn.sigma_min + F.softplus(a),
    "sigmoid(a) = dsigma/da": torch.sigmoid(a),
}
for name, values in rows.items():
    print(f"{name:>24}:", " ".join(f"{v:9.4f}" for v in values.tolist()))

# %% [markdown]
# Why not $\exp$? Two reasons.
#
# **Steady steps.** With $\sigma = \exp(a^\sigma)$ the slope is $\mathrm{d}\sigma/\mathrm{d}a =
# \sigma$ itself: a step on $a^\sigma$ multiplies $\sigma$ by $e^{\Delta a}$, so one large
# gradient step early in training can blow a component up or shrink it to almost nothing, and
# the loss's gradients, which carry $1/\sigma_k^2$ and $1/\sigma_k^3$ factors (see
# {eq}`eq-grad-mu` and {eq}`eq-grad-sigma`), then explode. With softplus the slope is
# $\operatorname{sigmoid}(a^\sigma) < 1$: $\sigma$ never moves further than $a^\sigma$ does.
#
# **A bounded likelihood.** The floor $\sigma_{\min}$ (here {glue:text}`ch5_sigma_min`) guards
# against a degenerate optimum. Suppose the network places one component exactly on one
# training target, $\mu_j(x_m) = t_m$, and lets its width shrink. That point's term in
# {eq}`eq-nll` is then bounded by
#
# $$
# -\ln p(t_m \mid x_m) \;\le\; -\ln\Big(\pi_j\, \mathcal{N}\big(t_m \mid t_m, \sigma_j^2 I\big)\Big)
#   = -\ln \pi_j + \frac{D}{2} \ln\big(2\pi\sigma_j^2\big)
#   \;\to\; -\infty \quad \text{as } \sigma_j \to 0,
# $$
#
# while the other components keep every other term finite. So $E(w)$ has no minimum: it can be
# driven to $-\infty$ by memorising a single point, the same singularity that haunts maximum
# likelihood for ordinary Gaussian mixtures (PRML §9.2.1). With the floor, each component's
# density is at most $(2\pi\sigma_{\min}^2)^{-D/2}$, the mixture's too (its weights sum to one),
# and the loss is bounded below:
#
# $$
# \frac{E(w)}{N} \;\ge\; \frac{D}{2} \ln\big(2\pi\sigma_{\min}^2\big).
# $$
#
# For a scalar target that bound is {glue:text}`ch5_nll_floor` nats per point, far below the best
# any model can reach on our toy problem: {glue:text}`ch5_bayes_nll_forward` nats for the forward
# problem and {glue:text}`ch5_bayes_nll_inverse` for the inverse one (computed exactly by
# `mdn_src.oracle`). The floor never gets in the way of a good fit; it only stops a collapse from
# running away.

# %%
nll_floor = 0.5 * math.log(2 * math.pi * mdn.sigma_min**2)  # D = 1
glue("ch5_nll_floor", round(nll_floor, 2), display=False)
glue("ch5_bayes_nll_forward", round(oracle.bayes_nll(), 2), display=False)
glue("ch5_bayes_nll_inverse", round(oracle.bayes_nll(inverse=True), 2), display=False)
print(f"lower bound on the mean NLL: {nll_floor:.4f} nats")

# %% [markdown]
# ## Responsibilities and the gradients of the loss
#
# Training needs the derivatives of $E$ with respect to the weights $w$. Backpropagation gets
# them from the derivatives with respect to the pre-activations, so those are the ones to
# derive. Take one point's term, $E_n = -\ln p(t_n \mid x_n, w)$, and write
# $\mathcal{N}_k = \mathcal{N}(t_n \mid \mu_k, \sigma_k^2 I)$ for its $k$-th component density.
# The quantity that appears everywhere is the posterior probability of component $k$ given the
# target, the **responsibility** (PRML eq. 5.154):
#
# $$
# \gamma_k(x_n, t_n) = p(z_k = 1 \mid x_n, t_n)
#   = \frac{\pi_k\, \mathcal{N}_k}{\sum_{j=1}^{K} \pi_j\, \mathcal{N}_j}.
# $$ (eq-responsibility)
#
# It is Bayes' rule on the latent variable: prior $\pi_k$ from {eq}`eq-latent-prior`, likelihood
# $\mathcal{N}_k$, normalised by the mixture {eq}`eq-marginal`. The responsibilities of one
# point sum to one; they say how the point is shared among the components.
# {numref}`fig-ch5-responsibilities` shows them for the mixture of {numref}`fig-ch5-mixture`:
# each component claims the values of $t$ near its mean, and the hand-over between neighbours is
# soft.

# %% mystnb={"figure": {"caption": "Responsibilities of the components of the example mixture in the previous figure, as functions of the target t. At every t they sum to one.", "name": "fig-ch5-responsibilities"}, "image": {"alt": "Three curves between 0 and 1 over t: each is near 1 around its own component's mean and hands over smoothly to its neighbour."}}
fig, ax = plotting.new_axes("$t$", r"responsibility $\gamma_k$")
for k, kind in enumerate(COMPONENT_KINDS):
    plotting.plot_curve(ax, t_values, gamma[:, k], rf"$\gamma_{k + 1}$", kind=kind)
plotting.finish(ax)
plt.show()

# %% [markdown]
# Now the gradients. Write $s_k = \ln \pi_k + \ln \mathcal{N}_k$, so that
# $E_n = -\ln \sum_k e^{s_k}$. Its derivative is $\partial E_n / \partial s_k = -e^{s_k} /
# \sum_j e^{s_j} = -\gamma_k$. Every parameter of component $k$ reaches the loss through $s_k$,
# so **each gradient is the responsibility times what a single Gaussian would feel**. The
# three cases follow.
#
# *Mixing coefficients.* Through the softmax, $\partial \ln \pi_j / \partial a_k^\pi =
# \delta_{jk} - \pi_k$, hence $\partial E_n / \partial a_k^\pi = -\sum_j \gamma_j (\delta_{jk} -
# \pi_k) = -\gamma_k + \pi_k \sum_j \gamma_j$, and since the $\gamma_j$ sum to one
# (PRML eq. 5.155):
#
# $$
# \frac{\partial E_n}{\partial a_k^\pi} = \pi_k - \gamma_k.
# $$ (eq-grad-pi)
#
# Gradient descent raises $a_k^\pi$ when $\gamma_k > \pi_k$: when a component explains the point
# better than its prior weight promised, its weight grows, and it shrinks otherwise. The
# gradient vanishes, on average over the targets seen at an input, when $\pi_k(x)$ equals the
# average responsibility there, the same rule the M-step of the EM algorithm uses for an ordinary
# mixture.
#
# *Means.* Only $\ln \mathcal{N}_k = -\frac{D}{2}\ln(2\pi) - D \ln \sigma_k - \lVert t_n -
# \mu_k \rVert^2 / (2\sigma_k^2)$ depends on $\mu_k$, and with the identity
# {eq}`eq-mu-identity` (PRML eq. 5.156):
#
# $$
# \frac{\partial E_n}{\partial a_{kd}^\mu} = \gamma_k\, \frac{\mu_{kd} - t_{nd}}{\sigma_k^2}.
# $$ (eq-grad-mu)
#
# This is a regression residual, $\mu - t$, scaled by the component's precision $1/\sigma_k^2$
# and by its responsibility. Each point pulls on the means of the components that claim it and
# leaves the others alone, which is how $K$ components can share the data without fighting over
# it. With $K = 1$, $\gamma_1 = 1$ and we are back to the gradient of the single-Gaussian loss
# {eq}`eq-gaussian-likelihood` of {ref}`ch-mse`.
#
# *Standard deviations.* Differentiating $\ln \mathcal{N}_k$ with respect to $\sigma_k$ and
# multiplying by $-\gamma_k$ gives the first line below; the chain rule through our map
# {eq}`eq-sigma-map`, whose slope is $\operatorname{sigmoid}(a_k^\sigma)$, gives the second; with
# PRML's map the slope is $\sigma_k$ and we recover PRML eq. 5.157 on the third:
#
# $$
# \begin{aligned}
# \frac{\partial E_n}{\partial \sigma_k}
#   &= \gamma_k \left( \frac{D}{\sigma_k} - \frac{\lVert t_n - \mu_k \rVert^2}{\sigma_k^3} \right),\\
# \frac{\partial E_n}{\partial a_k^\sigma}
#   &= \gamma_k \left( \frac{D}{\sigma_k} - \frac{\lVert t_n - \mu_k \rVert^2}{\sigma_k^3} \right)
#      \operatorname{sigmoid}\big(a_k^\sigma\big)
#   && \text{(ours: } \sigma_k = \sigma_{\min} + \operatorname{softplus}(a_k^\sigma)\text{)},\\
# \frac{\partial E_n}{\partial a_k^\sigma}
#   &= \gamma_k \left( D - \frac{\lVert t_n - \mu_k \rVert^2}{\sigma_k^2} \right)
#   && \text{(PRML: } \sigma_k = \exp(a_k^\sigma)\text{)}.
# \end{aligned}
# $$ (eq-grad-sigma)
#
# The bracket vanishes when $\lVert t_n - \mu_k \rVert^2 = D \sigma_k^2$, when the squared error
# per dimension equals the component's variance. A point further out than that makes the
# gradient negative, so descent widens the component; a point closer in narrows it. Again the
# responsibility decides how much each point has to say. Note the $\lVert t_n - \mu_k
# \rVert^2/\sigma_k^2$ in PRML's form: as $\sigma_k \to 0$ it grows without bound, the explosion
# our floor prevents.
#
# Autograd computes all of this for us, but checking it is a good way to trust both the algebra
# and the library. The cells below draw random pre-activations in float64 for a small mixture
# ($N = 5$ points, $K = 3$ components, $D = 2$ target dimensions, so that the $D$ in
# {eq}`eq-grad-sigma` matters), laid out as the head's output ($a^\pi$, then $a^\mu$, then
# $a^\sigma$). They map them to the mixture with the library's own activations
# (`MDN.output_activations`), let autograd differentiate $\sum_n E_n$, computed with
# `mixture_log_prob`, and compare with the three formulas, using `responsibilities` for $\gamma$:

# %%
N, K, D = 5, 3, 2
torch.manual_seed(0)
mdn_2d = MDN(1, D, n_components=K)  # only its output activations are used here
gen = torch.Generator().manual_seed(0)
a = torch.randn(N, K * (D + 2), generator=gen, dtype=torch.float64, requires_grad=True)
t = torch.randn(N, D, generator=gen, dtype=torch.float64)
params = mdn_2d.output_activations(a)  # softmax, identity, sigma_min + softplus
(-mixture_log_prob(params, t).sum()).backward()  # a sum of E_n: row n of a.grad is dE_n/da
grad_pi, grad_mu, grad_sigma = a.grad[:, :K], a.grad[:, K : K + K * D], a.grad[:, K + K * D :]

# %%
with torch.no_grad():
    gamma = responsibilities(params, t)  # [N, K]
    residual = params.mu - t.unsqueeze(1)  # mu_k - t, [N, K, D]
    sigma = params.sigma[..., 0]  # isotropic: one sigma per component, [N, K]
    a_sigma = a[:, K + K * D :]
    by_hand = {
        "eq-grad-pi": (params.pi - gamma, grad_pi),
        "eq-grad-mu": (gamma.unsqueeze(-1) * residual / sigma.unsqueeze(-1) ** 2, grad_mu),
        "eq-grad-sigma": (
            gamma * (D / sigma - residual.pow(2).sum(-1) / sigma**3) * torch.sigmoid(a_sigma),
            grad_sigma,
        ),
    }
for label, (formula, autograd) in by_hand.items():
    same = torch.allclose(formula.reshape(N, -1), autograd, rtol=0, atol=1e-12)
    print(f"{label:>13}: matches autograd to 1e-12: {same}")

# %% [markdown]
# ## Computing the loss in log space
#
# Written as in {eq}`eq-nll`, the loss asks us to evaluate each density $\mathcal{N}_k$, add
# them up, and take the logarithm. On a computer that is fragile: $\mathcal{N}_k$ contains
# $\exp\!\big(-\lVert t - \mu_k\rVert^2 / 2\sigma_k^2\big)$, and once a target lies more than
# about {glue:text}`ch5_underflow_z` standard deviations from a mean, that factor is smaller than
# the smallest positive float32 and rounds to exactly 0:

# %%
z = torch.tensor([10.0, 14.0, 15.0, 20.0])  # distance from the mean, in units of sigma
glue("ch5_underflow_z", round(math.sqrt(-2 * math.log(2.0**-149)), 1), display=False)
print("exp(-z^2/2)       :", " ".join(f"{v:9.2e}" for v in torch.exp(-0.5 * z**2).tolist()))
print("log(exp(-z^2/2))  :", " ".join(f"{v:9.2f}" for v in torch.exp(-0.5 * z**2).log().tolist()))
print("-z^2/2 (log space):", " ".join(f"{v:9.2f}" for v in (-0.5 * z**2).tolist()))

# %% [markdown]
# If that happens for every component of a point, which is common early in training when the
# means are still far from the data, the point's density is 0, its loss $-\ln 0 = +\infty$,
# and its gradient, which divides by the density, is `nan`. One such point poisons every
# weight. The cure is never to leave log space. Write $s_{nk} = \ln \pi_k(x_n) + \ln
# \mathcal{N}(t_n \mid \mu_k, \sigma_k^2 I)$ and compute
#
# $$
# \begin{aligned}
# \ln p(t_n \mid x_n) &= \ln \sum_{k=1}^{K} \exp(s_{nk})
#   = m_n + \ln \sum_{k=1}^{K} \exp\big(s_{nk} - m_n\big), \qquad m_n = \max_k s_{nk},\\
# \ln \pi_k &= a_k^\pi - \ln \sum_{j=1}^{K} \exp\big(a_j^\pi\big), \qquad
# \ln \mathcal{N}_k = -\frac{D}{2} \ln(2\pi) - D \ln \sigma_k
#   - \frac{\lVert t_n - \mu_k \rVert^2}{2\sigma_k^2}.
# \end{aligned}
# $$ (eq-logsumexp)
#
# The first line is the *logsumexp* trick, and it is exact, not an approximation: after
# subtracting the largest term, one exponential equals 1, so the sum lies between 1 and $K$
# and its logarithm is finite. The second line is the *log-softmax*, which gives $\ln \pi_k$
# without ever forming a $\pi_k$ that might round to 0, and the log-density written out, which
# never calls $\exp$ at all. This is what `mixture_log_prob` in `mdn_src/loss.py` computes with
# `torch.logsumexp`, fed by the `log_softmax` in `mdn_src/model.py`. A bonus: the derivative of
# logsumexp is the softmax of the $s_{nk}$, which is exactly $\gamma_k$, so the backward pass
# produces the responsibilities of {eq}`eq-responsibility` as a by-product (and the library's
# `responsibilities` is that softmax). {ref}`ch-mdn` shows the naive form returning an
# infinite loss, and a NaN gradient, on two small hand-built cases: a target far from every
# component, and a perfectly typical target in 40 dimensions.
#
# ## What we learned
#
# - An MDN is a Gaussian mixture whose weights, means and widths are outputs of a network,
#   {eq}`eq-mixture`; a one-hot latent variable makes $\pi_k(x)$ the prior probability of
#   component $k$ and recovers the mixture by marginalisation, {eq}`eq-marginal`.
# - With a flat prior on the weights, maximising the posterior {eq}`eq-bayes-weights` means
#   minimising the negative log-likelihood {eq}`eq-nll`, which the code averages over the points.
# - Softmax, $\sigma_{\min}$ + softplus and the identity keep the parameters valid; the floor
#   also keeps the likelihood bounded when a component collapses onto one point.
# - Every gradient is responsibility-weighted: $\pi_k - \gamma_k$ for the weights, a scaled
#   residual for the means, a variance mismatch for the widths; autograd agrees with
#   {eq}`eq-grad-pi`, {eq}`eq-grad-mu` and {eq}`eq-grad-sigma`.
# - The loss must be computed in log space, {eq}`eq-logsumexp`, or it underflows.
#
# In {ref}`ch-mdn` we train an MDN on the inverse problem and see how close it comes to the
# exact answer.
