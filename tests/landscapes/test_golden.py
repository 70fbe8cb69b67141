"""Every landscape gives its recorded values and gradients (golden/make_golden.py) on
every CPU.

Landscapes built from +, −, ×, ÷ and x² alone are correctly rounded operation by
operation (IEEE 754) whatever SIMD kernels NumPy picks, so they must match bit for bit.
Those that call exp/cos/sin (Ackley, Rastrigin) get those from kernels that differ by an
ulp or two between CPUs; a difference then shows up in ulps of the result's largest term
(a gradient near 0 is a difference of large terms), so each of them states its terms'
magnitude here and is held to 4 ulp of it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import landscapes

GOLDEN = dict(np.load(Path(__file__).parent / "golden" / "golden.npz"))
ULPS = 4

Scales = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _ackley(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c = 20.0, 0.2, 2 * np.pi
    norm = np.hypot(x, y)
    unit = np.where(norm > 0, norm, 1.0)
    slope = a * b * np.exp(-b * norm / np.sqrt(2)) / np.sqrt(2)
    ripple = np.exp((np.cos(c * x) + np.cos(c * y)) / 2)
    value = a * np.exp(-b * norm / np.sqrt(2)) + ripple + a + np.e
    dx = np.abs(slope * x / unit) + np.abs(c / 2 * ripple * np.sin(c * x))
    dy = np.abs(slope * y / unit) + np.abs(c / 2 * ripple * np.sin(c * y))
    return value, dx, dy


def _rastrigin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, tau = 10.0, 2 * np.pi
    value = 2 * a + x * x + a * np.abs(np.cos(tau * x)) + y * y + a * np.abs(np.cos(tau * y))
    return value, np.abs(2 * x) + tau * a, np.abs(2 * y) + tau * a


def _faithful_logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    # the mean of log(1 + eˢ) − c·s and of (σ(s) − c)·z, (σ(s) − c) over the samples
    z = landscapes.get("faithful_logistic").fn.__self__.z  # type: ignore[attr-defined]
    s = np.abs(x[:, None] * z) + np.abs(y[:, None])
    value = np.mean(np.logaddexp(0.0, s) + s, axis=-1)
    return value, np.full(x.shape, np.abs(z).max()), np.ones(x.shape)


#: The magnitude of the terms each transcendental landscape adds up: (value, ∂x, ∂y).
TERMS: dict[str, Scales] = {
    "ackley": _ackley,
    "rastrigin": _rastrigin,
    "faithful_logistic": _faithful_logistic,
}


_CALLS = re.compile(r"np\.(exp|log|sin|cos|tan|power|arctan|sinh|cosh|tanh)\b|\*\*\s*[3-9]")


def _uses_transcendentals(name: str) -> bool:
    source = inspect.getsource(inspect.getmodule(landscapes.get(name).fn))
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    return _CALLS.search(code) is not None


def test_golden_covers_every_landscape() -> None:
    assert {key.split("/")[0] for key in GOLDEN} == set(landscapes.names())


@pytest.mark.parametrize("name", landscapes.names())
def test_transcendental_landscapes_state_their_terms(name: str) -> None:
    # A landscape that adds exp/cos/sin (or np.power) must say how large its terms are,
    # or its golden check would be exact where CPUs legitimately differ.
    assert _uses_transcendentals(name) == (name in TERMS)


@pytest.mark.parametrize("name", landscapes.names())
def test_values_and_gradients_match_golden(name: str) -> None:
    f = landscapes.get(name)
    xy = GOLDEN[f"{name}/xy"]
    value, grad = f.value(xy), f.grad(xy)
    if name not in TERMS:
        np.testing.assert_array_equal(value, GOLDEN[f"{name}/value"])
        np.testing.assert_array_equal(grad, GOLDEN[f"{name}/grad"])
        return
    value_scale, dx_scale, dy_scale = TERMS[name](xy[:, 0], xy[:, 1])
    for ours, golden, scale, what in (
        (value, GOLDEN[f"{name}/value"], value_scale, "value"),
        (grad[:, 0], GOLDEN[f"{name}/grad"][:, 0], dx_scale, "∂f/∂x"),
        (grad[:, 1], GOLDEN[f"{name}/grad"][:, 1], dy_scale, "∂f/∂y"),
    ):
        ulps = np.abs(ours - golden) / np.spacing(scale)
        assert ulps.max() <= ULPS, (
            f"{name} {what}: {ulps.max():.1f} ulp of its terms at {xy[ulps.argmax()]}"
        )
