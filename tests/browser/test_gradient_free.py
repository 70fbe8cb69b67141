"""Gradient-free contrasts on the page (issue 14): simulated annealing and the genetic
algorithm in the picker's own group, their samples drawn at the playback cursor on the dot
canvas (the population as dots in the run's colour, annealing's proposal as a hollow marker,
grey where rejected), the status table's budget line (∇f × n / f × n), the Maps leaving them
out with a note, and the two lessons. One page load per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app import presets
from tests.browser.test_layout import MEASURE, SETTLE, problems

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

I18N = Path(__file__).resolve().parents[2] / "static" / "i18n"
WORDS = {lang: json.loads((I18N / f"{lang}.json").read_text("utf-8")) for lang in ("en", "ja")}

# Every gradient-free run's samples on a dot canvas, in client pixels, and whether the
# canvas is painted there: [{panel, optimizer, kind, step, count, painted, inside, color}].
SAMPLES = """() => [...document.querySelectorAll('#main-plot .layer-dots')].flatMap((canvas) => {
  const gd = canvas.parentElement.querySelector('.layer-fg');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const ctx = canvas.getContext('2d'), ratio = canvas.width / canvas.clientWidth;
  const area = {x: xa._offset, y: ya._offset, w: xa._length, h: ya._length};
  return (canvas.dots?.samples ?? []).map((s) => {
    let painted = 0, inside = 0;
    const pixels = [];
    for (let i = 0; i < s.points.length; i += 2) {
      const x = xa._offset + xa.l2p(s.points[i]), y = ya._offset + ya.l2p(s.points[i + 1]);
      if (x < area.x || x > area.x + area.w || y < area.y || y > area.y + area.h) continue;
      inside += 1;
      const d = ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
      if (d[3] > 0) painted += 1;
      pixels.push(Array.from(d));
    }
    return {panel: canvas.closest('.cell-panel') ? 'side' : 'overlay', optimizer: s.optimizer,
            kind: s.kind, step: s.step, count: s.points.length / 2, painted, inside,
            color: s.color, pixels: pixels.slice(0, 3), head: s.head,
            first: [s.points[0], s.points[1]]};
  });
})"""

BUDGETS = """() => Object.fromEntries([...document.querySelectorAll('#status tr.outcome')].map(
  (tr) => [tr.previousElementSibling.dataset.optimizer,
           tr.querySelector('[data-testid=evaluations]')?.textContent ?? null]))"""


def settle(gs: Gradscape, action: Any, run: bool = True) -> None:
    """Do `action` and wait until the page has redrawn (after a new run, if `run`)."""
    before = int(gs.page.evaluate("() => window.__gradscape.redraws"))
    if run:
        gs.change(action)
    else:
        action()
    gs.page.evaluate(SETTLE, before)


def test_picker_samples_budgets_and_inside(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open("landscape=rastrigin&opt=sgd,annealing,genetic&steps=60&t=20")
    # the picker: its own group, the names and the population as a stepped slider
    group = gs.testid("optimizer-group-gradient-free")
    assert group.locator("summary h3").inner_text() == "Gradient-free"
    cards = group.locator(".opt-card")
    assert [cards.nth(i).get_attribute("data-optimizer") for i in range(2)] == [
        "annealing",
        "genetic",
    ]
    slider = gs.testid("slider-genetic-population")
    assert [slider.get_attribute(k) for k in ("min", "max", "step")] == ["4", "100", "1"]
    assert gs.testid("param-genetic-population").input_value() == "20"
    label = group.locator('.param[data-param="population"] .param-name')
    assert label.inner_text() == WORDS["en"]["param.population"]
    assert label.get_attribute("title") == WORDS["en"]["help.genetic.population"]
    # inside a method without gradient buffers: its update rule and a plain sentence, no
    # arrows, no terms, nothing recorded
    inspect = gs.testid("inspect-annealing")
    assert inspect.get_attribute("title") == WORDS["en"]["inside.toggleTitleFree"]
    settle(gs, inspect.click)
    inside = gs.page.evaluate(
        """() => ({shown: !document.getElementById('inside').hidden,
                   title: document.getElementById('inside-title').textContent,
                   update: document.getElementById('inside-update').textContent,
                   lines: document.querySelectorAll('#inside-lecture .line').length,
                   terms: document.getElementById('inside-terms').children.length,
                   legend: document.getElementById('arrow-legend').offsetParent !== null})"""
    )
    assert inside["shown"] and inside["title"] == "Inside Simulated annealing"
    assert inside["update"].startswith("Simulated annealing uses no gradient")
    assert inside["lines"] == 5 and inside["terms"] == 0 and not inside["legend"]
    assert [r["optimizer"] for r in gs.runs()] == ["sgd", "annealing", "genetic"]
    assert "inside=annealing" in gs.query()
    settle(gs, inspect.click)
    assert gs.page.evaluate("() => document.getElementById('inside').hidden")

    # the samples at the cursor (step 20): 20 members of generation 20, one proposal
    drawn = {s["optimizer"]: s for s in gs.page.evaluate(SAMPLES)}
    assert set(drawn) == {"annealing", "genetic"}
    genetic, annealing = drawn["genetic"], drawn["annealing"]
    assert genetic["kind"] == "population" and genetic["step"] == 20 and genetic["count"] == 20
    assert genetic["inside"] >= 15 and genetic["painted"] == genetic["inside"]
    hook = gs.page.evaluate("() => window.__gradscape.samplesAt('genetic')")
    assert hook["step"] == 20 and len(hook["points"]) == 20
    assert annealing["kind"] == "proposal" and annealing["count"] == 1
    # hollow: a rejected proposal's centre carries its grey ×, a taken one is ringed round
    # the head and its centre left to the head's marker
    rejected = annealing["first"] != annealing["head"]
    assert annealing["painted"] == (1 if rejected else 0)

    # the budgets: ∇f × 60 for SGD; f × 61 for annealing; f × 20 + 60·19 = 1,160 for GA
    budgets = gs.page.evaluate(BUDGETS)
    assert budgets == {"sgd": "∇f × 60", "annealing": "f × 61", "genetic": "f × 1,160"}
    runs = {r["optimizer"]: r for r in gs.runs()}
    assert runs["genetic"]["evaluations"] == 1160 and runs["sgd"]["gradient"]

    # a larger population: 40 members drawn, 40 + 60·39 = 2,380 values of f
    field = gs.testid("param-genetic-population")
    settle(gs, lambda: field.fill("40"))
    drawn = {s["optimizer"]: s for s in gs.page.evaluate(SAMPLES)}
    assert drawn["genetic"]["count"] == 40
    assert gs.page.evaluate(BUDGETS)["genetic"] == "f × 2,380"

    # Japanese: the group, the names, the budget lines
    settle(gs, lambda: gs.testid("lang").click(), run=False)
    assert group.locator("summary h3").inner_text() == WORDS["ja"]["optimizers.group.gradient-free"]
    assert gs.page.evaluate(BUDGETS) == {
        "sgd": "∇f × 60 回",
        "annealing": "f × 61 回",
        "genetic": "f × 2,380 回",
    }
    names = gs.page.locator("#status th[scope=row]").all_inner_texts()
    assert [n.strip() for n in names] == ["SGD", "焼きなまし法", "遺伝的アルゴリズム"]
    # the screen still fits: the long names wrap in their cells, nothing clipped
    m = gs.page.evaluate(MEASURE)
    assert problems(m, 1280, 720, "overlay", "normal") == []
    gs.assert_clean()


def test_population_lesson_side_by_side_and_the_maps_note(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open("landscape=booth&opt=sgd&steps=20")
    preset = presets.get("population_rastrigin")
    settle(gs, lambda: gs.testid("preset").select_option("population_rastrigin"))
    runs = {r["optimizer"]: r for r in gs.runs()}
    assert list(runs) == list(preset.optimizers)
    assert runs["genetic"]["params"]["population"] == 30 and runs["genetic"]["sampled"] == 301
    assert gs.page.evaluate(BUDGETS) == {
        "sgd": "∇f × 300",
        "adam": "∇f × 300",
        "genetic": "f × 8,730",
    }
    # the cursor at the end: the population gathered at (0, 0), drawn in its panel
    settle(gs, lambda: gs.testid("mode").select_option("side_by_side"), run=False)
    drawn = gs.page.evaluate(SAMPLES)
    assert [(s["panel"], s["optimizer"], s["count"]) for s in drawn] == [("side", "genetic", 30)]
    assert drawn[0]["step"] == 300 and drawn[0]["painted"] == drawn[0]["inside"] >= 25
    m = gs.page.evaluate(MEASURE)
    assert problems(m, 1280, 720, "side_by_side", "normal") == []
    # presentation: the dots and the budget lines still fit, nothing scrolls
    settle(gs, lambda: gs.testid("presentation").click(), run=False)
    assert gs.page.evaluate(SAMPLES)[0]["painted"] >= 25
    m = gs.page.evaluate(MEASURE)
    assert problems(m, 1280, 720, "side_by_side", "presentation") == []
    settle(gs, lambda: gs.testid("presentation").click(), run=False)

    # the Maps: the genetic algorithm left out, with a note, and no error
    gs.testid("stage-maps").click()
    note = gs.testid("maps-gradient-free")
    note.wait_for(state="visible")
    assert note.inner_text() == WORDS["en"]["maps.gradientFree"].format(names="Genetic algorithm")
    # above the panels' scrolling grid, in view whatever panel is scrolled to
    box, grid = note.bounding_box(), gs.testid("maps").bounding_box()
    assert box and grid and box["y"] >= 0 and box["y"] + box["height"] <= grid["y"] + 1
    gs.page.wait_for_function(
        """() => { const p = window.__gradscape.maps?.panels?.sweep;
                   return p && p.drawnSeq > 0 && !p.busy; }"""
    )
    sweep = gs.page.evaluate(
        """() => document.querySelector('[data-testid="sweep-plot"]').data
             .map((t) => t.meta?.optimizer).filter(Boolean)"""
    )
    assert sweep and set(sweep) <= {"sgd", "adam"}
    failed = WORDS["en"]["maps.error"].split("{")[0]
    shown = gs.page.evaluate(
        """() => [...document.querySelectorAll('#maps .maps-message')]
             .filter((m) => !m.hidden).map((m) => m.textContent)"""
    )
    assert not [text for text in shown if text.startswith(failed) or "422" in text], shown
    gs.assert_clean()
