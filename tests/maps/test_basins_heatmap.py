"""Basins of attraction and the (lr, momentum) heatmap."""

from __future__ import annotations

import itertools
import sys
import threading

import numpy as np

import landscapes
import maps
import optimizers


def test_a_symmetric_grid_on_himmelblau_finds_all_four_minima() -> None:
    f = landscapes.get("himmelblau")
    b = maps.basins(f, [("adam", {"lr": 0.1}), ("sgd", {"lr": 0.01})], 48, 400)
    assert b is not None
    assert len(b.minima) == 4 and all(m.best for m in b.minima)
    known = sorted((m.x, m.y) for m in f.minima if m.kind == "global")
    found = sorted((m.x, m.y) for m in b.minima)
    assert np.allclose(found, known, atol=1e-9)
    for basin in b.maps:
        labels = set(np.unique(basin.label).tolist())
        assert {0, 1, 2, 3} <= labels  # every minimum has a basin in every map
    # a start next to a minimum ends there
    for k, m in enumerate(b.minima):
        i, j = np.argmin(np.abs(b.xs - m.x)), np.argmin(np.abs(b.ys - m.y))
        assert b.maps[0].label[j, i] == k


def test_labels_agree_with_each_starts_own_summary() -> None:
    f = landscapes.get("rastrigin")
    b = maps.basins(f, [("momentum", {"lr": 0.002})], 12, 300)
    assert b is not None
    xs, ys = np.meshgrid(b.xs, b.ys)
    starts = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    s = optimizers.summary(f, optimizers.create("momentum", lr=0.002), starts, 300)
    label = b.maps[0].label.ravel()
    assert np.array_equal(b.maps[0].settled_at.ravel(), s.settled_at)
    centres = np.array([(m.x, m.y) for m in b.minima])
    for k in np.flatnonzero(s.settled_at >= 0):
        assert np.hypot(*(centres[label[k]] - s.minimum[k])) < 1e-6
    assert (label[s.settled_at < 0] < 0).all()
    values = [m.value for m in b.minima]
    assert all(a <= b + 1e-6 for a, b in itertools.pairwise(values))  # by value
    assert b.minima[0].best


def test_diverged_and_unsettled_starts_have_their_own_labels() -> None:
    f = landscapes.get("ill_conditioned")
    b = maps.basins(f, [("sgd", {"lr": 1.5}), ("sgd", {"lr": 1e-4})], 8, 100)
    assert b is not None
    assert (b.maps[0].label == maps.DIVERGED).all()  # beyond 2/λmax every start diverges
    assert (b.maps[1].label == maps.UNSETTLED).all()  # too slow to settle in 100 steps
    assert b.minima == []


def test_a_cancelled_map_stops_before_the_next_optimizer() -> None:
    cancel = threading.Event()
    cancel.set()
    assert maps.basins("himmelblau", [("adam", {})], 8, 10, cancel=cancel) is None


def test_each_heatmap_cell_is_the_run_at_its_two_values() -> None:
    f = landscapes.get("ill_conditioned")
    lrs, mus = np.array([0.01, 0.05, 0.2, 0.5, 0.9, 1.5, 3.0]), np.linspace(0, 0.95, 5)
    h = maps.heatmap(f, "momentum", {}, f.default_start, 300, ("lr", lrs), ("momentum", mus))
    assert h.settled_at.shape == (5, 7)
    for j, mu in enumerate(mus):
        for i, lr in enumerate(lrs):
            s = optimizers.summary(
                f, optimizers.create("momentum", lr=lr, momentum=mu), f.default_start, 300
            )
            assert h.settled_at[j, i] == s.settled_at[0]
            assert h.diverged_at[j, i] == s.diverged_at[0]
    # Distill's picture: at lr = 1.5, past 2/λmax = 1, only enough momentum keeps a run
    # stable (μ = 0.95: 2(1 + μ)/λmax = 1.95); at lr = 3 nothing does
    assert h.diverged_at[0, 5] >= 0 and h.diverged_at[-1, 5] < 0
    assert (h.diverged_at[:, 6] >= 0).all()
    assert maps.default_y("adam") == "beta1" and maps.default_y("nag") == "momentum"


def test_progress_is_told_per_block_and_can_stop_a_map(monkeypatch) -> None:
    monkeypatch.setattr(sys.modules["optimizers.summary"], "WINDOW_POINTS", 256 * 10)
    heard: list[float] = []
    b = maps.basins("himmelblau", [("adam", {}), ("sgd", {})], 16, 50, progress=heard.append)
    assert b is not None
    assert heard == sorted(heard) and heard[-1] == 1.0 and len(heard) > 4
    assert any(0.4 < f < 0.6 for f in heard)  # halfway: the first optimizer's map done

    class StopError(Exception):
        pass

    def stop(fraction: float) -> None:
        if fraction > 0.2:
            raise StopError

    try:
        maps.basins("himmelblau", [("adam", {})], 16, 50, progress=stop)
    except StopError:
        pass
    else:
        raise AssertionError("the map went on after its progress callback raised")


def test_a_0_1_switch_is_no_axis_to_sweep_or_tune() -> None:
    # RMSprop's centered and NAdam's decoupled weight decay are torch's bools: a heatmap
    # or a tune over them would ask for values between 0 and 1 that mean nothing
    import pytest

    from maps.tune import race_space

    with pytest.raises(ValueError, match=r"centered is a 0/1 switch.*alpha"):
        maps.heatmap("booth", "rmsprop", {}, (0, 0), 10, ("lr", [0.1]), ("centered", [0, 1]))
    with pytest.raises(ValueError, match="decoupled_weight_decay is a 0/1 switch"):
        race_space("nadam", extra=("decoupled_weight_decay", None, None, None))
    for name in optimizers.names():
        axis = maps.default_y(name)
        assert not next(p for p in optimizers.spec(name) if p.name == axis).integer
