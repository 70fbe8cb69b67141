"""Beale: a narrow, curved valley between steep walls that rise to ~10⁵ at the corners."""

from ._base import Landscape, Minimum


def _f(x, y):
    y2 = y * y
    y3 = y2 * y  # a product, not y**3: see landscapes/_base.py
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y2) ** 2 + (2.625 - x + x * y3) ** 2


def _grad(x, y):
    y2 = y * y
    y3 = y2 * y
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3
    dx = 2 * (t1 * (y - 1) + t2 * (y2 - 1) + t3 * (y3 - 1))
    dy = 2 * x * (t1 + 2 * t2 * y + 3 * t3 * y2)
    return dx, dy


LANDSCAPE = Landscape(
    name="beale",
    title="Beale",
    formula="f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
    latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    default_start=(1.0, 1.4),
    minima=(Minimum(3.0, 0.5, 0.0, "global"),),
    fn=_f,
    grad_fn=_grad,
    about="Gradients span five orders of magnitude: a learning rate that is safe on the "
    "walls crawls along the valley floor.",
)
