"""The share panel tells the truth about who can open its link.

On a loopback-only server it says students cannot open the link and how to change that
(in English and Japanese); on a server listening on every interface it shows the link at
the machine's LAN address and a QR code of it, which a phone's reader decodes back to that
link (zxing-cpp reads a screenshot of the code as the page draws it).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from app import share
from app.main import create_app
from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser

COMMAND = "gradscape serve --host 0.0.0.0"


def test_loopback_server_warns_that_students_cannot_open_the_link(app_page: Gradscape) -> None:
    gs = app_page.open("preset=saddle")
    warning = gs.testid("share-warning")
    warning.wait_for(state="visible")
    assert "Students cannot open this link" in warning.inner_text()
    assert COMMAND in warning.inner_text()
    assert not gs.testid("share-lan").is_visible()
    assert urlsplit(gs.testid("share-url").input_value()).hostname == "127.0.0.1"
    gs.testid("lang").click()
    gs.page.wait_for_function("() => document.documentElement.lang === 'ja'")
    assert "学生はこのリンクを開けません" in warning.inner_text()
    assert COMMAND in warning.inner_text()  # a command is not translated
    gs.page.keyboard.press("q")  # no code students could scan: no large QR code either
    assert gs.page.locator("#qr-overlay:not([hidden])").count() == 0
    gs.assert_clean()


def _decode(png: bytes) -> list[str]:
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return [code.text for code in zxingcpp.read_barcodes(grey)]


def assert_large_qr(gs: Gradscape, show: Any, link: str) -> None:
    """`show()` opens the large QR code: at least 60 % of the viewport's height, decoding
    to `link`, with the link written under it; Esc closes it."""
    show()
    big = gs.testid("qr-large")
    big.wait_for(state="visible")
    gs.page.wait_for_function(
        "(v) => { const i = document.querySelector('[data-testid=qr-large]');"
        " return i.dataset.text === v && i.complete && i.naturalWidth > 0; }",
        arg=link,
    )
    box = big.bounding_box()
    height = gs.page.viewport_size["height"]
    assert box is not None and box["height"] >= 0.6 * height and box["y"] >= 0
    assert box["y"] + box["height"] <= height
    assert _decode(big.screenshot()) == [link]
    assert gs.page.locator("#qr-overlay .qr-link").inner_text() == link
    gs.page.keyboard.press("Escape")
    big.wait_for(state="hidden")


def test_lan_server_shows_the_lan_link_and_its_qr_code(
    app_page: Gradscape, serve_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fixed LAN address, so the test means the same on a machine without a network.
    monkeypatch.setattr(share, "lan_hosts", lambda host: ["192.0.2.77"])
    with serve_app(create_app(bind_host="0.0.0.0")) as base:
        gs = app_page
        gs.base = base
        gs.open("preset=saddle")
        lan = gs.testid("share-lan")
        lan.wait_for(state="visible")
        assert not gs.testid("share-warning").is_visible()
        port = urlsplit(base).port
        query = gs.query()
        room = f"http://192.0.2.77:{port}/?{query}"
        gs.page.wait_for_function(
            "(v) => document.getElementById('share-lan-url').value === v", arg=room
        )
        qr = gs.testid("share-qr")
        gs.page.wait_for_function(
            "() => { const i = document.getElementById('share-qr');"
            " return i.complete && i.naturalWidth > 0 && i.dataset.text; }"
        )
        box = qr.bounding_box()
        assert box is not None and box["width"] >= 150  # scannable from a few metres
        assert _decode(qr.screenshot()) == [room]
        assert_large_qr(gs, lambda: qr.click(), room)

        # The room's link follows the scene, and the teacher link uses it too.
        gs.change(lambda: gs.testid("param-adam-lr").fill("0.2"))
        changed = f"http://192.0.2.77:{port}/?{gs.query()}"
        assert "adam.lr=0.2" in changed
        gs.page.wait_for_function(
            "(v) => document.getElementById('share-qr').dataset.text === v"
            " && document.getElementById('share-qr').complete",
            arg=changed,
        )
        assert gs.testid("share-lan-url").input_value() == changed
        assert _decode(qr.screenshot()) == [changed]
        gs.page.locator("#teacher summary").click()
        gs.testid("teacher-link").click()
        assert gs.testid("teacher-url").input_value().startswith(f"http://192.0.2.77:{port}/?")

        # Presentation mode hides the panel: key Q shows the code, Esc closes it first.
        gs.page.keyboard.press("f")
        gs.page.wait_for_function("() => document.body.classList.contains('presentation')")
        presenting = f"http://192.0.2.77:{port}/?{gs.query()}"
        assert_large_qr(gs, lambda: gs.page.keyboard.press("q"), presenting)
        assert gs.page.evaluate("() => document.body.classList.contains('presentation')")
        gs.page.keyboard.press("Escape")
        gs.page.wait_for_function("() => !document.body.classList.contains('presentation')")

        # Listening on the network, but the laptop has no address yet: say what to do.
        monkeypatch.setattr(share, "lan_hosts", lambda host: [])
        gs.open("preset=saddle")
        gs.testid("share-nolan").wait_for(state="visible")
        assert "join the room's network" in gs.testid("share-nolan").inner_text()
        assert not gs.testid("share-lan").is_visible()
        assert not gs.testid("share-warning").is_visible()
        gs.assert_clean()
