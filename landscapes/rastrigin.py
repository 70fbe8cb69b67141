"""Rastrigin: a bowl covered in egg-box dimples, one local minimum near every integer point."""

import numpy as np

from ._base import Landscape, Minimum

A = 10.0
TAU = 2 * np.pi


def _f(x, y):
    return 2 * A + x**2 - A * np.cos(TAU * x) + y**2 - A * np.cos(TAU * y)


def _grad(x, y):
    return 2 * x + TAU * A * np.sin(TAU * x), 2 * y + TAU * A * np.sin(TAU * y)


# Local minima of the 1-D term t² − A cos(2πt) near t = 1, 2, 3, refined by Newton's
# method; the 2-D local minima are their pairs. Listed: the ring around the global
# minimum and the dimple where plain gradient descent from the default start ends.
_T1, _T2, _T3 = 0.9949586376523348, 1.9899122337085495, 2.984855701039481
_RING = [(i * _T1, j * _T1) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
_TRAP = (-_T2, _T3)

LANDSCAPE = Landscape(
    name="rastrigin",
    title="Rastrigin (many local minima)",
    formula="f(x, y) = 20 + x² − 10 cos(2πx) + y² − 10 cos(2πy)",
    latex=r"f(x, y) = 20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
    bounds=((-5.12, 5.12), (-5.12, 5.12)),
    default_start=(-2.2, 3.2),
    minima=(
        Minimum(0.0, 0.0, 0.0, "global"),
        *(Minimum(x, y, float(_f(x, y)), "local") for x, y in (*_RING, _TRAP)),
    ),
    fn=_f,
    grad_fn=_grad,
    about="Gradient descent drops into the nearest dimple and stays; "
    "noise and momentum can hop over the ridges.",
)
