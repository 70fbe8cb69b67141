"""optimizers.classify: every status code, from synthetic paths and from real runs.

Real runs are compared by code and by step ranges, never by exact chaotic values, so the
tests hold under NPY_DISABLE_CPU_FEATURES (other SIMD kernels round exp/cos differently).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import landscapes
import optimizers
from optimizers import status as st


def path_to(end: tuple[float, float], start: tuple[float, float], count: int, rate: float):
    """From `start`, closing in on `end` geometrically: p_t = end + rate^t (start − end)."""
    t = np.arange(count)[:, None]
    return np.asarray(end) + rate**t * (np.asarray(start) - np.asarray(end))


def classify_path(name: str, points: np.ndarray, noise: float = 0.0, diverged_at=None):
    f = landscapes.get(name)
    return optimizers.classify(f, points, f.value(points), diverged_at, noise)


def run_one(name: str, optimizer: str, start, steps: int, noise: float = 0.0, seed: int = 0, **p):
    f = landscapes.get(name)
    traj = optimizers.run(
        f, optimizers.create(optimizer, **p), start, steps, noise=noise, seed=seed
    )
    points, losses = traj.points[:, 0], traj.losses[:, 0]
    return optimizers.classify(f, points, losses, int(traj.diverged_at[0]), noise)


# --- synthetic paths: each rule and its step ----------------------------------------------


def test_a_path_closing_in_on_the_global_minimum_settles_at_the_first_step_it_stays() -> None:
    points = path_to((0.0, 0.0), (-7.0, 2.0), 101, 0.8)
    status = classify_path("ill_conditioned", points)
    assert status.code == "settled_global"
    radius = st.STAY * st.span(landscapes.get("ill_conditioned"))  # 0.2
    distance = np.hypot(*(points - points[-1]).T)
    assert distance[status.step] <= radius < distance[status.step - 1]
    assert status.point == (points[-1, 0], points[-1, 1]) and status.floor is None


def test_the_settled_step_waits_for_the_loss_to_settle_too() -> None:
    # The path stays within STAY of its end from step 10, but its loss keeps falling
    # until step 60 (as Momentum's does in the Rastrigin preset's wide dip).
    f = landscapes.get("ill_conditioned")
    points = path_to((0.0, 0.0), (-7.0, 2.0), 101, 0.5)
    losses = np.concatenate([np.linspace(6.0, 0.5, 61), np.full(40, 0.5)])
    assert st._stays_from(points, points[-1], st.STAY * 20.0) <= 10
    status = optimizers.classify(f, points, losses)
    assert status.code == "settled_global" and status.step == 60
    # within LOSS_SETTLED of the descent counts as settled: a 1e-4 wobble does not
    losses[80] += 1e-4 * 5.5
    assert optimizers.classify(f, points, losses).step == 60


def test_a_path_resting_in_a_rastrigin_dip_is_a_local_minimum() -> None:
    f = landscapes.get("rastrigin")
    dip = st.stationary(f, np.array([4.0, -3.0]), 0.5)
    assert dip is not None
    points = path_to(tuple(dip), (4.5, -3.5), 80, 0.7)
    assert classify_path("rastrigin", points).code == "settled_local"
    centre = path_to((0.0, 0.0), (0.4, -0.3), 80, 0.7)
    assert classify_path("rastrigin", centre).code == "settled_global"


def test_sitting_on_the_saddle_point_is_stalled_not_settled() -> None:
    points = path_to((0.0, 0.0), (-1.8, 0.0), 200, 0.9)
    status = classify_path("saddle", points)
    assert status.code == "stalled_saddle"
    near = st.NEAR * 4.0
    assert np.hypot(*points[status.step]) <= near < np.hypot(*points[status.step - 1])


def test_a_period_two_bounce_is_oscillating() -> None:
    # SGD with lr = 1 on x²/20 + y²: y ← −y for ever while x settles.
    status = run_one("ill_conditioned", "sgd", (-7.0, 2.0), 200, lr=1.0)
    assert status.code == "oscillating" and status.step is None


def test_a_diverged_row_reports_its_step_and_last_finite_point() -> None:
    points = path_to((0.0, 0.0), (-7.0, 2.0), 20, 0.8)
    points[12:] = np.nan
    status = classify_path("ill_conditioned", points, diverged_at=12)
    assert status.code == "diverged" and status.step == 12
    assert status.point == (points[11, 0], points[11, 1])
    # the API's finite prefix gives the same answer
    assert classify_path("ill_conditioned", points[:12], diverged_at=12) == status


def test_a_straight_descent_still_under_way_is_moving() -> None:
    points = np.stack([np.linspace(-7.0, -3.0, 61), np.zeros(61)], axis=-1)
    assert classify_path("ill_conditioned", points).code == "moving"
    assert classify_path("ill_conditioned", points[:1]).code == "moving"  # no update yet


# --- tolerance edges --------------------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "settled"), [(0.99, True), (1.01, False)])
def test_the_window_must_stay_within_stay_of_the_end(fraction: float, settled: bool) -> None:
    # 100 points resting at the minimum, except one inside the final window that strays.
    points = np.zeros((101, 2))
    points[:20] = path_to((0.0, 0.0), (-7.0, 2.0), 20, 0.5)
    points[95] = (fraction * st.STAY * 20.0, 0.0)  # span of ill_conditioned is 20
    status = classify_path("ill_conditioned", points)
    assert (status.code == "settled_global") is settled
    if settled:
        assert status.step <= 20


@pytest.mark.parametrize(("extra", "settled"), [(0, True), (-1, False)])
def test_the_path_must_stay_for_the_whole_window(extra: int, settled: bool) -> None:
    count = 101
    window = st._window(count)  # 10 updates
    points = np.zeros((count, 2))
    points[: count - 1 - window - extra] = (5.0, 1.0)  # far away until the window starts
    assert (classify_path("ill_conditioned", points).code == "settled_global") is settled


@pytest.mark.parametrize(("fraction", "code"), [(0.9, "settled_global"), (1.1, "moving")])
def test_a_stopped_path_counts_only_next_to_a_stationary_point(fraction: float, code: str) -> None:
    # A path that stopped dead `fraction` × AT_MINIMUM from the minimum (an artificial halt).
    distance = fraction * st.AT_MINIMUM * 20.0
    points = np.tile([distance, 0.0], (50, 1))
    assert classify_path("ill_conditioned", points).code == code


def test_global_versus_local_compares_the_polished_minimum_with_f_star() -> None:
    f = landscapes.get("six_hump_camel")  # two global minima at −1.0316, locals at −0.2155
    for minimum in f.minima:
        if minimum.kind == "saddle":
            continue
        # end 0.02 off the minimum: Newton's method finds it exactly
        points = path_to((minimum.x + 0.02, minimum.y), (minimum.x + 0.3, minimum.y), 60, 0.8)
        points[-15:] = points[-15]
        status = classify_path("six_hump_camel", points)
        assert status.code == f"settled_{minimum.kind}", minimum


def test_f_star_without_metadata_comes_from_the_polished_grid_minimum() -> None:
    f = dataclasses.replace(landscapes.get("rastrigin"), minima=())
    assert abs(st.global_minimum_value(f)) < 1e-12
    points = path_to((0.0, 0.0), (0.3, 0.2), 60, 0.7)
    assert optimizers.classify(f, points, f.value(points)).code == "settled_global"


# --- noise ---------------------------------------------------------------------------------


def test_a_noisy_run_hovers_at_a_floor_instead_of_settling() -> None:
    status = run_one("booth", "sgd", (-8.0, -6.0), 300, noise=3.0, seed=1, lr=0.02)
    assert status.code == "hovering" and status.step is None
    assert 0.01 < status.floor < 1.0
    quiet = run_one("booth", "sgd", (-8.0, -6.0), 300, lr=0.02)
    assert quiet.code == "settled_global" and quiet.floor is None


def test_a_tiny_noise_still_hovers_with_a_tiny_floor() -> None:
    status = run_one("booth", "sgd", (-8.0, -6.0), 300, noise=1e-3, seed=1, lr=0.02)
    assert status.code == "hovering" and 0 <= status.floor < 1e-6


def test_a_noisy_run_still_approaching_is_moving() -> None:
    status = run_one("booth", "sgd", (-8.0, -6.0), 40, noise=3.0, seed=1, lr=0.002)
    assert status.code == "moving"


# --- real runs ------------------------------------------------------------------------------


def test_plain_sgd_creeping_off_the_saddle_is_stalled() -> None:
    status = run_one("saddle", "sgd", (-1.8, 0.001), 200, lr=0.01)
    assert status.code == "stalled_saddle"
    assert 0.03 < np.hypot(*status.point) < 0.1  # not at the saddle: still slowly leaving
    assert 50 < status.step < 180


def test_running_off_towards_minus_infinity_is_moving() -> None:
    status = run_one("saddle", "momentum", (-1.8, 0.001), 200, lr=0.01)
    assert status.code == "moving" and status.loss < -1e10


def test_a_crawl_that_stopped_at_the_plots_scale_short_of_the_minimum_is_moving() -> None:
    # SGD on Beale moves 0.4 % of the view over its last 200 steps, 3.4 % from (3, 0.5)
    assert run_one("beale", "sgd", (1.0, 1.4), 2000, lr=1e-3).code == "moving"
    assert run_one("beale", "adam", (1.0, 1.4), 2000, lr=0.05).code == "settled_global"


def test_rosenbrock_crawl_is_moving_and_arrival_is_global() -> None:
    assert run_one("rosenbrock", "sgd", (-1.5, 2.0), 1000, lr=0.001).code == "moving"
    assert run_one("rosenbrock", "momentum", (-1.5, 2.0), 1000, lr=0.001).code == "settled_global"


def test_a_blow_up_is_diverged_at_the_runners_step() -> None:
    f = landscapes.get("ill_conditioned")
    traj = optimizers.run(f, optimizers.create("sgd", lr=1.2), (-7.0, 2.0), 100)
    status = optimizers.classify(f, traj.points[:, 0], traj.losses[:, 0], int(traj.diverged_at[0]))
    assert status.code == "diverged" and status.step == int(traj.diverged_at[0]) > 0


def test_classify_rows_is_classify_per_row() -> None:
    f = landscapes.get("rastrigin")
    starts = np.array([[4.5, -3.5], [0.2, 0.1], [4.5, -3.5]])
    opt = optimizers.create("sgd", lr=np.array([0.002, 0.002, 1e-5]))  # the last one crawls
    traj = optimizers.run(f, opt, starts, 300)
    rows = optimizers.classify_rows(f, traj.points, traj.losses, traj.diverged_at)
    assert [s.code for s in rows] == ["settled_local", "settled_global", "moving"]
    for k, row in enumerate(rows):
        assert row == optimizers.classify(
            f, traj.points[:, k], traj.losses[:, k], int(traj.diverged_at[k])
        )


def test_the_codes_are_the_specs() -> None:
    assert st.CODES == (
        "diverged",
        "settled_global",
        "settled_local",
        "stalled_saddle",
        "oscillating",
        "hovering",
        "moving",
    )
