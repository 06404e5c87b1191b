r"""A batch of mixtures, :class:`MixtureParameters`, and the log-density every module uses.

An MDN's output for ``N`` inputs is a ``K``-component mixture over a ``D``-dimensional
target (PRML eq. 5.148 with any component family :math:`f`):

.. math::

    p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, f\big(t \mid \mu_k(x), \sigma_k(x), \ldots\big).

The component log-density is computed in :mod:`~mdn_src.mixture.families` and summed here,
in log space, and nowhere else: the loss, the mode search, the metrics and the plots all
stand on :func:`~mdn_src.mixture.log_joint`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

import torch
from torch.distributions import Categorical, MixtureSameFamily

from .families import Family, get_family

__all__ = [
    "MixtureParameters",
    "check_params",
    "component_cdf",
    "component_moments",
    "log_joint",
    "log_prob",
    "select",
    "smallest_scale",
]


@dataclass(frozen=True, eq=False)
class MixtureParameters:
    """A ``K``-component mixture over ``D`` dimensions, one for each of ``N`` inputs.

    Attributes:
        log_pi: log mixing coefficients, ``[N, K]``, normalised along ``K``.
        mu: component locations (means), ``[N, K, D]``.
        sigma: component scales, ``[N, K, D]``, positive (equal along ``D`` when the
            covariance is isotropic; the marginal standard deviations for a full covariance).
        family: the component family's name (see ``FAMILIES``), ``"gaussian"`` by default.
        scale_tril: Gaussian full covariance only: lower Cholesky factors ``[N, K, D, D]``
            with a positive diagonal; None otherwise.
        shape_param: the family's per-component shape parameter, ``[N, K]`` (degrees of
            freedom for ``student_t``, the exponent beta for ``gennorm``); None otherwise.

    Rows (one mixture per input) are selected with ``params[rows]`` and joined with
    :meth:`cat`; :meth:`affine` maps the mixture through ``t -> shift + scale * t``
    (un-standardising a model's answer).
    """

    log_pi: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor
    family: str = "gaussian"
    scale_tril: torch.Tensor | None = None
    shape_param: torch.Tensor | None = None

    @property
    def pi(self) -> torch.Tensor:
        """Mixing coefficients, ``[N, K]``, summing to one along ``K``."""
        return self.log_pi.exp()

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensor fields that are set, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }

    def map(self, fn) -> MixtureParameters:
        """The same mixture with ``fn`` applied to every tensor (detach, index, cast...)."""
        changed = {name: fn(value) for name, value in self.tensors().items()}
        return dataclasses.replace(self, **changed)

    def replace(self, **changes) -> MixtureParameters:
        """A copy with the given fields replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def __len__(self) -> int:
        """``N``, the number of mixtures (one per input)."""
        return self.mu.shape[0]

    def __getitem__(self, rows) -> MixtureParameters:
        """The mixtures of ``rows``: a slice, an index tensor, a boolean mask or an int.

        The result is ``[N', K, D]`` again (an int keeps its row as ``N' = 1``).

        Example:
            >>> p = MixtureParameters(torch.zeros(4, 1), torch.arange(4.0).view(4, 1, 1),
            ...                       torch.ones(4, 1, 1))
            >>> p[1:3].mu.flatten().tolist(), p[2].mu.shape
            ([1.0, 2.0], torch.Size([1, 1, 1]))
        """
        if isinstance(rows, bool) or not isinstance(rows, (int, slice, torch.Tensor, list)):
            raise TypeError(
                "rows must be an int, a slice, a list or a tensor of indices or a boolean "
                f"mask, got {type(rows).__name__}"
            )
        if isinstance(rows, int):
            n = len(self)
            if not -n <= rows < n:
                raise IndexError(f"row {rows} is out of range for {n} mixtures")
            rows = slice(rows % n, rows % n + 1)
        return self.map(lambda value: value[rows])

    @staticmethod
    def cat(parts) -> MixtureParameters:
        """The mixtures of ``parts`` (a sequence of MixtureParameters) one after another.

        All parts must have the same family, ``K``, ``D``, dtype and fields set.
        """
        parts = list(parts)
        if not parts or not all(isinstance(p, MixtureParameters) for p in parts):
            raise TypeError("parts must be a non-empty sequence of MixtureParameters")
        first = parts[0]
        for i, p in enumerate(parts[1:], start=1):
            if p.family != first.family or set(p.tensors()) != set(first.tensors()):
                raise ValueError(
                    f"parts[{i}] has family {p.family!r} and fields {sorted(p.tensors())}; "
                    f"parts[0] has {first.family!r} and {sorted(first.tensors())}"
                )
            if p.mu.shape[1:] != first.mu.shape[1:] or p.mu.dtype != first.mu.dtype:
                raise ValueError(
                    f"parts[{i}] is [N, K, D] = {tuple(p.mu.shape)} ({p.mu.dtype}); parts[0] "
                    f"has K, D = {tuple(first.mu.shape[1:])} ({first.mu.dtype})"
                )
        joined = {name: torch.cat([getattr(p, name) for p in parts]) for name in first.tensors()}
        return first.replace(**joined)

    def affine(self, shift, scale) -> MixtureParameters:
        r"""The mixture of :math:`\text{shift} + \text{scale} \cdot t` for :math:`t` drawn from this one.

        Locations become ``shift + scale * mu``; scales and Cholesky factors are multiplied
        by ``scale`` (each row ``d`` of a factor by ``scale[d]``), and the shape parameters
        stay. This maps a model trained on standardised targets back to the data's units;
        its log-densities drop by :math:`\sum_d \log \text{scale}_d`.

        Arguments:
            shift: a number or ``D`` numbers (tensor or array), finite.
            scale: a positive number or ``D`` positive numbers.

        Raises:
            ValueError: for a scale that is not positive and finite, a shift that is not
                finite, ``D`` that does not match, or angles (``von_mises``: no scaling
                keeps their period).
        """
        if self.family == "von_mises":
            raise ValueError("affine does not apply to the von_mises family (angles)")
        D = self.mu.shape[-1]
        shift, scale = (
            torch.as_tensor(v, dtype=self.mu.dtype, device=self.mu.device).reshape(-1)
            for v in (shift, scale)
        )
        for name, value in (("shift", shift), ("scale", scale)):
            if value.numel() not in (1, D):
                raise ValueError(f"{name} must be one number or D = {D}, got {value.numel()}")
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"{name} must be finite, got {value.tolist()}")
        if not bool((scale > 0).all()):
            raise ValueError(f"scale must be positive, got {scale.tolist()}")
        scale_tril = self.scale_tril
        if scale_tril is not None:
            scale_tril = scale_tril * scale.expand(D).unsqueeze(-1)  # row d times scale[d]
        return self.replace(
            mu=shift + scale * self.mu, sigma=scale * self.sigma, scale_tril=scale_tril
        )

    def detach(self) -> MixtureParameters:
        """The same parameters, cut from the autograd graph (for plotting and sampling)."""
        return self.map(torch.Tensor.detach)

    def distribution(self) -> MixtureSameFamily:
        """The mixture as a ``torch.distributions`` object: batch ``(N,)``, event ``(D,)``."""
        family = get_family(self.family)
        comps = family.distribution(self.mu, self.sigma, self.shape_param, self.scale_tril)
        return MixtureSameFamily(Categorical(logits=self.log_pi, validate_args=False), comps)

    def validate(self, name: str = "params") -> MixtureParameters:
        """Return self after checking types, shapes and values; raise naming the field.

        ``log_pi`` must be ``[N, K]`` and normalised; ``mu`` ``[N, K, D]`` and finite;
        ``sigma`` ``mu``'s shape, finite and positive; ``scale_tril`` (full covariance)
        ``[N, K, D, D]``, lower triangular with a positive diagonal; ``shape_param``
        ``[N, K]``, finite and positive. Every public function taking mixture parameters
        calls this, so a wrong shape is an error, never a silent broadcast.
        """
        family = get_family(self.family)
        _check_types(self, name)
        N, K, D = _check_shapes(self, name)
        _check_values(self, name)
        if self.scale_tril is not None:
            _check_scale_tril(self, name, family, (N, K, D, D))
        _check_shape_param(self, name, family, (N, K))
        return self


def _check_types(params: MixtureParameters, name: str) -> None:
    for field in ("log_pi", "mu", "sigma"):
        if not isinstance(getattr(params, field), torch.Tensor):
            raise TypeError(f"{name}.{field} must be a floating torch.Tensor")
    for field, value in params.tensors().items():
        if not value.is_floating_point():
            raise TypeError(f"{name}.{field} must be a floating torch.Tensor")


def _check_shapes(params: MixtureParameters, name: str) -> tuple[int, int, int]:
    mu, log_pi, sigma = params.mu, params.log_pi, params.sigma
    if mu.dim() != 3:
        raise ValueError(f"{name}.mu must be [N, K, D], got shape {tuple(mu.shape)}")
    N, K, D = mu.shape
    if K == 0 or D == 0:
        raise ValueError(
            f"{name}.mu must have at least one component and one dimension, "
            f"got shape {tuple(mu.shape)}"
        )
    if log_pi.shape != (N, K):
        raise ValueError(
            f"{name}.log_pi must be [N, K] = {(N, K)} to match mu, got {tuple(log_pi.shape)}"
        )
    if sigma.shape != mu.shape:
        raise ValueError(
            f"{name}.sigma must have mu's shape {tuple(mu.shape)}, got {tuple(sigma.shape)}"
        )
    return N, K, D


def _check_values(params: MixtureParameters, name: str) -> None:
    log_pi, sigma = params.log_pi, params.sigma
    for field, value in params.tensors().items():
        if field != "log_pi" and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name}.{field} contains NaN or inf")
    if torch.isnan(log_pi).any() or (log_pi == math.inf).any():
        raise ValueError(f"{name}.log_pi contains NaN or +inf")
    if log_pi.numel():
        total = torch.logsumexp(log_pi.double(), -1)
        tol = 1e-4 if log_pi.dtype in (torch.float16, torch.bfloat16, torch.float32) else 1e-9
        if not bool((total.abs() <= tol).all()):
            raise ValueError(
                f"{name}.log_pi must be normalised (logsumexp over K = 0), got values up "
                f"to {float(total.abs().max()):.3g} away"
            )
    if not bool((sigma > 0).all()):
        raise ValueError(f"{name}.sigma must be positive everywhere")
    smallest = smallest_scale(sigma.dtype)
    if not bool((sigma >= smallest).all()):
        raise ValueError(
            f"{name}.sigma has values below {smallest:.3g}, too small for {sigma.dtype} "
            f"((t - mu)^2 / sigma^2 would overflow): use float64 or a larger floor"
        )


def _check_scale_tril(params: MixtureParameters, name: str, family: Family, shape) -> None:
    if family.name != "gaussian":
        raise ValueError(f"{name}.scale_tril applies to the gaussian family only")
    tril = params.scale_tril
    if tril.shape != shape:
        raise ValueError(
            f"{name}.scale_tril must be [N, K, D, D] = {shape}, got {tuple(tril.shape)}"
        )
    if not bool((tril.triu(1) == 0).all()):
        raise ValueError(f"{name}.scale_tril must be lower triangular")
    if not bool((tril.diagonal(dim1=-2, dim2=-1) > 0).all()):
        raise ValueError(f"{name}.scale_tril must have a positive diagonal")
    marginal = tril.pow(2).sum(-1).sqrt()
    if not torch.allclose(params.sigma, marginal, rtol=1e-4, atol=0):
        raise ValueError(
            f"{name}.sigma must be the marginal standard deviations of scale_tril "
            f"(the norms of its rows) for a full covariance"
        )


def _check_shape_param(params: MixtureParameters, name: str, family: Family, shape) -> None:
    value, what = params.shape_param, family.shape_param_name
    if what is None:
        if value is not None:
            raise ValueError(f"the {family.name} family takes no {name}.shape_param")
        return
    if value is None:
        raise ValueError(f"the {family.name} family needs {name}.shape_param ({what}), [N, K]")
    if value.shape != shape:
        raise ValueError(
            f"{name}.shape_param ({what}) must be [N, K] = {shape}, got {tuple(value.shape)}"
        )
    if not bool((value > 0).all()):
        raise ValueError(f"{name}.shape_param ({what}) must be positive")


def smallest_scale(dtype: torch.dtype) -> float:
    """The smallest scale the log-densities handle in ``dtype``: sqrt of its smallest normal.

    Below it, a squared standardised distance overflows for targets a unit away.
    """
    return math.sqrt(torch.finfo(dtype).tiny)


def check_params(params, name: str = "params") -> MixtureParameters:
    """``params`` if it is valid :class:`MixtureParameters`; ``TypeError``/``ValueError`` if not."""
    if not isinstance(params, MixtureParameters):
        raise TypeError(f"{name} must be MixtureParameters, got {type(params).__name__}")
    return params.validate(name)


def _unpack(params: MixtureParameters, insert: int | None = None):
    """``(mu, sigma, shape, scale_tril)``, each with a new axis at ``insert`` if given."""
    out = []
    for value in (params.mu, params.sigma, params.shape_param, params.scale_tril):
        out.append(value if value is None or insert is None else value.unsqueeze(insert))
    return out


def log_joint(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    r""":math:`\ln \pi_k + \ln f(p \mid \theta_k)` for ``P`` points per mixture: ``[N, P, K]``.

    ``points`` ``[N, P, D]``. Unchecked (callers validate): the loss, the responsibilities
    and the mode search all stand on it.
    """
    mu, sigma, shape, tril = _unpack(params, insert=1)  # [N, 1, K, ...]
    log_f = get_family(params.family).log_prob(points.unsqueeze(2), mu, sigma, shape, tril)
    return params.log_pi.unsqueeze(1) + log_f  # [N, P, K]


def log_prob(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Mixture log-density at ``P`` points per mixture, ``[N, P]`` (unchecked)."""
    return torch.logsumexp(log_joint(params, points), dim=-1)


def component_moments(params: MixtureParameters) -> tuple[torch.Tensor, torch.Tensor]:
    """Each component's mean and per-dimension variance, ``[N, K, D]`` each (unchecked)."""
    args = _unpack(params)
    family = get_family(params.family)
    return family.mean(*args), family.variance(*args)


def component_cdf(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Each component's cdf at ``P`` points per mixture (``D = 1``), ``[N, P, K]``."""
    mu, sigma, shape, tril = _unpack(params, insert=1)
    return get_family(params.family).cdf(points.unsqueeze(2), mu, sigma, shape, tril)


def select(params: MixtureParameters, index: torch.Tensor) -> tuple:
    """The parameters of component ``index[s, n]`` of mixture ``n``: tensors ``[S, N, ...]``."""
    S, N = index.shape
    out = []
    for value in _unpack(params):
        if value is None:
            out.append(None)
            continue
        trailing = value.shape[2:]
        idx = index.view(S, N, 1, *([1] * len(trailing))).expand(S, N, 1, *trailing)
        out.append(value.expand(S, *value.shape).gather(2, idx).squeeze(2))
    return tuple(out)
