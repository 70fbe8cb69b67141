"""The bare address opens a lesson, not PyTorch's defaults on Rosenbrock.

With lr = 1e-3 four of six paths barely leave the start and Adam looks worst: a lecturer
opening the page in front of a class sees the wrong lesson. A bare address opens the
Rosenbrock preset with its explanation; "Free exploration" in the preset menu gives every
optimizer at PyTorch's defaults in one click. Links of either scene restore exactly.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from app import presets
from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser


def _landscape(server: str, name: str) -> dict[str, Any]:
    return next(
        item for item in httpx.get(f"{server}/api/landscapes").json() if item["name"] == name
    )


def _reopen(browser: Any, url: str) -> tuple[str, list[dict[str, Any]]]:
    """`url` in a fresh tab: the scene's canonical query and its runs."""
    other = browser.new_page()
    try:
        other.goto(url)
        other.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        other.evaluate("() => window.__gradscape.redrawAfter(0)")
        return (
            other.evaluate("() => window.__gradscape.query()"),
            other.evaluate("() => window.__gradscape.runs()"),
        )
    finally:
        other.close()


def test_bare_address_opens_a_lesson_and_pytorch_defaults_are_one_click_away(
    app_page: Gradscape, browser: Any, server: str
) -> None:
    gs = app_page.open()
    # The lesson: the Rosenbrock preset, its explanation visible without scrolling.
    assert gs.testid("preset").input_value() == "rosenbrock"
    text = gs.page.locator("#preset-text")
    lesson = presets.get("rosenbrock")
    assert text.is_visible() and text.inner_text() == lesson.text["en"]
    box = text.bounding_box()
    assert box is not None and box["y"] + 20 <= gs.page.viewport_size["height"]
    assert gs.page.locator("#scene-title").inner_text() == lesson.title["en"]

    # Every path leaves the start by at least a quarter of the plot's width.
    meta = _landscape(server, "rosenbrock")
    width = meta["bounds"][0][1] - meta["bounds"][0][0]
    runs = gs.runs()
    assert [r["optimizer"] for r in runs] == ["sgd", "momentum", "adam"]
    for run in runs:
        assert math.dist(run["first"], run["last"]) >= width / 4, run["optimizer"]

    # Its link restores it exactly (the bare address opened it above).
    query = gs.query()
    assert "preset=rosenbrock" in query
    gs.page.wait_for_function(
        "() => document.getElementById('share-url').value.includes('preset=rosenbrock')"
    )
    shared = gs.testid("share-url").input_value()
    assert shared == f"{gs.base}/?{query}"
    assert _reopen(browser, shared) == (query, runs)

    # One click: Free exploration, the fresh scene's optimizers (the first build's six, as
    # /api/optimizers serves them; eighteen would pass the run limit) with torch's defaults.
    served = httpx.get(f"{server}/api/optimizers").json()
    specs = [o for o in served["optimizers"] if o["name"] in served["scene"]]
    assert len(specs) == 6
    gs.change(lambda: gs.testid("preset").select_option(""))
    assert not text.is_visible()
    free = gs.runs()
    assert [r["optimizer"] for r in free] == [o["name"] for o in specs]
    for run, spec in zip(free, specs, strict=True):
        assert run["params"] == {p["name"]: p["default"] for p in spec["params"]}
        assert run["first"] == meta["default_start"]
    assert "PyTorch" in gs.testid("preset").locator("option:checked").inner_text()
    free_query = gs.query()
    assert "preset=" not in free_query
    gs.page.wait_for_function(
        "(q) => document.getElementById('share-url').value.endsWith(q)", arg=free_query
    )
    assert _reopen(browser, gs.testid("share-url").input_value()) == (free_query, free)
    gs.assert_clean()


def test_japanese_opens_the_lesson_and_free_exploration_keeps_the_landscape(
    app_page: Gradscape, server: str
) -> None:
    # An address typed with only a language opens the lesson too, in that language.
    gs = app_page.open("lang=ja")
    assert gs.testid("preset").input_value() == "rosenbrock"
    assert gs.page.locator("#preset-text").inner_text() == presets.get("rosenbrock").text["ja"]
    gs.open("preset=saddle&lang=ja")
    assert "PyTorch" in gs.testid("preset").locator("option[value='']").inner_text()
    gs.change(lambda: gs.testid("preset").select_option(""))
    assert gs.testid("landscape").input_value() == "saddle"
    start = _landscape(server, "saddle")["default_start"]
    assert [r["first"] for r in gs.runs()] == [start] * 6  # the landscape's own start
    gs.assert_clean()
