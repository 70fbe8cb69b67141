"""POST /api/trajectories: a whole scene in one reply (the WebSocket streams the same thing).

The scene is computed in a worker thread under the server's compute limiter
(`app.work.run_cancellable`), block by block in lockstep, and the reply's JSON is built
there too, run by run: the event loop only reads the body and sends the bytes. Between
blocks the worker checks whether the client has gone, so a request abandoned mid-way
stops within one block instead of computing 120,000 points nobody reads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from app import scene
from app.schemas import COMPUTE_ERRORS, RunResult, TrajectoryReply, TrajectoryRequest
from app.work import json_reply

router = APIRouter(prefix="/api", tags=["trajectories"])

BLOCK_STEPS = scene.COMPUTE_BLOCK  # steps between two cancellation checks

# Called in the worker thread after each computed block, with the request's cancel event
# and the block's offset. Tests use it to prove that a disconnect stops the computation;
# None in production.
block_hook: Callable[[threading.Event, int], None] | None = None

_RUN = TypeAdapter(RunResult)
_FACTORS = TypeAdapter(list[float] | None)


def compute_outcomes(
    cancel: threading.Event, request: TrajectoryRequest
) -> tuple[scene.Scene, list[scene.RunOutcome]] | None:
    """The scene and `scene.compute`'s outcomes, bit for bit, computed `BLOCK_STEPS` at a
    time; None as soon as `cancel` is set (checked before every block)."""
    prepared = scene.prepare(request)

    def after_block(offset: int) -> None:
        if block_hook is not None:
            block_hook(cancel, offset)

    outcomes = scene.compute_prepared(prepared, cancel, after_block, BLOCK_STEPS)
    return None if outcomes is None else (prepared, outcomes)


def reply_json(cancel: threading.Event, request: TrajectoryRequest) -> bytes | None:
    """The reply's JSON bytes, as FastAPI would serialize the TrajectoryReply, built one
    run at a time so that no single call holds the GIL for the whole reply."""
    computed = compute_outcomes(cancel, request)
    if computed is None:
        return None
    prepared, outcomes = computed
    parts = []
    for outcome in outcomes:
        if cancel.is_set():
            return None
        parts.append(_RUN.dump_json(outcome.to_result()))
    factors = _FACTORS.dump_json(prepared.lr_factors())
    return b'{"runs":[' + b",".join(parts) + b'],"lr_factors":' + factors + b"}"


@router.post(
    "/trajectories",
    response_model=TrajectoryReply,
    responses=COMPUTE_ERRORS,
    summary="Race the scene's optimizers and return every trajectory",
)
async def trajectories(request: TrajectoryRequest, http: Request) -> Response:
    """Diverged runs are truncated before the first non-finite point and carry `diverged_at`.

    Computed off the event loop under the server's compute cap; a client that hangs up
    stops the computation within one block.
    """
    return await json_reply(http, lambda cancel: reply_json(cancel, request))
