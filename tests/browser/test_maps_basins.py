"""The basins panel of the Maps stage (issue 13) in the browser.

Himmelblau from its default view shows four minimum colours, and each drawn pixel has the
colour of the minimum the server says its start ends at (so the maps are decoded and
oriented right: row j is ys[j], bottom up); a click on a pixel sets that pixel's start and
shows the race from it (one page for both: a page of the Maps stage costs seconds). At
1024×768, 1280×720, 1366×768 and 1920×1080, English and Japanese, normal and presentation
mode, the basins (maps, captions, legend) and the fair race (controls, chart, table) fit their
panels without clipped or overlapping text, the maps and the chart keep a readable size,
and the words are the language's."""

from __future__ import annotations

import base64
import colorsys
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]
# Himmelblau's default view, plain gradient descent and heavy-ball momentum at lr 0.01:
# both settle within 200 steps from most starts, in all four minima.
SCENE = "landscape=himmelblau&opt=sgd,momentum&sgd.lr=0.01&momentum.lr=0.01&steps=200"
# The side of a map's plot area, in CSS pixels, below which a projected map is unreadable.
MIN_MAP = {"normal": 140, "presentation": 120}
MIN_CHART = 220  # px: the tune chart's height, three columns of trials and the EI row
# Words each language must show: the basins' control and legend, the tune's race button,
# column titles and axis title.
WORDS = {
    "en": [
        "Starts",
        "global minimum",
        "diverged",
        "Race at the best values",
        "Grid search",
        "Bayesian optimization",
        "learning rate η",
    ],
    "ja": [
        "出発点の数",
        "大域的最小値",
        "発散",
        "最良の値で競争",
        "グリッドサーチ",
        "ランダムサーチ",
        "ベイズ最適化",
        "学習率 η",
    ],
}

# Resolves once the basins panel has drawn a complete set of maps newer than `after`.
DRAWN = """(after) => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const poll = () => {
    const panel = window.__gradscape.maps?.panels?.basins;
    if (panel && panel.drawnSeq > after && !panel.busy) return resolve(panel.drawnSeq);
    if (performance.now() - t0 > 20000) return reject(new Error('basins not drawn'));
    setTimeout(poll, 20);
  };
  poll();
})"""

# Resolves once the boxes of both panels (maps, legend, the tune chart's drawn size) have
# kept still for 150 ms.
STILL = """async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const sig = () => JSON.stringify([...document.querySelectorAll(
    '[data-testid="maps-basins"] canvas, [data-testid="basins-legend"], '
    + '[data-testid="tune-plot"] .main-svg, [data-testid="tune-table"]')].map((e) => {
      const b = e.getBoundingClientRect();
      return [b.x, b.y, b.width, b.height, e.width?.baseVal?.value ?? e.width].map(Math.round);
    }));
  const t0 = performance.now();
  let last = sig();
  let since = performance.now();
  while (performance.now() - since < 150 && performance.now() - t0 < 8000) {
    await sleep(40);
    const now = sig();
    if (now !== last) { last = now; since = performance.now(); }
  }
}"""

# Map i's plot area in page coordinates, and the RGB of the given pixel centres.
PIXELS = """([index, cells, n]) => {
  const canvas = document.querySelectorAll('[data-testid="basins-maps"] canvas')[index];
  const [left, top, size] = canvas.dataset.plot.split(',').map(Number);
  const k = canvas.width / canvas.getBoundingClientRect().width;
  const g = canvas.getContext('2d');
  return cells.map(([i, j]) => {
    const x = Math.floor((left + ((i + 0.5) * size) / n) * k);
    const y = Math.floor((top + ((n - 1 - j + 0.5) * size) / n) * k);
    return Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
  });
}"""

# In panel `section`: every text box (selector `texts`) that is cut or spills out of the
# panel, every pair of boxes (selector `blocks`) that overlap, and every pair of Plotly
# texts (titles, ticks, notes) that overlap or leave the panel.
FITS = """([section, texts, blocks]) => {
  const panel = document.querySelector(`[data-testid="${section}"]`);
  const box = (el) => el.getBoundingClientRect();
  const name = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} `
    + `"${(el.textContent || '').trim().slice(0, 40)}"`;
  const overlap = (p, q) => Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1
    && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1;
  const s = box(panel);
  const outside = (b) => b.left < s.left - 0.5 || b.right > s.right + 0.5
    || b.top < s.top - 0.5 || b.bottom > s.bottom + 0.5;
  const problems = [];
  for (const el of panel.querySelectorAll(texts)) {
    if (el.offsetParent === null) continue;
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      problems.push(`cut: ${name(el)}`);
    }
    if (outside(box(el))) problems.push(`outside the panel: ${name(el)}`);
  }
  const pairs = (list, what) => {
    for (let a = 0; a < list.length; a += 1) {
      for (let b = a + 1; b < list.length; b += 1) {
        if (overlap(box(list[a]), box(list[b]))) {
          problems.push(`${what} overlap: ${name(list[a])} / ${name(list[b])}`);
        }
      }
    }
  };
  pairs([...panel.querySelectorAll(blocks)].filter((el) => el.offsetParent !== null), 'boxes');
  const words = [...panel.querySelectorAll('.annotation-text, .xtick text, .ytick text, '
    + '.infolayer g[class*="title"] text')].filter((el) => (el.textContent || '').trim());
  pairs(words, 'chart texts');
  for (const el of words) if (outside(box(el))) problems.push(`chart text outside: ${name(el)}`);
  return problems;
}"""

BASINS_TEXTS = (
    ".basins-head label, .basins-head select, .basins-status, .basins-hint, .basins-title, "
    ".basins-share, .basins-key, .basins-point, .basins-ramp-text, .basins-map"
)
BASINS_BLOCKS = ".basins-head, .basins-card, .basins-legend"
TUNE_TEXTS = (
    ".tune-head label, .tune-head select, .tune-head input, .tune-head button, .tune-status, "
    ".tune-step-label, .tune-race, .tune-caption, .tune-table th, .tune-table td, .tune-table"
)
TUNE_BLOCKS = ".tune-head > *, .tune-chart, .tune-stepper, .tune-table, .tune-caption"

# The sizes the checks hold to: each map's plot side, the tune chart's height; some words.
SIZES_AND_WORDS = """() => ({
  sides: [...document.querySelectorAll('[data-testid="basins-maps"] canvas')].map(
    (c) => Number(c.dataset.plot.split(',')[2])),
  chart: document.querySelector('[data-testid="tune-plot"]').getBoundingClientRect().height,
  words: [...document.querySelectorAll('[data-testid="maps-basins"] .basins-head label, '
    + '[data-testid="basins-legend"] li, [data-testid="tune-race"], '
    + '[data-testid="tune-plot"] .annotation-text, [data-testid="tune-plot"] .g-xtitle')]
    .map((el) => el.textContent),
})"""


def wait_drawn(gs: Gradscape, after: int = 0) -> int:
    return int(gs.page.evaluate(DRAWN, after))


def decode(array: dict[str, Any]) -> list[int]:
    raw = base64.b64decode(array["data"])
    size = {"int16": 2, "int32": 4}[array["dtype"]]
    return [
        int.from_bytes(raw[k : k + size], "little", signed=True) for k in range(0, len(raw), size)
    ]


def hue(rgb: list[int]) -> float:
    h, _, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return h * 360


def hue_distance(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


def show_basins(gs: Gradscape, query: str) -> list[Any]:
    """Open the Maps stage on `query`, bring the basins into view; the replies it drew."""
    replies: list[Any] = []
    gs.page.on("response", lambda r: replies.append(r) if "/api/maps/basins" in r.url else None)
    gs.open(f"{query}&stage=maps")
    gs.testid("maps-nav-basins").click()
    wait_drawn(gs)
    return replies


def test_himmelblau_shows_four_minimum_colours_and_a_click_races_from_that_start(
    app_page: Gradscape,
) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    replies = show_basins(gs, SCENE)
    bodies = [r.json() for r in replies]
    assert [b["runs"][0]["optimizer"] for b in bodies] == ["sgd", "momentum"]
    last = gs.page.evaluate("() => window.__gradscape.maps.panels.basins.last")
    assert last["resolution"] == 128
    # Four minima, every one of them f*, each its own colour, named in the legend.
    minima = last["minima"]
    assert len(minima) == 4 and all(m["global"] for m in minima)
    colours = [m["color"] for m in minima]
    assert len(set(colours)) == 4
    legend = gs.page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="basins-legend"] [data-kind]')]
             .map((el) => [el.dataset.kind, el.dataset.color ?? null, el.textContent])"""
    )
    assert sorted(c for kind, c, _ in legend if kind == "minimum") == sorted(colours)
    kinds = [kind for kind, _, _ in legend]
    assert "notSettled" in kinds and "diverged" in kinds

    # Each map: sample pixels well inside a basin (all 8 neighbours share its label, away from
    # the markers) and check the drawn hue is the hue of the minimum the server named.
    for index, body in enumerate(bodies):
        n = len(body["xs"])
        labels = decode(body["runs"][0]["label"])
        assert len(labels) == n * n
        colour_of = {}
        for k, m in enumerate(body["minima"]):
            match = min(minima, key=lambda o: (o["x"] - m["x"]) ** 2 + (o["y"] - m["y"]) ** 2)
            colour_of[k] = match["color"]
        cells = []
        for j in range(2, n - 2, 7):
            for i in range(2, n - 2, 7):
                label = labels[j * n + i]
                around = {labels[(j + dj) * n + i + di] for dj in (-2, 0, 2) for di in (-2, 0, 2)}
                near_marker = any(
                    abs(body["xs"][i] - m["x"]) < 0.6 and abs(body["ys"][j] - m["y"]) < 0.6
                    for m in body["minima"]
                ) or (abs(body["xs"][i] + 0.3) < 0.6 and abs(body["ys"][j] + 0.9) < 0.6)
                if label >= 0 and around == {label} and not near_marker:
                    cells.append((i, j))
        assert len(cells) > 100
        pixels = gs.page.evaluate(PIXELS, [index, cells, n])
        seen = set()
        for (i, j), rgb in zip(cells, pixels, strict=True):
            want = colour_of[labels[j * n + i]]
            want_rgb = [int(want[k : k + 2], 16) for k in (1, 3, 5)]
            assert hue_distance(hue(rgb), hue(want_rgb)) < 12, ((i, j), rgb, want)
            seen.add(want)
        assert len(seen) == 4, f"map {index} shows {len(seen)} minimum colours"

    # A click on pixel (i, j) of SGD's map races from that start.
    n = len(bodies[0]["xs"])
    i, j = 100, 30  # x ≈ 2.87, y ≈ −2.64: the basin of (3.58, −1.85)
    canvas = gs.testid("basins-map-sgd")
    left, top, size = (float(v) for v in canvas.get_attribute("data-plot").split(","))
    box = canvas.bounding_box()
    assert box is not None
    before = gs.counter()
    gs.page.mouse.move(
        box["x"] + left + (i + 0.5) * size / n, box["y"] + top + (n - j - 0.5) * size / n
    )
    tip = gs.testid("basins-tip")
    assert tip.is_visible()
    assert "(2.87, −2.64)" in tip.inner_text()
    gs.page.mouse.down()
    gs.page.mouse.up()
    gs.wait_drawn(before)
    start = [bodies[0]["xs"][i], bodies[0]["ys"][j]]
    state = gs.page.evaluate("() => window.__gradscape.state")
    assert state["stage"] == "race"
    assert state["start"] == start
    assert gs.runs()[0]["first"] == pytest.approx(start, abs=1e-12)

    # Back on the maps, another resolution draws a new set: 64 × 64 starts per map.
    gs.testid("stage-maps").click()
    gs.testid("maps-nav-basins").click()
    seq = wait_drawn(gs)
    with gs.page.expect_response("**/api/maps/basins") as coarse:
        gs.testid("basins-resolution").select_option("64")
    wait_drawn(gs, seq)
    assert coarse.value.request.post_data_json["resolution"] == 64
    last = gs.page.evaluate("() => window.__gradscape.maps.panels.basins.last")
    assert last["resolution"] == 64 and len(last["minima"]) == 4
    assert all(sum(run["counts"].values()) == 64 * 64 for run in last["runs"])
    gs.assert_clean()


def wait_tuned(gs: Gradscape) -> None:
    gs.page.wait_for_function(
        """() => window.__gradscape.maps?.panels?.tune?.root.dataset.state === 'done'""",
        timeout=30000,
    )


def test_basins_and_tune_fit_every_screen(app_page: Gradscape) -> None:
    """Both of this file's panels at once (a page of the Maps stage costs seconds): all six
    optimizers, so six maps and six rows of the tune table, at every size, language and
    look a lecture uses."""
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    show_basins(gs, "landscape=himmelblau&steps=40")  # all six optimizers, cheap to compute
    gs.testid("maps-nav-tune").click()
    wait_tuned(gs)
    for look in ("normal", "presentation"):
        if look == "presentation":
            gs.testid("presentation").click()
        for lang in ("en", "ja"):
            if gs.page.evaluate("() => window.__gradscape.state.lang") != lang:
                gs.testid("lang").dispatch_event("click")  # hidden with the side panel
            # The stage brings a panel up to date (words, look) when it comes into view;
            # a resize reaches every panel.
            for panel in ("basins", "tune"):
                gs.testid(f"maps-nav-{panel}").click()
                gs.page.evaluate(STILL)
            for width, height in SIZES:
                gs.page.set_viewport_size({"width": width, "height": height})
                gs.page.evaluate(STILL)
                where = f"{lang} {look} {width}×{height}"
                for panel, texts, blocks in (
                    ("basins", BASINS_TEXTS, BASINS_BLOCKS),
                    ("tune", TUNE_TEXTS, TUNE_BLOCKS),
                ):
                    problems = gs.page.evaluate(FITS, [f"maps-{panel}", texts, blocks])
                    assert problems == [], f"{panel}, {where}"
                m = gs.page.evaluate(SIZES_AND_WORDS)
                assert len(m["sides"]) == 6, where
                assert min(m["sides"]) >= MIN_MAP[look], f"{where}: maps of {m['sides']} px"
                assert m["chart"] >= MIN_CHART, f"{where}: the tune chart is {m['chart']} px high"
                words = " ".join(m["words"])
                want = WORDS[lang]
                assert all(w in words for w in want), (where, [w for w in want if w not in words])
    gs.assert_clean()
