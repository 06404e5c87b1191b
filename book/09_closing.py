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
# (ch-closing)=
# # Closing
#
# Download this chapter as a notebook ({download}`09_closing.ipynb <./09_closing.ipynb>`) or as a
# Python script ({download}`09_closing.py <./09_closing.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# **In this chapter** you will:
#
# - look back over the steps that took us from a scatter plot to a trained mixture density
#   network, and see what the rest of the book adds;
# - see, side by side, the exact figures every model in the book was measured against, the
#   best any single Gaussian could do, and where the MDN of {ref}`ch-mdn` lands between
#   them;
# - find directions to go next, with a pointer for each;
# - find the references cited throughout the book.

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

import numpy as np
import torch
from myst_nb import glue

from mdn_src import MDN, check, fit_cached, make_toy_data, mean_nll, oracle, report

torch.set_num_threads(1)  # a run repeats exactly on one machine (not across machines)

# %% [markdown]
# ## What you learnt
#
# **The problem** ({ref}`ch-data`). The toy problem of PRML §5.6 {cite:p}`bishop2006prml`
# draws $x$ uniformly on $[0, 1]$ and sets $t = x + 0.3 \sin(2 \pi x) + \epsilon$ with
# uniform noise. Its exact conditional densities are known in both directions, which turned
# every later figure from "looks about right" into a measured distance from the truth. We
# drew the data from an explicitly seeded generator, so every chapter saw the same points.
#
# **Regression is a Gaussian in disguise** ({ref}`ch-mse`). A small tanh network trained on
# the squared error fits the forward problem $p(t \mid x)$ well. Minimising the squared
# error is maximising the likelihood of a Gaussian with fixed variance
# {eq}`eq-gaussian-likelihood`, and its minimiser is the conditional mean $E[t \mid x]$.
#
# **Where the mean fails** ({ref}`ch-inverse`). Swap input and target and the same network,
# still predicting a conditional mean, draws a curve through the middle of the sideways S:
# where three branches compete, the average of the right answers lies between them and is
# not itself a right answer. No amount of training fixes that; the model is wrong, not the
# optimiser.
#
# **A density as output** ({ref}`ch-derivation`). The mixture density network of
# {cite:t}`bishop1994mdn` lets the network output the mixing coefficients, means and
# standard deviations of a Gaussian mixture {eq}`eq-mixture`. Reading the mixing
# coefficients as the prior of a latent variable gave the mixture a probabilistic meaning,
# maximum likelihood gave the loss {eq}`eq-nll`, the responsibilities
# {eq}`eq-responsibility` gave its gradients, and the log-sum-exp form {eq}`eq-logsumexp`
# made it safe to compute.
#
# **Implementing it** ({ref}`ch-implementation`). Floats overflow and underflow where exact
# arithmetic does not. The library computes the mixing coefficients as a log-softmax, keeps
# every scale above a floor $\sigma_{\min}$, and evaluates the loss in log space with
# logsumexp, and the chapter showed where the textbook formula, coded as written, fails.
#
# **Training it** ({ref}`ch-mdn`). With $K = 30$ components, full-batch Adam
# {cite:p}`kingma2015adam` fits the inverse problem, and its held-out negative
# log-likelihood, scored over three seeds, takes its row in the table below, between the
# exact limit and the best any single Gaussian could score.
#
# **Using it** ({ref}`ch-sampling`). A density is only useful if we can ask it questions. We
# drew samples from it without Python loops, found its modes by a fixed-point iteration
# started from every component mean {cite:p}`carreira2000modes`, and compared the
# mixture's mean, the least-squares answer, with those modes.
#
# **The rest of the book** goes further in five directions. {ref}`ch-arm` trains MDNs on
# the problem that introduced them, the inverse kinematics of a two-link robot arm, with
# two-dimensional inputs and targets, and scores them by where the hand lands.
# {ref}`ch-truth` returns to the toy problem and holds a trained MDN against the exact
# density, to take apart the gap that remains between them. {ref}`ch-k-calibration`
# chooses the number of components by cross-validation and asks whether the predicted
# densities are calibrated. {ref}`ch-pitfalls` provokes, one at a time, the ways in which
# training an MDN goes wrong, and shows what each looks like. {ref}`ch-real-data` fits two
# small data sets measured in the world, where no exact answer is known.
#
# ## The yardsticks
#
# Every score in the book was read against what no model can beat: the expected negative
# log-likelihood and squared error of the *exact* conditional density (`mdn_src/problems/oracle.py`).
# Beside them we put a second line, the best that **any single Gaussian** per input can do,
# even one with its own mean and variance for every input. For a target with conditional
# mean $m$ and variance $v$, a Gaussian with mean $\hat m$ and variance $s^2$ has expected
# negative log-likelihood $\tfrac12 \ln(2 \pi s^2) + \big(v + (m - \hat m)^2\big) / (2 s^2)$,
# smallest at $\hat m = m$, $s^2 = v$, where it equals $\tfrac12 \ln(2 \pi e\, v)$. Averaging
# that over the inputs gives the line. `oracle.best_gaussian_nll` computes it: in closed form
# for the forward problem, where $v$ is the noise variance $0.2^2 / 12$ at every $x$, and for
# the inverse problem by weighting $\tfrac12 \ln(2 \pi e \operatorname{var}[x \mid t])$ with
# $p(t)$ on a fine grid of $t$.

# %%
gauss_forward = oracle.best_gaussian_nll()
gauss_inverse = oracle.best_gaussian_nll(inverse=True)
print(f"best single Gaussian: forward {gauss_forward:.4f}, inverse {gauss_inverse:.4f} nats")

# %% [markdown]
# The MDN's row comes from {ref}`ch-mdn`: the same three networks ($K = 30$, seeds 0, 1
# and 2), built and trained with exactly the same call, so `fit_cached` loads the weights
# the book ships for that chapter instead of training again (or trains them, where the
# shipped weights do not apply; training is chaotic, so another machine ends at other
# optima, and what the text says of them is checked in the code for whichever models were
# loaded or trained). Each is scored on the same 20,000 fresh points.

# %% tags=["nbval-ignore-output"]
x_train, t_train = make_toy_data(2500, seed=0)
x_test, t_test = make_toy_data(20_000, seed=1)
mdn_nll = []
for seed in (0, 1, 2):
    torch.manual_seed(seed)
    mdn = MDN(1, 1, n_components=30, hidden=50)
    fit_cached(mdn, t_train, x_train, name=f"ch7-mdn-seed{seed}", epochs=3000, lr=0.008,
               shipped="models/cache")  # fmt: skip
    mdn_nll.append(mean_nll(mdn, t_test, x_test))  # input t, target x: p(x | t)
mdn_nll = np.array(mdn_nll)
print("held-out NLL of the MDN, seeds 0, 1, 2:", mdn_nll.round(3))

# %%
bayes = {"forward": oracle.bayes_nll(), "inverse": oracle.bayes_nll(inverse=True)}
gauss = {"forward": gauss_forward, "inverse": gauss_inverse}
mse = {"forward": oracle.bayes_mse(), "inverse": oracle.bayes_mse(inverse=True)}
print(f"{'held-out NLL (nats)':<30}{'forward p(t | x)':>17}{'inverse p(x | t)':>18}")
print(f"{'exact density (Bayes limit)':<30}{bayes['forward']:>17.4f}{bayes['inverse']:>18.4f}")
print(f"{'best single Gaussian':<30}{gauss['forward']:>17.4f}{gauss['inverse']:>18.4f}")
print(f"{'Bayes MSE (squared units)':<30}{mse['forward']:>17.5f}{mse['inverse']:>18.5f}")
for short in ("forward", "inverse"):
    glue(f"ch9_{short}_bayes_nll", round(bayes[short], 3), display=False)
    glue(f"ch9_{short}_gauss_nll", round(gauss[short], 3), display=False)
    glue(f"ch9_{short}_gauss_gap", round(gauss[short] - bayes[short], 3), display=False)
    glue(f"ch9_{short}_bayes_mse", round(mse[short], 5), display=False)
ratio = mse["inverse"] / mse["forward"]
glue("ch9_mse_ratio", round(ratio, 1), display=False)
print(f"inverse / forward Bayes MSE: {ratio:.1f}")

# %% tags=["nbval-ignore-output"]
# The MDN's row: in every seed its score lies between the exact limit and the Gaussian line
# and closes a large part of the gap between them; on average more than half of it (closer
# to the limit than to the Gaussian line).
got = report("ch9_mdn_nll", mdn_nll, at_least=bayes["inverse"], at_most=gauss["inverse"])
print(f"{'MDN, K = 30 (3 seeds)':<30}{'-':>17}{str(got):>18}")
share = (gauss["inverse"] - mdn_nll) / (gauss["inverse"] - bayes["inverse"])  # per seed
got = report("ch9_mdn_share", share, at_least=0.45, at_most=0.9, digits=0, percent=True)
report("ch9_mdn_share_on_average", share, of="mean", at_least=0.55, glue=False)
glue("ch9_mdn_share_min_pct", f"{100 * share.min():.0f}%", display=False)
print(f"share of the Gaussian-to-limit gap the MDN closes: {got}")

# %% [markdown]
# The table reads in nats (lower is better) and in squared units of the target.
#
# - **Forward**, the exact density scores {glue:text}`ch9_forward_bayes_nll` nats, and the
#   best Gaussian {glue:text}`ch9_forward_gauss_nll`: even with one clean branch, a Gaussian
#   loses {glue:text}`ch9_forward_gauss_gap` nats per point, because the true noise is a
#   flat block with sharp edges. The squared-error floor, {glue:text}`ch9_forward_bayes_mse`,
#   is the noise variance $0.2^2 / 12$ of {ref}`ch-data`, and the network of {ref}`ch-mse`
#   came close to it.
# - **Inverse**, the exact density scores {glue:text}`ch9_inverse_bayes_nll` nats, and the
#   best Gaussian only {glue:text}`ch9_inverse_gauss_nll`: {glue:text}`ch9_inverse_gauss_gap`
#   nats per point are out of reach of any model that predicts one Gaussian per input,
#   however well trained. That gap is the room a mixture has to work in. The held-out score
#   of the MDN of {ref}`ch-mdn`, {glue:text}`ch9_mdn_nll` nats (mean ± sd over three
#   seeds), lands inside it in every seed: better than any single Gaussian, short of the
#   exact limit. It closes {glue:text}`ch9_mdn_share` of the gap (mean ± sd over seeds;
#   {glue:text}`ch9_mdn_share_min_pct` in the worst seed), so on average it lies closer to
#   the limit than to the Gaussian line. The squared-error floor rises to {glue:text}`ch9_inverse_bayes_mse`,
#   {glue:text}`ch9_mse_ratio` times the forward one: even the exact conditional mean
#   misses by a lot when the answers lie on separate branches.
#
# ## Where to go next
#
# **Other component families.** Nothing in the derivation needed the components to be
# Gaussian: the loss is the log of a weighted sum of component densities, whatever they
# are. Heavy-tailed data call for Laplace or Student-t components, angles for von Mises
# components that wrap around, and `mdn_src` has them, together with the generalised
# normal: `MDN(..., family="laplace")`, `"student_t"`, `"gennorm"` or `"von_mises"`.
# Targets confined to an interval, like our $x \in [0, 1]$, would call for Beta
# components, which cannot put probability outside it; the library has none. Adding a
# family touches one file, `mdn_src/mixture/families.py`: a subclass of `Family` that gives the
# component log-density, its `torch.distributions` object, its variance and (for
# one-dimensional targets) its cdf, registered in `FAMILIES`, plus a few lines in
# `HeadSpec` (`mdn_src/model.py`) if the family has a shape parameter for the network to learn. Where torch
# lacks the distribution, a `Distribution` subclass goes into a module of its own beside it,
# as `GeneralizedNormal` did in `mdn_src/mixture/gennorm.py`. The loss, sampling, moments and modes talk to that
# interface and need no change.
#
# **Full covariances.** The toy problem's components are isotropic, as in PRML. For
# targets whose dimensions are correlated, `MDN(..., covariance="full")` outputs a
# lower-triangular Cholesky factor for each component, at a price of $D(D+1)/2$ outputs per
# component instead of $D$. {ref}`ch-arm` uses it, and shows the trap it can fall into and
# the library's way out.
#
# **Mixtures of experts.** An MDN shares one hidden layer between the mixing coefficients
# and every component. A mixture of experts gives each component its own network and a
# separate gating network for the mixing coefficients (PRML §14.5.3
# {cite:p}`bishop2006prml`). That costs more parameters but lets each expert specialise, and
# its components can be any model, for instance one linear regression per branch.
#
# **Normalizing flows.** A conditional normalizing flow {cite:p}`papamakarios2021flows`
# models $p(t \mid x)$ by pushing a simple base density through a chain of invertible
# transformations whose parameters depend on $x$. The likelihood is still exact, there is
# no number of components to choose, and flows scale to high-dimensional targets where a
# mixture of diagonal Gaussians needs very many components. An MDN keeps two advantages:
# its parameters can be read (each component is a candidate answer with a probability),
# and its samples and modes are cheap.
#
# **Calibration and scoring.** We scored densities by their negative log-likelihood, the
# logarithmic score. It is *strictly proper*: its expected value is best only when the
# predicted density equals the true one, so it cannot be gamed by hedging or by
# over-confidence {cite:p}`gneiting2007scoring`. It is also harsh on densities that put
# almost no probability where data fall; the continuous ranked probability score, another
# proper score discussed there, is gentler and has the units of the target. A score says
# how good a density is, not *how* it is wrong. For that, {py:func}`~mdn_src.metrics.pit`
# computes the probability integral transform $u = F(x \mid t)$, the predicted cumulative
# distribution at the observed target: over held-out data $u$ is uniform on $[0, 1]$ when
# the densities are calibrated, U-shaped when they are too narrow, and humped when they are
# too wide. {ref}`ch-k-calibration` puts both to work.
#
# **Regularisation by noise.** With few training points, an MDN's components can collapse
# onto single targets. Adding fresh noise to the inputs and targets at every step smooths
# the learnt density {cite:p}`rothfuss2019noise`; `fit(..., input_noise=...,
# target_noise=...)` does it.
#
# {ref}`where-next` collects the reading, with what each reference adds, and {ref}`notation`
# the symbols.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch09-bayes-forward
#
# The forward problem's noise is uniform on $(-0.1, 0.1)$. Compute by hand the Bayes limit
# of the forward problem, the expected NLL of the exact $p(t \mid x)$, and check it against
# `oracle.bayes_nll()`.
# ```
#
# ```{solution-start} ex-ch09-bayes-forward
# :class: dropdown
# ```
#
# Given $x$, $t$ is uniform on an interval of width 0.2, where its density is $1 / 0.2 = 5$
# and every observed $t$ falls. The NLL is $-\ln 5$ at every point:

# %%
print(f"by hand: {-math.log(1 / 0.2):.4f} nats; oracle: {oracle.bayes_nll():.4f} nats")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch09-gauss-forward
#
# Compute by hand the best single-Gaussian line of the forward problem,
# $\tfrac12 \ln(2 \pi e\, v)$ with $v$ the noise variance, and check it against
# `oracle.best_gaussian_nll()`. Why is it above the Bayes limit, although a Gaussian with
# the right mean and variance fits the forward problem's single branch?
# ```
#
# ```{solution-start} ex-ch09-gauss-forward
# :class: dropdown
# ```
#
# With $v = 0.2^2 / 12$:

# %%
v = 0.2**2 / 12
print(f"by hand: {0.5 * math.log(2 * math.pi * math.e * v):.4f} nats", end="; ")
print(f"oracle: {oracle.best_gaussian_nll():.4f} nats")

# %% [markdown]
# The right mean and variance are not the right shape: the noise is a flat block with hard
# edges, and a Gaussian of the same variance puts probability in its tails, outside the
# block, and too little on the block itself. Of all densities with a given variance the
# Gaussian has the largest entropy, so it can only lose against the uniform one.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch09-one-component
#
# Train an MDN with a single component ($K = 1$) on the inverse problem (seed 0, otherwise
# as in {ref}`ch-mdn` but for 1,000 epochs) and score it on the held-out points. Predict
# first: where does it land in the table?
# ```
#
# ```{solution-start} ex-ch09-one-component
# :class: dropdown
# ```
#
# One Gaussian per input can at best reach the best-Gaussian line, and a trained one stays
# above it:

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
single = MDN(1, 1, n_components=1, hidden=50)
fit_cached(single, t_train, x_train, name="ch9-k1-seed0", epochs=1000, lr=0.008)
single_nll = mean_nll(single, t_test, x_test)
print(f"K = 1 (one run): {single_nll:.3f} nats; best single Gaussian: {gauss['inverse']:.3f} nats")
print(f"MDN, K = 30: {mdn_nll.mean():.3f} nats; Bayes limit: {bayes['inverse']:.3f} nats")
check("the K = 1 network scores above the best-Gaussian line", single_nll > gauss["inverse"])

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What comes next
#
# The first part of the book ends here. {ref}`ch-arm` opens the second with the problem
# that introduced mixture density networks, the two-link robot arm.
#
# ## Thank you
#
# Mixture density networks are an old idea that stays useful wherever one input can have
# several answers. We hope that building one from a scatter plot up, and holding it against
# the exact answer at every step, has made both the idea and its limits concrete.
#
# ## References
#
# ```{bibliography}
# ```
