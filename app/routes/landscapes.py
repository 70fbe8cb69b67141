"""Landscape catalogue (app.catalogue) and contour grids. Both are pure, so both are cached.

Each is served as fixed bytes with a strong ETag from its content: a warm page load gets
a 304 instead of the 1.5 MB grid again. The page asks for grids rounded to 7 significant
digits, which no plot can tell from float64 but which halves the compressed bytes.

Grid replies are kept in `grid_replies`, bounded by bytes (GRID_REPLY_BUDGET). A miss is
computed, serialized and gzipped in a worker thread under the server's compute limiter
(app.work), never on the event loop; identical requests in flight share that computation,
and a full queue answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from functools import lru_cache

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, TypeAdapter

import landscapes
from app import scene, surfaces
from app.catalogue import landscape_catalogue, landscape_info
from app.config import (
    DEFAULT_GRID_RESOLUTION,
    MAX_GRID_DIGITS,
    MAX_GRID_RESOLUTION,
    MIN_GRID_DIGITS,
    MIN_GRID_RESOLUTION,
)
from app.http_cache import Payload, respond
from app.schemas import (
    COMPUTE_ERRORS,
    ErrorReply,
    GridReply,
    LandscapeInfo,
    TypedGridRequest,
)
from app.work import (
    ByteLRU,
    ClientDisconnectedError,
    json_reply,
    release_heap,
    run_cancellable,
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


# Grid replies kept, by bytes of JSON plus its gzip: the page's grids (150×150 at 7 digits:
# 0.6 MB) for every landscape many times over, or a few 800×800 ones (7 digits: 17 MB;
# full float64: 35 MB). A reply above GRID_REPLY_MAX_ENTRY is sent but not kept.
GRID_REPLY_BUDGET = 96 * 2**20
GRID_REPLY_MAX_ENTRY = 40 * 2**20


def _payload_bytes(payload: Payload) -> int:
    return len(payload.body) + len(payload.gzipped)


grid_replies: ByteLRU[tuple[str, int, int | None], Payload] = ByteLRU(
    GRID_REPLY_BUDGET, GRID_REPLY_MAX_ENTRY, _payload_bytes
)


def _grid_json(name: str, resolution: int, digits: int | None) -> Payload:
    """The grid reply over the landscape's bounds, from `grid_replies` or computed (in a
    worker thread: an 800×800 grid is 640,000 numbers, serialized once, not per redraw)."""
    return grid_replies.get_or_compute(
        (name, resolution, digits), lambda: _ready(_serialize(scene.grid(name, resolution), digits))
    )


def _ready(payload: Payload) -> Payload:
    """`payload` with its ETag and gzip computed now, in the worker thread: on the event
    loop the gzip of an 800×800 grid would stall every other request for seconds."""
    _ = payload.etag, payload.gzipped
    return payload


def _json_rows(array: np.ndarray) -> str:
    """`json.dumps(finite_lists(array))` for a 2-D array, built row by row: each row is a
    short call, so the worker thread gives the GIL back to the event loop between rows."""
    return "[" + ",".join(_dumps(scene.finite_lists(row)) for row in array) + "]"


def _dumps(value: object) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _serialize(g: scene.Grid, digits: int | None) -> Payload:
    z, color = g.z, g.color
    if digits is not None:
        z, color = round_significant(z, digits), round_significant(color, digits)
    # The same bytes as json.dumps of {"x", "y", "z", "color", "log_color"} in one call.
    body = (
        f'{{"x":{_dumps(g.x.tolist())},"y":{_dumps(g.y.tolist())},'
        f'"z":{_json_rows(z)},"color":{_json_rows(color)},"log_color":{_dumps(g.log_color)}}}'
    )
    return Payload(body.encode(), "application/json")


# Identical uncached grid requests in flight, per event loop: they share one computation.
_computing: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, int, int | None], asyncio.Future[Payload]]
] = weakref.WeakKeyDictionary()


async def _shared_grid(name: str, resolution: int, digits: int | None) -> Payload:
    """The grid reply; a miss is computed once in a worker thread (under the compute
    limiter) however many requests ask for it meanwhile. Runs to the end even if every
    asker leaves: the result is cached for the next one."""
    key = (name, resolution, digits)
    loop = asyncio.get_running_loop()
    computing = _computing.setdefault(loop, {})
    future = computing.get(key)
    if future is None:
        future = asyncio.ensure_future(run_cancellable(None, _fresh_grid, name, resolution, digits))
        computing[key] = future

        def forget(done: asyncio.Future[Payload]) -> None:
            computing.pop(key, None)
            if not done.cancelled():
                done.exception()  # retrieved: nobody may be left to await it

        future.add_done_callback(forget)
    return await asyncio.shield(future)


_WINDOW = (
    "Sample this rectangle instead of the landscape's bounds (a zoomed view): give all of "
    f"x_min, x_max, y_min, y_max, each within ±{WINDOW_LIMIT:g}. Colours keep the bounds' scale."
)


class TypedGridReply(BaseModel):
    landscape: LandscapeInfo = Field(description="Formula, LaTeX, bounds, minima found.")
    grid: GridReply


@router.post(
    "/custom",
    response_model=TypedGridReply,
    responses=COMPUTE_ERRORS,
    summary="A typed function's metadata and contour grid (the page's live preview)",
)
async def typed_grid(body: TypedGridRequest, http: Request) -> Response:
    """``landscape.expr`` is read over an ast whitelist, never evaluated; a bad one is a
    422 naming the column (`landscape.expr: unknown name 'z' at column 7`)."""

    def build(_cancel: threading.Event) -> bytes:
        info = landscape_info(surfaces.resolve(body.landscape))
        if body.window is None:
            grid = _serialize(scene.grid(body.landscape, body.resolution), body.digits)
        else:
            window = scene.window_grid(body.landscape, body.resolution, body.window)
            grid = _serialize(window, body.digits)
        return b'{"landscape":' + info.model_dump_json().encode() + b',"grid":' + grid.body + b"}"

    return await json_reply(http, build)


@router.get("", response_model=list[LandscapeInfo], summary="Every landscape's metadata")
def list_landscapes(request: Request) -> Response:
    return respond(request, _catalogue_json())


@router.get(
    "/{name}/grid",
    response_model=GridReply,
    responses={
        404: {"model": ErrorReply, "description": "Unknown landscape; lists the valid names."},
        422: {
            "model": ErrorReply,
            "description": "A parameter out of range, or a window missing an edge.",
        },
        503: {
            "model": ErrorReply,
            "description": "Too many computations waiting; retry after `Retry-After` seconds.",
        },
    },
    summary="Landscape values on a grid, for contour and surface plots",
)
async def landscape_grid(
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
    x_min: float | None = Query(
        None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, allow_inf_nan=False, description=_WINDOW
    ),
    x_max: float | None = Query(
        None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, allow_inf_nan=False, description=_WINDOW
    ),
    y_min: float | None = Query(
        None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, allow_inf_nan=False, description=_WINDOW
    ),
    y_max: float | None = Query(
        None, ge=-WINDOW_LIMIT, le=WINDOW_LIMIT, allow_inf_nan=False, description=_WINDOW
    ),
) -> Response:
    try:
        landscapes.get(name)
    except ValueError as exc:  # the core's message lists the valid names
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    window = _window(x_min, x_max, y_min, y_max)
    if window is None:
        cached = grid_replies.get((name, resolution, digits))
        payload = cached if cached is not None else await _shared_grid(name, resolution, digits)
        return respond(request, payload)
    # A zoom window: computed afresh (each zoom is a new one), not cached; given up if the
    # client leaves before a compute thread is free.
    try:
        payload = await run_cancellable(request, _window_payload, name, resolution, window, digits)
    except ClientDisconnectedError:
        return Response(status_code=499)  # nobody reads it
    return respond(request, payload)


def _fresh_grid(
    _cancel: threading.Event, name: str, resolution: int, digits: int | None
) -> Payload:
    """An uncached grid reply (then kept in the cache), in a worker thread; the heap its
    temporaries used goes back to the OS once they are freed."""
    payload = _grid_json(name, resolution, digits)
    release_heap()
    return payload


def _window_payload(
    _cancel: threading.Event, name: str, resolution: int, window: Window, digits: int | None
) -> Payload:
    payload = _ready(_serialize(scene.window_grid(name, resolution, window), digits))
    release_heap()
    return payload


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
