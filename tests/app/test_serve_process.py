"""A real `gradscape serve` process on a free loopback port: HTTP, WebSocket, shutdown."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from app import cli
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    # --port 0: the kernel picks a free port, and the server's first line says which —
    # printed only once the socket is bound, so the URL it names is already taken.
    with serving() as served:
        match = re.fullmatch(
            r"Gradscape on (http://127\.0\.0\.1:(\d+))/  \(Ctrl-C to stop\)\n", served.first_line
        )
        assert match, served.first_line
        assert served.port != 0 and "0100007F" in _listening_addresses(served.port)
        yield served.url
        process = served.process
    assert process.returncode is not None


def test_serves_the_api_on_loopback(server: str) -> None:
    assert httpx.get(server + "/healthz").json() == {"status": "ok"}
    names = [item["name"] for item in httpx.get(server + "/api/landscapes").json()]
    assert "rosenbrock" in names
    body = {"landscape": "saddle", "steps": 20, "runs": [{"optimizer": "adam"}]}
    (run,) = httpx.post(server + "/api/trajectories", json=body).json()["runs"]
    assert len(run["points"]) == 21


def test_streams_over_a_real_websocket(server: str) -> None:
    body = {"landscape": "rosenbrock", "steps": 120, "runs": [{"optimizer": "sgd"}] * 2}
    with connect(server.replace("http", "ws") + "/ws/trajectories", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "run", "id": 1, **body}))
        kinds = []
        while not kinds or kinds[-1] != "done":
            message = json.loads(ws.recv(timeout=30))
            assert message["id"] == 1
            kinds.append(message["type"])
    assert kinds[0] == "meta" and kinds.count("chunk") >= 2


def test_open_waits_for_the_server_then_opens_the_page(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(cli.webbrowser, "open", opened.append)
    cli._open_when_ready(server + "/")
    assert opened == [server + "/"]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from the kernel's socket tables (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def test_binds_loopback_only(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
