"""Landscape.hessian (central differences of the analytic gradient) against analytic Hessians.

Tolerance: 1e-6 relative to the largest entry. The step h ≈ 6e-6·max(1, |x|) leaves a
truncation error of order h²·f'''' and a rounding error of order ε·|g|/h, both below 1e-7
relative on these functions inside their bounds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import landscapes

RTOL = 1e-6


def rosenbrock(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # f = (1 − x)² + 100 (y − x²)²
    return np.stack(
        [
            np.stack([2 - 400 * (y - x**2) + 800 * x**2, -400 * x], axis=-1),
            np.stack([-400 * x, np.full_like(x, 200.0)], axis=-1),
        ],
        axis=-2,
    )


def constant(matrix: list[list[float]]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def hessian(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.array(matrix), (*x.shape, 2, 2))

    return hessian


ANALYTIC = {
    "saddle": constant([[2.0, 0.0], [0.0, -2.0]]),
    "ill_conditioned": constant([[0.1, 0.0], [0.0, 2.0]]),
    "booth": constant([[10.0, 8.0], [8.0, 10.0]]),  # (x + 2y − 7)² + (2x + y − 5)²
    "rosenbrock": rosenbrock,
}


def sample(f: landscapes.Landscape, count: int = 64) -> np.ndarray:
    (xmin, xmax), (ymin, ymax) = f.bounds
    rng = np.random.default_rng(0)
    return np.stack([rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)], axis=-1)


@pytest.mark.parametrize("name", sorted(ANALYTIC))
def test_hessian_matches_the_analytic_one(name: str) -> None:
    f = landscapes.get(name)
    points = sample(f)
    expected = ANALYTIC[name](points[:, 0], points[:, 1])
    got = f.hessian(points)
    scale = np.abs(expected).max(axis=(-1, -2), keepdims=True)
    assert (np.abs(got - expected) <= RTOL * scale).all()


def test_hessian_keeps_the_batch_shape_and_is_symmetric() -> None:
    f = landscapes.get("rosenbrock")
    batch = np.zeros((3, 4, 2)) + np.array([0.3, -0.2])
    h = f.hessian(batch)
    assert h.shape == (3, 4, 2, 2) and h.dtype == np.float64
    assert (h == np.swapaxes(h, -1, -2)).all()
    assert f.hessian([1.0, 1.0]).shape == (2, 2)


@pytest.mark.parametrize("name", landscapes.names())
def test_hessian_is_finite_and_symmetric_everywhere_in_the_bounds(name: str) -> None:
    f = landscapes.get(name)
    h = f.hessian(sample(f, 200))
    assert np.isfinite(h).all()
    assert (h == np.swapaxes(h, -1, -2)).all()


@pytest.mark.parametrize("name", landscapes.names())
def test_listed_minima_and_saddles_have_the_curvature_their_kind_says(name: str) -> None:
    # The run status tells minima from saddles by these eigenvalues alone.
    f = landscapes.get(name)
    for minimum in f.minima:
        low, high = np.linalg.eigvalsh(f.hessian([minimum.x, minimum.y]))
        if minimum.kind == "saddle":
            assert low < 0 < high, minimum
        else:
            assert low > 0, minimum
