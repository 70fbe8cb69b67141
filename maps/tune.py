"""A fair race: tune each optimizer's learning rate before racing them.

    result = tune(objective, [Dimension("lr", 1e-4, 10, log=True)], "bayes", budget=20)
    result.best.values, result.best.score         # the lowest score found in 20 trials

    race = tune_race("rosenbrock", [RaceRun("sgd"), RaceRun("adam")], budget=20)
    race.runs[1].results["bayes"].best.values     # Adam's tuned (lr,)

A race at hand-picked learning rates compares the picks more than the optimizers. Here
every optimizer gets the same budget of trials from each of three searches, the ones the
lecture notes teach:

``grid``
    ``budget`` points evenly spaced in the scaled space (log-scale for lr), endpoints
    included. In 2-D a near-square lattice (the lr axis gets the larger count, at most
    twice the other) of at most ``budget`` points; the few trials it leaves over go to the
    centres of evenly chosen lattice cells, so grid spends exactly ``budget`` too.
``random``
    ``budget`` points uniform in the scaled space, from ``numpy.random.default_rng(seed)``.
``bayes``
    A few seeded space-filling points (a Latin hypercube: one in each of n equal slices of
    every axis), then one point at a time: a Gaussian process (``maps.gp``) is fitted to
    every score so far, and the next trial is where the expected improvement over the best
    score is largest, among the snapshot grid's points and RANDOM_CANDIDATES seeded
    random ones. After each fit a `Snapshot` keeps the surrogate's mean, std and the
    expected improvement on the snapshot grid (128 points in 1-D, 32 × 32 in 2-D) and the
    point chosen next: that is the lesson the page draws.

Every search works in the unit box [0, 1]^d (``Dimension.to_unit``): a learning rate from
1e-4 to 10 is five decades, and its interesting part is a ratio, not a difference.

Failed trials. An objective may return +inf or NaN for a run that diverged; the trial keeps
score = +inf (null in JSON). The surrogate cannot take an infinity, so for fitting it sees
a penalty instead: the worst finite score plus a tenth of the finite scores' spread (1 if
they do not spread; 0 when no score is finite). The penalty keeps the surrogate's mean high
over the diverged region without a cliff that would make it ring elsewhere.

Seeded and reproducible: the same space, method, budget and seed give the same trials.

`tune_race` wires this to the optimizers: a trial of optimizer o at values v is the race
itself, ``optimizers.run(f, create(o, lr=v₀, extra=v₁, **params), start, steps, noise,
seed, schedule)`` with one row, and its score is log₁₀(max(final loss − f*, 1e-16)) (+inf
when the run diverged), f* = ``optimizers.status.global_minimum_value(f)``. So the best
trial's score is exactly what the race shows when it is re-run at the best values. Trials
are evaluated in rounds: every search asks for its next points, and all of them run in
one lockstep call (the grid's and random search's whole budget in the first round).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import landscapes
import optimizers
from maps.gp import GaussianProcess, log_expected_improvement
from optimizers.status import global_minimum_value

METHODS: tuple[str, ...] = ("grid", "random", "bayes")

#: Snapshot grid points per axis: 1-D, 2-D.
SNAPSHOT_POINTS = {1: 128, 2: 32}

#: Seeded random candidates added to the snapshot grid when choosing the next trial, so
#: the chosen point is not limited to the grid's resolution.
RANDOM_CANDIDATES = 256

#: ξ of the expected improvement, as a fraction of the surrogate's signal std.
XI = 0.01

#: The score of a run that ends at (or below) f*: log₁₀ of this gap.
GAP_FLOOR = 1e-16

#: Default learning-rate range of `race_space`: the spec's range clipped to this.
LR_RANGE = (1e-4, 10.0)

#: Rows per lockstep call when every trial needs its own noise draws (noise > 0): the
#: runner moves up to this many one-row optimizers on Python floats (runner.FLOAT_ROWS).
NOISY_ROWS = 32


@dataclass(frozen=True)
class Dimension:
    """One searched hyperparameter: [low, high], on a log scale when ``log``."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(
                f"{self.name}: the range must be finite numbers with min < max, "
                f"got [{self.low:g}, {self.high:g}]"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log-scale range must be above 0, got {self.low:g}")

    def _ends(self) -> tuple[float, float]:
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Values → [0, 1] (log10 first on a log scale)."""
        lo, hi = self._ends()
        values = np.asarray(values, dtype=np.float64)
        scaled = np.log10(values) if self.log else values
        result: np.ndarray = (scaled - lo) / (hi - lo)
        return result

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """[0, 1] → values, clipped to [low, high] (10 ** log10(high) may round past it)."""
        lo, hi = self._ends()
        scaled = lo + np.asarray(unit, dtype=np.float64) * (hi - lo)
        values = 10.0**scaled if self.log else scaled
        result: np.ndarray = np.clip(values, self.low, self.high)
        return result


Space = tuple[Dimension, ...]


@dataclass(frozen=True)
class Trial:
    """One evaluation: its place in the search, the hyperparameter values, the score."""

    index: int
    values: tuple[float, ...]
    score: float  #: lower is better; +inf for a failed (diverged) trial


@dataclass(frozen=True)
class Snapshot:
    """The Bayesian search's surrogate after trial ``after``, on the snapshot grid.

    ``mean``, ``std``, ``ei`` have shape (n,) in 1-D and (ny, nx) in 2-D: row j is the
    second dimension's j-th grid value, column i the first's (lr) i-th, as Plotly's
    heatmaps take them. Scores are the surrogate's: failed trials at their penalty.
    """

    after: int
    mean: np.ndarray
    std: np.ndarray
    ei: np.ndarray
    best: float  #: the score the expected improvement is measured against
    next: tuple[float, ...] | None  #: the values of trial after + 1 (None after the last)
    length_scale: float  #: the GP's ℓ, in the unit box
    variance: float  #: the GP's signal variance σ²


@dataclass(frozen=True)
class TuneResult:
    """One search's trials in order, its best trial, and (bayes) its snapshots."""

    method: str
    space: Space
    budget: int
    seed: int
    trials: tuple[Trial, ...]
    best: Trial | None  #: the lowest finite score (first found on a tie); None if all failed
    grid: tuple[np.ndarray, ...]  #: the snapshot grid's values per dimension
    snapshots: tuple[Snapshot, ...] = ()


def check_budget(budget: int) -> int:
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 2:
        raise ValueError(f"budget must be a whole number of trials >= 2, got {budget!r}")
    return int(budget)


def _check_space(space: Sequence[Dimension]) -> Space:
    space = tuple(space)
    if not 1 <= len(space) <= 2 or not all(isinstance(d, Dimension) for d in space):
        raise ValueError(f"space must be 1 or 2 Dimensions, got {len(space)}")
    if len({d.name for d in space}) != len(space):
        raise ValueError(f"space has a dimension twice: {[d.name for d in space]}")
    return space


def grid_shape(budget: int) -> tuple[int, int]:
    """(nx, ny) of the 2-D grid: the most points ≤ budget with ny ≤ nx ≤ 2 ny, then the
    squarest."""
    best = (0, 0, 0)
    for ny in range(1, budget + 1):
        for nx in range(ny, 2 * ny + 1):
            if nx * ny <= budget and (nx * ny, ny - nx) > (best[0] * best[1], best[1] - best[0]):
                best = (nx, ny, 0)
    return best[0], best[1]


def grid_unit(budget: int, dims: int) -> np.ndarray:
    """The grid search's points in the unit box, (budget, dims), in the order they run."""
    if dims == 1:
        return np.linspace(0.0, 1.0, budget)[:, None]
    nx, ny = grid_shape(budget)
    xs, ys = np.linspace(0.0, 1.0, nx), np.linspace(0.0, 1.0, ny)
    lattice = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # lr varies fastest
    left = budget - nx * ny
    if not left:
        return lattice
    cells = (nx - 1) * (ny - 1)  # ≥ left for every budget (checked in the tests)
    chosen = np.round(np.linspace(0, cells - 1, left + 2)[1:-1]).astype(int)
    cx = (chosen % (nx - 1) + 0.5) / (nx - 1)
    cy = (chosen // (nx - 1) + 0.5) / (ny - 1)
    return np.concatenate([lattice, np.stack([cx, cy], axis=-1)])


def snapshot_unit(dims: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The snapshot grid: its points (G, dims) in row-major (ny, nx) order, and its axes."""
    n = SNAPSHOT_POINTS[dims]
    axis = np.linspace(0.0, 1.0, n)
    if dims == 1:
        return axis[:, None], (axis,)
    points = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    return points, (axis, axis)


def initial_count(budget: int, dims: int) -> int:
    """Space-filling trials before the Bayesian search fits its first surrogate."""
    return max(2, min(budget // 4, 2 * dims + 1))


def penalized(scores: np.ndarray) -> np.ndarray:
    """Scores for the surrogate: failed (non-finite) ones at a penalty above the worst."""
    finite = np.isfinite(scores)
    if finite.all():
        return scores
    if not finite.any():
        return np.zeros_like(scores)
    worst, best = float(scores[finite].max()), float(scores[finite].min())
    penalty = worst + (0.1 * (worst - best) if worst > best else 1.0)
    return np.where(finite, scores, penalty)


class Search:
    """One method's search over one space: ask for points, tell their scores.

    ``ask()`` returns the values (m, d) to evaluate next (grid and random: every trial at
    once; bayes: the initial points, then one at a time); ``tell(scores)`` records them
    and returns each new trial with the snapshot made after it (bayes, else None).
    """

    def __init__(self, space: Sequence[Dimension], method: str, budget: int, seed: int = 0):
        self.space = _check_space(space)
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
        self.method = method
        self.budget = check_budget(budget)
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        d = len(self.space)
        if method == "grid":
            self._plan = grid_unit(self.budget, d)
        elif method == "random":
            self._plan = self._rng.random((self.budget, d))
        else:
            self._plan = _latin_hypercube(self._rng, initial_count(self.budget, d), d)
        self._grid_unit, axes = snapshot_unit(d)
        self.grid = tuple(dim.from_unit(axis) for dim, axis in zip(self.space, axes, strict=True))
        self._units: list[np.ndarray] = []  # unit coordinates of the trials so far
        self.trials: list[Trial] = []
        self.snapshots: list[Snapshot] = []
        self._pending: np.ndarray | None = None
        self._next = np.empty(0)  # bayes: the unit point chosen by the last fit

    @property
    def done(self) -> bool:
        return len(self.trials) >= self.budget

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Unit-box points (m, d) → hyperparameter values (m, d)."""
        columns = [dim.from_unit(unit[:, i]) for i, dim in enumerate(self.space)]
        return np.stack(columns, axis=-1)

    def ask(self) -> np.ndarray:
        """The values (m, d) to evaluate next; (0, d) once the budget is spent."""
        if self._pending is None and not self.done:
            if len(self.trials) < len(self._plan):
                self._pending = self._plan[len(self.trials) :]
            else:
                self._pending = self._next[None, :]
        if self._pending is None:
            return np.empty((0, len(self.space)))
        return self.values(self._pending)

    def tell(self, scores: np.ndarray) -> list[tuple[Trial, Snapshot | None]]:
        """Record the scores of the points `ask` returned (NaN counts as failed: +inf)."""
        if self._pending is None:
            raise ValueError("tell() needs an ask() first")
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape != (len(self._pending),):
            raise ValueError(f"expected {len(self._pending)} scores, got {scores.shape[0]}")
        scores = np.where(np.isnan(scores), np.inf, scores)
        values = self.values(self._pending)
        new = []
        for unit, row, score in zip(self._pending, values, scores, strict=True):
            self._units.append(unit)
            new.append(Trial(len(self.trials), tuple(float(v) for v in row), float(score)))
            self.trials.append(new[-1])
        self._pending = None
        snapshot = None
        if self.method == "bayes" and len(self.trials) >= len(self._plan):
            snapshot = self._fit()
            self.snapshots.append(snapshot)
        return [(trial, snapshot if i == len(new) - 1 else None) for i, trial in enumerate(new)]

    def _fit(self) -> Snapshot:
        """Fit the surrogate to every trial, pick the next point, keep the picture."""
        X = np.array(self._units)
        y = penalized(np.array([t.score for t in self.trials]))
        fitted = GaussianProcess().fit(X, y)
        best = float(y.min())
        xi = XI * math.sqrt(fitted.variance)
        shape = tuple(len(axis) for axis in reversed(self.grid))  # (n,) or (ny, nx)
        if self.done:
            candidates = self._grid_unit
        else:
            extra = self._rng.random((RANDOM_CANDIDATES, len(self.space)))
            candidates = np.concatenate([self._grid_unit, extra])
        mean, std = fitted.predict(candidates)
        # Ranked by log EI: a confident surrogate's EI underflows to 0 everywhere.
        log_ei = log_expected_improvement(mean, std, best, xi)
        ei = np.exp(log_ei)  # = expected_improvement(...), computed once
        chosen = None
        if not self.done:
            pick = int(np.argmax(log_ei)) if np.isfinite(log_ei).any() else int(np.argmax(std))
            self._next = candidates[pick]
            chosen = tuple(float(v) for v in self.values(self._next[None, :])[0])
        g = len(self._grid_unit)
        return Snapshot(
            after=len(self.trials) - 1,
            mean=mean[:g].reshape(shape),
            std=std[:g].reshape(shape),
            ei=ei[:g].reshape(shape),
            best=best,
            next=chosen,
            length_scale=fitted.length_scale,
            variance=fitted.variance,
        )

    def result(self) -> TuneResult:
        finite = [t for t in self.trials if math.isfinite(t.score)]
        best = min(finite, key=lambda t: t.score) if finite else None
        return TuneResult(
            self.method,
            self.space,
            self.budget,
            self.seed,
            tuple(self.trials),
            best,
            self.grid,
            tuple(self.snapshots),
        )


def _latin_hypercube(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    """n points, one in each of n equal slices of every axis, in random pairings."""
    columns = [(rng.permutation(n) + rng.random(n)) / n for _ in range(dims)]
    return np.stack(columns, axis=-1)


OnTrial = Callable[[Trial, Snapshot | None], None]


def tune(
    objective: Callable[[np.ndarray], np.ndarray],
    space: Sequence[Dimension],
    method: str,
    budget: int,
    seed: int = 0,
    on_trial: OnTrial | None = None,
) -> TuneResult:
    """Minimize ``objective`` over ``space`` with exactly ``budget`` trials of ``method``.

    ``objective(values)`` takes (n, d) hyperparameter rows and returns their n scores
    (+inf or NaN for a failed run). Grid and random search call it once with every row;
    bayes once with its initial points, then once per trial. ``on_trial(trial, snapshot)``
    is called for each trial in order as its score arrives.
    """
    search = Search(space, method, budget, seed)
    while not search.done:
        values = search.ask()
        scores = np.asarray(objective(values), dtype=np.float64)
        for trial, snapshot in search.tell(scores):
            if on_trial is not None:
                on_trial(trial, snapshot)
    return search.result()


# --- the race ------------------------------------------------------------------------------


def race_space(
    optimizer: str,
    lr: tuple[float, float] | None = None,
    extra: tuple[str, float | None, float | None, bool | None] | None = None,
) -> Space:
    """The space tuned for ``optimizer``: lr (log scale; default the spec's range clipped
    to LR_RANGE), then optionally ``extra`` = (name, min, max, log), whose None parts
    default to the spec's. ValueError names a parameter the optimizer lacks or a range
    beyond the spec's."""
    specs = {p.name: p for p in optimizers.spec(optimizer)}
    lr_spec = specs["lr"]
    lr_low, lr_high = lr or (max(lr_spec.min, LR_RANGE[0]), min(lr_spec.max, LR_RANGE[1]))
    dims = [_within(optimizer, lr_spec, lr_low, lr_high, True)]
    if extra is not None:
        name, low, high, log = extra
        if name == "lr":
            others = [n for n in specs if n != "lr"]
            raise ValueError(
                f"lr is always tuned; the extra hyperparameter must be another of "
                f"{optimizer}'s: {', '.join(others)}"
            )
        if name not in specs:
            others = [n for n in specs if n != "lr"]
            raise ValueError(
                f"{optimizer} has no hyperparameter {name!r} to tune with lr; "
                f"valid: {', '.join(others)}"
            )
        spec = specs[name]
        if spec.integer:
            others = [n for n, other in specs.items() if n != "lr" and not other.integer]
            raise ValueError(
                f"{optimizer}: {name} is a 0/1 switch, not a range to search; "
                f"valid: {', '.join(others)}"
            )
        low = spec.min if low is None else low
        high = spec.max if high is None else high
        dims.append(_within(optimizer, spec, low, high, spec.log if log is None else log))
    return tuple(dims)


def _within(optimizer: str, spec: Any, low: float, high: float, log: bool) -> Dimension:
    dim = Dimension(spec.name, float(low), float(high), bool(log))
    if not spec.min <= dim.low < dim.high <= spec.max:
        raise ValueError(
            f"{optimizer}: {spec.name} range [{dim.low:g}, {dim.high:g}] must lie within "
            f"[{spec.min:g}, {spec.max:g}] with min < max"
        )
    return dim


@dataclass(frozen=True)
class RaceRun:
    """One optimizer of the race: fixed ``params``, and the ``space`` searched (lr first)."""

    optimizer: str
    params: dict[str, float] = field(default_factory=dict)
    space: Space | None = None  #: None: race_space(optimizer), lr alone

    def resolved_space(self) -> Space:
        space = race_space(self.optimizer) if self.space is None else _check_space(self.space)
        if space[0].name != "lr":
            raise ValueError(f"{self.optimizer}: the first tuned dimension must be lr")
        return space


@dataclass(frozen=True)
class RaceEvent:
    """A trial as it arrives: run i, its method, the trial, its gap, the snapshot."""

    run: int
    method: str
    trial: Trial
    gap: float  #: final loss − f* (+inf when the run diverged)
    snapshot: Snapshot | None


@dataclass(frozen=True)
class RunTuning:
    """One optimizer's searches: a TuneResult and the trials' gaps per method."""

    optimizer: str
    params: dict[str, float]
    space: Space
    results: dict[str, TuneResult]
    gaps: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class RaceResult:
    f_star: float
    runs: tuple[RunTuning, ...]


class Race:
    """`tune_race` one round at a time (``step()``), so a server can stop between rounds
    and send the trials as they arrive."""

    def __init__(
        self,
        landscape: Any,
        runs: Sequence[RaceRun],
        start: Any = None,
        steps: int = 500,
        noise: float = 0.0,
        seed: int = 0,
        schedule: Any = None,
        budget: int = 20,
        methods: Sequence[str] = METHODS,
        cancel: threading.Event | None = None,
    ) -> None:
        self.cancel = cancel  # checked between lockstep calls: a round stops early
        self.landscape = landscapes.get(landscape) if isinstance(landscape, str) else landscape
        if not runs:
            raise ValueError("runs: at least one optimizer to tune")
        if (
            not methods
            or any(m not in METHODS for m in methods)
            or len(set(methods)) < len(methods)
        ):
            raise ValueError(f"methods must be distinct names among {', '.join(METHODS)}")
        self.runs = tuple(runs)
        self.spaces = [run.resolved_space() for run in self.runs]
        for run, space in zip(self.runs, self.spaces, strict=True):
            tuned = {dim.name for dim in space}
            fixed = {k: v for k, v in run.params.items() if k not in tuned}
            optimizers.create(run.optimizer, **fixed)  # a bad fixed value fails now
        self.start = np.asarray(
            self.landscape.default_start if start is None else start, dtype=np.float64
        )
        self.steps, self.noise, self.seed, self.schedule = steps, float(noise), seed, schedule
        self.methods = tuple(methods)
        self.f_star = global_minimum_value(self.landscape)
        self.searches = [
            {m: Search(space, m, budget, seed) for m in self.methods} for space in self.spaces
        ]
        self.gaps: list[dict[str, list[float]]] = [{m: [] for m in self.methods} for _ in runs]

    @property
    def done(self) -> bool:
        return all(s.done for run in self.searches for s in run.values())

    def step(self) -> list[RaceEvent]:
        """Evaluate every search's next points together; the new trials in order."""
        asked = [
            (i, method, search, search.ask())
            for i, run in enumerate(self.searches)
            for method, search in run.items()
            if not search.done
        ]
        finals = self.final_losses([(i, values) for i, _, _, values in asked])
        if finals is None:
            return []  # cancelled: the searches wait for scores that never come
        events = []
        for (i, method, search, _), final in zip(asked, finals, strict=True):
            gaps = np.where(np.isfinite(final), final - self.f_star, np.inf)
            scores = np.log10(np.maximum(gaps, GAP_FLOOR))  # inf stays inf
            for (trial, snapshot), gap in zip(search.tell(scores), gaps, strict=True):
                self.gaps[i][method].append(float(gap))
                events.append(RaceEvent(i, method, trial, float(gap), snapshot))
        return events

    def final_losses(self, batches: list[tuple[int, np.ndarray]]) -> list[np.ndarray] | None:
        """Final losses (NaN where a run diverged) of run i at each row of values.

        Each row is what a race with that one optimizer at those values computes: without
        noise a row of a per-row-hyperparameter run is bit for bit that (rows never
        interact), so a run's rows go in one optimizer; with noise each row needs the
        noise a one-row run draws, so each row is an optimizer of its own (the runner
        gives each optimizer of a lockstep call that noise: common random numbers).
        None if ``cancel`` was set between two lockstep calls.
        """
        made = []  # (batch, optimizer)
        for b, (i, values) in enumerate(batches):
            run, space = self.runs[i], self.spaces[i]
            base = {k: v for k, v in run.params.items() if k not in {d.name for d in space}}
            if self.noise == 0:
                columns = {dim.name: values[:, j] for j, dim in enumerate(space)}
                made.append((b, optimizers.create(run.optimizer, **base, **columns)))
            else:
                for row in values:
                    scalars = {dim.name: float(v) for dim, v in zip(space, row, strict=True)}
                    made.append((b, optimizers.create(run.optimizer, **base, **scalars)))
        per_batch: list[list[np.ndarray]] = [[] for _ in batches]
        group = len(made) if self.noise == 0 else NOISY_ROWS
        for first in range(0, len(made), group):
            if self.cancel is not None and self.cancel.is_set():
                return None
            part = made[first : first + group]
            for (b, _), final in zip(part, self._finals([opt for _, opt in part]), strict=True):
                per_batch[b].append(final)
        return [np.concatenate(parts) for parts in per_batch]

    def _finals(self, opts: list[Any]) -> list[np.ndarray]:
        """Each optimizer's final losses, NaN where it diverged: ``summary_many`` without
        its settling pass, which a score does not need (equal bit for bit to ``run``'s
        last point, in O(rows) memory)."""
        args = (self.landscape, opts, self.start, self.steps, self.noise, self.seed)
        finals = optimizers.summary_many(*args, self.schedule, settle=False)
        return [s.final_loss for s in finals]

    def result(self) -> RaceResult:
        return RaceResult(
            self.f_star,
            tuple(
                RunTuning(
                    run.optimizer,
                    dict(run.params),
                    space,
                    {m: s.result() for m, s in searches.items()},
                    {m: tuple(g) for m, g in gaps.items()},
                )
                for run, space, searches, gaps in zip(
                    self.runs, self.spaces, self.searches, self.gaps, strict=True
                )
            ),
        )


def tune_race(
    landscape: Any,
    runs: Sequence[RaceRun],
    start: Any = None,
    steps: int = 500,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
    budget: int = 20,
    methods: Sequence[str] = METHODS,
    on_trial: Callable[[RaceEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> RaceResult | None:
    """Tune every run's space by every method with ``budget`` trials each (see the module
    docstring); None if ``cancel`` was set (checked between rounds)."""
    race = Race(landscape, runs, start, steps, noise, seed, schedule, budget, methods, cancel)
    while not race.done:
        events = race.step()
        if cancel is not None and cancel.is_set():
            return None
        for event in events:
            if on_trial is not None:
                on_trial(event)
    return race.result()
