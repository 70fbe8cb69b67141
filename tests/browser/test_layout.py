"""Layouts that fit every projector (issue 10, items 4 and 11): at 1024×768, 1280×720,
1366×768 and 1920×1080, in English and Japanese, normal and presentation mode, overlay and
side by side, no text is clipped, nothing overlaps, the toolbar keeps one line, side-by-side
panels stay readable, the main plot gets its share of the screen and the "click the plot"
hint is in view without scrolling.

"Half the viewport" is measured on the main plot's box (axes, colour bar, legend): equal-
scale axes of a square landscape cannot cover half of a 16:9 screen, so the axes themselves
get their own, stated bar (AXES_SHARE). One page per viewport; language, layout mode and
presentation mode are switched through the UI, as a lecturer would."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]
# Share of the viewport the main plot's box keeps, by mode. (In normal mode a wide landscape's
# box is only as big as its axes need, the loss chart and status take the rest.)
MAIN_SHARE = {"normal": 0.30, "presentation": 0.50}
# Share of the viewport the axes themselves (the drawn landscape) keep, by layout and mode.
AXES_SHARE = {
    ("overlay", "normal"): 0.25,
    ("overlay", "presentation"): 0.25,
    ("side_by_side", "normal"): 0.12,
    ("side_by_side", "presentation"): 0.15,
}
PANEL_MIN_WIDTH = 220  # a side-by-side panel narrower than this is unreadable on a projector

# Resolves once the page has redrawn after redraw number `before` and every box the checks
# measure has kept still for 250 ms (Plotly debounces its resizes by 100 ms).
SETTLE = """async (before) => {
  const t0 = performance.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  while (window.__gradscape.redraws <= before && performance.now() - t0 < 10000) await sleep(20);
  const watched = '#main-plot .nsewdrag, #main-plot .legend, #loss-plot .nsewdrag, '
    + '.stage .content, .toolbar > *';
  const sig = () => JSON.stringify([...document.querySelectorAll(watched)].map((e) => {
    const b = e.getBoundingClientRect();
    return [b.x, b.y, b.width, b.height].map(Math.round);
  }));
  let last = sig();
  let since = performance.now();
  while (performance.now() - since < 250 && performance.now() - t0 < 10000) {
    await sleep(40);
    const now = sig();
    if (now !== last) { last = now; since = performance.now(); }
  }
}"""

# Everything the checks need, measured in one pass.
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
    const id = el.id ? '#' + el.id : el.dataset.testid ? `[${el.dataset.testid}]` : '';
    const text = (el.textContent || '').trim().slice(0, 30);
    return `${el.tagName.toLowerCase()}${id}.${[...el.classList].join('.')} "${text}"`;
  };
  const clipped = [];
  const texts = document.querySelectorAll([
    '.toolbar button', '.toolbar label', '.toolbar .step-label', '.toolbar .scene-title',
    '#status th', '#status td', '#status', '.panel-label', '#plot-hint', '.keys',
    '#panel label', '#panel button', '#panel .param-name', '#panel h2', '#panel summary', '#panel',
  ].join(','));
  for (const el of texts) {
    if (!shown(el)) continue;
    // 2 px: sub-pixel text shaping can overhang a box by a pixel and a bit, unseen
    if (el.scrollWidth > el.clientWidth + 2)
      clipped.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
    else if (el.matches('.scene-title, .toolbar button') && el.scrollHeight > el.clientHeight + 1)
      clipped.push(`${name(el)} wraps: ${el.scrollHeight}>${el.clientHeight}`);
  }
  // A select shows its chosen option's text, a number field its value: measure the text.
  const ctx = document.createElement('canvas').getContext('2d');
  const room = (el, extra) => {
    const cs = getComputedStyle(el);
    return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - extra;
  };
  for (const el of document.querySelectorAll('select, input[type="number"]')) {
    if (!shown(el)) continue;
    const text = el.tagName === 'SELECT' ? (el.selectedOptions[0]?.text || '') : el.value;
    const cs = getComputedStyle(el);
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const need = ctx.measureText(text).width;
    const have = room(el, el.tagName === 'SELECT' ? 16 : 0);
    if (need > have + 2)
      clipped.push(`${name(el)} "${text}" ${Math.round(need)}>${Math.round(have)}`);
  }
  const toolbar = document.querySelector('.toolbar');
  const stage = document.querySelector('.stage');
  const tb = box(toolbar);
  const offBar = [...toolbar.children].filter(shown).map((el) => [el, box(el)])
    .filter(([, b]) => b.y < tb.y - 1 || b.y + b.h > tb.y + tb.h + 1 || b.x + b.w > tb.x + tb.w + 1)
    .map(([el]) => name(el));
  const regions = {};
  const add = (key, el) => { if (shown(el)) regions[key] = box(el); };
  add('toolbar', toolbar);
  add('panel', document.getElementById('panel'));
  add('main', document.getElementById('main-plot'));
  add('loss', document.getElementById('loss-plot'));
  add('lr', document.getElementById('lr-plot'));
  add('status', document.getElementById('status'));
  add('keys', document.querySelector('.keys'));
  add('hint', document.getElementById('plot-hint'));
  const legend = document.querySelector('#main-plot .layer-fg .legend');
  const modebar = document.querySelector('#main-plot .layer-fg .modebar');
  const axes = [...document.querySelectorAll('#main-plot .layer-fg .nsewdrag')].map(box);
  const panels = [...document.querySelectorAll('#main-plot .cell-panel')].map(box);
  return {
    clipped, offBar, regions, axes, panels,
    legend: legend && shown(legend) ? box(legend) : null,
    modebar: modebar ? box(modebar) : null,
    arrange: stage.dataset.arrange,
    scroll: stage.scrollHeight > stage.clientHeight,
  };
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """More than a pixel of shared area: borders may touch."""
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return w > 1 and h > 1


def inside(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] >= b["x"] - 1
        and a["y"] >= b["y"] - 1
        and a["x"] + a["w"] <= b["x"] + b["w"] + 1
        and a["y"] + a["h"] <= b["y"] + b["h"] + 1
    )


def problems(
    m: dict[str, Any],
    width: int,
    height: int,
    mode: str,
    look: str,
    axes_share: float | None = None,
) -> list[str]:
    """Every way this screen fails the layout's promises, said plainly."""
    found = [f"clipped: {c}" for c in m["clipped"]]
    found += [f"toolbar wraps or overflows: {c}" for c in m["offBar"]]
    regions = m["regions"]
    keys = sorted(regions)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if overlap(regions[a], regions[b]):
                found.append(f"{a} overlaps {b}: {regions[a]} {regions[b]}")
    main = regions["main"]
    if m["legend"] and not inside(m["legend"], main):
        found.append(f"legend cut off: {m['legend']} outside the main plot {main}")
    if m["modebar"] and m["legend"] and overlap(m["modebar"], m["legend"]):
        found.append(f"Plotly's toolbar covers the legend: {m['modebar']} {m['legend']}")
    if m["modebar"] and not inside(m["modebar"], main):
        found.append(f"Plotly's toolbar outside the main plot: {m['modebar']}")
    screen = width * height
    share = main["w"] * main["h"] / screen
    if share < MAIN_SHARE[look]:
        found.append(f"main plot {share:.2f} of the viewport < {MAIN_SHARE[look]}")
    axes = sum(a["w"] * a["h"] for a in m["axes"]) / screen
    bar = AXES_SHARE[(mode, look)] if axes_share is None else axes_share
    if axes < bar:
        found.append(f"axes {axes:.2f} of the viewport < {bar}")
    narrow = [p["w"] for p in m["panels"] if p["w"] < PANEL_MIN_WIDTH]
    if narrow:
        found.append(f"side-by-side panels narrower than {PANEL_MIN_WIDTH} px: {narrow}")
    if look == "normal":
        hint = regions.get("hint")
        if not hint or hint["y"] + hint["h"] > height or hint["y"] < 0:
            found.append(f"the 'click the plot' hint is not in view: {hint}")
    elif m["scroll"]:
        found.append("presentation mode scrolls")
    return found


def settle(gs: Gradscape, action: Any) -> None:
    before = int(gs.page.evaluate("() => window.__gradscape.redraws"))
    action()
    gs.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    gs.page.evaluate(SETTLE, before)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits(app_page: Gradscape, width: int, height: int) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": width, "height": height})
    # A start with four decimals: the start fields must show all of it.
    gs.open("lang=en&mode=overlay&start=-0.8777,-0.6543")
    failures: list[str] = []
    areas: list[str] = []

    def check(lang: str, mode: str, look: str) -> None:
        m = gs.page.evaluate(MEASURE)
        where = f"{width}x{height} {lang} {mode} {look}"
        failures.extend(f"{where}: {p}" for p in problems(m, width, height, mode, look))
        main = m["regions"]["main"]
        axes = sum(a["w"] * a["h"] for a in m["axes"])
        areas.append(
            f"{where}: main {main['w'] * main['h'] / (width * height):.2f}, "
            f"axes {axes / (width * height):.2f} ({m['arrange']})"
        )

    def present() -> None:
        settle(gs, lambda: gs.testid("presentation").click())

    def mode(value: str) -> None:
        # In presentation mode the select is hidden with the panel; it is the same control.
        settle(gs, lambda: gs.testid("mode").select_option(value, force=True))

    # One walk through all eight screens of a language, one UI change between two of them.
    for lang, first, second in [
        ("en", "overlay", "side_by_side"),
        ("ja", "side_by_side", "overlay"),
    ]:
        if lang == "ja":
            settle(gs, lambda: gs.testid("lang").click())
        check(lang, first, "normal")
        present()
        check(lang, first, "presentation")
        mode(second)
        check(lang, second, "presentation")
        present()
        check(lang, second, "normal")
    print("\n".join(areas))  # the measured shares, for the record (pytest -s)
    assert not failures, "\n".join(failures)
    gs.assert_clean()


def pause_fits(gs: Gradscape) -> list[str]:
    """While playing, the play button says Pause (一時停止) in full, on one line."""
    gs.page.keyboard.press("Space")
    play = gs.testid("play")
    fit = play.evaluate(
        """el => ({text: el.innerText.trim(), wide: el.scrollWidth > el.clientWidth + 2,
                   wraps: el.scrollHeight > el.clientHeight + 1})"""
    )
    playing = gs.page.evaluate("() => window.__gradscape.playing()")
    gs.page.keyboard.press("Space")
    if (
        not playing
        or fit["wide"]
        or fit["wraps"]
        or not fit["text"].endswith(("Pause", "一時停止"))
    ):
        return [f"the play button while playing: {fit}"]
    return []


PRESET_SCREENS = [
    ("preset=ill_conditioned&present=1", (1024, 768)),
    ("preset=ill_conditioned", (1280, 720)),
    ("preset=saddle&show=adam.lr&present=1", (1024, 768)),
    ("preset=saddle&show=adam.lr&present=1&lang=ja", (1280, 720)),
    ("preset=warmup&lang=ja", (1280, 720)),  # with the ηₜ chart
    ("preset=warmup&present=1", (1024, 768)),
    ("preset=rastrigin", (1280, 720)),  # Momentum's changed μ: its bold name whole
    ("preset=ill_conditioned&present=1", (1920, 1080)),  # split: loss chart under the plot
    # the gradient-free lessons: 遺伝的アルゴリズム and the budget lines in the status table,
    # a Japanese title with no space to wrap at in presentation's narrow title box
    ("preset=gradients_rosenbrock&lang=ja", (1280, 720)),
    ("preset=population_rastrigin&lang=ja&present=1", (1024, 768)),
]

# What presentation mode shows beyond MEASURE: the exit button's visible word, the status
# table's type size and where the loss chart sits.
EXTRA = """() => {
  const present = document.getElementById('present');
  const after = getComputedStyle(present, '::after').content;
  const cell = document.querySelector('#status td.num');
  return {
    arrange: document.getElementById('stage').dataset.arrange,
    exitWord: after === 'none' || after === 'normal' ? null : after.replace(/"/g, ''),
    exitText: parseFloat(getComputedStyle(present).fontSize) > 0,
    statusFont: cell ? parseFloat(getComputedStyle(cell).fontSize) : 0,
  };
}"""


def test_presets_fill_the_screen(app_page: Gradscape) -> None:
    """The wide bowl is not a strip in empty space; a teacher's strip of controls keeps the
    plot at half the screen; the ηₜ chart of a schedule finds its room. (Their axes get a
    lower bar: a 2:1 bowl or a strip leaves less.)"""
    gs = app_page
    failures: list[str] = []
    for query, (width, height) in PRESET_SCREENS:
        gs.page.set_viewport_size({"width": width, "height": height})
        gs.open(query)
        gs.page.evaluate(SETTLE, -1)
        m = gs.page.evaluate(MEASURE)
        look = "presentation" if "present=1" in query else "normal"
        where = f"{query} at {width}x{height}"
        found = problems(m, width, height, "overlay", look, axes_share=0.18)
        if ("lr" in m["regions"]) != ("warmup" in query):
            found.append(f"the ηₜ chart {'missing' if 'warmup' in query else 'shown'}")
        # The axes fill the plot's box along one side at least: no empty band both ways.
        (axes,) = m["axes"]
        main = m["regions"]["main"]
        if axes["w"] < 0.7 * main["w"] and axes["h"] < 0.6 * main["h"]:
            found.append(f"axes {axes} float in the plot's box {main}")
        if look == "presentation":
            found += pause_fits(gs)
            extra = gs.page.evaluate(EXTRA)
            # "Exit presentation (F)" in full, or where it does not fit an icon and "Exit"
            if not extra["exitText"] and extra["exitWord"] not in ("Exit", "終了"):
                found.append(f"the exit button is an icon only: {extra}")
            if width >= 1920:
                # a wide bowl: the loss chart fills the band under the plot, and the table's
                # type grows with the screen
                loss = m["regions"]["loss"]
                if extra["arrange"] != "split" or loss["y"] < main["y"] + main["h"] - 1:
                    found.append(f"the loss chart is not under the plot: {extra} {loss} {main}")
                if extra["statusFont"] < 18:  # 16 px at 1280 wide
                    found.append(f"status type {extra['statusFont']} px at {width} wide")
        failures += [f"{where}: {p}" for p in found]
    assert not failures, "\n".join(failures)
    gs.assert_clean()
