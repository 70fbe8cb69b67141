"""POST /api/trajectories: a whole scene in one reply (the WebSocket streams the same thing)."""

from __future__ import annotations

from fastapi import APIRouter

from app import scene
from app.schemas import ErrorReply, TrajectoryReply, TrajectoryRequest

router = APIRouter(prefix="/api", tags=["trajectories"])


@router.post(
    "/trajectories",
    response_model=TrajectoryReply,
    responses={
        400: {"model": ErrorReply, "description": "The body is not readable JSON text."},
        422: {"model": ErrorReply, "description": "A field out of its allowed range."},
    },
    summary="Race the scene's optimizers and return every trajectory",
)
def trajectories(request: TrajectoryRequest) -> TrajectoryReply:
    """Diverged runs are truncated before the first non-finite point and carry `diverged_at`.

    A plain `def`: FastAPI runs it in its thread pool, off the event loop.
    """
    runs = [outcome.to_result() for outcome in scene.compute(request)]
    return TrajectoryReply(runs=runs, lr_factors=scene.prepare(request).lr_factors())
