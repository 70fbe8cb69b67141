"""Frames of a scene, drawn with Pillow: contour, growing paths, moving heads, legend, counter.

Speed comes from drawing almost nothing per frame. The contour (the page's colour scale
applied to app.scene.grid(...).color, banded like Plotly's filled contour, with contour
lines where the band changes) and the static text are drawn once. Each panel keeps a
canvas holding the paths drawn so far; a new frame only adds the segments since the
previous frame, then pastes copies of the canvases onto the static image and draws the
heads, the markers and the step counter. Coordinates are transformed with NumPy once.

Mode "P" renders straight into a fixed 256-colour palette (contour bands, run colours,
greys for text), which is what a GIF stores, so no per-frame colour quantization is
needed; mode "RGB" is for MP4 and PNG.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app.export.data import ExportScene
from app.palette import LANDSCAPE_COLORSCALE, MINIMUM_COLOR, START_COLOR

# Plotly's filled contour shows about this many bands; the page and the export look alike.
CONTOUR_LEVELS = 16
# Pixel coordinates are clipped here: far-away points (up to 1e6 before divergence) stay
# drawable without changing the direction of the visible part of a segment much.
_CLIP = 20_000.0

_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
# For titles in Japanese (or any CJK text), which DejaVu cannot show.
_CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)

_MARKER_LABELS = (("global minimum", "global"), ("local minimum", "local"), ("saddle", "saddle"))
WHITE = "#FFFFFF"
TEXT = "#222222"
FRAME = "#888888"
Color = tuple[int, int, int]


def hex_rgb(color: str) -> Color:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def needs_cjk_font(text: str) -> bool:
    return any(ord(c) >= 0x2E80 for c in text)


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def load_font(size: int, cjk: bool = False) -> Font:
    """A local font file (DejaVu, Noto CJK for CJK text), else Pillow's bundled one."""
    for path in (*(_CJK_FONT_FILES if cjk else ()), *_FONT_FILES):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def font_for(text: str, size: int) -> Font:
    return load_font(size, needs_cjk_font(text))


@lru_cache(maxsize=8)
def colorscale_lut(levels: int, name: str = LANDSCAPE_COLORSCALE) -> np.ndarray:
    """(levels, 3) uint8: the Plotly colour scale sampled at the centre of each band."""
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


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k apart) inside [low, high]."""
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [low]
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * span:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _fit(text: str, font: Font, width: float) -> str:
    """The text, cut with an ellipsis to fit `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…" if text else ""


@dataclass
class _Panel:
    x0: int
    y0: int
    w: int
    h: int
    runs: list[int]


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
    ) -> None:
        if mode not in ("RGB", "P"):
            raise ValueError(f"mode must be 'RGB' or 'P', got {mode!r}")
        self.scene = scene
        self.width = int(width)
        self.height = int(height)
        self.layout = layout
        self.mode = mode
        # RGB panels are drawn at 2× and box-filtered down: anti-aliased paths, heads and
        # contour lines for MP4/PNG at the cost of one reduce() per panel per frame. GIF
        # frames stay in the palette, where blending would invent colours.
        self.scale = supersample if supersample is not None else (2 if mode == "RGB" else 1)
        self._build_palette()
        self._place()
        self._static = self._draw_static()
        self._tile = self._contour_tile(
            self._panels[0].w * self.scale, self._panels[0].h * self.scale
        )
        self._pixels = self._transform()
        self._canvases: list[Image.Image] = []
        self._drawn = 0
        self._reset()

    # --- colours ---------------------------------------------------------------------------

    def _build_palette(self) -> None:
        lut = colorscale_lut(CONTOUR_LEVELS)
        # Contour lines: each band's colour darkened, so lines read on every band.
        lines = (lut.astype(float) * 0.72).astype(np.uint8)
        self._band_rgb = np.concatenate([lut, lines])  # index = band or CONTOUR_LEVELS + band
        named = [WHITE, TEXT, FRAME, START_COLOR, MINIMUM_COLOR, "#000000"]
        named += [run.color for run in self.scene.runs]
        colors: list[Color] = [(int(r), int(g), int(b)) for r, g, b in self._band_rgb]
        colors += [hex_rgb(c) for c in named]
        colors += [(g, g, g) for g in range(0, 256, 17)]  # greys for anti-aliased text
        self._index: dict[Color, int] = {}
        for i, color in enumerate(colors):
            self._index.setdefault(color, i)
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

    # --- layout ----------------------------------------------------------------------------

    def _place(self) -> None:
        W, H = self.width, self.height
        short = min(W, H)
        self.pad = max(3, round(short * 0.015))
        self.title_size = int(np.clip(round(H * 0.042), 9, 44))
        self.small_size = int(np.clip(round(H * 0.028), 8, 28))
        self.line_width = max(2, round(short / 260))
        self.head_radius = max(3, round(self.line_width * 2.2))
        small = load_font(self.small_size)
        self.band_height = round(self.title_size * 1.5) + self.pad
        self.counter_text_width = load_font(self.title_size).getlength(
            f"step {self.scene.steps}/{self.scene.steps}"
        )
        top, bottom = self.band_height, H - self.pad
        self.legend: tuple[int, int, int] | None = None  # (x, y, width)
        self.ticks = False
        if self.layout == "side_by_side" and len(self.scene.runs) > 1:
            self._place_grid(top, bottom)
            return
        legend_width = 0
        if self.layout == "overlay" or len(self.scene.runs) <= 1:
            texts = [run.label for run in self.scene.runs] + [t for t, _ in _MARKER_LABELS]
            swatch = self.small_size * 1.6
            wanted = max(small.getlength(t) for t in texts) + swatch + 3 * self.pad
            legend_width = int(min(wanted, 0.3 * W))
            if legend_width < 0.12 * W or W - legend_width < 0.55 * W:
                legend_width = 0
        tick_w = tick_h = 0
        if H >= 160 and W >= 200:
            self.ticks = True
            _, (ymin, ymax) = self.scene.bounds
            labels = [f"{v:g}" for v in nice_ticks(ymin, ymax)]
            tick_w = int(max(small.getlength(t) for t in labels)) + self.pad
            tick_h = round(self.small_size * 1.4)
        x0 = self.pad + tick_w
        x1 = W - self.pad - legend_width
        y1 = bottom - tick_h
        self._panels = [
            _Panel(x0, top, max(8, x1 - x0), max(8, y1 - top), list(range(len(self.scene.runs))))
        ]
        if legend_width:
            self.legend = (x1 + self.pad, top, legend_width - self.pad)

    def _place_grid(self, top: int, bottom: int) -> None:
        count = len(self.scene.runs)
        area_w, area_h = self.width - 2 * self.pad, bottom - top
        label_h = round(self.small_size * 1.5)
        best: tuple[float, int] = (-1.0, 1)
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            cell_w = (area_w - (cols - 1) * self.pad) / cols
            cell_h = (area_h - (rows - 1) * self.pad) / rows - label_h
            score = min(cell_w, cell_h * 1.25)  # slightly wide panels read best
            if score > best[0]:
                best = (score, cols)
        cols = best[1]
        rows = math.ceil(count / cols)
        cell_w = int((area_w - (cols - 1) * self.pad) / cols)
        cell_h = int((area_h - (rows - 1) * self.pad) / rows) - label_h
        self.label_height = label_h
        self._panels = []
        for i in range(count):
            r, c = divmod(i, cols)
            x0 = self.pad + c * (cell_w + self.pad)
            y0 = top + r * (cell_h + label_h + self.pad) + label_h
            self._panels.append(_Panel(x0, y0, max(8, cell_w), max(8, cell_h), [i]))

    # --- static layers ---------------------------------------------------------------------

    def _draw_static(self) -> Image.Image:
        image = Image.new("RGB", (self.width, self.height), hex_rgb(WHITE))
        draw = ImageDraw.Draw(image)
        title = self.scene.full_title
        title_font = font_for(title, self.title_size)
        room = self.width - self.counter_text_width - 3 * self.pad
        draw.text(
            (self.pad, self.band_height / 2),
            _fit(title, title_font, room),
            fill=hex_rgb(TEXT),
            font=title_font,
            anchor="lm",
        )
        small = load_font(self.small_size)
        for panel in self._panels:
            draw.rectangle(
                (panel.x0 - 1, panel.y0 - 1, panel.x0 + panel.w, panel.y0 + panel.h),
                outline=hex_rgb(FRAME),
            )
        if self.layout == "side_by_side" and len(self._panels) > 1:
            for panel in self._panels:
                run = self.scene.runs[panel.runs[0]]
                y = panel.y0 - self.label_height / 2
                size = self.small_size
                draw.rectangle(
                    (panel.x0, y - size / 2, panel.x0 + size, y + size / 2),
                    fill=hex_rgb(run.color),
                    outline=hex_rgb(TEXT),
                )
                draw.text(
                    (panel.x0 + size * 1.5, y),
                    _fit(run.label, small, panel.w - size * 1.5),
                    fill=hex_rgb(TEXT),
                    font=small,
                    anchor="lm",
                )
        if self.ticks:
            self._draw_ticks(draw, small)
        if self.legend:
            self._draw_legend(draw, small)
        return self._to_mode(image)

    def _draw_ticks(self, draw: ImageDraw.ImageDraw, font: Font) -> None:
        panel = self._panels[0]
        (xmin, xmax), (ymin, ymax) = self.scene.bounds
        tick = max(2, self.pad // 2)
        for value in nice_ticks(xmin, xmax):
            x: float = panel.x0 + (value - xmin) / (xmax - xmin) * panel.w
            y: float = panel.y0 + panel.h
            draw.line((x, y, x, y + tick), fill=hex_rgb(FRAME))
            draw.text((x, y + tick), f"{value:g}", fill=hex_rgb(TEXT), font=font, anchor="mt")
        for value in nice_ticks(ymin, ymax):
            y = panel.y0 + (ymax - value) / (ymax - ymin) * panel.h
            x = panel.x0 - 1
            draw.line((x - tick, y, x, y), fill=hex_rgb(FRAME))
            draw.text((x - tick - 1, y), f"{value:g}", fill=hex_rgb(TEXT), font=font, anchor="rm")

    def _draw_legend(self, draw: ImageDraw.ImageDraw, font: Font) -> None:
        assert self.legend is not None
        x, top, width = self.legend
        row = round(self.small_size * 1.6)
        swatch = self.small_size * 1.2
        y: float = top + row / 2
        for run in self.scene.runs:
            draw.line(
                (x, y, x + swatch, y), fill=hex_rgb(run.color), width=max(2, self.line_width + 1)
            )
            draw.text(
                (x + swatch + self.pad, y),
                _fit(run.label, font, width - swatch - self.pad),
                fill=hex_rgb(TEXT),
                font=font,
                anchor="lm",
            )
            y += row
        y += row / 3
        kinds = {m.kind for m in self.scene.minima}
        entries = [("start", "start")]
        entries += [(label, kind) for label, kind in _MARKER_LABELS if kind in kinds]
        half = row * 0.42
        for label, kind in entries:
            # A mid-grey tile behind the marker: white minimum markers vanish on white.
            draw.rectangle(
                (x + swatch / 2 - half, y - half, x + swatch / 2 + half, y + half),
                fill=hex_rgb(FRAME),
            )
            self._marker(draw, x + swatch / 2, y, kind, hex_rgb)
            draw.text((x + swatch + self.pad, y), label, fill=hex_rgb(TEXT), font=font, anchor="lm")
            y += row

    def _contour_tile(self, w: int, h: int) -> Image.Image:
        """The banded contour for one panel, as palette indices or RGB."""
        if self.scene.color_grid is None:
            index = np.zeros((h, w), dtype=np.uint8)
        else:
            resolution = int(np.clip(max(w, h), 32, 400))
            _, _, color = self.scene.color_grid(resolution)
            color = np.asarray(color, dtype=float)
            finite = np.isfinite(color)
            low = float(color[finite].min()) if finite.any() else 0.0
            high = float(color[finite].max()) if finite.any() else 1.0
            color = np.where(finite, color, high)
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
        """Draw path segments from the last drawn step up to `step` onto the canvases."""
        if step < self._drawn:
            self._reset()
        for i, run in enumerate(self.scene.runs):
            pixels = self._pixels[i]
            if len(pixels) < 2:
                continue
            first = min(self._drawn, len(pixels) - 1)
            last = min(step, len(pixels) - 1)
            if last <= first:
                continue
            canvas = self._canvases[self._panels.index(self._panel_of(i))]
            coords = np.rint(pixels[first : last + 1]).astype(int).ravel().tolist()
            ImageDraw.Draw(canvas).line(
                coords,
                fill=self.ink(run.color),
                width=self.line_width * self.scale,
                joint="curve",
            )
        self._drawn = max(step, 0)

    def _marker(
        self, draw: ImageDraw.ImageDraw, x: float, y: float, kind: str, ink, scale: int = 1
    ) -> None:
        r = self.head_radius * 1.15 * scale
        if kind == "start":
            draw.ellipse(
                (x - r, y - r, x + r, y + r),
                fill=ink(START_COLOR),
                outline=ink(MINIMUM_COLOR),
                width=scale,
            )
        elif kind == "global":
            star = [
                (
                    x + (r * 1.5 if k % 2 == 0 else r * 0.65) * math.sin(k * math.pi / 5),
                    y - (r * 1.5 if k % 2 == 0 else r * 0.65) * math.cos(k * math.pi / 5),
                )
                for k in range(10)
            ]
            draw.polygon(star, fill=ink(MINIMUM_COLOR), outline=ink("#000000"), width=scale)
        elif kind == "local":
            draw.ellipse(
                (x - r, y - r, x + r, y + r), outline=ink(MINIMUM_COLOR), width=max(1, round(r / 3))
            )
        else:  # saddle: a plus sign
            w = max(1, round(r / 3))
            draw.line((x - r, y, x + r, y), fill=ink(MINIMUM_COLOR), width=w)
            draw.line((x, y - r, x, y + r), fill=ink(MINIMUM_COLOR), width=w)

    def _decorate(self, tile: Image.Image, panel: _Panel, step: int) -> None:
        draw = ImageDraw.Draw(tile)
        ink, s = self.ink, self.scale
        for minimum in self.scene.minima:
            self._marker(draw, *self._point(panel, minimum.x, minimum.y), minimum.kind, ink, s)
        self._marker(draw, *self._point(panel, *self.scene.start), "start", ink, s)
        r = self.head_radius * s
        w, h = panel.w * s, panel.h * s
        for i in panel.runs:
            run, pixels = self.scene.runs[i], self._pixels[i]
            if not len(pixels):
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
            elif 0 <= x <= w and 0 <= y <= h:
                draw.ellipse(
                    (x - r, y - r, x + r, y + r),
                    fill=ink(run.color),
                    outline=ink("#000000"),
                    width=s,
                )
            else:
                # Off the plot: a hollow head pinned to the edge, in the direction it went.
                x, y = min(max(x, r), w - r), min(max(y, r), h - r)
                draw.ellipse(
                    (x - r, y - r, x + r, y + r), outline=ink(run.color), width=max(2, r // 2)
                )

    def frame(self, step: int) -> Image.Image:
        """The scene at `step` (0..steps): paths so far, heads, markers, counter."""
        step = int(np.clip(step, 0, self.scene.steps))
        self._advance(step)
        image = self._static.copy()
        for panel, canvas in zip(self._panels, self._canvases, strict=True):
            tile = canvas.copy()
            self._decorate(tile, panel, step)
            if self.scale > 1:
                tile = tile.reduce(self.scale)
            image.paste(tile, (panel.x0, panel.y0))
        font = load_font(self.title_size)
        ImageDraw.Draw(image).text(
            (self.width - self.pad, self.band_height / 2),
            f"step {step}/{self.scene.steps}",
            fill=self.ink(TEXT),
            font=font,
            anchor="rm",
        )
        return image

    def frames(self, steps: Iterable[int]) -> Iterator[Image.Image]:
        for step in steps:
            yield self.frame(int(step))
