"""POST /api/maps/{sweep,heatmap,basins,tune}/export?format=png|csv: a map as a file.

The body is the map's own request (the same model validates it, so a bad field is the same
422 naming it); the map is computed as POST /api/maps/<kind> computes it, then drawn
(PNG, `width` × `height`, words in `lang`) or tabulated (CSV) by app.export.maps, and sent
as an attachment named gradscape-<kind>-<landscape>.<format>, so the page can offer a
download of what it shows. Computed off the event loop under the server's compute limiter;
a client that hangs up stops the work (before the next optimizer's basin map).

`map_data` is the one place a map request becomes its reply's JSON data, shared with the
CLI (`gradscape sweep`, `basins`, `tune`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app import maps as replies
from app import surfaces
from app.config import HEIGHT, WIDTH
from app.export import maps as drawing
from app.schemas import (
    COMPUTE_ERRORS,
    BasinsRequest,
    HeatmapRequest,
    SweepRequest,
    TuneRequest,
)
from app.work import ClientDisconnectedError, run_cancellable

router = APIRouter(prefix="/api/maps", tags=["maps"])

REQUESTS: dict[str, type[BaseModel]] = {
    "sweep": SweepRequest,
    "heatmap": HeatmapRequest,
    "basins": BasinsRequest,
    "tune": TuneRequest,
}


def map_data(
    kind: str,
    request: Any,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """The reply of POST /api/maps/<kind> for a validated request, as JSON data (None if
    `cancel` was set). A basin map, the long one, tells `progress` how far it is."""
    cancel = cancel or threading.Event()
    if kind == "tune":
        text = replies.tune_reply_json(cancel, request)
        return None if text is None else json.loads(text)
    reply: BaseModel | None
    if kind == "basins":
        reply = replies.basins_reply(request, cancel, progress)
    elif kind == "heatmap":
        reply = replies.heatmap_reply(request)
    else:
        reply = replies.sweep_reply(request)
    return None if reply is None else reply.model_dump(mode="json")


class ExportOptions(BaseModel):
    """The file asked for: its format, and a picture's size and language."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["png", "csv"] = "png"
    width: int = Field(default=1280, ge=WIDTH.min, le=WIDTH.max, description="PNG pixels")
    height: int = Field(default=720, ge=HEIGHT.min, le=HEIGHT.max, description="PNG pixels")
    lang: Literal["en", "ja"] = Field(default="en", description="The picture's words")


def file_name(kind: str, request: Any, fmt: str) -> str:
    """gradscape-<kind>-<landscape>.<format>: registry names only, safe in a header."""
    return f"gradscape-{kind}-{surfaces.label(request.landscape)}.{fmt}"


def render(cancel: threading.Event, kind: str, request: Any, options: ExportOptions) -> Any:
    """The file's bytes, or None once cancelled."""
    reply = map_data(kind, request, cancel)
    if reply is None:
        return None
    if options.format == "csv":
        return drawing.render_csv(kind, reply).encode()
    body = request.model_dump(mode="json")
    return drawing.draw_map(kind, reply, body, options.width, options.height, options.lang).png


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in drawing.MEDIA_TYPES.values()}},
    **COMPUTE_ERRORS,
}


async def _export(kind: str, request: Any, options: ExportOptions, http: Request) -> Response:
    try:
        data = await run_cancellable(http, render, kind, request, options)
    except ClientDisconnectedError:
        data = None
    if data is None:
        return Response(status_code=499)  # the client left; nobody reads it
    name = file_name(kind, request, options.format)
    return Response(
        data,
        media_type=drawing.MEDIA_TYPES[options.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


Options = Annotated[ExportOptions, Query()]


@router.post("/sweep/export", response_class=Response, responses=_RESPONSES)
async def export_sweep(request: SweepRequest, options: Options, http: Request) -> Response:
    """The learning-rate sweep: gap and steps to settle against lr, boundaries and limits
    (PNG), or a row per optimizer and lr (CSV)."""
    return await _export("sweep", request, options, http)


@router.post("/heatmap/export", response_class=Response, responses=_RESPONSES)
async def export_heatmap(request: HeatmapRequest, options: Options, http: Request) -> Response:
    """The lr × hyperparameter heatmap of steps to settle (PNG), or a row per cell (CSV)."""
    return await _export("heatmap", request, options, http)


@router.post("/basins/export", response_class=Response, responses=_RESPONSES)
async def export_basins(request: BasinsRequest, options: Options, http: Request) -> Response:
    """The basins of attraction, a map per optimizer (PNG), or a row per start (CSV)."""
    return await _export("basins", request, options, http)


@router.post("/tune/export", response_class=Response, responses=_RESPONSES)
async def export_tune(request: TuneRequest, options: Options, http: Request) -> Response:
    """The tuned race's trials per method with the GP surrogate (PNG), or a row per trial
    (CSV)."""
    return await _export("tune", request, options, http)
