"""A start outside the landscape's bounds: the page shows the server's message and runs
nothing, whether the start came from a link or from the start fields."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

MESSAGE = "start (9, 9) is outside rosenbrock's bounds x ∈ [-2, 2], y ∈ [-1, 3]"


def _set_start(gs: Gradscape, axis: str, value: str) -> None:
    field = gs.testid(f"start-{axis}")
    field.fill(value)
    field.dispatch_event("change")  # the fields commit on change, as on Enter or Tab


def test_a_link_with_a_start_outside_the_bounds_shows_why_and_runs_nothing(
    app_page: Gradscape,
) -> None:
    gs = app_page.open("landscape=rosenbrock&start=9,9")
    message = gs.page.locator("#plot-message")
    assert message.is_visible()
    assert MESSAGE in message.inner_text()
    assert gs.runs() == []  # no path drawn from a start that was never run
    assert gs.path_traces() == []
    # the landscape itself is drawn, so a click on it can set a start inside the bounds
    contour = "() => document.querySelector('#main-plot .layer-bg').data[0].type"
    assert gs.page.evaluate(contour) == "contour"
    # the fields keep what the link said, so the lecturer sees what to correct
    assert gs.testid("start-x").input_value() == "9"
    assert parse_qs(gs.query())["start"] == ["9,9"]

    gs.change(lambda: _set_start(gs, "x", "0"))  # (0, 9): y is still out of bounds
    assert "start (0, 9) is outside rosenbrock's bounds" in message.inner_text()
    assert gs.runs() == []

    gs.change(lambda: _set_start(gs, "y", "1"))
    assert message.is_hidden()
    runs = gs.runs()
    assert runs and all(r["first"] == [0, 1] for r in runs)
    gs.assert_clean()


def test_typing_a_start_outside_the_bounds_keeps_the_last_paths_and_says_why(
    app_page: Gradscape,
) -> None:
    gs = app_page.open("landscape=rosenbrock")
    before = gs.runs()
    assert before
    gs.change(lambda: _set_start(gs, "x", "-2.5"))
    message = gs.page.locator("#plot-message")
    assert message.is_visible()
    assert "start (-2.5, 1) is outside rosenbrock's bounds" in message.inner_text()
    assert gs.runs() == before  # the last good scene stays on screen, as for other errors
    gs.assert_clean()
