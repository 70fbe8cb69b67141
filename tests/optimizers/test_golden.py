"""Our optimizers against ``torch.optim`` 2.13 (recorded by golden/make_golden.py).

Three checks, from the strictest to the loosest, none of which depends on how a CPU's
SIMD kernels round:

1. Every update, fed torch's own inputs (θₜ, gₜ, lrₜ and the state buffers), returns
   torch's θₜ₊₁ and buffers within 2 ulp. No landscape is evaluated, so nothing else's
   rounding enters.
2. The runner, fed torch's recorded gradients one update after another, reproduces
   torch's whole trajectory: without the landscape's feedback nothing is chaotic, so
   per-update rounding only adds up (a bound linear in t).
3. The runner on the real landscape (with noise, schedules, divergence) follows torch's
   trajectory for as long as the case's dynamics keep a 1-ulp perturbation small: the
   test measures that growth itself, by rerunning the case with every gradient nudged
   by ±1 ulp, and compares only within the horizon where a 1000-fold margin over the
   measured growth stays below 1e-6 relative.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import landscapes
import optimizers

GOLDEN = Path(__file__).parent / "golden"
CASES = json.loads((GOLDEN / "cases.json").read_text())
DATA = dict(np.load(GOLDEN / "golden.npz"))
IDS = [c["id"] for c in CASES]

#: Per update (check 1): torch's CPU kernels fuse multiply-adds (``add`` with alpha,
#: ``addcmul``, ``lerp``) into one rounding where NumPy rounds twice. We fuse the one whose
#: difference would compound (weight decay, see ``optimizers.base.fma``) and follow torch's
#: order of operations elsewhere, so a buffer lands within 2 ulp of torch's, and θ, which
#: is computed from those fresh buffers, within one ulp more (measured: 2.0 and 2.9).
ULPS = 2
#: Margin over the measured growth of a 1-ulp perturbation, and the largest relative
#: deviation still compared (check 3).
SAFETY = 1000.0
HORIZON_LIMIT = 1e-6


def _golden(case: dict[str, Any], key: str) -> np.ndarray:
    return DATA[f"{case['id']}/{key}"]


def _buffers(case: dict[str, Any]) -> dict[str, np.ndarray]:
    prefix = f"{case['id']}/state/"
    return {key.removeprefix(prefix): DATA[key] for key in DATA if key.startswith(prefix)}


def _optimizer(case: dict[str, Any]) -> optimizers.Optimizer:
    return optimizers.create(case["optimizer"], **case["params"])


def _schedule(case: dict[str, Any]) -> optimizers.Schedule | None:
    return optimizers.schedule(**case["schedule"]) if case["schedule"] else None


def _ulps(ours: np.ndarray, torch: np.ndarray, before: np.ndarray) -> np.ndarray:
    """|ours − torch| in units in the last place of the update's largest operand.

    Each value ends in an addition x' = a·x + y (θ' = θ + Δ, m' = β·m + (1 − β)·g, …)
    whose operands can be larger than x' itself when they cancel; both are bounded by
    |x| + |x'| (|y| ≤ |x'| + |a·x| with |a| ≤ 1), so rounding is measured against that.
    """
    scale = np.abs(before) + np.abs(torch)
    return np.abs(ours - torch) / np.spacing(scale)


#: Optimizers exact to a reference other than torch.optim (optax), with golden data of
#: their own (test_golden_optax.py), and the gradient-free contrasts, which torch has not
#: (tests/optimizers/test_gradient_free.py).
NOT_TORCH = {"lion", "lars", "lamb", "annealing", "genetic"}
TORCH = set(optimizers.names()) - NOT_TORCH


def test_golden_covers_every_optimizer_and_schedule() -> None:
    assert {c["optimizer"] for c in CASES} == TORCH
    kinds = {c["schedule"]["kind"] for c in CASES if c["schedule"]}
    assert kinds == set(optimizers.schedule_kinds())
    assert any(c["noise"] > 0 for c in CASES)
    assert any((_golden(c, "diverged_at") >= 0).any() for c in CASES)
    per_row = {
        c["optimizer"] for c in CASES if any(isinstance(v, list) for v in c["params"].values())
    }
    assert per_row == TORCH  # per-row hyperparameters for every optimizer
    with_decay = {c["optimizer"] for c in CASES if c["params"].get("weight_decay")}
    decaying = {n for n in TORCH if "weight_decay" in {s.name for s in optimizers.spec(n)}}
    assert with_decay == decaying  # all but Rprop, which torch gives no weight decay
    # every option of every optimizer away from its default in some case
    for name in TORCH:
        varied = {k for c in CASES if c["optimizer"] == name for k in c["params"]}
        assert varied == {s.name for s in optimizers.spec(name)}, name
    assert sum(p.stat().st_size for p in GOLDEN.iterdir()) < 2_000_000


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_update_matches_torch(case: dict[str, Any]) -> None:
    opt = _optimizer(case)
    theta, grads, lrs = _golden(case, "theta"), _golden(case, "grads"), _golden(case, "lrs")
    buffers = _buffers(case)
    checked = 0
    for t in range(case["steps"]):
        live = np.isfinite(theta[t + 1]).all(axis=-1) & np.isfinite(theta[t]).all(axis=-1)
        if not live.any():
            continue
        state = opt.init(theta[t].copy())
        assert set(buffers) <= set(type(state).__slots__)  # torch's names are our fields
        if hasattr(state, "step"):
            state.step = t  # torch's state["step"] before update t
        for name, values in buffers.items():
            # All NaN: torch has not made this buffer yet (it makes them in the first
            # update), so ours stays as ``init`` left it (zeros, NAdam's μ-product 1,
            # Rprop's None). Some NaN: rows for which torch keeps none (momentum 0).
            if np.isnan(values[t]).all():
                continue
            setattr(state, name, np.nan_to_num(values[t], nan=0.0))
        lr = float(lrs[t, 0]) if lrs.shape[1] == 1 else lrs[t][:, None]
        with np.errstate(all="ignore"):
            new, state = opt.update(grads[t].copy(), state, theta[t].copy(), lr)

        error = _ulps(new[live], theta[t + 1][live], theta[t][live])
        assert error.max() <= ULPS + 1, (  # θ carries the new buffers' rounding too
            f"update {t}: θ differs from torch by {error.max():.0f} ulp "
            f"(ours {new[live].tolist()}, torch {theta[t + 1][live].tolist()})"
        )
        for name, values in buffers.items():
            after, before = values[t + 1][live], np.nan_to_num(values[t][live], nan=0.0)
            known = ~np.isnan(after)
            if getattr(state, name) is None:  # neither keeps this buffer (RMSprop, μ = 0)
                assert not known.any(), f"update {t}: torch keeps {name}, we do not"
                continue
            # NAdam's μ-product is a (K, 1) column; torch's shows on both coordinates
            ours = np.broadcast_to(getattr(state, name), values[t].shape)[live]
            error = _ulps(ours[known], after[known], before[known])
            assert error.max(initial=0.0) <= ULPS, (
                f"update {t}: {name} differs from torch by {error.max():.0f} ulp"
            )
        checked += int(live.sum())
    # every update up to each row's divergence was compared
    assert checked >= sum(case["steps"] if d < 0 else d - 1 for d in _golden(case, "diverged_at"))


class _Replay:
    """A stand-in landscape whose gradient is torch's recorded gradient of each update.

    The runner calls ``grad`` once per update, in order, for all rows; ``value`` is the
    real landscape's, so divergence is judged as usual.
    """

    def __init__(self, case: dict[str, Any]) -> None:
        self.f = landscapes.get(case["landscape"])
        self.grads = iter(_golden(case, "grads"))

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.f.value(xy)

    def grad(self, xy: np.ndarray) -> np.ndarray:
        return next(self.grads).copy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_runner_fed_torch_gradients_matches_torch(case: dict[str, Any]) -> None:
    theta = _masked(case)
    traj = optimizers.run(
        _Replay(case), _optimizer(case), case["starts"], case["steps"], schedule=_schedule(case)
    )
    np.testing.assert_array_equal(traj.diverged_at, _golden(case, "diverged_at"))
    live = ~np.isnan(traj.points)
    np.testing.assert_array_equal(live, ~np.isnan(theta))
    # Each update adds at most ULPS of rounding at the scale of the largest θ so far;
    # weight decay feeds θ back, but with λ·lr ≤ 0.01 it cannot amplify it.
    scale = np.maximum.accumulate(np.where(live, np.abs(theta), 0.0).max(axis=(1, 2)))
    steps = np.arange(len(theta))[:, None, None]
    bound = ULPS * (steps + 1) * np.spacing(scale)[:, None, None]
    error = np.abs(traj.points - theta)
    assert (error[live] <= np.broadcast_to(bound, error.shape)[live]).all(), (
        f"max error {np.nanmax(error / bound):.1f}× the bound of {ULPS} ulp per update"
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_recorded_state_matches_torch(case: dict[str, Any]) -> None:
    """``record=True``, fed torch's gradients (check 2): each update's recorded buffers are
    torch's ``optimizer.state[p]`` after that update, under the same names, within the
    same bound; its gradient is torch's ``p.grad`` (+ λθ), its rate torch's group lr."""
    opt = _optimizer(case)
    traj = optimizers.run(
        _Replay(case),
        opt,
        case["starts"],
        case["steps"],
        schedule=_schedule(case),
        record=True,
    )
    assert traj.grads is not None and traj.lrs is not None and traj.state is not None
    buffers = _buffers(case)
    # torch keeps a buffer (golden values not all NaN) exactly when we record one
    kept = {name for name, values in buffers.items() if not np.isnan(values).all()}
    assert kept == set(traj.state) == set(opt.buffers())
    live = ~np.isnan(traj.grads).any(axis=-1)  # (steps, K): updates whose point was kept
    assert (live == ~np.isnan(traj.points[1:]).any(axis=-1)).all()
    torch_grads = _golden(case, "grads")
    expected = opt.seen_gradient(torch_grads, traj.points[:-1])
    np.testing.assert_array_equal(traj.grads[live], expected[live])
    lrs = np.broadcast_to(_golden(case, "lrs"), traj.lrs.shape)
    np.testing.assert_allclose(traj.lrs[live], lrs[live], rtol=1e-12, atol=0)
    steps = np.arange(1, case["steps"] + 1)[:, None, None]
    for name, ours in traj.state.items():
        theirs = buffers[name][1:]  # torch's buffer after update t
        # a row for which torch keeps no such buffer (μ = 0) has none recorded either
        kept_rows = ~np.isnan(theirs[:, live[0]]).all(axis=(0, 2))
        np.testing.assert_array_equal(~np.isnan(ours[:, live[0]]).all(axis=(0, 2)), kept_rows)
        known = live[..., None] & ~np.isnan(theirs)
        assert known.any(), f"{name}: nothing compared"
        sizes = np.where(known, np.abs(np.nan_to_num(theirs)), 0.0)  # diverged: never inf
        scale = np.maximum.accumulate(sizes.max(axis=(1, 2)))
        bound = ULPS * steps * np.spacing(scale)[:, None, None]
        error = np.abs(ours - theirs)
        assert (error[known] <= np.broadcast_to(bound, error.shape)[known]).all(), (
            f"{name}: max error {np.nanmax(np.where(known, error / bound, 0)):.1f}× the bound"
        )


def _masked(case: dict[str, Any]) -> np.ndarray:
    """torch's trajectory with NaN from each row's first bad point on (SPEC divergence)."""
    points = _golden(case, "theta").copy()
    for row, first in enumerate(_golden(case, "diverged_at")):
        if first >= 0:
            points[first:, row] = np.nan
    return points


class _OneUlpOff:
    """The real landscape with every gradient component nudged by ±1 ulp at random: a
    model of another CPU's (or torch's) rounding, to measure how fast a case amplifies it.
    """

    def __init__(self, f: landscapes.Landscape, seed: int) -> None:
        self.f = f
        self.rng = np.random.default_rng(seed)

    def value(self, xy: np.ndarray) -> np.ndarray:
        return self.f.value(xy)

    def grad(self, xy: np.ndarray) -> np.ndarray:
        g = self.f.grad(xy)
        with np.errstate(invalid="ignore"):
            return g + np.spacing(np.abs(g)) * self.rng.choice((-1.0, 1.0), size=g.shape)


def _run(case: dict[str, Any], landscape: Any) -> optimizers.Trajectory:
    """The case as the page would run it (noise, seed, schedule) on ``landscape``."""
    return optimizers.run(
        landscape,
        _optimizer(case),
        case["starts"],
        case["steps"],
        noise=case["noise"],
        seed=case["seed"],
        schedule=_schedule(case),
    )


def _growth(case: dict[str, Any], points: np.ndarray) -> np.ndarray:
    """Largest relative deviation so far, per step, over three ±1-ulp perturbed runs."""
    f = landscapes.get(case["landscape"])
    worst = np.zeros(len(points))
    scale = np.fmax(np.abs(points), 1.0)
    for seed in range(3):
        other = _run(case, _OneUlpOff(f, seed)).points
        with np.errstate(invalid="ignore"):
            deviation = np.nan_to_num(np.abs(other - points) / scale, nan=np.inf)
        both_nan = np.isnan(other) & np.isnan(points)
        deviation[both_nan] = 0.0
        worst = np.maximum(worst, deviation.max(axis=(1, 2)))
    return np.maximum.accumulate(worst)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_matches_torch_within_its_horizon(case: dict[str, Any]) -> None:
    f = landscapes.get(case["landscape"])
    traj = _run(case, f)
    expected = _masked(case)
    assert traj.points.shape == expected.shape
    growth = _growth(case, traj.points)
    horizon = int(np.searchsorted(SAFETY * growth, HORIZON_LIMIT, side="right"))
    # A case whose horizon is too short to show anything would test nothing.
    assert horizon >= min(40, len(expected)), f"horizon of {horizon} updates"
    ours, torch = traj.points[:horizon], expected[:horizon]
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(torch))
    tolerance = np.maximum(SAFETY * growth[:horizon, None, None], 8 * np.finfo(float).eps)
    error = np.nan_to_num(np.abs(ours - torch)) / np.fmax(np.abs(torch), 1.0)
    assert (error <= tolerance).all(), (
        f"within the horizon of {horizon} updates, the largest relative deviation is "
        f"{error.max():.2e} (allowed {tolerance.max():.2e})"
    )
    diverged = _golden(case, "diverged_at")
    within = diverged < horizon
    np.testing.assert_array_equal(traj.diverged_at[within], diverged[within])
    np.testing.assert_array_equal(traj.losses, f.value(traj.points))


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["schedule"]], ids=[c["id"] for c in CASES if c["schedule"]]
)
def test_schedule_matches_lr_scheduler(case: dict[str, Any]) -> None:
    lrs = _golden(case, "lrs")  # (steps, groups): group["lr"] torch used per update
    base = np.ravel(case["params"]["lr"])
    factors = optimizers.schedule(**case["schedule"]).factors(case["steps"])
    np.testing.assert_allclose(factors[:, None] * base[None, :], lrs, rtol=1e-12, atol=0)
