"""Maps (issue 13) as files: a map reply → a PNG picture (Pillow) or a CSV table.

Every renderer here reads the dict POST /api/maps/<kind> returns (`app.maps.*_reply`), so
the page, the CLI and the export routes show one serialization of one computation. The
request body is optional and only lends words: the landscape's name for the title and the
runs' hyperparameters for their labels.

    sweep    two charts over the learning rate (log x): the final loss gap f − f* (log y)
             and the steps to settle; each run's measured boundary dashed, the theoretical
             limit (2/λmax, …) dotted, diverged values as × on the top edge
    heatmap  lr × a second hyperparameter, each cell coloured by its steps to settle (the
             final gap on a log scale if no cell settled), with a colour bar
    basins   one map per optimizer, side by side: each start coloured by the minimum it
             ends at (the colours shared by all maps), darker the later it settles;
             diverged and not settled starts in greys, in a legend with the minima
    tune     per optimizer, the trials of each search method (grid, random, Bayesian) as
             loss against lr, the best one ringed; under Bayesian the GP surrogate's mean
             and its ±2σ band

Pictures are drawn at twice the size and box-filtered down (anti-aliased lines and text);
areas of one colour (a marker's inside, a cell, a basin) keep their exact colour. Words
come from static/i18n (`maps.export.*`, and the page's own parameter and minimum words)
in the request's language.
"""

from __future__ import annotations

import base64
import colorsys
import csv
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw

import optimizers
from app.export.data import csv_names, ui_words
from app.export.ranges import superscript_power
from app.export.render import (
    Color,
    Font,
    colorscale_lut,
    draw_symbol,
    hex_rgb,
    load_font,
    nice_ticks,
    power_number,
    tick_text,
)
from app.palette import OKABE_ITO, run_colors, run_symbols
from app.words import say, short_number

KINDS: tuple[str, ...] = ("sweep", "heatmap", "basins", "tune")
FORMATS: tuple[str, ...] = ("png", "csv")
MEDIA_TYPES = {"png": "image/png", "csv": "text/csv; charset=utf-8"}

WHITE: Color = (255, 255, 255)
TEXT: Color = (34, 34, 34)
FRAME: Color = (136, 136, 136)
GRID: Color = (230, 230, 230)
# Basin and heatmap cells that end nowhere: diverged (dark) and not settled (light), greys
# no minimum colour comes near, so the legend's two swatches read apart from every basin.
DIVERGED: Color = (64, 64, 64)
NOT_SETTLED: Color = (205, 205, 205)
# The GP's ±2σ band and its expected improvement under Bayesian search.
BAND: Color = (215, 225, 240)
EI: Color = (240, 200, 150)
# A run that ends at (or below) f*: its gap is drawn here on a log axis (maps.tune's floor).
GAP_FLOOR = 1e-16
# Minima named in a basin map's legend (and its summary line); the others are counted.
LEGEND_MINIMA = 6
# How dark the slowest-settling start is drawn (its colour times this); the fastest: 1.
SLOWEST_SHADE = 0.5
# Supersampling: drawn at this multiple of the asked size, then reduced.
SCALE = 2
# One flat colour per minimum: Okabe–Ito first (yellow too: basins lie on white), then
# hues spread by the golden angle for landscapes with many minima (Rastrigin).
_EXTRA_MINIMA = 64


def minimum_colors(count: int) -> list[Color]:
    """The colour of each minimum index, shared by every map (and every export of it)."""
    colors = [hex_rgb(c) for c in OKABE_ITO]
    hue = 0.11
    while len(colors) < count:
        hue = (hue + 0.381966) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.85)
        colors.append((round(r * 255), round(g * 255), round(b * 255)))
    return colors[:count]


# --- reply fields -------------------------------------------------------------------------


def decode_array(field_value: dict[str, Any]) -> np.ndarray:
    """A `{dtype, shape, data: base64 little-endian}` field of the basins reply as an array."""
    dtype = np.dtype(str(field_value["dtype"])).newbyteorder("<")
    raw = base64.b64decode(field_value["data"])
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(field_value["shape"]))


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A reply's list of numbers (null = not finite) as float64 with NaN for null."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _is_log(values: np.ndarray) -> bool:
    """Whether axis values were spaced on a log scale (positive, constant ratio)."""
    if len(values) < 3 or np.any(values <= 0):
        return False
    ratios = values[1:] / values[:-1]
    return bool(np.allclose(ratios, ratios[0], rtol=1e-6) and abs(ratios[0] - 1) > 1e-9)


def _words(lang: str) -> dict[str, str]:
    return ui_words(lang)


def param_symbol(name: str, lang: str) -> str:
    """A hyperparameter as a label writes it: its symbol where the page's word ends in one
    ("momentum μ" → μ, "lr η" → η), else the word ("weight decay")."""
    word = _words(lang).get(f"param.{name}", name)
    last = word.split()[-1] if word.split() else word
    return word if last.isascii() else last


def run_labels(
    runs: Sequence[dict[str, Any]],
    body: dict[str, Any] | None,
    lang: str,
    swept: Sequence[str] = (),
) -> list[str]:
    """Each run's label: the optimizer's title (`#k` for a repeat) and the hyperparameters
    the request set but for the `swept` ones, by their symbols ("Momentum, μ = 0.5")."""
    names = [str(run["optimizer"]) for run in runs]
    request_runs = list((body or {}).get("runs") or [])
    labels = []
    for i, (name, unique) in enumerate(zip(names, csv_names(names), strict=True)):
        label = optimizer_title(name) + unique[len(name) :].replace("#", " #")
        params = request_runs[i].get("params") or {} if i < len(request_runs) else {}
        shown = [
            f"{param_symbol(key, lang)} = {short_number(float(value))}"
            for key, value in params.items()
            if key not in swept and isinstance(value, (int, float))
        ]
        labels.append(", ".join([label, *shown]))
    return labels


def run_styles(
    runs: Sequence[dict[str, Any]], body: dict[str, Any] | None, lang: str
) -> tuple[list[Color], list[str], list[str]]:
    """Each run's colour and marker shape (the page's, app.palette) and its label, for maps
    over the learning rate (a sweep, a tuning), whose labels leave lr out."""
    names = [str(r["optimizer"]) for r in runs]
    colors = [hex_rgb(c) for c in run_colors(names)]
    return colors, run_symbols(names), run_labels(runs, body, lang, swept=("lr",))


def landscape_title(body: dict[str, Any] | None, lang: str) -> str:
    landscape = (body or {}).get("landscape") or ""
    if isinstance(landscape, dict):  # a typed function: its formula is its title
        return "f(x, y) = " + " ".join(str(landscape.get("expr", "")).split())
    name = str(landscape)
    return _words(lang).get(f"landscape.{name}", name)


# --- drawing ------------------------------------------------------------------------------


class Canvas:
    """An RGB picture addressed in final pixels, drawn at SCALE× and reduced at the end."""

    def __init__(self, width: int, height: int, lang: str) -> None:
        self.width, self.height = int(width), int(height)
        self.lang = lang
        self.words = _words(lang)
        self.cjk = lang != "en"
        self.image = Image.new("RGB", (self.width * SCALE, self.height * SCALE), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        short = min(self.width, self.height)
        self.pad = max(4, round(short * 0.02))
        self.title_size = int(np.clip(round(self.height * 0.042), 10, 36))
        self.small_size = int(np.clip(round(self.height * 0.027), 8, 22))
        self.line_width = max(1.5, short / 360)
        # Every text drawn and its box (final pixels), for layout tests.
        self.texts: list[tuple[str, tuple[float, float, float, float]]] = []
        self.marker = max(3.0, short / 160)

    def say(self, key: str, **values: object) -> str:
        return say(self.words[key], **values)

    def font(self, size: float, numbers: bool = False) -> Font:
        # Numbers in DejaVu: its superscripts (10⁻²) are missing from Noto CJK.
        return load_font(max(6, round(size * SCALE)), self.cjk and not numbers)

    def length(self, text: str, size: float, numbers: bool = False) -> float:
        return self.font(size, numbers).getlength(text) / SCALE

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: float,
        fill: Color = TEXT,
        anchor: str = "la",
        numbers: bool = False,
        halo: bool = False,
    ) -> None:
        """Text at `xy` (final pixels); `halo` outlines it in white, to read over lines."""
        x, y = xy
        font = self.font(size, numbers)
        at = (x * SCALE, y * SCALE)
        stroke = round(1.5 * SCALE) if halo else 0
        box = self.draw.textbbox(at, text, font=font, anchor=anchor, stroke_width=stroke)
        self.texts.append((text, tuple(v / SCALE for v in box)))  # type: ignore[arg-type]
        self.draw.text(
            at, text, fill=fill, font=font, anchor=anchor, stroke_width=stroke, stroke_fill=WHITE
        )

    def fit_text(self, text: str, size: float, width: float) -> tuple[str, float]:
        """The text at `size`, smaller (down to 70 %) or cut with … to fit `width`."""
        for scaled in np.linspace(size, size * 0.7, 5):
            if self.length(text, scaled) <= width:
                return text, float(scaled)
        small = size * 0.7
        while text and self.length(text + "…", small) > width:
            text = text[:-1]
        return text + "…", small

    def line(
        self,
        points: Sequence[tuple[float, float]],
        fill: Color,
        width: float,
        dash: tuple[float, float] | None = None,
    ) -> None:
        scaled = [(x * SCALE, y * SCALE) for x, y in points]
        w = max(1, round(width * SCALE))
        if dash is None:
            self.draw.line(scaled, fill=fill, width=w, joint="curve")
            return
        on, off = dash[0] * SCALE, dash[1] * SCALE
        for (x0, y0), (x1, y1) in itertools.pairwise(scaled):
            length = math.hypot(x1 - x0, y1 - y0)
            at = 0.0
            while at < length:
                end = min(at + on, length)
                a, b = at / length, end / length
                self.draw.line(
                    [
                        (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a),
                        (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                    ],
                    fill=fill,
                    width=w,
                )
                at = end + off

    def rect(
        self,
        box: tuple[float, float, float, float],
        fill: Color | None = None,
        outline: Color | None = None,
        width: float = 1,
    ) -> None:
        x0, y0, x1, y1 = (v * SCALE for v in box)
        self.draw.rectangle(
            (x0, y0, x1, y1), fill=fill, outline=outline, width=max(1, round(width * SCALE))
        )

    def symbol(
        self,
        symbol: str,
        x: float,
        y: float,
        r: float,
        fill: Color | None,
        outline: Color | None = None,
        width: float = 1,
    ) -> None:
        draw_symbol(
            self.draw,
            symbol,
            x * SCALE,
            y * SCALE,
            r * SCALE,
            fill,
            outline,
            max(1, round(width * SCALE)),
        )

    def paste(self, picture: Image.Image, box: tuple[float, float, float, float]) -> None:
        """`picture` stretched over `box` pixel by pixel (NEAREST: cells keep their colour)."""
        x0, y0, x1, y1 = (round(v * SCALE) for v in box)
        self.image.paste(picture.resize((x1 - x0, y1 - y0), Image.Resampling.NEAREST), (x0, y0))

    def title(self, text: str) -> float:
        """The title line at the top; returns the y where the content starts."""
        shown, size = self.fit_text(text, self.title_size, self.width - 2 * self.pad)
        self.text((self.width / 2, self.pad), shown, size, anchor="ma")
        return self.pad + self.title_size * 1.5

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.reduce(SCALE).save(out, format="PNG", optimize=False)
        return out.getvalue()


@dataclass
class Axis:
    """One axis of a chart: its range, log or linear, and its pixel span."""

    low: float
    high: float
    log: bool
    start: float = 0.0  # pixel at `low`
    end: float = 1.0  # pixel at `high`

    def fraction(self, value: float) -> float:
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            at = math.log10(value) if value > 0 else lo
            return (at - lo) / (hi - lo) if hi > lo else 0.5
        return (value - self.low) / (self.high - self.low) if self.high > self.low else 0.5

    def pixel(self, value: float) -> float:
        return self.start + (self.end - self.start) * self.fraction(value)

    def ticks(self, target: int = 6) -> list[tuple[float, str]]:
        if not self.log:
            return [(v, tick_text(v)) for v in nice_ticks(self.low, self.high, target)]
        lo, hi = math.log10(self.low), math.log10(self.high)
        decades = range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)
        every = max(1, math.ceil(len(decades) / target))
        ticks = [(10.0**k, superscript_power(k)) for k in decades if k % every == 0]
        if len(ticks) < 2:  # less than a decade shown: 2 and 5 as well
            values = [
                m * 10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)
            ]
            ticks = [(v, power_number(v)) for v in values if self.low <= v <= self.high]
        return ticks


def padded_range(values: np.ndarray, log: bool, margin: float = 0.04) -> tuple[float, float]:
    """A range holding the finite values (positive ones on a log axis), a little wider."""
    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
    if finite.size == 0:
        return (1e-3, 1.0) if log else (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if log:  # exponents kept where float64 has them (a gap of 1e-320 would round to 0)
        a, b = max(-300.0, math.log10(lo)), min(300.0, math.log10(hi))
        if b - a < 1e-9:
            a, b = a - 0.5, b + 0.5
        d = (b - a) * margin
        return 10 ** (a - d), 10 ** (b + d)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    d = (hi - lo) * margin
    return lo - d, hi + d


@dataclass
class Chart:
    """A plot box with two axes; where its parts were drawn is kept for tests."""

    box: tuple[float, float, float, float]  # left, top, right, bottom of the plot area
    x: Axis
    y: Axis

    def point(self, x: float, y: float) -> tuple[float, float]:
        return self.x.pixel(x), self.y.pixel(y)


def chart_in(
    canvas: Canvas,
    area: tuple[float, float, float, float],
    x: Axis,
    y: Axis,
    x_label: str,
    y_label: str,
) -> Chart:
    """Place a chart in `area` (room for tick labels, the y label above, the x label below),
    draw its frame, grid and labels; returns it with its axes' pixels set."""
    left, top, right, bottom = area
    size = canvas.small_size
    y_ticks = y.ticks(5)
    widest = max((canvas.length(t, size, True) for _, t in y_ticks), default=0.0)
    box = (
        left + widest + canvas.pad,
        top + size * 1.6,
        right - canvas.pad,
        bottom - size * 2.9,
    )
    x.start, x.end = box[0], box[2]
    y.start, y.end = box[3], box[1]
    chart = Chart(box, x, y)
    label, label_size = canvas.fit_text(y_label, size, right - left)
    canvas.text((left, top), label, label_size)
    for value, text in y_ticks:
        py = y.pixel(value)
        canvas.line([(box[0], py), (box[2], py)], GRID, 1)
        canvas.text((box[0] - canvas.pad / 2, py), text, size, anchor="rm", numbers=True)
    # As many x ticks as labels fit ("10⁻³" is about four digits wide), at most seven.
    x_target = int(np.clip((box[2] - box[0]) / (size * 3.5), 2, 7))
    for value, text in x.ticks(x_target):
        px = x.pixel(value)
        canvas.line([(px, box[1]), (px, box[3])], GRID, 1)
        canvas.text((px, box[3] + canvas.pad / 2), text, size, anchor="ma", numbers=True)
    label, label_size = canvas.fit_text(x_label, size, box[2] - box[0])
    canvas.text(((box[0] + box[2]) / 2, bottom), label, label_size, anchor="md")
    canvas.rect(box, outline=FRAME, width=1)
    return chart


@dataclass
class Entry:
    """A legend entry: a label and how its swatch is drawn."""

    label: str
    color: Color
    kind: str = "run"  # run (line + marker), marker, patch, dashed, dotted
    symbol: str = "circle"


def legend_height(canvas: Canvas, entries: list[Entry], width: float) -> float:
    return _legend_rows(canvas, entries, width)[1]


def _legend_rows(
    canvas: Canvas, entries: list[Entry], width: float
) -> tuple[list[list[tuple[Entry, float]]], float]:
    size = canvas.small_size
    swatch = size * 2.4
    rows: list[list[tuple[Entry, float]]] = [[]]
    used = 0.0
    for entry in entries:
        w = swatch + canvas.length(entry.label, size) + size * 1.2
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((entry, w))
        used += w
    return rows, len(rows) * size * 1.6 if entries else 0.0


def draw_legend(
    canvas: Canvas, entries: list[Entry], left: float, top: float, width: float
) -> None:
    """Entries in rows, left to right, from (left, top)."""
    size = canvas.small_size
    rows, _ = _legend_rows(canvas, entries, width)
    for n, row in enumerate(rows):
        y = top + n * size * 1.6 + size * 0.8
        x = left
        for entry, w in row:
            _swatch(canvas, entry, x, y, size * 2.0)
            canvas.text((x + size * 2.4, y), entry.label, size, anchor="lm")
            x += w


def _swatch(canvas: Canvas, entry: Entry, x: float, y: float, w: float) -> None:
    r = canvas.marker
    if entry.kind == "run":
        canvas.line([(x, y), (x + w, y)], entry.color, canvas.line_width)
        canvas.symbol(entry.symbol, x + w / 2, y, r, entry.color, WHITE, 1)
    elif entry.kind == "marker":
        canvas.symbol(entry.symbol, x + w / 2, y, r * 1.2, entry.color, TEXT, 1)
    elif entry.kind == "ramp":  # the colour from fast (full) to slow (SLOWEST_SHADE)
        h = canvas.small_size * 0.45
        steps = 6
        for k in range(steps):
            shade = 1.0 - (1.0 - SLOWEST_SHADE) * k / (steps - 1)
            color = tuple(round(c * shade) for c in entry.color)
            x0 = x + w * (0.15 + 0.7 * k / steps)
            canvas.rect((x0, y - h, x0 + w * 0.7 / steps, y + h), fill=color)  # type: ignore[arg-type]
        canvas.rect((x + w * 0.15, y - h, x + w * 0.85, y + h), outline=FRAME)
    elif entry.kind == "viridis":  # the colour scale, low to high
        h = canvas.small_size * 0.45
        lut = colorscale_lut(8)
        for k, (r, g, b) in enumerate(lut.tolist()):
            x0 = x + w * (0.15 + 0.7 * k / len(lut))
            canvas.rect((x0, y - h, x0 + w * 0.7 / len(lut), y + h), fill=(r, g, b))
        canvas.rect((x + w * 0.15, y - h, x + w * 0.85, y + h), outline=FRAME)
    elif entry.kind == "patch":
        h = canvas.small_size * 0.45
        canvas.rect((x + w * 0.15, y - h, x + w * 0.85, y + h), fill=entry.color, outline=FRAME)
    else:
        dash = (5.0, 3.0) if entry.kind == "dashed" else (1.5, 2.5)
        canvas.line([(x, y), (x + w, y)], entry.color, canvas.line_width, dash)


# --- sweep --------------------------------------------------------------------------------


@dataclass
class Drawn:
    """A rendered map: the PNG and where things went (final pixels), for tests."""

    png: bytes
    panels: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)


def _two_areas(
    canvas: Canvas, top: float, bottom: float
) -> list[tuple[float, float, float, float]]:
    """Two chart areas, side by side on a wide picture, else one above the other."""
    left, right = canvas.pad, canvas.width - canvas.pad
    if canvas.width >= canvas.height * 1.2:
        middle = (left + right) / 2
        return [(left, top, middle - canvas.pad, bottom), (middle + canvas.pad, top, right, bottom)]
    middle = (top + bottom) / 2
    return [(left, top, right, middle - canvas.pad), (left, middle + canvas.pad, right, bottom)]


def draw_sweep(
    reply: dict[str, Any], body: dict[str, Any] | None, width: int, height: int, lang: str
) -> Drawn:
    canvas = Canvas(width, height, lang)
    runs = list(reply["runs"])
    colors, symbols, labels = run_styles(runs, body, lang)
    lrs = _floats(reply["lrs"])
    top = canvas.title(canvas.say("maps.export.sweep.title", landscape=landscape_title(body, lang)))
    entries = [
        Entry(label, color, "run", symbol)
        for label, color, symbol in zip(labels, colors, symbols, strict=True)
    ]
    entries += [
        Entry(canvas.say("maps.export.boundary"), TEXT, "dashed"),
        Entry(canvas.say("maps.export.limit"), TEXT, "dotted"),
        Entry(canvas.say("maps.export.diverged"), TEXT, "marker", "x"),
    ]
    legend_w = canvas.width - 2 * canvas.pad
    bottom = canvas.height - canvas.pad - legend_height(canvas, entries, legend_w)
    gap_area, settle_area = _two_areas(canvas, top, bottom - canvas.pad)

    gaps = [_floats(r["gap"]) for r in runs]
    settled = [_floats(r["settled_at"]) for r in runs]
    diverged = [np.asarray(r["diverged_at"], dtype=float) >= 0 for r in runs]
    x = Axis(*padded_range(lrs, True, 0.02), log=True)
    # Gaps below GAP_FLOOR (rounding noise; exactly 0 too) sit on the floor, as tune scores
    # them, so the axis spans the decades that mean something.
    gaps = [np.maximum(g, GAP_FLOOR) for g in gaps]  # NaN (diverged) stays NaN
    all_gaps = np.concatenate([*gaps, [GAP_FLOOR]])
    gap_chart = chart_in(
        canvas,
        gap_area,
        x,
        Axis(*padded_range(all_gaps, True), log=True),
        canvas.say("maps.export.lr"),
        canvas.say("maps.export.gap"),
    )
    x2 = Axis(x.low, x.high, log=True)
    settle_values = np.concatenate(settled) if settled else np.array([])
    settle_values = settle_values[settle_values >= 0]
    low, high = padded_range(np.append(settle_values, 0.0), False)
    settle_chart = chart_in(
        canvas,
        settle_area,
        x2,
        Axis(0.0 if low < 0 else low, high, log=False),
        canvas.say("maps.export.lr"),
        canvas.say("maps.export.settle"),
    )
    # Diverged values: a row of × per run that has any, along the top of each chart (one
    # row each, so one run's × never hides another's); the limits' formulas below them.
    diverging = [i for i in range(len(runs)) if diverged[i].any()]
    row_step = canvas.marker * 2.2
    for i, run in enumerate(runs):
        color, symbol = colors[i], symbols[i]
        shown_gap = np.where(diverged[i], np.nan, gaps[i])
        shown_settle = np.where(settled[i] >= 0, settled[i], np.nan)
        for chart, values in ((gap_chart, shown_gap), (settle_chart, shown_settle)):
            _series(canvas, chart, lrs, values, color, symbol)
            if i in diverging:
                row = chart.box[1] + row_step * (diverging.index(i) + 0.5)
                for lr in lrs[diverged[i]]:
                    canvas.symbol("x", chart.x.pixel(lr), row, canvas.marker * 0.8, color)
            text_top = chart.box[1] + row_step * len(diverging) + canvas.pad / 2
            _vertical_lines(canvas, chart, run, color, text_top + i * canvas.small_size * 1.3)
    draw_legend(canvas, entries, canvas.pad, bottom, legend_w)
    return Drawn(canvas.png(), texts=canvas.texts, panels=[gap_chart.box, settle_chart.box])


def _series(
    canvas: Canvas, chart: Chart, xs: np.ndarray, ys: np.ndarray, color: Color, symbol: str
) -> None:
    """Lines through consecutive finite values, a marker on each."""
    points: list[tuple[float, float]] = []
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if math.isfinite(y):
            points.append(chart.point(x, y))
        else:
            if len(points) > 1:
                canvas.line(points, color, canvas.line_width)
            points = []
    if len(points) > 1:
        canvas.line(points, color, canvas.line_width)
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if math.isfinite(y):
            px, py = chart.point(x, y)
            canvas.symbol(symbol, px, py, canvas.marker, color, WHITE, 1)


def _vertical_lines(
    canvas: Canvas, chart: Chart, run: dict[str, Any], color: Color, text_y: float
) -> None:
    """The measured boundary (dashed, between the last stable and the first diverged lr)
    and the theoretical limit (dotted, with its formula on the run's own line of text)."""
    left, top, right, bottom = chart.box
    boundary = run.get("boundary") or {}
    stable, first = boundary.get("stable"), boundary.get("diverged")
    at = None
    if stable is not None and first is not None:
        at = math.sqrt(float(stable) * float(first))  # the cell edge on the log axis
    elif first is not None:
        at = float(first)
    if at is not None and chart.x.low <= at <= chart.x.high:
        px = chart.x.pixel(at)
        canvas.line([(px, top), (px, bottom)], color, canvas.line_width, (5.0, 3.0))
    limit = run.get("limit")
    if limit is not None and chart.x.low <= float(limit) <= chart.x.high:
        px = chart.x.pixel(float(limit))
        canvas.line([(px, top), (px, bottom)], color, canvas.line_width, (1.5, 2.5))
        formula = run.get("limit_formula") or ""
        if formula:
            size = canvas.small_size * 0.85
            anchor = "ra" if px > (left + right) / 2 else "la"
            shift = -canvas.pad / 2 if anchor == "ra" else canvas.pad / 2
            canvas.text((px + shift, text_y), formula, size, color, anchor, halo=True)


# --- heatmap ------------------------------------------------------------------------------


def _edges_axis(values: np.ndarray, log: bool) -> Axis:
    """An axis spanning whole cells: half a cell beyond the first and last value."""
    v = np.log10(values) if log else values
    half = (v[-1] - v[0]) / (len(v) - 1) / 2 if len(v) > 1 else 0.5
    lo, hi = v[0] - half, v[-1] + half
    return Axis(10**lo, 10**hi, True) if log else Axis(float(lo), float(hi), False)


def axis_log(axis: dict[str, Any], values: np.ndarray) -> bool:
    """Whether a heatmap axis is log-scaled: the reply says so, or its spacing does."""
    log = axis.get("log")
    return _is_log(values) if log is None else bool(log)


def heatmap_optimizer(reply: dict[str, Any], body: dict[str, Any] | None) -> str:
    """The heatmap's optimizer: the reply's, else the request's one run."""
    if reply.get("optimizer"):
        return str(reply["optimizer"])
    runs = (body or {}).get("runs") or [{}]
    return str(runs[0].get("optimizer") or "")


def optimizer_title(name: str) -> str:
    return optimizers.title(name) if name in optimizers.names() else name


def is_global(minimum: dict[str, Any]) -> bool:
    """A basin map's minimum at the landscape's global minimum value (`best`)."""
    return bool(minimum.get("best", minimum.get("global", False)))


def param_words(name: str, lang: str) -> str:
    words = _words(lang)
    return words["maps.export.lr"] if name == "lr" else words.get(f"param.{name}", name)


def heatmap_colors(reply: dict[str, Any]) -> tuple[np.ndarray, str, float, float, bool]:
    """(ny, nx, 3) cell colours (row 0 = the largest y), what they show, its range, log.

    Steps to settle on the Viridis scale; if no cell settled, the final gap (log) instead.
    Diverged cells and cells that never settle are the legend's greys.
    """
    settled = np.array(reply["settled_at"], dtype=float)
    diverged = np.array(reply["diverged_at"], dtype=float) >= 0
    gap = np.array([[np.nan if v is None else float(v) for v in row] for row in reply["gap"]])
    ok = (settled >= 0) & ~diverged
    lut = colorscale_lut(256)
    if ok.any():
        shown, what, log = settled, "maps.export.settle", False
        mask = ok
    else:
        shown, what, log = np.log10(np.where(gap > 0, gap, np.nan)), "maps.export.gapLog", True
        mask = np.isfinite(shown) & ~diverged
    lo = float(shown[mask].min()) if mask.any() else 0.0
    hi = float(shown[mask].max()) if mask.any() else 1.0
    t = np.clip((np.nan_to_num(shown) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    rgb = lut[np.rint(t * 255).astype(int)]
    rgb[~mask] = NOT_SETTLED
    rgb[diverged] = DIVERGED
    return rgb[::-1].astype(np.uint8), what, lo, hi, log


def draw_heatmap(
    reply: dict[str, Any], body: dict[str, Any] | None, width: int, height: int, lang: str
) -> Drawn:
    canvas = Canvas(width, height, lang)
    title_name = optimizer_title(heatmap_optimizer(reply, body))
    x_values, y_values = _floats(reply["x"]["values"]), _floats(reply["y"]["values"])
    x_name, y_name = str(reply["x"]["name"]), str(reply["y"]["name"])
    top = canvas.title(
        canvas.say(
            "maps.export.heatmap.title",
            name=title_name,
            landscape=landscape_title(body, lang),
            param=param_words(y_name, lang),
        )
    )
    rgb, what, lo, hi, log = heatmap_colors(reply)
    entries = [
        Entry(canvas.say("maps.export.diverged"), DIVERGED, "patch"),
        Entry(canvas.say("maps.export.notSettled"), NOT_SETTLED, "patch"),
    ]
    size = canvas.small_size
    bar_room = size * 6.5
    legend_w = canvas.width - 2 * canvas.pad
    bottom = canvas.height - canvas.pad - legend_height(canvas, entries, legend_w)
    chart = chart_in(
        canvas,
        (canvas.pad, top, canvas.width - canvas.pad - bar_room, bottom - canvas.pad),
        _edges_axis(x_values, axis_log(reply["x"], x_values)),
        _edges_axis(y_values, axis_log(reply["y"], y_values)),
        param_words(x_name, lang),
        param_words(y_name, lang),
    )
    left, ctop, right, cbottom = chart.box
    canvas.paste(Image.fromarray(rgb, "RGB"), (left + 1, ctop + 1, right, cbottom))
    canvas.rect(chart.box, outline=FRAME, width=1)
    _colorbar(
        canvas,
        (right + canvas.pad * 1.5, ctop, right + canvas.pad * 1.5 + size * 0.9, cbottom),
        lo,
        hi,
        log,
        canvas.say(what),
    )
    draw_legend(canvas, entries, canvas.pad, bottom, legend_w)
    return Drawn(canvas.png(), texts=canvas.texts, panels=[chart.box])


def _colorbar(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    lo: float,
    hi: float,
    log: bool,
    label: str,
) -> None:
    _, top, right, bottom = box
    steps = max(2, round((bottom - top) * SCALE))
    lut = colorscale_lut(256)
    ramp = lut[np.linspace(255, 0, steps).round().astype(int)][:, None, :]
    canvas.paste(Image.fromarray(np.repeat(ramp, 2, axis=1), "RGB"), box)
    canvas.rect(box, outline=FRAME, width=1)
    axis = Axis(lo, hi if hi > lo else lo + 1, False, bottom, top)
    size = canvas.small_size
    for value, _ in axis.ticks(5):
        py = axis.pixel(value)
        text = (
            superscript_power(round(value))
            if log and float(value).is_integer()
            else (power_number(10**value) if log else tick_text(value))
        )
        canvas.line([(right, py), (right + canvas.pad / 2, py)], FRAME, 1)
        canvas.text((right + canvas.pad * 0.7, py), text, size * 0.9, anchor="lm", numbers=True)
    # Right-aligned above the bar, reaching left over the plot's top edge as far as needed.
    shown, shown_size = canvas.fit_text(label, size * 0.9, canvas.width * 0.4)
    canvas.text((canvas.width - canvas.pad, top - size * 0.4), shown, shown_size, anchor="rd")


# --- basins -------------------------------------------------------------------------------


def basin_picture(
    label: np.ndarray, settled: np.ndarray, colors: list[Color], slow: float, fast: float
) -> np.ndarray:
    """(n, n, 3) colours, row 0 = the largest y: each start its minimum's colour, darker the
    later it settled (fast → 1, slow → SLOWEST_SHADE), diverged and not settled in grey."""
    palette = np.array(colors or [WHITE], dtype=float)
    index = np.clip(label, 0, len(palette) - 1)
    span = slow - fast if slow > fast else 1.0
    shade = 1.0 - (1.0 - SLOWEST_SHADE) * np.clip((settled - fast) / span, 0.0, 1.0)
    rgb = palette[index] * shade[..., None]
    rgb[label == -1] = DIVERGED
    rgb[label <= -2] = NOT_SETTLED
    return np.rint(rgb[::-1]).astype(np.uint8)


def _grid_shape(count: int, width: float, height: float, aspect: float) -> tuple[int, int]:
    """Columns and rows of `count` panels of aspect w/h filling width × height best."""
    best, shape = -1.0, (count, 1)
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        w, h = width / cols, height / rows
        side = min(w, h * aspect)
        if side * side / aspect > best:
            best, shape = side * side / aspect, (cols, rows)
    return shape


def draw_basins(
    reply: dict[str, Any], body: dict[str, Any] | None, width: int, height: int, lang: str
) -> Drawn:
    canvas = Canvas(width, height, lang)
    runs = list(reply["runs"])
    labels = run_labels(runs, body, lang)
    xs, ys = _floats(reply["xs"]), _floats(reply["ys"])
    minima = list(reply["minima"])
    colors = minimum_colors(len(minima))
    maps = [decode_array(r["label"]).astype(int) for r in runs]
    times = [decode_array(r["settled_at"]).astype(float) for r in runs]
    reached = sorted({int(k) for m in maps for k in np.unique(m) if k >= 0})
    settled_times = np.concatenate([t[m >= 0].ravel() for t, m in zip(times, maps, strict=True)])
    fast = float(settled_times.min()) if settled_times.size else 0.0
    slow = float(settled_times.max()) if settled_times.size else 1.0

    top = canvas.title(
        canvas.say("maps.export.basins.title", landscape=landscape_title(body, lang))
    )
    words = canvas.words
    # The legend names a few minima (global ones first, then those most starts reach); a
    # landscape with dozens (Rastrigin) has the rest counted, each still its own colour.
    counts = np.bincount(np.concatenate([m[m >= 0].ravel() for m in maps]), minlength=len(minima))
    named = sorted(reached, key=lambda k: (not is_global(minima[k]), -counts[k], k))
    entries = []
    for k in sorted(named[:LEGEND_MINIMA]):
        kind = words["minimum.global" if is_global(minima[k]) else "minimum.local"]
        entries.append(Entry(f"{kind} {point_text(minima[k])}", colors[k], "patch"))
    if len(named) > LEGEND_MINIMA:
        more = canvas.say("maps.export.moreMinima", count=len(named) - LEGEND_MINIMA)
        entries.append(Entry(more, WHITE, "patch"))
    entries += [
        Entry(canvas.say("maps.export.diverged"), DIVERGED, "patch"),
        Entry(canvas.say("maps.export.notSettled"), NOT_SETTLED, "patch"),
        Entry(canvas.say("maps.export.shade"), colors[0] if colors else FRAME, "ramp"),
    ]
    legend_w = canvas.width - 2 * canvas.pad
    bottom = canvas.height - canvas.pad - legend_height(canvas, entries, legend_w)
    size = canvas.small_size
    x_span = float(xs[-1] - xs[0]) if len(xs) > 1 else 1.0
    y_span = float(ys[-1] - ys[0]) if len(ys) > 1 else 1.0
    aspect = x_span / y_span if y_span > 0 else 1.0
    tick_w = max(canvas.length(t, size, True) for t in ("−10", "−5.12", "0")) + canvas.pad
    room_w = canvas.width - 2 * canvas.pad - tick_w
    room_h = bottom - top - canvas.pad
    cols, rows = _grid_shape(len(runs), room_w, room_h, aspect)
    cell_w, cell_h = room_w / cols, room_h / rows
    label_h, ticks_h = size * 1.5, size * 1.6
    plot_w = min(cell_w - canvas.pad, (cell_h - label_h - ticks_h) * aspect)
    plot_h = plot_w / aspect
    # Maps narrower than their room (three side by side) sit in the middle of its height.
    used_h = label_h + plot_h + ticks_h
    top += max(0.0, (room_h - rows * used_h) / 2)
    cell_h = min(cell_h, used_h + canvas.pad)
    panels = []
    half_x = x_span / max(1, len(xs) - 1) / 2
    half_y = y_span / max(1, len(ys) - 1) / 2
    for i in range(len(runs)):
        col, row = i % cols, i // cols
        left = canvas.pad + tick_w + col * cell_w + (cell_w - plot_w) / 2
        ptop = top + row * cell_h + label_h
        box = (left, ptop, left + plot_w, ptop + plot_h)
        panels.append(box)
        text, text_size = canvas.fit_text(labels[i], size, cell_w - canvas.pad)
        canvas.text(((box[0] + box[2]) / 2, ptop - size * 0.3), text, text_size, anchor="md")
        picture = basin_picture(maps[i], times[i], colors, slow, fast)
        canvas.paste(Image.fromarray(picture, "RGB"), box)
        x = Axis(float(xs[0] - half_x), float(xs[-1] + half_x), False, box[0], box[2])
        y = Axis(float(ys[0] - half_y), float(ys[-1] + half_y), False, box[3], box[1])
        for value, tick in x.ticks(4):
            canvas.text(
                (x.pixel(value), box[3] + canvas.pad / 3),
                tick,
                size * 0.9,
                anchor="ma",
                numbers=True,
            )
        if col == 0:
            for value, tick in y.ticks(4):
                canvas.text(
                    (box[0] - canvas.pad / 3, y.pixel(value)),
                    tick,
                    size * 0.9,
                    anchor="rm",
                    numbers=True,
                )
        for k in np.unique(maps[i][maps[i] >= 0]).tolist():  # the minima this run reaches
            m = minima[k]
            mx, my = float(m["x"]), float(m["y"])
            if x.low <= mx <= x.high and y.low <= my <= y.high:
                symbol = "star" if is_global(m) else "circle-open"
                canvas.symbol(symbol, x.pixel(mx), y.pixel(my), canvas.marker, WHITE, TEXT, 1)
        canvas.rect(box, outline=FRAME, width=1)
    draw_legend(canvas, entries, canvas.pad, bottom, legend_w)
    return Drawn(canvas.png(), texts=canvas.texts, panels=panels)


def point_text(minimum: dict[str, Any]) -> str:
    """A minimum's place as the legend and the summary write it: "(3, 2)", "(0, −0.995)"
    (a coordinate within 1e-9 of zero, as Newton leaves it, is written 0)."""
    x, y = (0.0 if abs(float(v)) < 1e-9 else float(v) for v in (minimum["x"], minimum["y"]))
    return f"({short_number(x)}, {short_number(y)})"


def basin_shares(reply: dict[str, Any]) -> list[dict[int, float]]:
    """Per run, the share of starts ending at each minimum index (−1 diverged, −2 not
    settled), largest first."""
    shares = []
    for run in reply["runs"]:
        label = decode_array(run["label"])
        values, counts = np.unique(label, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        shares.append({int(values[j]): float(counts[j] / label.size) for j in order})
    return shares


# --- tune ---------------------------------------------------------------------------------

TUNE_METHODS = ("grid", "random", "bayes")


def tune_methods(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A tuned run's results by method name, in the reply's order."""
    return {str(m["method"]): m for m in run.get("methods") or []}


def _score_gap(trial: dict[str, Any] | None) -> float:
    """A trial's final gap f − f* (the score is log₁₀ of it, floored); NaN if diverged."""
    if trial is None or trial.get("gap") is None:
        return math.nan
    return float(trial["gap"])


def draw_tune(
    reply: dict[str, Any], body: dict[str, Any] | None, width: int, height: int, lang: str
) -> Drawn:
    """A chart per optimizer (rows) and method (columns). Searching lr alone: each trial's
    final gap against its lr, the best one starred, and under Bayesian search the GP
    surrogate's mean (dashed), its ±2σ band and, along the bottom, the expected improvement
    of the last fit. Searching lr and one more hyperparameter: the trials in that plane,
    coloured by their gap (log), with the last surrogate mean behind Bayesian's."""
    canvas = Canvas(width, height, lang)
    runs = list(reply["runs"])
    colors, symbols, labels = run_styles(runs, body, lang)
    top = canvas.title(canvas.say("maps.export.tune.title", landscape=landscape_title(body, lang)))
    methods = [m for m in TUNE_METHODS if any(m in tune_methods(r) for r in runs)]
    entries = [
        Entry(canvas.say("maps.export.tune.trial"), TEXT, "marker", "circle"),
        Entry(canvas.say("maps.export.tune.best"), TEXT, "marker", "star"),
        Entry(canvas.say("maps.export.diverged"), TEXT, "marker", "x"),
    ]
    planes = any(len(r.get("space") or []) > 1 for r in runs)
    if planes:  # trials in the (lr, extra) plane are coloured by their gap
        entries.append(Entry(canvas.say("maps.export.gapLog"), TEXT, "viridis"))
    if "bayes" in methods and not all(len(r.get("space") or []) > 1 for r in runs):
        entries += [
            Entry(canvas.say("maps.export.tune.mean"), TEXT, "dashed"),
            Entry(canvas.say("maps.export.tune.band"), BAND, "patch"),
            Entry(canvas.say("maps.export.tune.ei"), EI, "patch"),
        ]
    legend_w = canvas.width - 2 * canvas.pad
    bottom = canvas.height - canvas.pad - legend_height(canvas, entries, legend_w)
    rows, cols = max(1, len(runs)), max(1, len(methods))
    cell_w = (canvas.width - canvas.pad) / cols
    cell_h = (bottom - top) / rows
    panels = []
    for i, run in enumerate(runs):
        results = tune_methods(run)
        space = list(run.get("space") or [{"name": "lr", "log": True}])
        trials = [t for m in methods for t in (results.get(m) or {}).get("trials") or []]
        for j, method in enumerate(methods):
            area = (
                canvas.pad + j * cell_w,
                top + i * cell_h,
                (j + 1) * cell_w,
                top + (i + 1) * cell_h - canvas.pad / 2,
            )
            title = f"{labels[i]} · {canvas.say(f'maps.export.tune.{method}')}"
            result = results.get(method) or {}
            cell = TuneCell(area, run, result, trials, title)
            if len(space) == 1:
                chart = _tune_line(canvas, cell, colors[i], symbols[i])
            else:
                chart = _tune_plane(canvas, cell)
            panels.append(chart.box)
    draw_legend(canvas, entries, canvas.pad, bottom, legend_w)
    return Drawn(canvas.png(), texts=canvas.texts, panels=panels)


class TuneCell(NamedTuple):
    """One chart of the tune picture: a run's search by one method."""

    area: tuple[float, float, float, float]
    run: dict[str, Any]
    result: dict[str, Any]  # the method's trials, best and snapshots
    every: list[dict[str, Any]]  # every method's trials of the run: one range for the row
    title: str


def _dimension_range(dim: dict[str, Any]) -> tuple[float, float]:
    """A searched range, 2 % wider each side so trials on its ends show whole."""
    ends = np.array([float(dim["min"]), float(dim["max"])])
    return padded_range(ends, bool(dim.get("log", False)), 0.02)


def _tune_line(canvas: Canvas, cell: TuneCell, color: Color, symbol: str) -> Chart:
    """lr alone: each trial's final gap against its lr (log–log)."""
    area, run, result, every, title = cell
    dim = run["space"][0]
    gaps = np.maximum([_score_gap(t) for t in every], GAP_FLOOR)  # as the score floors them
    floor = GAP_FLOOR
    snapshot = (result.get("snapshots") or [None])[-1]
    band: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    if snapshot is not None and run.get("grid"):
        mean = decode_array(snapshot["mean"]).astype(float)
        std = decode_array(snapshot["std"]).astype(float)
        band = (np.array(run["grid"][0], dtype=float), mean, std, decode_array(snapshot["ei"]))
    # Every method's trials of the run set its range, so the three charts of a row compare;
    # the surrogate's band is clipped to it.
    y_values = np.append(gaps, floor)
    x = Axis(*_dimension_range(dim), log=bool(dim.get("log", True)))
    chart = chart_in(
        canvas,
        area,
        x,
        Axis(*padded_range(y_values, True), log=True),
        param_words(str(dim["name"]), canvas.lang),
        title,
    )
    if band is not None:
        lrs, mean, std, ei = band
        _surrogate(canvas, chart, lrs, mean, std, ei)
    for trial in result.get("trials") or []:
        lr, gap = float(trial["values"][0]), _score_gap(trial)
        if math.isfinite(gap):
            px, py = chart.point(lr, max(gap, floor))
            canvas.symbol(symbol, px, py, canvas.marker, color, WHITE, 1)
        else:
            canvas.symbol("x", chart.x.pixel(lr), chart.box[1], canvas.marker * 0.9, color)
    best = result.get("best")
    if best is not None and math.isfinite(_score_gap(best)):
        px, py = chart.point(float(best["values"][0]), max(_score_gap(best), floor))
        canvas.symbol("star", px, py, canvas.marker * 1.7, color, TEXT, 1)
    return chart


def _surrogate(
    canvas: Canvas,
    chart: Chart,
    lrs: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    ei: np.ndarray,
) -> None:
    """The GP over lr: its mean (dashed) and ±2σ band, in gap units (the GP models the
    score log₁₀ gap), and its expected improvement as a strip along the bottom."""
    _, top, _, bottom = chart.box

    def point(lr: float, score: float) -> tuple[float, float]:
        y = chart.y.pixel(10**score) if math.isfinite(score) else bottom
        return chart.x.pixel(lr), float(np.clip(y, top, bottom))

    upper = [point(lr, s) for lr, s in zip(lrs.tolist(), (mean + 2 * std).tolist(), strict=True)]
    lower = [point(lr, s) for lr, s in zip(lrs.tolist(), (mean - 2 * std).tolist(), strict=True)]
    canvas.draw.polygon([(px * SCALE, py * SCALE) for px, py in upper + lower[::-1]], fill=BAND)
    peak = float(np.max(ei)) if ei.size and np.isfinite(ei).all() else 0.0
    if peak > 0:
        height = (bottom - top) * 0.2
        strip = [
            (chart.x.pixel(lr), bottom - height * v / peak)
            for lr, v in zip(lrs.tolist(), ei.tolist(), strict=True)
        ]
        canvas.draw.polygon(
            [
                (px * SCALE, py * SCALE)
                for px, py in [(strip[0][0], bottom), *strip, (strip[-1][0], bottom)]
            ],
            fill=EI,
        )
    middle = [point(lr, s) for lr, s in zip(lrs.tolist(), mean.tolist(), strict=True)]
    canvas.line(middle, TEXT, canvas.line_width, (5.0, 3.0))
    canvas.rect(chart.box, outline=FRAME, width=1)


def _tune_plane(canvas: Canvas, cell: TuneCell) -> Chart:
    """lr × the extra hyperparameter: trials coloured by log₁₀ gap (one range per run)."""
    area, run, result, every, title = cell
    lang = canvas.lang
    dx, dy = run["space"][0], run["space"][1]
    chart = chart_in(
        canvas,
        area,
        Axis(*_dimension_range(dx), log=bool(dx.get("log", True))),
        Axis(*_dimension_range(dy), log=bool(dy.get("log", False))),
        param_words(str(dx["name"]), lang),
        f"{title} · ↕ {param_words(str(dy['name']), lang)}",
    )
    scores = np.log10(np.maximum([_score_gap(t) for t in every], GAP_FLOOR))
    finite = scores[np.isfinite(scores)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lut = colorscale_lut(256)

    def shade(score: float) -> Color:
        t = (score - lo) / (hi - lo) if hi > lo else 0.5
        r, g, b = lut[int(np.clip(round(t * 255), 0, 255))]
        return int(r), int(g), int(b)

    snapshot = (result.get("snapshots") or [None])[-1]
    if snapshot is not None and len(run.get("grid") or []) == 2:
        mean = decode_array(snapshot["mean"]).astype(float)  # (ny, nx), row j = grid[1][j]
        t = np.clip((mean - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        pale = 255 - (255 - lut[np.rint(t * 255).astype(int)].astype(float)) * 0.45
        canvas.paste(Image.fromarray(np.rint(pale[::-1]).astype(np.uint8), "RGB"), chart.box)
        canvas.rect(chart.box, outline=FRAME, width=1)
    for trial in result.get("trials") or []:
        px, py = chart.point(float(trial["values"][0]), float(trial["values"][1]))
        gap = _score_gap(trial)
        if math.isfinite(gap):
            canvas.symbol(
                "circle", px, py, canvas.marker, shade(math.log10(max(gap, GAP_FLOOR))), WHITE, 1
            )
        else:
            canvas.symbol("x", px, py, canvas.marker * 0.9, DIVERGED)
    best = result.get("best")
    if best is not None:
        px, py = chart.point(float(best["values"][0]), float(best["values"][1]))
        canvas.symbol("star", px, py, canvas.marker * 1.7, WHITE, TEXT, 1)
    return chart


# --- entry points -------------------------------------------------------------------------

_DRAW = {"sweep": draw_sweep, "heatmap": draw_heatmap, "basins": draw_basins, "tune": draw_tune}


def draw_map(
    kind: str,
    reply: dict[str, Any],
    body: dict[str, Any] | None = None,
    width: int = 1280,
    height: int = 720,
    lang: str = "en",
) -> Drawn:
    """Render a map reply; ValueError names an unknown kind."""
    if kind not in _DRAW:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return _DRAW[kind](reply, body, width, height, lang)


def summary_lines(
    kind: str, reply: dict[str, Any], body: dict[str, Any] | None = None, lang: str = "en"
) -> list[str]:
    """What the map found, a line per run in `lang` (the CLI prints them): a sweep's
    measured boundary and theoretical limit, a heatmap's fastest cell, a basin map's share
    of starts per minimum, each tuning method's best values."""
    words = _words(lang)

    def line(key: str, **values: object) -> str:
        return say(words[f"maps.export.summary.{key}"], **values)

    if kind == "sweep":
        lines = []
        lrs = reply["lrs"]
        for label, run in zip(
            run_labels(reply["runs"], body, lang, ("lr",)), reply["runs"], strict=True
        ):
            boundary = run.get("boundary") or {}
            stable, first = boundary.get("stable"), boundary.get("diverged")
            if first is None:
                text = line("noDivergence", name=label, max=short_number(lrs[-1]))
            elif stable is None:
                text = line("allDiverge", name=label, min=short_number(first))
            else:
                text = line(
                    "boundary",
                    name=label,
                    stable=short_number(stable),
                    diverged=short_number(first),
                )
            if run.get("limit") is not None:
                formula = run.get("limit_formula") or ""
                text += line("limit", formula=formula, limit=short_number(run["limit"]))
            lines.append(text)
        return lines
    if kind == "heatmap":
        label = optimizer_title(heatmap_optimizer(reply, body))
        settled = np.array(reply["settled_at"], dtype=float)
        settled[(settled < 0) | (np.array(reply["diverged_at"]) >= 0)] = np.inf
        if not np.isfinite(settled).any():
            return [line("heatmapNone", name=label)]
        j, i = np.unravel_index(int(np.argmin(settled)), settled.shape)
        return [
            line(
                "heatmap",
                name=label,
                x=short_number(reply["x"]["values"][i]),
                param=param_symbol(str(reply["y"]["name"]), lang),
                y=short_number(reply["y"]["values"][j]),
                steps=int(settled[j, i]),
            )
        ]
    if kind == "basins":
        lines = []
        minima = reply["minima"]
        for label, shares in zip(
            run_labels(reply["runs"], body, lang), basin_shares(reply), strict=True
        ):
            found = [(k, share) for k, share in shares.items() if k >= 0]
            parts = [f"{point_text(minima[k])} {100 * share:.1f}%" for k, share in found[:4]]
            if len(found) > 4:
                rest = sum(share for _, share in found[4:])
                more = say(words["maps.export.moreMinima"], count=len(found) - 4)
                parts.append(f"{more} {100 * rest:.1f}%")
            for k, key in ((-1, "maps.export.diverged"), (-2, "maps.export.notSettled")):
                if k in shares:
                    parts.append(f"{words[key]} {100 * shares[k]:.1f}%")
            lines.append(f"{label}: {', '.join(parts)}")
        return lines
    if kind == "tune":
        lines = []
        for label, run in zip(
            run_labels(reply["runs"], body, lang, ("lr",)), reply["runs"], strict=True
        ):
            names = [str(d["name"]) for d in run.get("space") or []]
            for method, result in tune_methods(run).items():
                best = result.get("best")
                method_words = words[f"maps.export.tune.{method}"]
                if best is None:
                    lines.append(f"{label}, {method_words}: {words['maps.export.diverged']}")
                    continue
                values = ", ".join(
                    f"{param_symbol(n, lang)} = {short_number(float(v))}"
                    for n, v in zip(names, best["values"], strict=True)
                )
                lines.append(
                    line(
                        "tune",
                        name=label,
                        method=method_words,
                        values=values,
                        gap=short_number(best.get("gap")),
                        trials=len(result.get("trials") or []),
                    )
                )
        return lines
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def _cell(value: Any) -> str:
    """A number as a CSV cell: exact (repr), empty for null or non-finite."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    number = float(value)
    return repr(number) if math.isfinite(number) else ""


def csv_rows(kind: str, reply: dict[str, Any]) -> list[list[str]]:
    """The table of a map: a header, then one row per value / cell / start / trial."""
    if kind == "sweep":
        rows = [
            [
                "optimizer",
                "lr",
                "final_loss",
                "gap",
                "settled_at",
                "diverged_at",
                "boundary_stable_lr",
                "boundary_diverged_lr",
                "limit_lr",
                "limit_formula",
            ]
        ]
        names = csv_names([str(r["optimizer"]) for r in reply["runs"]])
        for name, run in zip(names, reply["runs"], strict=True):
            boundary = run.get("boundary") or {}
            tail = [
                _cell(boundary.get("stable")),
                _cell(boundary.get("diverged")),
                _cell(run.get("limit")),
                run.get("limit_formula") or "",
            ]
            for j, lr in enumerate(reply["lrs"]):
                rows.append(
                    [
                        name,
                        _cell(lr),
                        _cell(run["final_loss"][j]),
                        _cell(run["gap"][j]),
                        _cell(run["settled_at"][j]),
                        _cell(run["diverged_at"][j]),
                        *tail,
                    ]
                )
        return rows
    if kind == "heatmap":
        x_name, y_name = str(reply["x"]["name"]), str(reply["y"]["name"])
        rows = [[x_name, y_name, "settled_at", "gap", "diverged_at"]]
        for j, y in enumerate(reply["y"]["values"]):
            for i, x in enumerate(reply["x"]["values"]):
                rows.append(
                    [
                        _cell(x),
                        _cell(y),
                        _cell(reply["settled_at"][j][i]),
                        _cell(reply["gap"][j][i]),
                        _cell(reply["diverged_at"][j][i]),
                    ]
                )
        return rows
    if kind == "basins":
        rows = [
            ["optimizer", "x", "y", "outcome", "minimum", "minimum_x", "minimum_y", "settled_at"]
        ]
        names = csv_names([str(r["optimizer"]) for r in reply["runs"]])
        xs, ys, minima = reply["xs"], reply["ys"], reply["minima"]
        x_cells, y_cells = [_cell(v) for v in xs], [_cell(v) for v in ys]
        where = [(_cell(m["x"]), _cell(m["y"])) for m in minima]
        for name, run in zip(names, reply["runs"], strict=True):
            label = decode_array(run["label"]).tolist()
            settled = decode_array(run["settled_at"]).tolist()
            for j, y in enumerate(y_cells):
                for i, x in enumerate(x_cells):
                    k = label[j][i]
                    if k >= 0:
                        ends = ["minimum", str(k), *where[k]]
                    else:
                        ends = ["diverged" if k == -1 else "not_settled", str(k), "", ""]
                    rows.append([name, x, y, *ends, str(settled[j][i])])
        return rows
    if kind == "tune":
        return _tune_rows(reply)
    raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def _tune_rows(reply: dict[str, Any]) -> list[list[str]]:
    """One row per trial: the values tried (a column per hyperparameter any run searched),
    its score log₁₀(gap), its gap, and whether it is its method's best."""
    runs = list(reply["runs"])
    dims = list(dict.fromkeys(str(d["name"]) for r in runs for d in r.get("space") or []))
    rows = [["optimizer", "method", "trial", *dims, "score", "gap", "best"]]
    names = csv_names([str(r["optimizer"]) for r in runs])
    for name, run in zip(names, runs, strict=True):
        own = [str(d["name"]) for d in run.get("space") or []]
        for method, result in tune_methods(run).items():
            best = (result.get("best") or {}).get("index")
            for t in result.get("trials") or []:
                values = dict(zip(own, t["values"], strict=True))
                rows.append(
                    [
                        name,
                        method,
                        str(t["index"]),
                        *(_cell(values.get(d)) for d in dims),
                        _cell(t.get("score")),
                        _cell(t.get("gap")),
                        "1" if t["index"] == best else "0",
                    ]
                )
    return rows


def render_csv(kind: str, reply: dict[str, Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(csv_rows(kind, reply))
    return out.getvalue()
