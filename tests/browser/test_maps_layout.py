"""The Maps stage fits every projector (issue 13): at 1024×768, 1280×720, 1366×768 and
1920×1080, in English and Japanese, normal and presentation mode, the panels do not
overlap or spill sideways, each one fits the visible stage, no label is clipped (the
panels' titles, captions, keys, selects; the toolbar keeps one line with its Race/Maps
switch), every text Plotly draws in the sweep and the heatmap stays inside its chart, the
sweep's diverged strip names every optimizer, and the charts' plot areas keep a readable
size. One page, resized and switched through the UI as a lecturer would; all six
optimizers, for the longest key and strip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.test_layout import inside, overlap

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]
OPTIMIZERS = ["sgd", "momentum", "nag", "adagrad", "rmsprop", "adam"]
SCENE = (
    f"landscape=ill_conditioned&opt={','.join(OPTIMIZERS)}&start=-7,2&steps=200&stage=maps"
    "&sgd.lr=0.5&adam.lr=0.05"
)
# Least plot areas (px): the sweep's lr axis and its two charts, the heatmap's axes.
SWEEP_MIN = {"x": 300, "gap": 100, "settle": 70}
HEATMAP_MIN = {"x": 250, "y": 200}

# Resolves once the sweep and heatmap have drawn after draw numbers `after` (and are not
# fetching) and every box measured kept still for 200 ms (a resize redraws the charts).
SETTLE = """async (after) => {
  const t0 = performance.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const panels = () => window.__gradscape.maps?.panels ?? {};
  const ready = () => ['sweep', 'heatmap'].every((n, i) =>
    panels()[n] && panels()[n].draws > after[i] && !panels()[n].busy);
  while (!ready() && performance.now() - t0 < 15000) await sleep(25);
  const watched = '.maps-panel, .maps-chart .nsewdrag, .maps-key, .toolbar > *';
  const sig = () => JSON.stringify([...document.querySelectorAll(watched)].map((e) => {
    const b = e.getBoundingClientRect();
    return [b.x, b.y, b.width, b.height].map(Math.round);
  }));
  let last = sig();
  let since = performance.now();
  while (performance.now() - since < 200 && performance.now() - t0 < 15000) {
    await sleep(40);
    const now = sig();
    if (now !== last) { last = now; since = performance.now(); }
  }
  return ready();
}"""

SEQS = """() => ['sweep', 'heatmap'].map(
  (n) => window.__gradscape.maps?.panels?.[n]?.draws ?? 0)"""

MEASURE = """() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height};
  };
  const shown = (el) => {
    if (!el || el.offsetParent === null) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden';
  };
  const name = (el) => {
    const id = el.id ? '#' + el.id : el.dataset?.testid ? `[${el.dataset.testid}]` : '';
    const text = (el.textContent || '').trim().slice(0, 30);
    return `${el.tagName.toLowerCase()}${id}.${[...el.classList].join('.')} "${text}"`;
  };
  const clipped = [];
  for (const el of document.querySelectorAll([
    '.maps-panel-title', '.maps-caption', '.maps-key-item', '.maps-bar label',
    '#stage-switch button', '.maps-nav .chip', '#present', '.toolbar .scene-title',
  ].join(','))) {
    if (!shown(el)) continue;
    if (el.scrollWidth > el.clientWidth + 2)
      clipped.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    else if (el.scrollHeight > el.clientHeight + 2)
      clipped.push(`${name(el)} ${el.scrollHeight}>${el.clientHeight} high`);
  }
  const ctx = document.createElement('canvas').getContext('2d');
  for (const el of document.querySelectorAll('#maps select')) {
    if (!shown(el)) continue;
    const text = el.selectedOptions[0]?.text || '';
    const cs = getComputedStyle(el);
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const need = ctx.measureText(text).width;
    const have = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;
    if (need > have + 2)
      clipped.push(`${name(el)} "${text}" ${Math.round(need)}>${Math.round(have)}`);
  }
  const toolbar = document.querySelector('.toolbar');
  const tb = box(toolbar);
  const offBar = [...toolbar.children].filter(shown).map((el) => [el, box(el)])
    .filter(([, b]) => b.y < tb.y - 1 || b.y + b.h > tb.y + tb.h + 1 || b.x + b.w > tb.x + tb.w + 1)
    .map(([el]) => name(el));
  const maps = document.getElementById('maps');
  const panels = [...maps.querySelectorAll('.maps-panel')].map((el) => ({
    id: el.dataset.panel, box: box(el),
    parts: [...el.querySelectorAll(':scope > h2, :scope > .maps-body > *')].filter(shown)
      .map((p) => ({name: name(p), box: box(p)})),
  }));
  // Plotly's texts (axis titles, ticks, annotations, legend) inside their chart
  const outside = [];
  const plots = {};
  for (const id of ['sweep-plot', 'heatmap-plot']) {
    const gd = document.querySelector(`[data-testid="${id}"]`);
    if (!shown(gd) || !gd._fullLayout) { plots[id] = null; continue; }
    const chart = box(gd);
    for (const text of gd.querySelectorAll('svg text')) {
      if (!text.textContent.trim()) continue;
      const b = box(text);
      if (b.w < 1) continue;
      if (b.x < chart.x - 2 || b.y < chart.y - 2 || b.x + b.w > chart.x + chart.w + 2
          || b.y + b.h > chart.y + chart.h + 2)
        outside.push(`${id}: "${text.textContent.slice(0, 30)}" ${JSON.stringify(b)}`
          + ` not in ${JSON.stringify(chart)}`);
    }
    const L = gd._fullLayout;
    plots[id] = {
      x: L.xaxis._length, y: L.yaxis._length, y2: L.yaxis2?._length ?? null,
      strip: gd.querySelectorAll('.y3tick').length,
    };
  }
  return {
    clipped, offBar, panels, outside, plots,
    maps: {box: box(maps), clientH: maps.clientHeight, scrollW: maps.scrollWidth,
           clientW: maps.clientWidth, cols: maps.dataset.cols},
    present: shown(document.getElementById('present')),
  };
}"""


def problems(m: dict[str, Any], width: int) -> list[str]:
    found = [f"clipped: {c}" for c in m["clipped"]]
    found += [f"toolbar wraps or overflows: {c}" for c in m["offBar"]]
    found += [f"outside its chart: {c}" for c in m["outside"]]
    if not m["present"]:
        found.append("the presentation button left the toolbar")
    maps = m["maps"]
    if maps["scrollW"] > maps["clientW"] + 1:
        found.append(f"the maps spill sideways: {maps['scrollW']} > {maps['clientW']}")
    panels = m["panels"]
    if [p["id"] for p in panels][:2] != ["sweep", "heatmap"] or len(panels) != 4:
        found.append(f"panels: {[p['id'] for p in panels]}")
    want_cols = "2" if maps["clientW"] >= 1100 else "1"
    if maps["cols"] != want_cols:
        found.append(f"{maps['cols']} columns at a stage {maps['clientW']} wide")
    for i, a in enumerate(panels):
        if a["box"]["h"] > maps["clientH"] + 1:
            found.append(f"{a['id']} is taller than the stage shows: {a['box']['h']}")
        if a["box"]["x"] < maps["box"]["x"] - 1 or (
            a["box"]["x"] + a["box"]["w"] > maps["box"]["x"] + maps["box"]["w"] + 1
        ):
            found.append(f"{a['id']} leaves the stage sideways: {a['box']}")
        for b in panels[i + 1 :]:
            if overlap(a["box"], b["box"]):
                found.append(f"{a['id']} overlaps {b['id']}: {a['box']} {b['box']}")
        if a["id"] not in ("sweep", "heatmap"):
            continue  # the basins and tune panels' insides are page-B's tests
        parts = a["parts"]
        for j, p in enumerate(parts):
            if not inside(p["box"], a["box"]):
                found.append(f"{a['id']}: {p['name']} leaves its panel: {p['box']}")
            for q in parts[j + 1 :]:
                if overlap(p["box"], q["box"]):
                    found.append(f"{a['id']}: {p['name']} overlaps {q['name']}")
    sweep, heat = m["plots"]["sweep-plot"], m["plots"]["heatmap-plot"]
    if sweep is None or heat is None:
        found.append(f"a chart is not drawn: {m['plots']}")
        return found
    if sweep["strip"] != len(OPTIMIZERS):
        found.append(f"the diverged strip names {sweep['strip']} of {len(OPTIMIZERS)}")
    for key, got in (("x", sweep["x"]), ("gap", sweep["y"]), ("settle", sweep["y2"])):
        if got < SWEEP_MIN[key]:
            found.append(f"sweep {key} axis {got:.0f} px < {SWEEP_MIN[key]}")
    for key in ("x", "y"):
        if heat[key] < HEATMAP_MIN[key]:
            found.append(f"heatmap {key} axis {heat[key]:.0f} px < {HEATMAP_MIN[key]}")
    return found


def test_maps_fit_every_screen(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    gs.open(SCENE)
    failures: list[str] = []
    sizes: list[str] = []
    look = {"lang": "en", "presentation": False}

    def settle(action: Any = None) -> None:
        seqs = gs.page.evaluate(SEQS)
        if action is None:
            seqs = [0, 0]
        else:
            action()
        assert gs.page.evaluate(SETTLE, seqs), "the sweep and heatmap did not redraw"

    def check(width: int, height: int) -> None:
        m = gs.page.evaluate(MEASURE)
        mode = "presentation" if look["presentation"] else "normal"
        where = f"{width}x{height} {look['lang']} {mode}"
        failures.extend(f"{where}: {p}" for p in problems(m, width))
        plots = m["plots"]
        sizes.append(
            f"{where}: {m['maps']['cols']} col, "
            f"sweep {plots['sweep-plot']}, heatmap {plots['heatmap-plot']}"
        )

    def toggle_lang() -> None:
        look["lang"] = "ja" if look["lang"] == "en" else "en"
        # hidden with the control panel in presentation mode: the same button
        settle(lambda: gs.testid("lang").dispatch_event("click"))

    def toggle_presentation() -> None:
        look["presentation"] = not look["presentation"]
        settle(lambda: gs.testid("presentation").click())

    settle()
    for n, (width, height) in enumerate(SIZES):
        if n:
            settle(lambda w=width, h=height: gs.page.set_viewport_size({"width": w, "height": h}))
        # four screens per size, one UI change between two of them
        check(width, height)
        toggle_presentation()
        check(width, height)
        toggle_lang()
        check(width, height)
        toggle_presentation()
        check(width, height)
    print("\n".join(sizes))  # the measured plot areas, for the record (pytest -s)
    assert not failures, "\n".join(failures)
    gs.assert_clean()
