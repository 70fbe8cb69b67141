"""Learning-rate sweeps: how each optimizer ends for 64+ learning rates, in one run.

    sweeps = maps.sweep("ill_conditioned", [("sgd", {}), ("momentum", {"momentum": 0.9})],
                        start=(-2.0, 1.5), steps=500, lrs=maps.lr_values(1e-4, 10, 64))
    sweeps[0].boundary     # (last stable lr, first lr from which every larger one diverged)
    sweeps[0].limit        # 2/λmax = 1.0: theory, on a quadratic

Each swept learning rate is one row of the optimizer (per-row hyperparameters), and all
optimizers advance in lockstep (``optimizers.summary_many``): 6 optimizers × 64 rates ×
500 steps is one run of 384 rows, no path kept.

The theoretical limits hold on a quadratic f(θ) = ½θᵀHθ + bᵀθ + c, whose Hessian H is
the same everywhere (the ill-conditioned bowl, Booth). Along H's eigenvector with
eigenvalue λ (plus λ_wd under weight decay, whose gradient λ_wd·θ adds to H) each update
is a linear map of the error; it shrinks the error iff its spectral radius is below 1:

- SGD: e ← (1 − ηλ)e, stable iff η < 2/λ.
- Heavy-ball momentum (torch's buffer b ← μb + (1 − τ)g, θ ← θ − ηb): the map of
  (e, ηb) has trace 1 + μ − η(1 − τ)λ and determinant μ; Jury's test gives
  η(1 − τ)λ < 2(1 + μ).
- Nesterov (torch: θ ← θ − η(g + μb)): trace 1 + μ − ηλ(1 + μ), determinant μ(1 − ηλ);
  stable iff ηλ < 2(1 + μ)/(1 + 2μ).

The largest λ decides. A swept rate "diverged" when the runner stopped its row (a value
beyond 1e6 or not finite), which past the limit takes longer the closer η is to it:
the measured boundary lies within one sweep cell above the limit when the run is long
enough for (ρ^steps) to pass 1e6 there (tests/maps/test_sweep.py holds it for the
lecture's bowl). Adaptive methods (AdaGrad, RMSprop, Adam) scale each step by the
gradient's history; no constant-η limit exists for them, so none is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

import optimizers
from optimizers import status

#: Points per side of the grid on which a Hessian must not change to count as constant.
_PROBES = 5
#: Relative change of the Hessian that still counts as constant (central differences).
_CONSTANT = 1e-6


@dataclass(frozen=True)
class Sweep:
    """One optimizer over the swept learning rates ``lrs`` (ascending): per rate the
    final loss, its gap to the global minimum value f*, the step it settled and the step
    it diverged (−1 = never); ``boundary`` = (the last stable rate below the first rate
    from which every larger one diverged, that rate), None where there is none; ``limit``
    the theoretical bound on a quadratic, with its formula."""

    optimizer: str
    lrs: np.ndarray
    final_loss: np.ndarray
    gap: np.ndarray
    settled_at: np.ndarray
    diverged_at: np.ndarray
    boundary: tuple[float | None, float | None]
    limit: float | None
    limit_formula: str | None


def lr_values(low: float = 1e-4, high: float = 10.0, count: int = 64) -> np.ndarray:
    """``count`` learning rates log-spaced from ``low`` to ``high`` (both included)."""
    if not (0 < low < high) or not np.isfinite(high):
        raise ValueError(f"lr range must satisfy 0 < min < max, got {low!r}, {high!r}")
    if count < 2:
        raise ValueError(f"lr count must be >= 2, got {count}")
    return np.geomspace(low, high, count)


@lru_cache(maxsize=64)
def constant_hessian(landscape: Any) -> np.ndarray | None:
    """H if the landscape's Hessian is the same all over its bounds (a quadratic), else
    None: probed on a 5 × 5 grid, equal within 1e-6 relative (central differences of an
    affine gradient are exact up to rounding). Cached per landscape (a sweep and its reply
    both ask), read-only."""
    (x0, x1), (y0, y1) = landscape.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, _PROBES), np.linspace(y0, y1, _PROBES))
    hessians = landscape.hessian(np.stack([xs.ravel(), ys.ravel()], axis=-1))
    if not np.isfinite(hessians).all():
        return None
    mean = hessians.mean(axis=0)
    scale = max(float(np.abs(mean).max()), 1e-300)
    if float(np.abs(hessians - mean).max()) > _CONSTANT * scale:
        return None
    mean.flags.writeable = False
    return mean


def stability_limit(
    name: str, params: Mapping[str, float], hessian: np.ndarray | None
) -> tuple[float | None, str | None]:
    """The largest stable constant learning rate of optimizer ``name`` on a quadratic with
    this Hessian (module docstring), and its formula; (None, None) when theory gives none
    (an adaptive method, a Hessian that is not constant or not positive definite)."""
    if hessian is None or name not in ("sgd", "momentum", "nag"):
        return None, None
    low, high = np.linalg.eigvalsh(hessian)
    if not low > 0:  # unbounded below along an eigenvector: every rate runs off
        return None, None
    values: dict[str, float] = {p.name: float(p.default or 0.0) for p in optimizers.spec(name)}
    values.update(params)
    curvature = float(high) + float(values.get("weight_decay", 0.0))
    if name == "sgd" or float(values["momentum"]) == 0:
        return 2 / curvature, "2/λmax"
    mu = float(values["momentum"])
    if name == "momentum":
        damped = 1 - float(values.get("dampening", 0.0))
        if damped <= 0:
            return None, None
        return 2 * (1 + mu) / (damped * curvature), "2(1+μ)/λmax"
    return 2 * (1 + mu) / ((1 + 2 * mu) * curvature), "2(1+μ)/((1+2μ)λmax)"


def boundary(lrs: np.ndarray, diverged_at: np.ndarray) -> tuple[float | None, float | None]:
    """(last stable rate, first rate from which every larger rate diverged)."""
    diverged = diverged_at >= 0
    if not diverged[-1]:
        return None, None
    stable = np.flatnonzero(~diverged)
    first = 0 if stable.size == 0 else int(stable[-1]) + 1
    return (None if first == 0 else float(lrs[first - 1])), float(lrs[first])


def sweep(
    landscape: Any,
    runs: Sequence[tuple[str, Mapping[str, float]]],
    start: Any,
    steps: int,
    lrs: Any,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
) -> list[Sweep]:
    """Each of ``runs`` (optimizer name, its other hyperparameters) at every rate of
    ``lrs``, from ``start``: one Sweep per run (module docstring)."""
    if isinstance(landscape, str):
        import landscapes

        landscape = landscapes.get(landscape)
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.ndim != 1 or lrs.size < 2 or not (np.diff(lrs) > 0).all():
        raise ValueError("lrs must be at least two increasing learning rates")
    opts = [optimizers.create(name, **{**params, "lr": lrs}) for name, params in runs]
    summaries = optimizers.summary_many(landscape, opts, start, steps, noise, seed, schedule)
    f_star = status.global_minimum_value(landscape)
    hessian = constant_hessian(landscape) if _constant_rate(schedule) else None
    result = []
    for (name, params), s in zip(runs, summaries, strict=True):
        limit, formula = stability_limit(name, params, hessian)
        result.append(
            Sweep(
                name,
                lrs,
                s.final_loss,
                s.final_loss - f_star,
                s.settled_at,
                s.diverged_at,
                boundary(lrs, s.diverged_at),
                limit,
                formula,
            )
        )
    return result


def _constant_rate(schedule: Any) -> bool:
    """Theory's limit is for a constant rate: no schedule, or a constant one (after any
    warmup, which only delays the rate)."""
    if schedule is None:
        return True
    kind = schedule if isinstance(schedule, str) else getattr(schedule, "kind", None)
    return kind == "constant"
