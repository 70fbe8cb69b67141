"""Request bodies several API test modules share (not a test module)."""

from __future__ import annotations

from typing import Any

#: A small export: two runs, 20 steps, 10 frames of 200×150 — quick in every format.
SMALL_EXPORT: dict[str, Any] = {
    "landscape": "rosenbrock",
    "steps": 20,
    "runs": [{"optimizer": "adam", "params": {"lr": 0.05}}, {"optimizer": "sgd"}],
    "width": 200,
    "height": 150,
    "frames": 10,
}
