r"""The networks: a plain MLP regressor and the mixture density network.

An MDN maps an input :math:`x` to the parameters of a mixture over the target :math:`t`
(PRML eq. 5.148 for Gaussian components):

.. math::

    p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, \mathcal{N}\big(t \mid \mu_k(x), \sigma_k^2(x)\big),

with a softmax for the mixing coefficients :math:`\pi`, the identity for the means
:math:`\mu`, and :math:`\sigma = \sigma_{\min} + \operatorname{softplus}(a^\sigma)` for the
standard deviations (positive, smooth, and never below the floor :math:`\sigma_{\min}`).
Other component families (:mod:`mdn_src.mixture`) map the network's outputs the same way.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import MixtureSameFamily

from ._checks import as_matrix, positive_int, same_length
from ._version import VERSION
from .loss import gaussian_head_nll, nll
from .mixture import COVARIANCES, ComponentSpec, MixtureParameters

__all__ = ["COVARIANCES", "MDN", "MLP", "MixtureParameters"]


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


#: Layout of the files written by :meth:`MDN.save` and :meth:`MLP.save`; bumped whenever a
#: change makes older readers misread newer files (or the reverse).
FORMAT_VERSION = 1
_FORMAT = "mdn_src"


def _describe(path) -> str:
    try:
        return repr(os.fspath(path))
    except TypeError:  # a file object
        return repr(path)


def _save(model: nn.Module, path, kind: str, config: dict) -> None:
    """Write ``model``'s configuration and weights to ``path`` as plain containers."""
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    dtypes = sorted({str(value.dtype) for value in state.values()})
    if len(dtypes) != 1:
        raise ValueError(f"cannot save a model whose tensors mix dtypes {dtypes}")
    payload = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "model": kind,
        "library_version": VERSION,
        "dtype": dtypes[0].removeprefix("torch."),
        "config": config,
        "state_dict": state,
    }
    torch.save(payload, path)


def _load(cls, path, kind: str, device) -> nn.Module:
    """Read a file written by :func:`_save` for a ``kind`` model and rebuild it as ``cls``."""
    where = _describe(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        raise ValueError(
            f"{where} could not be read as a saved mdn_src model (corrupted, truncated or "
            f"not a torch.save file): {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a saved mdn_src model (no mdn_src format marker)")
    written_by = f"mdn_src {payload.get('library_version', '(unknown version)')}"
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where} has file format version {version!r} (written by {written_by}); this "
            f"mdn_src {VERSION} reads format version {FORMAT_VERSION} only"
        )
    missing = {"model", "dtype", "config", "state_dict"} - payload.keys()
    if missing:
        raise ValueError(f"{where} is missing the entries {sorted(missing)}")
    if payload["model"] != kind:
        raise ValueError(
            f"{where} holds an {payload['model']!r} model, not an {kind!r}: load it with "
            f"{payload['model']}.load"
        )
    dtype = getattr(torch, str(payload["dtype"]), None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"{where} names an unknown floating dtype {payload['dtype']!r}")
    config, state = payload["config"], payload["state_dict"]
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise ValueError(f"{where}: config and state_dict must be dicts")
    try:
        model = cls(**config)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} holds an invalid {kind} configuration: {exc}") from exc
    model = model.to(dtype)
    for name, value in state.items():
        if not isinstance(value, torch.Tensor) or value.dtype != dtype:
            got = value.dtype if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(
                f"{where}: state_dict entry {name!r} must be a {dtype} tensor, got {got}"
            )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # missing or unexpected keys, wrong shapes
        raise ValueError(f"{where} holds weights that do not fit its {kind}: {exc}") from exc
    return model.to(device)


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

    def get_config(self) -> dict:
        """The constructor's arguments as plain values: ``MLP(**net.get_config())`` rebuilds it."""
        hidden = [m.out_features for m in self.trunk if isinstance(m, nn.Linear)]
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "hidden": hidden,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the configuration, dtype, library version and weights to ``path``.

        The file holds plain containers and tensors only (readable with
        ``torch.load(path, weights_only=True)``); :meth:`load` rebuilds the network.
        """
        _save(self, path, "MLP", self.get_config())

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> MLP:
        """Rebuild an MLP written by :meth:`save`: same outputs bit for bit, same dtype.

        Raises ``ValueError`` naming ``path`` for a file that is not a saved MLP, comes
        from another file format version, or is corrupted or truncated.
        """
        return _load(cls, path, "MLP", device)


class MDN(nn.Module):
    r"""A mixture density network: ``forward(x)`` returns :math:`p(t \mid x)`.

    Arguments:
        in_features: size of each input ``x``.
        out_features: size ``D`` of each target ``t``.
        n_components: number ``K`` of mixture components.
        hidden: hidden width, or a sequence of widths (one tanh layer each).
        component: the component family: ``"gaussian"`` (default), ``"laplace"``,
            ``"student_t"``, ``"gennorm"`` (generalised normal, can approach a uniform) or
            ``"von_mises"`` (angular targets, in radians). See :mod:`mdn_src.mixture`.
        covariance: ``"isotropic"`` (one :math:`\sigma_k` per component, PRML's choice),
            ``"diagonal"`` (one :math:`\sigma_{kd}` per component and target dimension) or,
            for Gaussians, ``"full"`` (a Cholesky factor per component).
        sigma_min: floor added to every scale, > 0; it keeps the likelihood bounded when a
            component collapses onto a single point.
        df: ``student_t`` only: fixed degrees of freedom, or None (default) to learn them
            per component, kept above ``df_min``.
        df_min: floor on learnt degrees of freedom (2: the variance exists).
        beta_range: ``gennorm`` only: bounds ``(low, high)`` of the learnt exponent.
        off_diagonal: ``covariance="full"`` only: ``"free"`` (default) takes the Cholesky
            factor's off-diagonal entries as raw outputs, ``"scaled"`` multiplies them by
            their row's diagonal entry so that they set correlations alone (see
            :class:`~mdn_src.mixture.ComponentSpec`): a component then has to grow a large
            raw output to stretch into a thin needle across two branches of the data (use
            it with the diagonal warm-up of :meth:`with_full_covariance`).
        sigma_map: how a raw output becomes a scale before ``sigma_min`` is added:
            ``"softplus"`` (default), ``"exp"`` (PRML's choice) or ``"elu"`` (ELU + 1); see
            :func:`~mdn_src.mixture.positive_scale`. Only the default takes the
            closed-form-gradient fast path in :meth:`training_loss`.

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
        component: str = "gaussian",
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
        self.spec = ComponentSpec(
            component, covariance, sigma_min, df, df_min, tuple(beta_range), off_diagonal, sigma_map
        )
        self.trunk, width = _trunk(self.in_features, hidden)
        self.hidden = tuple(m.out_features for m in self.trunk if isinstance(m, nn.Linear))
        # One linear layer emits every mixture parameter (one matrix product, not three):
        # K logits for pi, K * D means, K (isotropic) or K * D scale inputs, and the family's
        # extras (Cholesky off-diagonals, shapes).
        self._sizes = self.spec.head_sizes(self.n_components, self.out_features)
        self.head = nn.Linear(width, sum(self._sizes))

    def get_config(self) -> dict:
        """The constructor's arguments as plain values: ``MDN(**mdn.get_config())`` rebuilds it.

        ``off_diagonal`` and ``sigma_map`` are listed only when they are not the defaults
        (``"free"``, ``"softplus"``), so the files
        of models that do not use it are read by versions of mdn_src that predate it.

        Example:
            >>> MDN(1, 1, n_components=2, hidden=[4, 3]).get_config()["hidden"]
            [4, 3]
        """
        spec = self.spec
        config = {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "n_components": self.n_components,
            "hidden": list(self.hidden),
            "component": spec.family,
            "covariance": spec.covariance,
            "sigma_min": spec.sigma_min,
            "df": spec.df,
            "df_min": spec.df_min,
            "beta_range": list(spec.beta_range),
        }
        if spec.off_diagonal != "free":
            # Only when set: files of default models stay readable by older mdn_src.
            config["off_diagonal"] = spec.off_diagonal
        if spec.sigma_map != "softplus":  # likewise
            config["sigma_map"] = spec.sigma_map
        return config

    def save(self, path: str | os.PathLike) -> None:
        """Write the configuration, dtype, library version and weights to ``path``.

        The file holds plain containers and tensors only, so it loads with
        ``torch.load(path, weights_only=True)`` (no pickled classes, no code run on load).

        Arguments:
            path: where to write (a ``.pt`` file by convention); overwritten if it exists.

        Example:
            >>> import os, tempfile
            >>> mdn = MDN(1, 1, n_components=3, hidden=8)
            >>> path = os.path.join(tempfile.mkdtemp(), "mdn.pt")
            >>> mdn.save(path)
            >>> x = torch.linspace(-1, 1, 5).unsqueeze(1)
            >>> torch.equal(MDN.load(path).mixture_parameters(x).mu, mdn.mixture_parameters(x).mu)
            True
        """
        _save(self, path, "MDN", self.get_config())

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> MDN:
        """Rebuild an MDN written by :meth:`save`: same outputs bit for bit, same dtype.

        Arguments:
            path: a file written by :meth:`save`.
            device: where to put the rebuilt model.

        Returns:
            The model, in training mode like a freshly built one.

        Raises:
            ValueError: naming ``path``, when the file is not a saved MDN (another file, or
                a saved :class:`MLP`), has another file format version than
                ``FORMAT_VERSION``, is corrupted or truncated, or its weights do not fit its
                configuration. A missing file raises ``FileNotFoundError``.
        """
        return _load(cls, path, "MDN", device)

    @property
    def component(self) -> str:
        return self.spec.family

    @property
    def covariance(self) -> str:
        return self.spec.covariance

    @property
    def sigma_min(self) -> float:
        return self.spec.sigma_min

    @property
    def off_diagonal(self) -> str:
        return self.spec.off_diagonal

    @property
    def sigma_map(self) -> str:
        return self.spec.sigma_map

    def with_full_covariance(self, off_diagonal: str = "free") -> MDN:
        """A full-covariance copy of this isotropic or diagonal Gaussian MDN: the same mixture.

        The diagonal warm-up: train a diagonal MDN until its components have settled on the
        branches of the data, then continue training this copy, which can learn
        correlations. The copy has the same trunk; its head repeats this head's rows for
        pi, mu and the scales (an isotropic scale row once per target dimension) and adds
        rows of zeros for the Cholesky factor's off-diagonal entries, so for every input
        it gives the same ``log_pi``, ``mu`` and ``sigma`` (to rounding) and a diagonal
        ``scale_tril``.

        Arguments:
            off_diagonal: the copy's ``off_diagonal`` (``"free"`` or ``"scaled"``).

        Returns:
            A new MDN (same dtype and device, in training mode); this one is unchanged.

        Raises:
            ValueError: for a family other than ``"gaussian"``, or a model whose covariance
                is already full.

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
                f"component={self.spec.family!r}, covariance={self.spec.covariance!r}"
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
        return self._mixture(x.to(self.head.weight))

    def _mixture(self, x: torch.Tensor) -> MixtureParameters:
        return self.output_activations(self.head(self.trunk(x)))  # trunk: [N, H]

    def output_activations(self, a: torch.Tensor) -> MixtureParameters:
        """Map the network's raw outputs ``a`` ``[N, sum of head sizes]`` to the mixture.

        Softmax for pi, identity for mu, ``sigma_min + softplus`` (or ``sigma_map``) for the
        scales, and the family's maps for its extras
        (:meth:`mdn_src.mixture.ComponentSpec.parameters`).
        """
        if a.dim() != 2 or a.shape[1] != sum(self._sizes):
            raise ValueError(f"a must have shape [N, {sum(self._sizes)}], got {tuple(a.shape)}")
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

    def _closed_form_head(self) -> bool:
        """Whether the loss has the closed-form gradient of :func:`gaussian_head_nll`."""
        spec = self.spec
        return (
            spec.family == "gaussian"
            and spec.covariance != "full"
            and spec.sigma_map == "softplus"  # the closed-form gradient assumes softplus
        )

    def training_loss(
        self, x: torch.Tensor, t: torch.Tensor, closed_form: bool = True
    ) -> torch.Tensor:
        """:meth:`loss` without the argument checks, for training loops that checked once.

        ``x`` and ``t`` must already be finite ``[N, in_features]`` and ``[N, D]`` tensors of
        the model's dtype and device. Gaussian mixtures with isotropic or diagonal
        covariance take a fast path: the head is evaluated K-major and the loss's gradient
        is its closed form (:func:`mdn_src.loss.gaussian_head_nll`); the value is the same
        as :func:`mdn_src.loss.nll` to rounding. ``closed_form=False`` takes the autograd
        path instead: the reference the tests compare against.
        """
        if closed_form and self._closed_form_head():
            h = self.trunk(x)  # [N, H]
            a_t = torch.addmm(self.head.bias.unsqueeze(1), self.head.weight, h.T)  # [S, N]
            isotropic = self.spec.covariance == "isotropic"
            return gaussian_head_nll(
                a_t, t.T.contiguous(), self.n_components, isotropic, self.spec.sigma_min
            )
        return nll(self._mixture(x), t)
