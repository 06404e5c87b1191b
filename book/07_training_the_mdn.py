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
# # Implementing and training the MDN
#
# Download this chapter as a notebook
# ({download}`07_training_the_mdn.ipynb <./07_training_the_mdn.ipynb>`) or as a Python script
# ({download}`07_training_the_mdn.py <./07_training_the_mdn.py>`), or open it in Colab or Binder
# from the rocket icon above.
#
# {ref}`ch-derivation` ended with a model and a loss on paper. This chapter turns them into
# code and trains them on the inverse problem, the one that defeated the least-squares
# network of {ref}`ch-inverse`.
#
# **In this chapter** you will learn:
#
# - how `mdn_src/model.py` turns a network's outputs into the mixing coefficients, means
#   and standard deviations of a Gaussian mixture;
# - how `mdn_src/loss.py` computes the negative log-likelihood without ever forming a
#   density, and why the textbook formula, coded as written, breaks;
# - how to train the MDN with the settings of the original post, and what its loss trace
#   looks like;
# - how close the trained model comes to the best possible score, the Bayes limit, and why
#   it cannot reach it.

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
    MixtureParameters,
    fit_cached,
    make_toy_data,
    mean_nll,
    mixture_log_prob,
    mixture_nll,
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
# ## The network: `mdn_src/model.py`
#
# We build the network of the original post: one hidden layer of 50 $\tanh$ units and
# $K = 30$ Gaussian components.

# %%
n_components, hidden = 30, 50
torch.manual_seed(0)
mdn = MDN(1, 1, n_components=n_components, hidden=hidden)
n_weights = sum(p.numel() for p in mdn.parameters())
glue("ch6_n_weights", n_weights, display=False)
glue("ch6_n_outputs", mdn.head.out_features, display=False)
print(mdn)

# %% [markdown]
# The class {py:class}`~mdn_src.model.MDN` in `mdn_src/model.py` has two parts, both visible above:
#
# - a **trunk**, `Linear(1, 50)` followed by `Tanh`: the same kind of hidden layer as the
#   least-squares network of {ref}`ch-mse`;
# - a **head**, a single `Linear` layer with {glue:text}`ch6_n_outputs` outputs. Those are
#   the pre-activations: $K$ values $a_k^\pi$, $K$ values $a_k^\mu$ (one per component and
#   target dimension; our target is 1-D) and $K$ values $a_k^\sigma$ (one per component,
#   because the covariance is isotropic, as in PRML). The post used three separate output
#   layers; one layer whose output is split in three computes the same thing with one
#   matrix product.
#
# The method `mixture_parameters` runs the trunk and the head, then hands the head's output
# to `output_activations`, which splits it in three and maps each part to a valid
# parameter:
#
# - $\pi_k$: a softmax over the $a_k^\pi$ ({eq}`eq-softmax-pi`), so the $\pi_k$ are positive
#   and sum to one. The code computes $\ln \pi_k$ directly with `log_softmax`, because the
#   loss needs the logarithm, and the logarithm of a softmax that has already rounded a
#   small $\pi_k$ to zero would be $-\infty$.
# - $\mu_k$: the identity, $\mu_k = a_k^\mu$ ({eq}`eq-mu-identity`).
# - $\sigma_k$: $\sigma_{\min} + \operatorname{softplus}(a_k^\sigma)$ ({eq}`eq-sigma-map`),
#   with $\sigma_{\min} = 10^{-3}$. PRML (and the post) use $\exp$; softplus grows only
#   linearly for large inputs, and the floor stops a component from shrinking onto a single
#   training point, where the likelihood grows without bound.
#
# The whole network has {glue:text}`ch6_n_weights` weights. Asked about three inputs, it
# answers with a `MixtureParameters`: $\ln \pi$ of shape `[N, K]`, $\mu$ and $\sigma$ of
# shape `[N, K, D]`, with $N = 3$ points, $K = 30$ components and $D = 1$ target dimension.

# %%
params = mdn.mixture_parameters(t_train[:3])
print("log_pi", tuple(params.log_pi.shape), "mu", tuple(params.mu.shape))
print("sigma", tuple(params.sigma.shape), "sum of pi", params.pi.sum(-1).detach().round(decimals=4))

# %% [markdown]
# Calling the model itself, `mdn(t)`, returns the same mixture as a
# `torch.distributions.MixtureSameFamily`: the density {eq}`eq-mixture`, as an object that
# can evaluate `log_prob` and draw samples. Its log-density agrees with the library's own
# `mixture_log_prob` (described next):

# %%
with torch.no_grad():
    p = mdn(t_train[:3])
    ours = mixture_log_prob(mdn.mixture_parameters(t_train[:3]), x_train[:3])
print(type(p).__name__, p.batch_shape, p.event_shape)
print(
    "largest difference:", f"{(p.log_prob(torch.from_numpy(x_train[:3])) - ours).abs().max():.1e}"
)

# %% [markdown]
# ## The loss: `mdn_src/loss.py`
#
# The loss is the negative log-likelihood {eq}`eq-nll` (PRML eq. 5.153), averaged over
# the $N$ training points rather than summed, so that the learning rate does not depend on
# how many points there are. `mixture_log_prob` computes, for each point, the log-space
# form {eq}`eq-logsumexp`:
#
# 1. for every component, $\ln \pi_k + \ln \mathcal{N}(x \mid \mu_k, \sigma_k^2)$, with the
#    Gaussian's logarithm written out in closed form ($-\tfrac12 z^2 - \ln \sigma_k -
#    \tfrac12 \ln 2\pi$, with $z = (x - \mu_k)/\sigma_k$), so no density is ever computed;
# 2. `torch.logsumexp` over the $K$ components.
#
# `mixture_nll` is minus the mean of those log-densities. As {ref}`ch-derivation` showed,
# `logsumexp` subtracts the largest term before exponentiating, so the sum it takes the
# logarithm of is at least one: exact, and never zero.
#
# ## Where the naive loss breaks
#
# The post coded {eq}`eq-nll` as written: compute each Gaussian's density, weight by
# $\pi_k$, sum, then take the logarithm. Here is that formula, for an isotropic mixture over
# $D$ dimensions. It lives in this chapter on purpose: it is the version not to use.


# %%
def naive_nll(params, t):
    """-log(sum_k pi_k N(t | mu_k, sigma_k^2 I)), with the densities formed explicitly."""
    pi, mu, sigma = params.pi, params.mu, params.sigma  # [N, K], [N, K, D], [N, K, D]
    D = mu.shape[-1]
    sq_dist = (t.unsqueeze(1) - mu).pow(2).sum(-1)  # [N, K]
    var = sigma[..., 0].pow(2)  # isotropic: one variance per component, [N, K]
    pdf = torch.exp(-sq_dist / (2 * var)) / (2 * math.pi * var) ** (D / 2)  # [N, K]
    return -torch.log((pi * pdf).sum(-1)).mean()


# %% [markdown]
# Take three equally weighted, narrow components ($\sigma = 0.01$) centred at 0.2, 0.5 and
# 0.8, and a target at $x = 1$: twenty standard deviations from the nearest component. Its
# density there is $e^{-200}$ times a constant, far below the smallest positive float32
# (about $10^{-45}$, that is $e^{-103}$). It rounds to zero, and the logarithm of zero is
# $-\infty$:

# %%
mu = torch.tensor([[[0.2], [0.5], [0.8]]], requires_grad=True)  # [N=1, K=3, D=1]
far = MixtureParameters(torch.full((1, 3), -math.log(3)), mu, torch.full((1, 3, 1), 0.01))
target = torch.tensor([[1.0]])
print("naive:", naive_nll(far, target).item())
print("mdn_src:", round(mixture_nll(far, target).item(), 4))

# %% [markdown]
# The log-space value is not an approximation. The other two components add terms smaller
# by a factor $e^{-1000}$ or less, so by hand the loss is
# $-\ln\big(\tfrac13 \mathcal{N}(1 \mid 0.8, 0.01^2)\big) = \ln 3 + 200 + \ln(0.01\sqrt{2\pi})$:

# %%
by_hand = math.log(3) + 200 + math.log(0.01 * math.sqrt(2 * math.pi))
print(round(by_hand, 4))

# %% [markdown]
# Worse than the infinite loss is its gradient. Backpropagating through $\ln 0$ multiplies
# an infinite derivative by the zero derivative of the underflowed exponential, and
# $\infty \times 0$ is NaN. One such point in a batch turns every weight into NaN at the
# next optimiser step. The log-space loss gives the gradient
# $\gamma_k (\mu_k - x)/\sigma_k^2$ of {eq}`eq-grad-mu`: the whole responsibility sits on
# the nearest component, which is pulled towards the target.

# %%
naive_nll(far, target).backward()
print("naive gradient:  ", mu.grad.flatten().tolist())
mu.grad = None
mixture_nll(far, target).backward()
print("mdn_src gradient:", (mu.grad.flatten() + 0.0).tolist())  # + 0.0 turns -0.0 into 0.0

# %% [markdown]
# The post trained with this naive loss and got away with it: in one dimension, starting
# from wide components, no training point ever strayed that far from all of them. Nothing
# guarantees it. Early in training the components sit wherever the random initial weights
# put them, and later one outlier is enough.
#
# Many dimensions are the other way to underflow, without any outlier. A Gaussian density
# over $D$ dimensions is a product of $D$ factors, and each factor is small when $\sigma$
# is large compared with one unit. Below, a 40-dimensional target is drawn from the first
# component itself ($\sigma = 5$), a perfectly typical point, and its density still
# underflows:

# %%
g = torch.Generator().manual_seed(0)
mu_40 = torch.randn(1, 3, 40, generator=g)  # [N=1, K=3, D=40]
target_40 = mu_40[:, 0] + 5.0 * torch.randn(1, 40, generator=g)  # a draw from component 1
mu_40.requires_grad_()  # after drawing the target, so the target is a constant
wide = MixtureParameters(torch.full((1, 3), -math.log(3)), mu_40, torch.full((1, 3, 40), 5.0))
print("naive:", naive_nll(wide, target_40).item())
print("mdn_src:", round(mixture_nll(wide, target_40).item(), 4))

# %% [markdown]
# The gradient with respect to the means fails in the same way: every one of its entries is
# NaN, while the log-space loss gives a finite gradient.

# %%
naive_nll(wide, target_40).backward()
print("naive gradient, all NaN:     ", bool(mu_40.grad.isnan().all()))
mu_40.grad = None
mixture_nll(wide, target_40).backward()
print("mdn_src gradient, all finite:", bool(mu_40.grad.isfinite().all()))

# %% [markdown]
# ## Training
#
# `fit` (in `mdn_src/train.py`) minimises `mdn.loss`, which is `mixture_nll`, with Adam
# {cite:p}`kingma2015adam`. We use the post's settings: learning rate 0.008 and 3,000
# full-batch epochs, so every epoch is one optimiser step on all the training points. The
# weights were seeded with `torch.manual_seed(0)` before the model was built, so the run is
# deterministic. It takes well under a minute on one CPU thread. We call it through
# `fit_cached` ({py:func}`~mdn_src.cache.fit_cached`), which runs `fit` once and keeps the
# trained weights: {ref}`ch-sampling` needs this very model and loads it instead of training
# it again (and a second run of this chapter is quicker).

# %%
lr, epochs = 0.008, 3000
history = fit_cached(mdn, t_train, x_train, name="ch6-mdn", epochs=epochs, lr=lr)
for epoch in range(0, epochs, 300):
    print(f"epoch {epoch:4d}   NLL {history[epoch]:.4f}")
print(f"final        NLL {history[-1]:.4f}")

# %% [markdown]
# The loss is measured in nats per point and goes below zero: it is minus the logarithm of a
# *density*, and a density above one (a narrow one) has a positive logarithm. The best
# any model can do on average is the entropy of the true conditional density, the **Bayes
# limit**. For the inverse problem `oracle.bayes_nll(inverse=True)` computes it exactly:
# $p(x \mid t)$ is uniform on the set of $x$ that can produce $t$ (up to three intervals),
# so the limit is the average logarithm of that set's length, {glue:text}`ch6_bayes_nll`
# nats.

# %%
bayes_nll = oracle.bayes_nll(inverse=True)
glue("ch6_bayes_nll", round(bayes_nll, 3), display=False)
print(round(bayes_nll, 4))

# %% mystnb={"figure": {"caption": "Training loss (mean negative log-likelihood per point) over 3,000 full-batch Adam epochs, with the Bayes limit of the inverse problem as a dashed line.", "name": "fig-ch6-loss"}, "image": {"alt": "A loss curve falling steeply from about 1 nat to below -1 within a few hundred epochs, then creeping down with occasional brief spikes, staying above a dashed horizontal line near -1.28."}}
fig, ax = plotting.plot_loss(history, "NLL (nats)", bayes_nll, "Bayes limit")
plt.show()

# %% [markdown]
# {numref}`fig-ch6-loss` shows the usual shape: a steep fall while the components move onto
# the three branches of the data, then a slow descent. The brief upward spikes are Adam
# overshooting with a fairly large learning rate; the loss recovers within a few dozen
# epochs. The curve flattens well above the dashed line.
#
# ## How good is the fit?
#
# A training loss can flatter a model that memorised its data. We score the trained MDN on
# 20,000 fresh points drawn with another seed, with {py:func}`~mdn_src.metrics.mean_nll` from
# `mdn_src/metrics.py`
# (inputs `t_test`, targets `x_test`).

# %%
x_test, t_test = make_toy_data(20_000, seed=1)
train_nll = mean_nll(mdn, t_train, x_train)
test_nll = mean_nll(mdn, t_test, x_test)
glue("ch6_train_nll", round(train_nll, 3), display=False)
glue("ch6_heldout_nll", round(test_nll, 3), display=False)
glue("ch6_gap_to_bayes", round(test_nll - bayes_nll, 3), display=False)
print(f"training {train_nll:.3f}   held-out {test_nll:.3f}   Bayes limit {bayes_nll:.3f}")

# %% [markdown]
# The trained MDN scores {glue:text}`ch6_train_nll` nats per point on its training data and
# {glue:text}`ch6_heldout_nll` on the fresh points: the two are close, so the model did not
# overfit. It stays {glue:text}`ch6_gap_to_bayes` nats above the Bayes limit of
# {glue:text}`ch6_bayes_nll`. That gap is what this model, trained this long, leaves, and
# two causes are mixed in it. One is the shape of the answer: the true $p(x \mid t)$ is a
# set of flat boxes with hard edges, and a sum of smooth Gaussians can only approximate a
# box: its top ripples, and its edges are slopes rather than cliffs, so some probability
# leaks outside the boxes, where no data ever falls, and the density inside is lower than it
# should be. Narrower components would sharpen the edges, but it would take more of them,
# placed very precisely, and with any finite $K$ some gap remains. The other is the
# optimisation, which is not finished: the training loss of {numref}`fig-ch6-loss` is still
# creeping down at the last epoch, so more epochs, or more components put to use, would
# likely shrink the gap somewhat.
#
# ## The learnt density
#
# To see the whole conditional density at once, we evaluate it on a grid of $(t, x)$
# pairs. Rather than loop over the grid, we make one batch of all its pairs: the network
# computes one mixture per pair (row $i$ gets input $t_i$), and `mixture_log_prob` scores
# each pair's $x$ under its own mixture.

# %%
t_img = np.linspace(-0.1, 1.1, 241, dtype=np.float32)
x_img = np.linspace(-0.1, 1.1, 241, dtype=np.float32)
t_pairs, x_pairs = np.meshgrid(t_img, x_img, indexing="ij")  # [241, 241] each
with torch.no_grad():
    pair_params = mdn.mixture_parameters(t_pairs.reshape(-1, 1))  # 58,081 mixtures
    log_p = mixture_log_prob(pair_params, x_pairs.reshape(-1, 1))
learnt = log_p.exp().reshape(t_pairs.shape).numpy()  # [t, x]
exact = oracle.inverse_density(x_pairs, t_pairs)  # [t, x]
print(learnt.shape, exact.shape)


# %% [markdown]
# Both images below are drawn by `plot_density` from `mdn_src/plotting.py`, on the book's one
# logarithmic colour scale, from 0.1 to 30 (darker is higher). A logarithmic scale shows at
# once the tall density where only one branch exists and the faint haze of probability that
# a model spreads where the true density is zero.

# %% mystnb={"figure": {"caption": "The conditional density p(x|t) learnt by the MDN (K = 30), on a grid of (t, x) pairs.", "name": "fig-ch6-learnt-density"}, "image": {"alt": "Heat map over t (horizontal) and x (vertical): a dark band follows the S-shaped data, with three branches for t between about 0.3 and 0.7, soft edges, and faint spurs reaching beyond the data."}}
fig, ax = plotting.new_axes("$t$", "$x$", "learnt by the MDN")
plotting.plot_density(ax, t_img, x_img, learnt)
plt.show()

# %% mystnb={"figure": {"caption": "The exact conditional density p(x|t) of the inverse problem, from the oracle: uniform on the x that can produce t.", "name": "fig-ch6-exact-density"}, "image": {"alt": "Heat map over t and x: the same S-shaped band as the learnt density, with sharp edges and one constant shade across each vertical slice."}}
fig, ax = plotting.new_axes("$t$", "$x$", "exact")
plotting.plot_density(ax, t_img, x_img, exact)
plt.show()

# %% [markdown]
# {numref}`fig-ch6-learnt-density` and {numref}`fig-ch6-exact-density` tell the same
# story. The MDN has found the shape: one branch at the ends of the range of $t$, three in
# the middle, each with about the right width and weight. They differ in the details:
# the exact density stops dead at the boundary of each box and has one shade across each
# vertical slice, while the learnt one fades out over a short distance, varies within a
# slice, and sends faint spurs where no data lies (past the ends of the middle branch,
# and below $x = 0$ at the left end). Both differences cost likelihood: every bit of
# probability placed outside the boxes is missing inside them, and a density that varies
# across a box is too low somewhere in it. Together they make the gap to the Bayes limit we
# measured above.
#
# ## What we learned
#
# - `MDN` in `mdn_src/model.py` is a small network with one linear head whose outputs are
#   split into $a^\pi$, $a^\mu$, $a^\sigma$ and mapped through log-softmax, the identity and
#   $\sigma_{\min} + \operatorname{softplus}$.
# - The loss in `mdn_src/loss.py` stays in log space: `logsumexp` of $\ln \pi_k + \ln
#   \mathcal{N}_k$. Summing raw densities first gives an infinite loss and NaN gradients,
#   both for a target far from every component and for a typical target in 40 dimensions.
# - With the post's settings the MDN trains in under a minute on one CPU thread and comes
#   within {glue:text}`ch6_gap_to_bayes` nats of the Bayes limit on fresh data. Smooth
#   Gaussians can only approximate the hard-edged boxes of the true density, so some gap
#   remains for any finite $K$; longer training would likely shrink this one somewhat.
#
# A trained MDN gives a whole density for every input. {ref}`ch-sampling` turns that density
# into predictions: modes, means and samples.
