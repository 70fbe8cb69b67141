"""Styblinski–Tang: four basins of unequal depth; the deepest is off-centre."""

from ._base import Landscape, Minimum


def _f(x, y):
    x2, y2 = x * x, y * y  # products, not x**4: see landscapes/_base.py
    return (x2 * x2 - 16 * x2 + 5 * x + y2 * y2 - 16 * y2 + 5 * y) / 2


def _grad(x, y):
    return (4 * (x * x * x) - 32 * x + 5) / 2, (4 * (y * y * y) - 32 * y + 5) / 2


# Roots of 4t³ − 32t + 5 by Newton's method in 50-digit arithmetic: the 1-D minima.
# The 2-D minimum is −78.332331 (the often-quoted −39.16599·d is rounded).
_LOW, _HIGH = -2.903534027771177, 2.746802770990837

LANDSCAPE = Landscape(
    name="styblinski_tang",
    title="Styblinski–Tang",
    formula="f(x, y) = ½ (x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)",
    latex=r"f(x, y) = \tfrac{1}{2}\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    default_start=(0.5, 4.5),
    minima=(
        Minimum(_LOW, _LOW, -78.33233140754282, "global"),
        Minimum(_HIGH, _LOW, -64.19561235905536, "local"),
        Minimum(_LOW, _HIGH, -64.19561235905536, "local"),
        Minimum(_HIGH, _HIGH, -50.05889331056788, "local"),
    ),
    fn=_f,
    grad_fn=_grad,
    about="The nearest basin is rarely the deepest: greedy descent settles for a local minimum.",
)
