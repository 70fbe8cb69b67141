"""The HTML handout in headless Chromium, opened from disk: it plays offline.

Chromium comes from the browser tests' shared fixture: missing, it fails (never a skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from app.export.pipeline import run_export
from app.schemas import ExportRequest

pytestmark = pytest.mark.browser
FRAMES = 12
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
def page(browser: Any) -> Iterator[tuple[Page, list[str]]]:
    tab = browser.new_page()
    requested: list[str] = []
    tab.on("request", lambda r: requested.append(r.url))
    try:
        yield tab, requested
    finally:
        tab.close()


def path_length(tab: Page, trace: int) -> int:
    return int(tab.evaluate(f"{PLOT}._fullData[{trace}].x.length"))


def test_handout_plays_and_scrubs_offline(handout: Path, page: tuple[Page, list[str]]) -> None:
    tab, requested = page
    tab.goto(handout.as_uri())
    tab.wait_for_function(f"{PLOT} && {PLOT}._fullLayout && {PLOT}._transitionData")
    traces = int(tab.evaluate(f"{PLOT}._fullData.length"))
    last_path = traces - 2  # the last run's path; its head follows
    assert path_length(tab, last_path) == 1  # frame 0: only the start point
    assert int(tab.evaluate(f"Object.keys({PLOT}._transitionData._frameHash).length")) == FRAMES

    tab.get_by_text("Play").click()
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === {FRAMES - 1}")
    assert path_length(tab, last_path) == 61  # every step of the final frame

    slider = tab.locator(".slider-rail-rect").first
    box = slider.bounding_box()
    assert box is not None
    tab.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # scrub back to the start
    tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === 0")
    assert path_length(tab, last_path) == 1

    assert requested == [handout.as_uri()]  # nothing else was fetched
