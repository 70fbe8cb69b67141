"""A typed function wherever a landscape is named: the race, the live channel, the maps,
the preview grid, exports and the CLI (app/surfaces.py resolves them all)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import cli, surfaces
from app.export.data import build_scene
from app.export.pipeline import scene_name
from app.routes import ws as ws_route
from app.schemas import ExportRequest

ROSENBROCK = "(1 - x)**2 + 100*(y - x**2)**2"
TYPED = {"expr": ROSENBROCK, "bounds": [[-2, 2], [-1, 3]], "start": [-1.2, 1.0]}
RUNS = [
    {"optimizer": "sgd", "params": {"lr": 0.001}},
    {"optimizer": "adam", "params": {"lr": 0.05}},
]


def _race(client: TestClient, landscape: Any, **extra: Any) -> Any:
    body = {"landscape": landscape, "steps": 200, "runs": RUNS, **extra}
    return client.post("/api/trajectories", json=body)


def test_a_typed_rosenbrock_races_as_the_named_one(client: TestClient) -> None:
    typed, named = _race(client, TYPED), _race(client, "rosenbrock")
    assert typed.status_code == 200, typed.text
    for mine, theirs in zip(typed.json()["runs"], named.json()["runs"], strict=True):
        np.testing.assert_allclose(mine["points"], theirs["points"], rtol=1e-9, atol=1e-12)
        assert mine["status"]["code"] == theirs["status"]["code"]


def test_a_bad_expression_is_a_422_naming_the_field_and_column(client: TestClient) -> None:
    reply = _race(client, {**TYPED, "expr": "x**2 + z"})
    assert reply.status_code == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", "landscape", "expr"]
    assert issue["msg"].startswith("unknown name 'z' at column 8")


@pytest.mark.parametrize(
    ("landscape", "loc", "words"),
    [
        ({**TYPED, "bounds": [[2, -2], [-1, 3]]}, ["body", "landscape", "expr"], "lower bound"),
        ({**TYPED, "expr": "9**9**9"}, ["body", "landscape", "expr"], "exponent at column 4"),
        ({**TYPED, "oops": 1}, ["body", "landscape", "expr", "oops"], "Extra inputs"),
        (12, ["body", "landscape"], "a landscape name"),
    ],
)
def test_bad_typed_landscapes_name_their_field(client: TestClient, landscape, loc, words) -> None:  # type: ignore[no-untyped-def]
    reply = _race(client, landscape)
    assert reply.status_code == 422
    issue = reply.json()["detail"][0]
    assert issue["loc"] == loc and words in issue["msg"]


def test_a_start_outside_the_typed_bounds_is_refused(client: TestClient) -> None:
    reply = _race(client, TYPED, start=[5, 5])
    assert reply.status_code == 422
    assert "outside the typed function's bounds" in reply.text


def test_the_preview_gives_minima_and_a_grid(client: TestClient) -> None:
    body = {"landscape": {"expr": "x^2/20 + y^2", "bounds": [[-4, 4], [-2, 2]]}, "resolution": 21}
    reply = client.post("/api/landscapes/custom", json=body)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["landscape"]["name"] == "custom"
    assert data["landscape"]["formula"] == "f(x, y) = x^2/20 + y^2"
    assert data["landscape"]["latex"] == r"f(x, y) = \frac{x^{2}}{20} + y^{2}"
    assert data["landscape"]["minima"] == [{"x": 0.0, "y": 0.0, "value": 0.0, "kind": "global"}]
    assert len(data["grid"]["x"]) == 21 and data["grid"]["x"][0] == -4.0
    assert data["grid"]["z"][10][10] == 0.0  # the centre of the grid is the minimum
    bad = client.post("/api/landscapes/custom", json={"landscape": {"expr": "x +* y"}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "expr"
    assert "at column 4" in bad.json()["detail"][0]["msg"]


def test_the_preview_samples_a_zoomed_window(client: TestClient) -> None:
    landscape = {"expr": "x^2 + y^2", "bounds": [[-4, 4], [-4, 4]]}
    body = {"landscape": landscape, "resolution": 11, "window": [[0, 1], [-1, 0]]}
    grid = client.post("/api/landscapes/custom", json=body).json()["grid"]
    assert grid["x"][0] == 0.0 and grid["x"][-1] == 1.0 and grid["y"][0] == -1.0
    assert grid["z"][0][-1] == 2.0  # f(1, −1)
    wrong = client.post("/api/landscapes/custom", json={**body, "window": [[1, 0], [-1, 0]]})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "window"]


def test_validation_reads_the_text_but_compiles_nothing() -> None:
    # compiling takes up to a second: the request models (on the event loop) only read the
    # text; the workers compile it (app.surfaces.resolve)
    surfaces._compiled.cache_clear()
    body = {"landscape": {**TYPED, "expr": "x**2 + 5*y**2"}, "runs": RUNS, "start": [1, 1]}
    ExportRequest.model_validate({**body, "format": "json"})
    assert surfaces._compiled.cache_info().currsize == 0


def test_compiled_once_for_many_requests(client: TestClient) -> None:
    surfaces._compiled.cache_clear()
    for lr in (0.001, 0.002, 0.003):
        runs = [{"optimizer": "sgd", "params": {"lr": lr}}]
        body = {"landscape": {**TYPED, "expr": "x**2 + 3*y**2"}, "runs": runs, "steps": 20}
        assert client.post("/api/trajectories", json=body).status_code == 200
    info = surfaces._compiled.cache_info()
    assert info.misses == 1 and info.hits >= 2


def test_the_live_channel_streams_a_typed_function(client: TestClient) -> None:
    ws_route.replays.clear()
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": "run", "id": "bad", "landscape": {"expr": "x + z"}, "runs": RUNS})
        error = socket.receive_json()
        assert error["type"] == "error"
        assert error["detail"].startswith("landscape.expr: unknown name 'z' at column 5")
        scene = {"landscape": TYPED, "steps": 50, "runs": RUNS}
        socket.send_json({"type": "run", "id": "ok", **scene})
        messages = []
        while not messages or messages[-1]["type"] not in ("done", "error"):
            messages.append(socket.receive_json())
    assert messages[0]["type"] == "meta" and messages[-1]["type"] == "done", messages[-1]


def test_the_maps_take_a_typed_function(client: TestClient) -> None:
    body = {
        "landscape": {"expr": "x**2/20 + y**2", "bounds": [[-3, 3], [-3, 3]]},
        "runs": [{"optimizer": "sgd"}],
        "steps": 50,
        "lr": {"min": 0.01, "max": 1.0, "count": 16},
    }
    reply = client.post("/api/maps/sweep", json=body)
    assert reply.status_code == 200, reply.text


def test_exports_are_named_and_titled_by_the_typed_function() -> None:
    request = ExportRequest.model_validate(
        {"landscape": TYPED, "runs": RUNS, "steps": 20, "format": "json"}
    )
    assert scene_name(request) == "custom-sgd-adam"
    assert surfaces.resolve(request.landscape).title == f"f(x, y) = {ROSENBROCK}"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_exported_scene_is_titled_by_its_formula(lang: str) -> None:
    request = ExportRequest.model_validate(
        {"landscape": TYPED, "runs": RUNS, "steps": 20, "format": "json", "lang": lang}
    )
    scene = build_scene(request)
    assert scene.full_title == f"f(x, y) = {ROSENBROCK}"  # not "Your function"
    assert scene.formula == f"f(x, y) = {ROSENBROCK}"
    assert [m.kind for m in scene.minima] == ["global"]


def test_the_cli_sends_expr_and_bounds() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(
        ["export", "--expr", "x^2 + y^2", "--bounds=-4,4,-2,2", "--steps", "10", "-o", "a.json"]
    )
    body = cli.build_request(args)
    assert body["landscape"] == {"expr": "x^2 + y^2", "bounds": [[-4.0, 4.0], [-2.0, 2.0]]}
    ExportRequest.model_validate(body)
    both = parser.parse_args(["export", "--expr", "x", "--landscape", "booth", "-o", "a.json"])
    with pytest.raises(ValueError, match="either --landscape or --expr"):
        cli.build_request(both)


def test_the_map_commands_send_expr_and_expr_bounds() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(
        ["sweep", "--expr", "x^2/20 + y^2", "--expr-bounds", "-4", "4", "-2", "2"]
    )
    kind, body = cli.map_body(args)
    assert kind == "sweep"
    assert body["landscape"] == {"expr": "x^2/20 + y^2", "bounds": [[-4.0, 4.0], [-2.0, 2.0]]}
    lone = parser.parse_args(["sweep", "--expr-bounds=-4,4,-2,2"])
    with pytest.raises(ValueError, match="--expr-bounds: only with --expr"):
        cli.map_body(lone)
