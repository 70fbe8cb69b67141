"""The "Mini-batches on real data" preset shows every number its paragraph states, run
through the real scene (app.scene, as the page and the exports run it)."""

from __future__ import annotations

import math
import re

import numpy as np

import landscapes
import optimizers
from app import presets, scene
from app.schemas import TrajectoryRequest

PRESET = presets.get("minibatch")


def race() -> list[scene.RunOutcome]:
    return scene.compute(TrajectoryRequest.model_validate(PRESET.request()))


def test_the_scene_is_sgd_on_the_full_batch_beside_batches_of_eight() -> None:
    assert PRESET.landscape == "faithful_linear" and PRESET.steps == 100
    assert PRESET.params == {"sgd": {"lr": 0.1}}  # "SGD, lr 0.1"
    body = PRESET.request()
    assert [(r["optimizer"], r.get("batch")) for r in body["runs"]] == [("sgd", None), ("sgd", 8)]
    assert PRESET.scene()["batch"] == 8 and PRESET.scene()["batchFull"] is True
    # "272 eruptions", "34 steps make an epoch"
    assert landscapes.get("faithful_linear").samples == 272 == 34 * 8


def test_every_sentence() -> None:
    full, mini = race()
    f = landscapes.get("faithful_linear")
    (minimum,) = f.minima
    # "heads straight for the minimum": the full-batch path is a straight line (Hessian 2·I)
    start, end = full.points[0], np.array([minimum.x, minimum.y])
    direction = (end - start) / np.hypot(*(end - start))
    rel = full.points - start
    off_line = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
    assert off_line.max() < 1e-9
    # "settles there by step 18"
    assert full.status.code == "settled_global" and full.status.step == 18
    # "never settles — it hovers around the minimum, its loss about 0.003 above the lowest"
    assert mini.status.code == "hovering"
    assert mini.status.floor is not None and 0.0025 <= mini.status.floor < 0.0035
    # "strays up to 0.16 from the full-batch path" (step by step)
    stray = np.hypot(*(mini.points - full.points).T).max()
    assert 0.155 <= stray < 0.165
    # "at 272 the two paths are one"
    body = PRESET.request()
    body["runs"][1]["batch"] = 272
    _, every = scene.compute(TrajectoryRequest.model_validate(body))
    assert np.array_equal(every.points, full.points)


def test_the_expected_direction_is_the_full_batch_one() -> None:
    # "over 100 seeds, the mean batch-8 path stays within 0.02 of the full-batch one"
    f = landscapes.get("faithful_linear")
    start = np.array(PRESET.start)
    gd = optimizers.run(f, optimizers.create("sgd", lr=0.1), start, PRESET.steps).points[:, 0]
    paths = np.stack(
        [
            optimizers.run(
                f, optimizers.create("sgd", lr=0.1), start, PRESET.steps, seed=seed, batch=8
            ).points[:, 0]
            for seed in range(100)
        ]
    )
    assert np.hypot(*(paths.mean(axis=0) - gd).T).max() < 0.02
    # while single paths stray far more: the average is what agrees
    assert np.median(np.hypot(*(paths - gd).transpose(2, 0, 1)).max(axis=1)) > 0.1


def test_the_paragraph_states_these_numbers() -> None:
    for lang, text in PRESET.text.items():
        numbers = set(re.findall(r"\d+(?:\.\d+)?", text))
        for stated in ("272", "0.1", "18", "8", "34", "0.16", "0.003", "100", "0.02"):
            assert stated in numbers, (lang, stated)
        assert "DataLoader(shuffle=True)" in text
    assert math.ceil(272 / 8) == 34
