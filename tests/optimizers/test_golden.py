"""Trajectories equal those recorded from torch.optim (see golden/make_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import landscapes
import optimizers

GOLDEN = Path(__file__).parent / "golden"
CASES = json.loads((GOLDEN / "cases.json").read_text())
DATA = dict(np.load(GOLDEN / "golden.npz"))

# torch fuses some multiply-adds (FMA) that NumPy rounds twice, so trajectories agree to
# float64 rounding rather than bit for bit: well below a millionth of a pixel.
RTOL = 1e-12
ATOL = 1e-12


def _run(case: dict) -> optimizers.Trajectory:
    opt = optimizers.create(case["optimizer"], **case["params"])
    sched = optimizers.schedule(**case["schedule"]) if case["schedule"] else None
    return optimizers.run(
        landscapes.get(case["landscape"]),
        opt,
        case["starts"],
        case["steps"],
        noise=case["noise"],
        seed=case["seed"],
        schedule=sched,
    )


def test_golden_covers_every_optimizer_and_schedule() -> None:
    assert {c["optimizer"] for c in CASES} == set(optimizers.names())
    kinds = {c["schedule"]["kind"] for c in CASES if c["schedule"]}
    assert kinds == set(optimizers.schedule_kinds())
    assert any(c["noise"] > 0 for c in CASES)
    assert any((DATA[f"{c['id']}/diverged_at"] >= 0).any() for c in CASES)
    assert sum(p.stat().st_size for p in GOLDEN.iterdir()) < 1_000_000


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_torch(case: dict) -> None:
    traj = _run(case)
    expected = DATA[f"{case['id']}/points"]
    assert traj.points.shape == expected.shape
    np.testing.assert_array_equal(traj.diverged_at, DATA[f"{case['id']}/diverged_at"])
    np.testing.assert_allclose(traj.points, expected, rtol=RTOL, atol=ATOL)  # NaNs must match
    f = landscapes.get(case["landscape"])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(traj.losses, f.value(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["schedule"]], ids=[c["id"] for c in CASES if c["schedule"]]
)
def test_schedule_matches_lr_scheduler(case: dict) -> None:
    lrs = DATA[f"{case['id']}/lrs"]  # (steps, groups): group["lr"] torch used per update
    base = np.ravel(case["params"]["lr"])
    factors = optimizers.schedule(**case["schedule"]).factors(case["steps"])
    np.testing.assert_allclose(factors[:, None] * base[None, :], lrs, rtol=1e-12, atol=0)
