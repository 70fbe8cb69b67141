"""POST /api/maps/tune and WS /ws/tune: the fair race's trials, whole or as they arrive."""

from __future__ import annotations

import base64
import gzip
import json
import math
import threading
import time
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
import optimizers
from app.maps import tune_reply_json
from app.routes import tune as tune_routes
from app.schemas import TuneReply, TuneRequest
from app.work import compressed
from optimizers.status import global_minimum_value

BODY: dict[str, Any] = {
    "landscape": "ill_conditioned",
    "start": [-2.0, 1.5],
    "steps": 60,
    "budget": 6,
    "runs": [
        {"optimizer": "sgd"},
        {"optimizer": "momentum", "extra": {"name": "momentum", "min": 0.0, "max": 0.95}},
    ],
}


def _decode(array: dict[str, Any]) -> np.ndarray:
    assert array["dtype"] == "float32"
    data = np.frombuffer(base64.b64decode(array["data"]), dtype="<f4")
    return data.reshape(array["shape"])


def test_rest_reply(client: TestClient) -> None:
    response = client.post("/api/maps/tune", json=BODY)
    assert response.status_code == 200, response.text
    reply = response.json()
    TuneReply.model_validate(reply)  # the documented shape
    f = landscapes.get("ill_conditioned")
    assert reply["f_star"] == global_minimum_value(f)
    sgd, momentum = reply["runs"]
    assert [d["name"] for d in sgd["space"]] == ["lr"]
    assert sgd["space"][0] == {"name": "lr", "min": 1e-4, "max": 10.0, "log": True}
    assert [d["name"] for d in momentum["space"]] == ["lr", "momentum"]
    assert len(sgd["grid"]) == 1 and len(sgd["grid"][0]) == 128
    assert [len(axis) for axis in momentum["grid"]] == [32, 32]
    for run in reply["runs"]:
        assert [m["method"] for m in run["methods"]] == ["grid", "random", "bayes"]
        for method in run["methods"]:
            assert [t["index"] for t in method["trials"]] == list(range(6))
            assert (method["snapshots"] != []) == (method["method"] == "bayes")
    # SGD on f = x²/20 + y² diverges above lr = 1: those trials are null, the rest the race
    for trial in sgd["methods"][0]["trials"]:
        (lr,) = trial["values"]
        traj = optimizers.run(f, optimizers.create("sgd", lr=lr), (-2.0, 1.5), 60)
        if lr > 1.0:
            assert trial["score"] is None and trial["gap"] is None
        else:
            assert trial["gap"] == float(traj.losses[-1, 0]) - reply["f_star"]
            assert trial["score"] == float(np.log10(max(trial["gap"], 1e-16)))
    best = min(
        (t for m in sgd["methods"] for t in m["trials"] if t["score"] is not None),
        key=lambda t: t["score"],
    )
    assert sgd["best"] == {"lr": best["values"][0]}
    snap = momentum["methods"][2]["snapshots"][-1]
    assert _decode(snap["mean"]).shape == (32, 32)
    assert np.all(_decode(snap["std"]) >= 0) and np.all(_decode(snap["ei"]) >= 0)
    assert snap["next"] is None and snap["after"] == 5
    assert "NaN" not in response.text and "Infinity" not in response.text
    assert response.headers["content-encoding"] == "gzip"  # the client accepts it
    plain = client.post("/api/maps/tune", json=BODY, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == reply


def test_the_reply_is_compressed_in_the_worker() -> None:
    request = TuneRequest.model_validate(BODY)
    body = tune_reply_json(threading.Event(), request)
    assert body is not None
    packed, gzipped = compressed(body, True)
    assert gzipped and json.loads(gzip.decompress(packed)) == json.loads(body)
    assert compressed(body, False) == (body, False)


def test_rest_reproducible(client: TestClient) -> None:
    body = {**BODY, "noise": 0.2, "seed": 7}
    first = client.post("/api/maps/tune", json=body)
    second = client.post("/api/maps/tune", json=body)
    assert first.status_code == 200
    assert first.content == second.content
    other = client.post("/api/maps/tune", json={**body, "seed": 8})
    assert other.content != first.content


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"budget": 3}, "budget", "greater than or equal to 4"),
        ({"budget": 65}, "budget", "less than or equal to 64"),
        ({"steps": 2001}, "steps", "less than or equal to 2000"),
        ({"runs": []}, "runs", "at least 1"),
        ({"runs": [{"optimizer": "sgd"}] * 13}, "runs", "at most 12"),
        ({"runs": [{"optimizer": "adamm"}]}, "runs.0", "unknown optimizer 'adamm'"),
        ({"runs": [{"optimizer": "sgd", "extra": {"name": "momentum"}}]}, "runs.0", "momentum"),
        ({"runs": [{"optimizer": "sgd", "lr": {"min": 1e-6}}]}, "runs.0", "lr range"),
        ({"runs": [{"optimizer": "adam", "params": {"beta2": 2}}]}, "runs.0", "beta2"),
        ({"methods": ["grid", "grid"]}, "methods", "at most once"),
        ({"methods": ["annealing"]}, "methods.0", "grid"),
        ({"landscape": "nowhere"}, "landscape", "unknown landscape"),
        ({"start": [50, 50]}, "start", "outside"),
    ],
)
def test_bad_fields_get_a_422_naming_them(
    client: TestClient, change: dict[str, Any], field: str, words: str
) -> None:
    response = client.post("/api/maps/tune", json={**BODY, **change})
    assert response.status_code == 422, response.text
    issues = response.json()["detail"]
    where = [".".join(str(p) for p in issue["loc"][1:]) for issue in issues]
    assert field in where, issues
    assert words in json.dumps(issues, ensure_ascii=False)


def _collect(ws: Any) -> list[dict[str, Any]]:
    messages = []
    while True:
        message = ws.receive_json()
        messages.append(message)
        if message["type"] in ("done", "error"):
            return messages


def test_ws_streams_trials_in_order_then_done(client: TestClient) -> None:
    with client.websocket_connect("/ws/tune") as ws:
        ws.send_text(json.dumps({"type": "tune", "id": "a", **BODY}))
        messages = _collect(ws)
    assert all(m["id"] == "a" for m in messages)
    meta, *trials, done = messages
    assert meta["type"] == "meta" and done["type"] == "done"
    assert meta["methods"] == ["grid", "random", "bayes"] and meta["budget"] == 6
    assert [r["optimizer"] for r in meta["runs"]] == ["sgd", "momentum"]
    assert {m["type"] for m in trials} == {"trial"}
    assert len(trials) == 2 * 3 * 6
    for run in (0, 1):
        for method in ("grid", "random", "bayes"):
            mine = [m for m in trials if (m["run"], m["method"]) == (run, method)]
            assert [m["index"] for m in mine] == list(range(6))
            snaps = [m["snapshot"] for m in mine if "snapshot" in m]
            assert (len(snaps) > 0) == (method == "bayes")
            # each snapshot's next is the values of the trial that follows it
            for m in mine:
                if "snapshot" in m and m["snapshot"]["next"] is not None:
                    assert mine[m["index"] + 1]["values"] == m["snapshot"]["next"]
    # the same numbers as the REST reply
    rest = client.post("/api/maps/tune", json=BODY).json()
    for run_index, run in enumerate(rest["runs"]):
        for result in run["methods"]:
            streamed = [
                {k: m[k] for k in ("index", "values", "score", "gap")}
                for m in trials
                if (m["run"], m["method"]) == (run_index, result["method"])
            ]
            assert streamed == result["trials"]
        assert done["runs"][run_index]["best"] == run["best"]
        assert done["runs"][run_index]["methods"]["bayes"] == run["methods"][2]["best"]


def test_ws_errors_keep_the_socket_and_latest_wins(client: TestClient) -> None:
    with client.websocket_connect("/ws/tune") as ws:
        ws.send_text(json.dumps({"type": "tune", "id": 1, **BODY, "budget": 99}))
        error = ws.receive_json()
        assert error["type"] == "error" and error["id"] == 1
        assert "budget" in error["detail"]
        ws.send_text("{not json")
        assert "invalid JSON" in ws.receive_json()["detail"]
        ws.send_text(json.dumps({"type": "run", "id": 2}))
        assert 'the types are "tune" and "basins"' in ws.receive_json()["detail"]
        # a long tune, then at once a short one: nothing of the first follows the second's meta
        long = {**BODY, "steps": 2000, "budget": 64, "id": "long", "type": "tune"}
        ws.send_text(json.dumps(long))
        ws.send_text(json.dumps({"type": "tune", "id": "short", **BODY}))
        seen = []
        while True:
            message = ws.receive_json()
            seen.append(message)
            if message["type"] == "done":
                break
        first_short = next(i for i, m in enumerate(seen) if m["id"] == "short")
        assert all(m["id"] == "short" for m in seen[first_short:])
        assert seen[first_short]["type"] == "meta"
        assert not any(m["id"] == "long" and m["type"] == "done" for m in seen)


def test_ws_refuses_a_foreign_origin(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws/tune", headers={"Origin": "http://evil.example"}) as ws,
    ):
        ws.receive_json()


def test_no_nan_when_everything_diverges(client: TestClient) -> None:
    body = {**BODY, "runs": [{"optimizer": "sgd", "lr": {"min": 2.0, "max": 10.0}}]}
    reply = client.post("/api/maps/tune", json=body).json()
    (run,) = reply["runs"]
    assert run["best"] is None
    for method in run["methods"]:
        assert method["best"] is None
        assert all(t["score"] is None and t["gap"] is None for t in method["trials"])
        for snap in method["snapshots"]:
            assert math.isfinite(snap["best"])


def test_ws_disconnect_stops_the_computation(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[bool] = []  # per round: was the tune cancelled when it ended
    monkeypatch.setattr(tune_routes, "round_hook", lambda cancel: rounds.append(cancel.is_set()))
    body = {**BODY, "steps": 2000, "budget": 64, "runs": [{"optimizer": "adam"}] * 2}
    with client.websocket_connect("/ws/tune") as ws:
        ws.send_text(json.dumps({"type": "tune", **body}))
        assert ws.receive_json()["type"] == "meta"
        while ws.receive_json()["method"] != "bayes":  # round 0 done: bayes is on its own
            pass
    # the socket is closed: the round computing then may end, and no other starts
    finished = -1
    while len(rounds) != finished:  # a full bayes round takes ~30 ms here
        finished = len(rounds)
        time.sleep(0.3)
    assert rounds.count(True) <= 1
    assert finished < 64 - 3  # far from the budget's rounds


def test_ws_newer_tune_stops_the_older(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, bool]] = []
    monkeypatch.setattr(
        tune_routes, "round_hook", lambda cancel: seen.append((id(cancel), cancel.is_set()))
    )
    long = {**BODY, "steps": 2000, "budget": 64, "runs": [{"optimizer": "adam"}] * 2}
    with client.websocket_connect("/ws/tune") as ws:
        ws.send_text(json.dumps({"type": "tune", "id": "long", **long}))
        while ws.receive_json()["type"] != "trial":
            pass
        ws.send_text(json.dumps({"type": "tune", "id": "short", **BODY}))
        while (message := ws.receive_json())["type"] != "done" or message["id"] != "short":
            pass
    first = seen[0][0]
    older = [cancelled for key, cancelled in seen if key == first]
    assert len(older) < 64 - 3  # it stopped far from its budget's rounds
    assert len(seen) - len(older) == 6 - 2 + 1  # the newer one ran all of its rounds


def test_a_subset_of_methods_and_a_schedule(client: TestClient) -> None:
    body = {
        **BODY,
        "methods": ["bayes"],
        "schedule": {"kind": "cosine", "warmup": 5},
        "runs": [{"optimizer": "adam", "params": {"beta2": 0.99}, "lr": {"max": 1.0}}],
    }
    reply = client.post("/api/maps/tune", json=body).json()
    (run,) = reply["runs"]
    assert [m["method"] for m in run["methods"]] == ["bayes"]
    assert run["space"] == [{"name": "lr", "min": 1e-4, "max": 1.0, "log": True}]
    f = landscapes.get(BODY["landscape"])
    trial = run["methods"][0]["trials"][3]
    opt = optimizers.create("adam", lr=trial["values"][0], beta2=0.99)
    schedule = optimizers.schedule("cosine", warmup=5)
    traj = optimizers.run(f, opt, BODY["start"], BODY["steps"], schedule=schedule)
    assert trial["gap"] == float(traj.losses[-1, 0]) - reply["f_star"]
