"""Paths you can tell apart: marker shapes, step dots, end markers that don't hide, a legend
that fits (issue 10, items 7 and 11).

Each test opens one page and checks several things on it: pages are the slow part.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

# The overlay's foreground chart: its traces in pixels (Plotly's drawn axes convert).
FG = "document.querySelector('#main-plot .layer-fg')"
DRAWN = f"""() => {{
  const gd = {FG};
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const px = (x, y) => [xa._offset + xa.l2p(x), ya._offset + ya.l2p(y)];
  const heads = gd.data.find(t => t.name === 'heads');
  return {{
    names: gd.data.map(t => t.name || null),
    heads: heads.x.map((x, i) => ({{
      optimizer: heads.text[i], symbol: heads.marker.symbol[i], at: px(x, heads.y[i]),
    }})),
    dots: (() => {{  // drawn on a canvas under the paths (static/js/dots.js)
      const canvas = document.querySelector('#main-plot .layer-dots');
      const ctx = canvas.getContext('2d'), ratio = canvas.width / canvas.clientWidth;
      const by = {{}};
      for (const p of canvas.dots.points) {{
        const run = (by[p.optimizer] ??= {{ optimizer: p.optimizer, every: canvas.dots.every,
                                            symbol: p.symbol, steps: [], at: [], painted: 0 }});
        const [x, y] = px(p.x, p.y);
        run.steps.push(p.step);
        run.at.push([x, y]);
        const alpha = ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data[3];
        if (alpha > 0) run.painted += 1;
      }}
      return Object.values(by);
    }})(),
    minima: gd.data.filter(t => t.hovertemplate && /minimum/.test(t.hovertemplate))
      .flatMap(t => t.x.map((x, i) => px(x, t.y[i]))),
    notes: (gd.layout.annotations || []).map(a => a.text),
    leaders: (gd.layout.shapes || []).length,
    start: (t => px(t.x[0], t.y[0]))(gd.data.find(t => t.mode === 'markers+text')),
  }};
}}"""
HEAD_SIZE = 11  # px, theme(false).head in static/js/plot.js
MINIMUM_SIZE = 14  # px, theme(false).minimum


def drawn(gs: Gradscape) -> dict[str, Any]:
    return gs.page.evaluate(DRAWN)


def test_rastrigin_runs_have_their_own_shapes_dots_and_visible_ends(
    app_page: Gradscape, server: str
) -> None:
    gs = app_page.open("preset=rastrigin")
    served = httpx.get(f"{server}/api/settings").json()["colors"]["symbols"]
    d = drawn(gs)
    runs = gs.runs()
    assert len(runs) == 6
    # Each run's head and step dots carry the shape the server gave its optimizer.
    assert {h["optimizer"]: h["symbol"] for h in d["heads"]} == {
        r["optimizer"]: served[r["optimizer"]] for r in runs
    }
    assert len({h["symbol"] for h in d["heads"]}) == 6
    assert {x["optimizer"]: x["symbol"] for x in d["dots"]} == {
        r["optimizer"]: served[r["optimizer"]] for r in runs
    }
    # Step dots every k-th step: a round k giving a readable number of dots (300 steps).
    for dots in d["dots"]:
        k = dots["every"]
        assert k in (10, 20), k
        assert dots["steps"] == list(range(k, 301, k))[: len(dots["steps"])]
        assert 10 <= len(dots["steps"]) <= 30
        assert dots["painted"] == len(dots["steps"])  # each one is on the canvas
    # Five runs end in the same dip near (4, −3): five markers, none covering another,
    # and a note saying so. Heads are drawn last, above the minima and the start.
    assert d["names"][-1] == "heads"
    ends = [h["at"] for h in d["heads"]]
    for i, a in enumerate(ends):
        for b in ends[i + 1 :]:
            assert math.dist(a, b) >= HEAD_SIZE, (a, b)
    assert any(note.startswith("5 runs ended at (4.0, −3.0)") for note in d["notes"]), d["notes"]
    assert d["leaders"] >= 5
    # No head sits on a minimum's marker (Momentum ends in a local minimum near (−1, 1)).
    for head in ends:
        for m in d["minima"]:
            assert math.dist(head, m) >= (HEAD_SIZE + MINIMUM_SIZE) / 2, (head, m)

    # Step 0: all six heads sit on the start; they fan out clear of its label.
    gs.testid("scrub").fill("0")
    gs.page.wait_for_function(f"() => {FG}.data.find(t => t.mode === 'lines').x.length === 1")
    boxes = gs.page.evaluate(
        """() => {
          const box = (el) => { const r = el.getBoundingClientRect();
                                return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
          const traces = document.querySelectorAll('#main-plot .layer-fg .scatterlayer .trace');
          return { label: box(document.querySelector(
                     '#main-plot .layer-fg .scatterlayer .textpoint text')),
                   heads: [...traces[traces.length - 1].querySelectorAll('.point')].map(box) };
        }"""
    )
    assert len(boxes["heads"]) == 6
    for head in boxes["heads"]:
        assert not overlaps(head, boxes["label"]), (head, boxes["label"])
    gs.assert_clean()


def test_rosenbrock_end_beside_the_star_not_under_it(app_page: Gradscape) -> None:
    gs = app_page.open("preset=rosenbrock")
    d = drawn(gs)
    star = d["minima"][0]
    momentum = next(h for h in d["heads"] if h["optimizer"] == "momentum")
    last = next(r for r in gs.runs() if r["optimizer"] == "momentum")["last"]
    assert math.dist(last, (1.0, 1.0)) < 0.05  # it did end on the minimum …
    assert math.dist(momentum["at"], star) >= (HEAD_SIZE + MINIMUM_SIZE) / 2  # … drawn beside
    gs.assert_clean()


def test_warmup_dots_show_the_step_growing_then_shrinking(app_page: Gradscape) -> None:
    gs = app_page.open("preset=warmup")
    # "short, long, then short again": warmup over 20 updates, then cosine decay to zero.
    # Adam's and Momentum's steps follow the schedule (SGD's first steps are long anyway:
    # the gradient at the start is large, so the preset's text names no optimizer).
    d = drawn(gs)
    for name in ("adam", "momentum"):
        dots = next(x for x in d["dots"] if x["optimizer"] == name)
        assert dots["every"] == 5  # 120 steps: 23 dots after the start
        at = [d["start"], *dots["at"]]
        gaps = [math.dist(a, b) for a, b in itertools.pairwise(at)]
        assert len(gaps) >= 20
        first, last, widest = gaps[0], gaps[-1], max(gaps)
        assert widest > 2.5 * first and widest > 10 * last, (name, gaps)
        assert gaps.index(widest) < len(gaps) // 2
    gs.assert_clean()


LEGEND = """() => {
  const legend = document.querySelector('#main-plot .plot-legend');
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const modebar = document.querySelector('#main-plot .layer-fg .modebar');
  const ticks = [...document.querySelectorAll('#main-plot .layer-bg .xtick text')];
  return {
    legend: box(legend),
    plot: box(document.querySelector('#main-plot')),
    modebar: modebar ? box(modebar) : null,
    ticksBottom: Math.max(...ticks.map(t => t.getBoundingClientRect().bottom)),
    items: [...legend.querySelectorAll('.legend-item')].map(el => ({
      box: box(el), clipped: el.scrollWidth > el.clientWidth + 1,
      symbol: el.dataset.symbol, text: el.textContent.trim(),
      shape: el.querySelector('svg polygon, svg rect, svg circle, svg path') !== null,
    })),
    viewport: {w: innerWidth, h: innerHeight},
  };
}"""


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]


def test_legend_shows_shapes_and_fits_below_the_plot_clear_of_the_toolbar(
    app_page: Gradscape,
) -> None:
    gs = app_page.open("preset=rastrigin")
    # margin.b: the tick labels' 40 px (52 in presentation mode) plus the legend's rows
    for width, height, present, ticks in (
        (1024, 768, False, 40),
        (1280, 720, False, 40),
        (1024, 768, True, 52),
        (1280, 720, True, 52),
    ):
        gs.page.set_viewport_size({"width": width, "height": height})
        if present and "present=1" not in gs.query():
            gs.testid("presentation").click()
        # Redrawn at the new size, with the bottom margin the legend's rows need.
        gs.page.wait_for_function(
            f"""() => {{ const gd = {FG};
                 const legend = document.querySelector('#main-plot .plot-legend');
                 const full = gd._fullLayout;
                 return Math.abs(full.width - gd.clientWidth) < 1
                   && Math.abs(full.height - gd.clientHeight) < 1
                   && full.margin.b === {ticks} + legend.offsetHeight; }}"""
        )
        gs.page.locator("#main-plot .layer-fg").hover()  # shows Plotly's toolbar
        layout = gs.page.evaluate(LEGEND)
        items = layout["items"]
        assert [i["text"] for i in items] == [
            "SGD",
            "Momentum",
            "Nesterov (NAG)",
            "AdaGrad",
            "RMSprop",
            "Adam",
        ]
        assert all(i["shape"] and not i["clipped"] for i in items), items
        assert len({i["symbol"] for i in items}) == 6
        legend, plot = layout["legend"], layout["plot"]
        for item in items:  # inside the plot's box and the window: nothing cut off
            b = item["box"]
            assert b["l"] >= plot["l"] - 1 and b["r"] <= plot["r"] + 1, (width, item)
            assert b["t"] >= plot["t"] - 1 and b["b"] <= plot["b"] + 1, (width, item)
            assert b["r"] <= layout["viewport"]["w"] and b["b"] <= layout["viewport"]["h"]
        assert layout["modebar"] is not None
        assert not overlaps(legend, layout["modebar"]), (width, layout)
        # Below the x-axis tick labels, not on them.
        assert legend["t"] >= layout["ticksBottom"] - 1, (width, layout)
    gs.assert_clean()


def test_a_wide_landscapes_legend_sits_under_its_axes_not_at_the_boxs_bottom(
    app_page: Gradscape,
) -> None:
    # Presentation at 1280×720: the bowl's equal-scale axes are width-limited and leave a
    # band below them; the key belongs right under the tick labels, not past that band.
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open("preset=ill_conditioned&present=1")
    gap = gs.page.evaluate(
        """() => {
          const labels = [...document.querySelectorAll('#main-plot .layer-bg .xtick text')]
            .map(t => t.getBoundingClientRect().bottom);
          const legend = document.querySelector('#main-plot [data-testid=plot-legend]');
          const box = document.querySelector('#main-plot').getBoundingClientRect();
          return { labels: Math.max(...labels), legend: legend.getBoundingClientRect().top,
                   boxBottom: box.bottom };
        }"""
    )
    assert 0 <= gap["legend"] - gap["labels"] <= 24, gap
    assert gap["boxBottom"] - gap["legend"] > 100, gap  # the band is really there, below
    gs.assert_clean()
