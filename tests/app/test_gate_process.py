"""app.gate in a real `gradscape serve` process: what uvicorn does with Hosts, Origins,
WebSocket handshakes and bodies is part of the behaviour (issue 11, items 1–3)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from app.config import ALLOW_HOSTS_ENV, ALLOW_ORIGINS_ENV, BIND_HOST_ENV, MAX_BODY_BYTES
from tests.serving import serving, stop

ROOT = Path(__file__).resolve().parents[2]
SCENE = {"landscape": "booth", "steps": 20, "runs": [{"optimizer": "sgd"}]}
GRID = "/api/landscapes/rosenbrock/grid?resolution=60"
BIG = 52_000_000  # the body that was parsed on the event loop and echoed back whole


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A server on a free loopback port, with no allowed hosts or origins inherited."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in (ALLOW_HOSTS_ENV, ALLOW_ORIGINS_ENV, BIND_HOST_ENV)
    }
    with serving(env=env) as served:
        yield served.url


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _stream(ws_url: str, origin: str | None = None) -> list[str]:
    """Message types of one small run over a real WebSocket."""
    with connect(ws_url, open_timeout=10, origin=None if origin is None else Origin(origin)) as ws:
        ws.send(json.dumps({"type": "run", "id": 1, **SCENE}))
        kinds = [json.loads(ws.recv(timeout=30))["type"]]
        while kinds[-1] not in ("done", "error"):
            kinds.append(json.loads(ws.recv(timeout=30))["type"])
    return kinds


# --- who may talk to the server --------------------------------------------------------


def test_a_foreign_host_gets_400(server: str) -> None:
    # DNS rebinding: the browser reached 127.0.0.1 but sends the attacker's name.
    reply = httpx.get(server + "/api/landscapes", headers={"host": f"evil.com:{_port(server)}"})
    assert reply.status_code == 400 and "--allow-host evil.com" in reply.text
    assert httpx.get(server + "/api/landscapes").status_code == 200


def test_a_foreign_host_cannot_open_the_websocket(server: str) -> None:
    port = _port(server)
    # A socket to 127.0.0.1, a handshake naming evil.com: what a rebound name does.
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(f"ws://evil.com:{port}/ws/trajectories", sock=sock, open_timeout=10),
    ):
        pass
    assert refused.value.response.status_code == 400


def test_a_websocket_from_another_origin_is_refused_and_the_pages_own_accepted(
    server: str,
) -> None:
    ws_url = server.replace("http", "ws") + "/ws/trajectories"
    for origin in ("http://evil.com", f"http://localhost:{_port(server) + 1}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            _stream(ws_url, origin=origin)
        assert refused.value.response.status_code == 403
        assert b"--allow-origin" in refused.value.response.body
    assert _stream(ws_url, origin=server)[-1] == "done"  # the page's own origin
    assert _stream(ws_url)[-1] == "done"  # no Origin: a script, the CLI, a benchmark


def test_refused_handshakes_leave_the_lecturers_console_quiet() -> None:
    # uvicorn logs "ASGI callable returned without completing handshake." at ERROR after a
    # handshake refused with an HTTP response (Kludex/uvicorn#3138): a page in the room
    # retrying would fill the console with errors. Refusals are routine, not errors.
    with serving() as served:
        ws_url = served.url.replace("http", "ws") + "/ws/trajectories"
        for origin in ("http://evil.com", "null"):
            with pytest.raises(InvalidStatus):
                _stream(ws_url, origin=origin)
        assert _stream(ws_url)[-1] == "done"
        stop(served.process)  # then its whole console, up to its exit
        assert served.process.stdout is not None
        output = served.process.stdout.read()
    assert "ERROR" not in output and "Traceback" not in output, output


def test_an_img_get_of_a_grid_from_another_site_is_refused(server: str) -> None:
    img = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    reply = httpx.get(server + GRID, headers=img)
    assert reply.status_code == 403 and "cross-site" in reply.json()["detail"]
    own = httpx.get(server + GRID, headers={**img, "sec-fetch-site": "same-origin"})
    assert own.status_code == 200


# --- how much they may send ------------------------------------------------------------


def _read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_52_mb_body_is_refused_before_a_byte_of_it_is_sent(server: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/trajectories HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % BIG
        )
        # No body is sent: a server that read it first would wait here until the timeout.
        reply = _read_reply(sock)  # and it closes the connection instead of draining 52 MB
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in head.lower()
    assert f"at most {MAX_BODY_BYTES:,} bytes".encode() in body and b"52,000,000" in body


def test_a_chunked_body_is_cut_off_once_over_the_limit(server: str) -> None:
    # The body's size is announced nowhere: the gate counts it while it arrives. We send
    # just past the limit and never the terminating chunk; a server that wanted the whole
    # body would wait here until the timeout. (Sending on and on until the server hangs
    # up races its reset against our reading of the 413, so the test stops sending.)
    pieces = [b" " * MAX_BODY_BYTES, b" " * 1024]
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/trajectories HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
        )
        reply = _read_reply(sock)  # the server closes the connection after its 413
        assert httpx.get(server + "/healthz", timeout=5).json() == {"status": "ok"}
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
    assert b"passed the limit" in body


# --- JSON the parsers would choke on ---------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


EXPORT = '{"landscape": "booth", "runs": [{"optimizer": "sgd"}], "format": "png"'
FIELDS = [
    ("/api/trajectories", '{"landscape": "booth", "start": %s}', ["start"]),
    ("/api/trajectories", '{"landscape": %s}', ["landscape"]),
    (
        "/api/trajectories",
        '{"landscape": "booth", "runs": [{"optimizer": "sgd", "params": {"lr": %s}}]}',
        ["runs", 0, "params", "lr"],
    ),
    ("/api/exports", EXPORT + ', "title": %s}', ["title"]),
]


def _post(server: str, path: str, text: str) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return httpx.post(server + path, content=text.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("depth", [1_000, 5_000])
@pytest.mark.parametrize(("path", "body", "loc"), FIELDS)
def test_deep_nesting_is_a_422_naming_the_field(
    server: str, path: str, body: str, loc: list[object], depth: int
) -> None:
    reply = _post(server, path, body % _nested(depth))
    assert reply.status_code == 422, reply.text[:300]
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", *loc] and "nested more than 32 levels" in issue["msg"]


def test_a_5000_digit_integer_is_a_422_naming_the_field(server: str) -> None:
    reply = _post(server, "/api/trajectories", '{"landscape": "booth", "seed": %s}' % ("7" * 5000))
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "seed"]


def test_a_lone_surrogate_is_a_422_naming_the_field(server: str) -> None:
    reply = _post(server, "/api/exports", EXPORT + ', "title": "Adam \\ud800"}')
    assert reply.status_code == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", "title"] and "\\ud800" in issue["msg"]
