"""Trajectories as data: CSV (`step, optimizer, x, y, loss`) and JSON (the API's reply + scene).

CSV rows: one per finite point of each run, runs in request order, steps ascending. A run
that never diverged has steps + 1 rows (steps 0..steps); a run that diverged at index d
(`diverged_at`) has d rows (steps 0..d−1): the first non-finite point and everything
after it are left out, as in the trajectory API. When one optimizer appears more than
once (a learning-rate sweep), its `optimizer` cells read `adam#1`, `adam#2`, … in order.

Recorded runs (`"record": true`, or an arrows export; issue 12) add columns after `loss`:
`grad_x, grad_y` (the gradient the update used, noise and weight decay as the optimizer saw
them), `lr` (its learning rate, schedule applied), then each of torch's state buffers as
`<name>_x, <name>_y` (`momentum_buffer_x`, `exp_avg_sq_y`, …: the buffer after the update),
in the order the runs name them. A row holds the update LEAVING its point (update t takes
point t to t + 1; torch's state["step"] after it is t + 1), so each run's last row, and
every row of a run that does not record or lacks that buffer, leaves those cells empty.
Without recorded runs the CSV keeps its five columns. The JSON carries the same numbers
under each run's `record` ({"grads", "lrs", "state": {name: …}}), as the trajectory API.

Gradient-free runs (simulated annealing, the genetic algorithm; issue 14) also write the
points they evaluated, as extra rows after their path's, in the same columns: `optimizer`
reads `<name>:sample` (`genetic:sample`, `annealing#2:sample`), so filtering the column
on a run's name still gives exactly its path, and on `…:sample` its samples. Point i's
samples (the generation whose best member is point i; annealing's proposal, which was
accepted iff it equals point i) are rows with step i, one per finite sample, in member
order, `loss` being f there; only the entries the trajectory API keeps (its thinning: at
most 50,000 sample points a run). Their recorded cells are empty. The JSON carries them as
each run's `samples` (one entry per point, null where thinned out) beside `evaluations`
(values of f for a gradient-free run, of ∇f for a gradient method), as the API sends them.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from app.export.data import ExportRun, ExportScene, csv_names


def state_names(scene: ExportScene) -> list[str]:
    """Torch's buffer names over the recorded runs, each once, in the order they name them."""
    names: dict[str, None] = {}
    for run in scene.runs:
        if run.record is not None:
            names.update(dict.fromkeys(run.record.state))
    return list(names)


def record_columns(scene: ExportScene) -> list[str]:
    """The recorded state's columns: [] when no run records."""
    if all(run.record is None for run in scene.runs):
        return []
    buffers = [f"{name}_{axis}" for name in state_names(scene) for axis in "xy"]
    return ["grad_x", "grad_y", "lr", *buffers]


def _cell(value: float) -> str:
    # repr() of a float round-trips exactly; NaN (never expected: recorded updates all land
    # on kept points) would be no number at all, so it is an empty cell too.
    return repr(value) if math.isfinite(value) else ""


def _record_cells(run: ExportRun, buffers: list[str]) -> list[list[str]]:
    """Each point's recorded cells: the update leaving it, empty for the last point."""
    width = 3 + 2 * len(buffers)
    empty = [""] * width
    if run.record is None:
        return [empty] * len(run.points)
    record = run.record
    n = min(len(record.grads), len(run.points) - 1)
    columns = [np.asarray(record.grads, dtype=float)[:n], np.asarray(record.lrs)[:n, None]]
    for name in buffers:
        values = record.state.get(name)
        columns.append(np.full((n, 2), np.nan) if values is None else np.asarray(values)[:n])
    table = np.concatenate([np.asarray(c, dtype=float).reshape(n, -1) for c in columns], axis=1)
    cells = [[_cell(v) for v in row] for row in table.tolist()]
    return cells + [empty] * (len(run.points) - n)


def write_csv(scene: ExportScene, path: Path) -> int:
    """Write the CSV; returns the number of data rows."""
    names = csv_names([run.optimizer for run in scene.runs])
    extra = record_columns(scene)
    buffers = state_names(scene)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp)
        writer.writerow(["step", "optimizer", "x", "y", "loss", *extra])
        for name, run in zip(names, scene.runs, strict=True):
            recorded = _record_cells(run, buffers) if extra else [[]] * len(run.points)
            # repr() of a float round-trips exactly; the table is data, not a picture.
            for step, ((x, y), loss, cells) in enumerate(
                zip(run.points.tolist(), run.losses.tolist(), recorded, strict=True)
            ):
                writer.writerow([step, name, repr(x), repr(y), repr(loss), *cells])
                rows += 1
            empty = [""] * len(extra)
            for step, (x, y), loss in _sample_rows(scene, run):
                writer.writerow([step, f"{name}:sample", repr(x), repr(y), _cell(loss), *empty])
                rows += 1
    return rows


def _sample_rows(scene: ExportScene, run: ExportRun) -> list[tuple[int, list[float], float]]:
    """(step, (x, y), f) of each kept sample of a gradient-free run, steps ascending; f is
    NaN (an empty cell) when the scene has no f to evaluate."""
    if run.samples is None:
        return []
    steps, points = [], []
    for step, entry in enumerate(run.samples):
        if entry is not None and len(entry):
            steps.append(np.full(len(entry), step))
            points.append(np.asarray(entry, dtype=float).reshape(-1, 2))
    if not points:
        return []
    every = np.concatenate(points)
    losses = scene.value(every) if scene.value is not None else np.full(len(every), np.nan)
    return list(
        zip(
            np.concatenate(steps).tolist(), every.tolist(), np.asarray(losses).tolist(), strict=True
        )
    )


def scene_document(scene: ExportScene) -> dict:
    """The JSON export: {"scene": the request, "landscape": metadata, "runs": RunResult...}."""
    (xmin, xmax), (ymin, ymax) = scene.bounds
    runs = []
    for run in scene.runs:
        if run.result is not None:
            runs.append(run.result.model_dump(mode="json"))
        else:
            runs.append(
                {
                    "optimizer": run.optimizer,
                    "params": run.params,
                    "color": run.color,
                    "points": run.points.tolist(),
                    "losses": run.losses.tolist(),
                    "diverged_at": run.diverged_at,
                    "final_loss": float(run.losses[-1]) if len(run.losses) else None,
                    "converged_at": None,
                }
            )
    return {
        "scene": scene.request,
        "landscape": {
            "name": scene.landscape,
            "title": scene.title,
            "formula": scene.formula,
            "bounds": [[xmin, xmax], [ymin, ymax]],
            "minima": [
                {"x": m.x, "y": m.y, "value": m.value, "kind": m.kind} for m in scene.minima
            ],
        },
        "runs": runs,
    }


def write_json(scene: ExportScene, path: Path) -> None:
    # allow_nan=False: a NaN here is a bug to surface, never invalid JSON in a file.
    with open(path, "w", encoding="utf-8") as fp:
        json.dump(
            scene_document(scene), fp, allow_nan=False, ensure_ascii=False, separators=(",", ":")
        )
        fp.write("\n")
