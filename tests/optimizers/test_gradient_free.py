"""Simulated annealing and the genetic algorithm: what each update does, seeds, the
runner's contract for them, and the lesson they are in the project for."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import landscapes
import optimizers
from optimizers import reference, runner
from optimizers.annealing import SimulatedAnnealing
from optimizers.genetic import Genetic

FREE = ("annealing", "genetic")


def test_registered_in_their_own_group() -> None:
    assert optimizers.groups()["gradient-free"] == FREE
    assert all(issubclass(optimizers.get(name), optimizers.GradientFree) for name in FREE)


@pytest.mark.parametrize("name", FREE)
def test_the_gradient_is_never_read(name: str) -> None:
    """A landscape whose gradient is NaN everywhere: a gradient method diverges at once,
    these run exactly as on the true landscape."""
    f = landscapes.get("rastrigin")
    blind = dataclasses.replace(f, grad_fn=lambda x, y: (x * np.nan, y * np.nan))
    opt = optimizers.create(name)
    seeing = optimizers.run(f, opt, f.default_start, 60, seed=4)
    not_seeing = optimizers.run(blind, opt, f.default_start, 60, seed=4)
    np.testing.assert_array_equal(seeing.points, not_seeing.points)
    np.testing.assert_array_equal(seeing.samples, not_seeing.samples)
    assert optimizers.run(blind, "sgd", f.default_start, 5).diverged_at[0] == 1
    # nor the gradient noise, for the same reason
    noisy = optimizers.run(f, opt, f.default_start, 60, seed=4, noise=3.0)
    np.testing.assert_array_equal(seeing.points, noisy.points)


@pytest.mark.parametrize("name", FREE)
def test_seeded(name: str) -> None:
    f = landscapes.get("himmelblau")
    opt = optimizers.create(name)
    a, b = (optimizers.run(f, opt, f.default_start, 50, seed=9) for _ in range(2))
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.samples, b.samples)
    other = optimizers.run(f, opt, f.default_start, 50, seed=10)
    assert not np.array_equal(a.samples, other.samples)


def test_annealing_moves_to_its_proposal_or_stays() -> None:
    """Every point is the previous one or that update's proposal, which lies σ·z away;
    a proposal that lowers f is always taken."""
    f = landscapes.get("rosenbrock")
    sigma = 0.05
    t = optimizers.run(f, optimizers.create("annealing", lr=sigma), f.default_start, 400, seed=1)
    points, proposals, losses = t.points[:, 0], t.samples[:, 0, 0], t.losses[:, 0]
    np.testing.assert_array_equal(proposals[0], points[0])  # init's sample: the start
    moved = np.any(points[1:] != points[:-1], axis=1)
    np.testing.assert_array_equal(points[1:][moved], proposals[1:][moved])
    np.testing.assert_array_equal(points[1:][~moved], points[:-1][~moved])
    downhill = f.value(proposals[1:]) <= losses[:-1]
    assert moved[downhill].all() and downhill.sum() > 20
    steps = np.linalg.norm(proposals[1:] - points[:-1], axis=1)
    assert 0.5 * sigma < np.median(steps) < 2 * sigma  # |z| of a 2-D normal: median 1.18


def test_annealing_hot_climbs_cold_only_descends() -> None:
    f = landscapes.get("rastrigin")
    start = [0.9, 0.9]

    def rises(temperature: float, cooling: float) -> int:
        opt = optimizers.create("annealing", lr=0.3, temperature=temperature, cooling=cooling)
        t = optimizers.run(f, opt, start, 300, seed=2)
        return int((np.diff(t.losses[:, 0]) > 0).sum())

    assert rises(1e-6, 0.5) == 0  # frozen: a random descent
    assert rises(50.0, 1.0) > 100  # hot: most uphill proposals are taken


def test_evaluations_count_calls_of_f() -> None:
    """What the status table compares: gradients for a gradient method, values of f for
    these (each value counted where ``value`` is called)."""
    f = landscapes.get("booth")
    calls: list[int] = []

    def counting(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        calls.append(np.size(x))
        return f.fn(x, y)

    seen = dataclasses.replace(f, fn=counting)
    for name, params in (("annealing", {}), ("genetic", {"population": 9})):
        opt = optimizers.create(name, **params)
        calls.clear()
        reference.run(seen, opt, np.array([[1.0, 2.0]]), 7)
        # the loop's own loss at each of the 8 points is one call of one value each
        assert sum(calls) - 8 == opt.evaluations(7)
    assert optimizers.create("adam").evaluations(7) == 7


def test_annealing_temperature_cools_geometrically() -> None:
    opt = optimizers.create("annealing", temperature=8.0, cooling=0.5)
    assert isinstance(opt, SimulatedAnnealing)
    assert [opt.temperature(t) for t in range(4)] == [8.0, 4.0, 2.0, 1.0]


def test_genetic_population_keeps_its_best() -> None:
    """The elite survives: the best loss never rises; the path is the best member of each
    generation; the first population holds the start; P members per generation."""
    f = landscapes.get("rastrigin")
    opt = optimizers.create("genetic", population=12, spread=2.0, lr=0.2)
    t = optimizers.run(f, opt, f.default_start, 200, seed=5)
    losses, population = t.losses[:, 0], t.samples[:, 0]
    assert population.shape == (201, 12, 2)
    np.testing.assert_array_equal(population[0, 0], f.default_start)
    assert (np.diff(losses[1:]) <= 0).all()
    values = f.value(population)
    best = np.argmin(values, axis=1)
    np.testing.assert_array_equal(t.points[1:, 0], population[1:][np.arange(200), best[1:]])
    assert losses[-1] < losses[1]


def test_genetic_children_are_blends_plus_mutation() -> None:
    """With σ tiny, every child lies (nearly) in the box of two members of the previous
    generation: crossover blends, it never extrapolates."""
    f = landscapes.get("himmelblau")
    opt = optimizers.create("genetic", population=8, spread=3.0, lr=1e-4)
    t = optimizers.run(f, opt, [0.0, 0.0], 1, seed=3)
    before, after = t.samples[0, 0], t.samples[1, 0]
    low, high = before.min(axis=0) - 1e-2, before.max(axis=0) + 1e-2
    assert ((after >= low) & (after <= high)).all()


def test_genetic_population_is_one_number() -> None:
    with pytest.raises(ValueError, match="population takes one number for all rows"):
        optimizers.create("genetic", population=np.array([8.0, 10.0]))
    with pytest.raises(ValueError, match=r"genetic: population=3 is out of range \[4, 100\]"):
        optimizers.create("genetic", population=3)
    assert isinstance(optimizers.create("genetic", lr=np.array([0.1, 0.2])), Genetic)


def test_runner_limits_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Their draws are made for all their rows at once, so the rows stay in one tile."""
    monkeypatch.setattr(runner, "TILE_ROWS", 16)
    f = landscapes.get("booth")
    starts = np.zeros((17, 2))
    with pytest.raises(ValueError, match="annealing runs at most 16 rows at once"):
        optimizers.run(f, "annealing", starts, 3)
    optimizers.run(f, "sgd", starts, 3)  # a gradient method tiles
    optimizers.run(f, "annealing", starts[:16], 3)


@pytest.mark.parametrize("name", FREE)
def test_lockstep_with_gradient_methods_equals_the_reference(name: str) -> None:
    f = landscapes.get("rastrigin")
    opts = [optimizers.create("adam", lr=0.1), optimizers.create(name), optimizers.create("sgd")]
    starts = np.array([[-2.2, 3.2], [1.0, -1.5]])
    together = optimizers.run_many(f, opts, starts, 80, seed=6, schedule="cosine")
    for opt, ours in zip(opts, together, strict=True):
        expected = reference.run(f, opt, starts, 80, seed=6, schedule=optimizers.schedule("cosine"))
        np.testing.assert_array_equal(ours.points, expected.points)
        if isinstance(opt, optimizers.GradientFree):
            np.testing.assert_array_equal(ours.samples, expected.samples)
        else:
            assert ours.samples is None


def test_the_lesson_a_population_finds_rastrigins_global_minimum() -> None:
    """From the default start, Adam and plain gradient descent stop in the local minimum
    next to it; a population of 30 scattered by 2 reaches the global one at (0, 0), seed
    after seed (the preset's claim)."""
    f = landscapes.get("rastrigin")
    for name, lr in (("adam", 0.1), ("sgd", 0.01)):
        t = optimizers.run(f, optimizers.create(name, lr=lr), f.default_start, 300)
        assert t.losses[-1, 0] > 4
    genetic = optimizers.create("genetic", lr=0.3, spread=2.0, population=30)
    for seed in range(4):
        t = optimizers.run(f, genetic, f.default_start, 300, seed=seed)
        assert np.hypot(*t.points[-1, 0]) < 0.02 and t.losses[-1, 0] < 0.05
