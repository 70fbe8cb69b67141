"""How a run ends, read from its trajectory and the landscape's gradient and Hessian.

    status = optimizers.classify(f, points, losses, diverged_at, noise)
    status.code    # "settled_local", …   status.step  # the step it settled (or diverged)

The list of known minima plays no part: a run is judged by where its path stops and by
what Newton's method finds next to that point. Every length is measured in units of the
view, ``span`` = the larger side of ``f.bounds``, so Styblinski–Tang's wide view and the
saddle's small one are judged alike; every tolerance below is a fraction of it, chosen so
that "settled" means "has stopped at the scale the plot shows".

The rules, in the order they are tried (``window`` = the last tenth of the run, at least
``MIN_WINDOW`` updates):

``diverged``
    The runner stopped the row (a non-finite value or a coordinate beyond 1e6);
    ``step`` is ``diverged_at``.
``hovering`` (only with noise > 0)
    The window's points jitter around a minimum: Newton's method started at the cloud's
    centre finds a stationary point with a positive definite Hessian, and every point of
    the window lies within ``NEAR`` of it. ``floor`` = the mean of
    f − f(minimum) over the window: what the noise costs. With noisy gradients nothing
    converges, so even a tight cloud reports its floor instead of "settled".
``settled_global`` / ``settled_local``
    The path stays within ``STAY`` (1 % of the view) of its end point for the whole
    window and Newton's method
    from the end point finds a stationary point within ``AT_MINIMUM`` (2 % of the view)
    whose Hessian is positive definite. Global when that point's value is the landscape's
    global minimum value f* within ``VALUE_TOLERANCE`` (relative); f* comes from the
    metadata, or from the grid's lowest point polished by Newton's method. ``step`` is
    the first step after which both the path stays within ``STAY`` of its end and the
    loss stays within ``LOSS_SETTLED`` (0.1 %) of the run's descent f_0 − f_end of its
    final value (or within the window's own spread of losses, for a run that rattles).
    The path alone says too early where a dip is wide at the view's scale: Momentum on
    the Rastrigin preset stays within 1 % of the view from step 73, where f = 3.82, but
    f is still falling (2.48 at step 100, 2.03 at 150, 1.99 at 300); the loss rule moves
    its step to 139 (f = 2.06). Measured on every preset (path step → settled step):
    Rastrigin SGD 7 → 8, NAG 7 → 9, AdaGrad 7 → 14, Adam 22 → 63, Momentum 73 → 139,
    RMSprop 62 → 205 (its loss bounces between 24.97 and 25.23 until then); Rosenbrock
    Momentum 713 and Adam 890, the ill-conditioned bowl's AdaGrad 26, the divergence
    preset's Adam 61, warmup SGD 46 and Adam 79 unchanged; warmup Momentum 66 → 68.
``stalled_saddle``
    Newton's method finds a stationary point within ``NEAR`` of the end whose Hessian is
    indefinite, and the path has stopped there or is barely moving: its mean step over
    the window is at most ``SLOW`` (a tenth) of its mean step over the first window.
    Plain SGD on the saddle preset ends 0.06 from (0, 0) (1.5 % of the view), still
    leaving at a twentieth of its early speed: stalled, not settled. ``step`` is the
    first step after which the path stays within ``NEAR`` of the saddle point.
``oscillating`` (only without noise, which makes every path zig-zag)
    Bounded back and forth: over the window the path length is at least ``BACK_AND_FORTH``
    times the net displacement. SGD with lr = 1 on x²/20 + y² flips y every step forever.
``moving``
    Everything else: still descending, crawling along a valley, or running off towards
    −∞ (Momentum on the saddle reaches f = −2.2e11 before any coordinate passes 1e6).

Why these sizes: 1 % of the view is a few pixels on a projected plot, and the presets
need it — Adam on Rosenbrock still creeps 0.035 (0.9 %) towards (1, 1) over its last 100
of 1000 steps, 0.04 away; RMSprop in Rastrigin's dip rattles with amplitude 0.07 (0.7 %).
2 % for "at the minimum" admits Adam on Rosenbrock (1.0 % away) but not plain SGD on
Beale (lr 1e-3, 2000 steps from (1, 1.4)), which stops moving at the plot's scale (0.4 %
over its last 200 steps) 0.31 (3.4 %) short of (3, 0.5): still crawling, "moving". Newton's method,
polished to convergence, places the stationary point exactly, so the global/local
decision compares exact values, not the value at the end point. Momentum and Adam
on the ill-conditioned bowl still swing 0.30 and 0.23 (1.5 % and 1.2 %) over the last
tenth of their 60 steps: moving. With noise σ = 3 on Booth (the noise preset, seeds 0–7)
the last tenth stays within 0.5 of the minimum, inside ``NEAR`` (1.0), while its centre wanders
by up to five cloud radii between samples, which is why hovering is not judged by
the centre. Halving SGD's learning rate there takes the floor (mean over seeds 0–7) to
0.53 of itself (tests/app/test_presets.py asserts 0.35–0.7).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

import numpy as np

Code = Literal[
    "diverged",
    "settled_global",
    "settled_local",
    "stalled_saddle",
    "oscillating",
    "hovering",
    "moving",
]
CODES: tuple[Code, ...] = get_args(Code)

STAY = 1e-2  # × span: a settled path stays this close to its end point over the window
NEAR = 5e-2  # × span: a stationary point this close to the end is the one it is heading for
AT_MINIMUM = 2e-2  # × span: a settled path ends this close to its minimum
SLOW = 0.1  # mean step over the window ÷ over the first window: "barely moving"
BACK_AND_FORTH = 3.0  # path length ÷ net displacement over the window: oscillating
WINDOW_FRACTION = 0.1  # the window is the last tenth of the run …
MIN_WINDOW = 5  # … but at least this many updates
LOSS_SETTLED = 1e-3  # × the run's descent f_0 − f_end: a settled loss stays this close to f_end
VALUE_TOLERANCE = 1e-6  # |f(minimum) − f*| ≤ this × max(1, |f*|): the global minimum
NEWTON_ITERATIONS = 20  # quadratic convergence: a handful suffice from within NEAR
_GRID = 201  # points per side of the grid that finds f* when the metadata has none


@dataclass(frozen=True)
class Status:
    """How one run ends. ``step`` is where it settled, stalled or diverged (else None);
    ``point``/``loss`` are its last finite point and loss; ``floor`` is the noise floor
    of a hovering run (mean f − f(minimum) over the window), else None."""

    code: Code
    step: int | None
    point: tuple[float, float] | None
    loss: float | None
    floor: float | None = None


def span(landscape: Any) -> float:
    """The larger side of the landscape's bounds: the unit of every tolerance here."""
    (xmin, xmax), (ymin, ymax) = landscape.bounds
    return float(max(xmax - xmin, ymax - ymin))


def stationary(landscape: Any, start: np.ndarray, reach: float) -> np.ndarray | None:
    """The stationary point Newton's method reaches from ``start`` without leaving a disc
    of radius ``reach`` around it, or None (no such point, or a singular Hessian)."""
    point = stationary_rows(landscape, np.asarray(start, dtype=float).reshape(1, 2), reach)[0]
    return None if np.isnan(point[0]) else point


def stationary_rows(landscape: Any, starts: np.ndarray, reach: float) -> np.ndarray:
    """`stationary` for each row of ``starts`` (K, 2) at once: (K, 2), NaN where none.

    Each row takes the same Newton steps as it would alone (a batched solve is one 2 × 2
    solve per row), so a basin map's rows are judged exactly as a single run is.
    """
    starts = np.asarray(starts, dtype=float).reshape(-1, 2)
    points = starts.copy()
    active = np.arange(len(points))
    failed = np.zeros(len(points), dtype=bool)
    for _ in range(NEWTON_ITERATIONS):
        if active.size == 0:
            break
        here = points[active]
        steps = _solve_rows(landscape.hessian(here), landscape.grad(here))
        bad = ~np.isfinite(steps).all(axis=1)
        moved = here - steps
        away = np.hypot(*(moved - starts[active]).T) > reach
        gone = bad | away
        failed[active[gone]] = True
        points[active[~bad]] = moved[~bad]
        done = np.hypot(*steps.T) <= 1e-12 * (1.0 + np.hypot(*moved.T))
        active = active[~gone & ~done]
    points[failed] = np.nan
    return points


def _solve_rows(hessians: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """H⁻¹g per row; NaN for a row whose Hessian LAPACK finds singular."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(hessians, grads[..., None])[..., 0]
        except np.linalg.LinAlgError:  # one singular row fails the batch: go row by row
            out = np.full_like(grads, np.nan)
            for k in range(len(grads)):
                with contextlib.suppress(np.linalg.LinAlgError):
                    out[k] = np.linalg.solve(hessians[k], grads[k])
            return out


def curvature(landscape: Any, point: np.ndarray) -> Literal["minimum", "saddle", "other"]:
    """What kind of stationary point the Hessian's eigenvalues say ``point`` is."""
    kind = curvature_rows(landscape, np.asarray(point, dtype=float).reshape(1, 2))[0]
    return "minimum" if kind == 1 else "saddle" if kind == -1 else "other"


def curvature_rows(landscape: Any, points: np.ndarray) -> np.ndarray:
    """`curvature` per row of ``points`` (K, 2): 1 minimum, −1 saddle, 0 other."""
    with np.errstate(all="ignore"):
        eigenvalues = np.linalg.eigvalsh(landscape.hessian(points))
    low, high = eigenvalues[:, 0], eigenvalues[:, 1]
    # Relative to the larger curvature, so a flat direction (Rosenbrock's valley) still
    # counts as curved while rounding noise on a truly flat one does not.
    scale = np.maximum(np.abs(low), np.abs(high))
    curved = (scale != 0) & np.isfinite(scale)
    minimum = curved & (low > 1e-9 * scale)
    saddle = curved & (low < -1e-9 * scale) & (high > 0)
    return np.where(minimum, 1, np.where(saddle, -1, 0))


@lru_cache(maxsize=64)
def global_minimum_value(landscape: Any) -> float:
    """f*: the metadata's global minimum value, else the grid's lowest value, polished."""
    known = [m.value for m in landscape.minima if m.kind == "global"]
    if known:
        return float(min(known))
    (xmin, xmax), (ymin, ymax) = landscape.bounds
    xx, yy = np.meshgrid(np.linspace(xmin, xmax, _GRID), np.linspace(ymin, ymax, _GRID))
    grid = np.stack([xx.ravel(), yy.ravel()], axis=-1)
    values = landscape.value(grid)
    values = np.where(np.isfinite(values), values, np.inf)
    lowest = grid[int(np.argmin(values))]
    polished = stationary(landscape, lowest, NEAR * span(landscape))
    best = float(values.min())
    if polished is not None and curvature(landscape, polished) == "minimum":
        best = min(best, float(landscape.value(polished)))
    return best


def _window(count: int) -> int:
    """Updates in the final window of a run with ``count`` points."""
    return max(MIN_WINDOW, math.ceil(WINDOW_FRACTION * (count - 1)))


def _stays_from(points: np.ndarray, centre: np.ndarray, radius: float) -> int:
    """First index after which every point lies within ``radius`` of ``centre``."""
    away = np.hypot(*(points - centre).T) > radius
    return int(np.nonzero(away)[0][-1]) + 1 if away.any() else 0


def _loss_settles_from(losses: np.ndarray, window: int) -> int:
    """First index after which the loss stays within ``LOSS_SETTLED`` of the run's descent
    of its final value, or within the window's own spread (a run rattling in a dip never
    gets closer than that)."""
    end = float(losses[-1])
    tail = losses[-window - 1 :]
    band = max(LOSS_SETTLED * abs(float(losses[0]) - end), float(tail.max() - tail.min()))
    far = ~(np.abs(losses - end) <= band)  # NaN counts as far
    return int(np.nonzero(far)[0][-1]) + 1 if far.any() else 0


def _hovering(landscape: Any, cloud: np.ndarray, unit: float) -> float | None:
    """The noise floor if ``cloud`` (the window's points) hovers around a minimum: Newton's
    method from the cloud's centre finds a minimum, and every point of the cloud lies
    within ``NEAR`` of it. (Not "within the cloud's radius of its centre": the noise is
    correlated over tens of steps, so the centre of a tenth of the run wanders by up to
    five radii from the minimum in the noise preset's seeds.)"""
    centre = cloud.mean(axis=0)
    reach = NEAR * unit
    minimum = stationary(landscape, centre, reach)
    if minimum is None or curvature(landscape, minimum) != "minimum":
        return None
    if np.hypot(*(cloud - minimum).T).max() > reach:
        return None
    floor = float(np.mean(landscape.value(cloud)) - landscape.value(minimum))
    return max(floor, 0.0)


def classify(
    landscape: Any,
    points: np.ndarray,
    losses: np.ndarray,
    diverged_at: int | None = None,
    noise: float = 0.0,
) -> Status:
    """How one run ends (module docstring). ``points`` (n, 2) and ``losses`` (n,) may hold
    NaN from ``diverged_at`` on (a runner row) or stop before it (the API's finite prefix);
    ``diverged_at`` None or −1 means never."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    losses = np.asarray(losses, dtype=float).reshape(-1)
    if diverged_at is not None and diverged_at >= 0:
        points, losses = points[:diverged_at], losses[:diverged_at]
    count = len(points)
    end = (float(points[-1, 0]), float(points[-1, 1])) if count else None
    loss = float(losses[-1]) if count else None
    if diverged_at is not None and diverged_at >= 0:
        return Status("diverged", int(diverged_at), end, loss)
    if count < 2:
        return Status("moving", None, end, loss)

    unit = span(landscape)
    window = min(_window(count), count - 1)
    tail = points[-window - 1 :]
    if noise > 0:
        floor = _hovering(landscape, tail, unit)
        if floor is not None:
            return Status("hovering", None, end, loss, floor)

    last = points[-1]
    settled = _stays_from(points, last, STAY * unit)
    stopped = count - 1 - settled >= window
    lengths = np.hypot(*np.diff(points, axis=0).T)
    slow = float(lengths[-window:].mean()) <= SLOW * float(lengths[:window].mean())
    # Newton's method only where a rule could use it: a path that neither stopped nor
    # slowed down is moving or oscillating whatever lies near its end.
    nearby = stationary(landscape, last, NEAR * unit) if stopped or slow else None
    kind = "other" if nearby is None else curvature(landscape, nearby)
    if (
        nearby is not None
        and kind == "minimum"
        and stopped
        and noise == 0
        and math.hypot(*(nearby - last)) <= AT_MINIMUM * unit
    ):
        f_star = global_minimum_value(landscape)
        value = float(landscape.value(nearby))
        globally = value - f_star <= VALUE_TOLERANCE * max(1.0, abs(f_star))
        step = max(settled, _loss_settles_from(losses, window))
        return Status("settled_global" if globally else "settled_local", step, end, loss)
    if kind == "saddle":
        assert nearby is not None
        return Status("stalled_saddle", _stays_from(points, nearby, NEAR * unit), end, loss)
    if noise == 0:
        path = float(np.hypot(*np.diff(tail, axis=0).T).sum())
        net = math.hypot(*(tail[-1] - tail[0]))
        if path > STAY * unit and path >= BACK_AND_FORTH * net:
            return Status("oscillating", None, end, loss)
    return Status("moving", None, end, loss)


def classify_rows(
    landscape: Any,
    points: np.ndarray,
    losses: np.ndarray,
    diverged_at: np.ndarray,
    noise: float = 0.0,
) -> list[Status]:
    """`classify` for each of K rows of a runner trajectory: points (n, K, 2), losses
    (n, K), diverged_at (K,) with −1 for never. A few Hessians per row: cheap enough
    to loop (K ≤ 12 in the API)."""
    return [
        classify(landscape, points[:, k], losses[:, k], int(diverged_at[k]), noise)
        for k in range(points.shape[1])
    ]
