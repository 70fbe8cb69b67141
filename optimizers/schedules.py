"""Learning-rate schedules: a factor per update that multiplies the base learning rate.

Timing follows ``torch.optim.lr_scheduler`` called once after every ``optimizer.step()``:
update t (0-based) uses ``factor(t)``, so the first update always runs at the base rate
(or at 1/W of it under warmup).

==============  ============================================  ==========================
kind            factor(t)                                     PyTorch
==============  ============================================  ==========================
constant        1                                             (no scheduler)
step            γ^⌊t / step_size⌋                             StepLR
exponential     γ^t                                           ExponentialLR
inverse_time    1 / (1 + decay·t)  (Keras "time-based decay")  LambdaLR
cosine          m + (1 − m)(1 + cos(π t / t_max)) / 2          CosineAnnealingLR with
                (periodic past t_max, like torch)              eta_min = m·lr
==============  ============================================  ==========================

Any kind takes ``warmup=W``: factor (t + 1)/W for t < W, then the schedule counted from
the end of warmup, factor(t) = schedule(t − W) — torch's
``SequentialLR([LinearLR(1/W, 1, total_iters=W − 1), main], milestones=[W])``.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizers.base import HyperParam, check_known, check_value

_WARMUP = HyperParam(
    "warmup",
    0,
    0,
    100_000,
    False,
    "Linear warmup over the first W updates: factor (t + 1)/W.",
    integer=True,
)

KINDS: dict[str, tuple[HyperParam, ...]] = {
    "constant": (_WARMUP,),
    "step": (
        HyperParam(
            "step_size",
            100,
            1,
            100_000,
            False,
            "Multiply the rate by γ every step_size updates.",
            integer=True,
        ),
        HyperParam("gamma", 0.5, 0.0, 1.0, False, "Factor γ applied at every step."),
        _WARMUP,
    ),
    "exponential": (
        HyperParam("gamma", 0.99, 0.0, 1.0, False, "Factor γ applied after every update."),
        _WARMUP,
    ),
    "inverse_time": (
        HyperParam("decay", 0.01, 0.0, 10.0, False, "Rate becomes lr / (1 + decay·t)."),
        _WARMUP,
    ),
    "cosine": (
        HyperParam(
            "t_max",
            None,
            1,
            100_000,
            False,
            "Updates from the base rate down to the minimum (default: the run's steps).",
            integer=True,
        ),
        HyperParam(
            "min_factor", 0.0, 0.0, 1.0, False, "Lowest rate, as a fraction of the base rate."
        ),
        _WARMUP,
    ),
}


def kinds() -> tuple[str, ...]:
    """Schedule kinds, in the order a menu should show them."""
    return tuple(KINDS)


def options(kind: str) -> tuple[HyperParam, ...]:
    """The options of one schedule kind (for building controls)."""
    _check_kind(kind)
    return KINDS[kind]


def _check_kind(kind: Any) -> None:
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown schedule {reprlib.repr(kind)}; valid: {', '.join(KINDS)}")


@dataclass(frozen=True)
class Schedule:
    """A validated schedule. ``options`` holds every option, defaults filled
    (``t_max`` stays None until a run supplies its number of steps)."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def factors(self, steps: int) -> np.ndarray:
        """factor(t) for the updates t = 0 … steps − 1 of a run of ``steps`` updates."""
        t = np.arange(steps, dtype=np.float64)
        warmup = self.options["warmup"]
        if warmup == 0:
            return self._main(t, steps)
        out = np.empty(steps)
        early = t < warmup
        out[early] = (t[early] + 1) / warmup
        out[~early] = self._main(t[~early] - warmup, steps)
        return out

    def _main(self, t: np.ndarray, steps: int) -> np.ndarray:
        o = self.options
        if self.kind == "constant":
            return np.ones_like(t)
        if self.kind == "step":
            return o["gamma"] ** np.floor(t / o["step_size"])
        if self.kind == "exponential":
            return o["gamma"] ** t
        if self.kind == "inverse_time":
            return 1 / (1 + o["decay"] * t)
        t_max = o["t_max"] if o["t_max"] is not None else max(steps, 1)
        low = o["min_factor"]
        return low + (1 - low) * (1 + np.cos(np.pi * t / t_max)) / 2

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.options}


def schedule(kind: str = "constant", **opts: Any) -> Schedule:
    """Build a schedule; ValueError names the unknown kind/option or the allowed range."""
    _check_kind(kind)
    check_known(f"schedule {kind!r}", "option", KINDS[kind], opts)
    specs = {spec.name: spec for spec in KINDS[kind]}
    resolved: dict[str, Any] = {}
    for name, spec in specs.items():
        value = opts.get(name, spec.default)
        if value is None and spec.default is None:
            resolved[name] = None
            continue
        checked = check_value(f"schedule {kind}", spec, value)
        if isinstance(checked, np.ndarray):
            raise ValueError(f"schedule {kind}: {name} must be a single number, not an array")
        resolved[name] = int(checked) if spec.integer else checked
    return Schedule(kind, resolved)
