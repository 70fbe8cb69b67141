"""Recorded updates through the API: per-run `"record": true` on the WebSocket and REST.

The core's records are held to torch in tests/optimizers; here the numbers that reach a
client are the core's, bit for bit, update t leaving point t, for the runs that asked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
import optimizers
from app import scene
from app.routes import ws as ws_route

SCENE: dict[str, Any] = {
    "landscape": "ill_conditioned",
    "start": [4.0, 1.5],
    "steps": 400,
    "runs": [
        {"optimizer": "sgd", "params": {"lr": 0.05}},
        {"optimizer": "momentum", "params": {"lr": 0.02}, "record": True},
        {"optimizer": "adam", "params": {"lr": 0.1, "weight_decay": 0.01}, "record": True},
        {"optimizer": "rmsprop", "params": {"lr": 0.01, "momentum": 0.5}, "record": True},
    ],
    "noise": 0.1,
    "seed": 5,
    "schedule": {"kind": "cosine"},
}


@pytest.fixture(autouse=True)
def _no_replays() -> None:
    ws_route.replays.clear()


def _core(index: int, scene_: dict[str, Any] = SCENE) -> optimizers.Trajectory:
    run = scene_["runs"][index]
    opt = optimizers.create(run["optimizer"], **run["params"])
    (trajectory,) = [
        t
        for i, t in enumerate(
            optimizers.run_many(
                landscapes.get(scene_["landscape"]),
                [optimizers.create(r["optimizer"], **r["params"]) for r in scene_["runs"]],
                scene_["start"],
                scene_["steps"],
                noise=scene_["noise"],
                seed=scene_["seed"],
                schedule=optimizers.schedule(scene_["schedule"]["kind"])
                if scene_.get("schedule")
                else None,
                record=True,
            )
        )
        if i == index
    ]
    assert set(trajectory.state or {}) == set(opt.buffers())
    return trajectory


def _assert_record(record: dict[str, Any], expected: optimizers.Trajectory, points: int) -> None:
    """`record` (JSON) holds updates 0 … points − 2 of the core's record, exactly."""
    assert expected.grads is not None and expected.lrs is not None and expected.state
    updates = points - 1
    assert np.array_equal(np.array(record["grads"]), expected.grads[:updates, 0])
    assert np.array_equal(np.array(record["lrs"]), expected.lrs[:updates, 0])
    assert set(record["state"]) == set(expected.state)
    for name, values in expected.state.items():
        assert np.array_equal(np.array(record["state"][name]), values[:updates, 0]), name


def _stream(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": "run", "id": 1, **body})
        messages = []
        while not messages or messages[-1]["type"] not in ("done", "error"):
            messages.append(socket.receive_json())
    return messages


def _joined(messages: list[dict[str, Any]], run: int) -> tuple[int, dict[str, Any] | None]:
    """(points, record) of one run from its chunks, checking the records follow on."""
    points = 0
    record: dict[str, Any] | None = None
    for message in messages:
        if message["type"] != "chunk" or message["run"] != run:
            continue
        points += len(message["points"])
        part = message.get("record")
        if part is None:
            continue
        if record is None:
            assert part["first"] == 0
            record = {"grads": [], "lrs": [], "state": {k: [] for k in part["state"]}}
        # the updates that made this chunk's points: update t leaves point t
        assert part["first"] == max(message["offset"], 1) - 1 == len(record["lrs"])
        record["grads"] += part["grads"]
        record["lrs"] += part["lrs"]
        for name, values in part["state"].items():
            record["state"][name] += values
    return points, record


def test_the_websocket_sends_the_records_asked_for(client: TestClient) -> None:
    messages = _stream(client, SCENE)
    meta = messages[0]
    assert [r["record"] for r in meta["runs"]] == [False, True, True, True]
    assert [r["buffers"] for r in meta["runs"]] == [
        [],
        ["momentum_buffer"],
        ["exp_avg", "exp_avg_sq"],
        ["square_avg", "momentum_buffer"],
    ]
    points, record = _joined(messages, 0)
    assert record is None and points == SCENE["steps"] + 1
    for run in (1, 2, 3):
        points, record = _joined(messages, run)
        assert record is not None
        _assert_record(record, _core(run), points)


def test_a_replay_carries_the_same_records(client: TestClient) -> None:
    first = _stream(client, SCENE)
    again = _stream(client, SCENE)  # replayed: each run's chunks joined into one
    assert len(again) < len(first)
    for run in (1, 2, 3):
        assert _joined(again, run) == _joined(first, run)


def test_rest_replies_carry_the_records_asked_for(client: TestClient) -> None:
    reply = client.post("/api/trajectories", json=SCENE)
    assert reply.status_code == 200
    runs = reply.json()["runs"]
    assert runs[0]["record"] is None
    for run in (1, 2, 3):
        _assert_record(runs[run]["record"], _core(run), len(runs[run]["points"]))


def test_a_diverged_run_records_the_updates_of_its_kept_points(client: TestClient) -> None:
    body = {
        "landscape": "rosenbrock",
        "steps": 200,
        "runs": [{"optimizer": "sgd", "params": {"lr": 0.5}, "record": True}],
    }
    (run,) = client.post("/api/trajectories", json=body).json()["runs"]
    assert run["diverged_at"] is not None
    assert len(run["record"]["grads"]) == len(run["points"]) - 1 == run["diverged_at"] - 1
    points, record = _joined(_stream(client, body), 0)
    assert record is not None and points == len(run["points"])
    assert record["grads"] == run["record"]["grads"] and record["lrs"] == run["record"]["lrs"]


def test_record_must_be_true_or_false(client: TestClient) -> None:
    body = {**SCENE, "runs": [{"optimizer": "adam", "record": "yes"}]}
    reply = client.post("/api/trajectories", json=body)
    assert reply.status_code == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", "runs", 0, "record"] and "boolean" in issue["msg"]
    (error,) = _stream(client, body)
    assert error["type"] == "error" and "runs.0.record" in error["detail"]


def test_an_overflowed_value_is_null() -> None:
    record = optimizers.Record(
        0,
        np.array([[1.0, np.inf]]),
        np.array([0.1]),
        {"exp_avg_sq": np.array([[np.inf, 2.0]])},
    )
    reply = scene.record_reply(record).model_dump()
    assert reply["grads"] == [(1.0, None)] and reply["state"]["exp_avg_sq"] == [(None, 2.0)]
