"""The frame renderer on hand-made scenes: layout, colours, incremental drawing, GIF stream."""

from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from app.export.data import ExportRun, ExportScene, Marker, csv_names, frame_steps, run_labels
from app.export.html import (
    MIN_POINTS_PER_FRAME,
    POINT_BUDGET,
    _path,
    build_figure,
    handout_steps,
    write_html,
)
from app.export.render import (
    CONTOUR_LEVELS,
    FrameRenderer,
    colorscale_lut,
    hex_rgb,
    nice_ticks,
)
from app.export.video import TRANSPARENT, even_size, write_gif
from app.palette import OKABE_ITO
from app.schemas import RunStatus

W, H = 200, 150


def make_scene(steps: int = 40, runs: int = 3, diverge_run: int | None = None) -> ExportScene:
    x = np.linspace(-2.0, 2.0, 64)
    y = np.linspace(-1.0, 3.0, 64)
    xx, yy = np.meshgrid(x, y)
    color = np.log10((1 - xx) ** 2 + 100 * (yy - xx**2) ** 2 + 1e-3)
    t = np.linspace(0.0, 1.0, steps + 1)[:, None]
    scene_runs = []
    for k in range(runs):
        points = np.hstack([-1.5 + 2.5 * t ** (0.5 + 0.3 * k), 2.0 - 1.0 * t])
        diverged_at = None
        if k == diverge_run:
            diverged_at = steps // 2
            points = points[:diverged_at]
        scene_runs.append(
            ExportRun(
                optimizer=f"opt{k}",
                label=f"opt{k}",
                color=OKABE_ITO[k % len(OKABE_ITO)],
                params={"lr": 0.01},
                points=points,
                losses=np.ones(len(points)),
                diverged_at=diverged_at,
            )
        )
    return ExportScene(
        landscape="test",
        title="Test bowl",
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        start=(-1.5, 2.0),
        steps=steps,
        runs=scene_runs,
        minima=[Marker(1.0, 1.0, "global", 0.0)],
        user_title="lecture 1",
        color_grid=lambda resolution: (x, y, color),
    )


@pytest.mark.parametrize(("steps", "frames"), [(0, 5), (1, 2), (10, 11), (10, 50), (300, 150)])
def test_frame_steps_cover_both_ends_without_repeats(steps: int, frames: int) -> None:
    shown = frame_steps(steps, frames)
    assert len(shown) == min(frames, steps + 1)
    assert shown[0] == 0 or steps == 0
    assert shown[-1] == steps
    assert np.all(np.diff(shown) > 0)


def test_nice_ticks_are_round_and_inside() -> None:
    assert nice_ticks(-2.0, 2.0) == [-2.0, -1.0, 0.0, 1.0, 2.0]
    ticks = nice_ticks(-4.5, 4.5)
    assert all(-4.5 <= t <= 4.5 for t in ticks) and 4 <= len(ticks) <= 10


def test_labels_tell_repeated_optimizers_apart() -> None:
    assert csv_names(["adam", "sgd", "adam"]) == ["adam#1", "sgd", "adam#2"]
    labels = run_labels(["adam", "nag", "adam"], [{"lr": 0.05}, {"lr": 0.01}, {"lr": 0.1}])
    assert labels == ["Adam #1, η = 0.05", "Nesterov (NAG), η = 0.01", "Adam #2, η = 0.1"]


@pytest.mark.parametrize("mode", ["RGB", "P"])
@pytest.mark.parametrize("layout", ["overlay", "side_by_side"])
def test_frames_have_the_requested_size_and_mode(mode: str, layout: str) -> None:
    renderer = FrameRenderer(make_scene(), W, H, layout, mode)
    image = renderer.frame(10)
    assert image.size == (W, H)
    assert image.mode == mode


def test_incremental_frames_equal_frames_drawn_from_scratch() -> None:
    scene = make_scene(diverge_run=1)
    sequential = FrameRenderer(scene, W, H)
    frames = {step: np.asarray(sequential.frame(step)) for step in (0, 7, 19, 33, 40)}
    for step, expected in frames.items():
        fresh = np.asarray(FrameRenderer(scene, W, H).frame(step))
        np.testing.assert_array_equal(fresh, expected)
    # Going back in time redraws rather than showing later segments.
    np.testing.assert_array_equal(np.asarray(sequential.frame(7)), frames[7])


def test_paths_grow_between_frames() -> None:
    renderer = FrameRenderer(make_scene(), W, H)
    first, last = np.asarray(renderer.frame(0)), np.asarray(renderer.frame(40))
    changed = (first != last).any(axis=2).sum()
    assert changed > 100


def test_background_uses_the_page_colour_scale_and_run_colours() -> None:
    scene = make_scene()
    renderer = FrameRenderer(scene, 400, 300)
    pixels = np.asarray(renderer.frame(scene.steps)).reshape(-1, 3)
    colours = {tuple(int(v) for v in p) for p in np.unique(pixels, axis=0)}
    lut = {tuple(int(v) for v in c) for c in colorscale_lut(CONTOUR_LEVELS)}
    assert len(lut & colours) >= CONTOUR_LEVELS // 2  # the contour bands
    for run in scene.runs:
        assert hex_rgb(run.color) in colours  # paths and legend


def test_viridis_lut_runs_from_dark_purple_to_yellow() -> None:
    lut = colorscale_lut(CONTOUR_LEVELS)
    assert lut.shape == (CONTOUR_LEVELS, 3)
    assert lut[0, 2] > lut[0, 1]  # purple-blue end
    assert lut[-1, 0] > 200 and lut[-1, 1] > 200  # yellow end


def test_palette_mode_leaves_the_transparent_index_free() -> None:
    renderer = FrameRenderer(make_scene(runs=6), W, H, "side_by_side", "P")
    assert TRANSPARENT not in np.unique(np.asarray(renderer.frame(20)))


@pytest.mark.parametrize("arrows", [False, True])
def test_no_arrow_legend_without_a_recording_run(arrows: bool) -> None:
    # No run records (arrows asked for or not): nothing to draw, so no empty legend box.
    renderer = FrameRenderer(make_scene(), 400, 300, arrows=arrows)
    plain = np.asarray(renderer.frame(20))
    assert renderer.arrow_boxes == [] and renderer.arrow_texts == []
    clean = FrameRenderer(make_scene(), 400, 300)
    np.testing.assert_array_equal(np.asarray(clean.frame(20)), plain)


def test_far_away_and_diverged_points_do_not_break_drawing() -> None:
    scene = make_scene(diverge_run=0)
    scene.runs[1].points = scene.runs[1].points * 1e5  # far off the plot
    renderer = FrameRenderer(scene, W, H)
    assert renderer.frame(scene.steps).size == (W, H)


def _title_band(user_title: str) -> tuple[np.ndarray, np.ndarray, FrameRenderer]:
    """(title band, the rest of the frame) as pixel arrays, for a scene with this title."""
    scene = make_scene()
    scene.user_title = user_title
    renderer = FrameRenderer(scene, 640, 360)
    pixels = np.asarray(renderer.frame(5).convert("RGB"))
    band = renderer.band_height
    return pixels[:band], pixels[band:], renderer


def test_user_title_is_drawn_as_text_of_any_script() -> None:
    latin, latin_rest, renderer = _title_band("../../etc/passwd <script>")
    other, other_rest, _ = _title_band("../../etc/passwd <scrip>")
    mixed, _, mixed_renderer = _title_band("../../etc/passwd <script> 学習率")
    cjk, _, _ = _title_band("../../etc/passwd <script> 学習習")
    # The title goes in the band above the plot, and nowhere else.
    assert np.array_equal(latin_rest, other_rest)
    assert not np.array_equal(latin, other)
    # It replaces the landscape's own title: one line, drawn whole, left of the counter.
    assert renderer.title_shown == "../../etc/passwd <script>"
    ink = np.nonzero((latin != 255).any(axis=(0, 2)))[0]
    assert ink[0] < 2 * renderer.pad
    room = renderer.width - renderer.counter_text_width - renderer.pad
    title_ink = ink[ink < room]
    assert title_ink.max() < room
    # Japanese glyphs are drawn as themselves: two different characters differ (a font
    # without them would draw the same empty box for both).
    assert mixed_renderer.title_shown.endswith("学習率")
    assert not np.array_equal(mixed, cjk)


def test_streamed_gif_has_every_frame_and_the_same_pictures(tmp_path: Path) -> None:
    scene = make_scene()
    path = tmp_path / "scene.gif"
    count = write_gif(scene, path, width=W, height=H, fps=10, frames=10, layout="overlay")
    assert count == 10
    renderer = FrameRenderer(scene, W, H, mode="P")
    steps = frame_steps(scene.steps, 10)
    with Image.open(path) as gif:
        assert gif.n_frames == 10
        assert gif.size == (W, H)
        assert gif.info["loop"] == 0
        for k in (0, 4, 9):
            gif.seek(k)
            expected = renderer.frame(int(steps[k])).convert("RGB")
            np.testing.assert_array_equal(np.asarray(gif.convert("RGB")), np.asarray(expected))


def test_mp4_dimensions_are_made_even() -> None:
    assert even_size(201, 151) == (200, 150)
    assert even_size(200, 150) == (200, 150)


def test_a_run_without_finite_points_still_renders(tmp_path: Path) -> None:
    scene = make_scene()
    scene.runs[0].points = np.zeros((0, 2))
    scene.runs[0].losses = np.zeros(0)
    scene.runs[0].diverged_at = 0
    # The handout's status table reads each run's status, as build_scene's runs carry it.
    for k, run in enumerate(scene.runs):
        code = "diverged" if k == 0 else "moving"
        status = RunStatus(code=code, step=0 if k == 0 else None, text={"en": code})
        run.result = SimpleNamespace(status=status)
    assert FrameRenderer(scene, W, H, "side_by_side").frame(scene.steps).size == (W, H)
    write_html(scene, tmp_path / "empty.html", frames=5, frame_ms=200)
    assert "Plotly.addFrames" in (tmp_path / "empty.html").read_text(encoding="utf-8")


def test_html_paths_are_thinned_prefixes_with_exact_heads() -> None:
    points = np.column_stack([np.arange(5001.0), np.zeros(5001)])
    for step in (0, 1, 77, 4999, 5000, 9000):
        path = _path(points, step, stride=40)
        last = min(step, 5000)
        assert path[-1, 0] == last  # the head is the exact point of that step
        assert path[0, 0] == 0
        assert np.all(np.diff(path[:, 0]) > 0)
        assert len(path) <= last // 40 + 2


def test_html_size_stays_bounded_for_long_runs() -> None:
    scene = make_scene(steps=10_000, runs=12)
    figure = build_figure(scene, frames=2000, frame_ms=50)
    shown = len(handout_steps(10_000, 2000))  # every 5th step: 2001 frames
    assert len(figure["frames"]) == shown
    per_frame = max(MIN_POINTS_PER_FRAME, POINT_BUDGET // (shown * 12))
    stored = 0
    for frame in figure["frames"]:
        for trace in frame["data"]:
            if "x" not in trace:
                continue  # a contour, named (empty) so Plotly keeps it drawn
            count = len(base64.b64decode(trace["x"]["bdata"])) // 4  # float32
            # A path (thinned), its step dots (fewer) or its head.
            assert count <= per_frame + 1
            stored += 2 * len(trace["x"]["bdata"])
    assert stored < 16_000_000  # the largest possible handout stays a mailable file


def test_handout_frames_fall_on_round_steps() -> None:
    """The slider labels frames: 0, 5, 10, … (never 0, 7, 14, 22, 29 as with evenly spread
    frames), at least as many frames as asked, both ends kept."""
    assert handout_steps(200, 40).tolist() == list(range(0, 201, 5))
    assert handout_steps(200, 201).tolist() == list(range(201))
    assert handout_steps(7, 3).tolist() == [0, 2, 4, 6, 7]
    for steps, frames in ((60, 12), (1000, 204), (10_000, 2000), (30, 10)):
        shown = handout_steps(steps, frames)
        every = int(shown[1])
        assert every in (1, 2, 5, 10, 20, 50) and shown[-1] == steps
        assert frames <= len(shown) <= 2.5 * frames + 1


def _say(lang: str, key: str) -> str:
    from app.export.data import ui_words

    return ui_words(lang)[key]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_runs_ending_on_one_point_fan_out_and_say_so_as_the_page(lang: str) -> None:
    """Every run of make_scene ends at (1, 1): one marker on top of the others hid them."""
    scene = make_scene(runs=3)
    scene.lang = lang
    renderer = FrameRenderer(scene, 400, 300)
    renderer.frame(scene.steps)
    heads = list(renderer.heads_drawn.values())
    assert len(heads) == 3
    r = renderer.head_radius
    for i, a in enumerate(heads):
        for b in heads[i + 1 :]:
            assert np.hypot(a[0] - b[0], a[1] - b[1]) >= 1.8 * r  # apart: each one seen
    # The page's note (static/i18n plot.endedAt), in the scene's language.
    template = _say(lang, "plot.endedAt")
    (note,) = renderer.notes_shown
    assert note.startswith(template.split("{count}")[0] + "3")
    assert "(1" in note and ", 1" in note
    # Heads meeting in passing are fanned out but get no note.
    renderer.frame(scene.steps - 1)
    assert renderer.notes_shown == []


@pytest.mark.parametrize(
    ("lang", "expected"), [("en", "opt1: diverged at step 20"), ("ja", "opt1: ステップ 20 で発散")]
)
def test_a_diverged_run_gets_a_note_in_the_scenes_language(lang: str, expected: str) -> None:
    scene = make_scene(runs=3, diverge_run=1)
    scene.lang = lang
    renderer = FrameRenderer(scene, 400, 300, mode="P")
    renderer.frame(10)
    assert renderer.notes_shown == []
    renderer.frame(scene.steps)
    assert expected in renderer.notes_shown


def test_runs_that_leave_the_view_are_named_with_their_step() -> None:
    from app import presets
    from app.export.data import build_scene
    from app.schemas import ExportRequest

    body = {**presets.get("saddle").request(), "preset": "saddle", "format": "png"}
    scene = build_scene(ExportRequest.model_validate({**body, "width": 400, "height": 300}))
    renderer = FrameRenderer(scene, 400, 300)
    renderer.frame(scene.steps)
    left = {"momentum", "rmsprop", "adam"}
    assert len(renderer.notes_shown) == len(left)
    for run in scene.runs:
        if run.optimizer in left:
            outside = (np.abs(run.points) > 2).any(axis=1)
            step = int(np.flatnonzero(outside)[0])
            assert f"{run.name} left the view at step {step}" in renderer.notes_shown


def test_ranges_mirror_the_pages_rule() -> None:
    """Numbers static/js/ranges.js gives for the same input (its twin: app/export/ranges)."""
    from app.export.ranges import (
        clip_series,
        landscape_range,
        loss_band,
        short_number,
        superscript_power,
    )

    own = landscape_range(np.array([[-4.0, 0.0], [4.0, np.nan]]))
    assert (own.min, own.max, own.span) == (-4.0, 4.0, 8.0)
    assert loss_band(own, None) == (-84.0, 84.0)
    assert loss_band(own, -4.0) == (0.0, 80.0)
    clipped, off = clip_series(np.array([1.0, -50.0, -90.0, -1e11]), -84.0, 84.0)
    assert off is not None and (off.step, off.side) == (2, "below")
    assert clipped[:3].tolist() == [1.0, -50.0, -84.0] and np.isnan(clipped[3])
    assert clip_series(np.array([1.0, 2.0]), 0.0, 3.0)[1] is None
    assert [short_number(v) for v in (-84.0, 300.0, 25_000.0, 0.5)] == [
        "−84",
        "300",
        "2.5e4",
        "0.5",
    ]
    assert [superscript_power(k) for k in (-2, -1, 0, 1, 2)] == ["10⁻²", "10⁻¹", "1", "10", "10²"]
