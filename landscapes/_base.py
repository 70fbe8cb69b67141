"""The two small types every landscape is made of: `Minimum` and `Landscape`.

A landscape file supplies two plain NumPy functions of the coordinate arrays
``x`` and ``y`` — the value and its analytic partial derivatives — plus the
metadata a lecturer sees. `Landscape.value` and `Landscape.grad` do the shape
checking once, here, so each landscape stays a few readable lines.

Integer powers above 2 are written as products (``y2 * y``, not ``y**3``): NumPy's
``np.power`` picks SIMD kernels by CPU (AVX-512, AVX2, NEON, …) that round the last bit
differently, while ``*``, ``+``, ``/``, ``sqrt`` and ``x**2`` (``np.square``) are
correctly rounded everywhere, so these gradients are bit-identical on every CPU. Only
``exp``/``cos``/``sin`` (Ackley, Rastrigin) may still differ by an ulp or so between
kernels; ``tests/landscapes/test_golden.py`` bounds that.

`Landscape.hessian` is central differences of the analytic gradient, not a second
analytic formula per landscape: one home for the derivatives, and the run status
(optimizers/status.py) only needs the curvature's sign and rough size. The step
``h = HESSIAN_STEP · max(1, |coordinate|)`` balances truncation error (∝ h² times the
fourth derivative) against rounding (∝ ε|g|/h): with h ≈ ε^(1/3) ≈ 6e-6 both stay far
below 1e-6 relative here (tests/landscapes/test_hessian.py checks analytic Hessians).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
Bounds = tuple[tuple[float, float], tuple[float, float]]
Kind = Literal["global", "local", "saddle"]
KINDS: tuple[str, ...] = ("global", "local", "saddle")
HESSIAN_STEP = 6e-6  # ≈ cube root of float64's ε: the optimum for central differences


class Minimum(NamedTuple):
    """A marked critical point: where it is, the value there, and what kind it is."""

    x: float
    y: float
    value: float
    kind: Kind


def split_points(xy: ArrayLike) -> tuple[Array, Array, tuple[int, ...]]:
    """Flat, contiguous float64 ``x`` and ``y`` of a batch ``(..., 2)``, and its lead shape.

    Flattening sends every evaluation through the same 1-D NumPy loops, so a
    point gives bit-identical results alone, in a batch, or inside a sweep.
    """
    try:
        points = np.asarray(xy, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"xy must be numeric with shape (..., 2): {error}") from None
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ValueError(
            f"xy must have shape (..., 2) — a last axis of length 2 holding (x, y); "
            f"got shape {points.shape}"
        )
    flat = points.reshape(-1, 2)
    x, y = np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1])
    return x, y, points.shape[:-1]


@dataclass(frozen=True)
class Landscape:
    """A 2-D test function with its analytic gradient and its lecture metadata.

    ``fn(x, y)`` and ``grad_fn(x, y) -> (df/dx, df/dy)`` take broadcastable
    float64 arrays; `value` and `grad` wrap them for any batch shape ``(..., 2)``.
    Overflow far outside the bounds yields ``inf``/``nan`` without a warning:
    the trajectory runner reads non-finite values as divergence.
    """

    name: str
    title: str
    formula: str  # plain text, readable as is: "f(x, y) = x² − y²"
    latex: str  # the same formula in LaTeX, without surrounding $ signs
    bounds: Bounds  # ((xmin, xmax), (ymin, ymax)): the default view
    default_start: tuple[float, float]
    minima: tuple[Minimum, ...]
    fn: Callable[[Array, Array], Array] = field(repr=False, compare=False)
    grad_fn: Callable[[Array, Array], tuple[Array, Array]] = field(repr=False, compare=False)
    about: str = ""  # one sentence: what this surface teaches
    #: A loss over data (landscapes/data.py): its number of samples N, and the gradient
    #: over a mini-batch, ``batch_grad_fn(x, y, batch)`` for sorted sample indices; 0 and
    #: None for an analytic function.
    samples: int = 0
    batch_grad_fn: Callable[[Array, Array, np.ndarray], tuple[Array, Array]] | None = field(
        default=None, repr=False, compare=False
    )

    def value(self, xy: ArrayLike) -> Array:
        """f at each point: ``(..., 2) -> (...)``, float64."""
        x, y, lead = split_points(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            z = self.fn(x, y)
        return np.array(np.broadcast_to(z, x.shape), dtype=np.float64).reshape(lead)

    def grad(self, xy: ArrayLike) -> Array:
        """Analytic gradient at each point: ``(..., 2) -> (..., 2)``, float64."""
        x, y, lead = split_points(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = self.grad_fn(x, y)
        g = np.stack(np.broadcast_arrays(gx, gy, x)[:2], axis=-1).astype(np.float64, copy=False)
        return g.reshape((*lead, 2))

    def batch_grad(self, xy: ArrayLike, batch: np.ndarray) -> Array:
        """The gradient over the samples ``batch`` (a loss over data): as ``grad``."""
        if self.batch_grad_fn is None:
            raise ValueError(f"{self.name} is not a loss over data: it has no mini-batches")
        x, y, lead = split_points(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = self.batch_grad_fn(x, y, batch)
        g = np.stack(np.broadcast_arrays(gx, gy, x)[:2], axis=-1).astype(np.float64, copy=False)
        return g.reshape((*lead, 2))

    def hessian(self, xy: ArrayLike) -> Array:
        """Second derivatives at each point: ``(..., 2) -> (..., 2, 2)``, symmetric.

        Central differences of the analytic gradient (see the module docstring for the
        step); column j is ``(grad(p + h·e_j) − grad(p − h·e_j)) / (2h)``.
        """
        x, y, lead = split_points(xy)
        points = np.stack([x, y], axis=-1)  # (n, 2)
        h = HESSIAN_STEP * np.maximum(1.0, np.abs(points))  # (n, 2)
        shifts = np.zeros((len(points), 4, 2))  # +h·e_x, −h·e_x, +h·e_y, −h·e_y
        shifts[:, 0, 0], shifts[:, 1, 0] = h[:, 0], -h[:, 0]
        shifts[:, 2, 1], shifts[:, 3, 1] = h[:, 1], -h[:, 1]
        shifted = points[:, None, :] + shifts
        g = self.grad(shifted)  # one call for all four: (n, 4, 2)
        # divide by the step float64 actually represents, not the nominal one
        width_x = shifted[:, 0, 0] - shifted[:, 1, 0]
        width_y = shifted[:, 2, 1] - shifted[:, 3, 1]
        column_x = (g[:, 0] - g[:, 1]) / width_x[:, None]  # d g / dx
        column_y = (g[:, 2] - g[:, 3]) / width_y[:, None]  # d g / dy
        matrix = np.stack([column_x, column_y], axis=-1)  # matrix[n, i, j] = d g_i / d x_j
        matrix = 0.5 * (matrix + np.swapaxes(matrix, -1, -2))
        return matrix.reshape((*lead, 2, 2))
