"""The optimizer picker and a twelve-run race (issue 14): optimizers grouped by family
(classic, adaptive, large-batch) under folding headings in English and Japanese, "your race"
as chips, any set up to the run limit, keyboard-operable; twelve runs raced at 1280×720
drawn each in its own (colour, dash, marker) and every screen still fitting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import optimizers
from app import config, palette
from tests.browser.test_layout import MEASURE, SETTLE, SIZES, problems

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

I18N = Path(__file__).resolve().parents[2] / "static" / "i18n"
WORDS = {lang: json.loads((I18N / f"{lang}.json").read_text("utf-8")) for lang in ("en", "ja")}


def twelve() -> list[str]:
    names = list(optimizers.names())
    assert len(names) >= config.MAX_RUNS, f"issue 14 races twelve optimizers; {names}"
    return names[: config.MAX_RUNS]


GROUPS = """() => [...document.querySelectorAll('#optimizer-list details.opt-group')].map(d => ({
  group: d.dataset.group, open: d.open, heading: d.querySelector('summary h3').textContent,
  count: d.querySelector('.opt-group-count').textContent,
  names: [...d.querySelectorAll('.opt-card')].map(c => c.dataset.optimizer)}))"""


def test_the_picker_groups_every_optimizer_under_its_family(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1024, "height": 768})
    gs.open("landscape=booth&opt=sgd,adam&steps=20")
    groups = gs.page.evaluate(GROUPS)
    assert [g["group"] for g in groups] == list(optimizers.groups())
    for g in groups:
        assert g["names"] == list(optimizers.groups()[g["group"]])
        assert g["heading"] == WORDS["en"][f"optimizers.group.{g['group']}"]
    by = {g["group"]: g for g in groups}
    assert by["classic"]["open"] and by["adaptive"]["open"]  # they hold a racing optimizer
    assert by["classic"]["count"] == f"1/{len(by['classic']['names'])}"
    if "large-batch" in by:
        assert not by["large-batch"]["open"]  # nothing of it races: folded, one line
    chips = gs.page.evaluate(
        "() => [...document.querySelectorAll('[data-testid^=race-chip-]')]"
        ".map(c => c.dataset.optimizer)"
    )
    assert chips == ["sgd", "adam"]
    assert gs.testid("optimizer-count").inner_text() == f"2 of {config.MAX_RUNS} racing"
    gs.testid("lang").click()
    gs.page.wait_for_function("() => document.documentElement.lang === 'ja'")
    groups = gs.page.evaluate(GROUPS)
    assert [g["heading"] for g in groups] == [
        WORDS["ja"][f"optimizers.group.{g['group']}"] for g in groups
    ]
    assert "古典的手法" in [g["heading"] for g in groups]
    gs.assert_clean()


def test_the_picker_works_from_the_keyboard(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1024, "height": 768})
    gs.open("landscape=booth&opt=sgd&steps=20")
    last = gs.page.evaluate(GROUPS)[-1]
    assert not last["open"]
    head = gs.page.locator(f'[data-testid="optimizer-group-{last["group"]}"] > summary')
    head.focus()
    gs.page.keyboard.press("Enter")
    assert gs.page.evaluate(GROUPS)[-1]["open"]
    gs.page.keyboard.press("Space")  # folds the group, and does not start playback
    assert not gs.page.evaluate(GROUPS)[-1]["open"]
    assert not gs.page.evaluate("() => window.__gradscape.playing()")
    gs.page.keyboard.press("Space")
    name = last["names"][0]
    toggle = gs.testid(f"toggle-{name}")
    gs.page.keyboard.press("Tab")
    assert toggle.evaluate("el => el === document.activeElement")
    gs.change(lambda: gs.page.keyboard.press("Space"))
    assert [r["optimizer"] for r in gs.runs()] == ["sgd", name]
    # a chip of "your race" leads back to its card: group open, toggle focused
    gs.page.evaluate(GROUPS)
    gs.page.locator(f'[data-testid="optimizer-group-{last["group"]}"] > summary').click()
    assert not gs.page.evaluate(GROUPS)[-1]["open"]
    gs.testid(f"race-chip-{name}").click()
    assert gs.page.evaluate(GROUPS)[-1]["open"]
    assert toggle.evaluate("el => el === document.activeElement")
    gs.assert_clean()


def test_any_set_up_to_the_run_limit_races_and_no_more(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    names = twelve()
    gs.open(f"landscape=booth&opt={','.join(names)}&steps=20")
    assert [r["optimizer"] for r in gs.runs()] == names
    assert gs.testid("optimizer-count").inner_text() == f"12 of {config.MAX_RUNS} racing"
    assert gs.testid("optimizer-full").is_visible()
    spare = [n for n in optimizers.names() if n not in names]
    for name in spare:  # at the limit, the others wait
        assert gs.testid(f"toggle-{name}").is_disabled()
    gs.change(lambda: gs.testid(f"toggle-{names[0]}").uncheck())
    assert not gs.testid("optimizer-full").is_visible()
    if spare:
        extra = spare[-1]
        group = gs.page.locator(f'.opt-group:has([data-testid="toggle-{extra}"]) > summary')
        if not gs.testid(f"toggle-{extra}").is_visible():
            group.click()
        gs.change(lambda: gs.testid(f"toggle-{extra}").check())
        raced = [r["optimizer"] for r in gs.runs()]
        assert len(raced) == config.MAX_RUNS and extra in raced and names[0] not in raced
    gs.assert_clean()


STYLES = """() => {
  const fg = document.querySelector('#main-plot .layer-fg');
  const lines = fg.data.filter(t => t.mode === 'lines' && t.name && t.name !== 'heads');
  const heads = fg.data.find(t => t.name === 'heads');
  const legend = [...document.querySelectorAll('#main-plot .legend-item')].map(el => ({
    optimizer: el.dataset.optimizer, symbol: el.dataset.symbol, dash: el.dataset.dash,
    stroke: el.querySelector('line').getAttribute('stroke')}));
  const loss = [...document.querySelectorAll('#loss-plot, #loss-plot *')]
    .filter(gd => Array.isArray(gd.data)).flatMap(gd =>
    (gd.data || []).filter(t => t.mode === 'lines' && !t.meta)
      .map(t => ({name: t.name, color: t.line.color, dash: t.line.dash})));
  return {
    paths: lines.map(t => ({name: t.name, color: t.line.color, dash: t.line.dash})),
    heads: heads.text.map((name, i) => ({optimizer: name, symbol: heads.marker.symbol[i],
      color: heads.marker.color[i]})),
    legend, loss,
  };
}"""


def test_twelve_runs_at_1280x720_are_each_drawn_in_their_own_style(
    app_page: Gradscape,
) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    names = twelve()
    gs.open(f"landscape=rosenbrock&opt={','.join(names)}&steps=150")
    drawn = gs.page.evaluate(STYLES)
    titles = [optimizers.title(n) for n in names]
    assert [p["name"] for p in drawn["paths"]] == titles
    assert [h["optimizer"] for h in drawn["heads"]] == names
    triples = [
        (p["color"], p["dash"], h["symbol"])
        for p, h in zip(drawn["paths"], drawn["heads"], strict=True)
    ]
    assert len(set(triples)) == config.MAX_RUNS, triples
    served = palette.race_styles(names)
    assert triples == [(s.color, s.dash, s.symbol) for s in served]
    # the legend and the loss chart say the same
    assert [(e["stroke"], e["dash"], e["symbol"]) for e in drawn["legend"]] == triples
    assert [(c["color"], c["dash"]) for c in drawn["loss"]] == [(t[0], t[1]) for t in triples]
    gs.assert_clean()


def settle(gs: Gradscape, action: Any) -> None:
    before = int(gs.page.evaluate("() => window.__gradscape.redraws"))
    action()
    gs.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    gs.page.evaluate(SETTLE, before)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_twelve_run_race_fits_every_screen(app_page: Gradscape, width: int, height: int) -> None:
    """The layout's promises (tests/browser/test_layout.py) with twelve runs: the legend's
    rows, the status table and the grouped picker clip nothing and overlap nothing."""
    gs = app_page
    gs.page.set_viewport_size({"width": width, "height": height})
    gs.open(f"landscape=rosenbrock&mode=overlay&steps=120&opt={','.join(twelve())}")
    gs.page.evaluate(SETTLE, -1)
    failures: list[str] = []
    for lang in ("en", "ja"):
        if lang == "ja":
            settle(gs, lambda: gs.testid("lang").click())
        for look in ("normal", "presentation"):
            if look == "presentation":
                settle(gs, lambda: gs.testid("presentation").click())
            m = gs.page.evaluate(MEASURE)
            where = f"{width}x{height} {lang} {look}"
            failures += [f"{where}: {p}" for p in problems(m, width, height, "overlay", look)]
        settle(gs, lambda: gs.testid("presentation").click())  # back to normal
    assert not failures, "\n".join(failures)
    gs.assert_clean()


def test_a_hyperparameters_help_says_what_it_means_for_that_optimizer(
    app_page: Gradscape,
) -> None:
    # Adam's weight decay is L2 (added to g), AdamW's decoupled: one name, two meanings
    gs = app_page
    gs.open("landscape=booth&opt=adam,adamw&steps=20")
    title = (
        "(o) => document.querySelector(`.opt-card[data-optimizer=${o}] "
        ".param[data-param=weight_decay]`).title"
    )
    assert gs.page.evaluate(title, "adam") == WORDS["en"]["help.weight_decay"]
    assert gs.page.evaluate(title, "adamw") == WORDS["en"]["help.adamw.weight_decay"]
    gs.testid("lang").click()
    gs.page.wait_for_function("() => document.documentElement.lang === 'ja'")
    assert gs.page.evaluate(title, "adamw") == WORDS["ja"]["help.adamw.weight_decay"]
