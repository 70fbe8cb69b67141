"""Who may talk to the server, and how much they may send: one ASGI middleware in front of
everything, HTTP requests and WebSocket handshakes alike, before FastAPI parses anything.

What it stops (issue 11, items 1–3):

- **DNS rebinding.** A page on evil.com whose name is made to resolve to 127.0.0.1 is, to
  the browser, same-origin with evil.com, so it could read every reply; its requests carry
  `Host: evil.com:8000`. The Host must therefore be a name this server answers to:
  bound to loopback (the default), only loopback names and addresses; bound to
  0.0.0.0, :: or a LAN address, also this machine's names and any IP address, plus
  `--allow-host` names (a reverse proxy's). IP addresses and `*.localhost` names are
  safe to accept because no DNS answer is involved in reaching them: browsers resolve
  `localhost` and `*.localhost` to loopback themselves (RFC 6761), and an IP literal
  names the machine that answers. Any address is accepted rather than the ones found at
  start, so a laptop that joins the classroom Wi-Fi later, or sits behind NAT or a
  container's port mapping, keeps working. Starlette's TrustedHostMiddleware checks a
  fixed list; this one derives it from the bind address and refuses handshakes too.
- **Other pages in the same browser.** A page on another origin may open a WebSocket to
  127.0.0.1 (browsers do not apply CORS to WebSockets) or send `<img>` GETs and form
  POSTs to the API. For /api/* and /ws/*, a request whose `Origin` is present must be
  same-origin with its Host (or an `--allow-origin`), and one whose `Sec-Fetch-Site` is
  cross-site or same-site (another port of localhost is same-site) is refused. Clients
  that send neither (the CLI, curl, the websockets library) are not browsers and pass.
  The page itself, static files, /docs and /healthz are open to any origin: a link
  from a course site must open the page.
- **Bodies that stall the event loop.** A body above MAX_BODY_BYTES is refused with 413
  before it is read (by its Content-Length; a chunked one once it passes the limit), and
  the connection is closed rather than drained. A JSON body is then scanned by
  app.jsonguard (nesting, number length, lone surrogates): 422 naming the field.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from app.config import ALLOW_HOSTS_ENV, ALLOW_ORIGINS_ENV, MAX_BODY_BYTES
from app.jsonguard import JSONGuardError, check_json
from app.share import is_loopback

GATED_PREFIXES = ("/api/", "/ws/")  # the page, /static, /docs and /healthz stay open
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_DEFAULT_PORTS = {"http": 80, "https": 443}
SHOWN_CHARS = 200  # of a refused Host or Origin, quoted back in the refusal


# uvicorn's websockets-sansio protocol (its default) logs "ASGI callable returned without
# completing handshake." at ERROR after every handshake refused with an HTTP response, though
# the response went out (Kludex/uvicorn#3138, open). A refused page in the room would print
# that on the lecturer's console each time it retries: the filter drops exactly those
# records, for handshakes this gate refused (a context variable of the connection's task).
_denied_handshake: ContextVar[bool] = ContextVar("gradscape_denied_handshake", default=False)
_INCOMPLETE_HANDSHAKE = "ASGI callable returned without completing handshake."


class QuietDenials(logging.Filter):
    """Drops uvicorn's spurious error for a handshake the gate refused on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage() == _INCOMPLETE_HANDSHAKE and _denied_handshake.get())


def quiet_denials(logger_name: str = "uvicorn.error") -> None:
    """Install QuietDenials on uvicorn's logger once (create_app runs in every worker)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, QuietDenials) for f in logger.filters):
        logger.addFilter(QuietDenials())


# --- parsing ---------------------------------------------------------------------------


def split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) from a Host header ('localhost:8000', '[::1]', 'Example.org'), the name
    lower-cased and without brackets; None if it is not a host at all."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
    elif value.count(":") > 1:
        return None  # an IPv6 address in a Host is written in brackets
    else:
        name, colon, port_text = value.partition(":")
        port_text = port_text if colon else None
    if not name or any(c in name for c in "/@?# \t"):
        return None
    if port_text is None:
        return name, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return name, int(port_text)


def normalize_origin(value: str) -> str | None:
    """'http://host[:port]' as browsers write an Origin (lower case, no default port, IPv6
    in brackets), or None for 'null' and anything that is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    name = parts.hostname.lower()
    name = f"[{name}]" if ":" in name else name
    return f"{parts.scheme}://{name}" + (
        f":{port}" if port not in (None, _DEFAULT_PORTS[parts.scheme]) else ""
    )


def parse_hosts(values: Iterable[str]) -> frozenset[str]:
    """Host names from `--allow-host` (a port, if given, is ignored; '*' allows any Host).

    Raises ValueError naming a value that is not a host name, e.g. a URL.
    """
    names = set()
    for value in values:
        if value.strip() == "*":
            names.add("*")
            continue
        parsed = split_host(value)
        if parsed is None:
            raise ValueError(
                f"allowed host {value[:SHOWN_CHARS]!r} is not a host name: give a name or an "
                "address as browsers write it, e.g. gradscape.example.org or 192.168.1.20"
            )
        names.add(parsed[0])
    return frozenset(names)


def parse_origins(values: Iterable[str]) -> frozenset[str]:
    """Origins from `--allow-origin`; ValueError naming a value that is not one."""
    origins = set()
    for value in values:
        origin = normalize_origin(value)
        if origin is None:
            raise ValueError(
                f"allowed origin {value[:SHOWN_CHARS]!r} is not an origin: give a scheme, host "
                "and port, as browsers send it, e.g. https://gradscape.example.org or "
                "http://localhost:3000"
            )
        origins.add(origin)
    return frozenset(origins)


def env_list(name: str) -> list[str]:
    """A comma-separated environment variable as a list (empty items dropped)."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


# --- the policy ------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Which Hosts and Origins this server answers, derived from the address it binds."""

    loopback_only: bool
    names: frozenset[str]  # besides loopback (and, off loopback, any IP address)
    origins: frozenset[str]

    @classmethod
    def for_server(
        cls,
        bind_host: str,
        allow_hosts: Iterable[str] | None = None,
        allow_origins: Iterable[str] | None = None,
    ) -> Policy:
        """Explicit lists win; None reads GRADSCAPE_ALLOW_HOSTS / GRADSCAPE_ALLOW_ORIGINS."""
        hosts = parse_hosts(env_list(ALLOW_HOSTS_ENV) if allow_hosts is None else allow_hosts)
        origins = parse_origins(
            env_list(ALLOW_ORIGINS_ENV) if allow_origins is None else allow_origins
        )
        loopback_only = is_loopback(bind_host)
        if not loopback_only:
            hosts |= _machine_names(bind_host)
        return cls(loopback_only=loopback_only, names=hosts, origins=origins)

    def allows_host(self, name: str) -> bool:
        name = name.removesuffix(".")  # "localhost." is localhost, fully qualified
        if not name:
            return False
        if "*" in self.names or name in self.names or is_loopback(name):
            return True
        return not self.loopback_only and _is_ip_address(name)

    def described(self) -> str:
        """The Hosts accepted, for a refusal's message."""
        kinds = ["localhost", "127.0.0.1", "[::1]"]
        if not self.loopback_only:
            kinds.append("this machine's IP addresses")
        return ", ".join([*kinds, *sorted(self.names)])

    def allows_origin(self, origin: str, host: tuple[str, int | None]) -> bool:
        """Same origin as the Host the request was sent to, or an allowed origin."""
        normalized = normalize_origin(origin)
        if normalized is None:  # 'null' (file://, sandboxed frames) or garbage
            return False
        if normalized in self.origins:
            return True
        parts = urlsplit(normalized)
        default = _DEFAULT_PORTS[parts.scheme]
        name, port = host
        return parts.hostname == name and (parts.port or default) == (port or default)


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _machine_names(bind_host: str) -> frozenset[str]:
    """This machine's names a student's browser may use: its host name, with and without
    its domain, its mDNS name (NAME.local), and the bind address if it is a name. No DNS
    query is made (an offline laptop would wait on it); other names: --allow-host."""
    hostname = socket.gethostname().lower()
    short = hostname.split(".")[0]
    names = {hostname, short, f"{short}.local"}
    if bind_host not in _WILDCARDS:
        names.add(bind_host.strip("[]").lower())
    return frozenset(name for name in names if name and not _is_ip_address(name))


# --- the middleware --------------------------------------------------------------------


class Gate:
    """Refuses foreign Hosts, cross-site requests, oversized bodies and hostile JSON."""

    def __init__(
        self, app: ASGIApp, *, policy: Policy, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.policy = policy
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if len(headers.getlist("host")) > 1:  # which one a proxy and we read could differ
            await self._refuse(scope, receive, send, 400, "A request names one Host, not several.")
            return
        host_header = headers.get("host")
        host = split_host(host_header) if host_header is not None else None
        if host is None or not self.policy.allows_host(host[0]):
            await self._refuse(scope, receive, send, 400, self._host_refusal(host_header, host))
            return
        refusal = self._site_refusal(scope, headers, host)
        if refusal is not None:
            await self._refuse(scope, receive, send, 403, refusal)
            return
        if scope["type"] == "http" and _has_body(headers):
            await self._with_body(scope, receive, send, headers)
            return
        await self.app(scope, receive, send)

    # --- who -------------------------------------------------------------------------

    def _host_refusal(self, header: str | None, host: tuple[str, int | None] | None) -> str:
        if header is None:
            return "A Host header is required (HTTP/1.1): it names the server the request is for."
        shown = header[:SHOWN_CHARS]
        if host is None:
            return f"Host {shown!r} is not a host name."
        return (
            f"Host {shown!r} is not one this server answers to ({self.policy.described()}); "
            "a page under another name could be a DNS-rebinding attack. If you reach "
            f"Gradscape by this name (a reverse proxy, a DNS name), start it with "
            f"--allow-host {host[0]}"
        )

    def _site_refusal(
        self, scope: Scope, headers: Headers, host: tuple[str, int | None]
    ) -> str | None:
        """Why a browser page of another origin may not make this request, or None."""
        if scope["type"] == "http" and not _gated(scope):
            return None
        origin = headers.get("origin")
        if origin is not None and self.policy.allows_origin(origin, host):
            return None
        hint = "start Gradscape with --allow-origin ORIGIN to let another site's page use it"
        if origin is not None:
            return (
                f"Origin {origin[:SHOWN_CHARS]!r} refused: the API and the live channel answer "
                f"the page this server serves (its own origin) only; {hint}."
            )
        site = headers.get("sec-fetch-site")
        if site in ("cross-site", "same-site"):
            return (
                f"a request from another site's page (Sec-Fetch-Site: {site}) is refused: the "
                f"API answers the page this server serves only; {hint}."
            )
        return None

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        """A plain 400 for a bad Host, a JSON 403 for a foreign page; a WebSocket handshake
        gets the same answer as an HTTP response where the server supports it (uvicorn
        does), else it is closed before it is accepted (which uvicorn answers with 403)."""
        response: Response
        if status == 400:
            response = PlainTextResponse(detail + "\n", status_code=status)
        else:
            response = JSONResponse({"detail": detail}, status_code=status)
        extensions = scope.get("extensions") or {}
        if scope["type"] == "websocket" and "websocket.http.response" not in extensions:
            reason = detail.encode()[:120].decode(errors="ignore")  # a close reason: ≤ 123 bytes
            await WebSocketClose(code=1008, reason=reason)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            _denied_handshake.set(True)  # read by QuietDenials below, in this same task
        await response(scope, receive, send)

    # --- how much --------------------------------------------------------------------

    async def _with_body(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        """Read the body (at most max_body_bytes), scan it if it is JSON, then hand it on."""
        limit = self.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, f"is {int(declared):,} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, receive, send, "passed the limit")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _is_json(headers):
            try:
                check_json(body)
            except JSONGuardError as refused:
                issue = {"type": refused.kind, "loc": ["body", *refused.loc], "msg": refused.msg}
                await JSONResponse({"detail": [issue]}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        # Close the connection: keeping it alive would mean reading the rest of the body.
        kib = self.max_body_bytes // 1024
        detail = (
            f"request body {what}: at most {self.max_body_bytes:,} bytes ({kib} KiB) are "
            "accepted (a scene or an export request is a few kB)"
        )
        response = JSONResponse(
            {"detail": detail}, status_code=413, headers={"connection": "close"}
        )
        await response(scope, receive, send)


def _gated(scope: Scope) -> bool:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.startswith(GATED_PREFIXES)


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _is_json(headers: Headers) -> bool:
    """application/json or application/*+json, as FastAPI parses; also no content type,
    which FastAPI parses as JSON on a route with `strict_content_type=False`."""
    content_type = headers.get("content-type")
    if content_type is None:
        return True
    media = content_type.split(";")[0].strip().lower()
    return media.startswith("application/") and (
        media == "application/json" or media.endswith("+json")
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then the client's own events
    (a disconnect, which streaming replies listen for)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
