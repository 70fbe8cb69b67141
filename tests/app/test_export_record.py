"""Exports of recorded runs (issue 12): arrows in GIF/MP4/PNG, torch's state in CSV/JSON.

The arrows are checked where they are drawn (pixels change at the arrows and their legend,
nowhere else), against the recorded numbers (direction exact, length on the documented
scale) and in the files as a player decodes them. The CSV's and JSON's recorded columns
are checked equal to what POST /api/trajectories replies for the same scene.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.export import arrows as arrow_rules
from app.export.data import ExportScene, build_scene, frame_steps
from app.export.pipeline import run_export
from app.export.render import FrameRenderer
from app.schemas import ExportRequest

W, H, STEPS = 480, 270, 40
# Adam keeps exp_avg, Momentum momentum_buffer, SGD no buffer: every kind of run.
RUNS: list[dict[str, Any]] = [
    {"optimizer": "adam", "params": {"lr": 0.3}},
    {"optimizer": "momentum", "params": {"lr": 0.05}},
    {"optimizer": "sgd", "params": {"lr": 0.1}},
]
SCENE: dict[str, Any] = {"landscape": "ill_conditioned", "steps": STEPS, "runs": RUNS}


def export_request(**fields: Any) -> ExportRequest:
    body = {**SCENE, "format": "png", "width": W, "height": H, "frames": 8, "fps": 10}
    return ExportRequest.model_validate({**body, **fields})


def recorded(runs: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [{**run, "record": True} for run in runs or RUNS]


@pytest.fixture(scope="module")
def scene() -> ExportScene:
    return build_scene(export_request(arrows=True))


def arrow_pixels(renderer: FrameRenderer, margin: float) -> np.ndarray:
    """A mask of the image: True within `margin` pixels of a drawn arrow's shaft, or inside
    an arrow legend box."""
    mask = np.zeros((renderer.height, renderer.width), dtype=bool)
    yy, xx = np.mgrid[0 : renderer.height, 0 : renderer.width]
    for i, drawn in renderer.arrows_drawn.items():
        panel = renderer._panel_of(i)
        for arrow in drawn:
            ax, ay = arrow.tail[0] + panel.x0, arrow.tail[1] + panel.y0
            bx, by = arrow.tip[0] + panel.x0, arrow.tip[1] + panel.y0
            dx, dy = bx - ax, by - ay
            t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
            mask |= np.hypot(xx - (ax + t * dx), yy - (ay + t * dy)) <= margin
    for left, top, right, bottom in renderer.arrow_boxes:
        mask[top : bottom + 1, left : right + 1] = True
    return mask


# --- the request -------------------------------------------------------------------------


def test_arrows_record_every_run_unless_the_request_marks_some() -> None:
    everyone = export_request(arrows=True).trajectory_request()
    assert [run.record for run in everyone.runs] == [True, True, True]
    marked = [{**RUNS[0], "record": True}, RUNS[1], RUNS[2]]
    some = export_request(arrows=True, runs=marked).trajectory_request()
    assert [run.record for run in some.runs] == [True, False, False]
    plain = export_request().trajectory_request()
    assert [run.record for run in plain.runs] == [False, False, False]


def test_arrows_must_be_a_json_boolean(client: TestClient) -> None:
    body = {**SCENE, "format": "png", "arrows": "yes"}
    reply = client.post("/api/exports", json=body)
    assert reply.status_code == 422
    assert [issue["loc"] for issue in reply.json()["detail"]] == [["body", "arrows"]]


# --- the frames --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "P"])
@pytest.mark.parametrize("step", [0, 7, STEPS])
def test_arrows_change_the_frame_at_the_arrows_and_nowhere_far_away(
    scene: ExportScene, mode: str, step: int
) -> None:
    without = FrameRenderer(scene, W, H, mode=mode)
    plain = without.frame(step).convert("RGB")
    renderer = FrameRenderer(scene, W, H, mode=mode, arrows=True)
    shown = renderer.frame(step).convert("RGB")
    changed = (np.asarray(plain) != np.asarray(shown)).any(axis=2)
    # Everything else is where it was: the layout does not move for the arrows.
    assert renderer.heads_drawn == without.heads_drawn
    assert renderer._panels == without._panels
    # Heads and halos reach a few pixels past the shaft; far from it nothing changes.
    near = arrow_pixels(renderer, margin=renderer.line_width * 3 + 4)
    assert changed.any()
    assert not (changed & ~near).any(), np.argwhere(changed & ~near)[:5]
    # Every drawn arrow changed the pixels along its own shaft.
    for i, drawn in renderer.arrows_drawn.items():
        panel = renderer._panel_of(i)
        for arrow in drawn:
            mid = (np.add(arrow.tail, arrow.tip) / 2 + (panel.x0, panel.y0)).round().astype(int)
            x, y = int(mid[0]), int(mid[1])
            assert changed[y - 2 : y + 3, x - 2 : x + 3].any(), (i, arrow.kind)


def round_down(x: float) -> float:
    """The largest of 1, 2, 5 × 10ᵏ not above x."""
    decade = 10.0 ** math.floor(math.log10(x))
    return max(m * decade for m in (1, 2, 5) if m * decade <= x * (1 + 1e-12))


def test_each_arrow_is_the_recorded_update_on_the_pages_scale(scene: ExportScene) -> None:
    renderer = FrameRenderer(scene, W, H, arrows=True)
    step = 7
    renderer.frame(step)
    panel = renderer._panels[0]
    (xmin, xmax), _ = scene.bounds
    unit = panel.w / (xmax - xmin)  # pixels per data unit, the same on both axes
    side = min(panel.w, panel.h)
    vectors: dict[str, list[np.ndarray]] = {"grad": [], "momentum": [], "step": []}
    for run in scene.runs:
        record = run.record
        assert record is not None
        vectors["grad"].append(-record.grads)
        name = arrow_rules.buffer_name(record.state)
        if name is not None:
            vectors["momentum"].append(-record.state[name])
        vectors["step"].append(np.diff(run.points, axis=0))
    # A kind's typical length: the largest over the runs of their 90th-percentile lengths.
    typical = {
        kind: max(np.sort(np.hypot(*v.T))[math.floor(0.9 * len(v))] for v in series)
        for kind, series in vectors.items()
    }
    scale = {kind: round_down(0.2 * side / (length * unit)) for kind, length in typical.items()}
    if typical["step"] * unit >= 0.05 * side:
        scale["step"] = 1.0
    kinds = {}
    for i, run in enumerate(scene.runs):
        record = run.record
        assert record is not None
        expected = {"grad": -record.grads[step], "step": run.points[step + 1] - run.points[step]}
        name = arrow_rules.buffer_name(record.state)
        if name is not None:
            expected["momentum"] = -record.state[name][step]
        drawn = {arrow.kind: arrow for arrow in renderer.arrows_drawn[i]}
        kinds[run.optimizer] = sorted(drawn)
        for kind, vector in expected.items():
            arrow = drawn[kind]
            # From the head: the point update `step` leaves, in the panel's pixels.
            head = (
                (run.points[step, 0] - xmin) * unit,
                (scene.bounds[1][1] - run.points[step, 1]) * unit,
            )
            assert arrow.tail == pytest.approx(head, abs=1e-6)
            assert arrow.vector == pytest.approx(tuple(vector), rel=1e-12)
            # The direction is the vector's (equal-scale axes; pixel y points down).
            offset = np.subtract(arrow.tip, arrow.tail)
            length = float(np.hypot(*offset))
            direction = np.array([vector[0], -vector[1]]) / np.hypot(*vector)
            assert offset / length == pytest.approx(direction, abs=1e-9)
            # The length: |v| × the kind's round factor, kept within 35 % of the side and
            # at least 3.5 % of it, or 3.2 head radii (it starts under the head marker).
            shortest = max(0.035 * side, 3.2 * renderer.head_radius)
            want = np.clip(np.hypot(*vector) * scale[kind] * unit, shortest, 0.35 * side)
            assert length == pytest.approx(want, rel=1e-9)
    assert kinds == {
        "adam": ["grad", "momentum", "step"],
        "momentum": ["grad", "momentum", "step"],
        "sgd": ["grad", "step"],
    }
    # The legend gives each kind's factor after its name, then every run's true length.
    factor = {kind: "" if k == 1 else f" ×{k:g}" for kind, k in scale.items()}
    grad_row = next(text for text in renderer.arrow_texts if text.startswith("−g"))
    assert grad_row.startswith(f"−g negative gradient{factor['grad']}  ")
    lengths = [
        arrow_rules.magnitude_text(float(np.hypot(*r.record.grads[step]))) for r in scene.runs
    ]
    assert grad_row.endswith("  ".join(lengths))


def test_a_true_to_scale_step_ends_on_the_next_point() -> None:
    # Adam at lr 1 takes steps long enough to draw as they are.
    runs = [{"optimizer": "adam", "params": {"lr": 1.0}, "record": True}]
    one = build_scene(export_request(runs=runs, arrows=True))
    renderer = FrameRenderer(one, W, H, arrows=True)
    panel = renderer._panels[0]
    scales, unit, side = renderer._arrow_scales(panel)
    assert scales["step"] == 1.0
    for step in (0, 5, 20):
        renderer.frame(step)
        arrow = next(a for a in renderer.arrows_drawn[0] if a.kind == "step")
        shortest = max(arrow_rules.MIN_DRAWN * side, 3.2 * renderer.head_radius)
        if shortest < np.hypot(*arrow.vector) * unit < arrow_rules.MAX * side:
            end = tuple(renderer._pixels[0][step + 1] / renderer.scale)
            assert arrow.tip == pytest.approx(end, abs=1e-6)


def test_the_last_frame_shows_the_last_update_where_it_began(scene: ExportScene) -> None:
    renderer = FrameRenderer(scene, W, H, arrows=True)
    renderer.frame(STEPS)
    for i, run in enumerate(scene.runs):
        tail = renderer._pixels[i][STEPS - 1] / renderer.scale
        assert all(arrow.tail == pytest.approx(tuple(tail)) for arrow in renderer.arrows_drawn[i])
        step = next(a for a in renderer.arrows_drawn[i] if a.kind == "step")  # arrived last
        assert step.vector == pytest.approx(tuple(run.points[STEPS] - run.points[STEPS - 1]))


def test_a_diverged_run_loses_its_arrows_where_its_path_ends() -> None:
    runs = [{"optimizer": "sgd", "params": {"lr": 1.5}}, {"optimizer": "adam"}]
    diverging = build_scene(export_request(runs=runs, arrows=True))
    bad = diverging.runs[0]
    assert bad.diverged_at is not None and bad.record is not None
    assert len(bad.record.grads) == len(bad.points) - 1
    renderer = FrameRenderer(diverging, W, H, arrows=True)
    renderer.frame(bad.diverged_at - 1)
    if 0 in renderer.arrows_drawn:  # the last kept point may already be off the plot
        tail = renderer._pixels[0][bad.diverged_at - 2] / renderer.scale
        assert renderer.arrows_drawn[0][0].tail == pytest.approx(tuple(tail))
    renderer.frame(bad.diverged_at + 1)
    assert 0 not in renderer.arrows_drawn and 1 in renderer.arrows_drawn


def test_runs_without_a_record_get_no_arrows() -> None:
    marked = [{**RUNS[0], "record": True}, RUNS[1], RUNS[2]]
    renderer = FrameRenderer(
        build_scene(export_request(runs=marked, arrows=True)), W, H, arrows=True
    )
    renderer.frame(5)
    assert list(renderer.arrows_drawn) == [0]
    assert renderer.arrow_texts[2].startswith("−m first moment (exp_avg)  ")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "Arrows at step 3",
                "−g negative gradient",
                "−m first moment (exp_avg)",
                "Δθ step taken",
            ],
        ),
        (
            "ja",
            [
                "ステップ 3 の矢印",
                "−g 負の勾配",
                "−m 1 次モーメント (exp_avg)",
                "Δθ 実際のステップ",
            ],
        ),
    ],
)
def test_the_legend_names_each_arrow_in_the_pages_words_with_its_length(
    lang: str, words: list[str]
) -> None:
    one = build_scene(export_request(runs=recorded(RUNS[:1]), arrows=True, lang=lang))
    renderer = FrameRenderer(one, W, H, arrows=True)
    renderer.frame(3)
    run = one.runs[0]
    assert run.record is not None
    scales, _, _ = renderer._arrow_scales(renderer._panels[0])
    lengths = {
        "grad": np.hypot(*run.record.grads[3]),
        "momentum": np.hypot(*run.record.state["exp_avg"][3]),
        "step": np.hypot(*(run.points[4] - run.points[3])),
    }
    factors = ["" if scales[k] == 1 else f" ×{scales[k]:g}" for k in ("grad", "momentum", "step")]
    cells = [arrow_rules.magnitude_text(float(lengths[k])) for k in ("grad", "momentum", "step")]
    assert renderer.arrow_texts == [
        words[0],
        *(
            f"{word}{factor}  {cell}"
            for word, factor, cell in zip(words[1:], factors, cells, strict=True)
        ),
    ]


def test_side_by_side_panels_each_carry_their_runs_arrows(scene: ExportScene) -> None:
    renderer = FrameRenderer(scene, 640, 480, layout="side_by_side", arrows=True)
    renderer.frame(4)
    assert sorted(renderer.arrows_drawn) == [0, 1, 2]
    assert len(renderer.arrow_boxes) == 3
    for box, panel in zip(renderer.arrow_boxes, renderer._panels, strict=True):
        left, top, right, bottom = box
        assert panel.x0 <= left < right <= panel.x0 + panel.w
        assert panel.y0 <= top < bottom <= panel.y0 + panel.h


def test_magnitudes_read_in_three_digits() -> None:
    assert arrow_rules.magnitude_text(0.050123) == "0.0501"
    assert arrow_rules.magnitude_text(2.3149) == "2.31"
    assert arrow_rules.magnitude_text(1234.5) == "1.23e3"
    assert arrow_rules.magnitude_text(4.5e-7) == "4.5e−7"
    assert [arrow_rules.nice_scale(x) for x in (0.3, 7.0, 19.9, 20.0, 450.0)] == [
        0.2,
        5.0,
        10.0,
        20.0,
        200.0,
    ]


# --- the files, played back --------------------------------------------------------------


def decode_gif(path: Path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("RGB")))
    return frames


RAW_RGB = ("-f", "rawvideo", "-pix_fmt", "rgb24", "-")


def decode_mp4(path: Path, width: int, height: int) -> list[np.ndarray]:
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", str(path), *RAW_RGB],
        capture_output=True,
        check=True,
    )
    return list(np.frombuffer(result.stdout, dtype=np.uint8).reshape(-1, height, width, 3))


def test_a_played_gif_shows_each_frames_arrows_exactly(tmp_path: Path, scene: ExportScene) -> None:
    request = export_request(format="gif", arrows=True)
    frames = decode_gif(run_export(request, tmp_path / "arrows.gif"))
    plain = decode_gif(run_export(export_request(format="gif"), tmp_path / "plain.gif"))
    steps = frame_steps(STEPS, request.frame_count())
    assert len(frames) == len(plain) == len(steps)
    renderer = FrameRenderer(scene, W, H, mode="P", arrows=True)
    for frame, before, step in zip(frames, plain, steps, strict=True):
        drawn = np.asarray(renderer.frame(int(step)).convert("RGB"))
        assert np.array_equal(frame, drawn)  # what plays is what was drawn
        changed = (frame != before).any(axis=2)
        near = arrow_pixels(renderer, margin=renderer.line_width * 3 + 4)
        assert changed.any() and not (changed & ~near).any()


def test_a_played_mp4_shows_the_arrows_where_they_are_drawn(
    tmp_path: Path, scene: ExportScene
) -> None:
    request = export_request(format="mp4", arrows=True)
    frames = decode_mp4(run_export(request, tmp_path / "arrows.mp4"), W, H)
    plain = decode_mp4(run_export(export_request(format="mp4"), tmp_path / "plain.mp4"), W, H)
    steps = frame_steps(STEPS, request.frame_count())
    assert len(frames) == len(plain) == len(steps)
    renderer = FrameRenderer(scene, W, H, arrows=True)
    for frame, before, step in zip(frames, plain, steps, strict=True):
        renderer.frame(int(step))
        near = arrow_pixels(renderer, margin=renderer.line_width * 3 + 4)
        # H.264 is lossy: compare how much changed near the arrows and far from them.
        difference = np.abs(frame.astype(int) - before.astype(int)).sum(axis=2)
        far = ~arrow_pixels(renderer, margin=renderer.line_width * 3 + 24)
        # (|ΔR| + |ΔG| + |ΔB|, 0…765): the arrows change colours outright; elsewhere only
        # the encoder's rounding moves (a few levels on average, rarely more than 30).
        assert difference[near].mean() > 100
        assert difference[far].mean() < 5 and np.percentile(difference[far], 99) < 30


def test_the_png_still_draws_the_arrows_of_its_frame(tmp_path: Path) -> None:
    with_arrows = run_export(export_request(arrows=True), tmp_path / "arrows.png")
    plain = run_export(export_request(), tmp_path / "plain.png")
    with Image.open(with_arrows) as a, Image.open(plain) as b:
        assert a.size == b.size == (W, H)
        assert np.asarray(a.convert("RGB")).tolist() != np.asarray(b.convert("RGB")).tolist()


# --- CSV and JSON ------------------------------------------------------------------------


def api_runs(client: TestClient, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    reply = client.post("/api/trajectories", json={**SCENE, "runs": runs})
    assert reply.status_code == 200, reply.text
    return reply.json()["runs"]


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fp:
        reader = csv.DictReader(fp)
        return list(reader.fieldnames or []), list(reader)


def test_csv_columns_are_the_apis_recorded_state(client: TestClient, tmp_path: Path) -> None:
    runs = [recorded(RUNS)[0], RUNS[1], recorded(RUNS)[2]]  # Momentum does not record
    path = run_export(export_request(format="csv", runs=runs), tmp_path / "state.csv")
    header, rows = read_csv(path)
    assert header == [
        *("step", "optimizer", "x", "y", "loss", "grad_x", "grad_y", "lr"),
        *("exp_avg_x", "exp_avg_y", "exp_avg_sq_x", "exp_avg_sq_y"),
    ]
    replies = api_runs(client, runs)
    names = ["adam", "momentum", "sgd"]
    for name, reply in zip(names, replies, strict=True):
        mine = [row for row in rows if row["optimizer"] == name]
        assert len(mine) == len(reply["points"])
        record = reply["record"]
        if record is None:
            assert all(row[c] == "" for row in mine for c in header[5:])
            continue
        n = len(reply["points"]) - 1
        assert len(record["grads"]) == len(record["lrs"]) == n
        for t, row in enumerate(mine[:-1]):
            assert [float(row["grad_x"]), float(row["grad_y"])] == record["grads"][t]
            assert float(row["lr"]) == record["lrs"][t]
            for buffer in ("exp_avg", "exp_avg_sq"):
                if buffer in record["state"]:
                    got = [float(row[f"{buffer}_x"]), float(row[f"{buffer}_y"])]
                    assert got == record["state"][buffer][t]
                else:
                    assert row[f"{buffer}_x"] == row[f"{buffer}_y"] == ""
        assert all(mine[-1][c] == "" for c in header[5:])  # no update leaves the last point


def test_csv_without_recorded_runs_keeps_its_five_columns(tmp_path: Path) -> None:
    header, _ = read_csv(run_export(export_request(format="csv"), tmp_path / "plain.csv"))
    assert header == ["step", "optimizer", "x", "y", "loss"]


def test_csv_of_an_arrows_request_carries_every_runs_state(tmp_path: Path) -> None:
    header, rows = read_csv(
        run_export(export_request(format="csv", arrows=True), tmp_path / "all.csv")
    )
    assert "momentum_buffer_x" in header and "exp_avg_sq_y" in header
    momentum = [row for row in rows if row["optimizer"] == "momentum"]
    assert momentum[0]["momentum_buffer_x"] != "" and momentum[0]["exp_avg_x"] == ""


def test_json_runs_carry_the_apis_record(client: TestClient, tmp_path: Path) -> None:
    runs = [recorded(RUNS)[0], RUNS[1], recorded(RUNS)[2]]
    path = run_export(export_request(format="json", runs=runs), tmp_path / "state.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    replies = api_runs(client, runs)
    assert [run["record"] for run in document["runs"]] == [run["record"] for run in replies]
    assert set(document["runs"][0]["record"]["state"]) == {"exp_avg", "exp_avg_sq"}
    assert [run["record"] for run in document["scene"]["runs"]] == [True, False, True]


def test_the_export_api_takes_arrows_and_serves_the_state(client: TestClient) -> None:
    """POST /api/exports end to end: an arrows CSV carries every run's recorded columns."""
    created = client.post("/api/exports", json={**SCENE, "format": "csv", "arrows": True})
    assert created.status_code == 202, created.text
    job = created.json()
    deadline = time.monotonic() + 120  # a guard against a hang, not a speed assertion
    while job["status"] not in ("done", "error") and time.monotonic() < deadline:
        time.sleep(0.02)
        job = client.get(f"/api/exports/{job['id']}").json()
    assert job["status"] == "done", job
    text = client.get(f"/api/exports/{job['id']}/file").text
    header = text.splitlines()[0].split(",")
    assert header[5:8] == ["grad_x", "grad_y", "lr"]
    assert {"exp_avg_x", "momentum_buffer_y", "exp_avg_sq_y"} <= set(header)


def test_the_html_handout_leaves_the_recorded_state_out(tmp_path: Path) -> None:
    plain = run_export(export_request(format="html"), tmp_path / "plain.html")
    kept = run_export(export_request(format="html", runs=recorded()), tmp_path / "kept.html")
    assert "exp_avg" not in kept.read_text(encoding="utf-8")
    assert abs(kept.stat().st_size - plain.stat().st_size) < 200
