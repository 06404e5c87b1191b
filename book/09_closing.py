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
#   network;
# - see, side by side, the exact figures every model in the book was measured against, and
#   the best any single Gaussian could do;
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
import torch
from myst_nb import glue

from mdn_src import MDN, oracle

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count

# %% [markdown]
# ## What we learned
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
# **Training it** ({ref}`ch-mdn`). With $K = 30$ components, full-batch Adam
# {cite:p}`kingma2015adam` fits the inverse problem, and its held-out negative
# log-likelihood can be set against the two lines of the table below: it beats what any
# single Gaussian could score, and stays short of the exact limit.
#
# **Using it** ({ref}`ch-sampling`). A density is only useful if we can ask it questions. We
# drew samples from it without Python loops, found its modes by a fixed-point iteration
# started from every component mean {cite:p}`carreira2000modes`, and compared the
# mixture's mean, the least-squares answer, with those modes.
#
# ## The yardsticks
#
# Every score in the book was read against what no model can beat: the expected negative
# log-likelihood and squared error of the *exact* conditional density (`mdn_src/oracle.py`).
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

# %%
rows = [
    ("forward p(t | x)", oracle.bayes_nll(), gauss_forward, oracle.bayes_mse()),
    (
        "inverse p(x | t)",
        oracle.bayes_nll(inverse=True),
        gauss_inverse,
        oracle.bayes_mse(inverse=True),
    ),
]
print(f"{'problem':<18}{'Bayes NLL':>11}{'best Gaussian':>15}{'Bayes MSE':>11}")
for name, nll, gauss, mse in rows:
    print(f"{name:<18}{nll:>11.4f}{gauss:>15.4f}{mse:>11.5f}")
    short = name.split()[0]
    glue(f"ch8_{short}_bayes_nll", round(nll, 3), display=False)
    glue(f"ch8_{short}_gauss_nll", round(gauss, 3), display=False)
    glue(f"ch8_{short}_gauss_gap", round(gauss - nll, 3), display=False)
    glue(f"ch8_{short}_bayes_mse", round(mse, 5), display=False)
ratio = oracle.bayes_mse(inverse=True) / oracle.bayes_mse()
glue("ch8_mse_ratio", round(ratio, 1), display=False)
print(f"inverse / forward Bayes MSE: {ratio:.1f}")

# %% [markdown]
# The table reads in nats (lower is better) and in squared units of the target.
#
# - **Forward**, the exact density scores {glue:text}`ch8_forward_bayes_nll` nats, and the
#   best Gaussian {glue:text}`ch8_forward_gauss_nll`: even with one clean branch, a Gaussian
#   loses {glue:text}`ch8_forward_gauss_gap` nats per point, because the true noise is a
#   flat block with sharp edges. The squared-error floor, {glue:text}`ch8_forward_bayes_mse`,
#   is the noise variance $0.2^2 / 12$ of {ref}`ch-data`, and the network of {ref}`ch-mse`
#   came close to it.
# - **Inverse**, the exact density scores {glue:text}`ch8_inverse_bayes_nll` nats, and the
#   best Gaussian only {glue:text}`ch8_inverse_gauss_nll`: {glue:text}`ch8_inverse_gauss_gap`
#   nats per point are out of reach of any model that predicts one Gaussian per input,
#   however well trained. That gap is the room a mixture has to work in. The held-out score
#   of the MDN of {ref}`ch-mdn` lands inside it: better than any single Gaussian, short of
#   the exact limit, and closer to the limit than to the Gaussian line. The squared-error
#   floor rises to {glue:text}`ch8_inverse_bayes_mse`, {glue:text}`ch8_mse_ratio` times the
#   forward one: even the exact conditional mean misses by a lot when the answers lie on
#   separate branches.
#
# ## Where to go next
#
# **Other component families.** Nothing in the derivation needed the components to be
# Gaussian: the loss is the log of a weighted sum of component densities, whatever they
# are. Heavy-tailed data call for Laplace or Student-t components; angles, like a robot's
# joint angles, for von Mises components that wrap around; targets confined to an interval,
# like our $x \in [0, 1]$, for Beta components, which cannot put probability outside it.
# `MDN.forward` returns a `torch.distributions.MixtureSameFamily`, which accepts any
# component family, so a new family is a change to a few lines of `mdn_src/model.py`.
#
# **Full covariances.** Our components are isotropic, as in PRML, or diagonal
# (`covariance="diagonal"`). For targets whose dimensions are correlated, the network can
# output a lower-triangular Cholesky factor for each component (positive diagonal through
# the same softplus map), which `torch.distributions.MultivariateNormal(scale_tril=...)`
# takes directly. The price is $D(D+1)/2$ outputs per component instead of $D$.
#
# **Mixtures of experts.** An MDN shares one hidden layer between the mixing coefficients
# and every component. A mixture of experts gives each component its own network and a
# separate gating network for the mixing coefficients (PRML §14.5.3
# {cite:p}`bishop2006prml`). That costs more parameters but lets each expert specialise, and
# its components can be any model, for instance one linear regression per branch.
#
# **Normalizing flows.** A conditional normalizing flow models $p(t \mid x)$ by pushing a
# simple base density through a chain of invertible transformations whose parameters depend
# on $x$. The likelihood is still exact, there is no number of components to choose, and
# flows scale to high-dimensional targets where a mixture of diagonal Gaussians needs very
# many components. An MDN keeps two advantages: its parameters can be read (each component
# is a candidate answer with a probability), and its samples and modes are cheap.
#
# **Calibration and scoring.** We scored densities by their negative log-likelihood, the
# logarithmic score. It is *strictly proper*: its expected value is best only when the
# predicted density equals the true one, so it cannot be gamed by hedging or by
# over-confidence {cite:p}`gneiting2007scoring`. It is also harsh on densities that put
# almost no probability where data fall; the continuous ranked probability score, another
# proper score discussed there, is gentler and has the units of the target. A score says
# how good a density is, not *how* it is wrong. For that, {py:func}`~mdn_src.metrics.pit` in
# `mdn_src/metrics.py`
# computes the probability integral transform $u = F(x \mid t)$, the predicted cumulative
# distribution at the observed target: over held-out data $u$ is uniform on $[0, 1]$ when
# the densities are calibrated, U-shaped when they are too narrow, and humped when they are
# too wide. A natural next step is to recalibrate a density that fails this check, or to
# test it on data from outside the training range.
#
# **The robot arm.** The problem that motivated MDNs is the inverse kinematics of a
# two-link robot arm {cite:p}`bishop1994mdn`: the input is the hand's position, the target
# the two joint angles, and most positions are reached by two configurations, elbow up and
# elbow down. Generating the data takes three lines of trigonometry (see {ref}`ch-intro`),
# and the library already handles two-dimensional inputs and targets:

# %%
torch.manual_seed(0)
arm_mdn = MDN(2, 2, n_components=4, covariance="diagonal")  # position -> two angles
p_angles = arm_mdn(torch.zeros(5, 2))
print(p_angles.batch_shape, p_angles.event_shape)

# %% [markdown]
# Train it with `fit` exactly as in {ref}`ch-mdn`, and check that `conditional_modes` finds
# the two configurations for each position; {ref}`ch-arm` does exactly that, and measures
# how far the hand lands from its target. Remember, if you do, that joint angles are
# angles: components that wrap around (von Mises) fit them better than Gaussians near the
# ends of their range.
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
