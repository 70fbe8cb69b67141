"""Mini-batches in the API, the live channel, the CLI and the exports' labels: a run's
`batch` (1 … N of a landscape over data), its 422s, and full batch = batch N bit for bit."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import landscapes
import optimizers
from app import cli
from app.export.data import run_labels
from app.routes import ws as ws_route

N = landscapes.get("faithful_linear").samples


def body(*runs: dict[str, Any], **scene: Any) -> dict[str, Any]:
    return {"landscape": "faithful_linear", "steps": 60, "runs": list(runs), **scene}


def sgd(batch: int | None = None, lr: float = 0.1) -> dict[str, Any]:
    run: dict[str, Any] = {"optimizer": "sgd", "params": {"lr": lr}}
    if batch is not None:
        run["batch"] = batch
    return run


def messages_of(reply: Any) -> list[str]:
    assert reply.status_code == 422, reply.text
    return [issue["msg"] for issue in reply.json()["detail"]]


def test_landscapes_say_which_have_data_and_how_many_samples(client: TestClient) -> None:
    listed = {info["name"]: info["samples"] for info in client.get("/api/landscapes").json()}
    assert N == 272
    assert listed["faithful_linear"] == listed["faithful_logistic"] == 272
    assert listed["rosenbrock"] == 0 and listed["saddle"] == 0


@pytest.mark.parametrize("batch", [0, 273, -1])
def test_a_batch_out_of_range_names_the_field_and_the_range(client: TestClient, batch: int) -> None:
    reply = client.post("/api/trajectories", json=body(sgd(), sgd(batch)))
    (message,) = messages_of(reply)
    assert message == f"runs[1].batch: batch must be in [1, 272] for faithful_linear, got {batch}"


def test_a_batch_needs_a_landscape_over_data(client: TestClient) -> None:
    reply = client.post("/api/trajectories", json={**body(sgd(8)), "landscape": "rosenbrock"})
    (message,) = messages_of(reply)
    assert "runs[0].batch" in message and "rosenbrock has no samples" in message
    assert "faithful_linear" in message  # where a batch would be accepted


def test_a_batch_and_noise_exclude_each_other(client: TestClient) -> None:
    (message,) = messages_of(client.post("/api/trajectories", json=body(sgd(8), noise=0.5)))
    assert message.startswith("noise must be 0 when a run has a batch")
    # noise on a data landscape without a batch is a full gradient plus Gaussian noise: fine
    assert client.post("/api/trajectories", json=body(sgd(), noise=0.5)).status_code == 200


def test_a_batch_is_a_whole_number(client: TestClient) -> None:
    reply = client.post("/api/trajectories", json=body({**sgd(), "batch": "8"}))
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "runs", 0, "batch"]


def test_the_maps_refuse_a_batch(client: TestClient) -> None:
    reply = client.post("/api/maps/sweep", json=body(sgd(8)))
    (message,) = messages_of(reply)
    assert "the maps compute full-batch gradients" in message


def test_batch_n_is_the_full_batch_bit_for_bit(client: TestClient) -> None:
    full = client.post("/api/trajectories", json=body(sgd())).json()["runs"][0]
    every = client.post("/api/trajectories", json=body(sgd(N))).json()["runs"][0]
    assert every["points"] == full["points"] and every["losses"] == full["losses"]
    assert every["status"] == full["status"]
    assert full["status"]["code"] == "settled_global"
    assert full["batch"] is None and every["batch"] == N


def test_each_run_has_its_own_batch_and_the_scene_one_seed(client: TestClient) -> None:
    race = client.post(
        "/api/trajectories",
        json=body(sgd(), sgd(8), {"optimizer": "adam", "params": {"lr": 0.1}, "batch": 8}, seed=3),
    ).json()["runs"]
    alone = client.post("/api/trajectories", json=body(sgd(8), seed=3)).json()["runs"][0]
    full = client.post("/api/trajectories", json=body(sgd(), seed=3)).json()["runs"][0]
    # common random numbers: SGD on batches of 8 raced beside others is SGD on them alone
    assert race[1]["points"] == alone["points"]
    assert race[0]["points"] == full["points"]
    assert [r["batch"] for r in race] == [None, 8, 8]
    # the core's own run, batch for batch
    core = optimizers.run(
        landscapes.get("faithful_linear"),
        optimizers.create("sgd", lr=0.1),
        np.array(landscapes.get("faithful_linear").default_start),
        60,
        seed=3,
        batch=8,
    )
    assert np.array_equal(np.array(race[1]["points"]), core.points[:, 0])
    # a mini-batch run is noisy: it hovers, where the full batch settles
    assert [r["status"]["code"] for r in race[:2]] == ["settled_global", "hovering"]
    assert race[1]["status"]["floor"] > 0
    # one optimizer twice: the repeat wears a style of its own
    assert (race[0]["color"], race[0]["symbol"]) != (race[1]["color"], race[1]["symbol"])
    # another seed, other batches
    other = client.post("/api/trajectories", json=body(sgd(8), seed=4)).json()["runs"][0]
    assert other["points"] != alone["points"]


def test_the_live_channel_streams_each_runs_batch(client: TestClient) -> None:
    ws_route.replays.clear()
    scene = body(sgd(), sgd(8), seed=2)
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_json({"type": "run", "id": "b1", **scene})
        messages = []
        while not messages or messages[-1]["type"] not in ("done", "error"):
            messages.append(socket.receive_json())
    meta, *chunks, done = messages
    assert done["type"] == "done", done
    assert [r["batch"] for r in meta["runs"]] == [None, 8]
    reply = client.post("/api/trajectories", json=scene).json()["runs"]
    for i, expected in enumerate(reply):
        points = [p for c in chunks if c["run"] == i for p in c["points"]]
        assert points == expected["points"]
        assert done["runs"][i]["status"]["code"] == expected["status"]["code"]
    assert [r["status"]["code"] for r in done["runs"]] == ["settled_global", "hovering"]


def test_cli_batch_flags_and_the_preset(tmp_path: Any) -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    cli.add_export_parser(commands)

    def request(*argv: str) -> dict[str, Any]:
        args = parser.parse_args(["export", *argv, "-o", str(tmp_path / "x.csv")])
        return cli.build_request(args)

    scene = ("--landscape", "faithful_linear")
    runs = request(*scene, "--optimizers", "sgd,sgd", "--batch", "sgd#2=8")["runs"]
    assert [r.get("batch") for r in runs] == [None, 8]
    runs = request(*scene, "--optimizers", "sgd,adam", "--batch", "16")["runs"]
    assert [r.get("batch") for r in runs] == [16, 16]
    # the preset races SGD on the full batch and on batches of 8
    preset = request("--preset", "minibatch")["runs"]
    assert [(r["optimizer"], r.get("batch")) for r in preset] == [("sgd", None), ("sgd", 8)]
    whole = request("--preset", "minibatch", "--batch", "full")["runs"]
    assert [r.get("batch") for r in whole] == [None, None]
    with pytest.raises(ValueError, match="--batch x"):
        request("--landscape", "faithful_linear", "--batch", "x")


def test_export_labels_name_the_batch() -> None:
    labels = run_labels(["sgd", "sgd"], [{"lr": 0.1}, {"lr": 0.1}], [272, 8])
    assert labels == ["SGD, η = 0.1, B = 272", "SGD, η = 0.1, B = 8"]
    repeats = run_labels(["sgd", "sgd", "adam"], [{"lr": 0.1}, {"lr": 0.2}, {}], [8, 8, 8])
    assert repeats == ["SGD #1, η = 0.1, B = 8", "SGD #2, η = 0.2, B = 8", "Adam, B = 8"]
    assert run_labels(["sgd"], [{"lr": 0.1}]) == ["SGD, η = 0.1"]
