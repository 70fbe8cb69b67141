"""Simulated annealing and the genetic algorithm through the API (issue 14, CONTRACT-15):
their samples per point (thinned to SAMPLE_POINTS a run), evaluations, status and 422s."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
import optimizers
from app import scene
from app.config import CLASSIC_OPTIMIZERS, MAX_SAMPLED, SAMPLE_POINTS
from app.routes import ws as ws_route
from app.schemas import TrajectoryRequest

# genetic with a small population, annealing, and a gradient method beside them
RACE: dict[str, Any] = {
    "landscape": "rastrigin",
    "start": [1.5, -1.2],
    "steps": 150,
    "runs": [
        {"optimizer": "genetic", "params": {"population": 20, "spread": 2}},
        {"optimizer": "annealing", "params": {"lr": 0.3}},
        {"optimizer": "sgd", "params": {"lr": 0.001}},
    ],
}
# a population big enough and a run long enough that the samples are thinned: 101 × 100
# sample points > 50,000, so k = ceil(101 × 1001 / 50,000) = 3
THINNED: dict[str, Any] = {
    "landscape": "rastrigin",
    "start": [1.5, -1.2],
    "steps": 1000,
    "runs": [{"optimizer": "genetic", "params": {"population": 100}}, {"optimizer": "sgd"}],
}


def _strict(text: str) -> Any:
    """JSON as the page reads it: NaN or Infinity anywhere is a failure."""

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a reply")

    return json.loads(text, parse_constant=refuse)


def _core_samples(body: dict[str, Any], i: int) -> np.ndarray:
    """The core's samples of run i alone, (steps + 1, S, 2): what the reply must carry."""
    run = body["runs"][i]
    f = landscapes.get(body["landscape"])
    opt = optimizers.create(run["optimizer"], **run.get("params", {}))
    start = body.get("start", f.default_start)
    trajectory = optimizers.run(f, opt, start, body["steps"], seed=body.get("seed", 0))
    assert trajectory.samples is not None
    return trajectory.samples[:, 0]


def test_stride_thins_to_about_sample_points() -> None:
    # k = ceil((steps + 1) × S / SAMPLE_POINTS): a normal scene (500 steps, the default
    # population) keeps every point's samples, a long one every k-th, never more than
    # SAMPLE_POINTS when S divides it
    assert scene.sample_stride(500, 20) == scene.sample_stride(10_000, 1) == 1
    for steps, count, k in [(1000, 100, 3), (2000, 100, 5), (10_000, 20, 5), (10_000, 4, 1)]:
        assert scene.sample_stride(steps, count) == k
        assert len(range(0, steps + 1, k)) * count <= SAMPLE_POINTS


def test_samples_count_towards_what_a_stream_holds() -> None:
    # sockets share (and hold) a computation only of a small scene: samples count
    classic = [{"optimizer": name} for name in CLASSIC_OPTIMIZERS]
    page = {"landscape": "rastrigin", "steps": 500, "runs": [*classic, {"optimizer": "genetic"}]}
    assert scene.sent_points(TrajectoryRequest.model_validate(page)) == 7 * 501 + 501 * 20
    assert scene.sent_points(TrajectoryRequest.model_validate(page)) <= ws_route.SHARED_MAX_POINTS
    thinned = TrajectoryRequest.model_validate(THINNED)
    assert scene.sent_points(thinned) == 2 * 1001 + 334 * 100 > ws_route.SHARED_MAX_POINTS


def test_rest_reply_carries_each_points_samples_and_evaluations(client: TestClient) -> None:
    reply = client.post("/api/trajectories", json=RACE)
    assert reply.status_code == 200
    genetic, annealing, sgd = _strict(reply.text)["runs"]
    steps = RACE["steps"]
    for run, count in ((genetic, 20), (annealing, 1)):
        assert len(run["samples"]) == len(run["points"]) == steps + 1
        assert all(len(entry) == count for entry in run["samples"])
    # entry i is the samples of point i, as the core keeps them
    for i, run in ((0, genetic), (1, annealing)):
        assert np.array(run["samples"]).tolist() == _core_samples(RACE, i).tolist()
    assert genetic["samples"][0][0] == RACE["start"] == annealing["samples"][0][0]
    # the best member of each generation is the point drawn
    for point, generation in zip(genetic["points"], genetic["samples"], strict=True):
        assert point in generation
    # annealing accepted its proposal at update i − 1 iff point i is that proposal
    accepted = [p == s[0] for p, s in zip(annealing["points"], annealing["samples"], strict=True)]
    assert any(accepted[1:]) and not all(accepted[1:])
    assert genetic["evaluations"] == 20 + steps * 19
    assert annealing["evaluations"] == 1 + steps
    # a gradient method's reply is as before: no samples, one gradient a step
    assert sgd["samples"] is None and sgd["evaluations"] == steps


def test_long_runs_thin_their_samples_alike_over_rest_and_websocket(
    client: TestClient,
) -> None:
    ws_route.replays.clear()
    steps = THINNED["steps"]
    k = scene.sample_stride(steps, 100)
    assert k == 3
    rest = _strict(client.post("/api/trajectories", json=THINNED).text)["runs"]
    samples = rest[0]["samples"]
    assert len(samples) == steps + 1
    assert [i for i, entry in enumerate(samples) if entry is not None] == list(
        range(0, steps + 1, k)
    )
    assert sum(len(entry) for entry in samples if entry is not None) <= SAMPLE_POINTS
    expected = _core_samples(THINNED, 0)
    assert samples[999] == expected[999].tolist() and samples[1000] is None
    assert rest[0]["evaluations"] == 100 + steps * 99 and rest[1]["samples"] is None

    # the stream: each chunk's samples align with its points (point offset + j)
    messages = _stream(client, THINNED)
    chunks = [m for m in messages if m["type"] == "chunk"]
    genetic = [c for c in chunks if c["run"] == 0]
    assert all("samples" not in c for c in chunks if c["run"] == 1)
    assert any(c["offset"] % k for c in genetic)  # chunks of 100 points: offsets 100, 200, …
    for chunk in genetic:
        assert len(chunk["samples"]) == len(chunk["points"])
        for j, entry in enumerate(chunk["samples"]):
            assert (entry is None) == ((chunk["offset"] + j) % k != 0)
    assert [e for c in genetic for e in c["samples"]] == samples
    assert [r["evaluations"] for r in messages[-1]["runs"]] == [r["evaluations"] for r in rest]


def test_a_replayed_stream_carries_the_same_samples(client: TestClient) -> None:
    ws_route.replays.clear()
    rest = client.post("/api/trajectories", json=RACE).json()["runs"]
    computed, replayed = _stream(client, RACE), _stream(client, RACE)
    # the replay joins each run's chunks into one, built from the tracker
    assert len(replayed) == len(RACE["runs"]) + 2 < len(computed)
    for messages in (computed, replayed):
        for i, run in enumerate(rest):
            mine = [m for m in messages if m["type"] == "chunk" and m["run"] == i]
            if run["samples"] is None:
                assert all("samples" not in m for m in mine)
            else:
                assert [e for m in mine for e in m["samples"]] == run["samples"]
        evaluations = [r["evaluations"] for r in messages[-1]["runs"]]
        assert evaluations == [r["evaluations"] for r in rest]


def _stream(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message of one run over /ws/trajectories, read as strictly as `_strict`."""
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_text(json.dumps({"type": "run", "id": 1, **body}))
        messages = [_strict(socket.receive_text())]
        while messages[-1]["type"] not in ("done", "error"):
            messages.append(_strict(socket.receive_text()))
    assert messages[-1]["type"] == "done", messages[-1]
    return messages


def test_non_finite_samples_are_dropped_and_a_diverged_run_keeps_none_past_it() -> None:
    tracker = scene._Tracker(sample_every=2)
    points = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [np.nan, np.nan], [5.0, 5.0]])
    samples = np.arange(5 * 3 * 2, dtype=float).reshape(5, 3, 2)
    samples[2, 1] = [np.inf, 0.0]
    samples[3:] = np.nan
    kept_points, losses = tracker.feed(points, np.zeros(5))
    entries = tracker.feed_samples(samples, len(losses))
    assert len(kept_points) == len(entries) == 3 and tracker.diverged_at == 3
    assert entries[1] is None  # thinned: 1 % 2 != 0
    assert entries[0] is not None and entries[0].tolist() == samples[0].tolist()
    assert entries[2] is not None and entries[2].tolist() == samples[2, [0, 2]].tolist()
    # a later block of a diverged run adds nothing
    tracker.feed(points, np.zeros(5))
    assert tracker.feed_samples(samples, 0) == []
    kept = tracker.samples()
    assert kept is not None and [None if e is None else e.tolist() for e in kept] == [
        None if e is None else e.tolist() for e in entries
    ]
    assert tracker.updates() == 2


def test_a_genetic_run_that_finds_rastrigins_origin_is_settled_global(
    client: TestClient,
) -> None:
    # The gradient method beside it stops in the nearest of Rastrigin's local minima; the
    # population, sampling the surface wide, finds the global one at (0, 0).
    genetic, annealing, sgd = client.post("/api/trajectories", json=RACE).json()["runs"]
    assert np.hypot(*genetic["points"][-1]) < 0.01
    assert genetic["status"]["code"] == "settled_global" and genetic["converged_to"] == "global"
    assert 0 < genetic["status"]["step"] < RACE["steps"]
    assert sgd["status"]["code"] == "settled_local"
    assert annealing["status"]["code"] != "diverged"
    # gradient noise moves the gradient method, not the others, nor their status
    noisy = client.post("/api/trajectories", json={**RACE, "noise": 0.5}).json()["runs"]
    for quiet, loud in ((genetic, noisy[0]), (annealing, noisy[1])):
        assert loud["points"] == quiet["points"] and loud["status"] == quiet["status"]
    assert noisy[2]["points"] != sgd["points"]


def _detail(reply: Any) -> str:
    assert reply.status_code == 422, reply.text
    return "; ".join(issue["msg"] for issue in reply.json()["detail"])


def test_a_gradient_free_run_is_bounded_by_steps_times_population(client: TestClient) -> None:
    steps = 5000
    over = {
        "landscape": "rastrigin",
        "steps": steps,
        "runs": [{"optimizer": "sgd"}, {"optimizer": "genetic", "params": {"population": 41}}],
    }
    detail = _detail(client.post("/api/trajectories", json=over))
    assert detail.startswith("runs[1].params.population: ")
    assert f"≤ {MAX_SAMPLED:,}" in detail and "41 × 5,000" in detail
    assert f"at most {MAX_SAMPLED // steps}" in detail
    # the same body as an export is refused alike (ExportRequest is a TrajectoryRequest)
    exported = client.post("/api/exports", json={**over, "format": "json"})
    assert "runs[1].params.population" in _detail(exported)
    # a batch size means nothing to a method that reads f's values
    batched = {"landscape": "faithful_linear", "runs": [{"optimizer": "annealing", "batch": 8}]}
    assert _detail(client.post("/api/trajectories", json=batched)).startswith("runs[0].batch: ")


MAP_BODIES: dict[str, dict[str, Any]] = {
    "sweep": {},
    "heatmap": {},
    "basins": {"resolution": 8},
    "tune": {"budget": 4},
}


@pytest.mark.parametrize("kind", list(MAP_BODIES))
def test_maps_refuse_a_gradient_free_optimizer_naming_its_field(
    client: TestClient, kind: str
) -> None:
    # the heatmap maps one optimizer; the others take several, the gradient-free one second
    runs = [{"optimizer": "sgd"}, {"optimizer": "genetic"}]
    if kind == "heatmap":
        runs = [{"optimizer": "annealing"}]
    body = {"landscape": "rastrigin", "steps": 10, "runs": runs, **MAP_BODIES[kind]}
    index = len(runs) - 1
    name = runs[index]["optimizer"]
    for path in (f"/api/maps/{kind}", f"/api/maps/{kind}/export?format=csv"):
        detail = _detail(client.post(path, json=body))
        assert detail.startswith(f"runs[{index}].optimizer: {name} samples f at random")
        assert "gradient methods only" in detail
    assert name not in client.get("/api/maps/heatmap/axes").json()
    if kind in ("tune", "basins"):  # the maps' WebSocket says the same
        with client.websocket_connect("/ws/tune") as socket:
            socket.send_text(json.dumps({"type": kind, "id": kind, **body}))
            error = socket.receive_json()
        assert error["type"] == "error" and error["id"] == kind
        assert f"runs[{index}].optimizer: {name}" in error["detail"]
