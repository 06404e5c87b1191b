r"""A component distribution that ``torch.distributions`` lacks: the generalised normal.

.. math::

    p(t \mid \mu, s, \beta) = \frac{\beta}{2 s\, \Gamma(1/\beta)}
        \exp\!\Big(-\Big|\frac{t - \mu}{s}\Big|^{\beta}\Big)

is a Laplace for :math:`\beta = 1`, a Gaussian (with variance :math:`s^2 / 2`) for
:math:`\beta = 2`, and tends to the uniform on :math:`(\mu - s, \mu + s)` as
:math:`\beta \to \infty`: the family that can approach the toy problem's uniform noise.
It follows torch's own distributions (``arg_constraints``, ``support``, ``log_prob``,
``cdf``, ``mean``, ``variance``, ``rsample``), so everything downstream treats it like
``Normal``. This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Distribution, Gamma, constraints
from torch.distributions.utils import broadcast_all

__all__ = ["LOG_POWER_CAP", "GeneralizedNormal", "abs_power"]

#: ``|z|^beta`` is computed as ``exp(beta * log|z|)``; above this exponent it continues
#: linearly in ``beta * log|z|`` instead of overflowing, so the log-density of a target far
#: from every component stays finite and keeps a finite, non-zero gradient.
LOG_POWER_CAP = 30.0


def abs_power(z: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """``|z| ** beta`` in log space, finite for every finite ``z`` (see ``LOG_POWER_CAP``).

    At ``z = 0`` the value is 0 and the gradient finite (``|z|`` is floored at the dtype's
    smallest normal number before the log, so no ``0 * inf`` reaches autograd).
    """
    tiny = torch.finfo(z.dtype).tiny
    u = beta * z.abs().clamp_min(tiny).log()
    capped = u.clamp_max(LOG_POWER_CAP)
    return torch.where(
        u <= LOG_POWER_CAP, capped.exp(), math.exp(LOG_POWER_CAP) * (1.0 + u - LOG_POWER_CAP)
    )


class GeneralizedNormal(Distribution):
    r"""The generalised normal (exponential power) distribution, in log space.

    Arguments:
        loc: location :math:`\mu`.
        scale: scale :math:`s > 0`.
        beta: shape :math:`\beta > 0`; 1 is a Laplace, 2 a Gaussian, large values approach
            a uniform on :math:`(\mu - s, \mu + s)`.

    Example:
        >>> d = GeneralizedNormal(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(2.0))
        >>> round(float(d.variance), 4)  # s^2 Gamma(3/beta) / Gamma(1/beta) = 1/2
        0.5
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "beta": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, beta, validate_args=None):
        self.loc, self.scale, self.beta = broadcast_all(loc, scale, beta)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedNormal, _instance)
        batch_shape = torch.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.beta = self.beta.expand(batch_shape)
        super(GeneralizedNormal, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> torch.Tensor:
        return self.loc

    @property
    def mode(self) -> torch.Tensor:
        return self.loc

    @property
    def variance(self) -> torch.Tensor:
        inv = self.beta.reciprocal()
        return self.scale.pow(2) * (torch.lgamma(3 * inv) - torch.lgamma(inv)).exp()

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return (
            self.beta.log()
            - math.log(2.0)
            - self.scale.log()
            - torch.lgamma(self.beta.reciprocal())
            - abs_power(z, self.beta)
        )

    def cdf(self, value: torch.Tensor) -> torch.Tensor:
        r""":math:`\tfrac12 + \tfrac12 \operatorname{sign}(z)\, P(1/\beta, |z|^\beta)`, with
        :math:`P` the regularised lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        inv = self.beta.reciprocal()
        return 0.5 + 0.5 * z.sign() * torch.special.gammainc(inv, abs_power(z, self.beta))

    def rsample(self, sample_shape=torch.Size()) -> torch.Tensor:  # noqa: B008 (torch's signature)
        """``|Z|^beta ~ Gamma(1/beta, 1)`` with a random sign (reparameterised)."""
        shape = self._extended_shape(sample_shape)
        magnitude = (
            Gamma(self.beta.reciprocal(), torch.ones_like(self.beta)).rsample(sample_shape)
            ** self.beta.reciprocal()
        )
        sign = torch.randint(0, 2, shape, device=self.loc.device).to(self.loc.dtype) * 2 - 1
        return self.loc + self.scale * (sign * magnitude)

    def entropy(self) -> torch.Tensor:
        inv = self.beta.reciprocal()
        return inv - self.beta.log() + math.log(2.0) + self.scale.log() + torch.lgamma(inv)
