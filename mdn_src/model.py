r"""The networks: a plain MLP regressor and the mixture density network.

An MDN maps an input :math:`x` to the parameters of a Gaussian mixture over the target
:math:`t` (PRML eq. 5.148):

.. math::

    p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x)\big),

with a softmax for the mixing coefficients :math:`\pi`, the identity for the means
:math:`\mu`, and :math:`\sigma = \sigma_{\min} + \operatorname{softplus}(a^\sigma)` for the
standard deviations (positive, smooth, and never below the floor :math:`\sigma_{\min}`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from ._checks import as_matrix, positive_float, positive_int, same_length

COVARIANCES = ("isotropic", "diagonal")


class MixtureParameters(NamedTuple):
    """What an MDN outputs for ``N`` inputs: a ``K``-component mixture over ``D`` dimensions.

    Attributes:
        log_pi: log mixing coefficients, ``[N, K]`` (log-softmax of the network's logits).
        mu: component means, ``[N, K, D]``.
        sigma: component standard deviations, ``[N, K, D]`` (equal along ``D`` when the
            covariance is isotropic).
    """

    log_pi: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor

    @property
    def pi(self) -> torch.Tensor:
        """Mixing coefficients, ``[N, K]``, summing to one along ``K``."""
        return self.log_pi.exp()

    def distribution(self) -> MixtureSameFamily:
        """The mixture as a ``torch.distributions`` object: batch ``(N,)``, event ``(D,)``."""
        components = Independent(Normal(self.mu, self.sigma), 1)
        return MixtureSameFamily(Categorical(logits=self.log_pi), components)

    def detach(self) -> MixtureParameters:
        """The same parameters, cut from the autograd graph (for plotting and sampling)."""
        return MixtureParameters(*(p.detach() for p in self))

    def validate(self, name: str = "params") -> MixtureParameters:
        """Return self after checking shapes and values; raise ``ValueError`` naming the field.

        ``log_pi`` must be ``[N, K]``, ``mu`` ``[N, K, D]``, ``sigma`` the same shape as ``mu``
        and positive. Every public function taking mixture parameters calls this, so a
        wrong shape is an error, never a silent broadcast.
        """
        log_pi, mu, sigma = self
        for field, value in zip(self._fields, self, strict=True):
            if not isinstance(value, torch.Tensor) or not value.is_floating_point():
                raise TypeError(f"{name}.{field} must be a floating torch.Tensor")
        if mu.dim() != 3:
            raise ValueError(f"{name}.mu must be [N, K, D], got shape {tuple(mu.shape)}")
        if log_pi.shape != mu.shape[:2]:
            raise ValueError(
                f"{name}.log_pi must be [N, K] = {tuple(mu.shape[:2])} to match mu, "
                f"got {tuple(log_pi.shape)}"
            )
        if sigma.shape != mu.shape:
            raise ValueError(
                f"{name}.sigma must have mu's shape {tuple(mu.shape)}, got {tuple(sigma.shape)}"
            )
        if not (sigma > 0).all():
            raise ValueError(f"{name}.sigma must be positive everywhere")
        return self


def check_params(params, name: str = "params") -> MixtureParameters:
    """``params`` if it is valid :class:`MixtureParameters`; ``TypeError``/``ValueError`` if not."""
    if not isinstance(params, MixtureParameters):
        raise TypeError(f"{name} must be MixtureParameters, got {type(params).__name__}")
    return params.validate(name)


def _trunk(in_features: int, hidden: int | Sequence[int]) -> tuple[nn.Sequential, int]:
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
        self.trunk, width = _trunk(self.in_features, hidden)
        self.head = nn.Linear(width, self.out_features)

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


class MDN(nn.Module):
    r"""A mixture density network: ``forward(x)`` returns :math:`p(t \mid x)`.

    Arguments:
        in_features: size of each input ``x``.
        out_features: size ``D`` of each target ``t``.
        n_components: number ``K`` of Gaussian components.
        hidden: hidden width, or a sequence of widths (one tanh layer each).
        covariance: ``"isotropic"`` (one :math:`\sigma_k` per component, PRML's choice) or
            ``"diagonal"`` (one :math:`\sigma_{kd}` per component and target dimension).
        sigma_min: floor added to every standard deviation, > 0; it keeps the likelihood
            bounded when a component collapses onto a single point.

    Example:
        >>> mdn = MDN(1, 2, n_components=3, hidden=8)
        >>> p = mdn(torch.zeros(5, 1))
        >>> p.batch_shape, p.event_shape
        (torch.Size([5]), torch.Size([2]))
        >>> mdn.loss(torch.zeros(5, 1), torch.zeros(5, 2)).shape
        torch.Size([])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_components: int,
        hidden: int | Sequence[int] = 50,
        covariance: str = "isotropic",
        sigma_min: float = 1e-3,
    ):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.n_components = positive_int(n_components, "n_components")
        if covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
        self.covariance = covariance
        self.sigma_min = positive_float(sigma_min, "sigma_min")
        K, D = self.n_components, self.out_features
        self.trunk, width = _trunk(self.in_features, hidden)
        # One linear layer emits every mixture parameter (one matrix product, not three):
        # K logits for pi, K * D means, and K (isotropic) or K * D (diagonal) sigma inputs.
        self._sizes = (K, K * D, K if covariance == "isotropic" else K * D)
        self.head = nn.Linear(width, sum(self._sizes))

    def mixture_parameters(self, x: torch.Tensor) -> MixtureParameters:
        """The mixture's parameters for inputs ``x`` of shape ``[N, in_features]``."""
        x = as_matrix(x, "x", self.in_features)
        h = self.trunk(x.to(self.head.weight))  # [N, H]
        return self.output_activations(self.head(h))

    def output_activations(self, a: torch.Tensor) -> MixtureParameters:
        """Map the network's raw outputs ``a`` ``[N, K + K*D + K or K*D]`` to the mixture.

        Softmax for pi, identity for mu, ``sigma_min + softplus`` for sigma.
        """
        K, D = self.n_components, self.out_features
        if a.dim() != 2 or a.shape[1] != sum(self._sizes):
            raise ValueError(f"a must have shape [N, {sum(self._sizes)}], got {tuple(a.shape)}")
        # Column slices of `a` are strided; contiguous copies cost little, while softplus on
        # a strided slice ran 10x slower than on a contiguous one (torch 2.13, CPU).
        a_pi, a_mu, a_sigma = (part.contiguous() for part in a.split(self._sizes, dim=-1))
        log_pi = F.log_softmax(a_pi, dim=-1)  # [N, K]
        mu = a_mu.reshape(-1, K, D)  # [N, K, D]
        sigma = self.sigma_min + F.softplus(a_sigma)  # [N, K] or [N, K*D]
        sigma = sigma.reshape(-1, K, 1 if self.covariance == "isotropic" else D).expand(-1, K, D)
        return MixtureParameters(log_pi, mu, sigma)

    def forward(self, x: torch.Tensor) -> MixtureSameFamily:
        """:math:`p(t \\mid x)` as a distribution with batch shape ``(N,)``, event ``(D,)``."""
        return self.mixture_parameters(x).distribution()

    def loss(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of targets ``t`` ``[N, D]`` given inputs ``x``, in nats."""
        from .loss import mixture_nll  # loss.py imports this module's MixtureParameters

        return mixture_nll(self.mixture_parameters(x), t)
