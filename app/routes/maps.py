"""POST /api/maps/sweep, /api/maps/heatmap, /api/maps/basins: many runs summarised at once.

Thin handlers: the request models (app.schemas) validate, `app.maps` computes and builds
the reply in a worker thread under the server's compute limiter, as /api/trajectories
does. A basin map is the heavy one (6 × 65,536 rows × 500 steps is a few seconds on two
cores); a client that leaves stops it before the next optimizer's map.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from app import maps as replies
from app.schemas import (
    BasinsReply,
    BasinsRequest,
    ErrorReply,
    HeatmapReply,
    HeatmapRequest,
    SweepReply,
    SweepRequest,
)
from app.work import ClientDisconnectedError, run_cancellable

router = APIRouter(prefix="/api/maps", tags=["maps"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorReply, "description": "The body is not readable JSON text."},
    422: {"model": ErrorReply, "description": "A field out of its allowed range."},
    503: {"model": ErrorReply, "description": "Too many computations waiting; retry later."},
}


async def _reply(http: Request, build: Callable[[threading.Event], Any]) -> Response:
    try:
        reply = await run_cancellable(http, build)
    except ClientDisconnectedError:
        return Response(status_code=499)  # nobody reads it; uvicorn drops it
    if reply is None:  # cancelled between two optimizers' maps
        return Response(status_code=499)
    return Response(reply.model_dump_json(), media_type="application/json")


@router.post(
    "/sweep",
    response_model=SweepReply,
    responses=_ERRORS,
    summary="Each optimizer at 16–256 log-spaced learning rates: final gap, steps to settle",
)
async def sweep(request: SweepRequest, http: Request) -> Response:
    """On a quadratic landscape (constant Hessian) SGD, Momentum and NAG also get
    theory's largest stable learning rate (`limit`), to set against the measured
    `boundary`."""
    return await _reply(http, lambda cancel: replies.sweep_reply(request))


@router.post(
    "/heatmap",
    response_model=HeatmapReply,
    responses=_ERRORS,
    summary="One optimizer over a plane of two hyperparameters (lr × momentum by default)",
)
async def heatmap(request: HeatmapRequest, http: Request) -> Response:
    return await _reply(http, lambda cancel: replies.heatmap_reply(request))


@router.get("/heatmap/axes", summary="Each optimizer's default y axis for the heatmap")
async def heatmap_axes() -> dict[str, str]:
    return replies.heatmap_axes()


@router.post(
    "/basins",
    response_model=BasinsReply,
    responses=_ERRORS,
    summary="Where every start of a grid ends, per optimizer: basins of attraction",
)
async def basins(request: BasinsRequest, http: Request) -> Response:
    """`label` and `settled_at` are base64 little-endian int16/int32 arrays, row j for
    ys[j]; a label indexes `minima` (shared by all runs), −1 diverged, −2 not settled."""
    return await _reply(http, lambda cancel: replies.basins_reply(request, cancel))
