"""Himmelblau: four global minima of equal depth, one in each quadrant."""

from ._base import Landscape, Minimum


def _f(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _grad(x, y):
    u, v = x**2 + y - 11, x + y**2 - 7
    return 4 * x * u + 2 * v, 2 * u + 4 * y * v


LANDSCAPE = Landscape(
    name="himmelblau",
    title="Himmelblau (four minima)",
    formula="f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
    latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    default_start=(-0.3, -0.9),  # next to the central maximum: the optimizers part ways
    # Refined by Newton's method in 50-digit arithmetic, then rounded to float64.
    minima=(
        Minimum(3.0, 2.0, 0.0, "global"),
        Minimum(-2.805118086952745, 3.131312518250573, 0.0, "global"),
        Minimum(-3.779310253377747, -3.2831859912861696, 0.0, "global"),
        Minimum(3.5844283403304917, -1.8481265269644036, 0.0, "global"),
    ),
    fn=_f,
    grad_fn=_grad,
    about="Which of four equally good minima an optimizer reaches depends on the start "
    "and on its own dynamics.",
)
