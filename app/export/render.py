"""Frames of a scene, drawn with Pillow: contour, growing paths, moving heads, legend, counter.

What a frame shows matches the page: equal-scale axes (one unit of x is as long as one unit
of y, so gradients cross the contours at right angles and the ill-conditioned bowl looks as
long as it is), a colour bar with labelled ticks ("f − min f" on a log scale where the
page colours by log), each run's marker shape at its head and in the legend, step dots
along the paths, and every word in the scene's language (static/i18n, as the page).

Speed comes from drawing almost nothing per frame. The contour (the page's colour scale
applied to app.scene.grid(...).color, banded like Plotly's filled contour, with contour
lines where the band changes), the legend, the colour bar and the title are drawn once.
Each panel keeps a canvas holding the paths drawn so far; a new frame only adds the
segments (and step dots) since the previous frame, then pastes copies of the canvases
onto the static image and draws the heads, the markers and the step counter.

A gradient-free run (issue 14) also shows, per frame, what it evaluated to reach its head,
as the page does: the genetic algorithm's population as dots of its colour at 60 %, laid
on the contour only (never over a path, a step dot or a marker), and simulated
annealing's proposal, a ring round the head when taken, a grey crossed marker on a dotted
segment when turned down. The legend then counts each run's evaluations ("f × 9,520").

Mode "P" renders straight into a fixed 256-colour palette (contour bands, run colours,
greys for text, a population's colour blended over each band), which is what a GIF
stores, so no per-frame colour quantization is needed; mode "RGB" is for MP4 and PNG.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app.export import arrows as arrow_rules
from app.export.data import ExportScene, ui_words
from app.export.ranges import coincident_groups, fmt_coord, superscript_power
from app.palette import (
    ARROW_STYLES,
    DASH_PATTERNS,
    LANDSCAPE_COLORSCALE,
    MINIMUM_COLOR,
    START_COLOR,
)
from app.words import say

# Plotly's filled contour shows about this many bands; the page and the export look alike.
CONTOUR_LEVELS = 16
# Pixel coordinates are clipped here: far-away points (up to 1e6 before divergence) stay
# drawable without changing the direction of the visible part of a segment much.
_CLIP = 20_000.0
# Step dots: about this many per path (the page's overlay: dotEvery(steps, 28) in
# static/js/plot.js), so the spacing between them reads as the step length.
STEP_DOTS = 28
# Legend text shrinks down to this fraction of the normal small size before it wraps.
_MIN_LEGEND_SCALE = 0.7
# A gradient-free run's samples (CONTRACT-15 "Drawing", as the page): the genetic
# algorithm's population as dots of this opacity and radius (× a head's); annealing's
# proposal as a hollow marker of this radius, joined to its head by a dotted line.
POPULATION_OPACITY = 0.6
POPULATION_RADIUS = 0.8
RIM_OPACITY = 0.5
PROPOSAL_RADIUS = 0.9
# A proposal annealing turned down: grey and crossed, on a dotted segment from the chain's
# point (the page's colours, static/js/dots.js).
REJECTED = "#8C959F"
SEGMENT = "#57606A"

_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
# For Japanese (or any CJK text), which DejaVu cannot show. Index 0 of Noto's collection
# is its Japanese face (Japanese glyph forms for the shared Han characters).
_CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)

# The page's minimum markers (static/js/plot.js MARKERS): kind → (Plotly symbol, i18n key).
MINIMUM_MARKERS = {
    "global": ("star", "minimum.global"),
    "local": ("circle-open", "minimum.local"),
    "saddle": ("x", "minimum.saddle"),
}
WHITE = "#FFFFFF"
TEXT = "#222222"
FRAME = "#888888"
BLACK = "#000000"
Color = tuple[int, int, int]
Ink = Callable[[str], "int | Color"]


def hex_rgb(color: str) -> Color:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def needs_cjk_font(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


# Cache budget: a loaded Noto CJK face holds ~1.9 MB, a DejaVu one ~0.2 MB; one export uses
# about eight sizes (title, labels, the legend shrinking to fit), so 24 faces (≤ 46 MB)
# keep a few export heights warm without holding every size from 6 to 44 pt twice.
@lru_cache(maxsize=24)
def load_font(size: int, cjk: bool = False) -> Font:
    """A local font file (DejaVu, Noto CJK for CJK text; either for Latin text), else
    Pillow's bundled one (which has no Japanese: .ci/run installs fonts-noto-cjk)."""
    for path in (*(_CJK_FONT_FILES if cjk else ()), *_FONT_FILES, *_CJK_FONT_FILES):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def font_for(text: str, size: int) -> Font:
    return load_font(size, needs_cjk_font(text))


@lru_cache(maxsize=8)
def colorscale_lut(levels: int, name: str = LANDSCAPE_COLORSCALE) -> np.ndarray:
    """(levels, 3) uint8: the Plotly colour scale sampled at the centre of each band.

    Cache budget: 8 tables of `levels` × 3 bytes (a few hundred bytes each).
    """
    from plotly.colors import get_colorscale

    scale = get_colorscale(name)
    stops = np.array([s for s, _ in scale], dtype=float)
    rgb = np.array([hex_rgb(c) if c.startswith("#") else _rgb_string(c) for _, c in scale])
    t = (np.arange(levels) + 0.5) / levels
    channels = [np.interp(t, stops, rgb[:, k]) for k in range(3)]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


def _rgb_string(color: str) -> Color:
    r, g, b = (int(float(v)) for v in color[color.index("(") + 1 : color.index(")")].split(",")[:3])
    return r, g, b


def nice_ticks(low: float, high: float, target: float = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k apart) inside [low, high]."""
    span = high - low
    if not math.isfinite(span) or span <= 0 or target <= 0:
        return [low]
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * span:
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        value += step
    return ticks


def tick_text(value: float) -> str:
    """A tick label: short, with a true minus sign."""
    return f"{value:g}".replace("-", "−")


def log_ticks(low: float, high: float) -> list[tuple[float, str]]:
    """(colour value, label) where f − min f = 10^c, as the page's colour bar (logTicks):
    powers of ten written as the loss chart writes them (10⁻², 10⁻¹, 1, 10, 10²), and the
    low end labelled with its own value when it lies clearly below the first power, so the
    bar's bottom colour says what it stands for."""
    first, last = math.ceil(low), math.floor(high)
    every = max(1, math.ceil((last - first + 1) / 7))
    ticks = [(float(c), superscript_power(c)) for c in range(first, last + 1, every)]
    if not ticks or ticks[0][0] - low >= 0.4 * every:
        ticks.insert(0, (float(low), power_number(10**low)))
    return ticks


def power_number(value: float) -> str:
    """A positive number in the colour bar's style: 2.5×10⁻³, 0.25, 2.5, 25, 2.5×10³."""
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    if -1 <= exponent <= 1:
        return tick_text(float(f"{value:.2g}"))
    if mantissa == 1:
        return superscript_power(exponent)
    return f"{mantissa:g}×{superscript_power(exponent)}"


def dot_every(steps: int, target: float = STEP_DOTS) -> int:
    """Every how many steps a path gets a dot: a round number (1, 2, 5 × 10^k) giving about
    `target` dots over the run, the page's rule (dotEvery in static/js/plot.js)."""
    raw = steps / target
    if raw <= 1:
        return 1
    decade = 10 ** math.floor(math.log10(raw))
    return next(m * decade for m in (1, 2, 5, 10) if m * decade >= raw)


def symbol_polygon(symbol: str, x: float, y: float, r: float) -> list[tuple[float, float]] | None:
    """The outline of a Plotly marker symbol of radius ~r at (x, y); None for a circle.

    Sizes are chosen so every shape covers about the area of the circle of radius r.
    """
    name = symbol.removesuffix("-open")

    def regular(n: int, radius: float, turn: float) -> list[tuple[float, float]]:
        return [
            (
                x + radius * math.sin(turn + 2 * math.pi * k / n),
                y - radius * math.cos(turn + 2 * math.pi * k / n),
            )
            for k in range(n)
        ]

    if name == "square":
        return regular(4, r * 1.25, math.pi / 4)
    if name == "diamond":
        return regular(4, r * 1.3, 0.0)
    if name.startswith("triangle-"):
        pointing = {"up": 0.0, "right": math.pi / 2, "down": math.pi, "left": -math.pi / 2}
        return regular(3, r * 1.45, pointing.get(name.removeprefix("triangle-"), 0.0))
    if name == "pentagon":
        return regular(5, r * 1.15, 0.0)
    if name == "hexagon":
        return regular(6, r * 1.1, 0.0)
    if name == "star":
        return [
            (
                x + (r * 1.5 if k % 2 == 0 else r * 0.65) * math.sin(k * math.pi / 5),
                y - (r * 1.5 if k % 2 == 0 else r * 0.65) * math.cos(k * math.pi / 5),
            )
            for k in range(10)
        ]
    if name in ("hourglass", "bowtie"):
        # Two triangles meeting at the centre: apart at top and bottom (hourglass) or at
        # left and right (bowtie), as Plotly draws them.
        a = r * 1.2
        corners = [(-a, -a), (a, -a), (-a, a), (a, a)]
        if name == "bowtie":
            corners = [(py, px) for px, py in corners]
        return [(x + px, y + py) for px, py in corners]
    if name in ("cross", "x"):
        a, w = r * 1.25, r * 0.42  # arm length, half width
        plus = [(w, a), (w, w), (a, w), (a, -w), (w, -w), (w, -a)]
        plus += [(-w, -a), (-w, -w), (-a, -w), (-a, w), (-w, w), (-w, a)]
        turn = math.pi / 4 if name == "x" else 0.0
        c, s = math.cos(turn), math.sin(turn)
        return [(x + px * c - py * s, y + px * s + py * c) for px, py in plus]
    return None


def dash_pieces(
    points: np.ndarray, arc: np.ndarray, first: int, last: int, pattern: tuple[float, ...]
) -> list[list[float]]:
    """The inked stretches of a dashed polyline between points `first` … `last`, each a flat
    coordinate list for ImageDraw.line. `arc` is the cumulative length along the whole path
    and `pattern` the on/off lengths in pixels, so the dashes run on unbroken when a path is
    drawn a few steps per frame. An empty pattern is a solid line."""
    whole = points[first : last + 1]
    if not pattern:
        return [whole.ravel().tolist()]
    period = float(sum(pattern))
    ons, at = [], 0.0
    for k in range(0, len(pattern), 2):
        ons.append((at, at + pattern[k]))
        at += pattern[k] + (pattern[k + 1] if k + 1 < len(pattern) else 0.0)
    begin, end = float(arc[first]), float(arc[last])

    def at_length(length: float) -> list[float]:
        i = int(np.clip(np.searchsorted(arc, length, side="right") - 1, 0, len(arc) - 2))
        span = arc[i + 1] - arc[i]
        u = (length - arc[i]) / span if span > 0 else 0.0
        return (points[i] + (points[i + 1] - points[i]) * u).tolist()

    pieces = []
    for n in range(math.floor(begin / period), math.floor(end / period) + 1):
        for a, b in ons:
            lo, hi = max(begin, n * period + a), min(end, n * period + b)
            if hi <= lo:
                continue
            inner = np.flatnonzero((arc > lo) & (arc < hi))
            coords = at_length(lo)
            for i in inner:
                coords += points[i].tolist()
            pieces.append(coords + at_length(hi))
    return pieces


def dash_pattern(dash: str, width: float) -> tuple[float, ...]:
    """A Plotly line.dash name as on/off pixel lengths for a line `width` px wide (Plotly's
    unit: max(width, 3))."""
    unit = max(width, 3.0)
    return tuple(unit * v for v in DASH_PATTERNS.get(dash, ()))


def draw_symbol(
    draw: ImageDraw.ImageDraw,
    symbol: str,
    x: float,
    y: float,
    r: float,
    fill: int | Color | None,
    outline: int | Color | None,
    width: int = 1,
) -> None:
    """A marker shape; "-open" symbols (and fill=None) are drawn as an outline only."""
    if symbol.endswith("-open"):
        outline, fill = fill if fill is not None else outline, None
        width = max(width, round(r / 3))
    polygon = symbol_polygon(symbol, x, y, r)
    if polygon is None:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=outline, width=width)
    else:
        draw.polygon(polygon, fill=fill, outline=outline, width=width)


def _fit(text: str, font: Font, width: float) -> str:
    """The text, cut with an ellipsis to fit `width` pixels (a last resort: titles only)."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…" if text else ""


# Where a label may break between words: at a space, except around "=" and "×" and after
# "η", so "η = 0.002" and "f × 9,520" stay whole.
_WORD_BREAK = re.compile(r"(?<![ησ=×]) (?![=×])")


def _fill(pieces: list[str], font: Font, width: float) -> list[str] | None:
    lines: list[str] = []
    for piece in pieces:
        if lines and font.getlength(f"{lines[-1]} {piece}") <= width:
            lines[-1] = f"{lines[-1]} {piece}"
        else:
            lines.append(piece)
    return lines if all(font.getlength(line) <= width for line in lines) else None


def label_words(text: str) -> list[str]:
    """The pieces a label may break into between words (see _WORD_BREAK)."""
    return _WORD_BREAK.split(text)


def wrap(text: str, font: Font, width: float) -> list[str] | None:
    """Lines of `text` no wider than `width`, broken after ", " (a label's parts), else
    between words, or None.

    A run label is "Nesterov (NAG), η = 0.01": it breaks between the name and the
    learning rate, never inside a number.
    """
    if font.getlength(text) <= width:
        return [text]
    parts = text.split(", ")
    pieces = [part + ("," if i < len(parts) - 1 else "") for i, part in enumerate(parts)]
    return _fill(pieces, font, width) or _fill(label_words(text), font, width)


def wrap_characters(text: str, font: Font, width: float) -> list[str]:
    """Lines broken between any two characters (Japanese has no spaces): always fits a
    width of one character or more."""
    lines = [""]
    for char in text:
        if lines[-1] and font.getlength(lines[-1] + char) > width:
            lines.append(char.lstrip())
        else:
            lines[-1] += char
    return lines


@dataclass
class _Panel:
    x0: int
    y0: int
    w: int
    h: int
    runs: list[int]


# The page's arrow styles (one home: app.palette, served to the page in /api/settings).
ARROW_STYLE = ARROW_STYLES


class ArrowRow(NamedTuple):
    """A row of the arrows' legend box: the arrow, what it is, each recording run's length."""

    kind: str
    label: str
    values: list[str]


class Numerals:
    """Numbers written from pre-rendered glyphs: a legend's lengths change every frame,
    and pasting a few glyph masks costs a fifth of laying the text out again each time.
    Digits carry no kerning, so the result matches ImageDraw.text but for sub-pixel
    placement; a character without a glyph here falls back to ImageDraw.text."""

    CHARACTERS = "0123456789.e−—"

    def __init__(self, font: Font, mode: str) -> None:
        self.font = font
        ascent, descent = font.getmetrics() if isinstance(font, ImageFont.FreeTypeFont) else (9, 2)
        self.ascent, self.height = ascent, ascent + descent
        self.glyphs: dict[str, tuple[Image.Image, float]] = {}
        for char in self.CHARACTERS:
            advance = font.getlength(char)
            glyph = Image.new("L", (math.ceil(advance) + 2, self.height))
            draw = ImageDraw.Draw(glyph)
            # Palette frames take text unblended, as ImageDraw writes it into "P" images.
            draw.fontmode = "1" if mode == "P" else "L"
            draw.text((0, ascent), char, fill=255, font=font, anchor="ls")
            self.glyphs[char] = (glyph, advance)

    def write_right(
        self, image: Image.Image, right: float, middle: float, text: str, ink: int | Color
    ) -> None:
        """`text` ending at x = `right`, centred on y = `middle` (ImageDraw's anchor "rm")."""
        if any(char not in self.glyphs for char in text):
            ImageDraw.Draw(image).text((right, middle), text, fill=ink, font=self.font, anchor="rm")
            return
        width = sum(self.glyphs[char][1] for char in text)
        mask = Image.new("L", (math.ceil(width) + 2, self.height))
        at = 0.0
        for char in text:
            glyph, advance = self.glyphs[char]
            mask.paste(glyph, (round(at), 0), glyph)
            at += advance
        image.paste(ink, (round(right - width), round(middle - self.height / 2)), mask)


class ArrowFrame(NamedTuple):
    """A panel's arrow legend, set once: what every frame shares, where it goes, where the
    lengths are written (right edges of the columns, the title line's centre)."""

    image: Image.Image
    at: tuple[int, int]
    font: Font
    numerals: Numerals
    ends: list[float]
    top: float
    line_height: int


class ArrowBox(NamedTuple):
    """How the arrows' legend box is set: font, swatch, label and length columns (pixels)."""

    font: Font
    size: int
    swatch: float
    line_height: int
    label: float
    columns: list[float]
    width: float
    height: float


class DrawnArrow(NamedTuple):
    """An arrow as drawn (for tests): tail and tip in its panel's pixels, vector in data units."""

    kind: str
    tail: tuple[float, float]
    tip: tuple[float, float]
    vector: tuple[float, float]


@dataclass
class LegendEntry:
    """One legend row: a run (line + marker shape) or a marker (start, a minimum)."""

    label: str
    color: str
    symbol: str
    line: bool  # runs show a stretch of path behind their marker
    lines: list[str] = field(default_factory=list)  # the label as drawn, after wrapping
    dash: str = "solid"  # a run's line dash (app.palette), drawn in its key


@dataclass
class Legend:
    """Where the legend goes and how its text is set: every label whole, never cut."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    size: int  # font size
    entries: list[LegendEntry]
    flow: bool = False  # entries side by side in rows (below the plot) instead of a column


class FrameRenderer:
    """Renders frames of one scene at one size; ask for steps in increasing order for speed."""

    def __init__(
        self,
        scene: ExportScene,
        width: int,
        height: int,
        layout: str = "overlay",
        mode: str = "RGB",
        supersample: int | None = None,
        arrows: bool = False,
    ) -> None:
        if mode not in ("RGB", "P"):
            raise ValueError(f"mode must be 'RGB' or 'P', got {mode!r}")
        self.scene = scene
        self.width = int(width)
        self.height = int(height)
        self.layout = layout
        self.mode = mode
        self.words = ui_words(scene.lang)
        self.title = scene.full_title
        labels = " ".join(run.legend_label for run in scene.runs)
        # One face for every word of a Japanese scene: the same glyph widths in a label
        # whether or not it holds a kana.
        self.cjk = scene.lang != "en" or needs_cjk_font(self.title + labels)
        # RGB panels are drawn at 2× and box-filtered down: anti-aliased paths, heads and
        # contour lines for MP4/PNG at the cost of one reduce() per panel per frame. GIF
        # frames stay in the palette, where blending would invent colours.
        self.scale = supersample if supersample is not None else (2 if mode == "RGB" else 1)
        self.dot_every = dot_every(scene.steps)
        self._build_palette()
        self._grid = self._color_values()
        self._place()
        self._static = self._draw_static()
        self._tile = self._contour_tile(
            self._panels[0].w * self.scale, self._panels[0].h * self.scale
        )
        self._pixels = self._transform()
        # Length along each path up to each point, in pixels: the phase of its dashes.
        self._arcs = [
            np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T)))) if len(p) else p
            for p in self._pixels
        ]
        # Per run: the arrows of its recorded updates (app.export.arrows); [] without, and
        # [] for a gradient-free run (it never reads the gradient its record holds; the page
        # shows nothing from inside it either): its samples show what it did.
        self._arrows = [
            arrow_rules.arrow_sets(run.points, run.record) if arrows and run.samples is None else []
            for run in scene.runs
        ]
        self._arrow_typical = arrow_rules.typical_lengths(self._arrows)
        self._arrow_corners: dict[int, str] = {}
        self._arrow_frames: dict[int, ArrowFrame | None] = {}
        self._canvases: list[Image.Image] = []
        self._drawn = 0
        self._reset()
        # run → its samples as last drawn: (S, 2) centres in its panel's pixels (for tests)
        self.samples_drawn: dict[int, np.ndarray] = {}

    def font(self, size: float) -> Font:
        return load_font(max(6, round(size)), self.cjk)

    def counter_text(self, step: int) -> str:
        """The step counter in the scene's language: "step 12 / 60", "ステップ 12 / 60"."""
        template = self.words["play.stepOf"]
        return template.replace("{step}", str(step)).replace("{steps}", str(self.scene.steps))

    # --- colours ---------------------------------------------------------------------------

    def _build_palette(self) -> None:
        lut = colorscale_lut(CONTOUR_LEVELS)
        # Contour lines: each band's colour darkened, so lines read on every band.
        lines = (lut.astype(float) * 0.72).astype(np.uint8)
        self._band_rgb = np.concatenate([lut, lines])  # index = band or CONTOUR_LEVELS + band
        named = [WHITE, TEXT, FRAME, START_COLOR, MINIMUM_COLOR, BLACK, REJECTED, SEGMENT]
        named += [run.color for run in self.scene.runs]
        named += [color for color, _, _ in ARROW_STYLE.values()]
        colors: list[Color] = [(int(r), int(g), int(b)) for r, g, b in self._band_rgb]
        colors += [hex_rgb(c) for c in named]
        colors += [(g, g, g) for g in range(0, 256, 17)]  # greys for anti-aliased text
        # Population dots at POPULATION_OPACITY over each contour colour: a GIF cannot
        # blend, so its palette holds the blends (32 entries a colour, while index 255, the
        # GIF's "unchanged", stays free; past that the dots are solid).
        populations = [r.color for r in self.scene.runs if r.samples and not r.proposes]
        blended = [(BLACK, RIM_OPACITY)] if populations else []
        blended += [(color, POPULATION_OPACITY) for color in populations]
        blends: dict[tuple[str, float], int] = {}
        for name, alpha in dict.fromkeys(blended):
            if len(colors) + len(self._band_rgb) > 255:
                break
            mixed = np.rint(self._band_rgb * (1 - alpha) + np.array(hex_rgb(name)) * alpha)
            blends[name, alpha] = len(colors)
            colors += [(int(r), int(g), int(b)) for r, g, b in mixed.astype(int)]
        self._index: dict[Color, int] = {}
        for i, color in enumerate(colors):
            self._index.setdefault(color, i)
        # contour index → the blend's palette index (a blend equal to an earlier colour
        # takes that colour's index)
        self._blends = {
            color: np.array(
                [self._index[colors[first + k]] for k in range(len(self._band_rgb))], dtype=np.uint8
            )
            for color, first in blends.items()
        }
        flat = [v for color in colors for v in color]
        self.palette_bytes = flat + [0] * (768 - len(flat))

    def ink(self, color: str) -> int | Color:
        """A fill value for ImageDraw in this renderer's mode."""
        rgb = hex_rgb(color)
        return self._index[rgb] if self.mode == "P" else rgb

    def palette_image(self) -> Image.Image:
        image = Image.new("P", (1, 1))
        image.putpalette(self.palette_bytes)
        return image

    def _to_mode(self, image: Image.Image) -> Image.Image:
        if self.mode == "RGB":
            return image
        return image.quantize(palette=self.palette_image(), dither=Image.Dither.NONE)

    def _color_values(self) -> tuple[np.ndarray, float, float] | None:
        """The contour's colour values (row 0 = the smallest y) and their finite range,
        shared by the contour bands and the colour bar so the two agree."""
        if self.scene.color_grid is None:
            return None
        resolution = int(np.clip(max(self.width, self.height), 32, 400))
        _, _, color = self.scene.color_grid(resolution)
        color = np.asarray(color, dtype=float)
        finite = np.isfinite(color)
        low = float(color[finite].min()) if finite.any() else 0.0
        high = float(color[finite].max()) if finite.any() else 1.0
        return np.where(finite, color, high), low, high

    # --- layout ----------------------------------------------------------------------------

    def _place(self) -> None:
        W, H = self.width, self.height
        short = min(W, H)
        self.pad = max(3, round(short * 0.015))
        self.title_size = int(np.clip(round(H * 0.042), 9, 44))
        self.small_size = int(np.clip(round(H * 0.028), 8, 28))
        self.line_width = max(2, round(short / 260))
        self.head_radius = max(3, round(self.line_width * 2.2))
        self.band_height = round(self.title_size * 1.5) + self.pad
        self.counter_text_width = self.font(self.title_size).getlength(
            self.counter_text(self.scene.steps)
        )
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        self.span = (xmax - xmin, ymax - ymin)
        self.legend: Legend | None = None
        self.colorbar: tuple[int, int, int, int] | None = None  # the bar: left, top, right, bottom
        self.colorbar_below = False  # lying under the plot (wide landscapes) or beside it
        self.ticks = False
        self.label_height = 0
        self._colorbar_room = self._colorbar_width() if self._grid is not None and W >= 240 else 0
        if self.layout == "side_by_side" and len(self.scene.runs) > 1:
            self._place_grid()
        else:
            self._place_overlay()

    def _colorbar_width(self) -> int:
        """Pixels right of the plot the colour bar takes: gap, bar, tick labels, title."""
        font = self.tick_font()
        labels = [text for _, text in self._colorbar_ticks()]
        widest = max((font.getlength(t) for t in labels), default=0)
        self.colorbar_thickness = max(6, round(self.small_size * 0.8))
        tick = max(2, self.pad // 2) + 2
        title = self.small_size * 1.5
        return math.ceil(
            2 * self.pad + self.colorbar_thickness + tick + widest + self.pad / 2 + title + self.pad
        )

    def _colorbar_ticks(self) -> list[tuple[float, str]]:
        if self._grid is None:
            return []
        _, low, high = self._grid
        if self.scene.log_color:
            return log_ticks(low, high)
        ticks = [(v, tick_text(v)) for v in nice_ticks(low, high, 5)]
        step = ticks[1][0] - ticks[0][0] if len(ticks) > 1 else high - low
        if ticks and ticks[0][0] - low >= 0.4 * step:  # the low end says what it stands for
            # To the ticks' precision: the bottom band of a bar in steps of 10 reads "0".
            decimals = max(0, -math.floor(math.log10(step)) + 1)
            ticks.insert(0, (low, tick_text(round(low, decimals) + 0.0)))
        return ticks

    def tick_font(self) -> Font:
        """The colour bar's tick labels: numbers only, in DejaVu, whose superscripts (10⁻²)
        Noto CJK lacks."""
        return load_font(max(6, round(self.small_size)), False)

    def _fit_rect(self, width: float, height: float) -> tuple[int, int]:
        """The largest equal-scale plot (width, height) inside width × height pixels."""
        xspan, yspan = self.span
        unit = max(1e-9, min(width / xspan, height / yspan))
        return max(8, math.floor(xspan * unit)), max(8, math.floor(yspan * unit))

    def _legend_entries(self) -> list[LegendEntry]:
        entries = [
            LegendEntry(run.legend_label, run.color, run.symbol, True, dash=run.dash)
            for run in self.scene.runs
        ]
        entries.append(LegendEntry(self.words["plot.start"], START_COLOR, "circle", False))
        kinds = {m.kind for m in self.scene.minima}
        for kind, (symbol, key) in MINIMUM_MARKERS.items():
            if kind in kinds:
                entries.append(LegendEntry(self.words[key], MINIMUM_COLOR, symbol, False))
        return entries

    def _swatch_width(self, size: int) -> float:
        return size * 2.2

    def _column_legend(self, width: float, height: float) -> Legend | None:
        """The legend as a column `width` wide: the normal size if every label fits, else
        labels broken after a comma, else smaller text, else broken anywhere."""
        if width < 60:
            return None
        smallest = max(7, math.floor(self.small_size * _MIN_LEGEND_SCALE))
        for size in range(self.small_size, smallest - 1, -1):
            font = self.font(size)
            room = width - self._swatch_width(size) - 2 * self.pad
            entries = self._legend_entries()
            last = size == smallest
            for entry in entries:
                lines = wrap(entry.label, font, room)
                if lines is None and last:
                    lines = wrap_characters(entry.label, font, room)
                if lines is None:
                    break
                entry.lines = lines
            else:
                rows = sum(len(e.lines) for e in entries)
                needed = rows * size * 1.35 + len(entries) * size * 0.35 + size * 0.6
                if needed <= height or last:
                    return Legend((0, 0, round(width), math.ceil(needed)), size, entries)
        return None

    def _wrapped_legend_width(self, size: int) -> float:
        """Width a column legend needs at `size` with labels broken between words
        ("Nesterov" / "(NAG)," / "η = 0.002"), never inside one."""
        font = self.font(size)
        words = [word for e in self._legend_entries() for word in label_words(e.label)]
        return max(font.getlength(w) for w in words) + self._swatch_width(size) + 2 * self.pad

    def _legend_width(self, size: int) -> float:
        """Width a column legend needs for every label on one line at `size`."""
        font = self.font(size)
        widest = max(font.getlength(e.label) for e in self._legend_entries())
        return widest + self._swatch_width(size) + 2 * self.pad

    def _flow_legend(self, width: float) -> Legend | None:
        """The legend as rows of entries under the plot (for wide landscapes)."""
        smallest = max(7, math.floor(self.small_size * _MIN_LEGEND_SCALE))
        for size in range(self.small_size, smallest - 1, -1):
            font = self.font(size)
            entries = self._legend_entries()
            widths = [
                self._swatch_width(size) + font.getlength(e.label) + 2 * self.pad for e in entries
            ]
            if max(widths) > width:
                continue
            rows, used = 1, 0.0
            for w in widths:
                if used and used + w > width:
                    rows, used = rows + 1, 0.0
                used += w
            for entry in entries:
                entry.lines = [entry.label]
            height = math.ceil(rows * size * 1.7 + size * 0.3)
            return Legend((0, 0, round(width), height), size, entries, flow=True)
        return None

    def _place_overlay(self) -> None:
        W, H = self.width, self.height
        small = self.font(self.small_size)
        top = self.band_height
        tick_w = tick_h = 0
        if H >= 160 and W >= 200:
            self.ticks = True
            (_, _), (ymin, ymax) = self.scene.bounds
            labels = [tick_text(v) for v in nice_ticks(ymin, ymax, 10)]
            tick_w = int(max(small.getlength(t) for t in labels)) + self.pad
            tick_h = round(self.small_size * 1.4)
        avail_h = H - self.pad - top - tick_h
        cb = self._colorbar_room
        # A colour bar lying under the plot: its thickness, tick labels and a gap.
        cb_below = (
            round(self.colorbar_thickness + self.small_size * 1.6 + 2 * self.pad) if cb else 0
        )

        # Candidate layouts; the one giving the largest equal-scale plot wins, so the plot
        # uses the frame (a wide landscape in a 4:3 frame left 40 % of it white):
        # (1) legend in a column right of the colour bar, as wide as its longest label;
        # (2) the same column narrowed to the room a full-height plot leaves (labels wrap
        #     after their comma); (3) legend in rows under the plot; (4) colour bar lying
        #     under the plot, legend rows under it (wide landscapes).
        best: tuple[float, Legend | None, int, int, bool] = (-1.0, None, 0, 0, False)
        if W >= 300 and self.scene.runs:
            full_w, _ = self._fit_rect(W, avail_h)
            widths = {min(self._legend_width(self.small_size), 0.34 * W)}
            room = W - 2 * self.pad - tick_w - cb - full_w
            widths.add(min(max(room, self._wrapped_legend_width(self.small_size)), 0.34 * W))
            for column_w in sorted(widths):
                column = self._column_legend(column_w, avail_h)
                if column is not None:
                    pw, ph = self._fit_rect(W - 2 * self.pad - tick_w - cb - column_w, avail_h)
                    if pw * ph > best[0]:
                        best = (pw * ph, column, pw, ph, False)
            flow = self._flow_legend(W - 2 * self.pad)
            if flow is not None:
                flow_h = flow.box[3] + self.pad
                pw, ph = self._fit_rect(W - 2 * self.pad - tick_w - cb, avail_h - flow_h)
                # Rows under the plot only when clearly better: a column reads more easily.
                if pw * ph > 1.1 * best[0]:
                    best = (pw * ph, flow, pw, ph, False)
                if cb:
                    pw, ph = self._fit_rect(W - 2 * self.pad - tick_w, avail_h - flow_h - cb_below)
                    if pw * ph > 1.1 * best[0]:
                        best = (pw * ph, self._flow_legend(W - 2 * self.pad), pw, ph, True)
        legend, below = best[1], best[4]
        if legend is None:
            pw, ph = self._fit_rect(W - 2 * self.pad - tick_w - cb, avail_h)
        else:
            pw, ph = best[2], best[3]
        column_w = legend.box[2] if legend is not None and not legend.flow else 0
        flow_h = legend.box[3] + self.pad if legend is not None and legend.flow else 0
        # Centre the block (ticks, plot, colour bar, legend) in the space under the title.
        group_w = tick_w + pw + (0 if below else cb) + column_w
        group_h = ph + tick_h + flow_h + (cb_below if below else 0)
        x0 = round((W - group_w) / 2) + tick_w
        y0 = top + max(0, round((H - self.pad - top - group_h) / 2))
        self._panels = [_Panel(x0, y0, pw, ph, list(range(len(self.scene.runs))))]
        self.colorbar_below = below
        if cb and below:
            bar_top = y0 + ph + tick_h + self.pad
            self.colorbar = (x0, bar_top, x0 + pw, bar_top + self.colorbar_thickness)
        elif cb:
            left = x0 + pw + 2 * self.pad
            self.colorbar = (left, y0, left + self.colorbar_thickness, y0 + ph)
        if legend is not None:
            if legend.flow:
                left = max(self.pad, round((W - legend.box[2]) / 2))
                lt = y0 + ph + tick_h + self.pad + (cb_below if below else 0)
                legend.box = (left, lt, left + legend.box[2], lt + legend.box[3])
            else:
                left = x0 + pw + cb + self.pad
                legend.box = (left, y0, left + legend.box[2] - self.pad, y0 + legend.box[3])
            self.legend = legend

    def _place_grid(self) -> None:
        count = len(self.scene.runs)
        top = self.band_height
        area_w = self.width - 2 * self.pad - self._colorbar_room
        area_h = self.height - self.pad - top
        label_h = round(self.small_size * 1.5)
        best: tuple[float, int, int, int] = (-1.0, 1, 8, 8)
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            cell_w = (area_w - (cols - 1) * self.pad) / cols
            cell_h = (area_h - (rows - 1) * self.pad) / rows - label_h
            pw, ph = self._fit_rect(cell_w, cell_h)
            if pw * ph > best[0]:
                best = (pw * ph, cols, pw, ph)
        _, cols, pw, ph = best
        rows = math.ceil(count / cols)
        self.label_height = label_h
        grid_w = cols * pw + (cols - 1) * self.pad
        grid_h = rows * (ph + label_h) + (rows - 1) * self.pad
        left = self.pad + max(0, round((area_w - grid_w) / 2))
        y_top = top + max(0, round((area_h - grid_h) / 2))
        self._panels = []
        for i in range(count):
            r, c = divmod(i, cols)
            x0 = left + c * (pw + self.pad)
            y0 = y_top + r * (ph + label_h + self.pad) + label_h
            self._panels.append(_Panel(x0, y0, pw, ph, [i]))
        if self._colorbar_room:
            bar_left = left + grid_w + 2 * self.pad
            self.colorbar = (
                bar_left,
                y_top + label_h,
                bar_left + self.colorbar_thickness,
                y_top + grid_h,
            )

    # --- static layers ---------------------------------------------------------------------

    def _draw_static(self) -> Image.Image:
        image = Image.new("RGB", (self.width, self.height), hex_rgb(WHITE))
        draw = ImageDraw.Draw(image)
        self._draw_title(draw)
        for panel in self._panels:
            draw.rectangle(
                (panel.x0 - 1, panel.y0 - 1, panel.x0 + panel.w, panel.y0 + panel.h),
                outline=hex_rgb(FRAME),
            )
        if self.layout == "side_by_side" and len(self._panels) > 1:
            self._draw_panel_labels(draw)
        if self.ticks:
            self._draw_ticks(draw, self.font(self.small_size))
        if self.colorbar is not None:
            self._draw_colorbar(image, draw)
        self.legend_texts: list[tuple[str, tuple[float, float, float, float]]] = []
        if self.legend is not None:
            self._draw_legend(draw, self.legend)
        return self._to_mode(image)

    def _draw_title(self, draw: ImageDraw.ImageDraw) -> None:
        room = self.width - self.counter_text_width - 3 * self.pad
        size = self.title_size
        # Shrink a long title before cutting it: a lecturer's slide title should be whole.
        while size > self.title_size * 0.7 and self.font(size).getlength(self.title) > room:
            size -= 1
        font = self.font(size)
        self.title_shown = _fit(self.title, font, room)
        draw.text(
            (self.pad, self.band_height / 2),
            self.title_shown,
            fill=hex_rgb(TEXT),
            font=font,
            anchor="lm",
        )

    def _draw_panel_labels(self, draw: ImageDraw.ImageDraw) -> None:
        for panel in self._panels:
            run = self.scene.runs[panel.runs[0]]
            y = panel.y0 - self.label_height / 2
            size = self.small_size
            room = panel.w - size * 1.6
            # The evaluation count goes with the label only if it fits whole.
            label = run.legend_label
            if self.font(7).getlength(label) > room:
                label = run.label
            while size > 7 and self.font(size).getlength(label) > room:
                size -= 1
            font = self.font(size)
            r = self.small_size * 0.45
            draw_symbol(
                draw, run.symbol, panel.x0 + r + 1, y, r, hex_rgb(run.color), hex_rgb(BLACK)
            )
            draw.text(
                (panel.x0 + self.small_size * 1.4, y),
                _fit(label, font, room),
                fill=hex_rgb(TEXT),
                font=font,
                anchor="lm",
            )

    def _draw_ticks(self, draw: ImageDraw.ImageDraw, font: Font) -> None:
        panel = self._panels[0]
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        tick = max(2, self.pad // 2)
        # Targets in proportion to each side's length: equal scale, equal tick spacing.
        target = max(3.0, panel.w / 100)
        for value in nice_ticks(xmin, xmax, target):
            x: float = panel.x0 + (value - xmin) / (xmax - xmin) * panel.w
            y: float = panel.y0 + panel.h
            draw.line((x, y, x, y + tick), fill=hex_rgb(FRAME))
            draw.text((x, y + tick), tick_text(value), fill=hex_rgb(TEXT), font=font, anchor="mt")
        for value in nice_ticks(ymin, ymax, target * panel.h / panel.w):
            y = panel.y0 + (ymax - value) / (ymax - ymin) * panel.h
            x = panel.x0 - 1
            draw.line((x - tick, y, x, y), fill=hex_rgb(FRAME))
            draw.text(
                (x - tick - 1, y), tick_text(value), fill=hex_rgb(TEXT), font=font, anchor="rm"
            )

    def _draw_colorbar(self, image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        """The page's colour bar: the bands bottom (low) to top (high), ticks, its title."""
        assert self.colorbar is not None and self._grid is not None
        if self.colorbar_below:
            self._draw_colorbar_below(image, draw)
            return
        left, top, right, bottom = self.colorbar
        _, low, high = self._grid
        height = bottom - top
        t = (bottom - 0.5 - np.arange(top, bottom)) / max(1, height)
        band = np.clip((t * CONTOUR_LEVELS).astype(int), 0, CONTOUR_LEVELS - 1)
        column = self._band_rgb[band]  # (height, 3)
        strip = np.repeat(column[:, None, :], right - left, axis=1)
        image.paste(Image.fromarray(strip.astype(np.uint8), mode="RGB"), (left, top))
        draw.rectangle((left - 1, top - 1, right, bottom), outline=hex_rgb(FRAME))
        font = self.tick_font()
        tick = max(2, self.pad // 2)
        widest = 0.0
        ticks = self._colorbar_ticks()
        placed = [
            bottom - (value - low) / (high - low) * height if high > low else None
            for value, _ in ticks
        ]
        self.colorbar_ticks: list[tuple[float, str]] = []
        for k, (value, text) in enumerate(ticks):
            y = placed[k]
            if y is None:
                continue
            # The low end gives way to a power of ten too close above it to read apart.
            nearest = placed[k + 1] if k + 1 < len(placed) else None
            if (
                k == 0
                and value == low
                and nearest is not None
                and y - nearest < 1.2 * self.small_size
            ):
                continue
            self.colorbar_ticks.append((y, text))
            draw.line((right, y, right + tick, y), fill=hex_rgb(FRAME))
            draw.text((right + tick + 2, y), text, fill=hex_rgb(TEXT), font=font, anchor="lm")
            widest = max(widest, font.getlength(text))
        # The title runs up the bar's side, as Plotly's colour bar title (side: right).
        title = self.words["plot.colorLog"] if self.scene.log_color else "f"
        size = self.small_size
        while size > 7 and self.font(size).getlength(title) > height:
            size -= 1
        title_font = self.font(size)
        length = math.ceil(title_font.getlength(title)) + 4
        label = Image.new("RGB", (length, round(size * 1.5)), hex_rgb(WHITE))
        ImageDraw.Draw(label).text(
            (length / 2, label.height / 2), title, fill=hex_rgb(TEXT), font=title_font, anchor="mm"
        )
        label = label.rotate(90, expand=True)
        x = round(right + tick + 2 + widest + self.pad / 2)
        y = round(top + (height - label.height) / 2)
        image.paste(label, (x, y))
        self.colorbar_title = (title, (x, y, x + label.width, y + label.height))

    def _draw_colorbar_below(self, image: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        """The colour bar lying under a wide plot: low at the left, ticks under it, its title
        at its right end (read across, as the bar is)."""
        assert self.colorbar is not None and self._grid is not None
        left, top, right, bottom = self.colorbar
        _, low, high = self._grid
        title = self.words["plot.colorLog"] if self.scene.log_color else "f"
        title_font = self.font(self.small_size)
        right -= math.ceil(title_font.getlength(title)) + self.pad
        self.colorbar = (left, top, right, bottom)
        width = right - left
        t = (np.arange(left, right) + 0.5 - left) / max(1, width)
        band = np.clip((t * CONTOUR_LEVELS).astype(int), 0, CONTOUR_LEVELS - 1)
        row = self._band_rgb[band]  # (width, 3)
        strip = np.repeat(row[None, :, :], bottom - top, axis=0)
        image.paste(Image.fromarray(strip.astype(np.uint8), mode="RGB"), (left, top))
        draw.rectangle((left - 1, top - 1, right, bottom), outline=hex_rgb(FRAME))
        font = self.tick_font()
        tick = max(2, self.pad // 2)
        self.colorbar_ticks = []
        last_right = -math.inf
        for value, text in self._colorbar_ticks():
            if high <= low:
                continue
            x = left + (value - low) / (high - low) * width
            half = font.getlength(text) / 2
            if x - half < last_right + self.pad:  # the low end gives way to a crowded tick
                if self.colorbar_ticks and self.colorbar_ticks[-1][0] == left:
                    self.colorbar_ticks.pop()
                else:
                    continue
            self.colorbar_ticks.append((x, text))
            last_right = x + half
        for x, text in self.colorbar_ticks:
            draw.line((x, bottom, x, bottom + tick), fill=hex_rgb(FRAME))
            # Inside the frame: the end labels may not be centred on the bar's very ends.
            half = font.getlength(text) / 2
            at = min(max(x, half + 1), self.width - half - 1)
            draw.text((at, bottom + tick), text, fill=hex_rgb(TEXT), font=font, anchor="mt")
        x, y = right + self.pad, (top + bottom) / 2
        draw.text((x, y), title, fill=hex_rgb(TEXT), font=title_font, anchor="lm")
        x0, y0, x1, y1 = draw.textbbox((x, y), title, font=title_font, anchor="lm")
        self.colorbar_title = (title, (round(x0), round(y0), round(x1), round(y1)))

    def _draw_legend(self, draw: ImageDraw.ImageDraw, legend: Legend) -> None:
        size = legend.size
        font = self.font(size)
        swatch = self._swatch_width(size)
        line_h = size * 1.35
        left, top, right, _ = legend.box
        x, y = float(left), float(top) + size * 0.3
        for entry in legend.entries:
            width = swatch + font.getlength(entry.label) + 2 * self.pad
            if legend.flow:
                if x > left and x + width > right:
                    x, y = float(left), y + size * 1.7
                centre = y + size * 0.7
            else:
                centre = y + line_h / 2
            self._legend_swatch(draw, entry, x, centre, size)
            tx = x + swatch + self.pad * 0.6
            for k, text in enumerate(entry.lines):
                ty = centre + k * line_h
                draw.text((tx, ty), text, fill=hex_rgb(TEXT), font=font, anchor="lm")
                self.legend_texts.append(
                    (text, draw.textbbox((tx, ty), text, font=font, anchor="lm"))
                )
            if legend.flow:
                x += width
            else:
                y += len(entry.lines) * line_h + size * 0.35

    def _legend_swatch(
        self, draw: ImageDraw.ImageDraw, entry: LegendEntry, x: float, y: float, size: int
    ) -> None:
        swatch = self._swatch_width(size)
        r = max(3.0, size * 0.38)
        if entry.line:
            # A stretch of path in its dash running into its head, as a run looks on the plot
            # (the head at the end, so the dashes before it show).
            width = max(2, self.line_width)
            stretch = np.array([[x, y], [x + swatch, y]])
            arc = np.array([0.0, swatch])
            for coords in dash_pieces(stretch, arc, 0, 1, dash_pattern(entry.dash, width)):
                draw.line(coords, fill=hex_rgb(entry.color), width=width)
            draw_symbol(
                draw, entry.symbol, x + swatch - r, y, r, hex_rgb(entry.color), hex_rgb(BLACK)
            )
            return
        # A mid-grey tile behind the marker: white minimum markers vanish on white.
        half = size * 0.62
        cx = x + swatch / 2
        draw.rectangle((cx - half, y - half, cx + half, y + half), fill=hex_rgb(FRAME))
        outline = WHITE if entry.color == START_COLOR else BLACK
        draw_symbol(draw, entry.symbol, cx, y, r, hex_rgb(entry.color), hex_rgb(outline))

    def _contour_tile(self, w: int, h: int) -> Image.Image:
        """The banded contour for one panel, as palette indices or RGB."""
        if self._grid is None:
            index = np.zeros((h, w), dtype=np.uint8)
        else:
            color, low, high = self._grid
            scaled = (color - low) / (high - low) if high > low else np.zeros_like(color)
            # Row 0 of the image is the top of the plot: the largest y.
            image = Image.fromarray(np.flipud(scaled).astype(np.float32), mode="F")
            t = np.asarray(image.resize((w, h), Image.Resampling.BILINEAR))
            band = np.clip((t * CONTOUR_LEVELS).astype(np.int16), 0, CONTOUR_LEVELS - 1)
            edge = np.zeros(band.shape, dtype=bool)
            edge[:, :-1] |= band[:, :-1] != band[:, 1:]
            edge[:-1, :] |= band[:-1, :] != band[1:, :]
            index = (band + edge * CONTOUR_LEVELS).astype(np.uint8)
        if self.mode == "P":
            tile = Image.fromarray(index, mode="P")
            tile.putpalette(self.palette_bytes)
            return tile
        return Image.fromarray(self._band_rgb[index], mode="RGB")

    def _transform(self) -> list[np.ndarray]:
        """Each run's points in its panel's pixel coordinates, (n, 2) float."""
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        out = []
        for i, run in enumerate(self.scene.runs):
            panel = self._panel_of(i)
            points = np.asarray(run.points, dtype=float).reshape(-1, 2)
            px = (points[:, 0] - xmin) / (xmax - xmin) * panel.w * self.scale
            py = (ymax - points[:, 1]) / (ymax - ymin) * panel.h * self.scale
            out.append(np.clip(np.stack([px, py], axis=1), -_CLIP, _CLIP))
        return out

    def _panel_of(self, run: int) -> _Panel:
        return next(p for p in self._panels if run in p.runs)

    def _point(self, panel: _Panel, x: float, y: float) -> tuple[float, float]:
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        s = self.scale
        return (x - xmin) / (xmax - xmin) * panel.w * s, (ymax - y) / (ymax - ymin) * panel.h * s

    # --- per frame -------------------------------------------------------------------------

    def _reset(self) -> None:
        self._canvases = [self._tile.copy() for _ in self._panels]
        self._drawn = 0

    def _advance(self, step: int) -> None:
        """Draw path segments and step dots from the last drawn step up to `step`."""
        if step < self._drawn:
            self._reset()
        s = self.scale
        dot = max(2.0, self.head_radius * 0.75) * s  # as the page: 3/4 of a head
        for i, run in enumerate(self.scene.runs):
            pixels = self._pixels[i]
            if len(pixels) < 2:
                continue
            first = min(self._drawn, len(pixels) - 1)
            last = min(step, len(pixels) - 1)
            if last <= first:
                continue
            draw = ImageDraw.Draw(self._canvases[self._panels.index(self._panel_of(i))])
            fill = self.ink(run.color)
            # Dashed as on the page (app.palette): the dash unit grows with the line.
            pattern = dash_pattern(run.dash, self.line_width * s)
            for coords in dash_pieces(pixels, self._arcs[i], first, last, pattern):
                draw.line(coords, fill=fill, width=self.line_width * s, joint="curve")
            # Every k-th point (not the start), as on the page: in the run's shape with a
            # white rim, so the spacing shows the step length and the shape the run.
            k = self.dot_every
            w, h = self._panels[0].w * s, self._panels[0].h * s
            for n in range(max(k, math.ceil(first / k) * k), last + 1, k):
                x, y = pixels[n]
                if -dot <= x <= w + dot and -dot <= y <= h + dot:
                    draw_symbol(draw, run.symbol, x, y, dot, fill, self.ink(WHITE), max(1, s // 2))
        self._drawn = max(step, 0)

    def _marker(self, draw: ImageDraw.ImageDraw, x: float, y: float, kind: str) -> None:
        """A minimum or the start, as the page marks them."""
        ink, s = self.ink, self.scale
        r = self.head_radius * 1.15 * s
        if kind == "start":
            draw_symbol(draw, "circle", x, y, r, ink(START_COLOR), ink(WHITE), max(1, s))
            return
        symbol = MINIMUM_MARKERS[kind][0]
        draw_symbol(draw, symbol, x, y, r, ink(MINIMUM_COLOR), ink(BLACK), s)

    def _left_view(self, i: int, panel: _Panel) -> int | None:
        """The first step run i's path is outside the plot (None while it stays in)."""
        pixels = self._pixels[i] / self.scale
        outside = (
            (pixels[:, 0] < 0)
            | (pixels[:, 0] > panel.w)
            | (pixels[:, 1] < 0)
            | (pixels[:, 1] > panel.h)
        )
        found = np.flatnonzero(outside)
        return int(found[0]) if len(found) else None

    def _say(self, key: str, **values: object) -> str:
        return say(self.words[key], **values)

    def _decorate(self, tile: Image.Image, panel: _Panel, step: int) -> list[str]:
        """Minima, start and heads on a panel's tile; returns the panel's notes: where runs
        ended together, which diverged or left the view (the page's notes, its words)."""
        ink, s = self.ink, self.scale
        for i in panel.runs:
            if not self.scene.runs[i].proposes:
                self._draw_population(tile, panel, i, step)
        draw = ImageDraw.Draw(tile)
        for minimum in self.scene.minima:
            self._marker(draw, *self._point(panel, minimum.x, minimum.y), minimum.kind)
        self._marker(draw, *self._point(panel, *self.scene.start), "start")
        for i in panel.runs:
            if self.scene.runs[i].proposes:
                self._draw_proposal(draw, panel, i, step)
        self._draw_arrows(draw, panel, step)
        r = self.head_radius * s
        w, h = panel.w * s, panel.h * s
        notes: list[str] = []
        inside: list[tuple[float, float] | None] = []
        for i in panel.runs:
            run, pixels = self.scene.runs[i], self._pixels[i]
            if not len(pixels):
                inside.append(None)
                continue
            x, y = pixels[min(step, len(pixels) - 1)]
            if run.diverged_at is not None and step >= len(pixels):
                # Diverged: a cross where the path left the finite world.
                for dx in (-1, 1):
                    draw.line(
                        (x - r * 1.3, y - dx * r * 1.3, x + r * 1.3, y + dx * r * 1.3),
                        fill=ink(run.color),
                        width=max(2, self.line_width + 1) * s,
                    )
                notes.append(self._say("plot.divergedAt", name=run.name, step=run.diverged_at))
                inside.append(None)
            elif 0 <= x <= w and 0 <= y <= h:
                inside.append((float(x), float(y)))
            else:
                # Off the plot: a hollow head pinned to the edge, in the direction it went.
                x, y = min(max(x, r), w - r), min(max(y, r), h - r)
                draw_symbol(draw, run.symbol, x, y, r, None, ink(run.color), max(2, r // 2))
                left = self._left_view(i, panel)
                notes.append(self._say("plot.offView", name=run.name, step=left))
                inside.append(None)
        # Heads closer than a marker read as one (the page's spreadHeads): fanned out round
        # the true point on thin leader lines, each in its own shape and colour.
        drawn = list(inside)
        reach = 2 * r * 0.9
        for group in coincident_groups(inside, reach):
            centre = inside[group[0]]
            assert centre is not None  # off-view heads never group
            cx, cy = centre
            radius = max(2.15 * r + s, len(group) * 2.1 * r / (2 * math.pi))
            for k, index in enumerate(group):
                angle = -math.pi / 2 + 2 * math.pi * k / len(group)  # from the top, clockwise
                hx, hy = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
                drawn[index] = (hx, hy)
                draw.line((cx, cy, hx, hy), fill=ink(BLACK), width=s)
            runs = [self.scene.runs[panel.runs[index]] for index in group]
            if all(step >= len(run.points) - 1 and run.diverged_at is None for run in runs):
                (xmin, xmax), _ = self.scene.bounds
                unit = (xmax - xmin) / w  # data units per pixel of the tile
                x, y = self.scene.runs[panel.runs[group[0]]].points[-1]
                notes.insert(
                    0,
                    self._say(
                        "plot.endedAt",
                        count=len(group),
                        x=fmt_coord(float(x), reach * unit),
                        y=fmt_coord(float(y), reach * unit),
                    ),
                )
        for index, at in enumerate(drawn):
            if at is not None:
                run = self.scene.runs[panel.runs[index]]
                draw_symbol(draw, run.symbol, *at, r, ink(run.color), ink(BLACK), s)
                self.heads_drawn[panel.runs[index]] = (at[0] / s, at[1] / s)
        return notes

    # --- samples (issue 14: what a gradient-free run evaluated to reach its head) -----------

    def _sample_pixels(self, panel: _Panel, points: np.ndarray) -> np.ndarray:
        """(S, 2) data points in the panel's tile pixels (at the supersampling scale)."""
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        s = self.scale
        px = (points[:, 0] - xmin) / (xmax - xmin) * panel.w * s
        py = (ymax - points[:, 1]) / (ymax - ymin) * panel.h * s
        return np.clip(np.stack([px, py], axis=1), -_CLIP, _CLIP)

    def _draw_population(self, tile: Image.Image, panel: _Panel, i: int, step: int) -> None:
        """The genetic algorithm's generation at `step`: small dots in the run's colour at
        POPULATION_OPACITY, laid on the contour only, so every path (and the head, the best
        member, drawn later) stays whole on top of them."""
        run = self.scene.runs[i]
        shown = run.samples_at(step)
        if shown is None or not len(shown):
            return
        s = self.scale
        r = max(2.0, self.head_radius * POPULATION_RADIUS) * s
        pixels = self._sample_pixels(panel, np.asarray(shown, dtype=float))
        inside = (
            (pixels[:, 0] >= -r)
            & (pixels[:, 0] <= tile.width + r)
            & (pixels[:, 1] >= -r)
            & (pixels[:, 1] <= tile.height + r)
        )
        pixels = pixels[inside]
        self.samples_drawn[i] = pixels / s
        if not len(pixels):
            return
        left = max(0, math.floor(pixels[:, 0].min() - r - 1))
        top = max(0, math.floor(pixels[:, 1].min() - r - 1))
        right = min(tile.width, math.ceil(pixels[:, 0].max() + r + 2))
        bottom = min(tile.height, math.ceil(pixels[:, 1].max() + r + 2))
        if right <= left or bottom <= top:
            return
        # The disc (its rim) and the disc inside the rim (its fill), as masks of the box.
        rim = max(1.0, 0.6 * s)
        masks = []
        for radius in (r, r - rim):
            mask = Image.new("L", (right - left, bottom - top), 0)
            pen = ImageDraw.Draw(mask)
            for x, y in (pixels - (left, top)).tolist():
                pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
            masks.append(np.asarray(mask) > 0)
        box = (left, top, right, bottom)
        now = np.asarray(tile.crop(box))
        contour = np.asarray(self._tile.crop(box))
        bare = now == contour
        if self.mode == "RGB":
            bare = bare.all(axis=2)
        out = now.copy()
        inner = masks[1] & bare
        # A dark rim keeps a dot apart on a contour of its own colour (viridis is green).
        layers = (
            (BLACK, RIM_OPACITY, masks[0] & bare & ~inner),
            (run.color, POPULATION_OPACITY, inner),
        )
        for color, alpha, where in layers:
            if self.mode == "RGB":
                ink = np.array(hex_rgb(color), dtype=float)
                out[where] = np.rint(contour[where] * (1 - alpha) + ink * alpha).astype(np.uint8)
            elif (color, alpha) in self._blends:
                out[where] = self._blends[color, alpha][contour[where]]
            else:  # no room left in the palette: solid dots
                out[where] = self.ink(color)
        patch = Image.fromarray(out, mode=self.mode)
        if self.mode == "P":
            patch.putpalette(self.palette_bytes)
        tile.paste(patch, box[:2])

    def _draw_proposal(self, draw: ImageDraw.ImageDraw, panel: _Panel, i: int, step: int) -> None:
        """Annealing's proposal at `step`, as the page draws it: taken, a ring of the run's
        shape and colour round the head (the head is the proposal); turned down, a grey
        crossed marker where the chain did not go, joined to its point by a dotted line.
        Both hollow, on a white halo, so the contour shows through."""
        run = self.scene.runs[i]
        index = run.sample_index(step)
        pixels = self._pixels[i]
        if index is None or not len(pixels) or run.samples is None:
            return
        entry = run.samples[index]
        if entry is None or not len(entry):
            return
        if run.diverged_at is not None and step >= len(pixels):
            return  # the run left the finite world: its cross says so
        s = self.scale
        x, y = self._sample_pixels(panel, np.asarray(entry[:1], dtype=float))[0]
        self.samples_drawn[i] = np.array([[x / s, y / s]])
        rejected = run.rejected(index)
        width = max(1, round(self.line_width * 0.75)) * s
        halo = width + 2 * s
        symbol = run.symbol.removesuffix("-open")
        if rejected:
            hx, hy = pixels[min(index, len(pixels) - 1)]
            line = np.array([[hx, hy], [x, y]], dtype=float)
            arc = np.array([0.0, float(math.hypot(x - hx, y - hy))])
            if arc[1] > 0:
                for coords in dash_pieces(line, arc, 0, 1, dash_pattern("dot", width)):
                    draw.line(coords, fill=self.ink(SEGMENT), width=width)
        r = self.head_radius * (1.0 if rejected else 1.5) * s
        color = self.ink(REJECTED if rejected else run.color)
        for stroke, ink in ((halo, self.ink(WHITE)), (width, color)):
            polygon = symbol_polygon(symbol, x, y, r)
            if polygon is None:
                draw.ellipse((x - r, y - r, x + r, y + r), outline=ink, width=stroke)
            else:
                draw.polygon(polygon, outline=ink, width=stroke)
        if rejected:
            a = r * 0.55
            for d in (-1, 1):
                draw.line((x - a, y - d * a, x + a, y + d * a), fill=color, width=width)

    # --- arrows (issue 12: what the optimizer did at the head; app.export.arrows) ------------

    def _arrow_shape(
        self,
        draw: ImageDraw.ImageDraw,
        tail: tuple[float, float],
        tip: tuple[float, float],
        kind: str,
        px: float,
        passes: tuple[str, ...] = ("halo", "ink"),
    ) -> None:
        """One arrow in the page's style (ARROW_STYLE): a black halo, then the shaft (dashed
        for the momentum) stopping at the head's base, then the head. `px` is the drawing's
        pixels per page pixel. Arrows drawn together take their halos first, then their
        inks, so a wide momentum arrow under the step still shows its colour round it."""
        color, dash, width = ARROW_STYLE[kind]
        (x0, y0), (x1, y1) = tail, tip
        length = math.hypot(x1 - x0, y1 - y0)
        if not length > 0:
            return
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        head = min(length * 0.6, (11 if kind == "step" else 10) * px)
        base = (x1 - dx * head * 0.8, y1 - dy * head * 0.8)
        spread = math.tan(0.42) * head

        def triangle(grow: float) -> list[tuple[float, float]]:
            back = (x1 - dx * (head + grow), y1 - dy * (head + grow))
            wing = spread + grow
            return [
                (x1 + dx * grow, y1 + dy * grow),
                (back[0] - dy * wing, back[1] + dx * wing),
                (back[0] + dy * wing, back[1] - dx * wing),
            ]

        ink, halo = self.ink(color), self.ink(BLACK)
        w = max(1, round(width * px))
        rim = max(1, round(1.25 * px))
        if "halo" in passes:
            draw.line([x0, y0, *base], fill=halo, width=w + 2 * rim)
            draw.polygon(triangle(rim), fill=halo)
        if "ink" not in passes:
            return
        if dash:
            on, off = dash[0] * px, dash[1] * px
            run = math.hypot(base[0] - x0, base[1] - y0)
            at = 0.0
            while at < run:
                end = min(at + on, run)
                draw.line(
                    [x0 + dx * at, y0 + dy * at, x0 + dx * end, y0 + dy * end], fill=ink, width=w
                )
                at = end + off
        else:
            draw.line([x0, y0, *base], fill=ink, width=w)
        draw.polygon(triangle(0.0), fill=ink)

    def _arrow_px(self) -> float:
        """Pixels of this export per pixel of the page's arrows (a 720p frame draws them
        a little heavier than the page, a small one no thinner than 0.8)."""
        return max(0.8, self.line_width / 2.5)

    def _arrow_scales(self, panel: _Panel) -> tuple[dict[str, float], float, float]:
        """(scale per kind, pixels per data unit, the panel's smaller side), at 1×."""
        (xmin, xmax), _ = self.scene.bounds
        unit = panel.w / (xmax - xmin)
        side = float(min(panel.w, panel.h))
        return arrow_rules.scales(self._arrow_typical, unit, side), unit, side

    def _draw_arrows(self, draw: ImageDraw.ImageDraw, panel: _Panel, step: int) -> None:
        """Each recording run's arrows from the point its shown update leaves."""
        s = self.scale
        scales, unit, side = self._arrow_scales(panel)
        for i in panel.runs:
            sets = self._arrows[i]
            if not sets:
                continue
            update = arrow_rules.update_at(step, len(self._pixels[i]), len(sets[0].vectors))
            if update is None:
                continue
            x, y = (float(v) / s for v in self._pixels[i][update])
            if not (0 <= x <= panel.w and 0 <= y <= panel.h):
                continue
            drawn = self.arrows_drawn.setdefault(i, [])
            for arrow in sets:
                vx, vy = (float(v) for v in arrow.vectors[update])
                norm = math.hypot(vx, vy)
                # A head marker hides the first ~head radius of every arrow: the shortest
                # shows as much again past it, however small the plot.
                length = arrow_rules.drawn_length(
                    norm, scales[arrow.kind], unit, side, shortest=3.2 * self.head_radius
                )
                if length > 0:
                    # Equal-scale axes: a data vector keeps its direction; pixel y is down.
                    tip = (x + vx / norm * length, y - vy / norm * length)
                    drawn.append(DrawnArrow(arrow.kind, (x, y), tip, (vx, vy)))
            for shade in ("halo", "ink"):
                for shape in drawn:
                    tail = (shape.tail[0] * s, shape.tail[1] * s)
                    tip = (shape.tip[0] * s, shape.tip[1] * s)
                    self._arrow_shape(draw, tail, tip, shape.kind, self._arrow_px() * s, (shade,))

    def _arrow_rows(
        self, panel: _Panel, step: int, sample: bool = False
    ) -> tuple[list[int], list[ArrowRow]]:
        """The legend box's content: the panel's recording runs, and a row per arrow kind
        (its name in the page's words and the factor it is drawn at) with each run's arrow
        length at the shown update ("—" for a run without that arrow or whose path
        ended). `sample` puts the widest length there is instead, to set the box once."""
        recording = [i for i in panel.runs if self._arrows[i]]
        if not recording:  # no arrows here: no box (its rows would have no lengths)
            return recording, []
        scales, _, _ = self._arrow_scales(panel)
        rows = []
        for kind in ("grad", "momentum", "step"):
            name = ""
            values: list[str] = []
            for i in recording:
                arrow = next((a for a in self._arrows[i] if a.kind == kind), None)
                update = (
                    None
                    if arrow is None
                    else arrow_rules.update_at(step, len(self._pixels[i]), len(arrow.vectors))
                )
                if arrow is None or update is None:
                    values.append("—")
                    continue
                name = name or arrow.name
                text = "8.88e−8" if sample else arrow_rules.magnitude_text(arrow.length(update))
                values.append(text)
            if kind == "momentum" and not name:
                continue
            key = f"arrow.momentum.{name}" if kind == "momentum" else f"arrow.{kind}"
            # One factor a kind: it goes with the arrow's name, not with every length.
            factor = arrow_rules.scale_text(scales.get(kind, 1.0))
            label = f"{self.words[key]} {factor}" if factor else self.words[key]
            rows.append(ArrowRow(kind, label, values))
        return recording, rows

    def _arrow_box_layout(
        self, panel: _Panel, title: str, rows: list[ArrowRow], largest: int | None = None
    ) -> ArrowBox:
        """Font and columns of the legend box: swatch and label, then a column of lengths
        per recording run under its marker; shrunk (from `largest`) to fit the panel."""
        size = largest or max(7, round(self.small_size * 0.85))
        room = panel.w - 2 * self.pad
        while True:
            font = self.font(size)
            swatch = size * 2.2
            gap = font.getlength("  ")
            label = max(
                font.getlength(title) - gap, *(swatch + font.getlength(row.label) for row in rows)
            )
            columns = [
                max([size * 1.0] + [font.getlength(row.values[j]) for row in rows])
                for j in range(len(rows[0].values))
            ]
            width = self.pad + label + sum(gap + c for c in columns)
            line_h = round(size * 1.45)
            if width <= room or size <= 7:
                height = (len(rows) + 1) * line_h + self.pad / 2
                return ArrowBox(font, size, swatch, line_h, label, columns, width, height)
            size -= 1

    def _arrow_corner(self, panel: _Panel, box_w: float, box_h: float) -> str:
        """The corner of the panel the legend box covers least of the paths in (chosen once
        per panel, so the box stays put); never the top left, where the notes go."""
        index = self._panels.index(panel)
        if index in self._arrow_corners:
            return self._arrow_corners[index]
        points = [self._pixels[i] / self.scale for i in panel.runs if len(self._pixels[i])]
        every = np.concatenate(points) if points else np.zeros((0, 2))
        covered = {}
        for corner in ("bottom-left", "bottom-right", "top-right"):
            left = 0.0 if corner.endswith("left") else panel.w - box_w
            top = 0.0 if corner.startswith("top") else panel.h - box_h
            inside = (
                (every[:, 0] >= left - self.pad)
                & (every[:, 0] <= left + box_w + self.pad)
                & (every[:, 1] >= top - self.pad)
                & (every[:, 1] <= top + box_h + self.pad)
            )
            covered[corner] = int(inside.sum())
        corner = min(covered, key=lambda c: covered[c])  # ties: the first, bottom left
        self._arrow_corners[index] = corner
        return corner

    def _arrow_title(self, step: int) -> str:
        """The legend's heading, the page's: "Arrows at step t" (t the update shown)."""
        return self._say("arrow.legend", t=min(step, max(0, self.scene.steps - 1)))

    def _arrow_box(self, panel: _Panel) -> ArrowFrame | None:
        """The legend box of a panel, set once: its size (for the widest lengths it can
        print), its corner, and an image of what every frame shares (frame, swatches,
        labels, the runs' markers); None if no run of the panel records."""
        index = self._panels.index(panel)
        if index in self._arrow_frames:
            return self._arrow_frames[index]
        recording, rows = self._arrow_rows(panel, 0, sample=True)
        if not rows:
            self._arrow_frames[index] = None
            return None
        title = self._arrow_title(self.scene.steps)
        # Side by side, every panel's box takes the size the most crowded one fits.
        size = min(
            self._arrow_box_layout(other, title, other_rows).size
            for other in self._panels
            if (other_rows := self._arrow_rows(other, 0, sample=True)[1])
        )
        layout = self._arrow_box_layout(panel, title, rows, largest=size)
        corner = self._arrow_corner(panel, layout.width, layout.height)
        width, height = math.ceil(layout.width), math.ceil(layout.height)
        x0 = panel.x0 + (
            round(self.pad / 2)
            if corner.endswith("left")
            else panel.w - width - round(self.pad / 2)
        )
        y0 = panel.y0 + (
            round(self.pad / 2)
            if corner.startswith("top")
            else panel.h - height - round(self.pad / 2)
        )
        if self.mode == "P":
            box = Image.new("P", (width + 1, height + 1), self._index[hex_rgb(WHITE)])
            box.putpalette(self.palette_bytes)
        else:
            box = Image.new("RGB", (width + 1, height + 1), hex_rgb(WHITE))
        draw = ImageDraw.Draw(box)
        draw.rectangle((0, 0, width, height), outline=self.ink(FRAME))
        font, size, line_h = layout.font, layout.size, layout.line_height
        gap = font.getlength("  ")
        left = self.pad / 2
        # Right edges of the length columns: numbers line up on their last digit.
        ends, x = [], left + layout.label
        for column in layout.columns:
            x += gap + column
            ends.append(x)
        y = self.pad / 4 + line_h / 2
        for end, i in zip(ends, recording, strict=True):
            run = self.scene.runs[i]
            r = size * 0.38
            draw_symbol(
                draw, run.symbol, end - size / 2, y, r, self.ink(run.color), self.ink(BLACK)
            )
        px = max(0.6, size / 16)
        for k, row in enumerate(rows):
            ry = y + (k + 1) * line_h
            tail, tip = (left + px, ry), (left + layout.swatch - self.pad / 2, ry)
            self._arrow_shape(draw, tail, tip, row.kind, px)
            draw.text(
                (left + layout.swatch, ry), row.label, fill=self.ink(TEXT), font=font, anchor="lm"
            )
        numerals = Numerals(font, self.mode)
        frame = ArrowFrame(box, (x0, y0), font, numerals, [x0 + e for e in ends], y0 + y, line_h)
        self._arrow_frames[index] = frame
        return frame

    def _draw_arrow_box(self, image: Image.Image, panel: _Panel, step: int) -> None:
        """The arrows' legend in a corner of the panel, as the page's: what each arrow is,
        then its true length (and the factor it is drawn at) in a column per recording run,
        under the run's marker."""
        frame = self._arrow_box(panel)
        if frame is None:
            return
        _, rows = self._arrow_rows(panel, step)
        image.paste(frame.image, frame.at)
        x0, y0 = frame.at
        self.arrow_boxes.append((x0, y0, x0 + frame.image.width - 1, y0 + frame.image.height - 1))
        draw = ImageDraw.Draw(image)
        ink, font = self.ink(TEXT), frame.font
        title = self._arrow_title(step)
        draw.text((x0 + self.pad / 2, frame.top), title, fill=ink, font=font, anchor="lm")
        self.arrow_texts.append(title)
        for k, row in enumerate(rows):
            y = frame.top + (k + 1) * frame.line_height
            for end, value in zip(frame.ends, row.values, strict=True):
                frame.numerals.write_right(image, end, y, value, ink)
            self.arrow_texts.append("  ".join([row.label, *row.values]))

    def _draw_notes(self, image: Image.Image, panel: _Panel, notes: list[str]) -> None:
        """The panel's notes in its top-left corner on a white box, one per line."""
        if not notes:
            return
        draw = ImageDraw.Draw(image)
        size = self.small_size
        room = panel.w - 2 * self.pad
        font = self.font(size)
        while size > 7 and max(font.getlength(n) for n in notes) > room:
            size -= 1
            font = self.font(size)
        lines = [_fit(note, font, room) for note in notes]
        line_h = round(size * 1.35)
        width = max(font.getlength(line) for line in lines)
        x0, y0 = panel.x0 + self.pad // 2, panel.y0 + self.pad // 2
        box = (x0, y0, x0 + width + self.pad, y0 + len(lines) * line_h + self.pad // 2)
        draw.rectangle(box, fill=self.ink(WHITE), outline=self.ink(FRAME))
        for k, line in enumerate(lines):
            y = y0 + self.pad // 4 + k * line_h + line_h / 2
            draw.text((x0 + self.pad / 2, y), line, fill=self.ink(TEXT), font=font, anchor="lm")
        self.notes_shown.extend(lines)

    def frame(self, step: int) -> Image.Image:
        """The scene at `step` (0..steps): paths so far, heads, markers, counter, notes."""
        step = int(np.clip(step, 0, self.scene.steps))
        self._advance(step)
        image = self._static.copy()
        self.notes_shown: list[str] = []
        self.heads_drawn: dict[int, tuple[float, float]] = {}  # run → centre in its panel
        self.samples_drawn = {}
        # run → the arrows drawn: (kind, tail, tip) in its panel's pixels, vector (data units)
        self.arrows_drawn: dict[int, list[DrawnArrow]] = {}
        self.arrow_boxes: list[tuple[int, int, int, int]] = []  # the legend boxes, on the image
        self.arrow_texts: list[str] = []  # their lines: label, then each run's length
        for panel, canvas in zip(self._panels, self._canvases, strict=True):
            tile = canvas.copy()
            notes = self._decorate(tile, panel, step)
            if self.scale > 1:
                tile = tile.reduce(self.scale)
            image.paste(tile, (panel.x0, panel.y0))
            self._draw_notes(image, panel, notes)
            self._draw_arrow_box(image, panel, step)
        ImageDraw.Draw(image).text(
            (self.width - self.pad, self.band_height / 2),
            self.counter_text(step),
            fill=self.ink(TEXT),
            font=self.font(self.title_size),
            anchor="rm",
        )
        return image

    def frames(self, steps: Iterable[int]) -> Iterator[Image.Image]:
        for step in steps:
            yield self.frame(int(step))
