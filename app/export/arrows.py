"""What the arrows of an export show at a run's point: the update that leaves it (issue 12).

Update t leaves point t (θₜ → θₜ₊₁), so a frame showing step t draws, at θₜ:

- the negative gradient −gₜ, the gradient update t used (noise and weight decay included,
  as the optimizer saw it);
- the negative first-moment buffer after update t, where the optimizer keeps one:
  torch's `momentum_buffer` (SGD momentum/Nesterov, RMSprop with momentum, LARS) or
  `exp_avg` (the Adam family, Lion, LAMB). Both hold gradients (the buffer points uphill,
  as g does), so it is drawn negated, in the direction it pushes the point;
- the step taken, Δθ = θₜ₊₁ − θₜ.

The last point has no update leaving it; a frame at (or past) the end draws the run's last
update at its own point, one step behind the head, so a still of the final step still shows
what brought the run there. A diverged run shows no arrows once its path has ended.

The three are in different units (gradients, buffers, distances) and each spans orders of
magnitude over a run, so each kind has its own scale per run: the 90th percentile of its
lengths over the run is drawn REFERENCE_FRACTION of the plot's size (√(width·height)), lengths scale
linearly from there, and an arrow longer than CAP × that is drawn at the cap. Directions are
exact (the plot's axes have equal scale); the legend box prints each arrow's true length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

# torch.optim's first-moment buffers, in the order looked for.
FIRST_MOMENT: tuple[str, ...] = ("momentum_buffer", "exp_avg")
# The 90th-percentile length of each arrow kind, as a fraction of the plot's size (the
# geometric mean of its sides).
REFERENCE_FRACTION = 0.12
REFERENCE_PERCENTILE = 90.0
# Longer arrows are drawn this many reference lengths long (their true length is printed).
CAP = 1.6
KINDS: tuple[str, ...] = ("step", "buffer", "gradient")  # drawing order: thick under thin


class Recorded(Protocol):
    """What a recording run holds (app.scene.Record): update t's gradient, learning rate and
    torch's buffers after it; n = len(points) − 1 entries."""

    grads: np.ndarray  # (n, 2)
    lrs: np.ndarray  # (n,)
    state: dict[str, np.ndarray]  # name → (n, 2)


@dataclass(frozen=True)
class ArrowSet:
    """One kind of arrow of one run: its vector at every update, and its scale."""

    kind: str  # "gradient", "buffer" or "step"
    name: str  # the buffer's torch name for "buffer", else ""
    vectors: np.ndarray  # (n, 2) data units; row t belongs to update t (drawn at point t)
    reference: float  # the length drawn REFERENCE_FRACTION of the plot's size

    def length(self, update: int) -> float:
        return float(np.hypot(*self.vectors[update]))


def buffer_name(state: dict[str, np.ndarray]) -> str | None:
    """The first-moment buffer among torch's state names, if the optimizer keeps one."""
    return next((name for name in FIRST_MOMENT if name in state), None)


def reference_length(vectors: np.ndarray) -> float:
    """The REFERENCE_PERCENTILE of the finite, non-zero lengths (0.0 if there are none)."""
    lengths = np.hypot(vectors[:, 0], vectors[:, 1]) if len(vectors) else np.zeros(0)
    lengths = lengths[np.isfinite(lengths) & (lengths > 0)]
    return float(np.percentile(lengths, REFERENCE_PERCENTILE)) if len(lengths) else 0.0


def arrow_sets(points: np.ndarray, record: Recorded | None) -> list[ArrowSet]:
    """The arrows of a run with kept `points` (n + 1, 2) and its record; [] if it has none."""
    if record is None:
        return []
    n = min(len(points) - 1, len(record.grads))
    if n <= 0:
        return []
    vectors = {"gradient": -np.asarray(record.grads, dtype=float)[:n]}
    name = buffer_name(record.state)
    if name is not None:
        vectors["buffer"] = -np.asarray(record.state[name], dtype=float)[:n]
    vectors["step"] = np.diff(np.asarray(points, dtype=float)[: n + 1], axis=0)
    return [
        ArrowSet(kind, (name or "") if kind == "buffer" else "", v, reference_length(v))
        for kind in KINDS
        if (v := vectors.get(kind)) is not None
    ]


def update_at(step: int, points: int, updates: int) -> int | None:
    """The update whose arrows a frame at `step` draws, for a run with `points` kept points
    and `updates` recorded updates: update `step` (leaving the head), the last update at or
    past the end, None once a diverged path has ended or without updates."""
    if updates <= 0 or step >= points:
        return None
    return min(step, updates - 1)


def drawn_length(length: float, reference: float, unit: float) -> float:
    """Pixels an arrow of `length` is drawn, for a reference drawn `unit` pixels long."""
    if not (reference > 0 and np.isfinite(length)):
        return 0.0
    return min(length / reference, CAP) * unit


def magnitude_text(value: float) -> str:
    """A length for the legend box, three significant digits: 0.0501, 2.31, 1.23e3."""
    if not np.isfinite(value):
        return "—"
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")
