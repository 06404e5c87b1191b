"""mdn_src: mixture density networks in PyTorch, and the exact answer to PRML's toy problem.

One home per job (the README's table lists every module):

* :mod:`~mdn_src.mixture`: component families and :class:`~mdn_src.mixture.MixtureParameters`,
  a batch of mixtures, with their densities; the bottom of the library;
* :mod:`~mdn_src.model`: :class:`~mdn_src.model.MDN`; :class:`~mdn_src.model.HeadSpec`: the head that maps
  raw outputs to a mixture; :mod:`~mdn_src.mlp`: the plain network (and its Gaussian reading);
* :mod:`~mdn_src.loss`: the log-space NLL; :mod:`~mdn_src.io`: one file format for models;
* :mod:`~mdn_src.training`: :class:`~mdn_src.training.TrainConfig`,
  :func:`~mdn_src.training.fit`, :class:`~mdn_src.training.History`,
  :func:`~mdn_src.training.fit_cached`; :mod:`~mdn_src.fast`: the closed-form training step
  (internal API);
* :mod:`~mdn_src.inference`: sampling, moments and every mode of a mixture;
* :mod:`~mdn_src.metrics`: NLL, CRPS, PIT, coverage and one :func:`~mdn_src.metrics.score` row;
* :mod:`~mdn_src.problems`: the toy problem and its exact answer, the robot arm, real data;
* :mod:`~mdn_src.claims`: a result over seeds, glued and checked;
* :mod:`~mdn_src.plotting`: every figure of the book; :mod:`~mdn_src.estimator`: the
  scikit-learn face, :class:`~mdn_src.estimator.MDNRegressor`.
"""

from ._version import VERSION as __version__  # noqa: F401 (re-exported)
from .claims import ClaimFailed, Summary, check, paired, report, seeds_needed, summarize
from .inference import (
    Modes,
    approximate_mode,
    central_interval,
    conditional_modes,
    density_grid,
    mixture_mean,
    mixture_variance,
    quantile,
    sample,
)
from .loss import mixture_log_prob, mixture_nll, responsibilities
from .metrics import coverage, crps, mean_nll, mse, pit, score
from .mixture import COVARIANCES, FAMILIES, GeneralizedNormal, MixtureParameters, get_family
from .mlp import MLP, fan_in_weights
from .model import MDN, HeadSpec
from .problems import (
    GEYSER_CODES,
    MixtureFit,
    Standardizer,
    closest_pose,
    conditional_mean_pose,
    end_effector_rms,
    fit_exact_density,
    forward_kinematics,
    inverse_kinematics,
    load_geyser,
    load_geyser_table,
    load_mcycle,
    make_arm_data,
    make_toy_data,
    mirror_pose,
    oracle,
    test_grid,
    toy_curve,
)
from .training import (
    RECOMMENDED_MODEL,
    History,
    TrainConfig,
    fit,
    fit_cached,
    recommended_config,
    rule_of_thumb_bandwidth,
)

__all__ = [
    "COVARIANCES",
    "ClaimFailed",
    "FAMILIES",
    "GEYSER_CODES",
    "GeneralizedNormal",
    "HeadSpec",
    "History",
    "MDN",
    "MDNRegressor",
    "MLP",
    "MixtureFit",
    "MixtureParameters",
    "Modes",
    "RECOMMENDED_MODEL",
    "Standardizer",
    "Summary",
    "TrainConfig",
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
    "fan_in_weights",
    "fit_exact_density",
    "forward_kinematics",
    "get_family",
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
    "oracle",
    "paired",
    "pit",
    "quantile",
    "recommended_config",
    "report",
    "responsibilities",
    "rule_of_thumb_bandwidth",
    "sample",
    "score",
    "seeds_needed",
    "summarize",
    "test_grid",
    "toy_curve",
]


def __getattr__(name: str):
    """Import :class:`~mdn_src.estimator.MDNRegressor` on first use: its module loads
    scikit-learn, which takes longer to import (1.4 s here) than everything else in the
    package together."""
    if name == "MDNRegressor":
        from .estimator import MDNRegressor

        globals()["MDNRegressor"] = MDNRegressor  # later look-ups skip this function
        return MDNRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
