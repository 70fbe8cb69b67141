"""The Maps stage (issue 13) in the browser: the Race/Maps switch lives in the URL, the
learning-rate sweep draws the server's numbers (one trace per enabled optimizer, the
diverged strip, the measured boundary and theory's limit on the ill-conditioned bowl) and
follows a slider, a click on a sweep point or a heatmap cell sets the hyperparameters and
races with them, and the labels speak Japanese. One page per test, switched through the UI
where a lecturer would."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

# The textbook bowl f = x²/20 + y²: Hessian diag(0.1, 2), so SGD's limit is 2/2 = 1.
SCENE = "landscape=ill_conditioned&opt=sgd,momentum,adam&start=-7,2&steps=200"

# Resolves once panel `name` has drawn an answer newer than draw number `after`.
DRAWN = """([name, after]) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const poll = () => {
    const panel = window.__gradscape.maps?.panels?.[name];
    if (panel && panel.drawnSeq > after && !panel.busy) return resolve(panel.drawnSeq);
    if (performance.now() - t0 > 15000) return reject(new Error(`${name} not drawn`));
    setTimeout(poll, 20);
  };
  poll();
})"""

SEQ = "(name) => window.__gradscape.maps?.panels?.[name]?.drawnSeq ?? 0"

# The client pixel of point k of a sweep trace (optimizer, kind "gap") — or, for the
# heatmap, of cell (i, j) — through Plotly's axes (its private l2p, as plotly_adapter.js).
SWEEP_POINT = """([optimizer, k]) => {
  const gd = document.querySelector('[data-testid="sweep-plot"]');
  const trace = gd.data.find((t) => t.meta?.kind === 'gap' && t.meta.optimizer === optimizer);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.getBoundingClientRect();
  return {
    x: r.left + xa._offset + xa.l2p(Math.log10(trace.x[k])),
    y: r.top + ya._offset + ya.l2p(Math.log10(trace.y[k])),
    lr: trace.x[k],
  };
}"""

HEATMAP_CELL = """([i, j]) => {
  const gd = document.querySelector('[data-testid="heatmap-plot"]');
  const cells = gd.data.find((t) => t.meta?.kind === 'cells');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.getBoundingClientRect();
  return {x: r.left + xa._offset + xa.l2p(cells.x[i]), y: r.top + ya._offset + ya.l2p(cells.y[j])};
}"""

SWEEP_DRAWN = """() => {
  const gd = document.querySelector('[data-testid="sweep-plot"]');
  return {
    traces: gd.data.map((t) => ({meta: t.meta ?? null, x: t.x, y: t.y})),
    shapes: (gd.layout.shapes ?? []).map((s) => ({name: s.name, x0: s.x0, dash: s.line?.dash})),
    annotations: (gd.layout.annotations ?? []).map((a) => a.text),
    last: window.__gradscape.maps.panels.sweep.last,
  };
}"""


def wait_panel(gs: Gradscape, name: str, after: int = 0) -> int:
    return int(gs.page.evaluate(DRAWN, [name, after]))


def seq(gs: Gradscape, name: str) -> int:
    return int(gs.page.evaluate(SEQ, name))


def maps_shown(gs: Gradscape) -> bool:
    return bool(
        gs.page.evaluate(
            """() => !document.getElementById('maps').hidden
                && getComputedStyle(document.querySelector('.stage .content')).display === 'none'
                && window.__gradscape.maps.shown()"""
        )
    )


def field(gs: Gradscape, testid: str) -> float:
    return float(gs.testid(testid).input_value())


def test_sweep_draws_the_servers_numbers_and_follows_the_sliders(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    with gs.page.expect_response("**/api/maps/sweep") as response:
        gs.open(f"{SCENE}&stage=maps")
    reply = response.value.json()
    wait_panel(gs, "sweep")
    assert maps_shown(gs)
    drawn = gs.page.evaluate(SWEEP_DRAWN)
    assert drawn["last"] == reply

    # ≥ 64 learning rates over ≥ 4 decades; one gap and one settle trace per optimizer,
    # each the server's numbers (a gap of null is a break in the line).
    lrs = reply["lrs"]
    assert len(lrs) >= 64 and lrs[-1] / lrs[0] >= 1e4
    gaps = [t for t in drawn["traces"] if (t["meta"] or {}).get("kind") == "gap"]
    settles = [t for t in drawn["traces"] if (t["meta"] or {}).get("kind") == "settle"]
    assert [t["meta"]["optimizer"] for t in gaps] == ["sgd", "momentum", "adam"]
    assert len(settles) == 3
    for run, gap, settle in zip(reply["runs"], gaps, settles, strict=True):
        assert gap["x"] == lrs
        for want, got in zip(run["gap"], gap["y"], strict=True):
            assert (got is None) if want is None else got == pytest.approx(max(want, 1e-16))
        assert settle["y"] == [s if s >= 0 else None for s in run["settled_at"]]

    # Divergence: SGD diverges above its boundary; the measured boundary is drawn between
    # its last stable and first diverged rate, and theory's 2/λmax = 1 is a dashed line.
    sgd = reply["runs"][0]
    assert sgd["boundary"]["diverged"] is not None
    diverged = [t for t in drawn["traces"] if (t["meta"] or {}).get("kind") == "diverged"]
    assert len(diverged[0]["x"]) == sum(d >= 0 for d in sgd["diverged_at"])
    measured = next(s for s in drawn["shapes"] if s["name"] == "measured-sgd")
    assert sgd["boundary"]["stable"] <= measured["x0"] <= sgd["boundary"]["diverged"]
    limit = next(s for s in drawn["shapes"] if s["name"] == "limit-sgd")
    assert limit["x0"] == pytest.approx(sgd["limit"]) and limit["dash"] == "dash"
    assert sgd["limit"] == pytest.approx(1.0)
    assert any(text.startswith(f"{sgd['limit_formula']} = 1") for text in drawn["annotations"])
    assert "Hessian" in gs.testid("sweep-caption").inner_text()

    # The map as a slide: PNG (drawn by the server) and CSV of what the panel shows.
    with gs.page.expect_download() as download:
        gs.testid("sweep-export-png").click()
    assert download.value.suggested_filename == "gradscape-sweep-ill_conditioned.png"
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Live: Momentum's μ 0.9 → 0.5 moves its theoretical limit 2(1 + μ)/λmax from 1.9 to 1.5.
    before = seq(gs, "sweep")
    gs.testid("param-momentum-momentum").fill("0.5")
    gs.testid("param-momentum-momentum").press("Enter")
    wait_panel(gs, "sweep", before)
    drawn = gs.page.evaluate(SWEEP_DRAWN)
    momentum = next(r for r in drawn["last"]["runs"] if r["optimizer"] == "momentum")
    assert momentum["limit"] == pytest.approx(1.5)
    assert next(s for s in drawn["shapes"] if s["name"] == "limit-momentum")["x0"] == (
        pytest.approx(1.5)
    )

    # A click on a point: that lr in Momentum's field, the race shown and run with it.
    k = next(i for i, lr in enumerate(lrs) if lr >= 0.1)
    point = gs.page.evaluate(SWEEP_POINT, ["momentum", k])
    want = float(f"{point['lr']:.3g}")
    gs.change(lambda: gs.page.mouse.click(point["x"], point["y"]))
    assert not maps_shown(gs)
    assert gs.testid("main-plot").is_visible()
    assert field(gs, "param-momentum-lr") == pytest.approx(want)
    run = next(r for r in gs.runs() if r["optimizer"] == "momentum")
    assert run["params"]["lr"] == pytest.approx(want)
    assert run["params"]["momentum"] == pytest.approx(0.5)
    assert "stage=" not in gs.query()
    gs.assert_clean()


def test_view_switch_survives_a_reload_and_the_heatmap_sets_both_params(
    app_page: Gradscape,
) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1366, "height": 768})
    gs.open(SCENE)
    assert not maps_shown(gs)
    gs.page.keyboard.press("m")  # M switches too, and back
    gs.page.wait_for_function("() => location.search.includes('stage=maps')")
    assert maps_shown(gs)
    gs.page.keyboard.press("m")
    gs.page.wait_for_function("() => !location.search.includes('stage=maps')")
    assert not maps_shown(gs)
    gs.testid("stage-maps").click()
    gs.testid("maps-nav-heatmap").click()
    gs.page.wait_for_function(
        "() => location.search.includes('stage=maps') && location.search.includes('panel=heatmap')"
    )
    gs.page.reload()
    gs.page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
    assert maps_shown(gs)
    assert gs.testid("stage-maps").get_attribute("aria-pressed") == "true"
    wait_panel(gs, "heatmap")
    # …with the heatmap in view, at the top of the (one-column, scrolling) stage
    tops = gs.page.evaluate(
        """() => [document.getElementById('maps').getBoundingClientRect().top,
                  document.querySelector('[data-testid="maps-heatmap"]')
                    .getBoundingClientRect().top]"""
    )
    assert 0 <= tops[1] - tops[0] <= 12, tops

    # The heatmap: Momentum (enabled, Distill's picture), lr across, μ up.
    assert gs.testid("heatmap-optimizer").input_value() == "momentum"
    last = gs.page.evaluate("() => window.__gradscape.maps.panels.heatmap.last")
    assert last["y"]["name"] == "momentum"
    xs, ys = last["x"]["values"], last["y"]["values"]
    assert xs[-1] / xs[0] >= 1e4
    # Diverged cells are drawn in a trace of their own, exactly where the gap is null.
    diverged = gs.page.evaluate(
        """() => document.querySelector('[data-testid="heatmap-plot"]').data
                 .find((t) => t.meta?.kind === 'diverged').z"""
    )
    assert diverged == [[1 if g is None else None for g in row] for row in last["gap"]]
    # …and its table, as the server writes it: a header, then a row per cell.
    with gs.page.expect_download() as download:
        gs.testid("heatmap-export-csv").click()
    assert download.value.suggested_filename == "gradscape-heatmap-ill_conditioned.csv"
    rows = Path(download.value.path()).read_text("utf-8").splitlines()
    assert rows[0] == "lr,momentum,settled_at,gap,diverged_at"
    assert len(rows) == 1 + len(xs) * len(ys)

    # A settled cell near lr 0.1, μ 0.5: a click sets both and races with them.
    i = min(range(len(xs)), key=lambda n: abs(math.log10(xs[n]) + 1))
    j = min(range(len(ys)), key=lambda n: abs(ys[n] - 0.5))
    assert last["settled_at"][j][i] >= 0
    cell = gs.page.evaluate(HEATMAP_CELL, [i, j])
    gs.change(lambda: gs.page.mouse.click(cell["x"], cell["y"]))
    assert not maps_shown(gs)
    assert field(gs, "param-momentum-lr") == pytest.approx(float(f"{xs[i]:.3g}"))
    assert field(gs, "param-momentum-momentum") == pytest.approx(float(f"{ys[j]:.4g}"))
    run = next(r for r in gs.runs() if r["optimizer"] == "momentum")
    assert run["params"]["lr"] == pytest.approx(float(f"{xs[i]:.3g}"))
    assert run["params"]["momentum"] == pytest.approx(float(f"{ys[j]:.4g}"))

    # The colour toggle and the optimizer choice are part of the link.
    gs.testid("stage-maps").click()
    gs.testid("maps-nav-heatmap").click()
    before = seq(gs, "heatmap")
    gs.testid("heatmap-color").select_option("gap")
    gs.testid("heatmap-optimizer").select_option("adam")
    wait_panel(gs, "heatmap", before)
    gs.page.wait_for_function(
        "() => window.__gradscape.maps.panels.heatmap.last.y.name === 'beta1'"
    )
    gs.page.wait_for_function("() => location.search.includes('heatmap=adam')")
    assert "heatmap.color=gap" in gs.query()
    gs.assert_clean()


def test_maps_speak_japanese(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open(f"{SCENE}&stage=maps&lang=ja&present=1")
    wait_panel(gs, "sweep")
    wait_panel(gs, "heatmap")
    texts: dict[str, Any] = gs.page.evaluate(
        """() => ({
          switch: [...document.querySelectorAll('#stage-switch button')].map((b) => b.textContent),
          titles: [...document.querySelectorAll('.maps-panel-title')].map((h) => h.textContent),
          key: document.querySelector('[data-testid="sweep-key"]').textContent,
          caption: document.querySelector('[data-testid="sweep-caption"]').textContent,
          sweepX: document.querySelector('[data-testid="sweep-plot"]')
            ._fullLayout.xaxis.title.text,
          heatY: document.querySelector('[data-testid="heatmap-plot"]')
            ._fullLayout.yaxis.title.text,
          color: document.querySelector('[data-testid="heatmap-color"]').selectedOptions[0].text,
        })"""
    )
    assert texts["switch"] == ["レース", "マップ"]
    assert texts["titles"][:2] == ["学習率スイープ", "学習率 × モーメンタム"]
    assert "発散" in texts["key"] and "理論上の限界" in texts["key"]
    assert "ヘッセ行列" in texts["caption"] and "学習率" in texts["caption"]
    assert texts["sweepX"] == "学習率 η"
    assert texts["heatY"] == "モーメンタム μ"
    assert texts["color"] == "落ち着くまでのステップ数"
    # …and back to English through the toggle, without a new request to the server
    before = seq(gs, "sweep")
    gs.testid("lang").dispatch_event("click")  # hidden with the panel in presentation mode
    gs.page.wait_for_function(
        "() => document.querySelector('.maps-panel-title').textContent === 'Learning-rate sweep'"
    )
    gs.page.wait_for_function(
        """() => document.querySelector('[data-testid="sweep-plot"]')
                 ._fullLayout.xaxis.title.text === 'Learning rate η'"""
    )
    assert seq(gs, "sweep") == before
    gs.assert_clean()
