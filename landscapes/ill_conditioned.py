"""The elongated bowl x²/20 + y² of 『ゼロから作るDeep Learning』 (section 6.1)."""

from ._base import Landscape, Minimum


def _f(x, y):
    return x**2 / 20 + y**2


def _grad(x, y):
    return x / 10, 2 * y


LANDSCAPE = Landscape(
    name="ill_conditioned",
    title="Ill-conditioned bowl",
    formula="f(x, y) = x²/20 + y²",
    latex=r"f(x, y) = \frac{x^2}{20} + y^2",
    bounds=((-10.0, 10.0), (-5.0, 5.0)),
    default_start=(-7.0, 2.0),  # the textbook's start
    minima=(Minimum(0.0, 0.0, 0.0, "global"),),
    fn=_f,
    grad_fn=_grad,
    about="Curvature differs 20-fold between x and y: SGD zig-zags across the steep "
    "direction, momentum and Adam head for the centre.",
)
