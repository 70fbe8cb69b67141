"""GET /api/settings: the limits, colours and colorscale the page reads, from their one home."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app import config, palette
from app.cli import main
from app.main import create_app
from app.schemas import TrajectoryRequest
from tests.app.clients import LocalClient


def test_settings_serve_every_scene_and_export_option_as_validation_has_it(
    client: TestClient,
) -> None:
    reply = client.get("/api/settings").json()
    assert list(reply["scene"]) == [o.name for o in config.SCENE_OPTIONS]
    assert list(reply["export"]) == [o.name for o in config.EXPORT_OPTIONS]
    steps = reply["scene"]["steps"]
    assert (steps["min"], steps["max"], steps["default"]) == (1, config.STEPS.max, 200)
    assert steps["integer"] is True
    noise = reply["scene"]["noise"]
    assert (noise["min"], noise["max"], noise["integer"]) == (0, config.NOISE.max, False)
    assert reply["scene"]["seed"]["max"] == config.SEED.max
    # What is served is what is enforced: one past the served maximum is a 422.
    body = {"landscape": "booth", "runs": [{"optimizer": "sgd"}]}
    for name, value in (("steps", steps["max"] + 1), ("seed", reply["scene"]["seed"]["max"] + 1)):
        response = client.post("/api/trajectories", json={**body, name: int(value)})
        assert response.status_code == 422, name
    response = client.post("/api/trajectories", json={**body, "noise": noise["max"] * 1.01})
    assert response.status_code == 422


def test_settings_serve_the_maps_limits_as_validation_has_them(client: TestClient) -> None:
    maps = client.get("/api/settings").json()["maps"]
    assert list(maps) == [o.name for o in config.MAP_OPTIONS]
    body = {"landscape": "booth", "runs": [{"optimizer": "sgd"}]}
    steps = maps["steps"]["max"]
    for path in ("sweep", "heatmap", "basins", "tune"):
        over = client.post(f"/api/maps/{path}", json={**body, "steps": int(steps) + 1})
        assert over.status_code == 422, path
    too_many = {**body, "lr": {"count": int(maps["lr_count"]["max"]) + 1}}
    assert client.post("/api/maps/sweep", json=too_many).status_code == 422
    wide = {**body, "resolution": int(maps["resolution"]["max"]) + 1}
    assert client.post("/api/maps/basins", json=wide).status_code == 422
    costly = {**body, "budget": int(maps["budget"]["max"]) + 1}
    assert client.post("/api/maps/tune", json=costly).status_code == 422


def test_settings_serve_the_gradient_free_limits_as_validation_has_them(
    client: TestClient,
) -> None:
    limits = client.get("/api/settings").json()["gradient_free"]
    assert limits == {"max_sampled": config.MAX_SAMPLED, "sample_points": config.SAMPLE_POINTS}
    # the largest population at the most steps it may take (validated, not run: a second
    # of the core's time), and one step more
    run = {"optimizer": "genetic", "params": {"population": 100}}
    most = limits["max_sampled"] // 100
    body = {"landscape": "booth", "steps": most, "runs": [run]}
    TrajectoryRequest.model_validate(body)
    over = client.post("/api/trajectories", json={**body, "steps": most + 1})
    assert over.status_code == 422 and "runs[0].params.population" in over.text


def test_settings_serve_the_one_palette_and_colorscale(client: TestClient) -> None:
    colors = client.get("/api/settings").json()["colors"]
    assert colors == {
        "optimizers": palette.OPTIMIZER_COLORS,
        "palette": list(palette.OKABE_ITO),
        "symbols": palette.OPTIMIZER_SYMBOLS,
        "symbol_cycle": list(palette.SYMBOL_CYCLE),
        "dashes": palette.OPTIMIZER_DASHES,
        "start": palette.START_COLOR,
        "minimum": palette.MINIMUM_COLOR,
        "colorscale": palette.LANDSCAPE_COLORSCALE,
        "arrows": {
            kind: {"color": style.color, "dash": list(style.dash), "width": style.width}
            for kind, style in palette.ARROW_STYLES.items()
        },
    }


def test_runs_carry_distinct_marker_shapes_that_no_minimum_or_start_uses(
    client: TestClient,
) -> None:
    runs = [{"optimizer": name} for name in ("sgd", "adam", "adam", "momentum")]
    reply = client.post(
        "/api/trajectories", json={"landscape": "booth", "steps": 3, "runs": runs}
    ).json()
    symbols = [run["symbol"] for run in reply["runs"]]
    assert symbols[:2] == [palette.OPTIMIZER_SYMBOLS["sgd"], palette.OPTIMIZER_SYMBOLS["adam"]]
    assert len(set(symbols)) == len(symbols)
    assert not {"star", "circle-open", "x"} & set(symbols)


def test_settings_revalidate_with_an_etag(client: TestClient) -> None:
    first = client.get("/api/settings")
    again = client.get("/api/settings", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_a_limit_or_colour_changed_in_its_home_reaches_the_reply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The one-line edits a maintainer would make: the steps Option and the colorscale.
    steps = dataclasses.replace(config.STEPS, max=500)
    monkeypatch.setattr(
        config,
        "SCENE_OPTIONS",
        tuple(steps if o.name == "steps" else o for o in config.SCENE_OPTIONS),
    )
    monkeypatch.setattr(palette, "LANDSCAPE_COLORSCALE", "Cividis")
    with LocalClient(create_app()) as client:
        reply = client.get("/api/settings").json()
    assert reply["scene"]["steps"]["max"] == 500
    assert reply["colors"]["colorscale"] == "Cividis"


def test_an_optimizer_colour_changed_in_the_palette_reaches_the_page_and_the_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The one-line edit: SGD's entry in palette.OPTIMIZER_COLORS.
    monkeypatch.setitem(palette.OPTIMIZER_COLORS, "sgd", "#FF00FF")
    with LocalClient(create_app()) as client:
        assert client.get("/api/settings").json()["colors"]["optimizers"]["sgd"] == "#FF00FF"
    still = tmp_path / "sgd.png"
    argv = ["export", "--optimizers", "sgd", "--lr", "0.002", "--steps", "60", "-q", "-o"]
    assert main([*argv, str(still)]) == 0
    pixels = np.asarray(Image.open(still).convert("RGB")).reshape(-1, 3)
    magenta = (pixels == (255, 0, 255)).all(axis=1).sum()
    assert magenta > 50  # the path and its legend swatch are drawn in the new colour
