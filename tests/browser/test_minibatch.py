"""The mini-batch control on the real page: shown on a landscape over data only, live like
the other sliders, carried by the link, and with "race the full batch too" two paths."""

from __future__ import annotations

from tests.browser.conftest import Gradscape

SCENE = "landscape=faithful_linear&opt=sgd&sgd.lr=0.1&steps=100"


def slider_to(gs: Gradscape, index: int) -> None:
    """Move the batch slider to stop `index` (1, 2, 4, … 256, full) as a drag would."""
    gs.testid("batch-slider").evaluate(
        "(el, i) => { el.value = String(i);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        index,
    )


def test_the_slider_shows_only_where_there_is_data(app_page: Gradscape) -> None:
    gs = app_page.open("landscape=rosenbrock&opt=sgd")
    assert not gs.testid("batch-slider").is_visible()
    assert not gs.testid("landscape-about").is_visible()
    gs.change(lambda: gs.testid("landscape").select_option("faithful_linear"))
    assert gs.testid("batch-slider").is_visible()
    assert gs.testid("batch").input_value() == "272"  # the full batch: all 272 samples
    assert "272" in gs.testid("batch-of").inner_text()
    assert "mini-batch" in gs.testid("landscape-about").inner_text()
    assert gs.testid("batch-full").is_disabled()  # nothing to race it beside yet
    assert [r["batch"] for r in gs.runs()] == [None]
    gs.assert_clean()


def test_the_slider_moves_the_path_and_the_link_carries_it(app_page: Gradscape) -> None:
    gs = app_page.open(SCENE)
    (full,) = gs.runs()
    assert full["status"]["code"] == "settled_global" and full["batch"] is None
    assert not gs.testid("noise").is_disabled()

    gs.change(lambda: slider_to(gs, 3))  # 1, 2, 4, 8
    (mini,) = gs.runs()
    assert mini["batch"] == 8 and mini["title"] == "SGD · B = 8"
    assert mini["last"] != full["last"] and mini["status"]["code"] == "hovering"
    assert gs.testid("batch").input_value() == "8"
    assert gs.testid("noise").is_disabled()  # the mini-batches are the noise
    assert "batch=8" in gs.query().split("&")

    gs.change(lambda: gs.testid("batch-full").check())
    runs = gs.runs()
    assert [(r["title"], r["batch"]) for r in runs] == [("SGD · B = 272", None), ("SGD · B = 8", 8)]
    assert runs[0]["last"] == full["last"] and runs[1]["last"] == mini["last"]
    assert {"batch=8", "batch.full=1"} <= set(gs.query().split("&"))
    link = gs.query()

    # the link restores the scene: same runs, same paths, same controls
    again = Gradscape(page=gs.page, base=gs.base).open(link)
    assert [(r["batch"], r["last"]) for r in again.runs()] == [
        (r["batch"], r["last"]) for r in runs
    ]
    assert again.testid("batch-slider").input_value() == "3"
    assert again.testid("batch-full").is_checked()

    # the numeric field: all 272 samples is the full batch, bit for bit
    field = again.testid("batch")
    again.change(lambda: (field.fill("272"), field.press("Enter")))
    (whole,) = again.runs()
    assert whole["batch"] is None and whole["last"] == full["last"]
    assert "batch=" not in again.query()
    gs.assert_clean()


def test_the_preset_races_full_and_mini_batches_in_japanese(app_page: Gradscape) -> None:
    gs = app_page.open("preset=minibatch&lang=ja")
    runs = gs.runs()
    assert [r["batch"] for r in runs] == [None, 8]
    assert [r["status"]["code"] for r in runs] == ["settled_global", "hovering"]
    assert gs.testid("landscape-about").inner_text().startswith("各ステップ")
    assert gs.page.locator("#formula").inner_text().startswith("f(x, y) = 272 回")
    assert "ミニバッチサイズ" in gs.page.locator("[data-ctl=batch]").inner_text()
    gs.assert_clean()
