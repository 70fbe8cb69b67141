"""Exports a lecturer can put on a slide, played back as a viewer sees them.

The page's language in every word, equal-scale axes, a colour bar, one title line, a clip
of the chosen length (a 60-step preset is not a 2-second clip), file names that name the
scene, legends whose labels are whole, marker shapes and step dots — checked on decoded
GIF/MP4 frames and on the renderer's own geometry.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app import presets
from app.cli import build_parser, build_request, main
from app.config import DURATION, MAX_EXPORT_FRAMES
from app.export.data import (
    ExportRun,
    ExportScene,
    Marker,
    build_scene,
    clip_steps,
    ui_words,
)
from app.export.pipeline import download_name, run_export
from app.export.render import (
    CONTOUR_LEVELS,
    FrameRenderer,
    colorscale_lut,
    dot_every,
    draw_symbol,
    log_ticks,
)
from app.export.video import gif_delays
from app.main import create_app
from app.palette import OKABE_ITO, OPTIMIZER_SYMBOLS, SYMBOL_CYCLE
from app.schemas import ExportRequest
from tests.app.clients import LocalClient


def preset_request(preset: str, **extra: Any) -> ExportRequest:
    body = {**presets.get(preset).request(), "preset": preset, "format": "png"}
    return ExportRequest.model_validate({**body, "width": 640, "height": 360, **extra})


def circle_scene(
    bounds: tuple[tuple[float, float], tuple[float, float]], steps: int = 300
) -> ExportScene:
    """f = x² + y² over `bounds`: round contours, one straight run along y = 0."""
    (xmin, xmax), (ymin, ymax) = bounds
    x = np.linspace(xmin, xmax, 201)
    y = np.linspace(ymin, ymax, 201)
    xx, yy = np.meshgrid(x, y)
    points = np.column_stack([np.linspace(xmin * 0.9, xmax * 0.9, steps + 1), np.zeros(steps + 1)])
    run = ExportRun("sgd", "SGD, η = 0.1", OKABE_ITO[0], {"lr": 0.1}, points, np.ones(steps + 1))
    return ExportScene(
        landscape="circle",
        title="Circle",
        bounds=bounds,
        start=(float(points[0, 0]), 0.0),
        steps=steps,
        runs=[run],
        minima=[],
        color_grid=lambda resolution: (x, y, xx**2 + yy**2),
    )


def long_label_scene(lang: str = "en") -> ExportScene:
    scene = circle_scene(((-2.0, 2.0), (-2.0, 2.0)))
    labels = [
        "Nesterov (NAG), η = 0.000123",
        "Momentum #1, η = 0.00456",
        "Momentum #2, η = 0.00789",
        "AdaGrad, η = 1.5",
        "RMSprop, η = 0.0123",
        "Adam, η = 0.3",
    ]
    symbols = list(OPTIMIZER_SYMBOLS.values())[: len(labels)]
    base = scene.runs[0]
    scene.runs = [
        ExportRun("sgd", label, OKABE_ITO[k], {"lr": 0.1}, base.points, base.losses, symbol=s)
        for k, (label, s) in enumerate(zip(labels, symbols, strict=True))
    ]
    scene.minima = [Marker(0.0, 0.0, "global", 0.0), Marker(1.0, 1.0, "saddle", 2.0)]
    scene.lang = lang
    return scene


def overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def panel_box(renderer: FrameRenderer, k: int = 0) -> tuple[int, int, int, int]:
    panel = renderer._panels[k]
    return panel.x0, panel.y0, panel.x0 + panel.w, panel.y0 + panel.h


# --- how long a clip plays -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "frames", "hold"), [(60, 240, 45), (1000, 240, 45), (0, 10, 2), (5, 7, 0)]
)
def test_a_clip_moves_through_every_step_then_holds_the_end(
    steps: int, frames: int, hold: int
) -> None:
    shown = clip_steps(steps, frames, hold)
    assert len(shown) == frames
    assert shown[0] == 0 and np.all(np.diff(shown) >= 0)
    assert np.all(shown[-(hold + 1) :] == steps)
    if frames - hold >= steps + 1:  # short runs: every step is on screen, none skipped
        assert set(shown.tolist()) == set(range(steps + 1))
        per_step = np.bincount(shown[: frames - hold])
        assert per_step.max() - per_step.min() <= 1 + (steps == 0)


def test_a_sixty_step_preset_plays_for_the_default_seconds() -> None:
    request = preset_request("ill_conditioned", format="mp4", fps=30)
    assert request.steps == 60
    assert request.frame_count() / request.clip_fps() == DURATION.default >= 6
    assert request.hold_frames() > 0


def test_gif_delays_add_up_to_the_clip_without_drifting() -> None:
    delays = gif_delays(240, 30)
    assert sum(delays) == 800 and set(delays) == {3, 4}
    assert sum(gif_delays(100, 50)) == 200 and min(gif_delays(100, 50)) == 2
    # A GIF is capped at 50 fps (browsers slow shorter delays to 100 ms); MP4 is not.
    assert preset_request("saddle", format="gif", fps=60).clip_fps() == 50
    assert preset_request("saddle", format="mp4", fps=60).clip_fps() == 60


RAW_RGB = ("-f", "rawvideo", "-pix_fmt", "rgb24", "-")


def decode_mp4(path: Path) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Every frame as a player decodes it, with the stream's fps and duration (ffmpeg's log)."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", str(path), *RAW_RGB],
        capture_output=True,
        check=True,
    )
    log = result.stderr.decode(errors="replace")
    stream = re.search(r"Video: h264.*?, (\d+)x(\d+).*?, ([\d.]+) fps", log)
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", log).groups()
    assert stream is not None, log
    width, height, fps = int(stream[1]), int(stream[2]), float(stream[3])
    data = np.frombuffer(result.stdout, dtype=np.uint8).reshape(-1, height, width, 3)
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return {"fps": fps, "duration": duration}, list(data)


def decode_gif(path: Path) -> tuple[list[int], list[np.ndarray]]:
    delays, frames = [], []
    with Image.open(path) as gif:
        for k in range(gif.n_frames):
            gif.seek(k)
            delays.append(gif.info["duration"])
            frames.append(np.asarray(gif.convert("RGB")))
    return delays, frames


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_the_file_plays_for_duration_seconds_and_ends_on_the_last_step(
    tmp_path: Path, fmt: str
) -> None:
    request = preset_request(
        "ill_conditioned", format=fmt, duration=6, fps=10, width=320, height=180
    )
    path = run_export(request, tmp_path / download_name(request))
    if fmt == "gif":
        delays, frames = decode_gif(path)
        assert sum(delays) == 6000
    else:
        meta, frames = decode_mp4(path)
        assert meta["fps"] == 10 and meta["duration"] == pytest.approx(6.0, abs=0.15)
    assert len(frames) == 60  # duration × fps
    hold = request.hold_frames()
    assert hold == 12  # 1.2 s of 6: at most a fifth holds the end
    tail = frames[-hold:]
    if fmt == "gif":
        assert all(np.array_equal(tail[0], f) for f in tail)
    # The paths grow: the first moving frames differ from the end.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).sum() > 1000


def test_the_pages_default_clip_8_s_at_30_fps_plays_8_s_as_a_gif(tmp_path: Path) -> None:
    """The export panel's default. GIF delays are whole hundredths: 33.3 ms is written as
    30, 40, 30, 30, 40, 30, … (a player reading only the first delay would think 7.2 s;
    the file's decoded delays add up to 8 s exactly)."""
    request = preset_request("saddle", format="gif", duration=8, fps=30, width=160, height=90)
    path = run_export(request, tmp_path / download_name(request))
    with Image.open(path) as gif:
        delays = []
        for k in range(gif.n_frames):
            gif.seek(k)
            delays.append(gif.info["duration"])
    assert len(delays) == 240
    assert abs(sum(delays) - 8000) <= 10
    assert set(delays) == {30, 40} and delays[:3] == [30, 40, 30]


# --- words in the scene's language -------------------------------------------------------------


def test_a_japanese_scene_exports_japanese_words() -> None:
    english = FrameRenderer(build_scene(preset_request("saddle", lang="en")), 640, 360)
    japanese = FrameRenderer(build_scene(preset_request("saddle", lang="ja")), 640, 360)
    words = ui_words("ja")
    assert japanese.title_shown == presets.get("saddle").title["ja"]
    assert english.title_shown == presets.get("saddle").title["en"]
    assert japanese.counter_text(12) == words["play.stepOf"].replace("{step}", "12").replace(
        "{steps}", "200"
    )
    assert "ステップ" in japanese.counter_text(12)
    legend = {text for text, _ in japanese.legend_texts}
    assert {words["plot.start"], words["minimum.saddle"]} <= legend
    assert not legend & {"start", "saddle"}
    # Drawn, not tofu: the band differs from the English one, and two different
    # characters in the face the renderer uses give two different glyphs.
    band = japanese.band_height
    en_band = np.asarray(english.frame(0))[:band]
    ja_band = np.asarray(japanese.frame(0))[:band]
    assert (en_band != ja_band).any(axis=2).sum() > 500
    font = japanese.font(24)
    glyphs = []
    for char in "鞍点出":
        image = Image.new("L", (40, 40), 0)
        ImageDraw.Draw(image).text((4, 4), char, fill=255, font=font)
        glyphs.append(np.asarray(image) > 128)
    assert all(g.sum() > 40 for g in glyphs)
    assert all(not np.array_equal(a, b) for a, b in itertools.combinations(glyphs, 2))


def test_a_decoded_japanese_gif_shows_japanese_text_where_english_has_english(
    tmp_path: Path,
) -> None:
    bands = {}
    for lang in ("en", "ja"):
        request = preset_request(
            "warmup", format="gif", lang=lang, duration=1, fps=2, width=640, height=360
        )
        _, frames = decode_gif(run_export(request, tmp_path / f"{lang}.gif"))
        renderer = FrameRenderer(build_scene(request), 640, 360, mode="P")
        bands[lang] = frames[0][: renderer.band_height]
        # The first frame as played is the renderer's frame: title, counter in `lang`.
        expected = np.asarray(renderer.frame(0).convert("RGB"))
        np.testing.assert_array_equal(frames[0], expected)
    title_rows = (bands["en"] != bands["ja"]).any(axis=2)
    assert title_rows.sum() > 1000  # different words drawn in the title band


def test_the_colour_bar_title_follows_the_language_and_the_log_scale() -> None:
    scene = build_scene(preset_request("rosenbrock", lang="ja"))
    assert scene.log_color
    renderer = FrameRenderer(scene, 800, 600)
    assert renderer.colorbar_title[0] == ui_words("ja")["plot.colorLog"]
    linear = FrameRenderer(build_scene(preset_request("saddle", lang="ja")), 800, 600)
    assert linear.colorbar_title[0] == "f"


def test_one_title_line_never_two_titles_joined() -> None:
    saddle = build_scene(preset_request("saddle"))
    assert saddle.full_title == "Saddle point: SGD stalls" == presets.get("saddle").title["en"]
    plain = build_scene(
        ExportRequest.model_validate(
            {"landscape": "saddle", "runs": [{"optimizer": "sgd"}], "format": "png"}
        )
    )
    assert plain.full_title == ui_words("en")["landscape.saddle"]
    plain.lang = "ja"
    assert plain.full_title == ui_words("ja")["landscape.saddle"]
    plain.user_title = "Lecture 3"
    assert plain.full_title == "Lecture 3"
    for scene in (saddle, plain):
        assert " — " not in scene.full_title


# --- equal scale and the colour bar --------------------------------------------------------------


@pytest.mark.parametrize("size", [(1280, 720), (800, 600), (1024, 768), (320, 240), (1920, 1080)])
@pytest.mark.parametrize("bounds", [((-2.0, 2.0), (-2.0, 2.0)), ((-10.0, 10.0), (-5.0, 5.0))])
@pytest.mark.parametrize("layout", ["overlay", "side_by_side"])
def test_one_unit_of_x_is_as_long_as_one_unit_of_y(
    size: tuple[int, int], bounds: Any, layout: str
) -> None:
    scene = long_label_scene()
    scene.bounds = bounds
    renderer = FrameRenderer(scene, *size, layout=layout)
    (xmin, xmax), (ymin, ymax) = bounds
    for panel in renderer._panels:
        assert abs(panel.w / (xmax - xmin) - panel.h / (ymax - ymin)) * (ymax - ymin) <= 1.0
        assert panel.x0 >= 0 and panel.y0 >= renderer.band_height
        assert panel.x0 + panel.w <= size[0] and panel.y0 + panel.h <= size[1]
    if renderer.colorbar is not None:
        for k in range(len(renderer._panels)):
            assert not overlaps(renderer.colorbar, panel_box(renderer, k))


def _band_extent(pixels: np.ndarray, colour: np.ndarray) -> tuple[int, int]:
    """(width, height) of the region painted `colour`."""
    ys, xs = np.nonzero((pixels == colour).all(axis=2))
    return int(xs.max() - xs.min()), int(ys.max() - ys.min())


def test_a_circle_is_drawn_round_on_a_wide_plot() -> None:
    scene = circle_scene(((-4.0, 4.0), (-2.0, 2.0)))
    scene.runs = []
    renderer = FrameRenderer(scene, 1280, 720)
    pixels = np.asarray(renderer.frame(0))
    x0, y0, x1, y1 = panel_box(renderer)
    # The innermost band (the darkest colour) is a disc: as wide as it is tall.
    width, height = _band_extent(pixels[y0:y1, x0:x1], colorscale_lut(CONTOUR_LEVELS)[0])
    assert width > 40 and abs(width - height) <= 2


def _runs_of(mask: np.ndarray, gap: int = 0) -> list[tuple[int, int]]:
    """(start, length) of each run of True values; runs `gap` or fewer apart are joined
    (a path drawn along a column is not the end of the plot)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    runs = [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    joined: list[tuple[int, int]] = []
    for start, length in runs:
        if joined and start - sum(joined[-1]) <= gap:
            joined[-1] = (joined[-1][0], start + length - joined[-1][0])
        else:
            joined.append((start, length))
    return joined


def test_the_saddle_export_is_square_with_a_colour_bar(tmp_path: Path) -> None:
    request = preset_request("saddle", width=1280, height=720, format="mp4", duration=1, fps=2)
    _, frames = decode_mp4(run_export(request, tmp_path / "saddle.mp4"))
    # The first frame: by the last, notes of runs that left the view cover a corner.
    pixels = frames[0].astype(int)
    lut = colorscale_lut(CONTOUR_LEVELS).astype(int)
    # Pixels near a contour colour (H.264 shifts colours a little).
    distance = np.min(np.abs(pixels[:, :, None, :] - lut[None, None]).sum(axis=3), axis=2)
    painted = distance < 30
    columns = _runs_of(painted.mean(axis=0) > 0.5, gap=6)
    plot = max(columns, key=lambda run: run[1])
    rows = _runs_of(painted[:, plot[0] : plot[0] + plot[1]].mean(axis=1) > 0.5, gap=6)
    height = max(r[1] for r in rows)
    assert plot[1] > 400 and abs(plot[1] - height) <= 3
    # The colour bar: a narrow painted strip right of the plot, dark at the bottom and
    # yellow at the top, as the page's.
    bars = [run for run in columns if run[0] > plot[0] + plot[1] and run[1] < 40]
    assert bars
    bar = bars[0][0] + bars[0][1] // 2
    strip = pixels[:, bar][painted[:, bar]]
    assert strip[0, :2].sum() > 380  # yellow: red + green high
    assert strip[-1].sum() < 200  # dark purple


def test_colour_bar_ticks_are_labelled_like_the_page() -> None:
    # Powers of ten as the loss chart writes them (superscripts), never "1e-1".
    assert log_ticks(-3.2, 2.5) == [
        (-3.0, "10⁻³"),
        (-2.0, "10⁻²"),
        (-1.0, "10⁻¹"),
        (0.0, "1"),
        (1.0, "10"),
        (2.0, "10²"),
    ]
    # The low end, well below the first power of ten, is labelled with its own value.
    assert log_ticks(-2.6, 3.4)[:2] == [(-2.6, "2.5×10⁻³"), (-2.0, "10⁻²")]
    scene = build_scene(preset_request("rosenbrock"))
    renderer = FrameRenderer(scene, 800, 600)
    _, top, right, bottom = renderer.colorbar
    pixels = np.asarray(renderer.frame(0))
    labels = pixels[top:bottom, right + 2 : right + 60]
    assert (labels.sum(axis=2) < 200).sum() > 100  # dark tick-label ink beside the bar
    drawn = [text for _, text in renderer.colorbar_ticks]
    assert drawn[0] == "2.5×10⁻³" and "10⁻²" in drawn and not any("e" in t for t in drawn)
    assert max(y for y, _ in renderer.colorbar_ticks) >= bottom - 1  # the bottom is labelled


# --- legends that fit ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(400, 300), (640, 360), (800, 600), (1280, 720), (1920, 1080)])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_legend_labels_are_whole_and_inside_their_box(size: tuple[int, int], lang: str) -> None:
    scene = long_label_scene(lang)
    renderer = FrameRenderer(scene, *size)
    legend = renderer.legend
    assert legend is not None
    for entry in legend.entries:
        joined = " ".join(entry.lines)
        assert joined == entry.label or "".join(entry.lines) == entry.label
        assert all("…" not in line for line in entry.lines)
    drawn = [text for text, _ in renderer.legend_texts]
    assert "Nesterov (NAG), η = 0.000123" in drawn or "η = 0.000123" in drawn
    left, _, right, _ = legend.box
    for text, (x0, y0, x1, y1) in renderer.legend_texts:
        assert left - 1 <= x0 and x1 <= right + 1, (text, legend.box)
        assert y0 >= 0 and y1 <= size[1], text
    assert not overlaps(legend.box, panel_box(renderer))
    if renderer.colorbar is not None:
        assert not overlaps(legend.box, renderer.colorbar)
        assert not overlaps(legend.box, renderer.colorbar_title[1])


# --- marker shapes and step dots ----------------------------------------------------------------


def _mask(symbol: str, r: float = 20) -> np.ndarray:
    image = Image.new("L", (100, 100), 0)
    draw_symbol(ImageDraw.Draw(image), symbol, 50, 50, r, 255, 255)
    return np.asarray(image) > 0


def test_every_run_symbol_is_its_own_shape_of_about_one_size() -> None:
    symbols = list(dict.fromkeys([*OPTIMIZER_SYMBOLS.values(), *SYMBOL_CYCLE]))
    masks = {s: _mask(s) for s in symbols}
    circle = masks["circle"].sum()
    for symbol, mask in masks.items():
        assert 0.5 * circle <= mask.sum() <= 1.6 * circle, symbol
    for a, b in itertools.combinations(symbols, 2):
        union = (masks[a] | masks[b]).sum()
        # A hexagon is the roundest: about 8 % of the pair's pixels still tell it apart.
        assert (masks[a] & masks[b]).sum() / union < 0.93, (a, b)


def test_heads_and_legend_entries_carry_the_run_symbol() -> None:
    def head_matches(symbol: str) -> dict[str, float]:
        """How well the drawn head overlaps each reference shape drawn at its place
        (palette mode: exact pixels; the right half, away from the path behind it)."""
        scene = circle_scene(((-2.0, 2.0), (-2.0, 2.0)))
        scene.runs[0].symbol = symbol
        renderer = FrameRenderer(scene, 1920, 1080, mode="P")
        panel, r = renderer._panels[0], renderer.head_radius
        pixels = np.asarray(renderer.frame(scene.steps))[panel.y0 :, panel.x0 :]
        x, y = renderer._pixels[0][-1]
        inks = (renderer.ink(OKABE_ITO[0]), renderer.ink("#000000"))
        window = (slice(round(y) - 2 * r, round(y) + 2 * r), slice(round(x), round(x) + 2 * r))
        head = np.isin(pixels[window], inks)
        scores = {}
        for shape in ("circle", "square"):
            reference = Image.new("L", (pixels.shape[1], pixels.shape[0]), 0)
            draw_symbol(ImageDraw.Draw(reference), shape, x, y, r, 255, 255)
            mask = np.asarray(reference)[window] > 0
            scores[shape] = (head & mask).sum() / (head | mask).sum()
        return scores

    square, circle = head_matches("square"), head_matches("circle")
    assert square["square"] > 0.9 and square["square"] > square["circle"]
    assert circle["circle"] > 0.9 and circle["circle"] > circle["square"]
    scene = long_label_scene()
    renderer = FrameRenderer(scene, 1280, 720)
    assert renderer.legend is not None
    assert [e.symbol for e in renderer.legend.entries[:6]] == [r.symbol for r in scene.runs]


def test_step_dots_mark_every_kth_step_along_the_path() -> None:
    # The page's rule: a round k giving about 28 dots (dotEvery in static/js/plot.js).
    assert [dot_every(n) for n in (20, 60, 120, 300, 1000)] == [1, 5, 5, 20, 50]
    assert FrameRenderer(circle_scene(((-2.0, 2.0), (-2.0, 2.0))), 320, 240).dot_every == 20
    scene = circle_scene(((-2.0, 2.0), (-2.0, 2.0)), steps=60)
    with_dots = FrameRenderer(scene, 1920, 1080)
    assert with_dots.dot_every == 5
    without = FrameRenderer(scene, 1920, 1080)
    without.dot_every = 10**9
    dotted = np.asarray(with_dots.frame(scene.steps)).astype(int)
    plain = np.asarray(without.frame(scene.steps)).astype(int)
    x0, y0, x1, _ = panel_box(with_dots)
    row = y0 + round(with_dots._pixels[0][0, 1] / with_dots.scale)
    # Just above the line, only the dots differ: one blob per dot at steps 5, 10, …, 55
    # (the head covers the one at 60; the start has none).
    edge = with_dots.line_width // 2 + 1
    near = slice(row - edge - 1, row - edge + 1)
    changed = (np.abs(dotted[near, x0:x1] - plain[near, x0:x1]).sum(axis=2) > 60).any(axis=0)
    assert len(_runs_of(changed)) == 11


# --- file names -----------------------------------------------------------------------------------


def test_file_names_name_the_scene() -> None:
    names = [
        download_name(preset_request(p, format="gif"))
        for p in ("ill_conditioned", "divergence", "warmup")
    ]
    assert names == [
        "gradscape-ill_conditioned.gif",
        "gradscape-divergence.gif",
        "gradscape-warmup.gif",
    ]
    body = {
        "landscape": "rosenbrock",
        "runs": [{"optimizer": "sgd"}, {"optimizer": "adam"}, {"optimizer": "sgd"}],
        "format": "mp4",
    }
    assert download_name(ExportRequest.model_validate(body)) == "gradscape-rosenbrock-sgd-adam.mp4"
    for preset in presets.PRESETS:
        name = download_name(preset_request(preset.id, format="html"))
        assert re.fullmatch(r"gradscape-[a-z0-9_-]+\.html", name)


# --- the API and the CLI take the same options ----------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Any:
    with LocalClient(create_app()) as test_client:
        yield test_client


def test_the_api_exports_a_clip_named_after_its_preset(client: TestClient) -> None:
    body = {
        **presets.get("warmup").request(),
        "preset": "warmup",
        "lang": "ja",
        "format": "gif",
        "width": 160,
        "height": 120,
        "duration": 3,
        "fps": 10,
    }
    job = client.post("/api/exports", json=body).json()
    for _ in range(2000):
        job = client.get(f"/api/exports/{job['id']}").json()
        if job["status"] in ("done", "error"):
            break
    assert job["status"] == "done", job
    assert job["filename"] == "gradscape-warmup.gif"
    download = client.get(f"/api/exports/{job['id']}/file")
    assert download.headers["content-disposition"] == 'attachment; filename="gradscape-warmup.gif"'
    with Image.open(__import__("io").BytesIO(download.content)) as gif:
        assert gif.n_frames == 30


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"duration": 0.5}, ["duration must be between 1 and 120, got 0.5"]),
        ({"duration": 500}, ["duration must be between 1 and 120"]),
        ({"duration": 40, "fps": 60}, ["duration", f"{MAX_EXPORT_FRAMES} frames", "33.33 s"]),
        ({"duration": 5, "frames": 50}, ["frames", "duration", "not both"]),
        ({"fps": 0}, ["fps must be between 1 and 60, got 0"]),
    ],
)
def test_bad_clip_options_are_422s_naming_the_field(
    client: TestClient, extra: dict[str, Any], words: list[str]
) -> None:
    body = {**presets.get("saddle").request(), "format": "gif", **extra}
    reply = client.post("/api/exports", json=body)
    assert reply.status_code == 422
    text = str(reply.json())
    for word in words:
        assert word in text, text


def _request(*argv: str) -> dict[str, Any]:
    args = build_parser().parse_args(["export", *argv])
    return build_request(args)


def test_cli_preset_sets_the_whole_scene_and_flags_override_parts() -> None:
    preset = presets.get("warmup")
    body = _request("--preset", "warmup", "-o", "x.gif")
    assert body["preset"] == "warmup" and body["landscape"] == preset.landscape
    assert [r["optimizer"] for r in body["runs"]] == list(preset.optimizers)
    assert [r["params"] for r in body["runs"]] == [preset.params[n] for n in preset.optimizers]
    assert body["start"] == list(preset.start) and body["steps"] == preset.steps
    assert (body["noise"], body["seed"]) == (preset.noise, preset.seed)
    assert body["schedule"] == preset.schedule
    noisy = _request("--preset", "noise", "-o", "x.gif")
    assert (noisy["noise"], noisy["seed"]) == (3.0, 1)

    changed = _request(
        "--preset", "warmup", "--steps", "50", "--lr", "adam=0.1", "--warmup", "5", "-o", "x.gif"
    )
    assert changed["steps"] == 50
    lrs = {r["optimizer"]: r["params"]["lr"] for r in changed["runs"]}
    assert lrs == {"sgd": 0.95, "momentum": 0.2, "adam": 0.1}
    assert changed["schedule"] == {**preset.schedule, "warmup": 5}
    replaced = _request("--preset", "warmup", "--schedule", "step", "-o", "x.gif")
    assert replaced["schedule"] == {"kind": "step"}


def test_cli_writes_the_scene_named_file_with_its_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["--width", "160", "--height", "120", "--duration", "2", "--fps", "5", "-q"]
    assert main(["export", "--preset", "ill_conditioned", "--format", "mp4", *argv]) == 0
    meta, frames = decode_mp4(tmp_path / "gradscape-ill_conditioned.mp4")
    assert len(frames) == 10 and meta["fps"] == 5
    assert main(["export", "--optimizers", "sgd,adam", "--steps", "5", *argv]) == 0
    assert (tmp_path / "gradscape-rosenbrock-sgd-adam.gif").is_file()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--preset", "nope"], ["unknown preset 'nope'", "warmup", "saddle"]),
        (["--duration", "0.2"], ["duration must be between 1 and 120, got 0.2"]),
        (["--duration", "100", "--fps", "30"], ["duration", "2000 frames", "66.67 s"]),
        (["--duration", "5", "--frames", "10"], ["frames", "not both"]),
    ],
)
def test_cli_clip_and_preset_mistakes_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", *argv, "-o", str(tmp_path / "x.gif")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("gradscape export: error: ") and err.count("\n") == 1
    for word in words:
        assert word in err, err


# --- the HTML handout --------------------------------------------------------------------------


def test_the_handout_has_equal_scale_a_colour_bar_and_run_shapes(tmp_path: Path) -> None:
    from app.export.html import GRID_RESOLUTION, build_figure

    scene = build_scene(preset_request("rosenbrock", lang="ja"))
    figure = build_figure(scene, frames=5)
    layout = figure["layout"]
    assert layout["yaxis"]["scaleanchor"] == "x" and layout["yaxis"]["scaleratio"] == 1
    (contour,) = [t for t in figure["data"] if t["type"] == "contour"]
    assert contour["showscale"]
    bar = contour["colorbar"]
    assert bar["title"]["text"] == ui_words("ja")["plot.colorLog"]
    _, _, colour = scene.color_grid(GRID_RESOLUTION)
    ticks = log_ticks(float(np.nanmin(colour)), float(np.nanmax(colour)))
    assert bar["ticktext"] == [text for _, text in ticks] and len(ticks) >= 3
    heads = [t for t in figure["data"] if t.get("legendgroup", "").startswith("run")]
    shown = [t for t in heads if t.get("showlegend", True)]
    assert [t["marker"]["symbol"] for t in shown] == [r.symbol for r in scene.runs]
    # The preset's heading is the title above the figure; the figure does not repeat it.
    assert layout["title"]["text"] == ""
    side = build_figure(
        build_scene(preset_request("saddle", layout="side_by_side")),
        frames=5,
        layout="side_by_side",
    )
    anchors = {k: v["scaleanchor"] for k, v in side["layout"].items() if k.startswith("yaxis")}
    assert len(anchors) >= 4
    assert all(anchor == "x" + key.removeprefix("yaxis") for key, anchor in anchors.items())
    assert sum(t.get("showscale", False) for t in side["data"] if t["type"] == "contour") == 1


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_cli_default_frame_is_mostly_plot(lang: str) -> None:
    """800×600 (the CLI's default size): a wide landscape took 37 % of the frame, a square
    one 42 %, the rest white. The colour bar lies under a wide plot and the legend wraps
    between words beside a square one, so the plot uses the frame."""
    from app.schemas import HEIGHT, WIDTH

    assert (WIDTH.default, HEIGHT.default) == (800, 600)
    minimum = {"warmup": 0.55, "ill_conditioned": 0.55, "saddle": 0.44, "rastrigin": 0.44}
    for preset, fraction in minimum.items():
        scene = build_scene(preset_request(preset, lang=lang, format="gif", width=800, height=600))
        renderer = FrameRenderer(scene, 800, 600, mode="P")
        (panel,) = renderer._panels
        assert panel.w * panel.h / (800 * 600) >= fraction, preset
        # Everything still in the frame and clear of the plot: colour bar, legend, title.
        assert renderer.colorbar is not None and renderer.legend is not None
        for left, top, right, bottom in (renderer.colorbar, renderer.legend.box):
            assert left >= 0 and right <= 800 and top >= 0 and bottom <= 600
            inside = left < panel.x0 + panel.w and panel.x0 < right
            assert not (inside and top < panel.y0 + panel.h and panel.y0 < bottom), preset
        for entry in renderer.legend.entries:  # broken between words, never inside one
            assert " ".join(entry.lines) == entry.label
