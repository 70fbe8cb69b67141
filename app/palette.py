"""The one colour palette, shared by the page (served in /api/optimizers) and the exporters.

Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008): the eight
colours stay distinguishable under protanopia, deuteranopia and tritanopia. Each
optimizer owns a fixed colour so a slide exported today matches the page tomorrow.
"""

from __future__ import annotations

from typing import NamedTuple

# Okabe–Ito, minus black (kept for text and markers) and the pale yellow, which
# vanishes on a white projector screen; added last for a seventh run.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
)

OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#0072B2",
    "momentum": "#E69F00",
    "nag": "#009E73",
    "adagrad": "#D55E00",
    "rmsprop": "#CC79A7",
    "adam": "#56B4E9",
}

# A marker shape per optimizer as well as a colour, so paths stay apart in greyscale
# print, on a washed-out projector and for readers who cannot tell two colours apart.
# Plotly symbol names; the exporters draw the same shapes. Star, open circle and x are
# the minima's markers and the filled black circle is the start, so runs never use them.
OPTIMIZER_SYMBOLS: dict[str, str] = {
    "sgd": "circle",
    "momentum": "square",
    "nag": "diamond",
    "adagrad": "triangle-up",
    "rmsprop": "triangle-down",
    "adam": "pentagon",
}
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


def color_for(optimizer: str, index: int = 0) -> str:
    """Colour of an optimizer; unknown names (and repeats) cycle through the palette."""
    return OPTIMIZER_COLORS.get(optimizer, OKABE_ITO[index % len(OKABE_ITO)])


def run_colors(optimizers: list[str]) -> list[str]:
    """Colours for a list of runs: the optimizer's own colour, a fresh one for a repeat."""
    used: set[str] = set()
    colors: list[str] = []
    for i, name in enumerate(optimizers):
        color = color_for(name, i)
        if color in used:
            color = next((c for c in OKABE_ITO if c not in used), OKABE_ITO[i % len(OKABE_ITO)])
        used.add(color)
        colors.append(color)
    return colors


def run_symbols(optimizers: list[str]) -> list[str]:
    """Marker shapes for a list of runs: the optimizer's own, a fresh one for a repeat."""
    used: set[str] = set()
    symbols: list[str] = []
    spare = [s for s in (*OPTIMIZER_SYMBOLS.values(), *SYMBOL_CYCLE)]
    for i, name in enumerate(optimizers):
        symbol = OPTIMIZER_SYMBOLS.get(name, SYMBOL_CYCLE[i % len(SYMBOL_CYCLE)])
        if symbol in used:
            symbol = next((s for s in spare if s not in used), SYMBOL_CYCLE[i % len(SYMBOL_CYCLE)])
        used.add(symbol)
        symbols.append(symbol)
    return symbols
