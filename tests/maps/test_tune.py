"""The fair-race tuner: same budget for every method, seeded, and wired to the race itself."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import landscapes
import optimizers
from maps.tune import (
    METHODS,
    SNAPSHOT_POINTS,
    Dimension,
    RaceRun,
    Search,
    grid_shape,
    grid_unit,
    penalized,
    race_space,
    tune,
    tune_race,
)
from optimizers.status import global_minimum_value

LR = Dimension("lr", 1e-4, 10.0, log=True)
MU = Dimension("momentum", 0.0, 0.99)


def bowl(values: np.ndarray) -> np.ndarray:
    """Minimum at lr = 0.3, in log space."""
    return (np.log10(values[:, 0]) - math.log10(0.3)) ** 2


def bowl2(values: np.ndarray) -> np.ndarray:
    return bowl(values) + (values[:, 1] - 0.5) ** 2


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("budget", [4, 7, 20])
@pytest.mark.parametrize("space", [(LR,), (LR, MU)], ids=["1d", "2d"])
def test_exactly_budget_trials_inside_the_bounds(
    method: str, budget: int, space: tuple[Dimension, ...]
) -> None:
    seen: list[int] = []
    objective = bowl if len(space) == 1 else bowl2
    result = tune(
        objective, space, method, budget, seed=3, on_trial=lambda t, _: seen.append(t.index)
    )
    assert len(result.trials) == budget
    assert seen == list(range(budget))  # reported one at a time, in order
    values = np.array([t.values for t in result.trials])
    for j, dim in enumerate(space):
        assert np.all((values[:, j] >= dim.low) & (values[:, j] <= dim.high))
    scores = [t.score for t in result.trials]
    assert result.best is not None and result.best.score == min(scores)
    np.testing.assert_array_equal(scores, objective(values))


def test_grid_1d_is_evenly_spaced_in_log_lr_with_both_ends() -> None:
    result = tune(bowl, (LR,), "grid", 6)
    lrs = [t.values[0] for t in result.trials]
    assert lrs[0] == 1e-4 and lrs[-1] == 10.0
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 1.0, rtol=1e-12)


def test_grid_2d_is_a_near_square_lattice() -> None:
    assert grid_shape(20) == (5, 4)
    assert grid_shape(16) == (4, 4)
    for budget in range(4, 65):
        nx, ny = grid_shape(budget)
        assert ny <= nx <= 2 * ny and nx * ny <= budget
        assert budget - nx * ny <= (nx - 1) * (ny - 1)  # the leftovers fit in the cells
        points = grid_unit(budget, 2)
        assert points.shape == (budget, 2)
        assert len(np.unique(points, axis=0)) == budget
    points = grid_unit(20, 2)
    assert sorted(set(points[:, 0])) == pytest.approx([0, 0.25, 0.5, 0.75, 1])


@pytest.mark.parametrize("method", METHODS)
def test_reproducible(method: str) -> None:
    a = tune(bowl2, (LR, MU), method, 12, seed=5)
    b = tune(bowl2, (LR, MU), method, 12, seed=5)
    assert a.trials == b.trials
    for x, y in zip(a.snapshots, b.snapshots, strict=True):
        assert np.array_equal(x.ei, y.ei) and x.next == y.next
    if method != "grid":
        assert tune(bowl2, (LR, MU), method, 12, seed=6).trials != a.trials


def test_bayes_beats_random_on_average() -> None:
    def miss(method: str, seed: int) -> float:
        best = tune(bowl, (LR,), method, 10, seed=seed).best
        assert best is not None
        return abs(math.log10(best.values[0]) - math.log10(0.3))

    seeds = range(16)
    bayes = np.mean([miss("bayes", s) for s in seeds])
    random = np.mean([miss("random", s) for s in seeds])
    assert bayes < 0.5 * random  # measured: 0.056 and 0.26 decades
    assert bayes < 0.1  # within 26 % of 0.3


def test_bayes_snapshots_show_the_surrogate_and_the_next_point() -> None:
    snaps: list[tuple[int, object]] = []
    result = tune(bowl, (LR,), "bayes", 8, seed=0, on_trial=lambda t, s: snaps.append((t.index, s)))
    first = 2  # initial_count(8, 1): trials 0, 1 are space-filling, then a fit after each
    assert [i for i, s in snaps if s is not None] == list(range(first - 1, 8))
    assert [s.after for s in result.snapshots] == list(range(first - 1, 8))
    for snap in result.snapshots:
        assert snap.mean.shape == snap.std.shape == snap.ei.shape == (SNAPSHOT_POINTS[1],)
        assert np.all(snap.std >= 0) and np.all(snap.ei >= 0)
    for snap, trial in zip(result.snapshots, result.trials[first:], strict=False):
        assert snap.next == trial.values  # the point the snapshot chose is the next trial
    assert result.snapshots[-1].next is None
    assert len(result.grid) == 1 and result.grid[0][0] == 1e-4 and result.grid[0][-1] == 10.0
    # where a trial sits on the grid, the surrogate is sure of it: EI ≈ 0, std ≈ 0
    on_grid = tune(bowl, (LR,), "grid", SNAPSHOT_POINTS[1])  # every grid point a trial
    assert on_grid.snapshots == ()


def test_bayes_2d_snapshot_is_rows_by_second_dimension() -> None:
    result = tune(bowl2, (LR, MU), "bayes", 8, seed=1)
    snap = result.snapshots[-1]
    n = SNAPSHOT_POINTS[2]
    assert snap.mean.shape == (n, n)
    lrs, mus = result.grid
    j, i = np.unravel_index(np.argmin(snap.mean), snap.mean.shape)
    best = result.best
    assert best is not None
    # the surrogate's minimum lies near the best trial: rows are μ, columns lr
    assert abs(math.log10(lrs[i]) - math.log10(best.values[0])) < 1.5
    assert abs(mus[j] - best.values[1]) < 0.5


def test_failed_trials_score_inf_and_the_search_goes_on() -> None:
    def diverges_above_1(values: np.ndarray) -> np.ndarray:
        scores = bowl(values)
        scores[values[:, 0] > 1.0] = np.inf
        scores[values[:, 0] > 5.0] = np.nan
        return scores

    for method in METHODS:
        result = tune(diverges_above_1, (LR,), method, 12, seed=2)
        failed = [t for t in result.trials if t.values[0] > 1.0]
        assert failed and all(t.score == math.inf for t in failed)
        assert result.best is not None and result.best.values[0] <= 1.0
    nothing = tune(lambda v: np.full(len(v), np.inf), (LR,), "bayes", 6)
    assert nothing.best is None and len(nothing.trials) == 6


def test_penalty_is_above_the_worst_finite_score() -> None:
    scores = np.array([1.0, np.inf, 3.0, np.nan])
    assert penalized(scores).tolist() == [1.0, 3.2, 3.0, 3.2]
    assert penalized(np.array([2.0, np.inf])).tolist() == [2.0, 3.0]
    assert penalized(np.array([np.inf, np.inf])).tolist() == [0.0, 0.0]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        Search((LR,), "annealing", 8)
    with pytest.raises(ValueError, match="budget"):
        Search((LR,), "grid", 1)
    with pytest.raises(ValueError, match="log-scale"):
        Dimension("lr", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="min < max"):
        Dimension("momentum", 0.9, 0.1)
    with pytest.raises(ValueError, match="scores"):
        search = Search((LR,), "random", 4)
        search.ask()
        search.tell(np.zeros(3))


# --- wired to the optimizers -------------------------------------------------------------


def test_race_space_defaults_and_checks() -> None:
    (lr,) = race_space("adam")
    assert (lr.name, lr.low, lr.high, lr.log) == ("lr", 1e-4, 10.0, True)
    _, beta1 = race_space("adam", lr=(1e-3, 1.0), extra=("beta1", None, 0.99, None))
    assert (beta1.low, beta1.high, beta1.log) == (0.0, 0.99, False)
    with pytest.raises(ValueError, match="sgd has no hyperparameter 'momentum'"):
        race_space("sgd", extra=("momentum", None, None, None))
    with pytest.raises(ValueError, match=r"lr is always tuned; .* another of adam's: beta1"):
        race_space("adam", extra=("lr", None, None, None))
    with pytest.raises(ValueError, match=r"lr range \[1e-06, 1\] must lie within"):
        race_space("sgd", lr=(1e-6, 1.0))


def test_race_scores_are_the_race_itself() -> None:
    f = landscapes.get("rosenbrock")
    start = (-1.5, 2.0)
    f_star = global_minimum_value(f)
    for noise in (0.0, 0.3):
        race = tune_race(f, [RaceRun("adam", {"beta2": 0.99})], start, 60, noise, 4, budget=5)
        assert race is not None
        (run,) = race.runs
        for method, result in run.results.items():
            for trial, gap in zip(result.trials, run.gaps[method], strict=True):
                opt = optimizers.create("adam", lr=trial.values[0], beta2=0.99)
                traj = optimizers.run(f, opt, start, 60, noise=noise, seed=4)
                if traj.diverged_at[0] >= 0:
                    assert trial.score == math.inf and gap == math.inf
                    continue
                want = float(traj.losses[-1, 0]) - f_star
                assert gap == want  # bit for bit: each row is the one-row race
                assert trial.score == np.log10(max(want, 1e-16))


def test_race_finds_the_stable_lrs_and_marks_divergence() -> None:
    # ill_conditioned: f = x²/20 + y², λmax = 2: SGD diverges above lr = 1.
    race = tune_race("ill_conditioned", [RaceRun("sgd")], None, 100, budget=16)
    assert race is not None
    for method, result in race.runs[0].results.items():
        for trial in result.trials:
            assert (trial.score == math.inf) == (trial.values[0] > 1.0), (method, trial)
        assert result.best is not None and 0.3 < result.best.values[0] <= 1.0


def gradient_methods() -> list[str]:
    """Every optimizer the maps take: all but the gradient-free contrasts."""
    return [
        name
        for name in optimizers.names()
        if not issubclass(optimizers.get(name), optimizers.GradientFree)
    ]


def test_race_2d_and_every_gradient_method_reproducible() -> None:
    runs = [
        RaceRun("momentum", space=race_space("momentum", extra=("momentum", 0.0, 0.99, None))),
        RaceRun("adam", space=race_space("adam", extra=("beta1", None, None, None))),
        *(RaceRun(name) for name in gradient_methods()),
    ]
    events: list[tuple[int, str, int]] = []
    a = tune_race(
        "himmelblau", runs, (0.0, 0.0), 40, budget=6,
        on_trial=lambda e: events.append((e.run, e.method, e.trial.index)),
    )  # fmt: skip
    b = tune_race("himmelblau", runs, (0.0, 0.0), 40, budget=6)
    assert a is not None and b is not None
    assert len(events) == len(runs) * len(METHODS) * 6
    for run_a, run_b in zip(a.runs, b.runs, strict=True):
        for method in METHODS:
            assert run_a.results[method].trials == run_b.results[method].trials
            assert len(run_a.results[method].trials) == 6
    assert len(a.runs[0].results["bayes"].snapshots[0].mean.shape) == 2
    # per (run, method), trials arrive in order
    for key in {(r, m) for r, m, _ in events}:
        assert [i for r, m, i in events if (r, m) == key] == list(range(6))


@pytest.mark.parametrize("name", ["annealing", "genetic"])
def test_race_refuses_a_gradient_free_method(name: str) -> None:
    # Its trials would be summaries, which follow gradients only; the API says so first
    # (tests/app/test_gradient_free_api.py), this is the core's word behind it.
    assert name not in gradient_methods() and name in optimizers.names()
    with pytest.raises(ValueError, match=f"{name} samples f at random.*gradient methods only"):
        tune_race("booth", [RaceRun("sgd"), RaceRun(name)], steps=10, budget=4)


def test_race_rejects_bad_fixed_params_and_methods() -> None:
    with pytest.raises(ValueError, match="beta2"):
        tune_race("booth", [RaceRun("adam", {"beta2": 2.0})], budget=4)
    with pytest.raises(ValueError, match="methods"):
        tune_race("booth", [RaceRun("adam")], budget=4, methods=("grid", "grid"))


def test_race_stops_when_cancelled() -> None:
    cancel = threading.Event()
    events: list[int] = []

    def on_trial(event: object) -> None:
        events.append(1)
        cancel.set()  # after round 0's first trial

    runs = [RaceRun("sgd")]
    assert tune_race("booth", runs, budget=8, on_trial=on_trial, cancel=cancel) is None
    assert len(events) == 8 + 8 + 2  # round 0 (grid, random, bayes's first 2) and no more
    assert tune_race("booth", runs, budget=8, cancel=cancel) is None  # set before: nothing runs
