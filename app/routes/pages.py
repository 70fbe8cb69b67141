"""The page itself, Plotly.js from the installed plotly package, and the lecture presets.

Plotly.js is read from the `plotly` wheel (never a CDN) so the page works in a lecture
hall with no internet; it is served with a year-long cache because its URL carries the
package version, gzipped once per process (4.8 MB -> 1.5 MB). The presets, like the other
catalogues, are fixed while the server runs: a strong ETag lets a warm load get a 304.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.config import TEMPLATES_DIR
from app.http_cache import IMMUTABLE, REVALIDATE, Payload, respond
from app.presets import PRESETS

router = APIRouter()
templates = Jinja2Templates(directory=TEMPLATES_DIR)

PLOTLY_VERSION: str = plotly.__version__
PLOTLY_URL = f"/vendor/plotly-{PLOTLY_VERSION}.min.js"


@lru_cache(maxsize=1)
def _plotly_js() -> Payload:
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return Payload(path.read_bytes(), "text/javascript")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The app page; everything else it needs comes from /static, /vendor and /api."""
    return templates.TemplateResponse(request, "index.html", {"plotly_url": PLOTLY_URL})


@router.get("/vendor/plotly-{version}.min.js", include_in_schema=False)
def plotly_js(version: str, request: Request) -> Response:
    """Plotly.js from the plotly package; any version in the URL gets the installed one."""
    immutable = version == PLOTLY_VERSION
    return respond(request, _plotly_js(), IMMUTABLE if immutable else REVALIDATE)


@lru_cache(maxsize=1)
def _presets_json() -> Payload:
    reply = {"presets": [preset.to_json() for preset in PRESETS]}
    return Payload(
        json.dumps(reply, ensure_ascii=False, allow_nan=False).encode(), "application/json"
    )


@router.get("/api/presets", response_model=dict[str, Any])
def presets(request: Request) -> Response:
    """Curated lecture scenes with one-paragraph explanations in English and Japanese."""
    return respond(request, _presets_json())
