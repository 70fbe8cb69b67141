"""Gradient-free runs in the exports (issue 14, CONTRACT-15 "Drawing"): the genetic
algorithm's population and simulated annealing's proposal drawn at each frame's step in
GIF/MP4/PNG, carried by the handout's frames, written to JSON and CSV; the legend counts
evaluations. Small frames and few steps: these play what they export."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import landscapes
from app.cli import main
from app.export.data import ExportRun, ExportScene, build_scene, evaluation_text, ui_words
from app.export.html import build_figure
from app.export.pipeline import run_export
from app.export.render import (
    POPULATION_OPACITY,
    REJECTED,
    FrameRenderer,
    hex_rgb,
)
from app.export.video import write_gif
from app.schemas import ExportRequest
from app.words import say

STEPS = 12
POPULATION = 30
# The race: a population finds Rastrigin's global dip where Adam settles nearby.
RUNS = [
    {"optimizer": "adam", "params": {"lr": 0.3}},
    {"optimizer": "genetic", "params": {"lr": 0.3, "population": POPULATION, "spread": 2.0}},
    {"optimizer": "annealing", "params": {"lr": 0.5}},
]


def request(**fields: Any) -> ExportRequest:
    body = {
        "landscape": "rastrigin",
        "steps": STEPS,
        "runs": RUNS,
        "width": 320,
        "height": 240,
        "frames": STEPS + 1,
        "fps": 10,
    }
    return ExportRequest.model_validate({**body, **fields})


@pytest.fixture(scope="module")
def scene() -> ExportScene:
    return build_scene(request(format="gif"))


def without_samples(scene: ExportScene, index: int) -> ExportScene:
    """The scene with run `index` drawn as if it had no samples."""
    runs = [
        ExportRun(**{**vars(run), "samples": None}) if i == index else run
        for i, run in enumerate(scene.runs)
    ]
    return ExportScene(**{**vars(scene), "runs": runs})


def test_the_scene_carries_each_gradient_free_runs_samples_and_evaluations(
    scene: ExportScene,
) -> None:
    adam, genetic, annealing = scene.runs
    assert adam.samples is None and adam.evaluations == STEPS
    assert genetic.samples is not None and len(genetic.samples) == STEPS + 1
    assert all(s is not None and s.shape == (POPULATION, 2) for s in genetic.samples)
    assert genetic.evaluations == POPULATION + STEPS * (POPULATION - 1)
    assert annealing.samples is not None and annealing.proposes and not genetic.proposes
    assert annealing.evaluations == 1 + STEPS
    # The legend counts what each asked for, the gradient method's ∇f too.
    assert adam.legend_label == "Adam, η = 0.3, ∇f × 12"
    assert genetic.legend_label.endswith(f"f × {POPULATION + STEPS * (POPULATION - 1):,}")
    # their lr slot holds a step σ, not a learning rate, and the legend says so
    assert ", σ = " in genetic.legend_label and "η" not in genetic.legend_label
    assert evaluation_text("genetic", 9520) == "f × 9,520"


def test_a_race_of_gradient_methods_keeps_its_labels() -> None:
    plain = build_scene(request(runs=RUNS[:1], format="png"))
    assert plain.runs[0].count == "" and plain.runs[0].legend_label == "Adam, η = 0.3"


@pytest.mark.parametrize("mode", ["RGB", "P"])
def test_the_population_is_drawn_in_its_colour_under_the_paths(
    scene: ExportScene, mode: str
) -> None:
    step = STEPS // 2
    renderer = FrameRenderer(scene, 320, 240, mode=mode)
    drawn = np.asarray(renderer.frame(step).convert("RGB")).astype(int)
    bare = np.asarray(
        FrameRenderer(without_samples(scene, 1), 320, 240, mode=mode).frame(step).convert("RGB")
    ).astype(int)
    genetic = scene.runs[1]
    centres = renderer.samples_drawn[1]
    assert len(centres) > POPULATION // 2  # most of the population is in view
    panel = renderer._panels[0]
    color = np.array(hex_rgb(genetic.color))
    hits = 0
    for x, y in centres:
        col, row = round(panel.x0 + x), round(panel.y0 + y)
        # A dot's centre: the run's colour at 60 % over the contour that was there (where
        # no path, marker or other dot's rim shares the pixel).
        blend = bare[row, col] * (1 - POPULATION_OPACITY) + color * POPULATION_OPACITY
        hits += int(np.abs(drawn[row, col] - blend).max() <= 3)
    assert hits > len(centres) // 2
    changed = (drawn != bare).any(axis=2)
    assert not changed[: panel.y0].any() and not changed[:, : panel.x0].any()  # in the plot
    if mode == "P":
        # Nothing but the contour is covered: paths, step dots, markers and heads stay whole.
        h, w = panel.h, panel.w
        contour = np.asarray(renderer._tile.convert("RGB")).astype(int)[:h, :w]
        before = bare[panel.y0 : panel.y0 + h, panel.x0 : panel.x0 + w]
        inside = changed[panel.y0 : panel.y0 + h, panel.x0 : panel.x0 + w]
        assert inside.sum() > POPULATION
        assert (before[inside] == contour[inside]).all()


def test_annealings_proposal_is_grey_and_crossed_when_turned_down(scene: ExportScene) -> None:
    annealing = scene.runs[2]
    turned_down = [i for i in range(1, STEPS + 1) if annealing.rejected(i)]
    taken = [i for i in range(1, STEPS + 1) if not annealing.rejected(i)]
    assert turned_down and taken
    renderer = FrameRenderer(scene, 320, 240, mode="P")
    grey = np.array(hex_rgb(REJECTED))
    own = np.array(hex_rgb(annealing.color))
    for step, ink in ((turned_down[0], grey), (taken[0], own)):
        image = np.asarray(renderer.frame(step).convert("RGB")).astype(int)
        x, y = renderer.samples_drawn[2][0]
        panel = renderer._panels[0]
        proposal = np.array(annealing.samples[step][0])  # type: ignore[index]
        assert np.array_equal(annealing.points[step], proposal) == (ink is own)
        r = 2 * renderer.head_radius
        box = image[
            round(panel.y0 + y - r) : round(panel.y0 + y + r),
            round(panel.x0 + x - r) : round(panel.x0 + x + r),
        ].reshape(-1, 3)
        assert (box == ink).all(axis=1).sum() >= 4, step


def test_a_gif_plays_the_population_moving(scene: ExportScene, tmp_path: Path) -> None:
    path = tmp_path / "race.gif"
    write_gif(scene, path, width=240, height=180, fps=10, frames=STEPS + 1)
    renderer = FrameRenderer(scene, 240, 180, mode="P")
    # A GIF cannot blend: its palette holds the run's colour at 60 % over each contour band.
    green = np.array(hex_rgb(scene.runs[1].color))
    alpha = POPULATION_OPACITY
    blends = {
        tuple(c) for c in np.rint(renderer._band_rgb * (1 - alpha) + green * alpha).astype(int)
    }
    shown = []
    with Image.open(path) as gif:
        for k in (2, STEPS):
            gif.seek(k)
            frame = np.asarray(gif.convert("RGB")).astype(int)
            renderer.frame(k)
            panel = renderer._panels[0]
            centres = renderer.samples_drawn[1] + (panel.x0, panel.y0)
            x, y = np.rint(centres).astype(int).T
            assert sum(tuple(c) in blends for c in frame[y, x].tolist()) > len(centres) // 2
            shown.append(centres)
    # The population moved between the two frames.
    assert not np.array_equal(shown[0], shown[1])


def test_the_handout_frames_carry_each_runs_samples(scene: ExportScene) -> None:
    figure = build_figure(scene, frames=STEPS + 1)
    traces = [i for i, t in enumerate(figure["data"]) if (t.get("meta") or {}).get("samples")]
    assert [figure["data"][i]["meta"]["samples"] for i in traces] == ["genetic", "annealing"]
    frames = figure["frames"]
    assert len(frames) == STEPS + 1

    def decoded(values: dict) -> np.ndarray:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype="<f4")

    genetic, annealing = scene.runs[1], scene.runs[2]
    middle = frames[STEPS // 2]
    slot = {t: middle["traces"].index(t) for t in traces}
    population = middle["data"][slot[traces[0]]]
    expected = genetic.samples[STEPS // 2]  # type: ignore[index]
    np.testing.assert_allclose(decoded(population["x"]), expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(decoded(population["y"]), expected[:, 1], rtol=1e-6)
    # Annealing: its head, then its proposal; grey where it was turned down.
    for k, frame in enumerate(frames):
        data = frame["data"][frame["traces"].index(traces[1])]
        xs = decoded(data["x"])
        assert xs[0] == np.float32(annealing.points[k][0])
        assert xs[1] == np.float32(annealing.samples[k][0][0])  # type: ignore[index]
        assert (data["marker"]["color"] == REJECTED) == annealing.rejected(k)
    # Under the paths: the samples traces come before every run's path.
    first_path = min(i for i, t in enumerate(figure["data"]) if t.get("mode") == "lines")
    assert max(traces) < first_path


def test_json_and_csv_hold_the_samples(tmp_path: Path) -> None:
    document = json.loads(run_export(request(format="json"), tmp_path / "r.json").read_text())
    adam, genetic, annealing = document["runs"]
    assert adam["samples"] is None and adam["evaluations"] == STEPS
    assert len(genetic["samples"]) == len(genetic["points"]) == STEPS + 1
    assert all(len(entry) == POPULATION for entry in genetic["samples"])
    assert genetic["evaluations"] == POPULATION + STEPS * (POPULATION - 1)
    assert [len(entry) for entry in annealing["samples"]] == [1] * (STEPS + 1)

    path = run_export(request(format="csv"), tmp_path / "r.csv")
    with open(path, newline="") as fp:
        rows = list(csv.DictReader(fp))
    assert list(rows[0]) == ["step", "optimizer", "x", "y", "loss"]
    by_name: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_name.setdefault(row["optimizer"], []).append(row)
    # The paths as before: steps + 1 rows each; the samples under their own names.
    assert {name: len(r) for name, r in by_name.items()} == {
        "adam": STEPS + 1,
        "genetic": STEPS + 1,
        "genetic:sample": (STEPS + 1) * POPULATION,
        "annealing": STEPS + 1,
        "annealing:sample": STEPS + 1,
    }
    samples = by_name["genetic:sample"]
    assert [int(r["step"]) for r in samples] == sorted(int(r["step"]) for r in samples)
    xy = np.array([[float(r["x"]), float(r["y"])] for r in samples])
    np.testing.assert_array_equal(xy[-POPULATION:], genetic["samples"][-1])
    f = landscapes.get("rastrigin")
    np.testing.assert_array_equal([float(r["loss"]) for r in samples], f.value(xy))


def test_cli_draws_the_population_with_the_options_of_any_optimizer(tmp_path: Path) -> None:
    out = tmp_path / "race.json"
    argv = ["export", "--landscape", "rastrigin", "--optimizers", "genetic,adam"]
    argv += ["--param", "genetic.population=30", "--lr", "genetic=0.3", "--steps", "8"]
    assert main([*argv, "-q", "-o", str(out)]) == 0
    genetic = json.loads(out.read_text())["runs"][0]
    assert genetic["params"]["lr"] == 0.3 and genetic["params"]["population"] == 30
    assert [len(entry) for entry in genetic["samples"]] == [30] * 9
    picture = tmp_path / "race.png"
    options = ["--width", "240", "--height", "180", "--frame", "4", "-q", "-o", str(picture)]
    assert main([*argv, *options]) == 0
    with Image.open(picture) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    # The population's blend of green over the contour is somewhere in the picture.
    scene = build_scene(
        ExportRequest.model_validate(
            {
                "landscape": "rastrigin",
                "steps": 8,
                "runs": [
                    {"optimizer": "genetic", "params": {"lr": 0.3, "population": 30}},
                    {"optimizer": "adam"},
                ],
                "format": "png",
            }
        )
    )
    renderer = FrameRenderer(scene, 240, 180)
    expected = np.asarray(renderer.frame(4).convert("RGB")).reshape(-1, 3).astype(int)
    np.testing.assert_array_equal(pixels, expected)
    assert len(renderer.samples_drawn[0]) >= 10


def test_arrows_leave_the_gradient_free_runs_to_their_samples() -> None:
    # --arrows records every run, but annealing and the genetic algorithm never read the
    # gradient their record holds: only Adam gets arrows (and a legend column).
    scene = build_scene(request(format="png", arrows=True))
    assert all(run.record is not None for run in scene.runs)
    renderer = FrameRenderer(scene, 320, 240, arrows=True)
    renderer.frame(STEPS // 2)
    assert list(renderer.arrows_drawn) == [0] and renderer.arrow_boxes
    assert set(renderer.samples_drawn) == {1, 2}


def test_japanese_exports_name_the_gradient_free_methods_as_the_page() -> None:
    scene = build_scene(request(format="png", lang="ja"))
    titles = [run.name for run in scene.runs]
    words = ui_words("ja")
    assert titles == [
        "Adam",
        words.get("optimizers.title.genetic", "Genetic algorithm"),
        words.get("optimizers.title.annealing", "Simulated annealing"),
    ]
    assert scene.runs[1].count == say(
        words.get("status.evaluations.value", "f × {n}"),
        n=f"{POPULATION + STEPS * (POPULATION - 1):,}",
    )
