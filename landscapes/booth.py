"""Booth: a tilted quadratic bowl, the gentlest case after the plain bowl."""

from ._base import Landscape, Minimum


def _f(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _grad(x, y):
    u, v = x + 2 * y - 7, 2 * x + y - 5
    return 2 * u + 4 * v, 4 * u + 2 * v


LANDSCAPE = Landscape(
    name="booth",
    title="Booth",
    formula="f(x, y) = (x + 2y − 7)² + (2x + y − 5)²",
    latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
    bounds=((-10.0, 10.0), (-10.0, 10.0)),
    default_start=(-8.0, -2.0),
    minima=(Minimum(1.0, 3.0, 0.0, "global"),),
    fn=_f,
    grad_fn=_grad,
    about="A convex quadratic with axes tilted 45°: "
    "every optimizer gets there, at different speeds and along different paths.",
)
