"""The status table says how each run ends, in the page's language, from the server's words.

Rastrigin: every run settles in a local minimum; noisy gradients: every run hovers at a
noise floor. Both languages, one page: the language toggle redraws the table in place.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app import presets
from app.config import I18N_DIR

WORDS = {lang: json.loads((I18N_DIR / f"{lang}.json").read_text("utf-8")) for lang in ("en", "ja")}


def table(gs: Any) -> list[dict[str, str]]:
    """One entry per run: its code, name, numbers and the words under it."""
    return gs.page.evaluate(
        """() => [...document.querySelectorAll('#status tbody tr:not(.outcome)')].map(row => {
             const cells = [...row.querySelectorAll('td')].map(td => td.textContent.trim());
             const words = row.nextElementSibling.textContent.trim();
             return {code: row.dataset.status, optimizer: row.dataset.optimizer,
                     name: row.querySelector('th').textContent.trim(), cells, words};
           })"""
    )


def toggle_language(gs: Any, lang: str) -> None:
    gs.testid("lang").click()
    gs.page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)


def test_rastrigin_and_noise_tables_in_english_and_japanese(app_page: Any) -> None:
    gs = app_page.open("preset=rastrigin")
    rows = table(gs)
    assert [r["optimizer"] for r in rows] == list(presets.get("rastrigin").optimizers)
    assert {r["code"] for r in rows} == {"settled_local"}
    for row in rows:
        assert row["words"] == WORDS["en"]["status.settled_local"] == "settled in a local minimum"
        at_cursor, final, step = row["cells"]
        assert len(at_cursor) <= 7, at_cursor
        assert re.fullmatch(r"\d+(\.\d+)?", final), final  # f ≈ 24.9 or 1.99: short, no exponent
        assert step.isdigit() and int(step) < presets.get("rastrigin").steps
    # compact cells: no number wider than its cell
    assert gs.page.evaluate(
        """() => [...document.querySelectorAll('#status td.num')]
                 .every(td => td.scrollWidth <= td.clientWidth + 1)"""
    )

    toggle_language(gs, "ja")
    rows = table(gs)
    assert {r["words"] for r in rows} == {WORDS["ja"]["status.settled_local"]}
    assert "局所最小値" in rows[0]["words"]

    gs.change(lambda: gs.testid("preset").select_option("noise"))
    rows = table(gs)
    assert {r["code"] for r in rows} == {"hovering"}
    for row in rows:
        assert row["words"].startswith("最小値のまわりで揺れている（ノイズフロア "), row["words"]
        assert row["cells"][2] == "—"  # hovering has no step
    floor_ja = [re.search(r"ノイズフロア ([0-9.e-]+)", r["words"]).group(1) for r in rows]

    toggle_language(gs, "en")
    rows = table(gs)
    floors = [re.search(r"noise floor of ([0-9.e-]+)$", r["words"]).group(1) for r in rows]
    assert floors == floor_ja  # the same numbers in both languages
    assert all(0.001 < float(v) < 1 for v in floors)
    assert all(r["words"].startswith("hovering around a minimum") for r in rows)
    gs.assert_clean()


def test_a_streaming_run_says_running(app_page: Any) -> None:
    # The table says Running… until the done message arrives. A whole stream can arrive
    # within one frame, so the test holds the server's `done` back until it has looked.
    holding: list[Any] = []  # [page side of the socket, held messages...] while holding
    sockets: list[Any] = []

    def route(socket: Any) -> None:
        server = socket.connect_to_server()
        socket.on_message(server.send)

        def down(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if holding and text.startswith('{"type":"done"'):
                holding.append(text)
            else:
                socket.send(message)

        server.on_message(down)
        sockets.append(socket)

    app_page.page.route_web_socket(re.compile(r"/ws/trajectories$"), route)
    gs = app_page.open("preset=saddle")
    before = gs.counter()
    holding.append(None)
    gs.page.evaluate(
        """() => { const s = document.querySelector('[data-testid=steps]');
                   s.value = '5000'; s.dispatchEvent(new Event('change', {bubbles: true})); }"""
    )
    running = gs.page.wait_for_function(
        """() => document.querySelector('#status tr.outcome')?.dataset.status === 'running'
                 && document.querySelector('#status').innerText"""
    ).json_value()
    assert WORDS["en"]["status.running"] in running
    for _ in range(500):  # the socket's handlers run while Playwright waits
        if len(holding) > 1:
            break
        gs.page.wait_for_timeout(20)
    held = holding[1:]
    holding.clear()
    assert len(held) == 1  # the run's done, held until now; the table still says so
    status = "() => document.querySelector('#status tr.outcome').dataset.status"
    assert gs.page.evaluate(status) == "running"
    assert WORDS["en"]["status.running"] in gs.page.inner_text("#status")
    sockets[-1].send(held[0])
    gs.wait_drawn(before)
    rows = table(gs)
    # 5000 steps: SGD's y grows 2 % a step and passes 1e6; Adam's steps stay ≈ lr
    codes = {r["optimizer"]: r["code"] for r in rows}
    assert codes["sgd"] == "diverged" and codes["adam"] == "moving"
    for row in rows:
        assert row["words"] == WORDS["en"][f"status.{row['code']}"]
        if row["code"] == "moving":
            assert row["cells"][2] == "—"
    assert rows[0]["cells"][2].isdigit()  # the step SGD diverged
    gs.assert_clean()


def test_past_a_divergence_f_is_a_dash_and_minus_signs_are_true_minus(app_page: Any) -> None:
    gs = app_page.open("preset=divergence")
    steps = presets.get("divergence").steps
    gs.testid("scrub").fill(str(steps))
    gs.page.wait_for_function(
        "(s) => document.querySelector('#status th.num')?.textContent === `f @ ${s}`", arg=steps
    )
    rows = {r["optimizer"]: r for r in table(gs)}
    sgd = rows["sgd"]
    assert sgd["code"] == "diverged" and int(sgd["cells"][2]) < steps
    assert sgd["cells"][0] == "—"  # not the last finite value (about 5e11) "at step 100"
    assert rows["adam"]["cells"][0] != "—"
    gs.testid("scrub").fill(str(int(sgd["cells"][2]) - 1))
    gs.page.wait_for_function("() => document.querySelector('#status td.num').textContent !== '—'")
    # Adam ends at f ≈ 5e-5: written 5.5e−5 with U+2212, as the charts write it
    cells = [c for r in table(gs) for c in r["cells"]]
    assert not any("-" in c for c in cells), cells
    assert any("\u2212" in c for c in cells), cells
    gs.assert_clean()
