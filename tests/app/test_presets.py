"""Every lecture preset shows the lesson its paragraph describes (run through the real core)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import presets, scene
from app.main import create_app
from app.schemas import TrajectoryRequest


def outcomes(preset_id: str, **changes: object) -> dict[str, scene.RunOutcome]:
    body = presets.get(preset_id).request()
    body.update(changes)
    runs = scene.compute(TrajectoryRequest.model_validate(body))
    return {run.optimizer: run for run in runs}


def with_lr(preset_id: str, optimizer: str, lr: float) -> dict[str, scene.RunOutcome]:
    body = presets.get(preset_id).request()
    for run in body["runs"]:
        if run["optimizer"] == optimizer:
            run["params"]["lr"] = lr
    runs = scene.compute(TrajectoryRequest.model_validate(body))
    return {run.optimizer: run for run in runs}


def escape_step(run: scene.RunOutcome) -> int | None:
    away = np.abs(run.points[:, 1]) > 1.0
    return int(np.argmax(away)) if away.any() else None


def test_every_preset_has_both_languages_and_a_valid_request() -> None:
    assert len(presets.PRESETS) >= 7
    for preset in presets.PRESETS:
        assert set(preset.title) == {"en", "ja"} and set(preset.text) == {"en", "ja"}
        assert all(len(text) > 150 for text in preset.text.values())
        TrajectoryRequest.model_validate(preset.request())


def test_presets_endpoint_serves_scenes() -> None:
    reply = TestClient(create_app()).get("/api/presets")
    assert reply.status_code == 200
    ids = [p["id"] for p in reply.json()["presets"]]
    assert ids == [p.id for p in presets.PRESETS]
    first = reply.json()["presets"][0]
    assert {"landscape", "start", "steps", "optimizers", "params"} <= set(first["scene"])


def test_preset_words_come_from_the_pages_i18n_tables() -> None:
    # The page's text and the presets' paragraphs share one home per language.
    import json

    from app.config import I18N_DIR

    tables = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in I18N_DIR.glob("*.json")
        if p.stem != "glossary"
    }
    reply = TestClient(create_app()).get("/api/presets").json()["presets"]
    for served in reply:
        for lang, table in tables.items():
            assert served["title"][lang] == table[f"preset.{served['id']}.title"]
            assert served["text"][lang] == table[f"preset.{served['id']}.text"]
    with open(presets.__file__, encoding="utf-8") as file:  # scenes only, no prose
        source = file.read()
    assert "鞍点" not in source and "saddle point" not in source.lower()


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="saddle"):
        presets.get("nope")


def test_saddle_sgd_stalls_while_adaptive_methods_escape() -> None:
    runs = outcomes("saddle")
    assert escape_step(runs["sgd"]) is None
    assert abs(runs["sgd"].points[-1, 0]) < 0.1  # slid into the saddle and sat there
    assert escape_step(runs["adam"]) <= 30
    assert escape_step(runs["rmsprop"]) <= 30
    assert 30 < escape_step(runs["momentum"]) < 200


def test_rosenbrock_sgd_creeps_momentum_and_adam_arrive() -> None:
    runs = outcomes("rosenbrock")
    distance = {k: float(np.hypot(*(r.points[-1] - (1.0, 1.0)))) for k, r in runs.items()}
    assert distance["sgd"] > 1.0
    assert distance["momentum"] < 0.1 and distance["adam"] < 0.1


def test_rastrigin_paths_end_in_local_minima() -> None:
    runs = outcomes("rastrigin")
    for name, run in runs.items():
        assert run.final_loss > 1.0, name  # nobody reaches the global minimum (f = 0)
    assert np.allclose(runs["sgd"].points[-1], (3.98, -2.98), atol=0.05)
    assert np.allclose(runs["momentum"].points[-1], (-0.995, 0.995), atol=0.05)


def test_ill_conditioned_momentum_beats_sgd_at_the_same_learning_rate() -> None:
    runs = outcomes("ill_conditioned")
    assert runs["sgd"].params["lr"] == runs["momentum"].params["lr"]
    assert runs["sgd"].points[-1, 0] < -3.0
    assert runs["momentum"].final_loss < runs["sgd"].final_loss / 50
    assert runs["adagrad"].final_loss < 1e-3


def test_too_large_learning_rate_diverges_but_adam_stays_bounded() -> None:
    runs = outcomes("divergence")
    assert runs["sgd"].diverged_at is not None
    assert runs["momentum"].diverged_at is not None
    assert runs["adam"].diverged_at is None and runs["adam"].final_loss < 1e-2


def test_warmup_starts_small_and_cosine_settles() -> None:
    runs = outcomes("warmup")
    plain = outcomes("warmup", schedule=None)
    for name, run in runs.items():
        steps = np.hypot(*np.diff(run.points, axis=0).T)
        plain_steps = np.hypot(*np.diff(plain[name].points, axis=0).T)
        assert steps[0] < plain_steps[0] / 5, name
        assert steps[-5:].max() < 0.05, name
        assert run.final_loss < 1e-3, name


def test_noise_leaves_a_floor_that_scales_with_the_learning_rate() -> None:
    runs = outcomes("noise")
    floor = {k: float(r.losses[-100:].mean()) for k, r in runs.items()}
    assert all(v > 0.01 for v in floor.values())
    halved = with_lr("noise", "sgd", presets.get("noise").params["sgd"]["lr"] / 2)
    assert float(halved["sgd"].losses[-100:].mean()) < 0.7 * floor["sgd"]
