"""Goldstein–Price: a steep octic with a global minimum of 3 and three local minima."""

from ._base import Landscape, Minimum


def _f(x, y):
    u, v = x + y + 1, 2 * x - 3 * y
    p = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    q = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    return (1 + u**2 * p) * (30 + v**2 * q)


def _grad(x, y):
    u, v = x + y + 1, 2 * x - 3 * y
    p = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    q = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    a, b = 1 + u**2 * p, 30 + v**2 * q
    # p has equal partial derivatives in x and y, so both share d(a)/dx = d(a)/dy.
    da = 2 * u * p + u**2 * (-14 + 6 * x + 6 * y)
    db_dx = 4 * v * q + v**2 * (-32 + 24 * x - 36 * y)
    db_dy = -6 * v * q + v**2 * (48 - 36 * x + 54 * y)
    return da * b + a * db_dx, da * b + a * db_dy


LANDSCAPE = Landscape(
    name="goldstein_price",
    title="Goldstein–Price",
    formula="f(x, y) = [1 + (x + y + 1)² (19 − 14x + 3x² − 14y + 6xy + 3y²)]"
    " × [30 + (2x − 3y)² (18 − 32x + 12x² + 48y − 36xy + 27y²)]",
    latex=r"f(x, y) = \left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
    r" \left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]",
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    # Plain SGD (at a learning rate it survives, ~1e-4) settles in the local minimum
    # at (−0.6, −0.4); momentum and the adaptive methods reach the global one.
    default_start=(0.4, 0.0),
    minima=(
        Minimum(0.0, -1.0, 3.0, "global"),
        Minimum(-0.6, -0.4, 30.0, "local"),
        Minimum(1.8, 0.2, 84.0, "local"),
        Minimum(1.2, 0.8, 840.0, "local"),
    ),
    fn=_f,
    grad_fn=_grad,
    about="Values span six orders of magnitude: one learning rate cannot suit both the "
    "cliffs and the floor, and local minima catch the cautious.",
)
