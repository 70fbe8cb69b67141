"""A basin map over the maps' WebSocket (/ws/maps, also /ws/tune): progress, then the map."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import maps as replies
from app.schemas import BasinsReply, BasinsRequest

BODY: dict[str, Any] = {
    "landscape": "himmelblau",
    "steps": 120,
    "runs": [{"optimizer": "adam", "params": {"lr": 0.1}}, {"optimizer": "sgd"}],
    "resolution": 40,
}


def _until_done(ws: Any) -> list[dict[str, Any]]:
    messages = []
    while True:
        messages.append(ws.receive_json())
        if messages[-1]["type"] in ("done", "error"):
            return messages


def test_a_basin_map_reports_progress_then_sends_the_rest_reply(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # blocks of a few updates and progress as often as it comes: several progress messages
    monkeypatch.setattr(sys.modules["optimizers.summary"], "WINDOW_POINTS", 1600 * 4)
    monkeypatch.setattr(sys.modules["app.routes.tune"], "PROGRESS_SECONDS", 0.0)
    with client.websocket_connect("/ws/maps") as ws:
        ws.send_text(json.dumps({"type": "basins", "id": "m", **BODY}))
        messages = _until_done(ws)
    *progress, done = messages
    assert done["type"] == "done" and all(m["id"] == "m" for m in messages)
    assert progress and all(m["type"] == "progress" for m in progress)
    fractions = [m["done"] for m in progress]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    del done["type"], done["id"]
    expected = replies.basins_reply(BasinsRequest.model_validate(BODY))
    assert expected is not None
    assert BasinsReply.model_validate(done) == expected


def test_bad_basins_fields_get_an_error_naming_them_and_the_socket_stays(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/tune") as ws:
        ws.send_text(json.dumps({"type": "basins", "id": 7, **BODY, "resolution": 999}))
        error = ws.receive_json()
        assert error["type"] == "error" and error["id"] == 7 and "resolution" in error["detail"]
        ws.send_text(json.dumps({"type": "sweep", "id": 8}))
        error = ws.receive_json()
        assert '"tune" and "basins"' in error["detail"]
        ws.send_text(json.dumps({"type": "basins", "id": 9, **BODY, "resolution": 8}))
        assert _until_done(ws)[-1]["type"] == "done"


def test_a_new_message_stops_the_map_computing(client: TestClient) -> None:
    """Latest wins: the first map's done never arrives, the second's does."""
    big = {**BODY, "resolution": 256, "steps": 500, "runs": BODY["runs"] * 3}
    with client.websocket_connect("/ws/maps") as ws:
        ws.send_text(json.dumps({"type": "basins", "id": "big", **big}))
        ws.send_text(json.dumps({"type": "basins", "id": "small", **BODY, "resolution": 8}))
        messages = _until_done(ws)
    assert messages[-1]["id"] == "small" and messages[-1]["type"] == "done"
    assert not any(m["type"] == "done" and m["id"] == "big" for m in messages)
