"""GET /api/settings: the scene, export, maps and gradient-free limits, the colours and the
contour colorscale.

The page reads every range, default and colour it shows from this reply and keeps no
copies: a limit changed in its one Python home (the `Option`s of app.config) or a colour
changed in app/palette.py reaches the page's fields, checks and plots on the next load.
Built per request from those homes, so it always says what the server enforces.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app import config, palette
from app.http_cache import Payload, respond

router = APIRouter(prefix="/api", tags=["settings"])


class OptionInfo(BaseModel):
    """One scene or export option: its default and inclusive range, as the server checks it."""

    name: str
    default: float | str | None = Field(
        description="Value used when left out; a text when it depends on the scene."
    )
    min: float
    max: float
    integer: bool = Field(description="Whole numbers only.")
    help: str


class ArrowStyleInfo(BaseModel):
    color: str
    dash: list[float] = Field(description="Canvas line dash pattern (px); [] is solid.")
    width: float = Field(description="Line width in CSS pixels, over a black halo.")


class Colors(BaseModel):
    """The one palette (Okabe–Ito, colour-blind safe), shared with the exporters."""

    optimizers: dict[str, str] = Field(description="Each optimizer's own colour.")
    palette: list[str] = Field(description="Colours for runs beyond the named optimizers.")
    symbols: dict[str, str] = Field(description="Each optimizer's own marker shape (Plotly name).")
    symbol_cycle: list[str] = Field(description="Marker shapes for runs beyond those.")
    dashes: dict[str, str] = Field(
        default_factory=dict, description="Each optimizer's own line dash (Plotly line.dash)."
    )
    start: str = Field(description="The start point's marker.")
    minimum: str = Field(description="The minima's markers.")
    colorscale: str = Field(description="Plotly colorscale name of the contour and surface.")
    arrows: dict[str, ArrowStyleInfo] = Field(
        description="The arrows at the cursor by kind (grad, momentum, step)."
    )


class GradientFreeLimits(BaseModel):
    """What bounds a gradient-free run (simulated annealing, the genetic algorithm), which
    evaluates S points a step (1, or its population)."""

    max_sampled: int = Field(
        description="steps × S must be at most this (else a 422 naming the population)."
    )
    sample_points: int = Field(
        description="A reply carries at most about this many samples per run: point i's "
        "when i % k == 0, k = ceil((steps + 1) × S / sample_points)."
    )


class SettingsReply(BaseModel):
    scene: dict[str, OptionInfo] = Field(description="steps, runs, noise, seed.")
    export: dict[str, OptionInfo] = Field(description="width, height, fps, frames, frame, title.")
    maps: dict[str, OptionInfo] = Field(
        description="steps, lr_count, axis_count, resolution, basin_runs, budget."
    )
    gradient_free: GradientFreeLimits
    colors: Colors


def _info(option: config.Option) -> OptionInfo:
    return OptionInfo(
        name=option.name,
        default=option.default,
        min=option.min,
        max=option.max,
        integer=option.integer,
        help=option.help,
    )


def settings() -> SettingsReply:
    """The reply, read from the options' and colours' homes at call time."""
    return SettingsReply(
        scene={o.name: _info(o) for o in config.SCENE_OPTIONS},
        export={o.name: _info(o) for o in config.EXPORT_OPTIONS},
        maps={o.name: _info(o) for o in config.MAP_OPTIONS},
        gradient_free=GradientFreeLimits(
            max_sampled=config.MAX_SAMPLED, sample_points=config.SAMPLE_POINTS
        ),
        colors=Colors(
            optimizers=dict(palette.OPTIMIZER_COLORS),
            palette=list(palette.OKABE_ITO),
            symbols=dict(palette.OPTIMIZER_SYMBOLS),
            symbol_cycle=list(palette.SYMBOL_CYCLE),
            dashes=dict(palette.OPTIMIZER_DASHES),
            start=palette.START_COLOR,
            minimum=palette.MINIMUM_COLOR,
            colorscale=palette.LANDSCAPE_COLORSCALE,
            arrows={
                kind: ArrowStyleInfo(color=s.color, dash=list(s.dash), width=s.width)
                for kind, s in palette.ARROW_STYLES.items()
            },
        ),
    )


@router.get(
    "/settings",
    response_model=SettingsReply,
    summary="Scene and export limits, colours and the contour colorscale",
)
def get_settings(request: Request) -> Response:
    # A few hundred bytes; an ETag from the content lets a warm page load get a 304.
    return respond(request, Payload(settings().model_dump_json().encode(), "application/json"))
