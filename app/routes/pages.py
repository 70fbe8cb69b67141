"""The page itself, Plotly.js from the installed plotly package, and the lecture presets.

Plotly.js is read from the `plotly` wheel (never a CDN) so the page works in a lecture
hall with no internet; it is served with a year-long cache because its URL carries the
package version.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.assets import TEMPLATES_DIR
from app.presets import PRESETS

router = APIRouter()
templates = Jinja2Templates(directory=TEMPLATES_DIR)

PLOTLY_VERSION: str = plotly.__version__
PLOTLY_URL = f"/vendor/plotly-{PLOTLY_VERSION}.min.js"


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The app page; everything else it needs comes from /static, /vendor and /api."""
    return templates.TemplateResponse(request, "index.html", {"plotly_url": PLOTLY_URL})


@router.get("/vendor/plotly-{version}.min.js", include_in_schema=False)
def plotly_js(version: str) -> Response:
    """Plotly.js from the plotly package; any version in the URL gets the installed one."""
    immutable = version == PLOTLY_VERSION
    return Response(
        content=_plotly_js(),
        media_type="text/javascript",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"
        },
    )


@router.get("/api/presets")
def presets() -> dict[str, Any]:
    """Curated lecture scenes with one-paragraph explanations in English and Japanese."""
    return {"presets": [preset.to_json() for preset in PRESETS]}
