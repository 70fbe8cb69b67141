"""Curated lecture scenes: each shows one lesson, with a paragraph in English and Japanese.

A preset's `scene` has the page state's shape (landscape, optimizers, params, steps,
start, noise, seed, schedule, mode), so the page applies it as is; `request()` turns it
into the body of POST /api/trajectories, which is how tests/app/test_presets.py checks
that every lesson really shows. Hyperparameters left out take the server's defaults.

The words live with the rest of the page's text, in static/i18n/<lang>.json, under
`preset.<id>.title` and `preset.<id>.text`: a translator edits one file per language.
GET /api/presets serves them with each scene, as {"title": {lang: …}, "text": {lang: …}}.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any

from app.config import CLASSIC_OPTIMIZERS
from app.words import words


@dataclass(frozen=True)
class Preset:
    """One lecture scenario; `title` and `text` map a language code to its words."""

    id: str
    landscape: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[str, ...]
    params: dict[str, dict[str, float]] = field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0
    schedule: dict[str, Any] | None = None
    mode: str = "overlay"
    # the optimizer whose arrows, equations and recorded state the lesson shows
    inspect: str | None = None
    # "maps": the lesson is told with the Maps (sweep, heatmap, basins, tune), not the race,
    # opened at `panel` (None: the first, the sweep)
    stage: str = "race"
    panel: str | None = None
    # a landscape over data: every optimizer on mini-batches of `batch` samples (None: the
    # full batch), and with `batch_full` each also on the full batch, raced beside them
    batch: int | None = None
    batch_full: bool = False

    @property
    def title(self) -> dict[str, str]:
        return words(f"preset.{self.id}.title")

    @property
    def text(self) -> dict[str, str]:
        return words(f"preset.{self.id}.text")

    def scene(self) -> dict[str, Any]:
        """The page-state fragment this preset sets."""
        return {
            "landscape": self.landscape,
            "start": list(self.start),
            "steps": self.steps,
            "optimizers": list(self.optimizers),
            "params": {name: dict(values) for name, values in self.params.items()},
            "noise": self.noise,
            "seed": self.seed,
            "schedule": dict(self.schedule) if self.schedule else {"kind": "constant"},
            "mode": self.mode,
            **({"inspect": self.inspect} if self.inspect else {}),
            **({"stage": self.stage} if self.stage != "race" else {}),
            **({"panel": self.panel} if self.panel else {}),
            **({"batch": self.batch} if self.batch is not None else {}),
            **({"batchFull": True} if self.batch_full else {}),
        }

    def batches(self) -> list[int | None]:
        """Each optimizer's runs by batch size, as the page races them: full batch first."""
        if self.batch is None:
            return [None]
        return [None, self.batch] if self.batch_full else [self.batch]

    def request(self) -> dict[str, Any]:
        """The POST /api/trajectories body of this scene."""
        return {
            "landscape": self.landscape,
            "start": list(self.start),
            "steps": self.steps,
            "runs": [
                {
                    "optimizer": name,
                    "params": dict(self.params.get(name, {})),
                    **({"record": True} if name == self.inspect else {}),
                    **({"batch": batch} if batch is not None else {}),
                }
                for name in self.optimizers
                for batch in self.batches()
            ],
            "noise": self.noise,
            "seed": self.seed,
            "schedule": dict(self.schedule) if self.schedule else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "scene": self.scene()}


PRESETS: tuple[Preset, ...] = (
    Preset(
        id="saddle",
        landscape="saddle",
        start=(-1.8, 0.001),
        steps=200,
        optimizers=("sgd", "momentum", "rmsprop", "adam"),
        params={
            "sgd": {"lr": 0.01},
            "momentum": {"lr": 0.01},
            "rmsprop": {"lr": 0.01},
            "adam": {"lr": 0.05},
        },
    ),
    Preset(
        id="rosenbrock",
        landscape="rosenbrock",
        start=(-1.5, 2.0),
        steps=1000,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.001}, "momentum": {"lr": 0.001}, "adam": {"lr": 0.05}},
    ),
    Preset(
        id="rastrigin",
        landscape="rastrigin",
        start=(4.5, -3.5),
        steps=300,
        optimizers=CLASSIC_OPTIMIZERS,
        params={
            "sgd": {"lr": 0.002},
            "momentum": {"lr": 0.004, "momentum": 0.95},
            "nag": {"lr": 0.002},
            "adagrad": {"lr": 0.5},
            "rmsprop": {"lr": 0.05},
            "adam": {"lr": 0.1},
        },
    ),
    Preset(
        id="ill_conditioned",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=60,
        optimizers=("sgd", "momentum", "adagrad", "adam"),
        params={
            "sgd": {"lr": 0.1},
            "momentum": {"lr": 0.1, "momentum": 0.9},
            "adagrad": {"lr": 1.5},
            "adam": {"lr": 0.3},
        },
    ),
    Preset(
        id="adam_axes",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=100,
        optimizers=("sgd", "adam"),
        params={"sgd": {"lr": 0.1}, "adam": {"lr": 0.1}},
        inspect="adam",
    ),
    Preset(
        id="divergence",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=100,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 1.2}, "momentum": {"lr": 2.0}, "adam": {"lr": 2.0}},
    ),
    Preset(
        id="warmup",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=120,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.95}, "momentum": {"lr": 0.2}, "adam": {"lr": 0.8}},
        schedule={"kind": "cosine", "warmup": 20, "min_factor": 0.0},
    ),
    Preset(
        id="stability_limit",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=500,
        optimizers=("sgd", "momentum", "nag"),
        params={"sgd": {"lr": 0.1}, "momentum": {"lr": 0.1}, "nag": {"lr": 0.1}},
        stage="maps",
    ),
    Preset(
        id="basins_himmelblau",
        landscape="himmelblau",
        start=(-0.3, -0.9),
        steps=500,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.01}, "momentum": {"lr": 0.01}, "adam": {"lr": 0.1}},
        stage="maps",
        panel="basins",
    ),
    Preset(
        id="basins_rastrigin",
        landscape="rastrigin",
        start=(4.5, -3.5),
        steps=500,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.002}, "momentum": {"lr": 0.002}, "adam": {"lr": 0.05}},
        stage="maps",
        panel="basins",
    ),
    Preset(
        id="noise",
        landscape="booth",
        start=(-8.0, -6.0),
        steps=300,
        optimizers=("sgd", "momentum", "adam"),
        params={"sgd": {"lr": 0.02}, "momentum": {"lr": 0.002}, "adam": {"lr": 0.3}},
        noise=3.0,
        seed=1,
    ),
    # Issue 14: the later optimizers, each raced against the one it answers.
    Preset(
        id="adamw",
        landscape="booth",
        start=(-8.0, -6.0),
        steps=500,
        optimizers=("sgd", "adam", "adamw"),
        params={
            "sgd": {"lr": 0.02, "weight_decay": 0.1},
            "adam": {"lr": 0.1, "weight_decay": 0.1},
            "adamw": {"lr": 0.1, "weight_decay": 0.1},
        },
    ),
    Preset(
        id="amsgrad",
        landscape="rosenbrock",
        start=(-1.5, 2.0),
        steps=5000,
        optimizers=("adam", "amsgrad"),
        params={"adam": {"lr": 0.05}, "amsgrad": {"lr": 0.05}},
    ),
    Preset(
        id="lion",
        landscape="ill_conditioned",
        start=(-7.0, 2.0),
        steps=300,
        optimizers=("adam", "lion"),
        params={"adam": {"lr": 0.05}, "lion": {"lr": 0.05}},
    ),
    Preset(
        id="minibatch",
        landscape="faithful_linear",
        start=(-0.5, 1.5),
        steps=100,
        optimizers=("sgd",),
        params={"sgd": {"lr": 0.1}},
        batch=8,
        batch_full=True,
    ),
    # Issue 14's gradient-free contrasts: why a population helps on Rastrigin, why
    # gradients help on Rosenbrock (the status table counts each run's evaluations).
    Preset(
        id="population_rastrigin",
        landscape="rastrigin",
        start=(-2.2, 3.2),
        steps=300,
        optimizers=("sgd", "adam", "genetic"),
        params={
            "sgd": {"lr": 0.004},
            "adam": {"lr": 0.1},
            "genetic": {"lr": 0.3, "population": 30, "spread": 2.0},
        },
    ),
    Preset(
        id="gradients_rosenbrock",
        landscape="rosenbrock",
        start=(-1.2, 1.0),
        steps=500,
        optimizers=("momentum", "annealing", "genetic"),
        params={"momentum": {"lr": 0.003, "momentum": 0.9}},
    ),
)


def get(preset_id: str) -> Preset:
    """The preset of that id; ValueError lists the valid ids."""
    for preset in PRESETS:
        if preset.id == preset_id:
            return preset
    valid = ", ".join(p.id for p in PRESETS)
    raise ValueError(f"unknown preset {reprlib.repr(preset_id)}; valid presets: {valid}")
