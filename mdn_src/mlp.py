"""The plain regressor of the book's first chapters: tanh layers and a linear output, MSE.

:func:`tanh_trunk` builds the hidden layers the MLP and the :class:`~mdn_src.model.MDN` share.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .checks import as_matrix, positive_int, same_length
from .mixture import MixtureParameters

__all__ = ["MLP", "fan_in_weights", "tanh_trunk"]


def tanh_trunk(in_features: int, hidden: int | Sequence[int]) -> tuple[nn.Sequential, int]:
    """Linear + tanh layers of the given widths, and the width of the last one."""
    single = isinstance(hidden, numbers.Integral)
    sizes = [hidden] if single else list(hidden)
    if not sizes:
        raise ValueError("hidden must name at least one layer size, got an empty sequence")
    layers: list[nn.Module] = []
    width = in_features
    for i, size in enumerate(sizes):
        size = positive_int(size, "hidden" if single else f"hidden[{i}]")
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    return nn.Sequential(*layers), width


def fan_in_weights(
    in_features: int, hidden: int, out_features: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Chapter 3's hand-written initial weights: ``w1, b1, w2, b2``, float32.

    ``w1`` ``[in, H]`` and ``w2`` ``[H, out]`` are drawn, in that order, from torch's global
    generator as :math:`\mathcal N(0, 1/\text{fan-in})`; the biases ``[1, H]`` and
    ``[1, out]`` are zero. ``torch.manual_seed(seed)`` before the call picks the start;
    :meth:`MLP.from_weights` puts them into the library's network.
    """
    in_features = positive_int(in_features, "in_features")
    hidden = positive_int(hidden, "hidden")
    out_features = positive_int(out_features, "out_features")
    w1 = torch.randn(in_features, hidden) * math.sqrt(1 / in_features)
    w2 = torch.randn(hidden, out_features) * math.sqrt(1 / hidden)
    return w1, torch.zeros(1, hidden), w2, torch.zeros(1, out_features)


class MLP(nn.Module):
    """A regressor with tanh hidden layers and a linear output, trained with MSE.

    Arguments:
        in_features: size of each input.
        out_features: size of each target.
        hidden: hidden width, or a sequence of widths (one tanh layer each).

    Example:
        >>> net = MLP(1, 1, hidden=15)
        >>> net(torch.zeros(4, 1)).shape
        torch.Size([4, 1])
    """

    def __init__(self, in_features: int, out_features: int, hidden: int | Sequence[int] = 15):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.trunk, width = tanh_trunk(self.in_features, hidden)
        self.head = nn.Linear(width, self.out_features)

    @classmethod
    def from_weights(cls, w1, b1, w2, b2) -> MLP:
        """The one-hidden-layer network ``tanh(x @ w1 + b1) @ w2 + b2`` as an :class:`MLP`.

        Arguments:
            w1, b1: the hidden layer, ``[in, H]`` and ``[1, H]`` (or ``[H]``).
            w2, b2: the output layer, ``[H, out]`` and ``[1, out]`` (or ``[out]``).

        Returns:
            An MLP of the weights' dtype that computes the same function (``nn.Linear``
            stores the transposed matrices).

        Example:
            >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
            <torch._C.Generator object at ...>
            >>> w1, b1, w2, b2 = fan_in_weights(1, 15, 1)
            >>> net = MLP.from_weights(w1, b1, w2, b2)
            >>> x = torch.linspace(0, 1, 5).unsqueeze(1)
            >>> torch.equal(net(x), torch.tanh(x @ w1 + b1) @ w2 + b2)
            True
        """
        w1, w2 = torch.as_tensor(w1), torch.as_tensor(w2)
        if w1.dim() != 2 or w2.dim() != 2 or w1.shape[1] != w2.shape[0]:
            raise ValueError(
                f"w1 [in, H] and w2 [H, out] must be matrices that chain, got shapes "
                f"{tuple(w1.shape)} and {tuple(w2.shape)}"
            )
        (n_in, hidden), n_out = w1.shape, w2.shape[1]
        b1 = torch.as_tensor(b1).reshape(-1)
        b2 = torch.as_tensor(b2).reshape(-1)
        if b1.numel() != hidden or b2.numel() != n_out:
            raise ValueError(
                f"b1 must hold {hidden} values and b2 {n_out}, got {b1.numel()} and {b2.numel()}"
            )
        net = cls(n_in, n_out, hidden=hidden).to(w1.dtype)
        with torch.no_grad():
            net.trunk[0].weight.copy_(w1.T)
            net.trunk[0].bias.copy_(b1)
            net.head.weight.copy_(w2.T)
            net.head.bias.copy_(b2)
        return net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions ``[N, out_features]`` for inputs ``[N, in_features]``."""
        x = as_matrix(x, "x", self.in_features)
        return self.head(self.trunk(x.to(self.head.weight)))

    def loss(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Mean squared error over all points and target dimensions."""
        t = as_matrix(t, "t", self.out_features)
        pred = self(x)
        same_length(pred, "x", t, "t")
        return F.mse_loss(pred, t.to(pred))

    def predictive(self, x: torch.Tensor, noise_sd) -> MixtureParameters:
        r"""The network read as a density: :math:`\mathcal N(y(x), s^2)`, one component.

        Minimising the MSE is maximising this Gaussian's likelihood for a fixed ``s``
        (PRML §5.2), and the maximum-likelihood ``s^2`` is the training MSE. The answer is a
        one-component :class:`~mdn_src.mixture.MixtureParameters`, so every metric that
        scores an MDN scores the MSE network the same way.

        Arguments:
            x: inputs ``[N, in_features]``.
            noise_sd: the noise standard deviation ``s``, a positive number or one per
                target dimension.

        Returns:
            MixtureParameters with ``K = 1``, detached, in the network's dtype.
        """
        sd = torch.as_tensor(noise_sd, dtype=self.head.weight.dtype).reshape(-1)
        if sd.numel() not in (1, self.out_features) or not bool(
            (torch.isfinite(sd) & (sd > 0)).all()
        ):
            raise ValueError(
                f"noise_sd must be one positive number or {self.out_features}, got {sd.tolist()}"
            )
        with torch.no_grad():
            mean = self(x).unsqueeze(1)  # [N, 1, D]
        log_pi = mean.new_zeros(mean.shape[0], 1)
        return MixtureParameters(log_pi, mean, (sd.to(mean) * torch.ones_like(mean)))

    def get_config(self) -> dict:
        """The constructor's arguments as plain values: ``MLP(**net.get_config())`` rebuilds it."""
        hidden = [m.out_features for m in self.trunk if isinstance(m, nn.Linear)]
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "hidden": hidden,
        }
