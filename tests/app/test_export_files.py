"""Every export format through the real core: the files decode and hold the scene's numbers."""

from __future__ import annotations

import base64
import csv
import json
import math
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import landscapes
from app.export.data import run_labels
from app.export.html import handout_steps
from app.export.pipeline import run_export
from app.scene import compute
from app.schemas import ExportRequest

W, H, FRAMES, STEPS = 200, 150, 10, 30
# sgd at lr=0.01 leaves Rosenbrock's valley within a few steps: a diverged run.
RUNS = [
    {"optimizer": "adam", "params": {"lr": 0.05}},
    {"optimizer": "sgd", "params": {"lr": 0.01}},
    {"optimizer": "momentum", "params": {"lr": 0.001}},
]


def request(**fields: Any) -> ExportRequest:
    body = {
        "landscape": "rosenbrock",
        "steps": STEPS,
        "runs": RUNS,
        "width": W,
        "height": H,
        "frames": FRAMES,
        "fps": 10,
    }
    return ExportRequest.model_validate({**body, **fields})


def export(tmp_path: Path, **fields: Any) -> tuple[Path, list[float]]:
    req = request(**fields)
    progress: list[float] = []
    path = run_export(req, tmp_path / f"out.{req.format}", progress.append)
    return path, progress


def ffmpeg_probe(path: Path) -> str:
    """ffmpeg's own description of the file (it prints it on stderr and exits 1 for -i only)."""
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    done = subprocess.run(
        [exe, "-hide_banner", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stderr


@pytest.mark.parametrize("layout", ["overlay", "side_by_side"])
def test_gif_has_the_requested_frames(tmp_path: Path, layout: str) -> None:
    path, progress = export(tmp_path, format="gif", layout=layout)
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == FRAMES
        assert gif.size == (W, H)
        gif.seek(FRAMES - 1)
        gif.load()
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert progress == sorted(progress)


def test_gif_frames_are_capped_at_one_per_step(tmp_path: Path) -> None:
    path, _ = export(tmp_path, format="gif", steps=5, frames=50)
    with Image.open(path) as gif:
        assert gif.n_frames == 6


@pytest.mark.parametrize(("width", "height"), [(W, H), (201, 151)])
def test_mp4_is_h264_yuv420p_with_even_size(tmp_path: Path, width: int, height: int) -> None:
    path, progress = export(tmp_path, format="mp4", width=width, height=height)
    info = ffmpeg_probe(path)
    video = next(line for line in info.splitlines() if "Video:" in line)
    assert "h264" in video
    assert "yuv420p" in video
    assert f"{width - width % 2}x{height - height % 2}" in video
    frames = re.findall(r"frame=\s*(\d+)", info)
    assert frames and int(frames[-1]) == FRAMES
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_mp4_moov_atom_is_at_the_front_for_streaming(tmp_path: Path) -> None:
    path, _ = export(tmp_path, format="mp4")
    head = path.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_png_is_a_still_of_the_chosen_step(tmp_path: Path) -> None:
    (tmp_path / "last").mkdir()
    last, _ = export(tmp_path / "last", format="png")
    with Image.open(last) as image:
        assert image.format == "PNG"
        assert image.size == (W, H)
        last_pixels = image.convert("RGB").tobytes()
    start, _ = export(tmp_path, format="png", frame=0)
    with Image.open(start) as image:
        assert image.convert("RGB").tobytes() != last_pixels


class _Loads(HTMLParser):
    """Every URL the browser would fetch: src/href/data attributes of real elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "action") and value:
                self.urls.append(value)
        if tag == "script" and not dict(attrs).get("src"):
            self.inline_scripts += 1


@pytest.mark.parametrize("layout", ["overlay", "side_by_side"])
def test_html_is_standalone_with_frames(tmp_path: Path, layout: str) -> None:
    path, progress = export(
        tmp_path, format="html", layout=layout, title='<script>alert("x")</script>'
    )
    document = path.read_text(encoding="utf-8")
    loads = _Loads()
    loads.feed(document)
    assert loads.urls == []  # no <script src>, <link href>, <img src> at all
    external = r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//"
    assert not re.search(external, document)
    assert "plotly.js v" in document[:5000]  # Plotly.js is inlined
    assert len(document) > 1_000_000
    added = re.search(r"Plotly\.addFrames\([^,]+,\s*(\[.*?\])\s*\)", document, re.S)
    frames = json.loads(added[1])
    shown = len(handout_steps(STEPS, FRAMES))  # on round steps: 0, 2, 4, …
    assert shown >= FRAMES
    assert [f["name"] for f in frames] == [str(k) for k in range(shown)]
    assert '<script>alert("x")' not in document
    assert "&lt;script&gt;" in document
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_csv_rows_follow_each_runs_finite_points(tmp_path: Path) -> None:
    path, _ = export(tmp_path, format="csv")
    with open(path, newline="", encoding="utf-8") as fp:
        rows = list(csv.reader(fp))
    assert rows[0] == ["step", "optimizer", "x", "y", "loss"]
    outcomes = compute(request(format="csv").trajectory_request())
    assert any(o.diverged_at is not None for o in outcomes)  # the test covers divergence
    # Never diverged: steps + 1 rows (steps 0..steps); diverged at d: d rows (steps 0..d-1).
    expected = sum(STEPS + 1 if o.diverged_at is None else o.diverged_at for o in outcomes)
    assert len(rows) - 1 == expected
    for outcome in outcomes:
        mine = [r for r in rows[1:] if r[1] == outcome.optimizer]
        assert [int(r[0]) for r in mine] == list(range(len(outcome.points)))
        assert [float(r[2]) for r in mine] == outcome.points[:, 0].tolist()  # exact repr
        assert [float(r[4]) for r in mine] == outcome.losses.tolist()


def test_json_is_the_trajectory_reply_plus_the_scene(tmp_path: Path) -> None:
    path, _ = export(tmp_path, format="json", noise=0.1, seed=7)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["scene"]["landscape"] == "rosenbrock"
    assert document["scene"]["noise"] == 0.1 and document["scene"]["seed"] == 7
    assert document["scene"]["start"] == list(landscapes.get("rosenbrock").default_start)
    assert "format" not in document["scene"]  # the scene, not the export options
    scene = request(format="json", noise=0.1, seed=7).trajectory_request()
    reply = [o.to_result().model_dump(mode="json") for o in compute(scene)]
    assert document["runs"] == reply
    assert document["landscape"]["name"] == "rosenbrock"
    assert document["landscape"]["minima"][0]["kind"] == "global"


class _Lesson(HTMLParser):
    """The handout's words: the explanation, the status table's cells row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.lang = ""
        self.heading = ""
        self.explanation = ""
        self.header: list[str] = []
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag == "tr" and "tbody" in self.tags:
            self.rows.append([])

    def handle_endtag(self, tag: str) -> None:
        while self.tags and self.tags.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "h1" in self.tags:
            self.heading += data
        elif "section" in self.tags and "p" in self.tags:
            self.explanation += data
        elif "thead" in self.tags and "th" in self.tags:
            self.header.append(data)
        elif "tbody" in self.tags and self.tags[-1] in ("th", "td"):
            self.rows[-1].append(data)


def lesson_of(path: Path) -> tuple[_Lesson, dict[str, Any]]:
    """The parsed words and the loss chart's figure (its Plotly.newPlot arguments)."""
    document = path.read_text(encoding="utf-8")
    lesson = _Lesson()
    lesson.feed(document)
    chart = re.search(
        r'Plotly\.newPlot\(\s*"handout-loss",\s*(\[.*?\]),\s*(\{.*\}),\s*\{"displaylogo"',
        document,
        re.S,
    )
    assert chart is not None
    return lesson, {"data": json.loads(chart[1]), "layout": json.loads(chart[2])}


def test_html_handout_carries_the_preset_lesson_in_japanese(tmp_path: Path) -> None:
    from app import presets

    saddle = presets.get("saddle")
    body = {**saddle.request(), "format": "html", "frames": FRAMES, "lang": "ja"}
    req = ExportRequest.model_validate({**body, "preset": "saddle"})
    path = run_export(req, tmp_path / "saddle.html")
    lesson, chart = lesson_of(path)
    words = json.loads(Path("static/i18n/ja.json").read_text(encoding="utf-8"))
    # The plot's own labels speak Japanese too.
    document = path.read_text(encoding="utf-8")
    at = re.search(r'Plotly\.newPlot\(\s*"handout-plot",\s*', document)
    assert at is not None
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(document, at.end())
    layout, _ = decoder.raw_decode(document, re.compile(r",\s*").match(document, end).end())
    names = {trace.get("name") for trace in data}
    assert {words["minimum.saddle"], words["plot.start"]} <= names
    buttons = [b["label"] for b in layout["updatemenus"][0]["buttons"]]
    assert buttons == [f"▶ {words['play.play']}", f"❚❚ {words['play.pause']}"]
    assert layout["sliders"][0]["currentvalue"]["prefix"] == f"{words['plot.step']} "

    assert lesson.lang == "ja"
    assert lesson.heading == saddle.title["ja"]
    assert lesson.explanation == saddle.text["ja"]
    assert lesson.header == [words[f"status.{k}"] for k in ("optimizer", "finalLoss", "stepCol")]
    outcomes = compute(req.trajectory_request())
    assert len(lesson.rows) == 2 * len(outcomes)  # a numbers row and a sentence per run
    labels = run_labels([o.optimizer for o in outcomes], [o.params for o in outcomes])
    rows = zip(outcomes, labels, lesson.rows[::2], lesson.rows[1::2], strict=True)
    for run, label, numbers, (sentence,) in rows:
        name, final, step = numbers
        assert name == label  # the legend's label
        # printed to 2–3 digits, with a true minus sign (U+2212) as on the page
        assert float(final.replace("\u2212", "-")) == pytest.approx(run.losses[-1], rel=0.05)
        # SGD stalls near the saddle point (from a step on); the others are still moving
        expected = "stalled_saddle" if run.optimizer == "sgd" else "moving"
        assert run.status.code == expected
        assert step == ("—" if run.status.step is None else str(run.status.step))
        assert sentence == words[f"status.{expected}"]  # the page's words, in Japanese
    # No global minimum on a saddle: f itself on a linear axis, a line per run, over every step.
    assert chart["layout"]["title"]["text"] == words["loss.title"]
    assert chart["layout"]["xaxis"]["title"]["text"] == words["plot.step"]
    assert chart["layout"]["yaxis"]["type"] == "linear"
    lines = [trace for trace in chart["data"] if "meta" not in trace]
    assert len(lines) == len(outcomes)


@pytest.mark.parametrize(
    ("preset", "scale", "notes"),
    [
        # The page's own notes (static/js/ranges.js): Momentum and Adam run off the saddle.
        (
            "saddle",
            "linear",
            ["Momentum: ステップ 94 から −84 未満", "Adam: ステップ 129 から −84 未満"],
        ),
        ("divergence", "log", ["SGD: ステップ 7 から 300 超", "Momentum: ステップ 4 から 300 超"]),
    ],
)
def test_handout_loss_chart_clips_runaways_at_the_landscapes_range_as_the_page(
    tmp_path: Path, preset: str, scale: str, notes: list[str]
) -> None:
    """Momentum reaches f = −2.2e11 on the saddle: the axis stays on the landscape's own
    values (the page's band, app.export.ranges), the runaway is marked off scale."""
    from app import presets

    body = {**presets.get(preset).request(), "format": "html", "frames": FRAMES, "lang": "ja"}
    path = run_export(ExportRequest.model_validate({**body, "preset": preset}), tmp_path / "h.html")
    _, chart = lesson_of(path)
    yaxis = chart["layout"]["yaxis"]
    assert yaxis["type"] == scale and yaxis["autorange"] is False
    lo, hi = yaxis["range"]
    if scale == "linear":
        assert -100 < lo < -84 and 0 < hi < 20  # not −2×10¹¹ … 0
    else:
        assert hi < math.log10(300) + 0.2  # not 10¹²
    marks = [trace for trace in chart["data"] if "meta" in trace]
    names = [note.split(":")[0] for note in notes]
    assert [mark["meta"]["optimizer"] for mark in marks] == [n.lower() for n in names]
    for mark, note in zip(marks, notes, strict=True):
        side = mark["meta"]["offScale"]
        assert mark["marker"]["symbol"][0] == (
            "triangle-down" if side == "below" else "triangle-up"
        )
        assert str(mark["meta"]["step"]) in note
    annotation = chart["layout"]["annotations"][0]
    assert annotation["text"].split("<br>") == notes
    for trace in chart["data"]:
        y = trace["y"]
        if isinstance(y, dict):  # Plotly's typed array: float32, NaN where the run is gone
            y = np.frombuffer(base64.b64decode(y["bdata"]), dtype="<f4").tolist()
        values = [float(v) for v in y if math.isfinite(v)]
        if scale == "linear":
            assert all(lo <= v <= hi for v in values)
        else:
            assert all(math.log10(v) <= hi for v in values)


def test_html_handout_without_preset_has_the_loss_gap_chart_and_status(tmp_path: Path) -> None:
    path, _ = export(tmp_path, format="html")
    lesson, chart = lesson_of(path)
    assert lesson.lang == "en" and lesson.explanation == "" and lesson.heading == ""
    assert chart["layout"]["yaxis"]["type"] == "log"  # Rosenbrock's f* = 0 is known
    assert chart["layout"]["title"]["text"] == "Loss gap f − f* (log)"
    sentences = [row[0] for row in lesson.rows[1::2]]
    diverged = [run.diverged_at for run in compute(request(format="html").trajectory_request())]
    assert diverged[1] is not None  # sgd at lr=0.01 leaves the valley
    assert sentences[1] == "diverged"  # the page's words; the step has its own column
    assert lesson.rows[2][0] == "SGD, η = 0.01" and lesson.rows[2][2] == str(diverged[1])


def test_export_preset_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'; valid presets: saddle"):
        request(format="html", preset="nope")


def test_handout_loss_chart_labels_only_powers_of_ten_across_decades() -> None:

    from app.export.html import _decade_ticks

    assert _decade_ticks(1e-8, 1.0) == {"dtick": 2}  # 8 decades
    assert _decade_ticks(1.0, 10.0) == {}  # one decade: Plotly's own ticks
