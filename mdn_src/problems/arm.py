r"""Bishop's two-link robot arm (1994 report, NCRG/94/004): an inverse problem in 2-D.

The arm has links of lengths ``L1 = 0.8`` and ``L2 = 0.2`` and joint angles
:math:`\theta = (\theta_1, \theta_2)` in radians; its end effector (the hand) is at

.. math::

    x = L_1 \begin{pmatrix} \cos\theta_1 \\ \sin\theta_1 \end{pmatrix}
      - L_2 \begin{pmatrix} \cos(\theta_1 + \theta_2) \\ \sin(\theta_1 + \theta_2) \end{pmatrix},

so :math:`\theta_2 = \pi` is the straight arm, on the outer rim of the reach. The report draws
:math:`\theta_1 \sim U(0.3, 1.2)` and :math:`\theta_2 \sim U(\pi/2, 3\pi/2)`; the hand then
lies in the annulus :math:`|x| \in [\sqrt{L_1^2 + L_2^2}, L_1 + L_2] \approx [0.825, 1]`
(``REACH``). Every pose has a mirror image, elbow up against elbow down, that puts the hand
at the same point: :math:`(2\varphi - \theta_1,\ 2\pi - \theta_2)`, with :math:`\varphi` the
polar angle of the hand (:func:`~mdn_src.problems.mirror_pose`). Learning :math:`\theta`
from :math:`x` is therefore a two-branch inverse problem wherever both poses lie in the
sampled ranges.

Arrays are NumPy, float64 unless stated otherwise; poses and positions are ``[N, 2]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..checks import positive_int

__all__ = [
    "LENGTHS",
    "REACH",
    "THETA1_RANGE",
    "THETA2_RANGE",
    "Standardizer",
    "closest_pose",
    "conditional_mean_pose",
    "end_effector_distance",
    "end_effector_rms",
    "forward_kinematics",
    "in_ranges",
    "inverse_kinematics",
    "make_arm_data",
    "mirror_pose",
    "sample_poses",
]

#: Link lengths ``(L1, L2)`` of Bishop's arm.
LENGTHS = (0.8, 0.2)
#: The range of the shoulder angle ``theta1`` the poses are drawn from, in radians.
THETA1_RANGE = (0.3, 1.2)
#: The range of the elbow angle ``theta2`` (``pi`` is the straight arm), in radians.
THETA2_RANGE = (0.5 * math.pi, 1.5 * math.pi)
#: Inner and outer radius of the hand's reach over ``THETA2_RANGE``: ``sqrt(L1^2 + L2^2)``
#: (elbow at a right angle) and ``L1 + L2`` (straight arm).
REACH = (math.hypot(*LENGTHS), LENGTHS[0] + LENGTHS[1])


def _poses(theta, name: str = "theta") -> np.ndarray:
    """``theta`` as a float64 ``[N, 2]`` array (a tensor is copied to the host)."""
    if hasattr(theta, "detach"):
        theta = theta.detach().cpu().numpy()
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[1] != 2:
        raise ValueError(f"{name} must have shape [N, 2], got {theta.shape}")
    return theta


def forward_kinematics(theta, lengths: tuple[float, float] = LENGTHS) -> np.ndarray:
    r"""Where the hand lands for joint angles ``theta`` ``[N, 2]``: positions ``[N, 2]``.

    :math:`x = L_1 (\cos\theta_1, \sin\theta_1) - L_2 (\cos(\theta_1 + \theta_2),
    \sin(\theta_1 + \theta_2))`.

    Example:
        >>> forward_kinematics([[0.0, math.pi]]).round(6).tolist()  # straight along x1
        [[1.0, 0.0]]
    """
    theta = _poses(theta)
    l1, l2 = lengths
    t1, t12 = theta[:, 0], theta[:, 0] + theta[:, 1]
    return np.stack([l1 * np.cos(t1) - l2 * np.cos(t12), l1 * np.sin(t1) - l2 * np.sin(t12)], 1)


def mirror_pose(theta, lengths: tuple[float, float] = LENGTHS) -> np.ndarray:
    r"""The other pose that puts the hand at the same point: ``[N, 2]``.

    The elbow is reflected across the line from the shoulder to the hand:
    :math:`(2\varphi - \theta_1,\ 2\pi - \theta_2)`, with :math:`\varphi` the polar angle of
    the hand. Mirroring twice gives the pose back (up to :math:`2\pi` in :math:`\theta_1`).
    """
    theta = _poses(theta)
    hand = forward_kinematics(theta, lengths)
    phi = np.arctan2(hand[:, 1], hand[:, 0])
    return np.stack([2 * phi - theta[:, 0], 2 * math.pi - theta[:, 1]], 1)


def in_ranges(theta) -> np.ndarray:
    """Boolean ``[N]``: the pose lies inside ``THETA1_RANGE`` x ``THETA2_RANGE`` (closed)."""
    theta = _poses(theta)
    (a1, b1), (a2, b2) = THETA1_RANGE, THETA2_RANGE
    return (theta[:, 0] >= a1) & (theta[:, 0] <= b1) & (theta[:, 1] >= a2) & (theta[:, 1] <= b2)


def inverse_kinematics(x, lengths: tuple[float, float] = LENGTHS) -> tuple[np.ndarray, np.ndarray]:
    r"""Both poses that put the hand at each position ``x`` ``[N, 2]``, by the law of cosines.

    :math:`|x|^2 = L_1^2 + L_2^2 - 2 L_1 L_2 \cos\theta_2` gives the elbow angle up to its
    mirror image; the shoulder angle follows from the hand's polar angle.

    Returns:
        ``(poses, valid)``: ``poses`` ``[N, 2, 2]``, solution 0 with :math:`\theta_2 \le \pi`
        and solution 1 its mirror (:math:`2\pi - \theta_2`), :math:`\theta_1` in
        :math:`(-\pi, \pi]`; ``valid`` ``[N, 2]`` marks the solutions inside the sampled
        ranges (``in_ranges``). Positions out of reach are clipped onto its edge.
    """
    x = _poses(x, "x")
    l1, l2 = lengths
    cos2 = (l1**2 + l2**2 - (x**2).sum(1)) / (2 * l1 * l2)
    elbow = np.arccos(np.clip(cos2, -1.0, 1.0))  # [N], in [0, pi]
    theta2 = np.stack([elbow, 2 * math.pi - elbow], 1)  # [N, 2]
    # x = R(theta1) (l1 - l2 cos theta2, -l2 sin theta2): theta1 = phi - (that vector's angle)
    phi = np.arctan2(x[:, 1], x[:, 0])[:, None]
    theta1 = phi - np.arctan2(-l2 * np.sin(theta2), l1 - l2 * np.cos(theta2))
    theta1 = math.pi - np.remainder(math.pi - theta1, 2 * math.pi)  # into (-pi, pi]
    poses = np.stack([theta1, theta2], 2)  # [N, 2 solutions, 2 angles]
    valid = in_ranges(poses.reshape(-1, 2)).reshape(-1, 2)
    return poses, valid


def conditional_mean_pose(x, lengths: tuple[float, float] = LENGTHS) -> np.ndarray:
    r"""The exact :math:`E[\theta \mid x]` of the sampled poses: the mean of the valid solutions.

    Poses are uniform over the sampled ranges and the Jacobian determinant of the forward
    kinematics, :math:`L_1 L_2 |\sin\theta_2|`, is the same for a pose and its mirror, so
    where both solutions lie in the ranges each has probability one half. This is the
    answer a network trained on the squared error of the angles tends to. ``[N, 2]``;
    every position needs at least one valid solution (a position reached by the data).
    """
    poses, valid = inverse_kinematics(x, lengths)
    if not valid.any(axis=1).all():
        raise ValueError("some positions have no pose inside the sampled ranges")
    weights = valid / valid.sum(axis=1, keepdims=True)  # [N, 2]
    return (weights[:, :, None] * poses).sum(axis=1)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def sample_poses(n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n`` poses drawn uniformly from ``THETA1_RANGE`` x ``THETA2_RANGE``, float64 ``[n, 2]``.

    Arguments:
        n: number of poses.
        seed: an int, or a ``numpy.random.Generator`` to draw from (no global state is used).
    """
    n = positive_int(n, "n")
    rng = _rng(seed)
    theta1 = rng.uniform(*THETA1_RANGE, size=n)
    theta2 = rng.uniform(*THETA2_RANGE, size=n)
    return np.stack([theta1, theta2], 1)


def make_arm_data(
    n: int = 1000, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` poses and their hand positions, noise-free, as in Bishop's report.

    Arguments:
        n: number of poses.
        seed: an int, or a ``numpy.random.Generator`` to draw from.

    Returns:
        ``(x, theta)``: hand positions and joint angles, float32 ``[n, 2]`` each; the
        inverse problem learns ``theta`` from ``x``.

    Example:
        >>> x, theta = make_arm_data(3, seed=1)
        >>> x.shape, theta.dtype
        ((3, 2), dtype('float32'))
    """
    theta = sample_poses(n, seed)
    return forward_kinematics(theta).astype(np.float32), theta.astype(np.float32)


def end_effector_distance(theta, x_target, lengths: tuple[float, float] = LENGTHS) -> np.ndarray:
    """Distance ``[N]`` from each target ``x_target`` ``[N, 2]`` to where ``theta`` puts the hand."""
    x_target = _poses(x_target, "x_target")
    reached = forward_kinematics(theta, lengths)
    if reached.shape != x_target.shape:
        raise ValueError(
            f"theta and x_target must have the same shape, got {reached.shape} and {x_target.shape}"
        )
    return np.linalg.norm(reached - x_target, axis=1)


def end_effector_rms(theta, x_target, lengths: tuple[float, float] = LENGTHS) -> float:
    r"""Root mean square distance between desired and reached hand positions.

    :math:`\sqrt{\frac1N \sum_n |\mathrm{FK}(\theta_n) - x_n|^2}`: the score a roboticist
    reads, in the units of the link lengths.
    """
    return float(np.sqrt(np.mean(end_effector_distance(theta, x_target, lengths) ** 2)))


def closest_pose(
    candidates, x_target, valid=None, lengths: tuple[float, float] = LENGTHS
) -> np.ndarray:
    """For each target, the candidate pose whose hand lands closest to it: ``[N, 2]``.

    Uses the known arm model to choose among several predicted poses (for instance the
    modes of an MDN's mixture).

    Arguments:
        candidates: poses ``[N, C, 2]``.
        x_target: target positions ``[N, 2]``.
        valid: optional boolean ``[N, C]``; only the True candidates compete (each row needs
            at least one).
        lengths: the arm's link lengths.
    """
    if hasattr(candidates, "detach"):
        candidates = candidates.detach().cpu().numpy()
    candidates = np.asarray(candidates, dtype=np.float64)
    x_target = _poses(x_target, "x_target")
    if candidates.ndim != 3 or candidates.shape[2] != 2 or len(candidates) != len(x_target):
        raise ValueError(
            f"candidates must have shape [N, C, 2] with N = {len(x_target)}, got {candidates.shape}"
        )
    N, C, _ = candidates.shape
    reached = forward_kinematics(candidates.reshape(N * C, 2), lengths).reshape(N, C, 2)
    distance = np.linalg.norm(reached - x_target[:, None, :], axis=2)  # [N, C]
    if valid is not None:
        if hasattr(valid, "detach"):
            valid = valid.detach().cpu().numpy()
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != (N, C):
            raise ValueError(f"valid must have shape {(N, C)}, got {valid.shape}")
        if not valid.any(axis=1).all():
            raise ValueError("every row of valid needs at least one True candidate")
        distance = np.where(valid, distance, np.inf)
    return candidates[np.arange(N), distance.argmin(axis=1)]


@dataclass(frozen=True)
class Standardizer:
    """Per-column standardisation, ``(a - mean) / scale``, measured once on training data.

    Attributes:
        mean: column means, ``[F]``.
        scale: column standard deviations (population, ``ddof=0``), ``[F]``, positive.

    Example:
        >>> s = Standardizer.from_data(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> s.transform([[1.0, 20.0]]).tolist(), s.inverse([[1.0, -1.0]]).tolist()
        ([[0.0, 0.0]], [[2.0, 10.0]])
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def from_data(cls, data) -> Standardizer:
        """Measure the columns of ``data`` ``[N, F]``; a constant column keeps scale 1."""
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or len(data) == 0:
            raise ValueError(f"data must have shape [N, F] with N >= 1, got {data.shape}")
        scale = data.std(axis=0)
        return cls(data.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def transform(self, data) -> np.ndarray:
        """``(data - mean) / scale``, in ``data``'s floating dtype (float32 stays float32)."""
        data = np.asarray(data)
        dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.float64
        return ((data - self.mean) / self.scale).astype(dtype)

    def inverse(self, data) -> np.ndarray:
        """``data * scale + mean``: back to the original units (a tensor is copied to the host)."""
        if hasattr(data, "detach"):
            data = data.detach().cpu().numpy()
        data = np.asarray(data)
        dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.float64
        return (data * self.scale + self.mean).astype(dtype)
