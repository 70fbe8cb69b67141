"""The Japanese page on a projector: lines wrap between phrases, never inside a word
(「局所最小値」, 「ステップ数」, 「終了」), and no English is left in it.

Where a line breaks is measured, not assumed: every character's box (Range.getClientRects)
says which line it sits on. A break is wrong when it falls between two kanji, two katakana
(ー included), two Latin letters or digits, or inside any Japanese term of
static/i18n/glossary.json. One page, resized and switched through the UI."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from app import presets
from app.config import I18N_DIR

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

JA = json.loads((I18N_DIR / "ja.json").read_text("utf-8"))
GLOSSARY = json.loads((I18N_DIR / "glossary.json").read_text("utf-8"))
TERMS = sorted(
    {t[k] for t in GLOSSARY["terms"] for k in ("ja", "ja_short") if len(t.get(k) or "") > 1},
    key=len,
)
KANJI = re.compile(r"[\u3400-\u9fff々]")
KATAKANA = re.compile(r"[\u30a0-\u30ffー]")
LATIN = re.compile(r"[A-Za-z0-9]")

# Per shown element whose text wraps: its text and the indices where a new line starts.
BREAKS = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.offsetParent === null || el.getClientRects().length === 0) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let text = '';
    const tops = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        tops.push(rects.length ? rects[0].top : null);
        text += node.data[i];
      }
    }
    const breaks = [];
    let line = null;
    tops.forEach((top, i) => {
      if (top === null) return;
      if (line !== null && top > line + 4) breaks.push(i);
      line = top;
    });
    if (breaks.length) out.push({text, breaks});
  }
  return out;
}"""

SELECTOR = ", ".join(
    [
        "#scene-title",
        "#panel label",
        "#panel .label",
        "#panel .param-name",
        "#panel summary",
        ".preset-text",
        ".keys",
        "#status th",
        "#status td",
        "#plot-hint",
    ]
)


def bad_breaks(found: list[dict[str, Any]]) -> list[str]:
    """Each break inside a word, shown as 'text before／text after'."""
    bad = []
    for item in found:
        text = item["text"]
        for i in item["breaks"]:
            # the characters either side, skipping spaces the line break swallowed
            left = text[:i].rstrip()
            right = text[i:].lstrip()
            if not left or not right:
                continue
            a, b = left[-1], right[0]
            inside_term = any(
                m.start() < i < m.end() for term in TERMS for m in re.finditer(term, text)
            )
            if (
                inside_term
                or (KANJI.match(a) and KANJI.match(b))
                or (KATAKANA.match(a) and KATAKANA.match(b))
                or (LATIN.match(a) and LATIN.match(b))
            ):
                bad.append(f"{left[-12:]}／{right[:12]}")
    return bad


def settle(gs: Gradscape) -> None:
    """Two frames and a pause: layout.js's resize handling has run."""
    gs.page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    )
    gs.page.wait_for_timeout(250)


def pick_preset(gs: Gradscape, preset_id: str) -> None:
    """Choose a preset through the panel's select (hidden in presentation mode)."""
    gs.change(
        lambda: gs.page.evaluate(
            """(id) => { const s = document.querySelector('[data-testid=preset]');
                         s.value = id; s.dispatchEvent(new Event('change', {bubbles: true})); }""",
            preset_id,
        )
    )


def test_japanese_lines_break_between_phrases(app_page: Any) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open("lang=ja&preset=warmup")
    assert gs.page.evaluate("() => document.documentElement.lang") == "ja"
    wrapped: set[str] = set()
    problems: list[str] = []

    def check(where: str) -> None:
        found = gs.page.evaluate(BREAKS, SELECTOR)
        wrapped.update(item["text"] for item in found)
        problems.extend(f"{where}: {b}" for b in bad_breaks(found))

    for width, height in ((1280, 720), (1024, 768)):
        gs.page.set_viewport_size({"width": width, "height": height})
        settle(gs)
        check(f"{width} normal")
    gs.page.keyboard.press("f")
    gs.page.wait_for_function("() => document.body.classList.contains('presentation')")
    for preset in presets.PRESETS:
        if preset.id != "warmup":
            pick_preset(gs, preset.id)
        for width, height in ((1280, 720), (1024, 768)):
            gs.page.set_viewport_size({"width": width, "height": height})
            settle(gs)
            check(f"{width} presentation {preset.id}")
    assert problems == [], problems
    # the test has teeth: the lecturer's wrapped lines are among those measured
    assert JA["preset.rastrigin.title"] in wrapped
    assert any("ウォームアップのステップ数" in text for text in wrapped), wrapped
    gs.assert_clean()


def test_latin_names_stand_apart_from_japanese_words() -> None:
    # 「同じ学習率の Momentum」: a space on both sides of a Latin name, as everywhere else
    names = "SGD|Momentum|NAG|AdaGrad|RMSprop|Adam|Rosenbrock|Rastrigin"
    glued = [
        f"{key}: {m.group(0)}"
        for key, text in JA.items()
        for m in re.finditer(rf"[ぁ-んァ-ヶ一-龠](?:{names})|(?:{names})[ぁ-んァ-ヶ一-龠]", text)
    ]
    assert glued == []
    assert JA["plot.endedAt"] == "{count} 本の経路が ({x}, {y}) で終了"


JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

# Each modebar button of the main plot: its tooltip (Plotly keeps it in data-title).
MODEBAR = """() => [...document.querySelectorAll('#main-plot .modebar-btn')]
  .map((b) => b.getAttribute('data-title'))"""


def test_no_english_left_in_the_japanese_page(app_page: Any) -> None:
    gs = app_page.open("lang=ja&preset=warmup")  # a cosine schedule with warmup: 3 options
    helps = gs.page.evaluate(
        "() => [...document.querySelectorAll('#schedule-options label')].map((l) => l.title)"
    )
    assert len(helps) == 3 and all(JAPANESE.search(h) for h in helps), helps
    assert JA["schedule.help.warmup"] in helps

    titles = gs.page.evaluate(MODEBAR)
    assert titles and all(JAPANESE.search(t) for t in titles), titles
    assert not any("share" in t.lower() or "cloud" in t.lower() for t in titles)
    # Zooming with the mouse shows Plotly's tip, in Japanese (double-click resets: plot.js)
    box = gs.page.locator("#main-plot .layer-fg .nsewdrag").first.bounding_box()
    gs.page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    gs.page.mouse.down()
    gs.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=8)
    gs.page.mouse.up()
    note = gs.page.locator(".plotly-notifier .notifier-note").first
    note.wait_for()
    assert "ダブルクリック" in note.inner_text()

    # English again after the toggle: the charts follow the page's language
    gs.testid("lang").click()
    gs.page.wait_for_function(
        """() => [...document.querySelectorAll('#main-plot .modebar-btn')]
                   .some((b) => b.getAttribute('data-title') === 'Zoom in')"""
    )
    helps = gs.page.evaluate(
        "() => [...document.querySelectorAll('#schedule-options label')].map((l) => l.title)"
    )
    assert "Linear warmup over the first W updates: factor (t + 1)/W." in helps
    gs.assert_clean()
