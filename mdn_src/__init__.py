"""mdn_src: mixture density networks in PyTorch, and the exact answer to PRML's toy problem.

The modules, one idea each: :mod:`~mdn_src.data` (the toy problem), :mod:`~mdn_src.oracle`
(its exact densities and Bayes figures), :mod:`~mdn_src.datasets` (real data, shipped),
:mod:`~mdn_src.mixture` (mixture parameters and component
families), :mod:`~mdn_src.distributions` (the generalised normal), :mod:`~mdn_src.model`
(MLP and MDN),
:mod:`~mdn_src.loss` (log-space NLL), :mod:`~mdn_src.train` (``fit``),
:mod:`~mdn_src.predict` (sampling, moments), :mod:`~mdn_src.modes` (every mode of a
mixture), :mod:`~mdn_src.metrics`, :mod:`~mdn_src.claims` (a result over seeds, glued and
checked) and :mod:`~mdn_src.plotting`.
"""

from ._version import VERSION as __version__  # noqa: F401 (re-exported)
from .approximation import MixtureFit, fit_exact_density
from .arm import (
    Standardizer,
    closest_pose,
    conditional_mean_pose,
    end_effector_rms,
    forward_kinematics,
    inverse_kinematics,
    make_arm_data,
    mirror_pose,
)
from .cache import fit_cached
from .claims import ClaimFailed, Summary, check, report
from .data import make_toy_data, test_grid, toy_curve
from .datasets import GEYSER_CODES, load_geyser, load_geyser_table, load_mcycle
from .distributions import GeneralizedNormal
from .loss import mixture_log_prob, mixture_nll, responsibilities
from .metrics import central_interval, coverage, crps, mean_nll, mse, pit, quantile
from .mixture import COVARIANCES, FAMILIES, MixtureParameters
from .model import MDN, MLP
from .modes import Modes, conditional_modes
from .predict import approximate_mode, density_grid, mixture_mean, mixture_variance, sample
from .train import History, fit, rule_of_thumb_bandwidth

__all__ = [
    "COVARIANCES",
    "ClaimFailed",
    "FAMILIES",
    "GEYSER_CODES",
    "GeneralizedNormal",
    "History",
    "MDN",
    "MDNRegressor",
    "MLP",
    "MixtureFit",
    "MixtureParameters",
    "Modes",
    "Standardizer",
    "Summary",
    "approximate_mode",
    "central_interval",
    "check",
    "closest_pose",
    "conditional_mean_pose",
    "conditional_modes",
    "coverage",
    "crps",
    "density_grid",
    "end_effector_rms",
    "fit",
    "fit_cached",
    "fit_exact_density",
    "forward_kinematics",
    "inverse_kinematics",
    "load_geyser",
    "load_geyser_table",
    "load_mcycle",
    "make_arm_data",
    "make_toy_data",
    "mean_nll",
    "mirror_pose",
    "mixture_log_prob",
    "mixture_mean",
    "mixture_nll",
    "mixture_variance",
    "mse",
    "pit",
    "quantile",
    "report",
    "responsibilities",
    "rule_of_thumb_bandwidth",
    "sample",
    "test_grid",
    "toy_curve",
]


def __getattr__(name: str):
    """Import :class:`MDNRegressor` on first use: its module loads scikit-learn, which
    takes longer to import (1.4 s here) than everything else in the package together."""
    if name == "MDNRegressor":
        from .estimator import MDNRegressor

        globals()["MDNRegressor"] = MDNRegressor  # later look-ups skip this function
        return MDNRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
