"""405 replies whose `Allow` header lists every method the path supports.

Starlette answers a method a path does not take with the methods of the first route
whose path matched: `OPTIONS /api/exports/{id}` said `Allow: GET` although DELETE works
there too. The handler below collects the methods of every route matching the path.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

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
    return allowed


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
