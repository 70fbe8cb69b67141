"""Learning-rate sweeps: the measured divergence boundary against theory's stable limit."""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import maps
import optimizers

BOWL = landscapes.get("ill_conditioned")  # x²/20 + y²: λ = 1/10 and 2
LRS = maps.lr_values(1e-4, 10.0, 64)  # five decades: one cell is a factor 10^(5/63) ≈ 1.2
CELL = LRS[1] / LRS[0]


def _assert_boundary_at(sweep: maps.Sweep, limit: float) -> None:
    """The last stable rate lies below the limit and the first diverged one within one
    cell above it: every rate from there on diverged."""
    stable, diverged = sweep.boundary
    assert stable is not None and diverged is not None
    assert stable < limit <= diverged
    assert diverged / limit <= CELL
    assert (sweep.diverged_at[diverged <= LRS] >= 0).all()


def test_the_bowl_is_a_quadratic_with_eigenvalues_a_tenth_and_two() -> None:
    hessian = maps.constant_hessian(BOWL)
    assert hessian is not None
    assert np.linalg.eigvalsh(hessian) == pytest.approx([0.1, 2.0], rel=1e-9)
    assert maps.constant_hessian(landscapes.get("rosenbrock")) is None
    assert maps.constant_hessian(landscapes.get("booth")) is not None


@pytest.mark.parametrize(
    ("name", "params", "limit", "formula"),
    [
        ("sgd", {}, 1.0, "2/λmax"),  # 2/λmax
        ("momentum", {"momentum": 0.9}, 1.9, "2(1+μ)/λmax"),  # 2(1 + μ)/λmax
        ("momentum", {"momentum": 0.5}, 1.5, "2(1+μ)/λmax"),
        ("nag", {"momentum": 0.9}, 2 * 1.9 / 2.8 / 2, "2(1+μ)/((1+2μ)λmax)"),
    ],
)
def test_the_measured_boundary_is_theorys_limit_within_one_cell(
    name: str, params: dict, limit: float, formula: str
) -> None:
    (sweep,) = maps.sweep(BOWL, [(name, params)], BOWL.default_start, 500, LRS)
    assert sweep.limit == pytest.approx(limit, rel=1e-9)
    assert sweep.limit_formula == formula
    _assert_boundary_at(sweep, limit)


def test_weight_decay_and_dampening_move_the_limit() -> None:
    """λ_wd adds to the curvature; dampening τ scales the gradient by 1 − τ."""
    (decayed,) = maps.sweep(BOWL, [("sgd", {"weight_decay": 0.5})], BOWL.default_start, 500, LRS)
    assert decayed.limit == pytest.approx(2 / 2.5)
    _assert_boundary_at(decayed, 2 / 2.5)
    params = {"momentum": 0.9, "dampening": 0.5}
    (damped,) = maps.sweep(BOWL, [("momentum", params)], BOWL.default_start, 500, LRS)
    assert damped.limit == pytest.approx(2 * 1.9 / (0.5 * 2))
    _assert_boundary_at(damped, 3.8)


def test_no_limit_for_adaptive_methods_nonquadratic_landscapes_or_schedules() -> None:
    runs = [("adam", {}), ("sgd", {})]
    adam, _ = maps.sweep(BOWL, runs, BOWL.default_start, 50, LRS)
    assert adam.limit is None and adam.limit_formula is None
    rosenbrock = landscapes.get("rosenbrock")
    (sgd,) = maps.sweep(rosenbrock, [("sgd", {})], rosenbrock.default_start, 50, LRS)
    assert sgd.limit is None
    (cosine,) = maps.sweep(BOWL, [("sgd", {})], BOWL.default_start, 50, LRS, schedule="cosine")
    assert cosine.limit is None
    saddle = landscapes.get("saddle")  # unbounded below: no stable rate at all
    (run_off,) = maps.sweep(saddle, [("sgd", {})], saddle.default_start, 50, LRS)
    assert run_off.limit is None


def test_a_sweep_is_the_summary_of_each_rate_as_its_own_run() -> None:
    """Row i of a lockstep sweep equals a run at that one rate (bits, settle step)."""
    runs = [("momentum", {"momentum": 0.8}), ("adam", {"beta1": 0.5})]
    sweeps = maps.sweep(BOWL, runs, (3.0, -2.0), 200, LRS[::8])
    for (name, params), sweep in zip(runs, sweeps, strict=True):
        for i, lr in enumerate(LRS[::8]):
            alone = optimizers.summary(
                BOWL, optimizers.create(name, **params, lr=lr), (3.0, -2.0), 200
            )
            assert np.array_equal(sweep.final_loss[i : i + 1], alone.final_loss, equal_nan=True)
            assert sweep.settled_at[i] == alone.settled_at[0]
            assert sweep.diverged_at[i] == alone.diverged_at[0]
    f_star = 0.0
    assert np.array_equal(sweeps[0].gap, sweeps[0].final_loss - f_star, equal_nan=True)


def test_boundary_edge_cases() -> None:
    lrs = np.array([0.1, 0.2, 0.4, 0.8])
    assert maps.boundary(lrs, np.array([-1, -1, -1, -1])) == (None, None)
    assert maps.boundary(lrs, np.array([3, 3, 3, 3])) == (None, 0.1)
    # a diverged rate below a stable one is not the boundary: every larger rate must diverge
    assert maps.boundary(lrs, np.array([-1, 5, -1, 2])) == (0.4, 0.8)
    with pytest.raises(ValueError, match="0 < min < max"):
        maps.lr_values(1.0, 0.1)
