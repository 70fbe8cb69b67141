"""What the arrows of an export show at a run's point: the update that leaves it (issue 12).

The page draws the same arrows at its cursor (static/js/arrows.js, inside_math.js); an
export follows the page's rules so a slide reads like the screen it came from.

Update t leaves point t (θₜ → θₜ₊₁), so a frame showing step t draws, from θₜ:

- `grad`: the negative gradient −gₜ, the gradient update t used (noise and weight decay
  included, as the optimizer saw it);
- `momentum`: the negative first-moment buffer after update t, where the optimizer keeps
  one: torch's `exp_avg` (the Adam family) or `momentum_buffer` (SGD momentum/Nesterov,
  RMSprop with momentum). Both hold gradients (they point uphill, as g does), so the
  arrow is negated, in the direction the buffer pushes the point;
- `step`: the step taken, Δθ = θₜ₊₁ − θₜ.

The last point has no update leaving it: there a frame shows the update that arrived,
drawn from where it began (as the page does at its last point). A diverged run shows no
arrows once its path has ended.

Scale (the page's): the arrows of one kind share a scale across the recorded runs, a
round factor (1, 2, 5 × 10ᵏ) that draws the kind's typical length (the largest over the
runs of each run's 90th-percentile length) TYPICAL of the plot's smaller side; the step is
drawn true to scale (factor 1, ending on θₜ₊₁) when its typical length is at least
TRUE_STEP of that side. An arrow is clamped to MAX of the side, and one shorter than
MIN_DRAWN of it is drawn that long (a zero vector not at all); in an export also no shorter
than about three head markers' radii, as a head covers every arrow's start. Directions are
exact (the axes have equal scale); the legend gives every arrow's true length and factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# torch.optim's first-moment buffers, in the order the page looks for them.
FIRST_MOMENT: tuple[str, ...] = ("exp_avg", "momentum_buffer")
# Drawing order, the page's: the wide momentum arrow first, the step (the answer the other
# two explain) last, on top.
KINDS: tuple[str, ...] = ("momentum", "grad", "step")
# Fractions of the plot's smaller side (static/js/arrows.js TYPICAL, MAX; MIN_DRAWN is
# 18 px there, about this fraction of the page's plot).
TYPICAL = 0.2
MAX = 0.35
MIN_DRAWN = 0.035
TRUE_STEP = 0.05
TYPICAL_QUANTILE = 0.9


class Recorded(Protocol):
    """What a recording run holds (app.scene.Record): update t's gradient, learning rate and
    torch's buffers after it; n = len(points) − 1 entries."""

    grads: np.ndarray  # (n, 2)
    lrs: np.ndarray  # (n,)
    state: dict[str, np.ndarray]  # name → (n, 2)


@dataclass(frozen=True)
class ArrowSet:
    """One kind of arrow of one run: its vector at every update."""

    kind: str  # "grad", "momentum" or "step"
    name: str  # the buffer's torch name for "momentum", else ""
    vectors: np.ndarray  # (n, 2) data units; row t belongs to update t (drawn from point t)

    def length(self, update: int) -> float:
        return float(np.hypot(*self.vectors[update]))

    def typical(self) -> float:
        """The run's typical length: the 90th percentile of its finite lengths, taken as
        the page takes it (the sorted lengths' element ⌊0.9 n⌋); 0.0 without any."""
        lengths = np.hypot(self.vectors[:, 0], self.vectors[:, 1])
        lengths = np.sort(lengths[np.isfinite(lengths)])
        if not len(lengths):
            return 0.0
        return float(lengths[min(len(lengths) - 1, math.floor(TYPICAL_QUANTILE * len(lengths)))])


def buffer_name(state: dict[str, np.ndarray]) -> str | None:
    """The first-moment buffer among torch's state names, if the optimizer keeps one."""
    return next((name for name in FIRST_MOMENT if name in state), None)


def arrow_sets(points: np.ndarray, record: Recorded | None) -> list[ArrowSet]:
    """The arrows of a run with kept `points` (n + 1, 2) and its record, in drawing order;
    [] if it has none."""
    if record is None:
        return []
    n = min(len(points) - 1, len(record.grads))
    if n <= 0:
        return []
    name = buffer_name(record.state)
    vectors = {"grad": ("", -np.asarray(record.grads, dtype=float)[:n])}
    if name is not None:
        vectors["momentum"] = (name, -np.asarray(record.state[name], dtype=float)[:n])
    vectors["step"] = ("", np.diff(np.asarray(points, dtype=float)[: n + 1], axis=0))
    return [ArrowSet(kind, *vectors[kind]) for kind in KINDS if kind in vectors]


def typical_lengths(runs: list[list[ArrowSet]]) -> dict[str, float]:
    """Each kind's typical length over the runs: the largest of theirs (one scale a kind)."""
    typical: dict[str, float] = {}
    for sets in runs:
        for arrow in sets:
            typical[arrow.kind] = max(typical.get(arrow.kind, 0.0), arrow.typical())
    return typical


def nice_scale(x: float) -> float:
    """A round factor (1, 2, 5 × 10ᵏ) at most `x`, so the legend's "×50" reads easily."""
    if not (x > 0 and math.isfinite(x)):
        return 1.0
    decade = 10.0 ** math.floor(math.log10(x))
    return next((m * decade for m in (5, 2, 1) if m * decade <= x), decade)


def scales(typical: dict[str, float], unit: float, side: float) -> dict[str, float]:
    """Data units drawn per unit of each kind, for `unit` pixels per data unit and a plot
    whose smaller side is `side` pixels (static/js/arrows.js arrowScales)."""
    out = {}
    for kind, length in typical.items():
        if not (length > 0 and unit > 0):
            out[kind] = 1.0
        elif kind == "step" and length * unit >= TRUE_STEP * side:
            out[kind] = 1.0  # the real step, readable as it is
        else:
            out[kind] = nice_scale(TYPICAL * side / (length * unit))
    return out


def drawn_length(
    length: float, scale: float, unit: float, side: float, shortest: float = 0.0
) -> float:
    """Pixels an arrow of `length` is drawn at `scale`: clamped to MAX of the side, at least
    MIN_DRAWN of it or `shortest` pixels (0 for a zero or non-finite length)."""
    pixels = length * scale * unit
    if not (pixels > 0 and math.isfinite(pixels)):
        return 0.0
    return min(max(pixels, MIN_DRAWN * side, shortest), MAX * side)


def update_at(step: int, points: int, updates: int) -> int | None:
    """The update whose arrows a frame at `step` draws, for a run with `points` kept points
    and `updates` recorded updates: update `step` (leaving the head), the last update at
    the end, None once a diverged path has ended or without updates."""
    if updates <= 0 or step >= points:
        return None
    return min(step, updates - 1)


def magnitude_text(value: float) -> str:
    """A length for the legend, three significant digits: 0.0501, 2.31, 1.23e3."""
    if not math.isfinite(value):
        return "—"
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def scale_text(scale: float) -> str:
    """The factor an arrow is drawn at, for the legend ("×50", "×0.2"); "" at true size."""
    return "" if scale == 1 else f"×{scale:g}".replace("-", "−")
