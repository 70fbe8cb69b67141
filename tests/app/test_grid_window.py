"""The grid of a zoomed window (GET /api/landscapes/{name}/grid?x_min=…) and colour scales.

The page asks for a finer grid when a zoom leaves too few samples across; the window's
colours must use the landscape's own scale so the colour bar means the same thing.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
from app import scene
from app.main import create_app
from tests.app.clients import LocalClient


@pytest.fixture(scope="module")
def client() -> TestClient:
    return LocalClient(create_app())


def test_window_grid_samples_the_window_with_the_landscapes_colour_scale(
    client: TestClient,
) -> None:
    window = {"x_min": 0.5, "x_max": 1.5, "y_min": 2.5, "y_max": 3.5}
    reply = client.get("/api/landscapes/booth/grid", params={"resolution": 11, **window})
    assert reply.status_code == 200
    g = reply.json()
    assert g["x"][0] == 0.5 and g["x"][-1] == 1.5
    assert g["y"][0] == 2.5 and g["y"][-1] == 3.5
    f = landscapes.get("booth")
    # The middle sample is Booth's minimum (1, 3), f = 0.
    assert g["z"][5][5] == pytest.approx(float(f.value([1.0, 3.0])), abs=1e-12)
    assert g["z"][0][0] == pytest.approx(float(f.value([0.5, 2.5])))
    # Same colour for the same point as in the grid over the bounds (Booth: −10 … 10).
    whole = scene.grid("booth", 21)  # x = −10, −9, …, 10
    assert g["log_color"] == whole.log_color
    j = int(np.argmin(np.abs(whole.x - 1.0)))
    i = int(np.argmin(np.abs(whole.y - 3.0)))
    assert g["color"][5][5] == pytest.approx(float(whole.color[i, j]))


def test_window_needs_all_four_edges_each_min_below_max(client: TestClient) -> None:
    partial = client.get("/api/landscapes/booth/grid", params={"x_min": 0, "x_max": 1})
    assert partial.status_code == 422
    assert "y_min" in partial.json()["detail"] and "y_max" in partial.json()["detail"]
    flipped = client.get(
        "/api/landscapes/booth/grid",
        params={"x_min": 1, "x_max": 1, "y_min": 0, "y_max": 1},
    )
    assert flipped.status_code == 422
    assert "x_min must be below x_max" in flipped.json()["detail"]
    far = client.get(
        "/api/landscapes/booth/grid",
        params={"x_min": -2e6, "x_max": 1, "y_min": 0, "y_max": 1},
    )
    assert far.status_code == 422
    assert "x_min" in str(far.json()["detail"])


def test_booth_is_log_coloured_so_its_basin_is_not_one_colour() -> None:
    # Booth spans 0 … 2600 over its bounds; its lowest tenth lies below 1/26 of that, so
    # on ~26 linear levels the basin (and the noise preset's noise floor) is one colour.
    assert scene.grid("booth", 64).log_color
    # Narrow ranges stay linear: the ill-conditioned bowl, Rastrigin, the saddle.
    for name in ("ill_conditioned", "rastrigin", "saddle", "six_hump_camel"):
        assert not scene.grid(name, 64).log_color, name


@pytest.mark.parametrize("text", ["NaN", "inf", "-Infinity"])
def test_a_window_edge_must_be_a_finite_number(client: TestClient, text: str) -> None:
    reply = client.get(
        "/api/landscapes/booth/grid",
        params={"x_min": text, "x_max": 1, "y_min": 0, "y_max": 1},
    )
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["query", "x_min"] and "finite" in error["msg"]
