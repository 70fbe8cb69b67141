"""GET /api/optimizers: every optimizer's sliders and colour, and the schedule controls.

The page builds all its optimizer and schedule controls from this reply and holds no
defaults of its own, so a new optimizer or schedule in the core shows up without touching
the page. Everything comes from the core's specs (schedule step counts capped as the
models cap them) and the shared palette.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

import optimizers
from app.http_cache import Payload, respond
from app.palette import run_colors
from app.schemas import (
    HyperParamInfo,
    OptimizerInfo,
    OptimizersReply,
    ScheduleInfo,
    schedule_options,
)

router = APIRouter(prefix="/api", tags=["optimizers"])


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _info(spec: Any) -> HyperParamInfo:
    return HyperParamInfo(
        name=spec.name,
        default=_number(spec.default),
        min=_number(spec.min),
        max=_number(spec.max),
        log=bool(spec.log),
        integer=bool(getattr(spec, "integer", False)),
        help=spec.help,
    )


@lru_cache(maxsize=1)
def catalogue() -> OptimizersReply:
    """Built once: the registry and the palette do not change while the server runs."""
    names = list(optimizers.names())
    return OptimizersReply(
        optimizers=[
            OptimizerInfo(
                name=name,
                title=optimizers.title(name),
                color=color,
                params=[_info(spec) for spec in optimizers.spec(name)],
            )
            for name, color in zip(names, run_colors(names), strict=True)
        ],
        schedules=[
            ScheduleInfo(kind=kind, options=[_info(s) for s in schedule_options(kind)])
            for kind in optimizers.schedule_kinds()
        ],
    )


@router.get(
    "/optimizers",
    response_model=OptimizersReply,
    summary="Every optimizer with its hyperparameters and colour; the schedule kinds",
)
def list_optimizers(request: Request) -> Response:
    return respond(request, _catalogue_json())


@lru_cache(maxsize=1)
def _catalogue_json() -> Payload:
    # Fixed bytes, so a strong ETag from their content lets a warm page load get a 304.
    return Payload(catalogue().model_dump_json().encode(), "application/json")
