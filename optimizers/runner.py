"""The trajectory runner: the one loop that moves K points with an optimizer.

``stream`` yields the trajectory in blocks while it computes (the WebSocket sends each
block at once); ``run`` consumes the same generator into one Trajectory, so the two can
never disagree.

Per update t = 0 … steps − 1, for all K rows at once:

1. g = ∇f(θ_t) (+ σ·z_t with z_t the t-th (K, 2) draw of ``default_rng(seed)``),
2. θ_{t+1} = update(g, state, θ_t, lr·factor(t)).

Losses are computed per block in one vectorized call, and divergence is checked per
block: rows never interact, so a row that blew up may keep computing garbage (under
``np.errstate(all="ignore")``) until the block ends without changing any other row —
then its first bad point and everything after become NaN. That keeps the per-update
work down to the gradient and the update itself.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.base import Optimizer
from optimizers.schedules import Schedule
from optimizers.schedules import schedule as make_schedule

#: A coordinate beyond this magnitude counts as diverged (SPEC "Noise, divergence").
LIMIT = 1e6

#: Point-rows (points × K) per block when ``run`` picks the block size itself.
_BLOCK_CELLS = 1 << 15


@dataclass(frozen=True)
class Trajectory:
    """points (steps + 1, K, 2), losses (steps + 1, K), diverged_at (K,) (-1 = never)."""

    points: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray


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


def _prepare(
    landscape: Any,
    optimizer: Any,
    starts: Any,
    steps: Any,
    noise: Any,
    seed: Any,
    schedule: Any,
) -> _Run:
    f, opt, sched = _resolve(landscape, optimizer, schedule)
    steps = _check_int("steps", steps, 0)
    seed = _check_int("seed", seed, 0)
    if isinstance(noise, bool | np.bool_) or not isinstance(noise, numbers.Real):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    sigma = float(noise)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return _Run(f, opt, _check_starts(starts, opt.rows), steps, sigma, seed, sched)


class _Run:
    """The preallocated output of one run and the loop that fills it, block by block."""

    def __init__(
        self,
        f: Any,
        opt: Optimizer,
        start: np.ndarray,
        steps: int,
        sigma: float,
        seed: int,
        sched: Schedule,
    ) -> None:
        self.f, self.opt, self.steps, self.sigma, self.seed = f, opt, steps, sigma, seed
        self.rows = start.shape[0]
        self.points = np.empty((steps + 1, self.rows, 2))
        self.losses = np.empty((steps + 1, self.rows))
        self.points[0] = start
        self.diverged_at = np.full(self.rows, -1, dtype=np.int64)
        self.factors = sched.factors(steps)

    def blocks(self, chunk: int) -> Iterator[Block]:
        f, opt, points, losses, rows = self.f, self.opt, self.points, self.losses, self.rows
        steps, sigma, factors = self.steps, self.sigma, self.factors
        dead = np.zeros(rows, dtype=bool)
        base_lr = opt.h["lr"]
        constant = bool((factors == 1.0).all())
        if isinstance(base_lr, np.ndarray):
            lr_buffer = np.empty_like(base_lr)
        else:
            scalar_lrs = (base_lr * factors).tolist()  # python floats, as group["lr"] holds
        rng = np.random.default_rng(self.seed) if sigma > 0 else None
        grad_buffer = np.empty((rows, 2))

        with np.errstate(all="ignore"):
            state = opt.init(points[0])
            for offset in range(0, steps + 1, chunk):
                end = min(offset + chunk, steps + 1)
                first = max(offset, 1)  # index of the point the block's first update makes
                if rng is not None and end > first:
                    # one call draws the same numbers as one (K, 2) draw per update
                    drawn = rng.standard_normal((end - first, rows, 2))
                    drawn *= sigma
                for i in range(first, end):
                    t = i - 1
                    grad = f.grad(points[t])
                    if rng is not None:
                        grad = np.add(grad, drawn[i - first], out=grad_buffer)
                    if isinstance(base_lr, np.ndarray):
                        lr = base_lr if constant else np.multiply(base_lr, factors[t], lr_buffer)
                    else:
                        lr = scalar_lrs[t]
                    _, state = opt.update(grad, state, points[t], lr, points[i])

                block_points = points[offset:end]
                block_losses = losses[offset:end]
                block_losses[...] = f.value(block_points)
                _mark_divergence(block_points, block_losses, offset, dead, self.diverged_at)
                yield Block(
                    offset,
                    _readonly(block_points),
                    _readonly(block_losses),
                    self.diverged_at.copy(),
                )


def _mark_divergence(
    points: np.ndarray,
    losses: np.ndarray,
    offset: int,
    dead: np.ndarray,
    diverged_at: np.ndarray,
) -> None:
    """Find each row's first bad point in this block; NaN it and everything after."""
    bad = ~(np.abs(points) <= LIMIT).all(axis=-1)  # NaN compares False, so it counts too
    bad |= ~np.isfinite(losses)
    bad |= dead[None, :]
    if not bad.any():
        return
    hit = bad.any(axis=0)
    first = np.argmax(bad, axis=0)
    newly = hit & ~dead
    diverged_at[newly] = offset + first[newly]
    dead |= hit
    mask = (np.arange(points.shape[0])[:, None] >= first[None, :]) & hit[None, :]
    points[mask] = np.nan
    losses[mask] = np.nan


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
    chunk = _check_int("chunk", chunk, 1)
    return _prepare(landscape, optimizer, starts, steps, noise, seed, schedule).blocks(chunk)


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
    state = _prepare(landscape, optimizer, starts, steps, noise, seed, schedule)
    for _ in state.blocks(max(1, _BLOCK_CELLS // state.rows)):
        pass
    return Trajectory(state.points, state.losses, state.diverged_at)
