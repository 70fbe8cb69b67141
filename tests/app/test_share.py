"""Sharing: does the server say whether students can open its links, and where?

A link built from 127.0.0.1 opens each student's own laptop. GET /api/share tells the
page whether the server listens on loopback only, or which addresses the room can use;
GET /api/qr draws a link's QR code on this machine. The code is checked by decoding it
with an independent reader (zxing-cpp) from the SVG the server sends, rasterized here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any

import numpy as np
import pytest
import zxingcpp
from fastapi.testclient import TestClient

from app import cli, share
from app.config import BIND_HOST_ENV, MAX_QR_TEXT
from app.main import create_app
from tests.app.clients import LocalClient


def _client(bind_host: str) -> TestClient:
    # base_url with a port, as a browser's Host header has one
    return LocalClient(create_app(bind_host=bind_host), base_url="http://127.0.0.1:8123")


def test_a_loopback_server_says_students_cannot_open_its_links() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        info = _client(host).get("/api/share").json()
        assert info == {
            "bind_host": host,
            "loopback_only": True,
            "lan_hosts": [],
            "lan_urls": [],
            "qr_max_bytes": MAX_QR_TEXT,
        }


def test_the_default_app_is_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BIND_HOST_ENV, raising=False)
    with LocalClient(create_app()) as client:
        assert client.get("/api/share").json()["loopback_only"] is True


def test_a_server_on_every_interface_gives_this_machines_lan_addresses_and_port() -> None:
    info = _client("0.0.0.0").get("/api/share").json()
    assert info["loopback_only"] is False
    assert info["lan_urls"] == [f"http://{host}:8123/" for host in info["lan_hosts"]]
    for host in info["lan_hosts"]:
        address = ipaddress.ip_address(host)
        assert address.version == 4 and not address.is_loopback and not address.is_unspecified
        with socket.socket() as probe:  # an address of this machine: it can be bound
            probe.bind((host, 0))


def test_lan_addresses_skip_loopback_link_local_and_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(share, "_routed_address", lambda family: "192.0.2.77")
    monkeypatch.setattr(
        share,
        "_named_addresses",
        lambda family: ["127.0.1.1", "192.0.2.77", "169.254.3.4", "10.1.2.3"],
    )
    assert share.lan_hosts("0.0.0.0") == ["192.0.2.77", "10.1.2.3"]
    monkeypatch.setattr(share, "_routed_address", lambda family: None)  # offline laptop
    monkeypatch.setattr(share, "_named_addresses", lambda family: ["127.0.1.1"])
    info = _client("0.0.0.0").get("/api/share").json()
    assert info == {
        "bind_host": "0.0.0.0",
        "loopback_only": False,
        "lan_hosts": [],
        "lan_urls": [],
        "qr_max_bytes": MAX_QR_TEXT,
    }
    monkeypatch.setattr(share, "_routed_address", lambda family: "fd00::2")
    assert share.lan_hosts("::") == ["[fd00::2]"]


def test_a_server_on_one_address_gives_that_address() -> None:
    info = _client("192.0.2.2").get("/api/share").json()
    assert info["loopback_only"] is False
    assert info["lan_urls"] == ["http://192.0.2.2:8123/"]


def test_finding_the_lan_address_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The UDP probe only connects (a routing lookup); any send would be a packet out."""
    sent: list[Any] = []

    class Recording(socket.socket):
        def send(self, *args: Any, **kwargs: Any) -> int:
            sent.append(args)
            return 0

        def sendto(self, *args: Any, **kwargs: Any) -> int:
            sent.append(args)
            return 0

    monkeypatch.setattr(share.socket, "socket", Recording)
    share.lan_hosts("0.0.0.0")
    share.lan_hosts("::")
    assert sent == []


def _rasterize(svg: str, pixels: int = 8) -> np.ndarray:
    """segno's SVG (a white square, then dark runs `h n` along rows) as a grey image."""
    (box,) = re.findall(r'viewBox="0 0 (\d+) (\d+)"', svg)
    width, height = int(box[0]), int(box[1])
    (path,) = re.findall(r'<path class="qrline"[^>]* d="([^"]+)"', svg)
    image = np.full((height, width), 255, dtype=np.uint8)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(v) for v in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            end = values[0] if command == "H" else x + values[0]
            image[int(y), int(min(x, end)) : int(max(x, end))] = 0
            x = end
    return np.kron(image, np.ones((pixels, pixels), dtype=np.uint8))


@pytest.mark.parametrize(
    "text",
    [
        "http://192.0.2.2:8000/?landscape=rosenbrock&opt=sgd,momentum,adam&steps=1000&preset=rosenbrock",
        "http://[fd00::2]:8850/?preset=saddle&show=adam.lr&lang=ja",
        "学習率 η",
    ],
)
def test_qr_svg_decodes_back_to_its_text(text: str) -> None:
    reply = LocalClient(create_app()).get("/api/qr", params={"text": text})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/svg+xml"
    svg = reply.text
    assert svg.startswith("<svg") and "viewBox" in svg and "width=" not in svg  # scales to its box
    (decoded,) = zxingcpp.read_barcodes(_rasterize(svg))
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.text == text


def test_the_rasterizer_is_not_fooled_by_a_blank_code() -> None:
    """A white image decodes to nothing, so the round trip above proves the drawn modules."""
    assert zxingcpp.read_barcodes(np.full((200, 200), 255, dtype=np.uint8)) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "at least 1 character"),
        ("x" * (MAX_QR_TEXT + 1), f"at most {MAX_QR_TEXT} characters"),
        ("あ" * 400, f"at most {MAX_QR_TEXT} bytes"),
    ],
)
def test_qr_refuses_empty_or_unscannably_long_text_with_a_422(text: str, words: str) -> None:
    reply = LocalClient(create_app()).get("/api/qr", params={"text": text})
    assert reply.status_code == 422
    assert "text" in reply.text and words in reply.text


def _serve_printing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> dict[str, Any]:
    """`gradscape serve …` up to the moment uvicorn would run: what it printed and set."""
    import uvicorn

    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            self.started = True

        def run(self, sockets: list[socket.socket]) -> None:
            seen["printed"] = capsys.readouterr().out
            seen["port"] = sockets[0].getsockname()[1]
            seen["share"] = LocalClient(create_app()).get("/api/share").json()

    monkeypatch.setenv(BIND_HOST_ENV, "unset")  # restored after the test
    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    assert cli.main(["serve", *argv]) == 0
    return seen


def test_serve_on_every_interface_announces_the_lan_url_and_tells_the_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(share, "lan_hosts", lambda host: ["192.0.2.77"])
    seen = _serve_printing(monkeypatch, capsys, "--host", "0.0.0.0", "--port", "0")
    port = seen["port"]
    assert seen["printed"] == (
        f"Gradscape on http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"
        f"On the room's network: http://192.0.2.77:{port}/\n"
    )
    assert seen["share"]["bind_host"] == "0.0.0.0" and seen["share"]["loopback_only"] is False


def test_serve_on_loopback_tells_the_app_it_is_loopback_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = _serve_printing(monkeypatch, capsys, "--port", "0")
    assert "network" not in seen["printed"]
    assert seen["share"]["bind_host"] == "127.0.0.1" and seen["share"]["loopback_only"] is True


def test_serve_on_every_interface_without_a_network_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(share, "lan_hosts", lambda host: [])
    seen = _serve_printing(monkeypatch, capsys, "--host", "0.0.0.0", "--port", "0")
    assert seen["printed"].splitlines()[1] == (
        "No network address yet: join the room's network for students to reach it."
    )
