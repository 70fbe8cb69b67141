"""The optimizer's inside fits every projector (issue 12): at 1024×768, 1280×720, 1366×768
and 1920×1080, English and Japanese, normal and presentation mode, with Adam shown from
inside on the wide bowl (the adam_axes lesson) and on Rosenbrock's square: no text of the
panel is clipped, no equation is cut off at its right edge, the panel overlaps neither the
plot, the loss chart, the status table nor the toolbar, its "Next update" button is on
screen, and the arrows are long enough to read and drawn inside the plot.

What the screenshots showed before these checks held: a 1024-wide page's status column
cut its last heading; Adam's v term ran past the panel's edge; in presentation mode at
1024×768 the panel had 280 px and its numbers were below the fold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.test_layout import MEASURE, SETTLE, inside, overlap

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]
# The adam_axes lesson as a lecturer opens it (the preset shows Adam from inside), and
# Rosenbrock with Adam marked Inside by hand
AXES = "landscape=ill_conditioned&opt=sgd,adam&sgd.lr=0.1&adam.lr=0.1&steps=100&start=-7,2"
SCENES = ["preset=adam_axes&t=5", "preset=rosenbrock&inside=adam&t=40"]
MIN_ARROW = 17.5  # px (arrows.js MIN_DRAWN, less rounding)

INSIDE = """() => {
  const shown = (el) => el && el.offsetParent !== null && el.getBoundingClientRect().width > 1;
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
    + `.${[...el.classList].join('.')} "${(el.textContent || '').trim().slice(0, 30)}"`;
  const clipped = [];
  const texts = document.querySelectorAll(
    '#inside .inside-title, #inside .inside-update, #inside button, #inside h3,'
    + ' #arrow-legend th, #arrow-legend td, #inside-lecture .line, #inside-terms .term');
  for (const el of texts) {
    if (!shown(el)) continue;
    if (el.scrollWidth > el.clientWidth + 2)
      clipped.push(`${name(el)} ${el.scrollWidth}>${el.clientWidth}`);
  }
  // Pieces of an equation must not leave their term's box (flex-wrap keeps them in).
  for (const term of document.querySelectorAll('#inside-terms .term, #inside-lecture .line')) {
    const t = term.getBoundingClientRect();
    for (const m of term.querySelectorAll('math')) {
      const r = m.getBoundingClientRect();
      if (r.right > t.right + 2) clipped.push(`${name(term)}: math ends ${r.right} > ${t.right}`);
    }
  }
  // A table wider than its box is cut at the box's edge, though no cell overflows itself.
  for (const [table, box] of [['#arrow-legend', '#inside'], ['#status table', '#status']]) {
    const t = document.querySelector(table), b = document.querySelector(box);
    if (!shown(t) || !shown(b)) continue;
    const right = b.getBoundingClientRect().left + b.clientWidth;
    if (t.getBoundingClientRect().right > right + 1)
      clipped.push(`${table} ends at ${t.getBoundingClientRect().right} > ${right}`);
  }
  const panel = document.getElementById('inside');
  const step = document.getElementById('inside-step');
  const plots = [...document.querySelectorAll('#main-plot .layer-fg')].map((gd) => {
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return {left: xa._offset, top: ya._offset, width: xa._length, height: ya._length};
  });
  const arrows = [...document.querySelectorAll('#main-plot .layer-arrows')]
    .flatMap((c) => c.arrows || []);
  return {
    clipped, arrows, plots,
    panel: shown(panel) ? box(panel) : null,
    step: shown(step) ? box(step) : null,
    terms: document.querySelectorAll('#inside-terms .term').length,
  };
}"""


def problems(gs: Gradscape, width: int, height: int, look: str) -> list[str]:
    m = gs.page.evaluate(MEASURE)
    i = gs.page.evaluate(INSIDE)
    found = [f"clipped: {c}" for c in m["clipped"] + i["clipped"]]
    found += [f"toolbar wraps or overflows: {c}" for c in m["offBar"]]
    regions = dict(m["regions"])
    if not i["panel"]:
        return [*found, "the inside panel is not shown"]
    regions["inside"] = i["panel"]
    keys = sorted(regions)
    for n, a in enumerate(keys):
        for b in keys[n + 1 :]:
            if overlap(regions[a], regions[b]):
                found.append(f"{a} overlaps {b}: {regions[a]} {regions[b]}")
    if m["legend"] and not inside(m["legend"], regions["main"]):
        found.append(f"legend cut off: {m['legend']}")
    step = i["step"]
    screen = {"x": 0, "y": 0, "w": width, "h": height}
    if not step or not inside(step, screen):
        found.append(f"the Next update button is off screen: {step}")
    if look == "presentation" and m["scroll"]:
        found.append("presentation mode scrolls")
    if i["terms"] < 3:
        found.append(f"only {i['terms']} terms of the update shown")
    kinds = sorted(a["kind"] for a in i["arrows"])
    if kinds != ["grad", "momentum", "step"]:
        found.append(f"arrows drawn: {kinds}")
    (plot,) = i["plots"]
    for a in i["arrows"]:
        if a["pixels"] < MIN_ARROW:
            found.append(f"{a['kind']} arrow {a['pixels']:.1f} px: unreadable")
        x0, y0 = a["from"]
        if not (
            plot["left"] <= x0 <= plot["left"] + plot["width"]
            and plot["top"] <= y0 <= plot["top"] + plot["height"]
        ):
            found.append(f"{a['kind']} arrow starts outside the plot: {a['from']} {plot}")
    return found


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_inside_fits_every_screen(app_page: Gradscape, width: int, height: int) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": width, "height": height})
    failures: list[str] = []
    for scene in SCENES:
        for lang in ("en", "ja"):
            for look in ("normal", "presentation"):
                present = "&present=1" if look == "presentation" else ""
                gs.open(f"{scene}&lang={lang}{present}")
                gs.page.evaluate(SETTLE, -1)
                where = f"{scene} {width}x{height} {lang} {look}"
                failures += [f"{where}: {p}" for p in problems(gs, width, height, look)]
    assert not failures, "\n".join(failures)
    gs.assert_clean()


def test_the_check_sees_a_cut_equation(app_page: Gradscape) -> None:
    """The clipping check is not blind: squeeze the panel and it reports the cut terms."""
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open(f"{AXES}&inside=adam&t=5")
    gs.page.evaluate(SETTLE, -1)
    gs.page.add_style_tag(
        content=".terms .term { flex-wrap: nowrap !important; }"
        " .arrow-legend { width: 900px !important; }"
    )
    i: dict[str, Any] = gs.page.evaluate(INSIDE)
    assert any("term" in c for c in i["clipped"]), i["clipped"]
    assert any("#arrow-legend ends" in c for c in i["clipped"]), i["clipped"]
