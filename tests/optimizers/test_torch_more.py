"""What the issue-14 torch optimizers promise beyond the golden cases: how they relate to
each other and to Adam, and their edge cases (NaN gradients, per-row switches, rows)."""

from __future__ import annotations

import numpy as np
import pytest

import landscapes
import optimizers

ROSEN = landscapes.get("rosenbrock")
STARTS = np.array([[-1.5, 2.0], [0.5, -0.5], [-0.2, 0.8]])


def _points(name: str, steps: int = 300, **params: object) -> np.ndarray:
    return optimizers.run(ROSEN, optimizers.create(name, **params), STARTS, steps).points


def test_adamw_without_weight_decay_is_adam_and_amsgrad_differs_only_by_its_max() -> None:
    adam = _points("adam", lr=0.05)
    np.testing.assert_array_equal(_points("adamw", lr=0.05, weight_decay=0.0), adam)
    assert not np.array_equal(_points("adamw", lr=0.05), adam)  # λ = 1e-2 by default
    # AMSGrad's v_max never decreases and is never below v
    traj = optimizers.run(ROSEN, optimizers.create("amsgrad", lr=0.05), STARTS, 300, record=True)
    assert traj.state is not None
    vmax, v = traj.state["max_exp_avg_sq"], traj.state["exp_avg_sq"]
    assert (vmax >= v).all() and (np.diff(vmax, axis=0) >= 0).all()
    assert (vmax > v).any()  # it did keep an old, larger v (else it would be Adam)


@pytest.mark.parametrize("name", ["nadam", "radam"])
def test_the_decoupled_switch_moves_weight_decay_from_g_to_theta(name: str) -> None:
    coupled = optimizers.create(name, lr=0.01, weight_decay=0.1)
    decoupled = optimizers.create(name, lr=0.01, weight_decay=0.1, decoupled_weight_decay=1)
    theta, g = np.array([[2.0, -1.0]]), np.array([[0.5, 0.25]])
    np.testing.assert_array_equal(coupled.seen_gradient(g, theta), g + 0.1 * theta)
    np.testing.assert_array_equal(decoupled.seen_gradient(g, theta), g)
    assert decoupled.scalar_decay() is None and coupled.scalar_decay() == 0.1
    # per row: each row as its own run, bit for bit
    both = optimizers.create(
        name, lr=0.01, weight_decay=0.1, decoupled_weight_decay=np.array([0.0, 1.0])
    )
    rows = optimizers.run(ROSEN, both, [-1.5, 2.0], 100).points
    for k, alone in enumerate((coupled, decoupled)):
        single = optimizers.run(ROSEN, alone, [-1.5, 2.0], 100).points
        np.testing.assert_array_equal(rows[:, k], single[:, 0])


def test_rmsprop_centered_zero_is_plain_rmsprop_and_one_divides_by_the_spread() -> None:
    plain = _points("rmsprop", lr=0.01)
    np.testing.assert_array_equal(_points("rmsprop", lr=0.01, centered=0), plain)
    traj = optimizers.run(
        ROSEN, optimizers.create("rmsprop", lr=0.01, centered=1), STARTS, 50, record=True
    )
    assert traj.state is not None
    h, mean = traj.state["square_avg"], traj.state["grad_avg"]
    assert (h - mean * mean >= 0).all()  # a variance: the spread under the root
    assert not np.array_equal(traj.points, plain[:51])


def test_rprop_ignores_a_nan_gradient_as_torch_does() -> None:
    """torch.sign(NaN) is 0: the step is 0, and the step size stays."""
    opt = optimizers.create("rprop", lr=0.1)
    theta = np.array([[1.0, 2.0]])
    state = opt.init(theta)
    theta, state = opt.update(np.array([[1.0, -1.0]]), state, theta, 0.1)
    np.testing.assert_array_equal(theta, [[0.9, 2.1]])
    after, state = opt.update(np.array([[np.nan, -1.0]]), state, theta.copy(), 0.1)
    assert after[0, 0] == theta[0, 0] and after[0, 1] == theta[0, 1] + 0.1 * 1.2
    step, _ = opt.scalar(opt.init(np.array([[1.0, 2.0]])))
    assert step(1.0, -1.0, 1.0, 2.0, 0.1) == (0.9, 2.1)
    assert step(float("nan"), -1.0, 0.9, 2.1, 0.1)[0] == 0.9


def test_adafactor_rows_are_separate_vectors() -> None:
    """Each row is its own 2-vector (its own ‖θ‖ and clip), never one K×2 matrix."""
    opt = optimizers.create("adafactor", lr=0.1)
    together = optimizers.run(ROSEN, opt, STARTS, 60).points
    for k, start in enumerate(STARTS):
        alone = optimizers.run(ROSEN, opt, start, 60).points
        np.testing.assert_array_equal(together[:, k], alone[:, 0])
    # the first step is the sign of g scaled by α₁ = max(ε₂, RMS(θ)) · min(η, 1)
    theta = np.array([[3.0, -4.0]])
    new, _ = opt.update(np.array([[0.5, -2.0]]), opt.init(theta), theta, 0.1)
    alpha = np.sqrt(12.5) * 0.1
    np.testing.assert_allclose(new, theta - alpha * np.array([[1.0, -1.0]]), rtol=1e-15)
