"""The maps' replies, from a validated request: one serialization for the REST API, the CLI
and the map exports (``app.export.maps``), so each prints the numbers the others send.

Every function takes the request model and returns the reply model; non-finite numbers
become null (a diverged run's final loss), integer arrays of basin maps travel as base64
(a 256 × 256 × 6 map is 786 KB of int16 instead of 2 MB of JSON digits).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import landscapes
import maps
import optimizers
from app.schemas import (
    BasinMinimum,
    BasinRun,
    BasinsReply,
    BasinsRequest,
    HeatmapAxisInfo,
    HeatmapReply,
    HeatmapRequest,
    HessianInfo,
    IntArray,
    RunSpec,
    SweepBoundary,
    SweepReply,
    SweepRequest,
    SweepRun,
    finite_or_none,
)
from optimizers import status


def _start(request: Any) -> tuple[float, float]:
    f = landscapes.get(request.landscape)
    return tuple(request.start) if request.start is not None else f.default_start


def _schedule(request: Any) -> Any:
    if request.schedule is None:
        return None
    return optimizers.schedule(request.schedule.kind, **request.schedule.options())


def _runs(runs: list[RunSpec]) -> list[tuple[str, dict[str, float]]]:
    return [(run.optimizer, dict(run.params)) for run in runs]


def _floats(values: np.ndarray) -> list[float | None]:
    return [finite_or_none(float(v)) for v in values]


def sweep_reply(request: SweepRequest) -> SweepReply:
    """POST /api/maps/sweep's reply."""
    f = landscapes.get(request.landscape)
    lrs = maps.lr_values(request.lr.min, request.lr.max, request.lr.count)
    sweeps = maps.sweep(
        f,
        _runs(request.runs),
        _start(request),
        request.steps,
        lrs,
        request.noise,
        request.seed,
        _schedule(request),
    )
    hessian = maps.constant_hessian(f)
    eigenvalues = None if hessian is None else [float(v) for v in np.linalg.eigvalsh(hessian)]
    return SweepReply(
        f_star=status.global_minimum_value(f),
        lrs=[float(v) for v in lrs],
        hessian=HessianInfo(constant=hessian is not None, eigenvalues=eigenvalues),
        runs=[
            SweepRun(
                optimizer=s.optimizer,
                final_loss=_floats(s.final_loss),
                gap=_floats(s.gap),
                settled_at=s.settled_at.tolist(),
                diverged_at=s.diverged_at.tolist(),
                boundary=SweepBoundary(stable=s.boundary[0], diverged=s.boundary[1]),
                limit=s.limit,
                limit_formula=s.limit_formula,
            )
            for s in sweeps
        ],
    )


def heatmap_reply(request: HeatmapRequest) -> HeatmapReply:
    """POST /api/maps/heatmap's reply."""
    f = landscapes.get(request.landscape)
    run = request.runs[0]
    x, y = request.x, request.y_axis()
    xs, ys = request.axis_values("x"), request.axis_values("y")
    h = maps.heatmap(
        f,
        run.optimizer,
        dict(run.params),
        _start(request),
        request.steps,
        (x.name, xs),
        (y.name, ys),
        request.noise,
        request.seed,
        _schedule(request),
    )
    spec = {p.name: p for p in optimizers.spec(run.optimizer)}
    return HeatmapReply(
        f_star=status.global_minimum_value(f),
        optimizer=run.optimizer,
        x=HeatmapAxisInfo(name=x.name, values=xs, log=_log(x, spec)),
        y=HeatmapAxisInfo(name=y.name, values=ys, log=_log(y, spec)),
        settled_at=h.settled_at.tolist(),
        gap=[_floats(row) for row in h.gap],
        diverged_at=h.diverged_at.tolist(),
    )


def _log(axis: Any, spec: dict[str, Any]) -> bool:
    return bool(spec[axis.name].log if axis.log is None else axis.log)


def heatmap_axes() -> dict[str, str]:
    """GET /api/maps/heatmap/axes: each optimizer's default y axis."""
    return {name: maps.default_y(name) for name in optimizers.names()}


def encode(values: np.ndarray, dtype: str) -> IntArray:
    """An integer array as base64 of its little-endian bytes (IntArray)."""
    data = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return IntArray(
        dtype=dtype,  # type: ignore[arg-type]
        shape=list(data.shape),
        data=base64.b64encode(data.tobytes()).decode("ascii"),
    )


class _CancelledError(Exception):
    """Raised inside a map's progress callback when its request was cancelled."""


def basins_reply(
    request: BasinsRequest,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> BasinsReply | None:
    """POST /api/maps/basins's reply; None if ``cancel`` was set (checked after every
    block of updates, so a client that leaves stops a 256² map within milliseconds).
    ``progress(fraction)`` hears how far it is."""
    f = landscapes.get(request.landscape)

    def told(fraction: float) -> None:
        if cancel is not None and cancel.is_set():
            raise _CancelledError
        if progress is not None:
            progress(fraction)

    try:
        result = maps.basins(
            f,
            _runs(request.runs),
            request.resolution,
            request.steps,
            request.bounds,
            request.noise,
            request.seed,
            _schedule(request),
            cancel,
            told,
        )
    except _CancelledError:
        return None
    if result is None:
        return None
    return BasinsReply(
        xs=[float(v) for v in result.xs],
        ys=[float(v) for v in result.ys],
        minima=[BasinMinimum(x=m.x, y=m.y, value=m.value, best=m.best) for m in result.minima],
        runs=[
            BasinRun(
                optimizer=m.optimizer,
                label=encode(m.label, "int16"),
                settled_at=encode(m.settled_at, "int32"),
            )
            for m in result.maps
        ],
    )
