"""Inside the optimizer (issue 12), on the real page: the arrows at the cursor, their
lengths against the API's recorded numbers, the equation panel's numbers against the API's
for that step, step-by-step mode one update per key press, the effective learning rate,
side by side, and the Japanese page.

The scene: Adam and SGD on the ill-conditioned bowl from (−7, 2), lr 0.1, 40 steps, Adam
shown from inside (`inside=adam`); the REST API is asked for the same scene with Adam
recorded, and the page must show exactly those numbers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from app.config import I18N_DIR

pytestmark = pytest.mark.browser

JA = json.loads((I18N_DIR / "ja.json").read_text("utf-8"))
SCENE = "landscape=ill_conditioned&opt=sgd,adam&sgd.lr=0.1&adam.lr=0.1&steps=40&start=-7,2"


def api_run(gs: Any, optimizer: str, params: dict[str, float], steps: int = 40) -> Any:
    body = {
        "landscape": "ill_conditioned",
        "start": [-7, 2],
        "steps": steps,
        "runs": [{"optimizer": optimizer, "params": params, "record": True}],
    }
    reply = httpx.post(f"{gs.base}/api/trajectories", json=body, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["runs"][0]


def arrows(gs: Any) -> list[dict[str, Any]]:
    """The arrows drawn on every plot's arrow layer (arrows.js keeps them on the canvas)."""
    return gs.page.evaluate(
        """() => [...document.querySelectorAll('#main-plot .layer-arrows')].flatMap((c) => {
             const cell = c.closest('.cell-panel');
             const panel = cell ? cell.querySelector('.panel-label').textContent.trim() : null;
             return (c.arrows || []).map((a) => ({...a, panel}));
           })"""
    )


def to_pixels(gs: Any, x: float, y: float, index: int = 0) -> list[float]:
    """Where data (x, y) is drawn on the index-th foreground chart, in its own pixels."""
    return gs.page.evaluate(
        """([x, y, i]) => {
             const gd = document.querySelectorAll('#main-plot .layer-fg')[i];
             const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
             return [xa._offset + xa.l2p(x), ya._offset + ya.l2p(y)];
           }""",
        [x, y, index],
    )


def move_to(gs: Any, step: int) -> None:
    gs.page.evaluate(
        "(t) => { const s = document.querySelector('#scrub'); s.value = t; "
        "s.dispatchEvent(new Event('input', {bubbles: true})); }",
        step,
    )
    gs.page.wait_for_function(
        "(t) => document.querySelector('#inside-terms').dataset.update === String(t)", arg=step
    )


def panel_values(gs: Any) -> dict[str, Any]:
    """Every number slot of the equation panel: its full value (data-v) and its text."""
    return gs.page.evaluate(
        """() => {
             const out = {};
             for (const el of document.querySelectorAll('#inside-terms [data-slot]')) {
               const v = el.dataset.v ?? el.querySelector('[data-v]').dataset.v;
               out[el.dataset.slot] = {
                 value: v.split(',').map(Number),
                 text: [...el.querySelectorAll('[data-v]')].map((n) => n.textContent),
               };
             }
             return out;
           }"""
    )


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def shown(v: float) -> str:
    """The panel's 4-significant-digit text of v (inside.js numberParts)."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        text = repr(float(f"{v:.4g}"))
        text = text[:-2] if text.endswith(".0") else text
        return text.replace("-", "\u2212")
    mantissa, exponent = f"{v:.3e}".split("e")
    m = repr(float(mantissa))
    m = m[:-2] if m.endswith(".0") else m
    return f"{m.replace('-', chr(0x2212))}×10{str(int(exponent)).replace('-', chr(0x2212))}"


def test_arrows_appear_at_the_cursor_and_move_with_it(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=3")
    api = api_run(gs, "adam", {"lr": 0.1})
    drawn = arrows(gs)
    assert sorted(a["kind"] for a in drawn) == ["grad", "momentum", "step"]
    assert {a["optimizer"] for a in drawn} == {"adam"}  # SGD is not shown from inside
    for step in (3, 4, 17):
        if step != 3:
            if step == 4:
                gs.page.keyboard.press("ArrowRight")
                gs.page.wait_for_function(
                    "() => document.querySelector('#inside-terms').dataset.update === '4'"
                )
            else:
                move_to(gs, step)
        drawn = arrows(gs)
        head = to_pixels(gs, *api["points"][step])
        assert {a["update"] for a in drawn} == {step}
        for a in drawn:
            assert math.dist(a["from"], head) < 0.01, (step, a["kind"], a["from"], head)
    # The step arrow drawn to scale ends on the next point.
    step_arrow = next(a for a in drawn if a["kind"] == "step")
    if step_arrow["scale"] == 1 and not step_arrow["clamped"] and not step_arrow["floored"]:
        assert math.dist(step_arrow["to"], to_pixels(gs, *api["points"][18])) < 0.01
    gs.assert_clean()


@pytest.mark.parametrize(
    ("optimizer", "params", "buffer"),
    [
        ("adam", {"lr": 0.1}, "exp_avg"),
        ("momentum", {"lr": 0.02, "momentum": 0.9}, "momentum_buffer"),
    ],
)
def test_arrow_lengths_match_the_recorded_numbers(
    app_page: Any, optimizer: str, params: dict[str, float], buffer: str
) -> None:
    query = "&".join(f"{optimizer}.{k}={v}" for k, v in params.items())
    gs = app_page.open(
        f"landscape=ill_conditioned&opt={optimizer}&{query}&steps=40&start=-7,2"
        f"&inside={optimizer}&t=6"
    )
    api = api_run(gs, optimizer, params)
    record = api["record"]
    t = 6
    g = record["grads"][t]
    b = record["state"][buffer][t]
    step = [api["points"][t + 1][i] - api["points"][t][i] for i in range(2)]
    expected = {"grad": [-g[0], -g[1]], "momentum": [-b[0], -b[1]], "step": step}
    drawn = {a["kind"]: a for a in arrows(gs)}
    assert set(drawn) == set(expected)
    for kind, vec in expected.items():
        a = drawn[kind]
        assert close(a["length"], math.hypot(*vec)), (kind, a["length"], vec)
        dx, dy = a["to"][0] - a["from"][0], a["to"][1] - a["from"][1]
        # Same direction on screen (y up in data, down in pixels) …
        cosine = (dx * vec[0] - dy * vec[1]) / (math.hypot(dx, dy) * math.hypot(*vec))
        assert cosine > 1 - 1e-9, (kind, cosine)
        # … and the drawn length is the true one times its scale, unless clamped or floored.
        if not a["clamped"] and not a["floored"]:
            px = math.hypot(*vec) * a["scale"] * a["pxPerUnit"]
            assert math.isclose(math.hypot(dx, dy), px, rel_tol=1e-9), (kind, px)
    # The legend gives each arrow's true length.
    cells = gs.page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#arrow-legend td')]
             .map((td) => [td.dataset.kind, Number(td.dataset.length)]))"""
    )
    for kind, vec in expected.items():
        assert close(cells[kind], math.hypot(*vec))
    gs.assert_clean()


def test_equation_panel_numbers_equal_the_api_for_the_step(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=0")
    api = api_run(gs, "adam", {"lr": 0.1})
    record = api["record"]
    beta1, beta2 = api["params"]["beta1"], api["params"]["beta2"]
    lecture = gs.page.evaluate(
        "() => [...document.querySelectorAll('#inside-lecture math')].length"
    )
    assert lecture == 4  # Adam's four lecture lines, typeset
    for t in (0, 1, 9, 25):
        if t:
            move_to(gs, t)
        values = panel_values(gs)
        m, v = record["state"]["exp_avg"][t], record["state"]["exp_avg_sq"][t]
        expected = {
            "g": record["grads"][t],
            "m": m,
            "v": v,
            "theta": api["points"][t],
            "theta_next": api["points"][t + 1],
            "bc1": [1 - beta1 ** (t + 1)],
            "bc2": [1 - beta2 ** (t + 1)],
            "t": [t + 1],
        }
        if t:
            expected["m_prev"] = record["state"]["exp_avg"][t - 1]
            expected["v_prev"] = record["state"]["exp_avg_sq"][t - 1]
        for slot, numbers in expected.items():
            assert slot in values, (t, slot, sorted(values))
            got = values[slot]
            assert len(got["value"]) == len(numbers)
            for a, b in zip(got["value"], numbers, strict=True):
                assert close(a, b), (t, slot, a, b)
            assert got["text"] == [shown(x) for x in numbers], (t, slot, got["text"])
        # m̂ and v̂ are the recorded buffers over the bias corrections; the step is the API's.
        mhat = values["mhat"]["value"]
        assert close(mhat[0], m[0] / (1 - beta1 ** (t + 1)), 1e-14)
        step = values["step"]["value"]
        for i in range(2):
            assert step[i] == api["points"][t + 1][i] - api["points"][t][i]
    gs.assert_clean()


def wait_still(gs: Any) -> None:
    gs.page.wait_for_function("() => !window.__gradscape.stepping()")


def test_step_by_step_takes_exactly_one_update_per_key_press(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=5")
    api = api_run(gs, "adam", {"lr": 0.1})
    gs.page.keyboard.press("n")
    # Mid-animation the arrows glide from θ₅ towards θ₆, the head still at θ₅.
    gs.page.wait_for_function(
        """() => [...document.querySelectorAll('#inside-terms .term')].some(
             (el) => el.classList.contains('lit'))"""
    )
    assert gs.page.evaluate("() => window.__gradscape.cursor()") == 5
    start, end = to_pixels(gs, *api["points"][5]), to_pixels(gs, *api["points"][6])
    gs.page.wait_for_function(
        """([x, y]) => {
             const a = document.querySelector('#main-plot .layer-arrows').arrows || [];
             return a.length && Math.hypot(a[0].from[0] - x, a[0].from[1] - y) > 0.5;
           }""",
        arg=start,
    )
    mid = arrows(gs)[0]["from"]
    # On the segment θ₅θ₆ (in pixels), strictly between its ends.
    along = (
        (mid[0] - start[0]) * (end[0] - start[0]) + (mid[1] - start[1]) * (end[1] - start[1])
    ) / math.dist(start, end) ** 2
    assert 0 < along <= 1, along
    off = abs(
        (end[0] - start[0]) * (mid[1] - start[1]) - (end[1] - start[1]) * (mid[0] - start[0])
    ) / math.dist(start, end)
    assert off < 0.5, off
    wait_still(gs)
    assert gs.page.evaluate("() => window.__gradscape.cursor()") == 6
    assert {a["update"] for a in arrows(gs)} == {6}
    # Presses during an animation each still count exactly one.
    for _ in range(3):
        gs.page.keyboard.press("n")
    wait_still(gs)
    assert gs.page.evaluate("() => window.__gradscape.cursor()") == 9
    gs.testid("inside-step").click()
    wait_still(gs)
    assert gs.page.evaluate("() => window.__gradscape.cursor()") == 10
    # A key that moves the cursor during the animation wins; the step is dropped.
    gs.page.keyboard.press("n")
    gs.page.keyboard.press("ArrowLeft")
    wait_still(gs)
    gs.page.wait_for_timeout(200)
    assert gs.page.evaluate("() => window.__gradscape.cursor()") == 9
    gs.assert_clean()


def test_the_effective_learning_rate_chart_is_adams_per_axis(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam")
    api = api_run(gs, "adam", {"lr": 0.1})
    p = api["params"]
    # The chart follows the paths (render.js): wait for it to catch up with this run.
    gs.page.wait_for_function(
        """() => { const g = window.__gradscape;
                   return g.lastEffDraw && g.lastEffDraw.seq >= g.lastRedraw.seq; }"""
    )
    traces = gs.page.evaluate(
        """() => document.querySelector('#eff-plot .loss-chart').data.map((tr) =>
             ({axis: tr.meta.axis, optimizer: tr.meta.optimizer, y: Array.from(tr.y)}))"""
    )
    assert [(tr["optimizer"], tr["axis"]) for tr in traces] == [("adam", "x"), ("adam", "y")]
    record = api["record"]
    for tr in traces:
        i = 0 if tr["axis"] == "x" else 1
        assert len(tr["y"]) == len(record["lrs"])
        for t, got in enumerate(tr["y"]):
            step = t + 1
            v = record["state"]["exp_avg_sq"][t][i]
            want = (
                record["lrs"][t]
                / (1 - p["beta1"] ** step)
                / (math.sqrt(v) / math.sqrt(1 - p["beta2"] ** step) + p["eps"])
            )
            assert close(got, want, 1e-13), (tr["axis"], t, got, want)
    # The lesson of the preset: on this bowl Adam's x rate starts several times its y rate.
    x0, y0 = traces[0]["y"][0], traces[1]["y"][0]
    assert x0 > 4 * y0
    # A new learning rate redraws the chart with the new run's rates.
    gs.change(lambda: gs.testid("param-adam-lr").fill("0.05"))
    gs.page.wait_for_function(
        """() => { const g = window.__gradscape;
                   return g.lastEffDraw && g.lastEffDraw.seq >= g.lastRedraw.seq; }"""
    )
    again = api_run(gs, "adam", {"lr": 0.05})
    ys = gs.page.evaluate(
        "() => Array.from(document.querySelector('#eff-plot .loss-chart').data[0].y)"
    )
    v = again["record"]["state"]["exp_avg_sq"][10][0]
    want = 0.05 / (1 - p["beta1"] ** 11) / (math.sqrt(v) / math.sqrt(1 - p["beta2"] ** 11) + 1e-8)
    assert close(ys[10], want, 1e-13), (ys[10], want)
    gs.assert_clean()


def test_side_by_side_draws_the_arrows_in_the_inspected_runs_panel(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=4&mode=side_by_side")
    drawn = arrows(gs)
    assert drawn and {a["panel"] for a in drawn} == {"Adam"}
    assert {a["update"] for a in drawn} == {4}
    gs.page.keyboard.press("ArrowRight")
    gs.page.wait_for_function(
        "() => document.querySelector('#inside-terms').dataset.update === '5'"
    )
    assert {a["update"] for a in arrows(gs)} == {5}
    gs.assert_clean()


def test_the_inside_button_records_only_what_it_shows(app_page: Any) -> None:
    gs = app_page.open(SCENE)
    assert gs.page.locator("#inside").is_hidden()
    assert arrows(gs) == []
    sent: list[Any] = []
    gs.page.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))),
    )
    gs.change(lambda: gs.testid("inspect-adam").click())
    assert gs.page.locator("#inside").is_visible()
    assert gs.testid("inspect-adam").get_attribute("aria-pressed") == "true"
    assert {a["optimizer"] for a in arrows(gs)} == {"adam"}
    assert "inside=adam" in gs.query()
    gs.testid("inside-close").click()
    gs.page.wait_for_function("() => document.querySelector('#inside').hidden")
    assert arrows(gs) == []
    gs.assert_clean()


def test_japanese_panel(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=2&lang=ja")
    title = gs.page.locator("#inside-title").inner_text()
    assert title == JA["inside.title"].replace("{name}", "Adam")
    assert gs.testid("inside-step").inner_text() == JA["inside.next"]
    labels = gs.page.evaluate(
        """() => [...document.querySelectorAll('#arrow-legend tbody th')]
             .map((th) => th.textContent.trim())"""
    )
    assert labels == [JA["arrow.grad"], JA["arrow.momentum.exp_avg"], JA["arrow.step"]]
    assert "更新 t = 2" in gs.page.locator("#inside-update").inner_text()
    assert gs.testid("inspect-adam").inner_text() == JA["inside.toggle"]
    gs.assert_clean()


@pytest.mark.parametrize(
    ("optimizer", "params"),
    [
        ("momentum", {"lr": 0.02, "momentum": 0.9, "dampening": 0.2}),
        ("nag", {"lr": 0.02, "momentum": 0.8}),
        ("adagrad", {"lr": 0.5, "lr_decay": 0.1, "initial_accumulator_value": 0.3}),
        ("rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}),
    ],
)
def test_every_optimizers_panel_shows_the_apis_buffers(
    app_page: Any, optimizer: str, params: dict[str, float]
) -> None:
    query = "&".join(f"{optimizer}.{k}={v}" for k, v in params.items())
    t = 7
    gs = app_page.open(
        f"landscape=ill_conditioned&opt={optimizer}&{query}&steps=40&start=-7,2"
        f"&inside={optimizer}&t={t}"
    )
    api = api_run(gs, optimizer, params)
    record, p = api["record"], api["params"]
    g, lr = record["grads"][t], record["lrs"][t]
    values = panel_values(gs)
    assert values["g"]["value"] == g
    expected: dict[str, list[float]] = {}
    if optimizer in ("momentum", "nag"):
        expected["b"] = record["state"]["momentum_buffer"][t]
        expected["b_prev"] = record["state"]["momentum_buffer"][t - 1]
        if optimizer == "momentum":
            expected["keep"] = [1 - p["dampening"]]
            expected["v"] = [-lr * x for x in expected["b"]]
    elif optimizer == "adagrad":
        h = record["state"]["sum"][t]
        eta = lr / (1 + t * p["lr_decay"])  # torch: step t + 1, so (step − 1) = t
        expected["h"] = h
        expected["h_prev"] = record["state"]["sum"][t - 1]
        expected["lr"] = [eta]
        expected["eff"] = [eta / (math.sqrt(x) + p["eps"]) for x in h]
    else:
        h = record["state"]["square_avg"][t]
        expected["h"] = h
        expected["b"] = record["state"]["momentum_buffer"][t]
        expected["scaled"] = [gi / (math.sqrt(x) + p["eps"]) for gi, x in zip(g, h, strict=True)]
    for slot, numbers in expected.items():
        got = values[slot]["value"]
        assert len(got) == len(numbers), slot
        for a, b in zip(got, numbers, strict=True):
            assert close(a, b, 1e-14), (optimizer, slot, a, b)
    assert values["theta_next"]["value"] == api["points"][t + 1]
    gs.assert_clean()


def test_two_runs_from_inside_each_get_arrows_and_the_panel_switches(app_page: Any) -> None:
    gs = app_page.open(
        "landscape=ill_conditioned&opt=momentum,adam&momentum.lr=0.02&adam.lr=0.1"
        "&steps=40&start=-7,2&inside=momentum,adam&t=3"
    )
    drawn = arrows(gs)
    assert {a["optimizer"] for a in drawn} == {"momentum", "adam"}
    assert len(drawn) == 6
    # One scale per kind across both runs.
    for kind in ("grad", "momentum", "step"):
        assert len({a["scale"] for a in drawn if a["kind"] == kind}) == 1
    tabs = gs.page.locator("#inside-tabs button")
    assert tabs.count() == 2
    assert gs.page.locator("#inside-terms").get_attribute("data-optimizer") == "momentum"
    tabs.nth(1).click()
    gs.page.wait_for_function(
        "() => document.querySelector('#inside-terms').dataset.optimizer === 'adam'"
    )
    assert "Adam" in gs.page.locator("#inside-title").inner_text()
    # The legend has a column per run.
    heads = gs.page.evaluate(
        "() => [...document.querySelectorAll('#arrow-legend thead th')].map((th) => "
        "th.textContent.trim())"
    )
    assert heads[1:] == ["Momentum", "Adam"]
    gs.assert_clean()


def test_the_surface_view_keeps_the_panel_without_arrows(app_page: Any) -> None:
    gs = app_page.open(f"{SCENE}&inside=adam&t=3&view=surface")
    assert arrows(gs) == []
    assert gs.page.locator("#inside-terms").get_attribute("data-update") == "3"
    gs.assert_clean()
