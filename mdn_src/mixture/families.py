r"""The component families of a mixture: each one's density, moments, cdf and sampler.

Every family has a location ``mu`` and a scale ``sigma`` per component and target dimension:

* ``gaussian``: ``sigma`` is the standard deviation; with ``covariance="full"`` the
  parameters also hold a Cholesky factor ``scale_tril`` (and ``sigma`` is the marginal
  standard deviation, the norm of each row of the factor);
* ``laplace``: ``sigma`` is the scale ``b`` (variance ``2 b^2``);
* ``student_t``: ``sigma`` is the scale, ``shape_param`` the degrees of freedom per component;
* ``gennorm``: the generalised normal, ``shape_param`` its exponent :math:`\beta` per component;
* ``von_mises``: targets are angles in radians, ``mu`` is wrapped to :math:`(-\pi, \pi]`
  and the concentration is :math:`\kappa = 1 / \sigma^2` (close to a Gaussian of standard
  deviation ``sigma`` when ``sigma`` is small).

``torch.distributions`` supplies each family's distribution object, and the log-density of
the Laplace and Student's t families. The library keeps its own code where torch has no
family (the generalised normal, :mod:`~mdn_src.mixture.gennorm`), or where its own is needed:
the Gaussian log-density runs in every loss and mode search and handles a Cholesky factor
by one triangular solve; the von Mises one stays finite for any concentration; torch's
samplers for the Laplace and Gaussian take no ``torch.Generator``, and its normal cdf
(``erf``) loses the tails that ``ndtr`` keeps.

Adding a family is one subclass of :class:`Family` registered in ``FAMILIES``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import (
    Distribution,
    Independent,
    Laplace,
    MultivariateNormal,
    Normal,
    StudentT,
    VonMises,
)

from .gennorm import GeneralizedNormal

__all__ = [
    "COVARIANCES",
    "FAMILIES",
    "Family",
    "GaussianFamily",
    "GeneralizedNormalFamily",
    "LaplaceFamily",
    "StudentTFamily",
    "VonMisesFamily",
    "fork_sample",
    "get_family",
]

#: The covariance structures an MDN head can learn (``"full"``: gaussian family only).
COVARIANCES = ("isotropic", "diagonal", "full")
_LOG_2PI = math.log(2 * math.pi)


def fork_sample(generator: torch.Generator | None, device: torch.device, draw):
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
    ``B``: ``mu`` and ``sigma`` ``[*B, D]``, ``shape_param`` ``[*B]`` (or None), ``scale_tril``
    ``[*B, D, D]`` (or None), and broadcasts them against ``value`` ``[*B, D]``.
    """

    name: str = ""
    #: What ``MixtureParameters.shape_param`` holds for this family (None: it has none).
    shape_param_name: str | None = None
    covariances: tuple[str, ...] = ("isotropic", "diagonal")

    def log_prob(self, value, mu, sigma, shape_param, scale_tril) -> torch.Tensor:
        """Component log-density of ``value`` ``[*B, D]``, summed over ``D``: ``[*B]``."""
        raise NotImplementedError

    def distribution(self, mu, sigma, shape_param, scale_tril) -> Distribution:
        """The components as a ``torch.distributions`` object, batch ``B``, event ``(D,)``."""
        raise NotImplementedError

    def mean(self, mu, sigma, shape_param, scale_tril) -> torch.Tensor:
        return mu

    def variance(self, mu, sigma, shape_param, scale_tril) -> torch.Tensor:
        """Per-dimension variance of each component, ``[*B, D]``."""
        raise NotImplementedError

    def cdf(self, value, mu, sigma, shape_param, scale_tril) -> torch.Tensor:
        """The cdf for ``D = 1``: ``value``, ``mu``, ``sigma`` ``[*B, 1]``; returns ``[*B]``."""
        raise NotImplementedError

    def sample(self, mu, sigma, shape_param, scale_tril, generator) -> torch.Tensor:
        """One draw from each component, ``[*B, D]``."""
        return fork_sample(
            generator,
            mu.device,
            lambda: self.distribution(mu, sigma, shape_param, scale_tril).sample(),
        )

    def wrap(self, value: torch.Tensor) -> torch.Tensor:
        """Map a target to its canonical representative (angles to (-pi, pi])."""
        return value

    def difference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``a - b`` in the target space (the shorter way round for angles)."""
        return a - b

    def _missing(self, quantity: str):
        return ValueError(f"the {self.name} family has no {quantity}")


class GaussianFamily(Family):
    """``"gaussian"``: normal components, ``sigma`` the standard deviation (any covariance)."""

    name = "gaussian"
    covariances = COVARIANCES

    def log_prob(self, value, mu, sigma, shape_param, scale_tril):
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

    def distribution(self, mu, sigma, shape_param, scale_tril):
        if scale_tril is not None:
            return MultivariateNormal(mu, scale_tril=scale_tril, validate_args=False)
        return Independent(Normal(mu, sigma, validate_args=False), 1)

    def variance(self, mu, sigma, shape_param, scale_tril):
        return sigma.pow(2)

    def cdf(self, value, mu, sigma, shape_param, scale_tril):
        return torch.special.ndtr(((value - mu) / sigma).squeeze(-1))

    def sample(self, mu, sigma, shape_param, scale_tril, generator):
        noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        if scale_tril is None:
            return mu + sigma * noise
        return mu + (scale_tril @ noise.unsqueeze(-1)).squeeze(-1)


class LaplaceFamily(Family):
    """``"laplace"``: Laplace components, ``sigma`` the scale ``b`` (variance ``2 b^2``)."""

    name = "laplace"

    def log_prob(self, value, mu, sigma, shape_param, scale_tril):
        return self.distribution(mu, sigma, shape_param, scale_tril).log_prob(value)

    def distribution(self, mu, sigma, shape_param, scale_tril):
        return Independent(Laplace(mu, sigma, validate_args=False), 1)

    def variance(self, mu, sigma, shape_param, scale_tril):
        return 2 * sigma.pow(2)

    def cdf(self, value, mu, sigma, shape_param, scale_tril):
        z = ((value - mu) / sigma).squeeze(-1)
        return 0.5 - 0.5 * z.sign() * torch.expm1(-z.abs())

    def sample(self, mu, sigma, shape_param, scale_tril, generator):
        u = torch.rand(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device) - 0.5
        u = u.clamp_min(torch.finfo(u.dtype).eps - 0.5)  # u = -0.5 would give log(0)
        return mu - sigma * u.sign() * torch.log1p(-2 * u.abs())


class StudentTFamily(Family):
    """``"student_t"``: Student's t components, ``shape`` the degrees of freedom."""

    name = "student_t"
    shape_param_name = "df"

    def log_prob(self, value, mu, sigma, shape_param, scale_tril):
        return self.distribution(mu, sigma, shape_param, scale_tril).log_prob(value)

    def distribution(self, mu, sigma, shape_param, scale_tril):
        df = shape_param.unsqueeze(-1).expand_as(mu)
        return Independent(StudentT(df, mu, sigma, validate_args=False), 1)

    def mean(self, mu, sigma, shape_param, scale_tril):
        if not bool((shape_param > 1).all()):
            raise ValueError("the student_t family has no mean where df <= 1")
        return mu

    def variance(self, mu, sigma, shape_param, scale_tril):
        if not bool((shape_param > 2).all()):
            raise ValueError("the student_t family has no variance where df <= 2")
        df = shape_param.unsqueeze(-1)
        return sigma.pow(2) * df / (df - 2)

    def cdf(self, value, mu, sigma, shape_param, scale_tril):
        # torch has no regularised incomplete beta function: SciPy computes it (float64).
        from scipy.special import stdtr

        z = ((value - mu) / sigma).squeeze(-1)
        df = shape_param.expand_as(z)
        out = stdtr(df.detach().double().cpu().numpy(), z.detach().double().cpu().numpy())
        return torch.as_tensor(out, dtype=value.dtype, device=value.device)


class GeneralizedNormalFamily(Family):
    """``"gennorm"``: :class:`~mdn_src.mixture.GeneralizedNormal`, ``shape`` its exponent."""

    name = "gennorm"
    shape_param_name = "beta"

    def log_prob(self, value, mu, sigma, shape_param, scale_tril):
        return self.distribution(mu, sigma, shape_param, scale_tril).log_prob(value)

    def distribution(self, mu, sigma, shape_param, scale_tril):
        beta = shape_param.unsqueeze(-1).expand_as(mu)
        return Independent(GeneralizedNormal(mu, sigma, beta, validate_args=False), 1)

    def variance(self, mu, sigma, shape_param, scale_tril):
        return self.distribution(mu, sigma, shape_param, scale_tril).base_dist.variance

    def cdf(self, value, mu, sigma, shape_param, scale_tril):
        return (
            self.distribution(mu, sigma, shape_param, scale_tril).base_dist.cdf(value).squeeze(-1)
        )


class VonMisesFamily(Family):
    """``"von_mises"``: angles in radians, concentration ``1 / sigma^2``."""

    name = "von_mises"

    def log_prob(self, value, mu, sigma, shape_param, scale_tril):
        kappa = sigma.pow(-2)
        # kappa (cos(t - mu) - 1) - log(2 pi I0(kappa) e^-kappa): no overflow for large
        # kappa; cos(d) - 1 = -2 sin^2(d / 2) avoids cancellation for small d.
        half = torch.sin((value - mu) / 2)
        return (-2 * kappa * half.pow(2) - _LOG_2PI - torch.special.i0e(kappa).log()).sum(-1)

    def distribution(self, mu, sigma, shape_param, scale_tril):
        return Independent(VonMises(mu, sigma.pow(-2), validate_args=False), 1)

    def mean(self, mu, sigma, shape_param, scale_tril):
        raise self._missing("mean on the line (angles have a circular mean)")

    def variance(self, mu, sigma, shape_param, scale_tril):
        raise self._missing("variance on the line (angles have a circular variance)")

    def cdf(self, value, mu, sigma, shape_param, scale_tril):
        # P(-pi < theta <= t), t in (-pi, pi]; SciPy's von Mises cdf (float64) unwraps.
        from scipy.stats import vonmises

        args = [a.detach().double().cpu().numpy() for a in (value, mu, sigma.pow(-2))]
        t, loc, kappa = np.broadcast_arrays(*(a.squeeze(-1) for a in args))
        out = vonmises.cdf(t, kappa, loc=loc) - vonmises.cdf(-np.pi, kappa, loc=loc)
        return torch.as_tensor(out, dtype=value.dtype, device=value.device)

    def sample(self, mu, sigma, shape_param, scale_tril, generator):
        return self.wrap(super().sample(mu, sigma, shape_param, scale_tril, generator))

    def wrap(self, value):
        return math.pi - torch.remainder(math.pi - value, 2 * math.pi)  # pi stays pi

    def difference(self, a, b):
        return self.wrap(a - b)


#: Every component family, by name.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        GaussianFamily(),
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
        raise ValueError(f"family must be one of {tuple(FAMILIES)}, got {name!r}")
    return FAMILIES[name]
