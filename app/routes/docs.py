"""The API docs, offline: Swagger UI at /docs with local assets.

FastAPI's built-in docs pages load Swagger UI and ReDoc from a CDN and FastAPI's favicon
from its website, so in a lecture hall without internet /docs stays blank. The app turns
them off (`docs_url=None, redoc_url=None`) and this router builds the Swagger UI page with
FastAPI's own helper, pointing at the bundle the installed `fastapi-offline` package ships
(served from /vendor/docs) and at the app's own favicon.

There is no /redoc: ReDoc 2 always loads its sidebar logo from cdn.redoc.ly (hard-coded,
no option turns it off), so that page would send a request off the machine on every view.
Swagger UI reads the same schema (/openapi.json) and can also try each endpoint.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from app.config import DOCS_ASSETS_DIR

router = APIRouter()

DOCS_ASSETS_URL = "/vendor/docs"
# The only files the page loads; anything else under /vendor/docs is a 404.
DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")
FAVICON_URL = "/static/favicon.svg"


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json: read the API and try every endpoint in the browser."""
    # Behind a proxy that mounts the app under a prefix, every URL the page loads needs it.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + (request.app.openapi_url or ""),
        title=f"{request.app.title} API",
        swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=root + FAVICON_URL,
        swagger_ui_parameters=request.app.swagger_ui_parameters,
    )


@router.get(DOCS_ASSETS_URL + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    """Swagger UI's JavaScript or CSS, from the installed fastapi-offline package."""
    if name not in DOCS_ASSETS:
        raise HTTPException(status_code=404, detail=f"no docs asset {name!r}")
    return FileResponse(DOCS_ASSETS_DIR / name)
