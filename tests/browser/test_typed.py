""" "Your function": a lecturer types f(x, y); the contours follow the typing, errors name
the column (in English and Japanese), and a copied link brings the same function back."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
CONTOUR_X = "() => document.querySelector('#main-plot .layer-bg').data[0].x"


def _type(gs: Gradscape, text: str) -> None:
    gs.testid("expr").fill(text)  # an input event per fill: the preview waits for a pause


def _bounds(gs: Gradscape, values: list[str]) -> None:
    for axis, value in zip(("xmin", "xmax", "ymin", "ymax"), values, strict=True):
        field = gs.testid(f"expr-{axis}")
        field.fill(value)
        field.dispatch_event("change")


def _quiet_422(gs: Gradscape) -> None:
    """A refused text is a 422 the page shows under the field; Chromium logs each 4xx."""
    gs.console_errors[:] = [e for e in gs.console_errors if "status of 422" not in e]


def test_a_typed_function_is_drawn_raced_and_shared(app_page: Gradscape, browser: Any) -> None:
    gs = app_page.open("landscape=rosenbrock&opt=sgd,adam&adam.lr=0.1")
    gs.change(lambda: gs.testid("landscape").select_option("custom"))
    assert gs.testid("typed").is_visible()
    assert gs.testid("expr").input_value() == "x^2/20 + y^2"  # the lecture notes' bowl
    assert not gs.page.locator("#formula").is_visible()  # the field says it once

    # a pause in the typing redraws the contour and re-runs the race on the new function
    before = gs.counter()
    _bounds(gs, ["-5", "5", "-5", "5"])
    _type(gs, HIMMELBLAU)
    gs.page.wait_for_function(
        "(text) => new URLSearchParams(window.__gradscape.query()).get('expr') === text",
        arg=HIMMELBLAU,
    )
    gs.wait_drawn(before)
    query = parse_qs(gs.query())
    assert query["landscape"] == ["custom"] and query["bounds"] == ["-5,5,-5,5"]
    x = gs.page.evaluate(CONTOUR_X)
    assert (x[0], x[-1]) == (-5, 5)  # the contour is drawn over the typed bounds
    runs = gs.runs()
    assert [r["optimizer"] for r in runs] == ["sgd", "adam"]
    assert runs[1]["status"]["code"] == "settled_global"  # minima found by the server

    # an unknown name: the column under the field, the last good function stays drawn
    _type(gs, "x^2 + 3*y^2 + z")
    error = gs.testid("expr-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Column 15: 'z' is not a name here.")
    assert parse_qs(gs.query())["expr"] == [HIMMELBLAU]
    gs.testid("lang").click()
    gs.page.wait_for_function(
        "(t) => document.querySelector('[data-testid=expr-error]').textContent.startsWith(t)",
        arg="15 文字目",
    )
    gs.testid("lang").click()  # back to English for the link
    _type(gs, HIMMELBLAU)
    error.wait_for(state="hidden")

    # the copied link opens the same function, bounds, start and runs in a fresh page
    gs.page.wait_for_function(
        "() => document.querySelector('[data-testid=share-url]').value.includes('expr=')"
    )
    link = gs.testid("share-url").input_value()
    assert urlsplit(link).hostname == "127.0.0.1"
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        other = context.new_page()
        other.goto(link)
        other.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        other.evaluate("(n) => window.__gradscape.redrawAfter(n)", 0)
        assert other.get_by_test_id("expr").input_value() == HIMMELBLAU
        assert other.get_by_test_id("expr-xmax").input_value() == "5"
        assert other.evaluate("() => window.__gradscape.query()") == gs.query()
        shared = other.evaluate("() => window.__gradscape.runs()")
        assert [r["last"] for r in shared] == [r["last"] for r in runs]
    finally:
        context.close()
    _quiet_422(gs)
    gs.assert_clean()


def test_a_link_with_a_refused_function_says_why_in_the_field(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.goto(f"{gs.base}/?landscape=custom&expr=x%2Bfoo(y)&opt=sgd")
    gs.page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
    error = gs.testid("expr-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Column 3: 'foo' is not a function here.")
    assert gs.testid("expr").input_value() == "x+foo(y)"  # kept, so it can be corrected
    _type(gs, "(x + y")
    gs.page.wait_for_function(
        "(t) => document.querySelector('[data-testid=expr-error]').textContent === t",
        arg="Column 1: this '(' is never closed.",
    )
    before = gs.counter()
    _type(gs, "x+sin(y)")
    error.wait_for(state="hidden")
    gs.wait_drawn(before)
    assert parse_qs(gs.query())["expr"] == ["x+sin(y)"]
    _quiet_422(gs)
    gs.assert_clean()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_field_fits_the_panel_at_1280x720(app_page: Gradscape, lang: str) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open(f"landscape=custom&expr=sin(3*x)*cos(2*y)&bounds=-3,3,-2,2&opt=sgd&lang={lang}")
    _type(gs, "sin(3*x)*cos(2*y) + 0.1*(x^2 + y^2) + zz")
    gs.testid("expr-error").wait_for(state="visible")
    boxes = gs.page.evaluate(
        """() => ['#panel', '.typed-row', '#expr-error', '.typed-bounds', '#expr-hint']
             .map((s) => document.querySelector(s).getBoundingClientRect().toJSON())"""
    )
    panel, *parts = boxes
    for box in parts:  # inside the panel's width: nothing clipped or spilling onto the plot
        assert panel["left"] <= box["left"] and box["right"] <= panel["right"], box
    for above, below in itertools.pairwise(parts):  # stacked, none over another
        assert above["bottom"] <= below["top"] + 0.5, (above, below)
    # every bounds field is wide enough to show "-3" and its neighbours
    widths = [gs.testid(f"expr-{a}").bounding_box()["width"] for a in ("xmin", "xmax")]
    assert min(widths) >= 40
    _quiet_422(gs)
    gs.assert_clean()
