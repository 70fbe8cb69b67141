"""Robust ranges: a runaway run doesn't set the loss chart's or the 3-D view's range; it is
clipped at the edge and marked off scale (issue 10, item 3).

On the saddle preset Momentum reaches f = −2.2e11 while f over the landscape's bounds spans
−4 … 4; the charts must keep showing the lesson (SGD stalls, the others escape downhill).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

LOSS = "document.querySelector('#loss-plot .loss-chart')"
LOSS_STATE = f"""() => {{
  const gd = {LOSS};
  return {{
    type: gd._fullLayout.yaxis.type,
    range: gd._fullLayout.yaxis.range,
    off: gd.data.filter(t => t.meta && t.meta.offScale).map(t => t.meta),
    notes: (gd.layout.annotations || []).map(a => a.text),
  }};
}}"""
SADDLE_MIN, SADDLE_MAX = -4.0, 4.0  # f = x² − y² over [−2, 2]²
SPAN = SADDLE_MAX - SADDLE_MIN


def loss_state(gs: Gradscape) -> dict[str, Any]:
    return gs.page.evaluate(LOSS_STATE)


def test_saddle_runaway_is_clipped_and_marked_in_every_view(app_page: Gradscape) -> None:
    gs = app_page.open("preset=saddle")
    runs = {r["optimizer"]: r for r in gs.runs()}
    assert runs["momentum"]["final_loss"] < -1e10  # the runaway this is about

    # Loss chart: linear f (no minimum value), its range a small multiple of −4 … 4.
    loss = loss_state(gs)
    assert loss["type"] == "linear"
    lo, hi = loss["range"]
    assert SADDLE_MIN - 12 * SPAN < lo < SADDLE_MIN - SPAN  # the escapes still show
    assert SADDLE_MAX <= hi < SADDLE_MAX + 12 * SPAN
    momentum = next(o for o in loss["off"] if o["optimizer"] == "momentum")
    assert momentum["offScale"] == "below" and momentum["step"] > 0
    assert any("Momentum: below −84 from step" in n for n in loss["notes"]), loss["notes"]
    # SGD stalls at the saddle and stays on scale.
    assert "sgd" not in {o["optimizer"] for o in loss["off"]}

    # Contour: the paths that leave the view end in an arrow at the edge, with a note.
    contour = gs.page.evaluate(
        """() => { const gd = document.querySelector('#main-plot .layer-fg');
                   const heads = gd.data.find(t => t.name === 'heads');
                   return { symbols: Object.fromEntries(heads.text.map((o, i) =>
                              [o, heads.marker.symbol[i]])),
                            notes: (gd.layout.annotations || []).map(a => a.text) }; }"""
    )
    assert contour["symbols"]["momentum"] == "arrow"
    assert contour["symbols"]["sgd"] != "arrow"
    assert any("Momentum left the view at step" in n for n in contour["notes"])

    # 3-D: the z axis spans the surface (and a little more), not −2.2e11.
    gs.testid("view").select_option("surface")
    gs.page.wait_for_function(
        """() => { const gd = document.querySelector('#main-plot .cell-surface');
                   return gd && gd.data && gd._fullLayout.scene; }"""
    )
    surface = gs.page.evaluate(
        """() => { const gd = document.querySelector('#main-plot .cell-surface');
                   const off = gd.data.find(t => t.name === 'off-scale');
                   return { range: gd._fullLayout.scene.zaxis.range,
                            lowest: Math.min(...gd.data.filter(t => t.type === 'scatter3d')
                              .flatMap(t => Array.from(t.z).filter(Number.isFinite))),
                            off: off.x.length,
                            notes: (gd.layout.annotations || []).map(a => a.text) }; }"""
    )
    z0, z1 = surface["range"]
    assert SADDLE_MIN - SPAN <= z0 < SADDLE_MIN and SADDLE_MAX < z1 <= SADDLE_MAX + SPAN
    assert surface["lowest"] >= z0  # clipped paths stay inside the box
    assert surface["off"] >= 1
    assert any("Momentum: off scale below" in n for n in surface["notes"])
    gs.assert_clean()


def test_diverging_runs_do_not_stretch_the_log_loss_chart(app_page: Gradscape) -> None:
    # Too-large learning rates on the ill-conditioned bowl (f = x²/20 + y², f* = 0, at
    # most 30 over its bounds): SGD and Momentum blow up to ~5e11 before they are cut off;
    # Adam's normalised steps stay bounded.
    gs = app_page.open("preset=divergence")
    runs = {r["optimizer"]: r for r in gs.runs()}
    assert runs["sgd"]["diverged_at"] is not None and runs["momentum"]["diverged_at"] is not None
    assert runs["adam"]["diverged_at"] is None
    loss = loss_state(gs)
    assert loss["type"] == "log"
    lo, hi = loss["range"]  # decades
    assert hi <= math.log10(10 * 30) + 0.2
    assert lo < math.log10(runs["adam"]["final_loss"])  # Adam's way down stays in view
    assert {(o["optimizer"], o["offScale"]) for o in loss["off"]} == {
        ("sgd", "above"),
        ("momentum", "above"),
    }
    assert any("SGD: above 300 from step" in n for n in loss["notes"]), loss["notes"]
    gs.assert_clean()


def test_off_scale_notes_fit_a_narrow_japanese_loss_chart(app_page: Gradscape) -> None:
    # 1024×768 presentation with a teacher's strip: the saddle's notes in Japanese are longer
    # than the loss chart's plot area; they start at the chart's edge and shrink to fit.
    gs = app_page
    gs.page.set_viewport_size({"width": 1024, "height": 768})
    gs.open("preset=saddle&show=adam.lr&lang=ja&present=1")
    boxes = gs.page.evaluate(
        """() => {
          const chart = document.querySelector('#loss-plot').getBoundingClientRect();
          const notes = [...document.querySelectorAll('#loss-plot .annotation-text')]
            .map(t => t.getBoundingClientRect());
          return { left: chart.left, right: chart.right,
                   notes: notes.map(n => [n.left, n.right, n.width]) };
        }"""
    )
    assert boxes["notes"], "no off-scale note on the saddle's loss chart"
    for left, right, width in boxes["notes"]:
        assert width > 100 and left >= boxes["left"] - 1 and right <= boxes["right"] + 1, boxes
    gs.assert_clean()
