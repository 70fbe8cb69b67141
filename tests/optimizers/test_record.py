"""``record=True``: what each update saw and held, as the reference loop defines it.

torch's own buffers are compared in test_golden.py; here the runner's records (array and
float paths, whole and streamed) equal ``reference.run(..., record=True)`` bit for bit,
and recording changes nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import reference, runner
from tests.optimizers.test_reference import NAMES, _optimizer, scenes


def _same(a: np.ndarray | None, b: np.ndarray | None) -> None:
    assert a is not None and b is not None
    np.testing.assert_array_equal(a, b)  # NaN equals NaN here


def _records_equal(ours: optimizers.Trajectory, expected: optimizers.Trajectory) -> None:
    _same(ours.points, expected.points)
    _same(ours.grads, expected.grads)
    _same(ours.lrs, expected.lrs)
    assert ours.state is not None and expected.state is not None
    assert ours.state.keys() == expected.state.keys()
    for name, values in expected.state.items():
        _same(ours.state[name], values)


def _kw(scene: dict) -> dict:
    return {"noise": scene["noise"], "seed": scene["seed"], "schedule": scene["schedule"]}


@settings(max_examples=120, deadline=None)
@given(scenes(), st.sampled_from(NAMES), st.data())
def test_run_records_what_the_reference_records(
    scene: dict, name: str, data: st.DataObject
) -> None:
    """Rows 1 (the float path) and more (arrays), per-row values, noise, schedules,
    divergence: the same gradients, rates and buffers, NaN where the point is dropped."""
    opt = _optimizer(name, len(scene["starts"]), data)
    args = (scene["f"], opt, scene["starts"], scene["steps"])
    ours = optimizers.run(*args, **_kw(scene), record=True)
    expected = reference.run(*args, **_kw(scene), record=True)
    _records_equal(ours, expected)
    assert ours.grads is not None and ours.state is not None
    steps, rows = scene["steps"], len(scene["starts"])
    assert ours.grads.shape == (steps, rows, 2) and ours.lrs is not None
    assert ours.lrs.shape == (steps, rows)
    assert set(ours.state) == set(opt.buffers())
    assert all(values.shape == (steps, rows, 2) for values in ours.state.values())
    # an update's entries go as the point it made does
    made = np.isnan(ours.points[1:]).any(axis=-1)
    assert (np.isnan(ours.grads).any(axis=-1) == made).all()


@settings(max_examples=50, deadline=None)
@given(scenes(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=6), st.data())
def test_streamed_records_join_to_the_whole_record(
    scene: dict, names: list[str], data: st.DataObject
) -> None:
    opts = [_optimizer(name, len(scene["starts"]), data) for name in names]
    args = (scene["f"], opts, scene["starts"], scene["steps"])
    whole = optimizers.run_many(*args, **_kw(scene), record=True)
    chunk = data.draw(st.integers(1, 30))
    groups = list(optimizers.stream_many(*args, chunk=chunk, **_kw(scene), record=True))
    for m, trajectory in enumerate(whole):
        records = [group[m].record for group in groups]
        assert all(r is not None for r in records)
        # each block's record is the updates that made its points
        assert [r.first for r in records] == [  # type: ignore[union-attr]
            max(group[m].offset, 1) - 1 for group in groups
        ]
        _same(np.concatenate([r.grads for r in records]), trajectory.grads)  # type: ignore[union-attr]
        _same(np.concatenate([r.lrs for r in records]), trajectory.lrs)  # type: ignore[union-attr]
        assert trajectory.state is not None
        for name, values in trajectory.state.items():
            joined = np.concatenate([r.state[name] for r in records])  # type: ignore[union-attr]
            _same(joined, values)


@settings(max_examples=40, deadline=None)
@given(scenes(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=6), st.data())
def test_recording_changes_nothing_else(scene: dict, names: list[str], data: st.DataObject) -> None:
    opts = [_optimizer(name, len(scene["starts"]), data) for name in names]
    args = (scene["f"], opts, scene["starts"], scene["steps"])
    plain = optimizers.run_many(*args, **_kw(scene))
    recorded = optimizers.run_many(*args, **_kw(scene), record=True)
    for a, b in zip(plain, recorded, strict=True):
        _same(a.points, b.points)
        _same(a.losses, b.losses)
        _same(a.diverged_at, b.diverged_at)
        assert a.grads is None and a.lrs is None and a.state is None


def test_the_float_path_records_what_the_array_path_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    f = landscapes.get("ill_conditioned")
    opts = [  # Rprop has no weight decay (nor has torch's)
        optimizers.create(name, **({"weight_decay": 0.05} if name != "rprop" else {}))
        for name in NAMES
        if not issubclass(optimizers.get(name), optimizers.GradientFree)  # arrays only
    ]
    args = (f, opts, [4.0, 1.5], 300)
    floats = optimizers.run_many(*args, noise=0.2, seed=7, schedule="cosine", record=True)
    monkeypatch.setattr(runner, "FLOAT_ROWS", 0)
    arrays = optimizers.run_many(*args, noise=0.2, seed=7, schedule="cosine", record=True)
    for a, b in zip(floats, arrays, strict=True):
        _records_equal(a, b)


def test_buffers_are_what_the_state_keeps() -> None:
    """``buffers()`` names exactly the state fields an update fills (torch's names)."""
    f = landscapes.get("rosenbrock")
    for name in NAMES:
        if issubclass(optimizers.get(name), optimizers.GradientFree):
            continue  # no torch buffers: their state is test_gradient_free.py's
        for params in ({}, {"momentum": 0.0}, {"momentum": 0.5}, {"momentum": [0.0, 0.5]}):
            spec = {p.name for p in optimizers.spec(name)}
            if not set(params) <= spec:
                continue
            opt = optimizers.create(name, **{k: np.array(v) for k, v in params.items()})
            theta = np.array([[-1.2, 1.0]] * (opt.rows or 1))
            state = opt.init(theta)
            opt.update(f.grad(theta), state, theta, 0.01)
            kept = {
                field
                for field in type(state).__slots__
                if field != "step" and getattr(state, field) is not None
            }
            assert kept == set(opt.buffers()), (name, params)


def test_record_can_be_asked_per_optimizer() -> None:
    f = landscapes.get("rosenbrock")
    opts = [optimizers.create(name) for name in NAMES]
    wanted = [name in ("momentum", "adam") for name in NAMES]
    some = optimizers.run_many(f, opts, [-1.2, 1.0], 80, record=wanted)
    every = optimizers.run_many(f, opts, [-1.2, 1.0], 80, record=True)
    for name, a, b in zip(NAMES, some, every, strict=True):
        _same(a.points, b.points)
        if name in ("momentum", "adam"):
            _records_equal(a, b)
        else:
            assert a.grads is None and a.lrs is None and a.state is None
    with pytest.raises(ValueError, match="record"):
        optimizers.run_many(f, opts, [-1.2, 1.0], 80, record=[True])
