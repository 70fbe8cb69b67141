"""A scene — one landscape, one start, several optimizers — turned into trajectories and grids.

The HTTP route, the WebSocket and the exporters all go through here, so truncation of
diverged runs, `final_loss`, the run status and the contour colouring are defined once.

Status: how each run ends, classified once when the run is complete by
`optimizers.classify` from its whole path and the landscape's gradient and Hessian (not
from the list of known minima), with its words in every language from static/i18n
(`status.<code>`). `converged_at`/`converged_to` are kept for older clients and agree with
it: the settled step and "global"/"local" when the status is settled_global or
settled_local, else null.

Samples: a gradient-free run (simulated annealing, the genetic algorithm) also has, per
point, the points it evaluated to reach it (`optimizers.Block.samples`): annealing's
proposal, the genetic algorithm's generation. At most SAMPLE_POINTS of them per run are
kept and sent: point i's samples when i % k == 0 (`sample_stride`), none for the others;
non-finite samples are dropped. `evaluations` counts what a run asked of f or ∇f
(`Optimizer.evaluations`), so races that mix the two kinds compare fairly.

Grid colouring: `color = log10(z − floor + eps)` when the landscape's range is wide, else
`z`. "Wide" means the values above the minimum span more than `LOG_COLOR_DECADES` decades
between their 1st percentile and their maximum; it is decided once per landscape on a
reference grid, so the page and an export at another resolution colour alike.
"""

from __future__ import annotations

import contextvars
import math
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np

import landscapes
import optimizers
from app import surfaces
from app.config import DEFAULT_CHUNK, LOG_COLOR_DECADES, SAMPLE_POINTS
from app.palette import race_styles
from app.schemas import LandscapeExpr, RunRecord, RunResult, RunStatus, TrajectoryRequest
from app.words import say, short_number, words
from app.work import ByteLRU

Reached = Literal["global", "local"]  # the kinds of minimum a run can settle in

# Reference grid on which "wide range" and the log floor are decided for each landscape.
_REFERENCE_RESOLUTION = 201
# eps of the log colouring, as a fraction of the reference spread: the minimum sits about
# this many decades below the top of the scale instead of at −∞.
_LOG_EPS_FRACTION = 1e-6


@dataclass(frozen=True)
class Grid:
    """Landscape values on an N×N grid; z[i, j] = f(x[j], y[i]). Arrays are read-only."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    color: np.ndarray
    log_color: bool


def status_json(status: optimizers.Status) -> dict[str, Any]:
    """The API's `status` object: machine code, step, the numbers its words use, and the
    words in every language (static/i18n `status.<code>`, placeholders filled here)."""
    floor = None if status.floor is None or not math.isfinite(status.floor) else status.floor
    values = {"step": status.step, "floor": short_number(floor)}
    text = {
        lang: say(template, **values) for lang, template in words(f"status.{status.code}").items()
    }
    return {"code": status.code, "step": status.step, "floor": floor, "text": text}


def _converged(status: optimizers.Status) -> tuple[int | None, Reached | None]:
    """converged_at / converged_to of older clients, read off the status."""
    if status.code == "settled_global":
        return status.step, "global"
    if status.code == "settled_local":
        return status.step, "local"
    return None, None


Samples = list[np.ndarray | None]  # per point: its finite samples (S', 2), or None (thinned)


def sample_stride(steps: int, sample_count: int) -> int:
    """k: a gradient-free run of `steps` updates with S = `sample_count` samples per point
    keeps point i's samples iff i % k == 0, so at most SAMPLE_POINTS sample points are
    sent, k = ceil((steps + 1) × S / SAMPLE_POINTS)."""
    return max(1, -(-(steps + 1) * sample_count // SAMPLE_POINTS))


def sent_points(request: TrajectoryRequest) -> int:
    """The [x, y] pairs a scene's reply carries at most: every run's points, and a
    gradient-free run's samples as thinned (`sample_stride`). What a stream holds in
    memory grows with it (app.routes.ws)."""
    points = request.steps + 1
    total = 0
    for run in request.runs:
        total += points
        if issubclass(optimizers.get(run.optimizer), optimizers.GradientFree):
            sampler = optimizers.create(run.optimizer, **run.params)
            assert isinstance(sampler, optimizers.GradientFree)
            count = sampler.sample_count()
            total += len(range(0, points, sample_stride(request.steps, count))) * count
    return total


def _finite_rows(samples: np.ndarray) -> np.ndarray:
    """The (S, 2) samples of one point without its non-finite ones (a copy)."""
    return samples[np.isfinite(samples).all(axis=1)]


def sample_lists(entries: Samples | None) -> list[list[tuple[float, float]] | None] | None:
    """Samples as JSON data: per point a list of [x, y], or null where thinned out."""
    if entries is None:
        return None
    return [None if e is None else [(x, y) for x, y in e.tolist()] for e in entries]


@dataclass
class RunOutcome:
    """One optimizer's trajectory, truncated before the first non-finite point."""

    optimizer: str
    params: dict[str, float]
    color: str
    symbol: str
    points: np.ndarray
    losses: np.ndarray
    diverged_at: int | None
    final_loss: float | None
    status: optimizers.Status
    # what each update saw and held (first 0, one entry per point but the last), if asked
    record: optimizers.Record | None = None
    dash: str = "solid"  # the path's line.dash (app.palette), with colour and symbol
    batch: int | None = None  # its mini-batch size; None: the full gradient
    # a gradient-free run's samples, one entry per point (`Samples`); None for a gradient
    # method
    samples: Samples | None = None
    evaluations: int = 0  # values of f (gradient-free) or ∇f asked for, per `evaluations`

    @property
    def converged_at(self) -> int | None:
        return _converged(self.status)[0]

    @property
    def converged_to(self) -> Reached | None:
        return _converged(self.status)[1]

    def to_result(self) -> RunResult:
        return RunResult(
            optimizer=self.optimizer,
            params=self.params,
            color=self.color,
            symbol=self.symbol,
            dash=self.dash,
            points=[tuple(p) for p in self.points.tolist()],
            losses=self.losses.tolist(),
            diverged_at=self.diverged_at,
            final_loss=self.final_loss,
            converged_at=self.converged_at,
            converged_to=self.converged_to,
            status=RunStatus.model_validate(status_json(self.status)),
            record=None if self.record is None else record_reply(self.record),
            batch=self.batch,
            samples=sample_lists(self.samples),
            evaluations=self.evaluations,
        )


def record_reply(record: optimizers.Record) -> RunRecord:
    """The API's RunRecord; a value that overflowed (a buffer can, where the point did not)
    becomes null, as JSON has no infinity."""

    def pairs(values: np.ndarray) -> list[Any]:
        shown = values.astype(object)
        shown[~np.isfinite(values)] = None
        listed: list[Any] = shown.tolist()
        return listed

    return RunRecord(
        grads=pairs(record.grads),
        lrs=pairs(record.lrs),
        state={name: pairs(values) for name, values in record.state.items()},
    )


@dataclass
class _Tracker:
    """Running diverged_at / final_loss of one run, fed block by block; it keeps the
    finite points so that the status can be classified once the run is complete, and a
    gradient-free run's samples of every `sample_every`-th of them."""

    sample_every: int | None = None  # k of `sample_stride`; None: a gradient method
    count: int = 0
    diverged_at: int | None = None
    final_loss: float | None = None
    blocks: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    records: list[optimizers.Record] = field(default_factory=list)
    # the samples of the kept points i with i % sample_every == 0, in order, block by block
    # ((m, S, 2) arrays: one per block, not one per point, which costs 10× the memory)
    sampled: list[np.ndarray] = field(default_factory=list)

    def feed(self, points: np.ndarray, losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take the next block; return its finite prefix (empty once the run diverged)."""
        if self.diverged_at is not None:
            return points[:0], losses[:0]
        finite = np.isfinite(points).all(axis=1) & np.isfinite(losses)
        if not finite.all():
            keep = int(np.argmin(finite))
            self.diverged_at = self.count + keep
            points, losses = points[:keep], losses[:keep]
        if len(losses):
            self.final_loss = float(losses[-1])
            self.blocks.append((points, losses))
        self.count += len(losses)
        return points, losses

    def feed_samples(self, samples: np.ndarray, kept: int) -> Samples:
        """Take the samples (n, S, 2) of the block just fed, whose first `kept` points were
        kept; return those points' entries (finite samples, or None where thinned out)."""
        every = self.sample_every
        assert every is not None, "a gradient method has no samples"
        first = -(self.count - kept) % every  # the block's first kept index i % k == 0
        rows = np.array(samples[first:kept:every])
        self.sampled.append(rows)
        entries: Samples = [None] * kept
        for n, j in enumerate(range(first, kept, every)):
            entries[j] = _finite_rows(rows[n])
        return entries

    def samples(self) -> Samples | None:
        """Every kept point's entry (None for a gradient method): made anew at each call."""
        every = self.sample_every
        if every is None:
            return None
        if len(self.sampled) > 1:  # one array from here on
            self.sampled = [np.concatenate(self.sampled)]
        entries: Samples = [None] * self.count
        for n, rows in enumerate(self.sampled[0] if self.sampled else ()):
            entries[n * every] = _finite_rows(rows)
        return entries

    def updates(self) -> int:
        """Updates taken: the index of the last finite point (0 if there is none)."""
        return max(0, self.count - 1)

    def feed_record(self, record: optimizers.Record) -> optimizers.Record | None:
        """Take the record of the block just fed (one row); return the updates that made
        its kept points (None if there are none)."""
        made = self.count - 1 - record.first  # the updates up to the last kept point
        count = max(0, min(made, len(record.lrs)))
        if count == 0:
            return None
        kept = optimizers.Record(
            record.first,
            record.grads[:count, 0],
            record.lrs[:count, 0],
            {name: values[:count, 0] for name, values in record.state.items()},
        )
        self.records.append(kept)
        return kept

    def record(self) -> optimizers.Record | None:
        """Every kept update's record in one piece (first 0), or None if none was fed."""
        if not self.records:
            return None
        if len(self.records) > 1:
            parts = self.records
            self.records = [
                optimizers.Record(
                    0,
                    np.concatenate([r.grads for r in parts]),
                    np.concatenate([r.lrs for r in parts]),
                    {
                        name: np.concatenate([r.state[name] for r in parts])
                        for name in parts[0].state
                    },
                )
            ]
        return self.records[0]

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        """Every finite point and loss fed so far, in one piece."""
        if not self.blocks:
            return np.empty((0, 2)), np.empty(0)
        if len(self.blocks) > 1:  # one array from here on: status and path share it
            self.blocks = [
                (
                    np.concatenate([b[0] for b in self.blocks]),
                    np.concatenate([b[1] for b in self.blocks]),
                )
            ]
        return self.blocks[0]

    def status(self, landscape: Any, noise: float) -> optimizers.Status:
        """How the run ends, from every point fed so far (call once it is complete)."""
        points, losses = self.path()
        return optimizers.classify(landscape, points, losses, self.diverged_at, noise)


@dataclass
class _PreparedRun:
    name: str
    optimizer: Any
    params: dict[str, float]
    color: str
    symbol: str
    tracker: _Tracker
    record: bool = False
    dash: str = "solid"
    batch: int | None = None  # mini-batch size (a landscape over data); None: full batch


# classify's `noise` for a run whose gradient is random only through its mini-batches:
# the status rules ask only whether the gradient is noisy (noise > 0), not how much.
BATCH_NOISE = 1.0


@dataclass
class Scene:
    """A validated request resolved against the core: landscape, optimizer objects, colours.

    Single use: its trackers fill in as `compute` or `stream_chunks` goes through it.
    """

    landscape: Any
    start: np.ndarray  # (1, 2)
    steps: int
    noise: float
    seed: int
    schedule: Any = None  # one per request, like the landscape, start, steps and noise
    runs: list[_PreparedRun] = field(default_factory=list)

    def meta(self) -> list[dict[str, Any]]:
        return [
            {
                "optimizer": r.name,
                "params": r.params,
                "color": r.color,
                "symbol": r.symbol,
                "dash": r.dash,
                "record": r.record,
                "buffers": list(r.optimizer.buffers()) if r.record else [],
                "batch": r.batch,
            }
            for r in self.runs
        ]

    def lr_factors(self) -> list[float] | None:
        """factor(t) of the schedule for updates t = 0 … steps − 1; None without one.

        Run i's learning rate at update t is params["lr"] × factor(t): the page draws ηₜ.
        """
        if self.schedule is None:
            return None
        factors: list[float] = np.asarray(self.schedule.factors(self.steps), dtype=float).tolist()
        return factors  # one C call: 10,000 factors of a long scene

    def noise_of(self, run: _PreparedRun) -> float:
        """The noise `optimizers.classify` is told of: the scene's, or BATCH_NOISE for a
        run on mini-batches smaller than the data (its gradient is random too); none for
        a gradient-free run, whose path the gradient's noise does not touch, so neither
        does its status (an annealing chain that cools settles, one that stays hot keeps
        "oscillating"; the genetic algorithm's best member only ever improves)."""
        if isinstance(run.optimizer, optimizers.GradientFree):
            return 0.0
        if self.noise > 0:
            return self.noise
        samples = getattr(self.landscape, "samples", 0)
        return BATCH_NOISE if run.batch is not None and run.batch < samples else 0.0

    def summary(self) -> list[dict[str, Any]]:
        """How each run ended (the WebSocket's `done`): classified here, once per run,
        with what it asked of f or ∇f (`evaluations`)."""
        rows = []
        for r in self.runs:
            status = r.tracker.status(self.landscape, self.noise_of(r))
            converged_at, converged_to = _converged(status)
            rows.append(
                {
                    "optimizer": r.name,
                    "diverged_at": r.tracker.diverged_at,
                    "final_loss": r.tracker.final_loss,
                    "converged_at": converged_at,
                    "converged_to": converged_to,
                    "status": status_json(status),
                    "evaluations": r.optimizer.evaluations(r.tracker.updates()),
                }
            )
        return rows


def _resolved_params(opt: Any) -> dict[str, float]:
    return {name: float(np.asarray(value).reshape(-1)[0]) for name, value in opt.params.items()}


def _schedule(request: TrajectoryRequest) -> Any:
    if request.schedule is None:
        return None
    # A cosine schedule without t_max: the core takes the run's steps, as the spec says.
    return optimizers.schedule(request.schedule.kind, **request.schedule.options())


def prepare(request: TrajectoryRequest) -> Scene:
    """Resolve names and defaults; ValueError (→ 422) for anything the core rejects."""
    f = surfaces.resolve(request.landscape)
    start = f.default_start if request.start is None else request.start
    names = [run.optimizer for run in request.runs]
    scene = Scene(
        landscape=f,
        start=np.asarray(start, dtype=float).reshape(1, 2),
        steps=request.steps,
        noise=request.noise,
        seed=request.seed,
        schedule=_schedule(request),
    )
    for run, style in zip(request.runs, race_styles(names), strict=True):
        opt = optimizers.create(run.optimizer, **run.params)
        every = None
        if isinstance(opt, optimizers.GradientFree):
            every = sample_stride(request.steps, opt.sample_count())
        scene.runs.append(
            _PreparedRun(
                name=run.optimizer,
                optimizer=opt,
                params=_resolved_params(opt),
                color=style.color,
                symbol=style.symbol,
                dash=style.dash,
                tracker=_Tracker(sample_every=every),
                record=run.record,
                batch=run.batch,
            )
        )
    return scene


def _lockstep(scene: Scene, chunk: int) -> Generator[list[optimizers.Block]]:
    """Every run of the scene advanced together (one gradient call per update for all).

    Runs on different mini-batch sizes are one lockstep group per size, block by block;
    every group draws its batches from the scene's seed (common random numbers: SGD with
    batch 8 here is SGD with batch 8 alone, bit for bit).
    """
    sizes = list(dict.fromkeys(run.batch for run in scene.runs))
    groups = [
        ([i for i, run in enumerate(scene.runs) if run.batch == size], size) for size in sizes
    ]
    streams = [
        optimizers.stream_many(
            scene.landscape,
            [scene.runs[i].optimizer for i in members],
            scene.start,
            scene.steps,
            noise=scene.noise,
            seed=scene.seed,
            schedule=scene.schedule,
            chunk=chunk,
            record=[scene.runs[i].record for i in members],
            batch=size,
        )
        for members, size in groups
    ]
    if len(streams) == 1:
        return streams[0]
    return _merged(streams, [members for members, _ in groups], len(scene.runs))


def _merged(
    streams: list[Generator[list[optimizers.Block]]], members: list[list[int]], count: int
) -> Generator[list[optimizers.Block]]:
    """Lockstep groups' blocks as one list per block, in the scene's run order."""
    try:
        for parts in zip(*streams, strict=True):
            blocks: list[Any] = [None] * count
            for indices, part in zip(members, parts, strict=True):
                for i, block in zip(indices, part, strict=True):
                    blocks[i] = block
            yield blocks
    finally:
        for stream in streams:
            stream.close()


# Steps per lockstep block of a whole computation, between two cancellation checks:
# 12 runs × 500 steps take about 0.1 s.
COMPUTE_BLOCK = 500


def compute(request: TrajectoryRequest) -> list[RunOutcome]:
    """Every run of the scene, whole; the same noise sequence for each (common random numbers)."""
    outcomes = compute_prepared(prepare(request))
    assert outcomes is not None  # only a cancelled computation has none
    return outcomes


def compute_prepared(
    scene: Scene,
    cancel: threading.Event | None = None,
    after_block: Callable[[int], None] | None = None,
    chunk: int = COMPUTE_BLOCK,
) -> list[RunOutcome] | None:
    """`compute` of a prepared scene, `chunk` steps at a time in lockstep (equal, bit for
    bit, to one `optimizers.run_many`); None as soon as `cancel` is set, which is checked
    before every block, so a REST request whose client left stops within one block.
    `after_block(offset)` is called after each block (tests count them)."""
    groups = _lockstep(scene, chunk)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                return None
            group = next(groups, None)
            if group is None:
                break
            for run, block in zip(scene.runs, group, strict=True):
                _, losses = run.tracker.feed(block.points[:, 0, :], block.losses[:, 0])
                if block.samples is not None:
                    run.tracker.feed_samples(block.samples[:, 0], len(losses))
                if block.record is not None:
                    run.tracker.feed_record(block.record)
            if after_block is not None:
                after_block(int(group[0].offset))
            if all(run.tracker.diverged_at is not None for run in scene.runs):
                break  # nothing more to keep: every run is truncated here
    finally:
        groups.close()
    outcomes = []
    for run in scene.runs:
        points, losses = run.tracker.path()
        outcomes.append(
            RunOutcome(
                optimizer=run.name,
                params=run.params,
                color=run.color,
                symbol=run.symbol,
                dash=run.dash,
                points=points,
                losses=losses,
                diverged_at=run.tracker.diverged_at,
                final_loss=run.tracker.final_loss,
                status=run.tracker.status(scene.landscape, scene.noise_of(run)),
                record=run.tracker.record(),
                batch=run.batch,
                samples=run.tracker.samples(),
                evaluations=run.optimizer.evaluations(run.tracker.updates()),
            )
        )
    return outcomes


@dataclass(frozen=True)
class Chunk:
    """The next finite points of one run: `points[i]` is step `offset + i` of run `run`."""

    run: int
    offset: int
    points: np.ndarray  # (n, 2)
    losses: np.ndarray  # (n,)
    record: optimizers.Record | None = None  # the updates that made these points, if asked
    # a gradient-free run's samples of these points (the tracker's thinning); else None
    samples: Samples | None = None


def stream_chunks(scene: Scene, chunk: int = DEFAULT_CHUNK) -> Generator[Chunk, None, None]:
    """The scene's runs block by block, runs interleaved; app.routes.ws sends each one.

    Interleaving yields every optimizer's first block before any second block, so all
    paths start drawing at once. The runs advance in lockstep (`optimizers.stream_many`):
    the first `next()` of a block computes that block for every run, the others only hand
    it over; the caller checks for cancellation between them. A diverged run yields
    nothing more; once every run has diverged the computation stops.
    """
    groups = _lockstep(scene, chunk)
    try:
        for blocks in groups:
            for i, (run, block) in enumerate(zip(scene.runs, blocks, strict=True)):
                if run.tracker.diverged_at is not None:
                    continue
                offset, points, losses = block
                points, losses = run.tracker.feed(points[:, 0, :], losses[:, 0])
                samples = None
                if block.samples is not None:
                    samples = run.tracker.feed_samples(block.samples[:, 0], len(losses))
                record = None if block.record is None else run.tracker.feed_record(block.record)
                if len(losses):
                    yield Chunk(i, int(offset), points, losses, record, samples)
            if all(run.tracker.diverged_at is not None for run in scene.runs):
                break
    finally:
        groups.close()


class ChunkStream:
    """`stream_chunks` made safe to advance from any worker thread, one call at a time.

    A thread pool runs each call in a fresh context, and a generator that held a context
    variable (`np.errstate` is one) across its yields would see it vanish; the core opens
    `np.errstate` only inside a block today, but every step — and the final close — runs
    inside one `contextvars.Context` owned by this stream, so that never matters.
    """

    def __init__(self, scene: Scene, chunk: int = DEFAULT_CHUNK) -> None:
        self._context = contextvars.copy_context()
        self._chunks = stream_chunks(scene, chunk)

    def next(self) -> Chunk | None:
        """The next chunk, or None when every run is done."""
        return self._context.run(next, self._chunks, None)

    def close(self) -> None:
        self._context.run(self._chunks.close)


# --- grids --------------------------------------------------------------------------


@dataclass(frozen=True)
class _ColorScale:
    log: bool
    floor: float
    eps: float


def _values(f: Any, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (xmin, xmax), (ymin, ymax) = f.bounds
    x = np.linspace(xmin, xmax, resolution)
    y = np.linspace(ymin, ymax, resolution)
    xx, yy = np.meshgrid(x, y)  # xx[i, j] = x[j], yy[i, j] = y[i]
    with np.errstate(all="ignore"):
        z = np.asarray(f.value(np.stack([xx, yy], axis=-1)), dtype=float)
    return x, y, z


# The page draws about this many linear contour levels. A landscape whose lowest tenth
# (by area) lies within the lowest of them shows its basin, and noise hovering in it, as one
# flat colour: Booth (0 … 2600 over its bounds, the noise preset) is the case in point.
_LINEAR_LEVELS = 26


LandscapeRef = str | LandscapeExpr  # a registry name or a typed function (hashable)


@lru_cache(maxsize=64)
def _color_scale(name: LandscapeRef) -> _ColorScale:
    """Decided once per landscape on the reference grid (see the module docstring).

    Cache budget: one entry (three numbers, under 200 bytes) per registered landscape or
    typed function — an unknown name raises before anything is kept — so at most 64 × 1 kB.

    Log colours when the values above the minimum span more than LOG_COLOR_DECADES decades
    between their 1st percentile and their maximum, or when their lowest tenth would fit in
    one of `_LINEAR_LEVELS` linear levels (the basin would be one colour).
    """
    f = surfaces.resolve(name)
    _, _, z = _values(f, _REFERENCE_RESOLUTION)
    z = z[np.isfinite(z)]
    known = [m.value for m in f.minima if m.kind == "global"]
    floor = float(min([z.min(), *known]))
    above = z - floor
    spread = float(above.max())
    low = float(np.percentile(above, 1))
    tenth = float(np.percentile(above, 10))
    wide = spread > 0 and (
        low <= 0 or math.log10(spread / low) > LOG_COLOR_DECADES or tenth < spread / _LINEAR_LEVELS
    )
    return _ColorScale(log=wide, floor=floor, eps=max(spread * _LOG_EPS_FRACTION, 1e-300))


# Grids kept, by bytes of their arrays: an 800×800 grid is 10.3 MB, the page's 150×150 one
# 0.36 MB, so every landscape at the page's resolution plus a few export sizes fit.
GRID_BUDGET = 48 * 2**20
GRID_MAX_ENTRY = 12 * 2**20


def _grid_bytes(g: Grid) -> int:
    return g.x.nbytes + g.y.nbytes + g.z.nbytes + g.color.nbytes


grid_cache: ByteLRU[tuple[LandscapeRef, int], Grid] = ByteLRU(
    GRID_BUDGET, GRID_MAX_ENTRY, _grid_bytes
)


def grid(landscape_name: LandscapeRef, resolution: int) -> Grid:
    """The landscape on a resolution × resolution grid over its bounds, with contour colours.

    Cached per (name, resolution) in `grid_cache` (GRID_BUDGET bytes): landscapes are pure,
    and the page asks for the same grid every time a scene is redrawn. ValueError for an
    unknown name (lists the valid ones).
    """
    key = (landscape_name, resolution)
    cached = grid_cache.get(key)
    if cached is not None:
        return cached
    f = surfaces.resolve(landscape_name)
    x, y, z = _values(f, resolution)
    g = _colored(landscape_name, x, y, z)
    grid_cache.put(key, g)
    return g


def window_grid(
    landscape_name: LandscapeRef,
    resolution: int,
    window: tuple[tuple[float, float], tuple[float, float]],
) -> Grid:
    """The landscape over `window` ((xmin, xmax), (ymin, ymax)): the page's zoomed view.

    Coloured on the landscape's own scale (as over its bounds), so a zoomed contour keeps
    the colour bar's meaning. Not cached: every zoom is a new window, and caching them
    would push the bounds' grids out of `grid`'s cache.
    """
    f = surfaces.resolve(landscape_name)
    (xmin, xmax), (ymin, ymax) = window
    x = np.linspace(xmin, xmax, resolution)
    y = np.linspace(ymin, ymax, resolution)
    xx, yy = np.meshgrid(x, y)  # xx[i, j] = x[j], yy[i, j] = y[i]
    with np.errstate(all="ignore"):
        z = np.asarray(f.value(np.stack([xx, yy], axis=-1)), dtype=float)
    return _colored(landscape_name, x, y, z)


def _colored(name: LandscapeRef, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> Grid:
    scale = _color_scale(name)
    if scale.log:
        with np.errstate(all="ignore"):
            color = np.log10(np.maximum(z - scale.floor, 0.0) + scale.eps)
    else:
        color = z.copy()
    for array in (x, y, z, color):
        array.setflags(write=False)
    return Grid(x=x, y=y, z=z, color=color, log_color=scale.log)


def finite_lists(array: np.ndarray) -> list[Any]:
    """Nested lists for JSON, with any non-finite value as null (JSON has no NaN)."""
    if np.isfinite(array).all():
        return array.tolist()
    cells = array.astype(object)
    cells[~np.isfinite(array)] = None
    return cells.tolist()


def landscape_names() -> tuple[str, ...]:
    return tuple(landscapes.names())
