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
# (ch-mse)=
# # Regression with MSE
#
# Download this chapter as a notebook
# ({download}`03_regression_mse.ipynb <./03_regression_mse.ipynb>`) or as a Python script
# ({download}`03_regression_mse.py <./03_regression_mse.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# **In this chapter** you will fit the forward problem, $t$ given $x$, with the plainest
# tool there is: a small neural network trained on the mean squared error (MSE). You will
#
# - write a one-hidden-layer network by hand, with nothing but tensors and autograd;
# - see why minimising the MSE is the same as maximising a Gaussian likelihood;
# - train it with full-batch gradient descent with momentum, and watch it stall on a
#   shoulder before it finds the curve;
# - measure the fit against the best any regressor can do, and against the exact curve
#   $f(x)$;
# - do the same again in two lines with the book's library, `mdn_src`.

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
    MLP,
    check,
    fan_in_weights,
    fit,
    fit_cached,
    make_toy_data,
    mse,
    oracle,
    plotting,
    report,
    test_grid,
    toy_curve,
)

torch.set_num_threads(1)  # repeatable on one machine; other machines differ in the last bits
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)

# %% [markdown]
# These are the 2,500 training pairs of {ref}`ch-data`: $x$ uniform on $[0, 1]$ and
# $t = f(x) + \epsilon$ with $f(x) = x + 0.3 \sin(2\pi x)$ and $\epsilon$ uniform on
# $(-0.1, 0.1)$. For every $x$ there is one band of $t$ values, so asking the network for a
# single number $y(x, \mathbf{w})$ per input is a reasonable request.
#
# ## A network by hand
#
# The network has one hidden layer of 15 tanh units and a linear output:
#
# $$
# \begin{aligned}
# y(x, \mathbf{w}) = {} & \sum_{j=1}^{15} w^{(2)}_{j} \, h_j + b^{(2)}, \\
# h_j = {} & \tanh\big(w^{(1)}_{j} x + b^{(1)}_{j}\big).
# \end{aligned}
# $$
#
# All its weights together are $\mathbf{w}$. We write them as four plain tensors that
# autograd tracks (`requires_grad=True`), with the weights of both layers drawn from
# $\mathcal{N}(0, 1/\text{fan-in})$ and the biases at zero, as in the post this book grows
# from. Later chapters use `torch.nn` modules; here nothing is hidden.

# %%
H = 15  # hidden units
torch.manual_seed(0)
w1 = (torch.randn(1, H) * math.sqrt(1 / 1)).requires_grad_()  # fan-in 1
b1 = torch.zeros(1, H, requires_grad=True)
w2 = (torch.randn(H, 1) * math.sqrt(1 / H)).requires_grad_()  # fan-in H
b2 = torch.zeros(1, 1, requires_grad=True)
params = [w1, b1, w2, b2]
print(sum(p.numel() for p in params), "weights")


# %% [markdown]
# The forward pass is two matrix products and a tanh; a batch of inputs `[N, 1]` gives a
# batch of predictions `[N, 1]`.


# %%
def forward(x):
    hidden = torch.tanh(x @ w1 + b1)  # [N, H]
    return hidden @ w2 + b2  # [N, 1]


x = torch.from_numpy(x_train)
t = torch.from_numpy(t_train)
print(forward(x).shape)

# %% [markdown]
# ## Why the squared error: a Gaussian likelihood
#
# Before training, it pays to say what the loss assumes. Suppose the network's output is the
# mean of a Gaussian over the target, with some fixed variance $s^2$ (PRML's $\beta^{-1}$;
# we keep $\sigma$ for the mixture components of later chapters)
# {cite:p}`bishop2006prml`:
#
# $$
# \begin{aligned}
# p(t \mid x, \mathbf{w})
#   &= \mathcal{N}\big(t \mid y(x, \mathbf{w}), s^2\big) \\
#   &= \frac{1}{\sqrt{2\pi s^2}}
#      \exp\!\left(-\frac{(y - t)^2}{2 s^2}\right),
# \end{aligned}
# $$ (eq-gaussian-likelihood)
#
# where $y$ is short for $y(x, \mathbf{w})$.
#
# This is PRML's eq. (5.12). The $N$ training pairs are drawn independently, so their
# likelihood is the product of {eq}`eq-gaussian-likelihood` over $n$ (PRML 5.13), and its
# negative logarithm is a sum (PRML 5.14):
#
# $$
# \begin{aligned}
# &-\ln \prod_{n=1}^{N} p(t_n \mid x_n, \mathbf{w}) \\
# &\quad = \frac{1}{2 s^2} \sum_{n=1}^{N} \big(y_n - t_n\big)^2 \\
# &\qquad + \frac{N}{2} \ln\big(2\pi s^2\big),
# \end{aligned}
# $$ (eq-gaussian-nll)
#
# with $y_n = y(x_n, \mathbf{w})$.
#
# The second term does not depend on $\mathbf{w}$, and the first is a positive multiple of
# the sum of squares. So whatever $s^2$ is, the weights that minimise
# {eq}`eq-gaussian-nll` are the weights that minimise the mean squared error
#
# $$
# E_{\text{MSE}}(\mathbf{w})
#   = \frac{1}{N} \sum_{n=1}^{N} \big(y_n - t_n\big)^2 ,
# $$ (eq-mse)
#
# PRML's sum-of-squares error (5.11) divided by $N/2$, which moves no minimum. Minimising
# the MSE *is* maximum likelihood under a Gaussian noise model. Once $\mathbf{w}$ is found,
# setting the derivative of {eq}`eq-gaussian-nll` with respect to $s^2$ to zero gives
# $s^2 = E_{\text{MSE}}(\mathbf{w})$ (PRML 5.15): the trained MSE doubles as the estimate
# of the noise variance.
#
# Our noise is not Gaussian: $\epsilon$ is uniform on $(-0.1, 0.1)$. The Gaussian is an
# assumption of the model, not a fact about the data, and that is fine here: the best any
# regressor can do is predict $f(x)$ exactly, and its MSE is then the variance of
# $\epsilon$, $0.2^2/12$ = {glue:text}`ch3_bayes_mse`. This is the *Bayes-optimal* MSE, the
# floor no model can go below on average (`mdn_src/problems/oracle.py` computes it).

# %%
bayes_mse = oracle.bayes_mse()
glue("ch3_bayes_mse", round(bayes_mse, 5), display=False)
print(f"Bayes-optimal MSE: {bayes_mse:.5f}")

# %% [markdown]
# ## Training: full-batch gradient descent with momentum
#
# We hand the four tensors to `torch.optim.SGD` with the post's settings: learning rate
# 0.09, momentum 0.9 with Nesterov's correction, and 2,000 full-batch epochs (each epoch is
# one gradient step on all 2,500 points). Despite the class's name, nothing here is
# stochastic: every step uses the exact gradient of {eq}`eq-mse` over the whole training
# set, so this is plain (deterministic) gradient descent with Nesterov momentum; the only
# randomness is the initial weights, fixed by `torch.manual_seed(0)`. The loop is the whole
# of training: clear the gradients, compute {eq}`eq-mse`, backpropagate, step.

# %% tags=["nbval-ignore-output"]
epochs, lr = 2000, 0.09
opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
history = np.empty(epochs)
for epoch in range(epochs):
    opt.zero_grad()
    loss = ((forward(x) - t) ** 2).mean()  # eq-mse
    loss.backward()
    opt.step()
    history[epoch] = loss.item()  # the loss before this epoch's step
    if epoch % 250 == 0 or epoch == epochs - 1:
        print(f"epoch {epoch:4d}  MSE {history[epoch]:.5f}")

# %% [markdown]
# Before we look at the loss, one reference level: the best *straight line* through the
# data, fitted by least squares.

# %%
coef = np.polyfit(x_train.ravel(), t_train.ravel(), deg=1)  # least-squares line
line_mse = mse(np.polyval(coef, x_train), t_train)
glue("ch3_line_mse", round(line_mse, 4), display=False)
print(f"best straight line: MSE {line_mse:.4f}")

# %% mystnb={"figure": {"caption": "The MSE of the hand-written network during training (one run; log scale; solid), with the best straight line's MSE (dash-dotted) and the Bayes-optimal MSE (dashed) as the floor. The shoulder sits near the straight line's level.", "name": "fig-ch3-loss"}, "image": {"alt": "A falling loss curve that flattens for a few hundred epochs near a dash-dotted horizontal line, the best straight line's MSE, then drops again and ends near a dashed horizontal line, the Bayes-optimal MSE."}}
fig, ax = plotting.plot_loss(
    history, "MSE", reference=bayes_mse, reference_label="Bayes-optimal MSE"
)
ax.axhline(line_mse, color=plotting.COLORS["other"], ls="-.", lw=1.5, label="best straight line")
ax.set_yscale("log")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# That is one run, from one start. Training is chaotic: another start, or merely another
# machine whose arithmetic differs in the last bits, ends somewhere else. So before we read
# anything off the loss, we train the same network the same way from five starts,
# `torch.manual_seed(seed)` for seeds 0 to 4. To do it quickly we put the hand-written
# initial weights into the library's `MLP` (the same network; the last section of this
# chapter introduces it): {py:func}`~mdn_src.mlp.fan_in_weights` draws `w1, b1, w2, b2`
# exactly as the cell above did, and {py:meth}`MLP.from_weights <mdn_src.mlp.MLP.from_weights>`
# copies them in. {py:func}`~mdn_src.training.fit_cached` then runs the same full-batch loop
# (and keeps the result, so that a second run of the chapter loads it).


# %%
def hand_initialised(seed):
    """The library's MLP, holding the hand-written network's initial weights for `seed`."""
    torch.manual_seed(seed)
    return MLP.from_weights(*fan_in_weights(1, H, 1))  # drawn as w1 and w2 above


sgd = {"epochs": epochs, "lr": lr, "optimizer": "sgd", "momentum": 0.9, "nesterov": True}
nets, histories = [], []
for seed in range(5):
    net = hand_initialised(seed)
    histories.append(fit_cached(net, x_train, t_train, name=f"ch3-gd-seed{seed}", **sgd))
    nets.append(net)
print(f"{len(nets)} networks of {sum(p.numel() for p in nets[0].parameters())} weights trained")

# %% tags=["remove-cell", "nbval-ignore-output"]
losses = np.array([h.train for h in histories])  # [5 seeds, epochs]
before = np.array([[run[e - 50 : e].min() for e in range(500, epochs)] for run in losses])
spiky = (losses[:, 500:] / before).max(1) >= 2  # twice the best of the 50 epochs before
report("ch3_loss_250", losses[:, 250], at_least=0.75 * line_mse, at_most=1.1 * line_mse, digits=4)
report("ch3_spiky", spiky, of="count", at_least=1)
check(
    "the hand-written run ends within 20% of the floor",
    bool(history[-1] <= 1.2 * bayes_mse),
    f"last epoch {history[-1]:.5f}, floor {bayes_mse:.5f}",
)

# %% [markdown]
# {numref}`fig-ch3-loss` tells a two-part story. The loss first falls fast, then lands on
# a shoulder: at epoch 250 the five runs are still at {glue:text}`ch3_loss_250`, near the
# best straight line's MSE, {glue:text}`ch3_line_mse` (the dash-dotted line): in every run
# between 75% and 110% of it. That level is no accident. The network first finds roughly
# that line, and bending it into the wiggle of $f$ takes many small steps on a nearly flat
# stretch of the loss. Once it does, the loss drops again and creeps towards the floor. How
# long gradient descent sits on such a shoulder depends on where it starts: from the
# hand-written starts every run got off it in time (all five end near the floor, as we
# will see), but from the library's initialisation below, {glue:text}`ch3_lib_stuck_count`
# of five runs are still there at epoch 2,000. A flat loss curve does not always mean the
# network is done.
#
# Runs of this kind can also show a spike, where the loss jumps up for a moment: in
# {glue:text}`ch3_spiky_count` of the five runs, after epoch 500, the loss rises to at
# least twice its lowest value of the 50 epochs before. That is most likely momentum
# overshooting: the velocity built up over hundreds of small steps carries the weights too
# far where the loss surface turns steep, and the following steps bring them back. The runs
# recover: they all end near the floor.

# %% [markdown]
# ## The fit
#
# We evaluate the trained network on an even grid of 2,500 inputs over $[0, 1]$
# (`test_grid`) and draw it over the data, with the exact curve $f(x)$ beside it.

# %%
x_grid = test_grid(2500)
with torch.no_grad():
    y_grid = forward(torch.from_numpy(x_grid))
print(y_grid.shape)

# %% mystnb={"figure": {"caption": "The hand-written network after 2,000 epochs (solid) over the training data (circles), with the exact curve $f(x)$ (dashed).", "name": "fig-ch3-fit"}, "image": {"alt": "A scatter of points along a wavy rising band; a solid curve, the network, runs through the middle of the band, close to a dashed curve, the exact f(x)."}}
fig, ax = plotting.new_axes("$x$", "$t$")
plotting.plot_data(ax, x_train, t_train)
plotting.plot_curve(ax, x_grid, y_grid, label="network $y(x, \\mathbf{w})$")
plotting.plot_curve(ax, x_grid, toy_curve(x_grid), label="exact $f(x)$", kind="exact", style="--")
plotting.finish(ax)
plt.show()

# %% [markdown]
# In {numref}`fig-ch3-fit` the network runs through the middle of the band, on top of
# $f(x)$. Over the five runs (mean ± standard deviation), the final
# training MSE is {glue:text}`ch3_train_mse`, against the Bayes-optimal
# {glue:text}`ch3_bayes_mse`: every run ends within 20% of it. On 20,000 fresh points
# (`seed=1`) it is {glue:text}`ch3_heldout_mse`. The root mean squared distance between
# the network's curve and $f(x)$ over the grid is {glue:text}`ch3_curve_rms`, in every run
# below 0.03, well inside the noise band's half-width of 0.1.

# %% tags=["nbval-ignore-output"]
x_test, t_test = make_toy_data(20_000, seed=1)
with torch.no_grad():
    train_mses = np.array([mse(net(x), t) for net in nets])
    heldout_mses = np.array([mse(net(torch.from_numpy(x_test)), t_test) for net in nets])
    curve_rms = np.array(
        [math.sqrt(mse(net(torch.from_numpy(x_grid)), toy_curve(x_grid))) for net in nets]
    )
report("ch3_train_mse", train_mses, at_most=1.2 * bayes_mse, digits=5)
report("ch3_heldout_mse", heldout_mses, at_most=1.2 * bayes_mse, digits=5)
report("ch3_curve_rms", curve_rms, at_most=0.03, digits=3)
print("train MSE per seed:", np.round(train_mses, 5).tolist())

# %% [markdown]
# ## The same in two lines with `mdn_src`
#
# The library wraps this network as {py:class}`~mdn_src.mlp.MLP` (in `mdn_src/mlp.py`:
# `nn.Linear` layers with
# tanh between them, and `MLP.loss` is the MSE of {eq}`eq-mse`), and training as
# {py:func}`~mdn_src.training.fit`
# (`mdn_src/training/loop.py`: the loop above, full-batch by default, returning the loss of every
# epoch). One difference: `nn.Linear` initialises its weights its own way (uniform, scaled
# by fan-in), not like our hand-written tensors. From such starts, the post's settings
# (`optimizer="sgd"` with Nesterov momentum, full batch: the same deterministic gradient
# descent) can stall on the same shoulder. Of five starts (`torch.manual_seed(seed)`,
# seeds 0 to 4), {glue:text}`ch3_lib_stuck_count` are still above half the straight line's
# MSE {glue:text}`ch3_line_mse` after 2,000 epochs:

# %% tags=["nbval-ignore-output"]
sgd_histories = []
for seed in range(5):
    torch.manual_seed(seed)
    mlp = MLP(1, 1, hidden=15)
    sgd_histories.append(fit_cached(mlp, x_train, t_train, name=f"ch3-mlp-gd-seed{seed}", **sgd))
sgd_last = np.array([h.train[-1] for h in sgd_histories])
report("ch3_lib_stuck", sgd_last > 0.5 * line_mse, of="count", at_least=1)
print("MLP + full-batch GD with momentum, last epoch MSE per seed:", np.round(sgd_last, 4).tolist())

# %% [markdown]
# Full batch and a fixed start make the run deterministic: train the same network twice
# for a hundred epochs on one machine and the two loss curves agree to the last bit. (On
# another machine, whose arithmetic differs in the last bits, both curves would differ
# from these, and a long run would end elsewhere: that is why this chapter quotes its
# results over several starts.)

# %%
gd = {"epochs": 100, "lr": 0.09, "optimizer": "sgd", "momentum": 0.9, "nesterov": True}
runs = []
for _ in range(2):
    torch.manual_seed(0)
    runs.append(fit(MLP(1, 1, hidden=15), x_train, t_train, **gd))
print("two runs, identical loss curves:", np.array_equal(runs[0], runs[1]))

# %% [markdown]
# Adam {cite:p}`kingma2015adam` rescales each weight's step by a running estimate of its
# gradient's size. From the same five starts it gets across the flat stretch within 2,000
# epochs every time, even with a learning rate of 0.01:

# %% tags=["nbval-ignore-output"]
adam_mses, adam_rms, adam_histories = [], [], []
for seed in range(5):
    torch.manual_seed(seed)
    mlp = MLP(1, 1, hidden=15)
    adam_histories.append(
        fit_cached(mlp, x_train, t_train, name=f"ch3-mlp-adam-seed{seed}", epochs=2000, lr=0.01)
    )
    with torch.no_grad():
        adam_mses.append(mse(mlp(torch.from_numpy(x_train)), t_train))
        adam_rms.append(math.sqrt(mse(mlp(torch.from_numpy(x_grid)), toy_curve(x_grid))))
report("ch3_mlp_mse", adam_mses, at_most=1.2 * bayes_mse, digits=5)
report("ch3_mlp_curve_rms", adam_rms, at_most=0.03, digits=3)
# From the same starts as gradient descent above, no Adam run stays on the shoulder.
stuck = np.array(adam_mses) > 0.5 * line_mse
report("Adam: runs still above half the line's MSE", stuck, of="count", at_most=0, glue=False)
print("MLP + Adam, training MSE per seed:", np.round(adam_mses, 5).tolist())


# %% [markdown]
# The library's network reaches a training MSE of {glue:text}`ch3_mlp_mse` over the five
# starts (Bayes-optimal: {glue:text}`ch3_bayes_mse`), in every run within 20% of the floor,
# and its curve is {glue:text}`ch3_mlp_curve_rms` from $f(x)$ in root mean square, in
# every run below 0.03. For the forward problem, a network trained on the MSE does
# everything we could ask of it.
#
# ## Exercises
#
# ```{exercise}
# :label: ex-ch03-floor
#
# Compute by hand: if the noise were uniform on $(-0.2, 0.2)$ instead of $(-0.1, 0.1)$,
# what would the Bayes-optimal MSE of the forward problem be? (The variance of a uniform
# distribution on an interval of width $w$ is $w^2 / 12$.)
# ```
#
# ```{solution-start} ex-ch03-floor
# :class: dropdown
# ```
#
# The width doubles, so the variance, and with it the floor, grows four times:
# $0.4^2 / 12 = 0.04 / 3$. A Monte Carlo draw agrees:

# %%
half = 0.2
rng = np.random.default_rng(0)
eps_wide = rng.uniform(-half, half, 1_000_000)
print(f"by hand {(2 * half) ** 2 / 12:.5f}, Monte Carlo {eps_wide.var():.5f}")
print(f"times the book's floor: {(2 * half) ** 2 / 12 / bayes_mse:.1f}")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch03-gaussian-cost
#
# Minimising the MSE fits the Gaussian model {eq}`eq-gaussian-likelihood` with
# $s^2 = E_{\text{MSE}}$. Its average negative log-likelihood per point is then
# $\tfrac12 \ln(2 \pi e\, s^2)$. Evaluate it with $s^2$ set to the hand-written network's
# final training MSE (the median of the five runs), and compare it with the exact uniform
# density's $\ln 0.2$ per point (`oracle.bayes_nll()`). How many nats per point does assuming a Gaussian cost here?
# ```
#
# ```{solution-start} ex-ch03-gaussian-cost
# :class: dropdown
# ```

# %%
print(f"exact uniform density:            {oracle.bayes_nll():.4f} nats per point")
print(f"best Gaussian possible (oracle):  {oracle.best_gaussian_nll():.4f} nats per point")
best_cost = oracle.best_gaussian_nll() - oracle.bayes_nll()
print(f"so the least cost of a Gaussian:  {best_cost:.4f} nats")
inverse_gap = oracle.best_gaussian_nll(inverse=True) - oracle.bayes_nll(inverse=True)
print(f"the same on the inverse problem:  {inverse_gap:.4f} nats")
print(f"{inverse_gap / best_cost:.1f} times the least cost on the forward problem")

# %% tags=["nbval-ignore-output"]
gauss_nll = 0.5 * math.log(2 * math.pi * math.e * np.median(train_mses))
cost = gauss_nll - oracle.bayes_nll()
print(f"Gaussian with s^2 = training MSE: {gauss_nll:.4f} nats per point")
print(f"cost of the Gaussian assumption:  {cost:.4f} nats")
check(
    "the trained Gaussian costs within 0.05 nats of the best Gaussian's cost",
    bool(abs(cost - best_cost) <= 0.05),
    f"trained {cost:.4f}, best {best_cost:.4f}",
)

# %% [markdown]
# The Gaussian loses the difference printed above, per point on average, within a few
# hundredths of a nat of the least any Gaussian must lose: its tails and round top cannot
# match the flat band with sharp edges. The mean is right; the density is not. On the
# inverse problem of {ref}`ch-inverse`, where $p(x \mid t)$ can be split into separate
# intervals, even the best single Gaussian per input pays several times more.
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch03-minibatch
#
# Make the training actually stochastic: call `fit` as above (`optimizer="sgd"`, momentum
# 0.9, Nesterov, learning rate 0.09) for 30 epochs with `batch_size=250`, from the same
# initial weights (`torch.manual_seed(0)`), once with `seed=0` and once with `seed=1`
# (`seed` orders the mini-batches). Before running it: will the two final losses agree,
# as the full-batch runs did?
# ```
#
# ```{solution-start} ex-ch03-minibatch
# :class: dropdown
# ```

# %%
finals = []
for order_seed in (0, 1):
    torch.manual_seed(0)  # the same initial weights
    h = fit(MLP(1, 1, hidden=15), x_train, t_train, epochs=30, lr=0.09, optimizer="sgd",
            momentum=0.9, nesterov=True, batch_size=250, seed=order_seed)  # fmt: skip
    finals.append(float(h[-1]))
    print(f"batch order seed {order_seed}: last epoch MSE {h[-1]:.5f}")
print("identical:", finals[0] == finals[1])

# %% [markdown]
# They differ: each step now sees a random tenth of the data, so the gradient is a noisy
# estimate, and the order of the batches changes the path. That is stochastic gradient
# descent. (It also takes ten steps per epoch instead of one: 2,500 points in batches of
# 250.)
#
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: ex-ch03-one-unit
#
# Change the model and predict: give the library's `MLP` a single hidden unit
# (`hidden=1`) and train it with Adam (learning rate 0.05, 400 epochs) for seeds 0 to 4. Will its MSE end near the best straight line's {glue:text}`ch3_line_mse`, near the
# floor {glue:text}`ch3_bayes_mse`, or in between? Think about what shapes
# $w_2 \tanh(w_1 x + b_1) + b_2$ can take.
# ```
#
# ```{solution-start} ex-ch03-one-unit
# :class: dropdown
# ```

# %% tags=["nbval-ignore-output"]
one_unit = []
for seed in range(5):
    torch.manual_seed(seed)
    one = MLP(1, 1, hidden=1)
    fit_cached(one, x_train, t_train, name=f"ch3-one-unit-seed{seed}", epochs=400, lr=0.05)
    with torch.no_grad():
        one_unit.append(mse(one(x), t))
print("per seed:", np.round(one_unit, 5).tolist())
summary = report(
    "ch3_one_unit", one_unit, at_least=0.85 * line_mse, at_most=1.05 * line_mse, digits=5
)
print(f"one hidden unit: MSE {summary} (5 seeds)")
print(f"straight line {line_mse:.5f}, floor {bayes_mse:.5f}")

# %% [markdown]
# Near the straight line, far above the floor: every seed ends between 85% and 105% of the
# straight line's MSE, more than five times the floor. One tanh unit gives a monotone S-shaped
# curve: at best a line with its ends bent, never $f$'s bump and dip, which need the curve
# to rise, fall and rise again. Fitting the wiggle takes several units whose slopes add up.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - A one-hidden-layer tanh network, written with four tensors and autograd, fits the
#   forward problem to within 20% of the Bayes-optimal MSE $0.2^2/12$ (in every one of
#   five starts).
# - Minimising the MSE {eq}`eq-mse` is maximum likelihood under the Gaussian model
#   {eq}`eq-gaussian-likelihood`, whatever the noise variance $s^2$. The Gaussian is an
#   assumption, not a property of the data.
# - Full-batch gradient descent with momentum (`torch.optim.SGD` given all the data at
#   every step, so not stochastic at all) can sit on a shoulder, here the best straight
#   line, for hundreds of epochs. How long depends on where training starts; from the
#   library's starts, Adam got across in every run where gradient descent sometimes did
#   not.
# - `MLP` and `fit` from `mdn_src` do the same in two lines.
#
# Next, {ref}`ch-inverse` swaps the roles of $x$ and $t$. The same network, trained the
# same way, fails, and the MSE tells us exactly why.
