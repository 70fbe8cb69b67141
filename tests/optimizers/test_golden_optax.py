"""Lion, LARS and LAMB against optax 0.2.8 (recorded by golden_optax/make_golden_optax.py).

The same three checks as test_golden.py's against torch:

1. Every update, fed optax's own inputs (θₜ, gₜ, ηₜ, count and buffers), returns optax's
   θₜ₊₁ and buffers within 2 ulp (no landscape evaluated).
2. The runner, fed optax's recorded gradients, reproduces optax's whole trajectory within
   a bound linear in t; ``record=True`` records optax's buffers under optax's names.
3. The runner on the real landscape follows optax's trajectory within the horizon its
   measured sensitivity to a 1-ulp perturbation allows.

Measured (2026-12-02): check 1 finds every θ and buffer of every case bit for bit equal to
optax's (0 ulp), with and without NPY_DISABLE_CPU_FEATURES="AVX512F AVX2 FMA3": each of our
operations is one of optax's, rounded once, and XLA's two fused roundings (the norm, the
bias correction) are mirrored. The contract stays SPEC's 2 ulp.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import landscapes
import optimizers
from tests.optimizers.test_golden import HORIZON_LIMIT, SAFETY, ULPS, _OneUlpOff, _ulps

GOLDEN = Path(__file__).parent / "golden_optax"
CASES = json.loads((GOLDEN / "cases.json").read_text())
DATA = dict(np.load(GOLDEN / "golden.npz"))
IDS = [c["id"] for c in CASES]
OPTAX = ("lion", "lars", "lamb")


def _golden(case: dict[str, Any], key: str) -> np.ndarray:
    return DATA[f"{case['id']}/{key}"]


def _buffers(case: dict[str, Any]) -> dict[str, np.ndarray]:
    prefix = f"{case['id']}/state/"
    return {key.removeprefix(prefix): DATA[key] for key in DATA if key.startswith(prefix)}


def _optimizer(case: dict[str, Any]) -> optimizers.Optimizer:
    return optimizers.create(case["optimizer"], **case["params"])


def _schedule(case: dict[str, Any]) -> optimizers.Schedule | None:
    return optimizers.schedule(**case["schedule"]) if case["schedule"] else None


def test_golden_covers_each_optax_optimizer() -> None:
    assert {c["optimizer"] for c in CASES} == set(OPTAX) <= set(optimizers.names())
    for name in OPTAX:
        mine = [c for c in CASES if c["optimizer"] == name]
        assert any(c["schedule"] for c in mine), name
        assert any(c["noise"] > 0 for c in mine), name
        assert any(c["params"].get("weight_decay") for c in mine), name
        # every hyperparameter given per row in one case
        per_row = {k for c in mine for k, v in c["params"].items() if isinstance(v, list)}
        assert per_row == {p.name for p in optimizers.spec(name)}, name
    assert any((_golden(c, "diverged_at") >= 0).any() for c in CASES)
    # the trust ratio's θ = 0 branch (ratio 1) is recorded for both trust-ratio methods
    origin = {c["optimizer"] for c in CASES if [0.0, 0.0] in c["starts"]}
    assert origin == {"lars", "lamb"}
    assert sum(p.stat().st_size for p in GOLDEN.iterdir()) < 1_000_000


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_update_matches_optax(case: dict[str, Any]) -> None:
    opt = _optimizer(case)
    theta, grads, lrs = _golden(case, "theta"), _golden(case, "grads"), _golden(case, "lrs")
    buffers = _buffers(case)
    counts = DATA.get(f"{case['id']}/count")
    for t in range(case["steps"]):
        live = np.isfinite(theta[t + 1]).all(axis=-1) & np.isfinite(theta[t]).all(axis=-1)
        if not live.any():
            continue
        state = opt.init(theta[t].copy())
        assert set(buffers) | {"step"} >= set(type(state).__slots__)  # optax's names
        if counts is not None:
            assert counts[t] == t
            state.step = int(counts[t])
        for name, values in buffers.items():
            setattr(state, name, values[t].copy())
        lr = lrs[t][:, None] if opt.rows or len(set(lrs[t])) > 1 else float(lrs[t, 0])
        with np.errstate(all="ignore"):
            new, state = opt.update(grads[t].copy(), state, theta[t].copy(), lr)
        error = _ulps(new[live], theta[t + 1][live], theta[t][live])
        assert error.max() <= ULPS + 1, (
            f"update {t}: θ differs from optax by {error.max():.1f} ulp "
            f"(ours {new[live].tolist()}, optax {theta[t + 1][live].tolist()})"
        )
        for name, values in buffers.items():
            ours = getattr(state, name)[live]
            error = _ulps(ours, values[t + 1][live], values[t][live])
            assert error.max() <= ULPS, (
                f"update {t}: {name} differs from optax by {error.max():.1f} ulp"
            )
        if counts is not None:
            assert state.step == counts[t + 1]


class _Replay:
    """A landscape whose gradient is optax's recorded gradient of each update."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.f = landscapes.get(case["landscape"])
        self.grads = iter(_golden(case, "grads"))

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.f.value(xy)

    def grad(self, xy: np.ndarray) -> np.ndarray:
        return next(self.grads).copy()


def _masked(case: dict[str, Any]) -> np.ndarray:
    points = _golden(case, "theta").copy()
    for row, first in enumerate(_golden(case, "diverged_at")):
        if first >= 0:
            points[first:, row] = np.nan
    return points


def _within_linear_bound(ours: np.ndarray, theirs: np.ndarray, first_step: int) -> None:
    """|ours − theirs| ≤ ULPS·(t + 1) ulp of the largest value so far, where both exist."""
    known = ~np.isnan(theirs)
    np.testing.assert_array_equal(~np.isnan(ours), known)
    sizes = np.where(known, np.abs(np.nan_to_num(theirs)), 0.0)
    scale = np.maximum.accumulate(sizes.max(axis=(1, 2)))
    steps = np.arange(first_step, first_step + len(theirs))[:, None, None]
    bound = ULPS * steps * np.spacing(scale)[:, None, None]
    error = np.abs(ours - theirs)
    assert (error[known] <= np.broadcast_to(bound, error.shape)[known]).all(), (
        f"max error {np.nanmax(np.where(known, error / bound, 0)):.1f}× the bound"
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_runner_fed_optax_gradients_records_optax(case: dict[str, Any]) -> None:
    opt = _optimizer(case)
    traj = optimizers.run(
        _Replay(case), opt, case["starts"], case["steps"], schedule=_schedule(case), record=True
    )
    np.testing.assert_array_equal(traj.diverged_at, _golden(case, "diverged_at"))
    _within_linear_bound(traj.points, _masked(case), 1)
    assert traj.grads is not None and traj.lrs is not None and traj.state is not None
    live = ~np.isnan(traj.points[1:]).any(axis=-1)
    # the gradient is recorded as optax got it: weight decay is part of the update
    np.testing.assert_array_equal(traj.grads[live], _golden(case, "grads")[live])
    # a schedule's cos/exp come from CPU-specific kernels: an ulp apart on another CPU
    np.testing.assert_allclose(traj.lrs[live], _golden(case, "lrs")[live], rtol=1e-12, atol=0)
    buffers = _buffers(case)
    assert set(traj.state) == set(buffers) == set(opt.buffers())
    for name, ours in traj.state.items():
        theirs = np.where(live[..., None], buffers[name][1:], np.nan)
        _within_linear_bound(ours, theirs, 1)


def _run(case: dict[str, Any], landscape: Any) -> optimizers.Trajectory:
    return optimizers.run(
        landscape,
        _optimizer(case),
        case["starts"],
        case["steps"],
        noise=case["noise"],
        seed=case["seed"],
        schedule=_schedule(case),
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_matches_optax_within_its_horizon(case: dict[str, Any]) -> None:
    f = landscapes.get(case["landscape"])
    traj = _run(case, f)
    expected = _masked(case)
    worst = np.zeros(len(expected))
    scale = np.fmax(np.abs(traj.points), 1.0)
    for seed in range(3):
        other = _run(case, _OneUlpOff(f, seed)).points
        with np.errstate(invalid="ignore"):
            deviation = np.nan_to_num(np.abs(other - traj.points) / scale, nan=np.inf)
        deviation[np.isnan(other) & np.isnan(traj.points)] = 0.0
        worst = np.maximum(worst, deviation.max(axis=(1, 2)))
    growth = np.maximum.accumulate(worst)
    horizon = int(np.searchsorted(SAFETY * growth, HORIZON_LIMIT, side="right"))
    assert horizon >= min(40, len(expected)), f"horizon of {horizon} updates"
    ours, theirs = traj.points[:horizon], expected[:horizon]
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    tolerance = np.maximum(SAFETY * growth[:horizon, None, None], 8 * np.finfo(float).eps)
    error = np.nan_to_num(np.abs(ours - theirs)) / np.fmax(np.abs(theirs), 1.0)
    assert (error <= tolerance).all(), (
        f"within the horizon of {horizon} updates, the largest relative deviation is "
        f"{error.max():.2e} (allowed {tolerance.max():.2e})"
    )
    diverged = _golden(case, "diverged_at")
    within = diverged < horizon
    np.testing.assert_array_equal(traj.diverged_at[within], diverged[within])


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["schedule"]], ids=[c["id"] for c in CASES if c["schedule"]]
)
def test_optax_rates_are_the_runners(case: dict[str, Any]) -> None:
    """optax's learning_rate of update t is Gradscape's η_t = lr·factor(t) (bit for bit on
    the CPU they were recorded on; a cosine's kernel may round an ulp apart elsewhere)."""
    factors = optimizers.schedule(**case["schedule"]).factors(case["steps"])
    base = np.broadcast_to(np.ravel(case["params"]["lr"]), _golden(case, "lrs").shape[1:])
    lrs = base[None, :] * factors[:, None]  # cos/exp: CPU-specific kernels, as above
    np.testing.assert_allclose(lrs, _golden(case, "lrs"), rtol=1e-12, atol=0)
