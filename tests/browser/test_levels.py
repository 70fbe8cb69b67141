"""Presets that show their lesson: colour levels where the noise floor lives, contours that
re-level on zoom, and the learning-rate chart ηₜ under a schedule (issue 10, item 8).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

BG = "document.querySelector('#main-plot .layer-bg')"
FG = "document.querySelector('#main-plot .layer-fg')"
LEVELS = f"""() => {{
  const gd = {BG};
  const c = gd._fullData[0].contours;
  const x = gd.data[0].x;
  return {{ start: c.start, end: c.end, size: c.size, marked: gd.dataset.levels,
            x0: x[0], x1: x[x.length - 1], columns: x.length }};
}}"""
# The noisy runs hover around Booth's minimum (1, 3), f = 0, with f up to ~0.5 over their
# last 100 steps (σ = 3): that band is the noise floor the contours must resolve.
NOISE_FLOOR = 0.5


def levels(gs: Gradscape) -> dict[str, Any]:
    return gs.page.evaluate(LEVELS)


def levels_below(lv: dict[str, Any], colour: float) -> int:
    count = math.floor((min(colour, lv["end"]) - lv["start"]) / lv["size"]) + 1
    return max(0, count)


def test_noise_floor_gets_its_own_levels_and_zoom_relevels(app_page: Gradscape) -> None:
    gs = app_page.open("preset=noise")
    assert gs.page.evaluate(f"() => {BG}.data[0].colorbar.title.text") == "f − f* (log)"
    whole = levels(gs)
    assert whole["marked"] == "whole"
    # Log colours: several contour levels between the minimum and the noise floor (on
    # linear colours over 0 … 2600 there would be none: the first level is at ~100).
    assert levels_below(whole, math.log10(NOISE_FLOOR)) >= 5, whole

    # Zoom into the noise floor: the levels come from what is visible, on a finer grid of
    # the window itself (the page's grid has ~10 samples across it).
    gs.page.evaluate(
        f"""() => window.Plotly.relayout({FG},
              {{'xaxis.range': [0.5, 1.5], 'yaxis.range': [2.5, 3.5]}})"""
    )
    gs.page.wait_for_function(
        f"() => {BG}.dataset.levels === 'zoomed' && {BG}.data[0].x[0] >= 0.4", timeout=20_000
    )
    zoomed = levels(gs)
    assert any("x_min=" in url and "/api/landscapes/booth/grid" in url for url in gs.requests)
    assert zoomed["columns"] >= 60 and zoomed["x1"] <= 1.6
    # f over the window is at most ~25 (corner (0.5, 2.5)): every level lies below that,
    # closer together than over the whole landscape (0 … 2600).
    assert zoomed["end"] <= math.log10(30)
    assert zoomed["size"] < whole["size"] / 1.5
    assert levels_below(zoomed, math.log10(NOISE_FLOOR)) > levels_below(
        whole, math.log10(NOISE_FLOOR)
    )
    # Double-click (autorange) goes back to the whole landscape and its levels.
    gs.page.evaluate(
        f"""() => window.Plotly.relayout({FG},
              {{'xaxis.autorange': true, 'yaxis.autorange': true}})"""
    )
    gs.page.wait_for_function(f"() => {BG}.dataset.levels === 'whole'")
    assert levels(gs)["size"] == pytest.approx(whole["size"])

    # No schedule here: no learning-rate chart.
    assert gs.page.locator("#lr-plot").is_hidden()
    gs.assert_clean()


LR = """() => {
  const gd = document.querySelector('#lr-plot .loss-chart');
  return { hidden: document.getElementById('lr-plot').hidden,
           height: document.getElementById('lr-plot').clientHeight,
           names: gd.data.map(t => t.name),
           sgd: Array.from(gd.data[0].y.slice(0, 25)),
           title: gd.layout.title.text };
}"""


def test_learning_rate_chart_follows_the_schedule_and_the_cursor(app_page: Gradscape) -> None:
    gs = app_page.open("preset=warmup")  # cosine with 20 warmup updates, SGD lr = 0.95
    lr = gs.page.evaluate(LR)
    assert not lr["hidden"] and lr["height"] >= 80
    assert lr["names"] == ["SGD", "Momentum", "Adam"]
    assert lr["title"] == "Learning rate ηₜ"
    # ηₜ = lr × factor(t): warmup (t + 1)/20 for t < 20, then the cosine from its top.
    assert lr["sgd"][0] == pytest.approx(0.95 / 20)
    assert lr["sgd"][9] == pytest.approx(0.95 * 10 / 20)
    assert lr["sgd"][20] == pytest.approx(0.95)
    assert lr["sgd"][24] < 0.95

    # The playback cursor moves on both charts together, each to step 30 on its own axis.
    gs.testid("scrub").fill("30")
    gs.page.wait_for_function(
        "() => document.querySelector('#lr-plot .lr-cursor').dataset.step === '30'"
    )
    where = """(sel) => { const box = document.querySelector(sel);
        const gd = box.querySelector('.loss-chart'), xa = gd._fullLayout.xaxis;
        const cursor = box.querySelector('.loss-cursor, .lr-cursor');
        return { step: cursor.dataset.step, height: cursor.getBoundingClientRect().height,
                 at: cursor.getBoundingClientRect().left - gd.getBoundingClientRect().left,
                 want: xa._offset + xa.l2p(30) }; }"""
    for chart in ("#loss-plot", "#lr-plot"):
        cursor = gs.page.evaluate(where, chart)
        assert cursor["step"] == "30", chart
        assert cursor["at"] == pytest.approx(cursor["want"], abs=1.5), (chart, cursor)
        assert cursor["height"] > 30

    # Warmup alone is a schedule too: the chart stays, ηₜ rising to lr then flat.
    gs.change(lambda: gs.testid("schedule").select_option("constant"))
    assert "schedule.warmup=20" in gs.query()
    gs.page.wait_for_function(
        "() => document.querySelector('#lr-plot .loss-chart').data[0].y[60] === 0.95"
    )
    assert not gs.page.evaluate("() => document.getElementById('lr-plot').hidden")
    # No schedule at all: the chart goes.
    gs.change(lambda: gs.testid("schedule-warmup").fill("0"))
    gs.page.wait_for_function("() => document.getElementById('lr-plot').hidden")
    gs.assert_clean()


def test_log_axes_label_enough_ticks_in_the_charts_notation(app_page: Gradscape) -> None:
    # Rastrigin's loss gaps (≈ 2 for Momentum, ≈ 25 for the rest) span under two decades:
    # the chart labels 1-2-5 steps, not a lone "10".
    gs = app_page.open("preset=rastrigin")
    labels = gs.page.evaluate(
        "() => [...document.querySelectorAll('#loss-plot .ytick text')].map(t => t.textContent)"
    )
    assert len(labels) >= 3, labels
    # Colour bars write powers of ten as the loss chart does (10², 10⁻¹), never 1e-1.
    gs.change(lambda: gs.testid("landscape").select_option("rosenbrock"))
    ticks = gs.page.evaluate(f"() => {BG}.data[0].colorbar.ticktext")
    assert ticks and not any("e" in t for t in ticks), ticks
    assert {"1", "10", "10²"} <= set(ticks), ticks
    gs.assert_clean()
