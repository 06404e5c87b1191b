r"""A Gaussian MDN's training step written out by hand: what ``fit`` runs for it.

:func:`~mdn_src.fast.fused_adam_step` is the whole step as one function, compiled for
``fit(compile=True)``; :func:`~mdn_src.fast.closed_form_gradients` is its gradient alone
(and an MLP's MSE gradient), for ``fit``'s eager loop, bit for bit autograd's;
:func:`~mdn_src.fast.compile_options` names the CPU's vector width for ``torch.compile``.

Autograd records the forward pass and replays it backwards; an optimizer object then walks
its parameter list. For the MDN's fast path (a tanh trunk and a Gaussian head whose NLL has
a closed-form gradient, :func:`mdn_src.fast.gaussian_head_nll`) the whole backward pass is
three short lines of linear algebra, so the step can be written out by hand: the forward
pass, the head gradient :math:`G = \partial E / \partial a` (``[S, N]``, K-major), back
through each layer, then Adam. Compiled, this is one graph with no autograd bookkeeping and
no optimizer object between the kernels.

With the activations kept K-major, :math:`h_0 = x^\top` and
:math:`h_l = \tanh(W_l h_{l-1} + b_l)` (``[H_l, N]``), the head's outputs are
:math:`a = W h_L + b` and, walking back from :math:`g = G`,

.. math::

    \frac{\partial E}{\partial W_l} = g\, h_{l-1}^\top, \qquad
    \frac{\partial E}{\partial b_l} = g\, \mathbf 1, \qquad
    g \leftarrow (W_l^\top g) \odot (1 - h_{l-1}^2),

the last being the tanh's derivative written with its output. Adam's update is torch's
(``torch.optim.Adam`` with ``weight_decay`` as an L2 term added to the gradient): with
:math:`m \leftarrow m + (1 - \beta_1)(g - m)`, :math:`v \leftarrow \beta_2 v +
(1 - \beta_2) g^2` and step count :math:`s`,

.. math::

    w \leftarrow w - \frac{\eta}{1 - \beta_1^s}
        \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^s} + \epsilon}.

The bias corrections are computed in float64 from a float64 step count, as torch computes
them on the host in Python floats, so float64 training matches the eager loop to rounding.
The tests compare the step, uncompiled and compiled, with autograd and ``torch.optim.Adam``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..checks import positive_float
from ..mlp import MLP
from ..model import MDN
from .head import gaussian_head_nll_and_gradient

__all__ = [
    "BETAS",
    "EPS",
    "ClosedFormGradients",
    "FusedAdam",
    "FusedAdamStep",
    "closed_form_gradients",
    "compile_options",
    "fused_adam_step",
    "has_closed_form",
]


def compile_options(device: torch.device | str) -> dict:
    """Inductor options that make ``torch.compile`` right on ``device``'s CPU.

    When ``ATEN_CPU_CAPABILITY`` pins eager kernels to a narrower instruction set than the
    CPU has (a user may set it; ``.ci/float-env b`` does), inductor left to choose its own
    vector width (torch 2.13) generated loops for one width and compiled them for the
    other: wrong sums, silently. Naming the width, the one eager kernels use, keeps the two
    in step; the tests compare compiled and eager losses and gradients to 1e-10 under a
    pin.
    """
    if torch.device(device).type != "cpu":
        return {}
    width = {"AVX512": 512, "AVX2": 256}.get(torch.backends.cpu.get_cpu_capability())
    return {} if width is None else {"cpp.simdlen": width}


#: Adam's defaults in torch, the ones ``fit`` uses.
BETAS = (0.9, 0.999)
EPS = 1e-8


def _adam_mdn_step(
    weights: list[torch.Tensor],
    biases: list[torch.Tensor],
    exp_avg: list[torch.Tensor],
    exp_avg_sq: list[torch.Tensor],
    step: torch.Tensor,
    hyper: torch.Tensor,
    x: torch.Tensor,
    t: torch.Tensor,
    n_components: int,
    isotropic: bool,
    sigma_min: float,
    decay: bool,
) -> torch.Tensor:
    """One step in place: returns the loss before it. ``weights`` and ``biases`` run from
    the first layer to the head; ``exp_avg`` and ``exp_avg_sq`` follow ``weights + biases``;
    ``step`` is Adam's float64 step count ``[1]``, ``hyper`` float64 ``[lr, weight_decay]``."""
    beta1, beta2 = BETAS
    hs = [x.T]  # h_0 .. h_L, K-major: [features, N]
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        hs.append(torch.tanh(torch.addmm(b.unsqueeze(1), w, hs[-1])))
    a_t = torch.addmm(biases[-1].unsqueeze(1), weights[-1], hs[-1])  # [S, N]
    loss, g = gaussian_head_nll_and_gradient(
        a_t, t.T.contiguous(), n_components, isotropic, sigma_min
    )
    grads_w, grads_b = [], []
    for layer in range(len(weights) - 1, -1, -1):
        grads_w.append(g @ hs[layer].T)
        grads_b.append(g.sum(1))
        if layer:
            g = (weights[layer].T @ g) * (1 - hs[layer] * hs[layer])
    grads = grads_w[::-1] + grads_b[::-1]

    step.add_(1)
    lr, weight_decay = hyper[0], hyper[1]
    step_size = lr / (1 - beta1**step)  # float64, as torch's host arithmetic
    bias2_sqrt = (1 - beta2**step).sqrt()
    for p, grad, m, v in zip(weights + biases, grads, exp_avg, exp_avg_sq, strict=True):
        if decay:
            grad = grad + weight_decay.to(p.dtype) * p
        m.lerp_(grad, 1 - beta1)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = v.sqrt() / bias2_sqrt.to(p.dtype) + EPS
        p.sub_(step_size.to(p.dtype) * (m / denom))
    return loss


def has_closed_form(model: nn.Module) -> bool:
    """Whether ``model`` is an MDN whose step this module can write out: a Gaussian head
    with the closed-form gradient (:attr:`MDN.closed_form_head
    <mdn_src.model.MDN.closed_form_head>`) on a tanh trunk, no method that computes the
    loss overridden, every parameter trainable."""
    return (
        isinstance(model, MDN)
        # A subclass that changes the loss or the network is trained as it defines them.
        and type(model).training_loss is MDN.training_loss
        and type(model).output_activations is MDN.output_activations
        and [type(m) for m in model.trunk] == [nn.Linear, nn.Tanh] * len(model.hidden)
        and model.closed_form_head
        # A frozen parameter keeps no gradient under autograd, and Adam leaves it alone.
        and all(p.requires_grad for p in model.parameters())
    )


def _is_plain_mlp(model: nn.Module) -> bool:
    """Whether ``model`` is an MLP trained by its own MSE, with a tanh trunk."""
    return (
        isinstance(model, MLP)
        and type(model).loss is MLP.loss
        and type(model).forward is MLP.forward
        and not callable(getattr(model, "training_loss", None))
        and [type(m) for m in model.trunk] == [nn.Linear, nn.Tanh] * (len(model.trunk) // 2)
        and all(p.requires_grad for p in model.parameters())
    )


def _layers(model: MDN) -> tuple[list[nn.Linear], tuple[int, bool, float]]:
    """The trunk's linear layers, first to last, and the head loss's constants
    ``(n_components, isotropic, sigma_min)``."""
    linears = [m for m in model.trunk if isinstance(m, nn.Linear)]
    spec = model.spec
    return linears, (model.n_components, spec.covariance == "isotropic", spec.sigma_min)


class ClosedFormGradients:
    """``grads(x, t) -> loss``: the eager training step's gradient without autograd.

    Built by :func:`closed_form_gradients`. Each call evaluates the model's training loss
    (an MDN's ``training_loss(x, t)``, an MLP's MSE ``loss(x, t)``) under
    ``torch.no_grad()``, sets every parameter's ``.grad`` (replacing what was there) and
    returns the loss. ``x`` ``[N, in_features]`` and ``t`` ``[N, D]`` must already be
    tensors of the model's dtype and device, as ``fit`` passes them: this is the training
    loop's hot path, and nothing is checked or converted. The operations are those autograd runs backwards, in the same
    layouts, so the gradients are the same bit for bit (the tests compare them with
    ``torch.equal``): what it saves is autograd's bookkeeping, recording the graph and
    walking it, about a tenth of the eager step of the post's configuration and a third of
    a small MLP's.
    """

    def __init__(self, model: MDN | MLP):
        self._mse = isinstance(model, MLP)
        self._linears = [m for m in model.trunk if isinstance(m, nn.Linear)]
        self._constants = None if self._mse else _layers(model)[1]
        self._head = model.head

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            hs = [x]  # the layers' outputs, [N, features], as the trunk computes them
            for linear in self._linears:
                hs.append(torch.tanh(nn.functional.linear(hs[-1], linear.weight, linear.bias)))
            head = self._head
            if self._mse:
                pred = nn.functional.linear(hs[-1], head.weight, head.bias)
                loss = nn.functional.mse_loss(pred, t)
                # MSE's backward as autograd calls it (reduction 1: the mean), from dE/dE = 1.
                g = torch.ops.aten.mse_loss_backward(torch.ones_like(loss), pred, t, 1)
                head.weight.grad = g.t().mm(hs[-1])
                head.bias.grad = g.sum(0)
            else:
                a_t = torch.addmm(head.bias.unsqueeze(1), head.weight, hs[-1].T)  # [S, N]
                loss, g = gaussian_head_nll_and_gradient(a_t, t.T.contiguous(), *self._constants)
                head.weight.grad = g.mm(hs[-1])
                head.bias.grad = g.sum(1)
                g = g.t()  # [N, S]: the product below in autograd's layout
            g = g.mm(head.weight)  # [N, H]
            for i in range(len(self._linears) - 1, -1, -1):
                linear = self._linears[i]
                g = torch.ops.aten.tanh_backward(g, hs[i + 1])
                linear.weight.grad = g.t().mm(hs[i])
                linear.bias.grad = g.sum(0)
                if i:
                    g = g.mm(linear.weight)
        return loss


def closed_form_gradients(model: nn.Module) -> ClosedFormGradients | None:
    """The gradient of ``model``'s loss without autograd, where ``fit`` trains eagerly.

    Returns a :class:`ClosedFormGradients` for a model :func:`fused_adam_step` accepts,
    and for an :class:`~mdn_src.mlp.MLP` with its MSE loss and a tanh trunk (every
    parameter trainable, no subclass overriding the loss or the forward pass), else
    ``None``. Any optimizer can then step on the gradients it sets.

    Example:
        >>> mdn = MDN(1, 1, n_components=3, hidden=8)
        >>> x = torch.linspace(0, 1, 20).unsqueeze(1)
        >>> loss = closed_form_gradients(mdn)(x, x.sin())
        >>> grads = [p.grad.clone() for p in mdn.parameters()]
        >>> mdn.zero_grad()
        >>> mdn.training_loss(x, x.sin()).backward()
        >>> [torch.equal(g, p.grad) for g, p in zip(grads, mdn.parameters())]
        [True, True, True, True]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    eligible = has_closed_form(model) or _is_plain_mlp(model)
    return ClosedFormGradients(model) if eligible else None


class FusedAdamStep:
    """``step(x, t) -> loss``: one training step of ``model``, holding its Adam state.

    Built by :func:`fused_adam_step`. Each call takes one step on inputs ``x``
    ``[N, in_features]`` and targets ``t`` ``[N, D]`` (tensors of the model's dtype and
    device, unchecked: this is the training loop's hot path) and returns the mean NLL
    before it, a scalar tensor. The weights are updated in place under
    ``torch.no_grad()``; Adam's moments are :attr:`exp_avg` and :attr:`exp_avg_sq` (in
    the order of :attr:`weights` then :attr:`biases`) and :attr:`step` counts the steps.
    """

    def __init__(self, model: MDN, lr: float, weight_decay: float, compile: bool):
        trunk, constants = _layers(model)
        linears = [*trunk, model.head]
        #: The weight matrices, first layer to head.
        self.weights = [m.weight for m in linears]
        #: The biases, in the same order.
        self.biases = [m.bias for m in linears]
        params = self.weights + self.biases
        device = params[0].device
        #: Adam's first moments, one per parameter.
        self.exp_avg = [torch.zeros_like(p) for p in params]
        #: Adam's second moments.
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        # Shape [1], not a 0-d tensor: compiled, an in-place add to a 0-d CPU input was
        # lost (torch 2.13), so every step would have been the first.
        #: The number of steps taken, a float64 tensor of shape ``[1]``.
        self.step = torch.zeros(1, dtype=torch.float64, device=device)
        self._hyper = torch.tensor([lr, weight_decay], dtype=torch.float64, device=device)
        self._constants = (*constants, weight_decay > 0)
        self._fn = (
            torch.compile(_adam_mdn_step, fullgraph=True, options=compile_options(device))
            if compile
            else _adam_mdn_step
        )

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self._fn(
                self.weights, self.biases, self.exp_avg, self.exp_avg_sq, self.step, self._hyper,
                x, t, *self._constants,
            )  # fmt: skip


def fused_adam_step(
    model: nn.Module, lr: float, weight_decay: float = 0.0, *, compile: bool = True
) -> FusedAdamStep | None:
    """One function per training step for a Gaussian MDN: what ``fit(compile=True)`` uses.

    Arguments:
        model: the model to train, in place.
        lr: Adam's learning rate, > 0 (constant).
        weight_decay: L2 penalty, >= 0, as torch's Adam adds it to the gradient.
        compile: compile the step with ``torch.compile`` (with :func:`compile_options`) on
            its first call, seconds once per process and model shape; ``False`` runs the
            same function eagerly.

    Returns:
        A :class:`FusedAdamStep`, or ``None`` when ``model`` is not an
        :class:`~mdn_src.model.MDN` whose loss has the closed-form gradient (a Gaussian
        with isotropic or diagonal scales through softplus, the default) on its tanh
        trunk; a subclass that redefines the loss or the network gets ``None`` too.

    Example:
        >>> mdn = MDN(1, 1, n_components=3, hidden=8)
        >>> step = fused_adam_step(mdn, lr=0.01, compile=False)
        >>> x = torch.linspace(0, 1, 20).unsqueeze(1)
        >>> losses = [step(x, x.sin()).item() for _ in range(5)]
        >>> losses[-1] < losses[0], step.step.item()
        (True, 5.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    lr = positive_float(lr, "lr")
    weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {type(compile).__name__}")
    if not has_closed_form(model):
        return None
    return FusedAdamStep(model, lr, weight_decay, compile)


class FusedAdam:
    """``torch.optim.Adam(params, lr, weight_decay=weight_decay, fused=True)`` at a constant
    learning rate, without the optimizer object: the same state (float32 step counts, the
    two moment buffers) and the same kernel, so the same bits (``tests/test_fast.py``).

    The optimizer object imports ``torch._dynamo`` the first time it is built or stepped, to
    keep the compiler out of its methods: about 2 s a process, which every chapter paid
    before its first epoch. ``fit`` uses this class only where nothing needs the object (no
    schedule) and the parameters share one device and one floating dtype.
    """

    def __init__(self, params: list[torch.Tensor], lr: float, weight_decay: float) -> None:
        self.params = params
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sqs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in params
        ]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    @staticmethod
    def supports(params: list[torch.Tensor], device: torch.device) -> bool:
        """Whether the fused kernel takes these parameters, as one group."""
        return (
            hasattr(torch, "_fused_adam_")
            and device.type in ("cpu", "cuda")
            and len({(p.device, p.dtype) for p in params}) == 1
            and params[0].is_floating_point()
        )

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        # As Adam: a parameter without a gradient is skipped, and its state left alone.
        have = [i for i, p in enumerate(self.params) if p.grad is not None]
        if len(have) == len(self.params):
            params, grads = self.params, [p.grad for p in self.params]
            exp_avgs, exp_avg_sqs, steps = self.exp_avgs, self.exp_avg_sqs, self.steps
        else:
            params = [self.params[i] for i in have]
            grads = [p.grad for p in params]
            exp_avgs = [self.exp_avgs[i] for i in have]
            exp_avg_sqs = [self.exp_avg_sqs[i] for i in have]
            steps = [self.steps[i] for i in have]
            if not params:
                return
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=self.lr,
            beta1=0.9, beta2=0.999, weight_decay=self.weight_decay, eps=1e-8, maximize=False,
        )  # fmt: skip
