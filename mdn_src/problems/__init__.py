"""The problems the book solves, each with what is known exactly about it.

:mod:`~mdn_src.problems.toy` draws PRML §5.6's toy data, :mod:`~mdn_src.problems.oracle`
gives its exact densities and Bayes figures, and :mod:`~mdn_src.problems.approximation` the
best mixture of each size against them; :mod:`~mdn_src.problems.arm` is Bishop's two-link
robot arm; :mod:`~mdn_src.problems.datasets` loads the real data shipped in ``data/``.
"""

from . import oracle
from .approximation import MixtureFit, fit_exact_density
from .arm import (
    LENGTHS,
    Standardizer,
    closest_pose,
    conditional_mean_pose,
    end_effector_rms,
    forward_kinematics,
    inverse_kinematics,
    make_arm_data,
    mirror_pose,
)
from .datasets import GEYSER_CODES, load_geyser, load_geyser_table, load_mcycle
from .toy import AMPLITUDE, NOISE_HALF_WIDTH, make_toy_data, test_grid, toy_curve

__all__ = [
    "AMPLITUDE",
    "GEYSER_CODES",
    "LENGTHS",
    "MixtureFit",
    "NOISE_HALF_WIDTH",
    "Standardizer",
    "closest_pose",
    "conditional_mean_pose",
    "end_effector_rms",
    "fit_exact_density",
    "forward_kinematics",
    "inverse_kinematics",
    "load_geyser",
    "load_geyser_table",
    "load_mcycle",
    "make_arm_data",
    "make_toy_data",
    "mirror_pose",
    "oracle",
    "test_grid",
    "toy_curve",
]
