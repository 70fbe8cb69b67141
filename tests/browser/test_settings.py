"""The page reads its limits, defaults and colours from GET /api/settings, so a change in
their one Python home shows on the page with no JavaScript touched."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from app import config, palette
from app.main import create_app

pytestmark = pytest.mark.browser

READY = "() => window.__gradscape && window.__gradscape.ready"


def test_a_limit_and_a_colour_changed_in_python_reach_the_page(
    browser: Any,
    serve_app: Callable[[Any], AbstractContextManager[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The one-line edits a maintainer would make: the steps Option and the colorscale.
    steps = dataclasses.replace(config.STEPS, max=500, default=120)
    monkeypatch.setattr(
        config,
        "SCENE_OPTIONS",
        tuple(steps if o.name == "steps" else o for o in config.SCENE_OPTIONS),
    )
    monkeypatch.setattr(palette, "LANDSCAPE_COLORSCALE", "Cividis")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        with serve_app(create_app()) as base:
            # 800 was a valid link before the change; now it is past the maximum, so the
            # link falls back to the new default.
            page.goto(f"{base}/?steps=800")
            page.wait_for_function(READY)
            page.evaluate("() => window.__gradscape.redrawAfter(0)")
            field = page.get_by_test_id("steps")
            assert field.get_attribute("max") == "500"
            assert field.input_value() == "120"
            assert page.evaluate("() => window.__gradscape.state.steps") == 120
            assert {r["n"] for r in page.evaluate("() => window.__gradscape.runs()")} == {121}
            # Typing past the new maximum is refused with the new range, and nothing runs.
            counter = page.evaluate("() => window.__gradscape.runCounter()")
            field.fill("600")
            page.wait_for_timeout(200)
            assert page.evaluate("() => window.__gradscape.runCounter()") == counter
            message = page.locator("#run-error").inner_text()
            assert "500" in message and "10000" not in message
            # The contour and the 3-D surface use the served colorscale.
            colorscale = "gd => gd.data[0].colorscale"
            assert page.locator("#main-plot .layer-bg").evaluate(colorscale) == "Cividis"
            page.get_by_test_id("view").select_option("surface")
            surface = page.locator("#main-plot .cell-surface")
            surface.wait_for()
            page.wait_for_function(
                "() => document.querySelector('#main-plot .cell-surface').data !== undefined"
            )
            assert surface.evaluate(colorscale) == "Cividis"
        assert errors == []
    finally:
        context.close()
