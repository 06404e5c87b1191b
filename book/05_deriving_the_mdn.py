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
# where it sits and how wide it is {cite:p}`bishop1994mdn`. This chapter derives the model, its
# loss and its gradients on paper, following PRML §5.6 {cite:p}`bishop2006prml`; where an
# equation has a number in PRML, we give it beside ours. {ref}`ch-implementation` then turns
# the paper into code.
#
# **In this chapter** you will learn:
#
# - how a mixture of Gaussians whose parameters a network computes (PRML Fig. 5.20) defines
#   $p(t \mid x)$, and what a latent variable $z$ says about it;
# - how Bayes' rule over the network's weights leads to the loss;
# - what the gradients of the loss are (PRML eqs. 5.155–5.157), why each is weighted by a
#   *responsibility* $\gamma_k$, and how to check them against autograd.
#
# ```{admonition} Input $x$, target $t$
# In this derivation, as in PRML, the network's input is $x$ and its target is $t$, symbols
# without units. From {ref}`ch-mdn` on, the MDN solves the toy's inverse problem, so read
# input $t$ and target $x$ there.
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
import math

import matplotlib.pyplot as plt
import torch
from myst_nb import glue

from mdn_src import MDN, MixtureParameters, mixture_log_prob, plotting, responsibilities

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits

# %% [markdown]
# ## A mixture whose parameters depend on the input
#
# An MDN models the conditional density of the target as a mixture of $K$ Gaussian components
# (PRML eq. 5.148):
#
# $$
# \begin{aligned}
# p(t \mid x) &= \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}_k,\\
# \mathcal{N}_k &= \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x)\, I\big).
# \end{aligned}
# $$ (eq-mixture)
#
# Everything that carries an index $k$ is a function of $x$, computed by the network: the
# **mixing coefficients** $\pi_k(x)$ (code `pi`), a probability vector ($\pi_k \ge 0$,
# $\sum_k \pi_k = 1$, PRML eq. 5.149); the **means** $\mu_k(x) \in \mathbb{R}^D$ (code `mu`),
# where $D$ is the dimension of $t$ (PRML's $L$); the **standard deviations**
# $\sigma_k(x) > 0$ (code `sigma`).
#
# Each component is *isotropic*: its covariance $\sigma_k^2 I$ has the same variance in every
# direction of $t$ (PRML p. 273), so its density depends on $t$ only through the squared
# distance to the mean, $r_k^2 = \lVert t - \mu_k \rVert^2$:
#
# $$
# \mathcal{N}_k = \big(2\pi\sigma_k^2\big)^{-D/2}\,
#   \exp\!\Big(-\frac{r_k^2}{2\sigma_k^2}\Big).
# $$
#
# Until {ref}`ch-arm`, $t$ is a scalar ($D = 1$). Even so, {eq}`eq-mixture` takes shapes no
# single Gaussian can: {numref}`fig-ch5-mixture` draws a mixture of
# {glue:text}`ch5_K_example` components, such as an MDN might output at one input $x$.

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
gamma = responsibilities(params, t_values)  # [M, K], defined in eq-responsibility below
glue("ch5_K_example", K, display=False)
print(f"K = {K}, integral of p(t | x) over the grid: {torch.trapezoid(density, dx=0.01):.4f}")

# %% mystnb={"figure": {"caption": "The example mixture $p(t \\mid x)$ (solid) and its three components, each weighted by its mixing coefficient (dashed, one colour each). The mixture is the sum of the dashed curves.", "name": "fig-ch5-mixture"}, "image": {"alt": "A density curve over t with three bumps of different heights and widths, and three dashed Gaussian curves underneath that add up to it."}}
labels = [rf"$\pi_{k}\,\mathcal{{N}}_{k}$" for k in range(1, K + 1)]
fig, ax = plotting.new_axes("$t$", "density")
plotting.plot_components(ax, t_values, gamma * density[:, None], labels, density, r"$p(t \mid x)$")
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## The network
#
# The three kinds of parameter come out of one ordinary network, PRML's Fig. 5.20: the input
# goes through a hidden layer of $\tanh$ units, as in {ref}`ch-mse`, and a linear output
# layer produces unconstrained real numbers, the *pre-activations*: $K$ numbers
# $a_k^\pi$, $K D$ numbers $a_{kd}^\mu$ and $K$ numbers $a_k^\sigma$, $(D + 2) K$ in all.
# Three maps turn them into valid parameters, the three *heads* of
# {numref}`fig-ch5-architecture`.

# %% mystnb={"figure": {"caption": "The MDN drawn as in PRML Fig. 5.20, for a scalar input, 5 hidden units and $K = 3$ components: the hidden layer feeds three heads ($\\pi$ through a softmax, $\\mu$ unchanged, $\\sigma$ through a positive map), and together they define the mixture $p(t \\mid x)$ for that input.", "name": "fig-ch5-architecture"}, "image": {"alt": "A network diagram: one input node x on the left, connected to a column of five hidden nodes, all connected to nine output nodes in three groups of three labelled pi softmax, mu identity and sigma with sigma-min plus softplus; three arrows lead from the groups to a box on the right holding a mixture density curve labelled p of t given x."}}
fig, ax = plotting.plot_architecture(n_inputs=1, n_hidden=5, n_components=K, out_features=1)
plt.show()

# %% [markdown]
# The mixing coefficients go through a softmax (PRML eq. 5.150), which makes them positive
# and sum to one, and the means are the pre-activations themselves (PRML eq. 5.152):
#
# $$
# \pi_k = \frac{\exp\big(a_k^\pi\big)}{\sum_{j=1}^{K} \exp\big(a_j^\pi\big)},
# $$ (eq-softmax-pi)
#
# $$
# \mu_{kd} = a_{kd}^\mu.
# $$ (eq-mu-identity)
#
# The standard deviations must be positive. PRML uses $\sigma_k = \exp(a_k^\sigma)$
# (eq. 5.151); `mdn_src` uses a softplus shifted by a small floor $\sigma_{\min}$:
#
# $$
# \begin{aligned}
# \sigma_k &= \sigma_{\min} + \operatorname{softplus}\big(a_k^\sigma\big)\\
#   &= \sigma_{\min} + \ln\big(1 + e^{a_k^\sigma}\big).
# \end{aligned}
# $$ (eq-sigma-map)
#
# {ref}`ch-implementation` compares the two maps. For the derivation only their slopes
# matter: $\mathrm{d}\sigma_k / \mathrm{d}a_k^\sigma$ is $\operatorname{sigmoid}(a_k^\sigma)$
# for ours and $\sigma_k$ for PRML's.
#
# ## The latent-variable view
#
# A latent variable turns the recipe {eq}`eq-mixture` into a generative story. Let $z$ be a
# one-hot vector: $z_k = 1$ says "component $k$ produced the target", with prior
#
# $$
# \begin{aligned}
# p(z_k = 1 \mid x) &= \pi_k(x),\\
# p(z \mid x) &= \prod_{k=1}^{K} \pi_k(x)^{z_k}.
# \end{aligned}
# $$ (eq-latent-prior)
#
# Given the component, the target is one Gaussian, $p(t \mid x, z) = \prod_k
# \mathcal{N}_k^{z_k}$, and summing the joint over the $K$ states of $z$ gives back the
# mixture:
#
# $$
# \begin{aligned}
# p(t \mid x) &= \sum_{z} p(z \mid x)\, p(t \mid x, z)\\
#   &= \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}_k.
# \end{aligned}
# $$ (eq-marginal)
#
# The model is unchanged, but $\pi_k(x)$ now tells us how to *sample* from it (draw $k$, then
# $t$; {ref}`ch-sampling`), and once a target is seen, Bayes' rule turns the prior into a
# posterior, the responsibility $\gamma_k$, which appears in every gradient below.
#
# ## From the weights to a loss
#
# With weights $w$ and $N$ independent pairs $\mathcal{D} = \{(x_n, t_n)\}$, the likelihood
# is $p(\mathcal{D} \mid w) = \prod_n p(t_n \mid x_n, w)$, and Bayes' rule gives:
#
# $$
# \begin{aligned}
# p(w \mid \mathcal{D})
#   &= \frac{p(\mathcal{D} \mid w)\, p(w)}{p(\mathcal{D})}\\
#   &\propto p(\mathcal{D} \mid w)\, p(w).
# \end{aligned}
# $$ (eq-bayes-weights)
#
# The evidence $p(\mathcal{D})$ does not depend on $w$. For the most probable weights, take
# the logarithm (same maximiser) and flip the sign:
#
# $$
# \begin{aligned}
# -\ln p(w \mid \mathcal{D})
#   &= -\sum_{n=1}^{N} \ln p(t_n \mid x_n, w)\\
#   &\quad - \ln p(w) + \ln p(\mathcal{D}).
# \end{aligned}
# $$
#
# A Gaussian prior $p(w)$ would give weight decay (PRML §5.5); we take a flat prior, so
# $\ln p(w)$ is a constant like $\ln p(\mathcal{D})$, and what remains is the negative
# log-likelihood, the MDN's error function (PRML eq. 5.153). With $\pi_{nk}$ and
# $\mathcal{N}_{nk}$ for $\pi_k$ and $\mathcal{N}_k$ at $(x_n, t_n)$:
#
# $$
# \begin{aligned}
# E(w) &= \sum_{n=1}^{N} E_n,\\
# E_n &= -\ln \Big\{ \sum_{k=1}^{K} \pi_{nk}\, \mathcal{N}_{nk} \Big\}.
# \end{aligned}
# $$ (eq-nll)
#
# ## Responsibilities
#
# Training needs $\partial E / \partial w$. Backpropagation gets it from the derivatives with
# respect to the pre-activations, so those are the ones to derive, for one point's $E_n$. Drop
# the index $n$ and write $\mathcal{N}_k$ for the point's $k$-th component density. The
# quantity that appears everywhere is the posterior probability of component $k$ given the
# target, the **responsibility** (PRML eq. 5.154):
#
# $$
# \begin{aligned}
# \gamma_k &= p(z_k = 1 \mid x, t)\\
#   &= \frac{\pi_k\, \mathcal{N}_k}{\sum_{j=1}^{K} \pi_j\, \mathcal{N}_j}.
# \end{aligned}
# $$ (eq-responsibility)
#
# It is Bayes' rule on the latent variable: prior $\pi_k$ from {eq}`eq-latent-prior`,
# likelihood $\mathcal{N}_k$, normalised by the mixture {eq}`eq-marginal`. A point's
# responsibilities sum to one: they say how the point is shared among the components.
# {numref}`fig-ch5-responsibilities` shows them for the mixture of {numref}`fig-ch5-mixture`.

# %% mystnb={"figure": {"caption": "Responsibilities of the three components of the example mixture (one colour each, as in the mixture figure), as functions of the target t. At every t they sum to one.", "name": "fig-ch5-responsibilities"}, "image": {"alt": "Three curves between 0 and 1 over t: the first is near 1 for t below about -0.5, the second near 1 around t = 0.4, the third near 1 above about 1.5; each hands over to its neighbour within about half a unit of t."}}
fig, ax = plotting.new_axes("$t$", r"responsibility $\gamma_k$")
plotting.plot_components(
    ax, t_values, gamma, [rf"$\gamma_{k}$" for k in range(1, K + 1)], style="-"
)
plotting.finish(ax)
plt.show()

# %% [markdown]
# ## The gradients
#
# Write $s_k = \ln \pi_k + \ln \mathcal{N}_k$, so that $E_n = -\ln \sum_k e^{s_k}$. Then
# $\partial E_n / \partial s_k = -e^{s_k} / \sum_j e^{s_j} = -\gamma_k$. The mean and width
# of component $k$ reach the loss only through $s_k$, so **their gradients are the
# responsibility times what a single Gaussian would feel**; the softmax couples the weights.
#
# *Mixing coefficients.* Through the softmax, $\partial \ln \pi_j / \partial a_k^\pi =
# \delta_{jk} - \pi_k$, hence $\partial E_n / \partial a_k^\pi = -\gamma_k + \pi_k \sum_j
# \gamma_j$, and the $\gamma_j$ sum to one (PRML eq. 5.155):
#
# $$
# \frac{\partial E_n}{\partial a_k^\pi} = \pi_k - \gamma_k.
# $$ (eq-grad-pi)
#
# Descent raises $a_k^\pi$ when $\gamma_k > \pi_k$: a component that explains the point better
# than its prior weight promised gains weight. The gradient vanishes, on average over the
# targets seen at an input, when $\pi_k(x)$ equals the average responsibility there, the rule
# of the EM algorithm's M-step for an ordinary mixture.
#
# *Means.* Only $\ln \mathcal{N}_k = -\frac{D}{2}\ln(2\pi\sigma_k^2) - r_k^2 / (2\sigma_k^2)$
# depends on $\mu_k$; with the identity {eq}`eq-mu-identity` (PRML eq. 5.156):
#
# $$
# \frac{\partial E_n}{\partial a_{kd}^\mu} = \gamma_k\, \frac{\mu_{kd} - t_d}{\sigma_k^2}.
# $$ (eq-grad-mu)
#
# A regression residual scaled by the precision $1/\sigma_k^2$ and by the responsibility: each
# point pulls on the means of the components that claim it and leaves the others alone. With
# $K = 1$, $\gamma_1 = 1$ and this is the gradient of the single-Gaussian loss
# {eq}`eq-gaussian-likelihood` of {ref}`ch-mse`.
#
# *Standard deviations.* Differentiate $\ln \mathcal{N}_k$ with respect to $\sigma_k$ and
# multiply by $-\gamma_k$ (first line), then apply the chain rule with the slope of our map
# (second line) or of PRML's (third line, PRML eq. 5.157):
#
# $$
# \begin{aligned}
# \frac{\partial E_n}{\partial \sigma_k}
#   &= \gamma_k \Big( \frac{D}{\sigma_k} - \frac{r_k^2}{\sigma_k^3} \Big),\\
# \frac{\partial E_n}{\partial a_k^\sigma}
#   &= \frac{\partial E_n}{\partial \sigma_k}\, \operatorname{sigmoid}\big(a_k^\sigma\big),\\
# \frac{\partial E_n}{\partial a_k^\sigma}
#   &= \gamma_k \Big( D - \frac{r_k^2}{\sigma_k^2} \Big).
# \end{aligned}
# $$ (eq-grad-sigma)
#
# The bracket vanishes when $r_k^2 = D \sigma_k^2$, when the squared error per dimension equals
# the component's variance. A point further out makes the gradient negative, so descent widens
# the component; a point closer in narrows it.
#
# To trust the algebra, compare it with autograd. The cells below draw random
# pre-activations in float64 for $N = 5$ points, $K = 3$ components and $D = 2$ (so that the
# $D$ in {eq}`eq-grad-sigma` matters), map them with the library's own
# `MDN.output_activations`, let autograd differentiate $\sum_n E_n$, and compare with the
# three formulas:

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
    r2 = residual.pow(2).sum(-1)  # r_k^2, [N, K]
    slope = torch.sigmoid(a[:, K + K * D :])  # d sigma / d a_sigma
    by_hand = {
        "eq-grad-pi": (params.pi - gamma, grad_pi),
        "eq-grad-mu": (gamma.unsqueeze(-1) * residual / sigma.unsqueeze(-1) ** 2, grad_mu),
        "eq-grad-sigma": (gamma * (D / sigma - r2 / sigma**3) * slope, grad_sigma),
    }
for label, (formula, autograd) in by_hand.items():
    same = torch.allclose(formula.reshape(N, -1), autograd, rtol=0, atol=1e-12)
    print(f"{label:>13}: matches autograd to 1e-12: {same}")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: ex-ch05-by-hand
#
# Compute by hand: a mixture of $K = 2$ equally weighted components with $\sigma_1 = \sigma_2
# = 1$, $\mu_1 = -1$, $\mu_2 = 1$ ($D = 1$), and the target $t = 1$. What are $\gamma_1$,
# $\gamma_2$ and the gradients {eq}`eq-grad-pi`, {eq}`eq-grad-mu` and the first line of
# {eq}`eq-grad-sigma`?
# ```
#
# ```{solution-start} ex-ch05-by-hand
# :class: dropdown
# ```
#
# The ratio $\mathcal{N}_1 / \mathcal{N}_2 = e^{-2^2/2} / e^{0} = e^{-2}$, so
# $\gamma_1 = 1 / (1 + e^2)$ and $\gamma_2 = 1 - \gamma_1$. Then $\partial E / \partial a^\pi =
# (\tfrac12 - \gamma_1, \tfrac12 - \gamma_2)$, $\partial E / \partial \mu = (-2\gamma_1, 0)$
# and $\partial E / \partial \sigma = (-3\gamma_1, \gamma_2)$. Autograd, with $\pi$ as a
# softmax of zeros and $\mu$, $\sigma$ as leaves (the helper serves the third exercise too):


# %%
def gradients(mu_k, target=1.0):
    """gamma and dE/d(a_pi, mu, sigma) for equal weights and unit widths, by autograd."""
    K, t_1 = len(mu_k), torch.tensor([[target]])
    leaves = [torch.zeros(1, K), torch.tensor(mu_k).view(1, K, 1), torch.ones(1, K, 1)]
    params = MixtureParameters(torch.log_softmax(leaves[0].requires_grad_(), -1),
                               leaves[1].requires_grad_(), leaves[2].requires_grad_())  # fmt: skip
    (-mixture_log_prob(params, t_1).sum()).backward()
    names = ["gamma", "dE/da_pi", "dE/dmu", "dE/dsigma"]
    values = [responsibilities(params, t_1).detach()] + [x.grad for x in leaves]
    return dict(zip(names, values, strict=True))


print(f"by hand gamma_1 = {1 / (1 + math.exp(2)):.4f}")
for name, value in gradients([-1.0, 1.0]).items():
    print(f"{name:<10}", value.flatten().numpy().round(4) + 0.0)  # + 0.0: no -0.0

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch05-exp-map
#
# Derive the third line of {eq}`eq-grad-sigma` (PRML's $\sigma_k = \exp(a_k^\sigma)$) from the
# first, then check it numerically: map the chapter's random $a^\sigma$ through $\exp$
# instead of softplus and compare your formula with autograd.
# ```
#
# ```{solution-start} ex-ch05-exp-map
# :class: dropdown
# ```
#
# With $\sigma_k = e^{a_k^\sigma}$ the slope is $\mathrm{d}\sigma_k/\mathrm{d}a_k^\sigma =
# \sigma_k$; multiplying the first line by $\sigma_k$ gives
# $\gamma_k (D - r_k^2/\sigma_k^2)$.

# %%
a_sig = a[:, K + K * D :].detach().clone().requires_grad_()  # [N, K]
exp_params = MixtureParameters(
    params.log_pi.detach(), params.mu.detach(), a_sig.exp().unsqueeze(-1).expand(N, K, D)
)
(-mixture_log_prob(exp_params, t).sum()).backward()
with torch.no_grad():
    s_exp = a_sig.exp()
    prml = responsibilities(exp_params, t) * (D - r2 / s_exp**2)
print("PRML eq. 5.157 matches autograd:", torch.allclose(prml, a_sig.grad, rtol=0, atol=1e-12))

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch05-far
#
# Change the model and predict: add a third component to the mixture of the first exercise,
# with $\mu_3 = 10$, $\sigma_3 = 1$, and the three weights equal. Which of its three gradients
# (weight, mean, width) will be near zero at $t = 1$, and which will not? Compute them.
# ```
#
# ```{solution-start} ex-ch05-far
# :class: dropdown
# ```
#
# The target is 9 standard deviations from $\mu_3$, so $\gamma_3$ is tiny, and the mean and
# width gradients, which carry the factor $\gamma_3$, vanish. The weight's gradient is
# $\pi_3 - \gamma_3 \approx \pi_3 = \tfrac13$: the point pushes the component's weight
# down, while leaving its position and width alone.

# %%
for name, value in gradients([-1.0, 1.0, 10.0]).items():
    print(f"{name:<10} component 3: {value.flatten()[2].item():.0e}")

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - An MDN is a Gaussian mixture whose weights, means and widths are outputs of a network with
#   three heads, {eq}`eq-mixture`; a one-hot latent variable makes $\pi_k(x)$ the prior
#   probability of component $k$ and recovers the mixture by marginalisation, {eq}`eq-marginal`.
# - With a flat prior on the weights, maximising the posterior {eq}`eq-bayes-weights` means
#   minimising the negative log-likelihood {eq}`eq-nll`.
# - Every gradient is weighted by a responsibility {eq}`eq-responsibility`: $\pi_k - \gamma_k$
#   for the weights, a scaled residual for the means, a variance mismatch for the widths;
#   autograd agrees with {eq}`eq-grad-pi`, {eq}`eq-grad-mu` and {eq}`eq-grad-sigma`.
#
# On paper the model is finished. {ref}`ch-implementation` computes it: in log space, with the
# maps to $\pi$ and $\sigma$ chosen for floating point, in the code of `mdn_src`.
