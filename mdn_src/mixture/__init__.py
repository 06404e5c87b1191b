"""Mixtures: the component families, a batch of mixtures, and the generalised normal.

:mod:`~mdn_src.mixture.families` holds each family's density, moments, cdf and sampler
(``FAMILIES``, by name); :mod:`~mdn_src.mixture.parameters` holds :class:`MixtureParameters`
and the mixture log-density; :mod:`~mdn_src.mixture.gennorm` the generalised normal
distribution, which ``torch.distributions`` lacks. This package is the bottom of the library:
it imports nothing else from it.
"""

from .families import (
    COVARIANCES,
    FAMILIES,
    Family,
    GaussianFamily,
    GeneralizedNormalFamily,
    LaplaceFamily,
    StudentTFamily,
    VonMisesFamily,
    get_family,
)
from .gennorm import GeneralizedNormal
from .parameters import (
    MixtureParameters,
    check_params,
    component_cdf,
    component_moments,
    log_joint,
    log_prob,
    select,
    smallest_scale,
)

__all__ = [
    "COVARIANCES",
    "FAMILIES",
    "Family",
    "GaussianFamily",
    "GeneralizedNormal",
    "GeneralizedNormalFamily",
    "LaplaceFamily",
    "MixtureParameters",
    "StudentTFamily",
    "VonMisesFamily",
    "check_params",
    "component_cdf",
    "component_moments",
    "get_family",
    "log_joint",
    "log_prob",
    "select",
    "smallest_scale",
]
