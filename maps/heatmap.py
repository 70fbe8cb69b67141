"""The (learning rate, momentum) plane of one optimizer: Distill's "Why Momentum Really
Works" picture, for the current landscape and start.

    h = maps.heatmap("ill_conditioned", "momentum", {}, start, 500,
                     x=("lr", np.geomspace(1e-3, 3, 48)), y=("momentum", np.linspace(0, 0.99, 40)))
    h.settled_at[j, i]     # steps to settle at lr x[i] and momentum y[j]; −1 never

Every cell is one row of one run (both hyperparameters per row), so a 64 × 64 plane is
4,096 rows of ``optimizers.summary``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import optimizers
from optimizers import status

#: The y axis each optimizer's plane sweeps unless asked otherwise: its momentum-like
#: knob (the one whose interplay with η the lecture shows), else its other main knob.
DEFAULT_Y: dict[str, str] = {
    "sgd": "weight_decay",
    "momentum": "momentum",
    "nag": "momentum",
    "adagrad": "lr_decay",
    "rmsprop": "alpha",
    "adam": "beta1",
    "adamw": "weight_decay",  # decoupled: the lesson AdamW is for
    "amsgrad": "beta2",  # v's memory, which AMSGrad's max keeps
    "nadam": "beta1",
    "radam": "beta2",  # sets how long the warm-up of plain momentum steps lasts
    "adamax": "beta1",
    "adadelta": "rho",
    "adafactor": "beta2_decay",
    "rprop": "etaplus",
}


@dataclass(frozen=True)
class Heatmap:
    """Per cell (row j: y value j; column i: x value i): final loss, gap to f*, steps to
    settle and the step it diverged (−1 = never)."""

    optimizer: str
    x_name: str
    x_values: np.ndarray
    y_name: str
    y_values: np.ndarray
    final_loss: np.ndarray
    gap: np.ndarray
    settled_at: np.ndarray
    diverged_at: np.ndarray


def default_y(name: str) -> str:
    """The y axis of ``name``'s plane (DEFAULT_Y), or its first knob other than lr."""
    if name in DEFAULT_Y:
        return DEFAULT_Y[name]
    others = [p.name for p in optimizers.spec(name) if p.name != "lr" and not p.integer]
    if not others:
        raise ValueError(f"{name} has no hyperparameter besides lr to sweep")
    return others[0]


def heatmap(
    landscape: Any,
    optimizer: str,
    params: Mapping[str, float],
    start: Any,
    steps: int,
    x: tuple[str, Any],
    y: tuple[str, Any],
    noise: float = 0.0,
    seed: int = 0,
    schedule: Any = None,
) -> Heatmap:
    """``optimizer`` at every (x, y) pair of hyperparameter values, the others from
    ``params``; x and y name two different hyperparameters (ValueError otherwise)."""
    if isinstance(landscape, str):
        import landscapes

        landscape = landscapes.get(landscape)
    (x_name, xs), (y_name, ys) = x, y
    if x_name == y_name:
        raise ValueError(f"x and y must be different hyperparameters, both are {x_name!r}")
    switches = [p.name for p in optimizers.spec(optimizer) if p.integer]
    for axis in (x_name, y_name):
        if axis in switches:
            axes = [p.name for p in optimizers.spec(optimizer) if not p.integer]
            raise ValueError(
                f"{optimizer}: {axis} is a 0/1 switch, not an axis to sweep; "
                f"choose among {', '.join(axes)}"
            )
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    grid_x, grid_y = np.meshgrid(xs, ys)  # (ny, nx): row j holds y value j
    opt = optimizers.create(optimizer, **{**params, x_name: grid_x.ravel(), y_name: grid_y.ravel()})
    s = optimizers.summary(landscape, opt, start, steps, noise, seed, schedule)
    shape = grid_x.shape
    f_star = status.global_minimum_value(landscape)
    return Heatmap(
        optimizer,
        x_name,
        xs,
        y_name,
        ys,
        s.final_loss.reshape(shape),
        (s.final_loss - f_star).reshape(shape),
        s.settled_at.reshape(shape),
        s.diverged_at.reshape(shape),
    )
