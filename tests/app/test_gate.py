"""app.gate in process: Host check, Origin and cross-site checks, body cap, JSON guard.

Issue 11, items 1–3: any Host and any origin were accepted (DNS rebinding, other pages'
WebSockets and <img> GETs), bodies had no size limit, and nested JSON, long integers and
lone surrogates gave a 500 or a 400 naming no field.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from app.config import ALLOW_HOSTS_ENV, ALLOW_ORIGINS_ENV, MAX_BODY_BYTES
from app.gate import Gate, Policy, normalize_origin, parse_hosts, parse_origins, split_host
from app.main import create_app
from app.schemas import validation_issues
from tests.app.clients import LocalClient

SCENE = {"landscape": "booth", "steps": 5, "runs": [{"optimizer": "sgd"}]}
GRID = "/api/landscapes/rosenbrock/grid?resolution=40"


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(bind_host="127.0.0.1", allow_hosts=[], allow_origins=[])


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with LocalClient(app) as test_client:
        yield test_client


def _client(**kwargs: Any) -> TestClient:
    return LocalClient(create_app(**kwargs))


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _post(client: TestClient, path: str, text: str) -> Any:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


# --- Host ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/landscapes", "/", "/healthz", "/static/css/app.css"])
def test_a_foreign_host_gets_a_400_naming_it_and_the_flag(client: TestClient, path: str) -> None:
    # DNS rebinding: evil.com resolves to 127.0.0.1, the browser sends its own name.
    reply = client.get(path, headers={"host": "evil.com:8000"})
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("text/plain")
    assert "'evil.com:8000'" in reply.text and "--allow-host evil.com" in reply.text


@pytest.mark.parametrize(
    "host",
    [
        "localhost:8000",
        "127.0.0.1",
        "127.0.0.2:9",
        "[::1]:8000",
        "LOCALHOST",
        "a.localhost",
        "localhost.:8000",  # a fully qualified name: the same host
    ],
)
def test_loopback_names_with_any_port_are_accepted(client: TestClient, host: str) -> None:
    assert client.get("/healthz", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host", ["192.168.1.20:8000", socket.gethostname(), "evil.com", "::1", ".", "evil.com."]
)
def test_bound_to_loopback_only_loopback_names_pass(client: TestClient, host: str) -> None:
    assert client.get("/healthz", headers={"host": host}).status_code == 400


def test_a_foreign_host_cannot_open_the_websocket(client: TestClient) -> None:
    headers = {"host": "evil.com:8000"}
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect("/ws/trajectories", headers=headers),
    ):
        pass
    assert refused.value.status_code == 400 and "--allow-host" in refused.value.text


def test_on_the_lan_the_machines_names_and_addresses_pass() -> None:
    client = _client(bind_host="0.0.0.0", allow_hosts=["Proxy.Example.org:443"], allow_origins=[])
    short = socket.gethostname().split(".")[0]
    for host in ("192.168.1.20:8000", "[fe80::1]:8000", "localhost:8000", short, f"{short}.local"):
        assert client.get("/healthz", headers={"host": host}).status_code == 200, host
    assert client.get("/healthz", headers={"host": "proxy.example.org"}).status_code == 200
    refused = client.get("/healthz", headers={"host": "evil.com"})
    assert refused.status_code == 400 and "this machine's IP addresses" in refused.text


def test_allowed_hosts_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_HOSTS_ENV, "gradscape.example.org, other.example")
    client = _client(bind_host="127.0.0.1")
    for host in ("gradscape.example.org", "other.example:8443"):
        assert client.get("/healthz", headers={"host": host}).status_code == 200
    assert client.get("/healthz", headers={"host": "evil.com"}).status_code == 400
    # An explicit argument wins over the environment.
    explicit = _client(bind_host="127.0.0.1", allow_hosts=[])
    assert explicit.get("/healthz", headers={"host": "other.example"}).status_code == 400
    wildcard = _client(bind_host="127.0.0.1", allow_hosts=["*"])
    assert wildcard.get("/healthz", headers={"host": "anything.example"}).status_code == 200


def test_host_and_origin_lists_refuse_what_they_cannot_mean() -> None:
    with pytest.raises(ValueError, match="not a host name"):
        parse_hosts(["https://gradscape.example.org/"])
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins(["gradscape.example.org"])
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins(["https://example.org/page"])
    assert parse_origins(["HTTPS://Example.org:443/"]) == {"https://example.org"}
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
    assert normalize_origin("null") is None
    assert split_host("[::1]:8000") == ("::1", 8000)
    assert split_host("example.org:99999") is None
    assert split_host("a/b") is None


# The ASGI calls TestClient cannot make: no Host header at all (HTTP/1.0), and a body the
# app must not read. `receive` records each call, so a test sees what was read.


def _call(
    app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes], method: str = "POST"
) -> tuple[int, bytes, int]:
    """(status, body, receive calls) of one HTTP request to `app`."""
    sent: list[dict[str, Any]] = []
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[calls - 1], "more_body": calls < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.0",
        "method": method,
        "scheme": "http",
        "path": "/api/trajectories",
        "raw_path": b"/api/trajectories",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
    }
    anyio.run(app, scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, calls


async def _never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the request reached the app")


def test_a_request_without_host_is_refused() -> None:
    gate = Gate(_never_called, policy=Policy.for_server("127.0.0.1", [], []))
    status, body, _ = _call(gate, [], [b""], method="GET")
    assert status == 400 and b"Host header is required" in body


def test_a_request_with_two_hosts_is_refused() -> None:
    # The first of two Host headers won: a proxy reading the other could route it elsewhere.
    gate = Gate(_never_called, policy=Policy.for_server("127.0.0.1", [], []))
    hosts = [(b"host", b"127.0.0.1"), (b"host", b"evil.com")]
    status, body, _ = _call(gate, hosts, [b""], method="GET")
    assert status == 400 and b"one Host, not several" in body


def test_without_denial_responses_a_handshake_is_closed_before_it_is_accepted() -> None:
    # A server without the websocket.http.response extension: close (uvicorn answers 403).
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    host = "évil.example".encode("latin-1") * 20  # a close reason is at most 123 bytes
    scope = {"type": "websocket", "path": "/ws/trajectories", "headers": [(b"host", host)]}
    gate = Gate(_never_called, policy=Policy.for_server("127.0.0.1", [], []))
    anyio.run(gate, scope, receive, send)
    (closed,) = sent
    assert closed["type"] == "websocket.close" and closed["code"] == 1008
    assert closed["reason"].startswith("Host '") and len(closed["reason"].encode()) <= 123


# --- Origin and cross-site requests ----------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["http://evil.com", "http://localhost:3000", "http://127.0.0.1:8001", "null"]
)
def test_a_websocket_from_another_origin_is_refused(client: TestClient, origin: str) -> None:
    # Browsers apply no CORS to WebSockets: any page could stream maximum-size scenes.
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect("/ws/trajectories", headers={"origin": origin}),
    ):
        pass
    assert refused.value.status_code == 403
    assert "--allow-origin" in refused.value.json()["detail"]


def _streams(client: TestClient, headers: dict[str, str]) -> bool:
    with client.websocket_connect("/ws/trajectories", headers=headers) as socket:
        socket.send_json({"type": "run", "id": 1, **SCENE})
        while (message := socket.receive_json())["type"] not in ("done", "error"):
            pass
    return message["type"] == "done"


def test_the_pages_own_origin_and_non_browsers_may_open_the_websocket(client: TestClient) -> None:
    assert _streams(client, {"origin": "http://127.0.0.1:8000"})
    assert _streams(client, {"origin": "http://localhost:8000", "host": "localhost:8000"})
    assert _streams(client, {})  # no Origin: the CLI, benchmarks, the websockets library


def test_an_allowed_origin_may_open_the_websocket() -> None:
    allowed = _client(
        bind_host="127.0.0.1", allow_hosts=[], allow_origins=["http://localhost:3000"]
    )
    with allowed:
        assert _streams(allowed, {"origin": "http://localhost:3000"})


def test_allowed_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ORIGINS_ENV, "http://localhost:3000,https://lms.example.org")
    allowed = _client(bind_host="127.0.0.1", allow_hosts=[])
    headers = {"origin": "https://lms.example.org", "sec-fetch-site": "cross-site"}
    assert allowed.get(GRID, headers=headers).status_code == 200


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_an_img_get_from_another_site_is_refused(client: TestClient, site: str) -> None:
    # What <img src="http://127.0.0.1:8000/api/landscapes/…/grid?resolution=800"> sends.
    headers = {"sec-fetch-site": site, "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    reply = client.get(GRID, headers=headers)
    assert reply.status_code == 403
    assert site in reply.json()["detail"] and "--allow-origin" in reply.json()["detail"]


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_the_pages_own_requests_and_typed_urls_pass(client: TestClient, site: str) -> None:
    assert client.get(GRID, headers={"sec-fetch-site": site}).status_code == 200


def test_a_post_from_another_origin_is_refused(client: TestClient) -> None:
    # A form POST (text/plain, no preflight) from another page.
    headers = {"origin": "http://evil.com", "content-type": "text/plain"}
    reply = client.post("/api/exports", content=b'{"format": "gif"}', headers=headers)
    assert reply.status_code == 403 and "'http://evil.com'" in reply.json()["detail"]
    same = client.post("/api/trajectories", json=SCENE, headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200


def test_behind_a_proxys_path_prefix_the_api_is_still_guarded(app: FastAPI) -> None:
    # uvicorn --root-path /gradscape: the paths the app sees carry the prefix.
    with LocalClient(app, root_path="/gradscape") as prefixed:
        for path in ("/gradscape/api/landscapes", "/api/landscapes"):
            refused = prefixed.get(path, headers={"sec-fetch-site": "cross-site"})
            assert refused.status_code == 403, path
        assert prefixed.get("/gradscape/", headers={"sec-fetch-site": "cross-site"}).is_success


@pytest.mark.parametrize("path", ["/", "/healthz", "/static/css/app.css"])
def test_the_page_opens_from_a_link_on_another_site(client: TestClient, path: str) -> None:
    headers = {"sec-fetch-site": "cross-site", "origin": "https://lms.example.org"}
    assert client.get(path, headers=headers).status_code == 200


# --- body size -------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read() -> None:
    app = create_app(bind_host="127.0.0.1", allow_hosts=[], allow_origins=[])
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", b"52000000"),
    ]
    status, body, calls = _call(app, headers, [b"[" * 65536] * 800)
    assert (status, calls) == (413, 0)
    assert b"at most 65,536 bytes (64 KiB)" in body and b"52,000,000 bytes" in body


def test_a_chunked_body_is_cut_off_once_over_the_limit() -> None:
    app = create_app(bind_host="127.0.0.1", allow_hosts=[], allow_origins=[])
    headers = [(b"host", b"127.0.0.1:8000"), (b"transfer-encoding", b"chunked")]
    status, body, calls = _call(app, headers, [b" " * 16384] * 3200)  # 52 MB
    assert status == 413 and b"passed the limit" in body
    assert calls == MAX_BODY_BYTES // 16384 + 1  # stopped at the first chunk over


def test_413_over_http_closes_the_connection(client: TestClient) -> None:
    reply = client.post("/api/trajectories", content=b" " * (MAX_BODY_BYTES + 1))
    assert reply.status_code == 413 and reply.headers["connection"] == "close"
    assert "65,537 bytes" in reply.json()["detail"]


def test_a_body_at_the_limit_reaches_the_app_whole(client: TestClient) -> None:
    text = json.dumps(SCENE)
    padded = text[:-1] + " " * (MAX_BODY_BYTES - len(text)) + "}"
    reply = _post(client, "/api/trajectories", padded)
    assert reply.status_code == 200 and len(reply.json()["runs"][0]["points"]) == 6


# --- JSON the parsers would choke on ---------------------------------------------------


EXPORT = '{"landscape": "booth", "runs": [{"optimizer": "sgd"}], "format": "png"'


@pytest.mark.parametrize("depth", [1_000, 5_000])
@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/trajectories", '{"landscape": "booth", "start": %s}', ["start"]),
        ("/api/trajectories", '{"landscape": %s}', ["landscape"]),
        (
            "/api/trajectories",
            '{"landscape": "booth", "runs": [{"optimizer": "sgd", "params": {"lr": %s}}]}',
            ["runs", 0, "params", "lr"],
        ),
        ("/api/exports", EXPORT + ', "title": %s}', ["title"]),
    ],
)
def test_deep_nesting_is_a_422_naming_the_field(
    client: TestClient, path: str, body: str, loc: list[object], depth: int
) -> None:
    # 485–989 levels were a 500 (RecursionError), 990 and more a bare 400.
    reply = _post(client, path, body % _nested(depth))
    assert reply.status_code == 422, reply.text[:300]
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", *loc] and issue["type"] == "json_too_deep"
    assert issue["msg"] == "nested more than 32 levels deep; at most 32 levels are accepted"


def test_a_5000_digit_integer_is_a_422_naming_the_field(client: TestClient) -> None:
    # Was a bare 400: Python refuses to convert more than 4,300 digits.
    reply = _post(client, "/api/trajectories", '{"landscape": "booth", "seed": %s}' % ("7" * 5000))
    assert reply.status_code == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == ["body", "seed"] and "5000 characters" in issue["msg"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/exports", EXPORT + ', "title": "Adam \\ud800"}', ["body", "title"]),
        ("/api/trajectories", '{"landscape": "\\udfff"}', ["body", "landscape"]),
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(
    client: TestClient, path: str, body: str, loc: list[str]
) -> None:
    # Was a 500: "'utf-8' codec can't encode character '\ud800'".
    reply = _post(client, path, body)
    assert reply.status_code == 422
    (issue,) = reply.json()["detail"]
    assert issue["loc"] == loc and "lone UTF-16 surrogate" in issue["msg"]


# --- replies that quote the client -----------------------------------------------------


def test_a_422_echo_with_lone_surrogates_is_encodable() -> None:
    # A lone surrogate that reached validation (a WebSocket message, a future route) made
    # the 422 itself fail to encode as UTF-8: a 500.
    issues = validation_issues(
        [
            {
                "loc": ("runs", 0, "params", "l\ud800r"),
                "msg": "Value error, unknown optimizer '\udc00'; choose one of: sgd, adam",
                "input": {"x\ud800": ["\udfff"]},
                "ctx": {"error": "\ud800"},
            }
        ]
    )
    body = JSONResponse({"detail": issues}).body
    (issue,) = json.loads(bytes(body))["detail"]
    assert issue["loc"] == ["runs", 0, "params", "l\ufffdr"]
    assert issue["msg"] == "unknown optimizer '\ufffd'; choose one of: sgd, adam"
    assert issue["input"] == {"x\ufffd": ["\ufffd"]}


def test_a_core_value_error_quoting_a_lone_surrogate_is_a_readable_422() -> None:
    app = create_app(bind_host="127.0.0.1", allow_hosts=[], allow_origins=[])

    @app.get("/api/quoting")
    def quoting() -> None:
        raise ValueError("unknown landscape 'a\ud800'; choose one of: booth, rosenbrock")

    reply = LocalClient(app).get("/api/quoting")
    assert reply.status_code == 422
    assert reply.json() == {
        "detail": "unknown landscape 'a\ufffd'; choose one of: booth, rosenbrock"
    }
