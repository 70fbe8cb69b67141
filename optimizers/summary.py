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
   shrinks). Each tile of the runner folds its rows of a block into the boxes on its
   own thread, as soon as it has computed them.
2. Given the end, a segment whose box lies wholly within ``STAY`` of it (and whose loss
   range lies in the band) holds no point that breaks settling; one wholly outside holds
   only such points. Only rows whose last segment that is not wholly near is *mixed* are
   run again, and only up to the end of that segment, to find the exact step. That
   segment is where the path crossed into its final disc, so the second pass is short
   for rows that settle early — most of a basin map (a 256² Adam map of Himmelblau
   reruns a fifth of pass 1's updates). The rows of every optimizer that need about as
   far rerun together (``_pieces``).

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

from optimizers import runner, status
from optimizers.runner import _prepare, _Run

#: Segments per run for pass 1's boxes: 8 × 6 float32 per row (192 bytes).
SEGMENTS = 8

#: Segment edges grow as (k / SEGMENTS) ** SPACING of the run (``segment_edges``).
SPACING = 2.0

#: Points × rows kept per block (24 bytes each): a 65,536-row map keeps 4 points.
WINDOW_POINTS = 1 << 18

#: Points × rows kept per block by each run of the second pass (its pieces run side by
#: side; a smaller window than pass 1's measured a little faster).
RERUN_POINTS = 1 << 16

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
    # with noise nothing settles (status.py)
    take = first.take if settle and not run.stochastic else None
    with contextlib.closing(run.blocks(run.keep, take)) as blocks:
        for block in blocks:
            end = block[0].offset + len(block[0].points)
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
        self.run = run
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
        self._reopen(slice(None))
        self.tail_low = np.full(run.rows, np.inf)
        self.tail_high = np.full(run.rows, -np.inf)
        self.first_loss = np.empty(run.rows)

    def drop_boxes(self) -> None:
        """Free the boxes once ``_settles_from`` has read them (12 MB for a 256² map)."""
        empty = np.empty((len(self.low), 3, 0), dtype=np.float32)
        self.low, self.high = empty, empty
        self.open_low = self.open_high = np.empty((0, 2))
        self.open_lowest = self.open_highest = np.empty(0)

    def _reopen(self, rows: slice) -> None:
        """An empty box for the next segment of ``rows``."""
        for low in (self.open_low, self.open_lowest):
            low[rows] = np.inf
        for high in (self.open_high, self.open_highest):
            high[rows] = -np.inf

    def take(self, rows: slice, offset: int, end: int) -> None:
        """Fold in rows ``rows`` of the block just computed, points ``offset … end − 1``
        of the run's window: ``_Run.blocks`` calls it on the thread of the tile that made
        them, as soon as it has (rows of different tiles touch different columns)."""
        run, b = self.run, self.run.base
        points, losses = run.points[:, rows], run.losses[:, rows]
        if offset == 0:
            self.first_loss[rows] = losses[0]
        open_low, open_high = self.open_low[rows], self.open_high[rows]
        open_lowest, open_highest = self.open_lowest[rows], self.open_highest[rows]
        low = offset
        while low < end:
            segment = int(np.searchsorted(self.edges, low, side="right")) - 1
            high = min(end, int(self.edges[segment + 1]))
            # point by point, in place (no temporaries); np.minimum/maximum propagate NaN: a
            # diverged row's box is NaN (never read)
            for i in range(low - b, high - b):
                np.minimum(open_low, points[i], out=open_low)
                np.maximum(open_high, points[i], out=open_high)
                np.minimum(open_lowest, losses[i], out=open_lowest)
                np.maximum(open_highest, losses[i], out=open_highest)
            if high == self.edges[segment + 1]:
                self.low[segment, :2, rows] = _outward(open_low.T, -np.inf)
                self.high[segment, :2, rows] = _outward(open_high.T, np.inf)
                self.low[segment, 2, rows] = _outward(open_lowest, -np.inf)
                self.high[segment, 2, rows] = _outward(open_highest, np.inf)
                self._reopen(rows)
            low = high
        if end > self.tail_from:
            tail = losses[max(offset, self.tail_from) - b : end - b]
            np.fmin(self.tail_low[rows], tail.min(axis=0), out=self.tail_low[rows])
            np.fmax(self.tail_high[rows], tail.max(axis=0), out=self.tail_high[rows])


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
    first.drop_boxes()  # read: their memory is the second pass's
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
    every = rows.size == first.low.shape[-1]  # all rows alive: no gather while all look
    for segment in reversed(range(len(first.low))):
        if looking.size == 0:
            break
        low, high = first.low[segment, axis : axis + 2], first.high[segment, axis : axis + 2]
        if not (every and looking.size == rows.size):
            low, high = low[:, rows[looking]], high[:, rows[looking]]
        low, high = low.astype(np.float64), high.astype(np.float64)
        here = end[..., looking]
        bound = limit if np.ndim(limit) == 0 else limit[looking]
        if axis == 0:  # the box's farthest and nearest points from the end, squared (the
            # margin dwarfs the squares' rounding as it does hypot's)
            far = np.maximum(here - low, high - here)
            near = np.maximum(np.maximum(low - here, here - high), 0.0)
            far *= far
            near *= near
            wholly_near = far[0] + far[1] <= (bound * (1 - MARGIN)) ** 2
            wholly_far = near[0] + near[1] > (bound * (1 + MARGIN)) ** 2
        else:
            low, high = low[0], high[0]  # the loss range only
            far = np.maximum(here - low, high - here)
            near = np.maximum(np.maximum(low - here, here - high), 0.0)
            wholly_near = far <= bound * (1 - MARGIN)
            wholly_far = near > bound * (1 + MARGIN)
        found = looking[~wholly_near]
        settles[found] = np.where(wholly_far[~wholly_near], int(first.edges[segment + 1]), -1)
        mixed[found] = np.where(wholly_far[~wholly_near], -1, segment)
        looking = looking[wholly_near]
    return settles, mixed


#: Rows from which the second pass's test goes point by point (below, the NumPy calls
#: per point would cost more than the rows' arithmetic: a block at once is cheaper).
WATCH_ROWS = 512


class _Watch:
    """The second pass's exact test for one piece's rows, as the rerun makes its points:
    the last step at which each row's point lies beyond ``radius`` of its end (classify's
    ``np.hypot(dx, dy) > radius``, to the bit), and the last at which its loss lies
    outside its band (NaN counts as outside)."""

    def __init__(self, end: np.ndarray, end_loss: np.ndarray, band: np.ndarray, radius: float):
        rows = len(end)
        self.end, self.end_loss, self.band, self.radius = end, end_loss, band, radius
        # libm's hypot costs several times a multiply: the squares decide, and only
        # distances within a relative 1e-12 of the radius (their rounding is ~1e-16)
        # go to hypot
        self.wide, self.narrow = radius * radius * (1 + 1e-12), radius * radius * (1 - 1e-12)
        self.far_path = np.full(rows, -1, dtype=np.int64)
        self.far_loss = np.full(rows, -1, dtype=np.int64)
        self.delta, self.squared = np.empty((rows, 2)), np.empty(rows)
        self.away, self.unsure = np.empty(rows, dtype=bool), np.empty(rows, dtype=bool)

    def see(self, low: int, points: np.ndarray, losses: np.ndarray) -> None:
        """Points ``low … low + n − 1`` of every row: ``points`` (n, rows, 2), ``losses``
        (n, rows)."""
        if len(self.end) >= WATCH_ROWS:
            for j in range(len(points)):
                self._point(low + j, points[j], losses[j])
            return
        delta = points - self.end
        delta *= delta
        squared = delta[..., 0] + delta[..., 1]
        away = squared > self.wide
        unsure = (squared >= self.narrow) & ~away
        if unsure.any():
            step, row = np.nonzero(unsure)
            dx, dy = (points[step, row] - self.end[row]).T
            away[step, row] = np.hypot(dx, dy) > self.radius
        _last_true(away, low, self.far_path)
        _last_true(~(np.abs(losses - self.end_loss) <= self.band), low, self.far_loss)

    def _point(self, step: int, point: np.ndarray, loss: np.ndarray) -> None:
        """``see`` for one point of many rows: in place, on buffers of one point's rows (a
        block at once would take NumPy's strided reductions over it, several times this)."""
        delta, squared, away, unsure = self.delta, self.squared, self.away, self.unsure
        np.subtract(point, self.end, out=delta)  # dx, dy as classify computes them
        np.multiply(delta, delta, out=delta)
        np.add(delta[:, 0], delta[:, 1], out=squared)
        np.greater(squared, self.wide, out=away)
        np.greater_equal(squared, self.narrow, out=unsure)
        if np.count_nonzero(unsure) != np.count_nonzero(away):
            close = np.flatnonzero(unsure & ~away)
            dx, dy = (point[close] - self.end[close]).T
            away[close] = np.hypot(dx, dy) > self.radius
        np.copyto(self.far_path, step, where=away)
        np.subtract(loss, self.end_loss, out=squared)
        np.abs(squared, out=squared)
        np.less_equal(squared, self.band, out=away)
        np.logical_not(away, out=away)
        np.copyto(self.far_loss, step, where=away)


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
    """Run ``rows`` (of the stacked run) again up to point ``need`` − 1 at least: per row
    the first step from which every point so far lies within ``radius`` of its end, and
    the first from which every loss lies within its band. Without noise rows never
    interact, so any subset reruns alone, and the rows of all optimizers that need about
    as far run together, in pieces of at most a tile (``_pieces``), one after another: on
    the runner's threads side by side they measured no faster on this 2-core machine
    (NumPy's calls on ~16,000 rows hold the GIL too often between them) and took 40 %
    more CPU. A row run beyond its need finds nothing more there: its later segments are
    wholly near (``_settles_from``)."""
    path_from = np.empty(rows.size, dtype=np.int64)
    loss_from = np.empty(rows.size, dtype=np.int64)
    owner = np.searchsorted([bounds.stop for bounds in run.bounds], rows, side="right")

    def rerun(piece: tuple[int, np.ndarray]) -> None:
        horizon, group = piece
        picked = rows[group]
        mine = [(m, picked[owner[group] == m]) for m in np.unique(owner[group])]
        sub = _Run(
            run.f,
            [run.opts[m].select(own - run.bounds[m].start) for m, own in mine],
            [run.starts[own] for _, own in mine],
            run.steps,
            0.0,
            run.seed,
            run.schedule,
            [False] * len(mine),
            window=RERUN_POINTS,
            batch=run.batch,
        )
        assert sub.keep is not None
        watch = _Watch(final[picked], final_loss[picked], band[picked], radius)
        with contextlib.closing(sub.blocks(min(sub.keep, horizon))) as blocks:
            for block in blocks:
                low = block[0].offset
                high = min(horizon, low + len(block[0].points))
                b = sub.base
                watch.see(low, sub.points[low - b : high - b], sub.losses[low - b : high - b])
                if high >= horizon:
                    break
        path_from[group], loss_from[group] = watch.far_path + 1, watch.far_loss + 1

    for piece in _pieces(need):
        rerun(piece)
    return path_from, loss_from


#: What an update costs a run beyond its rows' arithmetic (the NumPy calls themselves),
#: in rows: the second pass runs rows with different needs together when this saves.
OVERHEAD_ROWS = 1024


def _pieces(need: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The second pass's runs: (horizon, indices of the rows it reruns).

    The needs take a few values (segment ends). Rows of neighbouring needs run together
    to the larger where running a few rows further costs less than another run's calls
    (``OVERHEAD_ROWS``); a group is then cut into pieces of at most a tile, each a run of
    one tile (a 256² map's pieces of 18,000 and 26,000 rows measured 10 % faster than
    its groups of up to 36,000 rows in tiles on the pool).
    """
    horizons, counts = np.unique(need, return_counts=True)
    # best[j]: the least cost of the rows of horizons[:j]; first[j]: where its last run
    # starts (horizons[first[j]] … horizons[j − 1], run to the last)
    best, first = [0.0], [0]
    for j in range(1, len(horizons) + 1):
        cost, i = min(
            (best[i] + horizons[j - 1] * (OVERHEAD_ROWS + counts[i:j].sum()), i) for i in range(j)
        )
        best.append(float(cost))
        first.append(i)
    pieces: list[tuple[int, np.ndarray]] = []
    j = len(horizons)
    while j > 0:
        i, horizon = first[j], int(horizons[j - 1])
        group = np.flatnonzero((need >= horizons[i]) & (need <= horizon))
        parts = -(-group.size // runner.WINDOW_TILE_ROWS)
        pieces.extend((horizon, part) for part in np.array_split(group, parts))
        j = i
    return pieces
