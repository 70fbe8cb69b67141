"""Map replies built by hand, following the contract of POST /api/maps/<kind> (issue 13),
from real runs of the core: the export renderers are tested on these, independently of the
code that computes the maps."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

import landscapes
import optimizers


def _none(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def _settled(traj: optimizers.Trajectory, tolerance: float = 1e-6) -> np.ndarray:
    """The first step from which each row stays within `tolerance` of its end (−1 never,
    or diverged): a stand-in for the status's settled step."""
    points = traj.points
    end = points[-1]
    far = np.linalg.norm(points - end, axis=-1) > tolerance  # (steps + 1, K)
    far |= ~np.isfinite(points).all(axis=-1)
    last_far = np.where(far.any(axis=0), far.shape[0] - 1 - np.argmax(far[::-1], axis=0), -1)
    settled = last_far + 1
    settled[(settled >= far.shape[0] - 1) | (traj.diverged_at >= 0)] = -1
    return settled


def _packed(array: np.ndarray, dtype: str) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    text = base64.b64encode(data.tobytes()).decode()
    return {"dtype": dtype, "shape": list(array.shape), "data": text}


def sweep(count: int = 16, steps: int = 200) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, reply): SGD and heavy-ball momentum on the ill-conditioned bowl."""
    body: dict[str, Any] = {
        "landscape": "ill_conditioned",
        "start": [-7.0, 2.0],
        "steps": steps,
        "runs": [
            {"optimizer": "sgd", "params": {}},
            {"optimizer": "momentum", "params": {"momentum": 0.9}},
        ],
        "lr": {"min": 1e-2, "max": 10.0, "count": count},
    }
    f = landscapes.get("ill_conditioned")
    lrs = np.logspace(-2, 1, count)
    starts = np.tile([-7.0, 2.0], (count, 1))
    runs = []
    for spec, limit, formula in (
        (body["runs"][0], 1.0, "2/λmax"),
        (body["runs"][1], 1.9, "2(1+μ)/λmax"),
    ):
        opt = optimizers.create(spec["optimizer"], lr=lrs, **spec["params"])
        traj = optimizers.run(f, opt, starts, steps)
        final = traj.losses[-1]
        diverged = traj.diverged_at
        bad = diverged >= 0
        first = int(np.argmax(bad[::-1].cumprod()[::-1])) if bad[-1] else None
        boundary = {
            "stable": float(lrs[first - 1]) if first else None,
            "diverged": float(lrs[first]) if first is not None else None,
        }
        runs.append(
            {
                "optimizer": spec["optimizer"],
                "final_loss": _none(np.where(bad, np.nan, final)),
                "gap": _none(np.where(bad, np.nan, final - 0.0)),
                "settled_at": [int(v) for v in _settled(traj)],
                "diverged_at": [int(v) for v in diverged],
                "boundary": boundary,
                "limit": limit,
                "limit_formula": formula,
            }
        )
    reply = {
        "f_star": 0.0,
        "lrs": lrs.tolist(),
        "hessian": {"constant": True, "eigenvalues": [0.1, 2.0]},
        "runs": runs,
    }
    return body, reply


def heatmap(nx: int = 8, ny: int = 6, steps: int = 150) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, reply): momentum's lr × μ on the ill-conditioned bowl."""
    body: dict[str, Any] = {
        "landscape": "ill_conditioned",
        "start": [-7.0, 2.0],
        "steps": steps,
        "runs": [{"optimizer": "momentum", "params": {}}],
        "x": {"name": "lr", "min": 1e-2, "max": 3.0, "count": nx},
        "y": {"name": "momentum", "min": 0.0, "max": 0.95, "count": ny},
    }
    f = landscapes.get("ill_conditioned")
    xs, ys = np.logspace(-2, np.log10(3.0), nx), np.linspace(0.0, 0.95, ny)
    lr, mu = np.meshgrid(xs, ys)  # (ny, nx)
    opt = optimizers.create("momentum", lr=lr.ravel(), momentum=mu.ravel())
    traj = optimizers.run(f, opt, np.tile([-7.0, 2.0], (nx * ny, 1)), steps)
    bad = traj.diverged_at >= 0
    gap = np.where(bad, np.nan, traj.losses[-1])
    reply = {
        "f_star": 0.0,
        "optimizer": "momentum",
        "x": {"name": "lr", "values": xs.tolist(), "log": True},
        "y": {"name": "momentum", "values": ys.tolist(), "log": False},
        "settled_at": _settled(traj).reshape(ny, nx).tolist(),
        "gap": [_none(row) for row in gap.reshape(ny, nx)],
        "diverged_at": traj.diverged_at.reshape(ny, nx).tolist(),
    }
    return body, reply


def basins(resolution: int = 32, steps: int = 200) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, reply): SGD and Adam on Himmelblau from a symmetric grid of starts."""
    body: dict[str, Any] = {
        "landscape": "himmelblau",
        "steps": steps,
        "runs": [
            {"optimizer": "sgd", "params": {"lr": 0.01}},
            {"optimizer": "adam", "params": {"lr": 0.1}},
        ],
        "resolution": resolution,
    }
    f = landscapes.get("himmelblau")
    (xmin, xmax), (ymin, ymax) = f.bounds
    xs, ys = np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)  # row j = ys[j]
    starts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    minima = [m for m in f.minima if m.kind != "saddle"]
    where = np.array([[m.x, m.y] for m in minima])
    runs = []
    for spec in body["runs"]:
        opt = optimizers.create(spec["optimizer"], **spec["params"])
        traj = optimizers.run(f, opt, starts, steps)
        end = traj.points[-1]
        distance = np.linalg.norm(end[:, None, :] - where[None], axis=-1)
        label = np.where(distance.min(axis=1) < 1e-3, distance.argmin(axis=1), -2)
        label[traj.diverged_at >= 0] = -1
        settled = _settled(traj, 1e-3)
        settled[label < 0] = -1
        runs.append(
            {
                "optimizer": spec["optimizer"],
                "label": _packed(label.reshape(resolution, resolution), "int16"),
                "settled_at": _packed(settled.reshape(resolution, resolution), "int32"),
            }
        )
    reply = {
        "xs": xs.tolist(),
        "ys": ys.tolist(),
        "minima": [
            {"x": m.x, "y": m.y, "value": m.value, "best": m.kind == "global"} for m in minima
        ],
        "runs": runs,
    }
    return body, reply


def _floats32(array: np.ndarray) -> dict[str, Any]:
    return _packed(np.asarray(array, dtype=np.float32), "float32")


def tune(
    budget: int = 6, steps: int = 100, extra: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, reply): SGD and Adam's lr (and Momentum's μ with `extra`) on Rosenbrock, by
    grid, random and "Bayesian" search — the last with a stand-in surrogate (the trials'
    scores interpolated, a std growing away from them), enough to draw."""
    body: dict[str, Any] = {
        "landscape": "rosenbrock",
        "start": [-1.2, 1.0],
        "steps": steps,
        "budget": budget,
        "runs": [{"optimizer": "momentum"}]
        if extra
        else [{"optimizer": "sgd"}, {"optimizer": "adam"}],
    }
    f = landscapes.get("rosenbrock")
    rng = np.random.default_rng(0)
    runs = []
    for spec in body["runs"]:
        name = spec["optimizer"]
        space = [{"name": "lr", "min": 1e-4, "max": 10.0, "log": True}]
        if extra:
            space.append({"name": "momentum", "min": 0.0, "max": 0.99, "log": False})
        unit = {
            "grid": np.linspace(0, 1, budget)[:, None].repeat(len(space), axis=1),
            "random": rng.random((budget, len(space))),
            "bayes": rng.random((budget, len(space))),
        }
        grid = [np.logspace(-4, 1, 32)] + ([np.linspace(0, 0.99, 16)] if extra else [])
        methods = []
        for method, points in unit.items():
            lrs = 10 ** (-4 + 5 * points[:, 0])
            params: dict[str, Any] = {"lr": lrs}
            if extra:
                params["momentum"] = 0.99 * points[:, 1]
            traj = optimizers.run(
                f, optimizers.create(name, **params), np.tile(body["start"], (budget, 1)), steps
            )
            gap = np.where(traj.diverged_at >= 0, np.nan, traj.losses[-1] - 0.0)
            score = np.log10(np.maximum(gap, 1e-16))
            values = np.stack([lrs, *([params["momentum"]] if extra else [])], axis=1)
            trials = [
                {
                    "index": k,
                    "values": values[k].tolist(),
                    "score": float(score[k]) if np.isfinite(score[k]) else None,
                    "gap": float(gap[k]) if np.isfinite(gap[k]) else None,
                }
                for k in range(budget)
            ]
            finite = [t for t in trials if t["score"] is not None]
            best = min(finite, key=lambda t: t["score"]) if finite else None
            snapshots = []
            if method == "bayes":
                shape = (len(grid[1]), len(grid[0])) if extra else (len(grid[0]),)
                known = np.log10(values[:, 0])
                order = np.argsort(known)
                filled = np.where(np.isfinite(score), score, np.nanmax(score) + 1)
                mean = np.interp(np.log10(grid[0]), known[order], filled[order])
                std = 0.2 + np.min(np.abs(np.log10(grid[0])[:, None] - known[None]), axis=1)
                ei = np.maximum(0, np.nanmin(score) - mean + std)
                if extra:
                    mean, std, ei = (np.broadcast_to(a, shape) for a in (mean, std, ei))
                snapshots.append(
                    {
                        "after": budget - 1,
                        "mean": _floats32(mean),
                        "std": _floats32(std),
                        "ei": _floats32(ei),
                        "best": float(np.nanmin(score)),
                        "next": None,
                        "length_scale": 0.2,
                        "variance": 1.0,
                    }
                )
            methods.append(
                {"method": method, "trials": trials, "best": best, "snapshots": snapshots}
            )
        runs.append(
            {
                "optimizer": name,
                "params": {},
                "space": space,
                "grid": [g.tolist() for g in grid],
                "methods": methods,
                "best": None,
            }
        )
    return body, {"f_star": 0.0, "budget": budget, "runs": runs}
