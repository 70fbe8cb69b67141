"""app.scene: the numbers every view (HTTP, WebSocket, exports) is built from."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import landscapes
import optimizers
from app import scene
from app.palette import OPTIMIZER_COLORS
from app.schemas import TrajectoryRequest


def _request(**fields: object) -> TrajectoryRequest:
    body = {"landscape": "rosenbrock", "steps": 50, "runs": [{"optimizer": "sgd"}]}
    body.update(fields)
    return TrajectoryRequest.model_validate(body)


def test_grid_follows_plotly_convention() -> None:
    g = scene.grid("rosenbrock", 21)
    f = landscapes.get("rosenbrock")
    (xmin, xmax), (ymin, ymax) = f.bounds
    assert g.x.shape == g.y.shape == (21,)
    assert g.z.shape == g.color.shape == (21, 21)
    assert (g.x[0], g.x[-1], g.y[0], g.y[-1]) == (xmin, xmax, ymin, ymax)
    i, j = 3, 17
    assert g.z[i, j] == pytest.approx(float(f.value([g.x[j], g.y[i]])))


def test_grid_is_cached_and_read_only() -> None:
    first = scene.grid("saddle", 33)
    assert scene.grid("saddle", 33) is first
    with pytest.raises(ValueError, match="read-only"):
        first.z[0, 0] = 1.0


def test_wide_range_is_coloured_on_log_scale() -> None:
    g = scene.grid("rosenbrock", 64)
    assert g.log_color
    assert np.isfinite(g.color).all()
    # log colouring is monotone in z: the order of the values is kept
    order = np.argsort(g.z, axis=None)
    assert (np.diff(g.color.ravel()[order]) >= -1e-12).all()
    # the spread of colours is in decades, far below the spread of z
    assert np.ptp(g.color) < 12 < np.ptp(g.z)


def test_narrow_range_is_coloured_linearly() -> None:
    g = scene.grid("rastrigin", 64)
    assert not g.log_color
    np.testing.assert_array_equal(g.color, g.z)


def test_log_decision_does_not_depend_on_resolution() -> None:
    for name in landscapes.names():
        assert scene.grid(name, 16).log_color == scene.grid(name, 300).log_color, name


def test_unknown_landscape_grid_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="rosenbrock"):
        scene.grid("nope", 10)


def test_compute_matches_the_core_runner() -> None:
    request = _request(runs=[{"optimizer": "adam", "params": {"lr": 0.05}}], steps=40)
    (outcome,) = scene.compute(request)
    f = landscapes.get("rosenbrock")
    expected = optimizers.run(f, optimizers.create("adam", lr=0.05), np.array(f.default_start), 40)
    np.testing.assert_array_equal(outcome.points, expected.points[:, 0, :])
    np.testing.assert_array_equal(outcome.losses, expected.losses[:, 0])
    assert outcome.points.shape == (41, 2)
    assert outcome.final_loss == outcome.losses[-1]
    assert outcome.diverged_at is None
    assert outcome.color == OPTIMIZER_COLORS["adam"]
    assert outcome.params["lr"] == 0.05
    assert outcome.params["beta2"] == 0.999  # defaults filled in


def test_diverged_run_is_truncated_before_the_first_bad_point() -> None:
    (outcome,) = scene.compute(_request(runs=[{"optimizer": "sgd", "params": {"lr": 1.0}}]))
    assert outcome.diverged_at is not None
    assert len(outcome.points) == len(outcome.losses) == outcome.diverged_at
    assert np.isfinite(outcome.points).all() and np.isfinite(outcome.losses).all()
    assert outcome.final_loss == outcome.losses[-1]
    result = outcome.to_result()
    assert result.diverged_at == outcome.diverged_at
    assert len(result.points) == outcome.diverged_at


def test_converged_at_is_the_settled_step_of_the_status() -> None:
    # Momentum on the bowl spirals in and settles: converged_at says when, as the status does.
    request = _request(
        landscape="ill_conditioned",
        steps=400,
        runs=[{"optimizer": "momentum", "params": {"lr": 0.1}}],
    )
    (outcome,) = scene.compute(request)
    assert outcome.status.code == "settled_global"
    assert outcome.converged_at == outcome.status.step is not None
    assert outcome.converged_to == "global"
    result = outcome.to_result()
    assert (result.converged_at, result.converged_to) == (outcome.status.step, "global")
    assert result.status.code == "settled_global" and result.status.step == outcome.status.step
    # from that step on the path stays within STAY of its end and the loss is flat too;
    # the step before, one of the two was not yet true
    radius = optimizers.status.STAY * optimizers.status.span(landscapes.get("ill_conditioned"))
    distance = np.hypot(*(outcome.points - outcome.points[-1]).T)
    band = optimizers.status.LOSS_SETTLED * abs(outcome.losses[0] - outcome.losses[-1])
    gap = np.abs(outcome.losses - outcome.losses[-1])
    assert (distance[outcome.converged_at :] <= radius).all()
    assert (gap[outcome.converged_at :] <= band).all()
    before = outcome.converged_at - 1
    assert distance[before] > radius or gap[before:].max() > band


def test_a_local_minimum_is_reported_as_a_trap() -> None:
    # the Rastrigin lecture preset's momentum run comes to rest in a local minimum
    from app.presets import PRESETS

    preset = next(p for p in PRESETS if p.id == "rastrigin").scene()
    (outcome,) = scene.compute(
        _request(
            landscape="rastrigin",
            start=preset["start"],
            steps=preset["steps"],
            runs=[{"optimizer": "momentum", "params": preset["params"]["momentum"]}],
        )
    )
    f = landscapes.get("rastrigin")
    assert outcome.status.code == "settled_local"
    assert outcome.converged_at == outcome.status.step and outcome.converged_to == "local"
    assert outcome.final_loss > f.minima[0].value + 0.5  # nowhere near the global minimum


def test_the_saddle_stalls_or_runs_away_and_never_converges() -> None:
    (stalled, away) = scene.compute(
        _request(
            landscape="saddle",
            start=[-1.8, 0.001],
            steps=200,
            runs=[
                {"optimizer": "sgd", "params": {"lr": 0.01}},
                {"optimizer": "momentum", "params": {"lr": 0.01}},
            ],
        )
    )
    assert stalled.status.code == "stalled_saddle" and away.status.code == "moving"
    assert stalled.converged_at is None and away.converged_at is None
    assert stalled.converged_to is None and away.converged_to is None


def test_every_run_sees_the_same_noise() -> None:
    runs = [{"optimizer": "sgd", "params": {"lr": 0.01}}] * 2
    first, second = scene.compute(_request(runs=runs, noise=0.5, seed=7))
    np.testing.assert_array_equal(first.points, second.points)
    assert first.color != second.color  # a repeat gets a colour of its own
    (again,) = scene.compute(_request(runs=runs[:1], noise=0.5, seed=7))
    np.testing.assert_array_equal(again.points, first.points)


def test_stream_chunks_reassemble_to_compute() -> None:
    request = _request(
        steps=120,
        runs=[
            {"optimizer": "sgd", "params": {"lr": 1.0}},  # diverges
            {"optimizer": "adam", "params": {"lr": 0.05}},
        ],
        noise=0.1,
        seed=3,
    )
    whole = scene.compute(request)
    prepared = scene.prepare(request)
    parts: dict[int, list[list[float]]] = {0: [], 1: []}
    for chunk in scene.stream_chunks(prepared, chunk=16):
        assert chunk.offset == len(parts[chunk.run])
        assert len(chunk.points) == len(chunk.losses) <= 16
        parts[chunk.run].extend(chunk.points.tolist())
    for i, outcome in enumerate(whole):
        np.testing.assert_array_equal(np.array(parts[i]).reshape(-1, 2), outcome.points)
    summary = prepared.summary()
    assert [s["diverged_at"] for s in summary] == [o.diverged_at for o in whole]
    assert [s["final_loss"] for s in summary] == [o.final_loss for o in whole]
    # the stream's status, classified from its reassembled blocks, is compute's
    assert [s["status"]["code"] for s in summary] == [o.status.code for o in whole]
    assert [s["status"]["step"] for s in summary] == [o.status.step for o in whole]


_SIX = [
    {"optimizer": "sgd", "params": {"lr": 1.0}},  # diverges early on rosenbrock
    {"optimizer": "momentum", "params": {"lr": 0.001}},
    {"optimizer": "nag", "params": {"lr": 0.001}},
    {"optimizer": "adagrad", "params": {"lr": 0.1}},
    {"optimizer": "rmsprop", "params": {"lr": 0.01}},
    {"optimizer": "adam", "params": {"lr": 0.05}},
]
_SCHEDULED = {"kind": "cosine", "min_factor": 0.1, "warmup": 5}


def test_lockstep_runs_equal_each_run_alone() -> None:
    """compute advances a request's runs together; each equals the run requested alone."""
    together = scene.compute(_request(runs=_SIX, steps=200, noise=0.2, seed=8, schedule=_SCHEDULED))
    assert together[0].diverged_at is not None
    for run, ours in zip(_SIX, together, strict=True):
        (alone,) = scene.compute(
            _request(runs=[run], steps=200, noise=0.2, seed=8, schedule=_SCHEDULED)
        )
        np.testing.assert_array_equal(ours.points, alone.points)
        np.testing.assert_array_equal(ours.losses, alone.losses)
        assert (ours.diverged_at, ours.final_loss, ours.status) == (
            alone.diverged_at,
            alone.final_loss,
            alone.status,
        )


def test_stream_chunks_interleave_runs_block_by_block() -> None:
    """Block b of every live run, in run order, before block b + 1; a diverged run goes
    quiet after its last finite block."""
    request = _request(runs=_SIX, steps=95, noise=0.1, seed=2)
    (diverged, *_) = scene.compute(request)
    last = diverged.diverged_at // 10  # the block holding its first bad point
    order = [
        (chunk.run, chunk.offset) for chunk in scene.stream_chunks(scene.prepare(request), chunk=10)
    ]
    expected = [
        (i, offset)
        for offset in range(0, 96, 10)
        for i in range(6)
        if i != 0 or offset // 10 < last or (offset // 10 == last and diverged.diverged_at % 10)
    ]
    assert order == expected


def test_stream_chunks_stop_computing_once_every_run_diverged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pulled = []
    real = optimizers.stream_many

    def counting(*args: object, **kwargs: object):
        for group in real(*args, **kwargs):
            pulled.append(group[0].offset)
            yield group

    monkeypatch.setattr(optimizers, "stream_many", counting)
    runs = [
        {"optimizer": "sgd", "params": {"lr": 1.0}},
        {"optimizer": "nag", "params": {"lr": 1.0}},
    ]
    prepared = scene.prepare(_request(runs=runs, steps=5000))
    assert list(scene.stream_chunks(prepared, chunk=10))
    summary = prepared.summary()
    assert all(s["diverged_at"] is not None for s in summary)
    assert pulled[-1] == max(s["diverged_at"] for s in summary) // 10 * 10 < 5000


@pytest.mark.parametrize("block", [1, 7, 500, 10_000])
def test_compute_block_by_block_equals_one_whole_run(block: int) -> None:
    # compute goes COMPUTE_BLOCK steps at a time (a REST request can stop between blocks);
    # its paths are run_many's, bit for bit, cut before the first non-finite point.
    request = _request(runs=_SIX, steps=1_234, noise=0.2, seed=8, schedule=_SCHEDULED)
    prepared = scene.prepare(request)
    outcomes = scene.compute_prepared(prepared, chunk=block)
    assert outcomes is not None
    whole = optimizers.run_many(
        prepared.landscape,
        [run.optimizer for run in prepared.runs],
        prepared.start,
        prepared.steps,
        noise=prepared.noise,
        seed=prepared.seed,
        schedule=prepared.schedule,
    )
    assert outcomes[0].diverged_at is not None  # the cut is exercised
    for outcome, trajectory in zip(outcomes, whole, strict=True):
        n = len(outcome.points)
        assert n == (outcome.diverged_at if outcome.diverged_at is not None else 1_235)
        np.testing.assert_array_equal(outcome.points, trajectory.points[:n, 0])
        np.testing.assert_array_equal(outcome.losses, trajectory.losses[:n, 0])


def test_a_cancelled_computation_stops_before_its_next_block() -> None:
    cancel = threading.Event()
    offsets: list[int] = []

    def after_block(offset: int) -> None:
        offsets.append(offset)
        if len(offsets) == 2:
            cancel.set()

    prepared = scene.prepare(_request(runs=_SIX[1:], steps=5_000))
    assert scene.compute_prepared(prepared, cancel, after_block, chunk=500) is None
    assert offsets == [0, 500]
