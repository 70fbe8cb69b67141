"""The HTML handout in headless Chromium, opened from disk: it plays offline.

Chromium comes from the browser tests' shared fixture: missing, it fails (never a skip).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from app.export.html import handout_steps
from app.export.pipeline import run_export
from app.schemas import ExportRequest

pytestmark = pytest.mark.browser
FRAMES = 12
SHOWN = len(handout_steps(60, FRAMES))  # frames on round steps: 0, 5, 10, …, 60
SADDLE_STEPS = handout_steps(200, 40)  # 0, 5, …, 200
LAST = len(SADDLE_STEPS) - 1
PLOT = "document.querySelector('.js-plotly-plot')"


@pytest.fixture(scope="module")
def handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    request = ExportRequest.model_validate(
        {
            "landscape": "rosenbrock",
            "steps": 60,
            "runs": [{"optimizer": "adam", "params": {"lr": 0.05}}, {"optimizer": "momentum"}],
            "format": "html",
            "frames": FRAMES,
            "fps": 30,
            "layout": "side_by_side",
        }
    )
    return run_export(request, tmp_path_factory.mktemp("html") / "handout.html")


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A tab, the URLs it requested and the errors its scripts raised (uncaught exceptions
    and unhandled promise rejections: Plotly.animate rejects when a frame is interrupted)."""
    tab = browser.new_page()
    requested: list[str] = []
    errors: list[str] = []
    tab.on("request", lambda r: requested.append(r.url))
    tab.on("pageerror", lambda e: errors.append(f"{e.name}: {e.message}"))
    try:
        yield tab, requested, errors
    finally:
        tab.close()


def path_length(tab: Page, trace: int) -> int:
    return int(tab.evaluate(f"{PLOT}._fullData[{trace}].x.length"))


def test_handout_plays_and_scrubs_offline(
    handout: Path, page: tuple[Page, list[str], list[str]]
) -> None:
    tab, requested, errors = page
    tab.goto(handout.as_uri())
    tab.wait_for_function(f"{PLOT} && {PLOT}._fullLayout && {PLOT}._transitionData")
    # The last run's path (its step dots and head follow it).
    last_path = int(tab.evaluate(f"{PLOT}._fullData.findLastIndex(t => t.mode === 'lines')"))
    assert path_length(tab, last_path) == 1  # frame 0: only the start point
    assert int(tab.evaluate(f"Object.keys({PLOT}._transitionData._frameHash).length")) == SHOWN

    tab.get_by_text("Play").click()
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === {SHOWN - 1}")
    assert path_length(tab, last_path) == 61  # every step of the final frame

    slider = tab.locator(".slider-rail-rect").first
    box = slider.bounding_box()
    assert box is not None
    tab.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # scrub back to the start
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === 0")
    assert path_length(tab, last_path) == 1

    assert requested == [handout.as_uri()]  # nothing else was fetched
    assert errors == []


CONTOUR_PATHS = "document.querySelectorAll('.contourlayer path').length"
CONTOUR_TRACES = f"{PLOT}.data.filter(t => t.type === 'contour' && t.z).length"
LOSS_CURSOR = "document.getElementById('handout-loss').layout.shapes[0].x0"
# Samples the contour on every animation frame the browser paints, so a frame that drops it
# (even one redrawn a moment later) is caught, not only the frames a test happens to stop on.
SAMPLE_CONTOUR = f"""() => {{
    window.contourSamples = [];
    const sample = () => {{
        window.contourSamples.push({CONTOUR_PATHS});
        window.sampler = requestAnimationFrame(sample);
    }};
    sample();
}}"""


@pytest.fixture(scope="module", params=["overlay", "side_by_side"])
def saddle_handout(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Issue 10's scene: the saddle preset's four optimizers, where the contour went blank."""
    body = {
        "landscape": "saddle",
        "start": [-1.8, 0.001],
        "steps": 200,
        "runs": [
            {"optimizer": name, "params": {"lr": 0.01}}
            for name in ("sgd", "momentum", "rmsprop", "adam")
        ],
        "format": "html",
        "frames": 40,
        "fps": 30,
        "layout": request.param,
    }
    folder = tmp_path_factory.mktemp(f"saddle-{request.param}")
    return run_export(ExportRequest.model_validate(body), folder / "handout.html")


def test_contour_stays_through_play_pause_and_scrub(
    saddle_handout: Path, page: tuple[Page, list[str], list[str]]
) -> None:
    tab, requested, errors = page
    tab.goto(saddle_handout.as_uri())
    tab.wait_for_function(f"{PLOT} && {PLOT}._fullLayout && {PLOT}._transitionData")
    drawn = int(tab.evaluate(CONTOUR_PATHS))
    panels = int(tab.evaluate(CONTOUR_TRACES))
    assert panels == (4 if "side_by_side" in saddle_handout.parent.name else 1)
    assert drawn >= 10 * panels  # filled bands and their lines, in every panel

    tab.evaluate(SAMPLE_CONTOUR)
    tab.get_by_text("Play").click()
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active >= 10")
    tab.get_by_text("Pause").click()
    paused_at = int(tab.evaluate(f"{PLOT}._fullLayout.sliders[0].active"))
    assert 10 <= paused_at < LAST
    assert int(tab.evaluate(CONTOUR_PATHS)) == drawn
    # The loss chart's cursor stands on the step the plot shows.
    assert tab.evaluate(LOSS_CURSOR) == SADDLE_STEPS[paused_at]

    tab.get_by_text("Play").click()  # resumes from the paused frame to the end
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === {LAST}")
    assert int(tab.evaluate(CONTOUR_PATHS)) == drawn

    rail = tab.locator(".slider-rail-rect").first
    box = rail.bounding_box()
    assert box is not None
    for fraction in (0.0, 0.25, 0.5, 0.75):  # click to a frame, then drag along the rail
        tab.mouse.click(box["x"] + 2 + fraction * (box["width"] - 4), box["y"] + box["height"] / 2)
        tab.wait_for_timeout(50)
        assert int(tab.evaluate(CONTOUR_PATHS)) == drawn
    tab.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    tab.mouse.down()
    for x in range(10):
        tab.mouse.move(box["x"] + (box["width"] - 4) * x / 9, box["y"] + box["height"] / 2, steps=3)
    tab.mouse.up()
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === {LAST}")
    samples = tab.evaluate("cancelAnimationFrame(window.sampler) || window.contourSamples")
    assert len(samples) > 20
    assert min(samples) == drawn  # no painted frame lost (or redrew part of) the contour
    assert int(tab.evaluate(CONTOUR_TRACES)) == panels
    assert tab.evaluate(LOSS_CURSOR) == 200
    assert requested == [saddle_handout.as_uri()]

    # Scrub while it plays (interrupting a frame), then pause while it plays: no script error.
    tab.get_by_text("Play").click()
    tab.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    tab.get_by_text("Play").click()
    tab.wait_for_timeout(100)
    tab.get_by_text("Pause").click()
    tab.wait_for_timeout(200)
    assert errors == []


def test_page_exports_a_handout_in_its_language_with_its_preset_lesson(
    app_page: Any, tmp_path: Path
) -> None:
    from app import presets

    gs = app_page.open("preset=saddle&lang=ja")
    bodies: list[dict[str, Any]] = []
    gs.page.on(
        "request",
        lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/exports") else None,
    )
    with gs.page.expect_download(timeout=120_000) as info:
        gs.testid("export-html").click()
    assert [(b["lang"], b["preset"]) for b in bodies] == [("ja", "saddle")]
    target = tmp_path / "handout.html"
    info.value.save_as(target)
    document = target.read_text(encoding="utf-8")
    assert '<html lang="ja">' in document
    assert html.escape(presets.get("saddle").text["ja"]) in document
    gs.assert_clean()


@pytest.fixture(scope="module")
def divergence_handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tester's handout: the divergence preset in Japanese, at the page's default clip."""
    from app import presets

    body = {**presets.get("divergence").request(), "preset": "divergence", "lang": "ja"}
    request = ExportRequest.model_validate({**body, "format": "html"})
    return run_export(request, tmp_path_factory.mktemp("div") / "handout.html")


COLOUR_BAR_AND_PLOT = f"""() => {{
    const gd = {PLOT}, box = gd.getBoundingClientRect(), y = gd._fullLayout.yaxis;
    const bar = gd.querySelector('.cbfills').getBoundingClientRect();
    return {{
        bar: [bar.top - box.top, bar.bottom - box.top],
        plot: [y._offset, y._offset + y._length],
    }};
}}"""


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_handout_colour_bar_spans_the_plot_and_the_slider_labels_round_steps(
    divergence_handout: Path, page: tuple[Page, list[str], list[str]], size: tuple[int, int]
) -> None:
    tab, _, errors = page
    tab.set_viewport_size({"width": size[0], "height": size[1]})
    tab.goto(divergence_handout.as_uri())
    tab.wait_for_function(f"{PLOT} && {PLOT}._fullLayout && document.querySelector('.round-label')")
    tab.wait_for_timeout(300)  # the colour bar moves beside the plot after the first layout
    placed = tab.evaluate(COLOUR_BAR_AND_PLOT)
    assert placed["bar"][0] == pytest.approx(placed["plot"][0], abs=2)  # top
    assert placed["bar"][1] == pytest.approx(placed["plot"][1], abs=2)  # bottom
    labels = [
        int(t)
        for t in tab.evaluate(
            "[...document.querySelectorAll('.round-label')].map(e => e.textContent)"
        )
    ]
    assert labels[0] == 0 and labels[-1] == 100 and len(labels) >= 5
    gaps = {b - a for a, b in itertools.pairwise(labels)}
    assert len(gaps) == 1 and gaps.pop() in (5, 10, 20, 25, 50)  # 0, 10, 20, … not 0, 7, 14
    # Plotly's own labels (every n-th frame) stay hidden.
    assert (
        tab.evaluate("getComputedStyle(document.querySelector('.slider-labels')).display") == "none"
    )
    assert errors == []
