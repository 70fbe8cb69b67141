"""The run status in every reply: POST /api/trajectories, the WebSocket's done, the CLI.

Each carries the same {code, step, floor, text: {en, ja}}, with the words of static/i18n
(`status.<code>`), and converged_at/converged_to agree with it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import presets
from app.cli import main
from app.config import I18N_DIR
from app.main import create_app
from optimizers.status import CODES
from tests.app.clients import LocalClient

WORDS = {lang: json.loads((I18N_DIR / f"{lang}.json").read_text("utf-8")) for lang in ("en", "ja")}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return LocalClient(create_app())


def post(client: TestClient, preset: str) -> list[dict[str, Any]]:
    reply = client.post("/api/trajectories", json=presets.get(preset).request())
    assert reply.status_code == 200, reply.text
    assert "NaN" not in reply.text and "Infinity" not in reply.text
    return reply.json()["runs"]


def streamed(client: TestClient, preset: str) -> list[dict[str, Any]]:
    with client.websocket_connect("/ws/trajectories") as socket:
        socket.send_text(json.dumps({"type": "run", "id": 7, **presets.get(preset).request()}))
        while True:
            message = socket.receive_json()
            assert message["type"] != "error", message
            if message["type"] == "done":
                assert message["id"] == 7
                return message["runs"]


def test_every_code_has_words_in_both_languages() -> None:
    for code in CODES:
        for lang in ("en", "ja"):
            template = WORDS[lang][f"status.{code}"]
            placeholders = set(re.findall(r"\{(\w+)\}", template))
            assert placeholders <= {"floor"}, (lang, code)
    assert (
        "{floor}" in WORDS["en"]["status.hovering"] and "{floor}" in WORDS["ja"]["status.hovering"]
    )


@pytest.mark.parametrize("preset", ["saddle", "rastrigin", "noise", "divergence"])
def test_post_and_websocket_agree_and_converged_at_follows_the_status(
    client: TestClient, preset: str
) -> None:
    runs = post(client, preset)
    done = streamed(client, preset)
    assert [r["optimizer"] for r in done] == [r["optimizer"] for r in runs]
    for run, summary in zip(runs, done, strict=True):
        status = run["status"]
        assert summary["status"] == status
        assert status["code"] in CODES
        assert set(status["text"]) == {"en", "ja"}
        floor = "" if status["floor"] is None else status["text"]["en"].rsplit(" ", 1)[-1]
        for lang in ("en", "ja"):
            expected = WORDS[lang][f"status.{status['code']}"].replace("{floor}", floor)
            assert status["text"][lang] == expected
        settled = status["code"] in ("settled_global", "settled_local")
        assert run["converged_at"] == (status["step"] if settled else None)
        assert summary["converged_at"] == run["converged_at"]
        assert run["converged_to"] == (status["code"].removeprefix("settled_") if settled else None)
        if status["code"] == "diverged":
            assert status["step"] == run["diverged_at"] == len(run["points"])
        if status["code"] == "hovering":
            assert status["floor"] > 0 and math.isfinite(status["floor"])
        else:
            assert status["floor"] is None


def test_the_issue_scenes_now_tell_the_truth(client: TestClient) -> None:
    # Issue 10: "SGD converged at step 59" in the noise preset; Momentum "not converged" on
    # Rosenbrock's star; every saddle row "not converged", Momentum at f = −2.2e11.
    assert {r["status"]["code"] for r in post(client, "noise")} == {"hovering"}
    rosenbrock = {r["optimizer"]: r["status"]["code"] for r in post(client, "rosenbrock")}
    assert rosenbrock == {"sgd": "moving", "momentum": "settled_global", "adam": "settled_global"}
    saddle = {r["optimizer"]: r for r in post(client, "saddle")}
    assert saddle["sgd"]["status"]["code"] == "stalled_saddle"
    assert saddle["momentum"]["status"]["code"] == "moving"
    assert saddle["momentum"]["final_loss"] < -1e10


def test_cli_export_prints_each_runs_status_in_its_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.csv"
    assert (
        main(
            ["export", "--preset", "divergence", "--lang", "ja", "--format", "csv", "-o", str(out)]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("SGD") and lines[0].endswith("発散（ステップ 39）")
    assert lines[1].startswith("Momentum") and "発散（ステップ " in lines[1]
    assert lines[2].startswith("Adam") and WORDS["ja"]["status.settled_global"] in lines[2]
    main(["export", "--preset", "divergence", "--format", "csv", "-o", str(out), "--quiet"])
    assert capsys.readouterr().out == ""
