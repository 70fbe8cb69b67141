"""Trajectories as data: CSV (`step, optimizer, x, y, loss`) and JSON (the API's reply + scene).

CSV rows: one per finite point of each run, runs in request order, steps ascending. A run
that never diverged has steps + 1 rows (steps 0..steps); a run that diverged at index d
(`diverged_at`) has d rows (steps 0..d−1): the first non-finite point and everything
after it are left out, as in the trajectory API. When one optimizer appears more than
once (a learning-rate sweep), its `optimizer` cells read `adam#1`, `adam#2`, … in order.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from app.export.data import ExportScene, csv_names


def write_csv(scene: ExportScene, path: Path) -> int:
    """Write the CSV; returns the number of data rows."""
    names = csv_names([run.optimizer for run in scene.runs])
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fp:
        writer = csv.writer(fp)
        writer.writerow(["step", "optimizer", "x", "y", "loss"])
        for name, run in zip(names, scene.runs, strict=True):
            # repr() of a float round-trips exactly; the table is data, not a picture.
            for step, ((x, y), loss) in enumerate(
                zip(run.points.tolist(), run.losses.tolist(), strict=True)
            ):
                writer.writerow([step, name, repr(x), repr(y), repr(loss)])
                rows += 1
    return rows


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
