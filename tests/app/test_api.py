"""Every HTTP endpoint of the backend and its error paths, through FastAPI's TestClient."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient

import landscapes
import optimizers
from app import config, palette
from app.config import MAX_GRID_RESOLUTION, MAX_RUNS, MAX_STEPS, MIN_GRID_RESOLUTION
from app.palette import OPTIMIZER_COLORS
from optimizers.base import GROUPS

SCENE = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": 60,
    "runs": [{"optimizer": "sgd", "params": {"lr": 0.001}}, {"optimizer": "adam"}],
    "noise": 0.0,
    "seed": 0,
}


def _detail(response) -> str:  # type: ignore[no-untyped-def]
    """The 422/404 body as one searchable string, whatever its shape."""
    return json.dumps(response.json()["detail"])


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_landscapes_lists_every_landscape_with_metadata(client: TestClient) -> None:
    reply = client.get("/api/landscapes").json()
    assert [item["name"] for item in reply] == list(landscapes.names())
    rosenbrock = next(item for item in reply if item["name"] == "rosenbrock")
    f = landscapes.get("rosenbrock")
    assert rosenbrock["title"] == f.title and rosenbrock["formula"] == f.formula
    assert rosenbrock["latex"] == f.latex and rosenbrock["about"] == f.about
    assert rosenbrock["bounds"] == [list(b) for b in f.bounds]
    assert rosenbrock["default_start"] == list(f.default_start)
    assert {"x": 1.0, "y": 1.0, "value": 0.0, "kind": "global"} in rosenbrock["minima"]


def test_grid(client: TestClient) -> None:
    response = client.get("/api/landscapes/rastrigin/grid", params={"resolution": 20})
    assert response.status_code == 200
    reply = response.json()
    assert len(reply["x"]) == len(reply["y"]) == 20
    assert len(reply["z"]) == 20 and all(len(row) == 20 for row in reply["z"])
    assert len(reply["color"]) == 20
    assert reply["log_color"] is False
    assert client.get("/api/landscapes/rosenbrock/grid?resolution=30").json()["log_color"]


@pytest.mark.parametrize("resolution", [MIN_GRID_RESOLUTION - 1, MAX_GRID_RESOLUTION + 1, "ten"])
def test_grid_resolution_out_of_range_is_422_naming_it(client: TestClient, resolution) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/landscapes/saddle/grid?resolution={resolution}")
    assert response.status_code == 422
    assert "resolution" in _detail(response)


def test_grid_resolution_limit_message_names_the_range(client: TestClient) -> None:
    response = client.get(f"/api/landscapes/saddle/grid?resolution={MAX_GRID_RESOLUTION + 1}")
    assert str(MAX_GRID_RESOLUTION) in _detail(response)


def test_unknown_landscape_is_404_listing_the_valid_names(client: TestClient) -> None:
    response = client.get("/api/landscapes/mount_everest/grid")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "mount_everest" in detail
    assert all(name in detail for name in landscapes.names())


def test_optimizers_carry_params_colours_and_schedules(client: TestClient) -> None:
    reply = client.get("/api/optimizers").json()
    assert [o["name"] for o in reply["optimizers"]] == list(optimizers.names())
    for info in reply["optimizers"]:
        if info["name"] in OPTIMIZER_COLORS:
            assert info["color"] == OPTIMIZER_COLORS[info["name"]]
        specs = optimizers.spec(info["name"])
        assert [p["name"] for p in info["params"]] == [s.name for s in specs]
        for param, spec in zip(info["params"], specs, strict=True):
            assert param["default"] == spec.default
            assert param["log"] == spec.log
    adam = next(o for o in reply["optimizers"] if o["name"] == "adam")
    assert (adam["color"], adam["symbol"], adam["dash"]) == tuple(palette.style_for("adam"))
    lr = next(p for p in adam["params"] if p["name"] == "lr")
    assert lr["default"] == 1e-3 and lr["log"] is True
    kinds = {s["kind"]: [o["name"] for o in s["options"]] for s in reply["schedules"]}
    assert set(kinds) == {"constant", "step", "exponential", "inverse_time", "cosine"}
    assert "step_size" in kinds["step"] and "gamma" in kinds["step"]
    assert all("warmup" in options for options in kinds.values())


def test_optimizers_carry_their_picker_group_in_the_pages_order(client: TestClient) -> None:
    reply = client.get("/api/optimizers").json()
    groups = optimizers.groups()
    assert reply["groups"] == list(groups)
    assert set(reply["groups"]) <= set(GROUPS)
    for info in reply["optimizers"]:
        assert info["name"] in groups[info["group"]]
    # listed group by group, so the picker's headings each come once
    order = [GROUPS.index(o["group"]) for o in reply["optimizers"]]
    assert order == sorted(order)
    sgd = next(o for o in reply["optimizers"] if o["name"] == "sgd")
    adam = next(o for o in reply["optimizers"] if o["name"] == "adam")
    assert (sgd["group"], adam["group"]) == ("classic", "adaptive")
    # a fresh scene races the first build's six, within the run limit
    assert reply["scene"] == [n for n in config.CLASSIC_OPTIMIZERS if n in optimizers.names()]
    assert len(reply["scene"]) <= config.MAX_RUNS


def test_the_optimizer_reply_documents_group_and_style(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    info = schemas["OptimizerInfo"]
    assert {"group", "color", "symbol", "dash"} <= set(info["required"])
    reply = schemas["OptimizersReply"]
    assert {"groups", "scene"} <= set(reply["required"])
    assert "dash" in schemas["RunResult"]["properties"]


def test_every_run_of_a_twelve_run_race_has_its_own_style(client: TestClient) -> None:
    names = list(optimizers.names())
    runs = [{"optimizer": names[k % len(names)]} for k in range(config.MAX_RUNS)]
    body = {**SCENE, "steps": 3, "runs": runs}
    reply = client.post("/api/trajectories", json=body).json()["runs"]
    styles = [(r["color"], r["symbol"], r["dash"]) for r in reply]
    assert len(set(styles)) == config.MAX_RUNS
    assert styles == [tuple(s) for s in palette.race_styles([r["optimizer"] for r in runs])]


def test_trajectories(client: TestClient) -> None:
    response = client.post("/api/trajectories", json=SCENE)
    assert response.status_code == 200
    runs = response.json()["runs"]
    assert [r["optimizer"] for r in runs] == ["sgd", "adam"]
    for run in runs:
        assert len(run["points"]) == len(run["losses"]) == SCENE["steps"] + 1
        assert run["points"][0] == SCENE["start"]
        assert run["final_loss"] == run["losses"][-1]
        assert run["diverged_at"] is None
        assert run["color"] == OPTIMIZER_COLORS[run["optimizer"]]
    assert runs[1]["params"]["beta1"] == 0.9  # defaults filled in


def test_diverged_run_is_truncated_and_json_has_no_nan(client: TestClient) -> None:
    body = {**SCENE, "runs": [{"optimizer": "sgd", "params": {"lr": 5.0}}], "steps": 200}
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 200
    assert "NaN" not in response.text and "Infinity" not in response.text
    (run,) = response.json()["runs"]
    assert run["diverged_at"] is not None
    assert len(run["points"]) == run["diverged_at"]
    assert all(math.isfinite(v) for point in run["points"] for v in point)


def test_default_start_is_the_landscapes(client: TestClient) -> None:
    body = {k: v for k, v in SCENE.items() if k != "start"}
    (run, _) = client.post("/api/trajectories", json=body).json()["runs"]
    assert run["points"][0] == list(landscapes.get("rosenbrock").default_start)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"steps": MAX_STEPS + 1}, "steps", [str(MAX_STEPS)]),
        ({"steps": 0}, "steps", ["1"]),
        ({"runs": [{"optimizer": "sgd"}] * (MAX_RUNS + 1)}, "runs", [str(MAX_RUNS)]),
        ({"runs": []}, "runs", ["1"]),
        ({"landscape": "moon"}, "landscape", ["rosenbrock"]),
        ({"runs": [{"optimizer": "lbfgs"}]}, "optimizer", ["adam"]),
        ({"runs": [{"optimizer": "adam", "params": {"lr": 100.0}}]}, "lr", ["10"]),
        ({"runs": [{"optimizer": "adam", "params": {"momentum": 0.9}}]}, "momentum", ["beta1"]),
        ({"noise": -1}, "noise", ["0"]),
        ({"seed": -1}, "seed", ["0"]),
        ({"start": [0.0, 2e6]}, "start", ["(0, 2e+06)", "bounds", "[-1, 3]"]),
        ({"schedule": {"kind": "step", "gamma": 2.0}}, "gamma", ["1"]),
        ({"schedule": {"kind": "warp"}}, "kind", ["cosine"]),
        ({"colour": "red"}, "colour", ["extra"]),
    ],
)
def test_bad_scene_is_422_naming_field_and_range(
    client: TestClient, change: dict, field: str, words: list[str]
) -> None:
    response = client.post("/api/trajectories", json={**SCENE, **change})
    assert response.status_code == 422
    detail = _detail(response)
    assert field in detail
    for word in words:
        assert word in detail


@pytest.mark.parametrize("name", landscapes.names())
def test_start_on_the_bounds_runs_and_just_outside_is_422(client: TestClient, name: str) -> None:
    (xmin, xmax), (ymin, ymax) = landscapes.get(name).bounds
    body = {**SCENE, "landscape": name, "steps": 2, "runs": [{"optimizer": "sgd"}]}
    for corner in ([xmin, ymin], [xmax, ymax], [xmin, ymax], [xmax, ymin]):
        response = client.post("/api/trajectories", json={**body, "start": corner})
        assert response.status_code == 200, (corner, response.text)
        assert response.json()["runs"][0]["points"][0] == corner
    below, above = math.nextafter(xmin, -math.inf), math.nextafter(ymax, math.inf)
    for outside in ([below, ymin], [xmax, above]):
        response = client.post("/api/trajectories", json={**body, "start": outside})
        assert response.status_code == 422, outside
        (issue,) = response.json()["detail"]
        assert issue["loc"] == ["body", "start"]
        assert f"outside {name}'s bounds" in issue["msg"]


def test_start_outside_the_bounds_says_where_and_the_ranges(client: TestClient) -> None:
    response = client.post("/api/trajectories", json={**SCENE, "start": [9, 9]})
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["msg"] == "start (9, 9) is outside rosenbrock's bounds x ∈ [-2, 2], y ∈ [-1, 3]"


def test_start_outside_the_bounds_is_422_for_exports_too(client: TestClient) -> None:
    body = {**SCENE, "start": [-2.5, 0.0], "format": "csv"}
    response = client.post("/api/exports", json=body)
    assert response.status_code == 422
    assert "start (-2.5, 0) is outside rosenbrock's bounds" in _detail(response)


def test_an_unknown_landscape_is_the_one_error_not_the_start(client: TestClient) -> None:
    response = client.post("/api/trajectories", json={**SCENE, "landscape": "moon"})
    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [["body", "landscape"]]


def test_start_outside_the_bounds_over_the_websocket_is_an_error_and_the_socket_lives(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": "run", "id": "bad", **SCENE, "start": [9, 9]})
        error = socket.receive_json()
        assert error == {
            "type": "error",
            "id": "bad",
            "detail": "start: start (9, 9) is outside rosenbrock's bounds x ∈ [-2, 2], y ∈ [-1, 3]",
        }
        socket.send_json({"type": "run", "id": "good", **SCENE})
        kinds = []
        while not kinds or kinds[-1] != "done":
            message = socket.receive_json()
            assert message["id"] == "good"
            kinds.append(message["type"])
        assert kinds[0] == "meta"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_number_in_body_is_422_not_500(client: TestClient, constant: str) -> None:
    text = json.dumps(SCENE).replace('"noise": 0.0', f'"noise": {constant}')
    assert constant in text
    response = client.post(
        "/api/trajectories", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "noise" in _detail(response)
    json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in the reply"))


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/trajectories", content="{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_schedule_is_applied(client: TestClient) -> None:
    plain = client.post("/api/trajectories", json=SCENE).json()["runs"][0]
    body = {**SCENE, "schedule": {"kind": "step", "step_size": 10, "gamma": 0.5, "warmup": 5}}
    scheduled = client.post("/api/trajectories", json=body).json()["runs"][0]
    assert scheduled["points"][0] == plain["points"][0]
    assert scheduled["points"][-1] != plain["points"][-1]


def test_openapi_describes_every_reply(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in [
        "/healthz",
        "/api/landscapes",
        "/api/landscapes/{name}/grid",
        "/api/optimizers",
        "/api/trajectories",
    ]:
        for operation in paths[path].values():
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok, path
    grid = paths["/api/landscapes/{name}/grid"]["get"]
    assert "404" in grid["responses"]
    # the reply documents each run's status and its stable machine values
    assert "status" in schema["components"]["schemas"]["RunResult"]["properties"]
    assert "stalled_saddle" in json.dumps(schema["components"]["schemas"]["RunStatus"])
    assert client.get("/docs").status_code == 200


def test_core_value_error_keeps_its_message(client: TestClient) -> None:
    body = {**SCENE, "runs": [{"optimizer": "adam", "params": {"lr": 100.0}}]}
    (issue,) = client.post("/api/trajectories", json=body).json()["detail"]
    with pytest.raises(ValueError) as core_error:
        optimizers.create("adam", lr=100.0)
    assert issue["msg"] == str(core_error.value)
    assert issue["loc"] == ["body", "runs", 0]
