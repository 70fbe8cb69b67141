"""POST /api/maps/sweep, /heatmap, /basins: the core's numbers, the schema's shape, 422s."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
import maps
from app.schemas import BasinsReply, HeatmapReply, SweepReply


def _decode(array: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(array["dtype"]).newbyteorder("<")
    return np.frombuffer(base64.b64decode(array["data"]), dtype=dtype).reshape(array["shape"])


def test_a_sweep_replies_with_the_cores_numbers_and_theorys_limits(client: TestClient) -> None:
    body = {
        "landscape": "ill_conditioned",
        "steps": 300,
        "runs": [
            {"optimizer": "sgd", "params": {"lr": 0.5}},  # the lr is swept, not used
            {"optimizer": "momentum", "params": {"momentum": 0.9}},
            {"optimizer": "adam"},
        ],
        "lr": {"min": 1e-3, "max": 10, "count": 32},
    }
    reply = client.post("/api/maps/sweep", json=body)
    assert reply.status_code == 200
    data = SweepReply.model_validate(reply.json())
    f = landscapes.get("ill_conditioned")
    lrs = maps.lr_values(1e-3, 10, 32)
    assert data.lrs == lrs.tolist()
    core = maps.sweep(
        f, [("sgd", {}), ("momentum", {"momentum": 0.9}), ("adam", {})], f.default_start, 300, lrs
    )
    for run, sweep in zip(data.runs, core, strict=True):
        assert run.settled_at == sweep.settled_at.tolist()
        assert run.diverged_at == sweep.diverged_at.tolist()
        expected = [None if not np.isfinite(v) else float(v) for v in sweep.final_loss]
        assert run.final_loss == expected
        assert (run.boundary.stable, run.boundary.diverged) == sweep.boundary
    sgd, momentum, adam = data.runs
    assert (sgd.limit, sgd.limit_formula) == (pytest.approx(1.0), "2/λmax")
    assert momentum.limit == pytest.approx(1.9)
    assert adam.limit is None
    assert data.hessian.constant and data.hessian.eigenvalues == pytest.approx([0.1, 2.0])
    assert None in sgd.gap  # the large rates diverged: null, never NaN
    assert "NaN" not in reply.text and "Infinity" not in reply.text


def test_a_heatmap_defaults_to_lr_by_the_momentum_like_knob(client: TestClient) -> None:
    body = {
        "landscape": "ill_conditioned",
        "steps": 200,
        "runs": [{"optimizer": "adam"}],
        "x": {"name": "lr", "min": 0.01, "max": 1, "count": 6},
        "y": None,
    }
    reply = client.post("/api/maps/heatmap", json=body)
    assert reply.status_code == 200
    data = HeatmapReply.model_validate(reply.json())
    assert data.y.name == "beta1" and not data.y.log and data.x.log
    assert len(data.settled_at) == 32 and len(data.settled_at[0]) == 6
    assert data.x.values == pytest.approx(np.geomspace(0.01, 1, 6).tolist())
    assert data.y.values[0] == 0.0 and data.y.values[-1] == pytest.approx(0.9999)
    axes = client.get("/api/maps/heatmap/axes").json()
    assert axes["momentum"] == "momentum" and axes["adam"] == "beta1"


def test_basins_arrive_as_little_endian_arrays_with_shared_minima(client: TestClient) -> None:
    body = {
        "landscape": "himmelblau",
        "steps": 300,
        "runs": [{"optimizer": "adam", "params": {"lr": 0.1}}, {"optimizer": "sgd"}],
        "resolution": 24,
    }
    reply = client.post("/api/maps/basins", json=body)
    assert reply.status_code == 200
    data = BasinsReply.model_validate(reply.json())
    core = maps.basins("himmelblau", [("adam", {"lr": 0.1}), ("sgd", {})], 24, 300)
    assert core is not None
    assert [(m.x, m.y) for m in data.minima] == [(m.x, m.y) for m in core.minima]
    assert len(data.minima) == 4
    for run, basin in zip(data.runs, core.maps, strict=True):
        label = _decode(run.label.model_dump())
        assert label.dtype == np.int16 and label.shape == (24, 24)
        assert np.array_equal(label, basin.label)
        assert np.array_equal(_decode(run.settled_at.model_dump()), basin.settled_at)
    assert data.xs[0] == -5 and data.xs[-1] == 5


@pytest.mark.parametrize(
    ("path", "extra", "words"),
    [
        ("sweep", {"lr": {"min": 1, "max": 0.1}}, "lr.min must be below lr.max"),
        ("sweep", {"lr": {"count": 8}}, "greater than or equal to 16"),
        ("sweep", {"lr": {"min": 0}}, "greater than or equal to 0.00001"),
        ("heatmap", {"y": {"name": "beta9"}}, "y.name: momentum has no hyperparameter 'beta9'"),
        ("heatmap", {"x": {"name": "lr", "min": 100}}, "x.min: lr must be in [1e-05, 10]"),
        ("heatmap", {"y": {"name": "lr"}}, "y.name must differ from x.name"),
        ("basins", {"resolution": 300}, "less than or equal to 256"),
        (
            "basins",
            {"steps": 2000, "resolution": 256, "runs": [{"optimizer": "sgd"}] * 2},
            "runs ×",
        ),
        ("basins", {"bounds": [[1, 0], [0, 1]]}, "x bounds must satisfy"),
    ],
)
def test_bad_fields_get_a_422_naming_them(
    client: TestClient, path: str, extra: dict, words: str
) -> None:
    body = {"landscape": "ill_conditioned", "runs": [{"optimizer": "momentum"}], **extra}
    reply = client.post(f"/api/maps/{path}", json=body)
    assert reply.status_code == 422
    assert words in reply.text
