"""The one run style table, shared by the page (served in /api/optimizers and /api/settings)
and the exporters: each optimizer's colour, marker shape and dash style.

Colours are Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008): they
stay distinguishable under protanopia, deuteranopia and tritanopia. Seven colours cannot
tell twenty optimizers apart, so each run also carries a marker shape (its heads, step
dots and legend key) and a dash style (its path and its loss curve): two optimizers that
share a colour differ in both shape and dash, two that share a shape differ in colour and
dash, so any race of up to twelve runs stays readable in greyscale print, on a washed-out
projector and for readers who cannot tell two colours apart. Each optimizer owns a fixed
style, so a slide exported today matches the page tomorrow.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

# Okabe–Ito, minus black (kept for text and markers) and the pale yellow, which
# vanishes on a white projector screen; added last, and used least.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)
_BLUE, _ORANGE, _GREEN, _VERMILLION, _PURPLE, _SKY, _YELLOW = OKABE_ITO

# Plotly's line.dash names; the exporters draw the same patterns (DASH_PATTERNS).
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "longdash", "dashdot", "longdashdot")

# On/off lengths of each dash in units of max(line width, 3) px, exactly as Plotly.js draws
# them (drawing.dashStyle), so an exported path is dashed as the page's is.
DASH_PATTERNS: dict[str, tuple[float, ...]] = {
    "solid": (),
    "dot": (1, 1),
    "dash": (3, 3),
    "longdash": (5, 5),
    "dashdot": (3, 1, 1, 1),
    "longdashdot": (5, 2, 1, 2),
}

# Plotly symbol names a run may wear, in the order fresh ones are handed out. Star, open
# circle and x are the minima's markers and the filled black circle is the start, so runs
# never use them; every shape here is drawn by the page's legend and step dots
# (static/js/legend.js, dots.js) and by the exporters (app/export/render.py) alike.
SYMBOLS: tuple[str, ...] = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "triangle-down",
    "pentagon",
    "hexagon",
    "cross",
    "triangle-left",
    "triangle-right",
    "hourglass",
    "bowtie",
)


class RunStyle(NamedTuple):
    """How one run is drawn: line and marker colour, marker shape, line dash."""

    color: str
    symbol: str
    dash: str


# The named optimizers' styles. The first six keep the colours and shapes lecturers know
# from the first build, all solid; the later ones take dashes. The table is checked by
# tests/app/test_palette.py: a shared colour means a different shape and dash, a shared
# shape a different colour and dash.
_NAMED: dict[str, RunStyle] = {
    # classic
    "sgd": RunStyle(_BLUE, "circle", "solid"),
    "momentum": RunStyle(_ORANGE, "square", "solid"),
    "nag": RunStyle(_GREEN, "diamond", "solid"),
    # adaptive: the first build's three, then the Adam family and the rest
    "adagrad": RunStyle(_VERMILLION, "triangle-up", "solid"),
    "rmsprop": RunStyle(_PURPLE, "triangle-down", "solid"),
    "adam": RunStyle(_SKY, "pentagon", "solid"),
    "adamw": RunStyle(_VERMILLION, "hexagon", "dash"),
    "amsgrad": RunStyle(_ORANGE, "cross", "dash"),
    "nadam": RunStyle(_GREEN, "triangle-left", "dash"),
    "radam": RunStyle(_PURPLE, "triangle-right", "dash"),
    "adamax": RunStyle(_BLUE, "hourglass", "dash"),
    "lion": RunStyle(_BLUE, "bowtie", "dashdot"),
    "adadelta": RunStyle(_VERMILLION, "bowtie", "longdash"),
    "adafactor": RunStyle(_SKY, "square", "dash"),
    "rprop": RunStyle(_YELLOW, "diamond", "dash"),
    "sdprop": RunStyle(_PURPLE, "pentagon", "dashdot"),
    # large-batch
    "lars": RunStyle(_GREEN, "circle", "longdash"),
    "lamb": RunStyle(_ORANGE, "triangle-up", "longdash"),
    # gradient-free: dotted, as their samples are drawn (a hot colour for annealing, green
    # for the population that evolves)
    "annealing": RunStyle(_VERMILLION, "triangle-right", "dot"),
    "genetic": RunStyle(_GREEN, "hexagon", "dot"),
}

# Each optimizer's own colour, shape and dash: the homes the lookups below read (a colour
# changed here reaches the page and the exports).
OPTIMIZER_COLORS: dict[str, str] = {name: s.color for name, s in _NAMED.items()}
OPTIMIZER_SYMBOLS: dict[str, str] = {name: s.symbol for name, s in _NAMED.items()}
OPTIMIZER_DASHES: dict[str, str] = {name: s.dash for name, s in _NAMED.items()}
# Kept for older clients of /api/settings: the shapes no named optimizer starts with.
SYMBOL_CYCLE: tuple[str, ...] = ("hexagon", "cross", "triangle-left", "triangle-right")

# Landscape colours (contour fill) — Plotly's built-in name, also used by the exporters.
LANDSCAPE_COLORSCALE = "Viridis"
# Start point, minima and text: black/white stay readable on every colour above.
START_COLOR = "#000000"
MINIMUM_COLOR = "#FFFFFF"


class ArrowStyle(NamedTuple):
    """How one kind of arrow at the cursor is drawn (issue 12), on the page and in exports:
    its colour, dash pattern and width in the page's pixels, over a black halo."""

    color: str
    dash: tuple[float, ...]
    width: float


# −g vermillion, the momentum buffer sky blue and dashed, the step white: colour-blind
# safe and told apart by dash too. The momentum arrow is drawn first and wider: where it
# lies under −g (they often point alike), its edges still show.
ARROW_STYLES: dict[str, ArrowStyle] = {
    "grad": ArrowStyle("#D55E00", (), 2.5),
    "momentum": ArrowStyle("#56B4E9", (8, 4), 5.5),
    "step": ArrowStyle("#FFFFFF", (), 2.5),
}

# Every style a run can wear, in the order fresh ones are handed out: a new colour first,
# then a new dash, then a new shape.
_ALL_STYLES: tuple[RunStyle, ...] = tuple(
    RunStyle(color, symbol, dash)
    for symbol in SYMBOLS
    for dash in DASHES[1:] + DASHES[:1]
    for color in OKABE_ITO
)


def style_for(optimizer: str) -> RunStyle:
    """An optimizer's own style. A name without one (an optimizer added to the registry but
    not to the table) gets a dashed style no named optimizer wears, fixed by its name, so it
    is the same on every page load, in every export and on every machine."""
    if optimizer in OPTIMIZER_COLORS:
        return RunStyle(
            OPTIMIZER_COLORS[optimizer],
            OPTIMIZER_SYMBOLS.get(optimizer, "circle"),
            OPTIMIZER_DASHES.get(optimizer, "solid"),
        )
    named = {style_for(name) for name in OPTIMIZER_COLORS}
    free = [s for s in _ALL_STYLES if s not in named and s.dash != "solid"]
    return free[zlib.crc32(optimizer.encode()) % len(free)]


def race_styles(optimizers: list[str]) -> list[RunStyle]:
    """Styles for the runs of one race, each distinct from every other.

    The first run of each optimizer wears its own style; a repeat (the same optimizer at
    another learning rate, "Adam #2") gets the least-used shape, then the least-used colour,
    then the least-used dash among the styles still free, so its shape is its own while
    there are shapes left (twelve: a full race of one optimizer).
    """
    styles: list[RunStyle | None] = [None] * len(optimizers)
    taken: set[RunStyle] = set()
    seen: set[str] = set()
    for i, name in enumerate(optimizers):
        own = style_for(name)
        if name not in seen and own not in taken:
            styles[i] = own
            taken.add(own)
        seen.add(name)
    for i in range(len(optimizers)):
        if styles[i] is not None:
            continue
        used = [s for s in styles if s is not None]

        def load(s: RunStyle, used: list[RunStyle] = used) -> tuple[int, int, int]:
            return (
                sum(u.symbol == s.symbol for u in used),
                sum(u.color == s.color for u in used),
                sum(u.dash == s.dash for u in used),
            )

        fresh = min((s for s in _ALL_STYLES if s not in taken), key=load)
        styles[i] = fresh
        taken.add(fresh)
    return [s for s in styles if s is not None]


def color_for(optimizer: str, index: int = 0) -> str:
    """Colour of an optimizer (its own, or the one style_for gives a new name)."""
    return style_for(optimizer).color


def run_colors(optimizers: list[str]) -> list[str]:
    """Colours of a race's runs (race_styles)."""
    return [s.color for s in race_styles(optimizers)]


def run_symbols(optimizers: list[str]) -> list[str]:
    """Marker shapes of a race's runs (race_styles)."""
    return [s.symbol for s in race_styles(optimizers)]


def run_dashes(optimizers: list[str]) -> list[str]:
    """Dash styles of a race's runs (race_styles)."""
    return [s.dash for s in race_styles(optimizers)]
