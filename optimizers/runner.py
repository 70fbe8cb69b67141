"""The fast runner: the reference loop's numbers, bit for bit, in a fraction of the time.

Read ``optimizers/reference.py`` first: it defines a run. This module computes the very
same points, losses and ``diverged_at`` (tests/optimizers/test_reference.py checks it bit
for bit) with changes that only save time:

1. Lockstep. The optimizers of one request (``run_many``/``stream_many``) advance
   together: their rows are stacked, optimizer m owning rows ``bounds[m]``, so one
   landscape call per update gives every optimizer its gradient. Each optimizer still
   sees the noise a run of its own would draw (common random numbers). ``run`` and
   ``stream`` are the one-optimizer case: there is one loop.
2. Blocks. Losses and the divergence check run once per block of updates. Rows never
   interact, so a row that blew up may compute garbage until the block ends (under
   ``np.errstate(all="ignore")``); then its first bad point and all later ones become
   NaN, as if it had stopped there. ``stream`` yields the blocks as they are done.
3. Reused buffers. Points go straight into the preallocated trajectory; each optimizer's
   intermediates into one ``Scratch`` for the whole run; a ``landscapes.Landscape``'s
   ``fn``/``grad_fn`` are called directly (``value``/``grad`` minus their checks). The
   per-update Python objects the inner loop indexes (a view per point, a float per
   learning rate) are made per block, never for the whole run: a stream paused by a
   client that stopped reading holds its arrays, not 10,000 × runs small objects.
4. Tiles, for basin maps only (more than TILE_ROWS rows; no page request comes near):
   the rows are cut into tiles that run on a small thread pool, each doing a whole
   block while its buffers stay in cache.
5. Floats, for the page's runs: when every optimizer has one row (up to FLOAT_ROWS
   rows in all), each update runs on Python floats (``Optimizer.scalar``: the same
   operations in the same order, so the same bits) instead of NumPy calls on
   2-element arrays, which cost about twenty float operations each. The gradient is
   still one ``grad_fn`` call on the stacked rows' arrays, as in 1., and the points go
   into the trajectory array once per loss span. About 4× faster for a 6 × 500 scene.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import threading
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from landscapes.data import Batches
from optimizers.base import GradientFree, Optimizer, ScalarUpdate, Scratch, fma
from optimizers.reference import LIMIT, Trajectory
from optimizers.schedules import Schedule
from optimizers.schedules import schedule as make_schedule

#: Noise draws (updates × K) held at once by ``run``: 2M draws of (x, y) are 32 MB.
_NOISE_CELLS = 1 << 21

#: Rows per tile (see 4. above).
TILE_ROWS = 8192

#: Rows per tile of a run that keeps a sliding window (``summary``): its points are not
#: written to a (steps × K) trajectory, so larger tiles (fewer NumPy calls) win; a 256²
#: Adam map measured 1.3 s at 32,768 against 2.0 s at 8,192 (benchmarks/maps.py).
WINDOW_TILE_ROWS = 32768

#: Rows at most that run on Python floats (see 5. above): per update, the float path
#: costs a few operations per row, the NumPy path a few calls per optimizer.
FLOAT_ROWS = 32

#: Points per loss call: a wide tile computes losses every few updates, while the new
#: points are still in cache; a narrow run (a slider move) once per block.
LOSS_POINTS = 1024


def stream(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    chunk: int = 100,
    record: bool = False,
    batch: int | None = None,
) -> Iterator[Block]:
    """Yield the trajectory in blocks of ``chunk`` points (the first block starts at point 0).

    Arguments are checked before this returns (ValueError at the call, not at the first
    ``next()``). Blocks concatenated along axis 0 equal ``run(...)``'s points and losses
    (and, recorded, their ``record`` the Trajectory's grads, lrs and state).
    """
    return _only(
        stream_many(
            landscape, [optimizer], starts, steps, noise, seed, schedule, chunk, record, batch
        )
    )


def _only(groups: Generator[list[Block]]) -> Iterator[Block]:
    with contextlib.closing(groups):
        for (block,) in groups:
            yield block


def stream_many(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    chunk: int = 100,
    record: bool | Sequence[bool] = False,
    batch: int | None = None,
) -> Generator[list[Block]]:
    """``stream`` for several optimizers in lockstep: per block, a list of one Block per
    optimizer (in the order given). Equal, bit for bit, to one ``stream`` per optimizer.
    ``record`` may say per optimizer whether it records.
    """
    chunk = _check_int("chunk", chunk, 1)
    stacked = _prepare(
        landscape, optimizers, starts, steps, noise, seed, schedule, record, batch=batch
    )
    return stacked.blocks(chunk)


def run(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    record: bool = False,
    batch: int | None = None,
) -> Trajectory:
    """Run ``optimizer`` from ``starts`` for ``steps`` updates: ``reference.run``'s numbers.

    ``landscape`` is a landscape object (or name), ``optimizer`` an ``optimizers.create``
    result (or a name, for defaults). ``starts`` is (2,) or (K, 2); one start with
    per-row hyperparameters of length K runs K rows from that start. ``record=True``
    also keeps each update's gradient, learning rate and buffers (``reference.run``
    says how; it costs (3 + 2 × buffers) × 8 bytes per update and row). ``batch`` (a
    loss over data only, landscapes/data.py) is the mini-batch size: each update's
    gradient is over that many samples, drawn as ``reference.run`` says.
    """
    (trajectory,) = run_many(
        landscape, [optimizer], starts, steps, noise, seed, schedule, record=record, batch=batch
    )
    return trajectory


def run_many(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    record: bool | Sequence[bool] = False,
    batch: int | None = None,
) -> list[Trajectory]:
    """``run`` for several optimizers in lockstep (one request's runs): one Trajectory per
    optimizer, equal bit for bit to separate ``run`` calls with the same arguments.

    Every optimizer starts from ``starts`` (repeated to its K when it has K per-row
    values) and sees the same noise draws. ``record`` may say per optimizer whether it
    records (``run``). The trajectories' arrays are views into one
    stacked array.
    """
    stacked = _prepare(
        landscape, optimizers, starts, steps, noise, seed, schedule, record, batch=batch
    )
    # one block, unless the noise drawn per block would need more than _NOISE_CELLS
    chunk = steps + 1 if stacked.sigma == 0 else max(1, _NOISE_CELLS // stacked.rows)
    for _ in stacked.blocks(chunk):
        pass
    return stacked.trajectories()


@dataclass(frozen=True)
class Record:
    """What updates ``first … first + n − 1`` saw and held (``record=True``): grads
    (n, K, 2), lrs (n, K), state {torch name: (n, K, 2)}; update t leaves point t."""

    first: int
    grads: np.ndarray
    lrs: np.ndarray
    state: dict[str, np.ndarray]


@dataclass(frozen=True)
class Block:
    """Points ``offset … offset + n − 1`` of every row, as ``stream`` yields them.

    Unpacks as ``offset, points, losses``. ``diverged_at`` is the (K,) state after this
    block (-1 = not diverged so far). ``record`` (when recording) covers the updates that
    made this block's points. The arrays are read-only views.
    """

    offset: int
    points: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray
    record: Record | None = None
    #: a gradient-free method's samples of these points (n, K, S, 2), else None
    samples: np.ndarray | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.offset, self.points, self.losses))


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_starts(starts: Any, rows: int | None) -> np.ndarray:
    try:
        points = np.array(starts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("starts must be a point (x, y) or an array of shape (K, 2)") from None
    if points.shape == (2,):
        points = points[None, :]
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"starts must have shape (2,) or (K, 2) with K >= 1, got {points.shape}")
    if not np.isfinite(points).all() or (np.abs(points) > LIMIT).any():
        raise ValueError(f"starts must be finite with |coordinate| <= {LIMIT:g}")
    if rows is not None and points.shape[0] != rows:
        if points.shape[0] != 1:
            raise ValueError(
                f"per-row hyperparameters have {rows} values but there are "
                f"{points.shape[0]} starts (use {rows} starts, or one start for all rows)"
            )
        points = np.repeat(points, rows, axis=0)  # one start, a sweep over hyperparameters
    return points


def _resolve(landscape: Any, optimizer: Any, schedule: Any) -> tuple[Any, Optimizer, Schedule]:
    if isinstance(landscape, str):
        import landscapes

        landscape = landscapes.get(landscape)
    if not (hasattr(landscape, "grad") and hasattr(landscape, "value")):
        raise ValueError("landscape must be a landscape name or object with value() and grad()")
    if isinstance(optimizer, str):
        from optimizers import create

        optimizer = create(optimizer)
    if not isinstance(optimizer, Optimizer):
        raise ValueError("optimizer must be an optimizer name or optimizers.create(...) result")
    if schedule is None:
        schedule = make_schedule("constant")
    elif isinstance(schedule, str):
        schedule = make_schedule(schedule)
    elif not isinstance(schedule, Schedule):
        raise ValueError("schedule must be None, a kind name or optimizers.schedule(...)")
    return landscape, optimizer, schedule


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool | np.bool_) or not isinstance(noise, numbers.Real):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    sigma = float(noise)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return sigma


def _check_batch(f: Any, batch: Any, sigma: float) -> int | None:
    """The mini-batch size: None (the whole gradient), or 1 … N on a loss over N samples."""
    if batch is None:
        return None
    samples = getattr(f, "samples", 0)
    if not samples or getattr(f, "batch_grad_fn", None) is None:
        raise ValueError("batch needs a loss over data (a landscape with samples)")
    batch = _check_int("batch", batch, 1)
    if batch > samples:
        raise ValueError(f"batch must be in [1, {samples}], got {batch}")
    if sigma > 0:
        raise ValueError("noise and batch cannot both be set: the batches are the noise")
    return batch


def _check_gradient_free(opts: list[Optimizer], rows: int, window: int | None) -> None:
    """A gradient-free method draws its random numbers for all its rows at once, so its
    rows must stay in one tile (``base.GradientFree``); and it has no settling to map."""
    sampler = next((opt for opt in opts if isinstance(opt, GradientFree)), None)
    if sampler is None:
        return
    if window is not None:
        raise ValueError(
            f"{sampler.name} samples f at random instead of following its gradient: "
            "the maps and summaries take gradient methods only"
        )
    if rows > TILE_ROWS:
        raise ValueError(
            f"{sampler.name} runs at most {TILE_ROWS} rows at once (with the other "
            f"optimizers of the run), got {rows}"
        )


def _prepare(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: Any,
    noise: Any,
    seed: Any,
    schedule: Any,
    record: bool | Sequence[bool] = False,
    window: int | None = None,
    batch: int | None = None,
) -> _Run:
    """Check everything and lay out the run: optimizer m owns rows ``bounds[m]``; with
    ``window``, only that many points × rows are kept (``summary``)."""
    if isinstance(optimizers, str | Optimizer) or not isinstance(optimizers, Sequence):
        raise ValueError("optimizers must be a list of optimizers (optimizers.create results)")
    if not optimizers:
        raise ValueError("optimizers must hold at least one optimizer")
    resolved = [_resolve(landscape, opt, schedule) for opt in optimizers]
    f, _, sched = resolved[0]
    opts = [opt for _, opt, _ in resolved]
    steps = _check_int("steps", steps, 0)
    seed = _check_int("seed", seed, 0)
    sigma = _check_noise(noise)
    batch = _check_batch(f, batch, sigma)
    rows = [_check_starts(starts, opt.rows) for opt in opts]
    records = [bool(record)] * len(opts) if isinstance(record, bool) else list(record)
    if len(records) != len(opts) or not all(isinstance(r, bool) for r in records):
        raise ValueError("record must be True/False or one True/False per optimizer")
    _check_gradient_free(opts, sum(len(r) for r in rows), window)
    return _Run(f, opts, rows, steps, sigma, seed, sched, records, window, batch)


class _Run:
    """The preallocated output of one run and the loop that fills it, block by block.

    The rows of all optimizers are stacked: optimizer m owns rows ``bounds[m]`` of
    ``points`` (steps + 1, K_total, 2) and ``losses``.
    """

    def __init__(
        self,
        f: Any,
        opts: list[Optimizer],
        starts: list[np.ndarray],
        steps: int,
        sigma: float,
        seed: int,
        sched: Schedule,
        record: list[bool],
        window: int | None = None,
        batch: int | None = None,
    ) -> None:
        self.f, self.opts, self.steps, self.sigma, self.seed = f, opts, steps, sigma, seed
        self.batch = batch
        # mini-batches (landscapes/data.py): one sequence for every row, like the noise
        self.batches = None if batch is None else Batches(f.samples, batch, seed)
        #: whether each gradient is random (noise, or batches smaller than the data)
        self.stochastic = sigma > 0 or (self.batches is not None and not self.batches.full)
        self.schedule = sched
        self.sizes = [start.shape[0] for start in starts]
        ends = np.cumsum(self.sizes).tolist()
        self.bounds = [slice(end - size, end) for end, size in zip(ends, self.sizes, strict=True)]
        self.rows = ends[-1]
        # With a ``window`` of (points × rows), only ``keep`` points per row: a window that
        # slides along the run (``summary``); row 0 of the arrays is point ``base``, the one
        # before the block being computed, and blocks are at most ``keep`` points long.
        self.keep = None if window is None else max(1, min(steps + 1, window // self.rows))
        self.base = 0
        length = steps + 1 if self.keep is None else self.keep + 1
        self.points = np.empty((length, self.rows, 2))
        self.losses = np.empty((length, self.rows))
        self.starts = np.concatenate(starts)
        self.points[0] = self.starts
        self.diverged_at = np.full(self.rows, -1, dtype=np.int64)
        self.factors = sched.factors(steps)
        self.records = [
            _Recording(opt, steps, size) if wanted else None
            for opt, size, wanted in zip(opts, self.sizes, record, strict=True)
        ]
        # a gradient-free method's samples per point (reference.run); one tile holds them
        self.samples = [
            np.full((length, size, opt.sample_count(), 2), np.nan)
            if isinstance(opt, GradientFree)
            else None
            for opt, size in zip(opts, self.sizes, strict=True)
        ]

    def blocks(self, chunk: int, then: Any = None) -> Generator[list[Block]]:
        """Per block of ``chunk`` points, one Block per optimizer. ``then(rows, offset,
        end)``, if given, is called on each tile's thread as soon as the tile has made
        its rows ``rows`` of points ``offset … end − 1`` (while they are in its cache)."""
        rngs = {}
        if self.sigma > 0:
            rngs = {size: np.random.default_rng(self.seed) for size in self.sizes}
        tile_rows = TILE_ROWS if self.keep is None else WINDOW_TILE_ROWS
        tiles = [
            _Tile(self, slice(low, min(low + tile_rows, self.rows)))
            for low in range(0, self.rows, tile_rows)
        ]
        noise = None
        if self.keep is not None and chunk > self.keep:
            raise ValueError(f"chunk must be <= {self.keep} for this run, got {chunk}")
        for offset in range(0, self.steps + 1, chunk):
            end = min(offset + chunk, self.steps + 1)
            first = max(offset, 1)  # index of the point the block's first update makes
            if self.keep is not None and offset > 0:  # slide: point offset − 1 to row 0
                self.points[0] = self.points[offset - 1 - self.base]
                self.losses[0] = self.losses[offset - 1 - self.base]
                self.base = offset - 1
            b = self.base
            if rngs and end > first:
                noise = self._noise(rngs, end - first)
            batches = None  # update i − 1 (making point i) uses batches[i − first]
            if self.batches is not None:
                batches = [self.batches[t] for t in range(first - 1, end - 1)]
            args = (offset, first, end, noise, batches)
            if len(tiles) == 1:
                _advance(tiles[0], args, then)
            else:  # rows never interact, so tiles run in any order on any thread
                list(_pool().map(lambda tile, args=args: _advance(tile, args, then), tiles))
            yield [
                Block(
                    offset,
                    _readonly(self.points[offset - b : end - b, rows]),
                    _readonly(self.losses[offset - b : end - b, rows]),
                    self.diverged_at[rows].copy(),
                    None if recording is None else recording.updates(first - 1, end - 1),
                    None if samples is None else _readonly(samples[offset - b : end - b]),
                )
                for rows, recording, samples in zip(
                    self.bounds, self.records, self.samples, strict=True
                )
            ]

    def _noise(self, rngs: dict[int, np.random.Generator], count: int) -> np.ndarray:
        """The next ``count`` updates' noise for every row: each optimizer gets the draws a
        run of its own would make, (count, K_m, 2) from ``default_rng(seed)``; optimizers
        with the same K share them (common random numbers)."""
        # one call draws the same numbers as one (K, 2) draw per update
        drawn = {size: rng.standard_normal((count, size, 2)) for size, rng in rngs.items()}
        if len(self.sizes) == 1:
            noise = drawn[self.sizes[0]]
        else:
            noise = np.concatenate([drawn[size] for size in self.sizes], axis=1)
        noise *= self.sigma
        return noise

    def trajectories(self) -> list[Trajectory]:
        return [
            Trajectory(
                self.points[:, rows],
                self.losses[:, rows],
                self.diverged_at[rows],
                None if recording is None else recording.grads,
                None if recording is None else recording.lrs,
                None if recording is None else recording.state,
                samples,
            )
            for rows, recording, samples in zip(
                self.bounds, self.records, self.samples, strict=True
            )
        ]


class _Recording:
    """One optimizer's recorded updates (``record=True``): see ``reference.run``."""

    def __init__(self, opt: Optimizer, steps: int, rows: int) -> None:
        self.grads = np.full((steps, rows, 2), np.nan)
        self.lrs = np.full((steps, rows), np.nan)
        self.state = {name: np.full((steps, rows, 2), np.nan) for name in opt.buffers()}
        absent = {name: opt.absent_rows(name) for name in self.state}
        self.absent = {name: rows for name, rows in absent.items() if rows is not None}

    def updates(self, low: int, high: int) -> Record:
        """Updates ``low … high − 1`` (read-only views)."""
        low = min(low, high)
        return Record(
            low,
            _readonly(self.grads[low:high]),
            _readonly(self.lrs[low:high]),
            {name: _readonly(values[low:high]) for name, values in self.state.items()},
        )

    def forget(self, rows: slice, diverged_at: np.ndarray, low: int, high: int) -> None:
        """NaN the updates ``low … high − 1`` of ``rows`` whose point was dropped, and the
        buffers torch does not keep for some rows (``Optimizer.absent_rows``)."""
        for name, absent in self.absent.items():
            columns = rows.start + np.flatnonzero(absent[rows])
            self.state[name][low:high, columns] = np.nan
        gone = np.flatnonzero(diverged_at >= 0)
        if gone.size == 0 or high <= low:
            return
        # update u made point u + 1: dropped from update d − 1 on, d the first bad point
        dropped = np.arange(low, high)[:, None] >= diverged_at[gone][None, :] - 1
        columns = rows.start + gone
        for values in (self.grads, self.lrs, *self.state.values()):
            block = values[low:high, columns]
            block[dropped] = np.nan
            values[low:high, columns] = block


class _Tile:
    """Rows ``rows`` of a run (all of them, unless it is a basin map): per update, one
    gradient call for all its rows, then each optimizer's update on its own rows."""

    def __init__(self, run: _Run, rows: slice) -> None:
        import landscapes

        self.run, self.rows = run, rows
        count = rows.stop - rows.start
        self.points = run.points[:, rows]
        self.losses = run.losses[:, rows]
        self.diverged_at = run.diverged_at[rows]
        self.dead = np.zeros(count, dtype=bool)
        self.grad = np.empty((count, 2))
        self.noisy = np.empty((count, 2))  # the gradient plus this update's noise
        self.landscape = run.f if isinstance(run.f, landscapes.Landscape) else None
        self.span = max(1, LOSS_POINTS // count)  # updates per loss call
        self.xy: Any = None  # contiguous x and y of the newest point, if at hand
        self.floats = (
            self.landscape is not None
            and count <= FLOAT_ROWS
            and all(
                size == 1 and opt.has_scalar for opt, size in zip(run.opts, run.sizes, strict=True)
            )
        )
        self.parts = [
            _Part(self, opt, slice(low - rows.start, high - rows.start), low - own.start, rec, kept)
            for opt, own, rec, kept in zip(
                run.opts, run.bounds, run.records, run.samples, strict=True
            )
            if (low := max(own.start, rows.start)) < (high := min(own.stop, rows.stop))
        ]
        self.recording = any(part.recording is not None for part in self.parts)
        self.samplers = [part for part in self.parts if part.samples is not None]

    def advance(
        self,
        offset: int,
        first: int,
        end: int,
        drawn: np.ndarray | None,
        batches: list[np.ndarray] | None = None,
    ) -> None:
        """Updates making points ``first … end − 1``, then losses and divergence for the
        block ``offset … end − 1``; ``batches`` are their mini-batches, if any."""
        grad, losses, points = self.grad, self.losses, self.points
        b = self.run.base  # points[i − b] is point i (b > 0 only in a sliding window)
        # views[j] is point first − 1 + j of these rows: made per block (see 3. above)
        views = list(points[first - 1 - b : end - b]) if end > first and not self.floats else []
        columns = grad.T
        grad_fn: Any = self.landscape.grad_fn if self.landscape is not None else None
        if batches is not None and self.landscape is not None:
            grad_fn = _BatchGrad(self.landscape.batch_grad_fn, batches, first)
        one = len(grad) == 1  # a one-element column is contiguous already: no copy
        noise = None if drawn is None else drawn[:, self.rows]
        g = self.grad if noise is None else self.noisy
        # what the inner loop needs per optimizer, unpacked once per block
        if self.floats:
            float_steps = [part.float_block(first, end) for part in self.parts]
            current = points[first - 1 - b].T.tolist() if end > first else [[], []]
            noise_rows = None if noise is None else noise.tolist()
        else:
            steps = [part.block(g, views, first, end) for part in self.parts]
        xy = self.xy
        with np.errstate(all="ignore"):
            for low in range(first, end, self.span):
                high = min(low + self.span, end)
                if self.floats:
                    self._float_updates(first, low, high, current, noise_rows, float_steps, grad_fn)
                    start = offset if low == first else low
                    losses[start - b : high - b], xy = self._value(points[start - b : high - b])
                    continue
                for i in range(low, high):  # reference.run's steps 1–3; step 4 per block
                    j = i - first  # views[j] is point i − 1, lrs[j] the rate of its update
                    theta = views[j]
                    if grad_fn is None:
                        grad[...] = self.run.f.grad(theta)
                    else:
                        if xy is None:
                            xy = theta.T if one else theta.T.copy()
                        if batches is None:
                            columns[0], columns[1] = grad_fn(*xy)
                        else:
                            columns[0], columns[1] = grad_fn(*xy, update=i)
                        xy = None
                    if noise is not None:
                        np.add(grad, noise[i - first], self.noisy)
                    for update, g_rows, state, rows, lrs, scratch in steps:
                        update(g_rows, state, rows[j], lrs[j], rows[j + 1], scratch)
                    for part in self.samplers:
                        part.sample(i - b)
                    if self.recording:
                        for part, (_, g_rows, _, rows, lrs, _) in zip(
                            self.parts, steps, strict=True
                        ):
                            part.capture(i - 1, g_rows, rows[j], lrs[j])
                start = offset if low == first else low  # point 0 has no update
                losses[start - b : high - b], xy = self._value(points[start - b : high - b])
            if first >= end:  # a block of point 0 alone (a run of 0 steps, or chunk 1)
                losses[offset - b : end - b], xy = self._value(points[offset - b : end - b])
            self.xy = xy
            if self.floats:
                for part in self.parts:
                    part.save()
            _mark_divergence(
                points[offset - b : end - b],
                losses[offset - b : end - b],
                offset,
                self.dead,
                self.diverged_at,
            )
            for part in self.parts:
                if part.recording is not None and end > first:
                    part.recording.forget(part.own, self.diverged_at[part.rows], first - 1, end - 1)
            for part in self.samplers:
                part.forget_samples(self.diverged_at[part.rows], offset - b, end - b, b)

    def _float_updates(
        self,
        first: int,
        low: int,
        high: int,
        current: list[list[float]],
        noise: list[Any] | None,
        steps: list[tuple[ScalarUpdate, list[float], _Part | None]],
        grad_fn: Any,
    ) -> None:
        """Updates making points ``low … high − 1`` on floats (see 5. above).

        ``current`` is [xs, ys], the rows' newest point, advanced in place. An update
        that raises (a division by zero, √ of a negative: NumPy would give ±inf or NaN)
        puts its row at NaN, which the divergence check then handles as NumPy's result.
        """
        xs, ys = current
        columns = self.grad.T
        batched = isinstance(grad_fn, _BatchGrad)
        made = []
        for i in range(low, high):
            j = i - first
            if batched:
                columns[0], columns[1] = grad_fn(np.array(xs), np.array(ys), update=i)
            else:
                columns[0], columns[1] = grad_fn(np.array(xs), np.array(ys))
            gxs, gys = columns.tolist()
            for k, (update, lrs, part) in enumerate(steps):
                gx, gy, x, y = gxs[k], gys[k], xs[k], ys[k]
                if noise is not None:
                    nx, ny = noise[j][k]
                    gx, gy = gx + nx, gy + ny
                try:
                    xs[k], ys[k] = update(gx, gy, x, y, lrs[j])
                except (ArithmeticError, ValueError):
                    xs[k] = ys[k] = math.nan
                if part is not None:
                    part.capture_floats(i - 1, gx, gy, x, y, lrs[j])
            made.append(xs + ys)
        block = np.array(made).reshape(high - low, 2, len(xs))
        b = self.run.base
        self.points[low - b : high - b] = block.transpose(0, 2, 1)

    def _value(self, points: np.ndarray) -> tuple[np.ndarray, Any]:
        """f at ``points`` (n, rows, 2), as ``value`` computes it minus its checks; and the
        contiguous x and y of the last point, which the next gradient call can reuse."""
        if self.landscape is None:
            return self.run.f.value(points), None
        x, y = points[..., 0].copy(), points[..., 1].copy()
        return self.landscape.fn(x, y), (x[-1], y[-1])


class _BatchGrad:
    """A loss over data's gradient over the mini-batch of the update making point
    ``update`` (``batches[update − first]``): ``grad_fn``'s place in the inner loops."""

    def __init__(self, batch_grad_fn: Any, batches: list[np.ndarray], first: int) -> None:
        self.batch_grad_fn, self.batches, self.first = batch_grad_fn, batches, first

    def __call__(self, x: np.ndarray, y: np.ndarray, update: int) -> Any:
        return self.batch_grad_fn(x, y, self.batches[update - self.first])


class _Part:
    """One optimizer's rows ``rows`` of a tile: its state, scratch and learning rates.

    ``skip`` is how many of the optimizer's rows come before the tile's (a basin map's
    tiles cut through them), to pick its per-row values.
    """

    def __init__(
        self,
        tile: _Tile,
        opt: Optimizer,
        rows: slice,
        skip: int,
        recording: _Recording | None = None,
        samples: np.ndarray | None = None,
    ) -> None:
        self.own = slice(skip, skip + rows.stop - rows.start)  # of the optimizer's rows
        self.run = tile.run
        opt = opt.select(self.own)
        self.opt, self.recording = opt, recording
        self.rows = rows
        self.update = opt.update
        self.whole = rows.start == 0 and rows.stop == len(tile.grad)  # e.g. a plain ``run``
        self.points = tile.points[:, rows]
        # a gradient-free method's samples of these rows, per point (one tile: all of them)
        self.samples = None if samples is None else samples[:, self.own]
        if isinstance(opt, GradientFree):
            self.state = opt.init(self.points[0], self.run.f.value, self.run.seed)
            assert self.samples is not None
            self.samples[0] = opt.samples(self.state)
        else:
            self.state = opt.init(self.points[0])
        self.scratch = Scratch.like(self.points[0])
        self.factors = tile.run.factors
        self.base_lr = opt.hyper["lr"]
        if tile.floats:
            self.step, self.save = opt.scalar(self.state)
            self.decay = opt.scalar_decay()

    def sample(self, index: int) -> None:
        """Keep what the update just made evaluated: the samples of point ``index`` (of
        the run's arrays)."""
        assert self.samples is not None and isinstance(self.opt, GradientFree)
        self.samples[index] = self.opt.samples(self.state)

    def forget_samples(self, diverged_at: np.ndarray, low: int, high: int, base: int) -> None:
        """NaN the samples of rows ``low … high − 1`` (of the arrays, point + ``base``) at
        and after each row's first bad point, as its points are."""
        assert self.samples is not None
        for row in np.flatnonzero(diverged_at >= 0):
            self.samples[max(low, int(diverged_at[row]) - base) : high, row] = np.nan

    def grad(self, tile_grad: np.ndarray) -> np.ndarray:
        """This optimizer's rows of the tile's gradient buffer (a view)."""
        return tile_grad[self.rows]

    def block(
        self, tile_grad: np.ndarray, tile_views: list[np.ndarray], first: int, end: int
    ) -> Any:
        """What the inner loop needs for the updates making points ``first … end − 1``:
        (update, gradient rows, state, point views, learning rates, scratch)."""
        views = self.views(tile_views, first, end)
        return (
            self.update,
            self.grad(tile_grad),
            self.state,
            views,
            self.rates(first, end),
            self.scratch,
        )

    def views(self, tile_views: list[np.ndarray], first: int, end: int) -> list[np.ndarray]:
        """Points ``first − 1 … end − 1`` of this optimizer's rows, one view each."""
        if self.whole:
            return tile_views
        b = self.run.base
        return list(self.points[first - 1 - b : end - b]) if end > first else []

    def float_block(self, first: int, end: int) -> tuple[ScalarUpdate, list[float], _Part | None]:
        """``block`` for the float path: (update, learning rates as floats, this part if
        it records)."""
        factors = self.factors[first - 1 : end - 1] if end > first else self.factors[:0]
        base = self.base_lr
        base = float(base.item()) if isinstance(base, np.ndarray) else base
        return self.step, (base * factors).tolist(), self if self.recording else None

    def capture(self, t: int, grad: np.ndarray, theta: np.ndarray, lr: Any) -> None:
        """Record update t (array path): after ``update``, from its inputs and state."""
        recording, rows = self.recording, self.own
        if recording is None:
            return
        recording.grads[t, rows] = self.opt.seen_gradient(grad, theta)
        recording.lrs[t, rows] = np.ravel(lr)
        for name, values in recording.state.items():
            values[t, rows] = getattr(self.state, name)

    def capture_floats(self, t: int, gx: float, gy: float, x: float, y: float, lr: float) -> None:
        """Record update t (float path): ``capture`` on floats (the same operations); the
        state goes back to its arrays first."""
        recording, row = self.recording, self.own.start
        assert recording is not None
        self.save()
        if self.decay is not None:  # seen_gradient's g + λθ
            gx, gy = fma(x, self.decay, gx), fma(y, self.decay, gy)
        recording.grads[t, row] = gx, gy
        recording.lrs[t, row] = lr
        for name, values in recording.state.items():
            values[t, row] = getattr(self.state, name)[0]

    def rates(self, first: int, end: int) -> Any:
        """The learning rates of the updates making points ``first … end − 1``."""
        factors = self.factors[first - 1 : end - 1] if end > first else self.factors[:0]
        if not isinstance(self.base_lr, np.ndarray):
            return (self.base_lr * factors).tolist()  # python floats, like group["lr"]
        if (factors == 1.0).all():
            return [self.base_lr] * len(factors)
        return _RowRates(self.base_lr, factors)


class _RowRates:
    """Per-row rates under a schedule, computed per update into one buffer (a list of
    them would be steps × K floats)."""

    def __init__(self, base_lr: np.ndarray, factors: np.ndarray) -> None:
        self.base_lr, self.factors = base_lr, factors
        self.buffer = np.empty_like(base_lr)

    def __getitem__(self, t: int) -> np.ndarray:
        return np.multiply(self.base_lr, self.factors[t], self.buffer)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Shared workers for basin maps (NumPy releases the GIL inside each ufunc)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            workers = max(1, min(4, os.cpu_count() or 1))
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gradscape-rows")
        return _POOL


def _advance(tile: _Tile, args: tuple[Any, ...], then: Any) -> None:
    """One tile's block (``_Run.blocks``), and ``then`` on its rows."""
    tile.advance(*args)
    if then is not None:
        then(tile.rows, args[0], args[2])


def _mark_divergence(
    points: np.ndarray,
    losses: np.ndarray,
    offset: int,
    dead: np.ndarray,
    diverged_at: np.ndarray,
) -> None:
    """Find each row's first bad point in this block; NaN it and everything after."""
    # fast path, three reductions: max/min propagate NaN, a non-finite loss makes the sum so
    if (
        not dead.any()
        and points.max(initial=-np.inf) <= LIMIT
        and points.min(initial=np.inf) >= -LIMIT
        and np.isfinite(losses.sum())
    ):
        return
    big = ~(np.abs(points) <= LIMIT)  # NaN compares False, so it counts as bad too
    bad = ~np.isfinite(losses)
    bad |= big[..., 0]
    bad |= big[..., 1]
    bad[:, dead] = True
    cols = np.flatnonzero(bad.any(axis=0))
    if cols.size == 0:  # only a sum overflowed
        return
    first = bad[:, cols].argmax(axis=0)
    newly = ~dead[cols]
    diverged_at[cols[newly]] = offset + first[newly]
    dead[cols] = True
    after = np.arange(points.shape[0])[:, None] >= first[None, :]
    block = points[:, cols]
    block[after] = np.nan
    points[:, cols] = block
    block_losses = losses[:, cols]
    block_losses[after] = np.nan
    losses[:, cols] = block_losses


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view
