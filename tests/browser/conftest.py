"""Fixtures for driving the real page in headless Chromium.

One uvicorn server and one browser per session; a fresh page (context) per test. Every
request the page makes is recorded, and anything not addressed to the loopback server
is aborted and reported, so "nothing leaves the machine" is checked on every test.
A missing /usr/bin/chromium is a failure, never a skip.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` on a free loopback port, served by uvicorn in a background thread."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the app did not answer /healthz on {base} within 20 s")
        time.sleep(0.05)
    try:
        yield base
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def serve_app() -> Callable[[Any], AbstractContextManager[str]]:
    """For a test that needs its own app (say, with a setting changed): `with serve_app(app)`."""
    return serve


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The app, served for the whole session."""
    from app.main import create_app

    with serve(create_app()) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium) — the browser tests must run, never skip."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Gradscape:
    """A page of the app plus what it logged and requested."""

    page: Any
    base: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def open(self, query: str = "") -> Gradscape:
        self.page.goto(f"{self.base}/{('?' + query) if query else ''}")
        self.page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
        self.wait_drawn(0)
        return self

    def counter(self) -> int:
        return int(self.page.evaluate("() => window.__gradscape.runCounter()"))

    def wait_drawn(self, after: int) -> dict[str, Any]:
        """Wait until a run sent after run number `after` is fully drawn."""
        return self.page.evaluate(
            "(n) => window.__gradscape.redrawAfter(n)", after
        )  # Playwright awaits the promise

    def change(self, action: Any) -> dict[str, Any]:
        """Do `action()` (a UI change that re-runs) and wait for its redraw."""
        before = self.counter()
        action()
        return self.wait_drawn(before)

    def runs(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => window.__gradscape.runs()")

    def query(self) -> str:
        return self.page.evaluate("() => window.__gradscape.query()")

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)

    def path_traces(self) -> list[dict[str, Any]]:
        """Line traces drawn in the overlay foreground: [{name, n, color}]."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('#main-plot .layer-fg')].flatMap(gd =>
                 gd.data.filter(t => t.mode === 'lines').map(t => ({
                   name: t.name, n: t.x.length, color: t.line.color,
                   last: [t.x[t.x.length - 1], t.y[t.y.length - 1]]})))"""
        )

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.blocked == [], f"requests left the machine: {self.blocked}"


@pytest.fixture()
def app_page(browser: Any, server: str) -> Iterator[Gradscape]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    gs = Gradscape(page=page, base=server)

    def route(route: Any) -> None:
        url = route.request.url
        gs.requests.append(url)
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname or ""
        if scheme in ("data", "blob") or host in LOOPBACK:
            route.continue_()
        else:
            gs.blocked.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("websocket", lambda ws: gs.requests.append(ws.url))
    page.on(
        "console",
        lambda msg: gs.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: gs.console_errors.append(f"page error: {exc}"))
    yield gs
    context.close()
