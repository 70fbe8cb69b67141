"""Basins of attraction: where every start of a grid over the landscape ends.

    b = maps.basins("himmelblau", [("adam", {"lr": 0.05})], resolution=256, steps=500)
    b.minima               # the minima the runs settled at, shared by all maps
    b.maps[0].label[j, i]  # start (xs[i], ys[j]): index into minima, DIVERGED or UNSETTLED

A start belongs to the minimum its run settles at, as the status classification says
(``optimizers.summary``'s ``minimum``: the end point polished by Newton's method). The
minima are not taken from the landscape's list: they are found, by grouping the polished
end points that coincide (within ``SAME`` of the view), so a map shows what the runs did.
One list serves every optimizer of the request, so one minimum has one colour in every
map side by side. Each optimizer runs alone (a 256 × 256 map is 65,536 rows; six at
once would hold six times the memory for no gain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import optimizers
from optimizers import status

DIVERGED = -1
UNSETTLED = -2
#: Polished minima closer than this (× the view) are one minimum. Newton's method puts
#: them within ~1e-12 of each other; distinct minima of the test functions are ≥ 0.1 apart.
SAME = 1e-6


@dataclass(frozen=True)
class Minimum:
    """A minimum some run settled at; ``best`` when its value is the landscape's f*."""

    x: float
    y: float
    value: float
    best: bool


@dataclass(frozen=True)
class BasinMap:
    """One optimizer's map: ``label`` (n, n) int16, index into the shared minima, or
    DIVERGED / UNSETTLED; ``settled_at`` (n, n) int32 (−1 never); row j is ys[j]."""

    optimizer: str
    label: np.ndarray
    settled_at: np.ndarray


@dataclass(frozen=True)
class Basins:
    xs: np.ndarray
    ys: np.ndarray
    minima: list[Minimum]
    maps: list[BasinMap]


def basins(
    landscape: Any,
    runs: Sequence[tuple[str, Mapping[str, float]]],
    resolution: int,
    steps: int,
    bounds: Any = None,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    cancel: Any = None,
    progress: Callable[[float], None] | None = None,
) -> Basins | None:
    """A ``resolution`` × ``resolution`` map of starts over ``bounds`` (the landscape's
    by default) per run (optimizer name, hyperparameters). ``cancel`` (an object with
    ``is_set()``, e.g. a threading.Event) is checked before each optimizer's run: None
    if it was set. ``progress(fraction)`` hears how far the whole map is, after each block
    of updates (an exception it raises stops the map)."""
    if isinstance(landscape, str):
        import landscapes

        landscape = landscapes.get(landscape)
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be a whole number >= 2, got {resolution!r}")
    (x0, x1), (y0, y1) = landscape.bounds if bounds is None else bounds
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    starts = np.stack([grid_x.ravel(), grid_y.ravel()], axis=-1)
    ends = []
    for k, (name, params) in enumerate(runs):
        if cancel is not None and cancel.is_set():
            return None
        opt = optimizers.create(name, **params)
        told = None if progress is None else _share(progress, k, len(runs))
        ends.append(
            optimizers.summary_many(
                landscape, [opt], starts, steps, noise, seed, schedule, progress=told
            )[0]
        )
    settled = [np.flatnonzero(s.settled_at >= 0) for s in ends]
    found = np.concatenate([s.minimum[rows] for s, rows in zip(ends, settled, strict=True)])
    centres, which = _group(found, SAME * status.span(landscape))
    values = landscape.value(centres)
    f_star = status.global_minimum_value(landscape)
    tolerance = status.VALUE_TOLERANCE * max(1.0, abs(f_star))
    # by value (equal within the tolerance: Himmelblau's four are 0 up to rounding, which
    # differs by CPU), then x, then y: the same colours on every machine
    level = np.round((values - f_star) / tolerance)
    order = np.lexsort((np.round(centres[:, 1], 6), np.round(centres[:, 0], 6), level))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    minima = [
        Minimum(float(x), float(y), float(v), bool(v - f_star <= tolerance))
        for (x, y), v in zip(centres[order], values[order], strict=True)
    ]
    maps = []
    shape = (resolution, resolution)
    offset = 0
    for (name, _), s, rows in zip(runs, ends, settled, strict=True):
        label = np.full(len(starts), UNSETTLED, dtype=np.int16)
        label[s.diverged_at >= 0] = DIVERGED
        label[rows] = rank[which[offset : offset + rows.size]]
        offset += rows.size
        maps.append(
            BasinMap(name, label.reshape(shape), s.settled_at.astype(np.int32).reshape(shape))
        )
    return Basins(xs, ys, minima, maps)


def _share(progress: Callable[[float], None], k: int, n: int) -> Callable[[float], None]:
    """Run k of n's progress as a share of the whole map's."""
    return lambda fraction: progress((k + fraction) / n)


def _group(points: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Group ``points`` (K, 2) that lie within ``tolerance`` of each other: (centres (M, 2),
    the group of each point (K,)). Points are snapped to cells of that size (cheap over
    65,536 points); cells that touch join one group, so two copies of one minimum on
    either side of a cell edge stay one. A centre is its group's mean point."""
    if len(points) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    cells, of_point = np.unique(np.floor(points / tolerance), axis=0, return_inverse=True)
    group_of_cell = np.full(len(cells), -1, dtype=np.int64)
    groups = 0
    for k, cell in enumerate(cells):  # few cells: one per minimum, two at an edge
        touching = np.flatnonzero((np.abs(cells[:k] - cell) <= 1).all(axis=1))
        group_of_cell[k] = group_of_cell[touching[0]] if touching.size else groups
        groups += not touching.size
    which = group_of_cell[of_point.reshape(-1)]
    counts = np.bincount(which, minlength=groups)[:, None]
    centres = np.stack(
        [np.bincount(which, points[:, 0], groups), np.bincount(which, points[:, 1], groups)],
        axis=-1,
    )
    return centres / counts, which
