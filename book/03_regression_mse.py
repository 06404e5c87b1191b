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

from mdn_src import MLP, fit, make_toy_data, mse, oracle, plotting, test_grid, toy_curve

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count
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
# floor no model can go below on average (`mdn_src/oracle.py` computes it).

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

# %%
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
glue("ch3_loss_250", round(float(history[250]), 4), display=False)
spike = 500 + int(np.argmax(history[500:]))  # the largest loss after the shoulder
glue("ch3_spike_epoch", spike, display=False)
glue("ch3_spike_mse", round(float(history[spike]), 3), display=False)
print(f"best straight line: MSE {line_mse:.4f}; network at epoch 250: {history[250]:.4f}")
print(f"spike at epoch {spike}: MSE {history[spike]:.3f}")

# %% mystnb={"figure": {"caption": "The MSE of the hand-written network during training (log scale; solid), with the best straight line's MSE (dash-dotted) and the Bayes-optimal MSE (dashed) as the floor. The shoulder sits near the straight line's level.", "name": "fig-ch3-loss"}, "image": {"alt": "A falling loss curve that flattens for a few hundred epochs near a dash-dotted horizontal line, the best straight line's MSE, then drops again and ends just above a dashed horizontal line, the Bayes-optimal MSE."}}
fig, ax = plotting.plot_loss(
    history, "MSE", reference=bayes_mse, reference_label="Bayes-optimal MSE"
)
ax.axhline(line_mse, color=plotting.COLORS["other"], ls="-.", lw=1.5, label="best straight line")
ax.set_yscale("log")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# {numref}`fig-ch3-loss` tells a two-part story. The loss first falls fast, then lands on
# a shoulder: at epoch 250 it is still {glue:text}`ch3_loss_250`, just below the best
# straight line's MSE, {glue:text}`ch3_line_mse` (the dash-dotted line). That level is no
# accident. The network first finds roughly that line, and bending it into the wiggle of
# $f$ takes many small steps on a nearly flat stretch of the loss. Once it does, the loss
# drops again and creeps towards the floor. How long gradient descent sits on such a
# shoulder depends on where it starts: with `torch.manual_seed(0)` our run got off it in
# time, but from the library's initialisation below it is still there at epoch 2,000. A
# flat loss curve does not
# always mean the network is done.
#
# The spike at epoch {glue:text}`ch3_spike_epoch`, where the loss jumps to
# {glue:text}`ch3_spike_mse` for a moment, is most likely momentum overshooting: the
# velocity built up over hundreds of small steps carries the weights too far where the
# loss surface turns steep, and the following steps bring them back. The run recovers
# within a few dozen epochs.

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

# %% mystnb={"figure": {"caption": "The hand-written network after 2,000 epochs (solid) over the training data (circles), with the exact curve $f(x)$ (dashed).", "name": "fig-ch3-fit"}, "image": {"alt": "A scatter of points along a wavy rising band; a solid curve, the network, runs through the middle of the band, nearly on top of a dashed curve, the exact f(x)."}}
fig, ax = plotting.new_axes("$x$", "$t$")
plotting.plot_data(ax, x_train, t_train)
plotting.plot_curve(ax, x_grid, y_grid, label="network $y(x, \\mathbf{w})$")
plotting.plot_curve(ax, x_grid, toy_curve(x_grid), label="exact $f(x)$", kind="exact", style="--")
plotting.finish(ax)
plt.show()

# %% [markdown]
# In {numref}`fig-ch3-fit` the network runs through the middle of the band, on top of
# $f(x)$. The numbers agree. The final training MSE is {glue:text}`ch3_train_mse`, against
# the Bayes-optimal {glue:text}`ch3_bayes_mse`; on 20,000 fresh points (`seed=1`) it is
# {glue:text}`ch3_heldout_mse`. The mean squared distance between the network's curve and
# $f(x)$ over the grid is {glue:text}`ch3_curve_mse:.1e`: the curve is off by about
# {glue:text}`ch3_curve_rms` (root mean square), well inside the noise band's
# half-width of 0.1.

# %%
x_test, t_test = make_toy_data(20_000, seed=1)
with torch.no_grad():
    train_mse = mse(forward(x), t)
    heldout_mse = mse(forward(torch.from_numpy(x_test)), t_test)
curve_mse = mse(y_grid, toy_curve(x_grid))
glue("ch3_train_mse", round(train_mse, 5), display=False)
glue("ch3_heldout_mse", round(heldout_mse, 5), display=False)
glue("ch3_curve_mse", float(f"{curve_mse:.1e}"), display=False)
glue("ch3_curve_rms", round(math.sqrt(curve_mse), 3), display=False)
print(f"train {train_mse:.5f}  held-out {heldout_mse:.5f}  vs f(x) {curve_mse:.1e}")

# %% [markdown]
# ## The same in two lines with `mdn_src`
#
# The library wraps this network as {py:class}`~mdn_src.model.MLP` (in `mdn_src/model.py`:
# `nn.Linear` layers with
# tanh between them, and `MLP.loss` is the MSE of {eq}`eq-mse`), and training as
# {py:func}`~mdn_src.train.fit`
# (`mdn_src/train.py`: the loop above, full-batch by default, returning the loss of every
# epoch). One difference: `nn.Linear` initialises its weights its own way (uniform, scaled
# by fan-in), not like our hand-written tensors. From that start, the post's settings
# (`optimizer="sgd"` with Nesterov momentum, full batch: the same deterministic gradient
# descent) stall on the same shoulder. After 2,000 epochs the loss is still
# {glue:text}`ch3_mlp_sgd_mse`, close to the straight line's {glue:text}`ch3_line_mse`:

# %%
torch.manual_seed(0)
mlp = MLP(1, 1, hidden=15)
sgd_history = fit(
    mlp, x_train, t_train, epochs=2000, lr=0.09, optimizer="sgd", momentum=0.9, nesterov=True
)
glue("ch3_mlp_sgd_mse", round(float(sgd_history[-1]), 4), display=False)
print(f"MLP + full-batch GD with momentum, last epoch: MSE {sgd_history[-1]:.4f}")

# %% [markdown]
# Full batch and a fixed start make the run deterministic: train the same network twice
# for a hundred epochs and the two loss curves agree to the last bit.

# %%
gd = {"epochs": 100, "lr": 0.09, "optimizer": "sgd", "momentum": 0.9, "nesterov": True}
runs = []
for _ in range(2):
    torch.manual_seed(0)
    runs.append(fit(MLP(1, 1, hidden=15), x_train, t_train, **gd))
print("two runs, identical loss curves:", np.array_equal(runs[0], runs[1]))

# %% [markdown]
# Adam {cite:p}`kingma2015adam` rescales each weight's step by a running estimate of its
# gradient's size. From the same start it gets across the flat stretch well within 2,000
# epochs, even with a learning rate of 0.01:

# %%
torch.manual_seed(0)
mlp = MLP(1, 1, hidden=15)
adam_history = fit(mlp, x_train, t_train, epochs=2000, lr=0.01)
with torch.no_grad():
    mlp_mse = mse(mlp(torch.from_numpy(x_train)), t_train)
    mlp_curve_mse = mse(mlp(torch.from_numpy(x_grid)), toy_curve(x_grid))
glue("ch3_mlp_mse", round(mlp_mse, 5), display=False)
glue("ch3_mlp_curve_mse", float(f"{mlp_curve_mse:.1e}"), display=False)
print(f"MLP + Adam: train MSE {mlp_mse:.5f}  vs f(x) {mlp_curve_mse:.1e}")

# %% [markdown]
# The library's network reaches a training MSE of {glue:text}`ch3_mlp_mse` (Bayes-optimal:
# {glue:text}`ch3_bayes_mse`), and its curve is {glue:text}`ch3_mlp_curve_mse:.1e` from $f(x)$
# in mean squared distance. For the forward problem, a network trained on the MSE does
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
# final training MSE, and compare it with the exact uniform density's $\ln 0.2$ per point
# (`oracle.bayes_nll()`). How many nats per point does assuming a Gaussian cost here?
# ```
#
# ```{solution-start} ex-ch03-gaussian-cost
# :class: dropdown
# ```

# %%
gauss_nll = 0.5 * math.log(2 * math.pi * math.e * train_mse)
print(f"Gaussian with s^2 = training MSE: {gauss_nll:.4f} nats per point")
print(f"exact uniform density:            {oracle.bayes_nll():.4f} nats per point")
print(f"cost of the Gaussian assumption:  {gauss_nll - oracle.bayes_nll():.4f} nats")
print(f"best Gaussian possible (oracle):  {oracle.best_gaussian_nll():.4f} nats per point")
inverse_gap = oracle.best_gaussian_nll(inverse=True) - oracle.bayes_nll(inverse=True)
print(f"the same cost on the inverse problem: {inverse_gap:.4f} nats")

# %% [markdown]
# The Gaussian loses the difference printed above, per point on average: its tails and round top
# cannot match the flat band with sharp edges. The mean is right; the density is not. On
# the inverse problem of {ref}`ch-inverse`, where $p(x \mid t)$ can be split into
# separate intervals, even the best single Gaussian per input pays several times more.
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
# (`hidden=1`) and train it with Adam (learning rate 0.05, 400 epochs) for seeds 0, 1
# and 2. Will its MSE end near the best straight line's {glue:text}`ch3_line_mse`, near the
# floor {glue:text}`ch3_bayes_mse`, or in between? Think about what shapes
# $w_2 \tanh(w_1 x + b_1) + b_2$ can take.
# ```
#
# ```{solution-start} ex-ch03-one-unit
# :class: dropdown
# ```

# %%
one_unit = []
for seed in range(3):
    torch.manual_seed(seed)
    one = MLP(1, 1, hidden=1)
    fit(one, x_train, t_train, epochs=400, lr=0.05)
    with torch.no_grad():
        one_unit.append(mse(one(x), t))
one_unit = np.array(one_unit)
print("per seed:", np.round(one_unit, 5).tolist())
print(f"one hidden unit: MSE {one_unit.mean():.5f} +- {one_unit.std(ddof=1):.5f} (3 seeds)")
print(f"straight line {line_mse:.5f}, floor {bayes_mse:.5f}")

# %% [markdown]
# Near the straight line, far above the floor. One tanh unit gives a monotone S-shaped
# curve: at best a line with its ends bent, never $f$'s bump and dip, which need the curve
# to rise, fall and rise again. Fitting the wiggle takes several units whose slopes add up.
#
# ```{solution-end}
# ```
#
# ## What you learnt
#
# - A one-hidden-layer tanh network, written with four tensors and autograd, fits the
#   forward problem to within a hair of the Bayes-optimal MSE $0.2^2/12$.
# - Minimising the MSE {eq}`eq-mse` is maximum likelihood under the Gaussian model
#   {eq}`eq-gaussian-likelihood`, whatever the noise variance $s^2$. The Gaussian is an
#   assumption, not a property of the data.
# - Full-batch gradient descent with momentum (`torch.optim.SGD` given all the data at
#   every step, so not stochastic at all) can sit on a shoulder, here the best straight
#   line, for hundreds of epochs. How long depends on where training starts; Adam gets
#   across sooner.
# - `MLP` and `fit` from `mdn_src` do the same in two lines.
#
# Next, {ref}`ch-inverse` swaps the roles of $x$ and $t$. The same network, trained the
# same way, fails, and the MSE tells us exactly why.
