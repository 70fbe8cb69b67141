"""Record golden trajectories from ``torch.optim`` (run by hand; the suite needs no torch).

    pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
    python tests/optimizers/golden/make_golden.py

Torch is fed the project's own NumPy landscape gradients (plus the same NumPy noise,
drawn one (K, 2) array per update from ``default_rng(seed)``) through ``param.grad``, so
only optimizer and schedule semantics are compared. Schedules are the real
``torch.optim.lr_scheduler`` classes. Divergence is marked per SPEC (first point with a
non-finite coordinate or loss or |coordinate| > 1e6; it and later points NaN).

Writes ``cases.json`` (the case definitions) and ``golden.npz``; per case:

- ``theta`` (steps + 1, K, 2): torch's parameters before each update and after the last,
  as torch computed them (not masked after divergence);
- ``grads`` (steps, K, 2): the gradient torch was given at each update (noise included);
- ``lrs`` (steps, groups): ``group["lr"]`` torch used at each update;
- ``state/NAME`` (steps + 1, K, 2): each buffer of ``optimizer.state[p]`` before each
  update and after the last, under torch's own name; NaN where torch has no such buffer
  yet (the momentum buffer before the first update, or for a row with momentum 0);
- ``diverged_at`` (K,): the first bad point per SPEC, or -1.

The per-update test feeds our ``update`` torch's (θₜ, gₜ, lrₜ, state) and compares the
result with torch's θₜ₊₁ and state, which no CPU's rounding of the landscape can disturb.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402

HERE = Path(__file__).resolve().parent
LIMIT = 1e6

#: The buffers ``torch.optim`` keeps in ``optimizer.state[p]`` for each optimizer (the
#: step counter aside: update t always starts from step = t).
BUFFERS = {
    "sgd": (),
    "momentum": ("momentum_buffer",),
    "nag": ("momentum_buffer",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg", "momentum_buffer", "grad_avg"),
    "adam": ("exp_avg", "exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq"),
    "amsgrad": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "nadam": ("exp_avg", "exp_avg_sq", "mu_product"),
    "radam": ("exp_avg", "exp_avg_sq"),
    "adamax": ("exp_avg", "exp_inf"),
    "adadelta": ("square_avg", "acc_delta"),
    "adafactor": ("variance",),
    "rprop": ("prev", "step_size"),
}

#: Optimizers whose torch update couples the coordinates of one parameter (Adafactor's
#: norms of θ and of the update): each row is its own 1-D parameter of shape (2,), the
#: 2-vector the page moves, which torch's Adafactor leaves unfactored.
VECTOR_PARAMS = {"adafactor"}

S1 = [[-1.5, 2.0]]
S3 = [[-1.5, 2.0], [0.5, -0.5], [-0.2, 0.8]]
#: Updates per case for the optimizers added in the second build (the golden data stay small).
NEW = 150
S2 = S3[:2]


def case(cid, optimizer, params, landscape, starts, steps=200, noise=0.0, seed=0, schedule=None):
    return {
        "id": cid,
        "optimizer": optimizer,
        "params": params,
        "landscape": landscape,
        "starts": starts,
        "steps": steps,
        "noise": noise,
        "seed": seed,
        "schedule": schedule,
    }


CASES = [
    # sgd
    case("sgd_rosen", "sgd", {"lr": 1e-3}, "rosenbrock", S3),
    case("sgd_ill_wd", "sgd", {"lr": 0.1, "weight_decay": 0.1}, "ill_conditioned", [[-7, 2]]),
    case("sgd_himmel_noise", "sgd", {"lr": 0.01}, "himmelblau", S3, noise=0.5, seed=3),
    case("sgd_diverge", "sgd", {"lr": 1.5}, "ill_conditioned", [[-7, 2], [3, 0]], steps=60),
    case("sgd_rows", "sgd", {"lr": [1e-3, 2e-3, 4e-4]}, "rosenbrock", S3),
    # momentum
    case("mom_rosen", "momentum", {"lr": 1e-3, "momentum": 0.9}, "rosenbrock", S3),
    case(
        "mom_ill_damp_wd",
        "momentum",
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01},
        "ill_conditioned",
        [[-7, 2], [5, -1]],
    ),
    case("mom_saddle_noise", "momentum", {"lr": 0.01}, "saddle", [[-1, 0.01]], 150, 0.1, 11),
    case("mom_zero", "momentum", {"lr": 0.05, "momentum": 0.0, "dampening": 0.5}, "booth", S1),
    case(
        "mom_rows",
        "momentum",
        {"lr": 2e-3, "momentum": [0.0, 0.5, 0.9], "dampening": [0.5, 0.0, 0.2]},
        "rosenbrock",
        S3,
    ),
    case("mom_diverge", "momentum", {"lr": 0.01, "momentum": 0.9}, "rosenbrock", S1, 100),
    # nag
    case("nag_rosen", "nag", {"lr": 1e-3}, "rosenbrock", S3),
    case(
        "nag_beale_wd_noise",
        "nag",
        {"lr": 1e-3, "momentum": 0.8, "weight_decay": 0.05},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        noise=0.2,
        seed=5,
    ),
    case(
        "nag_rows",
        "nag",
        {"lr": [0.01, 0.05], "momentum": [0.0, 0.95]},
        "ill_conditioned",
        [[-7, 2]],
    ),
    # adagrad
    case("adagrad_rosen", "adagrad", {"lr": 0.5}, "rosenbrock", S3),
    case(
        "adagrad_himmel_decay",
        "adagrad",
        {"lr": 0.3, "lr_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-6},
        "himmelblau",
        S3,
    ),
    case(
        "adagrad_wd_noise",
        "adagrad",
        {"lr": 0.2, "weight_decay": 0.2},
        "rastrigin",
        S3,
        200,
        1.0,
        2,
    ),
    case(
        "adagrad_rows",
        "adagrad",
        {
            "lr": [0.1, 0.5],
            "lr_decay": [0.0, 0.02],
            "initial_accumulator_value": [0.5, 0.0],
            "weight_decay": [0.0, 0.1],
        },
        "himmelblau",
        [[0.5, -0.5]],
    ),
    # rmsprop
    case("rmsprop_rosen", "rmsprop", {"lr": 0.01}, "rosenbrock", S3),
    case(
        "rmsprop_ill_mom_wd",
        "rmsprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "weight_decay": 0.01},
        "ill_conditioned",
        [[-7, 2], [4, 1]],
    ),
    case("rmsprop_saddle_noise", "rmsprop", {"lr": 0.02}, "saddle", [[-1, 0.01]], 150, 0.1, 11),
    case(
        "rmsprop_rows",
        "rmsprop",
        {"lr": 0.01, "momentum": [0.0, 0.9], "alpha": [0.9, 0.99], "weight_decay": [0.0, 0.1]},
        "six_hump_camel",
        [[1.5, 0.8]],
    ),
    # adam
    case("adam_rosen", "adam", {"lr": 0.05}, "rosenbrock", S3),
    case(
        "adam_low_beta_wd",
        "adam",
        {"lr": 0.02, "beta1": 0.3, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
    ),
    case("adam_rastrigin_noise", "adam", {"lr": 0.05}, "rastrigin", S3, 200, 1.0, 7),
    case("adam_ackley", "adam", {"lr": 0.1}, "ackley", [[2.5, -1.5]]),
    case(
        "adam_rows", "adam", {"lr": [0.01, 0.05, 0.2], "beta1": [0.3, 0.9, 0.6]}, "rosenbrock", S1
    ),
    case(
        "adam_rows_wd",
        "adam",
        {"lr": 0.05, "beta2": [0.9, 0.999], "eps": [1e-3, 1e-8], "weight_decay": [0.2, 0.0]},
        "himmelblau",
        [[0.5, -0.5]],
    ),
    case("adam_goldstein", "adam", {"lr": 0.01}, "goldstein_price", [[-1.0, 1.0]]),
    case("adam_styblinski", "adam", {"lr": 0.1}, "styblinski_tang", [[0.5, 0.5]]),
    # adamw: decoupled weight decay (torch's default λ = 1e-2 in the first case)
    case("adamw_rosen", "adamw", {"lr": 0.05}, "rosenbrock", S3, NEW),
    case(
        "adamw_beale_wd",
        "adamw",
        {"lr": 0.02, "beta1": 0.3, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.5},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case("adamw_rastrigin_noise", "adamw", {"lr": 0.05}, "rastrigin", S3, NEW, 1.0, 7),
    case(
        "adamw_rows",
        "adamw",
        {"lr": [0.01, 0.05, 0.2], "weight_decay": [0.0, 0.1, 0.5]},
        "rosenbrock",
        S1,
        NEW,
    ),
    # amsgrad
    case("amsgrad_rosen", "amsgrad", {"lr": 0.05}, "rosenbrock", S3, NEW),
    case(
        "amsgrad_beale_wd",
        "amsgrad",
        {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.1},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case("amsgrad_rastrigin_noise", "amsgrad", {"lr": 0.05}, "rastrigin", S3, NEW, 1.0, 7),
    case(
        "amsgrad_rows",
        "amsgrad",
        {"lr": 0.05, "beta2": [0.9, 0.999], "eps": [1e-3, 1e-8], "weight_decay": [0.2, 0.0]},
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # nadam
    case("nadam_rosen", "nadam", {"lr": 0.05}, "rosenbrock", S2, NEW),
    case(
        "nadam_beale_wd",
        "nadam",
        {
            "lr": 0.02,
            "beta1": 0.5,
            "beta2": 0.99,
            "eps": 1e-6,
            "weight_decay": 0.1,
            "momentum_decay": 0.05,
        },
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case(
        "nadam_decoupled_noise",
        "nadam",
        {"lr": 0.05, "weight_decay": 0.2, "decoupled_weight_decay": 1},
        "rastrigin",
        S2,
        NEW,
        1.0,
        7,
    ),
    case(
        "nadam_rows",
        "nadam",
        {
            "lr": [0.01, 0.05],
            "momentum_decay": [0.0, 0.1],
            "weight_decay": [0.1, 0.3],
            "decoupled_weight_decay": [0, 1],
        },
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # radam: β₂ = 0.5 is never rectified (ρ∞ = 3), β₂ = 0.9 from update 6 on
    case("radam_rosen", "radam", {"lr": 1e-3}, "rosenbrock", S2, NEW),
    case(
        "radam_beale_wd",
        "radam",
        {"lr": 0.02, "beta1": 0.5, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case(
        "radam_decoupled_noise",
        "radam",
        {"lr": 0.05, "weight_decay": 0.2, "decoupled_weight_decay": 1},
        "rastrigin",
        S2,
        NEW,
        1.0,
        7,
    ),
    case(
        "radam_rows",
        "radam",
        {
            "lr": 0.01,
            "beta2": [0.9, 0.999, 0.5],
            "weight_decay": [0.1, 0.1, 0.0],
            "decoupled_weight_decay": [1, 0, 1],
        },
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # adamax
    case("adamax_rosen", "adamax", {"lr": 0.05}, "rosenbrock", S2, NEW),
    case(
        "adamax_beale_wd",
        "adamax",
        {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1},
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case("adamax_rastrigin_noise", "adamax", {"lr": 0.05}, "rastrigin", S2, NEW, 1.0, 7),
    case(
        "adamax_rows",
        "adamax",
        {"lr": [0.01, 0.1], "beta2": [0.9, 0.999], "weight_decay": [0.0, 0.05]},
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # adadelta
    case("adadelta_rosen", "adadelta", {"lr": 1.0, "eps": 1e-3}, "rosenbrock", S2, NEW),
    case(
        "adadelta_ill_wd",
        "adadelta",
        {"lr": 5.0, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1},
        "ill_conditioned",
        [[-7, 2], [4, 1]],
        NEW,
    ),
    case("adadelta_rastrigin_noise", "adadelta", {"lr": 1.0}, "rastrigin", S2, NEW, 1.0, 7),
    case(
        "adadelta_rows",
        "adadelta",
        {"lr": [1.0, 3.0], "rho": [0.9, 0.99], "eps": [1e-6, 1e-3], "weight_decay": [0.0, 0.1]},
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # adafactor: each row its own 2-vector parameter (VECTOR_PARAMS)
    case("adafactor_rosen", "adafactor", {"lr": 0.01}, "rosenbrock", S2, NEW),
    case(
        "adafactor_beale_options",
        "adafactor",
        {
            "lr": 0.1,
            "beta2_decay": -0.5,
            "eps1": 1e-10,
            "eps2": 1e-2,
            "d": 2.0,
            "weight_decay": 0.1,
        },
        "beale",
        [[1.0, 1.0], [-1.0, 1.5]],
        NEW,
    ),
    case("adafactor_origin", "adafactor", {"lr": 0.1}, "booth", [[0.0, 0.0]], NEW),
    case("adafactor_rastrigin_noise", "adafactor", {"lr": 0.05}, "rastrigin", S2, NEW, 1.0, 7),
    case(
        "adafactor_rows",
        "adafactor",
        {
            "lr": [0.01, 0.1],
            "beta2_decay": [-0.8, -0.3],
            "d": [1.0, 1.5],
            "weight_decay": [0.0, 0.05],
        },
        "himmelblau",
        [[0.5, -0.5]],
        NEW,
    ),
    # rprop (no weight decay in torch)
    case("rprop_rosen", "rprop", {"lr": 0.01}, "rosenbrock", S2, NEW),
    case(
        "rprop_himmel_etas",
        "rprop",
        {"lr": 0.1, "etaminus": 0.3, "etaplus": 1.5, "step_size_min": 1e-3, "step_size_max": 0.5},
        "himmelblau",
        S2,
        NEW,
    ),
    case("rprop_rastrigin_noise", "rprop", {"lr": 0.01}, "rastrigin", S2, NEW, 1.0, 7),
    case(
        "rprop_rows",
        "rprop",
        {"lr": [1e-3, 0.01], "etaplus": [1.2, 1.5], "step_size_max": [50.0, 0.1]},
        "rosenbrock",
        S1,
        NEW,
    ),
    # rmsprop, centered
    case("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": 1}, "rosenbrock", S2, NEW),
    case(
        "rmsprop_centered_mom_wd",
        "rmsprop",
        {
            "lr": 0.01,
            "alpha": 0.9,
            "eps": 1e-6,
            "momentum": 0.9,
            "weight_decay": 0.01,
            "centered": 1,
        },
        "ill_conditioned",
        [[-7, 2], [4, 1]],
        NEW,
    ),
    case(
        "rmsprop_centered_rows",
        "rmsprop",
        {"lr": 0.01, "centered": [0, 1], "momentum": [0.5, 0.0]},
        "six_hump_camel",
        [[1.5, 0.8]],
        NEW,
    ),
    # schedules
    case(
        "sched_step_mom",
        "momentum",
        {"lr": 2e-3},
        "rosenbrock",
        S3,
        schedule={"kind": "step", "step_size": 30, "gamma": 0.5},
    ),
    case(
        "sched_exp_adam",
        "adam",
        {"lr": 0.1},
        "himmelblau",
        S3,
        schedule={"kind": "exponential", "gamma": 0.98},
    ),
    case(
        "sched_inv_rmsprop",
        "rmsprop",
        {"lr": 0.05},
        "rosenbrock",
        S3,
        schedule={"kind": "inverse_time", "decay": 0.05},
    ),
    case("sched_cos_default", "adam", {"lr": 0.1}, "rosenbrock", S3, schedule={"kind": "cosine"}),
    case(
        "sched_cos_past_tmax",
        "sgd",
        {"lr": 0.05},
        "ill_conditioned",
        [[-7, 2]],
        steps=150,
        schedule={"kind": "cosine", "t_max": 40, "min_factor": 0.1},
    ),
    case(
        "sched_warm_const",
        "adam",
        {"lr": 0.05},
        "rosenbrock",
        S1,
        schedule={"kind": "constant", "warmup": 10},
    ),
    case(
        "sched_warm_step",
        "momentum",
        {"lr": 1e-3},
        "rosenbrock",
        S3,
        schedule={"kind": "step", "step_size": 25, "gamma": 0.7, "warmup": 5},
    ),
    case(
        "sched_warm_cos",
        "adam",
        {"lr": 0.1},
        "himmelblau",
        S3,
        noise=0.3,
        seed=9,
        schedule={"kind": "cosine", "t_max": 50, "min_factor": 0.05, "warmup": 20},
    ),
    case(
        "sched_warm1_exp",
        "nag",
        {"lr": 5e-4},
        "rosenbrock",
        S1,
        schedule={"kind": "exponential", "gamma": 0.99, "warmup": 1},
    ),
    case(
        "sched_warm_inv_adagrad",
        "adagrad",
        {"lr": 0.5},
        "beale",
        [[1.0, 1.0]],
        schedule={"kind": "inverse_time", "decay": 0.1, "warmup": 15},
    ),
    case(
        "sched_rows_cos",
        "adam",
        {"lr": [0.02, 0.1]},
        "rosenbrock",
        S1,
        schedule={"kind": "cosine", "t_max": 80, "min_factor": 0.2, "warmup": 8},
    ),
    case(
        "sched_warm_cos_adamw",
        "adamw",
        {"lr": 0.1, "weight_decay": 0.1},
        "himmelblau",
        S3,
        NEW,
        schedule={"kind": "cosine", "t_max": 60, "min_factor": 0.1, "warmup": 10},
    ),
    case(
        "sched_step_nadam",
        "nadam",
        {"lr": 0.05},
        "himmelblau",
        S2,
        NEW,
        schedule={"kind": "step", "step_size": 30, "gamma": 0.5},
    ),
    case(
        "sched_inv_adafactor",
        "adafactor",
        {"lr": 0.2},
        "rosenbrock",
        S2,
        NEW,
        schedule={"kind": "inverse_time", "decay": 0.1},
    ),
    case(
        "sched_warm_exp_rprop",  # Rprop's first step is the warmed-up η of update 0
        "rprop",
        {"lr": 0.05},
        "himmelblau",
        S2,
        NEW,
        schedule={"kind": "exponential", "gamma": 0.97, "warmup": 5},
    ),
]


def torch_optimizer(name, params_list, hp):
    """The torch.optim equivalent of one of our optimizers (scalar hyperparameters)."""
    o = torch.optim
    if name == "sgd":
        return o.SGD(params_list, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0))
    if name == "momentum":
        return o.SGD(
            params_list,
            lr=hp["lr"],
            momentum=hp.get("momentum", 0.9),
            dampening=hp.get("dampening", 0.0),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "nag":
        momentum = hp.get("momentum", 0.9)
        return o.SGD(
            params_list,
            lr=hp["lr"],
            momentum=momentum,
            nesterov=momentum > 0,  # torch refuses nesterov at μ = 0; it is plain SGD then
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "adagrad":
        return o.Adagrad(
            params_list,
            lr=hp["lr"],
            lr_decay=hp.get("lr_decay", 0.0),
            eps=hp.get("eps", 1e-10),
            initial_accumulator_value=hp.get("initial_accumulator_value", 0.0),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "rmsprop":
        return o.RMSprop(
            params_list,
            lr=hp["lr"],
            alpha=hp.get("alpha", 0.99),
            eps=hp.get("eps", 1e-8),
            momentum=hp.get("momentum", 0.0),
            centered=bool(hp.get("centered", 0)),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    betas = (hp.get("beta1", 0.9), hp.get("beta2", 0.999))
    if name in ("adam", "amsgrad"):
        return o.Adam(
            params_list,
            lr=hp["lr"],
            betas=betas,
            eps=hp.get("eps", 1e-8),
            weight_decay=hp.get("weight_decay", 0.0),
            amsgrad=name == "amsgrad",
        )
    if name == "adamw":
        return o.AdamW(
            params_list,
            lr=hp["lr"],
            betas=betas,
            eps=hp.get("eps", 1e-8),
            weight_decay=hp.get("weight_decay", 1e-2),
        )
    if name == "nadam":
        return o.NAdam(
            params_list,
            lr=hp["lr"],
            betas=betas,
            eps=hp.get("eps", 1e-8),
            weight_decay=hp.get("weight_decay", 0.0),
            momentum_decay=hp.get("momentum_decay", 4e-3),
            decoupled_weight_decay=bool(hp.get("decoupled_weight_decay", 0)),
        )
    if name == "radam":
        return o.RAdam(
            params_list,
            lr=hp["lr"],
            betas=betas,
            eps=hp.get("eps", 1e-8),
            weight_decay=hp.get("weight_decay", 0.0),
            decoupled_weight_decay=bool(hp.get("decoupled_weight_decay", 0)),
        )
    if name == "adamax":
        return o.Adamax(
            params_list,
            lr=hp["lr"],
            betas=betas,
            eps=hp.get("eps", 1e-8),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "adadelta":
        return o.Adadelta(
            params_list,
            lr=hp["lr"],
            rho=hp.get("rho", 0.9),
            eps=hp.get("eps", 1e-6),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "adafactor":
        return o.Adafactor(
            params_list,
            lr=hp["lr"],
            beta2_decay=hp.get("beta2_decay", -0.8),
            eps=(hp.get("eps1", float(torch.finfo(torch.float64).eps)), hp.get("eps2", 1e-3)),
            d=hp.get("d", 1.0),
            weight_decay=hp.get("weight_decay", 0.0),
        )
    if name == "rprop":
        return o.Rprop(
            params_list,
            lr=hp["lr"],
            etas=(hp.get("etaminus", 0.5), hp.get("etaplus", 1.2)),
            step_sizes=(hp.get("step_size_min", 1e-6), hp.get("step_size_max", 50.0)),
        )
    raise KeyError(name)


def torch_scheduler(opt, spec, steps, lr):
    """The real lr_scheduler classes for our schedule spec (None for constant, no warmup)."""
    if spec is None:
        return None
    s = torch.optim.lr_scheduler
    kind, warmup = spec["kind"], spec.get("warmup", 0)
    if kind == "constant":
        main = s.LambdaLR(opt, lambda t: 1.0)
    elif kind == "step":
        main = s.StepLR(opt, step_size=spec.get("step_size", 100), gamma=spec.get("gamma", 0.5))
    elif kind == "exponential":
        main = s.ExponentialLR(opt, gamma=spec.get("gamma", 0.99))
    elif kind == "inverse_time":
        decay = spec.get("decay", 0.01)
        main = s.LambdaLR(opt, lambda t: 1 / (1 + decay * t))
    elif kind == "cosine":
        t_max = spec.get("t_max") or steps
        main = s.CosineAnnealingLR(opt, T_max=t_max, eta_min=spec.get("min_factor", 0.0) * lr)
    else:
        raise KeyError(kind)
    if warmup == 0:
        return main
    linear = s.LinearLR(opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
    return s.SequentialLR(opt, [linear, main], milestones=[warmup])


def run_torch(c):
    """Run one case; rows with per-row hyperparameters get one torch optimizer each."""
    f = landscapes.get(c["landscape"])
    starts = np.array(c["starts"], dtype=np.float64)
    hp = c["params"]
    rows = max([len(v) for v in hp.values() if isinstance(v, list)] or [len(starts)])
    if len(starts) != rows:
        starts = np.repeat(starts, rows, axis=0)
    per_row = any(isinstance(v, list) for v in hp.values())
    vector = c["optimizer"] in VECTOR_PARAMS
    groups = [[i] for i in range(rows)] if per_row or vector else [list(range(rows))]
    tensors, optims, scheds = [], [], []
    for g in groups:
        row_hp = {k: (v[g[0]] if isinstance(v, list) else v) for k, v in hp.items()}
        row_starts = starts[g[0]] if vector else starts[g]
        p = torch.tensor(row_starts, dtype=torch.float64, requires_grad=True)
        opt = torch_optimizer(c["optimizer"], [p], row_hp)
        tensors.append(p)
        optims.append(opt)
        scheds.append(torch_scheduler(opt, c["schedule"], c["steps"], row_hp["lr"]))

    rng = np.random.default_rng(c["seed"])
    steps = c["steps"]
    names = BUFFERS[c["optimizer"]]
    theta = np.empty((steps + 1, rows, 2))
    grads = np.empty((steps, rows, 2))
    lrs = np.empty((steps, len(groups)))
    state = {name: np.full((steps + 1, rows, 2), np.nan) for name in names}

    def snapshot(t):
        theta[t] = np.concatenate([p.detach().numpy().reshape(-1, 2) for p in tensors])
        for g, p, opt in zip(groups, tensors, optims, strict=True):
            for name in names:
                buffer = opt.state[p].get(name)
                if buffer is not None:
                    # broadcast: NAdam's mu_product is one number per parameter (both
                    # coordinates show it), Adafactor's buffers have the row's shape (2,)
                    state[name][t, g] = buffer.detach().numpy()

    snapshot(0)
    for t in range(steps):
        with np.errstate(all="ignore"):
            grad = f.grad(theta[t])
            if c["noise"] > 0:
                grad = grad + c["noise"] * rng.standard_normal((rows, 2))
        grads[t] = grad
        for gi, (g, p, opt, sched) in enumerate(zip(groups, tensors, optims, scheds, strict=True)):
            p.grad = torch.from_numpy(np.ascontiguousarray(grad[g].reshape(p.shape)))
            lrs[t, gi] = opt.param_groups[0]["lr"]
            opt.step()
            if sched is not None:
                sched.step()
        snapshot(t + 1)

    with np.errstate(all="ignore"):
        losses = f.value(theta)
    bad = ~(np.abs(theta) <= LIMIT).all(axis=-1) | ~np.isfinite(losses)
    diverged_at = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1)
    if vector and not per_row:  # one torch optimizer per row, all at the same rate
        assert (lrs == lrs[:, :1]).all()
        lrs = lrs[:, :1]
    return theta, grads, lrs, state, diverged_at


def spec_factors(spec, steps):
    """factor(t) exactly as SPEC "Schedules" words it, written independently of the package."""
    out = []
    kind = spec["kind"]
    warmup = spec.get("warmup", 0)
    for t in range(steps):
        if t < warmup:
            out.append((t + 1) / warmup)
            continue
        u = t - warmup
        if kind == "constant":
            out.append(1.0)
        elif kind == "step":
            out.append(spec.get("gamma", 0.5) ** (u // spec.get("step_size", 100)))
        elif kind == "exponential":
            out.append(spec.get("gamma", 0.99) ** u)
        elif kind == "inverse_time":
            out.append(1 / (1 + spec.get("decay", 0.01) * u))
        else:
            t_max = spec.get("t_max") or steps
            m = spec.get("min_factor", 0.0)
            out.append(m + (1 - m) * (1 + np.cos(np.pi * u / t_max)) / 2)
    return np.array(out)


def main() -> None:
    torch.set_default_dtype(torch.float64)
    arrays = {}
    for c in CASES:
        theta, grads, lrs, state, diverged_at = run_torch(c)
        if c["schedule"] is not None:
            # torch's scheduler must follow the spec's factor(t) (up to rounding)
            base = np.array([c["params"]["lr"]]).ravel()
            expected = spec_factors(c["schedule"], c["steps"])[:, None] * base[None, :]
            np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=0, err_msg=c["id"])
        if "diverge" in c["id"]:
            assert (diverged_at >= 0).any(), f"{c['id']} should diverge"
        else:
            assert (diverged_at < 0).all(), f"{c['id']} diverged unexpectedly"
        arrays[f"{c['id']}/theta"] = theta
        arrays[f"{c['id']}/grads"] = grads
        arrays[f"{c['id']}/lrs"] = lrs
        arrays[f"{c['id']}/diverged_at"] = diverged_at
        for name, values in state.items():
            arrays[f"{c['id']}/state/{name}"] = values
        print(f"{c['id']:<26} rows={theta.shape[1]} diverged_at={diverged_at.tolist()}")
    np.savez_compressed(HERE / "golden.npz", **arrays)
    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(f"torch {torch.__version__}: {len(CASES)} cases -> golden.npz, cases.json")


if __name__ == "__main__":
    main()
