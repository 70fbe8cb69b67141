"""How each of many runs ends, without keeping their paths: the maps' engine.

    s = optimizers.summary(f, opt, starts, steps)
    s.final, s.final_loss, s.diverged_at, s.settled_at, s.minimum

A basin map runs 65,536 starts; its paths would be steps × 65,536 × 16 bytes (500 MB at
500 steps). ``summary`` keeps a sliding window of points instead (the runner's ``keep``),
so its memory is O(K), and its numbers are ``run``'s: ``final`` and ``final_loss`` are
the last point and loss of ``run`` with the same arguments, bit for bit (the same runner
computes them), and ``settled_at`` is ``status.classify``'s step for a settled run.

Settling is defined backwards from the end — "the path stays within ``STAY`` of its end
point from step s on, and the loss within its band" (optimizers/status.py) — and the end
is only known once the run is over. Two passes answer it in O(K):

1. The run, keeping per row its final point and loss, the spread of its losses over the
   status window, and per segment (eight, short early and long late) the bounding box of
   its points and the range of its losses (float32, rounded outwards: a box never
   shrinks).
2. Given the end, a segment whose box lies wholly within ``STAY`` of it (and whose loss
   range lies in the band) holds no point that breaks settling; one wholly outside holds
   only such points. Only rows whose last segment that is not wholly near is *mixed* are
   run again, and only up to the end of that segment, to find the exact step. That
   segment is where the path crossed into its final disc, so the second pass is short
   for rows that settle early — most of a basin map.

The status's other conditions (noise 0, the last window inside the disc, Newton's method
from the end finding a minimum within ``AT_MINIMUM``) are checked for all rows at once
with ``status.stationary_rows`` and ``curvature_rows``, the functions ``classify`` uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers import status
from optimizers.runner import _prepare, _Run

#: Segments per run for pass 1's boxes: 8 × 6 float32 per row (192 bytes).
SEGMENTS = 8

#: Segment edges grow as (k / SEGMENTS) ** SPACING of the run (``segment_edges``).
SPACING = 2.0

#: Points × rows kept per block (24 bytes each): a 65,536-row map keeps 4 points.
WINDOW_POINTS = 1 << 18

#: The share of the work ``progress`` gives pass 1 (the second pass is short, see above).
PASS_ONE_SHARE = 0.85

#: Rows per batch of Newton's method on the end points.
NEWTON_ROWS = 8192

#: Relative slack of the box tests: a box is "wholly near" or "wholly far" only with
#: this margin, so a rounding in the distance never decides; the exact pass does.
MARGIN = 1e-9


@dataclass(frozen=True)
class Summary:
    """How K runs end: ``final`` (K, 2) and ``final_loss`` (K,) are ``run``'s last point
    and loss (NaN for a diverged row); ``diverged_at`` and ``settled_at`` (K,) are steps,
    −1 for never; ``minimum`` (K, 2) is the minimum a settled row ends at, polished by
    Newton's method (NaN for the other rows)."""

    final: np.ndarray
    final_loss: np.ndarray
    diverged_at: np.ndarray
    settled_at: np.ndarray
    minimum: np.ndarray


def summary(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    batch: int | None = None,
) -> Summary:
    """How each row of ``run(landscape, optimizer, starts, steps, ...)`` ends, in O(K)
    memory (the module docstring says how). Arguments as ``run``, per-row values too."""
    (result,) = summary_many(
        landscape, [optimizer], starts, steps, noise, seed, schedule, batch=batch
    )
    return result


def summary_many(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    progress: Callable[[float], None] | None = None,
    settle: bool = True,
    batch: int | None = None,
) -> list[Summary]:
    """``summary`` for several optimizers in lockstep, as ``run_many`` runs them (one
    gradient call per update for all rows, common noise): one Summary per optimizer.

    ``settle=False`` skips the settling statistics and the second pass (``settled_at`` −1
    and ``minimum`` NaN throughout): for a caller that only needs the end, like the
    tuner's score.

    ``progress(fraction)`` is called after each block of updates (a basin map takes
    seconds): the fraction of pass 1 done, then 1.0 at the end. An exception it raises
    (a cancelled request) stops the run there.
    """
    run = _prepare(
        landscape,
        optimizers,
        starts,
        steps,
        noise,
        seed,
        schedule,
        window=WINDOW_POINTS,
        batch=batch,
    )
    assert run.keep is not None
    first = _FirstPass(run)
    with contextlib.closing(run.blocks(run.keep)) as blocks:
        for block in blocks:
            end = block[0].offset + len(block[0].points)
            if settle and not run.stochastic:  # with noise nothing settles (status.py)
                first.take(run, end)
            if progress is not None:
                progress(PASS_ONE_SHARE * end / (run.steps + 1))
    final = run.points[run.steps - run.base].copy()
    final_loss = run.losses[run.steps - run.base].copy()
    if settle:
        settled_at, minimum = _settling(run, first, final, final_loss)
    else:
        settled_at, minimum = np.full(run.rows, -1, dtype=np.int64), np.full((run.rows, 2), np.nan)
    if progress is not None:
        progress(1.0)
    return [
        Summary(
            final[rows], final_loss[rows], run.diverged_at[rows], settled_at[rows], minimum[rows]
        )
        for rows in run.bounds
    ]


def segment_edges(count: int) -> np.ndarray:
    """Where pass 1's segments of a run of ``count`` points start (and the last ends).

    Spaced quadratically, short early and long late: the second pass reruns a row up to
    the end of the segment where it crossed into its final disc, and most rows of a map
    settle early (a 256² Adam map of Himmelblau: median step 68 of 500), so short early
    segments save most of the rerun.
    """
    edges = np.round(count * (np.arange(SEGMENTS + 1) / SEGMENTS) ** SPACING).astype(np.int64)
    return np.unique(edges)


class _FirstPass:
    """Pass 1's per-row numbers (module docstring): boxes per segment, the start's loss,
    the loss spread over the status window."""

    def __init__(self, run: _Run) -> None:
        count = run.steps + 1
        # segment k holds points edges[k] … edges[k + 1] − 1
        self.edges = segment_edges(count)
        segments = len(self.edges) - 1
        self.window = min(status._window(count), count - 1) if count > 1 else 0
        self.tail_from = count - 1 - self.window  # first point of the status window
        # per segment: the box (x, y) and the loss range, float32 rounded outwards
        self.low = np.empty((segments, 3, run.rows), dtype=np.float32)
        self.high = np.empty((segments, 3, run.rows), dtype=np.float32)
        # the segment being filled, in float64: points (K, 2) as the run holds them, losses
        self.open_low, self.open_high = np.empty((run.rows, 2)), np.empty((run.rows, 2))
        self.open_lowest, self.open_highest = np.empty(run.rows), np.empty(run.rows)
        self._reopen()
        self.tail_low = np.full(run.rows, np.inf)
        self.tail_high = np.full(run.rows, -np.inf)
        self.first_loss = np.empty(run.rows)
        self.offset = 0  # the next point to take

    def _reopen(self) -> None:
        """An empty box for the next segment."""
        for low in (self.open_low, self.open_lowest):
            low.fill(np.inf)
        for high in (self.open_high, self.open_highest):
            high.fill(-np.inf)

    def take(self, run: _Run, end: int) -> None:
        """Fold in the block just computed: points ``self.offset … end − 1`` of ``run``'s
        window."""
        if self.offset == 0:
            self.first_loss[:] = run.losses[0]
        low = self.offset
        while low < end:
            segment = int(np.searchsorted(self.edges, low, side="right")) - 1
            high = min(end, int(self.edges[segment + 1]))
            # point by point, in place (no temporaries); np.minimum/maximum propagate NaN: a
            # diverged row's box is NaN (never read)
            for i in range(low - run.base, high - run.base):
                np.minimum(self.open_low, run.points[i], out=self.open_low)
                np.maximum(self.open_high, run.points[i], out=self.open_high)
                np.minimum(self.open_lowest, run.losses[i], out=self.open_lowest)
                np.maximum(self.open_highest, run.losses[i], out=self.open_highest)
            if high == self.edges[segment + 1]:
                self.low[segment, :2] = _outward(self.open_low.T, -np.inf)
                self.high[segment, :2] = _outward(self.open_high.T, np.inf)
                self.low[segment, 2] = _outward(self.open_lowest, -np.inf)
                self.high[segment, 2] = _outward(self.open_highest, np.inf)
                self._reopen()
            low = high
        if end > self.tail_from:
            tail = run.losses[max(self.offset, self.tail_from) - run.base : end - run.base]
            np.fmin(self.tail_low, tail.min(axis=0), out=self.tail_low)
            np.fmax(self.tail_high, tail.max(axis=0), out=self.tail_high)
        self.offset = end


def _outward(values: np.ndarray, towards: float) -> np.ndarray:
    """``values`` in float32, rounded towards ``towards`` (−inf: down, inf: up), so a box
    stored in half the bytes never shrinks."""
    with np.errstate(over="ignore"):  # beyond float32: ±inf, still a bound
        rounded = values.astype(np.float32)
    inward = rounded > values if towards < 0 else rounded < values
    return np.where(inward, np.nextafter(rounded, np.float32(towards)), rounded)


def _settling(
    run: _Run,
    first: _FirstPass,
    final: np.ndarray,
    final_loss: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """settled_at and minimum per row (pass 2 of the module docstring)."""
    rows = run.rows
    settled_at = np.full(rows, -1, dtype=np.int64)
    minimum = np.full((rows, 2), np.nan)
    if run.stochastic or run.steps < 1:  # noise: hovering at best; no update: moving
        return settled_at, minimum
    unit = status.span(run.f)
    radius = status.STAY * unit
    band = np.maximum(
        status.LOSS_SETTLED * np.abs(first.first_loss - final_loss),
        first.tail_high - first.tail_low,
    )
    alive = np.flatnonzero(run.diverged_at < 0)
    count = run.steps + 1
    path_from, path_mixed = _settles_from(first, alive, final[alive].T, radius, count, 0)
    loss_from, loss_mixed = _settles_from(first, alive, final_loss[alive], band[alive], count, 2)
    # Newton's method from every end first: only rows that end at a minimum can settle,
    # so only they may need the second pass
    polished = np.empty((alive.size, 2))
    ends_at_minimum = np.zeros(alive.size, dtype=bool)
    for low in range(0, alive.size, NEWTON_ROWS):  # a few MB of Hessians at a time
        part = slice(low, low + NEWTON_ROWS)
        ends = final[alive[part]]
        polished[part] = status.stationary_rows(run.f, ends, status.NEAR * unit)
        close = np.hypot(*(polished[part] - ends).T) <= status.AT_MINIMUM * unit  # NaN: no
        if close.any():
            close[close] = status.curvature_rows(run.f, polished[part][close]) == 1
        ends_at_minimum[part] = close
    # rows to run again, to the end of the latest mixed segment of the two
    need = np.maximum(
        np.where(path_mixed >= 0, first.edges[path_mixed + 1], 0),
        np.where(loss_mixed >= 0, first.edges[loss_mixed + 1], 0),
    )
    need = np.where(ends_at_minimum, np.minimum(need, count), 0)
    again = need > 0
    if again.any():
        exact_path, exact_loss = _second_pass(
            run, alive[again], need[again], final, final_loss, band, radius
        )
        path_from[again] = np.where(path_mixed[again] >= 0, exact_path, path_from[again])
        loss_from[again] = np.where(loss_mixed[again] >= 0, exact_loss, loss_from[again])
    # path_from is exact wherever ends_at_minimum holds (−1 only where it was mixed)
    settled = ends_at_minimum & (count - 1 - path_from >= first.window)
    chosen = alive[settled]
    settled_at[chosen] = np.maximum(path_from[settled], loss_from[settled])
    minimum[chosen] = polished[settled]
    return settled_at, minimum


def _settles_from(
    first: _FirstPass, rows: np.ndarray, end: np.ndarray, limit: Any, count: int, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """From the boxes, for ``rows``: the first step from which every point (``axis`` 0)
    lies within ``limit`` of ``end``, or every loss (``axis`` 2) within ``limit`` of the
    final loss — found by going back to the last segment that is not wholly near. If that
    segment is wholly far, settling starts after it; if it is mixed, the step is −1 and
    the segment's index is returned, for the second pass (else −1)."""
    settles = np.zeros(rows.size, dtype=np.int64)
    mixed = np.full(rows.size, -1, dtype=np.int64)
    looking = np.arange(rows.size)
    for segment in reversed(range(len(first.low))):
        if looking.size == 0:
            break
        low = first.low[segment][axis : axis + 2][:, rows[looking]].astype(np.float64)
        high = first.high[segment][axis : axis + 2][:, rows[looking]].astype(np.float64)
        here = end[..., looking]
        if axis == 0:  # the box's farthest and nearest points from the end
            far = np.hypot(*np.maximum(here - low, high - here))
            near = np.hypot(*np.maximum(0.0, np.maximum(low - here, here - high)))
        else:
            low, high = low[0], high[0]  # the loss range only
            far = np.maximum(here - low, high - here)
            near = np.maximum(0.0, np.maximum(low - here, here - high))
        bound = limit if np.ndim(limit) == 0 else limit[looking]
        wholly_near = far <= bound * (1 - MARGIN)
        wholly_far = near > bound * (1 + MARGIN)
        found = looking[~wholly_near]
        settles[found] = np.where(wholly_far[~wholly_near], int(first.edges[segment + 1]), -1)
        mixed[found] = np.where(wholly_far[~wholly_near], -1, segment)
        looking = looking[wholly_near]
    return settles, mixed


def _beyond(dx: np.ndarray, dy: np.ndarray, radius: float) -> np.ndarray:
    """``np.hypot(dx, dy) > radius`` (classify's test, to the bit), computed as squares
    first: libm's hypot costs several times a multiply, and only distances within a
    relative 1e-12 of the radius need it (the squares' rounding is ~1e-16)."""
    squared = dx * dx
    squared += dy * dy
    wide, narrow = radius * radius * (1 + 1e-12), radius * radius * (1 - 1e-12)
    away = squared > wide
    unsure = (squared >= narrow) & ~away
    if unsure.any():
        away[unsure] = np.hypot(dx[unsure], dy[unsure]) > radius
    return away


def _last_true(mask: np.ndarray, offset: int, into: np.ndarray) -> None:
    """``into`` ← offset + the last index along axis 0 where ``mask`` holds, for the
    columns where it holds somewhere (later blocks overwrite earlier ones)."""
    last = len(mask) - 1 - np.argmax(mask[::-1], axis=0)
    np.copyto(into, offset + last, where=mask.any(axis=0))


def _second_pass(
    run: _Run,
    rows: np.ndarray,
    need: np.ndarray,
    final: np.ndarray,
    final_loss: np.ndarray,
    band: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``rows`` (of the stacked run) again up to point ``need`` − 1 each: per row the
    first step from which every point so far lies within ``radius`` of its end, and the
    first from which every loss lies within its band. Without noise rows never interact,
    so a subset reruns alone; rows that need about as far run together."""
    path_from = np.zeros(rows.size, dtype=np.int64)
    loss_from = np.zeros(rows.size, dtype=np.int64)
    owner = np.searchsorted([bounds.stop for bounds in run.bounds], rows, side="right")
    for m, bounds in enumerate(run.bounds):
        for horizon in np.unique(need[owner == m]):
            group = np.flatnonzero((owner == m) & (need == horizon))
            picked = rows[group]
            sub = _Run(
                run.f,
                [run.opts[m].select(picked - bounds.start)],
                [run.starts[picked]],
                run.steps,
                0.0,
                run.seed,
                run.schedule,
                [False],
                window=WINDOW_POINTS,
                batch=run.batch,
            )
            assert sub.keep is not None
            far_path = np.full(picked.size, -1, dtype=np.int64)
            far_loss = np.full(picked.size, -1, dtype=np.int64)
            end_x, end_y = final[picked, 0], final[picked, 1]
            end_loss, spread = final_loss[picked], band[picked]
            with contextlib.closing(sub.blocks(min(sub.keep, int(horizon)))) as blocks:
                for (block,) in blocks:
                    low = block.offset
                    high = min(int(horizon), low + len(block.points))
                    points = sub.points[low - sub.base : high - sub.base]
                    losses = sub.losses[low - sub.base : high - sub.base]
                    away = _beyond(points[..., 0] - end_x, points[..., 1] - end_y, radius)
                    _last_true(away, low, far_path)
                    off = ~(np.abs(losses - end_loss) <= spread)
                    _last_true(off, low, far_loss)
                    if high >= horizon:
                        break
            path_from[group], loss_from[group] = far_path + 1, far_loss + 1
    return path_from, loss_from
