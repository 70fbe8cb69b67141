"""What every exporter draws from: a computed scene plus the frame → step schedule.

The renderers never call the core themselves; they get an `ExportScene`, so they can be
tested on hand-made trajectories and the CLI, the API and the page all export the very
same numbers the page shows (app.scene.compute and app.scene.grid).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from app.config import I18N_DIR
from app.export.arrows import Recorded
from app.schemas import ExportRequest
from app.surfaces import CUSTOM
from app.words import say

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Marker:
    """A point drawn on the contour: a known minimum (global/local/saddle)."""

    x: float
    y: float
    kind: str
    value: float | None = None


@dataclass
class ExportRun:
    """One optimizer's path: points (n, 2), finite, truncated before divergence."""

    optimizer: str
    label: str
    color: str
    params: dict[str, float]
    points: np.ndarray
    losses: np.ndarray
    diverged_at: int | None = None
    result: Any = None  # the RunResult the trajectory API would send, for JSON
    symbol: str = "circle"  # the page's marker shape (a Plotly symbol name, app.palette)
    dash: str = "solid"  # the page's line dash (a Plotly line.dash name, app.palette)
    # What the optimizer held at each update (app.scene.Record: grads, lrs, state), for runs
    # the request records; update t leaves points[t]. Arrows and the CSV's state columns.
    record: Recorded | None = None
    # A gradient-free run's samples (app.scene.RunOutcome.samples): per kept point the
    # finite points it evaluated to reach it, (S', 2), or None where thinned out; None for
    # a gradient method. Annealing has one (its proposal), the genetic algorithm its
    # generation.
    samples: list[np.ndarray | None] | None = None
    evaluations: int | None = None  # values of f (gradient-free) or of ∇f it asked for
    # The evaluation count as the legend shows it ("f × 9,520"), or "" (`evaluation_texts`).
    count: str = ""

    @property
    def name(self) -> str:
        """The label without its learning rate ("Momentum", "Adam #2"): what the page's
        notes call a run ("Momentum: below −84 from step 94")."""
        return self.label.split(", ")[0]

    @property
    def legend_label(self) -> str:
        """The label with the evaluation count when there is one: what the legend, the
        handout's legend and its status table show ("Genetic algorithm, σ = 0.3, f × 9,520")."""
        return f"{self.label}, {self.count}" if self.count else self.label

    @property
    def proposes(self) -> bool:
        """Whether the run's samples are one proposal a point (simulated annealing's
        chain) rather than a population (the genetic algorithm's generation, P ≥ 4 points
        from its first, which is finite and always kept)."""
        first = next((s for s in self.samples or [] if s is not None), None)
        return first is not None and len(first) == 1

    def sample_index(self, step: int) -> int | None:
        """The kept entry shown at `step`: the nearest one at or before it (the path's last
        point once the run has ended), None if the run has no samples there."""
        if self.samples is None or not len(self.samples):
            return None
        for index in range(min(step, len(self.samples) - 1), -1, -1):
            if self.samples[index] is not None:
                return index
        return None

    def samples_at(self, step: int) -> np.ndarray | None:
        """The samples shown at `step` ((S', 2), see `sample_index`), or None."""
        index = self.sample_index(step)
        if index is None or self.samples is None:
            return None
        return self.samples[index]

    def rejected(self, index: int) -> bool:
        """Whether annealing's proposal at kept entry `index` was turned down: the chain
        stayed put, so point `index` is not the proposal (base.GradientFree's contract)."""
        entry = None if self.samples is None else self.samples[index]
        if entry is None or not len(entry):
            return False
        return not np.array_equal(self.points[index], entry[0])


@dataclass
class ExportScene:
    """A landscape, its contour colours and the runs raced across it."""

    landscape: str
    title: str
    bounds: tuple[tuple[float, float], tuple[float, float]]
    start: tuple[float, float]
    steps: int
    runs: list[ExportRun]
    minima: list[Marker] = field(default_factory=list)
    user_title: str = ""
    # (resolution) -> (x (N,), y (N,), color (N, N)) with color[i, j] at (x[j], y[i]).
    color_grid: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
    formula: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    lang: str = "en"  # the page's language: every word the export shows
    preset: str | None = None  # the preset the scene came from: its title, its lesson
    log_color: bool = False  # color_grid is log10(f − min f + eps), as on the page
    # (resolution) -> f itself on that grid (N, N): the landscape's own range, which sets the
    # loss chart's value band as on the page (app.export.ranges).
    value_grid: Callable[[int], np.ndarray] | None = None
    # f itself, (n, 2) -> (n,): the loss of a gradient-free run's samples in the CSV.
    value: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def full_title(self) -> str:
        """The one title line: the user's title, else the preset's, else the landscape's —
        in the scene's language (never two of them joined: they often say the same)."""
        if self.user_title:
            return self.user_title
        if self.preset is not None:
            from app import presets

            titles = presets.get(self.preset).title
            return titles.get(self.lang, titles["en"])
        if self.landscape == CUSTOM:  # a typed function: its formula says which one
            return self.title
        return ui_words(self.lang).get(f"landscape.{self.landscape}", self.title)


@lru_cache(maxsize=4)
def ui_words(lang: str) -> dict[str, str]:
    """The page's own words in `lang` (static/i18n/<lang>.json), English for a missing key,
    so the handout says what the page says.

    Cache budget: 4 languages' words, each a dict of ~25 KB of text (under 1 MB in all).
    """
    english = json.loads((I18N_DIR / "en.json").read_text(encoding="utf-8"))
    if lang == "en":
        return english
    return {**english, **json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))}


def frame_steps(steps: int, frames: int) -> np.ndarray:
    """The step shown by each frame: `frames` steps spread evenly over 0..steps, both ends kept.

    With frames ≤ steps + 1 the rounded steps are distinct, so no two frames are the same.
    """
    frames = max(1, min(frames, steps + 1))
    if frames == 1:
        return np.array([steps])
    return np.rint(np.linspace(0, steps, frames)).astype(int)


def clip_steps(steps: int, frames: int, hold: int = 0) -> np.ndarray:
    """The step shown by each of `frames` frames of a clip: the first frames - hold move
    evenly through 0..steps (a step held for several frames when frames outnumber steps,
    steps sampled when steps outnumber frames), the last `hold` frames show the end.

    So a 60-step scene still fills its seconds, and the outcome stays up before a loop.
    """
    frames = max(1, frames)
    hold = min(max(0, hold), frames - 1)
    moving = frames - hold
    if moving == 1:
        shown = np.array([steps])
    else:
        # floor, not round: every step gets the same share of frames, step 0 included.
        shown = np.minimum(np.floor(np.linspace(0, steps + 1, moving, endpoint=False)), steps)
        shown[-1] = steps
    return np.concatenate([shown, np.full(hold, steps)]).astype(int)


def run_labels(
    optimizers: list[str],
    params: list[dict[str, float]],
    batches: list[int | None] | None = None,
    lang: str = "en",
) -> list[str]:
    """Legend labels: the optimizer's title as the page's legend shows it (in `lang` where
    the page has words for it: 焼きなまし法), and its learning rate as η (the page's
    symbol for it, in every language: "SGD, η = 0.01"; σ for a gradient-free method's
    step, which that slot holds: "Genetic algorithm, σ = 0.3"); repeats of one optimizer get ' #1',
    ' #2'. A run on mini-batches adds its batch size as B (the course notes' symbol),
    which tells repeats apart by itself: "SGD, η = 0.1, B = 8"."""
    import optimizers as registry

    words = ui_words(lang)

    sizes = batches if batches is not None else [None] * len(optimizers)
    # repeats are counted among runs of one optimizer on one batch size
    keys = [
        name if size is None else f"{name}@{size}"
        for name, size in zip(optimizers, sizes, strict=True)
    ]
    labels = []
    for name, key, unique, values, batch in zip(
        optimizers, keys, csv_names(keys), params, sizes, strict=True
    ):
        title = words.get(f"optimizers.title.{name}", registry.title(name))
        label = title + unique[len(key) :].replace("#", " #")
        if "lr" in values:  # a gradient-free method's lr slot holds its step σ, not a rate
            symbol = "σ" if issubclass(registry.get(name), registry.GradientFree) else "η"
            label += f", {symbol} = {values['lr']:.3g}"
        if batch is not None:
            label += f", B = {batch}"
        labels.append(label)
    return labels


def evaluation_text(optimizer: str, count: int, lang: str = "en") -> str:
    """What a run asked for, in the page's status words: "f × 9,520" for a gradient-free
    run (values of f), "∇f × 500" for a gradient method (gradients); ja "f × 9,520 回"."""
    import optimizers as registry

    free = issubclass(registry.get(optimizer), registry.GradientFree)
    key = "status.evaluations.value" if free else "status.evaluations.gradient"
    return say(ui_words(lang)[key], n=f"{count:,}")


def evaluation_texts(runs: list[tuple[str, int | None]], lang: str) -> list[str]:
    """Each run's evaluation count for the legend when the race holds a gradient-free run,
    whose values of f are the fair comparison with the others' gradients ("f × 9,520",
    "∇f × 500"); all "" in a race of gradient methods (one gradient a step each: the step
    counter says it), so their legends stay as they were."""
    import optimizers as registry

    if not any(issubclass(registry.get(name), registry.GradientFree) for name, _ in runs):
        return ["" for _ in runs]
    return ["" if count is None else evaluation_text(name, count, lang) for name, count in runs]


def csv_names(optimizers: list[str]) -> list[str]:
    """The `optimizer` column: the name, or name#k when one optimizer runs several times."""
    counts: dict[str, int] = {}
    names = []
    for name in optimizers:
        counts[name] = counts.get(name, 0) + 1
        names.append(name if optimizers.count(name) == 1 else f"{name}#{counts[name]}")
    return names


def build_scene(request: ExportRequest) -> ExportScene:
    """Run the request's scene through the same code as the page (app.scene)."""
    from app import scene as scene_module
    from app import surfaces

    f = surfaces.resolve(request.landscape)
    trajectory_request = request.trajectory_request()
    outcomes = scene_module.compute(trajectory_request)
    names = [o.optimizer for o in outcomes]
    sizes = [o.batch for o in outcomes]
    if any(b is not None for b in sizes):  # beside mini-batches, the full batch is B = N
        sizes = [f.samples if b is None else b for b in sizes]
    labels = run_labels(names, [o.params for o in outcomes], sizes, request.lang)
    evaluations: list[int | None] = [o.evaluations for o in outcomes]
    counts = evaluation_texts(list(zip(names, evaluations, strict=True)), request.lang)
    runs = [
        ExportRun(
            optimizer=o.optimizer,
            label=label,
            count=count,
            color=o.color,
            params=dict(o.params),
            points=np.asarray(o.points, dtype=float).reshape(-1, 2),
            losses=np.asarray(o.losses, dtype=float).reshape(-1),
            diverged_at=o.diverged_at,
            result=o.to_result(),
            symbol=o.symbol,
            dash=getattr(o, "dash", "solid"),
            record=getattr(o, "record", None),
            samples=o.samples,
            evaluations=o.evaluations,
        )
        for o, label, count in zip(outcomes, labels, counts, strict=True)
    ]
    start = f.default_start if request.start is None else request.start

    def color_grid(resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = scene_module.grid(request.landscape, resolution)
        return np.asarray(g.x), np.asarray(g.y), np.asarray(g.color)

    def value_grid(resolution: int) -> np.ndarray:
        return np.asarray(scene_module.grid(request.landscape, resolution).z)

    log_color = bool(scene_module.grid(request.landscape, 32).log_color)

    scene_fields = trajectory_request.model_dump(mode="json")
    scene_fields["start"] = [float(start[0]), float(start[1])]
    (xmin, xmax), (ymin, ymax) = f.bounds
    return ExportScene(
        landscape=f.name,
        title=f.title,
        bounds=((float(xmin), float(xmax)), (float(ymin), float(ymax))),
        start=(float(start[0]), float(start[1])),
        steps=request.steps,
        runs=runs,
        minima=[Marker(float(m.x), float(m.y), m.kind, float(m.value)) for m in f.minima],
        user_title=request.title,
        color_grid=color_grid,
        formula=f.formula,
        request=scene_fields,
        lang=request.lang,
        preset=request.preset,
        log_color=log_color,
        value_grid=value_grid,
        value=lambda xy: np.asarray(f.value(xy), dtype=float),
    )
