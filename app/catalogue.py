"""What the core offers, as the API serves it: every landscape, optimizer and schedule.

One home for the catalogue data that `GET /api/landscapes`, `GET /api/optimizers` and
`gradscape list` all show, so the page and the CLI cannot disagree. Built from the core's
registries and specs (schedule step counts capped as the models cap them) and the shared
palette; both are fixed while the process runs, so each is built once.
"""

from __future__ import annotations

import math
from functools import lru_cache

import landscapes
import optimizers
from app.config import CLASSIC_OPTIMIZERS
from app.palette import race_styles
from app.schemas import (
    HyperParamInfo,
    LandscapeInfo,
    MinimumInfo,
    OptimizerInfo,
    OptimizersReply,
    ScheduleInfo,
    schedule_options,
)
from optimizers.base import HyperParam


@lru_cache(maxsize=1)
def landscape_catalogue() -> list[LandscapeInfo]:
    """Metadata of every landscape, in registry order."""
    return [landscape_info(landscapes.get(name)) for name in landscapes.names()]


def landscape_info(f: landscapes.Landscape) -> LandscapeInfo:
    """One landscape's metadata (a registry one, or a typed function's)."""
    return LandscapeInfo(
        name=f.name,
        title=f.title,
        formula=f.formula,
        latex=getattr(f, "latex", ""),
        about=getattr(f, "about", ""),
        bounds=f.bounds,
        default_start=f.default_start,
        minima=[MinimumInfo(x=m.x, y=m.y, value=m.value, kind=m.kind) for m in f.minima],
        samples=int(getattr(f, "samples", 0)),
    )


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _info(spec: HyperParam) -> HyperParamInfo:
    return HyperParamInfo(
        name=spec.name,
        default=_number(spec.default),
        min=_number(spec.min),
        max=_number(spec.max),
        log=bool(spec.log),
        integer=bool(spec.integer),
        help=spec.help,
    )


@lru_cache(maxsize=1)
def optimizer_catalogue() -> OptimizersReply:
    """Every optimizer's sliders, group and style, and every schedule kind's options."""
    names = list(optimizers.names())
    group_of = {name: group for group, members in optimizers.groups().items() for name in members}
    return OptimizersReply(
        optimizers=[
            OptimizerInfo(
                name=name,
                title=optimizers.title(name),
                group=group_of[name],
                color=style.color,
                symbol=style.symbol,
                dash=style.dash,
                params=[_info(spec) for spec in optimizers.spec(name)],
            )
            for name, style in zip(names, race_styles(names), strict=True)
        ],
        groups=list(optimizers.groups()),
        scene=[name for name in CLASSIC_OPTIMIZERS if name in names],
        schedules=[
            ScheduleInfo(kind=kind, options=[_info(s) for s in schedule_options(kind)])
            for kind in optimizers.schedule_kinds()
        ],
    )
