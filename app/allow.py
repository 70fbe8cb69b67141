"""Methods: 405 replies whose `Allow` header lists every method the path supports, and
HEAD wherever GET works.

Starlette answers a method a path does not take with the methods of the first route
whose path matched: `OPTIONS /api/exports/{id}` said `Allow: GET` although DELETE works
there too. The handler below collects the methods of every route matching the path.

FastAPI's routes answer only the methods they name, so HEAD was a 405 everywhere: an
uptime monitor's `HEAD /healthz`, `curl -I`, a download manager probing an export's size
before a ranged download. HTTP says HEAD is GET without the body (RFC 9110 §9.3.2);
`HeadAsGet` runs the GET and sends its status and headers only.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The methods asked about; a 405 lists those some route of the path answers.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Methods some route of the app answers fully at the request's path.

    Each method is tried through the routes' own `matches` (FastAPI nests included
    routers, so their routes are not a flat list to read); mounted apps are left out:
    they match every method and answer 405 themselves, with their own list.
    """
    allowed = []
    for method in _METHODS:
        scope = {
            "type": "http",
            "method": method,
            "path": request.scope["path"],
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        for route in app.router.routes:
            if not isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL:
                allowed.append(method)
                break
    if "GET" in allowed and "HEAD" not in allowed:  # HeadAsGet answers it
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


class HeadAsGet:
    """HEAD is answered as GET with the body left out (headers, Content-Length included,
    are the GET's)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not ended:
                if not message.get("more_body", False):
                    ended = True
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def install_allow_handler(app: FastAPI) -> None:
    """Answer every 405 with the full `Allow` list (one home for it: the app's routes)."""

    async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        methods = allowed_methods(app, request)
        if methods:  # none: a mounted app (static files) said it, with its own list
            headers["Allow"] = ", ".join(methods)
        return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)

    app.add_exception_handler(405, method_not_allowed)
