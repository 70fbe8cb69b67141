"""The fair-race ("tune") panel of the Maps stage (issue 13) in the browser.

Each optimizer gets exactly `budget` trials from each of grid, random and Bayesian search,
drawn as they arrive over /ws/tune, the same trials again for the same scene and seed;
the table and each column's star show the best trial the server reported; stepping back
through the trials shows the Gaussian process fitted so far and its expected improvement
pointing at the very next Bayesian trial; "Race at the best values" sets each optimizer's
learning rate to the chosen method's best and shows the race. (That the panel fits every
screen in both languages is checked with the basins, on one page, in test_maps_basins.py.)"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

# The textbook bowl: gradient descent diverges above lr = 1, so every search meets failures.
SCENE = "landscape=ill_conditioned&opt=sgd,momentum&start=-7,2&steps=100"
METHODS = ["grid", "random", "bayes"]
BUDGET = 6

# Resolves once the tune panel has finished a search newer than `after`.
DONE = """(after) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const poll = () => {
    const panel = window.__gradscape.maps?.panels?.tune;
    if (panel && panel.drawnSeq > after && panel.root.dataset.state === 'done') {
      return resolve(panel.drawnSeq);
    }
    if (performance.now() - t0 > 30000) return reject(new Error('tune not done'));
    setTimeout(poll, 20);
  };
  poll();
})"""

# The chart's trial markers per trace name, the shapes and the column titles.
CHART = """() => {
  const gd = document.querySelector('[data-testid="tune-plot"]');
  return {
    traces: Object.fromEntries(gd.data.filter((t) => t.name).map((t) => [t.name, {
      x: Array.from(t.x ?? []), y: Array.from(t.y ?? [])}])),
    shapes: (gd.layout.shapes ?? []).map((s) => ({x0: s.x0, xref: s.xref})),
    titles: (gd.layout.annotations ?? []).map((a) => a.text),
  };
}"""


def wait_done(gs: Gradscape, after: int) -> int:
    return int(gs.page.evaluate(DONE, after))


def record_tune_socket(gs: Gradscape) -> list[dict[str, Any]]:
    """Every message the server sends on /ws/tune, decoded, in order."""
    messages: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        if ws.url.endswith("/ws/tune"):
            ws.on("framereceived", lambda payload: messages.append(json.loads(payload)))

    gs.page.on("websocket", on_socket)
    return messages


def show_tune(gs: Gradscape, query: str) -> int:
    gs.open(f"{query}&stage=maps")
    gs.testid("maps-nav-tune").click()
    return wait_done(gs, 0)


def test_each_search_spends_the_budget_and_the_race_uses_its_best(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    messages = record_tune_socket(gs)
    done = show_tune(gs, SCENE)
    budget = gs.testid("tune-budget")
    budget.fill(str(BUDGET))
    budget.dispatch_event("change")
    wait_done(gs, done)

    # The last search's messages: its id is the done message's.
    last_done = [m for m in messages if m["type"] == "done"][-1]
    ours = [m for m in messages if m.get("id") == last_done["id"]]
    trials = [m for m in ours if m["type"] == "trial"]
    assert [r["optimizer"] for r in last_done["runs"]] == ["sgd", "momentum"]
    for run in range(2):
        for method in METHODS:
            got = [t for t in trials if t["run"] == run and t["method"] == method]
            assert [t["index"] for t in got] == list(range(BUDGET))
    assert any(t["score"] is None for t in trials), "the bowl's large rates diverge"

    # The chart shows exactly `budget` trials per method (finite ones as dots, diverged as ×),
    # at the learning rates the server tried, and each method's star on its best.
    chart = gs.page.evaluate(CHART)
    for method in METHODS:
        shown = (
            chart["traces"][f"{method}-trials"]["x"] + chart["traces"][f"{method}-diverged"]["x"]
        )
        sent = [t["values"][0] for t in trials if t["run"] == 0 and t["method"] == method]
        assert sorted(shown) == sorted(sent)
        best = last_done["runs"][0]["methods"][method]
        assert chart["traces"][f"{method}-best"]["x"] == [best["values"][0]]
        assert chart["traces"][f"{method}-best"]["y"] == [best["score"]]
    # The table: the best learning rate of every run and method, as the server reported it.
    for run in last_done["runs"]:
        for method in METHODS:
            cell = gs.page.locator(
                f'[data-testid="tune-row-{run["optimizer"]}"] td[data-method="{method}"]'
            )
            assert float(cell.get_attribute("data-lr")) == run["methods"][method]["values"][0]

    # Seeded: the same scene searched again gives the same trials, in the same order.
    done = wait_done(gs, 0)
    gs.testid("tune-run").click()
    wait_done(gs, done)
    again_done = [m for m in messages if m["type"] == "done"][-1]
    assert again_done["id"] != last_done["id"]
    again = [m for m in messages if m.get("id") == again_done["id"] and m["type"] == "trial"]
    key = ("run", "method", "index", "values", "score", "gap")
    assert [[t[k] for k in key] for t in again] == [[t[k] for k in key] for t in trials]

    # Stepping back to trial k shows the surrogate fitted to the first k Bayesian trials,
    # and its dotted line stands where the next Bayesian trial was taken.
    bayes = [t for t in trials if t["run"] == 0 and t["method"] == "bayes"]
    k = next(t["index"] + 1 for t in bayes if t.get("snapshot") and t["index"] < BUDGET - 1)
    slider = gs.testid("tune-step")
    slider.fill(str(k))
    chart = gs.page.evaluate(CHART)
    assert len(chart["traces"]["grid-trials"]["x"] + chart["traces"]["grid-diverged"]["x"]) == k
    assert "mean" in chart["traces"] and "ei" in chart["traces"]
    lines = [s["x0"] for s in chart["shapes"] if s["xref"] == "x3"]
    assert lines == [bayes[k]["values"][0]]
    assert gs.testid("tune-step-label").inner_text() == f"after trial {k} of {BUDGET}"

    # Race at random search's best, then at the best of the three: the learning rates set
    # are the ones the server reported, and the race is shown.
    gs.testid("tune-method").select_option("random")
    before = gs.counter()
    gs.testid("tune-race").click()
    gs.wait_drawn(before)
    state = gs.page.evaluate("() => window.__gradscape.state")
    assert state["stage"] == "race"
    for run in last_done["runs"]:
        assert state["params"][run["optimizer"]]["lr"] == run["methods"]["random"]["values"][0]
    gs.testid("stage-maps").click()
    gs.testid("maps-nav-tune").click()
    assert (
        gs.page.evaluate("() => window.__gradscape.maps.panels.tune.root.dataset.state") == "done"
    )
    gs.testid("tune-method").select_option("best")
    before = gs.counter()
    gs.testid("tune-race").click()
    gs.wait_drawn(before)
    state = gs.page.evaluate("() => window.__gradscape.state")
    for run in last_done["runs"]:
        assert state["params"][run["optimizer"]]["lr"] == run["best"]["lr"]
    gs.assert_clean()
