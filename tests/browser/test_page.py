"""The page in headless Chromium: drawing, live re-runs, URL state, teacher mode, languages,
side-by-side playback, presets, keyboard and export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

OPTIMIZERS = ["sgd", "momentum", "nag", "adagrad", "rmsprop", "adam"]


def test_page_loads_clean_and_offline(app_page: Gradscape) -> None:
    gs = app_page.open("landscape=rosenbrock")  # free exploration: PyTorch defaults
    assert gs.requests, "the route recorder saw nothing"
    assert any("/vendor/plotly-" in url for url in gs.requests)
    assert any(url.startswith("ws://127.0.0.1") for url in gs.requests)
    gs.assert_clean()
    for testid in [
        "landscape",
        "mode",
        "steps",
        "noise",
        "seed",
        "schedule",
        "play",
        "step-forward",
        "scrub",
        "preset",
        "lang",
        "share",
        "main-plot",
        "loss-plot",
        "status",
        "export-progress",
    ]:
        assert gs.testid(testid).count() == 1, testid
    for name in OPTIMIZERS:
        assert gs.testid(f"toggle-{name}").is_checked()
        assert gs.testid(f"param-{name}-lr").count() == 1
    for fmt in ["gif", "mp4", "html", "png", "csv", "json"]:
        assert gs.testid(f"export-{fmt}").is_visible()


def test_plotly_is_served_locally_with_a_long_cache(server: str) -> None:
    page = httpx.get(f"{server}/").text
    # Preloaded at once, run by main.js once its first requests are out.
    (src,) = re.findall(r'<link rel="preload" href="(/vendor/plotly-[^"]+)" as="script"', page)
    reply = httpx.get(f"{server}{src}")
    assert reply.status_code == 200 and len(reply.content) > 1_000_000
    assert "max-age=31536000" in reply.headers["cache-control"]


def test_six_paths_drawn_with_server_colours(app_page: Gradscape, server: str) -> None:
    gs = app_page.open("steps=120")
    catalog = httpx.get(f"{server}/api/optimizers").json()["optimizers"]
    colours = {o["name"]: o["color"] for o in catalog}
    traces = gs.path_traces()
    assert len(traces) == 6
    assert all(t["n"] == 121 for t in traces)
    assert sorted(t["color"] for t in traces) == sorted(colours[n] for n in OPTIMIZERS)
    drawn = gs.page.locator("#main-plot .layer-fg .scatterlayer .js-line")
    assert drawn.count() == 6
    # Plotly simplifies straight runs, so a slow optimizer's line can be short; none is empty.
    assert all((drawn.nth(i).get_attribute("d") or "").count("L") >= 1 for i in range(6))
    status = gs.testid("status").inner_text()
    assert all(title in status for title in ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"])
    gs.assert_clean()


def test_learning_rate_change_redraws_the_path_live(app_page: Gradscape) -> None:
    gs = app_page.open("landscape=rosenbrock")  # free exploration: PyTorch defaults
    before = {r["optimizer"]: r for r in gs.runs()}
    path = gs.page.locator("#main-plot .layer-fg .scatterlayer .js-line").nth(5)
    d_before = path.get_attribute("d")
    gs.change(lambda: gs.testid("param-adam-lr").fill("0.05"))
    after = {r["optimizer"]: r for r in gs.runs()}
    assert after["adam"]["params"]["lr"] == pytest.approx(0.05)
    assert after["adam"]["last"] != before["adam"]["last"]
    assert after["sgd"]["last"] == before["sgd"]["last"]
    assert path.get_attribute("d") != d_before
    # The slider moves the same state: a drag step redraws too.
    slider = gs.testid("slider-adam-lr")
    gs.change(
        lambda: slider.evaluate(
            "el => { el.value = String(Math.log10(0.2)); el.dispatchEvent(new Event('input')); }"
        )
    )
    assert gs.testid("param-adam-lr").input_value() == "0.2"
    assert {r["optimizer"]: r for r in gs.runs()}["adam"]["params"]["lr"] == pytest.approx(0.2)
    gs.assert_clean()


def test_out_of_range_value_is_refused_with_a_clear_message(app_page: Gradscape) -> None:
    gs = app_page.open()
    counter = gs.counter()
    gs.testid("param-adam-lr").fill("99")
    gs.page.wait_for_timeout(200)
    assert gs.counter() == counter  # nothing sent
    message = gs.page.locator("#run-error").inner_text()
    assert "lr" in message and "10" in message
    gs.assert_clean()


def test_click_on_the_plot_sets_the_start(app_page: Gradscape) -> None:
    gs = app_page.open("landscape=booth")
    box = gs.page.locator("#main-plot .layer-fg .nsewdrag").bounding_box()  # the plot area
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
    gs.change(lambda: gs.page.mouse.click(x, y))
    start = [float(v) for v in parse_qs(gs.query())["start"][0].split(",")]
    runs = gs.runs()
    assert all(r["first"] == pytest.approx(start) for r in runs)
    assert start[0] == pytest.approx(-4, abs=0.3)  # 30 % across Booth's [-10, 10] view
    assert start[1] == pytest.approx(0, abs=0.3)
    assert float(gs.testid("start-x").input_value()) == pytest.approx(start[0])
    gs.assert_clean()


@contextmanager
def reopened(browser: Any, gs: Gradscape) -> Iterator[Any]:
    """The page's current link opened in a fresh tab: it must show the same scene."""
    other = browser.new_page()
    try:
        other.goto(gs.page.url)
        other.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        other.evaluate("() => window.__gradscape.redrawAfter(0)")
        assert other.evaluate("() => window.__gradscape.query()") == gs.query()
        assert other.evaluate("() => window.__gradscape.runs()") == gs.runs()
        yield other
    finally:
        other.close()


def test_url_round_trip_restores_the_scene(app_page: Gradscape, browser, server: str) -> None:
    gs = app_page.open("landscape=rosenbrock")  # free exploration: PyTorch defaults
    gs.change(lambda: gs.testid("landscape").select_option("himmelblau"))
    gs.change(lambda: gs.testid("toggle-nag").uncheck())
    gs.change(lambda: gs.testid("param-rmsprop-lr").fill("0.03"))
    gs.change(lambda: gs.testid("param-adam-beta1").fill("0.8"))
    gs.change(lambda: gs.testid("steps").fill("150"))
    gs.change(lambda: gs.testid("noise").fill("0.5"))
    gs.change(lambda: gs.testid("seed").fill("7"))
    gs.change(lambda: gs.testid("schedule").select_option("step"))
    gs.change(lambda: gs.testid("schedule-warmup").fill("5"))
    gs.testid("mode").select_option("side_by_side")
    gs.testid("lang").click()
    gs.testid("scrub").fill("40")
    gs.page.wait_for_function("() => location.search.includes('t=40')")
    gs.page.wait_for_function("() => location.search.includes('lang=ja')")
    url = gs.page.url
    with reopened(browser, gs) as other:
        assert other.get_by_test_id("landscape").input_value() == "himmelblau"
        assert not other.get_by_test_id("toggle-nag").is_checked()
        assert other.get_by_test_id("param-adam-beta1").input_value() == "0.8"
        assert other.get_by_test_id("steps").input_value() == "150"
        assert other.get_by_test_id("schedule").input_value() == "step"
        assert other.get_by_test_id("mode").input_value() == "side_by_side"
        assert other.evaluate("() => window.__gradscape.cursor()") == 40
        assert other.evaluate("() => document.documentElement.lang") == "ja"
    params = parse_qs(urlsplit(url).query)
    assert params["rmsprop.lr"] == ["0.03"] and params["seed"] == ["7"]
    gs.assert_clean()


# Links as the page wrote and read them before its URL state became one table of
# properties, with the scene each opened then (as its canonical link): each still does.
# Out-of-range values fall back to the default the link is read over.
LINKS = {
    "landscape=himmelblau&opt=sgd,adam&adam.lr=0.05&steps=300&start=-1.5,2&noise=0.1&seed=3": (
        "landscape=himmelblau&opt=sgd,adam&adam.lr=0.05&steps=300&start=-1.5,2&noise=0.1&seed=3"
    ),
    "schedule=step&schedule.step_size=50&schedule.gamma=0.3": (
        "landscape=rosenbrock&opt=sgd,momentum,nag,adagrad,rmsprop,adam&steps=200"
        "&schedule=step&schedule.step_size=50&schedule.gamma=0.3&schedule.warmup=0"
    ),
    "mode=side_by_side&view=surface&lang=ja&present=1&speed=2&loop=1&t=120": (
        "landscape=rosenbrock&mode=side_by_side&view=surface"
        "&opt=sgd,momentum,nag,adagrad,rmsprop,adam&steps=200&lang=ja&present=1&speed=2&loop=1&t=120"
    ),
    "preset=divergence&sgd.lr=0.01&t=5": (
        "landscape=ill_conditioned&opt=sgd,momentum,adam&sgd.lr=0.01&steps=100&t=5&preset=divergence"
    ),
    "preset=saddle&landscape=booth": (
        "landscape=booth&opt=sgd,momentum,rmsprop,adam&steps=200&preset=saddle"
    ),
    "t=99999&steps=100": (
        "landscape=rosenbrock&opt=sgd,momentum,nag,adagrad,rmsprop,adam&steps=100&t=100"
    ),
    "opt=adam,foo,sgd": "landscape=rosenbrock&opt=sgd,adam&steps=200",
    "steps=20000&adam.lr=99&noise=-1&speed=3&landscape=nope": (
        "landscape=rosenbrock&opt=sgd,momentum,nag,adagrad,rmsprop,adam&steps=200"
    ),
}


def test_links_written_before_the_property_table_open_the_same_scene(app_page: Gradscape) -> None:
    gs = app_page
    for link, scene in LINKS.items():
        gs.page.goto(f"{gs.base}/?{link}")
        gs.page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        assert gs.query() == scene, link
    gs.assert_clean()


def test_teacher_link_hides_chosen_controls(app_page: Gradscape) -> None:
    gs = app_page.open("show=adam.lr,steps")
    assert gs.testid("param-adam-lr").is_visible()
    assert gs.testid("steps").is_visible()
    for hidden in [
        "param-sgd-lr",
        "param-adam-beta1",
        "toggle-adam",
        "landscape",
        "noise",
        "schedule",
        "preset",
        "export-gif",
    ]:
        assert not gs.testid(hidden).is_visible(), hidden
    assert gs.page.locator("#teacher-note").is_visible()
    assert gs.testid("play").is_visible()  # playback always stays
    gs.change(lambda: gs.testid("param-adam-lr").fill("0.1"))

    gs.open("hide=export,noise")
    assert not gs.testid("export-csv").is_visible() and not gs.testid("noise").is_visible()
    assert gs.testid("param-sgd-lr").is_visible()

    # The UI builds such links: tick only "steps" and read the produced URL.
    gs.open()
    gs.page.locator("#teacher summary").click()
    for box in gs.page.locator("#teacher-choices input").all():
        box.uncheck()
    gs.page.locator("#teacher-choices input[value='steps']").check()
    gs.testid("teacher-link").click()
    link = gs.testid("teacher-url").input_value()
    assert parse_qs(urlsplit(link).query)["show"] == ["steps"]
    gs.page.goto(link)
    gs.page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
    assert gs.testid("steps").is_visible() and not gs.testid("param-adam-lr").is_visible()
    gs.assert_clean()


def test_japanese_labels_everywhere(app_page: Gradscape) -> None:
    gs = app_page.open("lang=ja")
    assert gs.page.evaluate("() => document.documentElement.lang") == "ja"
    assert gs.testid("play").inner_text().strip().endswith("再生")
    assert "最適化手法" in gs.page.locator("#panel").inner_text()
    assert "学習率" in gs.page.locator("label[for='p-adam-lr']").inner_text()
    assert "学習率" in (gs.page.locator("label[for='p-adam-lr']").get_attribute("title") or "")
    assert "ステップ" in gs.testid("status").inner_text()
    # Every [data-i18n] label differs from English, except the few shared symbols.
    untranslated = gs.page.evaluate(
        """async () => {
             const en = await (await fetch('/static/i18n/en.json')).json();
             return [...document.querySelectorAll('[data-i18n]')]
               .filter(el => el.textContent === en[el.dataset.i18n]
                             && /[a-z]{3}/.test(el.textContent))
               .map(el => el.dataset.i18n);
           }"""
    )
    assert untranslated == []
    gs.testid("lang").click()
    gs.page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert gs.testid("play").inner_text().strip().endswith("Play")
    gs.assert_clean()


def test_side_by_side_panels_play_in_sync(app_page: Gradscape) -> None:
    gs = app_page.open("steps=80")
    gs.testid("mode").select_option("side_by_side")
    gs.page.wait_for_function(
        "() => document.querySelectorAll('#main-plot .cell-panel').length === 6"
    )
    gs.page.wait_for_function(
        "() => [...document.querySelectorAll('#main-plot .layer-fg')].every(gd => gd.data)"
    )
    assert len(gs.path_traces()) == 6
    gs.testid("scrub").fill("10")
    gs.testid("step-forward").click()
    gs.page.wait_for_function(
        """() => [...document.querySelectorAll('#main-plot .layer-fg')]
             .every(gd => gd.data.find(t => t.mode === 'lines').x.length === 12)"""
    )
    assert {t["n"] for t in gs.path_traces()} == {12}
    assert gs.page.locator(".loss-cursor").get_attribute("data-step") == "11"
    gs.assert_clean()


def test_a_zoom_in_one_panel_zooms_every_panel_and_its_contour(app_page: Gradscape) -> None:
    gs = app_page.open("steps=40&mode=side_by_side&opt=sgd,adam")
    gs.page.wait_for_function(
        """() => document.querySelectorAll('#main-plot .cell-panel').length === 2
             && [...document.querySelectorAll('#main-plot .layer-fg')].every(gd => gd.data)"""
    )
    box = gs.page.locator("#main-plot .cell-panel .layer-fg .nsewdrag").first.bounding_box()
    gs.page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    gs.page.mouse.down()
    gs.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=8)
    gs.page.mouse.up()
    # Every chart (both panels, paths and contour layers) ends up on the zoomed ranges.
    ranges = gs.page.wait_for_function(
        """() => {
             // the Plotly layers (the step dots' canvas is a layer too, not a chart)
             const charts = [...document.querySelectorAll(
               '#main-plot .layer-bg, #main-plot .layer-fg')];
             const r = charts.map(
               gd => JSON.stringify([gd.layout.xaxis.range, gd.layout.yaxis.range]));
             const [x, y] = JSON.parse(r[0]);
             return charts.length === 4 && new Set(r).size === 1 && x[1] - x[0] < 3 && [x, y];
           }"""
    ).json_value()
    (x0, x1), (y0, y1) = ranges
    assert -2 < x0 < x1 < 2 and -1 < y0 < y1 < 3  # inside Rosenbrock's view
    gs.assert_clean()


def test_presets_apply_their_scene_and_explain_it(app_page: Gradscape) -> None:
    gs = app_page.open()
    gs.change(lambda: gs.testid("preset").select_option("divergence"))
    assert gs.testid("landscape").input_value() == "ill_conditioned"
    text = gs.page.locator("#preset-text").inner_text()
    assert "diverge" in text and len(text) > 200
    row = "#status tr[data-optimizer={}]:not(.outcome)"
    assert gs.page.locator(row.format("sgd")).get_attribute("data-status") == "diverged"
    assert gs.page.locator(row.format("sgd") + " td:last-child").inner_text() == "39"
    assert gs.page.locator(row.format("momentum")).get_attribute("data-status") == "diverged"
    assert "diverged" in gs.testid("status").inner_text()
    assert "preset=divergence" in gs.query()
    gs.change(lambda: gs.testid("preset").select_option("rastrigin"))
    assert gs.page.locator(row.format("momentum")).get_attribute("data-status") == "settled_local"
    assert "settled in a local minimum" in gs.testid("status").inner_text()
    gs.change(lambda: gs.testid("preset").select_option("ill_conditioned"))
    runs = {r["optimizer"]: r for r in gs.runs()}
    assert set(runs) == {"sgd", "momentum", "adagrad", "adam"}
    assert runs["sgd"]["first"] == [-7.0, 2.0]
    gs.testid("lang").click()
    gs.page.wait_for_function("() => document.documentElement.lang === 'ja'")
    assert "教科書" in gs.page.locator("#preset-text").inner_text()
    gs.assert_clean()


def test_a_preset_link_opens_its_scene_and_round_trips_changes(
    app_page: Gradscape, browser
) -> None:
    gs = app_page.open("preset=saddle")
    assert gs.testid("landscape").input_value() == "saddle"
    assert gs.testid("preset").input_value() == "saddle"
    assert "saddle" in gs.page.locator("#preset-text").inner_text().lower()
    assert gs.runs()[0]["first"] == [-1.8, 0.001]
    # undo one of a preset's own choices (noise 3 → 0): the link must carry the change
    gs.change(lambda: gs.testid("preset").select_option("noise"))
    assert gs.testid("noise").input_value() == "3"
    gs.change(lambda: gs.testid("noise").fill("0"))
    gs.page.wait_for_function("() => location.search.includes('noise=0')")
    with reopened(browser, gs) as other:
        assert other.get_by_test_id("preset").input_value() == "noise"
        assert other.get_by_test_id("noise").input_value() == "0"
    gs.assert_clean()


def test_playback_controls_and_keys(app_page: Gradscape) -> None:
    gs = app_page.open("steps=60&speed=4")
    cursor = "() => window.__gradscape.cursor()"
    assert gs.page.evaluate(cursor) == 60
    gs.page.locator("body").click(position={"x": 5, "y": 895})
    gs.page.keyboard.press("ArrowLeft")
    gs.page.keyboard.press("ArrowLeft")
    assert gs.page.evaluate(cursor) == 58
    gs.page.keyboard.press("ArrowRight")
    assert gs.page.evaluate(cursor) == 59
    gs.page.keyboard.press("r")  # R = restart from step 0 and play
    assert gs.page.evaluate("() => window.__gradscape.playing()")
    gs.page.keyboard.press("Space")  # pause
    assert not gs.page.evaluate("() => window.__gradscape.playing()")
    paused_at = gs.page.evaluate(cursor)
    assert paused_at < 60
    gs.testid("play").click()
    gs.page.wait_for_function("() => window.__gradscape.cursor() === 60")
    assert not gs.page.evaluate("() => window.__gradscape.playing()")
    gs.page.keyboard.press("f")  # F = presentation mode
    assert gs.page.evaluate("() => document.body.classList.contains('presentation')")
    assert not gs.page.locator("#panel").is_visible()
    assert "present=1" in gs.query()
    gs.page.keyboard.press("f")
    assert gs.page.locator("#panel").is_visible()
    assert "R" in gs.page.locator(".keys").inner_text()
    gs.assert_clean()


def test_export_shows_progress_and_downloads(app_page: Gradscape, tmp_path: Path) -> None:
    gs = app_page.open("steps=40&opt=sgd,adam")
    with gs.page.expect_download(timeout=60_000) as info:
        gs.testid("export-csv").click()
        gs.testid("export-progress").wait_for(state="visible")
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].replace(" ", "").startswith("step,optimizer,x,y,loss")
    assert len(lines) == 1 + 2 * 41
    assert gs.testid("export-progress").get_attribute("data-done") == "true"
    assert "csv" in gs.page.locator("#export-message").inner_text().lower()

    with gs.page.expect_download(timeout=120_000) as info:
        gs.testid("export-gif").click()
    assert info.value.suggested_filename.endswith(".gif")
    gs.assert_clean()


def test_export_without_the_export_api_shows_a_clear_error(app_page: Gradscape) -> None:
    gs = app_page.open("steps=20")
    gs.page.route("**/api/exports", lambda route: route.fulfill(status=404, json={"detail": "x"}))
    gs.testid("export-mp4").click()
    message = gs.page.locator("#export-message")
    message.wait_for(state="visible")
    gs.page.wait_for_function(
        "() => document.querySelector('#export-message').dataset.kind === 'error'"
    )
    assert "not available" in message.inner_text()
    assert gs.testid("export-mp4").is_enabled()  # buttons usable again


def test_surface_view_toggles_and_back(app_page: Gradscape) -> None:
    gs = app_page.open("steps=50&opt=sgd,adam")
    gs.testid("view").select_option("surface")
    gs.page.wait_for_function(
        """() => { const gd = document.querySelector('#main-plot .cell-surface');
                   return gd && gd.data && gd.data[0].type === 'surface'; }"""
    )
    lines = gs.page.evaluate(
        """() => document.querySelector('#main-plot .cell-surface').data
                 .filter(t => t.type === 'scatter3d' && t.mode === 'lines').length"""
    )
    assert lines == 2
    assert "view=surface" in gs.query()
    gs.testid("view").select_option("contour")
    gs.page.wait_for_function("() => document.querySelector('#main-plot .layer-fg')")
    gs.page.wait_for_function(
        "() => document.querySelector('#main-plot .layer-fg').data !== undefined"
    )
    assert len(gs.path_traces()) == 2
    gs.assert_clean()


def test_only_changed_runs_are_requested_and_results_match_a_full_run(
    app_page: Gradscape, browser
) -> None:
    sent: list[dict] = []
    gs = app_page
    gs.page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent",
            lambda payload: sent.append(json.loads(payload)),
        ),
    )
    gs.open("steps=90&noise=0.3&seed=4")
    assert len(sent[-1]["runs"]) == 6
    gs.change(lambda: gs.testid("param-momentum-lr").fill("0.004"))
    assert [r["optimizer"] for r in sent[-1]["runs"]] == ["momentum"]
    requests = len(sent)
    gs.change(lambda: gs.testid("toggle-sgd").uncheck())  # known runs: no round trip
    gs.change(lambda: gs.testid("toggle-sgd").check())
    assert len(sent) == requests
    assert len(gs.path_traces()) == 6
    incremental = gs.runs()

    fresh = browser.new_page()
    try:
        fresh.goto(gs.page.url)
        fresh.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        fresh.evaluate("() => window.__gradscape.redrawAfter(0)")
        assert fresh.evaluate("() => window.__gradscape.runs()") == incremental
    finally:
        fresh.close()
    gs.assert_clean()
