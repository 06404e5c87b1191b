r"""The mixture: its parameters, its component families, and its log-density.

An MDN's output for ``N`` inputs is a ``K``-component mixture over a ``D``-dimensional
target (PRML eq. 5.148 with any component family :math:`f`):

.. math::

    p(t \mid x) = \sum_{k=1}^{K} \pi_k(x)\, f\big(t \mid \mu_k(x), \sigma_k(x), \ldots\big).

This module is the bottom of the package: the loss, the model, prediction and metrics all
stand on it, and it imports only the argument checks and :mod:`~mdn_src.distributions`.
The component log-density is computed here and nowhere else (:meth:`Family.log_prob`).

Families (``FAMILIES``), each with a location ``mu`` and a scale ``sigma`` per component and
target dimension:

* ``gaussian``: ``sigma`` is the standard deviation; with ``covariance="full"`` the
  parameters also hold a Cholesky factor ``scale_tril`` (and ``sigma`` is the marginal
  standard deviation, the norm of each row of the factor);
* ``laplace``: ``sigma`` is the scale ``b`` (variance ``2 b^2``);
* ``student_t``: ``sigma`` is the scale, ``shape`` the degrees of freedom per component;
* ``gennorm``: the generalised normal, ``shape`` its exponent :math:`\beta` per component;
* ``von_mises``: targets are angles in radians, ``mu`` is wrapped to :math:`(-\pi, \pi]`
  and the concentration is :math:`\kappa = 1 / \sigma^2` (close to a Gaussian of standard
  deviation ``sigma`` when ``sigma`` is small).

Adding a family is one subclass of :class:`Family` registered in ``FAMILIES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import (
    Categorical,
    Distribution,
    Independent,
    Laplace,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
    StudentT,
    VonMises,
)

from ._checks import positive_float
from .distributions import GeneralizedNormal

#: The covariance structures an MDN head can learn (``"full"``: gaussian family only).
COVARIANCES = ("isotropic", "diagonal", "full")
#: How a full covariance's raw off-diagonal outputs become Cholesky entries (see
#: :class:`ComponentSpec`).
OFF_DIAGONALS = ("free", "scaled")
#: How a raw output ``a`` becomes a positive scale before the floor ``sigma_min`` is added:
#: ``softplus`` (the library's default, ``log(1 + e^a)``: linear for large ``a``), ``exp``
#: (PRML's choice, eq. 5.151: exponential both ways) and ``elu`` (``ELU(a) + 1``: ``e^a``
#: below 0, ``1 + a`` above). All three tend to 0 like ``e^a`` as ``a -> -inf``.
SIGMA_MAPS = ("softplus", "exp", "elu")
_LOG_2PI = math.log(2 * math.pi)


def _fork_sample(generator: torch.Generator | None, device: torch.device, draw):
    """Run ``draw()`` (which uses torch's global RNG) seeded from ``generator``, if given.

    torch's samplers for the Gamma and von Mises distributions take no generator; seeding a
    forked global RNG from the caller's generator makes their draws reproducible without
    touching the caller's global RNG state.
    """
    if generator is None:
        return draw()
    seed = int(torch.randint(0, 2**62, (), generator=generator))
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        return draw()


class Family:
    """A component family. Subclasses define the density and its derived quantities.

    Every method takes the component parameters as tensors with any leading batch shape
    ``B``: ``mu`` and ``sigma`` ``[*B, D]``, ``shape`` ``[*B]`` (or None), ``scale_tril``
    ``[*B, D, D]`` (or None), and broadcasts them against ``value`` ``[*B, D]``.
    """

    name: str = ""
    #: What ``MixtureParameters.shape`` holds for this family, or None if it has no shape.
    shape_name: str | None = None
    covariances: tuple[str, ...] = ("isotropic", "diagonal")

    def log_prob(self, value, mu, sigma, shape, scale_tril) -> torch.Tensor:
        """Component log-density of ``value`` ``[*B, D]``, summed over ``D``: ``[*B]``."""
        raise NotImplementedError

    def distribution(self, mu, sigma, shape, scale_tril) -> Distribution:
        """The components as a ``torch.distributions`` object, batch ``B``, event ``(D,)``."""
        raise NotImplementedError

    def mean(self, mu, sigma, shape, scale_tril) -> torch.Tensor:
        return mu

    def variance(self, mu, sigma, shape, scale_tril) -> torch.Tensor:
        """Per-dimension variance of each component, ``[*B, D]``."""
        raise NotImplementedError

    def cdf(self, value, mu, sigma, shape, scale_tril) -> torch.Tensor:
        """The cdf for ``D = 1``: ``value``, ``mu``, ``sigma`` ``[*B, 1]``; returns ``[*B]``."""
        raise NotImplementedError

    def sample(self, mu, sigma, shape, scale_tril, generator) -> torch.Tensor:
        """One draw from each component, ``[*B, D]``."""
        return _fork_sample(
            generator, mu.device, lambda: self.distribution(mu, sigma, shape, scale_tril).sample()
        )

    def wrap(self, value: torch.Tensor) -> torch.Tensor:
        """Map a target to its canonical representative (angles to (-pi, pi])."""
        return value

    def difference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``a - b`` in the target space (the shorter way round for angles)."""
        return a - b

    def _missing(self, quantity: str):
        return ValueError(f"the {self.name} family has no {quantity}")


class Gaussian(Family):
    """``"gaussian"``: normal components, ``sigma`` the standard deviation (any covariance)."""

    name = "gaussian"
    covariances = COVARIANCES

    def log_prob(self, value, mu, sigma, shape, scale_tril):
        D = mu.shape[-1]
        if scale_tril is None:
            z = (value - mu) / sigma
            return -0.5 * z.pow(2).sum(-1) - sigma.log().sum(-1) - 0.5 * D * _LOG_2PI
        # Full covariance: a triangular solve, never an inverse or a determinant.
        diff = (value - mu).unsqueeze(-1)  # [*B, D, 1]
        tril = scale_tril.expand(*diff.shape[:-2], D, D)
        z = torch.linalg.solve_triangular(tril, diff, upper=False).squeeze(-1)
        log_det = scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * z.pow(2).sum(-1) - log_det - 0.5 * D * _LOG_2PI

    def distribution(self, mu, sigma, shape, scale_tril):
        if scale_tril is not None:
            return MultivariateNormal(mu, scale_tril=scale_tril, validate_args=False)
        return Independent(Normal(mu, sigma, validate_args=False), 1)

    def variance(self, mu, sigma, shape, scale_tril):
        return sigma.pow(2)

    def cdf(self, value, mu, sigma, shape, scale_tril):
        return torch.special.ndtr(((value - mu) / sigma).squeeze(-1))

    def sample(self, mu, sigma, shape, scale_tril, generator):
        noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        if scale_tril is None:
            return mu + sigma * noise
        return mu + (scale_tril @ noise.unsqueeze(-1)).squeeze(-1)


class LaplaceFamily(Family):
    """``"laplace"``: Laplace components, ``sigma`` the scale ``b`` (variance ``2 b^2``)."""

    name = "laplace"

    def log_prob(self, value, mu, sigma, shape, scale_tril):
        return (-(value - mu).abs() / sigma - sigma.log() - math.log(2.0)).sum(-1)

    def distribution(self, mu, sigma, shape, scale_tril):
        return Independent(Laplace(mu, sigma, validate_args=False), 1)

    def variance(self, mu, sigma, shape, scale_tril):
        return 2 * sigma.pow(2)

    def cdf(self, value, mu, sigma, shape, scale_tril):
        z = ((value - mu) / sigma).squeeze(-1)
        return 0.5 - 0.5 * z.sign() * torch.expm1(-z.abs())

    def sample(self, mu, sigma, shape, scale_tril, generator):
        u = torch.rand(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device) - 0.5
        u = u.clamp_min(torch.finfo(u.dtype).eps - 0.5)  # u = -0.5 would give log(0)
        return mu - sigma * u.sign() * torch.log1p(-2 * u.abs())


class StudentTFamily(Family):
    """``"student_t"``: Student's t components, ``shape`` the degrees of freedom."""

    name = "student_t"
    shape_name = "df"

    def log_prob(self, value, mu, sigma, shape, scale_tril):
        df = shape.unsqueeze(-1)
        z = (value - mu) / sigma
        return (
            torch.lgamma((df + 1) / 2)
            - torch.lgamma(df / 2)
            - 0.5 * (df * math.pi).log()
            - sigma.log()
            - (df + 1) / 2 * torch.log1p(z.pow(2) / df)
        ).sum(-1)

    def distribution(self, mu, sigma, shape, scale_tril):
        df = shape.unsqueeze(-1).expand_as(mu)
        return Independent(StudentT(df, mu, sigma, validate_args=False), 1)

    def mean(self, mu, sigma, shape, scale_tril):
        if not bool((shape > 1).all()):
            raise ValueError("the student_t family has no mean where df <= 1")
        return mu

    def variance(self, mu, sigma, shape, scale_tril):
        if not bool((shape > 2).all()):
            raise ValueError("the student_t family has no variance where df <= 2")
        df = shape.unsqueeze(-1)
        return sigma.pow(2) * df / (df - 2)

    def cdf(self, value, mu, sigma, shape, scale_tril):
        # torch has no regularised incomplete beta function: SciPy computes it (float64).
        from scipy.special import stdtr

        z = ((value - mu) / sigma).squeeze(-1)
        df = shape.expand_as(z)
        out = stdtr(df.detach().double().cpu().numpy(), z.detach().double().cpu().numpy())
        return torch.as_tensor(out, dtype=value.dtype, device=value.device)


class GeneralizedNormalFamily(Family):
    """``"gennorm"``: :class:`~mdn_src.distributions.GeneralizedNormal`, ``shape`` its exponent."""

    name = "gennorm"
    shape_name = "beta"

    def log_prob(self, value, mu, sigma, shape, scale_tril):
        return self.distribution(mu, sigma, shape, scale_tril).log_prob(value)

    def distribution(self, mu, sigma, shape, scale_tril):
        beta = shape.unsqueeze(-1).expand_as(mu)
        return Independent(GeneralizedNormal(mu, sigma, beta, validate_args=False), 1)

    def variance(self, mu, sigma, shape, scale_tril):
        return self.distribution(mu, sigma, shape, scale_tril).base_dist.variance

    def cdf(self, value, mu, sigma, shape, scale_tril):
        return self.distribution(mu, sigma, shape, scale_tril).base_dist.cdf(value).squeeze(-1)


class VonMisesFamily(Family):
    """``"von_mises"``: angles in radians, concentration ``1 / sigma^2``."""

    name = "von_mises"

    def log_prob(self, value, mu, sigma, shape, scale_tril):
        kappa = sigma.pow(-2)
        # kappa (cos(t - mu) - 1) - log(2 pi I0(kappa) e^-kappa): no overflow for large
        # kappa; cos(d) - 1 = -2 sin^2(d / 2) avoids cancellation for small d.
        half = torch.sin((value - mu) / 2)
        return (-2 * kappa * half.pow(2) - _LOG_2PI - torch.special.i0e(kappa).log()).sum(-1)

    def distribution(self, mu, sigma, shape, scale_tril):
        return Independent(VonMises(mu, sigma.pow(-2), validate_args=False), 1)

    def mean(self, mu, sigma, shape, scale_tril):
        raise self._missing("mean on the line (angles have a circular mean)")

    def variance(self, mu, sigma, shape, scale_tril):
        raise self._missing("variance on the line (angles have a circular variance)")

    def cdf(self, value, mu, sigma, shape, scale_tril):
        # P(-pi < theta <= t), t in (-pi, pi]; SciPy's von Mises cdf (float64) unwraps.
        from scipy.stats import vonmises

        args = [a.detach().double().cpu().numpy() for a in (value, mu, sigma.pow(-2))]
        t, loc, kappa = np.broadcast_arrays(*(a.squeeze(-1) for a in args))
        out = vonmises.cdf(t, kappa, loc=loc) - vonmises.cdf(-np.pi, kappa, loc=loc)
        return torch.as_tensor(out, dtype=value.dtype, device=value.device)

    def sample(self, mu, sigma, shape, scale_tril, generator):
        return self.wrap(super().sample(mu, sigma, shape, scale_tril, generator))

    def wrap(self, value):
        return math.pi - torch.remainder(math.pi - value, 2 * math.pi)  # pi stays pi

    def difference(self, a, b):
        return self.wrap(a - b)


#: Every component family, by name.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Gaussian(),
        LaplaceFamily(),
        StudentTFamily(),
        GeneralizedNormalFamily(),
        VonMisesFamily(),
    )
}


def get_family(name) -> Family:
    """The :class:`Family` called ``name``; ``ValueError`` listing the choices otherwise."""
    if isinstance(name, Family):
        return name
    if name not in FAMILIES:
        raise ValueError(f"component must be one of {tuple(FAMILIES)}, got {name!r}")
    return FAMILIES[name]


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
        shape: the family's per-component shape, ``[N, K]`` (degrees of freedom for
            ``student_t``, the exponent beta for ``gennorm``); None for the others.
    """

    log_pi: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor
    family: str = "gaussian"
    scale_tril: torch.Tensor | None = None
    shape: torch.Tensor | None = None

    @property
    def pi(self) -> torch.Tensor:
        """Mixing coefficients, ``[N, K]``, summing to one along ``K``."""
        return self.log_pi.exp()

    @property
    def components(self) -> Family:
        """The :class:`Family` object of ``family``."""
        return get_family(self.family)

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
        return MixtureParameters(**{**self._asdict(), **changed})

    def _replace(self, **changes) -> MixtureParameters:
        """A copy with the given fields replaced (as for a NamedTuple)."""
        return MixtureParameters(**{**self._asdict(), **changes})

    def _asdict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def detach(self) -> MixtureParameters:
        """The same parameters, cut from the autograd graph (for plotting and sampling)."""
        return self.map(torch.Tensor.detach)

    def distribution(self) -> MixtureSameFamily:
        """The mixture as a ``torch.distributions`` object: batch ``(N,)``, event ``(D,)``."""
        comps = self.components.distribution(self.mu, self.sigma, self.shape, self.scale_tril)
        return MixtureSameFamily(Categorical(logits=self.log_pi, validate_args=False), comps)

    def validate(self, name: str = "params") -> MixtureParameters:
        """Return self after checking types, shapes and values; raise naming the field.

        ``log_pi`` must be ``[N, K]`` and normalised; ``mu`` ``[N, K, D]`` and finite;
        ``sigma`` ``mu``'s shape, finite and positive; ``scale_tril`` (full covariance)
        ``[N, K, D, D]``, lower triangular with a positive diagonal; ``shape`` ``[N, K]``,
        finite and positive. Every public function taking mixture parameters calls this, so
        a wrong shape is an error, never a silent broadcast.
        """
        family = self.components
        for field, value in self.tensors().items():
            if not value.is_floating_point():
                raise TypeError(f"{name}.{field} must be a floating torch.Tensor")
        for field in ("log_pi", "mu", "sigma"):
            if not isinstance(getattr(self, field), torch.Tensor):
                raise TypeError(f"{name}.{field} must be a floating torch.Tensor")
        mu, log_pi, sigma = self.mu, self.log_pi, self.sigma
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
        for field, value in self.tensors().items():
            if field != "log_pi" and not bool(torch.isfinite(value).all()):
                raise ValueError(f"{name}.{field} contains NaN or inf")
        if torch.isnan(log_pi).any() or (log_pi == math.inf).any():
            raise ValueError(f"{name}.log_pi contains NaN or +inf")
        if N and K:
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
        if self.scale_tril is not None:
            if family.name != "gaussian":
                raise ValueError(f"{name}.scale_tril applies to the gaussian family only")
            tril = self.scale_tril
            if tril.shape != (N, K, D, D):
                raise ValueError(
                    f"{name}.scale_tril must be [N, K, D, D] = {(N, K, D, D)}, "
                    f"got {tuple(tril.shape)}"
                )
            if not bool((tril.triu(1) == 0).all()):
                raise ValueError(f"{name}.scale_tril must be lower triangular")
            if not bool((tril.diagonal(dim1=-2, dim2=-1) > 0).all()):
                raise ValueError(f"{name}.scale_tril must have a positive diagonal")
            marginal = tril.pow(2).sum(-1).sqrt()
            if not torch.allclose(sigma, marginal, rtol=1e-4, atol=0):
                raise ValueError(
                    f"{name}.sigma must be the marginal standard deviations of scale_tril "
                    f"(the norms of its rows) for a full covariance"
                )
        if family.shape_name is None and self.shape is not None:
            raise ValueError(f"the {family.name} family takes no {name}.shape")
        if family.shape_name is not None:
            if self.shape is None:
                raise ValueError(
                    f"the {family.name} family needs {name}.shape ({family.shape_name}), [N, K]"
                )
            if self.shape.shape != (N, K):
                raise ValueError(
                    f"{name}.shape ({family.shape_name}) must be [N, K] = {(N, K)}, "
                    f"got {tuple(self.shape.shape)}"
                )
            if not bool((self.shape > 0).all()):
                raise ValueError(f"{name}.shape ({family.shape_name}) must be positive")
        return self


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


def _components(params: MixtureParameters, insert: int | None = None):
    """``(mu, sigma, shape, scale_tril)``, each with a new axis at ``insert`` if given."""
    out = []
    for value in (params.mu, params.sigma, params.shape, params.scale_tril):
        out.append(value if value is None or insert is None else value.unsqueeze(insert))
    return out


def log_joint(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    r""":math:`\ln \pi_k + \ln f(p \mid \theta_k)` for ``P`` points per mixture: ``[N, P, K]``.

    ``points`` ``[N, P, D]``. Unchecked (callers validate): the loss, the responsibilities
    and the mode search all stand on it.
    """
    mu, sigma, shape, tril = _components(params, insert=1)  # [N, 1, K, ...]
    log_f = params.components.log_prob(points.unsqueeze(2), mu, sigma, shape, tril)
    return params.log_pi.unsqueeze(1) + log_f  # [N, P, K]


def log_prob(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Mixture log-density at ``P`` points per mixture, ``[N, P]`` (unchecked)."""
    return torch.logsumexp(log_joint(params, points), dim=-1)


def component_moments(params: MixtureParameters) -> tuple[torch.Tensor, torch.Tensor]:
    """Each component's mean and per-dimension variance, ``[N, K, D]`` each (unchecked)."""
    args = _components(params)
    family = params.components
    return family.mean(*args), family.variance(*args)


def component_cdf(params: MixtureParameters, points: torch.Tensor) -> torch.Tensor:
    """Each component's cdf at ``P`` points per mixture (``D = 1``), ``[N, P, K]``."""
    mu, sigma, shape, tril = _components(params, insert=1)
    return params.components.cdf(points.unsqueeze(2), mu, sigma, shape, tril)


def select(params: MixtureParameters, index: torch.Tensor) -> tuple:
    """The parameters of component ``index[s, n]`` of mixture ``n``: tensors ``[S, N, ...]``."""
    S, N = index.shape
    out = []
    for value in _components(params):
        if value is None:
            out.append(None)
            continue
        trailing = value.shape[2:]
        idx = index.view(S, N, 1, *([1] * len(trailing))).expand(S, N, 1, *trailing)
        out.append(value.expand(S, *value.shape).gather(2, idx).squeeze(2))
    return tuple(out)


def positive_scale(a: torch.Tensor, sigma_map: str = "softplus") -> torch.Tensor:
    r"""A positive scale from raw outputs ``a`` (any shape), before the floor is added.

    ``"softplus"``: :math:`\ln(1 + e^a)`; ``"exp"``: :math:`e^a`; ``"elu"``:
    :math:`\operatorname{ELU}(a) + 1`, that is :math:`e^a` for :math:`a \le 0` and
    :math:`1 + a` above. Each is positive except where :math:`e^a` underflows, and
    tends to 0 like :math:`e^a` as :math:`a \to -\infty`: only a floor
    ``sigma_min > 0`` keeps a scale away from 0.

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
class ComponentSpec:
    """How an MDN's head maps raw outputs to a mixture: family, covariance and floors.

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
            ``L_ij`` (``i > j``) of the Cholesky factor ``L``. ``"free"`` (default):
            ``L_ij = a_ij``. ``"scaled"``: ``L_ij = a_ij L_ii``, i.e. ``L = diag(s) (I + A)``,
            so the raw outputs set the correlations alone and the diagonal sets the scales;
            a component then needs an off-diagonal output as large as its length over its
            width to become a thin needle at an angle to the axes, where ``"free"`` gets
            there by shrinking one diagonal entry.
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
        family = get_family(self.family)
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
        """Map raw outputs ``a`` ``[N, sum(head_sizes)]`` to :class:`MixtureParameters`.

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
            off = a_off.reshape(-1, K, len(rows))  # [N, K, D(D-1)/2]
            if self.off_diagonal == "scaled":
                off = off * sigma[:, :, rows]  # L_ij = a_ij L_ii: a sets correlations only
            lower[:, :, rows, cols] = off
            scale_tril = torch.diag_embed(sigma) + lower  # [N, K, D, D]
            sigma = scale_tril.pow(2).sum(-1).sqrt()  # marginal standard deviations
        shape = None
        if self.family == "student_t":
            if self.df is None:
                # Strictly above df_min even where softplus underflows (a < -16 in float32).
                above = torch.nextafter(
                    torch.tensor(self.df_min, dtype=a.dtype), torch.tensor(math.inf, dtype=a.dtype)
                ).to(a.device)
                shape = (self.df_min + F.softplus(rest.pop(0))).clamp_min(above)
            else:
                shape = torch.full_like(log_pi, self.df)
        elif self.family == "gennorm":
            low, high = self.beta_range
            # Offset so that a raw output of 0 gives beta = 2 (a Gaussian) when 2 is in the
            # range: a freshly initialised network starts from Gaussian-like components.
            start = min(max(2.0, low + 1e-3 * (high - low)), high - 1e-3 * (high - low))
            offset = math.log((start - low) / (high - start))
            shape = low + (high - low) * torch.sigmoid(rest.pop(0) + offset)
        return MixtureParameters(log_pi, mu, sigma, self.family, scale_tril, shape)
