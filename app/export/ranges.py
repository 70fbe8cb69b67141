"""Robust value ranges and off-scale runs for the exports: the Python twin of the page's
static/js/ranges.js (BAND_MULTIPLE, landscapeRange, lossBand, clipSeries, shortNumber).

This module and ranges.js mirror each other: change the rule in one, change it in the
other (tests/app/test_export_ranges.py pins the numbers the page's rule gives).

Why: on the saddle, Momentum runs off to f = −2.2e11. Letting the largest number any run
reached set the loss chart's value axis flattens every other run into a line at 0 and
Momentum into a cliff. The axis spans the landscape's own values over its bounds (an order
of magnitude beyond them); a run that leaves the band is clipped at its edge and marked
off scale, and a note says from which step.

The end-marker rules the Pillow frames share with the page's spreadHeads (static/js/plot.js)
live here too: which heads coincide, and the coordinate text of the note about them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# ranges.js BAND_MULTIPLE: how far beyond the landscape's own range a run is still drawn.
BAND_MULTIPLE = 10
# The page's loss-chart grid (static/js/runs.js GRID_RESOLUTION): the same band.
PAGE_GRID_RESOLUTION = 200
# The smallest gap the log loss chart draws (a run at f* exactly), as static/js/runs.js.
GAP_FLOOR = 1e-16


@dataclass(frozen=True)
class LandscapeRange:
    """Finite min, max and span of f over the landscape's bounds (ranges.js landscapeRange)."""

    min: float
    max: float
    span: float


@dataclass(frozen=True)
class OffScale:
    """Where a run left the band: the first step past an edge, and which edge."""

    step: int
    side: str  # "below" | "above"


def landscape_range(z: np.ndarray) -> LandscapeRange:
    """min, max and span of the finite values of a grid of f (ranges.js landscapeRange)."""
    values = np.asarray(z, dtype=float)
    finite = values[np.isfinite(values)]
    if not len(finite):
        return LandscapeRange(0.0, 1.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    return LandscapeRange(lo, hi, max(hi - lo, 1e-12))


def loss_band(own: LandscapeRange, fstar: float | None) -> tuple[float, float]:
    """(lo, hi) of the loss values drawn: linear f (no known minimum) within BAND_MULTIPLE
    spans of the landscape's range; log f − f* from 0 up to BAND_MULTIPLE × its largest gap
    (ranges.js lossBand)."""
    if fstar is None:
        return own.min - BAND_MULTIPLE * own.span, own.max + BAND_MULTIPLE * own.span
    return 0.0, BAND_MULTIPLE * max(own.max - fstar, 1e-12)


def clip_series(values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, OffScale | None]:
    """`values` clipped to [lo, hi]: the first value past an edge is drawn at the edge, later
    ones are NaN (a gap: the run is off scale from there); ±inf is past an edge, NaN passes
    through as a gap, as in ranges.js clipSeries."""
    values = np.asarray(values, dtype=float)
    out = values.copy()
    with np.errstate(invalid="ignore"):
        below = values < lo
        above = values > hi
    past = np.flatnonzero(below | above)
    if not len(past):
        return out, None
    step = int(past[0])
    side = "below" if below[step] else "above"
    out[step] = lo if side == "below" else hi
    out[step + 1 :] = np.nan
    return out, OffScale(step, side)


def short_number(value: float) -> str:
    """A number for a note, short, with a true minus: −84, 2.5e3 (ranges.js shortNumber)."""
    a = abs(value)
    if a != 0 and (a >= 1e4 or a < 1e-2):
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}".replace("-", "−")
    return f"{float(f'{value:.3g}'):g}".replace("-", "−")


def fmt_coord(value: float, step: float) -> str:
    """A coordinate to the precision a marker's width shows (`step`: data units per marker
    width), as the page's note about coincident ends (fmtCoord in static/js/plot.js)."""
    decimals = min(6, max(0, -math.floor(math.log10(step)))) if step > 0 else 6
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = "0"
    return text.replace("-", "−")


def coincident_groups(heads: list[tuple[float, float] | None], reach: float) -> list[list[int]]:
    """Indices of heads closer than `reach` to the first of their group, groups of two or
    more, in order: the page's spreadHeads grouping. None (off view) never groups."""
    taken = [h is None for h in heads]
    groups = []
    for i, a in enumerate(heads):
        if taken[i] or a is None:
            continue
        group = [i]
        taken[i] = True
        for j in range(i + 1, len(heads)):
            b = heads[j]
            if not taken[j] and b is not None and math.hypot(b[0] - a[0], b[1] - a[1]) < reach:
                group.append(j)
                taken[j] = True
        if len(group) > 1:
            groups.append(group)
    return groups


def superscript_power(exponent: int) -> str:
    """10^k as the loss chart writes it (Plotly's exponentformat "power"): 1, 10, 10², 10⁻¹."""
    if exponent == 0:
        return "1"
    if exponent == 1:
        return "10"
    digits = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return "10" + digits
