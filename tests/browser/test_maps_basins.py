"""The basins panel of the Maps stage (issue 13) in the browser.

Himmelblau from its default view shows four minimum colours, and each drawn pixel has the
colour of the minimum the server says its start ends at (so the maps are decoded and
oriented right: row j is ys[j], bottom up); a click on a pixel sets that pixel's start and
shows the race from it (one page for both: a page of the Maps stage costs seconds). At
1024×768, 1280×720, 1366×768 and 1920×1080, English and Japanese, normal and presentation
mode, the maps, their captions and the legend fit the panel without clipped or overlapping
text, and the maps keep a readable size."""

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

# Resolves once every map canvas and the legend have kept their boxes for 150 ms.
STILL = """async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const sig = () => JSON.stringify([...document.querySelectorAll(
    '[data-testid="maps-basins"] canvas, [data-testid="basins-legend"]')].map((e) => {
      const b = e.getBoundingClientRect();
      return [b.x, b.y, b.width, b.height, e.width].map(Math.round);
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

# Every text box in the panel that is cut, spills out of the panel, or overlaps another.
MEASURE = """() => {
  const section = document.querySelector('[data-testid="maps-basins"]');
  const box = (el) => el.getBoundingClientRect();
  const name = (el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} `
    + `"${(el.textContent || '').trim().slice(0, 40)}"`;
  const s = box(section);
  const problems = [];
  const texts = section.querySelectorAll(
    '.basins-head label, .basins-head select, .basins-status, .basins-hint, .basins-title, '
    + '.basins-share, .basins-key, .basins-point, .basins-ramp-text');
  for (const el of texts) {
    if (el.offsetParent === null) continue;
    const b = box(el);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
      problems.push(`cut: ${name(el)}`);
    }
    if (b.left < s.left - 0.5 || b.right > s.right + 0.5 || b.top < s.top - 0.5
        || b.bottom > s.bottom + 0.5) {
      problems.push(`outside the panel: ${name(el)}`);
    }
  }
  const blocks = [...section.querySelectorAll(
    '.basins-head, .basins-card, .basins-legend')].filter((el) => el.offsetParent !== null);
  for (let a = 0; a < blocks.length; a += 1) {
    for (let b = a + 1; b < blocks.length; b += 1) {
      const p = box(blocks[a]); const q = box(blocks[b]);
      const dx = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const dy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (dx > 1 && dy > 1) problems.push(`overlap: ${name(blocks[a])} / ${name(blocks[b])}`);
    }
  }
  const maps = [...section.querySelectorAll('[data-testid="basins-maps"] canvas')];
  for (const canvas of maps) {
    const b = box(canvas);
    if (b.bottom > s.bottom + 0.5 || b.right > s.right + 0.5) {
      problems.push(`map outside the panel: ${canvas.dataset.testid}`);
    }
  }
  return {
    problems,
    sides: maps.map((c) => Number(c.dataset.plot.split(',')[2])),
    texts: [...section.querySelectorAll('.basins-head label, .basins-key')].map(
      (el) => el.textContent),
  };
}"""


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
    gs.assert_clean()


def test_basins_fit_every_screen(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    show_basins(gs, "landscape=himmelblau&steps=40")  # all six optimizers, cheap to compute
    for look in ("normal", "presentation"):
        if look == "presentation":
            gs.testid("presentation").click()
        for lang in ("en", "ja"):
            if gs.page.evaluate("() => window.__gradscape.state.lang") != lang:
                gs.testid("lang").dispatch_event("click")  # hidden with the side panel
            for width, height in SIZES:
                gs.page.set_viewport_size({"width": width, "height": height})
                gs.testid("maps-nav-basins").click()
                gs.page.evaluate(STILL)
                m = gs.page.evaluate(MEASURE)
                where = f"{lang} {look} {width}×{height}"
                assert m["problems"] == [], where
                assert len(m["sides"]) == 6, where
                assert min(m["sides"]) >= MIN_MAP[look], f"{where}: maps of {m['sides']} px"
                if lang == "ja":
                    assert "出発点の数" in m["texts"][0], where
                    assert any("大域的最小値" in text for text in m["texts"]), where
                    assert any("発散" in text for text in m["texts"]), where
    gs.assert_clean()
