r"""The closed-form loss of a Gaussian MDN head: the NLL and its gradient in one pass.

Internal API, public so that benchmarks and tests need no private names: what ``fit`` runs
for a Gaussian MDN with isotropic or diagonal scales. The reference is the autograd path,
:func:`mdn_src.loss.nll`, which the tests compare it against.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "EXP_FLOOR",
    "GaussianHeadNLL",
    "compiled_form_nll_and_gradient",
    "gaussian_head_nll",
    "gaussian_head_nll_and_gradient",
]

#: Exponents are floored here before ``exp`` in the fast path: ``exp(-60)`` is 8.8e-27, so a
#: term that small changes a sum of terms of order one by nothing float64 can represent.
EXP_FLOOR = -60.0


class GaussianHeadNLL(torch.autograd.Function):
    r"""Mean NLL of a Gaussian mixture straight from the head's raw outputs, with its
    gradient computed in closed form (PRML eqs. 5.155-5.157) during the forward pass.

    Autograd would record about twenty elementwise operations and replay each backwards;
    here the backward pass is one multiplication. The raw outputs come K-major, ``[S, N]``
    (one row per output, one column per point): each quantity is a contiguous block of
    rows, and the sums over components run across rows, which vectorises over the ``N``
    points (a ``[N, K]`` layout reduces along runs of only ``K`` numbers). For raw outputs
    :math:`a = [a^\pi, a^\mu, a^\sigma]` and responsibilities :math:`\gamma_{nk}`, the
    gradient of :math:`E = -\frac1N \sum_n \ln p(t_n \mid x_n)` is

    .. math::

        \frac{\partial E}{\partial a^\pi_{nk}} = \frac{\pi_{nk} - \gamma_{nk}}{N}, \quad
        \frac{\partial E}{\partial \mu_{nkd}} = \frac{\gamma_{nk}}{N}
            \frac{\mu_{nkd} - t_{nd}}{\sigma_{nkd}^2}, \quad
        \frac{\partial E}{\partial \sigma_{nkd}} = \frac{\gamma_{nk}}{N}
            \Big(\frac{1}{\sigma_{nkd}} - \frac{(t_{nd} - \mu_{nkd})^2}{\sigma_{nkd}^3}\Big),

    summed over ``d`` for an isotropic :math:`\sigma_{nk}`, and
    :math:`\partial \sigma / \partial a^\sigma = \operatorname{sigmoid}(a^\sigma)`.
    """

    @staticmethod
    def forward(ctx, a_t, t_t, n_components: int, isotropic: bool, sigma_min: float):
        """The mean NLL of targets ``t_t`` under raw outputs ``a_t`` (K-major, ``[S, N]``);
        saves its gradient with respect to ``a_t`` for :meth:`backward` when one is needed."""
        with_grad = ctx.needs_input_grad[0]
        if torch.compiler.is_compiling():
            loss, grad = compiled_form_nll_and_gradient(a_t, t_t, n_components, isotropic,
                                                    sigma_min)  # fmt: skip
        else:
            loss, grad = _nll_and_gradient_eager(a_t, t_t, n_components, isotropic, sigma_min,
                                                 with_grad)  # fmt: skip
        if with_grad:
            ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        """The saved gradient times ``grad_output``, for ``a_t``; no gradient for the rest."""
        (grad,) = ctx.saved_tensors
        # ``loss.backward()`` passes a gradient of exactly 1: multiplying by it would write a
        # fresh [S, N] tensor (about 5% of a training step on the CPU). Reading its value is
        # free on the CPU; elsewhere it would wait for the device (and a compiled graph
        # cannot branch on it), so there we multiply.
        if (
            not torch.compiler.is_compiling()
            and grad_output.device.type == "cpu"
            and grad_output.item() == 1.0
        ):
            return grad, None, None, None, None
        return grad * grad_output, None, None, None, None


def _nll_and_gradient_eager(a_t, t_t, n_components: int, isotropic: bool, sigma_min: float,
                            with_grad: bool):  # fmt: skip
    """The forward of :class:`GaussianHeadNLL`, eager: in-place where it saves a pass."""
    K, (D, N) = n_components, t_t.shape
    sizes = (K, K * D, K if isotropic else K * D)
    a_pi, a_mu, a_sigma = a_t.split(sizes, dim=0)  # row blocks: contiguous
    log_pi = torch.log_softmax(a_pi, dim=0)  # [K, N]
    diff = t_t.unsqueeze(0) - a_mu.view(K, D, N)  # t - mu, [K, D, N]
    sigma = torch.nn.functional.softplus(a_sigma).add_(sigma_min)  # [K or K*D, N]
    inv_var = sigma.pow(-2)
    if isotropic:
        # With one target dimension the sum over it and the factor D are skipped: the
        # same values bit for bit, two fewer passes over [K, N].
        sq = diff.square().squeeze(1) if D == 1 else diff.square().sum(1)  # [K, N]
        log_sigma = sigma.log() if D == 1 else D * sigma.log()
        log_joint = log_pi - 0.5 * sq * inv_var - log_sigma
    else:
        sq = diff.square()  # [K, D, N]
        inv_var = inv_var.view(K, D, N)
        log_joint = log_pi - 0.5 * (sq * inv_var).sum(1) - sigma.log().view(K, D, N).sum(1)
    log_joint -= 0.5 * D * math.log(2 * math.pi)
    # logsumexp by hand, flooring exponents at EXP_FLOOR: exp of a float below about
    # -87 (where it underflows) takes a slow path, 50x slower per element (torch 2.13,
    # CPU), and a trained mixture puts most components that far from most points.
    peak = log_joint.amax(0)  # [N]
    shifted = (log_joint - peak).clamp_min_(EXP_FLOOR)  # [K, N], <= 0
    log_p = shifted.exp().sum(0).log_().add_(peak)  # [N]
    grad = None
    if with_grad:
        grad = _head_gradient_in_place(
            a_t, sizes, shifted, log_p - peak, log_pi, diff, sq, inv_var, sigma, a_sigma,
            N, K, D, isotropic,
        )  # fmt: skip
    return -log_p.mean(), grad


def _head_gradient_in_place(a_t, sizes, shifted, log_norm, log_pi, diff, sq, inv_var, sigma,
                            a_sigma, N, K, D, isotropic):  # fmt: skip
    """The gradient of :class:`GaussianHeadNLL`, eager: each block written straight into
    one ``[S, N]`` buffer (``out=`` into its row views), reusing the forward's buffers."""
    n, d = float(N), float(D)  # float scalars: no int-to-float tensor conversion per call
    gamma = shifted.sub_(log_norm).clamp_min_(EXP_FLOOR).exp_().div_(n)  # gamma / N, [K, N]
    grad = torch.empty_like(a_t)
    g_pi, g_mu, g_sigma = grad.split(sizes, dim=0)
    torch.sub(log_pi.clamp_min_(EXP_FLOOR).exp_().div_(n), gamma, out=g_pi)
    g_mu = g_mu.view(K, D, N)
    if isotropic and D == 1:  # two-dimensional views: the same values, a faster kernel
        torch.mul(diff.view(K, N), (gamma * inv_var).neg_(), out=g_mu.view(K, N))
        torch.div(gamma.mul_(d - sq * inv_var), sigma, out=g_sigma)
    elif isotropic:
        torch.mul(diff, (gamma * inv_var).neg_().unsqueeze(1), out=g_mu)
        torch.div(gamma.mul_(d - sq * inv_var), sigma, out=g_sigma)
    else:
        torch.mul(diff, gamma.unsqueeze(1) * inv_var.neg(), out=g_mu)
        torch.div((gamma.unsqueeze(1) * (1 - sq * inv_var)).view(K * D, N), sigma, out=g_sigma)
    g_sigma.mul_(torch.sigmoid(a_sigma))
    return grad


def gaussian_head_nll_and_gradient(
    a_t: torch.Tensor, t_t: torch.Tensor, n_components: int, isotropic: bool, sigma_min: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The mean NLL of :func:`gaussian_head_nll` and its closed-form gradient, as tensors.

    Arguments as for :func:`gaussian_head_nll`. Returns ``(loss, grad)``: the scalar mean
    NLL and :math:`\partial E / \partial a`, ``[S, N]`` like ``a_t``, with no autograd
    graph between them (:mod:`mdn_src.fast.step` backpropagates from it by hand).
    Eagerly, the values are bit for bit those of :func:`gaussian_head_nll` and the gradient
    its ``backward`` gives; under ``torch.compile``, its compiled formulation's. Unchecked.
    """
    if torch.compiler.is_compiling():
        return compiled_form_nll_and_gradient(a_t, t_t, n_components, isotropic, sigma_min)
    return _nll_and_gradient_eager(a_t, t_t, n_components, isotropic, sigma_min, True)


def compiled_form_nll_and_gradient(a_t, t_t, K: int, isotropic: bool, sigma_min: float):
    """The mean NLL and its closed-form gradient written for ``torch.compile`` (internal
    API, public so that a test can run it eagerly against the eager formulation): no
    ``out=`` or in-place writes (into views of one buffer they compiled to wrong values,
    torch 2.13, CPU), and each transcendental function evaluated once per element and
    shared, since the compiler fuses everything else into a few loops and these dominate
    what is left: one ``exp`` serves pi and its logarithm, one ``exp(-|a|)`` both softplus
    and its derivative (the sigmoid), one ``exp`` the likelihood and the responsibilities.
    Equal to the eager forward to rounding (``softplus`` here is exact above torch's
    threshold of 20, where torch returns its argument).
    """
    D, N = t_t.shape
    a_pi, a_mu, a_sigma = a_t.split((K, K * D, K if isotropic else K * D), dim=0)
    z_pi = a_pi - a_pi.amax(0)
    e_pi = z_pi.clamp_min(EXP_FLOOR).exp()  # [K, N]
    s_pi = e_pi.sum(0)
    log_pi = z_pi - s_pi.log()
    e = (-a_sigma.abs()).exp()
    sigma = a_sigma.clamp_min(0) + e.log1p() + sigma_min  # softplus, [K or K*D, N]
    dsigma = torch.where(a_sigma >= 0, 1.0, e) / (1 + e)  # sigmoid(a_sigma)
    inv_sigma = sigma.reciprocal()
    inv_var = inv_sigma * inv_sigma
    diff = t_t.unsqueeze(0) - a_mu.view(K, D, N)  # [K, D, N]
    if isotropic:
        sq = diff.square().sum(1)  # [K, N]
        log_joint = log_pi - 0.5 * sq * inv_var - D * sigma.log()
    else:
        sq = diff.square()
        inv_var = inv_var.view(K, D, N)
        log_joint = log_pi - 0.5 * (sq * inv_var).sum(1) - sigma.log().view(K, D, N).sum(1)
    peak = log_joint.amax(0)
    ex = (log_joint - peak).clamp_min(EXP_FLOOR).exp()  # [K, N]
    total = ex.sum(0)
    log_p = total.log() + peak - 0.5 * D * math.log(2 * math.pi)  # [N]
    gamma = ex / (total * N)  # responsibilities / N
    g_pi = e_pi / (s_pi * N) - gamma
    if isotropic:
        g_mu = -diff * (gamma * inv_var).unsqueeze(1)  # [K, D, N]
        g_sigma = gamma * (D - sq * inv_var) * inv_sigma
    else:
        g_mu = -diff * (gamma.unsqueeze(1) * inv_var)
        g_sigma = (gamma.unsqueeze(1) * (1 - sq * inv_var)).flatten(0, 1) * inv_sigma
    grad = torch.cat([g_pi, g_mu.flatten(0, 1), g_sigma * dsigma], dim=0)  # [S, N]
    return -log_p.mean(), grad


def gaussian_head_nll(
    a_t: torch.Tensor, t_t: torch.Tensor, n_components: int, isotropic: bool, sigma_min: float
) -> torch.Tensor:
    """Mean NLL (nats) of a Gaussian mixture from the head's raw outputs, K-major.

    Arguments:
        a_t: raw head outputs transposed, ``[S, N]`` with ``S = K + K*D + (K or K*D)``: the
            rows of :class:`~mdn_src.model.MDN`'s head (pi logits, means, scale inputs),
            mapped as it maps them (softmax, identity, ``sigma_min + softplus``).
        t_t: targets transposed, ``[D, N]``, contiguous.
        n_components: ``K``.
        isotropic: one scale per component (else one per component and dimension).
        sigma_min: the scale floor.

    Returns:
        The mean NLL, a scalar whose gradient is the closed form of PRML eqs.
        5.155-5.157, not autograd's. Unchecked: the training loop's fast path.
    """
    return GaussianHeadNLL.apply(a_t, t_t, n_components, isotropic, sigma_min)
