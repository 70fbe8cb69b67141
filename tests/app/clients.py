"""The in-process client every API test uses: addressed as a browser addresses a local server.

TestClient's default Host, `testserver`, is a name this server does not answer to (the
gate refuses it, as it refuses a DNS-rebinding page's name), so requests go to
http://127.0.0.1:8000 instead. TestClient's websocket_connect joins a path with
ws://testserver whatever the base URL is; LocalClient joins it with its own base URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.types import ASGIApp

BASE_URL = "http://127.0.0.1:8000"


class LocalClient(TestClient):
    """A TestClient on BASE_URL, for HTTP and WebSocket alike."""

    def __init__(self, app: ASGIApp, **kwargs: Any) -> None:
        kwargs.setdefault("base_url", BASE_URL)
        super().__init__(app, **kwargs)

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        base = str(self.base_url).replace("http", "ws", 1)
        return super().websocket_connect(urljoin(base, url), subprotocols, **kwargs)
