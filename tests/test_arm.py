"""Tests of the robot arm (mdn_src/arm.py) against poses worked out by hand.

The references are written here: hand positions computed on paper for a few poses, the
reach from the law of cosines, and the mirror pose checked through the forward kinematics
(two independent routes to the same point).
"""

import math

import numpy as np
import pytest
import torch

from mdn_src.problems import arm

PI = math.pi


@pytest.mark.parametrize(
    "theta,hand",
    [
        ((0.0, PI), (1.0, 0.0)),  # straight arm along x1
        (((PI / 2), PI), (0.0, 1.0)),  # straight arm along x2
        ((0.0, PI / 2), (0.8, -0.2)),  # 0.8 (1, 0) - 0.2 (cos pi/2, sin pi/2)
        ((PI / 2, 3 * PI / 2), (-0.2, 0.8)),  # 0.8 (0, 1) - 0.2 (cos 2 pi, sin 2 pi)
        ((PI / 4, PI / 2), (0.8 / math.sqrt(2) + 0.2 / math.sqrt(2), 0.6 / math.sqrt(2))),
    ],
)
def test_forward_kinematics_of_poses_worked_by_hand(theta, hand):
    np.testing.assert_allclose(arm.forward_kinematics([theta]), [hand], atol=1e-12)


def test_forward_kinematics_takes_tensors_and_other_link_lengths():
    theta = torch.tensor([[0.0, PI]], dtype=torch.float64)
    np.testing.assert_allclose(arm.forward_kinematics(theta, (2.0, 0.5)), [[2.5, 0.0]], atol=1e-12)
    with pytest.raises(ValueError, match=r"theta must have shape \[N, 2\]"):
        arm.forward_kinematics(np.zeros(2))


def test_reach_is_the_annulus_of_the_sampled_elbow_angles():
    assert arm.REACH == pytest.approx((math.sqrt(0.8**2 + 0.2**2), 1.0))
    assert arm.REACH[0] == pytest.approx(0.8246, abs=1e-4)
    x, _ = arm.make_arm_data(20_000, seed=3)
    radius = np.linalg.norm(x.astype(np.float64), axis=1)
    assert radius.min() >= arm.REACH[0] - 1e-6 and radius.max() <= 1.0 + 1e-6
    assert radius.min() < 0.826 and radius.max() > 0.9999  # both rims are reached


def test_poses_are_uniform_in_the_report_ranges_and_seeded():
    theta = arm.sample_poses(50_000, seed=0)
    assert theta.shape == (50_000, 2) and theta.dtype == np.float64
    assert arm.in_ranges(theta).all()
    np.testing.assert_allclose(theta.mean(0), [0.75, PI], atol=0.01)
    np.testing.assert_allclose(theta.var(0), [0.9**2 / 12, PI**2 / 12], rtol=0.02)
    np.testing.assert_array_equal(arm.sample_poses(5, seed=7), arm.sample_poses(5, seed=7))
    gen = np.random.default_rng(7)
    np.testing.assert_array_equal(arm.sample_poses(5, gen), arm.sample_poses(5, seed=7))
    with pytest.raises(TypeError, match="seed must be an int"):
        arm.sample_poses(5, seed=1.5)


def test_make_arm_data_pairs_positions_with_their_poses():
    x, theta = arm.make_arm_data(7, seed=2)
    assert x.shape == theta.shape == (7, 2) and x.dtype == theta.dtype == np.float32
    np.testing.assert_allclose(x, arm.forward_kinematics(theta), atol=1e-6)
    x_again, _ = arm.make_arm_data(7, seed=2)
    np.testing.assert_array_equal(x, x_again)


def test_mirror_pose_worked_by_hand():
    # theta = (0, pi/2) puts the hand at (0.8, -0.2), polar angle phi = atan2(-0.2, 0.8).
    phi = math.atan2(-0.2, 0.8)
    np.testing.assert_allclose(arm.mirror_pose([[0.0, PI / 2]]), [[2 * phi, 3 * PI / 2]])
    np.testing.assert_allclose(arm.forward_kinematics([[2 * phi, 3 * PI / 2]]), [[0.8, -0.2]])


def test_mirror_pose_reaches_the_same_point_and_mirrors_back():
    theta = arm.sample_poses(1000, seed=4)
    mirror = arm.mirror_pose(theta)
    np.testing.assert_allclose(
        arm.forward_kinematics(mirror), arm.forward_kinematics(theta), atol=1e-12
    )
    np.testing.assert_allclose(mirror[:, 1], 2 * PI - theta[:, 1])
    back = arm.mirror_pose(mirror)
    np.testing.assert_allclose(np.cos(back), np.cos(theta), atol=1e-12)
    np.testing.assert_allclose(np.sin(back), np.sin(theta), atol=1e-12)
    # A different pose, except the straight arm, which is its own mirror.
    assert (np.abs(mirror - theta).max(1) > 1e-3).mean() > 0.99
    np.testing.assert_allclose(arm.mirror_pose([[0.7, PI]]), [[0.7, PI]], atol=1e-12)


def test_about_two_thirds_of_targets_have_both_poses_in_range():
    theta = arm.sample_poses(100_000, seed=5)
    both = arm.in_ranges(arm.mirror_pose(theta)).mean()
    assert 0.6 < both < 0.75


def test_inverse_kinematics_finds_the_pose_and_its_mirror():
    x, theta = arm.make_arm_data(500, seed=6)
    poses, valid = arm.inverse_kinematics(x.astype(np.float64))
    assert poses.shape == (500, 2, 2) and valid.shape == (500, 2)
    for i in range(2):  # both solutions put the hand on the target
        np.testing.assert_allclose(arm.forward_kinematics(poses[:, i]), x, atol=1e-5)
    assert (poses[:, 0, 1] <= PI).all() and (poses[:, 1, 1] >= PI).all()
    theta = theta.astype(np.float64)
    mirror = arm.mirror_pose(theta)
    # The sampled pose is one of the two solutions, its mirror the other.
    d_pose = np.abs(poses - theta[:, None]).max(2).min(1)
    d_mirror = np.abs(poses - mirror[:, None]).max(2).min(1)
    assert d_pose.max() < 2e-3 and d_mirror.max() < 2e-3
    assert valid.any(1).all()
    np.testing.assert_array_equal(valid.all(1), arm.in_ranges(mirror))


def test_conditional_mean_pose_averages_the_valid_solutions_only():
    theta = arm.sample_poses(400, seed=8)
    x = arm.forward_kinematics(theta)
    mirror = arm.mirror_pose(theta)
    both = arm.in_ranges(mirror)
    assert 0 < both.sum() < 400
    expected = np.where(both[:, None], (theta + mirror) / 2, theta)
    np.testing.assert_allclose(arm.conditional_mean_pose(x), expected, atol=1e-9)
    with pytest.raises(ValueError, match="no pose inside the sampled ranges"):
        arm.conditional_mean_pose([[-1.0, 0.0]])


def test_end_effector_distance_and_rms_by_hand():
    theta = [[0.0, PI], [0.0, PI]]  # the hand at (1, 0) twice
    targets = [[1.0, 0.3], [1.4, 0.0]]
    np.testing.assert_allclose(arm.end_effector_distance(theta, targets), [0.3, 0.4])
    assert arm.end_effector_rms(theta, targets) == pytest.approx(math.sqrt(0.125))
    assert arm.end_effector_rms(theta, [[1.0, 0.0], [1.0, 0.0]]) == pytest.approx(0, abs=1e-15)
    with pytest.raises(ValueError, match="same shape"):
        arm.end_effector_rms(theta, [[1.0, 0.0]])


def test_closest_pose_picks_the_candidate_that_lands_nearest():
    candidates = np.array([[[0.0, PI], [PI / 2, PI]]] * 2)  # hands at (1, 0) and (0, 1)
    targets = [[0.1, 0.9], [0.9, 0.0]]
    np.testing.assert_allclose(arm.closest_pose(candidates, targets), [[PI / 2, PI], [0.0, PI]])
    only_first = np.array([[True, False], [True, False]])
    np.testing.assert_allclose(
        arm.closest_pose(torch.tensor(candidates), targets, only_first), [[0.0, PI], [0.0, PI]]
    )
    with pytest.raises(ValueError, match="at least one True"):
        arm.closest_pose(candidates, targets, np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match=r"candidates must have shape \[N, C, 2\]"):
        arm.closest_pose(candidates[0], targets)


def test_standardizer_by_hand_and_round_trip():
    data = np.array([[0.0, 10.0, 5.0], [2.0, 30.0, 5.0]], dtype=np.float32)
    s = arm.Standardizer.from_data(data)
    np.testing.assert_allclose(s.mean, [1.0, 20.0, 5.0])
    np.testing.assert_allclose(s.scale, [1.0, 10.0, 1.0])  # a constant column keeps scale 1
    z = s.transform(data)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]])
    np.testing.assert_allclose(s.inverse(torch.from_numpy(z)), data)
    with pytest.raises(ValueError, match=r"shape \[N, F\]"):
        arm.Standardizer.from_data(np.zeros(3))
