"""Landscape catalogue (app.catalogue) and contour grids. Both are pure, so both are cached.

Each is served as fixed bytes with a strong ETag from its content: a warm page load gets
a 304 instead of the 1.5 MB grid again. The page asks for grids rounded to 7 significant
digits, which no plot can tell from float64 but which halves the compressed bytes.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

import landscapes
from app import scene
from app.catalogue import landscape_catalogue
from app.config import (
    DEFAULT_GRID_RESOLUTION,
    MAX_GRID_DIGITS,
    MAX_GRID_RESOLUTION,
    MIN_GRID_DIGITS,
    MIN_GRID_RESOLUTION,
)
from app.http_cache import Payload, respond
from app.schemas import (
    ErrorReply,
    GridReply,
    LandscapeInfo,
)

router = APIRouter(prefix="/api/landscapes", tags=["landscapes"])


@lru_cache(maxsize=1)
def _catalogue_json() -> Payload:
    body = TypeAdapter(list[LandscapeInfo]).dump_json(landscape_catalogue())
    return Payload(body, "application/json")


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """`values` rounded to `digits` (≤ 15) significant digits; non-finite values unchanged.

    Dividing the rounded integer by an exact power of ten gives the double nearest the
    short decimal, so JSON (Python's shortest repr) prints at most `digits` digits. A
    value within an ulp of a halfway point may round either way.
    """
    magnitude = np.abs(values)
    exponent = np.zeros_like(values)
    nonzero = np.isfinite(values) & (magnitude > 0)
    exponent[nonzero] = np.floor(np.log10(magnitude[nonzero]))
    places = digits - 1 - exponent
    exact = np.abs(places) <= 22  # 10**k is an exact double up to k = 22
    scale = 10.0 ** np.abs(np.where(exact, places, 0))
    with np.errstate(invalid="ignore"):  # inf * scale - inf for infinite values: kept below
        rounded = np.where(
            places >= 0, np.round(values * scale) / scale, np.round(values / scale) * scale
        )
    rounded = np.where(np.isfinite(values), rounded, values)
    for index in zip(*np.nonzero(~exact), strict=True):  # below 1e-16 or above 1e29: rare
        rounded[index] = float(f"{values[index]:.{digits}g}")
    return rounded


Window = tuple[tuple[float, float], tuple[float, float]]
# A zoom window's edges: as far out as a run may go before it counts as diverged.
WINDOW_LIMIT = 1e6


@lru_cache(maxsize=16)
def _grid_json(name: str, resolution: int, digits: int | None) -> Payload:
    # An 800×800 grid is 640,000 numbers: serialize once, not on every redraw.
    return _serialize(scene.grid(name, resolution), digits)


def _serialize(g: scene.Grid, digits: int | None) -> Payload:
    z, color = g.z, g.color
    if digits is not None:
        z, color = round_significant(z, digits), round_significant(color, digits)
    reply = {
        "x": g.x.tolist(),
        "y": g.y.tolist(),
        "z": scene.finite_lists(z),
        "color": scene.finite_lists(color),
        "log_color": g.log_color,
    }
    body = json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()
    return Payload(body, "application/json")


_WINDOW = (
    "Sample this rectangle instead of the landscape's bounds (a zoomed view): give all of "
    f"x_min, x_max, y_min, y_max, each within ±{WINDOW_LIMIT:g}. Colours keep the bounds' scale."
)


@router.get("", response_model=list[LandscapeInfo], summary="Every landscape's metadata")
def list_landscapes(request: Request) -> Response:
    return respond(request, _catalogue_json())


@router.get(
    "/{name}/grid",
    response_model=GridReply,
    responses={
        404: {"model": ErrorReply, "description": "Unknown landscape; lists the valid names."}
    },
    summary="Landscape values on a grid, for contour and surface plots",
)
def landscape_grid(
    name: str,
    request: Request,
    resolution: int = Query(
        DEFAULT_GRID_RESOLUTION,
        ge=MIN_GRID_RESOLUTION,
        le=MAX_GRID_RESOLUTION,
        description="Samples per side (N×N grid).",
    ),
    digits: int | None = Query(
        None,
        ge=MIN_GRID_DIGITS,
        le=MAX_GRID_DIGITS,
        description="Round z and color to this many significant digits (default: exact "
        "float64). No plot shows the difference at 7, and the reply compresses to half.",
    ),
    x_min: float | None = Query(None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, description=_WINDOW),
    x_max: float | None = Query(None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, description=_WINDOW),
    y_min: float | None = Query(None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, description=_WINDOW),
    y_max: float | None = Query(None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, description=_WINDOW),
) -> Response:
    try:
        landscapes.get(name)
    except ValueError as exc:  # the core's message lists the valid names
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    window = _window(x_min, x_max, y_min, y_max)
    if window is None:
        return respond(request, _grid_json(name, resolution, digits))
    # A zoom window: computed afresh (each zoom is a new one), not cached.
    return respond(request, _serialize(scene.window_grid(name, resolution, window), digits))


def _window(
    x_min: float | None, x_max: float | None, y_min: float | None, y_max: float | None
) -> Window | None:
    """The zoom window of a grid request: all four edges or none, each min below its max."""
    edges = {"x_min": x_min, "x_max": x_max, "y_min": y_min, "y_max": y_max}
    given = [k for k, v in edges.items() if v is not None]
    if not given:
        return None
    if len(given) < 4:
        missing = ", ".join(k for k in edges if k not in given)
        raise ValueError(f"a grid window needs x_min, x_max, y_min and y_max; missing {missing}")
    assert x_min is not None and x_max is not None and y_min is not None and y_max is not None
    for axis, lo, hi in (("x", x_min, x_max), ("y", y_min, y_max)):
        if not lo < hi:
            raise ValueError(f"{axis}_min must be below {axis}_max (got {lo} and {hi})")
    return ((x_min, x_max), (y_min, y_max))
