"""The fast runner equals the reference loop (``optimizers.reference``) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import landscapes
import optimizers
from optimizers import reference

NAMES = optimizers.names()


@st.composite
def schedules(draw: st.DrawFn) -> optimizers.Schedule | None:
    kind = draw(st.sampled_from([None, *optimizers.schedule_kinds()]))
    if kind is None:
        return None
    options = {"warmup": draw(st.sampled_from([0, 0, 1, 5]))}
    if kind == "step":
        options |= {"step_size": draw(st.integers(1, 20)), "gamma": draw(st.floats(0, 1))}
    elif kind == "exponential":
        options["gamma"] = draw(st.floats(0.5, 1))
    elif kind == "inverse_time":
        options["decay"] = draw(st.floats(0, 10))
    elif kind == "cosine":
        t_max = draw(st.one_of(st.none(), st.integers(1, 50)))
        options |= {"t_max": t_max, "min_factor": draw(st.floats(0, 1))}
    return optimizers.schedule(kind, **options)


def _value(data: st.DataObject, spec: optimizers.HyperParam) -> float:
    if spec.integer:  # 0/1 switches such as RMSprop's centered
        return float(data.draw(st.integers(int(spec.min), int(spec.max))))
    if spec.log:  # the learning rate: up to 10, so some rows diverge
        return 10 ** data.draw(st.floats(np.log10(spec.min), np.log10(spec.max)))
    return data.draw(st.floats(spec.min, spec.max))


def _names(name: str) -> set[str]:
    return {spec.name for spec in optimizers.spec(name)}


def _optimizer(name: str, rows: int, data: st.DataObject) -> optimizers.Optimizer:
    """Each hyperparameter: its default, one value, or one value per row."""
    params: dict = {}
    for spec in optimizers.spec(name):
        how = data.draw(st.sampled_from(["default", "scalar", "per-row"]))
        if how == "scalar":
            params[spec.name] = _value(data, spec)
        elif how == "per-row" and spec.per_row:
            # zeros included: a row with μ = 0 must step as a scalar μ = 0 run does
            values = [
                data.draw(st.sampled_from([spec.min, _value(data, spec)])) for _ in range(rows)
            ]
            params[spec.name] = np.array(values)
    return optimizers.create(name, **params)


@st.composite
def scenes(draw: st.DrawFn) -> dict:
    f = landscapes.get(draw(st.sampled_from(landscapes.names())))
    rows = draw(st.sampled_from([1, 2, 3, 7]))
    (x0, x1), (y0, y1) = f.bounds
    near = st.floats(x0, x1), st.floats(y0, y1)
    # a few starts just inside the magnitude limit: one step may cross it
    edge = st.floats(optimizers.LIMIT - 10, optimizers.LIMIT) | st.floats(
        -optimizers.LIMIT, -optimizers.LIMIT + 10
    )
    starts = [
        draw(
            st.tuples(*near)
            if i % 3 != 2
            else st.tuples(*near) | st.tuples(edge, near[1]) | st.tuples(near[0], edge)
        )
        for i in range(rows)
    ]
    return {
        "f": f,
        "starts": np.array(starts, dtype=np.float64),
        "steps": draw(st.integers(0, 60)),
        "noise": draw(st.sampled_from([0.0, 0.0, 0.3, 2.0])),
        "seed": draw(st.integers(0, 2**32)),
        "schedule": draw(schedules()),
    }


def _assert_same(ours: optimizers.Trajectory, expected: optimizers.Trajectory) -> None:
    np.testing.assert_array_equal(ours.points, expected.points)
    np.testing.assert_array_equal(ours.losses, expected.losses)
    np.testing.assert_array_equal(ours.diverged_at, expected.diverged_at)
    # a gradient-free method's samples (its proposals, its population), NaN included
    if expected.samples is None:
        assert ours.samples is None
    else:
        assert ours.samples is not None
        np.testing.assert_array_equal(ours.samples, expected.samples)


def _reference(scene: dict, opt: optimizers.Optimizer) -> optimizers.Trajectory:
    return reference.run(
        scene["f"],
        opt,
        scene["starts"],
        scene["steps"],
        noise=scene["noise"],
        seed=scene["seed"],
        schedule=scene["schedule"],
    )


@settings(max_examples=150, deadline=None)
@given(scenes(), st.sampled_from(NAMES), st.data())
def test_run_equals_the_reference(scene: dict, name: str, data: st.DataObject) -> None:
    opt = _optimizer(name, len(scene["starts"]), data)
    kw = {"noise": scene["noise"], "seed": scene["seed"], "schedule": scene["schedule"]}
    ours = optimizers.run(scene["f"], opt, scene["starts"], scene["steps"], **kw)
    _assert_same(ours, _reference(scene, opt))
    event("some row diverged" if (ours.diverged_at >= 0).any() else "no row diverged")


@settings(max_examples=60, deadline=None)
@given(scenes(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=6), st.data())
def test_run_many_and_stream_many_equal_the_reference(
    scene: dict, names: list[str], data: st.DataObject
) -> None:
    """Lockstep (one request's runs, stacked) and streamed blocks change nothing."""
    opts = [_optimizer(name, len(scene["starts"]), data) for name in names]
    kw = {"noise": scene["noise"], "seed": scene["seed"], "schedule": scene["schedule"]}
    args = (scene["f"], opts, scene["starts"], scene["steps"])
    together = optimizers.run_many(*args, **kw)
    chunk = data.draw(st.integers(1, 30))
    groups = list(optimizers.stream_many(*args, chunk=chunk, **kw))
    for m, opt in enumerate(opts):
        expected = _reference(scene, opt)
        _assert_same(together[m], expected)
        streamed = optimizers.Trajectory(
            np.concatenate([group[m].points for group in groups]),
            np.concatenate([group[m].losses for group in groups]),
            groups[-1][m].diverged_at,
            samples=None
            if groups[0][m].samples is None
            else np.concatenate([group[m].samples for group in groups]),
        )
        _assert_same(streamed, expected)


@pytest.mark.parametrize("name", NAMES)
def test_reference_marks_divergence(name: str) -> None:
    """Rows of every optimizer cross the magnitude limit; the runner agrees on where."""
    f = landscapes.get("saddle")  # x² − y²: y runs away from 0
    # 1e-3 from the edge: Adadelta's first step is about √ε whatever the rate
    starts = np.array([[-1.5, 2.0], [0.0, optimizers.LIMIT - 1e-3], [0.5, 0.5]])
    # no weight decay: AdamW's default (decoupled) would pull the row back inside
    decay = {"weight_decay": 0.0} if "weight_decay" in _names(name) else {}
    opt = optimizers.create(name, lr=np.array([1e-3, 10.0, 10.0]), **decay)
    expected = reference.run(f, opt, starts, 50)
    _assert_same(optimizers.run(f, opt, starts, 50), expected)
    if isinstance(opt, optimizers.GradientFree):
        # a random walk: its proposals cross the limit sooner or later, and the samples
        # go (NaN) with the point
        assert 1 <= expected.diverged_at[1] <= 50
        assert expected.samples is not None
        assert np.isnan(expected.samples[expected.diverged_at[1] :, 1]).all()
        assert np.isfinite(expected.samples[: expected.diverged_at[1], 1]).all()
        return
    assert expected.diverged_at[0] == -1
    assert expected.diverged_at[1] == 1  # one update from the edge is past it
    assert np.isnan(expected.points[1:, 1]).all() and np.isnan(expected.losses[1:, 1]).all()
    _assert_same(optimizers.run(f, opt, starts, 50), expected)
