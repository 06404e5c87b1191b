r"""The mixture density network, and the map from its head's raw outputs to a mixture.

An MDN maps an input :math:`x` to the parameters of a mixture over the target :math:`t`
(PRML eq. 5.148 for Gaussian components):

.. math::

    p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x)\big),

with a softmax for the mixing coefficients :math:`\pi`, the identity for the means
:math:`\mu`, and :math:`\sigma = \sigma_{\min} + \operatorname{softplus}(a^\sigma)` for the
standard deviations (positive, smooth, and never below the floor :math:`\sigma_{\min}`).
:class:`HeadSpec` is that map, for every family. Saving and loading live in
:mod:`mdn_src.io` (``io.save(model, path)``, ``io.load(path)``); the training fast path in
:mod:`mdn_src.fast`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import MixtureSameFamily

from .checks import as_matrix, positive_float, positive_int, same_length
from .loss import nll
from .mixture import COVARIANCES, MixtureParameters, get_family, smallest_scale
from .mlp import tanh_trunk

__all__ = [
    "LARGEST_SIGMA_MIN",
    "MDN",
    "OFF_DIAGONALS",
    "SIGMA_MAPS",
    "HeadSpec",
    "positive_scale",
]


#: How a full covariance's raw off-diagonal outputs become Cholesky entries (see
#: :class:`HeadSpec`).
OFF_DIAGONALS = ("free", "scaled")
#: How a raw output ``a`` becomes a positive scale before the floor ``sigma_min`` is added:
#: ``softplus`` (the default), ``exp`` (PRML eq. 5.151) or ``elu`` (see :func:`positive_scale`).
SIGMA_MAPS = ("softplus", "exp", "elu")
#: The largest scale floor, whose square is float32's largest finite number.
LARGEST_SIGMA_MIN = math.sqrt(torch.finfo(torch.float32).max)


def positive_scale(a: torch.Tensor, sigma_map: str = "softplus") -> torch.Tensor:
    r"""A positive scale from raw outputs ``a`` (any shape), before the floor is added.

    ``"softplus"``: :math:`\ln(1 + e^a)`; ``"exp"``: :math:`e^a`; ``"elu"``:
    :math:`\operatorname{ELU}(a) + 1`, that is :math:`e^a` for :math:`a \le 0` and
    :math:`1 + a` above. Each tends to 0 like :math:`e^a` as :math:`a \to -\infty`: only
    a floor ``sigma_min > 0`` keeps a scale away from 0.

    Example:
        >>> positive_scale(torch.tensor([0.0, 2.0]), "elu")
        tensor([1., 3.])
    """
    if sigma_map == "softplus":
        return F.softplus(a)
    if sigma_map == "exp":
        return torch.exp(a)
    if sigma_map == "elu":
        # ELU(a) + 1 without the cancellation of expm1(a) + 1, which rounds to exactly 0
        # in float32 below a = -17.3 (e^a < 2^-25); here only e^a's own underflow (a < -103).
        return torch.exp(a.clamp_max(0.0)) + a.clamp_min(0.0)
    raise ValueError(f"sigma_map must be one of {SIGMA_MAPS}, got {sigma_map!r}")


@dataclass(frozen=True)
class HeadSpec:
    """How an MDN's head maps raw outputs to a mixture: family, covariance, floors and maps.

    Attributes:
        family: a name from ``FAMILIES``.
        covariance: ``"isotropic"``, ``"diagonal"`` or (gaussian only) ``"full"``.
        sigma_min: floor on every scale (for ``full``, on the Cholesky diagonal), > 0.
        df: student_t only: fixed degrees of freedom (> 0), or None to learn them per
            component as ``df_min + softplus(a)``.
        df_min: floor on learnt degrees of freedom; 2 keeps the variance finite.
        beta_range: gennorm only: ``(low, high)`` bounds of the learnt exponent,
            ``beta = low + (high - low) sigmoid(a + c)``, with ``c`` such that ``a = 0``
            gives ``beta = 2`` (a Gaussian shape) when 2 lies in the range.
        off_diagonal: full covariance only: how a raw output ``a_ij`` becomes the entry
            ``L_ij`` (``i > j``) of the Cholesky factor ``L``: ``"free"`` (default),
            ``L_ij = a_ij``; ``"scaled"``, ``L_ij = a_ij L_ii`` (``L = diag(s) (I + A)``:
            the raw outputs set the correlations alone, the diagonal the scales).
        sigma_map: the map from a raw scale output to a positive scale, one of
            ``SIGMA_MAPS``: ``"softplus"`` (default), ``"exp"`` or ``"elu"`` (ELU + 1);
            the scale is ``sigma_min + map(a)``.
    """

    family: str = "gaussian"
    covariance: str = "isotropic"
    sigma_min: float = 1e-3
    df: float | None = None
    df_min: float = 2.0
    beta_range: tuple[float, float] = (1.0, 20.0)
    off_diagonal: str = "free"
    sigma_map: str = "softplus"

    def __post_init__(self):
        family = get_family(self.family)  # a ValueError naming the choices
        if self.covariance not in COVARIANCES:
            raise ValueError(f"covariance must be one of {COVARIANCES}, got {self.covariance!r}")
        if self.off_diagonal not in OFF_DIAGONALS:
            raise ValueError(
                f"off_diagonal must be one of {OFF_DIAGONALS}, got {self.off_diagonal!r}"
            )
        if self.sigma_map not in SIGMA_MAPS:
            raise ValueError(f"sigma_map must be one of {SIGMA_MAPS}, got {self.sigma_map!r}")
        if self.off_diagonal != "free" and self.covariance != "full":
            raise ValueError(
                f"off_diagonal={self.off_diagonal!r} applies to covariance='full' only, "
                f"got covariance={self.covariance!r}"
            )
        if self.covariance not in family.covariances:
            raise ValueError(
                f"covariance={self.covariance!r} is not available for the {family.name} family "
                f"(choose from {family.covariances})"
            )
        positive_float(self.sigma_min, "sigma_min")
        if self.sigma_min > LARGEST_SIGMA_MIN:
            raise ValueError(
                f"sigma_min must be <= {LARGEST_SIGMA_MIN:.3g}, whose square float32 still "
                f"holds (larger floors make every density 0 and every scale inf), got "
                f"{self.sigma_min}"
            )
        if self.sigma_min < smallest_scale(torch.float32):
            raise ValueError(
                f"sigma_min must be >= {smallest_scale(torch.float32):.3g} (smaller floors "
                f"underflow in float32), got {self.sigma_min}"
            )
        positive_float(self.df_min, "df_min", allow_zero=True)
        if self.df is not None:
            positive_float(self.df, "df")
        low, high = (positive_float(b, "beta_range") for b in self.beta_range)
        if not low < high:
            raise ValueError(
                f"beta_range must be (low, high) with low < high, got {self.beta_range}"
            )

    def _learns_shape(self) -> bool:
        return self.family == "gennorm" or (self.family == "student_t" and self.df is None)

    def head_sizes(self, K: int, D: int) -> tuple[int, ...]:
        """Raw outputs per input: pi logits, means, scales, [off-diagonals], [shapes]."""
        scales = K if self.covariance == "isotropic" else K * D
        sizes = [K, K * D, scales]
        if self.covariance == "full":
            sizes.append(K * D * (D - 1) // 2)
        if self._learns_shape():
            sizes.append(K)
        return tuple(sizes)

    def parameters(self, a: torch.Tensor, K: int, D: int) -> MixtureParameters:
        """Map raw outputs ``a`` ``[N, sum(head_sizes)]`` to a mixture,
        :class:`~mdn_src.mixture.MixtureParameters`.

        Softmax for pi, identity for mu (wrapped for angles), ``sigma_min + softplus`` (or
        the chosen ``sigma_map``) for the scales, a free (or row-scaled, ``off_diagonal="scaled"``) lower triangle for
        full covariance, and a bounded map for the shape.
        """
        # Column slices of `a` are strided; contiguous copies cost little, while softplus on
        # a strided slice ran 10x slower than on a contiguous one (torch 2.13, CPU).
        parts = [p.contiguous() for p in a.split(self.head_sizes(K, D), dim=-1)]
        a_pi, a_mu, a_sigma = parts[:3]
        rest = parts[3:]
        family = get_family(self.family)
        log_pi = F.log_softmax(a_pi, dim=-1)  # [N, K]
        mu = family.wrap(a_mu.reshape(-1, K, D))  # [N, K, D]
        scale = self.sigma_min + positive_scale(a_sigma, self.sigma_map)  # [N, K] or [N, K*D]
        width = 1 if self.covariance == "isotropic" else D
        sigma = scale.reshape(-1, K, width).expand(-1, K, D)  # [N, K, D]
        scale_tril = None
        if self.covariance == "full":
            a_off = rest.pop(0)
            rows, cols = torch.tril_indices(D, D, offset=-1, device=a.device)
            lower = a_off.new_zeros(a_off.shape[0], K, D, D)
            off = a_off.reshape(a_off.shape[0], K, len(rows))  # [N, K, D(D-1)/2], 0 for D = 1
            if self.off_diagonal == "scaled":
                off = off * sigma[:, :, rows]  # L_ij = a_ij L_ii: a sets correlations only
            lower[:, :, rows, cols] = off
            scale_tril = torch.diag_embed(sigma) + lower  # [N, K, D, D]
            sigma = scale_tril.pow(2).sum(-1).sqrt()  # marginal standard deviations
        shape = self._shape_param(rest, log_pi)
        return MixtureParameters(log_pi, mu, sigma, self.family, scale_tril, shape)

    def _shape_param(self, rest: list[torch.Tensor], log_pi: torch.Tensor):
        """The family's shape parameter ``[N, K]`` from the remaining raw outputs, or None."""
        a = log_pi
        if self.family == "student_t":
            if self.df is None:
                # Strictly above df_min even where softplus underflows (a < -16 in float32).
                above = torch.nextafter(
                    torch.tensor(self.df_min, dtype=a.dtype), torch.tensor(math.inf, dtype=a.dtype)
                ).to(a.device)
                return (self.df_min + F.softplus(rest.pop(0))).clamp_min(above)
            return torch.full_like(log_pi, self.df)
        if self.family == "gennorm":
            low, high = self.beta_range
            # Offset so that a raw output of 0 gives beta = 2 (a Gaussian) when 2 is in the
            # range: a freshly initialised network starts from Gaussian-like components.
            start = min(max(2.0, low + 1e-3 * (high - low)), high - 1e-3 * (high - low))
            offset = math.log((start - low) / (high - start))
            return low + (high - low) * torch.sigmoid(rest.pop(0) + offset)
        return None


class MDN(nn.Module):
    r"""A mixture density network: ``forward(x)`` returns :math:`p(t \mid x)`.

    Arguments:
        in_features: size of each input ``x``.
        out_features: size ``D`` of each target ``t``.
        n_components: number ``K`` of mixture components.
        hidden: hidden width, or a sequence of widths (one tanh layer each).
        family: the component family: ``"gaussian"`` (default), ``"laplace"``,
            ``"student_t"``, ``"gennorm"`` (generalised normal, can approach a uniform) or
            ``"von_mises"`` (angular targets, in radians). See :mod:`mdn_src.mixture`.
        covariance: ``"isotropic"`` (one :math:`\sigma_k` per component, PRML's choice),
            ``"diagonal"`` (one :math:`\sigma_{kd}` per component and target dimension) or,
            for Gaussians, ``"full"`` (a Cholesky factor per component).
        sigma_min: floor added to every scale, > 0; it keeps the likelihood bounded when a
            component collapses onto a single point.
        df, df_min, beta_range, off_diagonal, sigma_map: the family's and the head's other
            settings, as :class:`~mdn_src.model.HeadSpec` describes them (``sigma_map`` other than
            ``"softplus"`` loses the closed-form gradient, :attr:`closed_form_head`).

    Every setting that changes the model's outputs travels in its ``state_dict`` (as its
    extra state): loading weights into an MDN configured otherwise raises ``ValueError``
    naming the setting, instead of giving other densities silently.

    Example:
        >>> mdn = MDN(1, 2, n_components=3, hidden=8, covariance="full")
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
        family: str = "gaussian",
        covariance: str = "isotropic",
        sigma_min: float = 1e-3,
        df: float | None = None,
        df_min: float = 2.0,
        beta_range: tuple[float, float] = (1.0, 20.0),
        off_diagonal: str = "free",
        sigma_map: str = "softplus",
    ):
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.n_components = positive_int(n_components, "n_components")
        if isinstance(beta_range, (str, bytes)) or not isinstance(beta_range, Sequence):
            raise TypeError(f"beta_range must be a pair (low, high), got {beta_range!r}")
        self.spec = HeadSpec(
            family, covariance, sigma_min, df, df_min, tuple(beta_range), off_diagonal, sigma_map
        )
        #: Whether the loss has the closed-form head gradient of
        #: :func:`mdn_src.fast.gaussian_head_nll`: Gaussian, not full covariance, softplus.
        self.closed_form_head = (
            family == "gaussian" and covariance != "full" and sigma_map == "softplus"
        )
        self.trunk, width = tanh_trunk(self.in_features, hidden)
        self.hidden = tuple(m.out_features for m in self.trunk if isinstance(m, nn.Linear))
        # One linear layer emits every mixture parameter (one matrix product, not three):
        # K logits for pi, K * D means, K (isotropic) or K * D scale inputs, and the family's
        # extras (Cholesky off-diagonals, shapes).
        self.head_sizes = self.spec.head_sizes(self.n_components, self.out_features)
        self.head = nn.Linear(width, sum(self.head_sizes))

    def get_config(self) -> dict:
        """The constructor's arguments as plain values: ``MDN(**mdn.get_config())`` rebuilds it.

        Example:
            >>> MDN(1, 1, n_components=2, hidden=[4, 3]).get_config()["hidden"]
            [4, 3]
        """
        head = dataclasses.asdict(self.spec)
        head["beta_range"] = list(head["beta_range"])
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "n_components": self.n_components,
            "hidden": list(self.hidden),
            **head,
        }

    def get_extra_state(self) -> dict:
        """The head's settings, stored in ``state_dict()`` beside the weights."""
        return {"head": self.get_config()}

    def set_extra_state(self, state) -> None:
        """Check that weights being loaded were trained with this model's settings."""
        mine = self.get_config()
        theirs = state.get("head") if isinstance(state, dict) else None
        if not isinstance(theirs, dict):
            raise ValueError("the state_dict's MDN extra state has no head settings")
        differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if differ:
            detail = ", ".join(f"{k}={theirs.get(k)!r} (this MDN: {mine.get(k)!r})" for k in differ)
            raise ValueError(f"the weights come from an MDN with other settings: {detail}")

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def covariance(self) -> str:
        return self.spec.covariance

    @property
    def sigma_min(self) -> float:
        return self.spec.sigma_min

    def with_full_covariance(self, off_diagonal: str = "free") -> MDN:
        """A full-covariance copy of this isotropic or diagonal Gaussian MDN: the same mixture.

        The diagonal warm-up: train a diagonal MDN until its components have settled, then
        continue with this copy, which can learn correlations. It has the same trunk; its
        head repeats this head's rows and adds zero rows for the off-diagonal entries: the
        same ``log_pi``, ``mu`` and ``sigma`` (to rounding) and a diagonal ``scale_tril``.
        Raises ``ValueError`` for a family other than ``"gaussian"`` or a full covariance.

        Example:
            >>> diag = MDN(1, 2, n_components=3, hidden=8, covariance="diagonal")
            >>> full = diag.with_full_covariance(off_diagonal="scaled")
            >>> x = torch.randn(4, 1)
            >>> torch.allclose(full.mixture_parameters(x).sigma, diag.mixture_parameters(x).sigma)
            True
        """
        if self.spec.family != "gaussian" or self.spec.covariance == "full":
            raise ValueError(
                "with_full_covariance needs an isotropic or diagonal gaussian MDN, got "
                f"family={self.spec.family!r}, covariance={self.spec.covariance!r}"
            )
        config = {**self.get_config(), "covariance": "full", "off_diagonal": off_diagonal}
        weight = self.head.weight
        with torch.random.fork_rng(devices=[]):  # its fresh init is overwritten below
            full = MDN(**config).to(device=weight.device, dtype=weight.dtype)
        K, D = self.n_components, self.out_features
        n_pi_mu = K + K * D
        scale_rows = torch.arange(K * D, device=weight.device)  # diagonal: one row each
        if self.spec.covariance == "isotropic":
            scale_rows = scale_rows // D  # [K * D]: component k's one row, D times
        rows = torch.cat([torch.arange(n_pi_mu, device=weight.device), n_pi_mu + scale_rows])
        with torch.no_grad():
            full.trunk.load_state_dict(self.trunk.state_dict())
            full.head.weight.zero_()
            full.head.bias.zero_()
            full.head.weight[: len(rows)] = self.head.weight[rows]
            full.head.bias[: len(rows)] = self.head.bias[rows]
        return full

    def mixture_parameters(self, x: torch.Tensor) -> MixtureParameters:
        """The mixture's parameters for inputs ``x`` of shape ``[N, in_features]``."""
        x = as_matrix(x, "x", self.in_features)
        return self.output_activations(self.head(self.trunk(x.to(self.head.weight))))

    def output_activations(self, a: torch.Tensor) -> MixtureParameters:
        """Map the network's raw outputs ``a`` ``[N, sum(head_sizes)]`` to the mixture
        (:meth:`HeadSpec.parameters <mdn_src.model.HeadSpec.parameters>`)."""
        if a.dim() != 2 or a.shape[1] != sum(self.head_sizes):
            raise ValueError(f"a must have shape [N, {sum(self.head_sizes)}], got {tuple(a.shape)}")
        return self.spec.parameters(a, self.n_components, self.out_features)

    def forward(self, x: torch.Tensor) -> MixtureSameFamily:
        """:math:`p(t \\mid x)` as a distribution with batch shape ``(N,)``, event ``(D,)``."""
        return self.mixture_parameters(x).distribution()

    def loss(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood of targets ``t`` ``[N, D]`` given inputs ``x``, in nats."""
        x = as_matrix(x, "x", self.in_features)
        t = as_matrix(t, "t", self.out_features)
        same_length(x, "x", t, "t")
        w = self.head.weight
        return self.training_loss(x.to(w), t.to(w))

    def training_loss(
        self, x: torch.Tensor, t: torch.Tensor, closed_form: bool = True
    ) -> torch.Tensor:
        """:meth:`loss` without the argument checks, for training loops that checked once.

        ``x`` and ``t`` must already be finite ``[N, in_features]`` and ``[N, D]`` tensors of
        the model's dtype and device. Where :attr:`closed_form_head` holds, the head is
        evaluated K-major and the loss's gradient is its closed form
        (:func:`mdn_src.fast.gaussian_head_nll`); the value is the same as
        :func:`mdn_src.loss.nll` to rounding. ``closed_form=False`` takes the autograd path
        instead: the reference the tests compare against.
        """
        if closed_form and self.closed_form_head:
            from .fast.head import gaussian_head_nll  # fast.step stands on this module

            h = self.trunk(x)  # [N, H]
            a_t = torch.addmm(self.head.bias.unsqueeze(1), self.head.weight, h.T)  # [S, N]
            isotropic = self.spec.covariance == "isotropic"
            return gaussian_head_nll(
                a_t, t.T.contiguous(), self.n_components, isotropic, self.spec.sigma_min
            )
        return nll(self.output_activations(self.head(self.trunk(x))), t)
