"""Six-hump camel: two global minima, four local ones, and a saddle between them."""

from ._base import Landscape, Minimum


def _f(x, y):
    x2, y2 = x * x, y * y  # products, not x**4: see landscapes/_base.py
    return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2


def _grad(x, y):
    x2 = x * x
    x3 = x2 * x
    return 8 * x - 8.4 * x3 + 2 * (x3 * x2) + y, x - 8 * y + 16 * (y * y * y)


LANDSCAPE = Landscape(
    name="six_hump_camel",
    title="Six-hump camel",
    formula="f(x, y) = (4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²",
    latex=r"f(x, y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
    # The literature's domain is x ∈ [−3, 3], y ∈ [−2, 2]; this view holds all six minima.
    bounds=((-2.0, 2.0), (-1.0, 1.0)),
    default_start=(-1.9, -0.2),
    # Refined by Newton's method in 50-digit arithmetic, then rounded to float64.
    minima=(
        Minimum(0.08984201310031806, -0.7126564030207396, -1.0316284534898774, "global"),
        Minimum(-0.08984201310031806, 0.7126564030207396, -1.0316284534898774, "global"),
        Minimum(1.703606714969981, -0.7960835686726251, -0.21546382438371764, "local"),
        Minimum(-1.703606714969981, 0.7960835686726251, -0.21546382438371764, "local"),
        Minimum(1.6071047529201972, 0.5686514548841314, 2.1042503103112584, "local"),
        Minimum(-1.6071047529201972, -0.5686514548841314, 2.1042503103112584, "local"),
    ),
    fn=_f,
    grad_fn=_grad,
    about="Six valleys of three depths: where an optimizer settles depends on how much "
    "momentum carries it over the humps.",
)
