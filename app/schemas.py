"""Request and reply models (pydantic v2). Validation lives here, not in handlers.

Limits come from the spec: steps ≤ 10,000, runs ≤ 12, grid resolution ≤ 800,
export frames ≤ 2,000 and size ≤ 1920×1080. Each scene and export option's default and
range is an `Option` in app.config, which the models here enforce and `gradscape list`,
the CLI's help and GET /api/settings print, so what is shown is what is accepted. Names
(landscape, optimizer, schedule kind) and hyperparameter ranges are checked by the core's
own registries, so a bad value gets the core's message, which names the field and its
allowed range. A start must lie within its landscape's bounds, the region every view and
export shows.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from fastapi.encoders import jsonable_encoder
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict, WithJsonSchema

import landscapes
import optimizers
from app import surfaces
from app.config import (
    BASIN_RESOLUTION,
    BASIN_RUNS,
    DEFAULT_GRID_RESOLUTION,
    DURATION,
    FPS,
    FRAME,
    FRAMES,
    HEATMAP_COUNT,
    HEIGHT,
    MAP_STEPS,
    MAX_EXPORT_FRAMES,
    MAX_GRID_DIGITS,
    MAX_GRID_RESOLUTION,
    MAX_SAMPLED,
    MAX_STEPS,
    MIN_GRID_DIGITS,
    MIN_GRID_RESOLUTION,
    NOISE,
    RUNS,
    SAMPLE_POINTS,
    SEED,
    STEPS,
    SWEEP_COUNT,
    TITLE,
    TUNE_BUDGET,
    WIDTH,
    Option,
)
from optimizers.base import HyperParam
from optimizers.status import Code as StatusCode


def show_number(value: float) -> str:
    """Shortest text that reads back as exactly `value` (4294967295, not 4.29497e+09)."""
    short = f"{value:g}"
    if float(short) == value:
        return short
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def schedule_options(kind: str) -> tuple[HyperParam, ...]:
    """The core's options of a schedule kind, as the app accepts them.

    Options counted in updates (warmup, step_size, t_max) stop at MAX_STEPS: no run here
    is longer, so a larger value would only advertise a range no scene can use.
    """
    return tuple(
        dataclasses.replace(o, max=min(o.max, MAX_STEPS)) if o.integer else o
        for o in optimizers.schedule_options(kind)
    )


SCHEDULE_KINDS: tuple[str, ...] = tuple(optimizers.schedule_kinds())
"""Every schedule kind, in the core's order: the models, the page and the CLI read this."""


def _schedule_option_table() -> dict[str, tuple[HyperParam, tuple[str, ...]]]:
    """Every schedule option by name: its spec (as the app accepts it) and the kinds with it.

    Options only some kinds take come first, in the core's order, then those every kind
    takes (warmup), as a menu shows them. An option is one JSON property and one CLI
    flag, so it must have one range in every kind that has it.
    """
    table: dict[str, tuple[HyperParam, tuple[str, ...]]] = {}
    for kind in SCHEDULE_KINDS:
        for option in schedule_options(kind):
            spec, kinds = table.get(option.name, (option, ()))
            if (spec.min, spec.max, spec.integer) != (option.min, option.max, option.integer):
                raise RuntimeError(f"schedule option {option.name!r} differs across kinds")
            table[option.name] = (spec, (*kinds, kind))
    common = [name for name, (_, kinds) in table.items() if len(kinds) == len(SCHEDULE_KINDS)]
    return {name: table[name] for name in sorted(table, key=lambda n: n in common)}


SCHEDULE_OPTIONS: dict[str, tuple[HyperParam, tuple[str, ...]]] = _schedule_option_table()
"""Generated from optimizers.schedules: ScheduleSpec's fields and `gradscape export`'s flags."""


def schedule_range(name: str) -> tuple[float, float]:
    """(min, max) of a schedule option: the same in every kind that has it."""
    spec, _ = SCHEDULE_OPTIONS[name]
    return spec.min, spec.max


# Strict: JSON true/false or "3" are not numbers here (pydantic's lax mode would coerce them).
# Integers are still accepted where a float is expected.
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Whole = Annotated[int, Field(strict=True)]
ScheduleKind = Literal[SCHEDULE_KINDS]  # type: ignore[valid-type]


def _optimizer_names(schema: JsonDict) -> None:
    schema["enum"] = list(optimizers.names())


class RunSpec(BaseModel):
    """One optimizer of the scene; params left out take the optimizer's defaults."""

    model_config = ConfigDict(extra="forbid")

    optimizer: str = Field(
        description="Optimizer name, one of GET /api/optimizers.",
        json_schema_extra=_optimizer_names,
    )
    params: dict[str, Finite] = Field(
        default_factory=dict, description="Hyperparameters by PyTorch name, e.g. {'lr': 0.05}."
    )
    record: bool = Field(
        default=False,
        strict=True,  # true or false: "yes" or 1 is a mistake, not a wish
        description=(
            "Also send what each update saw and held: its gradient (g + λθ under weight "
            "decay), learning rate and buffers under torch's state names (see RunRecord)."
        ),
    )
    batch: Whole | None = Field(
        default=None,
        description=(
            "Mini-batch size on a landscape over data (GET /api/landscapes `samples` = N > 0): "
            "each update's gradient is over this many samples, drawn as DataLoader("
            "shuffle=True) does from the scene's seed; 1 … N, null for the full batch. Runs "
            "of one scene may differ (SGD full batch beside SGD with batch 8)."
        ),
    )

    @model_validator(mode="after")
    def _check_with_core(self) -> RunSpec:
        optimizers.create(self.optimizer, **self.params)  # ValueError names name/param/range
        return self


class _Schedule(BaseModel):
    """Learning-rate schedule; a factor on the base learning rate (PyTorch timing)."""

    model_config = ConfigDict(extra="forbid")

    kind: ScheduleKind = "constant"

    def options(self) -> dict[str, float | int]:
        """Keyword arguments for optimizers.schedule(kind, **options), unset ones left out."""
        return self.model_dump(exclude={"kind"}, exclude_none=True)

    @model_validator(mode="after")
    def _check_with_core(self) -> _Schedule:
        optimizers.schedule(self.kind, **self.options())  # e.g. an option the kind lacks
        return self


def _schedule_field(spec: HyperParam, kinds: tuple[str, ...]) -> tuple[Any, Any]:
    """A ScheduleSpec field from the core's spec: an option every kind has keeps its
    default; one only some kinds have is left out (None) unless given."""
    number: Any = Whole if spec.integer else Finite
    everywhere = len(kinds) == len(SCHEDULE_KINDS)
    return (
        number if everywhere else number | None,
        Field(
            default=spec.default if everywhere else None,
            ge=spec.min,
            le=spec.max,
            description=spec.help if everywhere else f"{', '.join(kinds)}: {spec.help}",
        ),
    )


# The fields are generated from optimizers.schedules (SCHEDULE_OPTIONS): a new option or
# range there reaches the API, the page (GET /api/optimizers) and the CLI unchanged.
if TYPE_CHECKING:
    ScheduleSpec = _Schedule
else:
    ScheduleSpec = create_model(
        "ScheduleSpec",
        __base__=_Schedule,
        __module__=__name__,
        **{name: _schedule_field(*entry) for name, entry in SCHEDULE_OPTIONS.items()},
    )
    ScheduleSpec.__doc__ = _Schedule.__doc__


class LandscapeExpr(BaseModel):
    """A function typed by the lecturer, in place of a landscape's name.

    ``expr`` is read by walking Python's ast over a whitelist (never evaluated): numbers,
    x, y, pi, e, ``+ - * / **`` (``^`` too), parentheses and sin cos tan exp log sqrt abs
    tanh sinh cosh min max. Its gradient is exact (symbolic). A bad expression is a 422 at
    ``landscape.expr`` whose message names the column: "unknown name 'z' at column 7".
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,  # hashable: grids and colour scales are cached per typed function
        json_schema_extra={
            "examples": [
                {"expr": "x**2/20 + y**2", "bounds": [[-3, 3], [-3, 3]], "start": [-2.5, 2]}
            ]
        },
    )

    expr: str = Field(
        description="f(x, y), at most 500 characters, e.g. '(1 - x)**2 + 100*(y - x**2)**2'."
    )
    bounds: tuple[tuple[Finite, Finite], tuple[Finite, Finite]] = Field(
        default=((-3.0, 3.0), (-3.0, 3.0)),
        description="[[xmin, xmax], [ymin, ymax]]: the view, and where minima are searched.",
    )
    start: tuple[Finite, Finite] | None = Field(
        default=None,
        description="The default start [x, y] within the bounds; a point near the top-left "
        "corner if left out.",
    )

    @model_validator(mode="after")
    def _check_with_core(self) -> LandscapeExpr:
        surfaces.check(self)  # ValueError with the column; compiled later, in a worker
        return self


def _landscape_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict | LandscapeExpr):
        return "expr"
    return None


LandscapeRef = Annotated[
    Annotated[
        str,
        Tag("name"),
        # the names' enum in /docs and for generated clients
        WithJsonSchema({"type": "string", "enum": list(landscapes.names())}),
    ]
    | Annotated[LandscapeExpr, Tag("expr")],
    Discriminator(
        _landscape_kind,
        custom_error_type="landscape_type",
        custom_error_message="a landscape name (GET /api/landscapes) or a typed function "
        '{"expr": "...", "bounds": [[xmin, xmax], [ymin, ymax]], "start": [x, y]}',
    ),
]
"""A landscape as every request names it: a registry name, or {expr, bounds, start}."""


# The body /docs's "Try it out" starts from: Swagger UI cannot draw an example for a
# fixed-length [x, y] (JSON Schema's prefixItems) and sent `"start": [null, null]`, a 422.
SCENE_EXAMPLE: dict[str, Any] = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": 300,
    "runs": [{"optimizer": "sgd", "params": {"lr": 0.001}}, {"optimizer": "adam"}],
}


def data_landscapes() -> tuple[str, ...]:
    """The registry's landscapes over data (a mini-batch size applies to them only)."""
    return tuple(n for n in landscapes.names() if getattr(landscapes.get(n), "samples", 0))


def _owner(f: Any) -> str:
    return "the typed function" if f.name == surfaces.CUSTOM else str(f.name)


class TrajectoryRequest(BaseModel):
    """A scene: one landscape, one start, several optimizers raced for `steps` updates."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SCENE_EXAMPLE]})

    landscape: LandscapeRef = Field(
        description="Landscape name, one of GET /api/landscapes, or a typed function "
        '{"expr": "x**2/20 + y**2", "bounds": [[-3, 3], [-3, 3]], "start": [-2.5, 2]}.',
    )
    start: tuple[Finite, Finite] | None = Field(
        default=None,
        description="Start point [x, y] within the landscape's bounds (GET /api/landscapes); "
        "the landscape's default start if left out.",
    )
    steps: Whole = Field(default=STEPS.default, ge=STEPS.min, le=STEPS.max)
    runs: list[RunSpec] = Field(min_length=int(RUNS.min), max_length=int(RUNS.max))
    noise: Finite = Field(default=NOISE.default, ge=NOISE.min, le=NOISE.max)
    seed: Whole = Field(default=SEED.default, ge=SEED.min, le=SEED.max)
    schedule: ScheduleSpec | None = None
    # The maps (subclasses) compute full-batch gradients: a run's batch is the race's alone.
    batch_allowed: ClassVar[bool] = True
    # ... and summarise gradient methods only: simulated annealing and the genetic
    # algorithm race, but have no settling to map (optimizers.summary refuses them).
    gradient_free_allowed: ClassVar[bool] = True

    @field_validator("landscape")
    @classmethod
    def _known_landscape(cls, landscape: str | LandscapeExpr) -> str | LandscapeExpr:
        surfaces.check(landscape)  # ValueError lists the valid names
        return landscape

    @field_validator("runs")
    @classmethod
    def _batches_fit(cls, runs: list[RunSpec], info: ValidationInfo) -> list[RunSpec]:
        # A batch is 1 … N of the landscape's samples; `landscape` is validated first, and
        # if it was rejected, that is the error to report.
        if "landscape" not in info.data:
            return runs
        landscape = info.data["landscape"]
        # a typed function has no samples; resolving it here would compile it on the event loop
        f = surfaces.resolve(landscape) if isinstance(landscape, str) else None
        samples = getattr(f, "samples", 0)
        owner = "the typed function" if f is None else _owner(f)
        for i, run in enumerate(runs):
            batch = getattr(run, "batch", None)  # a tune's runs have none
            if batch is None:
                continue
            if not cls.batch_allowed:
                raise ValueError(
                    f"runs[{i}].batch: the maps compute full-batch gradients; "
                    "a batch size is for the race (POST /api/trajectories)"
                )
            if not samples:
                raise ValueError(
                    f"runs[{i}].batch: batch needs a landscape over data "
                    f"({', '.join(data_landscapes()) or 'none'}); {owner} has no samples"
                )
            if not 1 <= batch <= samples:
                raise ValueError(
                    f"runs[{i}].batch: batch must be in [1, {samples}] for {owner}, got {batch}"
                )
        return runs

    @field_validator("runs")
    @classmethod
    def _gradient_free_fits(cls, runs: list[Any], info: ValidationInfo) -> list[Any]:
        # A gradient-free run evaluates S points a step (annealing 1, the genetic algorithm
        # its population), all kept for the reply: steps × S is bounded. `steps` is
        # validated first; if it was rejected, that is the error to report.
        for i, run in enumerate(runs):
            kind = optimizers.get(run.optimizer)
            if not issubclass(kind, optimizers.GradientFree):
                continue
            if not cls.gradient_free_allowed:
                raise ValueError(
                    f"runs[{i}].optimizer: {run.optimizer} samples f at random instead of "
                    "following its gradient: the maps (sweep, heatmap, basins, tune) take "
                    "gradient methods only; race it instead"
                )
            if getattr(run, "batch", None) is not None:
                raise ValueError(
                    f"runs[{i}].batch: {run.optimizer} reads f's values, never a gradient: "
                    "a batch size is for gradient methods (leave it out)"
                )
            steps = info.data.get("steps")
            if steps is None:
                continue
            sampler = optimizers.create(run.optimizer, **run.params)
            assert isinstance(sampler, optimizers.GradientFree)
            count = sampler.sample_count()
            if steps * count > MAX_SAMPLED:
                if count == 1:
                    raise ValueError(
                        f"steps: {run.optimizer} runs[{i}] evaluates f once a step: steps "
                        f"must be ≤ {MAX_SAMPLED:,}, got {steps:,}"
                    )
                raise ValueError(
                    f"runs[{i}].params.population: {run.optimizer}'s population × steps must "
                    f"be ≤ {MAX_SAMPLED:,} (the points it evaluates), got {count} × {steps:,} "
                    f"= {count * steps:,}: a population of at most {MAX_SAMPLED // steps} "
                    "or fewer steps"
                )
        return runs

    @model_validator(mode="after")
    def _batch_or_noise(self) -> TrajectoryRequest:
        if self.noise > 0 and any(getattr(run, "batch", None) is not None for run in self.runs):
            raise ValueError(
                "noise must be 0 when a run has a batch: the mini-batches are the noise "
                f"(got noise {show_number(self.noise)})"
            )
        return self

    @field_validator("start")
    @classmethod
    def _start_in_bounds(
        cls, start: tuple[float, float] | None, info: ValidationInfo
    ) -> tuple[float, float] | None:
        # Outside the bounds a run is drawn off the plot (and exported off the frame), so
        # it would look like nothing happened. `landscape` is validated first; if it was
        # rejected, that is the error to report.
        if start is None or "landscape" not in info.data:
            return start
        landscape = info.data["landscape"]
        (xmin, xmax), (ymin, ymax) = surfaces.check(landscape)
        x, y = start
        if not (xmin <= x <= xmax and ymin <= y <= ymax):
            n = show_number
            owner = landscape if isinstance(landscape, str) else "the typed function"
            raise ValueError(
                f"start ({n(x)}, {n(y)}) is outside {owner}'s bounds "
                f"x ∈ [{n(xmin)}, {n(xmax)}], y ∈ [{n(ymin)}, {n(ymax)}]"
            )
        return start


class TypedGridRequest(BaseModel):
    """A typed function to preview: its metadata (minima found) and its contour grid.

    A landscape name is accepted too (the same metadata and grid as GET /api/landscapes),
    so the page asks one way for whichever the picker holds."""

    model_config = ConfigDict(extra="forbid")

    landscape: LandscapeRef
    resolution: Whole = Field(
        default=DEFAULT_GRID_RESOLUTION,
        ge=MIN_GRID_RESOLUTION,
        le=MAX_GRID_RESOLUTION,
        description="Samples per side (N×N grid).",
    )
    digits: Whole | None = Field(
        default=None,
        ge=MIN_GRID_DIGITS,
        le=MAX_GRID_DIGITS,
        description="Round z and color to this many significant digits (default float64).",
    )
    window: tuple[tuple[Finite, Finite], tuple[Finite, Finite]] | None = Field(
        default=None,
        description="[[xmin, xmax], [ymin, ymax]]: sample this zoomed rectangle instead of the "
        "bounds (each edge within ±1e6), coloured on the bounds' scale.",
    )

    @field_validator("window")
    @classmethod
    def _window_ordered(
        cls, window: tuple[tuple[float, float], tuple[float, float]] | None
    ) -> tuple[tuple[float, float], tuple[float, float]] | None:
        for axis, (lo, hi) in zip("xy", window or (), strict=False):
            if not (lo < hi and max(abs(lo), abs(hi)) <= 1e6):
                raise ValueError(f"{axis}: the lower edge must be below the upper, within ±1e6")
        return window


class RunStatus(BaseModel):
    """How a run ends (optimizers/status.py has the rules and their tolerances)."""

    code: StatusCode = Field(description="Stable machine value.")
    step: int | None = Field(
        description="The step the run settled, stalled near the saddle point, or diverged."
    )
    floor: float | None = Field(
        default=None, description="hovering: mean f − f(minimum) over the last tenth of the run."
    )
    text: dict[str, str] = Field(description="The status in words, by language code (en, ja).")


Number = float | None  # a recorded value; null where it overflowed (JSON has no infinity)


class RunRecord(BaseModel):
    """What each update t saw and held, update t leaving points[t]: one entry per update
    0 … len(points) − 2 (the last point has none)."""

    grads: list[tuple[Number, Number]] = Field(
        description="The gradient update t used: ∇f(θₜ) + noise, + λθₜ under weight decay."
    )
    lrs: list[Number] = Field(description="The learning rate ηₜ of update t (schedule applied).")
    state: dict[str, list[tuple[Number, Number]]] = Field(
        description=(
            "Each buffer after update t, by torch's name in optimizer.state[p] "
            "(momentum_buffer, sum, square_avg, exp_avg, exp_avg_sq); the step count of "
            "update t is t + 1."
        )
    )


class RunResult(BaseModel):
    """One optimizer's trajectory. Diverged runs are truncated before the first bad point."""

    optimizer: str
    params: dict[str, float] = Field(description="Resolved hyperparameters, defaults filled in.")
    color: str = Field(description="The optimizer's colour from the shared palette.")
    symbol: str = Field(description="The optimizer's marker shape (a Plotly symbol name).")
    dash: str = Field(
        default="solid", description="The path's dash style (a Plotly line.dash name)."
    )
    points: list[tuple[float, float]]
    losses: list[float]
    diverged_at: int | None = Field(description="Index of the first non-finite point, if any.")
    final_loss: float | None
    converged_at: int | None = Field(
        description=(
            "Kept for older clients: status.step when status.code is settled_global or "
            "settled_local, else null."
        )
    )
    converged_to: Literal["global", "local"] | None = Field(
        default=None,
        description="Kept for older clients: global/local when the run settled, else null.",
    )
    status: RunStatus = Field(description="How the run ends, from its path and the Hessian.")
    record: RunRecord | None = Field(
        default=None, description="The recorded updates when the run asked for them."
    )
    batch: int | None = Field(
        default=None, description="The run's mini-batch size as asked; null: the full batch."
    )
    evaluations: int = Field(
        description=(
            "What the run asked of the landscape, per Optimizer.evaluations(u) with u the "
            "updates taken (the last point's index): a gradient method's ∇f calls (u); "
            "simulated annealing's values of f (1 + u) and the genetic algorithm's "
            "(P + u·(P − 1) for population P)."
        )
    )
    samples: list[list[tuple[float, float]] | None] | None = Field(
        default=None,
        description=(
            "Null for a gradient method. For simulated annealing and the genetic algorithm, "
            "one entry per entry of `points`: the points evaluated to reach it (annealing's "
            "proposal, entry 0 the start; the genetic algorithm's generation whose best "
            "member is the point, entry 0 the first population), non-finite ones dropped; "
            f"null where thinned out: at most {SAMPLE_POINTS:,} sample points per run are "
            "sent, entry i when i % k == 0, k = ceil((steps + 1) × S / "
            f"{SAMPLE_POINTS:,}) with S the samples per point (1, or the population)."
        ),
    )


class TrajectoryReply(BaseModel):
    runs: list[RunResult]
    lr_factors: list[float] | None = Field(
        default=None,
        description=(
            "The schedule's factor for each update t = 0 … steps − 1 (run i's learning rate "
            "is its lr × factor); null without a schedule. The WebSocket's meta carries it too."
        ),
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ValidationIssue(BaseModel):
    """One rejected field, as FastAPI reports it: where, and what range is allowed."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorReply(BaseModel):
    """4xx body: a sentence naming the field and its allowed values, or one issue per field."""

    detail: str | list[ValidationIssue]


#: The error replies of every operation that computes (a race, a map, a tune): OpenAPI's
#: `responses` for them, in one place.
COMPUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorReply, "description": "The body is not readable JSON text."},
    422: {"model": ErrorReply, "description": "A field out of its allowed range."},
    503: {
        "model": ErrorReply,
        "description": "Too many computations waiting; retry after `Retry-After` seconds.",
    },
}


def validation_issues(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic's issues as every caller reports them: the one formatter of the app.

    A core ValueError keeps its own words, without pydantic's "Value error, " prefix.
    pydantic echoes the rejected input; a NaN or Infinity sent in would make the reply
    itself unencodable (a 500), so non-finite numbers are echoed as null, and a lone
    surrogate (U+D800 to U+DFFF unpaired, in a name, a key or a message) as U+FFFD.
    The echo is bounded (`_echo`): a 600-deep list sent as `start` would otherwise overflow
    the encoder's recursion (a 500) and a 50 MB body would come back as a 50 MB 422.
    """
    bounded = [{**issue, "input": _echo(issue.get("input"))} for issue in errors]
    issues: list[dict[str, Any]] = _encodable(jsonable_encoder(bounded))
    for issue in issues:
        issue["msg"] = message_text(str(issue.get("msg", "")).removeprefix("Value error, "))
    return issues


def message_text(msg: str) -> str:
    """An error message as a reply may carry it: UTF-8-encodable and of a readable size.

    A core message quotes the bad value ("unknown landscape 'xxxx…'"); keep its start and
    its end (where the valid choices are listed), not a megabyte in between.
    """
    half = ECHO_CHARS * 2
    msg = _LONE_SURROGATE.sub("\ufffd", msg)
    return msg if len(msg) <= 2 * half else f"{msg[:half]}…{msg[-half:]}"


def describe(error: ValidationError | Sequence[Any]) -> str:
    """The issues in one line, `field: message; …` (the WebSocket's error, the CLI's)."""
    errors = error.errors() if isinstance(error, ValidationError) else error
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or 'request'}: {issue['msg']}"
        for issue in validation_issues(errors)
    )


ECHO_DEPTH = 4  # nesting levels of a rejected input echoed back in a 422
ECHO_ITEMS = 12  # items of a list or keys of an object echoed
ECHO_CHARS = 200  # characters of a string echoed


def _echo(value: Any, depth: int = 0) -> Any:
    """The rejected input, cut to a size a person can read: deep or long parts become '…'."""
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return "…"  # a 5,000-digit integer: its decimal form is the cost, not the point
    if isinstance(value, (list, tuple, dict)) and depth >= ECHO_DEPTH:
        return "…"
    if isinstance(value, (list, tuple)):
        items = [_echo(v, depth + 1) for v in value[:ECHO_ITEMS]]
        return [*items, "…"] if len(value) > ECHO_ITEMS else items
    if isinstance(value, dict):
        keys = list(value)[:ECHO_ITEMS]
        return {str(k)[:ECHO_CHARS]: _echo(value[k], depth + 1) for k in keys}
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # Python strings hold pairs as one character


def _encodable(value: Any) -> Any:
    """JSON a reply can carry: no NaN or Infinity (null), no lone surrogate (U+FFFD)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    return value


class MinimumInfo(BaseModel):
    x: float
    y: float
    value: float
    kind: Literal["global", "local", "saddle"]


class LandscapeInfo(BaseModel):
    name: str
    title: str
    formula: str = Field(description="Plain text, readable as is.")
    latex: str = Field(default="", description="The same formula in LaTeX, without $ signs.")
    about: str = Field(default="", description="One sentence: what this surface teaches.")
    bounds: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="Default view ((xmin, xmax), (ymin, ymax))."
    )
    default_start: tuple[float, float]
    minima: list[MinimumInfo]
    samples: int = Field(
        default=0,
        description="A loss over data: its number of samples N, the largest mini-batch "
        "(a run's `batch` is 1 … N); 0 for an analytic landscape.",
    )


class GridReply(BaseModel):
    """Landscape values on an N×N grid; z[i][j] = f(x[j], y[i]) (Plotly's convention)."""

    x: list[float]
    y: list[float]
    z: list[list[float | None]]
    color: list[list[float | None]] = Field(
        description=(
            "What the colour scale is applied to: log10(z − floor + eps) when log_color, "
            "else z. Page and exporters colour contours by this."
        )
    )
    log_color: bool = Field(
        description=(
            "True when the landscape's range is wide: the values above its minimum span more "
            "than LOG_COLOR_DECADES decades between their 1st percentile and their maximum, "
            "or their lowest tenth would fit inside one of the page's linear levels."
        )
    )


class HyperParamInfo(BaseModel):
    """One slider: the core's spec of a hyperparameter or schedule option."""

    name: str
    default: float | None = Field(
        description="Value used when left out; null means the server fills it in "
        "(a cosine schedule's t_max: the run's steps)."
    )
    min: float | None = Field(description="Smallest allowed value; null if unbounded.")
    max: float | None = Field(description="Largest allowed value; null if unbounded.")
    log: bool = Field(description="Use a log-scale slider.")
    integer: bool = Field(default=False, description="Whole numbers only.")
    help: str


class OptimizerInfo(BaseModel):
    name: str
    title: str
    group: str = Field(
        description=(
            "The picker's group: classic, adaptive, large-batch or gradient-free "
            "(optimizers.GROUPS)."
        )
    )
    color: str = Field(description="The optimizer's colour in the shared palette.")
    symbol: str = Field(description="The optimizer's marker shape (a Plotly symbol name).")
    dash: str = Field(description="The optimizer's dash style (a Plotly line.dash name).")
    params: list[HyperParamInfo]
    lecture: list[str] = Field(
        default_factory=list,
        description="The docstring's lecture-form update rule, one MathML <math> per line "
        "(empty for an optimizer not typeset yet).",
    )
    terms: dict[str, str] = Field(
        default_factory=dict,
        description="One update's arithmetic, term by term: MathML with {slot} placeholders "
        "for the numbers of a recorded step (the page's equation panel).",
    )


class ScheduleInfo(BaseModel):
    kind: ScheduleKind
    options: list[HyperParamInfo]


class OptimizersReply(BaseModel):
    optimizers: list[OptimizerInfo]
    groups: list[str] = Field(
        description="The picker's groups in the page's order; every optimizer is in one."
    )
    scene: list[str] = Field(
        description="The optimizers a fresh scene races (the first build's six); the page "
        "opens with them and any others up to the run limit can join."
    )
    schedules: list[ScheduleInfo]


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN/Infinity: a non-finite number becomes null."""
    return value if math.isfinite(value) else None


# --- export ------------------------------------------------------------------
# Export request/reply models (ExportRequest, ExportJob) are added below this line.

ExportFormat = Literal["gif", "mp4", "html", "png", "csv", "json"]
ExportLayout = Literal["overlay", "side_by_side"]
ExportStatus = Literal["queued", "running", "done", "error"]

_EXPORT_RANGES = {o.name: o for o in (WIDTH, HEIGHT, FPS, DURATION, FRAMES, FRAME)}
# Browsers show GIF delays under 20 ms as 100 ms: a GIF plays at most 50 frames a second.
MAX_GIF_FPS = 50
# The end of a clip stays up this long (at most a fifth of it), so the outcome can be read.
END_HOLD_SECONDS = 1.5


def _bounds(option: Option) -> JsonDict:
    """The option's range in the OpenAPI schema (checked by a validator with a clearer
    message than pydantic's ge/le)."""
    return {"minimum": option.min, "maximum": option.max}


class ExportRequest(TrajectoryRequest):
    """A scene plus how to export it; the same model validates the API body and the CLI."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{**SCENE_EXAMPLE, "format": "gif"}]}
    )

    format: ExportFormat = Field(description="gif, mp4, html, png, csv or json.")
    width: Whole = Field(
        default=WIDTH.default,
        json_schema_extra=_bounds(WIDTH),
        description="Pixels (GIF, MP4, PNG; MP4 rounds odd sizes down to even). "
        "The HTML handout fills the browser window instead.",
    )
    height: Whole = Field(default=HEIGHT.default, json_schema_extra=_bounds(HEIGHT))
    fps: Whole = Field(
        default=FPS.default,
        json_schema_extra=_bounds(FPS),
        description="Frames per second (GIF, MP4, HTML playback); a GIF plays at most "
        f"{MAX_GIF_FPS} (browsers slow shorter GIF delays down).",
    )
    duration: float | None = Field(
        default=None,
        json_schema_extra=_bounds(DURATION),
        description="Clip length in seconds (GIF, MP4, HTML playback), the last "
        f"{END_HOLD_SECONDS:g} s (at most a fifth) holding the final step. Short runs hold "
        "each step for several frames, long ones sample the steps; duration × fps is at most "
        f"{MAX_EXPORT_FRAMES} frames. Default {DURATION.default:g} s unless `frames` is given.",
    )
    frames: Whole | None = Field(
        default=None,
        json_schema_extra=_bounds(FRAMES),
        description="Instead of `duration`: this many frames, sampling the steps evenly, one "
        "step a frame (at most steps + 1 are used), played at `fps`.",
    )
    layout: ExportLayout = Field(
        default="overlay", description="overlay: one plot; side_by_side: a panel per run."
    )
    frame: Whole | None = Field(
        default=None,
        json_schema_extra=_bounds(FRAME),
        description="Step shown by the PNG still (0..steps); the last step if left out.",
    )
    title: str = Field(
        default=TITLE.default,
        max_length=int(TITLE.max),
        description="The title line, drawn as plain text; default: the preset's title when "
        "`preset` is set, else the landscape's, in `lang`.",
    )
    lang: Literal["en", "ja"] = Field(
        default="en",
        description="Language of every word in the export: title, legend, step counter, "
        "colour-bar label, the handout's text (the page's language).",
    )
    preset: str | None = Field(
        default=None,
        description="The preset this scene came from: its title heads the export, its id "
        "names the file and the HTML handout carries its explanation.",
    )
    arrows: bool = Field(
        default=False,
        strict=True,
        description="GIF, MP4, PNG: at each recording run's point, the negative gradient, the "
        "momentum buffer (torch's momentum_buffer or exp_avg, where the optimizer keeps one) "
        "and the step the update took, scaled to stay readable, with a legend giving their "
        "lengths. The runs marked `record` get arrows, or every run when none is marked: "
        "those runs are recorded, so a CSV or JSON export of the request carries their state.",
    )

    @field_validator("width", "height", "fps", "duration", "frames", "frame")
    @classmethod
    def _in_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        # One message with both ends of the range, the same from the API and the CLI.
        option = _EXPORT_RANGES[str(info.field_name)]
        if value is not None and not (math.isfinite(value) and option.min <= value <= option.max):
            raise ValueError(
                f"{option.name} must be between {show_number(option.min)} and "
                f"{show_number(option.max)}, got {show_number(value)}"
            )
        return value

    @field_validator("title")
    @classmethod
    def _plain_title(cls, title: str) -> str:
        # Control characters (newlines, escapes) would break the one-line title band.
        return " ".join("".join(c if c.isprintable() else " " for c in title).split())

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, preset: str | None) -> str | None:
        from app import presets  # presets' words load from static/, only when named

        if preset is not None:
            presets.get(preset)  # ValueError lists the valid ids
        return preset

    @model_validator(mode="after")
    def _frame_within_steps(self) -> ExportRequest:
        if self.frame is not None and self.frame > self.steps:
            raise ValueError(f"frame must be between 0 and steps ({self.steps}), got {self.frame}")
        return self

    @field_validator("duration")
    @classmethod
    def _clip_within_frames(cls, duration: float | None, info: ValidationInfo) -> float | None:
        # A field validator (fps is validated before it), so the error is located at
        # `duration` and names it, from the API and the CLI alike.
        fps = info.data.get("fps")
        if duration is not None and fps and round(duration * fps) > MAX_EXPORT_FRAMES:
            raise ValueError(
                f"duration × fps must be at most {MAX_EXPORT_FRAMES} frames: duration must be "
                f"between {show_number(DURATION.min)} and {MAX_EXPORT_FRAMES / fps:.4g} s at "
                f"{fps} fps, got {show_number(duration)} s ({round(duration * fps)} frames)"
            )
        return duration

    @field_validator("frames")
    @classmethod
    def _frames_or_duration(cls, frames: int | None, info: ValidationInfo) -> int | None:
        if frames is not None and info.data.get("duration") is not None:
            raise ValueError("give duration (seconds) or frames, not both")
        return frames

    def clip_fps(self) -> int:
        """Frames a second the file plays: `fps`, at most MAX_GIF_FPS for a GIF."""
        return min(self.fps, MAX_GIF_FPS) if self.format == "gif" else self.fps

    def frame_count(self) -> int:
        """Frames of the animation: duration × fps (default duration unless `frames` is
        given), or `frames` capped at one per step."""
        if self.frames is not None:
            return min(self.frames, self.steps + 1)
        seconds = self.duration if self.duration is not None else float(DURATION.default)
        return max(1, min(MAX_EXPORT_FRAMES, round(seconds * self.clip_fps())))

    def hold_frames(self) -> int:
        """Frames at the end of a duration clip that hold the final step (none with
        `frames`, whose GIF holds its last frame instead)."""
        if self.frames is not None:
            return 0
        frames = self.frame_count()
        return min(round(END_HOLD_SECONDS * self.clip_fps()), frames // 5)

    def trajectory_request(self) -> TrajectoryRequest:
        """The scene alone, as the trajectory API sees it; with `arrows` and no run marked
        `record`, every run records (arrows are drawn from what a run records)."""
        scene = self.model_dump(include=set(TrajectoryRequest.model_fields))
        if self.arrows and not any(run.get("record") for run in scene["runs"]):
            for run in scene["runs"]:
                run["record"] = True
        return TrajectoryRequest.model_validate(scene)


class ExportJob(BaseModel):
    """State of a background export; poll it, then download `/api/exports/{id}/file`."""

    id: str
    status: ExportStatus
    progress: float = Field(ge=0.0, le=1.0)
    detail: str | None = Field(default=None, description="Error message when status is error.")
    filename: str | None = Field(default=None, description="Download name once done.")


# --- maps (issue 13) ---
# POST /api/maps/sweep, /api/maps/heatmap, /api/maps/basins (app/routes/maps.py): many
# runs at once, each ending summarised (optimizers.summary), no path kept.

MAX_BASIN_WORK = 6 * 256**2 * 500  # optimizer updates of one basins request: a few seconds
LR_LOW, LR_HIGH = 1e-5, 10.0  # every optimizer's lr range (optimizers.base.lr_param)


class SweepRange(BaseModel):
    """The swept learning rates: `count` values log-spaced from `min` to `max`."""

    model_config = ConfigDict(extra="forbid")

    min: Finite = Field(default=1e-4, ge=LR_LOW, le=LR_HIGH)
    max: Finite = Field(default=10.0, ge=LR_LOW, le=LR_HIGH)
    count: Whole = Field(default=SWEEP_COUNT.default, ge=SWEEP_COUNT.min, le=SWEEP_COUNT.max)

    @model_validator(mode="after")
    def _ordered(self) -> SweepRange:
        if not self.min < self.max:
            raise ValueError(f"lr.min must be below lr.max, got {self.min:g} and {self.max:g}")
        return self


class SweepRequest(TrajectoryRequest):
    """Each run's optimizer at every swept learning rate (its `params` lr is ignored)."""

    batch_allowed: ClassVar[bool] = False
    gradient_free_allowed: ClassVar[bool] = False
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{**SCENE_EXAMPLE, "lr": {"min": 1e-4, "max": 10}}]},
    )

    steps: Whole = Field(default=MAP_STEPS.default, ge=MAP_STEPS.min, le=MAP_STEPS.max)
    lr: SweepRange = Field(default_factory=SweepRange)


class SweepBoundary(BaseModel):
    stable: float | None = Field(description="The last stable rate below `diverged`.")
    diverged: float | None = Field(
        description="The first rate from which every larger swept rate diverged."
    )


class SweepRun(BaseModel):
    optimizer: str
    final_loss: list[float | None] = Field(description="Per rate; null: diverged.")
    gap: list[float | None] = Field(description="final_loss − f_star; null: diverged.")
    settled_at: list[int] = Field(description="The step it settled (status); −1 never.")
    diverged_at: list[int] = Field(description="−1 never.")
    boundary: SweepBoundary
    limit: float | None = Field(description="Theory's largest stable rate on a quadratic.")
    limit_formula: str | None


class HessianInfo(BaseModel):
    constant: bool = Field(description="The same Hessian all over the bounds: a quadratic.")
    eigenvalues: list[float] | None = Field(description="[λmin, λmax] when constant.")


class SweepReply(BaseModel):
    f_star: float
    lrs: list[float]
    hessian: HessianInfo
    runs: list[SweepRun]


class HeatmapAxis(BaseModel):
    """One axis of the heatmap: a hyperparameter of the optimizer and its values; a bound
    left out takes the spec's range (lr: 1e-4 … 10), `log` the spec's flag."""

    model_config = ConfigDict(extra="forbid")

    name: str
    min: Finite | None = None
    max: Finite | None = None
    count: Whole = Field(default=HEATMAP_COUNT.default, ge=HEATMAP_COUNT.min, le=HEATMAP_COUNT.max)
    log: bool | None = Field(default=None, strict=True)


class HeatmapRequest(TrajectoryRequest):
    """One optimizer (`runs` holds exactly one) over a plane of two hyperparameters."""

    batch_allowed: ClassVar[bool] = False
    gradient_free_allowed: ClassVar[bool] = False
    model_config = ConfigDict(extra="forbid")

    steps: Whole = Field(default=MAP_STEPS.default, ge=MAP_STEPS.min, le=MAP_STEPS.max)
    runs: list[RunSpec] = Field(min_length=1, max_length=1)
    x: HeatmapAxis = Field(default_factory=lambda: HeatmapAxis(name="lr"))
    y: HeatmapAxis | None = Field(
        default=None, description="Default: the optimizer's momentum-like knob (GET axes)."
    )

    @model_validator(mode="after")
    def _axes(self) -> HeatmapRequest:
        self.axis_values("x")
        self.axis_values("y")
        return self

    def y_axis(self) -> HeatmapAxis:
        import maps

        return self.y or HeatmapAxis(name=maps.default_y(self.runs[0].optimizer))

    def axis_values(self, which: Literal["x", "y"]) -> list[float]:
        """The axis's values; ValueError naming the axis, its parameter and range."""
        axis = self.x if which == "x" else self.y_axis()
        name = self.runs[0].optimizer
        specs = {p.name: p for p in optimizers.spec(name)}
        if axis.name not in specs:
            raise ValueError(
                f"{which}.name: {name} has no hyperparameter {axis.name!r}; "
                f"valid: {', '.join(specs)}"
            )
        if which == "y" and axis.name == self.x.name:
            raise ValueError(f"y.name must differ from x.name ({axis.name!r})")
        spec = specs[axis.name]
        low = axis.min if axis.min is not None else max(spec.min, 1e-4 if spec.log else spec.min)
        high = axis.max if axis.max is not None else spec.max
        for end, value in (("min", low), ("max", high)):
            if not spec.min <= value <= spec.max:
                raise ValueError(
                    f"{which}.{end}: {axis.name} must be in [{spec.min:g}, {spec.max:g}], "
                    f"got {value:g}"
                )
        if not low < high:
            raise ValueError(f"{which}.min must be below {which}.max, got {low:g}, {high:g}")
        log = spec.log if axis.log is None else axis.log
        if log and low <= 0:
            raise ValueError(f"{which}.min must be > 0 on a log axis, got {low:g}")
        values = np.geomspace(low, high, axis.count) if log else np.linspace(low, high, axis.count)
        return [float(v) for v in values]


class HeatmapAxisInfo(BaseModel):
    name: str
    values: list[float]
    log: bool


class HeatmapReply(BaseModel):
    f_star: float
    optimizer: str
    x: HeatmapAxisInfo
    y: HeatmapAxisInfo
    settled_at: list[list[int]] = Field(description="[ny][nx]; −1 never.")
    gap: list[list[float | None]] = Field(description="[ny][nx]; null: diverged.")
    diverged_at: list[list[int]] = Field(description="[ny][nx]; −1 never.")


class BasinsRequest(TrajectoryRequest):
    """Starts on a `resolution` × `resolution` grid over `bounds`, per run (start unused)."""

    batch_allowed: ClassVar[bool] = False
    gradient_free_allowed: ClassVar[bool] = False
    model_config = ConfigDict(extra="forbid")

    steps: Whole = Field(default=MAP_STEPS.default, ge=MAP_STEPS.min, le=MAP_STEPS.max)
    runs: list[RunSpec] = Field(min_length=int(BASIN_RUNS.min), max_length=int(BASIN_RUNS.max))
    resolution: Whole = Field(
        default=BASIN_RESOLUTION.default, ge=BASIN_RESOLUTION.min, le=BASIN_RESOLUTION.max
    )
    bounds: tuple[tuple[Finite, Finite], tuple[Finite, Finite]] | None = Field(
        default=None, description="[[xmin, xmax], [ymin, ymax]]; the landscape's if left out."
    )

    @model_validator(mode="after")
    def _work(self) -> BasinsRequest:
        work = len(self.runs) * self.resolution**2 * self.steps
        if work > MAX_BASIN_WORK:
            raise ValueError(
                f"runs × resolution² × steps must be <= {MAX_BASIN_WORK:,} "
                f"(6 maps of 256² starts × 500 steps), got {work:,}: "
                "fewer steps, a lower resolution or fewer runs"
            )
        return self

    @field_validator("bounds")
    @classmethod
    def _bounds(cls, bounds: Any) -> Any:
        if bounds is None:
            return bounds
        for axis, (low, high) in zip("xy", bounds, strict=True):
            if not -1e6 <= low < high <= 1e6:
                raise ValueError(
                    f"{axis} bounds must satisfy -1e6 <= min < max <= 1e6, got [{low:g}, {high:g}]"
                )
        return bounds


class IntArray(BaseModel):
    """An integer array: `data` is its little-endian bytes in base64, row-major."""

    dtype: Literal["int16", "int32"]
    shape: list[int]
    data: str


class BasinMinimum(BaseModel):
    x: float
    y: float
    value: float
    best: bool = Field(description="Its value is the landscape's global minimum value f*.")


class BasinRun(BaseModel):
    optimizer: str
    label: IntArray = Field(
        description="[n][n] int16: index into `minima`; −1 diverged; −2 not settled."
    )
    settled_at: IntArray = Field(description="[n][n] int32: steps to settle; −1 never.")


class BasinsReply(BaseModel):
    xs: list[float]
    ys: list[float]
    minima: list[BasinMinimum]
    runs: list[BasinRun]


# --- tune (issue 13) ---
# POST /api/maps/tune and WS /ws/tune (app/routes/tune.py): each optimizer's learning rate
# (and optionally one more hyperparameter) searched by grid, random and Bayesian search
# with the same budget of trials (maps.tune).

TuneMethod = Literal["grid", "random", "bayes"]
TUNE_METHODS: tuple[TuneMethod, ...] = ("grid", "random", "bayes")  # maps.tune.METHODS


class TuneRange(BaseModel):
    """A searched range; a bound left out takes the default (lr: the spec's range clipped
    to [1e-4, 10]; another hyperparameter: its spec's range)."""

    model_config = ConfigDict(extra="forbid")

    min: Finite | None = None
    max: Finite | None = None


class TuneExtra(TuneRange):
    """The one hyperparameter searched together with lr, e.g. momentum or beta1."""

    name: str = Field(description="A hyperparameter of the run's optimizer, not lr.")
    log: bool | None = Field(
        default=None, strict=True, description="Log scale; default: the spec's flag."
    )


class TuneRunSpec(BaseModel):
    """One optimizer to tune: fixed `params`, the lr range, optionally one more parameter."""

    model_config = ConfigDict(extra="forbid")

    optimizer: str = Field(
        description="Optimizer name, one of GET /api/optimizers.",
        json_schema_extra=_optimizer_names,
    )
    params: dict[str, Finite] = Field(
        default_factory=dict,
        description="Fixed hyperparameters by PyTorch name; the tuned ones are overridden.",
    )
    lr: TuneRange | None = None
    extra: TuneExtra | None = None

    @model_validator(mode="after")
    def _check_with_core(self) -> TuneRunSpec:
        tuned = {dim.name for dim in self.space()}  # ValueError names the parameter or range
        fixed = {k: v for k, v in self.params.items() if k not in tuned}
        optimizers.create(self.optimizer, **fixed)
        return self

    def space(self) -> tuple[Any, ...]:
        """The maps.tune space of this run (lr first)."""
        from maps.tune import race_space

        lr = None
        if self.lr is not None:
            (default,) = race_space(self.optimizer)
            low = default.low if self.lr.min is None else self.lr.min
            high = default.high if self.lr.max is None else self.lr.max
            lr = (low, high)
        extra = None
        if self.extra is not None:
            extra = (self.extra.name, self.extra.min, self.extra.max, self.extra.log)
        return race_space(self.optimizer, lr, extra)


class TuneRequest(TrajectoryRequest):
    """A scene whose optimizers are tuned before they race: every run × method gets
    `budget` trials, each a run of `steps` updates from `start`. `seed` seeds the noise
    and the random and Bayesian searches: the same request gives the same trials."""

    batch_allowed: ClassVar[bool] = False
    gradient_free_allowed: ClassVar[bool] = False
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{**SCENE_EXAMPLE, "budget": 20, "methods": ["grid", "random", "bayes"]}]
        },
    )

    runs: list[TuneRunSpec] = Field(  # type: ignore[assignment]
        min_length=int(RUNS.min), max_length=int(RUNS.max)
    )
    steps: Whole = Field(default=MAP_STEPS.default, ge=MAP_STEPS.min, le=MAP_STEPS.max)
    budget: Whole = Field(
        default=TUNE_BUDGET.default,
        ge=TUNE_BUDGET.min,
        le=TUNE_BUDGET.max,
        description="Trials of each method for each optimizer: the same for all three.",
    )
    methods: list[TuneMethod] = Field(
        default_factory=lambda: list(TUNE_METHODS), min_length=1, max_length=3
    )

    @field_validator("methods")
    @classmethod
    def _distinct(cls, methods: list[str]) -> list[str]:
        if len(set(methods)) < len(methods):
            raise ValueError(f"each method at most once, got {methods}")
        return methods


class EncodedArray(BaseModel):
    """A float32 array: `data` is its little-endian bytes in base64, row-major."""

    dtype: Literal["float32"] = "float32"
    shape: list[int]
    data: str


class TuneDimensionInfo(BaseModel):
    name: str
    min: float
    max: float
    log: bool


class TuneTrialInfo(BaseModel):
    index: int = Field(description="Place in the method's search, 0 … budget − 1.")
    values: list[float] = Field(description="The hyperparameters tried, in `space` order.")
    score: float | None = Field(description="log10(max(gap, 1e-16)); null: the run diverged.")
    gap: float | None = Field(description="Final loss − f*; null: the run diverged.")


class TuneSnapshotInfo(BaseModel):
    """The Bayesian search's Gaussian process after trial `after`, on the run's grid:
    arrays of shape [n] (lr alone) or [ny, nx] (row j = extra's grid[1][j])."""

    after: int
    mean: EncodedArray
    std: EncodedArray
    ei: EncodedArray = Field(description="Expected improvement over `best`.")
    best: float = Field(description="The best score so far (failed trials at their penalty).")
    next: list[float] | None = Field(description="The values chosen for trial after + 1.")
    length_scale: float = Field(description="The kernel's length-scale, in the unit box.")
    variance: float = Field(description="The kernel's signal variance.")


class TuneMethodResult(BaseModel):
    method: TuneMethod
    trials: list[TuneTrialInfo]
    best: TuneTrialInfo | None = Field(description="The lowest score; null if all diverged.")
    snapshots: list[TuneSnapshotInfo] = Field(description="bayes: one per fit; else empty.")


class TuneRunResult(BaseModel):
    optimizer: str
    params: dict[str, float] = Field(description="The fixed hyperparameters as given.")
    space: list[TuneDimensionInfo]
    grid: list[list[float]] = Field(description="The snapshot grid's values per dimension.")
    methods: list[TuneMethodResult]
    best: dict[str, float] | None = Field(
        description="The best values over all methods, by name: race at these."
    )


class TuneReply(BaseModel):
    f_star: float = Field(description="The landscape's global minimum value f*.")
    budget: int
    runs: list[TuneRunResult]
