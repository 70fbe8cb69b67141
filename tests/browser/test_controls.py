"""The hyperparameter sliders in headless Chromium (issue 10, items 5, 6 and 11): presentation
mode keeps a teacher link's controls, keys return to playback after the pointer moved a
slider, a click on a log slider's track does not jump a decade, lr sliders are wide enough,
and β-like sliders space 0.9, 0.99, 0.999 evenly."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1024, 768)]


def lr(gs: Gradscape, optimizer: str = "sgd") -> float:
    return float(gs.page.evaluate(f"() => window.__gradscape.state.params.{optimizer}.lr"))


def cursor(gs: Gradscape) -> int:
    return int(gs.page.evaluate("() => window.__gradscape.cursor()"))


def track_point(gs: Gradscape, testid: str, fraction: float) -> tuple[float, float]:
    box = gs.testid(testid).bounding_box()
    return box["x"] + fraction * box["width"], box["y"] + box["height"] / 2


#: Where the thumb's centre is drawn, from the slider's value and its --thumb-size.
THUMB_X = """el => {
  const thumb = parseFloat(getComputedStyle(el).getPropertyValue('--thumb-size'));
  const f = (Number(el.value) - Number(el.min)) / (Number(el.max) - Number(el.min));
  const r = el.getBoundingClientRect();
  return r.left + thumb / 2 + f * (r.width - thumb);
}"""


def thumb_x(gs: Gradscape, testid: str) -> float:
    return float(gs.page.get_by_test_id(testid).evaluate(THUMB_X))


def test_presentation_keeps_the_teacher_links_controls(app_page: Gradscape) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": 1280, "height": 720})
    gs.open("preset=saddle&show=adam.lr&present=1")
    assert gs.page.evaluate("() => document.body.classList.contains('presentation')")
    slider, field = gs.testid("slider-adam-lr"), gs.testid("param-adam-lr")
    assert slider.is_visible() and field.is_visible()
    box = slider.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 30, box
    assert field.bounding_box()["height"] >= 36
    font = field.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert font >= 18, font
    # Everything the link did not choose stays hidden, the app's brand included.
    for testid in ["slider-adam-beta1", "slider-sgd-lr", "toggle-adam", "landscape", "steps"]:
        assert not gs.testid(testid).is_visible(), testid
    assert not gs.page.locator(".brand").is_visible()
    # The plot keeps most of the screen: the controls are one short strip.
    panel = gs.page.locator("#panel").bounding_box()
    plot = gs.testid("main-plot").bounding_box()
    assert panel["height"] <= 0.15 * 720, panel
    assert plot["height"] >= 0.7 * 720, plot
    assert plot["y"] >= panel["y"] + panel["height"]
    # …and the slider works there.
    before = lr(gs, "adam")
    gs.change(lambda: gs.page.mouse.click(*track_point(gs, "slider-adam-lr", 0.95)))
    assert before < lr(gs, "adam") < 10 * before
    gs.change(lambda: field.fill("0.2"))
    assert lr(gs, "adam") == pytest.approx(0.2)
    gs.assert_clean()


def test_presentation_without_a_teacher_link_hides_every_control(app_page: Gradscape) -> None:
    gs = app_page.open("preset=saddle&present=1")
    assert not gs.page.locator("#panel").is_visible()
    assert not gs.testid("slider-adam-lr").is_visible()
    gs.assert_clean()


def test_keys_drive_playback_after_the_pointer_moved_a_slider(app_page: Gradscape) -> None:
    gs = app_page.open("preset=saddle&sgd.lr=0.1")
    steps = cursor(gs)
    # A click on the track…
    gs.change(lambda: gs.page.mouse.click(*track_point(gs, "slider-sgd-lr", 0.1)))
    clicked = lr(gs)
    assert clicked != 0.1
    gs.page.keyboard.press("ArrowLeft")
    gs.page.keyboard.press("ArrowLeft")
    assert cursor(gs) == steps - 2
    gs.page.keyboard.press("ArrowRight")
    assert cursor(gs) == steps - 1
    assert lr(gs) == clicked
    # …and a drag of the thumb give the keys back to playback.
    x = thumb_x(gs, "slider-sgd-lr")
    y = track_point(gs, "slider-sgd-lr", 0)[1]

    def drag() -> None:
        gs.page.mouse.move(x, y)
        gs.page.mouse.down()
        gs.page.mouse.move(x + 25, y, steps=4)
        gs.page.mouse.up()

    gs.change(drag)
    dragged = lr(gs)
    assert dragged > clicked
    gs.page.wait_for_function("() => document.activeElement === document.body")
    before = cursor(gs)
    gs.page.keyboard.press("ArrowLeft")
    assert cursor(gs) == before - 1
    gs.page.keyboard.press("ArrowRight")
    assert cursor(gs) == before
    gs.page.keyboard.press("Space")
    assert gs.page.evaluate("() => window.__gradscape.playing()")
    gs.page.keyboard.press("Space")
    assert not gs.page.evaluate("() => window.__gradscape.playing()")
    assert lr(gs) == dragged
    gs.assert_clean()


def test_a_slider_reached_with_tab_keeps_its_arrow_keys(app_page: Gradscape) -> None:
    gs = app_page.open("preset=saddle&sgd.lr=0.1")
    gs.testid("param-sgd-lr").focus()
    gs.page.keyboard.press("Shift+Tab")
    assert gs.page.evaluate("() => document.activeElement.dataset.testid") == "slider-sgd-lr"
    steps = cursor(gs)
    gs.change(lambda: gs.page.keyboard.press("ArrowLeft"))
    assert 0.01 < lr(gs) < 0.1
    assert cursor(gs) == steps
    gs.assert_clean()


@pytest.mark.parametrize("fraction", [0.1, 0.9])
def test_a_click_on_the_track_moves_lr_less_than_a_decade(
    app_page: Gradscape, fraction: float
) -> None:
    gs = app_page.open("preset=saddle&sgd.lr=0.1")
    gs.change(lambda: gs.page.mouse.click(*track_point(gs, "slider-sgd-lr", fraction)))
    moved = math.log10(lr(gs) / 0.1)
    assert 0.05 < abs(moved) < 1, lr(gs)
    assert (moved > 0) == (fraction > 0.5)
    assert gs.testid("param-sgd-lr").input_value() == f"{lr(gs):g}"
    # Held down, it keeps walking toward the pointer and stops there.
    x, y = track_point(gs, "slider-sgd-lr", fraction)
    gs.page.mouse.move(x, y)
    gs.page.mouse.down()
    # a step every 60 ms after 350 ms, each redrawing the race: on a loaded machine the
    # walk takes longer, so wait for the thumb to arrive, then hold on to see it stay
    gs.page.wait_for_function(
        f"([x]) => Math.abs(({THUMB_X})(document.querySelector('[data-testid=slider-sgd-lr]'))"
        " - x) <= 2",
        arg=[x],
        timeout=15_000,
    )
    gs.page.wait_for_timeout(500)
    gs.page.mouse.up()
    assert abs(thumb_x(gs, "slider-sgd-lr") - x) <= 2
    gs.assert_clean()


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_lr_sliders_are_wide(app_page: Gradscape, width: int, height: int, lang: str) -> None:
    gs = app_page
    gs.page.set_viewport_size({"width": width, "height": height})
    gs.open(f"landscape=rosenbrock&lang={lang}")  # free exploration: all six optimizers
    widths: dict[str, Any] = gs.page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.slider')]
             .filter(el => el.dataset.testid.endsWith('-lr') && el.offsetParent !== null)
             .map(el => [el.dataset.testid, el.getBoundingClientRect().width]))"""
    )
    assert len(widths) == 6
    assert all(w >= 160 for w in widths.values()), widths
    # The field and the name still fit beside each other above it.
    field = gs.testid("param-adam-lr").bounding_box()
    slider = gs.testid("slider-adam-lr").bounding_box()
    assert field["y"] + field["height"] <= slider["y"] + 1
    gs.assert_clean()


def test_decay_sliders_space_nines_evenly_and_keep_exact_values(app_page: Gradscape) -> None:
    gs = app_page.open()
    positions = []
    for value in ["0", "0.9", "0.99", "0.999", "0.9999"]:
        gs.change(lambda v=value: gs.testid("param-adam-beta1").fill(v))
        positions.append(thumb_x(gs, "slider-adam-beta1"))
    gaps = [b - a for a, b in itertools.pairwise(positions)]
    assert min(gaps) >= 15, gaps
    assert max(gaps) - min(gaps) <= 1, gaps
    # Every slider of a decay rate uses the same scale.
    for testid in ["slider-momentum-momentum", "slider-rmsprop-alpha", "slider-adam-beta2"]:
        assert float(gs.testid(testid).get_attribute("max")) == pytest.approx(4)
    # The slider proposes round values (1 − β to three digits)…
    gs.change(
        lambda: gs.testid("slider-adam-beta2").evaluate(
            "el => { el.value = '2'; el.dispatchEvent(new Event('input')); }"
        )
    )
    assert gs.testid("param-adam-beta2").input_value() == "0.99"
    assert gs.page.evaluate("() => window.__gradscape.state.params.adam.beta2") == 0.99
    # …and a typed or linked value stays exact, through the URL and back.
    gs.change(lambda: gs.testid("param-adam-beta1").fill("0.9995"))
    query = gs.query()
    assert "adam.beta1=0.9995" in query and "adam.beta2=0.99" in query
    again = app_page.open(f"{query}&momentum.momentum=0.95")
    assert again.testid("param-adam-beta1").input_value() == "0.9995"
    assert again.testid("param-momentum-momentum").input_value() == "0.95"
    assert "adam.beta1=0.9995" in again.query()
    assert "momentum.momentum=0.95" in again.query()
    gs.assert_clean()
