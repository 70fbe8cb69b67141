"""The maps' replies, from a validated request: one serialization for the REST API, the CLI
and the map exports (``app.export.maps``), so each prints the numbers the others send. The
tuner's pieces (a trial, a snapshot, a run's head and best) also make its WebSocket
messages (app/routes/tune.py).

Every function takes the request model and returns the reply model; non-finite numbers
become null (a diverged run's final loss), integer arrays of basin maps travel as base64
(a 256 × 256 × 6 map is 786 KB of int16 instead of 2 MB of JSON digits).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import maps
import optimizers
from app import surfaces
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
    TuneRequest,
    finite_or_none,
)
from maps.tune import Race, RaceRun, Snapshot, Space, Trial
from optimizers import status


def _start(request: Any) -> tuple[float, float]:
    f = surfaces.resolve(request.landscape)
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
    f = surfaces.resolve(request.landscape)
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
    f = surfaces.resolve(request.landscape)
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
    """GET /api/maps/heatmap/axes: each gradient method's default y axis (the maps take
    no gradient-free method, so none is offered)."""
    return {
        name: maps.default_y(name)
        for name in optimizers.names()
        if not issubclass(optimizers.get(name), optimizers.GradientFree)
    }


def packed(values: np.ndarray, dtype: str) -> dict[str, Any]:
    """An array as {dtype, shape, data}: base64 of its little-endian bytes, row-major — a
    basin map's labels (IntArray) or a tune snapshot's surfaces (EncodedArray)."""
    data = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return {
        "dtype": dtype,
        "shape": list(data.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def encode(values: np.ndarray, dtype: str) -> IntArray:
    """An integer array as an IntArray (`packed`)."""
    return IntArray.model_validate(packed(values, dtype))


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
    f = surfaces.resolve(request.landscape)

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


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def dumps(message: Any) -> str:
    """Compact JSON; refuses NaN/Infinity (every number here goes through `finite_or_none`)."""
    return _ENCODER.encode(message)


# --- the tuner: POST /api/maps/tune's reply, and the pieces its WebSocket messages share ----


def build_race(request: TuneRequest, cancel: threading.Event | None = None) -> Race:
    """The request as a `maps.tune.Race` (ValueError → 422 for what the core rejects)."""
    schedule = None
    if request.schedule is not None:  # a cosine t_max left out: the core takes the steps
        schedule = optimizers.schedule(request.schedule.kind, **request.schedule.options())
    runs = [RaceRun(run.optimizer, dict(run.params), run.space()) for run in request.runs]
    return Race(
        surfaces.resolve(request.landscape),
        runs,
        request.start,
        request.steps,
        request.noise,
        request.seed,
        schedule,
        request.budget,
        request.methods,
        cancel,
    )


def snapshot_info(snapshot: Snapshot) -> dict[str, Any]:
    """A TuneSnapshotInfo."""
    return {
        "after": snapshot.after,
        "mean": packed(snapshot.mean, "float32"),
        "std": packed(snapshot.std, "float32"),
        "ei": packed(snapshot.ei, "float32"),
        "best": snapshot.best,
        "next": None if snapshot.next is None else list(snapshot.next),
        "length_scale": snapshot.length_scale,
        "variance": snapshot.variance,
    }


def trial_info(trial: Trial, gap: float) -> dict[str, Any]:
    """A TuneTrialInfo."""
    return {
        "index": trial.index,
        "values": list(trial.values),
        "score": finite_or_none(trial.score),
        "gap": finite_or_none(gap),
    }


def _space_info(space: Space) -> list[dict[str, Any]]:
    return [{"name": d.name, "min": d.low, "max": d.high, "log": d.log} for d in space]


def run_head(race: Race, i: int) -> dict[str, Any]:
    """What a run is before any trial: optimizer, fixed params, space, snapshot grid."""
    run = race.runs[i]
    grid = next(iter(race.searches[i].values())).grid
    return {
        "optimizer": run.optimizer,
        "params": dict(run.params),
        "space": _space_info(race.spaces[i]),
        "grid": [axis.tolist() for axis in grid],
    }


def tune_best(race: Race, i: int) -> tuple[dict[str, Any], dict[str, float] | None]:
    """Run i's best trial per method, and the best values over all methods by name."""
    per_method: dict[str, Any] = {}
    overall: Trial | None = None
    for method, search in race.searches[i].items():
        best = search.result().best
        gap = race.gaps[i][method][best.index] if best is not None else np.inf
        per_method[method] = None if best is None else trial_info(best, gap)
        if best is not None and (overall is None or best.score < overall.score):
            overall = best
    values = None
    if overall is not None:
        names = [d.name for d in race.spaces[i]]
        values = dict(zip(names, overall.values, strict=True))
    return per_method, values


def tune_reply_json(cancel: threading.Event, request: TuneRequest) -> bytes | None:
    """The TuneReply's JSON, computed in the worker; None once `cancel` is set."""
    race = build_race(request, cancel)
    while not race.done:
        race.step()
        if cancel.is_set():
            return None
    runs = []
    for i, searches in enumerate(race.searches):
        methods = []
        for method, search in searches.items():
            result = search.result()
            gaps = race.gaps[i][method]
            best = result.best
            methods.append(
                {
                    "method": method,
                    "trials": [trial_info(t, gaps[t.index]) for t in result.trials],
                    "best": None if best is None else trial_info(best, gaps[best.index]),
                    "snapshots": [snapshot_info(s) for s in result.snapshots],
                }
            )
        _, best_values = tune_best(race, i)
        runs.append({**run_head(race, i), "methods": methods, "best": best_values})
    reply = {"f_star": race.f_star, "budget": request.budget, "runs": runs}
    return dumps(reply).encode()
