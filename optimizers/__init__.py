"""Pure-NumPy optimizers that reproduce ``torch.optim`` step for step, plus the runner.

    opt = optimizers.create("adam", lr=0.05)
    traj = optimizers.run(landscapes.get("rosenbrock"), opt, starts, steps=500)

``reference.py`` is the definition of a run, the plain loop to read first; ``runner.py``
computes the same bits faster; ``status.py`` says how a run ends. Each optimizer is one
file with its equations. Adding an optimizer is one new file (a subclass of
``base.Optimizer``) plus one line in ``_REGISTRY``.
"""

from __future__ import annotations

import reprlib
from typing import Any

from optimizers.adadelta import Adadelta
from optimizers.adafactor import Adafactor
from optimizers.adagrad import Adagrad
from optimizers.adam import Adam
from optimizers.adamax import Adamax
from optimizers.adamw import AdamW
from optimizers.amsgrad import AMSGrad
from optimizers.annealing import SimulatedAnnealing
from optimizers.base import GROUPS, GradientFree, HyperParam, Optimizer
from optimizers.genetic import Genetic
from optimizers.lamb import LAMB
from optimizers.lars import LARS
from optimizers.lion import Lion
from optimizers.momentum import Momentum
from optimizers.nadam import NAdam
from optimizers.nag import NAG
from optimizers.radam import RAdam
from optimizers.reference import LIMIT, Trajectory
from optimizers.rmsprop import RMSprop
from optimizers.rprop import Rprop
from optimizers.runner import Block, Record, run, run_many, stream, stream_many
from optimizers.schedules import Schedule, schedule
from optimizers.schedules import kinds as schedule_kinds
from optimizers.schedules import options as schedule_options
from optimizers.sgd import SGD
from optimizers.status import Status, classify, classify_rows
from optimizers.summary import Summary, summary, summary_many

_REGISTRY: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (
        SGD,
        Momentum,
        NAG,
        Adagrad,
        RMSprop,
        Adam,
        AdamW,
        AMSGrad,
        NAdam,
        RAdam,
        Adamax,
        Adadelta,
        Adafactor,
        Rprop,
    )
}
_REGISTRY |= {cls.name: cls for cls in (Lion, LARS, LAMB)}  # exact to optax, not torch
# the contrasts: they sample f and never read its gradient (base.GradientFree)
_REGISTRY |= {cls.name: cls for cls in (SimulatedAnnealing, Genetic)}

__all__ = [
    "LIMIT",
    "Block",
    "GradientFree",
    "HyperParam",
    "Optimizer",
    "Record",
    "Schedule",
    "Status",
    "Summary",
    "Trajectory",
    "classify",
    "classify_rows",
    "create",
    "get",
    "groups",
    "names",
    "run",
    "run_many",
    "schedule",
    "schedule_kinds",
    "schedule_options",
    "spec",
    "stream",
    "stream_many",
    "summary",
    "summary_many",
    "title",
]


def names() -> tuple[str, ...]:
    """Optimizer names, in the order the page lists them."""
    return tuple(_REGISTRY)


def groups() -> dict[str, tuple[str, ...]]:
    """Optimizer names per picker group (``base.GROUPS``, in order), each in ``names()``
    order; a group with no optimizer yet is left out."""
    found = {group: tuple(n for n, c in _REGISTRY.items() if c.group == group) for group in GROUPS}
    return {group: members for group, members in found.items() if members}


def get(name: str) -> type[Optimizer]:
    """The optimizer class for ``name`` (ValueError listing the valid names)."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown optimizer {reprlib.repr(name)}; valid: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def spec(name: str) -> tuple[HyperParam, ...]:
    """Hyperparameter specs of ``name``: default, range, log-scale flag, help."""
    return get(name).hyperparams


def title(name: str) -> str:
    """Display name, e.g. ``"Nesterov (NAG)"``."""
    return get(name).title


def create(name: str, **params: Any) -> Optimizer:
    """An optimizer with validated hyperparameters (defaults filled).

    Each value is a number or a (K,) array, one value per row of the run.
    """
    return get(name)(**params)
