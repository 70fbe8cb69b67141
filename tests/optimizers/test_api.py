"""Registry, specs, resolved params, and every error path (ValueError only)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import landscapes
import optimizers

ROSEN = landscapes.get("rosenbrock")

# SPEC "Optimizers: exact PyTorch semantics": names and defaults
SPEC_TABLE = {
    "sgd": {"lr": 1e-3, "weight_decay": 0.0},
    "momentum": {"lr": 1e-3, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "nag": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "eps": 1e-10,
        "initial_accumulator_value": 0.0,
        "weight_decay": 0.0,
    },
    "rmsprop": {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0.0,
        "centered": 0.0,
        "weight_decay": 0.0,
    },
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    # torch.optim 2.13's defaults (betas, etas, step_sizes and eps pairs split)
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "amsgrad": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "nadam": {
        "lr": 2e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
        "decoupled_weight_decay": 0.0,
    },
    "radam": {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": 0.0,
    },
    "adamax": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "adafactor": {
        "lr": 1e-2,
        "beta2_decay": -0.8,
        "eps1": 2.220446049250313e-16,
        "eps2": 1e-3,
        "d": 1.0,
        "weight_decay": 0.0,
    },
    "rprop": {
        "lr": 1e-2,
        "etaminus": 0.5,
        "etaplus": 1.2,
        "step_size_min": 1e-6,
        "step_size_max": 50.0,
    },
}


def test_names_in_page_order() -> None:
    # classic, then adaptive (torch's in its docs' order, then Lion), then large-batch,
    # then the gradient-free contrasts
    assert optimizers.names() == (
        *("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam", "adamw", "amsgrad"),
        *("nadam", "radam", "adamax", "adadelta", "adafactor", "rprop", "lion", "lars", "lamb"),
        *("annealing", "genetic"),
    )


@pytest.mark.parametrize("name", list(SPEC_TABLE))
def test_spec_matches_table_and_is_sane(name: str) -> None:
    specs = optimizers.spec(name)
    assert {s.name: s.default for s in specs} == SPEC_TABLE[name]
    for s in specs:
        assert s.min <= s.default <= s.max, s
        assert s.help
        if s.log:
            assert s.min > 0
    lr = next(s for s in specs if s.name == "lr")
    assert (lr.min, lr.max, lr.log) == (1e-5, 10.0, True)
    opt = optimizers.create(name)
    assert opt.name == name
    assert opt.params == SPEC_TABLE[name]
    assert all(type(v) is float for v in opt.params.values())
    assert optimizers.title(name)


def test_create_resolves_given_values_and_rows() -> None:
    opt = optimizers.create("adam", lr=0.05, beta1=np.float32(0.5), eps=1)
    assert opt.params["lr"] == 0.05 and opt.params["beta1"] == 0.5 and opt.params["eps"] == 1.0
    assert opt.rows is None
    sweep = optimizers.create("adam", lr=[0.01, 0.1, 1.0])
    assert sweep.rows == 3
    np.testing.assert_array_equal(sweep.params["lr"], [0.01, 0.1, 1.0])
    assert sweep.params["beta1"] == 0.9


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("lionx", {}, "valid: sgd, momentum, nag, adagrad, rmsprop, adam, adamw"),
        (3, {}, "unknown optimizer"),
        ("adam", {"momentum": 0.9}, "valid: lr, beta1, beta2, eps, weight_decay"),
        ("adam", {"betas": (0.9, 0.99)}, "no hyperparameter 'betas'"),
        ("adam", {"lr": 100}, "lr=100 is out of range [1e-05, 10]"),
        ("adam", {"lr": 0.0}, "lr=0.0 is out of range"),
        ("sgd", {"lr": -1}, "lr=-1 is out of range"),
        ("adam", {"beta1": 1.0}, "beta1=1.0 is out of range [0, 0.9999]"),
        ("adam", {"lr": math.nan}, "out of range"),
        ("adam", {"lr": math.inf}, "out of range"),
        ("rmsprop", {"alpha": True}, "alpha must be a number"),
        ("adam", {"lr": "0.1"}, "lr must be a number"),
        ("adam", {"lr": None}, "lr must be a number"),
        ("adam", {"lr": [0.1, 20.0]}, "lr[1]=20.0 is out of range"),
        ("adam", {"lr": [[0.1, 0.2]]}, "shape (K,)"),
        ("adam", {"lr": []}, "shape (K,)"),
        ("adam", {"lr": [0.1, 0.2], "beta1": [0.5, 0.6, 0.7]}, "disagree in length"),
        ("adam", {"lr": {"a": 1}}, "lr must be a number"),
        ("momentum", {"dampening": 1.5}, "dampening=1.5 is out of range [0, 1]"),
        ("adagrad", {"initial_accumulator_value": -1}, "initial_accumulator_value=-1"),
        ("nag", {"dampening": 0.1}, "valid: lr, momentum, weight_decay"),
        ("rmsprop", {"centered": 0.5}, "centered must be a whole number, got 0.5"),
        ("nadam", {"decoupled_weight_decay": 2}, "decoupled_weight_decay=2 is out of range [0, 1]"),
        ("rprop", {"weight_decay": 0.1}, "valid: lr, etaminus, etaplus, step_size_min"),
    ],
)
def test_create_errors_name_the_problem(name: object, params: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        optimizers.create(name, **params)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_spec_of_unknown_optimizer() -> None:
    with pytest.raises(ValueError, match="valid: sgd"):
        optimizers.spec("adamx")


@pytest.mark.parametrize(
    ("kind", "options", "fragment"),
    [
        ("linear", {}, "valid: constant, step, exponential, inverse_time, cosine"),
        ("step", {"gamma": 2.0}, "gamma=2.0 is out of range [0, 1]"),
        ("step", {"step_size": 0}, "step_size=0 is out of range"),
        ("step", {"step_size": 2.5}, "step_size must be a whole number"),
        ("cosine", {"t_max": 0}, "t_max=0 is out of range"),
        ("cosine", {"min_factor": -0.1}, "min_factor=-0.1"),
        ("constant", {"warmup": -1}, "warmup=-1 is out of range"),
        ("exponential", {"decay": 0.1}, "valid: gamma, warmup"),
        ("inverse_time", {"decay": [0.1, 0.2]}, "single number"),
    ],
)
def test_schedule_errors(kind: str, options: dict, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        optimizers.schedule(kind, **options)
    assert fragment in str(info.value)


def test_schedule_options_are_listed() -> None:
    for kind in optimizers.schedule_kinds():
        names = [o.name for o in optimizers.schedule_options(kind)]
        assert names[-1] == "warmup"
    resolved = optimizers.schedule("cosine", warmup=5)
    assert resolved.options == {"t_max": None, "min_factor": 0.0, "warmup": 5}
    assert resolved.as_dict()["kind"] == "cosine"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"steps": -1}, "steps must be >= 0"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"steps": True}, "steps must be a whole number"),
        ({"steps": "10"}, "steps must be a whole number"),
        ({"starts": [1.0, 2.0, 3.0]}, "starts must have shape (2,) or (K, 2)"),
        ({"starts": [[1.0, 2.0, 3.0]]}, "starts must have shape"),
        ({"starts": np.zeros((0, 2))}, "K >= 1"),
        ({"starts": [math.nan, 0.0]}, "starts must be finite"),
        ({"starts": [2e6, 0.0]}, "starts must be finite with |coordinate| <= 1e+06"),
        ({"starts": "origin"}, "starts must"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": math.inf}, "noise must be a finite number >= 0"),
        ({"noise": "lots"}, "noise must be a number"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"schedule": 3}, "schedule must be None"),
        ({"schedule": "warm"}, "unknown schedule 'warm'"),
        ({"optimizer": "sgdd"}, "unknown optimizer 'sgdd'"),
        ({"optimizer": object()}, "optimizer must be"),
        ({"landscape": "moon"}, "moon"),
        ({"landscape": object()}, "landscape must be"),
        ({"optimizer": optimizers.create("adam", lr=[0.1, 0.2])}, "2 values but there are 3"),
    ],
)
def test_run_and_stream_errors(kwargs: dict, fragment: str) -> None:
    args = {
        "landscape": ROSEN,
        "optimizer": optimizers.create("adam"),
        "starts": np.zeros((3, 2)),
        "steps": 5,
    } | kwargs
    for entry in (optimizers.run, optimizers.stream):
        with pytest.raises(ValueError) as info:
            entry(**args)
        assert fragment in str(info.value)


def test_stream_rejects_bad_chunk() -> None:
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        optimizers.stream(ROSEN, "sgd", (0.0, 0.0), 5, chunk=0)


def test_names_and_schedules_as_strings() -> None:
    by_name = optimizers.run("rosenbrock", "adam", ROSEN.default_start, 20, schedule="cosine")
    by_object = optimizers.run(
        ROSEN,
        optimizers.create("adam"),
        ROSEN.default_start,
        20,
        schedule=optimizers.schedule("cosine"),
    )
    np.testing.assert_array_equal(by_name.points, by_object.points)


def test_trajectory_shapes_and_start() -> None:
    traj = optimizers.run(ROSEN, "adam", (-1.2, 1.0), 30)
    assert traj.points.shape == (31, 1, 2) and traj.losses.shape == (31, 1)
    assert traj.points.dtype == np.float64 and traj.diverged_at.tolist() == [-1]
    np.testing.assert_array_equal(traj.points[0, 0], [-1.2, 1.0])
    np.testing.assert_array_equal(traj.losses, ROSEN.value(traj.points))
    empty = optimizers.run(ROSEN, "adam", [[0.0, 0.0], [1.0, 1.0]], 0)
    assert empty.points.shape == (1, 2, 2)
    np.testing.assert_array_equal(empty.losses[0], [1.0, 0.0])


def test_one_start_fans_out_over_per_row_values() -> None:
    opt = optimizers.create("sgd", lr=[1e-4, 1e-3])
    traj = optimizers.run(ROSEN, opt, (-1.2, 1.0), 10)
    assert traj.points.shape == (11, 2, 2)
    np.testing.assert_array_equal(traj.points[0], [[-1.2, 1.0], [-1.2, 1.0]])
    assert not np.array_equal(traj.points[-1, 0], traj.points[-1, 1])


def test_plain_sgd_is_gradient_descent() -> None:
    f = landscapes.get("ill_conditioned")
    traj = optimizers.run(f, optimizers.create("sgd", lr=0.1), (-7.0, 2.0), 3)
    theta = np.array([[-7.0, 2.0]])
    for t in range(3):
        theta = theta - 0.1 * f.grad(theta)
        np.testing.assert_array_equal(traj.points[t + 1], theta)


# What torch.optim 2.13 keeps in optimizer.state[p] after a step (sgd.py, adagrad.py,
# rmsprop.py, adam.py): the state is exactly these buffers, under these names.
TORCH_STATE = [
    ("sgd", {}, set()),
    ("momentum", {}, {"momentum_buffer"}),
    ("momentum", {"momentum": 0.0}, set()),
    ("nag", {}, {"momentum_buffer"}),
    ("adagrad", {}, {"step", "sum"}),
    ("rmsprop", {}, {"step", "square_avg"}),
    ("rmsprop", {"momentum": 0.5}, {"step", "square_avg", "momentum_buffer"}),
    ("adam", {}, {"step", "exp_avg", "exp_avg_sq"}),
    # nadam.py, radam.py, adamax.py, adadelta.py, _adafactor.py (a vector), rprop.py
    ("rmsprop", {"centered": 1}, {"step", "square_avg", "grad_avg"}),
    ("adamw", {}, {"step", "exp_avg", "exp_avg_sq"}),
    ("amsgrad", {}, {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    ("nadam", {}, {"step", "exp_avg", "exp_avg_sq", "mu_product"}),
    ("radam", {}, {"step", "exp_avg", "exp_avg_sq"}),
    ("adamax", {}, {"step", "exp_avg", "exp_inf"}),
    ("adadelta", {}, {"step", "square_avg", "acc_delta"}),
    ("adafactor", {}, {"step", "variance"}),
    ("rprop", {}, {"step", "prev", "step_size"}),
]


@pytest.mark.parametrize(("name", "params", "buffers"), TORCH_STATE)
def test_state_is_torchs_buffers_by_name(name: str, params: dict, buffers: set) -> None:
    opt = optimizers.create(name, **params)
    theta = np.array([[0.5, -1.0], [2.0, 1.0]])
    state = opt.init(theta)
    theta, state = opt.update(ROSEN.grad(theta), state, theta, 0.01)
    kept = {field for field in type(state).__slots__ if getattr(state, field) is not None}
    assert kept == buffers


def test_every_optimizer_sits_in_one_picker_group_in_the_pages_order() -> None:
    from optimizers.base import GROUPS

    groups = optimizers.groups()
    assert list(groups) == [g for g in GROUPS if g in groups]
    listed = [name for members in groups.values() for name in members]
    assert sorted(listed) == sorted(optimizers.names())
    assert groups["classic"][:3] == ("sgd", "momentum", "nag")
