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
    COMPUTE_ERRORS,
    BasinsReply,
    BasinsRequest,
    HeatmapReply,
    HeatmapRequest,
    SweepReply,
    SweepRequest,
)
from app.work import json_reply

router = APIRouter(prefix="/api/maps", tags=["maps"])


async def _reply(http: Request, build: Callable[[threading.Event], Any]) -> Response:
    """``build(cancel)``'s reply model as JSON, built and gzipped in a worker (json_reply)."""

    def body(cancel: threading.Event) -> bytes | None:
        reply = build(cancel)
        return None if reply is None else reply.model_dump_json().encode()

    return await json_reply(http, body)


@router.post(
    "/sweep",
    response_model=SweepReply,
    responses=COMPUTE_ERRORS,
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
    responses=COMPUTE_ERRORS,
    summary="One optimizer over a plane of two hyperparameters (lr × momentum by default)",
)
async def heatmap(request: HeatmapRequest, http: Request) -> Response:
    return await _reply(http, lambda cancel: replies.heatmap_reply(request))


@router.get("/heatmap/axes", summary="Each gradient method's default y axis for the heatmap")
async def heatmap_axes() -> dict[str, str]:
    return replies.heatmap_axes()


@router.post(
    "/basins",
    response_model=BasinsReply,
    responses=COMPUTE_ERRORS,
    summary="Where every start of a grid ends, per optimizer: basins of attraction",
)
async def basins(request: BasinsRequest, http: Request) -> Response:
    """`label` and `settled_at` are base64 little-endian int16/int32 arrays, row j for
    ys[j]; a label indexes `minima` (shared by all runs), −1 diverged, −2 not settled."""
    return await _reply(http, lambda cancel: replies.basins_reply(request, cancel))
