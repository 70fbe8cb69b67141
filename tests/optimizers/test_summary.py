"""``optimizers.summary``: a run's end without its path, equal to ``run`` and ``classify``."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import runner, status
from tests.optimizers.test_reference import _optimizer, schedules

summary_module = sys.modules["optimizers.summary"]

#: What a summary takes: the gradient methods (the gradient-free ones are refused).
GRADIENT = tuple(
    n for n in optimizers.names() if not issubclass(optimizers.get(n), optimizers.GradientFree)
)


@pytest.mark.parametrize("name", ["annealing", "genetic"])
def test_summary_refuses_a_gradient_free_method(name: str) -> None:
    f = landscapes.get("rastrigin")
    with pytest.raises(ValueError, match=f"{name} samples f at random.*gradient methods only"):
        optimizers.summary(f, optimizers.create(name), [[0.5, 0.5]], 10)


def _settled_steps(f, trajectory, noise: float) -> np.ndarray:
    statuses = status.classify_rows(
        f, trajectory.points, trajectory.losses, trajectory.diverged_at, noise
    )
    return np.array([s.step if s.code.startswith("settled") else -1 for s in statuses])


def _check(f, opt, starts, steps, noise=0.0, seed=0, schedule=None) -> optimizers.Summary:
    s = optimizers.summary(f, opt, starts, steps, noise, seed, schedule)
    t = optimizers.run(f, opt, starts, steps, noise, seed, schedule)
    assert np.array_equal(s.final, t.points[-1], equal_nan=True)
    assert np.array_equal(s.final_loss, t.losses[-1], equal_nan=True)
    assert np.array_equal(s.diverged_at, t.diverged_at)
    assert np.array_equal(s.settled_at, _settled_steps(f, t, noise))
    return s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_summary_is_the_runs_last_point_and_the_status_step(data: st.DataObject) -> None:
    """Bit for bit on every landscape and optimizer, per-row values, schedules and noise;
    settled_at is classify's step wherever classify says settled, −1 elsewhere."""
    f = landscapes.get(data.draw(st.sampled_from(landscapes.names())))
    rows = data.draw(st.sampled_from([1, 3, 17]))
    (x0, x1), (y0, y1) = f.bounds
    coordinates = st.tuples(st.floats(x0, x1), st.floats(y0, y1))
    starts = np.array(data.draw(st.lists(coordinates, min_size=rows, max_size=rows)))
    opt = _optimizer(data.draw(st.sampled_from(GRADIENT)), rows, data)
    steps = data.draw(st.sampled_from([0, 1, 5, 37, 200]))
    noise = data.draw(st.sampled_from([0.0, 0.0, 0.5]))
    _check(f, opt, starts, steps, noise, data.draw(st.integers(0, 9)), data.draw(schedules()))


@pytest.mark.parametrize("window", [3, 64])
def test_a_narrow_window_and_both_passes_agree_with_classify(monkeypatch, window) -> None:
    """A grid of starts that settle at all sorts of steps, with a window of a few points
    (many blocks, rows re-run in groups) and tiles of 64 rows: the same steps as classify
    on the whole path."""
    monkeypatch.setattr(summary_module, "WINDOW_POINTS", window * 400)
    monkeypatch.setattr(runner, "WINDOW_TILE_ROWS", 64)  # tiles on the thread pool too
    # the second pass's test point by point (as on a basin map's pieces), or per block
    monkeypatch.setattr(summary_module, "WATCH_ROWS", 1 if window == 3 else 10**6)
    f = landscapes.get("himmelblau")
    xs = np.linspace(-5, 5, 20)
    starts = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    s = _check(f, optimizers.create("adam", lr=0.1), starts, 300)
    assert (s.settled_at > 0).mean() > 0.9
    assert len(np.unique(s.settled_at)) > 20  # settling steps spread: a real test of pass 2


@pytest.mark.parametrize("overhead", [0, summary_module.OVERHEAD_ROWS])
def test_a_second_pass_cut_into_pieces_agrees(monkeypatch, overhead) -> None:
    """Three optimizers with per-row rates in lockstep, in tiles of 16 rows that cut
    through them: pass 1's boxes are filled on the tiles' threads, and the second pass
    reruns the rows of all three together in pieces of at most 16 rows — each need
    apart (no overhead to save) or run together to the longest. Every optimizer's
    summary is still the one ``run`` and ``classify`` give."""
    monkeypatch.setattr(runner, "WINDOW_TILE_ROWS", 16)
    monkeypatch.setattr(summary_module, "OVERHEAD_ROWS", overhead)
    f = landscapes.get("himmelblau")
    xs = np.linspace(-4.5, 4.5, 6)
    starts = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)  # 36 rows
    lrs = np.geomspace(0.02, 0.2, len(starts))
    opts = [
        optimizers.create("adam", lr=lrs),
        optimizers.create("momentum", lr=lrs / 20),
        optimizers.create("rmsprop", lr=lrs / 4),
    ]
    pieces = []
    real = summary_module._pieces

    def spy(need):
        pieces.extend(real(need))
        return pieces

    monkeypatch.setattr(summary_module, "_pieces", spy)
    together = optimizers.summary_many(f, opts, starts, 200)
    assert len(pieces) > 3 and all(rows.size <= 16 for _, rows in pieces)
    reran = np.concatenate([rows for _, rows in pieces])
    assert len(np.unique(reran)) == len(reran)  # each row in one piece
    assert len({horizon for horizon, _ in pieces}) == (1 if overhead else 7)
    for opt, joint in zip(opts, together, strict=True):
        t = optimizers.run(f, opt, starts, 200)
        assert np.array_equal(joint.final, t.points[-1], equal_nan=True)
        assert np.array_equal(joint.settled_at, _settled_steps(f, t, 0.0))
        assert (joint.settled_at > 0).mean() > 0.5


def test_lockstep_summaries_equal_single_ones() -> None:
    f = landscapes.get("rastrigin")
    starts = np.array([[2.2, -1.3], [0.4, 0.3], [-4.0, 4.0]])
    opts = [optimizers.create("sgd", lr=0.01), optimizers.create("momentum", lr=0.01)]
    together = optimizers.summary_many(f, opts, starts, 150)
    for opt, joint in zip(opts, together, strict=True):
        alone = _check(f, opt, starts, 150)
        for field in ("final", "final_loss", "diverged_at", "settled_at", "minimum"):
            assert np.array_equal(getattr(joint, field), getattr(alone, field), equal_nan=True)


def test_minimum_is_where_a_settled_row_ends() -> None:
    """Himmelblau from four corners: each settles at the nearest of the four minima."""
    f = landscapes.get("himmelblau")
    starts = np.array([[4.0, 4.0], [-4.0, 4.0], [-4.0, -4.0], [4.0, -4.0]])
    s = _check(f, optimizers.create("adam", lr=0.1), starts, 400)
    assert (s.settled_at > 0).all()
    known = np.array([(m.x, m.y) for m in f.minima if m.kind == "global"])
    for found in s.minimum:
        assert np.min(np.hypot(*(known - found).T)) < 1e-9
    assert len({tuple(np.round(p, 6)) for p in s.minimum}) == 4


def test_diverged_and_noisy_rows_never_settle() -> None:
    f = landscapes.get("ill_conditioned")
    lrs = np.array([0.1, 0.9, 1.2, 3.0])
    s = _check(f, optimizers.create("sgd", lr=lrs), np.array([2.0, 1.0]), 400)
    assert list(s.diverged_at >= 0) == [False, False, True, True]
    assert s.settled_at[2:].tolist() == [-1, -1]
    assert np.isnan(s.minimum[2:]).all()
    noisy = _check(f, optimizers.create("sgd", lr=lrs), np.array([2.0, 1.0]), 400, noise=0.1)
    assert (noisy.settled_at == -1).all()


def test_memory_does_not_grow_with_steps() -> None:
    """O(K): 4,096 rows × 2,000 steps would be 131 MB of path; the summary's peak is a
    small multiple of its per-row state whatever the number of steps."""
    f = landscapes.get("himmelblau")
    xs = np.linspace(-5, 5, 64)
    starts = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    opt = optimizers.create("adam", lr=0.05)
    peaks = []
    for steps in (200, 2000):
        tracemalloc.start()
        optimizers.summary(f, opt, starts, steps)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0]
    path = 2001 * len(starts) * 16  # the path alone: 131 MB
    assert peaks[1] < path / 5


def test_without_settling_the_end_is_the_same() -> None:
    """settle=False (the tuner's score): the same end, bit for bit, no settling steps."""
    f = landscapes.get("rosenbrock")
    starts = np.array([[-1.5, 2.0], [1.2, 1.1], [0.0, 0.0]])
    opt = optimizers.create("adam", lr=np.array([0.05, 0.1, 3.0]))
    full = optimizers.summary(f, opt, starts, 300)
    (bare,) = optimizers.summary_many(f, [opt], starts, 300, settle=False)
    assert np.array_equal(bare.final, full.final, equal_nan=True)
    assert np.array_equal(bare.final_loss, full.final_loss, equal_nan=True)
    assert np.array_equal(bare.diverged_at, full.diverged_at)
    assert (bare.settled_at == -1).all() and np.isnan(bare.minimum).all()
    assert (full.settled_at >= 0).any()


@pytest.mark.parametrize("watch_rows", [1, 10**6])  # point by point, a block at once
def test_the_squares_decide_distances_as_hypot_does(monkeypatch, watch_rows) -> None:
    """Points on, just inside and just outside the radius, and far: the same verdicts as
    classify's hypot; a loss outside its band (or NaN) is seen too."""
    monkeypatch.setattr(summary_module, "WATCH_ROWS", watch_rows)
    rng = np.random.default_rng(3)
    radius, rows = 0.1, 1000
    angle = rng.uniform(0, 2 * np.pi, (4, rows))
    scale = np.concatenate(
        [np.ones((4, 250)), 1 + rng.uniform(-1e-15, 1e-15, (4, 250)), rng.uniform(0, 3, (4, 500))],
        axis=1,
    )
    end = rng.uniform(-3, 3, (rows, 2))
    dx, dy = radius * scale * np.cos(angle), radius * scale * np.sin(angle)
    dx[:, :3], dy[:, :3] = radius, 0.0  # exactly on it
    points = np.stack([end[:, 0] + dx, end[:, 1] + dy], axis=-1)  # 4 points of 1000 rows
    end_loss, band = rng.uniform(0, 1, rows), rng.uniform(0, 0.1, rows)
    losses = end_loss + rng.uniform(-0.2, 0.2, (4, rows))
    losses[1, :5] = np.nan
    watch = summary_module._Watch(end, end_loss, band, radius)
    watch.see(7, points, losses)

    def last(mask):  # 7 + the last of the 4 points where mask holds, else −1
        return np.where(mask.any(axis=0), 10 - np.argmax(mask[::-1], axis=0), -1)

    away = np.hypot(*np.moveaxis(points - end, -1, 0)) > radius
    assert 0 < away[3].sum() < rows and (last(away) != 10).any()
    assert np.array_equal(watch.far_path, last(away))
    assert np.array_equal(watch.far_loss, last(~(np.abs(losses - end_loss) <= band)))
    watch.see(11, end[None], end_loss[None])  # at the end: nothing new
    assert np.array_equal(watch.far_path, last(away))
