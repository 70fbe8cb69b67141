"""Landscape catalogue and contour grids. Both are pure, so both are cached."""

from __future__ import annotations

import json
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

import landscapes
from app import scene
from app.schemas import (
    MAX_GRID_RESOLUTION,
    MIN_GRID_RESOLUTION,
    ErrorReply,
    GridReply,
    LandscapeInfo,
    MinimumInfo,
)

router = APIRouter(prefix="/api/landscapes", tags=["landscapes"])

DEFAULT_GRID_RESOLUTION = 150


@lru_cache(maxsize=1)
def catalogue() -> list[LandscapeInfo]:
    """Metadata of every landscape, in registry order."""
    infos = []
    for name in landscapes.names():
        f = landscapes.get(name)
        infos.append(
            LandscapeInfo(
                name=f.name,
                title=f.title,
                formula=f.formula,
                latex=getattr(f, "latex", ""),
                about=getattr(f, "about", ""),
                bounds=f.bounds,
                default_start=f.default_start,
                minima=[MinimumInfo(x=m.x, y=m.y, value=m.value, kind=m.kind) for m in f.minima],
            )
        )
    return infos


@lru_cache(maxsize=16)
def _grid_json(name: str, resolution: int) -> bytes:
    # An 800×800 grid is 640,000 numbers: serialize once, not on every redraw.
    g = scene.grid(name, resolution)
    reply = {
        "x": g.x.tolist(),
        "y": g.y.tolist(),
        "z": scene.finite_lists(g.z),
        "color": scene.finite_lists(g.color),
        "log_color": g.log_color,
    }
    return json.dumps(reply, allow_nan=False, separators=(",", ":")).encode()


@router.get("", response_model=list[LandscapeInfo], summary="Every landscape's metadata")
def list_landscapes() -> list[LandscapeInfo]:
    return catalogue()


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
    resolution: int = Query(
        DEFAULT_GRID_RESOLUTION,
        ge=MIN_GRID_RESOLUTION,
        le=MAX_GRID_RESOLUTION,
        description="Samples per side (N×N grid).",
    ),
) -> Response:
    try:
        landscapes.get(name)
    except ValueError as exc:  # the core's message lists the valid names
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return Response(content=_grid_json(name, resolution), media_type="application/json")
