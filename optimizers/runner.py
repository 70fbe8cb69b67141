"""The trajectory runner: the one loop that moves K points with one or more optimizers.

``stream_many`` yields the trajectories of several optimizers (one request: same
landscape, starts, steps, noise, seed and schedule) in blocks while it computes (the
WebSocket sends each block at once); ``run_many`` consumes the same generator, and
``run``/``stream`` are its one-optimizer case, so there is one loop and the forms can
never disagree.

The rows of all optimizers are stacked: optimizer m owns rows ``bounds[m]`` (its K_m
starts, or one start repeated for K_m per-row hyperparameters). Per update
t = 0 … steps − 1, for all rows at once:

1. g = ∇f(θ_t) — one landscape call for every row of every optimizer — (+ σ·z_t, where
   optimizer m's rows get the t-th (K_m, 2) draw of ``default_rng(seed)``, exactly what a
   run of its own draws: common random numbers; one call per block draws the same numbers),
2. for each optimizer m: θ_{t+1}[m] = update_m(g[m], state_m, θ_t[m], lr_m·factor(t)).

Rows never interact, and a landscape gives the same bits for a row in any batch, so
lockstep results equal separate runs bit for bit; that also lets the loop skip work.
Divergence is checked once per block: a row that blew up may keep computing garbage
(under ``np.errstate(all="ignore")``) without touching any other row, and then its first
bad point and everything after become NaN. Wide runs (a basin map) are cut into row tiles
of TILE_ROWS that run on a small thread pool, each tile doing a whole block of updates
while its state is in cache; a tile holds a piece of each optimizer whose rows it
overlaps, so lockstep and tiling are the same mechanism (a narrow request is one tile).
And losses come from one vectorized call per block for narrow tiles (a slider move,
where per-call overhead dominates), or update by update for wide tiles (no large
temporaries).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

import numpy as np

from optimizers.base import Optimizer, Scratch
from optimizers.reference import LIMIT, Trajectory
from optimizers.schedules import Schedule
from optimizers.schedules import schedule as make_schedule

#: Noise draws (updates × K) held at once by ``run``: 2M draws of (x, y) are 32 MB.
_NOISE_CELLS = 1 << 21


@dataclass(frozen=True)
class Block:
    """Points ``offset … offset + n − 1`` of every row, as ``stream`` yields them.

    Unpacks as ``offset, points, losses``. ``diverged_at`` is the (K,) state after this
    block (-1 = not diverged so far). The arrays are read-only views.
    """

    offset: int
    points: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray

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


def _prepare(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: Any,
    noise: Any,
    seed: Any,
    schedule: Any,
) -> _Run:
    """Check everything and lay out the run: optimizer m owns rows ``bounds[m]``."""
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
    rows = [_check_starts(starts, opt.rows) for opt in opts]
    return _Run(f, opts, rows, steps, sigma, seed, sched)


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
    ) -> None:
        self.f, self.opts, self.steps, self.sigma, self.seed = f, opts, steps, sigma, seed
        self.sizes = [start.shape[0] for start in starts]
        ends = np.cumsum(self.sizes).tolist()
        self.bounds = [slice(end - size, end) for end, size in zip(ends, self.sizes, strict=True)]
        self.rows = ends[-1]
        self.points = np.empty((steps + 1, self.rows, 2))
        self.losses = np.empty((steps + 1, self.rows))
        self.points[0] = np.concatenate(starts)
        self.diverged_at = np.full(self.rows, -1, dtype=np.int64)
        self.factors = sched.factors(steps)

    def _tiles(self) -> list[_Tile]:
        """Row ranges of TILE_ROWS; each holds the pieces of the optimizers it overlaps."""
        tiles = []
        for low in range(0, self.rows, TILE_ROWS):
            high = min(low + TILE_ROWS, self.rows)
            pieces = [
                (opt, slice(max(low, rows.start), min(high, rows.stop)), rows.start)
                for opt, rows in zip(self.opts, self.bounds, strict=True)
                if rows.start < high and rows.stop > low
            ]
            tiles.append(_Tile(self, slice(low, high), pieces))
        return tiles

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

    def blocks(self, chunk: int) -> Iterator[list[Block]]:
        """Per block of ``chunk`` points, one Block per optimizer."""
        steps = self.steps
        rngs = {}
        if self.sigma > 0:
            rngs = {size: np.random.default_rng(self.seed) for size in self.sizes}
        tiles = self._tiles()
        pool = _pool() if len(tiles) > 1 else None
        drawn = None
        for offset in range(0, steps + 1, chunk):
            end = min(offset + chunk, steps + 1)
            first = max(offset, 1)  # index of the point the block's first update makes
            if rngs and end > first:
                drawn = self._noise(rngs, end - first)
            if pool is None:
                for tile in tiles:
                    tile.advance(offset, first, end, drawn)
            else:
                # rows never interact, so tiles run in any order on any thread
                advance = methodcaller("advance", offset, first, end, drawn)
                list(pool.map(advance, tiles))
            yield [
                Block(
                    offset,
                    _readonly(self.points[offset:end, rows]),
                    _readonly(self.losses[offset:end, rows]),
                    self.diverged_at[rows].copy(),
                )
                for rows in self.bounds
            ]

    def trajectories(self) -> list[Trajectory]:
        return [
            Trajectory(self.points[:, rows], self.losses[:, rows], self.diverged_at[rows])
            for rows in self.bounds
        ]


#: Rows per tile: a tile's state stays in cache while it runs a whole block of updates.
TILE_ROWS = 8192

#: Tiles at least this wide compute losses update by update (see ``_Tile``).
EAGER_ROWS = 256

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Shared workers for big runs (NumPy releases the GIL inside each ufunc)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            workers = max(1, min(4, os.cpu_count() or 1))
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gradscape-rows")
        return _POOL


class _Piece:
    """One optimizer's rows inside a tile: its own state and learning rates.

    ``views[i]`` is point i of these rows; ``grad``/``noisy`` are these rows of the tile's
    gradient buffers, so the tile's one gradient call fills them all. ``lrs[t]`` is
    update t's learning rate.
    """

    def __init__(self, tile: _Tile, opt: Optimizer, rows: slice, factors: np.ndarray) -> None:
        self.update = opt.update
        whole = rows.start == 0 and rows.stop == len(tile.grad)  # e.g. a plain ``run``
        self.views = tile.views if whole else list(tile.points[:, rows])  # made once
        self.grad = tile.grad[rows]
        self.noisy = tile.noisy[rows]
        self.state = opt.init(self.views[0])
        self.scratch = Scratch.like(self.views[0])
        base_lr = opt.hyper["lr"]
        self.lrs: Any
        if not isinstance(base_lr, np.ndarray):
            self.lrs = (base_lr * factors).tolist()  # python floats, like group["lr"]
        elif (factors == 1.0).all():
            self.lrs = [base_lr] * len(factors)
        else:
            self.lrs = _RowRates(base_lr, factors)

    def stepper(self, noisy: bool) -> tuple[Any, ...]:
        """What the tile's inner loop needs, unpacked once per block."""
        return (
            self.update,
            self.noisy if noisy else self.grad,
            self.state,
            self.views,
            self.lrs,
            self.scratch,
        )


class _RowRates:
    """Per-row rates under a schedule, computed per update into one buffer (a list of
    them would be steps × K floats)."""

    def __init__(self, base_lr: np.ndarray, factors: np.ndarray) -> None:
        self.base_lr, self.factors = base_lr, factors
        self.buffer = np.empty_like(base_lr)

    def __getitem__(self, t: int) -> np.ndarray:
        return np.multiply(self.base_lr, self.factors[t], self.buffer)


class _Tile:
    """Rows ``rows`` of a run, advanced block by block: one gradient call per update for
    all of them, then each optimizer's update on its own piece."""

    def __init__(self, run: _Run, rows: slice, pieces: list[tuple[Optimizer, slice, int]]) -> None:
        import landscapes

        self.run, self.rows = run, rows
        count = rows.stop - rows.start
        self.points = run.points[:, rows]
        self.losses = run.losses[:, rows]
        self.views = list(self.points)  # one view per point, made once
        self.diverged_at = run.diverged_at[rows]
        self.dead = np.zeros(count, dtype=bool)
        self.grad = np.empty((count, 2))
        self.noisy = np.empty((count, 2))
        # (optimizer, rows of the run, first run row of that optimizer) → a piece of this tile
        self.pieces = [
            _Piece(
                self,
                opt.select(slice(part.start - origin, part.stop - origin)),
                slice(part.start - rows.start, part.stop - rows.start),
                run.factors,
            )
            for opt, part, origin in pieces
        ]
        # Landscape.value/grad copy x and y into contiguous arrays and call fn/grad_fn;
        # doing the same here with reused buffers gives the same numbers, minus overhead.
        self.landscape = run.f if isinstance(run.f, landscapes.Landscape) else None
        # wide tiles compute each new point's loss at once, sharing its x/y copies with
        # the next gradient (cache-hot, no large temporaries); narrow tiles (a slider
        # move) are faster with one vectorized loss call per block
        self.eager = self.landscape is not None and count >= EAGER_ROWS
        self.xy: tuple[np.ndarray, np.ndarray] | None = None

    def advance(self, offset: int, first: int, end: int, drawn: np.ndarray | None) -> None:
        """Updates making points ``first … end − 1``, then losses and divergence for the
        block ``offset … end − 1``."""
        noise = None if drawn is None else drawn[:, self.rows]
        with np.errstate(all="ignore"):
            if self.eager:
                self._eager(offset, first, end, noise)
            else:
                self._lazy(first, end, noise)
                self.losses[offset:end] = self.run.f.value(self.points[offset:end])
            _mark_divergence(
                self.points[offset:end],
                self.losses[offset:end],
                offset,
                self.dead,
                self.diverged_at,
            )

    def _lazy(self, first: int, end: int, noise: np.ndarray | None) -> None:
        views, grad, pieces = self.views, self.grad, self.pieces
        columns = grad.T
        grad_fn = self.landscape.grad_fn if self.landscape is not None else None
        one = len(grad) == 1  # a one-element column is contiguous already: no copy
        noisy = noise is not None
        steppers = [piece.stepper(noisy) for piece in pieces]
        for i in range(first, end):
            theta = views[i - 1]
            if grad_fn is None:
                grad[...] = self.run.f.grad(theta)
            else:
                columns[0], columns[1] = grad_fn(*(theta.T if one else theta.T.copy()))
            if noisy:
                np.add(grad, noise[i - first], self.noisy)
            for update, g, state, points, lrs, scratch in steppers:
                update(g, state, points[i - 1], lrs[i - 1], points[i], scratch)

    def _eager(self, offset: int, first: int, end: int, noise: np.ndarray | None) -> None:
        views, grad, pieces, losses = self.views, self.grad, self.pieces, self.losses
        columns = grad.T
        assert self.landscape is not None
        fn, grad_fn = self.landscape.fn, self.landscape.grad_fn
        if offset == 0:
            self.xy = x, y = views[0].T.copy()
            losses[0] = fn(x, y)
        assert self.xy is not None
        x, y = self.xy  # copies of the newest point, first − 1
        noisy = noise is not None
        steppers = [piece.stepper(noisy) for piece in pieces]
        for i in range(first, end):
            columns[0], columns[1] = grad_fn(x, y)
            if noisy:
                np.add(grad, noise[i - first], self.noisy)
            for update, g, state, points, lrs, scratch in steppers:
                update(g, state, points[i - 1], lrs[i - 1], points[i], scratch)
            x, y = views[i].T.copy()
            losses[i] = fn(x, y)
        self.xy = x, y


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


def stream(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    chunk: int = 100,
) -> Iterator[Block]:
    """Yield the trajectory in blocks of ``chunk`` points (the first block starts at point 0).

    Arguments are checked before this returns (ValueError at the call, not at the first
    ``next()``). Blocks concatenated along axis 0 equal ``run(...)``'s points and losses.
    """
    return _only(stream_many(landscape, [optimizer], starts, steps, noise, seed, schedule, chunk))


def _only(groups: Iterator[list[Block]]) -> Iterator[Block]:
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
) -> Iterator[list[Block]]:
    """``stream`` for several optimizers in lockstep: per block, a list of one Block per
    optimizer (in the order given). Equal, bit for bit, to one ``stream`` per optimizer.
    """
    chunk = _check_int("chunk", chunk, 1)
    return _prepare(landscape, optimizers, starts, steps, noise, seed, schedule).blocks(chunk)


def run(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
) -> Trajectory:
    """Run ``optimizer`` from ``starts`` for ``steps`` updates; see the module docstring.

    ``landscape`` is a landscape object (or name), ``optimizer`` an ``optimizers.create``
    result (or a name, for defaults). ``starts`` is (2,) or (K, 2); one start with
    per-row hyperparameters of length K runs K rows from that start.
    """
    (trajectory,) = run_many(landscape, [optimizer], starts, steps, noise, seed, schedule)
    return trajectory


def run_many(
    landscape: Any,
    optimizers: Sequence[Any],
    starts: Any,
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
) -> list[Trajectory]:
    """``run`` for several optimizers in lockstep (one request's runs): one Trajectory per
    optimizer, equal bit for bit to separate ``run`` calls with the same arguments.

    Every optimizer starts from ``starts`` (repeated to its K when it has K per-row
    values) and sees the same noise draws. The trajectories' arrays are views into one
    stacked array.
    """
    state = _prepare(landscape, optimizers, starts, steps, noise, seed, schedule)
    # one block, unless the noise drawn per block would need more than _NOISE_CELLS
    chunk = steps + 1 if state.sigma == 0 else max(1, _NOISE_CELLS // state.rows)
    for _ in state.blocks(chunk):
        pass
    return state.trajectories()
